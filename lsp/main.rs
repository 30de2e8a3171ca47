//! The `goblock` binary: argument parsing only.
fn main() {}
