//! `goblock capture` through the real binary, as a user runs it: a test
//! captured and reported (JSON naming the kept binary), the capture listed,
//! Go-style `-run` flags, no `go` on PATH, a service that is not there.
//! The capture itself is tested in lsp/capture/tests.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../lsp/capture/tests/support/fixtures.rs"]
mod fixtures;
#[path = "../lsp/capture/tests/support/service.rs"]
mod service;

use fixtures::{copy_dir, have_go};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `goblock` in `dir` with the arguments of `cmd` (as typed: split at
/// white space, none has a space), with `path` as PATH when given: (exit
/// code, stdout, stderr).
fn goblock(dir: &Path, cmd: &str, path: Option<&str>) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_goblock"));
    c.args(cmd.split_whitespace()).current_dir(dir);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    let out = c.output().expect("run goblock");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn capture_test_prints_the_report_of_the_new_trace() {
    if !have_go("capture_test_prints_the_report_of_the_new_trace") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("shop");
    copy_dir(&root().join("testdata/capture/shop"), &ws);
    let (code, out, err) = goblock(
        &ws,
        "capture test -run ^TestProcessOrders$ --report json",
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("=== RUN   TestProcessOrders"),
        "the test's output streams: {err}"
    );
    assert!(err.contains("goblock: captured TestProcessOrders"), "{err}");
    let doc: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let t = &doc["traces"][0];
    assert_eq!(t["symbolization"], "dwarf");
    let bin = t["binary"].as_str().unwrap();
    assert!(
        bin.starts_with(ws.join(".goblock/captures").to_str().unwrap()) && bin.ends_with("/bin"),
        "{bin}"
    );
    let lines = doc["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["file"].as_str().unwrap().ends_with("orders.go") && l["reason"] == "select"),
        "{out}"
    );

    let (code, out, _) = goblock(&ws, "capture list", None);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("TestProcessOrders\tPassed"), "{out}");

    // No test matched: an error, and nothing kept or listed.
    let (code, out, err) = goblock(&ws, "capture test . --run NONE", None);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("goblock: goblock.test/shop: no test matched -run NONE; nothing was traced"),
        "{err}"
    );
    let (_, out, _) = goblock(&ws, "capture list", None);
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn no_go_on_path_and_no_service_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("testdata/capture/shop"), tmp.path());
    let path: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|d| !d.join("go").exists())
        .collect();
    let path = std::env::join_paths(path).unwrap();
    let (code, out, err) = goblock(
        tmp.path(),
        "capture test -run=TestX",
        Some(path.to_str().unwrap()),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err.trim(),
        "goblock: no `go` command on PATH: install Go (https://go.dev/dl) or set goblock.goPath to its `go` binary"
    );
    // Nothing is left when nothing was captured.
    assert!(
        std::fs::read_dir(tmp.path().join(".goblock/captures"))
            .unwrap()
            .next()
            .is_none()
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, err) = goblock(
        tmp.path(),
        &format!("capture url 127.0.0.1:{port} --seconds 1"),
        None,
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "\ngoblock: http://127.0.0.1:{port}/debug/pprof/trace?seconds=1: io: Connection refused"
        )),
        "{err}"
    );
    let (code, _, err) = goblock(tmp.path(), "capture url file:///etc/passwd", None);
    assert_eq!(code, 2);
    assert!(
        err.contains("only http:// and https:// URLs are fetched"),
        "{err}"
    );
}

#[test]
fn capture_service_block_profile_and_dump_are_reported() {
    if !have_go("capture_service_block_profile_and_dump_are_reported") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("service");
    service::build(&service::source(), &bin);
    let svc = service::Service::start(&bin, &["-block-rate", "1"]);
    let url = &svc.url;
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let (code, out, err) = goblock(
        &ws,
        &format!("capture service {url} --what block --seconds 1 --report json"),
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("goblock: captured a block profile of 127.0.0.1:"),
        "{err}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(doc["traces"][0]["kind"], "block-profile", "{out}");
    let (code, _, err) = goblock(
        &ws,
        &format!("capture url {url} --what mutex --seconds 1"),
        None,
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("mutex profiling is off in this service (runtime.SetMutexProfileFraction)"),
        "{err}"
    );
    let (code, _, err) = goblock(
        &ws,
        &format!("capture url {url} --what goroutines --report none"),
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("goblock: captured a goroutine dump of 127.0.0.1:"),
        "{err}"
    );
    let (_, out, _) = goblock(&ws, "capture list", None);
    assert_eq!(out.lines().count(), 2, "{out}");
}
