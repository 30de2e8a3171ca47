//! Loading a binary's bytes: recognises the container (ELF, Mach-O, PE) with
//! `object`, checks that the pieces we read lie inside the file, and loads
//! the DWARF sections addr2line needs into owned, shareable buffers,
//! decompressing whatever Go emits: ELF `SHF_COMPRESSED` (zlib, zstd), GNU
//! `.zdebug_*` (ELF and Mach-O through `object`, PE by hand: `object` returns
//! those raw, which is why `addr2line::Loader` finds no DWARF in Go PE files).
//!
//! Sections addr2line never reads (`.debug_loc*`, `.debug_frame`, macros,
//! names, types) are not loaded: in Go binaries `.debug_loc` alone is as big
//! as `.debug_line`. Big sections are decompressed in parallel.
//!
//! This module does not resolve anything, read symbols or build IDs (see
//! `symtab.rs`, `buildid.rs`), or cache (see `cache.rs`).

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use object::{CompressionFormat, Object as _, ObjectSection as _};

use crate::error::{Result, SymbolsError};

/// The gimli reader the symbolizer uses: owned, reference-counted section
/// data, so a `Dwarf` can be shared between threads and outlive the file.
pub type Reader = gimli::EndianArcSlice<gimli::RunTimeEndian>;

/// Container format of a binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryFormat {
    /// Linux and most Unixes.
    Elf,
    /// darwin (macOS, iOS).
    MachO,
    /// windows.
    Pe,
}

impl BinaryFormat {
    /// `ELF`, `Mach-O` or `PE`.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryFormat::Elf => "ELF",
            BinaryFormat::MachO => "Mach-O",
            BinaryFormat::Pe => "PE",
        }
    }
}

/// The sections addr2line reads; everything else is left alone.
const NEEDED: [gimli::SectionId; 10] = [
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugAranges,
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugRanges,
    gimli::SectionId::DebugRngLists,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugStrOffsets,
];

/// Sections smaller than this are decompressed on the calling thread.
const PARALLEL_MIN: u64 = 256 * 1024;

/// Upper bound of the zlib expansion ratio (deflate's maximum is 1032:1);
/// a header claiming more is corrupt, and we refuse to allocate for it.
const MAX_ZLIB_RATIO: u64 = 1032;

/// Largest decompressed section accepted (the biggest Go binaries' DWARF
/// sections are a few hundred MB); a corrupt header must not make us
/// allocate without bound.
const MAX_SECTION: u64 = 1 << 30;

/// Facts about the container, read once at load time.
pub(crate) struct Container {
    pub format: BinaryFormat,
    /// Go's GOARCH spelling (`amd64`, `arm64`, `386`, …) or `object`'s name.
    pub arch: String,
    pub endian: gimli::RunTimeEndian,
    /// Position-independent: ELF `ET_DYN`, Mach-O `MH_PIE`, PE dynamic base.
    pub pie: bool,
    /// Address ranges of the executable sections, sorted.
    pub text: Vec<(u64, u64)>,
}

/// What `load_dwarf` produced.
pub(crate) struct DwarfLoad {
    pub dwarf: gimli::Dwarf<Reader>,
    /// Version of the first unit (4 or 5 for Go), 0 if unknown.
    pub version: u16,
    /// Total decompressed bytes of the loaded sections.
    pub bytes: u64,
}

/// Parses the container. `path` is for messages only.
pub(crate) fn parse<'a>(path: &Path, data: &'a [u8]) -> Result<(object::File<'a>, Container)> {
    let obj = object::File::parse(data).map_err(|e| {
        if let Some((what, offset, size)) = elf_past_end(data)
            .map(|(w, o, s)| (w.to_owned(), o, s))
            .or_else(|| macho_past_end(data))
        {
            return SymbolsError::Truncated {
                path: path.to_owned(),
                what,
                offset,
                size,
                file_len: data.len() as u64,
            };
        }
        SymbolsError::NotAnExecutable {
            path: path.to_owned(),
            reason: if data.len() < 64 {
                format!("{e} ({} bytes)", data.len())
            } else {
                e.to_string()
            },
        }
    })?;
    let format = match obj.format() {
        object::BinaryFormat::Elf => BinaryFormat::Elf,
        object::BinaryFormat::MachO => BinaryFormat::MachO,
        object::BinaryFormat::Pe => BinaryFormat::Pe,
        other => {
            return Err(SymbolsError::NotAnExecutable {
                path: path.to_owned(),
                reason: format!("{other:?} files are not produced by the Go linker"),
            });
        }
    };
    if obj.kind() == object::ObjectKind::Relocatable {
        return Err(SymbolsError::NotAnExecutable {
            path: path.to_owned(),
            reason: "relocatable object file, not a linked executable".into(),
        });
    }
    let endian = if obj.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let pie = match &obj {
        object::File::Elf32(_) | object::File::Elf64(_) => {
            obj.kind() == object::ObjectKind::Dynamic
        }
        _ => match obj.flags() {
            object::FileFlags::MachO { flags } => flags.0 & object::macho::MH_PIE.0 != 0,
            _ => pe_dynamic_base(&obj),
        },
    };
    let mut text: Vec<(u64, u64)> = obj
        .sections()
        .filter(|s| s.kind() == object::SectionKind::Text && s.size() > 0)
        .map(|s| (s.address(), s.address().saturating_add(s.size())))
        .collect();
    text.sort_unstable();
    let arch = go_arch(obj.architecture());
    Ok((
        obj,
        Container {
            format,
            arch,
            endian,
            pie,
            text,
        },
    ))
}

/// For an ELF file whose header tables or section data lie past the end
/// of the data (a truncated copy), what and where. Called only after
/// `object` refused the file, to turn its message into a precise one.
fn elf_past_end(data: &[u8]) -> Option<(&'static str, u64, u64)> {
    if data.get(..4) != Some(b"\x7fELF") {
        return None;
    }
    let class64 = *data.get(4)? == 2;
    let little = *data.get(5)? == 1;
    let num = |off: usize, len: usize| -> Option<u64> {
        let b = data.get(off..off + len)?;
        let mut v = 0u64;
        for i in 0..len {
            let byte = u64::from(if little { b[len - 1 - i] } else { b[i] });
            v = (v << 8) | byte;
        }
        Some(v)
    };
    // (phoff, shoff, phentsize, phnum, shentsize, shnum)
    let (phoff, shoff, phent, phnum, shent, shnum) = if class64 {
        (
            num(32, 8)?,
            num(40, 8)?,
            num(54, 2)?,
            num(56, 2)?,
            num(58, 2)?,
            num(60, 2)?,
        )
    } else {
        (
            num(28, 4)?,
            num(32, 4)?,
            num(42, 2)?,
            num(44, 2)?,
            num(46, 2)?,
            num(48, 2)?,
        )
    };
    let len = data.len() as u64;
    let past = |off: u64, size: u64| off.checked_add(size).is_none_or(|end| end > len);
    if past(shoff, shent * shnum) {
        return Some(("ELF section header table", shoff, shent * shnum));
    }
    if past(phoff, phent * phnum) {
        return Some(("ELF program header table", phoff, phent * phnum));
    }
    // Sections (not SHT_NOBITS) whose data is cut off.
    for i in 0..shnum {
        let h = usize::try_from(shoff + i * shent).ok()?;
        let (ty, off, size) = if class64 {
            (num(h + 4, 4)?, num(h + 24, 8)?, num(h + 32, 8)?)
        } else {
            (num(h + 4, 4)?, num(h + 16, 4)?, num(h + 20, 4)?)
        };
        if ty != 8 && past(off, size) {
            return Some(("ELF section data", off, size));
        }
    }
    None
}

/// For a 64-bit Mach-O file whose segments or symbol table lie past the end
/// of the data, what and where (after `object` refused it).
fn macho_past_end(data: &[u8]) -> Option<(String, u64, u64)> {
    let little = match data.get(..4)? {
        [0xcf, 0xfa, 0xed, 0xfe] => true,
        [0xfe, 0xed, 0xfa, 0xcf] => false,
        _ => return None,
    };
    let num = |off: usize, len: usize| -> Option<u64> {
        let b = data.get(off..off.checked_add(len)?)?;
        let mut v = 0u64;
        for i in 0..len {
            let byte = u64::from(if little { b[len - 1 - i] } else { b[i] });
            v = (v << 8) | byte;
        }
        Some(v)
    };
    let len = data.len() as u64;
    let past = |off: u64, size: u64| off.checked_add(size).is_none_or(|end| end > len);
    let ncmds = num(16, 4)?;
    let mut at = 32usize;
    for _ in 0..ncmds.min(4096) {
        let (cmd, size) = (num(at, 4)?, num(at + 4, 4)?);
        match cmd {
            // LC_SEGMENT_64
            0x19 => {
                let (off, sz) = (num(at + 40, 8)?, num(at + 48, 8)?);
                if past(off, sz) {
                    let name = data.get(at + 8..at + 24)?;
                    let name = String::from_utf8_lossy(name);
                    let name = name.trim_end_matches('\0');
                    return Some((format!("Mach-O segment {name}"), off, sz));
                }
            }
            // LC_SYMTAB
            0x2 => {
                let (symoff, nsyms) = (num(at + 8, 4)?, num(at + 12, 4)?);
                let (stroff, strsize) = (num(at + 16, 4)?, num(at + 20, 4)?);
                if past(symoff, nsyms * 16) {
                    return Some(("Mach-O symbol table".into(), symoff, nsyms * 16));
                }
                if past(stroff, strsize) {
                    return Some(("Mach-O string table".into(), stroff, strsize));
                }
            }
            _ => {}
        }
        at = at.checked_add(usize::try_from(size).ok().filter(|&s| s >= 8)?)?;
    }
    None
}

/// The first section or segment whose file range lies past the end of the
/// data (a truncated copy), as a [`SymbolsError::Truncated`].
pub(crate) fn find_truncation(
    path: &Path,
    obj: &object::File<'_>,
    data: &[u8],
) -> Option<SymbolsError> {
    use object::ObjectSegment as _;
    let len = data.len() as u64;
    let past = |off: u64, size: u64| off.checked_add(size).is_none_or(|end| end > len);
    let section = obj.sections().find_map(|s| {
        let (off, size) = s.file_range()?;
        past(off, size).then(|| {
            let name = match s.name() {
                Ok(n) => n.to_owned(),
                // PE long names live in the (cut off) string table.
                Err(_) => format!("#{}", s.index().0),
            };
            (format!("section {name}"), off, size)
        })
    });
    let segment = || {
        obj.segments().find_map(|s| {
            let (off, size) = s.file_range();
            past(off, size).then(|| {
                (
                    format!("segment {}", s.name().ok().flatten().unwrap_or("?")),
                    off,
                    size,
                )
            })
        })
    };
    let (what, offset, size) = section.or_else(segment)?;
    Some(SymbolsError::Truncated {
        path: path.to_owned(),
        what,
        offset,
        size,
        file_len: len,
    })
}

fn pe_dynamic_base(obj: &object::File<'_>) -> bool {
    use object::read::pe::{ImageNtHeaders as _, ImageOptionalHeader as _};
    let dll = match obj {
        object::File::Pe32(f) => f.nt_headers().optional_header().dll_characteristics(),
        object::File::Pe64(f) => f.nt_headers().optional_header().dll_characteristics(),
        _ => return false,
    };
    dll.0 & object::pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE.0 != 0
}

fn go_arch(a: object::Architecture) -> String {
    use object::Architecture as A;
    match a {
        A::X86_64 => "amd64".into(),
        A::Aarch64 => "arm64".into(),
        A::I386 => "386".into(),
        A::Arm => "arm".into(),
        A::PowerPc64 => "ppc64".into(),
        A::Riscv64 => "riscv64".into(),
        A::S390x => "s390x".into(),
        A::LoongArch64 => "loong64".into(),
        A::Mips64 => "mips64".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// One section to be loaded: where it is and how it is compressed.
struct Job<'a> {
    id: gimli::SectionId,
    name: String,
    offset: u64,
    format: CompressionFormat,
    data: &'a [u8],
    uncompressed_size: u64,
}

/// Loads the DWARF sections addr2line needs. `Ok(None)` when the binary has
/// no `.debug_info` or no `.debug_line` (stripped).
pub(crate) fn load_dwarf(
    path: &Path,
    obj: &object::File<'_>,
    file: &[u8],
    endian: gimli::RunTimeEndian,
) -> Result<Option<DwarfLoad>> {
    let mut jobs = Vec::new();
    for id in NEEDED {
        if let Some(job) = find_section(path, obj, file, id)? {
            jobs.push(job);
        }
    }
    let has = |id| {
        jobs.iter()
            .any(|j: &Job<'_>| j.id == id && j.uncompressed_size > 0)
    };
    if !has(gimli::SectionId::DebugInfo) || !has(gimli::SectionId::DebugLine) {
        return Ok(None);
    }

    // Decompress: big sections on their own threads, the rest here.
    let (big, small): (Vec<&Job<'_>>, Vec<&Job<'_>>) = jobs
        .iter()
        .partition(|j| j.format != CompressionFormat::None && j.data.len() as u64 >= PARALLEL_MIN);
    let mut loaded: Vec<(gimli::SectionId, Arc<[u8]>)> = Vec::with_capacity(jobs.len());
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        let (first, rest) = match big.split_first() {
            Some((f, r)) => (Some(*f), r),
            None => (None, &[][..]),
        };
        for job in rest {
            handles.push((job.id, scope.spawn(|| decompress(path, job))));
        }
        if let Some(job) = first {
            loaded.push((job.id, decompress(path, job)?));
        }
        for job in &small {
            loaded.push((job.id, decompress(path, job)?));
        }
        for (id, h) in handles {
            let data = h.join().map_err(|_| SymbolsError::Decompress {
                path: path.to_owned(),
                section: id.name().into(),
                offset: 0,
                reason: "decompression thread panicked".into(),
            })??;
            loaded.push((id, data));
        }
        Ok(())
    })?;

    let empty: Arc<[u8]> = Arc::new([]);
    let bytes = loaded.iter().map(|(_, d)| d.len() as u64).sum();
    let sections =
        gimli::DwarfSections::load(|id| -> Result<Arc<[u8]>, std::convert::Infallible> {
            Ok(loaded
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, d)| d.clone())
                .unwrap_or_else(|| empty.clone()))
        })
        .unwrap_or_else(|never| match never {});
    let mut dwarf = sections.borrow(|s| Reader::new(s.clone(), endian));
    dwarf.populate_abbreviations_cache(gimli::AbbreviationsCacheStrategy::Duplicates);
    let version = dwarf
        .units()
        .next()
        .ok()
        .flatten()
        .map(|h| h.version())
        .unwrap_or(0);
    Ok(Some(DwarfLoad {
        dwarf,
        version,
        bytes,
    }))
}

/// Finds one section in whichever spelling the container uses and checks its
/// bounds. `None` if absent.
fn find_section<'a>(
    path: &Path,
    obj: &object::File<'a>,
    file: &'a [u8],
    id: gimli::SectionId,
) -> Result<Option<Job<'a>>> {
    let name = id.name();
    // ELF: `.debug_x`, falling back to `.zdebug_x` (object does this);
    // Mach-O: `__debug_x` / `__zdebug_x` (object maps the names).
    let zname = format!(".zdebug_{}", name.trim_start_matches(".debug_"));
    let section = obj
        .section_by_name(name)
        .or_else(|| obj.section_by_name(&zname));
    let Some(section) = section else {
        return Ok(None);
    };
    let sname = section.name().unwrap_or(name).to_owned();
    if let Some((offset, size)) = section.file_range() {
        check_bounds(path, &format!("section {sname}"), offset, size, file.len())?;
    }
    let range = section
        .compressed_file_range()
        .map_err(|e| bad_section(path, &sname, e))?;
    let cdata = section
        .compressed_data()
        .map_err(|e| bad_section(path, &sname, e))?;
    let mut job = Job {
        id,
        name: sname,
        offset: range.offset,
        format: cdata.format,
        data: cdata.data,
        uncompressed_size: cdata.uncompressed_size,
    };
    // PE (and anything else `object` hands back raw): GNU-style
    // "ZLIB" + 8-byte big-endian size + zlib stream.
    if job.format == CompressionFormat::None && job.name.contains("zdebug") {
        let raw = job.data;
        let size = raw
            .get(4..12)
            .filter(|_| raw.starts_with(b"ZLIB"))
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes);
        match size {
            Some(size) => {
                job.format = CompressionFormat::Zlib;
                job.data = &raw[12..];
                job.offset += 12;
                job.uncompressed_size = size;
            }
            None => {
                return Err(SymbolsError::Decompress {
                    path: path.to_owned(),
                    section: job.name,
                    offset: job.offset,
                    reason: "no GNU \"ZLIB\" header".into(),
                });
            }
        }
    }
    Ok(Some(job))
}

fn bad_section(path: &Path, section: &str, e: object::Error) -> SymbolsError {
    SymbolsError::NotAnExecutable {
        path: path.to_owned(),
        reason: format!("section {section}: {e}"),
    }
}

/// Errors with [`SymbolsError::Truncated`] unless `offset..offset+size` lies
/// inside a file of `file_len` bytes.
pub(crate) fn check_bounds(
    path: &Path,
    what: &str,
    offset: u64,
    size: u64,
    file_len: usize,
) -> Result<()> {
    let file_len = file_len as u64;
    if offset.checked_add(size).is_none_or(|end| end > file_len) {
        return Err(SymbolsError::Truncated {
            path: path.to_owned(),
            what: what.to_owned(),
            offset,
            size,
            file_len,
        });
    }
    Ok(())
}

fn decompress(path: &Path, job: &Job<'_>) -> Result<Arc<[u8]>> {
    let err = |reason: String| SymbolsError::Decompress {
        path: path.to_owned(),
        section: job.name.clone(),
        offset: job.offset,
        reason,
    };
    if job.uncompressed_size > MAX_SECTION {
        return Err(err(format!(
            "header claims {} bytes, more than the {MAX_SECTION} accepted",
            job.uncompressed_size
        )));
    }
    match job.format {
        CompressionFormat::None => Ok(Arc::from(job.data)),
        CompressionFormat::Zlib => {
            let n = job.uncompressed_size;
            let max = (job.data.len() as u64)
                .saturating_mul(MAX_ZLIB_RATIO)
                .saturating_add(64);
            if n > max {
                return Err(err(format!(
                    "header claims {n} bytes from {} compressed bytes",
                    job.data.len()
                )));
            }
            let n = usize::try_from(n).map_err(|_| err("section too large".into()))?;
            // One allocation, decompressed in place.
            let mut out: Arc<[u8]> = std::iter::repeat_n(0u8, n).collect();
            let Some(buf) = Arc::get_mut(&mut out) else {
                return Err(err("internal: buffer shared".into()));
            };
            let mut z = flate2::Decompress::new(true);
            let status = z
                .decompress(job.data, buf, flate2::FlushDecompress::Finish)
                .map_err(|e| err(format!("zlib: {e}")))?;
            if status != flate2::Status::StreamEnd || z.total_out() != n as u64 {
                return Err(err(format!(
                    "zlib stream gave {} bytes, header says {n}",
                    z.total_out()
                )));
            }
            Ok(out)
        }
        CompressionFormat::Zstandard => {
            // Rare for Go (only external linking with zstd); `object`
            // decodes it (and refuses absurd sizes with an error).
            let n = job.uncompressed_size;
            if n > (job.data.len() as u64).saturating_mul(1 << 16) {
                return Err(err(format!(
                    "header claims {n} bytes from {} compressed bytes",
                    job.data.len()
                )));
            }
            let cd = object::CompressedData {
                format: CompressionFormat::Zstandard,
                data: job.data,
                uncompressed_size: n,
            };
            let v = cd.decompress().map_err(|e| err(format!("zstd: {e}")))?;
            Ok(Arc::from(&*v))
        }
        other => Err(err(format!("unsupported compression {other:?}"))),
    }
}

/// A binary's bytes: memory-mapped, or read when mapping is not possible.
pub(crate) enum FileBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Read(v) => v,
        }
    }
}

/// Maps (or reads) a whole file; `Io` errors name it.
///
/// Mapping touches only the pages we parse (headers, symbols, compressed
/// DWARF — about a third of a Go binary), which halves the load time of a
/// 25 MB binary compared with reading it. The map lives only while the
/// binary is being loaded: everything kept is copied or decompressed.
pub(crate) fn map_file(path: &Path) -> Result<FileBytes> {
    let io = |source| SymbolsError::Io {
        path: path.to_owned(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::other("not a regular file")));
    }
    if meta.len() > 0 {
        // SAFETY: the map is read-only and private to this load. The one
        // hazard is another process truncating the file in place while we
        // read it (SIGBUS); `go build`/`go test -c` replace their output
        // (remove + create, or rename) rather than truncate it, and the
        // window is the few milliseconds of one load.
        #[allow(unsafe_code)]
        if let Ok(m) = unsafe { memmap2::Mmap::map(&f) } {
            return Ok(FileBytes::Mapped(m));
        }
    }
    let mut v = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut v).map_err(io)?;
    Ok(FileBytes::Read(v))
}
