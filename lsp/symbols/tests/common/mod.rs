//! Shared helpers of the integration tests: fixture paths, zstd
//! decompression into the target's temp dir, trace decoding.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use goblock_trace::{Episode, Tables};

/// `testdata/` at the workspace root.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Every Go version with fixtures.
pub const VERSIONS: [&str; 6] = ["1.19", "1.21", "1.22", "1.23", "1.26", "1.27"];

/// A scratch directory for this test binary.
pub fn scratch() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("goblock-symbols");
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// Decompresses `testdata/<rel>` (a `.zst`) into the scratch dir once and
/// returns the path (written atomically, so parallel tests can share it).
pub fn unzstd(rel: &str) -> PathBuf {
    unzstd_file(&testdata().join(rel), &rel.replace('/', "_"))
}

/// This crate's own fixtures (`lsp/symbols/testdata`).
pub fn own_testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Decompresses `src` into the scratch dir as `name` (minus `.zst`).
pub fn unzstd_file(src: &Path, name: &str) -> PathBuf {
    let src = src.to_owned();
    let name = name.strip_suffix(".zst").unwrap_or(name);
    let dst = scratch().join(name);
    let src_len = std::fs::metadata(&src)
        .unwrap_or_else(|e| panic!("{}: {e}", src.display()))
        .len();
    let stamp = dst.with_extension(format!("from-{src_len}"));
    if dst.exists() && stamp.exists() {
        return dst;
    }
    let data = zstd::decode_all(std::fs::File::open(&src).expect("open zst")).expect("zstd");
    // Tests of one binary run as threads of one process: the temporary name must be unique
    // per call, not per process, or one thread renames away the file another is writing.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dst.with_extension(format!("tmp{}-{call}", std::process::id()));
    std::fs::write(&tmp, data).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::rename(&tmp, &dst).expect("rename");
    std::fs::write(&stamp, b"").expect("stamp");
    dst
}

/// Decodes `testdata/<rel>` into fresh tables.
pub fn decode(rel: &str) -> Tables {
    decode_file(&testdata().join(rel))
}

/// Decodes a trace file into fresh tables.
pub fn decode_file(path: &Path) -> Tables {
    let rel = path.display();
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut tables = Tables::new();
    goblock_trace::decode(&bytes, &mut tables, &mut |_: &Episode, _: &Tables| {})
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    tables
}

/// One `Locations` line of a `go tool pprof -raw` dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub pc: u64,
    pub func: String,
    pub file: String,
    pub line: u32,
}

/// The `Locations` of a pprof raw dump (`testdata/<rel>`).
pub fn pprof_locations(rel: &str) -> Vec<Location> {
    let text =
        std::fs::read_to_string(testdata().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut out = Vec::new();
    let mut in_locs = false;
    for l in text.lines() {
        if l.starts_with("Locations") {
            in_locs = true;
            continue;
        }
        if !in_locs || !l.contains(" M=") {
            continue;
        }
        // "   1: 0x407cd1 M=1 runtime.chanrecv1 /usr/lib/go-1.23/src/runtime/chan.go:489:0 s=0"
        let mut it = l.split_whitespace();
        let _id = it.next();
        let pc = it
            .next()
            .and_then(|p| u64::from_str_radix(p.trim_start_matches("0x"), 16).ok());
        let _m = it.next();
        let func = it.next();
        let pos = it.next();
        let (Some(pc), Some(func), Some(pos)) = (pc, func, pos) else {
            continue;
        };
        // file:line or file:line:col
        let mut parts: Vec<&str> = pos.rsplitn(3, ':').collect();
        parts.reverse();
        let (file, line) = match parts.as_slice() {
            [f, l, c]
                if c.chars().all(|c| c.is_ascii_digit())
                    && l.chars().all(|c| c.is_ascii_digit()) =>
            {
                (f.to_string(), l.parse().unwrap_or(0))
            }
            [f, l] => (f.to_string(), l.parse().unwrap_or(0)),
            [a, b, c] => (format!("{a}:{b}"), c.parse().unwrap_or(0)),
            _ => continue,
        };
        out.push(Location {
            pc,
            func: func.to_owned(),
            file,
            line,
        });
    }
    out
}

/// A section of an ELF64 little-endian file, as [`rewrite_elf`] sees it.
pub struct ElfSection {
    pub name: String,
    pub flags: u64,
    pub data: Vec<u8>,
}

/// Rewrites the `.debug_*`/`.zdebug_*` sections of an ELF64 LE file:
/// `edit` gets each one (flags, name and stored bytes) and may change all
/// three. New contents and a new section-name table are appended at the
/// end of the file and the headers patched to point at them; everything
/// else stays where it was. Returns the new file and, per edited section,
/// (name, file offset, size) of its new data.
pub fn rewrite_elf(
    data: &[u8],
    mut edit: impl FnMut(&mut ElfSection),
) -> (Vec<u8>, Vec<(String, usize, usize)>) {
    let u16at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let u32at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().expect("4")) as usize;
    let u64at = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().expect("8")) as usize;
    assert_eq!(&data[..6], b"\x7fELF\x02\x01", "ELF64 LE");
    let (shoff, shent, shnum, shstrndx) = (u64at(40), u16at(58), u16at(60), u16at(62));
    let strtab = u64at(shoff + shstrndx * shent + 24);
    let mut out = data.to_vec();
    let mut names: Vec<u8> = vec![0];
    let mut placed = Vec::new();
    for i in 0..shnum {
        let h = shoff + i * shent;
        let name_off = strtab + u32at(h);
        let name_end = data[name_off..].iter().position(|&b| b == 0).expect("nul") + name_off;
        let mut name = String::from_utf8_lossy(&data[name_off..name_end]).into_owned();
        if name.starts_with(".debug_") || name.starts_with(".zdebug_") {
            let (off, size) = (u64at(h + 24), u64at(h + 32));
            let mut s = ElfSection {
                name: name.clone(),
                flags: u64at(h + 8) as u64,
                data: data[off..off + size].to_vec(),
            };
            edit(&mut s);
            let new_off = out.len();
            out.extend_from_slice(&s.data);
            out[h + 8..h + 16].copy_from_slice(&s.flags.to_le_bytes());
            out[h + 24..h + 32].copy_from_slice(&(new_off as u64).to_le_bytes());
            out[h + 32..h + 40].copy_from_slice(&(s.data.len() as u64).to_le_bytes());
            placed.push((s.name.clone(), new_off, s.data.len()));
            name = s.name;
        }
        let idx = names.len() as u32;
        names.extend_from_slice(name.as_bytes());
        names.push(0);
        out[h..h + 4].copy_from_slice(&idx.to_le_bytes());
    }
    // The new section-name table.
    let new_strtab = out.len();
    out.extend_from_slice(&names);
    let h = shoff + shstrndx * shent;
    out[h + 24..h + 32].copy_from_slice(&(new_strtab as u64).to_le_bytes());
    out[h + 32..h + 40].copy_from_slice(&(names.len() as u64).to_le_bytes());
    (out, placed)
}

/// `SHF_COMPRESSED`.
pub const SHF_COMPRESSED: u64 = 0x800;

/// The uncompressed bytes of a section (`SHF_COMPRESSED` zlib/zstd, GNU
/// `ZLIB` or plain).
pub fn section_bytes(s: &ElfSection) -> Vec<u8> {
    use std::io::Read;
    if s.flags & SHF_COMPRESSED != 0 {
        let ty = u32::from_le_bytes(s.data[..4].try_into().expect("chdr"));
        let body = &s.data[24..];
        return match ty {
            1 => {
                let mut out = Vec::new();
                flate2::read::ZlibDecoder::new(body)
                    .read_to_end(&mut out)
                    .expect("inflate");
                out
            }
            2 => zstd::decode_all(body).expect("zstd"),
            t => panic!("ch_type {t}"),
        };
    }
    if s.data.starts_with(b"ZLIB") {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&s.data[12..])
            .read_to_end(&mut out)
            .expect("inflate");
        return out;
    }
    s.data.clone()
}

/// An `Elf64_Chdr` + body.
pub fn shf_compressed(ch_type: u32, size: usize, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(24 + body.len());
    v.extend_from_slice(&ch_type.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&(size as u64).to_le_bytes());
    v.extend_from_slice(&1u64.to_le_bytes());
    v.extend_from_slice(body);
    v
}

/// zlib-compresses `data`.
pub fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("deflate");
    e.finish().expect("deflate")
}
