//! Decodes one trace with no consumer work (counts episodes per category)
//! and prints wall time and throughput: `cargo run --release -p goblock-trace
//! --example v1_bench -- TRACE`. Reads the file into memory (no mmap), so
//! peak RSS includes the whole file.

use std::time::Instant;

use goblock_trace::{Category, Episode, Tables};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: v1_bench TRACE");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let t0 = Instant::now();
    let mut tables = Tables::new();
    let mut counts = [(0u64, 0u64); Category::ALL.len()];
    let mut sink = |ep: &Episode, _: &Tables| {
        let i = Category::ALL
            .iter()
            .position(|c| *c == ep.category)
            .unwrap_or(0);
        counts[i].0 += 1;
        counts[i].1 += ep.duration_ns();
    };
    let summary = match goblock_trace::decode(&bytes, &mut tables, &mut sink) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "{path}: go {} trace, {:.1} MB, {} events, {:.3} s, {:.1} MB/s, {:.2} Mevents/s, {} stacks",
        summary.go_version,
        summary.bytes as f64 / 1e6,
        summary.events,
        dt,
        summary.bytes as f64 / 1e6 / dt,
        summary.events as f64 / 1e6 / dt,
        tables.stack_count()
    );
    for (c, (n, ns)) in Category::ALL.iter().zip(counts) {
        println!("  {c:<8} {n:>10} episodes {:>14} ns", ns);
    }
    for w in &summary.warnings {
        println!("  warning: {w}");
    }
}
