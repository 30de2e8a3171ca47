//! A test LSP client driving the real server over an in-memory pipe
//! (`tokio::io::duplex`), with JSON-RPC framing, answers to the server's own
//! requests (progress tokens, registrations, refreshes), and helpers to wait
//! for notifications. Also builds fixture workspaces from `testdata/`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, mpsc};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `testdata/go1.XX` directories with a `blocking.trace`, newest first.
/// The large generated trace: `GOBLOCK_LARGE_TRACE`, else the last
/// `testdata/large/*.trace` (made by `tests/bench.sh`; not committed).
pub fn large_trace() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOBLOCK_LARGE_TRACE") {
        return Some(PathBuf::from(p));
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("testdata/large"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "trace"))
        .collect();
    v.sort();
    v.pop()
}

pub fn fixture_dirs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("testdata"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("blocking.trace").is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v.reverse();
    v
}

/// A marker from `testdata/markers.tsv`.
#[derive(Clone, Debug)]
pub struct Marker {
    /// Path relative to `testdata/programs`.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// BLOCK or WAKE.
    pub marker: String,
    /// Reason.
    pub reason: String,
    /// Description.
    pub description: String,
}

/// Every marker.
pub fn markers() -> Vec<Marker> {
    let text = std::fs::read_to_string(repo().join("testdata/markers.tsv")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some(Marker {
                file: f.first()?.to_string(),
                line: f.get(1)?.parse().ok()?,
                marker: f.get(2)?.to_string(),
                reason: f.get(3)?.to_string(),
                description: f.get(4).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// A throwaway workspace: `<tmp>/ws/blocking/*.go` (+ go.mod) and the given
/// traces copied to `<tmp>/ws/`.
pub struct Fixture {
    pub dir: PathBuf,
    pub ws: PathBuf,
}

impl Fixture {
    pub fn new(name: &str, traces: &[(&Path, &str)]) -> Fixture {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "goblock-lsp-{}-{}-{}",
            name,
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let ws = dir.join("ws");
        let prog = ws.join("blocking");
        std::fs::create_dir_all(&prog).unwrap();
        let src = repo().join("testdata/programs/blocking");
        // The sources are older than any trace, as when a program is built
        // and then traced: a file is "changed since the trace" only when a
        // test writes it.
        let built = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        for e in std::fs::read_dir(&src).unwrap().flatten() {
            let to = prog.join(e.file_name());
            std::fs::copy(e.path(), &to).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&to)
                .and_then(|f| f.set_modified(built))
                .unwrap();
        }
        for (from, to) in traces {
            std::fs::copy(from, ws.join(to)).unwrap();
        }
        let ws = std::fs::canonicalize(&ws).unwrap();
        Fixture { dir, ws }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.ws.join(rel)
    }

    pub fn uri(&self, rel: &str) -> String {
        goblock_server::uri::from_path(&self.path(rel))
    }

    /// Replaces the workspace path in text, for snapshots.
    pub fn redact(&self, s: &str) -> String {
        let uri = goblock_server::uri::from_path(&self.ws);
        s.replace(&uri, "file://<ws>")
            .replace(&self.ws.display().to_string(), "<ws>")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The test client.
pub struct Client {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    inbox: Arc<Mutex<VecDeque<Value>>>,
    arrived: Arc<Notify>,
    /// Every notification received, in order.
    pub log: Arc<Mutex<Vec<Value>>>,
    next_id: i64,
    server: tokio::task::JoinHandle<()>,
    cancel_progress: Arc<std::sync::atomic::AtomicBool>,
}

async fn read_message<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).await.ok()?;
    serde_json::from_slice(&buf).ok()
}

fn frame(v: &Value) -> Vec<u8> {
    let body = serde_json::to_vec(v).unwrap();
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend(body);
    out
}

impl Client {
    /// Starts the server in-process and connects.
    pub fn start() -> Client {
        let (client_end, server_end) = tokio::io::duplex(1 << 20);
        let (sr, sw) = tokio::io::split(server_end);
        let server = tokio::spawn(async move {
            goblock_server::serve(sr, sw).await;
        });
        let (cr, cw) = tokio::io::split(client_end);
        Client::connect(cr, cw, server)
    }

    /// Starts `cmd` (e.g. `goblock lsp`) and talks to it over its stdio.
    /// Returns the client and the child's pid.
    pub fn spawn(cmd: &Path, args: &[&str]) -> (Client, u32) {
        let mut child = tokio::process::Command::new(cmd)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn the server");
        let pid = child.id().unwrap_or(0);
        let cw = child.stdin.take().unwrap();
        let cr = child.stdout.take().unwrap();
        let server = tokio::spawn(async move {
            let _ = child.wait().await;
        });
        (Client::connect(cr, cw, server), pid)
    }

    fn connect(
        cr: impl AsyncRead + Unpin + Send + 'static,
        mut cw: impl AsyncWrite + Unpin + Send + 'static,
        server: tokio::task::JoinHandle<()>,
    ) -> Client {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            while let Some(b) = rx.recv().await {
                if cw.write_all(&b).await.is_err() {
                    break;
                }
            }
        });
        let inbox = Arc::new(Mutex::new(VecDeque::new()));
        let arrived = Arc::new(Notify::new());
        let log = Arc::new(Mutex::new(Vec::new()));
        let cancel_progress = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (inbox2, arrived2, log2, tx2, cancel2) = (
            inbox.clone(),
            arrived.clone(),
            log.clone(),
            tx.clone(),
            cancel_progress.clone(),
        );
        tokio::spawn(async move {
            let mut r = BufReader::new(cr);
            while let Some(msg) = read_message(&mut r).await {
                if msg.get("method").is_some() && msg.get("id").is_some() {
                    // A request from the server: accept it — after cancelling
                    // the progress it creates, when the test asked for that.
                    if msg["method"] == "window/workDoneProgress/create"
                        && cancel2.swap(false, std::sync::atomic::Ordering::SeqCst)
                    {
                        let _ = tx2.send(frame(&json!({
                            "jsonrpc": "2.0",
                            "method": "window/workDoneProgress/cancel",
                            "params": {"token": msg["params"]["token"]},
                        })));
                    }
                    let _ = tx2.send(frame(
                        &json!({"jsonrpc": "2.0", "id": msg["id"], "result": null}),
                    ));
                    log2.lock().unwrap().push(msg);
                } else if msg.get("method").is_some() {
                    log2.lock().unwrap().push(msg.clone());
                    inbox2.lock().unwrap().push_back(msg);
                } else {
                    inbox2.lock().unwrap().push_back(msg);
                }
                arrived2.notify_waiters();
            }
        });
        Client {
            tx,
            inbox,
            arrived,
            log,
            next_id: 1,
            server,
            cancel_progress,
        }
    }

    /// Cancels the next progress the server creates
    /// (`window/workDoneProgress/cancel` as soon as the token is known).
    pub fn cancel_next_progress(&self) {
        self.cancel_progress
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn notify(&self, method: &str, params: Value) {
        let _ = self.tx.send(frame(
            &json!({"jsonrpc": "2.0", "method": method, "params": params}),
        ));
    }

    /// Sends `body` as one framed message, whatever it holds (malformed
    /// JSON, a JSON array, non-UTF-8 bytes).
    pub fn send_body(&self, body: &[u8]) {
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        let _ = self.tx.send(out);
    }

    /// Sends a request without waiting; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let _ = self.tx.send(frame(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        ));
        id
    }

    /// Waits for the first message matching `pred` (removing it from the inbox).
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            {
                let mut q = self.inbox.lock().unwrap();
                if let Some(i) = q.iter().position(&pred) {
                    return q.remove(i).unwrap();
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let q = self.inbox.lock().unwrap();
                let all: Vec<String> = self
                    .log
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|m| format!("{} {}", m["method"], m["params"]["uri"]))
                    .collect();
                panic!(
                    "timed out waiting for {what}; inbox: {:#?}\nall notifications: {all:#?}",
                    q.iter().rev().take(5).collect::<Vec<_>>()
                );
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), notified).await;
        }
    }

    /// The response to request `id`.
    pub async fn response(&self, id: i64) -> Value {
        self.wait_for(&format!("response {id}"), Duration::from_secs(60), |m| {
            m.get("id").and_then(Value::as_i64) == Some(id) && m.get("method").is_none()
        })
        .await
    }

    /// A request's result (panics on an error response).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let r = self.response(id).await;
        if let Some(e) = r.get("error") {
            panic!("{method} failed: {e}");
        }
        r["result"].clone()
    }

    /// The next publishDiagnostics for `uri` satisfying `pred`.
    pub async fn diagnostics(&self, uri: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for("publishDiagnostics", Duration::from_secs(60), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && pred(&m["params"])
        })
        .await["params"]
            .clone()
    }

    /// Drops queued notifications (e.g. before waiting for a fresh one).
    pub fn drain(&self) {
        self.inbox
            .lock()
            .unwrap()
            .retain(|m| m.get("method").is_none());
    }

    /// A server started on `root` with `options`, its first load ended.
    pub async fn started(root: &Path, options: Value) -> Client {
        let mut c = Client::start();
        c.initialize(root, options).await;
        c.loaded().await;
        c
    }

    /// initialize + initialized.
    pub async fn initialize(&mut self, root: &Path, options: Value) -> Value {
        self.initialize_as(root, options, Value::Null, Value::Null)
            .await
    }

    /// initialize + initialized as a named client (`clientInfo`) that accepts
    /// `hover_formats` (`textDocument.hover.contentFormat`; null: not said).
    pub async fn initialize_as(
        &mut self,
        root: &Path,
        options: Value,
        client_info: Value,
        hover_formats: Value,
    ) -> Value {
        let mut params = json!({
            "processId": null,
            "rootUri": goblock_server::uri::from_path(root),
            "workspaceFolders": [{"uri": goblock_server::uri::from_path(root), "name": "ws"}],
            "capabilities": {
                "window": {"workDoneProgress": true},
                "general": {"positionEncodings": ["utf-16"]},
                "workspace": {"inlayHint": {"refreshSupport": true}},
            },
            "initializationOptions": options,
        });
        if !client_info.is_null() {
            params["clientInfo"] = client_info;
        }
        if !hover_formats.is_null() {
            params["capabilities"]["textDocument"] =
                json!({"hover": {"contentFormat": hover_formats}});
        }
        let r = self.request("initialize", params).await;
        self.notify("initialized", json!({}));
        r
    }

    /// Waits until a load has ended (a `$/progress` end).
    pub async fn loaded(&self) {
        self.wait_for("$/progress end", Duration::from_secs(120), |m| {
            m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
        })
        .await;
    }

    pub fn open(&self, uri: &str, text: &str, version: i32) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "go", "version": version, "text": text}}),
        );
    }

    pub async fn inlay_hints(&mut self, uri: &str) -> Vec<Value> {
        let r = self
            .request(
                "textDocument/inlayHint",
                json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 100000, "character": 0}}}),
            )
            .await;
        r.as_array().cloned().unwrap_or_default()
    }

    pub async fn hover(&mut self, uri: &str, line0: u32) -> Value {
        self.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line0, "character": 1}}),
        )
        .await
    }

    pub async fn command(&mut self, name: &str, args: Value) -> Value {
        self.request(
            "workspace/executeCommand",
            json!({"command": name, "arguments": args}),
        )
        .await
    }

    /// shutdown + exit, and the server task ends.
    pub async fn shutdown(mut self) {
        self.request("shutdown", json!(null)).await;
        self.notify("exit", json!(null));
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.server).await;
    }
}

/// The label text of an inlay hint.
pub fn label(h: &Value) -> String {
    match &h["label"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .map(|p| p["value"].as_str().unwrap_or(""))
            .collect(),
        _ => String::new(),
    }
}

/// `text` with every `FILE:N` (a rendered link to line N of a file named
/// FILE) moved by `by` lines: what an edit above every line of FILE does to
/// labels and hovers that link into it.
pub fn shift_lines(text: &str, file: &str, by: u64) -> String {
    let pat = format!("{file}:");
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(&pat) {
        out.push_str(&rest[..i + pat.len()]);
        rest = &rest[i + pat.len()..];
        let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(v) = n.parse::<u64>() {
            out.push_str(&(v + by).to_string());
            rest = &rest[n.len()..];
        }
    }
    out.push_str(rest);
    out
}
