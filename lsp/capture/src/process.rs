//! Runs one child process (the `go` command or a test binary) in a process
//! group of its own, streaming its output lines to the caller while it
//! waits for the exit, a cancel or a deadline. On cancel or deadline the
//! whole group is killed; when the child exits, whatever it left running in
//! its group is killed too, so nothing outlives a capture. On Linux the
//! child is also killed if the thread that waits for it dies.
//!
//! Does not interpret the output or the exit status.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::Cancel;

/// How the wait ended.
#[derive(Debug)]
pub(crate) enum Exit {
    /// The child exited by itself.
    Exited(ExitStatus),
    /// The caller cancelled; the group was killed.
    Cancelled,
    /// The deadline passed; the group was killed.
    TimedOut,
}

/// A finished child.
#[derive(Debug)]
pub(crate) struct Finished {
    pub exit: Exit,
    /// Standard output (capped at [`KEEP`] bytes, then only counted).
    pub stdout: String,
    /// Standard error (same cap).
    pub stderr: String,
}

/// Bytes of each stream kept in [`Finished`] (the caller saw every line).
const KEEP: usize = 1 << 20;
/// A line longer than this is passed on in pieces.
const MAX_LINE: u64 = 64 << 10;

/// Spawns `cmd` in a new process group and waits as described in the
/// module doc; every output line goes to `on_line(line, is_stderr)`.
pub(crate) fn run(
    mut cmd: Command,
    cancel: &Cancel,
    deadline: Option<Instant>,
    on_line: &mut dyn FnMut(&str, bool),
) -> std::io::Result<Finished> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    own_group(&mut cmd);
    let mut child = cmd.spawn()?;
    let group = Group::of(&child);
    let (tx, rx) = mpsc::channel::<(String, bool)>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(reader(out, false, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(reader(err, true, tx.clone()));
    }
    drop(tx);
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut keep = |line: &str, is_err: bool| {
        let s = if is_err { &mut stderr } else { &mut stdout };
        if s.len() + line.len() < KEEP {
            s.push_str(line);
            s.push('\n');
        }
    };
    let mut open = true;
    let exit = loop {
        if cancel.is_cancelled() {
            break Exit::Cancelled;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break Exit::TimedOut;
        }
        if open {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok((line, is_err)) => {
                    on_line(&line, is_err);
                    keep(&line, is_err);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => open = false,
            }
        } else {
            // Both pipes closed; the child may still run (it closed them).
            cancel.wait(Duration::from_millis(50), deadline);
        }
        if group.exited()? {
            // Processes the child left behind in its group keep the pipes
            // open: kill them, then drain what was written.
            group.kill();
            for (line, is_err) in rx.iter() {
                on_line(&line, is_err);
                keep(&line, is_err);
            }
            break Exit::Exited(child.wait()?);
        }
    };
    if !matches!(exit, Exit::Exited(_)) {
        group.kill();
        let _ = child.wait();
        // The readers end once the killed processes' pipes close.
        for (line, is_err) in rx.try_iter() {
            keep(&line, is_err);
        }
    }
    for r in readers {
        let _ = r.join();
    }
    Ok(Finished {
        exit,
        stdout,
        stderr,
    })
}

fn reader(
    stream: impl Read + Send + 'static,
    is_err: bool,
    tx: mpsc::Sender<(String, bool)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut r = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match (&mut r).take(MAX_LINE).read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    while matches!(buf.last(), Some(b'\n' | b'\r')) {
                        buf.pop();
                    }
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    if tx.send((line, is_err)).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

#[cfg(unix)]
fn own_group(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; it only sets a flag of the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn own_group(_cmd: &mut Command) {}

/// The child's process group (its id is the child's pid).
struct Group {
    #[cfg(unix)]
    pid: libc::pid_t,
    #[cfg(not(unix))]
    pid: u32,
}

#[cfg(unix)]
impl Group {
    fn of(child: &Child) -> Group {
        Group {
            pid: child.id() as libc::pid_t,
        }
    }

    /// Whether the leader exited, without reaping it (so the group id
    /// cannot be reused before [`Group::kill`]).
    fn exited(&self) -> std::io::Result<bool> {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child with WNOWAIT leaves it waitable.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                self.pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: filled in by waitid when a child changed state; 0 otherwise.
        Ok(unsafe { info.si_pid() } != 0)
    }

    fn kill(&self) {
        // SAFETY: signals our own child's process group.
        unsafe {
            libc::killpg(self.pid, libc::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
impl Group {
    fn of(child: &Child) -> Group {
        Group { pid: child.id() }
    }
    fn exited(&self) -> std::io::Result<bool> {
        Ok(false)
    }
    fn kill(&self) {
        let _ = self.pid;
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn streams_lines_and_status() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo one; echo two >&2; printf 'no newline'; exit 3"]);
        let mut lines = Vec::new();
        let f = run(cmd, &Cancel::new(), None, &mut |l, e| {
            lines.push((l.to_owned(), e))
        })
        .unwrap();
        assert!(
            matches!(f.exit, Exit::Exited(s) if s.code() == Some(3)),
            "{f:?}"
        );
        assert!(lines.contains(&("one".into(), false)));
        assert!(lines.contains(&("two".into(), true)));
        assert!(lines.contains(&("no newline".into(), false)));
        assert_eq!(f.stdout, "one\nno newline\n");
    }

    #[test]
    fn deadline_kills_the_group() {
        let mut cmd = Command::new("sh");
        // A grandchild holding the pipe: killed with the group.
        cmd.args(["-c", "sleep 30 & echo started; wait"]);
        let t0 = Instant::now();
        let f = run(
            cmd,
            &Cancel::new(),
            Some(Instant::now() + Duration::from_millis(300)),
            &mut |_, _| {},
        )
        .unwrap();
        assert!(matches!(f.exit, Exit::TimedOut));
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    }

    #[test]
    fn leftovers_of_an_exited_child_are_killed() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & echo bye"]);
        let t0 = Instant::now();
        let f = run(cmd, &Cancel::new(), None, &mut |_, _| {}).unwrap();
        assert!(matches!(f.exit, Exit::Exited(s) if s.success()));
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    }
}
