//! Goroutine dumps and pprof goroutine/block/mutex profiles in the server,
//! beside traces: which files of the workspace to load ([`discover`]),
//! loading one ([`load`], called by the loader for inputs sniffed as a dump
//! or profile), their per-line models merged into the annotations
//! ([`lines`]), what the status says about them ([`status`]) and every
//! goroutine parked at a line ([`goroutines`], `goblock.goroutines`). The text
//! of their diagnostics, hints and hovers is `render::dumps`'s.
//!
//! Dumps and profiles go through the same plan → load one → commit steps
//! as traces (`crate::load`), the same anchoring and staleness rules
//! (`crate::stale`) and the same publishing. Knows no LSP types.

pub mod discover;
pub mod goroutines;
pub mod lines;
pub mod load;
pub mod status;
