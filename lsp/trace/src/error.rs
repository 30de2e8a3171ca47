//! Decoder errors and warnings, with the context a user needs to act on them
//! (byte offset, event, generation). Does not format for any UI.

use std::fmt;

/// A fatal decoding error: nothing (more) can be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The input is not a Go execution trace; says what it looks like.
    #[error("not a Go execution trace: {looks_like}")]
    NotATrace {
        /// A human description ("an empty file", "a gzip-compressed pprof profile", …).
        looks_like: String,
    },
    /// A Go execution trace of a version this decoder does not know.
    #[error("unsupported Go trace version {version:?} (goblock reads go 1.11 to go 1.27 traces)")]
    UnsupportedVersion {
        /// The version as written in the header, e.g. "go 1.10".
        version: String,
    },
    /// Structurally invalid data.
    #[error("corrupt trace at byte {offset}: {what}")]
    Corrupt {
        /// Byte offset in the file.
        offset: u64,
        /// What was wrong, naming the event or batch.
        what: String,
    },
    /// The events cannot be put in a consistent order (as Go's own reader would reject).
    #[error("inconsistent trace: {what}")]
    Inconsistent {
        /// Explanation.
        what: String,
    },
    /// The consumer asked to stop (cancellation).
    #[error("decoding cancelled")]
    Cancelled,
}

/// A non-fatal problem: decoding went on, the data around it may be incomplete.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Warning {
    /// Byte offset the problem was found at, when meaningful.
    pub offset: Option<u64>,
    /// Explanation.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            // Said once: messages that name their offset already keep it.
            Some(o) if !self.message.contains(&format!("byte {o}")) => {
                write!(f, "{} (at byte {o})", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}
