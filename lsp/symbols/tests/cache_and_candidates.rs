//! The process-wide cache (re-opening costs nothing, keyed by build ID,
//! shared between threads), workspace candidates, and the complete
//! `symbolize_trace` entry point choosing among them.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{decode, scratch, unzstd};
use goblock_symbols::{
    Binary, MatchOptions, Request, Source, Symbolizer, find_candidates, match_trace, symbolize,
    symbolize_trace,
};

/// A fresh directory under the scratch dir.
fn workspace(name: &str) -> PathBuf {
    let d = scratch().join(format!("ws-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

fn copy_with_mtime(from: &Path, to: &Path, age_secs: u64) {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::copy(from, to).expect("copy");
    let f = std::fs::File::options().write(true).open(to).expect("open");
    f.set_modified(SystemTime::now() - Duration::from_secs(age_secs))
        .expect("set mtime");
}

#[test]
fn reopening_returns_the_cached_binary() {
    let sym = Symbolizer::new(2);
    let path = unzstd("go1.23/blocking.bin.zst");
    let a = sym.open(&path).expect("open");
    let b = sym.open(&path).expect("reopen");
    assert!(Arc::ptr_eq(&a, &b), "same path");

    // Same bytes under another name, and after a touch: same build ID.
    let ws = workspace("cache");
    let copy = ws.join("copy.bin");
    copy_with_mtime(&path, &copy, 100);
    let c = sym.open(&copy).expect("copy");
    assert!(Arc::ptr_eq(&a, &c), "copy of the same binary");
    copy_with_mtime(&path, &copy, 5);
    let d = sym.open(&copy).expect("touched");
    assert!(Arc::ptr_eq(&a, &d), "touched copy");
    assert_eq!(sym.len(), 1);

    // Other binaries: capacity 2, least recently used goes first.
    let e = sym.open(&unzstd("go1.26/blocking.bin.zst")).expect("1.26");
    assert!(!Arc::ptr_eq(&a, &e));
    let _ = sym.open(&path).expect("touch a");
    let _f = sym.open(&unzstd("go1.27/blocking.bin.zst")).expect("1.27");
    assert_eq!(sym.len(), 2);
    let e2 = sym
        .open(&unzstd("go1.26/blocking.bin.zst"))
        .expect("1.26 again");
    assert!(!Arc::ptr_eq(&e, &e2), "1.26 was evicted and loaded again");
    // Evicted binaries stay usable by whoever holds them.
    assert!(e.resolve(0x401000).is_ok());
    sym.clear();
    assert!(sym.is_empty());
}

#[test]
fn a_rebuilt_file_is_loaded_again() {
    let sym = Symbolizer::new(4);
    let ws = workspace("rebuilt");
    let path = ws.join("app");
    copy_with_mtime(&unzstd("go1.23/blocking.bin.zst"), &path, 50);
    let a = sym.open(&path).expect("open");
    // "go build" replaces the file with another build.
    std::fs::remove_file(&path).expect("rm");
    copy_with_mtime(&unzstd("go1.26/blocking.bin.zst"), &path, 1);
    let b = sym.open(&path).expect("reopen");
    assert_ne!(a.build_id(), b.build_id());
    assert!(b.build_id().is_some());
}

#[test]
fn one_binary_shared_by_many_threads() {
    let sym = Arc::new(Symbolizer::new(4));
    let path = unzstd("go1.26/blocking.bin.zst");
    let mut tables = decode("go1.26/blocking.trace");
    // Single-threaded reference.
    let reference = Binary::open_uncached(&path).expect("open");
    let m = match_trace(&reference, &tables, &MatchOptions::default()).expect("match");
    let pcs: Vec<u64> = tables
        .frames()
        .map(|(_, f)| f.pc)
        .filter(|&p| p != 0)
        .collect();
    let want: Vec<_> = pcs
        .iter()
        .map(|&pc| reference.resolve(pc).expect("resolve"))
        .collect();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let sym = sym.clone();
            let path = path.clone();
            let pcs = pcs.clone();
            std::thread::spawn(move || {
                let bin = sym.open(&path).expect("open");
                let mut out = Vec::new();
                // Different orders per thread, single and batched lookups.
                if t % 2 == 0 {
                    for &pc in pcs.iter().rev() {
                        out.push((pc, bin.resolve(pc).expect("resolve")));
                    }
                } else {
                    let chains = bin.resolve_many(&pcs).expect("batch");
                    out.extend(pcs.iter().copied().zip(chains));
                }
                out
            })
        })
        .collect();
    for h in handles {
        let mut got = h.join().expect("thread");
        got.sort_by_key(|(pc, _)| *pc);
        for (pc, chain) in got {
            let i = pcs.iter().position(|&p| p == pc).expect("pc");
            assert_eq!(chain, want[i], "{pc:#x}");
        }
    }
    assert_eq!(sym.len(), 1);
    // And the shared binary symbolizes like the reference.
    let bin = sym.open(&path).expect("open");
    let s = symbolize(&bin, &m, &mut tables).expect("symbolize");
    assert_eq!(s.stats.identical, s.stats.frames);
}

#[test]
fn candidates_are_executables_newest_first() {
    let ws = workspace("cands");
    let bin = unzstd("go1.23/blocking.bin.zst");
    copy_with_mtime(&bin, &ws.join("old-app"), 300);
    copy_with_mtime(&bin, &ws.join("cmd/new-app"), 10);
    copy_with_mtime(
        &unzstd("go1.26/blocking.test.zst"),
        &ws.join("pkg/x.test"),
        100,
    );
    copy_with_mtime(&bin, &ws.join(".git/objects/app"), 1);
    copy_with_mtime(&bin, &ws.join("vendor/app"), 1);
    copy_with_mtime(&bin, &ws.join("node_modules/app"), 1);
    std::fs::write(ws.join("script.sh"), "#!/bin/sh\necho hi\n".repeat(500)).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(ws.join("script.sh"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        // A *.test without the exec bit still counts; an ELF without it
        // and without the name does not.
        std::fs::set_permissions(
            ws.join("pkg/x.test"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        copy_with_mtime(&bin, &ws.join("data.bin"), 1);
        std::fs::set_permissions(ws.join("data.bin"), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
    }
    let got: Vec<String> = find_candidates(std::slice::from_ref(&ws))
        .iter()
        .map(|p| p.strip_prefix(&ws).expect("prefix").display().to_string())
        .collect();
    assert_eq!(got, ["cmd/new-app", "pkg/x.test", "old-app"]);
    assert!(find_candidates(&[ws.join("does-not-exist")]).is_empty());
}

#[test]
fn symbolize_trace_picks_the_matching_binary() {
    let ws = workspace("pick");
    // Newest first: two wrong binaries, then the right one.
    copy_with_mtime(
        &unzstd("go1.27/blocking.bin.zst"),
        &ws.join("bin/blocking"),
        10,
    );
    copy_with_mtime(
        &unzstd("go1.26/blocking-trimpath.bin.zst"),
        &ws.join("trim"),
        20,
    );
    copy_with_mtime(
        &unzstd("go1.26/blocking.bin.zst"),
        &ws.join("blocking.bin"),
        30,
    );
    let sym = Symbolizer::new(4);
    let mut tables = decode("go1.26/blocking.trace");
    let req = Request {
        workspace: vec![ws.clone()],
        ..Default::default()
    };
    let s = symbolize_trace(&sym, &mut tables, &req);
    // The binary used: the notes say which; the candidates passed over
    // are apart (a report table only counts them).
    let notes = s.passed_over.join("\n");
    assert_eq!(s.source, Source::Dwarf, "{notes}");
    assert_eq!(s.binary.as_deref(), Some(ws.join("blocking.bin").as_path()));
    assert_eq!(s.stats.identical, s.stats.frames);
    assert_eq!(notes.matches("refused").count(), 2, "{notes}");
    assert_eq!(s.passed_over_count, 2, "{notes}");
    assert!(notes.contains("trimpath"), "{notes}");
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(
        s.notes[0].starts_with("symbolized with DWARF"),
        "{:?}",
        s.notes
    );
    assert!(s.build_id.is_some());

    // Only wrong binaries: the trace's own frames, and why.
    std::fs::remove_file(ws.join("blocking.bin")).expect("rm");
    let mut tables = decode("go1.26/blocking.trace");
    let s = symbolize_trace(&sym, &mut tables, &req);
    let notes = s.notes.join("\n");
    assert_eq!(s.source, Source::Trace, "{notes}");
    assert_eq!(s.source.as_str(), "trace");
    assert!(
        notes.contains("refused") && notes.contains("trace's own frames"),
        "{notes}"
    );

    // Nothing at all.
    let empty = workspace("empty");
    let s = symbolize_trace(
        &sym,
        &mut tables,
        &Request {
            workspace: vec![empty],
            ..Default::default()
        },
    );
    assert_eq!(s.source, Source::Trace);
    assert!(s.notes.join("\n").contains("no Go binary found"));
}

#[test]
fn symbolize_trace_with_an_explicit_binary() {
    let sym = Symbolizer::new(2);
    for (trace, bin) in [
        ("go1.23/blocking-pie.trace", "go1.23/blocking-pie.bin.zst"),
        ("go1.19/blocking.trace", "go1.19/blocking.bin.zst"),
    ] {
        let mut tables = decode(trace);
        let req = Request {
            binaries: vec![unzstd(bin)],
            ..Default::default()
        };
        let s = symbolize_trace(&sym, &mut tables, &req);
        assert_eq!(s.source, Source::Dwarf, "{:?}", s.notes);
        assert_eq!(s.source.as_str(), "dwarf");
        assert!((s.agreement() - 1.0).abs() < f64::EPSILON);
        assert!(s.decls().count() > 20, "{trace}: declarations");
    }
}

/// The symbol-table prefilter lets the right binary through and refuses
/// other programs and other Go versions' builds of the same program,
/// without reading DWARF.
#[test]
fn prefilter_refuses_other_programs_without_dwarf() {
    let versions = ["go1.19", "go1.21", "go1.23", "go1.26", "go1.27"];
    let bins: Vec<(&str, goblock_symbols::SymbolTable)> = versions
        .iter()
        .map(|v| {
            let p = unzstd(&format!("{v}/blocking.bin.zst"));
            (*v, Binary::read_symbols(&p).expect("symbols"))
        })
        .collect();
    let shopd = Binary::read_symbols(&common::unzstd_file(
        &common::testdata().join("linetruth/go1.26/shopd.bin.zst"),
        "linetruth-go1.26-shopd",
    ))
    .expect("shopd symbols");
    for v in versions {
        let tables = decode(&format!("{v}/blocking.trace"));
        for (bv, syms) in &bins {
            let r = goblock_symbols::matching::prefilter(
                Path::new(bv),
                syms,
                &tables,
                goblock_symbols::FrameOrigin::Trace,
            );
            assert_eq!(r.is_ok(), v == *bv, "{v} trace, {bv} binary: {r:?}");
        }
        let r = goblock_symbols::matching::prefilter(
            Path::new("shopd"),
            &shopd,
            &tables,
            goblock_symbols::FrameOrigin::Trace,
        );
        assert!(r.is_err(), "{v} trace, shopd binary");
        // The refusal names the frames by what recorded them.
        let why = r.unwrap_err().to_string();
        assert!(why.contains(" trace"), "{why}");
        let profile = goblock_symbols::matching::prefilter(
            Path::new("shopd"),
            &shopd,
            &tables,
            goblock_symbols::FrameOrigin::Profile,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(profile, why.replace(" trace", " profile"), "{v}");
        assert!(!profile.contains("trace"), "{profile}");
    }
}

/// The build ID read from a file's first pages is the one the full parse
/// finds, for every container Go writes.
#[test]
fn probe_reads_the_build_id_from_the_first_pages() {
    let sym = Symbolizer::new(1);
    for rel in [
        "go1.19/blocking.bin.zst",
        "go1.26/blocking.bin.zst",
        "go1.26/blocking-pie.bin.zst",
        "go1.26/blocking.test.zst",
        "go1.26/blocking-darwin-arm64.bin.zst",
        "go1.26/blocking-darwin-amd64.bin.zst",
        "go1.26/blocking-windows-amd64.exe.zst",
    ] {
        let path = unzstd(rel);
        let full = Binary::open_uncached(&path).expect("open");
        let probe = sym.probe(&path).expect("probe");
        assert!(probe.go_build_id.is_some(), "{rel}");
        assert_eq!(probe.go_build_id.as_deref(), full.build_id(), "{rel}");
        let first = goblock_symbols::buildid::read_go_build_id(&path).expect("read");
        if !rel.contains("darwin") {
            assert_eq!(
                first.as_deref(),
                full.build_id(),
                "{rel}: not in the first pages"
            );
        }
    }
    // Not Go: no build ID.
    assert_eq!(
        sym.probe(&common::testdata().join("go1.26/BUILD"))
            .expect("probe")
            .go_build_id,
        None
    );
}

/// Discovery in a directory of other programs' binaries: each is refused
/// from its first pages or its symbol table — none is opened (the cache
/// holds only the binary used) — a copy of a build is tried once, and
/// executables without a Go build ID are skipped.
#[test]
fn discovery_opens_only_the_binary_it_uses() {
    let ws = workspace("discover");
    // Newest first: the wrong ones are tried before the right one.
    copy_with_mtime(&unzstd("go1.27/blocking.bin.zst"), &ws.join("a.test"), 10);
    copy_with_mtime(&unzstd("go1.23/blocking.bin.zst"), &ws.join("b.test"), 20);
    copy_with_mtime(
        &unzstd("go1.23/blocking.bin.zst"),
        &ws.join("b-copy.test"),
        25,
    );
    copy_with_mtime(
        &common::unzstd_file(
            &common::testdata().join("linetruth/go1.26/shopd.bin.zst"),
            "linetruth-go1.26-shopd",
        ),
        &ws.join("cmd/shopd"),
        30,
    );
    let not_go = ws.join("tool.test");
    let mut elf = std::fs::read(unzstd("go1.26/blocking.bin.zst")).expect("read");
    // An ELF whose Go note and raw marker are gone: not a Go binary.
    for w in 0..elf.len() {
        if elf[w..].starts_with(b"Go build ID") || elf[w..].starts_with(b"Go\0\0") {
            elf[w] = b'X';
        }
    }
    let not_go_src = ws.join("tool.src");
    std::fs::write(&not_go_src, &elf[..8192]).expect("write");
    copy_with_mtime(&not_go_src, &not_go, 35);
    copy_with_mtime(
        &unzstd("go1.26/blocking.bin.zst"),
        &ws.join("right.bin"),
        40,
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(ws.join("right.bin"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    let sym = Symbolizer::new(8);
    let mut tables = decode("go1.26/blocking.trace");
    let req = Request {
        workspace: vec![ws.clone()],
        ..Default::default()
    };
    let s = symbolize_trace(&sym, &mut tables, &req);
    let notes = s.passed_over.join("\n");
    assert_eq!(
        s.binary.as_deref(),
        Some(ws.join("right.bin").as_path()),
        "{notes}"
    );
    // 3 refused, a copy of a build tried, an executable that is not Go.
    assert_eq!(s.passed_over_count, 5, "{notes}");
    assert_eq!(sym.len(), 1, "a refused binary was opened: {notes}");
    assert_eq!(notes.matches("refused: ").count(), 3, "{notes}");
    assert!(notes.contains("b-copy.test: the same build as"), "{notes}");
    assert!(
        notes.contains("1 executable(s) without a Go build ID skipped"),
        "{notes}"
    );
}
