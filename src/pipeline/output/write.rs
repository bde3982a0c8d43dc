//! Writes results into an output directory, each set of files in one commit
//! ([`super::commit`]): a study (per case its tables, `metadata.json` with a manifest of every
//! file, `figures/`), one case of a sweep in its own directory, or a sweep's summary
//! (`summary.csv`, `summary.json`, `figures/summary_*`).

use super::commit::{files_under, lock_output, manifest_files, Staging};
use super::figures::FigureOutput;
use super::result_figures::{study_figures, summary_figures};
use super::study_tables::{case_tables, states_file_of};
use super::OutputError;
use crate::model::units::{HARTREE_IN_EV, HARTREE_IN_KELVIN};
use crate::physics::thermo::nhc::select_intervals;
use crate::pipeline::study::particles::ParticleResult;
use crate::pipeline::study::timing::{peak_rss_bytes, StageTimes};
use crate::pipeline::study::CaseResult;
use crate::pipeline::study::{StudyResult, TemperatureDefinition};
use crate::pipeline::sweep::summary::{summary_csv, SweepSummary};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `text` gzip-compressed; the header carries no time stamp or name, so equal tables give equal
/// bytes (a resumed or re-run study reproduces its files).
fn gzip(text: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes())?;
    encoder.finish()
}

/// Which per-state table of `p` was written (`{"written": "states.csv"}`), or why none was
/// (`{"omitted": "..."}`); `null` for binned results, which have no states to list.
fn states_file_entry(c: &CaseResult, p: &ParticleResult) -> serde_json::Value {
    let Some(table) = &p.per_state else {
        return serde_json::Value::Null;
    };
    match states_file_of(c).file_name(table.energy.len()) {
        Ok(file) => json!({ "written": file }),
        Err(why) => json!({ "omitted": why }),
    }
}

/// The provenance of a study: config, grid, solver report, truncation, NHC counts, the
/// N-particle and Coulomb summaries and wall times per case, with the units and conventions.
fn metadata(result: &StudyResult, figures: &[String], output: &StageTimes) -> serde_json::Value {
    let cases: Vec<serde_json::Value> = result
        .cases
        .iter()
        .map(|c| {
            let mut case = json!({
                "name": c.name,
                "config": c.config,
                "grid": c.spectrum.grid().summary(),
                "solver": c.spectrum.slab().map(|s| &s.report),
                "levels_computed": c.levels.len(),
                "bound_levels": c.levels.iter().filter(|l| l.energy < 0.0).count(),
                "truncation": c.truncation,
                "nhc_intervals": c.nhc.iter().map(|s| json!({
                    "definition": s.definition,
                    "count": s.intervals.len(),
                    "listed_in_nhc_csv": select_intervals(&s.intervals, c.config.analysis.nhc_min_relative_drop, c.config.analysis.nhc_max_intervals).0.len(),
                    "largest_drop": s.intervals.iter().map(|i| i.drop).fold(0.0, f64::max),
                })).collect::<Vec<_>>(),
                "particles": c.particles.iter().map(|p| json!({
                    "N": p.particles,
                    "spin": p.spin,
                    "method": p.method,
                    "energy_max": p.energy_max,
                    "ground_energy": p.ground_energy,
                    "states": p.states,
                    "occupations": p.occupations,
                    "orbitals_needed": p.orbitals_needed,
                    "canonical_truncation_bound": p.canonical_bound,
                    "entropy_dent": p.intruder,
                    "states_file": states_file_entry(c, p),
                    "seconds": p.seconds,
                })).collect::<Vec<_>>(),
                "coulomb": c.coulomb.as_ref().map(|cr| json!({
                    "orbitals": cr.orbitals,
                    "level_spacing": cr.level_spacing,
                    "grid_check_max_abs_difference": cr.grid_check.iter().map(|r| r.difference.abs()).fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d)))),
                    "seconds": cr.seconds,
                    "variants": cr.variants.iter().enumerate().map(|(i, v)| json!({
                        "label": v.label,
                        "eps_r": v.eps_r,
                        "ground_energy": v.result.ground_energy,
                        "ground_spin": v.ground_spin,
                        "ground_interaction": v.ground_interaction,
                        "shift": cr.shift(i),
                        "states": v.result.states,
                        "energy_max": v.result.energy_max,
                        "canonical_truncation_estimate": v.result.canonical_bound,
                        "convergence": v.convergence.as_ref().map(|c| json!({
                            "M": c.coarse_orbitals,
                            "M_prime": c.fine_orbitals,
                            "ground_M": c.coarse_ground,
                            "ground_M_prime": c.fine_ground,
                            "max_abs_change_below_energy_max": c.max_abs_change(),
                        })),
                        "seconds": v.result.seconds,
                    })).collect::<Vec<_>>(),
                })),
                "warnings": c.diagnostics.iter().filter(|d| d.is_warning()).collect::<Vec<_>>(),
                "notes": c.diagnostics.iter().filter(|d| !d.is_warning()).collect::<Vec<_>>(),
                "seconds": {"spectrum": c.spectrum_seconds, "thermodynamics": c.thermo_seconds},
            });
            if let Some(r) = c.spectrum.radial() {
                // The channel completeness proof, as the Sturm count is the slab's.
                case["geometry"] = json!(r.geometry.name());
                case["dimension"] = json!(r.dimension());
                case["channels"] = json!(r.completeness);
            }
            case
        })
        .collect();
    let radial = result.cases.iter().any(|c| c.spectrum.radial().is_some());
    let mut conventions = json!({
        "dimension": if radial { json!("per case: cases[i].dimension, 1 without it (slab)") } else { json!(1) },
        "S": "Hertz entropy ln Omega(E), Omega = number of states with E_i <= E",
    });
    for d in TemperatureDefinition::ALL {
        conventions[d.tag()] = json!(d.convention());
    }
    json!({
        "generator": {"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")},
        "config_file": result.study.path.display().to_string(),
        "units": {
            "energy": "hartree", "temperature": "hartree (k_B = 1)", "length": "bohr",
            "mass": "electron_mass", "entropy": "k_B",
            "hartree_in_ev": HARTREE_IN_EV, "hartree_in_kelvin": HARTREE_IN_KELVIN,
        },
        "conventions": conventions,
        "cases": cases,
        "figures": figures,
        "seconds": result.seconds,
        "timings": {
            "cases": result.cases.iter().map(|c| json!({"case": c.name, "stages": c.stages})).collect::<Vec<_>>(),
            "output": output,
            "computation_seconds": result.seconds,
            "peak_rss_bytes": peak_rss_bytes(),
        },
    })
}

/// Writes one case of a sweep into its own directory `dir` (inside the sweep's output
/// directory, which is locked): its tables, optionally its figures, and `metadata.json` with
/// `extra` under the key `"sweep"`, in one commit (see [`super::commit`]); every other file left in
/// `dir` by an earlier run is deleted.
pub fn write_case(
    result: &StudyResult,
    dir: &Path,
    figures: &FigureOutput,
    extra: serde_json::Value,
) -> Result<Vec<PathBuf>, OutputError> {
    let (parent, name) = match (dir.parent(), dir.file_name()) {
        (Some(p), Some(n)) => (
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            },
            n,
        ),
        _ => {
            return Err(OutputError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::other("a case directory needs a parent and a name"),
            })
        }
    };
    let prefix = Path::new(name);
    // Locked (and recovered) before looking at what the directory holds.
    let _lock = lock_output(parent)?;
    let old = parent.join(prefix);
    let stale = if old.is_dir() {
        files_under(&old)?
            .into_iter()
            .map(|f| prefix.join(f))
            .collect()
    } else {
        Vec::new()
    };
    write_results(result, parent, prefix, figures, false, Some(extra), stale)
}

/// Stages the tables of every case (in `<case>/` when `case_dirs`, else directly) under
/// `prefix`, the figures and `metadata.json` (with its manifest, and `extra` under `"sweep"`),
/// then commits them into `target` with `metadata.json` as the marker.
fn write_results(
    result: &StudyResult,
    target: &Path,
    prefix: &Path,
    figures: &FigureOutput,
    case_dirs: bool,
    extra: Option<serde_json::Value>,
    stale: Vec<PathBuf>,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut staging = Staging::new(target)?;
    let mut output = StageTimes::default();
    let content = staging.content().join(prefix);
    // The tables (written one after another) and the figures (drawn in parallel) are
    // independent files: both run at once, so that the figures fill the second core.
    let (tables, drawn) = rayon::join(
        || {
            let start = Instant::now();
            for c in &result.cases {
                let case_dir = prefix.join(if case_dirs { c.name.as_str() } else { "" });
                case_tables(c, |file, table| {
                    let path = case_dir.join(&file);
                    if file.extension().is_some_and(|e| e == "gz") {
                        let bytes = gzip(table.as_str()).map_err(super::io(&path))?;
                        staging.write(&path, bytes)
                    } else {
                        staging.write(&path, table.as_str())
                    }
                })?;
            }
            Ok::<_, OutputError>(start.elapsed().as_secs_f64())
        },
        || -> Result<_, OutputError> {
            if !(figures.png || figures.svg) {
                return Ok(None);
            }
            let start = Instant::now();
            let files = study_figures(result, &content, figures)?;
            Ok(Some((files, start.elapsed().as_secs_f64())))
        },
    );
    output.push("tables", tables?);
    let figure_files = match drawn? {
        Some((files, seconds)) => {
            output.push("figures", seconds);
            files
        }
        None => Vec::new(),
    };
    staging.add(figure_files.iter().map(|f| prefix.join(f)));
    let names: Vec<String> = figure_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut meta = metadata(result, &names, &output);
    meta["files"] = staging.manifest(prefix)?;
    if let Some(extra) = extra {
        meta["sweep"] = extra;
    }
    let marker = prefix.join("metadata.json");
    let meta = serde_json::to_string_pretty(&meta).map_err(|e| OutputError::Io {
        path: target.join(&marker),
        source: std::io::Error::other(e),
    })?;
    staging.write(&marker, &(meta + "\n"))?;
    staging.commit(&marker, stale)
}

/// Writes every table, `metadata.json` and the figures of `result` under `dir` in one commit
/// (see [`super::commit`]); the files an earlier run's manifest lists and this run does not write
/// are deleted. Returns the paths written.
pub fn write_study(
    result: &StudyResult,
    dir: &Path,
    figures: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let _lock = lock_output(dir)?;
    let stale = manifest_files(dir);
    write_results(result, dir, Path::new(""), figures, true, None, stale)
}

/// Writes `summary.csv`, `summary.json` and the summary figures of `summary` into `dir` in one
/// commit with `summary.json` as its marker (see [`super::commit`]); summary figures of an
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
