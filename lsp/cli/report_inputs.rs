//! The goroutine-dump and pprof-profile part of `goblock report`: the
//! analysis of the arguments `input::open` sniffed as dumps or profiles,
//! their JSON entries and their table sections. Traces stay in
//! `report.rs`; each kind keeps its own figures (a dump's goroutines, a
//! profile's contentions and delay) and nothing is summed across kinds or
//! across files. Format documented in docs/report.md.

use std::fmt::Write as _;

use goblock_analysis::dumps::{DumpAnalysis, DumpLine, analyze_dump_input};
use goblock_analysis::input::{Input, Kind};
use goblock_analysis::lines::LineKey;
use goblock_analysis::profiles::{
    ProfileAnalysis, ProfileLine, ProfileLineKey, analyze_profile_input,
};
use goblock_analysis::{BinaryChoice, Workspace};
use goblock_dumps::ProfileKind;
use goblock_server::on_disk::OnDisk;
use goblock_trace::Category;
use serde::Serialize;

use goblock_analysis::units;

use super::report::source_line;

/// A dump or a profile, analysed.
pub enum Analysed {
    /// A goroutine dump.
    Dump(DumpAnalysis),
    /// A pprof profile.
    Profile(ProfileAnalysis),
}

impl Analysed {
    /// Its file.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Analysed::Dump(d) => &d.path,
            Analysed::Profile(p) => &p.path,
        }
    }

    /// A profile's file and how its frames were resolved (dumps carry
    /// their lines and use no binary).
    pub fn symbolization(&self) -> Option<(&std::path::Path, &goblock_analysis::Symbolization)> {
        match self {
            Analysed::Dump(_) => None,
            Analysed::Profile(p) => Some((p.path.as_path(), &p.symbolization)),
        }
    }
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

/// A `created by` site, placed in the file as it is now like a line.
#[derive(Serialize)]
struct JsonSite {
    function: String,
    file: String,
    /// Now (as recorded when stale).
    line: u32,
    /// As recorded, when the site moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_line: Option<u32>,
    /// Why the site cannot be placed in the file as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    stale: Option<String>,
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
    /// `workspace`, `dependency`, `std`, `generated` or `other`, as for traces.
    class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    goroutines: Option<u64>,
    /// Of `goroutines`: those with no frame in the program, charged to the
    /// `go` statement that started them.
    #[serde(skip_serializing_if = "Option::is_none")]
    started_here: Option<u64>,
    /// Of `goroutines`: those not started yet, at their `go` statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    not_started: Option<u64>,
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
    /// The line as recorded, when the source was edited since and the line
    /// moved to `line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_line: Option<u32>,
    /// In `stale`: why the line cannot be placed in the source now.
    #[serde(skip_serializing_if = "Option::is_none")]
    stale: Option<String>,
}

/// Where a line of a dump or profile is now: its line in the source, or
/// why it cannot be told (stale).
type Now = Result<u32, String>;

/// The lines of one dump or profile after `--categories`, `--library`
/// and `--top`, ranked as shown; shared by the table and the JSON.
struct Selection<'a> {
    /// Dump lines shown (and stale ones): most goroutines first.
    dump: Vec<(&'a LineKey, &'a DumpLine, Now)>,
    /// Profile lines shown (and stale ones): largest delay (goroutines)
    /// first.
    profile: Vec<(&'a ProfileLineKey, &'a ProfileLine, Now)>,
    /// Lines left out as runtime, standard library or dependency code
    /// (`--library` shows them).
    hidden_library: usize,
    /// Dump lines of categories not asked for (`--categories`).
    other_categories: usize,
    /// Lines left out by `--top` (0 = all).
    beyond_top: usize,
}

impl Selection<'_> {
    fn shown(&self) -> usize {
        self.dump.len() + self.profile.len()
    }

    /// The stale lines: recorded file, line and function, and why.
    fn stale(&self) -> impl Iterator<Item = (&str, u32, &str, &str)> {
        let dump = self.dump.iter().filter_map(|(k, l, now)| {
            let why = now.as_ref().err()?;
            Some((&*k.file, k.line, &*l.function, why.as_str()))
        });
        let profile = self.profile.iter().filter_map(|(k, l, now)| {
            let why = now.as_ref().err()?;
            Some((&*k.file, k.line, &*l.function, why.as_str()))
        });
        dump.chain(profile)
    }

    /// Why nothing is shown, or what is not: one sentence per reason.
    fn not_shown(&self, top: usize) -> Vec<String> {
        const LIBRARY: &str = "library code (runtime, standard library, dependencies)";
        let mut v = Vec::new();
        let everything = self.shown() == 0 && self.beyond_top == 0;
        let n = self.hidden_library;
        if n > 0 && everything && self.other_categories == 0 {
            v.push(if n == 1 {
                format!("the only line is in {LIBRARY}; --library shows it")
            } else {
                format!("all {n} lines are in {LIBRARY}; --library shows them")
            });
        } else if n > 0 {
            v.push(format!(
                "{} of {LIBRARY} not shown; --library shows {}",
                plural(n, "line"),
                if n == 1 { "it" } else { "them" }
            ));
        }
        if self.other_categories > 0 {
            v.push(format!(
                "{} of other categories not shown; --categories all shows {}",
                plural(self.other_categories, "line"),
                if self.other_categories == 1 {
                    "it"
                } else {
                    "them"
                }
            ));
        }
        if self.beyond_top > 0 {
            v.push(format!(
                "{} beyond --top {top}; --top 0 shows all",
                plural(self.beyond_top, "more line")
            ));
        }
        if everything && v.is_empty() {
            v.push("nothing to show: no goroutine or sample has a stack".into());
        }
        v
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `--top N`: the first N; 0 = all.
fn take_top<T>(mut v: Vec<T>, top: usize) -> (Vec<T>, usize) {
    if top == 0 || v.len() <= top {
        return (v, 0);
    }
    let beyond = v.len() - top;
    v.truncate(top);
    (v, beyond)
}

/// Selects what is shown of `a`, each line placed in the source now
/// (stale lines ranked among the others, shown apart). `earlier`: keep
/// dump lines that only had goroutines in an earlier dump of the file (the
/// JSON's `per_snapshot`).
fn select<'a>(
    a: &'a Analysed,
    cats: &[Category],
    library: bool,
    top: usize,
    earlier: bool,
    on_disk: &mut OnDisk,
) -> Selection<'a> {
    let mut sel = Selection {
        dump: Vec::new(),
        profile: Vec::new(),
        hidden_library: 0,
        other_categories: 0,
        beyond_top: 0,
    };
    match a {
        Analysed::Dump(d) => {
            let several = earlier && d.snapshots.len() > 1;
            let mut rows = Vec::new();
            for (k, l) in &d.table.lines {
                if !(l.goroutines > 0 || several) {
                    continue;
                }
                if !cats.contains(&k.category) {
                    sel.other_categories += 1;
                } else if l.library && !library {
                    sel.hidden_library += 1;
                } else {
                    rows.push((k, l, on_disk.place(&k.file, k.line, &l.function)));
                }
            }
            rows.sort_by(|a, b| b.1.goroutines.cmp(&a.1.goroutines).then(a.0.cmp(b.0)));
            (sel.dump, sel.beyond_top) = take_top(rows, top);
        }
        Analysed::Profile(p) => {
            let mut rows = Vec::new();
            for (k, l) in p.table.hottest() {
                if l.library && !library {
                    sel.hidden_library += 1;
                } else {
                    rows.push((k, l, on_disk.place(&k.file, k.line, &l.function)));
                }
            }
            (sel.profile, sel.beyond_top) = take_top(rows, top);
        }
    }
    sel
}

/// The JSON lines of one dump or profile, and what was left out.
pub struct InputLines {
    /// The lines, ranked.
    pub lines: Vec<JsonLine>,
    /// The stale lines (their source changed since the recording; where
    /// they are now cannot be told), ranked.
    pub stale: Vec<JsonLine>,
    /// Library lines left out (`--library` shows them).
    pub hidden_library: usize,
    /// Lines beyond `--top`.
    pub beyond_top: usize,
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

/// A recorded line placed in its file as it is now ([`OnDisk::place`]) as
/// the JSON gives it: `line` (now, or as recorded when stale),
/// `recorded_line` (when it moved) and `stale` (why it cannot be placed).
fn placement(recorded: u32, now: &Result<u32, String>) -> (u32, Option<u32>, Option<String>) {
    match now {
        Ok(n) => (*n, (*n != recorded).then_some(recorded), None),
        Err(why) => (recorded, None, Some(why.clone())),
    }
}

/// The JSON lines of an analysed dump or profile (input index `input`),
/// after `--categories`, `--library` and `--top` as the table.
pub fn json_lines(
    a: &Analysed,
    input: usize,
    cats: &[Category],
    library: bool,
    top: usize,
    on_disk: &mut OnDisk,
) -> InputLines {
    let sel = select(a, cats, library, top, true, on_disk);
    let all: Vec<JsonLine> = match a {
        Analysed::Dump(d) => {
            let several = d.snapshots.len() > 1;
            sel.dump
                .iter()
                .map(|(k, l, now)| (k, l, placement(k.line, now)))
                .map(|(k, l, (line, recorded_line, stale))| JsonLine {
                    kind: "goroutine-dump",
                    input,
                    file: k.file.to_string(),
                    line,
                    function: l.function.to_string(),
                    class: l.class.as_str(),
                    category: Some(k.category.as_str()),
                    reason: Some(k.reason.to_string()),
                    goroutines: Some(l.goroutines),
                    started_here: (l.started_here > 0).then_some(l.started_here),
                    not_started: (l.not_started > 0).then_some(l.not_started),
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
                                created_by: g.creator.as_ref().map(|s| {
                                    let now = on_disk.place(&s.file, s.line, &s.function);
                                    let (line, recorded_line, stale) = placement(s.line, &now);
                                    JsonSite {
                                        function: g
                                            .creator_function
                                            .as_deref()
                                            .unwrap_or(&s.function)
                                            .to_owned(),
                                        file: s.file.to_string(),
                                        line,
                                        recorded_line,
                                        stale,
                                    }
                                }),
                                labels: g.labels.iter().map(|l| l.to_string()).collect(),
                            })
                            .collect(),
                    ),
                    flat: None,
                    cum: None,
                    sampled: None,
                    recorded_line,
                    stale,
                })
                .collect()
        }
        Analysed::Profile(p) => {
            let goroutines = p.kind == ProfileKind::Goroutine;
            sel.profile
                .iter()
                .map(|(k, l, now)| (k, l, placement(k.line, now)))
                .map(|(k, l, (line, recorded_line, stale))| JsonLine {
                    kind: profile_kind(&p.kind),
                    input,
                    file: k.file.to_string(),
                    line,
                    function: l.function.to_string(),
                    class: l.class.as_str(),
                    category: None,
                    reason: None,
                    goroutines: goroutines.then_some(l.flat.count),
                    started_here: None,
                    not_started: None,
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
                    recorded_line,
                    stale,
                })
                .collect()
        }
    };
    let (stale, lines) = all.into_iter().partition(|l| l.stale.is_some());
    InputLines {
        lines,
        stale,
        hidden_library: sel.hidden_library,
        beyond_top: sel.beyond_top,
    }
}

/// The table section of one dump or profile.
pub fn render(
    a: &Analysed,
    cats: &[Category],
    top: usize,
    library: bool,
    display: &dyn Fn(&str) -> String,
    on_disk: &mut OnDisk,
) -> String {
    let mut o = String::new();
    let sel = select(a, cats, library, top, false, on_disk);
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
            let mut grid = vec![[
                "GOROUTINES".to_owned(),
                "STATUS".into(),
                "LONGEST".into(),
                "LOCATION".into(),
                "SOURCE".into(),
            ]];
            for (k, l, now) in &sel.dump {
                let &Ok(line) = now else { continue };
                grid.push([
                    l.goroutines.to_string(),
                    {
                        let mut s = k.reason.to_string();
                        if l.forever {
                            s.push_str(" (never wakes)");
                        }
                        for (n, what) in [
                            (l.started_here, "started here, in library code"),
                            (l.not_started, "created here, not started yet"),
                        ] {
                            if n == l.goroutines && n > 0 {
                                let _ = write!(s, " ({what})");
                            } else if n > 0 {
                                let _ = write!(s, " ({n} {what})");
                            }
                        }
                        s
                    },
                    l.max_minutes.map_or("-".into(), |m| units::minutes(m, m)),
                    format!("{}:{}", display(&k.file), line),
                    source_line(on_disk, &k.file, line).unwrap_or_default(),
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
            for (k, l, now) in &sel.profile {
                let &Ok(line) = now else { continue };
                let loc = format!("{}:{}", display(&k.file), line);
                let src = source_line(on_disk, &k.file, line).unwrap_or_default();
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
    let stale: Vec<_> = sel.stale().collect();
    if !stale.is_empty() {
        let _ = writeln!(
            o,
            "  {} {} stale, not shown on any line: the source changed since the recording and where {} now cannot be told (`--format json` lists {} under \"stale\"):",
            plural(stale.len(), "line"),
            if stale.len() == 1 { "is" } else { "are" },
            if stale.len() == 1 {
                "it is"
            } else {
                "they are"
            },
            if stale.len() == 1 { "it" } else { "them" },
        );
        for (file, line, function, why) in stale {
            let _ = writeln!(
                o,
                "    {}:{} as recorded ({function}): {why}",
                display(file),
                line
            );
        }
    }
    for n in sel.not_shown(top) {
        let _ = writeln!(o, "  {n}");
    }
    o
}

/// Aligns a grid: the first `right` columns right-aligned, the last one
/// (source text) unpadded.
fn grid_text<const N: usize>(grid: &[[String; N]], right: usize) -> String {
    if grid.len() <= 1 {
        return String::new();
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
