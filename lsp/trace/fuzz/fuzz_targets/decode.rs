//! Fuzz target: the trace decoder must never panic, whatever the bytes —
//! through the public entry point (every format) and the new-format decoder
//! in Go-reader time mode; every episode's stacks and strings must resolve.
//!
//! `cd lsp/trace/fuzz && cargo +nightly fuzz run decode corpus/decode -- -max_len=65536`

#![no_main]

use goblock_trace::{Episode, Tables};
use libfuzzer_sys::fuzz_target;

fn sink(ep: &Episode, t: &Tables) {
    assert!(
        ep.start_ns <= ep.end_ns,
        "episode ends before it starts: {ep:?}"
    );
    let _ = t.str(ep.reason);
    for s in [Some(ep.stack), ep.creator, ep.waker.map(|w| w.stack)]
        .into_iter()
        .flatten()
    {
        for &f in t.stack(s) {
            let fr = t.frame(f);
            let _ = (t.str(fr.func), t.str(fr.file));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut tables = Tables::new();
    let _ = goblock_trace::decode(data, &mut tables, &mut sink);
    if let Ok(h) = goblock_trace::header::parse(data)
        && h.format == goblock_trace::Format::V2
    {
        let mut tables = Tables::new();
        let opts = goblock_trace::v2::Options {
            go_reader_times: true,
            ..Default::default()
        };
        let _ = goblock_trace::v2::decode_with(data, &h, &mut tables, &mut sink, &opts);
    }
});
