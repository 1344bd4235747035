//! [`AvroEvent`]: a Rust type bound to one of the schemas in `shared/schemas/`. The schema is
//! parsed once per process; the type's serde shape must match it field for field.

use apache_avro::Schema;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A type with a fixed Avro reader/writer schema.
pub trait AvroEvent: Serialize + DeserializeOwned {
    /// The schema text (an `.avsc` file).
    const SCHEMA_JSON: &'static str;
    /// The parsed schema, cached for the life of the process.
    fn schema() -> &'static Schema;
}

/// Binds a type to a schema file under `shared/schemas/`.
#[macro_export]
macro_rules! avro_event {
    ($ty:ty, $file:literal) => {
        impl $crate::codec::AvroEvent for $ty {
            const SCHEMA_JSON: &'static str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/", $file));
            fn schema() -> &'static ::apache_avro::Schema {
                static SCHEMA: ::std::sync::OnceLock<::apache_avro::Schema> = ::std::sync::OnceLock::new();
                SCHEMA.get_or_init(|| {
                    ::apache_avro::Schema::parse_str(Self::SCHEMA_JSON).expect(concat!(
                        "shared/schemas/",
                        $file,
                        " is valid Avro (checked by a unit test)"
                    ))
                })
            }
        }
    };
}
