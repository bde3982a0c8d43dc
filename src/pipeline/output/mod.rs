//! Outputs: CSV tables, provenance (metadata.json) and figures (PNG and SVG).

pub mod lock;
pub mod matrix;
pub mod plots;
pub mod run;
pub mod tables;
