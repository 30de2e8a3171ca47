//! Ordering a later generation from scratch, and stitching it onto the
//! state the previous generation ended in — what lets generations be
//! ordered in parallel (`parallel.rs`).
//!
//! The runtime announces, at the start of each generation, the status of
//! every goroutine and P it uses (`GoStatus`, `ProcStatus`), the ranges in
//! flight (`GCActive`, `GCSweepActive`, `GCMarkAssistActive`), and every
//! sequence number restarts. So an [`Ordering::fresh`] can order generation
//! *k* without the state generation *k*−1 ended in: wherever the sequential
//! ordering would *read* that state, the fresh one records what it assumed
//! ([`Assume`]) and goes on as Go's reader does in a first generation. The
//! assumptions are handed to the consumer before the transitions that follow
//! them ([`super::Consumer::assume`]); the caller checks each against the
//! state the previous generation ended in ([`Ordering::holds`]) before using
//! those transitions, and at the generation's end takes over what it changed
//! ([`Ordering::absorb`]).
//!
//! When every assumption holds, the fresh ordering read the same values as
//! the sequential one, so it made the same decisions: the same transitions
//! (a status announced in a later generation is handed over as the
//! sequential ordering does, `from` = the status), in the same order, and
//! the same state at the end. Stalls agree without a check: an event that
//! needs a goroutine's or P's sequence number cannot advance on a state of
//! an earlier generation, nor on none. When an assumption fails, or the
//! fresh ordering fails, the caller orders the generation sequentially.
//!
//! Reads that are recorded: a goroutine's / P's status where it is first
//! announced or created; a thread's bound goroutine and P until the thread
//! announces them (any event but a status event reads both — conservative);
//! the GC cycle at the generation's first GC event; whether a task or range
//! was in flight where it begins or is announced; the regions a goroutine
//! ends without having begun them in the generation.
//!
//! Does not: order events (`order.rs`), move work between threads
//! (`parallel.rs`), build episodes.

use super::events::ev;
use super::{
    Consumer, Ctx, GcState, MState, NO_G, NO_P, Ordering, RangeType, Ranges, Region, USER_GO_REQS,
    start_ev, validate_ctx,
};
use crate::fxhash::{FxHashMap, FxHashSet};

/// The thread's goroutine is not known yet in this generation.
pub(crate) const UNDEF_G: u8 = 1;
/// The thread's P is not known yet in this generation.
pub(crate) const UNDEF_P: u8 = 2;

/// Who a range belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Owner {
    G(u64),
    P(u64),
}

/// What a fresh ordering assumed about the state the previous generation
/// ended in.
#[derive(Clone, Debug)]
pub(crate) enum Assume {
    /// Goroutine `g` existed with wire status `status` (`GoStatus`), or did
    /// not exist (`None`: `GoCreate`, `GoCreateSyscall`).
    G { g: u64, status: Option<u64> },
    /// P `p` was unknown or had wire status `status` (`ProcStatus`).
    P { p: u64, status: u64 },
    /// P `p` was in a syscall (announced abandoned: promoted).
    PSyscall { p: u64 },
    /// Thread `m` had goroutine `g` (a thread never seen has none).
    MG { m: u64, g: u64 },
    /// Thread `m` had P `p` (a thread never seen has none).
    MP { m: u64, p: u64 },
    /// Thread `m` was seen and had P `p` (a `ProcSteal` from it).
    MSeenP { m: u64, p: u64 },
    /// A thread other than `known` (those whose P the generation had set)
    /// had P `p` (a P announced abandoned, promoted).
    ThreadWithP { p: u64, known: Box<[u64]> },
    /// The GC cycle let `typ` (`GCActive`, `GCBegin`) with sequence number
    /// `seq` advance as the generation's first GC event; `user_ctx`: its
    /// context has a thread, P and goroutine (checked where the sequential
    /// ordering validates it).
    Gc { typ: u8, seq: u64, user_ctx: bool },
    /// Task `id` was not in flight.
    NoTask { id: u64 },
    /// Range `r` of `on` was (`present`) or was not in flight.
    Range {
        on: Owner,
        r: RangeType,
        present: bool,
    },
    /// Every range of `on` of the type that `typ` ends had description
    /// `desc` (which one Go's list removes then does not matter).
    RangeEnd { on: Owner, typ: u8, desc: u64 },
    /// Goroutine `g` ended `region` without a region of the generation open.
    RegionEnd { g: u64, region: Region },
}

/// What a fresh ordering assumed (not yet handed over) and what it touched.
#[derive(Debug, Default)]
pub(crate) struct Fresh {
    pending: Vec<Assume>,
    goroutines: FxHashSet<u64>,
    ranges: FxHashSet<(Owner, RangeType)>,
    tasks: FxHashSet<u64>,
}

impl Fresh {
    pub fn assume(&mut self, a: Assume) {
        self.pending.push(a);
    }

    /// Hands the pending assumptions to `c`.
    #[inline(always)]
    pub fn hand_over<C: Consumer>(&mut self, c: &mut C) {
        if !self.pending.is_empty() {
            for a in self.pending.drain(..) {
                c.assume(a);
            }
        }
    }

    pub fn touch_g(&mut self, g: u64) {
        self.goroutines.insert(g);
    }

    /// Goroutine `g` is created.
    pub fn created(&mut self, g: u64) {
        if self.goroutines.insert(g) {
            self.assume(Assume::G { g, status: None });
        }
    }

    /// Task `id` begins (`begin`) or ends.
    pub fn task(&mut self, id: u64, begin: bool) {
        if self.tasks.insert(id) && begin {
            self.assume(Assume::NoTask { id });
        }
    }

    /// Range `r` of `on` begins or is announced (`active`).
    pub fn range(&mut self, on: Owner, r: RangeType, active: bool) {
        if self.ranges.insert((on, r)) {
            self.assume(Assume::Range {
                on,
                r,
                present: active,
            });
        }
    }

    /// A range of `on` ended by `end_typ`, with description `desc`.
    pub fn range_end(&mut self, on: Owner, end_typ: u8, desc: u64) {
        let typ = start_ev(end_typ);
        self.ranges.insert((on, RangeType { typ, desc }));
        self.assume(Assume::RangeEnd { on, typ, desc });
    }
}

/// Whether `typ` only announces a status (reads nothing of its thread's
/// context but what the handler records itself).
#[inline(always)]
pub(crate) fn announces(typ: u8) -> bool {
    matches!(typ, ev::PROC_STATUS | ev::GO_STATUS | ev::GO_STATUS_STACK)
}

/// An event of thread `m` reads its context while parts are not known yet
/// in this generation: they had the value the fresh ordering has (none).
#[cold]
#[inline(never)]
pub(crate) fn read_ctx(ms: &mut MState, m: u64, f: Option<&mut Fresh>) {
    if let Some(f) = f {
        if ms.undef & UNDEF_G != 0 {
            f.assume(Assume::MG { m, g: ms.g });
        }
        if ms.undef & UNDEF_P != 0 {
            f.assume(Assume::MP { m, p: ms.p });
        }
    }
    ms.undef = 0;
}

/// The stitch's own state for one generation: how many regions of the
/// previous state each goroutine's unmatched region ends have closed.
#[derive(Debug, Default)]
pub(crate) struct Stitch {
    popped: FxHashMap<u64, usize>,
}

impl<S: Default + Clone> Ordering<S> {
    /// An ordering for a later generation, from scratch (see the module).
    pub fn fresh() -> Self {
        let mut o = Ordering::default();
        o.m.undef = UNDEF_G | UNDEF_P;
        o.fresh = Some(Box::default());
        o
    }

    pub(super) fn assume(&mut self, a: Assume) {
        if let Some(f) = self.fresh.as_deref_mut() {
            f.assume(a);
        }
    }

    /// Whether the applying thread's `what` is not known yet.
    pub(super) fn undefined(&self, what: u8) -> bool {
        self.m
            .states
            .get(self.cur_slot)
            .is_some_and(|ms| ms.undef & what != 0)
    }

    /// The applying thread's `what` is set by its event.
    #[inline]
    pub(super) fn define(&mut self, what: u8) {
        if let Some(ms) = self.m.states.get_mut(self.cur_slot) {
            ms.undef &= !what;
        }
    }

    /// `GoStatus` of goroutine `g` in a syscall on another thread `mid`,
    /// whose goroutine is not known yet: it had `g` (the sequential
    /// ordering checks that, and keeps its P).
    pub(super) fn fresh_syscall_thread(&mut self, mid: u64, g: u64) {
        let i = self.m.slot(mid);
        let ms = &mut self.m.states[i];
        if ms.undef & UNDEF_G == 0 {
            return;
        }
        if let Some(f) = self.fresh.as_deref_mut() {
            f.assume(Assume::MG { m: mid, g });
        }
        ms.undef &= !UNDEF_G;
        // Not seen: Go's handler creates it (g, no P) below; seen: it now
        // has the goroutine it was found with.
        if ms.seen {
            ms.g = g;
        }
    }

    /// `ProcSteal` of P `p` from thread `mid`, whose P is not known yet.
    pub(super) fn fresh_steal(&mut self, mid: u64, p: u64) {
        let i = self.m.slot(mid);
        let ms = &mut self.m.states[i];
        if ms.undef & UNDEF_P == 0 {
            return;
        }
        let a = if ms.seen {
            Assume::MP { m: mid, p }
        } else {
            // The sequential ordering knows the thread from before.
            ms.seen = true;
            ms.g = NO_G;
            Assume::MSeenP { m: mid, p }
        };
        ms.p = p;
        ms.undef &= !UNDEF_P;
        if let Some(f) = self.fresh.as_deref_mut() {
            f.assume(a);
        }
    }

    /// A P announced abandoned is promoted: a thread whose P is not known
    /// yet in this generation had it.
    pub(super) fn fresh_thread_with_p(&mut self, p: u64) {
        let known = self
            .m
            .index
            .iter()
            .filter(|&(_, &i)| self.m.states[i].undef & UNDEF_P == 0)
            .map(|(&m, _)| m)
            .collect();
        self.assume(Assume::ThreadWithP { p, known });
    }

    /// The generation's first GC event, where the fresh ordering takes the
    /// first generation's path.
    pub(super) fn fresh_gc(&mut self, typ: u8, seq: u64, cur: Ctx) {
        if let Some(f) = self.fresh.as_deref_mut() {
            let user_ctx = validate_ctx(cur, USER_GO_REQS).is_ok();
            f.assume(Assume::Gc { typ, seq, user_ctx });
        }
    }

    fn ranges_of(&self, on: Owner) -> Option<&Ranges> {
        match on {
            Owner::G(g) => self.g_extra.get(&g).map(|x| &x.ranges),
            Owner::P(p) => self.p.get(p).map(|s| &s.ranges),
        }
    }

    /// Whether assumption `a` holds in this state (the state the previous
    /// generation ended in). `bytes`: the input (region names).
    pub fn holds(&self, a: &Assume, st: &mut Stitch, bytes: &[u8]) -> bool {
        match *a {
            Assume::ThreadWithP { p, ref known } => self.m.index.iter().any(|(m, &i)| {
                !known.contains(m) && self.m.states[i].seen && self.m.states[i].p == p
            }),
            Assume::G { g, status } => self.g.get(&g).map(|s| s.status) == status,
            Assume::P { p, status } => self.p.get(p).is_none_or(|s| s.status == status),
            Assume::PSyscall { p } => self
                .p
                .get(p)
                .is_some_and(|s| s.status == super::ps::SYSCALL),
            Assume::MG { m, g } => self.m.get(m).map_or(NO_G, |s| s.g) == g,
            Assume::MP { m, p } => self.m.get(m).map_or(NO_P, |s| s.p) == p,
            Assume::MSeenP { m, p } => self.m.get(m).is_some_and(|s| s.p == p),
            Assume::Gc { typ, seq, user_ctx } => {
                let next = seq == self.gc_seq.wrapping_add(1);
                match (typ, self.gc_state) {
                    (ev::GC_ACTIVE, GcState::Running) => next && user_ctx,
                    (ev::GC_BEGIN, GcState::Undetermined) => true,
                    (ev::GC_BEGIN, GcState::NotRunning) => next && user_ctx,
                    _ => false,
                }
            }
            Assume::NoTask { id } => !self.tasks.contains_key(&id),
            Assume::Range { on, r, present } => {
                self.ranges_of(on).is_some_and(|rs| rs.has(r)) == present
            }
            Assume::RangeEnd { on, typ, desc } => self
                .ranges_of(on)
                .is_none_or(|rs| rs.0.iter().all(|r| r.typ != typ || r.desc == desc)),
            Assume::RegionEnd { g, region } => {
                let open = self.g_extra.get(&g).map_or(&[][..], |x| &x.regions[..]);
                let popped = st.popped.entry(g).or_default();
                let Some(top) = open.len().checked_sub(*popped + 1).map(|i| open[i]) else {
                    // No region open: ignored by both orderings.
                    return true;
                };
                let same = top.task == region.task
                    && bytes.get(top.name.0..top.name.1) == bytes.get(region.name.0..region.name.1);
                *popped += 1;
                same
            }
        }
    }

    /// Takes over what generation ordering `fresh` changed, every one of its
    /// assumptions having held in this state; afterwards this is the state
    /// the sequential ordering ends that generation in. A first generation's
    /// ordering (not fresh) replaces this one.
    pub fn absorb(&mut self, mut fresh: Ordering<S>, st: Stitch) {
        let Some(log) = fresh.fresh.take() else {
            *self = fresh;
            return;
        };
        let untouched = |on: Owner, rs: &mut Ranges| {
            rs.0.retain(|r| !log.ranges.contains(&(on, *r)));
        };
        for &g in &log.goroutines {
            let carried = self.g_extra.remove(&g);
            self.g.remove(&g);
            let Some(gs) = fresh.g.get(&g) else {
                continue;
            };
            self.g.insert(g, gs.clone());
            let mut x = carried.unwrap_or_default();
            let popped = st.popped.get(&g).copied().unwrap_or(0);
            x.regions.truncate(x.regions.len().saturating_sub(popped));
            untouched(Owner::G(g), &mut x.ranges);
            if let Some(fx) = fresh.g_extra.remove(&g) {
                x.regions.extend(fx.regions);
                x.ranges.0.extend(fx.ranges.0);
            }
            if !x.regions.is_empty() || !x.ranges.0.is_empty() {
                self.g_extra.insert(g, x);
            }
        }
        let procs = fresh
            .p
            .dense
            .into_iter()
            .enumerate()
            .filter_map(|(i, s)| Some((i as u64, s?)));
        for (p, mut ps) in procs.chain(fresh.p.sparse) {
            if let Some(old) = self.p.get_mut(p) {
                let mut rs = std::mem::take(&mut old.ranges);
                untouched(Owner::P(p), &mut rs);
                rs.0.append(&mut ps.ranges.0);
                ps.ranges = rs;
            }
            self.p.insert(p, ps);
        }
        for (&m, &i) in &fresh.m.index {
            let f = fresh.m.states[i];
            if !f.seen && f.undef == UNDEF_G | UNDEF_P {
                continue;
            }
            let (g, p, seen) = self
                .m
                .get(m)
                .map_or((NO_G, NO_P, false), |s| (s.g, s.p, true));
            let j = self.m.slot(m);
            self.m.states[j] = MState {
                g: if f.undef & UNDEF_G != 0 { g } else { f.g },
                p: if f.undef & UNDEF_P != 0 { p } else { f.p },
                seen: seen || f.seen,
                undef: 0,
            };
        }
        for &id in &log.tasks {
            match fresh.tasks.remove(&id) {
                Some(t) => {
                    self.tasks.insert(id, t);
                }
                None => {
                    self.tasks.remove(&id);
                }
            }
        }
        if fresh.gc_state != GcState::Undetermined {
            self.gc_state = fresh.gc_state;
            self.gc_seq = fresh.gc_seq;
        }
    }
}
