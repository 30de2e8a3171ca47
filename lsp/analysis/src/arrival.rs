//! A private copy of an input made on a thread of its own while the decoder
//! reads what has arrived ([`goblock_trace::Arriving`]): the copy has its
//! whole length from the start and is mapped at once (pages not copied yet
//! read as zeros, and the decoder reads none of them); a thread fills it
//! front to back in steps with in-kernel copies, and says how far it has
//! got. The last step is published only once the file is seen unchanged
//! since it was opened, so nothing decodes to its end from a file that was
//! rewritten meanwhile.
//!
//! Linux only (`copy_file_range` at given offsets); elsewhere the copy is
//! made before the input is opened (`input.rs`). Does not decide whether to
//! copy, nor read or decode anything.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use goblock_trace::Arriving as _;

use crate::input::{Stamp, next_data};

/// Bytes copied per step: the decoder can start on a generation once the
/// step that ends it is copied.
pub(crate) const STEP: usize = 32 << 20;

/// Why the copy will not arrive whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The file changed (size, time or identity) while it was copied.
    Changed,
    /// Copying failed (e.g. no room left).
    Io(io::ErrorKind),
}

impl From<Failure> for io::Error {
    fn from(f: Failure) -> io::Error {
        match f {
            Failure::Changed => io::Error::other("the file changed while it was copied"),
            Failure::Io(kind) => io::Error::from(kind),
        }
    }
}

/// Copies the data of the first `len` bytes of `src` to the same offsets of
/// `dst`, which has that length already (holes stay holes), `step` bytes at
/// a time, telling `stepped` the offset reached after each; `stepped`
/// returning `false` stops the copy. A file that ends sooner has changed.
pub(crate) fn copy_data(
    src: &File,
    dst: &File,
    len: u64,
    step: u64,
    mut stepped: impl FnMut(u64) -> bool,
) -> Result<(), Failure> {
    let mut pos = 0u64;
    while pos < len {
        let Some((start, end)) = next_data(src, pos, len).map_err(|e| Failure::Io(e.kind()))?
        else {
            break;
        };
        let mut at = start;
        while at < end {
            let n = (end - at).min(step.max(1));
            copy_range(src, dst, at, n)?;
            at += n;
            if !stepped(at) {
                return Err(Failure::Io(io::ErrorKind::Interrupted));
            }
        }
        pos = end;
    }
    Ok(())
}

/// How far the copy has got.
#[derive(Debug)]
pub(crate) struct Arrival {
    len: usize,
    state: Mutex<State>,
    cv: Condvar,
    /// The input was dropped: the copy stops.
    stop: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    ready: usize,
    failed: Option<Failure>,
}

impl Arrival {
    /// Starts copying the first `len` bytes of `src` (whose stamp when
    /// opened was `stamp`) into `dst`, which already has that length, in
    /// steps of [`STEP`] bytes (tests: of `steps.0` bytes, pausing `steps.1`
    /// after each).
    pub(crate) fn start(
        src: File,
        dst: File,
        stamp: Stamp,
        steps: Option<(usize, Duration)>,
    ) -> io::Result<Arc<Self>> {
        let (step, pause) = steps.unwrap_or((STEP, Duration::ZERO));
        let len = usize::try_from(stamp.len).map_err(|_| io::Error::other("too large"))?;
        let arrival = Arc::new(Arrival {
            len,
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let a = Arc::clone(&arrival);
        std::thread::Builder::new()
            .name("goblock-copy".into())
            .spawn(move || {
                let failed = a.copy(&src, &dst, stamp, step.max(1), pause).err();
                a.publish(len, failed);
            })?;
        Ok(arrival)
    }

    /// Copies the data ranges of `src` (holes stay holes), publishing each
    /// step but the last, then checks the file did not change.
    fn copy(
        &self,
        src: &File,
        dst: &File,
        stamp: Stamp,
        step: usize,
        pause: Duration,
    ) -> Result<(), Failure> {
        let len = self.len as u64;
        copy_data(src, dst, len, step as u64, |at| {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            if at < len {
                self.publish(at as usize, None);
            }
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
            true
        })?;
        match src.metadata() {
            Ok(m) if Stamp::from_meta(&m) == stamp => Ok(()),
            Ok(_) => Err(Failure::Changed),
            Err(e) => Err(Failure::Io(e.kind())),
        }
    }

    fn publish(&self, ready: usize, failed: Option<Failure>) {
        if let Ok(mut s) = self.state.lock() {
            s.ready = s.ready.max(ready);
            if failed.is_some() {
                s.failed = failed;
            }
        }
        self.cv.notify_all();
    }

    /// Stops the copy at its next step (the input is no longer read).
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Waits until the copy is complete, or has failed.
    pub(crate) fn wait_done(&self) -> Result<(), Failure> {
        let mut r = self.ready();
        while let Some(n) = r
            && n < self.len
        {
            r = self.wait_beyond(n);
        }
        match r {
            Some(_) => Ok(()),
            None => Err(self.failure().unwrap_or(Failure::Changed)),
        }
    }

    /// Why the copy failed, if it has.
    pub(crate) fn failure(&self) -> Option<Failure> {
        self.state.lock().ok().and_then(|s| s.failed.clone())
    }
}

impl goblock_trace::Arriving for Arrival {
    fn ready(&self) -> Option<usize> {
        let s = self.state.lock().ok()?;
        match s.failed {
            Some(_) => None,
            None => Some(s.ready),
        }
    }

    fn wait_beyond(&self, n: usize) -> Option<usize> {
        let mut s = self.state.lock().ok()?;
        while s.failed.is_none() && s.ready <= n && s.ready < self.len {
            s = self.cv.wait(s).ok()?;
        }
        match s.failed {
            Some(_) => None,
            None => Some(s.ready),
        }
    }
}

/// Copies bytes `at..at + n` of `src` to the same offsets of `dst`, in the
/// kernel; a file that ends sooner has changed.
#[cfg(target_os = "linux")]
fn copy_range(src: &File, dst: &File, at: u64, n: u64) -> Result<(), Failure> {
    use std::os::fd::AsRawFd as _;
    let (mut off_in, mut off_out) = (at as libc::loff_t, at as libc::loff_t);
    let mut left = n as usize;
    while left > 0 {
        // SAFETY: both descriptors are open for the call; the offsets are
        // ours (the files' positions are not used).
        let r = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                &mut off_in,
                dst.as_raw_fd(),
                &mut off_out,
                left,
                0,
            )
        };
        match r {
            0 => return Err(Failure::Changed),
            r if r < 0 => {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) => {}
                    // Not between these files (another file system, an
                    // old kernel): through this process instead.
                    Some(libc::EXDEV | libc::ENOSYS | libc::EOPNOTSUPP | libc::EINVAL) => {
                        return copy_through(src, dst, off_in as u64, left as u64);
                    }
                    _ => return Err(Failure::Io(e.kind())),
                }
            }
            r => left -= r as usize,
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn copy_range(src: &File, dst: &File, at: u64, n: u64) -> Result<(), Failure> {
    copy_through(src, dst, at, n)
}

/// [`copy_range`] through a buffer of this process.
#[cfg(unix)]
fn copy_through(src: &File, dst: &File, mut at: u64, n: u64) -> Result<(), Failure> {
    use std::os::unix::fs::FileExt as _;
    let end = at + n;
    let mut buf = vec![0u8; (1 << 20).min(n as usize)];
    while at < end {
        let want = ((end - at) as usize).min(buf.len());
        let got = src
            .read_at(&mut buf[..want], at)
            .map_err(|e| Failure::Io(e.kind()))?;
        if got == 0 {
            return Err(Failure::Changed);
        }
        dst.write_all_at(&buf[..got], at)
            .map_err(|e| Failure::Io(e.kind()))?;
        at += got as u64;
    }
    Ok(())
}

#[cfg(not(unix))]
fn copy_through(_: &File, _: &File, _: u64, _: u64) -> Result<(), Failure> {
    Err(Failure::Io(io::ErrorKind::Unsupported))
}
