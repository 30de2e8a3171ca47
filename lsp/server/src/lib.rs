//! goblock-server: the language server behind `goblock lsp`. Shows where
//! goroutines block — from Go execution traces — as diagnostics, inlay hints
//! and hovers.
//!
//! Modules (only `to_proto`, `from_proto`, `progress`, `view` and `server`
//! know LSP types):
//! * [`config`] — the `goblock.*` settings;
//! * [`discovery`] — finding trace files and binaries;
//! * [`loader`] — reading a trace safely and running the analysis;
//! * [`snapshot`] — the immutable state requests read;
//! * [`annotations`] — per-line models (what is shown where);
//! * [`render`] — their text: messages, labels, hover markdown;
//! * [`docs`] — open documents and line maps under edits;
//! * [`stale`] — re-anchoring annotations when the source changed;
//! * [`span`] — the part of a Go source line a diagnostic underlines;
//! * [`commands`] — `workspace/executeCommand` arguments and results;
//! * [`watch`] — the fallback file watcher;
//! * `view` — a document's diagnostics, hints and hover from a snapshot;
//! * `server` — the tower-lsp-server backend.

pub mod annotations;
pub mod commands;
pub mod config;
pub mod discovery;
pub mod docs;
pub mod from_proto;
pub mod gosrc;
pub mod loader;
mod progress;
pub mod render;
mod server;
pub mod snapshot;
pub mod span;
pub mod stale;
pub mod to_proto;
pub mod transport;
pub mod uri;
mod view;
pub mod watch;

pub use server::Backend;

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::LspService;

/// Serves LSP on `reader`/`writer` until the client exits or the input
/// ends (for tests: an in-memory pipe). Returns how it ended.
pub async fn serve<R, W>(reader: R, writer: W) -> transport::Ended
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (service, socket) = LspService::build(Backend::new)
        .custom_method(
            "window/workDoneProgress/cancel",
            Backend::work_done_progress_cancel,
        )
        .finish();
    transport::serve(reader, writer, service, socket).await
}

/// Serves LSP over stdin/stdout until the client exits; returns the exit
/// status (1 for `exit` without `shutdown`, as the LSP specification asks).
pub fn run_stdio() -> std::io::Result<i32> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ended = rt.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // Loads still running on blocking threads must not keep the process alive.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(ended.status())
}
