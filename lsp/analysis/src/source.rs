//! What path mapping needs to know of a source file's text: how many lines
//! it has, its package clause, whether it is generated code (Go's
//! `// Code generated … DO NOT EDIT.` convention) and which functions and
//! methods it declares.
//!
//! A line scanner, not a parser: declarations are the lines that start with
//! `func` (gofmt puts every top-level one at column 0). It does not decide
//! anything about frames (that is `paths`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use goblock_symbols::funcname::FuncName;

/// Source files larger than this are not read (their frames stay unmapped).
const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// Facts about one source file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceFacts {
    /// Number of lines (a last line without a newline counts).
    pub lines: u32,
    /// The name of the `package` clause (Go files).
    pub package: Option<String>,
    /// A `// Code generated … DO NOT EDIT.` line precedes the package clause.
    pub generated: bool,
    /// Declared functions and methods, keyed as [`FuncName::key`] (`T.M`,
    /// `F`), with the lines each declaration spans (first, last), when
    /// known: a `func` at column 0 (gofmt) to the first `}` at column 0.
    decls: HashMap<String, Vec<(u32, u32)>>,
    /// Functions of other packages implemented here through
    /// `//go:linkname local pkg.Name` (`time.Sleep` in runtime/time.go).
    linknamed: HashSet<String>,
}

impl SourceFacts {
    /// Reads a file; `None` when it cannot be read or is too large.
    pub fn read(path: &Path) -> Option<SourceFacts> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len() > MAX_SOURCE_BYTES {
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        Some(Self::parse(&String::from_utf8_lossy(&bytes)))
    }

    /// Why [`SourceFacts::read`] gave nothing for `path`, in plain words
    /// (opens the file, never reads it).
    pub fn unreadable_reason(path: &Path) -> String {
        match std::fs::metadata(path) {
            Err(e) => crate::input::io_reason(&e),
            Ok(m) if !m.is_file() => "not a regular file".into(),
            Ok(m) if m.len() > MAX_SOURCE_BYTES => {
                format!("larger than {} MiB", MAX_SOURCE_BYTES >> 20)
            }
            Ok(_) => match std::fs::File::open(path) {
                Err(e) => crate::input::io_reason(&e),
                Ok(_) => "a read error".into(),
            },
        }
    }

    /// Facts of a source text.
    pub fn parse(text: &str) -> SourceFacts {
        let mut f = SourceFacts::default();
        let mut lines = 0u32;
        // The declaration whose closing brace is not seen yet.
        let mut open: Option<(String, u32)> = None;
        for line in text.split('\n') {
            lines += 1;
            let t = line.trim();
            if f.package.is_none() {
                if let Some(p) = t.strip_prefix("package ") {
                    let name = p.split("//").next().unwrap_or("").trim();
                    f.package = Some(name.to_owned());
                } else if t.starts_with("// Code generated ") && t.ends_with(" DO NOT EDIT.") {
                    f.generated = true;
                }
                continue;
            }
            if let Some(d) = declaration(t) {
                if let Some((key, start)) = open.take() {
                    f.close(key, start, lines - 1);
                }
                let body = line.trim_end();
                if !line.starts_with("func") {
                    // Indented: no extent known.
                    f.decls.entry(d).or_default();
                } else if !body.contains('{') || body.ends_with('}') {
                    // Body-less (assembly) or on one line.
                    f.close(d, lines, lines);
                } else {
                    open = Some((d, lines));
                }
            } else if line.trim_end() == "}" && open.is_some() {
                if let Some((key, start)) = open.take() {
                    f.close(key, start, lines);
                }
            } else if let Some(target) = t
                .strip_prefix("//go:linkname ")
                .and_then(|rest| rest.split_whitespace().nth(1))
            {
                f.linknamed.insert(target.to_owned());
            }
        }
        if text.ends_with('\n') || text.is_empty() {
            lines -= 1;
        }
        if let Some((key, start)) = open {
            f.close(key, start, lines);
        }
        f.lines = lines;
        f
    }

    fn close(&mut self, key: String, first: u32, last: u32) {
        self.decls.entry(key).or_default().push((first, last));
    }

    /// Whether `line` lies inside a declaration of `f` (or `f`'s
    /// declarations have no known extent, or cannot be named): a frame of a
    /// file of another version than the one built lies in another function.
    pub fn encloses(&self, f: &FuncName, line: u32) -> bool {
        if !is_declared(f) {
            return true;
        }
        let mut known = false;
        for k in f.keys() {
            for &(first, last) in self.decls.get(&k).into_iter().flatten() {
                known = true;
                if first <= line && line <= last {
                    return true;
                }
            }
        }
        !known
    }

    /// Whether the file declares the function `f` — closures, wrappers and
    /// method values count as their declared function — or `f` is code
    /// outside any declared function (package-level variable initializers:
    /// `glob..func1`, `init` without a number), which no name can check.
    pub fn declares(&self, f: &FuncName) -> bool {
        if !is_declared(f) {
            return true;
        }
        f.keys().iter().any(|k| self.decls.contains_key(k))
            || f.receiver.is_none()
                && self
                    .linknamed
                    .contains(&format!("{}.{}", f.package, f.name))
    }

    /// Whether the package clause can be the one of `f`'s package: equal to
    /// the import path's last element or contained in it (`yaml` in
    /// `yaml.v3`, `foo` in `go-foo`), or `main` for `main.F` and for
    /// non-standard packages (a test binary names a main package's
    /// functions after its import path).
    pub fn package_matches(&self, f: &FuncName) -> bool {
        let Some(clause) = self.package.as_deref() else {
            return false;
        };
        if clause == "main" {
            return f.package == "main" || !is_std_package(&f.package);
        }
        let last = f.package.rsplit('/').next().unwrap_or(&f.package);
        last.replace("%2e", ".").contains(clause)
    }
}

/// Whether a function's code lies in a declaration that can be looked up:
/// not for package-level variable initializers (`glob..func1`, `init` and
/// its closures, as opposed to `init.0`, the first `func init`).
pub fn is_declared(f: &FuncName) -> bool {
    !(f.name == "init" && f.receiver.is_none() && f.init_index.is_none())
}

/// A package of the standard library or runtime: the import path's first
/// element has no dot and is not `main` (`runtime`, `internal/poll`,
/// `net/http`; not `example.com/x`, `main`).
pub fn is_std_package(package: &str) -> bool {
    let first = package.split('/').next().unwrap_or("");
    !first.is_empty() && !first.contains('.') && package != "main"
}

/// The key (`T.M`, `F`) of a `func` declaration line.
fn declaration(t: &str) -> Option<String> {
    let rest = t.strip_prefix("func")?;
    let rest = rest.trim_start();
    if rest.len() == t.len() - 4 && !rest.starts_with('(') {
        // `funcX…`: an identifier that starts with "func".
        return None;
    }
    let (receiver, rest) = if let Some(r) = rest.strip_prefix('(') {
        let end = matching_paren(r)?;
        (Some(receiver_type(&r[..end])?), r[end + 1..].trim_start())
    } else {
        (None, rest)
    };
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() {
        // A function literal at the start of a line (`func() { … }()`).
        return None;
    }
    Some(match receiver {
        Some(r) => format!("{r}.{name}"),
        None => name,
    })
}

/// The index of the `)` closing a receiver list that starts right after `(`.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ']' => depth -= 1,
            ')' if depth == 0 => return Some(i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The type name of a receiver: `r *T[K, V]` → `T`, `T` → `T`, `_ *T` → `T`.
fn receiver_type(recv: &str) -> Option<String> {
    let no_params = recv.split('[').next().unwrap_or(recv);
    let ty = no_params.split_whitespace().last()?;
    let ty = ty.trim_start_matches(['*', '(']).trim_end_matches(')');
    (!ty.is_empty()).then(|| ty.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use goblock_symbols::funcname::parse;

    /// Each way `read` gives nothing has its reason in plain words.
    #[test]
    fn unreadable_sources_say_why() {
        let dir = std::env::temp_dir().join(format!("goblock-unreadable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("gone.go");
        assert!(SourceFacts::read(&missing).is_none());
        assert_eq!(
            SourceFacts::unreadable_reason(&missing),
            "no such file or directory"
        );
        assert!(SourceFacts::read(&dir).is_none());
        assert_eq!(SourceFacts::unreadable_reason(&dir), "not a regular file");
        let big = dir.join("big.go");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_SOURCE_BYTES + 1)
            .unwrap();
        assert!(SourceFacts::read(&big).is_none());
        assert_eq!(SourceFacts::unreadable_reason(&big), "larger than 64 MiB");
        std::fs::remove_dir_all(&dir).ok();
    }

    const SRC: &str = "// Copyright\n\n// Package q does things.\npackage q // import \"example.com/q\"\n\nimport \"sync\"\n\nfunc New() *T { return &T{} }\n\nfunc (t *T) Run(n int) {\n\tgo func() {\n\t}()\n}\n\nfunc (T) String() string { return \"\" }\n\nfunc (l *List[K, V]) Push(k K) {}\n\nfunc Map[T any](x []T) {}\n\nfunc init() {}\nfunc functional() {}\n\n//go:linkname timeSleep time.Sleep\nfunc timeSleep(ns int64) {}\n";

    #[test]
    fn facts_of_a_file() {
        let f = SourceFacts::parse(SRC);
        assert_eq!(f.lines, SRC.lines().count() as u32);
        assert_eq!(f.package.as_deref(), Some("q"));
        assert!(!f.generated);
        for name in [
            "example.com/q.New",
            "example.com/q.(*T).Run",
            "example.com/q.(*T).Run.func1",
            "example.com/q.T.String",
            "example.com/q.(*T).String-fm",
            "example.com/q.(*List[...]).Push",
            "example.com/q.Map[go.shape.int]",
            "example.com/q.init.0",
            "example.com/q.functional",
            "example.com/q.glob..func1",
            "time.Sleep",
        ] {
            let g = parse(name).unwrap();
            assert!(f.declares(&g), "{name}");
            assert_eq!(f.package_matches(&g), name != "time.Sleep", "{name}");
        }
        for name in [
            "example.com/q.Old",
            "example.com/q.(*U).Run",
            "example.com/q.List.Pop",
            "example.com/q.func",
        ] {
            assert!(!f.declares(&parse(name).unwrap()), "{name}");
        }
        assert!(!f.package_matches(&parse("internal/poll.(*FD).Read").unwrap()));
        // Extents: Run spans lines 10-13, its closure inside it.
        let run = parse("example.com/q.(*T).Run.func1").unwrap();
        assert!(f.encloses(&run, 11) && f.encloses(&run, 13));
        assert!(!f.encloses(&run, 9) && !f.encloses(&run, 14));
        let new = parse("example.com/q.New").unwrap();
        assert!(f.encloses(&new, 8) && !f.encloses(&new, 9));
        assert!(f.encloses(&parse("example.com/q.glob..func1").unwrap(), 1));
        let no_newline = SourceFacts::parse("package main\nfunc main() {}");
        assert_eq!(no_newline.lines, 2);
        assert_eq!(SourceFacts::parse("").lines, 0);
    }

    #[test]
    fn generated_header_and_main() {
        let f = SourceFacts::parse(
            "// Code generated by 'go test'. DO NOT EDIT.\n\npackage main\n\nfunc main() {}\n",
        );
        assert!(f.generated);
        assert!(f.package_matches(&parse("goblock.test/blocking.main").unwrap()));
        assert!(f.package_matches(&parse("main.main").unwrap()));
        // The marker only counts before the package clause.
        let g = SourceFacts::parse("package x\n// Code generated by hand. DO NOT EDIT.\n");
        assert!(!g.generated);
    }
}
