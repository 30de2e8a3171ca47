//! goblock-symbols: the symbolizer — Go binaries' DWARF → frames for the
//! PCs of an execution trace (pipeline stage 2: decode → **symbolize** →
//! attribute → serve). No LSP, no report formatting here.
//!
//! # API
//!
//! ```no_run
//! use goblock_symbols::{MatchOptions, Request, Symbolizer, match_trace, symbolize, symbolize_trace};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mut tables = goblock_trace::Tables::new();
//! // The one call the report and the server make: pick (or take) a binary,
//! // check it matches the trace, symbolize — or fall back to the trace's
//! // own frames and say why.
//! let req = Request { binary: None, workspace: vec!["/my/module".into()], ..Default::default() };
//! let frames = symbolize_trace(Symbolizer::global(), &mut tables, &req);
//! println!("symbolization: {}", frames.source.as_str()); // "dwarf" or "trace"
//! for note in &frames.notes { println!("  {note}"); }
//! # let id = goblock_trace::FrameId(0);
//! let frame = tables.frame(frames.frame(id)); // DWARF frame for trace frame `id`
//!
//! // The pieces, for callers that need them:
//! let bin = Symbolizer::global().open("./app".as_ref())?; // Arc<Binary>, cached by build ID
//! let m = match_trace(&bin, &tables, &MatchOptions::default())?; // bias, matched share; or Mismatch{why}
//! let s = symbolize(&bin, &m, &mut tables)?; // interned DWARF frames + decls + agreement stats
//! let chain = bin.resolve(0x4e8313)?; // link-time PC → inline chain, innermost first
//! let decl = bin.decl("main.consumer"); // declaration line (and file)
//! # Ok(()) }
//! ```
//!
//! * [`Symbolizer`] (`cache.rs`): process-wide, thread-safe cache of opened
//!   binaries, keyed by file identity and by Go build ID / GNU build ID /
//!   content hash. Re-opening costs a `stat` and a map lookup.
//! * [`Binary`] (`binary.rs`): one executable — [`Binary::build_id`],
//!   [`Binary::resolve`] / [`Binary::resolve_many`] (DWARF inline chains,
//!   cached per PC), [`Binary::function_decls`] / [`Binary::decl`]
//!   (`DW_AT_decl_file`/`decl_line`), the symbol table. `Send + Sync`.
//! * [`match_trace`] (`matching.rs`): accepts a binary for a trace only if
//!   the expected build ID (when known) is equal and ≥ 99 % of the trace's
//!   distinct frames resolve to the functions the trace names; else a
//!   [`Mismatch`] saying why. Recovers the PIE load bias ([`recover_bias`],
//!   `bias.rs`).
//! * [`symbolize`] / [`symbolize_trace`] (`symbolize.rs`): DWARF frames as
//!   interned [`goblock_trace::Frame`]s of the same [`goblock_trace::Tables`],
//!   per-function declarations, agreement statistics.
//! * [`find_candidates`] (`candidates.rs`): executables and `*.test` files
//!   in the workspace, newest first, bounded walk.
//!
//! Inputs handled (`load.rs`, `buildid.rs`): ELF, Mach-O (DWARF in the
//! executable's `__DWARF` segment) and PE (`.zdebug_*`, which
//! `addr2line::Loader` misses); amd64 and arm64; GNU `.zdebug`,
//! `SHF_COMPRESSED` zlib and zstd; DWARF 4 and 5; `-trimpath` paths.
//! Bad input (stripped, truncated, not an executable) is an error naming
//! the file and, where there is one, the section and offset — never a
//! panic.
//!
//! Findings the design rests on (tests in `tests/fixtures.rs`): trace PCs
//! resolve to the trace's own (function, file, line) as recorded, with no
//! return-address adjustment (pc − 1 would break ~20 % of frames), and each
//! trace frame is DWARF's innermost frame at its PC.
#![deny(unsafe_code)]

pub mod bias;
pub mod binary;
pub mod buildid;
pub mod cache;
pub mod candidates;
pub mod decls;
pub mod error;
pub mod load;
pub mod matching;
pub mod resolve;
pub mod symbolize;
pub mod symtab;

pub use bias::{BiasEstimate, recover_bias};
pub use binary::{Binary, BinaryInfo, LoadTimings};
pub use cache::Symbolizer;
pub use candidates::find_candidates;
pub use decls::{Decl, Decls};
pub use error::{Result, SymbolsError};
pub use load::BinaryFormat;
pub use matching::{Match, MatchOptions, Mismatch, match_trace};
pub use resolve::{Chain, ResolvedFrame};
pub use symbolize::{
    Disagreement, FuncDecl, Request, Source, Stats, SymbolizedFrames, symbolize, symbolize_trace,
};
pub use symtab::{FuncSymbol, SymbolTable, func_key};
