//! Per-goroutine state keyed by goroutine id: a vector for small ids (Go
//! allocates ids densely from 1, so nearly every trace fits), a hash map for
//! the rest. An absent goroutine reads as `T::default()`; removing one resets
//! it. Used by both decoders' orderings and episode builders; knows nothing
//! of what the state means.

use crate::fxhash::FxHashMap;

/// Ids below this live in the vector (grown on demand to the next power of
/// two above the largest id seen; at most 64 Ki entries).
const DENSE_IDS: u64 = 1 << 16;

/// Goroutine id → `T`.
#[derive(Debug, Default)]
pub(crate) struct GTable<T> {
    dense: Vec<T>,
    sparse: FxHashMap<u64, T>,
}

impl<T: Default + Clone> GTable<T> {
    /// An empty table whose dense part can hold `other`'s ids without
    /// growing.
    pub fn with_capacity_of<U>(other: &GTable<U>) -> Self {
        GTable {
            dense: Vec::with_capacity(other.dense.len()),
            sparse: FxHashMap::default(),
        }
    }

    /// The state of `g` (`None` when never set or removed, for sparse ids;
    /// the default value for dense ones).
    #[inline]
    pub fn get(&self, g: u64) -> Option<&T> {
        if g < DENSE_IDS {
            self.dense.get(g as usize)
        } else {
            self.sparse.get(&g)
        }
    }

    /// The state of `g`, created with the default value if absent.
    #[inline(always)]
    pub fn get_mut(&mut self, g: u64) -> &mut T {
        if g < DENSE_IDS {
            let i = g as usize;
            if i >= self.dense.len() {
                self.grow(i);
            }
            &mut self.dense[i]
        } else {
            self.sparse.entry(g).or_default()
        }
    }

    /// The state of `g` for update, without creating it (`None` when
    /// never set or removed, for sparse ids; the default value for dense ones).
    #[inline(always)]
    pub fn find_mut(&mut self, g: u64) -> Option<&mut T> {
        if g < DENSE_IDS {
            self.dense.get_mut(g as usize)
        } else {
            self.sparse.get_mut(&g)
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, i: usize) {
        self.dense.resize((i + 1).next_power_of_two(), T::default());
    }

    /// Takes the state of `g` out, leaving it absent.
    #[inline]
    pub fn remove(&mut self, g: u64) -> T {
        if g < DENSE_IDS {
            self.dense
                .get_mut(g as usize)
                .map(std::mem::take)
                .unwrap_or_default()
        } else {
            self.sparse.remove(&g).unwrap_or_default()
        }
    }

    /// Every goroutine with its state, in no particular order (dense ids
    /// include never-set ones, at the default value).
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.dense
            .iter()
            .enumerate()
            .map(|(g, t)| (g as u64, t))
            .chain(self.sparse.iter().map(|(&g, t)| (g, t)))
    }

    /// Ids the dense part holds without growing.
    #[cfg(test)]
    pub fn dense_capacity(&self) -> usize {
        self.dense.capacity()
    }

    /// Forgets every goroutine (the memory kept).
    pub fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_ids_behave_alike() {
        let mut t: GTable<u32> = GTable::default();
        for g in [1, 7, DENSE_IDS - 1, DENSE_IDS, 1 << 40] {
            assert_eq!(t.get(g).copied().unwrap_or_default(), 0);
            assert_eq!(t.find_mut(g).map_or(0, |v| *v), 0);
            *t.get_mut(g) += 3;
            match t.find_mut(g) {
                Some(v) => *v += 4,
                None => panic!("find_mut({g}) after get_mut"),
            }
            assert_eq!(t.get(g), Some(&7));
        }
        let mut live: Vec<u64> = t.iter().filter(|(_, v)| **v != 0).map(|(g, _)| g).collect();
        live.sort_unstable();
        assert_eq!(live, [1, 7, DENSE_IDS - 1, DENSE_IDS, 1 << 40]);
        assert_eq!(t.remove(7), 7);
        assert_eq!(t.remove(1 << 40), 7);
        assert_eq!(t.remove(1 << 40), 0);
        // find_mut never creates an entry.
        assert!(t.find_mut(1 << 40).is_none());
        assert!(t.find_mut(1 << 41).is_none());
        assert!(t.find_mut(DENSE_IDS * 4).is_none());
        assert_eq!(t.get(7).copied().unwrap_or_default(), 0);
        assert_eq!(t.iter().filter(|(_, v)| **v != 0).count(), 3);
        t.clear();
        assert_eq!(t.iter().count(), 0);
    }
}
