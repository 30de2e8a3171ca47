//! The two snippets of docs/capture.md ("Programs") are the code of
//! programs that run: every line the doc shows is in the program (in
//! order), the program writes a trace when run, and goblock finds its
//! blocking on the program's marker lines.

mod support;

use std::path::Path;
use std::process::Command;

use support::{assert_markers, blocked_lines, have_go, repo};

/// The ```go blocks of the doc.
fn go_blocks(doc: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur: Option<Vec<String>> = None;
    for l in doc.lines() {
        match (&mut cur, l.trim()) {
            (None, "```go") => cur = Some(Vec::new()),
            (Some(_), "```") => out.push(cur.take().unwrap()),
            (Some(b), t) if !t.is_empty() && !t.starts_with("//") => b.push(t.to_owned()),
            _ => {}
        }
    }
    out
}

fn check(program: &str, block: &[String], trace_name: &str) {
    let src = repo().join("testdata/capture/snippets");
    let main = std::fs::canonicalize(src.join(program).join("main.go")).unwrap();
    let text = std::fs::read_to_string(&main).unwrap();
    let mut lines = text.lines().map(str::trim);
    for want in block {
        assert!(
            lines.any(|l| l == want),
            "docs/capture.md shows {want:?}, which {program}/main.go does not have (in this order)"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join(program);
    let out = Command::new("go")
        .args(["build", "-buildvcs=false", "-o"])
        .arg(&bin)
        .arg(format!("./{program}"))
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&bin).current_dir(tmp.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = tmp.path().join(trace_name);
    let lines = blocked_lines(&trace, Some(&bin), Path::new(&src));
    assert_markers(&lines, &main);
}

#[test]
fn the_documented_snippets_run_and_goblock_reads_their_traces() {
    if !have_go("snippets") {
        return;
    }
    let doc = std::fs::read_to_string(repo().join("docs/capture.md")).unwrap();
    let blocks = go_blocks(&doc);
    assert_eq!(
        blocks.len(),
        2,
        "docs/capture.md: the runtime/trace and flight-recorder snippets"
    );
    assert_eq!(
        blocks[0].len(),
        3,
        "the runtime/trace snippet is three lines"
    );
    check("tracefile", &blocks[0], "trace.out");
    check("flightrecorder", &blocks[1], "flight.trace");
}
