//! Captures a trace of a package's tests: `go list` names the package,
//! `go test -c -o <capture>/bin` builds its test binary with the user's Go,
//! build flags and `GOFLAGS` (the `go` command applies `go.work`/`go.mod`
//! itself), then the binary runs in the package directory, as `go test`
//! runs it, with `-test.trace=<capture>/trace`, `-test.run` or
//! `-test.bench`, `-test.timeout`, `-test.v` and the test flags of
//! `GOFLAGS` (`-short`, `-count`, …, which `go test` would forward). Output
//! streams to the caller line by line. The binary stays beside the trace,
//! so symbolization uses exactly the code that ran.
//!
//! A failing or timed-out test still yields its trace (with a warning); a
//! build error yields the compiler's messages; a cancel kills the process
//! group and leaves nothing. Does not choose what to run (the caller's
//! [`Selection`]) and does not analyse the trace.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::compiler;
use crate::meta::{Capture, GoInfo, Kind, META_VERSION, Meta, Outcome};
use crate::process::{self, Exit};
use crate::toolchain::{command_line, first_lines};
use crate::{Cancel, CaptureError, Event, Store, Toolchain, sniff};

/// `go test`'s default `-timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// A build longer than this is stopped.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(600);
/// Time the test binary gets after its own `-test.timeout` (it panics,
/// flushes the trace and exits) before its process group is killed.
pub const KILL_GRACE: Duration = Duration::from_secs(30);

/// Test flags of `GOFLAGS` that `go test` forwards to the binary and that
/// goblock forwards too (the others select, time or trace, which goblock
/// sets itself).
const FORWARDED: &[&str] = &[
    "short", "count", "cpu", "parallel", "failfast", "shuffle", "benchmem", "skip",
];

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every test (and example) of the package; no benchmark.
    Package,
    /// The tests, fuzz seed corpora and examples `-test.run` selects.
    Run(String),
    /// The benchmarks `-test.bench` selects, after the tests `run`
    /// selects (none when `None`: `-test.run=^$`).
    Bench {
        /// `-test.bench`.
        bench: String,
        /// `-test.run`.
        run: Option<String>,
    },
}

impl Selection {
    fn kind(&self) -> Kind {
        match self {
            Selection::Package => Kind::Package,
            Selection::Run(p) if p.starts_with("^Fuzz") => Kind::Fuzz,
            Selection::Run(_) => Kind::Test,
            Selection::Bench { .. } => Kind::Benchmark,
        }
    }

    fn pattern(&self) -> Option<String> {
        match self {
            Selection::Package => None,
            Selection::Run(p) => Some(p.clone()),
            Selection::Bench { bench, .. } => Some(bench.clone()),
        }
    }
}

/// A test capture.
#[derive(Clone, Debug)]
pub struct TestRequest {
    /// Where the `go` command runs (the package directory, or where a
    /// relative package pattern is relative to).
    pub dir: PathBuf,
    /// The package: `.`, `./sub`, or an import path.
    pub package: String,
    /// What to run.
    pub selection: Selection,
    /// The capture's name (default: from the selection or the package).
    pub label: Option<String>,
    /// `goblock.goPath`: a `go` binary or a Go root (default: `PATH`).
    pub go_path: Option<PathBuf>,
    /// Extra `go test -c` flags (`-tags=integration`, `-race`).
    pub build_flags: Vec<String>,
    /// `-test.benchtime` (default: Go's).
    pub benchtime: Option<String>,
    /// `-test.timeout` (default: `GOFLAGS`'s `-timeout`, else 10 minutes).
    pub timeout: Option<Duration>,
}

impl TestRequest {
    /// Runs the tests `selection` picks in the package of directory `dir`.
    pub fn new(dir: impl Into<PathBuf>, selection: Selection) -> TestRequest {
        TestRequest {
            dir: dir.into(),
            package: ".".into(),
            selection,
            label: None,
            go_path: None,
            build_flags: Vec::new(),
            benchtime: None,
            timeout: None,
        }
    }
}

/// The package as `go list` sees it.
struct Package {
    import_path: String,
    dir: PathBuf,
}

fn list_package(
    tc: &Toolchain,
    req: &TestRequest,
    cancel: &Cancel,
) -> Result<Package, CaptureError> {
    let format = "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}";
    let out = tc
        .output(
            &req.dir,
            &["list", "-f", format, "--", &req.package],
            cancel,
        )
        .map_err(|e| match e {
            // A syntax error stops `go list`: show it as the build would.
            CaptureError::Go { message, .. } => {
                let messages = compiler::parse(&message.replace("; ", "\n"), &req.dir);
                CaptureError::Build {
                    package: req.package.clone(),
                    summary: message.clone(),
                    messages,
                    output: message,
                }
            }
            e => e,
        })?;
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    let [line] = lines.as_slice() else {
        return Err(CaptureError::Go {
            command: format!("go list {}", req.package),
            message: format!(
                "{} names {} packages; a trace covers one package at a time",
                req.package,
                lines.len()
            ),
        });
    };
    let f: Vec<&str> = line.split('\t').collect();
    let [import_path, dir, tests, xtests] = f.as_slice() else {
        return Err(CaptureError::Go {
            command: format!("go list {}", req.package),
            message: format!("unexpected output {line:?}"),
        });
    };
    if *tests == "0" && *xtests == "0" {
        return Err(CaptureError::NoTestFiles {
            package: import_path.to_string(),
        });
    }
    Ok(Package {
        import_path: import_path.to_string(),
        dir: PathBuf::from(dir),
    })
}

/// Test flags found in `GOFLAGS`, as `-test.X[=V]` arguments, and its
/// `-timeout`, if any.
fn goflags_test_flags(goflags: &str) -> (Vec<String>, Option<Duration>) {
    let mut flags = Vec::new();
    let mut timeout = None;
    for f in goflags.split_whitespace() {
        let body = f.trim_start_matches('-');
        let body = body.strip_prefix("test.").unwrap_or(body);
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        if name == "timeout" {
            timeout = value.and_then(parse_go_duration);
        } else if FORWARDED.contains(&name) {
            flags.push(match value {
                Some(v) => format!("-test.{name}={v}"),
                None => format!("-test.{name}"),
            });
        }
    }
    (flags, timeout)
}

/// A Go duration such as `90s`, `1m30s`, `2h` (`humantime` reads those,
/// and `0` means none).
fn parse_go_duration(s: &str) -> Option<Duration> {
    if s == "0" {
        return Some(Duration::ZERO);
    }
    humantime::parse_duration(s).ok()
}

/// Go's spelling of a duration for `-test.timeout` (`1m30s`).
fn go_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Builds the test binary and runs it with `-test.trace`, as described in
/// the module doc.
pub fn capture_test(
    store: &Store,
    req: &TestRequest,
    cancel: &Cancel,
    on: &mut dyn FnMut(Event),
) -> Result<Capture, CaptureError> {
    let started = SystemTime::now();
    let t0 = Instant::now();
    let (tc, module) = Toolchain::probe(req.go_path.as_deref(), &req.dir, cancel)?;
    let pkg = list_package(&tc, req, cancel)?;
    let label = req.label.clone().unwrap_or_else(|| match &req.selection {
        Selection::Package => pkg
            .import_path
            .rsplit('/')
            .next()
            .unwrap_or("package")
            .to_owned(),
        // `^TestX$/^case$` → `TestX-case`.
        s => s
            .pattern()
            .unwrap_or_default()
            .replace(['^', '$', '\\'], "")
            .replace('/', "-"),
    });
    let pending = store.begin(&label)?;
    let bin = pending.path("bin");
    let trace = pending.path("trace");

    // Build.
    let mut build_args: Vec<OsString> = vec!["test".into(), "-c".into(), "-o".into()];
    build_args.push(bin.clone().into());
    build_args.extend(req.build_flags.iter().map(OsString::from));
    build_args.push(".".into());
    let build_line = command_line(Path::new("go"), &build_args);
    on(Event::Step(format!(
        "building {} with {} ({})",
        pkg.import_path, tc.version, build_line
    )));
    let mut cmd = tc.command(&pkg.dir);
    cmd.args(&build_args);
    let f = process::run(
        cmd,
        cancel,
        Some(Instant::now() + BUILD_TIMEOUT),
        &mut |line, stderr| {
            on(Event::Output {
                line: line.to_owned(),
                stderr,
            })
        },
    )
    .map_err(CaptureError::io(&tc.go))?;
    match f.exit {
        Exit::Exited(s) if s.success() => {}
        Exit::Exited(_) => {
            let output = format!("{}{}", f.stdout, f.stderr);
            let messages = compiler::parse(&output, &pkg.dir);
            let summary = match messages.first() {
                Some(m) => format!(
                    "{}:{}: {}",
                    m.file.strip_prefix(&pkg.dir).unwrap_or(&m.file).display(),
                    m.line,
                    m.message.lines().next().unwrap_or("")
                ),
                None => first_lines(&output, 2),
            };
            return Err(CaptureError::Build {
                package: pkg.import_path,
                summary,
                messages,
                output,
            });
        }
        Exit::Cancelled => return Err(CaptureError::Cancelled),
        Exit::TimedOut => {
            return Err(CaptureError::Timeout {
                what: format!("building {}", pkg.import_path),
                after: humantime::format_duration(BUILD_TIMEOUT).to_string(),
            });
        }
    }
    if !bin.is_file() {
        return Err(CaptureError::NoTestFiles {
            package: pkg.import_path,
        });
    }

    // Run.
    let (forwarded, goflags_timeout) = goflags_test_flags(&tc.goflags);
    let timeout = req.timeout.or(goflags_timeout).unwrap_or(DEFAULT_TIMEOUT);
    let mut args: Vec<OsString> = Vec::new();
    match &req.selection {
        Selection::Package => {}
        Selection::Run(p) => args.push(format!("-test.run={p}").into()),
        Selection::Bench { bench, run } => {
            args.push(format!("-test.run={}", run.as_deref().unwrap_or("^$")).into());
            args.push(format!("-test.bench={bench}").into());
            if let Some(bt) = &req.benchtime {
                args.push(format!("-test.benchtime={bt}").into());
            }
        }
    }
    let mut t = OsString::from("-test.trace=");
    t.push(&trace);
    args.push(t);
    args.push(format!("-test.timeout={}", go_duration(timeout)).into());
    args.push("-test.v=true".into());
    args.push("-test.paniconexit0".into());
    args.extend(forwarded.into_iter().map(OsString::from));
    let run_line = command_line(&bin, &args);
    on(Event::Step(format!(
        "running {label} in {}",
        pkg.dir.display()
    )));
    let mut cmd = std::process::Command::new(&bin);
    cmd.current_dir(&pkg.dir).args(&args);
    tc.environ(&mut cmd, &pkg.dir);
    let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout + KILL_GRACE);
    let f = process::run(cmd, cancel, deadline, &mut |line, stderr| {
        on(Event::Output {
            line: line.to_owned(),
            stderr,
        })
    })
    .map_err(CaptureError::io(&bin))?;
    let (outcome, code) = match f.exit {
        Exit::Cancelled => return Err(CaptureError::Cancelled),
        Exit::TimedOut => (Outcome::Killed, None),
        Exit::Exited(s) if s.success() => (Outcome::Passed, Some(0)),
        Exit::Exited(s) => {
            let out = format!("{}{}", f.stdout, f.stderr);
            if out.contains("panic: test timed out after") {
                (Outcome::TimedOut, s.code())
            } else {
                (Outcome::Failed, s.code())
            }
        }
    };
    let output = format!("{}{}", f.stdout, f.stderr);
    if let Some(what) = nothing_matched(&req.selection, &output) {
        return Err(CaptureError::NothingMatched {
            what,
            package: pkg.import_path,
        });
    }
    let trace_bytes = std::fs::metadata(&trace).map(|m| m.len()).unwrap_or(0);
    if trace_bytes == 0 {
        let last = output
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(CaptureError::NoTrace {
            why: format!(
                "{} (last output: {last:?}); a TestMain that exits before m.Run returns writes none",
                match code {
                    Some(c) => format!("exit status {c}"),
                    None => "killed".into(),
                }
            ),
        });
    }
    let mut head = Vec::new();
    std::fs::File::open(&trace)
        .and_then(|f| f.take(16).read_to_end(&mut head))
        .map_err(CaptureError::io(&trace))?;
    if let Err(what) = sniff::check_trace(&head, None) {
        return Err(CaptureError::NoTrace { why: what });
    }
    let mut warnings = Vec::new();
    match outcome {
        Outcome::Failed => warnings.push(format!(
            "{label}: the test failed (exit status {}); its trace is loaded all the same",
            code.unwrap_or(-1)
        )),
        Outcome::TimedOut => warnings.push(format!(
            "{label}: the test timed out after {} (goblock.capture.timeout); the trace ends there, the goroutine dump is in the output",
            go_duration(timeout)
        )),
        Outcome::Killed => warnings.push(format!(
            "{label}: the test binary did not stop after its timeout and was killed; the trace ends where it was last flushed"
        )),
        _ => {}
    }
    let meta = Meta {
        version: META_VERSION,
        kind: req.selection.kind(),
        name: label,
        started: humantime::format_rfc3339_seconds(started).to_string(),
        duration_ms: t0.elapsed().as_millis() as u64,
        outcome,
        exit_code: code,
        trace_bytes,
        warnings,
        package: Some(pkg.import_path),
        dir: Some(pkg.dir),
        pattern: req.selection.pattern(),
        go: Some(GoInfo {
            path: tc.go.clone(),
            version: tc.version.clone(),
            goflags: tc.goflags.clone(),
            module: module.gowork.clone().or(module.gomod.clone()),
        }),
        build: Some(build_line),
        run: Some(run_line),
        what: Default::default(),
        url: None,
        seconds: None,
    };
    pending.commit(meta)
}

/// What matched nothing, when the test binary says so: `testing` prints
/// "testing: warning: no tests to run" when `-test.run` matched no test,
/// example or fuzz test (and no benchmark was asked for); a benchmark run
/// that matched nothing prints no `Benchmark…` result line (with
/// `-test.v`, every benchmark run prints its name).
fn nothing_matched(sel: &Selection, output: &str) -> Option<String> {
    let lines = || output.lines().map(str::trim_end);
    match sel {
        Selection::Package | Selection::Run(_) => lines()
            .any(|l| l == "testing: warning: no tests to run")
            .then(|| match sel {
                Selection::Run(p) => format!("no test matched -run {p}"),
                _ => "no test to run".to_owned(),
            }),
        Selection::Bench { bench, .. } => (!lines().any(|l| l.starts_with("Benchmark")))
            .then(|| format!("no benchmark matched -bench {bench}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goflags() {
        let (f, t) = goflags_test_flags("-buildvcs=false -count=1 -test.short -timeout=90s -race");
        assert_eq!(f, ["-test.count=1", "-test.short"]);
        assert_eq!(t, Some(Duration::from_secs(90)));
        assert_eq!(
            goflags_test_flags("-timeout=1m30s").1,
            Some(Duration::from_secs(90))
        );
        assert_eq!(go_duration(Duration::from_secs(600)), "600s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn nothing_matched_is_named() {
        let run = Selection::Run("NONE".into());
        let out = "testing: warning: no tests to run\nPASS\n";
        assert_eq!(
            nothing_matched(&run, out).as_deref(),
            Some("no test matched -run NONE")
        );
        assert_eq!(nothing_matched(&run, "=== RUN   TestA\nPASS\n"), None);
        let bench = Selection::Bench {
            bench: "^BenchmarkX$".into(),
            run: None,
        };
        assert_eq!(
            nothing_matched(&bench, "PASS\n").as_deref(),
            Some("no benchmark matched -bench ^BenchmarkX$")
        );
        assert_eq!(
            nothing_matched(&bench, "BenchmarkX\nBenchmarkX-2  \t 10\t 5 ns/op\nPASS\n"),
            None
        );
    }
}
