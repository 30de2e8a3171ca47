//! The code lenses of a `_test.go` file: "goblock: trace" above every
//! `func TestX(t *testing.T)`, `BenchmarkX(b *testing.B)` and `FuzzX(f
//! *testing.F)` (from the editor's text, unsaved edits included), and one
//! on the `package` line for the whole package. Lenses are sent without
//! their command, which `codeLens/resolve` adds; running one runs the
//! user's tests, so nothing here runs anything.

use goblock_capture::{TestKind, test_functions};
use serde_json::json;
use tower_lsp_server::gen_lsp_types as lsp;

use super::proto::{CAPTURE_TEST, CaptureTestParams, LensData, LensKind};

/// The lenses of `text` (the document at `uri`); none unless the file is a
/// `_test.go` file.
pub(crate) fn lenses(uri: &str, text: &str) -> Vec<lsp::CodeLens> {
    if !uri.ends_with("_test.go") {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(line) = package_line(text) {
        out.push(lens(
            line,
            LensData {
                uri: uri.to_owned(),
                name: None,
                kind: LensKind::Package,
            },
        ));
    }
    for f in test_functions(text) {
        let kind = match f.kind {
            TestKind::Test => LensKind::Test,
            TestKind::Benchmark => LensKind::Benchmark,
            TestKind::Fuzz => LensKind::Fuzz,
        };
        out.push(lens(
            f.line,
            LensData {
                uri: uri.to_owned(),
                name: Some(f.name),
                kind,
            },
        ));
    }
    out
}

/// The line of the `package` clause (0-based).
fn package_line(text: &str) -> Option<u32> {
    let mut in_block = false;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if in_block {
            in_block = !t.contains("*/");
            continue;
        }
        if t.starts_with("/*") && !t.contains("*/") {
            in_block = true;
            continue;
        }
        if t.starts_with("package ") {
            return Some(i as u32);
        }
    }
    None
}

fn lens(line: u32, data: LensData) -> lsp::CodeLens {
    lsp::CodeLens {
        range: lsp::Range {
            start: lsp::Position { line, character: 0 },
            end: lsp::Position { line, character: 0 },
        },
        command: None,
        data: Some(json!(data)),
    }
}

/// Adds the command to a lens from [`lenses`]; a lens whose data is not
/// ours is returned as it came.
pub(crate) fn resolve(mut lens: lsp::CodeLens) -> lsp::CodeLens {
    let Some(data) = lens
        .data
        .as_ref()
        .and_then(|d| serde_json::from_value::<LensData>(d.clone()).ok())
    else {
        return lens;
    };
    let title = match data.kind {
        LensKind::Test => "goblock: trace",
        LensKind::Benchmark => "goblock: trace benchmark",
        LensKind::Fuzz => "goblock: trace seed corpus",
        LensKind::Package => "goblock: trace package tests",
    };
    let params = CaptureTestParams {
        uri: data.uri,
        name: data.name,
        line: None,
    };
    lens.command = Some(lsp::Command {
        title: title.to_owned(),
        tooltip: Some(
            "Build the test binary, run it with -test.trace and show where its goroutines block"
                .to_owned(),
        ),
        command: CAPTURE_TEST.to_owned(),
        arguments: Some(vec![json!(params)]),
    });
    lens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenses_and_their_commands() {
        let text = "// Copyright\n/* a\n package fake */\npackage shop\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {}\n\nfunc helper() {}\n\nfunc BenchmarkB(b *testing.B) {}\n";
        let ls = lenses("file:///w/a_test.go", text);
        let got: Vec<(u32, String)> = ls
            .into_iter()
            .map(resolve)
            .map(|l| {
                let c = l.command.unwrap();
                assert_eq!(c.command, CAPTURE_TEST);
                (
                    l.range.start.line,
                    format!("{} {}", c.title, c.arguments.unwrap()[0]),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    3,
                    r#"goblock: trace package tests {"uri":"file:///w/a_test.go"}"#.to_owned()
                ),
                (
                    7,
                    r#"goblock: trace {"name":"TestA","uri":"file:///w/a_test.go"}"#.to_owned()
                ),
                (
                    11,
                    r#"goblock: trace benchmark {"name":"BenchmarkB","uri":"file:///w/a_test.go"}"#
                        .to_owned()
                ),
            ]
        );
        assert!(lenses("file:///w/a.go", text).is_empty());
    }
}
