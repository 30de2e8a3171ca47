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
    tick: u64,
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
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent across a panic (plain map updates).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
