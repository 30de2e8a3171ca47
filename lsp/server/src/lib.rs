//! goblock-server: the language server behind `goblock lsp`. Shows where
//! goroutines block — from Go execution traces, goroutine dumps and
//! block/mutex profiles — as diagnostics, inlay hints and hovers.
//!
//! Layers, outside in (only `transport`, `backend`, `to_proto`,
//! `from_proto`, `progress`, `publish`, `requests`, `view` and the session
//! know LSP types):
//! * `transport` — JSON-RPC framing in front of the service: malformed
//!   messages are answered and logged, the server keeps serving;
//! * `backend` — the LSP handlers: notifications become events, requests
//!   read a snapshot on a blocking thread;
//! * `main_loop` + `session` — the one session value, changed only by the
//!   loop, one event at a time;
//! * `load/` — plan, load one input, commit; `publish` — what changed is
//!   republished (and `status`, the `goblock/status` notification);
//!   `requests` — hover and inlay hints from a snapshot;
//! * [`dumps`] — goroutine dumps and pprof profiles beside traces:
//!   discovery, loading, per-line models;
//! * [`snapshot`], [`annotations`], [`render`], [`span`], [`stale`], [`on_disk`],
//!   [`gosrc`], [`docs`], [`config`], [`commands`], [`discovery`], [`loader`],
//!   [`watch`] — the models they work on (no LSP types);
//! * [`protocol`] — our extensions as they travel (serde types).

pub mod annotations;
mod backend;
mod capture;
pub mod client_paths;
pub mod commands;
pub mod config;
pub mod discovery;
pub mod docs;
pub mod dumps;
pub mod from_proto;
pub mod gosrc;
mod load;
pub mod loader;
mod main_loop;
pub mod on_disk;
pub mod origins;
mod progress;
pub mod protocol;
mod publish;
mod relocate;
pub mod render;
mod requests;
mod session;
pub mod snapshot;
pub mod span;
pub mod stale;
mod status;
pub mod to_proto;
pub mod transport;
pub mod uri;
mod view;
pub mod watch;

pub use backend::Backend;

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
