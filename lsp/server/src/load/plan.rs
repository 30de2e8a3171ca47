//! Load step 1, the plan: which inputs to show (the newest trace the
//! patterns find, every configured path, every `goblock.loadTrace` path,
//! the newest goroutine dump and profiles: `crate::dumps::discover`; when
//! none of these exists, the newest capture of `.goblock/captures`),
//! with their stamps, the path mapping of the workspace and the binary
//! choice ([`discover`], blocking: it walks the workspace and may run
//! `go env`); then, on the loop, which of them are unchanged since their
//! last load and which to load ([`Session::planned`]).

use std::path::PathBuf;
use std::sync::Arc;

use goblock_analysis::{BinaryChoice, Workspace};
use tower_lsp_server::gen_lsp_types as lsp;

use crate::config::Settings;
use crate::discovery::{self, TracePatterns};
use crate::load::one::{self, Item};
use crate::loader::Stamp;
use crate::session::{Session, canonical};

/// What discovery needs (copied from the session).
pub(crate) struct Discover {
    pub(crate) auto: bool,
    pub(crate) extra: Vec<PathBuf>,
    pub(crate) patterns: Arc<TracePatterns>,
    pub(crate) dump_patterns: Arc<TracePatterns>,
    pub(crate) roots: Vec<PathBuf>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) workspace: Option<Arc<Workspace>>,
}

/// What discovery found.
pub(crate) struct Planned {
    /// Inputs in order, with their stamps now (`None`: cannot stat).
    pub(crate) wanted: Vec<(PathBuf, Option<Stamp>)>,
    /// The newest match of the trace patterns (among `wanted`), and the
    /// older ones that stand in for it while it cannot be shown
    /// ([`Session::stand_in`](crate::session::Session)), newest first.
    pub(crate) newest: Option<PathBuf>,
    pub(crate) older: Vec<PathBuf>,
    /// Configured paths that are not used, and why.
    pub(crate) unused: Vec<discovery::Unused>,
    /// What the walk skipped (unreadable directories, FIFOs, …) and the
    /// `goblock.binaries` entries that name no file, and why.
    pub(crate) skipped: Vec<discovery::Unused>,
    /// The binary to symbolize with.
    pub(crate) binary: BinaryChoice,
    /// Discovery found nothing, so the newest capture is shown: its
    /// file, the binary that wrote it, and what to tell the user.
    pub(crate) newest_capture: Option<NewestCapture>,
}

/// The capture shown when the workspace has no trace, dump or profile.
pub(crate) struct NewestCapture {
    pub(crate) file: PathBuf,
    pub(crate) binary: Option<PathBuf>,
    pub(crate) message: String,
}

/// The newest capture of the first workspace folder that has any. A
/// folder's captures are those of its module or work root
/// ([`goblock_capture::store::workspace_root`], as for `goblock capture`
/// and the server's own captures): in its `.goblock/captures` or, for
/// read-only roots such as the module cache, under the user cache
/// directory.
fn newest_capture(roots: &[PathBuf]) -> Option<NewestCapture> {
    let cache = goblock_capture::store::default_cache_dir();
    roots.iter().find_map(|root| {
        let owner = goblock_capture::store::workspace_root(root);
        let store = goblock_capture::Store::existing(&owner, cache.as_deref())?;
        let all = store.list();
        let c = all.first()?;
        let more = match all.len() - 1 {
            0 => String::new(),
            n => format!("; {n} older (goblock.captures lists them)"),
        };
        Some(NewestCapture {
            file: c.file.clone(),
            binary: c.binary.clone(),
            message: format!(
                "goblock: no trace in the workspace: showing the newest capture, {} ({}), from {}{more}",
                c.meta.name,
                c.meta.started,
                c.dir.display()
            ),
        })
    })
}

/// Finds the inputs (blocking).
pub(crate) fn discover(req: &Discover) -> (Planned, Arc<Workspace>) {
    let mut sel = discovery::Selection::default();
    if req.auto {
        sel = req.patterns.select(&req.roots);
        // Goroutine dumps and profiles: the newest of each kind.
        let d = crate::dumps::discover::select(
            &req.dump_patterns,
            &req.roots,
            req.settings.max_trace_bytes,
        );
        for t in d.traces {
            if !sel.traces.contains(&t) {
                sel.traces.push(t);
            }
        }
        sel.unused.extend(d.unused);
        sel.skipped.extend(d.skipped);
    }
    let capture = if req.auto && sel.traces.is_empty() {
        newest_capture(&req.roots)
    } else {
        None
    };
    if let Some(n) = &capture {
        sel.traces.push(n.file.clone());
    }
    let newest = sel.newest.take().map(|p| canonical(&p));
    let older: Vec<PathBuf> = sel.older.iter().map(|p| canonical(p)).collect();
    let mut v = std::mem::take(&mut sel.traces);
    for e in &req.extra {
        if !v.contains(e) {
            v.push(e.clone());
        }
    }
    let mut wanted: Vec<(PathBuf, Option<Stamp>)> = Vec::new();
    for p in v {
        let p = canonical(&p);
        if !wanted.iter().any(|w| w.0 == p) {
            let stamp = Stamp::of(&p).ok();
            wanted.push((p, stamp));
        }
    }
    let workspace = req.workspace.clone().unwrap_or_else(|| {
        Arc::new(Workspace::with_go_env(
            &req.roots,
            req.settings.substitute_path.clone(),
        ))
    });
    // `goblock.binaries`: each tried in order until one matches the trace;
    // none configured (or none exists, said): look for candidates.
    let bins = discovery::resolve_binaries(&req.roots, &req.settings.binaries);
    let binary = if bins.paths.is_empty() {
        BinaryChoice::Auto
    } else {
        BinaryChoice::Paths(bins.paths)
    };
    sel.skipped.extend(bins.unused);
    (
        Planned {
            wanted,
            newest,
            older,
            unused: sel.unused,
            skipped: sel.skipped,
            binary,
            newest_capture: capture,
        },
        workspace,
    )
}

impl Session {
    /// Discovery is done: keep what is unchanged, load the rest.
    pub(crate) fn planned(&mut self, generation: u64, planned: Planned, workspace: Arc<Workspace>) {
        if self
            .loads
            .running
            .as_ref()
            .is_none_or(|r| r.generation != generation)
        {
            return;
        }
        self.loads.workspace = Some(workspace.clone());
        // Configured paths not used: in the status; everything skipped: in
        // the log, once.
        for u in &planned.unused {
            self.loads
                .failures
                .insert(u.path.clone(), u.message.clone());
        }
        for u in planned.unused.iter().chain(&planned.skipped) {
            self.say_once(lsp::MessageType::Warning, format!("goblock: {}", u.message));
        }
        if let Some(n) = &planned.newest_capture {
            if let Some(b) = &n.binary {
                self.loads.binaries.insert(canonical(&n.file), b.clone());
            }
            self.say_once(lsp::MessageType::Info, n.message.clone());
        }
        let mut items = Vec::new();
        let mut keep = Vec::new();
        for (path, stamp) in &planned.wanted {
            let id = self.loads.id_of(path);
            let previous = self.loads.cache.get(path).cloned();
            let force = self.loads.running.as_ref().is_some_and(|r| r.force);
            match &previous {
                Some(c) if !force && *stamp == Some(c.loaded.stamp) => keep.push(c.clone()),
                _ => items.push(Item {
                    path: path.clone(),
                    id,
                    previous,
                    binary: self.loads.binaries.get(path).cloned(),
                }),
            }
        }
        let Some(r) = self.loads.running.as_mut() else {
            return;
        };
        r.wanted = planned.wanted.iter().map(|w| w.0.clone()).collect();
        r.unused = planned.unused.iter().map(|u| u.path.clone()).collect();
        r.newest = planned.newest.clone();
        r.older = planned.older.clone();
        r.binary = planned.binary.clone();
        for k in keep {
            r.entries.insert(k.path.clone(), k);
        }
        if items.is_empty() {
            self.loads_done(generation, None);
            return;
        }
        let runner = one::Runner {
            generation,
            cancel: self.loads.generation.clone(),
            items,
            workspace,
            binary: planned.binary,
            max_bytes: self.settings.max_trace_bytes,
            categories: self.settings.decoded_categories(),
            debounce_ms: self.settings.debounce_ms,
            client: self.client.clone(),
            progress: self.features.work_done_progress,
            shown: None,
            tx: self.tx.clone(),
        };
        tokio::spawn(runner.run());
    }
}
