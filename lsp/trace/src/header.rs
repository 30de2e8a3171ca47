//! The 16-byte trace header: version and format family, and a description of
//! what non-trace input looks like. Does not read past the header.

use crate::DecodeError;

/// Trace format family.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// Go 1.11–1.21 (and Go 1.22 with GOEXPERIMENT=noexectracer2): per-P
    /// batches, tables at the end of the file.
    V1,
    /// Go 1.22+: generations of per-M batches with their own tables.
    V2,
}

/// A parsed header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    /// Minor version in the header (`go 1.<minor> trace`).
    pub minor: u32,
    /// Format family.
    pub format: Format,
}

/// Header length in bytes.
pub const HEADER_LEN: usize = 16;

/// Versions whose header this decoder accepts: v1 11 (Go 1.11–1.18), 19
/// (1.19–1.20), 21; v2 22, 23 (1.23–1.24), 25, 26, 27.
pub const SUPPORTED_MINORS: &[u32] = &[11, 19, 21, 22, 23, 25, 26, 27];

/// Parses the header at the start of `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Header, DecodeError> {
    if bytes.starts_with(b"go 1.") {
        let end = bytes.len().min(HEADER_LEN);
        let text = &bytes[..end];
        let digits: Vec<u8> = text[5..]
            .iter()
            .copied()
            .take_while(u8::is_ascii_digit)
            .collect();
        let rest = &text[5 + digits.len()..];
        let version = String::from_utf8_lossy(&text[..5 + digits.len()]).into_owned();
        if digits.is_empty() || !rest.starts_with(b" trace") {
            return Err(DecodeError::NotATrace {
                looks_like: format!("text starting with {version:?}, not a trace header"),
            });
        }
        if bytes.len() < HEADER_LEN {
            return Err(DecodeError::Corrupt {
                offset: bytes.len() as u64,
                what: "file ends inside the 16-byte header".into(),
            });
        }
        let minor: u32 = std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(u32::MAX);
        if !SUPPORTED_MINORS.contains(&minor) {
            return Err(DecodeError::UnsupportedVersion { version });
        }
        let format = if minor >= 22 { Format::V2 } else { Format::V1 };
        return Ok(Header { minor, format });
    }
    Err(DecodeError::NotATrace {
        looks_like: describe(bytes),
    })
}

/// Describes what a non-trace input looks like.
pub fn describe(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty file".into();
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return "gzip-compressed data (a pprof profile? `go tool trace` needs the raw trace from runtime/trace or /debug/pprof/trace)".into();
    }
    if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return "zstd-compressed data (decompress it first)".into();
    }
    if bytes.starts_with(b"\x7fELF")
        || bytes.starts_with(b"MZ")
        || bytes.starts_with(&[0xcf, 0xfa, 0xed, 0xfe])
    {
        return "an executable, not a trace".into();
    }
    if bytes.starts_with(b"Trace Go1.") {
        return "a trace in Go's text format (gotraceraw bytes2text output); convert it with text2bytes".into();
    }
    let head = &bytes[..bytes.len().min(512)];
    if head
        .iter()
        .all(|&b| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b))
    {
        let first = String::from_utf8_lossy(&head[..head.len().min(40)]).into_owned();
        return format!("a text file starting with {first:?}");
    }
    format!(
        "binary data starting with {:02x?}",
        &bytes[..bytes.len().min(8)]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let h = |s: &str| {
            let mut v = s.as_bytes().to_vec();
            v.resize(16, 0);
            parse(&v)
        };
        assert_eq!(
            h("go 1.11 trace").unwrap(),
            Header {
                minor: 11,
                format: Format::V1
            }
        );
        assert_eq!(
            h("go 1.23 trace").unwrap(),
            Header {
                minor: 23,
                format: Format::V2
            }
        );
        assert!(matches!(
            h("go 1.10 trace"),
            Err(DecodeError::UnsupportedVersion { .. })
        ));
        assert!(
            matches!(h("go 1.99 trace"), Err(DecodeError::UnsupportedVersion { version }) if version == "go 1.99")
        );
        assert!(matches!(parse(b""), Err(DecodeError::NotATrace { .. })));
        assert!(
            matches!(parse(&[0x1f, 0x8b, 8, 0]), Err(DecodeError::NotATrace { looks_like }) if looks_like.contains("gzip"))
        );
        assert!(matches!(
            parse(b"go 1.2"),
            Err(DecodeError::NotATrace { .. })
        ));
        assert!(matches!(
            parse(b"go 1.22 trace"),
            Err(DecodeError::Corrupt { .. })
        ));
    }
}
