//! Decoder throughput and memory on one trace of any version (old or new
//! format), with no consumer work (the sink counts episodes per category):
//! `cargo run --release -p goblock-trace --example decode_bench -- TRACE [--read] [--workers N]`.
//!
//! `--workers N` (new format): 0 decodes on one thread, N ≥ 1 orders
//! generations on N worker threads (a scaling curve); without it, as
//! `goblock` decides (parallel on two cores or more for large traces).
//!
//! By default the file is memory-mapped, the way goblock reads files, and
//! pages below the decoder's progress are released (`MADV_DONTNEED`, in
//! 16 MiB steps; when progress goes back — the old-format decoder's second
//! sweep — releasing starts over from there), so peak RSS (measure it with
//! `/usr/bin/time -v`) shows what the decoder keeps. `--read` reads the whole
//! file into memory instead; then RSS includes it all.

use std::ops::ControlFlow;
use std::time::Instant;

use goblock_trace::{Category, Episode, EpisodeSink, Tables};

struct Counter<'a> {
    counts: [(u64, u64); Category::ALL.len()],
    release: &'a mut dyn FnMut(u64),
    progress_calls: u64,
}

impl EpisodeSink for Counter<'_> {
    fn episode(&mut self, ep: &Episode, _: &Tables) {
        let i = ep.category as usize;
        self.counts[i].0 += 1;
        self.counts[i].1 += ep.duration_ns();
    }

    fn progress(&mut self, done: u64, _total: u64) -> ControlFlow<()> {
        self.progress_calls += 1;
        (self.release)(done);
        ControlFlow::Continue(())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: decode_bench TRACE [--read] [--workers N]");
        std::process::exit(2);
    };
    let read = args.iter().any(|a| a == "--read");
    let workers: Option<usize> = match args.iter().position(|a| a == "--workers") {
        None => None,
        Some(i) => match args.get(i + 1).and_then(|n| n.parse().ok()) {
            Some(n) => Some(n),
            None => {
                eprintln!("--workers takes a number");
                std::process::exit(2);
            }
        },
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let owned: Vec<u8>;
    let map: Option<memmap2::Mmap>;
    let bytes: &[u8] = if read {
        owned = std::fs::read(path).unwrap_or_default();
        map = None;
        &owned
    } else {
        // SAFETY: read-only private mapping of a file nobody writes meanwhile.
        map = unsafe { memmap2::Mmap::map(&file) }.ok();
        match map.as_ref() {
            Some(m) => {
                let _ = m.advise(memmap2::Advice::Sequential);
                m
            }
            None => {
                eprintln!("{path}: cannot map");
                std::process::exit(1);
            }
        }
    };
    let len = bytes.len();
    let mut released = 0usize;
    let mut release = |done: u64| {
        const STEP: usize = 16 << 20;
        let done = (done as usize).min(len);
        if done < released {
            released = done / STEP * STEP; // a new sweep
        }
        let upto = done / STEP * STEP;
        if let Some(m) = map.as_ref()
            && upto > released
        {
            // SAFETY: a read-only private file mapping: dropped pages are
            // re-read from the file if touched again.
            let _ = unsafe {
                m.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    released,
                    upto - released,
                )
            };
            released = upto;
        }
    };
    let t0 = Instant::now();
    let mut tables = Tables::new();
    let mut sink = Counter {
        counts: Default::default(),
        release: &mut release,
        progress_calls: 0,
    };
    let decoded = match (workers, goblock_trace::header::parse(bytes)) {
        (Some(n), Ok(h)) if h.format == goblock_trace::Format::V2 => {
            let opts = goblock_trace::v2::Options {
                threads: if n == 0 {
                    goblock_trace::Threads::Never
                } else {
                    goblock_trace::Threads::Always
                },
                workers: n,
                ..Default::default()
            };
            goblock_trace::v2::decode_with(bytes, &h, &mut tables, &mut sink, &opts)
        }
        _ => goblock_trace::decode(bytes, &mut tables, &mut sink),
    };
    let summary = match decoded {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "{path}: go {} trace, {:.1} MB, {} generations, {} events, {:.3} s, {:.1} MB/s, {:.2} Mevents/s, {} stacks, {} frames, {} progress calls",
        summary.go_version,
        summary.bytes as f64 / 1e6,
        summary.generations,
        summary.events,
        dt,
        summary.bytes as f64 / 1e6 / dt,
        summary.events as f64 / 1e6 / dt,
        tables.stack_count(),
        tables.frame_count(),
        sink.progress_calls,
    );
    for (c, (n, ns)) in Category::ALL.iter().zip(sink.counts) {
        println!("  {c:<8} {n:>10} episodes {ns:>16} ns");
    }
    for w in &summary.warnings {
        println!("  warning: {w}");
    }
}
