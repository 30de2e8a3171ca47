//! Every way a Go ELF stores its DWARF resolves identically: Go's own
//! `SHF_COMPRESSED` zlib (the fixtures), no compression
//! (`-ldflags=-compressdwarf=false`, or external linking), `SHF_COMPRESSED`
//! zstd (external linking with `--compress-debug-sections=zstd`) and
//! GNU-style `.zdebug_*` sections (Go 1.11–1.18). The variants are made
//! from the Go 1.23 and 1.26 fixture binaries by rewriting their debug
//! sections; Mach-O `__zdebug_*` and PE `.zdebug_*` are covered by the
//! cross-compiled fixtures (tests/cross.rs).

mod common;

use std::path::Path;

use common::{SHF_COMPRESSED, decode, rewrite_elf, section_bytes, shf_compressed, unzstd, zlib};
use goblock_symbols::{Binary, MatchOptions, match_trace, symbolize};

#[test]
fn compression_variants_resolve_identically() {
    for v in ["1.23", "1.26"] {
        let original = std::fs::read(unzstd(&format!("go{v}/blocking.bin.zst"))).expect("read");
        let plain = |s: &mut common::ElfSection| {
            s.data = section_bytes(s);
            s.flags &= !SHF_COMPRESSED;
        };
        let variants: Vec<(&str, Vec<u8>)> = vec![
            ("original (zlib SHF_COMPRESSED)", original.clone()),
            ("uncompressed", rewrite_elf(&original, plain).0),
            (
                "zstd SHF_COMPRESSED",
                rewrite_elf(&original, |s| {
                    let raw = section_bytes(s);
                    let z = zstd::encode_all(&raw[..], 3).expect("zstd");
                    s.data = shf_compressed(2, raw.len(), &z);
                    s.flags |= SHF_COMPRESSED;
                })
                .0,
            ),
            (
                "GNU .zdebug",
                rewrite_elf(&original, |s| {
                    let raw = section_bytes(s);
                    let mut d = b"ZLIB".to_vec();
                    d.extend_from_slice(&(raw.len() as u64).to_be_bytes());
                    d.extend_from_slice(&zlib(&raw));
                    s.data = d;
                    s.flags &= !SHF_COMPRESSED;
                    s.name = s.name.replacen(".debug_", ".zdebug_", 1);
                })
                .0,
            ),
        ];
        let trace = format!("go{v}/blocking.trace");
        let reference = Binary::from_bytes(Path::new("reference"), &original).expect("open");
        let pcs: Vec<u64> = decode(&trace)
            .frames()
            .map(|(_, f)| f.pc)
            .filter(|&p| p != 0)
            .collect();
        let want = reference.resolve_many(&pcs).expect("resolve");
        for (label, bytes) in variants {
            let bin = Binary::from_bytes(Path::new(label), &bytes)
                .unwrap_or_else(|e| panic!("go{v} {label}: {e}"));
            assert_eq!(
                bin.info().dwarf_bytes,
                reference.info().dwarf_bytes,
                "go{v} {label}"
            );
            assert_eq!(
                bin.resolve_many(&pcs).expect("resolve"),
                want,
                "go{v} {label}"
            );
            let mut tables = decode(&trace);
            let m = match_trace(&bin, &tables, &MatchOptions::default()).expect("match");
            let s = symbolize(&bin, &m, &mut tables).expect("symbolize");
            assert_eq!(s.stats.identical, s.stats.frames, "go{v} {label}");
            assert_eq!(
                bin.function_decls().expect("decls").len(),
                reference.function_decls().expect("decls").len()
            );
            println!("go{v} {label}: {} frames identical", s.stats.identical);
        }
    }
}

#[test]
fn dwarf_versions() {
    for (v, want) in [
        ("1.19", 4),
        ("1.21", 4),
        ("1.22", 4),
        ("1.23", 4),
        ("1.26", 5),
        ("1.27", 5),
    ] {
        let bin = Binary::open_uncached(&unzstd(&format!("go{v}/blocking.bin.zst"))).expect("open");
        assert_eq!(bin.info().dwarf_version, want, "go{v}");
    }
}
