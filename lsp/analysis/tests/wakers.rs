//! Wakers and creators are named by the same rule as the blocked
//! goroutine's own line (issue 13 §4): the innermost workspace frame, else
//! the first frame outside the runtime and the standard library — never a
//! line of `chan.go`, `select.go` or `sema.go` when the stack has a better
//! one. On the path-mapping fixture (testdata/pathmap: traced `go test`
//! with Go 1.21, 1.23 and 1.26).

use std::path::{Path, PathBuf};

use goblock_analysis::paths::{CodeClass, is_runtime_function};
use goblock_analysis::{BinaryChoice, Options, Site, Workspace, analyze_file};
use goblock_trace::Categories;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/pathmap")
}

fn traces() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = ["go1.21", "go1.23", "go1.26"]
        .iter()
        .flat_map(|d| std::fs::read_dir(testdata().join(d)).unwrap().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "trace"))
        .collect();
    v.sort();
    v
}

/// The `// WAKE[…]` comment lines of the fixture: (file name, line).
fn wake_markers() -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(testdata().join("src")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(e.path()).unwrap();
        for (i, l) in text.lines().enumerate() {
            if l.contains("// WAKE[") {
                out.push((name.clone(), i as u32 + 1));
            }
        }
    }
    out
}

fn describe(s: &Site) -> String {
    format!("{}:{} ({}, {:?})", s.file, s.line, s.function, s.class)
}

#[test]
fn wakers_name_the_users_line() {
    let src = testdata().join("src");
    let ws = Workspace::new(std::slice::from_ref(&src), vec![], None, None);
    let wakes = wake_markers();
    assert!(wakes.len() >= 2);
    for trace in traces() {
        let opts = Options {
            workspace: &ws,
            binary: BinaryChoice::None,
            trace_index: 0,
            details: true,
            categories: Categories::ALL,
            threads: goblock_trace::Threads::Auto,
        };
        let a = analyze_file(&trace, &opts, &mut |_, _, _| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{}: {e}", trace.display()));
        let mut problems = Vec::new();
        let mut woken_by_marker = 0;
        for (k, l) in &a.table.lines {
            let sites = l
                .wakers
                .iter()
                .filter_map(|w| w.site.as_ref())
                .chain(l.parked.iter().filter_map(|p| p.waker_site.as_ref()))
                .chain(l.parked.iter().filter_map(|p| p.creator_site.as_ref()));
            for s in sites {
                // The runtime or a blocking primitive, although every
                // goroutine of this program runs user or testing code.
                if s.class == CodeClass::Std && is_runtime_function(&s.function) {
                    problems.push(format!(
                        "{}:{} woken/created at {}",
                        k.file,
                        k.line,
                        describe(s)
                    ));
                }
                if wakes
                    .iter()
                    .any(|(f, n)| s.file.ends_with(&format!("/{f}")) && s.line == *n)
                {
                    woken_by_marker += 1;
                }
            }
        }
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            trace.display(),
            problems.join("\n")
        );
        assert!(
            woken_by_marker >= 2,
            "{}: no waker at a WAKE marker",
            trace.display()
        );
    }
}

/// Names of wakers and creators outside the workspace cannot be read as a
/// workspace file: the line-truth `limiter` module has its own
/// `testing.go`, and its tests are created and released by `testing`'s
/// `tRunner` (`testing/testing.go:2101`, never `testing.go:2101`).
#[test]
fn library_wakers_and_creators_are_named_by_import_path() {
    let lt = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/linetruth");
    let root = lt.join("limiter");
    let workspace_names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(workspace_names.iter().any(|n| n == "testing.go"));
    let ws = Workspace::new(std::slice::from_ref(&root), vec![], None, None);
    for v in ["go1.19", "go1.26"] {
        let trace = lt.join(v).join("limiter.trace");
        let opts = Options {
            workspace: &ws,
            binary: BinaryChoice::None,
            trace_index: 0,
            details: true,
            categories: Categories::ALL,
            threads: goblock_trace::Threads::Auto,
        };
        let a = analyze_file(&trace, &opts, &mut |_, _, _| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{}: {e}", trace.display()));
        let (mut std_named, mut problems) = (0, Vec::new());
        for l in a.table.lines.values() {
            let sites = l
                .wakers
                .iter()
                .filter_map(|w| w.site.as_ref())
                .chain(l.parked.iter().filter_map(|p| p.waker_site.as_ref()))
                .chain(l.parked.iter().filter_map(|p| p.creator_site.as_ref()));
            for s in sites {
                if s.class == CodeClass::Workspace {
                    continue;
                }
                if workspace_names.iter().any(|n| **n == *s.name) {
                    problems.push(describe(s));
                }
                if s.class == CodeClass::Std && s.name.starts_with("testing/") {
                    std_named += 1;
                }
            }
        }
        assert!(problems.is_empty(), "{v}: {}", problems.join("\n"));
        assert!(std_named > 0, "{v}: no waker or creator in package testing");
    }
}
