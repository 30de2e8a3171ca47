//! The `goblock/status` notification ([`crate::protocol::StatusParams`]):
//! what is shown, whether a load runs, what failed (the state is `failed`
//! only when nothing is shown) — sent when a load starts, when what is
//! shown changes and when a load is cancelled, to clients that asked for
//! it (`capabilities.experimental.goblockStatus`), so that they refresh
//! their views instead of guessing from diagnostics.
//! Identical consecutive statuses are sent once.
//!
//! Builds the params from the session; sending is the [`Outbox`]'s.
//!
//! [`Outbox`]: crate::publish::Outbox

use goblock_analysis::units;

use crate::loader::Analysis;
use crate::protocol::{LoadState, StatusInput, StatusParams};
use crate::session::Session;
use crate::snapshot::Snapshot;

/// The status of `snap` while a load runs (`loading`) or not.
pub(crate) fn params(snap: &Snapshot, loading: bool, message: Option<String>) -> StatusParams {
    let failures = crate::commands::failures(snap);
    let inputs: Vec<StatusInput> = snap
        .traces
        .iter()
        .map(|t| {
            let (kind, go_version, count) = match &t.loaded.analysis {
                Analysis::Trace(a) => (
                    "trace".to_owned(),
                    Some(a.summary.go_version.clone()),
                    a.episodes,
                ),
                Analysis::Dump(d) => (
                    "goroutine-dump".to_owned(),
                    None,
                    d.last().map_or(0, |s| s.goroutines),
                ),
                Analysis::Profile(p) => (p.kind.name().to_owned(), None, p.samples),
            };
            StatusInput {
                path: t.path.clone(),
                kind,
                go_version,
                count,
                partial: t.partial,
            }
        })
        .collect();
    // Failed only when nothing can be shown: inputs shown beside failures
    // are a loaded session that also lists what it could not use.
    let state = if loading {
        LoadState::Loading
    } else if inputs.is_empty() && !failures.is_empty() {
        LoadState::Failed
    } else {
        LoadState::Loaded
    };
    let message = message.unwrap_or_else(|| {
        if loading {
            "loading".to_owned()
        } else {
            crate::commands::summary(snap)
        }
    });
    StatusParams {
        state,
        inputs,
        failures,
        lines: snap
            .index
            .files
            .values()
            .map(|f| f.lines.len() as u64)
            .sum(),
        files: snap.index.files.len() as u64,
        unmapped: snap.index.unmapped.len() as u64,
        total_ns: snap.index.total_ns,
        total_label: units::duration(snap.index.total_ns),
        message,
    }
}

impl Session {
    /// Sends `goblock/status` for the current state, unless the client did
    /// not ask for it or it is what was sent last.
    pub(crate) fn send_status(&mut self, message: Option<String>) {
        if !self.features.status {
            return;
        }
        let p = params(&self.snapshot, self.loads.running.is_some(), message);
        if self.last_status.as_ref() == Some(&p) {
            return;
        }
        self.last_status = Some(p.clone());
        self.out.status(p);
    }
}
