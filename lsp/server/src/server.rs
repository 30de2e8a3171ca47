//! The tower-lsp-server backend: session state, the LSP handlers and
//! publishing. Loading, watching and debouncing are in `server/loading.rs`.
//!
//! Rules kept here: notifications mutate state synchronously before any
//! `.await`; no lock is held across an `.await`; requests read an immutable
//! [`Snapshot`] and run inside `catch_unwind`, so a panic answers an
//! internal error and the server keeps going. Protocol values are built and
//! read only through `to_proto` / `from_proto`.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use dashmap::DashMap;
use goblock_analysis::Workspace;
use serde_json::Value;
use tokio::sync::mpsc;
use tower_lsp_server::gen_lsp_types as lsp;
use tower_lsp_server::jsonrpc::{Error as RpcError, Result as RpcResult};
use tower_lsp_server::{Client, LanguageServer};

use crate::config::Settings;
use crate::docs::Document;
use crate::from_proto::{self, ClientFeatures};
use crate::snapshot::{Snapshot, TraceEntry};
use crate::view::{Anchors, diagnostics_for, hover_for, inlay_for};

mod loading;
use crate::{commands, to_proto, watch};

/// An open document and where the current snapshot's annotations show in it.
struct OpenDoc {
    path: Arc<str>,
    doc: Document,
    /// Snapshot generation the anchors were computed for.
    anchored_gen: u64,
    anchors: Arc<Anchors>,
}

/// What triggers a (debounced) load.
#[derive(Debug)]
enum Trigger {
    /// A watched file changed.
    File(PathBuf),
}

/// Shared session state.
pub(crate) struct State {
    client: Client,
    snapshot: ArcSwap<Snapshot>,
    docs: DashMap<String, OpenDoc>,
    settings: Mutex<Arc<Settings>>,
    roots: Mutex<Vec<PathBuf>>,
    features: Mutex<ClientFeatures>,
    load_gen: AtomicU64,
    /// The progress token of the latest load that showed one, and that
    /// load's generation (for `window/workDoneProgress/cancel`).
    load_progress: Mutex<Option<(lsp::ProgressToken, u64)>>,
    snap_gen: AtomicU64,
    loading: AtomicUsize,
    /// Discover traces by the settings (off after `goblock.clear`).
    auto: AtomicBool,
    ids: Mutex<HashMap<PathBuf, u32>>,
    cache: Mutex<HashMap<PathBuf, Arc<TraceEntry>>>,
    extra: Mutex<Vec<PathBuf>>,
    failures: Mutex<HashMap<PathBuf, String>>,
    retries: Mutex<HashMap<PathBuf, u32>>,
    /// Messages logged once per session (skipped directories, unused paths).
    said: Mutex<HashSet<String>>,
    workspace: Mutex<Option<Arc<Workspace>>>,
    published: Mutex<HashSet<String>>,
    pending_publish: DashMap<String, ()>,
    trigger: mpsc::UnboundedSender<Trigger>,
    trigger_rx: Mutex<Option<mpsc::UnboundedReceiver<Trigger>>>,
    watcher: Mutex<Option<watch::FallbackWatcher>>,
    initialized: AtomicBool,
}

/// The language server.
pub struct Backend {
    st: Arc<State>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f`, turning a panic into an internal error.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> RpcResult<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        RpcError {
            code: tower_lsp_server::jsonrpc::ErrorCode::InternalError,
            message: format!("goblock: {what} failed: {msg}").into(),
            data: None,
        }
    })
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl Backend {
    /// A backend talking to `client`.
    pub fn new(client: Client) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Backend {
            st: Arc::new(State {
                client,
                snapshot: ArcSwap::from_pointee(Snapshot::default()),
                docs: DashMap::new(),
                settings: Mutex::new(Arc::new(Settings::default())),
                roots: Mutex::new(Vec::new()),
                features: Mutex::new(ClientFeatures::default()),
                load_gen: AtomicU64::new(0),
                load_progress: Mutex::new(None),
                snap_gen: AtomicU64::new(0),
                loading: AtomicUsize::new(0),
                auto: AtomicBool::new(true),
                ids: Mutex::new(HashMap::new()),
                cache: Mutex::new(HashMap::new()),
                extra: Mutex::new(Vec::new()),
                failures: Mutex::new(HashMap::new()),
                retries: Mutex::new(HashMap::new()),
                said: Mutex::new(HashSet::new()),
                workspace: Mutex::new(None),
                published: Mutex::new(HashSet::new()),
                pending_publish: DashMap::new(),
                trigger: tx,
                trigger_rx: Mutex::new(Some(rx)),
                watcher: Mutex::new(None),
                initialized: AtomicBool::new(false),
            }),
        }
    }

    /// `window/workDoneProgress/cancel` (not in tower-lsp-server's trait;
    /// registered with `custom_method`): cancels the load that shows the
    /// progress, as a newer load would supersede it. What is shown stays;
    /// `goblock.reload` (or the next change of a trace) loads again.
    pub async fn work_done_progress_cancel(&self, p: lsp::WorkDoneProgressCancelParams) {
        let owner = lock(&self.st.load_progress).clone();
        let Some((token, gen_)) = owner else { return };
        if token != p.token {
            return;
        }
        let cancelled = self
            .st
            .load_gen
            .compare_exchange(gen_, gen_ + 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if cancelled {
            self.st
                .log(
                    lsp::MessageType::Info,
                    "goblock: loading cancelled; the traces shown so far stay (goblock.reload loads again)",
                )
                .await;
        }
    }
}

// ------------------------------------------------------------------ loading

impl State {
    fn settings(&self) -> Arc<Settings> {
        lock(&self.settings).clone()
    }

    fn roots(&self) -> Vec<PathBuf> {
        lock(&self.roots).clone()
    }

    fn features(&self) -> ClientFeatures {
        lock(&self.features).clone()
    }

    async fn log(&self, kind: lsp::MessageType, msg: impl std::fmt::Display) {
        self.client.log_message(kind, msg).await;
    }

    /// Swaps in a snapshot, re-anchors open documents and republishes.
    async fn swap(self: &Arc<Self>, snap: Arc<Snapshot>) {
        self.snapshot.store(snap.clone());
        // Re-anchor open documents on the file as it is on disk now.
        let uris: Vec<String> = self.docs.iter().map(|e| e.key().clone()).collect();
        let mut rebase: Vec<(String, String)> = Vec::new();
        for u in &uris {
            if let Some(d) = self.docs.get(u) {
                let disk =
                    std::fs::read_to_string(&*d.path).unwrap_or_else(|_| d.doc.text().to_owned());
                rebase.push((u.clone(), disk));
            }
        }
        for (u, disk) in rebase {
            if let Some(mut d) = self.docs.get_mut(&u) {
                let file = snap.index.files.get(&d.path).cloned();
                d.doc.rebase(&disk);
                d.anchors = Arc::new(Anchors::compute(file, &disk, &snap));
                d.anchored_gen = snap.generation;
            }
        }
        self.publish_all(&snap).await;
        if self.features().inlay_refresh {
            let c = self.client.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), c.inlay_hint_refresh()).await;
            });
        }
    }

    /// Publishes diagnostics of every annotated workspace file and every open
    /// document; clears files published before that have none now.
    async fn publish_all(self: &Arc<Self>, snap: &Arc<Snapshot>) {
        let open: HashSet<Arc<str>> = self.docs.iter().map(|d| d.path.clone()).collect();
        let st = self.clone();
        let snap2 = snap.clone();
        let closed = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            if !snap2.settings.diagnostics.enable {
                return out;
            }
            for (path, fa) in &snap2.index.files {
                if !fa.in_workspace
                    || open.contains(path)
                    || !fa.lines.iter().any(|a| a.level.is_some())
                {
                    continue;
                }
                let text = std::fs::read_to_string(&**path).unwrap_or_default();
                let anchors = Anchors::compute(Some(fa.clone()), &text, &snap2);
                let doc = Document::new(text, 0, st.features().encoding);
                let diags = diagnostics_for(&anchors, &doc, &snap2.settings);
                out.push((to_proto::uri(Path::new(&**path)), diags));
            }
            out
        })
        .await
        .unwrap_or_default();
        let mut now: HashSet<String> = HashSet::new();
        for (uri, diags) in closed {
            now.insert(uri.0.clone());
            self.client.publish_diagnostics(uri, diags, None).await;
        }
        let uris: Vec<String> = self.docs.iter().map(|e| e.key().clone()).collect();
        for u in uris {
            if let Some((uri, diags, version)) = self.doc_diagnostics(&u) {
                now.insert(uri.0.clone());
                self.client
                    .publish_diagnostics(uri, diags, Some(version))
                    .await;
            }
        }
        let old: Vec<String> = {
            let mut p = lock(&self.published);
            let old = p.iter().filter(|u| !now.contains(*u)).cloned().collect();
            *p = now;
            old
        };
        for u in old {
            self.client
                .publish_diagnostics(lsp::Uri(u), Vec::new(), None)
                .await;
        }
    }

    /// Ensures the anchors of an open document match the current snapshot.
    fn ensure_anchored(&self, uri: &str, snap: &Snapshot) {
        let needs = self
            .docs
            .get(uri)
            .is_some_and(|d| d.anchored_gen != snap.generation);
        if !needs {
            return;
        }
        if let Some(mut d) = self.docs.get_mut(uri) {
            if d.anchored_gen == snap.generation {
                return;
            }
            let file = snap.index.files.get(&d.path).cloned();
            let base =
                std::fs::read_to_string(&*d.path).unwrap_or_else(|_| d.doc.text().to_owned());
            d.doc.rebase(&base);
            d.anchors = Arc::new(Anchors::compute(file, &base, snap));
            d.anchored_gen = snap.generation;
        }
    }

    fn doc_diagnostics(&self, uri: &str) -> Option<(lsp::Uri, Vec<lsp::Diagnostic>, i32)> {
        let snap = self.snapshot.load_full();
        self.ensure_anchored(uri, &snap);
        let d = self.docs.get(uri)?;
        let diags = if snap.settings.diagnostics.enable {
            diagnostics_for(&d.anchors, &d.doc, &snap.settings)
        } else {
            Vec::new()
        };
        Some((lsp::Uri(uri.to_owned()), diags, d.doc.version))
    }

    /// Publishes an open document's diagnostics soon (coalescing bursts).
    fn schedule_publish(self: &Arc<Self>, uri: String) {
        if self.pending_publish.insert(uri.clone(), ()).is_some() {
            return;
        }
        let st = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            st.pending_publish.remove(&uri);
            let r = guarded("publishDiagnostics", || st.doc_diagnostics(&uri));
            if let Ok(Some((u, diags, v))) = r {
                lock(&st.published).insert(u.0.clone());
                st.client.publish_diagnostics(u, diags, Some(v)).await;
            }
        });
    }
    /// Applies new settings.
    async fn apply_settings(self: &Arc<Self>, new: Settings, errors: Vec<String>) {
        for e in errors {
            self.client.show_message(lsp::MessageType::Warning, e).await;
        }
        let old = {
            let mut s = lock(&self.settings);
            let old = s.clone();
            *s = Arc::new(new.clone());
            old
        };
        if *old == new || !self.initialized.load(Ordering::SeqCst) {
            return;
        }
        if old.needs_reanalysis(&new) {
            *lock(&self.workspace) = None;
            lock(&self.cache).clear();
            self.load(true, false).await;
        } else if old.traces_changed(&new) {
            self.setup_watching().await;
            self.load(false, false).await;
        } else {
            let cur = self.snapshot.load_full();
            let sgen = self.snap_gen.fetch_add(1, Ordering::SeqCst) + 1;
            let s = Arc::new(new);
            let snap = tokio::task::spawn_blocking(move || cur.rerender(sgen, s)).await;
            if let Ok(snap) = snap {
                self.swap(Arc::new(snap)).await;
            }
        }
    }
}

// ------------------------------------------------------------------ handlers

impl LanguageServer for Backend {
    async fn initialize(&self, params: lsp::InitializeParams) -> RpcResult<lsp::InitializeResult> {
        let mut f = from_proto::client_features(&params.capabilities);
        f.hover = from_proto::hover_format(&params);
        let enc = f.encoding;
        *lock(&self.st.features) = f;
        *lock(&self.st.roots) = from_proto::roots(&params)
            .iter()
            .map(|r| canonical(r))
            .collect();
        if let Some(opts) = &params.initialization_options {
            let (s, errs) = Settings::from_json(opts);
            *lock(&self.st.settings) = Arc::new(s);
            for e in errs {
                self.st
                    .client
                    .show_message(lsp::MessageType::Warning, e)
                    .await;
            }
        }
        Ok(lsp::InitializeResult {
            capabilities: to_proto::capabilities(enc, commands::ALL),
            server_info: Some(lsp::ServerInfo {
                name: "goblock".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        })
    }

    async fn initialized(&self, _: lsp::InitializedParams) {
        self.st.initialized.store(true, Ordering::SeqCst);
        self.st.start_debouncer();
        let st = self.st.clone();
        tokio::spawn(async move {
            st.setup_watching().await;
            st.load(false, false).await;
        });
    }

    async fn shutdown(&self) -> RpcResult<()> {
        self.st.load_gen.fetch_add(1, Ordering::SeqCst);
        *lock(&self.st.watcher) = None;
        Ok(())
    }

    async fn did_open(&self, p: lsp::DidOpenTextDocumentParams) {
        let uri = p.text_document.uri.0.clone();
        let Some(path) = from_proto::path(&p.text_document.uri) else {
            return;
        };
        let r = guarded("didOpen", || {
            let path: Arc<str> = canonical(&path).to_string_lossy().into();
            let disk =
                std::fs::read_to_string(&*path).unwrap_or_else(|_| p.text_document.text.clone());
            let snap = self.st.snapshot.load_full();
            let file = snap.index.files.get(&path).cloned();
            let anchors = Anchors::compute(file, &disk, &snap);
            let doc = Document::with_base(
                &disk,
                p.text_document.text,
                p.text_document.version,
                self.st.features().encoding,
            );
            self.st.docs.insert(
                uri.clone(),
                OpenDoc {
                    path,
                    doc,
                    anchored_gen: snap.generation,
                    anchors: Arc::new(anchors),
                },
            );
        });
        if r.is_ok() {
            self.st.schedule_publish(uri);
        }
    }

    async fn did_change(&self, p: lsp::DidChangeTextDocumentParams) {
        let uri = p.text_document.text_document_identifier.uri.0.clone();
        let version = p.text_document.version;
        let changes = from_proto::changes(p.content_changes);
        // Applied synchronously: nothing may overtake it.
        let r = guarded("didChange", || match self.st.docs.get_mut(&uri) {
            Some(mut d) => d.doc.apply(version, &changes).err().map(|e| e.to_string()),
            None => Some("change for a document that is not open".to_owned()),
        });
        match r {
            Ok(None) => self.st.schedule_publish(uri),
            Ok(Some(msg)) => {
                self.st
                    .log(lsp::MessageType::Log, format!("goblock: {uri}: {msg}"))
                    .await
            }
            Err(e) => self.st.log(lsp::MessageType::Error, e.message).await,
        }
    }

    async fn did_close(&self, p: lsp::DidCloseTextDocumentParams) {
        let uri = p.text_document.uri.0.clone();
        let removed = self.st.docs.remove(&uri);
        if let Some((_, d)) = removed {
            let snap = self.st.snapshot.load_full();
            let in_ws = snap
                .index
                .files
                .get(&d.path)
                .is_some_and(|f| f.in_workspace);
            let diags = if in_ws && snap.settings.diagnostics.enable {
                let text = std::fs::read_to_string(&*d.path).unwrap_or_default();
                let anchors =
                    Anchors::compute(snap.index.files.get(&d.path).cloned(), &text, &snap);
                let doc = Document::new(text, 0, self.st.features().encoding);
                diagnostics_for(&anchors, &doc, &snap.settings)
            } else {
                Vec::new()
            };
            self.st
                .client
                .publish_diagnostics(lsp::Uri(uri), diags, None)
                .await;
        }
    }

    async fn did_change_configuration(&self, p: lsp::DidChangeConfigurationParams) {
        let v = &p.settings;
        if v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) {
            return;
        }
        let (s, errs) = Settings::from_json(v);
        let st = self.st.clone();
        tokio::spawn(async move { st.apply_settings(s, errs).await });
    }

    async fn did_change_workspace_folders(&self, p: lsp::DidChangeWorkspaceFoldersParams) {
        let (added, removed) = from_proto::folder_changes(&p);
        {
            let mut roots = lock(&self.st.roots);
            let removed: Vec<PathBuf> = removed.iter().map(|r| canonical(r)).collect();
            roots.retain(|r| !removed.contains(r));
            for a in added {
                let a = canonical(&a);
                if !roots.contains(&a) {
                    roots.push(a);
                }
            }
        }
        // Path mapping depends on the roots: re-analyse.
        *lock(&self.st.workspace) = None;
        lock(&self.st.cache).clear();
        let st = self.st.clone();
        tokio::spawn(async move {
            *lock(&st.watcher) = None;
            st.setup_watching().await;
            st.load(true, false).await;
        });
    }

    async fn did_change_watched_files(&self, p: lsp::DidChangeWatchedFilesParams) {
        for path in from_proto::file_events(&p) {
            let _ = self.st.trigger.send(Trigger::File(path));
        }
    }

    async fn inlay_hint(&self, p: lsp::InlayHintParams) -> RpcResult<Option<Vec<lsp::InlayHint>>> {
        let uri = p.text_document.uri.0;
        let (first, last) = (p.range.start.line, p.range.end.line);
        guarded("inlayHint", || {
            let snap = self.st.snapshot.load_full();
            self.st.ensure_anchored(&uri, &snap);
            let d = self.st.docs.get(&uri)?;
            Some(inlay_for(&d.anchors, &d.doc, &snap.settings, first, last))
        })
    }

    async fn hover(&self, p: lsp::HoverParams) -> RpcResult<Option<lsp::Hover>> {
        let tp = p.text_document_position_params;
        let uri = tp.text_document.uri.0;
        let line = tp.position.line;
        let fmt = self.st.features().hover;
        guarded("hover", || {
            let snap = self.st.snapshot.load_full();
            self.st.ensure_anchored(&uri, &snap);
            let d = self.st.docs.get(&uri)?;
            hover_for(&d.anchors, &d.doc, &snap, line, fmt)
        })
    }

    async fn execute_command(
        &self,
        p: lsp::ExecuteCommandParams,
    ) -> RpcResult<Option<lsp::LspAny>> {
        let args = p.arguments.unwrap_or_default();
        match p.command.as_str() {
            commands::LOAD_TRACE => {
                let Some(path) = commands::load_trace_arg(&args) else {
                    return Err(RpcError::invalid_params("goblock.loadTrace expects a path"));
                };
                let path = if path.is_absolute() {
                    path
                } else {
                    self.st
                        .roots()
                        .first()
                        .map(|r| r.join(&path))
                        .unwrap_or(path)
                };
                // A FIFO, directory or missing file: say which, now.
                if let Err(e) = goblock_analysis::input::regular_file(&path) {
                    return Err(RpcError::invalid_params(e.to_string()));
                }
                {
                    let mut e = lock(&self.st.extra);
                    if !e.contains(&path) {
                        e.push(path);
                    }
                }
                Ok(Some(self.st.load(false, true).await))
            }
            commands::RELOAD => {
                self.st.auto.store(true, Ordering::SeqCst);
                lock(&self.st.retries).clear();
                Ok(Some(self.st.load(true, true).await))
            }
            commands::CLEAR => {
                self.st.auto.store(false, Ordering::SeqCst);
                lock(&self.st.extra).clear();
                lock(&self.st.failures).clear();
                Ok(Some(self.st.load(false, true).await))
            }
            commands::HOT_LINES => {
                let limit = commands::hot_lines_limit(&args);
                guarded("hotLines", || {
                    let snap = self.st.snapshot.load_full();
                    Some(commands::hot_lines(
                        &snap,
                        limit,
                        self.st.loading.load(Ordering::SeqCst) > 0,
                    ))
                })
            }
            "goblock.test.panic" if std::env::var_os("GOBLOCK_TEST_HOOKS").is_some() => {
                guarded("goblock.test.panic", || -> Option<Value> {
                    panic!("test panic")
                })
            }
            other => Err(RpcError::invalid_params(format!("unknown command {other}"))),
        }
    }
}
