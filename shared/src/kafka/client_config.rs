//! librdkafka configuration for every client the runtime creates. Each setting says why it is set.

use rdkafka::ClientConfig;

use crate::config::{KafkaConfig, read_secret_file};
use crate::error::RuntimeError;

/// Connection and security settings common to every client.
pub fn base(kafka: &KafkaConfig, client_id: &str) -> Result<ClientConfig, RuntimeError> {
    let mut c = ClientConfig::new();
    // Where to find the cluster.
    c.set("bootstrap.servers", &kafka.bootstrap_servers);
    // Names the client in broker logs and quotas.
    c.set("client.id", client_id);
    // A metadata lookup must never create a topic with broker defaults (librdkafka's default is
    // true for producer-type handles, which the admin client is); topics are created explicitly.
    c.set("allow.auto.create.topics", "false");
    // Encryption and authentication as configured; PLAINTEXT only passes validation with the dev override.
    c.set("security.protocol", kafka.security_protocol.as_librdkafka());
    if kafka.security_protocol.uses_sasl() {
        // SCRAM by default: the password never crosses the wire.
        c.set("sasl.mechanism", kafka.sasl_mechanism.as_librdkafka());
        if let Some(user) = &kafka.username {
            // SASL identity.
            c.set("sasl.username", user);
        }
        if let Some(path) = &kafka.password_file {
            // Read from the mounted secret at startup; never logged.
            c.set("sasl.password", read_secret_file("kafka password", path)?);
        }
    }
    if kafka.security_protocol.uses_tls() {
        if let Some(ca) = &kafka.ca_file {
            // Trust only the CA that signed the brokers (system roots otherwise).
            c.set("ssl.ca.location", ca.to_string_lossy());
        }
        if let (Some(cert), Some(key)) = (&kafka.client_cert_file, &kafka.client_key_file) {
            // mTLS client identity.
            c.set("ssl.certificate.location", cert.to_string_lossy());
            // Private key of the client certificate.
            c.set("ssl.key.location", key.to_string_lossy());
        }
        // Verify the broker's hostname against its certificate (librdkafka default, stated explicitly).
        c.set("ssl.endpoint.identification.algorithm", "https");
    }
    Ok(c)
}

/// The group consumer of a worker.
pub fn consumer(kafka: &KafkaConfig, group: &str, client_id: &str) -> Result<ClientConfig, RuntimeError> {
    let mut c = base(kafka, client_id)?;
    // The worker's consumer group.
    c.set("group.id", group);
    if let Some(instance) = kafka.group_instance_id.as_deref().filter(|s| !s.is_empty()) {
        // Static membership: a restarted pod gets its partitions back without a rebalance.
        c.set("group.instance.id", instance);
    }
    // Incremental rebalances: partitions that stay put keep processing during a rebalance.
    c.set("partition.assignment.strategy", "cooperative-sticky");
    // Offsets are stored by the runtime only after every output of a message is acknowledged.
    c.set("enable.auto.offset.store", "false");
    // Stored offsets are committed in the background; revocation and shutdown commit synchronously.
    c.set("enable.auto.commit", "true");
    // Bounds how much is re-processed after a crash.
    c.set("auto.commit.interval.ms", "1000");
    // A new group starts at the beginning: no request is skipped.
    c.set("auto.offset.reset", "earliest");
    // How long processing may go between polls; also bounds a group join on the local broker.
    c.set("max.poll.interval.ms", kafka.max_poll_interval_ms.to_string());
    // Must stay below max.poll.interval.ms.
    c.set("session.timeout.ms", kafka.max_poll_interval_ms.min(45_000).to_string());
    // Only read committed data when a producer uses transactions.
    c.set("isolation.level", "read_committed");
    // The broker answers fetches with whole partitions; the default 1 s backoff would stall a busy consumer.
    c.set("fetch.queue.backoff.ms", "10");
    // Statistics carry the fetch-time high watermark we compute lag from (ListOffsets is not trusted).
    c.set("statistics.interval.ms", "5000");
    Ok(c)
}

/// The idempotent producer of a worker.
pub fn producer(kafka: &KafkaConfig, client_id: &str) -> Result<ClientConfig, RuntimeError> {
    let mut c = base(kafka, client_id)?;
    // No duplicates or reordering from producer retries.
    c.set("enable.idempotence", "true");
    // A write counts only once every in-sync replica has it.
    c.set("acks", "all");
    // Batch for throughput; 5 ms adds little latency to a payment.
    c.set("linger.ms", "5");
    // Java-compatible key hashing, so other clients agree on a key's partition.
    c.set("partitioner", "murmur2_random");
    // Smaller on the wire; lz4 is cheap on CPU.
    c.set("compression.type", "lz4");
    // Keep retrying a delivery for up to 5 minutes before reporting failure (then the runtime resends).
    c.set("message.timeout.ms", "300000");
    Ok(c)
}

/// A client used only to read a changelog partition during restore.
pub fn restore(kafka: &KafkaConfig, group: &str, client_id: &str) -> Result<ClientConfig, RuntimeError> {
    let mut c = base(kafka, client_id)?;
    // Required by librdkafka for a consumer; this client never joins the group or commits.
    c.set("group.id", format!("{group}.restore"));
    // The broker answers fetches with whole partitions; do not wait a second between them.
    c.set("fetch.queue.backoff.ms", "10");
    // Only read committed data when a producer uses transactions.
    c.set("isolation.level", "read_committed");
    // socket.timeout.ms stays at librdkafka's 60 s on purpose: a loaded broker can take over 20 s
    // to answer a changelog fetch, and a client that gives up sooner re-sends the same fetch
    // forever (measured on the local broker: seven 20 s timeouts in a row, restore never done).
    Ok(c)
}
