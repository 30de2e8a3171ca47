//! Opening one input file, the one way the CLI and the server do it:
//!
//! 1. `stat` first (following symlinks; a loop is named as such): only a
//!    regular file is opened — a directory, pipe, device or socket is
//!    refused by name, so a FIFO can never block us;
//! 2. the size limit (`goblock.maxTraceBytes`, `--max-trace-bytes`);
//! 3. `open` without blocking (`O_NONBLOCK`: the path may have been swapped
//!    for a FIFO since the `stat`) and the same checks on the opened file;
//! 4. [`sniff`] of the first [`SNIFF_BYTES`]: what is not a Go execution
//!    trace is refused with what it looks like ("a text file", "a gzip
//!    file", "an ELF binary", …) — never with the file's bytes;
//! 5. a read-only memory map, of the file itself or, with
//!    [`OpenOptions::snapshot`], of a private copy (a reflink, or an
//!    in-kernel copy, into an unnamed temporary file beside the trace). A
//!    file that is rewritten in place while its map is read makes the
//!    reader fault (SIGBUS); the copy cannot be rewritten, and its pages are
//!    file-backed, so resident memory stays small whatever the trace's size.
//!    The copy is refused as [`InputError::Changed`] when the file changed
//!    while it was copied. With [`OpenOptions::background`] it is made on a
//!    thread of its own while the input is read (`arrival.rs`). A map of
//!    the file itself is watched ([`crate::map_fault`]): cut short
//!    meanwhile, it ends the process with one line naming the file and the
//!    byte, never a crash.
//!
//! Nothing here reads a whole file into memory or decodes anything.

use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::arrival::{Arrival, Failure};

/// Bytes read from the start of a file to tell what it is (a goroutine
/// dump may follow a few kB of test or log output).
pub const SNIFF_BYTES: usize = goblock_dumps::sniff::SNIFF_BYTES;

/// Default of `goblock.maxTraceBytes` / `--max-trace-bytes`: 8 GiB. The
/// decoder's tables grow with the trace (peak memory about a quarter of the
/// trace's size), so larger files need the limit raised on purpose.
pub const DEFAULT_MAX_BYTES: u64 = 8 << 30;

/// What a file looks like, from its first bytes. Ordered by how specific the
/// test is; add new input kinds (goroutine dumps, pprof profiles) here and
/// in [`sniff`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A binary Go execution trace (`go 1.NN trace` header; the decoder
    /// checks the version), or the first bytes of one.
    GoTrace,
    /// A Go trace in Go's text form (`gotraceraw` output).
    GoTraceText,
    /// No bytes at all.
    Empty,
    /// Only zero bytes at the start (a sparse or not yet written file).
    Zeros,
    /// UTF-8 text.
    Text,
    /// gzip-compressed data.
    Gzip,
    /// zstd-compressed data.
    Zstd,
    /// bzip2-compressed data.
    Bzip2,
    /// xz-compressed data.
    Xz,
    /// A zip archive.
    Zip,
    /// An ELF executable or object.
    Elf,
    /// A Mach-O executable or object.
    MachO,
    /// A Windows (PE) executable.
    Pe,
    /// A goroutine dump (debug=2, panic, SIGQUIT, `go test -timeout`).
    GoroutineDump,
    /// A goroutine dump with a log collector's prefix on every line: not
    /// read, named so that the user can remove the prefix.
    PrefixedDump,
    /// A goroutine profile in debug=1 text.
    GoroutineProfileText,
    /// A block or mutex profile in debug=1 text.
    ContentionProfileText,
    /// A pprof profile.proto (gzip'ed or raw).
    Pprof,
    /// Anything else.
    Binary,
}

impl Kind {
    /// What the file is, as a noun phrase for messages ("a text file").
    pub fn describe(self) -> &'static str {
        match self {
            Kind::GoTrace => "a Go execution trace",
            Kind::GoTraceText => {
                "a Go trace in text form (gotraceraw output; convert it back with text2bytes)"
            }
            Kind::Empty => "an empty file",
            Kind::Zeros => "zero-filled data, as in a sparse or not yet written file",
            Kind::Text => "a text file",
            Kind::Gzip => "a gzip file",
            Kind::Zstd => "a zstd file",
            Kind::Bzip2 => "a bzip2 file",
            Kind::Xz => "an xz file",
            Kind::Zip => "a zip archive",
            Kind::Elf => "an ELF binary",
            Kind::MachO => "a Mach-O binary",
            Kind::Pe => "a Windows (PE) binary",
            Kind::GoroutineDump => "a goroutine dump",
            Kind::PrefixedDump => {
                "a goroutine dump with a prefix on every line (a log collector's timestamps?): \
                 remove the prefix to read it"
            }
            Kind::GoroutineProfileText => "a goroutine profile (text)",
            Kind::ContentionProfileText => "a block or mutex profile (text)",
            Kind::Pprof => "a pprof profile",
            Kind::Binary => "binary data of an unknown format",
        }
    }

    /// Why an input of this kind is not read, after its file name.
    pub fn refusal(self) -> String {
        match self {
            Kind::PrefixedDump => self.describe().to_owned(),
            k => format!("{} (not a Go execution trace)", k.describe()),
        }
    }

    /// Whether the trace decoder should see it.
    pub fn is_trace(self) -> bool {
        self == Kind::GoTrace
    }

    /// Whether it is a goroutine dump or a pprof profile (goblock-dumps'
    /// readers, `dumps.rs` and `profiles.rs`, take it).
    pub fn is_dump_or_profile(self) -> bool {
        matches!(
            self,
            Kind::GoroutineDump
                | Kind::GoroutineProfileText
                | Kind::ContentionProfileText
                | Kind::Pprof
        )
    }
}

/// Tells what `head` (the first bytes of a file, up to [`SNIFF_BYTES`]) is.
/// Looks at the bytes only; never returns any of them.
pub fn sniff(head: &[u8]) -> Kind {
    if head.is_empty() {
        return Kind::Empty;
    }
    if is_trace_header(head) {
        return Kind::GoTrace;
    }
    match goblock_dumps::sniff(head) {
        Some(goblock_dumps::InputKind::GoroutineDump) => return Kind::GoroutineDump,
        Some(goblock_dumps::InputKind::GoroutineProfileText) => {
            return Kind::GoroutineProfileText;
        }
        Some(goblock_dumps::InputKind::ContentionProfileText) => {
            return Kind::ContentionProfileText;
        }
        Some(goblock_dumps::InputKind::Pprof { .. }) => return Kind::Pprof,
        None => {}
    }
    const MAGIC: &[(&[u8], Kind)] = &[
        (b"Trace Go1.", Kind::GoTraceText),
        (&[0x1f, 0x8b], Kind::Gzip),
        (&[0x28, 0xb5, 0x2f, 0xfd], Kind::Zstd),
        (b"BZh", Kind::Bzip2),
        (&[0xfd, b'7', b'z', b'X', b'Z', 0], Kind::Xz),
        (b"PK\x03\x04", Kind::Zip),
        (b"PK\x05\x06", Kind::Zip),
        (b"\x7fELF", Kind::Elf),
        (&[0xcf, 0xfa, 0xed, 0xfe], Kind::MachO),
        (&[0xce, 0xfa, 0xed, 0xfe], Kind::MachO),
        (&[0xfe, 0xed, 0xfa, 0xcf], Kind::MachO),
        (&[0xfe, 0xed, 0xfa, 0xce], Kind::MachO),
        (&[0xca, 0xfe, 0xba, 0xbe], Kind::MachO),
        (b"MZ", Kind::Pe),
    ];
    if let Some((_, k)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return *k;
    }
    if head.iter().all(|&b| b == 0) {
        return Kind::Zeros;
    }
    if is_text(head) {
        if goblock_dumps::sniff::is_prefixed_dump(head) {
            return Kind::PrefixedDump;
        }
        return Kind::Text;
    }
    Kind::Binary
}

/// `go 1.<digits> trace`, or a prefix of it (a file whose header is still
/// being written): the decoder reports what is wrong with the version or
/// the length.
fn is_trace_header(head: &[u8]) -> bool {
    const START: &[u8] = b"go 1.";
    const END: &[u8] = b" trace";
    let n = head.len().min(START.len());
    if head[..n] != START[..n] {
        return false;
    }
    let rest = &head[n..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = &rest[digits..];
    if rest.is_empty() {
        return true;
    }
    if digits == 0 {
        return false;
    }
    let m = rest.len().min(END.len());
    rest[..m] == END[..m]
}

/// Valid UTF-8 (a character cut at the end of `head` is fine) without
/// control characters other than whitespace and escape.
fn is_text(head: &[u8]) -> bool {
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    utf8 && !head
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
}

/// Size, modification time and identity of a file, to notice rewrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Bytes.
    pub len: u64,
    /// Modification time.
    pub mtime: SystemTime,
    /// Inode number (0 where there is none): a file replaced by a rename
    /// may keep its size and time.
    pub ino: u64,
}

impl Stamp {
    /// The stamp of the file at `path` now (following symlinks).
    pub fn of(path: &Path) -> io::Result<Stamp> {
        Ok(Stamp::from_meta(&std::fs::metadata(path)?))
    }

    pub(crate) fn from_meta(m: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(m);
        #[cfg(not(unix))]
        let ino = 0;
        Stamp {
            len: m.len(),
            mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            ino,
        }
    }
}

/// What kind of non-regular file a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRegular {
    /// A directory.
    Directory,
    /// A named pipe (FIFO).
    Pipe,
    /// A character or block device.
    Device,
    /// A unix socket.
    Socket,
    /// Anything else.
    Other,
}

impl NotRegular {
    fn of(ft: std::fs::FileType) -> Option<NotRegular> {
        if ft.is_file() {
            return None;
        }
        if ft.is_dir() {
            return Some(NotRegular::Directory);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt as _;
            if ft.is_fifo() {
                return Some(NotRegular::Pipe);
            }
            if ft.is_char_device() || ft.is_block_device() {
                return Some(NotRegular::Device);
            }
            if ft.is_socket() {
                return Some(NotRegular::Socket);
            }
        }
        Some(NotRegular::Other)
    }
}

impl std::fmt::Display for NotRegular {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotRegular::Directory => "is a directory",
            NotRegular::Pipe => "is a pipe (FIFO), not a regular file",
            NotRegular::Device => "is a device, not a regular file",
            NotRegular::Socket => "is a socket, not a regular file",
            NotRegular::Other => "not a regular file",
        })
    }
}

/// Why an input could not be opened. Every message is one line that names
/// the file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be read.
    #[error("{}: {}", path.display(), io_reason(source))]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// Symbolic links that lead back to themselves.
    #[error("{}: a symbolic link loop", path.display())]
    SymlinkLoop {
        /// File.
        path: PathBuf,
    },
    /// Not a regular file.
    #[error("{}: {what}", path.display())]
    NotRegular {
        /// File.
        path: PathBuf,
        /// What it is instead.
        what: NotRegular,
    },
    /// Larger than the configured limit.
    #[error("{}: {} is over the {setting} limit of {}", path.display(), size(*len), size(*limit))]
    TooLarge {
        /// File.
        path: PathBuf,
        /// Its size.
        len: u64,
        /// The limit.
        limit: u64,
        /// The setting or option that sets it.
        setting: &'static str,
    },
    /// Not a Go execution trace.
    #[error("{}: {}", path.display(), kind.refusal())]
    NotATrace {
        /// File.
        path: PathBuf,
        /// What it looks like.
        kind: Kind,
    },
    /// The file changed while it was copied.
    #[error("{}: the file changed while it was read (still being written?)", path.display())]
    Changed {
        /// File.
        path: PathBuf,
    },
}

impl InputError {
    /// Whether the file may simply not be written completely yet (empty,
    /// zero-filled, changing): worth another try once it changed or settled.
    pub fn may_be_incomplete(&self) -> bool {
        matches!(
            self,
            InputError::Changed { .. }
                | InputError::NotATrace {
                    kind: Kind::Empty | Kind::Zeros,
                    ..
                }
        )
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            InputError::Io { path, .. }
            | InputError::SymlinkLoop { path }
            | InputError::NotRegular { path, .. }
            | InputError::TooLarge { path, .. }
            | InputError::NotATrace { path, .. }
            | InputError::Changed { path } => path,
        }
    }
}

/// `1.2 GB (1234567890 bytes)`.
fn size(n: u64) -> String {
    if n < 10_000 {
        return format!("{n} bytes");
    }
    let (v, unit) = if n >= 1_000_000_000 {
        (n as f64 / 1e9, "GB")
    } else if n >= 1_000_000 {
        (n as f64 / 1e6, "MB")
    } else {
        (n as f64 / 1e3, "kB")
    };
    format!("{v:.1} {unit} ({n} bytes)")
}

/// Parses a size limit: bytes, optionally with a binary suffix (`512M`,
/// `8G`, `8GiB`, `1T`); `0`, `none` or `unlimited` mean no limit (0).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("none") || s.eq_ignore_ascii_case("unlimited") {
        return Some(0);
    }
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..digits].parse().ok()?;
    let unit = s[digits..].trim().to_ascii_lowercase();
    let shift = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

/// How to open an input.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Refuse larger files (0: no limit).
    pub max_bytes: u64,
    /// The setting that sets `max_bytes`, for the message.
    pub max_bytes_setting: &'static str,
    /// Map a private copy instead of the file itself (for files that may be
    /// rewritten while they are read: the server's).
    pub snapshot: bool,
    /// With `snapshot`: make the copy on a thread of its own while the
    /// input is read (Linux; elsewhere before it is opened). The bytes are
    /// then valid only as far as [`Input::arriving`] says, and
    /// [`Input::wait_whole`] waits for them all.
    pub background: bool,
    /// Tests only: the background copy's steps (bytes) and a pause after
    /// each, so that the reader catches up with the copy.
    #[doc(hidden)]
    pub copy_steps: Option<(usize, std::time::Duration)>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            max_bytes_setting: "--max-trace-bytes",
            snapshot: false,
            background: false,
            copy_steps: None,
        }
    }
}

/// An opened input: its stamp, what it is, and its bytes (mapped).
pub struct Input {
    path: PathBuf,
    stamp: Stamp,
    kind: Kind,
    /// A map of the file itself, watched for the file being cut short
    /// ([`crate::map_fault`]); declared before `map`, so dropped first.
    _watched: Option<crate::map_fault::Watched>,
    map: Option<memmap2::Mmap>,
    /// Bytes per request of [`Input::prefetch`] ([`prefetch_request`]).
    prefetch_request: usize,
    copied: bool,
    /// The copy still being made ([`OpenOptions::background`]).
    arrival: Option<Arc<Arrival>>,
}

impl Drop for Input {
    fn drop(&mut self) {
        if let Some(a) = &self.arrival {
            a.stop();
        }
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("path", &self.path)
            .field("stamp", &self.stamp)
            .field("kind", &self.kind)
            .field("copied", &self.copied)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// The path it was opened as.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's stamp when it was opened (and, for a copy, unchanged
    /// until the copy was complete).
    pub fn stamp(&self) -> Stamp {
        self.stamp
    }

    /// What it is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Whether the bytes are a private copy ([`OpenOptions::snapshot`];
    /// `false` when no copy could be made and the file itself is mapped).
    pub fn is_copy(&self) -> bool {
        self.copied
    }

    /// All bytes (mapped: pages are read when touched). While a copy is
    /// still being made, only as far as [`Input::arriving`] says.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// How far the copy has got, while it is being made
    /// ([`OpenOptions::background`]); `None` when all bytes are there.
    pub fn arriving(&self) -> Option<Arc<dyn goblock_trace::Arriving>> {
        let a = self.arrival.as_ref()?;
        Some(Arc::clone(a) as Arc<dyn goblock_trace::Arriving>)
    }

    /// Waits until all bytes are there: `Err` when the copy failed (the file
    /// changed while it was copied, or no room was left).
    pub fn wait_whole(&self) -> Result<(), InputError> {
        self.copy_failure().map_or(Ok(()), Err)
    }

    /// After a read of the bytes failed: whether that is because the copy
    /// being made failed (waiting for the copy to end first). The decoder
    /// may have failed on bytes of a file rewritten while it was copied,
    /// which only the copy's end tells.
    pub fn copy_failure(&self) -> Option<InputError> {
        let a = self.arrival.as_ref()?;
        a.wait_done().err().map(|f| self.arrival_error(f))
    }

    /// Whether the copy being made has already failed (without waiting).
    pub fn copy_failed_now(&self) -> bool {
        self.arrival.as_ref().is_some_and(|a| a.failure().is_some())
    }

    fn arrival_error(&self, f: Failure) -> InputError {
        match f {
            Failure::Changed => InputError::Changed {
                path: self.path.clone(),
            },
            Failure::Io(kind) => InputError::Io {
                path: self.path.clone(),
                source: io::Error::new(kind, "copying the file failed"),
            },
        }
    }

    /// Asks the kernel to start reading the pages of `range` into memory,
    /// without waiting for them: called ahead of the decoder. In requests
    /// of the device's readahead size ([`prefetch_request`]).
    pub fn prefetch(&self, range: std::ops::Range<usize>) {
        #[cfg(unix)]
        if let Some(map) = &self.map {
            let end = range.end.min(map.len());
            let mut at = range.start;
            while at < end {
                let len = self.prefetch_request.min(end - at);
                let _ = map.advise_range(memmap2::Advice::WillNeed, at, len);
                at += len;
            }
        }
        #[cfg(not(unix))]
        let _ = range;
    }

    /// Lets the kernel drop the pages of `range` from memory (they are read
    /// again if touched): called behind the decoder as it advances.
    pub fn release(&self, range: std::ops::Range<usize>) {
        #[cfg(unix)]
        if let Some(map) = &self.map {
            let end = range.end.min(map.len());
            if range.start < end {
                // SAFETY: a read-only private file mapping: dropped pages
                // are read from the file again if touched.
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        range.start,
                        end - range.start,
                    )
                };
            }
        }
        #[cfg(not(unix))]
        let _ = range;
    }
}

/// Bytes per request of [`Input::prefetch`] for the device holding a file
/// of metadata `meta`: Linux reads at most the larger of the device's
/// `read_ahead_kb` and `max_sectors_kb` per request and silently drops the
/// rest (8 MB on the VM here, 128 KB on many disks). When sysfs does not
/// say (no block device: tmpfs, overlay, btrfs), the kernel's default
/// readahead, 128 KB. Other systems have no such limit to read, and ask in
/// requests of 1 MB. Never above 8 MB, so a request stays short. Cached
/// pages cost little to ask for again: 220 requests of 1 MB, 0.9 ms.
fn prefetch_request(meta: &std::fs::Metadata) -> usize {
    let (read_ahead_kb, max_sectors_kb) = device_queue(meta);
    request_bytes(read_ahead_kb, max_sectors_kb)
}

/// The request size for a device's `read_ahead_kb` and `max_sectors_kb`.
fn request_bytes(read_ahead_kb: Option<u64>, max_sectors_kb: Option<u64>) -> usize {
    let kb = read_ahead_kb.unwrap_or(0).max(max_sectors_kb.unwrap_or(0));
    let kb = if kb == 0 { 128 } else { kb.clamp(128, 8 << 10) };
    usize::try_from(kb << 10).unwrap_or(128 << 10)
}

/// `read_ahead_kb` and `max_sectors_kb` of the block device holding a file
/// (a partition's queue is its disk's), when sysfs says.
#[cfg(target_os = "linux")]
fn device_queue(meta: &std::fs::Metadata) -> (Option<u64>, Option<u64>) {
    use std::os::unix::fs::MetadataExt;
    let dev = meta.dev();
    let dir = PathBuf::from(format!(
        "/sys/dev/block/{}:{}",
        libc::major(dev),
        libc::minor(dev)
    ));
    let read = |name: &str| {
        [dir.join("queue"), dir.join("../queue")]
            .iter()
            .find_map(|q| {
                std::fs::read_to_string(q.join(name))
                    .ok()?
                    .trim()
                    .parse()
                    .ok()
            })
    };
    (read("read_ahead_kb"), read("max_sectors_kb"))
}

#[cfg(not(target_os = "linux"))]
fn device_queue(_: &std::fs::Metadata) -> (Option<u64>, Option<u64>) {
    (None, Some(1 << 10))
}

/// The metadata of `path` (following symlinks) if it is a regular file;
/// else why not ("is a pipe (FIFO), not a regular file", "a symbolic link
/// loop", "no such file or directory"), naming the path. Opens nothing.
pub fn regular_file(path: &Path) -> Result<std::fs::Metadata, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| classify(path, e))?;
    if let Some(what) = NotRegular::of(meta.file_type()) {
        return Err(InputError::NotRegular {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(meta)
}

/// Opens `path` (see the module documentation for the steps). Refuses
/// anything that is not a regular file holding a Go execution trace.
pub fn open(path: &Path, opts: &OpenOptions) -> Result<Input, InputError> {
    let io = |source: io::Error| classify(path, source);
    let (file, stamp, kind) = checked(path, opts, SNIFF_BYTES, &mut Vec::new())?;
    let mut arrival = None;
    let (mapped, copied) = if opts.snapshot && opts.background && cfg!(target_os = "linux") {
        match copy_target(&file, path, stamp.len) {
            Ok((copy, true)) => (copy, true),
            Ok((copy, false)) => {
                let started = file
                    .try_clone()
                    .and_then(|src| Ok((src, copy.try_clone()?)))
                    .and_then(|(src, dst)| Arrival::start(src, dst, stamp, opts.copy_steps));
                match started {
                    Ok(a) => {
                        arrival = Some(a);
                        (copy, true)
                    }
                    Err(_) => (file, false),
                }
            }
            // No room or no writable place for a copy: map the file itself.
            Err(_) => (file, false),
        }
    } else if opts.snapshot {
        match private_copy(&file, path, stamp.len) {
            Ok(copy) => {
                let after = Stamp::from_meta(&file.metadata().map_err(io)?);
                if after != stamp {
                    return Err(InputError::Changed {
                        path: path.to_path_buf(),
                    });
                }
                (copy, true)
            }
            // No room or no writable place for a copy: map the file itself.
            Err(_) => (file, false),
        }
    } else {
        (file, false)
    };
    let prefetch_request = mapped
        .metadata()
        .map_or(128 << 10, |m| prefetch_request(&m));
    let map = if stamp.len == 0 {
        None
    } else {
        // SAFETY: a read-only map. Of a private copy nobody else can
        // write; of the file itself only when the caller accepts that
        // another process truncating it meanwhile makes us fault (the CLI,
        // on files the user named).
        let len = usize::try_from(stamp.len).map_err(|_| InputError::TooLarge {
            path: path.to_path_buf(),
            len: stamp.len,
            limit: usize::MAX as u64,
            setting: "address space",
        })?;
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(&mapped) }.map_err(io)?;
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        Some(map)
    };
    // A file mapped as it is may be cut short by another program: a clear
    // message and exit instead of a crash when that faults.
    let _watched = map
        .as_ref()
        .filter(|_| !copied)
        .map(|m| crate::map_fault::watch(m.as_ptr(), m.len(), path));
    Ok(Input {
        path: path.to_path_buf(),
        stamp,
        kind,
        _watched,
        map,
        prefetch_request,
        copied,
        arrival,
    })
}

/// The beginning of a file, read — not mapped: a file truncated meanwhile
/// yields fewer bytes, never a fault — and the file open to read on
/// ([`Head::read_to`]).
pub struct Head {
    file: File,
    path: PathBuf,
    /// The bytes read so far, from the file's start.
    pub bytes: Vec<u8>,
    /// The file's stamp when opened.
    pub stamp: Stamp,
    /// What its first bytes are.
    pub kind: Kind,
}

impl Head {
    /// Reads on until `n` bytes are held (fewer at the end of the file).
    pub fn read_to(&mut self, n: usize) -> Result<(), InputError> {
        let more = n.saturating_sub(self.bytes.len()) as u64;
        (&mut self.file)
            .take(more)
            .read_to_end(&mut self.bytes)
            .map_err(|e| classify(&self.path, e))?;
        Ok(())
    }
}

/// The first `max` bytes of `path` (at least the sniffed ones), after the
/// same checks as [`open`], with its stamp and kind. For a quick look at
/// the beginning of a large file (the server's preview) before, or
/// without, a private copy of all of it.
pub fn read_head(path: &Path, opts: &OpenOptions, max: usize) -> Result<Head, InputError> {
    let mut bytes = Vec::new();
    let (file, stamp, kind) = checked(path, opts, max.max(SNIFF_BYTES), &mut bytes)?;
    Ok(Head {
        file,
        path: path.to_path_buf(),
        bytes,
        stamp,
        kind,
    })
}

/// Steps 1–4 of the module documentation: the opened file (positioned
/// after what was read into `head`: `read` bytes at most), its stamp and
/// its kind.
fn checked(
    path: &Path,
    opts: &OpenOptions,
    read: usize,
    head: &mut Vec<u8>,
) -> Result<(File, Stamp, Kind), InputError> {
    let io = |source: io::Error| classify(path, source);
    let meta = regular_file(path)?;
    check(path, &meta, opts)?;
    let mut file = open_nonblocking(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    check(path, &meta, opts)?;
    let stamp = Stamp::from_meta(&meta);
    head.clear();
    head.reserve(read.min(stamp.len as usize));
    (&mut file)
        .take(read as u64)
        .read_to_end(head)
        .map_err(io)?;
    let kind = sniff(&head[..head.len().min(SNIFF_BYTES)]);
    if !kind.is_trace() && !kind.is_dump_or_profile() {
        return Err(InputError::NotATrace {
            path: path.to_path_buf(),
            kind,
        });
    }
    Ok((file, stamp, kind))
}

fn check(path: &Path, meta: &std::fs::Metadata, opts: &OpenOptions) -> Result<(), InputError> {
    if let Some(what) = NotRegular::of(meta.file_type()) {
        return Err(InputError::NotRegular {
            path: path.to_path_buf(),
            what,
        });
    }
    if opts.max_bytes > 0 && meta.len() > opts.max_bytes {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            len: meta.len(),
            limit: opts.max_bytes,
            setting: opts.max_bytes_setting,
        });
    }
    Ok(())
}

/// Why an I/O operation failed, in the words of the CLI and the server
/// alike: "no such file or directory", "permission denied", else the
/// system's message without Rust's "(os error N)" tail.
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.rfind(" (os error ") {
                Some(i) if s.ends_with(')') => s[..i].to_owned(),
                _ => s,
            }
        }
    }
}

fn classify(path: &Path, source: io::Error) -> InputError {
    #[cfg(unix)]
    if source.raw_os_error() == Some(libc::ELOOP) {
        return InputError::SymlinkLoop {
            path: path.to_path_buf(),
        };
    }
    InputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Opens for reading without ever blocking (a FIFO swapped in after the
/// `stat` opens at once; the checks on the opened file then refuse it).
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut o, libc::O_NONBLOCK | libc::O_NOCTTY);
    o.open(path)
}

/// A private copy of the first `len` bytes of `src`, in an unnamed
/// temporary file ([`beside_or_temp`]): a reflink where the file system has
/// them, else an in-kernel copy.
fn private_copy(src: &File, path: &Path, len: u64) -> io::Result<File> {
    beside_or_temp(path, |dir| {
        let dst = unnamed_file(dir)?;
        copy_into(src, &dst, len)?;
        Ok(dst)
    })
}

/// An unnamed temporary file of `len` bytes ([`beside_or_temp`]) for a
/// private copy of `src`, and whether it already is one (a reflink); else
/// it reads as zeros, holes for the copy to fill.
fn copy_target(src: &File, path: &Path, len: u64) -> io::Result<(File, bool)> {
    beside_or_temp(path, |dir| {
        let dst = unnamed_file(dir)?;
        if reflink(src, &dst, len)? {
            return Ok((dst, true));
        }
        dst.set_len(len)?;
        Ok((dst, false))
    })
}

/// `make` in the directory of `path` (the same file system, where reflinks
/// and in-kernel copies work), else in the temporary directory: the first
/// that succeeds.
fn beside_or_temp<T>(path: &Path, mut make: impl FnMut(&Path) -> io::Result<T>) -> io::Result<T> {
    let beside = path.parent().filter(|p| !p.as_os_str().is_empty());
    let mut last = io::Error::other("no temporary directory");
    for dir in beside
        .map(Path::to_path_buf)
        .into_iter()
        .chain([std::env::temp_dir()])
    {
        match make(&dir) {
            Ok(t) => return Ok(t),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Makes `dst` share `src`'s blocks copy-on-write, where the file system
/// can (btrfs, XFS, bcachefs): `Ok(false)` where it cannot.
fn reflink(src: &File, dst: &File, len: u64) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd as _;
        // FICLONE: share the blocks copy-on-write.
        const FICLONE: libc::c_ulong = 0x4004_9409;
        // SAFETY: both descriptors are open for the duration of the call.
        if unsafe { libc::ioctl(dst.as_raw_fd(), FICLONE as _, src.as_raw_fd()) } == 0 {
            return if dst.metadata()?.len() == len {
                Ok(true)
            } else {
                Err(io::Error::other("the file changed while it was copied"))
            };
        }
    }
    let _ = (src, dst, len);
    Ok(false)
}

#[cfg(target_os = "linux")]
fn unnamed_file(dir: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn unnamed_file(dir: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = dir.join(format!(
        ".goblock-{}-{}.tmp",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&name)?;
    std::fs::remove_file(&name)?;
    Ok(f)
}

#[cfg(not(unix))]
fn unnamed_file(_dir: &Path) -> io::Result<File> {
    Err(io::Error::other("no unnamed temporary files here"))
}

fn copy_into(src: &File, dst: &File, len: u64) -> io::Result<()> {
    if reflink(src, dst, len)? {
        return Ok(());
    }
    // Only the data: the holes of a sparse file stay holes in the copy.
    dst.set_len(len)?;
    crate::arrival::copy_data(src, dst, len, len, |_| true)?;
    Ok(())
}

/// The next range of `src` at or after `pos` (below `len`) that holds data
/// (`SEEK_DATA`/`SEEK_HOLE`); everything left where holes are not known.
pub(crate) fn next_data(src: &File, pos: u64, len: u64) -> io::Result<Option<(u64, u64)>> {
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
    {
        use std::os::fd::AsRawFd as _;
        let seek = |off: u64, whence| {
            // SAFETY: lseek on an open descriptor.
            let r = unsafe { libc::lseek(src.as_raw_fd(), off as libc::off_t, whence) };
            if r < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(r as u64)
            }
        };
        match seek(pos, libc::SEEK_DATA) {
            Ok(start) if start >= len => return Ok(None),
            Ok(start) => {
                let end = seek(start, libc::SEEK_HOLE).unwrap_or(len).min(len);
                return Ok(Some((start, end.max(start + 1).min(len))));
            }
            // No data after `pos`.
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Ok(None),
            // Holes unknown to this file system: copy everything.
            Err(_) => {}
        }
    }
    Ok(Some((pos, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetch_requests_are_the_devices_readahead() {
        const KB: usize = 1 << 10;
        // The larger of the two, as the kernel caps a request.
        assert_eq!(request_bytes(Some(8192), Some(4096)), 8192 * KB);
        assert_eq!(request_bytes(Some(128), Some(1280)), 1280 * KB);
        // Readahead off: the largest request still reads.
        assert_eq!(request_bytes(Some(0), Some(512)), 512 * KB);
        // Unknown, or absurd: the kernel's default, at most 8 MB.
        assert_eq!(request_bytes(None, None), 128 * KB);
        assert_eq!(request_bytes(Some(0), Some(0)), 128 * KB);
        assert_eq!(request_bytes(Some(4), None), 128 * KB);
        assert_eq!(request_bytes(Some(1 << 20), None), 8192 * KB);
        // This machine's: whatever the device, within those bounds.
        let meta = std::fs::metadata(std::env::current_exe().unwrap()).unwrap();
        let r = prefetch_request(&meta);
        assert!((128 * KB..=8192 * KB).contains(&r), "{r}");
    }

    #[test]
    fn sniffs() {
        assert_eq!(sniff(b""), Kind::Empty);
        assert_eq!(sniff(b"go 1.26 trace\0\0\0"), Kind::GoTrace);
        assert_eq!(sniff(b"go 1.2"), Kind::GoTrace);
        assert_eq!(sniff(b"go 1.99 trace\0\0\0"), Kind::GoTrace);
        assert_eq!(sniff(b"go 1.22 is the version\n"), Kind::Text);
        assert_eq!(
            sniff(b"2026-12-02T14:44:58Z stderr F goroutine 1 [running]:\n2026-12-02T14:44:58Z stderr F \t/src/main.go:12 +0x1d\n"),
            Kind::PrefixedDump
        );
        assert_eq!(sniff(b"go 1.x"), Kind::Text);
        assert_eq!(sniff(b"root:$6$salt$hash:19000:0:99999:7:::\n"), Kind::Text);
        assert_eq!(sniff("gr\u{fc}n\n".as_bytes()), Kind::Text);
        // A character cut by the sniff window is still text.
        assert_eq!(sniff(&"\u{fc}".as_bytes()[..1]), Kind::Text);
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Kind::Gzip);
        assert_eq!(sniff(b"\x7fELF\x02\x01"), Kind::Elf);
        assert_eq!(sniff(b"MZ\x90\0"), Kind::Pe);
        assert_eq!(sniff(&[0; 4096]), Kind::Zeros);
        assert_eq!(sniff(&[0, 1, 2, 3, 0xff]), Kind::Binary);
        assert_eq!(sniff(b"Trace Go1.22\n"), Kind::GoTraceText);
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("goblock-input-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// The snapshot is a private copy: the file truncated and rewritten
    /// while its bytes are read changes nothing (and cannot fault); holes of
    /// a sparse file are not written out.
    #[test]
    fn snapshot_outlives_a_rewrite_and_keeps_holes() {
        let d = scratch("snap");
        let p = d.join("t.trace");
        let mut data = b"go 1.26 trace\0\0\0".to_vec();
        data.extend((0..100_000u32).map(|i| (i % 251) as u8));
        std::fs::write(&p, &data).unwrap();
        {
            use std::io::{Seek as _, Write as _};
            let mut f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            f.seek(io::SeekFrom::Start(64 << 20)).unwrap();
            f.write_all(b"tail").unwrap();
        }
        let len = (64 << 20) + 4;
        let opts = OpenOptions {
            snapshot: true,
            ..Default::default()
        };
        let input = open(&p, &opts).unwrap();
        assert!(input.is_copy());
        assert_eq!(input.stamp().len, len);
        std::fs::write(&p, b"go 1.26 trace\0\0\0 rewritten").unwrap();
        let b = input.bytes();
        assert_eq!(b.len() as u64, len);
        assert_eq!(&b[..data.len()], &data[..]);
        assert!(b[data.len()..(64 << 20)].iter().all(|&x| x == 0));
        assert_eq!(&b[(64 << 20)..], b"tail");
        drop(input);
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("512 MiB"), Some(512 << 20));
        assert_eq!(parse_size("none"), Some(0));
        assert_eq!(parse_size("12 apples"), None);
        assert_eq!(parse_size("99999999999T"), None);
    }

    #[test]
    fn messages_never_echo_bytes() {
        let e = InputError::NotATrace {
            path: "/etc/shadow".into(),
            kind: sniff(b"root:secret"),
        };
        assert_eq!(
            e.to_string(),
            "/etc/shadow: a text file (not a Go execution trace)"
        );
        let e = InputError::TooLarge {
            path: "big.trace".into(),
            len: 107_374_182_400,
            limit: DEFAULT_MAX_BYTES,
            setting: "goblock.maxTraceBytes",
        };
        assert_eq!(
            e.to_string(),
            "big.trace: 107.4 GB (107374182400 bytes) is over the goblock.maxTraceBytes limit of 8.6 GB (8589934592 bytes)"
        );
    }
}
