//! Oracles for goroutine dumps and pprof profiles of testdata/dumps,
//! counted independently of goblock: goroutines per program line straight
//! from a dump's text, and per-line flat figures from `go tool pprof -raw`.
//! Shared by tests/dumps.rs (report) and lsp/server/tests/dumps.rs (server).

use std::collections::BTreeMap;

/// The program's file name and line of a recorded path (`.../parked/x.go`).
pub fn program_site(file: &str) -> Option<String> {
    let (_, name) = file.rsplit_once("/parked/")?;
    Some(name.to_owned())
}

/// Counts the dump's goroutines per program line straight from its text:
/// the first frame position line (`\t…/parked/x.go:N`) of each goroutine;
/// a goroutine with none (library code started by a `go` statement of the
/// program) counts at its `created by` position when that is the program's.
pub fn count_from_text(text: &str) -> BTreeMap<(String, u32), u64> {
    count_text(text, false)
}

/// Of [`count_from_text`]: only the goroutines with no program frame,
/// counted at their program's `created by` position (the `go` statement).
#[allow(dead_code)] // not every includer asks for it
pub fn started_from_text(text: &str) -> BTreeMap<(String, u32), u64> {
    count_text(text, true)
}

fn count_text(text: &str, only_started: bool) -> BTreeMap<(String, u32), u64> {
    let mut out = BTreeMap::new();
    let mut in_goroutine = false;
    let mut creator_next = false;
    let mut found = false;
    for line in text.lines() {
        if line.starts_with("goroutine ") && line.ends_with(':') {
            in_goroutine = true;
            creator_next = false;
            found = false;
            continue;
        }
        if line.is_empty() {
            in_goroutine = false;
            creator_next = false;
            continue;
        }
        if line.starts_with("created by ") {
            in_goroutine = false;
            creator_next = !found;
            continue;
        }
        if !(in_goroutine || creator_next) || found {
            continue;
        }
        if let Some(pos) = line.strip_prefix('\t') {
            let pos = pos.split(' ').next().unwrap_or(pos);
            if let Some((file, n)) = pos.rsplit_once(':')
                && let Some(name) = program_site(file)
            {
                if creator_next || !only_started {
                    *out.entry((name, n.parse().unwrap())).or_default() += 1;
                }
                found = true;
            }
            if creator_next {
                creator_next = false;
                found = true;
            }
        }
    }
    out
}

/// `go tool pprof -raw` (Samples and Locations blocks) → per program line:
/// (count, delay) charged to the innermost frame in the program's files.
pub fn raw_oracle(raw: &str) -> BTreeMap<(String, u32), (u64, u64)> {
    let mut locs: BTreeMap<u64, Vec<(String, u32)>> = BTreeMap::new();
    let mut samples: Vec<(u64, u64, Vec<u64>)> = Vec::new();
    let mut section = "";
    let mut last_loc = 0;
    for line in raw.lines() {
        match line {
            "Samples:" | "Locations" | "Mappings" => {
                section = line;
                continue;
            }
            _ => {}
        }
        match section {
            "Samples:" => {
                let Some((vals, ids)) = line.split_once(':') else {
                    continue;
                };
                let vals: Vec<u64> = vals
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                if vals.is_empty() {
                    continue;
                }
                let ids = ids.split_whitespace().map(|x| x.parse().unwrap()).collect();
                samples.push((vals[0], vals.get(1).copied().unwrap_or(0), ids));
            }
            "Locations" => {
                let t = line.trim_start();
                // `1: 0x4d9c20 M=1 func file:line:col s=N` or a continuation
                // `func file:line:col s=N` (inlining callers).
                let rest = match t.split_once(": 0x") {
                    Some((id, rest)) if id.chars().all(|c| c.is_ascii_digit()) => {
                        last_loc = id.parse().unwrap();
                        let rest = rest.split_once(' ').map_or("", |x| x.1);
                        rest.split_once(' ').map_or("", |x| x.1)
                    }
                    _ => t,
                };
                let pos = rest.split(' ').nth(1).unwrap_or("");
                let mut parts = pos.rsplitn(3, ':');
                let _col = parts.next();
                let line_no: u32 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0);
                let file = parts.next().unwrap_or("").to_owned();
                locs.entry(last_loc).or_default().push((file, line_no));
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    for (count, delay, ids) in samples {
        let site = ids
            .iter()
            .flat_map(|id| locs[id].iter())
            .find_map(|(f, l)| program_site(f).map(|n| (n, *l)));
        if let Some(s) = site {
            let e: &mut (u64, u64) = out.entry(s).or_default();
            e.0 += count;
            e.1 += delay;
        }
    }
    out
}

/// Goroutines of a dump's text that have not run yet, per `notstarted/`
/// line: the first frame is a `go` statement's wrapper (`….gowrapN()`)
/// printed at its `created by` position without a PC offset.
pub fn not_started_from_text(text: &str) -> BTreeMap<u32, u64> {
    let mut out = BTreeMap::new();
    for g in text.split("\n\n") {
        let lines: Vec<&str> = g.lines().collect();
        let Some(h) = lines.iter().position(|l| l.starts_with("goroutine ")) else {
            continue;
        };
        let (Some(func), Some(pos)) = (lines.get(h + 1), lines.get(h + 2)) else {
            continue;
        };
        let wrapper = func
            .trim_end_matches("()")
            .rsplit('.')
            .next()
            .is_some_and(|f| f.starts_with("gowrap"));
        // `\tFILE:LINE [+0xPC] [fp=… sp=… pc=…]`
        let mut at = pos.split_whitespace();
        let (site, offset) = (at.next(), at.next());
        let created = lines
            .iter()
            .position(|l| l.starts_with("created by "))
            .and_then(|c| lines.get(c + 1))
            .and_then(|l| l.split_whitespace().next());
        let entry = !offset.is_some_and(|o| o.starts_with("+0x"));
        if wrapper && entry && site.is_some() && site == created {
            let (file, line) = site.unwrap_or_default().rsplit_once(':').unwrap();
            assert!(file.ends_with("/notstarted/main.go"), "{pos}");
            *out.entry(line.parse().unwrap()).or_default() += 1;
        }
    }
    out
}
