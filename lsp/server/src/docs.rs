//! Open documents: their text, version, and the line map from "base" lines
//! (the text as opened, which annotations are anchored to) to current lines,
//! kept up to date by edits.
//!
//! Edits are applied in arrival order; an edit whose version is not newer
//! than the document's is refused (the caller logs it) so an overtaken or
//! replayed change can never corrupt the text or the map. Positions are in
//! the negotiated encoding ([`Encoding`]). Knows no LSP types and nothing of
//! traces.

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
}

/// An open document.
#[derive(Clone, Debug, Default)]
pub struct Document {
    /// Version from the client.
    pub version: i32,
    text: String,
    /// Byte offset of each line start.
    line_starts: Vec<usize>,
    /// Base line (0-based) → current line (None: deleted or merged away).
    map: Vec<Option<u32>>,
    encoding: Encoding,
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    v
}

impl Document {
    /// A document as opened (base lines = current lines).
    pub fn new(text: String, version: i32, encoding: Encoding) -> Self {
        let line_starts = line_starts(&text);
        let map = (0..line_starts.len() as u32).map(Some).collect();
        Document {
            version,
            text,
            line_starts,
            map,
            encoding,
        }
    }

    /// A document whose annotations are anchored to `base` (e.g. the file
    /// on disk) while the editor holds `text`: lines are mapped by common
    /// prefix and suffix; lines in between are unmapped.
    pub fn with_base(base: &str, text: String, version: i32, encoding: Encoding) -> Self {
        let mut d = Document::new(text, version, encoding);
        d.rebase(base);
        d
    }

    /// Re-anchors the document to a new base text.
    pub fn rebase(&mut self, base: &str) {
        self.map = if base == self.text {
            (0..self.line_starts.len() as u32).map(Some).collect()
        } else {
            diff_lines(base, &self.text)
        };
    }

    /// Length of the current text in bytes.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The current text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Number of current lines.
    pub fn line_count(&self) -> u32 {
        self.line_starts.len() as u32
    }

    /// The current text of a line (without the line break).
    pub fn line_text(&self, line: u32) -> Option<&str> {
        let start = *self.line_starts.get(line as usize)?;
        let end = self
            .line_starts
            .get(line as usize + 1)
            .copied()
            .unwrap_or(self.text.len());
        let s = &self.text[start..end];
        Some(s.trim_end_matches(['\n', '\r']))
    }

    /// The encoding positions are counted in.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Length of a current line in the document's encoding.
    pub fn line_len(&self, line: u32) -> u32 {
        self.line_text(line)
            .map(|s| encoded_len(s, self.encoding))
            .unwrap_or(0)
    }

    /// Current line of a base line (0-based), if it still exists.
    pub fn current_line(&self, base: u32) -> Option<u32> {
        self.map.get(base as usize).copied().flatten()
    }

    /// Base line shown at a current line (0-based), if any.
    pub fn base_line(&self, current: u32) -> Option<u32> {
        self.map
            .iter()
            .position(|m| *m == Some(current))
            .map(|i| i as u32)
    }

    fn offset(&self, p: Pos) -> usize {
        let Some(&start) = self.line_starts.get(p.line as usize) else {
            return self.text.len();
        };
        let end = self
            .line_starts
            .get(p.line as usize + 1)
            .copied()
            .unwrap_or(self.text.len());
        let line = &self.text[start..end];
        start + byte_of(line, p.character, self.encoding)
    }

    /// Applies a batch of changes carrying `version`.
    pub fn apply(&mut self, version: i32, changes: &[Change]) -> Result<(), EditError> {
        if version <= self.version {
            return Err(EditError::Stale {
                got: version,
                have: self.version,
            });
        }
        for c in changes {
            self.apply_one(c);
        }
        self.version = version;
        Ok(())
    }

    fn apply_one(&mut self, c: &Change) {
        match c.range {
            None => {
                let old = std::mem::take(&mut self.text);
                let remap = diff_lines(&old, &c.text);
                for m in self.map.iter_mut() {
                    *m = m.and_then(|l| remap.get(l as usize).copied().flatten());
                }
                self.text = c.text.clone();
            }
            Some((a, b)) => {
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                let sa = self.offset(a);
                let sb = self.offset(b).max(sa);
                // Clamp positions to real lines for the map arithmetic.
                let last = self.line_starts.len() as u32 - 1;
                let sl = a.line.min(last);
                let el = b.line.min(last);
                let start_col0 = sa == self.line_starts[sl as usize];
                let end_col0 = sb == self.line_starts[el as usize];
                let k = c.text.matches('\n').count() as i64;
                let ends_nl = c.text.ends_with('\n');
                let shift = k - i64::from(el - sl);
                let new_of = |l: u32| -> Option<u32> {
                    if l < sl {
                        Some(l)
                    } else if l == sl && sl == el {
                        // Same line: an insertion before the line's content moves it down.
                        if start_col0 {
                            Some((i64::from(l) + k) as u32)
                        } else {
                            Some(l)
                        }
                    } else if l == sl {
                        // Multi-line range starting here: the line survives if
                        // its start is kept.
                        (!start_col0).then_some(l)
                    } else if l < el {
                        None
                    } else if l == el {
                        // The range ends at this line's start: the line survives
                        // whole, unless it is joined onto the kept start of `sl`.
                        (end_col0 && (start_col0 || ends_nl)).then(|| (i64::from(sl) + k) as u32)
                    } else {
                        Some((i64::from(l) + shift).max(0) as u32)
                    }
                };
                for m in self.map.iter_mut() {
                    *m = m.and_then(new_of);
                }
                self.text.replace_range(sa..sb, &c.text);
            }
        }
        self.line_starts = line_starts(&self.text);
        let n = self.line_starts.len() as u32;
        for m in self.map.iter_mut() {
            if m.is_some_and(|l| l >= n) {
                *m = None;
            }
        }
    }
}

/// Maps each line of `old` to its line in `new` by common prefix and
/// suffix; lines in between are dropped.
fn diff_lines(old: &str, new: &str) -> Vec<Option<u32>> {
    let o: Vec<&str> = old.split('\n').collect();
    let n: Vec<&str> = new.split('\n').collect();
    let pre = o.iter().zip(&n).take_while(|(a, b)| a == b).count();
    let max_suf = o.len().min(n.len()) - pre;
    let suf = o
        .iter()
        .rev()
        .zip(n.iter().rev())
        .take(max_suf)
        .take_while(|(a, b)| a == b)
        .count();
    (0..o.len())
        .map(|i| {
            if i < pre {
                Some(i as u32)
            } else if i >= o.len() - suf {
                Some((i + n.len() - o.len()) as u32)
            } else {
                None
            }
        })
        .collect()
}

/// Length of `s` in `enc` units.
pub fn encoded_len(s: &str, enc: Encoding) -> u32 {
    match enc {
        Encoding::Utf8 => s.len() as u32,
        Encoding::Utf16 => s.encode_utf16().count() as u32,
        Encoding::Utf32 => s.chars().count() as u32,
    }
}

/// Byte offset of character `ch` (in `enc` units) within `line`, clamped.
fn byte_of(line: &str, ch: u32, enc: Encoding) -> usize {
    let body = line.trim_end_matches(['\n', '\r']);
    let mut units = 0u32;
    for (i, c) in body.char_indices() {
        if units >= ch {
            return i;
        }
        units += match enc {
            Encoding::Utf8 => c.len_utf8() as u32,
            Encoding::Utf16 => c.len_utf16() as u32,
            Encoding::Utf32 => 1,
        };
    }
    body.len()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let before = d.text().to_owned();
        assert!(
            d.apply(
                4,
                &[Change {
                    range: None,
                    text: "zzz".into()
                }]
            )
            .is_err()
        );
        assert_eq!(d.text(), before);
        // Whole-document change keeps common prefix and suffix.
        d.apply(
            6,
            &[Change {
                range: None,
                text: "a\nnew\nb!! c\nd\n".into(),
            }],
        )
        .unwrap();
        assert_eq!(d.current_line(1), Some(2));
        assert_eq!(d.current_line(3), Some(3));
    }

    #[test]
    fn out_of_range_edits_are_clamped() {
        let mut d = Document::new("héllo\nwörld".into(), 0, Encoding::Utf16);
        edit(&mut d, 1, p(9, 9), p(12, 0), "\n!");
        assert_eq!(d.text(), "héllo\nwörld\n!");
        edit(&mut d, 2, p(1, 2), p(0, 1), "");
        assert_eq!(d.text(), "hrld\n!");
        assert_eq!(d.line_len(0), 4);
        assert_eq!(d.current_line(1), None);
    }
}
