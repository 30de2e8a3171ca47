//! Running the `goblock` binary from the CLI tests: the repository root and
//! one call that returns exit status, stdout and stderr. Does not interpret
//! the output.

use std::path::PathBuf;
use std::process::Command;

/// The repository root (the `goblock` package's manifest directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `goblock args…` in the repository root: (exit status, stdout, stderr).
pub fn goblock(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_goblock"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run goblock");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
