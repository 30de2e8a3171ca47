//! The `workspace/executeCommand` commands: their names, argument parsing
//! and the JSON result of `goblock.hotLines` (the status: loaded traces,
//! failures, hottest lines, files that could not be found).
//!
//! Works on a [`Snapshot`] and plain JSON; knows no LSP types and runs
//! nothing (loading is the server's).

use std::path::PathBuf;

use serde_json::{Value, json};

use goblock_analysis::units;

use crate::relocate::Relocator;
use crate::render::{diagnostic_message, duration_label, list_label};
use crate::snapshot::Snapshot;

/// Load a trace file: `[path]`.
pub const LOAD_TRACE: &str = "goblock.loadTrace";
/// Re-discover and reload: no arguments.
pub const RELOAD: &str = "goblock.reload";
/// Unload everything: no arguments.
pub const CLEAR: &str = "goblock.clear";
/// The N hottest lines: `[n]` or `[{"limit": n}]`.
pub const HOT_LINES: &str = "goblock.hotLines";

/// Every command, for the capability.
pub const ALL: &[&str] = &[LOAD_TRACE, RELOAD, CLEAR, HOT_LINES];

/// Default number of lines of `goblock.hotLines`.
pub const DEFAULT_LIMIT: usize = 50;

/// The path argument of `goblock.loadTrace` (a path or a `file://` URI,
/// possibly inside `{"path": …}`).
pub fn load_trace_arg(args: &[Value]) -> Option<PathBuf> {
    let a = args.first()?;
    let s = a
        .as_str()
        .or_else(|| a.get("path").and_then(Value::as_str))?;
    if s.starts_with("file://") {
        crate::uri::to_path(s)
    } else {
        Some(PathBuf::from(s))
    }
}

/// The limit argument of `goblock.hotLines`.
pub fn hot_lines_limit(args: &[Value]) -> usize {
    let a = args.first();
    a.and_then(Value::as_u64)
        .or_else(|| a.and_then(|a| a.get("limit")).and_then(Value::as_u64))
        .map(|n| n as usize)
        .unwrap_or(DEFAULT_LIMIT)
}

fn ms(ns: u64) -> f64 {
    (ns as f64 / 1e4).round() / 100.0
}

/// The result of `goblock.hotLines`: lines where they are shown now
/// (`line`; `recordedLine` as traced), placed by `reloc`; the hottest lines
/// that cannot be placed in today's text are listed under `stale`.
pub(crate) fn hot_lines(snap: &Snapshot, limit: usize, loading: bool, reloc: &Relocator) -> Value {
    let traces: Vec<Value> = snap
        .traces
        .iter()
        .filter_map(|t| {
            let a = t.loaded.analysis.trace()?;
            Some(json!({
                "path": t.path,
                "goVersion": a.summary.go_version,
                "bytes": a.summary.bytes,
                "durationMs": ms(a.summary.duration_ns),
                "episodes": a.episodes,
                "symbolization": a.symbolization.kind,
                "binary": a.symbolization.binary,
                "notes": a.symbolization.all_notes().collect::<Vec<_>>(),
                "warnings": a.summary.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
                "partial": t.partial,
            }))
        })
        .collect();
    let failures: Vec<Value> = snap
        .failures
        .iter()
        .map(|f| json!({"path": f.path, "message": f.message}))
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
        let Some(now) = reloc.line(file, *line, &a.function) else {
            stale.push(json!({
                "file": &**file,
                "uri": crate::uri::from_path(std::path::Path::new(&**file)),
                "recordedLine": line,
                "function": &*a.function,
                "totalNs": a.total_ns(),
                "label": list_label(a),
            }));
            continue;
        };
        lines.push(json!({
            "file": &**file,
            "uri": crate::uri::from_path(std::path::Path::new(&**file)),
            "line": now,
            "recordedLine": line,
            "function": &*a.function,
            "kind": a.kind,
            "reasons": a.reasons.iter().map(|r| &*r.0).collect::<Vec<_>>(),
            "count": a.count(),
            "totalNs": a.total_ns(),
            "totalMs": ms(a.total_ns()),
            "p50Ms": ms(a.hist.quantile(0.5)),
            "p99Ms": ms(a.hist.quantile(0.99)),
            "maxMs": ms(a.max_ns),
            "share": (a.share * 10_000.0).round() / 10_000.0,
            "inWorkspace": a.in_workspace,
            "message": diagnostic_message(a),
            "label": list_label(a),
        }));
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
    let files: Vec<Value> = files
        .into_iter()
        .map(|(file, in_ws, total, n)| {
            json!({
                "file": file,
                "uri": crate::uri::from_path(std::path::Path::new(file)),
                "inWorkspace": in_ws,
                "lines": n,
                "totalNs": total,
                "label": duration_label(total),
            })
        })
        .collect();
    let unmapped: Vec<Value> = snap
        .index
        .unmapped
        .iter()
        .map(|u| {
            json!({
                "recorded": &*u.recorded,
                "lines": u.lines,
                "count": u.total.count,
                "totalMs": ms(u.total.total_ns),
            })
        })
        .collect();
    json!({
        "loading": loading,
        "traces": traces,
        "inputs": crate::dumps::status::inputs_json(snap),
        "parked": crate::dumps::status::lines_json(snap, limit),
        "failures": failures,
        "totalNs": snap.index.total_ns,
        "totalMs": ms(snap.index.total_ns),
        "totalLabel": duration_label(snap.index.total_ns),
        "categories": snap.settings.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "lines": lines,
        "stale": stale,
        "files": files,
        "unmapped": unmapped,
    })
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
        assert_eq!(hot_lines_limit(&[json!(5)]), 5);
        assert_eq!(hot_lines_limit(&[json!({"limit": 7})]), 7);
        assert_eq!(hot_lines_limit(&[]), DEFAULT_LIMIT);
        let snap = Snapshot::default();
        let open = Default::default();
        let empty = hot_lines(&snap, 10, false, &Relocator::new(&snap, &open));
        assert_eq!(empty["lines"], json!([]));
    }
}
