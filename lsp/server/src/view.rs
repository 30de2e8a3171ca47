//! Per-document views of a snapshot: where a file's annotations land in a
//! given text ([`Anchors`]: staleness checks, re-anchoring) and the
//! diagnostics, inlay hints and hover of an open or closed document, built
//! through `to_proto`; the lines they link to (wakers, creation sites) are
//! placed by a [`Relocator`].
//!
//! Reads a [`Snapshot`] and a [`Document`]; mutates nothing and does no I/O
//! beyond the file's modification time (and what the relocator reads).

use std::collections::HashMap;
use std::sync::Arc;

use tower_lsp_server::gen_lsp_types as lsp;

use crate::annotations::{Annotation, FileAnnotations, Level};
use crate::config::{Settings, Severity};
use crate::docs::{Document, encoded_len};
use crate::relocate::Relocator;
use crate::render::{self, HoverFormat};
use crate::snapshot::Snapshot;
use crate::span;
use crate::stale::{self, Anchor};
use crate::to_proto;

/// Annotations of one file placed on base lines.
#[derive(Default)]
pub(crate) struct Anchors {
    pub(crate) file: Option<Arc<FileAnnotations>>,
    /// 0-based base line → index into `file.lines`.
    pub(crate) by_line: HashMap<u32, usize>,
    /// Per annotation.
    pub(crate) anchors: Vec<Anchor>,
}

impl Anchors {
    pub(crate) fn compute(
        file: Option<Arc<FileAnnotations>>,
        base: &str,
        snap: &Snapshot,
    ) -> Anchors {
        let Some(fa) = file else {
            return Anchors::default();
        };
        let since = snap.origins.since(&fa.path, base);
        let anchors = stale::anchor(&fa, base, &snap.built_decls, &since);
        let mut by_line = HashMap::new();
        for (i, an) in anchors.iter().enumerate() {
            if let Some(l) = an.line {
                by_line.insert(l - 1, i);
            }
        }
        // Stale annotations stay hoverable at their recorded line when free.
        for (i, (a, an)) in fa.lines.iter().zip(&anchors).enumerate() {
            if an.line.is_none() && a.line > 0 {
                by_line.entry(a.line - 1).or_insert(i);
            }
        }
        Anchors {
            file: Some(fa),
            by_line,
            anchors,
        }
    }
}

/// Diagnostics of one document; their linked lines placed by `reloc`.
pub(crate) fn diagnostics_for(
    anchors: &Anchors,
    doc: &Document,
    settings: &Settings,
    reloc: &Relocator,
) -> Vec<lsp::Diagnostic> {
    let Some(fa) = &anchors.file else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (a, an) in fa.lines.iter().zip(&anchors.anchors) {
        if !a.has_diagnostic() {
            continue;
        }
        let Some(line) = an.line else { continue };
        let Some(cur) = doc.current_line(line - 1) else {
            continue;
        };
        let a = &reloc.annotation(a);
        let (start, end) = statement_span(doc, cur);
        if let Some(level) = a.level {
            let sev = match level {
                Level::Hot => settings.diagnostics.severity,
                Level::Normal => Severity::Hint,
            };
            let msg = render::diagnostic_message(a);
            out.push(to_proto::diagnostic(
                cur,
                start,
                end,
                sev,
                a.kind,
                msg,
                &render::related(a),
            ));
        }
        // Goroutine dumps and profiles: one diagnostic per kind.
        for d in render::dumps::diagnostics(a, settings) {
            out.push(to_proto::diagnostic(
                cur, start, end, d.severity, d.code, d.message, &d.related,
            ));
        }
    }
    out
}

/// Where a diagnostic underlines a line: its statement, from the first
/// non-blank character to the end of the code (a trailing comment and
/// blanks left out), in the document's encoding. A line that is all blank
/// or comment keeps its whole length.
fn statement_span(doc: &Document, line: u32) -> (u32, u32) {
    let text = doc.line_text(line).unwrap_or_default();
    let (a, b) = span::statement(&text);
    if a >= b {
        return (0, doc.line_len(line));
    }
    let enc = doc.encoding();
    (encoded_len(&text[..a], enc), encoded_len(&text[..b], enc))
}

pub(crate) fn inlay_for(
    anchors: &Anchors,
    doc: &Document,
    settings: &Settings,
    reloc: &Relocator,
    first: u32,
    last: u32,
) -> Vec<lsp::InlayHint> {
    let Some(fa) = &anchors.file else {
        return Vec::new();
    };
    if !settings.inlay_hints.enable {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (a, an) in fa.lines.iter().zip(&anchors.anchors) {
        let Some(line) = an.line else { continue };
        let Some(cur) = doc.current_line(line - 1) else {
            continue;
        };
        if cur < first || cur > last {
            continue;
        }
        let min = (settings.inlay_hints.min_total_ms * 1e6) as u64;
        let mut parts = if a.has_flat() && a.total_ns() >= min {
            render::inlay_label(&reloc.annotation(a))
        } else if settings.inlay_hints.callers && a.callees.total_ns >= min {
            render::callers_label(a).into_iter().collect()
        } else {
            Vec::new()
        };
        // Goroutine dumps and profiles, after the trace's part.
        for d in render::dumps::inlay_parts(a, min) {
            if !parts.is_empty() {
                parts.push(crate::render::LabelPart {
                    text: " | ".into(),
                    tooltip: None,
                    target: None,
                });
            }
            parts.push(d);
        }
        if parts.is_empty() {
            continue;
        }
        out.push(to_proto::inlay_hint(cur, doc.line_len(cur), parts));
    }
    out.sort_by_key(|h| h.position.line);
    out
}

pub(crate) fn hover_for(
    anchors: &Anchors,
    doc: &Document,
    snap: &Snapshot,
    reloc: &Relocator,
    cur: u32,
    fmt: HoverFormat,
) -> Option<lsp::Hover> {
    let fa = anchors.file.as_ref()?;
    let base = doc.base_line(cur)?;
    let &i = anchors.by_line.get(&base)?;
    let a: &Annotation = fa.lines.get(i)?;
    let an = anchors.anchors.get(i)?;
    if !a.has_any() {
        return None;
    }
    let text = render::hover(&reloc.annotation(a), &snap.metas, &an.freshness, fmt);
    Some(to_proto::hover(
        text,
        fmt.is_markdown(),
        cur,
        doc.line_len(cur),
    ))
}
