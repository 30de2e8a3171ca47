//! The documentation's contract: the README stays a newcomer's page
//! (≤ 12 kB) and every relative link or image of the README, `docs/` and the
//! other READMEs of the repository points at a file that exists, and at a
//! heading of it when it names one (`file.md#anchor`, GitHub's slugs).
//!
//! Does not fetch external links (no network in CI): it only checks that
//! they are `https://` URLs. The settings table of `docs/lsp.md` is checked
//! against the server by `lsp/server/tests/settings_docs.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

const README_MAX_BYTES: u64 = 12 * 1024;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The markdown files whose links are checked: README.md, docs/*.md, and
/// every README.md under editors/, lsp/ and testdata/.
fn documents() -> Vec<PathBuf> {
    let root = repo();
    let mut out = vec![root.join("README.md")];
    let docs = std::fs::read_dir(root.join("docs")).expect("docs/ exists");
    for e in docs {
        let p = e.expect("docs/ entry").path();
        if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
    for dir in ["editors", "lsp", "testdata"] {
        collect_readmes(&root.join(dir), &mut out);
    }
    out.sort();
    out
}

fn collect_readmes(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        if p.is_dir() {
            if name != "node_modules" && name != "target" && name != ".git" {
                collect_readmes(&p, out);
            }
        } else if name == "README.md" {
            out.push(p);
        }
    }
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, everything but
/// letters, digits, `-` and `_` dropped; repeated headings get `-1`, `-2`….
fn slug(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

struct Parsed {
    links: Vec<String>,
    anchors: BTreeSet<String>,
}

fn parse(text: &str) -> Parsed {
    let mut links = Vec::new();
    let mut anchors = BTreeSet::new();
    let mut heading: Option<String> = None;
    for ev in Parser::new(text) {
        match ev {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                links.push(dest_url.to_string())
            }
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(h) = heading.take() {
                    let base = slug(&h);
                    let mut a = base.clone();
                    let mut n = 1;
                    while anchors.contains(&a) {
                        a = format!("{base}-{n}");
                        n += 1;
                    }
                    anchors.insert(a);
                }
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                // <a id="…"> / <a name="…"> anchors.
                for key in ["id=\"", "name=\""] {
                    for part in h.split(key).skip(1) {
                        if let Some(end) = part.find('"') {
                            anchors.insert(part[..end].to_owned());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Parsed { links, anchors }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(repo()).unwrap_or(p).display().to_string()
}

#[test]
fn readme_is_at_most_12_kb() {
    let len = std::fs::metadata(repo().join("README.md"))
        .expect("README.md")
        .len();
    assert!(
        len <= README_MAX_BYTES,
        "README.md is {len} bytes, more than {README_MAX_BYTES}: move reference material to docs/"
    );
}

#[test]
fn every_link_resolves() {
    let docs = documents();
    assert!(
        docs.len() >= 7,
        "only {} documents found: {docs:?}",
        docs.len()
    );
    let mut bad = Vec::new();
    let mut checked = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).expect("markdown file");
        let parsed = parse(&text);
        for link in parsed.links {
            checked += 1;
            if link.starts_with("https://") || link.starts_with("mailto:") {
                continue;
            }
            if link.starts_with("http://") {
                bad.push(format!("{}: {link}: use https", rel(doc)));
                continue;
            }
            let (path, anchor) = match link.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (link.as_str(), None),
            };
            let target = if path.is_empty() {
                doc.clone()
            } else if let Some(abs) = path.strip_prefix('/') {
                repo().join(abs)
            } else {
                doc.parent().expect("file has a parent").join(path)
            };
            if !target.exists() {
                bad.push(format!(
                    "{}: {link}: {} does not exist",
                    rel(doc),
                    rel(&target)
                ));
                continue;
            }
            if let Some(anchor) = anchor
                && target.extension().is_some_and(|x| x == "md")
            {
                let t = std::fs::read_to_string(&target).expect("linked markdown");
                let anchors = parse(&t).anchors;
                if !anchors.contains(anchor) {
                    bad.push(format!(
                        "{}: {link}: no heading #{anchor} in {} (has: {})",
                        rel(doc),
                        rel(&target),
                        anchors.into_iter().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} links found");
    assert!(bad.is_empty(), "broken links:\n{}", bad.join("\n"));
}

#[test]
fn slugs_are_githubs() {
    assert_eq!(slug("Neovim (0.10+)"), "neovim-010");
    assert_eq!(slug("`goblock.hotLines` result"), "goblockhotlines-result");
    assert_eq!(slug("Decode — `goblock-trace`"), "decode--goblock-trace");
    let p = parse("# A\n## Same\n## Same\n[x](y.md#same-1)");
    assert!(p.anchors.contains("same") && p.anchors.contains("same-1"));
    assert_eq!(p.links, vec!["y.md#same-1"]);
}
