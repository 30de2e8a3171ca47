//! The `goblock` binary: argument parsing and dispatch to the subcommands.
//! The work is done by the goblock-* crates; `cli/` holds the rendering of
//! `report`, `demo` and `capture`.

mod cli {
    pub mod capture;
    pub mod demo;
    pub mod report;
    pub mod report_inputs;
}

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use goblock_analysis::BinaryChoice;

/// Shows where Go goroutines block, from execution traces.
#[derive(Parser)]
#[command(name = "goblock", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the hottest blocking lines of traces, goroutine dumps and profiles.
    Report {
        /// Workspace directory (repeatable; default: the current directory).
        #[arg(long = "workspace", value_name = "DIR")]
        workspaces: Vec<PathBuf>,
        /// The traced binary (default: look for one in the workspace).
        #[arg(long, value_name = "FILE", conflicts_with = "no_binary")]
        binary: Option<PathBuf>,
        /// Use the trace's own frames, never a binary.
        #[arg(long)]
        no_binary: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: cli::report::Format,
        /// Categories (comma-separated: sync,net,syscall,sched,sleep,gc,other, or all).
        #[arg(long, default_value = cli::report::DEFAULT_CATEGORIES)]
        categories: String,
        /// Rows of the table.
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Also list lines of stacks without any user frame (runtime, library goroutines).
        #[arg(long)]
        library: bool,
        /// Refuse larger trace files (bytes, or with a suffix: 512M, 8G; 0 or none: no limit).
        #[arg(long, value_name = "SIZE", value_parser = parse_size,
              default_value_t = goblock_analysis::input::DEFAULT_MAX_BYTES)]
        max_trace_bytes: u64,
        /// Trace files (runtime/trace, go test -trace, /debug/pprof/trace),
        /// goroutine dumps (debug=2, panics, SIGQUIT) and pprof goroutine,
        /// block and mutex profiles, recognised by their content.
        #[arg(required = true, value_name = "INPUT")]
        traces: Vec<PathBuf>,
    },
    /// Report on the bundled example trace (a Go program that blocks in every way).
    Demo {
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: cli::report::Format,
    },
    /// Capture a trace (of tests, or of a running service) and report on it.
    #[command(subcommand)]
    Capture(CaptureCommand),
    /// Run the language server on stdin/stdout.
    Lsp {
        /// Accepted for editor clients that append it (stdio is the only transport).
        #[arg(long)]
        stdio: bool,
    },
}

fn parse_size(s: &str) -> Result<u64, String> {
    goblock_analysis::input::parse_size(s)
        .ok_or_else(|| format!("{s:?} is not a size (bytes, or 512M, 8G, none)"))
}

#[derive(Subcommand)]
enum CaptureCommand {
    /// Build a package's test binary and trace its tests (`-run`), benchmarks
    /// (`-bench`) or all of them; the trace and the binary are kept in
    /// .goblock/captures.
    Test(cli::capture::TestArgs),
    /// Fetch an execution trace (/debug/pprof/trace), a goroutine dump or a
    /// block or mutex profile from a running service (net/http/pprof).
    #[command(visible_alias = "service")]
    Url(cli::capture::UrlArgs),
    /// List the captures of the workspace, newest first.
    List(cli::capture::Common),
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("goblock: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<i32> {
    let cli = Cli::parse_from(cli::capture::go_style_flags(std::env::args_os().collect()));
    match cli.command {
        Command::Report {
            workspaces,
            binary,
            no_binary,
            format,
            categories,
            top,
            library,
            max_trace_bytes,
            traces,
        } => {
            let binary = match (binary, no_binary) {
                (Some(b), _) => BinaryChoice::Path(b),
                (None, true) => BinaryChoice::None,
                (None, false) => BinaryChoice::Auto,
            };
            let args = cli::report::ReportArgs {
                traces,
                workspaces,
                binary,
                format,
                categories: cli::report::parse_categories(&categories)?,
                top,
                title: None,
                library,
                open: goblock_analysis::input::OpenOptions {
                    max_bytes: max_trace_bytes,
                    ..Default::default()
                },
            };
            cli::report::run(&args, &mut std::io::stdout().lock())
        }
        Command::Demo { format } => cli::demo::run(format),
        Command::Capture(CaptureCommand::Test(a)) => cli::capture::test(a),
        Command::Capture(CaptureCommand::Url(a)) => cli::capture::url(a),
        Command::Capture(CaptureCommand::List(a)) => cli::capture::list(a),
        Command::Lsp { stdio: _ } => Ok(goblock_server::run_stdio()?),
    }
}
