//! Service captures against a real Go service on 127.0.0.1
//! (`testdata/capture/service`, built here with the `go` on PATH, one
//! process per test, stopped when the test ends): a 2 s capture whose trace
//! Go's own `go tool trace` accepts and whose analysis puts blocking on the
//! service's marker lines; a cancel mid-capture (no partial file, the
//! service stops tracing); and every kind of bad answer named: 404, an
//! HTML login page, a pprof profile, a body cut short, a redirect to
//! another host, a service that never answers, one already tracing, a
//! trace over the size cap, a refused connection.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use goblock_capture::meta::Outcome;
use goblock_capture::{Cancel, CaptureError, Event, ServiceRequest, Store, capture_service};
use support::{assert_markers, blocked_lines, entries, have_go, repo};

/// The service binary, built once per test process.
fn binary() -> &'static Path {
    static BIN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &BIN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("service");
        let out = Command::new("go")
            .args(["build", "-buildvcs=false", "-o"])
            .arg(&bin)
            .arg(".")
            .current_dir(repo().join("testdata/capture/service"))
            .output()
            .expect("go build");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, bin)
    })
    .1
}

/// A running service; killed on drop (it also exits when its stdin closes).
struct Service {
    child: Child,
    url: String,
}

impl Service {
    fn start() -> Service {
        let mut child = Command::new(binary())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("service said {line:?}"))
            .to_owned();
        // Let the load generators reach a steady state.
        std::thread::sleep(Duration::from_millis(100));
        Service { child, url }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn req(url: &str, seconds: f64) -> ServiceRequest {
    ServiceRequest {
        url: url.to_owned(),
        seconds,
        timeout: None,
        max_bytes: None,
    }
}

fn store() -> (tempfile::TempDir, Store) {
    let ws = tempfile::tempdir().unwrap();
    let s = Store::for_workspace(ws.path(), None).unwrap();
    (ws, s)
}

#[test]
fn captures_two_seconds_of_a_running_service() {
    if !have_go("captures_two_seconds") {
        return;
    }
    let svc = Service::start();
    let (_ws, store) = store();
    let mut ticks: Vec<(Duration, u64)> = Vec::new();
    let t0 = Instant::now();
    let c = capture_service(&store, &req(&svc.url, 2.0), &Cancel::new(), &mut |e| {
        if let Event::Fetch {
            elapsed,
            bytes,
            seconds,
            ..
        } = e
        {
            assert_eq!(seconds, 2.0);
            ticks.push((elapsed, bytes));
        }
    })
    .unwrap();
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert_eq!(c.meta.outcome, Outcome::Complete);
    assert_eq!(
        c.meta.url.as_deref(),
        Some(format!("{}/debug/pprof/trace?seconds=2", svc.url).as_str())
    );
    assert!(c.binary.is_none());
    // Progress: elapsed grows to about 2 s, bytes never shrink, the last is the size.
    assert!(ticks.len() >= 8, "{ticks:?}");
    assert!(
        ticks
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
    );
    assert_eq!(ticks.last().unwrap().1, c.meta.trace_bytes);
    assert_eq!(
        c.meta.trace_bytes,
        std::fs::metadata(&c.file).unwrap().len()
    );

    // Go's own tool reads the trace.
    let out = Command::new("go")
        .args(["tool", "trace", "-pprof=sync"])
        .arg(&c.file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go tool trace: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());

    // The service's blocking lines, through its binary's DWARF.
    let src = repo().join("testdata/capture/service");
    let lines = blocked_lines(&c.file, Some(binary()), &src);
    let main = std::fs::canonicalize(src.join("main.go")).unwrap();
    assert_markers(&lines, &main);
}

#[test]
fn cancel_mid_capture_leaves_no_partial_file_and_stops_the_tracing() {
    if !have_go("cancel_mid_capture") {
        return;
    }
    let svc = Service::start();
    let (_ws, store) = store();
    let cancel = Cancel::new();
    let mut at = None;
    let r = capture_service(&store, &req(&svc.url, 20.0), &cancel, &mut |e| {
        if let Event::Fetch { elapsed, .. } = e
            && elapsed > Duration::from_millis(600)
            && at.is_none()
        {
            at = Some(Instant::now());
            cancel.cancel();
        }
    });
    assert!(matches!(r, Err(CaptureError::Cancelled)), "{r:?}");
    let took = at.unwrap().elapsed();
    assert!(took < Duration::from_secs(1), "cancel took {took:?}");
    assert_eq!(entries(store.root()), Vec::<String>::new());
    // The connection was closed, so the service stopped tracing: a new
    // capture works (after the moment its trace.Stop takes).
    let mut last = None;
    for _ in 0..10 {
        match capture_service(&store, &req(&svc.url, 0.5), &Cancel::new(), &mut |_| {}) {
            Ok(c) => {
                last = Some(Ok(c));
                break;
            }
            Err(e) => {
                last = Some(Err(e));
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    }
    let c = last.unwrap().unwrap();
    assert_eq!(c.meta.outcome, Outcome::Complete);
}

fn fails(svc: &Service, path: &str, r: ServiceRequest) -> CaptureError {
    let (_ws, store) = store();
    let r = ServiceRequest {
        url: format!("{}{path}", svc.url),
        ..r
    };
    let e = capture_service(&store, &r, &Cancel::new(), &mut |_| {}).unwrap_err();
    assert_eq!(
        entries(store.root()),
        Vec::<String>::new(),
        "{path}: files left"
    );
    e
}

#[test]
fn bad_answers_are_named() {
    if !have_go("bad_answers") {
        return;
    }
    let svc = Service::start();
    let one = req("", 1.0);

    let e = fails(&svc, "/bad/none", one.clone());
    assert!(matches!(e, CaptureError::Status { status: 404, .. }), "{e}");
    assert!(
        e.to_string().contains(
            "HTTP 404: not found (a text page: \"404 page not found\"): is net/http/pprof served at this URL?"
        ),
        "{e}"
    );
    let e = fails(&svc, "/bad/login", one.clone()).to_string();
    assert!(
        e.contains("not a Go execution trace: an HTML page titled \"Sign in · Acme SSO\""),
        "{e}"
    );
    let e = fails(&svc, "/bad/profile", one.clone()).to_string();
    assert!(
        e.contains("not a Go execution trace: a gzip-compressed pprof profile"),
        "{e}"
    );
    let e = fails(&svc, "/bad/cut", one.clone());
    assert!(
        matches!(e, CaptureError::Truncated { bytes, .. } if bytes > 1000),
        "{e}"
    );
    assert!(e.to_string().contains("the trace is truncated"), "{e}");
    let e = fails(&svc, "/bad/elsewhere", one.clone());
    let port = svc.url.rsplit(':').next().unwrap();
    assert!(
        matches!(&e, CaptureError::Redirect { to, .. } if to.starts_with(&format!("http://localhost:{port}/"))),
        "{e}"
    );
    let t0 = Instant::now();
    let e = fails(
        &svc,
        "/bad/silent",
        ServiceRequest {
            timeout: Some(Duration::from_millis(800)),
            ..one.clone()
        },
    );
    assert!(matches!(e, CaptureError::Timeout { .. }), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    let e = fails(
        &svc,
        "",
        ServiceRequest {
            max_bytes: Some(4096),
            ..one.clone()
        },
    );
    assert!(matches!(e, CaptureError::TooLarge { .. }), "{e}");

    // A same-host redirect is followed, and said.
    let (_ws, store) = store();
    let c = capture_service(
        &store,
        &req(&format!("{}/bad/moved", svc.url), 0.5),
        &Cancel::new(),
        &mut |_| {},
    )
    .unwrap();
    assert!(
        c.meta.warnings[0].contains("(same host; followed)"),
        "{:?}",
        c.meta.warnings
    );
    assert_eq!(
        c.meta.url.as_deref(),
        Some(format!("{}/debug/pprof/trace?seconds=0.5", svc.url).as_str())
    );
}

#[test]
fn a_service_already_tracing_and_a_closed_port() {
    if !have_go("already_tracing") {
        return;
    }
    let svc = Service::start();
    let url = svc.url.clone();
    let first = std::thread::spawn(move || {
        let (_ws, store) = store();
        capture_service(&store, &req(&url, 3.0), &Cancel::new(), &mut |_| {}).map(|c| c.meta)
    });
    std::thread::sleep(Duration::from_millis(700));
    let e = fails(&svc, "", req("", 1.0));
    assert!(
        e.to_string()
            .contains("HTTP 500: the service is already tracing"),
        "{e}"
    );
    assert!(first.join().unwrap().is_ok());

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (_ws, store) = store();
    let e = capture_service(
        &store,
        &req(&format!("127.0.0.1:{port}"), 1.0),
        &Cancel::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, CaptureError::Http { .. }), "{e}");
    assert!(
        e.to_string().starts_with(&format!(
            "http://127.0.0.1:{port}/debug/pprof/trace?seconds=1: "
        )),
        "{e}"
    );
}
