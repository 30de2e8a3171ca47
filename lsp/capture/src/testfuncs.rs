//! Finds the test, benchmark and fuzz functions of a `_test.go` file as
//! `go test` would run them (top-level `func TestX(t *testing.T)`,
//! `BenchmarkX(b *testing.B)`, `FuzzX(f *testing.F)`, with Go's naming rule
//! and the file's name for the `testing` import), from the text as the
//! editor holds it (unsaved edits included), and quotes a test's name into
//! a `-test.run` pattern that selects exactly it.
//!
//! A small lexer skips comments, strings and runes and tracks brace depth;
//! it is not a Go parser: a file that does not parse yields what can be
//! recognised, never an error.

/// What kind of function `go test` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestKind {
    /// `func TestX(t *testing.T)`.
    Test,
    /// `func BenchmarkX(b *testing.B)`.
    Benchmark,
    /// `func FuzzX(f *testing.F)` (captured on its seed corpus only).
    Fuzz,
}

impl TestKind {
    fn of(name: &str, param_type: &str, pkg: &str) -> Option<TestKind> {
        let ty = |t: &str| {
            if pkg == "." {
                param_type == format!("*{t}")
            } else {
                param_type == format!("*{pkg}.{t}")
            }
        };
        for (prefix, t, kind) in [
            ("Test", "T", TestKind::Test),
            ("Benchmark", "B", TestKind::Benchmark),
            ("Fuzz", "F", TestKind::Fuzz),
        ] {
            if let Some(rest) = name.strip_prefix(prefix)
                && !rest.chars().next().is_some_and(char::is_lowercase)
                && ty(t)
            {
                return Some(kind);
            }
        }
        None
    }
}

/// A function `go test` runs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TestFunc {
    /// Its name.
    pub name: String,
    /// Test, benchmark or fuzz test.
    pub kind: TestKind,
    /// Line of `func` (0-based).
    pub line: u32,
    /// Line of the body's closing brace (0-based; the last line of the
    /// file when it is missing).
    pub end_line: u32,
}

impl TestFunc {
    /// Whether `line` (0-based) is inside the function.
    pub fn contains(&self, line: u32) -> bool {
        (self.line..=self.end_line).contains(&line)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    LineComment,
    BlockComment,
    Str,
    RawStr,
    Rune,
}

/// The functions `go test` would run in `src` (a `_test.go` file), in
/// file order.
pub fn test_functions(src: &str) -> Vec<TestFunc> {
    let pkg = testing_name(src);
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut state = State::Code;
    let mut depth = 0u32;
    let mut line = 0u32;
    let mut open: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
        }
        match state {
            State::LineComment => {
                if c == b'\n' {
                    state = State::Code;
                }
            }
            State::BlockComment => {
                if c == b'*' && b.get(i + 1) == Some(&b'/') {
                    state = State::Code;
                    i += 1;
                }
            }
            State::Str | State::Rune => {
                let end = if state == State::Str { b'"' } else { b'\'' };
                if c == b'\\' {
                    i += 1;
                } else if c == end || c == b'\n' {
                    state = State::Code;
                }
            }
            State::RawStr => {
                if c == b'`' {
                    state = State::Code;
                }
            }
            State::Code => match c {
                b'/' if b.get(i + 1) == Some(&b'/') => state = State::LineComment,
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    state = State::BlockComment;
                    i += 1;
                }
                b'"' => state = State::Str,
                b'`' => state = State::RawStr,
                b'\'' => state = State::Rune,
                b'{' | b'(' | b'[' => depth += 1,
                b'}' | b')' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0
                        && c == b'}'
                        && let Some(k) = open.take()
                    {
                        let f: &mut TestFunc = &mut out[k];
                        f.end_line = line;
                    }
                }
                b'f' if depth == 0
                    && b[i..].starts_with(b"func")
                    && (i == 0 || !is_ident(b[i - 1]))
                    && b.get(i + 4).is_some_and(|c| c.is_ascii_whitespace()) =>
                {
                    open = None;
                    if let Some((f, sig_end)) = signature(src, i + 4, line, &pkg) {
                        // Lines inside the signature (multi-line parameter lists).
                        line += src[i..sig_end].matches('\n').count() as u32;
                        i = sig_end;
                        if let Some(f) = f {
                            open = Some(out.len());
                            out.push(f);
                        }
                        continue;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    let last = line;
    for (k, f) in out.iter_mut().enumerate() {
        if open == Some(k) {
            f.end_line = last;
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Parses `NAME(PARAMS)` after `func` at `at`; returns the test function
/// it declares (if any) and where the parameter list ends. `None` when it
/// is not a plain function declaration (a method, a literal).
fn signature(src: &str, at: usize, line: u32, pkg: &str) -> Option<(Option<TestFunc>, usize)> {
    let rest = &src[at..];
    let name_start = at + (rest.len() - rest.trim_start().len());
    let name_len = src[name_start..]
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map(|(k, _)| k)?;
    if name_len == 0 {
        return None; // a method `func (r T) …` or a literal `func(`
    }
    let name = &src[name_start..name_start + name_len];
    let after = &src[name_start + name_len..];
    let open = name_start + name_len + (after.len() - after.trim_start().len());
    if src.as_bytes().get(open) != Some(&b'(') {
        return Some((None, open)); // generic (type parameters) or malformed
    }
    let mut depth = 0;
    let mut close = None;
    for (k, c) in src[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + k);
                    break;
                }
            }
            '{' | '}' => break,
            _ => {}
        }
    }
    let close = close?;
    let params: Vec<&str> = src[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let f = match params.as_slice() {
        [one] => {
            // `t *testing.T`, or an unnamed `*testing.T`.
            let words: Vec<&str> = one.split_whitespace().collect();
            let ty = match words.as_slice() {
                [only] => (*only).to_owned(),
                [_, rest @ ..] => rest.concat(),
                [] => String::new(),
            };
            TestKind::of(name, &ty, pkg).map(|kind| TestFunc {
                name: name.to_owned(),
                kind,
                line,
                end_line: line,
            })
        }
        _ => None,
    };
    Some((f, close + 1))
}

/// The name the file gives the `testing` package (`testing`, an alias, or
/// `.` for a dot import).
fn testing_name(src: &str) -> String {
    for l in src.lines() {
        let l = l.trim();
        let l = l.strip_prefix("import").map(str::trim).unwrap_or(l);
        if let Some(before) = l.strip_suffix("\"testing\"") {
            let alias = before.trim();
            if !alias.is_empty() && !alias.contains(char::is_whitespace) && alias != "(" {
                return alias.to_owned();
            }
        }
    }
    "testing".to_owned()
}

/// A `-test.run` / `-test.bench` pattern that selects exactly `name`
/// (`TestX`, or a subtest `TestX/case one`): each `/`-separated part is
/// rewritten as `go test` names it (white space → `_`), quoted like Go's
/// `regexp.QuoteMeta` and anchored, e.g. `^TestX$/^case_one$`.
pub fn run_pattern(name: &str) -> String {
    name.split('/')
        .map(|part| {
            let mut s = String::from("^");
            for c in part.chars() {
                if c.is_whitespace() {
                    s.push('_');
                    continue;
                }
                if r"\.+*?()|[]{}^$".contains(c) {
                    s.push('\\');
                }
                s.push(c);
            }
            s.push('$');
            s
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"package shop_test

import (
	"context"
	"testing"
)

// TestInComment(t *testing.T) is not a test.
/* func TestInBlock(t *testing.T) {} */
var doc = `
func TestInRawString(t *testing.T) {}
`

func TestCheckout(t *testing.T) {
	for _, tc := range []struct{ name string }{{"a"}} {
		t.Run(tc.name, func(t *testing.T) {
			_ = '}'
			_ = "}"
		})
	}
}

func Testlowercase(t *testing.T) {}

func Test(t *testing.T) {}

func TestNotATest(t *testing.T, extra int) {}

func TestGeneric[T any](t *testing.T) {}

func (s *suite) TestMethod(t *testing.T) {}

func BenchmarkCheckout(b *testing.B) {
	for i := 0; i < b.N; i++ {
	}
}

func FuzzParseOrder(
	f *testing.F,
) {
	f.Add("1x apple")
	f.Fuzz(func(t *testing.T, s string) {})
}

func TestÜberweisung(t *testing.T) {
}

func helper(ctx context.Context) {}
"#;

    #[test]
    fn finds_what_go_test_runs() {
        let fs = test_functions(FILE);
        let got: Vec<(&str, TestKind, u32, u32)> = fs
            .iter()
            .map(|f| (f.name.as_str(), f.kind, f.line, f.end_line))
            .collect();
        let line = |needle: &str| FILE.lines().position(|l| l.contains(needle)).unwrap() as u32;
        assert_eq!(
            got,
            vec![
                (
                    "TestCheckout",
                    TestKind::Test,
                    line("func TestCheckout"),
                    line("func TestCheckout") + 7
                ),
                (
                    "Test",
                    TestKind::Test,
                    line("func Test("),
                    line("func Test(")
                ),
                (
                    "BenchmarkCheckout",
                    TestKind::Benchmark,
                    line("func BenchmarkCheckout"),
                    line("func BenchmarkCheckout") + 3
                ),
                (
                    "FuzzParseOrder",
                    TestKind::Fuzz,
                    line("func FuzzParseOrder"),
                    line("func FuzzParseOrder") + 5
                ),
                (
                    "TestÜberweisung",
                    TestKind::Test,
                    line("func TestÜber"),
                    line("func TestÜber") + 1
                ),
            ]
        );
        assert!(fs[0].contains(line("t.Run(tc.name")));
    }

    #[test]
    fn aliases_and_dot_imports() {
        let f = "package x\nimport tt \"testing\"\nfunc TestA(t *tt.T) {}\nfunc TestB(t *testing.T) {}\n";
        let names: Vec<String> = test_functions(f).into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["TestA"]);
        let f = "package x\nimport . \"testing\"\nfunc TestA(t *T) {}\n";
        assert_eq!(test_functions(f).len(), 1);
        let unfinished = "package x\nimport \"testing\"\nfunc TestA(t *testing.T) {\n\tx := 1\n";
        let fs = test_functions(unfinished);
        assert_eq!((fs[0].line, fs[0].end_line), (2, 4));
    }

    #[test]
    fn patterns_select_exactly_one_name() {
        assert_eq!(run_pattern("TestCheckout"), "^TestCheckout$");
        // The example of the Go reference (go1.26: selects exactly this subtest).
        assert_eq!(
            run_pattern("TestHang/sub case/a(b)"),
            r"^TestHang$/^sub_case$/^a\(b\)$"
        );
        assert_eq!(run_pattern("TestX/1.5*2"), r"^TestX$/^1\.5\*2$");
    }
}
