//! `goblock report`: runs the analysis pipeline on trace files and prints
//! the hottest blocking lines as a table or as JSON (format documented in
//! docs/report.md, "JSON"). Rendering only; the analysis is in
//! goblock-analysis. Goroutine dumps and pprof profiles among the arguments
//! are handed to `report_inputs.rs`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use goblock_analysis::units;
use goblock_analysis::{
    AnalysisError, BinaryChoice, LineKey, LineStats, LineTable, Options, TraceAnalysis, Workspace,
};
use goblock_trace::Category;

use super::report_inputs;
use serde::Serialize;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable table, hottest lines first.
    Table,
    /// Stable JSON (see docs/report.md).
    Json,
}

/// What to report.
pub struct ReportArgs {
    /// Trace files.
    pub traces: Vec<PathBuf>,
    /// Workspace directories (default: the current directory).
    pub workspaces: Vec<PathBuf>,
    /// Binary to symbolize with.
    pub binary: BinaryChoice,
    /// Output format.
    pub format: Format,
    /// Categories to include.
    pub categories: Vec<Category>,
    /// Table rows.
    pub top: usize,
    /// Title printed above the table (demo).
    pub title: Option<String>,
    /// Also show lines in the runtime, standard library and dependencies
    /// (stacks without any user frame) in the table.
    pub library: bool,
    /// How trace files are opened (size limit).
    pub open: goblock_analysis::input::OpenOptions,
}

/// Parses `--categories` (comma-separated names or `all`).
pub fn parse_categories(s: &str) -> anyhow::Result<Vec<Category>> {
    if s == "all" {
        return Ok(Category::ALL.to_vec());
    }
    s.split(',')
        .filter(|c| !c.is_empty())
        .map(|c| {
            Category::parse(c.trim()).with_context(|| {
                format!("unknown category {c:?} (sync, net, syscall, sched, sleep, gc, other, all)")
            })
        })
        .collect()
}

/// Default categories of the report: everything but `sched`.
pub const DEFAULT_CATEGORIES: &str = "sync,net,syscall,sleep,gc,other";

/// Runs the report; returns the process exit code (0, or 1 if no trace could be read).
pub fn run(args: &ReportArgs, out: &mut dyn std::io::Write) -> anyhow::Result<i32> {
    let cwd = logical_cwd().context("current directory")?;
    // Relative roots are joined to the current directory as the user
    // reached it, so a symlink in it stays in the paths shown.
    let roots = if args.workspaces.is_empty() {
        vec![cwd.clone()]
    } else {
        args.workspaces.iter().map(|w| cwd.join(w)).collect()
    };
    let (goroot, gomodcache) = goblock_analysis::paths::go_env();
    let ws = Workspace::new(&roots, vec![], goroot, gomodcache);
    let mut analyses = Vec::new();
    let mut others = Vec::new();
    let mut failures = Vec::new();
    for (i, path) in args.traces.iter().enumerate() {
        let opts = Options {
            workspace: &ws,
            binary: args.binary.clone(),
            trace_index: i as u32,
            // The report prints totals only, of the categories asked for.
            details: false,
            categories: args.categories.iter().copied().collect(),
        };
        let input = goblock_analysis::input::open(path, &args.open);
        if let Ok(input) = &input
            && input.kind().is_dump_or_profile()
        {
            match report_inputs::analyze(input, &ws, &args.binary) {
                Ok(a) => others.push(a),
                Err(e) => failures.push(e),
            }
            continue;
        }
        let analysed = input.map_err(AnalysisError::from).and_then(|input| {
            goblock_analysis::analyze_input(&input, &opts, &mut |_, _, _| {
                std::ops::ControlFlow::Continue(())
            })
        });
        match analysed {
            Ok(a) => analyses.push(a),
            Err(AnalysisError::Cancelled) => unreachable!("never cancelled"),
            Err(e) => failures.push(e.to_string()),
        }
    }
    let mut table = LineTable::default();
    for a in &analyses {
        table.merge(&a.table);
    }
    match args.format {
        Format::Json => {
            let doc = json_document(&analyses, &others, &failures, &table, &args.categories);
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
        }
        Format::Table => {
            let mut text = if analyses.is_empty() {
                String::new()
            } else {
                render_table(args, &analyses, &table, ws.roots(), &cwd)
            };
            let display = |f: &str| display_path(f, ws.roots(), &cwd);
            let mut sources = SourceCache::default();
            for a in &others {
                text.push_str(&report_inputs::render(
                    a,
                    &args.categories,
                    args.top,
                    args.library,
                    &display,
                    &mut sources,
                ));
            }
            out.write_all(text.as_bytes())?;
        }
    }
    for f in &failures {
        eprintln!("goblock: {f}");
    }
    Ok(
        if analyses.is_empty() && others.is_empty() && !failures.is_empty() {
            1
        } else {
            0
        },
    )
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    traces: Vec<JsonInput<'a>>,
    lines: Vec<JsonAnyLine<'a>>,
    unmapped: Vec<JsonUnmapped<'a>>,
}

/// An entry of `traces`: a trace, or a dump/profile (`kind` tells).
#[derive(Serialize)]
#[serde(untagged)]
enum JsonInput<'a> {
    Trace(JsonTrace<'a>),
    Other(report_inputs::JsonInput),
}

/// An entry of `lines`.
#[derive(Serialize)]
#[serde(untagged)]
enum JsonAnyLine<'a> {
    Trace(JsonLine<'a>),
    Other(report_inputs::JsonLine),
}

/// A frame charged with blocking whose line is not shown in any file.
#[derive(Serialize)]
struct JsonUnmapped<'a> {
    /// The path as recorded in the trace or binary.
    file: &'a str,
    line: u32,
    function: &'a str,
    /// `not-found`, `past-end`, `function-missing`, `unreadable`.
    why: &'static str,
    /// The same in words.
    detail: String,
    /// The local file that was tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    candidate: Option<&'a str>,
    category: &'static str,
    reason: &'a str,
    flat: JsonCounts,
    open: JsonCounts,
}

#[derive(Serialize)]
struct JsonTrace<'a> {
    path: String,
    kind: &'static str,
    go_version: &'a str,
    bytes: u64,
    events: u64,
    duration_ns: u64,
    symbolization: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary: Option<String>,
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct JsonCounts {
    count: u64,
    total_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ns: Option<u64>,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    kind: &'static str,
    file: &'a str,
    line: u32,
    function: &'a str,
    category: &'static str,
    reason: &'a str,
    flat: JsonCounts,
    open: JsonCounts,
    cum: JsonCounts,
    goroutines: u64,
}

fn json_document<'a>(
    analyses: &'a [TraceAnalysis],
    others: &[report_inputs::Analysed],
    failures: &[String],
    table: &'a LineTable,
    cats: &[Category],
) -> JsonDoc<'a> {
    let mut traces: Vec<JsonInput<'a>> = analyses
        .iter()
        .map(|a| JsonTrace {
            path: a.path.display().to_string(),
            kind: "trace",
            go_version: &a.summary.go_version,
            bytes: a.summary.bytes,
            events: a.summary.events,
            duration_ns: a.summary.duration_ns,
            symbolization: a.symbolization.kind,
            binary: a
                .symbolization
                .binary
                .as_ref()
                .map(|b| b.display().to_string()),
            warnings: a
                .summary
                .warnings
                .iter()
                .map(ToString::to_string)
                .chain(a.symbolization.notes.iter().cloned())
                .collect(),
            error: None,
        })
        .map(JsonInput::Trace)
        .collect();
    traces.extend(
        others
            .iter()
            .map(|a| JsonInput::Other(report_inputs::json_input(a))),
    );
    for f in failures {
        traces.push(JsonInput::Trace(JsonTrace {
            path: f.split(": ").next().unwrap_or_default().to_owned(),
            kind: "unreadable",
            go_version: "",
            bytes: 0,
            events: 0,
            duration_ns: 0,
            symbolization: "none",
            binary: None,
            warnings: vec![],
            error: Some(f.clone()),
        }));
    }
    let selected: Vec<(&LineKey, &LineStats)> = table
        .hottest()
        .into_iter()
        .filter(|(k, _)| cats.contains(&k.category))
        .collect();
    let unmapped = selected
        .iter()
        .filter_map(|(k, s)| Some((k, s, s.unmapped.as_ref()?)))
        .filter(|(_, s, _)| s.has_flat())
        .map(|(k, s, u)| JsonUnmapped {
            file: &k.file,
            line: k.line,
            function: &s.function,
            why: u.code(),
            detail: u.to_string(),
            candidate: u.candidate(),
            category: k.category.as_str(),
            reason: &k.reason,
            flat: JsonCounts {
                count: s.flat.count,
                total_ns: s.flat.total_ns,
                max_ns: Some(s.flat_max_ns),
            },
            open: JsonCounts {
                count: s.open.count,
                total_ns: s.open.total_ns,
                max_ns: None,
            },
        })
        .collect();
    let mut lines: Vec<JsonAnyLine<'a>> = selected
        .into_iter()
        .filter(|(_, s)| s.unmapped.is_none())
        .map(|(k, s)| JsonLine {
            kind: "trace",
            file: &k.file,
            line: k.line,
            function: &s.function,
            category: k.category.as_str(),
            reason: &k.reason,
            flat: JsonCounts {
                count: s.flat.count,
                total_ns: s.flat.total_ns,
                max_ns: Some(s.flat_max_ns),
            },
            open: JsonCounts {
                count: s.open.count,
                total_ns: s.open.total_ns,
                max_ns: None,
            },
            cum: JsonCounts {
                count: s.cum.count,
                total_ns: s.cum.total_ns,
                max_ns: None,
            },
            goroutines: s.goroutines,
        })
        .map(JsonAnyLine::Trace)
        .collect();
    for (j, a) in others.iter().enumerate() {
        lines.extend(
            report_inputs::json_lines(a, analyses.len() + j, cats)
                .into_iter()
                .map(JsonAnyLine::Other),
        );
    }
    JsonDoc {
        traces,
        lines,
        unmapped,
    }
}

/// Unmapped lines listed under the table.
const UNMAPPED_ROWS: usize = 5;

fn render_table(
    args: &ReportArgs,
    analyses: &[TraceAnalysis],
    table: &LineTable,
    roots: &[PathBuf],
    cwd: &Path,
) -> String {
    let mut o = String::new();
    if let Some(t) = &args.title {
        let _ = writeln!(o, "{t}\n");
    }
    for a in analyses {
        let s = &a.summary;
        let _ = writeln!(
            o,
            "{}: go {} trace, {:.1} MB, {} events, {}, frames from {}{}",
            a.path.display(),
            s.go_version,
            s.bytes as f64 / 1e6,
            s.events,
            units::duration(s.duration_ns),
            a.symbolization.kind,
            a.symbolization
                .binary
                .as_ref()
                .map(|b| format!(" ({})", b.display()))
                .unwrap_or_default()
        );
        for w in &s.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        for n in &a.symbolization.notes {
            let _ = writeln!(o, "  note: {n}");
        }
    }
    let candidates: Vec<(&LineKey, &LineStats)> = table
        .hottest()
        .into_iter()
        .filter(|(k, s)| args.categories.contains(&k.category) && s.has_flat())
        .collect();
    // Frames whose line cannot be shown in any file are listed apart.
    let (unmapped, candidates): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|(_, s)| s.unmapped.is_some());
    let unmapped: Vec<(&LineKey, &LineStats)> = unmapped
        .into_iter()
        .filter(|(_, s)| args.library || !s.library)
        .collect();
    let hidden = candidates
        .iter()
        .filter(|(_, s)| s.library && !args.library)
        .count();
    let rows: Vec<(&LineKey, &LineStats)> = candidates
        .into_iter()
        .filter(|(_, s)| args.library || !s.library)
        .take(args.top)
        .collect();
    if rows.is_empty() && unmapped.is_empty() {
        if !analyses.is_empty() {
            let _ = writeln!(o, "\nno blocking in the selected categories");
        }
        return o;
    }
    let mut sources = SourceCache::default();
    let mut grid = vec![[
        "TOTAL".to_string(),
        "COUNT".into(),
        "MAX".into(),
        "OPEN".into(),
        "CATEGORY".into(),
        "REASON".into(),
        "LOCATION".into(),
        "SOURCE".into(),
    ]];
    for (k, s) in &rows {
        let loc = format!("{}:{}", display_path(&k.file, roots, cwd), k.line);
        let open = if s.open.count > 0 {
            format!("{} of them", s.open.count)
        } else {
            "-".into()
        };
        grid.push([
            units::duration(s.total_ns()),
            (s.flat.count + s.open.count).to_string(),
            if s.flat.count > 0 {
                units::duration(s.flat_max_ns)
            } else {
                "-".into()
            },
            open,
            k.category.as_str().into(),
            k.reason.to_string(),
            loc,
            sources.line(&k.file, k.line).unwrap_or_default(),
        ]);
    }
    let mut widths = [0usize; 8];
    for r in &grid {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let _ = writeln!(o);
    for r in &grid {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i == 7 {
                line.push_str(c);
            } else if i < 3 {
                let _ = write!(line, "{:>w$}  ", c, w = widths[i]);
            } else {
                let _ = write!(line, "{:<w$}  ", c, w = widths[i]);
            }
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
    let shown: u64 = rows.iter().map(|(_, s)| s.flat.total_ns).sum();
    let _ = writeln!(
        o,
        "\nTOTAL and COUNT include OPEN episodes: goroutines already blocked when the trace began or still blocked when it ended (time clamped to the trace)."
    );
    let all = table.total_ns(&args.categories);
    if all > 0 {
        let _ = writeln!(
            o,
            "{} lines shown hold {:.1} % of {} closed blocking time in {}",
            rows.len(),
            shown as f64 * 100.0 / all as f64,
            units::duration(all),
            args.categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    if !unmapped.is_empty() {
        let ns: u64 = unmapped.iter().map(|(_, s)| s.total_ns()).sum();
        let _ = writeln!(
            o,
            "\n{} blocking lines ({}) are not shown in any file: their recorded file is not on this machine, or the file found does not have the line or function (`--format json` lists them under \"unmapped\"):",
            unmapped.len(),
            units::duration(ns)
        );
        for (k, s) in unmapped.iter().take(UNMAPPED_ROWS) {
            let why = s
                .unmapped
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "  {:>9}  {}:{} ({}, {}): {}",
                units::duration(s.total_ns()),
                k.file,
                k.line,
                s.function,
                k.reason,
                why
            );
        }
        if unmapped.len() > UNMAPPED_ROWS {
            let _ = writeln!(o, "  … and {} more", unmapped.len() - UNMAPPED_ROWS);
        }
    }
    if hidden > 0 {
        let _ = writeln!(
            o,
            "{hidden} lines of stacks without user code (runtime, library goroutines) not shown; --library shows them"
        );
    }
    o
}

/// The current directory as the user reached it: `$PWD` when it names the
/// same directory as the resolved one (a shell `cd` through a symlink keeps
/// the link there), else the resolved path.
fn logical_cwd() -> std::io::Result<PathBuf> {
    let real = std::env::current_dir()?;
    if let Some(pwd) = std::env::var_os("PWD").map(PathBuf::from)
        && pwd.is_absolute()
        && std::fs::canonicalize(&pwd).is_ok_and(|p| p == real)
    {
        return Ok(pwd);
    }
    Ok(real)
}

/// A file shown relative to the current directory or a workspace root (both
/// in the form the user gave them: symlinks kept).
fn display_path(file: &str, roots: &[PathBuf], cwd: &Path) -> String {
    let p = Path::new(file);
    for base in std::iter::once(cwd).chain(roots.iter().map(|r| r.as_path())) {
        if let Ok(rel) = p.strip_prefix(base) {
            return rel.display().to_string();
        }
    }
    file.to_owned()
}

/// Source lines read for the table, per file.
#[derive(Default)]
pub struct SourceCache {
    files: HashMap<String, Option<Vec<String>>>,
}

impl SourceCache {
    /// The trimmed text of a 1-based line (shortened), if the file reads.
    pub fn line(&mut self, file: &str, line: u32) -> Option<String> {
        let lines = self.files.entry(file.to_owned()).or_insert_with(|| {
            std::fs::read_to_string(file)
                .ok()
                .map(|t| t.lines().map(str::to_owned).collect())
        });
        let text = lines.as_ref()?.get((line as usize).checked_sub(1)?)?;
        let t = text.trim();
        Some(if t.chars().count() > 60 {
            format!("{}…", t.chars().take(59).collect::<String>())
        } else {
            t.to_owned()
        })
    }
}
