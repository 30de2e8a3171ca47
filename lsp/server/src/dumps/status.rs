//! What the status says about loaded goroutine dumps and profiles: their
//! log lines when loaded, their entries in `goblock.hotLines`
//! (`inputs`: one per file, with its `kind` as in the report's JSON) and
//! the lines they annotate (`parked`: goroutines parked now, sampled
//! contention), each with the labels clients show.
//!
//! Plain JSON and text; knows no LSP types.

use std::path::Path;

use serde_json::{Value, json};

use crate::loader::Analysis;
use crate::render;
use crate::snapshot::Snapshot;

/// The log lines of a loaded dump or profile.
pub fn load_notes(path: &Path, analysis: &Analysis) -> String {
    let mut notes = Vec::new();
    match analysis {
        Analysis::Trace(_) => {}
        Analysis::Dump(d) => {
            let last = d.last();
            let mut head = format!(
                "goblock: {}: goroutine dump, {} goroutine(s)",
                path.display(),
                last.map_or(0, |s| s.goroutines)
            );
            if d.snapshots.len() > 1 {
                head.push_str(&format!(
                    " in the last of {} dumps (the file's earlier dumps are not shown)",
                    d.snapshots.len()
                ));
            }
            if let Some(m) = last.and_then(|s| s.message.as_deref()) {
                head.push_str(&format!("; {}", first_line(m)));
            }
            notes.push(head);
            notes.extend(
                d.summary
                    .warnings
                    .iter()
                    .map(|w| format!("goblock:   warning: {w}")),
            );
        }
        Analysis::Profile(p) => {
            notes.push(format!(
                "goblock: {}: {} ({}{}), {} sample(s), frames from {}",
                path.display(),
                p.kind.describe().trim_start_matches("a "),
                p.format,
                if p.kind == goblock_dumps::ProfileKind::Goroutine {
                    ""
                } else {
                    ", sampled"
                },
                p.samples,
                p.symbolization
                    .binary
                    .as_ref()
                    .map(|b| format!("the DWARF of {}", b.display()))
                    .unwrap_or_else(|| "the profile".into())
            ));
            notes.extend(
                p.symbolization
                    .notes
                    .iter()
                    .map(|n| format!("goblock:   {n}")),
            );
            notes.extend(
                p.warnings
                    .iter()
                    .map(|w| format!("goblock:   warning: {w}")),
            );
        }
    }
    if let Some(n) = only_library(analysis) {
        notes.push(format!("goblock:   {n}"));
    }
    notes.join("\n")
}

/// "all N lines are in library code …" when nothing of the input lands in
/// user code (a mutex profile of net/http's locks): said instead of
/// showing nothing without a word.
pub fn only_library(analysis: &Analysis) -> Option<String> {
    let c = match analysis {
        Analysis::Trace(_) => return None,
        Analysis::Dump(d) => d.table.line_counts(),
        Analysis::Profile(p) => p.table.line_counts(),
    };
    c.only_library().then(|| {
        if c.library == 1 {
            "the only line is in library code (runtime, standard library, dependencies): nothing to show in your code".to_owned()
        } else {
            format!(
                "all {} lines are in library code (runtime, standard library, dependencies): nothing to show in your code",
                c.library
            )
        }
    })
}

fn line_counts(analysis: &Analysis) -> Value {
    let c = match analysis {
        Analysis::Trace(_) => return Value::Null,
        Analysis::Dump(d) => d.table.line_counts(),
        Analysis::Profile(p) => p.table.line_counts(),
    };
    json!({"user": c.user, "library": c.library})
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The `inputs` of `goblock.hotLines`: every loaded dump and profile.
pub fn inputs_json(snap: &Snapshot) -> Value {
    let v: Vec<Value> = snap
        .traces
        .iter()
        .filter_map(|t| match &t.loaded.analysis {
            Analysis::Trace(_) => None,
            Analysis::Dump(d) => {
                let last = d.last();
                Some(json!({
                    "path": t.path,
                    "kind": "goroutine-dump",
                    "bytes": d.summary.bytes,
                    "goroutines": last.map_or(0, |s| s.goroutines),
                    "snapshots": d.snapshots.len(),
                    "message": last.and_then(|s| s.message.clone()),
                    "deadlock": last.is_some_and(|s| s.deadlock),
                    "warnings": d.summary.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
                    "lines": line_counts(&t.loaded.analysis),
                    "label": render::dumps::input_label(&t.loaded.analysis),
                }))
            }
            Analysis::Profile(p) => Some(json!({
                "path": t.path,
                "kind": p.kind.name(),
                "bytes": p.bytes,
                "format": p.format,
                "samples": p.samples,
                "sampled": p.kind != goblock_dumps::ProfileKind::Goroutine,
                "symbolization": p.symbolization.kind,
                "binary": p.symbolization.binary,
                "notes": p.symbolization.notes,
                "warnings": p.warnings,
                "lines": line_counts(&t.loaded.analysis),
                "label": render::dumps::input_label(&t.loaded.analysis),
            })),
        })
        .collect();
    Value::Array(v)
}

/// The `parked` lines of `goblock.hotLines`: lines with goroutines parked
/// now or sampled contention, flagged lines first (deadlock, blocked
/// forever, likely leak), then by goroutines and delay; at most `limit`.
pub fn lines_json(snap: &Snapshot, limit: usize) -> Value {
    let mut rows = Vec::new();
    for (file, fa) in &snap.index.files {
        for a in &fa.lines {
            if a.parked_now.is_none() && a.sampled.is_none() {
                continue;
            }
            let level = a.parked_now.as_ref().and_then(|p| p.level);
            let goroutines = a.parked_now.as_ref().map_or(0, |p| p.total());
            let delay = a.sampled.as_ref().map_or(0, |s| {
                s.block.as_ref().map_or(0, |f| f.flat.total_ns)
                    + s.mutex.as_ref().map_or(0, |f| f.flat.total_ns)
            });
            rows.push((level, goroutines, delay, file.clone(), a));
        }
    }
    rows.sort_by(|x, y| {
        y.0.cmp(&x.0)
            .then(y.1.cmp(&x.1))
            .then(y.2.cmp(&x.2))
            .then(x.3.cmp(&y.3))
            .then(x.4.line.cmp(&y.4.line))
    });
    let v: Vec<Value> = rows
        .into_iter()
        .take(limit)
        .map(|(_, _, _, file, a)| {
            let mut o = json!({
                "file": &*file,
                "uri": crate::uri::from_path(Path::new(&*file)),
                "line": a.line,
                "function": &*a.function,
                "inWorkspace": a.in_workspace,
                "label": render::dumps::list_label(a),
            });
            if let Some(p) = &a.parked_now {
                o["goroutines"] = json!(p.total());
                o["statuses"] = json!(p.statuses.iter().map(|s| &*s.0).collect::<Vec<_>>());
                o["flag"] = json!(p.level.map(render::dumps::flag_name));
            }
            if let Some(s) = &a.sampled {
                for (key, f) in [("block", &s.block), ("mutex", &s.mutex)] {
                    if let Some(f) = f {
                        o[key] = json!({"count": f.flat.count, "totalNs": f.flat.total_ns, "sampled": true});
                    }
                }
            }
            o
        })
        .collect();
    Value::Array(v)
}
