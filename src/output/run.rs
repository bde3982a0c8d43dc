//! Writes a study's results: per case `levels.csv`, `canonical.csv`, `temperatures.csv` and
//! `nhc.csv`, for the run `metadata.json` (provenance) and `figures/`.
//!
//! Everything is first written into a staging directory inside the output directory and then
//! renamed into place file by file, so a failure (or an interrupt) never leaves a half-written
//! file behind: each output file is complete or absent. The tables depend only on the config and
//! the code, so a re-run gives byte-identical tables (metadata.json also records wall times).

use super::plots::{
    branches_figure, density_figure, entropy_figure, kinetic_figure, limit_figure,
    temperature_figure, xy_figure, BranchesFigure, BranchesPanel, DensityFigure, EntropyFigure,
    FigureOutput, KineticFigure, LimitFigure, Series, TemperatureFigure, XyFigure,
};
use super::tables::{Cell, Csv};
use crate::config::directory_name;
use crate::study::coulomb::{CoulombResult, CoulombVariant};
use crate::study::particles::{ParticleResult, ParticleRow, StateTable, STATES_CSV_LIMIT};
use crate::study::{CaseResult, NhcSet, StudyResult};
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

/// Column headers of the probability columns: one per piece of the potential, named by
/// [`crate::config::PotentialConfig::region_names`] ("P_well" for the square well).
fn piece_headers(case: &CaseResult) -> Vec<String> {
    case.config
        .potential
        .region_names()
        .iter()
        .map(|name| format!("P_{name} [-]"))
        .collect()
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
    let mut t = Csv::new(&NHC_HEADER);
    nhc_rows(&mut t, &case.nhc);
    t
}

fn particle_grid_csv(p: &ParticleResult) -> Csv {
    let n = p.particles as f64;
    let mut t = Csv::new(&[
        "E [Ha]",
        "E/N [Ha]",
        "Omega [-]",
        "S/N [k_B]",
        "T_KE [Ha]",
        "T_C [Ha]",
    ]);
    for r in &p.grid {
        t.row(&[
            Cell::Num(r.energy),
            Cell::Num(r.energy / n),
            Cell::Num(r.omega),
            Cell::Opt(
                r.entropy_per_particle
                    .is_finite()
                    .then_some(r.entropy_per_particle),
            ),
            Cell::Opt(r.t_window),
            Cell::Opt(r.t_canonical),
        ]);
    }
    t
}

fn particle_canonical_csv(p: &ParticleResult) -> Csv {
    let n = p.particles as f64;
    let mut t = Csv::new(&[
        "T [Ha]",
        "T [K]",
        "U [Ha]",
        "U/N [Ha]",
        "S/N [k_B]",
        "C/N [k_B]",
    ]);
    for c in &p.canonical {
        t.row(&[
            Cell::Num(c.temperature),
            Cell::Num(c.temperature * HARTREE_IN_KELVIN),
            Cell::Num(c.energy),
            Cell::Num(c.energy / n),
            Cell::Num(c.entropy / n),
            Cell::Num(c.heat_capacity / n),
        ]);
    }
    t
}

fn particle_states_csv(p: &ParticleResult, table: &StateTable) -> Csv {
    let n = p.particles;
    let mut t = Csv::new(&[
        "E [Ha]",
        "E/N [Ha]",
        "kinetic [Ha]",
        "multiplicity [-]",
        "T_K [Ha]",
        "S [k_B]",
        "T_mu [Ha]",
        "occupied orbitals",
    ]);
    for i in 0..table.energy.len() {
        let occ: Vec<String> = table.occupations[i * n..(i + 1) * n]
            .iter()
            .map(|o| o.to_string())
            .collect();
        let occ = occ.join(" ");
        t.row(&[
            Cell::Num(table.energy[i]),
            Cell::Num(table.energy[i] / n as f64),
            Cell::Num(table.kinetic[i]),
            Cell::Int(table.multiplicity[i]),
            Cell::Num(table.t_kinetic[i]),
            Cell::Num(table.entropy[i]),
            Cell::Opt(table.t_micro[i]),
            Cell::Text(&occ),
        ]);
    }
    t
}

fn nhc_rows(t: &mut Csv, sets: &[NhcSet]) {
    for set in sets {
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
}

const NHC_HEADER: [&str; 8] = [
    "definition",
    "e_start [Ha]",
    "e_end [Ha]",
    "t_start [Ha]",
    "t_end [Ha]",
    "drop [Ha]",
    "relative_drop [-]",
    "points [-]",
];

/// The Coulomb comparison: one row per variant (W off first), with the ground-state shift
/// against W off and how the largest T_E^(K) drop moves.
fn coulomb_csv(cr: &CoulombResult) -> Csv {
    let mut t = Csv::new(&[
        "variant",
        "eps_r [-]",
        "E_ground [Ha]",
        "ground_spin",
        "ground <W> [Ha]",
        "shift [Ha]",
        "shift [e_1 - e_0]",
        "states [-]",
        "T_KE_intervals [-]",
        "T_KE_largest_drop [Ha]",
        "T_KE_largest_relative_drop [-]",
        "T_KE_drop_from E/N [Ha]",
        "T_KE_drop_to E/N [Ha]",
        "drop_from shift vs W off E/N [Ha]",
        "T_K_intervals [-]",
        "CI max |E(M') - E(M)| below E_max [Ha]",
    ]);
    let largest = |v: &CoulombVariant| {
        v.result
            .nhc
            .iter()
            .find(|s| s.definition == "T_KE")
            .and_then(|s| crate::thermo::nhc::largest_drop(&s.intervals).cloned())
    };
    let reference = cr.variants.first().and_then(largest);
    for (i, v) in cr.variants.iter().enumerate() {
        let shift = cr.shift(i);
        let d = largest(v);
        let k_intervals = v
            .result
            .nhc
            .iter()
            .find(|s| s.definition == "T_K")
            .map_or(0, |s| s.intervals.len());
        let ke_intervals = v
            .result
            .nhc
            .iter()
            .find(|s| s.definition == "T_KE")
            .map_or(0, |s| s.intervals.len());
        t.row(&[
            Cell::Text(&v.label),
            Cell::Opt(v.eps_r),
            Cell::Num(v.result.ground_energy),
            Cell::Text(v.ground_spin),
            Cell::Num(v.ground_interaction),
            Cell::Num(shift.ground_shift),
            Cell::Num(shift.shift_in_spacings),
            Cell::Num(v.result.states),
            Cell::Int(ke_intervals as u64),
            Cell::Opt(d.as_ref().map(|i| i.drop)),
            Cell::Opt(d.as_ref().map(|i| i.relative_drop)),
            Cell::Opt(d.as_ref().map(|i| i.e_start / 2.0)),
            Cell::Opt(d.as_ref().map(|i| i.e_end / 2.0)),
            Cell::Opt(
                d.as_ref()
                    .zip(reference.as_ref())
                    .map(|(a, b)| (a.e_start - b.e_start) / 2.0),
            ),
            Cell::Int(k_intervals as u64),
            Cell::Opt(v.convergence.as_ref().map(|c| c.max_abs_change())),
        ]);
    }
    t
}

/// Every CI state of a variant below E_max: energy split into ⟨K⟩, ⟨V⟩, ⟨W⟩, spin and its
/// multiplicity, parity, and the leading orbital pair with its weight.
fn ci_states_csv(v: &CoulombVariant) -> Csv {
    let mut t = Csv::new(&[
        "E [Ha]",
        "E/N [Ha]",
        "<K1+K2> [Ha]",
        "<V1+V2> [Ha]",
        "<W> [Ha]",
        "spin",
        "multiplicity [-]",
        "parity",
        "rank in sector [-]",
        "leading pair",
        "leading weight [-]",
    ]);
    for s in &v.states {
        let pair = format!("{} {}", s.leading_pair.0, s.leading_pair.1);
        let multiplicity = s.exchange.multiplicity(v.result.spin).unwrap_or(0);
        t.row(&[
            Cell::Num(s.energy),
            Cell::Num(s.energy / 2.0),
            Cell::Num(s.kinetic),
            Cell::Num(s.potential),
            Cell::Num(s.interaction),
            Cell::Text(match (v.result.spin, s.exchange) {
                (crate::many_body::Spin::None, _) => "spinless",
                (_, e) => e.spin_name(),
            }),
            Cell::Int(multiplicity),
            Cell::Text(match s.parity {
                Some(crate::analytic::Parity::Even) => "even",
                Some(crate::analytic::Parity::Odd) => "odd",
                None => "",
            }),
            Cell::Int(s.sector_index as u64),
            Cell::Text(&pair),
            Cell::Num(s.leading_weight),
        ]);
    }
    t
}

/// Every state below E_max with M and M′ orbitals, per variant with W on.
fn coulomb_convergence_csv(cr: &CoulombResult) -> Csv {
    let mut t = Csv::new(&[
        "variant",
        "sector",
        "index",
        "M",
        "M'",
        "E(M) [Ha]",
        "E(M') [Ha]",
        "E(M') - E(M) [Ha]",
    ]);
    for v in &cr.variants {
        let Some(c) = &v.convergence else { continue };
        for r in &c.rows {
            t.row(&[
                Cell::Text(&v.label),
                Cell::Text(r.exchange.spin_name()),
                Cell::Int(r.index as u64),
                Cell::Int(c.coarse_orbitals as u64),
                Cell::Int(c.fine_orbitals as u64),
                Cell::Num(r.coarse),
                Cell::Num(r.fine),
                Cell::Num(r.change),
            ]);
        }
    }
    t
}

/// One row per N: the approach to the thermodynamic limit.
fn particles_summary_csv(c: &CaseResult) -> Csv {
    let mut t = Csv::new(&[
        "N",
        "spin",
        "method",
        "E_ground [Ha]",
        "E_max [Ha]",
        "states [-]",
        "occupations [-]",
        "T_KE_intervals [-]",
        "T_KE_largest_drop [Ha]",
        "T_KE_largest_relative_drop [-]",
        "T_KE_drop_from E/N [Ha]",
        "T_KE_drop_to E/N [Ha]",
        "S/N_dent_depth [k_B]",
        "S/N_dent_width E/N [Ha]",
        "canonical_truncation_bound [-]",
    ]);
    for p in &c.particles {
        let n = p.particles as f64;
        let ke = p.nhc.iter().find(|s| s.definition == "T_KE");
        let largest = ke.and_then(|s| crate::thermo::nhc::largest_drop(&s.intervals));
        let spin = match p.spin {
            crate::many_body::Spin::Half => "half",
            crate::many_body::Spin::None => "none",
        };
        t.row(&[
            Cell::Int(p.particles as u64),
            Cell::Text(spin),
            Cell::Text(p.method),
            Cell::Num(p.ground_energy),
            Cell::Num(p.energy_max),
            Cell::Num(p.states),
            Cell::Opt(p.occupations.map(|o| o as f64)),
            Cell::Int(ke.map_or(0, |s| s.intervals.len()) as u64),
            Cell::Opt(largest.map(|i| i.drop)),
            Cell::Opt(largest.map(|i| i.relative_drop)),
            Cell::Opt(largest.map(|i| i.e_start / n)),
            Cell::Opt(largest.map(|i| i.e_end / n)),
            Cell::Num(p.intruder.depth),
            Cell::Num(p.intruder.width),
            Cell::Num(p.canonical_bound),
        ]);
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
                    "states_csv": p.occupations.is_some_and(|o| o <= STATES_CSV_LIMIT),
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
    // Fig. 1: <K>_n versus E_n for every case (once per distinct single-particle problem).
    let mut distinct: Vec<&CaseResult> = Vec::new();
    for c in &result.cases {
        let same = |d: &&CaseResult| {
            d.config.system == c.config.system
                && d.config.potential == c.config.potential
                && d.config.grid == c.config.grid
                && d.config.solve == c.config.solve
        };
        if !distinct.iter().any(same) {
            distinct.push(c);
        }
    }
    let fig1 = KineticFigure {
        series: distinct
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
        if !c.particles.is_empty() {
            written.extend(particle_figures(c, &fig_dir, out)?);
        }
        if let Some(cr) = &c.coulomb {
            written.extend(coulomb_figures(&c.name, cr, &fig_dir, out)?);
        }
    }
    Ok(written
        .into_iter()
        .filter_map(|p| p.strip_prefix(staging).ok().map(Path::to_path_buf))
        .collect())
}

/// Figs. 4 and 5 of a case with `[particles]`, and the thermodynamic-limit figure when it has
/// at least three particle numbers.
/// T_E^(K) and S/N versus E/N for N = 2, W off and each ε_r on common axes.
fn coulomb_figures(
    name: &str,
    cr: &CoulombResult,
    fig_dir: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let figure_err = |e: super::plots::PlotError| OutputError::Figure {
        name: "coulomb".into(),
        message: e.to_string(),
    };
    let series = |v: &CoulombVariant, f: &dyn Fn(&ParticleRow) -> Option<f64>| -> Series {
        let (x, y) = v
            .result
            .grid
            .iter()
            .map(|r| (r.energy / 2.0, f(r).unwrap_or(f64::NAN)))
            .unzip();
        Series {
            label: v.label.replace("eps_r", "ε_r"),
            x,
            y,
        }
    };
    let temperature = XyFigure {
        title: format!("{name}: two electrons, T_E^(K) with and without Coulomb"),
        x_label: "E/N (Ha)".into(),
        y_label: "T_E^(K) (Ha)".into(),
        series: cr
            .variants
            .iter()
            .map(|v| series(v, &|r| r.t_window))
            .collect(),
        log_x: false,
        log_y: false,
    };
    let mut written = xy_figure(
        &fig_dir.join(format!("coulomb_temperature_{name}")),
        &temperature,
        out,
    )
    .map_err(figure_err)?;
    let entropy = EntropyFigure {
        title: format!("{name}: two electrons, S/N with and without Coulomb"),
        microcanonical: cr
            .variants
            .iter()
            .map(|v| {
                series(v, &|r| {
                    r.entropy_per_particle
                        .is_finite()
                        .then_some(r.entropy_per_particle)
                })
            })
            .collect(),
        canonical: Vec::new(),
    };
    written.extend(
        entropy_figure(
            &fig_dir.join(format!("coulomb_entropy_{name}")),
            &entropy,
            out,
        )
        .map_err(figure_err)?,
    );
    Ok(written)
}

fn particle_figures(
    c: &CaseResult,
    fig_dir: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let figure_err = |name: &'static str| {
        move |e: super::plots::PlotError| OutputError::Figure {
            name: name.to_string(),
            message: e.to_string(),
        }
    };
    let per_n = |p: &ParticleResult, f: &dyn Fn(&ParticleRow) -> Option<f64>| -> Series {
        let n = p.particles as f64;
        let (x, y) = p
            .grid
            .iter()
            .map(|r| (r.energy / n, f(r).unwrap_or(f64::NAN)))
            .unzip();
        Series {
            label: format!("N = {}", p.particles),
            x,
            y,
        }
    };
    let mut written = Vec::new();
    let fig4 = BranchesFigure {
        title: format!("{}: T^(K) of every state and T_E^(K)", c.name),
        panels: c
            .particles
            .iter()
            .map(|p| {
                let n = p.particles as f64;
                let states = match &p.per_state {
                    Some(t) => Series {
                        label: "T^(K)".into(),
                        x: t.energy.iter().map(|e| e / n).collect(),
                        y: t.t_kinetic.clone(),
                    },
                    None => Series::default(),
                };
                let mut window = per_n(p, &|r| r.t_window);
                window.label = "T_E^(K)".into();
                BranchesPanel {
                    particles: p.particles,
                    states,
                    window,
                }
            })
            .collect(),
    };
    written.extend(
        branches_figure(
            &fig_dir.join(format!("fig4_branches_{}", c.name)),
            &fig4,
            out,
        )
        .map_err(figure_err("fig4"))?,
    );
    let canonical: Vec<Series> = c
        .particles
        .iter()
        .map(|p| {
            let n = p.particles as f64;
            Series {
                label: format!("N = {} canonical", p.particles),
                x: p.canonical.iter().map(|q| q.energy / n).collect(),
                y: p.canonical.iter().map(|q| q.entropy / n).collect(),
            }
        })
        .collect();
    let microcanonical: Vec<Series> = c
        .particles
        .iter()
        .map(|p| {
            per_n(p, &|r| {
                r.entropy_per_particle
                    .is_finite()
                    .then_some(r.entropy_per_particle)
            })
        })
        .collect();
    let fig5 = EntropyFigure {
        title: format!("{}: entropy per particle", c.name),
        microcanonical: microcanonical.clone(),
        canonical: canonical.clone(),
    };
    written.extend(
        entropy_figure(
            &fig_dir.join(format!("fig5_entropy_{}", c.name)),
            &fig5,
            out,
        )
        .map_err(figure_err("fig5"))?,
    );
    if c.particles.len() >= 3 {
        let (ns, drops): (Vec<f64>, Vec<f64>) = c
            .particles
            .iter()
            .filter_map(|p| {
                let ke = p.nhc.iter().find(|s| s.definition == "T_KE")?;
                let d = crate::thermo::nhc::largest_drop(&ke.intervals)?;
                Some((p.particles as f64, d.relative_drop))
            })
            .unzip();
        let (ns2, dents): (Vec<f64>, Vec<f64>) = c
            .particles
            .iter()
            .map(|p| (p.particles as f64, p.intruder.depth))
            .unzip();
        let largest = c.particles.last().expect("particles");
        let fig = LimitFigure {
            title: format!("{}: towards the thermodynamic limit", c.name),
            drops: vec![
                Series {
                    label: "largest relative drop of T_E^(K)".into(),
                    x: ns,
                    y: drops,
                },
                Series {
                    label: "depth of the dent of S/N (k_B)".into(),
                    x: ns2,
                    y: dents,
                },
            ],
            entropies: microcanonical,
            canonical: canonical.last().map(|s| Series {
                label: format!("canonical, N = {}", largest.particles),
                ..s.clone()
            }),
        };
        written.extend(
            limit_figure(&fig_dir.join(format!("limit_{}", c.name)), &fig, out)
                .map_err(figure_err("limit"))?,
        );
    }
    Ok(written)
}

/// Stages the tables of case `c` under `case_dir` (relative to the staging root).
fn stage_case_tables(
    staging: &mut Staging,
    case_dir: &Path,
    c: &CaseResult,
) -> Result<(), OutputError> {
    staging.write(&case_dir.join("levels.csv"), levels_csv(c).as_str())?;
    staging.write(&case_dir.join("canonical.csv"), canonical_csv(c).as_str())?;
    staging.write(
        &case_dir.join("temperatures.csv"),
        temperatures_csv(c).as_str(),
    )?;
    staging.write(&case_dir.join("nhc.csv"), nhc_csv(c).as_str())?;
    if !c.particles.is_empty() {
        staging.write(
            &case_dir.join("particles.csv"),
            particles_summary_csv(c).as_str(),
        )?;
    }
    if let Some(cr) = &c.coulomb {
        staging.write(&case_dir.join("coulomb.csv"), coulomb_csv(cr).as_str())?;
        staging.write(
            &case_dir.join("coulomb_convergence.csv"),
            coulomb_convergence_csv(cr).as_str(),
        )?;
        if !cr.grid_check.is_empty() {
            let mut t = Csv::new(&[
                "variant",
                "sector",
                "index",
                "E_CI [Ha]",
                "E_grid [Ha]",
                "E_CI - E_grid [Ha]",
                "grid residual [Ha]",
            ]);
            for r in &cr.grid_check {
                t.row(&[
                    Cell::Text(&r.variant),
                    Cell::Text(r.sector),
                    Cell::Int(r.index as u64),
                    Cell::Num(r.ci),
                    Cell::Num(r.grid),
                    Cell::Num(r.difference),
                    Cell::Num(r.grid_residual),
                ]);
            }
            staging.write(&case_dir.join("coulomb_grid_check.csv"), t.as_str())?;
        }
        for v in &cr.variants {
            let dir = case_dir.join("coulomb").join(directory_name(&v.label));
            stage_particle_tables(staging, &dir, &v.result)?;
            staging.write(&dir.join("ci_states.csv"), ci_states_csv(v).as_str())?;
        }
    }
    for p in &c.particles {
        let dir = case_dir.join(format!("N{}", p.particles));
        stage_particle_tables(staging, &dir, p)?;
    }
    Ok(())
}

/// `grid.csv`, `canonical.csv`, `nhc.csv` and (if not too long) `states.csv` of one
/// N-particle result under `dir`.
fn stage_particle_tables(
    staging: &mut Staging,
    dir: &Path,
    p: &ParticleResult,
) -> Result<(), OutputError> {
    staging.write(&dir.join("grid.csv"), particle_grid_csv(p).as_str())?;
    staging.write(
        &dir.join("canonical.csv"),
        particle_canonical_csv(p).as_str(),
    )?;
    let mut t = Csv::new(&NHC_HEADER);
    nhc_rows(&mut t, &p.nhc);
    staging.write(&dir.join("nhc.csv"), t.as_str())?;
    if let Some(table) = &p.per_state {
        if table.energy.len() <= STATES_CSV_LIMIT {
            staging.write(
                &dir.join("states.csv"),
                particle_states_csv(p, table).as_str(),
            )?;
        }
    }
    Ok(())
}

/// Writes one case of a sweep into its own directory `dir`: its tables, optionally its figures,
/// and last `metadata.json` with `extra` under the key `"sweep"` (so a directory holding
/// `metadata.json` is complete). Files left in `dir` by an earlier run are removed first.
pub fn write_case(
    result: &StudyResult,
    dir: &Path,
    figures: &FigureOutput,
    extra: serde_json::Value,
) -> Result<Vec<PathBuf>, OutputError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    write_results(result, dir, figures, false, Some(extra))
}

/// Stages the tables of every case (in `<case>/` when `case_dirs`, else at the top), the
/// figures and last `metadata.json` (with `extra` under `"sweep"`), then moves them into `dir`.
fn write_results(
    result: &StudyResult,
    dir: &Path,
    figures: &FigureOutput,
    case_dirs: bool,
    extra: Option<serde_json::Value>,
) -> Result<Vec<PathBuf>, OutputError> {
    check_writable(dir)?;
    let mut staging = Staging::new(dir)?;
    for c in &result.cases {
        let case_dir = if case_dirs { c.name.as_str() } else { "" };
        stage_case_tables(&mut staging, Path::new(case_dir), c)?;
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
    let mut meta = metadata(result, &names);
    if let Some(extra) = extra {
        meta["sweep"] = extra;
    }
    let meta = serde_json::to_string_pretty(&meta).map_err(|e| OutputError::Io {
        path: dir.join("metadata.json"),
        source: std::io::Error::other(e),
    })?;
    staging.write(Path::new("metadata.json"), &(meta + "\n"))?;
    staging.commit(dir)
}

/// Writes text files under `dir` through a staging area: each file is complete or absent.
pub fn write_files(dir: &Path, files: &[(PathBuf, String)]) -> Result<Vec<PathBuf>, OutputError> {
    check_writable(dir)?;
    let mut staging = Staging::new(dir)?;
    for (rel, text) in files {
        staging.write(rel, text)?;
    }
    staging.commit(dir)
}

/// Stages figures drawn by `draw` (given the staging root, returning relative paths) together
/// with the text `files`, then moves everything into `dir`.
pub fn write_files_and_figures(
    dir: &Path,
    files: &[(PathBuf, String)],
    draw: impl FnOnce(&Path) -> Result<Vec<PathBuf>, OutputError>,
) -> Result<Vec<PathBuf>, OutputError> {
    check_writable(dir)?;
    let mut staging = Staging::new(dir)?;
    let figure_files = draw(&staging.root)?;
    staging.files.extend(figure_files);
    for (rel, text) in files {
        staging.write(rel, text)?;
    }
    staging.commit(dir)
}

/// Writes every table, `metadata.json` and the figures of `result` under `dir`; returns the
/// paths written.
pub fn write_study(
    result: &StudyResult,
    dir: &Path,
    figures: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    write_results(result, dir, figures, true, None)
}
