//! Pass 2, interpretation: a per-goroutine state machine over the merged
//! event stream that turns old-format events into [`Episode`]s — waiting
//! (GoBlock*/GoSleep/GoStop → GoUnblock), syscall (GoSysCall → GoSysBlock …
//! GoSysExit, and non-blocking GoSysCalls bounded by the P's next event),
//! runnable (GoCreate/GoUnblock/GoSched/GoPreempt/GoSysExit → GoStart), and
//! the states goroutines were in when the trace started (GoWaiting,
//! GoInSyscall, runnable GoCreate before the first Gomaxprocs).
//!
//! Reason strings are those Go 1.22+ tools give old traces
//! (`internal/trace/tracev1.go`): "chan send", "chan receive", "select",
//! "sync", "sync.(*Cond).Wait", "network", "GC mark assist wait for work",
//! "sleep", "forever", "" (generic GoBlock). Times are converted exactly as
//! Go's old parser does. Does not order events (see `order`) or validate
//! goroutine transitions beyond what it needs; state of ended goroutines is
//! dropped at GoEnd.

use super::event::ev;
use super::order::Event;
use super::stacks::StackMap;
use crate::gtable::GTable;
use crate::{Categories, Category, Episode, EpisodeSink, StackId, Sym, Tables, Waker};

/// Tick → nanosecond conversion as Go's parser does it:
/// `int64(float64(ts - first) * (1e9 / float64(freq)))`.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// First timestamp of the trace, ticks.
    pub first: i64,
    /// Nanoseconds per tick.
    pub ns_per_tick: f64,
}

impl Clock {
    /// Nanoseconds since the first event (negative clamped to 0).
    #[inline]
    pub fn ns(&self, ts: i64) -> u64 {
        let v = (ts.wrapping_sub(self.first) as f64 * self.ns_per_tick) as i64;
        v.max(0) as u64
    }
}

/// What a goroutine is currently doing, as far as episodes go.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
enum Open {
    /// Running, dead or unknown: no episode open.
    #[default]
    None,
    /// Parked (waiting).
    Wait,
    /// In a blocking syscall (lost its P).
    Syscall,
    /// Runnable, waiting for a P.
    Sched,
}

#[derive(Clone, Copy, Debug, Default)]
struct G {
    open: Open,
    began_before: bool,
    start: i64,
    reason: Sym,
    category: Option<Category>,
    stack: StackId,
    waker: Option<Waker>,
    creator: Option<StackId>,
    /// Last GoSysCall (ticks, stack), when one is pending.
    sys: Option<(i64, StackId)>,
    /// Time of GoSysBlock / GoInSyscall (for validating GoSysExit's real time).
    sys_block: Option<i64>,
}

/// Options of the interpretation.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Emit non-blocking syscalls (no GoSysBlock), bounded by the P's next event.
    pub nonblocking_syscalls: bool,
    /// The categories to emit ([`crate::EpisodeSink::categories`]); the
    /// others are tracked but not emitted.
    pub categories: Categories,
}

/// Counters for warnings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Anomalies {
    /// GoSysExit real timestamps that were unusable (before the block).
    pub bad_sysexit_ts: u64,
    /// Events referencing a stack id the table lacks.
    pub missing_stacks: u64,
}

struct Reasons {
    chan_send: Sym,
    chan_recv: Sym,
    select: Sym,
    sync: Sym,
    cond: Sym,
    network: Sym,
    gc_assist: Sym,
    sleep: Sym,
    forever: Sym,
    empty: Sym,
    syscall: Sym,
    runnable: Sym,
}

#[inline]
fn stack_of(stacks: &StackMap, an: &mut Anomalies, id: u64) -> StackId {
    if id == 0 {
        return StackId::EMPTY;
    }
    let s = stacks.get(id);
    if s.is_empty() {
        an.missing_stacks += 1;
    }
    s
}

/// Turns a goroutine's open state into an [`Episode`] for the sink.
struct Emitter<'a> {
    tables: &'a Tables,
    clock: Clock,
    wanted: Categories,
    count: &'a mut u64,
}

impl Emitter<'_> {
    #[inline]
    fn emit(&mut self, g: u64, st: &G, end: i64, open_at_end: bool, sink: &mut dyn EpisodeSink) {
        let category = match st.open {
            Open::None => return,
            Open::Wait => st
                .category
                .unwrap_or_else(|| Category::of_wait_reason(self.tables.str(st.reason))),
            Open::Syscall => Category::Syscall,
            Open::Sched => Category::Sched,
        };
        if !self.wanted.contains(category) {
            return;
        }
        let start_ns = self.clock.ns(st.start);
        let end_ns = self.clock.ns(end).max(start_ns);
        let ep = Episode {
            goroutine: g,
            category,
            reason: st.reason,
            start_ns,
            end_ns,
            began_before_trace: st.began_before,
            open_at_end,
            stack: st.stack,
            waker: st.waker,
            creator: st.creator,
        };
        *self.count += 1;
        sink.episode(&ep, self.tables);
    }
}

/// The state machine.
pub struct Builder<'t> {
    tables: &'t mut Tables,
    stacks: &'t StackMap,
    clock: Clock,
    opts: Options,
    gs: GTable<G>,
    /// Per P stream: pending non-blocking syscall (g, ticks, stack).
    p_sys: Vec<Option<(u64, i64, StackId)>>,
    pre_init: bool,
    r: Reasons,
    /// Anomalies seen.
    pub anomalies: Anomalies,
    /// Episodes emitted.
    pub episodes: u64,
}

impl<'t> Builder<'t> {
    /// A builder for a trace with `streams` P streams.
    pub fn new(
        tables: &'t mut Tables,
        stacks: &'t StackMap,
        clock: Clock,
        streams: usize,
        opts: Options,
    ) -> Self {
        let mut i = |s: &str| tables.intern_str(s);
        let r = Reasons {
            chan_send: i("chan send"),
            chan_recv: i("chan receive"),
            select: i("select"),
            sync: i("sync"),
            cond: i("sync.(*Cond).Wait"),
            network: i("network"),
            gc_assist: i("GC mark assist wait for work"),
            sleep: i("sleep"),
            forever: i("forever"),
            empty: i(""),
            syscall: i("syscall"),
            runnable: i("runnable"),
        };
        Builder {
            tables,
            stacks,
            clock,
            opts,
            gs: GTable::default(),
            p_sys: vec![None; streams],
            pre_init: true,
            r,
            anomalies: Anomalies::default(),
            episodes: 0,
        }
    }

    #[inline]
    fn stack(&mut self, id: u64) -> StackId {
        stack_of(self.stacks, &mut self.anomalies, id)
    }

    #[inline]
    fn wait_reason(&self, typ: u8) -> (Sym, Category) {
        let r = &self.r;
        match typ {
            ev::GO_BLOCK_SEND => (r.chan_send, Category::Sync),
            ev::GO_BLOCK_RECV => (r.chan_recv, Category::Sync),
            ev::GO_BLOCK_SELECT => (r.select, Category::Sync),
            ev::GO_BLOCK_SYNC => (r.sync, Category::Sync),
            ev::GO_BLOCK_COND => (r.cond, Category::Sync),
            ev::GO_BLOCK_NET => (r.network, Category::Net),
            ev::GO_BLOCK_GC => (r.gc_assist, Category::Gc),
            ev::GO_SLEEP => (r.sleep, Category::Sleep),
            ev::GO_STOP => (r.forever, Category::Other),
            _ => (r.empty, Category::Other),
        }
    }

    /// Feeds one event in merged order.
    pub fn event(&mut self, e: &Event, sink: &mut dyn EpisodeSink) {
        // A non-blocking syscall ends before the next event of its P.
        if let Some(slot) = self.p_sys.get_mut(e.p as usize)
            && let Some((g, ts, stack)) = slot.take()
            && e.typ != ev::GO_SYS_BLOCK
            && self.opts.nonblocking_syscalls
        {
            let st = G {
                open: Open::Syscall,
                start: ts,
                reason: self.r.syscall,
                stack,
                creator: self.gs.get(g).and_then(|s| s.creator),
                ..G::default()
            };
            self.em().emit(g, &st, e.ts, false, sink);
        }
        let r_runnable = self.r.runnable;
        let r_syscall = self.r.syscall;
        let r_empty = self.r.empty;
        match e.typ {
            ev::GOMAXPROCS => self.pre_init = false,
            ev::GO_CREATE => {
                let g = e.args[0];
                let st = if self.pre_init {
                    // Existed before the trace, runnable (or about to get
                    // GoWaiting/GoInSyscall/GoStart); the creator stack here
                    // is trace.Start's caller, not the real creator.
                    G {
                        open: Open::Sched,
                        began_before: true,
                        start: e.ts,
                        reason: r_runnable,
                        ..G::default()
                    }
                } else {
                    let creator = self.stack(e.stk);
                    let start_stack = self.stack(e.args[1]);
                    G {
                        open: Open::Sched,
                        start: e.ts,
                        reason: r_runnable,
                        stack: start_stack,
                        waker: Some(Waker {
                            goroutine: (e.g != 0).then_some(e.g),
                            stack: creator,
                        }),
                        creator: Some(creator),
                        ..G::default()
                    }
                };
                *self.gs.get_mut(g) = st;
            }
            ev::GO_WAITING | ev::GO_IN_SYSCALL => {
                let st = self.gs.get_mut(e.g);
                st.began_before = true;
                st.start = e.ts;
                st.stack = StackId::EMPTY;
                st.waker = None;
                st.sys = None;
                if e.typ == ev::GO_WAITING {
                    st.open = Open::Wait;
                    st.reason = r_empty;
                    st.category = Some(Category::Other);
                } else {
                    st.open = Open::Syscall;
                    st.reason = r_syscall;
                    st.category = None;
                    st.sys_block = Some(e.ts);
                }
            }
            ev::GO_START | ev::GO_START_LABEL => {
                let pre_init = self.pre_init;
                let (mut em, gs) = self.split();
                let st = gs.get_mut(e.g);
                // Before the first Gomaxprocs: running when the trace
                // started, not an episode.
                if !pre_init {
                    em.emit(e.g, st, e.ts, false, sink);
                }
                st.open = Open::None;
                st.began_before = false;
                st.waker = None;
            }
            ev::GO_END => {
                let st = self.gs.remove(e.g);
                self.em().emit(e.g, &st, e.ts, false, sink);
            }
            ev::GO_SCHED | ev::GO_PREEMPT => {
                let stack = self.stack(e.stk);
                let (mut em, gs) = self.split();
                let st = gs.get_mut(e.g);
                em.emit(e.g, st, e.ts, false, sink);
                st.open = Open::Sched;
                st.began_before = false;
                st.waker = None;
                st.start = e.ts;
                st.reason = r_runnable;
                st.category = None;
                st.stack = stack;
            }
            ev::GO_STOP
            | ev::GO_SLEEP
            | ev::GO_BLOCK
            | ev::GO_BLOCK_SEND
            | ev::GO_BLOCK_RECV
            | ev::GO_BLOCK_SELECT
            | ev::GO_BLOCK_SYNC
            | ev::GO_BLOCK_COND
            | ev::GO_BLOCK_NET
            | ev::GO_BLOCK_GC => {
                let (reason, cat) = self.wait_reason(e.typ);
                let stack = self.stack(e.stk);
                let (mut em, gs) = self.split();
                let st = gs.get_mut(e.g);
                em.emit(e.g, st, e.ts, false, sink);
                st.open = Open::Wait;
                st.began_before = false;
                st.waker = None;
                st.start = e.ts;
                st.reason = reason;
                st.category = Some(cat);
                st.stack = stack;
            }
            ev::GO_UNBLOCK => {
                let g = e.args[0];
                let waker = Waker {
                    goroutine: (e.g != 0).then_some(e.g),
                    stack: self.stack(e.stk),
                };
                let (mut em, gs) = self.split();
                let st = gs.get_mut(g);
                if st.open != Open::None {
                    st.waker = Some(waker);
                    em.emit(g, st, e.ts, false, sink);
                }
                st.open = Open::Sched;
                st.began_before = false;
                st.start = e.ts;
                st.reason = r_runnable;
                st.category = None;
                st.waker = Some(waker);
            }
            ev::GO_SYS_CALL => {
                let stack = self.stack(e.stk);
                let st = self.gs.get_mut(e.g);
                st.sys = Some((e.ts, stack));
                if let Some(slot) = self.p_sys.get_mut(e.p as usize) {
                    *slot = Some((e.g, e.ts, stack));
                }
            }
            ev::GO_SYS_BLOCK => {
                let (mut em, gs) = self.split();
                let st = gs.get_mut(e.g);
                em.emit(e.g, st, e.ts, false, sink);
                let (start, stack) = st.sys.take().unwrap_or((e.ts, StackId::EMPTY));
                st.open = Open::Syscall;
                st.began_before = false;
                st.waker = None;
                st.start = start;
                st.stack = stack;
                st.reason = r_syscall;
                st.category = None;
                st.sys_block = Some(e.ts);
            }
            ev::GO_SYS_EXIT => {
                let g = e.args[0];
                let (mut em, gs) = self.split();
                let st = gs.get_mut(g);
                let real = e.args[2] as i64;
                let mut bad = false;
                let t = if e.args[2] != 0 {
                    match st.sys_block {
                        Some(b) if real >= b => real,
                        _ => {
                            bad = true;
                            e.ts
                        }
                    }
                } else {
                    e.ts
                };
                em.emit(g, st, t, false, sink);
                st.open = Open::Sched;
                st.began_before = false;
                st.start = t;
                st.reason = r_runnable;
                st.category = None;
                st.waker = None;
                st.sys = None;
                st.sys_block = None;
                if bad {
                    self.anomalies.bad_sysexit_ts += 1;
                }
            }
            _ => {}
        }
    }

    #[inline]
    fn em(&mut self) -> Emitter<'_> {
        Emitter {
            tables: self.tables,
            clock: self.clock,
            wanted: self.opts.categories,
            count: &mut self.episodes,
        }
    }

    /// The emitter and the goroutine map, borrowed together.
    #[inline]
    fn split(&mut self) -> (Emitter<'_>, &mut GTable<G>) {
        (
            Emitter {
                tables: self.tables,
                clock: self.clock,
                wanted: self.opts.categories,
                count: &mut self.episodes,
            },
            &mut self.gs,
        )
    }

    /// Flushes the episodes still open at the end of the trace (`end` ticks),
    /// in goroutine order.
    pub fn finish(&mut self, end: i64, sink: &mut dyn EpisodeSink) {
        let mut open: Vec<(u64, G)> = self
            .gs
            .iter()
            .filter(|(_, s)| s.open != Open::None)
            .map(|(g, s)| (g, *s))
            .collect();
        if self.opts.nonblocking_syscalls {
            for (g, ts, stack) in self.p_sys.iter_mut().filter_map(Option::take) {
                open.push((
                    g,
                    G {
                        open: Open::Syscall,
                        start: ts,
                        reason: self.r.syscall,
                        stack,
                        ..G::default()
                    },
                ));
            }
        }
        open.sort_by_key(|(g, s)| (*g, s.start));
        let mut em = self.em();
        for (g, st) in open {
            em.emit(g, &st, end, true, sink);
        }
        self.gs.clear();
    }
}
