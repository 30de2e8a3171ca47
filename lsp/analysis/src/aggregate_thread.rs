//! Runs the per-stack aggregation ([`StackAggregator`]) on a thread of its
//! own, beside the decoder: the decoder's sink only copies episodes into
//! chunks and hands them over a bounded channel, so folding them costs the
//! decoding thread almost nothing. Chunk buffers are recycled; at most
//! [`IN_FLIGHT`] chunks are queued, so memory stays bounded whatever the
//! trace size.
//!
//! Progress and cancellation stay on the decoding thread (they release input
//! pages and must answer at once). The result is the same statistics as
//! feeding the aggregator directly: episodes keep their order.
//! Nothing here decodes, symbolizes or attributes.

use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use goblock_trace::fxhash::FxHashMap;
use goblock_trace::{Episode, EpisodeSink, Tables};

use crate::stack_stats::{StackAggregator, StackKey, StackStats};

/// Episodes per chunk handed to the aggregation thread.
const CHUNK: usize = 1024;
/// Chunks queued at most.
const IN_FLIGHT: usize = 8;

/// What the aggregation produced.
pub struct Aggregated {
    /// Per-stack statistics.
    pub stats: FxHashMap<StackKey, StackStats>,
    /// Episodes folded.
    pub episodes: u64,
}

/// Runs `decode` with a sink whose episodes are aggregated on another
/// thread (trace index `trace`), and `progress` called on this one. Returns
/// `decode`'s result and the aggregation.
pub fn decode_aggregated<T>(
    trace: u32,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    decode: impl FnOnce(&mut dyn EpisodeSink) -> T,
) -> (T, Aggregated) {
    let (tx, rx) = sync_channel::<Vec<Episode>>(IN_FLIGHT);
    let (spare_tx, spare_rx) = sync_channel::<Vec<Episode>>(IN_FLIGHT + 2);
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("goblock-aggregate".into())
            .spawn_scoped(scope, move || {
                let mut agg = StackAggregator::new(trace);
                for mut chunk in rx {
                    for ep in &chunk {
                        agg.add(ep);
                    }
                    chunk.clear();
                    // The decoder may be gone (finished): the buffer is dropped.
                    let _ = spare_tx.try_send(chunk);
                }
                let episodes = agg.episodes;
                Aggregated {
                    stats: agg.into_stats(),
                    episodes,
                }
            });
        let worker = match worker {
            Ok(w) => w,
            Err(_) => {
                // No thread to be had: aggregate here instead.
                let mut agg = StackAggregator::new(trace).with_progress(progress);
                let out = decode(&mut agg);
                let episodes = agg.episodes;
                return (
                    out,
                    Aggregated {
                        stats: agg.into_stats(),
                        episodes,
                    },
                );
            }
        };
        let mut sink = Forward {
            buf: Vec::with_capacity(CHUNK),
            tx: Some(tx),
            spare: spare_rx,
            progress,
        };
        let out = decode(&mut sink);
        sink.flush();
        sink.tx = None; // closes the channel: the worker finishes
        match worker.join() {
            Ok(agg) => (out, agg),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The decoder-side sink: copies episodes into chunks for the worker.
struct Forward<'p> {
    buf: Vec<Episode>,
    tx: Option<SyncSender<Vec<Episode>>>,
    spare: Receiver<Vec<Episode>>,
    progress: &'p mut dyn FnMut(u64, u64) -> ControlFlow<()>,
}

impl Forward<'_> {
    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let full = std::mem::replace(&mut self.buf, next);
        if let Some(tx) = &self.tx
            && tx.send(full).is_err()
        {
            // The worker died (it panicked): stop sending; join reports it.
            self.tx = None;
        }
    }
}

impl EpisodeSink for Forward<'_> {
    #[inline]
    fn episode(&mut self, ep: &Episode, _tables: &Tables) {
        self.buf.push(*ep);
        if self.buf.len() >= CHUNK {
            self.flush();
        }
    }

    fn progress(&mut self, done: u64, total: u64) -> ControlFlow<()> {
        (self.progress)(done, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use goblock_trace::{Category, StackId, Sym};

    fn ep(i: u64) -> Episode {
        Episode {
            goroutine: i % 7,
            category: if i.is_multiple_of(3) {
                Category::Sync
            } else {
                Category::Net
            },
            reason: Sym((i % 2) as u32),
            start_ns: i,
            end_ns: i + (i * 7919) % 1000,
            began_before_trace: false,
            open_at_end: i.is_multiple_of(11),
            stack: StackId((i % 5) as u32 + 1),
            waker: None,
            creator: None,
        }
    }

    #[test]
    fn same_statistics_as_direct_aggregation() {
        let n = 10 * CHUNK as u64 + 17;
        let mut direct = StackAggregator::new(3);
        for i in 0..n {
            direct.add(&ep(i));
        }
        let mut progress_calls = 0;
        let mut progress = |_: u64, _: u64| {
            progress_calls += 1;
            ControlFlow::Continue(())
        };
        let tables = Tables::new();
        let (ret, agg) = decode_aggregated(3, &mut progress, |sink| {
            for i in 0..n {
                sink.episode(&ep(i), &tables);
                if i % 1000 == 0 {
                    let _ = sink.progress(i, n);
                }
            }
            "decoded"
        });
        assert_eq!(ret, "decoded");
        assert_eq!(progress_calls, n.div_ceil(1000));
        assert_eq!(agg.episodes, n);
        let direct = direct.into_stats();
        assert_eq!(agg.stats.len(), direct.len());
        for (k, s) in &direct {
            let t = &agg.stats[k];
            assert_eq!(
                (
                    t.closed_count,
                    t.closed_total_ns,
                    t.open_count,
                    t.open_total_ns
                ),
                (
                    s.closed_count,
                    s.closed_total_ns,
                    s.open_count,
                    s.open_total_ns
                )
            );
            assert_eq!(t.hist, s.hist);
            assert_eq!(t.goroutines, s.goroutines);
            let long = |x: &StackStats| {
                x.longest
                    .iter()
                    .map(|e| (e.goroutine, e.duration_ns, e.start_ns))
                    .collect::<Vec<_>>()
            };
            assert_eq!(long(t), long(s));
        }
    }
}
