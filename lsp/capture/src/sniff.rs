//! Names what a service sent back when it is not what was asked for (a Go
//! execution trace, a goroutine dump, a block or mutex profile): an
//! error status (404 without `net/http/pprof`, 500 "tracing already
//! enabled", 401/403), an HTML page (a login page of a proxy), a pprof
//! profile, text, or another binary format — from the status, the
//! `Content-Type` and `X-Go-Pprof` headers and the first bytes of the body.
//! A body is accepted only when the input sniffing every goblock input goes
//! through (`goblock_analysis::input::sniff`) says it is a Go trace and its
//! 16-byte header is one this goblock reads (`goblock_trace::header`).
//! Unlike a file's, an HTTP body is described with a short quoted excerpt
//! (a page title, the first line of a text page): it is what the service
//! said, and the user needs it.
//!
//! Pure functions; reads nothing from the network itself.

use goblock_analysis::input::{self, Kind};
use goblock_trace::DecodeError;
use goblock_trace::header::{self, HEADER_LEN};

use crate::meta::What;

/// Bytes of an error body worth reading to describe it.
pub const HEAD: usize = 4096;

/// What the response looked like (the head of its body).
#[derive(Clone, Copy, Debug)]
pub struct Response<'a> {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, if sent.
    pub content_type: Option<&'a str>,
    /// `X-Go-Pprof: 1` was sent (net/http/pprof's own error pages).
    pub go_pprof: bool,
    /// The first bytes of the body (up to [`HEAD`]).
    pub head: &'a [u8],
}

/// Checks that a body starting with `head` (all of it when shorter than
/// 16 bytes) is a Go execution trace goblock can read; otherwise says what
/// it is.
pub fn check_trace(head: &[u8], content_type: Option<&str>) -> Result<(), String> {
    if input::sniff(head) != Kind::GoTrace {
        return Err(describe(head, content_type));
    }
    if head.len() < HEADER_LEN {
        return Err(format!(
            "the body ends after {} bytes, inside the trace header",
            head.len()
        ));
    }
    match header::parse(head) {
        Ok(_) => Ok(()),
        Err(DecodeError::NotATrace { .. }) => Err(describe(head, content_type)),
        Err(e) => Err(e.to_string()),
    }
}

/// How many bytes [`check_body`] needs to judge a body (less when the body
/// is shorter).
pub fn enough(what: What) -> usize {
    match what {
        What::Trace => HEADER_LEN,
        // "goroutine 1 [running]:\n" and a frame line.
        What::Goroutines => 256,
        What::Block | What::Mutex => 2,
    }
}

/// Checks that a body starting with `head` is what was asked for (a
/// trace, a goroutine dump, a pprof profile); otherwise says what it is.
/// A profile's kind (block or mutex, not a CPU profile) is checked on the
/// whole body, once it has arrived (`check_profile`).
pub fn check_body(what: What, head: &[u8], content_type: Option<&str>) -> Result<(), String> {
    match what {
        What::Trace => check_trace(head, content_type),
        What::Goroutines => match input::sniff(head) {
            Kind::GoroutineDump => Ok(()),
            Kind::Empty => Err("an empty body".into()),
            _ => Err(describe_other(head, content_type, what)),
        },
        What::Block | What::Mutex => match input::sniff(head) {
            Kind::Gzip | Kind::Pprof => Ok(()),
            Kind::Empty => Err("an empty body".into()),
            _ => Err(describe_other(head, content_type, what)),
        },
    }
}

/// What a whole profile body holds, when it is a profile: its kind must be
/// `what`'s; returns the number of stacks (samples) in it.
pub fn check_profile(what: What, body: &[u8]) -> Result<usize, String> {
    let p = goblock_dumps::read_profile(body, what.file_name())
        .map_err(|e| format!("not a readable pprof profile: {e}"))?;
    let want = match what {
        What::Mutex => goblock_dumps::ProfileKind::Mutex,
        _ => goblock_dumps::ProfileKind::Block,
    };
    if p.kind != want {
        return Err(format!(
            "{}, not {}",
            p.kind.describe(),
            what.with_article()
        ));
    }
    Ok(p.profile.sample.len())
}

/// [`describe`] for a body that should have been a dump or a profile.
fn describe_other(head: &[u8], content_type: Option<&str>, what: What) -> String {
    let d = describe(head, content_type);
    match input::sniff(head) {
        Kind::GoTrace => format!(
            "a Go execution trace, not {} (the URL serves /debug/pprof/trace)",
            what.with_article()
        ),
        Kind::Gzip | Kind::Pprof => format!(
            "a gzip-compressed pprof profile, not {}",
            what.with_article()
        ),
        _ => d,
    }
}

/// One phrase for a body that is not a trace: "an HTML page titled …",
/// "a gzip-compressed pprof profile", "a text page: …".
pub fn describe(head: &[u8], content_type: Option<&str>) -> String {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let kind = input::sniff(head);
    if kind == Kind::Empty {
        return "an empty body".into();
    }
    if kind == Kind::Text && (is_html(head) || ct.starts_with("text/html")) {
        return match title(head) {
            Some(t) => format!(
                "an HTML page titled {t:?} (a login page, or a proxy in front of the service?)"
            ),
            None => "an HTML page (a login page, or a proxy in front of the service?)".into(),
        };
    }
    match kind {
        // What net/http/pprof serves gzip-compressed is a profile.
        Kind::Gzip | Kind::Pprof => "a gzip-compressed pprof profile, not an execution trace (the URL serves a profile, not /debug/pprof/trace)".into(),
        Kind::GoroutineDump | Kind::GoroutineProfileText | Kind::ContentionProfileText => format!(
            "{}, not an execution trace (the URL serves a profile, not /debug/pprof/trace)",
            kind.describe()
        ),
        Kind::Text if ct.contains("json") || trimmed(head).first() == Some(&b'{') => {
            format!("a JSON document: {}", first_line(head))
        }
        Kind::Text => format!("a text page: {}", first_line(head)),
        k => k.describe().to_owned(),
    }
}

/// The message for a response with an error status.
pub fn describe_status(r: &Response<'_>) -> String {
    let body = if r.head.is_empty() {
        "an empty body".to_owned()
    } else {
        describe(r.head, r.content_type)
    };
    let text = String::from_utf8_lossy(r.head);
    match r.status {
        404 => format!(
            "not found ({body}): is net/http/pprof served at this URL? (import _ \"net/http/pprof\" on http.DefaultServeMux, or mount its handlers on your own mux)"
        ),
        401 | 403 => format!("{body}: the endpoint wants credentials, and goblock sends none"),
        500 if r.go_pprof && text.contains("already enabled") => format!(
            "the service is already tracing ({}): another capture is running, or one was just cancelled; try again in a moment",
            first_line(r.head)
        ),
        400 if text.contains("WriteTimeout") => format!(
            "{}: the server's WriteTimeout is shorter than the capture; capture fewer seconds",
            first_line(r.head)
        ),
        _ if r.go_pprof => format!("net/http/pprof says {}", first_line(r.head)),
        _ => body,
    }
}

fn trimmed(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

fn is_html(b: &[u8]) -> bool {
    let t = trimmed(b);
    let head = String::from_utf8_lossy(&t[..t.len().min(64)]).to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.starts_with("<head")
}

fn title(b: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(b);
    let lower = s.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title")?;
    let t = s[open_end..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!t.is_empty()).then(|| t.chars().take(80).collect())
}

/// The first non-empty line, quoted and cut at 100 characters.
fn first_line(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let line = s
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let cut: String = line.chars().take(100).collect();
    if cut.len() < line.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_pass() {
        assert!(check_trace(b"go 1.26 trace\0\0\0", None).is_ok());
        assert!(check_trace(b"go 1.21 trace\0\0\0\x17\x00", None).is_ok());
        let e = check_trace(b"go 1.2", None).unwrap_err();
        assert!(e.contains("inside the trace header"), "{e}");
        let e = check_trace(b"go 1.10 trace\0\0\0", None).unwrap_err();
        assert!(e.contains("unsupported"), "{e}");
    }

    #[test]
    fn what_came_back() {
        let login = b"\n<!DOCTYPE html>\n<html><head><title>\n  Sign in - Acme SSO </title></head>";
        let e = check_trace(login, Some("text/html; charset=utf-8")).unwrap_err();
        assert!(
            e.starts_with("an HTML page titled \"Sign in - Acme SSO\""),
            "{e}"
        );
        let e = check_trace(
            &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3, 4, 5, 6],
            None,
        )
        .unwrap_err();
        assert!(e.contains("pprof profile"), "{e}");
        let e = check_trace(b"{\"error\": \"nope\"}", Some("application/json")).unwrap_err();
        assert!(e.starts_with("a JSON document"), "{e}");
    }

    #[test]
    fn statuses() {
        let r = |status, go_pprof, head: &'static [u8]| Response {
            status,
            content_type: Some("text/plain; charset=utf-8"),
            go_pprof,
            head,
        };
        let m = describe_status(&r(404, false, b"404 page not found\n"));
        assert!(
            m.starts_with("not found (a text page: \"404 page not found\")"),
            "{m}"
        );
        // net/http/pprof's body when a trace is already running (go1.26.8).
        let m = describe_status(&r(
            500,
            true,
            b"Could not enable tracing: execution tracer already enabled\n",
        ));
        assert!(m.contains("already tracing"), "{m}");
        let m = describe_status(&r(
            400,
            true,
            b"profile duration exceeds server's WriteTimeout\n",
        ));
        assert!(m.contains("capture fewer seconds"), "{m}");
        assert!(describe_status(&r(403, false, b"")).contains("credentials"));
    }
}
