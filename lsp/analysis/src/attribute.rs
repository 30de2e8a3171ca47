//! Attribution: which frames of a stack a blocking episode is charged to.
//!
//! * **flat**: the innermost frame whose file is in the workspace; if none
//!   is, the innermost frame that is neither standard library nor a
//!   module-cache dependency; if none is either, the innermost frame.
//! * **cum**: every workspace frame of the stack, each (file, line) once.
//!
//! Works on already-symbolized frames ([`FrameView`]); does not decode,
//! symbolize or aggregate.

use std::sync::Arc;

use goblock_trace::{FrameId, StackId, Tables};

use crate::paths::{CodeClass, Location, Workspace};

/// A source position a frame resolves to, ready for display.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    /// Local absolute path when found on this machine, else the recorded path.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// Function name.
    pub function: Arc<str>,
    /// The file exists on this machine.
    pub found: bool,
    /// Inside the workspace.
    pub in_workspace: bool,
    /// Standard library, runtime or third-party module code.
    pub library: bool,
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

/// Attributes stacks, memoising per stack.
pub struct Attributor<'a> {
    ws: &'a Workspace,
    view: FrameView<'a>,
    memo: std::collections::HashMap<StackId, Arc<Attribution>>,
    strings: std::collections::HashSet<Arc<str>>,
}

impl<'a> Attributor<'a> {
    /// An attributor for one trace's frames in one workspace.
    pub fn new(ws: &'a Workspace, view: FrameView<'a>) -> Self {
        Attributor {
            ws,
            view,
            memo: Default::default(),
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

    fn site(&mut self, func: &str, file: &str, line: u32) -> (Site, CodeClass) {
        let class = self.ws.classify(func, file);
        let loc = self.ws.locate(file);
        let (path, found) = match &loc {
            Location::Workspace(p) | Location::Outside(p) => {
                (p.to_string_lossy().into_owned(), true)
            }
            Location::NotFound => (file.to_owned(), false),
        };
        let site = Site {
            file: self.intern(&path),
            line,
            function: self.intern(func),
            found,
            in_workspace: matches!(loc, Location::Workspace(_)),
            library: matches!(class, CodeClass::Std | CodeClass::Dependency),
        };
        (site, class)
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
        let mut best_other: Option<Site> = None;
        let mut innermost: Option<Site> = None;
        for (i, &f) in frames.iter().enumerate() {
            let (func, file, line) = self.view.get(f);
            let (site, class) = self.site(func, file, line);
            if i == 0 {
                a.primitive = Some(site.function.clone());
                innermost = Some(site.clone());
            }
            match class {
                CodeClass::Workspace => {
                    if a.flat.is_none() {
                        a.flat = Some(site.clone());
                    }
                    if !a
                        .cum
                        .iter()
                        .any(|s| s.file == site.file && s.line == site.line)
                    {
                        a.cum.push(site);
                    }
                }
                CodeClass::Other if best_other.is_none() => best_other = Some(site),
                _ => {}
            }
        }
        if a.flat.is_none() {
            a.flat = best_other.or(innermost);
        }
        let a = Arc::new(a);
        self.memo.insert(stack, a.clone());
        a
    }
}
