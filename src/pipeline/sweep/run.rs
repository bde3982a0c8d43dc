//! Runs a sweep: every case (or one shard of them) in parallel, each into its own directory,
//! then `summary.csv`, `summary.json` and `figures/summary_*` over all cases.
//!
//! Nothing is lost and nothing is recomputed: the output directory is locked for the whole run
//! ([`OutputLock`]), and each case directory is one commit of the writer (see
//! [`crate::pipeline::output::run`]): complete when its `metadata.json` exists and every file its manifest
//! lists has the recorded size and hash. `metadata.json` also records the [`case_hash`] of the
//! case's resolved config and the crate version together with the case's summary row. A re-run
//! skips every complete case with a matching hash and computes the rest (a deleted, truncated or
//! altered table makes its case incomplete). A case that fails (an error, or a panic) gets a row
//! with its error; the others go on.
//!
//! `summary.csv` depends only on the configs and the code: a re-run, a resumed run and the
//! [`merge`] of the shards of a sweep all give the same bytes. `summary.json` records the
//! [`sweep_hash`], so that [`merge`] only combines shards of one sweep.

use super::{case_hash, sweep_hash, Shard, SweepMode, SweptValue};
use crate::physics::thermo::largest_drop;
use crate::pipeline::config::{Case, Study};
use crate::pipeline::output::lock::OutputLock;
use crate::pipeline::output::plots::{xy_figure, FigureOutput, Series, XyFigure};
use crate::pipeline::output::run::{verified_metadata, write_case, OutputError, Staging};
use crate::pipeline::output::tables::{Cell, Csv};
use crate::pipeline::study::{run_case, CaseResult, StudyResult};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The temperature definitions of the summary, in column order.
pub const DEFINITIONS: [&str; 4] = ["T_K", "T_mu", "T_C", "T_KE"];

/// The largest negative-heat-capacity drop of one temperature definition (Hartree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropSummary {
    /// "T_K", "T_mu", "T_C" or "T_KE".
    pub definition: String,
    /// Number of NHC intervals.
    pub intervals: usize,
    /// Size of the largest drop t_start − t_end (Hartree), if any.
    pub largest_drop: Option<f64>,
    /// The largest drop relative to the temperature where it starts.
    pub relative_drop: Option<f64>,
    /// Energy where the largest drop starts (Hartree; E/N for N particles).
    pub drop_energy: Option<f64>,
}

/// One row of `summary.csv`: one case of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Position of the case in the study (0-based).
    pub index: usize,
    /// Case name (its directory).
    pub name: String,
    /// [`case_hash`] of the case.
    pub hash: String,
    /// The swept values.
    pub swept: Vec<SweptValue>,
    /// The `[[cases]]` entry the case comes from, if any.
    pub base_case: Option<String>,
    /// The error, when the case failed.
    pub error: Option<String>,
    /// Number of bound levels (E < 0).
    pub bound_states: Option<usize>,
    /// Ground-state energy (Hartree).
    pub ground_energy: Option<f64>,
    /// One entry per definition of [`DEFINITIONS`] (N = 1).
    pub drops: Vec<DropSummary>,
    /// Largest particle number of `[particles]`, if any.
    pub particles: Option<usize>,
    /// T_E^(K) drop of that N (energies per particle).
    pub particles_drop: Option<DropSummary>,
    /// `[coulomb]`: ground-state shift E₀(W) − E₀(W off) of the first ε_r (Hartree).
    #[serde(default)]
    pub coulomb_shift: Option<f64>,
    /// The same shift in units of the level spacing e₁ − e₀.
    #[serde(default)]
    pub coulomb_shift_spacings: Option<f64>,
}

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

/// What `summary.json` holds: the sweep, the shard and every row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// The config file.
    pub config_file: String,
    /// crate version that computed it.
    pub version: String,
    /// How the keys were combined (`None` for a study without `[sweep]`).
    pub mode: Option<SweepMode>,
    /// The swept keys and their units.
    pub keys: Vec<KeyInfo>,
    /// Cases of the whole sweep (all shards).
    pub total_cases: usize,
    /// The shard these rows are (`None`: all of them).
    pub shard: Option<Shard>,
    /// [`sweep_hash`] of the whole sweep (empty in summaries of older versions).
    #[serde(default)]
    pub sweep_hash: String,
    /// The rows, by case index.
    pub rows: Vec<SummaryRow>,
}

/// A swept key and the unit its values are written in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// Dotted config key.
    pub key: String,
    /// Unit of the values ("eV"), `None` for atomic units / bare numbers.
    pub unit: Option<String>,
    /// True when the values were log-spaced (the summary figures then use a log axis).
    pub log: bool,
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
    /// Wall time (s).
    pub seconds: f64,
}

fn drop_summary(definition: &str, sets: &[crate::pipeline::study::NhcSet]) -> DropSummary {
    let set = sets.iter().find(|s| s.definition == definition);
    let intervals = set.map_or(&[][..], |s| s.intervals.as_slice());
    let best = largest_drop(intervals);
    DropSummary {
        definition: definition.to_string(),
        intervals: intervals.len(),
        largest_drop: best.map(|i| i.drop),
        relative_drop: best.map(|i| i.relative_drop),
        drop_energy: best.map(|i| i.e_start),
    }
}

/// The summary row of a computed case.
pub fn summary_row(index: usize, hash: String, case: &Case, c: &CaseResult) -> SummaryRow {
    let largest = c.particles.iter().max_by_key(|p| p.particles);
    SummaryRow {
        index,
        name: c.name.clone(),
        hash,
        swept: case.swept.clone(),
        base_case: case.base_case.clone(),
        error: None,
        bound_states: Some(c.levels.iter().filter(|l| l.energy < 0.0).count()),
        ground_energy: c.levels.first().map(|l| l.energy),
        drops: DEFINITIONS
            .iter()
            .map(|d| drop_summary(d, &c.nhc))
            .collect(),
        particles: largest.map(|p| p.particles),
        particles_drop: largest.map(|p| drop_summary("T_KE", &p.nhc)),
        coulomb_shift: c
            .coulomb
            .as_ref()
            .filter(|cr| cr.variants.len() > 1)
            .map(|cr| cr.shift(1).ground_shift),
        coulomb_shift_spacings: c
            .coulomb
            .as_ref()
            .filter(|cr| cr.variants.len() > 1)
            .map(|cr| cr.shift(1).shift_in_spacings),
    }
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
    let _lock = OutputLock::acquire(dir)?;
    let range = options
        .shard
        .map_or(0..study.cases.len(), |s| s.range(study.cases.len()));
    // Checking a finished case reads all its files: in parallel.
    let checked: Vec<(usize, String, Option<SummaryRow>)> = range
        .into_par_iter()
        .map(|i| {
            let hash = case_hash(&study.cases[i].config);
            let row = finished_row(&dir.join(&study.cases[i].name), &hash);
            (i, hash, row.filter(|r| r.index == i))
        })
        .collect();
    let mut rows: Vec<SummaryRow> = Vec::with_capacity(checked.len());
    let mut todo = Vec::new();
    for (i, hash, row) in checked {
        match row {
            Some(row) => rows.push(row),
            None => todo.push((i, hash)),
        }
    }
    let reused = rows.len();
    progress.start(reused + todo.len(), reused);
    let case_figures = FigureOutput {
        png: options.case_figures && options.figures.png,
        svg: options.case_figures && options.figures.svg,
    };
    let fresh: Vec<(SummaryRow, Outcome)> = todo
        .into_par_iter()
        .map(|(i, hash)| {
            let case = &study.cases[i];
            let t0 = Instant::now();
            let failed = |error: String| SummaryRow {
                index: i,
                name: case.name.clone(),
                hash: hash.clone(),
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
            };
            // A panic in one case must not take the sweep down with it.
            let computed =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(case)))
                    .unwrap_or_else(|p| {
                        Err(crate::pipeline::study::StudyError::Unsupported {
                            case: case.name.clone(),
                            message: format!("the computation panicked: {}", panic_message(p)),
                        })
                    });
            let (row, outcome) = match computed {
                Err(e) => (failed(e.to_string()), Outcome::Failed),
                Ok(result) => {
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
                    match write_case(&one, &dir.join(&case.name), &case_figures, extra) {
                        Ok(_) => (row, Outcome::Computed),
                        Err(e) => (
                            failed(format!("cannot write its results: {e}")),
                            Outcome::Failed,
                        ),
                    }
                }
            };
            progress.finished(&row, outcome, t0.elapsed().as_secs_f64());
            (row, outcome)
        })
        .collect();
    let computed = fresh
        .iter()
        .filter(|(_, o)| *o == Outcome::Computed)
        .count();
    let failed = fresh.iter().filter(|(_, o)| *o == Outcome::Failed).count();
    rows.extend(fresh.into_iter().map(|(r, _)| r));
    rows.sort_by_key(|r| r.index);
    let summary = SweepSummary {
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
        shard: options.shard,
        sweep_hash: sweep_hash(study),
        rows,
    };
    let written = write_summary(dir, &summary, &options.figures)?;
    Ok(SweepReport {
        summary,
        computed,
        reused,
        failed,
        written,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The `summary.csv` of `summary`: case index and name, the swept values, status, bound states,
/// ground energy, then per temperature definition the number of NHC intervals and the size,
/// relative size and start energy of the largest drop, the same for the largest N of
/// `[particles]`, the Coulomb ground-state shift of `[coulomb]`; the error of a failed case last.
pub fn summary_csv(summary: &SweepSummary) -> Csv {
    let mut header: Vec<String> = vec!["case index".into(), "case".into()];
    for k in &summary.keys {
        header.push(match &k.unit {
            Some(u) => format!("{} [{u}]", k.key),
            None => k.key.clone(),
        });
    }
    header.extend(["status".into(), "bound states".into(), "E_0 [Ha]".into()]);
    for d in DEFINITIONS {
        header.extend([
            format!("{d} NHC intervals"),
            format!("{d} largest drop [Ha]"),
            format!("{d} relative drop [-]"),
            format!("{d} drop starts at E [Ha]"),
        ]);
    }
    header.extend([
        "N (largest)".into(),
        "T_KE(N) NHC intervals".into(),
        "T_KE(N) largest drop [Ha]".into(),
        "T_KE(N) relative drop [-]".into(),
        "T_KE(N) drop starts at E/N [Ha]".into(),
        "Coulomb shift [Ha]".into(),
        "Coulomb shift [e_1 - e_0]".into(),
        "error".into(),
    ]);
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = Csv::new(&refs);
    for r in &summary.rows {
        let mut cells: Vec<Cell> = vec![Cell::Int(r.index as u64), Cell::Text(&r.name)];
        for k in &summary.keys {
            let v = r.swept.iter().find(|v| v.key == k.key);
            cells.push(match v.and_then(|v| v.number) {
                Some(x) => Cell::Num(x),
                None => Cell::Text(v.map_or("", |v| v.text.as_str())),
            });
        }
        cells.push(Cell::Text(if r.error.is_some() { "failed" } else { "ok" }));
        cells.push(match r.bound_states {
            Some(b) => Cell::Int(b as u64),
            None => Cell::Text(""),
        });
        cells.push(Cell::Opt(r.ground_energy));
        let drop_cells = |d: Option<&DropSummary>, cells: &mut Vec<Cell>| match d {
            Some(d) => cells.extend([
                Cell::Int(d.intervals as u64),
                Cell::Opt(d.largest_drop),
                Cell::Opt(d.relative_drop),
                Cell::Opt(d.drop_energy),
            ]),
            None => cells.extend([
                Cell::Text(""),
                Cell::Opt(None),
                Cell::Opt(None),
                Cell::Opt(None),
            ]),
        };
        for d in DEFINITIONS {
            drop_cells(r.drops.iter().find(|x| x.definition == d), &mut cells);
        }
        cells.push(match r.particles {
            Some(n) => Cell::Int(n as u64),
            None => Cell::Text(""),
        });
        drop_cells(r.particles_drop.as_ref(), &mut cells);
        cells.push(Cell::Opt(r.coulomb_shift));
        cells.push(Cell::Opt(r.coulomb_shift_spacings));
        cells.push(Cell::Text(r.error.as_deref().unwrap_or("")));
        t.row(&cells);
    }
    t
}

/// One figure per summary metric against the first swept key, a line per definition (and per
/// combination of the other keys' values); returns the relative paths written under `root`.
fn summary_figures(
    root: &Path,
    summary: &SweepSummary,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let Some(first) = summary.keys.first() else {
        return Ok(Vec::new());
    };
    let ok: Vec<&SummaryRow> = summary.rows.iter().filter(|r| r.error.is_none()).collect();
    let x_of = |r: &SummaryRow| r.swept.first().and_then(|v| v.number);
    if ok.is_empty() || ok.iter().any(|r| x_of(r).is_none()) {
        return Ok(Vec::new()); // no numeric x axis to plot against
    }
    // Groups: the `[[cases]]` entry and, in a product, the values of the other keys (zipped
    // keys vary with x and make no groups).
    let product = summary.mode != Some(SweepMode::Zip);
    let group_of = |r: &SummaryRow| -> String {
        let others = r.swept.iter().skip(1).filter(|_| product).map(|v| {
            let short = v.key.rsplit('.').next().unwrap_or(&v.key);
            format!("{short} = {}", v.text)
        });
        r.base_case
            .iter()
            .cloned()
            .chain(others)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut groups: Vec<String> = Vec::new();
    for r in &ok {
        let g = group_of(r);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let x_label = match &first.unit {
        Some(u) => format!("{} ({u})", first.key),
        None => format!("{} (atomic units)", first.key),
    };
    let fig_dir = root.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|source| OutputError::Io {
        path: fig_dir.clone(),
        source,
    })?;
    type Metric = fn(&DropSummary) -> Option<f64>;
    let metrics: [(&str, &str, Metric); 4] = [
        ("summary_nhc_intervals", "number of NHC intervals", |d| {
            Some(d.intervals as f64)
        }),
        (
            "summary_largest_drop",
            "largest temperature drop (Ha)",
            |d| d.largest_drop,
        ),
        (
            "summary_relative_drop",
            "largest relative temperature drop",
            |d| d.relative_drop,
        ),
        (
            "summary_drop_energy",
            "energy where the largest drop starts (Ha)",
            |d| d.drop_energy,
        ),
    ];
    // With several groups only T^(K) and T_E^(K), the paper's pair, keep the figures readable.
    let names: &[(&str, &str)] = if groups.len() > 1 {
        &[("T_K", "T^(K)"), ("T_KE", "T_E^(K)")]
    } else {
        &[
            ("T_K", "T^(K)"),
            ("T_mu", "T^(μ)"),
            ("T_C", "T^(C)"),
            ("T_KE", "T_E^(K)"),
        ]
    };
    let figure_err = |e: crate::pipeline::output::plots::PlotError| OutputError::Figure {
        name: "summary".into(),
        message: e.to_string(),
    };
    let mut written = Vec::new();
    for (stem, y_label, metric) in metrics {
        let mut series = Vec::new();
        for g in &groups {
            for &(def, pretty) in names {
                let pts: Vec<(f64, f64)> = ok
                    .iter()
                    .filter(|r| group_of(r) == *g)
                    .filter_map(|r| {
                        let d = r.drops.iter().find(|d| d.definition == def)?;
                        Some((x_of(r)?, metric(d)?))
                    })
                    .collect();
                let label = if g.is_empty() {
                    pretty.to_string()
                } else {
                    format!("{pretty}, {g}")
                };
                series.push(Series::new(
                    label,
                    pts.iter().map(|p| p.0).collect(),
                    pts.iter().map(|p| p.1).collect(),
                ));
            }
        }
        let fig = XyFigure {
            title: format!("{y_label} vs {}", first.key),
            x_label: x_label.clone(),
            y_label: y_label.to_string(),
            series,
            log_x: first.log,
            log_y: false,
        };
        for p in xy_figure(&fig_dir.join(stem), &fig, out).map_err(figure_err)? {
            written.push(p.strip_prefix(root).map(Path::to_path_buf).unwrap_or(p));
        }
    }
    let bound: Vec<Series> = groups
        .iter()
        .map(|g| {
            let pts: Vec<(f64, f64)> = ok
                .iter()
                .filter(|r| group_of(r) == *g)
                .filter_map(|r| Some((x_of(r)?, r.bound_states? as f64)))
                .collect();
            Series::new(
                if g.is_empty() {
                    "bound states".to_string()
                } else {
                    g.clone()
                },
                pts.iter().map(|p| p.0).collect(),
                pts.iter().map(|p| p.1).collect(),
            )
        })
        .collect();
    let fig = XyFigure {
        title: format!("bound states vs {}", first.key),
        x_label,
        y_label: "bound states (E < 0)".into(),
        series: bound,
        log_x: first.log,
        log_y: false,
    };
    for p in xy_figure(&fig_dir.join("summary_bound_states"), &fig, out).map_err(figure_err)? {
        written.push(p.strip_prefix(root).map(Path::to_path_buf).unwrap_or(p));
    }
    Ok(written)
}

/// Writes `summary.csv`, `summary.json` and the summary figures of `summary` into `dir` in one
/// commit with `summary.json` as its marker (see [`crate::pipeline::output::run`]); summary figures of an
/// earlier run that this one does not draw are deleted.
pub fn write_summary(
    dir: &Path,
    summary: &SweepSummary,
    figures: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let json = serde_json::to_string_pretty(summary).map_err(|e| OutputError::Io {
        path: dir.join("summary.json"),
        source: std::io::Error::other(e),
    })?;
    let mut staging = Staging::new(dir)?;
    staging.write(Path::new("summary.csv"), summary_csv(summary).as_str())?;
    if figures.png || figures.svg {
        let drawn = summary_figures(&staging.content(), summary, figures)?;
        staging.add(drawn);
    }
    staging.write(Path::new("summary.json"), &(json + "\n"))?;
    let old_figures: Vec<PathBuf> = std::fs::read_dir(dir.join("figures"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .filter(|n| n.to_string_lossy().starts_with("summary_"))
                .map(|n| Path::new("figures").join(n))
                .collect()
        })
        .unwrap_or_default();
    staging.commit(Path::new("summary.json"), old_figures)
}

/// Why shard summaries could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A summary could not be read or parsed.
    #[error("{}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
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
    let resolve = |p: &Path| {
        resolved(p).map_err(|e| MergeError::Read {
            path: p.to_path_buf(),
            message: format!("cannot resolve the path: {e}"),
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
    let mut parts = Vec::with_capacity(dirs.len());
    for d in dirs {
        let path = d.join("summary.json");
        let text = std::fs::read_to_string(&path).map_err(|e| MergeError::Read {
            path: path.clone(),
            message: format!(
                "cannot read it ({e}); is {} the output directory of a sweep run?",
                d.display()
            ),
        })?;
        let s: SweepSummary = serde_json::from_str(&text).map_err(|e| MergeError::Read {
            path: path.clone(),
            message: format!("is not a confine sweep summary: {e}"),
        })?;
        if s.sweep_hash.is_empty() {
            return Err(MergeError::Read {
                path,
                message: "records no sweep hash (written by an older confine): re-run that shard with this version".into(),
            });
        }
        parts.push((d, s));
    }
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
    let total = first.total_cases;
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
    let summary = SweepSummary {
        config_file: first.config_file.clone(),
        version: first.version.clone(),
        mode: first.mode,
        keys: first.keys.clone(),
        total_cases: total,
        shard: None,
        sweep_hash: first.sweep_hash.clone(),
        rows: rows.into_iter().flatten().map(|(_, r)| r).collect(),
    };
    let _lock = OutputLock::acquire(out)?;
    write_summary(out, &summary, figures)?;
    Ok(summary)
}
