//! `file://` URI text ↔ local paths (percent-encoding per RFC 3986), for the
//! protocol edge and for links rendered into markdown. Strings only: no LSP
//! types, no file system access.

use std::path::{Path, PathBuf};

/// `file://` URI of an absolute path.
pub fn from_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    let s = s.replace('\\', "/");
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str("file://");
    if !s.starts_with('/') {
        out.push('/'); // Windows drive paths: file:///C:/…
    }
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Local path of a `file://` URI (None for other schemes).
pub fn to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // Drop an authority ("localhost" or empty).
    let rest = match rest.find('/') {
        Some(i) => &rest[i..],
        None => return None,
    };
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    // file:///C:/x → C:/x on Windows.
    let s = if cfg!(windows) && s.len() > 2 && s.as_bytes()[2] == b':' {
        s[1..].to_owned()
    } else {
        s
    };
    Some(PathBuf::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let p = Path::new("/tmp/a b/ü#1.go");
        let u = from_path(p);
        assert_eq!(u, "file:///tmp/a%20b/%C3%BC%231.go");
        assert_eq!(to_path(&u).as_deref(), Some(p));
        assert_eq!(
            to_path("file://localhost/x/y.go").as_deref(),
            Some(Path::new("/x/y.go"))
        );
        assert_eq!(to_path("untitled:1"), None);
        assert_eq!(to_path("file:///x%2").as_deref(), Some(Path::new("/x%2")));
    }
}
