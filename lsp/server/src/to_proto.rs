//! Converts the server's own models (annotations, rendered text, docs
//! positions, settings) into LSP types. With `from_proto` the only place
//! that builds protocol values; no decisions are made here.

use std::path::Path;

use serde_json::{Value, json};
use tower_lsp_server::gen_lsp_types as lsp;

use crate::config::Severity;
use crate::docs::Encoding;
use crate::render::{LabelPart, Related};

/// The LSP severity.
pub fn severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::Error,
        Severity::Warning => lsp::DiagnosticSeverity::Warning,
        Severity::Information => lsp::DiagnosticSeverity::Information,
        Severity::Hint => lsp::DiagnosticSeverity::Hint,
    }
}

/// The negotiated position encoding.
pub fn encoding(e: Encoding) -> lsp::PositionEncodingKind {
    match e {
        Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
        Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
        Encoding::Utf32 => lsp::PositionEncodingKind::UTF32,
    }
}

/// A `file://` URI of a local path.
pub fn uri(path: &Path) -> lsp::Uri {
    lsp::Uri(crate::uri::from_path(path))
}

/// A position.
pub fn pos(line: u32, character: u32) -> lsp::Position {
    lsp::Position { line, character }
}

/// The range of a whole (0-based) line of length `len`.
pub fn line_range(line0: u32, len: u32) -> lsp::Range {
    lsp::Range {
        start: pos(line0, 0),
        end: pos(line0, len),
    }
}

/// A diagnostic on characters `start..end` of a line.
pub fn diagnostic(
    line0: u32,
    start: u32,
    end: u32,
    sev: Severity,
    code: &str,
    message: String,
    related: &[Related],
) -> lsp::Diagnostic {
    let rel: Vec<lsp::DiagnosticRelatedInformation> = related
        .iter()
        .filter(|r| r.found && r.line > 0)
        .map(|r| lsp::DiagnosticRelatedInformation {
            location: lsp::Location {
                uri: uri(Path::new(&*r.file)),
                range: line_range(r.line - 1, 0),
            },
            message: r.message.clone(),
        })
        .collect();
    lsp::Diagnostic {
        range: lsp::Range {
            start: pos(line0, start),
            end: pos(line0, end),
        },
        severity: Some(severity(sev)),
        code: Some(lsp::Code::String(code.to_owned())),
        code_description: None,
        source: Some("goblock".to_owned()),
        message: message.into(),
        tags: None,
        related_information: (!rel.is_empty()).then_some(rel),
        data: None,
    }
}

/// An inlay hint at the end of a line, from label parts.
pub fn inlay_hint(line0: u32, character: u32, parts: Vec<LabelPart>) -> lsp::InlayHint {
    let parts: Vec<lsp::InlayHintLabelPart> = parts
        .into_iter()
        .map(|p| lsp::InlayHintLabelPart {
            value: p.text,
            tooltip: p.tooltip.map(lsp::Tooltip::String),
            location: p.target.filter(|t| t.1 > 0).map(|(f, l)| lsp::Location {
                uri: uri(Path::new(&*f)),
                range: line_range(l - 1, 0),
            }),
            command: None,
        })
        .collect();
    lsp::InlayHint {
        position: pos(line0, character),
        label: lsp::Label::InlayHintLabelPartList(parts),
        kind: None,
        text_edits: None,
        tooltip: None,
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}

/// A hover over a whole line, Markdown or plain text.
pub fn hover(text: String, markdown: bool, line0: u32, len: u32) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::Contents::MarkupContent(lsp::MarkupContent {
            kind: if markdown {
                lsp::MarkupKind::Markdown
            } else {
                lsp::MarkupKind::PlainText
            },
            value: text,
        }),
        range: Some(line_range(line0, len)),
    }
}

/// `$/progress` values.
pub fn progress_begin(title: &str, message: Option<String>) -> Value {
    with_message(
        json!({"kind": "begin", "title": title, "cancellable": true, "percentage": 0}),
        message,
    )
}

/// `message` is optional in `$/progress` and never `null` (Neovim's
/// `vim.lsp.status()` fails on a null message).
fn with_message(mut v: Value, message: Option<String>) -> Value {
    if let Some(m) = message {
        v["message"] = Value::String(m);
    }
    v
}

/// `$/progress` report.
pub fn progress_report(percentage: u32, message: Option<String>) -> Value {
    with_message(
        json!({"kind": "report", "percentage": percentage.min(100)}),
        message,
    )
}

/// `$/progress` end.
pub fn progress_end(message: Option<String>) -> Value {
    with_message(json!({"kind": "end"}), message)
}

/// Registration of `workspace/didChangeWatchedFiles` for trace globs (relative
/// to each root) and explicit paths.
pub fn watch_registration(
    roots: &[std::path::PathBuf],
    globs: &[String],
    relative_patterns: bool,
) -> lsp::Registration {
    let mut watchers = Vec::new();
    for g in globs {
        if Path::new(g).is_absolute() {
            watchers.push(json!({"globPattern": g}));
            continue;
        }
        if relative_patterns {
            for r in roots {
                watchers.push(
                    json!({"globPattern": {"baseUri": crate::uri::from_path(r), "pattern": g}}),
                );
            }
        } else {
            for r in roots {
                let base = r.to_string_lossy().replace('\\', "/");
                watchers
                    .push(json!({"globPattern": format!("{}/{}", base.trim_end_matches('/'), g)}));
            }
        }
    }
    lsp::Registration {
        id: "goblock-traces".to_owned(),
        method: "workspace/didChangeWatchedFiles".to_owned(),
        register_options: Some(json!({"watchers": watchers})),
    }
}

/// The server's capabilities.
pub fn capabilities(enc: Encoding, commands: &[&str]) -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(encoding(enc)),
        text_document_sync: Some(lsp::TextDocumentSync::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::Incremental),
                will_save: None,
                will_save_wait_until: None,
                save: None,
            },
        )),
        hover_provider: Some(lsp::HoverProvider::Bool(true)),
        inlay_hint_provider: Some(lsp::InlayHintProvider::Bool(true)),
        workspace: Some(lsp::WorkspaceOptions {
            workspace_folders: Some(lsp::WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(lsp::ChangeNotifications::Bool(true)),
            }),
            file_operations: None,
            text_document_content: None,
        }),
        execute_command_provider: Some(lsp::ExecuteCommandOptions {
            commands: commands.iter().map(|c| c.to_string()).collect(),
            work_done_progress_options: Default::default(),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_messages_are_left_out_never_null() {
        for v in [
            progress_begin("goblock: tracing TestX", None),
            progress_report(10, None),
            progress_end(None),
        ] {
            assert!(v.get("message").is_none(), "{v}");
        }
        assert_eq!(progress_report(150, Some("x".into()))["percentage"], 100);
        assert_eq!(progress_end(Some("done".into()))["message"], "done");
    }
}
