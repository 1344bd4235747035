//! The Confluent wire format: magic byte `0`, a 4-byte big-endian schema id, then the Avro body.
//! Pure functions, so every malformed shape has a unit test.

/// First byte of every framed payload.
pub const MAGIC_BYTE: u8 = 0;
/// Magic byte plus schema id.
pub const HEADER_LEN: usize = 5;

/// Why a payload is not in the wire format. Each is poison: retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// No payload at all (a tombstone on an event topic).
    #[error("empty payload")]
    Empty,
    /// Shorter than the 5-byte header.
    #[error("payload of {0} bytes is shorter than the 5-byte header")]
    Truncated(usize),
    /// The first byte is not 0.
    #[error("wrong magic byte {0:#04x}, expected 0x00")]
    BadMagic(u8),
}

/// Splits a payload into its schema id and Avro body.
pub fn split(payload: &[u8]) -> Result<(u32, &[u8]), WireError> {
    match payload {
        [] => Err(WireError::Empty),
        [magic, ..] if *magic != MAGIC_BYTE => Err(WireError::BadMagic(*magic)),
        [_, a, b, c, d, body @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), body)),
        short => Err(WireError::Truncated(short.len())),
    }
}

/// Appends the 5-byte header for `schema_id` to `buf`.
pub fn write_header(buf: &mut Vec<u8>, schema_id: u32) {
    buf.push(MAGIC_BYTE);
    buf.extend_from_slice(&schema_id.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framed_payload_splits_into_id_and_body() {
        let mut buf = Vec::new();
        write_header(&mut buf, 0x0102_0304);
        buf.extend_from_slice(b"body");
        assert_eq!(split(&buf), Ok((0x0102_0304, &b"body"[..])));
    }

    #[test]
    fn malformed_payloads_say_what_is_wrong() {
        assert_eq!(split(&[]), Err(WireError::Empty));
        assert_eq!(split(&[7, 0, 0, 0, 1]), Err(WireError::BadMagic(7)));
        assert_eq!(split(&[0, 0, 1]), Err(WireError::Truncated(3)));
        assert_eq!(split(&[0, 0, 0, 0, 1]), Ok((1, &[][..])));
    }
}
