//! Writing a figure's files: PNG and/or SVG, each under a hidden temporary name renamed into
//! place when complete.

use super::render::{draw_layout, Layout};
use super::style::FONT;
use super::{FigureOutput, PlotError};
use plotters::prelude::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

static FONT_REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers DejaVu Sans as plotters' "sans-serif" family, once per process.
fn ensure_font() -> Result<(), PlotError> {
    FONT_REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font could not be parsed".to_string())
        })
        .clone()
        .map_err(PlotError::Font)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn with_extension_appended(stem: &Path, ext: &str) -> PathBuf {
    let mut s: OsString = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// A hidden, process- and call-unique temporary name next to the final file; it keeps the
/// real extension last because the PNG encoder picks the format from it.
fn temp_path(dir: &Path, name: &std::ffi::OsStr, ext: &str) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut s = OsString::from(".");
    s.push(name);
    s.push(format!(".{}-{n}.tmp.{ext}", std::process::id()));
    dir.join(s)
}

fn io_err(path: &Path, e: std::io::Error) -> PlotError {
    PlotError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn commit(tmp: &Path, path: &Path) -> Result<(), PlotError> {
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        io_err(path, e)
    })
}

/// Draws `fig` into `stem.png` and/or `stem.svg` (see the module doc of `figures`).
pub(super) fn write_layout(
    stem: &Path,
    out: &FigureOutput,
    fig: &Layout<'_>,
) -> Result<Vec<PathBuf>, PlotError> {
    if !out.png && !out.svg {
        return Ok(Vec::new());
    }
    let name = stem.file_name().ok_or_else(|| {
        PlotError::InvalidInput(format!("figure stem '{}' has no file name", stem.display()))
    })?;
    let dir = match stem.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    ensure_font()?;

    let mut written = Vec::new();
    if out.png {
        let path = with_extension_appended(stem, "png");
        let tmp = temp_path(&dir, name, "png");
        let result = {
            let root = BitMapBackend::new(&tmp, fig.size).into_drawing_area();
            draw_layout(fig, &root)
        };
        // The backend is dropped here; on failure it may have left a partial temporary file.
        if let Err(message) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(PlotError::Draw { path, message });
        }
        commit(&tmp, &path)?;
        written.push(path);
    }
    if out.svg {
        let path = with_extension_appended(stem, "svg");
        let mut text = String::new();
        let result = {
            let root = SVGBackend::with_string(&mut text, fig.size).into_drawing_area();
            draw_layout(fig, &root)
        };
        if let Err(message) = result {
            return Err(PlotError::Draw { path, message });
        }
        let tmp = temp_path(&dir, name, "svg");
        if let Err(e) = std::fs::write(&tmp, text.as_bytes()) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(&path, e));
        }
        commit(&tmp, &path)?;
        written.push(path);
    }
    Ok(written)
}
