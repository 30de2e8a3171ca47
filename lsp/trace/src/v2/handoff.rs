//! Carries goroutine transitions from the ordering (`merge.rs` + `order.rs`,
//! the "front") to the episode builder (`translate.rs` + the episode core, the "back"), so that
//! the two halves of decoding can run on two threads: on a large trace the
//! front runs on a helper thread and sends transitions in chunks over a
//! channel ([`Forward`] → [`Channel`]) while the back — episodes, and the
//! caller's sink — runs on the caller's thread; on a small trace, or with
//! one core, the back is the ordering's consumer and applies each
//! transition as it is produced, with the same code.
//!
//! The per-goroutine episode state ([`Slot`]) lives in the ordering's own
//! goroutine state when the back is on the same thread (one lookup serves
//! both; see [`Consumer::Slot`]). On two threads the back keeps its own,
//! created on a goroutine's first transition and dropped on its transition
//! to `NotExist` — the lifetime of the ordering's goroutine state, which
//! only hands over transitions of goroutines it knows.
//!
//! Does not decide order or meaning; only moves transitions, generation
//! tables and progress, and carries cancellation back (a back that stops
//! receiving stops the front at its next chunk).

use std::ops::ControlFlow;
use std::sync::Arc;

use super::merge::{GenInput, GenStats, Merger};
use super::order::{Consumer, Ev, GoState, Ordering, Transition};
use super::tables::{GenTables, Resolver};
use super::translate::{GenEpisodes, Origin, Tracker};
use crate::episodes::Slot;
use crate::gtable::GTable;
use crate::{DecodeError, EpisodeSink, Tables};

/// Transitions per chunk (88 bytes each: a chunk stays in L2).
pub(crate) const CHUNK: usize = 2048;
/// How often (chunks) the back reports progress inside a generation.
const PROGRESS_EVERY: u32 = 256;

/// One transition, by value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rec {
    ev: Ev,
    time: i64,
    g: u64,
    ctx_g: u64,
    source: u8,
    from: GoState,
    to: GoState,
}

/// What the front sends.
pub(crate) enum Msg {
    /// A generation starts: its tables, the offset of its first byte, and
    /// the trace's time origin (set with the first generation).
    Gen {
        tables: Arc<GenTables>,
        start: u64,
        origin: i64,
    },
    /// Transitions, in order.
    Recs(Vec<Rec>),
    /// The generation ended; input before this offset is no longer needed.
    GenEnd(u64),
}

/// Where the front's messages and transitions go: the back itself (same
/// thread: messages are handled at once and transitions applied one by one,
/// the back is the ordering's consumer) or the [`Channel`] to the back on
/// the caller's thread (through [`Forward`]).
pub(crate) trait Out {
    /// What the ordering keeps per goroutine for this back.
    type Slot: Default + Clone;
    /// Delivers `m`; `Break` when the back has stopped (cancelled).
    fn send(&mut self, m: Msg) -> ControlFlow<()>;
    /// Orders the generation `inp`, handing its transitions on.
    fn order(
        &mut self,
        merger: &mut Merger,
        inp: &GenInput<'_>,
        order: &mut Ordering<Self::Slot>,
    ) -> Result<GenStats, DecodeError>;
}

impl Out for Back<'_> {
    type Slot = Slot;

    fn send(&mut self, m: Msg) -> ControlFlow<()> {
        self.handle(m).0
    }

    fn order(
        &mut self,
        merger: &mut Merger,
        inp: &GenInput<'_>,
        order: &mut Ordering<Slot>,
    ) -> Result<GenStats, DecodeError> {
        merger.run(inp, order, self)
    }
}

impl Out for Channel {
    type Slot = ();

    fn send(&mut self, m: Msg) -> ControlFlow<()> {
        Channel::send(self, m)
    }

    fn order(
        &mut self,
        merger: &mut Merger,
        inp: &GenInput<'_>,
        order: &mut Ordering<()>,
    ) -> Result<GenStats, DecodeError> {
        let mut forward = Forward::new(self);
        let res = merger.run(inp, order, &mut forward);
        // Also on an error: what was ordered before it reaches the back, as
        // on one thread (where it is applied at once).
        let sent = forward.finish();
        let stats = res?;
        sent?;
        Ok(stats)
    }
}

/// The ordering's consumer on the front: records transitions and sends them
/// in chunks. Holds no per-goroutine state.
pub(crate) struct Forward<'h> {
    out: &'h mut Channel,
    buf: Vec<Rec>,
    stopped: bool,
}

impl<'h> Forward<'h> {
    pub fn new(out: &'h mut Channel) -> Self {
        let buf = out.buffer();
        Forward {
            out,
            buf,
            stopped: false,
        }
    }

    #[cold]
    #[inline(never)]
    fn flush(&mut self) {
        if self.buf.is_empty() || self.stopped {
            return;
        }
        let next = self.out.buffer();
        let full = std::mem::replace(&mut self.buf, next);
        if self.out.send(Msg::Recs(full)).is_break() {
            self.stopped = true;
        }
    }

    /// Sends what is buffered; `Err(Cancelled)` if the back has stopped.
    pub fn finish(mut self) -> Result<(), DecodeError> {
        self.flush();
        if self.stopped {
            return Err(DecodeError::Cancelled);
        }
        Ok(())
    }
}

impl Consumer for Forward<'_> {
    type Slot = ();

    #[inline]
    fn transition(&mut self, t: &Transition<'_>, _: &mut ()) {
        self.buf.push(Rec {
            ev: *t.ev,
            time: t.time,
            g: t.g,
            ctx_g: t.ctx_g,
            source: t.source,
            from: t.from,
            to: t.to,
        });
        if self.buf.len() >= CHUNK {
            self.flush();
        }
    }

    fn tick(&mut self) -> Result<(), DecodeError> {
        if self.stopped {
            return Err(DecodeError::Cancelled);
        }
        Ok(())
    }
}

/// The back: turns transitions into episodes for the sink, and forwards
/// progress (and with it cancellation) to the sink.
pub(crate) struct Back<'a> {
    pub tracker: Tracker,
    res: Resolver,
    slots: GTable<Slot>,
    gt: Option<Arc<GenTables>>,
    tables: &'a mut Tables,
    sink: &'a mut dyn EpisodeSink,
    bytes: &'a [u8],
    /// Start of the generation being replayed (safe to report as done).
    done: u64,
    chunks: u32,
}

impl<'a> Back<'a> {
    pub fn new(bytes: &'a [u8], tables: &'a mut Tables, sink: &'a mut dyn EpisodeSink) -> Self {
        Back {
            tracker: Tracker::new(Origin::default(), tables, sink.categories()),
            res: Resolver::default(),
            slots: GTable::default(),
            gt: None,
            tables,
            sink,
            bytes,
            done: 0,
            chunks: 0,
        }
    }

    /// Handles one message; `Break` when the sink cancelled. A chunk's
    /// buffer is handed back for reuse.
    pub fn handle(&mut self, m: Msg) -> (ControlFlow<()>, Option<Vec<Rec>>) {
        match m {
            Msg::Gen {
                tables,
                start,
                origin,
            } => {
                self.gt = Some(tables);
                self.res.clear();
                self.done = start;
                self.tracker.clock = Origin(origin);
                (ControlFlow::Continue(()), None)
            }
            Msg::Recs(v) => {
                self.replay(&v);
                self.chunks += 1;
                let flow = if self.chunks.is_multiple_of(PROGRESS_EVERY) {
                    self.progress()
                } else {
                    ControlFlow::Continue(())
                };
                (flow, Some(v))
            }
            Msg::GenEnd(end) => {
                // Let the front reuse the tables' allocations.
                self.gt = None;
                (self.sink.progress(end, self.bytes.len() as u64), None)
            }
        }
    }

    fn replay(&mut self, recs: &[Rec]) {
        let Some((mut ge, slots)) = self.episodes() else {
            return;
        };
        for r in recs {
            let t = Transition {
                ev: &r.ev,
                time: r.time,
                source: r.source,
                g: r.g,
                from: r.from,
                to: r.to,
                ctx_g: r.ctx_g,
            };
            step(&mut ge, slots, &t);
        }
    }

    /// The episode builder of the current generation (none between
    /// generations) and the goroutines' slots.
    #[inline(always)]
    fn episodes(&mut self) -> Option<(GenEpisodes<'_>, &mut GTable<Slot>)> {
        let gt = self.gt.as_deref()?;
        let ge = GenEpisodes {
            tracker: &mut self.tracker,
            gt,
            res: &mut self.res,
            tables: self.tables,
            sink: &mut *self.sink,
            bytes: self.bytes,
        };
        Some((ge, &mut self.slots))
    }

    /// Reports progress (inside the generation being decoded) to the sink.
    pub fn progress(&mut self) -> ControlFlow<()> {
        self.sink.progress(self.done, self.bytes.len() as u64)
    }

    /// Emits the episodes still open at `end` (ns) in `slots` (the
    /// ordering's, on one thread), in goroutine order.
    pub fn finish<'s>(&mut self, end: i64, slots: impl Iterator<Item = (u64, &'s Slot)>) {
        let slots = slots.map(|(g, s)| (g, *s));
        self.tracker.finish(end, slots, self.tables, self.sink);
    }

    /// [`Back::finish`] with the back's own slots (two threads).
    pub fn finish_own(&mut self, end: i64) {
        let slots = std::mem::take(&mut self.slots);
        self.finish(end, slots.iter());
    }
}

/// Applies transition `t` to its goroutine's slot in the back's own table
/// (two threads; dropped when the goroutine ends, as the ordering drops its
/// state).
#[inline(always)]
fn step(ge: &mut GenEpisodes<'_>, slots: &mut GTable<Slot>, t: &Transition<'_>) {
    ge.transition(t, slots.get_mut(t.g));
    if t.to == GoState::NotExist {
        slots.remove(t.g);
    }
}

/// The ordering's consumer when the back runs on the same thread: each
/// transition is applied at once (no chunk, no copy), and progress is
/// reported at the ordering's ticks.
impl Consumer for Back<'_> {
    type Slot = Slot;

    /// Turns the transition of the goroutine whose episode state is `slot`
    /// into episode state (and episodes, to the sink). Inlined into the
    /// ordering's handlers, where the event type is known: the episode
    /// builder's own `match` on it folds away.
    #[inline(always)]
    fn transition(&mut self, t: &Transition<'_>, slot: &mut Slot) {
        if let Some((mut ge, _)) = self.episodes() {
            ge.transition(t, slot);
        }
    }

    fn tick(&mut self) -> Result<(), DecodeError> {
        if self.progress().is_break() {
            return Err(DecodeError::Cancelled);
        }
        Ok(())
    }
}

/// The front's end of a channel to a back on another thread.
pub(crate) struct Channel {
    pub tx: std::sync::mpsc::SyncSender<Msg>,
    pub spare: std::sync::mpsc::Receiver<Vec<Rec>>,
}

impl Channel {
    /// Sends `m`; `Break` when the back has stopped (cancelled).
    pub fn send(&mut self, m: Msg) -> ControlFlow<()> {
        match self.tx.send(m) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }

    /// An empty buffer for the next chunk (recycled when possible).
    pub fn buffer(&mut self) -> Vec<Rec> {
        match self.spare.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Vec::with_capacity(CHUNK),
        }
    }
}
