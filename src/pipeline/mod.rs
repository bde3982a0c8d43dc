//! The pipeline a study runs through: the TOML [`config`] (cases, sweeps), the [`study`] that
//! computes every case, the [`sweep`] runner (resume, shards, merge) and the [`output`] writer
//! (tables, metadata, figures).

pub mod config;
pub mod output;
pub mod study;
pub mod sweep;
