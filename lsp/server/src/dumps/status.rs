//! What the status says about loaded goroutine dumps and profiles: their
//! log lines when loaded, their entries in `goblock.hotLines`
//! (`inputs`: one per file, with its `kind` as in the report's JSON) and
//! the lines they annotate (`parked`: goroutines parked now, sampled
//! contention), each with the labels clients show.
//!
//! The types of [`crate::protocol`] and text; knows no LSP types.

use std::path::Path;

use crate::dumps::lines::ProfileFigures;
use crate::loader::Analysis;
use crate::protocol::{InputInfo, InputLines, ParkedLine, SampledFigures, StaleLine};
use crate::relocate::Relocator;
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

fn line_counts(analysis: &Analysis) -> Option<InputLines> {
    let c = match analysis {
        Analysis::Trace(_) => return None,
        Analysis::Dump(d) => d.table.line_counts(),
        Analysis::Profile(p) => p.table.line_counts(),
    };
    Some(InputLines {
        user: c.user as u64,
        library: c.library as u64,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The `inputs` of `goblock.hotLines`: every loaded dump and profile.
pub fn inputs(snap: &Snapshot) -> Vec<InputInfo> {
    snap.traces
        .iter()
        .filter_map(|t| match &t.loaded.analysis {
            Analysis::Trace(_) => None,
            Analysis::Dump(d) => {
                let last = d.last();
                Some(InputInfo {
                    path: t.path.clone(),
                    kind: "goroutine-dump".into(),
                    bytes: d.summary.bytes,
                    goroutines: Some(last.map_or(0, |s| s.goroutines)),
                    snapshots: Some(d.snapshots.len() as u64),
                    message: last.and_then(|s| s.message.clone()),
                    deadlock: Some(last.is_some_and(|s| s.deadlock)),
                    warnings: d.summary.warnings.iter().map(|w| w.to_string()).collect(),
                    lines: line_counts(&t.loaded.analysis),
                    label: render::dumps::input_label(&t.loaded.analysis),
                    ..Default::default()
                })
            }
            Analysis::Profile(p) => Some(InputInfo {
                path: t.path.clone(),
                kind: p.kind.name().into(),
                bytes: p.bytes,
                format: Some(p.format.into()),
                samples: Some(p.samples),
                sampled: Some(p.kind != goblock_dumps::ProfileKind::Goroutine),
                symbolization: Some(p.symbolization.kind.into()),
                binary: p.symbolization.binary.clone(),
                notes: Some(p.symbolization.notes.clone()),
                warnings: p.warnings.clone(),
                lines: line_counts(&t.loaded.analysis),
                label: render::dumps::input_label(&t.loaded.analysis),
                ..Default::default()
            }),
        })
        .collect()
}

/// The `parked` lines of `goblock.hotLines`: lines with goroutines parked
/// now or sampled contention, flagged lines first (deadlock, blocked
/// forever, likely leak), then by goroutines and delay; at most `limit`.
/// Each is where it is shown now (`line`; `recordedLine` as dumped),
/// placed by `reloc` like every other surface; the rows that cannot be
/// placed in today's text are returned second, as rows of `stale`.
pub(crate) fn parked(
    snap: &Snapshot,
    limit: usize,
    reloc: &Relocator,
) -> (Vec<ParkedLine>, Vec<StaleLine>) {
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
    let figures = |f: &Option<ProfileFigures>, label: Option<String>| {
        f.as_ref().map(|f| SampledFigures {
            count: f.flat.count,
            total_ns: f.flat.total_ns,
            sampled: true,
            label: label.unwrap_or_default(),
        })
    };
    let mut stale = Vec::new();
    let parked = rows
        .into_iter()
        .take(limit)
        .filter_map(|(_, _, _, file, a)| {
            let uri = crate::uri::from_path(Path::new(&*file));
            let Some(line) = reloc.line(&file, a.line, &a.function) else {
                stale.push(StaleLine {
                    file: file.to_string(),
                    uri,
                    recorded_line: a.line,
                    function: a.function.to_string(),
                    total_ns: a.total_ns(),
                    label: render::dumps::list_label(a),
                });
                return None;
            };
            let p = a.parked_now.as_ref();
            let s = a.sampled.as_ref();
            let parts = render::dumps::list_parts(a);
            Some(ParkedLine {
                file: file.to_string(),
                uri,
                line,
                recorded_line: a.line,
                function: a.function.to_string(),
                in_workspace: a.in_workspace,
                goroutines: p.map(|p| p.total()),
                started_here: p.map(|p| p.started_here).filter(|&n| n > 0),
                not_started: p.map(|p| p.not_started).filter(|&n| n > 0),
                statuses: p.map(|p| p.statuses.iter().map(|s| s.0.to_string()).collect()),
                flag: p
                    .and_then(|p| p.level)
                    .map(|l| render::dumps::flag_name(l).to_owned()),
                parked_label: p.and(parts.parked),
                block: s.and_then(|s| figures(&s.block, parts.block)),
                mutex: s.and_then(|s| figures(&s.mutex, parts.mutex)),
                label: render::dumps::list_label(a),
            })
        })
        .collect();
    (parked, stale)
}
