//! What happens when a mapped input is cut short under us: another program
//! truncates the file (`go test -trace` run again, `> file`) while its map
//! is read, and the next page touched past the new end faults (SIGBUS).
//! Instead of "Bus error" and a core dump, the process prints one line
//! naming the file and the byte it was at — "goblock: FILE: cut short by
//! another program while it was read (at byte N); read it again once it is
//! written" — and exits with status 1.
//!
//! Only maps of a file itself are registered ([`crate::input::open`]
//! without a private copy: the CLI; the server only when no copy could be
//! made). A fault anywhere else goes to the handler that was installed
//! before (Rust's stack-overflow handler, or the default action).
//!
//! Does not recover: the thread that faulted cannot go on, so the process
//! ends. A program that must survive a rewrite maps a private copy
//! ([`crate::input::OpenOptions::snapshot`]). Unix only; elsewhere
//! [`watch`] does nothing.

/// Keeps a map registered until dropped (drop it before unmapping).
#[derive(Debug)]
pub struct Watched {
    #[cfg(unix)]
    slot: Option<usize>,
}

/// Registers the map at `base` (`len` bytes) of `path`. With more maps
/// open at once than there are slots, the extra ones are not watched (they
/// fault as before).
pub fn watch(base: *const u8, len: usize, path: &std::path::Path) -> Watched {
    #[cfg(unix)]
    {
        Watched {
            slot: unix::register(base as usize, len, path),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (base, len, path);
        Watched {}
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(slot) = self.slot {
            unix::unregister(slot);
        }
    }
}

#[cfg(unix)]
mod unix {
    use std::sync::Once;
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

    struct Slot {
        used: AtomicBool,
        /// Start of the map; 0 while the slot is not active.
        base: AtomicUsize,
        len: AtomicUsize,
        /// The message up to the offset, leaked while registered.
        msg: AtomicPtr<u8>,
        msg_len: AtomicUsize,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Slot = Slot {
        used: AtomicBool::new(false),
        base: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        msg: AtomicPtr::new(std::ptr::null_mut()),
        msg_len: AtomicUsize::new(0),
    };
    const SLOTS: usize = 64;
    static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
    static INSTALL: Once = Once::new();
    static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::uninit();
    static INSTALLED: AtomicBool = AtomicBool::new(false);

    pub(super) fn register(base: usize, len: usize, path: &std::path::Path) -> Option<usize> {
        if base == 0 || len == 0 {
            return None;
        }
        INSTALL.call_once(install);
        if !INSTALLED.load(Ordering::Acquire) {
            return None;
        }
        let i = TABLE.iter().position(|s| {
            s.used
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        let msg = format!(
            "goblock: {}: cut short by another program while it was read (at byte ",
            path.display()
        )
        .into_bytes()
        .into_boxed_slice();
        let s = &TABLE[i];
        s.msg_len.store(msg.len(), Ordering::Relaxed);
        s.msg
            .store(Box::into_raw(msg).cast::<u8>(), Ordering::Relaxed);
        s.len.store(len, Ordering::Relaxed);
        s.base.store(base, Ordering::Release);
        Some(i)
    }

    pub(super) fn unregister(i: usize) {
        let s = &TABLE[i];
        s.base.store(0, Ordering::Release);
        let p = s.msg.swap(std::ptr::null_mut(), Ordering::AcqRel);
        let n = s.msg_len.load(Ordering::Relaxed);
        if !p.is_null() {
            // SAFETY: made by `register` from a boxed slice of `n` bytes;
            // the map is still mapped, so no fault can be reading it now.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n)) });
        }
        s.used.store(false, Ordering::Release);
    }

    fn install() {
        // SAFETY: plain sigaction calls; PREVIOUS is written once, here,
        // before INSTALLED publishes it.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = handler as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut act.sa_mask);
            let prev = &raw mut PREVIOUS;
            if libc::sigaction(libc::SIGBUS, &act, (*prev).as_mut_ptr()) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    }

    extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: only async-signal-safe calls (write, _exit, sigaction).
        unsafe {
            let addr = (*info).si_addr() as usize;
            for s in &TABLE {
                let base = s.base.load(Ordering::Acquire);
                if base == 0 || addr < base || addr - base >= s.len.load(Ordering::Relaxed) {
                    continue;
                }
                let msg = s.msg.load(Ordering::Acquire);
                if !msg.is_null() {
                    libc::write(2, msg.cast(), s.msg_len.load(Ordering::Relaxed));
                }
                let mut digits = [0u8; 24];
                let mut n = addr - base;
                let mut at = digits.len();
                loop {
                    at -= 1;
                    digits[at] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                libc::write(2, digits[at..].as_ptr().cast(), digits.len() - at);
                let tail = b"); read it again once it is written\n";
                libc::write(2, tail.as_ptr().cast(), tail.len());
                libc::_exit(1);
            }
            // Not ours: hand it to whoever handled SIGBUS before.
            let prev: &libc::sigaction = &*(&raw const PREVIOUS).cast::<libc::sigaction>();
            let h = prev.sa_sigaction;
            if h == libc::SIG_DFL || h == libc::SIG_IGN {
                libc::sigaction(libc::SIGBUS, prev, std::ptr::null_mut());
                // Returning re-runs the faulting access: the default action.
            } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(h);
                f(sig, info, ctx);
            } else {
                let f: extern "C" fn(libc::c_int) = std::mem::transmute(h);
                f(sig);
            }
        }
    }
}
