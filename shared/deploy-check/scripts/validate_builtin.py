"""Validate every built-in Kubernetes object of the rendered sets and k8s/ with
kubernetes-validate in strict mode (unknown fields are errors), offline, for KUBE_VERSION.

Custom resources (groups in CUSTOM_GROUPS) are left to validate_crds.py; any other kind the
schemas do not know is an error. Names are checked too: the API server would refuse what the
OpenAPI schemas let through (DNS-1123 subdomains, DNS-1035 labels for Services, label values).
"""

from __future__ import annotations

import re
import sys

import kubernetes_validate

from common import K8S_DIR, KUBE_VERSION, RENDER_DIR, describe, load_docs, rel

CUSTOM_GROUPS = {"monitoring.coreos.com", "keda.sh", "kafka.strimzi.io", "chaos-mesh.org"}
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def group_of(doc: dict) -> str:
    api = doc.get("apiVersion", "")
    return api.split("/")[0] if "/" in api else ""


def name_problems(doc: dict) -> list[str]:
    meta = doc.get("metadata") or {}
    name = meta.get("name", "")
    problems = []
    if len(name) > 253 or not SUBDOMAIN.match(name):
        problems.append(f"metadata.name {name!r} is not a DNS-1123 subdomain")
    if doc.get("kind") == "Service" and (len(name) > 63 or not DNS1035.match(name)):
        problems.append(f"Service name {name!r} is not a DNS-1035 label")
    for key, value in (meta.get("labels") or {}).items():
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            problems.append(f"label {key}={value!r} is not a valid label value")
    return problems


def main() -> None:
    files = sorted(RENDER_DIR.glob("*.yaml")) + sorted(K8S_DIR.glob("*.yaml"))
    if not files:
        print(f"error: nothing to validate in {rel(RENDER_DIR)} and {rel(K8S_DIR)}: run render.py first", file=sys.stderr)
        sys.exit(1)
    checked = skipped = 0
    errors: list[str] = []
    for path in files:
        for doc in load_docs(path):
            where = f"{rel(path)}: {describe(doc)}"
            if group_of(doc) in CUSTOM_GROUPS:
                skipped += 1
                continue
            errors += [f"{where}: {p}" for p in name_problems(doc)]
            try:
                kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                errors.append(f"{where}: no Kubernetes {KUBE_VERSION} schema for {doc.get('apiVersion')} {doc.get('kind')}")
            except kubernetes_validate.ValidationError as err:
                path_s = ".".join(str(p) for p in err.path) or "(root)"
                errors.append(f"{where}: {path_s}: {err.message}")
            checked += 1
    for e in errors:
        print(f"  {e}")
    if errors:
        print(f"error: {len(errors)} Kubernetes schema problem(s)", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {checked} built-in objects valid against Kubernetes {KUBE_VERSION} (strict); {skipped} custom resources left to the CRD check")


if __name__ == "__main__":
    main()
