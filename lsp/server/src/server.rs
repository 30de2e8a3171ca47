//! The tower-lsp-server backend: session state, the LSP handlers, loading
//! (off the message loop, with progress, superseding older loads),
//! watching, debouncing and publishing.
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
use goblock_analysis::{BinaryChoice, Workspace};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower_lsp_server::gen_lsp_types as lsp;
use tower_lsp_server::jsonrpc::{Error as RpcError, Result as RpcResult};
use tower_lsp_server::{Client, LanguageServer};

use crate::config::Settings;
use crate::discovery::{self, TracePatterns};
use crate::docs::Document;
use crate::from_proto::{self, ClientFeatures};
use crate::loader::{self, LoadError, Stamp};
use crate::progress::Progress;
use crate::snapshot::{LoadFailure, Snapshot, TraceEntry};
use crate::view::{Anchors, diagnostics_for, hover_for, inlay_for};
use crate::{commands, to_proto, watch};

/// How often a half-written trace is retried before its error is reported.
const MAX_RETRIES: u32 = 8;

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
    snap_gen: AtomicU64,
    loading: AtomicUsize,
    /// Discover traces by the settings (off after `goblock.clear`).
    auto: AtomicBool,
    ids: Mutex<HashMap<PathBuf, u32>>,
    cache: Mutex<HashMap<PathBuf, Arc<TraceEntry>>>,
    extra: Mutex<Vec<PathBuf>>,
    failures: Mutex<HashMap<PathBuf, String>>,
    retries: Mutex<HashMap<PathBuf, u32>>,
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

fn go_env() -> (Option<PathBuf>, Option<PathBuf>) {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let mut goroot = env("GOROOT");
    let mut modcache = env("GOMODCACHE");
    if goroot.is_none() || modcache.is_none() {
        // `go env` when Go is installed; bounded by the process itself.
        if let Ok(out) = std::process::Command::new("go")
            .args(["env", "GOROOT", "GOMODCACHE"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            && out.status.success()
        {
            let s = String::from_utf8_lossy(&out.stdout);
            let mut l = s.lines();
            let r = l.next().filter(|x| !x.is_empty()).map(PathBuf::from);
            let m = l.next().filter(|x| !x.is_empty()).map(PathBuf::from);
            goroot = goroot.or(r);
            modcache = modcache.or(m);
        }
    }
    if modcache.is_none() {
        modcache = env("GOPATH")
            .or_else(|| env("HOME").map(|h| h.join("go")))
            .map(|g| g.join("pkg/mod"));
    }
    (goroot, modcache)
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
                snap_gen: AtomicU64::new(0),
                loading: AtomicUsize::new(0),
                auto: AtomicBool::new(true),
                ids: Mutex::new(HashMap::new()),
                cache: Mutex::new(HashMap::new()),
                extra: Mutex::new(Vec::new()),
                failures: Mutex::new(HashMap::new()),
                retries: Mutex::new(HashMap::new()),
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

    fn id_of(&self, p: &Path) -> u32 {
        let mut ids = lock(&self.ids);
        let n = ids.len() as u32;
        *ids.entry(p.to_path_buf()).or_insert(n)
    }

    fn workspace(&self) -> Arc<Workspace> {
        let mut w = lock(&self.workspace);
        if let Some(w) = &*w {
            return w.clone();
        }
        let (goroot, modcache) = go_env();
        let ws = Arc::new(Workspace::new(
            &self.roots(),
            self.settings().substitute_path.clone(),
            goroot,
            modcache,
        ));
        *w = Some(ws.clone());
        ws
    }

    fn binary_choice(&self) -> BinaryChoice {
        let bins = discovery::resolve_binaries(&self.roots(), &self.settings().binaries);
        match bins.into_iter().next() {
            Some(b) => BinaryChoice::Path(b),
            None => BinaryChoice::Auto,
        }
    }

    /// The traces to load now.
    fn wanted(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = Vec::new();
        if self.auto.load(Ordering::SeqCst) {
            let pats = TracePatterns::new(&self.settings().traces);
            v = pats.select(&self.roots());
        }
        for e in lock(&self.extra).iter() {
            if !v.contains(e) {
                v.push(e.clone());
            }
        }
        v.into_iter()
            .map(|p| canonical(&p))
            .fold(Vec::new(), |mut acc, p| {
                if !acc.contains(&p) {
                    acc.push(p);
                }
                acc
            })
    }

    /// Loads the wanted traces (re-using unchanged ones), builds and swaps a
    /// snapshot and publishes. Superseded by any later call.
    ///
    /// `interactive` (a command asked for it): decode errors are reported at
    /// once; otherwise a file that fails to decode while it is still changing
    /// (or was modified moments ago) is retried after the debounce.
    async fn load(self: &Arc<Self>, force: bool, interactive: bool) -> Value {
        let gen_ = self.load_gen.fetch_add(1, Ordering::SeqCst) + 1;
        self.loading.fetch_add(1, Ordering::SeqCst);
        let _loading = scopeguard(self.clone(), |s| {
            s.loading.fetch_sub(1, Ordering::SeqCst);
        });
        let st = self.clone();
        let wanted = match tokio::task::spawn_blocking(move || {
            let w = st.wanted();
            let _ = st.workspace();
            w
        })
        .await
        {
            Ok(w) => w,
            Err(e) => return json!({"error": format!("discovery failed: {e}")}),
        };
        let mut entries: Vec<Arc<TraceEntry>> = Vec::new();
        let mut progress: Option<Progress> = None;
        let n = wanted.len().max(1) as u32;
        for (i, path) in wanted.iter().enumerate() {
            if self.load_gen.load(Ordering::SeqCst) != gen_ {
                return json!({"superseded": true});
            }
            let cached = lock(&self.cache).get(path).cloned();
            let stamp = Stamp::of(path).ok();
            if let Some(c) = &cached
                && !force
                && stamp == Some(c.loaded.stamp)
            {
                entries.push(c.clone());
                continue;
            }
            if progress.is_none() {
                progress = Progress::begin(
                    &self.client,
                    self.features().work_done_progress,
                    "goblock",
                    Some(format!("loading {}", path.display())),
                )
                .await;
            }
            if cached.is_none()
                && self.preview(gen_, path, &entries, &wanted).await
                && let Some(p) = progress.as_mut()
            {
                let msg = format!("{}: preview shown; loading the rest", file_name(path));
                p.report(0, Some(msg)).await;
            }
            let (ptx, mut prx) = mpsc::unbounded_channel::<u32>();
            let st = self.clone();
            let p2 = path.clone();
            let id = self.id_of(path);
            let ws = self.workspace();
            let binary = self.binary_choice();
            let job = tokio::task::spawn_blocking(move || {
                let cancelled = || st.load_gen.load(Ordering::SeqCst) != gen_;
                let mut prog = |pct: u32| {
                    let _ = ptx.send(pct);
                };
                loader::load(&p2, id, &ws, binary, &cancelled, &mut prog)
            });
            tokio::pin!(job);
            let res = loop {
                tokio::select! {
                    r = &mut job => break r,
                    Some(pct) = prx.recv() => {
                        if let Some(p) = progress.as_mut() {
                            let overall = (i as u32 * 100 + pct) / n;
                            p.report(overall, Some(format!("{} ({pct} %)", file_name(path)))).await;
                        }
                    }
                }
            };
            match res {
                Ok(Ok(loaded)) => {
                    let truncated = loaded.truncated;
                    let sym = &loaded.analysis.symbolization;
                    let mut notes = vec![format!(
                        "goblock: {}: go {} trace, {} episodes, frames from {}",
                        path.display(),
                        loaded.analysis.summary.go_version,
                        loaded.analysis.episodes,
                        sym.binary
                            .as_ref()
                            .map(|b| format!("the DWARF of {}", b.display()))
                            .unwrap_or_else(|| "the trace".into())
                    )];
                    notes.extend(sym.notes.iter().map(|n| format!("goblock:   {n}")));
                    notes.extend(
                        loaded
                            .analysis
                            .summary
                            .warnings
                            .iter()
                            .map(|w| format!("goblock:   warning: {w}")),
                    );
                    self.log(lsp::MessageType::Info, notes.join("\n")).await;
                    let e = Arc::new(TraceEntry::new(id, path.clone(), loaded));
                    lock(&self.cache).insert(path.clone(), e.clone());
                    lock(&self.failures).remove(path);
                    entries.push(e);
                    if truncated {
                        // Maybe still being written: look again after the debounce.
                        self.retry_later(path.clone());
                    } else {
                        lock(&self.retries).remove(path);
                    }
                }
                Ok(Err(LoadError::Cancelled)) => return json!({"superseded": true}),
                Ok(Err(e)) => {
                    let tries = {
                        let mut r = lock(&self.retries);
                        let t = r.entry(path.clone()).or_insert(0);
                        *t += 1;
                        *t
                    };
                    let still_writing = match &e {
                        LoadError::Unstable(_) => true,
                        _ if interactive => false,
                        _ => {
                            let now = Stamp::of(path).ok();
                            let recent = now.is_some_and(|s| {
                                s.mtime.elapsed().unwrap_or_default()
                                    < Duration::from_millis(self.settings().debounce_ms * 2 + 1000)
                            });
                            now != stamp || recent
                        }
                    };
                    if e.retryable() && still_writing && tries <= MAX_RETRIES {
                        self.log(
                            lsp::MessageType::Log,
                            format!("goblock: {e}; retrying (attempt {tries})"),
                        )
                        .await;
                        self.retry_later(path.clone());
                    } else {
                        let msg = e.to_string();
                        let new = lock(&self.failures).insert(path.clone(), msg.clone())
                            != Some(msg.clone());
                        if new {
                            let keep = if cached.is_some() {
                                " (keeping the previously loaded data)"
                            } else {
                                ""
                            };
                            self.client
                                .show_message(
                                    lsp::MessageType::Error,
                                    format!("goblock: cannot load trace: {msg}{keep}"),
                                )
                                .await;
                        }
                    }
                    if let Some(c) = cached {
                        entries.push(c);
                    }
                }
                Err(join) => {
                    let msg = format!("{}: internal error while loading: {join}", path.display());
                    lock(&self.failures).insert(path.clone(), msg.clone());
                    self.client
                        .show_message(lsp::MessageType::Error, format!("goblock: {msg}"))
                        .await;
                    if let Some(c) = cached {
                        entries.push(c);
                    }
                }
            }
        }
        if self.load_gen.load(Ordering::SeqCst) != gen_ {
            return json!({"superseded": true});
        }
        let failures: Vec<LoadFailure> = lock(&self.failures)
            .iter()
            .filter(|(p, _)| wanted.contains(p))
            .map(|(p, m)| LoadFailure {
                path: p.clone(),
                message: m.clone(),
            })
            .collect();
        // Drop cached traces no longer wanted.
        lock(&self.cache).retain(|p, _| wanted.contains(p));
        let settings = self.settings();
        let sgen = self.snap_gen.fetch_add(1, Ordering::SeqCst) + 1;
        let snap = match tokio::task::spawn_blocking(move || {
            Snapshot::build(sgen, settings, entries, failures)
        })
        .await
        {
            Ok(s) => Arc::new(s),
            Err(e) => return json!({"error": format!("building the snapshot failed: {e}")}),
        };
        if self.load_gen.load(Ordering::SeqCst) != gen_ {
            return json!({"superseded": true});
        }
        let summary = commands::summary(&snap);
        self.swap(snap.clone()).await;
        release_freed_memory();
        // Again once the published messages have been written out.
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            release_freed_memory();
        });
        if let Some(p) = progress {
            p.end(Some(summary.clone())).await;
        }
        self.log(lsp::MessageType::Info, format!("goblock: {summary}"))
            .await;
        json!({
            "loaded": snap.traces.iter().map(|t| &t.path).collect::<Vec<_>>(),
            "failures": snap.failures.iter().map(|f| json!({"path": f.path, "message": f.message})).collect::<Vec<_>>(),
            "summary": summary,
        })
    }

    /// For a large trace seen for the first time: analyses its beginning and
    /// publishes that (marked as a preview) before the full load. Returns
    /// whether a preview was shown.
    async fn preview(
        self: &Arc<Self>,
        gen_: u64,
        path: &Path,
        done: &[Arc<TraceEntry>],
        wanted: &[PathBuf],
    ) -> bool {
        let big = Stamp::of(path).is_ok_and(|s| s.len >= loader::PREVIEW_MIN_BYTES);
        if !big {
            return false;
        }
        let st = self.clone();
        let p2 = path.to_path_buf();
        let id = self.id_of(path);
        let ws = self.workspace();
        let binary = self.binary_choice();
        let r = tokio::task::spawn_blocking(move || {
            let cancelled = || st.load_gen.load(Ordering::SeqCst) != gen_;
            loader::preview(&p2, id, &ws, binary, &cancelled)
        })
        .await;
        let Ok(Some((loaded, fraction))) = r else {
            return false;
        };
        if self.load_gen.load(Ordering::SeqCst) != gen_ {
            return false;
        }
        let mut e = TraceEntry::new(id, path.to_path_buf(), loaded);
        e.partial = Some(fraction);
        let mut entries: Vec<Arc<TraceEntry>> = done.to_vec();
        entries.push(Arc::new(e));
        // Traces still to load keep their previous data meanwhile.
        for w in wanted
            .iter()
            .filter(|w| *w != path && !done.iter().any(|d| &d.path == *w))
        {
            if let Some(c) = lock(&self.cache).get(w).cloned() {
                entries.push(c);
            }
        }
        let settings = self.settings();
        let sgen = self.snap_gen.fetch_add(1, Ordering::SeqCst) + 1;
        let snap = tokio::task::spawn_blocking(move || {
            Snapshot::build(sgen, settings, entries, Vec::new())
        })
        .await;
        let Ok(snap) = snap else { return false };
        if self.load_gen.load(Ordering::SeqCst) != gen_ {
            return false;
        }
        self.swap(Arc::new(snap)).await;
        true
    }

    fn retry_later(self: &Arc<Self>, path: PathBuf) {
        let st = self.clone();
        let d = Duration::from_millis(self.settings().debounce_ms.max(50));
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            let _ = st.trigger.send(Trigger::File(path));
        });
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

    /// Starts the debouncer: file events and rediscover requests are
    /// coalesced until `debounceMs` of quiet, then one load runs.
    fn start_debouncer(self: &Arc<Self>) {
        let Some(mut rx) = lock(&self.trigger_rx).take() else {
            return;
        };
        let st = self.clone();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                loop {
                    let d = Duration::from_millis(st.settings().debounce_ms);
                    match tokio::time::timeout(d, rx.recv()).await {
                        Ok(Some(t)) => batch.push(t),
                        Ok(None) => return,
                        Err(_) => break,
                    }
                }
                let relevant = batch.iter().any(|t| match t {
                    Trigger::File(p) => st.is_trace_path(p),
                });
                if relevant {
                    let st2 = st.clone();
                    // Runs concurrently: a newer batch supersedes it.
                    tokio::spawn(async move {
                        st2.load(false, false).await;
                    });
                }
            }
        });
    }

    fn is_trace_path(&self, p: &Path) -> bool {
        let p = canonical(p);
        if lock(&self.cache).contains_key(&p) || lock(&self.extra).iter().any(|e| canonical(e) == p)
        {
            return true;
        }
        if lock(&self.retries).contains_key(&p) {
            return true;
        }
        self.auto.load(Ordering::SeqCst)
            && TracePatterns::new(&self.settings().traces).matches(&self.roots(), &p)
    }

    /// Watches the traces: through the client when it can, else ourselves.
    async fn setup_watching(self: &Arc<Self>) {
        let f = self.features();
        let settings = self.settings();
        let roots = self.roots();
        if f.watch_files {
            let reg = to_proto::watch_registration(&roots, &settings.traces, f.relative_patterns);
            let c = self.client.clone();
            let _ = c
                .unregister_capability(vec![lsp::Unregistration {
                    id: reg.id.clone(),
                    method: reg.method.clone(),
                }])
                .await;
            match tokio::time::timeout(Duration::from_secs(5), c.register_capability(vec![reg])).await {
                Ok(Ok(())) => return,
                _ => {
                    self.log(
                        lsp::MessageType::Warning,
                        "goblock: the client did not register file watching; using a fallback watcher",
                    )
                    .await
                }
            }
        }
        let pats = TracePatterns::new(&settings.traces);
        let mut files = pats.explicit.clone();
        files.extend(lock(&self.extra).iter().cloned());
        let tx = self.trigger.clone();
        let r = watch::start(&roots, &files, move |p| {
            let _ = tx.send(Trigger::File(p));
        });
        match r {
            Ok(w) => *lock(&self.watcher) = Some(w),
            Err(e) => {
                self.log(
                    lsp::MessageType::Warning,
                    format!("goblock: cannot watch trace files ({e}); use goblock.reload"),
                )
                .await
            }
        }
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

/// Calls `f` on drop.
fn scopeguard<T, F: FnOnce(&T)>(v: T, f: F) -> impl Drop {
    struct G<T, F: FnOnce(&T)>(T, Option<F>);
    impl<T, F: FnOnce(&T)> Drop for G<T, F> {
        fn drop(&mut self) {
            if let Some(f) = self.1.take() {
                f(&self.0);
            }
        }
    }
    G(v, Some(f))
}

/// Returns memory freed by a load (the trace copy, the decoder's tables) to
/// the OS: glibc keeps freed blocks in per-thread arenas otherwise.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; no pointers are touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

// ------------------------------------------------------------------ handlers

impl LanguageServer for Backend {
    async fn initialize(&self, params: lsp::InitializeParams) -> RpcResult<lsp::InitializeResult> {
        let f = from_proto::client_features(&params.capabilities);
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
        guarded("hover", || {
            let snap = self.st.snapshot.load_full();
            self.st.ensure_anchored(&uri, &snap);
            let d = self.st.docs.get(&uri)?;
            hover_for(&d.anchors, &d.doc, &snap, line)
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
                if !path.is_file() {
                    return Err(RpcError::invalid_params(format!(
                        "{}: no such file",
                        path.display()
                    )));
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
