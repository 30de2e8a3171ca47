//! Generations decoded on worker threads, stitched in order on the
//! caller's — the new format's one design for using more than one core —
//! and what carries a generation's results from the worker (`merge.rs`,
//! `order.rs`, `translate.rs` and the episode core: the "front") to the
//! sink on the caller's thread (the "back").
//!
//! **One thread** ([`Back`] as the ordering's [`Consumer`]): each transition
//! is applied as it is ordered, the episode state of a goroutine living in
//! the ordering's own goroutine state (one lookup serves both, see
//! [`Consumer::Slot`]).
//!
//! **Parallel** ([`run`]): the caller's thread splits the input into
//! generations (batch framing only) and hands each to the next free worker,
//! a window of `workers + 1` generations ahead. A worker builds the
//! generation's tables, orders it — the first generation as Go's reader
//! does, every later one from scratch ([`Ordering::fresh`], see
//! `order/stitch.rs`) — and builds its episodes itself ([`Local`]: its own
//! episode core and string/stack tables; each goroutine's episode state,
//! [`WSlot`], in the ordering's state of it; times from the trace's origin,
//! which the first generation's worker publishes, [`TraceOrigin`]: all as
//! on one thread). A goroutine
//! alive before the generation has an episode state the worker does not
//! know: its changes are handed over as they are ([`Handed`]) until
//! one sets the whole state (a start, block, stop, syscall, creation, end;
//! not an unblock, which keeps the blocked stack) — usually its first or
//! second. Everything else crosses as finished episodes ([`Item`]) — or,
//! for a sink that folds in parts ([`crate::Parts`]), is folded on the
//! worker into a part ([`Folding`]: no creator where only the caller
//! knows it, which the join then looks up) —
//! in chunks ([`Chunk`]) with the entries the worker's tables gained
//! ([`TableDelta`]) and what the ordering assumed before them about the
//! state the previous generation ended in; at the end, the slots the worker
//! knows ([`Slots`]).
//!
//! The caller takes the generations in file order: checks each chunk's
//! assumptions against that state (kept in a state-only [`Ordering`],
//! which then absorbs the generation's final state), interns the chunk's
//! new entries in the caller's tables in the worker's order ([`Remap`]: the
//! order one thread interns them in, so ids are the same too), passes the
//! episodes to the sink and joins the chunk's part into it, applies the
//! handed-over changes to the state it carries per goroutine, and at the
//! generation's end takes over the worker's slots — so the sink sees
//! exactly the sequential sequence of episodes (a sink folding in parts:
//! the same episodes, the order aside), and the summary and warnings are
//! the sequential ones. Only episodes (or parts) and a few changes per
//! goroutine cross threads, not every transition. A chunk's part is joined
//! with the chunk, so a fallback (below) mutes exactly what the sink had.
//!
//! **Fallback**: when an assumption does not hold, or a worker's ordering
//! fails (a broken trace: the error must be the sequential one), the
//! workers are stopped and the trace is decoded again on the caller's
//! thread from its start, with the sink muted for the transitions already
//! applied ([`Resume`]); its summary, warnings and error are the result.
//! [`super::Stats`] tells.
//!
//! **Memory**: at most `workers + 1` generations in flight, together at
//! most [`WINDOW_ITEMS`] items ahead of the caller (a worker whose
//! generation is further ahead waits), plus their tables. A part counts as
//! the items it weighs: it is sent on once it and its chunk's items hold
//! as many bytes as a chunk of items ([`PartBudget`]), so a sink with
//! many keys per part does not hold more ahead than one taking episodes
//! one by one.
//!
//! **Progress and cancellation**: the caller reports progress (the start of
//! the generation being applied, or the end of the one just applied) and
//! stops on `Break`: dropping the channels stops every worker at its next
//! chunk.
//!
//! Does not decide order or meaning (the ordering and the episode core do,
//! the same code on one thread and on workers); only moves generations,
//! episodes, changes, table entries and progress between threads, and
//! stitches the state.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};

use super::batch::{GenBatches, GenEnd, Splitter};
use super::merge::{GenInput, GenStats, Merger};
use super::order::{Assume, Consumer, GoState, Ordering, Stitch, Transition};
use super::tables::{GenTables, Resolver};
use super::translate::{GenEpisodes, Origin, Tracker};
use super::{Cut, Decoder, Options, Stats, truncation_warning};
use crate::episodes::{Change, Core, Slot};
use crate::gtable::GTable;
use crate::header::HEADER_LEN;
use crate::{
    Categories, Category, DecodeError, Episode, EpisodeSink, Frame, FrameId, Ids, Part, StackId,
    Sym, Tables, TraceSummary, Waker,
};

/// Items (episodes and handed-over changes) per chunk: each chunk sent may
/// wake the caller's thread, and a wakeup costs microseconds on a VM (with
/// one worker on the 231 MB bench trace, 2048 items per chunk cost 0.13–0.21 s
/// of system time and 8,000 context switches; this 0.05 s and 1,100).
pub(crate) const CHUNK: usize = 16384;
/// Episodes folded into one part ([`Folding`]) before it is sent: a part
/// holds one entry per key, whatever the number of episodes, and a new
/// part starts its keys and goroutine sets anew.
const FOLD_CHUNK: u64 = 1 << 18;
/// Items handed over and not yet applied, over all generations in flight
/// (of 56 bytes each: [`window_bytes`]). Each generation gets an equal
/// share: two workers, three generations, 2 M items each — more than the
/// bench trace's generations hold (~1.5 M episodes), so a worker finishes
/// its generation while the caller applies the one before instead of
/// waiting for it (a quarter of that window took 0.79–0.86 s instead of
/// 0.65–0.71 s on 2 cores; docs/performance.md).
pub(crate) const WINDOW_ITEMS: usize = 6 << 20;
/// Spare chunk buffers kept for reuse (fresh ones cost page faults).
const SPARE: usize = 128;

/// The most memory the parallel decoder holds in episodes handed over by
/// the workers and not yet passed to the sink, whatever the number of
/// workers: each generation in flight may be that share of it ahead of the
/// caller. One thread holds none.
pub const fn window_bytes() -> u64 {
    (WINDOW_ITEMS * std::mem::size_of::<Item>()) as u64
}

/// Items per chunk: [`CHUNK`] unless a test says otherwise.
fn chunk_items(options: &Options) -> usize {
    match options.chunk_items {
        0 => CHUNK,
        n => n,
    }
}

/// Episodes per part: [`FOLD_CHUNK`] unless a test said otherwise (then
/// as many as items per chunk).
fn fold_items(options: &Options) -> u64 {
    match options.chunk_items {
        0 => FOLD_CHUNK,
        n => n as u64,
    }
}

/// Episodes folded between two checks of a part's size ([`PartBudget`]):
/// [`crate::Part::bytes`] may walk the part, whose keys are at most the
/// episodes folded, and a part grows by about a key's worth per episode
/// (a kilobyte with the details), so it passes its budget by at most that.
const CHECK_PART: u64 = 1024;

/// When a worker sends its part on: once it has folded `per_part`
/// episodes, or once the part and the chunk's items hold `bytes`, asked
/// every `every` episodes.
#[derive(Clone, Copy, Debug)]
struct PartBudget {
    per_part: u64,
    bytes: usize,
    every: u64,
}

impl PartBudget {
    /// [`FOLD_CHUNK`] episodes or a chunk of items' worth of bytes, asked
    /// every [`CHECK_PART`] episodes, unless a test says otherwise.
    fn of(options: &Options) -> Self {
        let (bytes, every) = match options.part_bytes {
            0 => (
                chunk_items(options) * std::mem::size_of::<Item>(),
                CHECK_PART,
            ),
            n => (n, 1),
        };
        PartBudget {
            per_part: fold_items(options),
            bytes,
            every,
        }
    }

    /// The number of episodes folded at which to ask again, after `folded`.
    fn next_check(&self, folded: u64) -> u64 {
        folded.saturating_add(self.every).min(self.per_part)
    }
}

/// Chunks of `chunk` items a worker may be ahead of the caller in one of
/// `window` generations in flight.
fn capacity(window: usize, chunk: usize) -> usize {
    (WINDOW_ITEMS / chunk / window.max(1)).max(1)
}
/// How often (chunks) the back reports progress inside a generation.
const PROGRESS_EVERY: u32 = 256;

/// The trace's time origin, which every worker's episodes are timed from
/// as on one thread: the first generation's worker publishes it once that
/// generation's tables are built (or that there will be none), the others
/// wait for it before their first transition.
struct TraceOrigin {
    state: Mutex<OriginState>,
    known: Condvar,
}

/// The trace's time origin as the workers know it.
#[derive(Clone, Copy)]
enum OriginState {
    /// The first generation's worker has not computed it yet.
    Pending,
    Known(i64),
    /// It never will (that generation failed, and the stitch with it).
    Never,
}

impl TraceOrigin {
    fn new() -> Self {
        TraceOrigin {
            state: Mutex::new(OriginState::Pending),
            known: Condvar::new(),
        }
    }

    /// Sets the origin (`None`: there will be none), unless it is set.
    fn set(&self, origin: Option<i64>) {
        if let Ok(mut o) = self.state.lock()
            && matches!(*o, OriginState::Pending)
        {
            *o = origin.map_or(OriginState::Never, OriginState::Known);
            self.known.notify_all();
        }
    }

    /// The origin, once the first generation's worker has it.
    fn get(&self) -> Option<i64> {
        let mut o = self.state.lock().ok()?;
        loop {
            match *o {
                OriginState::Known(t) => return Some(t),
                OriginState::Never => return None,
                OriginState::Pending => o = self.known.wait(o).ok()?,
            }
        }
    }
}

/// What a worker hands over, in the order of the transitions that made it:
/// an episode built on the worker (the worker's string and stack ids), or
/// a marker of a handed-over change ([`Handed`], kept beside
/// the items in [`Chunk::changes`]: a few per goroutine and generation).
///
/// An [`Episode`] packed into 56 bytes instead of 72 plus a tag (80): the
/// items are written on a worker's core and read on the caller's, so their
/// size is memory traffic (docs/performance.md, "Items of 56 bytes").
#[derive(Clone, Copy, Debug)]
pub(crate) struct Item {
    /// The goroutine; for a change, its index in [`Chunk::changes`].
    goroutine: u64,
    start_ns: u64,
    end_ns: u64,
    /// The waker's goroutine, when [`flags::WAKER_G`].
    waker_g: u64,
    reason: Sym,
    stack: StackId,
    /// When [`flags::WAKER`].
    waker_stack: StackId,
    /// When [`flags::CREATOR`].
    creator: StackId,
    category: Category,
    flags: u8,
}

const _: () = assert!(std::mem::size_of::<Item>() == 56);

/// [`Item::flags`].
mod flags {
    /// The item marks a handed-over change.
    pub const CHANGE: u8 = 1;
    pub const BEGAN: u8 = 1 << 1;
    pub const OPEN: u8 = 1 << 2;
    /// The episode has a waker …
    pub const WAKER: u8 = 1 << 3;
    /// … with a goroutine.
    pub const WAKER_G: u8 = 1 << 4;
    pub const CREATOR: u8 = 1 << 5;
    /// Its creator is the one the caller knows for the goroutine (created
    /// in an earlier generation).
    pub const INHERIT: u8 = 1 << 6;
}

impl Item {
    #[inline(always)]
    fn episode(ep: &Episode, inherit: bool) -> Item {
        let bit = |on: bool, f: u8| if on { f } else { 0 };
        let waker = ep.waker.unwrap_or(Waker {
            goroutine: None,
            stack: StackId::EMPTY,
        });
        Item {
            goroutine: ep.goroutine,
            start_ns: ep.start_ns,
            end_ns: ep.end_ns,
            waker_g: waker.goroutine.unwrap_or(0),
            reason: ep.reason,
            stack: ep.stack,
            waker_stack: waker.stack,
            creator: ep.creator.unwrap_or(StackId::EMPTY),
            category: ep.category,
            flags: bit(ep.began_before_trace, flags::BEGAN)
                | bit(ep.open_at_end, flags::OPEN)
                | bit(ep.waker.is_some(), flags::WAKER)
                | bit(waker.goroutine.is_some(), flags::WAKER_G)
                | bit(ep.creator.is_some(), flags::CREATOR)
                | bit(inherit, flags::INHERIT),
        }
    }

    /// The marker of `changes[index]`.
    fn change(index: usize) -> Item {
        Item {
            goroutine: index as u64,
            start_ns: 0,
            end_ns: 0,
            waker_g: 0,
            reason: Sym(0),
            stack: StackId::EMPTY,
            waker_stack: StackId::EMPTY,
            creator: StackId::EMPTY,
            category: Category::Other,
            flags: flags::CHANGE,
        }
    }

    #[inline(always)]
    fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
}

/// A change of a goroutine whose episode state the worker does not know
/// (it depends on an earlier generation), at raw `time`, with the worker's
/// ids; `end`: the goroutine then no longer exists.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Handed {
    g: u64,
    time: i64,
    change: Change,
    end: bool,
}

/// The entries a worker's tables gained since its previous chunk, by the
/// worker's ids (which count from where the previous chunk stopped).
#[derive(Debug, Default)]
pub(crate) struct TableDelta {
    strings: Vec<Box<str>>,
    frames: Vec<Frame>,
    stacks: Vec<Box<[FrameId]>>,
}

/// Items in order (and the changes they mark), the entries of the worker's
/// tables they may use, what the ordering assumed before them, and how many
/// transitions they cover.
pub(crate) struct Chunk {
    items: Vec<Item>,
    changes: Vec<Handed>,
    /// The episodes folded on the worker instead of handed over as items
    /// (a sink with [`crate::Parts`]), and how many.
    part: Option<Box<dyn Part>>,
    folded: u64,
    delta: TableDelta,
    assumed: Vec<Assume>,
    transitions: u64,
}

/// What the workers need to fold their episodes into the sink's parts
/// ([`crate::Parts`]) instead of handing them over: new parts, and when to
/// send one on.
pub(crate) struct Folding {
    /// When a part is sent on.
    budget: PartBudget,
    seed: Mutex<Box<dyn Part>>,
    spare: Mutex<Vec<Box<dyn Part>>>,
}

impl Folding {
    fn new(parts: &dyn crate::Parts, budget: PartBudget) -> Self {
        Folding {
            budget,
            seed: Mutex::new(parts.part()),
            spare: Mutex::new(Vec::new()),
        }
    }

    /// An empty part (a reused one when there is).
    fn part(&self) -> Option<Box<dyn Part>> {
        if let Some(p) = self.spare.lock().ok()?.pop() {
            return Some(p);
        }
        Some(self.seed.lock().ok()?.empty())
    }

    /// Keeps an emptied part for reuse, unless what it kept of its
    /// capacity is its budget already.
    fn recycle(&self, p: Box<dyn Part>) {
        if p.bytes() >= self.budget.bytes {
            return;
        }
        if let Ok(mut s) = self.spare.lock()
            && s.len() < SPARE
        {
            s.push(p);
        }
    }
}

/// A goroutine's episode state on a worker (kept in the ordering's state
/// of the goroutine, as on one thread: one lookup serves both).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WSlot {
    slot: Slot,
    /// `slot` is the goroutine's state (else it depends on an earlier
    /// generation, and its changes are handed over).
    known: bool,
    /// `slot`'s creator is the goroutine's (it was created in this
    /// generation, or the generation is the trace's first).
    creator_known: bool,
}

/// The episode state of the goroutines a worker knew at its generation's
/// end (by the worker's ids), and those that ended in it.
pub(crate) struct Slots {
    known: Vec<(u64, Slot, bool)>,
    ended: Vec<u64>,
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
    /// Episodes and changes, in order.
    Items(Chunk),
    /// The worker's episode state at the generation's end (after its last
    /// chunk).
    Slots(Box<Slots>),
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
/// thread (a worker, through [`Local`]), or a [`Resume`].
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
    type Slot = WSlot;

    fn send(&mut self, m: Msg) -> ControlFlow<()> {
        if let Msg::Gen { tables, origin, .. } = &m {
            self.gt = Some(Arc::clone(tables));
            self.origin = *origin;
            if self.first {
                self.trace_origin.set(Some(*origin));
            }
        }
        Channel::send(self, m)
    }

    fn order(
        &mut self,
        merger: &mut Merger,
        inp: &GenInput<'_>,
        order: &mut Ordering<WSlot>,
    ) -> Result<GenStats, DecodeError> {
        let Some(gt) = self.gt.take() else {
            return Err(DecodeError::Cancelled);
        };
        let mut local = Local::new(self, gt);
        let res = merger.run(inp, order, &mut local);
        let sent = local.finish(order.slots());
        let stats = res?;
        sent?;
        Ok(stats)
    }
}

/// The ordering's consumer on a worker: builds the generation's episodes
/// with its own episode core, tables and slots, and sends them in chunks,
/// each with what the ordering assumed before its transitions. The changes
/// of a goroutine whose episode state depends on an earlier generation
/// (before its first change that sets the whole state) are handed over
/// instead, for the caller to apply to the state it carries.
pub(crate) struct Local<'h, 'p> {
    out: &'h mut Channel<'p>,
    gt: Arc<GenTables>,
    core: Core<Origin>,
    tables: Tables,
    res: Resolver,
    items: Vec<Item>,
    changes: Vec<Handed>,
    /// Where the episodes go instead of `items` (see [`Folding`]), and how
    /// many went there.
    part: Option<Box<dyn Part>>,
    folded: u64,
    /// The generation is the trace's first ([`Channel::first`]).
    first: bool,
    /// `folded` at which to ask whether the part is full
    /// ([`PartBudget`]; never without parts).
    check_at: u64,
    /// `items` hold a chunk, or `folded` reached `check_at`: checked once
    /// the event is applied ([`Consumer::settled`]).
    due: bool,
    assumed: Vec<Assume>,
    transitions: u64,
    ended: Vec<u64>,
    /// Entries of `tables` already sent: strings, frames, stacks.
    sent: (usize, usize, usize),
    stopped: bool,
}

/// A sink for changes applied only to learn the state they leave.
struct Discard;

impl EpisodeSink for Discard {
    fn episode(&mut self, _: &Episode, _: &Tables) {}
}

/// Records a worker's episodes as [`Item`]s, or folds them into a part
/// with the trace's origin applied.
struct Record<'b> {
    items: &'b mut Vec<Item>,
    inherit: bool,
    fold: Option<&'b mut dyn Part>,
    folded: &'b mut u64,
    /// Set once `items` hold `chunk` or `folded` reaches `check_at`
    /// ([`Local::check_due`]).
    due: &'b mut bool,
    chunk: usize,
    check_at: u64,
}

impl EpisodeSink for Record<'_> {
    #[inline(always)]
    fn episode(&mut self, ep: &Episode, tables: &Tables) {
        match &mut self.fold {
            Some(part) => {
                if self.inherit && ep.creator.is_some() {
                    // Only the caller knows it ([`crate::Ids::creator`]).
                    let ep = Episode {
                        creator: None,
                        ..*ep
                    };
                    part.episode(&ep, tables);
                } else {
                    part.episode(ep, tables);
                }
                *self.folded += 1;
                *self.due |= *self.folded >= self.check_at;
            }
            None => {
                self.items.push(Item::episode(ep, self.inherit));
                *self.due |= self.items.len() >= self.chunk;
            }
        }
    }
}

impl<'h, 'p> Local<'h, 'p> {
    fn new(out: &'h mut Channel<'p>, gt: Arc<GenTables>) -> Self {
        let mut tables = Tables::new();
        // Without an origin the first generation failed: the stitch falls
        // back to one thread, so this generation stops at once.
        let origin = out.trace_origin.get();
        let core = Core::new(Origin(origin.unwrap_or(0)), &mut tables, out.wanted);
        let items = out.buffer();
        let part = out.folding.and_then(Folding::part);
        let check_at = Local::first_check(out.folding);
        let first = out.first;
        Local {
            out,
            gt,
            core,
            tables,
            res: Resolver::default(),
            items,
            changes: Vec::new(),
            part,
            folded: 0,
            first,
            check_at,
            due: false,
            assumed: Vec::new(),
            transitions: 0,
            ended: Vec::new(),
            sent: (1, 0, 1),
            stopped: origin.is_none(),
        }
    }

    /// `check_at` for an empty part.
    fn first_check(folding: Option<&Folding>) -> u64 {
        folding.map_or(u64::MAX, |f| f.budget.next_check(0))
    }

    /// The chunk's items are a chunk, or the part is due for a check
    /// ([`PartBudget`]): sends both on if either is full.
    #[cold]
    #[inline(never)]
    fn check_due(&mut self) {
        self.due = false;
        let Some(budget) = self.out.folding.map(|f| f.budget) else {
            return self.flush();
        };
        let weight = || {
            self.items.len() * std::mem::size_of::<Item>()
                + self.part.as_deref().map_or(0, |p| p.bytes())
        };
        if self.items.len() >= self.out.chunk
            || self.folded >= budget.per_part
            || weight() >= budget.bytes
        {
            self.flush();
        } else {
            self.check_at = budget.next_check(self.folded);
        }
    }

    /// What `tables` gained since the last chunk.
    fn delta(&mut self) -> TableDelta {
        let t = &self.tables;
        let (s0, f0, k0) = self.sent;
        let delta = TableDelta {
            strings: (s0..t.string_count())
                .map(|i| t.str(Sym(i as u32)).into())
                .collect(),
            frames: (f0..t.frame_count())
                .map(|i| *t.frame(FrameId(i as u32)))
                .collect(),
            stacks: (k0..t.stack_count())
                .map(|i| t.stack(StackId(i as u32)).into())
                .collect(),
        };
        self.sent = (t.string_count(), t.frame_count(), t.stack_count());
        delta
    }

    #[cold]
    #[inline(never)]
    fn flush(&mut self) {
        if self.stopped
            || (self.items.is_empty()
                && self.folded == 0
                && self.assumed.is_empty()
                && self.transitions == 0)
        {
            return;
        }
        let next = self.out.buffer();
        let part = if self.folded > 0 {
            let next = self.out.folding.and_then(Folding::part);
            std::mem::replace(&mut self.part, next)
        } else {
            None
        };
        let chunk = Chunk {
            items: std::mem::replace(&mut self.items, next),
            changes: std::mem::take(&mut self.changes),
            part,
            folded: std::mem::take(&mut self.folded),
            delta: self.delta(),
            assumed: std::mem::take(&mut self.assumed),
            transitions: std::mem::take(&mut self.transitions),
        };
        self.check_at = Local::first_check(self.out.folding);
        if self.out.send(Msg::Items(chunk)).is_break() {
            self.stopped = true;
        }
    }

    /// Sends what is buffered, then the episode state at the generation's
    /// end (`slots`: the ordering's); `Err(Cancelled)` if the back has
    /// stopped.
    fn finish<'s>(
        mut self,
        slots: impl Iterator<Item = (u64, &'s WSlot)>,
    ) -> Result<(), DecodeError> {
        self.flush();
        let known = slots
            .filter(|(_, w)| w.known)
            .map(|(g, w)| (g, w.slot, w.creator_known))
            .collect();
        let slots = Slots {
            known,
            ended: std::mem::take(&mut self.ended),
        };
        if self.stopped || self.out.send(Msg::Slots(Box::new(slots))).is_break() {
            return Err(DecodeError::Cancelled);
        }
        Ok(())
    }
}

impl Consumer for Local<'_, '_> {
    type Slot = WSlot;

    #[inline(always)]
    fn transition(&mut self, t: &Transition<'_>, w: &mut WSlot) {
        self.transitions += 1;
        let mut ge = GenEpisodes {
            tracker: &mut self.core,
            origin: self.out.origin,
            gt: &self.gt,
            res: &mut self.res,
            tables: &mut self.tables,
            sink: &mut Discard,
            bytes: self.out.bytes,
        };
        let change = ge.change(t);
        if let Some((time, change)) = change {
            if !w.known && self.first {
                // The trace's first generation: every goroutine starts
                // with nothing known, as on one thread.
                (w.known, w.creator_known) = (true, true);
            }
            if w.known {
                let mut rec = Record {
                    items: &mut self.items,
                    inherit: !w.creator_known,
                    fold: self.part.as_deref_mut(),
                    folded: &mut self.folded,
                    due: &mut self.due,
                    chunk: self.out.chunk,
                    check_at: self.check_at,
                };
                self.core
                    .apply(t.g, &mut w.slot, time, change, &self.tables, &mut rec);
                if matches!(change, Change::Create { .. }) {
                    w.creator_known = true;
                }
            } else {
                let noop = matches!(change, Change::StackSeen { stack } if stack.is_empty());
                if !noop {
                    self.items.push(Item::change(self.changes.len()));
                    self.due |= self.items.len() >= self.out.chunk;
                    self.changes.push(Handed {
                        g: t.g,
                        time,
                        change,
                        end: t.to == GoState::NotExist,
                    });
                }
                // Whether the change sets the whole state (but the
                // creator, unless it is a creation).
                let sets = !matches!(
                    change,
                    Change::Unblock { .. }
                        | Change::SyscallEndBlocked { .. }
                        | Change::StackSeen { .. }
                        | Change::Found { .. }
                );
                if sets {
                    w.slot = Slot::default();
                    self.core
                        .apply(t.g, &mut w.slot, time, change, &self.tables, &mut Discard);
                    w.known = true;
                    w.creator_known = matches!(change, Change::Create { .. });
                }
            }
        }
        if t.to == GoState::NotExist {
            // The ordering drops its state, and with it the slot.
            self.ended.push(t.g);
        }
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
        if self.due {
            self.check_due();
        }
    }
}

/// A worker's ids → the caller's, for the generation being applied.
#[derive(Debug, Default)]
struct Remap {
    syms: Vec<Sym>,
    frames: Vec<FrameId>,
    stacks: Vec<StackId>,
    scratch: Vec<FrameId>,
}

impl Remap {
    fn clear(&mut self) {
        self.syms.clear();
        self.frames.clear();
        self.stacks.clear();
    }

    /// Interns a chunk's new entries in `tables`, in the worker's order
    /// (which is the order one thread would have interned them in).
    fn extend(&mut self, d: &TableDelta, tables: &mut Tables) {
        if self.syms.is_empty() {
            // The entries every table starts with.
            self.syms.push(Sym(0));
            self.stacks.push(StackId::EMPTY);
        }
        for s in &d.strings {
            self.syms.push(tables.intern_str(s));
        }
        for f in &d.frames {
            let f = Frame {
                func: self.sym(f.func),
                file: self.sym(f.file),
                ..*f
            };
            self.frames.push(tables.intern_frame(f));
        }
        for st in &d.stacks {
            self.scratch.clear();
            for f in st.iter() {
                let id = self.frames.get(f.0 as usize).copied().unwrap_or(FrameId(0));
                self.scratch.push(id);
            }
            self.stacks.push(tables.intern_stack(&self.scratch));
        }
    }

    #[inline(always)]
    fn sym(&self, s: Sym) -> Sym {
        self.syms.get(s.0 as usize).copied().unwrap_or_default()
    }

    #[inline(always)]
    fn stack(&self, s: StackId) -> StackId {
        self.stacks.get(s.0 as usize).copied().unwrap_or_default()
    }
}

/// What a chunk leaves for reuse once applied.
pub(crate) struct Spent {
    items: Vec<Item>,
    part: Option<Box<dyn Part>>,
}

/// A chunk's ids for [`crate::Parts::join`]: the worker's mapped, and the
/// creators of goroutines as the caller knows them.
struct JoinIds<'b> {
    remap: &'b Remap,
    slots: &'b GTable<Slot>,
}

impl Ids for JoinIds<'_> {
    fn stack(&self, s: StackId) -> StackId {
        self.remap.stack(s)
    }

    fn sym(&self, s: Sym) -> Sym {
        self.remap.sym(s)
    }

    /// The caller's slot of a goroutine the worker's episodes inherit the
    /// creator of lives until the generation's end (its end, if it ends,
    /// comes with the worker's slots), as when the item was applied.
    fn creator(&self, g: u64) -> Option<StackId> {
        self.slots.get(g).and_then(Slot::creator)
    }
}

/// The back: turns transitions into episodes for the sink (and applies the
/// workers' episodes and changes), and forwards progress (and with it
/// cancellation) to the sink.
pub(crate) struct Back<'a> {
    pub tracker: Tracker,
    res: Resolver,
    remap: Remap,
    slots: GTable<Slot>,
    gt: Option<Arc<GenTables>>,
    tables: &'a mut Tables,
    sink: &'a mut dyn EpisodeSink,
    /// Where the episodes of a muted replay go ([`Resume`]).
    discard: Discard,
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
            remap: Remap::default(),
            slots: GTable::default(),
            gt: None,
            tables,
            sink,
            discard: Discard,
            bytes,
            done: 0,
            chunks: 0,
        }
    }

    /// Handles one message of the generation being applied; `Break` when
    /// the sink cancelled. A chunk's buffer and part are handed back for
    /// reuse.
    pub fn handle(&mut self, m: Msg) -> (ControlFlow<()>, Option<Spent>) {
        match m {
            Msg::Gen {
                tables,
                start,
                origin,
            } => {
                self.gt = Some(tables);
                self.res.clear();
                self.remap.clear();
                self.done = start;
                self.tracker.clock = Origin(origin);
                (ControlFlow::Continue(()), None)
            }
            Msg::Items(c) => {
                self.remap.extend(&c.delta, self.tables);
                self.apply(&c.items, &c.changes);
                let mut part = c.part;
                if let (Some(p), Some(parts)) = (part.as_deref_mut(), self.sink.parts()) {
                    let ids = JoinIds {
                        remap: &self.remap,
                        slots: &self.slots,
                    };
                    parts.join(p, &ids);
                }
                self.tracker.episodes += c.folded;
                self.chunks += 1;
                let flow = if self.chunks.is_multiple_of(PROGRESS_EVERY) {
                    self.progress()
                } else {
                    ControlFlow::Continue(())
                };
                let spent = Spent {
                    items: c.items,
                    part,
                };
                (flow, Some(spent))
            }
            Msg::Slots(s) => {
                self.take_slots(&s);
                (ControlFlow::Continue(()), None)
            }
            Msg::GenEnd(end) => {
                // Let the front reuse the tables' allocations.
                self.gt = None;
                (self.sink.progress(end, self.bytes.len() as u64), None)
            }
            Msg::Done(_) | Msg::Cut(_) | Msg::Failed => (ControlFlow::Continue(()), None),
        }
    }

    /// Passes a worker's episodes to the sink and applies its changes, in
    /// order.
    fn apply(&mut self, items: &[Item], changes: &[Handed]) {
        let clock = self.tracker.clock;
        let remap = &self.remap;
        for it in items {
            if it.has(flags::CHANGE) {
                let Some(&Handed {
                    g,
                    time,
                    change,
                    end,
                }) = changes.get(it.goroutine as usize)
                else {
                    continue;
                };
                let change = change.map_ids(|s| remap.sym(s), |s| remap.stack(s));
                // Found only in the first generation, at the origin.
                let time = match change {
                    Change::Found { .. } => clock.0,
                    _ => time,
                };
                let slot = self.slots.get_mut(g);
                self.tracker
                    .apply(g, slot, time, change, self.tables, &mut *self.sink);
                if end {
                    self.slots.remove(g);
                }
                continue;
            }
            let ep = Episode {
                goroutine: it.goroutine,
                category: it.category,
                reason: remap.sym(it.reason),
                start_ns: it.start_ns,
                end_ns: it.end_ns,
                began_before_trace: it.has(flags::BEGAN),
                open_at_end: it.has(flags::OPEN),
                stack: remap.stack(it.stack),
                waker: it.has(flags::WAKER).then(|| Waker {
                    goroutine: it.has(flags::WAKER_G).then_some(it.waker_g),
                    stack: remap.stack(it.waker_stack),
                }),
                creator: if it.has(flags::INHERIT) {
                    self.slots.get(it.goroutine).and_then(Slot::creator)
                } else {
                    it.has(flags::CREATOR).then(|| remap.stack(it.creator))
                },
            };
            self.tracker.episodes += 1;
            self.sink.episode(&ep, self.tables);
        }
    }

    /// Takes over a worker's episode state at its generation's end.
    fn take_slots(&mut self, s: &Slots) {
        for &g in &s.ended {
            self.slots.remove(g);
        }
        let remap = &self.remap;
        for &(g, slot, creator_known) in &s.known {
            let mut slot = slot.map_ids(|s| remap.sym(s), |s| remap.stack(s));
            if !creator_known {
                slot.inherit_creator(self.slots.get(g));
            }
            *self.slots.get_mut(g) = slot;
        }
    }

    /// The episode builder of the current generation (none between
    /// generations), its episodes to the sink or (`muted`) to nowhere, and
    /// the goroutines' slots.
    #[inline(always)]
    fn episodes(&mut self, muted: bool) -> Option<(GenEpisodes<'_>, &mut GTable<Slot>)> {
        let gt = self.gt.as_deref()?;
        let sink: &mut dyn EpisodeSink = if muted {
            &mut self.discard
        } else {
            &mut *self.sink
        };
        let ge = GenEpisodes {
            origin: self.tracker.clock.0,
            tracker: &mut self.tracker,
            gt,
            res: &mut self.res,
            tables: self.tables,
            sink,
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
        if let Some((mut ge, _)) = self.episodes(false) {
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
    pub spare: &'p Mutex<Vec<Vec<Item>>>,
    bytes: &'p [u8],
    /// The categories of the episodes the sink wants.
    wanted: Categories,
    /// The generation is the trace's first (nothing before it).
    first: bool,
    /// The generation's tables and time origin, from its [`Msg::Gen`].
    gt: Option<Arc<GenTables>>,
    origin: i64,
    /// Items per chunk.
    chunk: usize,
    /// Set when the sink folds in parts.
    folding: Option<&'p Folding>,
    trace_origin: &'p TraceOrigin,
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
    pub fn buffer(&mut self) -> Vec<Item> {
        let spare = self.spare.lock().ok().and_then(|mut s| s.pop());
        match spare {
            Some(mut b) => {
                b.clear();
                b
            }
            None => Vec::with_capacity(self.chunk),
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
/// trace from its start and applies every transition as the one-thread
/// decoder does (with the back's own slots, emptied first), the sink muted
/// for the transitions whose episodes it has already had.
struct Resume<'b, 'a> {
    back: &'b mut Back<'a>,
    /// Transitions still to apply muted.
    skip: u64,
    /// Episodes the sink had when the stitch failed.
    emitted: u64,
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
        let muted = self.skip > 0;
        if let Some((mut ge, slots)) = self.back.episodes(muted) {
            step(&mut ge, slots, t);
        }
        if muted {
            self.skip -= 1;
            if self.skip == 0 {
                self.back.tracker.episodes = self.emitted;
            }
        }
    }

    fn tick(&mut self) -> Result<(), DecodeError> {
        if self.progress().is_break() {
            return Err(DecodeError::Cancelled);
        }
        Ok(())
    }
}

/// What the workers share with one another and with the caller's thread.
struct Shared {
    /// The categories of the episodes the sink wants.
    wanted: Categories,
    /// Items per chunk.
    chunk: usize,
    jobs: Mutex<Receiver<Job>>,
    /// Chunk buffers for reuse.
    spare: Mutex<Vec<Vec<Item>>>,
    /// Set when the sink folds in parts.
    folding: Option<Folding>,
    origin: TraceOrigin,
}

/// Orders generations handed out through `jobs` until there are no more.
fn work(bytes: &[u8], minor: u32, sh: &Shared) {
    let mut d = Decoder::<WSlot>::new(bytes, minor, &Options::default());
    loop {
        let job = match sh.jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return;
        };
        let mut chan = Channel {
            tx: job.tx,
            spare: &sh.spare,
            bytes,
            wanted: sh.wanted,
            first: job.first,
            gt: None,
            origin: 0,
            chunk: sh.chunk,
            folding: sh.folding.as_ref(),
            trace_origin: &sh.origin,
        };
        let res = d.order_job(&job.gb, job.last, job.first, &mut chan);
        if job.first {
            // Failed before its tables were sent: the workers waiting for
            // the origin stop (the stitch fails anyway).
            sh.origin.set(None);
        }
        let msg = match res {
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
    let (job_tx, job_rx) = std::sync::mpsc::channel::<Job>();
    let sh = Shared {
        wanted: back.sink.categories(),
        chunk: chunk_items(options),
        jobs: Mutex::new(job_rx),
        spare: Mutex::new(Vec::new()),
        folding: back
            .sink
            .parts()
            .map(|p| Folding::new(p, PartBudget::of(options))),
        origin: TraceOrigin::new(),
    };
    let sh = &sh;
    let mut st = Stitcher::new(bytes, minor, options);
    let outcome = std::thread::scope(|scope| {
        let mut started = 0;
        for i in 0..workers {
            let spawned = std::thread::Builder::new()
                .name(format!("goblock-v2-gen{i}"))
                .spawn_scoped(scope, || work(bytes, minor, sh));
            if spawned.is_ok() {
                started += 1;
            }
        }
        if started == 0 {
            return None;
        }
        // Dropping the job sender and the receivers (at return) stops the
        // workers: a send to a dropped receiver fails at the next chunk.
        Some(st.stitch(back, job_tx, started + 1, &sh.spare, sh.folding.as_ref()))
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
            options: options.clone(),
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
        spare: &Mutex<Vec<Vec<Item>>>,
        folding: Option<&Folding>,
    ) -> Result<(), Stop> {
        let mut splitter = Splitter::new(self.minor, HEADER_LEN);
        let mut queue: VecDeque<Next> = VecDeque::new();
        let mut split_done = false;
        let mut first = true;
        loop {
            while queue.len() < window && !split_done {
                let mut gb = GenBatches::default();
                // Input still arriving: wait for the next generation only
                // when there is nothing else to apply meanwhile.
                let arriving = self.options.arriving.as_deref();
                match splitter.next_arrived(self.bytes, arriving, &mut gb, queue.is_empty()) {
                    Ok(None) => break,
                    Ok(Some(None)) => split_done = true,
                    Ok(Some(Some(GenEnd::Truncated { offset, what }))) => {
                        queue.push_back(Next::Truncated(gb, Cut { offset, what }));
                        split_done = true;
                    }
                    Ok(Some(Some(GenEnd::Complete { last }))) => {
                        let (tx, rx) = sync_channel(capacity(window, chunk_items(&self.options)));
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
                    if !self.apply(back, &rx, spare, folding)? {
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
        spare: &Mutex<Vec<Vec<Item>>>,
        folding: Option<&Folding>,
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
                Msg::Items(chunk) => {
                    for a in &chunk.assumed {
                        if !self.state.holds(a, &mut stitch, self.bytes) {
                            return Err(Stop::Fallback);
                        }
                    }
                    let n = chunk.transitions;
                    let (flow, spent) = back.handle(Msg::Items(chunk));
                    self.applied += n;
                    if let Some(spent) = spent {
                        if let Ok(mut s) = spare.lock()
                            && s.len() < SPARE
                        {
                            s.push(spent.items);
                        }
                        if let (Some(p), Some(f)) = (spent.part, folding) {
                            f.recycle(p);
                        }
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
                Msg::Slots(slots) => {
                    let _ = back.handle(Msg::Slots(slots));
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

    /// Decodes again on this thread, the sink muted for what was applied.
    fn fallback(&mut self, back: &mut Back<'_>) -> Result<(TraceSummary, Stats), DecodeError> {
        back.slots.clear();
        let emitted = back.tracker.episodes;
        let mut resume = Resume {
            back,
            skip: self.applied,
            emitted,
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
