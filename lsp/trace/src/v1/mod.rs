//! Old-format decoder: traces written by Go 1.11–1.21 (headers `go 1.11`,
//! `go 1.19`, `go 1.21`; also Go 1.22 with `GOEXPERIMENT=noexectracer2`).
//!
//! Two passes over the input (normally a memory map), never holding the
//! events: pass 1 ([`index`]) walks the file once and notes where each P's
//! batches, the strings and the stack table are (the table and the tick
//! frequency are written at the end of the file); the stack table is then
//! interned ([`stacks`]); pass 2 merges the per-P streams in Go's causal
//! order, decoding one event per P at a time ([`order`]), and translates
//! the events into goroutine changes for the episode core ([`translate`],
//! `crate::episodes`, shared with the new format).
//! Memory is proportional to batches, stacks and live goroutines.
//!
//! Progress: pass 1 reports byte offsets from 0 to the end, pass 2 starts
//! over and reports the lowest offset any P still has to read — so progress
//! goes from 0 to the total twice. A consumer that releases memory-mapped
//! pages below `done` should reset when `done` goes back.
//!
//! Traces Go's own tools reject (user-facing rules: `docs/formats.md`): timestamps out of causal order are decoded with a warning;
//! traces whose events cannot be put in any consistent order are rejected
//! with [`DecodeError::Inconsistent`], unless the file is truncated, where
//! the events blocking the order are most likely lost and decoding goes on
//! with a warning. Formats before Go 1.11 are not supported (the header
//! parser rejects them).

pub mod event;
pub mod index;
pub mod order;
pub mod pipeline;
pub mod stacks;
pub mod translate;
pub mod wire;

use crate::header::HEADER_LEN;
use crate::{DecodeError, EpisodeSink, Header, Tables, TraceSummary, Warning};

pub use translate::Options as EpisodeOptions;

/// Options of [`decode_with`].
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Also produce episodes for syscalls that did not lose their P (the
    /// old format records only their start; the episode ends at the next
    /// event of the same P, an upper bound). Default true.
    pub nonblocking_syscalls: bool,
    /// Whether the merge runs on a helper thread. Default
    /// [`Threads::Auto`] (only for traces of 200 000 events or more).
    pub threads: Threads,
}

pub use crate::Threads;

impl Default for Options {
    fn default() -> Self {
        Options {
            nonblocking_syscalls: true,
            threads: Threads::Auto,
        }
    }
}

/// Tick frequency assumed when the trace lacks its `Frequency` event
/// (truncated before the footer): a 2.56 GHz TSC divided by 64, the amd64
/// runtime's tick divisor. Times are then only approximate.
pub const NOMINAL_FREQUENCY: u64 = 40_000_000;

/// Decodes an old-format trace with default [`Options`].
pub fn decode(
    bytes: &[u8],
    header: &Header,
    tables: &mut Tables,
    sink: &mut dyn EpisodeSink,
) -> Result<TraceSummary, DecodeError> {
    decode_with(bytes, header, tables, sink, Options::default())
}

/// Decodes an old-format trace.
pub fn decode_with(
    bytes: &[u8],
    header: &Header,
    tables: &mut Tables,
    sink: &mut dyn EpisodeSink,
    opts: Options,
) -> Result<TraceSummary, DecodeError> {
    let minor = header.minor;
    let total = bytes.len() as u64;
    let mut warnings = Vec::new();

    // Pass 1.
    let ix = index::build(bytes, HEADER_LEN, minor, sink)?;
    let frequency = match ix.frequency {
        Some(0) => {
            return Err(DecodeError::Inconsistent {
                what: "the trace's tick frequency is 0 (CPU clocks out of sync while tracing); \
                       times cannot be converted"
                    .into(),
            });
        }
        Some(f) if f > i64::MAX as u64 => {
            return Err(DecodeError::Inconsistent {
                what: format!(
                    "the trace's tick frequency {f} is negative (CPU clocks out of sync while \
                     tracing); times cannot be converted"
                ),
            });
        }
        Some(f) => f,
        None => NOMINAL_FREQUENCY,
    };
    // A cut file: one warning saying so, whatever else it causes below.
    if let Some(w) = cut_warning(&ix, total) {
        warnings.push(w);
    }
    if ix.frequency.is_some() && ix.stacks.is_empty() && ix.timed_events > 0 {
        warnings.push(Warning {
            offset: None,
            message: "the trace has no stack table: episodes have no stacks".into(),
        });
    }
    if ix.futile_wakeups > 0 {
        warnings.push(Warning {
            offset: None,
            message: format!(
                "{} FutileWakeup events ignored (Go's old tools drop the futile wake-up sequences)",
                ix.futile_wakeups
            ),
        });
    }

    let stack_map = stacks::resolve(bytes, &ix, tables);
    let (first, last) = match (ix.min_ts, ix.max_ts) {
        (Some(a), Some(b)) => (a, b),
        _ => (0, 0),
    };
    let clock = translate::Clock {
        first,
        ns_per_tick: 1e9 / frequency as f64,
    };

    // Pass 2.
    let lenient = ix.incomplete();
    let mut builder = translate::Builder::new(
        tables,
        &stack_map,
        clock,
        ix.streams.len(),
        translate::Options {
            nonblocking_syscalls: opts.nonblocking_syscalls,
            categories: sink.categories(),
        },
    );
    let threaded = match opts.threads {
        // The helper thread holds a few buffers of events, whatever the
        // trace: within any budget.
        Threads::Auto | Threads::Within(_) => ix.timed_events >= pipeline::THREAD_MIN_EVENTS,
        Threads::Never => false,
        Threads::Always => true,
    };
    let merger = pipeline::run(bytes, minor, &ix, lenient, threaded, &mut builder, sink)?;
    builder.finish(last, sink);
    let anomalies = builder.anomalies;
    drop(builder);

    // Events forced through (a cut trace) are applied late: times running
    // backwards after them are the cut, not the CPU clocks.
    if merger.out_of_order > 0 && merger.forced == 0 {
        warnings.push(Warning {
            offset: None,
            message: format!(
                "timestamps out of order: {} events are earlier than an event that must precede \
                 them (by up to {} ns; CPU clocks out of sync while tracing). Go's tools reject \
                 this trace (\"time stamps out of order\"); goblock decoded it, durations that \
                 came out negative are zero",
                merger.out_of_order,
                clock.ns(first.wrapping_add(merger.max_backwards))
            ),
        });
    }
    if merger.forced > 0 {
        warnings.push(Warning {
            offset: merger.first_forced.map(|o| o as u64),
            message: format!(
                "{} events wait for events cut off with the end of the trace; they were applied \
                 in time order, and episodes around them may be too short",
                merger.forced
            ),
        });
    }
    if anomalies.bad_sysexit_ts > 0 {
        warnings.push(Warning {
            offset: None,
            message: format!(
                "{} syscall exits carry a time before their syscall blocked; their emission time \
                 was used",
                anomalies.bad_sysexit_ts
            ),
        });
    }
    if anomalies.missing_stacks > 0 && !ix.stacks.is_empty() {
        warnings.push(Warning {
            offset: None,
            message: format!(
                "{} events reference stacks missing from the stack table, which is written \
                 last — truncated? They have no stack",
                anomalies.missing_stacks
            ),
        });
    }
    if sink.progress(total, total).is_break() {
        return Err(DecodeError::Cancelled);
    }
    Ok(TraceSummary {
        go_version: format!("1.{minor}"),
        bytes: total,
        events: merger.emitted,
        duration_ns: clock.ns(last),
        generations: 1,
        warnings,
    })
}

/// The warning of a trace whose end is missing (the process was killed, or
/// the file is being written): where it ends and what that costs.
fn cut_warning(ix: &index::Index, total: u64) -> Option<Warning> {
    let (offset, head) = match ix.truncated_at {
        Some(off) => (
            off as u64,
            format!("the trace ends mid-batch at byte {off} of {total} — truncated?"),
        ),
        None if ix.frequency.is_none() => (
            ix.end as u64,
            format!(
                "the trace ends at byte {} without its footer (tick frequency and stack table, \
                 written last) — truncated?",
                ix.end
            ),
        ),
        None => return None,
    };
    let cost = if ix.frequency.is_none() {
        format!(
            "The events before it are decoded, without stacks, and times assume \
             {NOMINAL_FREQUENCY} ticks/s (durations are approximate)."
        )
    } else {
        "The events before it are decoded.".to_string()
    };
    Some(Warning {
        offset: Some(offset),
        message: format!("{head} {cost}"),
    })
}
