//! Trace frames → DWARF frames, in the decoder's own frame model.
//!
//! The runtime already expands inlining: every logical frame of a trace
//! stack has its own PC (physical frames: return address − 1; inlined
//! callers: the inline mark's PC). So each trace frame maps to the
//! *innermost* DWARF frame of its PC (minus the load bias) — as is, no
//! further −1: the fixtures showed every recorded PC resolving to its
//! recorded line unadjusted. The rest of DWARF's inline chain is used only to
//! check the trace: frame *i*'s chain must name the functions and lines of
//! frames *i+1…* (its inlined callers).
//!
//! Output: for every distinct trace frame a frame interned in the same
//! [`Tables`] (same PC; DWARF function, file, line) — identical to the
//! trace's `FrameId` when they agree — plus per-function declarations and
//! agreement statistics. [`symbolize_trace`] is the complete entry point
//! (pick or accept a binary, match, symbolize, or fall back to the trace's
//! frames and say why). No report formatting, no LSP.

use std::collections::HashMap;
use std::path::PathBuf;

use goblock_trace::{Frame, FrameId, StackId, Sym, Tables};

use crate::binary::Binary;
use crate::cache::Symbolizer;
use crate::candidates::find_candidates;
use crate::error::Result;
use crate::matching::{Match, MatchOptions, match_trace};
use crate::resolve::Chain;
use crate::symtab::func_key;

/// Where the frames came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The binary's DWARF (a matching binary was found).
    Dwarf,
    /// The trace's own frames (no usable binary).
    Trace,
}

impl Source {
    /// `"dwarf"` or `"trace"`, as the report prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Dwarf => "dwarf",
            Source::Trace => "trace",
        }
    }
}

/// A function's declaration, interned in the trace's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncDecl {
    /// Source file (DWARF `decl_file`, else the file of its frames).
    pub file: Sym,
    /// Line of the `func` keyword.
    pub line: u32,
}

/// A trace frame DWARF does not agree with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// The trace's frame.
    pub trace: FrameId,
    /// DWARF's frame for the same PC (`None`: DWARF has nothing there).
    pub dwarf: Option<FrameId>,
}

/// Agreement counts between the trace's frames and DWARF.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Distinct trace frames with a PC.
    pub frames: usize,
    /// Of those, resolved by DWARF (a function and a line).
    pub resolved: usize,
    /// Of those, same function (by [`func_key`]), file and line.
    pub identical: usize,
    /// Inline-chain links checked (DWARF caller vs the next trace frame).
    pub chain_links: usize,
    /// Of those, same function and line.
    pub chain_agree: usize,
}

/// The symbolizer's output for one trace.
#[derive(Clone, Debug)]
pub struct SymbolizedFrames {
    /// DWARF or the trace's own frames.
    pub source: Source,
    /// The binary used (DWARF only).
    pub binary: Option<PathBuf>,
    /// Its Go build ID.
    pub build_id: Option<String>,
    /// The load bias applied (run-time − link-time).
    pub bias: u64,
    /// What happened: the binary used and why, or every refusal.
    pub notes: Vec<String>,
    /// Agreement statistics (zero in trace mode).
    pub stats: Stats,
    /// Trace frames DWARF disagrees with.
    pub disagreements: Vec<Disagreement>,
    /// Chain links that disagree: (stack, index of the frame whose chain
    /// was checked, index of the trace frame that differs).
    pub chain_disagreements: Vec<(StackId, usize, usize)>,
    map: HashMap<FrameId, FrameId>,
    decls: HashMap<Sym, FuncDecl>,
}

impl SymbolizedFrames {
    /// Trace mode: every frame is its own, no declarations.
    pub fn trace_only(notes: Vec<String>) -> SymbolizedFrames {
        SymbolizedFrames {
            source: Source::Trace,
            binary: None,
            build_id: None,
            bias: 0,
            notes,
            stats: Stats::default(),
            disagreements: Vec::new(),
            chain_disagreements: Vec::new(),
            map: HashMap::new(),
            decls: HashMap::new(),
        }
    }

    /// The frame to use for trace frame `id` (DWARF's, or `id` itself).
    pub fn frame(&self, id: FrameId) -> FrameId {
        self.map.get(&id).copied().unwrap_or(id)
    }

    /// Declaration of the function named `func` (a `Sym` of the same
    /// tables; trace or DWARF spelling).
    pub fn decl(&self, func: Sym) -> Option<FuncDecl> {
        self.decls.get(&func).copied()
    }

    /// All declarations, by function name.
    pub fn decls(&self) -> impl Iterator<Item = (Sym, FuncDecl)> + '_ {
        self.decls.iter().map(|(&k, &v)| (k, v))
    }

    /// Share of frames identical to the trace's (1.0 when there are none).
    pub fn agreement(&self) -> f64 {
        if self.stats.frames == 0 {
            1.0
        } else {
            self.stats.identical as f64 / self.stats.frames as f64
        }
    }
}

/// DWARF frames for every distinct frame of `tables`, using an accepted
/// [`Match`]. New strings and frames are interned into `tables`.
pub fn symbolize(bin: &Binary, m: &Match, tables: &mut Tables) -> Result<SymbolizedFrames> {
    let frames: Vec<(FrameId, Frame)> = tables
        .frames()
        .filter(|(_, f)| f.pc != 0)
        .map(|(id, f)| (id, *f))
        .collect();
    let addrs: Vec<u64> = frames
        .iter()
        .map(|(_, f)| f.pc.wrapping_sub(m.bias))
        .collect();
    let chains = bin.resolve_many(&addrs)?;
    let chain_of: HashMap<FrameId, &Chain> = frames
        .iter()
        .map(|(id, _)| *id)
        .zip(chains.iter())
        .collect();

    let mut out = SymbolizedFrames::trace_only(Vec::new());
    out.source = Source::Dwarf;
    out.binary = Some(bin.path().to_owned());
    out.build_id = bin.build_id().map(str::to_owned);
    out.bias = m.bias;
    out.stats.frames = frames.len();
    let mut decl_names: HashMap<Sym, (String, Sym)> = HashMap::new();

    for ((id, f), chain) in frames.iter().zip(&chains) {
        // DWARF without a line here (Go's line tables skip the first bytes
        // of some functions): nothing to offer, keep the trace's frame.
        let Some(inner) = chain.first().filter(|f| f.line > 0) else {
            out.disagreements.push(Disagreement {
                trace: *id,
                dwarf: None,
            });
            continue;
        };
        out.stats.resolved += 1;
        let key = func_key(&inner.function);
        // Keep the trace's spelling when it names the same function (the
        // runtime prints generics as `[...]` and drops ABI suffixes).
        let func = if func_key(tables.str(f.func)) == key {
            f.func
        } else {
            tables.intern_str(&key)
        };
        let file = tables.intern_str(&inner.file);
        let dwarf = Frame {
            pc: f.pc,
            func,
            file,
            line: inner.line,
        };
        let did = tables.intern_frame(dwarf);
        if did == *id {
            out.stats.identical += 1;
        } else {
            out.disagreements.push(Disagreement {
                trace: *id,
                dwarf: Some(did),
            });
        }
        out.map.insert(*id, did);
        decl_names
            .entry(func)
            .or_insert_with(|| (inner.function.to_string(), file));
    }

    // Inline chains against the stacks.
    for s in 0..tables.stack_count() {
        let sid = StackId(s as u32);
        let stack = tables.stack(sid);
        for (i, fid) in stack.iter().enumerate() {
            let Some(chain) = chain_of.get(fid) else {
                continue;
            };
            for (k, link) in chain.iter().enumerate().skip(1) {
                let Some(next) = stack.get(i + k) else { break };
                let t = tables.frame(*next);
                out.stats.chain_links += 1;
                if func_key(tables.str(t.func)) == func_key(&link.function) && t.line == link.line {
                    out.stats.chain_agree += 1;
                } else {
                    out.chain_disagreements.push((sid, i, i + k));
                }
            }
        }
    }

    // Declarations of every function seen.
    for (func, (dwarf_name, frame_file)) in decl_names {
        if let Some(d) = bin.decl(&dwarf_name) {
            let file = match &d.file {
                Some(f) => tables.intern_str(f),
                None => frame_file,
            };
            out.decls.insert(func, FuncDecl { file, line: d.line });
        }
    }
    out.notes.push(format!(
        "symbolized with DWARF from {} (build ID {}, bias {:#x}; {} of {} trace frames match by function)",
        bin.path().display(),
        bin.build_id().unwrap_or("none"),
        m.bias,
        m.frames_matched,
        m.frames_checked
    ));
    Ok(out)
}

/// What [`symbolize_trace`] should try.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// `--binary FILE`: use this one (and only this one).
    pub binary: Option<PathBuf>,
    /// Otherwise search these directories for candidates.
    pub workspace: Vec<PathBuf>,
    /// Acceptance rules.
    pub options: MatchOptions,
}

/// The complete symbolization step: open the requested binary (or the
/// workspace's candidates, newest first), accept the first that matches the
/// trace, symbolize with it; without one, fall back to the trace's own
/// frames. Never fails: every refusal is a note in the result.
pub fn symbolize_trace(
    symbolizer: &Symbolizer,
    tables: &mut Tables,
    req: &Request,
) -> SymbolizedFrames {
    let mut notes = Vec::new();
    let candidates = match &req.binary {
        Some(b) => vec![b.clone()],
        None => {
            let c = find_candidates(&req.workspace);
            if c.is_empty() {
                notes.push(format!(
                    "no Go binary found in {}",
                    req.workspace
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            c
        }
    };
    for path in candidates {
        let bin = match symbolizer.open(&path) {
            Ok(b) => b,
            Err(e) => {
                notes.push(format!("not used: {e}"));
                continue;
            }
        };
        let m = match match_trace(&bin, tables, &req.options) {
            Ok(m) => m,
            Err(e) => {
                notes.push(format!("refused: {e}"));
                continue;
            }
        };
        match symbolize(&bin, &m, tables) {
            Ok(mut s) => {
                notes.append(&mut s.notes);
                s.notes = notes;
                return s;
            }
            Err(e) => notes.push(format!("not used: {e}")),
        }
    }
    notes.push("using the trace's own frames".into());
    SymbolizedFrames::trace_only(notes)
}
