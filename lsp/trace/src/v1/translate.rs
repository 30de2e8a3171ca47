//! Pass 2, interpretation: translates the merged old-format event stream
//! into the episode core's goroutine `Change`s (`crate::episodes`), as Go's
//! reader converts old traces into its new model
//! (`internal/trace/internal/tracev1` parses, `internal/trace/tracev1.go`
//! converts: the same mapping, event by event).
//!
//! | event | change | reason |
//! |---|---|---|
//! | `GoCreate` before the first `Gomaxprocs` | `Found` runnable (existed before the trace) | `"runnable"` |
//! | `GoWaiting`, `GoInSyscall` | `Found` waiting / in syscall | `""`, `"syscall"` |
//! | `GoStart` before the first `Gomaxprocs` | `Found` running | |
//! | `GoCreate` | `Create` (runnable; the creator is its waker) | `"runnable"` |
//! | `GoStart`, `GoStartLabel` | `Start` | |
//! | `GoSched`, `GoPreempt` | `Stop` | `"runnable"` |
//! | `GoBlock*`, `GoSleep`, `GoStop` | `Block` | Go's names for them (`Builder::wait_reason`) |
//! | `GoUnblock` | `Unblock` | |
//! | `GoSysCall` … `GoSysBlock` | `SyscallBegin` at the `GoSysCall` | |
//! | `GoSysExit` | `SyscallEndBlocked` at its real time when usable | `"runnable"` |
//! | `GoEnd` | `End` | |
//!
//! A `GoSysCall` with no `GoSysBlock` (a syscall that kept its P) is no
//! change: it is emitted as a closed syscall episode ending at the P's next
//! event (an upper bound), or open at the end. Reason strings are those
//! Go 1.22+ tools give old traces (`internal/trace/tracev1.go`). Times are
//! ticks, converted by [`Clock`] exactly as Go's old parser does. Does not
//! order events (see `order`) or validate goroutine transitions beyond what
//! it needs; state of ended goroutines is dropped at `GoEnd`.

use super::event::{ev, go_park_events};
use super::order::Event;
use super::stacks::StackMap;
use crate::episodes::{self, Change, Core, Found, Slot};
use crate::gtable::GTable;
use crate::{Categories, EpisodeSink, StackId, Sym, Tables, Waker};

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

impl episodes::Clock for Clock {
    #[inline(always)]
    fn ns(&self, t: i64) -> u64 {
        Clock::ns(self, t)
    }
}

/// Per-goroutine state: the core's, and the old format's syscall marks.
#[derive(Clone, Copy, Debug, Default)]
struct G {
    ep: Slot,
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

/// The interpretation: old events in, the core's changes out.
pub struct Builder<'t> {
    tables: &'t mut Tables,
    stacks: &'t StackMap,
    opts: Options,
    core: Core<Clock>,
    gs: GTable<G>,
    /// Per P stream: pending non-blocking syscall (g, ticks, stack).
    p_sys: Vec<Option<(u64, i64, StackId)>>,
    pre_init: bool,
    reasons: Reasons,
    /// Anomalies seen.
    pub anomalies: Anomalies,
}

/// The wait reasons of the old format's block events.
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
        let reasons = Reasons {
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
        };
        // Interned in the order of earlier versions (same `Sym`s).
        i("syscall");
        Builder {
            core: Core::new(clock, tables, opts.categories),
            tables,
            stacks,
            opts,
            gs: GTable::default(),
            p_sys: vec![None; streams],
            pre_init: true,
            reasons,
            anomalies: Anomalies::default(),
        }
    }

    /// Episodes emitted.
    pub fn episodes(&self) -> u64 {
        self.core.episodes
    }

    #[inline]
    fn stack(&mut self, id: u64) -> StackId {
        stack_of(self.stacks, &mut self.anomalies, id)
    }

    /// The reason Go's reader gives an old block event.
    /// Go: `internal/trace/tracev1.go` `convertEvent` (the `GoBlock*` cases).
    #[inline]
    fn wait_reason(&self, typ: u8) -> Sym {
        let r = &self.reasons;
        match typ {
            ev::GO_BLOCK_SEND => r.chan_send,
            ev::GO_BLOCK_RECV => r.chan_recv,
            ev::GO_BLOCK_SELECT => r.select,
            ev::GO_BLOCK_SYNC => r.sync,
            ev::GO_BLOCK_COND => r.cond,
            ev::GO_BLOCK_NET => r.network,
            ev::GO_BLOCK_GC => r.gc_assist,
            ev::GO_SLEEP => r.sleep,
            ev::GO_STOP => r.forever,
            _ => r.empty,
        }
    }

    /// Applies `change` of goroutine `g` at `time` ticks.
    #[inline(always)]
    fn apply(&mut self, g: u64, time: i64, change: Change, sink: &mut dyn EpisodeSink) {
        let st = self.gs.get_mut(g);
        self.core
            .apply(g, &mut st.ep, time, change, self.tables, sink);
    }

    /// Feeds one event in merged order.
    /// Go: `internal/trace/tracev1.go` `convertEvent` (old event → new
    /// model; `GoSched`/`GoPreempt`/`GoSysExit` keep the reason
    /// `"runnable"` goblock always gave them).
    pub fn event(&mut self, e: &Event, sink: &mut dyn EpisodeSink) {
        // A non-blocking syscall ends before the next event of its P.
        if let Some(slot) = self.p_sys.get_mut(e.p as usize)
            && let Some((g, ts, stack)) = slot.take()
            && e.typ != ev::GO_SYS_BLOCK
            && self.opts.nonblocking_syscalls
        {
            let creator = self.gs.get(g).and_then(|s| s.ep.creator());
            let pending = self.core.pending_syscall(ts, stack, creator);
            self.core.syscall(g, &pending, e.ts, self.tables, sink);
        }
        match e.typ {
            ev::GOMAXPROCS => self.pre_init = false,
            ev::GO_CREATE => {
                let g = e.args[0];
                *self.gs.get_mut(g) = G::default();
                let change = if self.pre_init {
                    // Existed before the trace, runnable (or about to get
                    // GoWaiting/GoInSyscall/GoStart); the creator stack here
                    // is trace.Start's caller, not the real creator.
                    Change::Found {
                        state: Found::Runnable,
                        stack: StackId::EMPTY,
                    }
                } else {
                    let creator = self.stack(e.stk);
                    let stack = self.stack(e.args[1]);
                    Change::Create {
                        creator: Some(creator),
                        stack,
                        reason: self.core.names.runnable,
                        waker: Some(Waker {
                            goroutine: (e.g != 0).then_some(e.g),
                            stack: creator,
                        }),
                        blocked: false,
                    }
                };
                self.apply(g, e.ts, change, sink);
            }
            ev::GO_WAITING | ev::GO_IN_SYSCALL => {
                let st = self.gs.get_mut(e.g);
                st.sys = None;
                let state = if e.typ == ev::GO_WAITING {
                    Found::Waiting
                } else {
                    st.sys_block = Some(e.ts);
                    Found::Syscall
                };
                let change = Change::Found {
                    state,
                    stack: StackId::EMPTY,
                };
                self.apply(e.g, e.ts, change, sink);
            }
            ev::GO_START | ev::GO_START_LABEL => {
                // Before the first Gomaxprocs: running when the trace
                // started, not an episode.
                let change = if self.pre_init {
                    Change::Found {
                        state: Found::Running,
                        stack: StackId::EMPTY,
                    }
                } else {
                    Change::Start
                };
                self.apply(e.g, e.ts, change, sink);
            }
            ev::GO_END => {
                let mut st = self.gs.remove(e.g);
                self.core
                    .apply(e.g, &mut st.ep, e.ts, Change::End, self.tables, sink);
            }
            ev::GO_SCHED | ev::GO_PREEMPT => {
                let stack = self.stack(e.stk);
                let reason = self.core.names.runnable;
                self.apply(e.g, e.ts, Change::Stop { reason, stack }, sink);
            }
            go_park_events!() | ev::GO_STOP => {
                let reason = self.wait_reason(e.typ);
                let stack = self.stack(e.stk);
                self.apply(e.g, e.ts, Change::Block { reason, stack }, sink);
            }
            ev::GO_UNBLOCK => {
                let waker = Waker {
                    goroutine: (e.g != 0).then_some(e.g),
                    stack: self.stack(e.stk),
                };
                self.apply(e.args[0], e.ts, Change::Unblock { waker }, sink);
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
                let st = self.gs.get_mut(e.g);
                let (start, stack) = st.sys.take().unwrap_or((e.ts, StackId::EMPTY));
                st.sys_block = Some(e.ts);
                self.apply(e.g, e.ts, Change::SyscallBegin { start, stack }, sink);
            }
            ev::GO_SYS_EXIT => {
                let g = e.args[0];
                let st = self.gs.get_mut(g);
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
                st.sys = None;
                st.sys_block = None;
                let reason = self.core.names.runnable;
                self.apply(g, t, Change::SyscallEndBlocked { reason }, sink);
                if bad {
                    self.anomalies.bad_sysexit_ts += 1;
                }
            }
            _ => {}
        }
    }

    /// Flushes the episodes still open at the end of the trace (`end` ticks),
    /// in goroutine order.
    pub fn finish(&mut self, end: i64, sink: &mut dyn EpisodeSink) {
        let mut open: Vec<(u64, Slot)> = self.gs.iter().map(|(g, s)| (g, s.ep)).collect();
        if self.opts.nonblocking_syscalls {
            for (g, ts, stack) in self.p_sys.iter_mut().filter_map(Option::take) {
                open.push((g, self.core.pending_syscall(ts, stack, None)));
            }
        }
        self.core.finish(end, open.into_iter(), self.tables, sink);
        self.gs.clear();
    }
}
