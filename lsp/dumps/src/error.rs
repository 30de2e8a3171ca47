//! Errors and warnings of the dump and profile readers. They name the byte
//! offset where it helps; the file is named by the caller (the analysis).

use std::fmt;

/// A non-fatal problem, at a byte offset of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Byte offset in the input.
    pub offset: u64,
    /// What happened, one line.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}: {}", self.offset, self.message)
    }
}

/// A goroutine dump that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// Nothing in the input is a goroutine.
    #[error("not a goroutine dump: no `goroutine N [status]:` header in it ({looks_like})")]
    NoGoroutines {
        /// What the input looks like instead.
        looks_like: String,
    },
    /// Cancelled by the sink.
    #[error("cancelled")]
    Cancelled,
}

/// A pprof profile (proto or text) that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The gzip stream is corrupt or cut.
    #[error("gzip stream unreadable after {offset} decompressed bytes: {source}")]
    Gzip {
        /// Decompressed bytes read before the error.
        offset: u64,
        /// Cause.
        source: std::io::Error,
    },
    /// The decompressed profile is larger than we accept.
    #[error("the decompressed profile exceeds {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Not a profile.proto message.
    #[error("not a pprof profile: {0}")]
    Proto(#[from] prost::DecodeError),
    /// A profile.proto that breaks its own rules (dangling ids, bad string indexes).
    #[error("invalid pprof profile: {0}")]
    Invalid(String),
    /// A text profile line that cannot be read.
    #[error("offset {offset}: {message}")]
    Text {
        /// Byte offset.
        offset: u64,
        /// What is wrong.
        message: String,
    },
}
