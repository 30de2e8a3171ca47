//! The immutable state requests read: the loaded traces, their merged
//! per-line table and the annotation index for the current settings.
//! A load or a settings change builds a new [`Snapshot`] off the message
//! loop; the server swaps it in atomically.
//!
//! Knows no LSP types.

use std::path::PathBuf;
use std::sync::Arc;

use goblock_analysis::LineTable;

use crate::annotations::{self, AnnotationIndex, FileAnnotations, TraceMeta};
use crate::client_paths::ClientPaths;
use crate::config::Settings;
use crate::loader::{Analysis, Loaded};
use crate::origins::Origins;
use crate::stale::BuiltDecls;

/// One loaded trace file.
#[derive(Debug)]
pub struct TraceEntry {
    /// Stable index of the trace (per path, for the server's lifetime).
    pub id: u32,
    /// File.
    pub path: PathBuf,
    /// Its per-line statistics (shared with the snapshot when alone).
    pub table: Arc<LineTable>,
    /// The rest of its analysis (the table taken out).
    pub loaded: Loaded,
    /// A preview of a large trace: the share of the file analysed so far.
    pub partial: Option<f64>,
}

impl TraceEntry {
    /// Wraps a load result, moving a trace's table behind an `Arc` (a
    /// dump's or profile's stays in its analysis: `crate::dumps::lines`).
    pub fn new(id: u32, path: PathBuf, mut loaded: Loaded) -> Self {
        let table = match &mut loaded.analysis {
            Analysis::Trace(a) => Arc::new(std::mem::take(&mut a.table)),
            _ => Arc::new(LineTable::default()),
        };
        TraceEntry {
            id,
            path,
            table,
            loaded,
            partial: None,
        }
    }

    /// No line has anything: nothing to show. A trace's lines are in
    /// [`TraceEntry::table`] (moved out of [`Loaded`]), so
    /// [`Loaded::is_empty`] cannot tell for a trace once wrapped.
    pub fn is_empty(&self) -> bool {
        match &self.loaded.analysis {
            Analysis::Trace(_) => self.table.lines.is_empty(),
            _ => self.loaded.is_empty(),
        }
    }
}

/// A trace that failed to load, for the status.
#[derive(Clone, Debug)]
pub struct LoadFailure {
    /// File.
    pub path: PathBuf,
    /// Message.
    pub message: String,
}

/// Everything requests read.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Increases with every swap.
    pub generation: u64,
    /// Settings the index was built with.
    pub settings: Arc<Settings>,
    /// Loaded inputs: traces, goroutine dumps, profiles.
    pub traces: Vec<Arc<TraceEntry>>,
    /// Failed loads.
    pub failures: Vec<LoadFailure>,
    /// Merged per-line statistics of all traces.
    pub table: Arc<LineTable>,
    /// Annotations per file.
    pub index: AnnotationIndex,
    /// Trace names for per-trace breakdowns.
    pub metas: Vec<TraceMeta>,
    /// Function declaration lines as built (DWARF), when known.
    pub built_decls: Arc<BuiltDecls>,
    /// Modification time of the oldest loaded input (a source file changed
    /// after it may not match the lines recorded).
    pub traced_at: Option<std::time::SystemTime>,
    /// How the client names files (the index is keyed by those names).
    pub client_paths: Arc<ClientPaths>,
    /// The workspace files' texts at `traced_at`, when seen.
    pub origins: Arc<Origins>,
}

impl Snapshot {
    /// Builds a snapshot of `traces` (merging their tables); the files'
    /// texts at the trace are kept from `prev` (the snapshot it replaces)
    /// when its inputs were recorded at the same time.
    pub fn build(
        generation: u64,
        settings: Arc<Settings>,
        traces: Vec<Arc<TraceEntry>>,
        failures: Vec<LoadFailure>,
        client_paths: Arc<ClientPaths>,
        prev: &Origins,
    ) -> Snapshot {
        let table = match traces.as_slice() {
            [one] => one.table.clone(),
            many => {
                let mut t = LineTable::default();
                for e in many {
                    t.merge(&e.table);
                }
                Arc::new(t)
            }
        };
        Self::with_table(
            generation,
            settings,
            traces,
            failures,
            table,
            client_paths,
            prev,
        )
    }

    /// The annotations of a file, by the client's name of it or any other
    /// (a canonical path of an open document).
    pub fn file_of(&self, path: &str) -> Option<&Arc<FileAnnotations>> {
        self.index.files.get(path).or_else(|| {
            let name = self.client_paths.display(path)?;
            self.index.files.get(name.as_str())
        })
    }

    fn with_table(
        generation: u64,
        settings: Arc<Settings>,
        traces: Vec<Arc<TraceEntry>>,
        failures: Vec<LoadFailure>,
        table: Arc<LineTable>,
        client_paths: Arc<ClientPaths>,
        prev: &Origins,
    ) -> Snapshot {
        let mut index = annotations::build(&table, &settings);
        crate::dumps::lines::add(&mut index, &traces, &settings);
        index.rename_files(|p| client_paths.display(p));
        let built = BuiltDecls::of_traces(traces.iter().filter_map(|t| t.loaded.analysis.trace()));
        // The oldest input: a source changed after it may not match its lines.
        let traced_at = traces.iter().map(|t| t.loaded.stamp.mtime).min();
        let inputs: Vec<PathBuf> = traces.iter().map(|t| t.path.clone()).collect();
        let origins = Origins::collect(&index, &inputs, traced_at, &client_paths, prev);
        let metas = traces
            .iter()
            .map(|t| TraceMeta {
                id: t.id,
                partial: t.partial,
                name: t
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| t.path.display().to_string()),
            })
            .collect();
        Snapshot {
            generation,
            settings,
            traces,
            failures,
            table,
            index,
            metas,
            built_decls: Arc::new(built),
            traced_at,
            client_paths,
            origins: Arc::new(origins),
        }
    }

    /// The same traces under new settings (re-rendered, not re-analysed).
    pub fn rerender(&self, generation: u64, settings: Arc<Settings>) -> Snapshot {
        Self::with_table(
            generation,
            settings,
            self.traces.clone(),
            self.failures.clone(),
            self.table.clone(),
            self.client_paths.clone(),
            &self.origins,
        )
    }
}
