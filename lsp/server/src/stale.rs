//! Staleness: does the source text still match what the traced binary was
//! built from? Anchors each annotation of a file onto a line of the given
//! source text, or marks it stale — never shows it on a line it was not
//! recorded for.
//!
//! An annotation is a function name and the line recorded in the build. Its
//! declared function (`T.M`, `F`, the N-th `init`) is found in the text;
//! the binary's DWARF gives declaration lines as built. Rules:
//!
//! | function | evidence (DWARF) | shown at |
//! |---|---|---|
//! | named (incl. generic, methods of generic types, method values `-fm`, inlined helpers) | its `func` line as built | recorded line + (current − built `func` line) |
//! | closure, `go`/`defer` wrapper, range-over-func body (nested or deferred alike) | the enclosing declared function's `func` line and the literal's own line | moved by the enclosing function's offset, only when the literal (`func(`, `go`, `defer`, `for … range`) is at its built line + that offset; else stale |
//! | Go ≤ 1.20 `funcN` / `funcN.M` (a literal, or the wrapper of `go f(x)` / `defer x.Close()`, named alike) | as above | as above, the opener being a `func(` literal, a `go` or a `defer` statement |
//! | closure, enclosing line unknown (made in an inlined call; or of a package-level variable, `init.funcN`: the package's initializer, which no `func init()` declares) | the literal's own line | the recorded line, only when the literal is still on its built line |
//! | not declared in the file (`//go:linkname`) | none | the recorded line while the text is as at the trace; else stale |
//! | any, no DWARF | the text the trace's lines were recorded in ([`SinceTrace`]) | the recorded line when the file is unchanged; else where a line diff against that text puts it; stale when the line was edited, or when that text is unknown |
//!
//! The two kinds of declaration lines are never mixed: a closure's literal
//! line is compared with a literal, a function's `func` line with a `func`
//! declaration. Unedited text therefore never moves an annotation (every
//! offset is 0). Then the line must lie inside the function (and the
//! literal) as they are now, and hold code.
//!
//! Knows no LSP types; lines are 1-based.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use goblock_analysis::source::is_declared;
use goblock_symbols::funcname::{self, ClosureKind, FuncName};

use crate::annotations::{Annotation, FileAnnotations, Freshness};
use crate::docs::LineDiff;
use crate::gosrc::{Extent, Opener, Outline};

/// How a text relates to the text the trace's lines were recorded in: the
/// evidence for a line when the build's declaration lines say nothing
/// (see `crate::origins`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinceTrace {
    /// The same text: not modified since the trace, or equal to it.
    Unchanged,
    /// Changed since the trace, whose text is known: its lines map onto
    /// this text by this diff.
    Diffed(LineDiff),
    /// Changed since the trace, and its text from then is unknown.
    Unknown,
}

impl SinceTrace {
    /// Where recorded `line` is in the text without other evidence: the
    /// line itself, its line after the diff, or why it cannot be placed.
    fn place(&self, line: u32) -> Result<(u32, Freshness), String> {
        match self {
            SinceTrace::Unchanged => Ok((line, Freshness::Fresh)),
            SinceTrace::Diffed(d) => match line.checked_sub(1).and_then(|l| d.line(l)) {
                Some(now) => Ok((now + 1, moved(i64::from(now + 1) - i64::from(line)))),
                None => Err(format!("line {line} was edited since the trace")),
            },
            SinceTrace::Unknown => Err(format!(
                "the file changed after the trace, and neither the traced binary (its \
                 declaration lines) nor the file's text at the trace says where line {line} is now"
            )),
        }
    }
}

/// Declaration lines of functions as built (from DWARF): by full function
/// name (trace spelling), including the declared functions that closures
/// belong to and all their closures; and per declared function, the
/// lines of its closures' literals and what may open them.
#[derive(Debug, Default)]
pub struct BuiltDecls {
    lines: HashMap<Arc<str>, u32>,
    /// Names built by a Go ≤ 1.20 toolchain: there `funcN` / `funcN.M` is
    /// a literal or a `go`/`defer` wrapper alike.
    old_naming: HashSet<Arc<str>>,
    literals: HashMap<String, Vec<(u32, Openers)>>,
}

/// What may open a closure's body at its built line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Openers {
    kind: ClosureKind,
    /// A Go ≤ 1.20 `funcN`: a `go` or `defer` statement opens it as well.
    or_wrapper: bool,
}

impl Openers {
    fn of(kind: ClosureKind, old_naming: bool) -> Openers {
        Openers {
            kind,
            or_wrapper: old_naming && kind == ClosureKind::Literal,
        }
    }

    fn list(self) -> &'static [Opener] {
        match self.kind {
            ClosureKind::Literal if self.or_wrapper => {
                &[Opener::Literal, Opener::Go, Opener::Defer]
            }
            ClosureKind::Literal => &[Opener::Literal],
            ClosureKind::Go => &[Opener::Go],
            ClosureKind::Defer => &[Opener::Defer],
            ClosureKind::Range => &[Opener::Range],
        }
    }

    fn what(self) -> &'static str {
        match self.kind {
            ClosureKind::Literal if self.or_wrapper => {
                "function literal (or `go`/`defer` statement)"
            }
            ClosureKind::Literal => "function literal",
            ClosureKind::Go => "`go` statement",
            ClosureKind::Defer => "`defer` statement",
            ClosureKind::Range => "range loop",
        }
    }

    /// The construct at `line` of the text that opens the closure.
    fn at(self, outline: &Outline, line: u32) -> Option<Extent> {
        self.list().iter().find_map(|&o| outline.opener_at(line, o))
    }
}

/// Whether a Go toolchain of this trace version (`1.19`, as the trace
/// header says) names `go`/`defer` wrappers like closures (`funcN`):
/// before Go 1.21, which introduced `gowrapN`/`deferwrapN`.
pub fn names_wrappers_like_closures(go_version: &str) -> bool {
    let mut parts = go_version.trim().split('.');
    match (
        parts.next(),
        parts.next().and_then(|m| m.parse::<u32>().ok()),
    ) {
        (Some("1"), Some(minor)) => minor < 21,
        _ => false,
    }
}

impl BuiltDecls {
    /// Indexes declaration lines by function name; `old_naming`: the names
    /// built by a Go ≤ 1.20 toolchain ([`names_wrappers_like_closures`]).
    pub fn new(lines: HashMap<Arc<str>, u32>, old_naming: HashSet<Arc<str>>) -> BuiltDecls {
        let mut literals: HashMap<String, Vec<(u32, Openers)>> = HashMap::new();
        for (name, &line) in &lines {
            if let Some(n) = funcname::parse(name)
                && let (Some(kind), Some(e)) = (n.closure, n.enclosing)
            {
                let o = Openers::of(kind, old_naming.contains(name));
                literals.entry(e).or_default().push((line, o));
            }
        }
        for v in literals.values_mut() {
            v.sort_unstable_by_key(|l| (l.0, l.1.or_wrapper));
            v.dedup();
        }
        BuiltDecls {
            lines,
            old_naming,
            literals,
        }
    }

    fn openers(&self, name: &str, kind: ClosureKind) -> Openers {
        Openers::of(kind, self.old_naming.contains(name))
    }

    /// The declaration line of a function, as built.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.lines.get(name).copied()
    }
}

impl BuiltDecls {
    /// The declaration lines the binaries of these traces' DWARF gave
    /// (none for a trace read without its binary).
    pub fn of_traces<'a>(
        traces: impl IntoIterator<Item = &'a goblock_analysis::TraceAnalysis>,
    ) -> BuiltDecls {
        let mut built = HashMap::new();
        let mut old_naming = HashSet::new();
        for a in traces {
            let old = names_wrappers_like_closures(&a.summary.go_version);
            for (f, d) in &a.functions {
                built.insert(f.clone(), d.line);
                if old {
                    old_naming.insert(f.clone());
                }
            }
        }
        BuiltDecls::new(built, old_naming)
    }
}

impl FromIterator<(Arc<str>, u32)> for BuiltDecls {
    /// Names as built by Go 1.21 or later.
    fn from_iter<I: IntoIterator<Item = (Arc<str>, u32)>>(it: I) -> Self {
        BuiltDecls::new(it.into_iter().collect(), HashSet::new())
    }
}

/// Where one annotation shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// 1-based line in the text, when shown.
    pub line: Option<u32>,
    /// Why it moved or is hidden.
    pub freshness: Freshness,
}

impl Anchor {
    fn stale(why: String) -> Anchor {
        Anchor {
            line: None,
            freshness: Freshness::Stale(why),
        }
    }
}

/// The built `func` line of the declared function a name belongs to.
fn built_decl_of(name: &FuncName, full: &str, built: &BuiltDecls) -> Option<u32> {
    match &name.enclosing {
        Some(e) => built.get(e.as_str()),
        None if !name.is_closure() => built.get(full),
        None => None,
    }
}

/// A position decided for an annotation, before the final line checks.
struct Placed {
    line: u32,
    freshness: Freshness,
    /// The current extents the line must lie in.
    within: Vec<Extent>,
}

/// The declaration in the text that the name belongs to, among several of
/// the same key (`init`): the one at the built line, else the only one.
fn pick(
    exts: &[Extent],
    built: Option<u32>,
    recorded: u32,
    name: &FuncName,
) -> Result<Extent, String> {
    if let [one] = exts {
        return Ok(*one);
    }
    if let Some(b) = built
        && let Some(e) = exts.iter().find(|e| e.decl == b)
    {
        return Ok(*e);
    }
    if built.is_none()
        && let Some(e) = exts.iter().find(|e| e.contains(recorded))
    {
        return Ok(*e);
    }
    Err(format!(
        "this file declares `{}` {} times and none is where the build had it",
        name.key(),
        exts.len()
    ))
}

fn place(
    a: &Annotation,
    outline: &Outline,
    built: &BuiltDecls,
    since: &SinceTrace,
) -> Result<Placed, String> {
    // Without the build's declaration lines: the text's own evidence.
    let by_text = |line: u32| since.place(line);
    let recorded = || -> Result<Placed, String> {
        let (line, freshness) = by_text(a.line)?;
        Ok(Placed {
            line,
            freshness,
            within: Vec::new(),
        })
    };
    let Some(name) = funcname::parse(&a.function) else {
        return recorded();
    };
    if !outline.is_go() {
        return recorded();
    }
    // The package's own initializer (`init` without an index: package-level
    // variables and their closures) is declared nowhere; the file's
    // `func init()` are `init.0`, `init.1`, … and must not stand for it.
    let exts = if !is_declared(&name) {
        &[]
    } else {
        name.keys()
            .into_iter()
            .map(|k| outline.functions(&k))
            .find(|e| !e.is_empty())
            .unwrap_or(&[])
    };
    let decl_built = built_decl_of(&name, &a.function, built);
    // The text as at the trace: its lines are the recorded ones, even of a
    // function declared under another name (`//go:linkname`).
    let unchanged = *since == SinceTrace::Unchanged;
    let Some(kind) = name.closure else {
        // A declared function: moves with its `func` line.
        if exts.is_empty() && unchanged {
            return recorded();
        }
        if exts.is_empty() {
            return Err(format!(
                "`{}` is no longer declared in this file",
                a.function
            ));
        }
        let ext = pick(exts, decl_built, a.line, &name)?;
        return Ok(match decl_built {
            Some(b) => {
                let d = i64::from(ext.decl) - i64::from(b);
                unedited_above(&name, built, outline, ext, b, a.line, d)?;
                Placed {
                    line: shifted(a.line, d),
                    freshness: moved(d),
                    within: vec![ext],
                }
            }
            None => Placed {
                within: vec![ext],
                ..recorded()?
            },
        });
    };
    // A closure or wrapper: its literal's line as built, checked against a
    // literal in the text.
    let lit_built = built.get(&a.function);
    let enclosing = if exts.is_empty() {
        if name.enclosing.is_some()
            && name.init_index.is_none()
            && name.name != "init"
            && !unchanged
        {
            return Err(format!(
                "`{}` is no longer declared in this file",
                name.key()
            ));
        }
        // Closures of inlined calls and of package-level variables: no
        // declaration to hold on to in this file.
        None
    } else {
        Some(pick(exts, decl_built, a.line, &name)?)
    };
    let d = match (enclosing, decl_built) {
        (Some(ext), Some(b)) => i64::from(ext.decl) - i64::from(b),
        _ => 0,
    };
    let evidence = decl_built.is_some() && enclosing.is_some();
    // The annotation's line and freshness: by the enclosing function's
    // offset, else by the text.
    let (line, freshness) = if evidence {
        (shifted(a.line, d), moved(d))
    } else {
        by_text(a.line)?
    };
    let Some(lit) = lit_built else {
        // No literal line known: the enclosing function's offset alone.
        let mut p = Placed {
            line,
            freshness,
            within: Vec::new(),
        };
        p.within.extend(enclosing);
        return Ok(p);
    };
    let expect = if evidence {
        shifted(lit, d)
    } else {
        match by_text(lit) {
            Ok((l, _)) => l,
            Err(_) => {
                return Err(format!(
                    "the line of `{}`'s literal (built at line {lit}) was edited since the trace",
                    a.function
                ));
            }
        }
    };
    let openers = built.openers(&a.function, kind);
    let Some(lit_ext) = openers.at(outline, expect) else {
        return Err(format!(
            "the {} of `{}` built at line {lit} is not at line {expect} any more",
            openers.what(),
            a.function
        ));
    };
    if let Some(e) = enclosing
        && !e.contains(lit_ext.decl)
    {
        return Err(format!(
            "the {} at line {expect} is outside `{}` (lines {}–{})",
            openers.what(),
            name.key(),
            e.decl,
            e.end
        ));
    }
    if let (Some(ext), Some(b)) = (enclosing, decl_built) {
        unedited_above(&name, built, outline, ext, b, a.line, d)?;
    }
    let mut within = vec![lit_ext];
    within.extend(enclosing);
    Ok(Placed {
        line,
        freshness,
        within,
    })
}

/// Evidence that the declared function was not edited above `line`: every
/// closure literal it had between its `func` line and `line` at build time
/// is still there, moved by the same offset `d`.
fn unedited_above(
    name: &FuncName,
    built: &BuiltDecls,
    outline: &Outline,
    ext: Extent,
    decl_built: u32,
    line: u32,
    d: i64,
) -> Result<(), String> {
    let Some(lits) = name.enclosing.as_ref().and_then(|e| built.literals.get(e)) else {
        return Ok(());
    };
    for &(lk, openers) in lits.iter().filter(|l| l.0 > decl_built && l.0 <= line) {
        let at = shifted(lk, d);
        if !openers
            .at(outline, at)
            .is_some_and(|e| ext.contains(e.decl))
        {
            return Err(format!(
                "`{}` was edited above line {} since the build (its {} of line {lk} is not at line {at})",
                name.key(),
                shifted(line, d),
                openers.what()
            ));
        }
    }
    Ok(())
}

fn shifted(line: u32, d: i64) -> u32 {
    (i64::from(line) + d).max(1) as u32
}

fn moved(d: i64) -> Freshness {
    if d == 0 {
        Freshness::Fresh
    } else {
        Freshness::Moved(d)
    }
}

/// Anchors every annotation of `fa` onto `text`; `since`: how `text`
/// relates to the text at the trace (the evidence without a build
/// declaration).
pub fn anchor(
    fa: &FileAnnotations,
    text: &str,
    built: &BuiltDecls,
    since: &SinceTrace,
) -> Vec<Anchor> {
    let outline = Outline::new(text);
    fa.lines
        .iter()
        .map(|a| anchor_one(&outline, a, built, since))
        .collect()
}

/// Anchors one annotation (or any recorded line: a function and its line)
/// onto the text of `outline`.
pub fn anchor_one(
    outline: &Outline,
    a: &Annotation,
    built: &BuiltDecls,
    since: &SinceTrace,
) -> Anchor {
    let p = match place(a, outline, built, since) {
        Ok(p) => p,
        Err(why) => return Anchor::stale(why),
    };
    let line = p.line;
    if line > outline.line_count() {
        return Anchor::stale(format!("line {line} is past the end of the file"));
    }
    if let Some(e) = p.within.iter().find(|e| !e.contains(line)) {
        return Anchor::stale(format!(
            "line {line} is outside `{}` (now lines {}–{})",
            a.function, e.decl, e.end
        ));
    }
    if !outline.holds_code(line) {
        return Anchor::stale(format!("line {line} no longer holds code"));
    }
    Anchor {
        line: Some(line),
        freshness: p.freshness,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(function: &str, line: u32) -> Annotation {
        Annotation {
            line,
            function: function.into(),
            ..Default::default()
        }
    }

    /// Anchors onto `src`, a file changed since the trace whose text then
    /// is unknown (the build's declaration lines are the only evidence).
    fn run(src: &str, anns: &[(&str, u32)], built: &[(&str, u32)]) -> Vec<Option<u32>> {
        run_since(src, anns, built, &SinceTrace::Unknown)
    }

    fn run_since(
        src: &str,
        anns: &[(&str, u32)],
        built: &[(&str, u32)],
        since: &SinceTrace,
    ) -> Vec<Option<u32>> {
        let fa = FileAnnotations {
            path: "/x/main.go".into(),
            in_workspace: true,
            lines: anns.iter().map(|(f, l)| ann(f, *l)).collect(),
        };
        let built: BuiltDecls = built.iter().map(|(f, l)| (Arc::from(*f), *l)).collect();
        anchor(&fa, src, &built, since)
            .into_iter()
            .map(|a| a.line)
            .collect()
    }

    const SRC: &str = "package main

func helper() {
	<-ch
}

func main() {
	setup()
	go func() {
		x := 1
		<-ch
		_ = x
	}()
	<-done
}
";

    #[test]
    fn unedited_closures_stay() {
        // main at 7, its literal at 9, the receive in the literal at 11.
        let built = [("main.main", 7), ("main.main.func1", 9), ("main.helper", 3)];
        let got = run(
            SRC,
            &[
                ("main.main.func1", 11),
                ("main.main", 14),
                ("main.helper", 4),
            ],
            &built,
        );
        assert_eq!(got, [Some(11), Some(14), Some(4)]);
        // Without the enclosing function's line: the literal's own line,
        // in a text as traced.
        let lit = [("main.main.func1", 9)];
        let got = run_since(
            SRC,
            &[("main.main.func1", 11)],
            &lit,
            &SinceTrace::Unchanged,
        );
        assert_eq!(got, [Some(11)]);
        // Changed since, its text then unknown: the literal's line alone
        // does not place the lines inside it.
        assert_eq!(run(SRC, &[("main.main.func1", 11)], &lit), [None]);
    }

    #[test]
    fn closures_move_with_their_function_or_go_stale() {
        let built = [("main.main", 7), ("main.main.func1", 9)];
        // Two lines inserted above main: everything moves by 2.
        let src = SRC.replace("func main() {", "// a\n// b\nfunc main() {");
        assert_eq!(run(&src, &[("main.main.func1", 11)], &built), [Some(13)]);
        // A line inserted inside main above the literal: the literal is not
        // where the offset says — stale, not a neighbour.
        let src = SRC.replace("\tsetup()\n", "\tsetup()\n\tmore()\n");
        assert_eq!(run(&src, &[("main.main.func1", 11)], &built), [None]);
        // main's own line below the edit: its literal moved, so main was
        // edited above the line: stale too. Above the edit: kept.
        assert_eq!(
            run(&src, &[("main.main", 14), ("main.main", 8)], &built),
            [None, Some(8)]
        );
        // The literal deleted.
        let src = SRC.replace("go func() {", "go (func() {");
        assert_eq!(run(&src, &[("main.main.func1", 11)], &[]), [None]);
        let src = SRC.replace("\tgo func() {\n", "\t{\n");
        assert_eq!(run(&src, &[("main.main.func1", 11)], &built), [None]);
    }

    /// Without the build's declaration lines, the text at the trace is the
    /// evidence: a line diff places kept lines and hides edited ones;
    /// without that text a changed file shows nothing.
    #[test]
    fn without_declaration_lines_the_text_at_the_trace_places_lines() {
        let fa = FileAnnotations {
            path: "/x/main.go".into(),
            in_workspace: true,
            lines: [
                ("main.helper", 4),
                ("main.main.func1", 11),
                ("main.main", 14),
            ]
            .iter()
            .map(|(f, l)| ann(f, *l))
            .collect(),
        };
        let none = BuiltDecls::default();
        let lines = |text: &str, since: &SinceTrace| -> Vec<Option<u32>> {
            anchor(&fa, text, &none, since)
                .into_iter()
                .map(|a| a.line)
                .collect()
        };
        let diffed = |now: &str| {
            SinceTrace::Diffed(LineDiff::new(
                &crate::docs::line_hashes(SRC),
                &crate::docs::line_hashes(now),
            ))
        };
        assert_eq!(
            lines(SRC, &SinceTrace::Unchanged),
            [Some(4), Some(11), Some(14)]
        );
        // Three lines above main: main's lines follow, helper stays.
        let src = SRC.replace("func main() {", "// a\n// b\n// c\nfunc main() {");
        assert_eq!(lines(&src, &diffed(&src)), [Some(4), Some(14), Some(17)]);
        let a = anchor(&fa, &src, &none, &diffed(&src));
        assert_eq!(a[1].freshness, Freshness::Moved(3));
        assert_eq!(a[0].freshness, Freshness::Fresh);
        // The receive itself rewritten: hidden, not shown on a neighbour.
        let src = SRC.replace("\t\t<-ch\n", "\t\t<-other\n");
        let a = anchor(&fa, &src, &none, &diffed(&src));
        assert_eq!(a[1].line, None);
        assert!(
            matches!(&a[1].freshness, Freshness::Stale(w) if w.contains("line 11 was edited")),
            "{:?}",
            a[1].freshness
        );
        // The same file saved again: an identity diff.
        assert_eq!(lines(SRC, &diffed(SRC)), [Some(4), Some(11), Some(14)]);
        // Changed, and the text at the trace unknown: nothing is shown.
        assert_eq!(lines(SRC, &SinceTrace::Unknown), [None, None, None]);
    }

    /// A function declared under another name (`//go:linkname`, as
    /// `internal/poll.runtime_pollWait` in runtime/netpoll.go) is not found
    /// by its name: in the text as at the trace its line stands; changed
    /// since, nothing places it.
    #[test]
    fn linknamed_functions_in_unchanged_text() {
        let src = "package runtime\n\n//go:linkname poll_runtime_pollWait internal/poll.runtime_pollWait\nfunc poll_runtime_pollWait(pd *pollDesc, mode int) int {\n\tfor !netpollblock(pd, int32(mode), false) {\n\t}\n\treturn 0\n}\n";
        let anns = [("internal/poll.runtime_pollWait", 5)];
        assert_eq!(
            run_since(src, &anns, &[], &SinceTrace::Unchanged),
            [Some(5)]
        );
        assert_eq!(run(src, &anns, &[]), [None]);
    }

    /// Closures of package-level variables belong to the package's own
    /// initializer `init`, which no `func init()` of the file declares
    /// (those are `init.0`, `init.1`, …; net/http's h2_bundle.go has both):
    /// placed by the text and their literal, never through an explicit
    /// `init`.
    #[test]
    fn package_variable_closures_beside_an_explicit_init() {
        let src = "package main\n\nvar work = func(ch chan int) {\n\t<-ch\n}\n\nfunc init() {\n\tgo work(nil)\n}\n";
        let anns = [("main.init.func1", 4)];
        for built in [
            &[("main.init.0", 7), ("main.init.func1", 3)][..],
            // The package initializer's own declaration line, as DWARF may
            // give it.
            &[("main.init.0", 7), ("main.init", 1), ("main.init.func1", 3)],
        ] {
            let unchanged = run_since(src, &anns, built, &SinceTrace::Unchanged);
            assert_eq!(unchanged, [Some(4)], "{built:?}");
            // Changed since the trace, its text then unknown: no enclosing
            // declaration to move it by, so stale (as a closure of an
            // inlined call), not guessed.
            assert_eq!(run(src, &anns, built), [None], "{built:?}");
            // Two lines above the variable: it follows its literal.
            let now = src.replace("var work", "// a\n// b\nvar work");
            let diffed = SinceTrace::Diffed(LineDiff::new(
                &crate::docs::line_hashes(src),
                &crate::docs::line_hashes(&now),
            ));
            assert_eq!(
                run_since(&now, &anns, built, &diffed),
                [Some(6)],
                "{built:?}"
            );
        }
    }

    #[test]
    fn several_inits() {
        let src = "package main\n\nfunc init() {\n\t<-a\n}\n\nfunc init() {\n\tgo func() {\n\t\t<-b\n\t}()\n}\n";
        let built = [
            ("main.init.0", 3),
            ("main.init.1", 7),
            ("main.init.1.func1", 8),
        ];
        let got = run(src, &[("main.init.0", 4), ("main.init.1.func1", 9)], &built);
        assert_eq!(got, [Some(4), Some(9)]);
        // Three lines above: both move.
        let src2 = format!("// x\n// y\n// z\n{src}");
        let built2 = [
            ("main.init.0", 3),
            ("main.init.1", 7),
            ("main.init.1.func1", 8),
        ];
        let got = run(
            &src2,
            &[("main.init.0", 4), ("main.init.1.func1", 9)],
            &built2,
        );
        assert_eq!(got, [None, None], "ambiguous inits are stale, not guessed");
    }

    #[test]
    fn method_values_generics_and_inlined_closures() {
        let src = "package main\n\ntype S[T any] struct{}\n\nfunc (s *S[T]) run() {\n\t<-c\n}\n\nfunc Map[T any](x T) {\n\tgo func() {\n\t\t<-c\n\t}()\n}\n";
        let built = [
            ("main.(*S[...]).run", 5),
            ("main.Map[...]", 9),
            ("main.Map[...].func1", 10),
        ];
        let got = run(
            src,
            &[
                ("main.(*S[...]).run-fm", 6),
                ("main.Map[...].func1", 11),
                ("main.Map[...]", 12),
            ],
            &built,
        );
        assert_eq!(got, [Some(6), Some(11), Some(12)]);
        // A closure of an inlined call, in a text as traced: its literal
        // line is checked too.
        let unchanged = &SinceTrace::Unchanged;
        let got = run_since(
            src,
            &[("main.other.func2.Map.1", 11)],
            &[("main.other.func2.Map.1", 10)],
            unchanged,
        );
        assert_eq!(got, [Some(11)]);
        let got = run_since(
            src,
            &[("main.other.func2.Map.1", 11)],
            &[("main.other.func2.Map.1", 9)],
            unchanged,
        );
        assert_eq!(got, [None]);
    }

    #[test]
    fn go_1_20_wrappers_named_like_closures() {
        // Go 1.19: `load.func1` is the wrapper of `go fetch(u)` (line 5),
        // `load.func2` a literal (line 6), `load.func2.1` the wrapper of
        // `defer body.Close()` inside it (line 7).
        let src = "package main\n\nfunc load() {\n\tstart()\n\tgo fetch(u)\n\tgo func() {\n\t\tdefer body.Close()\n\t\t<-ch\n\t}()\n\t<-done\n}\n";
        let lines: HashMap<Arc<str>, u32> = [
            ("main.load", 3),
            ("main.load.func1", 5),
            ("main.load.func2", 6),
            ("main.load.func2.1", 7),
        ]
        .into_iter()
        .map(|(f, l)| (Arc::from(f), l))
        .collect();
        let old: HashSet<Arc<str>> = lines.keys().cloned().collect();
        let fa = |anns: &[(&str, u32)]| FileAnnotations {
            path: "/x/main.go".into(),
            in_workspace: true,
            lines: anns.iter().map(|(f, l)| ann(f, *l)).collect(),
        };
        let anns = [
            ("main.load.func2", 8),
            ("main.load", 10),
            ("main.load.func2.1", 7),
        ];
        let got = |src: &str, built: &BuiltDecls| -> Vec<Option<u32>> {
            anchor(&fa(&anns), src, built, &SinceTrace::Unknown)
                .into_iter()
                .map(|a| a.line)
                .collect()
        };
        let go119 = BuiltDecls::new(lines.clone(), old);
        assert_eq!(got(src, &go119), [Some(8), Some(10), Some(7)]);
        // Moved as a whole: still shown, moved.
        let moved = format!("// a\n{src}");
        assert_eq!(got(&moved, &go119), [Some(9), Some(11), Some(8)]);
        // A line inserted above the `go fetch(u)` wrapper: what is below is
        // stale, not guessed.
        let edited = src.replace("\tstart()\n", "\tstart()\n\tmore()\n");
        assert_eq!(got(&edited, &go119), [None, None, None]);
        // The same names from a Go 1.21+ build are literals: no literal at
        // line 5 means `load` changed.
        let go121 = BuiltDecls::new(lines, HashSet::new());
        assert_eq!(got(src, &go121)[1], None);
        assert!(names_wrappers_like_closures("1.19"));
        assert!(names_wrappers_like_closures("1.11"));
        assert!(!names_wrappers_like_closures("1.21"));
        assert!(!names_wrappers_like_closures("1.23"));
        assert!(!names_wrappers_like_closures(""));
    }
}
