//! The session loop: the one task that owns the [`Session`] and applies
//! every [`Event`] to it, one at a time, in arrival order (rust-analyzer's
//! `main_loop` + `GlobalState`, ruff's `Session`).
//!
//! Events come from the LSP handlers (notifications are sent before their
//! handler returns, so they keep the client's order; requests ask for a
//! [`View`] through the same queue, so they see every notification sent
//! before them) and from background tasks reporting their results (loads,
//! anchoring, diagnostics, timers, the file watcher). Nothing here waits:
//! disk reads, analysis and round trips to the client run in tasks.

use std::path::PathBuf;
use std::sync::Arc;

use goblock_analysis::Workspace;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tower_lsp_server::gen_lsp_types as lsp;
use tower_lsp_server::jsonrpc::Error as RpcError;

use crate::capture::{self, CaptureCommand};
use crate::config::Settings;
use crate::docs::{Change, Document};
use crate::from_proto::ClientFeatures;
use crate::load::Planned;
use crate::loader::{Loaded, Outcome};
use crate::progress::Progress;
use crate::session::{Session, View};
use crate::snapshot::Snapshot;
use crate::view::Anchors;
use crate::watch::FallbackWatcher;

/// A command that changes what is loaded.
#[derive(Debug)]
pub(crate) enum LoadCommand {
    /// `goblock.loadTrace`.
    LoadTrace(PathBuf),
    /// `goblock.reload`.
    Reload,
    /// `goblock.clear`.
    Clear,
}

/// Why a snapshot was built.
pub(crate) enum Built {
    /// The end of load `generation`.
    Load {
        generation: u64,
        progress: Option<Progress>,
    },
    /// A preview during load `generation`.
    Preview { generation: u64 },
    /// New settings on the snapshot of generation `base`.
    Rerender { base: u64 },
}

/// Everything the session reacts to.
pub(crate) enum Event {
    // ---- from the client, in order
    Initialize {
        features: ClientFeatures,
        roots: Vec<PathBuf>,
        settings: Option<(Settings, Vec<String>)>,
    },
    Initialized,
    Shutdown(oneshot::Sender<()>),
    DidOpen {
        uri: String,
        path: Arc<str>,
        text: String,
        version: i32,
    },
    DidChange {
        uri: String,
        version: i32,
        changes: Vec<Change>,
    },
    DidClose(String),
    Configuration(Settings, Vec<String>),
    WorkspaceFolders {
        added: Vec<PathBuf>,
        removed: Vec<PathBuf>,
    },
    FilesChanged(Vec<PathBuf>),
    ProgressCancel(lsp::ProgressToken),
    Command(LoadCommand, oneshot::Sender<Result<Value, RpcError>>),
    Capture(CaptureCommand, oneshot::Sender<Result<Value, RpcError>>),
    View(Option<String>, oneshot::Sender<View>),
    // ---- from background work
    Anchored {
        uri: String,
        generation: u64,
        doc: Document,
        anchors: Arc<Anchors>,
    },
    DocDiagnostics {
        uri: String,
        version: i32,
        generation: u64,
        diags: Vec<lsp::Diagnostic>,
    },
    ClosedDiagnostics {
        generation: u64,
        items: Vec<(String, Vec<lsp::Diagnostic>)>,
        /// All annotated closed files (stale ones are cleared).
        complete: bool,
    },
    PublishDue(String),
    /// Time to republish the closed files linking into edited documents.
    ClosedLinkingDue,
    /// Their diagnostics, computed.
    ClosedLinkingDone {
        generation: u64,
        items: Vec<(String, Vec<lsp::Diagnostic>)>,
    },
    Planned {
        generation: u64,
        planned: Planned,
        workspace: Arc<Workspace>,
    },
    ProgressToken {
        generation: u64,
        token: lsp::ProgressToken,
    },
    Loaded {
        generation: u64,
        path: PathBuf,
        outcome: Outcome,
    },
    Preview {
        generation: u64,
        path: PathBuf,
        loaded: Box<Loaded>,
        fraction: f64,
    },
    LoadPanicked {
        generation: u64,
        path: PathBuf,
    },
    LoadsDone {
        generation: u64,
        progress: Option<Progress>,
    },
    SnapshotBuilt(Built, Arc<Snapshot>),
    TraceFilesChanged,
    DebounceFired(u64),
    Watcher(Option<FallbackWatcher>, Vec<String>),
    WatchFallback,
    ReleaseMemory,
    // ---- from a capture
    /// A capture resolved what it runs (`name`) and began its progress.
    CaptureToken {
        id: u64,
        token: lsp::ProgressToken,
        name: String,
    },
    CaptureDone {
        id: u64,
        outcome: Result<capture::Done, capture::Failure>,
    },
    ShowCapture(
        Box<goblock_capture::Capture>,
        oneshot::Sender<Result<Value, RpcError>>,
    ),
}

/// Posts events to the session loop.
pub(crate) type EventSender = mpsc::UnboundedSender<Event>;

/// Runs the loop until every sender is gone.
pub(crate) async fn run(mut session: Session, mut rx: mpsc::UnboundedReceiver<Event>) {
    while let Some(ev) = rx.recv().await {
        session.handle(ev);
    }
}

impl Session {
    /// Applies one event.
    pub(crate) fn handle(&mut self, ev: Event) {
        match ev {
            Event::Initialize {
                features,
                roots,
                settings,
            } => self.initialize(features, roots, settings),
            Event::Initialized => self.initialized(),
            Event::Shutdown(reply) => {
                self.shutdown();
                let _ = reply.send(());
            }
            Event::DidOpen {
                uri,
                path,
                text,
                version,
            } => self.did_open(uri, path, text, version),
            Event::DidChange {
                uri,
                version,
                changes,
            } => self.did_change(&uri, version, &changes),
            Event::DidClose(uri) => self.did_close(&uri),
            Event::Configuration(s, errors) => self.apply_settings(s, errors),
            Event::WorkspaceFolders { added, removed } => self.folders_changed(added, removed),
            Event::FilesChanged(paths) => self.files_changed(paths),
            Event::ProgressCancel(token) => self.cancel_progress(&token),
            Event::Command(cmd, reply) => self.load_command(cmd, reply),
            Event::Capture(cmd, reply) => self.capture_command(cmd, reply),
            Event::CaptureToken { id, token, name } => self.capture_token(id, token, name),
            Event::CaptureDone { id, outcome } => self.capture_done(id, outcome),
            Event::ShowCapture(c, reply) => self.show_capture(*c, reply),
            Event::View(uri, reply) => {
                let _ = reply.send(self.view(uri.as_deref()));
            }
            Event::Anchored {
                uri,
                generation,
                doc,
                anchors,
            } => self.anchored(&uri, generation, doc, anchors),
            Event::DocDiagnostics {
                uri,
                version,
                generation,
                diags,
            } => self.doc_diagnostics(uri, version, generation, diags),
            Event::ClosedDiagnostics {
                generation,
                items,
                complete,
            } => self.closed_diagnostics(generation, items, complete),
            Event::PublishDue(uri) => self.publish_due(&uri),
            Event::ClosedLinkingDue => self.closed_linking_due(),
            Event::ClosedLinkingDone { generation, items } => {
                self.closed_linking_done(generation, items)
            }
            Event::Planned {
                generation,
                planned,
                workspace,
            } => self.planned(generation, planned, workspace),
            Event::ProgressToken { generation, token } => self.progress_token(generation, token),
            Event::Loaded {
                generation,
                path,
                outcome,
            } => self.commit_one(generation, path, outcome),
            Event::Preview {
                generation,
                path,
                loaded,
                fraction,
            } => self.preview(generation, path, *loaded, fraction),
            Event::LoadPanicked { generation, path } => self.load_panicked(generation, path),
            Event::LoadsDone {
                generation,
                progress,
            } => self.loads_done(generation, progress),
            Event::SnapshotBuilt(why, snap) => self.snapshot_built(why, snap),
            Event::TraceFilesChanged => self.start_load(false, false, None),
            Event::DebounceFired(token) => self.debounce_fired(token),
            Event::Watcher(w, skipped) => self.watcher_started(w, skipped),
            Event::WatchFallback => self.start_fallback_watcher(),
            Event::ReleaseMemory => crate::load::commit::release_freed_memory(),
        }
    }
}
