//! The fallback file watcher (when the client cannot watch files for us):
//! watches the workspace roots and the folders of explicitly configured
//! traces recursively with `notify`, and forwards changed paths. Filtering
//! against the trace patterns and debouncing are the server's.
//!
//! Knows no LSP types.

use std::path::PathBuf;

use notify::{RecursiveMode, Watcher};

/// A running watcher; dropping it stops watching.
pub struct FallbackWatcher {
    _w: notify::RecommendedWatcher,
}

/// Starts watching `dirs` (recursively) and `files`' parent folders; every
/// created/modified/removed path is passed to `on_change`.
pub fn start(
    dirs: &[PathBuf],
    files: &[PathBuf],
    on_change: impl Fn(PathBuf) + Send + 'static,
) -> notify::Result<FallbackWatcher> {
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if matches!(ev.kind, notify::EventKind::Access(_)) {
                return;
            }
            for p in ev.paths {
                on_change(p);
            }
        }
    })?;
    for d in dirs {
        w.watch(d, RecursiveMode::Recursive)?;
    }
    for f in files {
        if let Some(parent) = f.parent()
            && parent.is_dir()
            && !dirs.iter().any(|d| parent.starts_with(d))
        {
            let _ = w.watch(parent, RecursiveMode::NonRecursive);
        }
    }
    Ok(FallbackWatcher { _w: w })
}
