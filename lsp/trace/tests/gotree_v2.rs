//! Go's own new-format test traces (`testdata/gotree/*.trace`, converted from
//! `src/internal/trace/testdata/tests/*.test` and `cmd/trace/testdata`):
//! each must decode or fail exactly as its `.expect` says Go's reader does —
//! `SUCCESS`, or `FAILURE "<regexp>"` that the error must match. Real runtime
//! traces among them (annotations, gc-stress, cmd-trace-go122) must also yield
//! episodes. Discovered automatically; old-format ones (`tracev1/`) are the v1
//! decoder's.

use std::path::{Path, PathBuf};

use goblock_trace::header::{self, Format};
use goblock_trace::{Episode, Tables};

fn gotree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/gotree")
}

/// Go's `regexp.MatchString` for the patterns `.expect` files use: literal
/// text and `.*`, unanchored. Anything else is refused so that a new kind of
/// pattern cannot pass unnoticed.
fn matches(pattern: &str, text: &str) -> bool {
    let mut rest = text;
    for seg in pattern.split(".*") {
        assert!(
            !seg.chars().any(|c| "[]()+?^$|\\{}*".contains(c)),
            "unsupported regexp {pattern:?}"
        );
        let seg = seg.replace('.', "\u{0}");
        // `.` matches any one character.
        let Some(i) = find_with_dots(rest, &seg) else {
            return false;
        };
        rest = &rest[i..];
    }
    true
}

/// Finds `seg` (NUL = any char) in `s`; returns the index just past it.
fn find_with_dots(s: &str, seg: &str) -> Option<usize> {
    let pat: Vec<char> = seg.chars().collect();
    let cs: Vec<(usize, char)> = s.char_indices().collect();
    if pat.is_empty() {
        return Some(0);
    }
    'outer: for start in 0..cs.len() {
        for (j, &p) in pat.iter().enumerate() {
            match cs.get(start + j) {
                Some(&(_, c)) if p == '\u{0}' || p == c => {}
                _ => continue 'outer,
            }
        }
        let end = cs.get(start + pat.len()).map_or(s.len(), |&(i, _)| i);
        return Some(end);
    }
    None
}

#[test]
fn regexp_subset() {
    assert!(matches(
        ".*expected a proc but didn't have one.*",
        "x: expected a proc but didn't have one"
    ));
    assert!(matches("expected a proc", "bad: expected a proc"));
    assert!(!matches("expected a proc", "expected no proc"));
    assert!(matches("a.c", "xabcx"));
}

#[test]
fn go_test_traces_succeed_or_fail_as_go_expects() {
    let Ok(rd) = std::fs::read_dir(gotree()) else {
        panic!("{} missing", gotree().display());
    };
    let mut traces: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "trace"))
        .collect();
    traces.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in traces {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(h) = header::parse(&bytes) else {
            continue;
        };
        if h.format != Format::V2 {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let expect = std::fs::read_to_string(path.with_extension("expect"))
            .unwrap_or_else(|_| panic!("{name}: no .expect"));
        let expect = expect.trim();
        let mut tables = Tables::new();
        let mut episodes = 0u64;
        let res = goblock_trace::decode(&bytes, &mut tables, &mut |_: &Episode, _: &Tables| {
            episodes += 1;
        });
        checked += 1;
        if expect == "SUCCESS" {
            match res {
                Ok(s) if s.warnings.is_empty() => {
                    eprintln!("{name}: ok, {} events, {episodes} episodes", s.events);
                    // Real runtime traces (larger than the hand-made ones).
                    if bytes.len() > 2000 && episodes == 0 {
                        failures.push(format!("{name}: no episodes from a real trace"));
                    }
                }
                Ok(s) => failures.push(format!(
                    "{name}: expected SUCCESS, got warnings {:?}",
                    s.warnings
                )),
                Err(e) => failures.push(format!("{name}: expected SUCCESS, got {e}")),
            }
        } else if let Some(re) = expect
            .strip_prefix("FAILURE ")
            .map(|r| r.trim().trim_matches('"'))
        {
            match res {
                Err(e) if matches(re, &e.to_string()) => {
                    eprintln!("{name}: fails as expected: {e}")
                }
                Err(e) => failures.push(format!("{name}: error {e:?} does not match {re:?}")),
                Ok(_) => failures.push(format!("{name}: expected failure {re:?}, decoded fine")),
            }
        } else {
            failures.push(format!("{name}: unknown expectation {expect:?}"));
        }
    }
    assert!(
        checked >= 20,
        "only {checked} new-format Go test traces found"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
