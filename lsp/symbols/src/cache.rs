//! [`Symbolizer`]: the process-wide cache of opened binaries, safe to share
//! between the server's threads.
//!
//! Two keys: the file's identity (path, size, mtime, inode) answers a
//! re-open without touching the file's contents; the binary's identity (Go
//! build ID or GNU build ID or content hash, plus the length — see
//! [`crate::BinaryInfo::key`]) answers the same binary under another path
//! or after a `touch`, at the cost of parsing its headers. Opening a binary
//! that is not cached happens outside the lock; two threads opening the
//! same new binary at once both load it and one copy wins. The cache holds
//! at most `capacity` binaries (least recently used go first). Errors are
//! not cached (the file may be fixed or rebuilt).
//!
//! Candidates are [`Symbolizer::probe`]d first: their Go build ID, read
//! from the first pages of the file and cached by file identity, costs a
//! `stat` the next time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use crate::binary::{self, Binary};
use crate::error::{Result, SymbolsError};
use crate::load;

/// Default number of binaries kept.
pub const DEFAULT_CAPACITY: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct FileKey {
    path: PathBuf,
    len: u64,
    mtime: Option<SystemTime>,
    ino: u64,
}

impl FileKey {
    fn of(path: &Path) -> Result<FileKey> {
        let io = |source| SymbolsError::Io {
            path: path.to_owned(),
            source,
        };
        let canonical = std::fs::canonicalize(path).map_err(io)?;
        let meta = std::fs::metadata(&canonical).map_err(io)?;
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let ino = 0;
        Ok(FileKey {
            path: canonical,
            len: meta.len(),
            mtime: meta.modified().ok(),
            ino,
        })
    }
}

struct Entry {
    binary: Arc<Binary>,
    used: u64,
}

#[derive(Default)]
struct State {
    by_key: HashMap<String, Entry>,
    by_file: HashMap<FileKey, String>,
    probes: HashMap<FileKey, Probe>,
    tick: u64,
}

/// Probes kept at most (a few bytes each; cleared when full).
const MAX_PROBES: usize = 4096;

/// What a file is, from its first pages only ([`Symbolizer::probe`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The Go build ID, when the first pages hold one.
    pub go_build_id: Option<String>,
}

impl State {
    fn get(&mut self, key: &str) -> Option<Arc<Binary>> {
        self.tick += 1;
        let tick = self.tick;
        self.by_key.get_mut(key).map(|e| {
            e.used = tick;
            e.binary.clone()
        })
    }

    fn insert(&mut self, file: FileKey, binary: Arc<Binary>, capacity: usize) -> Arc<Binary> {
        let key = binary.info().key.clone();
        self.by_file.insert(file, key.clone());
        if let Some(existing) = self.get(&key) {
            return existing;
        }
        self.tick += 1;
        self.by_key.insert(
            key,
            Entry {
                binary: binary.clone(),
                used: self.tick,
            },
        );
        while self.by_key.len() > capacity.max(1) {
            let Some(oldest) = self
                .by_key
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.by_key.remove(&oldest);
            self.by_file.retain(|_, k| *k != oldest);
        }
        binary
    }
}

/// A cache of opened binaries. `Send + Sync`; use [`Symbolizer::global`]
/// or keep your own.
pub struct Symbolizer {
    state: Mutex<State>,
    capacity: usize,
}

impl Default for Symbolizer {
    fn default() -> Self {
        Symbolizer::new(DEFAULT_CAPACITY)
    }
}

impl Symbolizer {
    /// A cache holding at most `capacity` binaries.
    pub fn new(capacity: usize) -> Symbolizer {
        Symbolizer {
            state: Mutex::new(State::default()),
            capacity,
        }
    }

    /// The process-wide cache.
    pub fn global() -> &'static Symbolizer {
        static GLOBAL: OnceLock<Symbolizer> = OnceLock::new();
        GLOBAL.get_or_init(Symbolizer::default)
    }

    /// Opens `path`, or returns the cached binary with the same identity.
    pub fn open(&self, path: &Path) -> Result<Arc<Binary>> {
        let file = FileKey::of(path)?;
        {
            let mut st = self.lock();
            if let Some(key) = st.by_file.get(&file).cloned()
                && let Some(b) = st.get(&key)
            {
                return Ok(b);
            }
        }
        let data = load::map_file(path)?;
        let key = binary::identity(path, &data)?;
        {
            let mut st = self.lock();
            if let Some(b) = st.get(&key) {
                st.by_file.insert(file, key);
                return Ok(b);
            }
        }
        let b = Arc::new(Binary::from_bytes(path, &data)?);
        drop(data);
        Ok(self.lock().insert(file, b, self.capacity))
    }

    /// The Go build ID of `path`, read from its first pages only
    /// ([`crate::buildid::read_go_build_id`]; for a Mach-O binary linked
    /// externally, whose ID is at the start of its text, the headers are
    /// parsed too) — cached by the file's path, size, modification time
    /// and inode, so asking again costs a `stat`.
    pub fn probe(&self, path: &Path) -> Result<Probe> {
        let file = FileKey::of(path)?;
        if let Some(p) = self.lock().probes.get(&file) {
            return Ok(p.clone());
        }
        let io = |source| SymbolsError::Io {
            path: path.to_owned(),
            source,
        };
        // Never open a FIFO or a device (opening may block).
        if !std::fs::metadata(path).map_err(io)?.is_file() {
            return Err(io(std::io::Error::other("not a regular file")));
        }
        let mut go_build_id = crate::buildid::read_go_build_id(path).map_err(io)?;
        if go_build_id.is_none() && is_macho(path) {
            let data = load::map_file(path)?;
            if let Ok((obj, _)) = load::parse(path, &data) {
                go_build_id = crate::buildid::go_build_id(&obj, &data);
            }
        }
        let probe = Probe { go_build_id };
        let mut st = self.lock();
        if st.probes.len() >= MAX_PROBES {
            st.probes.clear();
        }
        st.probes.insert(file, probe.clone());
        Ok(probe)
    }

    /// Whether `path`, as it is on disk now, is open in this cache
    /// (opening it again costs a `stat`).
    pub fn is_open(&self, path: &Path) -> bool {
        let Ok(file) = FileKey::of(path) else {
            return false;
        };
        let st = self.lock();
        st.by_file
            .get(&file)
            .is_some_and(|k| st.by_key.contains_key(k))
    }

    /// Number of binaries cached.
    pub fn len(&self) -> usize {
        self.lock().by_key.len()
    }

    /// Nothing cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every cached binary (open `Arc`s stay valid).
    pub fn clear(&self) {
        let mut st = self.lock();
        st.by_key.clear();
        st.by_file.clear();
        st.probes.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent across a panic (plain map updates).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether the file starts with a Mach-O magic number.
fn is_macho(path: &Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && [0xfeed_facf_u32, 0xfeed_face, 0xcafe_babe]
            .iter()
            .any(|m| magic == m.to_be_bytes() || magic == m.to_le_bytes())
}
