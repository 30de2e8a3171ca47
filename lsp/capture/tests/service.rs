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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use goblock_capture::meta::Outcome;
use goblock_capture::{Cancel, CaptureError, Event, ServiceRequest, Store, What, capture_service};
use support::service::{self, Service};
use support::{assert_markers, blocked_lines, entries, have_go, repo};

/// The service binary, built once per test process.
fn binary() -> &'static Path {
    static BIN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &BIN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("service");
        service::build(&service::source(), &bin);
        (dir, bin)
    })
    .1
}

/// The service with block and mutex profiling off (as most services).
fn start() -> Service {
    Service::start(binary(), &[])
}

fn req(url: &str, seconds: f64) -> ServiceRequest {
    ServiceRequest {
        url: url.to_owned(),
        what: What::Trace,
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
    let svc = start();
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
    let svc = start();
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
    let svc = start();
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
    assert!(
        e.to_string().contains("the execution trace is truncated"),
        "{e}"
    );
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
    let svc = start();
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

fn fetch(
    svc: &Service,
    what: What,
    seconds: f64,
) -> (
    tempfile::TempDir,
    Store,
    Result<goblock_capture::Capture, CaptureError>,
) {
    let (ws, store) = store();
    let r = ServiceRequest {
        what,
        ..req(&svc.url, seconds)
    };
    let c = capture_service(&store, &r, &Cancel::new(), &mut |_| {});
    (ws, store, c)
}

/// `go tool pprof -raw` of a profile: Go's own reader accepts it.
fn pprof_raw(file: &Path) -> String {
    let out = Command::new("go")
        .args(["tool", "pprof", "-raw"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go tool pprof -raw {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn goroutine_dump_block_and_mutex_profiles_of_a_running_service() {
    if !have_go("dump_and_profiles") {
        return;
    }
    let svc = Service::start(binary(), &["-block-rate", "1", "-mutex-fraction", "1"]);
    let main = std::fs::canonicalize(service::source().join("main.go")).unwrap();
    let marker = |reason: &str| {
        support::markers(&main)
            .into_iter()
            .find(|m| m.reason == reason)
            .unwrap_or_else(|| panic!("no BLOCK[{reason}] marker"))
            .line
    };

    // A goroutine dump: at once, kept as goroutines.txt, read by content as
    // the server's dump loader does.
    let t0 = Instant::now();
    let (_ws, _store, c) = fetch(&svc, What::Goroutines, 5.0);
    let c = c.unwrap();
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert_eq!(c.file, c.dir.join("goroutines.txt"));
    assert_eq!(c.meta.what, What::Goroutines);
    assert_eq!(c.meta.seconds, None);
    assert_eq!(
        c.meta.url.as_deref(),
        Some(format!("{}/debug/pprof/goroutine?debug=2", svc.url).as_str())
    );
    let input = goblock_analysis::input::open(&c.file, &Default::default()).unwrap();
    assert_eq!(input.kind(), goblock_analysis::input::Kind::GoroutineDump);
    // Counted in the text itself: the six load generators (main.load).
    let text = std::fs::read_to_string(&c.file).unwrap();
    let loaders = text
        .split("\n\n")
        .filter(|g| g.lines().any(|l| l.starts_with("main.load(")))
        .count();
    assert_eq!(loaders, 6, "{text}");

    // The block profile of 1 s: contentions on the marker lines of the
    // price cache's lock and the workers' channel, as Go's pprof reads them.
    let (_ws, _store, c) = fetch(&svc, What::Block, 1.0);
    let c = c.unwrap();
    assert_eq!(c.file, c.dir.join("block.pb.gz"));
    assert_eq!(c.meta.seconds, Some(1.0));
    let bytes = std::fs::read(&c.file).unwrap();
    assert_eq!(
        goblock_analysis::profiles::profile_kind(&bytes, "block.pb.gz").unwrap(),
        goblock_dumps::ProfileKind::Block
    );
    let raw = pprof_raw(&c.file);
    for reason in ["sync", "chan receive"] {
        let at = format!("main.go:{}", marker(reason));
        assert!(raw.contains(&at), "{at} not in the block profile:\n{raw}");
    }

    // The mutex profile: where the contention ended (the unlock).
    let (_ws, _store, c) = fetch(&svc, What::Mutex, 1.0);
    let c = c.unwrap();
    assert_eq!(c.file, c.dir.join("mutex.pb.gz"));
    let bytes = std::fs::read(&c.file).unwrap();
    assert_eq!(
        goblock_analysis::profiles::profile_kind(&bytes, "mutex.pb.gz").unwrap(),
        goblock_dumps::ProfileKind::Mutex
    );
    let raw = pprof_raw(&c.file);
    assert!(
        raw.contains("sync.(*RWMutex).Unlock") && raw.contains("main.(*server).price"),
        "{raw}"
    );
}

#[test]
fn profiling_off_and_wrong_endpoints_are_named() {
    if !have_go("profiling_off") {
        return;
    }
    let svc = start();
    for (what, says) in [
        (
            What::Block,
            "block profiling is off in this service (runtime.SetBlockProfileRate)",
        ),
        (
            What::Mutex,
            "mutex profiling is off in this service (runtime.SetMutexProfileFraction)",
        ),
    ] {
        let (_ws, store, c) = fetch(&svc, what, 1.0);
        let e = c.unwrap_err();
        assert!(matches!(e, CaptureError::EmptyProfile { .. }), "{e}");
        assert!(e.to_string().contains(says), "{e}");
        assert_eq!(entries(store.root()), Vec::<String>::new());
    }
    // A login page where the dump should be: named, nothing kept.
    let (_ws, store) = store();
    let r = ServiceRequest {
        what: What::Goroutines,
        ..req(&format!("{}/bad/login/debug/pprof/trace", svc.url), 1.0)
    };
    let e = capture_service(&store, &r, &Cancel::new(), &mut |_| {}).unwrap_err();
    assert!(
        e.to_string()
            .contains("(an execution trace), but a goroutine dump was asked for"),
        "{e}"
    );
    assert_eq!(entries(store.root()), Vec::<String>::new());
}
