"""Validate every custom resource against its upstream CRD's openAPIV3Schema.

Inputs: the rendered sets (target/deploy-rendered), k8s/ and every chaos/ manifest. The CRDs
come from the folder beside the repository (`../shared/crds`, or $PAYSTREAM_CRD_DIR); they are
test data and never copied into the repository. When the folder is absent this check fails and
says so: it never passes silently.

The OpenAPI v3 schema is turned into a JSON Schema (draft 4, whose boolean exclusiveMinimum
OpenAPI v3.0 shares) the way the API server reads it:
  - objects with `properties` and no `additionalProperties` reject unknown fields, as
    `kubectl apply` does with field validation Strict (the server would otherwise prune them
    silently), unless `x-kubernetes-preserve-unknown-fields: true`;
  - `nullable: true` admits null; `x-kubernetes-int-or-string` admits an integer or a string;
  - `x-kubernetes-list-type: set` needs unique items, `map` unique `x-kubernetes-list-map-keys`;
  - `x-kubernetes-validations` CEL rules are evaluated with cel-python (`self` is the node);
  - formats int32/int64 are range-checked, byte must be base64, date-time RFC 3339.
The apiVersion must be a served version of the CRD, and namespaced kinds must name a namespace.
`--self-test` feeds deliberately broken resources through the same code and fails unless each
is rejected, so a validator that accepts everything cannot go unnoticed.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import celpy
import jsonschema

from common import CHAOS_DIR, CRD_DIR, K8S_DIR, RENDER_DIR, describe, load_docs, rel
from validate_builtin import CUSTOM_GROUPS, SUBDOMAIN, group_of


@dataclass
class Crd:
    kind: str
    group: str
    namespaced: bool
    served: dict[str, dict[str, Any]]  # version -> raw openAPIV3Schema


def load_crds(folder: Path) -> dict[tuple[str, str], Crd]:
    crds: dict[tuple[str, str], Crd] = {}
    for path in sorted(folder.rglob("*.yaml")):
        for doc in load_docs(path):
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            served = {
                v["name"]: v["schema"]["openAPIV3Schema"]
                for v in spec["versions"]
                if v.get("served") and "schema" in v
            }
            crd = Crd(spec["names"]["kind"], spec["group"], spec.get("scope") == "Namespaced", served)
            crds[(crd.group, crd.kind)] = crd
    return crds


def to_json_schema(node: Any) -> Any:
    """A deep copy of an OpenAPI v3 structural schema as a draft-4 JSON Schema (see module doc)."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k != "default"}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    return out


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@FORMATS.checks("byte")
def _byte(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return True


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(RFC3339.match(value))


CEL = celpy.Environment()


def extension_problems(schema: dict[str, Any], value: Any, where: str) -> list[str]:
    """Walk the instance with its raw schema: list-map key uniqueness and CEL rules."""
    problems: list[str] = []
    if not isinstance(schema, dict) or value is None:
        return problems
    for rule in schema.get("x-kubernetes-validations") or []:
        try:
            program = CEL.program(CEL.compile(rule["rule"]))
            ok = program.evaluate({"self": celpy.json_to_cel(value)})
        except Exception as err:  # a CEL error is reported, not hidden
            problems.append(f"{where}: CEL rule {rule['rule']!r} could not be evaluated: {err}")
            continue
        if not bool(ok):
            problems.append(f"{where}: {rule.get('message') or rule['rule']}")
    if isinstance(value, list):
        if schema.get("x-kubernetes-list-type") == "map":
            keys = schema.get("x-kubernetes-list-map-keys") or []
            seen = set()
            for item in value:
                key = tuple(repr(item.get(k)) for k in keys) if isinstance(item, dict) else (repr(item),)
                if key in seen:
                    problems.append(f"{where}: duplicate list-map key {dict(zip(keys, key))}")
                seen.add(key)
        for i, item in enumerate(value):
            problems += extension_problems(schema.get("items") or {}, item, f"{where}[{i}]")
    elif isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            sub = props.get(k, extra if isinstance(extra, dict) else None)
            if sub is not None:
                problems += extension_problems(sub, v, f"{where}.{k}")
    return problems


class Validator:
    def __init__(self, crds: dict[tuple[str, str], Crd]) -> None:
        self.crds = crds
        self.compiled: dict[tuple[str, str, str], jsonschema.Draft4Validator] = {}

    def problems(self, doc: dict[str, Any]) -> list[str]:
        group, kind = group_of(doc), doc.get("kind", "")
        version = doc.get("apiVersion", "").split("/")[-1]
        crd = self.crds.get((group, kind))
        if crd is None:
            return [f"no CRD for {group} {kind} in {CRD_DIR}"]
        if version not in crd.served:
            return [f"{doc.get('apiVersion')} is not a served version of {kind} (served: {', '.join(crd.served)})"]
        out = []
        meta = doc.get("metadata") or {}
        name = meta.get("name", "")
        if len(name) > 253 or not SUBDOMAIN.match(name):
            out.append(f"metadata.name {name!r} is not a DNS-1123 subdomain")
        if crd.namespaced and not meta.get("namespace"):
            out.append("namespaced resource without metadata.namespace")
        key = (group, kind, version)
        if key not in self.compiled:
            schema = to_json_schema(crd.served[version])
            self.compiled[key] = jsonschema.Draft4Validator(schema, format_checker=FORMATS)
        for err in sorted(self.compiled[key].iter_errors(doc), key=lambda e: list(e.absolute_path)):
            path = ".".join(str(p) for p in err.absolute_path) or "(root)"
            out.append(f"{path}: {err.message}")
        out += extension_problems(crd.served[version], doc, kind)
        return out


def inputs() -> list[Path]:
    return sorted(RENDER_DIR.glob("*.yaml")) + sorted(K8S_DIR.glob("*.yaml")) + sorted(CHAOS_DIR.glob("*.yaml"))


def self_test(v: Validator) -> list[str]:
    """Broken resources that must each be rejected; returns the ones that were not."""
    topic = {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": {"name": "t", "namespace": "n"}, "spec": {"partitions": 1, "replicas": 3},
    }
    scaled = {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "s", "namespace": "n"},
        "spec": {"scaleTargetRef": {"name": "d"}, "minReplicaCount": 1, "maxReplicaCount": 3,
                 "triggers": [{"type": "kafka", "metadata": {}}]},
    }
    pod_chaos = {
        "apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos",
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["n"]}},
    }
    cases: list[tuple[str, dict]] = []
    base_ok = [("KafkaTopic", topic), ("ScaledObject", scaled), ("PodChaos", pod_chaos)]
    bad = copy.deepcopy(topic); bad["spec"]["replicaz"] = 3
    cases.append(("unknown field", bad))
    bad = copy.deepcopy(topic); bad["spec"]["partitions"] = "twelve"
    cases.append(("wrong type", bad))
    bad = copy.deepcopy(topic); bad["apiVersion"] = "kafka.strimzi.io/v1beta1"
    cases.append(("unserved version", bad))
    bad = copy.deepcopy(scaled); bad["spec"]["minReplicaCount"] = 5
    cases.append(("CEL rule minReplicaCount <= maxReplicaCount", bad))
    bad = copy.deepcopy(pod_chaos); bad["spec"]["action"] = "pod-explode"
    cases.append(("enum", bad))
    bad = copy.deepcopy(pod_chaos); del bad["metadata"]["namespace"]
    cases.append(("missing namespace", bad))
    failures = [f"valid {n} rejected: {v.problems(d)}" for n, d in base_ok if v.problems(d)]
    failures += [f"broken resource accepted ({n})" for n, d in cases if not v.problems(d)]
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--self-test", action="store_true", help="only check that broken resources are rejected")
    args = parser.parse_args()
    if not CRD_DIR.is_dir():
        print(
            f"error: custom-resource validation NOT run: no CRD folder at {CRD_DIR}. Point "
            "PAYSTREAM_CRD_DIR at a folder of upstream CRDs (prometheus-operator, KEDA, Strimzi, "
            "Chaos Mesh; see ../shared/crds/README.md in the project setup), or pass --skip-crds "
            "to lint-deploy.sh to skip this check knowingly.",
            file=sys.stderr,
        )
        sys.exit(1)
    v = Validator(load_crds(CRD_DIR))
    if args.self_test:
        failures = self_test(v)
        for f in failures:
            print(f"  {f}")
        if failures:
            print("error: the CRD validator self-test failed", file=sys.stderr)
            sys.exit(1)
        print("ok: CRD validator rejects unknown fields, wrong types, unserved versions, CEL violations, enums, missing namespaces")
        return

    errors: list[str] = []
    counts: dict[str, int] = {}
    for path in inputs():
        for doc in load_docs(path):
            in_chaos = path.parent == CHAOS_DIR
            if in_chaos and group_of(doc) != "chaos-mesh.org":
                errors.append(f"{rel(path)}: {describe(doc)}: chaos/ holds Chaos Mesh resources only")
                continue
            if group_of(doc) not in CUSTOM_GROUPS:
                continue
            counts[doc["kind"]] = counts.get(doc["kind"], 0) + 1
            errors += [f"{rel(path)}: {describe(doc)}: {p}" for p in v.problems(doc)]
    for e in errors:
        print(f"  {e}")
    if errors:
        print(f"error: {len(errors)} custom-resource problem(s)", file=sys.stderr)
        sys.exit(1)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    print(f"ok: custom resources valid against the upstream CRDs in {CRD_DIR} ({summary})")


if __name__ == "__main__":
    main()
