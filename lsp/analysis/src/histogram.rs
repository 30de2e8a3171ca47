//! A compact log-linear histogram of durations (ns) with quantile estimates.
//!
//! Buckets are exact below 16 ns; above, each power of two is split into 16
//! equal buckets (an HDR-histogram layout: the bucket is the position of the
//! leading bit and the next four bits, integer arithmetic only), so a bucket
//! is at most 1/16 of its lower bound wide and a quantile is within ~3.1 % of
//! the true value. Counts live in a dense vector over the range of buckets
//! seen (a few hundred for durations from µs to s). Mergeable. Knows nothing
//! of episodes or lines.

/// Sub-buckets per power of two (log2).
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;

/// Durations histogram.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Bucket index of `counts[0]`.
    base: u16,
    counts: Vec<u64>,
    count: u64,
    max: u64,
}

/// The bucket of `ns`: `ns` itself below 16, else 16 per power of two.
fn bucket_of(ns: u64) -> u16 {
    if ns < SUB {
        return ns as u16;
    }
    let e = 63 - ns.leading_zeros(); // >= SUB_BITS
    let m = (ns >> (e - SUB_BITS)) & (SUB - 1);
    ((u64::from(e - SUB_BITS + 1) << SUB_BITS) + m) as u16
}

/// The inclusive range of durations in bucket `b`.
fn bucket_range(b: u16) -> (u64, u64) {
    let b = u64::from(b);
    if b < SUB {
        return (b, b);
    }
    let shift = (b >> SUB_BITS) - 1; // e - SUB_BITS
    let m = b & (SUB - 1);
    let lo = (SUB + m) << shift;
    (lo, lo + ((1u64 << shift) - 1))
}

fn bucket_mid(b: u16) -> u64 {
    let (lo, hi) = bucket_range(b);
    lo + (hi - lo) / 2
}

impl Histogram {
    /// Records one duration.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.add_to_bucket(bucket_of(ns), 1);
        self.count += 1;
        self.max = self.max.max(ns);
    }

    #[inline]
    fn add_to_bucket(&mut self, b: u16, n: u64) {
        if let Some(c) = b
            .checked_sub(self.base)
            .and_then(|i| self.counts.get_mut(usize::from(i)))
        {
            *c += n;
        } else {
            self.grow_to(b, n);
        }
    }

    /// [`Histogram::add_to_bucket`] for a bucket outside the current range.
    #[cold]
    #[inline(never)]
    fn grow_to(&mut self, b: u16, n: u64) {
        if self.counts.is_empty() {
            self.base = b;
            self.counts.push(n);
            return;
        }
        if b < self.base {
            let grow = usize::from(self.base - b);
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.base = b;
        }
        let i = usize::from(b - self.base);
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += n;
    }

    /// Adds another histogram into this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (i, &n) in other.counts.iter().enumerate() {
            if n != 0 {
                self.add_to_bucket(other.base + i as u16, n);
            }
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    /// Number of recorded durations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Estimated quantile `q` in [0, 1] (the exact maximum for q = 1).
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        if q >= 1.0 {
            return self.max;
        }
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_mid(self.base + i as u16).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_close() {
        let mut h = Histogram::default();
        let values: Vec<u64> = (1..=10_000u64).map(|i| i * 1_000).collect();
        for &v in &values {
            h.record(v);
        }
        for q in [0.5, 0.95, 0.99] {
            let exact = values[(q * values.len() as f64).ceil() as usize - 1] as f64;
            let est = h.quantile(q) as f64;
            assert!(
                (est - exact).abs() / exact < 0.05,
                "q={q} est={est} exact={exact}"
            );
        }
        assert_eq!(h.quantile(1.0), 10_000_000);
        let mut h2 = Histogram::default();
        h2.record(0);
        h.merge(&h2);
        assert_eq!(h.count(), 10_001);
        assert_eq!(h2.quantile(0.5), 0);
    }

    #[test]
    fn buckets_tile_the_durations() {
        // Every bucket's range starts right after the previous one's, and
        // every duration lands in the bucket whose range holds it.
        let mut next = 0u64;
        for b in 0..=bucket_of(u64::MAX) {
            let (lo, hi) = bucket_range(b);
            assert_eq!(lo, next, "bucket {b}");
            assert!(hi >= lo);
            assert!(
                (hi - lo) as f64 <= lo as f64 / SUB as f64,
                "bucket {b} too wide"
            );
            for ns in [lo, lo + (hi - lo) / 2, hi] {
                assert_eq!(bucket_of(ns), b, "{ns} ns");
            }
            next = hi.wrapping_add(1);
        }
        assert_eq!(next, 0, "the last bucket ends at u64::MAX");
    }

    #[test]
    fn merge_grows_both_ways() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        a.record(1_000);
        b.record(10);
        b.record(1_000_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.quantile(0.0), 10);
        assert!((a.quantile(0.5) as f64 - 1_000.0).abs() <= 1_000.0 / 32.0);
        assert_eq!(a.quantile(1.0), 1_000_000_000);
    }
}
