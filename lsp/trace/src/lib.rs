//! goblock-trace: decodes Go execution traces (every format from Go 1.11 to
//! the newest) into a stream of waiting [`Episode`]s.
//!
//! Pipeline stage 1 of goblock (decode → symbolize → attribute → serve).
//! Input: the bytes of a trace file (usually a memory map). Output: episodes
//! pushed to an [`EpisodeSink`] as they complete, frames/stacks interned in
//! [`Tables`], and a [`TraceSummary`]. This crate knows nothing of binaries,
//! DWARF, workspaces, source files or LSP.
//!
//! | module | does | does not |
//! |---|---|---|
//! | [`header`] | reads the 16-byte header: version, format family, what non-trace input looks like | read past the header |
//! | `episodes` (the core) | one per-goroutine state machine for both formats: goroutine changes in Go's model (`GoState` transitions) → [`Episode`]s; categories, which reach the sink, the episodes open at the end; in the order the front ends hand changes over, on the caller's thread (on a worker's for a generation decoded in parallel) | read bytes, order events, resolve ids, use threads |
//! | [`v1`] (Go 1.11–1.21) | two passes over the file: index (batches per P, strings, stack table at the end), Go's causal merge of the P streams, translation of old events into the core's goroutine changes, as Go's reader converts old traces ([`v1`]'s README); on large traces a pipeline (`v1/pipeline.rs`): the merge on a helper thread, translation and episodes on the caller's (one trace is one causal order: it cannot be cut into independent parts; the thread pays, `docs/performance.md`, "The old format's helper thread") | hold the events in memory; decide what opens or closes an episode |
//! | [`v2`] (Go 1.22+) | generation by generation (each once its bytes have arrived, [`Arriving`]): batch framing, per-generation tables, Go's reader order (`order.rs` ports Go's `order.go` handler by handler), transitions translated into the core's changes (`translate.rs`); on large traces and 2 cores or more, generations are ordered and turned into episodes in parallel on worker threads, each later one from scratch, and stitched in file order on the caller's thread after checking the state each assumed against the state the previous one ended in; only episodes (or, for a sink that folds in [`Parts`], the parts the workers folded them into), table entries and each old goroutine's first changes cross threads (`parallel.rs`, `order/stitch.rs`; a failed check decodes the rest on one thread) | reorder Go's order; decide what opens or closes an episode; use threads in Go-reader time mode |
//! | [`model`] | the output: [`Episode`], interned [`Tables`] of strings, frames and stacks, [`Category`] | decode anything |
//! | [`varint`], `gtable`, [`fxhash`] | LEB128 varints (every reader of the crate, incl. the hot loops' fixed-window variant); per-goroutine state tables; the shared hasher | know what a value means |
//! | [`error`] | [`DecodeError`] (one line, with offset and event) and [`Warning`] | format for a UI |
//!
//! ```no_run
//! # fn main() -> Result<(), goblock_trace::DecodeError> {
//! let bytes = std::fs::read("trace.out").unwrap();
//! let mut tables = goblock_trace::Tables::new();
//! let mut episodes = Vec::new();
//! let summary = goblock_trace::decode(&bytes, &mut tables, &mut |ep: &goblock_trace::Episode, _: &goblock_trace::Tables| {
//!     episodes.push(*ep);
//! })?;
//! println!("go {} trace, {} episodes", summary.go_version, episodes.len());
//! # Ok(()) }
//! ```

mod episodes;
pub mod error;
pub mod fxhash;
mod gtable;
pub mod header;
pub mod model;
pub mod v1;
pub mod v2;
pub mod varint;

pub use error::{DecodeError, Warning};
pub use header::{Format, Header};
pub use model::{Categories, Category, Episode, Frame, FrameId, StackId, Sym, Tables, Waker};

use std::ops::ControlFlow;

/// Whether a decoder uses more threads (the results are identical): the
/// old-format decoder a helper thread for its merge, the new-format one
/// worker threads ordering generations in parallel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Threads {
    /// For large traces only.
    #[default]
    Auto,
    /// Always on the caller's thread.
    Never,
    /// Always with helper threads (when they can be started).
    Always,
    /// As [`Threads::Auto`], but the new-format decoder uses worker threads
    /// only when the most memory they may hold ([`v2::window_bytes`]) is at
    /// most this many bytes (the language server passes a share of the
    /// trace's size, its memory budget).
    Within(u64),
}

/// Input whose bytes are still arriving: the slice the decoder gets has its
/// final length, but only a prefix holds the file's bytes yet (a private
/// copy being made while the decoder starts). The decoder reads no byte
/// past what [`Arriving::ready`] says, so it decodes what has arrived while
/// the rest comes, and its results are those of the whole input.
pub trait Arriving: Send + Sync + std::fmt::Debug {
    /// How many bytes from the start have arrived; `None` when the rest
    /// never will (the copy failed): decoding then stops with
    /// [`DecodeError::Cancelled`] and the caller says why.
    fn ready(&self) -> Option<usize>;
    /// Waits until more than `n` bytes have arrived, or all of them, and
    /// returns how many have (as [`Arriving::ready`]).
    fn wait_beyond(&self, n: usize) -> Option<usize>;
}

/// Receives episodes as the decoder completes them (not in time order:
/// generation by generation, and within one, in the order they close).
pub trait EpisodeSink {
    /// One finished episode. `tables` resolves its stacks and strings.
    fn episode(&mut self, ep: &Episode, tables: &Tables);

    /// The categories of the episodes this sink wants, asked once when
    /// decoding starts: episodes of the others are not built nor passed to
    /// [`EpisodeSink::episode`] (the goroutines' states are tracked all the
    /// same, so the wanted episodes do not change).
    fn categories(&self) -> Categories {
        Categories::ALL
    }

    /// Progress: `done` of `total` input bytes consumed. Return
    /// `ControlFlow::Break(())` to cancel decoding ([`DecodeError::Cancelled`]).
    fn progress(&mut self, _done: u64, _total: u64) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// `Some` when what this sink computes does not depend on the order of
    /// its episodes, so that parts of them may be folded on the decoder's
    /// worker threads ([`Parts`]); `None` (the default): every episode
    /// reaches [`EpisodeSink::episode`], in the decoder's order.
    fn parts(&mut self) -> Option<&mut dyn Parts> {
        None
    }
}

/// A sink's folding in parts: a worker thread folds the episodes it builds
/// into a [`Part`] (with its own string and stack ids), and the sink joins
/// the parts on the caller's thread, in file order. What the sink computes
/// must not depend on the order of its episodes (counts, sums, maxima,
/// sets, a top-K under a total order), for its result to be the one of the
/// whole sequence.
pub trait Parts {
    /// An empty part (the decoder makes new ones from it on any thread).
    fn part(&self) -> Box<dyn Part>;
    /// Folds `part` in, mapping its ids to the sink's tables' with `ids`,
    /// and leaves it empty (the decoder reuses it).
    fn join(&mut self, part: &mut dyn Part, ids: &dyn Ids);
}

/// Episodes folded on a worker thread ([`Parts`]); its episodes' ids are
/// the worker's tables', its times the trace's as for the sink. An
/// episode without a creator may have one that only the caller's thread
/// knows (a goroutine created in an earlier generation): [`Ids::creator`]
/// tells at the join.
pub trait Part: EpisodeSink + Send + std::any::Any {
    /// Another empty part of the same kind.
    fn empty(&self) -> Box<dyn Part>;
    /// For [`Parts::join`] to reach its own kind of part.
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
    /// About how much memory it holds, bytes: the decoder sends a part on
    /// once it holds as much as a chunk of episodes handed over one by one
    /// would, so that what a worker holds ahead of the caller's thread is
    /// bounded whatever the part keeps per episode. May take time linear
    /// in its size (asked every thousand episodes or so).
    fn bytes(&self) -> usize;
}

/// A worker's string and stack ids → the sink's ([`Parts::join`]).
pub trait Ids {
    /// The sink's id of the worker's stack `s`.
    fn stack(&self, s: StackId) -> StackId;
    /// The sink's id of the worker's string `s`.
    fn sym(&self, s: Sym) -> Sym;
    /// Where goroutine `g` was created, as the caller's thread knows it
    /// (for the part's episodes without a creator; the same for all of a
    /// goroutine's episodes).
    fn creator(&self, g: u64) -> Option<StackId>;
}

impl<F: FnMut(&Episode, &Tables)> EpisodeSink for F {
    fn episode(&mut self, ep: &Episode, tables: &Tables) {
        self(ep, tables)
    }
}

/// What the decoder learned about the trace as a whole.
#[derive(Clone, Debug, Default)]
pub struct TraceSummary {
    /// The version in the header, e.g. "1.23" (a Go 1.24 runtime writes "1.23").
    pub go_version: String,
    /// Input size in bytes.
    pub bytes: u64,
    /// Number of timed events decoded.
    pub events: u64,
    /// Time between the first and the last event, ns.
    pub duration_ns: u64,
    /// Number of generations (new format) or 1 (old format).
    pub generations: u64,
    /// Non-fatal problems (truncation, skipped unknown batches, …).
    pub warnings: Vec<Warning>,
}

/// Whether `head`, the first bytes of a trace file, holds events the decoder
/// would turn into episodes: for the new format (Go 1.22+), which decodes a
/// generation only whole, a complete generation
/// ([`v2::holds_a_generation`]); for the old format, which decodes up to a
/// cut, any valid header. Not a validation: the events are not read.
pub fn head_is_decodable(head: &[u8]) -> bool {
    match header::parse(head) {
        Ok(h) if h.format == Format::V2 => v2::holds_a_generation(head, h.minor),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// Decodes a whole trace, pushing every episode into `sink`.
///
/// Truncated input yields everything decodable plus a warning; corrupt input
/// an error naming the offset; never a panic.
pub fn decode(
    bytes: &[u8],
    tables: &mut Tables,
    sink: &mut dyn EpisodeSink,
) -> Result<TraceSummary, DecodeError> {
    decode_threads(bytes, tables, sink, Threads::Auto)
}

/// [`decode`] on the threads `threads` says (the results are the same).
pub fn decode_threads(
    bytes: &[u8],
    tables: &mut Tables,
    sink: &mut dyn EpisodeSink,
    threads: Threads,
) -> Result<TraceSummary, DecodeError> {
    decode_arriving(bytes, tables, sink, threads, None)
}

/// [`decode_threads`] of input that may still be arriving ([`Arriving`]):
/// a new-format trace is decoded generation by generation as its bytes
/// arrive; an old-format one, which the decoder reads twice, once all
/// have.
pub fn decode_arriving(
    bytes: &[u8],
    tables: &mut Tables,
    sink: &mut dyn EpisodeSink,
    threads: Threads,
    arriving: Option<std::sync::Arc<dyn Arriving>>,
) -> Result<TraceSummary, DecodeError> {
    if let Some(a) = &arriving {
        wait_for(a.as_ref(), header::HEADER_LEN, bytes.len())?;
    }
    let header = header::parse(bytes)?;
    match header.format {
        Format::V1 => {
            if let Some(a) = &arriving {
                wait_for(a.as_ref(), bytes.len(), bytes.len())?;
            }
            let options = v1::Options {
                threads,
                ..v1::Options::default()
            };
            v1::decode_with(bytes, &header, tables, sink, options)
        }
        Format::V2 => {
            let options = v2::Options {
                threads,
                arriving,
                ..v2::Options::default()
            };
            v2::decode_with(bytes, &header, tables, sink, &options)
        }
    }
}

/// Waits until `need` bytes (at most `len`) have arrived.
fn wait_for(a: &dyn Arriving, need: usize, len: usize) -> Result<(), DecodeError> {
    let need = need.min(len);
    let mut ready = a.ready().ok_or(DecodeError::Cancelled)?;
    while ready < need {
        ready = a.wait_beyond(ready).ok_or(DecodeError::Cancelled)?;
    }
    Ok(())
}
