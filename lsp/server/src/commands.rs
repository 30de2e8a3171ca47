//! The `workspace/executeCommand` commands: argument parsing and the
//! result of `goblock.hotLines` (the status: loaded traces, failures,
//! hottest lines, files that could not be found), as the types of
//! [`crate::protocol`].
//!
//! Works on a [`Snapshot`]; knows no LSP types and runs nothing (loading
//! is the server's).

use std::path::PathBuf;

use serde_json::Value;

use goblock_analysis::units;

use crate::protocol::{
    Failure, GoroutinesArg, HotFile, HotLine, HotLinesArg, HotLinesResult, LoadTraceArg, StaleLine,
    TraceInfo, UnmappedFile,
};
use crate::relocate::Relocator;
use crate::render::{diagnostic_message, duration_label, list_label};
use crate::snapshot::Snapshot;

pub use crate::protocol::{CLEAR, GOROUTINES, HOT_LINES, LOAD_TRACE, RELOAD};

/// Every command of this module, for the capability.
pub const ALL: &[&str] = &[LOAD_TRACE, RELOAD, CLEAR, HOT_LINES, GOROUTINES];

/// Default number of lines of `goblock.hotLines`.
pub const DEFAULT_LIMIT: usize = 50;

/// The path argument of `goblock.loadTrace` (a path or a `file://` URI,
/// possibly inside `{"path": …}`).
pub fn load_trace_arg(args: &[Value]) -> Option<PathBuf> {
    let s = match serde_json::from_value::<LoadTraceArg>(args.first()?.clone()).ok()? {
        LoadTraceArg::Path(s) | LoadTraceArg::Object { path: s } => s,
    };
    if s.starts_with("file://") {
        crate::uri::to_path(&s)
    } else {
        Some(PathBuf::from(s))
    }
}

/// The `{uri, line}` argument of `goblock.goroutines` (line 0-based).
pub fn goroutines_arg(args: &[Value]) -> Option<(String, u32)> {
    let a = serde_json::from_value::<GoroutinesArg>(args.first()?.clone()).ok()?;
    Some((a.uri, a.line))
}

/// The limit argument of `goblock.hotLines`.
pub fn hot_lines_limit(args: &[Value]) -> usize {
    args.first()
        .and_then(|a| serde_json::from_value::<HotLinesArg>(a.clone()).ok())
        .map(|a| match a {
            HotLinesArg::Limit(n) | HotLinesArg::Object { limit: n } => n as usize,
        })
        .unwrap_or(DEFAULT_LIMIT)
}

fn ms(ns: u64) -> f64 {
    (ns as f64 / 1e4).round() / 100.0
}

/// The result of `goblock.hotLines`: lines where they are shown now
/// (`line`; `recordedLine` as traced), placed by `reloc`; the hottest lines
/// that cannot be placed in today's text are listed under `stale`.
pub(crate) fn hot_lines(
    snap: &Snapshot,
    limit: usize,
    loading: bool,
    reloc: &Relocator,
) -> HotLinesResult {
    let traces: Vec<TraceInfo> = snap
        .traces
        .iter()
        .filter_map(|t| {
            let a = t.loaded.analysis.trace()?;
            Some(TraceInfo {
                path: t.path.clone(),
                go_version: a.summary.go_version.clone(),
                bytes: a.summary.bytes,
                duration_ms: ms(a.summary.duration_ns),
                episodes: a.episodes,
                symbolization: a.symbolization.kind.to_owned(),
                binary: a.symbolization.binary.clone(),
                notes: a.symbolization.all_notes().cloned().collect(),
                warnings: a.summary.warnings.iter().map(|w| w.to_string()).collect(),
                partial: t.partial,
            })
        })
        .collect();
    let mut lines = Vec::new();
    let mut stale = Vec::new();
    for (file, line) in &snap.index.hottest {
        if lines.len() >= limit {
            break;
        }
        let Some(fa) = snap.index.files.get(file) else {
            continue;
        };
        let Some(a) = fa.at(*line) else { continue };
        let uri = crate::uri::from_path(std::path::Path::new(&**file));
        let Some(now) = reloc.line(file, *line, &a.function) else {
            stale.push(StaleLine {
                file: file.to_string(),
                uri,
                recorded_line: *line,
                function: a.function.to_string(),
                total_ns: a.total_ns(),
                label: list_label(a),
            });
            continue;
        };
        lines.push(HotLine {
            file: file.to_string(),
            uri,
            line: now,
            recorded_line: *line,
            function: a.function.to_string(),
            kind: a.kind.to_owned(),
            reasons: a.reasons.iter().map(|r| r.0.to_string()).collect(),
            count: a.count(),
            total_ns: a.total_ns(),
            total_ms: ms(a.total_ns()),
            p50_ms: ms(a.hist.quantile(0.5)),
            p99_ms: ms(a.hist.quantile(0.99)),
            max_ms: ms(a.max_ns),
            share: (a.share * 10_000.0).round() / 10_000.0,
            in_workspace: a.in_workspace,
            message: diagnostic_message(a),
            label: list_label(a),
        });
    }
    // Per file: every annotated line, not only the `limit` hottest.
    let mut files: Vec<(&str, bool, u64, usize)> = snap
        .index
        .files
        .iter()
        .map(|(path, fa)| {
            let total = fa.lines.iter().map(|a| a.total_ns()).sum();
            let n = fa.lines.iter().filter(|a| a.has_flat()).count();
            (&**path, fa.in_workspace, total, n)
        })
        .filter(|f| f.2 > 0)
        .collect();
    files.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let files: Vec<HotFile> = files
        .into_iter()
        .map(|(file, in_ws, total, n)| HotFile {
            file: file.to_owned(),
            uri: crate::uri::from_path(std::path::Path::new(file)),
            in_workspace: in_ws,
            lines: n as u64,
            total_ns: total,
            label: duration_label(total),
        })
        .collect();
    let unmapped: Vec<UnmappedFile> = snap
        .index
        .unmapped
        .iter()
        .map(|u| UnmappedFile {
            recorded: u.recorded.to_string(),
            lines: u.lines as u64,
            count: u.total.count,
            total_ms: ms(u.total.total_ns),
        })
        .collect();
    let (parked, parked_stale) = crate::dumps::status::parked(snap, limit, reloc);
    stale.extend(parked_stale);
    HotLinesResult {
        loading,
        traces,
        inputs: crate::dumps::status::inputs(snap),
        parked,
        failures: failures(snap),
        total_ns: snap.index.total_ns,
        total_ms: ms(snap.index.total_ns),
        total_label: duration_label(snap.index.total_ns),
        categories: snap
            .settings
            .categories
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        lines,
        stale,
        files,
        unmapped,
    }
}

/// The failures of a snapshot's load.
pub(crate) fn failures(snap: &Snapshot) -> Vec<Failure> {
    snap.failures
        .iter()
        .map(|f| Failure {
            path: f.path.clone(),
            message: f.message.clone(),
        })
        .collect()
}

/// A one-line summary of a snapshot for the log.
pub fn summary(snap: &Snapshot) -> String {
    let files = snap.index.files.len();
    let lines: usize = snap.index.files.values().map(|f| f.lines.len()).sum();
    let traces = snap
        .traces
        .iter()
        .filter(|t| t.loaded.analysis.trace().is_some())
        .count();
    let others = snap.traces.len() - traces;
    let others = if others > 0 {
        format!(" and {others} goroutine dump(s)/profile(s)")
    } else {
        String::new()
    };
    format!(
        "{} trace(s){others} loaded; {} annotated line(s) in {} file(s); {} of blocking; {} file(s) not found",
        traces,
        lines,
        files,
        units::duration(snap.index.total_ns),
        snap.index.unmapped.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn args() {
        assert_eq!(
            load_trace_arg(&[json!("/a/b.trace")]),
            Some(PathBuf::from("/a/b.trace"))
        );
        assert_eq!(
            load_trace_arg(&[json!({"path": "file:///a/b%20c.trace"})]),
            Some(PathBuf::from("/a/b c.trace"))
        );
        assert_eq!(load_trace_arg(&[]), None);
        assert_eq!(
            goroutines_arg(&[json!({"uri": "file:///a/b.go", "line": 26})]),
            Some(("file:///a/b.go".to_owned(), 26))
        );
        assert_eq!(goroutines_arg(&[json!({"uri": "file:///a/b.go"})]), None);
        assert_eq!(
            goroutines_arg(&[json!({"uri": "file:///a", "line": -1})]),
            None
        );
        assert_eq!(hot_lines_limit(&[json!(5)]), 5);
        assert_eq!(hot_lines_limit(&[json!({"limit": 7})]), 7);
        assert_eq!(hot_lines_limit(&[]), DEFAULT_LIMIT);
        let snap = Snapshot::default();
        let open = Default::default();
        let empty = hot_lines(&snap, 10, false, &Relocator::new(&snap, &open));
        assert_eq!(empty.lines, []);
        assert_eq!(load_trace_arg(&[json!(7)]), None);
        assert_eq!(hot_lines_limit(&[json!("x")]), DEFAULT_LIMIT);
    }
}
