//! Old-format (Go 1.11–1.21) decoder against Go's own numbers: for every
//! old-format trace that has `go tool trace -pprof=TYPE` oracles (dumped
//! with `go tool pprof -raw`), per-stack (PC list) totals of our closed
//! episodes must match.
//!
//! * sync: Go ≤ 1.21 counts GoBlockSend/Recv/Select/Sync/Cond **and
//!   GoBlockGC**, so ours is `sync` + `gc` episodes. Counts equal, durations
//!   within 0.1 % (they are in fact equal to the ns).
//! * net: `net` episodes, same rule.
//! * syscall: Go ≤ 1.21 counts only syscalls that lost their P (GoSysCall →
//!   GoSysBlock → GoSysExit). Decoding without non-blocking syscalls must
//!   match exactly; with them (the default) every stack has at least the
//!   oracle's count, the rest being non-blocking syscalls.
//!
//! Fixtures, discovered automatically:
//! * `testdata/go*/BASE.trace` whose header is old-format, with
//!   `BASE.TYPE.raw.txt` beside it (made by `testdata/gen.sh` with that
//!   version's toolchain);
//! * `testdata/gotree/tracev1/NAME` (Go's test traces) with oracles in
//!   `lsp/trace/tests/data/v1-oracles/NAME.TYPE.raw.txt` (see the README
//!   there);
//! * directories listed in `GOBLOCK_V1_FIXTURE_DIRS` (colon-separated), laid
//!   out like `testdata/go*/`.
//!
//! Go's pprof drops samples whose duration is not > 0 and events without a
//! stack; so do we here.

use std::path::{Path, PathBuf};

use goblock_trace::header::{self, Format};
use goblock_trace::v1;
use goblock_trace::{Category, Episode, Tables};

#[path = "support/pprof_raw.rs"]
mod pprof_raw;
use pprof_raw::{Profile, parse_raw, totals};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Decoded {
    tables: Tables,
    episodes: Vec<Episode>,
}

fn decode(bytes: &[u8], nonblocking_syscalls: bool, allow_warnings: bool) -> Decoded {
    let h = header::parse(bytes).expect("header");
    let mut tables = Tables::new();
    let mut episodes = Vec::new();
    let summary = v1::decode_with(
        bytes,
        &h,
        &mut tables,
        &mut |ep: &Episode, _: &Tables| episodes.push(*ep),
        v1::Options {
            nonblocking_syscalls,
            ..v1::Options::default()
        },
    )
    .expect("decode");
    if allow_warnings {
        for w in &summary.warnings {
            eprintln!("warning: {w:?}");
        }
    } else {
        assert!(
            summary.warnings.is_empty(),
            "unexpected warnings: {:?}",
            summary.warnings
        );
    }
    Decoded { tables, episodes }
}

fn profile(d: &Decoded, keep: impl Fn(&Episode) -> bool) -> Profile {
    let mut out = Profile::new();
    for ep in &d.episodes {
        if !ep.is_closed() || ep.stack.is_empty() || ep.duration_ns() == 0 || !keep(ep) {
            continue;
        }
        let pcs: Vec<u64> = d
            .tables
            .stack(ep.stack)
            .iter()
            .map(|&f| d.tables.frame(f).pc)
            .collect();
        let e = out.entry(pcs).or_default();
        e.0 += 1;
        e.1 += ep.duration_ns();
    }
    out
}

/// Compares exactly-matching profiles; returns problems.
fn compare(what: &str, ours: &Profile, oracle: &Profile) -> Vec<String> {
    let mut bad = Vec::new();
    for (pcs, &(n, ns)) in oracle {
        match ours.get(pcs) {
            None => bad.push(format!(
                "{what}: oracle stack {pcs:x?} ({n} × {ns} ns) missing"
            )),
            Some(&(on, ons)) => {
                let tol = ns / 1000;
                if on != n || ons.abs_diff(ns) > tol {
                    bad.push(format!(
                        "{what}: stack {pcs:x?}: ours {on} × {ons} ns, oracle {n} × {ns} ns"
                    ));
                }
            }
        }
    }
    for (pcs, &(n, ns)) in ours {
        if !oracle.contains_key(pcs) {
            bad.push(format!("{what}: extra stack {pcs:x?} ({n} × {ns} ns)"));
        }
    }
    bad
}

struct Fixture {
    name: String,
    trace: PathBuf,
    /// Oracles are `oracle_dir/oracle_base.TYPE.raw.txt`.
    oracle_dir: PathBuf,
    oracle_base: String,
    /// From `GOBLOCK_V1_FIXTURE_DIRS` (large suites): warnings are printed,
    /// not failures.
    external: bool,
}

impl Fixture {
    /// Oracle path for a profile type, if present.
    fn oracle(&self, ty: &str) -> Option<PathBuf> {
        let p = self
            .oracle_dir
            .join(format!("{}.{ty}.raw.txt", self.oracle_base));
        p.exists().then_some(p)
    }
}

fn is_v1(path: &Path) -> bool {
    let Ok(b) = std::fs::read(path) else {
        return false;
    };
    matches!(header::parse(&b), Ok(h) if h.format == Format::V1)
}

fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(repo().join("testdata")) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("go") && e.path().is_dir() {
                dirs.push(e.path());
            }
        }
    }
    if let Ok(extra) = std::env::var("GOBLOCK_V1_FIXTURE_DIRS") {
        dirs.extend(
            extra
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        );
    }
    dirs.sort();
    let external: Vec<PathBuf> = std::env::var("GOBLOCK_V1_FIXTURE_DIRS")
        .unwrap_or_default()
        .split(':')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    for dir in dirs {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut traces: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "trace"))
            .collect();
        traces.sort();
        for t in traces {
            if !is_v1(&t) {
                continue;
            }
            let base = t
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            out.push(Fixture {
                name: format!(
                    "{}/{base}",
                    dir.file_name().unwrap_or_default().to_string_lossy()
                ),
                trace: t,
                oracle_dir: dir.clone(),
                oracle_base: base,
                external: external.contains(&dir),
            });
        }
    }
    let gotree = repo().join("testdata/gotree/tracev1");
    let odir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1-oracles");
    if let Ok(rd) = std::fs::read_dir(&gotree) {
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names {
            if !odir.join(format!("{n}.sync.raw.txt")).exists() {
                continue;
            }
            out.push(Fixture {
                name: format!("gotree/{n}"),
                trace: gotree.join(&n),
                oracle_dir: odir.clone(),
                oracle_base: n,
                external: false,
            });
        }
    }
    out
}

fn read_oracle(path: &Path) -> Profile {
    let text = std::fs::read_to_string(path).expect("oracle");
    parse_raw(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn old_format_traces_match_go_tool_trace_pprof() {
    let fixtures = fixtures();
    assert!(
        !fixtures.is_empty(),
        "no old-format fixtures with oracles found (testdata/go1.19, testdata/go1.21, testdata/gotree/tracev1)"
    );
    let mut problems = Vec::new();
    let mut checked = 0;
    for fx in &fixtures {
        let bytes = std::fs::read(&fx.trace).expect("trace");
        let exact = decode(&bytes, false, fx.external);
        let with_nb = decode(&bytes, true, fx.external);
        let mut line = format!("{:<44}", fx.name);
        if let Some(p) = fx.oracle("sync") {
            let oracle = read_oracle(&p);
            let ours = profile(&exact, |e| {
                matches!(e.category, Category::Sync | Category::Gc)
            });
            let gc = profile(&exact, |e| e.category == Category::Gc);
            let (on, ons) = totals(&oracle);
            let (n, ns) = totals(&ours);
            line += &format!(
                " sync+gc {n}/{ns}ns (gc {}) vs {on}/{ons}ns;",
                totals(&gc).0
            );
            problems.extend(compare(&format!("{} sync", fx.name), &ours, &oracle));
            checked += 1;
        }
        if let Some(p) = fx.oracle("net") {
            let oracle = read_oracle(&p);
            let ours = profile(&exact, |e| e.category == Category::Net);
            let (on, ons) = totals(&oracle);
            let (n, ns) = totals(&ours);
            line += &format!(" net {n}/{ns}ns vs {on}/{ons}ns;");
            problems.extend(compare(&format!("{} net", fx.name), &ours, &oracle));
        }
        if let Some(p) = fx.oracle("syscall") {
            let oracle = read_oracle(&p);
            let blocking = profile(&exact, |e| e.category == Category::Syscall);
            let all = profile(&with_nb, |e| e.category == Category::Syscall);
            let (on, ons) = totals(&oracle);
            let (n, ns) = totals(&blocking);
            let (an, ans) = totals(&all);
            line += &format!(
                " syscall blocking {n}/{ns}ns vs {on}/{ons}ns, +non-blocking {}/{}ns",
                an - n,
                ans.saturating_sub(ns)
            );
            problems.extend(compare(&format!("{} syscall", fx.name), &blocking, &oracle));
            // Every blocking syscall is still there with non-blocking ones added.
            for (pcs, &(n, _)) in &oracle {
                let got = all.get(pcs).map_or(0, |v| v.0);
                if got < n {
                    problems.push(format!(
                        "{} syscall (with non-blocking): stack {pcs:x?} has {got} < {n}",
                        fx.name
                    ));
                }
            }
        }
        eprintln!("{line}");
    }
    assert!(checked > 0, "no sync oracle checked");
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn raw_parser_reads_pprof_raw_output() {
    let text = "PeriodType: trace count\nPeriod: 1\nSamples:\ncontentions/count delay/nanoseconds\n          5   31896464: 1 2 \n          1   4: 2 \nLocations\n     1: 0x46c744 M=1 sync.(*Cond).Wait /x/cond.go:70 s=0\n     2: 0x4d3853 M=1 main.condWait /x/main.go:317 s=0\nMappings\n1: 0x0/0x0/0x0   \n";
    let p = parse_raw(text).unwrap();
    assert_eq!(p.get(&vec![0x46c744, 0x4d3853]), Some(&(5, 31896464)));
    assert_eq!(p.get(&vec![0x4d3853]), Some(&(1, 4)));
    assert!(parse_raw("nothing").is_err());
}
