//! Old-format decoder on every old-format trace Go ships, and on damaged
//! ones: truncated (all decodable data plus a warning), corrupt (an error
//! with the offset, never a panic), timestamps out of order (Go rejects;
//! we decode with a warning), events that cannot be ordered at all
//! (rejected with a clear message), cancellation and progress.
//!
//! Damaged traces are made from real ones (`testdata/gotree/tracev1`,
//! `testdata/go1.21`) by rewriting bytes in place.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use goblock_trace::v1::{event::ev, wire};
use goblock_trace::{Category, DecodeError, Episode, EpisodeSink, Tables, TraceSummary};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn gotree(name: &str) -> Vec<u8> {
    let p = repo().join("testdata/gotree/tracev1").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn decode(bytes: &[u8]) -> (Result<TraceSummary, DecodeError>, Vec<Episode>) {
    let mut tables = Tables::new();
    let mut eps = Vec::new();
    let r = goblock_trace::decode(bytes, &mut tables, &mut |ep: &Episode, _: &Tables| {
        eps.push(*ep)
    });
    (r, eps)
}

/// With `GOBLOCK_V1_DAMAGED_DIR` set, writes a damaged trace there (to check
/// what Go's own tools say about it).
fn save(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("GOBLOCK_V1_DAMAGED_DIR") {
        let _ = std::fs::write(Path::new(&dir).join(name), bytes);
    }
}

/// Every event of a v1 trace: (offset, raw).
fn events(bytes: &[u8], minor: u32) -> Vec<(usize, wire::Raw)> {
    let mut out = Vec::new();
    let mut pos = 16;
    while pos < bytes.len() {
        let r = wire::read(bytes, pos, minor).expect("valid trace");
        out.push((pos, r));
        pos = r.end;
    }
    out
}

/// Offsets of the varints of the values of the event at `pos` (k < 3 or
/// length-prefixed, not String/Stack).
fn value_spans(bytes: &[u8], pos: usize) -> Vec<(usize, usize)> {
    let k = bytes[pos] >> 6;
    let mut p = pos + 1;
    let mut spans = Vec::new();
    let next = |p: &mut usize| {
        let s = *p;
        while bytes[*p] & 0x80 != 0 {
            *p += 1;
        }
        *p += 1;
        (s, *p)
    };
    if k < 3 {
        for _ in 0..=k {
            spans.push(next(&mut p));
        }
    } else {
        let (_, e) = next(&mut p);
        let r = wire::read(bytes, pos, 21).expect("event");
        p = e;
        while p < r.end {
            spans.push(next(&mut p));
        }
    }
    spans
}

/// Rewrites the varint in `span` with `v`, keeping its length (padded).
fn put_varint(bytes: &mut [u8], span: (usize, usize), mut v: u64) {
    let n = span.1 - span.0;
    assert!(n == 10 || v < 1u64 << (7 * n), "value does not fit");
    for i in 0..n {
        let mut b = (v & 0x7f) as u8;
        v >>= 7;
        if i + 1 < n {
            b |= 0x80;
        }
        bytes[span.0 + i] = b;
    }
}

#[test]
fn go_test_traces_decode_or_are_rejected_by_version() {
    let dir = repo().join("testdata/gotree/tracev1");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("testdata/gotree/tracev1")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 20);
    let mut decoded = 0;
    for n in &names {
        let bytes = gotree(n);
        let (r, eps) = decode(&bytes);
        let supported = ["_1_11_", "_1_19_", "_1_21_"].iter().any(|v| n.contains(v));
        if supported {
            let s = r.unwrap_or_else(|e| panic!("{n}: {e}"));
            assert!(s.warnings.is_empty(), "{n}: {:?}", s.warnings);
            assert!(s.events > 0 && !eps.is_empty(), "{n}: nothing decoded");
            assert!(
                eps.iter()
                    .all(|e| e.end_ns >= e.start_ns && e.end_ns <= s.duration_ns),
                "{n}: episode outside the trace"
            );
            eprintln!(
                "{n:<32} go {} {:>7} events {:>6} episodes",
                s.go_version,
                s.events,
                eps.len()
            );
            decoded += 1;
        } else {
            // Go 1.5–1.10 formats (including stress_1_5_unordered).
            match r {
                Err(DecodeError::UnsupportedVersion { version }) => {
                    assert!(version.starts_with("go 1."), "{n}: {version}")
                }
                other => panic!("{n}: expected UnsupportedVersion, got {other:?}"),
            }
        }
    }
    assert_eq!(decoded, 13);
}

#[test]
fn episode_semantics_on_a_real_trace() {
    // stress_1_21_good: GoWaiting at start, GC assists, forever blocks.
    let bytes = gotree("stress_1_21_good");
    let mut tables = Tables::new();
    let mut eps = Vec::new();
    goblock_trace::decode(&bytes, &mut tables, &mut |ep: &Episode, _: &Tables| {
        eps.push(*ep)
    })
    .expect("decode");
    let reason = |e: &Episode| tables.str(e.reason).to_string();
    for e in &eps {
        let r = reason(e);
        match e.category {
            Category::Syscall => assert_eq!(r, "syscall"),
            Category::Sched => assert_eq!(r, "runnable"),
            Category::Gc => assert_eq!(r, "GC mark assist wait for work"),
            Category::Sleep => assert_eq!(r, "sleep"),
            Category::Sync => assert!(
                [
                    "chan send",
                    "chan receive",
                    "select",
                    "sync",
                    "sync.(*Cond).Wait"
                ]
                .contains(&r.as_str()),
                "{r}"
            ),
            Category::Net => assert_eq!(r, "network"),
            Category::Other => assert!(r.is_empty() || r == "forever", "{r:?}"),
        }
        if e.began_before_trace && e.category != Category::Sched {
            assert!(e.stack.is_empty(), "pre-trace state has no stack");
        }
    }
    assert!(
        eps.iter()
            .any(|e| e.began_before_trace && reason(e).is_empty())
    );
    assert!(
        eps.iter()
            .any(|e| e.category == Category::Gc && e.is_closed())
    );
    assert!(eps.iter().any(|e| reason(e) == "forever" && e.open_at_end));
    // Unblocks by goroutines carry the waker; creations the creator.
    assert!(eps.iter().any(|e| {
        e.category == Category::Sync
            && e.waker
                .is_some_and(|w| w.goroutine.is_some() && !w.stack.is_empty())
    }));
    assert!(eps.iter().any(|e| e.creator.is_some_and(|c| !c.is_empty())));
}

#[test]
fn truncated_traces_give_all_decodable_data_and_a_warning() {
    for name in ["stress_1_21_good", "http_1_19_good", "stress_1_11_good"] {
        let bytes = gotree(name);
        let (full, full_eps) = decode(&bytes);
        full.expect("full trace");
        let n = bytes.len();
        let mut cuts: Vec<usize> = (1..24).map(|i| 16 + (n - 16) * i / 24).collect();
        cuts.extend([17, 18, 19, 20, n - 1, n - 2, n - 3]);
        for cut in cuts {
            let (r, eps) = decode(&bytes[..cut]);
            let s = r.unwrap_or_else(|e| panic!("{name} cut at {cut}: {e}"));
            assert!(
                s.warnings.iter().any(|w| w.message.contains("truncated?")),
                "{name} cut at {cut}: no truncation warning: {:?}",
                s.warnings
            );
            assert!(eps.len() <= full_eps.len() + 64, "{name} cut at {cut}");
        }
        // Cut in the middle: events before the cut are decoded.
        let (r, eps) = decode(&bytes[..n / 2]);
        let s = r.expect("half");
        assert!(
            s.events > 0 && !eps.is_empty(),
            "{name}: half trace decoded nothing"
        );
        let w = &s.warnings;
        assert!(w.iter().any(|w| w.offset.is_some()), "{name}: {w:?}");
    }
}

#[test]
fn corrupt_bytes_never_panic() {
    let bytes = gotree("stress_1_21_good");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut errors = 0;
    for _ in 0..300 {
        let mut b = bytes.clone();
        for _ in 0..1 + rnd() % 4 {
            let i = 16 + (rnd() as usize) % (b.len() - 16);
            b[i] = rnd() as u8;
        }
        match decode(&b).0 {
            Ok(_) => {}
            Err(DecodeError::Corrupt { offset, what }) => {
                assert!(offset <= b.len() as u64 && !what.is_empty());
                errors += 1;
            }
            Err(DecodeError::Inconsistent { what }) => {
                assert!(!what.is_empty());
                errors += 1;
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert!(errors > 0);
    // Unknown event type at a known place: error names the offset.
    let evs = events(&bytes, 21);
    let (off, _) = evs[evs.len() / 2];
    let mut b = bytes.clone();
    b[off] = 0x3f; // type 63
    match decode(&b).0 {
        Err(DecodeError::Corrupt { offset, what }) => {
            assert_eq!(offset, off as u64);
            assert!(what.contains("unknown event type 63"), "{what}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// A damaged length in the middle of the file is corruption, not a cut: the
/// first `Stack` record of a real Go 1.21 trace given a length of ~6e18
/// bytes (as 8 flipped bits did in a QA run, which then read "the trace
/// ends mid-batch at byte N — truncated?" with 11 kB after byte N).
#[test]
fn a_damaged_length_with_bytes_after_it_is_corrupt_not_cut() {
    let bytes = std::fs::read(repo().join("testdata/go1.21/pprof-http.trace")).unwrap();
    let (pos, _) = *events(&bytes, 21)
        .iter()
        .find(|(_, r)| r.typ == ev::STACK)
        .expect("a Stack event");
    let mut len_end = pos + 1;
    while bytes[len_end] & 0x80 != 0 {
        len_end += 1;
    }
    let mut b = bytes[..=pos].to_vec();
    b.extend_from_slice(&[0xd1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x51]);
    b.extend_from_slice(&bytes[len_end + 1..]);
    save("stack-length-damaged.trace", &b);
    match decode(&b).0 {
        Err(DecodeError::Corrupt { offset, what }) => {
            assert_eq!(offset, pos as u64);
            assert!(what.contains("Stack event claims"), "{what}");
        }
        other => panic!("expected Corrupt at {pos}, got {other:?}"),
    }
}

/// The same for a String record: the runtime never writes one longer than
/// its 64 KiB buffer, so a longer one the end of the file cuts is damaged.
#[test]
fn a_damaged_string_length_is_corrupt_not_cut() {
    let bytes = std::fs::read(repo().join("testdata/go1.21/pprof-http.trace")).unwrap();
    let (pos, r) = *events(&bytes, 21)
        .iter()
        .find(|(_, r)| r.typ == ev::STRING)
        .expect("a String event");
    // [type][id][length][bytes]: give it a 3-byte length of 500,000.
    let mut len_at = pos + 1;
    while bytes[len_at] & 0x80 != 0 {
        len_at += 1;
    }
    len_at += 1;
    let mut len_end = len_at;
    while bytes[len_end] & 0x80 != 0 {
        len_end += 1;
    }
    let mut b = bytes[..len_at].to_vec();
    b.extend_from_slice(&[0xa0, 0xc2, 0x1e]); // 500,000
    b.extend_from_slice(&bytes[len_end + 1..]);
    assert!(b.len() - pos < 500_000, "the claim must run past the end");
    match decode(&b).0 {
        Err(DecodeError::Corrupt { offset, what }) => {
            assert_eq!(offset, pos as u64);
            assert!(what.contains("String event of 500000 bytes"), "{what}");
        }
        other => panic!("expected Corrupt at {pos}, got {other:?}"),
    }
    // Cut inside that same record (its real length): a cut.
    let (r2, _) = decode(&bytes[..r.end - 1]);
    let s = r2.expect("a cut trace decodes");
    assert!(s.warnings.iter().any(|w| w.message.contains("truncated?")));
}

/// A batch of one P moved earlier in time: causally later events carry
/// earlier timestamps, as on machines whose CPU clocks disagree. Go's
/// readers reject such traces with "time stamps out of order".
fn unordered(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let evs = events(bytes, 21);
    // The second batch of some P that is not the first P in the file.
    let first_pid = evs
        .iter()
        .find(|(_, r)| r.typ == ev::BATCH)
        .map(|(_, r)| r.values[0])
        .expect("batch");
    let mut seen = 0;
    let (pos, raw) = evs
        .iter()
        .find(|(_, r)| {
            if r.typ == ev::BATCH && r.values[0] != first_pid && r.values[0] != u64::MAX {
                seen += 1;
                seen == 2
            } else {
                false
            }
        })
        .copied()
        .expect("a second batch of another P");
    let spans = value_spans(bytes, pos);
    // Half a millisecond at 40 M ticks/s.
    put_varint(&mut b, spans[1], raw.values[1] - 20_000);
    b
}

#[test]
fn timestamps_out_of_order_decode_with_a_warning() {
    let bytes = std::fs::read(repo().join("testdata/gotree/tracev1/stress_1_21_good")).unwrap();
    let b = unordered(&bytes);
    save("stress_1_21_unordered", &b);
    let (r, eps) = decode(&b);
    let s = r.expect("decoded despite the clock skew");
    assert!(
        s.warnings
            .iter()
            .any(|w| w.message.contains("timestamps out of order")),
        "{:?}",
        s.warnings
    );
    assert!(eps.iter().all(|e| e.end_ns >= e.start_ns));
    let (_, orig) = decode(&bytes);
    assert_eq!(
        eps.len(),
        orig.len(),
        "same episodes, some with other times"
    );
}

#[test]
fn events_that_cannot_be_ordered_are_rejected() {
    // A GoStart whose sequence number never comes: nothing can follow it.
    let bytes = gotree("stress_1_21_good");
    let evs = events(&bytes, 21);
    let (pos, raw) = evs[evs.len() / 3..]
        .iter()
        .find(|(_, r)| r.typ == ev::GO_START && r.values[2] > 0)
        .copied()
        .expect("a GoStart");
    let mut b = bytes.clone();
    let spans = value_spans(&bytes, pos);
    let seq = raw.values[2];
    let n = spans[2].1 - spans[2].0;
    let bad = if seq + 50 < 1u64 << (7 * n) {
        seq + 50
    } else {
        seq - 1
    };
    put_varint(&mut b, spans[2], bad);
    save("stress_1_21_bad_seq", &b);
    match decode(&b).0 {
        Err(DecodeError::Inconsistent { what }) => {
            assert!(what.contains("no consistent ordering"), "{what}");
            assert!(what.contains("byte "), "names the offset: {what}");
        }
        other => panic!("expected Inconsistent, got {other:?}"),
    }
    // Same on the helper-thread path.
    let h = goblock_trace::header::parse(&b).expect("header");
    let r = goblock_trace::v1::decode_with(
        &b,
        &h,
        &mut Tables::new(),
        &mut |_: &Episode, _: &Tables| {},
        goblock_trace::v1::Options {
            threads: goblock_trace::v1::Threads::Always,
            ..Default::default()
        },
    );
    assert!(matches!(r, Err(DecodeError::Inconsistent { .. })), "{r:?}");
    // The same damage in a truncated copy: decoded with a warning instead.
    let (r, eps) = decode(&b[..b.len() - 1]);
    let s = r.expect("lenient when truncated");
    assert!(!eps.is_empty());
    assert!(
        s.warnings
            .iter()
            .any(|w| w.message.contains("cut off") || w.message.contains("truncated?"))
    );
}

struct Progress {
    calls: Vec<(u64, u64)>,
    cancel_after: usize,
}

impl EpisodeSink for Progress {
    fn episode(&mut self, _: &Episode, _: &Tables) {}
    fn progress(&mut self, done: u64, total: u64) -> ControlFlow<()> {
        self.calls.push((done, total));
        if self.calls.len() > self.cancel_after {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

#[test]
fn progress_and_cancellation() {
    let bytes = gotree("stress_1_21_good");
    let mut tables = Tables::new();
    let mut p = Progress {
        calls: Vec::new(),
        cancel_after: usize::MAX,
    };
    goblock_trace::decode(&bytes, &mut tables, &mut p).expect("decode");
    assert!(!p.calls.is_empty());
    assert!(
        p.calls
            .iter()
            .all(|&(d, t)| d <= t && t == bytes.len() as u64)
    );
    assert_eq!(
        p.calls.last(),
        Some(&(bytes.len() as u64, bytes.len() as u64))
    );
    let mut p = Progress {
        calls: Vec::new(),
        cancel_after: 0,
    };
    let r = goblock_trace::decode(&bytes, &mut tables, &mut p);
    assert!(matches!(r, Err(DecodeError::Cancelled)), "{r:?}");
}

fn decode_threads(
    bytes: &[u8],
    threads: goblock_trace::v1::Threads,
) -> (TraceSummary, Vec<Episode>) {
    let h = goblock_trace::header::parse(bytes).expect("header");
    let mut tables = Tables::new();
    let mut eps = Vec::new();
    let s = goblock_trace::v1::decode_with(
        bytes,
        &h,
        &mut tables,
        &mut |ep: &Episode, _: &Tables| eps.push(*ep),
        goblock_trace::v1::Options {
            threads,
            ..Default::default()
        },
    )
    .expect("decode");
    (s, eps)
}

#[test]
fn helper_thread_gives_identical_results() {
    use goblock_trace::v1::Threads;
    for p in [
        repo().join("testdata/gotree/tracev1/stress_1_21_good"),
        repo().join("testdata/gotree/tracev1/stress_1_11_good"),
        repo().join("testdata/go1.21/pprof-http.trace"),
        repo().join("testdata/go1.19/blocking.trace"),
    ] {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let (s1, e1) = decode_threads(&bytes, Threads::Never);
        let (s2, e2) = decode_threads(&bytes, Threads::Always);
        assert_eq!(e1, e2, "{}", p.display());
        assert_eq!((s1.events, s1.duration_ns), (s2.events, s2.duration_ns));
        assert_eq!(s1.warnings, s2.warnings);
    }
    // Damaged: same errors and warnings on both paths.
    let bytes = gotree("stress_1_21_good");
    let b = unordered(&bytes);
    let (s1, e1) = decode_threads(&b, Threads::Never);
    let (s2, e2) = decode_threads(&b, Threads::Always);
    assert_eq!((e1, s1.warnings), (e2, s2.warnings));
    let cut = &bytes[..bytes.len() * 2 / 3];
    let (s1, e1) = decode_threads(cut, Threads::Never);
    let (s2, e2) = decode_threads(cut, Threads::Always);
    assert_eq!((e1, s1.warnings), (e2, s2.warnings));
    // Cancellation from the sink while the helper runs.
    let h = goblock_trace::header::parse(&bytes).expect("header");
    let mut tables = Tables::new();
    let mut p = Progress {
        calls: Vec::new(),
        cancel_after: 1,
    };
    let r = goblock_trace::v1::decode_with(
        &bytes,
        &h,
        &mut tables,
        &mut p,
        goblock_trace::v1::Options {
            threads: Threads::Always,
            ..Default::default()
        },
    );
    assert!(matches!(r, Err(DecodeError::Cancelled)), "{r:?}");
}

/// A Go 1.21 trace cut short (a process killed while writing it) is
/// explained as a cut, on one line with its offset — never as CPU clocks out
/// of sync, which is what the late-applied events waiting for the lost ones
/// would otherwise look like.
#[test]
fn a_cut_go121_trace_is_explained_as_a_cut() {
    let bytes = std::fs::read(repo().join("testdata/go1.21/pprof-http.trace")).unwrap();
    let n = bytes.len();
    let mut forced_seen = false;
    for cut in (1..12).map(|i| 16 + (n - 16) * i / 12) {
        let (r, _) = decode(&bytes[..cut]);
        let s = r.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let cut_warning = s
            .warnings
            .iter()
            .find(|w| w.message.contains("truncated?"))
            .unwrap_or_else(|| panic!("cut at {cut}: no cut warning: {:?}", s.warnings));
        let off = cut_warning.offset.expect("the cut's offset");
        assert!(off <= cut as u64, "cut at {cut}: offset {off}");
        assert!(
            cut_warning.message.contains(&format!("at byte {off}")),
            "{}",
            cut_warning.message
        );
        for w in &s.warnings {
            assert!(!w.message.contains('\n'), "cut at {cut}: {w}");
            assert!(!w.message.contains("clocks"), "cut at {cut}: {w}");
        }
        forced_seen |= s.warnings.iter().any(|w| w.message.contains("cut off"));
    }
    assert!(forced_seen, "no cut left events waiting for lost ones");
}
