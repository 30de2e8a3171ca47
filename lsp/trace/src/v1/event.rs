//! Old-format (Go 1.11–1.21) event types: codes, names and how many values
//! each carries on the wire (after the type byte), as the go1.21 runtime
//! writes them and `internal/trace` reads them.
//!
//! Only the formats written by Go 1.11 and later (header versions 1.11, 1.19
//! and 1.21) are described; the 1.5–1.10 variants (extra sequence argument,
//! different arities) are not. Does not read bytes.

/// Event type codes (`traceEv*` in go1.21 `runtime/trace.go`).
pub mod ev {
    pub const NONE: u8 = 0;
    pub const BATCH: u8 = 1;
    pub const FREQUENCY: u8 = 2;
    pub const STACK: u8 = 3;
    pub const GOMAXPROCS: u8 = 4;
    pub const PROC_START: u8 = 5;
    pub const PROC_STOP: u8 = 6;
    pub const GC_START: u8 = 7;
    pub const GC_DONE: u8 = 8;
    pub const STW_START: u8 = 9;
    pub const STW_DONE: u8 = 10;
    pub const GC_SWEEP_START: u8 = 11;
    pub const GC_SWEEP_DONE: u8 = 12;
    pub const GO_CREATE: u8 = 13;
    pub const GO_START: u8 = 14;
    pub const GO_END: u8 = 15;
    pub const GO_STOP: u8 = 16;
    pub const GO_SCHED: u8 = 17;
    pub const GO_PREEMPT: u8 = 18;
    pub const GO_SLEEP: u8 = 19;
    pub const GO_BLOCK: u8 = 20;
    pub const GO_UNBLOCK: u8 = 21;
    pub const GO_BLOCK_SEND: u8 = 22;
    pub const GO_BLOCK_RECV: u8 = 23;
    pub const GO_BLOCK_SELECT: u8 = 24;
    pub const GO_BLOCK_SYNC: u8 = 25;
    pub const GO_BLOCK_COND: u8 = 26;
    pub const GO_BLOCK_NET: u8 = 27;
    pub const GO_SYS_CALL: u8 = 28;
    pub const GO_SYS_EXIT: u8 = 29;
    pub const GO_SYS_BLOCK: u8 = 30;
    pub const GO_WAITING: u8 = 31;
    pub const GO_IN_SYSCALL: u8 = 32;
    pub const HEAP_ALLOC: u8 = 33;
    pub const HEAP_GOAL: u8 = 34;
    pub const TIMER_GOROUTINE: u8 = 35;
    pub const FUTILE_WAKEUP: u8 = 36;
    pub const STRING: u8 = 37;
    pub const GO_START_LOCAL: u8 = 38;
    pub const GO_UNBLOCK_LOCAL: u8 = 39;
    pub const GO_SYS_EXIT_LOCAL: u8 = 40;
    pub const GO_START_LABEL: u8 = 41;
    pub const GO_BLOCK_GC: u8 = 42;
    pub const GC_MARK_ASSIST_START: u8 = 43;
    pub const GC_MARK_ASSIST_DONE: u8 = 44;
    pub const USER_TASK_CREATE: u8 = 45;
    pub const USER_TASK_END: u8 = 46;
    pub const USER_REGION: u8 = 47;
    pub const USER_LOG: u8 = 48;
    pub const CPU_SAMPLE: u8 = 49;
    /// One past the last known code.
    pub const COUNT: u8 = 50;
}

/// The pattern of the events that park a running goroutine with a reason
/// (`GoBlock*`, `GoSleep`); `GoStop` (park forever) and `GoSysBlock` are
/// not in it. One list for the merge (`order`) and the translation.
macro_rules! go_park_events {
    () => {
        $crate::v1::event::ev::GO_BLOCK
            | $crate::v1::event::ev::GO_BLOCK_SEND
            | $crate::v1::event::ev::GO_BLOCK_RECV
            | $crate::v1::event::ev::GO_BLOCK_SELECT
            | $crate::v1::event::ev::GO_BLOCK_SYNC
            | $crate::v1::event::ev::GO_BLOCK_COND
            | $crate::v1::event::ev::GO_BLOCK_NET
            | $crate::v1::event::ev::GO_BLOCK_GC
            | $crate::v1::event::ev::GO_SLEEP
    };
}
pub(crate) use go_park_events;

/// Wire description of one event type.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// Name as Go's parser prints it.
    pub name: &'static str,
    /// Lowest header minor version that may contain it (5 = any).
    pub min_minor: u32,
    /// Whether the first value is a timestamp delta.
    pub timed: bool,
    /// Number of values after the type byte, including timestamp and stack
    /// id (for [`ev::STACK`], [`ev::STRING`] and [`ev::BATCH`] not meaningful).
    pub values: u8,
    /// Whether the last value is a stack id.
    pub stack: bool,
}

const fn s(name: &'static str, min_minor: u32, timed: bool, values: u8, stack: bool) -> Spec {
    Spec {
        name,
        min_minor,
        timed,
        values,
        stack,
    }
}

const UNKNOWN: Spec = s("", u32::MAX, false, 0, false);

/// Per-code specs; codes without a spec have an empty name.
#[rustfmt::skip]
pub static SPECS: [Spec; ev::COUNT as usize] = [
    UNKNOWN,                                   // 0 None
    s("Batch", 5, false, 2, false),            // pid, ticks
    s("Frequency", 5, false, 1, false),        // ticks per second
    s("Stack", 5, false, 0, false),            // [L] id, n, n × {pc, fn, file, line}
    s("Gomaxprocs", 5, true, 3, true),         // ts, procs, stk
    s("ProcStart", 5, true, 2, false),         // ts, thread
    s("ProcStop", 5, true, 1, false),          // ts
    s("GCStart", 5, true, 3, true),            // ts, seq, stk
    s("GCDone", 5, true, 1, false),            // ts
    s("STWStart", 5, true, 2, false),          // ts, kind
    s("STWDone", 5, true, 1, false),           // ts
    s("GCSweepStart", 5, true, 2, true),       // ts, stk
    s("GCSweepDone", 5, true, 3, false),       // ts, swept, reclaimed
    s("GoCreate", 5, true, 4, true),           // ts, g, start stack, stk
    s("GoStart", 5, true, 3, false),           // ts, g, seq
    s("GoEnd", 5, true, 1, false),             // ts
    s("GoStop", 5, true, 2, true),             // ts, stk
    s("GoSched", 5, true, 2, true),            // ts, stk
    s("GoPreempt", 5, true, 2, true),          // ts, stk
    s("GoSleep", 5, true, 2, true),            // ts, stk
    s("GoBlock", 5, true, 2, true),            // ts, stk
    s("GoUnblock", 5, true, 4, true),          // ts, g, seq, stk
    s("GoBlockSend", 5, true, 2, true),        // ts, stk
    s("GoBlockRecv", 5, true, 2, true),        // ts, stk
    s("GoBlockSelect", 5, true, 2, true),      // ts, stk
    s("GoBlockSync", 5, true, 2, true),        // ts, stk
    s("GoBlockCond", 5, true, 2, true),        // ts, stk
    s("GoBlockNet", 5, true, 2, true),         // ts, stk
    s("GoSysCall", 5, true, 2, true),          // ts, stk
    s("GoSysExit", 5, true, 4, false),         // ts, g, seq, real ts
    s("GoSysBlock", 5, true, 1, false),        // ts
    s("GoWaiting", 5, true, 2, false),         // ts, g
    s("GoInSyscall", 5, true, 2, false),       // ts, g
    s("HeapAlloc", 5, true, 2, false),         // ts, bytes
    s("HeapGoal", 5, true, 2, false),          // ts, bytes
    s("TimerGoroutine", 5, false, 1, false),   // g
    s("FutileWakeup", 5, true, 1, false),      // ts
    s("String", 7, false, 0, false),           // id, len, bytes
    s("GoStartLocal", 7, true, 2, false),      // ts, g
    s("GoUnblockLocal", 7, true, 3, true),     // ts, g, stk
    s("GoSysExitLocal", 7, true, 3, false),    // ts, g, real ts
    s("GoStartLabel", 8, true, 4, false),      // ts, g, seq, label string id
    s("GoBlockGC", 8, true, 2, true),          // ts, stk
    s("GCMarkAssistStart", 9, true, 2, true),  // ts, stk
    s("GCMarkAssistDone", 9, true, 1, false),  // ts
    s("UserTaskCreate", 11, true, 5, true),    // ts, task, parent, name id, stk
    s("UserTaskEnd", 11, true, 3, true),       // ts, task, stk
    s("UserRegion", 11, true, 5, true),        // ts, task, mode, name id, stk
    s("UserLog", 11, true, 4, true),           // ts, task, key id, stk; + message
    s("CPUSample", 19, true, 5, true),         // ts, real ts, p, g, stk
];

/// The spec of `typ` if it exists in header version 1.`minor`.
pub fn spec(typ: u8, minor: u32) -> Option<&'static Spec> {
    let sp = SPECS.get(typ as usize)?;
    (sp.min_minor <= minor).then_some(sp)
}

/// Name of an event type, for messages.
pub fn name(typ: u8) -> &'static str {
    match SPECS.get(typ as usize) {
        Some(sp) if !sp.name.is_empty() => sp.name,
        _ => "unknown event",
    }
}
