//! [`Binary`]: one opened Go executable — container facts, build IDs, the
//! function symbol table, and DWARF resolution (through `resolve.rs`) and
//! declarations (through `decls.rs`, scanned on first use).
//!
//! Opening reads the file once, keeps only what it needs (decompressed DWARF
//! sections, symbols) and closes it: a rebuilt binary on disk never affects
//! an opened one. A binary without DWARF is refused (`NoDwarf`): there is
//! nothing it could add to the trace's own frames. Caching is `cache.rs`'s
//! business; this module has no global state.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::buildid;
use crate::decls::{self, Decl, Decls};
use crate::error::{Result, SymbolsError};
use crate::load::{self, BinaryFormat};
use crate::resolve::{Chain, Resolver};
use crate::symtab::{SymbolTable, func_key};

/// [`func_key`] → the DWARF name, for names spelled differently.
type DeclKeys = std::collections::HashMap<Box<str>, std::sync::Arc<str>>;

/// Facts about a binary, cheap to copy around and print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryInfo {
    /// Container format.
    pub format: BinaryFormat,
    /// GOARCH-style architecture (`amd64`, `arm64`, …).
    pub arch: String,
    /// Position-independent (its run-time addresses need a load bias).
    pub pie: bool,
    /// The Go build ID, when present.
    pub go_build_id: Option<String>,
    /// The GNU build ID (hex), when present.
    pub gnu_build_id: Option<String>,
    /// Identity used by the cache: `go:<id>`, `gnu:<hex>` or `hash:<hex>`,
    /// followed by `:<file length>`.
    pub key: String,
    /// DWARF version of the first unit (4 or 5 for Go).
    pub dwarf_version: u16,
    /// Decompressed bytes of the DWARF sections loaded.
    pub dwarf_bytes: u64,
    /// File size.
    pub file_len: u64,
}

/// An opened Go binary. `Send + Sync`; share it as `Arc<Binary>`.
pub struct Binary {
    path: PathBuf,
    info: BinaryInfo,
    symbols: SymbolTable,
    text: Vec<(u64, u64)>,
    resolver: Resolver,
    decls: OnceLock<std::result::Result<(Decls, DeclKeys), String>>,
    timings: LoadTimings,
}

/// Where the time of opening went (for benchmarks and logs).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LoadTimings {
    /// Reading the file.
    pub read: Duration,
    /// Parsing the container, build IDs.
    pub parse: Duration,
    /// Finding and decompressing DWARF sections.
    pub dwarf: Duration,
    /// Reading the symbol table.
    pub symbols: Duration,
    /// Building the addr2line context (unit headers, ranges).
    pub context: Duration,
}

impl std::fmt::Debug for Binary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binary")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("symbols", &self.symbols.len())
            .finish_non_exhaustive()
    }
}

impl Binary {
    /// Opens `path` without the process-wide cache (see
    /// [`crate::Symbolizer::open`] for the cached way).
    pub fn open_uncached(path: &Path) -> Result<Binary> {
        let t = Instant::now();
        let data = load::map_file(path)?;
        let read = t.elapsed();
        let mut b = Binary::from_bytes(path, &data)?;
        b.timings.read = read;
        Ok(b)
    }

    /// Only the function symbol table of the file at `path` — no DWARF is
    /// read or decompressed: a cheap first look at a candidate
    /// ([`crate::matching::prefilter`]). Empty for a stripped binary.
    pub fn read_symbols(path: &Path) -> Result<SymbolTable> {
        let data = load::map_file(path)?;
        let (obj, container) = load::parse(path, &data)?;
        Ok(SymbolTable::read(&obj, &container.text))
    }

    /// Parses a binary from memory; `path` is used in messages (and
    /// reported by [`Binary::path`]).
    pub fn from_bytes(path: &Path, data: &[u8]) -> Result<Binary> {
        let mut timings = LoadTimings::default();
        let mut t = Instant::now();
        let mut lap = |d: &mut Duration| {
            *d = t.elapsed();
            t = Instant::now();
        };
        let (obj, container) = load::parse(path, data)?;
        let go_build_id = buildid::go_build_id(&obj, data);
        let gnu_build_id = buildid::gnu_build_id(&obj);
        lap(&mut timings.parse);
        let dw = load::load_dwarf(path, &obj, data, container.endian)?;
        lap(&mut timings.dwarf);
        let Some(dw) = dw else {
            if let Some(t) = load::find_truncation(path, &obj, data) {
                return Err(t);
            }
            return Err(SymbolsError::NoDwarf {
                path: path.to_owned(),
                format: container.format.as_str(),
            });
        };
        let symbols = SymbolTable::read(&obj, &container.text);
        lap(&mut timings.symbols);
        let key = cache_key(&go_build_id, &gnu_build_id, data);
        let resolver = Resolver::new(path, dw.dwarf)?;
        lap(&mut timings.context);
        Ok(Binary {
            path: path.to_owned(),
            info: BinaryInfo {
                format: container.format,
                arch: container.arch,
                pie: container.pie,
                go_build_id,
                gnu_build_id,
                key,
                dwarf_version: dw.version,
                dwarf_bytes: dw.bytes,
                file_len: data.len() as u64,
            },
            symbols,
            text: container.text,
            resolver,
            decls: OnceLock::new(),
            timings,
        })
    }

    /// Where the time of opening went.
    pub fn load_timings(&self) -> LoadTimings {
        self.timings
    }

    /// The file this was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Container facts and identities.
    pub fn info(&self) -> &BinaryInfo {
        &self.info
    }

    /// The Go build ID, when the binary has one.
    pub fn build_id(&self) -> Option<&str> {
        self.info.go_build_id.as_deref()
    }

    /// Function symbols (link-time addresses).
    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    /// Link-time address ranges of the executable sections, sorted.
    pub fn text_ranges(&self) -> &[(u64, u64)] {
        &self.text
    }

    /// Frames at link-time address `addr`, innermost (most inlined) first;
    /// empty if DWARF does not cover it. Cached: repeated PCs cost a hash
    /// lookup.
    pub fn resolve(&self, addr: u64) -> Result<Chain> {
        self.resolver.resolve(addr)
    }

    /// [`Binary::resolve`] for many addresses at once (sorted, in parallel
    /// when there are many misses); results in input order.
    pub fn resolve_many(&self, addrs: &[u64]) -> Result<Vec<Chain>> {
        self.resolver.resolve_many(addrs)
    }

    /// (cached PCs, distinct chains) — for tests and benchmarks.
    pub fn cache_stats(&self) -> (usize, usize) {
        self.resolver.cache_len()
    }

    /// Starts the declaration scan on a background thread, so that it
    /// overlaps with matching and resolution; [`Binary::function_decls`]
    /// then waits for it (or finds it done). Does nothing if the scan has
    /// already run.
    pub fn prefetch_decls(self: &std::sync::Arc<Self>) {
        if self.decls.get().is_some() {
            return;
        }
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("goblock-decls".into())
            .spawn(move || {
                let _ = me.function_decls();
            });
        // If no thread can be started, the scan runs on first use instead.
        drop(spawned);
    }

    /// Every function's declaration, scanned from DWARF on first call
    /// (one pass over `.debug_info`; safe to call from several threads,
    /// the scan runs once).
    pub fn function_decls(&self) -> Result<&Decls> {
        self.decl_index().map(|(d, _)| d)
    }

    fn decl_index(&self) -> Result<&(Decls, DeclKeys)> {
        let r = self.decls.get_or_init(|| {
            let (mut decls, mut pending) =
                decls::scan(&self.path, self.resolver.dwarf()).map_err(|e| e.to_string())?;
            // Go ≥ 1.20 gives every Go function a decl_line; what lacks one
            // there is assembly and wrappers, not worth parsing every line
            // table for. Go ≤ 1.19 gives none: use the entry lines.
            if !decls.is_empty() {
                pending.clear();
            }
            let addrs: Vec<u64> = pending.iter().map(|p| p.2).collect();
            let chains = self
                .resolver
                .resolve_many(&addrs)
                .map_err(|e| e.to_string())?;
            for ((name, file, _), chain) in pending.into_iter().zip(chains) {
                // Only when nothing is inlined at the entry (else the
                // physical frame's line is a call site).
                let Some(entry) = chain.first().filter(|f| f.line > 0 && chain.len() == 1) else {
                    continue;
                };
                decls.entry(name).or_insert_with(|| Decl {
                    file: file.or_else(|| Some(entry.file.clone())),
                    line: entry.line,
                });
            }
            let mut keys = DeclKeys::new();
            for name in decls.keys() {
                if let std::borrow::Cow::Owned(k) = func_key(name) {
                    keys.entry(k.into()).or_insert_with(|| name.clone());
                }
            }
            Ok((decls, keys))
        });
        r.as_ref().map_err(|reason| SymbolsError::Dwarf {
            path: self.path.clone(),
            context: format!("scanning declarations: {reason}"),
            source: gimli::Error::Io,
        })
    }

    /// Declaration of `func` (DWARF or trace spelling: generic instances
    /// and ABI wrappers match by [`func_key`] when the exact name is
    /// unknown).
    pub fn decl(&self, func: &str) -> Option<Decl> {
        let (decls, keys) = self.decl_index().ok()?;
        if let Some(d) = decls.get(func) {
            return Some(d.clone());
        }
        let key = func_key(func);
        if let Some(d) = decls.get(key.as_ref()) {
            return Some(d.clone());
        }
        keys.get(key.as_ref()).and_then(|n| decls.get(n)).cloned()
    }
}

/// The cache identity of a binary ([`BinaryInfo::key`]) without loading it.
pub(crate) fn identity(path: &Path, data: &[u8]) -> Result<String> {
    let (obj, _) = load::parse(path, data)?;
    Ok(cache_key(
        &buildid::go_build_id(&obj, data),
        &buildid::gnu_build_id(&obj),
        data,
    ))
}

fn cache_key(go: &Option<String>, gnu: &Option<String>, data: &[u8]) -> String {
    match (go, gnu) {
        (Some(g), _) => format!("go:{g}:{}", data.len()),
        (None, Some(g)) => format!("gnu:{g}:{}", data.len()),
        (None, None) => format!("hash:{}:{}", buildid::content_hash(data), data.len()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn binary_is_send_sync() {
        fn is<T: Send + Sync>() {}
        is::<super::Binary>();
    }
}
