//! Decoder for the new trace format (Go 1.22+, headers `go 1.22`, `go 1.23`,
//! `go 1.25`, `go 1.26`; Go 1.24 writes `go 1.23`, Go 1.27 writes `go 1.26`).
//!
//! Each generation is split (`batch.rs`), its tables built (`tables.rs`),
//! its events put in Go's reader order and validated by the scheduler state
//! machine (`merge.rs`, `order.rs`, spec in `events.rs`), and goroutine
//! transitions translated for the episode core (`translate.rs`,
//! `crate::episodes`). On one thread each transition is applied as it is
//! ordered. On a trace of [`THREAD_MIN_BYTES`] or more, with
//! [`PARALLEL_MIN_CORES`] cores ([`Options::threads`]), generations are
//! ordered and turned into episodes in parallel on worker threads — every
//! later one from scratch, recording what it assumed of the state the
//! previous one ended in (`order/stitch.rs`) — and the caller's thread
//! checks those assumptions, closes the episodes open across each boundary
//! and hands everything to the sink in file order (`parallel.rs`), with
//! identical results; a failed check decodes the rest on one thread
//! ([`Stats::stitch_fallback`]). Memory holds a few
//! generations' tables and batch index (never their events: they are
//! decoded in place from the input), a bounded number of chunks of
//! transitions, and per-goroutine/P/M state; it does not grow with the
//! number of events.
//!
//! **Fidelity**: the ordering is a port of Go's reader (Go 1.26 = 1.27
//! `internal/trace`), so a trace decodes, or fails, exactly where Go's does.
//! Episode times are the raw timestamps converted like Go does (per-delta
//! float conversion with the generation's frequency); [`Options`] can instead
//! reproduce the strictly increasing times Go's reader hands out, which
//! `go tool trace` uses. A `go 1.27` header (written by no Go release) is
//! decoded as 1.26 with a warning. [`decode_detailed`] also returns
//! [`Stats`] (CPU samples and experimental batches are counted, not decoded).
//!
//! **Progress contract**: `sink.progress(done, total)` is called after each
//! generation (and inside a large one every ~500 000 transitions, or every
//! 2²⁰ events on one thread), always on the caller's thread; `done` never
//! exceeds the start of data still needed, so callers may release input
//! pages before `done` (after a stitch falls back, the input is read again
//! from its start: a memory map faults released pages back in). A `Break`
//! stops decoding (every worker thread too) with
//! [`DecodeError::Cancelled`].
//!
//! **Bad input**: a file cut inside a generation (a 1.26+ generation without
//! its end marker, a batch cut short, or — before 1.26, where generations have
//! no end marker — a last generation missing its frequency / clock snapshot
//! or stack/string table entries its events use) loses that whole last
//! generation; everything before it is decoded and a [`Warning`] gives the
//! offset. Anything else malformed is a [`DecodeError::Corrupt`] (offset and
//! event/batch named) or, when the events cannot be ordered the way Go's
//! reader requires, [`DecodeError::Inconsistent`]. Nothing input-derived
//! is indexed unchecked or sizes an allocation beyond the format's limits.

mod batch;
mod events;
mod merge;
mod order;
mod parallel;
mod tables;
mod translate;

use crate::episodes::Slot;
use crate::fxhash::FxHashMap;
use crate::header::HEADER_LEN;
use crate::varint::read_uvarint;
use crate::{Arriving, DecodeError, EpisodeSink, Header, Tables, Threads, TraceSummary, Warning};
use batch::{GenBatches, GenEnd, Splitter};
use events::ev;
use merge::{GenInput, MBatches, Merger};
use order::{GenCtx, Ordering};
pub use parallel::window_bytes;
use parallel::{Back, Channel, GenDone, Msg, Out, WSlot};
use std::sync::Arc;
use tables::GenTables;

/// Decodes a v2 trace (header already parsed).
pub fn decode(
    bytes: &[u8],
    header: &Header,
    tables: &mut Tables,
    sink: &mut dyn EpisodeSink,
) -> Result<TraceSummary, DecodeError> {
    decode_with(bytes, header, tables, sink, &Options::default())
}

/// Decoding options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Give episodes the times Go's reader (`internal/trace`, what `go tool
    /// trace` shows) would give their events instead of the raw timestamps:
    /// Go's reader makes times strictly increasing along the order it puts
    /// events in (`t <= last` becomes `last + 1 ns`), which moves events
    /// that had to wait for an event of another M stamped later (e.g. a
    /// `GoSyscallEndBlocked` waits for the `ProcSteal` of its P) and events
    /// at the start of a generation that are earlier than the end of the
    /// previous one. For reproducing `go tool trace` numbers exactly (tests);
    /// the default raw times are the better measurement.
    pub go_reader_times: bool,
    /// Whether generations are ordered and turned into episodes on worker
    /// threads while the sink is called on the caller's, with identical
    /// results: [`Threads::Auto`] does so for traces of [`THREAD_MIN_BYTES`]
    /// or more when this process may run on [`PARALLEL_MIN_CORES`] cores or
    /// more, with one worker per core but the caller's and at least two;
    /// [`Threads::Within`] also only when [`window_bytes`] fits its budget;
    /// [`Threads::Always`] whatever the size and the cores. Not in Go-reader time mode
    /// (each time depends on every earlier event): that decodes on one
    /// thread.
    pub threads: Threads,
    /// Worker threads when decoding in parallel (0: as many as the cores
    /// this process may run on, at least 2 with [`Threads::Always`]).
    pub workers: usize,
    /// Tests only: the stitch of this generation (counted from 0) fails as
    /// if an assumption did not hold, so decoding falls back to one thread.
    #[doc(hidden)]
    pub stitch_fails_at: Option<u64>,
    /// Tests only: items per chunk a worker hands over, and episodes per
    /// part it folds (0: the defaults), so that small traces cross chunk
    /// and part boundaries too.
    #[doc(hidden)]
    pub chunk_items: usize,
    /// Tests only: a part is sent on once it holds this many bytes
    /// ([`crate::Part::bytes`]), asked after every episode (0: a chunk of
    /// items' worth, asked every 1,024 episodes).
    #[doc(hidden)]
    pub part_bytes: usize,
    /// The input is still arriving: each generation is decoded once its
    /// bytes are there ([`Arriving`]).
    pub arriving: Option<Arc<dyn Arriving>>,
}

/// Smallest trace [`Threads::Auto`] decodes on worker threads.
pub const THREAD_MIN_BYTES: usize = 4 << 20;

/// Fewest cores on which [`Threads::Auto`] decodes generations in parallel.
/// On two cores it runs two workers beside the caller's thread, which
/// mostly waits (it splits the input and stitches; the workers fold the
/// episodes for a sink that folds in parts, [`crate::Parts`]): ordering
/// each generation from scratch on a worker costs about 15 % more CPU than
/// one thread, and the two cores more than make up for it once a worker may
/// run a whole generation ahead of the caller ([`window_bytes`]): `goblock
/// report` on the 231 MB Go 1.26 bench trace 0.50 s against 0.86–0.88 s on
/// one thread (see docs/performance.md).
pub const PARALLEL_MIN_CORES: usize = 2;

/// Worker threads for a trace of `len` bytes on `cores` cores (0: one
/// thread), as [`Options::threads`] says.
fn workers_for(threads: Threads, len: usize, cores: usize) -> usize {
    match threads {
        Threads::Never => 0,
        Threads::Auto | Threads::Within(_)
            if len < THREAD_MIN_BYTES || cores < PARALLEL_MIN_CORES =>
        {
            0
        }
        Threads::Within(budget) if window_bytes() > budget => 0,
        Threads::Auto | Threads::Within(_) => (cores - 1).max(2),
        Threads::Always => cores.max(2),
    }
}

/// What the v2 decoder saw besides episodes (not part of [`TraceSummary`],
/// which is shared with the old-format decoder).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// CPU profile samples in the trace (checked, not decoded further).
    pub cpu_samples: u64,
    /// Experimental batches (e.g. `GOEXPERIMENT=traceallocfree`), skipped.
    pub experimental_batches: u64,
    /// Episodes emitted.
    pub episodes: u64,
    /// Decoding in parallel, the stitch of this generation (counted from 0)
    /// found the state it started from differ from the state the previous
    /// one ended in (or the trace broken), and the rest was decoded on one
    /// thread (the results are the same).
    pub stitch_fallback: Option<u64>,
}

/// Whether `head`, the beginning of a trace (header included), holds its
/// first generation whole: ended by its end-of-generation marker (1.26+) or
/// by the next generation's first batch (before 1.26, where the end of
/// `head` says nothing). A generation is decoded only whole, so a shorter
/// head decodes to nothing.
pub fn holds_a_generation(head: &[u8], minor: u32) -> bool {
    let mut gb = GenBatches::default();
    matches!(
        Splitter::new(minor, HEADER_LEN).next(head, &mut gb),
        Ok(Some(GenEnd::Complete { last: false }))
    )
}

/// [`decode`] with [`Options`].
pub fn decode_with(
    bytes: &[u8],
    header: &Header,
    tables: &mut Tables,
    sink: &mut dyn EpisodeSink,
    options: &Options,
) -> Result<TraceSummary, DecodeError> {
    decode_detailed(bytes, header, tables, sink, options).map(|(s, _)| s)
}

/// [`decode_with`], also returning [`Stats`].
pub fn decode_detailed(
    bytes: &[u8],
    header: &Header,
    tables: &mut Tables,
    sink: &mut dyn EpisodeSink,
    options: &Options,
) -> Result<(TraceSummary, Stats), DecodeError> {
    if header.format != crate::Format::V2 {
        return Err(DecodeError::UnsupportedVersion {
            version: format!("go 1.{} (old format, not for the v2 decoder)", header.minor),
        });
    }
    let mut back = Back::new(bytes, tables, sink);
    let workers = if options.go_reader_times {
        0
    } else {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        workers_for(options.threads, bytes.len(), cores)
    };
    let workers = match options.workers {
        0 => workers,
        n if workers > 0 => n,
        _ => 0,
    };
    let parallel = if workers > 0 {
        parallel::run(bytes, header.minor, options, &mut back, workers)
    } else {
        None
    };
    let (summary, stats) = match parallel {
        Some(res) => res?,
        None => {
            let done = Decoder::<Slot>::new(bytes, header.minor, options).run(&mut back)?;
            back.finish(done.end, done.order.slots());
            (done.summary, done.stats)
        }
    };
    let stats = Stats {
        episodes: back.tracker.episodes,
        ..stats
    };
    Ok((summary, stats))
}

/// What the front hands back when the input is consumed.
struct FrontDone<S> {
    summary: TraceSummary,
    stats: Stats,
    /// End of the trace (ns, same clock as transition times).
    end: i64,
    /// The ordering's final state (the goroutines' slots).
    order: Ordering<S>,
}

/// The warning for a version no Go release writes.
fn version_warning(minor: u32) -> Option<Warning> {
    (minor > events::GO126).then(|| Warning {
        offset: None,
        message: format!(
            "no Go release writes 'go 1.{minor}' traces (Go 1.27 writes 'go 1.26'); decoded with the Go 1.26 format"
        ),
    })
}

/// The warning for generation `generation` (starting at `start`, of an
/// input of `len` bytes) dropped because of `cut`, after `before` complete
/// generations.
fn truncation_warning(generation: u64, start: usize, cut: Cut, len: usize, before: u64) -> Warning {
    let generation = if generation != 0 {
        format!("generation {generation}")
    } else {
        "the last generation".into()
    };
    let after = if before == 0 {
        "no complete generation precedes it, so the trace yields nothing"
    } else {
        "episodes still open at the end of the previous generation are reported as open at the trace end"
    };
    Warning {
        offset: Some(cut.offset as u64),
        message: format!(
            "trace truncated: {generation} (bytes {start}..{len}) is incomplete ({}) and was dropped; {after}",
            cut.what
        ),
    }
}

/// Reusable per-generation state; `S` is what the ordering keeps per
/// goroutine for the back ([`Out::Slot`]).
struct Decoder<'a, S> {
    bytes: &'a [u8],
    arriving: Option<Arc<dyn Arriving>>,
    minor: u32,
    summary: TraceSummary,
    gb: GenBatches,
    gt: GenTables,
    ms: Vec<MBatches>,
    m_index: FxHashMap<u64, usize>,
    order: Ordering<S>,
    merger: Merger,
    /// Time origin (ns), set from the first generation.
    origin: i64,
    first_gen: bool,
    /// Latest event time seen (ns).
    last_time: Option<i64>,
    cpu_samples: u64,
    experimental_batches: u64,
    /// CPU sample times of the generation (Go-reader time mode only).
    cpu_times: Vec<i64>,
    go_reader_times: bool,
    /// `merge::nargs_table` for this trace's version.
    nargs: [u8; 256],
}

/// Why a generation is unusable because the trace was cut.
pub(crate) struct Cut {
    offset: usize,
    what: String,
}

impl<'a, S: Default + Clone> Decoder<'a, S> {
    fn new(bytes: &'a [u8], minor: u32, options: &Options) -> Self {
        let mut d = Decoder {
            bytes,
            arriving: options.arriving.clone(),
            minor,
            summary: TraceSummary {
                go_version: format!("1.{minor}"),
                bytes: bytes.len() as u64,
                ..TraceSummary::default()
            },
            gb: GenBatches::default(),
            gt: GenTables::default(),
            ms: Vec::new(),
            m_index: FxHashMap::default(),
            order: Ordering::default(),
            merger: Merger::default(),
            origin: 0,
            first_gen: true,
            last_time: None,
            cpu_samples: 0,
            experimental_batches: 0,
            cpu_times: Vec::new(),
            go_reader_times: false,
            nargs: merge::nargs_table(minor),
        };
        if options.go_reader_times {
            d.order.use_go_reader_times();
            d.go_reader_times = true;
        }
        d
    }

    /// The summary before any generation: version, size, and a warning for
    /// a version no Go release writes.
    fn summary_start(mut self) -> TraceSummary {
        self.summary.warnings.extend(version_warning(self.minor));
        self.summary
    }

    /// Decodes every generation, sending transitions to `out`.
    fn run<O: Out<Slot = S>>(mut self, out: &mut O) -> Result<FrontDone<S>, DecodeError> {
        self.summary.warnings.extend(version_warning(self.minor));
        let mut splitter = Splitter::new(self.minor, HEADER_LEN);
        let mut gb = std::mem::take(&mut self.gb);
        let arriving = self.arriving.clone();
        loop {
            let next = splitter.next_arrived(self.bytes, arriving.as_deref(), &mut gb, true)?;
            let end = match next.flatten() {
                None => break,
                Some(e) => e,
            };
            let last = match end {
                GenEnd::Truncated { offset, what } => {
                    self.drop_generation(&gb, Cut { offset, what });
                    break;
                }
                GenEnd::Complete { last } => last,
            };
            if let Some(cut) = self.build_tables(&gb, last)? {
                self.drop_generation(&gb, cut);
                break;
            }
            let gt = self.run_generation(&gb, out)?;
            self.summary.generations += 1;
            let flow = out.send(Msg::GenEnd(gb.end as u64));
            // Reuse the tables' allocations when the back is done with them
            // (always on one thread; on two, only if it has caught up).
            self.gt = Arc::try_unwrap(gt).unwrap_or_default();
            if flow.is_break() {
                return Err(DecodeError::Cancelled);
            }
        }
        let end = self.last_time.unwrap_or(self.origin);
        self.summary.duration_ns = u64::try_from(end.saturating_sub(self.origin)).unwrap_or(0);
        Ok(FrontDone {
            summary: self.summary,
            stats: Stats {
                cpu_samples: self.cpu_samples,
                experimental_batches: self.experimental_batches,
                episodes: 0,
                stitch_fallback: None,
            },
            end,
            order: self.order,
        })
    }

    fn drop_generation(&mut self, gb: &GenBatches, cut: Cut) {
        let w = truncation_warning(
            gb.generation,
            gb.start,
            cut,
            self.bytes.len(),
            self.summary.generations,
        );
        self.summary.warnings.push(w);
    }

    /// Classifies the generation's batches and builds its tables (Go's
    /// `processBatch` and the checks after it). `Ok(Some(cut))` when the
    /// last generation of a pre-1.26 trace turns out to be incomplete.
    fn build_tables(&mut self, gb: &GenBatches, last: bool) -> Result<Option<Cut>, DecodeError> {
        let bytes = self.bytes;
        self.gt.clear();
        for m in &mut self.ms {
            m.batches.clear();
        }
        let mut used = 0;
        self.m_index.clear();
        for (i, b) in gb.batches.iter().enumerate() {
            if b.exp != 0 {
                self.gt.experimental_batches += 1;
                continue;
            }
            match b.first_byte(bytes) {
                Some(ev::STRINGS) => self.gt.add_strings(bytes, b)?,
                Some(ev::STACKS) => self.gt.add_stacks(bytes, b)?,
                Some(ev::CPU_SAMPLES) => self.gt.add_cpu_samples(bytes, b)?,
                Some(ev::FREQUENCY) if self.minor < events::GO125 => {
                    self.gt.set_sync(bytes, b, self.minor)?
                }
                Some(ev::SYNC) if self.minor >= events::GO125 => {
                    self.gt.set_sync(bytes, b, self.minor)?
                }
                Some(ev::END_OF_GENERATION) => {
                    return Err(DecodeError::Corrupt {
                        offset: b.start as u64,
                        what: "batch starting with an end-of-generation event".into(),
                    });
                }
                _ => {
                    let mi = *self.m_index.entry(b.m).or_insert_with(|| {
                        used += 1;
                        used - 1
                    });
                    if mi == self.ms.len() {
                        self.ms.push(MBatches::default());
                    }
                    self.ms[mi].m = b.m;
                    self.ms[mi].batches.push(i as u32);
                }
            }
        }
        self.ms.truncate(used);
        self.cpu_samples += self.gt.cpu_samples;
        self.experimental_batches += self.gt.experimental_batches;

        let pre126_last = last && self.minor < events::GO126;
        if self.gt.freq().is_none() {
            if pre126_last {
                return Ok(Some(Cut {
                    offset: gb.end,
                    what: "no frequency batch: the file ends before the generation's tables".into(),
                }));
            }
            return Err(DecodeError::Corrupt {
                offset: gb.start as u64,
                what: format!("generation {}: no frequency event found", gb.generation),
            });
        }
        if self.minor >= events::GO125 && !self.gt.has_clock_snapshot {
            if pre126_last {
                return Ok(Some(Cut {
                    offset: gb.end,
                    what: "no clock snapshot: the file ends before the generation's sync batch"
                        .into(),
                }));
            }
            return Err(DecodeError::Corrupt {
                offset: gb.start as u64,
                what: format!(
                    "generation {}: no clock snapshot event found",
                    gb.generation
                ),
            });
        }
        if let Err(e) = self.gt.validate(gb.start) {
            if pre126_last {
                return Ok(Some(Cut {
                    offset: gb.end,
                    what: format!("its tables are incomplete ({e})"),
                }));
            }
            return Err(e);
        }
        if pre126_last && let Some(offset) = self.first_unresolved_id(gb) {
            return Ok(Some(Cut {
                offset,
                what: "an event refers to a stack or string missing from the generation's tables: the file ends inside them".into(),
            }));
        }
        Ok(None)
    }

    /// Offset of the first event of the generation whose stack or string id
    /// is not in its tables (structure errors are left to the real pass).
    fn first_unresolved_id(&self, gb: &GenBatches) -> Option<usize> {
        for mb in &self.ms {
            for &bi in &mb.batches {
                let b = gb.batches.get(bi as usize)?;
                let data = b.data(self.bytes);
                let mut p = 0;
                while p < data.len() {
                    let at = p;
                    let sp = events::spec(data[p]);
                    if !sp.timed || sp.nargs == 0 {
                        break;
                    }
                    p += 1;
                    let mut args = [0u64; events::MAX_ARGS + 1];
                    for a in args.iter_mut().take(sp.nargs as usize) {
                        match read_uvarint(data, &mut p) {
                            Some(v) => *a = v,
                            None => return None,
                        }
                    }
                    let bad = sp.stack_args().any(|i| !self.gt.has_stack(args[i + 1]))
                        || sp.string_args().any(|i| !self.gt.has_string(args[i + 1]));
                    if bad {
                        return Some(b.start + at);
                    }
                }
            }
        }
        None
    }

    fn run_generation<O: Out<Slot = S>>(
        &mut self,
        gb: &GenBatches,
        out: &mut O,
    ) -> Result<Arc<GenTables>, DecodeError> {
        let freq = self.gt.freq().unwrap_or(1.0);
        if self.first_gen {
            // The time of the first Sync event Go's reader returns (bumped
            // like any other event in Go-reader time mode).
            let t = merge::mul(freq, gb.min_ts);
            self.origin = match self.order.go_reader_clock() {
                Some(last) if t <= last => last + 1,
                _ => t,
            };
            self.first_gen = false;
        }
        self.cpu_times.clear();
        if self.go_reader_times {
            self.cpu_times
                .extend(self.gt.cpu_ticks.iter().map(|&t| merge::mul(freq, t)));
            self.cpu_times.sort_unstable();
        }
        // The back resolves stacks and strings with the same tables (and
        // lets go of them at the generation's end, see `run`).
        let gt = Arc::new(std::mem::take(&mut self.gt));
        let gen_start = Msg::Gen {
            tables: Arc::clone(&gt),
            start: gb.start as u64,
            origin: self.origin,
        };
        if out.send(gen_start).is_break() {
            return Err(DecodeError::Cancelled);
        }
        let inp = GenInput {
            gc: GenCtx {
                generation: gb.generation,
                tables: &gt,
                bytes: self.bytes,
            },
            batches: &gb.batches,
            ms: &self.ms,
            freq,
            scale: merge::Scale::new(freq),
            nargs: &self.nargs,
            minor: self.minor,
            min_ts: gb.min_ts,
            cpu_times: &self.cpu_times,
        };
        let stats = out.order(&mut self.merger, &inp, &mut self.order)?;
        self.summary.events += stats.events;
        if let Some(t) = stats.max_time {
            self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
        }
        if let Some(t) = self.order.go_reader_clock() {
            self.last_time = Some(t);
        }
        Ok(gt)
    }
}

impl Decoder<'_, WSlot> {
    /// One generation for a worker (see `parallel.rs`): builds its tables,
    /// orders it (the trace's `first` as Go's reader does, a later one from
    /// scratch) and sends its transitions to `out`. `Ok(Err((cut, cpu
    /// samples, experimental batches)))` when it turns out to be the last,
    /// cut short.
    fn order_job(
        &mut self,
        gb: &GenBatches,
        last: bool,
        first: bool,
        out: &mut Channel<'_>,
    ) -> Result<Result<GenDone, (Cut, u64, u64)>, DecodeError> {
        (self.cpu_samples, self.experimental_batches) = (0, 0);
        if let Some(cut) = self.build_tables(gb, last)? {
            return Ok(Err((cut, self.cpu_samples, self.experimental_batches)));
        }
        self.order.restart(first);
        self.first_gen = first;
        (self.summary.events, self.last_time) = (0, None);
        let gt = self.run_generation(gb, out)?;
        self.gt = Arc::try_unwrap(gt).unwrap_or_default();
        Ok(Ok(GenDone {
            order: self.order.take_without_slots(),
            stats: merge::GenStats {
                events: self.summary.events,
                max_time: self.last_time,
            },
            end: gb.end as u64,
            cpu_samples: self.cpu_samples,
            experimental_batches: self.experimental_batches,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two workers from two cores on large traces; one thread on one core,
    /// on small traces, and within a budget the window does not fit.
    #[test]
    fn workers_by_threads_size_and_cores() {
        let large = 64 << 20;
        let w = window_bytes();
        assert_eq!(w, 6 * (1 << 20) * 56);
        for (threads, len, cores, want) in [
            (Threads::Auto, large, 1, 0),
            (Threads::Auto, large, 2, 2),
            (Threads::Auto, large, 3, 2),
            (Threads::Auto, large, 8, 7),
            (Threads::Auto, THREAD_MIN_BYTES - 1, 8, 0),
            (Threads::Within(w), large, 2, 2),
            (Threads::Within(w - 1), large, 2, 0),
            (Threads::Within(u64::MAX), large, 1, 0),
            (Threads::Never, large, 8, 0),
            (Threads::Always, 1, 1, 2),
            (Threads::Always, 1, 4, 4),
        ] {
            assert_eq!(
                workers_for(threads, len, cores),
                want,
                "{threads:?} {len} {cores}"
            );
        }
    }
}
