//! Errors of the symbolizer. Every variant names the file it is about and,
//! where there is one, the section and file offset, so a message can be shown
//! to the user as is. Nothing here decides what to do about an error (the
//! caller falls back to the trace's own frames).

use std::path::PathBuf;

/// Why a binary could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum SymbolsError {
    /// The file could not be read (missing, permissions, not a regular file …).
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The bytes are not an executable in a format Go produces (ELF, Mach-O, PE).
    #[error("{}: not a Go executable (ELF, Mach-O or PE): {reason}", path.display())]
    NotAnExecutable {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },

    /// A section or header lies (partly) past the end of the file.
    #[error(
        "{}: truncated: {what} at offset {offset:#x} (+{size:#x} bytes) extends past the end of the file ({file_len:#x} bytes)",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was cut off, e.g. `section .debug_info`.
        what: String,
        /// File offset of the piece.
        offset: u64,
        /// Its size in the file.
        size: u64,
        /// The file's length.
        file_len: u64,
    },

    /// The executable carries no DWARF line information.
    #[error(
        "{}: no DWARF debug information in this {format} executable (built with -ldflags=-w or -s, or stripped)",
        path.display()
    )]
    NoDwarf {
        /// The file.
        path: PathBuf,
        /// `ELF`, `Mach-O` or `PE`.
        format: &'static str,
    },

    /// A compressed debug section could not be decompressed.
    #[error("{}: cannot decompress {section} at offset {offset:#x}: {reason}", path.display())]
    Decompress {
        /// The file.
        path: PathBuf,
        /// Section name as found in the file.
        section: String,
        /// File offset of the compressed data.
        offset: u64,
        /// What went wrong.
        reason: String,
    },

    /// The DWARF data is malformed.
    #[error("{}: bad DWARF ({context}): {source}", path.display())]
    Dwarf {
        /// The file.
        path: PathBuf,
        /// Where: a section, a unit offset or the PC being resolved.
        context: String,
        /// gimli's error.
        #[source]
        source: gimli::Error,
    },
}

/// Shorthand.
pub type Result<T, E = SymbolsError> = std::result::Result<T, E>;
