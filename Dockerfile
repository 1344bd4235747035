# syntax=docker/dockerfile:1
#
# paystream worker image: multi-stage, dependency layer cached with cargo-chef, release build of
# the worker binaries, distroless runtime (no shell, non-root UID 65532, read-only-root friendly).
#
#   docker build -t paystream:0.1.0 .                                  # every worker in WORKERS
#   docker build --build-arg WORKERS=ledger --build-arg DEFAULT_WORKER=ledger -t paystream-ledger:0.1.0 .
#   docker run --rm paystream:0.1.0 --help                             # ENTRYPOINT: DEFAULT_WORKER
#   docker run --rm --entrypoint /usr/local/bin/payments paystream:0.1.0 --help
#
# The Helm chart runs `command: [/usr/local/bin/<worker>]`, so one image serves every worker, or
# `<worker>.image` points a worker at its own single-binary image. Size goal: < 40 MB per image
# (distroless cc ~ 23 MB + one stripped worker binary); an image holding all four workers is
# larger, so per-worker images are the way to stay under the goal once all four exist.
#
# TLS: rdkafka-sys builds librdkafka from source with `ssl` and links OpenSSL dynamically.
# Builder and runtime are both Debian 12 (bookworm), so the binary's libssl.so.3/libcrypto.so.3
# are the ones gcr.io/distroless/cc-debian12 ships and patches; zlib is linked statically
# (LIBZ_SYS_STATIC=1) because the distroless image has no libz. The builder stage fails if a
# binary needs any other shared library. (Vendored static OpenSSL would also work but would
# freeze OpenSSL fixes into the binary until the next build.)

ARG RUST_VERSION=1.95
# The worker binaries to build: package name = binary name = worker name. Adding a worker is
# adding its name here. Default: every worker the Helm chart enables by default.
ARG WORKERS="payments ledger notifications audit"
# The binary ENTRYPOINT runs (the chart overrides it with `command` per worker).
ARG DEFAULT_WORKER=payments

FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS chef
# librdkafka's configure/make and openssl-sys need a C toolchain, pkg-config and the OpenSSL headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version 0.1.77
WORKDIR /src

FROM chef AS planner
COPY . .
# The recipe holds only manifests and the lock file: it changes when dependencies change.
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ARG WORKERS
ARG DEFAULT_WORKER
ENV LIBZ_SYS_STATIC=1 \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    CARGO_PROFILE_RELEASE_LTO=thin
COPY --from=planner /src/recipe.json recipe.json
# Dependency layer: rebuilt only when the recipe changes.
RUN for worker in $WORKERS; do cargo chef cook --release --recipe-path recipe.json --package "$worker"; done
COPY . .
RUN set -eu; \
    mkdir -p /out/bin; \
    for worker in $WORKERS; do \
      cargo build --release --locked --package "$worker" --bin "$worker"; \
      install -m 0755 "target/release/$worker" /out/bin/; \
    done
# Only glibc, libgcc and OpenSSL 3 may be dynamic: the distroless cc-debian12 image has exactly those.
RUN set -eu; \
    for bin in /out/bin/*; do \
      ldd "$bin"; \
      extra="$(ldd "$bin" | awk '{print $1}' \
        | grep -Ev '^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|/lib/ld-linux-aarch64\.so\.1|lib(c|m|dl|rt|pthread|gcc_s)\.so\.[0-9]+|lib(ssl|crypto)\.so\.3)$' || true)"; \
      if [ -n "$extra" ]; then echo "$bin needs $extra, which the runtime image lacks" >&2; exit 1; fi; \
    done; \
    test -x "/out/bin/$DEFAULT_WORKER"; \
    ln -s "$DEFAULT_WORKER" /out/bin/worker

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="paystream" \
      org.opencontainers.image.description="paystream Kafka stream-processing workers" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/bin/ /usr/local/bin/
# The notifications worker's default files (its flags' defaults point here): templates, rules, and
# a recipients file without accounts. Read-only, world-readable; the chart can mount rules.yaml or
# recipients.yaml over them (notifications.files).
COPY workers/notifications/templates/ /etc/paystream/notifications/templates/
COPY workers/notifications/config/rules.yaml /etc/paystream/notifications/rules.yaml
COPY workers/notifications/config/recipients.image.yaml /etc/paystream/notifications/recipients.yaml
# Numeric UID/GID so `runAsNonRoot` can be verified by the kubelet without /etc/passwd.
USER 65532:65532
# Health and metrics: /livez, /readyz, /metrics.
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/worker"]
