//! Folds the decoder's episode stream into per-stack statistics, keyed by
//! (stack, category, reason). Memory follows distinct stacks, not episodes:
//! per key only counters, a histogram, the wakers' stacks and the K longest
//! episodes are kept. Nothing kept depends on the order of the episodes
//! (the longest are ranked by a total order), so the decoder's workers fold
//! parts of the stream and the parts are joined ([`goblock_trace::Parts`]).
//!
//! This is the only consumer of raw episodes in the analysis; it does not
//! look at frames, files or the workspace (that is `attribute`).

use std::ops::ControlFlow;

use goblock_trace::fxhash::{FxHashMap, FxHashSet};
use goblock_trace::{
    Categories, Category, Episode, EpisodeSink, Ids, Part, Parts, StackId, Sym, Tables,
};

use crate::histogram::Histogram;

/// How many of the longest episodes are kept per stack (and later per line).
pub const TOP_EPISODES: usize = 24;
/// Distinct goroutines counted exactly up to this many per key.
pub const MAX_DISTINCT_GOROUTINES: usize = 4096;

/// The key episodes are folded by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct StackKey {
    /// The blocked goroutine's stack.
    pub stack: StackId,
    /// Category.
    pub category: Category,
    /// Runtime reason string.
    pub reason: Sym,
}

/// One kept episode (for the hover's goroutine table).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KeptEpisode {
    /// Goroutine id.
    pub goroutine: u64,
    /// Duration in ns (clamped to the trace for open episodes).
    pub duration_ns: u64,
    /// Start, ns since trace start.
    pub start_ns: u64,
    /// Began before the trace.
    pub began_before_trace: bool,
    /// Still blocked at the end of the trace.
    pub open_at_end: bool,
    /// Waking goroutine (None: woken by the runtime, or not woken).
    pub waker_goroutine: Option<u64>,
    /// Waker's stack (empty if none).
    pub waker_stack: StackId,
    /// Creation stack of the goroutine.
    pub creator: Option<StackId>,
    /// Index of the trace this came from (when several traces are merged).
    pub trace: u32,
}

impl KeptEpisode {
    /// The order [`keep_longest`] ranks by: longest first, then every
    /// field, so that the episodes kept do not depend on the order they
    /// came in (ties in duration are common: clock ticks of 64 ns).
    fn rank(&self) -> impl Ord + use<> {
        (
            std::cmp::Reverse(self.duration_ns),
            self.start_ns,
            self.goroutine,
            self.trace,
            self.began_before_trace,
            self.open_at_end,
            self.waker_goroutine,
            self.waker_stack,
            self.creator,
        )
    }
}

/// Counters for one key. The fields every episode touches come first
/// (`repr(C)` keeps them in one or two cache lines).
#[derive(Clone, Debug, Default)]
#[repr(C)]
pub struct StackStats {
    /// Closed episodes (began and ended inside the trace).
    pub closed_count: u64,
    /// Their total duration, ns.
    pub closed_total_ns: u64,
    /// Their maximum duration, ns.
    pub closed_max_ns: u64,
    /// Open episodes (began before the trace or still open at its end).
    pub open_count: u64,
    /// Their total duration clamped to the trace, ns.
    pub open_total_ns: u64,
    /// Open episodes still blocked at the end of the trace (a subset of
    /// the open ones; the others began before the trace).
    pub open_at_end_count: u64,
    /// Their total duration clamped to the trace, ns.
    pub open_at_end_total_ns: u64,
    /// The goroutine of the previous episode (already in `goroutines`): a
    /// goroutine blocking at the same stack again skips the set.
    last_goroutine: Option<u64>,
    /// An episode must be longer than this to enter `longest` once it holds
    /// [`TOP_EPISODES`] (0 before: every episode enters).
    longest_floor: u64,
    /// Histogram of closed durations.
    pub hist: Histogram,
    /// Waker stack → (count, total ns) over closed episodes; the empty stack
    /// stands for "woken by the runtime" (netpoller, timers).
    pub wakers: Wakers,
    /// Distinct goroutines (exact up to [`MAX_DISTINCT_GOROUTINES`]).
    pub goroutines: FxHashSet<u64>,
    /// More distinct goroutines than were counted.
    pub goroutines_saturated: bool,
    /// The longest episodes, longest first.
    pub longest: Vec<KeptEpisode>,
}

impl StackStats {
    /// The memory it holds beside itself, bytes.
    fn heap_bytes(&self) -> usize {
        self.hist.heap_bytes()
            + self.wakers.heap_bytes()
            + self.goroutines.capacity() * (std::mem::size_of::<u64>() + 1)
            + self.longest.capacity() * std::mem::size_of::<KeptEpisode>()
    }

    /// Total of closed and open time.
    pub fn total_ns(&self) -> u64 {
        self.closed_total_ns + self.open_total_ns
    }

    /// Adds one episode: its totals and its details.
    #[inline]
    pub fn add(&mut self, ep: &Episode, trace: u32) {
        let d = self.add_totals(ep);
        self.add_details(ep, d, trace);
    }

    /// Counts one episode in the totals (counts, times, maximum, distinct
    /// goroutines) only; returns its duration.
    #[inline]
    pub fn add_totals(&mut self, ep: &Episode) -> u64 {
        let d = ep.duration_ns();
        if ep.is_closed() {
            self.closed_count += 1;
            self.closed_total_ns += d;
            self.closed_max_ns = self.closed_max_ns.max(d);
        } else {
            self.open_count += 1;
            self.open_total_ns += d;
            if ep.open_at_end {
                self.open_at_end_count += 1;
                self.open_at_end_total_ns += d;
            }
        }
        let g = ep.goroutine;
        if self.last_goroutine != Some(g) {
            // A lookup first: most episodes come from goroutines already
            // counted, and a lookup costs half an insert.
            if self.goroutines.contains(&g) {
                self.last_goroutine = Some(g);
            } else if self.goroutines.len() < MAX_DISTINCT_GOROUTINES {
                self.goroutines.insert(g);
                self.last_goroutine = Some(g);
            } else {
                self.goroutines_saturated = true;
            }
        }
        d
    }

    /// Adds one episode of duration `d` to the details: the histogram and
    /// the wakers (closed episodes) and the longest episodes.
    #[inline]
    fn add_details(&mut self, ep: &Episode, d: u64, trace: u32) {
        if ep.is_closed() {
            self.hist.record(d);
            let waker = ep.waker.map(|w| w.stack).unwrap_or(StackId::EMPTY);
            self.wakers.add(waker, d);
        }
        if self.longest.len() < TOP_EPISODES || d >= self.longest_floor {
            keep_longest(
                &mut self.longest,
                KeptEpisode {
                    goroutine: ep.goroutine,
                    duration_ns: d,
                    start_ns: ep.start_ns,
                    began_before_trace: ep.began_before_trace,
                    open_at_end: ep.open_at_end,
                    waker_goroutine: ep.waker.and_then(|w| w.goroutine),
                    waker_stack: ep.waker.map(|w| w.stack).unwrap_or(StackId::EMPTY),
                    creator: ep.creator,
                    trace,
                },
            );
            self.set_floor();
        }
    }

    fn set_floor(&mut self) {
        if self.longest.len() == TOP_EPISODES {
            self.longest_floor = self.longest.last().map_or(0, |l| l.duration_ns);
        }
    }

    /// Adds the statistics of `o` (a part's: its stacks mapped by `ids`)
    /// as if its episodes had come here.
    fn absorb(&mut self, o: &StackStats, ids: &dyn Ids) {
        self.closed_count += o.closed_count;
        self.closed_total_ns += o.closed_total_ns;
        self.closed_max_ns = self.closed_max_ns.max(o.closed_max_ns);
        self.open_count += o.open_count;
        self.open_total_ns += o.open_total_ns;
        self.open_at_end_count += o.open_at_end_count;
        self.open_at_end_total_ns += o.open_at_end_total_ns;
        self.goroutines_saturated |= o.goroutines_saturated;
        for &g in &o.goroutines {
            if self.goroutines.len() < MAX_DISTINCT_GOROUTINES {
                self.goroutines.insert(g);
            } else if !self.goroutines.contains(&g) {
                self.goroutines_saturated = true;
            }
        }
        self.hist.merge(&o.hist);
        for (stack, count, ns) in o.wakers.iter() {
            self.wakers.add_n(ids.stack(stack), count, ns);
        }
        for k in &o.longest {
            let k = KeptEpisode {
                waker_stack: ids.stack(k.waker_stack),
                creator: match k.creator {
                    Some(c) => Some(ids.stack(c)),
                    None => ids.creator(k.goroutine),
                },
                ..*k
            };
            keep_longest(&mut self.longest, k);
        }
        self.set_floor();
    }
}

/// Waker stack → (count, total ns). Most blocking stacks have a handful of
/// waker stacks: a short vector searched linearly, a map beyond it.
#[derive(Clone, Debug, Default)]
pub struct Wakers {
    small: Vec<(StackId, u64, u64)>,
    /// Index in `small` of the last stack counted (consecutive wakeups
    /// mostly come from the same stack).
    last: usize,
    big: FxHashMap<StackId, (u64, u64)>,
}

impl Wakers {
    /// Entries kept in the vector before the map takes new stacks.
    const SMALL: usize = 16;

    /// Counts one wakeup by `stack` after `ns` blocked.
    #[inline]
    pub fn add(&mut self, stack: StackId, ns: u64) {
        self.add_n(stack, 1, ns);
    }

    /// Counts `count` wakeups by `stack` after `ns` blocked in all.
    #[inline]
    pub fn add_n(&mut self, stack: StackId, count: u64, ns: u64) {
        if let Some(e) = self.small.get_mut(self.last).filter(|e| e.0 == stack) {
            e.1 += count;
            e.2 += ns;
        } else if let Some(i) = self.small.iter().position(|e| e.0 == stack) {
            self.last = i;
            self.small[i].1 += count;
            self.small[i].2 += ns;
        } else if let Some(e) = self.big.get_mut(&stack) {
            e.0 += count;
            e.1 += ns;
        } else if self.small.len() < Self::SMALL {
            self.last = self.small.len();
            self.small.push((stack, count, ns));
        } else {
            self.big.insert(stack, (count, ns));
        }
    }

    /// (waker stack, count, total ns), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (StackId, u64, u64)> + '_ {
        self.small
            .iter()
            .copied()
            .chain(self.big.iter().map(|(&s, &(c, t))| (s, c, t)))
    }

    /// Distinct waker stacks.
    pub fn len(&self) -> usize {
        self.small.len() + self.big.len()
    }

    /// No wakeup counted.
    pub fn is_empty(&self) -> bool {
        self.small.is_empty()
    }

    /// The memory it holds beside itself, bytes (a map's entries with a
    /// control byte each, as hashbrown lays them out).
    fn heap_bytes(&self) -> usize {
        self.small.capacity() * std::mem::size_of::<(StackId, u64, u64)>()
            + self.big.capacity() * (std::mem::size_of::<(StackId, (u64, u64))>() + 1)
    }
}

/// Inserts `e` into `list` (in [`KeptEpisode::rank`] order: longest
/// first), keeping at most [`TOP_EPISODES`].
pub fn keep_longest(list: &mut Vec<KeptEpisode>, e: KeptEpisode) {
    let rank = e.rank();
    if list.len() == TOP_EPISODES && list.last().is_some_and(|l| l.rank() <= rank) {
        return;
    }
    let at = list.partition_point(|x| x.rank() <= rank);
    list.insert(at, e);
    list.truncate(TOP_EPISODES);
}

/// Per-key statistics: of a whole [`StackAggregator`], or of a part of
/// its episodes folded on a decoder's worker thread ([`StackPart`]).
#[derive(Default)]
struct Folded {
    /// Per stack id: index of its first key in `entries` (`NONE`: none
    /// yet). Stack ids are dense (interned), so this replaces hashing the key.
    by_stack: Vec<u32>,
    /// Per key: the key, the index of the next key with the same stack
    /// (`NONE`: last; most stacks have one key) and the statistics, whose
    /// hot counters share the key's cache line.
    entries: Vec<Entry>,
    /// Episodes folded.
    episodes: u64,
    /// Keep the details (histograms, wakers, longest episodes) besides the
    /// totals.
    details: bool,
    trace: u32,
}

impl Folded {
    /// An empty one that folds as this one does.
    fn empty(&self) -> Folded {
        Folded {
            details: self.details,
            trace: self.trace,
            ..Folded::default()
        }
    }

    /// The memory it holds, bytes (its entries' vectors and sets by their
    /// capacity); linear in the number of keys.
    fn bytes(&self) -> usize {
        self.by_stack.capacity() * std::mem::size_of::<u32>()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self
                .entries
                .iter()
                .map(|e| e.stats.heap_bytes())
                .sum::<usize>()
    }

    #[inline]
    fn add(&mut self, ep: &Episode) {
        self.episodes += 1;
        let key = StackKey {
            stack: ep.stack,
            category: ep.category,
            reason: ep.reason,
        };
        let (trace, details) = (self.trace, self.details);
        let st = self.stats_for(key);
        if details {
            st.add(ep, trace);
        } else {
            st.add_totals(ep);
        }
    }

    #[inline]
    fn stats_for(&mut self, key: StackKey) -> &mut StackStats {
        let si = key.stack.0 as usize;
        if si >= self.by_stack.len() {
            self.by_stack.resize(si + 1, NONE);
        }
        let mut i = self.by_stack[si];
        while let Some(e) = self.entries.get(i as usize) {
            if e.key == key {
                return &mut self.entries[i as usize].stats;
            }
            i = e.next;
        }
        self.new_key(key)
    }

    #[cold]
    #[inline(never)]
    fn new_key(&mut self, key: StackKey) -> &mut StackStats {
        let i = self.entries.len();
        let head = &mut self.by_stack[key.stack.0 as usize];
        self.entries.push(Entry {
            key,
            next: *head,
            stats: StackStats::default(),
        });
        *head = i as u32;
        &mut self.entries[i].stats
    }

    /// Adds `part`'s statistics (its ids mapped by `ids`) and empties it.
    fn join(&mut self, part: &mut Folded, ids: &dyn Ids) {
        self.episodes += std::mem::take(&mut part.episodes);
        for e in part.entries.drain(..) {
            let key = StackKey {
                stack: ids.stack(e.key.stack),
                reason: ids.sym(e.key.reason),
                ..e.key
            };
            self.stats_for(key).absorb(&e.stats, ids);
        }
        part.by_stack.clear();
    }
}

/// An [`EpisodeSink`] folding episodes per [`StackKey`], with optional
/// progress forwarding and cancellation.
pub struct StackAggregator<'a> {
    folded: Folded,
    /// The categories folded (the decoder builds no other episodes).
    wanted: Categories,
    progress: Option<&'a mut dyn FnMut(u64, u64) -> ControlFlow<()>>,
}

impl<'a> StackAggregator<'a> {
    /// A new aggregator for the trace with index `trace`.
    pub fn new(trace: u32) -> Self {
        StackAggregator {
            folded: Folded {
                details: true,
                trace,
                ..Folded::default()
            },
            wanted: Categories::ALL,
            progress: None,
        }
    }

    /// Keeps the totals only ([`StackStats::add_totals`]): histograms,
    /// wakers and longest episodes stay empty. For consumers that show
    /// none of them (`goblock report`); saves a third of the folding.
    pub fn totals_only(mut self) -> Self {
        self.folded.details = false;
        self
    }

    /// Folds the episodes of `categories` only: the decoder does not even
    /// build the others ([`EpisodeSink::categories`]), so they cost only
    /// their goroutines' state tracking (`goblock report` leaves out
    /// `sched`, two episodes in five of a busy service).
    pub fn only(mut self, categories: Categories) -> Self {
        self.wanted = categories;
        self
    }

    /// Forwards progress to `f` (which may cancel by returning Break).
    pub fn with_progress(mut self, f: &'a mut dyn FnMut(u64, u64) -> ControlFlow<()>) -> Self {
        self.progress = Some(f);
        self
    }

    /// Episodes folded.
    pub fn episodes(&self) -> u64 {
        self.folded.episodes
    }

    /// The folded statistics.
    pub fn into_stats(self) -> FxHashMap<StackKey, StackStats> {
        self.folded
            .entries
            .into_iter()
            .map(|e| (e.key, e.stats))
            .collect()
    }
}

/// One key of a [`Folded`].
#[repr(C)]
struct Entry {
    key: StackKey,
    next: u32,
    stats: StackStats,
}

/// No key (in [`Folded`]'s index).
const NONE: u32 = u32::MAX;

impl EpisodeSink for StackAggregator<'_> {
    fn episode(&mut self, ep: &Episode, _tables: &Tables) {
        self.folded.add(ep);
    }

    fn categories(&self) -> Categories {
        self.wanted
    }

    fn progress(&mut self, done: u64, total: u64) -> ControlFlow<()> {
        match self.progress.as_mut() {
            Some(f) => f(done, total),
            None => ControlFlow::Continue(()),
        }
    }

    fn parts(&mut self) -> Option<&mut dyn Parts> {
        Some(self)
    }
}

impl Parts for StackAggregator<'_> {
    fn part(&self) -> Box<dyn Part> {
        Box::new(StackPart(self.folded.empty()))
    }

    fn join(&mut self, part: &mut dyn Part, ids: &dyn Ids) {
        if let Some(StackPart(p)) = part.as_any_mut().downcast_mut::<StackPart>() {
            self.folded.join(p, ids);
        }
    }
}

/// The statistics of part of the episodes, folded on a decoder's worker.
struct StackPart(Folded);

impl EpisodeSink for StackPart {
    fn episode(&mut self, ep: &Episode, _tables: &Tables) {
        self.0.add(ep);
    }
}

impl Part for StackPart {
    fn empty(&self) -> Box<dyn Part> {
        Box::new(StackPart(self.0.empty()))
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn bytes(&self) -> usize {
        self.0.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(d: u64) -> KeptEpisode {
        KeptEpisode {
            goroutine: d,
            duration_ns: d,
            start_ns: 0,
            began_before_trace: false,
            open_at_end: false,
            waker_goroutine: None,
            waker_stack: StackId::EMPTY,
            creator: None,
            trace: 0,
        }
    }

    #[test]
    fn keeps_the_longest() {
        let mut l = Vec::new();
        for d in (0..100).map(|i| (i * 37) % 101) {
            keep_longest(&mut l, kept(d));
        }
        assert_eq!(l.len(), TOP_EPISODES);
        let mut all: Vec<u64> = (0..100).map(|i| (i * 37) % 101).collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        let got: Vec<u64> = l.iter().map(|e| e.duration_ns).collect();
        assert_eq!(got, all[..TOP_EPISODES]);
    }

    /// Folding the episodes of real traces with and without details gives
    /// the same totals; without, the details stay empty.
    #[test]
    fn totals_only_keeps_the_same_totals() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
        for trace in [
            "go1.26/blocking.trace",
            "go1.22/pprof-http.trace",
            "go1.19/blocking.trace",
        ] {
            let bytes = std::fs::read(format!("{root}/{trace}")).expect("committed trace");
            let (n_full, full) = fold(&bytes, true, goblock_trace::Threads::Auto);
            let (n_totals, totals) = fold(&bytes, false, goblock_trace::Threads::Auto);
            assert!(n_full > 0, "{trace}");
            assert_eq!(n_full, n_totals, "{trace}");
            assert_eq!(full.len(), totals.len(), "{trace}");
            assert!(
                full.values()
                    .any(|s| s.hist.count() > 0 && !s.longest.is_empty())
            );
            for (key, f) in &full {
                let t = &totals[key];
                let sum = |s: &StackStats| {
                    (
                        s.closed_count,
                        s.closed_total_ns,
                        s.closed_max_ns,
                        s.open_count,
                        s.open_total_ns,
                        s.open_at_end_count,
                        s.open_at_end_total_ns,
                        s.goroutines.len(),
                        s.goroutines_saturated,
                    )
                };
                assert_eq!(sum(f), sum(t), "{trace} {key:?}");
                assert_eq!(f.hist.count(), f.closed_count, "{trace} {key:?}");
                assert!(t.hist.count() == 0 && t.wakers.is_empty() && t.longest.is_empty());
            }
        }
    }

    #[test]
    fn wakers_spill_into_the_map() {
        let mut w = Wakers::default();
        for round in 0..3u64 {
            for s in 1..=40u32 {
                w.add(StackId(s), u64::from(s) + round);
            }
        }
        assert_eq!(w.len(), 40);
        let mut all: Vec<_> = w.iter().collect();
        all.sort_unstable();
        for (i, &(s, c, t)) in all.iter().enumerate() {
            assert_eq!(s, StackId(i as u32 + 1));
            assert_eq!((c, t), (3, 3 * u64::from(s.0) + 3));
        }
    }

    /// What [`StackStats`] shows, ids resolved (a `Debug` string): the
    /// same whichever thread folded what.
    fn shown(s: &StackStats) -> String {
        let mut wakers: Vec<_> = s.wakers.iter().collect();
        wakers.sort_unstable();
        let q = [0.0, 0.5, 0.9, 0.99, 1.0].map(|q| s.hist.quantile(q));
        format!(
            "{:?}",
            (
                (s.closed_count, s.closed_total_ns, s.closed_max_ns),
                (s.open_count, s.open_total_ns),
                (s.open_at_end_count, s.open_at_end_total_ns),
                (s.goroutines.len(), s.goroutines_saturated),
                (s.hist.count(), s.hist.min(), s.hist.max(), q),
                wakers,
                &s.longest,
            )
        )
    }

    /// Decoded on worker threads, which fold parts of the episodes that
    /// are then joined, real traces of several generations give the
    /// statistics one thread gives, with details and without.
    #[test]
    fn parts_folded_on_workers_join_into_what_one_thread_folds() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        for trace in [
            "testdata/go1.26/blocking-multigen.trace",
            "lsp/trace/tests/data/multigen/go1.23.trace",
            "lsp/trace/tests/data/multigen/go1.22.trace",
        ] {
            let bytes = std::fs::read(format!("{root}/{trace}")).expect("committed trace");
            for details in [true, false] {
                let fold = |threads| {
                    let (n, stats) = fold(&bytes, details, threads);
                    let mut shown: Vec<String> = stats
                        .iter()
                        .map(|(k, s)| format!("{k:?} {}", shown(s)))
                        .collect();
                    shown.sort_unstable();
                    (n, shown)
                };
                let (n_one, one) = fold(goblock_trace::Threads::Never);
                let (n_par, par) = fold(goblock_trace::Threads::Always);
                assert!(n_one > 100, "{trace}: {n_one} episodes");
                assert_eq!(n_one, n_par, "{trace}");
                assert_eq!(one.len(), par.len(), "{trace}");
                for (a, b) in one.iter().zip(&par) {
                    assert_eq!(a, b, "{trace} details {details}");
                }
            }
        }
    }

    /// An aggregator keeping the details, or the totals only.
    fn aggregator(details: bool) -> StackAggregator<'static> {
        let agg = StackAggregator::new(0);
        if details { agg } else { agg.totals_only() }
    }

    /// The episodes of `bytes` and their statistics, decoded on `threads`.
    fn fold(
        bytes: &[u8],
        details: bool,
        threads: goblock_trace::Threads,
    ) -> (u64, FxHashMap<StackKey, StackStats>) {
        let mut agg = aggregator(details);
        goblock_trace::decode_threads(bytes, &mut Tables::new(), &mut agg, threads)
            .expect("decodes");
        (agg.episodes(), agg.into_stats())
    }

    /// A part's ids as the sink's (the tests' parts share its tables).
    struct Same;

    impl Ids for Same {
        fn stack(&self, s: StackId) -> StackId {
            s
        }
        fn sym(&self, s: Sym) -> Sym {
            s
        }
        fn creator(&self, _: u64) -> Option<StackId> {
            None
        }
    }

    /// Joined parts count distinct goroutines as one fold of all their
    /// episodes does, up to and past [`MAX_DISTINCT_GOROUTINES`]; and the
    /// longest episodes kept do not depend on the order they came in.
    #[test]
    fn joined_parts_count_goroutines_and_keep_the_longest_alike() {
        let ep = |g: u64, d: u64| Episode {
            goroutine: g,
            category: Category::Sync,
            reason: Sym(1),
            start_ns: 1000 + g % 7,
            end_ns: 1000 + g % 7 + d,
            began_before_trace: false,
            open_at_end: false,
            stack: StackId(1),
            waker: None,
            creator: None,
        };
        let tables = Tables::new();
        for n in [100u64, 4096, 4097, 9000] {
            // Durations with many ties.
            let eps: Vec<Episode> = (0..n).map(|g| ep(g * 7 % n, g % 5)).collect();
            let mut whole = StackAggregator::new(0);
            for e in &eps {
                whole.episode(e, &tables);
            }
            let mut joined = StackAggregator::new(0);
            for piece in eps.rchunks(1000) {
                let mut part = joined.part();
                for e in piece {
                    part.episode(e, &tables);
                }
                joined.join(part.as_mut(), &Same);
            }
            let (w, j) = (whole.into_stats(), joined.into_stats());
            let key =
                |m: &FxHashMap<StackKey, StackStats>| m.values().map(shown).collect::<Vec<_>>();
            assert_eq!(key(&w), key(&j), "{n} goroutines");
            let s = w.values().next().expect("one key");
            assert_eq!(s.goroutines_saturated, n > MAX_DISTINCT_GOROUTINES as u64);
        }
    }

    /// A part's size (what bounds it on the decoder's workers) grows with
    /// its keys and what each keeps, and falls back once it is joined.
    #[test]
    fn a_part_says_how_much_it_holds() {
        let ep = |stack: u32, g: u64| Episode {
            goroutine: g,
            category: Category::Sync,
            reason: Sym(1),
            start_ns: 1000,
            end_ns: 1000 + g,
            began_before_trace: false,
            open_at_end: false,
            stack: StackId(stack),
            waker: None,
            creator: None,
        };
        let tables = Tables::new();
        for details in [false, true] {
            let mut sink = aggregator(details);
            let mut part = sink.part();
            let empty = part.bytes();
            for stack in 1..=1000 {
                part.episode(&ep(stack, 1), &tables);
            }
            let keys = part.bytes();
            assert!(
                keys >= empty + 1000 * std::mem::size_of::<Entry>(),
                "details {details}: 1000 keys in {keys} bytes"
            );
            // More goroutines at one key: its set grows.
            for g in 2..5000 {
                part.episode(&ep(1, g), &tables);
            }
            let sets = part.bytes();
            assert!(
                sets >= keys + 4000 * std::mem::size_of::<u64>(),
                "details {details}: {sets} bytes after {keys}"
            );
            // Joined, it keeps its vectors only.
            sink.join(part.as_mut(), &Same);
            let joined = part.bytes();
            assert!(
                joined + 4000 * std::mem::size_of::<u64>() <= sets,
                "details {details}: {joined} bytes joined, {sets} before"
            );
        }
    }
}
