//! Loading one goroutine dump or pprof profile for the server, on the
//! calling (blocking) thread: the input is already open (the loader opened
//! and sniffed it); this runs the analysis of its kind with progress and
//! cancellation and says whether the file looks cut (a dump still being
//! written). Knows no LSP types.

use std::ops::ControlFlow;

use goblock_analysis::dumps::{DumpAnalysisError, analyze_dump_input};
use goblock_analysis::input::{Input, Kind};
use goblock_analysis::profiles::{ProfileAnalysisError, analyze_profile_input};
use goblock_analysis::{BinaryChoice, Workspace};

use crate::loader::Analysis;

/// A dump or profile that cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum DumpLoadError {
    /// The goroutine dump is unreadable.
    #[error(transparent)]
    Dump(DumpAnalysisError),
    /// The profile is unreadable, or of a kind goblock does not show.
    #[error(transparent)]
    Profile(ProfileAnalysisError),
    /// Superseded by a newer load.
    #[error("cancelled")]
    Cancelled,
}

impl DumpLoadError {
    /// Whether the file may only be incomplete (no goroutine yet, a cut
    /// gzip stream): worth another look while it is still being written.
    pub fn may_be_incomplete(&self) -> bool {
        matches!(
            self,
            DumpLoadError::Dump(_) | DumpLoadError::Profile(ProfileAnalysisError::Read { .. })
        )
    }
}

/// Analyses an opened dump or profile. `progress` gets percents (0–100);
/// `cancelled` is polled.
pub fn analyze(
    input: &Input,
    ws: &Workspace,
    binary: &BinaryChoice,
    cancelled: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(u32),
) -> Result<Analysis, DumpLoadError> {
    let mut last = u32::MAX;
    let mut cb = |done: u64, total: u64| {
        if cancelled() {
            return ControlFlow::Break(());
        }
        let pct = done
            .saturating_mul(100)
            .checked_div(total)
            .map_or(0, |p| p.min(100) as u32);
        if pct != last {
            last = pct;
            progress(pct);
        }
        ControlFlow::Continue(())
    };
    if input.kind() == Kind::GoroutineDump {
        match analyze_dump_input(input, ws, &mut cb) {
            Ok(d) => Ok(Analysis::Dump(d)),
            Err(DumpAnalysisError::Parse {
                source: goblock_dumps::DumpError::Cancelled,
                ..
            }) => Err(DumpLoadError::Cancelled),
            Err(e) => Err(DumpLoadError::Dump(e)),
        }
    } else {
        match analyze_profile_input(input, ws, binary, &mut cb) {
            Ok(p) => Ok(Analysis::Profile(p)),
            Err(ProfileAnalysisError::Cancelled) => Err(DumpLoadError::Cancelled),
            Err(e) => Err(DumpLoadError::Profile(e)),
        }
    }
}
