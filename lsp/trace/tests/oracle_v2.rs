//! New-format (Go 1.22+) decoder against Go's own numbers: per-stack totals
//! of our **closed** episodes must equal the profiles `go tool trace
//! -pprof=TYPE` computes from the same trace (dumped with `go tool pprof
//! -raw`): counts equal, summed durations within 0.1 %. Keys are the stack's
//! PCs (first 128), like Go's `stackMap`.
//!
//! Fixtures are discovered: every new-format `testdata/go1.2*/BASE.trace`
//! with oracles beside it (`BASE.TYPE.raw.txt` from that directory's Go
//! version, `BASE.TYPE.go126.raw.txt` from Go 1.26's tool, both made by
//! `testdata/gen.sh`), plus `BASE.sync.go126.raw.txt` for pre-1.26 traces in
//! `tests/data/v2-oracles/go1.XX/` (see the README there). Go's own test
//! traces (`testdata/gotree/NAME.trace`) are compared too, against Go 1.26
//! tool oracles in `tests/data/v2-oracles/gotree/NAME.TYPE.go126.raw.txt`, and
//! so are the multi-generation traces of `tests/data/multigen/` (22
//! generations each, written by Go 1.22, 1.23, 1.26, 1.27; see `gen.sh`
//! there).
//!
//! What is compared, and why some stacks are left out:
//!
//! * **sync** (`chan`/`select`/`sync` wait reasons).
//!   - With Go 1.26+ tools (`go1.26/`, `go1.27/`, and every `*.sync.go126`
//!     oracle): all stacks, exactly.
//!   - With Go 1.22–1.25 tools: those tools skip every event that has no
//!     stack (golang/go#74850, fixed in 1.26). A wait ended by a stack-less
//!     wake-up (timer of a select with timeout, netpoller, …) is then not
//!     closed there: the tool's interval runs on, through later waits of the
//!     same goroutine, until its next stack-bearing transition out of
//!     Waiting. Our wait is the true GoBlock→GoUnblock interval, so these
//!     stacks legitimately differ; they are excluded from that comparison
//!     (reason printed) and checked against the Go 1.26 tool instead:
//!     (a) the stack of a sync wait ended by a wake-up without stack,
//!     (b) stacks of that goroutine's later waits up to the transition that
//!     closes the old tool's interval (a stack-bearing wake-up, a `GoStop`,
//!     a syscall), (c) waits with an empty stack (never tracked there).
//! * **net** (`network`): against Go 1.26's tool (`*.net.go126.raw.txt`),
//!   all stacks. (Older tools have the same stack-less-event problem, and
//!   every netpoller wake-up is stack-less.)
//! * **syscall**: against Go 1.26's tool (`*.syscall.go126.raw.txt`). A
//!   syscall already in progress when the trace starts is not a closed
//!   episode for us (`began_before_trace`: its start is unknown). Go's tool
//!   counts it from the goroutine's first status event, but only when the
//!   goroutine never runs afterwards (otherwise its clip window starts after
//!   the interval); the stacks of such episodes are excluded (reason
//!   printed). This happens in Go's synthetic syscall test traces only.
//!
//! Times. Go's reader makes event times strictly increasing along the order
//! it puts events in (`t <= last` → `last + 1 ns`). That is usually a few ns,
//! but an event that can only be ordered after an event of another M stamped
//! later moves by that much: e.g. a `GoSyscallEndBlocked` must follow the
//! `ProcSteal` of its P, which sysmon may stamp tens of µs after the syscall
//! returned; the goroutine's following episodes move with it. Our episodes
//! keep the raw timestamps (the true times), so every trace is decoded twice:
//! * in Go-reader time mode (`v2::Options::go_reader_times`), which must match
//!   every oracle stack (besides the old-tool exclusions above);
//! * with raw times (what goblock reports), which must match every stack
//!   except those whose raw and Go-reader totals differ by more than 0.1 %
//!   (printed with both figures) — for those the first comparison is the
//!   check.
//!
//! Go's tool also clips each interval to the goroutine's lifetime window
//! (first run to exit); that never cuts a closed wait in these fixtures.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use goblock_trace::header::{self, Format};
use goblock_trace::{Category, Episode, StackId, Tables};

#[path = "support/pprof_raw.rs"]
mod pprof_raw;
use pprof_raw::{Key, Profile, parse_raw};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One decoded episode, reduced to what the comparisons need.
#[derive(Clone, Debug)]
struct Ep {
    g: u64,
    category: Category,
    reason: String,
    start: u64,
    end: u64,
    closed: bool,
    key: Key,
    waker_stack_empty: Option<bool>,
    began_before: bool,
    open_at_end: bool,
}

fn key(t: &Tables, s: StackId) -> Key {
    t.stack(s)
        .iter()
        .take(128)
        .map(|&f| t.frame(f).pc)
        .collect()
}

fn decode(path: &Path, go_reader_times: bool) -> (Vec<Ep>, goblock_trace::TraceSummary) {
    let bytes = std::fs::read(path).unwrap();
    let mut tables = Tables::new();
    let mut eps = Vec::new();
    let mut sink = |ep: &Episode, t: &Tables| {
        eps.push(Ep {
            g: ep.goroutine,
            category: ep.category,
            reason: t.str(ep.reason).to_string(),
            start: ep.start_ns,
            end: ep.end_ns,
            closed: ep.is_closed(),
            key: key(t, ep.stack),
            waker_stack_empty: ep.waker.map(|w| w.stack.is_empty()),
            began_before: ep.began_before_trace,
            open_at_end: ep.open_at_end,
        });
    };
    let summary = if go_reader_times {
        let h = header::parse(&bytes).unwrap();
        let opts = goblock_trace::v2::Options {
            go_reader_times: true,
            ..Default::default()
        };
        goblock_trace::v2::decode_with(&bytes, &h, &mut tables, &mut sink, &opts)
    } else {
        goblock_trace::decode(&bytes, &mut tables, &mut sink)
    }
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (eps, summary)
}

fn profile(eps: &[Ep], cat: Category) -> Profile {
    let mut p = Profile::new();
    for e in eps.iter().filter(|e| e.closed && e.category == cat) {
        let v = p.entry(e.key.clone()).or_default();
        v.0 += 1;
        v.1 += e.end - e.start;
    }
    p
}

/// Stacks of sync waits whose old-tool (Go 1.22–1.25) interval differs from
/// the true wait because of stack-less events (see the module doc), with the
/// reason.
fn old_tool_affected(eps: &[Ep]) -> BTreeMap<Key, &'static str> {
    let mut out = BTreeMap::new();
    let mut by_g: BTreeMap<u64, Vec<&Ep>> = BTreeMap::new();
    for e in eps {
        by_g.entry(e.g).or_default().push(e);
    }
    for (_, mut list) in by_g {
        list.sort_by_key(|e| (e.start, e.end));
        let mut carried = false;
        for e in list {
            let gostop = e.category == Category::Sched
                && !matches!(e.reason.as_str(), "runnable" | "created" | "syscall exit")
                && !e.key.is_empty();
            let syscall = e.category == Category::Syscall && !e.key.is_empty();
            if carried && (gostop || syscall) {
                carried = false;
            }
            let waiting = !matches!(e.category, Category::Sched | Category::Syscall);
            if !waiting {
                continue;
            }
            let sync = e.category == Category::Sync;
            if carried {
                if sync {
                    out.entry(e.key.clone()).or_insert(
                        "absorbed into an earlier wait of the same goroutine by the old tool",
                    );
                }
                if e.waker_stack_empty == Some(false) {
                    carried = false;
                }
                continue;
            }
            if !sync || !e.closed {
                continue;
            }
            if e.key.is_empty() {
                out.insert(
                    e.key.clone(),
                    "wait with an empty stack (never tracked by the old tool)",
                );
            } else if e.waker_stack_empty == Some(true) {
                out.insert(
                    e.key.clone(),
                    "wait ended by a wake-up without stack (the old tool's interval runs on)",
                );
                carried = true;
            }
        }
    }
    out
}

#[derive(Default, Debug)]
struct Figures {
    stacks: usize,
    count: u64,
    ours_ns: u64,
    go_ns: u64,
    max_rel: f64,
    excluded: usize,
}

/// Compares two profiles on every key but `excluded`; returns figures or
/// the list of differences.
fn compare(ours: &Profile, go: &Profile, excluded: &BTreeSet<Key>) -> Result<Figures, Vec<String>> {
    let mut f = Figures {
        excluded: excluded.len(),
        ..Figures::default()
    };
    let mut errs = Vec::new();
    let keys: BTreeSet<&Key> = ours.keys().chain(go.keys()).collect();
    for k in keys {
        if excluded.contains(k) {
            continue;
        }
        let (oc, on) = ours.get(k).copied().unwrap_or_default();
        let (gc, gn) = go.get(k).copied().unwrap_or_default();
        let rel = if gn == 0 && on == 0 {
            0.0
        } else {
            (on as f64 - gn as f64).abs() / (gn.max(1) as f64)
        };
        if oc != gc || rel > 0.001 {
            errs.push(format!(
                "stack {:x?}: ours {oc} episodes / {on} ns, Go {gc} / {gn} ns",
                &k[..k.len().min(4)]
            ));
            continue;
        }
        f.stacks += 1;
        f.count += oc;
        f.ours_ns += on;
        f.go_ns += gn;
        f.max_rel = f.max_rel.max(rel);
    }
    if errs.is_empty() { Ok(f) } else { Err(errs) }
}

struct Fixture {
    trace: PathBuf,
    /// Directory of the trace and its same-version oracles.
    dir: PathBuf,
    /// Directory of the extra `*.go126.raw.txt` oracles made by
    /// `tests/data/v2-oracles/gen.sh`.
    extra: PathBuf,
    base: String,
    /// Minor version of the Go that wrote the trace and the oracles.
    tool_minor: u32,
}

fn discover() -> Vec<Fixture> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(repo().join("testdata")) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    dirs.sort();
    // Large suites (tests/old-format-suites.sh): directories named `go1.NN`
    // laid out like testdata/go1.NN, their `*.go126` oracles beside them.
    let external: Vec<PathBuf> = std::env::var("GOBLOCK_V2_FIXTURE_DIRS")
        .unwrap_or_default()
        .split(':')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    dirs.extend(external.iter().cloned());
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let Some(minor) = name
            .strip_prefix("go1.")
            .and_then(|m| m.parse::<u32>().ok())
        else {
            continue;
        };
        if minor < 22 {
            continue;
        }
        let mut traces: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "trace"))
            .collect();
        traces.sort();
        for trace in traces {
            let bytes = std::fs::read(&trace).unwrap();
            if !matches!(header::parse(&bytes), Ok(h) if h.format == Format::V2) {
                continue;
            }
            let base = trace.file_stem().unwrap().to_string_lossy().to_string();
            out.push(Fixture {
                trace,
                dir: dir.clone(),
                extra: if external.contains(&dir) {
                    dir.clone()
                } else {
                    extra_dir().join(&name)
                },
                base,
                tool_minor: minor,
            });
        }
    }
    // Multi-generation traces (tests/data/multigen, see gen.sh there).
    let mg = extra_dir().join("../multigen");
    if let Ok(rd) = std::fs::read_dir(&mg) {
        let mut traces: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "trace"))
            .collect();
        traces.sort();
        for trace in traces {
            let base = trace.file_stem().unwrap().to_string_lossy().to_string();
            out.push(Fixture {
                trace,
                dir: mg.clone(),
                extra: mg.clone(),
                base,
                tool_minor: 26,
            });
        }
    }
    // Go's own test traces with Go 1.26-tool oracles.
    if let Ok(rd) = std::fs::read_dir(extra_dir().join("gotree")) {
        let mut names: BTreeSet<String> = BTreeSet::new();
        for e in rd.filter_map(|e| e.ok()) {
            let f = e.file_name().to_string_lossy().to_string();
            if let Some(base) = f.split('.').next() {
                names.insert(base.to_string());
            }
        }
        for base in names {
            let trace = repo().join("testdata/gotree").join(format!("{base}.trace"));
            if trace.exists() {
                out.push(Fixture {
                    trace,
                    dir: extra_dir().join("gotree"),
                    extra: extra_dir().join("gotree"),
                    base,
                    tool_minor: 26,
                });
            }
        }
    }
    out
}

fn extra_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v2-oracles")
}

fn oracle(path: &Path) -> Option<Profile> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(parse_raw(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

#[test]
fn raw_parser_reads_pprof_raw_output() {
    // A real dump (the first one found), checked for internal consistency.
    let f = discover()
        .into_iter()
        .find_map(|f| {
            let p = f.dir.join(format!("{}.sync.raw.txt", f.base));
            p.exists().then_some(p)
        })
        .expect("no oracle dump found");
    let text = std::fs::read_to_string(&f).unwrap();
    let prof = parse_raw(&text).unwrap();
    let sample_lines = text
        .lines()
        .skip_while(|l| l.trim() != "Samples:")
        .skip(2)
        .take_while(|l| l.contains(':') && !l.trim().starts_with("Locations"))
        .count();
    assert!(!prof.is_empty());
    assert!(prof.len() <= sample_lines);
    assert!(prof.values().all(|&(c, _)| c > 0));
}

#[test]
fn new_format_traces_match_go_tool_trace_pprof() {
    let fixtures = discover();
    assert!(
        !fixtures.is_empty(),
        "no new-format fixtures under testdata/go1.2*"
    );
    let mut failures = Vec::new();
    let mut compared = 0;
    for fx in &fixtures {
        let (eps, summary) = decode(&fx.trace, false);
        let (go_eps, _) = decode(&fx.trace, true);
        let name = format!(
            "{}/{} ({} episodes, {} closed)",
            fx.dir.file_name().unwrap().to_string_lossy(),
            fx.base,
            eps.len(),
            eps.iter().filter(|e| e.closed).count()
        );
        assert!(
            summary.warnings.is_empty(),
            "{name}: unexpected warnings {:?}",
            summary.warnings
        );
        let mut checks: Vec<(String, Category, PathBuf, bool)> = vec![
            (
                "sync".into(),
                Category::Sync,
                fx.dir.join(format!("{}.sync.raw.txt", fx.base)),
                fx.tool_minor < 26,
            ),
            (
                "sync (Go 1.26 tool)".into(),
                Category::Sync,
                fx.extra.join(format!("{}.sync.go126.raw.txt", fx.base)),
                false,
            ),
            (
                "net (Go 1.26 tool)".into(),
                Category::Net,
                fx.dir.join(format!("{}.net.go126.raw.txt", fx.base)),
                false,
            ),
            (
                "net (Go 1.26 tool)".into(),
                Category::Net,
                fx.extra.join(format!("{}.net.go126.raw.txt", fx.base)),
                false,
            ),
            (
                "syscall (Go 1.26 tool)".into(),
                Category::Syscall,
                fx.dir.join(format!("{}.syscall.go126.raw.txt", fx.base)),
                false,
            ),
            (
                "syscall (Go 1.26 tool)".into(),
                Category::Syscall,
                fx.extra.join(format!("{}.syscall.go126.raw.txt", fx.base)),
                false,
            ),
        ];
        if fx.tool_minor >= 26 {
            // Same tool generation: the plain oracles must match too.
            checks.push((
                "net".into(),
                Category::Net,
                fx.dir.join(format!("{}.net.raw.txt", fx.base)),
                false,
            ));
            checks.push((
                "syscall".into(),
                Category::Syscall,
                fx.dir.join(format!("{}.syscall.raw.txt", fx.base)),
                false,
            ));
        }
        let affected = old_tool_affected(&eps);
        let pre_trace: BTreeSet<Key> = eps
            .iter()
            .filter(|e| e.category == Category::Syscall && e.began_before && !e.open_at_end)
            .map(|e| e.key.clone())
            .collect();
        let mut seen = BTreeSet::new();
        for (label, cat, path, old_tool) in checks {
            if !seen.insert(path.clone()) {
                continue;
            }
            let Some(go) = oracle(&path) else { continue };
            let ours = profile(&eps, cat);
            let ours_go_times = profile(&go_eps, cat);
            let mut excluded = BTreeSet::new();
            if cat == Category::Syscall {
                for k in &pre_trace {
                    if go.contains_key(k) && excluded.insert(k.clone()) {
                        eprintln!(
                            "  {name} {label}: excluded stack {:x?}: syscall in progress at trace start (Go counts it from the status event)",
                            &k[..k.len().min(3)]
                        );
                    }
                }
            }
            if old_tool {
                for (k, why) in &affected {
                    if ours.contains_key(k) || go.contains_key(k) {
                        eprintln!(
                            "  {name} {label}: excluded stack {:x?}…: {why}",
                            &k[..k.len().min(3)]
                        );
                        excluded.insert(k.clone());
                    }
                }
            }
            // 1. Go-reader times: every stack.
            match compare(&ours_go_times, &go, &excluded) {
                Ok(f) => {
                    compared += 1;
                    eprintln!(
                        "{name} {label} [Go-reader times]: {} stacks, {} episodes, ours {} ns vs Go {} ns, max rel diff {:.2e}, {} stacks excluded",
                        f.stacks, f.count, f.ours_ns, f.go_ns, f.max_rel, f.excluded
                    );
                }
                Err(errs) => failures.push(format!(
                    "{name} {label} [Go-reader times]:\n    {}",
                    errs.join("\n    ")
                )),
            }
            // 2. Raw times: every stack Go's reader did not move.
            let mut moved = excluded.clone();
            for (k, &(c, raw)) in &ours {
                let (gc, gt) = ours_go_times.get(k).copied().unwrap_or_default();
                let rel = (raw as f64 - gt as f64).abs() / (gt.max(1) as f64);
                if (c != gc || rel > 0.001) && moved.insert(k.clone()) {
                    eprintln!(
                        "  {name} {label}: stack {:x?}… left out of the raw-time comparison: raw {c} episodes / {raw} ns, Go-reader times {gc} / {gt} ns (Go's reader moved an endpoint)",
                        &k[..k.len().min(3)]
                    );
                }
            }
            match compare(&ours, &go, &moved) {
                Ok(f) => {
                    compared += 1;
                    eprintln!(
                        "{name} {label} [raw times]: {} stacks, {} episodes, ours {} ns vs Go {} ns, max rel diff {:.2e}, {} stacks excluded",
                        f.stacks, f.count, f.ours_ns, f.go_ns, f.max_rel, f.excluded
                    );
                }
                Err(errs) => failures.push(format!(
                    "{name} {label} [raw times]:\n    {}",
                    errs.join("\n    ")
                )),
            }
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
    assert!(compared > 0, "no oracle compared");
}
