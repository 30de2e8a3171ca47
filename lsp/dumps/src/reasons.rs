//! The status strings a goroutine dump prints between `[` and `]`
//! (`runtime/runtime2.go: waitReasonStrings` and `gStatusStrings`, Go 1.11
//! to 1.27) and the goblock [`Category`] of each.
//!
//! Matching is on the strings, by longest prefix (the enum's numeric order
//! differs between Go versions, and several strings are prefixes of others:
//! `chan receive` / `chan receive (nil chan)`). A string that is in no
//! table is kept as printed and categorised `Other`.
//!
//! Does not parse the header around the status (that is `header.rs`).

use std::sync::LazyLock;

use goblock_trace::Category;
use rustc_hash::FxHashMap;

/// What a status string means to goblock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reason {
    /// The string as the runtime prints it.
    pub text: &'static str,
    /// goblock's category.
    pub category: Category,
    /// The goroutine can never be woken (`select (no cases)`, nil channel).
    pub forever: bool,
}

const fn r(text: &'static str, category: Category) -> Reason {
    Reason {
        text,
        category,
        forever: false,
    }
}

const fn never(text: &'static str) -> Reason {
    Reason {
        text,
        category: Category::Other,
        forever: true,
    }
}

use Category::{Gc, Net, Other, Sched, Sleep, Sync, Syscall};

/// Every status string of Go 1.11–1.27, wait reasons and plain statuses.
/// `semacquire` is sync here (the trace calls the same parks "sync"); the
/// never-woken waits are kept apart as `forever` (trace: "forever").
pub const REASONS: &[Reason] = &[
    // Channels, select, sync.
    r("chan receive", Sync),
    r("chan send", Sync),
    r("select", Sync),
    r("sync.Cond.Wait", Sync),
    r("semacquire", Sync),
    r("sync.Mutex.Lock", Sync),
    r("sync.RWMutex.RLock", Sync),
    r("sync.RWMutex.Lock", Sync),
    r("sync.WaitGroup.Wait", Sync),
    r("synctest.Run", Sync),
    r("synctest.Wait", Sync),
    r("chan receive (durable)", Sync),
    r("chan send (durable)", Sync),
    r("select (durable)", Sync),
    r("sync.WaitGroup.Wait (durable)", Sync),
    never("chan receive (nil chan)"),
    never("chan send (nil chan)"),
    never("select (no cases)"),
    // Network poller (sockets, pipes and other pollable files).
    r("IO wait", Net),
    r("sleep", Sleep),
    // Garbage collector.
    r("GC assist marking", Gc),
    r("GC assist wait", Gc),
    r("GC sweep wait", Gc),
    r("GC scavenge wait", Gc),
    r("GC worker (idle)", Gc),
    r("GC worker (active)", Gc),
    r("garbage collection", Gc),
    r("garbage collection scan", Gc),
    r("GC mark termination", Gc),
    r("wait for GC cycle", Gc),
    r("GC weak to strong wait", Gc),
    r("force gc (idle)", Gc),
    r("finalizer wait", Gc),
    r("cleanup wait", Gc),
    // Others.
    r("dumping heap", Other),
    r("panicwait", Other),
    r("timer goroutine (idle)", Other),
    r("trace reader (blocked)", Other),
    r("preempted", Other),
    r("debug call", Other),
    r("stopping the world", Other),
    r("flushing proc caches", Other),
    r("trace goroutine status", Other),
    r("trace proc status", Other),
    r("page trace flush", Other),
    r("coroutine", Other),
    r("GOMAXPROCS updater (idle)", Other),
    // Plain statuses (gStatusStrings).
    r("runnable", Sched),
    r("running", Other),
    r("syscall", Syscall),
    r("waiting for cgo callback", Other),
    r("waiting", Other),
    r("idle", Other),
    r("dead", Other),
    r("copystack", Other),
    r("leaked", Other),
    r("unknown wait reason", Other),
    r("???", Other),
];

/// The longest known status string `s` starts with, if any.
pub fn longest_prefix(s: &str) -> Option<&'static Reason> {
    // No status string holds a comma: when the text up to the first one
    // (`chan receive` of `chan receive, 5 minutes`) is a status, it is the
    // longest. One lookup instead of a pass over the table per goroutine.
    let head = memchr::memchr(b',', s.as_bytes()).map_or(s, |i| &s[..i]);
    match by_text().get(head) {
        Some(r) => Some(r),
        None => scan(s),
    }
}

/// [`longest_prefix`] by a pass over the table.
fn scan(s: &str) -> Option<&'static Reason> {
    // The first byte rules out most strings without a call to memcmp.
    let first = s.as_bytes().first()?;
    REASONS
        .iter()
        .filter(|r| r.text.as_bytes().first() == Some(first) && s.starts_with(r.text))
        // A prefix must end at a word boundary: "select" is not the status
        // of "selectfoo".
        .filter(|r| {
            s[r.text.len()..]
                .chars()
                .next()
                .is_none_or(|c| matches!(c, ',' | ' ' | ']'))
        })
        .max_by_key(|r| r.text.len())
}

/// [`REASONS`] by their text.
fn by_text() -> &'static FxHashMap<&'static str, &'static Reason> {
    static MAP: LazyLock<FxHashMap<&'static str, &'static Reason>> =
        LazyLock::new(|| REASONS.iter().map(|r| (r.text, r)).collect());
    &MAP
}

/// The category of a status string printed in a dump (unknown → `Other`).
pub fn category_of(status: &str) -> Category {
    longest_prefix(status).map_or(Category::Other, |r| r.category)
}

/// Whether a goroutine with this status can never be woken.
pub fn is_forever(status: &str) -> bool {
    longest_prefix(status).is_some_and(|r| r.forever && r.text == status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(
            longest_prefix("chan receive (nil chan)").unwrap().text,
            "chan receive (nil chan)"
        );
        assert_eq!(
            longest_prefix("chan receive, 5 minutes").unwrap().text,
            "chan receive"
        );
        assert_eq!(
            longest_prefix("garbage collection scan").unwrap().text,
            "garbage collection scan"
        );
        assert!(longest_prefix("selection").is_none());
        assert_eq!(category_of("semacquire"), Category::Sync);
        assert_eq!(category_of("IO wait"), Category::Net);
        assert_eq!(category_of("runnable"), Category::Sched);
        assert_eq!(category_of("syscall"), Category::Syscall);
        assert_eq!(category_of("something new"), Category::Other);
        assert!(is_forever("select (no cases)"));
        assert!(!is_forever("select"));
    }

    #[test]
    fn lookup_as_scan() {
        for r in REASONS {
            for suffix in [
                "",
                ", 3 minutes",
                " (leaked)",
                "x",
                "]",
                ",",
                " labels:{\"a\": \"b\"}",
            ] {
                let s = format!("{}{suffix}", r.text);
                assert_eq!(
                    longest_prefix(&s).map(|r| r.text),
                    scan(&s).map(|r| r.text),
                    "{s}"
                );
            }
        }
    }

    #[test]
    fn no_duplicates_no_commas() {
        for (i, a) in REASONS.iter().enumerate() {
            // longest_prefix's shortcut relies on it.
            assert!(!a.text.contains(','), "{}", a.text);
            for b in &REASONS[i + 1..] {
                assert_ne!(a.text, b.text);
            }
        }
    }
}
