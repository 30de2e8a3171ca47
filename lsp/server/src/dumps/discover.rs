//! Which goroutine dumps and profiles of the workspace to load
//! (`goblock.dumps.files`): every configured absolute path, plus, among
//! the files the globs match, the newest of each kind — one snapshot of the
//! goroutines (a goroutine dump or a goroutine profile), one block profile,
//! one mutex profile. Older files of a kind are earlier snapshots of the
//! same state and would count its goroutines twice.
//!
//! Recognised by content, never by name: a match is opened and sniffed
//! (the first 64 KiB; a profile.proto is decoded to learn its kind), so a
//! dump saved or pasted into any `.txt` file is found. A text file that is
//! no dump is skipped silently (a workspace is full of them); another
//! match that is none of ours (a CPU profile, a gzip or protobuf of
//! something else) is named in [`Selection::skipped`] with what it is.
//! Blocking (walks the workspace, reads files); knows no LSP types.

use std::path::{Path, PathBuf};

use goblock_analysis::input::{self, InputError, Kind, OpenOptions};
use goblock_dumps::ProfileKind;

use crate::discovery::{Selection, TracePatterns, Unused};

/// How many of the newest matches are sniffed at most.
pub const MAX_SNIFFED: usize = 64;
/// How many matches that are not dumps or profiles are named, at most.
const MAX_NAMED: usize = 5;

/// A slot: one file of each kind is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Goroutines,
    Block,
    Mutex,
}

fn not_ours(path: &Path, what: &str) -> String {
    format!(
        "{}: {what}, not a goroutine dump or profile; not loaded",
        path.display()
    )
}

/// Why a match is not used.
enum NotUsed {
    /// A text file that is no dump: skipped silently.
    Text,
    /// Something else that is none of ours: named in the log.
    NotOurs(String),
    /// A profile that cannot be read (truncated, corrupt): a failure the
    /// user sees.
    Broken(String),
}

/// What `path` holds, as far as discovery needs to know: its slot, or why
/// it is not used.
fn slot_of(path: &Path, max_bytes: u64) -> Result<Slot, NotUsed> {
    let input = input::open(
        path,
        &OpenOptions {
            max_bytes,
            max_bytes_setting: "goblock.maxTraceBytes",
            snapshot: false,
            background: false,
            copy_steps: None,
        },
    )
    .map_err(|e| match e {
        InputError::NotATrace {
            kind: Kind::Text, ..
        } => NotUsed::Text,
        InputError::NotATrace {
            kind: Kind::PrefixedDump,
            ..
        } => NotUsed::NotOurs(format!(
            "{}: {}; not loaded",
            path.display(),
            Kind::PrefixedDump.describe()
        )),
        InputError::NotATrace { kind, .. } => NotUsed::NotOurs(not_ours(path, kind.describe())),
        e => NotUsed::NotOurs(e.to_string()),
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match input.kind() {
        Kind::GoroutineDump | Kind::GoroutineProfileText => Ok(Slot::Goroutines),
        Kind::ContentionProfileText | Kind::Pprof => {
            match goblock_analysis::profiles::profile_kind(input.bytes(), &name) {
                Ok(ProfileKind::Goroutine) => Ok(Slot::Goroutines),
                Ok(ProfileKind::Block) => Ok(Slot::Block),
                Ok(ProfileKind::Mutex) => Ok(Slot::Mutex),
                // No sample tells block from mutex: empty, nothing to show.
                Ok(ProfileKind::Contention) => Err(NotUsed::NotOurs(format!(
                    "{}: a block or mutex profile without samples: no contention was recorded; not loaded",
                    path.display()
                ))),
                // Its figures are the trace's own: loaded beside the trace
                // they would count every wait twice.
                Ok(k @ ProfileKind::FromTrace) => Err(NotUsed::NotOurs(format!(
                    "{}: {}; not loaded",
                    path.display(),
                    k.describe()
                ))),
                Ok(k) => Err(NotUsed::NotOurs(format!(
                    "{}: {}: not used (goblock reads goroutine, block and mutex profiles)",
                    path.display(),
                    k.describe()
                ))),
                Err(e) => Err(NotUsed::Broken(format!("{}: {e}", path.display()))),
            }
        }
        Kind::Text => Err(NotUsed::Text),
        k => Err(NotUsed::NotOurs(not_ours(path, k.describe()))),
    }
}

/// The dumps and profiles to load under `roots` (see the module doc).
pub fn select(patterns: &TracePatterns, roots: &[PathBuf], max_bytes: u64) -> Selection {
    let mut sel = Selection::default();
    for p in &patterns.explicit {
        match input::regular_file(p) {
            Ok(_) => sel.traces.push(p.clone()),
            Err(e) => sel.unused.push(Unused {
                path: p.clone(),
                message: e.to_string(),
            }),
        }
    }
    let found = patterns.find(roots);
    sel.skipped = found.skipped;
    let mut filled: Vec<Slot> = Vec::new();
    let mut not_ours = 0usize;
    for (path, _) in found.files.into_iter().take(MAX_SNIFFED) {
        if filled.len() == 3 {
            break;
        }
        if sel.traces.contains(&path) {
            continue;
        }
        match slot_of(&path, max_bytes) {
            Ok(slot) if !filled.contains(&slot) => {
                filled.push(slot);
                sel.traces.push(path);
            }
            Ok(_) | Err(NotUsed::Text) => {}
            // A profile newer than those shown that cannot be read: said
            // where failures are (as a configured path not used is).
            Err(NotUsed::Broken(message)) => sel.unused.push(Unused { path, message }),
            Err(NotUsed::NotOurs(message)) => {
                not_ours += 1;
                if not_ours <= MAX_NAMED {
                    sel.skipped.push(Unused { path, message });
                }
            }
        }
    }
    if not_ours > MAX_NAMED {
        sel.skipped.push(Unused {
            path: PathBuf::new(),
            message: format!(
                "{} more files matching goblock.dumps.files are not goroutine dumps or profiles; not loaded",
                not_ours - MAX_NAMED
            ),
        });
    }
    sel
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(v: &str, f: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/dumps")
            .join(v)
            .join(f)
    }

    /// Discovery in `dir` with the default dump patterns.
    fn select_default(dir: &Path) -> Selection {
        let pats = TracePatterns::new(
            &crate::config::DEFAULT_DUMP_GLOBS
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        );
        select(&pats, std::slice::from_ref(&dir.to_path_buf()), 0)
    }

    #[test]
    fn newest_of_each_kind_by_content() {
        let dir = std::env::temp_dir().join(format!("goblock-dumps-disc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let put = |from: &str, to: &str| {
            std::fs::copy(fixture("go1.26", from), dir.join(to)).unwrap();
            // Distinct modification times, in call order (oldest first).
            std::thread::sleep(std::time::Duration::from_millis(15));
        };
        put("goroutine-debug2.txt", "goroutine-old.txt");
        put("block.pb.gz", "block-old.pb.gz");
        put("mutex.pb.gz", "sub/mutex.pb.gz");
        put("cpu.pb.gz", "cpu.pb.gz");
        put("block.pb.gz", "block.pb.gz");
        put("goroutine.pb.gz", "goroutine.pb.gz");
        std::fs::write(dir.join("notes.dump"), "just some text\n").unwrap();
        std::fs::write(dir.join("README.txt"), "how to run the service\n").unwrap();
        std::fs::write(dir.join("blob.dump"), [0u8, 1, 2, 0xfe, 0xff]).unwrap();
        let sel = select_default(&dir);
        assert_eq!(
            sel.traces,
            vec![
                dir.join("goroutine.pb.gz"),
                dir.join("block.pb.gz"),
                dir.join("sub/mutex.pb.gz"),
            ]
        );
        let skipped: Vec<&str> = sel.skipped.iter().map(|u| u.message.as_str()).collect();
        // Text files that are no dumps are skipped silently; other kinds named.
        assert!(
            !skipped
                .iter()
                .any(|m| m.contains("notes.dump") || m.contains("README.txt")),
            "{skipped:?}"
        );
        assert!(
            skipped.iter().any(|m| m.contains("blob.dump: binary data")
                && m.contains("not a goroutine dump or profile")),
            "{skipped:?}"
        );
        assert!(
            skipped
                .iter()
                .any(|m| m.contains("cpu.pb.gz: a CPU profile: not used")),
            "{skipped:?}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Discovery with the default patterns in a new directory holding
    /// `files` (name, bytes): none is loaded; the log's messages.
    fn skipped_only(name: &str, files: &[(&str, Vec<u8>)]) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("goblock-dumps-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (f, bytes) in files {
            std::fs::write(dir.join(f), bytes).unwrap();
        }
        let sel = select_default(&dir);
        std::fs::remove_dir_all(&dir).ok();
        assert!(sel.traces.is_empty(), "{:?}", sel.traces);
        sel.skipped.into_iter().map(|u| u.message).collect()
    }

    /// A dump copied from a log collector (a timestamp on every line) is
    /// named as such, with what to do, not skipped as any text file.
    #[test]
    fn a_dump_with_a_log_prefix_is_named() {
        let dump = std::fs::read_to_string(fixture("go1.26", "sigquit-minutes.txt")).unwrap();
        let logged: String = dump
            .lines()
            .map(|l| format!("2026-12-02T14:44:58.1Z stderr F {l}\n"))
            .collect();
        let skipped = skipped_only("prefixed", &[("goroutines.txt", logged.into_bytes())]);
        assert!(
            skipped.iter().any(|m| m
                .contains("goroutines.txt: a goroutine dump with a prefix on every line")
                && m.ends_with("remove the prefix to read it; not loaded")),
            "{skipped:?}"
        );
    }

    /// What `go tool trace -pprof=sync` writes beside a trace (the
    /// workflow Go's docs show) has a block profile's sample types: not
    /// loaded as one, which would show every wait of the trace twice.
    #[test]
    fn a_profile_made_from_a_trace_is_not_loaded() {
        let skipped = skipped_only(
            "fromtrace",
            &[
                (
                    "sync.pprof",
                    std::fs::read(fixture("from-trace", "sync.pprof")).unwrap(),
                ),
                (
                    "sched.pprof",
                    std::fs::read(fixture("from-trace", "sched.pprof")).unwrap(),
                ),
            ],
        );
        for f in ["sync.pprof", "sched.pprof"] {
            assert!(
                skipped.iter().any(|m| m.contains(f)
                    && m.contains("made from an execution trace by `go tool trace -pprof`")
                    && m.ends_with("; not loaded")),
                "{skipped:?}"
            );
        }
    }

    /// An empty `go test -blockprofile` profile under a name that does not
    /// say block or mutex: skipped, and the log says it is empty — not
    /// "a block or mutex profile: not used (goblock reads … block and mutex
    /// profiles)".
    #[test]
    fn an_empty_contention_profile_is_said_to_be_empty() {
        let skipped = skipped_only(
            "empty",
            &[(
                "profile.pprof",
                std::fs::read(fixture("empty", "block.pprof")).unwrap(),
            )],
        );
        assert!(
            skipped.iter().any(|m| m.contains("profile.pprof")
                && m.contains("no contention was recorded")
                && !m.contains("not used")),
            "{skipped:?}"
        );
    }
}
