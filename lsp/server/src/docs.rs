//! Open documents: their text (a rope: an edit costs O(log n + edit), not
//! O(file)), their version, the "base" text the annotations are anchored to
//! (the file as saved) and the line map from base lines to current lines,
//! kept up to date by edits in O(edit + pieces of the map).
//!
//! * Edits are applied in arrival order; an edit whose version is not newer
//!   than the document's is refused (an overtaken or replayed change can
//!   never corrupt the text or the map).
//! * A change that cannot be applied as sent (a reversed range, a line past
//!   the end) is refused and the document becomes *unverified*: the server's
//!   copy may differ from the editor's, so no line is mapped (annotations
//!   hide) until the next whole-document change resynchronizes it.
//! * A whole-document change or a new base is mapped with a real line diff
//!   (`similar`'s Myers over the lines between the common prefix and
//!   suffix): lines kept follow, changed lines are unmapped.
//!
//! Positions are in the negotiated encoding ([`Encoding`]). Knows no LSP
//! types and nothing of traces.

use std::borrow::Cow;

use ropey::Rope;

/// How `character` offsets count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-16 code units (the LSP default).
    #[default]
    Utf16,
    /// Bytes.
    Utf8,
    /// Unicode scalar values.
    Utf32,
}

/// A position (0-based line, character in the document's [`Encoding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Line.
    pub line: u32,
    /// Character.
    pub character: u32,
}

/// One content change: a range replaced by text, or the whole document.
#[derive(Clone, Debug)]
pub struct Change {
    /// Replaced range; `None` = the whole document.
    pub range: Option<(Pos, Pos)>,
    /// New text.
    pub text: String,
}

/// Why an edit was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The edit's version is not newer than the document's.
    #[error("version {got} is not newer than {have}; change ignored")]
    Stale {
        /// Version of the refused edit.
        got: i32,
        /// Version the document has.
        have: i32,
    },
    /// A change could not be applied; the document is unverified until the
    /// next whole-document change.
    #[error(
        "version {version}: {why}; change refused, annotations hidden until the editor sends the whole text"
    )]
    Refused {
        /// Version of the refused edit.
        version: i32,
        /// What was wrong.
        why: String,
    },
}

/// A run of `len` base lines from `base` shown from current line `cur`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    base: u32,
    cur: u32,
    len: u32,
}

/// Base line → current line, as sorted runs (monotonic in both).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct LineMap(Vec<Run>);

impl LineMap {
    fn identity(lines: u32) -> LineMap {
        LineMap(vec![Run {
            base: 0,
            cur: 0,
            len: lines,
        }])
    }

    fn current(&self, base: u32) -> Option<u32> {
        let i = self.0.partition_point(|r| r.base + r.len <= base);
        let r = self.0.get(i)?;
        (r.base <= base).then(|| r.cur + (base - r.base))
    }

    fn base(&self, cur: u32) -> Option<u32> {
        let i = self.0.partition_point(|r| r.cur + r.len <= cur);
        let r = self.0.get(i)?;
        (r.cur <= cur).then(|| r.base + (cur - r.cur))
    }

    fn push(&mut self, base: u32, cur: u32, len: u32) {
        if len == 0 {
            return;
        }
        if let Some(last) = self.0.last_mut()
            && last.base + last.len == base
            && last.cur + last.len == cur
        {
            last.len += len;
            return;
        }
        self.0.push(Run { base, cur, len });
    }

    /// The unmapped stretches around current lines `from..=to`: pairs of
    /// (base lines, current lines) between consecutive mapped runs (or the
    /// document's ends) whose current side meets `from..=to` or touches it.
    fn gaps_around(
        &self,
        from: u32,
        to: u32,
        base_lines: u32,
        cur_lines: u32,
    ) -> Vec<(std::ops::Range<u32>, std::ops::Range<u32>)> {
        let runs = &self.0;
        // First run ending at or after `from`, then one step back.
        let i = runs
            .partition_point(|r| r.cur + r.len < from)
            .saturating_sub(1);
        let mut out = Vec::new();
        let mut j = i;
        loop {
            // The gap before run j (j == runs.len(): after the last run).
            let (b0, c0) = match j.checked_sub(1).and_then(|p| runs.get(p)) {
                Some(p) => (p.base + p.len, p.cur + p.len),
                None => (0, 0),
            };
            let (b1, c1) = match runs.get(j) {
                Some(r) => (r.base, r.cur),
                None => (base_lines, cur_lines),
            };
            if c0 > to + 1 {
                break;
            }
            if c1 + 1 >= from && b0 < b1 && c0 < c1 {
                out.push((b0..b1, c0..c1));
            }
            if j >= runs.len() {
                break;
            }
            j += 1;
        }
        out
    }

    /// Adds a run of lines known to be unmapped on both sides.
    fn insert(&mut self, run: Run) {
        let i = self.0.partition_point(|r| r.cur < run.cur);
        self.0.insert(i, run);
    }

    /// Applies `f` (current line → new current line, or gone) to every
    /// mapped line, where `f` is the identity below `from`, special on
    /// `from..=to` and a shift by `shift` above `to`.
    fn edit(&mut self, from: u32, to: u32, shift: i64, f: impl Fn(u32) -> Option<u32>) {
        let mut out = LineMap(Vec::with_capacity(self.0.len() + 2));
        for r in &self.0 {
            let end = r.cur + r.len; // exclusive
            // Below the edit.
            let below = end.min(from).saturating_sub(r.cur);
            out.push(r.base, r.cur, below);
            // The edited lines, one by one (at most from..=to of them).
            let lo = r.cur.max(from);
            let hi = end.min(to + 1);
            for c in lo..hi {
                if let Some(n) = f(c) {
                    out.push(r.base + (c - r.cur), n, 1);
                }
            }
            // Above the edit.
            let start = r.cur.max(to + 1);
            if start < end {
                let cur = (i64::from(start) + shift).max(0) as u32;
                out.push(r.base + (start - r.cur), cur, end - start);
            }
        }
        *self = out;
    }
}

/// Maps the lines of `old` onto those of `new` with a line diff.
fn diff_lines(old: &Rope, new: &Rope) -> LineMap {
    let old_lines: Vec<Cow<str>> = old.lines().map(Cow::from).collect();
    let new_lines: Vec<Cow<str>> = new.lines().map(Cow::from).collect();
    diff_slices(&old_lines, &new_lines)
}

/// Maps the items (lines) of `o` onto those of `n`: the common prefix and
/// suffix, then Myers between them; only equal runs are mapped.
fn diff_slices<T: std::hash::Hash + Eq + Ord>(o: &[T], n: &[T]) -> LineMap {
    let pre = o.iter().zip(n).take_while(|(a, b)| a == b).count();
    let max_suf = o.len().min(n.len()) - pre;
    let suf = o
        .iter()
        .rev()
        .zip(n.iter().rev())
        .take(max_suf)
        .take_while(|(a, b)| a == b)
        .count();
    let mut map = LineMap::default();
    map.push(0, 0, pre as u32);
    let (om, nm) = (&o[pre..o.len() - suf], &n[pre..n.len() - suf]);
    if !om.is_empty() && !nm.is_empty() {
        for r in equal_runs(om, nm, pre as u32, pre as u32, None) {
            map.push(r.base, r.cur, r.len);
        }
    }
    map.push((o.len() - suf) as u32, (n.len() - suf) as u32, suf as u32);
    map
}

/// The equal runs of a Myers diff of `old` and `new` (lines), as runs
/// whose first lines are at `base` + the index in `old` and `cur` + the
/// index in `new`. A `deadline` makes the diff settle for fewer runs when
/// it is passed. Both line diffs (whole document, re-match) walk it.
fn equal_runs<T: std::hash::Hash + Eq + Ord>(
    old: &[T],
    new: &[T],
    base: u32,
    cur: u32,
    deadline: Option<std::time::Instant>,
) -> impl Iterator<Item = Run> {
    similar::capture_diff_slices_deadline(similar::Algorithm::Myers, old, new, deadline)
        .into_iter()
        .filter_map(move |op| match op {
            similar::DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => Some(Run {
                base: base + old_index as u32,
                cur: cur + new_index as u32,
                len: len as u32,
            }),
            _ => None,
        })
}

/// The lines of one text mapped onto those of a later one by a line diff
/// (the same diff as a whole-document change): lines kept follow, changed
/// lines are unmapped. Compares lines by a 64-bit hash of their text
/// ([`line_hashes`]), so an old text can be kept as hashes only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineDiff(LineMap);

impl LineDiff {
    /// The diff from `old` to `new` (line hashes, [`line_hashes`]).
    pub fn new(old: &[u64], new: &[u64]) -> LineDiff {
        LineDiff(diff_slices(old, new))
    }

    /// The line of the new text that was 0-based line `old`, if kept.
    pub fn line(&self, old: u32) -> Option<u32> {
        self.0.current(old)
    }
}

/// A hash of the code of each line of `text` (split at `\n`; a last line
/// without a break counts, as in a rope), for [`LineDiff`]: Go comments
/// and the blanks around the code left out, so a line whose comment or
/// indentation alone changed is the same line (what was recorded on it is
/// its statement). A `//` or `/*` inside a string, raw string or rune is
/// code; raw strings and block comments may span lines.
pub fn line_hashes(text: &str) -> Vec<u64> {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let h = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
    #[derive(Clone, Copy, PartialEq)]
    enum In {
        Code,
        LineComment,
        BlockComment,
        Quoted(char),
        Raw,
    }
    let mut out = Vec::new();
    let mut code = String::new();
    let mut state = In::Code;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            out.push(h.hash_one(code.trim()));
            code.clear();
            if matches!(state, In::LineComment | In::Quoted(_)) {
                state = In::Code;
            }
            continue;
        }
        match state {
            In::Code => match (c, chars.peek()) {
                ('/', Some('/')) => state = In::LineComment,
                ('/', Some('*')) => {
                    chars.next();
                    state = In::BlockComment;
                    code.push(' ');
                }
                ('"' | '\'', _) => {
                    state = In::Quoted(c);
                    code.push(c);
                }
                ('`', _) => {
                    state = In::Raw;
                    code.push(c);
                }
                _ => code.push(c),
            },
            In::LineComment => {}
            In::BlockComment => {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    state = In::Code;
                }
            }
            In::Quoted(q) => {
                code.push(c);
                if c == '\\' {
                    if let Some(&n) = chars.peek()
                        && n != '\n'
                    {
                        code.push(n);
                        chars.next();
                    }
                } else if c == q {
                    state = In::Code;
                }
            }
            In::Raw => {
                code.push(c);
                if c == '`' {
                    state = In::Code;
                }
            }
        }
    }
    out.push(h.hash_one(code.trim()));
    out
}

/// An open document.
#[derive(Clone, Debug, Default)]
pub struct Document {
    /// Version from the client.
    pub version: i32,
    text: Rope,
    /// The text the annotations are anchored to.
    base: Rope,
    /// Base line → current line.
    map: LineMap,
    encoding: Encoding,
    /// Why the text may differ from the editor's (a refused change).
    unverified: Option<String>,
}

/// Character index in `line` (a rope slice without its line break) of
/// `ch` units in `enc`, clamped to the line's end.
fn char_in_line(line: ropey::RopeSlice<'_>, ch: u32, enc: Encoding) -> usize {
    let n = line.len_chars();
    let ch = ch as usize;
    match enc {
        Encoding::Utf32 => ch.min(n),
        Encoding::Utf8 => {
            if ch >= line.len_bytes() {
                n
            } else {
                line.byte_to_char(ch)
            }
        }
        Encoding::Utf16 => {
            if ch >= line.len_utf16_cu() {
                n
            } else {
                line.utf16_cu_to_char(ch)
            }
        }
    }
}

/// A line of `r` without its line break.
fn line_body(r: &Rope, line: usize) -> ropey::RopeSlice<'_> {
    let l = r.line(line);
    let mut n = l.len_chars();
    while n > 0 && matches!(l.char(n - 1), '\n' | '\r') {
        n -= 1;
    }
    l.slice(..n)
}

impl Document {
    /// A document as opened (base = current text).
    pub fn new(text: String, version: i32, encoding: Encoding) -> Self {
        let text = Rope::from_str(&text);
        let lines = text.len_lines() as u32;
        Document {
            version,
            base: text.clone(),
            text,
            map: LineMap::identity(lines),
            encoding,
            unverified: None,
        }
    }

    /// Anchors the document to a new base text (e.g. the file on disk).
    pub fn rebase(&mut self, base: &str) {
        let base = Rope::from_str(base);
        self.map = if base == self.text {
            LineMap::identity(self.text.len_lines() as u32)
        } else {
            diff_lines(&base, &self.text)
        };
        self.base = base;
    }

    /// Length of the current text in bytes.
    pub fn text_len(&self) -> usize {
        self.text.len_bytes()
    }

    /// The current text.
    pub fn text(&self) -> String {
        self.text.to_string()
    }

    /// The position encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Why the document is unverified (a refused change), if it is.
    pub fn unverified(&self) -> Option<&str> {
        self.unverified.as_deref()
    }

    /// Number of current lines.
    pub fn line_count(&self) -> u32 {
        self.text.len_lines() as u32
    }

    /// The current text of a line (without the line break).
    pub fn line_text(&self, line: u32) -> Option<Cow<'_, str>> {
        ((line as usize) < self.text.len_lines())
            .then(|| line_body(&self.text, line as usize).into())
    }

    /// Length of a current line in the document's encoding.
    pub fn line_len(&self, line: u32) -> u32 {
        if line as usize >= self.text.len_lines() {
            return 0;
        }
        let l = line_body(&self.text, line as usize);
        match self.encoding {
            Encoding::Utf8 => l.len_bytes() as u32,
            Encoding::Utf16 => l.len_utf16_cu() as u32,
            Encoding::Utf32 => l.len_chars() as u32,
        }
    }

    /// Current line of a base line (0-based), if it still exists (never
    /// while the document is unverified).
    pub fn current_line(&self, base: u32) -> Option<u32> {
        if self.unverified.is_some() {
            return None;
        }
        self.map.current(base)
    }

    /// Base line shown at a current line (0-based), if any.
    pub fn base_line(&self, current: u32) -> Option<u32> {
        if self.unverified.is_some() {
            return None;
        }
        self.map.base(current)
    }

    /// Applies a batch of changes carrying `version`. A refused change
    /// (see the module doc) leaves the document unverified.
    pub fn apply(&mut self, version: i32, changes: &[Change]) -> Result<(), EditError> {
        if version <= self.version {
            return Err(EditError::Stale {
                got: version,
                have: self.version,
            });
        }
        self.version = version;
        let mut refused = None;
        for c in changes {
            match c.range {
                None => {
                    self.text = Rope::from_str(&c.text);
                    self.map = diff_lines(&self.base, &self.text);
                    self.unverified = None;
                    refused = None;
                }
                Some(_) if self.unverified.is_some() => {}
                Some((a, b)) => {
                    if let Err(why) = self.apply_range(a, b, &c.text) {
                        self.unverified = Some(why.clone());
                        refused = Some(why);
                    }
                }
            }
        }
        match refused {
            Some(why) => Err(EditError::Refused { version, why }),
            None if self.unverified.is_some() => Err(EditError::Refused {
                version,
                why: "the document is unverified since an earlier refused change".into(),
            }),
            None => Ok(()),
        }
    }

    fn apply_range(&mut self, a: Pos, b: Pos, new: &str) -> Result<(), String> {
        if a > b {
            return Err(format!(
                "the range is reversed ({}:{} is after {}:{})",
                a.line, a.character, b.line, b.character
            ));
        }
        let lines = self.text.len_lines() as u32;
        if b.line >= lines {
            return Err(format!(
                "line {} is past the end of the document ({lines} lines)",
                b.line
            ));
        }
        let (sl, el) = (a.line, b.line);
        let ca = self.text.line_to_char(sl as usize)
            + char_in_line(
                line_body(&self.text, sl as usize),
                a.character,
                self.encoding,
            );
        let cb = self.text.line_to_char(el as usize)
            + char_in_line(
                line_body(&self.text, el as usize),
                b.character,
                self.encoding,
            );
        let start_col0 = ca == self.text.line_to_char(sl as usize);
        let end_col0 = cb == self.text.line_to_char(el as usize);
        let k = new.matches('\n').count() as i64;
        let ends_nl = new.ends_with('\n');
        let shift = k - i64::from(el - sl);
        // Typing inside one line moves nothing.
        if !(sl == el && k == 0) {
            self.map.edit(sl, el, shift, |l| {
                if l == sl && sl == el {
                    // An insertion before the line's content moves it down.
                    Some(if start_col0 {
                        (i64::from(l) + k) as u32
                    } else {
                        l
                    })
                } else if l == sl {
                    // Multi-line range starting here: the line survives if
                    // its start is kept.
                    (!start_col0).then_some(l)
                } else if l < el {
                    None
                } else {
                    // The range ends at this line's start: the line survives
                    // whole, unless it is joined onto the kept start of `sl`.
                    (end_col0 && (start_col0 || ends_nl)).then(|| (i64::from(sl) + k) as u32)
                }
            });
        }
        self.text.remove(ca..cb);
        self.text.insert(ca, new);
        self.rematch(sl, (i64::from(sl) + k) as u32);
        Ok(())
    }

    /// Maps again, against the base, the unmapped lines around current
    /// lines `from..=to` (just edited): between two mapped neighbours,
    /// the base lines without a current line and the current lines
    /// without a base line are diffed. An undo, or a range replaced by
    /// the text it held (formatters, whole-buffer reloads), thus brings
    /// the lines back. Only evidence counts: a whole gap that reads the
    /// same, or runs of at least [`MIN_RUN`] equal lines (a lone `}` or
    /// blank line matched in rewritten code proves nothing).
    fn rematch(&mut self, from: u32, to: u32) {
        let gaps = self.map.gaps_around(
            from,
            to,
            self.base.len_lines() as u32,
            self.text.len_lines() as u32,
        );
        for (b, c) in gaps {
            if b.is_empty() || c.is_empty() || b.len() > MAX_GAP || c.len() > MAX_GAP {
                continue;
            }
            let old: Vec<Cow<str>> = b
                .clone()
                .map(|l| line_body(&self.base, l as usize).into())
                .collect();
            let new: Vec<Cow<str>> = c
                .clone()
                .map(|l| line_body(&self.text, l as usize).into())
                .collect();
            if old == new {
                self.map.insert(Run {
                    base: b.start,
                    cur: c.start,
                    len: b.len() as u32,
                });
                continue;
            }
            let deadline = std::time::Instant::now() + REMATCH_TIME;
            for run in equal_runs(&old, &new, b.start, c.start, Some(deadline)) {
                if run.len as usize >= MIN_RUN {
                    self.map.insert(run);
                }
            }
        }
    }
}

/// Fewest equal lines a partial re-match accepts (see [`Document::rematch`]).
const MIN_RUN: usize = 3;
/// Largest gap (lines on either side) re-matched after an edit.
const MAX_GAP: usize = 20_000;
/// Time one re-match may take (a diff past it settles for fewer matches).
const REMATCH_TIME: std::time::Duration = std::time::Duration::from_millis(5);

/// Length of `s` in `enc` units.
pub fn encoded_len(s: &str, enc: Encoding) -> u32 {
    match enc {
        Encoding::Utf8 => s.len() as u32,
        Encoding::Utf16 => s.encode_utf16().count() as u32,
        Encoding::Utf32 => s.chars().count() as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines compare by their code: a comment or indentation changed is
    /// the same line; a `//` in a string is code.
    #[test]
    fn line_hashes_compare_code() {
        let old = line_hashes("\t<-done\n\tx := \"a // b\"\n/* c\nd */ f()\n`e\n// g`");
        let new = line_hashes(
            "<-done // BLOCK[chan receive]\n\tx := \"a // b\"\n/* C\nD */ f() /* h */\n`e\n// g`",
        );
        assert_eq!(old, new);
        assert_eq!(old.len(), 6);
        for changed in [
            "<-other\n\tx := \"a // b\"\n/* c\nd */ f()\n`e\n// g`",
            "<-done\n\tx := \"a // c\"\n/* c\nd */ f()\n`e\n// g`",
            "<-done\n\tx := \"a // b\"\n/* c\nd */ g()\n`e\n// g`",
            "<-done\n\tx := \"a // b\"\n/* c\nd */ f()\n`e\n// h`",
        ] {
            let h = line_hashes(changed);
            assert_eq!(h.len(), 6);
            assert_eq!(
                old.iter().zip(&h).filter(|(a, b)| a != b).count(),
                1,
                "{changed}"
            );
        }
    }

    fn p(line: u32, character: u32) -> Pos {
        Pos { line, character }
    }

    fn edit(d: &mut Document, v: i32, a: Pos, b: Pos, t: &str) {
        d.apply(
            v,
            &[Change {
                range: Some((a, b)),
                text: t.into(),
            }],
        )
        .unwrap();
    }

    /// The map as a list over base lines.
    fn map(d: &Document, base_lines: u32) -> Vec<Option<u32>> {
        (0..base_lines).map(|b| d.current_line(b)).collect()
    }

    #[test]
    fn lines_shift_with_edits() {
        let text = "a\nb\nc\nd\n".to_string();
        let mut d = Document::new(text, 1, Encoding::Utf16);
        // Insert two lines before "b".
        edit(&mut d, 2, p(1, 0), p(1, 0), "x\ny\n");
        assert_eq!(d.text(), "a\nx\ny\nb\nc\nd\n");
        assert_eq!(d.current_line(0), Some(0));
        assert_eq!(d.current_line(1), Some(3));
        assert_eq!(d.current_line(3), Some(5));
        assert_eq!(d.base_line(3), Some(1));
        assert_eq!(d.base_line(1), None);
        // Type on line "b": stays.
        edit(&mut d, 3, p(3, 1), p(3, 1), "!!");
        assert_eq!(d.current_line(1), Some(3));
        // Delete lines x and y.
        edit(&mut d, 4, p(1, 0), p(3, 0), "");
        assert_eq!(d.text(), "a\nb!!\nc\nd\n");
        assert_eq!(d.current_line(1), Some(1));
        assert_eq!(d.current_line(2), Some(2));
        // Join "b!!" and "c": c is merged away.
        edit(&mut d, 5, p(1, 3), p(2, 0), " ");
        assert_eq!(d.text(), "a\nb!! c\nd\n");
        assert_eq!(d.current_line(1), Some(1));
        assert_eq!(d.current_line(2), None);
        assert_eq!(d.current_line(3), Some(2));
        // Old versions are refused.
        let before = d.text();
        assert!(matches!(
            d.apply(
                4,
                &[Change {
                    range: None,
                    text: "zzz".into()
                }]
            ),
            Err(EditError::Stale { .. })
        ));
        assert_eq!(d.text(), before);
        // A whole-document change is diffed against the base.
        d.apply(
            6,
            &[Change {
                range: None,
                text: "a\nnew\nb!! c\nd\n".into(),
            }],
        )
        .unwrap();
        assert_eq!(map(&d, 5), [Some(0), None, None, Some(3), Some(4)]);
    }

    #[test]
    fn edits_in_several_places_keep_the_lines_between() {
        // Row 4 of issue 16: unsaved edits at two places, then a new base
        // (a reload): the lines between the edits stay mapped.
        let base: String = (0..30).map(|i| format!("line {i}\n")).collect();
        let mut d = Document::new(base.clone(), 1, Encoding::Utf16);
        edit(&mut d, 2, p(3, 0), p(3, 0), "// new\n");
        edit(&mut d, 3, p(25, 0), p(26, 0), "changed\n");
        let before = map(&d, 31);
        d.rebase(&base);
        assert_eq!(map(&d, 31), before);
        for b in 4..24 {
            assert_eq!(d.current_line(b), Some(b + 1), "base line {b}");
        }
        assert_eq!(d.current_line(24), None, "the changed line");
    }

    #[test]
    fn refused_changes_leave_the_document_unverified() {
        let mut d = Document::new("a\nb\nc\n".into(), 1, Encoding::Utf16);
        let r = d.apply(
            2,
            &[Change {
                range: Some((p(2, 0), p(1, 0))),
                text: "x".into(),
            }],
        );
        assert!(matches!(r, Err(EditError::Refused { .. })), "{r:?}");
        assert_eq!(d.text(), "a\nb\nc\n");
        assert!(d.unverified().is_some());
        assert_eq!(d.current_line(0), None);
        // Incremental changes are refused while unverified.
        assert!(
            d.apply(
                3,
                &[Change {
                    range: Some((p(0, 0), p(0, 0))),
                    text: "y".into()
                }]
            )
            .is_err()
        );
        // A whole-document change resynchronizes.
        d.apply(
            4,
            &[Change {
                range: None,
                text: "z\na\nb\nc\n".into(),
            }],
        )
        .unwrap();
        assert!(d.unverified().is_none());
        assert_eq!(map(&d, 3), [Some(1), Some(2), Some(3)]);
        // A line past the end.
        let r = d.apply(
            5,
            &[Change {
                range: Some((p(9, 0), p(12, 0))),
                text: "!".into(),
            }],
        );
        assert!(matches!(r, Err(EditError::Refused { .. })));
    }

    #[test]
    fn characters_in_every_encoding() {
        let mut d = Document::new("héllo\nwörld 😀x".into(), 0, Encoding::Utf16);
        edit(&mut d, 1, p(1, 8), p(1, 8), "!");
        assert_eq!(d.text(), "héllo\nwörld 😀!x");
        assert_eq!(d.line_len(1), 10);
        edit(&mut d, 2, p(0, 1), p(1, 2), "");
        assert_eq!(d.text(), "hrld 😀!x");
        assert_eq!(d.current_line(1), None);
        let mut d = Document::new("é😀x".into(), 0, Encoding::Utf8);
        edit(&mut d, 1, p(0, 6), p(0, 7), "y");
        assert_eq!(d.text(), "é😀y");
        let mut d = Document::new("é😀x".into(), 0, Encoding::Utf32);
        edit(&mut d, 1, p(0, 2), p(0, 99), "z");
        assert_eq!(d.text(), "é😀z");
    }

    #[test]
    fn the_map_matches_a_line_by_line_model_under_random_edits() {
        // Model: every base line carries its index as text; after each edit
        // the map must send each surviving base line to the line that holds
        // its text.
        let n = 60u32;
        let base: String = (0..n).map(|i| format!("L{i}\n")).collect();
        let mut d = Document::new(base, 0, Encoding::Utf16);
        let mut x: u64 = 7;
        let mut rnd = |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m.max(1)
        };
        for v in 1..400 {
            let lines = d.line_count() as u64;
            let sl = rnd(lines) as u32;
            let el = (sl as u64 + rnd(3)).min(lines - 1) as u32;
            let (a, b) = if rnd(2) == 0 {
                (p(sl, 0), p(el, 0))
            } else {
                (p(sl, 0), p(sl, 0))
            };
            let text = match rnd(3) {
                0 => String::new(),
                1 => format!("N{v}\n"),
                _ => format!("N{v}a\nN{v}b\n"),
            };
            edit(&mut d, v, a, b, &text);
            for bl in 0..n {
                if let Some(c) = d.current_line(bl) {
                    assert_eq!(
                        d.line_text(c).as_deref(),
                        Some(format!("L{bl}").as_str()),
                        "v{v}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_same_text_put_back_brings_the_lines_back() {
        let base: String = (0..20).map(|i| format!("\tline {i}\n")).collect();
        // A range replaced by the text it held (Neovim's set_lines of the
        // whole buffer: (0,4)-(20,0) with the same text).
        let mut d = Document::new(base.clone(), 1, Encoding::Utf16);
        let tail: String = base[4..].to_string();
        edit(&mut d, 2, p(0, 4), p(20, 0), &tail);
        assert_eq!(d.text(), base);
        assert_eq!(map(&d, 20), (0..20).map(Some).collect::<Vec<_>>());
        // Four lines deleted, then put back (undo).
        let deleted: String = (8..12).map(|i| format!("\tline {i}\n")).collect();
        edit(&mut d, 3, p(8, 0), p(12, 0), "");
        assert_eq!(d.current_line(9), None);
        assert_eq!(d.current_line(12), Some(8));
        edit(&mut d, 4, p(8, 0), p(8, 0), &deleted);
        assert_eq!(map(&d, 20), (0..20).map(Some).collect::<Vec<_>>());
        // Rewritten code that only shares a lone line with the old: not
        // matched (no guess onto a neighbour).
        edit(&mut d, 5, p(5, 0), p(10, 0), "\tnew a\n\tline 7\n\tnew b\n");
        for b in 5..10 {
            assert_eq!(d.current_line(b), None, "base line {b}");
        }
        assert_eq!(d.current_line(10), Some(8));
        // Three equal lines or more are evidence.
        let mut d = Document::new(base.clone(), 1, Encoding::Utf16);
        edit(
            &mut d,
            2,
            p(2, 0),
            p(9, 0),
            "\tx\n\tline 4\n\tline 5\n\tline 6\n\ty\n",
        );
        assert_eq!(
            map(&d, 10)[2..],
            [None, None, Some(3), Some(4), Some(5), None, None, Some(7)]
        );
    }
}
