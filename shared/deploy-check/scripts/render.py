"""Lint the chart and render every values set into target/deploy-rendered/<set>.yaml.

`helm lint --strict` (Helm v4 engine) runs with the defaults and with every values file; each
values file is validated against values.schema.json and rendered for release `paystream`. The
rendered sets are the input of the Kubernetes/CRD validation, promtool and the Rego test.
"""

from __future__ import annotations

import json
import re
import shutil

import helm_python as helm

from common import CHART, KUBE_VERSION, RENDER_DIR, fail, load_values, manifest_text, rel, render_chart, values_sets

# Helm lint severities: 1 info, 2 warning, 3 error. Warnings fail too (strict).
WARNING = 2


def lint(values: dict | None, label: str, namespace: str) -> int:
    report = helm.lint(str(CHART), values, strict=True, namespace=namespace, kube_version=f"v{KUBE_VERSION}.0")
    problems = [m for m in report.get("messages", []) if m.get("severity", 0) >= WARNING]
    for m in problems:
        print(f"  helm lint ({label}): {m.get('path')}: {m.get('error')}")
    for e in report.get("errors") or []:
        print(f"  helm lint ({label}): {e}")
        problems.append(e)
    return len(problems)


KEY = re.compile(r"^\s*[A-Za-z0-9_.-]+:")


def undocumented_keys() -> list[str]:
    """values.yaml keys with neither a comment line above them nor a trailing comment."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if not KEY.match(line) or line.lstrip().startswith(("#", "-")) or "#" in line:
            continue
        if i == 0 or not lines[i - 1].lstrip().startswith("#"):
            out.append(f"values.yaml:{i + 1}: {line.strip()}")
    return out


def main() -> None:
    if RENDER_DIR.exists():
        shutil.rmtree(RENDER_DIR)
    RENDER_DIR.mkdir(parents=True)
    problems = lint(None, "defaults", "paystream")
    for key in undocumented_keys():
        print(f"  undocumented key (add a comment above it): {key}")
        problems += 1
    index = {}
    for vs in values_sets():
        values = load_values(vs.path)
        problems += lint(values, vs.name, vs.namespace)
        try:
            rendered = render_chart(values, vs.namespace)
        except Exception as err:  # Helm raises its own error types; report them all alike.
            fail(f"render {rel(vs.path)}: {err}")
        text = manifest_text(rendered, include_tests=True)
        out = RENDER_DIR / f"{vs.name}.yaml"
        out.write_text(text)
        index[vs.name] = {"values": rel(vs.path), "namespace": vs.namespace, "manifests": out.name}
        print(f"  rendered {rel(vs.path)} -> {rel(out)} ({text.count('# Source:')} objects)")
    (RENDER_DIR / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    if problems:
        fail(f"helm lint / values documentation: {problems} problem(s)")
    print(f"ok: helm lint --strict, every values.yaml key documented, {len(index)} values sets schema-validated and rendered")


if __name__ == "__main__":
    main()
