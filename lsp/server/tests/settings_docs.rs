//! The settings table of `docs/lsp.md` against the server's parser
//! (`src/config.rs`), both ways:
//! * every documented key is read by the server: its documented default
//!   parses to the server's default without a message, another valid value
//!   changes the settings, and a value of the wrong type is reported by name;
//! * every key `config.rs` reads is documented.
//!
//! The same table is checked against the VS Code extension's `package.json`
//! by `editors/vscode/test/unit/serverDocs.test.ts`.

use std::path::PathBuf;

use goblock_server::config::Settings;
use serde_json::{Map, Value, json};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Row {
    /// Without the `goblock.` prefix, e.g. `diagnostics.minShare`.
    key: String,
    default: Value,
    meaning: String,
}

/// Rows "| `goblock.x` | `default` | meaning |" of docs/lsp.md's "Settings"
/// section.
fn documented() -> Vec<Row> {
    let text = std::fs::read_to_string(repo().join("docs/lsp.md")).expect("docs/lsp.md");
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Settings\n"))
        .expect("docs/lsp.md has a \"## Settings\" section");
    let mut rows = Vec::new();
    for line in section.lines() {
        let Some(rest) = line.strip_prefix("| `goblock.") else {
            continue;
        };
        let (key, rest) = rest
            .split_once("` | `")
            .expect("| `goblock.key` | `default` |");
        let (default, meaning) = rest.split_once("` |").expect("default cell ends with ` |");
        let default: Value = serde_json::from_str(default)
            .unwrap_or_else(|e| panic!("default of goblock.{key} is not JSON ({e}): {default}"));
        rows.push(Row {
            key: key.to_owned(),
            default,
            meaning: meaning.to_owned(),
        });
    }
    assert!(
        rows.len() >= 10,
        "only {} settings in docs/lsp.md",
        rows.len()
    );
    rows
}

/// `{"goblock": {"a": {"b": value}}}` for key `a.b`.
fn nested(key: &str, value: Value) -> Value {
    let mut v = value;
    for part in key.rsplit('.') {
        let mut m = Map::new();
        m.insert(part.to_owned(), v);
        v = Value::Object(m);
    }
    json!({ "goblock": v })
}

/// The code spans of a table cell (`x`).
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// A valid value other than the default, derived from the row.
fn other_value(row: &Row) -> Value {
    match &row.default {
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) if n.is_u64() => json!(n.as_u64().unwrap_or(0) + 1),
        Value::Number(n) => json!(n.as_f64().unwrap_or(0.0) / 2.0),
        // A string setting is an enumeration listed in its meaning.
        Value::String(s) => code_spans(&row.meaning)
            .into_iter()
            .find(|c| *c != s && !c.contains(' '))
            .map(|c| json!(c))
            .unwrap_or_else(|| panic!("goblock.{}: no other value in its meaning", row.key)),
        Value::Array(a) if !a.is_empty() => Value::Array(a[a.len() - 1..].to_vec()),
        Value::Array(_) => code_spans(&row.meaning)
            .into_iter()
            .filter_map(|c| serde_json::from_str::<Value>(c).ok())
            .find(|v| v.as_array().is_some_and(|a| !a.is_empty()))
            .unwrap_or_else(|| json!(["changed"])),
        other => panic!("goblock.{}: unexpected default {other}", row.key),
    }
}

/// A value of the wrong type.
fn wrong_value(row: &Row) -> Value {
    match &row.default {
        Value::Bool(_) | Value::Number(_) | Value::Array(_) => json!({"wrong": "type"}),
        _ => json!(42),
    }
}

#[test]
fn documented_defaults_are_the_servers() {
    let mut all = Map::new();
    for row in documented() {
        let (s, errs) = Settings::from_json(&nested(&row.key, row.default.clone()));
        assert!(errs.is_empty(), "goblock.{}: {errs:?}", row.key);
        assert_eq!(s, Settings::default(), "default of goblock.{}", row.key);
        merge(&mut all, &nested(&row.key, row.default.clone()));
    }
    let (s, errs) = Settings::from_json(&Value::Object(all));
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(s, Settings::default());
}

#[test]
fn every_documented_key_is_read_by_the_server() {
    for row in documented() {
        let other = other_value(&row);
        let (s, errs) = Settings::from_json(&nested(&row.key, other.clone()));
        assert!(errs.is_empty(), "goblock.{} = {other}: {errs:?}", row.key);
        assert_ne!(
            s,
            Settings::default(),
            "goblock.{} = {other} did not change the server's settings: is the key read?",
            row.key
        );
        let wrong = wrong_value(&row);
        let (s, errs) = Settings::from_json(&nested(&row.key, wrong.clone()));
        assert_eq!(s, Settings::default(), "goblock.{} = {wrong}", row.key);
        let name = format!("goblock.{}:", row.key);
        assert!(
            errs.iter().any(|e| e.starts_with(&name)),
            "goblock.{} = {wrong} gave no message naming it: {errs:?}",
            row.key
        );
    }
}

/// The keys `config.rs` reads: `get("name")` calls, less the `goblock`
/// wrapper and the fields of a `substitutePath` entry (`from`, `to`).
#[test]
fn every_key_the_server_reads_is_documented() {
    let src = std::fs::read_to_string(repo().join("lsp/server/src/config.rs")).expect("config.rs");
    let rows = documented();
    let mut read = 0;
    for part in src.split(".get(\"").skip(1) {
        let Some((name, _)) = part.split_once('"') else {
            continue;
        };
        if matches!(name, "goblock" | "from" | "to") {
            continue;
        }
        read += 1;
        assert!(
            rows.iter().any(|r| r.key == name
                || r.key.ends_with(&format!(".{name}"))
                || r.key.starts_with(&format!("{name}."))),
            "config.rs reads `{name}`, which docs/lsp.md's settings table does not list"
        );
    }
    assert!(read >= 10, "only {read} keys found in config.rs");
}

fn merge(into: &mut Map<String, Value>, v: &Value) {
    let Some(obj) = v.as_object() else { return };
    for (k, x) in obj {
        match (into.get_mut(k), x) {
            (Some(Value::Object(m)), Value::Object(_)) => merge(m, x),
            _ => {
                into.insert(k.clone(), x.clone());
            }
        }
    }
}
