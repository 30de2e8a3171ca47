//! The tower-lsp-server handlers: thin. A notification turns its params
//! into an [`Event`] and posts it before returning (no `.await` first, so
//! the session applies notifications in the client's order); a request
//! asks the session loop for a [`View`] (an immutable snapshot, taken after
//! every earlier notification) and computes its answer on a blocking
//! thread, a panic there answering an internal error.

use std::panic::AssertUnwindSafe;
use std::path::Path;

use serde_json::Value;
use tokio::sync::oneshot;
use tower_lsp_server::gen_lsp_types as lsp;
use tower_lsp_server::jsonrpc::{Error as RpcError, ErrorCode, Result as RpcResult};
use tower_lsp_server::{Client, LanguageServer};

use crate::capture::{self, CaptureCommand};
use crate::config::Settings;
use crate::main_loop::{Event, EventSender, LoadCommand};
use crate::session::{Session, View};
use crate::{commands, from_proto, requests, to_proto};

/// The language server.
pub struct Backend {
    tx: EventSender,
}

fn canonical(p: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn internal(what: &str, msg: String) -> RpcError {
    RpcError {
        code: ErrorCode::InternalError,
        message: format!("goblock: {what} failed: {msg}").into(),
        data: None,
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Runs `f` on a blocking thread; a panic becomes an internal error.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> RpcResult<T> {
    match tokio::task::spawn_blocking(move || std::panic::catch_unwind(AssertUnwindSafe(f))).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(p)) => Err(internal(what, panic_message(&*p))),
        Err(e) => Err(internal(what, e.to_string())),
    }
}

impl Backend {
    /// A backend talking to `client`; starts the session loop.
    pub fn new(client: Client) -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let session = Session::new(client, tx.clone());
        tokio::spawn(crate::main_loop::run(session, rx));
        Backend { tx }
    }

    fn post(&self, ev: Event) {
        let _ = self.tx.send(ev);
    }

    async fn view(&self, uri: Option<String>) -> RpcResult<View> {
        let (tx, rx) = oneshot::channel();
        self.post(Event::View(uri, tx));
        rx.await
            .map_err(|_| internal("request", "the session has stopped".into()))
    }

    async fn load(&self, cmd: LoadCommand) -> RpcResult<Option<Value>> {
        let (tx, rx) = oneshot::channel();
        self.post(Event::Command(cmd, tx));
        match rx.await {
            Ok(r) => r.map(Some),
            Err(_) => Err(internal("command", "the session has stopped".into())),
        }
    }

    /// `window/workDoneProgress/cancel` (not in tower-lsp-server's trait;
    /// registered with `custom_method`): cancels the load showing that
    /// progress; a token of a load that has ended is ignored.
    pub async fn work_done_progress_cancel(&self, p: lsp::WorkDoneProgressCancelParams) {
        self.post(Event::ProgressCancel(p.token));
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: lsp::InitializeParams) -> RpcResult<lsp::InitializeResult> {
        let mut features = from_proto::client_features(&params.capabilities);
        features.hover = from_proto::hover_format(&params);
        let enc = features.encoding;
        // As the client gave them (the session keeps their canonical form
        // too): files under a root given through a symlink are published
        // through it.
        let roots = from_proto::roots(&params);
        let settings = params
            .initialization_options
            .as_ref()
            .map(Settings::from_json);
        self.post(Event::Initialize {
            features,
            roots,
            settings,
        });
        Ok(lsp::InitializeResult {
            capabilities: lsp::ServerCapabilities {
                code_lens_provider: Some(lsp::CodeLensOptions {
                    resolve_provider: Some(true),
                    work_done_progress_options: Default::default(),
                }),
                ..to_proto::capabilities(enc, &[commands::ALL, capture::COMMANDS].concat())
            },
            server_info: Some(lsp::ServerInfo {
                name: "goblock".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        })
    }

    async fn initialized(&self, _: lsp::InitializedParams) {
        self.post(Event::Initialized);
    }

    async fn shutdown(&self) -> RpcResult<()> {
        let (tx, rx) = oneshot::channel();
        self.post(Event::Shutdown(tx));
        let _ = rx.await;
        Ok(())
    }

    async fn did_open(&self, p: lsp::DidOpenTextDocumentParams) {
        let Some(path) = from_proto::path(&p.text_document.uri) else {
            return;
        };
        self.post(Event::DidOpen {
            uri: p.text_document.uri.0,
            path: canonical(&path).to_string_lossy().into(),
            text: p.text_document.text,
            version: p.text_document.version,
        });
    }

    async fn did_change(&self, p: lsp::DidChangeTextDocumentParams) {
        self.post(Event::DidChange {
            uri: p.text_document.text_document_identifier.uri.0,
            version: p.text_document.version,
            changes: from_proto::changes(p.content_changes),
        });
    }

    async fn did_close(&self, p: lsp::DidCloseTextDocumentParams) {
        self.post(Event::DidClose(p.text_document.uri.0));
    }

    async fn did_change_configuration(&self, p: lsp::DidChangeConfigurationParams) {
        let v = &p.settings;
        if v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) {
            return;
        }
        let (s, errors) = Settings::from_json(v);
        self.post(Event::Configuration(s, errors));
    }

    async fn did_change_workspace_folders(&self, p: lsp::DidChangeWorkspaceFoldersParams) {
        let (added, removed) = from_proto::folder_changes(&p);
        self.post(Event::WorkspaceFolders { added, removed });
    }

    async fn did_change_watched_files(&self, p: lsp::DidChangeWatchedFilesParams) {
        self.post(Event::FilesChanged(from_proto::file_events(&p)));
    }

    async fn inlay_hint(&self, p: lsp::InlayHintParams) -> RpcResult<Option<Vec<lsp::InlayHint>>> {
        let view = self.view(Some(p.text_document.uri.0)).await?;
        let tx = self.tx.clone();
        let (first, last) = (p.range.start.line, p.range.end.line);
        blocking("inlayHint", move || {
            requests::inlay_hints(&view, &tx, first, last)
        })
        .await
    }

    async fn hover(&self, p: lsp::HoverParams) -> RpcResult<Option<lsp::Hover>> {
        let tp = p.text_document_position_params;
        let view = self.view(Some(tp.text_document.uri.0)).await?;
        let tx = self.tx.clone();
        let line = tp.position.line;
        blocking("hover", move || requests::hover(&view, &tx, line)).await
    }

    async fn code_lens(&self, p: lsp::CodeLensParams) -> RpcResult<Option<Vec<lsp::CodeLens>>> {
        let uri = p.text_document.uri.0;
        let view = self.view(Some(uri.clone())).await?;
        blocking("codeLens", move || {
            if !view.snap.settings.capture.code_lens {
                return None;
            }
            let doc = view.doc.as_ref()?;
            Some(capture::lens::lenses(&uri, &doc.doc.text()))
        })
        .await
    }

    async fn code_lens_resolve(&self, lens: lsp::CodeLens) -> RpcResult<lsp::CodeLens> {
        Ok(capture::lens::resolve(lens))
    }

    async fn execute_command(
        &self,
        p: lsp::ExecuteCommandParams,
    ) -> RpcResult<Option<lsp::LspAny>> {
        let args = p.arguments.unwrap_or_default();
        if let Some(cmd) = CaptureCommand::parse(&p.command, &args) {
            let (tx, rx) = oneshot::channel();
            self.post(Event::Capture(cmd?, tx));
            return match rx.await {
                Ok(r) => r.map(Some),
                Err(_) => Err(internal("command", "the session has stopped".into())),
            };
        }
        match p.command.as_str() {
            commands::LOAD_TRACE => {
                let Some(path) = commands::load_trace_arg(&args) else {
                    return Err(RpcError::invalid_params("goblock.loadTrace expects a path"));
                };
                self.load(LoadCommand::LoadTrace(path)).await
            }
            commands::RELOAD => self.load(LoadCommand::Reload).await,
            commands::CLEAR => self.load(LoadCommand::Clear).await,
            commands::HOT_LINES => {
                let limit = commands::hot_lines_limit(&args);
                let view = self.view(None).await?;
                blocking("hotLines", move || {
                    let reloc = crate::relocate::Relocator::new(&view.snap, &view.open);
                    let r = commands::hot_lines(&view.snap, limit, view.loading, &reloc);
                    Some(serde_json::json!(r))
                })
                .await
            }
            commands::GOROUTINES => {
                let Some((uri, line)) = commands::goroutines_arg(&args) else {
                    return Err(RpcError::invalid_params(
                        "goblock.goroutines expects [{\"uri\": …, \"line\": n}] (line 0-based)",
                    ));
                };
                let Some(path) = crate::uri::to_path(&uri) else {
                    return Err(RpcError::invalid_params(format!(
                        "goblock.goroutines: {uri} is not a file URI"
                    )));
                };
                let path = crate::session::canonical(&path)
                    .to_string_lossy()
                    .into_owned();
                let view = self.view(Some(uri.clone())).await?;
                let tx = self.tx.clone();
                blocking("goroutines", move || {
                    Some(serde_json::json!(requests::goroutines(
                        &view, &tx, &uri, &path, line
                    )))
                })
                .await
            }
            "goblock.test.panic" if std::env::var_os("GOBLOCK_TEST_HOOKS").is_some() => {
                blocking("goblock.test.panic", || -> Option<Value> {
                    panic!("test panic")
                })
                .await
            }
            other => Err(RpcError::invalid_params(format!("unknown command {other}"))),
        }
    }
}
