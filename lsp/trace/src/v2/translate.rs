//! Translates the ordering's goroutine transitions (Go's reader order, from
//! `order.rs`) into the episode core's [`Change`]s (`crate::episodes`):
//! resolves their stacks and strings in the generation's tables, names
//! the waker, and says which reason the decoder gives.
//!
//! | event (from → to) | change | reason | stack |
//! |---|---|---|---|
//! | `GoStatus`/`GoStatusStack` from Undetermined (first generation) | `Found` (at the trace origin) | `""` for waits, `"syscall"`, `"runnable"` | the `GoStatusStack` stack, if any |
//! | `GoStatusStack` of a later generation | `StackSeen` | | the goroutine's parked stack |
//! | `GoCreate` | `Create` (runnable) | `"created"` | the new goroutine's start PC |
//! | `GoCreateBlocked` | `Create` (waiting) | `"coroutine"` (the runtime's `waitReasonCoroutine`) | the start PC |
//! | `GoStart` | `Start` | | |
//! | `GoStop` | `Stop` | the runtime's stop reason (`"preempted"`, `"runtime.Gosched"`, …) | the `GoStop` stack |
//! | `GoBlock` | `Block` | the runtime's wait reason (`"chan receive"`, `"select"`, …) | the `GoBlock` stack |
//! | the synthetic `GoBlock` of a `GoSwitch` | `Block` | `"coroutine"` | none |
//! | `GoUnblock` | `Unblock` | | |
//! | `GoSwitch`, `GoSwitchDestroy` (their target) | `Switch` | | |
//! | `GoSyscallBegin` | `SyscallBegin` | | the `GoSyscallBegin` stack |
//! | `GoSyscallEnd` | `SyscallEnd` | | |
//! | `GoSyscallEndBlocked` | `SyscallEndBlocked` | `"syscall exit"` (waiting for a P after a syscall) | |
//! | `GoDestroy`, `GoDestroySyscall` | `End` | | |
//! | `GoCreateSyscall` | none | | |
//!
//! * The **waker** of `GoUnblock` is the goroutine running where it was
//!   emitted (`None` when emitted from no goroutine: netpoller, timers,
//!   sysmon) and its stack; for a coroutine switch, the switching goroutine
//!   (no stack). `GoSwitch` makes its target run at the same instant: no
//!   Sched episode is produced for it.
//! * A goroutine that appears in a syscall (`GoCreateSyscall`: a C thread
//!   calling into Go through cgo) has no episode until its first transition:
//!   the interval is the C caller's time, not a wait of Go code (Go's tool
//!   drops it too).
//! * The **creator** is the `GoCreate` stack of the goroutine, when its
//!   creation is in the trace.
//! * `GoStatusStack` stacks of parked goroutines start inside the scheduler
//!   (`runtime.gopark`); those leading park frames are dropped.
//! * Times are raw event times (Go's per-delta tick→ns conversion, *not* made
//!   strictly increasing like Go's reader does) relative to the trace's
//!   origin ([`Origin`]): the first generation's earliest batch timestamp
//!   (the time of the `Sync` event Go's reader returns first).
//!
//! This module does not decide event order or validity (see `order.rs`),
//! nor what a change does to episodes (see `crate::episodes`).

use super::events::ev;
use super::order::{GoState, NO_G, Transition};
use super::tables::{GenTables, Resolver, strip_park_frames};
use crate::episodes::{Change, Clock, Core, Found, Slot};
use crate::{EpisodeSink, StackId, Sym, Tables, Waker};

/// The new format's clock: times are ns; episodes count from the trace's
/// origin (set with the first generation).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Origin(pub i64);

impl Clock for Origin {
    #[inline(always)]
    fn ns(&self, t: i64) -> u64 {
        u64::try_from(t.saturating_sub(self.0)).unwrap_or(0)
    }
}

/// The episode core with the new format's clock.
pub(crate) type Tracker = Core<Origin>;

/// The consumer of one generation's transitions; `C` is the episode
/// core's clock (a worker's differs, see `parallel.rs`).
pub(crate) struct GenEpisodes<'a, C: Clock = Origin> {
    pub tracker: &'a mut Core<C>,
    /// The trace's origin (raw time): when a goroutine found in the first
    /// generation entered its state.
    pub origin: i64,
    pub gt: &'a GenTables,
    pub res: &'a mut Resolver,
    pub tables: &'a mut Tables,
    pub sink: &'a mut dyn EpisodeSink,
    pub bytes: &'a [u8],
}

impl<C: Clock> GenEpisodes<'_, C> {
    #[inline]
    fn stack(&mut self, id: u64) -> StackId {
        self.res.stack(self.gt, self.bytes, self.tables, id)
    }

    #[inline]
    fn sym(&mut self, id: u64) -> Sym {
        self.res.sym(self.gt, self.bytes, self.tables, id)
    }

    /// Applies one transition of goroutine `t.g`, whose episode state is `s`.
    #[inline(always)]
    pub fn transition(&mut self, t: &Transition<'_>, s: &mut Slot) {
        if let Some((time, change)) = self.change(t) {
            self.tracker
                .apply(t.g, s, time, change, self.tables, self.sink);
        }
    }

    /// The core's change for transition `t`, and its time.
    #[inline(always)]
    pub fn change(&mut self, t: &Transition<'_>) -> Option<(i64, Change)> {
        let e = t.ev;
        let n = self.tracker.names;
        let change = match e.typ {
            ev::GO_CREATE | ev::GO_CREATE_BLOCKED => {
                let creator = self.stack(e.args[2]);
                let stack = self.stack(e.args[1]);
                let blocked = e.typ == ev::GO_CREATE_BLOCKED;
                Change::Create {
                    creator: (!creator.is_empty()).then_some(creator),
                    stack,
                    reason: if blocked { n.coroutine } else { n.created },
                    waker: None,
                    blocked,
                }
            }
            ev::GO_START => Change::Start,
            ev::GO_SYSCALL_END => Change::SyscallEnd,
            ev::GO_DESTROY | ev::GO_DESTROY_SYSCALL => Change::End,
            ev::GO_SYSCALL_END_BLOCKED => Change::SyscallEndBlocked {
                reason: n.syscall_exit,
            },
            ev::GO_SYSCALL_BEGIN => Change::SyscallBegin {
                start: t.time,
                stack: self.stack(e.args[1]),
            },
            ev::GO_STOP => {
                let mut reason = self.sym(e.args[0]);
                if reason == Sym(0) {
                    reason = n.runnable;
                }
                let stack = self.stack(e.args[1]);
                Change::Stop { reason, stack }
            }
            ev::GO_BLOCK if t.source == ev::GO_SWITCH => Change::Block {
                reason: n.coroutine,
                stack: StackId::EMPTY,
            },
            ev::GO_BLOCK => {
                let reason = self.sym(e.args[0]);
                let stack = self.stack(e.args[1]);
                Change::Block { reason, stack }
            }
            ev::GO_UNBLOCK | ev::GO_SWITCH | ev::GO_SWITCH_DESTROY => {
                let stack = if e.typ == ev::GO_UNBLOCK {
                    self.stack(e.args[2])
                } else {
                    StackId::EMPTY
                };
                let waker = Waker {
                    goroutine: (t.ctx_g != NO_G).then_some(t.ctx_g),
                    stack,
                };
                if e.typ == ev::GO_UNBLOCK {
                    Change::Unblock { waker }
                } else {
                    Change::Switch { waker }
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
                if t.from != GoState::Undetermined {
                    return Some((t.time, Change::StackSeen { stack }));
                }
                let state = match t.to {
                    GoState::Waiting => Found::Waiting,
                    GoState::Syscall => Found::Syscall,
                    GoState::Runnable => Found::Runnable,
                    GoState::Running => Found::Running,
                    _ => return None,
                };
                // Already in this state when the trace started.
                return Some((self.origin, Change::Found { state, stack }));
            }
            _ => return None,
        };
        Some((t.time, change))
    }
}
