//! Puts the events of one generation in the order Go's reader does: one
//! cursor per M over that M's batches (file order), a min-heap of cursors
//! keyed by the time of their next event, and the `ReadEvent` loop — try the
//! earliest M; if its event cannot advance yet, try the others in time order;
//! if none can, the trace is broken. Port of Go's `batchcursor.go` (cursor,
//! per-delta time conversion, heap with the same sift rules) and the v2 part
//! of `reader.go`.
//!
//! Differences from Go, none affecting which events advance: CPU samples are
//! not interleaved (they carry no state); when the earliest M cannot advance
//! the frontier is sorted with a *stable* sort (Go uses pdqsort, stable only
//! up to 12 Ms), so ties between more than 12 Ms may be tried in another
//! order — per-goroutine transitions are fixed by sequence numbers and per-M
//! order either way.
//!
//! Events are decoded in place from the input; nothing is allocated per
//! event. Applying an event is `order.rs`' job.

use super::batch::Batch;
use super::events::{self, MAX_ARGS};
use super::order::{Consumer, Ev, GenCtx, Ordering};
use crate::DecodeError;
use crate::varint::read_uvarint;

/// Batches of one M, by index into the generation's batch list.
#[derive(Debug, Default)]
pub(crate) struct MBatches {
    pub m: u64,
    pub batches: Vec<u32>,
}

/// Reading position in one M's batches, and its next event.
#[derive(Debug)]
struct Cursor {
    /// Index into the M list.
    mi: usize,
    /// Next batch (index into `MBatches::batches`).
    idx: usize,
    /// Next byte in the batch payload.
    off: usize,
    /// Time of the last event (0 = take the batch's base time).
    last: i64,
    /// The event read last (the candidate).
    ev: Ev,
}

/// Go's `frequency.mul`: ticks to ns, truncating like `Time(float64(t)*f)`.
#[inline]
pub(crate) fn mul(freq: f64, t: u64) -> i64 {
    (t as f64 * freq) as i64
}

/// Inputs of [`run`] that do not change during a generation.
pub(crate) struct GenInput<'a> {
    pub gc: GenCtx<'a>,
    pub batches: &'a [Batch],
    pub ms: &'a [MBatches],
    pub freq: f64,
    pub minor: u32,
    /// The generation's smallest batch timestamp (its Sync event's time).
    pub min_ts: u64,
    /// CPU sample times (ns, sorted), for Go-reader time mode only.
    pub cpu_times: &'a [i64],
}

/// Counters of one generation.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct GenStats {
    /// Timed events applied.
    pub events: u64,
    /// Latest event time (ns), if any.
    pub max_time: Option<i64>,
}

/// Reusable buffers for [`run`].
#[derive(Debug, Default)]
pub(crate) struct Merger {
    cursors: Vec<Cursor>,
    heap: Vec<usize>,
}

impl Cursor {
    /// Go's `batchCursor.nextEvent`. `Ok(false)` when the M has no more events.
    fn next(&mut self, inp: &GenInput<'_>) -> Result<bool, DecodeError> {
        let list = &inp.ms[self.mi].batches;
        loop {
            let Some(&bi) = list.get(self.idx) else {
                return Ok(false);
            };
            let b = &inp.batches[bi as usize];
            let data = b.data(inp.gc.bytes);
            if self.off >= data.len() {
                self.idx += 1;
                self.off = 0;
                self.last = 0;
                continue;
            }
            if self.last == 0 {
                self.last = mul(inp.freq, b.ts);
            }
            let at = b.start + self.off;
            let typ = data[self.off];
            let sp = events::spec(typ);
            if !sp.timed || sp.nargs == 0 {
                return Err(DecodeError::Corrupt {
                    offset: at as u64,
                    what: if sp.name.is_empty() {
                        format!(
                            "found invalid event type {typ} in the batch of M {}",
                            b.m as i64
                        )
                    } else {
                        format!(
                            "found event without a timestamp: {} in the batch of M {}",
                            sp.name, b.m as i64
                        )
                    },
                });
            }
            if !events::valid_in(typ, inp.minor) {
                return Err(DecodeError::Corrupt {
                    offset: at as u64,
                    what: format!(
                        "event {} (type {typ}) does not exist in go 1.{} traces (it appeared in go 1.{})",
                        sp.name, inp.minor, sp.since
                    ),
                });
            }
            let mut p = self.off + 1;
            let Some(dt) = read_uvarint(data, &mut p) else {
                return Err(DecodeError::Corrupt {
                    offset: at as u64,
                    what: format!("{}: found invalid uvarint for timestamp", sp.name),
                });
            };
            let mut args = [0u64; MAX_ARGS];
            for (i, a) in args.iter_mut().enumerate().take(sp.nargs as usize - 1) {
                let Some(v) = read_uvarint(data, &mut p) else {
                    return Err(DecodeError::Corrupt {
                        offset: at as u64,
                        what: format!("{}: found invalid uvarint for argument {}", sp.name, i + 1),
                    });
                };
                *a = v;
            }
            let time = mul(inp.freq, dt).wrapping_add(self.last);
            self.last = time;
            self.off = p;
            self.ev = Ev {
                typ,
                time,
                args,
                offset: at,
            };
            return Ok(true);
        }
    }
}

impl Merger {
    /// Orders and applies every event of a generation. `on_events` is called
    /// every 2²⁰ events (progress / cancellation).
    pub fn run<S: Default, C: Consumer<Slot = S>>(
        &mut self,
        inp: &GenInput<'_>,
        order: &mut Ordering<S>,
        c: &mut C,
    ) -> Result<GenStats, DecodeError> {
        // Go's reader returns a Sync event first (it matters for times only
        // in Go-reader time mode, where every returned event is stamped).
        order.stamp(mul(inp.freq, inp.min_ts));
        let mut stats = GenStats::default();
        let mut cpu = inp.cpu_times.iter().copied().peekable();
        self.cursors.clear();
        self.heap.clear();
        for mi in 0..inp.ms.len() {
            let mut cur = Cursor {
                mi,
                idx: 0,
                off: 0,
                last: 0,
                ev: Ev::default(),
            };
            if cur.next(inp)? {
                self.cursors.push(cur);
                self.heap.push(self.cursors.len() - 1);
                let last = self.heap.len() - 1;
                sift_up(&mut self.heap, &self.cursors, last);
            }
        }
        while !self.heap.is_empty() {
            let head = key(&self.cursors, &self.heap, 0);
            while let Some(t) = cpu.next_if(|&t| t < head) {
                order.stamp(t);
            }
            let mut advanced = self.try_advance(0, inp, order, c)?;
            if advanced.is_none() {
                let cursors = &self.cursors;
                self.heap.sort_by_key(|&i| cursors[i].ev.time);
                for i in 1..self.heap.len() {
                    advanced = self.try_advance(i, inp, order, c)?;
                    if advanced.is_some() {
                        break;
                    }
                }
            }
            let Some(t) = advanced else {
                return Err(self.broken(inp));
            };
            stats.max_time = Some(stats.max_time.map_or(t, |m| m.max(t)));
            stats.events += 1;
            if stats.events & ((1 << 20) - 1) == 0 {
                c.tick()?;
            }
        }
        for t in cpu {
            order.stamp(t);
        }
        Ok(stats)
    }

    /// Go's `tryAdvance`: apply the event of heap entry `i`, refill its
    /// cursor and fix the heap. The applied event's time, if it advanced.
    fn try_advance<S: Default, C: Consumer<Slot = S>>(
        &mut self,
        i: usize,
        inp: &GenInput<'_>,
        order: &mut Ordering<S>,
        c: &mut C,
    ) -> Result<Option<i64>, DecodeError> {
        let ci = self.heap[i];
        let m = inp.ms[self.cursors[ci].mi].m;
        let mut e = self.cursors[ci].ev;
        if !order.advance(&mut e, m, &inp.gc, c)? {
            return Ok(None);
        }
        if self.cursors[ci].next(inp)? {
            if sift_up(&mut self.heap, &self.cursors, i) == i {
                sift_down(&mut self.heap, &self.cursors, i);
            }
        } else {
            heap_remove(&mut self.heap, &self.cursors, i);
        }
        Ok(Some(e.time))
    }

    fn broken(&self, inp: &GenInput<'_>) -> DecodeError {
        let mut what = format!(
            "generation {}: failed to advance: no thread's next event can be applied. Frontier:",
            inp.gc.generation
        );
        for &ci in self.heap.iter().take(16) {
            let c = &self.cursors[ci];
            let sp = events::spec(c.ev.typ);
            what.push_str(&format!(
                "\n  M {} [{} time={} at byte {} args={:?}]",
                inp.ms[c.mi].m as i64,
                sp.name,
                c.ev.time,
                c.ev.offset,
                &c.ev.args[..(sp.nargs as usize).saturating_sub(1)]
            ));
        }
        DecodeError::Inconsistent { what }
    }
}

#[inline]
fn key(cursors: &[Cursor], heap: &[usize], i: usize) -> i64 {
    cursors[heap[i]].ev.time
}

/// Go's `heapSiftUp`.
fn sift_up(heap: &mut [usize], cursors: &[Cursor], mut i: usize) -> usize {
    while i > 0 && key(cursors, heap, (i - 1) / 2) > key(cursors, heap, i) {
        heap.swap((i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    i
}

/// Go's `heapSiftDown` / `min3`.
fn sift_down(heap: &mut [usize], cursors: &[Cursor], mut i: usize) -> usize {
    loop {
        let mut m = i;
        let mut mt = if i < heap.len() {
            key(cursors, heap, i)
        } else {
            i64::MAX
        };
        for j in [2 * i + 1, 2 * i + 2] {
            if j < heap.len() {
                let t = key(cursors, heap, j);
                if t < mt {
                    mt = t;
                    m = j;
                }
            }
        }
        if m == i {
            return i;
        }
        heap.swap(i, m);
        i = m;
    }
}

/// Go's `heapRemove`.
fn heap_remove(heap: &mut Vec<usize>, cursors: &[Cursor], mut i: usize) {
    while i > 0 {
        heap.swap((i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    let last = heap.len() - 1;
    heap.swap(0, last);
    heap.pop();
    sift_down(heap, cursors, 0);
}
