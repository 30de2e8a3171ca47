//! How the client names files: a file under a workspace root that the
//! client gave through a symbolic link (`/home/me/ws` → `/data/ws`) is
//! named through that link, whatever form the analysis or the recorded
//! path used (`/data/ws/main.go`, a recorded path that exists). Diagnostics
//! of closed files, `goblock.hotLines` and links are published under these
//! names so that the editor does not open a second buffer for the same
//! file; canonical paths are used only to compare. Labels name a
//! workspace file by its path below its root (`shopd/pipeline.go`), as the
//! editor's explorer does, not by a base name another file may share.
//!
//! Reads the file system (canonical forms); knows no LSP types.

use std::path::{Path, PathBuf};

/// The workspace roots as the client gave them, with their canonical form.
#[derive(Debug, Default)]
pub struct ClientPaths {
    /// (as given, canonical) of each root whose two forms differ.
    roots: Vec<(PathBuf, PathBuf)>,
    /// (as given, canonical) of every root.
    all: Vec<(PathBuf, PathBuf)>,
}

impl ClientPaths {
    /// The mapping for roots as the client gave them.
    pub fn new(given: &[PathBuf]) -> ClientPaths {
        let all: Vec<(PathBuf, PathBuf)> = given
            .iter()
            .map(|g| {
                let c = std::fs::canonicalize(g).unwrap_or_else(|_| g.clone());
                (g.clone(), c)
            })
            .collect();
        let roots = all.iter().filter(|(g, c)| g != c).cloned().collect();
        ClientPaths { roots, all }
    }

    /// The client's name of `path` when it differs from `path`: under a
    /// root given through a symlink, the path through that link.
    pub fn display(&self, path: &str) -> Option<String> {
        if self.roots.is_empty() {
            return None;
        }
        let p = Path::new(path);
        if self.roots.iter().any(|(g, _)| p.starts_with(g)) {
            return None;
        }
        let canonical;
        let p = if self.roots.iter().any(|(_, c)| p.starts_with(c)) {
            p
        } else {
            canonical = std::fs::canonicalize(p).ok()?;
            canonical.as_path()
        };
        self.roots.iter().find_map(|(g, c)| {
            let rest = p.strip_prefix(c).ok()?;
            Some(g.join(rest).to_string_lossy().into_owned())
        })
    }

    /// `path` as the client names it.
    pub fn name(&self, path: &str) -> String {
        self.display(path).unwrap_or_else(|| path.to_owned())
    }

    /// The client's name of `path` below the workspace root that holds it
    /// (the innermost one): `shopd/pipeline.go`; `None` outside every root.
    pub fn relative(&self, path: &str) -> Option<String> {
        let name = self.name(path);
        let p = Path::new(&name);
        self.all
            .iter()
            .filter_map(|(g, c)| p.strip_prefix(g).or_else(|_| p.strip_prefix(c)).ok())
            .filter(|r| !r.as_os_str().is_empty())
            .min_by_key(|r| r.components().count())
            .map(|r| r.to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn files_under_a_symlinked_root_are_named_through_the_link() {
        let dir = std::env::temp_dir().join(format!("goblock-client-paths-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let real = dir.join("real");
        std::fs::create_dir_all(real.join("pkg")).unwrap();
        std::fs::write(real.join("pkg/a.go"), "package pkg\n").unwrap();
        let real = std::fs::canonicalize(&real).unwrap();
        let link = std::fs::canonicalize(&dir).unwrap().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let paths = ClientPaths::new(std::slice::from_ref(&link));
        let a = real.join("pkg/a.go").to_string_lossy().into_owned();
        let want = link.join("pkg/a.go").to_string_lossy().into_owned();
        assert_eq!(paths.display(&a).as_deref(), Some(want.as_str()));
        assert_eq!(paths.display(&want), None, "already the client's name");
        assert_eq!(paths.display("/usr/lib/go/src/sync/mutex.go"), None);
        // Roots given without a link change nothing.
        let same = ClientPaths::new(std::slice::from_ref(&real));
        assert_eq!(same.display(&a), None);
        // Below its root, under either name; the innermost root counts.
        assert_eq!(paths.relative(&a).as_deref(), Some("pkg/a.go"));
        assert_eq!(paths.relative(&want).as_deref(), Some("pkg/a.go"));
        assert_eq!(same.relative(&a).as_deref(), Some("pkg/a.go"));
        let nested = ClientPaths::new(&[real.clone(), real.join("pkg")]);
        assert_eq!(nested.relative(&a).as_deref(), Some("a.go"));
        assert_eq!(paths.relative("/usr/lib/go/src/sync/mutex.go"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
