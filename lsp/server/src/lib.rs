//! goblock-server (being written).
