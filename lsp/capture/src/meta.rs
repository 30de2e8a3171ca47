//! What a capture records about itself (`meta.json`, documented in
//! docs/capture.md) and the handle a finished capture returns. Plain data.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The version of the `meta.json` layout.
pub const META_VERSION: u32 = 1;

/// What was captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One or more tests selected by a pattern.
    Test,
    /// Benchmarks selected by a pattern.
    Benchmark,
    /// A fuzz test's seed corpus.
    Fuzz,
    /// Every test of a package.
    Package,
    /// A running service's `/debug/pprof/trace`.
    Service,
}

/// What a service capture fetched (`meta.json`'s `what`; absent in test
/// captures and older service captures: an execution trace).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum What {
    /// `/debug/pprof/trace?seconds=N`: an execution trace.
    #[default]
    Trace,
    /// `/debug/pprof/goroutine?debug=2`: a goroutine dump, every
    /// goroutine's stack now.
    Goroutines,
    /// `/debug/pprof/block?seconds=N`: the block profile of those seconds.
    Block,
    /// `/debug/pprof/mutex?seconds=N`: the mutex profile of those seconds.
    Mutex,
}

impl What {
    /// Every kind, in the order pickers offer them.
    pub const ALL: [What; 4] = [What::Trace, What::Goroutines, What::Block, What::Mutex];

    /// The name in `meta.json`, the protocol and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            What::Trace => "trace",
            What::Goroutines => "goroutines",
            What::Block => "block",
            What::Mutex => "mutex",
        }
    }

    /// From [`What::as_str`]'s names.
    pub fn parse(s: &str) -> Option<What> {
        What::ALL.into_iter().find(|w| w.as_str() == s)
    }

    /// What a user calls it: "execution trace", "goroutine dump", …
    pub fn describe(self) -> &'static str {
        match self {
            What::Trace => "execution trace",
            What::Goroutines => "goroutine dump",
            What::Block => "block profile",
            What::Mutex => "mutex profile",
        }
    }

    /// [`What::describe`] with its article: "an execution trace", …
    pub fn with_article(self) -> &'static str {
        match self {
            What::Trace => "an execution trace",
            What::Goroutines => "a goroutine dump",
            What::Block => "a block profile",
            What::Mutex => "a mutex profile",
        }
    }

    /// The net/http/pprof endpoint (under `/debug/pprof/`).
    pub fn endpoint(self) -> &'static str {
        match self {
            What::Trace => "trace",
            What::Goroutines => "goroutine",
            What::Block => "block",
            What::Mutex => "mutex",
        }
    }

    /// The file in the capture directory; its name is what the server's
    /// dump discovery (`goblock.dumps.files`) and the profile reader (an
    /// empty profile's kind) go by.
    pub fn file_name(self) -> &'static str {
        match self {
            What::Trace => "trace",
            What::Goroutines => "goroutines.txt",
            What::Block => "block.pb.gz",
            What::Mutex => "mutex.pb.gz",
        }
    }

    /// Whether it covers a span of seconds (a dump is an instant).
    pub fn timed(self) -> bool {
        self != What::Goroutines
    }
}

fn is_trace(w: &What) -> bool {
    *w == What::Trace
}

/// How the traced run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Every selected test passed.
    Passed,
    /// A test failed (the trace is complete).
    Failed,
    /// The test binary's own `-test.timeout` fired (the trace was flushed).
    TimedOut,
    /// The binary did not stop after its timeout and was killed (the
    /// trace ends where the binary last flushed it).
    Killed,
    /// The service sent the whole trace, dump or profile.
    Complete,
}

/// The `go` that built a test capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoInfo {
    /// The `go` binary.
    pub path: PathBuf,
    /// `go env GOVERSION`.
    pub version: String,
    /// `go env GOFLAGS`.
    pub goflags: String,
    /// `go.work` or `go.mod` the package belonged to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<PathBuf>,
}

/// The contents of `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// [`META_VERSION`].
    pub version: u32,
    /// What was captured.
    pub kind: Kind,
    /// A short label: the test's name, the package, or the service's host.
    pub name: String,
    /// Start, RFC 3339 (UTC).
    pub started: String,
    /// Time from the start to the trace being kept, ms.
    pub duration_ms: u64,
    /// How the run ended.
    pub outcome: Outcome,
    /// Exit code of the test binary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Size of the captured file (named for the execution traces it
    /// first held).
    pub trace_bytes: u64,
    /// Things the user should know (a failing test, a redirect followed…).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Test captures: the package's import path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Test captures: the package directory (the binary ran there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Test captures: the `-test.run` / `-test.bench` pattern.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Test captures: the Go that built it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go: Option<GoInfo>,
    /// Test captures: the build command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// Test captures: the test binary's command line (paths as they were
    /// while it ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Service captures: what was fetched (absent: a trace).
    #[serde(default, skip_serializing_if = "is_trace")]
    pub what: What,
    /// Service captures: the URL fetched (after same-host redirects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Service captures: seconds asked for (absent for a goroutine dump).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

/// A finished capture on disk.
#[derive(Clone, Debug, PartialEq)]
pub struct Capture {
    /// Its directory.
    pub dir: PathBuf,
    /// The captured file: the execution trace (`trace`), or a service's
    /// goroutine dump or profile ([`What::file_name`]).
    pub file: PathBuf,
    /// The test binary kept beside it (test captures).
    pub binary: Option<PathBuf>,
    /// Its `meta.json`.
    pub meta: Meta,
}
