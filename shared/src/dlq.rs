//! Dead-letter records: the original key and value, untouched, with headers saying where the
//! message came from and why it could not be handled. Topic `<input>.dlq`.

/// Header names on every dead-letter record.
pub mod headers {
    /// Source topic.
    pub const TOPIC: &str = "dlq.original.topic";
    /// Source partition.
    pub const PARTITION: &str = "dlq.original.partition";
    /// Source offset.
    pub const OFFSET: &str = "dlq.original.offset";
    /// Source record timestamp, Unix ms.
    pub const TIMESTAMP: &str = "dlq.original.timestamp";
    /// Consumer group that gave up.
    pub const GROUP: &str = "dlq.consumer.group";
    /// Bounded error kind (`decode`, `unknown_schema`, `wrong_schema`, `invalid`, ...).
    pub const ERROR_KIND: &str = "dlq.error.kind";
    /// Human-readable error.
    pub const ERROR_MESSAGE: &str = "dlq.error.message";
    /// Attempts made, the first included.
    pub const ATTEMPTS: &str = "dlq.attempts";
}

/// The dead-letter topic of an input topic.
pub fn dlq_topic(input: &str) -> String {
    format!("{input}.dlq")
}

/// Where a dead-lettered message came from and why it failed.
#[derive(Debug, Clone)]
pub struct DeadLetter<'a> {
    /// Source topic.
    pub topic: &'a str,
    /// Source partition.
    pub partition: i32,
    /// Source offset.
    pub offset: i64,
    /// Source timestamp, Unix ms.
    pub timestamp_ms: i64,
    /// Consumer group.
    pub group: &'a str,
    /// Error kind label.
    pub error_kind: &'a str,
    /// Error message.
    pub error_message: &'a str,
    /// Attempts made.
    pub attempts: u32,
}

impl DeadLetter<'_> {
    /// The headers to attach, in a fixed order.
    pub fn headers(&self) -> [(&'static str, String); 8] {
        [
            (headers::TOPIC, self.topic.to_owned()),
            (headers::PARTITION, self.partition.to_string()),
            (headers::OFFSET, self.offset.to_string()),
            (headers::TIMESTAMP, self.timestamp_ms.to_string()),
            (headers::GROUP, self.group.to_owned()),
            (headers::ERROR_KIND, self.error_kind.to_owned()),
            (headers::ERROR_MESSAGE, self.error_message.to_owned()),
            (headers::ATTEMPTS, self.attempts.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letter_headers_carry_origin_and_reason() {
        let dl = DeadLetter {
            topic: "payments.payment-requested",
            partition: 2,
            offset: 1841,
            timestamp_ms: 1_700_000_000_000,
            group: "payments",
            error_kind: "unknown_schema",
            error_message: "schema id 7 not in the registry",
            attempts: 1,
        };
        let h = dl.headers();
        assert_eq!(h[0], (headers::TOPIC, "payments.payment-requested".to_owned()));
        assert_eq!(h[2], (headers::OFFSET, "1841".to_owned()));
        assert_eq!(h[5], (headers::ERROR_KIND, "unknown_schema".to_owned()));
        assert_eq!(h[7], (headers::ATTEMPTS, "1".to_owned()));
        assert_eq!(dlq_topic("a.b"), "a.b.dlq");
    }
}
