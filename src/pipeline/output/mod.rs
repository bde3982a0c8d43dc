//! Outputs: CSV tables, provenance (metadata.json) and figures (PNG and SVG).
//!
//! * [`tables`] formats CSV cells; [`study_tables`] builds every table of a study's results
//!   (one function per file: adding a column is an edit there).
//! * [`figures`] draws figures from plain data; [`result_figures`] turns study results and sweep
//!   summaries into figures (adding a figure is a data builder there).
//! * [`commit`] owns the commit/recover protocol of an output directory, [`lock`] only locks it.
//! * [`mod@write`] writes a study, a sweep case or a sweep summary in one commit.

pub mod commit;
pub mod figures;
pub mod lock;
pub mod matrix;
pub mod result_figures;
pub mod study_tables;
pub mod tables;
pub mod write;

use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why outputs could not be written.
#[derive(Debug, Error)]
pub enum OutputError {
    /// A file or directory could not be created or written.
    #[error("{}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A figure could not be drawn.
    #[error("figure {name}")]
    Figure {
        /// Figure name.
        name: String,
        /// The cause.
        #[source]
        source: figures::PlotError,
    },
    /// The output directory could not be locked (another process holds it, or an I/O error).
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    /// The run was cancelled ([`crate::pipeline::sweep::runner::Progress::cancelled`]) before
    /// every case was computed: the finished cases are committed, the summary is not written.
    #[error("interrupted after {finished} of {total} case(s): the finished cases are kept, and running the same command again resumes from them")]
    Interrupted {
        /// Cases done (computed, failed or reused) when the run stopped.
        finished: usize,
        /// Cases of the run.
        total: usize,
    },
}

/// Maps an I/O error on `path` to [`OutputError::Io`].
pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}
