//! Consumer lag, computed by the worker: the high watermark seen in fetch responses (reported by
//! librdkafka statistics) minus the committed offset. ListOffsets is deliberately not used: the
//! local broker answers it wrongly after multi-record batches.

/// librdkafka's "no offset" sentinel.
pub const OFFSET_INVALID: i64 = -1001;

/// Lag of one partition, or `None` when the watermark is not known yet.
///
/// Without a committed offset everything from the low watermark on is lag.
pub fn partition_lag(high_watermark: i64, committed: i64, low_watermark: i64) -> Option<i64> {
    if high_watermark < 0 {
        return None;
    }
    let from = if committed >= 0 {
        committed
    } else if low_watermark >= 0 {
        low_watermark
    } else {
        0
    };
    Some((high_watermark - from).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_high_watermark_minus_committed() {
        assert_eq!(partition_lag(120, 100, 0), Some(20));
        assert_eq!(partition_lag(100, 100, 0), Some(0));
    }

    #[test]
    fn without_a_commit_lag_counts_from_the_low_watermark() {
        assert_eq!(partition_lag(50, OFFSET_INVALID, 10), Some(40));
        assert_eq!(partition_lag(50, OFFSET_INVALID, OFFSET_INVALID), Some(50));
    }

    #[test]
    fn an_unknown_watermark_gives_no_figure_and_lag_is_never_negative() {
        assert_eq!(partition_lag(OFFSET_INVALID, 5, 0), None);
        assert_eq!(partition_lag(5, 9, 0), Some(0));
    }
}
