//! Bad input: a stripped binary, files that are not executables, truncated
//! copies, binaries from another build, and a brief fuzz of the
//! object/DWARF loading path. Every case must end in a clear message and,
//! through `symbolize_trace`, in the trace's own frames — never a panic.
//!
//! The fuzz runs `GOBLOCK_FUZZ_ITERS` iterations (default 100: ~20 s in a
//! debug build) with seed `GOBLOCK_FUZZ_SEED` (default fixed); run it
//! longer with `GOBLOCK_FUZZ_ITERS=20000 cargo test --release -p
//! goblock-symbols --test bad_input fuzz -- --nocapture`.

mod common;

use std::path::{Path, PathBuf};

use common::{decode, scratch, testdata, unzstd};
use goblock_symbols::{
    Binary, MatchOptions, Mismatch, Request, Source, Symbolizer, SymbolsError, match_trace,
    symbolize_trace,
};
use goblock_trace::Tables;

fn write_scratch(name: &str, data: &[u8]) -> PathBuf {
    let p = scratch().join(name);
    std::fs::write(&p, data).expect("write");
    p
}

/// `symbolize_trace` with `--binary` must fall back to the trace's frames
/// and say why; returns the notes.
fn falls_back(tables: &mut Tables, binary: &Path) -> String {
    let before: Vec<_> = tables.frames().map(|(_, f)| *f).collect();
    let req = Request {
        binaries: vec![binary.to_owned()],
        ..Default::default()
    };
    let s = symbolize_trace(&Symbolizer::new(2), tables, &req);
    assert_eq!(s.source, Source::Trace, "{}", binary.display());
    for (id, _) in tables.frames() {
        assert_eq!(s.frame(id), id);
    }
    let after: Vec<_> = tables.frames().map(|(_, f)| *f).collect();
    assert_eq!(before, after, "trace mode must not touch the frames");
    let notes = s.notes.join("\n");
    assert!(notes.contains("using the trace's own frames"), "{notes}");
    notes
}

#[test]
fn stripped_binary_is_refused_with_a_reason() {
    for v in ["1.23", "1.26"] {
        let bin = unzstd(&format!("go{v}/blocking-stripped.bin.zst"));
        let err = Binary::open_uncached(&bin).expect_err("stripped");
        assert!(matches!(err, SymbolsError::NoDwarf { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("no DWARF") && msg.contains("blocking-stripped"),
            "{msg}"
        );
        let mut tables = decode(&format!("go{v}/blocking-stripped.trace"));
        let notes = falls_back(&mut tables, &bin);
        assert!(notes.contains("no DWARF"), "{notes}");
    }
}

#[test]
fn non_executables_are_refused() {
    let mut tables = decode("go1.23/blocking.trace");
    let cases: Vec<(PathBuf, &str)> = vec![
        (testdata().join("go1.23/BUILD"), "not a Go executable"),
        (
            testdata().join("go1.23/blocking.trace"),
            "not a Go executable",
        ),
        (
            testdata().join("go1.23/blocking.bin.zst"),
            "not a Go executable",
        ),
        (write_scratch("empty.bin", b""), "not a Go executable"),
        (
            write_scratch("elf-magic.bin", b"\x7fELF\x02\x01\x01"),
            "not a Go executable",
        ),
        (testdata().join("go1.23"), "not a regular file"),
        (testdata().join("does-not-exist"), "cannot read"),
    ];
    for (path, want) in cases {
        let err = Binary::open_uncached(&path).expect_err("must fail");
        let msg = err.to_string();
        assert!(msg.contains(want), "{}: {msg}", path.display());
        assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
        let notes = falls_back(&mut tables, &path);
        assert!(notes.contains(want), "{notes}");
    }
}

#[test]
fn truncated_binaries_are_refused_with_offsets() {
    let full = std::fs::read(unzstd("go1.23/blocking.bin.zst")).expect("read");
    let mut tables = decode("go1.23/blocking.trace");
    for cut in [
        64,
        4096,
        full.len() / 10,
        full.len() / 2,
        full.len() * 9 / 10,
        full.len() - 1,
    ] {
        let path = write_scratch(&format!("truncated-{cut}.bin"), &full[..cut]);
        let err = Binary::open_uncached(&path).expect_err("truncated");
        let msg = err.to_string();
        assert!(
            matches!(err, SymbolsError::Truncated { .. }),
            "cut at {cut}: {msg}"
        );
        assert!(
            msg.contains("truncated") && msg.contains("offset 0x"),
            "{msg}"
        );
        falls_back(&mut tables, &path);
    }
    // Mach-O and PE: the data of a DWARF section is cut off.
    for rel in [
        "go1.26/blocking-darwin-arm64.bin.zst",
        "go1.26/blocking-windows-amd64.exe.zst",
    ] {
        let full = std::fs::read(unzstd(rel)).expect("read");
        let path = write_scratch("truncated-cross.bin", &full[..full.len() * 9 / 10]);
        let err = Binary::open_uncached(&path).expect_err("truncated");
        assert!(
            matches!(err, SymbolsError::Truncated { .. }),
            "{rel}: {err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("truncated") && msg.contains("offset 0x"),
            "{msg}"
        );
    }
}

#[test]
fn binary_from_another_build_is_refused() {
    // (trace, wrong binary): a PIE build of the same program, the same
    // program built by another Go version, the test binary.
    let cases = [
        ("go1.26/blocking.trace", "go1.26/blocking-pie.bin.zst"),
        ("go1.26/blocking.trace", "go1.27/blocking.bin.zst"),
        // Same code, other paths: functions agree, files do not.
        ("go1.26/blocking.trace", "go1.26/blocking-trimpath.bin.zst"),
        ("go1.23/blocking.trace", "go1.26/blocking.bin.zst"),
        ("go1.26/blocking-test.trace", "go1.26/blocking.bin.zst"),
        ("go1.26/pprof-http.trace", "go1.26/blocking.test.zst"),
        ("go1.23/blocking-pie.trace", "go1.23/blocking.bin.zst"),
    ];
    for (trace, wrong) in cases {
        let mut tables = decode(trace);
        let path = unzstd(wrong);
        let bin = Binary::open_uncached(&path).expect("open");
        let err = match_trace(&bin, &tables, &MatchOptions::default()).expect_err(wrong);
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                Mismatch::TooFewMatches { .. } | Mismatch::NoCommonFunctions { .. }
            ),
            "{trace} vs {wrong}: {msg}"
        );
        let notes = falls_back(&mut tables, &path);
        assert!(notes.contains("refused"), "{notes}");
        println!("{trace} vs {wrong}: {msg}");
    }
    // A build ID the caller expects but the binary does not have.
    let tables = decode("go1.26/blocking.trace");
    let bin = Binary::open_uncached(&unzstd("go1.26/blocking.bin.zst")).expect("open");
    let opts = MatchOptions {
        expected_build_id: Some("not/the/right/id".into()),
        ..Default::default()
    };
    let err = match_trace(&bin, &tables, &opts).expect_err("build id");
    assert!(matches!(err, Mismatch::BuildId { .. }), "{err}");
    assert!(err.to_string().contains("not/the/right/id"));
    // … and the right one is accepted.
    let opts = MatchOptions {
        expected_build_id: bin.build_id().map(str::to_owned),
        ..Default::default()
    };
    let m = match_trace(&bin, &tables, &opts).expect("right build id");
    assert!(m.build_id_checked);
}

#[test]
fn a_trace_without_frames_matches_nothing() {
    let tables = Tables::new();
    let bin = Binary::open_uncached(&unzstd("go1.26/blocking.bin.zst")).expect("open");
    let err = match_trace(&bin, &tables, &MatchOptions::default()).expect_err("no frames");
    assert!(matches!(err, Mismatch::NoFrames { .. }), "{err}");
}

// ---------------------------------------------------------------- fuzz --

/// A small xorshift generator (deterministic, no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn fuzz_object_and_dwarf_loading() {
    let iters: usize = std::env::var("GOBLOCK_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let seed: u64 = std::env::var("GOBLOCK_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let original = std::fs::read(unzstd("go1.23/blocking.bin.zst")).expect("read");
    // Uncompressed DWARF, so mutations reach gimli/addr2line instead of
    // stopping at zlib's checksum.
    let (plain, sections) = common::rewrite_elf(&original, |s| {
        s.data = common::section_bytes(s);
        s.flags &= !common::SHF_COMPRESSED;
    });
    // The rewritten file must still symbolize the trace perfectly.
    let tables = decode("go1.23/blocking.trace");
    let bin = Binary::from_bytes(Path::new("plain.bin"), &plain).expect("plain DWARF");
    let m = match_trace(&bin, &tables, &MatchOptions::default()).expect("plain match");
    assert_eq!(m.frames_matched, m.frames_checked);
    let pcs: Vec<u64> = tables
        .frames()
        .map(|(_, f)| f.pc)
        .filter(|&pc| pc != 0)
        .collect();
    let inputs = [("original", &original), ("uncompressed-dwarf", &plain)];

    let mut rng = Rng(seed | 1);
    let (mut ok, mut err) = (0, 0);
    for i in 0..iters {
        let (label, base) = inputs[i % 2];
        let mut data = base.clone();
        let kind = rng.below(4);
        match kind {
            // Header region (ELF header, program/section headers' start).
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let at = rng.below(256.min(data.len()));
                    data[at] = rng.next() as u8;
                }
            }
            // Inside one DWARF section (compressed or not).
            1 | 2 if label == "uncompressed-dwarf" => {
                let (_, off, size) = &sections[rng.below(sections.len())];
                for _ in 0..1 + rng.below(16) {
                    let at = off + rng.below(*size);
                    data[at] = match rng.below(3) {
                        0 => rng.next() as u8,
                        1 => 0xff,
                        _ => data[at] ^ (1 << rng.below(8)),
                    };
                }
            }
            // Section header table (at the end of a Go ELF, before our
            // appended sections).
            1 | 2 => {
                let start = original.len().saturating_sub(4096);
                for _ in 0..1 + rng.below(8) {
                    let at = start + rng.below(original.len() - start);
                    data[at] = rng.next() as u8;
                }
            }
            // Truncation.
            _ => {
                let cut = rng.below(data.len());
                data.truncate(cut);
            }
        }
        let name = format!("fuzz-{label}-{i}-kind{kind}");
        let result = std::panic::catch_unwind(|| {
            let Ok(b) = Binary::from_bytes(Path::new(&name), &data) else {
                return false;
            };
            let _ = b.resolve_many(&pcs);
            for &pc in pcs.iter().take(20) {
                let _ = b.resolve(pc ^ 0x40);
            }
            let _ = b.function_decls();
            let _ = match_trace(&b, &tables, &MatchOptions::default());
            true
        });
        match result {
            Ok(true) => ok += 1,
            Ok(false) => err += 1,
            Err(_) => panic!("panic on {name} (seed {seed}, iteration {i})"),
        }
    }
    println!("fuzz: {iters} inputs, {ok} loaded, {err} refused with an error");
}

/// A compressed section whose header claims an absurd size is refused
/// before anything is allocated for it.
#[test]
fn absurd_decompressed_sizes_are_refused() {
    let original = std::fs::read(unzstd("go1.23/blocking.bin.zst")).expect("read");
    for claimed in [1u64 << 40, 1 << 31, 64 << 20] {
        let (bytes, _) = common::rewrite_elf(&original, |s| {
            if s.name == ".debug_info" {
                s.data[8..16].copy_from_slice(&claimed.to_le_bytes());
            }
        });
        let err = Binary::from_bytes(Path::new("absurd.bin"), &bytes).expect_err("absurd size");
        let msg = err.to_string();
        assert!(matches!(err, SymbolsError::Decompress { .. }), "{msg}");
        assert!(
            msg.contains(".debug_info") && msg.contains("offset 0x"),
            "{msg}"
        );
    }
}
