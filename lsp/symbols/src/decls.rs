//! Function declarations: for every function DWARF names, the line of its
//! `func` keyword (`DW_AT_decl_line`) and, where DWARF records it, the file
//! (`DW_AT_decl_file`). The server uses these to keep annotations on the
//! right statements after an edit (offsets relative to the declaration
//! survive edits above the function).
//!
//! Go emits `decl_file` on concrete (out-of-line) functions only; functions
//! that exist only inlined have an abstract DIE with the line but no file
//! — [`Decl::file`] is `None` for them, and `symbolize.rs` fills it in from
//! the frames it resolved. One raw pass over `.debug_info`, done once per
//! binary on first use (not at load time). No PC lookups here.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use gimli::Reader as _;
use gimli::constants as dw;

use crate::error::{Result, SymbolsError};
use crate::load::Reader;
use crate::resolve::clean_file;

/// Where a function is declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decl {
    /// Source file of the declaration, when DWARF says.
    pub file: Option<Arc<str>>,
    /// 1-based line of the `func` keyword.
    pub line: u32,
}

/// Declarations by function name (as DWARF spells it).
pub type Decls = HashMap<Arc<str>, Decl>;

/// Functions without `DW_AT_decl_line` (Go ≤ 1.19 emits none; later
/// versions omit it only for assembly and wrappers): name, file and entry
/// address. For Go ≤ 1.19 the caller takes the entry PC's line — Go
/// attributes a function's prologue to the line of its `func` keyword.
pub(crate) type Pending = Vec<(Arc<str>, Option<Arc<str>>, u64)>;

/// Scans every unit for `DW_TAG_subprogram` DIEs with a name and a
/// `decl_line` (or, failing that, an entry address: see [`Pending`]).
pub(crate) fn scan(path: &Path, dwarf: &gimli::Dwarf<Reader>) -> Result<(Decls, Pending)> {
    let err = |context: String| {
        let path = path.to_owned();
        move |source| SymbolsError::Dwarf {
            path,
            context,
            source,
        }
    };
    let mut decls: Decls = HashMap::new();
    let mut pending: Pending = Vec::new();
    let mut units = dwarf.units();
    while let Some(header) = units
        .next()
        .map_err(err(".debug_info unit headers".into()))?
    {
        let at = format!(".debug_info unit at {:#x}", header.offset().0);
        let unit = dwarf.unit(header).map_err(err(at.clone()))?;
        let unit_ref = unit.unit_ref(dwarf);
        let mut files: HashMap<u64, Option<Arc<str>>> = HashMap::new();
        let mut entries = unit.entries_raw(None).map_err(err(at.clone()))?;
        while !entries.is_empty() {
            let Some(abbrev) = entries.read_abbreviation().map_err(err(at.clone()))? else {
                continue;
            };
            if abbrev.tag() != dw::DW_TAG_subprogram {
                entries
                    .skip_attributes(abbrev.attributes())
                    .map_err(err(at.clone()))?;
                continue;
            }
            let (mut name, mut file, mut line, mut low) = (None, None, None, None);
            for spec in abbrev.attributes() {
                let attr = entries.read_attribute(*spec).map_err(err(at.clone()))?;
                match attr.name() {
                    dw::DW_AT_name => name = Some(attr.value()),
                    dw::DW_AT_decl_file => file = attr.udata_value(),
                    dw::DW_AT_decl_line => line = attr.udata_value(),
                    dw::DW_AT_low_pc => low = Some(attr.value()),
                    _ => {}
                }
            }
            let Some(name) = name else {
                continue;
            };
            let Ok(name) = unit_ref.attr_string(name) else {
                continue;
            };
            let Ok(name) = name.to_string_lossy() else {
                continue;
            };
            let file = file.and_then(|i| {
                files
                    .entry(i)
                    .or_insert_with(|| file_name(unit_ref, i).map(Arc::from))
                    .clone()
            });
            let Some(line) = line else {
                if let Some(Ok(addr)) = low.map(|v| unit_ref.attr_address(v))
                    && let Some(addr) = addr
                    && !decls.contains_key(name.as_ref())
                {
                    pending.push((Arc::from(name.as_ref()), file, addr));
                }
                continue;
            };
            let decl = Decl {
                file,
                line: u32::try_from(line).unwrap_or(0),
            };
            match decls.get_mut(name.as_ref()) {
                // Keep the first; upgrade an abstract (file-less) entry.
                Some(old) if old.file.is_none() && decl.file.is_some() => *old = decl,
                Some(_) => {}
                None => {
                    decls.insert(Arc::from(name.as_ref()), decl);
                }
            }
        }
    }
    Ok((decls, pending))
}

/// The path of file `index` of the unit's line table, joined like addr2line
/// joins it (so it compares equal to resolved frames' files).
fn file_name(unit: gimli::UnitRef<'_, Reader>, index: u64) -> Option<String> {
    let program = unit.line_program.as_ref()?;
    let header = program.header();
    let file = header.file(index)?;
    let mut path = match &unit.comp_dir {
        Some(d) => d.to_string_lossy().ok()?.into_owned(),
        None => String::new(),
    };
    if file.directory_index() != 0
        && let Some(dir) = file.directory(header)
    {
        push(
            &mut path,
            &unit.attr_string(dir).ok()?.to_string_lossy().ok()?,
        );
    }
    push(
        &mut path,
        &unit
            .attr_string(file.path_name())
            .ok()?
            .to_string_lossy()
            .ok()?,
    );
    Some(clean_file(&path).to_owned())
}

fn push(path: &mut String, p: &str) {
    let rooted = |s: &str| {
        s.starts_with('/')
            || s.starts_with('\\')
            || s.get(1..3) == Some(":/")
            || s.get(1..3) == Some(":\\")
    };
    if rooted(p) {
        *path = p.to_owned();
    } else {
        let sep = if path.starts_with('\\') || path.get(1..3) == Some(":\\") {
            '\\'
        } else {
            '/'
        };
        if !path.is_empty() && !path.ends_with(sep) {
            path.push(sep);
        }
        path.push_str(p);
    }
}
