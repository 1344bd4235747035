"""Write or check k8s/: the chart rendered with ci/production-values.yaml, plus the Namespace.

`--write` regenerates the folder; `--check` (CI) regenerates into memory and fails on any
difference, naming the files that drifted and how to fix it. Test hooks are left out: plain
manifests applied with kubectl would run them once on apply.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from common import CI_VALUES, K8S_DIR, NAMESPACE, load_values, manifest_text, rel, render_chart

HEADER = (
    "# Generated from helm/paystream with helm/paystream/ci/production-values.yaml\n"
    "# (release \"paystream\", namespace \"paystream\") by\n"
    "# `shared/deploy-check/lint-deploy.sh --write-k8s`. Do not edit: change the chart and regenerate.\n"
)

# Pod Security Admission: enforce, audit and warn at `restricted`, pinned to the validated version.
NAMESPACE_YAML = f"""{HEADER}---
apiVersion: v1
kind: Namespace
metadata:
  name: {NAMESPACE}
  labels:
    app.kubernetes.io/part-of: paystream
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: v1.30
    pod-security.kubernetes.io/audit: restricted
    pod-security.kubernetes.io/audit-version: v1.30
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/warn-version: v1.30
"""


def expected_files() -> dict[str, str]:
    """File name -> content of the k8s/ folder as the chart renders it now."""
    rendered = render_chart(load_values(CI_VALUES / "production-values.yaml"), NAMESPACE)
    files = {"00-namespace.yaml": NAMESPACE_YAML}
    by_template: dict[str, dict[str, str]] = {}
    for path, text in rendered.items():
        by_template.setdefault(Path(path).name, {})[path] = text
    for name, subset in sorted(by_template.items()):
        body = manifest_text(subset, include_tests=False)
        if body:
            files[name] = HEADER + body
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate k8s/")
    mode.add_argument("--check", action="store_true", help="fail when k8s/ differs from the chart")
    args = parser.parse_args()

    want = expected_files()
    have = {p.name: p.read_text() for p in sorted(K8S_DIR.glob("*.yaml"))} if K8S_DIR.exists() else {}
    if args.write:
        K8S_DIR.mkdir(exist_ok=True)
        for name in have.keys() - want.keys():
            (K8S_DIR / name).unlink()
        for name, text in want.items():
            (K8S_DIR / name).write_text(text)
        print(f"ok: wrote {len(want)} files to {rel(K8S_DIR)}/")
        return

    drift = []
    for name in sorted(want.keys() | have.keys()):
        if want.get(name) == have.get(name):
            continue
        drift.append(name)
        diff = difflib.unified_diff(
            (have.get(name) or "").splitlines(keepends=True),
            (want.get(name) or "").splitlines(keepends=True),
            f"k8s/{name} (committed)",
            f"k8s/{name} (rendered)",
            n=1,
        )
        sys.stdout.writelines(list(diff)[:60])
    if drift:
        print(
            f"error: k8s/ drifted from the chart in {len(drift)} file(s): {', '.join(drift)}; "
            "run `shared/deploy-check/lint-deploy.sh --write-k8s` and commit the result",
            file=sys.stderr,
        )
        sys.exit(1)
    print(f"ok: k8s/ matches the chart ({len(want)} files)")


if __name__ == "__main__":
    main()
