//! The capture commands' arguments and results as they travel in
//! `workspace/executeCommand` (documented in docs/lsp.md, "Captures"), and
//! the data of a code lens. Serde types only.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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

/// `goblock.captureTest {uri, name?, line?}`: `name` runs that function;
/// else `line` (0-based) runs the function around it; else the package of
/// `uri` (every test).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
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

/// `goblock.captureService {url, seconds}`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct CaptureServiceParams {
    /// What the user typed: `host:port`, `http://host:port`, a path prefix
    /// or the `/debug/pprof/trace` endpoint.
    pub url: String,
    /// Seconds to trace (default 5).
    #[serde(default = "default_seconds")]
    pub seconds: f64,
}

fn default_seconds() -> f64 {
    5.0
}

/// `goblock.loadCapture {dir}`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct LoadCaptureParams {
    /// The capture's directory (as `goblock.captures` lists it).
    pub dir: PathBuf,
}

/// A capture, as results describe it.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CaptureInfo {
    pub dir: PathBuf,
    pub trace: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<PathBuf>,
    pub name: String,
    pub kind: goblock_capture::meta::Kind,
    pub outcome: goblock_capture::Outcome,
    pub started: String,
    pub duration_ms: u64,
    pub trace_bytes: u64,
    pub warnings: Vec<String>,
    /// In the loaded set (`goblock.captures` only).
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CaptureResult {
    pub capture: CaptureInfo,
    /// One line for a notification ("traced TestX: passed · 29 KiB in 1.9 s").
    pub message: String,
    /// The trace is shown (false: a newer load superseded this one, or it
    /// failed to load — then `message` says why).
    pub loaded: bool,
}

/// The result of `goblock.captures`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CapturesResult {
    /// The directory of the captures.
    pub root: PathBuf,
    /// Why the user cache directory is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The name of the capture running now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<String>,
    /// Newest first.
    pub captures: Vec<CaptureInfo>,
}

/// Why a capture command failed, in the JSON-RPC error's `data`.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
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
