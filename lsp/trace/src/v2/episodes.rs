//! Turns goroutine state transitions (in Go's reader order, from
//! `order.rs`) into [`Episode`]s: one per interval a goroutine spent
//! off-CPU in one state.
//!
//! | state | opened by | closed by | reason | stack |
//! |---|---|---|---|---|
//! | Waiting | `GoBlock` | `GoUnblock`, `GoSwitch*` naming it | the runtime's wait reason (`"chan receive"`, `"select"`, …) | the `GoBlock` stack |
//! | Waiting | `GoCreateBlocked`; the synthetic block of a `GoSwitch` | as above | `"coroutine"` (the runtime's `waitReasonCoroutine`) | the new goroutine's start PC / none |
//! | Syscall | `GoSyscallBegin` | `GoSyscallEnd`, `GoSyscallEndBlocked`, `GoDestroySyscall` | `"syscall"` | the `GoSyscallBegin` stack |
//! | Sched (runnable) | `GoUnblock` | `GoStart` | `"runnable"` | the goroutine's own stack (where it blocked) |
//! | Sched | `GoCreate` | `GoStart` | `"created"` | the new goroutine's start PC |
//! | Sched | `GoStop` | `GoStart` | the runtime's stop reason (`"preempted"`, `"runtime.Gosched"`, …) | the `GoStop` stack |
//! | Sched | `GoSyscallEndBlocked` | `GoStart` | `"syscall exit"` (waiting for a P after a syscall) | the syscall's stack |
//! | any | `GoStatus`/`GoStatusStack` in the first generation (state before the trace) | as above | `""` (unknown) for waits, `"syscall"`, `"runnable"` | the `GoStatusStack` stack, if any |
//!
//! * The **waker** of a Waiting episode, and of the Sched episode that
//!   follows it, is the goroutine running where the `GoUnblock` was emitted
//!   (`None` when emitted from no goroutine: netpoller, timers, sysmon) and
//!   the `GoUnblock` stack. For a coroutine switch it is the switching
//!   goroutine (no stack). `GoSwitch` makes its target run at the same
//!   instant: no Sched episode is produced for it.
//! * A goroutine that appears in a syscall (`GoCreateSyscall`: a C thread
//!   calling into Go through cgo) has no episode until its first transition:
//!   the interval is the C caller's time, not a wait of Go code (Go's tool
//!   drops it too).
//! * The **creator** is the `GoCreate` stack of the goroutine, when its
//!   creation is in the trace (dropped with the goroutine on `GoDestroy`).
//! * `GoStatusStack` of a later generation (the stack of a goroutine still
//!   parked) fills in the stack of an open episode that has none (one that
//!   began before the trace). Such stacks start inside the scheduler
//!   (`runtime.gopark`); those leading park frames are dropped.
//! * Times are raw event times (Go's per-delta tick→ns conversion, *not* made
//!   strictly increasing like Go's reader does) relative to the trace's
//!   origin: the first generation's earliest batch timestamp (the time of the
//!   `Sync` event Go's reader returns first). Cross-M skew that puts an end
//!   before its start gives a zero duration.
//!
//! This module does not decide event order or validity (see `order.rs`).

use super::events::ev;
use super::order::{GoState, NO_G, Transition};
use super::tables::{GenTables, Resolver, strip_park_frames};
use crate::{Categories, Category, Episode, EpisodeSink, StackId, Sym, Tables, Waker};

/// What a goroutine is doing off-CPU.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
enum Open {
    /// Running, or nothing known.
    #[default]
    None,
    Waiting,
    Syscall,
    Runnable,
}

/// Per-goroutine episode state (kept compact: it is touched by most
/// transitions), kept by `handoff.rs` for as long as the ordering knows the
/// goroutine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GoSlot {
    start: i64,
    /// Waker goroutine (`NO_G` = none) when `has_waker`.
    waker_g: u64,
    reason: Sym,
    stack: StackId,
    waker_stack: StackId,
    /// `StackId::EMPTY` = unknown.
    creator: StackId,
    open: Open,
    category: Option<Category>,
    has_waker: bool,
    began_before: bool,
}

impl Default for GoSlot {
    fn default() -> Self {
        GoSlot {
            start: 0,
            waker_g: NO_G,
            reason: Sym(0),
            stack: StackId::EMPTY,
            waker_stack: StackId::EMPTY,
            creator: StackId::EMPTY,
            open: Open::None,
            category: None,
            has_waker: false,
            began_before: false,
        }
    }
}

impl GoSlot {
    /// An episode is open.
    pub fn is_open(&self) -> bool {
        self.open != Open::None
    }

    fn waker(&self) -> Option<Waker> {
        self.has_waker.then_some(Waker {
            goroutine: (self.waker_g != NO_G).then_some(self.waker_g),
            stack: self.waker_stack,
        })
    }

    fn set_waker(&mut self, w: Option<Waker>) {
        match w {
            Some(w) => {
                self.has_waker = true;
                self.waker_g = w.goroutine.unwrap_or(NO_G);
                self.waker_stack = w.stack;
            }
            None => self.has_waker = false,
        }
    }
}

/// Reason strings the decoder supplies itself.
#[derive(Clone, Copy, Debug)]
struct Names {
    runnable: Sym,
    created: Sym,
    coroutine: Sym,
    syscall: Sym,
    syscall_exit: Sym,
}

/// Trace-wide episode bookkeeping.
#[derive(Debug)]
pub(crate) struct Tracker {
    names: Names,
    /// Time origin (ns), set from the first generation.
    pub origin: i64,
    /// Episodes emitted.
    pub episodes: u64,
    /// Category of each wait reason seen, by `Sym`.
    categories: Vec<Option<Category>>,
    /// The categories the sink wants ([`EpisodeSink::categories`]): other
    /// episodes are tracked but not emitted.
    wanted: Categories,
}

impl Tracker {
    /// Interns the decoder's own reason strings; emits the episodes of the
    /// `wanted` categories only.
    pub fn new(tables: &mut Tables, wanted: Categories) -> Self {
        Tracker {
            names: Names {
                runnable: tables.intern_str("runnable"),
                created: tables.intern_str("created"),
                coroutine: tables.intern_str("coroutine"),
                syscall: tables.intern_str("syscall"),
                syscall_exit: tables.intern_str("syscall exit"),
            },
            origin: 0,
            episodes: 0,
            categories: Vec::new(),
            wanted,
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn emit(
        &mut self,
        g: u64,
        s: &GoSlot,
        end: i64,
        open_at_end: bool,
        waker: Option<Waker>,
        tables: &Tables,
        sink: &mut dyn EpisodeSink,
    ) {
        let category = match s.open {
            Open::None => return,
            Open::Waiting => s.category.unwrap_or(Category::Other),
            Open::Syscall => Category::Syscall,
            Open::Runnable => Category::Sched,
        };
        if !self.wanted.contains(category) {
            return;
        }
        let start_ns = rel(s.start, self.origin);
        let end_ns = rel(end, self.origin).max(start_ns);
        let ep = Episode {
            goroutine: g,
            category,
            reason: s.reason,
            start_ns,
            end_ns,
            began_before_trace: s.began_before,
            open_at_end,
            stack: s.stack,
            waker,
            creator: (!s.creator.is_empty()).then_some(s.creator),
        };
        self.episodes += 1;
        sink.episode(&ep, tables);
    }

    /// Emits the episode still open in `s` as open at the trace end.
    pub fn finish(
        &mut self,
        g: u64,
        s: &GoSlot,
        end: i64,
        tables: &Tables,
        sink: &mut dyn EpisodeSink,
    ) {
        if s.open != Open::None {
            self.emit(g, s, end, true, s.waker(), tables, sink);
        }
    }
}

fn rel(t: i64, origin: i64) -> u64 {
    u64::try_from(t.saturating_sub(origin)).unwrap_or(0)
}

/// The consumer of one generation's transitions.
pub(crate) struct GenEpisodes<'a> {
    pub tracker: &'a mut Tracker,
    pub gt: &'a GenTables,
    pub res: &'a mut Resolver,
    pub tables: &'a mut Tables,
    pub sink: &'a mut dyn EpisodeSink,
    pub bytes: &'a [u8],
}

impl GenEpisodes<'_> {
    /// `Category::of_wait_reason`, cached per reason.
    fn category(&mut self, reason: Sym) -> Category {
        let cats = &mut self.tracker.categories;
        let i = reason.0 as usize;
        if let Some(Some(c)) = cats.get(i) {
            return *c;
        }
        let c = Category::of_wait_reason(self.tables.str(reason));
        if i >= cats.len() {
            cats.resize(i + 1, None);
        }
        cats[i] = Some(c);
        c
    }

    #[inline]
    fn stack(&mut self, id: u64) -> StackId {
        self.res.stack(self.gt, self.bytes, self.tables, id)
    }

    #[inline]
    fn sym(&mut self, id: u64) -> Sym {
        self.res.sym(self.gt, self.bytes, self.tables, id)
    }

    #[inline(always)]
    fn close(&mut self, g: u64, s: &mut GoSlot, end: i64, waker: Option<Waker>) {
        self.tracker
            .emit(g, s, end, false, waker, self.tables, self.sink);
        s.open = Open::None;
        s.began_before = false;
        s.has_waker = false;
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn open(
        &mut self,
        g: u64,
        s: &mut GoSlot,
        what: Open,
        time: i64,
        reason: Sym,
        category: Option<Category>,
        stack: StackId,
        waker: Option<Waker>,
    ) {
        if s.open != Open::None {
            // Cannot happen in a trace Go's reader accepts; close defensively.
            let w = s.waker();
            self.close(g, s, time, w);
        }
        s.open = what;
        s.start = time;
        s.reason = reason;
        s.category = category;
        s.stack = stack;
        s.set_waker(waker);
        s.began_before = false;
    }
}

impl GenEpisodes<'_> {
    /// Applies one transition of goroutine `t.g`, whose state is `s`.
    #[inline(always)]
    pub fn transition(&mut self, t: &Transition<'_>, s: &mut GoSlot) {
        let e = t.ev;
        let time = t.time;
        let g = t.g;
        let n = self.tracker.names;
        match e.typ {
            ev::GO_CREATE | ev::GO_CREATE_BLOCKED => {
                s.creator = self.stack(e.args[2]);
                let own = self.stack(e.args[1]);
                if e.typ == ev::GO_CREATE {
                    self.open(g, s, Open::Runnable, time, n.created, None, own, None);
                } else {
                    let cat = Some(Category::of_wait_reason("coroutine"));
                    self.open(g, s, Open::Waiting, time, n.coroutine, cat, own, None);
                }
            }
            ev::GO_START if s.open == Open::Runnable => {
                let w = s.waker();
                self.close(g, s, time, w);
            }
            ev::GO_DESTROY_SYSCALL | ev::GO_SYSCALL_END if s.open == Open::Syscall => {
                self.close(g, s, time, None);
            }
            ev::GO_SYSCALL_END_BLOCKED => {
                let stack = s.stack;
                if s.open == Open::Syscall {
                    self.close(g, s, time, None);
                }
                self.open(
                    g,
                    s,
                    Open::Runnable,
                    time,
                    n.syscall_exit,
                    None,
                    stack,
                    None,
                );
            }
            ev::GO_SYSCALL_BEGIN => {
                let stack = self.stack(e.args[1]);
                self.open(g, s, Open::Syscall, time, n.syscall, None, stack, None);
            }
            ev::GO_STOP => {
                let mut reason = self.sym(e.args[0]);
                if reason == Sym(0) {
                    reason = n.runnable;
                }
                let stack = self.stack(e.args[1]);
                self.open(g, s, Open::Runnable, time, reason, None, stack, None);
            }
            ev::GO_BLOCK => {
                let (reason, stack) = if t.source == ev::GO_SWITCH {
                    (n.coroutine, StackId::EMPTY)
                } else {
                    (self.sym(e.args[0]), self.stack(e.args[1]))
                };
                let cat = Some(self.category(reason));
                self.open(g, s, Open::Waiting, time, reason, cat, stack, None);
            }
            ev::GO_UNBLOCK | ev::GO_SWITCH | ev::GO_SWITCH_DESTROY => {
                let wstack = if e.typ == ev::GO_UNBLOCK {
                    self.stack(e.args[2])
                } else {
                    StackId::EMPTY
                };
                let waker = Some(Waker {
                    goroutine: (t.ctx_g != NO_G).then_some(t.ctx_g),
                    stack: wstack,
                });
                let own = s.stack;
                if s.open == Open::Waiting {
                    self.close(g, s, time, waker);
                }
                if e.typ == ev::GO_UNBLOCK {
                    self.open(g, s, Open::Runnable, time, n.runnable, None, own, waker);
                }
            }
            ev::GO_STATUS | ev::GO_STATUS_STACK => {
                let mut stack = StackId::EMPTY;
                if e.typ == ev::GO_STATUS_STACK {
                    stack = self.stack(e.args[3]);
                    if t.to == GoState::Waiting {
                        stack = strip_park_frames(self.tables, stack);
                    }
                }
                if t.from == GoState::Undetermined {
                    let (what, reason, cat) = match t.to {
                        GoState::Waiting => {
                            (Open::Waiting, Sym(0), Some(Category::of_wait_reason("")))
                        }
                        GoState::Syscall => (Open::Syscall, n.syscall, None),
                        GoState::Runnable => (Open::Runnable, n.runnable, None),
                        _ => return,
                    };
                    let origin = self.tracker.origin;
                    self.open(g, s, what, origin, reason, cat, stack, None);
                    s.began_before = true;
                } else if s.open != Open::None && s.stack.is_empty() && !stack.is_empty() {
                    s.stack = stack;
                }
            }
            _ => {}
        }
    }
}
