//! Where captures live: one directory per capture,
//! `<workspace>/.goblock/captures/<timestamp>-<name>/{trace,bin,meta.json}`
//! (a service's goroutine dump or profile in place of `trace`:
//! `goroutines.txt`, `block.pb.gz`, `mutex.pb.gz`)
//! (`.goblock/` gets a `.gitignore` of its own, so nothing shows up in
//! `git status`), or `<user cache>/goblock/captures/<workspace>-<hash>/`
//! when the workspace cannot be written. A capture is written into
//! `<dir>.partial` and renamed when complete, so a cancelled or failed
//! capture leaves nothing behind and readers never see half a capture.
//! Keeps the newest N.
//!
//! Does not know what is inside the files besides `meta.json`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::CaptureError;
use crate::meta::{Capture, Meta};

const PARTIAL: &str = ".partial";
/// A `.partial` directory older than this belongs to no running capture.
const STALE_PARTIAL: Duration = Duration::from_secs(24 * 3600);

/// The capture directory of one workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    root: PathBuf,
    /// Why the user cache directory is used instead of the workspace.
    pub fallback: Option<String>,
}

impl Store {
    /// `<workspace>/.goblock/captures`, or, when it cannot be written,
    /// `<cache>/goblock/captures/<workspace name>-<hash>` (`cache` is the
    /// user cache directory, [`default_cache_dir`]).
    pub fn for_workspace(workspace: &Path, cache: Option<&Path>) -> Result<Store, CaptureError> {
        let dot = workspace.join(".goblock");
        let root = dot.join("captures");
        let why = match read_only(workspace, &dot).map_or_else(|| prepare(&root), Err) {
            Ok(()) => {
                let ignore = dot.join(".gitignore");
                if !ignore.exists() {
                    // Best effort: the captures work without it.
                    let _ = std::fs::write(
                        &ignore,
                        "# goblock's captures (traces, test binaries): not for version control\n*\n",
                    );
                }
                return Ok(Store {
                    root,
                    fallback: None,
                });
            }
            Err(e) => e,
        };
        let Some(cache) = cache else {
            return Err(CaptureError::Io {
                path: root,
                source: why,
            });
        };
        let alt = cache_root(workspace, cache);
        prepare(&alt).map_err(CaptureError::io(&alt))?;
        Ok(Store {
            fallback: Some(format!(
                "{} cannot be written ({why}); captures go to {}",
                root.display(),
                alt.display()
            )),
            root: alt,
        })
    }

    /// The store a workspace's captures went to, if it exists — the
    /// workspace's `.goblock/captures`, else its directory under the user
    /// cache — without creating or writing anything (for readers such as
    /// the server's discovery).
    pub fn existing(workspace: &Path, cache: Option<&Path>) -> Option<Store> {
        let own = workspace.join(".goblock").join("captures");
        let cached = cache.map(|c| cache_root(workspace, c));
        [Some(own), cached]
            .into_iter()
            .flatten()
            .find(|d| d.is_dir())
            .map(|root| Store {
                root,
                fallback: None,
            })
    }

    /// A store at `root` exactly (created when missing).
    pub fn at(root: impl Into<PathBuf>) -> Result<Store, CaptureError> {
        let root = root.into();
        prepare(&root).map_err(CaptureError::io(&root))?;
        Ok(Store {
            root,
            fallback: None,
        })
    }

    /// The directory holding the captures.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Starts a capture named after `label` (a test, a package, a host).
    pub(crate) fn begin(&self, label: &str) -> Result<Pending, CaptureError> {
        let stamp: String = humantime::format_rfc3339_seconds(SystemTime::now())
            .to_string()
            .chars()
            .filter(|c| !matches!(c, '-' | ':'))
            .collect();
        let base = format!("{stamp}-{}", sanitize(label));
        for n in 1..1000 {
            let name = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let done = self.root.join(&name);
            let partial = self.root.join(format!("{name}{PARTIAL}"));
            if done.exists() {
                continue;
            }
            match std::fs::create_dir(&partial) {
                Ok(()) => {
                    return Ok(Pending {
                        dir: partial,
                        done,
                        committed: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(CaptureError::io(partial)(e)),
            }
        }
        Err(CaptureError::Io {
            path: self.root.join(base),
            source: std::io::Error::other("too many captures with this name in one second"),
        })
    }

    /// The complete captures, newest first (directories whose `meta.json`
    /// cannot be read are left out).
    pub fn list(&self) -> Vec<Capture> {
        let mut out: Vec<Capture> = self
            .entries()
            .into_iter()
            .filter_map(|dir| read_capture(&dir))
            .collect();
        out.sort_by(|a, b| b.dir.file_name().cmp(&a.dir.file_name()));
        out
    }

    /// Removes all but the newest `keep` captures (0 keeps everything)
    /// and `.partial` directories left by a capture that died a day ago.
    /// Returns the directories removed.
    pub fn prune(&self, keep: usize) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        let mut done: Vec<PathBuf> = Vec::new();
        for dir in self.entries_all() {
            if dir.to_string_lossy().ends_with(PARTIAL) {
                let old = std::fs::metadata(&dir)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE_PARTIAL);
                if old && std::fs::remove_dir_all(&dir).is_ok() {
                    removed.push(dir);
                }
            } else if dir.join("meta.json").is_file() {
                done.push(dir);
            }
        }
        if keep == 0 {
            return removed;
        }
        done.sort_by(|a, b| b.file_name().cmp(&a.file_name()));
        for dir in done.into_iter().skip(keep) {
            if std::fs::remove_dir_all(&dir).is_ok() {
                removed.push(dir);
            }
        }
        removed
    }

    fn entries(&self) -> Vec<PathBuf> {
        self.entries_all()
            .into_iter()
            .filter(|d| !d.to_string_lossy().ends_with(PARTIAL))
            .collect()
    }

    fn entries_all(&self) -> Vec<PathBuf> {
        let Ok(rd) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        rd.flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect()
    }
}

/// The workspace a directory belongs to when no editor says: the directory
/// of the nearest `go.work` above it, else of the nearest `go.mod`, else
/// the directory itself.
pub fn workspace_root(dir: &Path) -> PathBuf {
    for name in ["go.work", "go.mod"] {
        if let Some(d) = dir.ancestors().find(|d| d.join(name).is_file()) {
            return d.to_path_buf();
        }
    }
    dir.to_path_buf()
}

/// `<cache>/goblock/captures/<workspace name>-<hash of its path>`.
fn cache_root(workspace: &Path, cache: &Path) -> PathBuf {
    let name = workspace
        .file_name()
        .map(|n| sanitize(&n.to_string_lossy()))
        .unwrap_or_else(|| "root".into());
    cache.join("goblock").join("captures").join(format!(
        "{name}-{:016x}",
        fnv1a(workspace.to_string_lossy().as_bytes())
    ))
}

/// The user cache directory (`$XDG_CACHE_HOME`, `~/.cache`, …).
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir()
}

/// Creates `dir` and checks that a file can be created in it.
/// Why `workspace` must not get a `.goblock` even when the process could
/// write one: its mode says read-only (the Go module cache is extracted
/// read-only; root, which ignores permission bits, would otherwise put
/// captures there, and `go mod verify` would then report the module as
/// modified). A `.goblock` made earlier is used as it is.
fn read_only(workspace: &Path, dot: &Path) -> Option<std::io::Error> {
    if dot.exists() {
        return None;
    }
    if let Some(module) = go_own_module(workspace) {
        return Some(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("it is in Go's own source tree (module {module}), not a workspace to write to"),
        ));
    }
    let meta = std::fs::metadata(workspace).ok()?;
    meta.permissions().readonly().then(|| {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the directory is read-only, like the Go module cache",
        )
    })
}

/// `std` or `cmd` when the nearest `go.mod` at or above `dir` declares
/// one of Go's own modules (`$GOROOT/src`, `$GOROOT/src/cmd`): the Go
/// installation, which root could write but nobody should.
fn go_own_module(dir: &Path) -> Option<&'static str> {
    let go_mod = dir
        .ancestors()
        .map(|d| d.join("go.mod"))
        .find(|f| f.is_file())?;
    let text = std::fs::read_to_string(go_mod).ok()?;
    let module = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("module "))?
        .trim();
    ["std", "cmd"].into_iter().find(|m| *m == module)
}

fn prepare(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

fn read_capture(dir: &Path) -> Option<Capture> {
    let text = std::fs::read_to_string(dir.join("meta.json")).ok()?;
    let meta: Meta = serde_json::from_str(&text).ok()?;
    let bin = dir.join("bin");
    Some(Capture {
        dir: dir.to_path_buf(),
        file: dir.join(meta.what.file_name()),
        binary: bin.is_file().then_some(bin),
        meta,
    })
}

/// A name safe in a directory name: letters, digits, `.`, `_`, `-`; at
/// most 60 characters.
fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let trimmed = out.trim_matches(|c| c == '.' || c == '_').len();
    if trimmed == 0 {
        out = "capture".into();
    }
    out
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A capture being written; removed on drop unless committed.
#[derive(Debug)]
pub(crate) struct Pending {
    dir: PathBuf,
    done: PathBuf,
    committed: bool,
}

impl Pending {
    /// A file of the capture, while it is written.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `meta.json` and makes the capture visible.
    pub fn commit(mut self, meta: Meta) -> Result<Capture, CaptureError> {
        let text = serde_json::to_string_pretty(&meta).unwrap_or_default();
        let mj = self.dir.join("meta.json");
        std::fs::write(&mj, text + "\n").map_err(CaptureError::io(&mj))?;
        std::fs::rename(&self.dir, &self.done).map_err(CaptureError::io(&self.done))?;
        self.committed = true;
        let bin = self.done.join("bin");
        Ok(Capture {
            file: self.done.join(meta.what.file_name()),
            binary: bin.is_file().then_some(bin),
            dir: self.done.clone(),
            meta,
        })
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Outcome;
    use crate::meta::{Kind, META_VERSION};

    fn meta(name: &str) -> Meta {
        Meta {
            version: META_VERSION,
            kind: Kind::Service,
            name: name.into(),
            started: "2026-01-01T00:00:00Z".into(),
            duration_ms: 1,
            outcome: Outcome::Complete,
            exit_code: None,
            trace_bytes: 0,
            warnings: vec![],
            package: None,
            dir: None,
            pattern: None,
            go: None,
            build: None,
            run: None,
            what: Default::default(),
            url: None,
            seconds: None,
        }
    }

    #[test]
    fn commit_list_prune() {
        let ws = tempfile::tempdir().unwrap();
        let store = Store::for_workspace(ws.path(), None).unwrap();
        assert_eq!(store.root(), ws.path().join(".goblock/captures"));
        assert!(ws.path().join(".goblock/.gitignore").is_file());
        let mut dirs = Vec::new();
        for i in 0..4 {
            let p = store.begin(&format!("Test A/{i}")).unwrap();
            std::fs::write(p.path("trace"), b"go 1.26 trace\0\0\0").unwrap();
            dirs.push(p.commit(meta(&i.to_string())).unwrap().dir);
        }
        // Same second: distinct names; the label is made safe.
        let names: Vec<String> = dirs
            .iter()
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names[0].ends_with("-Test_A_0"), "{names:?}");
        let listed = store.list();
        assert_eq!(listed.len(), 4);
        let removed = store.prune(2);
        assert_eq!(removed.len(), 2);
        let left: Vec<String> = store.list().iter().map(|c| c.meta.name.clone()).collect();
        assert_eq!(left.len(), 2);
        // A dropped (failed, cancelled) capture leaves nothing.
        let p = store.begin("gone").unwrap();
        std::fs::write(p.path("trace"), b"half").unwrap();
        drop(p);
        assert_eq!(std::fs::read_dir(store.root()).unwrap().count(), 2);
    }

    #[test]
    fn workspace_roots() {
        let w = tempfile::tempdir().unwrap();
        let app = w.path().join("app/cmd");
        std::fs::create_dir_all(&app).unwrap();
        assert_eq!(workspace_root(&app), app);
        std::fs::write(w.path().join("app/go.mod"), "module a\n").unwrap();
        assert_eq!(workspace_root(&app), w.path().join("app"));
        std::fs::write(w.path().join("go.work"), "go 1.22\n").unwrap();
        assert_eq!(workspace_root(&app), w.path());
    }

    #[test]
    fn unwritable_workspace_falls_back_to_the_cache() {
        let ws = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        // `.goblock` is a file: the workspace cannot hold captures (the same
        // path as a read-only workspace; root ignores permission bits).
        std::fs::write(ws.path().join(".goblock"), b"").unwrap();
        let store = Store::for_workspace(ws.path(), Some(cache.path())).unwrap();
        assert!(store.root().starts_with(cache.path()), "{store:?}");
        let why = store.fallback.as_deref().unwrap();
        assert!(why.contains("cannot be written"), "{why}");
        assert!(Store::for_workspace(ws.path(), None).is_err());
        // Readers find it without writing anything.
        let found = Store::existing(ws.path(), Some(cache.path())).unwrap();
        assert_eq!(found.root(), store.root());
        let other = tempfile::tempdir().unwrap();
        assert_eq!(Store::existing(other.path(), Some(cache.path())), None);
        assert!(!other.path().join(".goblock").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_mode_is_respected_even_by_root() {
        use std::os::unix::fs::PermissionsExt;
        let ws = tempfile::tempdir().unwrap();
        let module = ws.path().join("golang.org/x/sync@v0.25.0");
        std::fs::create_dir_all(&module).unwrap();
        std::fs::set_permissions(&module, std::fs::Permissions::from_mode(0o555)).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let store = Store::for_workspace(&module, Some(cache.path())).unwrap();
        std::fs::set_permissions(&module, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(store.root().starts_with(cache.path()), "{store:?}");
        let why = store.fallback.as_deref().unwrap();
        assert!(why.contains("read-only, like the Go module cache"), "{why}");
        assert!(!module.join(".goblock").exists());
    }

    #[test]
    fn go_own_source_tree_is_never_written() {
        let goroot = tempfile::tempdir().unwrap();
        let src = goroot.path().join("src");
        std::fs::create_dir_all(src.join("sync")).unwrap();
        std::fs::write(src.join("go.mod"), "module std\n\ngo 1.26\n").unwrap();
        let cache = tempfile::tempdir().unwrap();
        let store = Store::for_workspace(&src.join("sync"), Some(cache.path())).unwrap();
        assert!(store.root().starts_with(cache.path()), "{store:?}");
        let why = store.fallback.as_deref().unwrap();
        assert!(why.contains("Go's own source tree (module std)"), "{why}");
        assert!(!src.join("sync/.goblock").exists());
        // A user's module is written as before.
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(ws.path().join("go.mod"), "module example.com/std\n").unwrap();
        let store = Store::for_workspace(ws.path(), Some(cache.path())).unwrap();
        assert!(store.root().starts_with(ws.path()), "{store:?}");
    }
}
