//! Wire-level reading of one old-format event: type byte, the 2-bit value
//! count or length prefix, uvarint values, and the special layouts of
//! `String`, `Stack` and `UserLog`. Checks value counts against
//! [`super::event::SPECS`] like Go's parser does.
//!
//! Knows nothing of batches, goroutines or time; never allocates. Reading
//! past the end of the input is reported as [`WireError::Truncated`], any
//! other malformation as [`WireError::Corrupt`], both with the event's offset.

use super::event::{self, ev};
use crate::varint;

/// Most values a non-stack event may carry (CPUSample has 5).
pub const MAX_VALUES: usize = 8;

/// Longest length prefix accepted for a non-stack event (Go's limit).
const MAX_EVENT_LEN: u64 = 2048;

/// Longest length prefix a `Stack` event can have: Go's parser refuses
/// stacks of more than 1000 frames, each frame is 4 varints (pc, function,
/// file, line) of at most 10 bytes, plus the id and frame count. A longer
/// claim is a damaged length, not an event the end of the file cut off.
const MAX_STACK_LEN: u64 = 2 * 10 + 1000 * 4 * 10;

/// Longest `String`/`UserLog` payload accepted (Go's parser's limit; a
/// damaged length beyond it is corruption, not truncation).
const MAX_STRING_LEN: u64 = 1_000_000;

/// Longest `String`/`UserLog` payload the runtime writes: it cuts a string
/// to the room left in its 64 KiB trace buffer. A longer one that runs past
/// the end of the file is a damaged length, not a cut.
const MAX_WRITTEN_STRING_LEN: u64 = 64 << 10;

/// A payload of `n` bytes that the end of the file cuts: a cut when the
/// runtime could have written it, else a damaged length.
fn cut_payload(at: usize, what: &str, n: u64) -> WireError {
    if n > MAX_WRITTEN_STRING_LEN {
        corrupt(
            at,
            format!(
                "{what} of {n} bytes runs past the end of the file (the runtime writes at most 64 KiB)"
            ),
        )
    } else {
        WireError::Truncated { offset: at }
    }
}

/// One raw event. For `String`, `values` = [id, data offset, data length];
/// for `Stack`, [first value offset, end offset] (parse with [`stack_values`]).
#[derive(Clone, Copy, Debug)]
pub struct Raw {
    /// Event type (low 6 bits of the first byte).
    pub typ: u8,
    /// Offset just past the event.
    pub end: usize,
    /// Values (timestamp delta first for timed events, stack id last).
    pub values: [u64; MAX_VALUES],
    /// Number of valid entries in `values`.
    pub n: usize,
}

/// Why an event could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The input ends inside the event starting at `offset`.
    Truncated {
        /// Offset of the event's type byte.
        offset: usize,
    },
    /// The event at `offset` is malformed.
    Corrupt {
        /// Offset of the event's type byte.
        offset: usize,
        /// What is wrong.
        what: String,
    },
}

/// Reads one uvarint of the event at `at` that must end before `limit`;
/// tells the end of the file (a cut) from a malformed value.
#[inline(always)]
fn uv(buf: &[u8], pos: &mut usize, limit: usize, at: usize) -> Result<u64, WireError> {
    varint::read(buf.get(..limit).unwrap_or(buf), pos).map_err(|e| match e {
        varint::Error::Truncated if limit >= buf.len() => WireError::Truncated { offset: at },
        _ => WireError::Corrupt {
            offset: at,
            what: "malformed varint".into(),
        },
    })
}

fn corrupt(offset: usize, what: String) -> WireError {
    WireError::Corrupt { offset, what }
}

/// Reads the event starting at `pos` in a trace with header minor `minor`.
/// `pos` must be `< buf.len()`.
pub fn read(buf: &[u8], pos: usize, minor: u32) -> Result<Raw, WireError> {
    let at = pos;
    let Some(&b) = buf.get(pos) else {
        return Err(WireError::Truncated { offset: at });
    };
    let typ = b & 0x3f;
    let k = b >> 6;
    let Some(sp) = event::spec(typ, minor) else {
        return Err(corrupt(
            at,
            format!("unknown event type {typ} (byte 0x{b:02x}) for a go 1.{minor} trace"),
        ));
    };
    let mut p = pos + 1;
    let mut raw = Raw {
        typ,
        end: 0,
        values: [0; MAX_VALUES],
        n: 0,
    };
    let len = buf.len();
    match typ {
        ev::STRING => {
            let id = uv(buf, &mut p, len, at)?;
            let n = uv(buf, &mut p, len, at)?;
            if id == 0 {
                return Err(corrupt(at, "String event with the reserved id 0".into()));
            }
            if n > MAX_STRING_LEN {
                return Err(corrupt(at, format!("String event of {n} bytes")));
            }
            if ((len - p) as u64) < n {
                return Err(cut_payload(at, "String event", n));
            }
            let n = n as usize;
            raw.values[0] = id;
            raw.values[1] = p as u64;
            raw.values[2] = n as u64;
            raw.n = 3;
            raw.end = p + n;
            return Ok(raw);
        }
        ev::STACK => {
            if k != 3 {
                return Err(corrupt(at, "Stack event without a length prefix".into()));
            }
            let l = uv(buf, &mut p, len, at)?;
            if l > MAX_STACK_LEN {
                return Err(corrupt(at, format!("Stack event claims {l} bytes")));
            }
            if l > (len - p) as u64 {
                return Err(WireError::Truncated { offset: at });
            }
            raw.values[0] = p as u64;
            raw.values[1] = (p + l as usize) as u64;
            raw.n = 2;
            raw.end = p + l as usize;
            return Ok(raw);
        }
        _ => {}
    }
    if k < 3 {
        let n = k as usize + 1;
        for i in 0..n {
            raw.values[i] = uv(buf, &mut p, len, at)?;
        }
        raw.n = n;
    } else {
        let l = uv(buf, &mut p, len, at)?;
        if l > MAX_EVENT_LEN {
            return Err(corrupt(
                at,
                format!("{} event claims {l} bytes of values", sp.name),
            ));
        }
        let l = l as usize;
        if len - p < l {
            return Err(WireError::Truncated { offset: at });
        }
        let stop = p + l;
        let mut n = 0;
        while p < stop {
            if n == MAX_VALUES {
                return Err(corrupt(
                    at,
                    format!("{} event has too many values", sp.name),
                ));
            }
            let before = p;
            raw.values[n] = uv(buf, &mut p, stop, at).map_err(|_| {
                corrupt(
                    at,
                    format!(
                        "{} event: value at byte {before} overruns its length",
                        sp.name
                    ),
                )
            })?;
            n += 1;
        }
        raw.n = n;
    }
    if raw.n != sp.values as usize {
        return Err(corrupt(
            at,
            format!(
                "{} event has {} values, expected {}",
                sp.name, raw.n, sp.values
            ),
        ));
    }
    if typ == ev::USER_LOG {
        // Trailing message: uvarint length + bytes.
        let n = uv(buf, &mut p, len, at)?;
        if n > MAX_STRING_LEN {
            return Err(corrupt(at, format!("UserLog message of {n} bytes")));
        }
        if ((len - p) as u64) < n {
            return Err(cut_payload(at, "UserLog message", n));
        }
        p += n as usize;
    }
    raw.end = p;
    Ok(raw)
}

/// Whether events of this type need [`read`] (special layouts, or values
/// pass 1 needs besides the first).
#[inline]
pub(super) const fn special(typ: u8) -> bool {
    matches!(
        typ,
        ev::NONE
            | ev::BATCH
            | ev::FREQUENCY
            | ev::STACK
            | ev::STRING
            | ev::TIMER_GOROUTINE
            | ev::USER_LOG
            | ev::CPU_SAMPLE
    ) || typ >= ev::COUNT
}

/// Fast validation of an ordinary timed event: returns (type, end, first
/// value = timestamp delta) when the event is well-formed and not one of
/// the special types; `None` means "use [`read`]" (special type, or a
/// problem that [`read`] will describe).
#[inline]
pub fn skim(buf: &[u8], pos: usize, minor: u32) -> Option<(u8, usize, u64)> {
    let b = *buf.get(pos)?;
    let typ = b & 0x3f;
    if special(typ) {
        return None;
    }
    let sp = event::spec(typ, minor)?;
    let k = b >> 6;
    let mut p = pos + 1;
    if k < 3 {
        if k + 1 != sp.values {
            return None;
        }
        let first = uv(buf, &mut p, buf.len(), pos).ok()?;
        for _ in 0..k {
            varint::read(buf, &mut p).ok()?;
        }
        Some((typ, p, first))
    } else {
        let l = uv(buf, &mut p, buf.len(), pos).ok()?;
        if l > MAX_EVENT_LEN {
            return None;
        }
        let stop = p.checked_add(l as usize)?;
        let vals = buf.get(p..stop)?;
        if varint::count(vals) != Some(usize::from(sp.values)) {
            return None;
        }
        let first = uv(buf, &mut p, stop, pos).ok()?;
        Some((typ, stop, first))
    }
}

/// [`skim`] with the per-type lookup done once per trace: for the common
/// event (argument count in the type byte, all of it within the next 32
/// bytes) it decodes from a fixed window ([`varint::read_window`]); anything
/// else goes to [`skim`]. Same results.
pub struct Skimmer {
    minor: u32,
    /// Values per ordinary event type in this version (0: special or unknown).
    values: [u8; 64],
}

impl Skimmer {
    /// The skimmer for `go 1.<minor>` traces.
    pub fn new(minor: u32) -> Self {
        let mut values = [0u8; 64];
        for (t, v) in values.iter_mut().enumerate() {
            let t = t as u8;
            if !special(t)
                && let Some(sp) = event::spec(t, minor)
            {
                *v = sp.values;
            }
        }
        Skimmer { minor, values }
    }

    /// See [`skim`].
    #[inline(always)]
    pub fn skim(&self, buf: &[u8], pos: usize) -> Option<(u8, usize, u64)> {
        if let Some(w) = buf.get(pos..pos.wrapping_add(32))
            && let Ok(w) = <&[u8; 32]>::try_from(w)
        {
            let b = w[0];
            let typ = b & 0x3f;
            let k = b >> 6;
            if k < 3 && self.values[usize::from(typ)] == k + 1 {
                // At most 3 varints of 10 bytes after the type byte: the
                // window of 32 holds them.
                let mut p = 1usize;
                let Some(first) = varint::read_window(w, &mut p) else {
                    return skim(buf, pos, self.minor);
                };
                for _ in 0..k {
                    if varint::read_window(w, &mut p).is_none() {
                        return skim(buf, pos, self.minor);
                    }
                }
                return Some((typ, pos + p, first));
            }
        }
        skim(buf, pos, self.minor)
    }
}

/// Reads an ordinary event from data validated by pass 1: fills `vals` and
/// returns (type, value count, end); `None` for the special types (use
/// [`read`]).
#[inline(always)]
pub fn read_trusted(
    buf: &[u8],
    pos: usize,
    vals: &mut [u64; MAX_VALUES],
) -> Option<(u8, usize, usize)> {
    let b = *buf.get(pos)?;
    let typ = b & 0x3f;
    if special(typ) {
        return None;
    }
    let k = b >> 6;
    let mut p = pos + 1;
    if k < 3 {
        let n = k as usize + 1;
        for v in vals.iter_mut().take(n) {
            *v = varint::read_trusted(buf, &mut p);
        }
        Some((typ, n, p))
    } else {
        let l = varint::read_trusted(buf, &mut p) as usize;
        let stop = p.saturating_add(l).min(buf.len());
        let mut n = 0;
        while p < stop && n < MAX_VALUES {
            vals[n] = varint::read_trusted(buf, &mut p);
            n += 1;
        }
        Some((typ, n, stop))
    }
}

/// Reads the values of a `Stack` event located by [`read`]: calls `frame`
/// for each (pc, func id, file id, line) and returns (stack id, frame count).
pub fn stack_values(
    buf: &[u8],
    start: usize,
    end: usize,
    at: usize,
    mut frame: impl FnMut(u64, u64, u64, u64),
) -> Result<(u64, u64), WireError> {
    let mut p = start;
    let bad = |what: &str| corrupt(at, format!("Stack event: {what}"));
    let id = uv(buf, &mut p, end, at).map_err(|_| bad("malformed id"))?;
    let n = uv(buf, &mut p, end, at).map_err(|_| bad("malformed frame count"))?;
    if n > 1000 {
        return Err(bad(&format!("{n} frames")));
    }
    for _ in 0..n {
        let mut f = [0u64; 4];
        for v in &mut f {
            *v = uv(buf, &mut p, end, at).map_err(|_| bad("frames overrun the event length"))?;
        }
        frame(f[0], f[1], f[2], f[3]);
    }
    if p != end {
        return Err(bad("extra bytes after the frames"));
    }
    Ok((id, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skimmer_agrees_with_skim_everywhere() {
        // At every byte offset of real old-format traces (event starts and
        // everything in between), and of pseudo-random bytes with every type
        // byte, the fast skimmer returns exactly what `skim` returns.
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
        let mut inputs: Vec<(u32, Vec<u8>)> = Vec::new();
        for (v, minor) in [("go1.19", 19), ("go1.21", 21)] {
            for f in ["blocking.trace", "pprof-http.trace"] {
                let bytes = std::fs::read(format!("{root}/{v}/{f}")).unwrap();
                inputs.push((minor, bytes));
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly continuation-free bytes, some long varints.
                if x.is_multiple_of(5) {
                    (x >> 8) as u8 | 0x80
                } else {
                    (x >> 8) as u8 & 0x7f
                }
            })
            .collect();
        for minor in [11, 19, 21] {
            inputs.push((minor, noise.clone()));
        }
        let mut checked = 0;
        for (minor, bytes) in &inputs {
            let sk = Skimmer::new(*minor);
            for pos in 0..bytes.len() {
                assert_eq!(
                    sk.skim(bytes, pos),
                    skim(bytes, pos, *minor),
                    "go 1.{minor} at {pos}"
                );
                checked += 1;
            }
        }
        assert!(checked > 600_000);
    }

    #[test]
    fn reads_observed_events() {
        // Batch k=1 [p=0, ts=300]
        let b = [0x41, 0x00, 0xac, 0x02];
        let r = read(&b, 0, 21).unwrap();
        assert_eq!(
            (r.typ, r.n, r.values[0], r.values[1], r.end),
            (1, 2, 0, 300, 4)
        );
        // GoUnblock k=3 [L=4][dt, g, seq, stk]
        let b = [0xd5, 4, 1, 2, 3, 4];
        let r = read(&b, 0, 21).unwrap();
        assert_eq!((r.typ, r.n, r.values[3]), (21, 4, 4));
        // truncated inside the values
        assert_eq!(
            read(&b[..4], 0, 21).unwrap_err(),
            WireError::Truncated { offset: 0 }
        );
        // wrong count
        let b = [0x95, 1, 2, 3];
        assert!(matches!(read(&b, 0, 21), Err(WireError::Corrupt { .. })));
        // CPUSample needs 1.19
        let b = [0xf1, 5, 1, 2, 3, 4, 5];
        assert!(read(&b, 0, 19).is_ok());
        assert!(matches!(read(&b, 0, 11), Err(WireError::Corrupt { .. })));
        // String
        let b = [0x25, 7, 3, b'a', b'b', b'c'];
        let r = read(&b, 0, 11).unwrap();
        assert_eq!(&r.values[..3], &[7, 3, 3]);
        assert_eq!(
            read(&b[..5], 0, 11).unwrap_err(),
            WireError::Truncated { offset: 0 }
        );
        // Stack with a padded length
        let b = [0xc3, 0x86, 0x80, 0x00, 5, 1, 0x10, 2, 3, 42];
        let r = read(&b, 0, 21).unwrap();
        let mut frames = Vec::new();
        let (id, n) = stack_values(
            &b,
            r.values[0] as usize,
            r.values[1] as usize,
            0,
            |a, b, c, d| frames.push((a, b, c, d)),
        )
        .unwrap();
        assert_eq!((id, n, frames), (5, 1, vec![(0x10, 2, 3, 42)]));
        // a damaged Stack length with bytes after it is corruption, not a cut
        let b = [0xc3, 0xd1, 0x80, 0x80, 0x80, 0x51, 0, 1, 2];
        assert!(matches!(read(&b, 0, 21), Err(WireError::Corrupt { .. })));
        // unknown type
        assert!(matches!(
            read(&[0x00], 0, 21),
            Err(WireError::Corrupt { .. })
        ));
    }
}
