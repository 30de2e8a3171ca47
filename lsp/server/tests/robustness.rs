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
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 50}})).await;
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
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 150}})).await;
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
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 100}})).await;
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
        // Waker links into main.go follow the edit (issue 13 §4).
        assert_eq!(common::shift_lines(&label(a), "main.go", 60), label(b));
    }
    c.shutdown().await;
}

/// Polls `goblock.hotLines` until `done` holds (or panics after `secs`).
async fn status_until(
    c: &mut Client,
    secs: u64,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = c.command("goblock.hotLines", json!([100])).await;
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "timed out; status: {s:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every message the server sent to the user or the log, as text.
fn messages(c: &Client) -> Vec<String> {
    c.log
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == "window/showMessage" || m["method"] == "window/logMessage")
        .map(|m| {
            m["params"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn failures(s: &serde_json::Value) -> Vec<String> {
    s["failures"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["message"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The type of the `window/showMessage` naming `file` (1 error, 2 warning),
/// waited for.
async fn popup_type(c: &Client, file: &str) -> serde_json::Value {
    let m = c
        .wait_for(
            &format!("showMessage of {file}"),
            Duration::from_secs(30),
            |m| {
                m["method"] == "window/showMessage"
                    && m["params"]["message"]
                        .as_str()
                        .is_some_and(|s| s.contains(file))
            },
        )
        .await;
    m["params"]["type"].clone()
}

/// Whether a failure of status `s` names `file` and says `reason`.
fn has_failure(s: &serde_json::Value, file: &str, reason: &str) -> bool {
    failures(s)
        .iter()
        .any(|m| m.contains(file) && m.contains(reason))
}

/// Asserts [`has_failure`].
#[track_caller]
fn assert_failure(s: &serde_json::Value, file: &str, reason: &str) {
    assert!(
        has_failure(s, file, reason),
        "{file}: {reason:?} not among the failures: {:?}",
        failures(s)
    );
}

/// Issue 16 row 5: a complete trace rewritten with its first 5,000 bytes (a
/// trace being written) keeps the data shown and says "still being
/// written?", also once the file has settled; the complete file is loaded
/// again when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_rewrite_keeps_the_previous_data() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let good = std::fs::read(dir.join("blocking.trace")).unwrap();
    let fx = Fixture::new("truncated", &[(&dir.join("blocking.trace"), "t.trace")]);
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 100}})).await;
    let uri = fx.uri("blocking/main.go");
    let before = c.diagnostics(&uri, |_| true).await["diagnostics"]
        .as_array()
        .unwrap()
        .len();
    assert!(before > 0);
    let s0 = c.command("goblock.hotLines", json!([100])).await;
    assert!(!s0["lines"].as_array().unwrap().is_empty());

    let path = fx.path("t.trace");
    std::fs::write(&path, &good[..5000]).unwrap();
    let s = status_until(&mut c, 30, |s| {
        !failures(s).is_empty() || s["lines"] != s0["lines"]
    })
    .await;
    assert_eq!(s["lines"], s0["lines"], "the previous data were replaced");
    assert_failure(&s, "t.trace", "still being written?");
    // Settled (no change for longer than the settle time): still shown.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let s = c.command("goblock.hotLines", json!([100])).await;
    assert_eq!(s["lines"], s0["lines"]);
    assert_eq!(s["loading"], false);
    // main.go's diagnostics were never emptied.
    let emptied = c.log.lock().unwrap().iter().any(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| d.len() < before)
    });
    assert!(
        !emptied,
        "main.go lost diagnostics while the trace was being written"
    );
    assert!(
        messages(&c)
            .iter()
            .any(|m| m.contains("still being written?")),
        "not logged"
    );

    // The complete trace again: loaded, nothing left to say.
    std::fs::write(&path, &good).unwrap();
    let s = status_until(&mut c, 30, |s| failures(s).is_empty()).await;
    assert_eq!(s["lines"], s0["lines"]);
    c.shutdown().await;
}

/// Issue 16 rows 1 and 2: a 100 GB sparse trace (the newest, so auto-loaded)
/// is refused by the size limit, and a 2 GB zero-filled one by its content,
/// without reading either into memory; lifting the limit lets the decoder
/// say where the zeros begin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_sparse_traces_are_refused_without_reading_them() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("sparse", &[]);
    let huge = fx.path("huge.trace");
    std::fs::copy(dir.join("blocking.trace"), &huge).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(100 << 30)
        .unwrap();
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 100}})).await;
    let s = c.command("goblock.hotLines", json!([10])).await;
    assert_failure(&s, "huge.trace", "is over the goblock.maxTraceBytes limit");

    // Not a glob match: huge.trace stays the newest trace of the workspace.
    let zeros = fx.path("zeros.bin");
    std::fs::File::create(&zeros)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    c.command("goblock.loadTrace", json!([zeros])).await;
    status_until(&mut c, 30, |s| {
        has_failure(
            s,
            "zeros.bin: zero-filled data",
            "(not a Go execution trace)",
        )
    })
    .await;

    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"goblock": {"debounceMs": 100, "maxTraceBytes": 0}}}),
    );
    c.command("goblock.reload", json!([])).await;
    status_until(&mut c, 30, |s| {
        has_failure(s, "huge.trace", "corrupt trace at byte")
    })
    .await;
    c.shutdown().await;
}

/// Issue 16 rows 7, 8 and 9: a FIFO, a directory, a device and a text file
/// as traces are refused by what they are — never opened in a way that
/// blocks, never echoed — while the good trace loads.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipes_directories_devices_and_text_are_named_never_read() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("types", &[(&dir.join("blocking.trace"), "good.trace")]);
    let fifo = fx.path("pipe.trace");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let folder = fx.path("folder.trace");
    std::fs::create_dir(&folder).unwrap();
    let secret = fx.path("shadow");
    std::fs::write(
        &secret,
        "root:$6$SECRETSALT$SECRETHASH:19000:0:99999:7:::\n",
    )
    .unwrap();
    let configured = [
        fifo.to_str().unwrap(),
        folder.to_str().unwrap(),
        "/dev/zero",
        secret.to_str().unwrap(),
    ];
    let mut traces = vec!["**/*.trace"];
    traces.extend(configured);
    let mut c = Client::started(
        &fx.ws,
        json!({"goblock": {"debounceMs": 100, "traces": traces}}),
    )
    .await;
    let s = c.command("goblock.hotLines", json!([10])).await;
    assert_eq!(s["traces"].as_array().unwrap().len(), 1, "{s:#}");
    assert!(
        s["traces"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("good.trace")
    );
    let said = [failures(&s), messages(&c)].concat();
    for (path, why) in [
        (configured[0], "is a pipe (FIFO), not a regular file"),
        (configured[1], "is a directory"),
        ("/dev/zero", "is a device, not a regular file"),
        (configured[3], "a text file (not a Go execution trace)"),
    ] {
        assert!(
            said.iter().any(|m| m.contains(path) && m.contains(why)),
            "{path}: {why:?} not said: {said:#?}"
        );
    }
    assert!(!said.iter().any(|m| m.contains("SECRET")), "{said:#?}");
    // Loading the FIFO explicitly is refused at once, saying why.
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.loadTrace", "arguments": [fifo]}),
    );
    let r = tokio::time::timeout(Duration::from_secs(20), c.response(id))
        .await
        .expect("goblock.loadTrace on a FIFO hung");
    let m = r["error"]["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("pipe.trace: is a pipe (FIFO), not a regular file"),
        "{r:#}"
    );
    c.shutdown().await;
}

/// Issue 16 row 6: an unreadable subdirectory of the workspace is named
/// once and skipped; the rest is found and watched (a rewrite of the trace
/// reloads it through the fallback watcher). Permissions do not stop root:
/// as root, the test runs its body again as `nobody` (`setpriv`), or says
/// why it cannot.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_subdirectory_is_skipped_and_the_rest_watched() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("unreadable", &[(&dir.join("blocking.trace"), "t.trace")]);
    let locked = fx.path("locked");
    std::fs::create_dir_all(locked.join("deeper")).unwrap();
    std::fs::copy(dir.join("blocking-test.trace"), locked.join("hidden.trace")).unwrap();
    let mode = |p: &std::path::Path, m: u32| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    mode(&fx.path("t.trace"), 0o666);
    mode(&locked, 0o000);
    // The files we create are owned by whom we run as.
    let root =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(fx.path("t.trace")).unwrap()) == 0;
    if !root {
        unreadable_body(&fx.ws, &dir).await;
    } else if std::path::Path::new("/usr/bin/setpriv").exists() {
        let out = std::process::Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "unreadable_subdirectory_as_nobody",
                "--ignored",
                "--nocapture",
            ])
            .env("GOBLOCK_TEST_WS", &fx.ws)
            .env("GOBLOCK_TEST_FIXTURES", &dir)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "as nobody: {text}");
        assert!(text.contains("1 passed"), "the body did not run: {text}");
    } else {
        eprintln!(
            "skipped: running as root (permissions do not apply) and no /usr/bin/setpriv to run as nobody"
        );
    }
    mode(&locked, 0o755);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as nobody by unreadable_subdirectory_is_skipped_and_the_rest_watched"]
async fn unreadable_subdirectory_as_nobody() {
    let ws = std::path::PathBuf::from(std::env::var_os("GOBLOCK_TEST_WS").unwrap());
    let dir = std::path::PathBuf::from(std::env::var_os("GOBLOCK_TEST_FIXTURES").unwrap());
    unreadable_body(&ws, &dir).await;
}

#[cfg(unix)]
async fn unreadable_body(ws: &std::path::Path, fixtures: &std::path::Path) {
    let mut c = Client::started(ws, json!({"goblock": {"debounceMs": 100}})).await;
    let s0 = c.command("goblock.hotLines", json!([10])).await;
    assert_eq!(s0["traces"].as_array().unwrap().len(), 1, "{s0:#}");
    let e0 = s0["traces"][0]["episodes"].clone();
    // Rewritten: reloaded through the watcher of the readable rest.
    let other = std::fs::read(fixtures.join("blocking-test.trace")).unwrap();
    std::fs::write(ws.join("t.trace"), other).unwrap();
    let s = status_until(&mut c, 30, |s| {
        s["loading"] == false && s["traces"][0]["episodes"] != e0
    })
    .await;
    assert!(
        s["traces"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("t.trace")
    );
    c.command("goblock.reload", json!([])).await;
    let said: Vec<String> = messages(&c)
        .into_iter()
        .filter(|m| m.contains("locked"))
        .collect();
    assert_eq!(said.len(), 1, "{said:#?}");
    assert!(
        said[0].contains("locked: cannot be read (permission denied); skipped"),
        "{said:#?}"
    );
    assert!(!messages(&c).iter().any(|m| m.contains("cannot watch")));
    c.shutdown().await;
}

/// Issue 16 row 10: a symlinked trace in the workspace is found and
/// followed (also when it names a file outside the workspace, whose
/// rewrites are watched); a symlink loop and a broken link that match the
/// globs, and every configured path that is not used, are named with why.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinked_traces_are_followed_and_unused_paths_named() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("links", &[]);
    let outside = fx.dir.join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    let real = outside.join("real.trace");
    std::fs::copy(dir.join("blocking.trace"), &real).unwrap();
    let link = |to: &std::path::Path, name: &str| {
        std::os::unix::fs::symlink(to, fx.path(name)).unwrap();
    };
    link(&real, "link.trace");
    link(&fx.path("loop.trace"), "loop.trace");
    link(&fx.path("nowhere"), "broken.trace");
    let missing = fx.path("missing.trace");
    let traces = json!(["**/*.trace", "/root", missing]);
    let mut c = Client::started(
        &fx.ws,
        json!({"goblock": {"debounceMs": 100, "traces": traces}}),
    )
    .await;
    let s = c.command("goblock.hotLines", json!([10])).await;
    let loaded = s["traces"].as_array().unwrap();
    assert_eq!(loaded.len(), 1, "{s:#}");
    assert!(!s["lines"].as_array().unwrap().is_empty());
    let said = [failures(&s), messages(&c)].concat();
    for (path, why) in [
        (fx.path("loop.trace"), "a symbolic link loop"),
        (fx.path("broken.trace"), "no such file"),
        ("/root".into(), "is a directory"),
        (missing.clone(), "no such file"),
    ] {
        let path = path.display().to_string();
        assert!(
            said.iter().any(|m| m.contains(&path) && m.contains(why)),
            "{path}: {why:?} not said: {said:#?}"
        );
    }
    // The configured paths not used are in the status, too.
    let f = failures(&s);
    assert!(
        f.iter().any(|m| m.starts_with("/root: is a directory")),
        "{f:?}"
    );
    // The file the link names is rewritten: reloaded.
    let e0 = s["traces"][0]["episodes"].clone();
    std::fs::copy(dir.join("blocking-test.trace"), &real).unwrap();
    status_until(&mut c, 30, |s| {
        s["loading"] == false && s["traces"][0]["episodes"] != e0
    })
    .await;
    c.shutdown().await;
}

/// Issue 16 row 11: `goblock.binaries: [missing, wrong, other build, right]`
/// tries each until one matches the trace, and says which were refused (and
/// which name no file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_binaries_are_tried_until_one_matches() {
    let td = common::repo().join("testdata");
    let fx = Fixture::new(
        "binaries",
        &[(&td.join("go1.26/blocking.trace"), "t.trace")],
    );
    let unpack = |rel: &str, name: &str| {
        let bytes = zstd::decode_all(std::fs::File::open(td.join(rel)).unwrap()).unwrap();
        let p = fx.dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let wrong = unpack("go1.23/blocking.bin.zst", "wrong");
    let trimpath = unpack("go1.26/blocking-trimpath.bin.zst", "trimpath");
    let right = unpack("go1.26/blocking.bin.zst", "right");
    let bins = json!(["bin/missing", wrong, trimpath, right]);
    let mut c = Client::started(
        &fx.ws,
        json!({"goblock": {"debounceMs": 100, "binaries": bins}}),
    )
    .await;
    let s = c.command("goblock.hotLines", json!([10])).await;
    let t = &s["traces"][0];
    assert_eq!(t["symbolization"], "dwarf", "{s:#}");
    assert_eq!(t["binary"], json!(right), "{s:#}");
    let notes: Vec<&str> = t["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for refused in [&wrong, &trimpath] {
        let name = refused.display().to_string();
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("refused: ") && n.contains(&name)),
            "{name} not refused: {notes:#?}"
        );
    }
    assert!(
        messages(&c).iter().any(|m| m.contains("goblock.binaries")
            && m.contains("bin/missing")
            && m.contains("no such file")),
        "{:#?}",
        messages(&c)
    );
    c.shutdown().await;
}

/// The names of the traces shown, from `goblock.hotLines`.
fn shown(s: &serde_json::Value) -> Vec<String> {
    s["traces"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| std::path::Path::new(t["path"].as_str()?).file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Sets a file's modification time `secs` seconds from now.
fn touch(p: &std::path::Path, secs: i64) {
    let now = std::time::SystemTime::now();
    let t = if secs >= 0 {
        now + Duration::from_secs(secs as u64)
    } else {
        now - Duration::from_secs((-secs) as u64)
    };
    std::fs::File::options()
        .write(true)
        .open(p)
        .and_then(|f| f.set_modified(t))
        .unwrap();
}

/// docs/lsp.md: "a trace that fails to load never removes previously
/// loaded data". A newer `*.trace` that is not a trace (a text file)
/// written beside the trace shown: the shown one stays, the new one is
/// among the failures, named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_file_that_is_no_trace_does_not_replace_the_shown_one() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("newerbad", &[(&dir.join("blocking.trace"), "good.trace")]);
    touch(&fx.path("good.trace"), -60);
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 100}})).await;
    let s0 = c.command("goblock.hotLines", json!([100])).await;
    assert_eq!(shown(&s0), ["good.trace"]);
    assert!(!s0["lines"].as_array().unwrap().is_empty());

    std::fs::write(fx.path("bad.trace"), "not a trace: notes of a run\n").unwrap();
    let s = status_until(&mut c, 30, |s| {
        failures(s).iter().any(|m| m.contains("bad.trace"))
    })
    .await;
    assert_eq!(shown(&s), ["good.trace"], "{s:#}");
    assert_eq!(s["lines"], s0["lines"]);
    assert_failure(&s, "bad.trace", "a text file");
    // Not used beside the trace shown: a warning, as the status notes it.
    assert_eq!(popup_type(&c, "bad.trace").await, 2);
    c.shutdown().await;
}

/// The same at startup: the newest match is not a trace, so the next
/// newest that loads is shown, and the newest is named among the failures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_startup_the_newest_usable_trace_is_shown() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("startbad", &[(&dir.join("blocking.trace"), "good.trace")]);
    touch(&fx.path("good.trace"), -60);
    std::fs::write(fx.path("bad.trace"), "not a trace: notes of a run\n").unwrap();
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 100}})).await;
    let s = status_until(&mut c, 30, |s| {
        !shown(s).is_empty() || !failures(s).is_empty()
    })
    .await;
    assert_eq!(shown(&s), ["good.trace"], "{s:#}");
    assert!(!s["lines"].as_array().unwrap().is_empty());
    assert_failure(&s, "bad.trace", "a text file");
    assert_eq!(popup_type(&c, "bad.trace").await, 2);
    c.shutdown().await;
}

/// With nothing else to show, a file that is not a trace is the status
/// (`failed`), and its message an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_file_that_is_no_trace_is_an_error() {
    let fx = Fixture::new("lonebad", &[]);
    std::fs::write(fx.path("bad.trace"), "not a trace: notes of a run\n").unwrap();
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 100}})).await;
    let s = status_until(&mut c, 30, |s| has_failure(s, "bad.trace", "a text file")).await;
    assert!(shown(&s).is_empty(), "{s:#}");
    assert_eq!(popup_type(&c, "bad.trace").await, 1);
    c.shutdown().await;
}

/// A new trace starts being written beside the one shown (`go test -trace
/// new.trace` running: its first 5,000 bytes, nothing complete yet): the
/// shown one stays, the new one is named "no complete data yet"; once the
/// new trace is complete it is shown instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_trace_being_written_does_not_replace_the_shown_one() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let other = std::fs::read(dir.join("blocking-test.trace")).unwrap();
    let fx = Fixture::new("newtrace", &[(&dir.join("blocking.trace"), "good.trace")]);
    touch(&fx.path("good.trace"), -60);
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 100}})).await;
    let s0 = c.command("goblock.hotLines", json!([100])).await;
    assert_eq!(shown(&s0), ["good.trace"]);

    let new = fx.path("new.trace");
    std::fs::write(&new, &other[..5000]).unwrap();
    let s = status_until(&mut c, 30, |s| {
        failures(s).iter().any(|m| m.contains("new.trace")) || shown(s) != ["good.trace"]
    })
    .await;
    assert_eq!(shown(&s), ["good.trace"], "{s:#}");
    assert_eq!(s["lines"], s0["lines"]);
    assert_failure(&s, "new.trace", "no complete data yet");
    // Settled, still nothing complete: the same.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let s = c.command("goblock.hotLines", json!([100])).await;
    assert_eq!(shown(&s), ["good.trace"], "{s:#}");
    assert_eq!(s["loading"], false);

    // Complete: the new trace is shown, nothing left to say.
    std::fs::write(&new, &other).unwrap();
    let s = status_until(&mut c, 30, |s| {
        shown(s) == ["new.trace"] && failures(s).is_empty()
    })
    .await;
    assert!(!s["lines"].as_array().unwrap().is_empty());
    c.shutdown().await;
}

/// A truncated profile in the workspace (`head -c 1000 block.pprof`) and
/// a trace that yields nothing yet (its first 5,000 bytes, through
/// `goblock.loadTrace`) are said where failures are, one line naming the
/// file — not only in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_profile_and_an_empty_cut_trace_are_failures() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let block = std::fs::read(repo.join("testdata/dumps/go1.26/block.pb.gz")).unwrap();
    let fx = Fixture::new("cutprofile", &[(&dir.join("blocking.trace"), "good.trace")]);
    std::fs::write(fx.path("block.pb.gz"), &block[..1000]).unwrap();
    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 100}})).await;
    let s = c.command("goblock.hotLines", json!([100])).await;
    assert_eq!(shown(&s), ["good.trace"], "{s:#}");
    let f = failures(&s);
    assert!(
        f.iter().any(
            |m| m.starts_with(&fx.path("block.pb.gz").display().to_string())
                && m.contains("gzip")
                && !m.contains('\n')
        ),
        "{f:?}"
    );

    let other = std::fs::read(dir.join("blocking-test.trace")).unwrap();
    let cut = fx.dir.join("cut.trace");
    std::fs::write(&cut, &other[..5000]).unwrap();
    let r = c.command("goblock.loadTrace", json!([cut])).await;
    let f = failures(&r);
    assert!(
        f.iter().any(
            |m| m.starts_with(&cut.display().to_string()) && m.contains("no complete data yet")
        ),
        "{r:#}"
    );
    c.shutdown().await;
}

/// A settled trace cut after complete generations (a killed `go test -trace`,
/// a partial copy: `head -c` half of the multi-generation fixture) has data:
/// as the newest match it is shown, with the decoder's truncation warning,
/// not replaced by an older trace and named "no complete data yet"; added
/// with `goblock.loadTrace`, the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_cut_trace_with_data_is_shown() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let multigen = std::fs::read(repo.join("testdata/go1.26/blocking-multigen.trace")).unwrap();
    let fx = Fixture::new("cutdata", &[(&dir.join("blocking.trace"), "old.trace")]);
    touch(&fx.path("old.trace"), -120);
    let cut = &multigen[..multigen.len() / 2];
    std::fs::write(fx.path("new.trace"), cut).unwrap();
    touch(&fx.path("new.trace"), -60);
    let side = fx.dir.join("side.trace");
    std::fs::write(&side, cut).unwrap();
    touch(&side, -60);

    let mut c = Client::started(&fx.ws, json!({"goblock": {"debounceMs": 100}})).await;
    let s = status_until(&mut c, 30, |s| {
        s["loading"] == false && !shown(s).is_empty()
    })
    .await;
    assert_eq!(shown(&s), ["new.trace"], "{s:#}");
    assert!(failures(&s).is_empty(), "{s:#}");
    assert!(!s["lines"].as_array().unwrap().is_empty(), "{s:#}");
    let warned = s["traces"][0]["warnings"].as_array().is_some_and(|w| {
        w.iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("truncated")))
    });
    assert!(warned, "{s:#}");

    let r = c.command("goblock.loadTrace", json!([side])).await;
    assert!(failures(&r).is_empty(), "{r:#}");
    c.shutdown().await;
}
