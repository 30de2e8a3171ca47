//! One decoded episode as a line of tab-separated values, with its stacks
//! as their PCs: `goroutine category reason start_ns end_ns began_before
//! open_at_end stack_pcs waker_g waker_pcs creator_pcs` (`waker_g` `-`
//! when the runtime woke it, both waker columns empty without a waker,
//! `creator_pcs` `-` without a creator). Shared by the `episodes` example
//! (`--tsv`) and the parallel decoder's test (`#[path]`-included); it
//! formats, and decodes nothing.

use std::fmt;

use goblock_trace::{Episode, StackId, Tables};

/// The line of an episode (no newline): `format!("{}", Tsv(ep, tables))`.
pub struct Tsv<'a>(pub &'a Episode, pub &'a Tables);

/// A stack's PCs, hexadecimal, comma-separated.
fn pcs(t: &Tables, s: StackId) -> String {
    t.stack(s)
        .iter()
        .map(|&f| format!("{:x}", t.frame(f).pc))
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for Tsv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Tsv(ep, t) = *self;
        let (wg, ws) = match ep.waker {
            Some(w) => (
                w.goroutine.map_or("-".to_string(), |g| g.to_string()),
                pcs(t, w.stack),
            ),
            None => (String::new(), String::new()),
        };
        let creator = ep.creator.map_or("-".to_string(), |c| pcs(t, c));
        write!(
            f,
            "{}\t{}\t{:?}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            ep.goroutine,
            ep.category,
            t.str(ep.reason),
            ep.start_ns,
            ep.end_ns,
            ep.began_before_trace,
            ep.open_at_end,
            pcs(t, ep.stack),
            wg,
            ws,
            creator
        )
    }
}
