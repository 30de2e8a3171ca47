//! goblock-capture: produces Go execution traces on the user's request, so
//! that goblock has something to show without the user knowing how traces
//! are made.
//!
//! The source of the pipeline (**capture** → decode → symbolize →
//! attribute/aggregate → serve). It does:
//! * [`gotest`]: build a package's test binary with the user's Go
//!   (`go test -c -o <bin>`, honouring `go.work`/`go.mod`, `GOFLAGS` and
//!   build flags) and run one test, benchmark, fuzz seed corpus or the whole
//!   package with `-test.trace`, streaming its output, in its own process
//!   group (killed as a whole on cancel or timeout);
//! * [`fetch`]: fetch `<url>/debug/pprof/trace?seconds=N` from a running
//!   service — or its goroutine dump or block/mutex profile — (http/https
//!   URLs the user gave, same-host redirects only, a size cap, a timeout,
//!   cancel), keeping the body only if it is what was asked for
//!   ([`sniff`] names what came back otherwise);
//! * [`store`]: write each capture to its own directory
//!   `.goblock/captures/<timestamp>-<name>/{trace,bin,meta.json}` (or under
//!   the user cache directory when the workspace is read-only), keep the
//!   last N, list them.
//!
//! It does not decode or analyse traces (only their 16-byte header is
//! checked), never injects code into a program, never runs anything on its
//! own (callers start a capture on a user's command), and knows no LSP
//! types: the server and the CLI turn [`Event`]s into progress and output.
//! Everything here is blocking; callers run it off their message loop and
//! cancel it through a [`Cancel`].

pub mod cancel;
pub mod compiler;
pub mod error;
pub mod fetch;
pub mod gotest;
pub mod meta;
mod process;
pub mod sniff;
pub mod store;
pub mod testfuncs;
pub mod toolchain;

pub use cancel::Cancel;
pub use compiler::CompilerMessage;
pub use error::CaptureError;
pub use fetch::{ServiceRequest, capture_service, service_url};
pub use gotest::{Selection, TestRequest, capture_test};
pub use meta::{Capture, Meta, Outcome, What};
pub use store::Store;
pub use testfuncs::{TestFunc, TestKind, run_pattern, test_functions};
pub use toolchain::Toolchain;

use std::time::Duration;

/// What a running capture reports to its caller (progress, output).
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A new step starts ("building goblock.test/shop with go1.26.8", "running TestX").
    Step(String),
    /// A line written by the `go` command or the test binary (without its newline).
    Output {
        /// The line.
        line: String,
        /// Written to standard error.
        stderr: bool,
    },
    /// A service capture is under way.
    Fetch {
        /// Time since the request was sent.
        elapsed: Duration,
        /// Seconds the service takes before it answers (0: at once, a
        /// goroutine dump).
        seconds: f64,
        /// Body bytes received so far.
        bytes: u64,
    },
}
