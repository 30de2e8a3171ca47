//! The fallback file watcher (when the client cannot watch files for us):
//! watches every directory under the workspace roots (skipping the
//! directories discovery skips: `.git`, `vendor`, `node_modules`,
//! `target`, …) and the folders of explicitly configured traces, and
//! forwards changed paths. A directory that cannot be watched (unreadable,
//! out of inotify watches) is skipped and reported; the rest is watched.
//! Directories created later are watched as they appear, and the files
//! already inside them are forwarded.
//!
//! Filtering against the trace patterns and debouncing are the server's.
//! Knows no LSP types.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use notify::{RecursiveMode, Watcher};

use crate::discovery::{self, SKIPPED};

type Shared = Arc<Mutex<notify::RecommendedWatcher>>;

/// A running watcher; dropping it stops watching.
pub struct FallbackWatcher {
    _w: Shared,
}

/// A started watcher and the directories it could not watch.
pub struct Started {
    /// The watcher.
    pub watcher: FallbackWatcher,
    /// Directories not watched, each with a one-line reason naming it.
    pub skipped: Vec<String>,
}

/// Starts watching the trees under `dirs` and `files`' parent folders; every
/// created/modified/removed path is passed to `on_change`. Fails only when
/// no watcher can be created at all.
pub fn start(
    dirs: &[PathBuf],
    files: &[PathBuf],
    on_change: impl Fn(PathBuf) + Send + Sync + 'static,
) -> notify::Result<Started> {
    let on_change = Arc::new(on_change);
    let (new_dirs, new_dirs_rx) = std::sync::mpsc::channel::<PathBuf>();
    let forward = on_change.clone();
    let w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(ev) = res else { return };
        if matches!(ev.kind, notify::EventKind::Access(_)) {
            return;
        }
        let created = matches!(ev.kind, notify::EventKind::Create(_));
        for p in ev.paths {
            if created && p.is_dir() && !is_skipped(&p) {
                // Watched from another thread: adding a watch from the
                // watcher's own event thread would deadlock.
                let _ = new_dirs.send(p.clone());
            }
            forward(p);
        }
    })?;
    let shared: Shared = Arc::new(Mutex::new(w));
    let mut skipped = Vec::new();
    {
        let mut w = lock(&shared);
        for d in dirs {
            watch_tree(&mut w, d, &mut skipped);
        }
        for f in files {
            if let Some(parent) = f.parent()
                && parent.is_dir()
                && !dirs.iter().any(|d| parent.starts_with(d))
                && let Err(e) = w.watch(parent, RecursiveMode::NonRecursive)
            {
                skipped.push(format!(
                    "{}: cannot be watched ({}); its traces are not reloaded when they change",
                    parent.display(),
                    describe(&e)
                ));
            }
        }
    }
    let weak: Weak<Mutex<notify::RecommendedWatcher>> = Arc::downgrade(&shared);
    // Ends when the watcher is dropped (its event handler owns the sender).
    let _ = std::thread::Builder::new()
        .name("goblock-watch-dirs".into())
        .spawn(move || {
            while let Ok(dir) = new_dirs_rx.recv() {
                let Some(w) = weak.upgrade() else { return };
                let mut ignored = Vec::new();
                watch_tree(&mut lock(&w), &dir, &mut ignored);
                drop(w);
                // Files written before the watch was added.
                for e in walkdir::WalkDir::new(&dir).into_iter().flatten() {
                    if e.file_type().is_file() {
                        on_change(e.into_path());
                    }
                }
            }
        });
    Ok(Started {
        watcher: FallbackWatcher { _w: shared },
        skipped,
    })
}

/// Watches `root` and every directory below it (not the skipped ones), one
/// directory at a time, so that one failure does not stop the rest. Each
/// directory that fails is named once in `skipped`.
fn watch_tree(w: &mut notify::RecommendedWatcher, root: &Path, skipped: &mut Vec<String>) {
    let mut failed: Vec<PathBuf> = Vec::new();
    let mut fail = |p: &Path, msg: String, skipped: &mut Vec<String>| {
        if !failed.iter().any(|f| f == p) {
            failed.push(p.to_path_buf());
            skipped.push(msg);
        }
    };
    let it = walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !(e.file_type().is_dir() && is_skipped(e.path())));
    for e in it {
        match e {
            Ok(e) if e.file_type().is_dir() => {
                if let Err(err) = w.watch(e.path(), RecursiveMode::NonRecursive) {
                    let msg = match &err.kind {
                        notify::ErrorKind::Io(io)
                            if io.kind() == std::io::ErrorKind::PermissionDenied =>
                        {
                            discovery::unreadable(e.path(), io)
                        }
                        _ => format!(
                            "{}: cannot be watched ({}); its traces are not reloaded when they change",
                            e.path().display(),
                            describe(&err)
                        ),
                    };
                    fail(e.path(), msg, skipped);
                }
            }
            Ok(_) => {}
            Err(err) => {
                if let (Some(p), Some(io)) = (err.path(), err.io_error()) {
                    fail(p, discovery::unreadable(p, io), skipped);
                }
            }
        }
    }
}

fn describe(e: &notify::Error) -> String {
    match &e.kind {
        notify::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

fn is_skipped(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| SKIPPED.iter().any(|s| n == *s))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
