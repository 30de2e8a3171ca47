//! The line-truth corpus (`testdata/linetruth`, see its README) as the
//! line-truth tests read it: the programs and their workspaces, the marker
//! comments (`markers.tsv`), the per-version traces, binaries and Go's own
//! per-stack figures (`go tool pprof -raw` of `go tool trace -pprof=TYPE`),
//! and the extents of Go functions in the sources.
//!
//! Included by `tests/linetruth*.rs` with `#[path]`. It reads files only; it
//! runs nothing and computes no figure from a trace.
#![allow(dead_code)] // each test uses a part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `testdata/linetruth`.
pub fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/linetruth")
}

/// Where `testdata/linetruth/gen.sh` builds the programs, and so the
/// directory recorded in the traces and the binaries' DWARF (shopd, webd;
/// limiter is built with `-trimpath`).
pub const BUILD_DIR: &str = "/tmp/goblock-linetruth/src";

/// Panics, naming the cause, when [`BUILD_DIR`] exists: the recorded paths
/// then exist on this machine and are used as recorded (issue 13 §1), so
/// nothing is mapped onto the workspace and every shopd/webd group reports
/// no workspace line. It exists while `gen.sh` runs (or after an
/// interrupted run); checked before and after each goblock run, since the
/// directory may appear in between (the go1.27 shopd flake of 01:40 on
/// 2026-12-02: it appeared between two reports).
pub fn assert_no_build_dir(what: &str) {
    assert!(
        !Path::new(BUILD_DIR).exists(),
        "{what}: {BUILD_DIR} exists (testdata/linetruth/gen.sh is running, or an interrupted \
         run left it): the traces' recorded paths exist on this machine and are used as \
         recorded, so nothing maps onto the workspace. Wait for gen.sh, or remove the \
         directory, and run again."
    );
}

/// One program of the corpus: a workspace (what a user opens) with one
/// traced binary.
pub struct Program {
    /// The workspace directory, relative to the corpus.
    pub workspace: &'static str,
    /// Base name of the trace, binary and oracles in each version directory.
    pub base: &'static str,
    /// The binary that wrote the trace (zstd), in each version directory
    /// (some versions only, for webd: see `Version::binaries`).
    pub binary: &'static str,
}

/// Every program of the corpus.
pub const PROGRAMS: &[Program] = &[
    Program {
        workspace: "shop",
        base: "shopd",
        binary: "shopd.bin.zst",
    },
    Program {
        workspace: "limiter",
        base: "limiter",
        binary: "limiter.test.zst",
    },
    Program {
        workspace: "web",
        base: "webd",
        binary: "webd.bin.zst",
    },
];

impl Program {
    /// The workspace directory.
    pub fn dir(&self) -> PathBuf {
        corpus().join(self.workspace)
    }
}

/// One Go version's outputs: `testdata/linetruth/go1.XX`.
pub struct Version {
    /// `1.19`, `1.26`, …
    pub name: String,
    pub dir: PathBuf,
    /// Where the sources were built (`src:` of `BUILD`), with a final `/`.
    pub src: String,
}

impl Version {
    pub fn trace(&self, p: &Program) -> PathBuf {
        self.dir.join(format!("{}.trace", p.base))
    }

    /// The oracle of `kind` (sync, net, syscall) printed by this version's
    /// tool (`go126 = false`) or by Go 1.26's tool.
    pub fn oracle(&self, p: &Program, kind: &str, go126: bool) -> PathBuf {
        let suffix = if go126 && self.name != "1.26" {
            ".go126"
        } else {
            ""
        };
        self.dir.join(format!("{}.{kind}{suffix}.raw.txt", p.base))
    }

    /// The ways to symbolize a program's trace of this version: through its
    /// frames (`false`) and, where the binary is kept, through the binary
    /// (`true`).
    pub fn binaries(&self, p: &Program) -> Vec<bool> {
        if self.dir.join(p.binary).is_file() {
            vec![false, true]
        } else {
            vec![false]
        }
    }

    /// Major.minor as a number (1.19 → 119) for comparisons.
    pub fn minor(&self) -> u32 {
        self.name
            .split('.')
            .nth(1)
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

/// Every version directory, oldest first.
pub fn versions() -> Vec<Version> {
    let mut v: Vec<Version> = std::fs::read_dir(corpus())
        .expect("testdata/linetruth")
        .flatten()
        .filter_map(|e| {
            let name = e
                .file_name()
                .to_string_lossy()
                .strip_prefix("go")?
                .to_owned();
            let build = std::fs::read_to_string(e.path().join("BUILD")).ok()?;
            let src = build
                .lines()
                .find_map(|l| l.strip_prefix("src: "))?
                .trim()
                .trim_end_matches('/')
                .to_owned()
                + "/";
            Some(Version {
                name,
                dir: e.path(),
                src,
            })
        })
        .collect();
    v.sort_by_key(Version::minor);
    assert!(
        v.len() >= 6,
        "expected six version directories in {}",
        corpus().display()
    );
    v
}

/// What the marker comments of one source line say.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    /// Reasons this line must be reported with (`BLOCK[…]`).
    pub required: Vec<String>,
    /// Reasons it may also be reported with (`MAY[…]`).
    pub optional: Vec<String>,
    /// `WOKEN[…]`: how its waits end when not by a goroutine (`timer`).
    pub woken: Vec<String>,
    /// `WAKE[…]`: what this line does that wakes blocked goroutines.
    pub wakes: Vec<String>,
    pub description: String,
}

impl Marks {
    /// Whether `reason` (a report's reason string) may be charged here.
    pub fn allows(&self, reason: &str) -> bool {
        self.required
            .iter()
            .chain(&self.optional)
            .any(|r| r == reason)
    }
}

/// Marker comments by (file relative to the corpus, 1-based line).
pub fn marks() -> BTreeMap<(String, u32), Marks> {
    let text = std::fs::read_to_string(corpus().join("markers.tsv")).expect("markers.tsv");
    let mut out: BTreeMap<(String, u32), Marks> = BTreeMap::new();
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = l.split('\t').collect();
        let [file, line, kind, reasons, description] = f[..] else {
            panic!("markers.tsv: bad row {l:?}");
        };
        let m = out
            .entry((file.to_owned(), line.parse().expect("line")))
            .or_default();
        let reasons = reasons.split(',').map(|r| r.trim().to_owned());
        match kind {
            "BLOCK" => m.required.extend(reasons),
            "MAY" => m.optional.extend(reasons),
            "WOKEN" => m.woken.extend(reasons),
            "WAKE" => m.wakes.extend(reasons),
            _ => panic!("markers.tsv: unknown marker {kind:?}"),
        }
        m.description = description.to_owned();
    }
    assert!(out.len() > 40, "too few markers in markers.tsv");
    out
}

/// The category `goblock report` files a marker reason under.
pub fn category(reason: &str) -> &'static str {
    match reason {
        "network" => "net",
        "syscall" => "syscall",
        "sleep" => "sleep",
        r if r.contains("chan") || r.contains("select") || r.contains("sync") => "sync",
        _ => "other",
    }
}

/// Module path → directory relative to the corpus, from the corpus' go.mod
/// files (for `-trimpath` paths).
pub fn modules() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in PROGRAMS {
        let mut stack = vec![p.dir()];
        while let Some(d) = stack.pop() {
            if let Ok(text) = std::fs::read_to_string(d.join("go.mod")) {
                let m = text
                    .lines()
                    .find_map(|l| l.strip_prefix("module "))
                    .expect("module line")
                    .trim()
                    .to_owned();
                let rel = d
                    .strip_prefix(corpus())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((m, rel));
            }
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                if e.file_type().unwrap().is_dir() && e.file_name() != "vendor" {
                    stack.push(e.path());
                }
            }
        }
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
    out
}

/// The corpus file (relative path) a recorded path names, when it is one of
/// the programs' own files (not a vendored one): `<src>/shop/shopd/main.go`,
/// or `goblock.test/shopd/main.go` (`-trimpath`).
pub fn corpus_file(recorded: &str, v: &Version, modules: &[(String, String)]) -> Option<String> {
    let rel = if let Some(rest) = recorded.strip_prefix(&v.src) {
        rest.to_owned()
    } else {
        let (m, dir) = modules
            .iter()
            .find(|(m, _)| recorded.starts_with(&format!("{m}/")))?;
        format!("{dir}/{}", &recorded[m.len() + 1..])
    };
    (!rel.split('/').any(|c| c == "vendor")).then_some(rel)
}

/// One frame of an oracle sample.
#[derive(Clone, Debug)]
pub struct Frame {
    pub func: String,
    pub file: String,
    pub line: u32,
}

/// One sample of an oracle: a stack (leaf first) with its count and delay.
#[derive(Clone, Debug)]
pub struct Sample {
    pub count: u64,
    pub ns: u64,
    pub frames: Vec<Frame>,
}

/// Reads `go tool pprof -raw` of a `go tool trace -pprof` profile with the
/// frames of every location (the trace's frames: one line per location,
/// inlined frames have their own PCs).
pub fn read_oracle(path: &Path) -> Vec<Sample> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut samples: Vec<(u64, u64, Vec<u64>)> = Vec::new();
    let mut locs: BTreeMap<u64, Frame> = BTreeMap::new();
    let mut section = "";
    for line in text.lines() {
        let t = line.trim();
        match t {
            "Samples:" | "Locations" | "Mappings" => {
                section = t;
                continue;
            }
            _ => {}
        }
        match section {
            "Samples:" => {
                let Some((vals, ids)) = t.split_once(':') else {
                    continue; // the sample types line
                };
                let vals: Vec<u64> = vals
                    .split_whitespace()
                    .map(|v| v.parse().unwrap())
                    .collect();
                let ids = ids.split_whitespace().map(|v| v.parse().unwrap()).collect();
                samples.push((vals[0], vals[1], ids));
            }
            "Locations" => {
                // `  12: 0x4f2a4e M=1 main.f /path/file.go:42:0 s=0`
                let Some((id, rest)) = t.split_once(": ") else {
                    continue;
                };
                let Ok(id) = id.parse::<u64>() else { continue };
                let w: Vec<&str> = rest.split_whitespace().collect();
                let (func, pos) = (w[2], w[3]);
                let mut p = pos.split(':');
                let file = p.next().unwrap().to_owned();
                let line = p.next().and_then(|l| l.parse().ok()).unwrap_or(0);
                locs.insert(
                    id,
                    Frame {
                        func: func.to_owned(),
                        file,
                        line,
                    },
                );
            }
            _ => {}
        }
    }
    samples
        .into_iter()
        .map(|(count, ns, ids)| Sample {
            count,
            ns,
            frames: ids.iter().map(|i| locs[i].clone()).collect(),
        })
        .collect()
}

/// Per-line flat figures of an oracle: each sample charged to its innermost
/// frame in a corpus file (as `goblock report` attributes), by (corpus file,
/// line). Samples without such a frame are left out.
pub fn oracle_lines(samples: &[Sample], v: &Version) -> BTreeMap<(String, u32), (u64, u64)> {
    let modules = modules();
    let mut out: BTreeMap<(String, u32), (u64, u64)> = BTreeMap::new();
    for s in samples {
        if let Some((file, line)) = s
            .frames
            .iter()
            .find_map(|f| Some((corpus_file(&f.file, v, &modules)?, f.line)))
        {
            let e = out.entry((file, line)).or_default();
            e.0 += s.count;
            e.1 += s.ns;
        }
    }
    out
}

/// A top-level function declaration of a gofmt'ed Go file.
#[derive(Clone, Debug)]
pub struct Decl {
    /// Function or method name.
    pub name: String,
    /// Receiver type name, for methods.
    pub receiver: Option<String>,
    /// `func` line and closing-brace line, 1-based.
    pub start: u32,
    pub end: u32,
}

/// The top-level `func` declarations of a gofmt'ed Go source text.
pub fn decls(text: &str) -> Vec<Decl> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = l.strip_prefix("func ") else {
            continue;
        };
        let (receiver, rest) = match rest.strip_prefix('(') {
            Some(r) => {
                let close = r.find(')').expect("receiver");
                let ty = r[..close]
                    .rsplit([' ', '*'])
                    .next()
                    .unwrap()
                    .split('[')
                    .next()
                    .unwrap()
                    .to_owned();
                (Some(ty), r[close + 1..].trim_start())
            }
            None => (None, rest),
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let end = if l.trim_end().ends_with('}') {
            i
        } else {
            i + lines[i..]
                .iter()
                .position(|l| l.starts_with('}'))
                .expect("closing brace")
        };
        out.push(Decl {
            name,
            receiver,
            start: i as u32 + 1,
            end: end as u32 + 1,
        });
    }
    out
}

/// The name of the function whose body holds the code of a Go function
/// symbol: `main.(*server).serve.func1` → `serve`, `pkg.Map[...].func2` →
/// `Map`, `main.session.newServer.func6` (a closure of `newServer` inlined
/// into `session`) → `newServer`, `pkg.init.0.func1` → `init`.
pub fn declaring_name(symbol: &str) -> String {
    let tail = symbol.rsplit('/').next().unwrap_or(symbol);
    let rest = tail.split_once('.').map_or(tail, |(_, r)| r);
    let mut parts = Vec::new();
    let (mut cur, mut depth) = (String::new(), 0);
    for c in rest.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ if depth == 0 => cur.push(c),
            _ => {}
        }
    }
    parts.push(cur);
    let suffix = |s: &str| {
        s.chars().all(|c| c.is_ascii_digit())
            || ["func", "gowrap", "deferwrap"].iter().any(|p| {
                s.strip_prefix(p)
                    .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
            })
            || s.ends_with("-fm")
    };
    parts
        .into_iter()
        .rev()
        .find(|p| !suffix(p))
        .map(|p| p.trim_end_matches("-fm").to_owned())
        .unwrap_or_default()
}

/// Unpacks a zstd-compressed binary into a fresh temporary file.
pub fn unpack(zst: &Path, tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let out = std::env::temp_dir().join(format!(
        "goblock-linetruth-{}-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        zst.file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".zst")
    ));
    let bytes = zstd::decode_all(std::fs::File::open(zst).expect("binary")).expect("zstd");
    std::fs::write(&out, bytes).unwrap();
    out
}
