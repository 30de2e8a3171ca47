//! Line truth: every number goblock shows is on the right line.
//!
//! The corpus (`testdata/linetruth`, README there) is two workspaces of
//! realistic Go code whose blocking statements carry marker comments
//! (`// BLOCK[reason]`, `MAY[reason]`), traced with Go 1.19, 1.21, 1.22,
//! 1.23, 1.26 and 1.27, with the traced binaries and Go's own figures kept
//! beside the traces.
//!
//! * `markers_agree_with_go_tool_trace`: the corpus itself — the lines Go's
//!   own tool charges are exactly the marked ones.

#[path = "support/linetruth.rs"]
mod linetruth;

use std::collections::BTreeSet;

use linetruth::{Marks, PROGRAMS, category, marks, oracle_lines, read_oracle, versions};

/// The corpus against Go's own tools: for every trace, the per-line flat
/// figures of Go 1.26's `go tool trace -pprof=sync|net|syscall` (exact
/// semantics, golang/go#74850 fixed; the older tools' figures are used in the
/// report tests) charge only marked lines with a reason of the profile's
/// category, and every `BLOCK` reason of those categories is charged at its
/// line. Guards the markers: a marker moved off its statement, or a source
/// edited without `gen.sh`, fails here.
///
/// Exceptions: waits still going on at the end of the trace are not counted
/// by Go's tools (no end), so a marker whose every episode is open is not
/// required here (`goblock report` counts them as `open`).
#[test]
fn markers_agree_with_go_tool_trace() {
    let marks = marks();
    let mut failures = Vec::new();
    let mut checked = 0;
    for v in versions() {
        for p in PROGRAMS {
            for kind in ["sync", "net", "syscall"] {
                let oracle = oracle_lines(&read_oracle(&v.oracle(p, kind, true)), &v);
                for ((file, line), (count, _)) in &oracle {
                    let ok = marks.get(&(file.clone(), *line)).is_some_and(|m: &Marks| {
                        m.required
                            .iter()
                            .chain(&m.optional)
                            .any(|r| category(r) == kind)
                    });
                    if !ok {
                        failures.push(format!(
                            "go{} {}: Go's {kind} profile charges {count} to {file}:{line}, which has no {kind} marker",
                            v.name, p.base
                        ));
                    }
                }
                let charged: BTreeSet<_> = oracle.keys().collect();
                for ((file, line), m) in &marks {
                    if !file.starts_with(&format!("{}/", p.workspace)) {
                        continue;
                    }
                    for r in m.required.iter().filter(|r| category(r) == kind) {
                        checked += 1;
                        if !charged.contains(&(file.clone(), *line)) {
                            failures.push(format!(
                                "go{} {}: {file}:{line} BLOCK[{r}] ({}) not in Go's {kind} profile",
                                v.name, p.base, m.description
                            ));
                        }
                    }
                }
            }
        }
    }
    println!("markers vs go tool trace: {checked} marker reasons checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
