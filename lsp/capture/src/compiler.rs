//! Reads the `go` command's error output (`./x_test.go:12:5: undefined: y`)
//! into positioned messages, so a package that does not compile can be
//! shown as diagnostics at its errors. Lines whose position does not parse
//! stay in the raw output only; indented lines continue the message above.
//!
//! Does not decide how the messages are shown.

use std::path::{Component, Path, PathBuf};

/// One message of the compiler (or of `go` about `go.mod`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CompilerMessage {
    /// The file, absolute.
    pub file: PathBuf,
    /// Line, 1-based.
    pub line: u32,
    /// Column, 1-based, in bytes (as Go counts); absent when not printed.
    pub column: Option<u32>,
    /// The message, continuation lines joined with newlines.
    pub message: String,
}

const SOURCE_EXTENSIONS: &[&str] = &[".go", ".s", ".c", ".h", ".mod", ".work", ".sum"];

/// Parses `output`, resolving relative file names against `dir` (where
/// the `go` command ran).
pub fn parse(output: &str, dir: &Path) -> Vec<CompilerMessage> {
    let mut out: Vec<CompilerMessage> = Vec::new();
    let mut continues = false;
    for line in output.lines() {
        if let Some(m) = parse_line(line, dir) {
            out.push(m);
            continues = true;
        } else if continues && line.starts_with('\t') {
            if let Some(last) = out.last_mut() {
                last.message.push('\n');
                last.message.push_str(line.trim());
            }
        } else {
            continues = false;
        }
    }
    out
}

fn parse_line(line: &str, dir: &Path) -> Option<CompilerMessage> {
    // file:line[:col]: message — the file may contain ':' (Windows drives),
    // so take the first ':' after a source file extension.
    for (i, _) in line.match_indices(':') {
        let file = &line[..i];
        if !SOURCE_EXTENSIONS.iter().any(|e| file.ends_with(e)) || file.starts_with('\t') {
            continue;
        }
        let rest = &line[i + 1..];
        let (num, rest) = split_number(rest)?;
        let rest = rest.strip_prefix(':')?;
        let (column, rest) = match split_number(rest) {
            Some((c, r)) if r.starts_with(':') => (Some(c), &r[1..]),
            _ => (None, rest),
        };
        let message = rest.trim();
        if message.is_empty() {
            return None;
        }
        return Some(CompilerMessage {
            file: absolute(dir, Path::new(file.trim())),
            line: num,
            column,
            message: message.to_owned(),
        });
    }
    None
}

fn split_number(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n = s[..end].parse().ok()?;
    Some((n, &s[end..]))
}

/// `p` against `dir`, with `.` and `..` removed lexically (symlinks kept
/// as the compiler printed them).
fn absolute(dir: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_build_output() {
        // As printed by `go test -c` (go1.26.8) for a package with three errors.
        let out = "# example.com/cx/b [example.com/cx/b.test]\n\
./b_test.go:6:6: declared and not used: x\n\
./b_test.go:6:14: cannot use \"s\" (untyped string constant) as int value in variable declaration\n\
../a/a.go:7:2: undefined: fmt\n\
/abs/dir/c.go:9: something without a column\n\
./d.go:3:9: cannot use v (variable of type int) as string value in return statement\n\
\thave int\n\
\twant string\n\
FAIL\texample.com/cx/b [build failed]\n";
        let m = parse(out, Path::new("/w/cx/b"));
        assert_eq!(m.len(), 5, "{m:#?}");
        assert_eq!(m[0].file, PathBuf::from("/w/cx/b/b_test.go"));
        assert_eq!((m[0].line, m[0].column), (6, Some(6)));
        assert_eq!(m[0].message, "declared and not used: x");
        assert_eq!(m[2].file, PathBuf::from("/w/cx/a/a.go"));
        assert_eq!((m[3].line, m[3].column), (9, None));
        assert_eq!(m[3].file, PathBuf::from("/abs/dir/c.go"));
        assert!(
            m[4].message.ends_with("statement\nhave int\nwant string"),
            "{:?}",
            m[4].message
        );
    }

    #[test]
    fn go_mod_errors_and_noise() {
        let m = parse(
            "go: errors parsing go.mod:\n/w/go.mod:3: unknown directive: bogus\nok\n",
            Path::new("/w"),
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].file, PathBuf::from("/w/go.mod"));
        assert!(parse("go: no such tool\nFAIL x [setup failed]", Path::new("/")).is_empty());
    }
}
