//! Placeholder while the v2 decoder is being written: reports the format as
//! unsupported, never panics.

use crate::{DecodeError, EpisodeSink, Header, Tables, TraceSummary};

/// Decodes a v2 trace (not yet implemented).
pub fn decode(
    _bytes: &[u8],
    header: &Header,
    _tables: &mut Tables,
    _sink: &mut dyn EpisodeSink,
) -> Result<TraceSummary, DecodeError> {
    Err(DecodeError::UnsupportedVersion {
        version: format!("go 1.{}", header.minor),
    })
}
