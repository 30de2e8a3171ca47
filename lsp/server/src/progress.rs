//! Server-initiated `$/progress` with RAII: `begin` creates the token
//! (bounded by a timeout, so an unanswering client cannot wedge a load) and
//! sends Begin; `Drop` sends End if `end` was not called, so every path out
//! of a load — error, cancellation, panic — closes the progress. The
//! progress is cancellable; the server maps a client's cancel to the load
//! that owns the token (`server.rs`).

use std::time::Duration;

use tower_lsp_server::Client;
use tower_lsp_server::gen_lsp_types as lsp;

use crate::to_proto;

/// An ongoing progress; End is sent on drop.
pub struct Progress {
    client: Client,
    token: lsp::ProgressToken,
    ended: bool,
    last: Option<(u32, Option<String>)>,
}

impl Progress {
    /// A new, unique token (to register before [`Progress::begin`], so that
    /// a cancel arriving as soon as the client knows the token finds it).
    pub fn new_token() -> lsp::ProgressToken {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        lsp::ProgressToken::String(format!("goblock/load/{n}"))
    }

    /// Starts a progress on `token` if the client supports it (cancellable:
    /// the client may send `window/workDoneProgress/cancel`).
    pub async fn begin(
        client: &Client,
        supported: bool,
        token: lsp::ProgressToken,
        title: &str,
        message: Option<String>,
    ) -> Option<Progress> {
        if !supported {
            return None;
        }
        let created = tokio::time::timeout(
            Duration::from_secs(5),
            client.create_work_done_progress(token.clone()),
        )
        .await;
        if !matches!(created, Ok(Ok(()))) {
            return None;
        }
        client
            .send_notification::<lsp::ProgressNotification>(lsp::ProgressParams {
                token: token.clone(),
                value: to_proto::progress_begin(title, message),
            })
            .await;
        Some(Progress {
            client: client.clone(),
            token,
            ended: false,
            last: None,
        })
    }

    /// Reports a percentage and a message (skipped when both are unchanged).
    pub async fn report(&mut self, percentage: u32, message: Option<String>) {
        let now = Some((percentage, message.clone()));
        if self.last == now {
            return;
        }
        self.last = now;
        self.client
            .send_notification::<lsp::ProgressNotification>(lsp::ProgressParams {
                token: self.token.clone(),
                value: to_proto::progress_report(percentage, message),
            })
            .await;
    }

    /// Ends the progress.
    pub async fn end(mut self, message: Option<String>) {
        self.ended = true;
        self.client
            .send_notification::<lsp::ProgressNotification>(lsp::ProgressParams {
                token: self.token.clone(),
                value: to_proto::progress_end(message),
            })
            .await;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let client = self.client.clone();
        let token = self.token.clone();
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            h.spawn(async move {
                client
                    .send_notification::<lsp::ProgressNotification>(lsp::ProgressParams {
                        token,
                        value: to_proto::progress_end(Some("stopped".into())),
                    })
                    .await;
            });
        }
    }
}
