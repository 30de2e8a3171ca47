//! Load step 2: loading one input, off the loop. The [`Runner`] loads the
//! planned inputs one after the other on blocking threads through
//! [`loader::load_one`] (which opens the file, previews a large trace's
//! beginning, analyses, and judges a trace that may still be being
//! written), shows one cancellable `$/progress` for all of them, and
//! reports each input's [`Outcome`] and previews to the session as they
//! come. Counting retries is the commit's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use goblock_analysis::{BinaryChoice, Workspace};
use tokio::sync::mpsc;
use tower_lsp_server::Client;

use crate::loader::{self, LoadRequest, Outcome, Previous};
use crate::main_loop::{Event, EventSender};
use crate::progress::Progress;
use crate::snapshot::TraceEntry;

/// One input to load.
pub(crate) struct Item {
    pub(crate) path: PathBuf,
    pub(crate) id: u32,
    /// Its last good load.
    pub(crate) previous: Option<Arc<TraceEntry>>,
    /// The binary that wrote it, when known (a capture's).
    pub(crate) binary: Option<PathBuf>,
}

/// Loads the planned inputs of load `generation`.
pub(crate) struct Runner {
    pub(crate) generation: u64,
    pub(crate) cancel: Arc<AtomicU64>,
    pub(crate) items: Vec<Item>,
    pub(crate) workspace: Arc<Workspace>,
    pub(crate) binary: BinaryChoice,
    pub(crate) max_bytes: u64,
    /// `goblock.categories`, decoded alone.
    pub(crate) categories: goblock_trace::Categories,
    pub(crate) debounce_ms: u64,
    pub(crate) client: Client,
    pub(crate) progress: bool,
    /// The progress of the load this runner continues (a stand-in's), if any.
    pub(crate) shown: Option<Progress>,
    pub(crate) tx: EventSender,
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

impl Runner {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst) != self.generation
    }

    pub(crate) async fn run(mut self) {
        let mut progress: Option<Progress> = self.shown.take();
        let n = self.items.len().max(1) as u32;
        for (i, item) in self.items.iter().enumerate() {
            if self.cancelled() {
                return;
            }
            if progress.is_none() {
                let token = Progress::new_token();
                let _ = self.tx.send(Event::ProgressToken {
                    generation: self.generation,
                    token: token.clone(),
                });
                progress = Progress::begin(
                    &self.client,
                    self.progress,
                    token,
                    "goblock",
                    Some(format!("loading {}", item.path.display())),
                )
                .await;
            }
            let (ptx, mut prx) = mpsc::unbounded_channel::<u32>();
            let (vtx, mut vrx) = mpsc::unbounded_channel::<()>();
            let job = tokio::task::spawn_blocking({
                let cancel = self.cancel.clone();
                let generation = self.generation;
                let path = item.path.clone();
                let id = item.id;
                let ws = self.workspace.clone();
                let binary = match &item.binary {
                    Some(b) => BinaryChoice::Path(b.clone()),
                    None => self.binary.clone(),
                };
                let max_bytes = self.max_bytes;
                let categories = self.categories;
                let previous = item.previous.as_ref().map(|c| Previous {
                    stamp: c.loaded.stamp,
                    truncated: c.loaded.truncated,
                });
                let settle = Duration::from_millis(self.debounce_ms * 2 + 1000);
                let tx = self.tx.clone();
                move || {
                    let cancelled = || cancel.load(Ordering::SeqCst) != generation;
                    let mut prog = |pct: u32| {
                        let _ = ptx.send(pct);
                    };
                    let mut preview = |loaded, fraction| {
                        let _ = tx.send(Event::Preview {
                            generation,
                            path: path.clone(),
                            loaded: Box::new(loaded),
                            fraction,
                        });
                        let _ = vtx.send(());
                    };
                    loader::load_one(&mut LoadRequest {
                        path: &path,
                        trace_index: id,
                        workspace: &ws,
                        binary,
                        max_bytes,
                        categories,
                        previous,
                        settle,
                        cancelled: &cancelled,
                        progress: &mut prog,
                        preview: &mut preview,
                    })
                }
            });
            tokio::pin!(job);
            let res = loop {
                tokio::select! {
                    // Progress already sent is reported before the load's
                    // end (unbiased, a fast load's end could win and drop
                    // every percentage).
                    biased;
                    Some(pct) = prx.recv() => {
                        if let Some(p) = progress.as_mut() {
                            let overall = (i as u32 * 100 + pct) / n;
                            let msg = format!("{} ({pct} %)", file_name(&item.path));
                            p.report(overall, Some(msg)).await;
                        }
                    }
                    Some(()) = vrx.recv() => {
                        if let Some(p) = progress.as_mut() {
                            let msg = format!("{}: preview shown; loading the rest", file_name(&item.path));
                            p.report(0, Some(msg)).await;
                        }
                    }
                    r = &mut job => break r,
                }
            };
            let Ok(outcome) = res else {
                // The loader panicked: said by the commit as a failure.
                let _ = self.tx.send(Event::LoadPanicked {
                    generation: self.generation,
                    path: item.path.clone(),
                });
                continue;
            };
            let stop = matches!(outcome, Outcome::Cancelled);
            let _ = self.tx.send(Event::Loaded {
                generation: self.generation,
                path: item.path.clone(),
                outcome,
            });
            if stop {
                return;
            }
        }
        let _ = self.tx.send(Event::LoadsDone {
            generation: self.generation,
            progress,
        });
    }
}
