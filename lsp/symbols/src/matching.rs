//! Does this binary belong to this trace? A binary is accepted only if
//! (1) its Go build ID equals the one the caller expects, when the caller
//! knows one (traces themselves record no build ID), and (2) with the
//! recovered load bias, at least 99 % of the trace's distinct frames resolve
//! in DWARF to exactly the frame the trace records: the innermost DWARF
//! frame's function (compared with [`func_key`]), file and line. Function
//! names alone are not enough: a rebuild after an edit keeps most functions
//! where they were but moves lines, and a `-trimpath` build of the same
//! source has the same code with other paths. Anything else is a
//! [`Mismatch`] that says why — a binary from another build must never be
//! used to re-attribute a trace.
//!
//! This module only decides; `symbolize.rs` produces frames.

use std::collections::HashMap;
use std::path::PathBuf;

use goblock_trace::Tables;

use crate::bias::recover_bias;
use crate::binary::Binary;
use crate::symtab::{SymbolTable, func_key};

/// What recorded the frames being matched: every message about them
/// names them by it ("trace frames", "profile frames").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FrameOrigin {
    /// A Go execution trace.
    #[default]
    Trace,
    /// A pprof profile (block, mutex, goroutine).
    Profile,
}

impl FrameOrigin {
    /// The input's name in messages: `trace`, `profile`.
    pub fn noun(self) -> &'static str {
        match self {
            FrameOrigin::Trace => "trace",
            FrameOrigin::Profile => "profile",
        }
    }
}

impl std::fmt::Display for FrameOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.noun())
    }
}

/// Options of [`match_trace`].
#[derive(Clone, Debug)]
pub struct MatchOptions {
    /// The Go build ID the trace's binary must have, when known (e.g. the
    /// user configured it, or it came with the trace).
    pub expected_build_id: Option<String>,
    /// The GNU build ID (hex) the binary must have, when known (a pprof
    /// profile's mapping records it).
    pub expected_gnu_build_id: Option<String>,
    /// Minimum share of distinct frames whose function must agree.
    pub min_share: f64,
    /// What recorded the frames (for messages).
    pub origin: FrameOrigin,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            expected_build_id: None,
            expected_gnu_build_id: None,
            min_share: 0.99,
            origin: FrameOrigin::Trace,
        }
    }
}

/// An accepted binary: how to map the trace's PCs onto it.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// Run-time − link-time address; subtract from trace PCs.
    pub bias: u64,
    /// Distinct trace frames (pc ≠ 0, named) checked.
    pub frames_checked: usize,
    /// Of those, frames whose innermost DWARF frame equals the trace's
    /// (function, file, line).
    pub frames_matched: usize,
    /// `frames_matched / frames_checked`.
    pub matched_share: f64,
    /// Whether a build ID was compared (and equal).
    pub build_id_checked: bool,
    /// A few of the frames that did not agree, `trace → dwarf`.
    pub examples: Vec<String>,
    /// What recorded the frames (for messages).
    pub origin: FrameOrigin,
}

/// Why a binary was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Mismatch {
    /// The build IDs differ.
    #[error("{}: Go build ID {} differs from the expected {expected}", binary.display(), found.as_deref().unwrap_or("(none)"))]
    BuildId {
        /// The binary.
        binary: PathBuf,
        /// Its build ID.
        found: Option<String>,
        /// The expected one.
        expected: String,
    },
    /// The trace has no named frames to compare.
    #[error("{}: the {origin} records no stack frames to compare with", binary.display())]
    NoFrames {
        /// The binary.
        binary: PathBuf,
        /// What recorded the frames.
        origin: FrameOrigin,
    },
    /// None of the trace's functions are in the binary's symbol table.
    #[error(
        "{}: none of the {origin}'s {frames} functions are in this binary's symbol table (another program?)",
        binary.display()
    )]
    NoCommonFunctions {
        /// The binary.
        binary: PathBuf,
        /// What recorded the frames.
        origin: FrameOrigin,
        /// Distinct frames in the trace.
        frames: usize,
    },
    /// Too few frames resolve to the trace's own frames.
    #[error(
        "{}: only {matched} of {checked} {origin} frames ({:.1} %) resolve to the function, file and line the {origin} records (need {:.0} %); {}; e.g. {}",
        binary.display(), share * 100.0, need * 100.0, hint(*functions_matched, *checked), examples.join("; ")
    )]
    TooFewMatches {
        /// The binary.
        binary: PathBuf,
        /// What recorded the frames.
        origin: FrameOrigin,
        /// Agreeing frames (function, file and line).
        matched: usize,
        /// Frames whose function agrees (whatever the file and line).
        functions_matched: usize,
        /// Frames checked.
        checked: usize,
        /// `matched / checked`.
        share: f64,
        /// Required share.
        need: f64,
        /// Some disagreeing frames.
        examples: Vec<String>,
    },
    /// Under the best load bias, too few frames lie inside their
    /// function's symbol (found without reading DWARF).
    #[error(
        "{}: only {support} of {usable} {origin} frames lie in their function's symbol in this binary (another program or build)",
        binary.display()
    )]
    FewFramesInTheirSymbols {
        /// The binary.
        binary: PathBuf,
        /// What recorded the frames.
        origin: FrameOrigin,
        /// Frames inside their function's symbol.
        support: usize,
        /// Frames whose function the symbol table has.
        usable: usize,
    },
    /// DWARF could not be read while checking.
    #[error("{0}")]
    Unreadable(String),
}

/// Share of the usable frames (those whose function the symbol table has)
/// that must lie inside their function's symbol for [`prefilter`] to let a
/// binary through. Inlined frames lie in their caller's symbol, so the
/// right binary scores below 100 %: over every fixture trace of
/// `testdata/` and `testdata/linetruth/` against every binary there, the
/// right binaries scored 94.5–98.2 %, other programs and other Go
/// versions' builds of the same program at most 26.3 %
/// (`tests/cache_and_candidates.rs` checks a cross section).
pub const PREFILTER_MIN_SHARE: f64 = 0.5;

/// A first check with the symbol table alone (no DWARF, so no lines): the
/// binary is refused when, under the best load bias, fewer than
/// [`PREFILTER_MIN_SHARE`] of the trace's frames lie inside a symbol of
/// their function, or when it knows none of their functions. A binary that
/// passes still has to pass [`match_trace`]. A binary without symbols
/// passes (only DWARF can tell).
pub fn prefilter(
    binary: &std::path::Path,
    symbols: &SymbolTable,
    tables: &Tables,
    origin: FrameOrigin,
) -> Result<(), Mismatch> {
    if symbols.is_empty() {
        return Ok(());
    }
    let frames = distinct_frames(tables);
    let pairs: Vec<(&str, u64)> = frames.iter().map(|&(pc, (f, _, _))| (f, pc)).collect();
    if pairs.is_empty() {
        return Ok(());
    }
    let Some(est) = recover_bias(symbols, &pairs) else {
        return Err(Mismatch::NoCommonFunctions {
            binary: binary.to_path_buf(),
            origin,
            frames: pairs.len(),
        });
    };
    if (est.support as f64) < est.usable as f64 * PREFILTER_MIN_SHARE {
        return Err(Mismatch::FewFramesInTheirSymbols {
            binary: binary.to_path_buf(),
            origin,
            support: est.support,
            usable: est.usable,
        });
    }
    Ok(())
}

/// Distinct frames of the trace by PC, sorted by PC (first seen wins, as
/// in Go's reader): `(pc, (function, file, line))`.
pub(crate) fn distinct_frames(tables: &Tables) -> Vec<(u64, (&str, &str, u32))> {
    let mut by_pc: HashMap<u64, (&str, &str, u32)> = HashMap::new();
    for (_, f) in tables.frames() {
        let func = tables.str(f.func);
        if f.pc != 0 && !func.is_empty() {
            by_pc
                .entry(f.pc)
                .or_insert((func, tables.str(f.file), f.line));
        }
    }
    let mut frames: Vec<(u64, (&str, &str, u32))> = by_pc.into_iter().collect();
    frames.sort_unstable_by_key(|&(pc, _)| pc);
    frames
}

fn hint(functions_matched: usize, checked: usize) -> String {
    if functions_matched * 100 >= checked * 99 {
        format!(
            "{functions_matched} agree on the function but not the file or line: \
             the same program built from edited sources, in another directory, or with/without -trimpath"
        )
    } else {
        format!("only {functions_matched} agree even on the function: another program or build")
    }
}

/// Decides whether `bin` is the binary that wrote the trace in `tables`.
pub fn match_trace(bin: &Binary, tables: &Tables, opts: &MatchOptions) -> Result<Match, Mismatch> {
    let binary = bin.path().to_owned();
    let origin = opts.origin;
    let mut build_id_checked = false;
    if let Some(expected) = &opts.expected_build_id {
        if bin.build_id() != Some(expected.as_str()) {
            return Err(Mismatch::BuildId {
                binary,
                found: bin.build_id().map(str::to_owned),
                expected: expected.clone(),
            });
        }
        build_id_checked = true;
    }
    if let Some(expected) = &opts.expected_gnu_build_id {
        let found = bin.info().gnu_build_id.as_deref();
        if found != Some(expected.as_str()) {
            return Err(Mismatch::BuildId {
                binary,
                found: found.map(|f| format!("(GNU) {f}")),
                expected: format!("(GNU) {expected}"),
            });
        }
        build_id_checked = true;
    }

    let frames = distinct_frames(tables);
    if frames.is_empty() {
        return Err(Mismatch::NoFrames { binary, origin });
    }
    let pairs: Vec<(&str, u64)> = frames.iter().map(|&(pc, (f, _, _))| (f, pc)).collect();

    let bias = if bin.symbols().is_empty() {
        // No symbol table (but DWARF): only bias 0 can be checked.
        0
    } else {
        match recover_bias(bin.symbols(), &pairs) {
            Some(b) => b.bias,
            None => {
                return Err(Mismatch::NoCommonFunctions {
                    binary,
                    origin,
                    frames: pairs.len(),
                });
            }
        }
    };

    let addrs: Vec<u64> = pairs.iter().map(|&(_, pc)| pc.wrapping_sub(bias)).collect();
    let chains = bin
        .resolve_many(&addrs)
        .map_err(|e| Mismatch::Unreadable(e.to_string()))?;
    let (mut matched, mut functions_matched) = (0, 0);
    let mut examples = Vec::new();
    for (&(pc, (func, file, line)), chain) in frames.iter().zip(&chains) {
        let dwarf = chain.first();
        let same_func = dwarf.is_some_and(|d| func_key(&d.function) == func_key(func));
        let same = same_func && dwarf.is_some_and(|d| *d.file == *file && d.line == line);
        functions_matched += usize::from(same_func);
        matched += usize::from(same);
        if !same && examples.len() < 4 {
            examples.push(format!(
                "{pc:#x} {origin} {func} {file}:{line} vs binary {}",
                dwarf.map_or("(nothing)".into(), |d| format!(
                    "{} {}:{}",
                    d.function, d.file, d.line
                ))
            ));
        }
    }
    let checked = pairs.len();
    let share = matched as f64 / checked as f64;
    if share < opts.min_share {
        return Err(Mismatch::TooFewMatches {
            binary,
            origin,
            matched,
            functions_matched,
            checked,
            share,
            need: opts.min_share,
            examples,
        });
    }
    Ok(Match {
        bias,
        frames_checked: checked,
        frames_matched: matched,
        matched_share: share,
        build_id_checked,
        examples,
        origin,
    })
}
