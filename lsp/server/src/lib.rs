//! goblock-server: the language server (being written).

/// Serves LSP over stdin/stdout until the client exits.
pub fn run_stdio() -> std::io::Result<()> {
    Err(std::io::Error::other("the language server is not implemented yet"))
}
