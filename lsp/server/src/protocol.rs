//! goblock's extensions to LSP as they travel: the commands of
//! `workspace/executeCommand` (names, arguments, results) and the
//! `goblock/status` notification. Serde types only — no behaviour, no LSP
//! types; the values are filled in by `commands`, `load/commit`,
//! `dumps/status`, `dumps/goroutines` and `capture`.
//!
//! Documented once, in docs/lsp.md ("Protocol extensions": one table of
//! every message and field); `tests/protocol_docs.rs` checks that table
//! against these types and against the clients' parsers.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

// ------------------------------------------------------------------ names

/// Load a trace, dump or profile: `[path]`.
pub const LOAD_TRACE: &str = "goblock.loadTrace";
/// Re-discover and reload: no arguments.
pub const RELOAD: &str = "goblock.reload";
/// Unload everything: no arguments.
pub const CLEAR: &str = "goblock.clear";
/// The status and the N hottest lines: `[n]` or `[{"limit": n}]`.
pub const HOT_LINES: &str = "goblock.hotLines";
/// Every goroutine the dumps have parked at a line: `[{"uri": …, "line":
/// n}]` (0-based, as LSP positions); the result is a [`GoroutinesResult`].
pub const GOROUTINES: &str = "goblock.goroutines";
/// Trace one test, benchmark or fuzz test (`goblock.captureTest`).
pub const CAPTURE_TEST: &str = "goblock.captureTest";
/// Capture a running service (`goblock.captureService`).
pub const CAPTURE_SERVICE: &str = "goblock.captureService";
/// The workspace's captures (`goblock.captures`).
pub const CAPTURES: &str = "goblock.captures";
/// Stop the running capture (`goblock.cancelCapture`).
pub const CANCEL_CAPTURE: &str = "goblock.cancelCapture";
/// Show a capture made earlier (`goblock.loadCapture`).
pub const LOAD_CAPTURE: &str = "goblock.loadCapture";
/// The server → client notification of what is loaded (`goblock/status`),
/// sent to clients whose `capabilities.experimental.goblockStatus` is true.
pub const STATUS: &str = "goblock/status";

// ------------------------------------------------ loadTrace, reload, clear

/// The argument of `goblock.loadTrace`: a path (absolute, relative to the
/// first workspace folder, or a `file://` URI), bare or in an object.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum LoadTraceArg {
    /// `"path"`.
    Path(String),
    /// `{"path": "…"}`.
    Object {
        /// The path or URI.
        path: String,
    },
}

/// An input that could not be used, and why (one line).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// The input's path.
    pub path: PathBuf,
    /// What went wrong, naming the file.
    pub message: String,
}

/// The result of `goblock.loadTrace`, `goblock.reload` and `goblock.clear`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LoadResult {
    /// Every input shown after the load.
    pub loaded: Vec<PathBuf>,
    /// The failures of the inputs the command asked for (loadTrace: its
    /// path; reload/clear: every input).
    pub failures: Vec<Failure>,
    /// One line for the log ("1 trace(s) loaded; …").
    pub summary: String,
}

/// The result of a command whose load a newer load took over.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Superseded {
    /// Always true.
    pub superseded: bool,
}

impl Superseded {
    /// `{"superseded": true}`.
    pub fn new() -> Superseded {
        Superseded { superseded: true }
    }
}

impl Default for Superseded {
    fn default() -> Self {
        Superseded::new()
    }
}

// --------------------------------------------------------------- hotLines

/// The argument of `goblock.hotLines`: how many lines.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum HotLinesArg {
    /// `n`.
    Limit(u64),
    /// `{"limit": n}`.
    Object {
        /// How many lines.
        limit: u64,
    },
}

/// The result of `goblock.hotLines`: the status and the hottest lines.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HotLinesResult {
    /// A load is running.
    pub loading: bool,
    /// The loaded traces.
    pub traces: Vec<TraceInfo>,
    /// The loaded goroutine dumps and profiles.
    pub inputs: Vec<InputInfo>,
    /// Lines with goroutines parked now (dumps) or sampled contention
    /// (profiles), flagged lines first.
    pub parked: Vec<ParkedLine>,
    /// Inputs that could not be used.
    pub failures: Vec<Failure>,
    /// All completed blocking in the shown categories, ns.
    pub total_ns: u64,
    /// The same in ms (older clients).
    pub total_ms: f64,
    /// The same as shown ("3.41 s").
    pub total_label: String,
    /// The categories shown (`goblock.categories`).
    pub categories: Vec<String>,
    /// The hottest lines, where they are now.
    pub lines: Vec<HotLine>,
    /// Hot lines that cannot be placed in today's text.
    pub stale: Vec<StaleLine>,
    /// Every file with annotated lines, by total blocking.
    pub files: Vec<HotFile>,
    /// Recorded files not found on this machine, hottest first.
    pub unmapped: Vec<UnmappedFile>,
}

/// A loaded trace.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceInfo {
    pub path: PathBuf,
    /// "1.26".
    pub go_version: String,
    pub bytes: u64,
    pub duration_ms: f64,
    /// Blocking episodes decoded.
    pub episodes: u64,
    /// Where frames came from: `dwarf`, `trace`, ….
    pub symbolization: String,
    /// The binary whose DWARF was used.
    pub binary: Option<PathBuf>,
    /// Symbolization notes (candidates refused, …).
    pub notes: Vec<String>,
    /// Decoder warnings (truncation, …).
    pub warnings: Vec<String>,
    /// A preview: the share of the file analysed so far (0–1).
    pub partial: Option<f64>,
}

/// A loaded goroutine dump or profile (`kind` says which; dumps carry
/// `goroutines`, `snapshots`, `message`, `deadlock`; profiles `format`,
/// `samples`, `sampled`, `symbolization`, `binary`, `notes`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InputInfo {
    pub path: PathBuf,
    /// `goroutine-dump`, `goroutine-profile`, `block-profile`,
    /// `mutex-profile`.
    pub kind: String,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goroutines: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<u64>,
    /// The panic or signal message a dump starts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadlock: Option<bool>,
    /// `proto` or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbolization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<String>>,
    pub warnings: Vec<String>,
    /// Its lines in user and in library code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<InputLines>,
    /// Its row text.
    pub label: String,
}

/// How many lines of a dump or profile are in user and in library code
/// (when all are library code, its label says so).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InputLines {
    pub user: u64,
    pub library: u64,
}

/// One hot line.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HotLine {
    pub file: String,
    pub uri: String,
    /// 1-based, where the line is now (after edits).
    pub line: u32,
    /// 1-based, as traced.
    pub recorded_line: u32,
    pub function: String,
    /// As the diagnostics' `code`: `chan-recv`, `select`, `mutex`, ….
    pub kind: String,
    /// The runtime's reasons, hottest first.
    pub reasons: Vec<String>,
    pub count: u64,
    pub total_ns: u64,
    pub total_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Of all completed blocking in the shown categories, 0–1.
    pub share: f64,
    pub in_workspace: bool,
    /// The line's diagnostic message.
    pub message: String,
    /// Its row text for lists.
    pub label: String,
}

/// A hot line that cannot be placed in today's text.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaleLine {
    pub file: String,
    pub uri: String,
    pub recorded_line: u32,
    pub function: String,
    pub total_ns: u64,
    pub label: String,
}

/// A file with annotated lines.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HotFile {
    pub file: String,
    pub uri: String,
    pub in_workspace: bool,
    /// Its annotated lines (all of them).
    pub lines: u64,
    pub total_ns: u64,
    /// The total as shown.
    pub label: String,
}

/// A recorded file not found on this machine.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnmappedFile {
    /// The path as the trace recorded it.
    pub recorded: String,
    pub lines: u64,
    pub count: u64,
    pub total_ms: f64,
}

/// A line of a goroutine dump or profile.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParkedLine {
    pub file: String,
    pub uri: String,
    /// 1-based, where it is shown now.
    pub line: u32,
    /// 1-based, as dumped.
    pub recorded_line: u32,
    pub function: String,
    pub in_workspace: bool,
    /// Goroutines parked there now (dumps, goroutine profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goroutines: Option<u64>,
    /// Of `goroutines`: those with no frame in the program, shown on the
    /// `go` statement that started them (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_here: Option<u64>,
    /// Of `goroutines`: those not started yet when the dump was taken,
    /// on the `go` statement that created them (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_started: Option<u64>,
    /// Their wait reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<String>>,
    /// `deadlock`, `blocked-forever`, `likely-leak`, `parked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// The row text of the goroutines parked there (`likely leak · parked
    /// now: 212 goroutines · chan receive · longest ≥ 17 min`), for lists
    /// by input kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked_label: Option<String>,
    /// Block-profile figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<SampledFigures>,
    /// Mutex-profile figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutex: Option<SampledFigures>,
    /// Its row text.
    pub label: String,
}

/// A profile's figures on a line.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SampledFigures {
    pub count: u64,
    pub total_ns: u64,
    /// Always true: profiles sample.
    pub sampled: bool,
    /// The row text of this kind (`79 contentions · 1.76 s delay (sampled)`).
    pub label: String,
}

// ------------------------------------------------------------- goroutines

/// The argument of `goblock.goroutines`: a file and a line as shown now.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GoroutinesArg {
    pub uri: String,
    /// 0-based, as LSP positions.
    pub line: u32,
}

/// The result of `goblock.goroutines`: every goroutine the loaded dumps
/// have parked at a line, group by group. Without parked goroutines:
/// `goroutines: 0`, no groups or rows, and no `function`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoroutinesResult {
    pub file: String,
    pub uri: String,
    /// 1-based, as shown now.
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Goroutines with ids (dumps).
    pub goroutines: u64,
    /// Goroutines of goroutine profiles (no ids, no rows).
    pub profiled: u64,
    /// The heading ("212 goroutines in 2 groups").
    pub label: String,
    /// Largest first.
    pub groups: Vec<GoroutineGroup>,
    /// One per goroutine, by group then id.
    pub rows: Vec<GoroutineRow>,
}

/// Goroutines of one dump with the same stack, status and creator.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoroutineGroup {
    pub count: u64,
    /// The wait reason (`waiting` when the dump has none).
    pub status: String,
    /// The dump's name.
    pub input: String,
    /// Where they were created; null when the dump does not say.
    pub creator: Option<GoroutineCreator>,
    /// Their pprof label sets.
    pub labels: Vec<String>,
    /// Its row text.
    pub label: String,
}

/// The `created by` of a group.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoroutineCreator {
    pub function: Option<String>,
    pub file: String,
    /// Null when the file is not found on this machine.
    pub uri: Option<String>,
    /// 1-based; null when the file is not found.
    pub line: Option<u32>,
    pub label: String,
}

/// One goroutine.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoroutineRow {
    pub id: u64,
    pub status: String,
    /// The dump's `N minutes`; null under a minute.
    pub minutes: Option<u32>,
    /// The `in goroutine N` of its creator (Go 1.21+); null when unknown.
    pub parent: Option<u64>,
    /// Its index in `groups`.
    pub group: usize,
    /// Its row text.
    pub label: String,
}

// --------------------------------------------------------- goblock/status

/// What the session is doing with its inputs.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum LoadState {
    /// A load runs; `inputs` is what is shown meanwhile.
    Loading,
    /// What `inputs` lists is shown (maybe nothing, when there is nothing
    /// to show); `failures` lists any input that could not be used.
    #[default]
    Loaded,
    /// Nothing is shown, and `failures` says what could not be used.
    Failed,
}

/// The params of `goblock/status`, sent when a load starts, whenever what
/// is shown changes (a load's or preview's snapshot, new settings) and when
/// a load is cancelled.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusParams {
    pub state: LoadState,
    /// Every input shown: traces, dumps, profiles.
    pub inputs: Vec<StatusInput>,
    /// Inputs that could not be used.
    pub failures: Vec<Failure>,
    /// Annotated lines and files, recorded files not found.
    pub lines: u64,
    pub files: u64,
    pub unmapped: u64,
    /// All completed blocking in the shown categories, ns and as shown.
    pub total_ns: u64,
    pub total_label: String,
    /// One line ("1 trace(s) loaded; 21 annotated line(s) in 3 file(s); …",
    /// "loading x.trace", "loading cancelled; …").
    pub message: String,
}

/// An input in `goblock/status`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusInput {
    pub path: PathBuf,
    /// `trace`, `goroutine-dump`, `goroutine-profile`, `block-profile`,
    /// `mutex-profile`.
    pub kind: String,
    /// Traces: "1.26".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_version: Option<String>,
    /// Traces: blocking episodes; dumps: goroutines; profiles: samples.
    pub count: u64,
    /// A preview: the share of the file analysed so far (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<f64>,
}

// --------------------------------------------------------------- captures

/// `goblock.captureTest {uri, name?, line?}`: `name` runs that function;
/// else `line` (0-based) runs the function around it; else the package of
/// `uri` (every test).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaptureTestParams {
    /// A `.go` file of the package (a `_test.go` file for `name`/`line`).
    pub uri: String,
    /// `TestX`, `BenchmarkX` or `FuzzX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A line inside the function to run, 0-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// `goblock.captureService {url, seconds, what?}`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaptureServiceParams {
    /// What the user typed: `host:port`, `http://host:port`, a path prefix
    /// or the endpoint itself.
    pub url: String,
    /// Seconds to trace or profile (default 5; whole seconds for a
    /// profile; not used for a goroutine dump).
    #[serde(default = "default_seconds")]
    pub seconds: f64,
    /// `trace` (default), `goroutines`, `block` or `mutex`.
    #[serde(default)]
    pub what: goblock_capture::What,
}

fn default_seconds() -> f64 {
    5.0
}

/// `goblock.loadCapture {dir}`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LoadCaptureParams {
    /// The capture's directory (as `goblock.captures` lists it).
    pub dir: PathBuf,
}

/// A capture, as results describe it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaptureInfo {
    pub dir: PathBuf,
    pub trace: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<PathBuf>,
    pub name: String,
    pub kind: goblock_capture::meta::Kind,
    /// What the file `trace` names holds: `trace`, `goroutines`, `block`,
    /// `mutex`.
    #[serde(default)]
    pub what: goblock_capture::What,
    pub outcome: goblock_capture::Outcome,
    pub started: String,
    pub duration_ms: u64,
    pub trace_bytes: u64,
    pub warnings: Vec<String>,
    /// In the loaded set (`goblock.captures` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded: Option<bool>,
}

impl CaptureInfo {
    /// From the capture crate's handle.
    pub fn of(c: &goblock_capture::Capture) -> CaptureInfo {
        CaptureInfo {
            dir: c.dir.clone(),
            trace: c.file.clone(),
            binary: c.binary.clone(),
            name: c.meta.name.clone(),
            kind: c.meta.kind,
            what: c.meta.what,
            outcome: c.meta.outcome,
            started: c.meta.started.clone(),
            duration_ms: c.meta.duration_ms,
            trace_bytes: c.meta.trace_bytes,
            warnings: c.meta.warnings.clone(),
            loaded: None,
        }
    }
}

/// The result of `goblock.captureTest`, `goblock.captureService` and
/// `goblock.loadCapture`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaptureResult {
    pub capture: CaptureInfo,
    /// One line for a notification ("traced TestX: passed · 29 KiB in 1.9 s").
    pub message: String,
    /// The trace is shown (false: a newer load superseded this one, or it
    /// failed to load — then `message` says why).
    pub loaded: bool,
}

/// The result of `goblock.captures`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CapturesResult {
    /// The directory of the captures.
    pub root: PathBuf,
    /// Why the user cache directory is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The name of the capture running now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<String>,
    /// Newest first.
    pub captures: Vec<CaptureInfo>,
}

/// The result of `goblock.cancelCapture`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CancelCaptureResult {
    /// A capture was running and is stopped.
    pub cancelled: bool,
}

/// The `data` of a capture command's JSON-RPC error.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaptureErrorData {
    pub reason: FailReason,
    /// The capture running now (`busy`).
    pub running: Option<String>,
}

/// Why a capture command failed, in the JSON-RPC error's `data`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum FailReason {
    /// Another capture runs (`running` names it).
    Busy,
    /// The user cancelled it.
    Cancelled,
    /// The package does not compile (the messages are diagnostics).
    Build,
    /// Anything else (the message says what).
    Failed,
}

/// The data of a capture lens, resolved into its command.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct LensData {
    pub uri: String,
    /// The function; `None` for the package's lens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub kind: LensKind,
}

/// What a lens runs.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LensKind {
    Test,
    Benchmark,
    Fuzz,
    Package,
}
