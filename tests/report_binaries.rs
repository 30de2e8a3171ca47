//! `goblock report` finding the binary that wrote a trace among other
//! executables (binary discovery, docs/report.md "The binary"), through the
//! real binary on committed fixtures: the right binary is used whatever
//! else lies beside it, and once one matched, the table says in one short
//! line how many others were refused (the JSON's `notes` keep every reason).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Unpacks a committed `*.zst` binary to `to`, executable, modified `age`
/// ago (discovery tries the newest first).
fn unpack(zst: &str, to: &Path, age: Duration) {
    let bytes = zstd::decode_all(File::open(root().join(zst)).expect(zst)).expect("zstd");
    std::fs::write(to, bytes).expect("write binary");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    File::options()
        .write(true)
        .open(to)
        .and_then(|f| f.set_modified(SystemTime::now() - age))
        .expect("mtime");
}

fn report(dir: &Path, format: &str) -> String {
    let trace = root().join("testdata/go1.26/blocking.trace");
    let out = Command::new(env!("CARGO_BIN_EXE_goblock"))
        .args(["report", "--format", format])
        .arg(&trace)
        .current_dir(dir)
        .output()
        .expect("run goblock");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn other_candidates_are_counted_in_one_line_once_a_binary_matched() {
    let dir = std::env::temp_dir().join(format!("goblock-report-binaries-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    // Newest first: another Go version's build of the same program, a
    // -trimpath build, then the binary that wrote the trace.
    unpack(
        "testdata/go1.21/blocking.bin.zst",
        &dir.join("old.bin"),
        Duration::from_secs(10),
    );
    unpack(
        "testdata/go1.26/blocking-trimpath.bin.zst",
        &dir.join("trimpath.bin"),
        Duration::from_secs(20),
    );
    unpack(
        "testdata/go1.26/blocking.bin.zst",
        &dir.join("blocking.bin"),
        Duration::from_secs(30),
    );

    let table = report(&dir, "table");
    let notes: Vec<&str> = table
        .lines()
        .filter(|l| l.trim_start().starts_with("note:"))
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("symbolized with DWARF from") && n.contains("blocking.bin")),
        "{table}"
    );
    assert!(
        notes.contains(&"  note: 2 other candidates refused; --format json says why"),
        "{table}"
    );
    assert!(
        !table.contains("refused:"),
        "a refusal's details in the table:\n{table}"
    );
    for n in &notes {
        assert!(n.len() < 300, "a long note: {n}");
    }

    let json: Value = serde_json::from_str(&report(&dir, "json")).expect("JSON");
    let t = &json["traces"][0];
    assert_eq!(t["symbolization"], "dwarf", "{t}");
    assert!(
        t["binary"]
            .as_str()
            .is_some_and(|b| b.ends_with("blocking.bin")),
        "{t}"
    );
    let warnings: Vec<&str> = t["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let refused: Vec<&&str> = warnings
        .iter()
        .filter(|w| w.starts_with("refused:"))
        .collect();
    assert_eq!(refused.len(), 2, "{warnings:#?}");
    assert!(
        refused.iter().any(|w| w.contains("old.bin")),
        "{warnings:#?}"
    );
    assert!(
        refused.iter().any(|w| w.contains("trimpath.bin")),
        "{warnings:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
