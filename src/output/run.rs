//! Writes a study's results: per case `levels.csv`, `canonical.csv`, `temperatures.csv` and
//! `nhc.csv`, for the run `metadata.json` (provenance) and `figures/`.
//!
//! Everything is first written into a staging directory inside the output directory and then
//! renamed into place file by file, so a failure (or an interrupt) never leaves a half-written
//! file behind: each output file is complete or absent. The tables depend only on the config and
//! the code, so a re-run gives byte-identical tables (metadata.json also records wall times).

use super::plots::{
    density_figure, kinetic_figure, temperature_figure, DensityFigure, FigureOutput, KineticFigure,
    Series, TemperatureFigure,
};
use super::tables::{Cell, Csv};
use crate::config::PotentialConfig;
use crate::study::{CaseResult, StudyResult};
use crate::units::{HARTREE_IN_EV, HARTREE_IN_KELVIN};
use serde_json::json;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why outputs could not be written.
#[derive(Debug, Error)]
pub enum OutputError {
    /// A file or directory could not be created or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A figure could not be drawn.
    #[error("figure {name}: {message}")]
    Figure {
        /// Figure name.
        name: String,
        /// The cause.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks early that `dir` can be created and written, so a long computation does not end in
/// an unwritable directory.
pub fn check_writable(dir: &Path) -> Result<(), OutputError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let probe = dir.join(format!(".confine-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(io(dir))?;
    std::fs::remove_file(&probe).map_err(io(&probe))
}

/// A staging area inside the output directory; removed when dropped.
struct Staging {
    root: PathBuf,
    files: Vec<PathBuf>,
}

impl Staging {
    fn new(dir: &Path) -> Result<Self, OutputError> {
        let root = dir.join(format!(".staging-{}", std::process::id()));
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(io(&root))?;
        }
        std::fs::create_dir_all(&root).map_err(io(&root))?;
        Ok(Self {
            root,
            files: Vec::new(),
        })
    }

    /// Writes `text` to the staged file `relative`.
    fn write(&mut self, relative: &Path, text: &str) -> Result<(), OutputError> {
        let path = self.root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        self.files.push(relative.to_path_buf());
        Ok(())
    }

    /// Moves every staged file into `dir`, keeping relative paths.
    fn commit(mut self, dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
        let mut written = Vec::with_capacity(self.files.len());
        for rel in std::mem::take(&mut self.files) {
            let from = self.root.join(&rel);
            let to = dir.join(&rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::rename(&from, &to).map_err(io(&to))?;
            written.push(to);
        }
        Ok(written)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Column headers of the probability columns: one per piece ("P_well" for the square well).
fn piece_headers(case: &CaseResult) -> Vec<String> {
    match &case.config.potential {
        PotentialConfig::SquareWell { .. } => vec!["P_well [-]".to_string()],
        PotentialConfig::Piecewise { pieces } => (0..pieces.len())
            .map(|i| format!("P_piece{i} [-]"))
            .collect(),
    }
}

fn levels_csv(case: &CaseResult) -> Csv {
    let pieces = piece_headers(case);
    let mut header: Vec<&str> = vec![
        "n",
        "energy [Ha]",
        "kinetic [Ha]",
        "potential [Ha]",
        "T_K [Ha]",
        "S [k_B]",
        "T_mu [Ha]",
    ];
    header.extend(pieces.iter().map(String::as_str));
    header.push("residual [Ha]");
    let mut t = Csv::new(&header);
    for l in &case.levels {
        let mut cells = vec![
            Cell::Int(l.n as u64),
            Cell::Num(l.energy),
            Cell::Num(l.kinetic),
            Cell::Num(l.potential),
            Cell::Num(l.t_kinetic),
            Cell::Num(l.entropy),
            Cell::Opt(l.t_micro),
        ];
        cells.extend(l.piece_probability.iter().map(|p| Cell::Num(*p)));
        cells.push(Cell::Num(l.residual));
        t.row(&cells);
    }
    t
}

fn canonical_csv(case: &CaseResult) -> Csv {
    let mut t = Csv::new(&["T [Ha]", "T [K]", "U [Ha]", "S [k_B]", "C [k_B]", "F [Ha]"]);
    for p in &case.canonical {
        t.row(&[
            Cell::Num(p.temperature),
            Cell::Num(p.temperature * HARTREE_IN_KELVIN),
            Cell::Num(p.energy),
            Cell::Num(p.entropy),
            Cell::Num(p.heat_capacity),
            Cell::Num(p.free_energy),
        ]);
    }
    t
}

fn temperatures_csv(case: &CaseResult) -> Csv {
    let mut t = Csv::new(&["E [Ha]", "T_C [Ha]", "T_KE [Ha]", "window_states [-]"]);
    for r in &case.temperatures {
        t.row(&[
            Cell::Num(r.energy),
            Cell::Opt(r.t_canonical),
            Cell::Opt(r.t_window),
            Cell::Int(r.window_states),
        ]);
    }
    t
}

fn nhc_csv(case: &CaseResult) -> Csv {
    let mut t = Csv::new(&[
        "definition",
        "e_start [Ha]",
        "e_end [Ha]",
        "t_start [Ha]",
        "t_end [Ha]",
        "drop [Ha]",
        "relative_drop [-]",
        "points [-]",
    ]);
    for set in &case.nhc {
        for i in &set.intervals {
            t.row(&[
                Cell::Text(set.definition),
                Cell::Num(i.e_start),
                Cell::Num(i.e_end),
                Cell::Num(i.t_start),
                Cell::Num(i.t_end),
                Cell::Num(i.drop),
                Cell::Num(i.relative_drop),
                Cell::Int(i.points as u64),
            ]);
        }
    }
    t
}

fn metadata(result: &StudyResult, figures: &[String]) -> serde_json::Value {
    let cases: Vec<serde_json::Value> = result
        .cases
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "config": c.config,
                "grid": c.spectrum.grid.summary(),
                "solver": c.spectrum.report,
                "levels_computed": c.levels.len(),
                "bound_levels": c.levels.iter().filter(|l| l.energy < 0.0).count(),
                "truncation": c.truncation,
                "nhc_intervals": c.nhc.iter().map(|s| json!({
                    "definition": s.definition,
                    "count": s.intervals.len(),
                    "largest_drop": s.intervals.iter().map(|i| i.drop).fold(0.0, f64::max),
                })).collect::<Vec<_>>(),
                "warnings": c.warnings,
                "seconds": {"spectrum": c.spectrum_seconds, "thermodynamics": c.thermo_seconds},
            })
        })
        .collect();
    json!({
        "generator": {"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")},
        "config_file": result.study.path.display().to_string(),
        "units": {
            "energy": "hartree", "temperature": "hartree (k_B = 1)", "length": "bohr",
            "mass": "electron_mass", "entropy": "k_B",
            "hartree_in_ev": HARTREE_IN_EV, "hartree_in_kelvin": HARTREE_IN_KELVIN,
        },
        "conventions": {
            "dimension": 1,
            "T_K": "2<K>_n / (d N)",
            "S": "Hertz entropy ln Omega(E), Omega = number of states with E_i <= E",
            "T_mu": "Delta E / Delta S over distinct levels (see config analysis.difference)",
            "T_C": "canonical temperature with U(T) = E",
            "T_KE": "2 K_E / (d N), K_E = mean <K> over states in [E, E + epsilon)",
        },
        "cases": cases,
        "figures": figures,
        "seconds": result.seconds,
    })
}

/// The energies a case's figures show (Hartree): its energy grid, which the config chooses to
/// frame the physics (the default grid spans the requested levels).
fn energy_range(c: &CaseResult) -> (f64, f64) {
    match (c.temperatures.first(), c.temperatures.last()) {
        (Some(a), Some(b)) => (a.energy, b.energy),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    }
}

/// Index of the highest level with E < 0 and of the lowest with E ≥ 0 (the top of the well is
/// E = 0 whenever V = 0 outside the pieces).
fn threshold_levels(case: &CaseResult) -> (Option<usize>, Option<usize>) {
    let below = case.levels.iter().rposition(|l| l.energy < 0.0);
    let above = case.levels.iter().position(|l| l.energy >= 0.0);
    (below, above)
}

/// Draws the figures of a study into the staging area; returns their relative paths.
fn draw_figures(
    result: &StudyResult,
    staging: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let fig_dir = staging.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(io(&fig_dir))?;
    let figure_err = |name: &str| {
        let name = name.to_string();
        move |e: super::plots::PlotError| OutputError::Figure {
            name,
            message: e.to_string(),
        }
    };
    let mut written = Vec::new();
    // Figures show the requested levels inside the case's energy grid (the paper's range).
    let shown = |c: &CaseResult| -> Vec<usize> {
        let n = c.truncation.requested_levels.min(c.levels.len());
        let (lo, hi) = energy_range(c);
        (0..n)
            .filter(|&i| c.levels[i].energy >= lo && c.levels[i].energy <= hi)
            .collect()
    };
    // Fig. 1: <K>_n versus E_n for every case.
    let fig1 = KineticFigure {
        series: result
            .cases
            .iter()
            .map(|c| {
                let idx = shown(c);
                Series {
                    label: c.name.clone(),
                    x: idx.iter().map(|&i| c.levels[i].energy).collect(),
                    y: idx.iter().map(|&i| c.levels[i].kinetic).collect(),
                }
            })
            .collect(),
    };
    written.extend(
        kinetic_figure(&fig_dir.join("fig1_kinetic_vs_energy"), &fig1, out)
            .map_err(figure_err("fig1"))?,
    );
    for c in &result.cases {
        // Fig. 2: ground state, highest bound and lowest unbound state, with V(x).
        let s = &c.spectrum;
        let mut x = vec![s.grid.nodes()[0]];
        x.extend_from_slice(s.grid.interior());
        x.push(*s.grid.nodes().last().expect("nodes"));
        let potential = c.config.problem().map_or_else(
            |_| vec![0.0; x.len()],
            |p| x.iter().map(|&xi| p.potential.value_at_node(xi)).collect(),
        );
        let (below, above) = threshold_levels(c);
        let mut picks = vec![0];
        for p in [below, above].into_iter().flatten() {
            if !picks.contains(&p) {
                picks.push(p);
            }
        }
        let states = picks
            .iter()
            .map(|&n| {
                let mut density = vec![0.0];
                density.extend(s.amplitude(n).iter().map(|p| p * p));
                density.push(0.0);
                Series {
                    label: format!("n = {n}, E = {:.6} Ha", c.levels[n].energy),
                    x: x.clone(),
                    y: density,
                }
            })
            .collect();
        let fig2 = DensityFigure {
            x: x.clone(),
            potential,
            states,
        };
        written.extend(
            density_figure(
                &fig_dir.join(format!("fig2_densities_{}", c.name)),
                &fig2,
                out,
            )
            .map_err(figure_err("fig2"))?,
        );
        // Fig. 3: T^(K), T^(mu), T^(C) (and T_E^(K)) versus E.
        let levels: Vec<_> = shown(c).into_iter().map(|i| &c.levels[i]).collect();
        let fig3 = TemperatureFigure {
            curves: vec![
                Series {
                    label: "T^(K)".into(),
                    x: levels.iter().map(|l| l.energy).collect(),
                    y: levels.iter().map(|l| l.t_kinetic).collect(),
                },
                Series {
                    label: "T^(μ)".into(),
                    x: levels.iter().map(|l| l.energy).collect(),
                    y: levels
                        .iter()
                        .map(|l| l.t_micro.unwrap_or(f64::NAN))
                        .collect(),
                },
                Series {
                    label: "T^(C)".into(),
                    x: c.temperatures.iter().map(|r| r.energy).collect(),
                    y: c.temperatures
                        .iter()
                        .map(|r| r.t_canonical.unwrap_or(f64::NAN))
                        .collect(),
                },
            ],
            ev_per_hartree: HARTREE_IN_EV,
            kelvin_per_hartree: HARTREE_IN_KELVIN,
            title: c.name.clone(),
        };
        written.extend(
            temperature_figure(
                &fig_dir.join(format!("fig3_temperatures_{}", c.name)),
                &fig3,
                out,
            )
            .map_err(figure_err("fig3"))?,
        );
    }
    Ok(written
        .into_iter()
        .filter_map(|p| p.strip_prefix(staging).ok().map(Path::to_path_buf))
        .collect())
}

/// Writes every table, `metadata.json` and the figures of `result` under `dir`; returns the
/// paths written.
pub fn write_study(
    result: &StudyResult,
    dir: &Path,
    figures: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    check_writable(dir)?;
    let mut staging = Staging::new(dir)?;
    for c in &result.cases {
        let case_dir = PathBuf::from(&c.name);
        staging.write(&case_dir.join("levels.csv"), levels_csv(c).as_str())?;
        staging.write(&case_dir.join("canonical.csv"), canonical_csv(c).as_str())?;
        staging.write(
            &case_dir.join("temperatures.csv"),
            temperatures_csv(c).as_str(),
        )?;
        staging.write(&case_dir.join("nhc.csv"), nhc_csv(c).as_str())?;
    }
    let figure_files = if figures.png || figures.svg {
        draw_figures(result, &staging.root, figures)?
    } else {
        Vec::new()
    };
    staging.files.extend(figure_files.iter().cloned());
    let names: Vec<String> = figure_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let meta =
        serde_json::to_string_pretty(&metadata(result, &names)).map_err(|e| OutputError::Io {
            path: dir.join("metadata.json"),
            source: std::io::Error::other(e),
        })?;
    staging.write(Path::new("metadata.json"), &(meta + "\n"))?;
    staging.commit(dir)
}
