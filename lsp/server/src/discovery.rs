//! Finds trace files and binaries: walks the workspace folders matching the
//! `goblock.traces` globs (skipping `.git`, `vendor`, `node_modules`, …) and
//! collects configured absolute paths; resolves `goblock.binaries`.
//!
//! Decides which traces to load (the newest glob match plus every explicit
//! path). Reads only directory entries and metadata; knows no LSP types and
//! does not load anything.

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

    /// Walks the roots for matching files, newest first.
    pub fn find(&self, roots: &[PathBuf]) -> Vec<(PathBuf, SystemTime)> {
        let mut out = Vec::new();
        let mut walk = |root: &Path, matcher: &dyn Fn(&Path) -> bool| {
            let it = walkdir::WalkDir::new(root)
                .follow_links(false)
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0
                        || !(e.file_type().is_dir() && SKIPPED.iter().any(|s| e.file_name() == *s))
                });
            for e in it.flatten() {
                if !e.file_type().is_file() || !matcher(e.path()) {
                    continue;
                }
                let mtime = e
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                out.push((e.path().to_path_buf(), mtime));
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
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// The traces to load: the newest glob match plus every explicit path
    /// that exists (explicit first, in configured order).
    pub fn select(&self, roots: &[PathBuf]) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .explicit
            .iter()
            .filter(|p| p.is_file())
            .cloned()
            .collect();
        if let Some((newest, _)) = self.find(roots).into_iter().next()
            && !v.contains(&newest)
        {
            v.push(newest);
        }
        v
    }
}

/// Resolves `goblock.binaries` entries (absolute, or relative to a root);
/// the existing files, in configured order.
pub fn resolve_binaries(roots: &[PathBuf], binaries: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for b in binaries {
        let p = Path::new(b);
        let cands: Vec<PathBuf> = if p.is_absolute() {
            vec![p.to_path_buf()]
        } else {
            roots.iter().map(|r| r.join(p)).collect()
        };
        for c in cands {
            if c.is_file() && !out.contains(&c) {
                out.push(c);
            }
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
        let found: Vec<PathBuf> = pats.find(&roots).into_iter().map(|f| f.0).collect();
        assert_eq!(found, vec![dir.join("trace.out"), dir.join("a/old.trace")]);
        assert_eq!(pats.select(&roots), vec![dir.join("trace.out")]);
        assert!(pats.matches(&roots, &dir.join("b/c.trace")));
        assert!(!pats.matches(&roots, &dir.join("a/vendor/v.trace")));
        assert!(!pats.matches(&roots, &dir.join("a/x.go")));
        let explicit = dir.join("a/old.trace").to_string_lossy().into_owned();
        let pats = TracePatterns::new(&[explicit, "*.out".into()]);
        assert_eq!(
            pats.select(&roots),
            vec![dir.join("a/old.trace"), dir.join("trace.out")]
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
