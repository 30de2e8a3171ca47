//! Converts LSP values into the server's own types: document URIs to paths,
//! positions and content changes to `docs` edits, client capabilities and
//! workspace folders to plain facts. With `to_proto` the only place that
//! reads protocol values.

use std::path::PathBuf;

use tower_lsp_server::gen_lsp_types as lsp;

use crate::docs::{Change, Encoding, Pos};
use crate::render::HoverFormat;

/// Local path of a document URI (None for non-file URIs).
pub fn path(uri: &lsp::Uri) -> Option<PathBuf> {
    crate::uri::to_path(&uri.0)
}

/// A position.
pub fn pos(p: lsp::Position) -> Pos {
    Pos {
        line: p.line,
        character: p.character,
    }
}

/// Content changes.
pub fn changes(c: Vec<lsp::TextDocumentContentChangeEvent>) -> Vec<Change> {
    c.into_iter()
        .map(|c| match c {
            lsp::TextDocumentContentChangeEvent::TextDocumentContentChangePartial(p) => Change {
                range: Some((pos(p.range.start), pos(p.range.end))),
                text: p.text,
            },
            lsp::TextDocumentContentChangeEvent::TextDocumentContentChangeWholeDocument(w) => {
                Change {
                    range: None,
                    text: w.text,
                }
            }
        })
        .collect()
}

/// What the server needs to know of the client.
#[derive(Clone, Debug, Default)]
pub struct ClientFeatures {
    /// Position encoding to use.
    pub encoding: Encoding,
    /// Server-initiated `$/progress` is supported.
    pub work_done_progress: bool,
    /// `workspace/didChangeWatchedFiles` can be registered dynamically.
    pub watch_files: bool,
    /// … with relative patterns.
    pub relative_patterns: bool,
    /// `workspace/inlayHint/refresh` is supported.
    pub inlay_refresh: bool,
    /// How hovers are written for this client ([`hover_format`]).
    pub hover: HoverFormat,
    /// The client takes `goblock/status` (`experimental.goblockStatus`).
    pub status: bool,
}

/// Reads the client capabilities.
pub fn client_features(caps: &lsp::ClientCapabilities) -> ClientFeatures {
    let v = serde_json::to_value(caps).unwrap_or_default();
    let flag = |p: &str| v.pointer(p).and_then(|x| x.as_bool()).unwrap_or(false);
    let encs: Vec<String> = v
        .pointer("/general/positionEncodings")
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let encoding = if encs.iter().any(|e| e == "utf-8") {
        Encoding::Utf8
    } else if encs.is_empty() || encs.iter().any(|e| e == "utf-16") {
        Encoding::Utf16
    } else if encs.iter().any(|e| e == "utf-32") {
        Encoding::Utf32
    } else {
        Encoding::Utf16
    };
    ClientFeatures {
        encoding,
        work_done_progress: flag("/window/workDoneProgress"),
        watch_files: flag("/workspace/didChangeWatchedFiles/dynamicRegistration"),
        relative_patterns: flag("/workspace/didChangeWatchedFiles/relativePatternSupport"),
        inlay_refresh: flag("/workspace/inlayHint/refreshSupport"),
        hover: HoverFormat::default(),
        status: flag("/experimental/goblockStatus"),
    }
}

/// How to write hovers for the client: from `clientInfo.name` and
/// `textDocument.hover.contentFormat`.
pub fn hover_format(p: &lsp::InitializeParams) -> HoverFormat {
    let v = serde_json::to_value(p).unwrap_or_default();
    let name = v.pointer("/clientInfo/name").and_then(|x| x.as_str());
    let formats: Vec<String> = v
        .pointer("/capabilities/textDocument/hover/contentFormat")
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    HoverFormat::for_client(name, &formats)
}

/// Workspace roots: the workspace folders, else the root URI, else the root path.
pub fn roots(p: &lsp::InitializeParams) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(lsp::WorkspaceFolders::WorkspaceFolderList(fs)) =
        &p.workspace_folders_initialize_params.workspace_folders
    {
        out.extend(fs.iter().filter_map(|f| path(&f.uri)));
    }
    if out.is_empty() {
        #[allow(deprecated)]
        if let Some(u) = &p.root_uri {
            out.extend(path(u));
        }
    }
    if out.is_empty() {
        let v = serde_json::to_value(p).unwrap_or_default();
        if let Some(s) = v.get("rootPath").and_then(|x| x.as_str()) {
            out.push(PathBuf::from(s));
        }
    }
    out
}

/// Paths of watched-file events.
pub fn file_events(p: &lsp::DidChangeWatchedFilesParams) -> Vec<PathBuf> {
    p.changes.iter().filter_map(|c| path(&c.uri)).collect()
}

/// Added and removed workspace folders.
pub fn folder_changes(p: &lsp::DidChangeWorkspaceFoldersParams) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let paths = |fs: &[lsp::WorkspaceFolder]| fs.iter().filter_map(|f| path(&f.uri)).collect();
    (paths(&p.event.added), paths(&p.event.removed))
}
