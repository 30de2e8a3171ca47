//! Where a recorded line of any file is now: the line the user sees for a
//! (file, line as built, function) of the snapshot — a waker's or a
//! creation site's line linked from another file's hover, hint or
//! diagnostic, a row of `goblock.hotLines` — after the edits since the
//! trace. The same rules as a file's own annotations: anchored onto the
//! file as saved ([`stale::anchor_one`]), then through the open document's
//! line map when the editor holds it. A line that cannot be placed is
//! `None` (linked nowhere, never to a neighbour).
//!
//! Reads files (each at most once per [`Relocator`]) and the documents it
//! is given; changes nothing. Knows no LSP types.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use goblock_analysis::Site;

use crate::annotations::Annotation;
use crate::docs::Document;
use crate::gosrc::Outline;
use crate::snapshot::Snapshot;
use crate::stale::{self, SinceTrace};

/// Open documents by local path (as the session keys them).
pub(crate) type OpenDocs = HashMap<Arc<str>, Arc<Document>>;

/// One file as the user sees it.
struct FileNow {
    /// Outline of the file as saved.
    outline: Outline,
    /// How the saved text relates to the text at the trace.
    since: SinceTrace,
    /// The open document, its lines mapped from the saved text.
    doc: Option<Document>,
}

/// Places recorded lines of a snapshot onto today's texts; caches each
/// file it reads for its own lifetime (one request or one publication).
pub(crate) struct Relocator<'a> {
    snap: &'a Snapshot,
    open: &'a OpenDocs,
    files: RefCell<HashMap<Arc<str>, Option<Rc<FileNow>>>>,
}

impl<'a> Relocator<'a> {
    pub(crate) fn new(snap: &'a Snapshot, open: &'a OpenDocs) -> Relocator<'a> {
        Relocator {
            snap,
            open,
            files: RefCell::new(HashMap::new()),
        }
    }

    fn file(&self, path: &Arc<str>) -> Option<Rc<FileNow>> {
        if let Some(f) = self.files.borrow().get(path) {
            return f.clone();
        }
        let f = std::fs::read_to_string(&**path).ok().map(|text| {
            let since = self.snap.origins.since(path, &text);
            let doc = self.open.get(path).map(|d| {
                let mut d = (**d).clone();
                d.rebase(&text);
                d
            });
            Rc::new(FileNow {
                outline: Outline::new(&text),
                since,
                doc,
            })
        });
        self.files.borrow_mut().insert(path.clone(), f.clone());
        f
    }

    /// The 1-based line where `line` (as built) of `function` in `file` is
    /// shown now, if it can be placed.
    pub(crate) fn line(&self, file: &Arc<str>, line: u32, function: &Arc<str>) -> Option<u32> {
        let f = self.file(file)?;
        let probe = Annotation {
            line,
            function: function.clone(),
            ..Default::default()
        };
        let saved = stale::anchor_one(&f.outline, &probe, &self.snap.built_decls, &f.since).line?;
        match &f.doc {
            Some(d) => d.current_line(saved - 1).map(|l| l + 1),
            None => Some(saved),
        }
    }

    /// A site placed now: named as the client names its file (a workspace
    /// file's label by its path below the root), its line moved to where
    /// it is shown, or, when it cannot be placed, marked not found with
    /// line 0 (rendered without a link and without a line number).
    pub(crate) fn site(&self, s: &Site) -> Site {
        let mut s = s.clone();
        if s.found {
            if let Some(n) = self.snap.client_paths.display(&s.file) {
                s.file = n.into();
            }
            if s.in_workspace
                && let Some(r) = self.snap.client_paths.relative(&s.file)
            {
                s.name = r.into();
            }
            match self.line(&s.file, s.line, &s.function) {
                Some(l) => s.line = l,
                None => {
                    s.found = false;
                    s.line = 0;
                }
            }
        }
        s
    }

    /// An annotation whose linked sites (wakers, creation sites of traced
    /// and of dumped goroutines) are placed now.
    pub(crate) fn annotation(&self, a: &Annotation) -> Annotation {
        let mut a = a.clone();
        for w in &mut a.wakers {
            if let Some(s) = &w.site {
                w.site = Some(self.site(s));
            }
        }
        for p in &mut a.parked {
            if let Some(s) = &p.parked.waker_site {
                p.parked.waker_site = Some(self.site(s));
            }
            if let Some(s) = &p.parked.creator_site {
                p.parked.creator_site = Some(self.site(s));
            }
        }
        // Goroutine dumps: where each group was created.
        if let Some(p) = &mut a.parked_now {
            for g in &mut p.groups {
                if let Some(c) = &g.group.creator {
                    let mut group = (*g.group).clone();
                    group.creator = Some(self.site(c));
                    g.group = Arc::new(group);
                }
            }
        }
        a
    }
}
