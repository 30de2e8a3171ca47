//! Where recorded lines are in the files on disk now, for a reader that
//! has no editor and saw no earlier text (`goblock report`): each line (a
//! file, its line as built and its function) is anchored onto the file as
//! it is by the rules of [`crate::stale`], with the build's declaration
//! lines as evidence and, without them, the text at the trace as far as
//! the file's modification time or the inputs' commit tell it
//! ([`origins::since_unseen`]).
//!
//! Reads each file once (and runs `git` at most once, when a file changed
//! after the inputs), and gives its lines' text now; knows no LSP types.
//! Lines are 1-based.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use crate::annotations::{Annotation, Freshness};
use crate::gosrc::Outline;
use crate::origins::{self, Committed};
use crate::stale::{self, BuiltDecls, SinceTrace};

/// One file as it is now.
struct FileNow {
    outline: Outline,
    since: SinceTrace,
    text: String,
    /// Byte offset of each line's start.
    starts: Vec<usize>,
}

impl FileNow {
    /// The text of 1-based `line`, without its line break.
    fn line(&self, line: u32) -> Option<&str> {
        let i = (line as usize).checked_sub(1)?;
        let start = *self.starts.get(i)?;
        let end = self.starts.get(i + 1).copied().unwrap_or(self.text.len());
        let l = self.text.get(start..end)?;
        Some(l.strip_suffix('\n').unwrap_or(l).trim_end_matches('\r'))
    }
}

/// Places recorded lines of some inputs onto the files as they are.
pub struct OnDisk {
    built: BuiltDecls,
    inputs: Vec<PathBuf>,
    /// Modification time of the oldest input.
    traced_at: Option<SystemTime>,
    committed: OnceCell<Option<Committed>>,
    /// By path; `None` when it cannot be read.
    files: HashMap<String, Option<FileNow>>,
}

impl OnDisk {
    /// For lines recorded in `inputs`, whose binaries' DWARF gave `built`.
    pub fn new(built: BuiltDecls, inputs: &[PathBuf]) -> OnDisk {
        let traced_at = inputs
            .iter()
            .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .min();
        OnDisk {
            built,
            inputs: inputs.to_vec(),
            traced_at,
            committed: OnceCell::new(),
            files: HashMap::new(),
        }
    }

    /// Where `line` (as built) of `function` in `file` is now, or why it
    /// cannot be placed (stale). A file that cannot be read leaves the line
    /// as recorded: nothing says it changed.
    pub fn place(&mut self, file: &str, line: u32, function: &Arc<str>) -> Result<u32, String> {
        // Read (once), then borrowed beside the build's declarations.
        if self.file(file).is_none() {
            return Ok(line);
        }
        let Some(Some(f)) = self.files.get(file) else {
            return Ok(line);
        };
        let probe = Annotation {
            line,
            function: function.clone(),
            ..Default::default()
        };
        let a = stale::anchor_one(&f.outline, &probe, &self.built, &f.since);
        match (a.line, a.freshness) {
            (Some(l), _) => Ok(l),
            (None, Freshness::Stale(why)) => Err(why),
            (None, _) => Err(format!("line {line} cannot be placed")),
        }
    }

    /// The text of 1-based `line` of `file` now (the file as [`OnDisk::place`]
    /// reads it), if the file reads.
    pub fn line_text(&mut self, file: &str, line: u32) -> Option<&str> {
        self.file(file)?.line(line)
    }

    /// `file` as it is now, read once; `None` if it cannot be read.
    fn file(&mut self, file: &str) -> Option<&FileNow> {
        if !self.files.contains_key(file) {
            let now = std::fs::read_to_string(file).ok().map(|text| {
                let since = origins::since_unseen(file, &text, self.traced_at, || {
                    self.committed
                        .get_or_init(|| Committed::of_inputs(&self.inputs))
                        .as_ref()
                });
                let starts = std::iter::once(0)
                    .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                    .filter(|&i| i < text.len())
                    .collect();
                FileNow {
                    outline: Outline::new(&text),
                    since,
                    text,
                    starts,
                }
            });
            self.files.insert(file.to_owned(), now);
        }
        self.files.get(file)?.as_ref()
    }
}
