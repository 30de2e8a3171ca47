//! Symbolizer benchmark: prints figures, asserts nothing about time.
//!
//! ```text
//! cargo bench -p goblock-symbols --bench symbols -- \
//!     --binary BIG_GO_BINARY [--pcs 1000000] [--runs 7] \
//!     [--trace TRACE --trace-binary BINARY]... [--compare 100000]
//! ```
//! `lsp/symbols/bench.sh` builds the inputs (a ~25 MB Go binary with DWARF:
//! cmd/compile; a trace of it compiling a large package) and runs this.
//!
//! Figures:
//! * load: `Binary::open_uncached` (file in the page cache), min/median of
//!   `--runs`, with the phase breakdown; a cached re-open through
//!   `Symbolizer`.
//! * random text PCs (`--pcs`, uniformly over the executable sections):
//!   cold (fresh binary: batch `resolve_many`, and one-by-one `resolve`),
//!   then warm `resolve` (every PC cached) — lookups/s.
//! * each trace: decode (for reference), distinct PCs, then on a fresh
//!   binary the whole symbolization step (`match_trace` + `symbolize`) and
//!   `resolve_many` of the distinct PCs alone.
//! * the same PCs through `go tool addr2line` and `llvm-symbolizer` (whole
//!   processes, `--compare` PCs), beside ours cold on the same PCs.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use goblock_symbols::{
    Binary, MatchOptions, Request, Symbolizer, match_trace, symbolize, symbolize_trace,
};
use goblock_trace::{Episode, Tables};

struct Args {
    binary: Option<PathBuf>,
    pcs: usize,
    runs: usize,
    traces: Vec<(PathBuf, PathBuf)>,
    compare: usize,
    go: String,
}

fn args() -> Args {
    let mut a = Args {
        binary: None,
        pcs: 1_000_000,
        runs: 7,
        traces: Vec::new(),
        compare: 100_000,
        go: "go".into(),
    };
    let mut it = std::env::args().skip(1);
    let mut pending_trace: Option<PathBuf> = None;
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--binary" => a.binary = Some(v().into()),
            "--pcs" => a.pcs = v().parse().expect("--pcs N"),
            "--runs" => a.runs = v().parse().expect("--runs N"),
            "--compare" => a.compare = v().parse().expect("--compare N"),
            "--go" => a.go = v(),
            "--trace" => pending_trace = Some(v().into()),
            "--trace-binary" => {
                let t = pending_trace.take().expect("--trace before --trace-binary");
                a.traces.push((t, v().into()));
            }
            "--bench" => {}
            other => eprintln!("ignoring argument {other}"),
        }
    }
    a
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn rate(n: usize, d: Duration) -> String {
    let r = n as f64 / d.as_secs_f64();
    if r >= 1e6 {
        format!("{:.2} M/s", r / 1e6)
    } else {
        format!("{:.0} k/s", r / 1e3)
    }
}

/// Uniformly random PCs over the text ranges (xorshift, fixed seed).
fn random_pcs(bin: &Binary, n: usize) -> Vec<u64> {
    let ranges = bin.text_ranges();
    let total: u64 = ranges.iter().map(|(lo, hi)| hi - lo).sum();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut off = x % total.max(1);
            for &(lo, hi) in ranges {
                if off < hi - lo {
                    return lo + off;
                }
                off -= hi - lo;
            }
            ranges.first().map_or(0, |r| r.0)
        })
        .collect()
}

fn bench_load(path: &Path, runs: usize) {
    println!("== load {} ({:.1} MB)", path.display(), file_mb(path));
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let b = Binary::open_uncached(path).expect("open");
        times.push((t.elapsed(), b.load_timings()));
        last = Some(b);
    }
    times.sort_by_key(|t| t.0);
    let (min, med) = (times[0], times[times.len() / 2]);
    println!(
        "load: min {}, median {} over {runs} runs (median: read/map {}, parse {}, DWARF sections {}, symbols {}, context {})",
        ms(min.0),
        ms(med.0),
        ms(med.1.read),
        ms(med.1.parse),
        ms(med.1.dwarf),
        ms(med.1.symbols),
        ms(med.1.context)
    );
    if let Some(b) = last {
        let i = b.info();
        println!(
            "  {} {} DWARF v{} ({:.1} MB decompressed), {} function symbols, build ID {}",
            i.format.as_str(),
            i.arch,
            i.dwarf_version,
            i.dwarf_bytes as f64 / 1e6,
            b.symbols().len(),
            i.go_build_id.as_deref().unwrap_or("-")
        );
    }
    let sym = Symbolizer::new(2);
    let t = Instant::now();
    let _ = sym.open(path).expect("open");
    let first = t.elapsed();
    let t = Instant::now();
    let _ = sym.open(path).expect("reopen");
    println!(
        "Symbolizer::open: first {}, re-open (cached) {:.1} µs",
        ms(first),
        t.elapsed().as_secs_f64() * 1e6
    );
}

fn file_mb(p: &Path) -> f64 {
    std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1e6)
}

fn bench_random(path: &Path, n: usize) -> Vec<u64> {
    let bin = Binary::open_uncached(path).expect("open");
    let pcs = random_pcs(&bin, n);
    let mut distinct = pcs.clone();
    distinct.sort_unstable();
    distinct.dedup();
    println!("== {n} random text PCs ({} distinct)", distinct.len());

    let t = Instant::now();
    let chains = bin.resolve_many(&pcs).expect("resolve_many");
    let cold_batch = t.elapsed();
    let with_frames = chains.iter().filter(|c| !c.is_empty()).count();
    let inlined = chains.iter().filter(|c| c.len() > 1).count();
    println!(
        "cold, resolve_many (sorted, {} threads): {} = {}  ({with_frames} with DWARF frames, {inlined} with inline chains)",
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4),
        ms(cold_batch),
        rate(n, cold_batch)
    );

    let fresh = Binary::open_uncached(path).expect("open");
    let t = Instant::now();
    for &pc in &pcs {
        let _ = fresh.resolve(pc).expect("resolve");
    }
    let cold_single = t.elapsed();
    println!(
        "cold, resolve one by one (random order, 1 thread): {} = {}",
        ms(cold_single),
        rate(n, cold_single)
    );

    let t = Instant::now();
    let mut frames = 0usize;
    for &pc in &pcs {
        frames += fresh.resolve(pc).expect("resolve").len();
    }
    let warm = t.elapsed();
    println!(
        "warm, resolve one by one (cache hits, 1 thread): {} = {}  ({frames} frames)",
        ms(warm),
        rate(n, warm)
    );
    let threads = 2;
    let t = Instant::now();
    std::thread::scope(|s| {
        for k in 0..threads {
            let (fresh, pcs) = (&fresh, &pcs);
            s.spawn(move || {
                for &pc in pcs.iter().skip(k).step_by(threads) {
                    let _ = fresh.resolve(pc);
                }
            });
        }
    });
    let warm2 = t.elapsed();
    println!(
        "warm, resolve one by one ({threads} threads sharing the binary): {} = {}",
        ms(warm2),
        rate(n, warm2)
    );
    let (cached, chains_n) = fresh.cache_stats();
    println!("  cache: {cached} PCs, {chains_n} distinct chains");
    pcs
}

fn bench_trace(trace: &Path, binary: &Path) -> Vec<u64> {
    println!("== trace {} ({:.1} MB)", trace.display(), file_mb(trace));
    let bytes = std::fs::read(trace).expect("read trace");
    let mut tables = Tables::new();
    let t = Instant::now();
    let summary = goblock_trace::decode(&bytes, &mut tables, &mut |_: &Episode, _: &Tables| {})
        .expect("decode");
    let decode = t.elapsed();
    drop(bytes);
    let mut pcs: Vec<u64> = tables
        .frames()
        .map(|(_, f)| f.pc)
        .filter(|&p| p != 0)
        .collect();
    pcs.sort_unstable();
    pcs.dedup();
    println!(
        "decode (not the symbolizer, for reference): {} — go {}, {} events, {} frames, {} stacks, {} distinct PCs",
        ms(decode),
        summary.go_version,
        summary.events,
        tables.frame_count(),
        tables.stack_count(),
        pcs.len()
    );
    // A copy of the frames and stacks, for the end-to-end run below.
    let tables_copy = {
        let mut t = Tables::new();
        let mut ids = Vec::new();
        for (_, f) in tables.frames() {
            let g = goblock_trace::Frame {
                func: t.intern_str(tables.str(f.func)),
                file: t.intern_str(tables.str(f.file)),
                ..*f
            };
            ids.push(t.intern_frame(g));
        }
        for s in 0..tables.stack_count() {
            let st: Vec<_> = tables
                .stack(goblock_trace::StackId(s as u32))
                .iter()
                .map(|f| ids[f.0 as usize])
                .collect();
            t.intern_stack(&st);
        }
        t
    };
    let bin = Binary::open_uncached(binary).expect("open");
    let t = Instant::now();
    let m = match_trace(&bin, &tables, &MatchOptions::default()).expect("match");
    let matched = t.elapsed();
    let t = Instant::now();
    let s = symbolize(&bin, &m, &mut tables).expect("symbolize");
    let symbolized = t.elapsed();
    println!(
        "fresh binary: match_trace {} + symbolize {} = {} for all distinct PCs ({} frames, {} identical to the trace, {}/{} chain links agree, bias {:#x})",
        ms(matched),
        ms(symbolized),
        ms(matched + symbolized),
        s.stats.frames,
        s.stats.identical,
        s.stats.chain_agree,
        s.stats.chain_links,
        m.bias
    );
    let mut again = tables_copy;
    let t = Instant::now();
    let req = Request {
        binaries: vec![binary.to_owned()],
        ..Default::default()
    };
    let s = symbolize_trace(&Symbolizer::new(2), &mut again, &req);
    println!(
        "symbolize_trace end to end (open + match + symbolize + declarations, fresh cache): {} ({}, {} declarations)",
        ms(t.elapsed()),
        s.source.as_str(),
        s.decls().count()
    );
    let fresh = Binary::open_uncached(binary).expect("open");
    let t = Instant::now();
    let chains = fresh.resolve_many(&pcs).expect("resolve");
    let d = t.elapsed();
    println!(
        "fresh binary: resolve_many of the {} distinct PCs alone: {} = {} ({} with frames)",
        pcs.len(),
        ms(d),
        rate(pcs.len(), d),
        chains.iter().filter(|c| !c.is_empty()).count()
    );
    let t = Instant::now();
    let _ = fresh.decl("main.main");
    println!(
        "function_decls (first call, whole-DWARF scan): {}",
        ms(t.elapsed())
    );
    pcs
}

/// Runs `cmd` with one hex PC per line on stdin; wall time.
fn run_tool(mut cmd: Command, pcs: &[u64]) -> Option<Duration> {
    let mut input = Vec::with_capacity(pcs.len() * 12);
    for pc in pcs {
        let _ = writeln!(input, "{pc:#x}");
    }
    let t = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().ok()?;
    let _ = writer.join();
    let d = t.elapsed();
    (out.status.success() && !out.stdout.is_empty()).then_some(d)
}

fn compare(path: &Path, pcs: &[u64], go: &str, label: &str) {
    println!(
        "== {label}: {} PCs through whole processes vs in-process",
        pcs.len()
    );
    let fresh = Binary::open_uncached(path).expect("open");
    let t = Instant::now();
    let _ = fresh.resolve_many(pcs).expect("resolve");
    let ours_batch = t.elapsed();
    let t0 = Instant::now();
    let fresh = Binary::open_uncached(path).expect("open");
    let load = t0.elapsed();
    let t = Instant::now();
    for &pc in pcs {
        let _ = fresh.resolve(pc);
    }
    let ours_single = t.elapsed();
    println!(
        "goblock-symbols: load {} + resolve_many {} (= {}); load + one by one {} (= {})",
        ms(load),
        ms(ours_batch),
        rate(pcs.len(), ours_batch),
        ms(load + ours_single),
        rate(pcs.len(), ours_single)
    );
    let mut c = Command::new(go);
    c.args(["tool", "addr2line"]).arg(path);
    match run_tool(c, pcs) {
        Some(d) => println!(
            "go tool addr2line ({go}; pclntab, outermost function, no inline chain): {} = {}",
            ms(d),
            rate(pcs.len(), d)
        ),
        None => println!("go tool addr2line: not available"),
    }
    let mut c = Command::new("llvm-symbolizer");
    c.arg(format!("--obj={}", path.display()))
        .args(["--inlining", "--functions=linkage"]);
    match run_tool(c, pcs) {
        Some(d) => println!(
            "llvm-symbolizer (DWARF, inline chains): {} = {}",
            ms(d),
            rate(pcs.len(), d)
        ),
        None => println!("llvm-symbolizer: not available (Debian package llvm)"),
    }
}

fn main() {
    let a = args();
    println!(
        "goblock-symbols bench — {} CPUs, {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| format!(
                "load average {}",
                l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
            ))
            .unwrap_or_default()
    );
    if a.binary.is_none() && a.traces.is_empty() {
        println!(
            "nothing to do: pass --binary and/or --trace/--trace-binary (see lsp/symbols/bench.sh)"
        );
        return;
    }
    if let Some(b) = &a.binary {
        bench_load(b, a.runs);
        let pcs = bench_random(b, a.pcs);
        let n = a.compare.min(pcs.len());
        compare(b, &pcs[..n], &a.go, "random text PCs");
    }
    for (t, b) in &a.traces {
        let pcs = bench_trace(t, b);
        compare(b, &pcs, &a.go, "the trace's distinct PCs");
    }
}
