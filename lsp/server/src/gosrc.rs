//! An outline of Go source text, enough to anchor annotations: which lines
//! hold code, the extent of every top-level function declaration (by the
//! key `T.M` / `F`), and the function literals, `go`/`defer` statements and
//! range loops that start on a line, with their extents.
//!
//! A small scanner, not a parser: comments and the contents of string, raw
//! string and rune literals are blanked first, then braces are matched.
//! Knows nothing of traces or annotations; lines are 1-based.

use std::collections::HashMap;

/// Lines `decl..=end` of a function or literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// First line (`func`, `go`, `defer` or `for` keyword), 1-based.
    pub decl: u32,
    /// Line of the closing brace (= `decl` for a one-line or body-less one).
    pub end: u32,
}

impl Extent {
    /// Whether `line` lies inside.
    pub fn contains(&self, line: u32) -> bool {
        self.decl <= line && line <= self.end
    }
}

/// What starts on a line, for closures and wrappers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opener {
    /// A function literal `func(`.
    Literal,
    /// A `go` statement.
    Go,
    /// A `defer` statement.
    Defer,
    /// A `for … range` loop.
    Range,
}

/// The outline of one text.
#[derive(Debug, Default)]
pub struct Outline {
    /// Per line: the code with comments and literal contents blanked.
    code: Vec<String>,
    /// Top-level functions by key, in source order.
    funcs: HashMap<String, Vec<Extent>>,
}

/// Blanks comments and the contents of string/rune literals, per line.
fn clean(text: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum St {
        Code,
        Block,
        Str,
        Raw,
        Rune,
    }
    let mut st = St::Code;
    let mut out = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut s = String::with_capacity(line.len());
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match st {
                St::Code => match c {
                    '/' if chars.peek() == Some(&'/') => break,
                    '/' if chars.peek() == Some(&'*') => {
                        chars.next();
                        st = St::Block;
                        s.push(' ');
                    }
                    '"' => {
                        st = St::Str;
                        s.push('"');
                    }
                    '`' => {
                        st = St::Raw;
                        s.push('`');
                    }
                    '\'' => {
                        st = St::Rune;
                        s.push('\'');
                    }
                    _ => s.push(c),
                },
                St::Block => {
                    if c == '*' && chars.peek() == Some(&'/') {
                        chars.next();
                        st = St::Code;
                    }
                }
                St::Str | St::Rune => match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' if st == St::Str => {
                        st = St::Code;
                        s.push('"');
                    }
                    '\'' if st == St::Rune => {
                        st = St::Code;
                        s.push('\'');
                    }
                    _ => {}
                },
                St::Raw => {
                    if c == '`' {
                        st = St::Code;
                        s.push('`');
                    }
                }
            }
        }
        // An unterminated interpreted string or rune ends with its line.
        if matches!(st, St::Str | St::Rune) {
            st = St::Code;
        }
        out.push(s);
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Byte offsets of the keyword `kw` as a whole word in `s`.
fn keyword_at(s: &str, kw: &str) -> Vec<usize> {
    s.match_indices(kw)
        .filter(|(i, _)| {
            let before = s[..*i].chars().next_back();
            let after = s[i + kw.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .map(|(i, _)| i)
        .collect()
}

fn ident(s: &str) -> (&str, &str) {
    let end = s
        .char_indices()
        .find(|(_, c)| !is_ident(*c))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// `(r *T[K]) Name[...](…` → `T.Name`; `Name(…` → `Name`.
fn decl_key(rest: &str) -> Option<String> {
    let rest = rest.trim_start();
    if let Some(recv) = rest.strip_prefix('(') {
        let close = recv.find(')')?;
        let inside = &recv[..close];
        let ty = inside.split('[').next()?;
        let ty = ty.rsplit([' ', '*', '\t']).next()?.trim();
        let (name, _) = ident(recv[close + 1..].trim_start());
        if ty.is_empty() || name.is_empty() {
            return None;
        }
        Some(format!("{ty}.{name}"))
    } else {
        let (name, _) = ident(rest);
        (!name.is_empty()).then(|| name.to_owned())
    }
}

impl Outline {
    /// Outlines `text`.
    pub fn new(text: &str) -> Outline {
        let code = clean(text);
        let mut o = Outline {
            code,
            funcs: HashMap::new(),
        };
        let mut i = 0;
        while i < o.code.len() {
            let l = &o.code[i];
            if let Some(rest) = l.strip_prefix("func ").or_else(|| l.strip_prefix("func("))
                && let Some(key) = decl_key(if l.starts_with("func(") {
                    &l[4..]
                } else {
                    rest
                })
            {
                let ext = o.extent_from(i, 0);
                o.funcs.entry(key).or_default().push(ext);
                i = ext.end as usize; // 1-based end = next 0-based index
                continue;
            }
            i += 1;
        }
        o
    }

    /// Number of lines.
    pub fn line_count(&self) -> u32 {
        self.code.len() as u32
    }

    /// Whether the text declares any function (else it is not Go source,
    /// or not one we can outline).
    pub fn is_go(&self) -> bool {
        !self.funcs.is_empty()
    }

    /// The declarations of a key (`T.M`, `F`, `init`), in source order.
    pub fn functions(&self, key: &str) -> &[Extent] {
        self.funcs.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether a line holds code (not blank, not only a comment).
    pub fn holds_code(&self, line: u32) -> bool {
        line >= 1
            && self
                .code
                .get(line as usize - 1)
                .is_some_and(|s| !s.trim().is_empty())
    }

    /// The closure of kind `kind` that starts on `line`, with its extent.
    pub fn opener_at(&self, line: u32, kind: Opener) -> Option<Extent> {
        let i = (line as usize).checked_sub(1)?;
        let s = self.code.get(i)?;
        let col = match kind {
            Opener::Literal => keyword_at(s, "func")
                .into_iter()
                .find(|&c| s[c + 4..].trim_start().starts_with('('))?,
            Opener::Go => *keyword_at(s, "go").first()?,
            Opener::Defer => *keyword_at(s, "defer").first()?,
            Opener::Range => {
                let f = *keyword_at(s, "for").first()?;
                keyword_at(&s[f..], "range").first()?;
                f
            }
        };
        Some(self.extent_from(i, col))
    }

    /// The extent of the construct starting at 0-based line `i`, byte
    /// `col`: up to the brace closing its body (the first `{` outside
    /// parentheses that does not open a `struct`/`interface` type).
    fn extent_from(&self, i: usize, col: usize) -> Extent {
        let decl = i as u32 + 1;
        let mut parens = 0i32;
        let mut depth = 0i32;
        let mut in_body = false;
        let mut prev_word = String::new();
        let mut word = String::new();
        for (j, line) in self.code.iter().enumerate().skip(i) {
            let s = if j == i {
                &line[col.min(line.len())..]
            } else {
                line
            };
            for c in s.chars() {
                if is_ident(c) {
                    word.push(c);
                    continue;
                }
                if !word.is_empty() {
                    prev_word = std::mem::take(&mut word);
                }
                match c {
                    '(' => parens += 1,
                    ')' => parens -= 1,
                    '{' => {
                        if !in_body
                            && parens == 0
                            && depth == 0
                            && prev_word != "struct"
                            && prev_word != "interface"
                        {
                            in_body = true;
                        }
                        depth += 1;
                    }
                    '}' => {
                        depth -= 1;
                        if in_body && depth == 0 {
                            return Extent {
                                decl,
                                end: j as u32 + 1,
                            };
                        }
                    }
                    c if !c.is_whitespace() => prev_word.clear(),
                    _ => {}
                }
            }
            if !word.is_empty() {
                prev_word = std::mem::take(&mut word);
            }
            // A line that ends outside parentheses before any body ends
            // the construct (Go inserts a semicolon there): a body-less
            // declaration, `go f(x)`, `defer mu.Unlock()`.
            if !in_body && parens == 0 && depth == 0 {
                return Extent {
                    decl,
                    end: j as u32 + 1,
                };
            }
        }
        Extent {
            decl,
            end: self.code.len() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_and_literals() {
        let src = "package main

// func fake() {
func a() {
	x := \"}\" // }
	go func() {
		y := `{
}`
		_ = y
	}()
}

func (t *T[K]) M(x struct{ a int }) {
}
func one() { }
func init() {}
func init() {
	defer func() {
		recover()
	}()
	for range ch {
	}
}
func asm(x int)
func after() {}
";
        let o = Outline::new(src);
        assert_eq!(o.functions("a"), [Extent { decl: 4, end: 11 }]);
        assert_eq!(o.functions("T.M"), [Extent { decl: 13, end: 14 }]);
        assert_eq!(o.functions("one"), [Extent { decl: 15, end: 15 }]);
        assert_eq!(
            o.functions("init"),
            [Extent { decl: 16, end: 16 }, Extent { decl: 17, end: 23 }]
        );
        assert_eq!(o.functions("asm"), [Extent { decl: 24, end: 24 }]);
        assert_eq!(o.functions("after"), [Extent { decl: 25, end: 25 }]);
        assert!(o.functions("fake").is_empty());
        assert_eq!(
            o.opener_at(6, Opener::Literal),
            Some(Extent { decl: 6, end: 10 })
        );
        assert_eq!(
            o.opener_at(6, Opener::Go),
            Some(Extent { decl: 6, end: 10 })
        );
        assert_eq!(o.opener_at(7, Opener::Literal), None);
        assert_eq!(
            o.opener_at(18, Opener::Defer),
            Some(Extent { decl: 18, end: 20 })
        );
        assert_eq!(
            o.opener_at(21, Opener::Range),
            Some(Extent { decl: 21, end: 22 })
        );
        assert!(o.holds_code(5));
        assert!(!o.holds_code(3));
        assert!(!o.holds_code(2));
        assert!(o.holds_code(8)); // inside a raw string: the closing quote
    }
}
