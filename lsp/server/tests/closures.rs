//! Closures keep their lines (issue 13 §2). A real program
//! (`tests/data/closures/src`, made by `tests/data/closures/gen.sh`) whose
//! `main` (line 51) starts the fetcher `go func() { … rd.ReadString … }()`
//! at line 91, with closures in a pipeline stage, a server, nested and
//! deferred closures, a generic function, a method of a generic type, a
//! method value, two `init` functions and an inlined helper; traced with
//! Go 1.26 (with and without `-trimpath`), Go 1.21 and Go 1.19 (whose
//! `go`/`defer` wrappers are named like closures), the binary in the
//! workspace.
//!
//! * Unedited source: every inlay hint is on the line the trace recorded
//!   (before the fix, every annotation inside a closure moved by the
//!   distance between the closure's literal and its enclosing `func`).
//! * Lines inserted above functions: annotations move with them.
//! * A line inserted inside `main` above the fetcher's literal: the
//!   fetcher's annotations are hidden (stale), not shown on a neighbour.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::Client;
use serde_json::{Value, json};

const FILES: &[&str] = &["main.go", "work.go", "server.go"];

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/closures")
}

/// A workspace: the program's sources (edited by `edit`), its trace and
/// its binary (decompressed; `None` when zstd is missing).
struct Ws {
    dir: PathBuf,
}

impl Ws {
    fn new(build: &str, edit: impl Fn(&str, String) -> String) -> Option<Ws> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "goblock-closures-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let src = data().join("src");
        for f in FILES.iter().chain(&["go.mod"]) {
            let text = std::fs::read_to_string(src.join(f)).unwrap();
            std::fs::write(dir.join(f), edit(f, text)).unwrap();
        }
        let (ver, name) = build.split_once('/').unwrap();
        std::fs::copy(
            data().join(ver).join(format!("{name}.trace")),
            dir.join("crawl.trace"),
        )
        .unwrap();
        let bin = dir.join("crawl");
        let ok = std::process::Command::new("zstd")
            .args(["-d", "-q", "-f", "-o"])
            .arg(&bin)
            .arg(data().join(ver).join(format!("{name}.bin.zst")))
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("zstd not available: skipped");
            return None;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Some(Ws {
            dir: std::fs::canonicalize(&dir).unwrap(),
        })
    }

    fn uri(&self, f: &str) -> String {
        goblock_server::uri::from_path(&self.dir.join(f))
    }
}

impl Drop for Ws {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The recorded path prefix of a build (absolute unless `-trimpath`),
/// substituted by the workspace so that the result does not depend on
/// whether `gen.sh` left its build directory on this machine.
fn options(ws: &Ws) -> Value {
    json!({"goblock": {
        "debounceMs": 100,
        "substitutePath": [{"from": "/tmp/goblock-fixtures/src/crawl", "to": ws.dir}],
    }})
}

/// Per file: the recorded lines whose hint must show (≥ 1 ms, the hint
/// threshold; lines within rounding of it are left out), from
/// `goblock.hotLines`; and whether the binary was used.
async fn recorded(c: &mut Client, ws: &Ws) -> (Vec<(String, BTreeSet<u64>, BTreeSet<u64>)>, Value) {
    let s = c.command("goblock.hotLines", json!([100000])).await;
    let mut out = Vec::new();
    for f in FILES {
        let path = ws.dir.join(f);
        let mut sure = BTreeSet::new();
        let mut borderline = BTreeSet::new();
        for l in s["lines"].as_array().unwrap() {
            if Path::new(l["file"].as_str().unwrap()) != path {
                continue;
            }
            let ms = l["totalMs"].as_f64().unwrap();
            let line = l["line"].as_u64().unwrap();
            if (ms - 1.0).abs() <= 0.01 {
                borderline.insert(line);
            } else if ms > 1.0 {
                sure.insert(line);
            }
        }
        out.push((f.to_string(), sure, borderline));
    }
    (out, s)
}

/// 1-based lines of the inlay hints of an opened file.
async fn hint_lines(c: &mut Client, ws: &Ws, f: &str) -> BTreeSet<u64> {
    let uri = ws.uri(f);
    let text = std::fs::read_to_string(ws.dir.join(f)).unwrap();
    c.open(&uri, &text, 1);
    c.inlay_hints(&uri)
        .await
        .iter()
        .map(|h| h["position"]["line"].as_u64().unwrap() + 1)
        .collect()
}

fn marker_line(f: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(data().join("src").join(f)).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

async fn start(ws: &Ws) -> Option<Client> {
    let mut c = Client::start();
    c.initialize(&ws.dir, options(ws)).await;
    c.loaded().await;
    let s = c.command("goblock.hotLines", json!([1])).await;
    assert_eq!(
        s["traces"][0]["symbolization"], "dwarf",
        "the committed binary must be used: {:#}",
        s["traces"][0]
    );
    Some(c)
}

/// Go 1.19 names the wrappers of `go f(x)` and `defer x.Close()` like
/// closures (`main.main.func1`, `main.serve.func1.1`), at the statement's
/// line; Go 1.21+ says `gowrapN`/`deferwrapN`.
const BUILDS: &[&str] = &[
    "go1.26/crawl",
    "go1.26/crawl-trimpath",
    "go1.21/crawl",
    "go1.19/crawl",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unedited_closures_stay_on_their_recorded_lines() {
    for build in BUILDS {
        let Some(ws) = Ws::new(build, |_, t| t) else {
            return;
        };
        let Some(mut c) = start(&ws).await else {
            return;
        };
        let (want, status) = recorded(&mut c, &ws).await;
        for (f, sure, borderline) in &want {
            let got = hint_lines(&mut c, &ws, f).await;
            let extra: Vec<_> = got
                .difference(sure)
                .filter(|l| !borderline.contains(l))
                .collect();
            let missing: Vec<_> = sure.difference(&got).collect();
            assert!(
                extra.is_empty() && missing.is_empty(),
                "{build} {f}: hints on {extra:?} not recorded, recorded {missing:?} without hint\n{status:#}"
            );
        }
        // The case: the fetcher's wait, 4 lines into the closure
        // that starts 40 lines below `func main`.
        let fetch = marker_line("main.go", "rd.ReadString");
        assert_eq!(fetch, 95);
        assert!(want[0].1.contains(&fetch), "{build}: {status:#}");
        let h = c.hover(&ws.uri("main.go"), fetch as u32 - 1).await;
        let md = h["contents"]["value"].as_str().unwrap_or_default();
        assert!(md.contains("main.main.func"), "{build}: {md}");
        assert!(!md.contains("moved"), "{build}: {md}");
        c.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closures_follow_lines_inserted_above_their_function() {
    let runworkers = marker_line("work.go", "func runWorkers(");
    for build in BUILDS {
        // The recorded lines, from the unedited program.
        let Some(ws) = Ws::new(build, |_, t| t) else {
            return;
        };
        let Some(mut c) = start(&ws).await else {
            return;
        };
        let (want, _) = recorded(&mut c, &ws).await;
        c.shutdown().await;
        drop(ws);
        // Three lines above everything in main.go; two above runWorkers.
        let Some(ws) = Ws::new(build, |f, t| match f {
            "main.go" => {
                format!("// Copyright the crawl authors.\n// Licensed as the rest.\n\n{t}")
            }
            "work.go" => t.replace(
                "// runWorkers runs",
                "// workers is the pool size.\nconst workers = 3\n\n// runWorkers runs",
            ),
            _ => t,
        }) else {
            return;
        };
        let Some(mut c) = start(&ws).await else {
            return;
        };
        for (f, sure, borderline) in &want {
            let shift = |l: u64| match f.as_str() {
                "main.go" => l + 3,
                "work.go" if l >= runworkers => l + 3,
                _ => l,
            };
            let sure: BTreeSet<u64> = sure.iter().map(|&l| shift(l)).collect();
            let borderline: BTreeSet<u64> = borderline.iter().map(|&l| shift(l)).collect();
            let got = hint_lines(&mut c, &ws, f).await;
            let extra: Vec<_> = got
                .difference(&sure)
                .filter(|l| !borderline.contains(l))
                .collect();
            let missing: Vec<_> = sure.difference(&got).collect();
            assert!(
                extra.is_empty() && missing.is_empty(),
                "{build} {f}: unexpected hints {extra:?}, missing {missing:?}"
            );
        }
        c.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closure_moved_inside_its_function_is_stale() {
    let fetch = marker_line("main.go", "rd.ReadString");
    let send = marker_line("main.go", "pages <- page{");
    let Some(ws) = Ws::new("go1.26/crawl", |f, t| match f {
        "main.go" => t.replacen("\tflag.Parse()\n", "\tflag.Parse()\n\tlog.SetFlags(0)\n", 1),
        _ => t,
    }) else {
        return;
    };
    let Some(mut c) = start(&ws).await else {
        return;
    };
    let got = hint_lines(&mut c, &ws, "main.go").await;
    // Neither where the trace recorded them (now the line above) nor
    // guessed: hidden.
    for l in [fetch, send] {
        assert!(!got.contains(&l), "hint left on line {l}: {got:?}");
    }
    let h = c.hover(&ws.uri("main.go"), fetch as u32 - 1).await;
    let md = h["contents"]["value"].as_str().unwrap_or_default();
    assert!(md.contains("stale"), "{md}");
    // The stage's closure, in a function above the edit, keeps its lines.
    let stage = marker_line("main.go", "out <- p");
    assert!(got.contains(&stage), "{got:?}");
    c.shutdown().await;
}

/// Every link of a hover (markdown `file://…#Ln`) and every related
/// location of a diagnostic that points into `uri`: (0-based line as
/// given, where it came from).
fn links_into(uri: &str, hovers: &[String], diags: &Value) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let pat = format!("]({uri}#L");
    for md in hovers {
        let mut rest = md.as_str();
        while let Some(i) = rest.find(&pat) {
            rest = &rest[i + pat.len()..];
            let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            out.push((n.parse::<u64>().unwrap() - 1, "hover".to_string()));
        }
    }
    for d in diags["diagnostics"].as_array().into_iter().flatten() {
        for r in d["relatedInformation"].as_array().into_iter().flatten() {
            if r["location"]["uri"] == uri {
                let l = r["location"]["range"]["start"]["line"].as_u64().unwrap();
                out.push((
                    l,
                    format!("related of line {}", d["range"]["start"]["line"]),
                ));
            }
        }
    }
    out
}

/// Issue 13 §4: after unsaved edits that move lines (lines inserted above
/// a function, and inside a closure above a waker), every surface shows
/// today's lines: the hover's waker / creation-site links and the
/// diagnostics' related locations point at the line that holds the
/// recorded statement now, and `goblock.hotLines` gives the lines where
/// they are shown (`line`) beside the recorded ones (`recordedLine`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_and_hot_lines_follow_unsaved_edits() {
    let Some(ws) = Ws::new("go1.26/crawl", |_, t| t) else {
        return;
    };
    let mut c = Client::start();
    c.initialize_as(
        &ws.dir,
        options(&ws),
        json!({"name": "Visual Studio Code"}),
        json!(["markdown", "plaintext"]),
    )
    .await;
    c.loaded().await;
    let uri = ws.uri("main.go");
    let orig = std::fs::read_to_string(ws.dir.join("main.go")).unwrap();
    let orig_lines: Vec<&str> = orig.lines().collect();
    c.open(&uri, &orig, 1);
    let diags = c.diagnostics(&uri, |p| p["version"] == 1).await;
    let annotated: Vec<u64> = diags["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    let mut hovers = Vec::new();
    for &l in &annotated {
        let h = c.hover(&uri, l as u32).await;
        hovers.push(
            h["contents"]["value"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let before = links_into(&uri, &hovers, &diags);
    assert!(
        !before.is_empty(),
        "the fixture must link lines of main.go to main.go: {diags:#}"
    );
    for (l, from) in &before {
        assert!(
            orig_lines[*l as usize].contains(|c: char| c.is_alphanumeric()),
            "{from}: links to a line without code: {l}"
        );
    }
    let hot = c.command("goblock.hotLines", json!([1000])).await;
    let hot_main = |hot: &Value| -> Vec<(u64, u64)> {
        hot["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["uri"] == uri)
            .map(|l| {
                (
                    l["recordedLine"].as_u64().unwrap(),
                    l["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let hot_before = hot_main(&hot);
    assert!(hot_before.iter().all(|(r, l)| r == l), "{hot_before:?}");

    // Unsaved: two lines above everything, one inside the collector
    // closure (above `close(done)`, a waker of `<-done`).
    let close = marker_line("main.go", "close(done)") as u32 - 1;
    c.drain();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": close, "character": 0}, "end": {"line": close, "character": 0}},
             "text": "\t\tlog.Print(\"collected\")\n"},
            {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
             "text": "// Copyright the crawl authors.\n\n"},
        ]}),
    );
    let mut now = orig_lines.clone();
    now.insert(close as usize, "\t\tlog.Print(\"collected\")");
    now.insert(0, "");
    now.insert(0, "// Copyright the crawl authors.");
    let diags = c.diagnostics(&uri, |p| p["version"] == 2).await;
    let mut hovers = Vec::new();
    for d in diags["diagnostics"].as_array().unwrap() {
        let l = d["range"]["start"]["line"].as_u64().unwrap();
        let h = c.hover(&uri, l as u32).await;
        hovers.push(
            h["contents"]["value"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let after = links_into(&uri, &hovers, &diags);
    assert_eq!(after.len(), before.len(), "{before:?} → {after:?}");
    let recorded: BTreeSet<&str> = before
        .iter()
        .map(|(l, _)| orig_lines[*l as usize])
        .collect();
    for (l, from) in &after {
        let text = now.get(*l as usize).copied().unwrap_or("<past the end>");
        assert!(
            recorded.contains(text),
            "{from}: links to line {} `{text}`, which holds no recorded statement",
            l + 1
        );
    }
    // The waker `close(done)` itself moved by 3: its links follow it.
    if before.iter().any(|(l, _)| *l == u64::from(close)) {
        assert!(
            after.iter().any(|(l, _)| *l == u64::from(close) + 3),
            "{after:?}"
        );
    }
    let hot = c.command("goblock.hotLines", json!([1000])).await;
    let hot_after = hot_main(&hot);
    assert_eq!(hot_after.len(), hot_before.len(), "{hot:#}");
    for (recorded, line) in hot_after {
        assert_eq!(
            now[line as usize - 1],
            orig_lines[recorded as usize - 1],
            "hotLines: recorded {recorded} shown at {line}"
        );
    }
    c.shutdown().await;
}

/// Issue 13 §4: a closed file's diagnostics whose related information
/// links into another file (a waker, a creation site) are republished when
/// that file is edited in the editor, with the links on today's lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_files_links_follow_an_edited_open_file() {
    let Some(ws) = Ws::new("go1.26/crawl", |_, t| t) else {
        return;
    };
    let Some(c) = start(&ws).await else {
        return;
    };
    // (closed file, linked file, 0-based linked line) of every related
    // location between two files, as published for the closed files.
    let related = |f: &str, d: &Value| -> Vec<(String, String, u64)> {
        let mut out = Vec::new();
        for d in d["diagnostics"].as_array().into_iter().flatten() {
            for r in d["relatedInformation"].as_array().into_iter().flatten() {
                let to = r["location"]["uri"].as_str().unwrap();
                if let Some(g) = FILES.iter().find(|g| ws.uri(g) == to && **g != f) {
                    let l = r["location"]["range"]["start"]["line"].as_u64().unwrap();
                    out.push((f.to_string(), g.to_string(), l));
                }
            }
        }
        out
    };
    let mut links = Vec::new();
    for f in FILES {
        let d = c.diagnostics(&ws.uri(f), |p| p["version"].is_null()).await;
        links.extend(related(f, &d));
    }
    let Some((f, g, line)) = links.first().cloned() else {
        panic!("the fixture must link one file's lines from another's diagnostics");
    };
    let g_text = std::fs::read_to_string(ws.dir.join(&g)).unwrap();
    c.open(&ws.uri(&g), &g_text, 1);
    c.drain();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": ws.uri(&g), "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
             "text": "// Copyright the crawl authors.\n\n"},
        ]}),
    );
    let d = c.diagnostics(&ws.uri(&f), |p| p["version"].is_null()).await;
    let now: Vec<u64> = related(&f, &d)
        .into_iter()
        .filter(|l| l.1 == g)
        .map(|l| l.2)
        .collect();
    assert!(
        now.contains(&(line + 2)),
        "{f} → {g}:{} now {now:?}",
        line + 1
    );
    let was: Vec<u64> = links
        .iter()
        .filter(|l| l.0 == f && l.1 == g)
        .map(|l| l.2)
        .collect();
    let moved: Vec<u64> = was.iter().map(|l| l + 2).collect();
    assert_eq!(now, moved, "every link into {g} moves by the two lines");
    c.shutdown().await;
}

/// Issue 13 §3 (server URIs): a workspace the client opened through a
/// symlink gets every file under the link's name — closed files'
/// diagnostics, `goblock.hotLines`, hover links — never a second name for
/// the same file (the editor would open a second buffer); the files still
/// get their annotations when opened under either name.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_opened_through_a_symlink_keeps_its_names() {
    let Some(ws) = Ws::new("go1.26/crawl", |_, t| t) else {
        return;
    };
    let link = ws.dir.with_extension("link");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&ws.dir, &link).unwrap();
    let link_uri = goblock_server::uri::from_path(&link);
    let real_uri = goblock_server::uri::from_path(&ws.dir);
    let mut c = Client::start();
    c.initialize_as(
        &link,
        options(&ws),
        json!({"name": "Visual Studio Code"}),
        json!(["markdown", "plaintext"]),
    )
    .await;
    c.loaded().await;
    let main_uri = format!("{link_uri}/main.go");
    let closed = c
        .diagnostics(&main_uri, |p| {
            p["diagnostics"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    let s = c.command("goblock.hotLines", json!([1000])).await;
    let in_ws: Vec<&Value> = s["lines"]
        .as_array()
        .unwrap()
        .iter()
        .chain(s["files"].as_array().unwrap())
        .filter(|l| l["inWorkspace"] == true)
        .collect();
    assert!(!in_ws.is_empty(), "{s:#}");
    for l in &in_ws {
        let uri = l["uri"].as_str().unwrap();
        assert!(uri.starts_with(&format!("{link_uri}/")), "{l:#}");
        assert!(
            l["file"]
                .as_str()
                .unwrap()
                .starts_with(link.to_str().unwrap()),
            "{l:#}"
        );
    }
    // Opened under the link's name: hints, and hover links through it.
    let text = std::fs::read_to_string(ws.dir.join("main.go")).unwrap();
    c.open(&main_uri, &text, 1);
    let hints = c.inlay_hints(&main_uri).await;
    assert!(!hints.is_empty());
    let n = closed["diagnostics"].as_array().unwrap().len();
    let mut linked = 0;
    for d in closed["diagnostics"].as_array().unwrap() {
        let l = d["range"]["start"]["line"].as_u64().unwrap() as u32;
        let h = c.hover(&main_uri, l).await;
        let md = h["contents"]["value"].as_str().unwrap_or_default();
        assert!(!md.contains(&format!("{real_uri}/")), "{md}");
        linked += md.matches(&format!("]({link_uri}/")).count();
    }
    assert!(linked > 0, "no hover links among {n} lines");
    // Opened under the real name too: the same annotations.
    let real_main = format!("{real_uri}/main.go");
    c.open(&real_main, &text, 1);
    assert_eq!(c.inlay_hints(&real_main).await.len(), hints.len());
    // Nothing was published under the real names.
    let published_real = c
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .filter(|m| {
            let u = m["params"]["uri"].as_str().unwrap_or_default();
            u.starts_with(&format!("{real_uri}/")) && u != real_main
        })
        .count();
    assert_eq!(published_real, 0);
    c.shutdown().await;
    let _ = std::fs::remove_file(&link);
}
