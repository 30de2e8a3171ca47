//! Shared by the capture tests: copies of the fixtures of
//! `testdata/capture/` in temporary workspaces, their `BLOCK[reason]`
//! markers, the analysis of a capture (the same pipeline the server runs),
//! and a look at `/proc` for processes a capture left behind.
//!
//! The tests need Go (`go` on PATH, Go 1.26 on the machine): without it
//! they fail, unless `GOBLOCK_SKIP_GO_TESTS=1` (then they say "skipped").

#![allow(dead_code)]

pub mod fixtures;
pub mod service;

pub use fixtures::{copy_dir, have_go};

use std::path::{Path, PathBuf};

use goblock_analysis::{BinaryChoice, Options, Workspace};
use goblock_trace::Categories;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A temporary workspace holding a copy of `testdata/capture/<name>`,
/// under a directory whose name has a space when `spaced`.
pub struct Ws {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
}

impl Ws {
    pub fn new(name: &str, spaced: bool) -> Ws {
        let tmp = tempfile::Builder::new()
            .prefix("goblock-capture-")
            .tempdir()
            .unwrap();
        let base = if spaced {
            tmp.path().join("my projects")
        } else {
            tmp.path().to_path_buf()
        };
        let root = base.join(name);
        copy_dir(&repo().join("testdata/capture").join(name), &root);
        let root = std::fs::canonicalize(&root).unwrap();
        Ws { _tmp: tmp, root }
    }

    pub fn store(&self) -> goblock_capture::Store {
        goblock_capture::Store::for_workspace(&self.root, None).unwrap()
    }
}

/// A marker comment `// BLOCK[reason] description` of a fixture file.
#[derive(Debug, Clone)]
pub struct Marker {
    pub line: u32,
    pub reason: String,
    pub description: String,
}

pub fn markers(file: &Path) -> Vec<Marker> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            // A marker ends a line of code (not the doc comments about them).
            let at = l
                .find("// BLOCK[")
                .filter(|_| !l.trim_start().starts_with("//"))?;
            let rest = &l[at + "// BLOCK[".len()..];
            let end = rest.find(']')?;
            Some(Marker {
                line: i as u32 + 1,
                reason: rest[..end].to_owned(),
                description: rest[end + 1..].trim().to_owned(),
            })
        })
        .collect()
}

/// (file, line, reason) of every line with flat blocking in a capture,
/// analysed as the server does (all categories).
pub fn blocked_lines(
    trace: &Path,
    binary: Option<&Path>,
    root: &Path,
) -> Vec<(PathBuf, u32, String)> {
    let ws = Workspace::new(&[root.to_path_buf()], vec![], None, None);
    let opts = Options {
        workspace: &ws,
        binary: match binary {
            Some(b) => BinaryChoice::Path(b.to_path_buf()),
            None => BinaryChoice::None,
        },
        trace_index: 0,
        details: false,
        categories: Categories::ALL,
        threads: goblock_trace::Threads::Auto,
    };
    let a = goblock_analysis::analyze_file(trace, &opts, &mut |_, _, _| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap_or_else(|e| panic!("analysing {}: {e}", trace.display()));
    if let Some(b) = binary {
        assert_eq!(
            a.symbolization.kind,
            "dwarf",
            "the capture's binary {} was not used: {:?}",
            b.display(),
            a.symbolization.notes
        );
    }
    a.table
        .lines
        .iter()
        .filter(|(_, s)| s.has_flat())
        .map(|(k, _)| (PathBuf::from(&*k.file), k.line, k.reason.to_string()))
        .collect()
}

/// Asserts every marker of `file` is a blocked line with its reason.
pub fn assert_markers(lines: &[(PathBuf, u32, String)], file: &Path) -> usize {
    let ms = markers(file);
    assert!(!ms.is_empty(), "no markers in {}", file.display());
    for m in &ms {
        assert!(
            lines
                .iter()
                .any(|(f, l, r)| f == file && *l == m.line && *r == m.reason),
            "{}:{} ({} — {}) is not among the blocked lines:\n{}",
            file.display(),
            m.line,
            m.reason,
            m.description,
            lines
                .iter()
                .filter(|(f, _, _)| f.starts_with(file.parent().unwrap()))
                .map(|(f, l, r)| format!("  {}:{l} {r}", f.display()))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    ms.len()
}

/// Live (not zombie) processes whose command line contains `needle`.
pub fn live_processes_with(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if !cmd.contains(needle) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
            .unwrap_or("?");
        if state != "Z" && state != "X" {
            out.push(format!("{pid} [{state}] {cmd}"));
        }
    }
    out
}

/// The entries of a directory (empty when it does not exist).
pub fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
