//! Helpers shared by the test modules: scratch directories and small reference configs.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh path under the system temp dir, unique to this process and call, with nothing in it
/// (a leftover of an earlier process with the same pid is removed). Not created.
pub fn scratch(tag: &str) -> PathBuf {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "confine-test-{}-{}-{tag}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A fresh, created scratch directory (see [`scratch`]).
pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = scratch(tag);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` to `name` in this process's file directory (one for all calls, so that a
/// config and the table it names sit side by side); returns the file's path.
pub fn write_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("confine-test-{}-files", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Config text of a square well (atomic units): depth `depth` on |x| < `half_width` in a box
/// of half-width `box_half_width`, grid spacing `spacing`, `levels` levels.
pub fn square_well(
    box_half_width: f64,
    depth: f64,
    half_width: f64,
    spacing: f64,
    levels: usize,
) -> String {
    format!(
        "[system]\nbox_half_width = {box_half_width:?}\n\
         [potential]\ntype = \"square_well\"\ndepth = {depth:?}\nhalf_width = {half_width:?}\n\
         [grid]\nspacing = {spacing:?}\n[solve]\nlevels = {levels}\n"
    )
}
