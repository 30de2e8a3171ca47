//! Line truth: every number goblock shows is on the right line.
//!
//! The corpus (`testdata/linetruth`, README there) is three workspaces of
//! realistic Go code whose blocking statements carry marker comments
//! (`// BLOCK[reason]`, `MAY[reason]`), traced with Go 1.19, 1.21, 1.22,
//! 1.23, 1.26 and 1.27, with the traced binaries (webd's: 1.19 and 1.26
//! only) and Go's own figures kept beside the traces.
//!
//! * `markers_agree_with_go_tool_trace`: the corpus itself — the lines Go's
//!   own tool charges are exactly the marked ones.
//! * `report_puts_every_marker_on_its_line`: `goblock report`, through the
//!   trace's frames and through the traced binary: every `BLOCK` reason is
//!   reported at its line, no unmarked workspace line is charged, and every
//!   workspace line reported (flat, open or cum) lies in the function it
//!   names.
//! * `report_sync_lines_equal_go_tool_trace`: per line, the flat `sync`
//!   figures equal `go tool trace -pprof=sync` of the same Go version.
//!
//! The Neovim side is `tests/linetruth_nvim.rs`.

#[path = "support/linetruth.rs"]
mod linetruth;

use std::collections::BTreeSet;

use linetruth::{Marks, PROGRAMS, category, marks, oracle_lines, read_oracle, versions};

/// The corpus against Go's own tools: for every trace, the per-line flat
/// figures of Go 1.26's `go tool trace -pprof=sync|net|syscall` (exact
/// semantics, golang/go#74850 fixed; the older tools' figures are used in the
/// report tests) charge only marked lines with a reason of the profile's
/// category, and every `BLOCK` reason of those categories is charged at its
/// line. Guards the markers: a marker moved off its statement, or a source
/// edited without `gen.sh`, fails here.
///
/// Exceptions: waits still going on at the end of the trace are not counted
/// by Go's tools (no end), so a marker whose every episode is open is not
/// required here (`goblock report` counts them as `open`).
#[test]
fn markers_agree_with_go_tool_trace() {
    let marks = marks();
    let mut failures = Vec::new();
    let mut checked = 0;
    for v in versions() {
        for p in PROGRAMS {
            for kind in ["sync", "net", "syscall"] {
                let oracle = oracle_lines(&read_oracle(&v.oracle(p, kind, true)), &v);
                for ((file, line), (count, _)) in &oracle {
                    let ok = marks.get(&(file.clone(), *line)).is_some_and(|m: &Marks| {
                        m.required
                            .iter()
                            .chain(&m.optional)
                            .any(|r| category(r) == kind)
                    });
                    if !ok {
                        failures.push(format!(
                            "go{} {}: Go's {kind} profile charges {count} to {file}:{line}, which has no {kind} marker",
                            v.name, p.base
                        ));
                    }
                }
                let charged: BTreeSet<_> = oracle.keys().collect();
                for ((file, line), m) in &marks {
                    if !file.starts_with(&format!("{}/", p.workspace)) {
                        continue;
                    }
                    for r in m.required.iter().filter(|r| category(r) == kind) {
                        checked += 1;
                        if !charged.contains(&(file.clone(), *line)) {
                            failures.push(format!(
                                "go{} {}: {file}:{line} BLOCK[{r}] ({}) not in Go's {kind} profile",
                                v.name, p.base, m.description
                            ));
                        }
                    }
                }
            }
        }
    }
    println!("markers vs go tool trace: {checked} marker reasons checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// goblock report

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use linetruth::{Program, Version, declaring_name, decls, unpack};
use serde_json::Value;

/// `goblock report --format json` of one trace, with the program's directory
/// as workspace, through the traced binary's DWARF or the trace's own frames
/// (run once per test binary, shared by the tests).
fn report(p: &Program, v: &Version, binary: bool) -> Value {
    type Key = (String, &'static str, bool);
    static CACHE: OnceLock<Mutex<HashMap<Key, Value>>> = OnceLock::new();
    let key = (v.name.clone(), p.base, binary);
    // Held while a report runs: the other test waits for it instead of
    // running the same one.
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    cache
        .entry(key)
        .or_insert_with(|| run_report(p, v, binary))
        .clone()
}

fn run_report(p: &Program, v: &Version, binary: bool) -> Value {
    let what = format!("go{} {} (binary: {binary})", v.name, p.base);
    linetruth::assert_no_build_dir(&what);
    let exe = binary.then(|| unpack(&v.dir.join(p.binary), &v.name));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goblock"));
    cmd.args(["report", "--format", "json", "--top", "0", "--workspace"])
        .arg(p.dir());
    match &exe {
        Some(exe) => cmd.arg("--binary").arg(exe),
        None => cmd.arg("--no-binary"),
    };
    let out = cmd.arg(v.trace(p)).output().expect("run goblock");
    if let Some(exe) = &exe {
        std::fs::remove_file(exe).ok();
    }
    linetruth::assert_no_build_dir(&what);
    assert!(
        out.status.success(),
        "goblock report {}: {}",
        v.trace(p).display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // Lines where no wait ended (leak suspects) are listed apart: the
    // assertions below read every charged line.
    let still = doc["still_blocked"].as_array().cloned().unwrap_or_default();
    if let Some(lines) = doc["lines"].as_array_mut() {
        lines.extend(still);
    }
    let want = if binary { "dwarf" } else { "trace" };
    assert_eq!(
        doc["traces"][0]["symbolization"], want,
        "go{} {}: {}",
        v.name, p.base, doc["traces"][0]
    );
    doc
}

/// A report line in the workspace: (file relative to the corpus, line).
fn workspace_line(l: &Value, p: &Program, ws: &Path) -> Option<(String, u32)> {
    let rel = Path::new(l["file"].as_str()?).strip_prefix(ws).ok()?;
    Some((
        format!("{}/{}", p.workspace, rel.to_string_lossy()),
        l["line"].as_u64()? as u32,
    ))
}

fn count(l: &Value, part: &str) -> u64 {
    l[part]["count"].as_u64().unwrap_or(0)
}

/// Lines charged although no marker names them, and why that is honest:
/// the GC parks goroutines wherever they allocate or run (mark assists,
/// "preempted" to scan a stack), so these waits land on lines nobody can
/// mark in advance. They are still checked to lie in the function they name.
fn unmarkable(l: &Value) -> bool {
    l["category"] == "gc" || l["reason"] == "preempted"
}

/// Whether a line lies inside the function the report names for it (its
/// declaration in that file, closures included).
fn in_its_function(
    file: &str,
    line: u32,
    function: &str,
    sources: &mut BTreeMap<String, String>,
) -> bool {
    let text = sources.entry(file.to_owned()).or_insert_with(|| {
        std::fs::read_to_string(linetruth::corpus().join(file)).unwrap_or_default()
    });
    let name = declaring_name(function);
    decls(text)
        .iter()
        .any(|d| d.name == name && d.start <= line && line <= d.end)
}

#[test]
fn report_puts_every_marker_on_its_line() {
    let marks = marks();
    let mut sources = BTreeMap::new();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for v in versions() {
        for p in PROGRAMS {
            let ws: PathBuf = std::fs::canonicalize(p.dir()).unwrap();
            for binary in v.binaries(p) {
                let doc = report(p, &v, binary);
                let how = if binary { "binary" } else { "trace frames" };
                let lines = doc["lines"].as_array().unwrap();
                let mut fail =
                    |s: String| failures.push(format!("go{} {} ({how}): {s}", v.name, p.base));
                let (mut required, mut charged) = (0, 0);
                for l in lines {
                    let Some((file, line)) = workspace_line(l, p, &ws) else {
                        continue;
                    };
                    let function = l["function"].as_str().unwrap_or("");
                    if !in_its_function(&file, line, function, &mut sources) {
                        fail(format!(
                            "{file}:{line} is reported for {function}, which is not declared around that line ({} {} closed, {} open, {} cum)",
                            l["reason"],
                            count(l, "flat"),
                            count(l, "open"),
                            count(l, "cum")
                        ));
                    }
                    if count(l, "flat") + count(l, "open") == 0 {
                        continue;
                    }
                    charged += 1;
                    let reason = l["reason"].as_str().unwrap_or("");
                    let marked = marks
                        .get(&(file.clone(), line))
                        .is_some_and(|m| m.allows(reason));
                    if !marked && !unmarkable(l) {
                        fail(format!(
                            "{file}:{line} charged {} closed + {} open {reason:?} episodes ({function}) but has no such marker",
                            count(l, "flat"),
                            count(l, "open")
                        ));
                    }
                }
                for ((file, line), m) in marks.range((p.workspace.to_owned(), 0)..) {
                    if !file.starts_with(&format!("{}/", p.workspace)) {
                        break;
                    }
                    for r in &m.required {
                        required += 1;
                        let found = lines.iter().any(|l| {
                            workspace_line(l, p, &ws).as_ref() == Some(&(file.clone(), *line))
                                && l["reason"] == r.as_str()
                                && count(l, "flat") + count(l, "open") > 0
                        });
                        if !found {
                            fail(format!(
                                "{file}:{line} BLOCK[{r}] ({}) not reported",
                                m.description
                            ));
                        }
                    }
                }
                summary.push(format!(
                    "go{} {} ({how}): {required} marker reasons, {charged} charged lines",
                    v.name, p.base
                ));
            }
        }
    }
    println!("{}", summary.join("\n"));
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// (corpus file, line).
type LineKey = (String, u32);
/// (count, summed ns).
type Figures = (u64, u64);

/// Per-line flat `sync` figures of the workspace lines of a report.
fn report_sync_lines(
    doc: &Value,
    p: &Program,
    with_gc: bool,
) -> BTreeMap<(String, u32), (u64, u64)> {
    let ws = std::fs::canonicalize(p.dir()).unwrap();
    let mut out: BTreeMap<LineKey, Figures> = BTreeMap::new();
    for l in doc["lines"].as_array().unwrap() {
        if !(l["category"] == "sync" || with_gc && l["category"] == "gc") {
            continue;
        }
        let (Some(key), n) = (workspace_line(l, p, &ws), count(l, "flat")) else {
            continue;
        };
        if n > 0 {
            let e = out.entry(key).or_default();
            e.0 += n;
            e.1 += l["flat"]["total_ns"].as_u64().unwrap_or(0);
        }
    }
    out
}

/// Differences between our per-line figures and an oracle's: counts and
/// summed durations (ns) must be equal. (They are, on every line of these
/// traces; if a regenerated trace differs by a few ns, look at Go's reader
/// time bumps first: `lsp/trace/tests/oracle_v2.rs` explains them.)
fn differences(
    ours: &BTreeMap<LineKey, Figures>,
    oracle: &BTreeMap<LineKey, Figures>,
) -> Vec<(LineKey, Figures, Figures)> {
    let keys: BTreeSet<_> = ours.keys().chain(oracle.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let a = ours.get(k).copied().unwrap_or_default();
            let b = oracle.get(k).copied().unwrap_or_default();
            (a != b).then(|| (k.clone(), a, b))
        })
        .collect()
}

/// Per line (flat, `sync`), `goblock report` equals `go tool trace
/// -pprof=sync` of the same Go version, through the trace's frames and
/// through the binary.
///
/// * Go 1.19 and 1.21 (old format, their own tools): the `sync` profile of
///   those tools also counts GC-assist waits, so our `gc` lines are added.
/// * Go 1.26 and 1.27: their own tools, exactly.
/// * Go 1.22 and 1.23: their tools skip every event without a stack
///   (golang/go#74850, fixed in Go 1.26). A wait ended by the runtime — a
///   timer, the network poller — has no waker stack, so the old tool does not
///   end it there: its interval runs on through the goroutine's following
///   waits until a wake-up that has a stack, or is dropped at the end of the
///   trace. Go 1.26's tool on the same trace is therefore the oracle; against
///   the version's own tool every line must still be equal except the lines
///   marked `WOKEN[timer]`, where the old tool counts fewer episodes (the
///   difference is printed).
#[test]
fn report_sync_lines_equal_go_tool_trace() {
    let marks = marks();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for v in versions() {
        let old_tool = matches!(v.minor(), 22..=25);
        for p in PROGRAMS {
            for binary in v.binaries(p) {
                let how = if binary { "binary" } else { "trace frames" };
                let doc = report(p, &v, binary);
                let own = oracle_lines(&read_oracle(&v.oracle(p, "sync", false)), &v);
                let old_format = v.minor() <= 21;
                let ours = report_sync_lines(&doc, p, old_format);
                let (oracle, tool) = if old_tool {
                    let ours_no_gc = report_sync_lines(&doc, p, false);
                    let go126 = oracle_lines(&read_oracle(&v.oracle(p, "sync", true)), &v);
                    for (k, a, b) in differences(&ours_no_gc, &go126) {
                        failures.push(format!(
                            "go{} {} ({how}): {}:{} ours {a:?} vs Go 1.26's tool {b:?}",
                            v.name, p.base, k.0, k.1
                        ));
                    }
                    // The version's own tool (golang/go#74850).
                    let mut stated = Vec::new();
                    for (k, a, b) in differences(&ours_no_gc, &own) {
                        let woken = marks.get(&k).is_some_and(|m| !m.woken.is_empty());
                        if woken && b.0 <= a.0 {
                            stated.push(format!(
                                "{}:{} ours {a:?}, go{} tool {b:?}",
                                k.0, k.1, v.name
                            ));
                        } else {
                            failures.push(format!(
                                "go{} {} ({how}): {}:{} ours {a:?} vs go{}'s own tool {b:?} (not a runtime-woken line)",
                                v.name, p.base, k.0, k.1, v.name
                            ));
                        }
                    }
                    if !stated.is_empty() {
                        println!(
                            "go{} {} ({how}), golang/go#74850 — runtime-woken waits the go{} tool merges:\n  {}",
                            v.name,
                            p.base,
                            v.name,
                            stated.join("\n  ")
                        );
                    }
                    (go126, "Go 1.26's tool")
                } else {
                    (own, "its own tool")
                };
                if !old_tool {
                    for (k, a, b) in differences(&ours, &oracle) {
                        failures.push(format!(
                            "go{} {} ({how}): {}:{} ours (count, ns) {a:?} vs {tool} {b:?}",
                            v.name, p.base, k.0, k.1
                        ));
                    }
                }
                summary.push(format!(
                    "go{} {} ({how}): {} lines, {} episodes compared with {tool}",
                    v.name,
                    p.base,
                    oracle.len(),
                    oracle.values().map(|x| x.0).sum::<u64>()
                ));
            }
        }
    }
    println!("{}", summary.join("\n"));
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
