//! Why a capture failed, as one line a user can act on (naming the package,
//! URL or file). A failed capture leaves nothing behind (see `store`).

use std::path::PathBuf;

use crate::compiler::CompilerMessage;

/// A capture that produced no trace.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// No `go` on `PATH` and no `goblock.goPath`.
    #[error(
        "no `go` command on PATH: install Go (https://go.dev/dl) or set goblock.goPath to its `go` binary"
    )]
    NoGo,
    /// `goblock.goPath` names nothing runnable.
    #[error("goblock.goPath {path}: {why}")]
    BadGoPath {
        /// The setting's value.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A `go` command other than the build failed (`go env`, `go list`).
    #[error("`{command}` failed: {message}")]
    Go {
        /// The command line.
        command: String,
        /// Its error output (first lines).
        message: String,
    },
    /// The package has no `_test.go` file.
    #[error("{package}: no test files, nothing to run")]
    NoTestFiles {
        /// Import path or directory.
        package: String,
    },
    /// `go test -c` failed: the compiler's messages.
    #[error("{package} does not compile: {summary}")]
    Build {
        /// Import path or directory.
        package: String,
        /// The first message (or the first output line).
        summary: String,
        /// Every message whose position parsed.
        messages: Vec<CompilerMessage>,
        /// The whole output of the build.
        output: String,
    },
    /// The test binary ran, but no test (or benchmark) matched the pattern:
    /// its trace shows only the test framework, so it is not kept.
    #[error("{package}: {what}; nothing was traced, no capture kept")]
    NothingMatched {
        /// "no test matched -run NONE", "no benchmark matched -bench X",
        /// "no test to run".
        what: String,
        /// The package's import path.
        package: String,
    },
    /// The test binary ran but left no trace file.
    #[error("the test binary wrote no trace: {why}")]
    NoTrace {
        /// What is known (exit status, last output line).
        why: String,
    },
    /// A step took longer than allowed.
    #[error("{what} timed out after {after}")]
    Timeout {
        /// The step ("building goblock.test/shop", "GET http://…").
        what: String,
        /// The limit, human readable.
        after: String,
    },
    /// The caller cancelled.
    #[error("capture cancelled")]
    Cancelled,
    /// A URL goblock will not fetch.
    #[error("{url}: {why}")]
    Url {
        /// As given.
        url: String,
        /// Why it is refused.
        why: String,
    },
    /// The request failed before a response (connection refused, DNS, TLS…).
    #[error("{url}: {why}")]
    Http {
        /// The URL fetched.
        url: String,
        /// The transport's error.
        why: String,
    },
    /// The service answered with an error status.
    #[error("{url}: HTTP {status}: {what}")]
    Status {
        /// The URL fetched.
        url: String,
        /// The status code.
        status: u16,
        /// What the body says / looks like.
        what: String,
    },
    /// The service answered 200 with something other than what was asked
    /// for (a trace, a goroutine dump, a profile).
    #[error("{url}: not {}: {what}", article(wanted))]
    NotWanted {
        /// The URL fetched.
        url: String,
        /// What was asked for ("execution trace", "block profile").
        wanted: &'static str,
        /// What came back.
        what: String,
    },
    /// A block or mutex profile with no stack: its profiling is off in the
    /// service, or nothing contended (the message says which).
    #[error("{url}: {why}")]
    EmptyProfile {
        /// The URL fetched.
        url: String,
        /// Why it is empty.
        why: String,
    },
    /// A redirect to another host, not followed.
    #[error(
        "{url} redirects to {to}, another host: not followed (goblock fetches only the URL you gave; use that URL if you trust it)"
    )]
    Redirect {
        /// The URL fetched.
        url: String,
        /// The redirect's target.
        to: String,
    },
    /// The body grew past the size cap.
    #[error(
        "{url}: the {wanted} passed the size cap of {cap_mib} MiB after {elapsed}: capture fewer seconds or raise goblock.capture.maxMiB"
    )]
    TooLarge {
        /// The URL fetched.
        url: String,
        /// What was asked for.
        wanted: &'static str,
        /// The cap in MiB.
        cap_mib: u64,
        /// When it was reached.
        elapsed: String,
    },
    /// The body ended before the response was complete.
    #[error(
        "{url}: the response ended early after {bytes} bytes ({why}): the {wanted} is truncated (did the service stop?)"
    )]
    Truncated {
        /// The URL fetched.
        url: String,
        /// What was asked for.
        wanted: &'static str,
        /// Bytes received.
        bytes: u64,
        /// The transport's error.
        why: String,
    },
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// "a Go execution trace", "a goroutine dump", …
fn article(wanted: &str) -> String {
    match wanted {
        "execution trace" => "a Go execution trace".to_owned(),
        w => format!("a {w}"),
    }
}

impl CaptureError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CaptureError {
        let path = path.into();
        move |source| CaptureError::Io { path, source }
    }
}
