//! `goblock report` on sources edited since the recording (docs/report.md,
//! "Sources edited since the recording"), through the real binary: the
//! committed fixtures' sources are copied to a temporary workspace as they
//! were built (older than the input), then edited. Every recorded line is
//! shown where the evidence puts it — the traced binary's DWARF, the file
//! unmodified since the input, the input's git commit — or listed as
//! stale; never on another line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary directory.
fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("goblock-edits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn set_mtime(p: &Path, t: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(p)
        .and_then(|f| f.set_modified(t))
        .unwrap();
}

/// Copies `testdata/programs/<program>` into `ws/<program>`, its files
/// modified long ago: as built, before any input was recorded.
fn copy_program(program: &str, ws: &Path) {
    let to = ws.join(program);
    std::fs::create_dir_all(&to).unwrap();
    let built = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    for e in std::fs::read_dir(root().join("testdata/programs").join(program))
        .unwrap()
        .flatten()
    {
        let dst = to.join(e.file_name());
        std::fs::copy(e.path(), &dst).unwrap();
        set_mtime(&dst, built);
    }
}

/// Rewrites a file (modified now: after the recording).
fn edit(path: &Path, f: impl Fn(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let new = f(text.clone());
    assert_ne!(new, text, "the edit changed nothing in {}", path.display());
    std::fs::write(path, new).unwrap();
}

/// Inserts `lines` after the first line (`package …`).
fn insert_after_package(text: String, lines: &str) -> String {
    text.replacen('\n', &format!("\n{lines}"), 1)
}

fn unpack_binary(zst: &str, to: &Path) {
    let bytes = zstd::decode_all(std::fs::File::open(root().join(zst)).unwrap()).unwrap();
    std::fs::write(to, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// `goblock report --workspace ws args… input` in `ws`: its stdout.
fn report(ws: &Path, args: &[&str], input: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_goblock"))
        .arg("report")
        .args(["--categories", "all", "--top", "0", "--workspace"])
        .arg(ws)
        .args(args)
        .arg(input)
        .current_dir(ws)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn report_json(ws: &Path, args: &[&str], input: &Path) -> Value {
    let args = [&["--format", "json"], args].concat();
    serde_json::from_str(&report(ws, &args, input)).unwrap()
}

/// A report line: (file name, line, reason, function).
type Key = (String, u64, String, String);

/// The entries of `doc[list]`, and their `recorded_line` (when moved).
fn entries(doc: &Value, list: &str) -> Vec<(Key, Option<u64>)> {
    doc[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {doc}"))
        .iter()
        .map(|l| {
            let file = l["file"].as_str().unwrap();
            let name = file.rsplit('/').next().unwrap().to_owned();
            (
                (
                    name,
                    l["line"].as_u64().unwrap(),
                    l["reason"].as_str().unwrap_or_default().to_owned(),
                    l["function"].as_str().unwrap().to_owned(),
                ),
                l["recorded_line"].as_u64(),
            )
        })
        .collect()
}

/// `text` with every `<file>:<N>` moved to `<file>:<N + by>`.
fn shift_locations(text: &str, file: &str, by: u64) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(file) {
        let (head, tail) = rest.split_at(i + file.len());
        out.push_str(head);
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        match tail[..digits].parse::<u64>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&tail[..digits]),
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// The Go 1.26 trace of `blocking`, its workspace and its binary.
struct Blocking {
    tmp: PathBuf,
    ws: PathBuf,
    bin: PathBuf,
    trace: PathBuf,
}

impl Blocking {
    fn new(name: &str) -> Blocking {
        let tmp = temp(name);
        let ws = tmp.join("ws");
        copy_program("blocking", &ws);
        let bin = tmp.join("blocking.bin");
        unpack_binary("testdata/go1.26/blocking.bin.zst", &bin);
        Blocking {
            tmp,
            ws,
            bin,
            trace: root().join("testdata/go1.26/blocking.trace"),
        }
    }

    fn main_go(&self) -> PathBuf {
        self.ws.join("blocking/main.go")
    }
}

impl Drop for Blocking {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// With the traced binary, lines inserted above every function of a file
/// move its lines by as much: the table is the same table with main.go's
/// locations moved (the SOURCE column shows the recorded statements at
/// their new lines), the JSON gives the recorded line beside the new one.
/// A file only touched (same text, newer time) changes nothing.
#[test]
fn with_the_binary_lines_move_with_their_function() {
    let b = Blocking::new("moved");
    let bin = b.bin.to_str().unwrap();
    let args = ["--binary", bin];
    let table0 = report(&b.ws, &args, &b.trace);
    let doc0 = report_json(&b.ws, &args, &b.trace);
    assert!(table0.contains("blocking/main.go:"), "{table0}");
    assert_eq!(doc0["stale"], Value::Array(vec![]), "{doc0:#}");
    for list in ["lines", "still_blocked"] {
        assert!(entries(&doc0, list).iter().all(|e| e.1.is_none()));
    }

    // Touched, not edited: the binary's declaration lines are the evidence.
    set_mtime(&b.main_go(), SystemTime::now());
    assert_eq!(report(&b.ws, &args, &b.trace), table0);

    edit(&b.main_go(), |t| {
        insert_after_package(t, "\n// one\n// two\n")
    });
    let table = report(&b.ws, &args, &b.trace);
    assert_eq!(table, shift_locations(&table0, "blocking/main.go:", 3));
    let doc = report_json(&b.ws, &args, &b.trace);
    assert_eq!(doc["stale"], Value::Array(vec![]), "{doc:#}");
    let mut moved = 0;
    for list in ["lines", "still_blocked"] {
        let want: Vec<_> = entries(&doc0, list)
            .into_iter()
            .map(|((f, l, r, func), _)| {
                if f == "main.go" {
                    ((f, l + 3, r, func), Some(l))
                } else {
                    ((f, l, r, func), None)
                }
            })
            .collect();
        moved += want.iter().filter(|e| e.1.is_some()).count();
        assert_eq!(entries(&doc, list), want, "{list}");
    }
    assert!(moved >= 20, "{moved} main.go lines");
}

/// Without the binary's declaration lines, a file changed after the
/// recording (and not committed with the input) is no evidence: its lines
/// are stale — listed apart with the reason, never on a line — and the
/// other files' lines are as before.
#[test]
fn without_the_binary_an_edited_file_is_stale_not_shown() {
    let b = Blocking::new("stale");
    let args = ["--no-binary"];
    let doc0 = report_json(&b.ws, &args, &b.trace);
    assert_eq!(doc0["stale"], Value::Array(vec![]), "{doc0:#}");
    edit(&b.main_go(), |t| {
        insert_after_package(t, "\n// one\n// two\n")
    });
    let doc = report_json(&b.ws, &args, &b.trace);
    let mut stale_want = Vec::new();
    for list in ["lines", "still_blocked"] {
        let (main, other): (Vec<_>, Vec<_>) = entries(&doc0, list)
            .into_iter()
            .partition(|e| e.0.0 == "main.go");
        assert_eq!(entries(&doc, list), other, "{list}");
        stale_want.extend(main.into_iter().map(|e| e.0));
    }
    assert!(stale_want.len() >= 20, "{stale_want:?}");
    let stale = doc["stale"].as_array().unwrap();
    let mut got: Vec<_> = entries(&doc, "stale").into_iter().map(|e| e.0).collect();
    got.sort();
    stale_want.sort();
    assert_eq!(got, stale_want);
    for s in stale {
        let why = s["stale"].as_str().unwrap();
        assert!(why.contains("the file changed after the trace"), "{s}");
        assert!(s.get("recorded_line").is_none(), "{s}");
    }
    // The table: no main.go line in its rows; the stale ones listed apart.
    let table = report(&b.ws, &args, &b.trace);
    let (rows, apart) = table
        .split_once("are stale, not shown on any line")
        .unwrap_or_else(|| panic!("{table}"));
    assert!(!rows.contains("main.go:"), "{table}");
    assert!(apart.contains("blocking/main.go:") && apart.contains("as recorded"));
}

/// The `created by` sites of the dump groups in `doc`'s lines and stale
/// lines whose file is `name`: (line, recorded_line, stale), sorted.
fn creator_sites(doc: &Value, name: &str) -> Vec<(u64, Option<u64>, bool)> {
    let mut v: Vec<_> = ["lines", "stale"]
        .iter()
        .flat_map(|k| doc[k].as_array().into_iter().flatten())
        .flat_map(|l| l["groups"].as_array().into_iter().flatten())
        .filter_map(|g| g.get("created_by"))
        .filter(|s| {
            s["file"]
                .as_str()
                .is_some_and(|f| f.ends_with(&format!("/{name}")))
        })
        .map(|s| {
            (
                s["line"].as_u64().unwrap_or(0),
                s["recorded_line"].as_u64(),
                s.get("stale").is_some(),
            )
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A goroutine dump (no DWARF): a file changed after the dump is stale; in
/// a git work tree where the dump is committed, the file's text in that
/// commit is the evidence: a fresh clone (every file newer than the dump)
/// shows the lines as recorded, an inserted line moves them, an edited
/// line is stale.
#[test]
fn dump_lines_follow_the_inputs_commit_or_are_stale() {
    let tmp = temp("dump");
    let ws = tmp.join("ws");
    copy_program("parked", &ws);
    let dump = ws.join("runtime-stack.txt");
    std::fs::copy(
        root().join("testdata/dumps/go1.26/runtime-stack.txt"),
        &dump,
    )
    .unwrap();
    let dump0 = dump.display().to_string();
    let pool = ws.join("parked/pool.go");
    let doc0 = report_json(&ws, &[], &dump);
    let table0 = report(&ws, &[], &dump);
    assert_eq!(doc0["stale"], Value::Array(vec![]), "{doc0:#}");
    let lines0 = entries(&doc0, "lines");
    // `go` statements in pool.go (NewPool) created some of the goroutines.
    let created0 = creator_sites(&doc0, "pool.go");
    assert!(!created0.is_empty(), "{doc0:#}");
    assert!(
        created0
            .iter()
            .all(|&(_, moved, stale)| moved.is_none() && !stale)
    );
    let in_pool = |e: &(Key, Option<u64>)| e.0.0 == "pool.go";
    assert!(
        lines0.iter().filter(|e| in_pool(e)).count() >= 3,
        "{lines0:?}"
    );
    // The QA repro: a line inserted above; no evidence where the lines are.
    let original = std::fs::read_to_string(&pool).unwrap();
    edit(&pool, |t| insert_after_package(t, "// inserted\n"));
    let doc = report_json(&ws, &[], &dump);
    let (pooled, other): (Vec<_>, Vec<_>) = lines0.iter().cloned().partition(in_pool);
    assert_eq!(entries(&doc, "lines"), other);
    assert_eq!(entries(&doc, "stale"), pooled);
    // … and so are the `created by` sites there, at the line recorded.
    let stale_sites: Vec<_> = created0.iter().map(|&(l, _, _)| (l, None, true)).collect();
    assert_eq!(creator_sites(&doc, "pool.go"), stale_sites, "{doc:#}");
    let table = report(&ws, &[], &dump);
    let (rows, apart) = table
        .split_once("are stale, not shown on any line")
        .unwrap_or_else(|| panic!("{table}"));
    assert!(!rows.contains("parked/pool.go:"), "{table}");
    assert!(apart.contains("parked/pool.go:") && apart.contains("as recorded"));

    // Committed with its sources, then cloned: every file is newer than
    // the dump, the commit says they are the dump's texts.
    std::fs::write(&pool, &original).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&tmp)
            .output()
            .expect("git (the tests run in a clone)");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "repo"]);
    let repo = tmp.join("repo");
    let clone = tmp.join("clone");
    std::fs::rename(&ws, repo.join("ws")).unwrap();
    git(&["-C", "repo", "add", "."]);
    git(&["-C", "repo", "commit", "-q", "-m", "dump and sources"]);
    git(&["clone", "-q", "repo", "clone"]);
    let ws = clone.join("ws");
    let dump = ws.join("runtime-stack.txt");
    let pool = ws.join("parked/pool.go");
    let later = SystemTime::now() + Duration::from_secs(60);
    for f in std::fs::read_dir(ws.join("parked")).unwrap().flatten() {
        set_mtime(&f.path(), later);
    }
    assert_eq!(entries(&report_json(&ws, &[], &dump), "lines"), lines0);
    let table = report(&ws, &[], &dump);
    assert_eq!(table.replace(&dump.display().to_string(), &dump0), table0);
    // A line inserted above: pool.go's lines follow by the diff with the
    // committed text.
    edit(&pool, |t| insert_after_package(t, "// inserted\n"));
    let doc = report_json(&ws, &[], &dump);
    let want: Vec<_> = lines0
        .iter()
        .map(|((f, l, r, func), _)| {
            if f == "pool.go" {
                ((f.clone(), l + 1, r.clone(), func.clone()), Some(*l))
            } else {
                ((f.clone(), *l, r.clone(), func.clone()), None)
            }
        })
        .collect();
    assert_eq!(entries(&doc, "lines"), want);
    assert_eq!(doc["stale"], Value::Array(vec![]));
    let moved: Vec<_> = created0
        .iter()
        .map(|&(l, _, _)| (l + 1, Some(l), false))
        .collect();
    assert_eq!(creator_sites(&doc, "pool.go"), moved, "{doc:#}");
    // The waiting statement itself rewritten (a comment alone would not
    // change its code): that line is stale.
    // (recorded at 1-based line `wait_line`, now at index `wait_line`)
    let wait_line = pooled[0].0.1;
    edit(&pool, |t| {
        let mut v: Vec<String> = t.lines().map(str::to_owned).collect();
        let l = &v[wait_line as usize];
        let indent = &l[..l.len() - l.trim_start().len()];
        v[wait_line as usize] = format!("{indent}_ = 0; {}", l.trim_start());
        v.join("\n") + "\n"
    });
    let doc = report_json(&ws, &[], &dump);
    let stale = entries(&doc, "stale");
    assert_eq!(stale.len(), 1, "{doc:#}");
    assert_eq!(stale[0].0, pooled[0].0);
    assert!(
        doc["stale"][0]["stale"]
            .as_str()
            .unwrap()
            .contains(&format!("line {wait_line} was edited")),
        "{doc:#}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
