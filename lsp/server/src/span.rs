//! The part of a Go source line a diagnostic underlines: the statement,
//! from its first non-blank character to the end of its code — leading
//! indentation, a trailing `//` or `/* */` comment and trailing blanks left
//! out. String, rune and raw-string literals are skipped, so `"//"` inside
//! one does not end the code.
//!
//! Works on one line of text, in bytes; knows nothing of documents,
//! encodings or LSP. A line that starts inside a multi-line raw string or
//! comment cannot be told from here: it is treated as code.

/// Byte range `start..end` of the statement on `line`; `start == end` when
/// the line holds no code (blank, or only a comment).
pub fn statement(line: &str) -> (usize, usize) {
    let b = line.as_bytes();
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let mut end = start;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'/' if matches!(b.get(i + 1), Some(b'/')) => break,
            b'/' if matches!(b.get(i + 1), Some(b'*')) => {
                // A block comment: code may follow it on the same line.
                match line[i + 2..].find("*/") {
                    Some(k) => i += 2 + k + 2,
                    None => break,
                }
                continue;
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                end = i;
                continue;
            }
            b'`' => {
                i = match line[i + 1..].find('`') {
                    Some(k) => i + 1 + k + 1,
                    None => b.len(),
                };
                end = i;
                continue;
            }
            c if c.is_ascii_whitespace() => {}
            _ => end = i + 1,
        }
        i += 1;
    }
    // `end` is on a char boundary: it follows an ASCII byte, a closing
    // quote, or the last byte of a (multi-byte) character.
    while end < b.len() && !line.is_char_boundary(end) {
        end += 1;
    }
    (start, end.max(start))
}

#[cfg(test)]
mod tests {
    use super::statement;

    fn code(line: &str) -> &str {
        let (a, b) = statement(line);
        &line[a..b]
    }

    #[test]
    fn statements() {
        assert_eq!(
            code("\t\treturn <-ch // BLOCK[chan receive]"),
            "return <-ch"
        );
        assert_eq!(code("    mu.Lock()"), "mu.Lock()");
        assert_eq!(code("\tx := \"a // b\" // c"), "x := \"a // b\"");
        assert_eq!(code("\tr := '\\'' // quote"), "r := '\\''");
        assert_eq!(code("\ts := `raw // x` + y"), "s := `raw // x` + y");
        assert_eq!(code("\tf(/* n */ 3) /* end */"), "f(/* n */ 3)");
        assert_eq!(code("\tname := \"héllo\" // ü"), "name := \"héllo\"");
        assert_eq!(code("\tselect {"), "select {");
        assert_eq!(statement("\t// only a comment"), (1, 1));
        assert_eq!(statement("   "), (3, 3));
        assert_eq!(statement(""), (0, 0));
        assert_eq!(code("\tx := \"unterminated"), "x := \"unterminated");
        assert_eq!(code("\tπ := 3 "), "π := 3");
        assert_eq!(code("\tv := 'é'"), "v := 'é'");
    }
}
