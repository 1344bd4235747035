# paystream — every target mirrors what CI runs (.ci/run). `make` lists them.
.DEFAULT_GOAL := help
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

# The local broker: nisshi, built from crates.io (newer releases need a newer Rust than 1.95).
NISSHI_VERSION ?= 0.7.0-pre.2
# Where the test run keeps its broker, TLS material and registry data (wiped on each start).
TEST_STACK_DIR ?= target/devstack-test
# Where `make run` keeps its stack.
RUN_STACK_DIR ?= target/devstack-run
# Extra arguments for cargo nextest (e.g. a test filter).
NEXTEST_ARGS ?=
# Extra arguments for the demo, e.g. DEMO_ARGS="--rate 100 --seed 42".
DEMO_ARGS ?=
# Number of events `make bench` preloads per case (payment requests, transaction requests,
# notification requests per concurrency level).
BENCH_EVENTS ?= 50000

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: install-broker
install-broker: ## Install the nisshi broker if missing (first time ~15 min on 2 cores)
	@if command -v nisshi >/dev/null 2>&1 && nisshi --version | grep -q '$(NISSHI_VERSION)'; then \
		echo "nisshi $(NISSHI_VERSION) is installed"; \
	else \
		echo "building nisshi $(NISSHI_VERSION) from crates.io (about 15 minutes the first time)..."; \
		cargo install nisshi --version $(NISSHI_VERSION) --locked --no-default-features --features libsql,dynostore; \
	fi

.PHONY: build
build: ## Build every crate (debug)
	cargo build --workspace --all-targets

.PHONY: run
run: install-broker ## Run everything locally: broker + TLS + registry, all workers, sample payments, live summary (Ctrl-C stops)
	cargo build --release --workspace --bins
	./target/release/devstack demo --dir $(RUN_STACK_DIR) --bin-dir target/release $(DEMO_ARGS)

.PHONY: test
test: install-broker ## Run all tests against one local broker, then the deployment checks
	cargo build --workspace --all-targets
	rm -rf target/metrics-scrape
	./target/debug/devstack exec --dir $(TEST_STACK_DIR) -- cargo nextest run --workspace --exclude deploy-check --no-fail-fast $(NEXTEST_ARGS)
	$(MAKE) lint-deploy

.PHONY: lint
lint: ## cargo fmt --check and clippy with warnings as errors
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

.PHONY: lint-deploy
lint-deploy: ## Validate chart, k8s/, policies, chaos, dashboards, alerts (needs the e2e /metrics scrape from make test)
	shared/deploy-check/lint-deploy.sh

.PHONY: lint-deploy-local
lint-deploy-local: ## lint-deploy without the running-worker metric scrape
	shared/deploy-check/lint-deploy.sh --skip-metric-scrape

.PHONY: k8s
k8s: ## Regenerate k8s/ from the chart with the production values
	shared/deploy-check/lint-deploy.sh --write-k8s

.PHONY: bench
bench: install-broker ## Benchmarks: payments, ledger and notifications workers vs raw passthrough on the local broker (prints tables)
	cargo build --release -p bench -p payments -p ledger -p notifications -p devstack
	./target/release/devstack exec --dir target/devstack-bench -- ./target/release/bench --events $(BENCH_EVENTS) --payments-bin target/release/payments --ledger-bin target/release/ledger --notifications-bin target/release/notifications

.PHONY: clean
clean: ## Remove build output and local stack state
	cargo clean
