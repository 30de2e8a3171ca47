//! pprof profiles → per-line figures: goroutines per line (goroutine
//! profiles, proto or debug=1 text), contentions and delay per line (block
//! and mutex profiles).
//!
//! The profile's frames are interned in [`Tables`] like a trace's; the
//! symbolizer then checks the workspace's binaries against them (the
//! mapping's GNU build ID when the profile records one, and ≥ 99 % of
//! the frames resolving to exactly the recorded function, file and line)
//! and resolves the locations' innermost frames through DWARF when one is
//! accepted; otherwise the recorded lines are used, and the notes say why.
//! Attribution is the traces' ([`Attributor`]): flat to the innermost
//! workspace frame, cum to every workspace frame of the stack.
//!
//! Values are taken as the runtime wrote them: block/mutex delays are
//! already estimates of the total (Go scales them), so nothing is
//! multiplied again; they are sampled, which every surface says. A mutex
//! profile's stacks are the *unlockers'*: the figures sit on the end of the
//! critical section that delayed others. CPU, heap and other profiles are
//! recognised and refused with a message naming them.
//!
//! Knows nothing of LSP or output formats.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use goblock_dumps::profile_text::{self, TextKind};
use goblock_dumps::{ProfileError, ProfileKind};
use goblock_trace::{Frame, FrameId, StackId, Tables};

use crate::attribute::{Attributor, FrameView};
use crate::lines::Totals;
use crate::load::{BinaryChoice, Symbolization};
use crate::paths::Workspace;

/// A profile line's identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileLineKey {
    /// Local path when found, else the recorded path.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
}

/// Figures of one line.
#[derive(Clone, Debug, Default)]
pub struct ProfileLine {
    /// Function containing the line.
    pub function: Arc<str>,
    /// The file exists on this machine.
    pub found: bool,
    /// In the workspace.
    pub in_workspace: bool,
    /// No user frame in these stacks.
    pub library: bool,
    /// What kind of code the line is (as for traces' lines).
    pub class: crate::paths::CodeClass,
    /// Charged here (innermost workspace frame): goroutines (goroutine
    /// profile) or contentions and delay ns (block/mutex).
    pub flat: Totals,
    /// This line anywhere in the workspace part of the stacks.
    pub cum: Totals,
    /// Innermost functions of the stacks charged flat.
    pub primitives: Vec<Arc<str>>,
    /// Distinct pprof label sets of the samples charged flat (`k=v, …`), at most 8.
    pub labels: Vec<Arc<str>>,
}

/// Per-line figures of one profile.
#[derive(Clone, Debug, Default)]
pub struct ProfileTable {
    /// By line.
    pub lines: HashMap<ProfileLineKey, ProfileLine>,
    /// All samples.
    pub total: Totals,
    /// Samples with an empty stack.
    pub unattributed: Totals,
}

/// An analysed profile.
#[derive(Debug)]
pub struct ProfileAnalysis {
    /// The file.
    pub path: PathBuf,
    /// What it measures (goroutine, block or mutex).
    pub kind: ProfileKind,
    /// `"proto"` or `"text"` (debug=1).
    pub format: &'static str,
    /// File size.
    pub bytes: u64,
    /// Samples (records) read.
    pub samples: u64,
    /// How frames were resolved.
    pub symbolization: Symbolization,
    /// Per-line figures.
    pub table: ProfileTable,
    /// Problems (one line each).
    pub warnings: Vec<String>,
}

/// A profile that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileAnalysisError {
    /// Unreadable.
    #[error("{path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: ProfileError,
    },
    /// A profile of something goblock does not show.
    #[error("{path}: {what}: not used (goblock reads goroutine, block and mutex profiles)")]
    NotUsed {
        /// File.
        path: PathBuf,
        /// What it is ("a CPU profile").
        what: String,
    },
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// Label sets kept per line.
const MAX_LABEL_SETS: usize = 8;

/// One stack with its values, frames interned.
struct Sampled {
    stack: StackId,
    count: u64,
    delay_ns: u64,
    labels: Option<Arc<str>>,
}

/// Which profile `bytes` hold, without attributing anything: a text
/// profile by its header line, a proto by decoding it (profiles are small).
/// For choosing among several files (the server's discovery).
pub fn profile_kind(bytes: &[u8], name: &str) -> Result<ProfileKind, ProfileError> {
    use goblock_dumps::InputKind;
    match goblock_dumps::sniff(bytes) {
        Some(InputKind::GoroutineProfileText) => Ok(ProfileKind::Goroutine),
        Some(InputKind::ContentionProfileText) => {
            let head = &bytes[..bytes.len().min(goblock_dumps::sniff::SNIFF_BYTES)];
            let mutex = head
                .split(|&b| b == b'\n')
                .any(|l| l.strip_suffix(b"\r").unwrap_or(l) == b"--- mutex:");
            Ok(if mutex {
                ProfileKind::Mutex
            } else {
                ProfileKind::Block
            })
        }
        _ => goblock_dumps::read_profile(bytes, name).map(|p| p.kind),
    }
}

/// Analyses an opened input (see [`crate::input::open`]): proto (gzip'ed
/// or not) or debug=1 text. A proto cannot be decoded in pieces: it is
/// decompressed into memory (profiles are small; over 1 GiB is refused).
pub fn analyze_profile_input(
    input: &crate::input::Input,
    ws: &Workspace,
    binary: &BinaryChoice,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
) -> Result<ProfileAnalysis, ProfileAnalysisError> {
    analyze_profile_bytes(input.path(), input.bytes(), ws, binary, progress)
}

/// Analyses profile bytes.
pub fn analyze_profile_bytes(
    path: &Path,
    bytes: &[u8],
    ws: &Workspace,
    binary: &BinaryChoice,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
) -> Result<ProfileAnalysis, ProfileAnalysisError> {
    let read_err = |source| ProfileAnalysisError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut tables = Tables::new();
    let mut samples: Vec<Sampled> = Vec::new();
    let mut warnings = Vec::new();
    let mut gnu_build_id = None;
    let kind;
    let format;
    if goblock_dumps::sniff(bytes).is_some_and(|k| {
        matches!(
            k,
            goblock_dumps::InputKind::GoroutineProfileText
                | goblock_dumps::InputKind::ContentionProfileText
        )
    }) {
        format = "text";
        let mut buf = Vec::new();
        let sum = profile_text::parse(bytes, &mut |r| {
            buf.clear();
            for f in r.frames {
                let func = tables.intern_str(f.func);
                let file = tables.intern_str(f.file);
                buf.push(tables.intern_frame(Frame {
                    pc: f.pc,
                    func,
                    file,
                    line: f.line,
                }));
            }
            samples.push(Sampled {
                stack: tables.intern_stack(&buf),
                count: r.count.max(0) as u64,
                delay_ns: r.delay_ns.unwrap_or(0).max(0) as u64,
                labels: r.labels.map(Arc::from),
            });
        })
        .map_err(read_err)?;
        kind = match sum.kind {
            TextKind::Goroutine => ProfileKind::Goroutine,
            TextKind::Block => ProfileKind::Block,
            TextKind::Mutex => ProfileKind::Mutex,
        };
        if sum.kind != TextKind::Goroutine && sum.cycles_per_second.is_none() {
            warnings.push("no cycles/second line: delays unknown (0)".to_owned());
        }
        if sum.kind == TextKind::Mutex && sum.sampling_period.is_some_and(|p| p > 1) {
            warnings.push(format!(
                "sampling period {}: Go 1.19 and older write mutex text profiles unscaled (the proto is scaled)",
                sum.sampling_period.unwrap_or(1)
            ));
        }
        warnings.extend(sum.warnings.iter().map(ToString::to_string));
    } else {
        format = "proto";
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let p =
            goblock_dumps::read_profile(bytes, name.as_deref().unwrap_or("")).map_err(read_err)?;
        kind = p.kind.clone();
        let (count_at, delay_at) = match &kind {
            ProfileKind::Goroutine => (p.value_index("goroutine/count"), None),
            ProfileKind::Block | ProfileKind::Mutex | ProfileKind::Contention => (
                p.value_index("contentions/count"),
                p.value_index("delay/nanoseconds"),
            ),
            other => {
                return Err(ProfileAnalysisError::NotUsed {
                    path: path.to_path_buf(),
                    what: other.describe(),
                });
            }
        };
        if let Some((_, id)) = p.main_mapping()
            && !id.is_empty()
        {
            gnu_build_id = Some(id.to_owned());
        }
        let mut by_location: HashMap<Vec<u64>, StackId> = HashMap::new();
        let mut buf = Vec::new();
        for s in &p.profile.sample {
            let stack = match by_location.get(&s.location_id) {
                Some(&id) => id,
                None => {
                    let frames = p.frames(s).map_err(read_err)?;
                    buf.clear();
                    for f in frames {
                        let func = tables.intern_str(f.func);
                        let file = tables.intern_str(f.file);
                        // The location's address resolves (DWARF) to its
                        // innermost inlined frame only.
                        let pc = if f.innermost { f.address } else { 0 };
                        buf.push(tables.intern_frame(Frame {
                            pc,
                            func,
                            file,
                            line: f.line,
                        }));
                    }
                    let id = tables.intern_stack(&buf);
                    by_location.insert(s.location_id.clone(), id);
                    id
                }
            };
            let v = |i: Option<usize>| {
                i.and_then(|i| s.value.get(i)).copied().unwrap_or(0).max(0) as u64
            };
            let labels = p.labels(s);
            samples.push(Sampled {
                stack,
                count: v(count_at),
                delay_ns: v(delay_at),
                labels: (!labels.is_empty()).then(|| {
                    labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                        .into()
                }),
            });
        }
        if kind == ProfileKind::Contention {
            warnings.push(
                "no samples to tell a block profile from a mutex profile (profiling off?)".into(),
            );
        }
    }
    if samples.is_empty() {
        warnings.push(match kind {
            // `go test -blockprofile` / `-mutexprofile` turn profiling on:
            // empty, they mean that nothing blocked or contended.
            ProfileKind::Block => {
                "the profile has no samples: no blocking was recorded (outside `go test -blockprofile`, only once the program calls runtime.SetBlockProfileRate)".into()
            }
            ProfileKind::Mutex => {
                "the profile has no samples: no contention was recorded (outside `go test -mutexprofile`, only once the program calls runtime.SetMutexProfileFraction)".into()
            }
            ProfileKind::Contention => {
                "the profile has no samples: no contention was recorded (outside `go test`, only once the program calls runtime.SetBlockProfileRate or runtime.SetMutexProfileFraction)".into()
            }
            _ => "the profile has no samples".into(),
        });
    }
    if progress(1, 2).is_break() {
        return Err(ProfileAnalysisError::Cancelled);
    }
    let frames = match binary {
        BinaryChoice::None => goblock_symbols::SymbolizedFrames::trace_only(vec![
            "symbolization disabled; using the profile's frames".into(),
        ]),
        choice => {
            let req = goblock_symbols::Request {
                binaries: choice.binaries(),
                workspace: ws.roots().to_vec(),
                options: goblock_symbols::MatchOptions {
                    expected_gnu_build_id: gnu_build_id,
                    origin: goblock_symbols::FrameOrigin::Profile,
                    ..Default::default()
                },
            };
            goblock_symbols::symbolize_trace(
                goblock_symbols::Symbolizer::global(),
                &mut tables,
                &req,
            )
        }
    };
    let symbolization = Symbolization {
        kind: frames.source.as_str(),
        binary: frames.binary.clone(),
        notes: frames.notes.clone(),
        passed_over: frames.passed_over.clone(),
        passed_over_count: frames.passed_over_count,
        nothing_to_symbolize: frames.nothing_to_symbolize,
    };
    let remap = |id: FrameId| frames.frame(id);
    let view = FrameView::remapped(&tables, &remap);
    let mut att = Attributor::new(ws, view);
    let mut table = ProfileTable::default();
    for s in &samples {
        table.total.count += s.count;
        table.total.total_ns += s.delay_ns;
        let a = att.attribute(s.stack);
        let Some(flat) = a.flat.clone() else {
            table.unattributed.count += s.count;
            table.unattributed.total_ns += s.delay_ns;
            continue;
        };
        let e = table
            .lines
            .entry(ProfileLineKey {
                file: flat.file.clone(),
                line: flat.line,
            })
            .or_insert_with(|| ProfileLine {
                function: flat.function.clone(),
                found: flat.found,
                in_workspace: flat.in_workspace,
                library: flat.library,
                class: flat.class,
                ..Default::default()
            });
        e.flat.count += s.count;
        e.flat.total_ns += s.delay_ns;
        if let Some(p) = &a.primitive
            && !e.primitives.contains(p)
        {
            e.primitives.push(p.clone());
        }
        if let Some(l) = &s.labels
            && e.labels.len() < MAX_LABEL_SETS
            && !e.labels.contains(l)
        {
            e.labels.push(l.clone());
        }
        for c in &a.cum {
            let e = table
                .lines
                .entry(ProfileLineKey {
                    file: c.file.clone(),
                    line: c.line,
                })
                .or_insert_with(|| ProfileLine {
                    function: c.function.clone(),
                    found: c.found,
                    in_workspace: c.in_workspace,
                    library: c.library,
                    class: c.class,
                    ..Default::default()
                });
            e.cum.count += s.count;
            e.cum.total_ns += s.delay_ns;
        }
    }
    let _ = progress(2, 2);
    Ok(ProfileAnalysis {
        path: path.to_path_buf(),
        kind,
        format,
        bytes: bytes.len() as u64,
        samples: samples.len() as u64,
        symbolization,
        table,
        warnings,
    })
}

impl ProfileTable {
    /// Lines with samples charged flat, by kind of code.
    pub fn line_counts(&self) -> crate::dumps::LineCounts {
        let mut c = crate::dumps::LineCounts::default();
        for l in self.lines.values().filter(|l| l.flat.count > 0) {
            if l.library {
                c.library += 1;
            } else {
                c.user += 1;
            }
        }
        c
    }

    /// Lines with something charged flat, by delay then count (largest
    /// first), ties by key.
    pub fn hottest(&self) -> Vec<(&ProfileLineKey, &ProfileLine)> {
        let mut v: Vec<_> = self
            .lines
            .iter()
            .filter(|(_, l)| l.flat.count > 0)
            .collect();
        v.sort_by(|a, b| {
            b.1.flat
                .total_ns
                .cmp(&a.1.flat.total_ns)
                .then(b.1.flat.count.cmp(&a.1.flat.count))
                .then(a.0.cmp(b.0))
        });
        v
    }
}
