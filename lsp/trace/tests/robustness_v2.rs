//! Bad input for the new-format decoder, made from real traces:
//!
//! * **Truncation** — every new-format fixture cut at many offsets: never a
//!   panic; a file cut inside a generation decodes (`Ok`) with a warning
//!   whose offset is inside the file; the episodes are a prefix-consistent
//!   subset of the full decode (every closed episode is one of the full
//!   trace's; every episode open at the cut is one the full trace has — same
//!   goroutine, state, reason and start. Its end, the cut trace's last event
//!   time, may lie after the true end: the end-of-generation status events
//!   are stamped after the next generation has begun).
//! * **Corruption** — bytes flipped at many offsets: never a panic; either a
//!   decode (possibly with warnings) or a `Corrupt`/`Inconsistent` error
//!   whose offset lies inside the file.
//! * Go's own fuzz corpus for its reader (`lsp/trace/fuzz/corpus/decode`
//!   seeds converted from `internal/trace/testdata/fuzz/FuzzReader`): never a
//!   panic.
//!
//! Fixtures are discovered: `testdata/go1.2*/{blocking,pprof-http}.trace`
//! with a new-format header (the other traces there come from the same
//! programs) and `tests/data/multigen/*.trace` (22 generations each).

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use goblock_trace::header::{self, Format};
use goblock_trace::{Category, DecodeError, Episode, Tables, TraceSummary};

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(here().join("../../testdata"))
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|d| {
        d.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("go1.2"))
    });
    dirs.push(here().join("tests/data/multigen"));
    dirs.sort();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "trace"))
            .filter(|p| {
                d.ends_with("multigen")
                    || p.file_stem()
                        .is_some_and(|s| s == "blocking" || s == "pprof-http")
            })
            .filter(|p| {
                std::fs::read(p)
                    .ok()
                    .and_then(|b| header::parse(&b).ok())
                    .is_some_and(|h| h.format == Format::V2)
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// Episode identity for subset checks.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Key {
    g: u64,
    category: Category,
    reason: String,
    start: u64,
    began_before: bool,
}

#[derive(Clone, Debug)]
struct Ep {
    key: Key,
    end: u64,
    open_at_end: bool,
    stack: Vec<u64>,
}

fn decode(bytes: &[u8]) -> (Result<TraceSummary, DecodeError>, Vec<Ep>) {
    let mut tables = Tables::new();
    let mut eps = Vec::new();
    let res = goblock_trace::decode(bytes, &mut tables, &mut |ep: &Episode, t: &Tables| {
        eps.push(Ep {
            key: Key {
                g: ep.goroutine,
                category: ep.category,
                reason: t.str(ep.reason).to_string(),
                start: ep.start_ns,
                began_before: ep.began_before_trace,
            },
            end: ep.end_ns,
            open_at_end: ep.open_at_end,
            stack: t.stack(ep.stack).iter().map(|&f| t.frame(f).pc).collect(),
        });
    });
    (res, eps)
}

fn guarded(bytes: &[u8]) -> Result<(Result<TraceSummary, DecodeError>, Vec<Ep>), String> {
    catch_unwind(AssertUnwindSafe(|| decode(bytes))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// Cut points: about `n` spread over the file, plus the first bytes after
/// the header.
fn offsets(len: usize, n: usize) -> Vec<usize> {
    let step = (len / n).max(1) | 1;
    let mut v: Vec<usize> = (0..len).step_by(step).collect();
    v.extend(16..len.min(40));
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn truncated_traces_decode_a_consistent_prefix() {
    let files = fixtures();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let (full, full_eps) = decode(&bytes);
        let full = full.unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut all: HashMap<(Key, u64, Vec<u64>), usize> = HashMap::new();
        let mut by_start: HashMap<Key, usize> = HashMap::new();
        for e in &full_eps {
            *all.entry((e.key.clone(), e.end, e.stack.clone()))
                .or_default() += 1;
            *by_start.entry(e.key.clone()).or_default() += 1;
        }
        let (mut cuts, mut warned, mut eps_total) = (0, 0, 0);
        for cut in offsets(bytes.len(), 70) {
            let part = &bytes[..cut];
            let (res, eps) = match guarded(part) {
                Ok(r) => r,
                Err(msg) => {
                    failures.push(format!("{name} cut at {cut}: panic {msg}"));
                    continue;
                }
            };
            cuts += 1;
            if cut < 16 {
                if res.is_ok() {
                    failures.push(format!("{name} cut at {cut}: a cut header decoded"));
                }
                continue;
            }
            let s = match res {
                Ok(s) => s,
                Err(e) => {
                    failures.push(format!("{name} cut at {cut}: error {e}"));
                    continue;
                }
            };
            if !s.warnings.is_empty() {
                warned += 1;
            }
            if s.generations > full.generations {
                failures.push(format!(
                    "{name} cut at {cut}: more generations than the whole file"
                ));
            }
            for w in &s.warnings {
                if w.offset.is_none_or(|o| o > cut as u64) {
                    failures.push(format!(
                        "{name} cut at {cut}: warning offset outside the file: {w}"
                    ));
                }
            }
            let mut avail = all.clone();
            for e in &eps {
                eps_total += 1;
                if e.open_at_end {
                    if !by_start.contains_key(&e.key) {
                        failures.push(format!(
                            "{name} cut at {cut}: open episode not in the full decode: {e:?}"
                        ));
                    }
                    continue;
                }
                match avail.get_mut(&(e.key.clone(), e.end, e.stack.clone())) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => failures.push(format!(
                        "{name} cut at {cut}: closed episode not in the full decode: {e:?}"
                    )),
                }
            }
        }
        eprintln!(
            "{name}: {cuts} cuts, {warned} with a truncation warning, {eps_total} episodes checked against {} of the full decode",
            full_eps.len()
        );
        if failures.len() > 20 {
            break;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corrupted_traces_never_panic() {
    let mut failures = Vec::new();
    for path in fixtures() {
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let (mut ok, mut warned, mut errs) = (0, 0, 0);
        for (i, at) in offsets(bytes.len(), 50).into_iter().enumerate() {
            let mut b = bytes.clone();
            b[at] ^= [0xff, 0x01, 0x80, 0x40, 0x7f][i % 5];
            match guarded(&b) {
                Err(msg) => failures.push(format!("{name} byte {at} flipped: panic {msg}")),
                Ok((Ok(s), _)) if s.warnings.is_empty() => ok += 1,
                Ok((Ok(_), _)) => warned += 1,
                Ok((Err(DecodeError::Corrupt { offset, .. }), _)) if offset > b.len() as u64 => {
                    failures.push(format!(
                        "{name} byte {at} flipped: error offset {offset} outside"
                    ));
                }
                Ok((Err(DecodeError::Cancelled), _)) => {
                    failures.push(format!("{name} byte {at} flipped: cancelled?"));
                }
                Ok((Err(_), _)) => errs += 1,
            }
        }
        eprintln!("{name}: flips: {ok} decoded, {warned} decoded with warnings, {errs} errors");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn go_fuzz_corpus_never_panics() {
    let dir = here().join("fuzz/corpus/decode");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: {} missing", dir.display());
        return;
    };
    let mut n = 0;
    for e in rd.filter_map(|e| e.ok()) {
        let bytes = std::fs::read(e.path()).unwrap();
        if let Err(msg) = guarded(&bytes) {
            panic!("{}: panic {msg}", e.path().display());
        }
        // Also every prefix of the small ones.
        if bytes.len() < 4096 {
            for cut in 0..bytes.len() {
                if let Err(msg) = guarded(&bytes[..cut]) {
                    panic!("{} cut at {cut}: panic {msg}", e.path().display());
                }
            }
        }
        n += 1;
    }
    eprintln!("{n} corpus files decoded without panic");
    let _ = Path::new("");
}

/// Events that cannot be ordered (Go's reader: "failed to advance", followed
/// by a dump of every thread's next event) give a one-line error naming the
/// earliest stuck event and its offset. The input: Go 1.26's trace of the
/// blocking program with one byte of its first ProcStart's argument changed.
#[test]
fn unorderable_events_give_a_one_line_error() {
    let path = here().join("../../testdata/go1.26/blocking.trace");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[89] = bytes[89].wrapping_add(1);
    let mut tables = Tables::new();
    let err = goblock_trace::decode(&bytes, &mut tables, &mut |_: &Episode, _: &Tables| {})
        .expect_err("an inconsistent trace");
    let msg = err.to_string();
    assert!(matches!(err, DecodeError::Inconsistent { .. }), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.contains("ProcStart at byte 87"), "{msg}");
    assert!(msg.contains("generation 1"), "{msg}");
}
