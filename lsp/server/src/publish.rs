//! Publishing: the one place where "a document's annotations changed" is
//! handled ([`Session::annotations_changed`]), and the [`Outbox`] through
//! which the session sends its notifications in order.
//!
//! Diagnostics of an open document are computed on a blocking thread from
//! a [`View`](crate::session::View) (anchoring it first when needed) and
//! come back to the loop, which publishes them only if the document is
//! still at that version; closed workspace files are read and published
//! the same way, and files published before that have nothing now are
//! cleared. A burst of edits is coalesced (one publication per 20 ms).
//! An edit also republishes the documents and closed files whose
//! diagnostics link into the edited one (wakers, creation sites in their
//! related information), coalesced the same way, one computation at a time.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tower_lsp_server::Client;
use tower_lsp_server::gen_lsp_types as lsp;

use crate::docs::Document;
use crate::main_loop::Event;
use crate::relocate::{OpenDocs, Relocator};
use crate::requests;
use crate::session::Session;
use crate::view::{Anchors, diagnostics_for};

/// What changed.
pub(crate) enum Scope {
    /// One open document (opened, edited, anchored).
    Doc(String),
    /// Everything (a new snapshot).
    All,
}

/// A notification to send.
enum Outgoing {
    Diagnostics(lsp::Uri, Vec<lsp::Diagnostic>, Option<i32>),
    Log(lsp::MessageType, String),
    Show(lsp::MessageType, String),
    Status(crate::protocol::StatusParams),
}

/// The `goblock/status` notification (our extension).
enum GoblockStatus {}

impl lsp::Notification for GoblockStatus {
    type Params = crate::protocol::StatusParams;
    const METHOD: lsp::LspNotificationMethod<'static> =
        lsp::LspNotificationMethod::Custom(crate::protocol::STATUS);
    const MESSAGE_DIRECTION: lsp::MessageDirection = lsp::MessageDirection::ServerToClient;
}

/// Sends the session's notifications in the order they were queued.
#[derive(Clone)]
pub(crate) struct Outbox(mpsc::UnboundedSender<Outgoing>);

impl Outbox {
    /// Starts the sending task.
    pub(crate) fn start(client: Client) -> Outbox {
        let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                match m {
                    Outgoing::Diagnostics(uri, d, v) => client.publish_diagnostics(uri, d, v).await,
                    Outgoing::Log(k, s) => client.log_message(k, s).await,
                    Outgoing::Show(k, s) => client.show_message(k, s).await,
                    Outgoing::Status(p) => client.send_notification::<GoblockStatus>(p).await,
                }
            }
        });
        Outbox(tx)
    }

    /// `window/logMessage`.
    pub(crate) fn log(&self, kind: lsp::MessageType, msg: impl Into<String>) {
        let _ = self.0.send(Outgoing::Log(kind, msg.into()));
    }

    /// `window/showMessage`.
    pub(crate) fn show(&self, kind: lsp::MessageType, msg: impl Into<String>) {
        let _ = self.0.send(Outgoing::Show(kind, msg.into()));
    }

    /// `goblock/status`.
    pub(crate) fn status(&self, p: crate::protocol::StatusParams) {
        let _ = self.0.send(Outgoing::Status(p));
    }

    fn diagnostics(&self, uri: String, d: Vec<lsp::Diagnostic>, version: Option<i32>) {
        let _ = self
            .0
            .send(Outgoing::Diagnostics(lsp::Uri(uri), d, version));
    }
}

/// Closed files waiting to be republished because a document they link
/// into changed ([`Session::republish_closed_linking`]).
#[derive(Debug, Default)]
pub(crate) struct ClosedLinking {
    due: std::collections::BTreeSet<Arc<str>>,
    /// A timer is set.
    scheduled: bool,
    /// A computation is running (its results come back in order).
    running: bool,
}

/// Diagnostics of a file that is not open, from its text on disk.
fn closed_file_diagnostics(
    path: &str,
    snap: &crate::snapshot::Snapshot,
    encoding: crate::docs::Encoding,
    open: &OpenDocs,
) -> Vec<lsp::Diagnostic> {
    let Some(fa) = snap.file_of(path) else {
        return Vec::new();
    };
    if !fa.in_workspace || !snap.settings.diagnostics.enable {
        return Vec::new();
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let anchors = Anchors::compute(Some(fa.clone()), &text, snap);
    let doc = Document::new(text, 0, encoding);
    diagnostics_for(&anchors, &doc, &snap.settings, &Relocator::new(snap, open))
}

impl Session {
    /// The annotations shown for `scope` changed: republish its
    /// diagnostics; for a new snapshot also the closed files', and ask
    /// the client to fetch inlay hints again.
    pub(crate) fn annotations_changed(&mut self, scope: Scope) {
        match scope {
            Scope::Doc(uri) => self.schedule_publish(&uri),
            Scope::All => {
                let uris: Vec<String> = self.docs.keys().cloned().collect();
                for u in uris {
                    if let Some(d) = self.docs.get_mut(&u) {
                        d.anchors = None;
                    }
                    self.schedule_publish(&u);
                }
                self.publish_closed_files();
                if self.features.inlay_refresh {
                    let c = self.client.clone();
                    tokio::spawn(async move {
                        let _ =
                            tokio::time::timeout(Duration::from_secs(5), c.inlay_hint_refresh())
                                .await;
                    });
                }
            }
        }
    }

    /// Publishes an open document's diagnostics soon (coalescing bursts).
    pub(crate) fn schedule_publish(&mut self, uri: &str) {
        let Some(d) = self.docs.get_mut(uri) else {
            return;
        };
        if d.publish_due {
            return;
        }
        d.publish_due = true;
        self.post_after(Duration::from_millis(20), Event::PublishDue(uri.to_owned()));
    }

    pub(crate) fn publish_due(&mut self, uri: &str) {
        let Some(d) = self.docs.get_mut(uri) else {
            return;
        };
        d.publish_due = false;
        let view = self.view(Some(uri));
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let Some(dv) = &view.doc else { return };
            let (anchors, doc) = requests::anchors_of(&view, &tx);
            let diags = if view.snap.settings.diagnostics.enable {
                let reloc = Relocator::new(&view.snap, &view.open);
                diagnostics_for(&anchors, &doc, &view.snap.settings, &reloc)
            } else {
                Vec::new()
            };
            let _ = tx.send(Event::DocDiagnostics {
                uri: dv.uri.clone(),
                version: doc.version,
                generation: view.snap.generation,
                diags,
            });
        });
    }

    pub(crate) fn doc_diagnostics(
        &mut self,
        uri: String,
        version: i32,
        generation: u64,
        diags: Vec<lsp::Diagnostic>,
    ) {
        let Some(d) = self.docs.get(&uri) else { return };
        if d.doc.version != version || generation != self.snapshot.generation {
            // A newer publication is on its way.
            return;
        }
        self.published.insert(uri.clone());
        let diags = self.with_build_diagnostics(&uri, diags);
        self.out.diagnostics(uri, diags, Some(version));
    }

    /// Publishes every annotated closed workspace file from disk.
    fn publish_closed_files(&mut self) {
        let snap = self.snapshot.clone();
        let open = self.open_docs();
        let enc = self.features.encoding;
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let mut items = Vec::new();
            if snap.settings.diagnostics.enable {
                for (path, fa) in &snap.index.files {
                    if !fa.in_workspace
                        || open.contains_key(path)
                        || !fa.lines.iter().any(|a| a.has_diagnostic())
                    {
                        continue;
                    }
                    let diags = closed_file_diagnostics(path, &snap, enc, &open);
                    items.push((crate::uri::from_path(Path::new(&**path)), diags));
                }
            }
            let _ = tx.send(Event::ClosedDiagnostics {
                generation: snap.generation,
                items,
                complete: true,
            });
        });
    }

    /// The document at `path` changed (edited, or closed): the closed
    /// workspace files whose diagnostics link into it are republished soon.
    pub(crate) fn republish_closed_linking(&mut self, path: &str) {
        if !self.snapshot.settings.diagnostics.enable {
            return;
        }
        let open = self.open_docs();
        let name = self.client_paths.name(path);
        let linking: Vec<Arc<str>> = self
            .snapshot
            .index
            .files
            .iter()
            .filter(|(p, fa)| {
                fa.in_workspace
                    && !open.contains_key(*p)
                    && fa.lines.iter().any(|a| a.has_diagnostic())
                    && (fa.links_into(path) || fa.links_into(&name))
            })
            .map(|(p, _)| p.clone())
            .collect();
        if linking.is_empty() {
            return;
        }
        self.closed_linking.due.extend(linking);
        if !self.closed_linking.scheduled {
            self.closed_linking.scheduled = true;
            self.post_after(Duration::from_millis(20), Event::ClosedLinkingDue);
        }
    }

    pub(crate) fn closed_linking_due(&mut self) {
        self.closed_linking.scheduled = false;
        if self.closed_linking.running {
            // After the running one: its results must not overtake ours.
            self.closed_linking.scheduled = true;
            self.post_after(Duration::from_millis(20), Event::ClosedLinkingDue);
            return;
        }
        let paths = std::mem::take(&mut self.closed_linking.due);
        if paths.is_empty() {
            return;
        }
        self.closed_linking.running = true;
        let snap = self.snapshot.clone();
        let open = self.open_docs();
        let enc = self.features.encoding;
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let items = paths
                .iter()
                .filter(|p| !open.contains_key(*p))
                .map(|p| {
                    let diags = closed_file_diagnostics(p, &snap, enc, &open);
                    (crate::uri::from_path(Path::new(&**p)), diags)
                })
                .collect();
            let _ = tx.send(Event::ClosedLinkingDone {
                generation: snap.generation,
                items,
            });
        });
    }

    pub(crate) fn closed_linking_done(
        &mut self,
        generation: u64,
        items: Vec<(String, Vec<lsp::Diagnostic>)>,
    ) {
        self.closed_linking.running = false;
        self.closed_diagnostics(generation, items, false);
    }

    /// A document was closed: its diagnostics are those of the file on disk.
    pub(crate) fn publish_closed(&mut self, uri: String, path: Arc<str>) {
        let snap = self.snapshot.clone();
        let open = self.open_docs();
        let enc = self.features.encoding;
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let diags = closed_file_diagnostics(&path, &snap, enc, &open);
            let _ = tx.send(Event::ClosedDiagnostics {
                generation: snap.generation,
                items: vec![(uri, diags)],
                complete: false,
            });
        });
    }

    pub(crate) fn closed_diagnostics(
        &mut self,
        generation: u64,
        items: Vec<(String, Vec<lsp::Diagnostic>)>,
        complete: bool,
    ) {
        if generation != self.snapshot.generation {
            return;
        }
        let mut now = std::collections::HashSet::new();
        for (uri, diags) in items {
            if self.docs.contains_key(&uri) {
                continue;
            }
            now.insert(uri.clone());
            let diags = self.with_build_diagnostics(&uri, diags);
            if diags.is_empty() && !self.published.contains(&uri) {
                continue;
            }
            self.out.diagnostics(uri, diags, None);
        }
        if complete {
            // Closed files with only a failed capture's compiler messages.
            for uri in self.build_diagnostic_uris() {
                if !self.docs.contains_key(&uri) && now.insert(uri.clone()) {
                    let diags = self.with_build_diagnostics(&uri, Vec::new());
                    self.out.diagnostics(uri, diags, None);
                }
            }
            now.extend(self.docs.keys().cloned());
            let old: Vec<String> = self
                .published
                .iter()
                .filter(|u| !now.contains(*u))
                .cloned()
                .collect();
            for u in old {
                self.out.diagnostics(u, Vec::new(), None);
            }
            self.published = now;
        } else {
            self.published.extend(now);
        }
    }
}
