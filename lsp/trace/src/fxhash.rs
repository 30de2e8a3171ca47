//! The hash maps every goblock crate uses for integer-like keys (goroutine,
//! thread, proc, stack and string ids; per-stack statistics; symbol
//! caches): `rustc-hash`'s FxHash, re-exported so that all crates share one
//! hasher. Trace ids are not attacker-chosen in any way that matters here:
//! the worst case is a slower decode, never a wrong one.

pub use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet, FxHasher};
