//! `EpisodeSink::categories`, on real traces of both formats: a sink that
//! wants some categories receives exactly the episodes of those categories
//! that a sink wanting all of them receives, in the same order (skipping
//! the others changes no goroutine's state), and nothing else.

use std::path::PathBuf;

use goblock_trace::{Categories, Category, Episode, EpisodeSink, Tables};

struct Recorder {
    wanted: Categories,
    episodes: Vec<Episode>,
}

impl EpisodeSink for Recorder {
    fn episode(&mut self, ep: &Episode, _: &Tables) {
        self.episodes.push(*ep);
    }

    fn categories(&self) -> Categories {
        self.wanted
    }
}

fn decode(trace: &str, wanted: Categories) -> Vec<Episode> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(trace);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut rec = Recorder {
        wanted,
        episodes: Vec::new(),
    };
    goblock_trace::decode(&bytes, &mut Tables::new(), &mut rec)
        .unwrap_or_else(|e| panic!("{trace}: {e}"));
    rec.episodes
}

#[test]
fn a_sink_gets_the_categories_it_wants_and_only_those() {
    let subsets: [&[Category]; 3] = [
        // What `goblock report` folds by default: all but sched.
        &[
            Category::Sync,
            Category::Net,
            Category::Syscall,
            Category::Sleep,
            Category::Gc,
            Category::Other,
        ],
        &[Category::Sched],
        &[Category::Sync, Category::Syscall],
    ];
    for trace in [
        "go1.26/blocking.trace",
        "go1.22/pprof-http.trace",
        "go1.21/blocking.trace",
        "go1.19/pprof-http.trace",
    ] {
        let all = decode(trace, Categories::ALL);
        for subset in subsets {
            let wanted: Categories = subset.iter().copied().collect();
            let expected: Vec<Episode> = all
                .iter()
                .filter(|e| wanted.contains(e.category))
                .copied()
                .collect();
            assert!(
                !expected.is_empty() && expected.len() < all.len(),
                "{trace} {subset:?}: the trace should have episodes in and out of the subset"
            );
            let got = decode(trace, wanted);
            assert_eq!(got.len(), expected.len(), "{trace} {subset:?}");
            assert!(got == expected, "{trace} {subset:?}: different episodes");
        }
        assert!(decode(trace, Categories::NONE).is_empty(), "{trace}");
    }
}
