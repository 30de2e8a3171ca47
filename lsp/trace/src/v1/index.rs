//! Pass 1 over an old-format trace: walks every event once, without keeping
//! any, and records what pass 2 needs — where each P's batches are, where the
//! strings and stack records are, the tick frequency, the first and last
//! timestamps — and where the decodable data end (truncation).
//!
//! Does not order events, interpret goroutine state or resolve stacks (see
//! `order`, `episodes`, `stacks`). Memory: a few words per 64 KiB batch,
//! string and stack record.

use super::event::ev;
use super::wire::{self, WireError};
use crate::fxhash::FxHashMap;
use crate::{DecodeError, EpisodeSink};

/// One batch: the bytes from its `Batch` event to the next batch (or the end
/// of the decodable data).
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    /// Offset of the `Batch` event.
    pub start: usize,
    /// Offset just past the batch's last event.
    pub end: usize,
}

/// All batches written for one P (or for "no P", pid −1), in file order.
#[derive(Clone, Debug)]
pub struct Stream {
    /// P id as written (−1 = no P).
    pub pid: i64,
    /// Batches in file order.
    pub batches: Vec<Batch>,
}

/// What pass 1 learned.
#[derive(Debug, Default)]
pub struct Index {
    /// One stream per P id, in order of first appearance.
    pub streams: Vec<Stream>,
    /// String id → (offset, length) of its bytes.
    pub strings: FxHashMap<u64, (usize, usize)>,
    /// Offsets of `Stack` events.
    pub stacks: Vec<usize>,
    /// Ticks per second (`Frequency` event), if present.
    pub frequency: Option<u64>,
    /// Smallest timestamp (ticks) of any timed event (CPU samples: their own time).
    pub min_ts: Option<i64>,
    /// Largest such timestamp.
    pub max_ts: Option<i64>,
    /// Timed events (excluding CPU samples).
    pub timed_events: u64,
    /// CPU samples.
    pub cpu_samples: u64,
    /// `FutileWakeup` events (not written by Go ≥ 1.11 runtimes in practice).
    pub futile_wakeups: u64,
    /// End of the decodable data (= input length unless truncated).
    pub end: usize,
    /// Offset of the event the input ends inside, when truncated.
    pub truncated_at: Option<usize>,
}

impl Index {
    /// Whether data are missing at the end (truncated inside an event, or the
    /// footer with frequency and stacks never came).
    pub fn incomplete(&self) -> bool {
        self.truncated_at.is_some() || self.frequency.is_none()
    }
}

/// How often (bytes) pass 1 reports progress.
const PROGRESS_EVERY: usize = 1 << 20;

/// Runs pass 1 over `buf` (the whole file, header included) from `start`.
pub fn build(
    buf: &[u8],
    start: usize,
    minor: u32,
    sink: &mut dyn EpisodeSink,
) -> Result<Index, DecodeError> {
    let total = buf.len() as u64;
    let mut ix = Index {
        end: buf.len(),
        ..Index::default()
    };
    let mut stream_of: FxHashMap<i64, usize> = FxHashMap::default();
    let mut cur: Option<usize> = None; // stream of the current batch
    let mut cur_ts: i64 = 0;
    let mut pos = start;
    let mut next_progress = pos + PROGRESS_EVERY;
    let mut min_ts = i64::MAX;
    let mut max_ts = i64::MIN;
    let skimmer = wire::Skimmer::new(minor);
    while pos < buf.len() {
        if pos >= next_progress {
            next_progress = pos + PROGRESS_EVERY;
            if sink.progress(pos as u64, total).is_break() {
                return Err(DecodeError::Cancelled);
            }
        }
        if let Some((typ, end, delta)) = skimmer.skim(buf, pos) {
            // Ordinary timed event (the vast majority).
            if cur.is_none() {
                return Err(before_batch(pos, typ));
            }
            pos = end;
            cur_ts = cur_ts.wrapping_add(delta as i64);
            ix.timed_events += 1;
            if typ == ev::FUTILE_WAKEUP {
                ix.futile_wakeups += 1;
            }
            min_ts = min_ts.min(cur_ts);
            max_ts = max_ts.max(cur_ts);
            continue;
        }
        let raw = match wire::read(buf, pos, minor) {
            Ok(r) => r,
            Err(WireError::Truncated { offset }) => {
                ix.truncated_at = Some(offset);
                ix.end = offset;
                break;
            }
            Err(WireError::Corrupt { offset, what }) => {
                return Err(DecodeError::Corrupt {
                    offset: offset as u64,
                    what,
                });
            }
        };
        let at = pos;
        pos = raw.end;
        match raw.typ {
            ev::BATCH => {
                let pid = raw.values[0];
                let pid = if pid == u64::MAX {
                    -1
                } else if pid > i32::MAX as u64 {
                    return Err(DecodeError::Corrupt {
                        offset: at as u64,
                        what: format!("Batch for processor id {pid}"),
                    });
                } else {
                    pid as i64
                };
                if let Some(c) = cur {
                    close_batch(&mut ix.streams[c], at);
                }
                let n = ix.streams.len();
                let s = *stream_of.entry(pid).or_insert(n);
                if s == n {
                    ix.streams.push(Stream {
                        pid,
                        batches: Vec::new(),
                    });
                }
                ix.streams[s].batches.push(Batch { start: at, end: at });
                cur = Some(s);
                cur_ts = raw.values[1] as i64;
                continue;
            }
            ev::STRING => {
                let id = raw.values[0];
                let val = (raw.values[1] as usize, raw.values[2] as usize);
                if ix.strings.insert(id, val).is_some() {
                    return Err(DecodeError::Corrupt {
                        offset: at as u64,
                        what: format!("String id {id} defined twice"),
                    });
                }
            }
            ev::STACK => {
                // Validate now so that pass 2 never meets a malformed record.
                wire::stack_values(
                    buf,
                    raw.values[0] as usize,
                    raw.values[1] as usize,
                    at,
                    |_, _, _, _| {},
                )
                .map_err(|e| match e {
                    WireError::Corrupt { offset, what } => DecodeError::Corrupt {
                        offset: offset as u64,
                        what,
                    },
                    WireError::Truncated { offset } => DecodeError::Corrupt {
                        offset: offset as u64,
                        what: "Stack event overruns its length".into(),
                    },
                })?;
                ix.stacks.push(at);
            }
            ev::FREQUENCY => {
                let f = raw.values[0];
                if ix.frequency.is_some() {
                    return Err(DecodeError::Corrupt {
                        offset: at as u64,
                        what: "second Frequency event".into(),
                    });
                }
                ix.frequency = Some(f);
            }
            ev::TIMER_GOROUTINE => {}
            typ => {
                // Timed event.
                cur_ts = cur_ts.wrapping_add(raw.values[0] as i64);
                let ts = if typ == ev::CPU_SAMPLE {
                    ix.cpu_samples += 1;
                    raw.values[1] as i64
                } else {
                    ix.timed_events += 1;
                    if typ == ev::FUTILE_WAKEUP {
                        ix.futile_wakeups += 1;
                    }
                    cur_ts
                };
                min_ts = min_ts.min(ts);
                max_ts = max_ts.max(ts);
            }
        }
        if cur.is_none() {
            return Err(before_batch(at, raw.typ));
        }
    }
    if let Some(c) = cur {
        close_batch(&mut ix.streams[c], ix.end);
    }
    if min_ts <= max_ts {
        ix.min_ts = Some(min_ts);
        ix.max_ts = Some(max_ts);
    }
    if sink.progress(ix.end as u64, total).is_break() {
        return Err(DecodeError::Cancelled);
    }
    Ok(ix)
}

fn before_batch(at: usize, typ: u8) -> DecodeError {
    DecodeError::Corrupt {
        offset: at as u64,
        what: format!(
            "{} event before the first Batch event",
            super::event::name(typ)
        ),
    }
}

fn close_batch(s: &mut Stream, end: usize) {
    if let Some(b) = s.batches.last_mut() {
        b.end = end;
    }
}
