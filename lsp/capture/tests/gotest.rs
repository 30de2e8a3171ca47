//! Test captures with real `go test` builds and runs on the fixture
//! packages of `testdata/capture/` (copied to temporary workspaces): the
//! trace and the binary land in the capture directory, and analysing them
//! (as the server does) puts blocking on every `BLOCK[reason]` marker line;
//! an older Go chosen by the `goPath` setting; benchmarks, fuzz seed
//! corpora, whole packages and `go.work` workspaces; a failing test, a test
//! that hangs until its timeout, a cancel (no process left, no file left),
//! a package that does not compile (positioned messages), a path with a
//! space, a read-only workspace (a read-only bind mount, where root may
//! mount; the captures go to the cache directory).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use goblock_capture::meta::{Kind, Outcome};
use goblock_capture::{
    Cancel, CaptureError, Event, Selection, TestRequest, capture_test, run_pattern,
};
use support::{Ws, assert_markers, blocked_lines, entries, have_go, live_processes_with};

fn run(ws: &Ws, req: &TestRequest) -> (Result<goblock_capture::Capture, CaptureError>, Vec<Event>) {
    let mut events = Vec::new();
    let r = capture_test(&ws.store(), req, &Cancel::new(), &mut |e| events.push(e));
    (r, events)
}

fn output(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Output { line, .. } => Some(line.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn traces_one_test_beside_its_binary_in_a_path_with_a_space() {
    if !have_go("traces_one_test") {
        return;
    }
    let ws = Ws::new("shop", true);
    assert!(ws.root.to_string_lossy().contains("my projects"));
    let req = TestRequest::new(&ws.root, Selection::Run(run_pattern("TestProcessOrders")));
    let (r, events) = run(&ws, &req);
    let c = r.unwrap_or_else(|e| panic!("{e}\n{}", output(&events)));
    assert!(
        c.dir.starts_with(ws.root.join(".goblock/captures")),
        "{c:?}"
    );
    assert!(
        c.dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with("-TestProcessOrders")
    );
    let bin = c.binary.as_deref().expect("the test binary is kept");
    assert_eq!(c.meta.outcome, Outcome::Passed);
    assert_eq!(c.meta.kind, Kind::Test);
    assert_eq!(c.meta.package.as_deref(), Some("goblock.test/shop"));
    assert_eq!(c.meta.pattern.as_deref(), Some("^TestProcessOrders$"));
    let go = c.meta.go.as_ref().unwrap();
    assert!(go.version.starts_with("go1."), "{go:?}");
    assert_eq!(
        c.meta.trace_bytes,
        std::fs::metadata(&c.file).unwrap().len()
    );
    let out = output(&events);
    assert!(
        out.contains("=== RUN   TestProcessOrders/more_workers_than_connections"),
        "{out}"
    );
    assert!(
        !out.contains("TestReserveOutOfStock"),
        "only the selected test runs: {out}"
    );
    let lines = blocked_lines(&c.file, Some(bin), &ws.root);
    let n = assert_markers(&lines, &ws.root.join("orders.go"));
    assert!(n >= 5);
    // meta.json is on disk and lists the same.
    let listed = ws.store().list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].meta, c.meta);
}

/// The newest of Debian's older toolchains installed by testdata/install-go.sh.
fn older_go() -> Option<PathBuf> {
    ["1.23", "1.22"]
        .iter()
        .map(|v| PathBuf::from(format!("/usr/lib/go-{v}")))
        .find(|p| p.join("bin/go").is_file())
}

#[test]
fn the_go_path_setting_picks_the_toolchain() {
    if !have_go("the_go_path_setting") {
        return;
    }
    let Some(goroot) = older_go() else {
        eprintln!(
            "the_go_path_setting: skipped: no /usr/lib/go-1.22 or -1.23 (testdata/install-go.sh)"
        );
        return;
    };
    let ws = Ws::new("shop", false);
    let mut req = TestRequest::new(&ws.root, Selection::Run(run_pattern("TestProcessOrders")));
    // A Go root directory, as a user would point at it.
    req.go_path = Some(goroot.clone());
    let (r, events) = run(&ws, &req);
    let c = r.unwrap_or_else(|e| panic!("{e}\n{}", output(&events)));
    let go = c.meta.go.as_ref().unwrap();
    let want = goroot
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace("go-", "go");
    assert!(
        go.version.starts_with(&want),
        "{go:?} from {}",
        goroot.display()
    );
    assert_eq!(go.path, goroot.join("bin/go"));
    let head = std::fs::read(&c.file).unwrap();
    let minor = want.trim_start_matches("go1.");
    assert!(
        head.starts_with(format!("go 1.{minor} trace").as_bytes()),
        "{:?}",
        String::from_utf8_lossy(&head[..16])
    );
    let lines = blocked_lines(&c.file, c.binary.as_deref(), &ws.root);
    assert_markers(&lines, &ws.root.join("orders.go"));
}

#[test]
fn benchmarks_fuzz_seeds_and_whole_packages() {
    if !have_go("benchmarks_fuzz_seeds") {
        return;
    }
    let ws = Ws::new("shop", false);
    let mut req = TestRequest::new(
        &ws.root,
        Selection::Bench {
            bench: run_pattern("BenchmarkProcess"),
            run: None,
        },
    );
    req.benchtime = Some("30x".into());
    let (r, events) = run(&ws, &req);
    let c = r.unwrap_or_else(|e| panic!("{e}\n{}", output(&events)));
    assert_eq!(c.meta.kind, Kind::Benchmark);
    let out = output(&events);
    assert!(out.contains("BenchmarkProcess"), "{out}");
    assert!(
        !out.contains("=== RUN   TestProcessOrders"),
        "tests are not run: {out}"
    );
    assert!(
        c.meta
            .run
            .as_deref()
            .unwrap()
            .contains("-test.benchtime=30x")
    );
    let lines = blocked_lines(&c.file, c.binary.as_deref(), &ws.root);
    let get = support::markers(&ws.root.join("orders.go"))
        .into_iter()
        .find(|m| m.description.contains("free connection"))
        .unwrap();
    assert!(
        lines
            .iter()
            .any(|(f, l, _)| f.ends_with("orders.go") && *l == get.line)
    );

    let req = TestRequest::new(&ws.root, Selection::Run(run_pattern("FuzzParseOrder")));
    let (r, events) = run(&ws, &req);
    let c = r.unwrap_or_else(|e| panic!("{e}\n{}", output(&events)));
    assert_eq!(c.meta.kind, Kind::Fuzz);
    let out = output(&events);
    assert!(
        out.contains("FuzzParseOrder/seed#1"),
        "the seed corpus runs: {out}"
    );

    let req = TestRequest::new(&ws.root, Selection::Package);
    let (r, events) = run(&ws, &req);
    let c = r.unwrap_or_else(|e| panic!("{e}\n{}", output(&events)));
    assert_eq!((c.meta.kind, c.meta.name.as_str()), (Kind::Package, "shop"));
    let out = output(&events);
    for t in [
        "TestProcessOrders",
        "TestReserveOutOfStock",
        "FuzzParseOrder",
    ] {
        assert!(out.contains(&format!("--- PASS: {t}")), "{t}: {out}");
    }
    assert_eq!(ws.store().list().len(), 3);
}

#[test]
fn go_work_workspaces_build_through_the_workspace() {
    if !have_go("go_work") {
        return;
    }
    let ws = Ws::new("work", false);
    let app = ws.root.join("app");
    let req = TestRequest::new(&app, Selection::Run(run_pattern("TestDrain")));
    let mut events = Vec::new();
    // The captures go to the workspace of the caller's choice (the go.work directory).
    let r = capture_test(&ws.store(), &req, &Cancel::new(), &mut |e| events.push(e));
    let c = r.unwrap_or_else(|e| panic!("{e}\n{}", output(&events)));
    assert_eq!(
        c.meta.go.as_ref().unwrap().module.as_deref(),
        Some(ws.root.join("go.work").as_path())
    );
    let lines = blocked_lines(&c.file, c.binary.as_deref(), &ws.root);
    assert_markers(&lines, &ws.root.join("lib/queue.go"));

    // The library module has no tests.
    let req = TestRequest::new(ws.root.join("lib"), Selection::Package);
    let (r, _) = run(&ws, &req);
    let e = r.unwrap_err();
    assert!(matches!(e, CaptureError::NoTestFiles { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "goblock.test/lib: no test files, nothing to run"
    );
}

#[test]
fn a_failing_test_keeps_its_trace_with_a_warning() {
    if !have_go("a_failing_test") {
        return;
    }
    let ws = Ws::new("shop", false);
    let req = TestRequest::new(
        ws.root.join("flaky"),
        Selection::Run(run_pattern("TestRetryBudget")),
    );
    let (r, events) = run(&ws, &req);
    let c = r.unwrap_or_else(|e| panic!("{e}\n{}", output(&events)));
    assert_eq!(
        (c.meta.outcome, c.meta.exit_code),
        (Outcome::Failed, Some(1))
    );
    assert!(
        c.meta.warnings[0].contains("the test failed (exit status 1)"),
        "{:?}",
        c.meta.warnings
    );
    let lines = blocked_lines(&c.file, c.binary.as_deref(), &ws.root);
    let budget = support::markers(&ws.root.join("flaky/flaky_test.go"))
        .into_iter()
        .find(|m| m.reason == "sync")
        .unwrap();
    assert!(
        lines
            .iter()
            .any(|(f, l, r)| f.ends_with("flaky_test.go") && *l == budget.line && r == "sync")
    );
}

#[test]
fn a_hanging_test_stops_at_its_timeout_and_keeps_its_trace() {
    if !have_go("a_hanging_test") {
        return;
    }
    let ws = Ws::new("shop", false);
    let mut req = TestRequest::new(
        ws.root.join("flaky"),
        Selection::Run(run_pattern("TestWaitsForever")),
    );
    req.timeout = Some(Duration::from_secs(2));
    let t0 = Instant::now();
    let (r, events) = run(&ws, &req);
    let c = r.unwrap_or_else(|e| panic!("{e}\n{}", output(&events)));
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    assert_eq!(c.meta.outcome, Outcome::TimedOut);
    assert!(output(&events).contains("panic: test timed out after 2s"));
    assert!(
        c.meta.warnings[0].contains("timed out after 2s"),
        "{:?}",
        c.meta.warnings
    );
    // The goroutine still blocked at the timeout is on its line.
    let lines = blocked_lines(&c.file, c.binary.as_deref(), &ws.root);
    let m = support::markers(&ws.root.join("flaky/flaky_test.go"))
        .into_iter()
        .find(|m| m.reason == "chan receive")
        .unwrap();
    assert!(
        lines
            .iter()
            .any(|(f, l, r)| f.ends_with("flaky_test.go") && *l == m.line && r == "chan receive"),
        "{lines:?}"
    );
}

#[test]
fn cancel_kills_the_process_group_and_leaves_no_file() {
    if !have_go("cancel_kills") {
        return;
    }
    let ws = Ws::new("shop", false);
    let req = TestRequest::new(
        ws.root.join("flaky"),
        Selection::Run(run_pattern("TestWaitsForever")),
    );
    let cancel = Cancel::new();
    let mut seen = Vec::new();
    let mut cancelled_at = None;
    let r = capture_test(&ws.store(), &req, &cancel, &mut |e| {
        if let Event::Output { line, .. } = &e
            && line.contains("=== RUN   TestWaitsForever")
        {
            // The binary is running (and tracing): the user cancels.
            cancel.cancel();
            cancelled_at = Some(Instant::now());
        }
        seen.push(e);
    });
    assert!(
        matches!(r, Err(CaptureError::Cancelled)),
        "{r:?}\n{}",
        output(&seen)
    );
    let took = cancelled_at.expect("the test ran").elapsed();
    assert!(took < Duration::from_secs(5), "cancel took {took:?}");
    let left = live_processes_with(&ws.root.to_string_lossy());
    assert!(left.is_empty(), "processes left behind: {left:?}");
    let captures = ws.root.join(".goblock/captures");
    assert_eq!(
        entries(&captures),
        Vec::<String>::new(),
        "files left behind"
    );
}

#[test]
fn a_package_that_does_not_compile_gives_positioned_messages() {
    if !have_go("a_package_that_does_not_compile") {
        return;
    }
    let ws = Ws::new("shop", false);
    let file = ws.root.join("orders.go");
    let src = std::fs::read_to_string(&file).unwrap();
    let typo = src.replacen("inv.stock[item] -= n", "inv.stok[item] -= n", 1);
    assert_ne!(src, typo);
    std::fs::write(&file, &typo).unwrap();
    let line = typo.lines().position(|l| l.contains("inv.stok")).unwrap() as u32 + 1;
    let req = TestRequest::new(&ws.root, Selection::Run(run_pattern("TestProcessOrders")));
    let (r, _) = run(&ws, &req);
    let Err(CaptureError::Build {
        package,
        summary,
        messages,
        output,
    }) = r
    else {
        panic!("{r:?}");
    };
    assert_eq!(package, "goblock.test/shop");
    assert!(
        summary.starts_with(&format!("orders.go:{line}: inv.stok undefined")),
        "{summary}"
    );
    assert_eq!(messages[0].file, file);
    assert_eq!((messages[0].line, messages[0].column), (line, Some(7)));
    assert!(output.contains("inv.stok undefined"));
    assert_eq!(
        entries(&ws.root.join(".goblock/captures")),
        Vec::<String>::new()
    );

    // A syntax error stops `go list` already: the same kind of message.
    std::fs::write(
        &file,
        src.replacen("package shop", "package shop\n\nfunc {", 1),
    )
    .unwrap();
    let (r, _) = run(&ws, &req);
    let Err(CaptureError::Build { messages, .. }) = r else {
        panic!("{r:?}");
    };
    assert_eq!(messages[0].file, file);
    assert_eq!(messages[0].line, 9);
}

#[test]
fn bad_settings_and_empty_selections_say_so() {
    if !have_go("bad_settings") {
        return;
    }
    let ws = Ws::new("shop", false);
    let mut req = TestRequest::new(&ws.root, Selection::Run(run_pattern("TestNothing")));
    let (r, _) = run(&ws, &req);
    // Nothing ran: no capture is kept (a trace of the test framework alone
    // would be listed and shown as if it were one).
    assert_eq!(
        r.unwrap_err().to_string(),
        "goblock.test/shop: no test matched -run ^TestNothing$; nothing was traced, no capture kept"
    );
    assert_eq!(
        entries(&ws.root.join(".goblock/captures")),
        Vec::<String>::new()
    );
    let bench = TestRequest::new(
        &ws.root,
        Selection::Bench {
            bench: run_pattern("BenchmarkNothing"),
            run: None,
        },
    );
    let (r, _) = run(&ws, &bench);
    assert_eq!(
        r.unwrap_err().to_string(),
        "goblock.test/shop: no benchmark matched -bench ^BenchmarkNothing$; nothing was traced, no capture kept"
    );
    assert_eq!(
        entries(&ws.root.join(".goblock/captures")),
        Vec::<String>::new()
    );
    req.go_path = Some(Path::new("/opt/no-such-go").to_path_buf());
    let (r, _) = run(&ws, &req);
    assert_eq!(
        r.unwrap_err().to_string(),
        "goblock.goPath /opt/no-such-go: no such file"
    );
    let mut req = TestRequest::new(&ws.root, Selection::Package);
    req.package = "./...".into();
    let (r, _) = run(&ws, &req);
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("names 2 packages; a trace covers one package at a time"),
        "{e}"
    );
}

/// A read-only bind mount of a directory on itself, undone on drop.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn mount(dir: &Path) -> Option<ReadOnly> {
        let ok = |args: &[&str]| {
            std::process::Command::new("mount")
                .args(args)
                .arg(dir)
                .arg(dir)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ok(&["--bind"]) {
            return None;
        }
        let guard = ReadOnly(dir.to_path_buf());
        ok(&["-o", "remount,ro,bind"]).then_some(guard)
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_read_only_workspace_captures_into_the_cache_dir() {
    if !have_go("a_read_only_workspace") {
        return;
    }
    let ws = Ws::new("shop", false);
    let Some(_ro) = ReadOnly::mount(&ws.root) else {
        eprintln!("a_read_only_workspace: skipped: cannot bind-mount read-only here (needs root)");
        return;
    };
    assert!(
        std::fs::write(ws.root.join("probe"), b"").is_err(),
        "the mount is not read-only"
    );
    let cache = tempfile::tempdir().unwrap();
    let store = goblock_capture::Store::for_workspace(&ws.root, Some(cache.path())).unwrap();
    let why = store.fallback.clone().expect("falls back to the cache");
    assert!(why.contains("Read-only file system"), "{why}");
    let req = TestRequest::new(&ws.root, Selection::Run(run_pattern("TestProcessOrders")));
    let c = capture_test(&store, &req, &Cancel::new(), &mut |_| {}).unwrap();
    assert!(
        c.dir.starts_with(cache.path().join("goblock/captures")),
        "{c:?}"
    );
    let lines = blocked_lines(&c.file, c.binary.as_deref(), &ws.root);
    assert_markers(&lines, &ws.root.join("orders.go"));
}
