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
use crate::varint::{read_uvarint, read_window};

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
    /// The M.
    m: u64,
    /// The M's state slot in the ordering.
    m_slot: usize,
    /// Next batch (index into `MBatches::batches`).
    idx: usize,
    /// Next byte (file offset) in the current batch payload.
    pos: usize,
    /// End of the current batch payload (file offset).
    end: usize,
    /// Events starting before this offset have [`FAST`] bytes of the batch
    /// (and of the input) from their first byte: [`decode_fast`] reads them.
    fast_until: usize,
    /// Base timestamp of the current batch.
    base: u64,
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

/// [`mul`] with an integer fast path: when the frequency is a whole number
/// `k` of ns per tick (64 on Linux and macOS) and `t * k < 2^53`, the float
/// product is exact, so the integer product is the same value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale {
    freq: f64,
    k: u64,
    limit: u64,
}

impl Scale {
    pub fn new(freq: f64) -> Self {
        let whole = (1.0..1e6).contains(&freq) && freq.fract() == 0.0;
        let k = if whole { freq as u64 } else { 0 };
        Scale {
            freq,
            k,
            limit: (1u64 << 53).checked_div(k).unwrap_or(0),
        }
    }

    #[inline(always)]
    pub fn mul(self, t: u64) -> i64 {
        if t < self.limit {
            (t * self.k) as i64
        } else {
            mul(self.freq, t)
        }
    }
}

/// Inputs of [`Merger::run`] that do not change during a generation.
pub(crate) struct GenInput<'a> {
    pub gc: GenCtx<'a>,
    pub batches: &'a [Batch],
    pub ms: &'a [MBatches],
    pub freq: f64,
    /// `freq` with the integer fast path.
    pub scale: Scale,
    /// Arguments after the type byte per event type, 0 when the type is not
    /// a timed event of this trace version (see [`nargs_table`]).
    pub nargs: &'a [u8; 256],
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

/// [`Consumer::tick`] comes every `TICK_MASK + 1` events.
const TICK_MASK: u64 = (1 << 20) - 1;

/// Reusable buffers for [`Merger::run`].
#[derive(Debug, Default)]
pub(crate) struct Merger {
    cursors: Vec<Cursor>,
    /// Go's frontier min-heap: (time of the cursor's next event, cursor).
    heap: Vec<(i64, usize)>,
}

/// Per event type: the number of arguments (timestamp delta included) if
/// it is a timed event valid in `go 1.<minor>` traces, else 0.
pub(crate) fn nargs_table(minor: u32) -> [u8; 256] {
    let mut t = [0u8; 256];
    for (typ, n) in t.iter_mut().enumerate() {
        let sp = events::spec(typ as u8);
        if sp.timed && sp.nargs > 0 && events::valid_in(typ as u8, minor) {
            *n = sp.nargs;
        }
    }
    t
}

/// Bytes the fast decoder looks at: enough for 5 varints of 10 bytes after
/// the type byte.
const FAST: usize = 64;

/// Decodes the `n` varints (`n` ≥ 1) after the type byte of the event that
/// starts `w`, a window of [`FAST`] bytes inside its batch (no per-byte
/// bounds checks). `None` when a varint is malformed (the slow path then
/// reports it). Returns the event's length.
#[inline(always)]
fn decode_fast(
    w: &[u8; FAST],
    n: usize,
    dt: &mut u64,
    args: &mut [u64; MAX_ARGS],
) -> Option<usize> {
    let mut p = 1usize;
    *dt = read_window(w, &mut p)?;
    for v in args.iter_mut().take(n.saturating_sub(1)) {
        *v = read_window(w, &mut p)?;
    }
    Some(p)
}

/// [`decode_fast`] for the last bytes of a batch; `Err(i)` = varint `i`
/// (0 = the timestamp delta) is malformed or cut.
#[inline(never)]
fn decode_slow(
    data: &[u8],
    n: usize,
    dt: &mut u64,
    args: &mut [u64; MAX_ARGS],
) -> Result<usize, usize> {
    let mut p = 1;
    *dt = read_uvarint(data, &mut p).ok_or(0usize)?;
    for (i, v) in args.iter_mut().enumerate().take(n.saturating_sub(1)) {
        *v = read_uvarint(data, &mut p).ok_or(i + 1)?;
    }
    Ok(p)
}

#[cold]
#[inline(never)]
fn bad_varint(typ: u8, at: usize, arg: usize) -> Box<DecodeError> {
    let name = events::name(typ);
    Box::new(DecodeError::Corrupt {
        offset: at as u64,
        what: if arg == 0 {
            format!("{name}: found invalid uvarint for timestamp")
        } else {
            format!("{name}: found invalid uvarint for argument {arg}")
        },
    })
}

impl Cursor {
    /// Go's `batchCursor.nextEvent`. `Ok(false)` when the M has no more events.
    #[inline(always)]
    fn next(&mut self, inp: &GenInput<'_>) -> Result<bool, Box<DecodeError>> {
        while self.pos >= self.end {
            let Some(&bi) = inp.ms[self.mi].batches.get(self.idx) else {
                return Ok(false);
            };
            self.idx += 1;
            let Some(b) = inp.batches.get(bi as usize) else {
                return Ok(false);
            };
            self.pos = b.start;
            self.end = b.end;
            self.fast_until = b.end.min(inp.gc.bytes.len()).saturating_sub(FAST - 1);
            self.base = b.ts;
            self.last = 0;
        }
        if self.last == 0 {
            self.last = inp.scale.mul(self.base);
        }
        let at = self.pos;
        // Decode straight into the cursor's event: building it in a local
        // array and copying it over costs store-forwarding stalls. Arguments
        // past the event's own keep an earlier event's values (not cleared:
        // 1.5 % of the instructions); no handler reads past an event's own.
        let mut dt = 0u64;
        let mut fast = None;
        if at < self.fast_until
            && let Some(w) = inp.gc.bytes.get(at..).and_then(<[u8]>::first_chunk::<FAST>)
        {
            let typ = w[0];
            let n = inp.nargs[typ as usize] as usize;
            if n != 0 {
                fast = decode_fast(w, n, &mut dt, &mut self.ev.args).map(|p| (typ, p));
            }
        }
        let (typ, p) = match fast {
            Some(tp) => tp,
            None => match self.next_slow(inp, at, &mut dt)? {
                Some(tp) => tp,
                None => return Ok(false),
            },
        };
        let time = inp.scale.mul(dt).wrapping_add(self.last);
        self.last = time;
        self.pos = at + p;
        self.ev.typ = typ;
        self.ev.time = time;
        self.ev.offset = at;
        Ok(true)
    }

    /// [`Cursor::next`]'s decoding of the event at `at` near the end of its
    /// batch (or of the input), or of a malformed one: its type and length,
    /// `None` at the end of the input.
    #[cold]
    #[inline(never)]
    fn next_slow(
        &mut self,
        inp: &GenInput<'_>,
        at: usize,
        dt: &mut u64,
    ) -> Result<Option<(u8, usize)>, Box<DecodeError>> {
        let data = inp.gc.bytes.get(at..self.end).unwrap_or(&[]);
        let Some(&typ) = data.first() else {
            return Ok(None);
        };
        let n = inp.nargs[typ as usize] as usize;
        if n == 0 {
            return Err(self.bad_type(typ, at, inp.minor));
        }
        self.ev.args = [0; MAX_ARGS];
        let p =
            decode_slow(data, n, dt, &mut self.ev.args).map_err(|arg| bad_varint(typ, at, arg))?;
        Ok(Some((typ, p)))
    }

    #[cold]
    #[inline(never)]
    fn bad_type(&self, typ: u8, at: usize, minor: u32) -> Box<DecodeError> {
        let sp = events::spec(typ);
        let what = if sp.name.is_empty() {
            format!(
                "found invalid event type {typ} in the batch of M {}",
                self.m as i64
            )
        } else if !sp.timed || sp.nargs == 0 {
            format!(
                "found event without a timestamp: {} in the batch of M {}",
                sp.name, self.m as i64
            )
        } else {
            format!(
                "event {} (type {typ}) does not exist in go 1.{} traces (it appeared in go 1.{})",
                sp.name, minor, sp.since
            )
        };
        Box::new(DecodeError::Corrupt {
            offset: at as u64,
            what,
        })
    }
}

impl Merger {
    /// Orders and applies every event of a generation. `on_events` is called
    /// every 2²⁰ events (progress / cancellation).
    pub fn run<C: Consumer>(
        &mut self,
        inp: &GenInput<'_>,
        order: &mut Ordering<C::Slot>,
        c: &mut C,
    ) -> Result<GenStats, DecodeError> {
        self.run_inner(inp, order, c).map_err(|e| *e)
    }

    fn run_inner<C: Consumer>(
        &mut self,
        inp: &GenInput<'_>,
        order: &mut Ordering<C::Slot>,
        c: &mut C,
    ) -> Result<GenStats, Box<DecodeError>> {
        // Go's reader returns a Sync event first (it matters for times only
        // in Go-reader time mode, where every returned event is stamped).
        order.stamp(mul(inp.freq, inp.min_ts));
        let mut stats = GenStats::default();
        let cpu = inp.cpu_times;
        let mut ci = 0;
        self.cursors.clear();
        self.heap.clear();
        for (mi, mb) in inp.ms.iter().enumerate() {
            let mut cur = Cursor {
                mi,
                m: mb.m,
                m_slot: order.thread_slot(mb.m),
                idx: 0,
                pos: 0,
                end: 0,
                fast_until: 0,
                base: 0,
                last: 0,
                ev: Ev::default(),
            };
            if cur.next(inp)? {
                self.heap.push((cur.ev.time, self.cursors.len()));
                self.cursors.push(cur);
                let last = self.heap.len() - 1;
                sift_up(&mut self.heap, last);
            }
        }
        let mut max_time = i64::MIN;
        while !self.heap.is_empty() {
            if ci < cpu.len() {
                let head = self.heap[0].0;
                while let Some(&t) = cpu.get(ci).filter(|&&t| t < head) {
                    order.stamp(t);
                    ci += 1;
                }
            }
            let cpu_next = cpu.get(ci).copied().unwrap_or(i64::MAX);
            if self.run_earliest(inp, order, c, cpu_next, &mut stats.events, &mut max_time)? {
                continue;
            }
            self.heap.sort_by_key(|&(t, _)| t);
            let mut advanced = None;
            for i in 1..self.heap.len() {
                advanced = self.try_advance(i, inp, order, c)?;
                if advanced.is_some() {
                    break;
                }
            }
            let Some(t) = advanced else {
                return Err(Box::new(self.broken(inp)));
            };
            max_time = max_time.max(t);
            stats.events += 1;
            if stats.events & TICK_MASK == 0 {
                c.tick()?;
            }
        }
        if stats.events > 0 {
            stats.max_time = Some(max_time);
        }
        for &t in cpu.get(ci..).unwrap_or(&[]) {
            order.stamp(t);
        }
        Ok(stats)
    }

    /// Go's `tryAdvance` of the earliest M, repeated for as long as that M
    /// stays the earliest: its next event is not later than the heap's
    /// other candidates (their minimum is a child of the root; ties keep the
    /// parent, as in Go's `min3`) nor than the next CPU sample `cpu_next`
    /// (Go-reader time mode), so the heap does not change and Go's reader
    /// would pick this M again. Counts the applied events into `events` and
    /// their latest time into `max_time`; `Ok(false)` when the earliest M's
    /// event cannot advance yet.
    #[inline(always)]
    fn run_earliest<C: Consumer>(
        &mut self,
        inp: &GenInput<'_>,
        order: &mut Ordering<C::Slot>,
        c: &mut C,
        cpu_next: i64,
        events: &mut u64,
        max_time: &mut i64,
    ) -> Result<bool, Box<DecodeError>> {
        let limit = match self.heap.get(1..3) {
            Some([a, b]) => a.0.min(b.0),
            _ => self.heap.get(1).map_or(i64::MAX, |a| a.0),
        }
        .min(cpu_next);
        let Some(&(_, top)) = self.heap.first() else {
            return Ok(false);
        };
        let Some(cur) = self.cursors.get_mut(top) else {
            return Ok(false);
        };
        let mut advanced = false;
        while order.advance(&mut cur.ev, cur.m, cur.m_slot, &inp.gc, c)? {
            advanced = true;
            *max_time = (*max_time).max(cur.ev.time);
            *events += 1;
            if *events & TICK_MASK == 0 {
                c.tick()?;
            }
            if !cur.next(inp)? {
                heap_remove(&mut self.heap, 0);
                return Ok(true);
            }
            let t = cur.ev.time;
            self.heap[0].0 = t;
            if t > limit {
                sift_down(&mut self.heap, 0);
                return Ok(true);
            }
        }
        // Its next event waits (already the root's key): the caller tries
        // the others, as Go's reader does after a failed `tryAdvance`.
        Ok(advanced)
    }

    /// Go's `tryAdvance`: apply the event of heap entry `i`, refill its
    /// cursor and fix the heap. The applied event's time, if it advanced.
    #[inline(always)]
    fn try_advance<C: Consumer>(
        &mut self,
        i: usize,
        inp: &GenInput<'_>,
        order: &mut Ordering<C::Slot>,
        c: &mut C,
    ) -> Result<Option<i64>, Box<DecodeError>> {
        let ci = self.heap[i].1;
        let Some(cur) = self.cursors.get_mut(ci) else {
            return Ok(None);
        };
        if !order.advance(&mut cur.ev, cur.m, cur.m_slot, &inp.gc, c)? {
            return Ok(None);
        }
        let time = cur.ev.time;
        if cur.next(inp)? {
            self.heap[i].0 = cur.ev.time;
            if sift_up(&mut self.heap, i) == i {
                sift_down(&mut self.heap, i);
            }
        } else {
            heap_remove(&mut self.heap, i);
        }
        Ok(Some(time))
    }

    /// Go's "failed to advance" error, on one line: the earliest next
    /// event that could not be applied (file offset, event, thread), and how
    /// many other threads are stuck too.
    fn broken(&self, inp: &GenInput<'_>) -> DecodeError {
        let earliest = self
            .heap
            .iter()
            .filter_map(|&(_, ci)| self.cursors.get(ci))
            .min_by_key(|c| (c.ev.time, c.ev.offset));
        let what = match earliest {
            Some(c) => format!(
                "generation {}: no thread's next event can be applied (Go: \"failed to advance\"); \
                 the earliest is {} at byte {} on M {}, {} other thread(s) wait too",
                inp.gc.generation,
                events::spec(c.ev.typ).name,
                c.ev.offset,
                inp.ms.get(c.mi).map_or(-1, |m| m.m as i64),
                self.heap.len().saturating_sub(1)
            ),
            None => format!(
                "generation {}: no thread's next event can be applied (Go: \"failed to advance\")",
                inp.gc.generation
            ),
        };
        DecodeError::Inconsistent { what }
    }
}

/// Go's `heapSiftUp`.
#[inline]
fn sift_up(heap: &mut [(i64, usize)], mut i: usize) -> usize {
    while i > 0 && heap[(i - 1) / 2].0 > heap[i].0 {
        heap.swap((i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    i
}

/// Go's `heapSiftDown` / `min3` (ties keep the parent, then the left child).
#[inline(always)]
fn sift_down(heap: &mut [(i64, usize)], mut i: usize) -> usize {
    let n = heap.len();
    loop {
        let l = 2 * i + 1;
        if l >= n || i >= n {
            return i;
        }
        let mut m = i;
        let mut mt = heap[i].0;
        if heap[l].0 < mt {
            mt = heap[l].0;
            m = l;
        }
        if l + 1 < n && heap[l + 1].0 < mt {
            m = l + 1;
        }
        if m == i {
            return i;
        }
        heap.swap(i, m);
        i = m;
    }
}

/// Go's `heapRemove`.
fn heap_remove(heap: &mut Vec<(i64, usize)>, mut i: usize) {
    while i > 0 {
        heap.swap((i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    let last = heap.len() - 1;
    heap.swap(0, last);
    heap.pop();
    sift_down(heap, 0);
}
