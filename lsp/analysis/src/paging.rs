//! The pages of a mapped input around the decoder: those it has passed are
//! released, so resident memory stays far below the file size; the next
//! [`Paging::AHEAD`] bytes are asked for, so the decoder's threads find
//! them in memory instead of each waiting for the disk at its first touch
//! of a page (figures in `docs/performance.md`, "Around the decoder").
//!
//! Does not read a byte itself, and decides nothing about what the decoder
//! reads: it follows the progress the decoder reports.

use std::ops::Range;

use crate::input::Input;

/// What [`Paging`] tells the kernel about an input's pages.
pub(crate) trait Pages {
    /// The input's length, bytes.
    fn len(&self) -> usize;
    /// Drop these pages from memory (read again if touched).
    fn release(&self, range: Range<usize>);
    /// Start reading these pages into memory, without waiting.
    fn prefetch(&self, range: Range<usize>);
}

impl Pages for Input {
    fn len(&self) -> usize {
        self.bytes().len()
    }
    fn release(&self, range: Range<usize>) {
        Input::release(self, range)
    }
    fn prefetch(&self, range: Range<usize>) {
        Input::prefetch(self, range)
    }
}

/// Releases behind and asks ahead of the decoder's reported position.
pub(crate) struct Paging<'a> {
    pages: &'a dyn Pages,
    /// Bytes below this are released.
    released: usize,
    /// Bytes below this were asked for.
    fetched: usize,
    /// The decoder's position at the last call.
    done: usize,
    /// Ask for nothing: a copy still being made is in memory as it is
    /// written, and not yet whole on disk.
    no_prefetch: bool,
}

impl<'a> Paging<'a> {
    /// Released and asked for in steps of this many bytes.
    pub const STEP: usize = 16 << 20;
    /// Asked for this far ahead of the decoder's position: beyond the
    /// generations the parallel decoder has in flight (three of 15–25 MB
    /// in the bench trace).
    pub const AHEAD: usize = 96 << 20;

    /// Paging for `input`, the first [`Paging::AHEAD`] bytes asked for.
    pub fn new(input: &'a Input) -> Self {
        Self::of(input, input.arriving().is_some())
    }

    pub(crate) fn of(pages: &'a dyn Pages, no_prefetch: bool) -> Self {
        let mut p = Paging {
            pages,
            released: 0,
            fetched: 0,
            done: 0,
            no_prefetch,
        };
        p.advance(0);
        p
    }

    /// The decoder has got to byte `done`.
    pub fn advance(&mut self, done: u64) {
        let len = self.pages.len();
        let done = usize::try_from(done).unwrap_or(usize::MAX).min(len);
        // The old-format decoder reads the file twice: when progress
        // starts over, the pages are read again and must be asked for and
        // released again.
        if done < self.done {
            self.released = 0;
            self.fetched = 0;
        }
        self.done = done;
        let behind = done / Self::STEP * Self::STEP;
        if behind > self.released {
            self.pages.release(self.released..behind);
            self.released = behind;
        }
        let ahead = done
            .saturating_add(Self::AHEAD)
            .div_ceil(Self::STEP)
            .saturating_mul(Self::STEP)
            .min(len);
        if ahead > self.fetched && !self.no_prefetch {
            self.pages.prefetch(self.fetched.max(done)..ahead);
            self.fetched = ahead;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    const MB: usize = 1 << 20;

    /// Records what it is told.
    struct Told {
        len: usize,
        said: RefCell<Vec<(&'static str, Range<usize>)>>,
    }

    impl Pages for Told {
        fn len(&self) -> usize {
            self.len
        }
        fn release(&self, range: Range<usize>) {
            self.said.borrow_mut().push(("release", range));
        }
        fn prefetch(&self, range: Range<usize>) {
            self.said.borrow_mut().push(("prefetch", range));
        }
    }

    fn told(len: usize) -> Told {
        Told {
            len,
            said: RefCell::new(Vec::new()),
        }
    }

    fn take(t: &Told) -> Vec<(&'static str, Range<usize>)> {
        std::mem::take(&mut *t.said.borrow_mut())
    }

    #[test]
    fn asks_ahead_and_releases_behind_once_each() {
        let t = told(300 * MB);
        let mut p = Paging::of(&t, false);
        assert_eq!(take(&t), [("prefetch", 0..96 * MB)]);
        // Within the first step: nothing to release; 5 + 96 MB rounds up
        // to 112 MB.
        p.advance(5 * MB as u64);
        assert_eq!(take(&t), [("prefetch", 96 * MB..112 * MB)]);
        p.advance(5 * MB as u64);
        assert!(take(&t).is_empty());
        p.advance(40 * MB as u64);
        assert_eq!(
            take(&t),
            [("release", 0..32 * MB), ("prefetch", 112 * MB..144 * MB)]
        );
        // Never past the end.
        p.advance(290 * MB as u64);
        assert_eq!(
            take(&t),
            [
                ("release", 32 * MB..288 * MB),
                ("prefetch", 290 * MB..300 * MB)
            ]
        );
        p.advance(300 * MB as u64);
        assert!(take(&t).is_empty());
    }

    #[test]
    fn a_second_pass_is_asked_for_again() {
        let t = told(200 * MB);
        let mut p = Paging::of(&t, false);
        p.advance(200 * MB as u64);
        take(&t);
        p.advance(0);
        assert_eq!(take(&t), [("prefetch", 0..96 * MB)]);
        p.advance(20 * MB as u64);
        assert_eq!(
            take(&t),
            [("release", 0..16 * MB), ("prefetch", 96 * MB..128 * MB)]
        );
    }

    #[test]
    fn an_arriving_copy_is_only_released() {
        let t = told(100 * MB);
        let mut p = Paging::of(&t, true);
        p.advance(50 * MB as u64);
        assert_eq!(take(&t), [("release", 0..48 * MB)]);
    }
}
