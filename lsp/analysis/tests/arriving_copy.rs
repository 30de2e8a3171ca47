//! A trace opened with its private copy made in the background
//! (`OpenOptions::background`, what the language server does) is analysed
//! while the copy is made, with the results of the file itself — the
//! decoder waits for the bytes it reads, never reading a page not copied
//! yet (those read as zeros) — and a file rewritten while it is copied is
//! refused as changed, whatever its bytes decoded to.

use std::path::{Path, PathBuf};
use std::time::Duration;

use goblock_analysis::input::{self, InputError, OpenOptions};
use goblock_analysis::{AnalysisError, BinaryChoice, Options, Workspace, analyze_input};
use goblock_trace::{Categories, Threads};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn opened(path: &Path, steps: Option<(usize, Duration)>) -> input::Input {
    let opts = OpenOptions {
        snapshot: steps.is_some(),
        background: steps.is_some(),
        copy_steps: steps,
        ..OpenOptions::default()
    };
    input::open(path, &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// The decoder's summary and the per-line table (in line order), as text.
fn analysed(input: &input::Input, threads: Threads) -> Result<String, AnalysisError> {
    let ws = Workspace::new(&[], vec![], None, None);
    let opts = Options {
        workspace: &ws,
        binary: BinaryChoice::None,
        trace_index: 0,
        details: true,
        categories: Categories::ALL,
        threads,
    };
    let a = analyze_input(input, &opts, &mut |_, _, _| {
        std::ops::ControlFlow::Continue(())
    })?;
    let mut lines: Vec<String> = a.table.lines.iter().map(|l| format!("{l:?}")).collect();
    lines.sort();
    Ok(format!(
        "{:?}\n{} episodes\n{:?}\n{:?}\n{}",
        a.summary,
        a.episodes,
        a.table.category_totals,
        a.table.unattributed,
        lines.join("\n")
    ))
}

#[test]
fn a_trace_decodes_while_its_copy_is_made_as_the_file_itself() {
    for (trace, threads) in [
        ("go1.26/blocking-multigen.trace", Threads::Never),
        ("go1.26/blocking-multigen.trace", Threads::Always),
        ("go1.22/blocking.trace", Threads::Always),
        // The old format: decoded once the copy is whole.
        ("go1.21/blocking.trace", Threads::Never),
    ] {
        let path = testdata().join(trace);
        let want = analysed(&opened(&path, None), threads).expect("the file itself");
        let len = std::fs::metadata(&path).expect("trace").len() as usize;
        // About 60 steps, with a pause after each: the decoder catches up
        // with the copy and waits for it many times.
        let step = (len / 60).max(1);
        let copying = opened(&path, Some((step, Duration::from_millis(3))));
        assert!(copying.is_copy());
        assert!(
            copying.arriving().is_some(),
            "{trace}: copied before it was opened"
        );
        let got = analysed(&copying, threads).expect("the copy");
        assert!(
            got == want,
            "{trace} ({threads:?}): decoded while copied, results differ"
        );
    }
}

#[test]
fn a_trace_rewritten_while_it_is_copied_is_refused_as_changed() {
    let dir = std::env::temp_dir().join(format!("goblock-arriving-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("rewritten.trace");
    let bytes = std::fs::read(testdata().join("go1.26/blocking-multigen.trace")).expect("trace");
    std::fs::write(&path, &bytes).expect("write");
    // Copied in 100 steps of 20 ms: the rewrite lands in the middle.
    let copying = opened(&path, Some((bytes.len() / 100, Duration::from_millis(20))));
    std::thread::sleep(Duration::from_millis(200));
    let mut rewritten = bytes.clone();
    rewritten.extend_from_slice(b"more");
    std::fs::write(&path, &rewritten).expect("rewrite");
    match analysed(&copying, Threads::Never) {
        Err(AnalysisError::Input(InputError::Changed { path: p })) => assert_eq!(p, path),
        other => panic!(
            "a file rewritten while copied: {:?}",
            other.map(|_| "analysed")
        ),
    }
    // Waiting for the whole copy says the same.
    assert!(matches!(
        copying.wait_whole(),
        Err(InputError::Changed { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
