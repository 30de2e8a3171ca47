//! Unsigned LEB128 varints as the Go runtime writes them (non-minimal,
//! padded encodings accepted). Nothing else.

/// Reads a uvarint from `buf` at `*pos`, advancing `*pos`. `None` on
/// truncation or on more than 10 bytes.
#[inline]
pub fn read_uvarint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut x: u64 = 0;
    let mut shift = 0u32;
    let mut i = *pos;
    loop {
        let b = *buf.get(i)?;
        i += 1;
        if shift == 63 && b > 1 {
            return None;
        }
        x |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            *pos = i;
            return Some(x);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_padded_and_max() {
        let padded = [0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        let mut p = 0;
        assert_eq!(read_uvarint(&padded, &mut p), Some(5));
        assert_eq!(p, 10);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        let mut p = 0;
        assert_eq!(read_uvarint(&max, &mut p), Some(u64::MAX));
        let mut p = 0;
        assert_eq!(read_uvarint(&[0x80, 0x80], &mut p), None);
        let too_long = [0x80; 11];
        let mut p = 0;
        assert_eq!(read_uvarint(&too_long, &mut p), None);
    }
}
