"""Extract the rule groups of every rendered PrometheusRule into plain Prometheus rule files.

Writes target/deploy-rendered/rules/<set>.rules.yaml (one per rendered set that has a
PrometheusRule) for `promtool check rules`, and copies the alert unit tests
(shared/deploy-check/fixtures/alerts-test.yaml) beside them for `promtool test rules`; the tests
load `production.rules.yaml`. Prints the rule files, one per line.
"""

from __future__ import annotations

import shutil
import sys

import yaml

from common import FIXTURES, RENDER_DIR, load_docs, rel


def main() -> None:
    out_dir = RENDER_DIR / "rules"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    written = []
    for path in sorted(RENDER_DIR.glob("*.yaml")):
        groups = [g for doc in load_docs(path) if doc.get("kind") == "PrometheusRule" for g in doc["spec"]["groups"]]
        if not groups:
            continue
        out = out_dir / f"{path.stem}.rules.yaml"
        out.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000))
        written.append(out)
    if not (out_dir / "production.rules.yaml").exists():
        print(f"error: no PrometheusRule in {rel(RENDER_DIR)}/production.yaml", file=sys.stderr)
        sys.exit(1)
    shutil.copy(FIXTURES / "alerts-test.yaml", out_dir / "alerts-test.yaml")
    for w in written:
        print(w)


if __name__ == "__main__":
    main()
