//! A sink folding in parts (`Parts`) that keeps every episode: its own as
//! they come, a part's at the join with the ids mapped to the sink's
//! tables. Shared by the parallel decoder's test and the fuzz target
//! (`#[path]`-included); it checks nothing itself.

use goblock_trace::{Episode, EpisodeSink, Ids, Part, Parts, Tables, Waker};

/// Every episode, in the order the sink got them (a part's at its join).
#[derive(Default)]
pub struct KeepAll {
    pub episodes: Vec<Episode>,
    pub joined: Joined,
}

/// What came in parts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Joined {
    pub episodes: usize,
    pub parts: usize,
    /// The most episodes in one part.
    pub largest: usize,
}

/// A part of [`KeepAll`]: the episodes with a worker's ids.
struct KeptPart(Vec<Episode>);

impl EpisodeSink for KeptPart {
    fn episode(&mut self, ep: &Episode, _: &Tables) {
        self.0.push(*ep);
    }
}

impl Part for KeptPart {
    fn empty(&self) -> Box<dyn Part> {
        Box::new(KeptPart(Vec::new()))
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.0.capacity() * std::mem::size_of::<Episode>()
    }
}

impl EpisodeSink for KeepAll {
    fn episode(&mut self, ep: &Episode, _: &Tables) {
        self.episodes.push(*ep);
    }

    fn parts(&mut self) -> Option<&mut dyn Parts> {
        Some(self)
    }
}

impl Parts for KeepAll {
    fn part(&self) -> Box<dyn Part> {
        Box::new(KeptPart(Vec::new()))
    }

    fn join(&mut self, part: &mut dyn Part, ids: &dyn Ids) {
        let Some(KeptPart(eps)) = part.as_any_mut().downcast_mut::<KeptPart>() else {
            panic!("a part of another sink");
        };
        self.joined.episodes += eps.len();
        self.joined.parts += 1;
        self.joined.largest = self.joined.largest.max(eps.len());
        for ep in eps.drain(..) {
            self.episodes.push(Episode {
                reason: ids.sym(ep.reason),
                stack: ids.stack(ep.stack),
                waker: ep.waker.map(|w| Waker {
                    stack: ids.stack(w.stack),
                    ..w
                }),
                creator: match ep.creator {
                    Some(c) => Some(ids.stack(c)),
                    None => ids.creator(ep.goroutine),
                },
                ..ep
            });
        }
    }
}
