//! The goroutine-dump and pprof-profile part of `goblock report`: the
//! analysis of the arguments `input::open` sniffed as dumps or profiles,
//! their JSON entries and their table sections. Traces stay in
//! `report.rs`; each kind keeps its own figures (a dump's goroutines, a
//! profile's contentions and delay) and nothing is summed across kinds or
//! across files. Format documented in docs/report.md.

use std::fmt::Write as _;

use goblock_analysis::dumps::{DumpAnalysis, analyze_dump_input};
use goblock_analysis::input::{Input, Kind};
use goblock_analysis::profiles::{ProfileAnalysis, analyze_profile_input};
use goblock_analysis::{BinaryChoice, Workspace};
use goblock_dumps::ProfileKind;
use goblock_trace::Category;
use serde::Serialize;

use goblock_analysis::units;

use super::report::SourceCache;

/// A dump or a profile, analysed.
pub enum Analysed {
    /// A goroutine dump.
    Dump(DumpAnalysis),
    /// A pprof profile.
    Profile(ProfileAnalysis),
}

/// Analyses an opened dump or profile.
pub fn analyze(input: &Input, ws: &Workspace, binary: &BinaryChoice) -> Result<Analysed, String> {
    let mut go_on = |_, _| std::ops::ControlFlow::Continue(());
    if input.kind() == Kind::GoroutineDump {
        analyze_dump_input(input, ws, &mut go_on)
            .map(Analysed::Dump)
            .map_err(|e| e.to_string())
    } else {
        analyze_profile_input(input, ws, binary, &mut go_on)
            .map(Analysed::Profile)
            .map_err(|e| e.to_string())
    }
}

/// The JSON `kind` of a profile.
pub fn profile_kind(k: &ProfileKind) -> &'static str {
    k.name()
}

/// One input entry of the JSON `traces` array for a dump or profile.
#[derive(Serialize)]
pub struct JsonInput {
    path: String,
    kind: &'static str,
    bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    goroutines: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshots: Option<Vec<JsonSnapshot>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sampled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<JsonTotals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    symbolization: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary: Option<String>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct JsonSnapshot {
    offset: u64,
    goroutines: u64,
    deadlock: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Serialize)]
struct JsonTotals {
    count: u64,
    total_ns: u64,
}

#[derive(Serialize)]
struct JsonGroup {
    count: u64,
    status: String,
    ids: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minutes: Option<[u32; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<JsonSite>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<String>,
}

#[derive(Serialize)]
struct JsonSite {
    function: String,
    file: String,
    line: u32,
}

/// One line of a dump or profile in the JSON `lines` array.
#[derive(Serialize)]
pub struct JsonLine {
    kind: &'static str,
    /// Index of the input in `traces`.
    input: usize,
    file: String,
    line: u32,
    function: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    goroutines: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_minutes: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    forever: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_snapshot: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<JsonGroup>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flat: Option<JsonTotals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cum: Option<JsonTotals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sampled: Option<bool>,
}

/// The JSON input entry of an analysed dump or profile.
pub fn json_input(a: &Analysed) -> JsonInput {
    match a {
        Analysed::Dump(d) => JsonInput {
            path: d.path.display().to_string(),
            kind: "goroutine-dump",
            bytes: d.summary.bytes,
            goroutines: Some(d.last().map_or(0, |s| s.goroutines)),
            snapshots: Some(
                d.snapshots
                    .iter()
                    .map(|s| JsonSnapshot {
                        offset: s.offset,
                        goroutines: s.goroutines,
                        deadlock: s.deadlock,
                        message: s.message.clone(),
                    })
                    .collect(),
            ),
            format: None,
            samples: None,
            sampled: None,
            total: None,
            symbolization: None,
            binary: None,
            warnings: d.summary.warnings.iter().map(ToString::to_string).collect(),
        },
        Analysed::Profile(p) => JsonInput {
            path: p.path.display().to_string(),
            kind: profile_kind(&p.kind),
            bytes: p.bytes,
            goroutines: (p.kind == ProfileKind::Goroutine).then_some(p.table.total.count),
            snapshots: None,
            format: Some(p.format),
            samples: Some(p.samples),
            sampled: Some(p.kind != ProfileKind::Goroutine),
            total: (p.kind != ProfileKind::Goroutine).then_some(JsonTotals {
                count: p.table.total.count,
                total_ns: p.table.total.total_ns,
            }),
            symbolization: Some(p.symbolization.kind),
            binary: p
                .symbolization
                .binary
                .as_ref()
                .map(|b| b.display().to_string()),
            warnings: p
                .warnings
                .iter()
                .cloned()
                .chain(p.symbolization.all_notes().cloned())
                .collect(),
        },
    }
}

/// The JSON lines of an analysed dump or profile (input index `input`).
pub fn json_lines(a: &Analysed, input: usize, cats: &[Category]) -> Vec<JsonLine> {
    match a {
        Analysed::Dump(d) => {
            let several = d.snapshots.len() > 1;
            let mut v: Vec<_> = d
                .table
                .lines
                .iter()
                .filter(|(k, l)| cats.contains(&k.category) && (l.goroutines > 0 || several))
                .collect();
            v.sort_by(|a, b| b.1.goroutines.cmp(&a.1.goroutines).then(a.0.cmp(b.0)));
            v.into_iter()
                .map(|(k, l)| JsonLine {
                    kind: "goroutine-dump",
                    input,
                    file: k.file.to_string(),
                    line: k.line,
                    function: l.function.to_string(),
                    category: Some(k.category.as_str()),
                    reason: Some(k.reason.to_string()),
                    goroutines: Some(l.goroutines),
                    max_minutes: l.max_minutes,
                    forever: l.forever,
                    per_snapshot: several.then(|| {
                        (0..d.snapshots.len() as u32)
                            .map(|s| l.per_snapshot.get(&s).copied().unwrap_or(0))
                            .collect()
                    }),
                    groups: Some(
                        l.groups
                            .iter()
                            .map(|g| JsonGroup {
                                count: g.count,
                                status: g.status.to_string(),
                                ids: g.ids.clone(),
                                minutes: g.minutes.map(|(a, b)| [a, b]),
                                created_by: g.creator.as_ref().map(|s| JsonSite {
                                    function: g
                                        .creator_function
                                        .as_deref()
                                        .unwrap_or(&s.function)
                                        .to_owned(),
                                    file: s.file.to_string(),
                                    line: s.line,
                                }),
                                labels: g.labels.iter().map(|l| l.to_string()).collect(),
                            })
                            .collect(),
                    ),
                    flat: None,
                    cum: None,
                    sampled: None,
                })
                .collect()
        }
        Analysed::Profile(p) => {
            let goroutines = p.kind == ProfileKind::Goroutine;
            p.table
                .hottest()
                .into_iter()
                .map(|(k, l)| JsonLine {
                    kind: profile_kind(&p.kind),
                    input,
                    file: k.file.to_string(),
                    line: k.line,
                    function: l.function.to_string(),
                    category: None,
                    reason: None,
                    goroutines: goroutines.then_some(l.flat.count),
                    max_minutes: None,
                    forever: false,
                    per_snapshot: None,
                    groups: None,
                    flat: (!goroutines).then_some(JsonTotals {
                        count: l.flat.count,
                        total_ns: l.flat.total_ns,
                    }),
                    cum: Some(JsonTotals {
                        count: l.cum.count,
                        total_ns: l.cum.total_ns,
                    }),
                    sampled: (!goroutines).then_some(true),
                })
                .collect()
        }
    }
}

/// The table section of one dump or profile.
pub fn render(
    a: &Analysed,
    cats: &[Category],
    top: usize,
    library: bool,
    display: &dyn Fn(&str) -> String,
    sources: &mut SourceCache,
) -> String {
    let mut o = String::new();
    match a {
        Analysed::Dump(d) => {
            let last = d.last();
            let _ = writeln!(
                o,
                "\n{}: goroutine dump, {} goroutines{}",
                d.path.display(),
                last.map_or(0, |s| s.goroutines),
                if d.snapshots.len() > 1 {
                    format!(
                        " in the last of {} dumps (per dump: {})",
                        d.snapshots.len(),
                        d.snapshots
                            .iter()
                            .map(|s| s.goroutines.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    String::new()
                }
            );
            if let Some(m) = last.and_then(|s| s.message.as_deref()) {
                let first = m.lines().next().unwrap_or(m);
                let _ = writeln!(o, "  {first}");
            }
            for w in &d.summary.warnings {
                let _ = writeln!(o, "  warning: {w}");
            }
            let mut rows: Vec<_> = d
                .table
                .lines
                .iter()
                .filter(|(k, l)| {
                    cats.contains(&k.category) && l.goroutines > 0 && (library || !l.library)
                })
                .collect();
            rows.sort_by(|a, b| b.1.goroutines.cmp(&a.1.goroutines).then(a.0.cmp(b.0)));
            let mut grid = vec![[
                "GOROUTINES".to_owned(),
                "STATUS".into(),
                "LONGEST".into(),
                "LOCATION".into(),
                "SOURCE".into(),
            ]];
            for (k, l) in rows.iter().take(top) {
                grid.push([
                    l.goroutines.to_string(),
                    if l.forever {
                        format!("{} (never wakes)", k.reason)
                    } else {
                        k.reason.to_string()
                    },
                    l.max_minutes.map_or("-".into(), |m| units::minutes(m, m)),
                    format!("{}:{}", display(&k.file), k.line),
                    sources.line(&k.file, k.line).unwrap_or_default(),
                ]);
            }
            o.push_str(&grid_text(&grid, 1));
        }
        Analysed::Profile(p) => {
            let goroutines = p.kind == ProfileKind::Goroutine;
            let what = match p.kind {
                ProfileKind::Mutex => {
                    "mutex profile (sampled; stacks are where contention ended: the figures are how long each critical section delayed others)"
                }
                ProfileKind::Block => "block profile (sampled; stacks of the waiters)",
                ProfileKind::Goroutine => "goroutine profile",
                _ => "contention profile (sampled)",
            };
            let _ = writeln!(
                o,
                "\n{}: {what}, {} {}, frames from {}{}",
                p.path.display(),
                p.table.total.count,
                if goroutines {
                    "goroutines"
                } else {
                    "contentions"
                },
                p.symbolization
                    .binary
                    .as_ref()
                    .map(|b| format!("the DWARF of {}", b.display()))
                    .unwrap_or_else(|| "the profile".into()),
                if goroutines {
                    String::new()
                } else {
                    format!(", {} delay", units::duration(p.table.total.total_ns))
                }
            );
            for w in &p.warnings {
                let _ = writeln!(o, "  warning: {w}");
            }
            for n in &p.symbolization.notes {
                let _ = writeln!(o, "  note: {n}");
            }
            if let Some(n) = p.symbolization.passed_over_summary() {
                let _ = writeln!(o, "  note: {n}; --format json says why");
            }
            let rows: Vec<_> = p
                .table
                .hottest()
                .into_iter()
                .filter(|(_, l)| library || !l.library)
                .take(top)
                .collect();
            let mut grid = if goroutines {
                vec![[
                    "GOROUTINES".to_owned(),
                    String::new(),
                    "LOCATION".into(),
                    "SOURCE".into(),
                ]]
            } else {
                vec![[
                    if p.kind == ProfileKind::Mutex {
                        "DELAYED OTHERS".to_owned()
                    } else {
                        "DELAY".to_owned()
                    },
                    "CONTENTIONS".into(),
                    "LOCATION".into(),
                    "SOURCE".into(),
                ]]
            };
            for (k, l) in rows {
                let loc = format!("{}:{}", display(&k.file), k.line);
                let src = sources.line(&k.file, k.line).unwrap_or_default();
                grid.push(if goroutines {
                    [l.flat.count.to_string(), String::new(), loc, src]
                } else {
                    [
                        units::duration(l.flat.total_ns),
                        l.flat.count.to_string(),
                        loc,
                        src,
                    ]
                });
            }
            o.push_str(&grid_text(&grid, 2));
        }
    }
    o
}

/// Aligns a grid: the first `right` columns right-aligned, the last one
/// (source text) unpadded.
fn grid_text<const N: usize>(grid: &[[String; N]], right: usize) -> String {
    if grid.len() <= 1 {
        return "  (no lines in the selected categories)\n".into();
    }
    let mut widths = [0usize; N];
    for r in grid {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut o = String::new();
    for r in grid {
        let mut line = String::from("  ");
        for (i, c) in r.iter().enumerate() {
            if widths[i] == 0 {
                continue;
            }
            if i + 1 == N {
                line.push_str(c);
            } else if i < right {
                let _ = write!(line, "{:>w$}  ", c, w = widths[i]);
            } else {
                let _ = write!(line, "{:<w$}  ", c, w = widths[i]);
            }
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
    o
}
