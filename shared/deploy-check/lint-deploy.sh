#!/usr/bin/env bash
# Deployment checks of paystream: the Helm chart, k8s/, policies/, chaos/, dashboards and alerts,
# each validated by the real tool. Idempotent; installs what it needs itself:
#   - a Python venv in target/deploy-venv with shared/deploy-check/requirements.txt
#     (Helm v4 engine, kubernetes-validate, jsonschema, cel-python, promql-parser);
#   - promtool from Debian's `prometheus` package (apt-get update first) when it is missing.
#
# Steps (all run; the summary line counts them):
#   chart       helm lint --strict, values.schema.json, render every ci/*-values.yaml + the insecure fixture
#   kubernetes  every built-in object valid for Kubernetes 1.30 (kubernetes-validate, strict)
#   crds        every custom resource (chart + chaos/) valid against the upstream CRD schema (../shared/crds)
#   chaos       chaos/ conventions: names, selectors, mode/duration, Schedule Forbid, Workflow StatusCheck
#   rules       promtool check rules + promtool test rules on the rendered PrometheusRule
#   k8s-drift   k8s/ equals the chart rendered with ci/production-values.yaml
#   rego        cargo test -p deploy-check: Rego unit tests + deny over every rendered set
#   metrics     every metric in dashboards/alerts is in the README contract and in a running
#               worker's /metrics ($PAYSTREAM_METRICS_SCRAPE_DIR, written by the e2e tests)
#
# Usage: shared/deploy-check/lint-deploy.sh [--skip-metric-scrape] [--skip-crds] [--write-k8s]
#   --skip-metric-scrape  check metric names against the README only (standalone local use; CI never passes it)
#   --skip-crds           skip custom-resource validation when no CRD folder is available (says so loudly)
#   --write-k8s           regenerate k8s/ from the chart instead of checking it for drift
# Environment: PAYSTREAM_CRD_DIR (default <repo>/../shared/crds), PAYSTREAM_METRICS_SCRAPE_DIR
# (default <repo>/target/metrics-scrape), CARGO_TARGET_DIR (honoured by the rego step).
set -euo pipefail

skip_scrape=0
skip_crds=0
write_k8s=0
for arg in "$@"; do
    case "$arg" in
        --skip-metric-scrape) skip_scrape=1 ;;
        --skip-crds) skip_crds=1 ;;
        --write-k8s) write_k8s=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "lint-deploy: unknown argument $arg (see --help)" >&2
            exit 64
            ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
cd "$repo"

venv="$repo/target/deploy-venv"
requirements="$here/requirements.txt"
scripts="$here/scripts"
export PAYSTREAM_CRD_DIR="${PAYSTREAM_CRD_DIR:-$repo/../shared/crds}"
export PAYSTREAM_METRICS_SCRAPE_DIR="${PAYSTREAM_METRICS_SCRAPE_DIR:-$repo/target/metrics-scrape}"
export PYTHONDONTWRITEBYTECODE=1

# ---- setup -------------------------------------------------------------------------------
setup_venv() {
    # Rebuilt only when requirements.txt changed since the last install.
    if [[ -x "$venv/bin/python" ]] && cmp -s "$requirements" "$venv/.requirements.txt"; then
        return
    fi
    echo "==> setup: Python venv $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.requirements.txt"
}

setup_promtool() {
    if command -v promtool >/dev/null 2>&1; then
        return
    fi
    echo "==> setup: promtool (Debian package prometheus)"
    local sudo=""
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || { echo "lint-deploy: promtool missing and not root: apt-get install prometheus" >&2; exit 1; }
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    command -v promtool >/dev/null 2>&1 || { echo "lint-deploy: promtool still missing after installing prometheus" >&2; exit 1; }
}

setup_venv
setup_promtool
py="$venv/bin/python"

# ---- steps -------------------------------------------------------------------------------
passed=0
failed=0
failures=()

run_step() {
    local name="$1"
    shift
    echo
    echo "==> $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "FAILED: $name" >&2
    fi
}

step_rules() {
    local files
    files="$("$py" "$scripts/extract_rules.py")" || return 1
    # shellcheck disable=SC2086 # one rule file per line, no spaces in the paths we write
    promtool check rules $files || return 1
    (cd "$repo/target/deploy-rendered/rules" && promtool test rules alerts-test.yaml)
}

step_crds() {
    if [[ "$skip_crds" == 1 ]]; then
        echo "WARNING: custom-resource validation NOT run (--skip-crds): the chart's ServiceMonitor,"
        echo "WARNING: PrometheusRule, ScaledObject, KafkaTopic, KafkaUser and every chaos/ manifest are unchecked."
        return 0
    fi
    "$py" "$scripts/validate_crds.py" --self-test && "$py" "$scripts/validate_crds.py"
}

step_k8s() {
    if [[ "$write_k8s" == 1 ]]; then
        "$py" "$scripts/k8s_manifests.py" --write
    else
        "$py" "$scripts/k8s_manifests.py" --check
    fi
}

step_metrics() {
    if [[ "$skip_scrape" == 1 ]]; then
        "$py" "$scripts/check_metrics.py" --skip-metric-scrape
    else
        "$py" "$scripts/check_metrics.py"
    fi
}

# The render feeds every later step: stop here when it fails.
run_step chart "$py" "$scripts/render.py"
if [[ "$failed" != 0 ]]; then
    echo "lint-deploy: 0 passed, 1 failed"
    exit 1
fi
run_step kubernetes "$py" "$scripts/validate_builtin.py"
run_step crds step_crds
run_step chaos "$py" "$scripts/check_chaos.py"
run_step rules step_rules
run_step k8s-drift step_k8s
run_step rego cargo test --quiet -p deploy-check
run_step metrics step_metrics

echo
if [[ "$failed" != 0 ]]; then
    echo "failed steps: ${failures[*]}" >&2
fi
echo "lint-deploy: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
