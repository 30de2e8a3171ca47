//! The net/http/pprof service of `testdata/capture/service`, for the
//! capture tests (`lsp/capture/tests/service.rs`,
//! `lsp/server/tests/capture.rs`) and the capture bench
//! (`lsp/server/benches/capture.rs`): [`build`] compiles it with the `go`
//! on PATH, [`Service::start`] runs it on 127.0.0.1 and reads its URL from
//! its first line ("listening on http://ADDR"). It is killed on drop (and
//! exits by itself when its standard input closes). Std only, so that
//! each crate can include it with `#[path]`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The service's source directory (found above the including crate).
pub fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|d| d.join("testdata/capture/service"))
        .find(|d| d.is_dir())
        .expect("testdata/capture/service above the crate")
}

/// Builds the service of directory `src` (its [`source`], or a copy in a
/// test's workspace: the binary's DWARF names the files it was built
/// from) into `bin`.
pub fn build(src: &Path, bin: &Path) {
    let out = Command::new("go")
        .args(["build", "-buildvcs=false", "-o"])
        .arg(bin)
        .arg(".")
        .current_dir(src)
        .output()
        .expect("go build");
    assert!(
        out.status.success(),
        "go build {}: {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running service; killed on drop.
pub struct Service {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Service {
    /// Starts `bin` with `args` (e.g. `["-block-rate", "1"]`) and waits
    /// until it listens.
    pub fn start(bin: &Path, args: &[&str]) -> Service {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the service's first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the service said {line:?}"))
            .to_owned();
        // Let its load generators reach a steady state.
        std::thread::sleep(std::time::Duration::from_millis(100));
        Service { child, url }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
