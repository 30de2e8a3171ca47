//! PC → frames: wraps `addr2line::Context` (inline expansion, innermost
//! frame first) behind a thread-safe, per-binary result cache.
//!
//! `Context` is `Send` but not `Sync` (lazily parsed units in `OnceCell`s),
//! so contexts live in a small pool under a `Mutex` and a lookup borrows
//! one. Results — tiny, heavily repeated in traces — go into a map from PC
//! to an interned chain, sharded over `RwLock`s so warm lookups from many
//! threads neither touch addr2line nor contend on one lock. Batches
//! ([`Resolver::resolve_many`]) are sorted by address and split across
//! threads, each with its own context.
//!
//! Strings are interned per binary (`Arc<str>`): a worker first maps the
//! `&str`s addr2line hands out (which point into section data or the
//! context and stay put while the worker holds it) by address, and takes
//! the shared interner's lock only for strings it has not seen. Chains are
//! deduplicated by the addresses of their interned strings.
//!
//! Addresses here are link-time (file) addresses: the load bias is applied by
//! the caller. This module does not know trace frames.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::error::{Result, SymbolsError};
use gimli::Reader as _;

use crate::load::Reader;

/// One frame of a DWARF inline chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedFrame {
    /// Function name as DWARF spells it (`main.consumer`,
    /// `sync.(*Mutex).Lock`); empty when DWARF has a line but no function.
    pub function: Arc<str>,
    /// Source file; `-trimpath` builds' leading `./` removed. Empty when
    /// DWARF has no line for the PC.
    pub file: Arc<str>,
    /// 1-based line; 0 when DWARF has no line for the PC.
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
/// Shards of the PC map.
const SHARDS: usize = 16;

/// FxHash for PCs, interned-string addresses and short strings (SipHash is
/// several times slower; HashDoS is not a concern for addresses and symbol
/// names of a local binary).
pub(crate) use goblock_trace::fxhash::FxBuildHasher as FxBuild;
/// Multiplier that spreads a PC over the shards (FxHash's constant).
const SHARD_MIX: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// A chain compared and hashed by the addresses of its interned strings.
struct ChainKey(Chain);

impl PartialEq for ChainKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().zip(other.0.iter()).all(|(a, b)| {
                Arc::ptr_eq(&a.function, &b.function)
                    && Arc::ptr_eq(&a.file, &b.file)
                    && a.line == b.line
            })
    }
}
impl Eq for ChainKey {}
impl Hash for ChainKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        for f in self.0.iter() {
            h.write_usize(Arc::as_ptr(&f.function) as *const u8 as usize);
            h.write_usize(Arc::as_ptr(&f.file) as *const u8 as usize);
            h.write_u32(f.line);
        }
    }
}

/// Shared interning state (strings, chains), locked only on misses.
#[derive(Default)]
struct Interner {
    strings: HashSet<Arc<str>, FxBuild>,
    chains: HashSet<ChainKey, FxBuild>,
}

impl Interner {
    fn string(&mut self, s: &str) -> Arc<str> {
        if let Some(k) = self.strings.get(s) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(s);
        self.strings.insert(k.clone());
        k
    }

    fn chain(&mut self, frames: Vec<ResolvedFrame>) -> Chain {
        let key = ChainKey(Arc::from(frames));
        if let Some(k) = self.chains.get(&key) {
            return k.0.clone();
        }
        let c = key.0.clone();
        self.chains.insert(key);
        c
    }
}

/// DWARF resolution for one binary. `Sync`: share it behind an `Arc`.
pub(crate) struct Resolver {
    path: PathBuf,
    dwarf: Arc<gimli::Dwarf<Reader>>,
    pool: Mutex<Vec<Pooled>>,
    shards: Vec<RwLock<HashMap<u64, Chain, FxBuild>>>,
    interner: Mutex<Interner>,
}

impl Resolver {
    /// Builds the first context (parses unit headers and ranges).
    pub(crate) fn new(path: &Path, dwarf: gimli::Dwarf<Reader>) -> Result<Resolver> {
        let dwarf = Arc::new(dwarf);
        let ctx = new_context(path, &dwarf)?;
        Ok(Resolver {
            path: path.to_owned(),
            dwarf,
            pool: Mutex::new(vec![Pooled {
                ctx,
                local: HashMap::default(),
            }]),
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            interner: Mutex::new(Interner::default()),
        })
    }

    /// The loaded DWARF (for the declaration scan).
    pub(crate) fn dwarf(&self) -> &gimli::Dwarf<Reader> {
        &self.dwarf
    }

    fn shard(&self, pc: u64) -> &RwLock<HashMap<u64, Chain, FxBuild>> {
        let h = (pc ^ (pc >> 17)).wrapping_mul(SHARD_MIX) >> 60;
        &self.shards[h as usize % SHARDS]
    }

    fn cached(&self, pc: u64) -> Option<Chain> {
        let shard = self.shard(pc).read().unwrap_or_else(|e| e.into_inner());
        shard.get(&pc).cloned()
    }

    /// Frames of one link-time address, innermost first.
    pub(crate) fn resolve(&self, addr: u64) -> Result<Chain> {
        if let Some(c) = self.cached(addr) {
            return Ok(c);
        }
        let mut out = self.resolve_chunk(&[addr])?;
        let chain = out.pop().unwrap_or_else(|| Arc::from([]));
        self.shard(addr)
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(addr, chain.clone());
        Ok(chain)
    }

    /// Frames of many link-time addresses, in the order given. Misses are
    /// resolved in address order, in parallel when there are many.
    pub(crate) fn resolve_many(&self, addrs: &[u64]) -> Result<Vec<Chain>> {
        let mut misses: Vec<u64> = addrs
            .iter()
            .copied()
            .filter(|&a| self.cached(a).is_none())
            .collect();
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
            let results: Vec<Result<Vec<Chain>>> = if workers == 1 {
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
            for (pcs, res) in misses.chunks(chunk).zip(results) {
                for (&pc, chain) in pcs.iter().zip(res?) {
                    self.shard(pc)
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(pc, chain);
                }
            }
        }
        Ok(addrs
            .iter()
            .map(|&a| self.cached(a).unwrap_or_else(|| Arc::from([])))
            .collect())
    }

    /// Resolves `pcs` with one context from the pool.
    fn resolve_chunk(&self, pcs: &[u64]) -> Result<Vec<Chain>> {
        let mut pooled = match self.lock_pool().pop() {
            Some(p) => p,
            None => Pooled {
                ctx: new_context(&self.path, &self.dwarf)?,
                local: HashMap::default(),
            },
        };
        let out = {
            let mut w = Worker {
                path: &self.path,
                interner: &self.interner,
                local: &mut pooled.local,
            };
            pcs.iter().map(|&pc| w.frames(&pooled.ctx, pc)).collect()
        };
        let mut pool = self.lock_pool();
        if pool.len() < MAX_WORKERS {
            pool.push(pooled);
        }
        out
    }

    /// Number of cached PCs and distinct chains.
    pub(crate) fn cache_len(&self) -> (usize, usize) {
        let pcs = self
            .shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).len())
            .sum();
        let chains = self.lock_interner().chains.len();
        (pcs, chains)
    }

    // A panic while holding one of these locks cannot leave the data
    // half-updated in a way that matters (plain inserts), so poisoning is
    // ignored.
    fn lock_pool(&self) -> std::sync::MutexGuard<'_, Vec<Pooled>> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn lock_interner(&self) -> std::sync::MutexGuard<'_, Interner> {
        self.interner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn new_context(
    path: &Path,
    dwarf: &Arc<gimli::Dwarf<Reader>>,
) -> Result<addr2line::Context<Reader>> {
    addr2line::Context::from_arc_dwarf(dwarf.clone()).map_err(|source| SymbolsError::Dwarf {
        path: path.to_owned(),
        context: "reading compilation units".into(),
        source,
    })
}

/// A context and the strings it handed out, by address and length: they
/// point into section data or into the context's parsed line tables, which
/// neither move nor go away while the context lives, so the keys stay
/// valid as long as the entry.
struct Pooled {
    ctx: addr2line::Context<Reader>,
    local: LocalStrings,
}

type LocalStrings = HashMap<(usize, usize), Arc<str>, FxBuild>;

/// One thread's resolution state.
struct Worker<'a> {
    path: &'a Path,
    interner: &'a Mutex<Interner>,
    local: &'a mut LocalStrings,
}

impl Worker<'_> {
    /// Interns a string borrowed from the context or the section data.
    fn intern(&mut self, s: &str) -> Arc<str> {
        let key = (s.as_ptr() as usize, s.len());
        if let Some(a) = self.local.get(&key) {
            return a.clone();
        }
        let a = self.lock().string(s);
        self.local.insert(key, a.clone());
        a
    }

    /// Interns a function name, keyed by its raw bytes in `.debug_info` /
    /// `.debug_str` (UTF-8 checked once per distinct name).
    fn intern_name(&mut self, name: &Reader) -> std::result::Result<Arc<str>, gimli::Error> {
        let bytes = name.bytes();
        let key = (bytes.as_ptr() as usize, bytes.len());
        if let Some(a) = self.local.get(&key) {
            return Ok(a.clone());
        }
        let text: Cow<'_, str> = name.to_string_lossy()?;
        let a = self.lock().string(&text);
        self.local.insert(key, a.clone());
        Ok(a)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Interner> {
        self.interner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// addr2line's frames for `pc`, innermost first, interned.
    fn frames(&mut self, ctx: &addr2line::Context<Reader>, pc: u64) -> Result<Chain> {
        let err = |source| SymbolsError::Dwarf {
            path: self.path.to_owned(),
            context: format!("resolving pc {pc:#x}"),
            source,
        };
        let mut it = ctx.find_frames(pc).skip_all_loads().map_err(err)?;
        let mut out = Vec::new();
        while let Some(f) = it.next().map_err(err)? {
            let function = match &f.function {
                Some(n) => self.intern_name(&n.name).map_err(err)?,
                None => self.intern(""),
            };
            let (file, line) = match &f.location {
                Some(l) => (
                    self.intern(clean_file(l.file.unwrap_or(""))),
                    l.line.unwrap_or(0),
                ),
                None => (self.intern(""), 0),
            };
            out.push(ResolvedFrame {
                function,
                file,
                line,
            });
        }
        Ok(self.lock().chain(out))
    }
}

/// `-trimpath` builds have `DW_AT_comp_dir` `.`, so joined paths start with
/// `./`; the runtime (and so the trace) prints them without.
pub(crate) fn clean_file(f: &str) -> &str {
    f.strip_prefix("./").unwrap_or(f)
}
