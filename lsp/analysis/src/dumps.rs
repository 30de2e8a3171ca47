//! Goroutine dumps → "who is parked here right now", per source line.
//!
//! Streams a dump through goblock-dumps' parser, groups its goroutines by
//! identical stack and status (as panicparse does: one group per (stack,
//! status, creator)), and attributes each group's stack with the same
//! [`Attributor`] as traces (innermost workspace frame; same path mapping).
//! A goroutine whose frames are all library code (`go http.Serve(ln, nil)`
//! waiting in `net`) is charged to its `created by` line when that is user
//! code: the `go` statement, which a SIGQUIT dump also names through the
//! statement's wrapper frame and a debug=2 dump does not.
//! The frames are the dump's own: it carries file:line already.
//!
//! A file with several dumps (snapshots) keeps a per-snapshot count for
//! every line; the figures shown are the **last** snapshot's (the latest
//! state), so goroutines are never counted twice.
//!
//! Memory follows distinct stacks and the goroutines (id, parent and
//! minutes: 20 bytes each), not the file: the file is memory-mapped and
//! pages already parsed are released. Knows nothing of LSP or output formats.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use goblock_dumps::{DumpError, DumpSink, DumpSummary, Goroutine};
use goblock_trace::{Category, Frame, FrameId, StackId, Sym, Tables};
use rustc_hash::FxHashMap;

use crate::attribute::{Attributor, FrameView, Site};
use crate::lines::LineKey;
use crate::paths::Workspace;

/// Goroutines of one group: identical stack, status and creator.
#[derive(Clone, Debug)]
pub struct Group {
    /// How many goroutines.
    pub count: u64,
    /// Their ids, ascending.
    pub ids: Vec<u64>,
    /// Per goroutine (parallel to `ids`): its `N minutes`, 0 when none
    /// was printed (waiting < 1 min, or a dump that does not say).
    pub minutes_each: Vec<u32>,
    /// Per goroutine (parallel to `ids`): the goroutine that created it
    /// (`created by … in goroutine N`, Go 1.21+), 0 when not printed.
    pub parents: Vec<u64>,
    /// Status / wait reason as printed.
    pub status: Arc<str>,
    /// Shortest and longest `N minutes` printed (None: none printed).
    pub minutes: Option<(u32, u32)>,
    /// Goroutines whose header printed `N minutes` (waiting ≥ 1 min).
    pub waited_minutes: u64,
    /// Goroutines locked to their thread.
    pub locked: u64,
    /// Distinct label sets (as printed), at most [`MAX_LABEL_SETS`].
    pub labels: Vec<Arc<str>>,
    /// Where they were created (`created by` line, attributed).
    pub creator: Option<Site>,
    /// The function of the `created by` line.
    pub creator_function: Option<Arc<str>>,
    /// The stack, innermost first (function and site of each frame).
    pub stack: Vec<Site>,
}

/// The compiler's wrapper of a `go f(args)` statement (`main.main.gowrap1`,
/// Go 1.22+), which only GOTRACEBACK level 2 prints. Before 1.22 it is
/// named like a closure (`main.main.func5`): not told apart, so such a
/// SIGQUIT dump keeps the goroutines as parked at the statement.
fn is_go_wrapper(function: &str) -> bool {
    function
        .rsplit('.')
        .next()
        .and_then(|last| last.strip_prefix("gowrap"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Label sets kept per group.
pub const MAX_LABEL_SETS: usize = 8;

/// What a dump says about one line (one [`LineKey`]).
#[derive(Clone, Debug, Default)]
pub struct DumpLine {
    /// Function containing the line.
    pub function: Arc<str>,
    /// The file exists on this machine.
    pub found: bool,
    /// The file is in the workspace.
    pub in_workspace: bool,
    /// No user frame in these stacks (runtime, library goroutines).
    pub library: bool,
    /// What kind of code the line is (as for traces' lines).
    pub class: crate::paths::CodeClass,
    /// Goroutines of the last snapshot charged here although every frame
    /// of theirs is library code: this line is the user's `go` statement
    /// that started them (their `created by` site).
    pub started_here: u64,
    /// Goroutines of the last snapshot not started yet: their only frame
    /// is the wrapper of the `go` statement that created them, at that
    /// statement (`runnable`, Go 1.22+); this line is the statement. Not
    /// counted in `started_here`.
    pub not_started: u64,
    /// Goroutines parked here in the last snapshot.
    pub goroutines: u64,
    /// Per snapshot (index → goroutines), when the file has several.
    pub per_snapshot: BTreeMap<u32, u64>,
    /// Longest `N minutes` printed for these goroutines.
    pub max_minutes: Option<u32>,
    /// The status can never end (`select (no cases)`, nil channel).
    pub forever: bool,
    /// Innermost functions of the stacks (the blocking primitive).
    pub primitives: Vec<Arc<str>>,
    /// Groups of the last snapshot, largest first (shared with the server's
    /// annotations: a group can hold a million goroutine ids).
    pub groups: Vec<Arc<Group>>,
}

/// One dump of the file, as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Byte offset.
    pub offset: u64,
    /// The panic / fatal error / signal message.
    pub message: Option<String>,
    /// "all goroutines are asleep - deadlock!".
    pub deadlock: bool,
    /// Goroutines in it.
    pub goroutines: u64,
}

/// Per-line statistics of one dump file.
#[derive(Clone, Debug, Default)]
pub struct DumpTable {
    /// By (file, line, category, status).
    pub lines: HashMap<LineKey, DumpLine>,
    /// Goroutines of the last snapshot with no frame to attribute.
    pub unattributed: u64,
}

/// How many lines of a dump or profile have something, by kind of code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineCounts {
    /// Lines in user code (the workspace, or other code that is no library).
    pub user: usize,
    /// Lines of the runtime, the standard library and dependencies: stacks
    /// without user code.
    pub library: usize,
}

impl LineCounts {
    /// Lines exist but all are library code: nothing lands in user code.
    pub fn only_library(&self) -> bool {
        self.user == 0 && self.library > 0
    }
}

impl DumpTable {
    /// Lines with goroutines in the last snapshot, by kind of code.
    pub fn line_counts(&self) -> LineCounts {
        let mut c = LineCounts::default();
        for l in self.lines.values().filter(|l| l.goroutines > 0) {
            if l.library {
                c.library += 1;
            } else {
                c.user += 1;
            }
        }
        c
    }
}

/// An analysed dump file.
#[derive(Debug)]
pub struct DumpAnalysis {
    /// The file.
    pub path: PathBuf,
    /// The parser's summary (sizes, warnings).
    pub summary: DumpSummary,
    /// The dumps in the file.
    pub snapshots: Vec<SnapshotInfo>,
    /// Per-line statistics.
    pub table: DumpTable,
}

impl DumpAnalysis {
    /// The last snapshot (the one the figures are of).
    pub fn last(&self) -> Option<&SnapshotInfo> {
        self.snapshots.last()
    }
}

/// A dump that cannot be analysed.
#[derive(Debug, thiserror::Error)]
pub enum DumpAnalysisError {
    /// Not a dump.
    #[error("{path}: {source}")]
    Parse {
        /// File.
        path: PathBuf,
        /// Cause.
        source: DumpError,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct GroupKey {
    snapshot: u32,
    stack: StackId,
    status: Sym,
    creator: Option<FrameId>,
}

#[derive(Default)]
struct Acc {
    count: u64,
    /// (id, minutes or 0, parent or 0) per goroutine.
    members: Vec<(u64, u32, u64)>,
    minutes: Option<(u32, u32)>,
    waited_minutes: u64,
    locked: u64,
    labels: Vec<Arc<str>>,
    forever: bool,
    category: Option<Category>,
}

/// Folds goroutines into groups as the parser hands them out.
struct Folder<'a, 'c> {
    tables: Tables,
    frame_cache: FxHashMap<(&'a str, &'a str, u32), FrameId>,
    status_cache: FxHashMap<&'a str, Sym>,
    stack_buf: Vec<FrameId>,
    groups: FxHashMap<GroupKey, Acc>,
    release: &'c mut dyn FnMut(u64),
    progress: &'c mut dyn FnMut(u64, u64) -> ControlFlow<()>,
}

impl<'a> Folder<'a, '_> {
    fn frame(&mut self, func: &'a str, file: &'a str, line: u32) -> FrameId {
        if let Some(&id) = self.frame_cache.get(&(func, file, line)) {
            return id;
        }
        let f = Frame {
            pc: 0,
            func: self.tables.intern_str(func),
            file: self.tables.intern_str(file),
            line,
        };
        let id = self.tables.intern_frame(f);
        self.frame_cache.insert((func, file, line), id);
        id
    }
}

/// Scheduler frames a stack starts with when the dump shows runtime frames
/// (`GOTRACEBACK=system`, SIGQUIT): left out, so that the innermost frame —
/// the blocking primitive — is the function that parked (`runtime.chanrecv`,
/// `sync.(*Mutex).Lock`), as in traces and `GOTRACEBACK=all` dumps.
const PARK_FRAMES: &[&str] = &[
    "runtime.gopark",
    "runtime.goparkunlock",
    "runtime.mcall",
    "runtime.park_m",
];

impl<'a> DumpSink<'a> for Folder<'a, '_> {
    fn goroutine(&mut self, g: &Goroutine<'_, 'a>) {
        self.stack_buf.clear();
        let parked = g
            .frames
            .iter()
            .take_while(|f| PARK_FRAMES.contains(&f.func))
            .count()
            .min(g.frames.len().saturating_sub(1));
        for f in &g.frames[parked..] {
            let id = self.frame(f.func, f.file, f.line);
            self.stack_buf.push(id);
        }
        let stack = self.tables.intern_stack(&self.stack_buf);
        let creator = g.created_by.map(|c| self.frame(c.func, c.file, c.line));
        let status = match self.status_cache.get(g.status) {
            Some(&s) => s,
            None => {
                let s = self.tables.intern_str(g.status);
                self.status_cache.insert(g.status, s);
                s
            }
        };
        let acc = self
            .groups
            .entry(GroupKey {
                snapshot: g.snapshot,
                stack,
                status,
                creator,
            })
            .or_default();
        acc.count += 1;
        acc.members
            .push((g.id, g.minutes.unwrap_or(0), g.parent.unwrap_or(0)));
        if let Some(m) = g.minutes {
            acc.waited_minutes += 1;
            acc.minutes = Some(match acc.minutes {
                Some((lo, hi)) => (lo.min(m), hi.max(m)),
                None => (m, m),
            });
        }
        acc.locked += u64::from(g.locked);
        acc.forever |= g.forever;
        acc.category = Some(g.category);
        if let Some(l) = g.labels
            && acc.labels.len() < MAX_LABEL_SETS
            && !acc.labels.iter().any(|x| &**x == l)
        {
            acc.labels.push(l.into());
        }
    }

    fn progress(&mut self, done: u64, total: u64) -> ControlFlow<()> {
        (self.release)(done);
        (self.progress)(done, total)
    }
}

/// Analyses an opened input (see [`crate::input::open`]): its map is
/// parsed as it streams, and pages already parsed are released.
pub fn analyze_dump_input(
    input: &crate::input::Input,
    ws: &Workspace,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
) -> Result<DumpAnalysis, DumpAnalysisError> {
    const CHUNK: usize = 16 << 20;
    let mut released = 0usize;
    let mut release = |done: u64| {
        let upto = (done as usize).min(input.bytes().len()) / CHUNK * CHUNK;
        if upto > released {
            // Frames borrowed from these pages were interned before the
            // parser moved on; touching them again would re-read the file.
            input.release(released..upto);
            released = upto;
        }
    };
    analyze_with(input.path(), input.bytes(), ws, progress, &mut release)
}

/// Analyses dump bytes already in memory.
pub fn analyze_dump_bytes(
    path: &Path,
    bytes: &[u8],
    ws: &Workspace,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
) -> Result<DumpAnalysis, DumpAnalysisError> {
    analyze_with(path, bytes, ws, progress, &mut |_| {})
}

fn analyze_with(
    path: &Path,
    bytes: &[u8],
    ws: &Workspace,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    release: &mut dyn FnMut(u64),
) -> Result<DumpAnalysis, DumpAnalysisError> {
    let mut folder = Folder {
        tables: Tables::new(),
        frame_cache: FxHashMap::default(),
        status_cache: FxHashMap::default(),
        stack_buf: Vec::new(),
        groups: FxHashMap::default(),
        release,
        progress,
    };
    let summary = goblock_dumps::parse_dump(bytes, &mut folder).map_err(|source| {
        DumpAnalysisError::Parse {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let Folder { tables, groups, .. } = folder;
    let snapshots: Vec<SnapshotInfo> = summary
        .snapshots
        .iter()
        .map(|s| SnapshotInfo {
            offset: s.offset,
            message: s.message.clone(),
            deadlock: s.deadlock,
            goroutines: s.goroutines,
        })
        .collect();
    let table = build_table(&tables, groups, ws, snapshots.len() as u32);
    Ok(DumpAnalysis {
        path: path.to_path_buf(),
        summary,
        snapshots,
        table,
    })
}

fn build_table(
    tables: &Tables,
    groups: FxHashMap<GroupKey, Acc>,
    ws: &Workspace,
    snapshots: u32,
) -> DumpTable {
    let last = snapshots.saturating_sub(1);
    let view = FrameView::trace(tables);
    let mut att = Attributor::new(ws, view);
    let mut out = DumpTable::default();
    // Deterministic order: by snapshot, then stack, status, creator.
    let mut groups: Vec<(GroupKey, Acc)> = groups.into_iter().collect();
    groups.sort_by_key(|(k, _)| (k.snapshot, k.stack, k.status, k.creator));
    let mut creators: HashMap<FrameId, Site> = HashMap::new();
    for (key, mut acc) in groups {
        let a = att.attribute(key.stack);
        let status: Arc<str> = tables.str(key.status).into();
        let creator = key.creator.map(|c| {
            let fr = tables.frame(c);
            let site = creators
                .entry(c)
                .or_insert_with(|| att.site_of(tables.str(fr.func), tables.str(fr.file), fr.line))
                .clone();
            (site, Arc::<str>::from(tables.str(fr.func)))
        });
        let Some(mut flat) = a.flat.clone() else {
            if key.snapshot == last {
                out.unattributed += acc.count;
            }
            continue;
        };
        // Only library frames (`go http.Serve(ln, nil)` parked in net):
        // charged to the user's `go` statement that started them. A
        // SIGQUIT dump prints that statement's wrapper frame
        // (`main.main.gowrap1`, `main.main.func5` before Go 1.22) at the
        // same line, which debug=2 dumps, `runtime.Stack` and panics hide
        // (runtime/traceback.go: showfuncinfo): every form lands here.
        // A SIGQUIT dump's innermost program frame is that wrapper itself
        // (Go 1.22+: `gowrapN`), at the creator's line: started there too.
        let wrapper_only = is_go_wrapper(&flat.function)
            && creator
                .as_ref()
                .is_some_and(|(c, _)| c.file == flat.file && c.line == flat.line);
        let started_here = match &creator {
            Some((c, _)) if (flat.library || wrapper_only) && !c.library => {
                flat = c.clone();
                true
            }
            _ => false,
        };
        // Not started yet: the wrapper is the innermost frame, at the
        // statement — no frame of the goroutine has run (a panic or
        // SIGQUIT right after the `go`).
        let not_started = key.creator.is_some_and(|c| {
            let created = tables.frame(c);
            tables.stack(key.stack).first().is_some_and(|&f| {
                let f = tables.frame(f);
                is_go_wrapper(tables.str(f.func))
                    && (f.file, f.line) == (created.file, created.line)
            })
        });
        let lk = LineKey {
            file: flat.file.clone(),
            line: flat.line,
            category: acc.category.unwrap_or(Category::Other),
            reason: status.clone(),
        };
        let e = out.lines.entry(lk).or_insert_with(|| DumpLine {
            function: flat.function.clone(),
            found: flat.found,
            in_workspace: flat.in_workspace,
            library: flat.library,
            class: flat.class,
            ..Default::default()
        });
        *e.per_snapshot.entry(key.snapshot).or_default() += acc.count;
        if key.snapshot != last {
            continue;
        }
        e.goroutines += acc.count;
        e.forever |= acc.forever;
        if let Some((_, hi)) = acc.minutes {
            e.max_minutes = Some(e.max_minutes.map_or(hi, |m| m.max(hi)));
        }
        // A goroutine not started yet is blocked in nothing: its innermost
        // frame is the `go` statement's wrapper.
        if let Some(p) = &a.primitive
            && !not_started
            && !e.primitives.contains(p)
        {
            e.primitives.push(p.clone());
        }
        if not_started {
            e.not_started += acc.count;
        } else if started_here {
            e.started_here += acc.count;
        }
        let (creator, creator_function) = match creator {
            Some((site, func)) => (Some(site), Some(func)),
            None => (None, None),
        };
        let stack: Vec<Site> = tables
            .stack(key.stack)
            .iter()
            .map(|&f| {
                let fr = tables.frame(f);
                att.site_of(tables.str(fr.func), tables.str(fr.file), fr.line)
            })
            .collect();
        acc.members.sort_unstable();
        e.groups.push(Arc::new(Group {
            count: acc.count,
            ids: acc.members.iter().map(|m| m.0).collect(),
            minutes_each: acc.members.iter().map(|m| m.1).collect(),
            parents: acc.members.iter().map(|m| m.2).collect(),
            status,
            minutes: acc.minutes,
            waited_minutes: acc.waited_minutes,
            locked: acc.locked,
            labels: acc.labels,
            creator,
            creator_function,
            stack,
        }));
    }
    for l in out.lines.values_mut() {
        l.groups
            .sort_by(|a, b| b.count.cmp(&a.count).then(a.ids.cmp(&b.ids)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::is_go_wrapper;

    #[test]
    fn go_statement_wrappers() {
        assert!(is_go_wrapper("main.main.gowrap1"));
        assert!(is_go_wrapper(
            "example.com/shop/pipeline.(*Stage).Run.gowrap12"
        ));
        assert!(!is_go_wrapper("main.main.func5"));
        assert!(!is_go_wrapper("main.gowrap"));
        assert!(!is_go_wrapper("main.gowrapper"));
        assert!(!is_go_wrapper("gowrap1x"));
    }
}
