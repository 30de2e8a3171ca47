//! PC → frames: wraps an `addr2line::Context` (inline expansion, innermost
//! frame first) behind a thread-safe, per-binary result cache.
//!
//! `Context` is `Send` but not `Sync` (lazily parsed units in `OnceCell`s),
//! so contexts live in a small pool under a `Mutex`; the results — tiny,
//! heavily repeated in traces — are kept in a `RwLock`ed map from PC to an
//! interned chain, so warm lookups never touch addr2line. Batches
//! ([`Resolver::resolve_many`]) are sorted by address and split across
//! threads, each with its own context from the pool.
//!
//! Addresses here are link-time (file) addresses: the load bias is applied by
//! the caller (`bias.rs`, `symbolize.rs`). Strings are interned per binary
//! (`Arc<str>`). This module does not know trace frames.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::error::{Result, SymbolsError};
use crate::load::Reader;

/// One frame of a DWARF inline chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedFrame {
    /// Function name as DWARF spells it (`main.consumer`,
    /// `sync.(*Mutex).Lock`); empty when DWARF has a line but no function.
    pub function: Arc<str>,
    /// Source file; `-trimpath` builds' leading `./` removed.
    pub file: Arc<str>,
    /// 1-based line; 0 when unknown.
    pub line: u32,
}

/// A PC's frames, innermost first; the last one is the physical function,
/// the ones before it were inlined into it. Empty when DWARF does not
/// cover the PC.
pub type Chain = Arc<[ResolvedFrame]>;

/// Contexts kept for batches (one per worker thread).
const MAX_WORKERS: usize = 4;
/// Batches smaller than this (misses) run on the calling thread.
const PARALLEL_MIN: usize = 2048;

/// A multiplicative hasher for `u64` PC keys (SipHash is 3-4× slower and
/// HashDoS is not a concern for addresses).
#[derive(Default, Clone, Copy)]
pub(crate) struct PcHasher(u64);

impl Hasher for PcHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing; hashbrown uses the top bits.
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type PcMap<V> = HashMap<u64, V, BuildHasherDefault<PcHasher>>;

#[derive(Default)]
struct Cache {
    by_pc: PcMap<u32>,
    chains: Vec<Chain>,
    chain_ids: HashMap<Chain, u32>,
    strings: HashMap<Arc<str>, ()>,
}

impl Cache {
    fn intern_str(&mut self, s: &str) -> Arc<str> {
        if let Some((k, _)) = self.strings.get_key_value(s) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(s);
        self.strings.insert(k.clone(), ());
        k
    }

    fn insert(&mut self, pc: u64, raw: &[RawFrame]) -> Chain {
        let chain: Chain = raw
            .iter()
            .map(|f| ResolvedFrame {
                function: self.intern_str(&f.function),
                file: self.intern_str(&f.file),
                line: f.line,
            })
            .collect();
        let id = match self.chain_ids.get(&chain) {
            Some(&id) => id,
            None => {
                let id = self.chains.len() as u32;
                self.chains.push(chain.clone());
                self.chain_ids.insert(chain, id);
                id
            }
        };
        self.by_pc.insert(pc, id);
        self.chains[id as usize].clone()
    }

    fn get(&self, pc: u64) -> Option<Chain> {
        self.by_pc
            .get(&pc)
            .and_then(|&id| self.chains.get(id as usize))
            .cloned()
    }
}

/// Frames as addr2line returns them, before interning.
struct RawFrame {
    function: String,
    file: String,
    line: u32,
}

/// DWARF resolution for one binary. `Sync`: share it behind an `Arc`.
pub(crate) struct Resolver {
    path: PathBuf,
    dwarf: Arc<gimli::Dwarf<Reader>>,
    pool: Mutex<Vec<addr2line::Context<Reader>>>,
    cache: RwLock<Cache>,
}

impl Resolver {
    /// Builds the first context (parses unit headers and ranges).
    pub(crate) fn new(path: &Path, dwarf: gimli::Dwarf<Reader>) -> Result<Resolver> {
        let dwarf = Arc::new(dwarf);
        let ctx = addr2line::Context::from_arc_dwarf(dwarf.clone()).map_err(|source| {
            SymbolsError::Dwarf {
                path: path.to_owned(),
                context: "reading compilation units".into(),
                source,
            }
        })?;
        Ok(Resolver {
            path: path.to_owned(),
            dwarf,
            pool: Mutex::new(vec![ctx]),
            cache: RwLock::new(Cache::default()),
        })
    }

    /// The loaded DWARF (for the declaration scan).
    pub(crate) fn dwarf(&self) -> &gimli::Dwarf<Reader> {
        &self.dwarf
    }

    /// Frames of one link-time address, innermost first.
    pub(crate) fn resolve(&self, addr: u64) -> Result<Chain> {
        if let Some(c) = self.read_cache().get(addr) {
            return Ok(c);
        }
        let ctx = self.take_context()?;
        let raw = frames(&self.path, &ctx, addr);
        self.put_context(ctx);
        let raw = raw?;
        Ok(self.write_cache().insert(addr, &raw))
    }

    /// Frames of many link-time addresses, in the order given. Misses are
    /// resolved in address order, in parallel when there are many.
    pub(crate) fn resolve_many(&self, addrs: &[u64]) -> Result<Vec<Chain>> {
        let mut misses: Vec<u64> = {
            let cache = self.read_cache();
            addrs
                .iter()
                .copied()
                .filter(|&a| cache.get(a).is_none())
                .collect()
        };
        misses.sort_unstable();
        misses.dedup();
        if !misses.is_empty() {
            let workers = if misses.len() < PARALLEL_MIN {
                1
            } else {
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .clamp(1, MAX_WORKERS)
            };
            let chunk = misses.len().div_ceil(workers);
            let results: Vec<Result<Vec<RawFrameList>>> = if workers == 1 {
                vec![self.resolve_chunk(&misses)]
            } else {
                std::thread::scope(|s| {
                    let handles: Vec<_> = misses
                        .chunks(chunk)
                        .map(|c| s.spawn(move || self.resolve_chunk(c)))
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or_else(|_| {
                                Err(SymbolsError::Dwarf {
                                    path: self.path.clone(),
                                    context: "resolver thread panicked".into(),
                                    source: gimli::Error::Io,
                                })
                            })
                        })
                        .collect()
                })
            };
            let mut cache = self.write_cache();
            for (pcs, res) in misses.chunks(chunk).zip(results) {
                for (&pc, raw) in pcs.iter().zip(res?) {
                    cache.insert(pc, &raw);
                }
            }
        }
        let cache = self.read_cache();
        Ok(addrs
            .iter()
            .map(|&a| cache.get(a).unwrap_or_else(|| Arc::from([])))
            .collect())
    }

    fn resolve_chunk(&self, pcs: &[u64]) -> Result<Vec<RawFrameList>> {
        let ctx = self.take_context()?;
        let out: Result<Vec<_>> = pcs.iter().map(|&pc| frames(&self.path, &ctx, pc)).collect();
        self.put_context(ctx);
        out
    }

    /// Number of cached PCs and distinct chains.
    pub(crate) fn cache_len(&self) -> (usize, usize) {
        let c = self.read_cache();
        (c.by_pc.len(), c.chains.len())
    }

    fn take_context(&self) -> Result<addr2line::Context<Reader>> {
        if let Some(c) = self.lock_pool().pop() {
            return Ok(c);
        }
        addr2line::Context::from_arc_dwarf(self.dwarf.clone()).map_err(|source| {
            SymbolsError::Dwarf {
                path: self.path.clone(),
                context: "reading compilation units".into(),
                source,
            }
        })
    }

    fn put_context(&self, ctx: addr2line::Context<Reader>) {
        let mut pool = self.lock_pool();
        if pool.len() < MAX_WORKERS {
            pool.push(ctx);
        }
    }

    // A panic while holding one of these locks cannot leave the data
    // half-updated in a way that matters (cache inserts are atomic per PC),
    // so poisoning is ignored.
    fn lock_pool(&self) -> std::sync::MutexGuard<'_, Vec<addr2line::Context<Reader>>> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn read_cache(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }
    fn write_cache(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(|e| e.into_inner())
    }
}

type RawFrameList = Vec<RawFrame>;

/// addr2line's frames for `pc`, innermost first.
fn frames(path: &Path, ctx: &addr2line::Context<Reader>, pc: u64) -> Result<RawFrameList> {
    let err = |source| SymbolsError::Dwarf {
        path: path.to_owned(),
        context: format!("resolving pc {pc:#x}"),
        source,
    };
    let mut it = ctx.find_frames(pc).skip_all_loads().map_err(err)?;
    let mut out = Vec::new();
    while let Some(f) = it.next().map_err(err)? {
        let function = match &f.function {
            Some(n) => n.raw_name().map_err(err)?.into_owned(),
            None => String::new(),
        };
        let (file, line) = match &f.location {
            Some(l) => (clean_file(l.file.unwrap_or("")), l.line.unwrap_or(0)),
            None => (String::new(), 0),
        };
        out.push(RawFrame {
            function,
            file,
            line,
        });
    }
    Ok(out)
}

/// `-trimpath` builds have `DW_AT_comp_dir` `.`, so joined paths start with
/// `./`; the runtime (and so the trace) prints them without.
pub(crate) fn clean_file(f: &str) -> String {
    f.strip_prefix("./").unwrap_or(f).to_owned()
}
