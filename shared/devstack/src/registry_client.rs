//! A small client of the Confluent-compatible schema registry for `produce`, `tail` and `demo`:
//! register a schema under a subject (TopicNameStrategy, `<topic>-value`) and look writer schemas
//! up by id, caching each answer (a failed lookup too, so a topic full of unknown ids does not
//! hammer the registry).

use std::{collections::HashMap, sync::Arc, time::Duration};

use apache_avro::Schema;
use schema_registry_converter::{
    async_impl::schema_registry::{SrSettings, get_schema_by_id, post_schema},
    error::SRCError,
    schema_registry_common::{SchemaType, SuppliedSchema},
};
use tracing::debug;

use crate::DevstackError;

/// One registry request gives up after this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many schema ids are remembered.
const MAX_CACHED_IDS: usize = 1024;

/// The subject of a topic's values under the TopicNameStrategy.
pub fn value_subject(topic: &str) -> String {
    format!("{topic}-value")
}

/// Registry client with a by-id schema cache.
pub struct RegistryClient {
    url: String,
    settings: SrSettings,
    by_id: HashMap<u32, Result<Arc<Schema>, String>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("url", &self.url)
            .field("cached_ids", &self.by_id.len())
            .finish_non_exhaustive()
    }
}

/// `error: cause` instead of the client's "Error: …, it's retriable: …" wording.
fn reason(err: &SRCError) -> String {
    match &err.cause {
        Some(cause) => format!("{}: {cause}", err.error),
        None => err.error.clone(),
    }
}

impl RegistryClient {
    /// A client for `url` (no proxy: the development registry is on 127.0.0.1).
    pub fn new(url: &str) -> Result<Self, DevstackError> {
        let settings = SrSettings::new_builder(url.to_owned())
            .set_timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|err| DevstackError::SchemaRegistry {
                action: "configure client".to_owned(),
                url: url.to_owned(),
                reason: reason(&err),
            })?;
        Ok(Self {
            url: url.to_owned(),
            settings,
            by_id: HashMap::new(),
        })
    }

    /// Registers (or finds) the Avro `schema_json` under `subject`; returns its id.
    pub async fn register(&self, subject: &str, schema_json: &str) -> Result<u32, DevstackError> {
        let supplied = SuppliedSchema::new(None, SchemaType::Avro, schema_json.to_owned());
        let registered = post_schema(&self.settings, subject.to_owned(), supplied)
            .await
            .map_err(|err| DevstackError::SchemaRegistry {
                action: format!("register subject {subject}"),
                url: self.url.clone(),
                reason: reason(&err),
            })?;
        debug!(subject, id = registered.id, "schema registered");
        Ok(registered.id)
    }

    /// The Avro schema with `id`, from the cache or the registry; `Err` says why there is none.
    pub async fn schema(&mut self, id: u32) -> Result<Arc<Schema>, String> {
        if let Some(cached) = self.by_id.get(&id) {
            return cached.clone();
        }
        let fetched = match get_schema_by_id(id, &self.settings).await {
            Err(err) if err.retriable => return Err(format!("fetch schema id {id}: {}", reason(&err))),
            Err(err) => Err(format!("schema id {id} is not in the registry: {}", reason(&err))),
            Ok(registered) if registered.schema_type != SchemaType::Avro => {
                Err(format!("schema id {id} is not an AVRO schema"))
            }
            Ok(registered) => Schema::parse_str(&registered.schema)
                .map(Arc::new)
                .map_err(|err| format!("schema id {id} does not parse: {err}")),
        };
        if self.by_id.len() < MAX_CACHED_IDS {
            self.by_id.insert(id, fetched.clone());
        }
        fetched
    }
}
