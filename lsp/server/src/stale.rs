//! Staleness: does the source text still match what the traced binary was
//! built from? Anchors each annotation of a file onto a line of the given
//! source text, or marks it stale.
//!
//! Rules, per annotation (function name + recorded line):
//! * the function must still be declared in the text (Go `func` declarations
//!   at column 0; closures belong to their enclosing named function);
//! * when the build's declaration line of that function is known (DWARF),
//!   the annotation moves by the same offset as the declaration;
//! * the (moved) line must lie inside the function's current extent and hold
//!   code (not blank, not a comment) — otherwise it is stale, never shown on
//!   a wrong line.
//!
//! Knows no LSP types; lines are 1-based.

use std::collections::HashMap;
use std::sync::Arc;

use crate::annotations::{FileAnnotations, Freshness};

/// The key matching a Go function name with its source declaration:
/// `main.(*T).M` → `T.M`, `example.com/p.F[...]` → `F`,
/// `main.run.func1` → `run`, `main.init.0` → `init`.
pub fn func_key(name: &str) -> Option<String> {
    // Strip the package path: everything up to the last '/', then the package name.
    let tail = name.rsplit('/').next().unwrap_or(name);
    let (_, rest) = tail.split_once('.')?;
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in rest.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '(' | ')' | '*' if depth == 0 => {}
            '.' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ if depth == 0 => cur.push(c),
            _ => {}
        }
    }
    parts.push(cur);
    // A method is Type.Name; closures and wrappers add funcN / gowrapN / 0….
    let is_suffix = |s: &str| {
        s.is_empty()
            || s.chars().all(|c| c.is_ascii_digit())
            || ["func", "gowrap", "deferwrap"].iter().any(|p| {
                s.strip_prefix(p)
                    .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
            })
    };
    while parts.len() > 1 && parts.last().is_some_and(|p| is_suffix(p)) {
        parts.pop();
    }
    let key = if parts.len() >= 2
        && parts[0].chars().next().is_some_and(|c| c.is_alphabetic())
        && !is_suffix(&parts[1])
    {
        format!("{}.{}", parts[0], parts[1])
    } else {
        parts.first()?.clone()
    };
    (!key.is_empty()).then_some(key)
}

/// A function declared in source: its declaration line and last line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// `func` line, 1-based.
    pub decl: u32,
    /// Closing brace line, 1-based.
    pub end: u32,
}

/// The top-level function declarations of Go source text, by [`func_key`] form.
pub fn source_functions(text: &str) -> HashMap<String, Extent> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = HashMap::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(rest) = l.strip_prefix("func ")
            && let Some(key) = decl_key(rest)
        {
            let decl = i as u32 + 1;
            let mut end = decl;
            if !l.trim_end().ends_with('}') {
                let mut j = i + 1;
                while j < lines.len() {
                    if lines[j].starts_with('}') {
                        break;
                    }
                    j += 1;
                }
                end = (j.min(lines.len().saturating_sub(1))) as u32 + 1;
                i = j;
            }
            out.entry(key).or_insert(Extent { decl, end });
        }
        i += 1;
    }
    out
}

fn ident(s: &str) -> (&str, &str) {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
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
        // Receiver: "r *T[K]" or "*T" or "T".
        let ty = inside.rsplit([' ', '*']).next()?.trim();
        let ty = ty.split('[').next()?;
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

/// Declaration lines of functions as built (from DWARF), by full function name.
pub type BuiltDecls = HashMap<Arc<str>, u32>;

/// Where one annotation shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// 1-based line in the text, when shown.
    pub line: Option<u32>,
    /// Why it moved or is hidden.
    pub freshness: Freshness,
}

/// Anchors every annotation of `fa` onto `text`. `changed_since_trace`: the
/// text's file was modified after the trace was recorded (annotations of
/// functions without a known build declaration are then `Unverified`).
pub fn anchor(
    fa: &FileAnnotations,
    text: &str,
    built: &BuiltDecls,
    changed_since_trace: bool,
) -> Vec<Anchor> {
    let funcs = source_functions(text);
    let lines: Vec<&str> = text.lines().collect();
    let holds_code = |l: u32| {
        lines.get(l as usize - 1).is_some_and(|s| {
            let t = s.trim();
            !t.is_empty() && !t.starts_with("//")
        })
    };
    // A file that declares no functions (not Go source, or unparsable):
    // only the line checks apply.
    let go_source = !funcs.is_empty();
    fa.lines
        .iter()
        .map(|a| {
            let key = func_key(&a.function);
            let ext = key.as_ref().and_then(|k| funcs.get(k));
            let (line, fresh) = match (go_source, key.is_some(), ext) {
                (true, true, None) => {
                    return Anchor {
                        line: None,
                        freshness: Freshness::Stale(format!(
                            "`{}` is no longer declared in this file",
                            a.function
                        )),
                    };
                }
                (_, _, Some(ext)) => match built.get(&a.function) {
                    Some(&decl) if decl != ext.decl => {
                        let d = i64::from(ext.decl) - i64::from(decl);
                        ((i64::from(a.line) + d).max(1) as u32, Freshness::Moved(d))
                    }
                    Some(_) => (a.line, Freshness::Fresh),
                    None if changed_since_trace => (a.line, Freshness::Unverified),
                    None => (a.line, Freshness::Fresh),
                },
                _ if changed_since_trace => (a.line, Freshness::Unverified),
                _ => (a.line, Freshness::Fresh),
            };
            if line as usize > lines.len() {
                return Anchor {
                    line: None,
                    freshness: Freshness::Stale(format!("line {line} is past the end of the file")),
                };
            }
            if let Some(ext) = ext
                && (line < ext.decl || line > ext.end)
            {
                return Anchor {
                    line: None,
                    freshness: Freshness::Stale(format!(
                        "line {line} is outside `{}` (now lines {}–{})",
                        a.function, ext.decl, ext.end
                    )),
                };
            }
            if !holds_code(line) {
                return Anchor {
                    line: None,
                    freshness: Freshness::Stale(format!("line {line} no longer holds code")),
                };
            }
            Anchor {
                line: Some(line),
                freshness: fresh,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(func_key("main.consumer").as_deref(), Some("consumer"));
        assert_eq!(func_key("main.(*T).Run").as_deref(), Some("T.Run"));
        assert_eq!(func_key("main.runMutex.func1").as_deref(), Some("runMutex"));
        assert_eq!(
            func_key("main.runMutex.func1.2").as_deref(),
            Some("runMutex")
        );
        assert_eq!(
            func_key("example.com/x/pkg.(*Q[...]).Get").as_deref(),
            Some("Q.Get")
        );
        assert_eq!(func_key("example.com/x/pkg.F[...]").as_deref(), Some("F"));
        assert_eq!(func_key("main.init.0").as_deref(), Some("init"));
        assert_eq!(func_key("main.T.M.func2").as_deref(), Some("T.M"));
        assert_eq!(func_key("main.main.gowrap1").as_deref(), Some("main"));
    }

    #[test]
    fn functions_in_source() {
        let src = "package main\n\nfunc a() {\n\tx()\n}\n\nfunc (t *T[K]) M(x int) {\n}\nfunc one() { }\n";
        let f = source_functions(src);
        assert_eq!(f["a"], Extent { decl: 3, end: 5 });
        assert_eq!(f["T.M"], Extent { decl: 7, end: 8 });
        assert_eq!(f["one"], Extent { decl: 9, end: 9 });
    }
}
