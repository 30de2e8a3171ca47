//! The analysis pipeline for one trace file: open (see [`crate::input`]) → decode into
//! per-stack statistics → symbolize (DWARF of the traced binary, or the
//! trace's own frames) → attribute to per-line statistics.
//!
//! Calls the earlier stages as libraries, in order; data only flows forward.
//! Reports progress per stage and can be cancelled. Knows nothing of LSP or
//! output formats.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use goblock_trace::{Categories, DecodeError, Tables, Threads, TraceSummary};

use crate::attribute::{Attributor, FrameView};
use crate::input::{Input, InputError};
use crate::lines::LineTable;
use crate::paging::Paging;
use crate::paths::Workspace;
use crate::stack_stats::StackAggregator;

/// A pipeline stage, for progress reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Reading and decoding the trace.
    Decode,
    /// Resolving frames through the binary's DWARF.
    Symbolize,
    /// Attributing stacks to lines.
    Attribute,
}

/// Which binary symbolizes the trace.
#[derive(Clone, Debug, Default)]
pub enum BinaryChoice {
    /// Look for candidates (executables, `*.test`) in the workspace roots.
    #[default]
    Auto,
    /// This file (refused if it does not match the trace).
    Path(PathBuf),
    /// These files, in this order: the first that matches the trace is
    /// used, the others are refused with the reason (`goblock.binaries`).
    Paths(Vec<PathBuf>),
    /// Use the trace's own frames.
    None,
}

impl BinaryChoice {
    /// The binaries named, in the order they are tried (empty: look for
    /// candidates, or none at all).
    pub fn binaries(&self) -> Vec<PathBuf> {
        match self {
            BinaryChoice::Path(p) => vec![p.clone()],
            BinaryChoice::Paths(v) => v.clone(),
            BinaryChoice::Auto | BinaryChoice::None => Vec::new(),
        }
    }
}

/// How the frames of a trace were resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbolization {
    /// `"dwarf"` or `"trace"`.
    pub kind: &'static str,
    /// The binary used, if any.
    pub binary: Option<PathBuf>,
    /// Why no binary was used / what was refused (human readable).
    pub notes: Vec<String>,
    /// With a binary used: the other candidates tried before it and not
    /// used, each with why (a short count is enough where space is short).
    pub passed_over: Vec<String>,
    /// How many candidates `passed_over` speaks of.
    pub passed_over_count: usize,
    /// The input records no stack frame: no binary was tried (one given
    /// is neither right nor wrong for it).
    pub nothing_to_symbolize: bool,
}

impl Symbolization {
    /// Every note, the candidates passed over first (in the order tried).
    pub fn all_notes(&self) -> impl Iterator<Item = &String> {
        self.passed_over.iter().chain(&self.notes)
    }

    /// "2 other candidates refused": the candidates passed over, counted
    /// (`None` when there were none).
    pub fn passed_over_summary(&self) -> Option<String> {
        match self.passed_over_count {
            0 => None,
            1 => Some("1 other candidate refused".into()),
            n => Some(format!("{n} other candidates refused")),
        }
    }

    /// Frames as recorded in the trace.
    pub fn trace(note: impl Into<String>) -> Self {
        Symbolization {
            kind: "trace",
            binary: None,
            notes: vec![note.into()],
            passed_over: Vec::new(),
            passed_over_count: 0,
            nothing_to_symbolize: false,
        }
    }
}

/// Everything known about one analysed trace.
#[derive(Debug)]
pub struct TraceAnalysis {
    /// The trace file.
    pub path: PathBuf,
    /// The decoder's summary (version, sizes, warnings).
    pub summary: TraceSummary,
    /// How frames were resolved.
    pub symbolization: Symbolization,
    /// Per-line statistics.
    pub table: LineTable,
    /// Episodes decoded (of the [`Options::categories`] analysed).
    pub episodes: u64,
    /// Declaration (file as recorded, line of `func`) of every function the
    /// binary's DWARF describes — empty without a binary. Used to notice that
    /// sources changed since the build and to re-anchor annotations.
    pub functions: HashMap<Arc<str>, FunctionDecl>,
}

/// Where a function is declared, per the binary's DWARF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDecl {
    /// Source file as recorded in DWARF.
    pub file: Arc<str>,
    /// Line of the `func` keyword.
    pub line: u32,
}

/// Analysis failures (the trace could not be read or decoded at all).
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The file could not be opened as a trace (see [`crate::input`]).
    #[error(transparent)]
    Input(#[from] InputError),
    /// I/O error on the trace file.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The decoder refused the file.
    #[error("{path}: {source}")]
    Decode {
        /// File.
        path: PathBuf,
        /// Cause.
        source: DecodeError,
    },
    /// Cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
}

/// Options of [`analyze_file`].
pub struct Options<'a> {
    /// The workspace (attribution and path mapping).
    pub workspace: &'a Workspace,
    /// The binary to symbolize with.
    pub binary: BinaryChoice,
    /// Index of this trace among those loaded together.
    pub trace_index: u32,
    /// Keep, per line, the duration histogram, the wakers and the longest
    /// episodes (hovers and hints need them; `goblock report` prints none,
    /// and skipping them saves a third of the per-episode folding).
    pub details: bool,
    /// The categories to analyse: the decoder builds no episode of the
    /// others, so no statistics exist for them (`goblock report` leaves
    /// out `sched` unless asked). [`Categories::ALL`] for everything.
    pub categories: Categories,
    /// The decoder's threads ([`Threads::Auto`]: as many as pay off; the
    /// language server bounds their memory with [`Threads::Within`]).
    pub threads: Threads,
}

/// Analyses a trace file: opens it with [`crate::input::open`] (default
/// options: the file itself is mapped) and runs [`analyze_input`].
pub fn analyze_file(
    path: &Path,
    opts: &Options<'_>,
    progress: &mut dyn FnMut(Stage, u64, u64) -> ControlFlow<()>,
) -> Result<TraceAnalysis, AnalysisError> {
    let input = crate::input::open(path, &crate::input::OpenOptions::default())?;
    analyze_input(&input, opts, progress)
}

/// Analyses an opened input, its pages released behind the decoder and
/// asked for ahead of it ([`Paging`]).
pub fn analyze_input(
    input: &Input,
    opts: &Options<'_>,
    progress: &mut dyn FnMut(Stage, u64, u64) -> ControlFlow<()>,
) -> Result<TraceAnalysis, AnalysisError> {
    if !input.kind().is_trace() {
        return Err(InputError::NotATrace {
            path: input.path().to_path_buf(),
            kind: input.kind(),
        }
        .into());
    }
    let mut paging = Paging::new(input);
    let mut release = |done: u64| paging.advance(done);
    let arriving = input.arriving();
    let waited = arriving.is_some();
    let res = analyze_bytes_with(
        input.path(),
        input.bytes(),
        arriving,
        opts,
        progress,
        &mut release,
    );
    match res {
        // Bytes of a copy that failed meanwhile (the file was rewritten):
        // that is what to say, not what decoding them gave.
        Err(e @ AnalysisError::Decode { .. }) if waited => {
            Err(input.copy_failure().map_or(e, AnalysisError::Input))
        }
        Err(AnalysisError::Cancelled) if waited && input.copy_failed_now() => Err(input
            .copy_failure()
            .map_or(AnalysisError::Cancelled, AnalysisError::Input)),
        res => res,
    }
}

/// Analyses trace bytes already in memory.
pub fn analyze_bytes(
    path: &Path,
    bytes: &[u8],
    opts: &Options<'_>,
    progress: &mut dyn FnMut(Stage, u64, u64) -> ControlFlow<()>,
) -> Result<TraceAnalysis, AnalysisError> {
    analyze_bytes_with(path, bytes, None, opts, progress, &mut |_| {})
}

fn analyze_bytes_with(
    path: &Path,
    bytes: &[u8],
    arriving: Option<Arc<dyn goblock_trace::Arriving>>,
    opts: &Options<'_>,
    progress: &mut dyn FnMut(Stage, u64, u64) -> ControlFlow<()>,
    release: &mut dyn FnMut(u64),
) -> Result<TraceAnalysis, AnalysisError> {
    let mut tables = Tables::new();
    let mut on_progress = |done: u64, total: u64| {
        release(done);
        progress(Stage::Decode, done, total)
    };
    let mut agg = StackAggregator::new(opts.trace_index).with_progress(&mut on_progress);
    if !opts.details {
        agg = agg.totals_only();
    }
    agg = agg.only(opts.categories);
    let summary =
        goblock_trace::decode_arriving(bytes, &mut tables, &mut agg, opts.threads, arriving)
            .map_err(|e| match e {
                DecodeError::Cancelled => AnalysisError::Cancelled,
                source => AnalysisError::Decode {
                    path: path.to_path_buf(),
                    source,
                },
            })?;
    let episodes = agg.episodes();
    let stats = agg.into_stats();
    if progress(Stage::Symbolize, 0, 1).is_break() {
        return Err(AnalysisError::Cancelled);
    }
    let frames = match &opts.binary {
        BinaryChoice::None => goblock_symbols::SymbolizedFrames::trace_only(vec![
            "symbolization disabled; using the trace's frames".into(),
        ]),
        choice => {
            let req = goblock_symbols::Request {
                binaries: choice.binaries(),
                workspace: opts.workspace.roots().to_vec(),
                ..Default::default()
            };
            goblock_symbols::symbolize_trace(
                goblock_symbols::Symbolizer::global(),
                &mut tables,
                &req,
            )
        }
    };
    let symbolization = Symbolization {
        kind: frames.source.as_str(),
        binary: frames.binary.clone(),
        notes: frames.notes.clone(),
        passed_over: frames.passed_over.clone(),
        passed_over_count: frames.passed_over_count,
        nothing_to_symbolize: frames.nothing_to_symbolize,
    };
    let mut functions = HashMap::new();
    for (func, decl) in frames.decls() {
        functions.insert(
            Arc::<str>::from(tables.str(func)),
            FunctionDecl {
                file: tables.str(decl.file).into(),
                line: decl.line,
            },
        );
    }
    if progress(Stage::Attribute, 0, 1).is_break() {
        return Err(AnalysisError::Cancelled);
    }
    let remap = |id| frames.frame(id);
    let view = FrameView::remapped(&tables, &remap);
    let mut attributor = Attributor::new(opts.workspace, view);
    let table = LineTable::build(&stats, &tables, &mut attributor, opts.trace_index);
    Ok(TraceAnalysis {
        path: path.to_path_buf(),
        summary,
        symbolization,
        table,
        episodes,
        functions,
    })
}
