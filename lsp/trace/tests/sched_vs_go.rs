//! What `sched` is against `go tool trace -pprof=sched` (docs/report.md,
//! "Categories"): the same runnable intervals, charged differently. Go's
//! tool (src/cmd/trace/pprof.go: `computePprofSched`, clipped by
//! `pprofByGoroutine` to each goroutine's window from its first run)
//! charges an interval to the stack of the event that made the goroutine
//! runnable — a wake-up to the waker's stack (none when the netpoller, a
//! timer or sysmon woke it), a blocking syscall's return to no stack, a stop
//! to the goroutine's own — and never counts the part before the
//! goroutine's first run in the trace (so no `created` interval), nor an
//! empty one. goblock charges the goroutine's own stack. This test
//! re-charges goblock's closed `sched` episodes (Go reader times) by Go's
//! rules and compares them stack by stack with the committed
//! `BASE.sched.raw.txt` oracles of Go 1.26 and 1.27 (testdata/gen.sh): if
//! either side changes what it measures, the documented difference is no
//! longer true and this fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use goblock_trace::header;
use goblock_trace::{Category, Episode, Tables};

#[path = "support/pprof_raw.rs"]
mod pprof_raw;
use pprof_raw::{Key, Profile, parse_raw};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Sched {
    g: u64,
    reason: String,
    start: u64,
    end: u64,
    began_before: bool,
    own: Key,
    waker: Option<Key>,
}

/// Go's key of a stack: its PCs (first 128); none for an empty one.
fn key(t: &Tables, s: goblock_trace::StackId) -> Key {
    t.stack(s)
        .iter()
        .take(128)
        .map(|&f| t.frame(f).pc)
        .collect()
}

/// The `sched` episodes of a trace, and the goroutines not running when the
/// trace started (created in it, or waiting, runnable or in a syscall then).
fn sched_episodes(path: &Path) -> (Vec<Sched>, BTreeSet<u64>) {
    let bytes = std::fs::read(path).unwrap();
    let h = header::parse(&bytes).unwrap();
    let opts = goblock_trace::v2::Options {
        go_reader_times: true,
        ..Default::default()
    };
    let mut tables = Tables::new();
    let mut out = Vec::new();
    let mut not_running = BTreeSet::new();
    let mut sink = |ep: &Episode, t: &Tables| {
        if ep.began_before_trace || t.str(ep.reason) == "created" {
            not_running.insert(ep.goroutine);
        }
        if ep.category == Category::Sched && !ep.open_at_end {
            out.push(Sched {
                g: ep.goroutine,
                reason: t.str(ep.reason).to_string(),
                start: ep.start_ns,
                end: ep.end_ns,
                began_before: ep.began_before_trace,
                own: key(t, ep.stack),
                waker: ep.waker.map(|w| key(t, w.stack)),
            });
        }
    };
    goblock_trace::v2::decode_with(&bytes, &h, &mut tables, &mut sink, &opts)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (out, not_running)
}

/// goblock's `sched` intervals, charged as Go's tool charges them.
fn as_go_charges(eps: &[Sched], not_running: &BTreeSet<u64>) -> Profile {
    // A goroutine's first run in the trace: the earliest end of a runnable
    // interval (every one ends at a GoStart); a goroutine running when the
    // trace started has run already (Go: its StartTime is the trace start).
    let mut first_run: BTreeMap<u64, u64> = BTreeMap::new();
    for e in eps.iter().filter(|e| not_running.contains(&e.g)) {
        let f = first_run.entry(e.g).or_insert(e.end);
        *f = (*f).min(e.end);
    }
    let mut p = Profile::new();
    for e in eps {
        if e.end <= e.start || first_run.get(&e.g).is_some_and(|&f| e.end <= f) {
            continue;
        }
        let k = match e.reason.as_str() {
            "runnable" if !e.began_before => e.waker.clone().unwrap_or_default(),
            "syscall exit" => Vec::new(),
            _ => e.own.clone(),
        };
        let k = if k == [0] { Vec::new() } else { k };
        let v = p.entry(k).or_default();
        v.0 += 1;
        v.1 += e.end - e.start;
    }
    p
}

#[test]
fn sched_recharged_by_go_rules_is_go_tool_trace_pprof_sched() {
    let mut checked = 0;
    for v in ["go1.26", "go1.27"] {
        let dir = repo().join("testdata").join(v);
        let mut traces: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "trace"))
            .collect();
        traces.sort();
        for t in traces {
            let base = t.file_stem().unwrap().to_string_lossy().into_owned();
            let Ok(raw) = std::fs::read_to_string(dir.join(format!("{base}.sched.raw.txt"))) else {
                continue;
            };
            // pprof prints "no stack" as no location or one at 0x0.
            let mut go = Profile::new();
            for (k, (n, ns)) in parse_raw(&raw).unwrap() {
                let k = if k == [0] { Vec::new() } else { k };
                let v = go.entry(k).or_default();
                v.0 += n;
                v.1 += ns;
            }
            let (eps, not_running) = sched_episodes(&t);
            let ours = as_go_charges(&eps, &not_running);
            let created = eps.iter().filter(|e| e.reason == "created").count();
            let differing: Vec<String> = go
                .keys()
                .chain(ours.keys())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter(|k| go.get(*k) != ours.get(*k))
                .map(|k| {
                    format!(
                        "{:x?}: go {:?} goblock {:?}",
                        &k[..k.len().min(3)],
                        go.get(k),
                        ours.get(k)
                    )
                })
                .collect();
            assert!(
                differing.is_empty(),
                "{v}/{base}: {} of {} stacks differ:\n{}",
                differing.len(),
                go.len(),
                differing.join("\n")
            );
            // What goblock counts and Go does not: the `created` waits.
            let go_count = pprof_raw::totals(&go).0 as usize;
            assert!(created > 0 && eps.len() >= go_count + created, "{v}/{base}");
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked} traces with sched oracles");
}
