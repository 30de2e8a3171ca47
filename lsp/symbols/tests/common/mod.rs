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
    let name = name.strip_suffix(".zst").unwrap_or(&name);
    let dst = scratch().join(name);
    let src_len = std::fs::metadata(&src)
        .unwrap_or_else(|e| panic!("{}: {e}", src.display()))
        .len();
    let stamp = dst.with_extension(format!("from-{src_len}"));
    if dst.exists() && stamp.exists() {
        return dst;
    }
    let data = zstd::decode_all(std::fs::File::open(&src).expect("open zst")).expect("zstd");
    let tmp = dst.with_extension(format!("tmp{}", std::process::id()));
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
