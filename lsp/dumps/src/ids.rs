//! The set of goroutine ids seen in one snapshot of a dump, by which the
//! parser notices an id repeating (the next dump of the file begins).
//!
//! Ids are numbered from 1 as goroutines are created, so in a large dump
//! they are small and dense: ids below [`BITMAP_IDS`] are a bit each in a
//! bitmap (125 KB for a million goroutines, and no hashing: a hash set
//! took a tenth of `goblock report`'s time on such a dump); larger ids (a
//! long-running server's) go to a hash set. Membership is exact either way. Knows
//! nothing of snapshots.

use rustc_hash::FxHashSet;

/// Ids below this are kept in the bitmap: at most 2 MiB of it.
const BITMAP_IDS: u64 = 1 << 24;

/// Goroutine ids, as a set.
#[derive(Default)]
pub(crate) struct IdSet {
    /// Bit `id % 64` of word `id / 64`: ids below [`BITMAP_IDS`].
    bits: Vec<u64>,
    /// Ids from [`BITMAP_IDS`] on.
    large: FxHashSet<u64>,
}

impl IdSet {
    /// Adds `id`; `false` if it was there already.
    pub(crate) fn insert(&mut self, id: u64) -> bool {
        if id >= BITMAP_IDS {
            return self.large.insert(id);
        }
        // Below 2^24: fits a usize on every platform we build for.
        let word = (id / 64) as usize;
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let bit = 1u64 << (id % 64);
        let new = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        new
    }

    /// Empties the set.
    pub(crate) fn clear(&mut self) {
        self.bits.clear();
        self.large.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_a_hash_set() {
        let ids = [
            1,
            6,
            7,
            63,
            64,
            65,
            5,
            BITMAP_IDS - 1,
            BITMAP_IDS,
            u64::MAX,
            0,
            7,
            BITMAP_IDS,
            u64::MAX,
            64,
            1_000_000,
            0,
        ];
        let mut set = IdSet::default();
        let mut reference = FxHashSet::default();
        for id in ids {
            assert_eq!(set.insert(id), reference.insert(id), "{id}");
        }
        set.clear();
        reference.clear();
        for id in ids.iter().rev() {
            assert_eq!(set.insert(*id), reference.insert(*id), "{id}");
        }
    }
}
