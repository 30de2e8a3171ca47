//! Build IDs: the Go build ID (`actionID/contentID`-style string) and the GNU
//! build ID when present, plus a content hash for binaries with neither.
//! Used as the cache key and to check that a binary is the one a trace came
//! from. Follows `cmd/internal/buildid`: ELF note `.note.go.buildid` (owner
//! `Go`, type 4); otherwise the raw marker `\xff Go build ID: "…"\n \xff`
//! near the start of the file (PE) or of the text (Mach-O).
//!
//! `object::Object::build_id()` is used only for the GNU ID: it does not
//! read Go's note. [`read_go_build_id`] reads the Go build ID of a file from
//! its first pages only, for choosing candidates without opening them.

use object::{Object as _, ObjectSection as _};

const MARKER: &[u8] = b"\xff Go build ID: \"";
const MARKER_END: &[u8] = b"\"\n \xff";
/// `cmd/internal/buildid` reads this much from the file start (and text).
const RAW_WINDOW: usize = 32 * 1024;
/// Go's ELF note type for the build ID.
const NT_GO_BUILD_ID: u32 = 4;

/// The Go build ID of a parsed binary, if it has one.
pub(crate) fn go_build_id(obj: &object::File<'_>, file: &[u8]) -> Option<String> {
    if let Some(sec) = obj.section_by_name(".note.go.buildid") {
        let data = sec.data().ok()?;
        return elf_go_note(data, obj.is_little_endian());
    }
    if let Some(id) = raw_marker(&file[..file.len().min(RAW_WINDOW)]) {
        return Some(id);
    }
    // Mach-O: at the start of __text.
    let text = obj
        .section_by_name("__text")
        .or_else(|| obj.section_by_name(".text"))?;
    let data = text.data().ok()?;
    raw_marker(&data[..data.len().min(RAW_WINDOW)])
}

/// The Go build ID of the file at `path`, reading only its first pages as
/// `go tool buildid` does: the ELF note found through the program headers
/// of the first [`RAW_WINDOW`] bytes (one more small read when the note
/// lies beyond them), else the raw marker in that window (PE, and Mach-O
/// binaries of Go's own linker). `Ok(None)`: no Go build ID there (not a
/// Go binary, or a Mach-O binary linked externally: see
/// [`crate::Symbolizer::probe`]).
pub fn read_go_build_id(path: &std::path::Path) -> std::io::Result<Option<String>> {
    use std::io::{Read as _, Seek as _};
    let mut f = std::fs::File::open(path)?;
    let mut head = Vec::with_capacity(RAW_WINDOW);
    (&mut f).take(RAW_WINDOW as u64).read_to_end(&mut head)?;
    if head.starts_with(b"\x7fELF") {
        for (off, len) in elf_note_segments(&head) {
            let note = match head.get(off..off.saturating_add(len)) {
                Some(n) => n.to_vec(),
                // Beyond the window: read just the note (bounded).
                None if len <= 64 * 1024 => {
                    let mut n = vec![0; len];
                    f.seek(std::io::SeekFrom::Start(off as u64))?;
                    if f.read_exact(&mut n).is_err() {
                        continue;
                    }
                    n
                }
                None => continue,
            };
            if let Some(id) = elf_go_note(&note, head.get(5) == Some(&1)) {
                return Ok(Some(id));
            }
        }
    }
    Ok(raw_marker(&head))
}

/// `(offset, size)` of the `PT_NOTE` segments listed in the program headers
/// of an ELF file whose first bytes are `head`.
fn elf_note_segments(head: &[u8]) -> Vec<(usize, usize)> {
    const PT_NOTE: u64 = 4;
    let class64 = head.get(4) == Some(&2);
    let little = head.get(5) == Some(&1);
    let num = |off: usize, len: usize| -> Option<u64> {
        let b = head.get(off..off.checked_add(len)?)?;
        let mut v = 0u64;
        for i in 0..len {
            let byte = u64::from(if little { b[len - 1 - i] } else { b[i] });
            v = (v << 8) | byte;
        }
        Some(v)
    };
    // (e_phoff, e_phentsize, e_phnum) and, per header, (p_type, p_offset, p_filesz).
    let (phoff, phent, phnum) = if class64 {
        (num(32, 8), num(54, 2), num(56, 2))
    } else {
        (num(28, 4), num(42, 2), num(44, 2))
    };
    let (Some(phoff), Some(phent), Some(phnum)) = (phoff, phent, phnum) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in 0..phnum.min(64) {
        let Some(at) = i
            .checked_mul(phent)
            .and_then(|x| x.checked_add(phoff))
            .and_then(|x| usize::try_from(x).ok())
        else {
            break;
        };
        let fields = if class64 {
            (num(at, 4), num(at + 8, 8), num(at + 32, 8))
        } else {
            (num(at, 4), num(at + 4, 4), num(at + 16, 4))
        };
        if let (Some(PT_NOTE), Some(off), Some(len)) = fields
            && let (Ok(off), Ok(len)) = (usize::try_from(off), usize::try_from(len))
        {
            out.push((off, len));
        }
    }
    out
}

/// The GNU build ID (hex), if present.
pub(crate) fn gnu_build_id(obj: &object::File<'_>) -> Option<String> {
    let id = obj.build_id().ok()??;
    Some(id.iter().map(|b| format!("{b:02x}")).collect())
}

/// Parses the notes of a `.note.go.buildid` section.
fn elf_go_note(mut data: &[u8], little: bool) -> Option<String> {
    let word = |b: &[u8]| -> Option<u32> {
        let a: [u8; 4] = b.get(..4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let align4 = |n: usize| n.checked_add(3).map(|n| n & !3);
    while data.len() >= 12 {
        let namesz = word(data)? as usize;
        let descsz = word(data.get(4..)?)? as usize;
        let ntype = word(data.get(8..)?)?;
        let name_end = 12usize.checked_add(namesz)?;
        let desc_start = align4(name_end)?;
        let desc_end = desc_start.checked_add(descsz)?;
        let name = data.get(12..name_end)?;
        let desc = data.get(desc_start..desc_end)?;
        if ntype == NT_GO_BUILD_ID
            && name.iter().rposition(|&b| b != 0).map(|i| &name[..=i]) == Some(b"Go".as_slice())
        {
            return std::str::from_utf8(desc).ok().map(str::to_owned);
        }
        data = data.get(align4(desc_end)?..)?;
    }
    None
}

/// Finds `\xff Go build ID: "<id>"\n \xff` in `data`.
fn raw_marker(data: &[u8]) -> Option<String> {
    let start = data.windows(MARKER.len()).position(|w| w == MARKER)? + MARKER.len();
    let rest = &data[start..];
    let end = rest
        .windows(MARKER_END.len())
        .position(|w| w == MARKER_END)?;
    // Go quotes the ID with strconv.Quote; IDs are plain ASCII.
    let id = std::str::from_utf8(&rest[..end]).ok()?;
    (!id.is_empty() && !id.contains(['"', '\\'])).then(|| id.to_owned())
}

/// A 128-bit content hash (two independent 64-bit FNV-1a-style lanes over
/// 8-byte words): the cache key of binaries without any build ID. Not
/// cryptographic; it only has to tell different builds apart.
pub(crate) fn content_hash(data: &[u8]) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4 ^ data.len() as u64;
    let chunks = data.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let w = u64::from_le_bytes(w);
        a = (a ^ w).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ w.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    for &t in tail {
        a = (a ^ u64::from(t)).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ u64::from(t)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    format!("{a:016x}{b:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw() {
        let data = b"junk\xff Go build ID: \"abc/def\"\n \xffmore";
        assert_eq!(raw_marker(data).as_deref(), Some("abc/def"));
        assert_eq!(raw_marker(b"\xff Go build ID: \"abc"), None);
    }

    #[test]
    fn note() {
        let mut n = Vec::new();
        n.extend(4u32.to_le_bytes());
        n.extend(7u32.to_le_bytes());
        n.extend(4u32.to_le_bytes());
        n.extend(b"Go\0\0");
        n.extend(b"abc/def\0");
        assert_eq!(elf_go_note(&n, true).as_deref(), Some("abc/def"));
        assert_eq!(elf_go_note(&n[..20], true), None);
    }

    #[test]
    fn hash_differs() {
        assert_ne!(content_hash(b"abcdefgh1"), content_hash(b"abcdefgh2"));
        assert_ne!(content_hash(b""), content_hash(b"\0"));
    }
}
