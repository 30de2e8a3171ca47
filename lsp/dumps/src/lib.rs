//! goblock-dumps: reads what people have when a service hangs and no
//! execution trace was recorded — goroutine dumps and pprof profiles.
//!
//! Pipeline stage 1 beside goblock-trace (decode → symbolize → attribute →
//! serve). Inputs and readers:
//!
//! | input | reader | output |
//! |---|---|---|
//! | goroutine dump text (debug=2, panic, `fatal error`, SIGQUIT, `go test -timeout`, `runtime.Stack`), Go 1.11–1.27 | [`dump::parse`] (ours, streaming) | [`Goroutine`]s with status, minutes, frames, creator; [`Snapshot`]s |
//! | goroutine / block / mutex profile, debug=1 text | [`profile_text::parse`] | records with counts (ticks → ns) and frames |
//! | pprof profile.proto (gzip'ed or raw): goroutine (debug=0), block, mutex; CPU, heap recognised | [`pprof::read`] (`prost` + `flate2`) | the message, its [`ProfileKind`], frames per sample |
//!
//! [`sniff`] recognises each by content. Wait reasons map onto goblock's
//! [`goblock_trace::Category`] in [`reasons`].
//!
//! This crate does not attribute frames to lines, group goroutines,
//! symbolize PCs or know about workspaces, reports or LSP: that is
//! goblock-analysis and later stages.

pub mod dump;
pub mod error;
pub mod header;
mod ids;
pub mod pprof;
pub mod profile_text;
pub mod reasons;
pub mod sniff;

pub use dump::{DumpFrame, DumpSink, DumpSummary, Goroutine, Snapshot, parse as parse_dump};
pub use error::{DumpError, ProfileError, Warning};
pub use pprof::{ProfileKind, ReadProfile, read as read_profile};
pub use sniff::{InputKind, describe, sniff};
