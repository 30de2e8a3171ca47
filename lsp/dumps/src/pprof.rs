//! pprof profiles in protobuf form (`github.com/google/pprof`
//! `proto/profile.proto`, package `perftools.profiles`), as Go's
//! `runtime/pprof` writes them: gzip'ed (or raw) `Profile` messages.
//!
//! The messages are declared here with `prost`'s derive (no build script,
//! no `protoc`; prost skips fields it does not know, so newer writers still
//! decode). Only what goblock reads is declared: samples, locations with
//! their (inlined) lines, functions, mappings, the string table, the
//! sample and period types, time and duration.
//!
//! [`read`] decompresses (flate2) and decodes, checks the string-table and
//! id rules, and tells what the profile is ([`ProfileKind`]): goroutine,
//! block or mutex (used), CPU, heap and others (recognised, not used).
//! Block and mutex protos are identical in shape (`contentions/count`,
//! `delay/nanoseconds`): the leaf functions tell them apart (a mutex
//! profile's stacks end in an `Unlock`, the end of the critical section).
//!
//! Does not symbolize or attribute (goblock-analysis does).

use std::collections::HashMap;
use std::io::Read;

use crate::error::ProfileError;

/// `perftools.profiles.Profile`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Profile {
    /// One per sample value.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// The samples.
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// Mapped binaries.
    #[prost(message, repeated, tag = "3")]
    pub mapping: Vec<Mapping>,
    /// Locations (by id).
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// Functions (by id).
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// Strings; `[0]` is `""`.
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// Collection time, ns since the epoch.
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    /// Collection duration, ns.
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    /// What a period counts.
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// Sampling period.
    #[prost(int64, tag = "12")]
    pub period: i64,
    /// Free-form comments (string indexes).
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
}

/// `ValueType`: string indexes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueType {
    /// E.g. `contentions`.
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// E.g. `count`.
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// `Sample`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// Location ids, leaf first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// One per sample type.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    /// pprof labels.
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// `Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// Key (string index).
    #[prost(int64, tag = "1")]
    pub key: i64,
    /// String value (string index).
    #[prost(int64, tag = "2")]
    pub str: i64,
    /// Numeric value.
    #[prost(int64, tag = "3")]
    pub num: i64,
}

/// `Mapping`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Mapping {
    /// Id (nonzero).
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Start address.
    #[prost(uint64, tag = "2")]
    pub memory_start: u64,
    /// End address.
    #[prost(uint64, tag = "3")]
    pub memory_limit: u64,
    /// Offset in the file.
    #[prost(uint64, tag = "4")]
    pub file_offset: u64,
    /// Binary path (string index).
    #[prost(int64, tag = "5")]
    pub filename: i64,
    /// Build id (string index): Go writes the GNU build ID, when present.
    #[prost(int64, tag = "6")]
    pub build_id: i64,
}

/// `Location`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    /// Id (nonzero).
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Mapping id (0: none).
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    /// Instruction address (return address − 1 for callers).
    #[prost(uint64, tag = "3")]
    pub address: u64,
    /// Inlined callees first; the last entry is the physical function.
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
}

/// `Line`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Line {
    /// Function id.
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// Line number.
    #[prost(int64, tag = "2")]
    pub line: i64,
}

/// `Function`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    /// Id (nonzero).
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Name (string index).
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// System name (string index).
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// Source file (string index).
    #[prost(int64, tag = "4")]
    pub filename: i64,
}

/// What a profile measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileKind {
    /// `goroutine/count`: goroutines per stack.
    Goroutine,
    /// `contentions/count`, `delay/nanoseconds`, waiters' stacks.
    Block,
    /// Same values, stacks of the unlockers (where contention ended).
    Mutex,
    /// `contentions`/`delay` with no sample to tell block from mutex.
    Contention,
    /// `contentions`/`delay` with period type `trace/count`: written by
    /// `go tool trace -pprof=…` from an execution trace (Go's
    /// `traceviewer.BuildProfile`). Exact per-stack totals of the trace
    /// (for `sched`, scheduling latency), not a sampled block or mutex
    /// profile: the trace itself is the input to read.
    FromTrace,
    /// `samples/count`, `cpu/nanoseconds`.
    Cpu,
    /// `alloc_*`/`inuse_*`.
    Heap,
    /// Anything else: the sample types, e.g. `threadcreate/count`.
    Other(String),
}

impl ProfileKind {
    /// The name of the input kind in goblock's JSON and diagnostics
    /// (`"goroutine-profile"`, `"block-profile"`, `"mutex-profile"`; an
    /// empty contention profile is `"contention-profile"`, others
    /// `"other-profile"`).
    pub fn name(&self) -> &'static str {
        match self {
            ProfileKind::Goroutine => "goroutine-profile",
            ProfileKind::Block => "block-profile",
            ProfileKind::Mutex => "mutex-profile",
            ProfileKind::Contention => "contention-profile",
            _ => "other-profile",
        }
    }

    /// Human name ("a CPU profile").
    pub fn describe(&self) -> String {
        match self {
            ProfileKind::Goroutine => "a goroutine profile".into(),
            ProfileKind::Block => "a block profile".into(),
            ProfileKind::Mutex => "a mutex profile".into(),
            ProfileKind::Contention => "a block or mutex profile".into(),
            ProfileKind::FromTrace => {
                "a profile made from an execution trace by `go tool trace -pprof` \
                 (give goblock the trace itself)"
                    .into()
            }
            ProfileKind::Cpu => "a CPU profile".into(),
            ProfileKind::Heap => "a heap (memory) profile".into(),
            ProfileKind::Other(t) => format!("a profile of {t}"),
        }
    }
}

/// One frame of a profile stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfFrame<'p> {
    /// Address of the location (shared by its inlined frames).
    pub address: u64,
    /// Innermost line of its location (the one DWARF resolves the address to).
    pub innermost: bool,
    /// Function name.
    pub func: &'p str,
    /// Source file as recorded.
    pub file: &'p str,
    /// Line.
    pub line: u32,
}

/// A decoded, checked profile with its locations indexed.
#[derive(Debug)]
pub struct ReadProfile {
    /// The message.
    pub profile: Profile,
    /// What it measures.
    pub kind: ProfileKind,
    /// Decompressed size.
    pub decoded_bytes: u64,
    locations: HashMap<u64, usize>,
    functions: HashMap<u64, usize>,
}

/// Decompressed profiles larger than this are refused (Go's own are a few MB).
pub const MAX_DECODED_BYTES: u64 = 1 << 30;

/// Decompresses (when gzip'ed), decodes and checks a profile.
/// `name_hint`: the file name, used only to tell an *empty* block profile
/// from an empty mutex profile.
pub fn read(bytes: &[u8], name_hint: &str) -> Result<ReadProfile, ProfileError> {
    let owned;
    let raw: &[u8] = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let mut dec = flate2::read::MultiGzDecoder::new(bytes).take(MAX_DECODED_BYTES + 1);
        if let Err(source) = dec.read_to_end(&mut out) {
            return Err(ProfileError::Gzip {
                offset: out.len() as u64,
                source,
            });
        }
        if out.len() as u64 > MAX_DECODED_BYTES {
            return Err(ProfileError::TooLarge {
                limit: MAX_DECODED_BYTES,
            });
        }
        owned = out;
        &owned
    } else {
        bytes
    };
    let profile = <Profile as prost::Message>::decode(raw)?;
    check(&profile)?;
    let locations = profile
        .location
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id, i))
        .collect();
    let functions = profile
        .function
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id, i))
        .collect();
    let mut p = ReadProfile {
        profile,
        kind: ProfileKind::Other(String::new()),
        decoded_bytes: raw.len() as u64,
        locations,
        functions,
    };
    p.kind = p.classify(name_hint);
    Ok(p)
}

fn check(p: &Profile) -> Result<(), ProfileError> {
    if p.string_table.first().is_some_and(|s| !s.is_empty()) {
        return Err(ProfileError::Invalid(
            "string_table[0] is not the empty string".into(),
        ));
    }
    if p.string_table.is_empty() && !(p.sample.is_empty() && p.sample_type.is_empty()) {
        return Err(ProfileError::Invalid("no string table".into()));
    }
    let n = p.string_table.len() as i64;
    let bad = |i: i64| i < 0 || (i >= n && i != 0);
    for vt in p.sample_type.iter().chain(p.period_type.iter()) {
        if bad(vt.r#type) || bad(vt.unit) {
            return Err(ProfileError::Invalid(
                "a sample type names no string".into(),
            ));
        }
    }
    for f in &p.function {
        if bad(f.name) || bad(f.filename) || bad(f.system_name) {
            return Err(ProfileError::Invalid(format!(
                "function {} names no string",
                f.id
            )));
        }
    }
    for s in &p.sample {
        if s.value.len() != p.sample_type.len() {
            return Err(ProfileError::Invalid(format!(
                "a sample has {} values for {} sample types",
                s.value.len(),
                p.sample_type.len()
            )));
        }
        for l in &s.label {
            if bad(l.key) || bad(l.str) {
                return Err(ProfileError::Invalid("a label names no string".into()));
            }
        }
    }
    Ok(())
}

impl ReadProfile {
    /// A string of the table ("" for an index out of range).
    pub fn str(&self, i: i64) -> &str {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.profile.string_table.get(i))
            .map_or("", String::as_str)
    }

    /// `type/unit` of each sample value.
    pub fn sample_types(&self) -> Vec<String> {
        self.profile
            .sample_type
            .iter()
            .map(|v| format!("{}/{}", self.str(v.r#type), self.str(v.unit)))
            .collect()
    }

    /// Index of the sample value `type/unit`.
    pub fn value_index(&self, type_unit: &str) -> Option<usize> {
        self.sample_types().iter().position(|t| t == type_unit)
    }

    /// The frames of a sample, innermost first (inlined frames expanded).
    /// Locations or functions the profile does not define are an error.
    pub fn frames(&self, s: &Sample) -> Result<Vec<ProfFrame<'_>>, ProfileError> {
        let mut out = Vec::with_capacity(s.location_id.len() * 2);
        for id in &s.location_id {
            let Some(&li) = self.locations.get(id) else {
                return Err(ProfileError::Invalid(format!(
                    "a sample names location {id}, which is not defined"
                )));
            };
            let loc = &self.profile.location[li];
            for (k, line) in loc.line.iter().enumerate() {
                let Some(&fi) = self.functions.get(&line.function_id) else {
                    return Err(ProfileError::Invalid(format!(
                        "location {} names function {}, which is not defined",
                        loc.id, line.function_id
                    )));
                };
                let f = &self.profile.function[fi];
                out.push(ProfFrame {
                    address: loc.address,
                    innermost: k == 0,
                    func: self.str(f.name),
                    file: self.str(f.filename),
                    line: u32::try_from(line.line).unwrap_or(0),
                });
            }
        }
        Ok(out)
    }

    /// Labels of a sample, `key=value` (numeric values as numbers).
    pub fn labels(&self, s: &Sample) -> Vec<(String, String)> {
        s.label
            .iter()
            .map(|l| {
                let v = if l.str != 0 {
                    self.str(l.str).to_owned()
                } else {
                    l.num.to_string()
                };
                (self.str(l.key).to_owned(), v)
            })
            .collect()
    }

    /// The build IDs of the profile's mappings (non-empty ones).
    pub fn build_ids(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .profile
            .mapping
            .iter()
            .map(|m| self.str(m.build_id))
            .filter(|s| !s.is_empty())
            .collect();
        v.dedup();
        v
    }

    /// The main binary's mapping (the first, as Go writes it): path and build id.
    pub fn main_mapping(&self) -> Option<(&str, &str)> {
        self.profile
            .mapping
            .first()
            .map(|m| (self.str(m.filename), self.str(m.build_id)))
    }

    fn classify(&self, name_hint: &str) -> ProfileKind {
        let types = self.sample_types();
        let has = |t: &str| types.iter().any(|x| x == t);
        if has("goroutine/count") {
            return ProfileKind::Goroutine;
        }
        let from_trace = self
            .profile
            .period_type
            .as_ref()
            .is_some_and(|v| self.str(v.r#type) == "trace" && self.str(v.unit) == "count");
        if from_trace && has("contentions/count") && has("delay/nanoseconds") {
            return ProfileKind::FromTrace;
        }
        if has("contentions/count") && has("delay/nanoseconds") {
            // Vote by the leaf function of each sample (weighted by count).
            let (mut unlock, mut wait) = (0i64, 0i64);
            for s in &self.profile.sample {
                let leaf = self.frames(s).ok().and_then(|f| f.first().map(|f| f.func));
                let n = s.value.first().copied().unwrap_or(1).max(1);
                match leaf {
                    Some(f) if is_unlock(f) => unlock += n,
                    Some(_) => wait += n,
                    None => {}
                }
            }
            return if unlock > wait {
                ProfileKind::Mutex
            } else if wait > 0 {
                ProfileKind::Block
            } else {
                let h = name_hint.to_ascii_lowercase();
                if h.contains("mutex") {
                    ProfileKind::Mutex
                } else if h.contains("block") || h.contains("contention") {
                    ProfileKind::Block
                } else {
                    ProfileKind::Contention
                }
            };
        }
        if has("cpu/nanoseconds") || has("samples/count") {
            return ProfileKind::Cpu;
        }
        if types
            .iter()
            .any(|t| t.starts_with("alloc_") || t.starts_with("inuse_"))
        {
            return ProfileKind::Heap;
        }
        ProfileKind::Other(if types.is_empty() {
            "nothing (no sample types)".into()
        } else {
            types.join(", ")
        })
    }
}

/// Leaf functions of mutex-profile stacks: where a contended lock is released.
fn is_unlock(func: &str) -> bool {
    func.ends_with("Unlock")
        || func.ends_with("RUnlock")
        || func.ends_with("unlockSlow")
        || func == "runtime.unlock"
        || func == "runtime.unlock2"
        || func == "runtime.unlockWithRank"
        || func == "runtime._LostContendedRuntimeLock"
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    fn strings(p: &mut Profile, s: &str) -> i64 {
        if let Some(i) = p.string_table.iter().position(|x| x == s) {
            return i as i64;
        }
        p.string_table.push(s.into());
        (p.string_table.len() - 1) as i64
    }

    fn contention(leaf: &str) -> Profile {
        let mut p = Profile {
            string_table: vec![String::new()],
            ..Default::default()
        };
        let c = strings(&mut p, "contentions");
        let n = strings(&mut p, "count");
        let d = strings(&mut p, "delay");
        let ns = strings(&mut p, "nanoseconds");
        p.sample_type = vec![
            ValueType { r#type: c, unit: n },
            ValueType {
                r#type: d,
                unit: ns,
            },
        ];
        let leaf = strings(&mut p, leaf);
        let main = strings(&mut p, "main.holder");
        let f1 = strings(&mut p, "sync/mutex.go");
        let f2 = strings(&mut p, "/src/main.go");
        p.function = vec![
            Function {
                id: 1,
                name: leaf,
                system_name: leaf,
                filename: f1,
            },
            Function {
                id: 2,
                name: main,
                system_name: main,
                filename: f2,
            },
        ];
        p.location = vec![Location {
            id: 7,
            mapping_id: 0,
            address: 0x4d9c20,
            line: vec![
                Line {
                    function_id: 1,
                    line: 65,
                },
                Line {
                    function_id: 2,
                    line: 17,
                },
            ],
        }];
        p.sample = vec![Sample {
            location_id: vec![7],
            value: vec![3, 1_500_000],
            label: vec![],
        }];
        p
    }

    #[test]
    fn decodes_gzip_and_classifies() {
        let p = contention("sync.(*Mutex).Unlock");
        let raw = p.encode_to_vec();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        let gz = gz.finish().unwrap();
        let r = read(&gz, "x.pb.gz").unwrap();
        assert_eq!(r.kind, ProfileKind::Mutex);
        let fr = r.frames(&r.profile.sample[0]).unwrap();
        assert_eq!(fr.len(), 2);
        assert_eq!(
            (fr[1].func, fr[1].file, fr[1].line),
            ("main.holder", "/src/main.go", 17)
        );
        assert!(fr[0].innermost && !fr[1].innermost);
        let r = read(&contention("sync.(*Mutex).Lock").encode_to_vec(), "").unwrap();
        assert_eq!(r.kind, ProfileKind::Block);
    }

    /// `go tool trace -pprof=…` output (testdata/dumps/gen-from-trace.sh)
    /// has a block profile's sample types: told apart by its period type,
    /// while real block and mutex profiles keep theirs.
    #[test]
    fn profiles_made_from_a_trace_are_told_apart() {
        let testdata =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dumps");
        let kind = |f: &str| {
            let bytes = std::fs::read(testdata.join(f)).unwrap();
            read(&bytes, f).unwrap().kind
        };
        assert_eq!(kind("from-trace/sync.pprof"), ProfileKind::FromTrace);
        assert_eq!(kind("from-trace/sched.pprof"), ProfileKind::FromTrace);
        assert_eq!(kind("go1.26/block.pb.gz"), ProfileKind::Block);
        assert_eq!(kind("go1.26/mutex.pb.gz"), ProfileKind::Mutex);
        assert_eq!(kind("go1.26/test-block.pprof"), ProfileKind::Block);
    }

    #[test]
    fn refuses_broken_profiles() {
        let mut p = contention("x");
        p.sample[0].location_id = vec![99];
        let r = read(&p.encode_to_vec(), "").unwrap();
        assert!(r.frames(&r.profile.sample[0]).is_err());
        let mut p = contention("x");
        p.string_table[0] = "x".into();
        assert!(read(&p.encode_to_vec(), "").is_err());
        assert!(read(&[0x1f, 0x8b, 8, 0, 1, 2, 3], "").is_err());
        assert!(read(b"\x0a\xff\xff\xff", "").is_err());
        let empty = read(&[], "mutex.pb.gz").unwrap();
        assert!(matches!(empty.kind, ProfileKind::Other(_)));
    }
}
