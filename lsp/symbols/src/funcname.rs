//! Go function symbol names taken apart: which declared function a name
//! belongs to (`main.(*T).M`, `main.F[...]`, `main.init.0`) and which
//! closure or wrapper inside it (`.func1`, nested `.1`, `.gowrap2`,
//! `.deferwrap1`, `-range1`, method values `-fm`), as the Go compiler names
//! them (`cmd/compile/internal/ir.closureName`: closures numbered per
//! enclosing function, nested ones with a bare `.N`, closures created in
//! inlined calls carry the inlined function's name before their number).
//!
//! Works on names as the trace or DWARF spells them (generic arguments as
//! `[...]` or `[go.shape.int]`, `·` never reaches here). Knows nothing of
//! source text: matching a name with a declaration is the server's.

/// What kind of closure or wrapper a name ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosureKind {
    /// A function literal (`func(…) {…}`): `.funcN`, nested `.N`.
    Literal,
    /// The wrapper of a `go f(x)` statement: `.gowrapN`.
    Go,
    /// The wrapper of a `defer f(x)` statement: `.deferwrapN`.
    Defer,
    /// The body of a range-over-func loop: `-rangeN`.
    Range,
}

/// A function name taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncName {
    /// Package path (`main`, `example.com/x/pkg`).
    pub package: String,
    /// Receiver type of the declared function, without `*` and type
    /// arguments (`T` for `(*T[...]).M`); `None` for plain functions.
    pub receiver: Option<String>,
    /// Name of the declared function (`M`, `F`, `init`).
    pub name: String,
    /// For `init.N`: `N` (the package's N-th `func init`, over all files).
    pub init_index: Option<u32>,
    /// The innermost closure or wrapper the name ends in, if any.
    pub closure: Option<ClosureKind>,
    /// The full name of the declared function (`main.(*T[...]).M`,
    /// `main.init.0`) — `None` when the closure was created inside an
    /// inlined call, whose declared function belongs to another name.
    pub enclosing: Option<String>,
    /// `a.b` without parentheses may be the value method `b` of type `a`
    /// or, for closures of inlined calls, the function `b` inlined into
    /// `a`: [`FuncName::keys`] offers both.
    pub receiver_ambiguous: bool,
}

impl FuncName {
    /// The key a source declaration of the function has: `T.M` or `F`.
    pub fn key(&self) -> String {
        match &self.receiver {
            Some(r) => format!("{r}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The keys to look the declaration up by, most likely first.
    pub fn keys(&self) -> Vec<String> {
        let mut k = vec![self.key()];
        if self.receiver_ambiguous {
            k.push(self.name.clone());
        }
        k
    }

    /// Whether the name is a closure or a wrapper inside a declared function.
    pub fn is_closure(&self) -> bool {
        self.closure.is_some()
    }
}

/// Splits `s` at `sep` outside brackets and parentheses.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            _ if c == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The closure kind of one name component (`func3`, `1`, `gowrap2`, …).
fn suffix_kind(c: &str) -> Option<ClosureKind> {
    if digits(c) {
        return Some(ClosureKind::Literal);
    }
    for (p, k) in [
        ("func", ClosureKind::Literal),
        ("gowrap", ClosureKind::Go),
        ("deferwrap", ClosureKind::Defer),
    ] {
        if c.strip_prefix(p).is_some_and(digits) {
            return Some(k);
        }
    }
    None
}

/// `f-range2` → (`f`, true).
fn strip_range(c: &str) -> (&str, bool) {
    if let Some(i) = c.rfind("-range")
        && digits(&c[i + "-range".len()..])
    {
        return (&c[..i], true);
    }
    (c, false)
}

/// `(*T[...])` / `T[go.shape.int]` → `T`.
fn type_name(c: &str) -> String {
    let c = c.trim_start_matches('(').trim_end_matches(')');
    let c = c.trim_start_matches('*');
    c.split('[').next().unwrap_or(c).to_owned()
}

fn ident_like(c: &str) -> bool {
    let c = c.trim_start_matches("(*").trim_start_matches('(');
    c.chars()
        .next()
        .is_some_and(|ch| ch.is_alphabetic() || ch == '_')
}

/// Parses a function name. `None` for names that are not Go functions of a
/// package (no `pkg.` prefix).
pub fn parse(full: &str) -> Option<FuncName> {
    // The package path ends at the first '.' after its last '/', both
    // outside brackets (type arguments may hold paths).
    let mut depth = 0i32;
    let mut last_slash = 0;
    for (i, c) in full.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            '/' if depth == 0 => last_slash = i + 1,
            _ => {}
        }
    }
    let dot = last_slash + full[last_slash..].find('.')?;
    let package = &full[..dot];
    let rest = &full[dot + 1..];
    if package.is_empty() || rest.is_empty() {
        return None;
    }
    let mut base: Vec<&str> = split_top(rest, '.');
    // A method value's wrapper stands for the method itself.
    if let Some(last) = base.last_mut()
        && let Some(m) = last.strip_suffix("-fm")
    {
        *last = m;
    }
    // `init.0`: the number names the function, it is not a closure.
    let floor = if base.len() >= 2 && base[0] == "init" && digits(base[1]) {
        2
    } else {
        1
    };
    // The closure chain: trailing suffix components and `-rangeN` marks,
    // innermost first.
    let mut closure = None;
    while let Some(&last) = base.last() {
        if base.len() > floor
            && let Some(k) = suffix_kind(last)
        {
            closure.get_or_insert(k);
            base.pop();
            continue;
        }
        let (stripped, range) = strip_range(last);
        if range {
            closure.get_or_insert(ClosureKind::Range);
            *base.last_mut().unwrap_or(&mut "") = stripped;
            continue;
        }
        break;
    }
    // A closure made in an inlined call: `outer.func3.Inlined.1` — the
    // declared function is the one after the last suffix inside `base`.
    let inner_start = base
        .iter()
        .rposition(|c| suffix_kind(c).is_some())
        .filter(|&i| i >= floor)
        .map(|i| i + 1);
    let inlined = inner_start.is_some();
    let decl: &[&str] = match inner_start {
        Some(i) => &base[i..],
        None => &base,
    };
    let mut plain_receiver = false;
    let (receiver, name, init_idx) = match decl {
        [] => return None,
        [n] => (None, (*n).to_owned(), None),
        ["init", n] if digits(n) => (None, "init".to_owned(), n.parse().ok()),
        [.., r, n] if ident_like(r) => {
            plain_receiver = !r.starts_with('(');
            (Some(type_name(r)), (*n).to_owned(), None)
        }
        [.., n] => (None, (*n).to_owned(), None),
    };
    let name = name.split('[').next().unwrap_or(&name).to_owned();
    if name.is_empty() {
        // `pkg.glob..func1`: a closure of a package-level variable (before
        // Go 1.22; later ones are `pkg.init.funcN`).
        return Some(FuncName {
            package: package.to_owned(),
            receiver: None,
            name: "init".to_owned(),
            init_index: None,
            closure,
            enclosing: None,
            receiver_ambiguous: false,
        });
    }
    let enclosing = (!inlined).then(|| format!("{package}.{}", base.join(".")));
    Some(FuncName {
        package: package.to_owned(),
        receiver,
        name,
        init_index: init_idx,
        closure,
        enclosing,
        receiver_ambiguous: plain_receiver,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FuncName {
        parse(s).unwrap_or_else(|| panic!("{s} did not parse"))
    }

    #[test]
    fn declared_functions() {
        let f = p("main.main");
        assert_eq!(
            (f.key(), f.closure, f.enclosing.as_deref()),
            ("main".into(), None, Some("main.main"))
        );
        let f = p("example.com/x/pkg.(*Q[...]).Get");
        assert_eq!(f.key(), "Q.Get");
        assert_eq!(f.package, "example.com/x/pkg");
        assert_eq!(
            f.enclosing.as_deref(),
            Some("example.com/x/pkg.(*Q[...]).Get")
        );
        assert_eq!(p("main.T.M").key(), "T.M");
        assert_eq!(p("main.Map[go.shape.int,go.shape.string]").key(), "Map");
        assert_eq!(
            p("main.(*queue[go.shape.*example.com/a.T]).pop").key(),
            "queue.pop"
        );
        let f = p("main.init.1");
        assert_eq!(
            (f.key(), f.init_index, f.closure),
            ("init".into(), Some(1), None)
        );
        let f = p("main.(*stats).watch-fm");
        assert_eq!((f.key(), f.closure), ("stats.watch".into(), None));
        assert_eq!(f.enclosing.as_deref(), Some("main.(*stats).watch"));
        assert!(parse("nopackage").is_none());
    }

    #[test]
    fn closures_and_wrappers() {
        let f = p("main.main.func3");
        assert_eq!(
            (f.key(), f.closure),
            ("main".into(), Some(ClosureKind::Literal))
        );
        assert_eq!(f.enclosing.as_deref(), Some("main.main"));
        let f = p("main.runWorkers.func1.1.1");
        assert_eq!(
            (f.key(), f.closure),
            ("runWorkers".into(), Some(ClosureKind::Literal))
        );
        assert_eq!(f.enclosing.as_deref(), Some("main.runWorkers"));
        let f = p("main.main.gowrap3");
        assert_eq!(f.closure, Some(ClosureKind::Go));
        let f = p("main.(*stats).watch.deferwrap1");
        assert_eq!(
            (f.key(), f.closure),
            ("stats.watch".into(), Some(ClosureKind::Defer))
        );
        let f = p("main.parallel[...].func1");
        assert_eq!(f.key(), "parallel");
        assert_eq!(f.enclosing.as_deref(), Some("main.parallel[...]"));
        let f = p("main.init.0.func1");
        assert_eq!((f.key(), f.init_index), ("init".into(), Some(0)));
        assert_eq!(f.enclosing.as_deref(), Some("main.init.0"));
        let f = p("main.T.M.func2");
        assert_eq!(f.key(), "T.M");
        let f = p("main.f-range1");
        assert_eq!((f.key(), f.closure), ("f".into(), Some(ClosureKind::Range)));
        let f = p("main.f-range1.1");
        assert_eq!(
            (f.key(), f.closure),
            ("f".into(), Some(ClosureKind::Literal))
        );
        let f = p("example.com/m.(*S).run-range2");
        assert_eq!(
            (f.key(), f.closure),
            ("S.run".into(), Some(ClosureKind::Range))
        );
        // Closures of package-level variables.
        let f = p("main.init.func1");
        assert_eq!(
            (f.key(), f.closure),
            ("init".into(), Some(ClosureKind::Literal))
        );
        let f = p("main.glob..func1");
        assert_eq!(f.closure, Some(ClosureKind::Literal));
    }

    #[test]
    fn closures_of_inlined_calls() {
        // log.Print inlined into main.main.func3 and holding a closure.
        let f = p("main.main.func3.Print.1");
        assert_eq!(
            (f.key(), f.closure),
            ("Print".into(), Some(ClosureKind::Literal))
        );
        assert_eq!(f.enclosing, None);
        let f = p("main.main.func3.(*Logger).output.2");
        assert_eq!(f.key(), "Logger.output");
        assert_eq!(f.enclosing, None);
    }
}
