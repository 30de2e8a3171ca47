//! Loading traces for the session: which files (discovery + `goblock.loadTrace`),
//! reading and analysing them off the message loop with `$/progress`, the
//! preview of large traces, superseding/cancelling older loads (generation
//! counter), retrying half-written files, the debouncer and file watching.
//!
//! Ends by handing a new snapshot to `State::swap`; publishing is not here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use goblock_analysis::{BinaryChoice, Workspace};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower_lsp_server::gen_lsp_types as lsp;

use super::{State, Trigger, canonical, lock};
use crate::discovery::{self, TracePatterns};
use crate::loader::{self, LoadError, Outcome, Stamp};
use crate::progress::Progress;
use crate::snapshot::{LoadFailure, Snapshot, TraceEntry};
use crate::{commands, to_proto, watch};

/// How often a half-written trace is retried before its error is reported.
const MAX_RETRIES: u32 = 8;

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

impl State {
    pub(super) fn id_of(&self, p: &Path) -> u32 {
        let mut ids = lock(&self.ids);
        let n = ids.len() as u32;
        *ids.entry(p.to_path_buf()).or_insert(n)
    }

    pub(super) fn workspace(&self) -> Arc<Workspace> {
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

    pub(super) fn binary_choice(&self) -> BinaryChoice {
        let bins = discovery::resolve_binaries(&self.roots(), &self.settings().binaries);
        match bins.into_iter().next() {
            Some(b) => BinaryChoice::Path(b),
            None => BinaryChoice::Auto,
        }
    }

    /// The traces to load now, and what is not used (see
    /// [`discovery::Selection`]).
    pub(super) fn wanted(&self) -> discovery::Selection {
        let mut sel = discovery::Selection::default();
        if self.auto.load(Ordering::SeqCst) {
            let pats = TracePatterns::new(&self.settings().traces);
            sel = pats.select(&self.roots());
        }
        for e in lock(&self.extra).iter() {
            if !sel.traces.contains(e) {
                sel.traces.push(e.clone());
            }
        }
        sel.traces =
            sel.traces
                .into_iter()
                .map(|p| canonical(&p))
                .fold(Vec::new(), |mut acc, p| {
                    if !acc.contains(&p) {
                        acc.push(p);
                    }
                    acc
                });
        sel
    }

    /// Loads the wanted traces (re-using unchanged ones), builds and swaps a
    /// snapshot and publishes. Superseded by any later call.
    ///
    /// `interactive` (a command asked for it): decode errors are reported at
    /// once; otherwise a file that fails to decode while it is still changing
    /// (or was modified moments ago) is retried after the debounce.
    pub(super) async fn load(self: &Arc<Self>, force: bool, interactive: bool) -> Value {
        let gen_ = self.load_gen.fetch_add(1, Ordering::SeqCst) + 1;
        self.loading.fetch_add(1, Ordering::SeqCst);
        let _loading = scopeguard(self.clone(), |s| {
            s.loading.fetch_sub(1, Ordering::SeqCst);
        });
        let st = self.clone();
        let selection = match tokio::task::spawn_blocking(move || {
            let w = st.wanted();
            let _ = st.workspace();
            w
        })
        .await
        {
            Ok(w) => w,
            Err(e) => return json!({"error": format!("discovery failed: {e}")}),
        };
        let wanted = selection.traces;
        // Configured paths not used: in the status; everything skipped: in
        // the log, once.
        for u in &selection.unused {
            lock(&self.failures).insert(u.path.clone(), u.message.clone());
        }
        for u in selection.unused.iter().chain(&selection.skipped) {
            self.say_once(lsp::MessageType::Warning, format!("goblock: {}", u.message))
                .await;
        }
        let unused: Vec<PathBuf> = selection.unused.into_iter().map(|u| u.path).collect();
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
                let token = Progress::new_token();
                *lock(&self.load_progress) = Some((token.clone(), gen_));
                progress = Progress::begin(
                    &self.client,
                    self.features().work_done_progress,
                    token,
                    "goblock",
                    Some(format!("loading {}", path.display())),
                )
                .await;
            }
            let (ptx, mut prx) = mpsc::unbounded_channel::<u32>();
            let (vtx, mut vrx) = mpsc::unbounded_channel::<(loader::Loaded, f64)>();
            let st = self.clone();
            let p2 = path.clone();
            let id = self.id_of(path);
            let ws = self.workspace();
            let binary = self.binary_choice();
            let settings = self.settings();
            let previous = cached.as_ref().map(|c| loader::Previous {
                stamp: c.loaded.stamp,
                truncated: c.loaded.truncated,
            });
            let job = tokio::task::spawn_blocking(move || {
                let cancelled = || st.load_gen.load(Ordering::SeqCst) != gen_;
                let mut prog = |pct: u32| {
                    let _ = ptx.send(pct);
                };
                let mut preview = |loaded, fraction| {
                    let _ = vtx.send((loaded, fraction));
                };
                loader::load_one(&mut loader::LoadRequest {
                    path: &p2,
                    trace_index: id,
                    workspace: &ws,
                    binary,
                    max_bytes: settings.max_trace_bytes,
                    previous,
                    settle: Duration::from_millis(settings.debounce_ms * 2 + 1000),
                    cancelled: &cancelled,
                    progress: &mut prog,
                    preview: &mut preview,
                })
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
                    Some((loaded, fraction)) = vrx.recv() => {
                        if self.show_preview(gen_, id, path, loaded, fraction, &entries, &wanted).await
                            && let Some(p) = progress.as_mut()
                        {
                            let msg = format!("{}: preview shown; loading the rest", file_name(path));
                            p.report(0, Some(msg)).await;
                        }
                    }
                }
            };
            let tries = || {
                let mut r = lock(&self.retries);
                let t = r.entry(path.clone()).or_insert(0);
                *t += 1;
                *t
            };
            match res {
                Ok(Outcome::Loaded { loaded, recheck }) => {
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
                    let e = Arc::new(TraceEntry::new(id, path.clone(), *loaded));
                    lock(&self.cache).insert(path.clone(), e.clone());
                    lock(&self.failures).remove(path);
                    entries.push(e);
                    if recheck && tries() <= MAX_RETRIES {
                        // Maybe still being written: look again after the debounce.
                        self.retry_later(path.clone());
                    } else if !recheck {
                        lock(&self.retries).remove(path);
                    }
                }
                Ok(Outcome::KeepPrevious { message, retry }) => {
                    self.log(lsp::MessageType::Info, format!("goblock: {message}"))
                        .await;
                    lock(&self.failures).insert(path.clone(), message);
                    if retry && tries() <= MAX_RETRIES {
                        self.retry_later(path.clone());
                    }
                    if let Some(c) = cached {
                        entries.push(c);
                    }
                }
                Ok(Outcome::Cancelled) => return json!({"superseded": true}),
                Ok(Outcome::Failed {
                    error,
                    still_writing,
                }) => {
                    let changed = matches!(
                        error,
                        LoadError::Input(goblock_analysis::input::InputError::Changed { .. })
                    );
                    if still_writing && (changed || !interactive) && tries() <= MAX_RETRIES {
                        self.log(lsp::MessageType::Log, format!("goblock: {error}; retrying"))
                            .await;
                        self.retry_later(path.clone());
                    } else {
                        let msg = error.to_string();
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
            .filter(|(p, _)| wanted.contains(p) || unused.contains(p))
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

    /// For a large trace seen for the first time: publishes the analysis of
    /// its beginning (marked as a preview) before the full load. Returns
    /// whether it was shown.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn show_preview(
        self: &Arc<Self>,
        gen_: u64,
        id: u32,
        path: &Path,
        loaded: loader::Loaded,
        fraction: f64,
        done: &[Arc<TraceEntry>],
        wanted: &[PathBuf],
    ) -> bool {
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

    /// Logs `msg` unless it was said before in this session.
    pub(super) async fn say_once(&self, kind: lsp::MessageType, msg: String) {
        if lock(&self.said).insert(msg.clone()) {
            self.log(kind, msg).await;
        }
    }

    pub(super) fn retry_later(self: &Arc<Self>, path: PathBuf) {
        let st = self.clone();
        let d = Duration::from_millis(self.settings().debounce_ms.max(50));
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            let _ = st.trigger.send(Trigger::File(path));
        });
    }

    /// Starts the debouncer: file events and rediscover requests are
    /// coalesced until `debounceMs` of quiet, then one load runs.
    pub(super) fn start_debouncer(self: &Arc<Self>) {
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

    pub(super) fn is_trace_path(&self, p: &Path) -> bool {
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
    pub(super) async fn setup_watching(self: &Arc<Self>) {
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
        // Walks the workspace: off the message loop.
        let r = tokio::task::spawn_blocking(move || {
            // Symlinked traces: the folders of the files they name, too.
            files.extend(
                pats.find(&roots)
                    .files
                    .into_iter()
                    .filter_map(|(p, _)| std::fs::canonicalize(&p).ok().filter(|c| *c != p)),
            );
            watch::start(&roots, &files, move |p| {
                let _ = tx.send(Trigger::File(p));
            })
        })
        .await
        .unwrap_or_else(|e| Err(notify::Error::generic(&e.to_string())));
        match r {
            Ok(started) => {
                *lock(&self.watcher) = Some(started.watcher);
                for s in started.skipped {
                    self.say_once(lsp::MessageType::Warning, format!("goblock: {s}"))
                        .await;
                }
            }
            Err(e) => {
                self.log(
                    lsp::MessageType::Warning,
                    format!("goblock: cannot watch trace files ({e}); use goblock.reload"),
                )
                .await
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
