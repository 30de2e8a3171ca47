//! Load step 3, the commit (on the session loop): applies each input's
//! [`Outcome`] — a new entry replaces the cached one; a failure is
//! recorded and shown once (the previous data of that input stays); a
//! file that may still be being written is retried after the debounce, up
//! to [`MAX_RETRIES`] times — then builds the snapshot off the loop and
//! swaps it in ([`Session::snapshot_built`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tower_lsp_server::gen_lsp_types as lsp;

use crate::commands;
use crate::loader::{LoadError, Loaded, Outcome};
use crate::main_loop::{Built, Event};
use crate::progress::Progress;
use crate::protocol::LoadResult;
use crate::publish::Scope;
use crate::session::Session;
use crate::snapshot::{LoadFailure, Snapshot, TraceEntry};

/// How often a half-written trace is retried before its error is reported.
pub(crate) const MAX_RETRIES: u32 = 8;

impl Session {
    fn is_current(&self, generation: u64) -> bool {
        self.loads
            .running
            .as_ref()
            .is_some_and(|r| r.generation == generation)
    }

    /// Looks at `path` again after the debounce.
    pub(crate) fn retry_later(&self, path: PathBuf) {
        let d = Duration::from_millis(self.settings.debounce_ms.max(50));
        self.post_after(d, Event::FilesChanged(vec![path]));
    }

    /// Counts one more retry of `path`; whether another is allowed.
    fn may_retry(&mut self, path: &std::path::Path) -> bool {
        let t = self.loads.retries.entry(path.to_path_buf()).or_insert(0);
        *t += 1;
        *t <= MAX_RETRIES
    }

    /// Applies the outcome of one input of load `generation`.
    pub(crate) fn commit_one(&mut self, generation: u64, path: PathBuf, outcome: Outcome) {
        if !self.is_current(generation) {
            return;
        }
        let previous = self.loads.cache.get(&path).cloned();
        let interactive = self.loads.running.as_ref().is_some_and(|r| r.interactive);
        let keep = |s: &mut Session| {
            if let (Some(c), Some(r)) = (previous.clone(), s.loads.running.as_mut()) {
                r.entries.insert(path.clone(), c);
            }
        };
        match outcome {
            Outcome::Loaded { loaded, recheck } => {
                self.out
                    .log(lsp::MessageType::Info, load_notes(&path, &loaded));
                let id = self.loads.id_of(&path);
                let e = Arc::new(TraceEntry::new(id, path.clone(), *loaded));
                self.loads.cache.insert(path.clone(), e.clone());
                self.loads.failures.remove(&path);
                if e.loaded.truncated && e.is_empty() {
                    // Cut before anything complete: shown (nothing), and said.
                    let msg = format!(
                        "{}: no complete data yet (truncated; still being written?)",
                        path.display()
                    );
                    self.loads.failures.insert(path.clone(), msg);
                }
                if let Some(r) = self.loads.running.as_mut() {
                    r.entries.insert(path.clone(), e);
                }
                if recheck {
                    // Maybe still being written: look again after the debounce.
                    if self.may_retry(&path) {
                        self.retry_later(path);
                    }
                } else {
                    self.loads.retries.remove(&path);
                }
            }
            Outcome::KeepPrevious { message, retry } => {
                self.out
                    .log(lsp::MessageType::Info, format!("goblock: {message}"));
                self.loads.failures.insert(path.clone(), message);
                if retry && self.may_retry(&path) {
                    self.retry_later(path.clone());
                }
                keep(self);
            }
            Outcome::Failed {
                error,
                still_writing,
            } => {
                let changed = matches!(
                    error,
                    LoadError::Input(goblock_analysis::input::InputError::Changed { .. })
                );
                if still_writing && (changed || !interactive) && self.may_retry(&path) {
                    self.out
                        .log(lsp::MessageType::Log, format!("goblock: {error}; retrying"));
                    self.retry_later(path.clone());
                } else {
                    self.failed(&path, error.to_string(), previous.is_some());
                }
                keep(self);
            }
            Outcome::Cancelled => {}
        }
    }

    /// Records a failure of `path`, to be shown once by `showMessage` when
    /// the load ends ([`Session::show_failures`]), unless a command waiting
    /// for this load answers with it.
    fn failed(&mut self, path: &std::path::Path, msg: String, kept: bool) {
        let new = self.loads.failures.insert(path.to_path_buf(), msg.clone()) != Some(msg.clone());
        let answered = self
            .loads
            .running
            .as_ref()
            .is_some_and(|r| r.waiters.iter().any(|w| w.covers(path)));
        if new && !answered {
            self.loads.to_show.push((path.to_path_buf(), msg, kept));
        }
    }

    /// Shows the failures recorded since the last load ended that still
    /// stand, as the status does (docs/lsp.md, goblock/status `state`):
    /// beside inputs shown, a file that is not used is a warning; with
    /// nothing shown, an error.
    fn show_failures(&mut self, snap: &Snapshot) {
        let kind = if snap.traces.is_empty() {
            lsp::MessageType::Error
        } else {
            lsp::MessageType::Warning
        };
        for (path, msg, kept) in std::mem::take(&mut self.loads.to_show) {
            if self.loads.failures.get(&path) != Some(&msg) {
                continue;
            }
            let kept = if kept {
                " (keeping the previously loaded data)"
            } else {
                ""
            };
            self.out
                .show(kind, format!("goblock: cannot load trace: {msg}{kept}"));
        }
    }

    /// The loader of `path` panicked: a failure like any other.
    pub(crate) fn load_panicked(&mut self, generation: u64, path: PathBuf) {
        if !self.is_current(generation) {
            return;
        }
        let kept = self.loads.cache.get(&path).cloned();
        let msg = format!("{}: internal error while loading", path.display());
        self.failed(&path, msg, kept.is_some());
        if let (Some(c), Some(r)) = (kept, self.loads.running.as_mut()) {
            r.entries.insert(path, c);
        }
    }

    /// A preview of a large input of load `generation`: shown at once.
    pub(crate) fn preview(
        &mut self,
        generation: u64,
        path: PathBuf,
        loaded: Loaded,
        fraction: f64,
    ) {
        if !self.is_current(generation) {
            return;
        }
        let id = self.loads.id_of(&path);
        let mut e = TraceEntry::new(id, path.clone(), loaded);
        e.partial = Some(fraction);
        let Some(r) = self.loads.running.as_ref() else {
            return;
        };
        // Inputs still to load keep their previous data meanwhile.
        let mut entries: Vec<Arc<TraceEntry>> = Vec::new();
        let e = Arc::new(e);
        for w in &r.wanted {
            if *w == path {
                entries.push(e.clone());
            } else if let Some(x) = r.entries.get(w).or_else(|| self.loads.cache.get(w)) {
                entries.push(x.clone());
            }
        }
        self.build_snapshot(Built::Preview { generation }, entries, Vec::new());
    }

    /// Every input of load `generation` is done: build its snapshot.
    pub(crate) fn loads_done(&mut self, generation: u64, progress: Option<Progress>) {
        if !self.is_current(generation) {
            return;
        }
        let Some(progress) = self.stand_in(generation, progress) else {
            // A stand-in is being loaded: its runner ends this load.
            return;
        };
        let Some(r) = self.loads.running.as_ref() else {
            return;
        };
        let entries: Vec<Arc<TraceEntry>> = r
            .wanted
            .iter()
            .filter_map(|w| r.entries.get(w).cloned())
            .collect();
        let failures: Vec<LoadFailure> = self
            .loads
            .failures
            .iter()
            .filter(|(p, _)| r.wanted.contains(p) || r.unused.contains(p))
            .map(|(p, m)| LoadFailure {
                path: p.clone(),
                message: m.clone(),
            })
            .collect();
        let wanted = r.wanted.clone();
        // Drop cached traces no longer wanted.
        self.loads.cache.retain(|p, _| wanted.contains(p));
        self.build_snapshot(
            Built::Load {
                generation,
                progress,
            },
            entries,
            failures,
        );
    }

    /// The newest match of the trace patterns cannot be shown (it failed,
    /// or it is truncated and yields nothing yet: a trace still being
    /// written): an older match stands in for it — the one shown before
    /// if it is unchanged, else the next that loads — and the newest is
    /// listed among the failures, so that a new file never removes the
    /// data shown. Returns the load's progress, or `None` when a stand-in
    /// is being loaded (the load goes on with it; [`Session::loads_done`]
    /// comes back here).
    fn stand_in(
        &mut self,
        generation: u64,
        progress: Option<Progress>,
    ) -> Option<Option<Progress>> {
        let Some(r) = self.loads.running.as_mut() else {
            return Some(progress);
        };
        let Some(newest) = r.newest.clone() else {
            return Some(progress);
        };
        // A complete trace with no blocking is shown; one cut short with
        // nothing yet, or none at all (it failed), is not.
        let shows = |e: &TraceEntry| !(e.loaded.truncated && e.is_empty());
        if r.entries.get(&newest).is_some_and(|e| shows(e)) {
            return Some(progress);
        }
        let Some(workspace) = self.loads.workspace.clone() else {
            return Some(progress);
        };
        let mut chosen = None;
        let mut load = None;
        for c in r.older.clone() {
            if let Some(e) = r.entries.get(&c) {
                if shows(e) {
                    chosen = Some(c);
                    break;
                }
                continue;
            }
            let cached = self.loads.cache.get(&c).filter(|e| {
                shows(e) && crate::loader::Stamp::of(&c).is_ok_and(|s| s == e.loaded.stamp)
            });
            if let Some(e) = cached {
                r.entries.insert(c.clone(), e.clone());
                r.wanted.push(c.clone());
                chosen = Some(c);
                break;
            }
            if !r.stand_ins_tried.contains(&c) {
                r.stand_ins_tried.push(c.clone());
                r.wanted.push(c.clone());
                load = Some(c);
                break;
            }
        }
        if let Some(c) = load {
            let id = self.loads.id_of(&c);
            let r = self.loads.running.as_ref().expect("checked above");
            let runner = super::one::Runner {
                generation,
                cancel: self.loads.generation.clone(),
                items: vec![super::one::Item {
                    path: c.clone(),
                    id,
                    previous: self.loads.cache.get(&c).cloned(),
                    binary: self.loads.binaries.get(&c).cloned(),
                }],
                workspace,
                binary: r.binary.clone(),
                max_bytes: self.settings.max_trace_bytes,
                categories: self.settings.decoded_categories(),
                debounce_ms: self.settings.debounce_ms,
                client: self.client.clone(),
                progress: self.features.work_done_progress,
                shown: progress,
                tx: self.tx.clone(),
            };
            tokio::spawn(runner.run());
            return None;
        }
        let Some(c) = chosen else {
            return Some(progress);
        };
        // The newest is not shown; said once, as a failure naming it.
        r.entries.remove(&newest);
        if !self.loads.failures.contains_key(&newest) {
            let msg = format!(
                "{}: no complete data yet (still being written?); showing {}",
                newest.display(),
                c.display()
            );
            self.say_once(lsp::MessageType::Info, format!("goblock: {msg}"));
            self.loads.failures.insert(newest, msg);
        }
        Some(progress)
    }

    fn build_snapshot(
        &mut self,
        why: Built,
        entries: Vec<Arc<TraceEntry>>,
        failures: Vec<LoadFailure>,
    ) {
        self.snap_gen += 1;
        let generation = self.snap_gen;
        let settings = self.settings.clone();
        let client_paths = self.client_paths.clone();
        let prev = self.snapshot.origins.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let snap =
                Snapshot::build(generation, settings, entries, failures, client_paths, &prev);
            let _ = tx.send(Event::SnapshotBuilt(why, Arc::new(snap)));
        });
    }

    /// A snapshot is ready: swapped in unless something newer came first.
    pub(crate) fn snapshot_built(&mut self, why: Built, snap: Arc<Snapshot>) {
        match why {
            Built::Preview { generation } => {
                if self.is_current(generation) {
                    self.swap(snap);
                }
            }
            Built::Rerender { base } => {
                if self.snapshot.generation == base {
                    self.swap(snap);
                } else if *self.snapshot.settings != *self.settings {
                    self.rerender();
                }
            }
            Built::Load {
                generation,
                progress,
            } => {
                if !self.is_current(generation) {
                    return;
                }
                let Some(r) = self.loads.running.take() else {
                    return;
                };
                let summary = commands::summary(&snap);
                // Each command hears the failures of what it asked for
                // (the session's others are in the status).
                let failures = commands::failures(&snap);
                for w in r.waiters {
                    let result = LoadResult {
                        loaded: snap.traces.iter().map(|t| t.path.clone()).collect(),
                        failures: failures
                            .iter()
                            .filter(|f| w.covers(&f.path))
                            .cloned()
                            .collect(),
                        summary: summary.clone(),
                    };
                    let _ = w.reply.send(Ok(json!(result)));
                }
                self.show_failures(&snap);
                self.swap(snap);
                self.out
                    .log(lsp::MessageType::Info, format!("goblock: {summary}"));
                if let Some(p) = progress {
                    tokio::spawn(p.end(Some(summary)));
                }
                release_freed_memory();
                // Again once the published messages have been written out.
                self.post_after(Duration::from_secs(2), Event::ReleaseMemory);
            }
        }
    }

    /// Shows `snap`.
    fn swap(&mut self, snap: Arc<Snapshot>) {
        self.snapshot = snap;
        self.annotations_changed(Scope::All);
        self.send_status(None);
    }
}

/// The log lines of a loaded input: version, episodes, symbolization,
/// warnings (a dump's or profile's: `crate::dumps::status`).
fn load_notes(path: &std::path::Path, loaded: &Loaded) -> String {
    let Some(a) = loaded.analysis.trace() else {
        return crate::dumps::status::load_notes(path, &loaded.analysis);
    };
    let sym = &a.symbolization;
    let mut notes = vec![format!(
        "goblock: {}: go {} trace, {} episodes, frames from {}",
        path.display(),
        a.summary.go_version,
        a.episodes,
        sym.binary
            .as_ref()
            .map(|b| format!("the DWARF of {}", b.display()))
            .unwrap_or_else(|| "the trace".into())
    )];
    notes.extend(sym.all_notes().map(|n| format!("goblock:   {n}")));
    notes.extend(
        a.summary
            .warnings
            .iter()
            .map(|w| format!("goblock:   warning: {w}")),
    );
    notes.join("\n")
}

/// Returns memory freed by a load (the trace copy, the decoder's tables) to
/// the OS: glibc keeps freed blocks in per-thread arenas otherwise.
pub(crate) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; no pointers are touched.
    unsafe {
        libc::malloc_trim(0);
    }
}
