//! Soak (#16 gate): one session under a random, interleaved mix of what
//! editors and file systems do — incremental edits, trace rewrites (good,
//! truncated, garbage), requests, malformed frames, request and progress
//! cancellations. Asserts the server stays alive and answers every request,
//! that its final annotations (inlay hints, diagnostics, `goblock.hotLines`)
//! equal those of a fresh server (in-process) opened on the final state, and
//! that the soaked server's peak RSS (VmHWM) stays within 64 MB + 25 % of
//! the largest trace. The soaked server is the `goblock` binary beside the
//! tests (built by `cargo test --workspace`; `GOBLOCK_BIN` to choose), so
//! that its memory is its own; without one it runs in-process and its
//! memory is not checked (said on stderr).
//!
//! Bounded: `GOBLOCK_SOAK_SECS` (default 20, CI) of random operations;
//! `GOBLOCK_SOAK_SEED` replays a run (the seed is printed on failure).
//!
//!     GOBLOCK_SOAK_SECS=600 cargo test -p goblock-server --test soak -- --nocapture

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Client, Fixture, label};
use serde_json::{Value, json};

/// xorshift64*: a seeded, reproducible stream (no dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn seed() -> u64 {
    std::env::var("GOBLOCK_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        })
}

fn soak_secs() -> u64 {
    std::env::var("GOBLOCK_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

/// The `goblock` binary beside the test executable (`target/debug/goblock`,
/// built by `cargo test --workspace`, or `GOBLOCK_BIN`).
fn server_binary() -> Option<PathBuf> {
    if let Some(b) = std::env::var_os("GOBLOCK_BIN") {
        return Some(PathBuf::from(b));
    }
    let exe = std::env::current_exe().ok()?;
    let b = exe.parent()?.parent()?.join("goblock");
    b.is_file().then_some(b)
}

/// A process's peak resident memory (VmHWM), bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn options() -> Value {
    json!({"goblock": {"debounceMs": 50}})
}

/// The editor's copy of main.go: lines, with the edits applied.
struct Text(Vec<String>);

impl Text {
    fn joined(&self) -> String {
        let mut s = self.0.join("\n");
        s.push('\n');
        s
    }
}

/// What the session shows of main.go, comparable between two servers.
async fn annotations(c: &mut Client, uri: &str) -> (String, String) {
    let hints: Vec<String> = c
        .inlay_hints(uri)
        .await
        .iter()
        .map(|h| format!("{}: {}", h["position"]["line"], label(h)))
        .collect();
    let hot = c.command("goblock.hotLines", json!([200])).await;
    let lines: Vec<String> = hot["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("{}:{} {}", l["file"], l["line"], l["label"]))
        .collect();
    (hints.join("\n"), lines.join("\n"))
}

/// Waits until no load runs and the loaded trace has `episodes` episodes.
async fn settle(c: &mut Client, episodes: &Value, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = c.command("goblock.hotLines", json!([1])).await;
        if s["loading"] == false && s["traces"][0]["episodes"] == *episodes {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: never settled: {s:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak() {
    let seed = seed();
    // Printed first: a failing run is replayed with GOBLOCK_SOAK_SEED.
    eprintln!("soak: seed {seed} (GOBLOCK_SOAK_SEED={seed} replays it)");
    let r = tokio::spawn(run(seed)).await;
    if let Err(e) = r {
        panic!("soak failed with seed {seed} (GOBLOCK_SOAK_SEED={seed}): {e}");
    }
}

async fn run(seed: u64) {
    let mut rng = Rng(seed);
    let traces: Vec<PathBuf> = common::fixture_dirs()
        .into_iter()
        .map(|d| d.join("blocking.trace"))
        .collect();
    if traces.is_empty() {
        eprintln!("soak: skipped, no testdata/go1.*/blocking.trace");
        return;
    }
    let goods: Vec<Vec<u8>> = traces.iter().map(|t| std::fs::read(t).unwrap()).collect();
    let largest = goods.iter().map(Vec::len).max().unwrap_or(0) as u64;
    let fx = Fixture::new("soak", &[(&traces[0], "blocking.trace")]);
    let trace = fx.path("blocking.trace");
    let uri = fx.uri("blocking/main.go");
    let saved = std::fs::read_to_string(fx.path("blocking/main.go")).unwrap();
    let mut text = Text(saved.lines().map(str::to_owned).collect());

    // The soaked server: the real `goblock lsp` over stdio when built (its
    // memory is then its own), else in-process.
    let (mut c, pid) = match server_binary() {
        Some(bin) => {
            eprintln!("soak: {} lsp", bin.display());
            let (c, pid) = Client::spawn(&bin, &["lsp"]);
            (c, Some(pid))
        }
        None => {
            eprintln!(
                "soak: in-process server (no goblock binary beside the tests; peak RSS not checked)"
            );
            (Client::start(), None)
        }
    };
    c.initialize(&fx.ws, options()).await;
    c.loaded().await;
    c.open(&uri, &text.joined(), 1);
    let mut version = 1;
    let mut inserted = 0u64;
    let mut pending: Vec<i64> = Vec::new();
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    let until = Instant::now() + Duration::from_secs(soak_secs());
    while Instant::now() < until {
        let op = rng.below(100);
        let name = match op {
            // An incremental edit: insert a new comment line, or delete or
            // change one inserted before (the program's own lines stay).
            0..=39 => {
                version += 1;
                let ours: Vec<usize> = (0..text.0.len())
                    .filter(|&i| text.0[i].starts_with("// soak "))
                    .collect();
                let change = if ours.is_empty() || rng.below(3) == 0 {
                    let at = rng.below(text.0.len() as u64 + 1) as usize;
                    inserted += 1;
                    let line = format!("// soak {inserted}");
                    text.0.insert(at, line.clone());
                    json!({"range": {"start": {"line": at, "character": 0}, "end": {"line": at, "character": 0}}, "text": format!("{line}\n")})
                } else {
                    let at = ours[rng.below(ours.len() as u64) as usize];
                    if rng.below(2) == 0 {
                        text.0.remove(at);
                        json!({"range": {"start": {"line": at, "character": 0}, "end": {"line": at + 1, "character": 0}}, "text": ""})
                    } else {
                        let old = text.0[at].chars().count();
                        text.0[at].push_str(" x");
                        json!({"range": {"start": {"line": at, "character": old}, "end": {"line": at, "character": old}}, "text": " x"})
                    }
                };
                c.notify(
                    "textDocument/didChange",
                    json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
                );
                "edit"
            }
            // The trace rewritten: another Go version's, a cut one, garbage.
            40..=51 => {
                let good = &goods[rng.below(goods.len() as u64) as usize];
                let bytes = match rng.below(3) {
                    0 => good.clone(),
                    1 => good[..rng.below(good.len() as u64) as usize].to_vec(),
                    _ => (0..rng.below(4096)).map(|_| rng.next() as u8).collect(),
                };
                std::fs::write(&trace, bytes).unwrap();
                c.notify(
                    "workspace/didChangeWatchedFiles",
                    json!({"changes": [{"uri": goblock_server::uri::from_path(&trace), "type": 2}]}),
                );
                "rewrite"
            }
            // Requests, not waited for.
            52..=79 => {
                let line = rng.below(text.0.len() as u64);
                let id = match rng.below(4) {
                    0 => c.send_request(
                        "textDocument/hover",
                        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": 2}}),
                    ),
                    1 => c.send_request(
                        "textDocument/inlayHint",
                        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": line, "character": 0}}}),
                    ),
                    2 => c.send_request(
                        "workspace/executeCommand",
                        json!({"command": "goblock.hotLines", "arguments": [rng.below(60)]}),
                    ),
                    _ => c.send_request(
                        "textDocument/codeLens",
                        json!({"textDocument": {"uri": uri}}),
                    ),
                };
                pending.push(id);
                "request"
            }
            // Malformed messages (each answered with an error, or logged).
            80..=87 => {
                let bodies: [&[u8]; 5] = [
                    b"{\"jsonrpc\": \"2.0\", \"id\": ",
                    b"[1, 2, 3]",
                    b"{\"jsonrpc\": \"1.0\", \"id\": 99999, \"method\": \"x\"}",
                    b"\xff\xfe{\"jsonrpc\": \"2.0\"}",
                    b"{\"jsonrpc\": \"2.0\", \"method\": \"textDocument/didChange\", \"params\": 7}",
                ];
                c.send_body(bodies[rng.below(bodies.len() as u64) as usize]);
                "malformed"
            }
            // Cancellations: a request in flight, a progress (live or not).
            88..=95 => {
                if let Some(&id) = pending.get(rng.below(pending.len() as u64 + 1) as usize) {
                    c.notify("$/cancelRequest", json!({"id": id}));
                } else {
                    c.notify(
                        "window/workDoneProgress/cancel",
                        json!({"token": format!("goblock-{}", rng.below(50))}),
                    );
                }
                "cancel"
            }
            // A pause: lets loads and publications run.
            _ => {
                tokio::time::sleep(Duration::from_millis(rng.below(100))).await;
                "pause"
            }
        };
        *counts.entry(name).or_default() += 1;
        if rng.below(8) == 0 {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(rng.below(20))).await;
        }
    }
    eprintln!("soak: {counts:?}");
    // Every request is answered (a result, an error, or cancelled).
    let mut answered = HashSet::new();
    for id in &pending {
        let r = tokio::time::timeout(Duration::from_secs(60), c.response(*id))
            .await
            .unwrap_or_else(|_| panic!("request {id} never answered"));
        assert!(r.get("result").is_some() || r.get("error").is_some(), "{r}");
        answered.insert(*id);
    }
    assert_eq!(answered.len(), pending.len());

    // The final state: a good trace, the editor's text.
    let last = rng.below(goods.len() as u64) as usize;
    std::fs::write(&trace, &goods[last]).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": goblock_server::uri::from_path(&trace), "type": 2}]}),
    );
    // What a fresh server makes of it.
    let mut fresh = Client::start();
    fresh.initialize(&fx.ws, options()).await;
    fresh.loaded().await;
    fresh.open(&uri, &text.joined(), 1);
    let want_episodes =
        fresh.command("goblock.hotLines", json!([1])).await["traces"][0]["episodes"].clone();
    assert!(
        want_episodes.as_u64().is_some_and(|n| n > 0),
        "fresh server: no trace"
    );
    settle(&mut fresh, &want_episodes, "fresh server").await;
    settle(&mut c, &want_episodes, "soaked server").await;
    let want = annotations(&mut fresh, &uri).await;
    // The soaked server is still answering, with the same annotations.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = annotations(&mut c, &uri).await;
    while got != want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        got = annotations(&mut c, &uri).await;
    }
    assert!(!want.0.is_empty(), "no hints on the final state");
    assert_eq!(got.0, want.0, "inlay hints differ from a fresh server's");
    assert_eq!(
        got.1, want.1,
        "goblock.hotLines differs from a fresh server's"
    );

    if let Some(peak) = pid.and_then(peak_rss) {
        let budget = 64 * 1024 * 1024 + largest / 4;
        eprintln!(
            "soak: peak RSS {:.1} MB (budget {:.1} MB: 64 MB + 25 % of the largest trace, {largest} bytes)",
            peak as f64 / 1048576.0,
            budget as f64 / 1048576.0
        );
        assert!(peak <= budget, "peak RSS {peak} > {budget}");
    }
    fresh.shutdown().await;
    c.shutdown().await;
}
