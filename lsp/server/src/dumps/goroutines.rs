//! The result of `goblock.goroutines`: every goroutine the loaded dumps
//! have parked at one line — id, status, how long (the dump's `N
//! minutes`), creator and parent goroutine — group by group, where the
//! hover shows at most [`crate::render::dumps::HOVER_ID_RANGES`] id
//! ranges per group.
//!
//! Fills [`GoroutinesResult`] with the row labels clients show; knows no
//! LSP types and finds no line (the caller gives the annotation the hover
//! shows).

use std::path::Path;

use goblock_analysis::units::count;

use crate::annotations::{Annotation, TraceMeta};
use crate::protocol::{GoroutineCreator, GoroutineGroup, GoroutineRow, GoroutinesResult};
use crate::relocate::Relocator;

fn input_name(traces: &[TraceMeta], id: u32) -> String {
    traces
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.name.clone())
        .unwrap_or_else(|| format!("input {id}"))
}

fn short_func(f: &str) -> &str {
    f.rsplit('/').next().unwrap_or(f)
}

/// The goroutines of the annotation `a` shown at 1-based `line` of `file`
/// (named `uri` by the client) now; `goroutines: 0` without rows when no
/// dump has goroutines there.
pub(crate) fn goroutines_result(
    file: &str,
    uri: &str,
    line: u32,
    a: Option<&Annotation>,
    traces: &[TraceMeta],
    reloc: &Relocator,
) -> GoroutinesResult {
    let Some(p) = a.and_then(|a| a.parked_now.as_ref()) else {
        return GoroutinesResult {
            file: file.to_owned(),
            uri: uri.to_owned(),
            line,
            label: "no goroutine of a loaded dump is parked here".to_owned(),
            ..Default::default()
        };
    };
    let several = p.per_input.len() > 1;
    let mut groups = Vec::with_capacity(p.groups.len());
    let mut rows = Vec::new();
    for (gi, g) in p.groups.iter().enumerate() {
        let gr = &g.group;
        let status = if gr.status.is_empty() {
            "waiting"
        } else {
            &*gr.status
        };
        let creator = gr.creator.as_ref().map(|s| reloc.site(s));
        let created = match (&gr.creator_function, &creator) {
            (Some(f), Some(s)) if s.found => {
                format!("created by {} at {}", short_func(f), s.label())
            }
            (Some(f), _) => format!("created by {}", short_func(f)),
            _ => String::new(),
        };
        let input = input_name(traces, g.input);
        let mut glabel = format!("{} × {status}", count(gr.count),);
        if !created.is_empty() {
            glabel.push_str(&format!(", {created}"));
        }
        if several {
            glabel.push_str(&format!(" ({input})"));
        }
        groups.push(GoroutineGroup {
            count: gr.count,
            status: status.to_owned(),
            input,
            creator: creator.as_ref().map(|s| GoroutineCreator {
                function: gr.creator_function.as_deref().map(str::to_owned),
                file: s.file.to_string(),
                uri: s.found.then(|| crate::uri::from_path(Path::new(&*s.file))),
                line: s.found.then_some(s.line),
                label: s.label(),
            }),
            labels: gr.labels.iter().map(|l| l.to_string()).collect(),
            label: glabel,
        });
        for (i, &id) in gr.ids.iter().enumerate() {
            let minutes = gr.minutes_each.get(i).copied().filter(|&m| m > 0);
            let parent = gr.parents.get(i).copied().filter(|&p| p > 0);
            let mut label = format!("goroutine {id} · {status}");
            if let Some(m) = minutes {
                label.push_str(&format!(" · {m} min"));
            }
            if !created.is_empty() {
                label.push_str(&format!(" · {created}"));
                if let Some(pg) = parent {
                    label.push_str(&format!(" (in goroutine {pg})"));
                }
            }
            rows.push(GoroutineRow {
                id,
                status: status.to_owned(),
                minutes,
                parent,
                group: gi,
                label,
            });
        }
    }
    let mut label = format!(
        "{} goroutine{} in {} group{}",
        count(p.goroutines),
        if p.goroutines == 1 { "" } else { "s" },
        count(groups.len() as u64),
        if groups.len() == 1 { "" } else { "s" },
    );
    if p.profiled > 0 {
        label.push_str(&format!(
            " · {} more in goroutine profiles (no ids)",
            count(p.profiled)
        ));
    }
    GoroutinesResult {
        file: file.to_owned(),
        uri: uri.to_owned(),
        line,
        function: a.map(|a| a.function.to_string()),
        goroutines: p.goroutines,
        profiled: p.profiled,
        label,
        groups,
        rows,
    }
}
