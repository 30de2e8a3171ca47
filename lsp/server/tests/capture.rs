//! Captures through the protocol, with real `go` builds and runs on the
//! fixtures of `testdata/capture/` (copied to temporary workspaces): the
//! code lenses of a `_test.go` file, a lens run end to end (the test's
//! output in the log, a cancellable progress, the trace shown with the
//! kept test binary: diagnostics at the fixture's markers), one capture at
//! a time, a cancel through the progress (no process, no file left), a
//! build error as diagnostics until the next capture, the list of captures
//! and loading an older one, and a service captured for 2 s.
//!
//! Needs `go` on PATH; `GOBLOCK_SKIP_GO_TESTS=1` skips.

mod common;
#[path = "../../capture/tests/support/fixtures.rs"]
mod fixtures;
#[path = "../../capture/tests/support/service.rs"]
mod service;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Client;
use fixtures::{copy_dir, have_go};
use serde_json::{Value, json};

/// A copy of `testdata/capture/<name>` as a workspace folder.
fn workspace(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join(name);
    copy_dir(&common::repo().join("testdata/capture").join(name), &ws);
    let ws = std::fs::canonicalize(ws).unwrap();
    (tmp, ws)
}

fn uri(p: &Path) -> String {
    goblock_server::uri::from_path(p)
}

/// (line, reason) of the `// BLOCK[reason]` markers of a file (1-based).
fn markers(file: &Path) -> Vec<(u32, String)> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .filter_map(|(i, l)| {
            let r = l.split_once("// BLOCK[")?.1.split_once(']')?.0;
            Some((i as u32 + 1, r.to_owned()))
        })
        .collect()
}

fn options() -> Value {
    // Every blocking line gets a diagnostic.
    json!({"goblock": {"diagnostics": {"minShare": 0, "minTotalMs": 0}}})
}

fn lines_of(diags: &Value) -> Vec<u32> {
    diags["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap() as u32 + 1)
        .collect()
}

/// Waits until a server opened on a workspace with no trace of its own
/// says it shows the newest capture, of test `name` (its log line ending
/// with `tail`), and has loaded it.
async fn shows_the_newest_capture(c: &Client, name: &str, tail: &str) {
    let said = format!("goblock: no trace in the workspace: showing the newest capture, {name} (");
    c.wait_for("the newest capture said", Duration::from_secs(60), |m| {
        m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| s.starts_with(&said) && s.ends_with(tail))
    })
    .await;
    c.wait_for("the load", Duration::from_secs(60), |m| {
        m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| s.starts_with("goblock: 1 trace(s) loaded;"))
    })
    .await;
}

fn live_processes_with(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
        if cmd.contains(needle) && !zombie {
            out.push(cmd);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lens_traces_its_test_and_the_trace_is_shown_with_its_binary() {
    if !have_go("a_lens_traces_its_test") {
        return;
    }
    let (_tmp, ws) = workspace("shop");
    let test_file = ws.join("orders_test.go");
    let text = std::fs::read_to_string(&test_file).unwrap();
    let mut c = Client::start();
    c.initialize(&ws, options()).await;
    c.open(&uri(&test_file), &text, 1);

    // Lenses: the package line and each test, benchmark and fuzz test.
    let lenses = c
        .request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri(&test_file)}}),
        )
        .await;
    let lenses = lenses.as_array().unwrap().clone();
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() as u64;
    let at: Vec<u64> = lenses
        .iter()
        .map(|l| l["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        at,
        [
            line_of("package shop"),
            line_of("func TestProcessOrders"),
            line_of("func TestReserveOutOfStock"),
            line_of("func BenchmarkProcess"),
            line_of("func FuzzParseOrder"),
        ]
    );
    assert!(
        lenses
            .iter()
            .all(|l| l.get("command").is_none_or(Value::is_null))
    );
    let lens = c.request("codeLens/resolve", lenses[1].clone()).await;
    assert_eq!(lens["command"]["title"], "goblock: trace");
    assert_eq!(lens["command"]["command"], "goblock.captureTest");

    // Running it (as a client does with a resolved lens).
    let r = c
        .request(
            "workspace/executeCommand",
            json!({"command": lens["command"]["command"], "arguments": lens["command"]["arguments"]}),
        )
        .await;
    assert_eq!(r["loaded"], true, "{r}");
    assert_eq!(r["capture"]["name"], "TestProcessOrders");
    assert_eq!(r["capture"]["outcome"], "passed");
    let msg = r["message"].as_str().unwrap();
    assert!(
        msg.starts_with("traced TestProcessOrders: passed · "),
        "{msg}"
    );
    let dir = PathBuf::from(r["capture"]["dir"].as_str().unwrap());
    assert!(dir.starts_with(ws.join(".goblock/captures")), "{r}");

    // The output streamed to the log, under a progress named after the test.
    let log = c.log.lock().unwrap().clone();
    assert!(log.iter().any(|m| m["method"] == "window/logMessage"
        && m["params"]["message"] == "=== RUN   TestProcessOrders/one_worker"));
    assert!(log.iter().any(|m| m["method"] == "$/progress"
        && m["params"]["value"]["title"] == "goblock: tracing TestProcessOrders"));

    // Diagnostics at every marker of orders.go, symbolized with the kept binary.
    let orders = ws.join("orders.go");
    let want: Vec<u32> = markers(&orders).into_iter().map(|m| m.0).collect();
    let d = c
        .diagnostics(&uri(&orders), |p| {
            let got = lines_of(p);
            want.iter().all(|l| got.contains(l))
        })
        .await;
    assert!(!lines_of(&d).is_empty());
    let hot = c.command("goblock.hotLines", json!([5])).await;
    assert_eq!(hot["traces"][0]["symbolization"], "dwarf", "{hot}");
    assert_eq!(
        hot["traces"][0]["binary"].as_str().map(PathBuf::from),
        Some(dir.join("bin"))
    );
    // The test binary's generated `_testmain.go` (built in a temporary
    // directory that is gone) is generated code, not a missing file.
    let unmapped = hot["unmapped"].as_array().unwrap();
    assert!(
        !unmapped
            .iter()
            .any(|u| u["recorded"].as_str().unwrap().ends_with("_testmain.go")),
        "{unmapped:?}"
    );
    let summaries: Vec<String> = c
        .log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|m| m["params"]["message"].as_str())
        .filter(|m| m.contains(" file(s) not found"))
        .map(str::to_owned)
        .collect();
    assert!(!summaries.is_empty(), "no load summary in the log");
    assert!(
        summaries
            .iter()
            .all(|m| m.ends_with("; 0 file(s) not found")),
        "{summaries:?}"
    );

    // The list, then an older capture loaded again with its binary.
    let r2 = c
        .command(
            "goblock.captureTest",
            json!([{"uri": uri(&test_file), "line": line_of("func TestReserveOutOfStock") + 2}]),
        )
        .await;
    assert_eq!(r2["capture"]["name"], "TestReserveOutOfStock");
    // A name that matches no test: refused, said, and nothing kept.
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.captureTest", "arguments": [{"uri": uri(&test_file), "name": "TestNotThere"}]}),
    );
    let none = c.response(id).await;
    assert_eq!(none["error"]["data"]["reason"], "failed", "{none}");
    assert_eq!(
        none["error"]["message"],
        "goblock: goblock.test/shop: no test matched -run ^TestNotThere$; nothing was traced, no capture kept"
    );
    let list = c.command("goblock.captures", json!([])).await;
    let caps = list["captures"].as_array().unwrap();
    assert_eq!(caps.len(), 2, "{list}");
    assert_eq!(caps[0]["name"], "TestReserveOutOfStock");
    assert_eq!(
        (caps[0]["loaded"].clone(), caps[1]["loaded"].clone()),
        (json!(true), json!(false))
    );
    let r3 = c
        .command("goblock.loadCapture", json!([{"dir": caps[1]["dir"]}]))
        .await;
    assert_eq!(
        (r3["loaded"].clone(), r3["capture"]["name"].clone()),
        (json!(true), json!("TestProcessOrders"))
    );
    c.shutdown().await;

    // Reopened, a workspace whose only traces are captures shows the
    // newest, with its binary, and says so.
    let mut c = Client::start();
    c.initialize(&ws, options()).await;
    let newest = PathBuf::from(caps[0]["dir"].as_str().unwrap());
    shows_the_newest_capture(
        &c,
        "TestReserveOutOfStock",
        "; 1 older (goblock.captures lists them)",
    )
    .await;
    let hot = c.command("goblock.hotLines", json!([5])).await;
    assert_eq!(
        hot["traces"][0]["path"].as_str().map(PathBuf::from),
        Some(newest.join("trace")),
        "{hot}"
    );
    // Symbolized with a kept test binary (both captures' are the same
    // build, same build ID: the symbolizer may take either).
    assert_eq!(hot["traces"][0]["symbolization"], "dwarf", "{hot}");
    let bin = PathBuf::from(hot["traces"][0]["binary"].as_str().unwrap());
    assert!(
        bin.starts_with(ws.join(".goblock/captures")) && bin.ends_with("bin"),
        "{hot}"
    );
    c.shutdown().await;
}

/// `goblock capture test` run in a package directory keeps the capture in
/// its module root's store; an editor opened on that package directory
/// lists it and, having no trace of its own, shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_folder_finds_the_captures_of_its_module() {
    if !have_go("a_package_folder_finds_the_captures") {
        return;
    }
    let (_tmp, ws) = workspace("shop");
    let pkg = ws.join("flaky");
    // What the CLI does from `pkg`: the store of `workspace_root(cwd)`.
    let owner = goblock_capture::store::workspace_root(&pkg);
    assert_eq!(owner, ws);
    let store = goblock_capture::Store::for_workspace(&owner, None).unwrap();
    let req = goblock_capture::TestRequest::new(
        &ws,
        goblock_capture::Selection::Run("^TestReserveOutOfStock$".into()),
    );
    let cap =
        goblock_capture::capture_test(&store, &req, &goblock_capture::Cancel::new(), &mut |_| {})
            .unwrap();
    assert!(cap.dir.starts_with(ws.join(".goblock/captures")), "{cap:?}");

    let mut c = Client::start();
    c.initialize(&pkg, options()).await;
    shows_the_newest_capture(&c, "TestReserveOutOfStock", "").await;
    let hot = c.command("goblock.hotLines", json!([5])).await;
    assert_eq!(
        hot["traces"][0]["path"].as_str().map(PathBuf::from),
        Some(cap.file.clone()),
        "{hot}"
    );
    let list = c.command("goblock.captures", json!([])).await;
    assert_eq!(
        list["root"].as_str().map(PathBuf::from),
        Some(ws.join(".goblock/captures")),
        "{list}"
    );
    let caps = list["captures"].as_array().unwrap();
    assert_eq!(caps.len(), 1, "{list}");
    assert_eq!(caps[0]["name"], "TestReserveOutOfStock");
    assert_eq!(caps[0]["loaded"], true, "{list}");
    // Nothing was written into the package directory.
    assert!(!pkg.join(".goblock").exists());
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_capture_at_a_time_cancel_and_build_errors() {
    if !have_go("one_capture_at_a_time") {
        return;
    }
    let (_tmp, ws) = workspace("shop");
    let flaky = ws.join("flaky/flaky_test.go");
    let mut c = Client::start();
    c.initialize(&ws, options()).await;
    // The test around the cursor (a line inside it, 0-based): named once resolved.
    let inside = std::fs::read_to_string(&flaky)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("func TestWaitsForever("))
        .expect("TestWaitsForever") as u32
        + 1;
    let hang = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.captureTest", "arguments": [{"uri": uri(&flaky), "line": inside}]}),
    );
    c.wait_for("the hanging test runs", Duration::from_secs(120), |m| {
        m["method"] == "window/logMessage" && m["params"]["message"] == "=== RUN   TestWaitsForever"
    })
    .await;
    // A second capture is refused, naming the first.
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.captureTest", "arguments": [{"uri": uri(&flaky), "name": "TestRetryBudget"}]}),
    );
    let busy = c.response(id).await;
    assert_eq!(busy["error"]["data"]["reason"], "busy", "{busy}");
    assert_eq!(busy["error"]["data"]["running"], "TestWaitsForever");
    // Cancel through the capture's progress.
    let token = {
        let log = c.log.lock().unwrap();
        log.iter()
            .find(|m| {
                m["method"] == "$/progress"
                    && m["params"]["value"]["title"] == "goblock: tracing TestWaitsForever"
            })
            .map(|m| m["params"]["token"].clone())
            .expect("a progress for the capture")
    };
    c.notify("window/workDoneProgress/cancel", json!({"token": token}));
    let r = c.response(hang).await;
    // Not RequestCancelled: clients drop that answer without telling the caller.
    assert_eq!(r["error"]["code"], -32803, "{r}");
    assert_eq!(r["error"]["data"]["reason"], "cancelled");
    let left = live_processes_with(&ws.to_string_lossy());
    assert!(left.is_empty(), "{left:?}");
    let dirs: Vec<_> = std::fs::read_dir(ws.join(".goblock/captures"))
        .unwrap()
        .collect();
    assert!(dirs.is_empty(), "{dirs:?}");

    // A build error: diagnostics at the compiler's positions, until a capture builds.
    let orders = ws.join("orders.go");
    let good = std::fs::read_to_string(&orders).unwrap();
    let bad = good.replacen("inv.stock[item] -= n", "inv.stok[item] -= n", 1);
    std::fs::write(&orders, &bad).unwrap();
    let line = bad.lines().position(|l| l.contains("inv.stok")).unwrap() as u64;
    let test_uri = uri(&ws.join("orders_test.go"));
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.captureTest", "arguments": [{"uri": test_uri, "name": "TestProcessOrders"}]}),
    );
    let r = c.response(id).await;
    assert_eq!(r["error"]["data"]["reason"], "build", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not compile"),
        "{r}"
    );
    let d = c
        .diagnostics(&uri(&orders), |p| {
            p["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "build")
        })
        .await;
    let build = d["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "build")
        .unwrap()
        .clone();
    assert_eq!(
        build["range"]["start"],
        json!({"line": line, "character": 6})
    );
    assert!(
        build["message"]
            .as_str()
            .unwrap()
            .starts_with("inv.stok undefined")
    );
    std::fs::write(&orders, &good).unwrap();
    c.command(
        "goblock.captureTest",
        json!([{"uri": test_uri, "name": "TestReserveOutOfStock"}]),
    )
    .await;
    c.diagnostics(&uri(&orders), |p| {
        !p["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "build")
    })
    .await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_is_captured_for_two_seconds() {
    if !have_go("a_service_is_captured") {
        return;
    }
    let (_tmp, ws) = workspace("service");
    let bin = ws.join("service");
    service::build(&ws, &bin);
    let svc = service::Service::start(&bin, &["-block-rate", "1"]);
    let mut c = Client::start();
    c.initialize(&ws, options()).await;
    let r = c
        .command(
            "goblock.captureService",
            json!([{"url": svc.url, "seconds": 2}]),
        )
        .await;
    assert_eq!(r["loaded"], true, "{r}");
    assert_eq!(r["capture"]["kind"], "service");
    assert_eq!(r["capture"]["what"], "trace");
    let log = c.log.lock().unwrap().clone();
    let reports: Vec<String> = log
        .iter()
        .filter(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "report")
        .filter_map(|m| m["params"]["value"]["message"].as_str().map(str::to_owned))
        .collect();
    assert!(
        reports.iter().any(|m| m.contains("/2 s · ")),
        "elapsed/N s in the progress: {reports:?}"
    );
    let main = ws.join("main.go");
    let want: Vec<u32> = markers(&main).into_iter().map(|m| m.0).collect();
    c.diagnostics(&uri(&main), |p| {
        let got = lines_of(p);
        want.iter().all(|l| got.contains(l))
    })
    .await;
    let bad = c
        .send_request(
            "workspace/executeCommand",
            json!({"command": "goblock.captureService", "arguments": [{"url": "file:///etc/passwd", "seconds": 1}]}),
        );
    let e = c.response(bad).await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only http:// and https:// URLs"),
        "{e}"
    );

    // Its block profile of 1 s, shown by the dump loader: contentions on
    // the marker lines of the lock and the channel, marked as sampled.
    let r = c
        .command(
            "goblock.captureService",
            json!([{"url": svc.url, "seconds": 1, "what": "block"}]),
        )
        .await;
    assert_eq!(r["loaded"], true, "{r}");
    assert_eq!(r["capture"]["what"], "block");
    assert!(
        r["capture"]["trace"]
            .as_str()
            .unwrap()
            .ends_with("/block.pb.gz"),
        "{r}"
    );
    let msg = r["message"].as_str().unwrap();
    assert!(
        msg.starts_with("captured a block profile of 1 s of 127.0.0.1:"),
        "{msg}"
    );
    let marked: Vec<u32> = markers(&main)
        .into_iter()
        .filter(|m| m.1 == "sync" || m.1 == "chan receive")
        .map(|m| m.0)
        .collect();
    let hot = c.command("goblock.hotLines", json!([50])).await;
    assert_eq!(hot["inputs"][0]["kind"], "block-profile", "{hot}");
    for line in &marked {
        assert!(
            hot["parked"].as_array().unwrap().iter().any(|p| {
                p["file"].as_str().is_some_and(|f| f.ends_with("/main.go"))
                    && p["line"] == *line
                    && p["block"]["count"].as_u64().is_some_and(|n| n > 0)
            }),
            "main.go:{line} has no contentions: {hot}"
        );
    }

    // A goroutine dump: taken at once, its goroutines on main.go's lines.
    let r = c
        .command(
            "goblock.captureService",
            json!([{"url": svc.url, "what": "goroutines"}]),
        )
        .await;
    assert_eq!(r["loaded"], true, "{r}");
    let hot = c.command("goblock.hotLines", json!([50])).await;
    assert_eq!(hot["inputs"][0]["kind"], "goroutine-dump", "{hot}");
    let parked_in_main: u64 = hot["parked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["file"].as_str().is_some_and(|f| f.ends_with("/main.go")))
        .filter_map(|p| p["goroutines"].as_u64())
        .sum();
    // The six load generators, and the handlers waiting for a worker.
    assert!(parked_in_main >= 6, "{hot}");

    // Mutex profiling is off in this service: said, and nothing shown changes.
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.captureService", "arguments": [{"url": svc.url, "seconds": 1, "what": "mutex"}]}),
    );
    let e = c.response(id).await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mutex profiling is off in this service (runtime.SetMutexProfileFraction)"),
        "{e}"
    );
    let hot = c.command("goblock.hotLines", json!([50])).await;
    assert_eq!(hot["inputs"][0]["kind"], "goroutine-dump", "{hot}");

    // goblock.capture.serviceTimeout bounds a capture.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"goblock": {"capture": {"serviceTimeout": "1s"}}}}),
    );
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.captureService", "arguments": [{"url": svc.url, "seconds": 5}]}),
    );
    let e = c.response(id).await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("/debug/pprof/trace?seconds=5 timed out after 1s"),
        "{e}"
    );
    drop(svc);
    c.shutdown().await;
}
