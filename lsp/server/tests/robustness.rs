//! Robustness of the server over the in-memory pipe: a request storm while a
//! large trace loads, rapid rewrites of the trace file (including half-written
//! states), didChange bursts out of order.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Client, Fixture, label, large_trace};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_storm_while_a_large_trace_loads() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    // A small trace loads first; then the large one is added (or, without a
    // large trace on this machine, the fixture again under another name).
    let fx = Fixture::new("storm", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let mut c = Client::start();
    c.initialize(&fx.ws, json!({"goblock": {"debounceMs": 50}}))
        .await;
    c.loaded().await;
    let uri = fx.uri("blocking/main.go");
    let text = std::fs::read_to_string(fx.path("blocking/main.go")).unwrap();
    c.open(&uri, &text, 1);
    let hints_before = c.inlay_hints(&uri).await;
    assert!(!hints_before.is_empty());
    let big = large_trace().unwrap_or_else(|| dir.join("blocking-test.trace"));
    eprintln!("loading {}", big.display());
    let load_id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.loadTrace", "arguments": [big]}),
    );
    // The storm: every request is answered promptly from the previous state.
    let mut worst = Duration::ZERO;
    let mut saw_loading = false;
    for i in 0..300u32 {
        let t = Instant::now();
        match i % 3 {
            0 => {
                let h = c.inlay_hints(&uri).await;
                assert!(!h.is_empty());
            }
            1 => {
                let line = hints_before[(i as usize / 3) % hints_before.len()]["position"]["line"]
                    .as_u64()
                    .unwrap() as u32;
                let h = c.hover(&uri, line).await;
                assert!(h["contents"]["value"].is_string());
            }
            _ => {
                let s = c.command("goblock.hotLines", json!([3])).await;
                saw_loading |= s["loading"] == true;
            }
        }
        worst = worst.max(t.elapsed());
    }
    eprintln!("storm: worst latency {worst:?}, saw loading: {saw_loading}");
    assert!(worst < Duration::from_secs(2), "worst {worst:?}");
    // A superseding reload cancels the big load; the command still answers.
    let r = c.command("goblock.clear", json!([])).await;
    assert_eq!(r["loaded"], json!([]));
    let first = c.response(load_id).await;
    assert!(first.get("result").is_some(), "{first}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_rapid_rewrites_end_in_the_final_trace() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let a = std::fs::read(dir.join("blocking.trace")).unwrap();
    let b = std::fs::read(dir.join("blocking-test.trace")).unwrap();
    let fx = Fixture::new("rewrites", &[(&dir.join("blocking.trace"), "t.trace")]);
    let mut c = Client::start();
    c.initialize(&fx.ws, json!({"goblock": {"debounceMs": 150}}))
        .await;
    c.loaded().await;
    let s0 = c.command("goblock.hotLines", json!([1])).await;
    // 100 rewrites, each in two halves (a reader may see the half-written file).
    let path = fx.path("t.trace");
    for i in 0..100 {
        let data = if i % 2 == 0 { &b } else { &a };
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&data[..data.len() / 2]).unwrap();
        f.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
        f.write_all(&data[data.len() / 2..]).unwrap();
        drop(f);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // The last write is `a` (i = 99): the same as the first load.
    let deadline = Instant::now() + Duration::from_secs(60);
    let want = s0["traces"][0]["episodes"].clone();
    let mut s;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        s = c.command("goblock.hotLines", json!([1])).await;
        if s["loading"] == false && s["traces"][0]["episodes"] == want {
            break;
        }
        assert!(Instant::now() < deadline, "never settled: {s:#}");
    }
    assert_eq!(s["failures"], json!([]), "{s:#}");
    assert_eq!(s["lines"], s0["lines"]);
    // No error was shown to the user for the half-written states.
    let errors = c
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == "window/showMessage")
        .count();
    assert_eq!(errors, 0);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn did_change_bursts_out_of_order() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("burst", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let mut c = Client::start();
    c.initialize(&fx.ws, json!({"goblock": {"debounceMs": 100}}))
        .await;
    c.loaded().await;
    let uri = fx.uri("blocking/main.go");
    let text = std::fs::read_to_string(fx.path("blocking/main.go")).unwrap();
    c.open(&uri, &text, 1);
    let base = c.inlay_hints(&uri).await;
    // Versions 2..=60, each the original text with (version) comment lines
    // on top, sent shuffled.
    let mut versions: Vec<i32> = (2..=60).collect();
    let mut x: u32 = 12345;
    for i in (1..versions.len()).rev() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        versions.swap(i, (x as usize >> 8) % (i + 1));
    }
    for v in &versions {
        let top = "// x\n".repeat(*v as usize);
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v},
                   "contentChanges": [{"text": format!("{top}{text}")}]}),
        );
        // Interleave incremental edits with stale versions: refused.
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v - 1},
                   "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}}, "text": ""}]}),
        );
    }
    let d = c.diagnostics(&uri, |p| p["version"] == 60).await;
    assert!(!d["diagnostics"].as_array().unwrap().is_empty());
    let hints = c.inlay_hints(&uri).await;
    assert_eq!(hints.len(), base.len());
    for (a, b) in base.iter().zip(&hints) {
        assert_eq!(
            b["position"]["line"].as_u64().unwrap(),
            a["position"]["line"].as_u64().unwrap() + 60
        );
        assert_eq!(label(a), label(b));
    }
    c.shutdown().await;
}
