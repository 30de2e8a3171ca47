//! Fuzz target: the trace decoder must never panic, whatever the bytes —
//! through the public entry point (every format) and the new-format decoder
//! in Go-reader time mode; every episode's stacks and strings must resolve;
//! the new-format decoder ordering generations in parallel (worker threads,
//! stitched in file order, falling back to one thread where a stitch fails)
//! gives exactly what it gives on one thread (episodes, summary, warnings,
//! error), and so does the old-format decoder merging on its helper thread;
//! a sink wanting some categories gets exactly
//! those episodes of what a sink wanting all gets (every format); input
//! still arriving (`Arriving`, a few bytes at a time) gives what the whole
//! input gives, on one thread and on workers; a sink folding in parts on
//! the workers (`Parts`) gets the episodes one thread gives, the order
//! aside.
//!
//! `cd lsp/trace/fuzz && ASAN_OPTIONS=detect_leaks=0 cargo +nightly fuzz run decode corpus/decode -- -max_len=65536`
//! (`detect_leaks=0`: the first time a thread blocks on a channel, the
//! standard library registers a thread-local destructor that lives until
//! the process exits, which LeakSanitizer reports as a leak, of that input
//! or, with libFuzzer's `-detect_leaks=0` alone, of an empty input at the
//! end of the run.)

#![no_main]

use std::sync::{Arc, Mutex};

use goblock_trace::{Arriving, Categories, Category, Episode, EpisodeSink, Tables};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/keep_all.rs"]
mod keep_all;
use keep_all::KeepAll;

/// Input arriving `step` bytes each time the decoder waits for more.
#[derive(Debug)]
struct Trickle {
    len: usize,
    step: usize,
    ready: Mutex<usize>,
}

impl Arriving for Trickle {
    fn ready(&self) -> Option<usize> {
        self.ready.lock().ok().map(|r| *r)
    }

    fn wait_beyond(&self, n: usize) -> Option<usize> {
        let mut r = self.ready.lock().ok()?;
        *r = (*r).max(n.saturating_add(self.step)).min(self.len);
        Some(*r)
    }
}

fn sink(ep: &Episode, t: &Tables) {
    assert!(
        ep.start_ns <= ep.end_ns,
        "episode ends before it starts: {ep:?}"
    );
    let _ = t.str(ep.reason);
    for s in [Some(ep.stack), ep.creator, ep.waker.map(|w| w.stack)]
        .into_iter()
        .flatten()
    {
        for &f in t.stack(s) {
            let fr = t.frame(f);
            let _ = (t.str(fr.func), t.str(fr.file));
        }
    }
}

/// Records the episodes of the categories it wants.
struct Wanting {
    wanted: Categories,
    eps: Vec<Episode>,
}

impl EpisodeSink for Wanting {
    fn episode(&mut self, ep: &Episode, t: &Tables) {
        sink(ep, t);
        self.eps.push(*ep);
    }

    fn categories(&self) -> Categories {
        self.wanted
    }
}

/// Episodes (and the error, if any) of the public decoder for a sink
/// wanting `wanted`.
fn decode_wanting(data: &[u8], wanted: Categories) -> (Vec<Episode>, Option<String>) {
    let mut w = Wanting {
        wanted,
        eps: Vec::new(),
    };
    let r = goblock_trace::decode(data, &mut Tables::new(), &mut w);
    (w.eps, r.err().map(|e| e.to_string()))
}

/// What a decode ended with: events, duration and warnings, or the error.
type Outcome = Result<(u64, u64, Vec<goblock_trace::Warning>), String>;

fn outcome(r: Result<goblock_trace::TraceSummary, goblock_trace::DecodeError>) -> Outcome {
    r.map(|s| (s.events, s.duration_ns, s.warnings))
        .map_err(|e| e.to_string())
}

/// [`decode_v2`]'s episodes sorted, for a sink folding in parts.
fn decode_v2_parts(
    data: &[u8],
    h: &goblock_trace::Header,
    opts: &goblock_trace::v2::Options,
) -> (Vec<String>, Outcome) {
    let mut keep = KeepAll::default();
    let mut tables = Tables::new();
    let r = goblock_trace::v2::decode_with(data, h, &mut tables, &mut keep, opts);
    for ep in &keep.episodes {
        sink(ep, &tables);
    }
    let mut eps: Vec<String> = keep.episodes.iter().map(|e| format!("{e:?}")).collect();
    eps.sort_unstable();
    (eps, outcome(r))
}

/// The episodes (each checked by [`sink`]) and the outcome of `decode`,
/// run with fresh tables and a sink that keeps every episode.
fn collect(
    decode: impl FnOnce(
        &mut Tables,
        &mut dyn EpisodeSink,
    ) -> Result<goblock_trace::TraceSummary, goblock_trace::DecodeError>,
) -> (Vec<Episode>, Outcome) {
    let mut eps = Vec::new();
    let r = decode(&mut Tables::new(), &mut |ep: &Episode, t: &Tables| {
        sink(ep, t);
        eps.push(*ep);
    });
    (eps, outcome(r))
}

fn decode_v2(
    data: &[u8],
    h: &goblock_trace::Header,
    opts: &goblock_trace::v2::Options,
) -> (Vec<Episode>, Outcome) {
    collect(|tables, sink| goblock_trace::v2::decode_with(data, h, tables, sink, opts))
}

/// The old-format decoder's episodes and outcome, merging on a helper
/// thread or not (`threads`).
fn decode_v1(
    data: &[u8],
    h: &goblock_trace::Header,
    threads: goblock_trace::Threads,
) -> (Vec<Episode>, Outcome) {
    let opts = goblock_trace::v1::Options {
        threads,
        ..Default::default()
    };
    collect(|tables, sink| goblock_trace::v1::decode_with(data, h, tables, sink, opts))
}

fuzz_target!(|data: &[u8]| {
    let (all, err) = decode_wanting(data, Categories::ALL);
    // What `goblock report` asks for by default: all but sched.
    let some: Categories = Category::ALL
        .into_iter()
        .filter(|&c| c != Category::Sched)
        .collect();
    let (got, some_err) = decode_wanting(data, some);
    let expected: Vec<Episode> = all
        .into_iter()
        .filter(|e| some.contains(e.category))
        .collect();
    assert!(got == expected, "a category subset changed the episodes");
    assert_eq!(err, some_err, "a category subset changed the outcome");
    if let Ok(h) = goblock_trace::header::parse(data)
        && h.format == goblock_trace::Format::V1
    {
        assert_eq!(
            decode_v1(data, &h, goblock_trace::Threads::Never),
            decode_v1(data, &h, goblock_trace::Threads::Always),
            "old format: one thread vs helper thread"
        );
    }
    if let Ok(h) = goblock_trace::header::parse(data)
        && h.format == goblock_trace::Format::V2
    {
        for go_reader_times in [false, true] {
            let [one, two] = [
                goblock_trace::Threads::Never,
                goblock_trace::Threads::Always,
            ]
            .map(|threads| {
                let opts = goblock_trace::v2::Options {
                    go_reader_times,
                    threads,
                    // Small chunks: fuzz inputs never fill the default's.
                    chunk_items: 5,
                    ..Default::default()
                };
                decode_v2(data, &h, &opts)
            });
            assert_eq!(one, two, "sequential vs parallel");
            if go_reader_times {
                continue;
            }
            let mut sorted: Vec<String> = one.0.iter().map(|e| format!("{e:?}")).collect();
            sorted.sort_unstable();
            // Parts of 5 episodes, and parts sent on at every episode (by
            // their size: one episode of `KeepAll` holds 312 bytes).
            for part_bytes in [0, 300] {
                let opts = goblock_trace::v2::Options {
                    threads: goblock_trace::Threads::Always,
                    chunk_items: 5,
                    part_bytes,
                    ..Default::default()
                };
                assert_eq!(
                    decode_v2_parts(data, &h, &opts),
                    (sorted.clone(), one.1.clone()),
                    "sequential vs folded in parts of {part_bytes} bytes"
                );
            }
            for threads in [
                goblock_trace::Threads::Never,
                goblock_trace::Threads::Always,
            ] {
                let opts = goblock_trace::v2::Options {
                    threads,
                    chunk_items: 5,
                    arriving: Some(Arc::new(Trickle {
                        len: data.len(),
                        step: 61,
                        ready: Mutex::new(0),
                    })),
                    ..Default::default()
                };
                assert_eq!(decode_v2(data, &h, &opts), one, "arriving vs whole");
            }
        }
    }
});
