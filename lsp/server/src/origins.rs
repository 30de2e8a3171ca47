//! The texts the snapshot's lines were recorded in: for each workspace
//! file the snapshot names (annotated, or linked as a waker or creation
//! site), the text it had when the oldest input was recorded, when the
//! server saw it — read while the file was not modified since then, and
//! kept across snapshots of the same inputs, so that edits saved later
//! (with or without an editor) still diff against it. Without the traced
//! binary's declaration lines this diff is the only evidence of where a
//! recorded line is now ([`SinceTrace`], rules in `crate::stale`).
//!
//! A file not seen then, but modified after the inputs were recorded, may
//! still be told: when the inputs are committed (a fresh clone gives every
//! file the clone's time), its text in their commit ([`Committed`]) is the
//! text at the trace ([`since_unseen`]).
//!
//! Kept as one hash per line, not as text. Library files (Go's, the
//! module cache's) are not kept: Go's change only with a new toolchain, and
//! are then stale; the module cache's never (a new version is a new
//! directory), whatever their modification time. Reads files when built
//! (and runs `git` for [`Committed`]); knows no LSP types.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::SystemTime;

use crate::annotations::AnnotationIndex;
use crate::client_paths::ClientPaths;
use crate::docs::{LineDiff, line_hashes};
use crate::stale::SinceTrace;

/// Line hashes of files as they were at the trace.
#[derive(Debug, Default)]
pub struct Origins {
    /// Modification time of the oldest input (see `Snapshot::traced_at`).
    traced_at: Option<SystemTime>,
    /// By the file's name in the index (the client's name).
    lines: HashMap<Arc<str>, Arc<[u64]>>,
}

/// The file at `path` was modified after `traced_at` (or cannot be told).
/// A file of the module cache never is: its directory is named by its
/// module's version (`…/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/…`),
/// whose text is fixed, whenever the directory was downloaded.
fn changed_since(path: &str, traced_at: Option<SystemTime>) -> bool {
    let Some(traced) = traced_at else {
        return false;
    };
    if in_versioned_module(path) {
        return false;
    }
    match std::fs::metadata(path).and_then(|m| m.modified()) {
        Ok(m) => m > traced,
        Err(_) => true,
    }
}

/// `path` lies in a directory named `module@version` (the module cache's
/// layout: `$GOMODCACHE/github.com/!burnt!sushi/toml@v1.3.2/decode.go`).
fn in_versioned_module(path: &str) -> bool {
    Path::new(path).components().any(|c| {
        c.as_os_str()
            .to_str()
            .and_then(|c| c.split_once("@v"))
            .is_some_and(|(module, v)| {
                !module.is_empty() && v.starts_with(|d: char| d.is_ascii_digit())
            })
    })
}

/// The line hashes of `path` if it was not modified after `traced_at`
/// before, while and after it was read.
fn read_unchanged(path: &str, traced_at: Option<SystemTime>) -> Option<Arc<[u64]>> {
    if changed_since(path, traced_at) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    if changed_since(path, traced_at) {
        return None;
    }
    Some(line_hashes(&text).into())
}

/// How `text`, the file `path` now, relates to `old`, its line hashes at
/// the trace.
fn since_text(old: &[u64], text: &str) -> SinceTrace {
    let now = line_hashes(text);
    if *old == *now {
        SinceTrace::Unchanged
    } else {
        SinceTrace::Diffed(LineDiff::new(old, &now))
    }
}

/// How `text`, the file `path` now, relates to its text at the trace when
/// that text was not seen: the same when the file was not modified after
/// `traced_at`; else diffed against its text in the inputs' commit
/// (`committed`, asked only then); else unknown.
pub fn since_unseen<'c>(
    path: &str,
    text: &str,
    traced_at: Option<SystemTime>,
    committed: impl FnOnce() -> Option<&'c Committed>,
) -> SinceTrace {
    if !changed_since(path, traced_at) {
        return SinceTrace::Unchanged;
    }
    match committed().and_then(|c| c.text(path)) {
        Some(old) => since_text(&line_hashes(&old), text),
        None => SinceTrace::Unknown,
    }
}

/// The commit the inputs were last changed in, when all were in the same
/// one and none changed since: the sources' texts in it are the texts the
/// inputs' lines were recorded in (as well as a modification time older
/// than the inputs tells it: a program is built, traced, and the trace
/// committed with its sources).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The work tree's top directory (resolved).
    root: PathBuf,
    /// Full hash.
    commit: String,
}

/// `git -C dir args…`'s output, when it exits 0.
fn git(dir: &Path, args: &[&std::ffi::OsStr]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}

impl Committed {
    /// The commit of `inputs`, if they are committed, unchanged since, and
    /// in the same commit of the same work tree.
    pub fn of_inputs(inputs: &[PathBuf]) -> Option<Committed> {
        let mut found: Option<Committed> = None;
        for input in inputs {
            let input = std::fs::canonicalize(input).ok()?;
            let (dir, name) = (input.parent()?, input.file_name()?);
            let root = git(dir, &["rev-parse".as_ref(), "--show-toplevel".as_ref()])?;
            let root = std::fs::canonicalize(root.trim_end()).ok()?;
            let log = ["log", "-1", "--format=%H", "--"].map(std::ffi::OsStr::new);
            let commit = git(dir, &[&log[..], &[name]].concat())?.trim().to_owned();
            if commit.is_empty() {
                return None;
            }
            // Not changed in the work tree since it was committed.
            let diff = ["diff", "--quiet", &commit, "--"].map(std::ffi::OsStr::new);
            git(dir, &[&diff[..], &[name]].concat())?;
            let c = Committed { root, commit };
            match &found {
                Some(f) if *f != c => return None,
                _ => found = Some(c),
            }
        }
        found
    }

    /// The text of the file at `path` in that commit.
    pub fn text(&self, path: &str) -> Option<String> {
        let path = std::fs::canonicalize(path).ok()?;
        let rel = path.strip_prefix(&self.root).ok()?;
        let rel: Vec<&str> = rel
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect::<Option<_>>()?;
        let spec = format!("{}:{}", self.commit, rel.join("/"));
        git(&self.root, &["show".as_ref(), spec.as_ref()])
    }
}

impl Origins {
    /// The texts of the workspace files `index` names (its files and the
    /// sites it links to), for `inputs` recorded at `traced_at`: from
    /// `prev` when it was built for the same inputs' time, else read now
    /// when unchanged since, else from the inputs' commit ([`Committed`]).
    pub fn collect(
        index: &AnnotationIndex,
        inputs: &[PathBuf],
        traced_at: Option<SystemTime>,
        client_paths: &ClientPaths,
        prev: &Origins,
    ) -> Origins {
        let mut paths: Vec<Arc<str>> = Vec::new();
        for (path, fa) in &index.files {
            if fa.in_workspace {
                paths.push(path.clone());
            }
            for a in &fa.lines {
                let sites = a
                    .wakers
                    .iter()
                    .filter_map(|w| w.site.as_ref())
                    .chain(
                        a.parked
                            .iter()
                            .flat_map(|p| [&p.parked.waker_site, &p.parked.creator_site])
                            .flatten(),
                    )
                    .chain(
                        a.parked_now
                            .iter()
                            .flat_map(|p| &p.groups)
                            .filter_map(|g| g.group.creator.as_ref()),
                    );
                for s in sites.filter(|s| s.found && s.in_workspace) {
                    paths.push(client_paths.name(&s.file).into());
                }
            }
        }
        paths.sort_unstable();
        paths.dedup();
        let same_inputs = prev.traced_at == traced_at;
        let committed = std::cell::OnceCell::new();
        let lines = paths
            .into_iter()
            .filter_map(|p| {
                let kept = same_inputs.then(|| prev.lines.get(&p).cloned()).flatten();
                let l = kept.or_else(|| read_unchanged(&p, traced_at)).or_else(|| {
                    let c = committed.get_or_init(|| Committed::of_inputs(inputs));
                    let text = c.as_ref()?.text(&p)?;
                    Some(line_hashes(&text).into())
                })?;
                Some((p, l))
            })
            .collect();
        Origins { traced_at, lines }
    }

    /// How `text`, the file `path` now, relates to its text at the trace.
    pub fn since(&self, path: &str, text: &str) -> SinceTrace {
        match self.lines.get(path) {
            Some(old) => since_text(old, text),
            None => since_unseen(path, text, self.traced_at, || None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotations::Annotation;
    use std::time::Duration;

    fn set_mtime(p: &std::path::Path, t: SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn a_text_seen_unchanged_is_the_evidence_for_later_saves() {
        let dir = std::env::temp_dir().join(format!("goblock-origins-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.go"), dir.join("b.go"));
        let text = "package a\n\nfunc f() {\n\t<-ch\n}\n";
        std::fs::write(&a, text).unwrap();
        std::fs::write(&b, text).unwrap();
        let traced = SystemTime::now() - Duration::from_secs(60);
        set_mtime(&a, traced - Duration::from_secs(60));
        // b saved after the trace, before the server saw it.
        let at = Annotation {
            line: 4,
            function: "a.f".into(),
            ..Default::default()
        };
        let index = AnnotationIndex::of_files([&a, &b], &at);
        let paths = ClientPaths::default();
        let o = Origins::collect(&index, &[], Some(traced), &paths, &Origins::default());
        assert_eq!(o.lines.len(), 1, "only a was unchanged since the trace");
        let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
        assert_eq!(o.since(a, text), SinceTrace::Unchanged);
        assert_eq!(o.since(b, text), SinceTrace::Unknown);
        // a edited and saved: its lines diff against the text at the trace,
        // in this snapshot and in the next one of the same inputs.
        let edited = format!("// x\n// y\n{text}");
        std::fs::write(a, &edited).unwrap();
        let next = Origins::collect(&index, &[], Some(traced), &paths, &o);
        for o in [&o, &next] {
            match o.since(a, &edited) {
                SinceTrace::Diffed(d) => assert_eq!(d.line(3), Some(5)),
                other => panic!("{other:?}"),
            }
        }
        // Another input's time: the old text is not evidence for it.
        let other = Origins::collect(
            &index,
            &[],
            Some(traced + Duration::from_secs(1)),
            &paths,
            &o,
        );
        assert!(other.lines.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A module-cache file downloaded after the trace (a fresh machine, a
    /// cleaned cache) is the text the trace's lines were recorded in; the
    /// same file outside a versioned directory is not known to be.
    #[test]
    fn a_module_cache_file_is_unchanged_whatever_its_time() {
        let dir = std::env::temp_dir().join(format!("goblock-modcache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cached = dir.join("pkg/mod/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/src/sync");
        let copied = dir.join("src/sync");
        let text = "package sync\n\nfunc (c *Cond) Wait() {\n\truntime_notifyListWait()\n}\n";
        let traced = SystemTime::now() - Duration::from_secs(60);
        let mut since = Vec::new();
        for d in [&cached, &copied] {
            std::fs::create_dir_all(d).unwrap();
            let f = d.join("cond.go");
            std::fs::write(&f, text).unwrap();
            since.push(since_unseen(
                f.to_str().unwrap(),
                text,
                Some(traced),
                || None,
            ));
        }
        assert_eq!(since, [SinceTrace::Unchanged, SinceTrace::Unknown]);
        assert!(!in_versioned_module("/home/u/src/app@work/main.go"));
        assert!(in_versioned_module(
            "/home/u/go/pkg/mod/github.com/!burnt!sushi/toml@v1.3.2/decode.go"
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
