//! `goblock demo`: the report on a bundled example — the trace of
//! `testdata/programs/blocking` (a Go program that blocks in every way the
//! runtime knows), recorded with Go 1.26. The trace, the traced binary and
//! the program's sources are embedded in the binary and unpacked into a temporary
//! workspace, so the demo works from any directory.

use std::path::PathBuf;

use anyhow::Context as _;
use goblock_analysis::BinaryChoice;

use super::report::{self, Format, ReportArgs};

const TRACE: &[u8] = include_bytes!("../../testdata/go1.26/blocking.trace");
/// The traced binary (zstd), so the demo symbolizes through DWARF.
const BINARY_ZST: &[u8] = include_bytes!("../../testdata/go1.26/blocking.bin.zst");
const SOURCES: &[(&str, &str)] = &[
    (
        "go.mod",
        include_str!("../../testdata/programs/blocking/go.mod"),
    ),
    (
        "main.go",
        include_str!("../../testdata/programs/blocking/main.go"),
    ),
    (
        "producer.go",
        include_str!("../../testdata/programs/blocking/producer.go"),
    ),
];

/// Unpacks the example and prints its report.
pub fn run(format: Format) -> anyhow::Result<i32> {
    let dir: PathBuf = std::env::temp_dir()
        .join(format!("goblock-demo-{}", std::process::id()))
        .join("blocking");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in SOURCES {
        std::fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    let trace = dir.join("blocking.trace");
    std::fs::write(&trace, TRACE).context("writing the example trace")?;
    let binary = dir.join("blocking.bin");
    let exe = zstd::decode_all(BINARY_ZST).context("unpacking the example binary")?;
    std::fs::write(&binary, exe).context("writing the example binary")?;
    let args = ReportArgs {
        traces: vec![trace],
        workspaces: vec![dir.clone()],
        binary: BinaryChoice::Path(binary),
        format,
        categories: report::parse_categories(report::DEFAULT_CATEGORIES)?,
        top: 20,
        library: false,
        open: Default::default(),
        title: Some(
            "goblock demo: testdata/programs/blocking traced with Go 1.26 (the hottest blocking lines; \
             try `goblock report YOUR.trace`)"
                .into(),
        ),
    };
    let code = report::run(&args, &mut std::io::stdout().lock());
    if let Some(parent) = dir.parent() {
        let _ = std::fs::remove_dir_all(parent);
    }
    code
}
