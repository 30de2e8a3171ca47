//! The Go modules of a workspace, from the files Go itself reads: `go.mod`
//! (its `module` directive) under and above the workspace roots, `go.work`
//! (its `use` directives, which may point outside the roots) and
//! `vendor/modules.txt` (vendored modules).
//!
//! Reads those small files only; it does not map paths (that is `paths`).

use std::path::{Path, PathBuf};

/// Directories never searched for go.mod files or sources.
pub const SKIPPED_DIRS: &[&str] = &[".git", "vendor", "node_modules", "target", ".hg", ".svn"];

/// How deep below a workspace root go.mod files are looked for.
const MAX_DEPTH: usize = 4;

/// A module whose sources are on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// Module path (`example.com/svc`; `std` for GOROOT/src).
    pub path: String,
    /// Its directory (canonical).
    pub dir: PathBuf,
    /// A vendored copy (`vendor/<path>` of a workspace module).
    pub vendored: bool,
}

/// The modules of the workspace `roots` (canonical directories): go.mod
/// files up to four levels below each root and the nearest one above it,
/// the modules `go.work` files there use, and their vendored modules.
/// Longest module path first (nested modules win).
pub fn discover(roots: &[PathBuf]) -> Vec<Module> {
    let mut dirs = Vec::new();
    for r in roots {
        below(r, 0, &mut dirs);
        for up in r.ancestors().skip(1) {
            if up.join("go.mod").is_file() || up.join("go.work").is_file() {
                dirs.push(up.to_path_buf());
                break;
            }
        }
    }
    // go.work `use` directives (may point outside the roots).
    let mut i = 0;
    while i < dirs.len() {
        if let Ok(text) = std::fs::read_to_string(dirs[i].join("go.work")) {
            for u in work_uses(&text) {
                let d = dirs[i].join(u);
                let d = std::fs::canonicalize(&d).unwrap_or(d);
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
        }
        i += 1;
    }
    let mut out: Vec<Module> = Vec::new();
    for d in &dirs {
        let Ok(text) = std::fs::read_to_string(d.join("go.mod")) else {
            continue;
        };
        let Some(path) = module_path(&text) else {
            continue;
        };
        if let Ok(v) = std::fs::read_to_string(d.join("vendor/modules.txt")) {
            for m in vendored_modules(&v) {
                let dir = d.join("vendor").join(&m);
                if dir.is_dir() {
                    out.push(Module {
                        path: m,
                        dir,
                        vendored: true,
                    });
                }
            }
        }
        out.push(Module {
            path,
            dir: d.clone(),
            vendored: false,
        });
    }
    out.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.dir.cmp(&b.dir)));
    out.dedup_by(|a, b| a.path == b.path && a.dir == b.dir);
    out
}

fn below(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if dir.join("go.mod").is_file() || dir.join("go.work").is_file() {
        out.push(dir.to_path_buf());
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !(name.starts_with('.')
                || SKIPPED_DIRS.contains(&name.as_ref())
                || name == "testdata" && depth > 0)
                && e.file_type().is_ok_and(|t| t.is_dir())
        })
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for d in subdirs {
        below(&d, depth + 1, out);
    }
}

/// The `module` directive of a go.mod file.
pub fn module_path(gomod: &str) -> Option<String> {
    gomod.lines().find_map(|l| {
        let l = strip_comment(l).trim();
        let rest = l.strip_prefix("module")?;
        if !rest.starts_with([' ', '\t']) {
            return None;
        }
        let m = rest.trim().trim_matches(['"', '`']);
        (!m.is_empty()).then(|| m.to_owned())
    })
}

/// The directories of a go.work file's `use` directives (`use ./a`, or a
/// `use ( … )` block), as written.
pub fn work_uses(gowork: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    for l in gowork.lines() {
        let l = strip_comment(l).trim();
        let arg = if in_block {
            if l == ")" {
                in_block = false;
                continue;
            }
            l
        } else if let Some(rest) = l.strip_prefix("use") {
            let rest = rest.trim();
            if rest == "(" {
                in_block = true;
                continue;
            }
            if !l[3..].starts_with([' ', '\t', '(']) {
                continue;
            }
            rest
        } else {
            continue;
        };
        let arg = arg.trim_matches(['"', '`']);
        if !arg.is_empty() {
            out.push(arg.to_owned());
        }
    }
    out
}

/// The module paths of a `vendor/modules.txt` (`# path version` lines).
pub fn vendored_modules(modules_txt: &str) -> Vec<String> {
    modules_txt
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("# ")?.split_whitespace();
            let path = w.next()?;
            // `# a/b v1.0.0 => ../c`: a replacement outside vendor/ is
            // still vendored under the module path.
            w.next()?;
            Some(path.to_owned())
        })
        .collect()
}

fn strip_comment(l: &str) -> &str {
    l.split("//").next().unwrap_or(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_directive() {
        assert_eq!(
            module_path("// x\nmodule example.com/x\n\ngo 1.22\n").as_deref(),
            Some("example.com/x")
        );
        assert_eq!(module_path("module \"a/b\"\n").as_deref(), Some("a/b"));
        assert_eq!(
            module_path("module a/b // the module\n").as_deref(),
            Some("a/b")
        );
        assert_eq!(module_path("modules x"), None);
    }

    #[test]
    fn work_use_directives() {
        let text = "go 1.22\n\nuse ./api\nuse (\n\t./svc // the service\n\t\"../shared lib\"\n)\nuseless x\n";
        assert_eq!(work_uses(text), ["./api", "./svc", "../shared lib"]);
    }

    #[test]
    fn vendored() {
        let text = "# golang.org/x/sync v0.7.0\n## explicit; go 1.18\ngolang.org/x/sync/errgroup\n# example.com/a v1.0.0 => ../a\nexample.com/a\n";
        assert_eq!(
            vendored_modules(text),
            ["golang.org/x/sync", "example.com/a"]
        );
    }

    #[test]
    fn discovers_work_modules_outside_the_root() {
        let dir = std::env::temp_dir().join(format!("goblock-gomod-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (f, text) in [
            ("ws/go.work", "go 1.22\nuse (\n\t./app\n\t../lib\n)\n"),
            ("ws/app/go.mod", "module example.com/app\n"),
            ("lib/go.mod", "module example.com/lib\n"),
            ("ws/app/vendor/modules.txt", "# golang.org/x/sync v0.7.0\n"),
            (
                "ws/app/vendor/golang.org/x/sync/errgroup/e.go",
                "package errgroup\n",
            ),
        ] {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let root = std::fs::canonicalize(dir.join("ws/app")).unwrap();
        let mods = discover(&[root]);
        let got: Vec<(&str, bool, bool)> = mods
            .iter()
            .map(|m| (m.path.as_str(), m.vendored, m.dir.is_dir()))
            .collect();
        // Longest module path first; equal lengths by directory.
        assert_eq!(
            got,
            [
                ("golang.org/x/sync", true, true),
                ("example.com/lib", false, true),
                ("example.com/app", false, true)
            ]
        );
        assert!(mods[1].dir.ends_with("lib"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
