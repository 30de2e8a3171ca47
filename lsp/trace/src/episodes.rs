//! The episode core: one per-goroutine state machine, shared by both
//! formats, that turns goroutine state changes into [`Episode`]s — one per
//! interval a goroutine spent off-CPU in one state.
//!
//! The front ends (`v1::translate` for Go 1.11–1.21, `v2::translate` for
//! Go 1.22+) order their events and translate each goroutine transition
//! into a [`Change`] in Go's new model (`internal/trace`'s `GoState`
//! transitions), as Go's reader converts old traces
//! (`internal/trace/tracev1.go` `convertEvent`) so one semantics
//! layer serves both. This module decides what opens and closes an episode,
//! its category, which categories reach the sink, and the episodes still
//! open at the end.
//!
//! | change | closes (at the change's time) | opens | reason | stack | waker |
//! |---|---|---|---|---|---|
//! | [`Change::Found`] | nothing: replaces the state | Waiting / Syscall / Runnable, `began_before_trace` | `""` / `"syscall"` / `"runnable"` | given | — |
//! | [`Change::Create`] | nothing: a new goroutine | Runnable (or Waiting when `blocked`) | given | given (start PC) | given |
//! | [`Change::Start`], [`Change::SyscallEnd`], [`Change::End`] | the open episode, own waker | — | | | |
//! | [`Change::Stop`], [`Change::Block`] | the open episode, own waker | Runnable / Waiting | given | given | none |
//! | [`Change::Unblock`] | the open episode, with this waker | Runnable | `"runnable"` | the goroutine's own | this waker |
//! | [`Change::Switch`] | the open episode, with this waker | — (runs at once) | | | |
//! | [`Change::SyscallBegin`] | the open episode, own waker | Syscall at `start` | `"syscall"` | given | none |
//! | [`Change::SyscallEndBlocked`] | the open episode, own waker | Runnable | given | the syscall's | none |
//! | [`Change::StackSeen`] | — | — | | fills in an open episode's missing stack | |
//!
//! * Category: Waiting episodes by their reason ([`Category::of_wait_reason`],
//!   cached per string), Syscall → [`Category::Syscall`], Runnable →
//!   [`Category::Sched`]. Episodes of categories the sink does not want are
//!   tracked but not built.
//! * Times are the front end's own units (ticks or ns), converted at emission
//!   by its [`Clock`]; an end before its start (cross-M skew) gives a zero
//!   duration.
//!
//! Does not: decide event order or validity, resolve stack or string ids,
//! know the wire format, or own the per-goroutine table (each front end
//! keeps the [`Slot`]s for as long as it knows the goroutine).

use crate::{Categories, Category, Episode, EpisodeSink, StackId, Sym, Tables, Waker};

/// Converts a front end's time (ticks or ns) to ns since the trace's origin.
pub(crate) trait Clock {
    /// ns since the origin; never negative.
    fn ns(&self, t: i64) -> u64;
}

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

/// The state a goroutine was in when the trace first saw it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Found {
    Waiting,
    Syscall,
    Runnable,
    Running,
}

/// One goroutine state change, in Go's model. Times are given beside it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Change {
    /// The goroutine's state when the trace first saw it (Go: `GoStatus`
    /// from `GoUndetermined`): replaces the slot's, without an episode.
    Found { state: Found, stack: StackId },
    /// A new goroutine (Go: `GoCreate`, `GoCreateBlocked`), runnable or
    /// (`blocked`) waiting.
    Create {
        creator: Option<StackId>,
        stack: StackId,
        reason: Sym,
        waker: Option<Waker>,
        blocked: bool,
    },
    /// Runnable → Running (Go: `GoStart`).
    Start,
    /// Running → Runnable (Go: `GoStop`; old `GoSched`, `GoPreempt`).
    Stop { reason: Sym, stack: StackId },
    /// Running → Waiting (Go: `GoBlock`).
    Block { reason: Sym, stack: StackId },
    /// Waiting → Runnable (Go: `GoUnblock`).
    Unblock { waker: Waker },
    /// Waiting → Running at once, by a coroutine switch (Go: `GoSwitch`).
    Switch { waker: Waker },
    /// Running → Syscall, the syscall having begun at `start` (Go:
    /// `GoSyscallBegin`; old `GoSysCall` … `GoSysBlock`).
    SyscallBegin { start: i64, stack: StackId },
    /// Syscall → Running (Go: `GoSyscallEnd`).
    SyscallEnd,
    /// Syscall → Runnable, waiting for a P (Go: `GoSyscallEndBlocked`; old
    /// `GoSysExit`).
    SyscallEndBlocked { reason: Sym },
    /// → NotExist (Go: `GoDestroy`, `GoDestroySyscall`; old `GoEnd`).
    End,
    /// The stack of a goroutine whose state is already known (Go: a later
    /// generation's `GoStatusStack`).
    StackSeen { stack: StackId },
}

impl Change {
    /// The same change with its strings and stacks renamed by `sym` and
    /// `stack` (from a worker's own tables to the caller's, see
    /// `v2/parallel.rs`).
    pub fn map_ids(self, sym: impl Fn(Sym) -> Sym, stack: impl Fn(StackId) -> StackId) -> Change {
        let waker = |w: Waker| Waker {
            goroutine: w.goroutine,
            stack: stack(w.stack),
        };
        match self {
            Change::Found { state, stack: s } => Change::Found {
                state,
                stack: stack(s),
            },
            Change::Create {
                creator,
                stack: s,
                reason,
                waker: w,
                blocked,
            } => Change::Create {
                creator: creator.map(&stack),
                stack: stack(s),
                reason: sym(reason),
                waker: w.map(waker),
                blocked,
            },
            Change::Stop { reason, stack: s } => Change::Stop {
                reason: sym(reason),
                stack: stack(s),
            },
            Change::Block { reason, stack: s } => Change::Block {
                reason: sym(reason),
                stack: stack(s),
            },
            Change::Unblock { waker: w } => Change::Unblock { waker: waker(w) },
            Change::Switch { waker: w } => Change::Switch { waker: waker(w) },
            Change::SyscallBegin { start, stack: s } => Change::SyscallBegin {
                start,
                stack: stack(s),
            },
            Change::SyscallEndBlocked { reason } => Change::SyscallEndBlocked {
                reason: sym(reason),
            },
            Change::StackSeen { stack: s } => Change::StackSeen { stack: stack(s) },
            Change::Start | Change::SyscallEnd | Change::End => self,
        }
    }
}

/// Per-goroutine episode state (kept compact: it is touched by most
/// transitions; 40 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    start: i64,
    /// Waker goroutine (`NO_WAKER_G` = none) when `has_waker`.
    waker_g: u64,
    reason: Sym,
    stack: StackId,
    waker_stack: StackId,
    creator: StackId,
    open: Open,
    category: Category,
    has_waker: bool,
    has_creator: bool,
    began_before: bool,
}

/// `waker_g` of a waker that is no goroutine.
const NO_WAKER_G: u64 = u64::MAX;

impl Default for Slot {
    fn default() -> Self {
        Slot {
            start: 0,
            waker_g: NO_WAKER_G,
            reason: Sym(0),
            stack: StackId::EMPTY,
            waker_stack: StackId::EMPTY,
            creator: StackId::EMPTY,
            open: Open::None,
            category: Category::Other,
            has_waker: false,
            has_creator: false,
            began_before: false,
        }
    }
}

impl Slot {
    /// An episode is open.
    pub fn is_open(&self) -> bool {
        self.open != Open::None
    }

    /// Where the goroutine was created, when known.
    pub fn creator(&self) -> Option<StackId> {
        self.has_creator.then_some(self.creator)
    }

    /// The same state with its strings and stacks renamed by `sym` and
    /// `stack` (see [`Change::map_ids`]).
    pub fn map_ids(mut self, sym: impl Fn(Sym) -> Sym, stack: impl Fn(StackId) -> StackId) -> Slot {
        self.reason = sym(self.reason);
        self.stack = stack(self.stack);
        self.waker_stack = stack(self.waker_stack);
        self.creator = stack(self.creator);
        self
    }

    /// Takes the creator of `from` (the same goroutine's state where its
    /// creation was seen).
    pub fn inherit_creator(&mut self, from: Option<&Slot>) {
        self.set_creator(from.and_then(Slot::creator));
    }

    fn waker(&self) -> Option<Waker> {
        self.has_waker.then_some(Waker {
            goroutine: (self.waker_g != NO_WAKER_G).then_some(self.waker_g),
            stack: self.waker_stack,
        })
    }

    fn set_waker(&mut self, w: Option<Waker>) {
        match w {
            Some(w) => {
                self.has_waker = true;
                self.waker_g = w.goroutine.unwrap_or(NO_WAKER_G);
                self.waker_stack = w.stack;
            }
            None => self.has_waker = false,
        }
    }

    fn set_creator(&mut self, c: Option<StackId>) {
        self.has_creator = c.is_some();
        self.creator = c.unwrap_or(StackId::EMPTY);
    }
}

/// Reason strings the decoder supplies itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Names {
    pub runnable: Sym,
    pub created: Sym,
    pub coroutine: Sym,
    pub syscall: Sym,
    pub syscall_exit: Sym,
}

/// Trace-wide episode bookkeeping: the state machine's rules, the
/// categories wanted, and the front end's clock.
#[derive(Debug)]
pub(crate) struct Core<C> {
    /// Converts the front end's times at emission.
    pub clock: C,
    /// The decoder's own reason strings.
    pub names: Names,
    /// Episodes emitted.
    pub episodes: u64,
    /// Category of each wait reason seen, by `Sym`.
    categories: Vec<Option<Category>>,
    /// The categories the sink wants ([`EpisodeSink::categories`]).
    wanted: Categories,
}

impl<C: Clock> Core<C> {
    /// Interns the decoder's own reason strings; emits the episodes of the
    /// `wanted` categories only.
    pub fn new(clock: C, tables: &mut Tables, wanted: Categories) -> Self {
        Core {
            clock,
            names: Names {
                runnable: tables.intern_str("runnable"),
                created: tables.intern_str("created"),
                coroutine: tables.intern_str("coroutine"),
                syscall: tables.intern_str("syscall"),
                syscall_exit: tables.intern_str("syscall exit"),
            },
            episodes: 0,
            categories: Vec::new(),
            wanted,
        }
    }

    /// `Category::of_wait_reason`, cached per reason.
    #[inline(always)]
    fn wait_category(&mut self, reason: Sym, tables: &Tables) -> Category {
        match self.categories.get(reason.0 as usize) {
            Some(Some(c)) => *c,
            _ => self.new_wait_category(reason, tables),
        }
    }

    /// [`Core::wait_category`] of a reason not seen before.
    #[cold]
    #[inline(never)]
    fn new_wait_category(&mut self, reason: Sym, tables: &Tables) -> Category {
        let i = reason.0 as usize;
        let c = Category::of_wait_reason(tables.str(reason));
        if i >= self.categories.len() {
            self.categories.resize(i + 1, None);
        }
        self.categories[i] = Some(c);
        c
    }

    /// Applies `change` of goroutine `g` at `time` to its slot `s`, emitting
    /// the episode it closes. Inlined into the front ends' handlers, where
    /// the change is known: the `match` folds away.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn apply(
        &mut self,
        g: u64,
        s: &mut Slot,
        time: i64,
        change: Change,
        tables: &Tables,
        sink: &mut dyn EpisodeSink,
    ) {
        let n = self.names;
        match change {
            Change::Found { state, stack } => {
                let (what, reason) = match state {
                    Found::Waiting => (Open::Waiting, Sym(0)),
                    Found::Syscall => (Open::Syscall, n.syscall),
                    Found::Runnable => (Open::Runnable, n.runnable),
                    Found::Running => {
                        forget(s);
                        return;
                    }
                };
                self.set(s, what, time, reason, stack, None, tables);
                s.began_before = true;
            }
            Change::Create {
                creator,
                stack,
                reason,
                waker,
                blocked,
            } => {
                *s = Slot::default();
                s.set_creator(creator);
                let what = if blocked {
                    Open::Waiting
                } else {
                    Open::Runnable
                };
                self.set(s, what, time, reason, stack, waker, tables);
            }
            Change::Start | Change::SyscallEnd | Change::End => {
                self.close_own(g, s, time, tables, sink);
            }
            Change::Stop { reason, stack } => {
                self.close_own(g, s, time, tables, sink);
                self.set(s, Open::Runnable, time, reason, stack, None, tables);
            }
            Change::Block { reason, stack } => {
                self.close_own(g, s, time, tables, sink);
                self.set(s, Open::Waiting, time, reason, stack, None, tables);
            }
            Change::Unblock { waker } => {
                self.close(g, s, time, Some(waker), tables, sink);
                let own = s.stack;
                self.set(
                    s,
                    Open::Runnable,
                    time,
                    n.runnable,
                    own,
                    Some(waker),
                    tables,
                );
            }
            Change::Switch { waker } => {
                self.close(g, s, time, Some(waker), tables, sink);
            }
            Change::SyscallBegin { start, stack } => {
                self.close_own(g, s, time, tables, sink);
                self.set(s, Open::Syscall, start, n.syscall, stack, None, tables);
            }
            Change::SyscallEndBlocked { reason } => {
                self.close_own(g, s, time, tables, sink);
                let own = s.stack;
                self.set(s, Open::Runnable, time, reason, own, None, tables);
            }
            Change::StackSeen { stack } => {
                if s.open != Open::None && s.stack.is_empty() && !stack.is_empty() {
                    s.stack = stack;
                }
            }
        }
    }

    /// A syscall of goroutine `g` from `start` to `end` that left no state
    /// behind (the old format's syscalls that kept their P), emitted closed.
    pub fn syscall(
        &mut self,
        g: u64,
        pending: &Slot,
        end: i64,
        tables: &Tables,
        sink: &mut dyn EpisodeSink,
    ) {
        self.emit(g, pending, end, false, None, tables, sink);
    }

    /// A slot holding a syscall begun at `start` (see [`Core::syscall`]).
    pub fn pending_syscall(&self, start: i64, stack: StackId, creator: Option<StackId>) -> Slot {
        let mut s = Slot {
            open: Open::Syscall,
            category: Category::Syscall,
            start,
            reason: self.names.syscall,
            stack,
            ..Slot::default()
        };
        s.set_creator(creator);
        s
    }

    /// Emits the episodes still open in `slots` as open at `end`, in
    /// goroutine order (then start).
    pub fn finish(
        &mut self,
        end: i64,
        slots: impl Iterator<Item = (u64, Slot)>,
        tables: &Tables,
        sink: &mut dyn EpisodeSink,
    ) {
        let mut open: Vec<(u64, Slot)> = slots.filter(|(_, s)| s.is_open()).collect();
        open.sort_by_key(|(g, s)| (*g, s.start));
        for (g, s) in open {
            self.emit(g, &s, end, true, s.waker(), tables, sink);
        }
    }

    /// Opens an episode (whatever was open has been closed).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn set(
        &mut self,
        s: &mut Slot,
        what: Open,
        time: i64,
        reason: Sym,
        stack: StackId,
        waker: Option<Waker>,
        tables: &Tables,
    ) {
        s.open = what;
        s.category = match what {
            Open::Waiting => self.wait_category(reason, tables),
            Open::Syscall => Category::Syscall,
            Open::Runnable | Open::None => Category::Sched,
        };
        s.start = time;
        s.reason = reason;
        s.stack = stack;
        s.set_waker(waker);
        s.began_before = false;
    }

    /// [`Core::close`] by the waker the episode recorded (if any).
    #[inline(always)]
    fn close_own(
        &mut self,
        g: u64,
        s: &mut Slot,
        end: i64,
        tables: &Tables,
        sink: &mut dyn EpisodeSink,
    ) {
        let w = s.waker();
        self.close(g, s, end, w, tables, sink);
    }

    /// Emits the open episode (if any) as ended at `end` by `waker`; the
    /// goroutine then has none open.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn close(
        &mut self,
        g: u64,
        s: &mut Slot,
        end: i64,
        waker: Option<Waker>,
        tables: &Tables,
        sink: &mut dyn EpisodeSink,
    ) {
        self.emit(g, s, end, false, waker, tables, sink);
        forget(s);
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn emit(
        &mut self,
        g: u64,
        s: &Slot,
        end: i64,
        open_at_end: bool,
        waker: Option<Waker>,
        tables: &Tables,
        sink: &mut dyn EpisodeSink,
    ) {
        if s.open == Open::None || !self.wanted.contains(s.category) {
            return;
        }
        let start_ns = self.clock.ns(s.start);
        let end_ns = self.clock.ns(end).max(start_ns);
        let ep = Episode {
            goroutine: g,
            category: s.category,
            reason: s.reason,
            start_ns,
            end_ns,
            began_before_trace: s.began_before,
            open_at_end,
            stack: s.stack,
            waker,
            creator: s.creator(),
        };
        self.episodes += 1;
        sink.episode(&ep, tables);
    }
}

/// No episode open (running, or nothing known).
#[inline(always)]
fn forget(s: &mut Slot) {
    s.open = Open::None;
    s.began_before = false;
    s.has_waker = false;
}

#[cfg(test)]
mod tests {
    //! The core's rules, one change at a time (the front ends' translations
    //! are checked against Go's tools by the oracle tests).

    use super::*;

    /// Times are ns already; origin 100.
    struct Plain;
    impl Clock for Plain {
        fn ns(&self, t: i64) -> u64 {
            u64::try_from(t - 100).unwrap_or(0)
        }
    }

    struct Run {
        core: Core<Plain>,
        tables: Tables,
        out: Vec<Episode>,
        slot: Slot,
    }

    impl Run {
        fn new(wanted: Categories) -> Self {
            let mut tables = Tables::new();
            let core = Core::new(Plain, &mut tables, wanted);
            Run {
                core,
                tables,
                out: Vec::new(),
                slot: Slot::default(),
            }
        }

        fn apply(&mut self, time: i64, change: Change) {
            let out = &mut self.out;
            let mut sink = |ep: &Episode, _: &Tables| out.push(*ep);
            self.core
                .apply(7, &mut self.slot, time, change, &self.tables, &mut sink);
        }

        fn sym(&mut self, s: &str) -> Sym {
            self.tables.intern_str(s)
        }

        fn stack(&mut self, pc: u64) -> StackId {
            let f = self.tables.intern_frame(crate::Frame {
                pc,
                func: Sym(0),
                file: Sym(0),
                line: 1,
            });
            self.tables.intern_stack(&[f])
        }
    }

    #[test]
    fn block_then_unblock_gives_a_wait_and_a_runnable_episode_with_the_waker() {
        let mut r = Run::new(Categories::ALL);
        let (reason, stack, wstack) = (r.sym("chan receive"), r.stack(1), r.stack(2));
        let waker = Waker {
            goroutine: Some(3),
            stack: wstack,
        };
        r.apply(110, Change::Block { reason, stack });
        r.apply(150, Change::Unblock { waker });
        r.apply(170, Change::Start);
        let [wait, sched] = r.out[..] else {
            panic!("two episodes expected, got {:?}", r.out)
        };
        assert_eq!(
            (wait.category, wait.reason, wait.stack),
            (Category::Sync, reason, stack)
        );
        assert_eq!(
            (wait.start_ns, wait.end_ns, wait.waker),
            (10, 50, Some(waker))
        );
        assert!(wait.is_closed());
        // Runnable until it runs: the goroutine's own stack, the same waker.
        assert_eq!(
            (sched.category, sched.reason),
            (Category::Sched, r.core.names.runnable)
        );
        assert_eq!((sched.start_ns, sched.end_ns, sched.stack), (50, 70, stack));
        assert_eq!(sched.waker, Some(waker));
        assert!(!r.slot.is_open());
    }

    #[test]
    fn a_switch_closes_the_wait_and_opens_nothing() {
        let mut r = Run::new(Categories::ALL);
        let reason = r.core.names.coroutine;
        r.apply(
            110,
            Change::Block {
                reason,
                stack: StackId::EMPTY,
            },
        );
        let waker = Waker {
            goroutine: Some(9),
            stack: StackId::EMPTY,
        };
        r.apply(120, Change::Switch { waker });
        assert_eq!(r.out.len(), 1);
        assert_eq!(
            (r.out[0].category, r.out[0].waker),
            (Category::Other, Some(waker))
        );
        assert!(!r.slot.is_open());
    }

    #[test]
    fn a_blocking_syscall_starts_when_the_call_began_and_ends_waiting_for_a_p() {
        let mut r = Run::new(Categories::ALL);
        let stack = r.stack(5);
        let exit = r.core.names.syscall_exit;
        r.apply(140, Change::SyscallBegin { start: 120, stack });
        r.apply(200, Change::SyscallEndBlocked { reason: exit });
        r.apply(230, Change::Start);
        let [sys, sched] = r.out[..] else {
            panic!("two episodes expected, got {:?}", r.out)
        };
        assert_eq!(
            (sys.category, sys.start_ns, sys.end_ns),
            (Category::Syscall, 20, 100)
        );
        assert_eq!((sys.stack, sys.waker), (stack, None));
        assert_eq!(
            (sched.reason, sched.stack, sched.start_ns, sched.end_ns),
            (exit, stack, 100, 130)
        );
    }

    #[test]
    fn found_replaces_the_state_without_an_episode_and_marks_it_began_before() {
        let mut r = Run::new(Categories::ALL);
        let stack = r.stack(4);
        r.apply(
            130,
            Change::Found {
                state: Found::Runnable,
                stack: StackId::EMPTY,
            },
        );
        r.apply(
            130,
            Change::Found {
                state: Found::Waiting,
                stack,
            },
        );
        assert!(r.out.is_empty());
        let waker = Waker {
            goroutine: None,
            stack: StackId::EMPTY,
        };
        r.apply(160, Change::Unblock { waker });
        assert_eq!(r.out.len(), 1);
        let ep = r.out[0];
        assert!(ep.began_before_trace && !ep.is_closed());
        assert_eq!(
            (ep.reason, ep.stack, ep.start_ns, ep.end_ns),
            (Sym(0), stack, 30, 60)
        );
        // Running when first seen: nothing open, nothing emitted.
        r.apply(
            170,
            Change::Found {
                state: Found::Running,
                stack: StackId::EMPTY,
            },
        );
        assert!(!r.slot.is_open() && r.out.len() == 1);
    }

    #[test]
    fn a_later_stack_fills_only_a_missing_one() {
        let mut r = Run::new(Categories::ALL);
        let (a, b) = (r.stack(10), r.stack(11));
        r.apply(
            100,
            Change::Found {
                state: Found::Waiting,
                stack: StackId::EMPTY,
            },
        );
        r.apply(120, Change::StackSeen { stack: a });
        r.apply(130, Change::StackSeen { stack: b });
        r.apply(140, Change::End);
        assert_eq!(r.out.len(), 1);
        assert_eq!(r.out[0].stack, a);
    }

    #[test]
    fn create_sets_the_creator_and_skew_gives_a_zero_duration() {
        let mut r = Run::new(Categories::ALL);
        let (creator, start_pc) = (r.stack(20), r.stack(21));
        let reason = r.core.names.created;
        r.apply(
            150,
            Change::Create {
                creator: Some(creator),
                stack: start_pc,
                reason,
                waker: None,
                blocked: false,
            },
        );
        // Stamped by another M, earlier: clamped, not negative.
        r.apply(140, Change::Start);
        let ep = r.out[0];
        assert_eq!(
            (ep.creator, ep.stack, ep.reason),
            (Some(creator), start_pc, reason)
        );
        assert_eq!((ep.start_ns, ep.end_ns), (50, 50));
        // A creator the trace did not record stays unknown.
        r.apply(
            160,
            Change::Create {
                creator: None,
                stack: start_pc,
                reason,
                waker: None,
                blocked: true,
            },
        );
        r.apply(170, Change::End);
        assert_eq!(
            (r.out[1].creator, r.out[1].category),
            (None, Category::Other)
        );
    }

    #[test]
    fn unwanted_categories_are_tracked_but_not_emitted() {
        let wanted = Categories::NONE.with(Category::Sync);
        let mut r = Run::new(wanted);
        let (sleep, recv) = (r.sym("sleep"), r.sym("chan receive"));
        let stack = StackId::EMPTY;
        r.apply(
            110,
            Change::Block {
                reason: sleep,
                stack,
            },
        );
        r.apply(
            120,
            Change::Unblock {
                waker: Waker {
                    goroutine: None,
                    stack,
                },
            },
        );
        r.apply(130, Change::Start);
        r.apply(
            140,
            Change::Block {
                reason: recv,
                stack,
            },
        );
        r.apply(150, Change::End);
        assert_eq!(r.out.len(), 1);
        assert_eq!((r.out[0].reason, r.out[0].start_ns), (recv, 40));
        assert_eq!(r.core.episodes, 1);
    }

    #[test]
    fn finish_emits_open_episodes_by_goroutine_then_start() {
        let mut r = Run::new(Categories::ALL);
        let stack = StackId::EMPTY;
        let reason = r.sym("select");
        let mut waiting = Slot::default();
        let mut none = Slot::default();
        let out = &mut r.out;
        let mut sink = |ep: &Episode, _: &Tables| out.push(*ep);
        r.core.apply(
            9,
            &mut waiting,
            130,
            Change::Block { reason, stack },
            &r.tables,
            &mut sink,
        );
        r.core.apply(
            2,
            &mut none,
            130,
            Change::Found {
                state: Found::Running,
                stack,
            },
            &r.tables,
            &mut sink,
        );
        let early = r.core.pending_syscall(110, stack, None);
        let late = r.core.pending_syscall(120, stack, None);
        let slots = [(9, late), (9, waiting), (2, none), (9, early)];
        r.core.finish(200, slots.into_iter(), &r.tables, &mut sink);
        let got: Vec<_> = r
            .out
            .iter()
            .map(|e| (e.goroutine, e.start_ns, e.category, e.open_at_end, e.end_ns))
            .collect();
        assert_eq!(
            got,
            [
                (9, 10, Category::Syscall, true, 100),
                (9, 20, Category::Syscall, true, 100),
                (9, 30, Category::Sync, true, 100),
            ]
        );
    }
}
