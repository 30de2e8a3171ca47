//! Captures from a running service's net/http/pprof into a new capture
//! directory, reporting elapsed seconds and bytes as they arrive: an
//! execution trace (`GET <url>/debug/pprof/trace?seconds=N`), a goroutine
//! dump (`/debug/pprof/goroutine?debug=2`), or the block or mutex profile
//! of N seconds (`/debug/pprof/block?seconds=N`, `/debug/pprof/mutex?seconds=N`:
//! net/http/pprof's delta of two snapshots, whole seconds).
//!
//! Safety rules: only the http/https URL the user gave is fetched (a base
//! URL, a path prefix or the endpoint itself); redirects are followed
//! only to the same scheme, host and port (each one noted in the capture's
//! warnings), never elsewhere; the body is kept only if its first bytes are
//! what was asked for (`sniff` names what came back otherwise; a profile's
//! kind is checked once it has arrived); a size cap, an overall deadline
//! and a cancel stop it at once (the connection is shut down, which makes
//! the service stop tracing). Proxies from the environment apply except to
//! loopback addresses. An empty block or mutex profile is not kept: the
//! service's profile since its start says whether that profiling is off
//! (`runtime.SetBlockProfileRate`, `runtime.SetMutexProfileFraction`) or
//! nothing contended in those seconds.
//!
//! Does not decode the trace or the profile's stacks, nor find the
//! service's binary (the caller's binary settings and discovery do).

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use ureq::Agent;
use ureq::http::Uri;

use crate::meta::{Capture, Kind, META_VERSION, Meta, Outcome, What};
use crate::sniff::{self, HEAD};
use crate::{Cancel, CaptureError, Event, Store};

/// Default cap on a trace's size.
pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;
/// Time allowed beyond the seconds asked for (connect, the service's
/// `trace.Stop`, the transfer).
pub const GRACE: Duration = Duration::from_secs(30);
/// Longest capture accepted.
pub const MAX_SECONDS: f64 = 3600.0;
const MAX_REDIRECTS: usize = 5;
const TICK: Duration = Duration::from_millis(200);

/// A service capture.
#[derive(Clone, Debug)]
pub struct ServiceRequest {
    /// The URL as the user typed it (see [`service_url`]).
    pub url: String,
    /// What to fetch.
    pub what: What,
    /// Seconds to trace or profile (not used for a goroutine dump; a
    /// profile's are rounded up to whole seconds).
    pub seconds: f64,
    /// Overall limit; default `seconds` + [`GRACE`].
    pub timeout: Option<Duration>,
    /// Size cap in bytes; default [`DEFAULT_MAX_BYTES`].
    pub max_bytes: Option<u64>,
}

/// The endpoint of `what` for what the user typed: `host:port`,
/// `http://host:port`, a path prefix (`https://host/admin` →
/// `/admin/debug/pprof/trace`), `…/debug/pprof/` or the endpoint itself;
/// with the query set for `what` (`seconds=N`, or `debug=2` for a
/// goroutine dump). Refuses other schemes, credentials in the URL and
/// other pprof endpoints.
pub fn service_url(input: &str, what: What, seconds: f64) -> Result<String, CaptureError> {
    let bad = |why: &str| CaptureError::Url {
        url: input.to_owned(),
        why: why.to_owned(),
    };
    if what.timed() && !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS) {
        return Err(bad(&format!(
            "seconds must be more than 0 and at most {MAX_SECONDS}, not {seconds}"
        )));
    }
    let s = input.trim();
    let with_scheme = if let Some((scheme, _)) = s.split_once("://") {
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("only http:// and https:// URLs are fetched"));
        }
        s.to_owned()
    } else {
        format!("http://{s}")
    };
    let uri: Uri = with_scheme
        .parse()
        .map_err(|e| bad(&format!("not a URL ({e})")))?;
    let scheme = uri.scheme_str().unwrap_or("");
    if scheme != "http" && scheme != "https" {
        return Err(bad("only http:// and https:// URLs are fetched"));
    }
    let Some(auth) = uri.authority() else {
        return Err(bad("no host"));
    };
    if auth.as_str().contains('@') {
        return Err(bad(
            "credentials in the URL are not sent: goblock fetches only open endpoints",
        ));
    }
    if auth.host().is_empty() {
        return Err(bad("no host"));
    }
    let endpoint = format!("/debug/pprof/{}", what.endpoint());
    let path = uri.path().trim_end_matches('/');
    let path = if path.ends_with(&endpoint) {
        path.to_owned()
    } else if path.ends_with("/debug/pprof") {
        format!("{path}/{}", what.endpoint())
    } else if let Some(i) = path.rfind("/debug/pprof/") {
        let name = &path[i + "/debug/pprof/".len()..];
        return Err(bad(
            &match What::ALL.into_iter().find(|w| w.endpoint() == name) {
                Some(other) => format!(
                    "that is the {name:?} pprof endpoint ({}), but {} was asked for: give the service's base URL",
                    other.with_article(),
                    what.with_article()
                ),
                None => format!(
                    "that is the {name:?} pprof endpoint; goblock captures execution traces, goroutine dumps and block and mutex profiles (give the service's base URL)"
                ),
            },
        ));
    } else {
        format!("{path}{endpoint}")
    };
    let mut query: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| {
            !kv.is_empty()
                && !kv.starts_with("seconds=")
                // A profile's text form is not what goblock keeps.
                && (what == What::Trace || !kv.starts_with("debug="))
        })
        .collect();
    let param = match what {
        What::Trace => format!("seconds={}", fmt_seconds(seconds)),
        What::Goroutines => "debug=2".to_owned(),
        // net/http/pprof takes whole seconds for a delta profile.
        What::Block | What::Mutex => format!("seconds={}", whole_seconds(seconds)),
    };
    query.push(&param);
    Ok(format!("{scheme}://{auth}{path}?{}", query.join("&")))
}

/// The seconds a profile covers: `seconds` rounded up, at least 1.
pub fn whole_seconds(seconds: f64) -> u64 {
    (seconds.ceil() as u64).max(1)
}

fn fmt_seconds(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn agent(uri: &Uri) -> Agent {
    let loopback = uri.host().is_some_and(is_loopback);
    let proxy = if loopback {
        None
    } else {
        ureq::Proxy::try_from_env()
    };
    Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(proxy)
        .timeout_connect(Some(Duration::from_secs(15)))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        )
        .user_agent(concat!("goblock/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// What the fetching thread hands over.
enum Msg {
    /// Status and headers (and, for a non-200 status, the head of the body).
    Head {
        status: u16,
        content_type: Option<String>,
        location: Option<String>,
        go_pprof: bool,
        head: Vec<u8>,
    },
    Chunk(Vec<u8>),
    End,
    Failed(String),
}

/// Starts `GET url` on a thread of its own; the connection is shut down
/// through the returned agent.
fn start(url: &str) -> Result<(Agent, mpsc::Receiver<Msg>), String> {
    let uri: Uri = url.parse().map_err(|e| format!("{e}"))?;
    let agent = agent(&uri);
    let (tx, rx) = mpsc::sync_channel(64);
    let a = agent.clone();
    let url = url.to_owned();
    std::thread::spawn(move || {
        let resp = match a.get(&url).call() {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Msg::Failed(e.to_string()));
                return;
            }
        };
        let status = resp.status().as_u16();
        let header = |k: &str| {
            resp.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type");
        let location = header("location");
        let go_pprof = header("x-go-pprof").is_some();
        let mut body = resp.into_body().into_reader();
        let mut head = Vec::new();
        if status != 200 {
            let _ = (&mut body).take(HEAD as u64).read_to_end(&mut head);
        }
        let sent = tx.send(Msg::Head {
            status,
            content_type,
            location,
            go_pprof,
            head,
        });
        if sent.is_err() || status != 200 {
            return;
        }
        let mut buf = vec![0u8; 256 << 10];
        loop {
            match body.read(&mut buf) {
                Ok(0) => {
                    let _ = tx.send(Msg::End);
                    return;
                }
                Ok(n) => {
                    if tx.send(Msg::Chunk(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Msg::Failed(e.to_string()));
                    return;
                }
            }
        }
    });
    Ok((agent, rx))
}

/// The target of a redirect from `from`, if it stays on the same scheme,
/// host and port; `Err(target)` otherwise.
fn same_origin(from: &str, location: &str) -> Result<String, String> {
    let base: Uri = from.parse().map_err(|_| location.to_owned())?;
    let origin = format!(
        "{}://{}",
        base.scheme_str().unwrap_or("http"),
        base.authority().map(|a| a.as_str()).unwrap_or("")
    );
    let target = if location.starts_with("//") || location.contains("://") {
        location.to_owned()
    } else if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        // Relative to the directory of the current path.
        let dir = &base.path()[..base.path().rfind('/').map_or(0, |i| i + 1)];
        format!("{origin}{dir}{location}")
    };
    let t: Uri = target.parse().map_err(|_| target.clone())?;
    let port = |u: &Uri| {
        u.port_u16().unwrap_or(if u.scheme_str() == Some("https") {
            443
        } else {
            80
        })
    };
    let same = t.scheme_str() == base.scheme_str()
        && t.host().map(str::to_ascii_lowercase) == base.host().map(str::to_ascii_lowercase)
        && port(&t) == port(&base);
    if same { Ok(target) } else { Err(target) }
}

/// How long the probe of an empty profile's service may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// `GET url` at once, the whole body (up to `max` bytes): for small
/// answers that need no progress (the profile since start).
fn get_small(url: &str, max: u64) -> Result<(u16, Vec<u8>), String> {
    let uri: Uri = url.parse().map_err(|e| format!("{e}"))?;
    let resp = agent(&uri)
        .get(url)
        .config()
        .timeout_global(Some(PROBE_TIMEOUT))
        .build()
        .call()
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    resp.into_body()
        .into_reader()
        .take(max)
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    Ok((status, body))
}

/// Why a block or mutex profile of `seconds` at `url` is empty: its
/// profiling is off (the profile since the service started is empty too),
/// or nothing contended in those seconds.
fn why_empty(url: &str, what: What, seconds: u64, max: u64) -> String {
    let (setting, example) = match what {
        What::Mutex => (
            "runtime.SetMutexProfileFraction",
            "runtime.SetMutexProfileFraction(100) reports one contention in 100",
        ),
        _ => (
            "runtime.SetBlockProfileRate",
            "runtime.SetBlockProfileRate(10000) samples one event per 10 µs blocked",
        ),
    };
    let kind = if what == What::Mutex {
        "mutex"
    } else {
        "block"
    };
    // The same endpoint without `seconds`: everything since the start.
    let since_start = match url.split_once('?') {
        Some((path, q)) => {
            let rest: Vec<&str> = q
                .split('&')
                .filter(|kv| !kv.starts_with("seconds="))
                .collect();
            if rest.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", rest.join("&"))
            }
        }
        None => url.to_owned(),
    };
    let stacks = get_small(&since_start, max)
        .ok()
        .filter(|(status, _)| *status == 200)
        .and_then(|(_, body)| sniff::check_profile(what, &body).ok());
    match stacks {
        Some(0) => format!(
            "{kind} profiling is off in this service ({setting}): its {kind} profile is empty, also since it started; the service must turn it on ({example})"
        ),
        Some(n) => format!(
            "nothing contended during the {seconds} s ({kind} profiling is on: {n} stacks since the service started); capture longer, or while the service is busy"
        ),
        None => format!(
            "the {kind} profile of these {seconds} s is empty: {kind} profiling is off in this service ({setting}), or nothing contended"
        ),
    }
}

/// Fetches what `req` asks for, as described in the module doc; `on`
/// receives a [`Event::Fetch`] about five times a second.
pub fn capture_service(
    store: &Store,
    req: &ServiceRequest,
    cancel: &Cancel,
    on: &mut dyn FnMut(Event),
) -> Result<Capture, CaptureError> {
    let what = req.what;
    let mut url = service_url(&req.url, what, req.seconds)?;
    let host = url
        .parse::<Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    // The seconds the service takes before it answers.
    let span = match what {
        What::Trace => req.seconds,
        What::Goroutines => 0.0,
        What::Block | What::Mutex => whole_seconds(req.seconds) as f64,
    };
    let max = req.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
    let limit = req.timeout.unwrap_or(Duration::from_secs_f64(span) + GRACE);
    let started = SystemTime::now();
    let t0 = Instant::now();
    let deadline = t0 + limit;
    let label = match what {
        What::Trace => host.clone(),
        w => format!("{host}-{}", w.as_str()),
    };
    let pending = store.begin(&label)?;
    let file_path = pending.path(what.file_name());
    let mut warnings = Vec::new();
    on(Event::Step(format!("GET {url}")));
    let (mut agent, mut rx) = start(&url).map_err(|why| CaptureError::Url {
        url: url.clone(),
        why,
    })?;
    let mut redirects = 0;
    let mut file: Option<std::fs::File> = None;
    let mut head: Vec<u8> = Vec::new();
    let mut checked = false;
    let mut content_type: Option<String> = None;
    let mut bytes = 0u64;
    let mut last_tick = Instant::now();
    let report = |bytes: u64, on: &mut dyn FnMut(Event)| {
        on(Event::Fetch {
            elapsed: t0.elapsed(),
            seconds: span,
            bytes,
        })
    };
    let not_wanted = |url: String, why: String| CaptureError::NotWanted {
        url,
        wanted: what.describe(),
        what: why,
    };
    loop {
        if cancel.is_cancelled() {
            agent.shutdown();
            return Err(CaptureError::Cancelled);
        }
        if Instant::now() >= deadline {
            agent.shutdown();
            return Err(CaptureError::Timeout {
                what: format!("GET {url}"),
                after: humantime::format_duration(limit).to_string(),
            });
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            report(bytes, on);
        }
        let msg = match rx.recv_timeout(TICK) {
            Ok(m) => m,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => Msg::Failed("connection lost".into()),
        };
        match msg {
            Msg::Head {
                status,
                content_type: ct,
                location,
                go_pprof,
                head: body,
            } => {
                if (300..400).contains(&status) {
                    let Some(loc) = location else {
                        return Err(CaptureError::Status {
                            url,
                            status,
                            what: "a redirect without a Location".into(),
                        });
                    };
                    let to = same_origin(&url, &loc).map_err(|to| CaptureError::Redirect {
                        url: url.clone(),
                        to,
                    })?;
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        return Err(CaptureError::Status {
                            url,
                            status,
                            what: format!("more than {MAX_REDIRECTS} redirects"),
                        });
                    }
                    warnings.push(format!("{url} redirected to {to} (same host; followed)"));
                    agent.shutdown();
                    url = to;
                    on(Event::Step(format!("GET {url}")));
                    (agent, rx) = start(&url).map_err(|why| CaptureError::Url {
                        url: url.clone(),
                        why,
                    })?;
                    continue;
                }
                if status != 200 {
                    return Err(CaptureError::Status {
                        what: sniff::describe_status(&sniff::Response {
                            status,
                            content_type: ct.as_deref(),
                            go_pprof,
                            head: &body,
                        }),
                        url,
                        status,
                    });
                }
                content_type = ct;
                file =
                    Some(std::fs::File::create(&file_path).map_err(CaptureError::io(&file_path))?);
            }
            Msg::Chunk(data) => {
                let Some(f) = file.as_mut() else { continue };
                if !checked {
                    let take = (HEAD - head.len()).min(data.len());
                    head.extend_from_slice(&data[..take]);
                    if head.len() >= sniff::enough(what) {
                        checked = true;
                        if let Err(why) = sniff::check_body(what, &head, content_type.as_deref()) {
                            agent.shutdown();
                            return Err(not_wanted(url, why));
                        }
                    }
                }
                bytes += data.len() as u64;
                if bytes > max {
                    agent.shutdown();
                    return Err(CaptureError::TooLarge {
                        url,
                        wanted: what.describe(),
                        cap_mib: max >> 20,
                        elapsed: format!("{:.1} s", t0.elapsed().as_secs_f64()),
                    });
                }
                f.write_all(&data).map_err(CaptureError::io(&file_path))?;
            }
            Msg::End => {
                if !checked
                    && let Err(why) = sniff::check_body(what, &head, content_type.as_deref())
                {
                    return Err(not_wanted(url, why));
                }
                let f = file.take();
                if let Some(f) = f {
                    f.sync_all().map_err(CaptureError::io(&file_path))?;
                }
                if matches!(what, What::Block | What::Mutex) {
                    // Profiles are small (and capped): read back whole.
                    let body = std::fs::read(&file_path).map_err(CaptureError::io(&file_path))?;
                    match sniff::check_profile(what, &body) {
                        Err(why) => return Err(not_wanted(url, why)),
                        Ok(0) => {
                            let why = why_empty(&url, what, span as u64, max);
                            return Err(CaptureError::EmptyProfile { url, why });
                        }
                        Ok(_) => {}
                    }
                }
                report(bytes, on);
                let meta = Meta {
                    version: META_VERSION,
                    kind: Kind::Service,
                    name: host,
                    started: humantime::format_rfc3339_seconds(started).to_string(),
                    duration_ms: t0.elapsed().as_millis() as u64,
                    outcome: Outcome::Complete,
                    exit_code: None,
                    trace_bytes: bytes,
                    warnings,
                    package: None,
                    dir: None,
                    pattern: None,
                    go: None,
                    build: None,
                    run: None,
                    what,
                    url: Some(url),
                    seconds: what.timed().then_some(span),
                };
                return pending.commit(meta);
            }
            Msg::Failed(why) => {
                return Err(if file.is_some() {
                    CaptureError::Truncated {
                        url,
                        wanted: what.describe(),
                        bytes,
                        why,
                    }
                } else {
                    CaptureError::Http { url, why }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let trace_url = |s: &str, n: f64| service_url(s, What::Trace, n);
        let u = |s: &str| trace_url(s, 2.0).unwrap();
        assert_eq!(
            u("localhost:6060"),
            "http://localhost:6060/debug/pprof/trace?seconds=2"
        );
        assert_eq!(
            u("http://127.0.0.1:6060/"),
            "http://127.0.0.1:6060/debug/pprof/trace?seconds=2"
        );
        assert_eq!(
            u("https://svc.example/admin"),
            "https://svc.example/admin/debug/pprof/trace?seconds=2"
        );
        assert_eq!(
            u("http://h/debug/pprof/"),
            "http://h/debug/pprof/trace?seconds=2"
        );
        assert_eq!(
            u("http://h/debug/pprof/trace?seconds=9&debug=0"),
            "http://h/debug/pprof/trace?debug=0&seconds=2"
        );
        assert_eq!(
            trace_url("http://[::1]:80", 0.5).unwrap(),
            "http://[::1]:80/debug/pprof/trace?seconds=0.5"
        );
        for (bad, why) in [
            ("ftp://h/x", "only http"),
            ("file:///etc/passwd", "only http"),
            ("http://u:p@h/", "credentials"),
            ("http://h/debug/pprof/profile", "\"profile\" pprof endpoint"),
        ] {
            let e = trace_url(bad, 1.0).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(trace_url("http://h", 0.0).is_err());
        assert!(trace_url("http://h", f64::NAN).is_err());

        // Dumps and profiles: their endpoint and query.
        let g = service_url("localhost:6060", What::Goroutines, 0.0).unwrap();
        assert_eq!(g, "http://localhost:6060/debug/pprof/goroutine?debug=2");
        assert_eq!(
            service_url(
                "http://h/debug/pprof/goroutine?debug=1",
                What::Goroutines,
                5.0
            )
            .unwrap(),
            "http://h/debug/pprof/goroutine?debug=2"
        );
        assert_eq!(
            service_url("http://h/admin/", What::Block, 1.5).unwrap(),
            "http://h/admin/debug/pprof/block?seconds=2"
        );
        assert_eq!(
            service_url("http://h/debug/pprof/mutex", What::Mutex, 0.2).unwrap(),
            "http://h/debug/pprof/mutex?seconds=1"
        );
        let e = service_url("http://h/debug/pprof/block", What::Trace, 1.0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "the \"block\" pprof endpoint (a block profile), but an execution trace was"
            ),
            "{e}"
        );
    }

    #[test]
    fn redirects() {
        let from = "http://127.0.0.1:8080/a/debug/pprof/trace?seconds=1";
        assert_eq!(
            same_origin(from, "/b/debug/pprof/trace?seconds=1").unwrap(),
            "http://127.0.0.1:8080/b/debug/pprof/trace?seconds=1"
        );
        assert!(same_origin(from, "http://127.0.0.1:8080/x").is_ok());
        assert_eq!(
            same_origin(from, "trace?seconds=1&x=1").unwrap(),
            "http://127.0.0.1:8080/a/debug/pprof/trace?seconds=1&x=1"
        );
        assert!(same_origin(from, "http://localhost:8080/x").is_err());
        assert!(same_origin(from, "https://127.0.0.1:8080/x").is_err());
        assert!(same_origin(from, "http://127.0.0.1:9090/x").is_err());
        assert!(same_origin(from, "//evil.example/x").is_err());
        assert!(is_loopback("127.0.0.2") && is_loopback("[::1]") && !is_loopback("10.0.0.1"));
    }
}
