//! Recognising dumps and profiles by content, never by file name: a
//! goroutine dump (`goroutine N [status]:`), a goroutine profile in text
//! (`goroutine profile: total N`, debug=1), a block/mutex profile in text
//! (`--- contention:`, `--- mutex:`), or a pprof protobuf (gzip'ed, as Go
//! writes it, or raw). Looks only at a prefix of the file; the readers
//! decide for good. Also describes what an unrecognised input looks like,
//! without echoing its bytes.
//!
//! Execution traces are recognised by goblock-trace's header parser, not
//! here.

/// What a file holds, as far as this crate reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Goroutine dump text (debug=2, panic, SIGQUIT, `runtime.Stack`, test timeout).
    GoroutineDump,
    /// `goroutine profile: total N` (debug=1).
    GoroutineProfileText,
    /// `--- contention:` (block) or `--- mutex:` text (debug=1).
    ContentionProfileText,
    /// A pprof profile.proto; `gzip` when compressed (as Go writes it).
    Pprof {
        /// Starts with the gzip magic.
        gzip: bool,
    },
}

/// How much of the file the text sniffers look at.
pub const SNIFF_BYTES: usize = 64 << 10;

/// Recognises a dump or profile from the first bytes of a file (at least
/// [`SNIFF_BYTES`] when the file is that long). `None`: none of ours.
pub fn sniff(prefix: &[u8]) -> Option<InputKind> {
    if prefix.starts_with(&[0x1f, 0x8b]) {
        // Look inside: a gzip'ed profile.proto starts with a field key; a
        // gzip'ed trace or text is not ours.
        let mut first = [0u8; 1];
        let mut dec = flate2::read::GzDecoder::new(prefix);
        return match std::io::Read::read(&mut dec, &mut first) {
            Ok(1) if is_proto_start(first[0]) => Some(InputKind::Pprof { gzip: true }),
            _ => None,
        };
    }
    let head = &prefix[..prefix.len().min(SNIFF_BYTES)];
    if looks_binary(head) {
        // profile.proto starts with field 1 (sample_type, length-delimited)
        // or, for an empty profile written by hand, another known field.
        return head
            .first()
            .is_some_and(|&b| is_proto_start(b))
            .then_some(InputKind::Pprof { gzip: false });
    }
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"goroutine profile: total ") {
            return Some(InputKind::GoroutineProfileText);
        }
        if line == b"--- contention:" || line == b"--- mutex:" {
            return Some(InputKind::ContentionProfileText);
        }
        if line.starts_with(b"goroutine ")
            && std::str::from_utf8(line)
                .ok()
                .and_then(crate::header::parse)
                .is_some()
        {
            return Some(InputKind::GoroutineDump);
        }
    }
    None
}

/// A goroutine dump whose every line carries a prefix, as log collectors
/// write it (`kubectl logs --timestamps`, CRI log files, journald): some
/// line of the first bytes holds a goroutine header after other text, and
/// some line a Go source position. Not read as a dump (the prefix varies
/// from line to line); said so instead of "a text file".
pub fn is_prefixed_dump(prefix: &[u8]) -> bool {
    let head = &prefix[..prefix.len().min(SNIFF_BYTES)];
    if looks_binary(head) {
        return false;
    }
    let mut header = false;
    let mut position = false;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        position |= memchr::memmem::find(line, b".go:").is_some();
        header |= memchr::memmem::find_iter(line, b"goroutine ").any(|at| {
            at > 0
                && std::str::from_utf8(&line[at..])
                    .ok()
                    .and_then(crate::header::parse)
                    .is_some()
        });
        if header && position {
            return true;
        }
    }
    false
}

/// The first byte of a profile.proto: the key of one of its fields 1–15
/// with that field's wire type (Go writes period_type, field 11, first).
fn is_proto_start(b: u8) -> bool {
    matches!(
        b,
        0x0a | 0x12 | 0x1a | 0x22 | 0x2a | 0x32 // 1-6: length-delimited
            | 0x38 | 0x40 | 0x48 | 0x50 // 7-10: varints
            | 0x5a // 11: period_type
            | 0x60 // 12: period
            | 0x68 | 0x6a // 13: comment (plain or packed)
            | 0x70 // 14: default_sample_type
            | 0x7a // 15: doc_url
    )
}

fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(4096)];
    sample
        .iter()
        .any(|&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c)))
        || std::str::from_utf8(sample).is_err_and(|e| e.error_len().is_some())
}

/// What an input we cannot read looks like, in a few words (never its
/// content).
pub fn describe(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty file".into();
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return "a gzip stream".into();
    }
    if bytes.starts_with(b"go 1.") {
        return "a Go execution trace".into();
    }
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if looks_binary(head) {
        return "binary data".into();
    }
    "text with no goroutine in it".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            sniff(b"panic: x\n\ngoroutine 1 [running]:\nmain.main()\n"),
            Some(InputKind::GoroutineDump)
        );
        assert_eq!(
            sniff(b"goroutine profile: total 3\n1 @ 0x1\n"),
            Some(InputKind::GoroutineProfileText)
        );
        assert_eq!(
            sniff(b"--- mutex:\ncycles/second=1\n"),
            Some(InputKind::ContentionProfileText)
        );
        let gz = |b: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, b).unwrap();
            e.finish().unwrap()
        };
        assert_eq!(
            sniff(&gz(&[0x0a, 4, 8, 1, 16, 2])),
            Some(InputKind::Pprof { gzip: true })
        );
        assert_eq!(sniff(&gz(b"go 1.23 trace\0")), None);
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), None);
        assert_eq!(sniff(b"go 1.23 trace\0\0\0"), None);
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(describe(b""), "an empty file");
        assert_eq!(describe(&[0, 1, 2]), "binary data");
    }

    /// A real dump with `kubectl logs --timestamps`' prefix on each line.
    #[test]
    fn a_dump_with_a_log_prefix_is_told_apart() {
        let dump = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../testdata/dumps/go1.26/sigquit-minutes.txt"),
        )
        .unwrap();
        assert!(!is_prefixed_dump(&dump));
        let mut prefixed = Vec::new();
        for (i, line) in dump.split(|&b| b == b'\n').enumerate() {
            prefixed.extend_from_slice(
                format!("2026-12-02T14:44:{:02}.{i:06}Z stderr F ", i % 60).as_bytes(),
            );
            prefixed.extend_from_slice(line);
            prefixed.push(b'\n');
        }
        assert_eq!(sniff(&prefixed), None);
        assert!(is_prefixed_dump(&prefixed));
        assert!(!is_prefixed_dump(
            b"log: worker goroutine 5 started\nmain.go:12 ok\n"
        ));
        assert!(!is_prefixed_dump(b"hello\n"));
    }
}
