//! New-format decoder contract, on real traces: progress reports (monotonic,
//! within the file, ending at its size), cancellation, summary figures,
//! episode invariants (times, flags, categories, resolvable stacks), the
//! `go 1.27` header, and refusing old-format input in `v2::decode_with`.

use std::ops::ControlFlow;
use std::path::PathBuf;

use goblock_trace::header::{self, Format};
use goblock_trace::{Category, DecodeError, Episode, EpisodeSink, Tables};

fn multigen(v: &str) -> Vec<u8> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/multigen/go{v}.trace"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[derive(Default)]
struct Recorder {
    episodes: Vec<Episode>,
    progress: Vec<(u64, u64)>,
    cancel_after: Option<usize>,
    bad: Vec<String>,
}

impl EpisodeSink for Recorder {
    fn episode(&mut self, ep: &Episode, t: &Tables) {
        if ep.end_ns < ep.start_ns {
            self.bad.push(format!("ends before it starts: {ep:?}"));
        }
        let reason = t.str(ep.reason);
        let expect = match ep.category {
            Category::Syscall => reason == "syscall",
            Category::Sched => !reason.is_empty(),
            c => Category::of_wait_reason(reason) == c,
        };
        if !expect {
            self.bad
                .push(format!("category {:?} for reason {reason:?}", ep.category));
        }
        for s in [Some(ep.stack), ep.creator, ep.waker.map(|w| w.stack)]
            .into_iter()
            .flatten()
        {
            for &f in t.stack(s) {
                let fr = t.frame(f);
                // (Go 1.22 runtimes record some unblock stacks as a single
                // frame with PC 0 and no names; Go's reader shows the same.)
                if fr.pc != 0 && t.str(fr.func).is_empty() {
                    self.bad.push(format!("unresolved frame {fr:?}"));
                }
            }
        }
        self.episodes.push(*ep);
    }

    fn progress(&mut self, done: u64, total: u64) -> ControlFlow<()> {
        self.progress.push((done, total));
        match self.cancel_after {
            Some(n) if self.progress.len() >= n => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    }
}

#[test]
fn progress_summary_and_episode_invariants() {
    for v in ["1.22", "1.23", "1.26", "1.27"] {
        let bytes = multigen(v);
        let mut tables = Tables::new();
        let mut rec = Recorder::default();
        let s = goblock_trace::decode(&bytes, &mut tables, &mut rec).unwrap();
        assert!(
            rec.bad.is_empty(),
            "go{v}: {:?}",
            &rec.bad[..rec.bad.len().min(5)]
        );
        assert!(s.warnings.is_empty(), "go{v}: {:?}", s.warnings);
        assert_eq!(s.bytes, bytes.len() as u64);
        assert!(s.generations >= 10, "go{v}: {} generations", s.generations);
        assert!(s.events > 1000);
        assert!(s.duration_ns > 0);
        let expect_version = if v == "1.27" { "1.26" } else { v };
        assert_eq!(s.go_version, expect_version);
        // Progress: at least once per generation, monotonic, ends at the size.
        assert!(rec.progress.len() as u64 >= s.generations);
        assert!(rec.progress.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(
            rec.progress
                .iter()
                .all(|&(d, t)| t == bytes.len() as u64 && d <= t)
        );
        assert_eq!(rec.progress.last().map(|p| p.0), Some(bytes.len() as u64));
        // Episodes end by the trace end; open ones exactly there.
        for ep in &rec.episodes {
            assert!(
                ep.end_ns <= s.duration_ns,
                "go{v}: {ep:?} after the end {}",
                s.duration_ns
            );
            if ep.open_at_end {
                assert_eq!(ep.end_ns, s.duration_ns, "go{v}: {ep:?}");
            }
            if ep.began_before_trace {
                assert_eq!(ep.start_ns, 0, "go{v}: {ep:?}");
            }
        }
        // Some episodes cross generation boundaries, some began before the
        // trace, some are still open at its end.
        assert!(rec.episodes.iter().any(|e| e.began_before_trace));
        assert!(rec.episodes.iter().any(|e| e.open_at_end));
        assert!(rec.episodes.iter().any(|e| e.creator.is_some()));
        assert!(
            rec.episodes
                .iter()
                .any(|e| e.waker.is_some_and(|w| w.goroutine.is_none()))
        );
        assert!(
            rec.episodes
                .iter()
                .any(|e| e.waker.is_some_and(|w| w.goroutine.is_some()))
        );
    }
}

#[test]
fn cpu_samples_and_experimental_batches_are_counted_not_warned() {
    // `go test -cpuprofile` with GODEBUG=traceallocfree=1 (see gen.sh).
    let bytes = multigen("1.26-cpuprof-allocfree");
    let h = header::parse(&bytes).unwrap();
    let mut tables = Tables::new();
    let mut rec = Recorder::default();
    let (s, stats) = goblock_trace::v2::decode_detailed(
        &bytes,
        &h,
        &mut tables,
        &mut rec,
        &goblock_trace::v2::Options::default(),
    )
    .unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert!(stats.cpu_samples > 0, "{stats:?}");
    assert!(stats.experimental_batches > 0, "{stats:?}");
    assert_eq!(stats.episodes, rec.episodes.len() as u64);
    assert!(rec.bad.is_empty(), "{:?}", rec.bad);
}

#[test]
fn cancellation() {
    let bytes = multigen("1.26");
    let mut tables = Tables::new();
    let mut rec = Recorder {
        cancel_after: Some(3),
        ..Recorder::default()
    };
    let res = goblock_trace::decode(&bytes, &mut tables, &mut rec);
    assert!(matches!(res, Err(DecodeError::Cancelled)), "{res:?}");
    assert_eq!(rec.progress.len(), 3);
}

#[test]
fn go_1_27_header_is_decoded_as_1_26_with_a_warning() {
    // No Go release writes "go 1.27 trace" (Go 1.27 writes "go 1.26").
    let mut bytes = multigen("1.27");
    assert!(bytes.starts_with(b"go 1.26 trace"));
    bytes[5..7].copy_from_slice(b"27");
    let mut tables = Tables::new();
    let mut n = 0;
    let s =
        goblock_trace::decode(&bytes, &mut tables, &mut |_: &Episode, _: &Tables| n += 1).unwrap();
    assert_eq!(s.go_version, "1.27");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].message.contains("1.26"));
    assert!(n > 0);
}

#[test]
fn v2_refuses_old_format_input() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/go1.21");
    let Some(path) = std::fs::read_dir(&dir).ok().and_then(|mut rd| {
        rd.find_map(|e| {
            e.ok()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "trace"))
        })
    }) else {
        eprintln!("skipped: no old-format trace in {}", dir.display());
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let h = header::parse(&bytes).unwrap();
    assert_eq!(h.format, Format::V1);
    let mut tables = Tables::new();
    let res = goblock_trace::v2::decode_with(
        &bytes,
        &h,
        &mut tables,
        &mut |_: &Episode, _: &Tables| {},
        &goblock_trace::v2::Options::default(),
    );
    assert!(
        matches!(res, Err(DecodeError::UnsupportedVersion { .. })),
        "{res:?}"
    );
}

/// Decodes with the given threading (and Go-reader times or not).
fn decode_threads(
    bytes: &[u8],
    threads: goblock_trace::Threads,
    go_reader_times: bool,
) -> (
    Result<(goblock_trace::TraceSummary, goblock_trace::v2::Stats), DecodeError>,
    Vec<Episode>,
) {
    let h = header::parse(bytes).expect("header");
    let mut tables = Tables::new();
    let mut eps = Vec::new();
    let opts = goblock_trace::v2::Options {
        go_reader_times,
        threads,
        ..Default::default()
    };
    let res = goblock_trace::v2::decode_detailed(
        bytes,
        &h,
        &mut tables,
        &mut |ep: &Episode, _: &Tables| eps.push(*ep),
        &opts,
    );
    (res, eps)
}

#[test]
fn helper_thread_gives_identical_results() {
    use goblock_trace::Threads;
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut traces: Vec<(String, Vec<u8>)> =
        ["1.22", "1.23", "1.26", "1.26-cpuprof-allocfree", "1.27"]
            .iter()
            .map(|v| (format!("multigen {v}"), multigen(v)))
            .collect();
    for f in [
        "go1.22/pprof-http.trace",
        "go1.26/pprof-http.trace",
        "go1.26/blocking-multigen.trace",
    ] {
        let p = repo.join("testdata").join(f);
        traces.push((
            f.into(),
            std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        ));
    }
    let whole = multigen("1.26");
    // Cut mid-way (a truncated last generation) and damaged (an error).
    traces.push(("cut".into(), whole[..whole.len() * 2 / 3].to_vec()));
    let mut bad = whole.clone();
    for b in bad.iter_mut().skip(whole.len() / 2).take(64) {
        *b = 0xff;
    }
    traces.push(("damaged".into(), bad));
    // Found by the fuzz target: an error after some transitions were
    // ordered (one thread had applied them, two had not handed them over).
    let p = repo.join("lsp/trace/fuzz/corpus/decode/error-after-transitions");
    traces.push((
        "error after transitions".into(),
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    ));
    let mut compared = 0;
    for (name, bytes) in &traces {
        for go_times in [false, true] {
            let (one, e1) = decode_threads(bytes, Threads::Never, go_times);
            let (two, e2) = decode_threads(bytes, Threads::Always, go_times);
            // The same episodes reach the sink, also before an error.
            assert_eq!(e1, e2, "{name}");
            match (one, two) {
                (Ok((s1, st1)), Ok((s2, st2))) => {
                    assert!(!e1.is_empty() || name == "cut", "{name}: no episodes");
                    // Whether a stitch fell back is the one difference.
                    let st2 = goblock_trace::v2::Stats {
                        stitch_fallback: None,
                        ..st2
                    };
                    assert_eq!(st1, st2, "{name}");
                    assert_eq!(
                        (s1.events, s1.duration_ns, s1.generations, &s1.warnings),
                        (s2.events, s2.duration_ns, s2.generations, &s2.warnings),
                        "{name}"
                    );
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
                (a, b) => panic!("{name}: one thread {:?} vs two {:?}", a.err(), b.err()),
            }
            compared += e1.len();
        }
    }
    assert!(compared > 10_000, "{compared} episodes compared");
}

#[test]
fn cancellation_stops_the_helper_thread() {
    let bytes = multigen("1.26");
    let h = header::parse(&bytes).expect("header");
    for cancel_after in [1, 2, 3] {
        let mut tables = Tables::new();
        let mut rec = Recorder {
            cancel_after: Some(cancel_after),
            ..Recorder::default()
        };
        let opts = goblock_trace::v2::Options {
            threads: goblock_trace::Threads::Always,
            ..Default::default()
        };
        let res = goblock_trace::v2::decode_with(&bytes, &h, &mut tables, &mut rec, &opts);
        assert!(matches!(res, Err(DecodeError::Cancelled)), "{res:?}");
        assert_eq!(rec.progress.len(), cancel_after);
    }
}

/// `head_is_decodable` says whether a head of a trace decodes to something:
/// at every cut of real multi-generation traces of each new-format layout
/// (end markers from 1.26, generations ended by the next one before), a
/// head holding its first generation whole, and only such a head, yields
/// episodes when decoded. A large trace's preview relies on it.
#[test]
fn a_head_is_decodable_when_it_holds_a_whole_generation() {
    for v in ["1.22", "1.23", "1.26", "1.27"] {
        let bytes = multigen(v);
        let mut first_whole = None;
        let step = (bytes.len() / 200).max(1);
        for n in (0..=bytes.len()).step_by(step).chain([bytes.len()]) {
            let head = &bytes[..n];
            let mut episodes = 0u64;
            let mut count = |_: &Episode, _: &Tables| episodes += 1;
            let decoded = goblock_trace::decode(head, &mut Tables::new(), &mut count);
            let generations = decoded.map_or(0, |s| s.generations);
            let claimed = goblock_trace::head_is_decodable(head);
            if n < bytes.len() {
                assert_eq!(
                    claimed,
                    generations > 0 && episodes > 0,
                    "go{v}: head of {n} of {} bytes: {generations} generations, {episodes} episodes",
                    bytes.len()
                );
            }
            if claimed && first_whole.is_none() {
                first_whole = Some(n);
            }
        }
        // The first generation ends inside the file, not at its end.
        let first = first_whole.unwrap_or_else(|| panic!("go{v}: no decodable head"));
        assert!(
            first < bytes.len() / 2,
            "go{v}: first decodable head {first}"
        );
    }
    // The old format decodes up to a cut: any head with its header.
    let old = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/go1.21/blocking-test.trace"
    ))
    .unwrap();
    assert!(goblock_trace::head_is_decodable(&old[..old.len() / 3]));
    assert!(!goblock_trace::head_is_decodable(&old[..8]));
}
