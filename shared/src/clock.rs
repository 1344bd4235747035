//! Wall-clock time as Unix milliseconds, the unit of Kafka record timestamps. Handlers use the
//! input record's timestamp instead wherever a replay must produce the same bytes.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, Unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
