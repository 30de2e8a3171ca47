//! The JSON-RPC transport in front of the language service: reads
//! `Content-Length` framed messages, answers what is malformed, keeps
//! serving, and exits only on `exit` or at the end of the input.
//!
//! | input | answer | then |
//! |---|---|---|
//! | a header block without `Content-Length`, or with a bad value | a Parse error (-32700, id null) | skips to the next `Content-Length:` line |
//! | a header line that is not ASCII `Name: value`, or longer than 8 KiB | a Parse error | skips to the next `Content-Length:` line |
//! | a body that is not UTF-8 or not JSON | a Parse error | next frame |
//! | a JSON array (batch), a scalar, `jsonrpc` not `"2.0"`, a bad `id`, no `method`/`result`/`error` | an Invalid Request (-32600), with the message's id when it has a usable one | next frame |
//! | a body over 1 GiB | an Invalid Request | its bytes are skipped |
//! | end of input (also inside a frame) | — | stops |
//! | `exit` | — | stops: exit status 0 after `shutdown`, else 1 (LSP) |
//!
//! Every refusal is logged on stderr and sent as `window/logMessage`.
//! Notifications are handed to the service one at a time, in order (each
//! handler returns before the next message is read: the session applies
//! them synchronously); requests run concurrently and can be cancelled
//! (`$/cancelRequest`, by the service); responses to the server's own
//! requests go back to it. Knows nothing of goblock's features.

use std::io;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::{ClientSocket, LanguageServer, LspService};
use tower_service::Service;

/// Longest header line accepted.
const MAX_HEADER_LINE: usize = 8 << 10;
/// Largest message body accepted.
pub const MAX_BODY: u64 = 1 << 30;

/// How the session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// `exit` after `shutdown`: status 0.
    Exit,
    /// `exit` without `shutdown`: status 1.
    ExitWithoutShutdown,
    /// The input ended.
    Eof {
        /// `shutdown` had been received.
        shut_down: bool,
    },
}

impl Ended {
    /// The process exit status the LSP specification asks for.
    pub fn status(self) -> i32 {
        match self {
            Ended::Exit | Ended::Eof { shut_down: true } => 0,
            Ended::ExitWithoutShutdown | Ended::Eof { shut_down: false } => 1,
        }
    }
}

/// A frame that could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The header block is malformed (the reader resynchronizes on the next
    /// `Content-Length:` line).
    Header(String),
    /// The body is over [`MAX_BODY`] (skipped).
    TooLarge(u64),
}

/// Reads `Content-Length` framed bodies, resynchronizing after garbage.
pub struct FrameReader<R> {
    r: R,
    /// After a header error: skip lines until a `Content-Length:` line.
    resync: bool,
}

impl<R: AsyncBufRead + Unpin> FrameReader<R> {
    /// A reader over `r`.
    pub fn new(r: R) -> Self {
        FrameReader { r, resync: false }
    }

    /// One header line (without the line break), `None` at the end of the
    /// input, `Err` for an over-long or non-ASCII line (consumed).
    async fn line(&mut self) -> io::Result<Option<Result<String, String>>> {
        let mut buf = Vec::new();
        let mut too_long = false;
        loop {
            let avail = self.r.fill_buf().await?;
            if avail.is_empty() {
                return Ok((!buf.is_empty() || too_long)
                    .then(|| Err("a header line ends the input".into())));
            }
            let (take, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if !too_long {
                buf.extend_from_slice(&avail[..take]);
                if buf.len() > MAX_HEADER_LINE {
                    too_long = true;
                    buf.clear();
                }
            }
            self.r.consume(take);
            if done {
                break;
            }
        }
        if too_long {
            return Ok(Some(Err(format!(
                "a header line longer than {MAX_HEADER_LINE} bytes"
            ))));
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        Ok(Some(match String::from_utf8(buf) {
            Ok(s) if s.is_ascii() => Ok(s),
            _ => Err("a header line that is not ASCII".into()),
        }))
    }

    /// The next frame's body: `Ok(None)` at the end of the input.
    pub async fn next(&mut self) -> io::Result<Option<Result<Vec<u8>, FrameError>>> {
        let mut len: Option<Result<u64, String>> = None;
        let mut first = true;
        loop {
            let Some(line) = self.line().await? else {
                return Ok(None);
            };
            let mut line = match line {
                Ok(l) => l,
                Err(why) => {
                    self.resync = true;
                    return Ok(Some(Err(FrameError::Header(why))));
                }
            };
            if self.resync {
                // The next header may follow the skipped bytes on one line.
                let Some(at) = line.to_ascii_lowercase().find("content-length:") else {
                    continue;
                };
                line.drain(..at);
                self.resync = false;
            }
            if line.is_empty() {
                if first {
                    // Blank lines between frames.
                    continue;
                }
                break;
            }
            first = false;
            match line.split_once(':') {
                Some((n, v)) if n.trim().eq_ignore_ascii_case("Content-Length") => {
                    len =
                        Some(v.trim().parse::<u64>().map_err(|_| {
                            format!("Content-Length `{}` is not a byte count", v.trim())
                        }));
                }
                Some((n, _)) if !n.trim().is_empty() && !n.contains(' ') => {} // Content-Type, …
                _ => {
                    self.resync = true;
                    return Ok(Some(Err(FrameError::Header(format!(
                        "`{}` is not a header",
                        line.chars().take(60).collect::<String>()
                    )))));
                }
            }
        }
        let n = match len {
            Some(Ok(n)) => n,
            Some(Err(why)) => {
                self.resync = true;
                return Ok(Some(Err(FrameError::Header(why))));
            }
            None => {
                self.resync = true;
                return Ok(Some(Err(FrameError::Header(
                    "a header without Content-Length".into(),
                ))));
            }
        };
        if n > MAX_BODY {
            let skipped =
                tokio::io::copy(&mut (&mut self.r).take(n), &mut tokio::io::sink()).await?;
            if skipped < n {
                return Ok(None);
            }
            return Ok(Some(Err(FrameError::TooLarge(n))));
        }
        let mut body = Vec::new();
        let got = (&mut self.r).take(n).read_to_end(&mut body).await?;
        if (got as u64) < n {
            return Ok(None);
        }
        Ok(Some(Ok(body)))
    }
}

/// A message read and checked.
#[derive(Debug)]
pub enum Incoming {
    /// A request or notification.
    Request(Request),
    /// A response to one of the server's requests.
    Response(Response),
}

/// A refusal: the JSON-RPC error to answer and the id to answer it with.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    /// -32700 or -32600.
    pub code: i64,
    /// What was wrong.
    pub message: String,
    /// The message's id when usable, else null.
    pub id: Value,
}

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

fn refuse(code: i64, id: Value, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
        id,
    }
}

/// Checks a body: UTF-8, a JSON object, JSON-RPC 2.0 shape.
pub fn parse(body: &[u8]) -> Result<Incoming, Refusal> {
    let text = std::str::from_utf8(body).map_err(|e| {
        refuse(
            PARSE_ERROR,
            Value::Null,
            format!("the message is not UTF-8 (byte {})", e.valid_up_to()),
        )
    })?;
    let v: Value = serde_json::from_str(text).map_err(|e| {
        refuse(
            PARSE_ERROR,
            Value::Null,
            format!("the message is not JSON: {e}"),
        )
    })?;
    let Value::Object(o) = &v else {
        let what = match v {
            Value::Array(_) => "a JSON array (batches are not part of LSP)",
            _ => "not a JSON object",
        };
        return Err(refuse(
            INVALID_REQUEST,
            Value::Null,
            format!("the message is {what}"),
        ));
    };
    let id = match o.get("id") {
        None => None,
        Some(i @ (Value::Number(_) | Value::String(_)))
            if i.is_string() || i.as_i64().is_some() =>
        {
            Some(i.clone())
        }
        Some(Value::Null) if !o.contains_key("method") => Some(Value::Null),
        Some(other) => {
            return Err(refuse(
                INVALID_REQUEST,
                Value::Null,
                format!("`id` must be an integer or a string, not {other}"),
            ));
        }
    };
    let answer_id = id.clone().unwrap_or(Value::Null);
    if o.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(refuse(
            INVALID_REQUEST,
            answer_id,
            format!(
                "`jsonrpc` must be \"2.0\", not {}",
                o.get("jsonrpc")
                    .map(Value::to_string)
                    .unwrap_or_else(|| "missing".into())
            ),
        ));
    }
    if let Some(m) = o.get("method") {
        if !m.is_string() {
            return Err(refuse(
                INVALID_REQUEST,
                answer_id,
                "`method` must be a string",
            ));
        }
        if o.get("params")
            .is_some_and(|p| !(p.is_object() || p.is_array() || p.is_null()))
        {
            return Err(refuse(
                INVALID_REQUEST,
                answer_id,
                "`params` must be an object or an array",
            ));
        }
        return serde_json::from_value(v)
            .map(Incoming::Request)
            .map_err(|e| refuse(INVALID_REQUEST, answer_id, format!("not a request: {e}")));
    }
    if id.is_some() && (o.contains_key("result") || o.contains_key("error")) {
        return serde_json::from_value(v)
            .map(Incoming::Response)
            .map_err(|e| refuse(INVALID_REQUEST, answer_id, format!("not a response: {e}")));
    }
    Err(refuse(
        INVALID_REQUEST,
        answer_id,
        "the message has neither `method` nor `result`/`error`",
    ))
}

fn frame(v: &impl serde::Serialize) -> Vec<u8> {
    let body = serde_json::to_vec(v).unwrap_or_else(|_| b"null".to_vec());
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend(body);
    out
}

/// Serves `service` on `reader`/`writer` until `exit` or the end of the
/// input.
pub async fn serve<S, R, W>(
    reader: R,
    writer: W,
    mut service: LspService<S>,
    socket: ClientSocket,
) -> Ended
where
    S: LanguageServer,
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer_task = tokio::spawn(async move {
        let mut w = writer;
        while let Some(b) = out_rx.recv().await {
            if w.write_all(&b).await.is_err() || w.flush().await.is_err() {
                break;
            }
        }
    });
    // Server → client messages.
    let (mut to_client, mut from_client) = socket.split();
    let out2 = out_tx.clone();
    let forward = tokio::spawn(async move {
        while let Some(req) = to_client.next().await {
            if out2.send(frame(&req)).is_err() {
                break;
            }
        }
    });
    let refused = |r: Refusal, out: &mpsc::UnboundedSender<Vec<u8>>| {
        eprintln!("goblock: refused a message: {}", r.message);
        let _ = out.send(frame(&json!({
            "jsonrpc": "2.0",
            "method": "window/logMessage",
            "params": {"type": 1, "message": format!("goblock: refused a message: {}", r.message)},
        })));
        let _ = out.send(frame(&json!({
            "jsonrpc": "2.0",
            "id": r.id,
            "error": {"code": r.code, "message": r.message},
        })));
    };
    let mut frames = FrameReader::new(BufReader::new(reader));
    let mut shut_down = false;
    let ended = loop {
        let body = match frames.next().await {
            Ok(Some(Ok(b))) => b,
            Ok(Some(Err(FrameError::Header(why)))) => {
                refused(
                    refuse(
                        PARSE_ERROR,
                        Value::Null,
                        format!("bad message header: {why}"),
                    ),
                    &out_tx,
                );
                continue;
            }
            Ok(Some(Err(FrameError::TooLarge(n)))) => {
                refused(
                    refuse(
                        INVALID_REQUEST,
                        Value::Null,
                        format!("a message of {n} bytes (over {MAX_BODY}) was skipped"),
                    ),
                    &out_tx,
                );
                continue;
            }
            Ok(None) => break Ended::Eof { shut_down },
            Err(e) => {
                eprintln!("goblock: reading the input failed: {e}");
                break Ended::Eof { shut_down };
            }
        };
        let req = match parse(&body) {
            Ok(Incoming::Request(r)) => r,
            Ok(Incoming::Response(r)) => {
                let _ = from_client.send(r).await;
                continue;
            }
            Err(r) => {
                refused(r, &out_tx);
                continue;
            }
        };
        let method = req.method().to_owned();
        let is_request = req.id().is_some();
        if method == "shutdown" {
            shut_down = true;
        }
        if std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .is_err()
        {
            break Ended::Eof { shut_down };
        }
        let fut = service.call(req);
        if method == "exit" {
            let _ = fut.await;
            break if shut_down {
                Ended::Exit
            } else {
                Ended::ExitWithoutShutdown
            };
        }
        if !is_request || method == "initialize" {
            // Notifications in order; `initialize` before anything else.
            if let Ok(Some(resp)) = fut.await {
                let _ = out_tx.send(frame(&resp));
            }
            continue;
        }
        let out = out_tx.clone();
        tokio::spawn(async move {
            if let Ok(Some(resp)) = fut.await {
                let _ = out.send(frame(&resp));
            }
        });
    };
    drop(frames);
    forward.abort();
    drop(out_tx);
    // Let what is queued reach the client.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), writer_task).await;
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames_of(input: &[u8]) -> Vec<Result<Vec<u8>, FrameError>> {
        let mut r = FrameReader::new(BufReader::new(input));
        let mut out = Vec::new();
        while let Some(f) = r.next().await.unwrap() {
            out.push(f);
        }
        out
    }

    #[tokio::test]
    async fn frames_and_resynchronization() {
        let ok = |s: &str| Ok(s.as_bytes().to_vec());
        let input = b"Content-Length: 2\r\n\r\n{}\
Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 3\r\n\r\n[1]\
Content-Length: abc\r\n\r\n{\"garbage\": 1}\
Content-Length: 2\r\n\r\n{}\
no colon here\r\n\r\nxx\r\nContent-Length: 4\r\n\r\nnull\
\xff\xfe\r\nContent-Length: 2\r\n\r\n{}\
Content-Length: 10\r\n\r\n{}";
        let got = frames_of(input).await;
        assert_eq!(got[0], ok("{}"));
        assert_eq!(got[1], ok("[1]"));
        assert!(matches!(got[2], Err(FrameError::Header(_))), "{:?}", got[2]);
        assert_eq!(got[3], ok("{}"));
        assert!(matches!(got[4], Err(FrameError::Header(_))));
        assert_eq!(got[5], ok("null"));
        assert!(matches!(got[6], Err(FrameError::Header(_))));
        assert_eq!(got[7], ok("{}"));
        // The last frame is cut by the end of the input: the end.
        assert_eq!(got.len(), 8, "{got:?}");
        let missing = frames_of(b"Content-Type: x\r\n\r\n{}Content-Length: 2\r\n\r\n{}").await;
        assert!(matches!(missing[0], Err(FrameError::Header(_))));
        assert_eq!(missing[1], ok("{}"));
        let long = [
            b"X-Long: ".as_slice(),
            &vec![b'a'; MAX_HEADER_LINE + 10],
            b"\r\nContent-Length: 2\r\n\r\n{}",
        ]
        .concat();
        let got = frames_of(&long).await;
        assert!(matches!(got[0], Err(FrameError::Header(_))));
        assert_eq!(got[1], ok("{}"));
    }

    #[test]
    fn bodies() {
        let code = |b: &[u8]| parse(b).err().map(|r| (r.code, r.id));
        assert_eq!(code(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}"), None);
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}"),
            None
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"x\",\"params\":{}}"),
            None
        );
        assert_eq!(code(b"{\"jsonrpc\":"), Some((PARSE_ERROR, Value::Null)));
        assert_eq!(code(b"\xff\xfe{}"), Some((PARSE_ERROR, Value::Null)));
        assert_eq!(
            code(b"[{\"jsonrpc\":\"2.0\",\"method\":\"x\"}]"),
            Some((INVALID_REQUEST, Value::Null))
        );
        assert_eq!(code(b"42"), Some((INVALID_REQUEST, Value::Null)));
        assert_eq!(
            code(b"{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"x\"}"),
            Some((INVALID_REQUEST, json!(7)))
        );
        assert_eq!(
            code(b"{\"id\":7,\"method\":\"x\"}"),
            Some((INVALID_REQUEST, json!(7)))
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}"),
            Some((INVALID_REQUEST, Value::Null))
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}"),
            Some((INVALID_REQUEST, Value::Null))
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"id\":3}"),
            Some((INVALID_REQUEST, json!(3)))
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"method\":5}"),
            Some((INVALID_REQUEST, Value::Null))
        );
        assert_eq!(
            code(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":3}"),
            Some((INVALID_REQUEST, Value::Null))
        );
        assert_eq!(Ended::ExitWithoutShutdown.status(), 1);
        assert_eq!(Ended::Exit.status(), 0);
    }
}
