//! Goroutine dumps and pprof profiles in the server, end to end over the
//! LSP pipe, on the fixtures of testdata/dumps (made by
//! testdata/programs/parked, testdata/dumps/gen.sh): a workspace holding
//! the program's sources, a goroutine dump, a block and a mutex profile
//! (plus a CPU profile and a text file the globs match, which must not be
//! loaded), found by `goblock.dumps.files` and recognised by content.
//!
//! Checked against oracles that do not use goblock
//! (`tests/support/dumps_oracle.rs`): every line's goroutines in
//! `goblock.hotLines` equal a count made from the dump's text; every line's
//! block and mutex figures equal `go tool pprof -raw` of the profile. The
//! rendered hovers, diagnostics and hints are insta snapshots.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Client, label};
use serde_json::{Value, json};

#[path = "../../../tests/support/dumps_oracle.rs"]
mod oracle;

const ALL_CATEGORIES: &[&str] = &["sync", "net", "syscall", "sched", "sleep", "gc", "other"];

fn dumps_dir(version: &str) -> PathBuf {
    common::repo().join("testdata/dumps").join(version)
}

/// `<tmp>/ws/parked/*.go` + the given inputs copied under `<tmp>/ws/`.
struct Workspace {
    dir: PathBuf,
    ws: PathBuf,
}

impl Workspace {
    fn new(name: &str, inputs: &[(&Path, &str)]) -> Workspace {
        Workspace::of("parked", name, inputs)
    }

    /// `<tmp>/ws/<program>/*.go` (a program of testdata/programs) + inputs.
    fn of(program: &str, name: &str, inputs: &[(&Path, &str)]) -> Workspace {
        let dir =
            std::env::temp_dir().join(format!("goblock-lsp-dumps-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ws = dir.join("ws");
        let prog = ws.join(program);
        std::fs::create_dir_all(&prog).unwrap();
        let src = common::repo().join("testdata/programs").join(program);
        for e in std::fs::read_dir(&src).unwrap().flatten() {
            std::fs::copy(e.path(), prog.join(e.file_name())).unwrap();
        }
        for (from, to) in inputs {
            let to = ws.join(to);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(from, to).unwrap();
        }
        let ws = std::fs::canonicalize(&ws).unwrap();
        Workspace { dir, ws }
    }

    fn uri(&self, rel: &str) -> String {
        goblock_server::uri::from_path(&self.ws.join(rel))
    }

    fn redact(&self, s: &str) -> String {
        s.replace(&goblock_server::uri::from_path(&self.ws), "file://<ws>")
            .replace(&self.ws.display().to_string(), "<ws>")
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `parked/x.go` → `x.go` (the oracles' names).
fn name(file: &str) -> String {
    oracle::program_site(file).unwrap_or_else(|| panic!("not a program file: {file}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dumps_and_profiles_on_every_surface() {
    let d = dumps_dir("go1.26");
    let wsp = Workspace::new(
        "surfaces",
        &[
            (&d.join("goroutine-debug2.txt"), "hang/goroutine-debug2.txt"),
            (&d.join("block.pb.gz"), "profiles/block.pb.gz"),
            (&d.join("mutex.pb.gz"), "profiles/mutex.pb.gz"),
            (&d.join("cpu.pb.gz"), "profiles/cpu.pb.gz"),
        ],
    );
    std::fs::write(wsp.ws.join("notes.dump"), "not a dump at all\n").unwrap();
    let mut c = Client::start();
    c.initialize_as(
        &wsp.ws,
        json!({"goblock": {"debounceMs": 100, "categories": ALL_CATEGORIES}}),
        json!({"name": "Neovim", "version": "0.11.4"}),
        json!(["markdown", "plaintext"]),
    )
    .await;
    c.loaded().await;

    let hot = c
        .command("goblock.hotLines", json!([{"limit": 1000}]))
        .await;
    // The three inputs of our kinds, found by content; the CPU profile and
    // the text file are not loaded.
    let mut kinds: Vec<(String, String)> = hot["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                wsp.redact(i["path"].as_str().unwrap()),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("block-profile".into(), "<ws>/profiles/block.pb.gz".into()),
            (
                "goroutine-dump".into(),
                "<ws>/hang/goroutine-debug2.txt".into()
            ),
            ("mutex-profile".into(), "<ws>/profiles/mutex.pb.gz".into()),
        ],
        "{hot:#}"
    );
    assert_eq!(hot["traces"], json!([]), "{hot:#}");

    // Goroutines per line = the dump's own text; block and mutex figures
    // per line = go tool pprof -raw.
    let text = std::fs::read_to_string(d.join("goroutine-debug2.txt")).unwrap();
    let want_parked = oracle::count_from_text(&text);
    let want_block =
        oracle::raw_oracle(&std::fs::read_to_string(d.join("block.pb.raw.txt")).unwrap());
    let want_mutex =
        oracle::raw_oracle(&std::fs::read_to_string(d.join("mutex.pb.raw.txt")).unwrap());
    let want_started = oracle::started_from_text(&text);
    let mut got_started = BTreeMap::new();
    let mut got_parked = BTreeMap::new();
    let mut got_block = BTreeMap::new();
    let mut got_mutex = BTreeMap::new();
    for l in hot["parked"].as_array().unwrap() {
        if l["inWorkspace"] != true {
            continue; // goroutines with no frame in the program
        }
        let key = (
            name(l["file"].as_str().unwrap()),
            l["line"].as_u64().unwrap() as u32,
        );
        if let Some(n) = l["goroutines"].as_u64() {
            got_parked.insert(key.clone(), n);
            // The row text of each input kind, for clients listing by kind.
            let pl = l["parkedLabel"].as_str().unwrap_or_else(|| panic!("{l:#}"));
            // Goroutines with no program frame are not parked at their `go`
            // statement: the text says where they are.
            match l["startedHere"].as_u64() {
                Some(s) => {
                    got_started.insert(key.clone(), s);
                    assert_eq!(s, n, "{l:#}");
                    assert!(
                        pl.contains(&format!("started here: {n} goroutine"))
                            && pl.contains("parked in library code")
                            && !pl.contains("parked now"),
                        "{l:#}"
                    );
                }
                None => assert!(pl.contains(&format!("parked now: {n} goroutine")), "{l:#}"),
            }
        }
        for k in ["block", "mutex"] {
            if l[k].is_object() {
                let t = l[k]["label"].as_str().unwrap_or_else(|| panic!("{l:#}"));
                assert!(
                    t.ends_with("(sampled)") && l["label"].as_str().unwrap().contains(t),
                    "{l:#}"
                );
            }
        }
        for (k, into) in [("block", &mut got_block), ("mutex", &mut got_mutex)] {
            if l[k].is_object() {
                assert_eq!(l[k]["sampled"], true);
                into.insert(
                    key.clone(),
                    (
                        l[k]["count"].as_u64().unwrap(),
                        l[k]["totalNs"].as_u64().unwrap(),
                    ),
                );
            }
        }
    }
    assert!(want_parked.len() >= 12, "{want_parked:?}");
    assert_eq!(
        got_parked, want_parked,
        "goroutines per line vs the dump's text"
    );
    // `go io.Copy(io.Discard, pr)` and `go (&http.Server{}).Serve(srvLn)`
    // (at least: the text decides which lines).
    assert!(want_started.len() >= 2, "{want_started:?}");
    assert_eq!(
        got_started, want_started,
        "goroutines started here (no program frame) vs the dump's text"
    );
    assert_eq!(
        got_block, want_block,
        "block profile per line vs pprof -raw"
    );
    assert_eq!(
        got_mutex, want_mutex,
        "mutex profile per line vs pprof -raw"
    );

    // Diagnostics of park.go and contend.go, published without opening them.
    let mut rendered = Vec::new();
    for f in ["parked/park.go", "parked/pool.go", "parked/contend.go"] {
        let uri = wsp.uri(f);
        let p = c
            .diagnostics(&uri, |p| !p["diagnostics"].as_array().unwrap().is_empty())
            .await;
        for dg in p["diagnostics"].as_array().unwrap() {
            rendered.push(format!(
                "{f}:{} [{}] {} {}",
                dg["range"]["start"]["line"].as_u64().unwrap() + 1,
                dg["severity"],
                dg["code"].as_str().unwrap_or(""),
                wsp.redact(dg["message"].as_str().unwrap())
            ));
        }
    }
    rendered.sort();
    // A nil channel and select {} are flagged whatever the threshold.
    let markers =
        std::fs::read_to_string(common::repo().join("testdata/dumps/markers.tsv")).unwrap();
    let forever: Vec<u32> = markers
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() > 3
                && f[0] == "parked/park.go"
                && matches!(f[3], "select (no cases)" | "chan receive (nil chan)"))
            .then(|| f[1].parse().unwrap())
        })
        .collect();
    assert_eq!(forever.len(), 2, "{markers}");
    for line in forever {
        assert!(
            rendered.iter().any(|r| r.starts_with(&format!(
                "parked/park.go:{line} [2] goroutine-dump blocked forever"
            ))),
            "{rendered:#?}"
        );
    }
    insta::assert_snapshot!("dumps_diagnostics", rendered.join("\n"));

    // Hints and hovers of opened files.
    let mut hints_out = Vec::new();
    for f in ["parked/pool.go", "parked/contend.go", "parked/park.go"] {
        let uri = wsp.uri(f);
        let src = std::fs::read_to_string(wsp.ws.join(f)).unwrap();
        c.open(&uri, &src, 1);
        for h in c.inlay_hints(&uri).await {
            hints_out.push(format!(
                "{f}:{}: {}",
                h["position"]["line"].as_u64().unwrap() + 1,
                label(&h)
            ));
        }
    }
    insta::assert_snapshot!("dumps_inlay_hints", hints_out.join("\n"));

    let hover = |h: &Value| wsp.redact(h["contents"]["value"].as_str().unwrap_or(""));
    let pool = c.hover(&wsp.uri("parked/pool.go"), 26).await;
    let pool = hover(&pool);
    // The group of the idle workers with their ids as the dump prints them.
    let ids = worker_ids(&text, "pool.go:27");
    assert_eq!(ids.len() as u64, want_parked[&("pool.go".to_owned(), 27)]);
    let first_last = format!(
        "× goroutines {}–{} (chan receive)",
        ids[0],
        ids[ids.len() - 1]
    );
    assert!(
        pool.replace('\\', "").contains(&first_last),
        "{first_last}: {pool}"
    );
    assert!(pool.contains(&format!("**{}**", ids.len())), "{pool}");
    assert!(pool.contains("created by"), "{pool}");
    insta::assert_snapshot!("dumps_hover_pool", pool);
    let mutex = c.hover(&wsp.uri("parked/contend.go"), 19).await;
    let mutex = hover(&mutex);
    assert!(mutex.contains("where contention"), "{mutex}");
    assert!(mutex.contains("sampled"), "{mutex}");
    insta::assert_snapshot!("dumps_hover_mutex", mutex);
    // The go statement of library code: its goroutines are started there,
    // not parked there.
    let park = std::fs::read_to_string(wsp.ws.join("parked/park.go")).unwrap();
    let copy_line = park
        .lines()
        .position(|l| l.contains("go io.Copy(io.Discard, pr)"))
        .unwrap();
    let copy = c.hover(&wsp.uri("parked/park.go"), copy_line as u32).await;
    let copy = hover(&copy);
    let n = want_started[&("park.go".to_owned(), copy_line as u32 + 1)];
    assert!(
        copy.contains(&format!(
            "started here: **{n}** goroutines parked in library code"
        )) && copy.contains("no frame in the program")
            && !copy.contains("parked now"),
        "{copy}"
    );
    insta::assert_snapshot!("dumps_hover_started_here", copy);
    c.shutdown().await;
}

/// A panic right after `go` statements (testdata/programs/notstarted):
/// the goroutines that had not run are said to be created at the
/// statement and not started yet, in the hover, the hint and hotLines —
/// counted here from the dump's own text (`oracle::not_started_from_text`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goroutines_not_started_yet_are_said_so_at_their_go_statement() {
    let dump = common::repo().join("testdata/dumps/notstarted/go1.26-panic-all.txt");
    let text = std::fs::read_to_string(&dump).unwrap();
    let want = oracle::not_started_from_text(&text);
    assert_eq!(want.len(), 2, "{want:?}");
    let wsp = Workspace::of("notstarted", "notstarted", &[(&dump, "panic.txt")]);
    let mut c = Client::started(
        &wsp.ws,
        json!({"goblock": {"debounceMs": 100, "categories": ALL_CATEGORIES}}),
    )
    .await;
    let hot = c
        .command("goblock.hotLines", json!([{"limit": 1000}]))
        .await;
    let uri = wsp.uri("notstarted/main.go");
    let src = std::fs::read_to_string(wsp.ws.join("notstarted/main.go")).unwrap();
    c.open(&uri, &src, 1);
    let hints = c.inlay_hints(&uri).await;
    for (&line, &n) in &want {
        let row = hot["parked"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["line"] == line && r["uri"] == uri)
            .unwrap_or_else(|| panic!("no row at {line}: {hot:#}"));
        assert_eq!(row["notStarted"], n, "{row:#}");
        assert_eq!(row["goroutines"], n, "{row:#}");
        let hover = c.hover(&uri, line - 1).await;
        let hover = wsp.redact(hover["contents"]["value"].as_str().unwrap_or(""));
        assert!(
            hover.contains(&format!(
                "created here: **{n}** goroutines, not started yet"
            )) && hover.contains("not started when the dump was taken")
                && !hover.contains("parked now")
                && !hover.contains("started here")
                && !hover.contains("Blocked in"),
            "{hover}"
        );
        let hint = hints
            .iter()
            .find(|h| h["position"]["line"] == line - 1)
            .map(label)
            .unwrap_or_default();
        assert!(
            hint.contains(&format!("created here: {n} goroutines, not started yet")),
            "{hint}"
        );
        if line == 23 {
            insta::assert_snapshot!("dumps_hover_not_started", hover);
        }
    }
    c.shutdown().await;
}

/// Ids of the goroutines whose first program frame is at `site`
/// (`pool.go:27`), from the dump's text.
fn worker_ids(text: &str, site: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut id = None;
    let mut found = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("goroutine ")
            && line.ends_with(':')
        {
            id = rest.split(' ').next().and_then(|x| x.parse::<u64>().ok());
            found = false;
            continue;
        }
        if found || id.is_none() {
            continue;
        }
        if let Some(pos) = line.strip_prefix('\t') {
            let pos = pos.split(' ').next().unwrap_or(pos);
            if pos.contains("/parked/") {
                found = true;
                if pos.ends_with(&format!("/parked/{site}")) {
                    out.extend(id);
                }
            }
        }
    }
    out.sort_unstable();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_flags_every_parked_line_and_a_test_timeout_shows_its_panic() {
    let d = dumps_dir("go1.26");
    for (dump, line0, want_sev, want) in [
        ("deadlock.txt", 42, 1, "deadlock"),
        ("test-timeout.txt", 20, 4, "panic: test timed out"),
    ] {
        let wsp = Workspace::new("deadlock", &[(&d.join(dump), dump)]);
        let mut c = Client::start();
        // Default categories: sleep and IO waits of a deadlock are flagged
        // anyway.
        c.initialize(
            &wsp.ws,
            json!({"goblock": {"debounceMs": 100, "dumps": {"files": ["*.txt"]}}}),
        )
        .await;
        c.loaded().await;
        let file = if dump == "deadlock.txt" {
            "parked/main.go"
        } else {
            "parked/parked_test.go"
        };
        let uri = wsp.uri(file);
        let p = c
            .diagnostics(&uri, |p| !p["diagnostics"].as_array().unwrap().is_empty())
            .await;
        let dg = p["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|dg| dg["range"]["start"]["line"] == line0)
            .unwrap_or_else(|| panic!("{dump}: no diagnostic at {}: {p:#}", line0 + 1))
            .clone();
        assert_eq!(dg["severity"], want_sev, "{dump}: {dg}");
        let src = std::fs::read_to_string(wsp.ws.join(file)).unwrap();
        c.open(&uri, &src, 1);
        let h = c.hover(&uri, line0).await;
        let h = h["contents"]["value"].as_str().unwrap_or("").to_owned();
        assert!(h.contains(want), "{dump}: {h}: {dg}");
        if dump == "deadlock.txt" {
            // Every parked line of the program is flagged as an error.
            let park = c
                .diagnostics(&wsp.uri("parked/park.go"), |p| {
                    !p["diagnostics"].as_array().unwrap().is_empty()
                })
                .await;
            let errors = park["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|dg| dg["severity"] == 1)
                .count();
            assert!(errors >= 5, "{park:#}");
        }
        c.shutdown().await;
    }
}

/// A mutex profile of Go's own sync tests (testdata/dumps/std) has only
/// standard-library lines: nothing to annotate in the workspace, and the
/// status says so (`lines`, the label) instead of showing nothing without a
/// word. The program's own block profile beside it is the control.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_of_library_code_only_says_so() {
    let std_mutex = common::repo().join("testdata/dumps/std/sync-mutex.pprof");
    let block = dumps_dir("go1.26").join("block.pb.gz");
    let wsp = Workspace::new(
        "library-only",
        &[
            (&std_mutex, "profiles/sync-mutex.pprof"),
            (&block, "profiles/block.pb.gz"),
        ],
    );
    let mut c = Client::started(
        &wsp.ws,
        json!({"goblock": {"debounceMs": 100, "categories": ALL_CATEGORIES}}),
    )
    .await;
    let hot = c
        .command("goblock.hotLines", json!([{"limit": 1000}]))
        .await;
    let inputs = hot["inputs"].as_array().unwrap();
    let input = |kind: &str| {
        inputs
            .iter()
            .find(|i| i["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}: {hot:#}"))
    };
    let m = input("mutex-profile");
    assert_eq!(m["lines"]["user"], 0, "{m:#}");
    assert!(m["lines"]["library"].as_u64().unwrap() > 1, "{m:#}");
    assert!(
        m["label"]
            .as_str()
            .unwrap()
            .ends_with(" · all in library code"),
        "{m:#}"
    );
    let b = input("block-profile");
    assert!(b["lines"]["user"].as_u64().unwrap() > 0, "{b:#}");
    assert!(!b["label"].as_str().unwrap().contains("library"), "{b:#}");
    // Nothing of the mutex profile is annotated in the workspace.
    assert!(
        hot["parked"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["mutex"].is_null() || l["inWorkspace"] == false),
        "{hot:#}"
    );
    c.shutdown().await;
}

/// A dump's `parked` rows in `goblock.hotLines` name files as the client
/// does (a workspace opened through a symlink keeps the link's name) and
/// follow unsaved edits like the trace's rows: `line` now, `recordedLine`
/// as dumped; a row whose line was edited goes to `stale`. The hover's
/// "created at" names the workspace file by its path below the root.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_rows_follow_edits_and_the_clients_names() {
    let d = dumps_dir("go1.26");
    let wsp = Workspace::new(
        "parked-rows",
        &[(&d.join("goroutine-debug2.txt"), "hang/goroutine-debug2.txt")],
    );
    let link = wsp.dir.join("link");
    std::os::unix::fs::symlink(&wsp.ws, &link).unwrap();
    let mut c = Client::started(
        &link,
        json!({"goblock": {"debounceMs": 100, "categories": ALL_CATEGORIES}}),
    )
    .await;
    let rows = |hot: &Value, key: &str| -> Vec<(String, String, u64, u64)> {
        let mut v: Vec<(String, String, u64, u64)> = hot[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["file"].as_str().unwrap().to_owned(),
                    r["uri"].as_str().unwrap().to_owned(),
                    r["recordedLine"].as_u64().unwrap(),
                    r["line"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        v.sort();
        v
    };
    let hot = c
        .command("goblock.hotLines", json!([{"limit": 1000}]))
        .await;
    let before = rows(&hot, "parked");
    let pool: Vec<&(String, String, u64, u64)> = before
        .iter()
        .filter(|r| r.0.ends_with("/parked/pool.go"))
        .collect();
    assert!(pool.len() >= 2, "{hot:#}");
    let link_s = link.to_string_lossy().into_owned();
    for (file, uri, recorded, line) in &before {
        if file.contains("/parked/") {
            assert!(
                file.starts_with(&link_s),
                "{file} not named through {link_s}"
            );
            assert_eq!(*uri, goblock_server::uri::from_path(Path::new(file)));
        }
        assert_eq!(recorded, line, "unedited: {file}");
    }
    // Unsaved: two lines at the top of pool.go, and the first parked line
    // of pool.go rewritten.
    let uri = goblock_server::uri::from_path(&link.join("parked/pool.go"));
    let text = std::fs::read_to_string(link.join("parked/pool.go")).unwrap();
    c.open(&uri, &text, 1);
    // The pool's workers, created by NewPool (as in the hover snapshot).
    let hover = c.hover(&uri, 26).await;
    let md = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        md.contains("created by `main.NewPool` at [parked/pool.go:25]("),
        "a workspace creator is named below the root: {md}"
    );
    let edited = pool[0].2 as u32 - 1;
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": edited, "character": 0}, "end": {"line": edited + 1, "character": 0}},
             "text": "\t// rewritten\n"},
            {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
             "text": "// one\n// two\n"},
        ]}),
    );
    let hot = c
        .command("goblock.hotLines", json!([{"limit": 1000}]))
        .await;
    let after = rows(&hot, "parked");
    for (file, _, recorded, line) in &after {
        let want = if file.ends_with("/parked/pool.go") {
            recorded + 2
        } else {
            *recorded
        };
        assert_eq!(*line, want, "{file}:{recorded}");
    }
    assert_eq!(after.len() + 1, before.len(), "{hot:#}");
    let stale = rows(&hot, "stale");
    assert!(
        stale
            .iter()
            .any(|r| r.0.ends_with("/parked/pool.go") && r.2 == pool[0].2),
        "{hot:#}"
    );
    c.shutdown().await;
}

/// A dump group's creator (its `go` statement) in the hover follows unsaved
/// edits as the parked lines do: moved with the lines above it, and said
/// to be edited, not named by a line, once the statement itself is
/// rewritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creator_sites_in_the_hover_follow_edits() {
    let d = dumps_dir("go1.26");
    let wsp = Workspace::new(
        "creator-edits",
        &[(&d.join("goroutine-debug2.txt"), "hang/goroutine-debug2.txt")],
    );
    let mut c = Client::started(
        &wsp.ws,
        json!({"goblock": {"debounceMs": 100, "categories": ALL_CATEGORIES}}),
    )
    .await;
    let _ = c.command("goblock.hotLines", json!([{"limit": 10}])).await;
    let path = wsp.ws.join("parked/pool.go");
    let uri = goblock_server::uri::from_path(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    // pool.go: line 25 `go func(worker int) {`, line 27 the workers' park.
    assert!(
        text.lines()
            .nth(24)
            .is_some_and(|l| l.contains("go func(worker int)"))
    );
    c.open(&uri, &text, 1);
    async fn hover(c: &mut Client, uri: &str, line0: u32) -> String {
        let h = c.hover(uri, line0).await;
        h["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    let md = hover(&mut c, &uri, 26).await;
    assert!(
        md.contains("created by `main.NewPool` at [parked/pool.go:25]("),
        "{md}"
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
             "text": "// one\n// two\n"},
        ]}),
    );
    let md = hover(&mut c, &uri, 28).await;
    assert!(
        md.contains("created by `main.NewPool` at [parked/pool.go:27]("),
        "moved: {md}"
    );
    // The `go` statement (now line 27) rewritten: its line is unknown.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [
            {"range": {"start": {"line": 26, "character": 0}, "end": {"line": 27, "character": 0}},
             "text": "\t\tgo func(worker int) { // rewritten\n"},
        ]}),
    );
    let md = hover(&mut c, &uri, 28).await;
    assert!(
        md.contains("created by `main.NewPool` at `parked/pool.go (line edited since the trace)`"),
        "{md}"
    );
    assert!(
        !md.contains("[parked/pool.go:"),
        "a stale creator named by line: {md}"
    );
    c.shutdown().await;
}

/// One goroutine of a dump's text, read independently of goblock: its id,
/// status, `N minutes`, parent (`in goroutine N`) and the first frame of
/// the program (`main.go:20`, files under `/<program>/`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TextGoroutine {
    site: String,
    id: u64,
    status: String,
    minutes: Option<u64>,
    parent: Option<u64>,
}

fn goroutines_from_text(text: &str, program: &str) -> Vec<TextGoroutine> {
    let mut out = Vec::new();
    let mut cur: Option<TextGoroutine> = None;
    let mut creator_next = false;
    let dir = format!("/{program}/");
    for line in text.lines() {
        // `goroutine 18 [chan receive, 3 minutes]:`, with `gp=… m=… ` before
        // the bracket under GOTRACEBACK=system/crash and in SIGQUIT dumps.
        if let Some(rest) = line.strip_prefix("goroutine ")
            && let Some((id, head)) = rest.split_once(" [")
            && let Ok(id) = id.split(' ').next().unwrap_or("").parse::<u64>()
        {
            out.extend(cur.take().filter(|g| !g.site.is_empty()));
            let head = head.trim_end_matches("]:");
            let mut parts = head.split(", ");
            let status = parts.next().unwrap_or("").to_owned();
            let minutes = parts
                .find_map(|p| p.strip_suffix(" minutes"))
                .and_then(|m| m.parse().ok());
            cur = Some(TextGoroutine {
                site: String::new(),
                id,
                status,
                minutes,
                parent: None,
            });
            continue;
        }
        let Some(g) = cur.as_mut() else { continue };
        if let Some(c) = line.strip_prefix("created by ") {
            g.parent = c
                .split_once(" in goroutine ")
                .and_then(|(_, n)| n.trim().parse().ok());
            creator_next = true;
            continue;
        }
        if let Some(pos) = line.strip_prefix('\t') {
            if std::mem::take(&mut creator_next) || !g.site.is_empty() {
                continue;
            }
            let pos = pos.split(' ').next().unwrap_or(pos);
            if let Some((_, site)) = pos.split_once(&dir) {
                g.site = site.to_owned();
            }
        }
    }
    out.extend(cur.filter(|g| !g.site.is_empty()));
    out
}

/// `goblock.goroutines` rows as `TextGoroutine`s of `site`.
fn rows_of(r: &Value, site: &str) -> Vec<TextGoroutine> {
    let mut v: Vec<TextGoroutine> = r["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no rows: {r:#}"))
        .iter()
        .map(|row| TextGoroutine {
            site: site.to_owned(),
            id: row["id"].as_u64().unwrap(),
            status: row["status"].as_str().unwrap().to_owned(),
            minutes: row["minutes"].as_u64(),
            parent: row["parent"].as_u64(),
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goroutines_lists_every_goroutine_of_a_line_where_the_hover_stops() {
    // runtime.Stack(all) of testdata/programs/manyparked: 240 goroutines
    // in four groups of 60 whose ids interleave (60 id ranges each).
    let dump = common::repo().join("testdata/dumps/manyparked/runtime-stack.txt");
    let text = std::fs::read_to_string(&dump).unwrap();
    let wsp = Workspace::of("manyparked", "many", &[(&dump, "hang.txt")]);
    let mut c = Client::started(
        &wsp.ws,
        json!({"goblock": {"debounceMs": 100, "categories": ALL_CATEGORIES}}),
    )
    .await;
    let want = goroutines_from_text(&text, "manyparked");
    let mut by_site: BTreeMap<String, Vec<TextGoroutine>> = BTreeMap::new();
    for g in &want {
        by_site.entry(g.site.clone()).or_default().push(g.clone());
    }
    assert!(
        by_site.values().filter(|v| v.len() >= 60).count() >= 4,
        "{by_site:#?}"
    );
    let uri = wsp.uri("manyparked/main.go");
    let mut listed = 0;
    for (site, gs) in &by_site {
        let line: u64 = site.strip_prefix("main.go:").unwrap().parse().unwrap();
        if gs.iter().all(|g| g.status == "running") {
            continue; // main itself, writing the dump: not parked
        }
        // The file is not open: the line of the saved file.
        let r = c
            .command(
                "goblock.goroutines",
                json!([{"uri": uri, "line": line - 1}]),
            )
            .await;
        assert_eq!(r["goroutines"], gs.len() as u64, "{site}: {r:#}");
        assert_eq!(rows_of(&r, site), *gs, "{site}: rows vs the dump's text");
        for row in r["rows"].as_array().unwrap() {
            let l = row["label"].as_str().unwrap();
            assert!(l.starts_with(&format!("goroutine {} · ", row["id"])), "{l}");
            assert!(
                l.contains("created by main.main at manyparked/main.go:"),
                "{l}"
            );
            assert!(l.ends_with("(in goroutine 1)"), "{l}");
        }
        listed += gs.len();
    }
    assert_eq!(listed, 240, "every parked goroutine is listed once");

    // Open and edited (3 lines above): the line shown now, as the hover.
    let src = std::fs::read_to_string(wsp.ws.join("manyparked/main.go")).unwrap();
    c.open(&uri, &format!("// a\n// b\n// c\n{src}"), 1);
    let workers = &by_site["main.go:20"];
    let r = c
        .command("goblock.goroutines", json!([{"uri": uri, "line": 19 + 3}]))
        .await;
    assert_eq!(rows_of(&r, "main.go:20"), *workers, "{r:#}");
    assert_eq!(r["line"], 23);
    let hover = c.hover(&uri, 19 + 3).await;
    let hover = hover["contents"]["value"].as_str().unwrap_or("").to_owned();
    // The hover shows 16 id ranges and stops: the command has them all.
    // (Ids follow a space; the link's temp dir holds a pid that may
    // contain the digits of `last`.)
    let last = workers.last().unwrap().id;
    assert!(
        hover.contains('…') && !hover.contains(&format!(" {last}")),
        "{hover}"
    );
    assert!(hover.contains("Show Goroutines Parked Here"), "{hover}");
    let nothing = c
        .command("goblock.goroutines", json!([{"uri": uri, "line": 0}]))
        .await;
    assert_eq!(nothing["goroutines"], 0, "{nothing:#}");
    assert_eq!(nothing["rows"], json!([]));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goroutines_gives_each_goroutine_its_minutes() {
    // A SIGQUIT after 210 s: waits of 3 minutes (and shorter ones).
    let dump = dumps_dir("go1.26").join("sigquit-minutes.txt");
    let text = std::fs::read_to_string(&dump).unwrap();
    let wsp = Workspace::new("minutes", &[(&dump, "hang.txt")]);
    let mut c = Client::started(
        &wsp.ws,
        json!({"goblock": {"debounceMs": 100, "categories": ALL_CATEGORIES}}),
    )
    .await;
    let want: Vec<TextGoroutine> = goroutines_from_text(&text, "parked")
        .into_iter()
        .filter(|g| g.site == "pool.go:27")
        .collect();
    assert!(want.iter().any(|g| g.minutes.is_some()), "{want:#?}");
    let r = c
        .command(
            "goblock.goroutines",
            json!([{"uri": wsp.uri("parked/pool.go"), "line": 26}]),
        )
        .await;
    assert_eq!(rows_of(&r, "pool.go:27"), want, "{r:#}");
    for row in r["rows"].as_array().unwrap() {
        if let Some(m) = row["minutes"].as_u64() {
            let l = row["label"].as_str().unwrap();
            assert!(l.contains(&format!(" · {m} min")), "{l}");
        }
    }
    c.shutdown().await;
}
