//! Telemetry, initialised once per process: JSON logs filtered by `--log-level`, and — only when
//! an OTLP endpoint is configured — OpenTelemetry traces exported over OTLP/HTTP. Trace context
//! crosses workers in the W3C `traceparent` Kafka header, so one payment is one trace.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::error::RuntimeError;

/// Kafka header carrying the W3C trace context.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// Target of per-message spans; only the OpenTelemetry layer listens to it.
pub const MESSAGE_SPAN_TARGET: &str = "paystream::message";

static TRACING_ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether per-message spans are created (an OTLP endpoint is configured).
pub fn tracing_enabled() -> bool {
    TRACING_ENABLED.load(Ordering::Relaxed)
}

/// Keeps the trace exporter alive; call [`Telemetry::shutdown`] to flush before exit.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Installs the global subscriber. `service` and `version` name the worker in traces.
    pub fn init(
        service: &'static str,
        version: &'static str,
        log_level: &str,
        otlp_endpoint: Option<&str>,
    ) -> Result<Self, RuntimeError> {
        let filter =
            EnvFilter::try_new(log_level).map_err(|e| RuntimeError::Config(format!("log level {log_level:?}: {e}")))?;
        // Per-message spans never reach the log output; they exist for the trace exporter only.
        let filter = filter.add_directive(
            format!("{MESSAGE_SPAN_TARGET}=off")
                .parse()
                .map_err(|e| RuntimeError::Telemetry(format!("filter directive: {e}")))?,
        );
        let fmt = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(true)
            .with_filter(filter);
        let (provider, otel) = match otlp_endpoint {
            None => (None, None),
            Some(endpoint) => {
                use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
                    .with_headers(Default::default())
                    .build()
                    .map_err(|e| RuntimeError::Telemetry(format!("otlp exporter for {endpoint}: {e}")))?;
                let resource = opentelemetry_sdk::Resource::builder()
                    .with_service_name(service)
                    .with_attribute(opentelemetry::KeyValue::new("service.version", version))
                    .build();
                let provider = SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(resource)
                    .build();
                let tracer = provider.tracer(service);
                let layer = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(
                    tracing_subscriber::filter::Targets::new().with_target(MESSAGE_SPAN_TARGET, tracing::Level::TRACE),
                );
                TRACING_ENABLED.store(true, Ordering::Relaxed);
                (Some(provider), Some(layer))
            }
        };
        tracing_subscriber::registry()
            .with(fmt)
            .with(otel)
            .try_init()
            .map_err(|e| RuntimeError::Telemetry(format!("install subscriber: {e}")))?;
        Ok(Self { provider })
    }

    /// Flushes and stops the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(e) = provider.force_flush() {
                tracing::warn!(error = %e, "trace flush failed");
            }
            if let Err(e) = provider.shutdown() {
                tracing::warn!(error = %e, "trace exporter shutdown failed");
            }
        }
    }
}

/// Reads `traceparent` from a message's headers.
struct HeaderExtractor<'a>(Option<&'a str>);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        if key == TRACEPARENT_HEADER { self.0 } else { None }
    }
    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT_HEADER]
    }
}

/// Collects the `traceparent` value to write into output headers.
struct HeaderInjector<'a>(&'a mut Option<String>);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if key == TRACEPARENT_HEADER {
            *self.0 = Some(value);
        }
    }
}

/// Creates the per-message span, child of the incoming `traceparent` if any. Only call when
/// [`tracing_enabled`] is true.
pub fn message_span(topic: &str, partition: i32, offset: i64, incoming_traceparent: Option<&str>) -> tracing::Span {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let span = tracing::info_span!(target: MESSAGE_SPAN_TARGET, "process", messaging.source = topic, messaging.partition = partition, messaging.offset = offset);
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(incoming_traceparent));
    let _ = span.set_parent(parent);
    span
}

/// The `traceparent` of `span`, to put on every output of the message.
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let mut value = None;
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeaderInjector(&mut value));
    value
}
