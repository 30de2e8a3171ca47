//! Per-generation tables of a v2 trace, and their translation into the
//! shared, trace-wide [`Tables`].
//!
//! Each generation carries its own string table (`Strings` batches), stack
//! table (`Stacks` batches), frequency (a `Frequency` batch before Go 1.25, a
//! `Sync` batch with `Frequency` + `ClockSnapshot` from 1.25 on) and CPU
//! samples. [`GenTables`] parses and validates them like Go's
//! `generation.go` (`addStrings`, `addStacks`, `addCPUSamples`,
//! `setSyncBatch`, `validateStackStrings`), keeping strings as offsets into the
//! input (no copies). CPU samples are checked for structure and counted, not
//! kept.
//!
//! [`Resolver`] maps per-generation string and stack ids to global [`Sym`] /
//! [`StackId`]s lazily (only ids an episode needs), interning frames by
//! `(pc, func, file, line)`, so identical stacks of different generations get
//! the same `StackId`. Both are cleared and reused for every generation.
//!
//! This module does not read event batches.

use super::batch::Batch;
use super::events::{MAX_FRAMES_PER_STACK, MAX_STRING_LEN, ev};
use crate::fxhash::FxHashMap;
use crate::model::{Frame, FrameId};
use crate::varint::read_uvarint;
use crate::{DecodeError, StackId, Sym, Tables};

/// Ids below this are kept in a dense vector, larger ones in a hash map, so a
/// corrupt id can never cause a large allocation.
const DENSE_IDS: u64 = 1 << 18;

/// A map from per-generation ids to `T` (Go's `dataTable`): dense for small
/// ids, sparse above. Id 0 means "none" and is always present.
#[derive(Debug)]
pub(crate) struct IdTable<T: Copy> {
    dense: Vec<Option<T>>,
    sparse: FxHashMap<u64, T>,
    /// Every id below this is present (the runtime numbers ids from 1 up,
    /// so this is usually all of them): see [`IdTable::present_below`].
    present_below: u64,
}

impl<T: Copy> Default for IdTable<T> {
    fn default() -> Self {
        IdTable {
            dense: Vec::new(),
            sparse: FxHashMap::default(),
            present_below: 1,
        }
    }
}

impl<T: Copy> IdTable<T> {
    /// Empties the table, keeping its memory.
    pub fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
        self.present_below = 1;
    }

    /// Inserts; `false` if the id is already present.
    pub fn insert(&mut self, id: u64, v: T) -> bool {
        if id < DENSE_IDS {
            let i = id as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, None);
            }
            if self.dense[i].is_some() {
                return false;
            }
            self.dense[i] = Some(v);
            while self
                .dense
                .get(self.present_below as usize)
                .is_some_and(Option::is_some)
            {
                self.present_below += 1;
            }
        } else {
            if self.sparse.contains_key(&id) {
                return false;
            }
            self.sparse.insert(id, v);
        }
        true
    }

    /// Looks an id up (not id 0).
    #[inline(always)]
    pub fn get(&self, id: u64) -> Option<T> {
        if id < DENSE_IDS {
            self.dense.get(id as usize).copied().flatten()
        } else {
            self.sparse.get(&id).copied()
        }
    }

    /// Whether an id is present (id 0 always is, as in Go).
    #[inline]
    pub fn has(&self, id: u64) -> bool {
        id == 0 || self.get(id).is_some()
    }

    /// Every id below this one is present (at least 1: id 0 always is), so
    /// ids below it need no lookup ([`IdTable::has`] gives the same answer).
    #[inline(always)]
    pub fn present_below(&self) -> u64 {
        self.present_below
    }
}

/// A frame as recorded in a generation's stack table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawFrame {
    func: u64,
    file: u64,
    line: u64,
}

/// The structural data of one generation.
#[derive(Debug, Default)]
pub(crate) struct GenTables {
    /// String id → (offset, length) in the input.
    strings: IdTable<(usize, u32)>,
    /// Stack id → (start, length) in `pcs`.
    stacks: IdTable<(u32, u32)>,
    pcs: Vec<u64>,
    /// PC → frame, first seen wins (as in Go).
    frames: FxHashMap<u64, RawFrame>,
    /// Nanoseconds per tick (Go's `frequency`), once known.
    freq: Option<f64>,
    /// A ClockSnapshot was seen (required from Go 1.25 on).
    pub has_clock_snapshot: bool,
    /// CPU samples seen (not decoded further).
    pub cpu_samples: u64,
    /// Their timestamps (ticks), only needed for Go-reader time mode.
    pub cpu_ticks: Vec<u64>,
    /// Experimental batches seen (skipped).
    pub experimental_batches: u64,
}

fn corrupt(offset: usize, what: String) -> DecodeError {
    DecodeError::Corrupt {
        offset: offset as u64,
        what,
    }
}

/// A uvarint inside a table batch, or a corruption error naming `what`.
fn var(
    data: &[u8],
    p: &mut usize,
    base: usize,
    what: &dyn Fn() -> String,
) -> Result<u64, DecodeError> {
    let at = base + *p;
    read_uvarint(data, p).ok_or_else(|| corrupt(at, format!("{}: invalid or cut varint", what())))
}

impl GenTables {
    /// Empties everything for the next generation, keeping memory.
    pub fn clear(&mut self) {
        self.strings.clear();
        self.stacks.clear();
        self.pcs.clear();
        self.frames.clear();
        self.freq = None;
        self.has_clock_snapshot = false;
        self.cpu_samples = 0;
        self.cpu_ticks.clear();
        self.experimental_batches = 0;
    }

    /// Nanoseconds per tick.
    pub fn freq(&self) -> Option<f64> {
        self.freq
    }

    /// The bytes of a string (`None` if unknown; id 0 is the empty string).
    #[inline]
    pub fn string<'a>(&self, bytes: &'a [u8], id: u64) -> Option<&'a [u8]> {
        if id == 0 {
            return Some(&[]);
        }
        let (off, len) = self.strings.get(id)?;
        bytes.get(off..off + len as usize)
    }

    /// Whether a string id is valid here.
    #[inline]
    pub fn has_string(&self, id: u64) -> bool {
        self.strings.has(id)
    }

    /// Whether a stack id is valid here.
    #[inline]
    pub fn has_stack(&self, id: u64) -> bool {
        self.stacks.has(id)
    }

    /// Every stack id below this one is valid here (see
    /// [`IdTable::present_below`]).
    #[inline(always)]
    pub fn stacks_below(&self) -> u64 {
        self.stacks.present_below()
    }

    /// Every string id below this one is valid here.
    #[inline(always)]
    pub fn strings_below(&self) -> u64 {
        self.strings.present_below()
    }

    /// The PCs of a stack, innermost first (empty for id 0 or unknown ids).
    pub fn stack_pcs(&self, id: u64) -> &[u64] {
        match self.stacks.get(id) {
            Some((start, len)) => self
                .pcs
                .get(start as usize..start as usize + len as usize)
                .unwrap_or(&[]),
            None => &[],
        }
    }

    /// `addStrings`: a batch whose first byte is `Strings`.
    pub fn add_strings(&mut self, bytes: &[u8], b: &Batch) -> Result<(), DecodeError> {
        let data = b.data(bytes);
        let mut p = 1; // The Strings byte.
        while p < data.len() {
            let at = b.start + p;
            if data[p] != ev::STRING {
                return Err(corrupt(
                    at,
                    format!(
                        "strings batch: expected a String event (5), got byte {}",
                        data[p]
                    ),
                ));
            }
            p += 1;
            let id = var(data, &mut p, b.start, &|| "strings batch: String id".into())?;
            let len = var(data, &mut p, b.start, &|| {
                format!("strings batch: length of string {id}")
            })?;
            if len > MAX_STRING_LEN {
                return Err(corrupt(
                    at,
                    format!("invalid string size {len}, maximum is {MAX_STRING_LEN} (string {id})"),
                ));
            }
            let len = len as usize;
            if p + len > data.len() {
                return Err(corrupt(
                    at,
                    format!(
                        "failed to read full string {id}: wanted {len} bytes, batch has {}",
                        data.len() - p
                    ),
                ));
            }
            if !self.strings.insert(id, (b.start + p, len as u32)) {
                return Err(corrupt(
                    at,
                    format!("multiple strings with the same ID: id={id}"),
                ));
            }
            p += len;
        }
        Ok(())
    }

    /// `addStacks`: a batch whose first byte is `Stacks`.
    pub fn add_stacks(&mut self, bytes: &[u8], b: &Batch) -> Result<(), DecodeError> {
        let data = b.data(bytes);
        let mut p = 1; // The Stacks byte.
        while p < data.len() {
            let at = b.start + p;
            if data[p] != ev::STACK {
                return Err(corrupt(
                    at,
                    format!(
                        "stacks batch: expected a Stack event (3), got byte {}",
                        data[p]
                    ),
                ));
            }
            p += 1;
            let id = var(data, &mut p, b.start, &|| "stacks batch: Stack id".into())?;
            let n = var(data, &mut p, b.start, &|| {
                format!("stack {id}: frame count")
            })?;
            if n > MAX_FRAMES_PER_STACK {
                return Err(corrupt(
                    at,
                    format!(
                        "invalid stack size {n}, maximum is {MAX_FRAMES_PER_STACK} (stack {id})"
                    ),
                ));
            }
            let start = self.pcs.len();
            for i in 0..n {
                let fr = |f: &'static str| move || format!("stack {id}: frame {}'s {f}", i + 1);
                let pc = var(data, &mut p, b.start, &fr("PC"))?;
                let func = var(data, &mut p, b.start, &fr("funcID"))?;
                let file = var(data, &mut p, b.start, &fr("fileID"))?;
                let line = var(data, &mut p, b.start, &fr("line"))?;
                self.pcs.push(pc);
                self.frames
                    .entry(pc)
                    .or_insert(RawFrame { func, file, line });
            }
            if self.pcs.len() > u32::MAX as usize {
                return Err(corrupt(
                    at,
                    "too many stack frames in one generation".into(),
                ));
            }
            if !self.stacks.insert(id, (start as u32, n as u32)) {
                return Err(corrupt(
                    at,
                    format!("multiple stacks with the same ID: id={id}"),
                ));
            }
        }
        Ok(())
    }

    /// `addCPUSamples`: checked and counted, not kept.
    pub fn add_cpu_samples(&mut self, bytes: &[u8], b: &Batch) -> Result<(), DecodeError> {
        let data = b.data(bytes);
        let mut p = 1; // The CPUSamples byte.
        while p < data.len() {
            let at = b.start + p;
            if data[p] != ev::CPU_SAMPLE {
                return Err(corrupt(
                    at,
                    format!(
                        "CPU samples batch: expected a CPUSample event (7), got byte {}",
                        data[p]
                    ),
                ));
            }
            p += 1;
            let ts = var(data, &mut p, b.start, &|| "CPU sample's timestamp".into())?;
            for f in ["M", "P", "G", "stack"] {
                var(data, &mut p, b.start, &|| format!("CPU sample's {f}"))?;
            }
            self.cpu_samples += 1;
            self.cpu_ticks.push(ts);
        }
        Ok(())
    }

    /// `setSyncBatch`: the frequency batch (before Go 1.25) or the sync batch.
    pub fn set_sync(&mut self, bytes: &[u8], b: &Batch, minor: u32) -> Result<(), DecodeError> {
        let data = b.data(bytes);
        let mut p = usize::from(minor >= super::events::GO125); // The Sync byte.
        while p < data.len() {
            let at = b.start + p;
            let typ = data[p];
            p += 1;
            if typ == ev::FREQUENCY {
                if self.freq.is_some() {
                    return Err(corrupt(at, "found multiple frequency events".into()));
                }
                let f = var(data, &mut p, b.start, &|| "Frequency".into())?;
                if f == 0 {
                    return Err(corrupt(at, "frequency of 0 ticks per second".into()));
                }
                // Go: frequency(1.0 / (float64(f) / 1e9)), ns per tick.
                self.freq = Some(1.0 / (f as f64 / 1e9));
            } else if typ == ev::CLOCK_SNAPSHOT && minor >= super::events::GO125 {
                if self.has_clock_snapshot {
                    return Err(corrupt(at, "found multiple clock snapshot events".into()));
                }
                self.has_clock_snapshot = true;
                for f in ["dt", "mono", "sec", "nsec"] {
                    var(data, &mut p, b.start, &|| format!("ClockSnapshot's {f}"))?;
                }
            } else {
                return Err(corrupt(
                    at,
                    format!("expected frequency or clock snapshot event, got {typ}"),
                ));
            }
        }
        Ok(())
    }

    /// `validateStackStrings`: every frame's function and file strings exist.
    pub fn validate(&self, gen_offset: usize) -> Result<(), DecodeError> {
        for (pc, f) in &self.frames {
            for (what, id) in [("func", f.func), ("file", f.file)] {
                if !self.strings.has(id) {
                    return Err(corrupt(
                        gen_offset,
                        format!("found invalid {what} string ID {id} for frame at pc {pc:#x}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Lazily translates one generation's ids into the shared [`Tables`].
#[derive(Debug, Default)]
pub(crate) struct Resolver {
    syms: IdTable<Sym>,
    stacks: IdTable<StackId>,
    frames: FxHashMap<u64, FrameId>,
    scratch: Vec<FrameId>,
}

impl Resolver {
    /// Forgets the previous generation's ids.
    pub fn clear(&mut self) {
        self.syms.clear();
        self.stacks.clear();
        self.frames.clear();
    }

    /// Global symbol of a string id (`Sym(0)` for 0 or unknown ids).
    #[inline(always)]
    pub fn sym(&mut self, gt: &GenTables, bytes: &[u8], tables: &mut Tables, id: u64) -> Sym {
        match self.syms.get(id) {
            Some(s) => s,
            None => self.sym_slow(gt, bytes, tables, id),
        }
    }

    #[inline(never)]
    fn sym_slow(&mut self, gt: &GenTables, bytes: &[u8], tables: &mut Tables, id: u64) -> Sym {
        if id == 0 {
            return Sym(0);
        }
        let s = match gt.string(bytes, id) {
            Some(b) => tables.intern_str(&String::from_utf8_lossy(b)),
            None => Sym(0),
        };
        self.syms.insert(id, s);
        s
    }

    /// Global stack of a stack id (`StackId::EMPTY` for 0 or unknown ids).
    #[inline(always)]
    pub fn stack(&mut self, gt: &GenTables, bytes: &[u8], tables: &mut Tables, id: u64) -> StackId {
        match self.stacks.get(id) {
            Some(s) => s,
            None => self.stack_slow(gt, bytes, tables, id),
        }
    }

    #[inline(never)]
    fn stack_slow(
        &mut self,
        gt: &GenTables,
        bytes: &[u8],
        tables: &mut Tables,
        id: u64,
    ) -> StackId {
        if id == 0 {
            return StackId::EMPTY;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for &pc in gt.stack_pcs(id) {
            let fid = match self.frames.get(&pc) {
                Some(&f) => f,
                None => {
                    let raw = gt.frames.get(&pc).copied().unwrap_or(RawFrame {
                        func: 0,
                        file: 0,
                        line: 0,
                    });
                    let frame = Frame {
                        pc,
                        func: self.sym(gt, bytes, tables, raw.func),
                        file: self.sym(gt, bytes, tables, raw.file),
                        line: u32::try_from(raw.line).unwrap_or(u32::MAX),
                    };
                    let f = tables.intern_frame(frame);
                    self.frames.insert(pc, f);
                    f
                }
            };
            scratch.push(fid);
        }
        let s = tables.intern_stack(&scratch);
        self.scratch = scratch;
        self.stacks.insert(id, s);
        s
    }
}

/// Drops the scheduler's own leading park frames (`runtime.gopark`,
/// `runtime.goparkunlock`) from a stack recorded by `GoStatusStack`, so that
/// it starts, like a `GoBlock` stack, at the blocking operation.
pub(crate) fn strip_park_frames(tables: &mut Tables, s: StackId) -> StackId {
    let frames = tables.stack(s);
    let skip = frames
        .iter()
        .take_while(|&&f| {
            let name = tables.str(tables.frame(f).func);
            name == "runtime.gopark" || name == "runtime.goparkunlock"
        })
        .count();
    if skip == 0 || skip == frames.len() {
        return s;
    }
    let rest: Vec<FrameId> = frames[skip..].to_vec();
    tables.intern_stack(&rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `present_below` never passes a missing id, whatever the insertion
    /// order, and follows the ids as the gaps fill.
    #[test]
    fn present_below_stops_at_the_first_missing_id() {
        let mut t: IdTable<u32> = IdTable::default();
        assert_eq!(t.present_below(), 1);
        for (id, below) in [(2, 1), (3, 1), (5, 1), (1, 4), (DENSE_IDS + 1, 4), (4, 6)] {
            assert!(t.insert(id, 0));
            assert_eq!(t.present_below(), below, "after inserting {id}");
            assert!((0..below).all(|i| t.has(i)));
            assert!(!t.has(below));
        }
        assert!(!t.insert(3, 1));
        t.clear();
        assert_eq!(t.present_below(), 1);
        assert!(!t.has(1));
    }
}
