//! Loads one trace file (or goroutine dump or profile: `crate::dumps::load`)
//! for the server, on the calling (blocking) thread:
//! opens it through `goblock_analysis::input` (file type, size limit,
//! sniffing; a private copy is mapped, so a rewrite while decoding is
//! harmless and memory stays that of a file map), analyses it with progress
//! and cancellation, shows a preview of a large trace's beginning first,
//! and judges a trace that may still be being written:
//!
//! | the new file | previous data of this path | outcome |
//! |---|---|---|
//! | complete | any | [`Outcome::Loaded`] |
//! | truncated, still changing | complete | [`Outcome::KeepPrevious`], retry |
//! | truncated, settled, with data | complete | [`Outcome::Loaded`] (truncation warned) |
//! | truncated, without data | complete | [`Outcome::KeepPrevious`] until it changes |
//! | truncated | none, or itself truncated | [`Outcome::Loaded`], retry while changing |
//! | unreadable, may be incomplete (empty, changing, decode error) and changing | any | [`Outcome::Failed`] with `still_writing` |
//!
//! "Still changing": the file's stamp moved since it was opened, or it was
//! modified less than [`LoadRequest::settle`] ago. Knows no LSP types;
//! scheduling, retry counting and publishing are the server's.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use goblock_analysis::dumps::DumpAnalysis;
use goblock_analysis::input::{self, InputError, OpenOptions};
use goblock_analysis::profiles::ProfileAnalysis;
use goblock_analysis::{AnalysisError, BinaryChoice, Options, Stage, TraceAnalysis, Workspace};
use goblock_trace::{Categories, Threads};

pub use goblock_analysis::input::Stamp;

/// Why a load failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened as a trace.
    #[error(transparent)]
    Input(InputError),
    /// The analysis refused it.
    #[error(transparent)]
    Analysis(AnalysisError),
    /// A goroutine dump or profile that cannot be shown.
    #[error(transparent)]
    Dump(crate::dumps::load::DumpLoadError),
    /// Superseded by a newer load.
    #[error("cancelled")]
    Cancelled,
}

impl LoadError {
    /// Whether the file may only be incomplete (empty, changing while read,
    /// cut inside its data): worth another try if it is still being written.
    pub fn may_be_incomplete(&self) -> bool {
        match self {
            LoadError::Input(e) => e.may_be_incomplete(),
            LoadError::Analysis(AnalysisError::Decode { .. }) => true,
            LoadError::Analysis(AnalysisError::Input(e)) => e.may_be_incomplete(),
            LoadError::Dump(e) => e.may_be_incomplete(),
            _ => false,
        }
    }
}

impl From<AnalysisError> for LoadError {
    fn from(e: AnalysisError) -> Self {
        match e {
            AnalysisError::Cancelled => LoadError::Cancelled,
            AnalysisError::Input(e) => LoadError::Input(e),
            e => LoadError::Analysis(e),
        }
    }
}

/// What one input holds, analysed.
#[derive(Debug)]
pub enum Analysis {
    /// An execution trace.
    Trace(TraceAnalysis),
    /// A goroutine dump (`crate::dumps`).
    Dump(DumpAnalysis),
    /// A goroutine, block or mutex profile (`crate::dumps`).
    Profile(ProfileAnalysis),
}

impl Analysis {
    /// The trace's analysis, when this is a trace.
    pub fn trace(&self) -> Option<&TraceAnalysis> {
        match self {
            Analysis::Trace(a) => Some(a),
            _ => None,
        }
    }
}

/// A loaded input (a trace, a goroutine dump or a profile).
#[derive(Debug)]
pub struct Loaded {
    /// The analysis.
    pub analysis: Analysis,
    /// The file's stamp when it was read.
    pub stamp: Stamp,
    /// The decoder warned the trace is truncated, or the dump ends inside a
    /// goroutine (may still be being written).
    pub truncated: bool,
}

impl Loaded {
    /// No line has anything: nothing to show.
    pub fn is_empty(&self) -> bool {
        match &self.analysis {
            Analysis::Trace(a) => a.table.lines.is_empty(),
            Analysis::Dump(d) => d.table.lines.is_empty(),
            Analysis::Profile(p) => p.table.lines.is_empty(),
        }
    }
}

/// What the server shows for this path now, if anything.
#[derive(Clone, Copy, Debug)]
pub struct Previous {
    /// The stamp of the file it was loaded from.
    pub stamp: Stamp,
    /// Whether that load was itself truncated.
    pub truncated: bool,
}

/// Traces at least this large get a quick preview from their beginning
/// before the full load.
pub const PREVIEW_MIN_BYTES: u64 = 48 << 20;
/// How much of a large trace the preview reads first.
pub const PREVIEW_BYTES: u64 = 16 << 20;
/// The most a preview reads (and at most half the trace): a new-format
/// trace decodes only whole generations, and a busy program writes
/// generations of 20 MB and more, so the head grows (doubling) until its
/// first generation fits. A trace whose first generation does not fit gets
/// no preview.
pub const PREVIEW_MAX_BYTES: u64 = 64 << 20;

/// Loading one input.
pub struct LoadRequest<'a> {
    /// The trace file.
    pub path: &'a Path,
    /// Its index among the traces loaded together.
    pub trace_index: u32,
    /// The workspace (attribution).
    pub workspace: &'a Workspace,
    /// The binary (or binaries) to symbolize with.
    pub binary: BinaryChoice,
    /// `goblock.maxTraceBytes` (0: no limit).
    pub max_bytes: u64,
    /// `goblock.categories`: the decoder builds no episode of the others
    /// (a wider setting loads again: [`Settings::needs_reanalysis`]).
    ///
    /// [`Settings::needs_reanalysis`]: crate::config::Settings::needs_reanalysis
    pub categories: Categories,
    /// The data shown for this path now.
    pub previous: Option<Previous>,
    /// How long a file must stay unchanged to count as completely written.
    pub settle: Duration,
    /// Polled; a load that sees `true` stops with [`Outcome::Cancelled`].
    pub cancelled: &'a dyn Fn() -> bool,
    /// Percent done (0–100), as work advances.
    pub progress: &'a mut dyn FnMut(u32),
    /// Called with the analysis of a large trace's beginning (and the share
    /// of the file it covers) before the whole trace is analysed; only when
    /// nothing is shown for this path yet.
    pub preview: &'a mut dyn FnMut(Loaded, f64),
}

/// What became of a load.
#[derive(Debug)]
pub enum Outcome {
    /// Show this (replacing previous data). `recheck`: the trace is
    /// truncated and may still be being written; load it again later.
    Loaded {
        /// The new data.
        loaded: Box<Loaded>,
        /// Look again after a while.
        recheck: bool,
    },
    /// The file holds less than what is shown (a trace being written
    /// over a complete one): keep showing the previous data.
    KeepPrevious {
        /// For the status and the log ("…: still being written? …").
        message: String,
        /// Look again after a while (the file is still changing); without
        /// it, the next change of the file triggers the next load.
        retry: bool,
    },
    /// Nothing new to show.
    Failed {
        /// Why.
        error: LoadError,
        /// The file may simply not be completely written yet: look again
        /// later instead of reporting the error.
        still_writing: bool,
    },
    /// Superseded by a newer load.
    Cancelled,
}

/// Loads one input; see the module documentation for the outcomes.
pub fn load_one(req: &mut LoadRequest<'_>) -> Outcome {
    match load_input(req) {
        Ok(loaded) => judge(req, loaded),
        Err(LoadError::Cancelled) => Outcome::Cancelled,
        Err(error) => {
            let still_writing = error.may_be_incomplete() && still_changing(req, None);
            Outcome::Failed {
                error,
                still_writing,
            }
        }
    }
}

fn judge(req: &LoadRequest<'_>, loaded: Loaded) -> Outcome {
    if !loaded.truncated {
        return Outcome::Loaded {
            loaded: Box::new(loaded),
            recheck: false,
        };
    }
    let changing = still_changing(req, Some(loaded.stamp));
    let over_complete = req.previous.is_some_and(|p| !p.truncated);
    if over_complete && (changing || loaded.is_empty()) {
        let name = req.path.display();
        let message = if loaded.is_empty() {
            format!(
                "{name}: no complete data yet (still being written?); showing the previous load"
            )
        } else {
            format!("{name}: truncated (still being written?); showing the previous load")
        };
        return Outcome::KeepPrevious {
            message,
            retry: changing,
        };
    }
    Outcome::Loaded {
        loaded: Box::new(loaded),
        recheck: changing,
    }
}

/// The beginning of the trace at `path` to preview, with the file's stamp
/// ([`grow_head`] reading on from [`input::read_head`]); `None` when it is
/// no trace or cannot be read.
fn preview_head(
    path: &Path,
    open: &OpenOptions,
    first: u64,
    limit: u64,
) -> Option<(Vec<u8>, Stamp)> {
    let mut head = input::read_head(path, open, first.min(limit) as usize).ok()?;
    if !head.kind.is_trace() || !grow_head(first, limit, &mut head) {
        return None;
    }
    Some((head.bytes, head.stamp))
}

/// The beginning of a file, read so far and to be read on.
trait Growing {
    /// Reads on until `n` bytes are held (fewer at the end of the file);
    /// false when reading fails.
    fn read_to(&mut self, n: u64) -> bool;
    /// What is held so far.
    fn bytes(&self) -> &[u8];
}

impl Growing for input::Head {
    fn read_to(&mut self, n: u64) -> bool {
        input::Head::read_to(self, n as usize).is_ok()
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Grows `head` to `first` bytes, then twice as many, … until it holds
/// something the decoder turns into episodes
/// ([`goblock_trace::head_is_decodable`]: a whole generation), to at most
/// `limit` bytes. False when reading fails, or no head within `limit` (or
/// the whole file) is decodable: the whole load then shows the trace.
fn grow_head(first: u64, limit: u64, head: &mut impl Growing) -> bool {
    let mut want = first.min(limit);
    loop {
        if !head.read_to(want) {
            return false;
        }
        if goblock_trace::head_is_decodable(head.bytes()) {
            return true;
        }
        if want >= limit || (head.bytes().len() as u64) < want {
            return false;
        }
        want = (want * 2).min(limit);
    }
}

/// Whether the file changed since `read` (its stamp when opened), or was
/// modified within the settle time.
fn still_changing(req: &LoadRequest<'_>, read: Option<Stamp>) -> bool {
    let Ok(now) = Stamp::of(req.path) else {
        return false;
    };
    read.is_some_and(|r| r != now) || now.mtime.elapsed().unwrap_or_default() < req.settle
}

fn load_input(req: &mut LoadRequest<'_>) -> Result<Loaded, LoadError> {
    if (req.cancelled)() {
        return Err(LoadError::Cancelled);
    }
    let open = OpenOptions {
        max_bytes: req.max_bytes,
        max_bytes_setting: "goblock.maxTraceBytes",
        snapshot: true,
        // Decoding starts while the copy is made (a 2 GB copy took 0.7-8 s
        // of system time here: docs/performance.md).
        background: true,
        copy_steps: None,
    };
    let len = Stamp::of(req.path).map_or(0, |s| s.len);
    let opts = Options {
        workspace: req.workspace,
        binary: req.binary.clone(),
        trace_index: req.trace_index,
        details: true,
        categories: req.categories,
        // The server's memory budget is 64 MB and a quarter of the trace
        // (tests/soak.rs): the decoder's worker threads only when what they
        // may hold fits in that quarter (traces of 1.4 GB and more).
        threads: Threads::Within(len / 4),
    };
    // A large trace shown for the first time: its beginning first, read
    // (bounded) before the whole file is copied.
    if req.previous.is_none()
        && len >= PREVIEW_MIN_BYTES
        && let Some((prefix, stamp)) = preview_head(
            req.path,
            &open,
            PREVIEW_BYTES,
            PREVIEW_MAX_BYTES.min(len / 2),
        )
    {
        let cancelled = req.cancelled;
        let mut cb = |_: Stage, _: u64, _: u64| {
            if cancelled() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        match goblock_analysis::analyze_bytes(req.path, &prefix, &opts, &mut cb) {
            Ok(analysis) => (req.preview)(
                Loaded {
                    analysis: Analysis::Trace(analysis),
                    stamp,
                    truncated: true,
                },
                prefix.len() as f64 / stamp.len as f64,
            ),
            Err(AnalysisError::Cancelled) => return Err(LoadError::Cancelled),
            // The whole trace is analysed next and says what is wrong.
            Err(_) => {}
        }
    }
    let input = input::open(req.path, &open).map_err(LoadError::Input)?;
    let stamp = input.stamp();
    if input.kind().is_dump_or_profile() {
        // Goroutine dumps and profiles: no preview (they read at > 100 MB/s),
        // and read once the copy is whole.
        input.wait_whole().map_err(LoadError::Input)?;
        let analysis = crate::dumps::load::analyze(
            &input,
            req.workspace,
            &req.binary,
            req.cancelled,
            &mut *req.progress,
        )
        .map_err(|e| match e {
            crate::dumps::load::DumpLoadError::Cancelled => LoadError::Cancelled,
            e => LoadError::Dump(e),
        })?;
        drop(input);
        let truncated = matches!(&analysis, Analysis::Dump(d) if d.summary.truncated);
        return Ok(Loaded {
            analysis,
            stamp,
            truncated,
        });
    }
    let mut last = u32::MAX;
    let cancelled = req.cancelled;
    let progress = &mut *req.progress;
    let mut cb = |stage: Stage, done: u64, total: u64| {
        if cancelled() {
            return ControlFlow::Break(());
        }
        let frac = if total > 0 {
            done as f64 / total as f64
        } else {
            0.0
        };
        let pct = match stage {
            Stage::Decode => (frac * 85.0) as u32,
            Stage::Symbolize => 85 + (frac * 10.0) as u32,
            Stage::Attribute => 95 + (frac * 5.0) as u32,
        };
        if pct != last {
            last = pct;
            progress(pct.min(100));
        }
        ControlFlow::Continue(())
    };
    let analysis = goblock_analysis::analyze_input(&input, &opts, &mut cb)?;
    drop(input);
    let truncated = is_truncated(&analysis);
    Ok(Loaded {
        analysis: Analysis::Trace(analysis),
        stamp,
        truncated,
    })
}

/// Whether the decoder said the trace ends early (its warnings name it
/// "truncated" or "incomplete").
fn is_truncated(a: &TraceAnalysis) -> bool {
    a.summary
        .warnings
        .iter()
        .any(|w| w.message.contains("truncat") || w.message.contains("incomplete"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> OpenOptions {
        OpenOptions {
            max_bytes: u64::MAX,
            max_bytes_setting: "goblock.maxTraceBytes",
            snapshot: false,
            background: false,
            copy_steps: None,
        }
    }

    /// A head too short for the first generation grows until it holds it
    /// (a real multi-generation Go 1.26 trace standing in for a large one
    /// with 20 MB generations); within a limit it cannot reach, no preview.
    #[test]
    fn the_preview_head_grows_to_a_whole_generation() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/go1.26/blocking-multigen.trace");
        let bytes = std::fs::read(&path).unwrap();
        /// The fixture read on as asked, from nothing.
        struct Fixture<'a> {
            all: &'a [u8],
            held: Vec<u8>,
            asked: Vec<u64>,
        }
        impl Growing for Fixture<'_> {
            fn read_to(&mut self, n: u64) -> bool {
                self.asked.push(n);
                let end = self.all.len().min(n as usize).max(self.held.len());
                self.held.extend_from_slice(&self.all[self.held.len()..end]);
                true
            }
            fn bytes(&self) -> &[u8] {
                &self.held
            }
        }
        let fixture = || Fixture {
            all: &bytes,
            held: Vec::new(),
            asked: Vec::new(),
        };
        let mut head = fixture();
        assert!(grow_head(1024, bytes.len() as u64 / 2, &mut head));
        assert!(goblock_trace::head_is_decodable(&head.held));
        // Its first generation ends after 6 KiB.
        assert_eq!(head.asked, [1024, 2048, 4096, 8192]);
        assert_eq!(head.held.len(), 8192);
        let mut head = fixture();
        assert!(!grow_head(1024, 6000, &mut head));
        assert_eq!(head.asked, [1024, 2048, 4096, 6000]);

        let (head, stamp) = preview_head(&path, &open(), 1024, bytes.len() as u64).unwrap();
        assert!(goblock_trace::head_is_decodable(&head));
        assert_eq!(stamp.len, bytes.len() as u64);
        // No trace at all.
        let text = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert!(preview_head(&text, &open(), 16, 4096).is_none());
    }
}
