//! Renders annotations as text: diagnostic messages, related-information
//! lines, inlay-hint label parts and the hover markdown, with the number and
//! duration formats they share.
//!
//! Pure functions of an [`Annotation`]; knows no LSP types (the protocol
//! values are built from these in `to_proto`) and decides nothing about
//! which lines are shown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use goblock_analysis::Site;

use crate::annotations::{
    Annotation, Freshness, TraceMeta, base_name, short_kind, short_site, waker_action,
};

/// `1,204`.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1.2k`, `34`, `5.6M`.
pub fn fmt_count_short(n: u64) -> String {
    if n < 1000 {
        n.to_string()
    } else if n < 1_000_000 {
        short_num(n as f64 / 1e3, "k")
    } else {
        short_num(n as f64 / 1e6, "M")
    }
}

fn short_num(v: f64, unit: &str) -> String {
    if v < 10.0 {
        format!("{:.1}{unit}", (v * 10.0).floor() / 10.0)
    } else {
        format!("{}{unit}", v.floor() as u64)
    }
}

fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// `3.41 s`, `12.0 ms`, `850 µs`, `40 ns`.
pub fn fmt_dur(ns: u64) -> String {
    let v = ns as f64;
    if ns >= 1_000_000_000 {
        format!("{} s", sig3(v / 1e9))
    } else if ns >= 1_000_000 {
        format!("{} ms", sig3(v / 1e6))
    } else if ns >= 1_000 {
        format!("{} µs", sig3(v / 1e3))
    } else {
        format!("{ns} ns")
    }
}

/// `3.4s`, `12ms`, `850µs` (inlay hints).
pub fn fmt_dur_short(ns: u64) -> String {
    let v = ns as f64;
    let (x, unit) = if ns >= 1_000_000_000 {
        (v / 1e9, "s")
    } else if ns >= 1_000_000 {
        (v / 1e6, "ms")
    } else if ns >= 1_000 {
        (v / 1e3, "µs")
    } else {
        return format!("{ns}ns");
    };
    if x < 10.0 {
        format!("{x:.1}{unit}")
    } else {
        format!("{x:.0}{unit}")
    }
}

fn pct(share: f64) -> String {
    let p = share * 100.0;
    if p >= 10.0 || p == 0.0 {
        format!("{p:.0} %")
    } else {
        format!("{p:.1} %")
    }
}

/// The diagnostic message: `1,204 blocks · 3.41 s total · p99 12 ms · chan receive`.
pub fn diagnostic_message(a: &Annotation) -> String {
    let mut m = format!(
        "{} block{} · {} total",
        fmt_count(a.count()),
        if a.count() == 1 { "" } else { "s" },
        fmt_dur(a.total_ns())
    );
    if a.hist.count() > 0 {
        let _ = write!(m, " · p99 {}", fmt_dur(a.hist.quantile(0.99)));
    }
    let reasons: Vec<&str> = a.reasons.iter().map(|r| display_reason(&r.0)).collect();
    if !reasons.is_empty() {
        let _ = write!(m, " · {}", reasons.join(", "));
    }
    if a.open.count > 0 {
        let _ = write!(
            m,
            " · {} still blocked at an end of the trace",
            fmt_count(a.open.count)
        );
    }
    m
}

fn display_reason(r: &str) -> &str {
    if r.is_empty() { "unknown reason" } else { r }
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

/// Related information: the top wakers' lines, and the creation sites of
/// goroutines still blocked at the end of the trace.
pub fn related(a: &Annotation) -> Vec<Related> {
    let mut out = Vec::new();
    let woken: u64 = a.wakers.iter().map(|w| w.count).sum();
    for w in a.wakers.iter().filter(|w| w.site.is_some()).take(3) {
        let Some(site) = &w.site else { continue };
        let share = if woken > 0 {
            w.count as f64 / woken as f64
        } else {
            0.0
        };
        out.push(Related {
            file: site.file.clone(),
            line: site.line,
            message: format!(
                "woken by {} at {} ({})",
                waker_action(w.primitive.as_deref()),
                short_site(site),
                pct(share)
            ),
            found: site.found,
        });
    }
    let mut creators: BTreeMap<(Arc<str>, u32), (u64, bool)> = BTreeMap::new();
    for p in a.parked.iter().filter(|p| p.parked.open_at_end) {
        if let Some(c) = &p.parked.creator_site {
            let e = creators
                .entry((c.file.clone(), c.line))
                .or_insert((0, c.found));
            e.0 += 1;
        }
    }
    for ((file, line), (n, found)) in creators.into_iter().take(3) {
        out.push(Related {
            message: format!(
                "{} goroutine{} still blocked at end of trace, created at {}:{}",
                n,
                if n == 1 { "" } else { "s" },
                base_name(&file),
                line
            ),
            file,
            line,
            found,
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

/// The inlay hint of a line with flat blocking: `⏸ 1.2k · 3.4s · chan recv`
/// and, when a goroutine woke it, ` ← producer.go:55` linking to the waker.
pub fn inlay_label(a: &Annotation) -> Vec<LabelPart> {
    let mut parts = vec![LabelPart {
        text: format!(
            "⏸ {} · {} · {}",
            fmt_count_short(a.count()),
            fmt_dur_short(a.total_ns()),
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

/// The label part marking a hint whose line could not be verified.
pub fn unverified_part() -> LabelPart {
    LabelPart {
        text: " ?".into(),
        tooltip: Some("the file changed after the trace was recorded; this line may be off".into()),
        target: None,
    }
}

fn inlay_tooltip(a: &Annotation) -> String {
    let mut t = format!(
        "goblock: {} blocks, {} total",
        fmt_count(a.count()),
        fmt_dur(a.total_ns())
    );
    if a.hist.count() > 0 {
        let _ = write!(
            t,
            "; p50 {}, p95 {}, max {}",
            fmt_dur(a.hist.quantile(0.5)),
            fmt_dur(a.hist.quantile(0.95)),
            fmt_dur(a.max_ns)
        );
    }
    let _ = write!(t, "; {} of all (completed) blocking", pct(a.share));
    t
}

/// The callers hint: `↓ 2.1 s blocked in callees`.
pub fn callers_label(a: &Annotation) -> Option<LabelPart> {
    (a.callees.total_ns > 0).then(|| LabelPart {
        text: format!("↓ {} blocked in callees", fmt_dur(a.callees.total_ns)),
        tooltip: Some(format!(
            "goblock: {} blocking episodes in functions called from this line",
            fmt_count(a.callees.count)
        )),
        target: None,
    })
}

/// How many goroutine rows the hover shows.
pub const HOVER_ROWS: usize = 10;

/// Renders a site as a markdown link.
fn md_site(s: &Site) -> String {
    if s.found {
        format!(
            "[{}]({}#L{})",
            short_site(s),
            crate::uri::from_path(Path::new(&*s.file)),
            s.line
        )
    } else {
        format!("`{}`", short_site(s))
    }
}

/// The hover markdown of an annotated line.
pub fn hover_markdown(a: &Annotation, traces: &[TraceMeta], fresh: &Freshness) -> String {
    let mut m = String::new();
    if a.has_flat() {
        let _ = writeln!(
            m,
            "**goblock** · {} · `{}`",
            display_reason(a.reason()),
            a.function
        );
    } else {
        let _ = writeln!(m, "**goblock** · `{}`", a.function);
    }
    m.push('\n');
    for t in traces.iter().filter(|t| t.partial.is_some()) {
        let _ = writeln!(
            m,
            "_Preview: the first {} of {} — the rest is loading._\n",
            pct(t.partial.unwrap_or(0.0)),
            t.name
        );
    }
    if let Freshness::Stale(why) = fresh {
        let _ = writeln!(
            m,
            "⚠ **stale**: {why}; this line's numbers are not shown in the editor.\n"
        );
    }
    if let Freshness::Unverified = fresh {
        m.push_str("_This file changed after the trace was recorded and the binary's declaration lines are unknown: the line may be off._\n\n");
    }
    if let Freshness::Moved(d) = fresh {
        let _ = writeln!(
            m,
            "_The source moved since the build: shown {} line{} {} the recorded line {}._\n",
            d.abs(),
            if d.abs() == 1 { "" } else { "s" },
            if *d > 0 { "below" } else { "above" },
            a.line
        );
    }
    if a.has_flat() {
        let _ = write!(
            m,
            "**{}** block{} · **{}** total",
            fmt_count(a.count()),
            if a.count() == 1 { "" } else { "s" },
            fmt_dur(a.total_ns())
        );
        if a.hist.count() > 0 {
            let _ = write!(
                m,
                " · p50 {} · p95 {} · max {}",
                fmt_dur(a.hist.quantile(0.5)),
                fmt_dur(a.hist.quantile(0.95)),
                fmt_dur(a.max_ns)
            );
        }
        if a.closed.count > 0 {
            let _ = write!(m, " · {} of all completed blocking", pct(a.share));
        }
        m.push_str("\n\n");
        let reasons: Vec<String> = a
            .reasons
            .iter()
            .map(|(r, t)| {
                format!(
                    "{} ({} · {})",
                    display_reason(r),
                    fmt_count(t.count),
                    fmt_dur(t.total_ns)
                )
            })
            .collect();
        let _ = writeln!(m, "Reasons: {}", reasons.join(", "));
        if !a.primitives.is_empty() {
            let p: Vec<String> = a.primitives.iter().map(|p| format!("`{p}`")).collect();
            let _ = writeln!(m, "\nBlocked in: {}", p.join(", "));
        }
        if a.open.count > 0 {
            let _ = writeln!(
                m,
                "\n{} episode{} began before the trace or {} still blocked at its end ({}; not in the percentiles).",
                fmt_count(a.open.count),
                if a.open.count == 1 { "" } else { "s" },
                if a.open.count == 1 { "was" } else { "were" },
                fmt_dur(a.open.total_ns)
            );
        }
        let woken: u64 = a.wakers.iter().map(|w| w.count).sum();
        let wk: Vec<String> = a
            .wakers
            .iter()
            .take(3)
            .map(|w| {
                let share = if woken > 0 {
                    w.count as f64 / woken as f64
                } else {
                    0.0
                };
                match &w.site {
                    Some(s) => format!(
                        "{} at {} ({})",
                        waker_action(w.primitive.as_deref()),
                        md_site(s),
                        pct(share)
                    ),
                    None => format!("the runtime ({})", pct(share)),
                }
            })
            .collect();
        if !wk.is_empty() {
            let _ = writeln!(m, "\nWoken by: {}", wk.join(", "));
        }
    }
    if a.callees.total_ns > 0 {
        let _ = writeln!(
            m,
            "\n↓ {} blocked in callees ({} episodes)",
            fmt_dur(a.callees.total_ns),
            fmt_count(a.callees.count)
        );
    }
    if traces.len() > 1 && !a.per_trace.is_empty() {
        m.push_str("\n| trace | blocks | total |\n|---|---:|---:|\n");
        for t in traces {
            if let Some((c, o)) = a.per_trace.get(&t.id) {
                let _ = writeln!(
                    m,
                    "| {} | {} | {} |",
                    t.name.replace('|', "\\|"),
                    fmt_count(c.count + o.count),
                    fmt_dur(c.total_ns + o.total_ns)
                );
            }
        }
    }
    if !a.parked.is_empty() {
        m.push_str(
            "\n| goroutine | blocked | reason | woken by | created at |\n|---:|---:|---|---|---|\n",
        );
        for r in a.parked.iter().take(HOVER_ROWS) {
            let p = &r.parked;
            let woken = if p.open_at_end {
                "still blocked at end of trace".to_owned()
            } else {
                match (p.waker_goroutine, &p.waker_site) {
                    (Some(g), Some(s)) => format!("goroutine {g} at {}", md_site(s)),
                    (Some(g), None) => format!("goroutine {g}"),
                    (None, Some(s)) => md_site(s),
                    (None, None) => "the runtime".to_owned(),
                }
            };
            let created = p
                .creator_site
                .as_ref()
                .map(md_site)
                .unwrap_or_else(|| "—".to_owned());
            let dur = if p.began_before_trace {
                format!("≥ {}", fmt_dur(p.duration_ns))
            } else {
                fmt_dur(p.duration_ns)
            };
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} |",
                p.goroutine,
                dur,
                display_reason(&r.reason),
                woken,
                created
            );
        }
        let more = a
            .count()
            .saturating_sub(HOVER_ROWS.min(a.parked.len()) as u64);
        if more > 0 {
            let _ = writeln!(m, "\n… and {} more", fmt_count(more));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotations::kind_of;
    use goblock_trace::Category;

    #[test]
    fn formats() {
        assert_eq!(fmt_count(1204), "1,204");
        assert_eq!(fmt_count(12), "12");
        assert_eq!(fmt_count(1_234_567), "1,234,567");
        assert_eq!(fmt_count_short(1204), "1.2k");
        assert_eq!(fmt_count_short(999), "999");
        assert_eq!(fmt_count_short(25_300), "25k");
        assert_eq!(fmt_dur(3_410_000_000), "3.41 s");
        assert_eq!(fmt_dur(12_000_000), "12.0 ms");
        assert_eq!(fmt_dur(850_000), "850 µs");
        assert_eq!(fmt_dur_short(3_410_000_000), "3.4s");
        assert_eq!(fmt_dur_short(12_300_000), "12ms");
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
}
