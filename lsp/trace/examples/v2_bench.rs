//! Decoder throughput and memory on one trace, the way goblock reads files:
//! memory-mapped, input pages released (`MADV_DONTNEED`) behind the
//! decoder's progress reports, so peak RSS shows what the decoder keeps.
//! The sink only counts episodes per category.
//!
//! `cargo run --release -p goblock-trace --example v2_bench -- TRACE [--read]`
//! (`--read`: read the file into memory instead; then RSS includes it all).
//! Measure peak RSS with `/usr/bin/time -v`.

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
        eprintln!("usage: v2_bench TRACE [--read]");
        std::process::exit(2);
    };
    let read = args.iter().any(|a| a == "--read");
    let file = std::fs::File::open(path).expect("open");
    let owned: Vec<u8> = if read {
        std::fs::read(path).expect("read")
    } else {
        Vec::new()
    };
    // SAFETY: read-only private mapping of a file nobody writes meanwhile.
    let map: Option<memmap2::Mmap> =
        (!read).then(|| unsafe { memmap2::Mmap::map(&file) }.expect("mmap"));
    let bytes: &[u8] = match &map {
        Some(m) => {
            let _ = m.advise(memmap2::Advice::Sequential);
            m
        }
        None => &owned,
    };
    let mut released = 0usize;
    let len = bytes.len();
    let mut release = |done: u64| {
        const CHUNK: usize = 16 << 20;
        let upto = (done as usize).min(len) / CHUNK * CHUNK;
        if let (false, Some(m)) = (read, map.as_ref())
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
    let summary = match goblock_trace::decode(bytes, &mut tables, &mut sink) {
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
