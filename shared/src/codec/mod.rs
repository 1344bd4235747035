//! Avro in the Confluent wire format, through the schema registry. Decoding fetches the writer
//! schema by id once (then caches it) and resolves it to our reader schema, so a producer that adds
//! an optional field does not break us. Encoding uses output schemas registered at startup (subject
//! `<topic>-value`, TopicNameStrategy), so the per-message path never waits on the registry.

mod event;
pub mod wire;

pub use event::AvroEvent;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use apache_avro::Schema;
use schema_registry_converter::async_impl::schema_registry::{SrSettings, get_schema_by_id, post_schema};
use schema_registry_converter::schema_registry_common::{SchemaType, SuppliedSchema};

use crate::config::{RegistryConfig, read_secret_file};
use crate::error::RuntimeError;
use crate::outcome::HandleError;

/// An output topic's registered schema.
#[derive(Debug, Clone)]
struct OutputSchema {
    id: u32,
    schema: &'static Schema,
}

/// Registry client plus schema caches. Shared by all partition tasks behind an `Arc`.
pub struct Codec {
    settings: SrSettings,
    writers: RwLock<HashMap<u32, Arc<Schema>>>,
    outputs: HashMap<String, OutputSchema>,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field("outputs", &self.outputs.keys())
            .finish_non_exhaustive()
    }
}

impl Codec {
    /// A codec talking to the configured registry.
    pub fn new(config: &RegistryConfig) -> Result<Self, RuntimeError> {
        let mut builder = SrSettings::new_builder(config.url.clone());
        builder.set_timeout(std::time::Duration::from_secs(10));
        if let (Some(user), Some(path)) = (&config.username, &config.password_file) {
            let password = read_secret_file("schema registry password", path)?;
            builder.set_basic_authorization(user, Some(&password));
        }
        let settings = builder.build().map_err(|e| RuntimeError::Registry {
            action: format!("configure client for {}", config.url),
            message: e.to_string(),
            retriable: false,
        })?;
        Ok(Self {
            settings,
            writers: RwLock::new(HashMap::new()),
            outputs: HashMap::new(),
        })
    }

    /// Registers (or looks up) `T`'s schema under `<topic>-value` and remembers its id for encoding.
    pub async fn register_output<T: AvroEvent>(&mut self, topic: &str) -> Result<u32, RuntimeError> {
        self.register_output_raw(topic, T::SCHEMA_JSON, T::schema()).await
    }

    /// Registers `schema_json` under `<topic>-value`; `schema` is its parsed form.
    pub async fn register_output_raw(
        &mut self,
        topic: &str,
        schema_json: &str,
        schema: &'static Schema,
    ) -> Result<u32, RuntimeError> {
        let subject = format!("{topic}-value");
        let supplied = SuppliedSchema::new(None, SchemaType::Avro, schema_json.to_owned());
        let registered = post_schema(&self.settings, subject.clone(), supplied)
            .await
            .map_err(|e| RuntimeError::Registry {
                action: format!("register subject {subject}"),
                message: e.to_string(),
                retriable: e.retriable,
            })?;
        self.outputs.insert(
            topic.to_owned(),
            OutputSchema {
                id: registered.id,
                schema,
            },
        );
        Ok(registered.id)
    }

    /// Makes sure the writer schema of `payload` is cached, fetching it from the registry once.
    pub async fn ensure_writer_schema(&self, payload: &[u8]) -> Result<(), HandleError> {
        let (id, _) = wire::split(payload).map_err(|e| HandleError::poison("decode", e.to_string()))?;
        if self.cached(id).is_some() {
            return Ok(());
        }
        let registered = get_schema_by_id(id, &self.settings).await.map_err(|e| {
            if e.retriable {
                HandleError::transient("registry", format!("fetch schema id {id}: {e}"))
            } else {
                HandleError::poison("unknown_schema", format!("schema id {id} not in the registry: {e}"))
            }
        })?;
        if registered.schema_type != SchemaType::Avro {
            return Err(HandleError::poison(
                "unknown_schema",
                format!("schema id {id} is not an AVRO schema"),
            ));
        }
        let schema = Schema::parse_str(&registered.schema)
            .map_err(|e| HandleError::poison("unknown_schema", format!("schema id {id} does not parse: {e}")))?;
        if let Ok(mut writers) = self.writers.write() {
            writers.insert(id, Arc::new(schema));
        }
        Ok(())
    }

    fn cached(&self, id: u32) -> Option<Arc<Schema>> {
        self.writers.read().ok().and_then(|w| w.get(&id).cloned())
    }

    /// Decodes a framed payload into `T`, resolving the writer schema to `T`'s reader schema.
    /// Call [`Codec::ensure_writer_schema`] first; an uncached id is reported as transient.
    pub fn decode<T: AvroEvent>(&self, payload: &[u8]) -> Result<T, HandleError> {
        let (id, mut body) = wire::split(payload).map_err(|e| HandleError::poison("decode", e.to_string()))?;
        let writer = self
            .cached(id)
            .ok_or_else(|| HandleError::transient("registry", format!("schema id {id} not fetched yet")))?;
        let reader = T::schema();
        if writer.name() != reader.name() {
            let name = |s: &Schema| s.name().map(|n| n.fullname(None)).unwrap_or_else(|| "(unnamed)".into());
            return Err(HandleError::poison(
                "wrong_schema",
                format!("schema id {id} is {}, expected {}", name(&writer), name(reader)),
            ));
        }
        let value = apache_avro::reader::datum::GenericDatumReader::builder(&writer)
            .reader_schema(reader)
            .build()
            .and_then(|r| r.read_value(&mut body))
            .map_err(|e| HandleError::poison("decode", format!("avro body with schema id {id}: {e}")))?;
        if !body.is_empty() {
            return Err(HandleError::poison(
                "decode",
                format!("{} trailing bytes after the avro body with schema id {id}", body.len()),
            ));
        }
        apache_avro::from_value::<T>(&value)
            .map_err(|e| HandleError::poison("decode", format!("avro value with schema id {id}: {e}")))
    }

    /// Appends `event` framed with the schema id registered for `topic`.
    pub fn encode_into<T: AvroEvent>(&self, topic: &str, event: &T, buf: &mut Vec<u8>) -> Result<(), HandleError> {
        let output = self
            .outputs
            .get(topic)
            .ok_or_else(|| HandleError::poison("encode", format!("no schema registered for output topic {topic}")))?;
        if !std::ptr::eq(output.schema, T::schema()) {
            return Err(HandleError::poison(
                "encode",
                format!("output topic {topic} was registered with another schema"),
            ));
        }
        wire::write_header(buf, output.id);
        apache_avro::write_avro_datum_ref(output.schema, &HashMap::new(), event, buf)
            .map_err(|e| HandleError::poison("encode", format!("encode for {topic}: {e}")))?;
        Ok(())
    }
}

/// Appends `event` in the wire format to `buf`: the header for `schema_id`, then the Avro body
/// written with `T`'s own schema. For producers outside a worker (dev stack, tests, benchmarks)
/// that registered the schema themselves.
pub fn frame_into<T: AvroEvent>(schema_id: u32, event: &T, buf: &mut Vec<u8>) -> Result<(), apache_avro::Error> {
    wire::write_header(buf, schema_id);
    apache_avro::write_avro_datum_ref(T::schema(), &HashMap::new(), event, buf).map(|_| ())
}
