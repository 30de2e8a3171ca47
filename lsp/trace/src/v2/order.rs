//! The scheduler state machine that decides whether an event can be applied
//! next, and applies it: a port of Go's `internal/trace/order.go`
//! (`ordering.Advance` and every `advance*` handler, identical in Go 1.26 and
//! 1.27), with the same preconditions, the same state updates and the same
//! error texts (so Go's synthetic edge-case traces succeed or fail exactly as
//! with Go's reader). Each handler names the Go function it ports (`/// Go:
//! advanceGoStart`) and keeps Go's comments at its preconditions, so that
//! it can be diffed against the next Go release's `order.go`.
//!
//! It tracks, across generations, the status and sequence counter of every
//! goroutine and P, the goroutine and P bound to every M, the GC cycle, user
//! tasks and regions, and in-flight ranges (STW, sweep, mark assist). An
//! event from M `m` either cannot advance yet (`Ok(false)`: another M must
//! go first — the partial order given by per-G / per-P sequence numbers), or
//! is applied (`Ok(true)`), or proves the trace broken (`Err`).
//!
//! Every goroutine state transition (including the synthetic ones Go derives
//! from `GoSwitch`) of a goroutine the ordering knows is handed to a
//! [`Consumer`]; a goroutine's last one is its transition to `NotExist`,
//! after which Go drops its `gState`. Deciding what a
//! transition *means* (episodes) is `translate.rs`' and the episode core's job; ordering events of
//! different Ms is `merge.rs`'.

mod stitch;

use super::events::{self, ev};
use super::tables::GenTables;
use crate::DecodeError;
use crate::fxhash::FxHashMap;
use crate::gtable::GTable;
pub(crate) use stitch::{Assume, Owner, Stitch};

/// `NoGoroutine`, `NoProc`, `NoThread` (all −1 in Go).
pub(crate) const NO_G: u64 = u64::MAX;
pub(crate) const NO_P: u64 = u64::MAX;
pub(crate) const NO_M: u64 = u64::MAX;
/// `NoTask`.
const NO_TASK: u64 = u64::MAX;

/// Wire goroutine status (`tracev2.GoStatus`).
mod gs {
    pub const RUNNABLE: u64 = 1;
    pub const RUNNING: u64 = 2;
    pub const SYSCALL: u64 = 3;
    pub const WAITING: u64 = 4;
}

/// Wire P status (`tracev2.ProcStatus`).
mod ps {
    pub const RUNNING: u64 = 1;
    pub const IDLE: u64 = 2;
    pub const SYSCALL: u64 = 3;
    pub const ABANDONED: u64 = 4;
}

/// Goroutine state as seen by a transition (Go's `GoState`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GoState {
    /// Not known yet (first status of the first generation).
    Undetermined,
    /// Not created yet / destroyed.
    NotExist,
    /// Runnable.
    Runnable,
    /// Running.
    Running,
    /// Waiting (blocked).
    Waiting,
    /// In a system call.
    Syscall,
}

impl GoState {
    fn of_wire(status: u64) -> GoState {
        match status {
            gs::RUNNABLE => GoState::Runnable,
            gs::RUNNING => GoState::Running,
            gs::SYSCALL => GoState::Syscall,
            gs::WAITING => GoState::Waiting,
            _ => GoState::Undetermined,
        }
    }
}

fn go_status_name(s: u64) -> &'static str {
    match s {
        gs::RUNNABLE => "Runnable",
        gs::RUNNING => "Running",
        gs::SYSCALL => "Syscall",
        gs::WAITING => "Waiting",
        _ => "Bad",
    }
}

fn proc_status_name(s: u64) -> &'static str {
    match s {
        ps::RUNNING => "Running",
        ps::IDLE => "Idle",
        ps::SYSCALL => "Syscall",
        ps::ABANDONED => "SyscallAbandoned",
        _ => "Bad",
    }
}

/// One timed event, with arguments after the timestamp delta.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ev {
    /// Event type.
    pub typ: u8,
    /// Time in ns (Go's per-delta conversion, not made strictly increasing).
    pub time: i64,
    /// Arguments after the delta.
    pub args: [u64; events::MAX_ARGS],
    /// Byte offset of the event in the file.
    pub offset: usize,
}

/// The scheduling context of an event (Go's `schedCtx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ctx {
    pub g: u64,
    pub p: u64,
    pub m: u64,
}

/// A goroutine state transition, in Go's reader order.
#[derive(Debug)]
pub(crate) struct Transition<'a> {
    /// The event (possibly synthesised: `GoBlock`, `GoStart`, `GoDestroy`
    /// derived from `GoSwitch*`, with zero arguments).
    pub ev: &'a Ev,
    /// Its time: the raw time, or Go's reader's in Go-reader time mode.
    pub time: i64,
    /// Source event type when `ev` is synthesised, else `ev.typ`.
    pub source: u8,
    /// The goroutine.
    pub g: u64,
    /// State before.
    pub from: GoState,
    /// State after.
    pub to: GoState,
    /// The goroutine running where the event happened (e.g. the unblocker
    /// for `GoUnblock`), `NO_G` if none.
    pub ctx_g: u64,
}

/// Receives goroutine transitions.
pub(crate) trait Consumer {
    /// What the consumer keeps per goroutine, stored in the ordering's own
    /// goroutine state (one lookup serves both): created with the goroutine,
    /// dropped when the ordering forgets it.
    type Slot: Default + Clone;
    /// One transition, with the goroutine's slot.
    fn transition(&mut self, t: &Transition<'_>, slot: &mut Self::Slot);
    /// Called every 2²⁰ events: a chance to report progress or cancel.
    fn tick(&mut self) -> Result<(), DecodeError> {
        Ok(())
    }
    /// What an ordering of a later generation from scratch
    /// ([`Ordering::fresh`]) assumed before the transitions that follow
    /// (handed over before the event's [`Consumer::settled`]).
    fn assume(&mut self, _: Assume) {}
    /// An event has been applied (with its transitions and assumptions).
    #[inline(always)]
    fn settled(&mut self) {}
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seq {
    generation: u64,
    seq: u64,
}

impl Seq {
    fn new(generation: u64, seq: u64) -> Seq {
        Seq { generation, seq }
    }
    fn succeeds(self, prev: Seq) -> bool {
        self.generation == prev.generation && self.seq == prev.seq.wrapping_add(1)
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (generation={})", self.seq, self.generation)
    }
}

/// `rangeType`: a "Begin" event type and an optional string id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RangeType {
    typ: u8,
    desc: u64,
}

/// Go's `StartEv` for the range events.
fn start_ev(typ: u8) -> u8 {
    match typ {
        ev::STW_END => ev::STW_BEGIN,
        ev::GC_SWEEP_ACTIVE | ev::GC_SWEEP_END => ev::GC_SWEEP_BEGIN,
        ev::GC_MARK_ASSIST_ACTIVE | ev::GC_MARK_ASSIST_END => ev::GC_MARK_ASSIST_BEGIN,
        ev::GC_ACTIVE | ev::GC_END => ev::GC_BEGIN,
        ev::GO_SYSCALL_END | ev::GO_SYSCALL_END_BLOCKED => ev::GO_SYSCALL_BEGIN,
        ev::USER_REGION_END => ev::USER_REGION_BEGIN,
        _ => 0, // EvNone
    }
}

fn range_type(typ: u8, desc: u64) -> RangeType {
    let s = start_ev(typ);
    RangeType {
        typ: if s != 0 { s } else { typ },
        desc,
    }
}

/// In-flight special ranges of a G or P (`rangeState`).
#[derive(Debug, Default)]
struct Ranges(Vec<RangeType>);

impl Ranges {
    fn has(&self, r: RangeType) -> bool {
        self.0.contains(&r)
    }
    fn begin(&mut self, r: RangeType) -> Result<(), Why> {
        if self.has(r) {
            return Err(cold(format_args!(
                "discovered event already in-flight for when starting event {}",
                events::name(r.typ)
            )));
        }
        self.0.push(r);
        Ok(())
    }
    fn active(&mut self, r: RangeType, initial_gen: bool) -> Result<(), Why> {
        if initial_gen {
            if self.has(r) {
                return Err(cold(format_args!(
                    "found named active range already in first generation: {}",
                    events::name(r.typ)
                )));
            }
            self.0.push(r);
        } else if !self.has(r) {
            return Err(cold(format_args!(
                "resource is missing active range: {}",
                events::name(r.typ)
            )));
        }
        Ok(())
    }
    fn end(&mut self, typ: u8) -> Result<u64, Why> {
        let st = start_ev(typ);
        match self.0.iter().position(|r| r.typ == st) {
            Some(i) => Ok(self.0.swap_remove(i).desc),
            None => Err(cold(format_args!(
                "tried to end event {}, but not in-flight",
                events::name(st)
            ))),
        }
    }
}

/// A user region: task id and name (a string's location in the input; names
/// are compared by content because ids change between generations).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Region {
    task: u64,
    name: (usize, usize),
}

/// Goroutine state (`gState`). Kept small (it is looked up for most
/// events); the rarely used user regions and special
/// ranges live in [`GExtra`], beside.
#[derive(Clone, Debug)]
pub(crate) struct GState<S> {
    status: u64,
    seq: Seq,
    /// The consumer's state of this goroutine ([`Consumer::Slot`]).
    slot: S,
}

impl<S: Default> GState<S> {
    fn new(status: u64, seq: Seq) -> Self {
        GState {
            status,
            seq,
            slot: S::default(),
        }
    }
}

/// Go's `o.gStates`: goroutine id → [`GState`], in a [`GTable`] (most
/// events look a goroutine up; a vector index beats hashing).
#[derive(Debug)]
struct GStates<S>(GTable<Option<GState<S>>>);

impl<S> Default for GStates<S> {
    fn default() -> Self {
        GStates(GTable::default())
    }
}

impl<S: Default + Clone> GStates<S> {
    #[inline(always)]
    fn get(&self, g: &u64) -> Option<&GState<S>> {
        self.0.get(*g)?.as_ref()
    }
    #[inline(always)]
    fn get_mut(&mut self, g: &u64) -> Option<&mut GState<S>> {
        self.0.find_mut(*g)?.as_mut()
    }
    /// The state of goroutine `g` if it is in `status` (the current
    /// goroutine of an event that needs it so); see [`GStates::not_in`].
    #[inline(always)]
    fn get_in(&mut self, g: u64, status: u64) -> Option<&mut GState<S>> {
        self.get_mut(&g).filter(|st| st.status == status)
    }

    /// The state of goroutine `gid` if it is in `status` and `seq` follows
    /// its sequence number: an event naming it (`GoStart`, `GoUnblock`) can
    /// advance now.
    #[inline(always)]
    fn in_sequence(&mut self, gid: u64, status: u64, seq: Seq) -> Option<&mut GState<S>> {
        self.get_mut(&gid)
            .filter(|st| st.status == status && seq.succeeds(st.seq))
    }

    /// Go's error when [`GStates::get_in`] found nothing for event `e`
    /// (`not` names the state its message says is missing).
    #[cold]
    #[inline(never)]
    fn not_in(&self, e: &Ev, g: u64, not: &str) -> Why {
        let name = events::name(e.typ);
        let why = if self.contains_key(&g) {
            format!("{name} event for goroutine that's not {not}")
        } else {
            format!(
                "event {name} for goroutine ({}) that doesn't exist",
                g as i64
            )
        };
        why.into()
    }
    #[inline]
    fn contains_key(&self, g: &u64) -> bool {
        self.get(g).is_some()
    }
    #[inline]
    fn insert(&mut self, g: u64, st: GState<S>) {
        *self.0.get_mut(g) = Some(st);
    }
    #[inline]
    fn remove(&mut self, g: &u64) {
        self.0.remove(*g);
    }
}

/// The rest of Go's `gState`: active user regions and in-flight ranges.
#[derive(Debug, Default)]
struct GExtra {
    regions: Vec<Region>,
    ranges: Ranges,
}

#[derive(Debug)]
struct PState {
    status: u64,
    seq: Seq,
    ranges: Ranges,
}

#[derive(Clone, Copy, Debug)]
struct MState {
    g: u64,
    p: u64,
    /// Go creates an M's state when it first advances one of its events (or
    /// names it in a GoStatus); a slot handed out earlier is not yet "seen".
    seen: bool,
    /// Fields not yet known in a generation ordered from scratch
    /// ([`stitch::UNDEF_G`], [`stitch::UNDEF_P`]; always 0 otherwise).
    undef: u8,
}

/// Per-thread states, indexed by a slot the merger caches per M.
#[derive(Debug, Default)]
struct Threads {
    states: Vec<MState>,
    index: FxHashMap<u64, usize>,
    /// What `undef` a new thread gets.
    undef: u8,
}

impl Threads {
    fn slot(&mut self, m: u64) -> usize {
        if let Some(&i) = self.index.get(&m) {
            return i;
        }
        self.states.push(MState {
            g: NO_G,
            p: NO_P,
            seen: false,
            undef: self.undef,
        });
        self.index.insert(m, self.states.len() - 1);
        self.states.len() - 1
    }
    fn get(&self, m: u64) -> Option<&MState> {
        let i = *self.index.get(&m)?;
        self.states.get(i).filter(|s| s.seen)
    }
    fn get_mut(&mut self, m: u64) -> Option<&mut MState> {
        let i = *self.index.get(&m)?;
        self.states.get_mut(i).filter(|s| s.seen)
    }
    fn insert(&mut self, m: u64, g: u64, p: u64) {
        let i = self.slot(m);
        let undef = self.states[i].undef;
        self.states[i] = MState {
            g,
            p,
            seen: true,
            undef,
        };
    }
    fn any_with_p(&self, p: u64) -> bool {
        self.states.iter().any(|s| s.seen && s.p == p)
    }
}

/// Ps below this id live in a vector.
const DENSE_PROCS: u64 = 1 << 12;

/// Per-P states: dense for the usual small ids.
#[derive(Debug, Default)]
struct Procs {
    dense: Vec<Option<PState>>,
    sparse: FxHashMap<u64, PState>,
}

impl Procs {
    fn get(&self, p: u64) -> Option<&PState> {
        if p < DENSE_PROCS {
            self.dense.get(p as usize)?.as_ref()
        } else {
            self.sparse.get(&p)
        }
    }
    #[inline]
    fn get_mut(&mut self, p: u64) -> Option<&mut PState> {
        if p < DENSE_PROCS {
            self.dense.get_mut(p as usize)?.as_mut()
        } else {
            self.sparse.get_mut(&p)
        }
    }
    /// Go's error when the P of event `e` has no state.
    #[cold]
    #[inline(never)]
    fn missing(e: &Ev, p: u64) -> Why {
        format!(
            "uninitialized proc {} found during {}",
            p as i64,
            events::name(e.typ)
        )
        .into()
    }

    fn insert(&mut self, p: u64, st: PState) {
        if p < DENSE_PROCS {
            let i = p as usize;
            if i >= self.dense.len() {
                self.dense.resize_with(i + 1, || None);
            }
            self.dense[i] = Some(st);
        } else {
            self.sparse.insert(p, st);
        }
    }
}

/// Go-reader time mode (`Reader.lastTs`): see [`Ordering::use_go_reader_times`].
#[derive(Debug, Default)]
struct Clock {
    /// The last time handed out, in Go-reader time mode.
    last: Option<i64>,
    /// Events stamped during the current `advance` (Go-reader time mode).
    stamped: u32,
}

impl Clock {
    #[inline(always)]
    fn stamp(&mut self, t: i64) -> i64 {
        match &mut self.last {
            None => t,
            Some(last) => {
                let t = if t <= *last { last.wrapping_add(1) } else { t };
                *last = t;
                self.stamped += 1;
                t
            }
        }
    }
}

/// Hands one transition to the consumer, stamped (Go-reader time mode).
#[allow(clippy::too_many_arguments)]
#[inline]
fn fire<C: Consumer>(
    c: &mut C,
    clock: &mut Clock,
    e: &Ev,
    source: u8,
    g: u64,
    from: GoState,
    to: GoState,
    ctx: Ctx,
    slot: &mut C::Slot,
) {
    let time = clock.stamp(e.time);
    c.transition(
        &Transition {
            ev: e,
            time,
            source,
            g,
            from,
            to,
            ctx_g: ctx.g,
        },
        slot,
    );
}

/// [`fire`] for goroutine `g` by `e` itself, from `change.0` to `change.1`.
#[inline(always)]
fn fire_to<C: Consumer>(
    c: &mut C,
    clock: &mut Clock,
    e: &Ev,
    g: u64,
    change: (GoState, GoState),
    ctx: Ctx,
    slot: &mut C::Slot,
) {
    fire(c, clock, e, e.typ, g, change.0, change.1, ctx, slot);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GcState {
    Undetermined,
    NotRunning,
    Running,
}

#[derive(Clone, Copy, Debug)]
struct TaskState {
    _parent: u64,
}

/// Go's `constraint`: a presence requirement on one part of the
/// scheduling context.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[allow(clippy::enum_variant_names)] // Go's names: mustNotHave, mayHave, mustHave.
enum Constraint {
    MustNotHave,
    MayHave,
    MustHave,
}

use Constraint::{MayHave, MustHave, MustNotHave};

/// Go's `schedReqs`: a set of constraints on what the scheduling context
/// (thread, proc, goroutine) must look like.
#[derive(Clone, Copy, Debug)]
struct SchedReqs {
    m: Constraint,
    p: Constraint,
    g: Constraint,
}

/// Go's `userGoReqs`: a common requirement among events that are running
/// or are close to running user code.
const USER_GO_REQS: SchedReqs = SchedReqs {
    m: MustHave,
    p: MustHave,
    g: MustHave,
};

/// Go's `validateCtx`. Always inlined: with the requirements constant at
/// each call site, it compiles to a few comparisons.
#[inline(always)]
fn validate_ctx(ctx: Ctx, reqs: SchedReqs) -> Result<(), Why> {
    #[inline(always)]
    fn bad(c: Constraint, have: bool) -> bool {
        (c == MustHave && !have) || (c == MustNotHave && have)
    }
    if bad(reqs.m, ctx.m != NO_M) || bad(reqs.p, ctx.p != NO_P) || bad(reqs.g, ctx.g != NO_G) {
        return Err(ctx_error(ctx, reqs));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn ctx_error(ctx: Ctx, SchedReqs { m, p, g }: SchedReqs) -> Why {
    let msg = if m == MustHave && ctx.m == NO_M {
        "expected a thread but didn't have one"
    } else if m == MustNotHave && ctx.m != NO_M {
        "expected no thread but had one"
    } else if p == MustHave && ctx.p == NO_P {
        "expected a proc but didn't have one"
    } else if p == MustNotHave && ctx.p != NO_P {
        "expected no proc but had one"
    } else if g == MustHave && ctx.g == NO_G {
        "expected a goroutine but didn't have one"
    } else {
        "expected no goroutine but had one"
    };
    msg.into()
}

/// Read-only context of one generation, for the handlers (Go passes `evt
/// *evTable` and `gen uint64`; the handlers call this `evt`, as Go does).
pub(crate) struct GenCtx<'a> {
    pub generation: u64,
    pub tables: &'a GenTables,
    pub bytes: &'a [u8],
}

/// The result of a handler: `Ok(false)` = cannot advance yet; `Ok(true)` =
/// applied, and the M's new context was stored by `Ordering::ret` (directly
/// into the M's state: passing a `Ctx` back by value costs store-forwarding
/// stalls).
type Step = Result<bool, Why>;

/// Why an event proves the trace broken (Go's error text). Boxed so that a
/// [`Step`] fits in two registers: a handler's result is not passed
/// through memory on every event.
type Why = Box<str>;

/// The ordering state (Go's `ordering`), generic over the consumer payload.
pub(crate) struct Ordering<S> {
    g: GStates<S>,
    /// Regions and ranges of goroutines that have any.
    g_extra: FxHashMap<u64, GExtra>,
    p: Procs,
    m: Threads,
    tasks: FxHashMap<u64, TaskState>,
    gc_seq: u64,
    gc_state: GcState,
    initial_gen: u64,
    clock: Clock,
    /// The state slot of the M whose event is being applied.
    cur_slot: usize,
    /// Set when this ordering started on a later generation from scratch
    /// ([`Ordering::fresh`]): what it assumed and touched.
    fresh: Option<Box<stitch::Fresh>>,
}

impl<S> Default for Ordering<S> {
    fn default() -> Self {
        Ordering {
            g: GStates::default(),
            g_extra: FxHashMap::default(),
            p: Procs::default(),
            m: Threads::default(),
            tasks: FxHashMap::default(),
            gc_seq: 0,
            gc_state: GcState::Undetermined,
            initial_gen: 0,
            clock: Clock::default(),
            cur_slot: usize::MAX,
            fresh: None,
        }
    }
}

impl<S: Default + Clone> Ordering<S> {
    /// Switches to Go-reader times: every event Go's reader would return
    /// (including its Sync events and CPU samples, see `merge.rs`) gets
    /// `max(time, previous + 1)`, as in Go's `Reader.ReadEvent`.
    pub fn use_go_reader_times(&mut self) {
        // Go's `Reader.lastTs` starts at 0.
        self.clock.last = Some(0);
    }

    /// In Go-reader time mode, the time Go's reader gives an event returned
    /// now with raw time `t`; otherwise `t`.
    #[inline]
    pub fn stamp(&mut self, t: i64) -> i64 {
        self.clock.stamp(t)
    }

    /// The last time handed out in Go-reader time mode.
    pub fn go_reader_clock(&self) -> Option<i64> {
        self.clock.last
    }

    /// The state slot of thread `m` (created unseen if new), to pass to
    /// [`Ordering::advance`]; stable for the whole trace.
    pub fn thread_slot(&mut self, m: u64) -> usize {
        if m == NO_M {
            usize::MAX
        } else {
            self.m.slot(m)
        }
    }

    /// A handler advanced; `new` is the M's context afterwards (Go's
    /// `ms.p, ms.g = newCtx.P, newCtx.G`).
    #[inline(always)]
    fn ret(&mut self, new: Ctx) -> Step {
        if let Some(ms) = self.m.states.get_mut(self.cur_slot) {
            ms.g = new.g;
            ms.p = new.p;
        }
        Ok(true)
    }

    /// The same state without the consumer's slots (what the stitch
    /// keeps of a worker's ordering), leaving this ordering empty but for
    /// its goroutine table's memory, which [`Ordering::restart`] reuses.
    pub fn take_without_slots(&mut self) -> Ordering<()> {
        let mut table = std::mem::take(&mut self.g);
        let o = std::mem::take(self).without_slots(&table);
        table.0.clear();
        self.g = table;
        o
    }

    /// Starts anew as [`Ordering::default`] (`first`: the trace's first
    /// generation) or [`Ordering::fresh`], keeping the goroutine table's
    /// memory: a worker orders one generation after another, and a table
    /// grown anew each time cost page faults and copies.
    pub fn restart(&mut self, first: bool) {
        let mut table = std::mem::take(&mut self.g);
        table.0.clear();
        *self = if first {
            Ordering::default()
        } else {
            Ordering::fresh()
        };
        self.g = table;
    }

    /// This state, its goroutines those of `table`, without slots.
    fn without_slots(self, table: &GStates<S>) -> Ordering<()> {
        let mut g = GStates(GTable::with_capacity_of(&table.0));
        for (id, st) in table.0.iter() {
            if let Some(st) = st {
                g.insert(
                    id,
                    GState {
                        status: st.status,
                        seq: st.seq,
                        slot: (),
                    },
                );
            }
        }
        Ordering {
            g,
            g_extra: self.g_extra,
            p: self.p,
            m: self.m,
            tasks: self.tasks,
            gc_seq: self.gc_seq,
            gc_state: self.gc_state,
            initial_gen: self.initial_gen,
            clock: self.clock,
            cur_slot: self.cur_slot,
            fresh: self.fresh,
        }
    }

    /// Every goroutine the ordering knows, with its consumer slot (in no
    /// particular order).
    pub fn slots(&self) -> impl Iterator<Item = (u64, &S)> {
        self.g
            .0
            .iter()
            .filter_map(|(g, st)| st.as_ref().map(|st| (g, &st.slot)))
    }

    /// Go's `delete(o.gStates, id)`.
    #[inline]
    fn remove_g(&mut self, id: u64) {
        self.g.remove(&id);
        if !self.g_extra.is_empty() {
            self.g_extra.remove(&id);
        }
    }

    /// Tries to apply `ev`, read from thread `m` in generation `evt.generation`
    /// (Go's `ordering.Advance`, followed by the table-id check Go's reader
    /// does on every event it returns).
    #[inline(always)]
    pub fn advance<C: Consumer<Slot = S>>(
        &mut self,
        e: &mut Ev,
        m: u64,
        m_slot: usize,
        evt: &GenCtx<'_>,
        c: &mut C,
    ) -> Result<bool, Box<DecodeError>> {
        if self.initial_gen == 0 {
            self.initial_gen = evt.generation;
        }
        let mut cur = Ctx {
            g: NO_G,
            p: NO_P,
            m,
        };
        // Pull out or create the mState for this event.
        if let Some(ms) = self.m.states.get_mut(m_slot) {
            if !ms.seen {
                *ms = MState {
                    g: NO_G,
                    p: NO_P,
                    seen: true,
                    undef: ms.undef,
                };
            }
            if ms.undef != 0 && !stitch::announces(e.typ) {
                stitch::read_ctx(ms, m, self.fresh.as_deref_mut());
            }
            cur.p = ms.p;
            cur.g = ms.g;
        }
        self.clock.stamped = 0;
        self.cur_slot = m_slot;
        let res = self.dispatch(e, evt, cur, c);
        if let Some(f) = self.fresh.as_deref_mut() {
            f.hand_over(c);
        }
        c.settled();
        match res {
            Ok(true) => {
                if self.clock.last.is_some() && self.clock.stamped == 0 {
                    self.clock.stamp(e.time);
                }
                validate_ids(e, evt)?;
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(msg) => Err(Box::new(DecodeError::Inconsistent {
                what: format!(
                    "generation {}, M {}, {} at byte {}: {msg}",
                    evt.generation,
                    m as i64,
                    events::name(e.typ),
                    e.offset
                ),
            })),
        }
    }

    fn dispatch<C: Consumer<Slot = S>>(
        &mut self,
        e: &mut Ev,
        evt: &GenCtx<'_>,
        cur: Ctx,
        c: &mut C,
    ) -> Step {
        match e.typ {
            ev::PROCS_CHANGE | ev::GO_LABEL | ev::USER_LOG => {
                // Go: `advanceAnnotation`.
                annotation(cur)?;
                self.ret(cur)
            }
            ev::PROC_START => self.proc_start(e, evt, cur),
            ev::PROC_STOP => self.proc_stop(e, cur),
            ev::PROC_STEAL => self.proc_steal(e, evt, cur),
            ev::PROC_STATUS => self.proc_status(e, evt, cur),
            ev::GO_CREATE | ev::GO_CREATE_BLOCKED => self.go_create(e, evt, cur, c),
            ev::GO_CREATE_SYSCALL => self.go_create_syscall(e, evt, cur, c),
            ev::GO_START => self.go_start(e, evt, cur, c),
            ev::GO_DESTROY | ev::GO_STOP | ev::GO_BLOCK => self.go_stop_exec(e, cur, c),
            ev::GO_DESTROY_SYSCALL => self.go_destroy_syscall(e, cur, c),
            ev::GO_UNBLOCK => self.go_unblock(e, evt, cur, c),
            ev::GO_SYSCALL_BEGIN => self.go_syscall_begin(e, evt, cur, c),
            ev::GO_SYSCALL_END => self.go_syscall_end(e, cur, c),
            ev::GO_SYSCALL_END_BLOCKED => self.go_syscall_end_blocked(e, cur, c),
            ev::GO_STATUS | ev::GO_STATUS_STACK => self.go_status(e, evt, cur, c),
            ev::STW_BEGIN | ev::GC_MARK_ASSIST_BEGIN => self.go_range_begin(e, cur),
            ev::STW_END | ev::GC_MARK_ASSIST_END => self.go_range_end(e, cur),
            ev::GC_ACTIVE => self.gc_active(e, evt, cur),
            ev::GC_BEGIN => self.gc_begin(e, cur),
            ev::GC_END => self.gc_end(e, cur),
            ev::GC_SWEEP_ACTIVE => self.gc_sweep_active(e, evt, cur),
            ev::GC_SWEEP_BEGIN => self.gc_sweep_begin(e, cur),
            ev::GC_SWEEP_END => self.gc_sweep_end(e, cur),
            ev::GC_MARK_ASSIST_ACTIVE => self.go_range_active(e, evt, cur),
            ev::HEAP_ALLOC | ev::HEAP_GOAL => {
                // Go: `advanceHeapMetric`. Handle allocation metrics, which don't
                // require a G.
                validate_ctx(
                    cur,
                    SchedReqs {
                        m: MustHave,
                        p: MustHave,
                        g: MayHave,
                    },
                )?;
                self.ret(cur)
            }
            ev::USER_TASK_BEGIN => self.user_task_begin(e, evt, cur),
            ev::USER_TASK_END => self.user_task_end(e, cur),
            ev::USER_REGION_BEGIN => self.user_region_begin(e, evt, cur),
            ev::USER_REGION_END => self.user_region_end(e, evt, cur),
            ev::GO_SWITCH | ev::GO_SWITCH_DESTROY => self.go_switch(e, evt, cur, c),
            ev::FIRST_EXPERIMENTAL..=ev::LAST_EXPERIMENTAL => {
                // Go: `advanceAllocFree`. Handle simple instantaneous events that may
                // or may not have a P.
                validate_ctx(
                    cur,
                    SchedReqs {
                        m: MustHave,
                        p: MayHave,
                        g: MayHave,
                    },
                )?;
                self.ret(cur)
            }
            t => Err(cold(format_args!(
                "bad event type found while ordering: {}",
                events::name(t)
            ))),
        }
    }

    /// Go: `advanceProcStatus`.
    fn proc_status(&mut self, e: &mut Ev, evt: &GenCtx<'_>, mut cur: Ctx) -> Step {
        let pid = e.args[0];
        let status = e.args[1];
        if status > ps::ABANDONED {
            return Err(cold(format_args!(
                "invalid status for proc {}: {status}",
                pid as i64
            )));
        }
        let mut promoted = false;
        if let Some(s) = self.p.get_mut(pid) {
            if status == ps::ABANDONED && s.status == ps::SYSCALL {
                // ProcSyscallAbandoned is a special case of ProcSyscall. It indicates a
                // potential loss of information, but if we're already in ProcSyscall,
                // we haven't lost the relevant information. Promote the status and advance.
                promoted = true;
                e.args[1] = ps::SYSCALL;
            } else if status == ps::ABANDONED && s.status == ps::ABANDONED {
                // If we're passing through ProcSyscallAbandoned, then there's no promotion
                // to do. We've lost the M that this P is associated with. However it got there,
                // it's going to appear as idle in the API, so pass through as idle.
            } else if s.status != status {
                return Err(cold(format_args!(
                    "inconsistent status for proc {}: old {} vs. new {}",
                    pid as i64,
                    proc_status_name(s.status),
                    proc_status_name(status)
                )));
            }
            // Reset seq.
            s.seq = Seq::new(evt.generation, 0);
        } else {
            let mut status = status;
            if let Some(f) = self.fresh.as_deref_mut() {
                if status == ps::ABANDONED {
                    // A later generation: the runtime announces a P abandoned
                    // when it was in a syscall — promoted as the sequential
                    // ordering does (the stitch checks it was).
                    f.assume(Assume::PSyscall { p: pid });
                    promoted = true;
                    e.args[1] = ps::SYSCALL;
                    status = ps::SYSCALL;
                } else {
                    f.assume(Assume::P { p: pid, status });
                }
            }
            self.p.insert(
                pid,
                PState {
                    status,
                    seq: Seq::new(evt.generation, 0),
                    ranges: Ranges::default(),
                },
            );
        }
        let mut new = cur;
        // Bind the proc to the new context, if it's running.
        if status == ps::RUNNING || status == ps::SYSCALL {
            new.p = pid;
            self.define(stitch::UNDEF_P);
        }
        // If we're advancing through ProcSyscallAbandoned *but* oldState is running then we've
        // promoted it to ProcSyscall. However, because it's ProcSyscallAbandoned, we know this
        // P is about to get stolen and its status very likely isn't being emitted by the same
        // thread it was bound to. Since this status is Running -> Running and Running is binding,
        // we need to make sure we emit it in the right context: the context to which it is bound.
        // Find it, and set our current context to it.
        if promoted {
            // The event is emitted in the context the P is bound to (only
            // the context of the emitted event changes, not any state).
            let found = self.m.any_with_p(pid);
            if !found && self.fresh.is_some() {
                // Threads whose P is not known yet in this generation may.
                self.fresh_thread_with_p(pid);
            } else if !found {
                return Err(cold(format_args!(
                    "failed to find sched context for proc {} that's about to be stolen",
                    pid as i64
                )));
            }
            cur.p = pid;
        }
        let _ = cur;
        self.ret(new)
    }

    /// Go: `advanceProcStart`.
    fn proc_start(&mut self, e: &Ev, evt: &GenCtx<'_>, cur: Ctx) -> Step {
        let pid = e.args[0];
        let seq = Seq::new(evt.generation, e.args[1]);
        // Try to advance. We might fail here due to sequencing, because the P hasn't
        // had a status emitted, or because we already have a P and we're in a syscall,
        // and we haven't observed that it was stolen from us yet.
        match self.p.get_mut(pid) {
            Some(st) if st.status == ps::IDLE && seq.succeeds(st.seq) && cur.p == NO_P => {
                // We can advance this P. Check some invariants.
                //
                // We might have a goroutine if a goroutine is exiting a syscall.
                validate_ctx(
                    cur,
                    SchedReqs {
                        m: MustHave,
                        p: MustNotHave,
                        g: MayHave,
                    },
                )?;
                st.status = ps::RUNNING;
                st.seq = seq;
                self.ret(Ctx { p: pid, ..cur })
            }
            // We can't make an inference as to whether this is bad. We could just be seeing
            // a ProcStart on a different M before the proc's state was emitted, or before we
            // got to the right point in the trace.
            //
            // Note that we also don't advance here if we have a P and we're in a syscall.
            _ => Ok(false),
        }
    }

    /// Go: `advanceProcStop`.
    fn proc_stop(&mut self, e: &Ev, cur: Ctx) -> Step {
        // We must be able to advance this P.
        //
        // There are 2 ways a P can stop: ProcStop and ProcSteal. ProcStop is used when the P
        // is stopped by the same M that started it, while ProcSteal is used when another M
        // steals the P by stopping it from a distance.
        //
        // Since a P is bound to an M, and we're stopping on the same M we started, it must
        // always be possible to advance the current M's P from a ProcStop. This is also why
        // ProcStop doesn't need a sequence number.
        let Some(st) = self.p.get_mut(cur.p) else {
            return Err(cold(format_args!(
                "event {} for proc ({}) that doesn't exist",
                events::name(e.typ),
                cur.p as i64
            )));
        };
        if st.status != ps::RUNNING && st.status != ps::SYSCALL {
            return Err(cold(format_args!(
                "{} event for proc that's not Running or Syscall",
                events::name(e.typ)
            )));
        }
        validate_ctx(
            cur,
            SchedReqs {
                m: MustHave,
                p: MustHave,
                g: MayHave,
            },
        )?;
        st.status = ps::IDLE;
        self.ret(Ctx { p: NO_P, ..cur })
    }

    /// Go: `advanceProcSteal`.
    fn proc_steal(&mut self, e: &Ev, evt: &GenCtx<'_>, cur: Ctx) -> Step {
        let pid = e.args[0];
        let seq = Seq::new(evt.generation, e.args[1]);
        let Some(st) = self.p.get_mut(pid) else {
            return Ok(false);
        };
        if (st.status != ps::SYSCALL && st.status != ps::ABANDONED) || !seq.succeeds(st.seq) {
            // We can't make an inference as to whether this is bad. We could just be seeing
            // a ProcStart on a different M before the proc's state was emitted, or before we
            // got to the right point in the trace.
            return Ok(false);
        }
        // We can advance this P. Check some invariants.
        validate_ctx(
            cur,
            SchedReqs {
                m: MustHave,
                p: MayHave,
                g: MayHave,
            },
        )?;
        // Remember the P state that let us advance (Go smuggles it into the event,
        // so that it reads as ProcIdle -> ProcIdle, not ProcRunning -> ProcIdle:
        // ProcRunning is binding, but we may be running with a P on the current M
        // and we can't bind another P. This P is about to go ProcIdle anyway).
        //
        // Update the P's status and sequence number.
        let old = st.status;
        st.status = ps::IDLE;
        st.seq = seq;
        // If we've lost information then don't try to do anything with the M.
        // It may have moved on and we can't be sure.
        if old == ps::ABANDONED {
            return self.ret(cur);
        }
        // Validate that the M we're stealing from is what we expect.
        let mid = e.args[2];
        if mid == cur.m {
            // We're stealing from ourselves. This behaves like a ProcStop.
            if cur.p != pid {
                return Err(cold(format_args!(
                    "tried to self-steal proc {} (thread {}), but got proc {} instead",
                    pid as i64, mid as i64, cur.p as i64
                )));
            }
            return self.ret(Ctx { p: NO_P, ..cur });
        }
        // We're stealing from some other M.
        if self.fresh.is_some() {
            self.fresh_steal(mid, pid);
        }
        let Some(ms) = self.m.get_mut(mid) else {
            return Err(cold(format_args!(
                "stole proc from non-existent thread {}",
                mid as i64
            )));
        };
        // Make sure we're actually stealing the right P.
        if ms.p != pid {
            return Err(cold(format_args!(
                "tried to steal proc {} from thread {}, but got proc {} instead",
                pid as i64, mid as i64, ms.p as i64
            )));
        }
        // Tell the M it has no P so it can proceed.
        //
        // This is safe because we know the P was in a syscall and
        // the other M must be trying to get out of the syscall.
        // GoSyscallEndBlocked cannot advance until the corresponding
        // M loses its P.
        ms.p = NO_P;
        self.ret(cur)
    }

    /// Go: `advanceGoStatus`.
    fn go_status<C: Consumer<Slot = S>>(
        &mut self,
        e: &Ev,
        evt: &GenCtx<'_>,
        mut cur: Ctx,
        c: &mut C,
    ) -> Step {
        let gid = e.args[0];
        let mid = e.args[1];
        let status = e.args[2];
        if status > gs::WAITING {
            return Err(cold(format_args!(
                "invalid status for goroutine {}: {status}",
                gid as i64
            )));
        }
        let from = if let Some(s) = self.g.get_mut(&gid) {
            if s.status != status {
                return Err(cold(format_args!(
                    "inconsistent status for goroutine {}: old {} vs. new {}",
                    gid as i64,
                    go_status_name(s.status),
                    go_status_name(status)
                )));
            }
            // Reset seq.
            s.seq = Seq::new(evt.generation, 0);
            GoState::of_wire(status)
        } else if evt.generation == self.initial_gen {
            // Set the state.
            self.g
                .insert(gid, GState::new(status, Seq::new(evt.generation, 0)));
            match self.fresh.as_deref_mut() {
                // A later generation: the goroutine had this status (the
                // stitch checks it), as the sequential ordering requires.
                Some(f) => {
                    f.touch_g(gid);
                    f.assume(Assume::G {
                        g: gid,
                        status: Some(status),
                    });
                    GoState::of_wire(status)
                }
                None => GoState::Undetermined,
            }
        } else {
            return Err(cold(format_args!(
                "found goroutine status for new goroutine after the first generation: id={} status={}",
                gid as i64,
                go_status_name(status)
            )));
        };
        let mut new = cur;
        match status {
            // Bind the goroutine to the new context, since it's running.
            gs::RUNNING => {
                new.g = gid;
                self.define(stitch::UNDEF_G);
            }
            gs::SYSCALL => {
                if mid == NO_M {
                    return Err(cold(format_args!(
                        "found goroutine {} in syscall without a thread",
                        gid as i64
                    )));
                }
                // Is the syscall on this thread? If so, bind it to the context.
                // Otherwise, we're talking about a G sitting in a syscall on an M.
                // Validate the named M.
                if mid == cur.m {
                    let fresh = self.fresh.is_some();
                    if fresh && self.undefined(stitch::UNDEF_G) {
                        // Whether the thread had this goroutine: the stitch checks.
                        self.assume(Assume::MG { m: mid, g: gid });
                    } else if (evt.generation != self.initial_gen || fresh) && cur.g != gid {
                        // If this isn't the first generation, we *must* have seen this
                        // binding occur already. Even if the G was blocked in a syscall
                        // for multiple generations since trace start, we would have seen
                        // a previous GoStatus event that bound the goroutine to an M.
                        return Err(cold(format_args!(
                            "inconsistent thread for syscalling goroutine {}: thread has goroutine {}",
                            gid as i64, cur.g as i64
                        )));
                    }
                    new.g = gid;
                    self.define(stitch::UNDEF_G);
                } else {
                    // Now we're talking about a thread and goroutine that have been
                    // blocked on a syscall for the entire generation. This case must
                    // not have a P; the runtime makes sure that all Ps are traced at
                    // the beginning of a generation, which involves taking a P back
                    // from every thread.
                    if self.fresh.is_some() {
                        self.fresh_syscall_thread(mid, gid);
                    }
                    match self.m.get(mid) {
                        Some(ms) => {
                            // This M has been seen. That means we must have seen this
                            // goroutine go into a syscall on this thread at some point.
                            if ms.g != gid {
                                // But the G on the M doesn't match. Something's wrong.
                                return Err(cold(format_args!(
                                    "inconsistent thread for syscalling goroutine {}: thread has goroutine {}",
                                    gid as i64, ms.g as i64
                                )));
                            }
                            // This case is just a Syscall->Syscall event, which needs to
                            // appear as having the G currently bound to this M.
                            cur.g = ms.g;
                        }
                        None => {
                            // The M hasn't been seen yet. That means this goroutine
                            // has just been sitting in a syscall on this M. Create
                            // a state for it.
                            // Don't set cur.g in this case because this event is the
                            // binding event (and cur represents the "before" state).
                            self.m.insert(mid, gid, NO_P);
                        }
                    }
                    // Update the current context to the M we're talking about.
                    cur.m = mid;
                }
            }
            _ => {}
        }
        let to = GoState::of_wire(status);
        self.emit(c, e, e.typ, gid, from, to, cur);
        self.ret(new)
    }

    /// Go: `advanceGoCreate`.
    fn go_create<C: Consumer<Slot = S>>(
        &mut self,
        e: &Ev,
        evt: &GenCtx<'_>,
        cur: Ctx,
        c: &mut C,
    ) -> Step {
        // Goroutines must be created on a running P, but may or may not be created
        // by a running goroutine.
        validate_ctx(
            cur,
            SchedReqs {
                m: MustHave,
                p: MustHave,
                g: MayHave,
            },
        )?;
        // If we have a goroutine, it must be running.
        if let Some(st) = self.g.get(&cur.g)
            && st.status != gs::RUNNING
        {
            return Err(cold(format_args!(
                "{} event for goroutine that's not Running",
                events::name(e.typ)
            )));
        }
        // This goroutine created another. Add a state for it.
        let newg = e.args[0];
        if self.g.contains_key(&newg) {
            return Err(cold(format_args!(
                "tried to create goroutine ({}) that already exists",
                newg as i64
            )));
        }
        if let Some(f) = self.fresh.as_deref_mut() {
            f.created(newg);
        }
        let (status, to) = if e.typ == ev::GO_CREATE_BLOCKED {
            (gs::WAITING, GoState::Waiting)
        } else {
            (gs::RUNNABLE, GoState::Runnable)
        };
        self.g
            .insert(newg, GState::new(status, Seq::new(evt.generation, 0)));
        self.emit(c, e, e.typ, newg, GoState::NotExist, to, cur);
        self.ret(cur)
    }

    /// Go: `advanceGoStopExec`.
    fn go_stop_exec<C: Consumer<Slot = S>>(&mut self, e: &Ev, cur: Ctx, c: &mut C) -> Step {
        // These are goroutine events that all require an active running
        // goroutine on some thread. They must *always* be advance-able,
        // since running goroutines are bound to their M.
        validate_ctx(cur, USER_GO_REQS)?;
        let Some(st) = self.g.get_in(cur.g, gs::RUNNING) else {
            return Err(self.g.not_in(e, cur.g, "Running"));
        };
        // Handle each case slightly differently; we just group them together
        // because they have shared preconditions.
        let to = match e.typ {
            // This goroutine is exiting itself (its state is dropped below).
            ev::GO_DESTROY => GoState::NotExist,
            ev::GO_STOP => {
                // Goroutine stopped (yielded). It's runnable but not running on this M.
                st.status = gs::RUNNABLE;
                GoState::Runnable
            }
            _ => {
                // Goroutine blocked. It's waiting now and not running on this M.
                st.status = gs::WAITING;
                GoState::Waiting
            }
        };
        let change = (GoState::Running, to);
        fire_to(c, &mut self.clock, e, cur.g, change, cur, &mut st.slot);
        if e.typ == ev::GO_DESTROY {
            self.remove_g(cur.g);
        }
        self.ret(Ctx { g: NO_G, ..cur })
    }

    /// Go: `advanceGoStart`.
    fn go_start<C: Consumer<Slot = S>>(
        &mut self,
        e: &Ev,
        evt: &GenCtx<'_>,
        cur: Ctx,
        c: &mut C,
    ) -> Step {
        let (gid, seq) = (e.args[0], Seq::new(evt.generation, e.args[1]));
        let Some(st) = self.g.in_sequence(gid, gs::RUNNABLE, seq) else {
            // We can't make an inference as to whether this is bad. We could just be seeing
            // a GoStart on a different M before the goroutine was created, before it had its
            // state emitted, or before we got to the right point in the trace yet.
            return Ok(false);
        };
        // We can advance this goroutine. Check some invariants.
        validate_ctx(
            cur,
            SchedReqs {
                m: MustHave,
                p: MustHave,
                g: MustNotHave,
            },
        )?;
        st.status = gs::RUNNING;
        st.seq = seq;
        let change = (GoState::Runnable, GoState::Running);
        fire_to(c, &mut self.clock, e, gid, change, cur, &mut st.slot);
        self.ret(Ctx { g: gid, ..cur })
    }

    /// Go: `advanceGoUnblock`.
    fn go_unblock<C: Consumer<Slot = S>>(
        &mut self,
        e: &Ev,
        evt: &GenCtx<'_>,
        cur: Ctx,
        c: &mut C,
    ) -> Step {
        // N.B. These both reference the goroutine to unblock, not the current goroutine.
        let (gid, seq) = (e.args[0], Seq::new(evt.generation, e.args[1]));
        let Some(st) = self.g.in_sequence(gid, gs::WAITING, seq) else {
            // We can't make an inference as to whether this is bad. We could just be seeing
            // a GoUnblock on a different M before the goroutine was created and blocked itself,
            // before it had its state emitted, or before we got to the right point in the trace yet.
            return Ok(false);
        };
        // N.B. No context to validate. Basically anything can unblock
        // a goroutine (e.g. sysmon).
        st.status = gs::RUNNABLE;
        st.seq = seq;
        let change = (GoState::Waiting, GoState::Runnable);
        fire_to(c, &mut self.clock, e, gid, change, cur, &mut st.slot);
        self.ret(cur)
    }

    /// Go: `advanceGoSwitch`.
    fn go_switch<C: Consumer<Slot = S>>(
        &mut self,
        e: &Ev,
        evt: &GenCtx<'_>,
        cur: Ctx,
        c: &mut C,
    ) -> Step {
        // GoSwitch and GoSwitchDestroy represent a trio of events:
        // - Unblock of the goroutine to switch to.
        // - Block or destroy of the current goroutine.
        // - Start executing the next goroutine.
        //
        // Because it acts like a GoStart for the next goroutine, we can
        // only advance it if the sequence numbers line up.
        //
        // The current goroutine on the thread must be actively running.
        validate_ctx(cur, USER_GO_REQS)?;
        if self.g.get_in(cur.g, gs::RUNNING).is_none() {
            return Err(self.g.not_in(e, cur.g, "Running"));
        }
        let next = e.args[0];
        // seq is for next, not cur.g.
        let seq = Seq::new(evt.generation, e.args[1]);
        match self.g.get(&next) {
            Some(st) if st.status == gs::WAITING && seq.succeeds(st.seq) => {}
            // We can't make an inference as to whether this is bad. We could just be seeing
            // a GoSwitch on a different M before the goroutine was created, before it had its
            // state emitted, or before we got to the right point in the trace yet.
            _ => return Ok(false),
        }
        // 1. The switch unblocks `next`.
        self.emit(c, e, e.typ, next, GoState::Waiting, GoState::Runnable, cur);
        // 2. The current goroutine blocks (no reason, no stack) or exits.
        let mut synth = Ev {
            typ: ev::GO_BLOCK,
            time: e.time,
            args: [0; events::MAX_ARGS],
            offset: e.offset,
        };
        if e.typ == ev::GO_SWITCH {
            if let Some(st) = self.g.get_mut(&cur.g) {
                st.status = gs::WAITING;
            }
            self.emit(
                c,
                &synth,
                e.typ,
                cur.g,
                GoState::Running,
                GoState::Waiting,
                cur,
            );
        } else {
            synth.typ = ev::GO_DESTROY;
            self.emit(
                c,
                &synth,
                e.typ,
                cur.g,
                GoState::Running,
                GoState::NotExist,
                cur,
            );
            self.remove_g(cur.g);
        }
        // 3. `next` starts running.
        if let Some(st) = self.g.get_mut(&next) {
            st.status = gs::RUNNING;
            st.seq = seq;
        }
        synth.typ = ev::GO_START;
        synth.args = [next, e.args[1], 0, 0];
        let start_ctx = Ctx { g: NO_G, ..cur };
        self.emit(
            c,
            &synth,
            e.typ,
            next,
            GoState::Runnable,
            GoState::Running,
            start_ctx,
        );
        self.ret(Ctx { g: next, ..cur })
    }

    /// Go: `advanceGoSyscallBegin`.
    fn go_syscall_begin<C: Consumer<Slot = S>>(
        &mut self,
        e: &Ev,
        evt: &GenCtx<'_>,
        cur: Ctx,
        c: &mut C,
    ) -> Step {
        // Entering a syscall requires an active running goroutine with a
        // proc on some thread. It is always advancable.
        validate_ctx(cur, USER_GO_REQS)?;
        let Some(st) = self.g.get_in(cur.g, gs::RUNNING) else {
            return Err(self.g.not_in(e, cur.g, "Running"));
        };
        // Goroutine entered a syscall. It's still running on this P and M.
        st.status = gs::SYSCALL;
        let Some(pst) = self.p.get_mut(cur.p) else {
            return Err(Procs::missing(e, cur.p));
        };
        pst.status = ps::SYSCALL;
        // Validate the P sequence number on the event and advance it.
        //
        // We have a P sequence number for what is supposed to be a goroutine event
        // so that we can correctly model P stealing. Without this sequence number here,
        // the syscall from which a ProcSteal event is stealing can be ambiguous in the
        // face of broken timestamps. See the go122-syscall-steal-proc-ambiguous test for
        // more details.
        //
        // Note that because this sequence number only exists as a tool for disambiguation,
        // we can enforce that we have the right sequence number at this point; we don't need
        // to back off and see if any other events will advance. This is a running P.
        let pseq = Seq::new(evt.generation, e.args[0]);
        if !pseq.succeeds(pst.seq) {
            return Err(cold(format_args!(
                "failed to advance {}: can't make sequence: {} -> {pseq}",
                events::name(e.typ),
                pst.seq
            )));
        }
        pst.seq = pseq;
        let change = (GoState::Running, GoState::Syscall);
        fire_to(c, &mut self.clock, e, cur.g, change, cur, &mut st.slot);
        self.ret(cur)
    }

    /// Go: `advanceGoSyscallEnd`.
    fn go_syscall_end<C: Consumer<Slot = S>>(&mut self, e: &Ev, cur: Ctx, c: &mut C) -> Step {
        // This event is always advance-able because it happens on the same
        // thread that EvGoSyscallStart happened, and the goroutine can't leave
        // that thread until its done.
        validate_ctx(cur, USER_GO_REQS)?;
        // Go's message says "Running" here too.
        let Some(st) = self.g.get_in(cur.g, gs::SYSCALL) else {
            return Err(self.g.not_in(e, cur.g, "Running"));
        };
        st.status = gs::RUNNING;
        // Transfer the P back to running from syscall.
        let Some(pst) = self.p.get_mut(cur.p) else {
            return Err(Procs::missing(e, cur.p));
        };
        if pst.status != ps::SYSCALL {
            return Err(cold(format_args!(
                "expected proc {} in state Syscall, but got {} instead",
                cur.p as i64,
                proc_status_name(pst.status)
            )));
        }
        pst.status = ps::RUNNING;
        let change = (GoState::Syscall, GoState::Running);
        fire_to(c, &mut self.clock, e, cur.g, change, cur, &mut st.slot);
        self.ret(cur)
    }

    /// Go: `advanceGoSyscallEndBlocked`.
    fn go_syscall_end_blocked<C: Consumer<Slot = S>>(
        &mut self,
        e: &Ev,
        cur: Ctx,
        c: &mut C,
    ) -> Step {
        // This event becomes advanceable when its P is not in a syscall state
        // (lack of a P altogether is also acceptable for advancing).
        // The transfer out of ProcSyscall can happen either voluntarily via
        // ProcStop or involuntarily via ProcSteal. We may also acquire a new P
        // before we get here (after the transfer out) but that's OK: that new
        // P won't be in the ProcSyscall state anymore.
        //
        // Basically: while we have a preemptible P, don't advance, because we
        // *know* from the event that we're going to lose it at some point during
        // the syscall. We shouldn't advance until that happens.
        if cur.p != NO_P {
            let Some(pst) = self.p.get_mut(cur.p) else {
                return Err(Procs::missing(e, cur.p));
            };
            if pst.status == ps::SYSCALL {
                return Ok(false);
            }
        }
        // As mentioned above, we may have a P here if we ProcStart
        // before this event.
        validate_ctx(
            cur,
            SchedReqs {
                m: MustHave,
                p: MayHave,
                g: MustHave,
            },
        )?;
        let Some(st) = self.g.get_in(cur.g, gs::SYSCALL) else {
            return Err(self.g.not_in(e, cur.g, "Running"));
        };
        st.status = gs::RUNNABLE;
        let change = (GoState::Syscall, GoState::Runnable);
        fire_to(c, &mut self.clock, e, cur.g, change, cur, &mut st.slot);
        self.ret(Ctx { g: NO_G, ..cur })
    }

    /// Go: `advanceGoCreateSyscall`.
    fn go_create_syscall<C: Consumer<Slot = S>>(
        &mut self,
        e: &Ev,
        evt: &GenCtx<'_>,
        cur: Ctx,
        c: &mut C,
    ) -> Step {
        // This event indicates that a goroutine is effectively
        // being created out of a cgo callback. Such a goroutine
        // is 'created' in the syscall state.
        validate_ctx(
            cur,
            SchedReqs {
                m: MustHave,
                p: MayHave,
                g: MustNotHave,
            },
        )?;
        // This goroutine is effectively being created. Add a state for it.
        let newg = e.args[0];
        if self.g.contains_key(&newg) {
            return Err(cold(format_args!(
                "tried to create goroutine ({}) in syscall that already exists",
                newg as i64
            )));
        }
        if let Some(f) = self.fresh.as_deref_mut() {
            f.created(newg);
        }
        self.g
            .insert(newg, GState::new(gs::SYSCALL, Seq::new(evt.generation, 0)));
        self.emit(c, e, e.typ, newg, GoState::NotExist, GoState::Syscall, cur);
        // Goroutine is executing. Bind it to the context.
        self.ret(Ctx { g: newg, ..cur })
    }

    /// Go: `advanceGoDestroySyscall`.
    fn go_destroy_syscall<C: Consumer<Slot = S>>(&mut self, e: &Ev, cur: Ctx, c: &mut C) -> Step {
        // This event indicates that a goroutine created for a
        // cgo callback is disappearing, either because the callback
        // ending or the C thread that called it is being destroyed.
        //
        // Also, treat this as if we lost our P too.
        // The thread ID may be reused by the platform and we'll get
        // really confused if we try to steal the P is this is running
        // with later. The new M with the same ID could even try to
        // steal back this P from itself!
        //
        // The runtime is careful to make sure that any GoCreateSyscall
        // event will enter the runtime emitting events for reacquiring a P.
        //
        // Note: we might have a P here. The P might not be released
        // eagerly by the runtime, and it might get stolen back later
        // (or never again, if the program is going to exit).
        validate_ctx(
            cur,
            SchedReqs {
                m: MustHave,
                p: MayHave,
                g: MustHave,
            },
        )?;
        let name = events::name(e.typ);
        // Check to make sure the goroutine exists in the right state.
        let Some(st) = self.g.get_in(cur.g, gs::SYSCALL) else {
            return Err(self.g.not_in(e, cur.g, "Syscall"));
        };
        // This goroutine is exiting itself (its state is dropped below).
        let mut new = Ctx { g: NO_G, ..cur };
        if cur.p != NO_P {
            let Some(pst) = self.p.get_mut(cur.p) else {
                return Err(cold(format_args!(
                    "found invalid proc {} during {name}",
                    cur.p as i64
                )));
            };
            if pst.status != ps::SYSCALL {
                return Err(cold(format_args!(
                    "proc {} in unexpected state {} during {name}",
                    cur.p as i64,
                    proc_status_name(pst.status)
                )));
            }
            // If we have a proc, then we're dissociating from it now. See the comment at the top of the case.
            // See the go122-create-syscall-reuse-thread-id test case for more details.
            pst.status = ps::ABANDONED;
            new.p = NO_P;
            // Go queues an extra self-ProcSteal event before this one.
            self.clock.stamp(e.time);
        }
        let change = (GoState::Syscall, GoState::NotExist);
        fire_to(c, &mut self.clock, e, cur.g, change, cur, &mut st.slot);
        self.remove_g(cur.g);
        self.ret(new)
    }

    /// Go: `advanceUserTaskBegin`.
    fn user_task_begin(&mut self, e: &Ev, evt: &GenCtx<'_>, cur: Ctx) -> Step {
        // Handle tasks. Tasks are interesting because:
        // - There's no Begin event required to reference a task.
        // - End for a particular task ID can appear multiple times.
        // As a result, there's very little to validate. The only
        // thing we have to be sure of is that a task didn't begin
        // after it had already begun. Task IDs are allowed to be
        // reused, so we don't care about a Begin after an End.
        let id = e.args[0];
        if let Some(f) = self.fresh.as_deref_mut() {
            f.task(id, true);
        }
        if self.tasks.contains_key(&id) {
            return Err(cold(format_args!("task ID conflict: {id}")));
        }
        // Get the parent ID, but don't validate it. There's no guarantee
        // we actually have information on whether it's active.
        let mut parent = e.args[1];
        if parent == 0 {
            // Note: a value of 0 here actually means no parent, *not* the
            // background task. Automatic background task attachment only
            // applies to regions.
            parent = NO_TASK;
        }
        // Validate the name and record it. We'll need to pass it through to
        // EvUserTaskEnd.
        let name = e.args[2];
        if !evt.tables.has_string(name) {
            return Err(cold(format_args!(
                "invalid string ID {name} for {} event",
                events::name(e.typ)
            )));
        }
        self.tasks.insert(id, TaskState { _parent: parent });
        validate_ctx(cur, USER_GO_REQS)?;
        self.ret(cur)
    }

    /// Go: `advanceUserTaskEnd`.
    fn user_task_end(&mut self, e: &Ev, cur: Ctx) -> Step {
        if let Some(f) = self.fresh.as_deref_mut() {
            f.task(e.args[0], false);
        }
        self.tasks.remove(&e.args[0]);
        validate_ctx(cur, USER_GO_REQS)?;
        self.ret(cur)
    }

    fn region(&self, e: &Ev, evt: &GenCtx<'_>) -> Result<Region, Why> {
        let id = e.args[1];
        let name = string_loc(evt, id)
            .ok_or_else(|| format!("invalid string ID {id} for {} event", events::name(e.typ)))?;
        Ok(Region {
            task: e.args[0],
            name,
        })
    }

    /// Go: `advanceUserRegionBegin`.
    fn user_region_begin(&mut self, e: &Ev, evt: &GenCtx<'_>, cur: Ctx) -> Step {
        validate_ctx(cur, USER_GO_REQS)?;
        let r = self.region(e, evt)?;
        let Some(st) = self.g.get_mut(&cur.g) else {
            return Err(cold(format_args!(
                "encountered EvUserRegionBegin without known state for current goroutine {}",
                cur.g as i64
            )));
        };
        let _ = st;
        self.g_extra.entry(cur.g).or_default().regions.push(r);
        self.ret(cur)
    }

    /// Go: `advanceUserRegionEnd`.
    fn user_region_end(&mut self, e: &Ev, evt: &GenCtx<'_>, cur: Ctx) -> Step {
        validate_ctx(cur, USER_GO_REQS)?;
        let r = self.region(e, evt)?;
        let Some(st) = self.g.get_mut(&cur.g) else {
            return Err(cold(format_args!(
                "encountered EvUserRegionEnd without known state for current goroutine {}",
                cur.g as i64
            )));
        };
        let _ = st;
        let regions = &mut self.g_extra.entry(cur.g).or_default().regions;
        // We do not know about regions that began before tracing started.
        if regions.is_empty()
            && let Some(f) = self.fresh.as_deref_mut()
        {
            // Nor about those open when this generation started.
            f.assume(Assume::RegionEnd {
                g: cur.g,
                region: r,
            });
        }
        if let Some(top) = regions.last() {
            let b = evt.bytes;
            let same =
                top.task == r.task && b.get(top.name.0..top.name.1) == b.get(r.name.0..r.name.1);
            if !same {
                return Err(cold(format_args!(
                    "misuse of region in goroutine {}: region end {} {:?} when the inner-most active region start event is {} {:?}",
                    cur.g as i64,
                    r.task,
                    String::from_utf8_lossy(b.get(r.name.0..r.name.1).unwrap_or(&[])),
                    top.task,
                    String::from_utf8_lossy(b.get(top.name.0..top.name.1).unwrap_or(&[])),
                )));
            }
            regions.pop();
        }
        self.ret(cur)
    }

    /// Go: `advanceGCActive`.
    fn gc_active(&mut self, e: &Ev, evt: &GenCtx<'_>, cur: Ctx) -> Step {
        // Handle the GC mark phase.
        //
        // We have sequence numbers for both start and end because they
        // can happen on completely different threads. We want an explicit
        // partial order edge between start and end here, otherwise we're
        // relying entirely on timestamps to make sure we don't advance a
        // GCEnd for a _different_ GC cycle if timestamps are wildly broken.
        let seq = e.args[0];
        if evt.generation == self.initial_gen {
            if self.gc_state != GcState::Undetermined {
                return Err("GCActive in the first generation isn't first GC event".into());
            }
            self.fresh_gc(e.typ, seq, cur);
            self.gc_seq = seq;
            self.gc_state = GcState::Running;
            return self.ret(cur);
        }
        if seq != self.gc_seq.wrapping_add(1) {
            // This is not the right GC cycle.
            return Ok(false);
        }
        if self.gc_state != GcState::Running {
            return Err("encountered GCActive while GC was not in progress".into());
        }
        self.gc_seq = seq;
        validate_ctx(cur, USER_GO_REQS)?;
        self.ret(cur)
    }

    /// Go: `advanceGCBegin`.
    fn gc_begin(&mut self, e: &Ev, cur: Ctx) -> Step {
        let seq = e.args[0];
        if self.gc_state == GcState::Undetermined {
            self.fresh_gc(e.typ, seq, cur);
            self.gc_seq = seq;
            self.gc_state = GcState::Running;
            return self.ret(cur);
        }
        if seq != self.gc_seq.wrapping_add(1) {
            // This is not the right GC cycle.
            return Ok(false);
        }
        if self.gc_state == GcState::Running {
            return Err("encountered GCBegin while GC was already in progress".into());
        }
        self.gc_seq = seq;
        self.gc_state = GcState::Running;
        validate_ctx(cur, USER_GO_REQS)?;
        self.ret(cur)
    }

    /// Go: `advanceGCEnd`.
    fn gc_end(&mut self, e: &Ev, cur: Ctx) -> Step {
        let seq = e.args[0];
        if seq != self.gc_seq.wrapping_add(1) {
            // This is not the right GC cycle.
            return Ok(false);
        }
        if self.gc_state == GcState::NotRunning {
            return Err("encountered GCEnd when GC was not in progress".into());
        }
        if self.gc_state == GcState::Undetermined {
            return Err("encountered GCEnd when GC was in an undetermined state".into());
        }
        self.gc_seq = seq;
        self.gc_state = GcState::NotRunning;
        validate_ctx(cur, USER_GO_REQS)?;
        self.ret(cur)
    }

    /// Go: `advanceGCSweepBegin`.
    fn gc_sweep_begin(&mut self, e: &Ev, cur: Ctx) -> Step {
        // Handle sweep, which is bound to a P and doesn't require a G.
        validate_ctx(
            cur,
            SchedReqs {
                m: MustHave,
                p: MustHave,
                g: MayHave,
            },
        )?;
        let Some(pst) = self.p.get_mut(cur.p) else {
            return Err(Procs::missing(e, cur.p));
        };
        let r = range_type(e.typ, 0);
        if let Some(f) = self.fresh.as_deref_mut() {
            f.range(Owner::P(cur.p), r, false);
        }
        pst.ranges.begin(r)?;
        self.ret(cur)
    }

    /// Go: `advanceGCSweepActive`.
    fn gc_sweep_active(&mut self, e: &Ev, evt: &GenCtx<'_>, cur: Ctx) -> Step {
        // N.B. In practice Ps can't block while they're sweeping, so this can only
        // ever reference cur.p. However, be lenient about this like we are with
        // GCMarkAssistActive; there's no reason the runtime couldn't change to block
        // in the middle of a sweep.
        let pid = e.args[0];
        let initial = evt.generation == self.initial_gen;
        let Some(pst) = self.p.get_mut(pid) else {
            return Err(cold(format_args!(
                "encountered GCSweepActive for unknown proc {}",
                pid as i64
            )));
        };
        let r = range_type(e.typ, 0);
        if let Some(f) = self.fresh.as_deref_mut() {
            f.range(Owner::P(pid), r, true);
        }
        pst.ranges.active(r, initial)?;
        self.ret(cur)
    }

    /// Go: `advanceGCSweepEnd`.
    fn gc_sweep_end(&mut self, e: &Ev, cur: Ctx) -> Step {
        validate_ctx(
            cur,
            SchedReqs {
                m: MustHave,
                p: MustHave,
                g: MayHave,
            },
        )?;
        let Some(pst) = self.p.get_mut(cur.p) else {
            return Err(Procs::missing(e, cur.p));
        };
        let desc = pst.ranges.end(e.typ)?;
        if let Some(f) = self.fresh.as_deref_mut() {
            f.range_end(Owner::P(cur.p), e.typ, desc);
        }
        self.ret(cur)
    }

    /// Go: `advanceGoRangeBegin`.
    fn go_range_begin(&mut self, e: &Ev, cur: Ctx) -> Step {
        // Handle special goroutine-bound event ranges.
        validate_ctx(cur, USER_GO_REQS)?;
        let desc = if e.typ == ev::STW_BEGIN { e.args[0] } else { 0 };
        let Some(st) = self.g.get_mut(&cur.g) else {
            return Err(cold(format_args!(
                "encountered event of type {} without known state for current goroutine {}",
                e.typ, cur.g as i64
            )));
        };
        let _ = st;
        let r = range_type(e.typ, desc);
        if let Some(f) = self.fresh.as_deref_mut() {
            f.range(Owner::G(cur.g), r, false);
        }
        self.g_extra.entry(cur.g).or_default().ranges.begin(r)?;
        self.ret(cur)
    }

    /// Go: `advanceGoRangeActive`.
    fn go_range_active(&mut self, e: &Ev, evt: &GenCtx<'_>, cur: Ctx) -> Step {
        // N.B. Like GoStatus, this can happen at any time, because it can
        // reference a non-running goroutine. Don't check anything about the
        // current scheduler context.
        let gid = e.args[0];
        let initial = evt.generation == self.initial_gen;
        let Some(st) = self.g.get_mut(&gid) else {
            return Err(cold(format_args!(
                "uninitialized goroutine {} found during {}",
                gid as i64,
                events::name(e.typ)
            )));
        };
        let _ = st;
        let r = range_type(e.typ, 0);
        if let Some(f) = self.fresh.as_deref_mut() {
            f.range(Owner::G(gid), r, true);
        }
        self.g_extra
            .entry(gid)
            .or_default()
            .ranges
            .active(r, initial)?;
        self.ret(cur)
    }

    /// Go: `advanceGoRangeEnd`.
    fn go_range_end(&mut self, e: &mut Ev, cur: Ctx) -> Step {
        validate_ctx(cur, USER_GO_REQS)?;
        let Some(st) = self.g.get_mut(&cur.g) else {
            return Err(cold(format_args!(
                "encountered event of type {} without known state for current goroutine {}",
                e.typ, cur.g as i64
            )));
        };
        let _ = st;
        let desc = self.g_extra.entry(cur.g).or_default().ranges.end(e.typ)?;
        if let Some(f) = self.fresh.as_deref_mut() {
            f.range_end(Owner::G(cur.g), e.typ, desc);
        }
        if e.typ == ev::STW_END {
            // Smuggle the kind into the event.
            // Don't use ev.extra here so we have symmetry with STWBegin.
            e.args[0] = desc;
        }
        self.ret(cur)
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn emit<C: Consumer<Slot = S>>(
        &mut self,
        c: &mut C,
        e: &Ev,
        source: u8,
        g: u64,
        from: GoState,
        to: GoState,
        ctx: Ctx,
    ) {
        // Only goroutines the ordering knows have transitions (the episode
        // builder's per-goroutine state mirrors this set).
        if let Some(st) = self.g.get_mut(&g) {
            fire(
                c,
                &mut self.clock,
                e,
                source,
                g,
                from,
                to,
                ctx,
                &mut st.slot,
            );
        } else {
            self.clock.stamp(e.time);
        }
    }
}

/// Builds an error message off the hot path.
#[cold]
#[inline(never)]
fn cold(args: std::fmt::Arguments<'_>) -> Why {
    args.to_string().into()
}

fn annotation(cur: Ctx) -> Result<(), Why> {
    validate_ctx(cur, USER_GO_REQS)
}

/// Location of a string's bytes in the input.
fn string_loc(evt: &GenCtx<'_>, id: u64) -> Option<(usize, usize)> {
    let s = evt.tables.string(evt.bytes, id)?;
    if s.is_empty() {
        return Some((0, 0));
    }
    let start = s.as_ptr() as usize - evt.bytes.as_ptr() as usize;
    Some((start, start + s.len()))
}

/// Go's `Event.validateTableIDs`: stack and string ids of an event exist in
/// its generation. Without a branch per id: the event's largest stack id
/// and largest string id are compared with the ids all present in the
/// tables (nearly always enough: the runtime numbers them densely from 1),
/// else the ids are looked up one by one.
#[inline(always)]
fn validate_ids(e: &Ev, evt: &GenCtx<'_>) -> Result<(), Box<DecodeError>> {
    let sp = events::spec(e.typ);
    // An absent position (`NO`) reads as id 0, which is always present.
    let arg = |i: u8| e.args.get(usize::from(i)).copied().unwrap_or(0);
    let stack = arg(sp.stacks[0]).max(arg(sp.stacks[1]));
    let string = arg(sp.strings[0]).max(arg(sp.strings[1]));
    if stack < evt.tables.stacks_below() && string < evt.tables.strings_below() {
        return Ok(());
    }
    validate_ids_one_by_one(e, evt)
}

/// [`validate_ids`] id by id.
#[cold]
#[inline(never)]
fn validate_ids_one_by_one(e: &Ev, evt: &GenCtx<'_>) -> Result<(), Box<DecodeError>> {
    let mut b = events::ID_ARGS[e.typ as usize];
    while b != 0 {
        let k = b.trailing_zeros() as usize;
        b &= b - 1;
        let (stack, i) = if k < 4 { (true, k) } else { (false, k - 4) };
        let id = e.args.get(i).copied().unwrap_or(0);
        let ok = if stack {
            evt.tables.has_stack(id)
        } else {
            evt.tables.has_string(id)
        };
        if !ok {
            return Err(bad_id(e, if stack { "stack" } else { "string" }, id));
        }
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn bad_id(e: &Ev, what: &str, id: u64) -> Box<DecodeError> {
    Box::new(DecodeError::Corrupt {
        offset: e.offset as u64,
        what: format!(
            "found invalid {what} ID {id} for event {}",
            events::name(e.typ)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker's ordering, its state taken at the end of a generation,
    /// starts the next one with no goroutine but the table's memory.
    #[test]
    fn a_restarted_ordering_keeps_only_its_goroutine_table_memory() {
        let mut o: Ordering<u32> = Ordering::fresh();
        for g in [1, 7, 300, 1 << 40] {
            let mut st = GState::new(gs::WAITING, Seq::new(2, 0));
            st.slot = g as u32;
            o.g.insert(g, st);
        }
        let cap = o.g.0.dense_capacity();
        assert!(cap > 300);
        let taken = o.take_without_slots();
        let mut kept: Vec<u64> = taken
            .g
            .0
            .iter()
            .filter(|(_, s)| s.is_some())
            .map(|(g, _)| g)
            .collect();
        kept.sort_unstable();
        assert_eq!(kept, [1, 7, 300, 1 << 40]);
        assert!(
            taken.fresh.is_some(),
            "the stitch's log goes with the state"
        );
        assert_eq!(o.g.0.iter().count(), 0);
        o.restart(false);
        assert!(o.fresh.is_some());
        assert_eq!(o.g.0.iter().count(), 0);
        assert_eq!(o.g.0.dense_capacity(), cap);
        o.restart(true);
        assert!(o.fresh.is_none());
        assert_eq!(o.g.0.dense_capacity(), cap);
    }
}
