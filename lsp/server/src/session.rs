//! The session: every piece of state of one LSP session in one value,
//! owned by the session loop (`main_loop.rs`) and changed only there —
//! client facts, settings, workspace roots, open documents, the current
//! [`Snapshot`], loading state, what was published, watching.
//!
//! This file holds the session value, its document and settings handlers,
//! and [`View`], the immutable state a request reads. Loading is in
//! `load/`, publishing in `publish.rs`. Nothing here blocks: file reads,
//! analysis and client round trips are spawned and report back as events.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tower_lsp_server::Client;
use tower_lsp_server::gen_lsp_types as lsp;

use crate::capture::Captures;
use crate::client_paths::ClientPaths;
use crate::config::Settings;
use crate::discovery::TracePatterns;
use crate::docs::{Change, Document};
use crate::from_proto::ClientFeatures;
use crate::load::Loads;
use crate::main_loop::{Event, EventSender};
use crate::publish::{Outbox, Scope};
use crate::snapshot::Snapshot;
use crate::view::Anchors;
use crate::{to_proto, watch};

/// An open document.
pub(crate) struct OpenDoc {
    /// Canonical local path.
    pub(crate) path: Arc<str>,
    /// Text, version, line map (shared with requests in flight).
    pub(crate) doc: Arc<Document>,
    /// Where the current snapshot's annotations land, once computed.
    pub(crate) anchors: Option<(u64, Arc<Anchors>)>,
    /// A diagnostics publication is scheduled.
    pub(crate) publish_due: bool,
}

/// An open document as a request sees it.
#[derive(Clone)]
pub(crate) struct DocView {
    /// URI as the client sent it.
    pub(crate) uri: String,
    /// Canonical local path.
    pub(crate) path: Arc<str>,
    /// The document.
    pub(crate) doc: Arc<Document>,
    /// Its anchors for `View::snap`, when already computed.
    pub(crate) anchors: Option<Arc<Anchors>>,
}

/// What a request reads: immutable, taken after every notification the
/// client sent before the request.
#[derive(Clone)]
pub(crate) struct View {
    /// The analysis.
    pub(crate) snap: Arc<Snapshot>,
    /// The document asked for, when open.
    pub(crate) doc: Option<DocView>,
    /// Every open document, by path.
    pub(crate) open: Arc<crate::relocate::OpenDocs>,
    /// A load is running.
    pub(crate) loading: bool,
    /// How hovers are written for this client.
    pub(crate) hover: crate::render::HoverFormat,
}

/// The one session value.
pub(crate) struct Session {
    pub(crate) client: Client,
    /// Events to ourselves (from spawned work).
    pub(crate) tx: EventSender,
    /// Outgoing notifications, in order.
    pub(crate) out: Outbox,
    pub(crate) settings: Arc<Settings>,
    pub(crate) patterns: Arc<TracePatterns>,
    /// `goblock.dumps.files` (goroutine dumps and profiles: `crate::dumps`).
    pub(crate) dump_patterns: Arc<TracePatterns>,
    pub(crate) roots: Vec<PathBuf>,
    /// The workspace roots as the client gave them (`roots` is their
    /// canonical form) and how the client names files under them.
    pub(crate) client_roots: Vec<PathBuf>,
    pub(crate) client_paths: Arc<ClientPaths>,
    pub(crate) features: ClientFeatures,
    pub(crate) initialized: bool,
    pub(crate) snapshot: Arc<Snapshot>,
    /// Last snapshot generation handed out.
    pub(crate) snap_gen: u64,
    pub(crate) docs: HashMap<String, OpenDoc>,
    pub(crate) loads: Loads,
    pub(crate) captures: Captures,
    /// URIs with diagnostics published (to clear them later).
    pub(crate) published: HashSet<String>,
    /// Closed files to republish because a document they link into changed.
    pub(crate) closed_linking: crate::publish::ClosedLinking,
    pub(crate) watcher: Option<watch::FallbackWatcher>,
    /// Messages logged once per session (skipped directories, unused paths).
    said: HashSet<String>,
    /// Changed files waiting for the debounce, and the timer's token.
    pending_files: Vec<PathBuf>,
    debounce_token: u64,
    /// The last `goblock/status` sent.
    pub(crate) last_status: Option<crate::protocol::StatusParams>,
}

impl Session {
    /// A session talking to `client`, posting its own events on `tx`.
    pub(crate) fn new(client: Client, tx: EventSender) -> Session {
        let settings = Arc::new(Settings::default());
        Session {
            out: Outbox::start(client.clone()),
            client,
            tx,
            patterns: Arc::new(TracePatterns::new(&settings.traces)),
            dump_patterns: Arc::new(TracePatterns::new(&settings.dumps.files)),
            settings,
            roots: Vec::new(),
            client_roots: Vec::new(),
            client_paths: Arc::default(),
            features: ClientFeatures::default(),
            initialized: false,
            snapshot: Arc::new(Snapshot::default()),
            snap_gen: 0,
            docs: HashMap::new(),
            loads: Loads::default(),
            captures: Captures::default(),
            published: HashSet::new(),
            closed_linking: Default::default(),
            watcher: None,
            said: HashSet::new(),
            pending_files: Vec::new(),
            debounce_token: 0,
            last_status: None,
        }
    }

    /// Logs `msg` unless it was said before in this session.
    pub(crate) fn say_once(&mut self, kind: lsp::MessageType, msg: String) {
        if self.said.insert(msg.clone()) {
            self.out.log(kind, msg);
        }
    }

    /// Posts an event to the loop after `delay`.
    pub(crate) fn post_after(&self, delay: Duration, ev: Event) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(ev);
        });
    }

    pub(crate) fn initialize(
        &mut self,
        features: ClientFeatures,
        roots: Vec<PathBuf>,
        settings: Option<(Settings, Vec<String>)>,
    ) {
        self.features = features;
        self.set_roots(roots);
        if let Some((s, errors)) = settings {
            self.set_settings(s);
            for e in errors {
                self.out.show(lsp::MessageType::Warning, e);
            }
        }
    }

    pub(crate) fn initialized(&mut self) {
        self.initialized = true;
        self.setup_watching();
        self.start_load(false, false, None);
    }

    pub(crate) fn shutdown(&mut self) {
        self.cancel_load("the server is shutting down");
        self.shutdown_captures();
        self.watcher = None;
    }

    fn set_settings(&mut self, s: Settings) {
        if s.traces != self.settings.traces {
            self.patterns = Arc::new(TracePatterns::new(&s.traces));
        }
        if s.dumps.files != self.settings.dumps.files {
            self.dump_patterns = Arc::new(TracePatterns::new(&s.dumps.files));
        }
        self.settings = Arc::new(s);
    }

    // ------------------------------------------------------------ documents

    pub(crate) fn did_open(&mut self, uri: String, path: Arc<str>, text: String, version: i32) {
        let doc = Document::new(text, version, self.features.encoding);
        self.docs.insert(
            uri.clone(),
            OpenDoc {
                path,
                doc: Arc::new(doc),
                anchors: None,
                publish_due: false,
            },
        );
        self.annotations_changed(Scope::Doc(uri));
    }

    pub(crate) fn did_change(&mut self, uri: &str, version: i32, changes: &[Change]) {
        let Some(d) = self.docs.get_mut(uri) else {
            self.out.log(
                lsp::MessageType::Log,
                format!("goblock: {uri}: change for a document that is not open"),
            );
            return;
        };
        let doc = Arc::make_mut(&mut d.doc);
        if let Err(e) = doc.apply(version, changes) {
            // A refused change may leave the document unverified.
            self.out
                .log(lsp::MessageType::Log, format!("goblock: {uri}: {e}"));
        }
        let path = d.path.clone();
        self.schedule_publish(uri);
        // Diagnostics of other open files that link into this one (wakers,
        // creation sites) follow its lines too.
        let linking: Vec<String> = self
            .docs
            .iter()
            .filter(|(u, d)| {
                *u != uri
                    && self
                        .snapshot
                        .file_of(&d.path)
                        .is_some_and(|fa| fa.links_into(&path))
            })
            .map(|(u, _)| u.clone())
            .collect();
        for u in linking {
            self.schedule_publish(&u);
        }
        // And closed files' diagnostics (their related information).
        self.republish_closed_linking(&path);
    }

    pub(crate) fn did_close(&mut self, uri: &str) {
        if let Some(d) = self.docs.remove(uri) {
            // Its lines are the saved file's again, for the links into it.
            self.republish_closed_linking(&d.path);
            self.publish_closed(uri.to_owned(), d.path);
        }
    }

    /// A document's anchors computed by a task: kept when they still fit.
    pub(crate) fn anchored(
        &mut self,
        uri: &str,
        generation: u64,
        doc: Document,
        anchors: Arc<Anchors>,
    ) {
        if generation != self.snapshot.generation {
            return;
        }
        let Some(d) = self.docs.get_mut(uri) else {
            return;
        };
        if d.doc.version != doc.version || d.doc.text_len() != doc.text_len() {
            return;
        }
        d.doc = Arc::new(doc);
        d.anchors = Some((generation, anchors));
    }

    /// The immutable view a request reads.
    pub(crate) fn view(&self, uri: Option<&str>) -> View {
        let doc = uri.and_then(|u| {
            self.docs.get(u).map(|d| DocView {
                uri: u.to_owned(),
                path: d.path.clone(),
                doc: d.doc.clone(),
                anchors: d
                    .anchors
                    .as_ref()
                    .filter(|a| a.0 == self.snapshot.generation)
                    .map(|a| a.1.clone()),
            })
        });
        View {
            snap: self.snapshot.clone(),
            doc,
            open: Arc::new(self.open_docs()),
            loading: self.loads.running.is_some(),
            hover: self.features.hover,
        }
    }

    /// The open documents by path (for placing linked lines of other files).
    /// Keyed by their path and by the client's name of it.
    pub(crate) fn open_docs(&self) -> crate::relocate::OpenDocs {
        let mut m = crate::relocate::OpenDocs::new();
        for d in self.docs.values() {
            if let Some(n) = self.client_paths.display(&d.path) {
                m.insert(n.into(), d.doc.clone());
            }
            m.insert(d.path.clone(), d.doc.clone());
        }
        m
    }

    // ------------------------------------------------------------- settings

    /// New settings: re-render, reload or re-analyse, whichever they need.
    pub(crate) fn apply_settings(&mut self, new: Settings, errors: Vec<String>) {
        for e in errors {
            self.out.show(lsp::MessageType::Warning, e);
        }
        let old = self.settings.clone();
        if *old == new {
            return;
        }
        self.set_settings(new);
        if !self.initialized {
            return;
        }
        if old.needs_reanalysis(&self.settings) {
            self.loads.forget_analyses();
            self.start_load(true, false, None);
        } else if old.traces_changed(&self.settings) {
            self.setup_watching();
            self.start_load(false, false, None);
        } else {
            self.rerender();
        }
    }

    /// Builds the current snapshot again under the current settings.
    pub(crate) fn rerender(&mut self) {
        let cur = self.snapshot.clone();
        self.snap_gen += 1;
        let generation = self.snap_gen;
        let settings = self.settings.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let snap = cur.rerender(generation, settings);
            let _ = tx.send(Event::SnapshotBuilt(
                crate::main_loop::Built::Rerender {
                    base: cur.generation,
                },
                Arc::new(snap),
            ));
        });
    }

    /// The workspace roots, as the client gave them.
    fn set_roots(&mut self, given: Vec<PathBuf>) {
        self.roots = Vec::new();
        for r in &given {
            let c = canonical(r);
            if !self.roots.contains(&c) {
                self.roots.push(c);
            }
        }
        self.client_paths = Arc::new(ClientPaths::new(&given));
        self.client_roots = given;
    }

    pub(crate) fn folders_changed(&mut self, added: Vec<PathBuf>, removed: Vec<PathBuf>) {
        let removed: Vec<PathBuf> = removed.iter().map(|r| canonical(r)).collect();
        let mut given = std::mem::take(&mut self.client_roots);
        given.retain(|r| !removed.contains(&canonical(r)));
        for a in added {
            if !given.contains(&a) {
                given.push(a);
            }
        }
        self.set_roots(given);
        // Path mapping depends on the roots: analyse again.
        self.loads.forget_analyses();
        self.watcher = None;
        self.setup_watching();
        self.start_load(true, false, None);
    }

    // ------------------------------------------------------------- watching

    /// Changed files (from the client or our watcher): a load after the
    /// debounce, if one of them is a trace we load or would load.
    pub(crate) fn files_changed(&mut self, paths: Vec<PathBuf>) {
        self.pending_files.extend(paths);
        self.debounce_token += 1;
        self.post_after(
            Duration::from_millis(self.settings.debounce_ms),
            Event::DebounceFired(self.debounce_token),
        );
    }

    pub(crate) fn debounce_fired(&mut self, token: u64) {
        if token != self.debounce_token || self.pending_files.is_empty() {
            return;
        }
        let paths = std::mem::take(&mut self.pending_files);
        let known = self.loads.known_paths();
        let patterns = self.patterns.clone();
        let dump_patterns = self.dump_patterns.clone();
        let roots = self.roots.clone();
        let auto = self.loads.auto;
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let relevant = paths.iter().any(|p| {
                let p = canonical(p);
                known.contains(&p)
                    || (auto && (patterns.matches(&roots, &p) || dump_patterns.matches(&roots, &p)))
            });
            if relevant {
                let _ = tx.send(Event::TraceFilesChanged);
            }
        });
    }

    /// Watches the traces: through the client when it can, else ourselves.
    pub(crate) fn setup_watching(&mut self) {
        if !self.features.watch_files {
            self.start_fallback_watcher();
            return;
        }
        let globs: Vec<String> = self
            .settings
            .traces
            .iter()
            .chain(&self.settings.dumps.files)
            .cloned()
            .collect();
        let reg =
            to_proto::watch_registration(&self.roots, &globs, self.features.relative_patterns);
        let client = self.client.clone();
        let tx = self.tx.clone();
        let out = self.out.clone();
        tokio::spawn(async move {
            let _ = client
                .unregister_capability(vec![lsp::Unregistration {
                    id: reg.id.clone(),
                    method: reg.method.clone(),
                }])
                .await;
            let r = tokio::time::timeout(
                Duration::from_secs(5),
                client.register_capability(vec![reg]),
            )
            .await;
            if !matches!(r, Ok(Ok(()))) {
                out.log(
                    lsp::MessageType::Warning,
                    "goblock: the client did not register file watching; using a fallback watcher",
                );
                let _ = tx.send(Event::WatchFallback);
            }
        });
    }

    pub(crate) fn start_fallback_watcher(&mut self) {
        let mut files = self.patterns.explicit.clone();
        files.extend(self.dump_patterns.explicit.iter().cloned());
        files.extend(self.loads.extra.iter().cloned());
        let roots = self.roots.clone();
        let patterns = self.patterns.clone();
        let tx = self.tx.clone();
        let out = self.out.clone();
        // Walks the workspace: off the loop.
        tokio::task::spawn_blocking(move || {
            // Symlinked traces: the folders of the files they name, too.
            files.extend(
                patterns
                    .find(&roots)
                    .files
                    .into_iter()
                    .filter_map(|(p, _)| std::fs::canonicalize(&p).ok().filter(|c| *c != p)),
            );
            let tx2 = tx.clone();
            let r = watch::start(&roots, &files, move |p| {
                let _ = tx2.send(Event::FilesChanged(vec![p]));
            });
            match r {
                Ok(started) => {
                    let _ = tx.send(Event::Watcher(Some(started.watcher), started.skipped));
                }
                Err(e) => out.log(
                    lsp::MessageType::Warning,
                    format!("goblock: cannot watch trace files ({e}); use goblock.reload"),
                ),
            }
        });
    }

    /// A watcher started (the directories it could not watch, said once).
    pub(crate) fn watcher_started(
        &mut self,
        w: Option<watch::FallbackWatcher>,
        skipped: Vec<String>,
    ) {
        self.watcher = w;
        for s in skipped {
            self.say_once(lsp::MessageType::Warning, format!("goblock: {s}"));
        }
    }
}

/// The canonical form of a path (itself when it does not exist).
pub(crate) fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}
