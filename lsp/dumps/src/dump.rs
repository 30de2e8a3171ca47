//! The goroutine dump parser: text written by `runtime.Stack(buf, true)`,
//! `/debug/pprof/goroutine?debug=2`, an unrecovered panic, `fatal error:`
//! (deadlock), SIGQUIT and `go test -timeout`, Go 1.11–1.27
//! (`runtime/traceback.go`).
//!
//! Streams over the bytes (a memory map) line by line and hands each
//! complete goroutine to a [`DumpSink`]; only the current goroutine's frames
//! and the ids of the current snapshot are held. Accepts `\r\n`, text
//! before, between and after the goroutines (the panic message, register
//! dumps, `exit status 2`, `FAIL pkg`, log lines written in between), and
//! several dumps in one file: each is a snapshot (a new one starts at a
//! `panic:`/`fatal error:`/`SIGQUIT:` line after goroutines, or when a
//! goroutine id repeats).
//!
//! Frames are borrowed from the input: innermost first, with file and line
//! as printed (the call line for non-leaf frames). `created by` is kept
//! apart; ancestor stacks (`[originating from goroutine N]:`) and cgo
//! frames without a symbolizer (`non-Go function`) are skipped. A goroutine
//! the input ends inside (a cut file: `runtime.Stack`'s buffer, debug=2's
//! 64 MiB limit, a truncated copy) is dropped with a warning: its outer
//! frames, where the user code is, are missing.
//!
//! Does not attribute, group or symbolize anything (that is
//! goblock-analysis), and does not read goroutine *profiles* (`profile_text.rs`, `pprof.rs`).

use std::ops::ControlFlow;

use goblock_trace::Category;

use crate::error::{DumpError, Warning};
use crate::header::{self, Header};
use crate::ids::IdSet;

/// One frame of a goroutine's stack, as printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpFrame<'a> {
    /// Function, without its arguments (`main.(*T).M`, `main.F.func1`,
    /// `main.G[...]`; `panic` for `runtime.gopanic`).
    pub func: &'a str,
    /// File as recorded (absolute build path, `-trimpath` form, Windows path).
    pub file: &'a str,
    /// 1-based line.
    pub line: u32,
    /// `+0x…`: PC offset from the function entry (absent on inlined frames).
    pub pc_offset: Option<u64>,
}

/// One goroutine of a dump: strings borrowed from the input (`'a`), the
/// frames from the parser's buffer (`'g`, valid during the sink call).
#[derive(Clone, Debug)]
pub struct Goroutine<'g, 'a> {
    /// Goroutine id.
    pub id: u64,
    /// Status or wait reason as printed.
    pub status: &'a str,
    /// goblock's category of the status.
    pub category: Category,
    /// Can never be woken (`select (no cases)`, nil channel).
    pub forever: bool,
    /// `N minutes` (lower bound), when printed.
    pub minutes: Option<u32>,
    /// Locked to its OS thread.
    pub locked: bool,
    /// pprof labels as printed (1.26 `"k": "v"`, 1.27 `k: v`).
    pub labels: Option<&'a str>,
    /// The stack, innermost frame first.
    pub frames: &'g [DumpFrame<'a>],
    /// `created by F [in goroutine N]` and its position.
    pub created_by: Option<DumpFrame<'a>>,
    /// The parent goroutine (`in goroutine N`, Go 1.21+).
    pub parent: Option<u64>,
    /// Frames were elided (`...additional frames elided...`, `...N frames elided...`).
    pub elided: bool,
    /// `goroutine running on other thread; stack unavailable`.
    pub stack_unavailable: bool,
    /// Snapshot (dump) index in the file, from 0.
    pub snapshot: u32,
    /// Byte offset of the header line.
    pub offset: u64,
}

/// One dump in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Byte offset where it starts (its message, or its first goroutine).
    pub offset: u64,
    /// `panic: …` (with its continuation lines), `fatal error: …` or
    /// `SIGQUIT: quit`, when the dump has one.
    pub message: Option<String>,
    /// `fatal error: all goroutines are asleep - deadlock!`.
    pub deadlock: bool,
    /// Goroutines in it.
    pub goroutines: u64,
}

/// What the parser learned about the file.
#[derive(Clone, Debug, Default)]
pub struct DumpSummary {
    /// Input size.
    pub bytes: u64,
    /// Goroutines handed to the sink.
    pub goroutines: u64,
    /// The dumps of the file, in order.
    pub snapshots: Vec<Snapshot>,
    /// Lines that are neither part of a goroutine nor a known message
    /// (log lines, register dumps, test output).
    pub other_lines: u64,
    /// Non-fatal problems (truncation, lines inside a goroutine that are no frame).
    pub warnings: Vec<Warning>,
    /// The input ends inside a goroutine (cut: a `runtime.Stack` buffer,
    /// debug=2's 64 MiB limit, a file still being written); that goroutine
    /// is left out.
    pub truncated: bool,
}

/// Receives goroutines as they are parsed.
pub trait DumpSink<'a> {
    /// A complete goroutine.
    fn goroutine(&mut self, g: &Goroutine<'_, 'a>);

    /// Progress: `done` of `total` bytes. `Break` cancels ([`DumpError::Cancelled`]).
    fn progress(&mut self, _done: u64, _total: u64) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

impl<'a, F: FnMut(&Goroutine<'_, 'a>)> DumpSink<'a> for F {
    fn goroutine(&mut self, g: &Goroutine<'_, 'a>) {
        self(g)
    }
}

/// How often progress is reported.
const PROGRESS_EVERY: usize = 4 << 20;
/// Bytes of whole lines validated as UTF-8 at once.
const UTF8_BLOCK: usize = 256 << 10;
/// Warnings about stray lines inside goroutines: the first few are listed.
const MAX_LINE_WARNINGS: usize = 5;

struct Current<'a> {
    header: Header<'a>,
    offset: u64,
    frames: Vec<DumpFrame<'a>>,
    created_by: Option<DumpFrame<'a>>,
    parent: Option<u64>,
    elided: bool,
    unavailable: bool,
    /// Inside `[originating from goroutine N]:` (frames not ours).
    ancestors: bool,
    /// A function line waiting for its `\tfile:line` line: (text, offset, is `created by`).
    pending: Option<(&'a str, u64, bool)>,
    /// Offsets of lines since the last frame that cannot be frames (log
    /// output, `FAIL pkg`): interleaved if a frame follows, trailing text
    /// if the goroutine ends.
    loose: Vec<u64>,
}

struct Parser<'a, 's> {
    sink: &'s mut dyn DumpSink<'a>,
    sum: DumpSummary,
    ids: IdSet,
    cur: Option<Current<'a>>,
    /// Collecting a message (`panic:` …) before goroutines.
    message: Option<String>,
    message_open: bool,
    stray: usize,
    frames_buf: Vec<DumpFrame<'a>>,
}

/// Parses a whole dump file, handing every complete goroutine to `sink`.
///
/// Errors only when nothing in the input is a goroutine dump (the message
/// says what it looks like) or when cancelled; problems inside a dump are
/// warnings in the summary.
pub fn parse<'a>(bytes: &'a [u8], sink: &mut dyn DumpSink<'a>) -> Result<DumpSummary, DumpError> {
    let mut p = Parser {
        sink,
        sum: DumpSummary {
            bytes: bytes.len() as u64,
            snapshots: vec![Snapshot::default()],
            ..Default::default()
        },
        ids: IdSet::default(),
        cur: None,
        message: None,
        message_open: false,
        stray: 0,
        frames_buf: Vec::new(),
    };
    let total = bytes.len() as u64;
    // UTF-8 is validated a block of whole lines at a time (one call instead
    // of one per line, close behind the reader so consumed pages can be
    // released): lines of a valid block are valid. A block with an invalid
    // byte is validated line by line, as before.
    let mut block_end = 0usize;
    let mut block: Option<&'a str> = None;
    let mut block_start = 0usize;
    let mut pos = 0usize;
    let mut next_progress = PROGRESS_EVERY;
    while pos < bytes.len() {
        let (line, next, complete) = match memchr::memchr(b'\n', &bytes[pos..]) {
            Some(i) => (&bytes[pos..pos + i], pos + i + 1, true),
            None => (&bytes[pos..], bytes.len(), false),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !complete {
            // Cut mid-line: whatever this line belongs to is incomplete.
            p.end_of_input(pos as u64, true);
            pos = next;
            break;
        }
        if pos >= block_end {
            let want = (pos + UTF8_BLOCK).min(bytes.len());
            block_end = match memchr::memchr(b'\n', &bytes[want..]) {
                Some(i) => want + i + 1,
                None => bytes.len(),
            };
            block_start = pos;
            block = std::str::from_utf8(&bytes[pos..block_end]).ok();
        }
        match block {
            Some(t) => p.line(
                &t[pos - block_start..pos - block_start + line.len()],
                pos as u64,
            ),
            None => match std::str::from_utf8(line) {
                Ok(s) => p.line(s, pos as u64),
                Err(_) => p.binary_line(pos as u64),
            },
        }
        pos = next;
        if pos >= next_progress {
            next_progress = pos + PROGRESS_EVERY;
            if p.sink.progress(pos as u64, total).is_break() {
                return Err(DumpError::Cancelled);
            }
        }
    }
    if p.cur.is_some() {
        p.end_of_input(pos as u64, false);
    }
    let _ = p.sink.progress(total, total);
    p.finish_message();
    if p.sum.goroutines == 0 && p.sum.snapshots.iter().all(|s| s.goroutines == 0) {
        return Err(DumpError::NoGoroutines {
            looks_like: crate::sniff::describe(bytes),
        });
    }
    p.sum.snapshots.retain(|s| s.goroutines > 0);
    Ok(p.sum)
}

impl<'a> Parser<'a, '_> {
    fn line(&mut self, s: &'a str, offset: u64) {
        if s.starts_with("goroutine ")
            && let Some(h) = header::parse(s)
        {
            self.end_goroutine(offset, false);
            self.finish_message();
            if !self.ids.insert(h.id) {
                // The same goroutine again: another dump follows.
                self.new_snapshot(offset, None);
                self.ids.insert(h.id);
            }
            self.cur = Some(Current {
                header: h,
                offset,
                frames: std::mem::take(&mut self.frames_buf),
                created_by: None,
                parent: None,
                elided: false,
                unavailable: false,
                ancestors: false,
                pending: None,
                loose: Vec::new(),
            });
            return;
        }
        if self.cur.is_some() {
            self.goroutine_line(s, offset);
        } else {
            self.outside_line(s, offset);
        }
    }

    fn goroutine_line(&mut self, s: &'a str, offset: u64) {
        let Some(cur) = self.cur.as_mut() else { return };
        if s.is_empty() {
            self.end_goroutine(offset, false);
            return;
        }
        if let Some(file_line) = s.strip_prefix('\t') {
            if let Some((func, foff, created)) = cur.pending.take() {
                match parse_file_line(file_line) {
                    Some((file, line, pc_offset)) => {
                        let f = DumpFrame {
                            func,
                            file,
                            line,
                            pc_offset,
                        };
                        if created {
                            if !cur.ancestors {
                                cur.created_by = Some(f);
                            }
                        } else if !cur.ancestors && !file.is_empty() {
                            cur.frames.push(f);
                        }
                        let loose = std::mem::take(&mut cur.loose);
                        for off in loose {
                            self.stray(off, "a line between the frames of a goroutine");
                        }
                    }
                    None => self.stray(foff, "a function line whose position line is unreadable"),
                }
                return;
            }
            if file_line == "goroutine running on other thread; stack unavailable" {
                cur.unavailable = true;
                return;
            }
            self.stray(
                offset,
                "a tab-indented line with no function line before it",
            );
            return;
        }
        let kind = FuncLine::of(s);
        let func = func_name(s);
        if kind == FuncLine::Other && !looks_like_frame(func) {
            // Log output written into the dump: skipped; a frame whose
            // position line follows it is kept.
            cur.loose.push(offset);
            return;
        }
        if let Some((_, poff, _)) = cur.pending.take() {
            self.stray(poff, "a function line with no position line after it");
        }
        let Some(cur) = self.cur.as_mut() else { return };
        match kind {
            FuncLine::CreatedBy(rest) => {
                const IN: &[u8] = b" in goroutine ";
                let (func, parent) = match find_spaced(rest, IN) {
                    Some(i) => (&rest[..i], rest[i + IN.len()..].parse().ok()),
                    None => (rest, None),
                };
                if !cur.ancestors {
                    cur.parent = parent;
                }
                cur.pending = Some((func, offset, true));
            }
            FuncLine::Elided => {
                if !cur.ancestors {
                    cur.elided = true;
                }
            }
            FuncLine::Ancestors => cur.ancestors = true,
            // An unsymbolized cgo frame: a `\tpc=0x…` line may follow.
            FuncLine::NonGo => cur.pending = Some(("", offset, false)),
            FuncLine::Message => {
                // A new dump begins right after the last goroutine.
                self.end_goroutine(offset, false);
                self.outside_line(s, offset);
            }
            FuncLine::Other => cur.pending = Some((func, offset, false)),
        }
    }

    fn outside_line(&mut self, s: &str, offset: u64) {
        if is_message_start(s) {
            self.finish_message();
            if self
                .sum
                .snapshots
                .last()
                .is_some_and(|x| x.goroutines > 0 || x.message.is_some())
            {
                self.new_snapshot(offset, None);
            } else if let Some(last) = self.sum.snapshots.last_mut() {
                last.offset = offset;
            }
            self.message = Some(s.to_owned());
            self.message_open = true;
            return;
        }
        if self.message_open {
            // Continuation of a multi-line panic value (`\t`-indented),
            // chained panics, the signal line, the running-tests list.
            if !s.is_empty()
                && (s.starts_with('\t')
                    || s.starts_with("panic: ")
                    || s.starts_with("[signal ")
                    || s.starts_with("PC=")
                    || s == "running tests:")
            {
                if let Some(m) = self.message.as_mut() {
                    m.push('\n');
                    m.push_str(s);
                }
                return;
            }
            self.message_open = false;
        }
        if !s.is_empty() {
            self.sum.other_lines += 1;
        }
    }

    fn binary_line(&mut self, offset: u64) {
        if self.cur.is_some() {
            if let Some(cur) = self.cur.as_mut() {
                cur.pending = None;
            }
            self.stray(offset, "a line that is not UTF-8 text inside a goroutine");
        } else {
            self.sum.other_lines += 1;
        }
    }

    fn stray(&mut self, offset: u64, what: &str) {
        self.stray += 1;
        if self.stray <= MAX_LINE_WARNINGS {
            self.sum.warnings.push(Warning {
                offset,
                message: format!("{what}; skipped"),
            });
        } else if self.stray == MAX_LINE_WARNINGS + 1 {
            self.sum.warnings.push(Warning {
                offset,
                message: "more such lines skipped (not listed)".into(),
            });
        }
    }

    fn new_snapshot(&mut self, offset: u64, message: Option<String>) {
        self.ids.clear();
        self.sum.snapshots.push(Snapshot {
            offset,
            message,
            ..Default::default()
        });
    }

    fn finish_message(&mut self) {
        self.message_open = false;
        if let Some(m) = self.message.take()
            && let Some(snap) = self.sum.snapshots.last_mut()
        {
            snap.deadlock = m.contains("all goroutines are asleep - deadlock!");
            snap.message = Some(m);
        }
    }

    /// Ends the current goroutine (complete) and hands it to the sink.
    fn end_goroutine(&mut self, offset: u64, _cut: bool) {
        let Some(mut cur) = self.cur.take() else {
            return;
        };
        if cur.pending.take().is_some() {
            self.stray(offset, "a function line with no position line after it");
        }
        // Text right after the last frame (`exit status 2`, `FAIL pkg`).
        self.sum.other_lines += cur.loose.len() as u64;
        cur.loose.clear();
        let snapshot = self.sum.snapshots.len().saturating_sub(1) as u32;
        if let Some(s) = self.sum.snapshots.last_mut() {
            if s.goroutines == 0 && s.message.is_none() {
                s.offset = cur.offset;
            }
            s.goroutines += 1;
        }
        self.sum.goroutines += 1;
        let h = &cur.header;
        let g = Goroutine {
            id: h.id,
            status: h.status,
            category: h.reason.map_or(Category::Other, |r| r.category),
            forever: h.reason.is_some_and(|r| r.forever),
            minutes: h.minutes,
            locked: h.locked,
            labels: h.labels,
            frames: &cur.frames,
            created_by: cur.created_by,
            parent: cur.parent,
            elided: cur.elided,
            stack_unavailable: cur.unavailable,
            snapshot,
            offset: cur.offset,
        };
        self.sink.goroutine(&g);
        cur.frames.clear();
        self.frames_buf = cur.frames;
    }

    /// The input ends while a goroutine is open. `cut`: mid-line.
    fn end_of_input(&mut self, offset: u64, cut: bool) {
        // A last function line with no position line: a frame cut off, or
        // trailing text (`exit status 2`) after a complete goroutine.
        let incomplete = cut
            || self.cur.as_ref().is_some_and(|c| {
                c.pending
                    .is_some_and(|(f, _, created)| created || looks_like_frame(f))
            });
        if !incomplete {
            self.end_goroutine(offset, false);
            return;
        }
        match self.cur.take() {
            Some(cur) => {
                let kept = self.sum.goroutines;
                self.sum.truncated = true;
                self.sum.warnings.push(Warning {
                    offset: cur.offset,
                    message: format!(
                        "the dump is cut inside goroutine {} (truncated file?): it is left out; the {} complete goroutine{} before it are kept",
                        cur.header.id,
                        kept,
                        if kept == 1 { "" } else { "s" }
                    ),
                });
                self.frames_buf = cur.frames;
            }
            None => {
                if cut {
                    self.sum.other_lines += 1;
                }
            }
        }
    }
}

/// What a line inside a goroutine that is no position line can be, besides
/// a frame's function line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FuncLine<'a> {
    /// `created by F [in goroutine N]`: what follows `created by `.
    CreatedBy(&'a str),
    /// `...additional frames elided...`, `...N frames elided...`.
    Elided,
    /// `[originating from goroutine N]:`: ancestor frames follow.
    Ancestors,
    /// `non-Go function at pc=0x…`.
    NonGo,
    /// A dump's message (see [`is_message_start`]).
    Message,
    /// A frame's function line, or text that is none.
    Other,
}

impl<'a> FuncLine<'a> {
    fn of(s: &'a str) -> Self {
        // By the first byte: one comparison for most function lines.
        match s.as_bytes().first() {
            Some(b'c') => s
                .strip_prefix("created by ")
                .map_or(Self::Other, Self::CreatedBy),
            Some(b'.') if s.starts_with("...") && s.ends_with("elided...") => Self::Elided,
            Some(b'[') if s.starts_with("[originating from goroutine ") => Self::Ancestors,
            Some(b'n') if s.starts_with("non-Go function") => Self::NonGo,
            Some(b'p' | b'f' | b'S') if is_message_start(s) => Self::Message,
            _ => Self::Other,
        }
    }
}

/// Whether a function line (arguments stripped or not) looks like a Go
/// frame: a qualified name, no spaces outside brackets; or `panic`, the name
/// tracebacks print for `runtime.gopanic` (a panicking goroutine's deferred
/// calls run above it).
fn looks_like_frame(func: &str) -> bool {
    if func == "panic" {
        return true;
    }
    // One pass: a `.` anywhere, no tab anywhere, no space before the first `[`.
    let mut dot = false;
    let mut bracket = false;
    for &b in func.as_bytes() {
        match b {
            b'.' => dot = true,
            b'\t' => return false,
            b' ' if !bracket => return false,
            b'[' => bracket = true,
            _ => {}
        }
    }
    dot
}

/// Lines that start a dump's message: a panic, a fatal error, a signal.
fn is_message_start(s: &str) -> bool {
    s.starts_with("panic: ")
        || s.starts_with("fatal error: ")
        || (s.starts_with("SIG")
            && s.find(": ").is_some_and(|i| {
                s[3..i]
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }))
}

/// `main.(*T).M(0x1, {0x2?, 0x3})` → `main.(*T).M`; a name without
/// arguments (a symbolized cgo frame) is kept whole.
pub(crate) fn func_name(s: &str) -> &str {
    // memrchr, not `rfind('(')`: a char searcher compares each candidate
    // with a call to memcmp, a tenth of the time of a large dump.
    if s.ends_with(')')
        && let Some(i) = memchr::memrchr(b'(', s.as_bytes())
        && i > 0
    {
        return &s[..i];
    }
    s
}

/// `s.find(pat)` for a pattern starting with a space, without building a
/// substring searcher per call: the hot path of a large dump.
fn find_spaced(s: &str, pat: &[u8]) -> Option<usize> {
    let b = s.as_bytes();
    memchr::memchr_iter(b' ', b).find(|&i| b[i..].starts_with(pat))
}

/// `s.rfind(pat)` for a pattern starting with a space (see [`find_spaced`]).
fn rfind_spaced(s: &str, pat: &[u8]) -> Option<usize> {
    let b = s.as_bytes();
    memchr::memrchr_iter(b' ', b).find(|&i| b[i..].starts_with(pat))
}

/// `/x/y.go:12 +0x1b fp=0x… sp=0x… pc=0x…` → (`/x/y.go`, 12, Some(0x1b)).
/// Paths may contain spaces and drive-letter colons (`C:/x/y.go:12`): the
/// line is split off from the right. A cgo `pc=0x…` alone gives an empty file.
pub(crate) fn parse_file_line(s: &str) -> Option<(&str, u32, Option<u64>)> {
    let b = s.as_bytes();
    // The usual line has no space but the one before `+0x…`, if any: then
    // the searches of the general case find nothing but that one, and two
    // byte searches tell (a tenth of the parse went into those searches).
    let last = memchr::memrchr(b' ', b);
    let usual = last
        .is_none_or(|k| b[k..].starts_with(b" +0x") && memchr::memrchr(b' ', &b[..k]).is_none());
    let mut s = s;
    let mut pc_offset = None;
    if usual {
        if s.starts_with("pc=0x") {
            return Some(("", 0, None));
        }
        if let Some(k) = last {
            pc_offset = parse_hex(&s[k + 4..]);
            s = &s[..k];
        }
    } else {
        if let Some(i) = find_spaced(s, b" fp=0x") {
            s = &s[..i];
        }
        if s.starts_with("pc=0x") {
            return Some(("", 0, None));
        }
        if let Some(i) = rfind_spaced(s, b" pc=0x") {
            s = &s[..i];
        }
        if let Some(i) = rfind_spaced(s, b" +0x") {
            pc_offset = parse_hex(&s[i + 4..]);
            s = &s[..i];
        }
    }
    let colon = memchr::memrchr(b':', s.as_bytes())?;
    let (file, line) = (&s[..colon], &s[colon + 1..]);
    let line = parse_dec(line)?;
    if file.is_empty() {
        return None;
    }
    Some((file, line, pc_offset))
}

/// `s.parse::<u32>()` (an optional `+`, decimal digits, no overflow) without
/// the generic parser's cost: a line number per frame.
fn parse_dec(s: &str) -> Option<u32> {
    parse_digits(s, 10).and_then(|n| u32::try_from(n).ok())
}

/// `u64::from_str_radix(s, 16).ok()`, as [`parse_dec`]: a PC offset per frame.
fn parse_hex(s: &str) -> Option<u64> {
    parse_digits(s, 16)
}

/// An optional `+` and at least one digit of `radix`, without overflow.
fn parse_digits(s: &str, radix: u32) -> Option<u64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() {
        return None;
    }
    digits.bytes().try_fold(0u64, |n, b| {
        let d = char::from(b).to_digit(radix)?;
        n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct G {
        id: u64,
        status: String,
        snapshot: u32,
        frames: Vec<(String, String, u32)>,
        created: Option<(String, String, u32)>,
        parent: Option<u64>,
        minutes: Option<u32>,
    }

    fn run(text: &str) -> (Vec<G>, DumpSummary) {
        let mut out = Vec::new();
        let sum = parse(text.as_bytes(), &mut |g: &Goroutine<'_, '_>| {
            out.push(G {
                id: g.id,
                status: g.status.into(),
                snapshot: g.snapshot,
                frames: g
                    .frames
                    .iter()
                    .map(|f| (f.func.into(), f.file.into(), f.line))
                    .collect(),
                created: g.created_by.map(|f| (f.func.into(), f.file.into(), f.line)),
                parent: g.parent,
                minutes: g.minutes,
            })
        })
        .unwrap();
        (out, sum)
    }

    const GO126_STACK: &str = "goroutine 28 [sync.Mutex.Lock]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
\truntime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0x6a1488)
\tinternal/sync/mutex.go:149 +0x15d
internal/sync.(*Mutex).Lock(...)
\tinternal/sync/mutex.go:70
sync.(*Mutex).Lock(...)
\tsync/mutex.go:46
main.main.func4()
\texample.com/dump/main.go:55 +0x34
created by main.main in goroutine 1
\texample.com/dump/main.go:55 +0x191

goroutine 34 [chan receive, 3 minutes, locked to thread]:
main.main.func10()
\texample.com/dump/main.go:64 +0x28
created by main.main in goroutine 1
\texample.com/dump/main.go:64 +0x286
";

    #[test]
    fn go126_runtime_stack() {
        let (gs, sum) = run(GO126_STACK);
        assert_eq!(gs.len(), 2);
        assert_eq!(gs[0].status, "sync.Mutex.Lock");
        assert_eq!(gs[0].frames.len(), 5);
        assert_eq!(
            gs[0].frames[4],
            (
                "main.main.func4".into(),
                "example.com/dump/main.go".into(),
                55
            )
        );
        assert_eq!(gs[0].frames[3].0, "sync.(*Mutex).Lock");
        assert_eq!(
            gs[0].created,
            Some(("main.main".into(), "example.com/dump/main.go".into(), 55))
        );
        assert_eq!(gs[0].parent, Some(1));
        assert_eq!(gs[1].minutes, Some(3));
        assert!(sum.warnings.is_empty(), "{:?}", sum.warnings);
        assert_eq!(sum.snapshots.len(), 1);
    }

    /// A panicking goroutine's stack holds `panic({…})` (`runtime.gopanic`):
    /// with GOTRACEBACK=system its innermost frame, otherwise under its
    /// deferred calls. It is a frame, not a stray line.
    #[test]
    fn a_panic_frame_is_a_frame() {
        for (version, line) in [("1.22", 779), ("1.26", 879)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
                "../../testdata/dumps/notstarted/go{version}-panic-system.txt"
            ));
            let (gs, sum) = run(&std::fs::read_to_string(&path).unwrap());
            assert!(sum.warnings.is_empty(), "{version}: {:?}", sum.warnings);
            let main = gs.iter().find(|g| g.id == 1).unwrap();
            assert_eq!(main.frames[0].0, "panic", "{version}");
            assert!(
                main.frames[0].1.ends_with("/src/runtime/panic.go"),
                "{version}"
            );
            assert_eq!(main.frames[0].2, line, "{version}");
            assert_eq!(main.frames[1].0, "main.main", "{version}");
        }
    }

    #[test]
    fn crlf_panic_message_and_trailing_text() {
        let text = "panic: boom\n\tsecond line [recovered]\n\ngoroutine 1 [running]:\nmain.main()\n\tC:/Users/me/my project/main.go:87 +0x658\nexit status 2\n"
            .replace('\n', "\r\n");
        let (gs, sum) = run(&text);
        assert_eq!(gs.len(), 1);
        assert_eq!(
            gs[0].frames,
            vec![(
                "main.main".into(),
                "C:/Users/me/my project/main.go".into(),
                87
            )]
        );
        assert_eq!(
            sum.snapshots[0].message.as_deref(),
            Some("panic: boom\n\tsecond line [recovered]")
        );
        // `exit status 2` came right after the last frame: trailing text,
        // not a frame.
        assert!(sum.warnings.is_empty(), "{:?}", sum.warnings);
        assert_eq!(sum.other_lines, 1);
    }

    #[test]
    fn snapshots_by_repeated_ids_and_messages() {
        let one = "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1\n\ngoroutine 2 [select]:\nmain.f()\n\t/x/main.go:9 +0x1\n";
        let text = format!(
            "{one}{one}fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive]:\nmain.main()\n\t/x/main.go:4 +0x1\n"
        );
        let (gs, sum) = run(&text);
        assert_eq!(gs.len(), 5);
        assert_eq!(
            gs.iter().map(|g| g.snapshot).collect::<Vec<_>>(),
            vec![0, 0, 1, 1, 2]
        );
        assert_eq!(sum.snapshots.len(), 3);
        assert!(sum.snapshots[2].deadlock);
        assert!(!sum.snapshots[0].deadlock);
    }

    #[test]
    fn truncated_keeps_complete_goroutines() {
        let cut = &GO126_STACK[..GO126_STACK.len() - 30];
        let (gs, sum) = run(cut);
        assert_eq!(gs.len(), 1);
        assert_eq!(sum.warnings.len(), 1);
        assert!(sum.truncated);
        assert!(
            sum.warnings[0].message.contains("goroutine 34"),
            "{:?}",
            sum.warnings
        );
    }

    #[test]
    fn old_created_by_elided_ancestors_sigquit() {
        let text = "SIGQUIT: quit
PC=0x40958c m=0 sigcode=0

goroutine 7 gp=0xc000 m=nil [chan receive]:
main.main.func2.1()
\t/src/main.go:40 +0x19 fp=0xc1 sp=0xc2 pc=0xc3
...additional frames elided...
created by main.main.func2 in goroutine 6
\t/src/main.go:40 +0x56
[originating from goroutine 6]:
main.main.func2(...)
\t/src/main.go:41 +0x56
created by main.main
\t/src/main.go:39 +0x266

goroutine 6 [syscall]:
non-Go function at pc=0x7f00
main._Cfunc_nap()
\t_cgo_gotypes.go:46 +0x3a
created by main.main
\t/src/main.go:30 +0x3a

rax    0x0
rbx    0x1
exit status 2
";
        let (gs, sum) = run(text);
        assert_eq!(gs.len(), 2);
        assert_eq!(gs[0].frames.len(), 1);
        assert_eq!(gs[0].created.as_ref().unwrap().0, "main.main.func2");
        assert_eq!(gs[0].parent, Some(6));
        assert_eq!(gs[1].frames[0].1, "_cgo_gotypes.go");
        assert_eq!(gs[1].parent, None);
        assert_eq!(gs[1].created.as_ref().unwrap().2, 30);
        assert_eq!(
            sum.snapshots[0].message.as_deref(),
            Some("SIGQUIT: quit\nPC=0x40958c m=0 sigcode=0")
        );
        assert!(sum.other_lines >= 3);
    }

    #[test]
    fn log_lines_between_frames_are_skipped() {
        let text = "goroutine 5 [chan send]:\nmain.a(...)\n\t/m/a.go:3\n2024/01/02 10:00:00 request done (200)\nmain.b(0x1)\n\t/m/a.go:9 +0x10\n\ngoroutine 6 [running]:\nmain.c()\n\t/m/a.go:1 +0x1\n";
        let (gs, sum) = run(text);
        assert_eq!(gs[0].frames.len(), 2);
        assert_eq!(gs.len(), 2);
        assert_eq!(sum.warnings.len(), 1);
    }

    #[test]
    fn not_a_dump() {
        let e = parse(b"hello\nworld\n", &mut |_: &Goroutine<'_, '_>| {}).unwrap_err();
        assert!(e.to_string().contains("no goroutine"), "{e}");
        let e = parse(&[0u8, 159, 146, 150, 1, 2], &mut |_: &Goroutine<'_, '_>| {}).unwrap_err();
        assert!(e.to_string().contains("binary"), "{e}");
        assert!(parse(b"", &mut |_: &Goroutine<'_, '_>| {}).is_err());
    }

    #[test]
    fn numbers_as_std_parses_them() {
        for s in [
            "",
            "+",
            "-",
            "+1",
            "-1",
            "0",
            "007",
            "12",
            "4294967295",
            "4294967296",
            "99999999999",
            "1f",
            "FF",
            "aB",
            "0x1",
            " 1",
            "1 ",
            "++1",
            "ffffffffffffffff",
            "10000000000000000",
            "1_0",
            "١",
            "3d9",
        ] {
            assert_eq!(parse_dec(s), s.parse::<u32>().ok(), "{s:?}");
            assert_eq!(parse_hex(s), u64::from_str_radix(s, 16).ok(), "{s:?}");
        }
    }

    #[test]
    fn file_lines_usual_and_general_agree() {
        // Lines of the general path (more spaces) against the usual one.
        for s in [
            "/a/b.go:12 +0x1b",
            "/a/b.go:12",
            "/a b/c.go:12 +0x1b",
            "/a/b.go:12 +0x1b fp=0x1 sp=0x2 pc=0x3",
            "/a/b.go:12 +0xzz",
            "/a/b.go:12 +0x",
            "pc=0x7f00 +0x1",
            "pc=0x7f00",
            "/a/b.go:x +0x1",
            ":12 +0x1",
            "/a/b.go:12 pc=0x1",
            "/a fp=0x1/b.go:3 +0x2",
            "/a/b.go:12  +0x1",
            " +0x1",
        ] {
            let general = {
                let mut t = s;
                if let Some(i) = find_spaced(t, b" fp=0x") {
                    t = &t[..i];
                }
                if t.starts_with("pc=0x") {
                    Some(("", 0, None))
                } else {
                    if let Some(i) = rfind_spaced(t, b" pc=0x") {
                        t = &t[..i];
                    }
                    let mut pc = None;
                    if let Some(i) = rfind_spaced(t, b" +0x") {
                        pc = u64::from_str_radix(&t[i + 4..], 16).ok();
                        t = &t[..i];
                    }
                    t.rsplit_once(':').and_then(|(f, l)| {
                        let l: u32 = l.parse().ok()?;
                        (!f.is_empty()).then_some((f, l, pc))
                    })
                }
            };
            assert_eq!(parse_file_line(s), general, "{s:?}");
        }
    }

    #[test]
    fn file_lines() {
        assert_eq!(
            parse_file_line("/a b/c.go:12 +0x1b fp=0x1 sp=0x2 pc=0x3"),
            Some(("/a b/c.go", 12, Some(0x1b)))
        );
        assert_eq!(parse_file_line("C:/x/y.go:7"), Some(("C:/x/y.go", 7, None)));
        assert_eq!(parse_file_line("pc=0x7f00"), Some(("", 0, None)));
        assert_eq!(
            parse_file_line("/c/x.c:9 pc=0x7f00"),
            Some(("/c/x.c", 9, None))
        );
        assert_eq!(parse_file_line("nonsense"), None);
        assert_eq!(func_name("sync.(*Mutex).Lock(...)"), "sync.(*Mutex).Lock");
        assert_eq!(func_name("main.G[...](0x0?)"), "main.G[...]");
        assert_eq!(func_name("panic({0x1?, 0x2?})"), "panic");
        assert_eq!(func_name("cfunc"), "cfunc");
        assert!(looks_like_frame("main.G[a b]"));
        assert!(looks_like_frame("main[x].y"));
        assert!(!looks_like_frame("main x.y"));
        assert!(!looks_like_frame("main.x\ty"));
        assert!(!looks_like_frame("nodot[a b]"));
        assert!(!looks_like_frame(""));
        assert!(looks_like_frame("panic"));
    }
}
