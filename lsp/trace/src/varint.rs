//! Unsigned LEB128 varints as the Go runtime writes them: little-endian
//! groups of 7 bits, the high bit of each byte saying "more follows", at
//! most 10 bytes for a `u64`. Non-minimal (padded) encodings are accepted:
//! the runtime reserves 10 bytes for some lengths and back-fills them.
//! Nothing else (what a value means is the callers' business).
//!
//! Every reader of the crate goes through this module:
//!
//! | function | for | on bad input |
//! |---|---|---|
//! | [`read`] | input not yet validated | [`Error::Truncated`] (the bytes end inside the varint) or [`Error::Overlong`] |
//! | [`read_uvarint`] | the same, when the two errors need no telling apart | `None` |
//! | [`read_window`] | the hot loops: a varint inside a fixed window of `N` bytes known to be in bounds, no per-byte bounds check | `None` (the caller re-reads with [`read`] to report) |
//! | [`read_trusted`] | data already validated by an earlier pass | garbage in, garbage out (never a panic) |
//! | [`count`] | how many varints a run of value bytes holds | `None` if the run ends inside one |

/// Longest encoding of a `u64`.
pub const MAX_LEN: usize = 10;

/// Why a varint could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The bytes end before the varint's last byte.
    Truncated,
    /// More than [`MAX_LEN`] bytes, or a value above `u64::MAX`.
    Overlong,
}

/// Reads a varint from `buf` at `*pos`, advancing `*pos` past it (only on
/// success). One loop for every length: a separate one-byte path (the first
/// byte read twice for the multi-byte PCs of the stack tables) cost a v2
/// decode 8 % more instructions, measured.
#[inline]
pub fn read(buf: &[u8], pos: &mut usize) -> Result<u64, Error> {
    let mut x: u64 = 0;
    let mut shift = 0u32;
    let mut i = *pos;
    loop {
        let Some(&b) = buf.get(i) else {
            return Err(Error::Truncated);
        };
        i += 1;
        if shift == 63 && b > 1 {
            return Err(Error::Overlong);
        }
        x |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            *pos = i;
            return Ok(x);
        }
        shift += 7;
        if shift > 63 {
            return Err(Error::Overlong);
        }
    }
}

/// [`read`], with both errors as `None`.
#[inline(always)]
pub fn read_uvarint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    read(buf, pos).ok()
}

/// The fast variant: reads the varint at `*p` of a window `w` of `N` bytes
/// (`N` a power of two) that the caller has checked lies inside its input,
/// without a bounds check per byte, advancing `*p`. The index is masked to
/// the window, so a caller reading `k` varints from `*p = p0` must keep
/// `p0 + k * MAX_LEN <= N` (e.g. an event's type byte and 5 varints in 64
/// bytes) for the varints to be the input's; past that it reads wrapped
/// bytes of the window (wrong values, never out of bounds). `None` where
/// [`read`] fails (an overlong varint): the caller then re-reads with
/// [`read`] to say what is wrong.
///
/// This is what the decoders' per-event loops use: bounds-checked reads of
/// multi-byte varints cost ~8 % more instructions on a whole report.
#[inline(always)]
pub fn read_window<const N: usize>(w: &[u8; N], p: &mut usize) -> Option<u64> {
    const { assert!(N.is_power_of_two()) };
    let b = w[*p & (N - 1)];
    *p += 1;
    if b < 0x80 {
        return Some(u64::from(b));
    }
    let mut x = u64::from(b & 0x7f);
    let mut shift = 7u32;
    loop {
        let b = w[*p & (N - 1)];
        *p += 1;
        if shift == 63 && b > 1 {
            return None;
        }
        x |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(x);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Reads a varint of data an earlier pass validated with [`read`]: no
/// error reporting (a malformed varint yields some value and stops at the
/// end of `buf` or after [`MAX_LEN`] bytes), never a panic.
#[inline(always)]
pub fn read_trusted(buf: &[u8], p: &mut usize) -> u64 {
    let mut x = 0u64;
    let mut shift = 0u32;
    while let Some(&b) = buf.get(*p) {
        *p += 1;
        x |= u64::from(b & 0x7f) << shift;
        if b < 0x80 || shift >= 63 {
            break;
        }
        shift += 7;
    }
    x
}

/// How many varints the bytes `values` hold, when they end with a varint's
/// last byte (`None` otherwise). Does not check lengths: read them to know.
#[inline]
pub fn count(values: &[u8]) -> Option<usize> {
    if values.last().is_none_or(|&b| b >= 0x80) {
        return None;
    }
    Some(values.iter().filter(|&&b| b < 0x80).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (value, position after it).
    type Read = (u64, usize);

    /// Every reader on one input: (read, read_window, read_trusted).
    fn all(bytes: &[u8]) -> (Result<Read, Error>, Option<Read>, Read) {
        let mut p = 0;
        let checked = read(bytes, &mut p).map(|v| (v, p));
        let mut w = [0u8; 16];
        w[..bytes.len().min(16)].copy_from_slice(&bytes[..bytes.len().min(16)]);
        let mut p = 0;
        let windowed = read_window(&w, &mut p).map(|v| (v, p));
        let mut p = 0;
        let trusted = (read_trusted(bytes, &mut p), p);
        (checked, windowed, trusted)
    }

    #[test]
    fn every_reader_agrees_on_valid_varints() {
        let cases: [(&[u8], u64); 5] = [
            (&[0x05], 5),
            (&[0xac, 0x02], 300),
            // Padded to 10 bytes, as the runtime back-fills lengths.
            (
                &[0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
                5,
            ),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                u64::MAX,
            ),
            (&[0x80, 0x00], 0),
        ];
        for (bytes, want) in cases {
            let (c, w, t) = all(bytes);
            assert_eq!(c, Ok((want, bytes.len())), "{bytes:x?}");
            assert_eq!(w, Some((want, bytes.len())), "{bytes:x?}");
            assert_eq!(t, (want, bytes.len()), "{bytes:x?}");
            assert_eq!(read_uvarint(bytes, &mut 0), Some(want));
        }
    }

    #[test]
    fn errors_tell_truncation_from_overlong() {
        assert_eq!(read(&[], &mut 0), Err(Error::Truncated));
        assert_eq!(read(&[0x80, 0x80], &mut 0), Err(Error::Truncated));
        assert_eq!(read(&[0x80; 11], &mut 0), Err(Error::Overlong));
        // The 10th byte may only carry the top bit of a u64.
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(read(&over, &mut 0), Err(Error::Overlong));
        let mut w = [0u8; 16];
        w[..10].copy_from_slice(&over);
        assert_eq!(read_window(&w, &mut 0), None);
        let mut w = [0x80u8; 16];
        assert_eq!(read_window(&w, &mut 0), None);
        w[3] = 0;
        assert_eq!(read_window(&w, &mut 0), Some(0));
        // A failed read leaves the position alone.
        let mut p = 1;
        assert_eq!(read(&[0, 0x80], &mut p), Err(Error::Truncated));
        assert_eq!(p, 1);
    }

    #[test]
    fn counts_varints_of_a_run() {
        assert_eq!(count(&[1, 0x80, 2, 0xff, 0xff, 0x01]), Some(3));
        assert_eq!(count(&[1, 0x80]), None);
        assert_eq!(count(&[]), None);
    }
}
