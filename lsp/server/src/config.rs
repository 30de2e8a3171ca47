//! The server's settings (`goblock.*`), parsed leniently from the JSON the
//! client sends in `initializationOptions` or `workspace/didChangeConfiguration`.
//!
//! A key with a wrong type keeps its default and yields a message naming it;
//! unknown keys are ignored. Knows no LSP types and does not apply anything.

use goblock_analysis::Substitution;
use goblock_trace::Category;
use serde_json::Value;

/// Severity of the hottest diagnostics (mapped to the protocol in `to_proto`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Error.
    Error,
    /// Warning.
    Warning,
    /// Information (default).
    Information,
    /// Hint.
    Hint,
}

impl Severity {
    fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "information" | "info" => Some(Severity::Information),
            "hint" => Some(Severity::Hint),
            _ => None,
        }
    }
}

/// `goblock.diagnostics.*`.
#[derive(Clone, Debug, PartialEq)]
pub struct DiagnosticSettings {
    /// Publish diagnostics at all.
    pub enable: bool,
    /// A line needs at least this much blocking (ms, summed over traces).
    pub min_total_ms: f64,
    /// … and at least this share (0–1) of all blocking in the enabled categories.
    pub min_share: f64,
    /// Severity of the hottest lines; the others are hints.
    pub severity: Severity,
    /// How many of the hottest lines (over the thresholds) get `severity`.
    pub hottest: usize,
}

impl Default for DiagnosticSettings {
    fn default() -> Self {
        DiagnosticSettings {
            enable: true,
            min_total_ms: 1.0,
            min_share: 0.01,
            severity: Severity::Information,
            hottest: 10,
        }
    }
}

/// `goblock.inlayHints.*`.
#[derive(Clone, Debug, PartialEq)]
pub struct InlayHintSettings {
    /// Show the per-line hints.
    pub enable: bool,
    /// Also show "↓ … blocked in callees" on caller lines (cum attribution).
    pub callers: bool,
    /// Lines with less blocking than this (ms) get no hint.
    pub min_total_ms: f64,
}

impl Default for InlayHintSettings {
    fn default() -> Self {
        InlayHintSettings {
            enable: true,
            callers: false,
            min_total_ms: 1.0,
        }
    }
}

/// `goblock.dumps.*`: goroutine dumps and pprof profiles.
#[derive(Clone, Debug, PartialEq)]
pub struct DumpSettings {
    /// Globs (relative to each workspace folder) and absolute paths of
    /// goroutine dumps and profiles; the newest of each kind is loaded.
    pub files: Vec<String>,
    /// More goroutines than this waiting ≥ 1 min on a line: "likely leak".
    pub parked_threshold: u64,
}

/// Default dump and profile globs.
pub const DEFAULT_DUMP_GLOBS: &[&str] = &["**/*.pb.gz", "**/*.pprof", "**/*.dump", "**/*.txt"];

impl Default for DumpSettings {
    fn default() -> Self {
        DumpSettings {
            files: DEFAULT_DUMP_GLOBS.iter().map(|s| s.to_string()).collect(),
            parked_threshold: 10,
        }
    }
}

/// All settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Globs (relative to each workspace folder) and absolute paths of trace files.
    pub traces: Vec<String>,
    /// Binaries that wrote the traces (absolute or relative to a workspace folder).
    pub binaries: Vec<String>,
    /// Categories shown.
    pub categories: Vec<Category>,
    /// Diagnostics.
    pub diagnostics: DiagnosticSettings,
    /// Inlay hints.
    pub inlay_hints: InlayHintSettings,
    /// Prefix substitutions for recorded paths (Delve's `substitutePath`).
    pub substitute_path: Vec<Substitution>,
    /// Quiet time after a trace file changes before it is reloaded, ms.
    pub debounce_ms: u64,
    /// Larger trace files are refused (bytes; 0: no limit).
    pub max_trace_bytes: u64,
    /// `goblock.goPath`: the `go` that builds captures (a binary or a Go
    /// root; empty: `go` on `PATH`).
    pub go_path: String,
    /// `goblock.capture.*`.
    pub capture: CaptureSettings,
    /// Goroutine dumps and profiles.
    pub dumps: DumpSettings,
}

/// What happens to the traces shown when a capture is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureLoad {
    /// The capture replaces them (discovery stops until `goblock.reload`).
    Replace,
    /// The capture is added to them.
    Add,
}

/// `goblock.capture.*`: captures from the editor (see docs/capture.md).
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureSettings {
    /// Code lenses above tests, benchmarks and fuzz tests.
    pub code_lens: bool,
    /// Extra `go test -c` flags.
    pub build_flags: Vec<String>,
    /// `-test.benchtime` (empty: Go's default).
    pub benchtime: String,
    /// `-test.timeout` as Go writes durations (empty: `GOFLAGS`' `-timeout`,
    /// else 10m).
    pub timeout: String,
    /// How long a service capture may take in all, as a duration string
    /// (empty: the seconds asked for + 30 s).
    pub service_timeout: String,
    /// Captures kept per workspace (0: all).
    pub keep: u64,
    /// Size cap of a service capture, MiB.
    pub max_mib: u64,
    /// Replace or add to the traces shown.
    pub load: CaptureLoad,
}

impl Default for CaptureSettings {
    fn default() -> Self {
        CaptureSettings {
            code_lens: true,
            build_flags: Vec::new(),
            benchtime: String::new(),
            timeout: String::new(),
            service_timeout: String::new(),
            keep: 10,
            max_mib: 512,
            load: CaptureLoad::Replace,
        }
    }
}

/// Default trace globs.
pub const DEFAULT_TRACE_GLOBS: &[&str] = &["**/*.trace", "**/trace.out", "**/*.trace.out"];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            traces: DEFAULT_TRACE_GLOBS.iter().map(|s| s.to_string()).collect(),
            binaries: Vec::new(),
            categories: vec![Category::Sync, Category::Net, Category::Syscall],
            diagnostics: DiagnosticSettings::default(),
            inlay_hints: InlayHintSettings::default(),
            substitute_path: Vec::new(),
            debounce_ms: 300,
            max_trace_bytes: goblock_analysis::input::DEFAULT_MAX_BYTES,
            go_path: String::new(),
            capture: CaptureSettings::default(),
            dumps: DumpSettings::default(),
        }
    }
}

impl Settings {
    /// Whether a change from `self` to `new` needs traces re-analysed (path
    /// mapping or symbolization changed, or a category is shown that was
    /// not decoded) rather than only re-rendered.
    pub fn needs_reanalysis(&self, new: &Settings) -> bool {
        self.substitute_path != new.substitute_path
            || self.binaries != new.binaries
            || new.categories.iter().any(|c| !self.categories.contains(c))
    }

    /// The categories traces are decoded for: the shown ones. The decoder
    /// builds no episode of the others (the default leaves out `sched`, the
    /// most frequent), so showing one more category loads the traces
    /// again; showing fewer only renders again.
    pub fn decoded_categories(&self) -> goblock_trace::Categories {
        self.categories.iter().copied().collect()
    }

    /// Whether the set of trace (or dump, profile) files to look for changed.
    pub fn traces_changed(&self, new: &Settings) -> bool {
        self.traces != new.traces || self.dumps.files != new.dumps.files
    }

    /// Parses settings from JSON: either `{"goblock": {...}}` or the inner
    /// object itself. Returns the settings and messages about ignored values.
    pub fn from_json(v: &Value) -> (Settings, Vec<String>) {
        let mut s = Settings::default();
        let mut errs = Vec::new();
        let obj = match v.get("goblock") {
            Some(inner) => inner,
            None => v,
        };
        let Some(obj) = obj.as_object() else {
            if !obj.is_null() {
                errs.push("goblock settings: expected an object".to_owned());
            }
            return (s, errs);
        };
        let mut bad = |key: &str, want: &str| {
            errs.push(format!("goblock.{key}: expected {want}; using the default"))
        };
        if let Some(x) = obj.get("traces") {
            match strings(x) {
                Some(v) => s.traces = v,
                None => bad("traces", "a list of strings"),
            }
        }
        if let Some(x) = obj.get("binaries") {
            match strings(x) {
                Some(v) => s.binaries = v,
                None => bad("binaries", "a list of strings"),
            }
        }
        if let Some(x) = obj.get("categories") {
            match strings(x).and_then(|v| {
                v.iter()
                    .map(|c| Category::parse(c))
                    .collect::<Option<Vec<_>>>()
            }) {
                Some(v) => s.categories = v,
                None => bad(
                    "categories",
                    "a list of sync, net, syscall, sched, sleep, gc, other",
                ),
            }
        }
        if let Some(x) = obj.get("debounceMs") {
            match x.as_u64() {
                Some(v) => s.debounce_ms = v.min(60_000),
                None => bad("debounceMs", "a number"),
            }
        }
        if let Some(x) = obj.get("maxTraceBytes") {
            let parsed = match x {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => goblock_analysis::input::parse_size(s),
                _ => None,
            };
            match parsed {
                Some(v) => s.max_trace_bytes = v,
                None => bad(
                    "maxTraceBytes",
                    "a number of bytes or a size such as \"8G\" (0: no limit)",
                ),
            }
        }
        if let Some(x) = obj.get("goPath") {
            match x.as_str() {
                Some(v) => s.go_path = v.trim().to_owned(),
                None => bad("goPath", "a path (a `go` binary or a Go root)"),
            }
        }
        let c = obj.get("capture");
        if let Some(c) = c.and_then(|c| c.as_object()) {
            if let Some(x) = c.get("codeLens") {
                match x.as_bool() {
                    Some(v) => s.capture.code_lens = v,
                    None => bad("capture.codeLens", "a boolean"),
                }
            }
            if let Some(x) = c.get("buildFlags") {
                match strings(x) {
                    Some(v) => s.capture.build_flags = v,
                    None => bad("capture.buildFlags", "a list of strings"),
                }
            }
            if let Some(x) = c.get("benchtime") {
                match x.as_str() {
                    Some(v) => s.capture.benchtime = v.trim().to_owned(),
                    None => bad(
                        "capture.benchtime",
                        "a Go duration or count such as \"2s\" or \"100x\"",
                    ),
                }
            }
            if let Some(x) = c.get("timeout") {
                match x
                    .as_str()
                    .map(str::trim)
                    .filter(|v| v.is_empty() || *v == "0" || humantime::parse_duration(v).is_ok())
                {
                    Some(v) => s.capture.timeout = v.to_owned(),
                    None => bad("capture.timeout", "a duration such as \"30s\" or \"10m\""),
                }
            }
            if let Some(x) = c.get("serviceTimeout") {
                match x.as_str().map(str::trim).filter(|v| {
                    v.is_empty() || humantime::parse_duration(v).is_ok_and(|d| !d.is_zero())
                }) {
                    Some(v) => s.capture.service_timeout = v.to_owned(),
                    None => bad(
                        "capture.serviceTimeout",
                        "a duration such as \"45s\" or \"2m\" (empty: the seconds + 30 s)",
                    ),
                }
            }
            if let Some(x) = c.get("keep") {
                match x.as_u64() {
                    Some(v) => s.capture.keep = v,
                    None => bad("capture.keep", "a number"),
                }
            }
            if let Some(x) = c.get("maxMiB") {
                match x.as_u64().filter(|v| *v > 0) {
                    Some(v) => s.capture.max_mib = v,
                    None => bad("capture.maxMiB", "a positive number"),
                }
            }
            if let Some(x) = c.get("load") {
                match x.as_str() {
                    Some("replace") => s.capture.load = CaptureLoad::Replace,
                    Some("add") => s.capture.load = CaptureLoad::Add,
                    _ => bad("capture.load", "\"replace\" or \"add\""),
                }
            }
        } else if c.is_some_and(|c| !c.is_null()) {
            bad("capture", "an object");
        }
        let d = obj.get("diagnostics");
        if let Some(d) = d.and_then(|d| d.as_object()) {
            if let Some(x) = d.get("enable") {
                match x.as_bool() {
                    Some(v) => s.diagnostics.enable = v,
                    None => bad("diagnostics.enable", "a boolean"),
                }
            }
            if let Some(x) = d.get("minTotalMs") {
                match x.as_f64().filter(|v| *v >= 0.0) {
                    Some(v) => s.diagnostics.min_total_ms = v,
                    None => bad("diagnostics.minTotalMs", "a non-negative number"),
                }
            }
            if let Some(x) = d.get("minShare") {
                match x.as_f64().filter(|v| (0.0..=1.0).contains(v)) {
                    Some(v) => s.diagnostics.min_share = v,
                    None => bad("diagnostics.minShare", "a number between 0 and 1"),
                }
            }
            if let Some(x) = d.get("severity") {
                match x.as_str().and_then(Severity::parse) {
                    Some(v) => s.diagnostics.severity = v,
                    None => bad(
                        "diagnostics.severity",
                        "error, warning, information or hint",
                    ),
                }
            }
            if let Some(x) = d.get("hottest") {
                match x.as_u64() {
                    Some(v) => s.diagnostics.hottest = v as usize,
                    None => bad("diagnostics.hottest", "a number"),
                }
            }
        } else if d.is_some_and(|d| !d.is_null()) {
            bad("diagnostics", "an object");
        }
        let h = obj.get("inlayHints");
        if let Some(h) = h.and_then(|h| h.as_object()) {
            if let Some(x) = h.get("enable") {
                match x.as_bool() {
                    Some(v) => s.inlay_hints.enable = v,
                    None => bad("inlayHints.enable", "a boolean"),
                }
            }
            if let Some(x) = h.get("minTotalMs") {
                match x.as_f64().filter(|v| *v >= 0.0) {
                    Some(v) => s.inlay_hints.min_total_ms = v,
                    None => bad("inlayHints.minTotalMs", "a non-negative number"),
                }
            }
            if let Some(x) = h.get("callers") {
                match x.as_bool() {
                    Some(v) => s.inlay_hints.callers = v,
                    None => bad("inlayHints.callers", "a boolean"),
                }
            }
        } else if h.is_some_and(|h| !h.is_null()) {
            bad("inlayHints", "an object");
        }
        let dd = obj.get("dumps");
        if let Some(dd) = dd.and_then(|d| d.as_object()) {
            if let Some(x) = dd.get("files") {
                match strings(x) {
                    Some(v) => s.dumps.files = v,
                    None => bad("dumps.files", "a list of strings"),
                }
            }
            if let Some(x) = dd.get("parkedThreshold") {
                match x.as_u64() {
                    Some(v) => s.dumps.parked_threshold = v,
                    None => bad("dumps.parkedThreshold", "a non-negative integer"),
                }
            }
        } else if dd.is_some_and(|d| !d.is_null()) {
            bad("dumps", "an object");
        }
        if let Some(x) = obj.get("substitutePath") {
            let parsed = x.as_array().and_then(|a| {
                a.iter()
                    .map(|e| {
                        Some(Substitution {
                            from: e.get("from")?.as_str()?.to_owned(),
                            to: e.get("to")?.as_str()?.to_owned(),
                        })
                    })
                    .collect::<Option<Vec<_>>>()
            });
            match parsed {
                Some(v) => s.substitute_path = v,
                None => bad("substitutePath", "a list of {from, to} strings"),
            }
        }
        (s, errs)
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_overrides() {
        let (s, e) = Settings::from_json(&json!(null));
        assert_eq!(s, Settings::default());
        assert!(e.is_empty());
        let (s, e) = Settings::from_json(&json!({"goblock": {
            "traces": "x.trace",
            "categories": ["sync", "sleep"],
            "diagnostics": {"minTotalMs": 5, "minShare": 0.2, "severity": "warning"},
            "inlayHints": {"enable": false, "callers": true},
            "substitutePath": [{"from": "/build/", "to": "/home/me/"}],
            "dumps": {"files": ["*.txt"], "parkedThreshold": 3},
        }}));
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(s.traces, vec!["x.trace"]);
        assert_eq!(s.categories, vec![Category::Sync, Category::Sleep]);
        assert_eq!(s.diagnostics.min_total_ms, 5.0);
        assert_eq!(s.diagnostics.severity, Severity::Warning);
        assert!(!s.inlay_hints.enable && s.inlay_hints.callers);
        assert_eq!(s.substitute_path[0].to, "/home/me/");
        assert_eq!(s.dumps.files, vec!["*.txt"]);
        assert_eq!(s.dumps.parked_threshold, 3);
    }

    #[test]
    fn bad_values_keep_defaults() {
        let (s, e) = Settings::from_json(&json!({
            "categories": ["sync", "bogus"],
            "diagnostics": {"minShare": 3, "severity": 1},
            "substitutePath": [{"from": 1}],
        }));
        assert_eq!(s, Settings::default());
        assert_eq!(e.len(), 4, "{e:?}");
    }

    #[test]
    fn a_shown_category_not_decoded_loads_again_and_fewer_rerender() {
        let default = Settings::default();
        let with = |cats: &[&str]| Settings::from_json(&json!({"categories": cats})).0;
        let wider = with(&["sync", "net", "syscall", "sched"]);
        let narrower = with(&["sync"]);
        assert!(default.needs_reanalysis(&wider));
        assert!(!default.needs_reanalysis(&narrower));
        // Back to what was decoded before narrowing: decoded again (the
        // narrower settings are all the session keeps).
        assert!(narrower.needs_reanalysis(&default));
        assert!(!wider.needs_reanalysis(&default));
        assert_eq!(
            wider.decoded_categories(),
            [
                Category::Sync,
                Category::Net,
                Category::Syscall,
                Category::Sched
            ]
            .into_iter()
            .collect()
        );
        assert!(!default.decoded_categories().contains(Category::Sched));
    }
}
