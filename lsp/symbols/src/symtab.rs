//! The binary's function symbols (ELF `.symtab`, Mach-O `LC_SYMTAB`, PE COFF
//! symbols) as sorted `[start, end)` ranges with Go names: Mach-O's leading
//! `_` is removed, sizes missing in Mach-O/PE are taken up to the next
//! symbol. Used to recover the PIE load bias and as a sanity check that a
//! binary and a trace belong together; it is *not* used to name frames
//! (DWARF does that, see `resolve.rs`).
//!
//! Go assembly functions appear here with their ABI suffix
//! (`runtime.settls.abi0`); [`func_key`] strips it, along with generic type
//! arguments, so names from the trace, DWARF and the symbol table compare.

use std::collections::HashMap;
use std::sync::OnceLock;

use object::{Object as _, ObjectSymbol as _};

/// One function symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncSymbol<'a> {
    /// First address (link-time).
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Name as in the symbol table, without Mach-O's `_` prefix.
    pub name: &'a str,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    start: u64,
    end: u64,
    name_off: u32,
    name_len: u32,
}

/// Sorted function symbols; names in one arena, a by-name index built on
/// first use.
#[derive(Debug, Default)]
pub struct SymbolTable {
    entries: Vec<Entry>,
    names: String,
    by_key: OnceLock<HashMap<Box<str>, Vec<u32>>>,
}

impl SymbolTable {
    /// Reads the text symbols of `obj`.
    pub(crate) fn read(obj: &object::File<'_>, text: &[(u64, u64)]) -> SymbolTable {
        let macho = obj.format() == object::BinaryFormat::MachO;
        let mut entries: Vec<Entry> = Vec::new();
        let mut names = String::new();
        for s in obj.symbols() {
            if s.kind() != object::SymbolKind::Text || !s.is_definition() {
                continue;
            }
            let Ok(name) = s.name() else { continue };
            let name = if macho {
                name.strip_prefix('_').unwrap_or(name)
            } else {
                name
            };
            let (Ok(name_off), Ok(name_len)) =
                (u32::try_from(names.len()), u32::try_from(name.len()))
            else {
                break;
            };
            if name.is_empty() {
                continue;
            }
            names.push_str(name);
            let start = s.address();
            entries.push(Entry {
                start,
                end: start.saturating_add(s.size()),
                name_off,
                name_len,
            });
        }
        entries.sort_unstable_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        // Missing sizes: up to the next symbol, or the end of its section.
        let mut next_start = None;
        for i in (0..entries.len()).rev() {
            let start = entries[i].start;
            if entries[i].end <= start {
                let sect_end = text
                    .iter()
                    .find(|(lo, hi)| *lo <= start && start < *hi)
                    .map(|&(_, hi)| hi);
                entries[i].end = match (next_start, sect_end) {
                    (Some(n), Some(e)) => u64::min(n, e),
                    (Some(n), None) => n,
                    (None, Some(e)) => e,
                    (None, None) => start.saturating_add(1),
                };
            }
            if next_start.is_none_or(|n| start < n) {
                next_start = Some(start);
            }
        }
        SymbolTable {
            entries,
            names,
            by_key: OnceLock::new(),
        }
    }

    fn sym(&self, e: &Entry) -> FuncSymbol<'_> {
        let lo = e.name_off as usize;
        FuncSymbol {
            start: e.start,
            end: e.end,
            name: self.names.get(lo..lo + e.name_len as usize).unwrap_or(""),
        }
    }

    /// Number of function symbols.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No function symbols (stripped with `-s`).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All symbols, sorted by start address.
    pub fn iter(&self) -> impl Iterator<Item = FuncSymbol<'_>> {
        self.entries.iter().map(|e| self.sym(e))
    }

    /// The symbol covering `addr` (link-time address), if any.
    pub fn lookup(&self, addr: u64) -> Option<FuncSymbol<'_>> {
        let i = self.entries.partition_point(|s| s.start <= addr);
        self.entries[..i]
            .iter()
            .rev()
            .take(4)
            .find(|s| addr < s.end)
            .map(|e| self.sym(e))
    }

    /// Symbols whose [`func_key`] equals `func_key(name)`.
    pub fn by_name(&self, name: &str) -> impl Iterator<Item = FuncSymbol<'_>> {
        let index = self.by_key.get_or_init(|| {
            let mut m: HashMap<Box<str>, Vec<u32>> = HashMap::with_capacity(self.entries.len());
            for (i, e) in self.entries.iter().enumerate() {
                m.entry(func_key(self.sym(e).name).into())
                    .or_default()
                    .push(i as u32);
            }
            m
        });
        index
            .get(func_key(name).as_ref())
            .into_iter()
            .flatten()
            .filter_map(|&i| self.entries.get(i as usize))
            .map(|e| self.sym(e))
    }
}

/// A function name reduced for comparisons between the trace, DWARF and the
/// symbol table: generic type arguments become `[...]` (the runtime prints
/// them so, DWARF and the symbol table spell out shapes) and Go's ABI
/// suffixes (`.abi0`, `.abiinternal`) are dropped.
pub fn func_key(name: &str) -> std::borrow::Cow<'_, str> {
    let base = name
        .strip_suffix(".abi0")
        .or_else(|| name.strip_suffix(".abiinternal"))
        .unwrap_or(name);
    if !base.contains(['[', '·']) {
        return std::borrow::Cow::Borrowed(base);
    }
    let mut out = String::with_capacity(base.len());
    let mut depth = 0usize;
    for c in base.chars() {
        match c {
            '[' => {
                if depth == 0 {
                    out.push_str("[...]");
                }
                depth += 1;
            }
            ']' => depth = depth.saturating_sub(1),
            '·' if depth == 0 => out.push('.'),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::func_key;

    #[test]
    fn keys() {
        assert_eq!(func_key("runtime.settls.abi0"), "runtime.settls");
        assert_eq!(
            func_key("main.Map[go.shape.int,go.shape.string]"),
            "main.Map[...]"
        );
        assert_eq!(func_key("main.Map[...]"), "main.Map[...]");
        assert_eq!(
            func_key("main.(*List[go.shape.int]).Push"),
            "main.(*List[...]).Push"
        );
        assert_eq!(func_key("main.F[[]int].func1"), "main.F[...].func1");
        assert_eq!(func_key("sync.(*Mutex).Lock"), "sync.(*Mutex).Lock");
        assert_eq!(
            func_key("type:.eq.runtime.untracedG·4"),
            "type:.eq.runtime.untracedG.4"
        );
    }
}
