//! Benchmarks of the language server, through the protocol:
//!
//! 1. time from `initialized` to the first non-empty publishDiagnostics on the
//!    large generated trace (`testdata/large/*.trace`, made by
//!    `tests/bench.sh`; or `GOBLOCK_LARGE_TRACE`), and the server's memory
//!    (VmRSS / VmHWM) after the load;
//! 2. hover and inlayHint latency (p50/p99) on a file with 10 000 annotated
//!    lines (a Go program generated, built and traced here; needs `go`);
//! 3. the cost of one-line edits of a 54 MB Go file (issue 16 row 13):
//!    didChange + a request that reads the document, p50/p99 over 200 edits.
//!
//! 4. the snapshot's reading of the workspace files it names when the
//!    inputs' time is new (`origins.rs`: each file read once, one hash per
//!    line kept), on every `.go` file of a real module as if each were
//!    annotated (`GOBLOCK_BENCH_MODULE`, default: the newest
//!    `golang.org/x/net` in the module cache), and the carry-over to the
//!    next snapshot of the same inputs.
//!
//! `GOBLOCK_BENCH=large,10k,edits,origins` picks the parts (default: all).
//!
//! Runs the real `goblock lsp` binary over stdio when `target/release/goblock`
//! exists (or `GOBLOCK_BIN`), else the server in-process.
//!
//!     cargo build --release && cargo bench -p goblock-server --bench lsp

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::Client;
use serde_json::{Value, json};

fn server() -> (Client, Option<u32>, String) {
    let bin = std::env::var_os("GOBLOCK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo().join("target/release/goblock"));
    if bin.is_file() {
        let (c, pid) = Client::spawn(&bin, &["lsp"]);
        (c, Some(pid), format!("{} lsp (stdio)", bin.display()))
    } else {
        (Client::start(), None, "in-process server".into())
    }
}

fn proc_mem(pid: u32) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| format!("{:.1} MB", kb / 1024.0))
            .unwrap_or_else(|| "?".into())
    };
    format!("VmRSS {}, VmHWM (peak) {}", get("VmRSS:"), get("VmHWM:"))
}

fn pct(v: &mut [Duration], q: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1]
}

async fn large() {
    let trace = common::large_trace();
    let Some(trace) = trace else {
        println!("large trace: none (run tests/bench.sh once to generate testdata/large/)");
        return;
    };
    let size = std::fs::metadata(&trace).map(|m| m.len()).unwrap_or(0);
    let ws = std::env::temp_dir().join(format!("goblock-bench-large-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ws);
    std::fs::create_dir_all(ws.join("largegen")).unwrap();
    for e in std::fs::read_dir(common::repo().join("testdata/programs/largegen"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(e.path(), ws.join("largegen").join(e.file_name())).unwrap();
    }
    let (mut c, pid, what) = server();
    // The binary that wrote it (tests/bench.sh keeps it beside the trace).
    let bin = trace
        .to_string_lossy()
        .replace("-large.trace", "-largegen.bin");
    let binaries: Vec<String> =
        if Path::new(&bin).is_file() && std::env::var_os("GOBLOCK_BENCH_NO_BINARY").is_none() {
            vec![bin]
        } else {
            vec!["/nonexistent".into()]
        };
    let opts = json!({"goblock": {"traces": [trace], "binaries": binaries}});
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": goblock_server::uri::from_path(&ws),
               "capabilities": {"window": {"workDoneProgress": true}}, "initializationOptions": opts}),
    )
    .await;
    let t0 = Instant::now();
    c.notify("initialized", json!({}));
    let d = c
        .wait_for("publishDiagnostics", Duration::from_secs(600), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["diagnostics"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
        })
        .await;
    let first = t0.elapsed();
    // A preview may have ended its own progress: wait for the whole file.
    let full = loop {
        c.loaded().await;
        let s = c.command("goblock.hotLines", json!([1])).await;
        if s["loading"] == false && s["traces"][0]["partial"].is_null() {
            break t0.elapsed();
        }
    };
    let status = c.command("goblock.hotLines", json!([3])).await;
    println!("server: {what}");
    println!(
        "large trace {} ({:.0} MB): initialized → first publishDiagnostics {:.2} s ({} diagnostics in {})",
        trace.display(),
        size as f64 / 1e6,
        first.as_secs_f64(),
        d["params"]["diagnostics"]
            .as_array()
            .map(|a| a.len())
            .unwrap_or(0),
        d["params"]["uri"]
            .as_str()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("")
    );
    println!("  whole trace loaded after {:.2} s", full.as_secs_f64());
    println!(
        "  episodes {}, symbolization {} ({})",
        status["traces"][0]["episodes"],
        status["traces"][0]["symbolization"],
        status["traces"][0]["binary"]
    );
    if let Some(pid) = pid {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        println!("  memory after load: {}", proc_mem(pid));
    }
    c.shutdown().await;
    let _ = std::fs::remove_dir_all(&ws);
}

const N: usize = 10_000;

/// Writes, builds and traces a Go program with `N` functions, each blocking
/// on its own line; returns (workspace, file with the blocking lines).
fn many_lines_workspace() -> Option<(PathBuf, PathBuf)> {
    let ws = std::env::temp_dir().join(format!("goblock-bench-10k-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ws);
    std::fs::create_dir_all(&ws).ok()?;
    std::fs::write(ws.join("go.mod"), "module bench.example/many\n\ngo 1.21\n").ok()?;
    let mut main = String::from(
        "package main\n\nimport (\n\t\"os\"\n\t\"runtime/trace\"\n\t\"sync\"\n\t\"time\"\n)\n\n\
         func main() {\n\tf, _ := os.Create(os.Args[1])\n\ttrace.Start(f)\n\tvar wg sync.WaitGroup\n\
         \tchans := make([]chan int, len(fns))\n\tfor i := range chans {\n\t\tchans[i] = make(chan int)\n\t\twg.Add(1)\n\t\tgo fns[i](chans[i], &wg)\n\t}\n\
         \ttime.Sleep(200 * time.Millisecond)\n\tfor _, c := range chans {\n\t\tc <- 1\n\t}\n\twg.Wait()\n\ttrace.Stop()\n\tf.Close()\n}\n\n\
         var fns = []func(chan int, *sync.WaitGroup){\n",
    );
    for i in 0..N {
        main.push_str(&format!("\tf{i},\n"));
    }
    main.push_str("}\n\n");
    let mut fns = String::from("package main\n\nimport \"sync\"\n\n");
    for i in 0..N {
        fns.push_str(&format!(
            "func f{i}(c chan int, wg *sync.WaitGroup) {{ <-c; wg.Done() }}\n"
        ));
    }
    std::fs::write(ws.join("main.go"), main).ok()?;
    std::fs::write(ws.join("fns.go"), fns).ok()?;
    let ok = std::process::Command::new("go")
        .args(["build", "-o", "many.bin", "."])
        .env("GOFLAGS", "-buildvcs=false")
        .current_dir(&ws)
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    let ok = std::process::Command::new(ws.join("many.bin"))
        .arg(ws.join("many.trace"))
        .status()
        .ok()?
        .success();
    ok.then(|| (ws.clone(), ws.join("fns.go")))
}

async fn latency() {
    let Some((ws, file)) = many_lines_workspace() else {
        println!("10k lines: skipped (needs `go` to build the generated program)");
        return;
    };
    let (mut c, pid, _) = server();
    let opts = json!({"goblock": {"diagnostics": {"minShare": 0}}});
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": goblock_server::uri::from_path(&ws),
               "capabilities": {"window": {"workDoneProgress": true}}, "initializationOptions": opts}),
    )
    .await;
    c.notify("initialized", json!({}));
    c.loaded().await;
    if let Some(pid) = pid {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        println!("  memory after load: {}", proc_mem(pid));
    }
    let uri = goblock_server::uri::from_path(&file);
    let text = std::fs::read_to_string(&file).unwrap();
    c.open(&uri, &text, 1);
    let all = c
        .request(
            "textDocument/inlayHint",
            json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": N as u32 + 10, "character": 0}}}),
        )
        .await;
    if let Some(pid) = pid {
        println!(
            "  memory after open + whole-file inlayHint: {}",
            proc_mem(pid)
        );
    }
    let lines: Vec<u32> = all
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| h["position"]["line"].as_u64().unwrap_or(0) as u32)
                .collect()
        })
        .unwrap_or_default();
    println!(
        "10k lines: {} annotated lines in {}",
        lines.len(),
        file.display()
    );
    if lines.is_empty() {
        return;
    }
    let rounds = 2000;
    let mut hover = Vec::with_capacity(rounds);
    let mut inlay = Vec::with_capacity(rounds);
    let mut x: u64 = 88172645463325252;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let l = lines[(x % lines.len() as u64) as usize];
        let t = Instant::now();
        let h: Value = c
            .request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": {"line": l, "character": 3}}),
            )
            .await;
        hover.push(t.elapsed());
        assert!(h["contents"]["value"].is_string());
        let start = l.saturating_sub(50);
        let t = Instant::now();
        let r = c
            .request(
                "textDocument/inlayHint",
                json!({"textDocument": {"uri": uri}, "range": {"start": {"line": start, "character": 0}, "end": {"line": start + 100, "character": 0}}}),
            )
            .await;
        inlay.push(t.elapsed());
        assert!(r.as_array().is_some_and(|a| !a.is_empty()));
    }
    let t = Instant::now();
    let _ = c
        .request(
            "textDocument/inlayHint",
            json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": N as u32 + 10, "character": 0}}}),
        )
        .await;
    let whole = t.elapsed();
    let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
    println!(
        "  hover (round trip, {rounds} requests): p50 {}, p99 {}",
        us(pct(&mut hover, 0.5)),
        us(pct(&mut hover, 0.99))
    );
    println!(
        "  inlayHint, 100-line range ({rounds} requests): p50 {}, p99 {}",
        us(pct(&mut inlay, 0.5)),
        us(pct(&mut inlay, 0.99))
    );
    println!(
        "  inlayHint, whole file ({} hints): {}",
        lines.len(),
        us(whole)
    );
    if let Some(pid) = pid {
        println!("  memory: {}", proc_mem(pid));
    }
    c.shutdown().await;
    let _ = std::fs::remove_dir_all(&ws);
}

/// One-line edits of a 54 MB Go file: each edit is a didChange followed by
/// a hover (answered by the session after it applied the change).
async fn big_file_edits() {
    let ws = std::env::temp_dir().join(format!("goblock-bench-edits-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ws);
    std::fs::create_dir_all(&ws).unwrap();
    let file = ws.join("big.go");
    let mut text = String::from("package main\n\n");
    let mut i = 0;
    while text.len() < 54 << 20 {
        text.push_str(&format!(
            "// f{i} waits for a value and adds its index.\nfunc f{i}(c chan int) int {{\n\tv := <-c\n\treturn v + {i}\n}}\n\n"
        ));
        i += 1;
    }
    std::fs::write(&file, &text).unwrap();
    let lines = text.lines().count() as u32;
    let (mut c, _, how) = server();
    c.initialize(&ws, json!({})).await;
    let uri = goblock_server::uri::from_path(&file);
    let t = Instant::now();
    c.open(&uri, &text, 1);
    let _ = c.diagnostics(&uri, |p| p["version"] == 1).await;
    println!(
        "edits: {} ({} MB, {lines} lines), open to first diagnostics {:.0} ms, {how}",
        file.display(),
        text.len() >> 20,
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut times = Vec::new();
    for v in 2..202 {
        let line = (v as u32 * 7919) % lines;
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v},
                   "contentChanges": [{"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}, "text": "\t// edited\n"}]}),
        );
        let _ = c.hover(&uri, 0).await;
        times.push(t.elapsed());
    }
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    println!(
        "  one-line edit + hover, 200 edits: p50 {}, p99 {}",
        ms(pct(&mut times, 0.5)),
        ms(pct(&mut times, 0.99))
    );
    c.shutdown().await;
    let _ = std::fs::remove_dir_all(&ws);
}

/// A real Go module for `origins`: `GOBLOCK_BENCH_MODULE`, else the
/// newest `golang.org/x/net@*` in `go env GOMODCACHE`.
fn bench_module() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOBLOCK_BENCH_MODULE") {
        return Some(PathBuf::from(p));
    }
    let out = std::process::Command::new("go")
        .args(["env", "GOMODCACHE"])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim()).join("golang.org/x");
    let mut nets: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("net@"))
        })
        .collect();
    nets.sort();
    nets.pop()
}

fn go_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            go_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "go") {
            out.push(p);
        }
    }
}

/// Part 4: `Origins::collect` (run by every snapshot build, off the
/// message loop) over a real module's files.
fn origins() {
    use goblock_server::annotations::{Annotation, AnnotationIndex};
    use goblock_server::client_paths::ClientPaths;
    use goblock_server::origins::Origins;
    let Some(module) = bench_module().filter(|m| m.is_dir()) else {
        println!("origins: skipped (set GOBLOCK_BENCH_MODULE to a Go module directory)");
        return;
    };
    let mut files = Vec::new();
    go_files(&module, &mut files);
    let bytes: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    let at = Annotation {
        line: 1,
        ..Default::default()
    };
    let index = AnnotationIndex::of_files(&files, &at);
    let paths = ClientPaths::default();
    // Inputs recorded now: every file is older, so every one is read.
    let traced_at = Some(std::time::SystemTime::now());
    let (mut fresh, mut kept) = (Vec::new(), Vec::new());
    let mut first = None;
    for _ in 0..20 {
        let t = Instant::now();
        let o = Origins::collect(&index, &[], traced_at, &paths, &Origins::default());
        fresh.push(t.elapsed());
        first.get_or_insert(fresh[0]);
        let t = Instant::now();
        let again = Origins::collect(&index, &[], traced_at, &paths, &o);
        kept.push(t.elapsed());
        std::hint::black_box((o, again));
    }
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    println!(
        "origins: {} ({} .go files, {:.1} MB), each file as if annotated",
        module.display(),
        files.len(),
        bytes as f64 / 1e6
    );
    println!(
        "  new input time (read + hash every file), 20 runs: first {}, p50 {}, max {}",
        ms(first.unwrap_or_default()),
        ms(pct(&mut fresh, 0.5)),
        ms(pct(&mut fresh, 1.0))
    );
    println!(
        "  same inputs (carried over): p50 {}, max {}",
        ms(pct(&mut kept, 0.5)),
        ms(pct(&mut kept, 1.0))
    );
}

fn wanted(part: &str) -> bool {
    std::env::var("GOBLOCK_BENCH").map_or(true, |v| v.split(',').any(|p| p == part))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if wanted("large") {
        large().await;
    }
    if wanted("10k") {
        latency().await;
    }
    if wanted("edits") {
        big_file_edits().await;
    }
    if wanted("origins") {
        origins();
    }
}

#[allow(dead_code)]
async fn unused() {
    // `cargo bench` passes --bench; `cargo test --benches` would too: only
    // run when benchmarking.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    large().await;
    latency().await;
}
