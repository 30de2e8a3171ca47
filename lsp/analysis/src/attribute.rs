//! Attribution: which frames of a stack a blocking episode is charged to.
//!
//! * **flat**: the innermost frame of the best kind, in this order: a
//!   workspace file; other user code (not in the workspace, not a
//!   dependency, e.g. a binary built elsewhere); a dependency (module cache,
//!   vendor); generated code (`_testmain.go`, `// Code generated`); the
//!   standard library outside the runtime and the blocking primitives
//!   (`runtime`, `internal/…`, `sync`, `syscall`); the innermost frame. The
//!   same rule names wakers and creators: "woken by `producer.go:55`", or
//!   `errgroup.go:78`, never `chan.go:156`. A frame whose line cannot be
//!   shown (see [`crate::paths`]) keeps its rank: the episode is charged to
//!   it as *unmapped*, never moved to a caller's line.
//! * **cum**: every workspace frame of the stack whose line is shown, each
//!   (file, line) once.
//!
//! Works on already-symbolized frames ([`FrameView`]); does not decode,
//! symbolize or aggregate.

use std::collections::HashMap;
use std::sync::Arc;

use goblock_trace::{FrameId, StackId, Tables};

use crate::paths::{CodeClass, Place, Unmapped, Workspace, is_runtime_function};

/// A source position a frame resolves to, ready for display.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    /// The file to show: the local path as the user gave the workspace
    /// (symlinks kept) when mapped, else the recorded path.
    pub file: Arc<str>,
    /// The same file with symlinks resolved (for comparing paths; equal to
    /// `file` when unmapped).
    pub canonical: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// Function name.
    pub function: Arc<str>,
    /// A short name of the file for labels ("woken by", "created at") that
    /// cannot be read as a workspace file of the same name: `producer.go`
    /// in the workspace, `testing/testing.go` in the standard library,
    /// `golang.org/x/sync/errgroup/errgroup.go` for a dependency, the whole
    /// path otherwise (see [`Workspace::short_name`]).
    pub name: Arc<str>,
    /// The line is shown in `file`: mapped to a file of this machine that
    /// has the line and declares the function.
    pub found: bool,
    /// Inside the workspace.
    pub in_workspace: bool,
    /// Standard library, runtime, third-party module or generated code.
    pub library: bool,
    /// What kind of code.
    pub class: CodeClass,
    /// Why the line is not shown (when `found` is false).
    pub unmapped: Option<Unmapped>,
}

impl Site {
    /// `name:line`: how labels name the site (see [`Site::name`]).
    pub fn label(&self) -> String {
        format!("{}:{}", self.name, self.line)
    }
}

/// How trace frames are turned into (function, file, line): the trace's own
/// frames, or the DWARF frames the symbolizer interned for them.
pub struct FrameView<'a> {
    tables: &'a Tables,
    remap: Option<&'a dyn Fn(FrameId) -> FrameId>,
}

impl<'a> FrameView<'a> {
    /// The trace's own frames.
    pub fn trace(tables: &'a Tables) -> Self {
        FrameView {
            tables,
            remap: None,
        }
    }

    /// Frames replaced through `remap` (e.g. DWARF-symbolized ones interned in `tables`).
    pub fn remapped(tables: &'a Tables, remap: &'a dyn Fn(FrameId) -> FrameId) -> Self {
        FrameView {
            tables,
            remap: Some(remap),
        }
    }

    /// (function, recorded file, line) of a trace frame.
    pub fn get(&self, id: FrameId) -> (&'a str, &'a str, u32) {
        let id = self.remap.map(|r| r(id)).unwrap_or(id);
        let f = self.tables.frame(id);
        (self.tables.str(f.func), self.tables.str(f.file), f.line)
    }

    /// The tables.
    pub fn tables(&self) -> &'a Tables {
        self.tables
    }
}

/// The result of attributing one stack.
#[derive(Clone, Debug, Default)]
pub struct Attribution {
    /// Where the episode is charged (None for an empty stack).
    pub flat: Option<Site>,
    /// The innermost frame's function (the blocking primitive, e.g. `sync.(*Mutex).Lock`).
    pub primitive: Option<Arc<str>>,
    /// Distinct workspace sites of the stack, innermost first.
    pub cum: Vec<Site>,
}

/// Attributes stacks, memoising per stack and per frame.
pub struct Attributor<'a> {
    ws: &'a Workspace,
    view: FrameView<'a>,
    memo: HashMap<StackId, Arc<Attribution>>,
    frames: HashMap<FrameId, (Site, u8)>,
    strings: std::collections::HashSet<Arc<str>>,
}

impl<'a> Attributor<'a> {
    /// An attributor for one trace's frames in one workspace.
    pub fn new(ws: &'a Workspace, view: FrameView<'a>) -> Self {
        Attributor {
            ws,
            view,
            memo: Default::default(),
            frames: Default::default(),
            strings: Default::default(),
        }
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = s.into();
        self.strings.insert(a.clone());
        a
    }

    /// The site of a frame and its rank for the flat frame (lower wins).
    fn frame(&mut self, id: FrameId) -> (Site, u8) {
        if let Some(f) = self.frames.get(&id) {
            return f.clone();
        }
        let (func, file, line) = self.view.get(id);
        let f = self.site(func, file, line);
        self.frames.insert(id, f.clone());
        f
    }

    /// The site of (function, recorded file, line) and its rank.
    fn site(&mut self, func: &str, file: &str, line: u32) -> (Site, u8) {
        let r = self.ws.resolve(func, file, line);
        let (path, canonical, found, in_workspace, unmapped) = match &r.place {
            Place::Found {
                display,
                canonical,
                in_workspace,
                ..
            } => (
                display.to_string_lossy().into_owned(),
                canonical.to_string_lossy().into_owned(),
                true,
                *in_workspace,
                None,
            ),
            Place::Unmapped(u) => (
                file.to_owned(),
                file.to_owned(),
                false,
                false,
                Some(u.clone()),
            ),
        };
        let rank = match r.class {
            CodeClass::Workspace => 0,
            CodeClass::Other => 1,
            CodeClass::Dependency => 2,
            CodeClass::Generated => 3,
            CodeClass::Std if !is_runtime_function(func) => 4,
            CodeClass::Std => 5,
        };
        let name = self.ws.short_name(&r, func, file);
        let name = self.intern(&name);
        let file = self.intern(&path);
        let canonical = if canonical == path {
            file.clone()
        } else {
            self.intern(&canonical)
        };
        let site = Site {
            file,
            canonical,
            line,
            function: self.intern(func),
            name,
            found,
            in_workspace,
            library: r.class.is_library(),
            class: r.class,
            unmapped,
        };
        (site, rank)
    }

    /// The display site of one frame (e.g. a goroutine's `created by`
    /// line in a dump), classified and mapped like the frames of stacks.
    pub fn site_of(&mut self, func: &str, file: &str, line: u32) -> Site {
        self.site(func, file, line).0
    }

    /// Attributes a stack (memoised).
    pub fn attribute(&mut self, stack: StackId) -> Arc<Attribution> {
        if let Some(a) = self.memo.get(&stack) {
            return a.clone();
        }
        let frames: Vec<FrameId> = self.view.tables().stack(stack).to_vec();
        let mut a = Attribution::default();
        let mut best: Option<(u8, Site)> = None;
        for (i, &f) in frames.iter().enumerate() {
            let (site, rank) = self.frame(f);
            if i == 0 {
                a.primitive = Some(site.function.clone());
            }
            if site.class == CodeClass::Workspace
                && site.found
                && !a
                    .cum
                    .iter()
                    .any(|s| s.file == site.file && s.line == site.line)
            {
                a.cum.push(site.clone());
            }
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, site));
            }
        }
        a.flat = best.map(|(_, s)| s);
        let a = Arc::new(a);
        self.memo.insert(stack, a.clone());
        a
    }
}
