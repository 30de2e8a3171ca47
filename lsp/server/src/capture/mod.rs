//! Captures from the editor (issue 14; docs/capture.md, docs/lsp.md
//! "Captures"): the commands `goblock.captureTest`, `goblock.captureService`,
//! `goblock.captures`, `goblock.cancelCapture`, `goblock.loadCapture`, the
//! code lenses above tests, and what a finished capture does — its trace
//! (with the test binary that wrote it, for DWARF) replaces or joins the
//! traces shown, as `goblock.capture.load` says; a build that failed leaves
//! the compiler's messages as diagnostics until the next capture.
//!
//! One capture per session at a time: a second is refused with the first's
//! name (clients offer to cancel it). A capture runs the user's code, so
//! one starts only from one of these commands (a lens the user runs),
//! never on open or on change. The capture itself is goblock-capture's,
//! run off the loop by [`run`].

pub(crate) mod lens;
mod run;

use std::collections::HashMap;
use std::path::PathBuf;

use goblock_analysis::units;
use goblock_capture::meta::Kind;
use goblock_capture::store::{self, Store};
use goblock_capture::{Cancel, Capture, Outcome, What};
use serde_json::{Value, json};
use tower_lsp_server::gen_lsp_types as lsp;
use tower_lsp_server::jsonrpc::{Error as RpcError, ErrorCode};

use crate::config::CaptureLoad;
use crate::load::{LoadWaiter, Waiter};
use crate::main_loop::Event;
use crate::protocol as proto;
use crate::publish::Scope;
use crate::session::{Session, canonical};
use proto::{
    CancelCaptureResult, CaptureErrorData, CaptureInfo, CaptureResult, CaptureServiceParams,
    CaptureTestParams, CapturesResult, FailReason, LoadCaptureParams, LoadResult,
};
pub(crate) use run::{Done, Failure};

/// A capture command, its arguments parsed.
#[derive(Debug)]
pub(crate) enum CaptureCommand {
    Test(CaptureTestParams),
    Service(CaptureServiceParams),
    List,
    Cancel,
    Load(LoadCaptureParams),
}

impl CaptureCommand {
    /// Parses `workspace/executeCommand` arguments of capture command
    /// `name`; `None` when `name` is not one.
    pub(crate) fn parse(name: &str, args: &[Value]) -> Option<Result<CaptureCommand, RpcError>> {
        fn arg<T: serde::de::DeserializeOwned>(
            name: &str,
            args: &[Value],
            want: &str,
        ) -> Result<T, RpcError> {
            let a = args.first().cloned().unwrap_or(Value::Null);
            serde_json::from_value(a)
                .map_err(|e| RpcError::invalid_params(format!("{name} expects {want}: {e}")))
        }
        Some(match name {
            proto::CAPTURE_TEST => {
                arg(name, args, "{\"uri\", \"name\"?, \"line\"?}").map(CaptureCommand::Test)
            }
            proto::CAPTURE_SERVICE => {
                arg(name, args, "{\"url\", \"seconds\", \"what\"?}").map(CaptureCommand::Service)
            }
            proto::LOAD_CAPTURE => arg(name, args, "{\"dir\"}").map(CaptureCommand::Load),
            proto::CAPTURES => Ok(CaptureCommand::List),
            proto::CANCEL_CAPTURE => Ok(CaptureCommand::Cancel),
            _ => return None,
        })
    }
}

/// The names of the capture commands, for the capability.
pub(crate) const COMMANDS: &[&str] = &[
    proto::CAPTURE_TEST,
    proto::CAPTURE_SERVICE,
    proto::CAPTURES,
    proto::CANCEL_CAPTURE,
    proto::LOAD_CAPTURE,
];

struct Running {
    id: u64,
    name: String,
    cancel: Cancel,
    token: Option<lsp::ProgressToken>,
    reply: Option<Waiter>,
}

/// The session's capture state.
#[derive(Default)]
pub(crate) struct Captures {
    running: Option<Running>,
    next_id: u64,
    /// Compiler messages of the last failed build, by URI.
    diagnostics: HashMap<String, Vec<lsp::Diagnostic>>,
}

/// A capture command's error: RequestFailed, with the reason in `data`.
/// A cancelled capture too: the client did not cancel this request (it
/// sent goblock.cancelCapture or cancelled the progress), and clients drop
/// a RequestCancelled answer as an RPC-internal acknowledgement (Neovim
/// never calls the request's handler), so the user would not hear that
/// the capture ended.
fn error(reason: FailReason, message: String, running: Option<&str>) -> RpcError {
    RpcError {
        code: ErrorCode::ServerError(-32803),
        message: format!("goblock: {message}").into(),
        data: Some(json!(CaptureErrorData {
            reason,
            running: running.map(str::to_owned),
        })),
    }
}

/// Bytes as KiB or MiB, for messages.
pub(crate) fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

fn done_message(c: &Capture) -> String {
    let took = units::duration(c.meta.duration_ms * 1_000_000);
    let outcome = match c.meta.outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::TimedOut => "timed out",
        Outcome::Killed => "killed after its timeout",
        Outcome::Complete => "complete",
    };
    if c.meta.kind == Kind::Service {
        let size = size(c.meta.trace_bytes);
        return match (c.meta.what, c.meta.seconds) {
            (What::Trace, Some(s)) => {
                format!("captured {s} s of {}: {size} in {took}", c.meta.name)
            }
            (w, Some(s)) => format!(
                "captured {} of {} s of {}: {size} in {took}",
                w.with_article(),
                s,
                c.meta.name
            ),
            (w, None) => format!(
                "captured {} of {}: {size} in {took}",
                w.with_article(),
                c.meta.name
            ),
        };
    }
    format!(
        "traced {}: {outcome} · {} in {took}",
        c.meta.name,
        size(c.meta.trace_bytes)
    )
}

impl Session {
    /// A capture command from the client.
    pub(crate) fn capture_command(&mut self, cmd: CaptureCommand, reply: Waiter) {
        match cmd {
            CaptureCommand::Test(p) => {
                let Some(path) = crate::uri::to_path(&p.uri) else {
                    let _ = reply.send(Err(RpcError::invalid_params(format!(
                        "goblock.captureTest: {} is not a file URI",
                        p.uri
                    ))));
                    return;
                };
                let text = self.docs.get(&p.uri).map(|d| d.doc.text());
                // Until the run resolves it (CaptureToken): what was asked for.
                let name = match (&p.name, p.line) {
                    (Some(n), _) => n.clone(),
                    (None, Some(l)) => format!("the test at line {}", l + 1),
                    (None, None) => "the package's tests".into(),
                };
                self.start_capture(
                    run::Target::Test {
                        path,
                        name: p.name,
                        line: p.line,
                        text,
                    },
                    name,
                    reply,
                );
            }
            CaptureCommand::Service(p) => {
                if let Err(e) = goblock_capture::service_url(&p.url, p.what, p.seconds) {
                    let _ = reply.send(Err(error(FailReason::Failed, e.to_string(), None)));
                    return;
                }
                let name = p.url.clone();
                self.start_capture(
                    run::Target::Service {
                        url: p.url,
                        what: p.what,
                        seconds: p.seconds,
                    },
                    name,
                    reply,
                );
            }
            CaptureCommand::Cancel => {
                let cancelled = self.cancel_capture();
                let _ = reply.send(Ok(json!(CancelCaptureResult { cancelled })));
            }
            CaptureCommand::List => self.list_captures(reply),
            CaptureCommand::Load(p) => self.load_capture_dir(p.dir, reply),
        }
    }

    fn start_capture(&mut self, target: run::Target, name: String, reply: Waiter) {
        if let Some(r) = &self.captures.running {
            let _ = reply.send(Err(error(
                FailReason::Busy,
                format!(
                    "a capture is running ({}): cancel it first (goblock.cancelCapture)",
                    r.name
                ),
                Some(&r.name),
            )));
            return;
        }
        self.captures.next_id += 1;
        let id = self.captures.next_id;
        let cancel = Cancel::new();
        self.captures.running = Some(Running {
            id,
            name,
            cancel: cancel.clone(),
            token: None,
            reply: Some(reply),
        });
        let job = run::Job {
            id,
            target,
            roots: self.roots.clone(),
            settings: self.settings.clone(),
            encoding: self.features.encoding,
            cancel,
            client: self.client.clone(),
            progress: self.features.work_done_progress,
            out: self.out.clone(),
            tx: self.tx.clone(),
        };
        tokio::spawn(run::run(job));
    }

    /// Stops the running capture (the test's process group is killed);
    /// whether there was one.
    pub(crate) fn cancel_capture(&mut self) -> bool {
        match &self.captures.running {
            Some(r) => {
                r.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// The progress token of capture `id`, and the name of what it runs.
    pub(crate) fn capture_token(&mut self, id: u64, token: lsp::ProgressToken, name: String) {
        if let Some(r) = self.captures.running.as_mut().filter(|r| r.id == id) {
            r.token = Some(token);
            r.name = name;
        }
    }

    /// A progress cancel for the running capture's token cancels it.
    pub(crate) fn cancel_capture_progress(&mut self, token: &lsp::ProgressToken) -> bool {
        let owns = self
            .captures
            .running
            .as_ref()
            .is_some_and(|r| r.token.as_ref() == Some(token));
        owns && self.cancel_capture()
    }

    /// Capture `id` finished.
    pub(crate) fn capture_done(&mut self, id: u64, outcome: Result<Done, Failure>) {
        let Some(mut running) = self.captures.running.take_if(|r| r.id == id) else {
            return;
        };
        let Some(reply) = running.reply.take() else {
            return;
        };
        match outcome {
            Ok(done) => {
                if let Some(why) = &done.fallback {
                    self.out
                        .log(lsp::MessageType::Info, format!("goblock: {why}"));
                }
                self.set_build_diagnostics(Vec::new());
                self.show_capture(done.capture, reply);
            }
            Err(f) => {
                if f.reason == FailReason::Build {
                    self.set_build_diagnostics(f.diagnostics);
                }
                if f.reason != FailReason::Cancelled {
                    self.out
                        .log(lsp::MessageType::Warning, format!("goblock: {}", f.message));
                }
                let _ = reply.send(Err(error(f.reason, f.message, None)));
            }
        }
    }

    /// Loads a finished capture as `goblock.capture.load` says and answers
    /// once the snapshot with it is shown.
    pub(crate) fn show_capture(&mut self, c: Capture, reply: Waiter) {
        let trace = canonical(&c.file);
        if let Some(b) = &c.binary {
            self.loads.binaries.insert(trace.clone(), b.clone());
        }
        match self.settings.capture.load {
            CaptureLoad::Replace => {
                self.loads.auto = false;
                self.loads.extra = vec![trace.clone()];
            }
            CaptureLoad::Add => {
                if !self.loads.extra.contains(&trace) {
                    self.loads.extra.push(trace.clone());
                }
            }
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let only = Some(trace.clone());
        self.start_load(false, true, Some(LoadWaiter { reply: tx, only }));
        let message = done_message(&c);
        let capture = CaptureInfo::of(&c);
        tokio::spawn(async move {
            // Superseded (or the session stopped): not shown.
            let loaded: Option<LoadResult> = match rx.await {
                Ok(Ok(v)) => serde_json::from_value(v).ok(),
                _ => None,
            };
            let shown = loaded.as_ref().is_some_and(|l| l.loaded.contains(&trace));
            let failure = loaded.as_ref().and_then(|l| {
                l.failures
                    .iter()
                    .find(|f| f.path == trace)
                    .map(|f| f.message.clone())
            });
            let message = match failure {
                Some(why) => format!("{message}, but it could not be shown: {why}"),
                None => message,
            };
            let r = CaptureResult {
                capture,
                message,
                loaded: shown,
            };
            let _ = reply.send(Ok(json!(r)));
        });
    }

    /// `goblock.loadCapture`: shows a capture made earlier, with its binary
    /// (its `meta.json` is read off the loop).
    fn load_capture_dir(&mut self, dir: PathBuf, reply: Waiter) {
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let found = dir.parent().and_then(|root| {
                Store::at(root)
                    .ok()?
                    .list()
                    .into_iter()
                    .find(|c| canonical(&c.dir) == canonical(&dir))
            });
            match found {
                Some(c) => {
                    let _ = tx.send(Event::ShowCapture(Box::new(c), reply));
                }
                None => {
                    let _ = reply.send(Err(RpcError::invalid_params(format!(
                        "goblock.loadCapture: {} is not a capture (no readable meta.json)",
                        dir.display()
                    ))));
                }
            }
        });
    }

    /// `goblock.captures`: the captures of the first workspace folder.
    fn list_captures(&mut self, reply: Waiter) {
        let root = self
            .roots
            .first()
            .cloned()
            .or_else(|| std::env::current_dir().ok());
        let running = self.captures.running.as_ref().map(|r| r.name.clone());
        let shown: Vec<PathBuf> = self
            .snapshot
            .traces
            .iter()
            .map(|t| t.path.clone())
            .collect();
        tokio::task::spawn_blocking(move || {
            let Some(root) = root else {
                let _ = reply.send(Err(error(
                    FailReason::Failed,
                    "no workspace folder".into(),
                    None,
                )));
                return;
            };
            // The captures of the folder's module or work root, where
            // `goblock capture` and the server's own captures go.
            let root = store::workspace_root(&root);
            let r = match Store::for_workspace(&root, store::default_cache_dir().as_deref()) {
                Ok(s) => CapturesResult {
                    root: s.root().to_path_buf(),
                    fallback: s.fallback.clone(),
                    running,
                    captures: s
                        .list()
                        .iter()
                        .map(|c| CaptureInfo {
                            loaded: Some(shown.contains(&canonical(&c.file))),
                            ..CaptureInfo::of(c)
                        })
                        .collect(),
                },
                Err(e) => {
                    let _ = reply.send(Err(error(FailReason::Failed, e.to_string(), None)));
                    return;
                }
            };
            let _ = reply.send(Ok(json!(r)));
        });
    }

    /// Replaces the compiler messages shown and republishes.
    fn set_build_diagnostics(&mut self, by_uri: Vec<(String, Vec<lsp::Diagnostic>)>) {
        if by_uri.is_empty() && self.captures.diagnostics.is_empty() {
            return;
        }
        self.captures.diagnostics = by_uri.into_iter().collect();
        self.annotations_changed(Scope::All);
    }

    /// `diags` of `uri` with the compiler messages of a failed capture.
    pub(crate) fn with_build_diagnostics(
        &self,
        uri: &str,
        mut diags: Vec<lsp::Diagnostic>,
    ) -> Vec<lsp::Diagnostic> {
        if let Some(d) = self.captures.diagnostics.get(uri) {
            diags.extend(d.iter().cloned());
        }
        diags
    }

    /// URIs with compiler messages (published even when nothing else is).
    pub(crate) fn build_diagnostic_uris(&self) -> Vec<String> {
        self.captures.diagnostics.keys().cloned().collect()
    }

    /// Stops a running capture when the session ends.
    pub(crate) fn shutdown_captures(&mut self) {
        self.cancel_capture();
    }
}
