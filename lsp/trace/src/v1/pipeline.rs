//! Runs pass 2: the merge ([`super::order`]) feeding the translation into the
//! episode core ([`super::translate`]). On large traces the merge runs on a helper
//! thread and hands over events in bounded chunks (memory stays a few chunks), while
//! the translation and the sink run on the caller's thread; small traces,
//! or a failure to start the thread, run both on the caller's thread. The
//! thread is kept because it pays on two cores and costs nothing measurable
//! on one (`docs/performance.md`, "The old format's helper thread").
//!
//! Does not decide what the events mean; only moves them and reports
//! progress (the lowest byte offset the merge still has to read) and
//! cancellation.

use std::sync::mpsc;

use super::index::Index;
use super::order::{Event, Merger, Stats};
use super::translate::Builder;
use crate::{DecodeError, EpisodeSink};

/// Events per chunk handed between the threads.
const CHUNK: usize = 4096;
/// Chunks in flight.
const DEPTH: usize = 2;
/// Below this many events, one thread (by default).
pub const THREAD_MIN_EVENTS: u64 = 200_000;
/// How often (events) the single-threaded loop reports progress.
const PROGRESS_EVERY: usize = 1 << 14;

enum Msg {
    Chunk(Vec<Event>, usize),
    Done(Stats),
    Err(DecodeError),
}

/// Merges the streams of `ix` and feeds every event to `builder`, on two
/// threads when `threaded`.
pub fn run(
    buf: &[u8],
    minor: u32,
    ix: &Index,
    lenient: bool,
    threaded: bool,
    builder: &mut Builder<'_>,
    sink: &mut dyn EpisodeSink,
) -> Result<Stats, DecodeError> {
    let total = buf.len() as u64;
    if !threaded {
        return run_here(buf, minor, ix, lenient, builder, sink);
    }
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Msg>(DEPTH);
        let (back_tx, back_rx) = mpsc::channel::<Vec<Event>>();
        let spawned = std::thread::Builder::new()
            .name("goblock-v1-merge".into())
            .spawn_scoped(scope, move || {
                merge_thread(buf, minor, ix, lenient, &tx, &back_rx)
            });
        if spawned.is_err() {
            return run_here(buf, minor, ix, lenient, builder, sink);
        }
        for msg in rx.iter() {
            match msg {
                Msg::Chunk(events, low_water) => {
                    for e in &events {
                        builder.event(e, sink);
                    }
                    if sink.progress(low_water as u64, total).is_break() {
                        // Dropping `rx` on return stops the helper.
                        return Err(DecodeError::Cancelled);
                    }
                    let _ = back_tx.send(events);
                }
                Msg::Done(stats) => return Ok(stats),
                Msg::Err(e) => return Err(e),
            }
        }
        Err(DecodeError::Inconsistent {
            what: "the merge thread stopped unexpectedly".into(),
        })
    })
}

fn merge_thread(
    buf: &[u8],
    minor: u32,
    ix: &Index,
    lenient: bool,
    tx: &mpsc::SyncSender<Msg>,
    back: &mpsc::Receiver<Vec<Event>>,
) {
    let mut m = Merger::new(buf, minor, ix, lenient);
    loop {
        let mut v = back
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        v.clear();
        if let Err(err) = m.fill(&mut v, CHUNK) {
            let _ = tx.send(Msg::Err(err));
            return;
        }
        let last = v.len() < CHUNK;
        if tx.send(Msg::Chunk(v, m.low_water())).is_err() {
            return;
        }
        if last {
            let _ = tx.send(Msg::Done(m.stats()));
            return;
        }
    }
}

fn run_here(
    buf: &[u8],
    minor: u32,
    ix: &Index,
    lenient: bool,
    builder: &mut Builder<'_>,
    sink: &mut dyn EpisodeSink,
) -> Result<Stats, DecodeError> {
    let total = buf.len() as u64;
    let mut m = Merger::new(buf, minor, ix, lenient);
    let mut v = Vec::with_capacity(PROGRESS_EVERY);
    loop {
        v.clear();
        m.fill(&mut v, PROGRESS_EVERY)?;
        for e in &v {
            builder.event(e, sink);
        }
        if v.len() < PROGRESS_EVERY {
            return Ok(m.stats());
        }
        if sink.progress(m.low_water() as u64, total).is_break() {
            return Err(DecodeError::Cancelled);
        }
    }
}
