"""Paths, manifest loading and chart rendering shared by the deploy-check scripts.

Every script runs from any working directory: paths derive from this file's location. The
upstream CRDs live beside the repository (`<repo>/../shared/crds`), never inside it.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "helm" / "paystream"
CI_VALUES = CHART / "ci"
K8S_DIR = REPO / "k8s"
CHAOS_DIR = REPO / "chaos"
DEPLOY_CHECK = REPO / "shared" / "deploy-check"
FIXTURES = DEPLOY_CHECK / "fixtures"
RENDER_DIR = Path(os.environ.get("PAYSTREAM_RENDERED_DIR", REPO / "target" / "deploy-rendered"))
CRD_DIR = Path(os.environ.get("PAYSTREAM_CRD_DIR", REPO.parent / "shared" / "crds"))

RELEASE = "paystream"
NAMESPACE = "paystream"
# The Kubernetes minor version the manifests are validated against.
KUBE_VERSION = "1.30"


@dataclass(frozen=True)
class ValuesSet:
    """One values file and how it is rendered."""

    name: str
    path: Path
    namespace: str


def values_sets() -> list[ValuesSet]:
    """Every ci/*-values.yaml (namespace `paystream`) plus the insecure fixture, rendered into
    a production namespace (`payments-prod`) so that the dev-only exceptions do not apply."""
    sets = [
        ValuesSet(p.name.removesuffix("-values.yaml"), p, NAMESPACE)
        for p in sorted(CI_VALUES.glob("*-values.yaml"))
    ]
    sets.append(ValuesSet("insecure", FIXTURES / "insecure-values.yaml", "payments-prod"))
    return sets


def load_values(path: Path) -> dict[str, Any]:
    with path.open() as f:
        return yaml.safe_load(f) or {}


def render_chart(values: dict[str, Any], namespace: str) -> dict[str, str]:
    """Render the chart offline with the Helm v4 engine (values are schema-validated by Helm)."""
    import helm_python as helm

    chart = helm.Chart.load(str(CHART))
    chart.validate_schema(values)
    return chart.render(values, name=RELEASE, namespace=namespace)


def manifest_text(rendered: dict[str, str], include_tests: bool) -> str:
    """Concatenate the rendered templates like `helm template`: sorted by template path, each
    document under a `# Source:` comment and kept as rendered (comments included), NOTES.txt
    left out (and the test hooks unless asked for)."""
    parts: list[str] = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        if not include_tests and "/templates/tests/" in path:
            continue
        for chunk in re.split(r"^---[ \t]*$", rendered[path], flags=re.MULTILINE):
            if not yaml.safe_load(chunk):
                continue
            parts.append(f"---\n# Source: {path}\n{chunk.strip(chr(10))}\n")
    return "".join(parts)


def load_docs(path: Path) -> Iterator[dict[str, Any]]:
    """Every non-empty YAML document of a file."""
    with path.open() as f:
        for doc in yaml.safe_load_all(f):
            if doc:
                yield doc


def describe(doc: dict[str, Any]) -> str:
    """`Kind/namespace/name` of a manifest, for messages."""
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace", "-")
    return f"{doc.get('kind', '?')}/{ns}/{meta.get('name', '?')}"


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)
