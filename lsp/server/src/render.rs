//! Renders annotations as text: diagnostic messages, related-information
//! lines, inlay-hint label parts and the hover, in the form the client can
//! show ([`HoverFormat`]: Markdown tables for clients that render them, an
//! aligned plain-text table otherwise). Numbers and durations are written by
//! [`goblock_analysis::units`], the one format of every surface.
//!
//! Pure functions of an [`Annotation`]; knows no LSP types (the protocol
//! values are built from these in `to_proto`) and decides nothing about
//! which lines are shown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use goblock_analysis::Site;
use goblock_analysis::units::{count, count_short, duration, share};

use crate::annotations::{Annotation, Freshness, TraceMeta, short_kind, short_site, waker_action};

pub mod dumps;

/// How a hover is written for a client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HoverFormat {
    /// Markdown with GitHub tables and links (VS Code and its relatives).
    MarkdownTables,
    /// Markdown whose tables are aligned plain text in a code block: for
    /// Markdown renderers without tables (Neovim shows `|` rows raw).
    #[default]
    Markdown,
    /// Plain text, tables aligned with spaces (clients without Markdown).
    PlainText,
}

impl HoverFormat {
    /// The format for a client, from its `clientInfo.name` and the markup
    /// kinds it accepts in hovers (`textDocument.hover.contentFormat`;
    /// empty = not said, Markdown assumed). Tables are only sent as Markdown
    /// to clients known to render them: unknown clients get the aligned
    /// block, which reads well in any of them.
    pub fn for_client(name: Option<&str>, hover_formats: &[String]) -> HoverFormat {
        if !hover_formats.is_empty() && !hover_formats.iter().any(|f| f == "markdown") {
            return HoverFormat::PlainText;
        }
        let name = name.unwrap_or("").to_ascii_lowercase();
        let renders_tables = [
            "code", "vscodium", "cursor", "windsurf", "theia", "positron",
        ]
        .iter()
        .any(|n| name.contains(n));
        if renders_tables {
            HoverFormat::MarkdownTables
        } else {
            HoverFormat::Markdown
        }
    }

    /// Whether the text is Markdown (else plain text).
    pub fn is_markdown(self) -> bool {
        self != HoverFormat::PlainText
    }
}

/// `p50 6.19 ms · p95 6.22 ms · max 6.29 ms` for the closed episodes of a
/// line, or `None` for fewer than two. A quantile that reads the same as
/// the next one up is left out (`p50 2.00 s · max 2.00 s` says nothing).
fn spread(a: &Annotation, sep: &str) -> Option<String> {
    if a.hist.count() < 2 {
        return None;
    }
    let max = duration(a.max_ns);
    let p95 = duration(a.hist.quantile(0.95).min(a.max_ns));
    let p50 = duration(a.hist.quantile(0.5).min(a.max_ns));
    let mut parts = Vec::new();
    if p50 != p95 && p50 != max {
        parts.push(format!("p50 {p50}"));
    }
    if p95 != max {
        parts.push(format!("p95 {p95}"));
    }
    parts.push(format!("max {max}"));
    Some(parts.join(sep))
}

/// The diagnostic message: `1,204 blocks · 3.41 s total · p99 12.0 ms · chan receive`.
/// Below 100 episodes the p99 is the longest one, so it says `max`.
pub fn diagnostic_message(a: &Annotation) -> String {
    let mut m = format!(
        "{} block{} · {} total",
        count(a.count()),
        if a.count() == 1 { "" } else { "s" },
        duration(a.total_ns())
    );
    let closed = a.hist.count();
    if closed >= 100 {
        let _ = write!(
            m,
            " · p99 {}",
            duration(a.hist.quantile(0.99).min(a.max_ns))
        );
    } else if closed >= 2 {
        let _ = write!(m, " · max {}", duration(a.max_ns));
    }
    let reasons: Vec<&str> = a.reasons.iter().map(|r| display_reason(&r.0)).collect();
    if !reasons.is_empty() {
        let _ = write!(m, " · {}", reasons.join(", "));
    }
    if a.open.count > 0 {
        let _ = write!(
            m,
            " · {} still blocked at an end of the trace",
            count(a.open.count)
        );
    }
    m
}

fn display_reason(r: &str) -> &str {
    if r.is_empty() { "unknown reason" } else { r }
}

/// The label of a duration for clients' lists (`goblock.hotLines`).
pub fn duration_label(ns: u64) -> String {
    duration(ns)
}

/// The row text of a line in clients' lists: `155 ms · 5 blocks · 4.6 % · chan receive`
/// (`· 1 still blocked` when episodes were open at an end of the trace).
pub fn list_label(a: &Annotation) -> String {
    let mut m = format!(
        "{} · {} block{}",
        duration(a.total_ns()),
        count(a.count()),
        if a.count() == 1 { "" } else { "s" }
    );
    if a.closed.count > 0 {
        let _ = write!(m, " · {}", share(a.share));
    }
    let reasons: Vec<&str> = a.reasons.iter().map(|r| display_reason(&r.0)).collect();
    if !reasons.is_empty() {
        let _ = write!(m, " · {}", reasons.join(", "));
    }
    if a.open.count > 0 {
        let _ = write!(m, " · {} still blocked", count(a.open.count));
    }
    m
}

/// A related location with its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// Local path (or recorded path when not found).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// Message.
    pub message: String,
    /// The file exists locally.
    pub found: bool,
}

/// How many related locations a diagnostic carries: the hover that shows
/// them above the goblock hover must stay short.
pub const RELATED_MAX: usize = 2;

/// Related information: the top wakers' lines, then the creation sites of
/// goroutines still blocked at the end of the trace — only lines you can
/// change (never the runtime, the standard library or the module cache),
/// workspace lines first, at most [`RELATED_MAX`].
pub fn related(a: &Annotation) -> Vec<Related> {
    let mut out = Vec::new();
    let woken: u64 = a.wakers.iter().map(|w| w.count).sum();
    let mut wakers: Vec<(&Site, u64, Option<&str>)> = a
        .wakers
        .iter()
        .filter_map(|w| {
            let s = w.site.as_ref()?;
            (!s.library).then_some((s, w.count, w.primitive.as_deref()))
        })
        .collect();
    // Stable: keeps the wakers' order (largest first) within each group.
    wakers.sort_by_key(|(s, _, _)| !s.in_workspace);
    for (site, n, primitive) in wakers.into_iter().take(RELATED_MAX) {
        let sh = if woken > 0 {
            n as f64 / woken as f64
        } else {
            0.0
        };
        out.push(Related {
            file: site.file.clone(),
            line: site.line,
            message: format!(
                "woken by {} at {} ({})",
                waker_action(primitive),
                short_site(site),
                share(sh)
            ),
            found: site.found,
        });
    }
    let mut creators: BTreeMap<(bool, Arc<str>, u32), (u64, &Site)> = BTreeMap::new();
    for p in a.parked.iter().filter(|p| p.parked.open_at_end) {
        if let Some(c) = p.parked.creator_site.as_ref().filter(|c| !c.library) {
            let e = creators
                .entry((!c.in_workspace, c.file.clone(), c.line))
                .or_insert((0, c));
            e.0 += 1;
        }
    }
    for ((_, file, line), (n, site)) in creators
        .into_iter()
        .take(RELATED_MAX.saturating_sub(out.len()))
    {
        out.push(Related {
            message: format!(
                "{} goroutine{} still blocked at end of trace, created at {}",
                n,
                if n == 1 { "" } else { "s" },
                short_site(site)
            ),
            file,
            line,
            found: site.found,
        });
    }
    out
}

/// One part of an inlay-hint label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelPart {
    /// Text.
    pub text: String,
    /// Tooltip (markdown-free text).
    pub tooltip: Option<String>,
    /// Location the part links to (local path, 1-based line).
    pub target: Option<(Arc<str>, u32)>,
}

/// The inlay hint of a line with flat blocking: `⏸ 1.2k · 3.41 s · chan recv`
/// and, when a goroutine woke it, ` ← producer.go:55` linking to the waker.
pub fn inlay_label(a: &Annotation) -> Vec<LabelPart> {
    let mut parts = vec![LabelPart {
        text: format!(
            "⏸ {} · {} · {}",
            count_short(a.count()),
            duration(a.total_ns()),
            short_kind(a.kind)
        ),
        tooltip: Some(inlay_tooltip(a)),
        target: None,
    }];
    if let Some(w) = a
        .wakers
        .iter()
        .find(|w| w.site.as_ref().is_some_and(|s| s.found))
        && let Some(site) = &w.site
    {
        parts.push(LabelPart {
            text: format!(" ← {}", short_site(site)),
            tooltip: Some(format!(
                "woken by {} in {} at {}:{}",
                waker_action(w.primitive.as_deref()),
                site.function,
                site.file,
                site.line
            )),
            target: Some((site.file.clone(), site.line)),
        });
    }
    parts
}

fn inlay_tooltip(a: &Annotation) -> String {
    let mut t = format!(
        "goblock: {} block{}, {} total",
        count(a.count()),
        if a.count() == 1 { "" } else { "s" },
        duration(a.total_ns())
    );
    if let Some(s) = spread(a, ", ") {
        let _ = write!(t, "; {s}");
    }
    if a.closed.count > 0 {
        let _ = write!(t, "; {} of all (completed) blocking", share(a.share));
    }
    t
}

/// The callers hint: `↓ 2.10 s blocked in callees`.
pub fn callers_label(a: &Annotation) -> Option<LabelPart> {
    (a.callees.total_ns > 0).then(|| LabelPart {
        text: format!("↓ {} blocked in callees", duration(a.callees.total_ns)),
        tooltip: Some(format!(
            "goblock: {} blocking episodes in functions called from this line",
            count(a.callees.count)
        )),
        target: None,
    })
}

// ------------------------------------------------------------------ hover

/// How many goroutine rows the hover shows.
pub const HOVER_ROWS: usize = 10;

/// A piece of inline text.
enum Span {
    Text(String),
    Strong(String),
    Code(String),
    Em(String),
    /// A source location: a link where the client can follow it.
    Site(Site),
}

/// A table: header, which columns are right-aligned, rows of cells.
struct Table {
    head: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<Vec<Span>>>,
}

enum Block {
    Para(Vec<Span>),
    Table(Table),
    /// Preformatted text (a panic message), kept as written.
    Pre(String),
    /// A line between the sections of different inputs.
    Rule,
}

/// Escapes what Markdown would read as markup, and nothing else: Neovim
/// shows backslash escapes as typed. `_` inside a word is plain text in
/// CommonMark, so only `_` at a word's edge is escaped.
fn md_escape(s: &str, out: &mut String) {
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        let escape = match c {
            '\\' | '*' | '[' | ']' | '`' | '|' => true,
            '_' => !(word(i.checked_sub(1)) && word(Some(i + 1))),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A reason as text, or as code when it has characters Markdown would
/// read as markup (`sync.(*Cond).Wait`).
fn reason_span(r: &str) -> Span {
    let r = display_reason(r);
    if r.contains(['*', '_', '[', ']', '`', '\\', '|']) {
        Span::Code(r.to_owned())
    } else {
        Span::Text(r.to_owned())
    }
}

fn code_span(s: &str) -> String {
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

fn span_md(sp: &Span, out: &mut String) {
    match sp {
        Span::Text(t) => md_escape(t, out),
        Span::Strong(t) => {
            out.push_str("**");
            md_escape(t, out);
            out.push_str("**");
        }
        Span::Em(t) => {
            out.push('_');
            md_escape(t, out);
            out.push('_');
        }
        Span::Code(t) => out.push_str(&code_span(t)),
        Span::Site(s) if s.found => {
            out.push('[');
            md_escape(&short_site(s), out);
            let _ = write!(
                out,
                "]({}#L{})",
                crate::uri::from_path(Path::new(&*s.file)),
                s.line
            );
        }
        Span::Site(s) => out.push_str(&code_span(&short_site(s))),
    }
}

fn span_plain(sp: &Span, out: &mut String) {
    match sp {
        Span::Text(t) | Span::Strong(t) | Span::Code(t) | Span::Em(t) => out.push_str(t),
        Span::Site(s) => out.push_str(&short_site(s)),
    }
}

fn spans_plain(spans: &[Span]) -> String {
    let mut s = String::new();
    for sp in spans {
        span_plain(sp, &mut s);
    }
    s
}

/// The table as lines of text, columns padded to their widest cell.
fn table_aligned(t: &Table) -> Vec<String> {
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(|c| spans_plain(c)).collect())
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .map(|r| r[i].chars().count())
            .chain([t.head[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..t.head.len()).map(width).collect();
    let line = |row: Vec<&str>| {
        let mut l = String::new();
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let pad = widths[i] - c.chars().count();
            if t.right[i] {
                l.extend(std::iter::repeat_n(' ', pad));
                l.push_str(c);
            } else {
                l.push_str(c);
                if i + 1 < row.len() {
                    l.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        l
    };
    let mut out = vec![line(t.head.clone())];
    for r in &cells {
        out.push(line(r.iter().map(String::as_str).collect()));
    }
    out
}

fn render_blocks(blocks: &[Block], fmt: HoverFormat) -> String {
    let mut out = String::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match (b, fmt) {
            (Block::Para(spans), HoverFormat::PlainText) => {
                for sp in spans {
                    span_plain(sp, &mut out);
                }
                out.push('\n');
            }
            (Block::Para(spans), _) => {
                for sp in spans {
                    span_md(sp, &mut out);
                }
                out.push('\n');
            }
            (Block::Table(t), HoverFormat::MarkdownTables) => {
                let _ = writeln!(out, "| {} |", t.head.join(" | "));
                let align: Vec<&str> = t
                    .right
                    .iter()
                    .map(|r| if *r { "---:" } else { "---" })
                    .collect();
                let _ = writeln!(out, "|{}|", align.join("|"));
                for r in &t.rows {
                    out.push('|');
                    for c in r {
                        out.push(' ');
                        for sp in c {
                            span_md(sp, &mut out);
                        }
                        out.push_str(" |");
                    }
                    out.push('\n');
                }
            }
            (Block::Table(t), HoverFormat::Markdown) => {
                out.push_str("```text\n");
                for l in table_aligned(t) {
                    let _ = writeln!(out, "{l}");
                }
                out.push_str("```\n");
            }
            (Block::Table(t), HoverFormat::PlainText) => {
                for l in table_aligned(t) {
                    let _ = writeln!(out, "{l}");
                }
            }
            (Block::Rule, HoverFormat::PlainText) => out.push_str("—\n"),
            (Block::Rule, _) => out.push_str("---\n"),
            (Block::Pre(text), HoverFormat::PlainText) => {
                let _ = writeln!(out, "{text}");
            }
            (Block::Pre(text), _) => {
                let fence = if text.contains("```") { "````" } else { "```" };
                let _ = writeln!(out, "{fence}text\n{text}\n{fence}");
            }
        }
    }
    out
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// The summary line: `goblock · 5 blocks · 31.2 ms · chan receive · main.f`.
fn summary(a: &Annotation) -> Vec<Span> {
    let mut s = vec![Span::Strong("goblock".into())];
    if a.has_flat() {
        s.push(Span::Text(" · ".into()));
        s.push(Span::Strong(count(a.count())));
        s.push(Span::Text(format!(
            " block{} · ",
            if a.count() == 1 { "" } else { "s" }
        )));
        s.push(Span::Strong(duration(a.total_ns())));
        for (i, (r, _)) in a.reasons.iter().enumerate() {
            s.push(Span::Text(if i == 0 { " · " } else { ", " }.into()));
            s.push(reason_span(r));
        }
        if a.open.count > 0 {
            s.push(Span::Text(format!(
                " · {} still blocked at an end of the trace",
                count(a.open.count)
            )));
        }
    }
    s.push(Span::Text(" · ".into()));
    s.push(Span::Code(a.function.to_string()));
    s
}

fn notes(traces: &[TraceMeta], fresh: &Freshness, line: u32) -> Vec<Block> {
    let mut out = Vec::new();
    for t in traces.iter().filter(|t| t.partial.is_some()) {
        out.push(Block::Para(vec![Span::Em(format!(
            "Preview: the first {} of {} — the rest is loading.",
            share(t.partial.unwrap_or(0.0)),
            t.name
        ))]));
    }
    match fresh {
        Freshness::Stale(why) => out.push(Block::Para(vec![
            Span::Text("⚠ ".into()),
            Span::Strong("stale".into()),
            Span::Text(format!(
                ": {why}; this line's numbers are not shown in the editor."
            )),
        ])),
        Freshness::Moved(d) => out.push(Block::Para(vec![Span::Em(format!(
            "The source moved since the build: shown {} {} the recorded line {}.",
            plural(d.unsigned_abs(), "line", "lines"),
            if *d > 0 { "below" } else { "above" },
            line
        ))])),
        _ => {}
    }
    out
}

/// The goroutines parked on the line, longest first.
fn goroutine_table(a: &Annotation) -> Option<Block> {
    if a.parked.is_empty() {
        return None;
    }
    let rows: Vec<_> = a.parked.iter().take(HOVER_ROWS).collect();
    let with_reason = rows.iter().any(|r| r.reason != rows[0].reason);
    let mut head = vec!["goroutine", "blocked"];
    let mut right = vec![true, true];
    if with_reason {
        head.push("reason");
        right.push(false);
    }
    head.extend(["woken by", "created at"]);
    right.extend([false, false]);
    let mut out = Vec::new();
    for r in rows {
        let p = &r.parked;
        let mut row = vec![
            vec![Span::Text(p.goroutine.to_string())],
            vec![Span::Text(if p.began_before_trace {
                format!("≥ {}", duration(p.duration_ns))
            } else {
                duration(p.duration_ns)
            })],
        ];
        if with_reason {
            row.push(vec![reason_span(&r.reason)]);
        }
        row.push(if p.open_at_end {
            vec![Span::Text("still blocked at end of trace".into())]
        } else {
            match (p.waker_goroutine, &p.waker_site) {
                (Some(g), Some(s)) => vec![
                    Span::Text(format!("goroutine {g} at ")),
                    Span::Site(s.clone()),
                ],
                (Some(g), None) => vec![Span::Text(format!("goroutine {g}"))],
                (None, Some(s)) => vec![Span::Site(s.clone())],
                (None, None) => vec![Span::Text("the runtime".into())],
            }
        });
        row.push(match &p.creator_site {
            Some(s) => vec![Span::Site(s.clone())],
            None => vec![Span::Text("—".into())],
        });
        out.push(row);
    }
    Some(Block::Table(Table {
        head,
        right,
        rows: out,
    }))
}

/// Quantiles, wakers, primitives, callees: one short paragraph each.
fn details(a: &Annotation, traces: &[TraceMeta]) -> Vec<Block> {
    let mut out = Vec::new();
    let more = a
        .count()
        .saturating_sub(HOVER_ROWS.min(a.parked.len()) as u64);
    if more > 0 && !a.parked.is_empty() {
        out.push(Block::Para(vec![Span::Text(format!(
            "… and {} more",
            count(more)
        ))]));
    }
    if a.has_flat() {
        let mut line = Vec::new();
        if let Some(s) = spread(a, " · ") {
            line.push(s);
        }
        if a.closed.count > 0 {
            line.push(format!("{} of all completed blocking", share(a.share)));
        }
        if a.open.count > 0 && a.closed.count > 0 {
            line.push(format!(
                "{} still blocked at an end: {}, not in the percentiles",
                count(a.open.count),
                duration(a.open.total_ns)
            ));
        }
        if !line.is_empty() {
            out.push(Block::Para(vec![Span::Text(line.join(" · "))]));
        }
        if a.reasons.len() > 1 {
            let mut p = vec![Span::Text("Reasons: ".into())];
            for (i, (r, t)) in a.reasons.iter().enumerate() {
                if i > 0 {
                    p.push(Span::Text(", ".into()));
                }
                p.push(reason_span(r));
                p.push(Span::Text(format!(
                    " ({} · {})",
                    count(t.count),
                    duration(t.total_ns)
                )));
            }
            out.push(Block::Para(p));
        }
        let woken: u64 = a.wakers.iter().map(|w| w.count).sum();
        let mut wk = vec![Span::Text("Woken by: ".into())];
        for (i, w) in a.wakers.iter().take(3).enumerate() {
            if i > 0 {
                wk.push(Span::Text(", ".into()));
            }
            let sh = if woken > 0 {
                w.count as f64 / woken as f64
            } else {
                0.0
            };
            match &w.site {
                Some(s) => {
                    wk.push(Span::Text(format!(
                        "{} at ",
                        waker_action(w.primitive.as_deref())
                    )));
                    wk.push(Span::Site(s.clone()));
                    wk.push(Span::Text(format!(" ({})", share(sh))));
                }
                None => wk.push(Span::Text(format!("the runtime ({})", share(sh)))),
            }
        }
        if wk.len() > 1 {
            out.push(Block::Para(wk));
        }
        if !a.primitives.is_empty() {
            let mut p = vec![Span::Text("Blocked in: ".into())];
            for (i, f) in a.primitives.iter().enumerate() {
                if i > 0 {
                    p.push(Span::Text(", ".into()));
                }
                p.push(Span::Code(f.to_string()));
            }
            out.push(Block::Para(p));
        }
    }
    if a.callees.total_ns > 0 {
        out.push(Block::Para(vec![Span::Text(format!(
            "↓ {} blocked in callees ({})",
            duration(a.callees.total_ns),
            plural(a.callees.count, "episode", "episodes")
        ))]));
    }
    if traces.len() > 1 && !a.per_trace.is_empty() {
        let rows = traces
            .iter()
            .filter_map(|t| {
                let (c, o) = a.per_trace.get(&t.id)?;
                Some(vec![
                    vec![Span::Text(t.name.clone())],
                    vec![Span::Text(count(c.count + o.count))],
                    vec![Span::Text(duration(c.total_ns + o.total_ns))],
                ])
            })
            .collect();
        out.push(Block::Table(Table {
            head: vec!["trace", "blocks", "total"],
            right: vec![false, true, true],
            rows,
        }));
    }
    out
}

/// The hover of an annotated line, written in `fmt`: for each kind of input
/// that has something on the line — traces, then goroutine dumps and
/// goroutine profiles, then block and mutex profiles ([`dumps`]) — a
/// summary line and its details; the notes that change how to read it all
/// (preview, stale, moved) follow the first summary. A trace's section: the
/// goroutine table, then the details, one short paragraph each.
pub fn hover(a: &Annotation, traces: &[TraceMeta], fresh: &Freshness, fmt: HoverFormat) -> String {
    let mut sections: Vec<Vec<Block>> = Vec::new();
    if a.has_flat() || a.callees.total_ns > 0 {
        let mut blocks = vec![Block::Para(summary(a))];
        blocks.extend(goroutine_table(a));
        blocks.extend(details(a, traces));
        sections.push(blocks);
    }
    sections.extend(dumps::hover_sections(a, traces));
    let mut blocks = Vec::new();
    for (i, s) in sections.into_iter().enumerate() {
        let mut s = s.into_iter();
        if i > 0 {
            blocks.push(Block::Rule);
        }
        blocks.extend(s.next());
        if i == 0 {
            blocks.extend(notes(traces, fresh, a.line));
        }
        blocks.extend(s);
    }
    render_blocks(&blocks, fmt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotations::kind_of;
    use goblock_trace::Category;

    #[test]
    fn names() {
        assert_eq!(waker_action(Some("runtime.chansend1")), "chan send");
        assert_eq!(waker_action(Some("sync.(*Mutex).Unlock")), "Mutex.Unlock");
        assert_eq!(waker_action(Some("main.producer")), "producer");
        assert_eq!(
            kind_of(Category::Sync, "sync", &["sync.(*Mutex).Lock".into()]),
            "mutex"
        );
        assert_eq!(kind_of(Category::Sync, "chan receive", &[]), "chan-recv");
        assert_eq!(kind_of(Category::Net, "network", &[]), "net");
    }

    #[test]
    fn formats_by_client() {
        let md = ["markdown".to_owned(), "plaintext".to_owned()];
        let plain = ["plaintext".to_owned()];
        for name in ["Visual Studio Code", "code-server", "VSCodium", "Cursor"] {
            assert_eq!(
                HoverFormat::for_client(Some(name), &md),
                HoverFormat::MarkdownTables,
                "{name}"
            );
        }
        assert_eq!(
            HoverFormat::for_client(Some("Neovim"), &md),
            HoverFormat::Markdown
        );
        assert_eq!(HoverFormat::for_client(None, &[]), HoverFormat::Markdown);
        assert_eq!(
            HoverFormat::for_client(Some("Visual Studio Code"), &plain),
            HoverFormat::PlainText
        );
    }

    #[test]
    fn aligned_tables() {
        let t = Table {
            head: vec!["goroutine", "blocked", "woken by"],
            right: vec![true, true, false],
            rows: vec![
                vec![
                    vec![Span::Text("12".into())],
                    vec![Span::Text("6.29 ms".into())],
                    vec![Span::Text("goroutine 1".into())],
                ],
                vec![
                    vec![Span::Text("1234".into())],
                    vec![Span::Text("≥ 547 ms".into())],
                    vec![Span::Text("the runtime".into())],
                ],
            ],
        };
        assert_eq!(
            table_aligned(&t),
            vec![
                "goroutine   blocked  woken by",
                "       12   6.29 ms  goroutine 1",
                "     1234  ≥ 547 ms  the runtime",
            ]
        );
    }

    #[test]
    fn markdown_is_escaped_only_where_needed() {
        let mut s = String::new();
        span_md(&Span::Text("a*b | x_y _z < 0.1 % #1".into()), &mut s);
        assert_eq!(s, "a\\*b \\| x_y \\_z < 0.1 % #1");
        assert!(matches!(reason_span("sync.(*Cond).Wait"), Span::Code(_)));
        assert!(matches!(reason_span("chan receive"), Span::Text(_)));
    }
}
