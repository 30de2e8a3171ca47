//! The new-format decoder ordering generations on worker threads gives
//! byte-for-byte what it gives on one thread — episodes (in sink order, with
//! the same ids: the tables intern in the same order),
//! summary, warnings, error — on every committed new-format trace (Go's
//! own programs under testdata/, the multi-generation traces, the fuzz
//! corpus), on traces cut inside a generation, and when the stitch of a
//! generation fails and decoding falls back to one thread. And that input
//! still arriving (`Arriving`: a copy being made) decodes as the whole, and
//! that a sink folding in parts (`Parts`) gets every episode once, with its
//! ids and times as on one thread.

use std::path::{Path, PathBuf};

use goblock_trace::v2::{Options, Stats};
use std::sync::{Arc, Mutex};

use goblock_trace::{
    Arriving, DecodeError, Episode, Format, Tables, Threads, TraceSummary, header,
};

#[path = "support/episode_tsv.rs"]
mod episode_tsv;
use episode_tsv::Tsv;
#[path = "support/keep_all.rs"]
mod keep_all;
use keep_all::{Joined, KeepAll};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Traces of several generations (three Go versions), and one of one.
const SEVERAL_GENERATIONS_AND_ONE: [&str; 4] = [
    "testdata/go1.26/blocking-multigen.trace",
    "lsp/trace/tests/data/multigen/go1.23.trace",
    "lsp/trace/tests/data/multigen/go1.22.trace",
    "testdata/go1.27/blocking.trace",
];

/// Each of [`SEVERAL_GENERATIONS_AND_ONE`] whole and cut at two thirds:
/// (file, whole length, bytes).
fn whole_and_cut() -> Vec<(&'static str, usize, Vec<u8>)> {
    let mut out = Vec::new();
    for f in SEVERAL_GENERATIONS_AND_ONE {
        let p = repo().join(f);
        let whole = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let n = whole.len();
        out.push((f, n, whole[..n * 2 / 3].to_vec()));
        out.push((f, n, whole));
    }
    out
}

/// Every file under `dir` (recursively) that is a new-format trace.
fn v2_traces(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            v2_traces(&p, out);
        } else if std::fs::read(&p)
            .ok()
            .and_then(|b| header::parse(&b).ok())
            .is_some_and(|h| h.format == Format::V2)
        {
            out.push(p);
        }
    }
}

/// One line per episode, in the order the sink got them, with its stacks'
/// PCs resolved; then the summary, warnings or error.
fn decode_tsv(bytes: &[u8], opts: &Options) -> (String, Option<Stats>) {
    let h = header::parse(bytes).expect("header");
    let mut tables = Tables::new();
    let mut out = String::new();
    let res = goblock_trace::v2::decode_detailed(
        bytes,
        &h,
        &mut tables,
        &mut |ep: &Episode, t: &Tables| {
            // The ids too: the tables intern in the same order.
            let ids = (
                ep.stack.0,
                ep.creator.map(|c| c.0),
                ep.waker.map(|w| w.stack.0),
            );
            out.push_str(&format!("{}\t{ids:?}\n", Tsv(ep, t)));
        },
        opts,
    );
    outcome(&mut out, &tables, &res);
    match res {
        Ok((_, stats)) => {
            let fallback = stats.stitch_fallback;
            let stats = Stats {
                stitch_fallback: None,
                ..stats
            };
            out.push_str(&format!("stats {stats:?}\n"));
            (
                out,
                Some(Stats {
                    stitch_fallback: fallback,
                    ..stats
                }),
            )
        }
        Err(_) => (out, None),
    }
}

/// The tables' sizes, then the summary and warnings, or the error.
fn outcome<S>(out: &mut String, tables: &Tables, res: &Result<(TraceSummary, S), DecodeError>) {
    out.push_str(&format!(
        "tables {} {} {}\n",
        tables.string_count(),
        tables.frame_count(),
        tables.stack_count()
    ));
    match res {
        Ok((s, _)) => {
            out.push_str(&format!(
                "summary {} {} {} {} {}\n",
                s.go_version, s.bytes, s.events, s.duration_ns, s.generations
            ));
            for w in &s.warnings {
                out.push_str(&format!("warning {w}\n"));
            }
        }
        Err(e) => out.push_str(&format!("error {e}\n")),
    }
}

fn sequential() -> Options {
    Options {
        threads: Threads::Never,
        ..Options::default()
    }
}

fn parallel(workers: usize) -> Options {
    Options {
        threads: Threads::Always,
        workers,
        ..Options::default()
    }
}

/// [`parallel`] handing over chunks of `items` instead of the default
/// 16,384, which these small traces never fill: every chunk boundary (an
/// event's assumptions travel with its transitions, the caller applies
/// chunk after chunk) is crossed hundreds of times.
fn parallel_chunks(workers: usize, items: usize) -> Options {
    Options {
        chunk_items: items,
        ..parallel(workers)
    }
}

#[test]
fn every_committed_trace_decodes_identically_in_parallel() {
    let mut files = Vec::new();
    v2_traces(&repo().join("testdata"), &mut files);
    let committed = files.len();
    v2_traces(&repo().join("lsp/trace/tests/data"), &mut files);
    v2_traces(&repo().join("lsp/trace/fuzz/corpus"), &mut files);
    assert!(
        committed >= 20,
        "only {committed} new-format traces in testdata/"
    );
    let mut multi = 0;
    for (i, f) in files.iter().enumerate() {
        let bytes = std::fs::read(f).expect("read");
        let (one, _) = decode_tsv(&bytes, &sequential());
        for (workers, opts) in [
            (2, parallel(2)),
            (3, parallel(3)),
            (2, parallel_chunks(2, 7)),
        ] {
            let (par, stats) = decode_tsv(&bytes, &opts);
            assert!(
                one == par,
                "{}: {workers} workers (chunks of {}) differ from one thread",
                f.display(),
                opts.chunk_items
            );
            // Go's own programs' traces stitch without falling back.
            if i < committed
                && let Some(s) = stats
            {
                assert_eq!(s.stitch_fallback, None, "{}", f.display());
            }
        }
        let generations = one
            .lines()
            .find_map(|l| l.strip_prefix("summary "))
            .and_then(|s| s.split(' ').nth(4)?.parse::<u64>().ok())
            .unwrap_or(0);
        if i < committed && generations > 1 {
            multi += 1;
        }
    }
    // The stitch is exercised only where a trace has several generations.
    assert!(
        multi >= 5,
        "{multi} committed traces of several generations"
    );
}

/// Traces cut inside a generation (the last one is dropped with a warning:
/// found by the splitter from Go 1.26 on, by the tables before).
#[test]
fn truncated_traces_decode_identically_in_parallel() {
    let mut warned = 0;
    for f in [
        "testdata/go1.26/blocking-multigen.trace",
        "lsp/trace/tests/data/multigen/go1.23.trace",
        "lsp/trace/tests/data/multigen/go1.22.trace",
    ] {
        let p = repo().join(f);
        let whole = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let n = whole.len();
        let mut cuts: Vec<usize> = (1..8).map(|i| n * i / 8).collect();
        cuts.extend([n - 1, n - 100, 64, 1000, 5000]);
        for cut in cuts {
            let bytes = &whole[..cut];
            let (one, _) = decode_tsv(bytes, &sequential());
            for opts in [parallel(2), parallel_chunks(2, 7)] {
                let (par, _) = decode_tsv(bytes, &opts);
                assert!(one == par, "{f} cut at {cut} of {n}: parallel differs");
            }
            warned += usize::from(one.contains("warning trace truncated"));
        }
    }
    assert!(warned >= 24, "only {warned} cuts warned of truncation");
}

/// A stitch that fails (here forced; a real one is a generation whose
/// announced state differs from the state the previous one ended in) makes
/// the decoder go on on one thread from there: same results, and the
/// fallback is reported.
#[test]
fn a_failed_stitch_falls_back_to_one_thread_with_identical_results() {
    let p = repo().join("testdata/go1.26/blocking-multigen.trace");
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let (one, _) = decode_tsv(&bytes, &sequential());
    let gens: u64 = one
        .lines()
        .find_map(|l| l.strip_prefix("summary "))
        .and_then(|s| s.split(' ').nth(4)?.parse().ok())
        .expect("summary");
    assert!(gens >= 3, "{gens} generations");
    for at in [0, 1, gens / 2, gens - 1] {
        let opts = Options {
            stitch_fails_at: Some(at),
            ..parallel(2)
        };
        let (par, stats) = decode_tsv(&bytes, &opts);
        assert!(one == par, "fallback at generation {at}: results differ");
        assert_eq!(stats.and_then(|s| s.stitch_fallback), Some(at));
    }
    // Without a forced failure, this trace stitches.
    let (_, stats) = decode_tsv(&bytes, &parallel(2));
    assert_eq!(stats.and_then(|s| s.stitch_fallback), None);
}

/// Input that arrives `step` bytes at a time, each time the decoder waits
/// for more (never on its own), and stops arriving at `fail_at`.
#[derive(Debug)]
struct Trickle {
    len: usize,
    step: usize,
    fail_at: Option<usize>,
    ready: Mutex<usize>,
}

impl Trickle {
    fn new(len: usize, step: usize, fail_at: Option<usize>) -> Arc<Self> {
        Arc::new(Trickle {
            len,
            step,
            fail_at,
            ready: Mutex::new(0),
        })
    }
}

impl Arriving for Trickle {
    fn ready(&self) -> Option<usize> {
        let r = *self.ready.lock().ok()?;
        match self.fail_at {
            Some(f) if r >= f => None,
            _ => Some(r),
        }
    }

    fn wait_beyond(&self, n: usize) -> Option<usize> {
        {
            let mut r = self.ready.lock().ok()?;
            *r = (*r).max(n.saturating_add(self.step)).min(self.len);
        }
        self.ready()
    }
}

/// Decoded while its bytes arrive — in steps smaller than a batch, of
/// about a batch, and larger than a generation; on one thread and on two
/// workers — a trace gives what it gives whole, cut or not; and input that
/// stops arriving stops the decoder (`Cancelled`), on one thread and on
/// workers.
#[test]
fn input_still_arriving_decodes_as_the_whole() {
    let mut checked = 0;
    for (f, n, bytes) in whole_and_cut() {
        let cut = bytes.len();
        let bytes = &bytes[..];
        let (one, _) = decode_tsv(bytes, &sequential());
        for step in [997, 70_000, n] {
            for base in [sequential(), parallel_chunks(2, 7)] {
                let opts = Options {
                    arriving: Some(Trickle::new(cut, step, None)),
                    ..base.clone()
                };
                let (got, _) = decode_tsv(bytes, &opts);
                assert!(
                    one == got,
                    "{f} cut at {cut} of {n}, arriving {step} bytes at a time, threads {:?}: differs",
                    base.threads
                );
                checked += 1;
            }
        }
        for base in [sequential(), parallel(2)] {
            let opts = Options {
                arriving: Some(Trickle::new(cut, 997, Some(cut / 2))),
                ..base.clone()
            };
            let (got, _) = decode_tsv(bytes, &opts);
            assert!(
                got.contains("error decoding cancelled"),
                "{f}: input that stopped arriving: {}",
                got.lines().last().unwrap_or("")
            );
        }
    }
    assert_eq!(checked, 48);
}

/// The episodes a sink got, as lines sorted (a sink folding in parts gets
/// them in another order) with their ids; then the tables' sizes, the
/// summary, warnings or error. `parts`: into a sink folding in parts.
fn decode_sorted(bytes: &[u8], opts: &Options, parts: bool) -> (String, Joined) {
    let h = header::parse(bytes).expect("header");
    let mut tables = Tables::new();
    let mut all = KeepAll::default();
    let res = if parts {
        goblock_trace::v2::decode_detailed(bytes, &h, &mut tables, &mut all, opts)
    } else {
        let mut plain = |ep: &Episode, _: &Tables| all.episodes.push(*ep);
        goblock_trace::v2::decode_detailed(bytes, &h, &mut tables, &mut plain, opts)
    };
    let mut lines: Vec<String> = all
        .episodes
        .iter()
        .map(|ep| {
            let ids = (
                ep.stack.0,
                ep.reason.0,
                ep.creator.map(|c| c.0),
                ep.waker.map(|w| w.stack.0),
            );
            format!("{}\t{ids:?}\n", Tsv(ep, &tables))
        })
        .collect();
    lines.sort();
    let mut out = lines.concat();
    outcome(&mut out, &tables, &res);
    (out, all.joined)
}

/// A sink folding in parts on the workers gets the episodes one thread
/// gives, with the same ids, times and creators (those of goroutines
/// created in an earlier generation looked up at the join) — whole, cut
/// short, in parts of a few episodes, after a failed stitch.
#[test]
fn a_sink_folding_in_parts_gets_what_one_thread_gives() {
    let mut checked = 0;
    for (f, n, bytes) in whole_and_cut() {
        let cut = bytes.len();
        let (one, _) = decode_sorted(&bytes, &sequential(), false);
        for opts in [
            parallel(2),
            parallel_chunks(2, 7),
            Options {
                stitch_fails_at: Some(1),
                ..parallel_chunks(2, 7)
            },
        ] {
            let (
                got,
                Joined {
                    episodes: joined, ..
                },
            ) = decode_sorted(&bytes, &opts, true);
            // Most episodes come in parts (the rest: those built on the
            // caller's thread, from changes handed over, open at the end,
            // or after a fallback).
            let all = got.lines().filter(|l| l.contains('\t')).count();
            assert!(all == 0 || joined > 0, "{f}: no episode came in parts");
            if opts.stitch_fails_at.is_none() && all > 0 {
                assert!(
                    joined * 4 > all * 3,
                    "{f}: {joined} of {all} episodes came in parts"
                );
            }
            assert!(
                one == got,
                "{f} cut at {cut} of {n}, chunks {}, stitch fails at {:?}: differs",
                opts.chunk_items,
                opts.stitch_fails_at
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
}

/// A part is sent on once it holds its budget of bytes, however many
/// episodes it may hold, with the results of one thread: a sink with many
/// keys per part holds no more ahead of the caller than one taking
/// episodes one by one.
#[test]
fn a_part_is_sent_on_once_it_holds_its_bytes() {
    // A part of `KeepAll` holds 72 bytes per episode in a vector that
    // doubles: 16 episodes take 1,176 bytes, 17 take 2,328.
    let budget = Options {
        part_bytes: 1500,
        ..parallel(2)
    };
    let mut split = 0;
    for (f, n, bytes) in whole_and_cut() {
        let (one, _) = decode_sorted(&bytes, &sequential(), false);
        let (_, whole) = decode_sorted(&bytes, &parallel(2), true);
        let (got, parts) = decode_sorted(&bytes, &budget, true);
        assert!(
            one == got,
            "{f} cut at {} of {n}: differs with a part budget",
            bytes.len()
        );
        assert_eq!(parts.episodes, whole.episodes, "{f}: episodes in parts");
        assert!(
            parts.largest <= 17,
            "{f}: a part of {} episodes passed its budget",
            parts.largest
        );
        if whole.largest > 17 {
            split += 1;
            assert!(
                parts.parts > whole.parts,
                "{f}: {parts:?} against {whole:?}"
            );
        }
    }
    assert!(split >= 4, "only {split} traces had parts over the budget");
}
