//! The v2 wire-format event table: event type codes, argument counts,
//! which arguments are stack / string ids, and which trace versions may
//! contain each event.
//!
//! Mirrors Go's `internal/trace/tracev2/events.go` (identical in Go 1.26 and
//! Go 1.27) and `internal/trace/version/version.go`. Header versions: Go 1.22
//! writes `go 1.22`, Go 1.23 and 1.24 write `go 1.23`, Go 1.25 writes
//! `go 1.25`, Go 1.26 **and Go 1.27** write `go 1.26` (checked in the Go 1.27.3
//! runtime source, `runtime/trace.go`, and on traces it wrote). No Go release
//! writes `go 1.27`; such a header is decoded with the 1.26 table.
//!
//! This module only describes events; it does not decode or interpret them.

/// Event type codes (first byte of every event).
pub(crate) mod ev {
    pub const EVENT_BATCH: u8 = 1;
    pub const STACKS: u8 = 2;
    pub const STACK: u8 = 3;
    pub const STRINGS: u8 = 4;
    pub const STRING: u8 = 5;
    pub const CPU_SAMPLES: u8 = 6;
    pub const CPU_SAMPLE: u8 = 7;
    pub const FREQUENCY: u8 = 8;
    pub const PROCS_CHANGE: u8 = 9;
    pub const PROC_START: u8 = 10;
    pub const PROC_STOP: u8 = 11;
    pub const PROC_STEAL: u8 = 12;
    pub const PROC_STATUS: u8 = 13;
    pub const GO_CREATE: u8 = 14;
    pub const GO_CREATE_SYSCALL: u8 = 15;
    pub const GO_START: u8 = 16;
    pub const GO_DESTROY: u8 = 17;
    pub const GO_DESTROY_SYSCALL: u8 = 18;
    pub const GO_STOP: u8 = 19;
    pub const GO_BLOCK: u8 = 20;
    pub const GO_UNBLOCK: u8 = 21;
    pub const GO_SYSCALL_BEGIN: u8 = 22;
    pub const GO_SYSCALL_END: u8 = 23;
    pub const GO_SYSCALL_END_BLOCKED: u8 = 24;
    pub const GO_STATUS: u8 = 25;
    pub const STW_BEGIN: u8 = 26;
    pub const STW_END: u8 = 27;
    pub const GC_ACTIVE: u8 = 28;
    pub const GC_BEGIN: u8 = 29;
    pub const GC_END: u8 = 30;
    pub const GC_SWEEP_ACTIVE: u8 = 31;
    pub const GC_SWEEP_BEGIN: u8 = 32;
    pub const GC_SWEEP_END: u8 = 33;
    pub const GC_MARK_ASSIST_ACTIVE: u8 = 34;
    pub const GC_MARK_ASSIST_BEGIN: u8 = 35;
    pub const GC_MARK_ASSIST_END: u8 = 36;
    pub const HEAP_ALLOC: u8 = 37;
    pub const HEAP_GOAL: u8 = 38;
    pub const GO_LABEL: u8 = 39;
    pub const USER_TASK_BEGIN: u8 = 40;
    pub const USER_TASK_END: u8 = 41;
    pub const USER_REGION_BEGIN: u8 = 42;
    pub const USER_REGION_END: u8 = 43;
    pub const USER_LOG: u8 = 44;
    pub const GO_SWITCH: u8 = 45;
    pub const GO_SWITCH_DESTROY: u8 = 46;
    pub const GO_CREATE_BLOCKED: u8 = 47;
    pub const GO_STATUS_STACK: u8 = 48;
    pub const EXPERIMENTAL_BATCH: u8 = 49;
    pub const SYNC: u8 = 50;
    pub const CLOCK_SNAPSHOT: u8 = 51;
    pub const END_OF_GENERATION: u8 = 52;
    /// First experimental (AllocFree) event code; they run to 136.
    pub const FIRST_EXPERIMENTAL: u8 = 128;
    pub const LAST_EXPERIMENTAL: u8 = 136;
}

/// `tracev2.MaxBatchSize`: largest batch payload.
pub(crate) const MAX_BATCH_SIZE: u64 = 64 << 10;
/// `tracev2.MaxFramesPerStack`.
pub(crate) const MAX_FRAMES_PER_STACK: u64 = 128;
/// `tracev2.MaxEventTrailerDataSize`: longest string.
pub(crate) const MAX_STRING_LEN: u64 = 1 << 10;
/// Arguments of a timed event after the timestamp delta (`MaxTimedEventArgs - 1`).
pub(crate) const MAX_ARGS: usize = 4;

/// Marks "no argument" in [`Spec::stacks`] / [`Spec::strings`].
const NO: u8 = u8::MAX;

/// What the decoder needs to know about one event type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spec {
    /// Go's name for the event (used in error messages).
    pub name: &'static str,
    /// Whether the event appears in ordinary event batches with a
    /// timestamp delta as first argument (`IsTimedEvent`).
    pub timed: bool,
    /// Number of arguments after the type byte, timestamp delta included.
    pub nargs: u8,
    /// Indexes (into the arguments *after* the delta) of stack ids; the
    /// first is the event's own stack. `NO` when absent.
    pub stacks: [u8; 2],
    /// Indexes (into the arguments after the delta) of string ids.
    pub strings: [u8; 2],
    /// First trace version (header minor) that may contain the event.
    pub since: u32,
}

impl Spec {
    /// Stack-id argument indexes (after the delta), own stack first.
    pub fn stack_args(&self) -> impl Iterator<Item = usize> + '_ {
        self.stacks
            .iter()
            .take_while(|&&i| i != NO)
            .map(|&i| i as usize)
    }

    /// String-id argument indexes (after the delta).
    pub fn string_args(&self) -> impl Iterator<Item = usize> + '_ {
        self.strings
            .iter()
            .take_while(|&&i| i != NO)
            .map(|&i| i as usize)
    }
}

const fn s(name: &'static str, nargs: u8, stacks: [u8; 2], strings: [u8; 2], since: u32) -> Spec {
    Spec {
        name,
        timed: true,
        nargs,
        stacks,
        strings,
        since,
    }
}

const fn structural(name: &'static str, since: u32) -> Spec {
    Spec {
        name,
        timed: false,
        nargs: 0,
        stacks: [NO, NO],
        strings: [NO, NO],
        since,
    }
}

const NONE: [u8; 2] = [NO, NO];
const fn one(i: u8) -> [u8; 2] {
    [i, NO]
}

const INVALID: Spec = Spec {
    name: "",
    timed: false,
    nargs: 0,
    stacks: NONE,
    strings: NONE,
    since: u32::MAX,
};

/// The spec table indexed by event type (256 entries; unknown types have an
/// empty name and `since == u32::MAX`).
pub(crate) static SPECS: [Spec; 256] = {
    let mut t = [INVALID; 256];
    t[ev::EVENT_BATCH as usize] = structural("EventBatch", 22);
    t[ev::STACKS as usize] = structural("Stacks", 22);
    t[ev::STACK as usize] = structural("Stack", 22);
    t[ev::STRINGS as usize] = structural("Strings", 22);
    t[ev::STRING as usize] = structural("String", 22);
    t[ev::CPU_SAMPLES as usize] = structural("CPUSamples", 22);
    t[ev::CPU_SAMPLE as usize] = structural("CPUSample", 22);
    t[ev::FREQUENCY as usize] = structural("Frequency", 22);
    t[ev::PROCS_CHANGE as usize] = s("ProcsChange", 3, one(1), NONE, 22);
    t[ev::PROC_START as usize] = s("ProcStart", 3, NONE, NONE, 22);
    t[ev::PROC_STOP as usize] = s("ProcStop", 1, NONE, NONE, 22);
    t[ev::PROC_STEAL as usize] = s("ProcSteal", 4, NONE, NONE, 22);
    t[ev::PROC_STATUS as usize] = s("ProcStatus", 3, NONE, NONE, 22);
    t[ev::GO_CREATE as usize] = s("GoCreate", 4, [2, 1], NONE, 22);
    t[ev::GO_CREATE_SYSCALL as usize] = s("GoCreateSyscall", 2, NONE, NONE, 22);
    t[ev::GO_START as usize] = s("GoStart", 3, NONE, NONE, 22);
    t[ev::GO_DESTROY as usize] = s("GoDestroy", 1, NONE, NONE, 22);
    t[ev::GO_DESTROY_SYSCALL as usize] = s("GoDestroySyscall", 1, NONE, NONE, 22);
    t[ev::GO_STOP as usize] = s("GoStop", 3, one(1), one(0), 22);
    t[ev::GO_BLOCK as usize] = s("GoBlock", 3, one(1), one(0), 22);
    t[ev::GO_UNBLOCK as usize] = s("GoUnblock", 4, one(2), NONE, 22);
    t[ev::GO_SYSCALL_BEGIN as usize] = s("GoSyscallBegin", 3, one(1), NONE, 22);
    t[ev::GO_SYSCALL_END as usize] = s("GoSyscallEnd", 1, NONE, NONE, 22);
    t[ev::GO_SYSCALL_END_BLOCKED as usize] = s("GoSyscallEndBlocked", 1, NONE, NONE, 22);
    t[ev::GO_STATUS as usize] = s("GoStatus", 4, NONE, NONE, 22);
    t[ev::STW_BEGIN as usize] = s("STWBegin", 3, one(1), one(0), 22);
    t[ev::STW_END as usize] = s("STWEnd", 1, NONE, NONE, 22);
    t[ev::GC_ACTIVE as usize] = s("GCActive", 2, NONE, NONE, 22);
    t[ev::GC_BEGIN as usize] = s("GCBegin", 3, one(1), NONE, 22);
    t[ev::GC_END as usize] = s("GCEnd", 2, NONE, NONE, 22);
    t[ev::GC_SWEEP_ACTIVE as usize] = s("GCSweepActive", 2, NONE, NONE, 22);
    t[ev::GC_SWEEP_BEGIN as usize] = s("GCSweepBegin", 2, one(0), NONE, 22);
    t[ev::GC_SWEEP_END as usize] = s("GCSweepEnd", 3, NONE, NONE, 22);
    t[ev::GC_MARK_ASSIST_ACTIVE as usize] = s("GCMarkAssistActive", 2, NONE, NONE, 22);
    t[ev::GC_MARK_ASSIST_BEGIN as usize] = s("GCMarkAssistBegin", 2, one(0), NONE, 22);
    t[ev::GC_MARK_ASSIST_END as usize] = s("GCMarkAssistEnd", 1, NONE, NONE, 22);
    t[ev::HEAP_ALLOC as usize] = s("HeapAlloc", 2, NONE, NONE, 22);
    t[ev::HEAP_GOAL as usize] = s("HeapGoal", 2, NONE, NONE, 22);
    t[ev::GO_LABEL as usize] = s("GoLabel", 2, NONE, one(0), 22);
    t[ev::USER_TASK_BEGIN as usize] = s("UserTaskBegin", 5, one(3), one(2), 22);
    t[ev::USER_TASK_END as usize] = s("UserTaskEnd", 3, one(1), NONE, 22);
    t[ev::USER_REGION_BEGIN as usize] = s("UserRegionBegin", 4, one(2), one(1), 22);
    t[ev::USER_REGION_END as usize] = s("UserRegionEnd", 4, one(2), one(1), 22);
    t[ev::USER_LOG as usize] = s("UserLog", 5, one(3), [1, 2], 22);
    t[ev::GO_SWITCH as usize] = s("GoSwitch", 3, NONE, NONE, 23);
    t[ev::GO_SWITCH_DESTROY as usize] = s("GoSwitchDestroy", 3, NONE, NONE, 23);
    t[ev::GO_CREATE_BLOCKED as usize] = s("GoCreateBlocked", 4, [2, 1], NONE, 23);
    t[ev::GO_STATUS_STACK as usize] = s("GoStatusStack", 5, one(3), NONE, 23);
    t[ev::EXPERIMENTAL_BATCH as usize] = structural("ExperimentalBatch", 23);
    t[ev::SYNC as usize] = structural("Sync", 25);
    // Timed in Go's table, but only ever found inside sync batches.
    t[ev::CLOCK_SNAPSHOT as usize] = s("ClockSnapshot", 4, NONE, NONE, 25);
    t[ev::END_OF_GENERATION as usize] = structural("EndOfGeneration", 26);
    // AllocFree experiment (GOEXPERIMENT=traceallocfree), Go 1.23+.
    t[128] = s("Span", 4, NONE, NONE, 23);
    t[129] = s("SpanAlloc", 4, NONE, NONE, 23);
    t[130] = s("SpanFree", 2, NONE, NONE, 23);
    t[131] = s("HeapObject", 3, NONE, NONE, 23);
    t[132] = s("HeapObjectAlloc", 3, NONE, NONE, 23);
    t[133] = s("HeapObjectFree", 2, NONE, NONE, 23);
    t[134] = s("GoroutineStack", 3, NONE, NONE, 23);
    t[135] = s("GoroutineStackAlloc", 3, NONE, NONE, 23);
    t[136] = s("GoroutineStackFree", 2, NONE, NONE, 23);
    t
};

/// Per event type, which arguments (after the delta) are ids: bit `i` set
/// = argument `i` is a stack id, bit `4 + i` = a string id.
pub(crate) static ID_ARGS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut typ = 0;
    while typ < 256 {
        let sp = &SPECS[typ];
        let mut bits = 0u8;
        let mut k = 0;
        while k < 2 {
            if sp.stacks[k] != NO {
                bits |= 1 << sp.stacks[k];
            }
            if sp.strings[k] != NO {
                bits |= 1 << (4 + sp.strings[k]);
            }
            k += 1;
        }
        t[typ] = bits;
        typ += 1;
    }
    t
};

/// The spec of an event type.
#[inline]
pub(crate) fn spec(typ: u8) -> &'static Spec {
    &SPECS[typ as usize]
}

/// A printable event name (`Invalid(N)` for unknown codes); formats
/// without allocating.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Name(u8);

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = spec(self.0);
        if s.name.is_empty() {
            write!(f, "Invalid({})", self.0)
        } else {
            f.write_str(s.name)
        }
    }
}

/// The [`Name`] of an event type.
#[inline]
pub(crate) fn name(typ: u8) -> Name {
    Name(typ)
}

/// Whether a trace whose header says `go 1.<minor>` may contain `typ`
/// (Go's `version.Version.Specs()`: 1.22 up to UserLog, 1.23 up to
/// ExperimentalBatch, 1.25 up to ClockSnapshot, 1.26 everything).
#[inline]
pub(crate) fn valid_in(typ: u8, minor: u32) -> bool {
    spec(typ).since <= minor
}

/// `Go125`: sync batches (`EvSync` + ClockSnapshot) replace the lone frequency batch.
pub(crate) const GO125: u32 = 25;
/// `Go126`: in-band end-of-generation byte.
pub(crate) const GO126: u32 = 26;

#[cfg(test)]
mod tests {
    use super::*;

    /// Cross-checks the table against Go's own `tracev2/events.go` (from the
    /// installed Go toolchain; skipped when none is found).
    #[test]
    fn table_matches_go_source() {
        let goroot = std::process::Command::new("go")
            .args(["env", "GOROOT"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "/usr/local/go".into());
        let path = format!("{goroot}/src/internal/trace/tracev2/events.go");
        let Ok(src) = std::fs::read_to_string(&path) else {
            eprintln!("skipped: {path} not found");
            return;
        };
        // Event codes: the `EvNone EventType = iota` block, then the
        // experimental `MaxEvent EventType = 127 + iota` block.
        let mut codes = std::collections::HashMap::new();
        for (marker, base) in [
            ("EvNone EventType = iota", 0u32),
            ("MaxEvent EventType = 127 + iota", 127),
        ] {
            let block = &src[src.find(marker).unwrap()..];
            let block = &block[..block.find("\n)").unwrap()];
            let mut n = base;
            for line in block.lines() {
                let line = line.trim();
                let Some(word) = line.split_whitespace().next() else {
                    continue;
                };
                if word.starts_with("//") {
                    continue;
                }
                if word.starts_with("Ev") || word == "MaxEvent" {
                    codes.insert(word.to_string(), n);
                }
                n += 1;
            }
        }
        let specs = &src[src.find("var specs = [...]EventSpec{").unwrap()..];
        let mut checked = 0;
        let mut rest = specs;
        while let Some(i) = rest.find("\n\tEv") {
            rest = &rest[i + 2..];
            let (head, body) = rest.split_once(": {").unwrap();
            let body = &body[..body.find("\n\t},").unwrap()];
            let code = codes[head.trim()] as u8;
            let sp = spec(code);
            let list = |field: &str| -> Vec<String> {
                body.lines()
                    .find(|l| l.trim_start().starts_with(field))
                    .map(|l| {
                        let inner = &l[l.find('{').unwrap() + 1..l.rfind('}').unwrap()];
                        inner
                            .split(',')
                            .map(|x| x.trim().trim_matches('"').to_string())
                            .filter(|x| !x.is_empty())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let name = body
                .lines()
                .find_map(|l| l.trim().strip_prefix("Name:"))
                .unwrap()
                .trim()
                .trim_end_matches(',')
                .trim_matches('"');
            assert_eq!(sp.name, name, "code {code}");
            let timed = body.contains("IsTimedEvent: true");
            assert_eq!(sp.timed, timed, "{name}");
            if timed {
                assert_eq!(sp.nargs as usize, list("Args:").len(), "{name}");
                assert!(sp.nargs as usize <= MAX_ARGS + 1);
                let stacks: Vec<usize> = list("StackIDs:")
                    .iter()
                    .map(|x| x.parse::<usize>().unwrap() - 1)
                    .collect();
                assert_eq!(sp.stack_args().collect::<Vec<_>>(), stacks, "{name}");
                let strings: Vec<usize> = list("StringIDs:")
                    .iter()
                    .map(|x| x.parse::<usize>().unwrap() - 1)
                    .collect();
                assert_eq!(sp.string_args().collect::<Vec<_>>(), strings, "{name}");
            }
            checked += 1;
        }
        assert!(checked >= 60, "only {checked} specs parsed from {path}");
        // Every code we know is in Go's table.
        for code in 0..=255u8 {
            if !spec(code).name.is_empty() {
                assert!(codes.values().any(|&c| c == code as u32), "{}", name(code));
            }
        }
    }

    #[test]
    fn version_validity() {
        assert!(valid_in(ev::USER_LOG, 22));
        assert!(!valid_in(ev::GO_SWITCH, 22));
        assert!(valid_in(ev::GO_STATUS_STACK, 23));
        assert!(!valid_in(ev::SYNC, 23));
        assert!(valid_in(ev::CLOCK_SNAPSHOT, 25));
        assert!(!valid_in(ev::END_OF_GENERATION, 25));
        assert!(valid_in(ev::END_OF_GENERATION, 26));
        assert!(valid_in(ev::END_OF_GENERATION, 27));
        assert!(!valid_in(53, 27));
        assert!(!valid_in(128, 22));
        assert!(valid_in(136, 23));
        assert!(!valid_in(137, 27));
        assert_eq!(name(200).to_string(), "Invalid(200)");
    }
}
