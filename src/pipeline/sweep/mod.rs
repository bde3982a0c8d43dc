//! Running a sweep: the cases of a study with a `[sweep]` table (expanded and planned by
//! [`crate::pipeline::config::sweep`]), computed in parallel, resumed from the finished cases on
//! disk, summarized, and merged from shards ([`runner`], [`summary`]).

pub mod runner;
pub mod summary;
