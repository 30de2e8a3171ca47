//! Per-line models of the loaded goroutine dumps and pprof profiles, merged
//! into the [`AnnotationIndex`] beside the traces' figures: a line gets
//! [`ParkedNow`] (goroutines parked there in the dumps' last snapshots and
//! in goroutine profiles) and [`Sampled`] (contention in block and mutex
//! profiles), each with the level its diagnostic gets.
//!
//! Unlike quantities are never summed: goroutines parked now, sampled
//! contentions and traced blocking stay apart, and so do block and mutex
//! profiles. Dump lines follow `goblock.categories` (their statuses are
//! categorised like trace reasons), except waits that can never end and
//! every line of a deadlocked dump, which are always shown; profile lines
//! are not filtered (block and mutex profiles hold synchronisation waits
//! only; goroutine profiles have no wait reasons). Lines of files not
//! found on this machine go to the index's unmapped list, as traces' do.
//!
//! Builds models only (the text is `render::dumps`'s); knows no LSP types.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use goblock_analysis::Totals;
use goblock_analysis::dumps::{DumpAnalysis, Group};
use goblock_analysis::profiles::ProfileAnalysis;
use goblock_dumps::ProfileKind;

use crate::annotations::{Annotation, AnnotationIndex, FileAnnotations, Level, Unmapped};
use crate::config::Settings;
use crate::loader::Analysis;
use crate::snapshot::TraceEntry;

/// A group of goroutines (identical stack, status and creator) of one
/// loaded dump.
#[derive(Clone, Debug)]
pub struct GroupRow {
    /// The dump's input id (as in [`TraceEntry::id`]).
    pub input: u32,
    /// The group (ids, status, minutes, creator).
    pub group: Arc<Group>,
}

/// How a dump line is flagged, least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParkedLevel {
    /// Goroutines are parked here: a hint.
    Parked,
    /// More than `goblock.dumps.parkedThreshold` goroutines have waited
    /// here for at least a minute: "likely leak".
    Leak,
    /// A wait that can never end (`select (no cases)`, a nil channel).
    Forever,
    /// The dump is "all goroutines are asleep - deadlock!".
    Deadlock,
}

/// What goroutine dumps and goroutine profiles say about one line.
#[derive(Clone, Debug, Default)]
pub struct ParkedNow {
    /// Goroutines parked here in the dumps (their last snapshot), summed
    /// over the loaded dump files.
    pub goroutines: u64,
    /// Goroutines here in goroutine profiles (no ids, statuses or minutes).
    pub profiled: u64,
    /// Of `goroutines`: those whose frames are all library code, shown on
    /// the `go` statement that started them (their `created by` line),
    /// not parked at it.
    pub started_here: u64,
    /// Of `goroutines`: those not started yet when the dump was taken (a
    /// panic or SIGQUIT right after the `go` statement): this line is the
    /// statement that created them; not counted in `started_here`.
    pub not_started: u64,
    /// Statuses with their goroutines (dumps), most first.
    pub statuses: Vec<(Arc<str>, u64)>,
    /// Shortest and longest `N minutes` printed.
    pub minutes: Option<(u32, u32)>,
    /// Goroutines whose wait printed `N minutes` (≥ 1 min).
    pub waited_minutes: u64,
    /// A wait here can never end.
    pub forever: bool,
    /// Goroutines here come from a deadlocked dump.
    pub deadlock: bool,
    /// The groups, largest first.
    pub groups: Vec<GroupRow>,
    /// Goroutines per input (dumps and goroutine profiles).
    pub per_input: BTreeMap<u32, u64>,
    /// Innermost functions of the stacks (the blocking primitive).
    pub primitives: Vec<Arc<str>>,
    /// pprof label sets (goroutine profiles), at most [`MAX_LABEL_SETS`].
    pub labels: Vec<Arc<str>>,
    /// The message each contributing dump starts with (`panic: …`, `fatal
    /// error: …`, `SIGQUIT: quit`), by input.
    pub messages: Vec<(u32, Arc<str>)>,
    /// `goblock.dumps.parkedThreshold` when built (for the text).
    pub threshold: u64,
    /// The diagnostic's level.
    pub level: Option<ParkedLevel>,
}

impl ParkedNow {
    /// Goroutines here, dumps and goroutine profiles together (they are
    /// the same quantity: goroutines parked at the line when taken).
    pub fn total(&self) -> u64 {
        self.goroutines + self.profiled
    }
}

/// Contention of one profile kind (block or mutex) on one line.
#[derive(Clone, Debug, Default)]
pub struct ProfileFigures {
    /// Contentions and delay (ns) charged here (innermost workspace frame).
    pub flat: Totals,
    /// Share of the delay of all loaded profiles of this kind (0–1).
    pub share: f64,
    /// Per input.
    pub per_input: BTreeMap<u32, Totals>,
    /// Innermost functions of the stacks.
    pub primitives: Vec<Arc<str>>,
    /// pprof label sets of the samples, at most [`MAX_LABEL_SETS`].
    pub labels: Vec<Arc<str>>,
    /// The diagnostic's level, when over the thresholds.
    pub level: Option<Level>,
}

/// What block and mutex profiles say about one line (sampled).
#[derive(Clone, Debug, Default)]
pub struct Sampled {
    /// Block profile: the waiters' stacks.
    pub block: Option<ProfileFigures>,
    /// Mutex profile: the stacks are the unlockers' — where contention ended.
    pub mutex: Option<ProfileFigures>,
}

/// Label sets kept per line.
pub const MAX_LABEL_SETS: usize = 8;

#[derive(Default)]
struct Acc {
    function: Arc<str>,
    in_workspace: bool,
    parked: Option<ParkedNow>,
    block: Option<ProfileFigures>,
    mutex: Option<ProfileFigures>,
}

impl Acc {
    /// The accumulator of `file:line` (made on first use, named after the
    /// first input's function), marked in the workspace if any input says so.
    fn at<'m>(
        by_line: &'m mut HashMap<(Arc<str>, u32), Acc>,
        file: &Arc<str>,
        line: u32,
        function: &Arc<str>,
        in_workspace: bool,
    ) -> &'m mut Acc {
        let acc = by_line.entry((file.clone(), line)).or_insert_with(|| Acc {
            function: function.clone(),
            ..Default::default()
        });
        acc.in_workspace |= in_workspace;
        acc
    }
}

fn add_unique(v: &mut Vec<Arc<str>>, x: &Arc<str>, max: usize) {
    if v.len() < max && !v.contains(x) {
        v.push(x.clone());
    }
}

fn add_unmapped(u: &mut HashMap<Arc<str>, (Totals, Vec<u32>)>, file: &Arc<str>, line: u32, n: u64) {
    let e = u.entry(file.clone()).or_default();
    e.0.count += n;
    if !e.1.contains(&line) {
        e.1.push(line);
    }
}

/// Adds the dumps and profiles among `entries` to `index` (built from the
/// traces' table under the same settings).
pub fn add(index: &mut AnnotationIndex, entries: &[Arc<TraceEntry>], settings: &Settings) {
    let mut by_line: HashMap<(Arc<str>, u32), Acc> = HashMap::new();
    let mut unmapped: HashMap<Arc<str>, (Totals, Vec<u32>)> = HashMap::new();
    for e in entries {
        match &e.loaded.analysis {
            Analysis::Trace(_) => {}
            Analysis::Dump(d) => add_dump(&mut by_line, &mut unmapped, e.id, d, settings),
            Analysis::Profile(p) => add_profile(&mut by_line, &mut unmapped, e.id, p),
        }
    }
    if by_line.is_empty() && unmapped.is_empty() {
        return;
    }
    finish_levels(&mut by_line, settings);
    for ((file, line), acc) in by_line {
        let fa = index.files.entry(file.clone()).or_insert_with(|| {
            Arc::new(FileAnnotations {
                path: file.clone(),
                in_workspace: acc.in_workspace,
                lines: Vec::new(),
            })
        });
        let fa = Arc::make_mut(fa);
        fa.in_workspace |= acc.in_workspace;
        let i = match fa.lines.binary_search_by_key(&line, |a| a.line) {
            Ok(i) => i,
            Err(i) => {
                fa.lines.insert(
                    i,
                    Annotation {
                        line,
                        function: acc.function.clone(),
                        in_workspace: acc.in_workspace,
                        ..Default::default()
                    },
                );
                i
            }
        };
        let a = &mut fa.lines[i];
        a.in_workspace |= acc.in_workspace;
        a.parked_now = acc.parked.map(Box::new);
        if acc.block.is_some() || acc.mutex.is_some() {
            a.sampled = Some(Box::new(Sampled {
                block: acc.block,
                mutex: acc.mutex,
            }));
        }
    }
    for (recorded, (total, lines)) in unmapped {
        match index.unmapped.iter_mut().find(|u| u.recorded == recorded) {
            Some(u) => {
                u.total.count += total.count;
                u.lines += lines.len();
            }
            None => index.unmapped.push(Unmapped {
                recorded,
                total,
                lines: lines.len(),
            }),
        }
    }
}

fn add_dump(
    by_line: &mut HashMap<(Arc<str>, u32), Acc>,
    unmapped: &mut HashMap<Arc<str>, (Totals, Vec<u32>)>,
    id: u32,
    d: &DumpAnalysis,
    settings: &Settings,
) {
    let last = d.last();
    let deadlock = last.is_some_and(|s| s.deadlock);
    let message: Option<Arc<str>> = last.and_then(|s| s.message.as_deref()).map(Arc::from);
    // Deterministic order: by key.
    let mut lines: Vec<_> = d.table.lines.iter().collect();
    lines.sort_by(|a, b| a.0.cmp(b.0));
    for (key, l) in lines {
        if l.goroutines == 0 {
            continue; // only in earlier snapshots of the file
        }
        if !(settings.categories.contains(&key.category) || l.forever || deadlock) {
            continue;
        }
        if !l.found {
            add_unmapped(unmapped, &key.file, key.line, l.goroutines);
            continue;
        }
        let acc = Acc::at(by_line, &key.file, key.line, &l.function, l.in_workspace);
        let p = acc.parked.get_or_insert_with(|| ParkedNow {
            threshold: settings.dumps.parked_threshold,
            ..Default::default()
        });
        p.goroutines += l.goroutines;
        p.started_here += l.started_here;
        p.not_started += l.not_started;
        match p.statuses.iter_mut().find(|s| s.0 == key.reason) {
            Some(s) => s.1 += l.goroutines,
            None => p.statuses.push((key.reason.clone(), l.goroutines)),
        }
        p.forever |= l.forever;
        p.deadlock |= deadlock;
        *p.per_input.entry(id).or_default() += l.goroutines;
        for prim in &l.primitives {
            add_unique(&mut p.primitives, prim, usize::MAX);
        }
        for g in &l.groups {
            if let Some((lo, hi)) = g.minutes {
                p.minutes = Some(match p.minutes {
                    Some((a, b)) => (a.min(lo), b.max(hi)),
                    None => (lo, hi),
                });
            }
            p.waited_minutes += g.waited_minutes;
            p.groups.push(GroupRow {
                input: id,
                group: g.clone(),
            });
        }
        if let Some(m) = &message
            && !p.messages.iter().any(|x| x.0 == id)
        {
            p.messages.push((id, m.clone()));
        }
    }
}

fn add_profile(
    by_line: &mut HashMap<(Arc<str>, u32), Acc>,
    unmapped: &mut HashMap<Arc<str>, (Totals, Vec<u32>)>,
    id: u32,
    p: &ProfileAnalysis,
) {
    let kind = p.kind.clone();
    if !matches!(
        kind,
        ProfileKind::Goroutine | ProfileKind::Block | ProfileKind::Mutex
    ) {
        return;
    }
    for (key, l) in p.table.hottest() {
        if !l.found {
            add_unmapped(unmapped, &key.file, key.line, l.flat.count);
            continue;
        }
        let acc = Acc::at(by_line, &key.file, key.line, &l.function, l.in_workspace);
        if kind == ProfileKind::Goroutine {
            let pn = acc.parked.get_or_insert_with(ParkedNow::default);
            pn.profiled += l.flat.count;
            *pn.per_input.entry(id).or_default() += l.flat.count;
            for x in &l.primitives {
                add_unique(&mut pn.primitives, x, usize::MAX);
            }
            for x in &l.labels {
                add_unique(&mut pn.labels, x, MAX_LABEL_SETS);
            }
            continue;
        }
        let f = if kind == ProfileKind::Block {
            acc.block.get_or_insert_with(ProfileFigures::default)
        } else {
            acc.mutex.get_or_insert_with(ProfileFigures::default)
        };
        f.flat.count += l.flat.count;
        f.flat.total_ns += l.flat.total_ns;
        let t = f.per_input.entry(id).or_default();
        t.count += l.flat.count;
        t.total_ns += l.flat.total_ns;
        for x in &l.primitives {
            add_unique(&mut f.primitives, x, usize::MAX);
        }
        for x in &l.labels {
            add_unique(&mut f.labels, x, MAX_LABEL_SETS);
        }
    }
}

/// Levels: dump lines by what their goroutines wait for; profile lines
/// over `goblock.diagnostics.minTotalMs` and `minShare` (of the delay of
/// all loaded profiles of their kind), the `hottest` of each kind with the
/// configured severity.
fn finish_levels(by_line: &mut HashMap<(Arc<str>, u32), Acc>, settings: &Settings) {
    let threshold = settings.dumps.parked_threshold;
    for acc in by_line.values_mut() {
        if let Some(p) = acc.parked.as_mut() {
            p.threshold = threshold;
            p.statuses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            p.groups.sort_by(|a, b| {
                b.group
                    .count
                    .cmp(&a.group.count)
                    .then(a.input.cmp(&b.input))
                    .then(a.group.ids.cmp(&b.group.ids))
            });
            p.level = Some(if p.deadlock && p.goroutines > 0 {
                ParkedLevel::Deadlock
            } else if p.forever {
                ParkedLevel::Forever
            } else if p.waited_minutes > threshold {
                ParkedLevel::Leak
            } else {
                ParkedLevel::Parked
            });
        }
    }
    let min_total = (settings.diagnostics.min_total_ms * 1e6) as u64;
    for mutex in [false, true] {
        let total: u64 = by_line
            .values_mut()
            .filter_map(|a| pick(a, mutex).map(|f| f.flat.total_ns))
            .sum();
        let mut over: Vec<(u64, Arc<str>, u32)> = Vec::new();
        for ((file, line), acc) in by_line.iter_mut() {
            let Some(f) = pick(acc, mutex) else { continue };
            f.share = if total > 0 {
                f.flat.total_ns as f64 / total as f64
            } else {
                0.0
            };
            if f.flat.total_ns >= min_total
                && f.flat.total_ns > 0
                && f.share >= settings.diagnostics.min_share
            {
                f.level = Some(Level::Normal);
                over.push((f.flat.total_ns, file.clone(), *line));
            }
        }
        over.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, file, line) in over.into_iter().take(settings.diagnostics.hottest) {
            if let Some(f) = by_line.get_mut(&(file, line)).and_then(|a| pick(a, mutex)) {
                f.level = Some(Level::Hot);
            }
        }
    }
}

fn pick(acc: &mut Acc, mutex: bool) -> Option<&mut ProfileFigures> {
    if mutex {
        acc.mutex.as_mut()
    } else {
        acc.block.as_mut()
    }
}
