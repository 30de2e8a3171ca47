//! The same programs traced by an old-format runtime (Go 1.19, 1.21) and a
//! new-format one (Go 1.22, 1.23, 1.26) must show the same blocking lines,
//! with the same category and reason, in the same order of magnitude.
//!
//! For every `BLOCK[reason]` marker of `testdata/markers.tsv` in
//! `blocking/*.go`, each `testdata/go1.X/blocking.trace` is decoded and the
//! episodes whose stack passes through the marker's line are totalled
//! (closed and open alike). Old- and new-format totals must both be non-zero
//! with the same category and reason, and within a factor of 10, except for
//! the differences the formats impose (listed in `known_difference`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use goblock_trace::header::{self, Format};
use goblock_trace::{Category, Episode, Tables};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Marker {
    file: String,
    line: u32,
    reason: String,
    what: String,
}

fn markers() -> Vec<Marker> {
    let text = std::fs::read_to_string(repo().join("testdata/markers.tsv")).expect("markers.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 5 && f[2] == "BLOCK" && f[0].starts_with("blocking/")).then(|| Marker {
                file: f[0].to_string(),
                line: f[1].parse().unwrap_or(0),
                reason: f[3].to_string(),
                what: f[4].to_string(),
            })
        })
        .collect()
}

/// (category, reason) → (episodes, total ns) per marker index.
type PerMarker = Vec<BTreeMap<(Category, String), (u64, u64)>>;

fn per_marker(path: &Path, marks: &[Marker]) -> Option<(Format, PerMarker)> {
    let bytes = std::fs::read(path).ok()?;
    let fmt = header::parse(&bytes).ok()?.format;
    let mut tables = Tables::new();
    let mut eps: Vec<Episode> = Vec::new();
    goblock_trace::decode(&bytes, &mut tables, &mut |ep: &Episode, _: &Tables| {
        eps.push(*ep)
    })
    .ok()?;
    let mut out: PerMarker = vec![BTreeMap::new(); marks.len()];
    for ep in &eps {
        if matches!(ep.category, Category::Sched) {
            continue;
        }
        for (i, m) in marks.iter().enumerate() {
            let hit = tables.stack(ep.stack).iter().any(|&f| {
                let fr = tables.frame(f);
                fr.line == m.line && tables.str(fr.file).ends_with(&m.file)
            });
            if hit {
                let e = out[i]
                    .entry((ep.category, tables.str(ep.reason).to_string()))
                    .or_default();
                e.0 += 1;
                e.1 += ep.duration_ns();
            }
        }
    }
    Some((fmt, out))
}

/// Differences the formats impose (not decoder choices).
fn known_difference(m: &Marker) -> bool {
    // A goroutine blocked before trace.Start: the old format records no
    // stack for it (GoWaiting), Go 1.23+ does (GoStatusStack).
    m.what.contains("before trace.Start")
}

#[test]
fn old_and_new_format_show_the_same_lines() {
    let marks = markers();
    assert!(marks.len() > 10, "markers.tsv has too few BLOCK markers");
    let mut old = Vec::new();
    let mut new = Vec::new();
    for v in ["go1.19", "go1.21", "go1.22", "go1.23", "go1.26"] {
        let p = repo().join("testdata").join(v).join("blocking.trace");
        match per_marker(&p, &marks) {
            Some((Format::V1, pm)) => old.push((v, pm)),
            Some((Format::V2, pm)) => new.push((v, pm)),
            None => eprintln!("{v}: blocking.trace missing or not decodable, skipped"),
        }
    }
    assert!(!old.is_empty(), "no old-format blocking.trace");
    if new.is_empty() {
        eprintln!("no decodable new-format blocking.trace; nothing to compare");
        return;
    }
    let mut problems = Vec::new();
    for (i, m) in marks.iter().enumerate() {
        if known_difference(m) {
            continue;
        }
        let mut line = format!("{}:{} {:<14}", m.file, m.line, m.reason);
        for (v, pm) in old.iter().chain(new.iter()) {
            let (n, ns) = pm[i].values().fold((0, 0), |a, x| (a.0 + x.0, a.1 + x.1));
            line += &format!(" {v} {n}/{:.1}ms", ns as f64 / 1e6);
        }
        eprintln!("{line}");
        for (ov, opm) in &old {
            for (nv, npm) in &new {
                let o = &opm[i];
                let n = &npm[i];
                let okeys: Vec<_> = o.keys().collect();
                let nkeys: Vec<_> = n.keys().collect();
                if okeys != nkeys {
                    problems.push(format!(
                        "{}:{} ({}): {ov} {okeys:?} vs {nv} {nkeys:?}",
                        m.file, m.line, m.what
                    ));
                    continue;
                }
                for (k, &(_, ons)) in o {
                    let nns = n[k].1;
                    let (a, b) = (ons.max(1) as f64, nns.max(1) as f64);
                    if a / b > 10.0 || b / a > 10.0 {
                        problems.push(format!(
                            "{}:{} {k:?}: {ov} {ons} ns vs {nv} {nns} ns",
                            m.file, m.line
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
