//! The text of goroutine dumps and profiles on every surface: inlay-hint
//! parts (`parked now: 312 goroutines · chan receive · longest ≥ 17 min`,
//! `1.2k contentions · 3.41 s delay (sampled)`, `critical section delayed
//! others by 2.10 s (sampled)`), diagnostics (likely leak, blocked forever,
//! deadlock), the hover sections (goroutines grouped by identical stack,
//! panicparse style, with their ids; the dump's panic message; sampled
//! profiles, a mutex profile's stacks being where contention ended) and the
//! status labels.
//!
//! Pure functions of an [`Annotation`]'s dump and profile parts; numbers
//! through [`goblock_analysis::units`]. Knows no LSP types and decides
//! nothing about which lines are shown.

use std::fmt::Write as _;
use std::sync::Arc;

use goblock_analysis::units::{count, count_short, duration, minutes, share};

use super::{Block, LabelPart, Related, Span, Table, reason_span};
use crate::annotations::{Annotation, Level, TraceMeta, short_site};
use crate::config::{Settings, Severity};
use crate::dumps::lines::{GroupRow, ParkedLevel, ParkedNow, ProfileFigures};
use crate::loader::Analysis;
use goblock_analysis::Site;

/// How many groups the hover lists.
pub const HOVER_GROUPS: usize = 8;
/// How many id ranges a group shows (`18–229, 240, 251–260`).
pub const HOVER_ID_RANGES: usize = 16;

/// The name of a flag in `goblock.hotLines` (`parked[].flag`).
pub fn flag_name(l: ParkedLevel) -> &'static str {
    match l {
        ParkedLevel::Parked => "parked",
        ParkedLevel::Leak => "likely-leak",
        ParkedLevel::Forever => "blocked-forever",
        ParkedLevel::Deadlock => "deadlock",
    }
}

fn goroutines(n: u64) -> String {
    format!("{} goroutine{}", count(n), if n == 1 { "" } else { "s" })
}

fn statuses(p: &ParkedNow) -> String {
    p.statuses
        .iter()
        .map(|s| if s.0.is_empty() { "waiting" } else { &*s.0 })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `n` (> 0) of the line's goroutines are all of them.
fn all_of(p: &ParkedNow, n: u64) -> bool {
    n > 0 && n == p.total()
}

/// `{n} {what}` when `n` is some, but not all, of the line's goroutines.
fn some_of(p: &ParkedNow, n: u64, what: &str) -> Option<String> {
    (n > 0 && !all_of(p, n)).then(|| format!("{} {what}", count(n)))
}

/// Every goroutine of the line runs library code only: the line is the
/// `go` statement that started them, not where they wait.
fn all_started_here(p: &ParkedNow) -> bool {
    all_of(p, p.started_here)
}

/// Every goroutine of the line was created here and had not started when
/// the dump was taken.
fn all_not_started(p: &ParkedNow) -> bool {
    all_of(p, p.not_started)
}

/// `2 not started yet` when some (not all) of the line's goroutines are.
fn some_not_started(p: &ParkedNow) -> Option<String> {
    some_of(p, p.not_started, "not started yet")
}

/// `2 started here, parked in library code` (or nothing).
fn some_started_here(p: &ParkedNow) -> Option<String> {
    some_of(p, p.started_here, "started here, parked in library code")
}

/// `parked now: 312 goroutines · chan receive · longest ≥ 17 min`, or
/// `started here: 3 goroutines parked in library code · select` on a `go`
/// statement whose goroutines have no frame of the program.
fn parked_text(p: &ParkedNow) -> String {
    let mut t = if all_started_here(p) {
        format!(
            "started here: {} parked in library code",
            goroutines(p.total())
        )
    } else if all_not_started(p) {
        format!("created here: {}, not started yet", goroutines(p.total()))
    } else {
        format!("parked now: {}", goroutines(p.total()))
    };
    if let Some(s) = some_started_here(p) {
        let _ = write!(t, " ({s})");
    }
    if let Some(s) = some_not_started(p) {
        let _ = write!(t, " ({s})");
    }
    if p.goroutines == 0 {
        t.push_str(" (goroutine profile)");
    } else if !p.statuses.is_empty() {
        let _ = write!(t, " · {}", statuses(p));
    }
    if let Some((_, hi)) = p.minutes {
        let _ = write!(t, " · longest {}", minutes(hi, hi));
    }
    t
}

/// The flag in front of a dump line's text, if any.
fn flag_text(p: &ParkedNow) -> Option<&'static str> {
    match p.level? {
        ParkedLevel::Deadlock => Some("deadlock"),
        ParkedLevel::Forever => Some("blocked forever"),
        ParkedLevel::Leak => Some("likely leak"),
        ParkedLevel::Parked => None,
    }
}

/// `1.2k contentions · 3.41 s delay (sampled)` (short counts for hints).
fn block_text(f: &ProfileFigures, short: bool) -> String {
    let n = if short {
        count_short(f.flat.count)
    } else {
        count(f.flat.count)
    };
    format!(
        "{n} contention{} · {} delay (sampled)",
        if f.flat.count == 1 { "" } else { "s" },
        duration(f.flat.total_ns)
    )
}

/// `critical section delayed others by 2.10 s (sampled)`.
fn mutex_text(f: &ProfileFigures) -> String {
    format!(
        "critical section delayed others by {} (sampled)",
        duration(f.flat.total_ns)
    )
}

/// The inlay-hint parts of a line's dumps and profiles (empty when it has
/// none). Profile parts need `min_ns` of delay.
pub fn inlay_parts(a: &Annotation, min_ns: u64) -> Vec<LabelPart> {
    let mut parts = Vec::new();
    if let Some(p) = &a.parked_now {
        let mut text = parked_text(p);
        if let Some(f) = flag_text(p) {
            text = format!("⚠ {f} · {text}");
        }
        let mut tip = if all_started_here(p) {
            "goblock: goroutines started by this go statement, parked in library code when the dump was taken (no frame of theirs is in the program: they are shown on their `created by` line)".to_owned()
        } else if all_not_started(p) {
            "goblock: goroutines created by this go statement that had not started when the dump was taken".to_owned()
        } else if p.goroutines > 0 {
            "goblock: goroutines parked on this line when the dump was taken".to_owned()
        } else {
            "goblock: goroutines on this line in the goroutine profile (no statuses or times)"
                .to_owned()
        };
        if p.minutes.is_some() {
            tip.push_str(
                "; minutes are lower bounds (the runtime counts them from the first garbage collection that saw the wait)",
            );
        }
        if p.level == Some(ParkedLevel::Leak) {
            let _ = write!(
                tip,
                "; {} have waited ≥ 1 min (goblock.dumps.parkedThreshold: {})",
                count(p.waited_minutes),
                p.threshold
            );
        }
        parts.push(LabelPart {
            text,
            tooltip: Some(tip),
            target: None,
        });
    }
    if let Some(s) = &a.sampled {
        if let Some(f) = s.block.as_ref().filter(|f| f.flat.total_ns >= min_ns) {
            parts.push(LabelPart {
                text: block_text(f, true),
                tooltip: Some(format!(
                    "goblock: block profile (sampled): goroutines waited here {} times, {} in all (the runtime's estimate); {} of the profile's delay",
                    count(f.flat.count),
                    duration(f.flat.total_ns),
                    share(f.share)
                )),
                target: None,
            });
        }
        if let Some(f) = s.mutex.as_ref().filter(|f| f.flat.total_ns >= min_ns) {
            parts.push(LabelPart {
                text: mutex_text(f),
                tooltip: Some(format!(
                    "goblock: mutex profile (sampled): its stacks are where contention ended — the unlock ending this critical section made others wait {} in all ({} contentions); {} of the profile's delay",
                    duration(f.flat.total_ns),
                    count(f.flat.count),
                    share(f.share)
                )),
                target: None,
            });
        }
    }
    parts
}

/// A diagnostic of a dump or profile: severity, code (the input kind as in
/// the report's JSON), message, related locations.
pub struct DumpDiagnostic {
    /// Severity.
    pub severity: Severity,
    /// `goroutine-dump`, `goroutine-profile`, `block-profile`, `mutex-profile`.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// Related locations (creation sites of the parked goroutines).
    pub related: Vec<Related>,
}

fn level_severity(l: Level, settings: &Settings) -> Severity {
    match l {
        Level::Hot => settings.diagnostics.severity,
        Level::Normal => Severity::Hint,
    }
}

/// The diagnostics of a line's dumps and profiles.
pub fn diagnostics(a: &Annotation, settings: &Settings) -> Vec<DumpDiagnostic> {
    let mut out = Vec::new();
    if let Some(p) = &a.parked_now
        && let Some(level) = p.level
    {
        let severity = match level {
            ParkedLevel::Deadlock => Severity::Error,
            ParkedLevel::Forever | ParkedLevel::Leak => Severity::Warning,
            ParkedLevel::Parked => Severity::Hint,
        };
        let mut message = parked_text(p);
        match level {
            ParkedLevel::Deadlock => {
                message = format!("deadlock (all goroutines are asleep): {message}")
            }
            ParkedLevel::Forever => message = format!("blocked forever: {message}"),
            ParkedLevel::Leak => {
                message = format!(
                    "likely leak: {message} · {} waiting ≥ 1 min (threshold {})",
                    count(p.waited_minutes),
                    p.threshold
                )
            }
            ParkedLevel::Parked => {}
        }
        out.push(DumpDiagnostic {
            severity,
            code: if p.goroutines > 0 {
                "goroutine-dump"
            } else {
                "goroutine-profile"
            },
            message,
            related: creators(p),
        });
    }
    if let Some(s) = &a.sampled {
        if let Some(f) = &s.block
            && let Some(l) = f.level
        {
            out.push(DumpDiagnostic {
                severity: level_severity(l, settings),
                code: "block-profile",
                message: format!(
                    "{} · {} of the block profile's delay",
                    block_text(f, false),
                    share(f.share)
                ),
                related: Vec::new(),
            });
        }
        if let Some(f) = &s.mutex
            && let Some(l) = f.level
        {
            out.push(DumpDiagnostic {
                severity: level_severity(l, settings),
                code: "mutex-profile",
                message: format!(
                    "{} · {} contention{} ended here (a mutex profile's stack is the unlocker's) · {} of the profile's delay",
                    mutex_text(f),
                    count(f.flat.count),
                    if f.flat.count == 1 { "" } else { "s" },
                    share(f.share)
                ),
                related: Vec::new(),
            });
        }
    }
    out
}

/// Where the parked goroutines were created: lines you can change, at most
/// [`super::RELATED_MAX`], workspace lines and larger groups first.
fn creators(p: &ParkedNow) -> Vec<Related> {
    let mut by_site: Vec<(bool, Arc<str>, u32, u64, &Site)> = Vec::new();
    for g in &p.groups {
        let Some(c) = g.group.creator.as_ref().filter(|c| !c.library) else {
            continue;
        };
        match by_site.iter_mut().find(|x| x.1 == c.file && x.2 == c.line) {
            Some(x) => x.3 += g.group.count,
            None => by_site.push((!c.in_workspace, c.file.clone(), c.line, g.group.count, c)),
        }
    }
    by_site.sort_by(|a, b| a.0.cmp(&b.0).then(b.3.cmp(&a.3)).then(a.1.cmp(&b.1)));
    by_site
        .into_iter()
        .take(super::RELATED_MAX)
        .map(|(_, file, line, n, site)| Related {
            message: format!(
                "{} parked here created at {}",
                goroutines(n),
                short_site(site)
            ),
            file,
            line,
            found: site.found,
        })
        .collect()
}

/// The row texts of a line in clients' lists, one per input kind: the
/// flag and the goroutines parked now, the block profile's and the mutex
/// profile's sampled contention (each when the line has it).
pub struct ListParts {
    /// `likely leak · parked now: 212 goroutines · chan receive · …`.
    pub parked: Option<String>,
    /// `79 contentions · 1.76 s delay (sampled)`.
    pub block: Option<String>,
    /// `critical section delayed others by 2.10 s (sampled)`.
    pub mutex: Option<String>,
}

/// The row texts of a line, per input kind.
pub fn list_parts(a: &Annotation) -> ListParts {
    let parked = a.parked_now.as_ref().map(|p| {
        let t = parked_text(p);
        match flag_text(p) {
            Some(f) => format!("{f} · {t}"),
            None => t,
        }
    });
    let s = a.sampled.as_deref();
    ListParts {
        parked,
        block: s
            .and_then(|s| s.block.as_ref())
            .map(|f| block_text(f, false)),
        mutex: s.and_then(|s| s.mutex.as_ref()).map(mutex_text),
    }
}

/// The row text of a line in clients' lists: the flag, the goroutines
/// parked now and the sampled contention, each kind apart.
pub fn list_label(a: &Annotation) -> String {
    let p = list_parts(a);
    let mut parts = Vec::new();
    parts.extend(p.parked);
    parts.extend(p.block.map(|t| format!("block: {t}")));
    parts.extend(p.mutex.map(|t| format!("mutex: {t}")));
    parts.join(" | ")
}

/// The one-line description of a loaded dump or profile for the status.
pub fn input_label(analysis: &Analysis) -> String {
    let mut t = input_label_figures(analysis);
    if crate::dumps::status::only_library(analysis).is_some() {
        t.push_str(" · all in library code");
    }
    t
}

fn input_label_figures(analysis: &Analysis) -> String {
    match analysis {
        Analysis::Trace(_) => String::new(),
        Analysis::Dump(d) => {
            let last = d.last();
            let mut t = format!(
                "goroutine dump · {}",
                goroutines(last.map_or(0, |s| s.goroutines))
            );
            if let Some(m) = last.and_then(|s| s.message.as_deref()) {
                let _ = write!(t, " · {}", m.lines().next().unwrap_or(m));
            }
            t
        }
        Analysis::Profile(p) => {
            let name = p.kind.describe();
            let name = name.trim_start_matches("a ");
            match p.kind {
                goblock_dumps::ProfileKind::Goroutine => {
                    format!("{name} · {}", goroutines(p.table.total.count))
                }
                _ => format!(
                    "{name} (sampled) · {} contentions · {} delay",
                    count(p.table.total.count),
                    duration(p.table.total.total_ns)
                ),
            }
        }
    }
}

// ------------------------------------------------------------------ hover

/// Ids as ranges: `18–229, 240, 251–260`, at most `max` ranges, then `…`.
pub fn id_ranges(ids: &[u64], max: usize) -> String {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for &id in ids {
        match ranges.last_mut() {
            Some(r) if id == r.1 + 1 => r.1 = id,
            Some(r) if id == r.1 => {}
            _ => ranges.push((id, id)),
        }
    }
    let mut out: Vec<String> = ranges
        .iter()
        .take(max)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else if b == a + 1 {
                format!("{a}, {b}")
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    if ranges.len() > max {
        out.push("…".into());
    }
    out.join(", ")
}

/// Short function name: the last element of its import path
/// (`net/http.(*Server).Serve` → `http.(*Server).Serve`).
fn short_func(f: &str) -> &str {
    f.rsplit('/').next().unwrap_or(f)
}

fn name_of(traces: &[TraceMeta], id: u32) -> String {
    traces
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.name.clone())
        .unwrap_or_else(|| format!("input {id}"))
}

/// One group, panicparse style: `212 × goroutines 18–229 (chan receive,
/// ≥ 5–17 min), created by pool.Start at pool.go:40`.
fn group_para(g: &GroupRow, traces: &[TraceMeta], several: bool) -> Block {
    let gr = &g.group;
    let mut spans = vec![
        Span::Strong(count(gr.count)),
        Span::Text(format!(
            " × goroutine{} {}",
            if gr.count == 1 { "" } else { "s" },
            id_ranges(&gr.ids, HOVER_ID_RANGES)
        )),
        // Parentheses, not the dump's brackets: Markdown needs `\[` there,
        // which Neovim shows as typed.
        Span::Text(" (".into()),
        reason_span(if gr.status.is_empty() {
            "waiting"
        } else {
            &gr.status
        }),
    ];
    if let Some((lo, hi)) = gr.minutes {
        let with = if gr.waited_minutes < gr.count {
            format!(" ({} of them)", count(gr.waited_minutes))
        } else {
            String::new()
        };
        spans.push(Span::Text(format!(", {}{with}", minutes(lo, hi))));
    }
    if gr.locked > 0 {
        spans.push(Span::Text(", locked to thread".into()));
    }
    spans.push(Span::Text(")".into()));
    match (&gr.creator_function, &gr.creator) {
        (Some(f), Some(site)) => {
            spans.push(Span::Text(", created by ".into()));
            spans.push(Span::Code(short_func(f).to_owned()));
            spans.push(Span::Text(" at ".into()));
            spans.push(Span::Site(site.clone()));
        }
        (Some(f), None) => {
            spans.push(Span::Text(", created by ".into()));
            spans.push(Span::Code(short_func(f).to_owned()));
        }
        _ => {}
    }
    for l in &gr.labels {
        spans.push(Span::Text(" · labels ".into()));
        spans.push(Span::Code(l.to_string()));
    }
    if several {
        spans.push(Span::Em(format!(" ({})", name_of(traces, g.input))));
    }
    Block::Para(spans)
}

/// The flag paragraph of a dump line.
fn flag_para(p: &ParkedNow) -> Option<Block> {
    let text = match p.level? {
        ParkedLevel::Deadlock => {
            "the dump says \"all goroutines are asleep - deadlock!\": none of these goroutines can ever proceed.".to_owned()
        }
        ParkedLevel::Forever => {
            "a wait that can never end (`select {}` with no cases, or a nil channel).".to_owned()
        }
        ParkedLevel::Leak => format!(
            "{} have waited here ≥ 1 min, more than goblock.dumps.parkedThreshold ({}).",
            goroutines(p.waited_minutes),
            p.threshold
        ),
        ParkedLevel::Parked => return None,
    };
    Some(Block::Para(vec![
        Span::Text("⚠ ".into()),
        Span::Strong(flag_text(p).unwrap_or("").into()),
        Span::Text(format!(": {text}")),
    ]))
}

/// The hover section of a line's goroutine dumps and goroutine profiles.
fn parked_section(a: &Annotation, p: &ParkedNow, traces: &[TraceMeta]) -> Vec<Block> {
    let mut out = Vec::new();
    let all_started = all_started_here(p);
    let all_new = all_not_started(p);
    let mut sum = vec![
        Span::Strong("goblock".into()),
        Span::Text(
            if all_started {
                " · started here: "
            } else if all_new {
                " · created here: "
            } else {
                " · parked now: "
            }
            .into(),
        ),
        Span::Strong(count(p.total())),
        Span::Text(format!(
            " goroutine{}{}",
            if p.total() == 1 { "" } else { "s" },
            if all_started {
                " parked in library code"
            } else if all_new {
                ", not started yet"
            } else {
                ""
            }
        )),
    ];
    if let Some(s) = some_started_here(p) {
        sum.push(Span::Text(format!(" ({s})")));
    }
    if let Some(s) = some_not_started(p) {
        sum.push(Span::Text(format!(" ({s})")));
    }
    if p.goroutines == 0 {
        sum.push(Span::Text(" (goroutine profile)".into()));
    }
    for (i, (s, _)) in p.statuses.iter().enumerate() {
        sum.push(Span::Text(if i == 0 { " · " } else { ", " }.into()));
        sum.push(reason_span(if s.is_empty() { "waiting" } else { s }));
    }
    if let Some((_, hi)) = p.minutes {
        sum.push(Span::Text(format!(" · longest {}", minutes(hi, hi))));
    }
    sum.push(Span::Text(" · ".into()));
    sum.push(Span::Code(a.function.to_string()));
    out.push(Block::Para(sum));
    out.extend(flag_para(p));
    if p.started_here > 0 {
        let (n, are, them) = if p.started_here == 1 {
            ("1 goroutine here has".to_owned(), "it is", "it")
        } else {
            (
                format!("{} here have", goroutines(p.started_here)),
                "they are",
                "them",
            )
        };
        out.push(Block::Para(vec![Span::Em(format!(
            "{n} no frame in the program: {are} shown on the go statement that started {them} (the dump's \"created by\" line) and wait in library code."
        ))]));
    }
    if p.not_started > 0 {
        let (n, them) = if p.not_started == 1 {
            ("1 goroutine here had".to_owned(), "it")
        } else {
            (format!("{} here had", goroutines(p.not_started)), "them")
        };
        out.push(Block::Para(vec![Span::Em(format!(
            "{n} not started when the dump was taken: this go statement created {them} and no frame of theirs had run."
        ))]));
    }
    let several = p.per_input.len() > 1;
    for g in p.groups.iter().take(HOVER_GROUPS) {
        out.push(group_para(g, traces, several));
    }
    // Ids or groups left out: say where every goroutine is listed.
    let capped = p.groups.len() > HOVER_GROUPS
        || p.groups
            .iter()
            .take(HOVER_GROUPS)
            .any(|g| id_ranges(&g.group.ids, HOVER_ID_RANGES).ends_with('…'));
    if p.groups.len() > HOVER_GROUPS {
        let rest: u64 = p.groups[HOVER_GROUPS..].iter().map(|g| g.group.count).sum();
        out.push(Block::Para(vec![Span::Text(format!(
            "… and {} more group{} ({})",
            count((p.groups.len() - HOVER_GROUPS) as u64),
            if p.groups.len() - HOVER_GROUPS == 1 {
                ""
            } else {
                "s"
            },
            goroutines(rest)
        ))]));
    }
    if capped {
        out.push(Block::Para(vec![Span::Em(
            "Every goroutine of this line: goblock: Show Goroutines Parked Here (VS Code), :Goblock goroutines (Neovim).".into(),
        )]));
    }
    for (id, m) in &p.messages {
        let mut lines: Vec<&str> = m.lines().collect();
        let more = lines.len().saturating_sub(6);
        lines.truncate(6);
        let mut text = lines.join("\n");
        if more > 0 {
            let _ = write!(
                text,
                "\n… {more} more line{}",
                if more == 1 { "" } else { "s" }
            );
        }
        out.push(Block::Para(vec![Span::Text(format!(
            "The dump {} starts with:",
            name_of(traces, *id)
        ))]));
        out.push(Block::Pre(text));
    }
    if p.profiled > 0 && p.goroutines > 0 {
        out.push(Block::Para(vec![Span::Text(format!(
            "Goroutine profile: {} here (no ids, statuses or times).",
            goroutines(p.profiled)
        ))]));
    } else if p.profiled > 0 {
        out.push(Block::Para(vec![Span::Em(
            "A goroutine profile counts goroutines per stack: no ids, statuses or wait times."
                .into(),
        )]));
    }
    if !p.labels.is_empty() {
        out.push(labels_para(&p.labels));
    }
    if p.minutes.is_some() {
        out.push(Block::Para(vec![Span::Em(
            "Minutes are lower bounds: the runtime counts them from the first garbage collection that saw the wait, and prints none before one did.".into(),
        )]));
    }
    out.extend(primitives_para(a, &p.primitives, "Blocked in: "));
    if several {
        out.push(Block::Table(Table {
            head: vec!["input", "goroutines"],
            right: vec![false, true],
            rows: p
                .per_input
                .iter()
                .map(|(id, n)| {
                    vec![
                        vec![Span::Text(name_of(traces, *id))],
                        vec![Span::Text(count(*n))],
                    ]
                })
                .collect(),
        }));
    }
    out
}

fn labels_para(labels: &[Arc<str>]) -> Block {
    let mut v = vec![Span::Text("Labels: ".into())];
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            v.push(Span::Text(", ".into()));
        }
        v.push(Span::Code(l.to_string()));
    }
    Block::Para(v)
}

/// `Blocked in: sync.(*Mutex).Lock`: the innermost functions of the
/// stacks, unless that is only the line's own function (dumps hide runtime
/// frames: a channel wait's stack starts at the user's function).
fn primitives_para(a: &Annotation, prims: &[Arc<str>], head: &str) -> Option<Block> {
    if prims.iter().all(|f| **f == *a.function) {
        return None;
    }
    let mut v = vec![Span::Text(head.into())];
    for (i, f) in prims.iter().enumerate() {
        if i > 0 {
            v.push(Span::Text(", ".into()));
        }
        v.push(Span::Code(f.to_string()));
    }
    Some(Block::Para(v))
}

/// The hover section of one profile kind on a line.
fn profile_section(
    a: &Annotation,
    f: &ProfileFigures,
    mutex: bool,
    traces: &[TraceMeta],
) -> Vec<Block> {
    let mut out = Vec::new();
    let n = count(f.flat.count);
    let contentions = format!(" contention{}", if f.flat.count == 1 { "" } else { "s" });
    let mut sum = vec![Span::Strong("goblock".into())];
    if mutex {
        sum.extend([
            Span::Text(" · mutex profile (sampled) · critical section delayed others by ".into()),
            Span::Strong(duration(f.flat.total_ns)),
            Span::Text(format!(" · {n}{contentions} ended here")),
        ]);
    } else {
        sum.extend([
            Span::Text(" · block profile (sampled) · ".into()),
            Span::Strong(n),
            Span::Text(format!("{contentions} · ")),
            Span::Strong(duration(f.flat.total_ns)),
            Span::Text(" delay".into()),
        ]);
    }
    sum.push(Span::Text(" · ".into()));
    sum.push(Span::Code(a.function.to_string()));
    out.push(Block::Para(sum));
    let how = if mutex {
        "A mutex profile's stack is where contention *ended*: the unlock at the end of this critical section, not where the waiters blocked. Sampled (runtime.SetMutexProfileFraction); the delay is the runtime's estimate of the total."
    } else {
        "Stacks of the goroutines that waited. Sampled (runtime.SetBlockProfileRate); the delay is the runtime's estimate of the total; waits that never ended are only in goroutine dumps."
    };
    let mut how_spans = Vec::new();
    // `*ended*` as emphasis where Markdown is read; plain otherwise.
    let mut rest = how;
    while let Some(i) = rest.find('*') {
        how_spans.push(Span::Text(rest[..i].to_owned()));
        let after = &rest[i + 1..];
        let j = after.find('*').unwrap_or(after.len());
        how_spans.push(Span::Em(after[..j].to_owned()));
        rest = after.get(j + 1..).unwrap_or("");
    }
    how_spans.push(Span::Text(rest.to_owned()));
    out.push(Block::Para(how_spans));
    out.push(Block::Para(vec![Span::Text(format!(
        "{} of the {} profile's delay",
        share(f.share),
        if mutex { "mutex" } else { "block" }
    ))]));
    if !f.labels.is_empty() {
        out.push(labels_para(&f.labels));
    }
    out.extend(primitives_para(
        a,
        &f.primitives,
        if mutex {
            "Released in: "
        } else {
            "Blocked in: "
        },
    ));
    if f.per_input.len() > 1 {
        out.push(Block::Table(Table {
            head: vec!["profile", "contentions", "delay"],
            right: vec![false, true, true],
            rows: f
                .per_input
                .iter()
                .map(|(id, t)| {
                    vec![
                        vec![Span::Text(name_of(traces, *id))],
                        vec![Span::Text(count(t.count))],
                        vec![Span::Text(duration(t.total_ns))],
                    ]
                })
                .collect(),
        }));
    }
    out
}

/// The hover sections of a line's dumps and profiles, each starting with
/// its own summary line (empty when it has none).
pub(super) fn hover_sections(a: &Annotation, traces: &[TraceMeta]) -> Vec<Vec<Block>> {
    let mut out = Vec::new();
    if let Some(p) = &a.parked_now {
        out.push(parked_section(a, p, traces));
    }
    if let Some(s) = &a.sampled {
        if let Some(f) = &s.block {
            out.push(profile_section(a, f, false, traces));
        }
        if let Some(f) = &s.mutex {
            out.push(profile_section(a, f, true, traces));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_as_ranges() {
        assert_eq!(
            id_ranges(&[18, 19, 20, 21, 30, 31, 40], 16),
            "18–21, 30, 31, 40"
        );
        assert_eq!(id_ranges(&[1, 3, 5, 7], 2), "1, 3, …");
        assert_eq!(id_ranges(&[], 4), "");
    }

    #[test]
    fn short_functions() {
        assert_eq!(
            short_func("net/http.(*Server).Serve"),
            "http.(*Server).Serve"
        );
        assert_eq!(short_func("main.NewPool"), "main.NewPool");
    }
}
