//! The old format's stack table (written at the end of the file): interns
//! every recorded stack's frames into [`Tables`] and maps the trace's stack
//! ids to [`StackId`]s.
//!
//! Frames keep the PCs, function and file names and lines exactly as
//! recorded (innermost first); nothing is symbolized here. A stack id the
//! table does not define resolves to the empty stack, as in Go's parser.

use super::index::Index;
use super::wire;
use crate::fxhash::FxHashMap;
use crate::{Frame, FrameId, StackId, Tables};

/// Trace stack id → interned stack.
#[derive(Debug, Default)]
pub struct StackMap {
    dense: Vec<StackId>,
    sparse: FxHashMap<u64, StackId>,
}

impl StackMap {
    /// The interned stack for a trace stack id (empty when unknown or 0).
    #[inline]
    pub fn get(&self, id: u64) -> StackId {
        match self.dense.get(id as usize) {
            Some(s) if !s.is_empty() => *s,
            // A hole of the dense part may be an id stored in the sparse
            // part before the dense part grew past it.
            _ => self.sparse.get(&id).copied().unwrap_or(StackId::EMPTY),
        }
    }

    /// Whether `id` names a stack in the table.
    pub fn contains(&self, id: u64) -> bool {
        !self.get(id).is_empty()
    }

    /// Number of stacks resolved.
    pub fn len(&self) -> usize {
        self.dense.iter().filter(|s| !s.is_empty()).count() + self.sparse.len()
    }

    /// Whether no stack was resolved.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&mut self, id: u64, s: StackId) {
        // Ids are allocated densely from 1 by the runtime; keep a vector
        // while they stay within a small factor of the count seen.
        let limit = 1024 + 4 * (self.dense.len() + self.sparse.len());
        if (id as usize) < self.dense.len() {
            self.dense[id as usize] = s;
        } else if id <= limit as u64 {
            self.dense.resize(id as usize + 1, StackId::EMPTY);
            self.dense[id as usize] = s;
        } else {
            self.sparse.insert(id, s);
        }
    }
}

/// Interns every stack record located by pass 1.
pub fn resolve(buf: &[u8], ix: &Index, tables: &mut Tables) -> StackMap {
    let mut map = StackMap::default();
    let mut strs: FxHashMap<u64, crate::Sym> = FxHashMap::default();
    let mut frames: Vec<FrameId> = Vec::new();
    let mut raw_frames: Vec<[u64; 4]> = Vec::new();
    for &at in &ix.stacks {
        // Pass 1 validated these records; a failure here cannot happen, but
        // would only drop the stack.
        let Ok(raw) = wire::read(buf, at, 21) else {
            continue;
        };
        raw_frames.clear();
        let Ok((id, n)) = wire::stack_values(
            buf,
            raw.values[0] as usize,
            raw.values[1] as usize,
            at,
            |pc, f, file, line| raw_frames.push([pc, f, file, line]),
        ) else {
            continue;
        };
        if id == 0 || n == 0 {
            continue;
        }
        frames.clear();
        for &[pc, f, file, line] in &raw_frames {
            let func = string(buf, ix, &mut strs, tables, f);
            let file = string(buf, ix, &mut strs, tables, file);
            frames.push(tables.intern_frame(Frame {
                pc,
                func,
                file,
                line: u32::try_from(line).unwrap_or(u32::MAX),
            }));
        }
        let s = tables.intern_stack(&frames);
        map.insert(id, s);
    }
    map
}

fn string(
    buf: &[u8],
    ix: &Index,
    cache: &mut FxHashMap<u64, crate::Sym>,
    tables: &mut Tables,
    id: u64,
) -> crate::Sym {
    if let Some(&s) = cache.get(&id) {
        return s;
    }
    let sym = match ix.strings.get(&id) {
        Some(&(off, len)) => {
            let bytes = buf.get(off..off + len).unwrap_or(&[]);
            tables.intern_str(&String::from_utf8_lossy(bytes))
        }
        None => crate::Sym(0),
    };
    cache.insert(id, sym);
    sym
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_any_order_resolve() {
        // Go ≤ 1.21 dumps its stack table in hash order: a large id can come
        // first (stored sparsely) and the dense part grow past it later.
        let mut m = StackMap::default();
        m.insert(5000, StackId(7));
        for id in 1..=3000 {
            m.insert(id, StackId(100 + id as u32));
        }
        assert_eq!(m.get(5000), StackId(7));
        for id in (3001..=6000).filter(|&id| id != 5000) {
            m.insert(id, StackId(1));
        }
        assert_eq!(m.get(5000), StackId(7));
        assert_eq!(m.get(2999), StackId(3099));
        assert_eq!(m.get(0), StackId::EMPTY);
        assert_eq!(m.get(1 << 40), StackId::EMPTY);
    }
}
