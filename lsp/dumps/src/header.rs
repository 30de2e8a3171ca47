//! One goroutine header line of a dump, Go 1.11–1.27
//! (`runtime/traceback.go: goroutineheader`):
//!
//! ```text
//! goroutine 18 [chan receive, 17 minutes, locked to thread]:
//! goroutine 34 gp=0xa32ee763c0 m=0 mp=0x682680 [syscall]:          (1.22+, level ≥ 2)
//! goroutine 21 [chan receive labels:{"req": "42"}]:                (1.26, tracebacklabels=1)
//! goroutine 34 [chan receive] {req: 42}:                           (1.27)
//! goroutine 22 [chan receive (durable), synctest bubble 1]:
//! ```
//!
//! The status is matched by longest prefix against the known strings
//! (`reasons.rs`): reasons contain spaces and parentheses, so splitting on
//! `,` or ` (` would be wrong. An unknown status is kept as printed, up to
//! the first suffix. Does not parse frames.

use crate::reasons::{self, Reason};

/// A parsed header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// Goroutine id.
    pub id: u64,
    /// The status or wait reason as printed (`chan receive`, `running`, …).
    pub status: &'a str,
    /// The known status string `status` is (None: unknown to us, category
    /// `Other`).
    pub reason: Option<&'static Reason>,
    /// `, N minutes`: waiting at least this long (a lower bound: counted
    /// from the first GC that saw the goroutine blocked, and only from one
    /// minute on).
    pub minutes: Option<u32>,
    /// `, locked to thread`.
    pub locked: bool,
    /// ` (leaked)` (Go 1.26 goroutine leak detector).
    pub leaked: bool,
    /// `, synctest bubble N`.
    pub bubble: Option<u64>,
    /// pprof labels, as printed (without the braces): `"req": "42"` (1.26)
    /// or `req: 42` (1.27).
    pub labels: Option<&'a str>,
}

/// Parses a header line (without its line ending). `None` when the line is
/// not a goroutine header.
pub fn parse(line: &str) -> Option<Header<'_>> {
    let rest = line.strip_prefix("goroutine ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let id: u64 = rest[..digits].parse().ok()?;
    let rest = &rest[digits..];
    // ` gp=0x… m=… mp=0x…` or ` gp=0x… m=nil` before the bracket.
    let open = if rest.starts_with(" [") {
        0
    } else if rest.starts_with(" gp=") {
        rest.find(" [")?
    } else {
        return None;
    };
    let inner = rest[open + 2..].strip_suffix(':')?;
    let (body, after_labels) = match inner.strip_suffix(']') {
        Some(b) => (b, None),
        None => {
            // 1.27: `[status] {k: v}:`
            let i = inner.find("] {")?;
            let labels = inner[i + 3..].strip_suffix('}')?;
            (&inner[..i], Some(labels))
        }
    };
    let reason = reasons::longest_prefix(body);
    let (status, mut suffix) = match reason {
        Some(r) => (&body[..r.text.len()], &body[r.text.len()..]),
        None => {
            let end = [", ", " labels:{", " (leaked)", " (scan)"]
                .iter()
                .filter_map(|s| body.find(s))
                .min()
                .unwrap_or(body.len());
            (&body[..end], &body[end..])
        }
    };
    let mut h = Header {
        id,
        status,
        reason,
        minutes: None,
        locked: false,
        leaked: false,
        bubble: None,
        labels: after_labels,
    };
    while !suffix.is_empty() {
        if let Some(s) = suffix.strip_prefix(" (leaked)") {
            h.leaked = true;
            suffix = s;
        } else if let Some(s) = suffix
            .strip_prefix(" (scan)")
            .or_else(|| suffix.strip_prefix(" (durable)"))
        {
            suffix = s;
        } else if let Some(s) = suffix.strip_prefix(", locked to thread") {
            h.locked = true;
            suffix = s;
        } else if let Some(s) = suffix.strip_prefix(", synctest bubble ") {
            let n = s.bytes().take_while(u8::is_ascii_digit).count();
            h.bubble = s[..n].parse().ok();
            suffix = &s[n..];
        } else if let Some(s) = suffix.strip_prefix(" labels:{") {
            // 1.26: the labels run to the closing brace at the very end.
            h.labels = s.strip_suffix('}').or(Some(s));
            suffix = "";
        } else if let Some(s) = suffix.strip_prefix(", ") {
            let n = s.bytes().take_while(u8::is_ascii_digit).count();
            match s[n..].strip_prefix(" minutes") {
                Some(rest) if n > 0 => {
                    h.minutes = s[..n].parse().ok();
                    suffix = rest;
                }
                // Something newer we do not know: keep what we have.
                _ => break,
            }
        } else {
            break;
        }
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Header<'_> {
        parse(s).unwrap_or_else(|| panic!("not parsed: {s}"))
    }

    #[test]
    fn headers_of_every_version() {
        let h = p("goroutine 18 [chan receive, 17 minutes, locked to thread]:");
        assert_eq!(
            (h.id, h.status, h.minutes, h.locked),
            (18, "chan receive", Some(17), true)
        );
        let h = p("goroutine 34 gp=0xa32ee763c0 m=0 mp=0x682680 [syscall]:");
        assert_eq!((h.id, h.status), (34, "syscall"));
        let h = p("goroutine 1 gp=0xa32ed261e0 m=nil [sleep]:");
        assert_eq!(h.status, "sleep");
        let h = p(r#"goroutine 21 [chan receive labels:{"req": "42", "x": "a]b"}]:"#);
        assert_eq!(h.status, "chan receive");
        assert_eq!(h.labels, Some(r#""req": "42", "x": "a]b""#));
        let h = p("goroutine 34 [chan receive] {req: 42}:");
        assert_eq!((h.status, h.labels), ("chan receive", Some("req: 42")));
        let h = p("goroutine 22 [chan receive (durable), synctest bubble 1]:");
        assert_eq!((h.status, h.bubble), ("chan receive (durable)", Some(1)));
        let h = p("goroutine 9 [chan receive (nil chan)]:");
        assert_eq!(h.status, "chan receive (nil chan)");
        let h = p("goroutine 10 [select (no cases), 3 minutes]:");
        assert_eq!((h.status, h.minutes), ("select (no cases)", Some(3)));
        let h = p("goroutine 7 [sync.Mutex.Lock (leaked)]:");
        assert!(h.leaked);
        let h = p("goroutine 7 [brand new reason, 2 minutes]:");
        assert_eq!((h.status, h.minutes), ("brand new reason", Some(2)));
        let h = p("goroutine 5 [GC worker (idle)]:");
        assert_eq!(h.status, "GC worker (idle)");
    }

    #[test]
    fn reason_is_the_status_looked_up() {
        for s in [
            "goroutine 18 [chan receive, 17 minutes, locked to thread]:",
            "goroutine 9 [chan receive (nil chan)]:",
            "goroutine 10 [select (no cases), 3 minutes]:",
            "goroutine 7 [sync.Mutex.Lock (leaked)]:",
            "goroutine 7 [brand new reason, 2 minutes]:",
            "goroutine 7 [selection, 2 minutes]:",
            "goroutine 21 [IO wait labels:{\"req\": \"42\"}]:",
        ] {
            let h = p(s);
            assert_eq!(
                h.reason.map(|r| r.text),
                reasons::longest_prefix(h.status).map(|r| r.text),
                "{s}"
            );
            assert_eq!(
                h.reason
                    .map_or(goblock_trace::Category::Other, |r| r.category),
                reasons::category_of(h.status),
                "{s}"
            );
            assert_eq!(
                h.reason.is_some_and(|r| r.forever),
                reasons::is_forever(h.status),
                "{s}"
            );
        }
    }

    #[test]
    fn not_headers() {
        for s in [
            "goroutine profile: total 16",
            "goroutine 12",
            "goroutine x [running]:",
            "goroutine 1 [running]",
            "\tgoroutine running on other thread; stack unavailable",
            "goroutine 3 [running]: trailing",
        ] {
            assert!(parse(s).is_none(), "{s}");
        }
    }
}
