//! End-to-end tests of goroutine dumps and pprof profiles through
//! `goblock report`, on the fixtures of testdata/dumps (made by
//! testdata/programs/parked with Go 1.19, 1.21, 1.22, 1.23, 1.26 and 1.27 by
//! testdata/dumps/gen.sh):
//! * every dump (net/http/pprof debug=2, runtime.Stack, SIGQUIT with
//!   GOTRACEBACK=all and system, a deadlock, a `go test -timeout` panic):
//!   the goroutines of every line equal a count made here from the dump's
//!   own text, and every `PARK[...]` marker line has goroutines with that
//!   status;
//! * every block/mutex/goroutine profile (net/http/pprof and
//!   `go test -blockprofile/-mutexprofile`): every line's flat figures
//!   equal `go tool pprof -raw` of the same profile (committed beside it),
//!   and every `CONTEND[...]` marker line has contentions;
//! * DWARF: the binary that wrote a profile is accepted and gives the same
//!   lines; another version's binary is refused;
//! * bad input: a truncated dump, a dump mixed with log lines, binary
//!   garbage, a CPU profile, a heap profile, an empty profile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

#[path = "support/dumps_oracle.rs"]
mod oracle;
use oracle::{count_from_text, not_started_from_text, program_site, raw_oracle};

#[path = "support/cli.rs"]
mod cli;
use cli::{goblock, root};

fn report(inputs: &[&Path], extra: &[&str]) -> Value {
    let programs = root().join("testdata/programs");
    let mut args = vec![
        "report",
        "--format",
        "json",
        "--categories",
        "all",
        "--top",
        "0",
        "--workspace",
        programs.to_str().unwrap(),
    ];
    if extra.contains(&"--top") {
        args.retain(|a| *a != "--top" && *a != "0");
    }
    args.extend_from_slice(extra);
    for i in inputs {
        args.push(i.to_str().unwrap());
    }
    let (code, out, err) = goblock(&args);
    assert_eq!(code, 0, "goblock report failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON ({e}): {out}"))
}

fn versions() -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("testdata/dumps"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("go").map(|v| (v.to_owned(), e.path()))
        })
        .collect();
    v.sort();
    assert_eq!(v.len(), 6, "{v:?}");
    v
}

fn minor(v: &str) -> u32 {
    v.split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

struct Marker {
    file: String,
    line: u32,
    kind: String,
    what: String,
}

fn markers(marker: &str) -> Vec<Marker> {
    std::fs::read_to_string(root().join("testdata/dumps/markers.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.get(2) == Some(&marker)).then(|| Marker {
                file: f[0].trim_start_matches("parked/").to_owned(),
                line: f[1].parse().unwrap(),
                kind: f[3].to_owned(),
                what: f[4].to_owned(),
            })
        })
        .collect()
}

/// Go 1.19 prints Mutex and RWMutex waits as semacquire; WaitGroup waits
/// are semacquire before Go 1.24.
fn status_in(version: &str, status: &str) -> String {
    let m = minor(version);
    if (m < 21 && status.starts_with("sync.") && status.contains("Mutex"))
        || (m < 24 && status == "sync.WaitGroup.Wait")
    {
        "semacquire".into()
    } else {
        status.into()
    }
}

/// Which dumps show which PARK markers.
fn expected_in(dump: &str, m: &Marker) -> bool {
    match (m.file.as_str(), m.line) {
        ("main.go", _) if m.what.contains("signal") => dump.starts_with("sigquit"),
        ("main.go", _) => dump == "deadlock.txt",
        ("parked_test.go", _) => dump == "test-timeout.txt",
        _ => !(dump == "deadlock.txt" && (m.kind == "sleep" || m.kind == "IO wait")),
    }
}

const DUMPS: &[&str] = &[
    "goroutine-debug2.txt",
    "runtime-stack.txt",
    "sigquit-all.txt",
    "sigquit-system.txt",
    "deadlock.txt",
    "test-timeout.txt",
    // Go 1.26 only: SIGQUIT after 3.5 min, every wait printed with minutes.
    "sigquit-minutes.txt",
];

/// The largest `N minutes` of the goroutines whose first program frame is
/// `file:line`, from the dump's text.
fn minutes_at(text: &str, file: &str, line: u32) -> Option<u32> {
    let site = format!("/parked/{file}:{line}");
    let mut best = None;
    let mut minutes = None;
    let mut seen = false;
    for l in text.lines() {
        if l.starts_with("goroutine ") && l.ends_with(':') {
            minutes = l
                .rsplit_once(", ")
                .and_then(|(_, m)| m.strip_suffix(" minutes]:"))
                .and_then(|m| m.parse::<u32>().ok());
            seen = false;
        } else if !seen && l.starts_with('\t') && l.contains("/parked/") {
            seen = true;
            if l.split_whitespace()
                .next()
                .is_some_and(|pos| pos.ends_with(&site))
            {
                best = best.max(minutes);
            }
        }
    }
    best
}

#[test]
fn every_parked_line_has_its_goroutines_in_every_dump() {
    let parks = markers("PARK");
    let mut checked = 0;
    for (v, dir) in versions() {
        for name in DUMPS {
            let path = dir.join(name);
            if *name == "sigquit-minutes.txt" && v != "1.26" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let doc = report(&[&path], &["--library"]);
            let input = &doc["traces"][0];
            assert_eq!(input["kind"], "goroutine-dump", "{v} {name}");
            assert!(
                input["warnings"].as_array().unwrap().is_empty(),
                "{v} {name}: {}",
                input["warnings"]
            );
            let mut got: BTreeMap<(String, u32), u64> = BTreeMap::new();
            let mut status: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
            for l in doc["lines"].as_array().unwrap() {
                assert_eq!(l["kind"], "goroutine-dump");
                let Some(file) = program_site(l["file"].as_str().unwrap()) else {
                    continue;
                };
                let key = (file, l["line"].as_u64().unwrap() as u32);
                let n = l["goroutines"].as_u64().unwrap();
                let ids: u64 = l["groups"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|g| g["ids"].as_array().unwrap().len() as u64)
                    .sum();
                assert_eq!(ids, n, "{v} {name} {key:?}: ids of the groups");
                *got.entry(key.clone()).or_default() += n;
                status
                    .entry(key)
                    .or_default()
                    .push(l["reason"].as_str().unwrap().to_owned());
            }
            assert_eq!(
                got,
                count_from_text(&text),
                "{v} {name}: goroutines per line vs the dump's text"
            );
            for m in parks.iter().filter(|m| expected_in(name, m)) {
                let key = (m.file.clone(), m.line);
                assert!(
                    got.get(&key).is_some_and(|&n| n > 0),
                    "{v} {name}: no goroutine at {}:{} ({})",
                    m.file,
                    m.line,
                    m.what
                );
                let want = status_in(&v, &m.kind);
                assert!(
                    status[&key].contains(&want),
                    "{v} {name} {}:{}: statuses {:?}, want {want}",
                    m.file,
                    m.line,
                    status[&key]
                );
                checked += 1;
            }
            if *name == "sigquit-minutes.txt" {
                // The longest wait of each line = the largest `N minutes`
                // of its goroutines' headers, counted here from the text.
                for l in doc["lines"].as_array().unwrap() {
                    let Some(file) = program_site(l["file"].as_str().unwrap()) else {
                        continue;
                    };
                    let want = minutes_at(&text, &file, l["line"].as_u64().unwrap() as u32);
                    assert!(want >= Some(3), "{file}: {want:?} {l}");
                    assert_eq!(l["max_minutes"].as_u64().map(|m| m as u32), want, "{l}");
                }
            }
            if *name == "deadlock.txt" {
                assert_eq!(input["snapshots"][0]["deadlock"], true, "{v}");
            }
            if name.starts_with("test-timeout") {
                let msg = input["snapshots"][0]["message"].as_str().unwrap();
                assert!(
                    msg.starts_with("panic: test timed out after 3s"),
                    "{v}: {msg}"
                );
            }
        }
    }
    assert!(checked > 300, "{checked}");
}

/// goblock's goroutines per program line of one dump.
fn dump_lines(path: &Path) -> BTreeMap<(String, u32), u64> {
    let doc = report(&[path], &["--library"]);
    let mut got = BTreeMap::new();
    for l in doc["lines"].as_array().unwrap() {
        if let Some(file) = program_site(l["file"].as_str().unwrap()) {
            *got.entry((file, l["line"].as_u64().unwrap() as u32))
                .or_default() += l["goroutines"].as_u64().unwrap();
        }
    }
    got
}

/// goblock's `started_here` per program line of one dump: goroutines with
/// no program frame, shown on their `go` statement.
fn started_lines(path: &Path) -> BTreeMap<(String, u32), u64> {
    let doc = report(&[path], &["--library"]);
    let mut got = BTreeMap::new();
    for l in doc["lines"].as_array().unwrap() {
        if let Some(file) = program_site(l["file"].as_str().unwrap())
            && let Some(n) = l["started_here"].as_u64()
        {
            *got.entry((file, l["line"].as_u64().unwrap() as u32))
                .or_default() += n;
        }
    }
    got
}

/// Position lines of frames (not `created by`) at `/parked/file:line`.
fn frames_at(text: &str, file: &str, line: u32) -> usize {
    let site = format!("/parked/{file}:{line} +0x");
    let mut after_created_by = false;
    let mut n = 0;
    for l in text.lines() {
        if !after_created_by && l.starts_with('\t') && l.contains(&site) {
            n += 1;
        }
        after_created_by = l.starts_with("created by ");
    }
    n
}

/// The same program state in every dump form puts every goroutine on the
/// same line: SIGQUIT prints every frame (GOTRACEBACK level 2), including
/// the wrapper of `go io.Copy(io.Discard, pr)`; debug=2 and runtime.Stack
/// (level 1) hide it (runtime/traceback.go: showfuncinfo). Counted per
/// marker from the SIGQUIT text.
#[test]
fn every_dump_form_puts_a_goroutine_on_the_same_line() {
    let source = |file: &str, line: u32| -> String {
        let text =
            std::fs::read_to_string(root().join("testdata/programs/parked").join(file)).unwrap();
        text.lines()
            .nth(line as usize - 1)
            .unwrap()
            .trim()
            .to_owned()
    };
    let mut go_statements = 0;
    for (v, dir) in versions() {
        let level2 = std::fs::read_to_string(dir.join("sigquit-all.txt")).unwrap();
        let level1 = std::fs::read_to_string(dir.join("goroutine-debug2.txt")).unwrap();
        let want = count_from_text(&level2);
        let forms = [
            "goroutine-debug2.txt",
            "runtime-stack.txt",
            "sigquit-all.txt",
            "sigquit-system.txt",
        ];
        let got: Vec<_> = forms.iter().map(|f| dump_lines(&dir.join(f))).collect();
        let started: Vec<_> = forms.iter().map(|f| started_lines(&dir.join(f))).collect();
        for m in markers("PARK")
            .iter()
            .filter(|m| forms.iter().all(|f| expected_in(f, m)))
        {
            let key = (m.file.clone(), m.line);
            let n = want.get(&key).copied().unwrap_or(0);
            assert!(n > 0, "{v}: SIGQUIT text has nothing at {key:?}");
            for (f, g) in forms.iter().zip(&got) {
                assert_eq!(
                    g.get(&key).copied(),
                    Some(n),
                    "{v} {f} {key:?} ({})",
                    m.what
                );
            }
            if source(&m.file, m.line).starts_with("go ") {
                // Library code started by the statement: only its wrapper
                // frame is at this line, printed at level 2 only.
                assert_eq!(
                    frames_at(&level2, &m.file, m.line),
                    n as usize,
                    "{v} {key:?}"
                );
                assert_eq!(frames_at(&level1, &m.file, m.line), 0, "{v} {key:?}");
                go_statements += 1;
                // Said to be started there, not parked there: in every form
                // but level 2 before Go 1.22, whose wrapper is named like a
                // closure (`main.park.func12`).
                for (f, st) in forms.iter().zip(&started) {
                    let level2 = f.starts_with("sigquit");
                    let want = (!level2 || minor(&v) >= 22).then_some(n);
                    assert_eq!(st.get(&key).copied(), want, "{v} {f} {key:?}");
                }
            }
        }
    }
    assert_eq!(go_statements, 6 * 2, "markers on go statements");
}

const PROFILES: &[(&str, &str)] = &[
    ("block.pb.gz", "block-profile"),
    ("mutex.pb.gz", "mutex-profile"),
    ("test-block.pprof", "block-profile"),
    ("test-mutex.pprof", "mutex-profile"),
    ("goroutine.pb.gz", "goroutine-profile"),
];

fn profile_lines(doc: &Value, kind: &str) -> BTreeMap<(String, u32), (u64, u64)> {
    let mut got = BTreeMap::new();
    for l in doc["lines"].as_array().unwrap() {
        assert_eq!(l["kind"], kind);
        let Some(file) = program_site(l["file"].as_str().unwrap()) else {
            continue;
        };
        let figures = if kind == "goroutine-profile" {
            (l["goroutines"].as_u64().unwrap(), 0)
        } else {
            assert_eq!(l["sampled"], true);
            (
                l["flat"]["count"].as_u64().unwrap(),
                l["flat"]["total_ns"].as_u64().unwrap(),
            )
        };
        got.insert((file, l["line"].as_u64().unwrap() as u32), figures);
    }
    got
}

#[test]
fn profile_lines_equal_go_tool_pprof_raw() {
    let contends = markers("CONTEND");
    let mut checked = 0;
    for (v, dir) in versions() {
        for (name, kind) in PROFILES {
            let path = dir.join(name);
            let stem = name.split('.').next().unwrap();
            let raw = std::fs::read_to_string(dir.join(format!(
                "{stem}{}.raw.txt",
                if name.ends_with(".pb.gz") { ".pb" } else { "" }
            )))
            .unwrap();
            let doc = report(&[&path], &["--library"]);
            assert_eq!(doc["traces"][0]["kind"], *kind, "{v} {name}");
            let got = profile_lines(&doc, kind);
            assert_eq!(
                got,
                raw_oracle(&raw),
                "{v} {name}: per-line flat vs pprof -raw"
            );
            let want_kind = if kind.starts_with("mutex") {
                "mutex"
            } else {
                "block"
            };
            if *kind != "goroutine-profile" {
                for m in contends.iter().filter(|m| m.kind == want_kind) {
                    let n = got.get(&(m.file.clone(), m.line)).map_or(0, |x| x.0);
                    assert!(
                        n > 0,
                        "{v} {name}: nothing at {}:{} ({})",
                        m.file,
                        m.line,
                        m.what
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 6 * 2 * 4, "{checked}");
}

/// Ranked (file, line, figure) of a report's lines: goroutines for dumps
/// and goroutine profiles, delay for block and mutex profiles.
fn ranked(doc: &Value) -> Vec<(String, u32, u64)> {
    doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["file"].as_str().unwrap().to_owned(),
                l["line"].as_u64().unwrap() as u32,
                l["goroutines"]
                    .as_u64()
                    .or(l["flat"]["total_ns"].as_u64())
                    .unwrap(),
            )
        })
        .collect()
}

/// `--top` and `--library` cut the JSON of dumps and profiles as the
/// table: the lines kept without `--library` are exactly the program's
/// (the oracles' lines: the dump's text, `go tool pprof -raw`), `--top N`
/// keeps the N largest of them, and `not_shown` counts the rest.
#[test]
fn json_of_dumps_and_profiles_follows_top_and_library() {
    const TOP: usize = 3;
    let (mut checked, mut hidden) = (0, 0);
    for (v, dir) in versions() {
        let inputs = PROFILES
            .iter()
            .map(|(name, _)| *name)
            .chain(["goroutine-debug2.txt", "sigquit-all.txt"]);
        for name in inputs {
            let path = dir.join(name);
            // The oracle: per program line, goroutines or delay.
            let oracle: BTreeMap<(String, u32), u64> = if name.ends_with(".txt") {
                count_from_text(&std::fs::read_to_string(&path).unwrap())
            } else {
                let stem = name.split('.').next().unwrap();
                let raw = std::fs::read_to_string(dir.join(format!(
                    "{stem}{}.raw.txt",
                    if name.ends_with(".pb.gz") { ".pb" } else { "" }
                )))
                .unwrap();
                let goroutines = name.starts_with("goroutine");
                raw_oracle(&raw)
                    .into_iter()
                    .map(|(k, (n, ns))| (k, if goroutines { n } else { ns }))
                    .collect()
            };
            let all = report(&[&path], &["--library"]);
            let all_lines = ranked(&all);
            // Each line's class, as for traces: the program's lines are the
            // workspace, the others library code (std, dependency, generated).
            for l in all["lines"].as_array().unwrap() {
                let class = l["class"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{v} {name}: no class: {l}"));
                if program_site(l["file"].as_str().unwrap()).is_some() {
                    assert_eq!(class, "workspace", "{v} {name}: {l}");
                } else {
                    assert!(
                        matches!(class, "std" | "dependency" | "generated"),
                        "{v} {name}: {l}"
                    );
                }
            }
            assert_eq!(
                all["not_shown"],
                serde_json::json!({"library": 0, "top": 0})
            );

            let user = report(&[&path], &[]);
            let user_lines = ranked(&user);
            let mut got: BTreeMap<(String, u32), u64> = BTreeMap::new();
            for (f, l, n) in &user_lines {
                let site = program_site(f).unwrap_or_else(|| {
                    panic!("{v} {name}: a library line without --library: {f}:{l}")
                });
                *got.entry((site, *l)).or_default() += n;
            }
            assert_eq!(
                got, oracle,
                "{v} {name}: lines without --library vs the oracle"
            );
            assert_eq!(
                user["not_shown"]["library"].as_u64().unwrap() as usize,
                all_lines.len() - user_lines.len(),
                "{v} {name}"
            );
            hidden += usize::from(all_lines.len() > user_lines.len());

            let top = report(&[&path], &["--top", &TOP.to_string()]);
            let top_lines = ranked(&top);
            assert_eq!(
                top_lines,
                user_lines[..TOP.min(user_lines.len())],
                "{v} {name}"
            );
            assert_eq!(
                top["not_shown"]["top"].as_u64().unwrap() as usize,
                user_lines.len().saturating_sub(TOP),
                "{v} {name}"
            );
            // The N kept are the N largest of the oracle's figures.
            let mut want: Vec<u64> = oracle.values().copied().collect();
            want.sort_unstable_by(|a, b| b.cmp(a));
            let mut kept: Vec<u64> = top_lines.iter().map(|x| x.2).collect();
            kept.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(
                kept,
                want[..TOP.min(want.len())],
                "{v} {name}: --top {TOP} kept"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * (PROFILES.len() + 2));
    assert!(
        hidden >= 6 * 2,
        "inputs with library lines to hide: {hidden}"
    );
}

/// A mutex profile of Go's own sync tests (testdata/dumps/std): every line
/// is standard library. The table says so instead of showing nothing, and
/// `--library` shows those lines, as many as the JSON has.
#[test]
fn a_profile_of_library_code_only_says_what_it_holds() {
    let path = root().join("testdata/dumps/std/sync-mutex.pprof");
    let all = report(&[&path], &["--library"]);
    let n = all["lines"].as_array().unwrap().len();
    assert!(n > 1, "{all:#}");
    let user = report(&[&path], &[]);
    assert_eq!(user["lines"], serde_json::json!([]));
    assert_eq!(user["not_shown"]["library"].as_u64(), Some(n as u64));

    let programs = root().join("testdata/programs");
    let table = |extra: &[&str]| {
        let mut args = vec!["report", "--workspace", programs.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(path.to_str().unwrap());
        let (code, out, err) = goblock(&args);
        assert_eq!(code, 0, "{err}");
        out
    };
    let out = table(&[]);
    assert!(
        out.contains(&format!(
            "all {n} lines are in library code (runtime, standard library, dependencies); --library shows them"
        )),
        "{out}"
    );
    assert!(!out.contains("categories"), "{out}");
    assert!(!out.contains("LOCATION"), "{out}");
    let out = table(&["--library", "--top", "0"]);
    let rows = out.lines().filter(|l| l.contains(".go:")).count();
    assert_eq!(rows, n, "{out}");
}

fn unpack(zst: &Path) -> PathBuf {
    let out = std::env::temp_dir().join(format!(
        "goblock-dumps-test-{}-{}",
        std::process::id(),
        zst.file_name().unwrap().to_string_lossy()
    ));
    let bytes = zstd::decode_all(std::fs::File::open(zst).unwrap()).unwrap();
    std::fs::write(&out, bytes).unwrap();
    out
}

/// Whether `text` says "trace" other than in one of `paths` (a checkout
/// may live under a directory named so).
fn calls_it_a_trace(text: &str, paths: &[&Path]) -> bool {
    let mut text = text.to_owned();
    for p in paths {
        text = text.replace(&p.display().to_string(), "");
    }
    text.contains("trace")
}

#[test]
fn profiles_symbolize_through_the_binary_that_wrote_them() {
    let dir = root().join("testdata/dumps/go1.26");
    let bin = unpack(&dir.join("parked.bin.zst"));
    let block = dir.join("block.pb.gz");
    let plain = report(&[&block], &["--no-binary"]);
    let dwarf = report(&[&block], &["--binary", bin.to_str().unwrap()]);
    assert_eq!(
        dwarf["traces"][0]["symbolization"], "dwarf",
        "{}",
        dwarf["traces"][0]
    );
    assert_eq!(
        profile_lines(&dwarf, "block-profile"),
        profile_lines(&plain, "block-profile")
    );
    // Notes name a profile's frames "profile frames" (qa 05:21).
    let notes = dwarf["traces"][0]["warnings"].to_string();
    assert!(notes.contains(" profile frames identical"), "{notes}");
    assert!(!calls_it_a_trace(&notes, &[&root(), &bin]), "{notes}");
    // Another build (Go 1.23's profile) is refused by its GNU build ID or
    // its frames: the user named that binary, so the report stops there
    // (exit 2, one line naming both files); discovered, it is only noted.
    let other = root().join("testdata/dumps/go1.23/block.pb.gz");
    let (code, out, err) = goblock(&[
        "report",
        "--binary",
        bin.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "goblock: --binary {}: did not write {}: ",
            bin.display(),
            other.display()
        )) && err.contains("--no-binary"),
        "{err}"
    );
    assert!(
        err.contains(" profile frames") && !calls_it_a_trace(&err, &[&bin, &other]),
        "{err}"
    );
    let ws = std::env::temp_dir().join(format!("goblock-dumps-discover-{}", std::process::id()));
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::copy(&bin, ws.join("parked")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(ws.join("parked"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    std::fs::copy(&other, ws.join("block.pb.gz")).unwrap();
    let (code, out, err) = goblock(&[
        "report",
        "--format",
        "json",
        "--workspace",
        ws.to_str().unwrap(),
        ws.join("block.pb.gz").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let t = &doc["traces"][0];
    assert_eq!(t["symbolization"], "trace", "{t}");
    assert!(t["warnings"].to_string().contains("refused"), "{t}");
    let _ = std::fs::remove_dir_all(&ws);
    let _ = std::fs::remove_file(bin);
}

/// A panic right after `go` statements (GOTRACEBACK=all and system, Go 1.22
/// and 1.26): their goroutines have not run. They are shown at the
/// statement as not started yet, counted apart from those started there
/// and parked in library code, as many as the dump's text holds.
#[test]
fn goroutines_not_started_yet_are_said_so_at_their_go_statement() {
    let dir = root().join("testdata/dumps/notstarted");
    let mut dumps: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    dumps.sort();
    assert_eq!(dumps.len(), 4, "{dumps:?}");
    let programs = root().join("testdata/programs");
    for d in &dumps {
        let want = not_started_from_text(&std::fs::read_to_string(d).unwrap());
        assert_eq!(want.len(), 2, "{}: {want:?}", d.display());
        let doc = report(&[d], &["--library"]);
        let mut got = BTreeMap::new();
        for l in doc["lines"].as_array().unwrap() {
            let file = l["file"].as_str().unwrap();
            if !file.ends_with("/notstarted/main.go") {
                continue;
            }
            let line = l["line"].as_u64().unwrap() as u32;
            if let Some(n) = l["not_started"].as_u64() {
                got.insert(line, n);
                assert_eq!(l["goroutines"].as_u64(), Some(n), "{l}");
                assert_eq!(l["started_here"], Value::Null, "{l}");
            }
        }
        assert_eq!(got, want, "{}", d.display());
        let (code, out, err) = goblock(&[
            "report",
            "--categories",
            "all",
            "--workspace",
            programs.to_str().unwrap(),
            d.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        for line in want.keys() {
            let row = out
                .lines()
                .find(|l| l.contains(&format!("notstarted/main.go:{line}")))
                .unwrap_or_else(|| panic!("no row for line {line}:\n{out}"));
            assert!(
                row.contains("runnable (created here, not started yet)")
                    && !row.contains("library"),
                "{row}"
            );
        }
    }
}

/// The `kind` of each entry of a report's `traces[]`, in order.
fn input_kinds(doc: &Value) -> Vec<&str> {
    doc["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect()
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("goblock-dumps-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn a_truncated_dump_keeps_its_complete_goroutines() {
    let path = root().join("testdata/dumps/go1.26/goroutine-debug2.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = &text[..text.len() * 6 / 10];
    let p = tmp("cut.txt", cut.as_bytes());
    let doc = report(&[&p], &["--library"]);
    let input = &doc["traces"][0];
    let w = input["warnings"].to_string();
    assert!(w.contains("cut inside goroutine"), "{w}");
    // Complete goroutines = headers before the cut minus the one cut.
    let headers = cut.lines().filter(|l| l.starts_with("goroutine ")).count() as u64;
    assert_eq!(input["goroutines"].as_u64().unwrap(), headers - 1);
    let _ = std::fs::remove_file(p);
}

#[test]
fn a_dump_mixed_with_log_lines_and_crlf_gives_the_same_lines() {
    let path = root().join("testdata/dumps/go1.22/sigquit-all.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut mixed = String::from("2026/12/01 10:00:00 server starting\r\n");
    for (i, l) in text.lines().enumerate() {
        mixed.push_str(l);
        mixed.push_str("\r\n");
        if i % 7 == 3 {
            mixed.push_str("2026/12/01 10:00:01 handled request (200 OK)\r\n");
        }
    }
    let p = tmp("mixed.txt", mixed.as_bytes());
    let a = report(&[&path], &["--library"]);
    let b = report(&[&p], &["--library"]);
    let counts = |d: &Value| {
        d["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["line"].as_u64(),
                    l["reason"].clone(),
                    l["goroutines"].as_u64(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&a), counts(&b));
    let w = b["traces"][0]["warnings"].to_string();
    assert!(
        w.contains("a line between the frames of a goroutine"),
        "{w}"
    );
    let _ = std::fs::remove_file(p);
}

#[test]
fn unusable_inputs_are_named_and_the_others_still_reported() {
    let dir = root().join("testdata/dumps/go1.26");
    let garbage = tmp(
        "garbage.dump",
        &(0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    );
    // An empty block profile: sample types only (what a program without
    // runtime.SetBlockProfileRate serves), written raw.
    let mut empty = vec![0x0a, 4, 8, 1, 16, 2, 0x0a, 4, 8, 3, 16, 4, 0x32, 0];
    for s in ["contentions", "count", "delay", "nanoseconds"] {
        empty.push(0x32);
        empty.push(s.len() as u8);
        empty.extend_from_slice(s.as_bytes());
    }
    let empty = tmp("block.pprof", &empty);
    let programs = root().join("testdata/programs");
    let (code, out, err) = goblock(&[
        "report",
        "--format",
        "json",
        "--workspace",
        programs.to_str().unwrap(),
        dir.join("cpu.pb.gz").to_str().unwrap(),
        dir.join("heap.pb.gz").to_str().unwrap(),
        garbage.to_str().unwrap(),
        empty.to_str().unwrap(),
        dir.join("goroutine-debug2.txt").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("cpu.pb.gz: a CPU profile: not used"), "{err}");
    assert!(
        err.contains("heap.pb.gz: a heap (memory) profile: not used"),
        "{err}"
    );
    assert!(err.contains("garbage.dump: "), "{err}");
    assert!(err.lines().all(|l| l.len() < 300), "one line each: {err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let kinds = input_kinds(&doc);
    // In argument order.
    assert_eq!(
        kinds,
        [
            "unreadable",
            "unreadable",
            "unreadable",
            "block-profile",
            "goroutine-dump"
        ]
    );
    assert!(
        doc["traces"][3]["warnings"]
            .to_string()
            .contains("no samples")
    );
    for f in [garbage, empty] {
        let _ = std::fs::remove_file(f);
    }
}

/// `go tool trace -pprof=sync|sched` output (testdata/dumps/gen-from-trace.sh)
/// has a block profile's sample types, but its figures are a trace's exact
/// totals (for sched, scheduling latency at the woken goroutines' stacks):
/// never reported as a sampled block profile; the other inputs still are.
#[test]
fn a_profile_made_from_a_trace_is_not_read_as_a_block_profile() {
    let from = root().join("testdata/dumps/from-trace");
    let programs = root().join("testdata/programs");
    let (code, out, err) = goblock(&[
        "report",
        "--format",
        "json",
        "--workspace",
        programs.to_str().unwrap(),
        from.join("sync.pprof").to_str().unwrap(),
        from.join("sched.pprof").to_str().unwrap(),
        root()
            .join("testdata/dumps/go1.26/goroutine-debug2.txt")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for f in ["sync.pprof", "sched.pprof"] {
        assert!(
            err.lines().any(|l| l.contains(f)
                && l.contains("a profile made from an execution trace by `go tool trace -pprof`")
                && l.contains("give goblock the trace itself")),
            "{err}"
        );
    }
    let doc: Value = serde_json::from_str(&out).unwrap();
    let kinds = input_kinds(&doc);
    assert!(!kinds.contains(&"block-profile"), "{kinds:?}");
    assert!(kinds.contains(&"goroutine-dump"), "{kinds:?}");
}

#[test]
fn the_table_says_sampled_and_where_mutex_contention_ended() {
    let dir = root().join("testdata/dumps/go1.26");
    let programs = root().join("testdata/programs");
    let (code, out, err) = goblock(&[
        "report",
        "--workspace",
        programs.to_str().unwrap(),
        dir.join("goroutine-debug2.txt").to_str().unwrap(),
        dir.join("mutex.pb.gz").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(dir.join("goroutine-debug2.txt")).unwrap();
    let goroutines = text
        .lines()
        .filter(|l| l.starts_with("goroutine ") && l.ends_with(':'))
        .count();
    assert!(
        out.contains(&format!("goroutine dump, {goroutines} goroutines")),
        "{out}"
    );
    assert!(out.contains("select (no cases) (never wakes)"), "{out}");
    assert!(
        out.contains("mutex profile (sampled; stacks are where contention ended"),
        "{out}"
    );
    assert!(out.contains("a.mu.Unlock() // CONTEND[mutex]"), "{out}");
}
