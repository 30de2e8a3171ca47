//! Per-line blocking statistics: what the report prints and the editor
//! shows. Built from per-stack statistics through [`Attributor`]; mergeable
//! across traces (each line keeps a per-trace breakdown).
//!
//! Knows nothing of LSP or output formats.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use goblock_trace::{Category, StackId, Tables};

use crate::attribute::{Attributor, Site};
use crate::histogram::Histogram;
use crate::paths::{CodeClass, Unmapped};
use crate::stack_stats::{StackKey, StackStats, TOP_EPISODES};

/// A line entry's identity: one per (file, line, category, reason).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineKey {
    /// Local path when found, else the recorded path.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// Category.
    pub category: Category,
    /// Runtime reason string.
    pub reason: Arc<str>,
}

/// Count and total time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Number of episodes.
    pub count: u64,
    /// Summed duration, ns.
    pub total_ns: u64,
}

impl Totals {
    fn add(&mut self, count: u64, total: u64) {
        self.count += count;
        self.total_ns += total;
    }
}

/// One goroutine parked at a line (a kept episode, resolved for display).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parked {
    /// Goroutine id.
    pub goroutine: u64,
    /// How long, ns (clamped to the trace for open episodes).
    pub duration_ns: u64,
    /// Start, ns since the trace start.
    pub start_ns: u64,
    /// Already blocked when the trace started.
    pub began_before_trace: bool,
    /// Still blocked at the end of the trace.
    pub open_at_end: bool,
    /// Waking goroutine, when a goroutine woke it.
    pub waker_goroutine: Option<u64>,
    /// Where the waker was (its attributed line).
    pub waker_site: Option<Site>,
    /// Where the goroutine was created.
    pub creator_site: Option<Site>,
    /// Index of the trace.
    pub trace: u32,
}

/// A waker line and its share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WakerShare {
    /// The waker's attributed line; `None` = woken by the runtime (netpoller, timer).
    pub site: Option<Site>,
    /// The innermost function of the waker's stack (e.g. `runtime.chansend1`).
    pub primitive: Option<Arc<str>>,
    /// Closed episodes it ended.
    pub count: u64,
    /// Their total, ns.
    pub total_ns: u64,
}

/// Statistics of one line entry.
#[derive(Clone, Debug, Default)]
pub struct LineStats {
    /// Function containing the line.
    pub function: Arc<str>,
    /// The recorded file exists on this machine.
    pub found: bool,
    /// The file is in the workspace.
    pub in_workspace: bool,
    /// The line is in the standard library, the runtime, a dependency or
    /// generated code (a stack with no user frame, e.g. a runtime goroutine).
    pub library: bool,
    /// What kind of code the line is.
    pub class: CodeClass,
    /// The file with symlinks resolved (the key's `file` keeps the form the
    /// user gave the workspace in).
    pub canonical: Arc<str>,
    /// Why the line is not shown in a file (then `found` is false and the
    /// key's `file` is the recorded path).
    pub unmapped: Option<Unmapped>,
    /// The blocking primitive(s): innermost functions of the stacks.
    pub primitives: Vec<Arc<str>>,
    /// Closed episodes charged here (flat).
    pub flat: Totals,
    /// Longest closed episode, ns.
    pub flat_max_ns: u64,
    /// Episodes that began before the trace or were open at its end (flat).
    pub open: Totals,
    /// Of those, the episodes still blocked at the end of the trace.
    pub still_blocked: Totals,
    /// Closed episodes with this line anywhere in the stack (cum).
    pub cum: Totals,
    /// Histogram of closed (flat) durations.
    pub hist: Histogram,
    /// Distinct goroutines (flat).
    pub goroutines: u64,
    /// Distinct-goroutine count is a lower bound.
    pub goroutines_saturated: bool,
    /// Wakers, largest total first.
    pub wakers: Vec<WakerShare>,
    /// Longest episodes (closed and open), longest first.
    pub parked: Vec<Parked>,
    /// Per trace index: flat closed totals and open totals.
    pub per_trace: BTreeMap<u32, (Totals, Totals)>,
}

impl LineStats {
    /// Closed and open time together.
    pub fn total_ns(&self) -> u64 {
        self.flat.total_ns + self.open.total_ns
    }

    /// Only open episodes here, some still blocked when the trace ended: a
    /// goroutine that may never wake (a leak suspect), not a wait that
    /// ended.
    pub fn only_still_blocked(&self) -> bool {
        self.flat.count == 0 && self.still_blocked.count > 0
    }

    /// Whether anything is charged flat here (not only cum).
    pub fn has_flat(&self) -> bool {
        self.flat.count + self.open.count > 0
    }

    /// Merges another entry for the same key into this one.
    pub fn merge(&mut self, o: &LineStats) {
        if self.function.is_empty() {
            self.function = o.function.clone();
            self.class = o.class;
            self.canonical = o.canonical.clone();
            self.unmapped = o.unmapped.clone();
        }
        self.found |= o.found;
        self.in_workspace |= o.in_workspace;
        self.library |= o.library;
        for p in &o.primitives {
            if !self.primitives.contains(p) {
                self.primitives.push(p.clone());
            }
        }
        self.flat.add(o.flat.count, o.flat.total_ns);
        self.flat_max_ns = self.flat_max_ns.max(o.flat_max_ns);
        self.open.add(o.open.count, o.open.total_ns);
        self.still_blocked
            .add(o.still_blocked.count, o.still_blocked.total_ns);
        self.cum.add(o.cum.count, o.cum.total_ns);
        self.hist.merge(&o.hist);
        self.goroutines += o.goroutines;
        self.goroutines_saturated |= o.goroutines_saturated;
        for w in &o.wakers {
            match self
                .wakers
                .iter_mut()
                .find(|x| x.site == w.site && x.primitive == w.primitive)
            {
                Some(x) => {
                    x.count += w.count;
                    x.total_ns += w.total_ns;
                }
                None => self.wakers.push(w.clone()),
            }
        }
        // Total orders: the input's order depends on which thread folded
        // what (stack_stats.rs).
        self.wakers.sort_by(|a, b| {
            (b.total_ns, b.count)
                .cmp(&(a.total_ns, a.count))
                .then_with(|| (&a.site, &a.primitive).cmp(&(&b.site, &b.primitive)))
        });
        self.parked.extend(o.parked.iter().cloned());
        self.parked.sort_by(|a, b| {
            b.duration_ns
                .cmp(&a.duration_ns)
                .then((a.goroutine, a.start_ns, a.trace).cmp(&(b.goroutine, b.start_ns, b.trace)))
        });
        self.parked.truncate(TOP_EPISODES);
        for (t, (c, op)) in &o.per_trace {
            let e = self.per_trace.entry(*t).or_default();
            e.0.add(c.count, c.total_ns);
            e.1.add(op.count, op.total_ns);
        }
    }
}

/// Per-line statistics of one or more traces.
#[derive(Clone, Debug, Default)]
pub struct LineTable {
    /// The entries.
    pub lines: HashMap<LineKey, LineStats>,
    /// Closed-episode totals per category over the whole trace(s), for shares.
    pub category_totals: BTreeMap<Category, Totals>,
    /// Episodes with an empty stack (nothing to attribute), per category.
    pub unattributed: BTreeMap<Category, Totals>,
}

impl LineTable {
    /// Builds the table for one trace's per-stack statistics.
    pub fn build(
        stats: &goblock_trace::fxhash::FxHashMap<StackKey, StackStats>,
        tables: &Tables,
        attributor: &mut Attributor<'_>,
        trace: u32,
    ) -> LineTable {
        let mut t = LineTable::default();
        let mut reasons: HashMap<goblock_trace::Sym, Arc<str>> = HashMap::new();
        let mut waker_cache: HashMap<StackId, (Option<Site>, Option<Arc<str>>)> = HashMap::new();
        // Deterministic order.
        let mut keys: Vec<&StackKey> = stats.keys().collect();
        keys.sort();
        for key in keys {
            let s = &stats[key];
            t.category_totals
                .entry(key.category)
                .or_default()
                .add(s.closed_count, s.closed_total_ns);
            let reason = reasons
                .entry(key.reason)
                .or_insert_with(|| tables.str(key.reason).into())
                .clone();
            let a = attributor.attribute(key.stack);
            let Some(flat) = a.flat.clone() else {
                t.unattributed
                    .entry(key.category)
                    .or_default()
                    .add(s.closed_count + s.open_count, s.total_ns());
                continue;
            };
            let mut waker_of = |stack: StackId, att: &mut Attributor<'_>| {
                waker_cache
                    .entry(stack)
                    .or_insert_with(|| {
                        if stack.is_empty() {
                            (None, None)
                        } else {
                            let w = att.attribute(stack);
                            (w.flat.clone(), w.primitive.clone())
                        }
                    })
                    .clone()
            };
            let mut entry = LineStats {
                function: flat.function.clone(),
                found: flat.found,
                in_workspace: flat.in_workspace,
                library: flat.library,
                class: flat.class,
                canonical: flat.canonical.clone(),
                unmapped: flat.unmapped.clone(),
                primitives: a.primitive.iter().cloned().collect(),
                flat: Totals {
                    count: s.closed_count,
                    total_ns: s.closed_total_ns,
                },
                flat_max_ns: s.closed_max_ns,
                open: Totals {
                    count: s.open_count,
                    total_ns: s.open_total_ns,
                },
                still_blocked: Totals {
                    count: s.open_at_end_count,
                    total_ns: s.open_at_end_total_ns,
                },
                hist: s.hist.clone(),
                goroutines: s.goroutines.len() as u64,
                goroutines_saturated: s.goroutines_saturated,
                ..Default::default()
            };
            for (wstack, count, total) in s.wakers.iter() {
                let (site, primitive) = waker_of(wstack, attributor);
                entry.wakers.push(WakerShare {
                    site,
                    primitive,
                    count,
                    total_ns: total,
                });
            }
            for k in &s.longest {
                let (waker_site, _) = waker_of(k.waker_stack, attributor);
                let creator_site = k.creator.and_then(|c| attributor.attribute(c).flat.clone());
                entry.parked.push(Parked {
                    goroutine: k.goroutine,
                    duration_ns: k.duration_ns,
                    start_ns: k.start_ns,
                    began_before_trace: k.began_before_trace,
                    open_at_end: k.open_at_end,
                    waker_goroutine: k.waker_goroutine,
                    waker_site,
                    creator_site,
                    trace: k.trace,
                });
            }
            entry.per_trace.insert(trace, (entry.flat, entry.open));
            let fkey = LineKey {
                file: flat.file.clone(),
                line: flat.line,
                category: key.category,
                reason: reason.clone(),
            };
            t.add(fkey, &entry);
            for c in &a.cum {
                let ckey = LineKey {
                    file: c.file.clone(),
                    line: c.line,
                    category: key.category,
                    reason: reason.clone(),
                };
                let cum = LineStats {
                    function: c.function.clone(),
                    found: c.found,
                    in_workspace: c.in_workspace,
                    library: c.library,
                    class: c.class,
                    canonical: c.canonical.clone(),
                    cum: Totals {
                        count: s.closed_count,
                        total_ns: s.closed_total_ns,
                    },
                    ..Default::default()
                };
                t.add(ckey, &cum);
            }
        }
        t
    }

    fn add(&mut self, key: LineKey, s: &LineStats) {
        match self.lines.get_mut(&key) {
            Some(e) => e.merge(s),
            None => {
                let mut e = LineStats::default();
                e.merge(s);
                self.lines.insert(key, e);
            }
        }
    }

    /// Merges another table (e.g. another trace) into this one.
    pub fn merge(&mut self, o: &LineTable) {
        for (k, v) in &o.lines {
            self.add(k.clone(), v);
        }
        for (c, t) in &o.category_totals {
            self.category_totals
                .entry(*c)
                .or_default()
                .add(t.count, t.total_ns);
        }
        for (c, t) in &o.unattributed {
            self.unattributed
                .entry(*c)
                .or_default()
                .add(t.count, t.total_ns);
        }
    }

    /// Entries sorted hottest first: closed (flat) time, then open time,
    /// then cum, ties by key. One goroutine idle until the end of the trace
    /// does not outrank lines that really made goroutines wait.
    pub fn hottest(&self) -> Vec<(&LineKey, &LineStats)> {
        let mut v: Vec<_> = self.lines.iter().collect();
        v.sort_by(|a, b| {
            b.1.flat
                .total_ns
                .cmp(&a.1.flat.total_ns)
                .then(b.1.open.total_ns.cmp(&a.1.open.total_ns))
                .then(b.1.cum.total_ns.cmp(&a.1.cum.total_ns))
                .then(a.0.cmp(b.0))
        });
        v
    }

    /// Total closed time over the given categories (the denominator of shares).
    pub fn total_ns(&self, cats: &[Category]) -> u64 {
        self.category_totals
            .iter()
            .filter(|(c, _)| cats.contains(c))
            .map(|(_, t)| t.total_ns)
            .sum()
    }
}
