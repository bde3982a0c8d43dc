//! The pipeline a study runs through: the TOML [`config`] (cases, sweeps), the [`study`] that
//! computes every case, the [`sweep`] runner (resume, shards, merge) and the [`output`] writer
//! (tables, metadata, figures).

pub mod config;
pub mod geometry_study;
pub mod output;
pub mod radial_figures;
pub mod radial_report;
pub mod report;
pub mod study;
pub mod sweep;

/// The text of `error` and of every cause in its chain, joined by ": " (each library error
/// shows only its own part and returns its cause as `source()`).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}
