//! One capture, off the loop: what to run is resolved on a blocking thread
//! (the test around a line, from the editor's text or the file; the
//! capture directory of the file's workspace), goblock-capture runs it
//! there, and this task turns its events into a cancellable `$/progress`
//! (the step, the last output line, elapsed/N s for a service) and the
//! test's output into `window/logMessage` lines. The outcome goes back to
//! the session as [`Event::CaptureDone`]; compiler messages come back as
//! diagnostics, positioned in the client's encoding.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use goblock_capture::store::{self, Store};
use goblock_capture::{
    Cancel, Capture, CaptureError, CompilerMessage, Event as CaptureEvent, Selection,
    ServiceRequest, TestKind, TestRequest, What, run_pattern, test_functions,
};
use tokio::sync::mpsc;
use tower_lsp_server::Client;
use tower_lsp_server::gen_lsp_types as lsp;

use super::proto::FailReason;
use crate::config::Settings;
use crate::docs::{Encoding, encoded_len};
use crate::main_loop::{Event, EventSender};
use crate::progress::Progress;
use crate::publish::Outbox;

/// What to capture, as the session knows it (no file read yet).
pub(crate) enum Target {
    /// A test, the test around a line, or the package of `path`.
    Test {
        path: PathBuf,
        name: Option<String>,
        line: Option<u32>,
        /// The editor's text of `path`, when open.
        text: Option<String>,
    },
    /// A running service.
    Service {
        url: String,
        what: What,
        seconds: f64,
    },
}

/// Why a capture produced nothing.
pub(crate) struct Failure {
    pub(crate) reason: FailReason,
    pub(crate) message: String,
    /// Compiler messages as diagnostics, by URI.
    pub(crate) diagnostics: Vec<(String, Vec<lsp::Diagnostic>)>,
}

impl Failure {
    fn failed(message: impl Into<String>) -> Failure {
        Failure {
            reason: FailReason::Failed,
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }
}

/// A finished capture.
pub(crate) struct Done {
    pub(crate) capture: Capture,
    /// Why the captures went to the user cache directory.
    pub(crate) fallback: Option<String>,
}

/// Everything the task needs.
pub(crate) struct Job {
    pub(crate) id: u64,
    pub(crate) target: Target,
    pub(crate) roots: Vec<PathBuf>,
    pub(crate) settings: std::sync::Arc<Settings>,
    pub(crate) encoding: Encoding,
    pub(crate) cancel: Cancel,
    pub(crate) client: Client,
    pub(crate) progress: bool,
    pub(crate) out: Outbox,
    pub(crate) tx: EventSender,
}

/// Where the captures of `path` go: the module or work root
/// ([`store::workspace_root`]) of the workspace folder holding it (the
/// deepest), else of its own directory — the root `goblock capture` uses
/// from any directory of that module, so the CLI, the list and the
/// newest-capture fallback all find them.
fn workspace_of(roots: &[PathBuf], path: &Path) -> PathBuf {
    let folder = roots
        .iter()
        .filter(|r| path.starts_with(r))
        .max_by_key(|r| r.as_os_str().len());
    match folder {
        Some(f) => store::workspace_root(f),
        None => store::workspace_root(path.parent().unwrap_or(path)),
    }
}

fn test_request(
    path: &Path,
    name: Option<String>,
    line: Option<u32>,
    text: Option<String>,
    settings: &Settings,
) -> Result<TestRequest, Failure> {
    let dir = path
        .parent()
        .ok_or_else(|| Failure::failed(format!("{}: no directory", path.display())))?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let funcs = if name.is_some() || line.is_some() {
        let text = match text {
            Some(t) => t,
            None => std::fs::read_to_string(path)
                .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?,
        };
        test_functions(&text)
    } else {
        Vec::new()
    };
    let chosen = match (&name, line) {
        (Some(n), _) => Some((
            n.clone(),
            funcs.iter().find(|f| &f.name == n).map(|f| f.kind),
        )),
        (None, Some(l)) => {
            let f = funcs.iter().find(|f| f.contains(l)).ok_or_else(|| {
                Failure::failed(format!(
                    "no test, benchmark or fuzz test around line {} of {file}: put the cursor inside one, or trace the package",
                    l + 1
                ))
            })?;
            Some((f.name.clone(), Some(f.kind)))
        }
        (None, None) => None,
    };
    let selection = match &chosen {
        None => Selection::Package,
        Some((n, kind)) => {
            let bench = kind.map_or(n.starts_with("Benchmark"), |k| k == TestKind::Benchmark);
            if bench {
                Selection::Bench {
                    bench: run_pattern(n),
                    run: None,
                }
            } else {
                Selection::Run(run_pattern(n))
            }
        }
    };
    let c = &settings.capture;
    let mut req = TestRequest::new(dir, selection);
    req.label = chosen.map(|(n, _)| n);
    req.go_path = (!settings.go_path.is_empty()).then(|| expand_home(&settings.go_path));
    req.build_flags = c.build_flags.clone();
    req.benchtime = (!c.benchtime.is_empty()).then(|| c.benchtime.clone());
    req.timeout = match c.timeout.as_str() {
        "" => None,
        "0" => Some(Duration::ZERO),
        t => humantime::parse_duration(t).ok(),
    };
    Ok(req)
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

/// Compiler messages as diagnostics (source `goblock`, code `build`),
/// positioned on the file as it is on disk (what was compiled).
fn diagnostics(messages: &[CompilerMessage], enc: Encoding) -> Vec<(String, Vec<lsp::Diagnostic>)> {
    let mut by_file: Vec<(String, Vec<lsp::Diagnostic>)> = Vec::new();
    for m in messages {
        let text = std::fs::read_to_string(&m.file).unwrap_or_default();
        let line0 = m.line.saturating_sub(1);
        let line_text = text.lines().nth(line0 as usize).unwrap_or("");
        let col = m.column.map_or(0, |c| c.saturating_sub(1) as usize);
        let col = col.min(line_text.len());
        let prefix = line_text.get(..col).unwrap_or(line_text);
        let start = encoded_len(prefix, enc);
        let end = encoded_len(line_text, enc).max(start);
        let d = lsp::Diagnostic {
            range: lsp::Range {
                start: lsp::Position {
                    line: line0,
                    character: start,
                },
                end: lsp::Position {
                    line: line0,
                    character: end,
                },
            },
            severity: Some(lsp::DiagnosticSeverity::Error),
            code: Some(lsp::Code::String("build".into())),
            code_description: None,
            source: Some("goblock".into()),
            message: format!("{} (the capture's build failed)", m.message).into(),
            tags: None,
            related_information: None,
            data: None,
        };
        let uri = crate::uri::from_path(&m.file);
        match by_file.iter_mut().find(|(u, _)| *u == uri) {
            Some((_, v)) => v.push(d),
            None => by_file.push((uri, vec![d])),
        }
    }
    by_file
}

/// What a capture will do, resolved off the loop (the test around a line
/// read from the file; the capture directory prepared).
pub(crate) struct Resolved {
    store: Store,
    what: Request,
}

enum Request {
    Test(TestRequest),
    Service(ServiceRequest),
}

impl Resolved {
    /// What the progress and a "busy" answer call it: the test, the
    /// package's tests, or the service.
    pub(crate) fn name(&self) -> String {
        match &self.what {
            Request::Test(r) => match &r.label {
                Some(l) => l.clone(),
                None => format!(
                    "the tests of {}",
                    r.dir.file_name().map_or_else(
                        || r.dir.display().to_string(),
                        |n| n.to_string_lossy().into_owned()
                    )
                ),
            },
            Request::Service(r) => r.url.clone(),
        }
    }

    fn title(&self) -> String {
        match &self.what {
            Request::Test(_) => format!("goblock: tracing {}", self.name()),
            Request::Service(r) => match r.what {
                What::Trace => format!("goblock: capturing {} s of {}", r.seconds, r.url),
                What::Goroutines => format!("goblock: capturing a goroutine dump of {}", r.url),
                w => format!(
                    "goblock: capturing {} of {} s of {}",
                    w.with_article(),
                    goblock_capture::fetch::whole_seconds(r.seconds),
                    r.url
                ),
            },
        }
    }
}

fn resolve(target: Target, roots: &[PathBuf], settings: &Settings) -> Result<Resolved, Failure> {
    match target {
        Target::Test {
            path,
            name,
            line,
            text,
        } => {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            let root = workspace_of(roots, &path);
            let req = test_request(&path, name, line, text, settings)?;
            Ok(Resolved {
                store: open_store(&root)?,
                what: Request::Test(req),
            })
        }
        Target::Service { url, what, seconds } => {
            let root = roots
                .first()
                .cloned()
                .or_else(|| std::env::current_dir().ok())
                .map(|f| store::workspace_root(&f))
                .ok_or_else(|| Failure::failed("no workspace folder to keep the capture in"))?;
            Ok(Resolved {
                store: open_store(&root)?,
                what: Request::Service(ServiceRequest {
                    url,
                    what,
                    seconds,
                    timeout: humantime::parse_duration(&settings.capture.service_timeout).ok(),
                    max_bytes: Some(settings.capture.max_mib << 20),
                }),
            })
        }
    }
}

fn capture(
    resolved: Resolved,
    keep: usize,
    enc: Encoding,
    cancel: &Cancel,
    emit: &mut dyn FnMut(CaptureEvent),
) -> Result<Done, Failure> {
    let Resolved { store, what } = resolved;
    let result = match &what {
        Request::Test(req) => goblock_capture::capture_test(&store, req, cancel, emit),
        Request::Service(req) => goblock_capture::capture_service(&store, req, cancel, emit),
    };
    match result {
        Ok(capture) => {
            store.prune(keep);
            Ok(Done {
                capture,
                fallback: store.fallback.clone(),
            })
        }
        Err(CaptureError::Cancelled) => Err(Failure {
            reason: FailReason::Cancelled,
            message: "capture cancelled".into(),
            diagnostics: Vec::new(),
        }),
        Err(e @ CaptureError::Build { .. }) => {
            let CaptureError::Build { messages, .. } = &e else {
                unreachable!()
            };
            Err(Failure {
                reason: FailReason::Build,
                diagnostics: diagnostics(messages, enc),
                message: e.to_string(),
            })
        }
        Err(e) => Err(Failure::failed(e.to_string())),
    }
}

fn open_store(root: &Path) -> Result<Store, Failure> {
    Store::for_workspace(root, store::default_cache_dir().as_deref())
        .map_err(|e| Failure::failed(e.to_string()))
}

/// Runs the job; reports [`Event::CaptureDone`].
pub(crate) async fn run(job: Job) {
    let Job {
        id,
        target,
        roots,
        settings,
        encoding,
        cancel,
        client,
        progress,
        out,
        tx,
    } = job;
    let keep = settings.capture.keep as usize;
    let resolved = tokio::task::spawn_blocking(move || resolve(target, &roots, &settings))
        .await
        .unwrap_or_else(|e| Err(Failure::failed(format!("the capture task failed: {e}"))));
    let resolved = match resolved {
        Ok(r) => r,
        Err(f) => {
            let _ = tx.send(Event::CaptureDone {
                id,
                outcome: Err(f),
            });
            return;
        }
    };
    let token = Progress::new_token();
    let _ = tx.send(Event::CaptureToken {
        id,
        token: token.clone(),
        name: resolved.name(),
    });
    let mut progress = Progress::begin(&client, progress, token, &resolved.title(), None).await;
    let (etx, mut erx) = mpsc::unbounded_channel::<CaptureEvent>();
    let job = tokio::task::spawn_blocking({
        let cancel = cancel.clone();
        move || {
            capture(resolved, keep, encoding, &cancel, &mut |e| {
                let _ = etx.send(e);
            })
        }
    });
    tokio::pin!(job);
    let mut last_report = Instant::now() - Duration::from_secs(1);
    let mut percentage = 0;
    let result = loop {
        tokio::select! {
            r = &mut job => break r,
            Some(e) = erx.recv() => {
                let msg = match e {
                    CaptureEvent::Step(s) => {
                        out.log(lsp::MessageType::Info, format!("goblock: {s}"));
                        s
                    }
                    CaptureEvent::Output { line, .. } => {
                        out.log(lsp::MessageType::Log, line.clone());
                        line
                    }
                    CaptureEvent::Fetch { elapsed, seconds, bytes } if seconds > 0.0 => {
                        percentage = ((elapsed.as_secs_f64() / seconds) * 100.0).min(99.0) as u32;
                        format!("{:.1}/{seconds} s · {}", elapsed.as_secs_f64(), super::size(bytes))
                    }
                    // A goroutine dump: no seconds to count.
                    CaptureEvent::Fetch { elapsed, bytes, .. } => {
                        format!("{:.1} s · {}", elapsed.as_secs_f64(), super::size(bytes))
                    }
                };
                // At most five reports a second.
                if last_report.elapsed() >= Duration::from_millis(200)
                    && let Some(p) = progress.as_mut()
                {
                    p.report(percentage, Some(msg.chars().take(120).collect())).await;
                    last_report = Instant::now();
                }
            }
        }
    };
    let outcome =
        result.unwrap_or_else(|e| Err(Failure::failed(format!("the capture task failed: {e}"))));
    if let Some(p) = progress {
        let msg = match &outcome {
            Ok(_) => "done".to_owned(),
            Err(f) => f.message.clone(),
        };
        p.end(Some(msg)).await;
    }
    let _ = tx.send(Event::CaptureDone { id, outcome });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x_test.go");
        let text = "package x\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {\n\tt.Log(1)\n}\n\nfunc BenchmarkB(b *testing.B) {}\n";
        std::fs::write(&f, text).unwrap();
        let s = Settings::default();
        let r = test_request(&f, None, Some(5), None, &s).ok().unwrap();
        assert_eq!(r.selection, Selection::Run("^TestA$".into()));
        assert_eq!(r.label.as_deref(), Some("TestA"));
        let r = test_request(&f, Some("BenchmarkB".into()), None, Some(text.into()), &s)
            .ok()
            .unwrap();
        assert!(matches!(r.selection, Selection::Bench { .. }));
        let r = test_request(&f, None, None, None, &s).ok().unwrap();
        assert_eq!(r.selection, Selection::Package);
        let e = test_request(&f, None, Some(1), None, &s).err().unwrap();
        assert!(
            e.message
                .starts_with("no test, benchmark or fuzz test around line 2 of x_test.go"),
            "{}",
            e.message
        );
    }

    #[test]
    fn compiler_messages_in_utf16() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.go");
        std::fs::write(&f, "package a\n\tvar é = bad\n").unwrap();
        let m = CompilerMessage {
            file: f.clone(),
            line: 2,
            column: Some(11),
            message: "undefined: bad".into(),
        };
        let d = diagnostics(&[m], Encoding::Utf16);
        assert_eq!(d.len(), 1);
        let r = d[0].1[0].range;
        // "\tvar é = " is 10 bytes and 9 UTF-16 units.
        assert_eq!(
            (r.start.line, r.start.character, r.end.character),
            (1, 9, 12)
        );
    }
}
