//! The "Protocol extensions" table of `docs/lsp.md` against the serde types
//! of `goblock_server::protocol` and the clients' parsers (as
//! rust-analyzer checks its `lsp-extensions.md`):
//! * every documented field is a field of the message's type, and every
//!   field of the type is documented (from a sample of each type with every
//!   optional field set);
//! * a field the table says a client reads appears in that client's
//!   parser files (`editors/vscode/src/*.ts`, `editors/nvim/lua/goblock/*.lua`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use goblock_server::protocol::*;
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Row {
    message: String,
    field: String,
    clients: Vec<String>,
}

/// The rows of docs/lsp.md's "Protocol extensions" table.
fn documented() -> Vec<Row> {
    let text = std::fs::read_to_string(repo().join("docs/lsp.md")).expect("docs/lsp.md");
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Protocol extensions"))
        .expect("docs/lsp.md has a \"## Protocol extensions\" section");
    let rows: Vec<Row> = section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| message") && !l.starts_with("|---"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert!(cells.len() >= 5, "a row of 5 cells: {l}");
            Row {
                message: cells[0].to_owned(),
                field: cells[1].trim_matches('`').to_owned(),
                clients: cells[3]
                    .split(',')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| c != "—")
                    .collect(),
            }
        })
        .collect();
    assert!(rows.len() > 50, "only {} rows parsed", rows.len());
    rows
}

fn some<T>(v: T) -> Option<T> {
    Some(v)
}

/// A sample of each message with every optional field set, so that its
/// JSON shows every field the type has.
fn samples() -> BTreeMap<&'static str, Value> {
    let failure = Failure {
        path: "/ws/bad.trace".into(),
        message: "m".into(),
    };
    let figures = SampledFigures {
        count: 1,
        total_ns: 2,
        sampled: true,
        label: "l".into(),
    };
    let hot = HotLinesResult {
        loading: true,
        traces: vec![TraceInfo {
            path: "/ws/a.trace".into(),
            go_version: "1.26".into(),
            bytes: 1,
            duration_ms: 1.0,
            episodes: 1,
            symbolization: "dwarf".into(),
            binary: some("/ws/bin".into()),
            notes: vec!["n".into()],
            warnings: vec!["w".into()],
            partial: some(0.5),
        }],
        inputs: vec![InputInfo {
            path: "/ws/g.txt".into(),
            kind: "goroutine-dump".into(),
            bytes: 1,
            goroutines: some(1),
            snapshots: some(1),
            message: some("m".into()),
            deadlock: some(false),
            format: some("proto".into()),
            samples: some(1),
            sampled: some(true),
            symbolization: some("dwarf".into()),
            binary: some("/ws/bin".into()),
            notes: some(vec!["n".into()]),
            warnings: vec!["w".into()],
            lines: some(InputLines {
                user: 1,
                library: 2,
            }),
            label: "l".into(),
        }],
        parked: vec![ParkedLine {
            file: "/ws/a.go".into(),
            uri: "file:///ws/a.go".into(),
            line: 1,
            recorded_line: 1,
            function: "main.f".into(),
            in_workspace: true,
            goroutines: some(1),
            started_here: some(1),
            not_started: some(1),
            statuses: some(vec!["chan receive".into()]),
            flag: some("parked".into()),
            parked_label: some("p".into()),
            block: some(figures.clone()),
            mutex: some(figures),
            label: "l".into(),
        }],
        failures: vec![failure.clone()],
        total_ns: 1,
        total_ms: 1.0,
        total_label: "1 ns".into(),
        categories: vec!["sync".into()],
        lines: vec![HotLine {
            reasons: vec!["chan receive".into()],
            ..Default::default()
        }],
        stale: vec![StaleLine::default()],
        files: vec![HotFile::default()],
        unmapped: vec![UnmappedFile::default()],
    };
    let status = StatusParams {
        state: LoadState::Failed,
        inputs: vec![StatusInput {
            path: "/ws/a.trace".into(),
            kind: "trace".into(),
            go_version: some("1.26".into()),
            count: 1,
            partial: some(0.5),
        }],
        failures: vec![failure.clone()],
        ..Default::default()
    };
    let capture = CaptureInfo {
        dir: "/ws/c".into(),
        trace: "/ws/c/trace".into(),
        binary: some("/ws/c/bin".into()),
        name: "TestX".into(),
        kind: goblock_capture::meta::Kind::Test,
        what: goblock_capture::What::Trace,
        outcome: goblock_capture::Outcome::Passed,
        started: "2026-12-01T21:51:01Z".into(),
        duration_ms: 1,
        trace_bytes: 1,
        warnings: vec!["w".into()],
        loaded: None,
    };
    let listed = CaptureInfo {
        loaded: some(true),
        ..capture.clone()
    };
    let v = |x: Value| x;
    BTreeMap::from([
        (
            "loadTrace args",
            v(json!(LoadTraceArg::Object { path: "p".into() })),
        ),
        ("hotLines args", json!(HotLinesArg::Object { limit: 1 })),
        (
            "load result",
            json!(LoadResult {
                loaded: vec!["/ws/a.trace".into()],
                failures: vec![failure],
                summary: "s".into(),
            }),
        ),
        ("superseded", json!(Superseded::new())),
        ("hotLines result", json!(hot)),
        (
            "goroutines args",
            json!(GoroutinesArg {
                uri: "file:///ws/a.go".into(),
                line: 1,
            }),
        ),
        (
            "goroutines result",
            json!(GoroutinesResult {
                file: "/ws/a.go".into(),
                uri: "file:///ws/a.go".into(),
                line: 2,
                function: some("main.f".into()),
                goroutines: 1,
                profiled: 1,
                label: "l".into(),
                groups: vec![GoroutineGroup {
                    count: 1,
                    status: "chan receive".into(),
                    input: "hang.txt".into(),
                    creator: some(GoroutineCreator {
                        function: some("main.main".into()),
                        file: "/ws/a.go".into(),
                        uri: some("file:///ws/a.go".into()),
                        line: some(3),
                        label: "a.go:3".into(),
                    }),
                    labels: vec!["k=v".into()],
                    label: "l".into(),
                }],
                rows: vec![GoroutineRow {
                    id: 18,
                    status: "chan receive".into(),
                    minutes: some(3),
                    parent: some(1),
                    group: 0,
                    label: "l".into(),
                }],
            }),
        ),
        ("goblock/status", json!(status)),
        (
            "captureTest args",
            json!(CaptureTestParams {
                uri: "file:///ws/a_test.go".into(),
                name: some("TestX".into()),
                line: some(1),
            }),
        ),
        (
            "captureService args",
            json!(CaptureServiceParams {
                url: "h:1".into(),
                seconds: 1.0,
                what: goblock_capture::What::Block,
            }),
        ),
        (
            "loadCapture args",
            json!(LoadCaptureParams {
                dir: "/ws/c".into()
            }),
        ),
        (
            "capture result",
            json!(CaptureResult {
                capture,
                message: "m".into(),
                loaded: true,
            }),
        ),
        (
            "captures result",
            json!(CapturesResult {
                root: "/ws".into(),
                fallback: some("f".into()),
                running: some("r".into()),
                captures: vec![listed],
            }),
        ),
        (
            "cancelCapture result",
            json!(CancelCaptureResult { cancelled: true }),
        ),
        (
            "capture error data",
            json!(CaptureErrorData {
                reason: FailReason::Busy,
                running: some("r".into()),
            }),
        ),
    ])
}

/// Every leaf field path of `v` (`a[].b.c`); arrays by their first element.
fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match x {
                    Value::Object(_) => paths(x, &p, out),
                    Value::Array(a) if a.first().is_some_and(Value::is_object) => {
                        paths(&a[0], &format!("{p}[]"), out)
                    }
                    _ => {
                        out.insert(p);
                    }
                }
            }
        }
        _ => panic!("a message is an object: {v}"),
    }
}

/// Where a field the docs list for `captures result` as `captures[].loaded`
/// stands for every capture field (documented once under `capture.…`).
fn documented_as(message: &str, path: &str) -> (String, String) {
    if message == "captures result"
        && let Some(f) = path.strip_prefix("captures[].")
        && f != "loaded"
    {
        return ("capture result".into(), format!("capture.{f}"));
    }
    (message.into(), path.into())
}

#[test]
fn the_table_lists_every_field_of_every_message() {
    let rows = documented();
    let docs: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.message.clone(), r.field.clone()))
        .collect();
    let samples = samples();
    let mut missing = Vec::new();
    let mut typed = BTreeSet::new();
    for (message, sample) in &samples {
        assert!(
            !sample.to_string().contains("null"),
            "the sample of {message} leaves a field unset: {sample}"
        );
        let mut ps = BTreeSet::new();
        paths(sample, "", &mut ps);
        for p in ps {
            let key = documented_as(message, &p);
            if !docs.contains(&key) {
                missing.push(format!("{message}: {p}"));
            }
            typed.insert(key);
        }
    }
    assert!(
        missing.is_empty(),
        "fields of protocol.rs that docs/lsp.md's table does not list:\n{}",
        missing.join("\n")
    );
    let unknown: Vec<String> = docs
        .iter()
        .filter(|(m, f)| !typed.contains(&(m.clone(), f.clone())))
        .map(|(m, f)| format!("{m}: {f}"))
        .collect();
    assert!(
        unknown.is_empty(),
        "fields docs/lsp.md lists that protocol.rs does not have (or a message the test has no sample of):\n{}",
        unknown.join("\n")
    );
}

/// The text of a client's parser files.
fn client_sources(client: &str) -> String {
    let (dir, ext) = match client {
        "vscode" => ("editors/vscode/src", "ts"),
        "nvim" => ("editors/nvim/lua/goblock", "lua"),
        other => panic!("unknown client {other:?} in docs/lsp.md's \"read by\" column"),
    };
    let mut text = String::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    for f in files {
        text.push_str(&std::fs::read_to_string(&f).unwrap());
        text.push('\n');
    }
    text
}

/// Whether `src` reads (or, for arguments, writes) field `name`:
/// `x.name`, `x['name']`, `x["name"]`, or a key of an object or table
/// literal (`name: …`, `name = …`).
fn reads(src: &str, name: &str) -> bool {
    let bytes = src.as_bytes();
    let mut from = 0;
    while let Some(i) = src[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before = if at == 0 { b' ' } else { bytes[at - 1] };
        let after = bytes.get(at + name.len()).copied().unwrap_or(b' ');
        let word_end = !(after.is_ascii_alphanumeric() || after == b'_');
        if !word_end {
            continue;
        }
        if matches!(before, b'.' | b'\'' | b'"') {
            return true;
        }
        // A key written in an object or table literal: `name: …`, `name = …`.
        let rest = src[at + name.len()..].trim_start_matches(' ');
        let key = rest.starts_with(':') || (rest.starts_with('=') && !rest.starts_with("=="));
        if key && !(before.is_ascii_alphanumeric() || before == b'_') {
            return true;
        }
    }
    false
}

#[test]
fn every_field_a_client_is_said_to_read_is_in_its_parser() {
    let rows = documented();
    let sources: BTreeMap<&str, String> = ["vscode", "nvim"]
        .into_iter()
        .map(|c| (c, client_sources(c)))
        .collect();
    let mut missing = Vec::new();
    for r in &rows {
        let leaf = r.field.rsplit(['.', ']']).next().unwrap_or(&r.field);
        let leaf = leaf.trim_start_matches('[');
        for c in &r.clients {
            let src = sources.get(c.as_str()).unwrap_or_else(|| {
                panic!("unknown client {c:?} in row {}: {}", r.message, r.field)
            });
            if !reads(src, leaf) {
                missing.push(format!("{c} does not read {}: {}", r.message, r.field));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn reads_finds_fields_not_words() {
    assert!(reads("x = r.totalNs + 1", "totalNs"));
    assert!(reads("e['function']", "function"));
    assert!(!reads("local function f()", "function"));
    assert!(!reads("r.totalNsX", "totalNs"));
    assert!(reads("{ url = url, seconds = s }", "url"));
    assert!(reads("[{ url: u, seconds: s }]", "seconds"));
    assert!(!reads("if url == nil", "url"));
    assert!(!reads("myurl: 1", "url"));
}
