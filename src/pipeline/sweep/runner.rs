//! Runs a sweep: every case (or one shard of them) in parallel, each into its own directory,
//! then `summary.csv`, `summary.json` and `figures/summary_*` over all cases.
//!
//! Nothing is lost and nothing is recomputed: the output directory is locked for the whole run
//! ([`lock_output`]), and each case directory is one commit of the writer (see
//! [`crate::pipeline::output::commit`]): complete when its `metadata.json` exists and every file
//! its manifest lists has the recorded size and hash. `metadata.json` also records the
//! [`case_hash`] of the case's resolved config and the crate version together with the case's
//! summary row. A re-run skips every complete case with a matching hash and computes the rest (a
//! deleted, truncated or altered table makes its case incomplete). A case that fails (an error,
//! or a panic) gets a row with its error; the others go on.
//!
//! `summary.csv` depends only on the configs and the code: a re-run, a resumed run and the
//! [`merge`] of the shards of a sweep all give the same bytes. `summary.json` records the
//! [`sweep_hash`], so that [`merge`] only combines shards of one sweep.

use super::summary::{summary_row, KeyInfo, SummaryRow, SweepSummary};
use crate::diagnostic::Diagnostic;
use crate::pipeline::config::sweep::Shard;
use crate::pipeline::config::Study;
use crate::pipeline::config::{case_hash, sweep_hash};
use crate::pipeline::error_chain;
use crate::pipeline::output::commit::{lock_output, verified_metadata};
use crate::pipeline::output::figures::FigureOutput;
use crate::pipeline::output::write::{write_case, write_study, write_summary};
use crate::pipeline::output::OutputError;
use crate::pipeline::study::plan::Calibration;
use crate::pipeline::study::{run_case, StudyResult};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How a case was obtained in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Computed now.
    Computed,
    /// Found complete on disk with the same hash.
    Reused,
    /// Failed (the row holds the error).
    Failed,
}

/// Receives progress while a sweep runs (called from worker threads).
pub trait Progress: Sync {
    /// The sweep starts: `total` cases in this shard, `reused` of them already on disk.
    fn start(&self, total: usize, reused: usize);
    /// A case is done (computed or failed); `seconds` is its wall time.
    fn finished(&self, row: &SummaryRow, outcome: Outcome, seconds: f64);
    /// True when the run should stop (e.g. Ctrl-C in a Python session): no case starts after
    /// it returns true, the cases already running finish and are committed.
    fn cancelled(&self) -> bool {
        false
    }
}

/// A [`Progress`] that reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: usize, _: usize) {}
    fn finished(&self, _: &SummaryRow, _: Outcome, _: f64) {}
}

/// Options of [`run_sweep`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SweepOptions {
    /// Run only this slice of the cases.
    pub shard: Option<Shard>,
    /// Formats of the summary figures (and of the per-case figures with `case_figures`).
    pub figures: FigureOutput,
    /// Draw every case's own figures too (costs ~0.1 s a case).
    pub case_figures: bool,
}

/// What [`run_sweep`] did.
#[derive(Debug, Clone)]
pub struct SweepReport {
    /// The summary written (this shard's rows).
    pub summary: SweepSummary,
    /// Cases computed now.
    pub computed: usize,
    /// Cases found complete on disk.
    pub reused: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Files written by the summary step.
    pub written: Vec<PathBuf>,
    /// Notes and warnings of the cases computed now, in case order (those of reused cases are
    /// in their `metadata.json`).
    pub diagnostics: Vec<Diagnostic>,
    /// Wall time (s).
    pub seconds: f64,
}

/// The row recorded in `dir/metadata.json` if the case directory is complete (every file of its
/// manifest intact) and was written by a case with this `hash`.
fn finished_row(dir: &Path, hash: &str) -> Option<SummaryRow> {
    let meta = verified_metadata(dir).ok()?;
    let sweep = meta.get("sweep")?;
    if sweep.get("hash")?.as_str()? != hash {
        return None;
    }
    serde_json::from_value(sweep.get("summary")?.clone()).ok()
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs the cases of `study` (all, or `options.shard`) into `dir/<case>/`, reusing finished
/// cases, and writes `dir/summary.csv`, `dir/summary.json` and `dir/figures/summary_*`, holding
/// the lock on `dir` throughout. Errors when another process holds the lock or the output
/// cannot be written; failing cases are recorded in the summary.
pub fn run_sweep(
    study: &Study,
    dir: &Path,
    options: &SweepOptions,
    progress: &dyn Progress,
) -> Result<SweepReport, OutputError> {
    let start = Instant::now();
    let _lock = lock_output(dir)?;
    let range = options
        .shard
        .map_or(0..study.cases.len(), |s| s.range(study.cases.len()));
    let (mut rows, todo) = finished_cases(study, dir, range);
    let reused = rows.len();
    progress.start(reused + todo.len(), reused);
    let case_figures = FigureOutput {
        png: options.case_figures && options.figures.png,
        svg: options.case_figures && options.figures.svg,
    };
    let total = reused + todo.len();
    let fresh: Vec<(SummaryRow, Outcome, Vec<Diagnostic>)> = todo
        .into_par_iter()
        .filter_map(|(i, hash)| {
            if progress.cancelled() {
                return None;
            }
            let t0 = Instant::now();
            let (row, outcome, diagnostics) = run_one_case(study, i, hash, dir, &case_figures);
            progress.finished(&row, outcome, t0.elapsed().as_secs_f64());
            Some((row, outcome, diagnostics))
        })
        .collect();
    if reused + fresh.len() < total {
        return Err(OutputError::Interrupted {
            finished: reused + fresh.len(),
            total,
        });
    }
    let computed = fresh
        .iter()
        .filter(|(_, o, _)| *o == Outcome::Computed)
        .count();
    let failed = fresh
        .iter()
        .filter(|(_, o, _)| *o == Outcome::Failed)
        .count();
    let mut diagnostics = Vec::new();
    for (row, _, d) in fresh {
        rows.push(row);
        diagnostics.extend(d);
    }
    rows.sort_by_key(|r| r.index);
    let summary = sweep_summary(study, options.shard, rows);
    let written = write_summary(dir, &summary, &options.figures)?;
    Ok(SweepReport {
        summary,
        computed,
        reused,
        failed,
        written,
        diagnostics,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Splits the cases `range` of `study` into those complete under `dir` (their recorded rows)
/// and those to compute (index and [`case_hash`]). Checking a finished case reads all its
/// files: in parallel.
fn finished_cases(
    study: &Study,
    dir: &Path,
    range: std::ops::Range<usize>,
) -> (Vec<SummaryRow>, Vec<(usize, String)>) {
    let checked: Vec<(usize, String, Option<SummaryRow>)> = range
        .into_par_iter()
        .map(|i| {
            let hash = case_hash(&study.cases[i].config);
            let row = finished_row(&dir.join(&study.cases[i].name), &hash);
            (i, hash, row.filter(|r| r.index == i))
        })
        .collect();
    let mut rows = Vec::with_capacity(checked.len());
    let mut todo = Vec::new();
    for (i, hash, row) in checked {
        match row {
            Some(row) => rows.push(row),
            None => todo.push((i, hash)),
        }
    }
    (rows, todo)
}

/// Computes case `i` of `study` (whose [`case_hash`] is `hash`) and writes it into
/// `dir/<case>/`; its summary row and its diagnostics, or a row with the error when it fails
/// (a panic included: one case must not take the sweep down with it).
fn run_one_case(
    study: &Study,
    i: usize,
    hash: String,
    dir: &Path,
    figures: &FigureOutput,
) -> (SummaryRow, Outcome, Vec<Diagnostic>) {
    let case = &study.cases[i];
    let t0 = Instant::now();
    let computed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(case)))
        .unwrap_or_else(|p| {
            Err(crate::pipeline::study::StudyError::Unsupported {
                case: case.name.clone(),
                message: format!("the computation panicked: {}", panic_message(p)),
            })
        });
    let result = match computed {
        Ok(result) => result,
        Err(e) => {
            return (
                failed_row(i, hash, study, error_chain(&e)),
                Outcome::Failed,
                Vec::new(),
            )
        }
    };
    let diagnostics = result.diagnostics.clone();
    let row = summary_row(i, hash.clone(), case, &result);
    let one = StudyResult {
        study: Study {
            path: study.path.clone(),
            name: study.name.clone(),
            cases: vec![case.clone()],
            sweep: None,
        },
        cases: vec![result],
        seconds: t0.elapsed().as_secs_f64(),
    };
    let extra = serde_json::json!({
        "hash": hash,
        "index": i,
        "swept": case.swept,
        "summary": row,
    });
    match write_case(&one, &dir.join(&case.name), figures, extra) {
        Ok(_) => (row, Outcome::Computed, diagnostics),
        Err(e) => {
            let error = format!("cannot write its results: {}", error_chain(&e));
            (
                failed_row(i, hash, study, error),
                Outcome::Failed,
                Vec::new(),
            )
        }
    }
}

/// The summary row of case `i` of `study` that failed with `error`.
fn failed_row(i: usize, hash: String, study: &Study, error: String) -> SummaryRow {
    let case = &study.cases[i];
    SummaryRow {
        index: i,
        name: case.name.clone(),
        hash,
        swept: case.swept.clone(),
        base_case: case.base_case.clone(),
        error: Some(error),
        bound_states: None,
        ground_energy: None,
        drops: Vec::new(),
        particles: None,
        particles_drop: None,
        coulomb_shift: None,
        coulomb_shift_spacings: None,
    }
}

/// The summary of `rows` (sorted by index) of `study`'s sweep, or of its `shard`.
fn sweep_summary(study: &Study, shard: Option<Shard>, rows: Vec<SummaryRow>) -> SweepSummary {
    SweepSummary {
        config_file: study.path.display().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        mode: study.sweep.as_ref().map(|s| s.mode),
        keys: study.sweep.as_ref().map_or_else(Vec::new, |s| {
            s.keys
                .iter()
                .map(|k| KeyInfo {
                    key: k.key.clone(),
                    unit: k.unit.clone(),
                    log: k.log,
                })
                .collect()
        }),
        total_cases: study.cases.len(),
        shard,
        sweep_hash: sweep_hash(study),
        rows,
    }
}

/// Why shard summaries could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A directory given to merge (or the output) could not be resolved.
    #[error("{}: cannot resolve the path", path.display())]
    Resolve {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A shard's `summary.json` could not be read.
    #[error("{}: cannot read it; is {} the output directory of a sweep run?", path.display(), dir.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The shard directory given.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A `summary.json` that does not parse as a sweep summary.
    #[error("{}: is not a confine sweep summary", path.display())]
    NotASummary {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A summary of an older confine, which records no sweep hash.
    #[error("{}: records no sweep hash (written by an older confine): re-run that shard with this version", path.display())]
    NoSweepHash {
        /// The file.
        path: PathBuf,
    },
    /// The summaries do not belong to one sweep, or cases are missing.
    #[error("{0}")]
    Inconsistent(String),
    /// The merged summary could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// `path` made absolute with every existing part resolved (symlinks, `..`), the rest appended
/// as written; so two spellings of one directory compare equal even before it exists.
fn resolved(path: &Path) -> std::io::Result<PathBuf> {
    use std::path::Component;
    let mut out = PathBuf::new();
    let mut exists = true;
    for c in std::path::absolute(path)?.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if !exists => {
                out.pop();
            }
            c => {
                out.push(c);
                if exists {
                    match out.canonicalize() {
                        Ok(p) => out = p,
                        Err(_) => exists = false,
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Reads `dir/summary.json` of each shard directory, checks that they are slices of one sweep
/// (same [`sweep_hash`], keys, mode, number of cases and confine version) that together hold
/// every case exactly once, and writes the combined `summary.csv`, `summary.json` and figures
/// into `out` under its lock. Refuses an `out` that is one of the inputs, lies inside one or
/// holds one, and an input given twice.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    figures: &FigureOutput,
) -> Result<SweepSummary, MergeError> {
    if dirs.is_empty() {
        return Err(MergeError::Inconsistent(
            "merge needs at least one directory holding a summary.json".into(),
        ));
    }
    check_merge_paths(dirs, out)?;
    let parts = dirs
        .iter()
        .map(|d| Ok((d, read_summary(d)?)))
        .collect::<Result<Vec<_>, MergeError>>()?;
    check_one_sweep(&parts)?;
    let first = &parts[0].1;
    let summary = SweepSummary {
        config_file: first.config_file.clone(),
        version: first.version.clone(),
        mode: first.mode,
        keys: first.keys.clone(),
        total_cases: first.total_cases,
        shard: None,
        sweep_hash: first.sweep_hash.clone(),
        rows: combined_rows(&parts)?,
    };
    let _lock = lock_output(out)?;
    write_summary(out, &summary, figures)?;
    Ok(summary)
}

/// Refuses an `out` that is one of the input `dirs`, lies inside one or holds one, and an
/// input given twice (paths compared [`resolved`]).
fn check_merge_paths(dirs: &[PathBuf], out: &Path) -> Result<(), MergeError> {
    let resolve = |p: &Path| {
        resolved(p).map_err(|source| MergeError::Resolve {
            path: p.to_path_buf(),
            source,
        })
    };
    let target = resolve(out)?;
    let mut inputs: Vec<PathBuf> = Vec::with_capacity(dirs.len());
    for d in dirs {
        let input = resolve(d)?;
        let clash = if input == target {
            Some("is the output directory")
        } else if target.starts_with(&input) {
            Some("holds the output directory")
        } else if input.starts_with(&target) {
            Some("lies inside the output directory")
        } else {
            None
        };
        if let Some(clash) = clash {
            return Err(MergeError::Inconsistent(format!(
                "input {} {clash} {}: merge writes summary.csv, summary.json and figures/ there and would overwrite or mix with a shard's own; choose an --out outside every shard directory",
                d.display(),
                out.display()
            )));
        }
        if let Some(j) = inputs.iter().position(|p| *p == input) {
            return Err(MergeError::Inconsistent(format!(
                "{} and {} are the same directory: give each shard once",
                dirs[j].display(),
                d.display()
            )));
        }
        inputs.push(input);
    }
    Ok(())
}

/// The `summary.json` of shard directory `d`, refused when it records no sweep hash.
fn read_summary(d: &Path) -> Result<SweepSummary, MergeError> {
    let path = d.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|source| MergeError::Unreadable {
        path: path.clone(),
        dir: d.to_path_buf(),
        source,
    })?;
    let s: SweepSummary =
        serde_json::from_str(&text).map_err(|source| MergeError::NotASummary {
            path: path.clone(),
            source,
        })?;
    if s.sweep_hash.is_empty() {
        return Err(MergeError::NoSweepHash { path });
    }
    Ok(s)
}

/// Refuses summaries (with their directories) that are not slices of one sweep.
fn check_one_sweep(parts: &[(&PathBuf, SweepSummary)]) -> Result<(), MergeError> {
    let (d0, first) = &parts[0];
    for (d, s) in &parts[1..] {
        let differs = if s.version != first.version {
            Some(format!(
                "confine versions differ ({} and {})",
                first.version, s.version
            ))
        } else if s.keys != first.keys || s.mode != first.mode {
            Some("the swept keys or the sweep mode differ".to_string())
        } else if s.total_cases != first.total_cases {
            Some(format!(
                "the number of cases differs ({} and {})",
                first.total_cases, s.total_cases
            ))
        } else if s.sweep_hash != first.sweep_hash {
            Some(format!(
                "their cases differ: another config (other values of a fixed key, other swept values or other case names; sweep hashes {} and {})",
                first.sweep_hash, s.sweep_hash
            ))
        } else {
            None
        };
        if let Some(why) = differs {
            return Err(MergeError::Inconsistent(format!(
                "{} and {} hold different sweeps ({why}): merge only the shards of one sweep",
                d0.display(),
                d.display()
            )));
        }
    }
    Ok(())
}

/// The rows of every summary by case index; refuses a case in two summaries (naming both), an
/// index beyond the sweep and missing cases.
fn combined_rows(parts: &[(&PathBuf, SweepSummary)]) -> Result<Vec<SummaryRow>, MergeError> {
    let total = parts[0].1.total_cases;
    // The input holding each case, so that a case in two inputs names both.
    let mut rows: Vec<Option<(usize, SummaryRow)>> = vec![None; total];
    for (k, (d, s)) in parts.iter().enumerate() {
        for r in &s.rows {
            if r.index >= total {
                return Err(MergeError::Inconsistent(format!(
                    "{}: case index {} is beyond the sweep's {total} cases",
                    d.display(),
                    r.index
                )));
            }
            if let Some((j, _)) = &rows[r.index] {
                let shard = |s: &SweepSummary| {
                    s.shard.map_or("all cases".to_string(), |s| {
                        format!("shard {}/{}", s.index, s.count)
                    })
                };
                return Err(MergeError::Inconsistent(format!(
                    "case {} ({}) is in both {} ({}) and {} ({}): give each shard once",
                    r.index,
                    r.name,
                    parts[*j].0.display(),
                    shard(&parts[*j].1),
                    d.display(),
                    shard(s)
                )));
            }
            rows[r.index] = Some((k, r.clone()));
        }
    }
    let missing: Vec<usize> = (0..total).filter(|&i| rows[i].is_none()).collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(10).map(|i| i.to_string()).collect();
        return Err(MergeError::Inconsistent(format!(
            "{} of {total} cases are in none of the summaries (indices {}{}): run the missing shards first",
            missing.len(),
            shown.join(", "),
            if missing.len() > 10 { ", …" } else { "" }
        )));
    }
    Ok(rows.into_iter().flatten().map(|(_, r)| r).collect())
}

/// Times the reference case of [`Calibration`] on this machine: its computation
/// ([`Calibration::compute`]) and writing its output once (with `figures`) into a temporary
/// directory that is removed again. Lives here, where both the study and the output are known.
pub fn calibrate(figures: &FigureOutput) -> Calibration {
    let (mut calibration, reference) = Calibration::compute();
    if let Some(one) = reference {
        let dir = std::env::temp_dir().join(format!("confine-calibration-{}", std::process::id()));
        let start = Instant::now();
        if write_study(&one, &dir, figures).is_ok() {
            calibration.output_seconds = start.elapsed().as_secs_f64();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    calibration
}
