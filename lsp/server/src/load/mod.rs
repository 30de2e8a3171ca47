//! Loading the session's traces, in three steps (each its own file):
//!
//! 1. [`plan`]: which inputs (discovery + `goblock.loadTrace` paths), which
//!    of them are unchanged since they were loaded — discovery runs off the
//!    loop, the decision on it;
//! 2. [`one`]: loading one input, off the loop, with `$/progress` (one
//!    progress for the whole load, cancellable) and a preview of large
//!    traces;
//! 3. [`commit`]: on the loop, applying each input's outcome (replace, keep
//!    the previous data, record a failure, retry later), then building the
//!    snapshot off the loop and swapping it in.
//!
//! A newer load supersedes a running one (generation counter, polled by
//! the loaders); commands waiting for a superseded load get
//! [`Superseded`].

pub(crate) mod commit;
pub(crate) mod one;
pub(crate) mod plan;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use goblock_analysis::{BinaryChoice, Workspace};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tower_lsp_server::gen_lsp_types as lsp;
use tower_lsp_server::jsonrpc::Error as RpcError;

pub(crate) use plan::Planned;

use crate::main_loop::{Event, LoadCommand};
use crate::protocol::Superseded;
use crate::session::{Session, canonical};
use crate::snapshot::TraceEntry;

/// A reply to a command waiting for a load.
pub(crate) type Waiter = oneshot::Sender<Result<Value, RpcError>>;

/// A command waiting for a load, and the inputs its answer speaks for:
/// their failures are said by the answer (not also by `showMessage`), and
/// only theirs are in it.
pub(crate) struct LoadWaiter {
    pub(crate) reply: Waiter,
    /// `None`: every input of the load (`goblock.reload`, `goblock.clear`);
    /// else the one input asked for (canonical path).
    pub(crate) only: Option<PathBuf>,
}

impl LoadWaiter {
    /// Whether the answer speaks for `path`.
    pub(crate) fn covers(&self, path: &std::path::Path) -> bool {
        self.only.as_deref().is_none_or(|p| p == path)
    }
}

/// The load in progress.
pub(crate) struct Running {
    pub(crate) generation: u64,
    pub(crate) force: bool,
    pub(crate) interactive: bool,
    pub(crate) waiters: Vec<LoadWaiter>,
    /// Its progress token, once created (for `workDoneProgress/cancel`).
    pub(crate) token: Option<lsp::ProgressToken>,
    /// The inputs, in order.
    pub(crate) wanted: Vec<PathBuf>,
    /// Configured paths not used (their reasons are among the failures).
    pub(crate) unused: Vec<PathBuf>,
    /// What each input shows: loaded now, or kept.
    pub(crate) entries: HashMap<PathBuf, Arc<TraceEntry>>,
    /// The newest match of the trace patterns, and the older matches that
    /// may stand in for it (newest first); those loaded for that so far.
    pub(crate) newest: Option<PathBuf>,
    pub(crate) older: Vec<PathBuf>,
    pub(crate) stand_ins_tried: Vec<PathBuf>,
    /// The binary choice of the load (for a stand-in loaded late).
    pub(crate) binary: BinaryChoice,
}

impl Running {
    fn superseded(self) {
        for w in self.waiters {
            let _ = w.reply.send(Ok(json!(Superseded::new())));
        }
    }
}

/// Loading state of the session.
pub(crate) struct Loads {
    /// Generation of the newest load; loaders stop when it moves on.
    pub(crate) generation: Arc<AtomicU64>,
    /// Discover traces by the settings (off after `goblock.clear`).
    pub(crate) auto: bool,
    /// Paths given to `goblock.loadTrace` (and captures shown).
    pub(crate) extra: Vec<PathBuf>,
    /// The binary that wrote a trace, when known (a capture's test
    /// binary): used instead of the settings' or discovery's.
    pub(crate) binaries: HashMap<PathBuf, PathBuf>,
    /// Stable index per trace path.
    pub(crate) ids: HashMap<PathBuf, u32>,
    /// The last good load of each input.
    pub(crate) cache: HashMap<PathBuf, Arc<TraceEntry>>,
    /// The last error of each input that failed.
    pub(crate) failures: HashMap<PathBuf, String>,
    /// Failures to show once the load ends (path, message, whether the
    /// input's previous data is kept): how loud depends on what is shown.
    pub(crate) to_show: Vec<(PathBuf, String, bool)>,
    /// Retries of inputs that may still be being written.
    pub(crate) retries: HashMap<PathBuf, u32>,
    /// Path mapping for the current roots and settings.
    pub(crate) workspace: Option<Arc<Workspace>>,
    pub(crate) running: Option<Running>,
}

impl Default for Loads {
    fn default() -> Self {
        Loads {
            generation: Arc::new(AtomicU64::new(0)),
            auto: true,
            extra: Vec::new(),
            binaries: HashMap::new(),
            ids: HashMap::new(),
            cache: HashMap::new(),
            failures: HashMap::new(),
            to_show: Vec::new(),
            retries: HashMap::new(),
            workspace: None,
            running: None,
        }
    }
}

impl Loads {
    /// Forgets every analysis (roots or path settings changed).
    pub(crate) fn forget_analyses(&mut self) {
        self.workspace = None;
        self.cache.clear();
    }

    /// Paths that are traces whatever the patterns say.
    pub(crate) fn known_paths(&self) -> HashSet<PathBuf> {
        self.cache
            .keys()
            .chain(self.retries.keys())
            .cloned()
            .chain(self.extra.iter().map(|e| canonical(e)))
            .collect()
    }

    /// The trace index of a path (stable for the session).
    pub(crate) fn id_of(&mut self, p: &std::path::Path) -> u32 {
        let n = self.ids.len() as u32;
        *self.ids.entry(p.to_path_buf()).or_insert(n)
    }
}

impl Session {
    /// Starts a load (superseding a running one). `force`: reload inputs
    /// even if unchanged; `interactive` (a command asked): report errors at
    /// once instead of retrying files that may still be being written.
    pub(crate) fn start_load(
        &mut self,
        force: bool,
        interactive: bool,
        waiter: Option<LoadWaiter>,
    ) {
        let generation = self.loads.generation.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(old) = self.loads.running.take() {
            old.superseded();
        }
        self.loads.running = Some(Running {
            generation,
            force,
            interactive,
            waiters: waiter.into_iter().collect(),
            token: None,
            wanted: Vec::new(),
            unused: Vec::new(),
            entries: HashMap::new(),
            newest: None,
            older: Vec::new(),
            stand_ins_tried: Vec::new(),
            binary: BinaryChoice::Auto,
        });
        let req = plan::Discover {
            auto: self.loads.auto,
            extra: self.loads.extra.clone(),
            patterns: self.patterns.clone(),
            dump_patterns: self.dump_patterns.clone(),
            roots: self.roots.clone(),
            settings: self.settings.clone(),
            workspace: self.loads.workspace.clone(),
        };
        self.send_status(None);
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let (planned, workspace) = plan::discover(&req);
            let _ = tx.send(Event::Planned {
                generation,
                planned,
                workspace,
            });
        });
    }

    /// Stops the running load, if any.
    pub(crate) fn cancel_load(&mut self, _why: &str) {
        self.loads.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(old) = self.loads.running.take() {
            old.superseded();
        }
    }

    /// The client cancelled a progress: the load showing it stops (what is
    /// shown stays). A token of a load that has ended is ignored.
    pub(crate) fn cancel_progress(&mut self, token: &lsp::ProgressToken) {
        if self.cancel_capture_progress(token) {
            return;
        }
        let owns = self
            .loads
            .running
            .as_ref()
            .is_some_and(|r| r.token.as_ref() == Some(token));
        if !owns {
            self.out.log(
                lsp::MessageType::Log,
                "goblock: a progress that has ended was cancelled; ignored",
            );
            return;
        }
        self.cancel_load("cancelled");
        let msg = "loading cancelled; the traces shown so far stay (goblock.reload loads again)";
        self.out
            .log(lsp::MessageType::Info, format!("goblock: {msg}"));
        self.send_status(Some(msg.to_owned()));
    }

    pub(crate) fn progress_token(&mut self, generation: u64, token: lsp::ProgressToken) {
        if let Some(r) = self
            .loads
            .running
            .as_mut()
            .filter(|r| r.generation == generation)
        {
            r.token = Some(token);
        }
    }

    /// `goblock.loadTrace`, `goblock.reload`, `goblock.clear`.
    pub(crate) fn load_command(&mut self, cmd: LoadCommand, reply: Waiter) {
        match cmd {
            LoadCommand::LoadTrace(path) => {
                let path = if path.is_absolute() {
                    path
                } else {
                    self.roots.first().map(|r| r.join(&path)).unwrap_or(path)
                };
                // A FIFO, directory or missing file: say which, now.
                if let Err(e) = goblock_analysis::input::regular_file(&path) {
                    let _ = reply.send(Err(RpcError::invalid_params(e.to_string())));
                    return;
                }
                let only = Some(canonical(&path));
                if !self.loads.extra.contains(&path) {
                    self.loads.extra.push(path);
                }
                self.start_load(false, true, Some(LoadWaiter { reply, only }));
            }
            LoadCommand::Reload => {
                self.loads.auto = true;
                self.loads.retries.clear();
                let only = None;
                self.start_load(true, true, Some(LoadWaiter { reply, only }));
            }
            LoadCommand::Clear => {
                self.loads.auto = false;
                self.loads.extra.clear();
                self.loads.failures.clear();
                let only = None;
                self.start_load(false, true, Some(LoadWaiter { reply, only }));
            }
        }
    }
}
