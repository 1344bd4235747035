"""Every metric name used by a dashboard or an alert exists.

Names are taken with a real PromQL parser (promql-parser) from every dashboard JSON in
helm/paystream/files/dashboards (panel targets and templating queries; Grafana variables such as
$__rate_interval are replaced first) and from every rendered PrometheusRule. Each name must be:
  1. in the README metrics contract (histograms also as _bucket/_sum/_count), or in
     metric-allowlist.txt (metrics of other exporters, e.g. kube-state-metrics);
  2. in the /metrics text scraped from a running worker by the end-to-end tests: every *.txt
     file in $PAYSTREAM_METRICS_SCRAPE_DIR (default target/metrics-scrape/). Allow-listed
     external names are exempt. With no scrape files this check fails and says how to produce
     them; `--skip-metric-scrape` runs only step 1 (standalone local use, never in CI).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import promql_parser

from common import CHART, DEPLOY_CHECK, RENDER_DIR, REPO, load_docs, rel

SCRAPE_DIR = Path(os.environ.get("PAYSTREAM_METRICS_SCRAPE_DIR", REPO / "target" / "metrics-scrape"))
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
GRAFANA_DURATIONS = re.compile(r"\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}")
LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$", re.S)


def contract_metrics() -> set[str]:
    """Metric names of the README "Metrics" section, histograms expanded with their suffixes."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        row = re.match(r"^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*([a-z]+)", line)
        if row:
            names.add(row.group(1))
            if row.group(2) == "histogram":
                names.update(row.group(1) + s for s in HISTOGRAM_SUFFIXES)
    # Worker-specific paragraphs: "payments: `a`, `b{reason}`,\n`c` (histogram)." The
    # parenthesis may go on after the type: "`d` (histogram; what it measures)".
    for paragraph in section.split("\n\n"):
        if not re.match(r"^[a-z]+:\s", paragraph.strip()):
            continue
        for item in re.finditer(r"`([a-z_:][a-z0-9_:]*)(\{[^}]*\})?`(\s*\(histogram\b)?", paragraph):
            names.add(item.group(1))
            if item.group(3):
                names.update(item.group(1) + s for s in HISTOGRAM_SUFFIXES)
    return names


def allowlist() -> dict[str, str]:
    out = {}
    for line in (DEPLOY_CHECK / "metric-allowlist.txt").read_text().splitlines():
        name, _, why = line.partition("#")
        if name.strip():
            out[name.strip()] = why.strip()
    return out


def scraped_metrics() -> tuple[set[str], list[Path]]:
    files = sorted(SCRAPE_DIR.glob("*.txt")) if SCRAPE_DIR.is_dir() else []
    names: set[str] = set()
    for f in files:
        for line in f.read_text().splitlines():
            if line.startswith("# TYPE "):
                parts = line.split()
                if len(parts) >= 4 and parts[3] in ("histogram", "summary"):
                    names.update(parts[2] + s for s in HISTOGRAM_SUFFIXES)
            elif line and not line.startswith("#"):
                names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names, files


def selectors(expr: str) -> set[str]:
    """Metric names of the vector selectors of one PromQL expression."""
    names: set[str] = set()
    problems: list[str] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            else:
                problems.append("selector without a literal metric name")
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    if problems:
        raise ValueError("; ".join(problems))
    return names


def dashboard_exprs(path: Path) -> Iterator[tuple[str, str]]:
    doc = json.loads(path.read_text())

    def panels(items: list[dict]) -> Iterator[dict]:
        for p in items:
            yield p
            yield from panels(p.get("panels") or [])

    for p in panels(doc.get("panels") or []):
        for t in p.get("targets") or []:
            if t.get("expr"):
                yield f"{rel(path)} panel {p.get('title')!r}", t["expr"]
    for var in (doc.get("templating") or {}).get("list") or []:
        q = var.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if var.get("type") == "query" and isinstance(q, str):
            m = LABEL_VALUES.match(q)
            yield f"{rel(path)} variable {var.get('name')!r}", m.group(1) if m else q


def rule_exprs() -> Iterator[tuple[str, str]]:
    for path in sorted(RENDER_DIR.glob("*.yaml")):
        for doc in load_docs(path):
            if doc.get("kind") != "PrometheusRule":
                continue
            for group in doc["spec"]["groups"]:
                for rule in group["rules"]:
                    yield f"{rel(path)} rule {rule.get('alert') or rule.get('record')}", rule["expr"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-metric-scrape", action="store_true", help="check against the README contract only")
    args = parser.parse_args()

    sources = list(dashboard_exprs_all()) + list(rule_exprs())
    if not any("rule" in where for where, _ in sources):
        print(f"error: no PrometheusRule found in {rel(RENDER_DIR)}: run render.py first", file=sys.stderr)
        sys.exit(1)
    used: dict[str, set[str]] = {}
    errors: list[str] = []
    for where, expr in sources:
        try:
            for name in selectors(GRAFANA_DURATIONS.sub("5m", expr)):
                used.setdefault(name, set()).add(where)
        except Exception as err:  # the parser raises plain exceptions
            errors.append(f"{where}: cannot parse {expr!r}: {err}")

    contract, allowed = contract_metrics(), allowlist()
    for name in allowed:
        if re.match(r"^(paystream_|payments?_|ledger_|notifications?_)", name):
            errors.append(f"metric-allowlist.txt: {name} is a paystream metric; it must come from the README contract and the scrape")
    for name, wheres in sorted(used.items()):
        if name not in contract and name not in allowed:
            errors.append(f"{name} (used in {sorted(wheres)[0]}) is neither in the README metrics contract nor in metric-allowlist.txt")

    if args.skip_metric_scrape:
        print("warning: --skip-metric-scrape: names checked against the README contract only, not against a running worker's /metrics")
    else:
        scraped, files = scraped_metrics()
        if not files:
            errors.append(
                f"no scraped /metrics files (*.txt) in {SCRAPE_DIR}: run the end-to-end tests first "
                "(they start the workers and write each one's /metrics there), or set "
                "PAYSTREAM_METRICS_SCRAPE_DIR; pass --skip-metric-scrape only for a standalone local run"
            )
        else:
            for name, wheres in sorted(used.items()):
                if name not in scraped and name not in allowed:
                    errors.append(f"{name} (used in {sorted(wheres)[0]}) is not exposed by any scraped worker ({', '.join(f.name for f in files)})")
    for e in errors:
        print(f"  {e}")
    if errors:
        print(f"error: {len(errors)} metric name problem(s)", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {len(used)} metric names in {len(sources)} dashboard/alert expressions all exist ({', '.join(sorted(used))})")


def dashboard_exprs_all() -> Iterator[tuple[str, str]]:
    for path in sorted((CHART / "files" / "dashboards").glob("*.json")):
        yield from dashboard_exprs(path)


if __name__ == "__main__":
    main()
