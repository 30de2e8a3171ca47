//! pprof profiles in their debug=1 text form (`runtime/pprof/pprof.go:
//! printCountProfile`, `writeProfileInternal`):
//!
//! ```text
//! goroutine profile: total 16            --- contention:            (block; `--- mutex:` for mutex)
//! 3 @ 0x43a316 0x407bbb 0x4666c1         cycles/second=2445423474
//! # labels: {"req":"42"}                 sampling period=1          (mutex only)
//! #\t0x4ed1da\tmain.f+0x1a\t/x/main.go:24     449304729 4 @ 0x4d9ca0 0x4da137
//! ```
//!
//! Records are streamed to a callback with their frames (innermost first,
//! inlined frames already expanded by the runtime). Columns are separated
//! by runs of tabs (a tabwriter pads with `\t`). Contention values are CPU
//! ticks: they are converted to ns with the `cycles/second` header (Go 1.19
//! mutex text is unscaled by the sampling fraction; the header's `sampling
//! period` is returned so callers can say so).
//!
//! Does not read dumps (debug=2) or protos.

use crate::dump::parse_file_line;
use crate::error::{ProfileError, Warning};

/// Which text profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// `goroutine profile: total N`.
    Goroutine,
    /// `--- contention:`.
    Block,
    /// `--- mutex:`.
    Mutex,
}

/// One frame line (`#\t0xPC\tfunc+0xOFF\tfile:line`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextFrame<'a> {
    /// The PC printed (return address − 1).
    pub pc: u64,
    /// Function.
    pub func: &'a str,
    /// File as recorded.
    pub file: &'a str,
    /// Line.
    pub line: u32,
}

/// One record: a stack and its values.
#[derive(Clone, Debug)]
pub struct TextRecord<'g, 'a> {
    /// Goroutines (goroutine profile) or contentions.
    pub count: i64,
    /// Delay in ns (contention profiles).
    pub delay_ns: Option<i64>,
    /// `# labels: {…}` without braces.
    pub labels: Option<&'a str>,
    /// Frames, innermost first.
    pub frames: &'g [TextFrame<'a>],
}

/// What the header said, and the problems met.
#[derive(Clone, Debug)]
pub struct TextSummary {
    /// Which profile.
    pub kind: TextKind,
    /// `total N` of a goroutine profile.
    pub total: Option<u64>,
    /// `cycles/second=`.
    pub cycles_per_second: Option<u64>,
    /// `sampling period=` (mutex).
    pub sampling_period: Option<i64>,
    /// Records read.
    pub records: u64,
    /// Lines skipped, etc.
    pub warnings: Vec<Warning>,
}

/// Parses a debug=1 text profile, calling `record` for each record.
pub fn parse<'a>(
    bytes: &'a [u8],
    record: &mut dyn FnMut(&TextRecord<'_, 'a>),
) -> Result<TextSummary, ProfileError> {
    let text_err = |offset: usize, message: &str| ProfileError::Text {
        offset: offset as u64,
        message: message.to_owned(),
    };
    let mut sum: Option<TextSummary> = None;
    let mut frames: Vec<TextFrame<'a>> = Vec::new();
    let mut open: Option<(i64, Option<i64>, Option<&'a str>)> = None;
    let mut pos = 0usize;
    let flush = |open: &mut Option<(i64, Option<i64>, Option<&'a str>)>,
                 frames: &mut Vec<TextFrame<'a>>,
                 sum: &mut Option<TextSummary>,
                 record: &mut dyn FnMut(&TextRecord<'_, 'a>)| {
        if let Some((count, delay_ns, labels)) = open.take() {
            record(&TextRecord {
                count,
                delay_ns,
                labels,
                frames,
            });
            if let Some(s) = sum.as_mut() {
                s.records += 1;
            }
        }
        frames.clear();
    };
    while pos < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let raw = &bytes[pos..end];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let offset = pos;
        pos = end + 1;
        let Ok(line) = std::str::from_utf8(raw) else {
            return Err(text_err(offset, "a line that is not UTF-8 text"));
        };
        let Some(s) = sum.as_mut() else {
            // The header.
            if line.is_empty() {
                continue;
            }
            let (kind, total) = if let Some(t) = line.strip_prefix("goroutine profile: total ") {
                (TextKind::Goroutine, t.trim().parse().ok())
            } else if line == "--- contention:" {
                (TextKind::Block, None)
            } else if line == "--- mutex:" {
                (TextKind::Mutex, None)
            } else {
                return Err(text_err(
                    offset,
                    "not a text profile (expected `goroutine profile: total N`, `--- contention:` or `--- mutex:`)",
                ));
            };
            sum = Some(TextSummary {
                kind,
                total,
                cycles_per_second: None,
                sampling_period: None,
                records: 0,
                warnings: Vec::new(),
            });
            continue;
        };
        if let Some(v) = line.strip_prefix("cycles/second=") {
            s.cycles_per_second = v.trim().parse().ok();
            continue;
        }
        if let Some(v) = line.strip_prefix("sampling period=") {
            s.sampling_period = v.trim().parse().ok();
            continue;
        }
        if line.is_empty() {
            flush(&mut open, &mut frames, &mut sum, record);
            continue;
        }
        if let Some(l) = line.strip_prefix("# labels: ") {
            if let Some(o) = open.as_mut() {
                o.2 = Some(l.trim().trim_start_matches('{').trim_end_matches('}'));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            if open.is_none() {
                continue;
            }
            let cols: Vec<&str> = rest.split('\t').filter(|c| !c.is_empty()).collect();
            let frame = match cols.as_slice() {
                [pc, func, pos, ..] => {
                    let pc = u64::from_str_radix(pc.trim_start_matches("0x"), 16).ok();
                    let func = func.rsplit_once("+0x").map_or(*func, |(f, _)| f);
                    match (pc, parse_file_line(pos)) {
                        (Some(pc), Some((file, line, _))) => Some(TextFrame {
                            pc,
                            func,
                            file,
                            line,
                        }),
                        _ => None,
                    }
                }
                _ => None,
            };
            match frame {
                Some(f) => frames.push(f),
                None => s.warnings.push(Warning {
                    offset: offset as u64,
                    message: "unreadable frame line; skipped".into(),
                }),
            }
            continue;
        }
        if let Some((vals, _pcs)) = line.split_once(" @") {
            flush(&mut open, &mut frames, &mut sum, record);
            let nums: Vec<i64> = vals
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            let Some(s) = sum.as_mut() else { continue };
            open = match (s.kind, nums.as_slice()) {
                (TextKind::Goroutine, [n]) => Some((*n, None, None)),
                (TextKind::Block | TextKind::Mutex, [cycles, n]) => {
                    let ns = match s.cycles_per_second {
                        Some(cps) if cps > 0 => Some((*cycles as f64 / (cps as f64 / 1e9)) as i64),
                        _ => None,
                    };
                    Some((*n, ns, None))
                }
                _ => {
                    s.warnings.push(Warning {
                        offset: offset as u64,
                        message: "unreadable record line; its stack is skipped".into(),
                    });
                    None
                }
            };
            continue;
        }
        s.warnings.push(Warning {
            offset: offset as u64,
            message: "unrecognised line; skipped".into(),
        });
    }
    flush(&mut open, &mut frames, &mut sum, record);
    sum.ok_or_else(|| text_err(0, "an empty file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goroutine_profile() {
        let text = "goroutine profile: total 16\n1 @ 0x43a316 0x407bbb 0x4076f8 0x4ed1db 0x4ed1d5 0x4666c1\n#\t0x4ed1da\tmain.inlinedHelper+0x1a\texample.com/dump/main.go:24\n#\t0x4ed1d4\tmain.callsInlined+0x14\texample.com/dump/main.go:27\n\n3 @ 0x43a316 0x4666c1\n# labels: {\"req\":\"42\"}\n#\t0x4eddbe\tmain.main.func11.1+0x1e\t\texample.com/dump/main.go:66\n\n";
        let mut recs = Vec::new();
        let s = parse(text.as_bytes(), &mut |r| {
            recs.push((
                r.count,
                r.labels.map(str::to_owned),
                r.frames
                    .iter()
                    .map(|f| (f.func, f.line))
                    .collect::<Vec<_>>(),
            ))
        })
        .unwrap();
        assert_eq!(s.kind, TextKind::Goroutine);
        assert_eq!(s.total, Some(16));
        assert_eq!(recs.len(), 2);
        assert_eq!(
            recs[0].2,
            vec![("main.inlinedHelper", 24), ("main.callsInlined", 27)]
        );
        assert_eq!(recs[1].0, 3);
        assert_eq!(recs[1].1.as_deref(), Some("\"req\":\"42\""));
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn mutex_text_in_ticks() {
        let text = "--- mutex:\ncycles/second=2000000000\nsampling period=1\n446284446 1 @ 0x4d9c21 0x4d9c20 0x484201\n#\t0x4d9c20\tsync.(*Mutex).Unlock+0x40\tsync/mutex.go:65\n#\t0x4d9c1f\tmain.holder+0x3f\t\texample.com/prof/main.go:17\n\n";
        let mut recs = Vec::new();
        let s = parse(text.as_bytes(), &mut |r| recs.push((r.count, r.delay_ns))).unwrap();
        assert_eq!(s.kind, TextKind::Mutex);
        assert_eq!(recs, vec![(1, Some(223_142_223))]);
        assert!(parse(b"hello", &mut |_| {}).is_err());
    }
}
