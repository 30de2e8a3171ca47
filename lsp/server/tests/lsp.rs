//! LSP-level tests: the real server over an in-memory pipe on the committed
//! fixtures (`testdata/go1.XX/blocking.trace`, programs in
//! `testdata/programs/blocking`, markers in `testdata/markers.tsv`).
//!
//! initialize → publishDiagnostics → didOpen → inlayHint → hover →
//! didChange (hints shift) → trace rewritten (reload); the rendered hints and
//! hovers are insta snapshots.

mod common;

use std::time::Duration;

use common::{Client, Fixture, label, shift_lines};
use serde_json::{Value, json};

fn options() -> Value {
    json!({"goblock": {"debounceMs": 100}})
}

/// Hints as `line: label` (0-based lines).
fn render_hints(hints: &[Value]) -> String {
    hints
        .iter()
        .map(|h| format!("{}: {}", h["position"]["line"], label(h)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_on_fixture() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        eprintln!("no fixtures");
        return;
    };
    let fx = Fixture::new(
        "session",
        &[(&dir.join("blocking.trace"), "blocking.trace")],
    );
    let mut c = Client::start();
    let init = c.initialize(&fx.ws, options()).await;
    assert_eq!(init["capabilities"]["inlayHintProvider"], json!(true));
    assert!(
        init["capabilities"]["executeCommandProvider"]["commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "goblock.hotLines")
    );
    c.loaded().await;
    // $/progress: begin, percentages, end, on one token.
    {
        let log = c.log.lock().unwrap();
        let prog: Vec<&serde_json::Value> =
            log.iter().filter(|m| m["method"] == "$/progress").collect();
        let kinds: Vec<&str> = prog
            .iter()
            .map(|m| m["params"]["value"]["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds.first(), Some(&"begin"), "{kinds:?}");
        assert_eq!(kinds.last(), Some(&"end"), "{kinds:?}");
        assert!(kinds.contains(&"report"), "{kinds:?}");
        assert!(
            prog.iter()
                .all(|m| m["params"]["token"] == prog[0]["params"]["token"])
        );
        assert!(
            log.iter()
                .any(|m| m["method"] == "window/workDoneProgress/create")
        );
    }
    let status = c.command("goblock.hotLines", json!([100])).await;
    assert_eq!(status["traces"].as_array().unwrap().len(), 1, "{status:#}");
    assert!(
        !status["lines"].as_array().unwrap().is_empty(),
        "no hot lines: {status:#}"
    );

    // Diagnostics for the closed workspace file are published on load.
    let main_uri = fx.uri("blocking/main.go");
    let d = c.diagnostics(&main_uri, |_| true).await;
    assert!(d["version"].is_null());
    let diags = d["diagnostics"].as_array().unwrap().clone();
    assert!(!diags.is_empty());
    for dg in &diags {
        assert_eq!(dg["source"], "goblock");
        assert!(dg["code"].is_string());
    }

    // Every BLOCK marker of a shown category in main.go that has a
    // diagnostic sits on a marker line: no diagnostic on a non-marker line.
    let markers = common::markers();
    let block_lines: Vec<u32> = markers
        .iter()
        .filter(|m| m.file == "blocking/main.go" && m.marker == "BLOCK")
        .map(|m| m.line)
        .collect();

    // Open: diagnostics come with the version.
    let text = std::fs::read_to_string(fx.path("blocking/main.go")).unwrap();
    c.open(&main_uri, &text, 1);
    let d = c.diagnostics(&main_uri, |p| p["version"] == 1).await;
    let rendered: Vec<String> = d["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let rel: Vec<String> = d["relatedInformation"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .map(|r| {
                            format!(
                                "    → {} ({}:{})",
                                r["message"].as_str().unwrap(),
                                r["location"]["uri"]
                                    .as_str()
                                    .unwrap()
                                    .rsplit('/')
                                    .next()
                                    .unwrap(),
                                r["location"]["range"]["start"]["line"].as_u64().unwrap() + 1
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut s = format!(
                "{}: [{}] {} {}",
                d["range"]["start"]["line"].as_u64().unwrap() + 1,
                d["severity"],
                d["code"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            );
            for r in rel {
                s.push('\n');
                s.push_str(&r);
            }
            s
        })
        .collect();
    assert!(
        rendered.iter().any(|r| r.contains("→ woken by")),
        "{rendered:#?}"
    );
    insta::assert_snapshot!("diagnostics_main", rendered.join("\n"));
    let diag_lines: Vec<u32> = d["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap() as u32 + 1)
        .collect();
    assert!(!diag_lines.is_empty());

    let hints = c.inlay_hints(&main_uri).await;
    assert!(!hints.is_empty());
    let hint_lines: Vec<u32> = hints
        .iter()
        .map(|h| h["position"]["line"].as_u64().unwrap() as u32 + 1)
        .collect();
    let on_markers = hint_lines
        .iter()
        .filter(|l| block_lines.contains(l))
        .count();
    assert!(
        on_markers >= block_lines.len() / 2,
        "hints {hint_lines:?} vs markers {block_lines:?}"
    );
    // Hints sit at the end of their line.
    for h in &hints {
        let l = h["position"]["line"].as_u64().unwrap() as usize;
        let len = text.lines().nth(l).unwrap().encode_utf16().count() as u64;
        assert_eq!(h["position"]["character"].as_u64().unwrap(), len);
    }
    insta::assert_snapshot!("inlay_hints_main", render_hints(&hints));

    // Hover on the hottest line of main.go.
    let hot = status["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["file"].as_str().unwrap().ends_with("blocking/main.go"))
        .cloned()
        .expect("a hot line in main.go");
    let line0 = hot["line"].as_u64().unwrap() as u32 - 1;
    let h = c.hover(&main_uri, line0).await;
    let md = h["contents"]["value"].as_str().unwrap().to_owned();
    // This client gives no clientInfo: tables come as aligned text (tests/render.rs
    // covers each client's form).
    assert!(md.contains("goroutine  blocked"), "{md}");
    insta::assert_snapshot!("hover_hottest_main", fx.redact(&md));
    // No hover on a line without annotation (line 1: a comment).
    assert!(c.hover(&main_uri, 0).await.is_null());

    // didChange: insert two lines at the top; hints shift by two.
    c.drain();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main_uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// a\n// b\n"}]}),
    );
    let d2 = c.diagnostics(&main_uri, |p| p["version"] == 2).await;
    let diag_lines2: Vec<u32> = d2["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap() as u32 + 1)
        .collect();
    assert_eq!(
        diag_lines2,
        diag_lines.iter().map(|l| l + 2).collect::<Vec<_>>()
    );
    let hints2 = c.inlay_hints(&main_uri).await;
    assert_eq!(hints2.len(), hints.len());
    for (a, b) in hints.iter().zip(&hints2) {
        assert_eq!(
            b["position"]["line"].as_u64().unwrap(),
            a["position"]["line"].as_u64().unwrap() + 2
        );
        // Links into main.go (wakers) follow the edit too.
        assert_eq!(shift_lines(&label(a), "main.go", 2), label(b));
    }
    let h2 = c.hover(&main_uri, line0 + 2).await;
    assert_eq!(
        h2["contents"]["value"].as_str().unwrap(),
        shift_lines(&md, "main.go", 2)
    );
    // An out-of-order (older) change is ignored, not applied.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main_uri, "version": 1},
               "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 5, "character": 0}}, "text": ""}]}),
    );
    let hints3 = c.inlay_hints(&main_uri).await;
    assert_eq!(render_hints(&hints3), render_hints(&hints2));

    // Library (GOROOT / module cache) lines are annotated only when opened.
    if let Some(lib) = status["lines"].as_array().unwrap().iter().find(|l| {
        l["inWorkspace"] == false && std::path::Path::new(l["file"].as_str().unwrap()).is_file()
    }) {
        let luri = lib["uri"].as_str().unwrap().to_owned();
        assert!(
            !c.log
                .lock()
                .unwrap()
                .iter()
                .any(|m| m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == luri.as_str()),
            "a closed library file got diagnostics"
        );
        let ltext = std::fs::read_to_string(lib["file"].as_str().unwrap()).unwrap();
        c.open(&luri, &ltext, 1);
        let lh = c.inlay_hints(&luri).await;
        assert!(
            lh.iter()
                .any(|h| h["position"]["line"].as_u64().unwrap() + 1
                    == lib["line"].as_u64().unwrap()),
            "{lh:?}"
        );
        c.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": luri}}),
        );
    }

    // The trace is rewritten (with the test binary's trace): reloaded.
    let episodes_before = status["traces"][0]["episodes"].clone();
    c.drain();
    std::fs::copy(dir.join("blocking-test.trace"), fx.path("blocking.trace")).unwrap();
    c.loaded().await;
    let status2 = c.command("goblock.hotLines", json!([5])).await;
    assert_ne!(
        status2["traces"][0]["episodes"], episodes_before,
        "{status2:#}"
    );
    // The open document is re-anchored on the disk text (which lacks the
    // two inserted lines): hints still land on the same statements.
    let _ = c.diagnostics(&main_uri, |p| p["version"] == 2).await;

    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_load_clear_and_errors() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    // No trace in the workspace: nothing loaded until loadTrace.
    let fx = Fixture::new("commands", &[]);
    std::fs::write(fx.path("broken.bin"), b"not a trace at all").unwrap();
    let mut c = Client::start();
    c.initialize(&fx.ws, options()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = c.command("goblock.hotLines", json!([])).await;
    assert_eq!(s["traces"], json!([]));
    // A bad file: an error result in failures, the server keeps going.
    let r = c
        .command("goblock.loadTrace", json!([fx.path("broken.bin")]))
        .await;
    assert_eq!(r["failures"].as_array().unwrap().len(), 1, "{r:#}");
    assert!(
        r["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("broken.bin"),
        "{r:#}"
    );
    // A good trace next to it.
    let r = c
        .command("goblock.loadTrace", json!([dir.join("blocking.trace")]))
        .await;
    assert_eq!(r["loaded"].as_array().unwrap().len(), 1, "{r:#}");
    let s = c.command("goblock.hotLines", json!([{"limit": 3}])).await;
    assert_eq!(s["lines"].as_array().unwrap().len(), 3);
    assert_eq!(s["failures"].as_array().unwrap().len(), 1);
    // A missing file: invalid params (-32602), one line naming the file
    // (VS Code checks the path itself first; Neovim shows this message);
    // what is shown and the failures listed stay as they were.
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.loadTrace", "arguments": ["/nonexistent/x.trace"]}),
    );
    let r = c.response(id).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let m = r["error"]["message"].as_str().unwrap_or_default();
    assert!(
        m == "/nonexistent/x.trace: no such file or directory",
        "{r}"
    );
    // A relative path is the first workspace folder's, and named so.
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.loadTrace", "arguments": ["gone.trace"]}),
    );
    let r = c.response(id).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let m = r["error"]["message"].as_str().unwrap_or_default();
    assert!(
        m.starts_with(&format!("{}: ", fx.path("gone.trace").display())),
        "{r}"
    );
    let after = c.command("goblock.hotLines", json!([{"limit": 3}])).await;
    let paths = |h: &Value| {
        h["traces"]
            .as_array()
            .map(|t| t.iter().map(|t| t["path"].clone()).collect::<Vec<_>>())
    };
    assert_eq!(paths(&after), paths(&s), "{after:#}");
    assert_eq!(after["failures"], s["failures"], "{after:#}");
    // Clear.
    let r = c.command("goblock.clear", json!([])).await;
    assert_eq!(r["loaded"], json!([]));
    let s = c.command("goblock.hotLines", json!([])).await;
    assert_eq!(s["lines"], json!([]));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_traces_sum_and_break_down() {
    let dirs = common::fixture_dirs();
    let Some(dir) = dirs.first() else { return };
    let fx = Fixture::new(
        "several",
        &[
            (&dir.join("blocking.trace"), "a.trace"),
            (&dir.join("blocking.trace"), "b.trace"),
        ],
    );
    let mut c = Client::start();
    let opts =
        json!({"goblock": {"traces": [fx.path("a.trace"), fx.path("b.trace")], "debounceMs": 100}});
    c.initialize(&fx.ws, opts).await;
    c.loaded().await;
    let s = c.command("goblock.hotLines", json!([1])).await;
    assert_eq!(s["traces"].as_array().unwrap().len(), 2);
    let line = &s["lines"][0];
    let uri = line["uri"].as_str().unwrap().to_owned();
    let text = std::fs::read_to_string(line["file"].as_str().unwrap()).unwrap();
    c.open(&uri, &text, 1);
    let h = c
        .hover(&uri, line["line"].as_u64().unwrap() as u32 - 1)
        .await;
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("\na.trace ") && md.contains("\nb.trace "),
        "{md}"
    );
    // Same trace twice: every count is even.
    assert_eq!(line["count"].as_u64().unwrap() % 2, 0);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_in_a_request_is_an_error_not_a_crash() {
    // SAFETY: set before any server thread reads it; tests only read it.
    unsafe { std::env::set_var("GOBLOCK_TEST_HOOKS", "1") };
    let fx = Fixture::new("panic", &[]);
    let mut c = Client::start();
    c.initialize(&fx.ws, options()).await;
    let id = c.send_request(
        "workspace/executeCommand",
        json!({"command": "goblock.test.panic", "arguments": []}),
    );
    let r = c.response(id).await;
    assert_eq!(r["error"]["code"], -32603, "{r}");
    // Still serving.
    let s = c.command("goblock.hotLines", json!([])).await;
    assert!(s["lines"].is_array());
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_change_rerenders_and_callers_hints() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new(
        "settings",
        &[(&dir.join("blocking.trace"), "blocking.trace")],
    );
    let mut c = Client::start();
    c.initialize(&fx.ws, options()).await;
    c.loaded().await;
    let uri = fx.uri("blocking/main.go");
    let text = std::fs::read_to_string(fx.path("blocking/main.go")).unwrap();
    c.open(&uri, &text, 1);
    let _ = c.diagnostics(&uri, |p| p["version"] == 1).await;
    let before = c.inlay_hints(&uri).await;
    let kinds = |hs: &[Value]| -> Vec<String> { hs.iter().map(label).collect() };
    assert!(!kinds(&before).iter().any(|l| l.contains("sleep")));
    // Only sleep (off by default) and callers hints.
    c.drain();
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"goblock": {"categories": ["sleep"], "inlayHints": {"callers": true},
                                        "diagnostics": {"severity": "warning", "hottest": 1}}}}),
    );
    let d = c.diagnostics(&uri, |p| p["version"] == 1).await;
    let sev: Vec<u64> = d["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["severity"].as_u64().unwrap())
        .collect();
    assert!(sev.iter().all(|s| *s == 2 || *s == 4), "{sev:?}");
    assert!(sev.iter().filter(|s| **s == 2).count() <= 1);
    let after = c.inlay_hints(&uri).await;
    let labels = kinds(&after);
    assert!(labels.iter().any(|l| l.contains("sleep")), "{labels:#?}");
    assert!(
        labels
            .iter()
            .all(|l| l.contains("sleep") || l.contains("callees")),
        "{labels:#?}"
    );
    assert!(
        labels.iter().any(|l| l.contains("blocked in callees")),
        "{labels:#?}"
    );
    // A bad value is reported and keeps its default.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"goblock": {"categories": "sync", "diagnostics": {"minShare": 7}}}}),
    );
    let m = c
        .wait_for("showMessage", Duration::from_secs(10), |m| {
            m["method"] == "window/showMessage"
        })
        .await;
    assert!(
        m["params"]["message"]
            .as_str()
            .unwrap()
            .contains("minShare")
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_file_watching() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("watch", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let mut c = Client::start();
    let ws = goblock_server::uri::from_path(&fx.ws);
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": ws,
               "capabilities": {"window": {"workDoneProgress": true},
                                "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true, "relativePatternSupport": true}}},
               "initializationOptions": {"goblock": {"debounceMs": 50}}}),
    )
    .await;
    c.notify("initialized", json!({}));
    c.loaded().await;
    let reg = c
        .log
        .lock()
        .unwrap()
        .iter()
        .find(|m| m["method"] == "client/registerCapability")
        .cloned()
        .expect("registration");
    let watchers = &reg["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert_eq!(
        watchers[0]["globPattern"]["pattern"], "**/*.trace",
        "{reg:#}"
    );
    let s0 = c.command("goblock.hotLines", json!([1])).await;
    std::fs::copy(dir.join("blocking-test.trace"), fx.path("blocking.trace")).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": fx.uri("blocking.trace"), "type": 2}]}),
    );
    c.loaded().await;
    let s1 = c.command("goblock.hotLines", json!([1])).await;
    assert_ne!(s0["traces"][0]["episodes"], s1["traces"][0]["episodes"]);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmapped_files_are_listed_and_substitutions_apply() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    // The sources are not in the workspace: every line of the program is unmapped.
    let fx = Fixture::new(
        "unmapped",
        &[(&dir.join("blocking.trace"), "blocking.trace")],
    );
    let elsewhere = fx.dir.join("elsewhere");
    std::fs::rename(fx.path("blocking"), &elsewhere).unwrap();
    let mut c = Client::start();
    c.initialize(&fx.ws, options()).await;
    c.loaded().await;
    let s = c.command("goblock.hotLines", json!([100])).await;
    let unmapped: Vec<&str> = s["unmapped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["recorded"].as_str().unwrap())
        .collect();
    let outside: Vec<&str> = s["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["file"].as_str().unwrap())
        .filter(|f| f.ends_with("blocking/main.go"))
        .collect();
    // Not found → listed as unmapped; unless the build directory happens to
    // exist on this machine (the fixtures were generated here), then it is
    // used as recorded, outside the workspace.
    let recorded = match (
        unmapped.iter().find(|u| u.ends_with("blocking/main.go")),
        outside.first(),
    ) {
        (Some(u), _) => u.to_string(),
        (None, Some(f)) if std::path::Path::new(f).is_file() => f.to_string(),
        _ => panic!("main.go neither unmapped nor found: {s:#}"),
    };
    let recorded = recorded.trim_end_matches("main.go").to_owned();
    // A substitution from the recorded build directory wins.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"goblock": {"debounceMs": 100, "substitutePath": [
            {"from": recorded, "to": format!("{}/", elsewhere.display())}]}}}),
    );
    c.loaded().await;
    let s = c.command("goblock.hotLines", json!([100])).await;
    let main = s["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["file"].as_str().unwrap().ends_with("main.go"))
        .cloned()
        .expect("main.go lines after the substitution");
    assert!(
        main["file"]
            .as_str()
            .unwrap()
            .starts_with(&*elsewhere.to_string_lossy())
    );
    assert_eq!(main["inWorkspace"], false);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_folders_added_later() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let empty = Fixture::new("folders0", &[]);
    let fx = Fixture::new(
        "folders1",
        &[(&dir.join("blocking.trace"), "blocking.trace")],
    );
    let mut c = Client::start();
    c.initialize(&empty.ws, options()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        c.command("goblock.hotLines", json!([])).await["traces"],
        json!([])
    );
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [{"uri": goblock_server::uri::from_path(&fx.ws), "name": "b"}], "removed": []}}),
    );
    c.loaded().await;
    let s = c.command("goblock.hotLines", json!([])).await;
    assert_eq!(s["traces"].as_array().unwrap().len(), 1, "{s:#}");
    assert!(
        s["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["inWorkspace"] == true)
    );
    c.shutdown().await;
}

/// The client cancels the load's progress (`window/workDoneProgress/cancel`,
/// sent as soon as the server creates the token): the load stops, its
/// progress ends, nothing is published, the server says so in its log and
/// stays usable: `goblock.reload` loads the trace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_cancels_a_load() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        eprintln!("no fixtures");
        return;
    };
    let fx = Fixture::new("cancel", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let mut c = Client::start();
    c.cancel_next_progress();
    let init = c.initialize(&fx.ws, options()).await;
    assert!(init["capabilities"].is_object());
    c.loaded().await;
    {
        let log = c.log.lock().unwrap();
        let begin = log
            .iter()
            .find(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin")
            .expect("a progress begin");
        assert_eq!(begin["params"]["value"]["cancellable"], json!(true));
        assert!(
            log.iter().any(|m| m["method"] == "window/logMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|s| s.contains("loading cancelled"))),
            "no cancellation message in {log:#?}"
        );
        assert!(
            !log.iter()
                .any(|m| m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["diagnostics"]
                        .as_array()
                        .is_some_and(|d| !d.is_empty())),
            "a cancelled load published diagnostics"
        );
    }
    let status = c.command("goblock.hotLines", json!([10])).await;
    assert_eq!(
        status["traces"].as_array().map(Vec::len),
        Some(0),
        "{status:#}"
    );

    c.drain();
    c.command("goblock.reload", json!([])).await;
    let status = c.command("goblock.hotLines", json!([10])).await;
    assert_eq!(
        status["traces"].as_array().map(Vec::len),
        Some(1),
        "{status:#}"
    );
    assert!(
        !status["lines"].as_array().unwrap().is_empty(),
        "{status:#}"
    );
    c.shutdown().await;
}

/// `goblock.loadTrace` answers for the path it was given: an earlier
/// load's failure (still retried with every load) is not in a later good
/// load's answer, and a failure the answer carries is not said a second
/// time by `window/showMessage` (clients show the answer: qa 02:05).
/// A load command's answer, again while a newer load (the retry of the
/// cut trace, which may still be being written) supersedes it.
async fn settled(c: &mut Client, command: &str, args: Value) -> Value {
    for _ in 0..20 {
        let r = c.command(command, args.clone()).await;
        if r["superseded"] != true {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{command} was superseded 20 times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_trace_answers_only_for_its_path_and_says_each_failure_once() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("loadanswer", &[]);
    let empty = fx.dir.join("empty.trace");
    std::fs::write(&empty, b"").unwrap();
    // A real trace cut after its first 5,000 bytes (a trace being written).
    let whole = std::fs::read(dir.join("blocking.trace")).unwrap();
    let cut = fx.dir.join("cut5000.trace");
    std::fs::write(&cut, &whole[..5000]).unwrap();
    let mut c = Client::start();
    c.initialize(&fx.ws, options()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let r = settled(&mut c, "goblock.loadTrace", json!([empty])).await;
    let failed: Vec<&str> = r["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(failed, [empty.to_str().unwrap()], "{r:#}");

    // Its own failure only ("no complete data yet"), not empty.trace's.
    let r = settled(&mut c, "goblock.loadTrace", json!([cut])).await;
    let failed: Vec<(&str, &str)> = r["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(failed.len(), 1, "another load's failure: {r:#}");
    assert_eq!(failed[0].0, cut.to_str().unwrap(), "{r:#}");
    assert!(failed[0].1.contains("no complete data yet"), "{r:#}");
    let good = settled(
        &mut c,
        "goblock.loadTrace",
        json!([dir.join("blocking.trace")]),
    )
    .await;
    assert_eq!(good["failures"], json!([]), "{good:#}");
    assert!(
        good["loaded"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().ends_with("blocking.trace")),
        "{good:#}"
    );
    // The session still knows the empty file failed: the status says so.
    let s = c.command("goblock.hotLines", json!([1])).await;
    assert!(
        s["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == json!(empty)),
        "{s:#}"
    );
    // A reload answers for every input: the empty file's failure is in it.
    let r = settled(&mut c, "goblock.reload", json!([])).await;
    assert!(
        r["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == json!(empty)),
        "{r:#}"
    );
    // Each failure was told once — by the answers, not also in a pop-up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let popups: Vec<String> = c
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == "window/showMessage")
        .map(|m| m["params"]["message"].as_str().unwrap_or("").to_owned())
        .filter(|m| m.contains("empty.trace") || m.contains("cut5000"))
        .collect();
    assert_eq!(popups, Vec::<String>::new());
    c.shutdown().await;
}
