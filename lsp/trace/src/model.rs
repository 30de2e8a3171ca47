//! The decoder's output model: interned strings, frames and stacks, and the
//! [`Episode`] — one interval a goroutine spent off-CPU in one state.
//!
//! Everything here is format-independent: the old (Go 1.11–1.21) and new
//! (Go 1.22+) decoders produce the same types. This module does not decode
//! anything and knows nothing of symbol files, source lines on disk or LSP.

use rustc_hash::FxHashMap;
use std::fmt;

/// An interned string (function name, file name, block reason …): an index
/// into [`Tables`]. `Sym(0)` is always the empty string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Sym(pub u32);

/// An interned frame: index into [`Tables`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct FrameId(pub u32);

/// An interned stack (innermost frame first): index into [`Tables`].
/// `StackId::EMPTY` is the empty stack (the trace recorded none).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct StackId(pub u32);

impl StackId {
    /// The empty stack.
    pub const EMPTY: StackId = StackId(0);
    /// Whether this is the empty stack.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// One logical frame as the trace records it. Inlined calls are their own
/// frames, each with its own PC (the runtime expands inlining).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Frame {
    /// Program counter as recorded (run-time address; return address − 1 for
    /// physical call frames).
    pub pc: u64,
    /// Fully qualified function name, e.g. `main.consumer` or `sync.(*Mutex).Lock`.
    pub func: Sym,
    /// Source file as recorded by the compiler (absolute path or `-trimpath` form).
    pub file: Sym,
    /// 1-based source line.
    pub line: u32,
}

/// Interning tables shared by every generation of a trace (and possibly by
/// several traces): memory follows distinct strings/frames/stacks, not events.
#[derive(Debug)]
pub struct Tables {
    strings: Vec<Box<str>>,
    string_ids: FxHashMap<Box<str>, Sym>,
    frames: Vec<Frame>,
    frame_ids: FxHashMap<Frame, FrameId>,
    stacks: Vec<Box<[FrameId]>>,
    stack_ids: FxHashMap<Box<[FrameId]>, StackId>,
}

impl Default for Tables {
    fn default() -> Self {
        let mut t = Tables {
            strings: Vec::new(),
            string_ids: FxHashMap::default(),
            frames: Vec::new(),
            frame_ids: FxHashMap::default(),
            stacks: Vec::new(),
            stack_ids: FxHashMap::default(),
        };
        t.intern_str("");
        t.stacks.push(Box::new([]));
        t.stack_ids.insert(Box::new([]), StackId::EMPTY);
        t
    }
}

impl Tables {
    /// New tables holding only the empty string and the empty stack.
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns a string.
    pub fn intern_str(&mut self, s: &str) -> Sym {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = Sym(self.strings.len() as u32);
        self.strings.push(s.into());
        self.string_ids.insert(s.into(), id);
        id
    }

    /// Looks a string up without interning it.
    pub fn find_str(&self, s: &str) -> Option<Sym> {
        self.string_ids.get(s).copied()
    }

    /// Interns a frame.
    pub fn intern_frame(&mut self, f: Frame) -> FrameId {
        if let Some(&id) = self.frame_ids.get(&f) {
            return id;
        }
        let id = FrameId(self.frames.len() as u32);
        self.frames.push(f);
        self.frame_ids.insert(f, id);
        id
    }

    /// Interns a stack given innermost frame first.
    pub fn intern_stack(&mut self, frames: &[FrameId]) -> StackId {
        if let Some(&id) = self.stack_ids.get(frames) {
            return id;
        }
        let id = StackId(self.stacks.len() as u32);
        self.stacks.push(frames.into());
        self.stack_ids.insert(frames.into(), id);
        id
    }

    /// The text of an interned string (empty for an unknown id).
    pub fn str(&self, s: Sym) -> &str {
        self.strings.get(s.0 as usize).map(|b| &**b).unwrap_or("")
    }

    /// An interned frame. Panics only on an id not produced by these tables.
    pub fn frame(&self, f: FrameId) -> &Frame {
        &self.frames[f.0 as usize]
    }

    /// An interned stack, innermost frame first (empty for an unknown id).
    pub fn stack(&self, s: StackId) -> &[FrameId] {
        self.stacks.get(s.0 as usize).map(|b| &**b).unwrap_or(&[])
    }

    /// Number of distinct strings (including the empty one).
    pub fn string_count(&self) -> usize {
        self.strings.len()
    }

    /// Number of distinct frames.
    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// Number of distinct stacks (including the empty one).
    pub fn stack_count(&self) -> usize {
        self.stacks.len()
    }

    /// Every distinct frame, in interning order.
    pub fn frames(&self) -> impl Iterator<Item = (FrameId, &Frame)> {
        self.frames
            .iter()
            .enumerate()
            .map(|(i, f)| (FrameId(i as u32), f))
    }
}

/// What a goroutine was waiting for, coarse-grained.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Category {
    /// Channel, select, sync.* (the predicate of `go tool trace -pprof=sync`:
    /// the reason contains "chan", "sync" or "select").
    Sync,
    /// Network poller ("network").
    Net,
    /// In a system call (syscall state, not a wait reason).
    Syscall,
    /// Runnable, waiting for a P (from unblock/preemption until running).
    Sched,
    /// time.Sleep.
    Sleep,
    /// Waiting for the garbage collector (GC assist wait, …).
    Gc,
    /// Anything else (blocked forever, unspecified, system goroutine waits).
    Other,
}

impl Category {
    /// All categories, in display order.
    pub const ALL: [Category; 7] = [
        Category::Sync,
        Category::Net,
        Category::Syscall,
        Category::Sched,
        Category::Sleep,
        Category::Gc,
        Category::Other,
    ];

    /// Category of a goroutine *waiting* (parked) with the runtime's reason
    /// string. Syscall and runnable intervals are not waits and are
    /// categorised by the decoder directly.
    pub fn of_wait_reason(reason: &str) -> Category {
        if reason.contains("chan") || reason.contains("sync") || reason.contains("select") {
            Category::Sync
        } else if reason == "network" {
            Category::Net
        } else if reason == "sleep" {
            Category::Sleep
        } else if reason.starts_with("GC") || reason.contains("garbage collection") {
            Category::Gc
        } else {
            Category::Other
        }
    }

    /// Stable lower-case name (`sync`, `net`, …) used in JSON and settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Sync => "sync",
            Category::Net => "net",
            Category::Syscall => "syscall",
            Category::Sched => "sched",
            Category::Sleep => "sleep",
            Category::Gc => "gc",
            Category::Other => "other",
        }
    }

    /// Parses [`Category::as_str`] output.
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A set of [`Category`]s (e.g. the ones an [`crate::EpisodeSink`] wants).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Categories(u8);

impl Categories {
    /// Every category.
    pub const ALL: Categories = Categories((1 << Category::ALL.len()) - 1);
    /// No category.
    pub const NONE: Categories = Categories(0);

    /// Whether `c` is in the set.
    #[inline]
    pub fn contains(self, c: Category) -> bool {
        self.0 & 1 << c as u8 != 0
    }

    /// The set with `c` added.
    pub fn with(self, c: Category) -> Categories {
        Categories(self.0 | 1 << c as u8)
    }
}

impl FromIterator<Category> for Categories {
    fn from_iter<I: IntoIterator<Item = Category>>(iter: I) -> Self {
        iter.into_iter().fold(Categories::NONE, Categories::with)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a waiting goroutine runnable again.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Waker {
    /// The waking goroutine, or `None` when the runtime woke it from a
    /// scheduler context (network poller, timer, sysmon).
    pub goroutine: Option<u64>,
    /// The waker's stack at the wake-up (empty when not recorded).
    pub stack: StackId,
}

/// One interval a goroutine spent off-CPU in one state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Episode {
    /// Goroutine id.
    pub goroutine: u64,
    /// Coarse category.
    pub category: Category,
    /// The runtime's own reason string ("chan receive", "select", "sync",
    /// "network", …); for syscalls `"syscall"`, for runnable `"runnable"`,
    /// for an unknown reason (goroutine blocked before the trace) `""`.
    pub reason: Sym,
    /// Start, ns since the trace's first timestamp (raw, not reordered).
    pub start_ns: u64,
    /// End, ns since the trace's first timestamp; the trace end when
    /// [`Episode::open_at_end`]. Never before `start_ns` (cross-M clock skew
    /// is clamped to a zero duration).
    pub end_ns: u64,
    /// The goroutine was already in this state when the trace started.
    pub began_before_trace: bool,
    /// The goroutine was still in this state when the trace ended.
    pub open_at_end: bool,
    /// The goroutine's own stack at the block (empty if not recorded).
    pub stack: StackId,
    /// Who woke it, when known.
    pub waker: Option<Waker>,
    /// Where the goroutine was created, when known.
    pub creator: Option<StackId>,
}

impl Episode {
    /// Duration in ns.
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    /// Closed: began and ended inside the trace (what `go tool trace -pprof` counts).
    pub fn is_closed(&self) -> bool {
        !self.began_before_trace && !self.open_at_end
    }
}
