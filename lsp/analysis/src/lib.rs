//! goblock-analysis: attributes blocking episodes to source lines and keeps
//! per-line statistics (count, total, quantiles, wakers, parked goroutines).
//!
//! Pipeline stage 3 (decode → symbolize → **attribute/aggregate** → serve):
//! * [`stack_stats`] folds the decoder's episodes per stack as they stream;
//! * [`paths`] maps recorded frames onto files of this machine, with
//!   [`gomod`] (the workspace's modules) and [`source`] (what a source
//!   file declares);
//! * [`attribute`] picks the flat and cum frames of each stack;
//! * [`lines`] builds mergeable per-line statistics;
//! * [`input`] opens an input file (file type, size limit, sniffing, map;
//!   a private copy, made in the background by `arrival` for the server);
//! * [`load`] runs the whole pipeline for one trace file, its pages
//!   released behind the decoder and asked for ahead of it (`paging`);
//! * [`dumps`] does the same for goroutine dumps ("parked now" per line),
//!   [`profiles`] for pprof goroutine/block/mutex profiles.
//! * [`units`] writes durations, counts and shares for people, the one
//!   format every surface shows.
//!
//! Nothing here knows LSP types or output formats.

mod arrival;
pub mod attribute;
pub mod dumps;
pub mod gomod;
pub mod histogram;
pub mod input;
pub mod lines;
pub mod load;
pub mod map_fault;
mod paging;
pub mod paths;
pub mod profiles;
pub mod source;
pub mod stack_stats;
pub mod units;

pub use attribute::Site;
pub use lines::{LineKey, LineStats, LineTable, Parked, Totals, WakerShare};
pub use load::{
    AnalysisError, BinaryChoice, Options, Stage, Symbolization, TraceAnalysis, analyze_bytes,
    analyze_file, analyze_input,
};
pub use paths::{CodeClass, Place, Substitution, Unmapped, Workspace};
