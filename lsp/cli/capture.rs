//! `goblock capture test|url|list`: runs a capture of goblock-capture from
//! the command line — the test's output and the progress go to standard
//! error, Ctrl-C cancels (the test's process group is killed, nothing is
//! kept) — then prints the report of the new trace, dump or profile like
//! `goblock report`.
//! Argument handling and printing only; the capture is the crate's.

use std::ffi::OsString;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use goblock_analysis::BinaryChoice;
use goblock_capture::store::{self, workspace_root};
use goblock_capture::{
    Cancel, Capture, CaptureError, Event, Selection, ServiceRequest, Store, TestRequest, What,
};

use super::report::{self, Format, ReportArgs};

/// What to print once the trace is captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// The report's table.
    Table,
    /// The report's JSON.
    Json,
    /// Only where the capture went.
    None,
}

/// Options of both kinds of capture.
#[derive(clap::Args, Debug)]
pub struct Common {
    /// Workspace whose .goblock/captures receives the capture (default: the
    /// directory of go.work or go.mod above the current directory).
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Captures kept in the workspace, newest first (0: all).
    #[arg(long, default_value_t = 10)]
    pub keep: usize,
    /// Print the report when done (`--report` alone: the table).
    #[arg(long, value_enum, default_value = "table", num_args = 0..=1, default_missing_value = "table")]
    pub report: ReportFormat,
}

/// `goblock capture test`.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// The package (a directory such as ./internal/queue, or an import path).
    #[arg(default_value = ".")]
    pub package: String,
    /// Run only the tests, examples and fuzz seed corpora matching REGEX (`-run` works too).
    #[arg(long, value_name = "REGEX")]
    pub run: Option<String>,
    /// Run the benchmarks matching REGEX, and no test unless --run says (`-bench` works too).
    #[arg(long, value_name = "REGEX")]
    pub bench: Option<String>,
    /// `-test.benchtime` of the benchmarks (e.g. 2s, 100x).
    #[arg(long, value_name = "D")]
    pub benchtime: Option<String>,
    /// `-test.timeout` (default: GOFLAGS' -timeout, else 10m).
    #[arg(long, value_name = "D", value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,
    /// The `go` to build with: a `go` binary or a Go root (default: `go` on PATH).
    #[arg(long = "go", value_name = "PATH")]
    pub go_path: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Flags for `go test -c` (after `--`, e.g. -- -tags=integration -race).
    #[arg(last = true, value_name = "BUILD_FLAGS")]
    pub build_flags: Vec<String>,
}

/// What `goblock capture url` fetches (`--what`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WhatArg {
    /// An execution trace of the seconds: /debug/pprof/trace?seconds=N.
    Trace,
    /// Every goroutine's stack now: /debug/pprof/goroutine?debug=2.
    Goroutines,
    /// The block profile of the seconds: /debug/pprof/block?seconds=N.
    Block,
    /// The mutex profile of the seconds: /debug/pprof/mutex?seconds=N.
    Mutex,
}

impl From<WhatArg> for What {
    fn from(w: WhatArg) -> What {
        match w {
            WhatArg::Trace => What::Trace,
            WhatArg::Goroutines => What::Goroutines,
            WhatArg::Block => What::Block,
            WhatArg::Mutex => What::Mutex,
        }
    }
}

/// `goblock capture url` (alias `service`).
#[derive(clap::Args, Debug)]
pub struct UrlArgs {
    /// The service: http://host:port, a path prefix, or …/debug/pprof/<endpoint>.
    pub url: String,
    /// What to capture.
    #[arg(long, value_enum, default_value = "trace")]
    pub what: WhatArg,
    /// Seconds to trace or profile (whole seconds for a profile; a dump is
    /// taken at once).
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// The service's binary, for exact lines (default: look for one in the workspace).
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
    /// Give up after this long (default: the seconds + 30 s).
    #[arg(long, value_name = "D", value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,
    /// Refuse a trace, dump or profile larger than this many MiB.
    #[arg(long, default_value_t = goblock_capture::fetch::DEFAULT_MAX_BYTES >> 20)]
    pub max_mib: u64,
    #[command(flatten)]
    pub common: Common,
}

/// Rewrites Go-style single-dash flags (`-run X`, `-bench=X`,
/// `-benchtime`, `-timeout`) of `goblock capture …` to clap's `--run`;
/// everything after `--` is left alone (build flags).
pub fn go_style_flags(args: Vec<OsString>) -> Vec<OsString> {
    if args.get(1).and_then(|a| a.to_str()) != Some("capture") {
        return args;
    }
    let mut out = Vec::with_capacity(args.len());
    let mut rest = false;
    for a in args {
        let Some(s) = a.to_str() else {
            out.push(a);
            continue;
        };
        if s == "--" {
            rest = true;
        }
        let go_flag = ["run", "bench", "benchtime", "timeout"]
            .iter()
            .any(|f| s == format!("-{f}") || s.starts_with(&format!("-{f}=")));
        out.push(if !rest && go_flag {
            format!("-{s}").into()
        } else {
            a
        });
    }
    out
}

fn cancel_on_ctrl_c() -> Cancel {
    let cancel = Cancel::new();
    let c = cancel.clone();
    // Without a handler Ctrl-C would kill goblock and leave the test running.
    let _ = ctrlc::set_handler(move || c.cancel());
    cancel
}

fn open_store(common: &Common) -> anyhow::Result<(PathBuf, Store)> {
    let cwd = std::env::current_dir().context("current directory")?;
    let ws = match &common.workspace {
        Some(w) => w.clone(),
        None => workspace_root(&cwd),
    };
    let store = Store::for_workspace(&ws, store::default_cache_dir().as_deref())?;
    if let Some(why) = &store.fallback {
        eprintln!("goblock: {why}");
    }
    Ok((ws, store))
}

fn explain(e: CaptureError) -> anyhow::Error {
    match e {
        CaptureError::Build {
            package, messages, ..
        } => {
            // The compiler's output was streamed above; name the first error.
            let first = messages
                .first()
                .map(|m| format!("{}:{}: {}", m.file.display(), m.line, m.message))
                .unwrap_or_default();
            anyhow::anyhow!(
                "{package} does not compile ({} error(s)) {first}",
                messages.len()
            )
        }
        e => e.into(),
    }
}

/// Runs `goblock capture test`.
pub fn test(args: TestArgs) -> anyhow::Result<i32> {
    let (ws, store) = open_store(&args.common)?;
    let selection = match (args.bench, args.run) {
        (Some(bench), run) => Selection::Bench { bench, run },
        (None, Some(run)) => Selection::Run(run),
        (None, None) => Selection::Package,
    };
    let req = TestRequest {
        dir: std::env::current_dir().context("current directory")?,
        package: args.package,
        selection,
        label: None,
        go_path: args.go_path,
        build_flags: args.build_flags,
        benchtime: args.benchtime,
        timeout: args.timeout,
    };
    let cancel = cancel_on_ctrl_c();
    let stderr = std::io::stderr();
    let c = goblock_capture::capture_test(&store, &req, &cancel, &mut |e| {
        let mut err = stderr.lock();
        let _ = match e {
            Event::Step(s) => writeln!(err, "goblock: {s}"),
            Event::Output { line, .. } => writeln!(err, "{line}"),
            Event::Fetch { .. } => Ok(()),
        };
    })
    .map_err(explain)?;
    finish(
        &ws,
        &store,
        &c,
        args.common.keep,
        args.common.report,
        c.binary.clone(),
    )
}

/// Runs `goblock capture url`.
pub fn url(args: UrlArgs) -> anyhow::Result<i32> {
    let (ws, store) = open_store(&args.common)?;
    let what = What::from(args.what);
    let req = ServiceRequest {
        url: args.url,
        what,
        seconds: args.seconds,
        timeout: args.timeout,
        max_bytes: Some(args.max_mib << 20),
    };
    let cancel = cancel_on_ctrl_c();
    let tty = std::io::stderr().is_terminal();
    let mut shown = 0u64;
    let c = goblock_capture::capture_service(&store, &req, &cancel, &mut |e| {
        let mut err = std::io::stderr().lock();
        match e {
            Event::Step(s) => {
                let _ = writeln!(err, "goblock: {s}");
            }
            Event::Fetch {
                elapsed,
                seconds,
                bytes,
            } => {
                let line = if seconds > 0.0 {
                    format!(
                        "goblock: capturing {:.1}/{} s, {}",
                        elapsed.as_secs_f64(),
                        seconds,
                        size(bytes)
                    )
                } else {
                    format!(
                        "goblock: fetching, {:.1} s, {}",
                        elapsed.as_secs_f64(),
                        size(bytes)
                    )
                };
                // On a terminal one line that updates; in a log one a second.
                if tty {
                    let _ = write!(err, "\r{line}   ");
                } else if elapsed.as_secs() > shown {
                    shown = elapsed.as_secs();
                    let _ = writeln!(err, "{line}");
                }
            }
            Event::Output { line, .. } => {
                let _ = writeln!(err, "{line}");
            }
        }
    });
    if tty {
        eprintln!();
    }
    let c = c.map_err(explain)?;
    finish(
        &ws,
        &store,
        &c,
        args.common.keep,
        args.common.report,
        args.binary,
    )
}

/// Runs `goblock capture list`.
pub fn list(common: Common) -> anyhow::Result<i32> {
    let (_, store) = open_store(&common)?;
    let caps = store.list();
    if caps.is_empty() {
        eprintln!("goblock: no captures in {}", store.root().display());
    }
    let mut out = std::io::stdout().lock();
    for c in caps {
        writeln!(
            out,
            "{}\t{}\t{:?}\t{}\t{}",
            c.meta.started,
            c.meta.name,
            c.meta.outcome,
            size(c.meta.trace_bytes),
            c.dir.display()
        )?;
    }
    Ok(0)
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    }
}

fn finish(
    ws: &Path,
    store: &Store,
    c: &Capture,
    keep: usize,
    report: ReportFormat,
    binary: Option<PathBuf>,
) -> anyhow::Result<i32> {
    for w in &c.meta.warnings {
        eprintln!("goblock: warning: {w}");
    }
    let what = match c.meta.what {
        What::Trace => String::new(),
        w => format!("{} of ", w.with_article()),
    };
    eprintln!(
        "goblock: captured {what}{} ({}) in {}",
        c.meta.name,
        size(c.meta.trace_bytes),
        c.dir.display()
    );
    store.prune(keep);
    let format = match report {
        ReportFormat::None => return Ok(0),
        ReportFormat::Table => Format::Table,
        ReportFormat::Json => Format::Json,
    };
    let args = ReportArgs {
        traces: vec![c.file.clone()],
        workspaces: vec![ws.to_path_buf()],
        binary: match binary {
            Some(b) => BinaryChoice::Path(b),
            None => BinaryChoice::Auto,
        },
        format,
        categories: report::parse_categories(report::DEFAULT_CATEGORIES)?,
        top: 20,
        title: None,
        library: false,
        open: Default::default(),
    };
    report::run(&args, &mut std::io::stdout().lock())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style() {
        let v = |s: &str| s.split(' ').map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            go_style_flags(v("goblock capture test ./x -run ^TestA$ -bench=. -- -run")),
            v("goblock capture test ./x --run ^TestA$ --bench=. -- -run")
        );
        assert_eq!(
            go_style_flags(v("goblock report -run")),
            v("goblock report -run")
        );
    }
}
