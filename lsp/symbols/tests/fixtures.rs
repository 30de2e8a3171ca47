//! The gate on the committed fixtures: for every trace (every Go version,
//! the test binary, the net/http/pprof trace, `-trimpath` and
//! `-buildmode=pie` builds) the DWARF frames equal the trace's own frames —
//! function, file and line — for 100 % of the distinct stack frames, and
//! DWARF's inline chains agree with the trace's expanded inline frames.
//!
//! Exceptions: none were found. If one appears, add it to [`EXCEPTIONS`]
//! with the reason, rather than loosening the comparison.
//!
//! Run with `--nocapture` to see the per-fixture table.

mod common;

use std::collections::{BTreeMap, HashSet};

use common::{
    VERSIONS, decode, decode_file, own_testdata, pprof_locations, testdata, unzstd, unzstd_file,
};
use goblock_symbols::{Binary, MatchOptions, Source, func_key, match_trace, symbolize};
use goblock_trace::Tables;

/// A trace and the binary that wrote it.
struct Fixture {
    version: &'static str,
    /// Base name of the trace and its oracles (`blocking`, `blocking-pie`…).
    base: &'static str,
    /// The binary, relative to the version directory.
    binary: &'static str,
}

/// (version, trace base, function, reason): frames allowed to differ.
const EXCEPTIONS: &[(&str, &str, &str, &str)] = &[];

fn fixtures() -> Vec<Fixture> {
    let mut v: Vec<Fixture> = VERSIONS
        .iter()
        .map(|&version| Fixture {
            version,
            base: "blocking",
            binary: "blocking.bin.zst",
        })
        .collect();
    v.push(Fixture {
        version: "1.26",
        base: "blocking-test",
        binary: "blocking.test.zst",
    });
    v.push(Fixture {
        version: "1.26",
        base: "pprof-http",
        binary: "httppprof.bin.zst",
    });
    for version in ["1.23", "1.26"] {
        v.push(Fixture {
            version,
            base: "blocking-trimpath",
            binary: "blocking-trimpath.bin.zst",
        });
        v.push(Fixture {
            version,
            base: "blocking-pie",
            binary: "blocking-pie.bin.zst",
        });
    }
    v
}

fn open(f: &Fixture) -> Binary {
    let path = unzstd(&format!("go{}/{}", f.version, f.binary));
    Binary::open_uncached(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn trace(f: &Fixture) -> Tables {
    decode(&format!("go{}/{}.trace", f.version, f.base))
}

fn is_exception(f: &Fixture, func: &str) -> bool {
    EXCEPTIONS
        .iter()
        .any(|&(v, b, fu, _)| v == f.version && b == f.base && fu == func)
}

#[test]
fn dwarf_frames_equal_trace_frames() {
    let mut failures = Vec::new();
    println!(
        "{:<6} {:<18} {:>6} {:>9} {:>7} {:>11} {:>10}",
        "go", "trace", "frames", "identical", "%", "chain links", "bias"
    );
    for f in fixtures() {
        let bin = open(&f);
        let mut tables = trace(&f);
        let m = match_trace(&bin, &tables, &MatchOptions::default())
            .unwrap_or_else(|e| panic!("go{} {}: {e}", f.version, f.base));
        assert_eq!(
            m.frames_matched, m.frames_checked,
            "go{} {}",
            f.version, f.base
        );
        let s = symbolize(&bin, &m, &mut tables).expect("symbolize");
        assert_eq!(s.source, Source::Dwarf);
        let pct = 100.0 * s.agreement();
        println!(
            "{:<6} {:<18} {:>6} {:>9} {:>6.2}% {:>5}/{:<5} {:#x}",
            f.version,
            f.base,
            s.stats.frames,
            s.stats.identical,
            pct,
            s.stats.chain_agree,
            s.stats.chain_links,
            s.bias
        );
        assert!(
            s.stats.frames > 100,
            "go{} {}: too few frames",
            f.version,
            f.base
        );
        assert_eq!(s.stats.resolved, s.stats.frames);
        for d in &s.disagreements {
            let t = *tables.frame(d.trace);
            let func = tables.str(t.func);
            if is_exception(&f, func) {
                continue;
            }
            let dwarf = d.dwarf.map(|id| {
                let g = tables.frame(id);
                format!("{} {}:{}", tables.str(g.func), tables.str(g.file), g.line)
            });
            failures.push(format!(
                "go{} {}: {:#x} trace {} {}:{} vs dwarf {}",
                f.version,
                f.base,
                t.pc,
                func,
                tables.str(t.file),
                t.line,
                dwarf.as_deref().unwrap_or("(none)")
            ));
        }
        for &(sid, i, j) in &s.chain_disagreements {
            let st = tables.stack(sid);
            failures.push(format!(
                "go{} {}: inline chain of frame {i} ({}) disagrees with trace frame {j} ({})",
                f.version,
                f.base,
                tables.str(tables.frame(st[i]).func),
                tables.str(tables.frame(st[j]).func)
            ));
        }
        assert!(
            s.stats.chain_links > 0,
            "go{} {}: no inline chains seen",
            f.version,
            f.base
        );
        // Every trace frame maps to a frame of the same tables with the same PC.
        for (id, fr) in tables.frames().filter(|(_, fr)| fr.pc != 0) {
            assert_eq!(tables.frame(s.frame(id)).pc, fr.pc);
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Go's own reading of the same traces (`go tool trace -pprof` locations,
/// one per distinct frame PC), independent of our decoder.
#[test]
fn pprof_oracle_locations_resolve_to_the_same_frames() {
    let mut failures = Vec::new();
    for f in fixtures() {
        let bin = open(&f);
        let tables = trace(&f);
        let m = match_trace(&bin, &tables, &MatchOptions::default()).expect("match");
        let mut seen = HashSet::new();
        let mut n = 0;
        for kind in ["sync", "net", "syscall", "sched"] {
            let rel = format!("go{}/{}.{kind}.raw.txt", f.version, f.base);
            if !testdata().join(&rel).exists() {
                continue;
            }
            for loc in pprof_locations(&rel) {
                if !seen.insert(loc.pc) {
                    continue;
                }
                n += 1;
                let chain = bin.resolve(loc.pc.wrapping_sub(m.bias)).expect("resolve");
                let got = chain.first();
                let ok = got.is_some_and(|g| {
                    func_key(&g.function) == func_key(&loc.func)
                        && *g.file == *loc.file
                        && g.line == loc.line
                });
                if !ok && !is_exception(&f, &loc.func) {
                    failures.push(format!(
                        "go{} {}: {:#x} pprof {} {}:{} vs dwarf {:?}",
                        f.version, f.base, loc.pc, loc.func, loc.file, loc.line, got
                    ));
                }
            }
        }
        assert!(
            n > 30,
            "go{} {}: only {n} oracle locations",
            f.version,
            f.base
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Do recorded PCs need the return-address adjustment (pc − 1)? No: every
/// recorded PC resolves to its recorded line as is (physical frames are
/// already return address − 1, inlined callers carry the inline mark's PC).
/// Subtracting one more breaks frames whose PC is the first byte of a line
/// (inline marks, function entries of goroutine start frames).
#[test]
fn recorded_pcs_need_no_adjustment() {
    let mut total = 0;
    let mut as_is = 0;
    let mut minus_one = 0;
    for f in fixtures() {
        let bin = open(&f);
        let tables = trace(&f);
        let m = match_trace(&bin, &tables, &MatchOptions::default()).expect("match");
        for (_, fr) in tables.frames().filter(|(_, fr)| fr.pc != 0) {
            total += 1;
            let line_at = |pc: u64| {
                bin.resolve(pc.wrapping_sub(m.bias)).ok().and_then(|c| {
                    c.first()
                        .map(|x| (func_key(&x.function).into_owned(), x.line))
                })
            };
            let want = Some((func_key(tables.str(fr.func)).into_owned(), fr.line));
            as_is += usize::from(line_at(fr.pc) == want);
            minus_one += usize::from(line_at(fr.pc - 1) == want);
        }
    }
    println!("frames {total}: as recorded {as_is} agree, pc-1 {minus_one} agree");
    assert_eq!(as_is, total);
    assert!(minus_one < total, "pc-1 would have been as good");
}

#[test]
fn pie_bias_is_recovered_and_page_aligned() {
    for f in fixtures() {
        let bin = open(&f);
        let tables = trace(&f);
        let m = match_trace(&bin, &tables, &MatchOptions::default()).expect("match");
        if f.base.ends_with("-pie") {
            assert!(bin.info().pie);
            assert_ne!(m.bias, 0, "go{} {}", f.version, f.base);
            assert_eq!(m.bias % 0x1000, 0);
        } else {
            assert!(!bin.info().pie);
            assert_eq!(m.bias, 0, "go{} {}", f.version, f.base);
        }
    }
}

#[test]
fn trimpath_files_are_module_relative() {
    for version in ["1.23", "1.26"] {
        let f = Fixture {
            version,
            base: "blocking-trimpath",
            binary: "blocking-trimpath.bin.zst",
        };
        let bin = open(&f);
        let mut tables = trace(&f);
        let m = match_trace(&bin, &tables, &MatchOptions::default()).expect("match");
        let s = symbolize(&bin, &m, &mut tables).expect("symbolize");
        let mut files = HashSet::new();
        for (id, _) in tables.frames().filter(|(_, fr)| fr.pc != 0) {
            let fr = *tables.frame(s.frame(id));
            files.insert(tables.str(fr.file).to_owned());
        }
        for file in &files {
            assert!(!file.starts_with('/') && !file.starts_with("./"), "{file}");
        }
        assert!(files.contains("goblock.test/blocking/main.go"), "{files:?}");
        assert!(files.contains("runtime/chan.go"), "{files:?}");
    }
}

/// `func` lines of the fixture program's sources, by Go function name.
fn source_decls() -> BTreeMap<String, (String, u32)> {
    let dir = testdata().join("programs/blocking");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("programs/blocking") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        if !name.ends_with(".go") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for (i, line) in text.lines().enumerate() {
            let Some(rest) = line.strip_prefix("func ") else {
                continue;
            };
            // func name(…  or  func (r *T) name(…
            let func = if let Some(r) = rest.strip_prefix('(') {
                let Some((recv, tail)) = r.split_once(") ") else {
                    continue;
                };
                let ty = recv.split_whitespace().last().unwrap_or("");
                let m = tail.split('(').next().unwrap_or("");
                if ty.starts_with('*') {
                    format!("({ty}).{m}")
                } else {
                    format!("{ty}.{m}")
                }
            } else {
                rest.split(['(', '[']).next().unwrap_or("").to_owned()
            };
            out.insert(func, (name.clone(), i as u32 + 1));
        }
    }
    out
}

#[test]
fn declaration_lines_match_the_source() {
    let src = source_decls();
    assert!(src.len() > 40);
    for (version, base, binary, pkg) in [
        ("1.23", "blocking", "blocking.bin.zst", "main."),
        ("1.26", "blocking", "blocking.bin.zst", "main."),
        ("1.19", "blocking", "blocking.bin.zst", "main."),
        (
            "1.26",
            "blocking-test",
            "blocking.test.zst",
            "goblock.test/blocking.",
        ),
    ] {
        let f = Fixture {
            version,
            base,
            binary,
        };
        let bin = open(&f);
        // Every non-closure function of the program, from DWARF.
        let decls = bin.function_decls().expect("decls");
        let mut checked = 0;
        for (name, (file, line)) in &src {
            let full = format!("{pkg}{name}");
            let Some(d) = decls.get(full.as_str()) else {
                // Fully inlined or dead-code eliminated (e.g. TestMain helpers).
                continue;
            };
            assert_eq!(d.line, *line, "go{version} {full}");
            if let Some(df) = &d.file {
                assert!(
                    df.ends_with(&format!("/{file}")),
                    "go{version} {full}: {df}"
                );
            }
            checked += 1;
        }
        assert!(
            checked > 30,
            "go{version}: only {checked} functions checked"
        );
        // Through symbolize: declarations for the trace's functions.
        let mut tables = trace(&f);
        let m = match_trace(&bin, &tables, &MatchOptions::default()).expect("match");
        let s = symbolize(&bin, &m, &mut tables).expect("symbolize");
        let mut seen = 0;
        for (func, d) in s.decls() {
            let name = tables.str(func);
            let Some(short) = name.strip_prefix(pkg) else {
                continue;
            };
            if let Some((file, line)) = src.get(short) {
                assert_eq!(d.line, *line, "{name}");
                assert!(tables.str(d.file).ends_with(&format!("/{file}")));
                seen += 1;
            }
        }
        assert!(
            seen > 15,
            "go{version}: {seen} trace functions with declarations"
        );
    }
}

/// `-trimpath` with a dependency: paths `example.com/dep@v1.2.3/sub/sub.go`
/// (lsp/symbols/testdata/trimpath-deps, see its gen.sh).
#[test]
fn trimpath_module_at_version_paths() {
    let dir = own_testdata().join("trimpath-deps");
    let bin = Binary::open_uncached(&unzstd_file(
        &dir.join("app.bin.zst"),
        "trimpath-deps-app.bin",
    ))
    .expect("open");
    let mut tables = decode_file(&dir.join("app.trace"));
    let m = match_trace(&bin, &tables, &MatchOptions::default()).expect("match");
    let s = symbolize(&bin, &m, &mut tables).expect("symbolize");
    assert_eq!(s.stats.identical, s.stats.frames);
    assert_eq!(s.stats.chain_agree, s.stats.chain_links);
    let files: HashSet<String> = tables
        .frames()
        .filter(|(_, f)| f.pc != 0)
        .map(|(id, _)| tables.str(tables.frame(s.frame(id)).file).to_owned())
        .collect();
    for want in [
        "example.com/dep@v1.2.3/sub/sub.go",
        "example.com/app/main.go",
        "runtime/chan.go",
    ] {
        assert!(files.contains(want), "{want} not in {files:?}");
    }
    let recv = tables
        .find_str("example.com/dep/sub.Recv")
        .expect("dep function in the trace");
    let d = s.decl(recv).expect("decl");
    assert_eq!(tables.str(d.file), "example.com/dep@v1.2.3/sub/sub.go");
    assert_eq!(d.line, 16);
}
