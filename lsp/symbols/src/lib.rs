//! goblock-symbols (being written).
