//! `goblock report`: runs the analysis pipeline on trace files and prints
//! the hottest blocking lines as a table or as JSON (format documented in
//! docs/report.md, "JSON"). Rendering only; the analysis is in
//! goblock-analysis. Goroutine dumps and pprof profiles among the arguments
//! are handed to `report_inputs.rs`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use goblock_analysis::input::{Kind, io_reason};
use goblock_analysis::units;
use goblock_analysis::{
    AnalysisError, BinaryChoice, CodeClass, LineKey, LineStats, LineTable, Options, TraceAnalysis,
    Workspace,
};
use goblock_server::on_disk::OnDisk;
use goblock_server::stale::BuiltDecls;
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

/// Checks what must hold before any input is read: each `--workspace` is a
/// directory, `--binary` a readable executable file. An error here is a
/// usage error (exit status 2).
fn check_args(args: &ReportArgs, cwd: &Path) -> anyhow::Result<()> {
    for w in &args.workspaces {
        let p = cwd.join(w);
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => {
                // Its files are searched: a directory that cannot be
                // listed would map nothing, silently.
                if let Err(e) = std::fs::read_dir(&p) {
                    anyhow::bail!("--workspace {}: {}", w.display(), io_reason(&e));
                }
            }
            Ok(_) => anyhow::bail!("--workspace {}: not a directory", w.display()),
            Err(e) => anyhow::bail!("--workspace {}: {}", w.display(), io_reason(&e)),
        }
    }
    if let BinaryChoice::Path(b) = &args.binary {
        let m = std::fs::metadata(cwd.join(b))
            .map_err(|e| anyhow::anyhow!("--binary {}: {}", b.display(), io_reason(&e)))?;
        if !m.is_file() {
            anyhow::bail!("--binary {}: not a regular file", b.display());
        }
        // What it is, by its first bytes (as inputs are told apart).
        let mut head = Vec::new();
        std::fs::File::open(cwd.join(b))
            .and_then(|f| {
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(f, goblock_analysis::input::SNIFF_BYTES as u64),
                    &mut head,
                )
            })
            .map_err(|e| anyhow::anyhow!("--binary {}: {}", b.display(), io_reason(&e)))?;
        let kind = goblock_analysis::input::sniff(&head);
        if !matches!(kind, Kind::Elf | Kind::MachO | Kind::Pe) {
            anyhow::bail!(
                "--binary {}: {}, not an executable (ELF, Mach-O or PE); give the binary that wrote the trace, or --no-binary",
                b.display(),
                kind.describe()
            );
        }
    }
    Ok(())
}

/// A `--binary` the user named that did not write one of the traces or
/// profiles (another build, another program) is a usage error, said in
/// one line before anything is printed; a binary found by discovery is
/// only noted.
fn refuse_unused_binary(
    args: &ReportArgs,
    traces: &[TraceAnalysis],
    others: &[report_inputs::Analysed],
) -> anyhow::Result<()> {
    let BinaryChoice::Path(b) = &args.binary else {
        return Ok(());
    };
    let inputs = traces
        .iter()
        .map(|a| (a.path.as_path(), &a.symbolization))
        .chain(
            others
                .iter()
                .filter_map(report_inputs::Analysed::symbolization),
        );
    for (path, s) in inputs {
        // Used, or nothing to symbolize (an empty profile, a trace cut
        // before its stacks): not against the binary.
        if s.binary.is_some() || s.nothing_to_symbolize {
            continue;
        }
        let bin = b.display().to_string();
        let why = s
            .notes
            .iter()
            .find_map(|n| n.strip_prefix("refused: ").or(n.strip_prefix("not used: ")))
            .map(|n| n.strip_prefix(&format!("{bin}: ")).unwrap_or(n))
            .unwrap_or("not used");
        anyhow::bail!(
            "--binary {bin}: did not write {}: {why}; give the binary that wrote it, or --no-binary",
            path.display()
        );
    }
    Ok(())
}

/// Runs the report; returns the process exit code (0, or 1 if no input
/// could be used: read, with data); usage errors (a missing `--workspace` or `--binary`)
/// are errors (exit status 2).
pub fn run(args: &ReportArgs, out: &mut dyn std::io::Write) -> anyhow::Result<i32> {
    let cwd = logical_cwd().context("current directory")?;
    check_args(args, &cwd)?;
    // Relative roots are joined to the current directory as the user
    // reached it, so a symlink in it stays in the paths shown.
    let roots = if args.workspaces.is_empty() {
        vec![cwd.clone()]
    } else {
        args.workspaces.iter().map(|w| cwd.join(w)).collect()
    };
    let ws = Workspace::with_go_env(&roots, vec![]);
    let mut analyses = Vec::new();
    let mut others = Vec::new();
    let mut failures = Vec::new();
    // Where each argument's outcome went: the JSON lists inputs in
    // argument order.
    let mut order = Vec::new();
    for (i, path) in args.traces.iter().enumerate() {
        let opts = Options {
            workspace: &ws,
            binary: args.binary.clone(),
            trace_index: i as u32,
            // The report prints totals only, of the categories asked for.
            details: false,
            categories: args.categories.iter().copied().collect(),
            threads: goblock_trace::Threads::Auto,
        };
        let input = goblock_analysis::input::open(path, &args.open);
        if let Ok(input) = &input
            && input.kind().is_dump_or_profile()
        {
            match report_inputs::analyze(input, &ws, &args.binary) {
                Ok(a) => {
                    order.push(Slot::Other(others.len()));
                    others.push(a);
                }
                Err(e) => {
                    order.push(Slot::Failed(failures.len()));
                    failures.push(e);
                }
            }
            continue;
        }
        let analysed = input.map_err(AnalysisError::from).and_then(|input| {
            goblock_analysis::analyze_input(&input, &opts, &mut |_, _, _| {
                std::ops::ControlFlow::Continue(())
            })
        });
        match analysed {
            Ok(a) => {
                order.push(Slot::Trace(analyses.len()));
                analyses.push(a);
            }
            Err(AnalysisError::Cancelled) => unreachable!("never cancelled"),
            Err(e) => {
                order.push(Slot::Failed(failures.len()));
                failures.push(e.to_string());
            }
        }
    }
    refuse_unused_binary(args, &analyses, &others)?;
    // Where the recorded lines are in the sources now (edited since the
    // inputs that gave lines were recorded?).
    let inputs: Vec<PathBuf> = analyses
        .iter()
        .filter(|a| !yielded_nothing(a))
        .map(|a| a.path.clone())
        .chain(others.iter().map(|a| a.path().to_path_buf()))
        .collect();
    let mut on_disk = OnDisk::new(BuiltDecls::of_traces(&analyses), &inputs);
    let mut table = LineTable::default();
    for a in &analyses {
        table.merge(&a.table);
    }
    let hints: Vec<String> = workspace_hint(&table, args, &ws).into_iter().collect();
    match args.format {
        Format::Json => {
            let mut doc = json_document(
                &analyses,
                &others,
                &failures,
                &order,
                &table,
                args,
                &mut on_disk,
            );
            doc.hints = hints;
            // Buffered: stdout is line-buffered, and a dump's groups list
            // every goroutine id on a line of its own (a write each).
            use std::io::Write as _;
            let mut out = std::io::BufWriter::with_capacity(64 << 10, &mut *out);
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
            out.flush()?;
        }
        Format::Table => {
            let mut text = if analyses.is_empty() {
                String::new()
            } else {
                render_table(
                    args,
                    &analyses,
                    &table,
                    ws.roots(),
                    &cwd,
                    &hints,
                    &mut on_disk,
                )
            };
            let display = |f: &str| display_path(f, ws.roots(), &cwd);
            for a in &others {
                text.push_str(&report_inputs::render(
                    a,
                    &args.categories,
                    args.top,
                    args.library,
                    &display,
                    &mut on_disk,
                ));
            }
            out.write_all(text.as_bytes())?;
        }
    }
    for f in &failures {
        eprintln!("goblock: {f}");
    }
    // 1 when no input could be used: none read, or read with nothing in it.
    let used = others.len() + analyses.iter().filter(|a| !yielded_nothing(a)).count();
    Ok(if used == 0 { 1 } else { 0 })
}

/// A trace line shown, at its line in the source now (`line`: the
/// recorded one unless the source was edited since and the evidence says
/// where it moved).
struct Row<'a> {
    k: &'a LineKey,
    s: &'a LineStats,
    line: u32,
}

/// The trace lines of a report after `--categories`, `--library` and
/// `--top`, in the order shown; shared by the table and the JSON.
struct Selection<'a> {
    /// Lines with closed episodes (or open ones that began before the
    /// trace), ranked by closed time.
    rows: Vec<Row<'a>>,
    /// Lines where no wait ended and some goroutine was still blocked at the
    /// end of the trace: leak suspects.
    still_blocked: Vec<Row<'a>>,
    /// Lines not shown in any file.
    unmapped: Vec<(&'a LineKey, &'a LineStats)>,
    /// Lines whose source changed since the recording, where they are now
    /// cannot be told (stale): not shown on any line; and why.
    stale: Vec<(&'a LineKey, &'a LineStats, String)>,
    /// Lines of library, runtime and generated code left out (`--library`
    /// shows them).
    hidden_library: usize,
    /// Lines left out by `--top`.
    beyond_top: usize,
}

/// `--top N`: at most N of each list; 0 = all.
fn take_top<T>(v: Vec<T>, top: usize) -> (Vec<T>, usize) {
    if top == 0 || v.len() <= top {
        return (v, 0);
    }
    let beyond = v.len() - top;
    (v.into_iter().take(top).collect(), beyond)
}

fn select<'a>(table: &'a LineTable, args: &ReportArgs, on_disk: &mut OnDisk) -> Selection<'a> {
    let mut hidden_library = 0;
    let (mut rows, mut still, mut unmapped, mut stale) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (k, s) in table.hottest() {
        if !args.categories.contains(&k.category) || !s.has_flat() {
            continue;
        }
        if s.library && !args.library {
            hidden_library += 1;
            continue;
        }
        if s.unmapped.is_some() {
            unmapped.push((k, s));
            continue;
        }
        let line = match on_disk.place(&k.file, k.line, &s.function) {
            Ok(line) => line,
            Err(why) => {
                stale.push((k, s, why));
                continue;
            }
        };
        if s.only_still_blocked() {
            still.push(Row { k, s, line });
        } else {
            rows.push(Row { k, s, line });
        }
    }
    // Leak suspects: most goroutines first.
    still.sort_by(|a, b| {
        (b.s.still_blocked.count, b.s.still_blocked.total_ns)
            .cmp(&(a.s.still_blocked.count, a.s.still_blocked.total_ns))
            .then(a.k.cmp(b.k))
    });
    let (rows, a) = take_top(rows, args.top);
    let (still_blocked, b) = take_top(still, args.top);
    let (unmapped, c) = take_top(unmapped, args.top);
    let (stale, d) = take_top(stale, args.top);
    Selection {
        rows,
        still_blocked,
        unmapped,
        stale,
        hidden_library,
        beyond_top: a + b + c + d,
    }
}

/// Where most blocking is, when it is not in the workspace the user left
/// to default (the current directory): a hint naming the place and the
/// `--workspace` that shows it. `None` when the workspace holds at least
/// a tenth of the closed blocking time.
fn workspace_hint(table: &LineTable, args: &ReportArgs, ws: &Workspace) -> Option<String> {
    if !args.workspaces.is_empty() {
        return None;
    }
    let total = table.total_ns(&args.categories);
    let mut inside = 0u64;
    let mut places: HashMap<Where, u64> = HashMap::new();
    for (k, s) in &table.lines {
        if !args.categories.contains(&k.category) || s.flat.total_ns == 0 {
            continue;
        }
        if s.class == CodeClass::Workspace {
            inside += s.flat.total_ns;
        } else if let Some(p) = place_of(s, ws) {
            *places.entry(p).or_default() += s.flat.total_ns;
        }
    }
    // Only when the workspace shows almost nothing: a service's own
    // workspace may hold less than the standard library's goroutines.
    if total == 0 || inside * 10 >= total {
        return None;
    }
    let (place, ns) = places
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    let pct = ns as f64 * 100.0 / total as f64;
    if pct < 10.0 {
        return None;
    }
    Some(match place {
        Where::Module {
            path,
            version,
            dir,
            present: true,
        } => format!(
            "{pct:.0} % of blocked time is in {path}@{version} (module cache): \
             --workspace {dir} or --library"
        ),
        Where::Module {
            path,
            version,
            dir,
            present: false,
        } => format!(
            "{pct:.0} % of blocked time is in {path}@{version}, not in this machine's module \
             cache: go mod download {path}@{version}, then --workspace {dir} or --library"
        ),
        Where::Std(pkg) => format!(
            "{pct:.0} % of blocked time is in the standard library ({pkg}): \
             --workspace $(go env GOROOT)/src/{pkg} or --library"
        ),
        Where::Dir(dir) => format!(
            "{pct:.0} % of blocked time is outside the workspace, in {dir}: \
             --workspace {dir} or --library"
        ),
        Where::Missing(dir) => format!(
            "{pct:.0} % of blocked time is in {dir}, whose files are not on this machine \
             (recorded paths): --workspace DIR of its checkout"
        ),
    })
}

/// Where blocking lies, outside the workspace.
#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Where {
    /// A module of the module cache, its directory there, and whether
    /// its files are there.
    Module {
        path: String,
        version: String,
        dir: String,
        present: bool,
    },
    /// A package directory of the standard library.
    Std(String),
    /// Another directory.
    Dir(String),
    /// A recorded directory not found on this machine.
    Missing(String),
}

fn place_of(s: &LineStats, ws: &Workspace) -> Option<Where> {
    let file = Path::new(&*s.canonical);
    match s.class {
        CodeClass::Workspace | CodeClass::Generated => None,
        CodeClass::Std => {
            let goroot_src = ws.goroot().map(|g| g.join("src"))?;
            let goroot_src = std::fs::canonicalize(&goroot_src).unwrap_or(goroot_src);
            let rel = file.strip_prefix(goroot_src).ok()?.parent()?;
            let pkg = rel.to_string_lossy().into_owned();
            // The test harness and the runtime are not where anyone looks
            // for their blocking (tRunner waits for every parallel test).
            let harness = pkg == "testing"
                || pkg == "runtime"
                || pkg.starts_with("runtime/")
                || pkg.starts_with("internal/");
            (!harness).then_some(Where::Std(pkg))
        }
        CodeClass::Dependency => {
            // The directory itself, not `go list -m`: that needs a go.mod
            // where it runs.
            let cache = ws.gomodcache()?;
            let rel = file
                .strip_prefix(cache)
                .ok()
                .map(|r| r.to_string_lossy().into_owned())?;
            let at = rel.find('@')?;
            let end = rel[at..].find('/').map_or(rel.len(), |e| at + e);
            Some(Where::Module {
                path: goblock_analysis::paths::unescape_module_path(&rel[..at]),
                version: rel[at + 1..end].to_owned(),
                dir: cache.join(&rel[..end]).display().to_string(),
                present: s.found,
            })
        }
        CodeClass::Other => {
            let dir = file.parent()?.to_string_lossy().into_owned();
            Some(if s.found {
                Where::Dir(dir)
            } else {
                Where::Missing(dir)
            })
        }
    }
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    traces: Vec<JsonInput<'a>>,
    lines: Vec<JsonAnyLine<'a>>,
    /// Lines where goroutines were still blocked at the end of the trace
    /// and no wait ended: leak suspects.
    still_blocked: Vec<JsonLine<'a>>,
    unmapped: Vec<JsonUnmapped<'a>>,
    /// Lines whose source changed since the recording and whose place now
    /// cannot be told: `line` as recorded, `stale` says why.
    stale: Vec<JsonAnyLine<'a>>,
    /// Lines left out of the four lists.
    not_shown: JsonNotShown,
    /// Advice on the report itself (e.g. where the blocking is when the
    /// workspace holds little of it).
    hints: Vec<String>,
}

#[derive(Serialize)]
struct JsonNotShown {
    /// Library, runtime and generated lines (`--library` shows them).
    library: usize,
    /// Lines beyond `--top`.
    top: usize,
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
    class: &'static str,
    /// `not-found`, `past-end`, `function-missing`, `other-function`, `unreadable`.
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
    /// Problems with the trace itself (truncated, corrupt, …).
    warnings: Vec<String>,
    /// How frames were symbolized: binaries used, refused or not found.
    notes: Vec<String>,
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

impl JsonCounts {
    fn of(t: goblock_analysis::Totals) -> Self {
        JsonCounts {
            count: t.count,
            total_ns: t.total_ns,
            max_ns: None,
        }
    }
}

#[derive(Serialize)]
struct JsonLine<'a> {
    kind: &'static str,
    file: &'a str,
    line: u32,
    function: &'a str,
    /// `workspace`, `dependency`, `std`, `generated`, `other`.
    class: &'static str,
    category: &'static str,
    reason: &'a str,
    flat: JsonCounts,
    open: JsonCounts,
    /// Of `open`, the goroutines still blocked when the trace ended.
    open_at_end: JsonCounts,
    cum: JsonCounts,
    goroutines: u64,
    /// The line as recorded, when the source was edited since and the line
    /// moved to `line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_line: Option<u32>,
    /// In `stale`: why the line cannot be placed in the source now.
    #[serde(skip_serializing_if = "Option::is_none")]
    stale: Option<String>,
}

/// A trace line at `line` now (the recorded one when `stale`).
fn json_line<'a>(k: &'a LineKey, s: &'a LineStats, line: u32, stale: Option<&str>) -> JsonLine<'a> {
    JsonLine {
        kind: "trace",
        file: &k.file,
        line,
        function: &s.function,
        class: s.class.as_str(),
        category: k.category.as_str(),
        reason: &k.reason,
        flat: JsonCounts {
            max_ns: Some(s.flat_max_ns),
            ..JsonCounts::of(s.flat)
        },
        open: JsonCounts::of(s.open),
        open_at_end: JsonCounts::of(s.still_blocked),
        cum: JsonCounts::of(s.cum),
        goroutines: s.goroutines,
        recorded_line: (line != k.line).then_some(k.line),
        stale: stale.map(str::to_owned),
    }
}

fn json_trace(a: &TraceAnalysis) -> JsonTrace<'_> {
    JsonTrace {
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
        warnings: a.summary.warnings.iter().map(ToString::to_string).collect(),
        notes: a.symbolization.all_notes().cloned().collect(),
        error: None,
    }
}

/// Where an argument went: an index into the traces, the dumps and
/// profiles, or the failures.
#[derive(Clone, Copy)]
enum Slot {
    Trace(usize),
    Other(usize),
    Failed(usize),
}

/// The JSON document; its `hints` are the caller's to set.
fn json_document<'a>(
    analyses: &'a [TraceAnalysis],
    others: &[report_inputs::Analysed],
    failures: &[String],
    order: &[Slot],
    table: &'a LineTable,
    args: &ReportArgs,
    on_disk: &mut OnDisk,
) -> JsonDoc<'a> {
    // In argument order; a dump's or profile's lines name their entry.
    let mut traces: Vec<JsonInput<'a>> = Vec::with_capacity(order.len());
    let mut other_index = vec![0; others.len()];
    for slot in order {
        traces.push(match *slot {
            Slot::Trace(t) => JsonInput::Trace(json_trace(&analyses[t])),
            Slot::Other(o) => {
                other_index[o] = traces.len();
                JsonInput::Other(report_inputs::json_input(&others[o]))
            }
            Slot::Failed(f) => JsonInput::Trace(JsonTrace {
                path: failures[f]
                    .split(": ")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                kind: "unreadable",
                go_version: "",
                bytes: 0,
                events: 0,
                duration_ns: 0,
                symbolization: "none",
                binary: None,
                warnings: vec![],
                notes: vec![],
                error: Some(failures[f].clone()),
            }),
        });
    }
    let sel = select(table, args, on_disk);
    let unmapped = sel
        .unmapped
        .iter()
        .filter_map(|(k, s)| Some((k, s, s.unmapped.as_ref()?)))
        .map(|(k, s, u)| JsonUnmapped {
            file: &k.file,
            line: k.line,
            function: &s.function,
            class: s.class.as_str(),
            why: u.code(),
            detail: u.to_string(),
            candidate: u.candidate(),
            category: k.category.as_str(),
            reason: &k.reason,
            flat: JsonCounts {
                max_ns: Some(s.flat_max_ns),
                ..JsonCounts::of(s.flat)
            },
            open: JsonCounts::of(s.open),
        })
        .collect();
    let mut lines: Vec<JsonAnyLine<'a>> = sel
        .rows
        .iter()
        .map(|r| JsonAnyLine::Trace(json_line(r.k, r.s, r.line, None)))
        .collect();
    let mut stale: Vec<JsonAnyLine<'a>> = sel
        .stale
        .iter()
        .map(|(k, s, why)| JsonAnyLine::Trace(json_line(k, s, k.line, Some(why.as_str()))))
        .collect();
    let (mut hidden_library, mut beyond_top) = (sel.hidden_library, sel.beyond_top);
    for (j, a) in others.iter().enumerate() {
        let l = report_inputs::json_lines(
            a,
            other_index[j],
            &args.categories,
            args.library,
            args.top,
            on_disk,
        );
        hidden_library += l.hidden_library;
        beyond_top += l.beyond_top;
        lines.extend(l.lines.into_iter().map(JsonAnyLine::Other));
        stale.extend(l.stale.into_iter().map(JsonAnyLine::Other));
    }
    JsonDoc {
        traces,
        lines,
        still_blocked: sel
            .still_blocked
            .iter()
            .map(|r| json_line(r.k, r.s, r.line, None))
            .collect(),
        unmapped,
        stale,
        not_shown: JsonNotShown {
            library: hidden_library,
            top: beyond_top,
        },
        hints: Vec::new(),
    }
}

/// Columns of a text table, the last one left unpadded.
fn write_grid<const N: usize>(o: &mut String, grid: &[[String; N]], right: usize, indent: &str) {
    let mut widths = [0usize; N];
    for r in grid {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    for r in grid {
        let mut line = String::from(indent);
        for (i, c) in r.iter().enumerate() {
            if i == N - 1 {
                line.push_str(c);
            } else if i < right {
                let _ = write!(line, "{:>w$}  ", c, w = widths[i]);
            } else {
                let _ = write!(line, "{:<w$}  ", c, w = widths[i]);
            }
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
}

fn render_table(
    args: &ReportArgs,
    analyses: &[TraceAnalysis],
    table: &LineTable,
    roots: &[PathBuf],
    cwd: &Path,
    hints: &[String],
    on_disk: &mut OnDisk,
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
        if let Some(n) = a.symbolization.passed_over_summary() {
            let _ = writeln!(o, "  note: {n}; --format json says why");
        }
    }
    let sel = select(table, args, on_disk);
    let loc = |r: &Row| format!("{}:{}", display_path(&r.k.file, roots, cwd), r.line);
    if sel.rows.is_empty()
        && sel.still_blocked.is_empty()
        && sel.unmapped.is_empty()
        && sel.stale.is_empty()
        && !analyses.is_empty()
    {
        // "No blocking" only of traces that yielded something to tell.
        if !analyses.iter().all(yielded_nothing) {
            let _ = writeln!(
                o,
                "\nno blocking {}in the selected categories",
                if sel.hidden_library > 0 {
                    "in the workspace "
                } else {
                    ""
                }
            );
        }
        for a in analyses.iter().filter(|a| yielded_nothing(a)) {
            let _ = writeln!(o, "\n{}", no_data(a));
        }
    }
    if !sel.rows.is_empty() {
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
        for r in &sel.rows {
            let (k, s) = (r.k, r.s);
            let closed = s.flat.count > 0;
            grid.push([
                if closed {
                    units::duration(s.flat.total_ns)
                } else {
                    "-".into()
                },
                s.flat.count.to_string(),
                if closed {
                    units::duration(s.flat_max_ns)
                } else {
                    "-".into()
                },
                if s.open.count > 0 {
                    format!("{} · {}", s.open.count, units::duration(s.open.total_ns))
                } else {
                    "-".into()
                },
                k.category.as_str().into(),
                k.reason.to_string(),
                loc(r),
                source_line(on_disk, &k.file, r.line).unwrap_or_default(),
            ]);
        }
        let _ = writeln!(o);
        write_grid(&mut o, &grid, 3, "");
        let _ = writeln!(
            o,
            "\nTOTAL, COUNT and MAX are closed episodes (began and ended inside the trace: what go tool trace -pprof counts); OPEN: goroutines already blocked when the trace began or still blocked when it ended (time clamped to the trace)."
        );
        let shown: u64 = sel.rows.iter().map(|r| r.s.flat.total_ns).sum();
        let all = table.total_ns(&args.categories);
        if all > 0 {
            let _ = writeln!(
                o,
                "{} lines shown hold {:.1} % of {} closed blocking time in {} (the editors show sync,net,syscall by default: goblock.categories)",
                sel.rows.len(),
                shown as f64 * 100.0 / all as f64,
                units::duration(all),
                args.categories
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
    }
    if !sel.still_blocked.is_empty() {
        let _ = writeln!(
            o,
            "\nStill blocked at the end of the trace (leak suspects): no wait on these lines ended inside the trace"
        );
        let mut grid = vec![[
            "GOROUTINES".to_string(),
            "BLOCKED".into(),
            "CATEGORY".into(),
            "REASON".into(),
            "LOCATION".into(),
            "SOURCE".into(),
        ]];
        for r in &sel.still_blocked {
            let (k, s) = (r.k, r.s);
            grid.push([
                s.still_blocked.count.to_string(),
                units::duration(s.still_blocked.total_ns),
                k.category.as_str().into(),
                k.reason.to_string(),
                loc(r),
                source_line(on_disk, &k.file, r.line).unwrap_or_default(),
            ]);
        }
        write_grid(&mut o, &grid, 2, "  ");
        let _ = writeln!(
            o,
            "  BLOCKED: their time inside the trace, summed (they may have been blocked before it began)."
        );
    }
    let unmapped: Vec<Apart> = sel
        .unmapped
        .iter()
        .map(|(k, s)| Apart {
            ns: s.total_ns(),
            at: format!("{}:{}", k.file, k.line),
            function: &s.function,
            reason: &k.reason,
            why: s
                .unmapped
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        })
        .collect();
    write_apart(&mut o, &unmapped, |n, time| {
        format!(
            "{n} blocking lines ({time}) are not shown in any file: their recorded file is not on this machine, or the file found does not have the line or function (`--format json` lists them under \"unmapped\"):"
        )
    });
    let stale: Vec<Apart> = sel
        .stale
        .iter()
        .map(|(k, s, why)| Apart {
            ns: s.total_ns(),
            at: format!(
                "{}:{} as recorded",
                display_path(&k.file, roots, cwd),
                k.line
            ),
            function: &s.function,
            reason: &k.reason,
            why: why.clone(),
        })
        .collect();
    write_apart(&mut o, &stale, |n, time| {
        format!(
            "{n} blocking lines ({time}) are stale, not shown on any line: their source changed since the recording and where they are now cannot be told (`--format json` lists them under \"stale\"):"
        )
    });
    if sel.hidden_library > 0 || sel.beyond_top > 0 {
        let _ = writeln!(o);
    }
    if sel.hidden_library > 0 {
        let _ = writeln!(
            o,
            "{} lines of the runtime, the standard library, dependencies and generated code (stacks without user code, _testmain.go) not shown; --library shows them",
            sel.hidden_library
        );
    }
    if sel.beyond_top > 0 {
        let _ = writeln!(
            o,
            "{} more lines beyond --top {}; --top 0 shows all",
            sel.beyond_top, args.top
        );
    }
    for h in hints {
        let _ = writeln!(o, "hint: {h}");
    }
    o
}

/// A trace that gave no event: cut before its first complete part (a
/// Go 1.22+ trace's first generation). Read, but it says nothing, so it
/// counts as an input that could not be used.
fn yielded_nothing(a: &TraceAnalysis) -> bool {
    a.summary.events == 0
}

/// The line saying so, with the file and the offset of the cut (the
/// truncation warning's: the only warnings that carry an offset).
fn no_data(a: &TraceAnalysis) -> String {
    match a.summary.warnings.iter().rev().find_map(|w| w.offset) {
        Some(at) => format!(
            "{}: no complete data (cut at byte {at}): nothing to report",
            a.path.display()
        ),
        None => format!("{}: no events: nothing to report", a.path.display()),
    }
}

/// Unmapped (and stale) lines listed under the table.
const UNMAPPED_ROWS: usize = 5;

/// A line listed under the table, not shown on any line.
struct Apart<'a> {
    /// Its blocked time.
    ns: u64,
    /// Where it was recorded.
    at: String,
    function: &'a str,
    reason: &'a str,
    why: String,
}

/// Lines not shown on any line (unmapped, stale), under the table: the
/// `heading` (of their count and time), then the first `UNMAPPED_ROWS`.
fn write_apart(o: &mut String, lines: &[Apart], heading: impl Fn(usize, String) -> String) {
    if lines.is_empty() {
        return;
    }
    let ns: u64 = lines.iter().map(|l| l.ns).sum();
    let _ = writeln!(o, "\n{}", heading(lines.len(), units::duration(ns)));
    for l in lines.iter().take(UNMAPPED_ROWS) {
        let _ = writeln!(
            o,
            "  {:>9}  {} ({}, {}): {}",
            units::duration(l.ns),
            l.at,
            l.function,
            l.reason,
            l.why
        );
    }
    if lines.len() > UNMAPPED_ROWS {
        let _ = writeln!(o, "  … and {} more", lines.len() - UNMAPPED_ROWS);
    }
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

/// The trimmed text of a 1-based line as the file is now (shortened), if
/// the file reads: read once, by `on_disk` (which places the lines).
pub fn source_line(on_disk: &mut OnDisk, file: &str, line: u32) -> Option<String> {
    let t = on_disk.line_text(file, line)?.trim();
    Some(if t.chars().count() > 60 {
        format!("{}…", t.chars().take(59).collect::<String>())
    } else {
        t.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module-cache line names the module's directory, and says when its
    /// files are not on this machine (then `--workspace DIR` alone would
    /// not help: `go mod download` first).
    #[test]
    fn a_module_line_says_whether_the_module_is_in_the_cache() {
        let cache = std::env::temp_dir().join(format!("goblock-hint-cache-{}", std::process::id()));
        let dir = cache.join("golang.org/x/sync@v0.25.0");
        let file = dir.join("semaphore/semaphore.go");
        let ws = Workspace::new(&[], vec![], None, Some(cache.clone()));
        let line = |found: bool| LineStats {
            class: CodeClass::Dependency,
            canonical: file.to_string_lossy().into(),
            found,
            ..Default::default()
        };
        let module = |present: bool| {
            Some(Where::Module {
                path: "golang.org/x/sync".into(),
                version: "v0.25.0".into(),
                dir: dir.display().to_string(),
                present,
            })
        };
        assert_eq!(place_of(&line(true), &ws), module(true));
        assert_eq!(place_of(&line(false), &ws), module(false));
    }
}
