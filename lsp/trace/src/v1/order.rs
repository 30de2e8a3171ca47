//! Pass 2, ordering: merges the per-P event streams into one causally
//! consistent stream, reading each P's batches lazily from the input (one
//! decoded event per P at a time — events are never collected).
//!
//! The algorithm is Go's (`internal/trace/order.go`, go1.21 `order1007`):
//! of the head events of all Ps, those whose goroutine precondition (sequence
//! number and status) holds are "ready"; the ready one with the smallest
//! timestamp goes next. `*Local` events are renamed to their plain form.
//!
//! Where Go rejects the whole trace this module reports instead, and the
//! caller decides: timestamps that go backwards in the causal order are
//! counted ([`Merger::out_of_order`]); a state where no head is ready is an
//! [`DecodeError::Inconsistent`] error, except in lenient mode (truncated
//! traces, where the events that would make them ready are missing), where
//! the earliest head is forced through and counted ([`Merger::forced`]).
//! Does not interpret events beyond the ordering preconditions.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::event::{self, ev, go_park_events};
use super::index::{Batch, Index};
use super::wire::{self, WireError};
use crate::gtable::GTable;
use crate::{DecodeError, varint};

/// One timed event in merged order.
#[derive(Clone, Copy, Debug, Default)]
pub struct Event {
    /// Event type (`*Local` types already renamed).
    pub typ: u8,
    /// Timestamp, ticks (emission time; for GoSysExit see `args[2]`).
    pub ts: i64,
    /// Index of the P stream ([`Index::streams`]).
    pub p: u32,
    /// The goroutine the event is about: the one running on the P, or the
    /// explicit goroutine argument of GoStart*/GoSysExit/GoWaiting/GoInSyscall.
    pub g: u64,
    /// Values after the timestamp, stack id excluded (the first three:
    /// enough for every event the decoder interprets). GoUnblock: [g, seq];
    /// GoSysExit: [g, seq, real ts]; GoCreate: [g, start stack]; GoStart: [g, seq].
    pub args: [u64; 3],
    /// Stack id (0 = none).
    pub stk: u64,
    /// Byte offset of the event.
    pub off: usize,
}

const UNORDERED: u64 = u64::MAX;
const GARBAGE: u64 = u64::MAX - 1;
const NOSEQ: u64 = u64::MAX;
const SEQINC: u64 = u64::MAX - 1;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[repr(u8)]
enum Status {
    #[default]
    Dead,
    Runnable,
    Running,
    Waiting,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct GState {
    seq: u64,
    status: Status,
}

/// Go's `stateTransition`: (goroutine, required state, state after).
fn transition_of(e: &Event) -> (u64, GState, GState) {
    use Status::*;
    let st = |seq, status| GState { seq, status };
    match e.typ {
        ev::GO_CREATE => (e.args[0], st(0, Dead), st(1, Runnable)),
        ev::GO_WAITING | ev::GO_IN_SYSCALL => (e.g, st(1, Runnable), st(2, Waiting)),
        ev::GO_START | ev::GO_START_LABEL => (
            e.g,
            st(e.args[1], Runnable),
            st(e.args[1].wrapping_add(1), Running),
        ),
        ev::GO_START_LOCAL => (e.g, st(NOSEQ, Runnable), st(SEQINC, Running)),
        go_park_events!() | ev::GO_SYS_BLOCK => (e.g, st(NOSEQ, Running), st(NOSEQ, Waiting)),
        ev::GO_SCHED | ev::GO_PREEMPT => (e.g, st(NOSEQ, Running), st(NOSEQ, Runnable)),
        ev::GO_UNBLOCK | ev::GO_SYS_EXIT => (
            e.args[0],
            st(e.args[1], Waiting),
            st(e.args[1].wrapping_add(1), Runnable),
        ),
        ev::GO_UNBLOCK_LOCAL | ev::GO_SYS_EXIT_LOCAL => {
            (e.args[0], st(NOSEQ, Waiting), st(SEQINC, Runnable))
        }
        ev::GC_START => (
            GARBAGE,
            st(e.args[0], Dead),
            st(e.args[0].wrapping_add(1), Dead),
        ),
        _ => (UNORDERED, GState::default(), GState::default()),
    }
}

fn ready(g: u64, cur: GState, init: GState) -> bool {
    g == UNORDERED || ((init.seq == NOSEQ || init.seq == cur.seq) && init.status == cur.status)
}

/// Reads one P's batches in order, one event at a time.
struct Cursor<'a> {
    batches: &'a [Batch],
    bi: usize,
    pos: usize,
    end: usize,
    last_ts: i64,
    last_g: u64,
    /// Decoded events not yet merged: `evs[at..]` (refilled in chunks).
    evs: Vec<Event>,
    at: usize,
    exhausted: bool,
}

const F_ORDINARY: u8 = 1;
const F_STACK: u8 = 2;
const F_START: u8 = 4;
const F_CLEAR: u8 = 8;
const F_EXPLICIT: u8 = 16;

/// Per event type: ordinary timed event (fast path), trailing stack id, and
/// its effect on the P's current goroutine (as in `decode_one`).
static FLAGS: [u8; 64] = {
    let mut f = [0u8; 64];
    let mut t = 0;
    while t < ev::COUNT as usize {
        let sp = &event::SPECS[t];
        let typ = t as u8;
        if sp.timed && !wire::special(typ) {
            f[t] |= F_ORDINARY;
        }
        if sp.stack {
            f[t] |= F_STACK;
        }
        f[t] |= match typ {
            ev::GO_START | ev::GO_START_LOCAL | ev::GO_START_LABEL => F_START,
            go_park_events!()
            | ev::GO_END
            | ev::GO_STOP
            | ev::GO_SCHED
            | ev::GO_PREEMPT
            | ev::GO_SYS_BLOCK => F_CLEAR,
            ev::GO_SYS_EXIT | ev::GO_WAITING | ev::GO_IN_SYSCALL | ev::GO_SYS_EXIT_LOCAL => {
                F_EXPLICIT
            }
            _ => 0,
        };
        t += 1;
    }
    f
};

/// Events decoded ahead per P (bounded: never more per P).
const CHUNK: usize = 256;

impl Cursor<'_> {
    #[inline]
    fn head(&self) -> Option<&Event> {
        self.evs.get(self.at)
    }

    /// Makes sure a head is decoded if the P has events left.
    #[inline(always)]
    fn load(&mut self, buf: &[u8], minor: u32, p: u32) -> Result<(), DecodeError> {
        if self.at < self.evs.len() || self.exhausted {
            return Ok(());
        }
        self.refill(buf, minor, p)
    }

    /// Decodes the next chunk of the P's events (the head is used up).
    #[inline(never)]
    fn refill(&mut self, buf: &[u8], minor: u32, p: u32) -> Result<(), DecodeError> {
        self.evs.clear();
        self.at = 0;
        while self.evs.len() < CHUNK {
            self.fast(buf, p);
            if self.evs.len() >= CHUNK {
                break;
            }
            match self.decode_one(buf, minor, p)? {
                Some(e) => self.evs.push(e),
                None => break,
            }
        }
        Ok(())
    }

    /// Decodes ordinary events of the current batch into `evs` until the
    /// chunk is full, the batch ends, or an event needs [`Self::decode_one`]
    /// (special layouts), which then goes on from the same position.
    #[inline]
    fn fast(&mut self, buf: &[u8], p: u32) {
        let data = &buf[..self.end.min(buf.len())];
        let mut pos = self.pos;
        let mut last_ts = self.last_ts;
        let mut last_g = self.last_g;
        while pos < data.len() && self.evs.len() < CHUNK {
            let b = data[pos];
            let typ = b & 0x3f;
            let fl = FLAGS[typ as usize];
            if fl & F_ORDINARY == 0 {
                break;
            }
            let k = b >> 6;
            let mut q = pos + 1;
            let mut vals = [0u64; 6];
            let n;
            if k < 3 {
                n = k as usize + 1;
                for v in vals.iter_mut().take(n) {
                    *v = varint::read_trusted(data, &mut q);
                }
            } else {
                let l = varint::read_trusted(data, &mut q) as usize;
                let stop = q.saturating_add(l).min(data.len());
                let mut m = 0;
                while q < stop && m < vals.len() {
                    vals[m] = varint::read_trusted(data, &mut q);
                    m += 1;
                }
                n = m;
                q = stop;
            }
            if n == 0 {
                break;
            }
            let ts = last_ts.wrapping_add(vals[0] as i64);
            last_ts = ts;
            let nargs = if fl & F_STACK != 0 { n - 1 } else { n };
            let stk = if fl & F_STACK != 0 { vals[n - 1] } else { 0 };
            let mut args = [0u64; 3];
            for (dst, src) in args.iter_mut().zip(vals.iter().take(nargs).skip(1)) {
                *dst = *src;
            }
            let mut g = last_g;
            if fl & F_START != 0 {
                last_g = args[0];
                g = args[0];
            } else if fl & F_CLEAR != 0 {
                last_g = 0;
            } else if fl & F_EXPLICIT != 0 {
                g = args[0];
            }
            self.evs.push(Event {
                typ,
                ts,
                p,
                g,
                args,
                stk,
                off: pos,
            });
            pos = q;
        }
        self.pos = pos;
        self.last_ts = last_ts;
        self.last_g = last_g;
    }

    /// Decodes the next timed event of this P (`None` when exhausted).
    fn decode_one(&mut self, buf: &[u8], minor: u32, p: u32) -> Result<Option<Event>, DecodeError> {
        loop {
            if self.pos >= self.end {
                if self.bi >= self.batches.len() {
                    self.exhausted = true;
                    return Ok(None);
                }
                let b = self.batches[self.bi];
                self.bi += 1;
                self.pos = b.start;
                self.end = b.end;
                continue;
            }
            let at = self.pos;
            let mut vals = [0u64; wire::MAX_VALUES];
            let (typ, n) = match wire::read_trusted(&buf[..self.end], at, &mut vals) {
                Some((typ, n, end)) => {
                    self.pos = end;
                    (typ, n)
                }
                None => {
                    let raw = wire::read(&buf[..self.end], at, minor).map_err(|e| match e {
                        WireError::Corrupt { offset, what } => DecodeError::Corrupt {
                            offset: offset as u64,
                            what,
                        },
                        WireError::Truncated { offset } => DecodeError::Corrupt {
                            offset: offset as u64,
                            what: "event overruns its batch".into(),
                        },
                    })?;
                    self.pos = raw.end;
                    match raw.typ {
                        ev::BATCH => {
                            self.last_ts = raw.values[1] as i64;
                            continue;
                        }
                        ev::CPU_SAMPLE => {
                            self.last_ts = self.last_ts.wrapping_add(raw.values[0] as i64);
                            continue;
                        }
                        ev::USER_LOG => {
                            vals = raw.values;
                            (raw.typ, raw.n)
                        }
                        _ => continue,
                    }
                }
            };
            let Some(sp) = event::SPECS.get(typ as usize) else {
                continue;
            };
            if n == 0 || !sp.timed {
                continue;
            }
            let ts = self.last_ts.wrapping_add(vals[0] as i64);
            self.last_ts = ts;
            let mut e = Event {
                typ,
                ts,
                p,
                g: self.last_g,
                args: [0; 3],
                stk: 0,
                off: at,
            };
            let nargs = if sp.stack { n - 1 } else { n };
            if sp.stack {
                e.stk = vals[n - 1];
            }
            for (dst, src) in e.args.iter_mut().zip(vals.iter().take(nargs).skip(1)) {
                *dst = *src;
            }
            // The same goroutine bookkeeping as `fast`.
            let fl = FLAGS[usize::from(typ & 0x3f)];
            if fl & F_START != 0 {
                self.last_g = e.args[0];
                e.g = e.args[0];
            } else if fl & F_CLEAR != 0 {
                self.last_g = 0;
            } else if fl & F_EXPLICIT != 0 {
                e.g = e.args[0];
            }
            return Ok(Some(e));
        }
    }
}

/// What the merge counted (see the fields of [`Merger`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Events earlier than their causal predecessor.
    pub out_of_order: u64,
    /// Largest backwards step, ticks.
    pub max_backwards: i64,
    /// Events forced through (lenient mode).
    pub forced: u64,
    /// Offset of the first forced event.
    pub first_forced: Option<usize>,
    /// Events emitted.
    pub emitted: u64,
}

/// The merge state.
pub struct Merger<'a> {
    buf: &'a [u8],
    minor: u32,
    cursors: Vec<Cursor<'a>>,
    gs: GTable<GState>,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
    /// Cursors whose head is not ready, with the goroutine it waits for.
    blocked: Vec<(u32, u64)>,
    /// Cursors to (re)examine before the next pick.
    pending: Vec<u32>,
    lenient: bool,
    last_ts: i64,
    /// Events whose timestamp is earlier than their causal predecessor's.
    pub out_of_order: u64,
    /// Largest such backwards step, ticks.
    pub max_backwards: i64,
    /// Events forced through although not ready (lenient mode only).
    pub forced: u64,
    /// Offset of the first forced event.
    pub first_forced: Option<usize>,
    /// Events emitted.
    pub emitted: u64,
    pids: Vec<i64>,
}

impl<'a> Merger<'a> {
    /// Prepares the merge of the streams located by pass 1.
    pub fn new(buf: &'a [u8], minor: u32, ix: &'a Index, lenient: bool) -> Self {
        let cursors: Vec<Cursor<'a>> = ix
            .streams
            .iter()
            .map(|s| Cursor {
                batches: &s.batches,
                bi: 0,
                pos: 0,
                end: 0,
                last_ts: 0,
                last_g: 0,
                evs: Vec::new(),
                at: 0,
                exhausted: false,
            })
            .collect();
        let pending = (0..cursors.len() as u32).rev().collect();
        Merger {
            buf,
            minor,
            cursors,
            gs: GTable::default(),
            heap: BinaryHeap::new(),
            blocked: Vec::new(),
            pending,
            lenient,
            last_ts: i64::MIN,
            out_of_order: 0,
            max_backwards: 0,
            forced: 0,
            first_forced: None,
            emitted: 0,
            pids: ix.streams.iter().map(|s| s.pid).collect(),
        }
    }

    /// Counters for warnings.
    pub fn stats(&self) -> Stats {
        Stats {
            out_of_order: self.out_of_order,
            max_backwards: self.max_backwards,
            forced: self.forced,
            first_forced: self.first_forced,
            emitted: self.emitted,
        }
    }

    /// Lowest byte offset any unfinished P still has to read (for progress).
    pub fn low_water(&self) -> usize {
        self.cursors
            .iter()
            .filter(|c| !c.exhausted)
            .map(|c| {
                c.batches
                    .get(c.bi.saturating_sub(1))
                    .map_or(usize::MAX, |b| b.start)
            })
            .min()
            .unwrap_or(self.buf.len())
    }

    fn state(&self, g: u64) -> GState {
        self.gs.get(g).copied().unwrap_or_default()
    }

    /// Appends events in merged order to `out` until it holds `max` events
    /// or the trace ends (then fewer). Consecutive events of one P go
    /// without touching the heap as long as that P stays the earliest ready.
    pub fn fill(&mut self, out: &mut Vec<Event>, max: usize) -> Result<(), DecodeError> {
        while out.len() < max {
            while let Some(c) = self.pending.pop() {
                let cur = &mut self.cursors[c as usize];
                cur.load(self.buf, self.minor, c)?;
                let Some(head) = cur.head() else { continue };
                let head_ts = head.ts;
                let (g, init, _) = transition_of(head);
                let curst = if g == UNORDERED {
                    GState::default()
                } else {
                    self.gs.get(g).copied().unwrap_or_default()
                };
                if ready(g, curst, init) {
                    self.heap.push(Reverse((head_ts, c)));
                } else {
                    self.blocked.push((c, g));
                }
            }
            let (c, mut forced) = match self.heap.pop() {
                Some(Reverse((_, c))) => (c, false),
                None => {
                    if self.blocked.is_empty() {
                        return Ok(());
                    }
                    // Stuck: no head is ready.
                    let (i, _) = self
                        .blocked
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, (c, _))| {
                            self.cursors[*c as usize].head().map_or(i64::MAX, |h| h.ts)
                        })
                        .unwrap_or((0, &(0, 0)));
                    let (c, _) = self.blocked.swap_remove(i);
                    if !self.lenient {
                        return Err(self.stuck_error(c));
                    }
                    (c, true)
                }
            };
            let heap_min = self.heap.peek().map_or(i64::MAX, |r| (r.0).0);
            let mut first = true;
            // Until this P is done, blocked, or no longer the earliest.
            // The head is read in place (events are 72 bytes: copying each
            // one out and back cost more than the rest of this loop).
            while let Some(h) = self.cursors[c as usize].head() {
                let (g, init, mut next) = transition_of(h);
                let (e_ts, e_off) = (h.ts, h.off);
                let curst = if g == UNORDERED {
                    GState::default()
                } else {
                    self.gs.get(g).copied().unwrap_or_default()
                };
                let ok = ready(g, curst, init);
                if !first {
                    if !ok {
                        self.blocked.push((c, g));
                        break;
                    }
                    if heap_min < e_ts || !self.pending.is_empty() || out.len() >= max {
                        self.pending.push(c);
                        break;
                    }
                } else if !ok && !forced {
                    // Was ready when queued; another P changed the goroutine since.
                    if !self.lenient {
                        return Err(self.stuck_error(c));
                    }
                    forced = true;
                }
                first = false;
                if g != UNORDERED {
                    if forced {
                        self.forced += 1;
                        self.first_forced.get_or_insert(e_off);
                    }
                    next.seq = match next.seq {
                        NOSEQ => curst.seq,
                        SEQINC => curst.seq.wrapping_add(1),
                        s => s,
                    };
                    *self.gs.get_mut(g) = next;
                    // Heads waiting for this goroutine may be ready now.
                    let mut i = 0;
                    while i < self.blocked.len() {
                        if self.blocked[i].1 == g {
                            let (bc, _) = self.blocked.swap_remove(i);
                            self.pending.push(bc);
                        } else {
                            i += 1;
                        }
                    }
                }
                forced = false;
                let Some(&e) = self.cursors[c as usize].head() else {
                    break;
                };
                out.push(e);
                let Some(e) = out.last_mut() else { break };
                match e.typ {
                    ev::GO_START_LOCAL => e.typ = ev::GO_START,
                    ev::GO_UNBLOCK_LOCAL => e.typ = ev::GO_UNBLOCK,
                    ev::GO_SYS_EXIT_LOCAL => {
                        e.typ = ev::GO_SYS_EXIT;
                        e.args[2] = e.args[1];
                        e.args[1] = 0;
                    }
                    ev::GO_END => {
                        self.gs.remove(e.g);
                    }
                    _ => {}
                }
                if e.ts < self.last_ts {
                    self.out_of_order += 1;
                    self.max_backwards = self.max_backwards.max(self.last_ts.wrapping_sub(e.ts));
                } else {
                    self.last_ts = e.ts;
                }
                self.emitted += 1;
                let cur = &mut self.cursors[c as usize];
                cur.at += 1;
                cur.load(self.buf, self.minor, c)?;
            }
        }
        Ok(())
    }

    /// The next event in merged order, `None` at the end.
    pub fn next_event(&mut self) -> Result<Option<Event>, DecodeError> {
        let mut one = Vec::with_capacity(1);
        self.fill(&mut one, 1)?;
        Ok(one.pop())
    }

    fn stuck_error(&self, c: u32) -> DecodeError {
        let Some(&h) = self.cursors[c as usize].head() else {
            return DecodeError::Inconsistent {
                what: "no consistent ordering of events possible".into(),
            };
        };
        let (g, init, _) = transition_of(&h);
        let cur = self.state(g);
        let pid = self.pids.get(c as usize).copied().unwrap_or(0);
        let need = if init.seq == NOSEQ {
            format!("{:?}", init.status)
        } else {
            format!("{:?} with sequence number {}", init.status, init.seq)
        };
        DecodeError::Inconsistent {
            what: format!(
                "no consistent ordering of events possible (Go's tools reject this trace too): \
                 {} of goroutine {g} at byte {} on P {pid} needs the goroutine {need}, \
                 but it is {:?} with sequence number {} and no other P's next event can go first",
                event::name(h.typ),
                h.off,
                cur.status,
                cur.seq
            ),
        }
    }
}
