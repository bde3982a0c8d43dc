//! Helpers shared by the test modules: scratch directories and small reference configs.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh path under the system temp dir, unique to this process and call, with nothing in it
/// (a leftover of an earlier process with the same pid is removed). Not created.
pub fn scratch(tag: &str) -> PathBuf {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    static SWEEP: std::sync::Once = std::sync::Once::new();
    SWEEP.call_once(remove_scratch_of_ended_runs);
    let dir = std::env::temp_dir().join(format!(
        "confine-test-{}-{}-{tag}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The scratch directories are left in place for inspection after a failure; the next run
/// removes those of test processes that have ended (Linux: no /proc/<pid>), so they do not
/// pile up in the temp dir. Elsewhere nothing is removed.
fn remove_scratch_of_ended_runs() {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("confine-test-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
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

/// The `confine` binary of this build, ready for arguments.
pub fn confine() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_confine"))
}

/// Every file under `dir` by its `/`-separated relative path, with its bytes; entries whose
/// name starts with `.` (the writer's hidden staging, commit and lock entries) are skipped, and
/// so are `metadata.json` files when `with_metadata` is false (they record wall times).
pub fn output_files(
    dir: &std::path::Path,
    with_metadata: bool,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut found = std::collections::BTreeMap::new();
    let mut todo = vec![String::new()];
    while let Some(rel) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in entries {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type().unwrap().is_dir() {
                todo.push(child);
            } else if with_metadata || name != "metadata.json" {
                found.insert(child, std::fs::read(e.path()).unwrap());
            }
        }
    }
    found
}

/// The hidden entries (names starting with `.`) anywhere under `dir`, as relative paths.
pub fn hidden_entries(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in entries {
            let e = e.unwrap();
            let child = rel.join(e.file_name());
            if e.file_name().to_string_lossy().starts_with('.') {
                found.push(child);
            } else if e.file_type().unwrap().is_dir() {
                todo.push(child);
            }
        }
    }
    found
}

/// Runs the `confine` binary with `args` in the repository root and returns its output.
pub fn confine_output(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the confine binary runs")
}

/// The standard error of a run, as text.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A clean failure: exit status 1, no panic, one `error: ` message holding every `must_contain`.
#[track_caller]
pub fn assert_clean_failure(o: &std::process::Output, must_contain: &[&str]) {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success: {err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for m in must_contain {
        assert!(err.contains(m), "`{m}` missing from: {err}");
    }
}

/// The header and the rows of a CSV file, each as its comma-separated cells.
pub fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// Small deterministic generator (xorshift64*), uniform in [0, 1).
pub struct Rng(pub u64);

impl Rng {
    /// The next number, uniform in [0, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}
