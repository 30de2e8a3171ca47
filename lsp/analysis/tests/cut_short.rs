//! A mapped input cut short by another program while it is read (the CLI
//! maps the file itself): one line naming the file and the byte, exit
//! status 1 — not "Bus error". The reading happens in a child process (this
//! test binary run again), since the process ends.

use std::path::PathBuf;
use std::process::Command;

use goblock_analysis::input::{self, OpenOptions};

const CHILD: &str = "GOBLOCK_CUT_SHORT_CHILD";

/// In the child: opens FILE (no private copy), truncates it to one page,
/// then reads the rest of the map.
fn child(path: PathBuf) -> ! {
    let opts = OpenOptions {
        snapshot: false,
        ..OpenOptions::default()
    };
    let input = input::open(&path, &opts).expect("open");
    assert!(!input.is_copy());
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(4096))
        .expect("truncate");
    let sum: u64 = input.bytes().iter().step_by(4096).map(|&b| b as u64).sum();
    println!("read all of it: {sum}");
    std::process::exit(0)
}

#[test]
#[cfg(unix)]
fn a_file_cut_short_while_mapped_ends_with_one_line() {
    if let Some(p) = std::env::var_os(CHILD) {
        child(PathBuf::from(p));
    }
    let dir = std::env::temp_dir().join(format!("goblock-cut-short-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("being rewritten.trace");
    // A Go trace header, then 4 MiB of (non-zero) data.
    let mut bytes = b"go 1.23 trace\x00\x00\x00".to_vec();
    bytes.resize(4 << 20, 0x55);
    std::fs::write(&path, &bytes).expect("write");

    let out = Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "a_file_cut_short_while_mapped_ends_with_one_line",
            "--nocapture",
        ])
        .env(CHILD, &path)
        .output()
        .expect("run child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("goblock: "))
        .unwrap_or_else(|| panic!("no message; status {:?}, stderr:\n{stderr}", out.status));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        line.starts_with(&format!(
            "goblock: {}: cut short by another program while it was read (at byte ",
            path.display()
        )),
        "{line}"
    );
    let at: u64 = line
        .split("(at byte ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no offset: {line}"));
    assert!((4096..4 << 20).contains(&at), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}
