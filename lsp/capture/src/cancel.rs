//! A cancellation token shared between the caller (a user's cancel, a
//! newer capture) and a running capture, which waits on it instead of
//! sleeping. Does not kill anything itself.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Cloneable; every clone sees the same state.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl Cancel {
    /// A token not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels: every waiter wakes up.
    pub fn cancel(&self) {
        let (m, cv) = &*self.inner;
        *m.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits up to `d` (or until `deadline`, if earlier); returns whether
    /// the token is cancelled.
    pub fn wait(&self, d: Duration, deadline: Option<Instant>) -> bool {
        let until = match deadline {
            Some(t) => t.min(Instant::now() + d),
            None => Instant::now() + d,
        };
        let (m, cv) = &*self.inner;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        while !*g {
            let now = Instant::now();
            if now >= until {
                break;
            }
            g = cv
                .wait_timeout(g, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_waiters() {
        let c = Cancel::new();
        assert!(!c.wait(Duration::from_millis(1), None));
        let c2 = c.clone();
        let t = std::thread::spawn(move || c2.wait(Duration::from_secs(30), None));
        std::thread::sleep(Duration::from_millis(20));
        c.cancel();
        assert!(t.join().unwrap());
        assert!(c.is_cancelled());
    }
}
