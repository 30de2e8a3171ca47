//! Finding the binary that wrote a trace when the user did not name one:
//! Go executables and test binaries (`*.test`) in the workspace, newest
//! first. A bounded breadth-first walk (depth and entry limits; skips
//! `.git` and other dot-directories, `vendor`, `node_modules`); a file is a
//! candidate if it is a regular file that starts with an ELF, Mach-O or PE
//! magic number and is executable (unix mode bits) or named `*.test` /
//! `*.exe`. Whether a candidate *matches* the trace is `matching.rs`'s
//! business.

use std::collections::VecDeque;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Directory levels below each root that are searched.
pub const MAX_DEPTH: usize = 6;
/// Directory entries looked at, in total, before giving up.
pub const MAX_ENTRIES: usize = 50_000;
/// Candidates returned at most.
pub const MAX_CANDIDATES: usize = 32;

const SKIP_DIRS: [&str; 3] = ["vendor", "node_modules", "target"];

/// Executables and `*.test` files under `roots`, newest first.
pub fn find_candidates(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut found: Vec<(SystemTime, PathBuf)> = Vec::new();
    let mut queue: VecDeque<(PathBuf, usize)> = roots.iter().map(|r| (r.clone(), 0)).collect();
    let mut seen = 0usize;
    while let Some((dir, depth)) = queue.pop_front() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in rd.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                queue.clear();
                break;
            }
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = entry.file_type() else { continue };
            let path = entry.path();
            if ft.is_dir() {
                if depth < MAX_DEPTH && !name.starts_with('.') && !SKIP_DIRS.contains(&&*name) {
                    queue.push_back((path, depth + 1));
                }
            } else if ft.is_file()
                && let Some(mtime) = candidate(&path, &name)
            {
                found.push((mtime, path));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    found.truncate(MAX_CANDIDATES);
    found.into_iter().map(|(_, p)| p).collect()
}

/// The file's mtime if it looks like an executable.
fn candidate(path: &Path, name: &str) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() < 4096 {
        return None;
    }
    let named = name.ends_with(".test") || name.ends_with(".exe");
    #[cfg(unix)]
    let exec = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0;
    #[cfg(not(unix))]
    let exec = false;
    if !named && !exec {
        return None;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .ok()?
        .read_exact(&mut magic)
        .ok()?;
    let known = magic == *b"\x7fELF"
        || magic[..2] == *b"MZ"
        || [0xfeed_facf_u32, 0xfeed_face, 0xcafe_babe]
            .iter()
            .any(|m| magic == m.to_be_bytes() || magic == m.to_le_bytes());
    known.then(|| meta.modified().ok()).flatten()
}
