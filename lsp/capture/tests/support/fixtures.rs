//! The fixtures of `testdata/capture/` copied into temporary workspaces,
//! and whether Go is there to build and run them — for the capture tests
//! (`lsp/capture/tests`, `lsp/server/tests/capture.rs`,
//! `tests/capture_cli.rs`) and the capture bench
//! (`lsp/server/benches/capture.rs`). Std only, so that each crate can
//! include it with `#[path]`.
//!
//! Without `go` on PATH the Go-backed tests fail, unless
//! `GOBLOCK_SKIP_GO_TESTS=1` (then they say "skipped").

#![allow(dead_code)]

use std::path::Path;

/// Copies directory `from` into `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

/// Whether the Go-backed test `test` runs here (see the module doc).
pub fn have_go(test: &str) -> bool {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("go").is_file());
    if !found && std::env::var_os("GOBLOCK_SKIP_GO_TESTS").is_some() {
        eprintln!("{test}: skipped: no `go` on PATH (GOBLOCK_SKIP_GO_TESTS is set)");
        return false;
    }
    assert!(
        found,
        "{test} needs Go on PATH (Go 1.26 at /usr/local/go); set GOBLOCK_SKIP_GO_TESTS=1 to skip"
    );
    true
}
