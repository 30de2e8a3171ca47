//! The texts the snapshot's lines were recorded in: for each workspace
//! file the snapshot names (annotated, or linked as a waker or creation
//! site), the text it had when the oldest input was recorded, when the
//! server saw it — read while the file was not modified since then, and
//! kept across snapshots of the same inputs, so that edits saved later
//! (with or without an editor) still diff against it. Without the traced
//! binary's declaration lines this diff is the only evidence of where a
//! recorded line is now ([`SinceTrace`], rules in `crate::stale`).
//!
//! Kept as one hash per line, not as text. Library files (Go's, the
//! module cache's) are not kept: they change only with a new toolchain or
//! version, and are then stale. Reads files when built; knows no LSP
//! types.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use crate::annotations::AnnotationIndex;
use crate::client_paths::ClientPaths;
use crate::docs::{LineDiff, line_hashes};
use crate::stale::SinceTrace;

/// Line hashes of files as they were at the trace.
#[derive(Debug, Default)]
pub struct Origins {
    /// Modification time of the oldest input (see `Snapshot::traced_at`).
    traced_at: Option<SystemTime>,
    /// By the file's name in the index (the client's name).
    lines: HashMap<Arc<str>, Arc<[u64]>>,
}

/// The file at `path` was modified after `traced_at` (or cannot be told).
fn changed_since(path: &str, traced_at: Option<SystemTime>) -> bool {
    let Some(traced) = traced_at else {
        return false;
    };
    match std::fs::metadata(path).and_then(|m| m.modified()) {
        Ok(m) => m > traced,
        Err(_) => true,
    }
}

/// The line hashes of `path` if it was not modified after `traced_at`
/// before, while and after it was read.
fn read_unchanged(path: &str, traced_at: Option<SystemTime>) -> Option<Arc<[u64]>> {
    if changed_since(path, traced_at) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    if changed_since(path, traced_at) {
        return None;
    }
    Some(line_hashes(&text).into())
}

impl Origins {
    /// The texts of the workspace files `index` names (its files and the
    /// sites it links to), for inputs recorded at `traced_at`: from `prev`
    /// when it was built for the same inputs' time, else read now when
    /// unchanged since.
    pub fn collect(
        index: &AnnotationIndex,
        traced_at: Option<SystemTime>,
        client_paths: &ClientPaths,
        prev: &Origins,
    ) -> Origins {
        let mut paths: Vec<Arc<str>> = Vec::new();
        for (path, fa) in &index.files {
            if fa.in_workspace {
                paths.push(path.clone());
            }
            for a in &fa.lines {
                let sites = a
                    .wakers
                    .iter()
                    .filter_map(|w| w.site.as_ref())
                    .chain(
                        a.parked
                            .iter()
                            .flat_map(|p| [&p.parked.waker_site, &p.parked.creator_site])
                            .flatten(),
                    )
                    .chain(
                        a.parked_now
                            .iter()
                            .flat_map(|p| &p.groups)
                            .filter_map(|g| g.group.creator.as_ref()),
                    );
                for s in sites.filter(|s| s.found && s.in_workspace) {
                    paths.push(client_paths.name(&s.file).into());
                }
            }
        }
        paths.sort_unstable();
        paths.dedup();
        let same_inputs = prev.traced_at == traced_at;
        let lines = paths
            .into_iter()
            .filter_map(|p| {
                let kept = same_inputs.then(|| prev.lines.get(&p).cloned()).flatten();
                let l = kept.or_else(|| read_unchanged(&p, traced_at))?;
                Some((p, l))
            })
            .collect();
        Origins { traced_at, lines }
    }

    /// How `text`, the file `path` now, relates to its text at the trace.
    pub fn since(&self, path: &str, text: &str) -> SinceTrace {
        match self.lines.get(path) {
            Some(old) => {
                let now = line_hashes(text);
                if **old == *now {
                    SinceTrace::Unchanged
                } else {
                    SinceTrace::Diffed(LineDiff::new(old, &now))
                }
            }
            None if changed_since(path, self.traced_at) => SinceTrace::Unknown,
            None => SinceTrace::Unchanged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotations::Annotation;
    use std::time::Duration;

    fn set_mtime(p: &std::path::Path, t: SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn a_text_seen_unchanged_is_the_evidence_for_later_saves() {
        let dir = std::env::temp_dir().join(format!("goblock-origins-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.go"), dir.join("b.go"));
        let text = "package a\n\nfunc f() {\n\t<-ch\n}\n";
        std::fs::write(&a, text).unwrap();
        std::fs::write(&b, text).unwrap();
        let traced = SystemTime::now() - Duration::from_secs(60);
        set_mtime(&a, traced - Duration::from_secs(60));
        // b saved after the trace, before the server saw it.
        let at = Annotation {
            line: 4,
            function: "a.f".into(),
            ..Default::default()
        };
        let index = AnnotationIndex::of_files([&a, &b], &at);
        let paths = ClientPaths::default();
        let o = Origins::collect(&index, Some(traced), &paths, &Origins::default());
        assert_eq!(o.lines.len(), 1, "only a was unchanged since the trace");
        let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
        assert_eq!(o.since(a, text), SinceTrace::Unchanged);
        assert_eq!(o.since(b, text), SinceTrace::Unknown);
        // a edited and saved: its lines diff against the text at the trace,
        // in this snapshot and in the next one of the same inputs.
        let edited = format!("// x\n// y\n{text}");
        std::fs::write(a, &edited).unwrap();
        let next = Origins::collect(&index, Some(traced), &paths, &o);
        for o in [&o, &next] {
            match o.since(a, &edited) {
                SinceTrace::Diffed(d) => assert_eq!(d.line(3), Some(5)),
                other => panic!("{other:?}"),
            }
        }
        // Another input's time: the old text is not evidence for it.
        let other = Origins::collect(&index, Some(traced + Duration::from_secs(1)), &paths, &o);
        assert!(other.lines.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
