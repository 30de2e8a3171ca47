//! Per-file annotation models built from the analysis' [`LineTable`]: one
//! [`Annotation`] per (file, line) sums every (category, reason) entry of the
//! enabled categories over all loaded traces, with its diagnostic level and
//! diagnostic code; goroutine dumps and profiles add their own parts to the
//! same annotations (`crate::dumps::lines`). Lines of files that were not found on this machine are
//! kept apart ([`Unmapped`]) for the status.
//!
//! Builds the model only; the text shown (messages, labels, markdown) is
//! `render`'s. Knows no LSP types; line numbers are 1-based as in the analysis.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use goblock_analysis::histogram::Histogram;
use goblock_analysis::{CodeClass, LineTable, Parked, Site, Totals, WakerShare};
use goblock_trace::Category;

use crate::config::Settings;
use crate::dumps::lines::{ParkedNow, Sampled};

/// One loaded trace, for per-trace breakdowns.
#[derive(Clone, Debug)]
pub struct TraceMeta {
    /// Trace index used in the tables.
    pub id: u32,
    /// Display name (file name).
    pub name: String,
    /// Only this share of the file is analysed yet (a preview).
    pub partial: Option<f64>,
}

/// How a line is flagged in diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Among the hottest lines: the configured severity.
    Hot,
    /// Over the thresholds: a hint.
    Normal,
}

/// A goroutine row of the hover table.
#[derive(Clone, Debug)]
pub struct ParkedRow {
    /// Reason of the entry it came from.
    pub reason: Arc<str>,
    /// The kept episode.
    pub parked: Parked,
}

/// Everything shown for one source line.
#[derive(Clone, Debug, Default)]
pub struct Annotation {
    /// 1-based line in the file as built.
    pub line: u32,
    /// Function containing the line.
    pub function: Arc<str>,
    /// Diagnostic code: `chan-recv`, `mutex`, `net`, …
    pub kind: &'static str,
    /// Reasons with their flat totals (closed + open), largest first.
    pub reasons: Vec<(Arc<str>, Totals)>,
    /// Blocking primitives seen (innermost functions).
    pub primitives: Vec<Arc<str>>,
    /// Closed episodes (flat).
    pub closed: Totals,
    /// Episodes open at either end of the trace (flat).
    pub open: Totals,
    /// Durations of closed episodes.
    pub hist: Histogram,
    /// Longest closed episode.
    pub max_ns: u64,
    /// Distinct goroutines (sum over entries: an upper bound across reasons).
    pub goroutines: u64,
    /// Share of all closed blocking in the enabled categories (0–1): episodes
    /// open at either end of the trace (idle workers, leaks) are left out so
    /// they do not drown contention.
    pub share: f64,
    /// Wakers merged over entries, largest total first.
    pub wakers: Vec<WakerShare>,
    /// Longest episodes, longest first.
    pub parked: Vec<ParkedRow>,
    /// Per trace: closed and open totals.
    pub per_trace: BTreeMap<u32, (Totals, Totals)>,
    /// Closed blocking inside callees of this line (cum minus flat).
    pub callees: Totals,
    /// Diagnostic level, when over the thresholds.
    pub level: Option<Level>,
    /// The file is in the workspace.
    pub in_workspace: bool,
    /// Goroutines parked here in the loaded goroutine dumps and profiles.
    pub parked_now: Option<Box<ParkedNow>>,
    /// Contention here in the loaded block and mutex profiles (sampled).
    pub sampled: Option<Box<Sampled>>,
}

impl Annotation {
    /// Whether a trace, dump or profile has anything for this line.
    pub fn has_any(&self) -> bool {
        self.has_flat()
            || self.callees.total_ns > 0
            || self.parked_now.is_some()
            || self.sampled.is_some()
    }

    /// Whether the line gets a diagnostic (from any input).
    pub fn has_diagnostic(&self) -> bool {
        self.level.is_some()
            || self.parked_now.as_ref().is_some_and(|p| p.level.is_some())
            || self.sampled.as_ref().is_some_and(|s| {
                s.block.as_ref().is_some_and(|f| f.level.is_some())
                    || s.mutex.as_ref().is_some_and(|f| f.level.is_some())
            })
    }

    /// Whether anything blocks on this very line (not only in callees).
    pub fn has_flat(&self) -> bool {
        self.closed.count + self.open.count > 0
    }

    /// Episodes (closed + open).
    pub fn count(&self) -> u64 {
        self.closed.count + self.open.count
    }

    /// Time (closed + open).
    pub fn total_ns(&self) -> u64 {
        self.closed.total_ns + self.open.total_ns
    }

    /// The main reason (largest total).
    pub fn reason(&self) -> &str {
        self.reasons.first().map(|r| &*r.0).unwrap_or("")
    }
}

/// The annotations of one file, sorted by line.
#[derive(Clone, Debug)]
pub struct FileAnnotations {
    /// Local path.
    pub path: Arc<str>,
    /// In the workspace (else GOROOT / module cache: shown only when open).
    pub in_workspace: bool,
    /// Annotations, by line.
    pub lines: Vec<Annotation>,
}

impl AnnotationIndex {
    /// An index in which each of `files`, in the workspace, has the one
    /// annotation `at`: what the tests and benchmarks of the readers of an
    /// index (`crate::origins`) start from.
    pub fn of_files<P: AsRef<std::path::Path>>(
        files: impl IntoIterator<Item = P>,
        at: &Annotation,
    ) -> AnnotationIndex {
        let mut index = AnnotationIndex::default();
        for f in files {
            let p: Arc<str> = f.as_ref().to_string_lossy().into();
            index.files.insert(
                p.clone(),
                Arc::new(FileAnnotations {
                    path: p,
                    in_workspace: true,
                    lines: vec![at.clone()],
                }),
            );
        }
        index
    }

    /// Renames files (`rename` gives the new name, or `None` to keep it):
    /// the index is keyed by the names the client uses.
    pub fn rename_files(&mut self, rename: impl Fn(&str) -> Option<String>) {
        let mut renamed: HashMap<Arc<str>, Arc<str>> = HashMap::new();
        let files = std::mem::take(&mut self.files);
        for (k, fa) in files {
            match rename(&k) {
                Some(n) => {
                    let n: Arc<str> = n.into();
                    let mut fa = (*fa).clone();
                    fa.path = n.clone();
                    renamed.insert(k, n.clone());
                    self.files.insert(n, Arc::new(fa));
                }
                None => {
                    self.files.insert(k, fa);
                }
            }
        }
        for (f, _) in &mut self.hottest {
            if let Some(n) = renamed.get(f) {
                *f = n.clone();
            }
        }
    }
}

impl FileAnnotations {
    /// Whether an annotation links to a line of `path` (a waker's or a
    /// creation site's).
    pub fn links_into(&self, path: &str) -> bool {
        let is = |s: &Option<Site>| {
            s.as_ref()
                .is_some_and(|s| &*s.file == path || &*s.canonical == path)
        };
        self.lines.iter().any(|a| {
            a.wakers.iter().any(|w| is(&w.site))
                || a.parked
                    .iter()
                    .any(|p| is(&p.parked.waker_site) || is(&p.parked.creator_site))
                || a.parked_now
                    .iter()
                    .flat_map(|p| &p.groups)
                    .any(|g| is(&g.group.creator))
        })
    }

    /// The annotation of a 1-based line.
    pub fn at(&self, line: u32) -> Option<&Annotation> {
        self.lines
            .binary_search_by_key(&line, |a| a.line)
            .ok()
            .map(|i| &self.lines[i])
    }
}

/// A recorded file that was not found on this machine.
#[derive(Clone, Debug)]
pub struct Unmapped {
    /// The path as recorded.
    pub recorded: Arc<str>,
    /// Flat blocking charged to it.
    pub total: Totals,
    /// Distinct lines.
    pub lines: usize,
}

/// Annotations of every file, plus what could not be placed.
#[derive(Clone, Debug, Default)]
pub struct AnnotationIndex {
    /// By local path.
    pub files: HashMap<Arc<str>, Arc<FileAnnotations>>,
    /// Files not found, hottest first.
    pub unmapped: Vec<Unmapped>,
    /// Denominator of shares: closed blocking in the enabled categories, ns.
    pub total_ns: u64,
    /// (file, line) of flat annotations, hottest first.
    pub hottest: Vec<(Arc<str>, u32)>,
}

/// Diagnostic code of a (category, reason, primitives).
pub fn kind_of(category: Category, reason: &str, primitives: &[Arc<str>]) -> &'static str {
    let has = |s: &str| primitives.iter().any(|p| p.contains(s));
    match category {
        Category::Net => "net",
        Category::Syscall => "syscall",
        Category::Sleep => "sleep",
        Category::Gc => "gc",
        Category::Sched => "sched",
        Category::Other => "other",
        Category::Sync => {
            if reason.starts_with("chan receive") {
                "chan-recv"
            } else if reason.starts_with("chan send") {
                "chan-send"
            } else if reason.starts_with("select") {
                "select"
            } else if reason.contains("Cond") || has("Cond") {
                "cond"
            } else if reason.contains("WaitGroup") || has("WaitGroup") {
                "waitgroup"
            } else if has("Mutex") || reason.contains("Mutex") {
                "mutex"
            } else {
                "sync"
            }
        }
    }
}

/// Short label of a kind for inlay hints.
pub fn short_kind(kind: &str) -> &str {
    match kind {
        "chan-recv" => "chan recv",
        "chan-send" => "chan send",
        "waitgroup" => "wg",
        k => k,
    }
}

/// A friendly name for the innermost function of a waker's stack.
pub fn waker_action(primitive: Option<&str>) -> String {
    let Some(p) = primitive else {
        return "the runtime".to_owned();
    };
    match p {
        "runtime.chansend1" | "runtime.chansend" | "runtime.selectnbsend" => "chan send".into(),
        "runtime.chanrecv1" | "runtime.chanrecv2" | "runtime.chanrecv" | "runtime.selectnbrecv" => {
            "chan receive".into()
        }
        "runtime.closechan" => "close".into(),
        "runtime.selectgo" => "select".into(),
        _ => {
            // sync.(*Mutex).Unlock → Mutex.Unlock; main.producer → producer.
            let last = p.rsplit('/').next().unwrap_or(p);
            let last = last.split_once('.').map(|x| x.1).unwrap_or(last);
            last.replace("(*", "").replace(')', "")
        }
    }
}

/// `file.go:12` of a site (`testing/testing.go:2101` outside the
/// workspace: [`Site::label`]).
pub fn short_site(s: &Site) -> String {
    if s.line == 0 {
        // A linked line that could not be placed in today's text.
        return format!("{} (line edited since the trace)", s.name);
    }
    s.label()
}

/// Builds the annotation index of `table` for `settings`.
pub fn build(table: &LineTable, settings: &Settings) -> AnnotationIndex {
    let cats = &settings.categories;
    let total_ns = table.total_ns(cats);
    let mut by_line: HashMap<(Arc<str>, u32), Annotation> = HashMap::new();
    let mut unmapped: HashMap<Arc<str>, (Totals, std::collections::HashSet<u32>)> = HashMap::new();
    let mut kinds: HashMap<(Arc<str>, u32), (u64, &'static str)> = HashMap::new();
    // Deterministic merge order.
    let mut entries: Vec<_> = table
        .lines
        .iter()
        .filter(|(k, _)| cats.contains(&k.category))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    for (key, st) in entries {
        if !st.found {
            // Generated code (`_testmain.go` of a test binary, built in a
            // directory that is gone) is no missing file: it is charged to
            // the workspace frame that called it.
            if st.has_flat() && st.class != CodeClass::Generated {
                let u = unmapped.entry(key.file.clone()).or_default();
                u.0.count += st.flat.count + st.open.count;
                u.0.total_ns += st.total_ns();
                u.1.insert(key.line);
            }
            continue;
        }
        let a = by_line
            .entry((key.file.clone(), key.line))
            .or_insert_with(|| Annotation {
                line: key.line,
                function: st.function.clone(),
                kind: "",
                reasons: Vec::new(),
                primitives: Vec::new(),
                closed: Totals::default(),
                open: Totals::default(),
                hist: Histogram::default(),
                max_ns: 0,
                goroutines: 0,
                share: 0.0,
                wakers: Vec::new(),
                parked: Vec::new(),
                per_trace: BTreeMap::new(),
                callees: Totals::default(),
                level: None,
                in_workspace: st.in_workspace,
                parked_now: None,
                sampled: None,
            });
        a.in_workspace |= st.in_workspace;
        if st.has_flat() {
            let t = Totals {
                count: st.flat.count + st.open.count,
                total_ns: st.total_ns(),
            };
            a.reasons.push((key.reason.clone(), t));
            let k = kinds.entry((key.file.clone(), key.line)).or_insert((0, ""));
            if t.total_ns >= k.0 || k.1.is_empty() {
                *k = (
                    t.total_ns,
                    kind_of(key.category, &key.reason, &st.primitives),
                );
            }
        }
        for p in &st.primitives {
            if !a.primitives.contains(p) {
                a.primitives.push(p.clone());
            }
        }
        a.closed.count += st.flat.count;
        a.closed.total_ns += st.flat.total_ns;
        a.open.count += st.open.count;
        a.open.total_ns += st.open.total_ns;
        a.hist.merge(&st.hist);
        a.max_ns = a.max_ns.max(st.flat_max_ns);
        a.goroutines += st.goroutines;
        for w in &st.wakers {
            match a
                .wakers
                .iter_mut()
                .find(|x| x.site == w.site && x.primitive == w.primitive)
            {
                Some(x) => {
                    x.count += w.count;
                    x.total_ns += w.total_ns;
                }
                None => a.wakers.push(w.clone()),
            }
        }
        a.parked.extend(st.parked.iter().map(|p| ParkedRow {
            reason: key.reason.clone(),
            parked: p.clone(),
        }));
        for (t, (c, o)) in &st.per_trace {
            let e = a.per_trace.entry(*t).or_default();
            e.0.count += c.count;
            e.0.total_ns += c.total_ns;
            e.1.count += o.count;
            e.1.total_ns += o.total_ns;
        }
        a.callees.count += st.cum.count.saturating_sub(st.flat.count);
        a.callees.total_ns += st.cum.total_ns.saturating_sub(st.flat.total_ns);
    }
    let min_total = (settings.diagnostics.min_total_ms * 1e6) as u64;
    let mut files: HashMap<Arc<str>, FileAnnotations> = HashMap::new();
    let mut hottest: Vec<(u64, Arc<str>, u32)> = Vec::new();
    for ((file, line), mut a) in by_line {
        if let Some(k) = kinds.get(&(file.clone(), line)) {
            a.kind = k.1;
        }
        a.reasons
            .sort_by(|x, y| y.1.total_ns.cmp(&x.1.total_ns).then(x.0.cmp(&y.0)));
        a.wakers.sort_by(|x, y| {
            y.total_ns
                .cmp(&x.total_ns)
                .then(y.count.cmp(&x.count))
                .then(x.site.cmp(&y.site))
        });
        a.parked.sort_by(|x, y| {
            y.parked
                .duration_ns
                .cmp(&x.parked.duration_ns)
                .then(x.parked.goroutine.cmp(&y.parked.goroutine))
        });
        a.share = if total_ns > 0 {
            a.closed.total_ns as f64 / total_ns as f64
        } else {
            0.0
        };
        if a.has_flat() {
            hottest.push((a.total_ns(), file.clone(), line));
            // The threshold counts a line's open episodes too (a goroutine
            // still parked at the end of the trace — a leak, an idle worker
            // — deserves its diagnostic), measured against completed
            // blocking only so that such episodes do not dilute contention.
            let threshold_share = if total_ns > 0 {
                a.total_ns() as f64 / total_ns as f64
            } else if a.total_ns() > 0 {
                1.0
            } else {
                0.0
            };
            if a.total_ns() >= min_total && threshold_share >= settings.diagnostics.min_share {
                a.level = Some(Level::Normal);
            }
        }
        let f = files
            .entry(file.clone())
            .or_insert_with(|| FileAnnotations {
                path: file.clone(),
                in_workspace: a.in_workspace,
                lines: Vec::new(),
            });
        f.in_workspace |= a.in_workspace;
        f.lines.push(a);
    }
    hottest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    // The configured severity goes to the lines with the most contention
    // (closed blocking), among those over the thresholds.
    let mut files: HashMap<Arc<str>, FileAnnotations> = files
        .into_iter()
        .map(|(k, mut f)| {
            f.lines.sort_by_key(|a| a.line);
            (k, f)
        })
        .collect();
    let mut by_closed: Vec<(u64, Arc<str>, u32)> = files
        .iter()
        .flat_map(|(f, fa)| {
            fa.lines
                .iter()
                .filter(|a| a.level.is_some())
                .map(move |a| (a.closed.total_ns, f.clone(), a.line))
        })
        .collect();
    by_closed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for (_, file, line) in by_closed.iter().take(settings.diagnostics.hottest) {
        if let Some(f) = files.get_mut(file)
            && let Ok(i) = f.lines.binary_search_by_key(line, |a| a.line)
        {
            f.lines[i].level = Some(Level::Hot);
        }
    }
    let files = files.into_iter().map(|(k, f)| (k, Arc::new(f))).collect();
    let mut unmapped: Vec<Unmapped> = unmapped
        .into_iter()
        .map(|(recorded, (total, lines))| Unmapped {
            recorded,
            total,
            lines: lines.len(),
        })
        .collect();
    unmapped.sort_by(|a, b| {
        b.total
            .total_ns
            .cmp(&a.total.total_ns)
            .then(a.recorded.cmp(&b.recorded))
    });
    AnnotationIndex {
        files,
        unmapped,
        total_ns,
        hottest: hottest.into_iter().map(|(_, f, l)| (f, l)).collect(),
    }
}

/// Staleness of an annotation for the hover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// The source matches the build (or nothing says otherwise).
    Fresh,
    /// Re-anchored: the function moved by this many lines since the build.
    Moved(i64),
    /// The source changed and the line could not be re-anchored.
    Stale(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use goblock_analysis::{LineKey, LineStats};

    #[test]
    fn unmapped_files_are_kept_apart() {
        let mut t = LineTable::default();
        let stats = |found: bool, ns: u64| LineStats {
            function: "main.f".into(),
            found,
            in_workspace: found,
            flat: Totals {
                count: 2,
                total_ns: ns,
            },
            ..Default::default()
        };
        let key = |file: &str, line: u32| LineKey {
            file: file.into(),
            line,
            category: Category::Sync,
            reason: "chan receive".into(),
        };
        t.lines
            .insert(key("/build/x.go", 3), stats(false, 5_000_000));
        t.lines
            .insert(key("/build/x.go", 9), stats(false, 1_000_000));
        t.lines.insert(key("/ws/y.go", 7), stats(true, 20_000_000));
        t.lines.insert(
            LineKey {
                category: Category::Sleep,
                ..key("/ws/y.go", 8)
            },
            stats(true, 99_000_000),
        );
        t.category_totals.insert(
            Category::Sync,
            Totals {
                count: 6,
                total_ns: 26_000_000,
            },
        );
        let idx = build(&t, &Settings::default());
        assert_eq!(idx.unmapped.len(), 1);
        assert_eq!(&*idx.unmapped[0].recorded, "/build/x.go");
        assert_eq!(idx.unmapped[0].lines, 2);
        assert_eq!(idx.unmapped[0].total.total_ns, 6_000_000);
        let y = &idx.files[&Arc::<str>::from("/ws/y.go")];
        // Sleep is off by default.
        assert_eq!(y.lines.len(), 1);
        assert_eq!(y.lines[0].kind, "chan-recv");
        assert_eq!(y.lines[0].level, Some(Level::Hot));
        assert!((y.lines[0].share - 20.0 / 26.0).abs() < 1e-9);
    }
}
