//! Maps file paths recorded in a trace or binary onto files of this machine's
//! workspace, and classifies frames as workspace / dependency / standard
//! library code.
//!
//! Handles: paths that exist as recorded; user substitutions (`from` → `to`
//! prefixes, as Delve's `substitutePath`); absolute build paths from another
//! machine (longest common suffix with a workspace file, or the module path
//! from `go.mod`); `-trimpath` paths (`module/path/file.go`,
//! `module@version/file.go`, `runtime/chan.go`); GOROOT and module-cache
//! files. It reads `go.mod` files and checks existence on disk; it does not
//! read sources or know anything of traces.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A prefix substitution for recorded paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Substitution {
    /// Recorded prefix.
    pub from: String,
    /// Local prefix.
    pub to: String,
}

/// Where a recorded file lives on this machine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    /// Inside a workspace root.
    Workspace(PathBuf),
    /// Found on disk outside the workspace (GOROOT, module cache, elsewhere).
    Outside(PathBuf),
    /// Not found on this machine.
    NotFound,
}

impl Location {
    /// The local path, when found.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Location::Workspace(p) | Location::Outside(p) => Some(p),
            Location::NotFound => None,
        }
    }
}

/// What kind of code a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeClass {
    /// A file of the user's workspace.
    Workspace,
    /// Not in the workspace, not the standard library, not a module-cache
    /// dependency (e.g. user code of a binary built elsewhere, not found).
    Other,
    /// A third-party module (module cache, vendor).
    Dependency,
    /// The Go standard library or runtime.
    Std,
}

/// The user's workspace: roots, Go modules found in them, substitutions.
#[derive(Debug)]
pub struct Workspace {
    roots: Vec<PathBuf>,
    modules: Vec<(String, PathBuf)>,
    substitutions: Vec<Substitution>,
    goroot: Option<PathBuf>,
    gomodcache: Option<PathBuf>,
    cache: Mutex<HashMap<String, Location>>,
}

/// Directories never searched for go.mod files or sources.
pub const SKIPPED_DIRS: &[&str] = &[".git", "vendor", "node_modules", "target", ".hg", ".svn"];

impl Workspace {
    /// A workspace of `roots` (made absolute), reading `go.mod` files up to
    /// four directories deep. `goroot` / `gomodcache` locate library sources
    /// (pass `None` to skip those lookups).
    pub fn new(
        roots: &[PathBuf],
        substitutions: Vec<Substitution>,
        goroot: Option<PathBuf>,
        gomodcache: Option<PathBuf>,
    ) -> Self {
        let roots: Vec<PathBuf> = roots
            .iter()
            .map(|r| std::fs::canonicalize(r).unwrap_or_else(|_| r.clone()))
            .collect();
        let mut modules = Vec::new();
        for r in &roots {
            find_modules(r, 0, &mut modules);
        }
        // Longest module path first so nested modules win.
        modules.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
        Workspace {
            roots,
            modules,
            substitutions,
            goroot,
            gomodcache,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The workspace roots.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The Go modules found: (module path, directory).
    pub fn modules(&self) -> &[(String, PathBuf)] {
        &self.modules
    }

    /// Whether a local path is inside a workspace root.
    pub fn contains(&self, p: &Path) -> bool {
        self.roots.iter().any(|r| p.starts_with(r))
    }

    /// Locates a recorded path (memoised).
    pub fn locate(&self, recorded: &str) -> Location {
        if let Ok(c) = self.cache.lock()
            && let Some(l) = c.get(recorded)
        {
            return l.clone();
        }
        let l = self.locate_uncached(recorded);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(recorded.to_owned(), l.clone());
        }
        l
    }

    fn classify_local(&self, p: PathBuf) -> Location {
        let p = std::fs::canonicalize(&p).unwrap_or(p);
        if self.contains(&p) {
            Location::Workspace(p)
        } else {
            Location::Outside(p)
        }
    }

    fn locate_uncached(&self, recorded: &str) -> Location {
        if recorded.is_empty() {
            return Location::NotFound;
        }
        // 1. User substitutions.
        for s in &self.substitutions {
            if let Some(rest) = recorded.strip_prefix(&s.from) {
                let p = PathBuf::from(format!("{}{}", s.to, rest));
                if p.is_file() {
                    return self.classify_local(p);
                }
            }
        }
        let rp = Path::new(recorded);
        // 2. As recorded, when that is in the workspace.
        let as_recorded =
            (rp.is_absolute() && rp.is_file()).then(|| self.classify_local(rp.to_path_buf()));
        if let Some(l @ Location::Workspace(_)) = &as_recorded {
            return l.clone();
        }
        // 3. Module path of a workspace module (trimpath, or a build path
        //    that contains the module path, e.g. GOPATH-style builds).
        for (module, dir) in &self.modules {
            let tail = if let Some(rest) = recorded.strip_prefix(module.as_str()) {
                rest.strip_prefix('/')
            } else {
                recorded
                    .find(&format!("/{module}/"))
                    .map(|i| &recorded[i + module.len() + 2..])
            };
            if let Some(tail) = tail {
                let p = dir.join(tail);
                if p.is_file() {
                    return self.classify_local(p);
                }
            }
        }
        // 4. Longest common suffix with a workspace file (absolute build
        //    paths from another machine): the recorded path's last n
        //    components, joined to a workspace root or one of its ancestors
        //    (so `…/blocking/main.go` lands in a root named `blocking`), must
        //    name a file inside the root. At least two components must match.
        let comps: Vec<&str> = recorded
            .split(['/', '\\'])
            .filter(|c| !c.is_empty())
            .collect();
        let mut best: Option<(usize, PathBuf)> = None;
        for n in 1..comps.len().min(24) {
            let tail: PathBuf = comps[comps.len() - n..].iter().collect();
            for root in &self.roots {
                let p = root.join(&tail);
                if !p.is_file() {
                    continue;
                }
                // Components of the root's own path that also precede the tail.
                let before = comps[..comps.len() - n].iter().rev();
                let root_names = root.iter().rev().map(|c| c.to_string_lossy());
                let shared = before
                    .zip(root_names)
                    .take_while(|(a, b)| **a == *b)
                    .count();
                let matched = n + shared;
                if matched >= 2 && best.as_ref().is_none_or(|(m, _)| matched > *m) {
                    best = Some((matched, p));
                }
            }
        }
        if let Some((_, p)) = best {
            return self.classify_local(p);
        }
        // 4b. Only the file name matches: accept it when exactly one
        //     workspace root or Go module directory has a file of that name
        //     (a single-package `main` module checked out under another
        //     directory name than the one it was built in).
        if let Some(name) = comps.last().filter(|n| n.ends_with(".go")) {
            let mut dirs: Vec<&Path> = self.roots.iter().map(PathBuf::as_path).collect();
            dirs.extend(self.modules.iter().map(|m| m.1.as_path()));
            dirs.sort();
            dirs.dedup();
            let hits: Vec<PathBuf> = dirs
                .iter()
                .map(|d| d.join(name))
                .filter(|p| p.is_file())
                .collect();
            if let [only] = hits.as_slice() {
                return self.classify_local(only.clone());
            }
        }
        // 5. As recorded, outside the workspace (GOROOT, module cache, …).
        if let Some(l) = as_recorded {
            return l;
        }
        // 6. Module cache (`module@version/…`) and GOROOT (`runtime/chan.go`,
        //    or `…/src/runtime/chan.go` of another GOROOT).
        if let Some(cache) = &self.gomodcache
            && let Some(i) = recorded.find('@')
        {
            let start = recorded[..i].rfind("/pkg/mod/").map(|j| j + 9).unwrap_or(0);
            let p = cache.join(&recorded[start..]);
            if p.is_file() {
                return self.classify_local(p);
            }
        }
        if let Some(goroot) = &self.goroot {
            let rel = recorded
                .rfind("/src/")
                .map(|i| &recorded[i + 5..])
                .unwrap_or(recorded);
            let p = goroot.join("src").join(rel);
            if !rel.is_empty() && p.is_file() {
                return self.classify_local(p);
            }
        }
        Location::NotFound
    }

    /// Classifies a frame by its function name and recorded file.
    pub fn classify(&self, func: &str, recorded_file: &str) -> CodeClass {
        if let Location::Workspace(_) = self.locate(recorded_file) {
            return CodeClass::Workspace;
        }
        if is_dependency_path(recorded_file) {
            return CodeClass::Dependency;
        }
        if is_std_function(func)
            || self
                .goroot
                .as_ref()
                .is_some_and(|g| Path::new(recorded_file).starts_with(g))
        {
            return CodeClass::Std;
        }
        CodeClass::Other
    }
}

/// A module-cache or vendored file path.
pub fn is_dependency_path(p: &str) -> bool {
    p.contains("/pkg/mod/") || p.contains("/vendor/") || p.split('/').any(|c| c.contains('@'))
}

/// A function of the standard library or runtime: its package path's first
/// element has no dot and is not `main` (e.g. `runtime.chanrecv1`,
/// `sync.(*Mutex).Lock`, `internal/poll.(*FD).Read`, `net/http.(*conn).serve`).
pub fn is_std_function(func: &str) -> bool {
    let pkg_end = {
        let slash = func.rfind('/').map(|i| i + 1).unwrap_or(0);
        func[slash..]
            .find('.')
            .map(|i| slash + i)
            .unwrap_or(func.len())
    };
    let pkg = &func[..pkg_end];
    let first = pkg.split('/').next().unwrap_or("");
    !first.is_empty() && !first.contains('.') && first != "main" && !pkg.is_empty()
}

fn find_modules(dir: &Path, depth: usize, out: &mut Vec<(String, PathBuf)>) {
    let gomod = dir.join("go.mod");
    if let Ok(text) = std::fs::read_to_string(&gomod)
        && let Some(m) = module_path(&text)
    {
        out.push((m, dir.to_path_buf()));
    }
    if depth >= 4 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.')
            || SKIPPED_DIRS.contains(&name.as_ref())
            || name == "testdata" && depth > 0
        {
            continue;
        }
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            find_modules(&e.path(), depth + 1, out);
        }
    }
}

/// The `module` directive of a go.mod file.
pub fn module_path(gomod: &str) -> Option<String> {
    gomod.lines().find_map(|l| {
        let l = l.trim();
        let rest = l.strip_prefix("module")?;
        if !rest.starts_with([' ', '\t']) {
            return None;
        }
        let m = rest.trim().trim_matches('"');
        (!m.is_empty()).then(|| m.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_functions() {
        assert!(is_std_function("runtime.chanrecv1"));
        assert!(is_std_function("sync.(*Mutex).Lock"));
        assert!(is_std_function("internal/poll.(*FD).Read"));
        assert!(!is_std_function("main.consumer"));
        assert!(!is_std_function("main.main.func1"));
        assert!(!is_std_function("example.com/mod/pkg.F"));
        assert!(!is_std_function("github.com/a/b.(*T).M"));
    }

    #[test]
    fn module_directive() {
        assert_eq!(
            module_path("// x\nmodule example.com/x\n\ngo 1.22\n").as_deref(),
            Some("example.com/x")
        );
        assert_eq!(module_path("module \"a/b\"\n").as_deref(), Some("a/b"));
        assert_eq!(module_path("modules x"), None);
    }

    #[test]
    fn locates_by_module_and_suffix() {
        let dir = std::env::temp_dir().join(format!("goblock-paths-{}", std::process::id()));
        let pkg = dir.join("svc/pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(dir.join("svc/go.mod"), "module example.com/svc\n").unwrap();
        std::fs::write(pkg.join("q.go"), "package pkg\n").unwrap();
        let ws = Workspace::new(std::slice::from_ref(&dir), vec![], None, None);
        let want = std::fs::canonicalize(pkg.join("q.go")).unwrap();
        // -trimpath form.
        assert_eq!(
            ws.locate("example.com/svc/pkg/q.go"),
            Location::Workspace(want.clone())
        );
        // Absolute path from another machine.
        assert_eq!(
            ws.locate("/home/ci/build/svc/pkg/q.go"),
            Location::Workspace(want.clone())
        );
        // Substitution.
        let ws2 = Workspace::new(
            std::slice::from_ref(&dir),
            vec![Substitution {
                from: "/src/".into(),
                to: format!("{}/svc/", dir.display()),
            }],
            None,
            None,
        );
        assert_eq!(ws2.locate("/src/pkg/q.go"), Location::Workspace(want));
        assert_eq!(ws.locate("/nowhere/else.go"), Location::NotFound);
        assert_eq!(
            ws.classify("example.com/svc/pkg.F", "example.com/svc/pkg/q.go"),
            CodeClass::Workspace
        );
        assert_eq!(
            ws.classify("runtime.gopark", "/usr/local/go/src/runtime/proc.go"),
            CodeClass::Std
        );
        assert_eq!(
            ws.classify(
                "github.com/x/y.F",
                "/root/go/pkg/mod/github.com/x/y@v1.0.0/y.go"
            ),
            CodeClass::Dependency
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
