//! Edits on disk since the build: with the traced binary (DWARF declaration
//! lines), annotations move with their function or are hidden and marked
//! stale — never shown on a wrong line.

mod common;

use std::path::Path;

use common::{Client, Fixture};
use serde_json::{Value, json};

/// Decompresses `blocking.bin.zst` into the fixture (needs the `zstd` tool).
fn with_binary(fx: &Fixture, dir: &Path) -> bool {
    let out = fx.path("blocking/blocking.bin");
    let ok = std::process::Command::new("zstd")
        .args(["-d", "-q", "-f", "-o"])
        .arg(&out)
        .arg(dir.join("blocking.bin.zst"))
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755));
        }
    }
    ok
}

async fn hint_lines(c: &mut Client, uri: &str) -> Vec<u64> {
    c.inlay_hints(uri)
        .await
        .iter()
        .map(|h| h["position"]["line"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_functions_are_reanchored_and_deleted_ones_are_stale() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let opts = json!({"goblock": {"debounceMs": 100}});
    // Baseline: the sources as built.
    let fx0 = Fixture::new("stale0", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    if !with_binary(&fx0, &dir) {
        eprintln!("zstd not available: skipped");
        return;
    }
    let mut c = Client::start();
    c.initialize(&fx0.ws, opts.clone()).await;
    c.loaded().await;
    let s = c.command("goblock.hotLines", json!([1])).await;
    if s["traces"][0]["symbolization"] != "dwarf" {
        eprintln!("binary not used ({}): skipped", s["traces"][0]["notes"]);
        c.shutdown().await;
        return;
    }
    let uri0 = fx0.uri("blocking/main.go");
    let text0 = std::fs::read_to_string(fx0.path("blocking/main.go")).unwrap();
    c.open(&uri0, &text0, 1);
    let base = hint_lines(&mut c, &uri0).await;
    assert!(!base.is_empty());
    c.shutdown().await;

    // The same, with three lines inserted above every function and
    // `mutexLock` renamed (its annotation can no longer be placed).
    let mutex = common::markers()
        .into_iter()
        .find(|m| m.file == "blocking/main.go" && m.description == "sync.Mutex contention")
        .expect("mutex marker");
    let fx = Fixture::new("stale1", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    assert!(with_binary(&fx, &dir));
    let edited: String = text0
        .replacen("package main\n", "package main\n\n// one\n// two\n", 1)
        .replace("func mutexLock(", "func mutexLockRenamed(");
    std::fs::write(fx.path("blocking/main.go"), &edited).unwrap();
    let mut c = Client::start();
    c.initialize(&fx.ws, opts).await;
    c.loaded().await;
    let uri = fx.uri("blocking/main.go");
    c.open(&uri, &edited, 1);
    let moved = hint_lines(&mut c, &uri).await;
    let want: Vec<u64> = base
        .iter()
        .filter(|&&l| l + 1 != u64::from(mutex.line))
        .map(|l| l + 3)
        .collect();
    assert_eq!(moved, want);
    // The hover of a moved line says so; the renamed function's line is stale.
    let h = c.hover(&uri, want[0] as u32).await;
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("moved since the build"),
        "{h}"
    );
    // The renamed function's frame no longer fits the file: the analysis
    // reports it as unmapped (issue 13 §1), so nothing is shown on its line
    // (at most a "stale" hover) and `goblock.hotLines` lists it.
    let h = c.hover(&uri, mutex.line - 1).await;
    if let Some(md) = h["contents"]["value"].as_str() {
        assert!(md.contains("stale"), "{md}");
    }
    let s = c.command("goblock.hotLines", json!([100])).await;
    assert!(
        s["unmapped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["recorded"]
                .as_str()
                .unwrap()
                .ends_with("blocking/main.go")),
        "{s}"
    );
    c.shutdown().await;
}

/// Without the binary, a file changed after the trace before the server
/// saw it has no evidence of where its lines are: every surface hides them
/// (stale), none shows a recorded line that may now be another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_binary_a_file_changed_before_loading_is_stale() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new(
        "unverified",
        &[(&dir.join("blocking.trace"), "blocking.trace")],
    );
    // Rewritten after the trace (the same text: nothing can tell).
    std::thread::sleep(std::time::Duration::from_millis(20));
    let text = std::fs::read_to_string(fx.path("blocking/main.go")).unwrap();
    std::fs::write(fx.path("blocking/main.go"), &text).unwrap();
    let mut c = Client::start();
    c.initialize(&fx.ws, json!({"goblock": {"binaries": ["/nonexistent"]}}))
        .await;
    c.loaded().await;
    let uri = fx.uri("blocking/main.go");
    c.open(&uri, &text, 1);
    assert_eq!(hint_lines(&mut c, &uri).await, Vec::<u64>::new());
    let d = c.diagnostics(&uri, |p| p["version"] == 1).await;
    assert_eq!(d["diagnostics"], json!([]), "{d}");
    let s = c.command("goblock.hotLines", json!([100])).await;
    let main_go = |rows: &Value| -> Vec<u64> {
        rows.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["file"].as_str().unwrap().ends_with("blocking/main.go"))
            .map(|r| r["recordedLine"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(main_go(&s["lines"]), Vec::<u64>::new(), "{s}");
    let stale = main_go(&s["stale"]);
    assert!(!stale.is_empty(), "{s}");
    let h = c.hover(&uri, stale[0] as u32 - 1).await;
    let md = h["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        md.contains("stale") && md.contains("changed after the trace"),
        "{h}"
    );
    c.shutdown().await;
}

/// Without the binary, a file the server saw unchanged since the trace
/// and then edited and saved: its lines follow a diff against the text it
/// had, in the diagnostics, the hints and `goblock.hotLines` alike; the
/// edited line itself is stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_binary_a_saved_edit_is_followed_by_a_diff() {
    let Some(dir) = common::fixture_dirs().into_iter().next() else {
        return;
    };
    let fx = Fixture::new("saved", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let path = fx.path("blocking/main.go");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut c = Client::start();
    c.initialize(&fx.ws, json!({"goblock": {"binaries": ["/nonexistent"]}}))
        .await;
    c.loaded().await;
    let uri = fx.uri("blocking/main.go");
    let hot = |s: &Value| -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = s["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["file"].as_str().unwrap().ends_with("blocking/main.go"))
            .map(|r| {
                (
                    r["recordedLine"].as_u64().unwrap(),
                    r["line"].as_u64().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = hot(&c.command("goblock.hotLines", json!([100])).await);
    assert!(before.len() >= 2, "{before:?}");
    assert!(before.iter().all(|(r, l)| r == l), "{before:?}");
    // The first annotated line's statement rewritten (its code: a comment
    // alone leaves the line as it was), two lines inserted at the top:
    // saved to disk (as an editor does) while open.
    let first = before[0].0 as usize;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let l = &lines[first - 1];
    let indent = &l[..l.len() - l.trim_start().len()];
    lines[first - 1] = format!("{indent}_ = 0; {}", l.trim_start());
    let edited = format!("// one\n// two\n{}\n", lines.join("\n"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&path, &edited).unwrap();
    c.open(&uri, &edited, 1);
    let want: Vec<u64> = before.iter().skip(1).map(|(r, _)| r + 2).collect();
    let after = c.command("goblock.hotLines", json!([100])).await;
    assert_eq!(
        hot(&after).iter().map(|x| x.1).collect::<Vec<_>>(),
        want,
        "{after}"
    );
    assert!(
        after["stale"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["recordedLine"].as_u64() == Some(before[0].0)),
        "{after}"
    );
    let hints = hint_lines(&mut c, &uri).await;
    let hinted: Vec<u64> = hints.iter().map(|l| l + 1).collect();
    assert!(!hinted.contains(&(before[0].0 + 2)), "{hinted:?}");
    for l in &hinted {
        assert!(
            want.contains(l),
            "hint at {l}, annotated lines now {want:?}"
        );
    }
    let d = c.diagnostics(&uri, |p| p["version"] == 1).await;
    for dg in d["diagnostics"].as_array().unwrap() {
        let l = dg["range"]["start"]["line"].as_u64().unwrap() + 1;
        assert!(
            want.contains(&l),
            "diagnostic at {l}, annotated lines now {want:?}"
        );
    }
    c.shutdown().await;
}
