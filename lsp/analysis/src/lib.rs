//! goblock-analysis (being written).
