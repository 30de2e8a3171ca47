//! Batch framing and generation splitting for v2 traces.
//!
//! A v2 trace is `header, generation*`; a generation is a run of batches
//! (`type(1|49) [exp] generation m ts size data`) and, from Go 1.26 on, a lone
//! `EndOfGeneration` byte (52). Before Go 1.26 a generation ends where a batch
//! of generation `generation+1` starts (Go's "spilled batch") or at end of file.
//!
//! This module finds batch boundaries and groups batches into generations the
//! way Go's `readGeneration` / `readGenerationWithSpill` do, including their
//! checks (batch size limit, generation numbers). It classifies problems as
//! *truncation* (the file ends inside a batch or a 1.26 generation has no
//! end marker) or *corruption* (anything else). It does not look inside
//! batch payloads: see `tables.rs` and `merge.rs`.
//!
//! Batches are never copied: a [`Batch`] holds offsets into the input.

use super::events::{MAX_BATCH_SIZE, ev};
use crate::{Arriving, DecodeError, varint};

/// One batch: its header fields and where its payload is in the file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Batch {
    /// Offset of the batch's first (type) byte.
    pub offset: usize,
    /// Experiment id (0 = ordinary batch).
    pub exp: u8,
    /// Thread (M) id, `u64::MAX` = no thread.
    pub m: u64,
    /// Base timestamp (trace clock ticks).
    pub ts: u64,
    /// Payload start offset.
    pub start: usize,
    /// Payload end offset (exclusive).
    pub end: usize,
}

impl Batch {
    /// The payload.
    #[inline]
    pub fn data<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes.get(self.start..self.end).unwrap_or(&[])
    }

    /// First payload byte (batch kind for special batches).
    pub fn first_byte(&self, bytes: &[u8]) -> Option<u8> {
        self.data(bytes).first().copied()
    }
}

/// What [`read_batch`] found.
#[derive(Debug)]
pub(crate) enum Next {
    /// A complete batch of generation `generation`.
    Batch { batch: Batch, generation: u64 },
    /// The Go 1.26+ end-of-generation byte, at `offset`.
    EndOfGeneration { offset: usize },
    /// Clean end of file at a batch boundary.
    Eof,
    /// The file ends inside the batch starting at `offset` (of generation
    /// `generation`, when its header could be read).
    Truncated {
        offset: usize,
        what: String,
        generation: Option<u64>,
    },
}

/// Reads the batch (or end-of-generation byte) at `*pos`, advancing `*pos`
/// past it.
pub(crate) fn read_batch(bytes: &[u8], pos: &mut usize) -> Result<Next, DecodeError> {
    let offset = *pos;
    let Some(&typ) = bytes.get(offset) else {
        return Ok(Next::Eof);
    };
    if typ == ev::END_OF_GENERATION {
        *pos = offset + 1;
        return Ok(Next::EndOfGeneration { offset });
    }
    if typ != ev::EVENT_BATCH && typ != ev::EXPERIMENTAL_BATCH {
        return Err(DecodeError::Corrupt {
            offset: offset as u64,
            what: format!(
                "expected a batch (byte 1 or 49) or end of generation (52), found byte {typ}"
            ),
        });
    }
    let mut p = offset + 1;
    let mut exp = 0u8;
    if typ == ev::EXPERIMENTAL_BATCH {
        let Some(&e) = bytes.get(p) else {
            return Ok(truncated(offset, "experiment id"));
        };
        exp = e;
        p += 1;
    }
    let mut field = |name: &str| -> Result<Result<u64, Next>, DecodeError> {
        match varint::read(bytes, &mut p) {
            Ok(v) => Ok(Ok(v)),
            Err(varint::Error::Truncated) => Ok(Err(truncated(offset, name))),
            Err(varint::Error::Overlong) => Err(DecodeError::Corrupt {
                offset: offset as u64,
                what: format!("batch header: invalid varint for the {name}"),
            }),
        }
    };
    let generation = match field("generation")? {
        Ok(v) => v,
        Err(t) => return Ok(t),
    };
    let m = match field("thread id")? {
        Ok(v) => v,
        Err(t) => return Ok(t),
    };
    let ts = match field("timestamp")? {
        Ok(v) => v,
        Err(t) => return Ok(t),
    };
    let size = match field("size")? {
        Ok(v) => v,
        Err(t) => return Ok(t),
    };
    if size > MAX_BATCH_SIZE {
        return Err(DecodeError::Corrupt {
            offset: offset as u64,
            what: format!("invalid batch size {size}, maximum is {MAX_BATCH_SIZE}"),
        });
    }
    let start = p;
    let end = start + size as usize;
    if end > bytes.len() {
        return Ok(Next::Truncated {
            offset,
            generation: Some(generation),
            what: format!(
                "batch of {size} bytes (generation {generation}, M {}) cut after {} bytes",
                m as i64,
                bytes.len() - start
            ),
        });
    }
    *pos = end;
    Ok(Next::Batch {
        batch: Batch {
            offset,
            exp,
            m,
            ts,
            start,
            end,
        },
        generation,
    })
}

fn truncated(offset: usize, field: &str) -> Next {
    Next::Truncated {
        offset,
        what: format!("batch header cut in its {field}"),
        generation: None,
    }
}

/// The batches of one generation, in file order. Reused across generations.
#[derive(Debug, Default)]
pub(crate) struct GenBatches {
    /// Generation number.
    pub generation: u64,
    /// Offset of the generation's first batch.
    pub start: usize,
    /// Offset just past the generation (its end marker, the next
    /// generation's first batch, or end of file).
    pub end: usize,
    /// Every batch, file order.
    pub batches: Vec<Batch>,
    /// Smallest batch timestamp (Go's `minTs`, with its quirks).
    pub min_ts: u64,
}

impl GenBatches {
    fn reset(&mut self, start: usize) {
        self.generation = 0;
        self.start = start;
        self.end = start;
        self.batches.clear();
        self.min_ts = 0;
    }

    fn push(&mut self, b: Batch) {
        // Go: `if g.minTs == 0 || b.time < g.minTs { g.minTs = b.time }`.
        if self.min_ts == 0 || b.ts < self.min_ts {
            self.min_ts = b.ts;
        }
        self.batches.push(b);
    }
}

/// How a generation ended.
#[derive(Debug)]
pub(crate) enum GenEnd {
    /// By its end marker (1.26+), the next generation's first batch, or a
    /// clean end of file (before 1.26; see `last`).
    Complete {
        /// Nothing follows (before 1.26: a generation ended by end of file,
        /// whose completeness the caller must still check).
        last: bool,
    },
    /// The file ends inside this generation: it is incomplete.
    Truncated {
        /// Where the incomplete part starts (the cut batch, or the end of
        /// file for a 1.26+ generation without end marker).
        offset: usize,
        /// Explanation.
        what: String,
    },
}

/// Splits a v2 trace into generations.
#[derive(Clone)]
pub(crate) struct Splitter {
    minor: u32,
    pos: usize,
    /// Before 1.26: the first batch of the next generation, already read.
    spill: Option<(u64, Batch)>,
    /// Before 1.26: a cut batch found after a generation, reported next.
    pending: Option<(usize, String, Option<u64>)>,
    finished: bool,
}

impl Splitter {
    /// Starts after the 16-byte header.
    pub fn new(minor: u32, start: usize) -> Self {
        Splitter {
            minor,
            pos: start,
            spill: None,
            pending: None,
            finished: false,
        }
    }

    /// Reads the next generation's batches into `out`. `Ok(None)` at the end
    /// of the trace.
    pub fn next(
        &mut self,
        bytes: &[u8],
        out: &mut GenBatches,
    ) -> Result<Option<GenEnd>, DecodeError> {
        if self.finished {
            return Ok(None);
        }
        if self.minor >= super::events::GO126 {
            self.next_marked(bytes, out)
        } else {
            self.next_spilled(bytes, out)
        }
    }

    /// [`Splitter::next`] of input that may still be arriving: a generation
    /// is split only once all its bytes have arrived and what follows it
    /// shows it ended (its end marker, or the next generation's first
    /// batch), as the whole input would split it; `Ok(None)` when it has
    /// not arrived yet and `wait` is false (else this waits for it).
    /// `Err(Cancelled)` when the input will not arrive.
    pub fn next_arrived(
        &mut self,
        bytes: &[u8],
        arriving: Option<&dyn Arriving>,
        out: &mut GenBatches,
        wait: bool,
    ) -> Result<Option<Option<GenEnd>>, DecodeError> {
        let Some(a) = arriving else {
            return self.next(bytes, out).map(Some);
        };
        let mut ready = a.ready().ok_or(DecodeError::Cancelled)?;
        loop {
            if ready >= bytes.len() {
                return self.next(bytes, out).map(Some);
            }
            // On the bytes that have arrived: a complete generation
            // followed by more is complete in the whole input too; a cut,
            // the end, or an error may only be where the arrived bytes end.
            let before = self.clone();
            let part = bytes.get(..ready).unwrap_or(bytes);
            if let Ok(Some(GenEnd::Complete { last: false })) = self.next(part, out) {
                return Ok(Some(Some(GenEnd::Complete { last: false })));
            }
            *self = before;
            if !wait {
                return Ok(None);
            }
            ready = a.wait_beyond(ready).ok_or(DecodeError::Cancelled)?;
        }
    }

    /// Go 1.26+: `readGeneration`.
    fn next_marked(
        &mut self,
        bytes: &[u8],
        out: &mut GenBatches,
    ) -> Result<Option<GenEnd>, DecodeError> {
        out.reset(self.pos);
        loop {
            let at = self.pos;
            match read_batch(bytes, &mut self.pos)? {
                Next::Eof => {
                    self.finished = true;
                    out.end = self.pos;
                    if out.batches.is_empty() {
                        return Ok(None);
                    }
                    return Ok(Some(GenEnd::Truncated {
                        offset: self.pos,
                        what: format!(
                            "generation {} has no end-of-generation marker (file ends after {} of its batches)",
                            out.generation,
                            out.batches.len()
                        ),
                    }));
                }
                Next::Truncated { offset, what, .. } => {
                    self.finished = true;
                    out.end = bytes.len();
                    return Ok(Some(GenEnd::Truncated { offset, what }));
                }
                Next::EndOfGeneration { offset } => {
                    out.end = self.pos;
                    if out.batches.is_empty() {
                        return Err(DecodeError::Corrupt {
                            offset: offset as u64,
                            what: "end-of-generation marker without any batch before it (no frequency event found)".into(),
                        });
                    }
                    return Ok(Some(GenEnd::Complete { last: false }));
                }
                Next::Batch { batch, generation } => {
                    if generation == 0 {
                        return Err(DecodeError::Corrupt {
                            offset: at as u64,
                            what: "invalid generation number 0 in batch header".into(),
                        });
                    }
                    if out.generation == 0 {
                        out.generation = generation;
                    } else if generation != out.generation {
                        return Err(DecodeError::Corrupt {
                            offset: at as u64,
                            what: format!(
                                "batch of generation {generation} inside generation {}: missing end-of-generation event, or generations are interleaved",
                                out.generation
                            ),
                        });
                    }
                    out.push(batch);
                }
            }
        }
    }

    /// Before Go 1.26: `readGenerationWithSpill`.
    fn next_spilled(
        &mut self,
        bytes: &[u8],
        out: &mut GenBatches,
    ) -> Result<Option<GenEnd>, DecodeError> {
        out.reset(self.pos);
        if let Some((offset, what, generation)) = self.pending.take() {
            self.finished = true;
            out.start = offset;
            out.end = bytes.len();
            out.generation = generation.unwrap_or(0);
            return Ok(Some(GenEnd::Truncated { offset, what }));
        }
        if let Some((generation, b)) = self.spill.take() {
            out.start = b.offset;
            out.generation = generation;
            out.min_ts = b.ts;
            out.batches.push(b);
        }
        loop {
            let at = self.pos;
            match read_batch(bytes, &mut self.pos)? {
                Next::Eof => {
                    self.finished = true;
                    out.end = self.pos;
                    if out.batches.is_empty() {
                        return Ok(None);
                    }
                    return Ok(Some(GenEnd::Complete { last: true }));
                }
                Next::Truncated {
                    offset,
                    what,
                    generation,
                } => {
                    // Like Go (`spillErr`): a batch that cannot be read
                    // after some of a generation's batches ends that
                    // generation, unless it is one of its own.
                    if out.batches.is_empty() || generation == Some(out.generation) {
                        self.finished = true;
                        out.end = bytes.len();
                        if out.batches.is_empty() {
                            out.generation = generation.unwrap_or(0);
                        }
                        return Ok(Some(GenEnd::Truncated { offset, what }));
                    }
                    self.pending = Some((offset, what, generation));
                    out.end = offset;
                    return Ok(Some(GenEnd::Complete { last: true }));
                }
                Next::EndOfGeneration { offset } => {
                    return Err(DecodeError::Corrupt {
                        offset: offset as u64,
                        what: format!(
                            "end-of-generation byte (52) in a go 1.{} trace (invalid generation number 0)",
                            self.minor
                        ),
                    });
                }
                Next::Batch { batch, generation } => {
                    if generation == 0 {
                        return Err(DecodeError::Corrupt {
                            offset: at as u64,
                            what: "invalid generation number 0 in batch header".into(),
                        });
                    }
                    if out.generation == 0 {
                        out.generation = generation;
                    }
                    if generation == out.generation.wrapping_add(1) {
                        self.spill = Some((generation, batch));
                        out.end = at;
                        return Ok(Some(GenEnd::Complete { last: false }));
                    }
                    if generation != out.generation {
                        return Err(DecodeError::Corrupt {
                            offset: at as u64,
                            what: format!(
                                "generations out of order: batch of generation {generation} inside generation {}",
                                out.generation
                            ),
                        });
                    }
                    out.push(batch);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_errors_and_truncation() {
        let mut p = 0;
        assert!(matches!(read_batch(&[], &mut p), Ok(Next::Eof)));
        let mut p = 0;
        assert!(matches!(
            read_batch(&[7], &mut p),
            Err(DecodeError::Corrupt { offset: 0, .. })
        ));
        let mut p = 0;
        assert!(matches!(
            read_batch(&[1, 1], &mut p),
            Ok(Next::Truncated { offset: 0, .. })
        ));
        // generation 1, m 2, ts 3, size 4 but only 2 bytes of payload.
        let mut p = 0;
        assert!(matches!(
            read_batch(&[1, 1, 2, 3, 4, 9, 9], &mut p),
            Ok(Next::Truncated { .. })
        ));
        // size over the limit.
        let mut p = 0;
        assert!(matches!(
            read_batch(&[1, 1, 2, 3, 0x81, 0x80, 0x04], &mut p),
            Err(DecodeError::Corrupt { .. })
        ));
        let mut p = 0;
        match read_batch(&[49, 1, 1, 2, 3, 1, 9], &mut p) {
            Ok(Next::Batch { batch, generation }) => {
                assert_eq!((generation, batch.exp, batch.m, batch.ts), (1, 1, 2, 3));
                assert_eq!((batch.start, batch.end), (6, 7));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p, 7);
    }
}
