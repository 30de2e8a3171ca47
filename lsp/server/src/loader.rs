//! Loads one trace file through the analysis pipeline, on the calling
//! (blocking) thread: copies the file into memory while checking that its
//! size and modification time stay put (a trace being rewritten is retried,
//! never memory-mapped: a shrinking map would fault), then runs
//! `goblock_analysis::analyze_bytes` with progress and cancellation.
//!
//! Knows no LSP types; scheduling, debouncing and publishing are the
//! server's.

use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use goblock_analysis::{AnalysisError, BinaryChoice, Options, Stage, TraceAnalysis, Workspace};
use goblock_trace::Categories;

/// Size and modification time of a file, to notice rewrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Bytes.
    pub len: u64,
    /// Modification time.
    pub mtime: SystemTime,
}

impl Stamp {
    /// The stamp of a file now.
    pub fn of(path: &Path) -> std::io::Result<Stamp> {
        let m = std::fs::metadata(path)?;
        Ok(Stamp {
            len: m.len(),
            mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        })
    }
}

/// Why a load failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file changed while it was read (still being written).
    #[error("{0}: the file changed while it was read (still being written?)")]
    Unstable(PathBuf),
    /// The analysis refused it.
    #[error(transparent)]
    Analysis(AnalysisError),
    /// Superseded by a newer load.
    #[error("cancelled")]
    Cancelled,
}

impl LoadError {
    /// Whether retrying later may help (the file may still be being written).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            LoadError::Unstable(_) | LoadError::Analysis(AnalysisError::Decode { .. })
        )
    }
}

/// A loaded trace.
#[derive(Debug)]
pub struct Loaded {
    /// The analysis.
    pub analysis: TraceAnalysis,
    /// The file's stamp when it was read.
    pub stamp: Stamp,
    /// The decoder warned the trace is truncated (may still be being written).
    pub truncated: bool,
}

/// Reads a whole file, refusing it when its stamp changes during the read.
pub fn read_stable(path: &Path) -> Result<(Vec<u8>, Stamp), LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let before = Stamp::of(path).map_err(io)?;
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut buf = Vec::with_capacity(before.len as usize);
    f.read_to_end(&mut buf).map_err(io)?;
    let after = Stamp::of(path).map_err(io)?;
    if after != before || buf.len() as u64 != before.len {
        return Err(LoadError::Unstable(path.to_path_buf()));
    }
    Ok((buf, before))
}

/// Traces at least this large get a quick preview from their beginning
/// before the full load.
pub const PREVIEW_MIN_BYTES: u64 = 48 << 20;
/// How much of a large trace the preview decodes.
pub const PREVIEW_BYTES: u64 = 16 << 20;

/// Loads only the first `PREVIEW_BYTES` of a large trace (decoded as a
/// truncated trace), for a first picture while the whole file loads.
/// `None` when the file is small or the prefix cannot be analysed.
pub fn preview(
    path: &Path,
    trace_index: u32,
    workspace: &Workspace,
    binary: BinaryChoice,
    cancelled: &dyn Fn() -> bool,
) -> Option<(Loaded, f64)> {
    let stamp = Stamp::of(path).ok()?;
    if stamp.len < PREVIEW_MIN_BYTES {
        return None;
    }
    let mut buf = Vec::with_capacity(PREVIEW_BYTES as usize);
    std::fs::File::open(path)
        .ok()?
        .take(PREVIEW_BYTES)
        .read_to_end(&mut buf)
        .ok()?;
    let opts = Options {
        workspace,
        binary,
        trace_index,
        details: true,
        categories: Categories::ALL,
    };
    let mut cb = |_: Stage, _: u64, _: u64| {
        if cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let analysis = goblock_analysis::analyze_bytes(path, &buf, &opts, &mut cb).ok()?;
    let fraction = buf.len() as f64 / stamp.len as f64;
    Some((
        Loaded {
            analysis,
            stamp,
            truncated: true,
        },
        fraction,
    ))
}

/// Loads `path` as trace number `trace_index`. `progress(percent)` is called
/// as work advances; `cancelled()` is polled and aborts the load.
pub fn load(
    path: &Path,
    trace_index: u32,
    workspace: &Workspace,
    binary: BinaryChoice,
    cancelled: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(u32),
) -> Result<Loaded, LoadError> {
    if cancelled() {
        return Err(LoadError::Cancelled);
    }
    let (bytes, stamp) = read_stable(path)?;
    let opts = Options {
        workspace,
        binary,
        trace_index,
        details: true,
        categories: Categories::ALL,
    };
    let mut last = u32::MAX;
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
    let analysis =
        goblock_analysis::analyze_bytes(path, &bytes, &opts, &mut cb).map_err(|e| match e {
            AnalysisError::Cancelled => LoadError::Cancelled,
            e => LoadError::Analysis(e),
        })?;
    drop(bytes);
    let truncated = analysis
        .summary
        .warnings
        .iter()
        .any(|w| w.message.contains("truncat"));
    Ok(Loaded {
        analysis,
        stamp,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_refuses_missing() {
        let p = std::env::temp_dir().join(format!("goblock-loader-{}", std::process::id()));
        std::fs::write(&p, b"hello").unwrap();
        let (b, s) = read_stable(&p).unwrap();
        assert_eq!(b, b"hello");
        assert_eq!(s.len, 5);
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(read_stable(&p), Err(LoadError::Io { .. })));
    }
}
