//! Generations ordered on worker threads, episodes built in order on the
//! caller's — the new format's one design for using more than one core —
//! and what carries goroutine transitions from the ordering (`merge.rs` +
//! `order.rs`, the "front") to the episode builder (`translate.rs` + the
//! episode core, the "back").
//!
//! **One thread** ([`Back`] as the ordering's [`Consumer`]): each transition
//! is applied as it is ordered, the episode state of a goroutine living in
//! the ordering's own goroutine state (one lookup serves both, see
//! [`Consumer::Slot`]).
//!
//! **Parallel** ([`run`]): the caller's thread splits the input into
//! generations (batch framing only) and hands each to the next free worker,
//! a window of `workers + 1` generations ahead. A worker builds the
//! generation's tables and orders it — the first generation as Go's reader
//! does, every later one from scratch ([`Ordering::fresh`], see
//! `order/stitch.rs`) — and sends its transitions in chunks ([`Forward`] →
//! [`Channel`]), each with what the ordering assumed before them about the
//! state the previous generation ended in. The caller takes the generations
//! in file order: checks each chunk's assumptions against that state (kept
//! in a state-only [`Ordering`], which then absorbs the generation's final
//! state), applies the chunk's transitions to the episode core (its own
//! per-goroutine slots: created on a goroutine's first transition, dropped
//! on its transition to `NotExist`, the lifetime of the ordering's state),
//! and calls the sink — so the sink sees exactly the sequential sequence of
//! episodes, and the summary and warnings are the sequential ones.
//!
//! **Fallback**: when an assumption does not hold, or a worker's ordering
//! fails (a broken trace: the error must be the sequential one), the
//! workers are stopped and the trace is decoded again on the caller's
//! thread from its start, ordering only until it reaches the transitions
//! already applied, then applying them as on one thread ([`Resume`]); its
//! summary, warnings and error are the result. [`super::Stats`] tells.
//!
//! **Memory**: at most `workers + 1` generations in flight, each at most
//! [`CAPACITY`] chunks of [`CHUNK`] transitions ahead of the caller (a
//! worker whose generation is further ahead waits), plus their tables.
//!
//! **Progress and cancellation**: the caller reports progress (the start of
//! the generation being applied, or the end of the one just applied) and
//! stops on `Break`: dropping the channels stops every worker at its next
//! chunk.
//!
//! Does not decide order or meaning; only moves generations, transitions,
//! tables and progress between threads, and stitches the state.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use super::batch::{GenBatches, GenEnd, Splitter};
use super::events::MAX_ARGS;
use super::merge::{GenInput, GenStats, Merger};
use super::order::{Assume, Consumer, Ev, GoState, Ordering, Stitch, Transition};
use super::tables::{GenTables, Resolver};
use super::translate::{GenEpisodes, Origin, Tracker};
use super::{Cut, Decoder, Options, Stats, truncation_warning};
use crate::episodes::Slot;
use crate::gtable::GTable;
use crate::header::HEADER_LEN;
use crate::{DecodeError, EpisodeSink, Tables, TraceSummary};

/// Transitions per chunk.
pub(crate) const CHUNK: usize = 2048;
/// Chunks a worker may be ahead of the caller in one generation.
pub(crate) const CAPACITY: usize = 256;
/// Spare chunk buffers kept for reuse (fresh ones cost page faults).
const SPARE: usize = 1024;
/// How often (chunks) the back reports progress inside a generation.
const PROGRESS_EVERY: u32 = 256;

/// One transition, by value: what the episode builder reads of it (64
/// bytes; the event's offset and raw time are not needed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rec {
    args: [u64; MAX_ARGS],
    time: i64,
    g: u64,
    ctx_g: u64,
    typ: u8,
    source: u8,
    from: GoState,
    to: GoState,
}

/// Transitions in order, and what the ordering assumed before them.
pub(crate) struct Chunk {
    recs: Vec<Rec>,
    assumed: Vec<Assume>,
}

/// What a generation's ordering hands over at its end.
pub(crate) struct GenDone {
    /// The ordering's final state.
    pub order: Ordering<()>,
    pub stats: GenStats,
    /// End of the generation (offset).
    pub end: u64,
    pub cpu_samples: u64,
    pub experimental_batches: u64,
}

/// A generation found cut short once its tables are built.
pub(crate) struct CutGen {
    pub generation: u64,
    pub start: usize,
    pub cut: Cut,
    /// Counted before it turned out cut, as on one thread.
    pub cpu_samples: u64,
    pub experimental_batches: u64,
}

/// What the front sends.
pub(crate) enum Msg {
    /// A generation starts: its tables, the offset of its first byte, and
    /// the trace's time origin (set with the first generation).
    Gen {
        tables: Arc<GenTables>,
        start: u64,
        origin: i64,
    },
    /// Transitions, in order.
    Recs(Chunk),
    /// The generation ended; input before this offset is no longer needed.
    GenEnd(u64),
    /// A worker's generation is ordered.
    Done(Box<GenDone>),
    /// A worker's generation is the last one, cut short.
    Cut(CutGen),
    /// A worker's generation failed.
    Failed,
}

/// Where the front's messages and transitions go: the back itself (same
/// thread: messages are handled at once and transitions applied one by one,
/// the back is the ordering's consumer), the [`Channel`] to the caller's
/// thread (a worker, through [`Forward`]), or a [`Resume`].
pub(crate) trait Out {
    /// What the ordering keeps per goroutine for this back.
    type Slot: Default + Clone;
    /// Delivers `m`; `Break` when the back has stopped (cancelled).
    fn send(&mut self, m: Msg) -> ControlFlow<()>;
    /// Orders the generation `inp`, handing its transitions on.
    fn order(
        &mut self,
        merger: &mut Merger,
        inp: &GenInput<'_>,
        order: &mut Ordering<Self::Slot>,
    ) -> Result<GenStats, DecodeError>;
}

impl Out for Back<'_> {
    type Slot = Slot;

    fn send(&mut self, m: Msg) -> ControlFlow<()> {
        self.handle(m).0
    }

    fn order(
        &mut self,
        merger: &mut Merger,
        inp: &GenInput<'_>,
        order: &mut Ordering<Slot>,
    ) -> Result<GenStats, DecodeError> {
        merger.run(inp, order, self)
    }
}

impl Out for Channel<'_> {
    type Slot = ();

    fn send(&mut self, m: Msg) -> ControlFlow<()> {
        Channel::send(self, m)
    }

    fn order(
        &mut self,
        merger: &mut Merger,
        inp: &GenInput<'_>,
        order: &mut Ordering<()>,
    ) -> Result<GenStats, DecodeError> {
        let mut forward = Forward::new(self);
        let res = merger.run(inp, order, &mut forward);
        let sent = forward.finish();
        let stats = res?;
        sent?;
        Ok(stats)
    }
}

/// The ordering's consumer on a worker: records transitions and sends them
/// in chunks, each with the assumptions made before its transitions. Holds
/// no per-goroutine state.
pub(crate) struct Forward<'h, 'p> {
    out: &'h mut Channel<'p>,
    buf: Vec<Rec>,
    assumed: Vec<Assume>,
    stopped: bool,
}

impl<'h, 'p> Forward<'h, 'p> {
    pub fn new(out: &'h mut Channel<'p>) -> Self {
        let buf = out.buffer();
        Forward {
            out,
            buf,
            assumed: Vec::new(),
            stopped: false,
        }
    }

    #[cold]
    #[inline(never)]
    fn flush(&mut self) {
        if (self.buf.is_empty() && self.assumed.is_empty()) || self.stopped {
            return;
        }
        let next = self.out.buffer();
        let chunk = Chunk {
            recs: std::mem::replace(&mut self.buf, next),
            assumed: std::mem::take(&mut self.assumed),
        };
        if self.out.send(Msg::Recs(chunk)).is_break() {
            self.stopped = true;
        }
    }

    /// Sends what is buffered; `Err(Cancelled)` if the back has stopped.
    pub fn finish(mut self) -> Result<(), DecodeError> {
        self.flush();
        if self.stopped {
            return Err(DecodeError::Cancelled);
        }
        Ok(())
    }
}

impl Consumer for Forward<'_, '_> {
    type Slot = ();

    #[inline]
    fn transition(&mut self, t: &Transition<'_>, _: &mut ()) {
        self.buf.push(Rec {
            args: t.ev.args,
            time: t.time,
            g: t.g,
            ctx_g: t.ctx_g,
            typ: t.ev.typ,
            source: t.source,
            from: t.from,
            to: t.to,
        });
    }

    fn tick(&mut self) -> Result<(), DecodeError> {
        if self.stopped {
            return Err(DecodeError::Cancelled);
        }
        Ok(())
    }

    fn assume(&mut self, a: Assume) {
        self.assumed.push(a);
    }

    /// Chunks end between events, so that an event's assumptions travel
    /// with (or before) all of its transitions.
    #[inline(always)]
    fn settled(&mut self) {
        if self.buf.len() >= CHUNK {
            self.flush();
        }
    }
}

/// The back: turns transitions into episodes for the sink, and forwards
/// progress (and with it cancellation) to the sink.
pub(crate) struct Back<'a> {
    pub tracker: Tracker,
    res: Resolver,
    slots: GTable<Slot>,
    gt: Option<Arc<GenTables>>,
    tables: &'a mut Tables,
    sink: &'a mut dyn EpisodeSink,
    bytes: &'a [u8],
    /// Start of the generation being replayed (safe to report as done).
    done: u64,
    chunks: u32,
}

impl<'a> Back<'a> {
    pub fn new(bytes: &'a [u8], tables: &'a mut Tables, sink: &'a mut dyn EpisodeSink) -> Self {
        Back {
            tracker: Tracker::new(Origin::default(), tables, sink.categories()),
            res: Resolver::default(),
            slots: GTable::default(),
            gt: None,
            tables,
            sink,
            bytes,
            done: 0,
            chunks: 0,
        }
    }

    /// Handles one message of the generation being applied; `Break` when
    /// the sink cancelled. A chunk's buffer is handed back for reuse.
    pub fn handle(&mut self, m: Msg) -> (ControlFlow<()>, Option<Vec<Rec>>) {
        match m {
            Msg::Gen {
                tables,
                start,
                origin,
            } => {
                self.gt = Some(tables);
                self.res.clear();
                self.done = start;
                self.tracker.clock = Origin(origin);
                (ControlFlow::Continue(()), None)
            }
            Msg::Recs(c) => {
                self.replay(&c.recs);
                self.chunks += 1;
                let flow = if self.chunks.is_multiple_of(PROGRESS_EVERY) {
                    self.progress()
                } else {
                    ControlFlow::Continue(())
                };
                (flow, Some(c.recs))
            }
            Msg::GenEnd(end) => {
                // Let the front reuse the tables' allocations.
                self.gt = None;
                (self.sink.progress(end, self.bytes.len() as u64), None)
            }
            Msg::Done(_) | Msg::Cut(_) | Msg::Failed => (ControlFlow::Continue(()), None),
        }
    }

    fn replay(&mut self, recs: &[Rec]) {
        let Some((mut ge, slots)) = self.episodes() else {
            return;
        };
        for r in recs {
            let ev = Ev {
                typ: r.typ,
                time: r.time,
                args: r.args,
                offset: 0,
            };
            let t = Transition {
                ev: &ev,
                time: r.time,
                source: r.source,
                g: r.g,
                from: r.from,
                to: r.to,
                ctx_g: r.ctx_g,
            };
            step(&mut ge, slots, &t);
        }
    }

    /// The episode builder of the current generation (none between
    /// generations) and the goroutines' slots.
    #[inline(always)]
    fn episodes(&mut self) -> Option<(GenEpisodes<'_>, &mut GTable<Slot>)> {
        let gt = self.gt.as_deref()?;
        let ge = GenEpisodes {
            tracker: &mut self.tracker,
            gt,
            res: &mut self.res,
            tables: self.tables,
            sink: &mut *self.sink,
            bytes: self.bytes,
        };
        Some((ge, &mut self.slots))
    }

    /// Reports progress (inside the generation being decoded) to the sink.
    pub fn progress(&mut self) -> ControlFlow<()> {
        self.sink.progress(self.done, self.bytes.len() as u64)
    }

    /// Emits the episodes still open at `end` (ns) in `slots` (the
    /// ordering's, on one thread), in goroutine order.
    pub fn finish<'s>(&mut self, end: i64, slots: impl Iterator<Item = (u64, &'s Slot)>) {
        let slots = slots.map(|(g, s)| (g, *s));
        self.tracker.finish(end, slots, self.tables, self.sink);
    }

    /// [`Back::finish`] with the back's own slots (parallel).
    pub fn finish_own(&mut self, end: i64) {
        let slots = std::mem::take(&mut self.slots);
        self.finish(end, slots.iter());
    }
}

/// Applies transition `t` to its goroutine's slot in the back's own table
/// (dropped when the goroutine ends, as the ordering drops its state).
#[inline(always)]
fn step(ge: &mut GenEpisodes<'_>, slots: &mut GTable<Slot>, t: &Transition<'_>) {
    ge.transition(t, slots.get_mut(t.g));
    if t.to == GoState::NotExist {
        slots.remove(t.g);
    }
}

/// The ordering's consumer when the back runs on the same thread: each
/// transition is applied at once (no chunk, no copy), and progress is
/// reported at the ordering's ticks.
impl Consumer for Back<'_> {
    type Slot = Slot;

    /// Turns the transition of the goroutine whose episode state is `slot`
    /// into episode state (and episodes, to the sink). Inlined into the
    /// ordering's handlers, where the event type is known: the episode
    /// builder's own `match` on it folds away.
    #[inline(always)]
    fn transition(&mut self, t: &Transition<'_>, slot: &mut Slot) {
        if let Some((mut ge, _)) = self.episodes() {
            ge.transition(t, slot);
        }
    }

    fn tick(&mut self) -> Result<(), DecodeError> {
        if self.progress().is_break() {
            return Err(DecodeError::Cancelled);
        }
        Ok(())
    }
}

/// A worker's end of its generation's channel to the caller's thread.
pub(crate) struct Channel<'p> {
    pub tx: SyncSender<Msg>,
    pub spare: &'p Mutex<Vec<Vec<Rec>>>,
}

impl Channel<'_> {
    /// Sends `m`; `Break` when the back has stopped (cancelled).
    pub fn send(&mut self, m: Msg) -> ControlFlow<()> {
        match self.tx.send(m) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }

    /// An empty buffer for the next chunk (recycled when possible).
    pub fn buffer(&mut self) -> Vec<Rec> {
        let spare = self.spare.lock().ok().and_then(|mut s| s.pop());
        match spare {
            Some(mut b) => {
                b.clear();
                b
            }
            None => Vec::with_capacity(CHUNK),
        }
    }
}

/// One generation for a worker.
struct Job {
    gb: GenBatches,
    /// The file ends after it.
    last: bool,
    /// The trace's first generation (ordered as Go's reader does).
    first: bool,
    tx: SyncSender<Msg>,
}

/// The sequential decoder taking over after a failed stitch: orders the
/// trace from its start, skips the transitions already applied, and applies
/// the rest as the one-thread decoder does (with the back's own slots).
struct Resume<'b, 'a> {
    back: &'b mut Back<'a>,
    skip: u64,
    /// Progress already reported (not reported again while skipping).
    reported: u64,
}

impl Resume<'_, '_> {
    /// Progress; while skipping, what was reported before (a chance to
    /// cancel).
    fn progress(&mut self) -> ControlFlow<()> {
        if self.skip == 0 {
            return self.back.progress();
        }
        let total = self.back.bytes.len() as u64;
        self.back.sink.progress(self.reported, total)
    }
}

impl Out for Resume<'_, '_> {
    type Slot = ();

    fn send(&mut self, m: Msg) -> ControlFlow<()> {
        match m {
            Msg::GenEnd(_) if self.skip > 0 => self.progress(),
            m => self.back.handle(m).0,
        }
    }

    fn order(
        &mut self,
        merger: &mut Merger,
        inp: &GenInput<'_>,
        order: &mut Ordering<()>,
    ) -> Result<GenStats, DecodeError> {
        merger.run(inp, order, self)
    }
}

impl Consumer for Resume<'_, '_> {
    type Slot = ();

    #[inline]
    fn transition(&mut self, t: &Transition<'_>, _: &mut ()) {
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        if let Some((mut ge, slots)) = self.back.episodes() {
            step(&mut ge, slots, t);
        }
    }

    fn tick(&mut self) -> Result<(), DecodeError> {
        if self.progress().is_break() {
            return Err(DecodeError::Cancelled);
        }
        Ok(())
    }
}

/// Orders generations handed out through `jobs` until there are no more.
fn work(bytes: &[u8], minor: u32, jobs: &Mutex<Receiver<Job>>, spare: &Mutex<Vec<Vec<Rec>>>) {
    let mut d = Decoder::<()>::new(bytes, minor, &Options::default());
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return;
        };
        let mut chan = Channel { tx: job.tx, spare };
        let msg = match d.order_job(&job.gb, job.last, job.first, &mut chan) {
            Ok(Ok(done)) => Msg::Done(Box::new(done)),
            Ok(Err((cut, cpu_samples, experimental_batches))) => Msg::Cut(CutGen {
                generation: job.gb.generation,
                start: job.gb.start,
                cut,
                cpu_samples,
                experimental_batches,
            }),
            Err(_) => Msg::Failed,
        };
        let _ = chan.send(msg);
    }
}

/// What is next in file order.
enum Next {
    /// A generation handed to a worker: its messages.
    Gen(Receiver<Msg>),
    /// The file ends inside generation `gb` (no worker needed).
    Truncated(GenBatches, Cut),
    /// The input cannot be split further.
    Err(DecodeError),
}

/// Why the stitching stopped early.
enum Stop {
    Cancelled,
    Error(DecodeError),
    /// Decode sequentially, skipping the transitions applied so far.
    Fallback,
}

/// Decodes on `workers` worker threads and the caller's (see the module);
/// `None` when no worker could be started (nothing was decoded).
pub(crate) fn run(
    bytes: &[u8],
    minor: u32,
    options: &Options,
    back: &mut Back<'_>,
    workers: usize,
) -> Option<Result<(TraceSummary, Stats), DecodeError>> {
    let spare = Mutex::new(Vec::new());
    let (job_tx, job_rx) = std::sync::mpsc::channel::<Job>();
    let job_rx = Mutex::new(job_rx);
    let mut st = Stitcher::new(bytes, minor, options);
    let outcome = std::thread::scope(|scope| {
        let mut started = 0;
        for i in 0..workers {
            let spawned = std::thread::Builder::new()
                .name(format!("goblock-v2-gen{i}"))
                .spawn_scoped(scope, || work(bytes, minor, &job_rx, &spare));
            if spawned.is_ok() {
                started += 1;
            }
        }
        if started == 0 {
            return None;
        }
        // Dropping the job sender and the receivers (at return) stops the
        // workers: a send to a dropped receiver fails at the next chunk.
        Some(st.stitch(back, job_tx, started + 1, &spare))
    })?;
    Some(match outcome {
        Ok(()) => Ok(st.finish(back)),
        Err(Stop::Cancelled) => Err(DecodeError::Cancelled),
        Err(Stop::Error(e)) => Err(e),
        Err(Stop::Fallback) => st.fallback(back),
    })
}

/// The caller's side: splits, hands out, checks and applies, in file order.
struct Stitcher<'a> {
    bytes: &'a [u8],
    minor: u32,
    options: Options,
    /// The state the generations applied so far ended in.
    state: Ordering<()>,
    summary: TraceSummary,
    stats: Stats,
    origin: i64,
    last_time: Option<i64>,
    /// Transitions applied so far.
    applied: u64,
    /// Generations applied so far.
    gens: u64,
    /// Progress reported so far.
    reported: u64,
}

impl<'a> Stitcher<'a> {
    fn new(bytes: &'a [u8], minor: u32, options: &Options) -> Self {
        let summary = Decoder::<()>::new(bytes, minor, options).summary_start();
        Stitcher {
            bytes,
            minor,
            options: *options,
            state: Ordering::default(),
            summary,
            stats: Stats::default(),
            origin: 0,
            last_time: None,
            applied: 0,
            gens: 0,
            reported: 0,
        }
    }

    fn stitch(
        &mut self,
        back: &mut Back<'_>,
        jobs: std::sync::mpsc::Sender<Job>,
        window: usize,
        spare: &Mutex<Vec<Vec<Rec>>>,
    ) -> Result<(), Stop> {
        let mut splitter = Splitter::new(self.minor, HEADER_LEN);
        let mut queue: VecDeque<Next> = VecDeque::new();
        let mut split_done = false;
        let mut first = true;
        loop {
            while queue.len() < window && !split_done {
                let mut gb = GenBatches::default();
                match splitter.next(self.bytes, &mut gb) {
                    Ok(None) => split_done = true,
                    Ok(Some(GenEnd::Truncated { offset, what })) => {
                        queue.push_back(Next::Truncated(gb, Cut { offset, what }));
                        split_done = true;
                    }
                    Ok(Some(GenEnd::Complete { last })) => {
                        let (tx, rx) = sync_channel(CAPACITY);
                        let job = Job {
                            gb,
                            last,
                            first,
                            tx,
                        };
                        first = false;
                        if jobs.send(job).is_err() {
                            return Err(Stop::Fallback);
                        }
                        queue.push_back(Next::Gen(rx));
                    }
                    Err(e) => {
                        queue.push_back(Next::Err(e));
                        split_done = true;
                    }
                }
            }
            let Some(next) = queue.pop_front() else {
                return Ok(());
            };
            match next {
                Next::Gen(rx) => {
                    if !self.apply(back, &rx, spare)? {
                        return Ok(());
                    }
                }
                Next::Truncated(gb, cut) => {
                    let w = truncation_warning(
                        gb.generation,
                        gb.start,
                        cut,
                        self.bytes.len(),
                        self.gens,
                    );
                    self.summary.warnings.push(w);
                    return Ok(());
                }
                // As the sequential decoder: after every generation before.
                Next::Err(e) => return Err(Stop::Error(e)),
            }
        }
    }

    /// Applies one generation's messages; `Ok(false)` when it was the last
    /// (cut short).
    fn apply(
        &mut self,
        back: &mut Back<'_>,
        rx: &Receiver<Msg>,
        spare: &Mutex<Vec<Vec<Rec>>>,
    ) -> Result<bool, Stop> {
        let mut stitch = Stitch::default();
        let first = self.gens == 0;
        for m in rx.iter() {
            match m {
                Msg::Gen {
                    tables,
                    start,
                    origin,
                } => {
                    if self.options.stitch_fails_at == Some(self.gens) {
                        return Err(Stop::Fallback);
                    }
                    if first {
                        self.origin = origin;
                    }
                    let m = Msg::Gen {
                        tables,
                        start,
                        origin: self.origin,
                    };
                    let _ = back.handle(m);
                }
                Msg::Recs(chunk) => {
                    for a in &chunk.assumed {
                        if !self.state.holds(a, &mut stitch, self.bytes) {
                            return Err(Stop::Fallback);
                        }
                    }
                    let n = chunk.recs.len() as u64;
                    let (flow, buf) = back.handle(Msg::Recs(chunk));
                    self.applied += n;
                    if let (Some(b), Ok(mut s)) = (buf, spare.lock())
                        && s.len() < SPARE
                    {
                        s.push(b);
                    }
                    if flow.is_break() {
                        return Err(Stop::Cancelled);
                    }
                }
                Msg::Done(d) => {
                    let d = *d;
                    self.state.absorb(d.order, std::mem::take(&mut stitch));
                    self.summary.events += d.stats.events;
                    if let Some(t) = d.stats.max_time {
                        self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
                    }
                    self.stats.cpu_samples += d.cpu_samples;
                    self.stats.experimental_batches += d.experimental_batches;
                    self.summary.generations += 1;
                    self.gens += 1;
                    self.reported = d.end;
                    if back.handle(Msg::GenEnd(d.end)).0.is_break() {
                        return Err(Stop::Cancelled);
                    }
                    return Ok(true);
                }
                Msg::Cut(c) => {
                    let w = truncation_warning(
                        c.generation,
                        c.start,
                        c.cut,
                        self.bytes.len(),
                        self.gens,
                    );
                    self.summary.warnings.push(w);
                    self.stats.cpu_samples += c.cpu_samples;
                    self.stats.experimental_batches += c.experimental_batches;
                    return Ok(false);
                }
                Msg::GenEnd(_) | Msg::Failed => return Err(Stop::Fallback),
            }
        }
        // The worker stopped without a result.
        Err(Stop::Fallback)
    }

    fn finish(&mut self, back: &mut Back<'_>) -> (TraceSummary, Stats) {
        let end = self.last_time.unwrap_or(self.origin);
        self.summary.duration_ns = u64::try_from(end.saturating_sub(self.origin)).unwrap_or(0);
        back.finish_own(end);
        (std::mem::take(&mut self.summary), self.stats)
    }

    /// Decodes again on this thread, skipping what was applied.
    fn fallback(&mut self, back: &mut Back<'_>) -> Result<(TraceSummary, Stats), DecodeError> {
        let mut resume = Resume {
            back,
            skip: self.applied,
            reported: self.reported,
        };
        let d = Decoder::<()>::new(self.bytes, self.minor, &self.options);
        let done = d.run(&mut resume)?;
        back.finish_own(done.end);
        let stats = Stats {
            stitch_fallback: Some(self.gens),
            ..done.stats
        };
        Ok((done.summary, stats))
    }
}
