//! Dev tool: decodes a trace and prints its summary, per-category totals and
//! (with `--tsv`) every episode, one per line:
//! `goroutine category reason start_ns end_ns began_before open_at_end stack_pcs waker_g waker_pcs creator_pcs`.
//!
//! With `--go-times` (new format only), episode times are those Go's reader
//! gives (see `goblock_trace::v2::Options`).
//!
//! With `--threads never|always`, the decoder runs on one thread or with its
//! helper threads whatever the trace's size (default: as `goblock` does);
//! `--workers N`: the new-format decoder's worker threads. A parallel decode
//! that fell back to one thread says so on stderr (`stitch fallback: …`).
//!
//! Usage: cargo run --release -p goblock-trace --example episodes -- TRACE [--tsv] [--go-times] [--threads never|always] [--workers N]

use std::collections::BTreeMap;
use std::io::Write;

use goblock_trace::{Episode, Format, Tables, Threads};

#[path = "../tests/support/episode_tsv.rs"]
mod episode_tsv;
use episode_tsv::Tsv;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: episodes TRACE [--tsv] [--go-times] [--threads never|always]");
        std::process::exit(2);
    };
    let tsv = args.iter().any(|a| a == "--tsv");
    let go_times = args.iter().any(|a| a == "--go-times");
    let threads = match args.iter().position(|a| a == "--threads") {
        None => Threads::Auto,
        Some(i) => match args.get(i + 1).map(String::as_str) {
            Some("never") => Threads::Never,
            Some("always") => Threads::Always,
            _ => {
                eprintln!("--threads takes never or always");
                std::process::exit(2);
            }
        },
    };
    let workers = match args.iter().position(|a| a == "--workers") {
        None => 0,
        Some(i) => match args.get(i + 1).and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                eprintln!("--workers takes a number");
                std::process::exit(2);
            }
        },
    };
    let bytes = std::fs::read(path).expect("read trace");
    let mut tables = Tables::new();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut totals: BTreeMap<(String, bool), (u64, u64)> = BTreeMap::new();
    let res = {
        let mut sink = |ep: &Episode, t: &Tables| {
            let e = totals
                .entry((ep.category.to_string(), ep.is_closed()))
                .or_default();
            e.0 += 1;
            e.1 += ep.duration_ns();
            if tsv {
                let _ = writeln!(out, "{}", Tsv(ep, t));
            }
        };
        goblock_trace::header::parse(&bytes).and_then(|h| match h.format {
            Format::V2 => {
                let opts = goblock_trace::v2::Options {
                    go_reader_times: go_times,
                    threads,
                    workers,
                    ..Default::default()
                };
                goblock_trace::v2::decode_detailed(&bytes, &h, &mut tables, &mut sink, &opts).map(
                    |(s, st)| {
                        if let Some(g) = st.stitch_fallback {
                            eprintln!("stitch fallback: generation {g}");
                        }
                        s
                    },
                )
            }
            Format::V1 => {
                let opts = goblock_trace::v1::Options {
                    threads,
                    ..Default::default()
                };
                goblock_trace::v1::decode_with(&bytes, &h, &mut tables, &mut sink, opts)
            }
        })
    };
    drop(out);
    match res {
        Ok(s) => {
            eprintln!(
                "go {} | {} bytes | {} events | {} generations | {} ns",
                s.go_version, s.bytes, s.events, s.generations, s.duration_ns
            );
            for w in &s.warnings {
                eprintln!("warning: {w}");
            }
        }
        Err(e) => eprintln!("error: {e}"),
    }
    for ((cat, closed), (n, d)) in totals {
        eprintln!(
            "{cat:8} {:6} {n:8} {d:14}",
            if closed { "closed" } else { "open" }
        );
    }
}
