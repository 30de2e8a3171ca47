//! Request computations, run on a blocking thread from a [`View`]: inlay
//! hints, hover, and the anchoring of an open document they may need first
//! (reading the file as saved, which the snapshot's annotations are placed
//! on, and mapping its lines to the editor's text). A computed anchoring is
//! offered back to the session so that it is done once per snapshot.
//!
//! Reads the view; changes nothing in the session.

use std::sync::Arc;

use tower_lsp_server::gen_lsp_types as lsp;

use crate::docs::Document;
use crate::main_loop::{Event, EventSender};
use crate::relocate::Relocator;
use crate::session::View;
use crate::view::{Anchors, hover_for, inlay_for};

/// The anchors of the view's document and the document they map through:
/// the view's own when computed, else computed now (and posted back).
pub(crate) fn anchors_of(view: &View, tx: &EventSender) -> (Arc<Anchors>, Arc<Document>) {
    let Some(dv) = &view.doc else {
        return (Arc::new(Anchors::default()), Arc::new(Document::default()));
    };
    if let Some(a) = &dv.anchors {
        return (a.clone(), dv.doc.clone());
    }
    let disk = std::fs::read_to_string(&*dv.path).ok();
    let mut doc = (*dv.doc).clone();
    let base = disk.unwrap_or_else(|| doc.text());
    doc.rebase(&base);
    let file = view.snap.file_of(&dv.path).cloned();
    let anchors = Arc::new(Anchors::compute(file, &base, &view.snap));
    let _ = tx.send(Event::Anchored {
        uri: dv.uri.clone(),
        generation: view.snap.generation,
        doc: doc.clone(),
        anchors: anchors.clone(),
    });
    (anchors, Arc::new(doc))
}

/// `textDocument/inlayHint` over lines `first..=last`.
pub(crate) fn inlay_hints(
    view: &View,
    tx: &EventSender,
    first: u32,
    last: u32,
) -> Option<Vec<lsp::InlayHint>> {
    view.doc.as_ref()?;
    let (anchors, doc) = anchors_of(view, tx);
    let reloc = Relocator::new(&view.snap, &view.open);
    Some(inlay_for(
        &anchors,
        &doc,
        &view.snap.settings,
        &reloc,
        first,
        last,
    ))
}

/// `textDocument/hover` on a line.
pub(crate) fn hover(view: &View, tx: &EventSender, line: u32) -> Option<lsp::Hover> {
    view.doc.as_ref()?;
    let (anchors, doc) = anchors_of(view, tx);
    let reloc = Relocator::new(&view.snap, &view.open);
    hover_for(&anchors, &doc, &view.snap, &reloc, line, view.hover)
}

/// `goblock.goroutines`: every goroutine parked at 0-based `line` of the
/// view's document as shown now (the line the hover shows), or, for a file
/// that is not open, at that line of the saved file.
pub(crate) fn goroutines(
    view: &View,
    tx: &EventSender,
    uri: &str,
    path: &str,
    line: u32,
) -> crate::protocol::GoroutinesResult {
    let reloc = Relocator::new(&view.snap, &view.open);
    let a = if view.doc.is_some() {
        let (anchors, doc) = anchors_of(view, tx);
        doc.base_line(line)
            .and_then(|base| anchors.by_line.get(&base).copied())
            .and_then(|i| anchors.file.as_ref()?.lines.get(i).cloned())
    } else {
        view.snap
            .file_of(path)
            .and_then(|f| f.at(line + 1))
            .cloned()
    };
    crate::dumps::goroutines::goroutines_result(
        path,
        uri,
        line + 1,
        a.as_ref(),
        &view.snap.metas,
        &reloc,
    )
}
