//! Benchmark of captures from the editor, through the protocol: the time
//! from `workspace/executeCommand` to the first publishDiagnostics of the
//! traced code, for
//!
//! 1. a small test: `goblock.captureTest` on `TestProcessOrders` of
//!    `testdata/capture/shop` (a warm Go build cache after the first run:
//!    `go test -c`, a 0.4 s test run, loading);
//! 2. a 2 s service capture: `goblock.captureService` on the
//!    `testdata/capture/service` program running on 127.0.0.1.
//!
//! Each run has a fresh server and workspace; prints min / median / max of
//! the runs and where the time went (the capture itself, from its
//! `meta.json`, and the rest: loading, analysis, publishing). Needs `go`.
//! Runs the real `goblock lsp` over stdio when `target/release/goblock`
//! exists (or `GOBLOCK_BIN`), else the server in-process.
//!
//!     cargo build --release && cargo bench -p goblock-server --bench capture

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../../capture/tests/support/fixtures.rs"]
mod fixtures;
#[path = "../../capture/tests/support/service.rs"]
mod service;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::Client;
use fixtures::copy_dir;
use serde_json::{Value, json};

const RUNS: usize = 5;

fn server() -> (Client, String) {
    let bin = std::env::var_os("GOBLOCK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo().join("target/release/goblock"));
    if bin.is_file() {
        let (c, _) = Client::spawn(&bin, &["lsp"]);
        (c, format!("{} lsp (stdio)", bin.display()))
    } else {
        (
            Client::start(),
            "in-process server (debug unless --release)".into(),
        )
    }
}

fn workspace(name: &str, n: usize) -> PathBuf {
    let ws = std::env::temp_dir()
        .join(format!("goblock-bench-capture-{}-{n}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&ws);
    copy_dir(&common::repo().join("testdata/capture").join(name), &ws);
    std::fs::canonicalize(ws).unwrap()
}

fn uri(p: &Path) -> String {
    goblock_server::uri::from_path(p)
}

/// Sends `command`, waits for its answer and for diagnostics in `file`;
/// returns (to the answer, to the diagnostics, the capture's own ms).
async fn timed(
    c: &mut Client,
    command: &str,
    args: Value,
    file: &Path,
) -> (Duration, Duration, u64) {
    let t0 = Instant::now();
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": command, "arguments": [args]}),
    );
    let target = uri(file);
    c.wait_for("diagnostics", Duration::from_secs(300), |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == target
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
    })
    .await;
    let to_diags = t0.elapsed();
    let r = c.response(id).await;
    let to_answer = t0.elapsed();
    assert!(r.get("error").is_none(), "{command}: {r}");
    let own = r["result"]["capture"]["durationMs"].as_u64().unwrap_or(0);
    (to_answer.min(to_diags), to_diags, own)
}

fn stats(name: &str, v: &mut [(Duration, Duration, u64)]) {
    v.sort_by_key(|x| x.1);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let all: Vec<String> = v.iter().map(|x| format!("{:.0}", ms(x.1))).collect();
    let mid = &v[v.len() / 2];
    println!(
        "{name}: command → first diagnostics min {:.0} ms, median {:.0} ms, max {:.0} ms (runs: {}); median run: capture itself {} ms, the rest (load, analysis, publish) {:.0} ms",
        ms(v[0].1),
        ms(mid.1),
        ms(v[v.len() - 1].1),
        all.join(", "),
        mid.2,
        ms(mid.1) - mid.2 as f64,
    );
}

async fn small_test() {
    let mut runs = Vec::new();
    for n in 0..RUNS {
        let ws = workspace("shop", n);
        let (mut c, what) = server();
        if n == 0 {
            println!("server: {what}");
        }
        c.initialize(&ws, json!({})).await;
        let test = ws.join("orders_test.go");
        let r = timed(
            &mut c,
            "goblock.captureTest",
            json!({"uri": uri(&test), "name": "TestProcessOrders"}),
            &ws.join("orders.go"),
        )
        .await;
        runs.push(r);
        c.shutdown().await;
        let _ = std::fs::remove_dir_all(ws.parent().unwrap());
    }
    stats(
        "small test (TestProcessOrders, warm build cache)",
        &mut runs,
    );
}

async fn service() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("service");
    service::build(&service::source(), &bin);
    let mut runs = Vec::new();
    for n in 0..RUNS {
        let ws = workspace("service", n);
        std::fs::copy(&bin, ws.join("service")).unwrap();
        let svc = service::Service::start(&ws.join("service"), &[]);
        let (mut c, _) = server();
        c.initialize(&ws, json!({})).await;
        let r = timed(
            &mut c,
            "goblock.captureService",
            json!({"url": svc.url, "seconds": 2}),
            &ws.join("main.go"),
        )
        .await;
        runs.push(r);
        c.shutdown().await;
        drop(svc);
        let _ = std::fs::remove_dir_all(ws.parent().unwrap());
    }
    stats("2 s service capture", &mut runs);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        small_test().await;
        service().await;
    });
}
