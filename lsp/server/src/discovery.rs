//! Finds trace files and binaries: walks the workspace folders matching the
//! `goblock.traces` globs (skipping `.git`, `vendor`, `node_modules`, …;
//! following symlinks, without loops) and collects configured absolute
//! paths; resolves `goblock.binaries`.
//!
//! Decides which traces to load (the newest glob match plus every explicit
//! path that is a regular file; the older matches, newest first, are the
//! stand-ins when the newest cannot be shown) and names what it does not use, with the
//! reason: configured paths that are missing or not regular files, matches
//! that are FIFOs or broken links, directories it cannot read. Reads only
//! directory entries and metadata; knows no LSP types and does not load
//! anything.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Directories never searched.
pub const SKIPPED: &[&str] = &[".git", "vendor", "node_modules", ".hg", ".svn", "target"];

/// The configured trace patterns, split into globs and explicit paths.
#[derive(Clone, Debug)]
pub struct TracePatterns {
    relative: GlobSet,
    absolute: GlobSet,
    /// Absolute paths without glob characters: always loaded when present.
    pub explicit: Vec<PathBuf>,
    has_absolute_globs: bool,
    /// Patterns that did not parse.
    pub errors: Vec<String>,
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

impl TracePatterns {
    /// Compiles `patterns` (the `goblock.traces` setting).
    pub fn new(patterns: &[String]) -> Self {
        let mut rel = GlobSetBuilder::new();
        let mut abs = GlobSetBuilder::new();
        let mut explicit = Vec::new();
        let mut errors = Vec::new();
        let mut has_abs = false;
        for p in patterns {
            let absolute = Path::new(p).is_absolute();
            if absolute && !is_glob(p) {
                explicit.push(PathBuf::from(p));
                continue;
            }
            match Glob::new(p) {
                Ok(g) if absolute => {
                    abs.add(g);
                    has_abs = true;
                }
                Ok(g) => {
                    rel.add(g);
                }
                Err(e) => errors.push(format!("goblock.traces: {p}: {e}")),
            }
        }
        TracePatterns {
            relative: rel.build().unwrap_or_else(|_| GlobSet::empty()),
            absolute: abs.build().unwrap_or_else(|_| GlobSet::empty()),
            explicit,
            has_absolute_globs: has_abs,
            errors,
        }
    }

    /// Whether `path` (absolute) is a trace file by these patterns, given the roots.
    pub fn matches(&self, roots: &[PathBuf], path: &Path) -> bool {
        if self.explicit.iter().any(|e| e == path) || self.absolute.is_match(path) {
            return true;
        }
        if path
            .components()
            .any(|c| SKIPPED.iter().any(|s| c.as_os_str() == *s))
        {
            return false;
        }
        roots.iter().any(|r| {
            path.strip_prefix(r)
                .is_ok_and(|rel| self.relative.is_match(rel))
        })
    }

    /// Walks the roots for matching files, newest first, following
    /// symlinks (a loop is reported, not followed). What matches but cannot
    /// be used (a FIFO, a broken link) and directories that cannot be read
    /// are in [`Found::skipped`], each once.
    pub fn find(&self, roots: &[PathBuf]) -> Found {
        let mut found = Found::default();
        let mut walk = |root: &Path, matcher: &dyn Fn(&Path) -> bool| {
            let it = walkdir::WalkDir::new(root)
                .follow_links(true)
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0
                        || !(e.file_type().is_dir() && SKIPPED.iter().any(|s| e.file_name() == *s))
                });
            for e in it {
                let e = match e {
                    Ok(e) => e,
                    Err(err) => {
                        if let Some(u) = walk_error(&err, matcher) {
                            found.skip(u);
                        }
                        continue;
                    }
                };
                if e.file_type().is_dir() || !matcher(e.path()) {
                    continue;
                }
                if !e.file_type().is_file() {
                    // A FIFO, socket or device that matches: name it.
                    if let Err(err) = goblock_analysis::input::regular_file(e.path()) {
                        found.skip(Unused::new(e.path(), &err));
                    }
                    continue;
                }
                let mtime = e
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                found.files.push((e.path().to_path_buf(), mtime));
            }
        };
        for r in roots {
            walk(r, &|p: &Path| {
                p.strip_prefix(r)
                    .is_ok_and(|rel| self.relative.is_match(rel))
            });
        }
        if self.has_absolute_globs {
            // Walk from the longest literal prefix of each absolute glob is
            // overkill here: absolute globs are rare; check the roots only.
            for r in roots {
                walk(r, &|p: &Path| self.absolute.is_match(p));
            }
        }
        found
            .files
            .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        found.files.dedup_by(|a, b| a.0 == b.0);
        found
    }

    /// The traces to load: every explicit path that is a regular file (in
    /// configured order) plus the newest glob match; every configured path
    /// not used, and what could not be searched, with the reason.
    pub fn select(&self, roots: &[PathBuf]) -> Selection {
        let mut sel = Selection::default();
        for p in &self.explicit {
            match goblock_analysis::input::regular_file(p) {
                Ok(_) => sel.traces.push(p.clone()),
                Err(e) => sel.unused.push(Unused::new(p, &e)),
            }
        }
        let found = self.find(roots);
        let mut matches: Vec<PathBuf> = found
            .files
            .into_iter()
            .map(|f| f.0)
            .take(MAX_STAND_INS + 1)
            .collect();
        // The newest already configured explicitly: nothing more.
        if matches.first().is_some_and(|n| sel.traces.contains(n)) {
            matches.clear();
        }
        matches.retain(|p| !sel.traces.contains(p));
        if !matches.is_empty() {
            let newest = matches.remove(0);
            sel.traces.push(newest.clone());
            sel.newest = Some(newest);
        }
        sel.older = matches;
        sel.skipped = found.skipped;
        sel
    }
}

/// A path that is not used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unused {
    /// The path.
    pub path: PathBuf,
    /// Why, as one line naming the path ("…/pipe.trace: is a pipe (FIFO),
    /// not a regular file").
    pub message: String,
}

impl Unused {
    fn new(path: &Path, why: &dyn std::fmt::Display) -> Unused {
        Unused {
            path: path.to_path_buf(),
            message: why.to_string(),
        }
    }
}

/// What [`TracePatterns::find`] found.
#[derive(Debug, Default)]
pub struct Found {
    /// Matching regular files (or symlinks to them), newest first.
    pub files: Vec<(PathBuf, SystemTime)>,
    /// Matches that are not regular files, and directories that could not
    /// be searched.
    pub skipped: Vec<Unused>,
}

impl Found {
    fn skip(&mut self, u: Unused) {
        if !self.skipped.iter().any(|s| s.path == u.path) {
            self.skipped.push(u);
        }
    }
}

/// How many older glob matches may stand in for the newest.
pub const MAX_STAND_INS: usize = 4;

/// What [`TracePatterns::select`] chose.
#[derive(Debug, Default)]
pub struct Selection {
    /// The traces to load.
    pub traces: Vec<PathBuf>,
    /// The newest glob match (among `traces`).
    pub newest: Option<PathBuf>,
    /// The next newest glob matches, newest first (at most
    /// [`MAX_STAND_INS`]): shown instead of the newest while it cannot be
    /// (not a trace, or still being written with nothing complete yet).
    pub older: Vec<PathBuf>,
    /// Configured (explicit) paths that are not used.
    pub unused: Vec<Unused>,
    /// Workspace entries that were skipped (see [`Found::skipped`]).
    pub skipped: Vec<Unused>,
}

/// The message for a directory that cannot be read (said by discovery and
/// by the watcher, in the same words, so that it is said once).
pub fn unreadable(dir: &Path, e: &std::io::Error) -> String {
    format!(
        "{}: cannot be read ({}); skipped",
        dir.display(),
        goblock_analysis::input::io_reason(e)
    )
}

/// An error of the walk worth saying: a directory that cannot be read (its
/// traces are not searched), a symlink loop, or a matching path that
/// cannot be resolved (a broken or looping link).
fn walk_error(err: &walkdir::Error, matcher: &dyn Fn(&Path) -> bool) -> Option<Unused> {
    let path = err.path()?;
    if err.loop_ancestor().is_some() {
        return Some(Unused::new(
            path,
            &format!("{}: a symbolic link loop; not followed", path.display()),
        ));
    }
    let io = err.io_error()?;
    if io.kind() == std::io::ErrorKind::PermissionDenied {
        return Some(Unused::new(path, &unreadable(path, io)));
    }
    if !matcher(path) {
        return None;
    }
    match goblock_analysis::input::regular_file(path) {
        Err(e) => Some(Unused::new(path, &e)),
        Ok(_) => Some(Unused::new(
            path,
            &format!(
                "{}: {}",
                path.display(),
                goblock_analysis::input::io_reason(io)
            ),
        )),
    }
}

/// `goblock.binaries`, resolved: the regular files, in configured order
/// (a relative entry tried in every root), and the entries not used, why.
#[derive(Debug, Default)]
pub struct Binaries {
    /// Files to try, in order.
    pub paths: Vec<PathBuf>,
    /// Entries that name no usable file.
    pub unused: Vec<Unused>,
}

/// Resolves `goblock.binaries` entries (absolute, or relative to a root).
pub fn resolve_binaries(roots: &[PathBuf], binaries: &[String]) -> Binaries {
    let mut out = Binaries::default();
    for b in binaries {
        let p = Path::new(b);
        let cands: Vec<PathBuf> = if p.is_absolute() {
            vec![p.to_path_buf()]
        } else {
            roots.iter().map(|r| r.join(p)).collect()
        };
        let mut why = Vec::new();
        let before = out.paths.len();
        for c in cands {
            match goblock_analysis::input::regular_file(&c) {
                Ok(_) if !out.paths.contains(&c) => out.paths.push(c),
                Ok(_) => {}
                Err(e) => why.push(e.to_string()),
            }
        }
        if out.paths.len() == before && !why.is_empty() {
            out.unused.push(Unused::new(
                p,
                &format!("goblock.binaries: {}", why.join("; ")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_newest_and_skips_vendor() {
        let dir = std::env::temp_dir().join(format!("goblock-disc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/vendor")).unwrap();
        std::fs::create_dir_all(dir.join("node_modules")).unwrap();
        std::fs::write(dir.join("a/old.trace"), b"x").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("trace.out"), b"x").unwrap();
        std::fs::write(dir.join("a/vendor/v.trace"), b"x").unwrap();
        std::fs::write(dir.join("node_modules/n.trace"), b"x").unwrap();
        std::fs::write(dir.join("a/x.go"), b"x").unwrap();
        let roots = vec![dir.clone()];
        let pats = TracePatterns::new(
            &crate::config::DEFAULT_TRACE_GLOBS
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        );
        let found: Vec<PathBuf> = pats.find(&roots).files.into_iter().map(|f| f.0).collect();
        assert_eq!(found, vec![dir.join("trace.out"), dir.join("a/old.trace")]);
        let sel = pats.select(&roots);
        assert_eq!(sel.traces, vec![dir.join("trace.out")]);
        assert_eq!(sel.newest, Some(dir.join("trace.out")));
        assert_eq!(sel.older, vec![dir.join("a/old.trace")]);
        assert!(pats.matches(&roots, &dir.join("b/c.trace")));
        assert!(!pats.matches(&roots, &dir.join("a/vendor/v.trace")));
        assert!(!pats.matches(&roots, &dir.join("a/x.go")));
        let explicit = dir.join("a/old.trace").to_string_lossy().into_owned();
        let pats = TracePatterns::new(&[explicit, "*.out".into()]);
        assert_eq!(
            pats.select(&roots).traces,
            vec![dir.join("a/old.trace"), dir.join("trace.out")]
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
