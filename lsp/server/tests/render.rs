//! What the server renders, per client: hovers for VS Code (Markdown
//! tables), Neovim (Markdown with the tables as aligned text) and a
//! plain-text client, as insta snapshots; the diagnostics' ranges (the
//! statement, from its first non-blank character, without the trailing
//! comment); the labels of `goblock.hotLines` (one duration format).
//!
//! On the committed fixture (newest `testdata/go1.XX/blocking.trace`, the
//! program `testdata/programs/blocking`).

mod common;

use common::{Client, Fixture};
use serde_json::{Value, json};

/// The hot lines of main.go the hovers are shown for: the hottest line
/// with closed episodes and one reason, the hottest with several reasons,
/// and the hottest with a goroutine still blocked at the end.
fn picked(status: &Value) -> Vec<(String, u32)> {
    let lines: Vec<&Value> = status["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter(|l| l["file"].as_str().unwrap().ends_with("blocking/main.go"))
        .collect();
    let find = |what: &str, f: &dyn Fn(&Value) -> bool| {
        let l = lines
            .iter()
            .find(|l| f(l))
            .unwrap_or_else(|| panic!("no main.go line with {what}: {status:#}"));
        (what.to_owned(), l["line"].as_u64().unwrap() as u32)
    };
    let still = |l: &Value| l["message"].as_str().unwrap().contains("still blocked");
    vec![
        find("closed episodes, one reason", &|l| {
            l["count"].as_u64().unwrap() >= 2
                && l["reasons"].as_array().unwrap().len() == 1
                && !still(l)
        }),
        find("several reasons", &|l| {
            l["reasons"].as_array().unwrap().len() > 1
        }),
        find("a goroutine still blocked", &still),
    ]
}

async fn hovers(client_info: Value, formats: Value) -> (String, String) {
    let dir = common::fixture_dirs()
        .into_iter()
        .next()
        .expect("a testdata/go1.XX/blocking.trace fixture");
    let fx = Fixture::new("render", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let mut c = Client::start();
    c.initialize_as(&fx.ws, json!({}), client_info, formats)
        .await;
    c.loaded().await;
    let status = c.command("goblock.hotLines", json!([200])).await;
    let uri = fx.uri("blocking/main.go");
    let text = std::fs::read_to_string(fx.path("blocking/main.go")).unwrap();
    c.open(&uri, &text, 1);
    let mut out = String::new();
    let mut kind = String::new();
    for (what, line) in picked(&status) {
        let h = c.hover(&uri, line - 1).await;
        kind = h["contents"]["kind"].as_str().unwrap().to_owned();
        let v = h["contents"]["value"].as_str().unwrap();
        out.push_str(&format!(
            "===== main.go:{line} ({what})\n{}\n",
            fx.redact(v)
        ));
    }
    c.shutdown().await;
    (kind, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_vscode_markdown_tables() {
    let (kind, h) = hovers(
        json!({"name": "Visual Studio Code", "version": "1.139.1"}),
        json!(["markdown", "plaintext"]),
    )
    .await;
    assert_eq!(kind, "markdown");
    assert!(h.contains("| goroutine | blocked |"), "{h}");
    insta::assert_snapshot!("hover_vscode", h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_neovim_aligned_tables() {
    let (kind, h) = hovers(
        json!({"name": "Neovim", "version": "0.11.4"}),
        json!(["markdown", "plaintext"]),
    )
    .await;
    assert_eq!(kind, "markdown");
    assert!(!h.contains("| goroutine"), "{h}");
    assert!(h.contains("```text\ngoroutine  blocked"), "{h}");
    insta::assert_snapshot!("hover_neovim", h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_plain_text() {
    let (kind, h) = hovers(json!({"name": "some-editor"}), json!(["plaintext"])).await;
    assert_eq!(kind, "plaintext");
    assert!(
        !h.contains("**") && !h.contains("```") && !h.contains("]("),
        "{h}"
    );
    insta::assert_snapshot!("hover_plain", h);
}

/// Diagnostics underline the statement: from the first non-blank character
/// to the end of the code, never the indentation or the trailing comment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_span_the_statement() {
    let dir = common::fixture_dirs().into_iter().next().expect("fixture");
    let fx = Fixture::new("span", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let mut c = Client::start();
    c.initialize(&fx.ws, json!({})).await;
    c.loaded().await;
    let uri = fx.uri("blocking/main.go");
    let text = std::fs::read_to_string(fx.path("blocking/main.go")).unwrap();
    c.open(&uri, &text, 1);
    let d = c.diagnostics(&uri, |p| p["version"] == 1).await;
    let diags = d["diagnostics"].as_array().unwrap();
    assert!(diags.len() >= 10, "{d:#}");
    let lines: Vec<&str> = text.lines().collect();
    for dg in diags {
        let r = &dg["range"];
        let line = r["start"]["line"].as_u64().unwrap() as usize;
        assert_eq!(r["end"]["line"], r["start"]["line"]);
        let src = lines[line];
        let start = r["start"]["character"].as_u64().unwrap() as usize;
        let end = r["end"]["character"].as_u64().unwrap() as usize;
        // The fixture's lines are ASCII up to their comment, so UTF-16
        // units are bytes there.
        let indent = src.len() - src.trim_start().len();
        assert_eq!(start, indent, "line {}: {src:?}", line + 1);
        let code = &src[start..end];
        assert!(
            !code.contains("//") && code == code.trim() && !code.is_empty(),
            "line {}: underlined {code:?} of {src:?}",
            line + 1
        );
        let rest = src[end..].trim_start();
        assert!(
            rest.is_empty() || rest.starts_with("//"),
            "line {}: code left after the underline: {rest:?}",
            line + 1
        );
    }
    c.shutdown().await;
}

/// `goblock.hotLines` carries nanoseconds and the labels clients show,
/// written by the one duration format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_lines_labels() {
    let dir = common::fixture_dirs().into_iter().next().expect("fixture");
    let fx = Fixture::new("labels", &[(&dir.join("blocking.trace"), "blocking.trace")]);
    let mut c = Client::start();
    c.initialize(&fx.ws, json!({})).await;
    c.loaded().await;
    let s = c.command("goblock.hotLines", json!([500])).await;
    let total = s["totalNs"].as_u64().unwrap();
    assert_eq!(
        s["totalLabel"],
        goblock_analysis::units::duration(total),
        "{s:#}"
    );
    for l in s["lines"].as_array().unwrap() {
        let ns = l["totalNs"].as_u64().unwrap();
        let label = l["label"].as_str().unwrap();
        assert!(
            label.starts_with(&format!("{} · ", goblock_analysis::units::duration(ns))),
            "{l:#}"
        );
    }
    let files = s["files"].as_array().unwrap();
    assert!(!files.is_empty());
    let lines = s["lines"].as_array().unwrap();
    assert!(lines.len() < 500, "the limit must cover every line");
    let by_files: u64 = files.iter().map(|f| f["totalNs"].as_u64().unwrap()).sum();
    let by_lines: u64 = lines.iter().map(|l| l["totalNs"].as_u64().unwrap()).sum();
    assert_eq!(
        by_files, by_lines,
        "file totals add up to the lines': {s:#}"
    );
    for f in files {
        assert_eq!(
            f["label"],
            goblock_analysis::units::duration(f["totalNs"].as_u64().unwrap())
        );
    }
    c.shutdown().await;
}
