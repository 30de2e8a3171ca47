//! Fuzz target: the goroutine dump parser, the debug=1 text profile parser
//! and the sniffer must never panic, whatever the bytes; every goroutine
//! handed out has a header offset inside the input and frames with a file
//! and a line; the snapshots' goroutine counts add up to the summary's; a
//! cut anywhere never yields more goroutines than the whole input.
//!
//! `cd lsp/dumps/fuzz && mkdir -p corpus/dump && cargo +nightly fuzz run dump corpus/dump seeds -- -max_len=65536`
//! (`seeds/`: real dumps and a goroutine profile; `corpus/` is not committed).

#![no_main]

use goblock_dumps::{Goroutine, parse_dump, profile_text, sniff};
use libfuzzer_sys::fuzz_target;

fn count(data: &[u8]) -> Option<u64> {
    let mut n = 0u64;
    let len = data.len() as u64;
    let r = parse_dump(data, &mut |g: &Goroutine<'_, '_>| {
        assert!(g.offset < len, "header offset {} outside the input", g.offset);
        for f in g.frames {
            assert!(!f.file.is_empty(), "a frame without a file");
        }
        n += 1;
    });
    match r {
        Ok(sum) => {
            assert_eq!(sum.goroutines, n);
            let in_snapshots: u64 = sum.snapshots.iter().map(|s| s.goroutines).sum();
            assert_eq!(in_snapshots, n, "{:?}", sum.snapshots);
            assert!(n > 0);
            Some(n)
        }
        Err(_) => {
            assert_eq!(n, 0, "an error after goroutines were handed out");
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = sniff::sniff(data);
    let _ = sniff::describe(data);
    let whole = count(data);
    if !data.is_empty() {
        let cut = data.len() / 2;
        if let Some(part) = count(&data[..cut]) {
            // Goroutines of a prefix: at most the whole input's plus one
            // (the last goroutine of the prefix may end where the whole
            // input continues it with stray lines).
            assert!(part <= whole.unwrap_or(0) + 1, "{part} > {whole:?}");
        }
    }
    let _ = profile_text::parse(data, &mut |r| {
        let _ = (r.count, r.frames.len());
    });
});
