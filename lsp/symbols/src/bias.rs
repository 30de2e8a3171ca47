//! Load bias recovery. Traces record run-time PCs and no memory map, so for
//! a position-independent binary (Linux `-buildmode=pie`, every darwin
//! binary, windows with ASLR) the offset between run-time and link-time
//! addresses must be inferred from the trace itself: each recorded
//! `(function, pc)` pair says that `pc − bias` lies inside that function's
//! symbol. Loaders move images by whole pages, so candidates are multiples of
//! 4 KiB (darwin/arm64's 16 KiB and windows' 64 KiB are multiples too).
//!
//! Bias 0 is tried first (non-PIE binaries, and PIE runs without ASLR).
//! Otherwise the candidates come from a few "pivot" pairs (the smallest
//! functions give the fewest candidates) and every candidate is scored on
//! all pairs. Inlined frames name a function whose code is part of its
//! caller's symbol, so the best score is below 100 %; deciding whether it is
//! good enough is `matching.rs`'s job (with DWARF, which knows inlining).

use crate::symtab::{SymbolTable, func_key};

/// Loaders align images to at least this.
const PAGE: u64 = 0x1000;
/// Pivot pairs used to generate candidates.
const PIVOTS: usize = 12;
/// Candidates from one pivot (functions bigger than this many pages are
/// skipped as pivots).
const MAX_CANDIDATES_PER_PIVOT: u64 = 64;

/// The result of [`recover_bias`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BiasEstimate {
    /// Run-time address − link-time address (two's complement when the
    /// image was moved down).
    pub bias: u64,
    /// Pairs whose `pc − bias` lies in a symbol of their function.
    pub support: usize,
    /// Pairs whose function the symbol table knows (the denominator).
    pub usable: usize,
}

/// Finds the bias that puts the most `(function, pc)` pairs inside their
/// functions' symbols. `None` if no pair names a function in the table.
pub fn recover_bias(symbols: &SymbolTable, pairs: &[(&str, u64)]) -> Option<BiasEstimate> {
    // Pairs whose function exists, with its smallest symbol size (pivot order).
    let mut usable: Vec<(&str, u64, u64)> = Vec::new();
    for &(func, pc) in pairs {
        if let Some(size) = symbols.by_name(func).map(|s| s.end - s.start).min() {
            usable.push((func, pc, size));
        }
    }
    if usable.is_empty() {
        return None;
    }
    let score = |bias: u64| -> usize {
        usable
            .iter()
            .filter(|(func, pc, _)| {
                symbols
                    .lookup(pc.wrapping_sub(bias))
                    .is_some_and(|s| func_key(s.name) == func_key(func))
            })
            .count()
    };
    let n = usable.len();
    let zero = score(0);
    // Bias 0 wins outright unless something else explains clearly more.
    let mut best = BiasEstimate {
        bias: 0,
        support: zero,
        usable: n,
    };
    if zero * 100 >= n * 99 {
        return Some(best);
    }

    let mut pivots = usable.clone();
    pivots.sort_by_key(|&(func, pc, size)| (size, func, pc));
    pivots.dedup_by(|a, b| a.0 == b.0);
    let mut candidates: Vec<u64> = Vec::new();
    for &(func, pc, _) in pivots.iter().take(PIVOTS) {
        for s in symbols.by_name(func) {
            if (s.end - s.start) / PAGE > MAX_CANDIDATES_PER_PIVOT {
                continue;
            }
            // bias ∈ (pc − end, pc − start], page aligned.
            let hi = pc.wrapping_sub(s.start);
            let lo = pc.wrapping_sub(s.end - 1);
            let mut b = lo.wrapping_add(PAGE - 1) & !(PAGE - 1);
            while b.wrapping_sub(lo) <= hi.wrapping_sub(lo) {
                candidates.push(b);
                b = b.wrapping_add(PAGE);
            }
        }
    }
    candidates.sort_unstable();
    candidates.dedup();
    for b in candidates {
        let s = score(b);
        if s > best.support {
            best = BiasEstimate {
                bias: b,
                support: s,
                usable: n,
            };
        }
    }
    Some(best)
}
