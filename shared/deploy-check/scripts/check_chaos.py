"""Check the Chaos Mesh conventions of chaos/ (STYLE.md §25) that a schema cannot express.

- one experiment per file, file name = metadata.name = `<fault>-<target>`, target a worker
  (payments, ledger, notifications, audit) or a dependency (kafka-broker, schema-registry);
- explicit metadata.namespace, selector namespaces and label selectors, `mode` and `duration`
  on every experiment (also inside Schedules); `value` where the mode needs one;
- every Schedule uses concurrencyPolicy Forbid;
- the Workflow has an HTTP StatusCheck on /readyz that aborts it, every template it names exists,
  and each chaos template equals the chaos/ file of the same name (duration -> deadline);
- chaos/README.md mentions every experiment.
"""

from __future__ import annotations

import re
import sys

from common import CHAOS_DIR, load_docs, rel

CHAOS_KINDS = {
    "PodChaos": "podChaos", "NetworkChaos": "networkChaos", "StressChaos": "stressChaos",
    "IOChaos": "ioChaos", "HTTPChaos": "httpChaos", "DNSChaos": "dnsChaos", "TimeChaos": "timeChaos",
}
TARGETS = ("payments", "ledger", "notifications", "audit", "kafka-broker", "schema-registry")
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*-(" + "|".join(TARGETS) + r")$")
MODES_WITH_VALUE = {"fixed", "fixed-percent", "random-max-percent"}


def selector_problems(where: str, sel: dict | None) -> list[str]:
    if not sel:
        return [f"{where}: no selector"]
    out = []
    if not sel.get("namespaces"):
        out.append(f"{where}: selector must list namespaces explicitly")
    if not (sel.get("labelSelectors") or sel.get("expressionSelectors") or sel.get("pods")):
        out.append(f"{where}: selector must select by labels (labelSelectors)")
    return out


def experiment_problems(where: str, spec: dict, need_duration: bool = True) -> list[str]:
    out = []
    if not spec.get("mode"):
        out.append(f"{where}: mode must be set")
    elif spec["mode"] in MODES_WITH_VALUE and not spec.get("value"):
        out.append(f"{where}: mode {spec['mode']} needs a value")
    if need_duration and not spec.get("duration"):
        out.append(f"{where}: duration must be set")
    out += selector_problems(where, spec.get("selector"))
    if "target" in spec:
        target = spec["target"] or {}
        if not target.get("mode"):
            out.append(f"{where}: target.mode must be set")
        out += selector_problems(f"{where} target", target.get("selector"))
    return out


def workflow_problems(where: str, doc: dict, experiments: dict[str, dict]) -> list[str]:
    out = []
    templates = {t["name"]: t for t in doc["spec"].get("templates", [])}
    if doc["spec"].get("entry") not in templates:
        out.append(f"{where}: entry {doc['spec'].get('entry')!r} is not a template")
    checks = [t for t in templates.values() if t.get("templateType") == "StatusCheck"]
    if not any(
        c.get("abortWithStatusCheck")
        and c.get("statusCheck", {}).get("type") == "HTTP"
        and c.get("statusCheck", {}).get("http", {}).get("url", "").endswith("/readyz")
        for c in checks
    ):
        out.append(f"{where}: needs an HTTP StatusCheck on /readyz with abortWithStatusCheck: true")
    for t in templates.values():
        for child in t.get("children") or []:
            if child not in templates:
                out.append(f"{where}: template {t['name']} names unknown child {child}")
        if not t.get("deadline"):
            out.append(f"{where}: template {t['name']} needs a deadline")
        kind = t.get("templateType")
        if kind in CHAOS_KINDS:
            exp = experiments.get(t["name"])
            if exp is None:
                out.append(f"{where}: chaos template {t['name']} has no chaos/{t['name']}.yaml")
                continue
            want = dict(exp["spec"])
            duration = want.pop("duration", None)
            if exp["kind"] != kind or t.get(CHAOS_KINDS[kind]) != want:
                out.append(f"{where}: template {t['name']} differs from chaos/{t['name']}.yaml")
            if t.get("deadline") != duration:
                out.append(f"{where}: template {t['name']} deadline {t.get('deadline')} != duration {duration} of chaos/{t['name']}.yaml")
    return out


def main() -> None:
    files = sorted(CHAOS_DIR.glob("*.yaml"))
    if not files:
        print(f"error: no manifests in {rel(CHAOS_DIR)}", file=sys.stderr)
        sys.exit(1)
    errors: list[str] = []
    experiments: dict[str, dict] = {}
    workflows = []
    for path in files:
        docs = list(load_docs(path))
        where = rel(path)
        if len(docs) != 1:
            errors.append(f"{where}: one experiment per file, found {len(docs)} documents")
            continue
        doc = docs[0]
        name = doc.get("metadata", {}).get("name")
        if name != path.stem:
            errors.append(f"{where}: metadata.name {name!r} must equal the file name {path.stem!r}")
        if not NAME.match(path.stem):
            errors.append(f"{where}: name must be <fault>-<target>, target one of {', '.join(TARGETS)}")
        if not doc.get("metadata", {}).get("namespace"):
            errors.append(f"{where}: metadata.namespace must be explicit")
        kind = doc.get("kind")
        if kind in CHAOS_KINDS:
            experiments[path.stem] = doc
            errors += experiment_problems(where, doc.get("spec") or {})
        elif kind == "Schedule":
            spec = doc.get("spec") or {}
            if spec.get("concurrencyPolicy") != "Forbid":
                errors.append(f"{where}: a Schedule must set concurrencyPolicy: Forbid")
            inner = spec.get(CHAOS_KINDS.get(spec.get("type", ""), ""), None)
            if inner is None:
                errors.append(f"{where}: Schedule type {spec.get('type')!r} has no embedded experiment")
            else:
                errors += experiment_problems(f"{where} ({spec.get('type')})", inner)
        elif kind == "Workflow":
            workflows.append((where, doc))
        else:
            errors.append(f"{where}: unexpected kind {kind}")
    if not workflows:
        errors.append(f"{rel(CHAOS_DIR)}: needs a Workflow with a readiness StatusCheck")
    for where, doc in workflows:
        errors += workflow_problems(where, doc, experiments)
    readme = CHAOS_DIR / "README.md"
    text = readme.read_text() if readme.exists() else ""
    for path in files:
        if f"`{path.stem}`" not in text:
            errors.append(f"{rel(readme)}: does not map `{path.stem}` to the invariant it protects")
    for e in errors:
        print(f"  {e}")
    if errors:
        print(f"error: {len(errors)} chaos convention problem(s)", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {len(files)} chaos manifests follow the conventions ({len(experiments)} experiments, {len(workflows)} workflow)")


if __name__ == "__main__":
    main()
