//! Which `go` a capture uses and what it says about a directory: the
//! `goblock.goPath` setting (a `go` binary or a Go root) or the first `go`
//! on `PATH`, asked with `go env -json` for its version, `GOFLAGS` (the
//! environment's and `go env -w`'s) and the module or workspace the
//! directory belongs to.
//!
//! Does not build or run anything else; `gotest` does.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{self, Exit};
use crate::{Cancel, CaptureError};

/// `go env` may download a toolchain (GOTOOLCHAIN=auto): bounded.
const GO_ENV_TIMEOUT: Duration = Duration::from_secs(120);

/// A `go` command and its environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// The `go` binary.
    pub go: PathBuf,
    /// Chosen by `goblock.goPath` (rather than found on `PATH`).
    pub explicit: bool,
    /// `go env GOVERSION`, e.g. `go1.26.8`.
    pub version: String,
    /// `go env GOROOT`.
    pub goroot: PathBuf,
    /// `go env GOFLAGS` (applied by the `go` command itself).
    pub goflags: String,
}

/// What `go env` says about one directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    /// The `go.mod` of the directory's module, if any.
    pub gomod: Option<PathBuf>,
    /// The `go.work` in effect, if any.
    pub gowork: Option<PathBuf>,
}

impl Module {
    /// The directory of `go.work`, else of `go.mod`.
    pub fn root(&self) -> Option<&Path> {
        self.gowork
            .as_deref()
            .or(self.gomod.as_deref())
            .and_then(Path::parent)
    }
}

/// Finds the `go` binary: `go_path` (a binary, or a directory holding
/// `bin/go` or `go`) when given, else the first `go` on `PATH`.
pub fn locate(go_path: Option<&Path>) -> Result<(PathBuf, bool), CaptureError> {
    if let Some(p) = go_path {
        let bad = |why: &str| CaptureError::BadGoPath {
            path: p.to_path_buf(),
            why: why.to_owned(),
        };
        if p.is_dir() {
            for c in [p.join("bin").join(exe("go")), p.join(exe("go"))] {
                if is_executable(&c) {
                    return Ok((c, true));
                }
            }
            return Err(bad("a directory without bin/go or go"));
        }
        if !p.exists() {
            return Err(bad("no such file"));
        }
        if !is_executable(p) {
            return Err(bad("not an executable"));
        }
        return Ok((p.to_path_buf(), true));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(exe("go")))
        .find(|c| is_executable(c))
        .map(|c| (c, false))
        .ok_or(CaptureError::NoGo)
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

fn is_executable(p: &Path) -> bool {
    let Ok(m) = std::fs::metadata(p) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        m.is_file() && m.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        m.is_file()
    }
}

impl Toolchain {
    /// Locates `go` (see [`locate`]) and asks it about `dir`.
    pub fn probe(
        go_path: Option<&Path>,
        dir: &Path,
        cancel: &Cancel,
    ) -> Result<(Toolchain, Module), CaptureError> {
        let (go, explicit) = locate(go_path)?;
        let mut tc = Toolchain {
            go,
            explicit,
            version: String::new(),
            goroot: PathBuf::new(),
            goflags: String::new(),
        };
        let out = tc.output(
            dir,
            &[
                "env",
                "-json",
                "GOVERSION",
                "GOROOT",
                "GOFLAGS",
                "GOMOD",
                "GOWORK",
            ],
            cancel,
        )?;
        let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| CaptureError::Go {
            command: "go env -json".into(),
            message: format!("unreadable output ({e}): {}", first_lines(&out, 3)),
        })?;
        let get = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
        tc.version = get("GOVERSION");
        tc.goroot = PathBuf::from(get("GOROOT"));
        tc.goflags = get("GOFLAGS");
        let file = |k: &str| {
            let s = get(k);
            (!s.is_empty() && s != "off" && s != "/dev/null" && s != "NUL")
                .then(|| PathBuf::from(s))
        };
        let module = Module {
            gomod: file("GOMOD"),
            gowork: file("GOWORK"),
        };
        Ok((tc, module))
    }

    /// A `go` command to run in `dir`. With `goblock.goPath` the chosen
    /// Go's directory leads `PATH` (tools and tests that run `go` get the
    /// same one) and an inherited `GOROOT` is dropped (the binary knows its
    /// own root; a `GOROOT` of another version would break the build).
    pub fn command(&self, dir: &Path) -> Command {
        let mut c = Command::new(&self.go);
        c.current_dir(dir);
        self.environ(&mut c, dir);
        c
    }

    /// Applies the environment of [`Toolchain::command`] to any command
    /// (the test binary), with `PWD` = `dir` as `go test` sets it.
    pub fn environ(&self, c: &mut Command, dir: &Path) {
        c.env("PWD", dir);
        if self.explicit {
            c.env_remove("GOROOT");
            if let Some(bin) = self.go.parent() {
                let mut paths: Vec<PathBuf> = vec![bin.to_path_buf()];
                if let Some(p) = std::env::var_os("PATH") {
                    paths.extend(std::env::split_paths(&p));
                }
                if let Ok(joined) = std::env::join_paths(paths) {
                    c.env("PATH", joined);
                }
            }
        }
    }

    /// Runs `go ARGS` in `dir` and returns its standard output; a failure
    /// becomes [`CaptureError::Go`] with the error output.
    pub fn output(
        &self,
        dir: &Path,
        args: &[&str],
        cancel: &Cancel,
    ) -> Result<String, CaptureError> {
        let command = format!("go {}", args.join(" "));
        let cmd = self.command(dir);
        let mut cmd = cmd;
        cmd.args(args);
        let f = process::run(
            cmd,
            cancel,
            Some(Instant::now() + GO_ENV_TIMEOUT),
            &mut |_, _| {},
        )
        .map_err(CaptureError::io(&self.go))?;
        match f.exit {
            Exit::Exited(s) if s.success() => Ok(f.stdout),
            Exit::Exited(_) => Err(CaptureError::Go {
                command,
                message: first_lines(
                    if f.stderr.trim().is_empty() {
                        &f.stdout
                    } else {
                        &f.stderr
                    },
                    4,
                ),
            }),
            Exit::Cancelled => Err(CaptureError::Cancelled),
            Exit::TimedOut => Err(CaptureError::Timeout {
                what: command,
                after: humantime::format_duration(GO_ENV_TIMEOUT).to_string(),
            }),
        }
    }
}

/// The first `n` non-empty lines of `s`, joined with "; ".
pub(crate) fn first_lines(s: &str, n: usize) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(n)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `args` as one shell-like line for messages and `meta.json`.
pub(crate) fn command_line(program: &Path, args: &[OsString]) -> String {
    let quote = |s: &str| {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%^$".contains(c))
        {
            s.to_owned()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    std::iter::once(program.as_os_str())
        .chain(args.iter().map(|a| a.as_os_str()))
        .map(|a| quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let l = command_line(
            Path::new("/x/pkg.test"),
            &["-test.run".into(), "^TestA$/^a b$".into(), "it's".into()],
        );
        assert_eq!(l, r"/x/pkg.test -test.run '^TestA$/^a b$' 'it'\''s'");
    }

    #[test]
    fn bad_go_path() {
        let e = locate(Some(Path::new("/nonexistent/go"))).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
        let d = tempfile::tempdir().unwrap();
        let e = locate(Some(d.path())).unwrap_err();
        assert!(e.to_string().contains("without bin/go"), "{e}");
    }
}
