//! The local stack's connection settings, read from the environment that `devstack exec` (which
//! `make test` uses) provides. A test run without them fails with instructions — it never skips.

use std::path::PathBuf;

/// Connection settings of the running local stack.
#[derive(Debug, Clone)]
pub struct StackEnv {
    /// TLS bootstrap address.
    pub bootstrap: String,
    /// SCRAM-SHA-512 user.
    pub username: String,
    /// Its password file.
    pub password_file: PathBuf,
    /// A SCRAM-SHA-256 user.
    pub scram256_username: String,
    /// Its password file.
    pub scram256_password_file: PathBuf,
    /// CA of the TLS terminator.
    pub ca_file: PathBuf,
    /// Schema registry URL.
    pub registry_url: String,
    /// The stack's state directory.
    pub stack_dir: PathBuf,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: integration tests run against the local stack. \
             Run `make test`, or `cargo run -p devstack -- exec -- cargo test` to start one for this run."
        )
    })
}

impl StackEnv {
    /// Reads the settings; panics with instructions when the stack is not running.
    pub fn get() -> Self {
        Self {
            bootstrap: var("KAFKA_BOOTSTRAP_SERVERS"),
            username: var("KAFKA_USERNAME"),
            password_file: var("KAFKA_PASSWORD_FILE").into(),
            scram256_username: var("PAYSTREAM_SCRAM256_USERNAME"),
            scram256_password_file: var("PAYSTREAM_SCRAM256_PASSWORD_FILE").into(),
            ca_file: var("KAFKA_CA_FILE").into(),
            registry_url: var("SCHEMA_REGISTRY_URL"),
            stack_dir: var("PAYSTREAM_STACK_DIR").into(),
        }
    }

    /// librdkafka settings for a test client over SASL_SSL with SCRAM-SHA-512.
    pub fn client_config(&self) -> rdkafka::ClientConfig {
        let password = std::fs::read_to_string(&self.password_file).expect("read the stack's password file");
        let mut c = rdkafka::ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("security.protocol", "SASL_SSL")
            .set("sasl.mechanism", "SCRAM-SHA-512")
            .set("sasl.username", &self.username)
            .set("sasl.password", password.trim_end())
            .set("ssl.ca.location", self.ca_file.to_string_lossy())
            // The broker answers fetches with whole partitions; do not stall between them.
            .set("fetch.queue.backoff.ms", "10");
        c
    }

    /// Environment for a worker process connecting to this stack.
    pub fn worker_env(&self) -> Vec<(String, String)> {
        vec![
            ("KAFKA_BOOTSTRAP_SERVERS".into(), self.bootstrap.clone()),
            ("KAFKA_SECURITY_PROTOCOL".into(), "SASL_SSL".into()),
            ("KAFKA_SASL_MECHANISM".into(), "SCRAM-SHA-512".into()),
            ("KAFKA_USERNAME".into(), self.username.clone()),
            (
                "KAFKA_PASSWORD_FILE".into(),
                self.password_file.to_string_lossy().into_owned(),
            ),
            ("KAFKA_CA_FILE".into(), self.ca_file.to_string_lossy().into_owned()),
            ("SCHEMA_REGISTRY_URL".into(), self.registry_url.clone()),
            ("KAFKA_CREATE_TOPICS".into(), "true".into()),
            ("KAFKA_TOPIC_REPLICATION_FACTOR".into(), "1".into()),
            // A group join on the local broker waits a fraction of this: keep tests quick.
            ("KAFKA_MAX_POLL_INTERVAL_MS".into(), "10000".into()),
            ("HTTP_BIND".into(), "127.0.0.1:0".into()),
            ("SHUTDOWN_GRACE_SECONDS".into(), "10".into()),
            ("LOG_LEVEL".into(), "info".into()),
        ]
    }
}
