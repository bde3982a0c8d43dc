//! Runs a study: every case of a config through spectrum → thermodynamics, into tables that
//! [`crate::pipeline::output`] writes.
//!
//! Per case (one particle, d = 1, k_B = 1; all energies and temperatures in Hartree):
//! levels with E_n, ⟨K⟩_n, ⟨V⟩_n, T^(K)_n = 2⟨K⟩_n, the Hertz entropy S = ln Ω(E_n) and
//! T^(μ) (eq. 2); the canonical U(T), S(T), C(T) on a log-spaced temperature range; T^(C)(E)
//! and the window average T_E^(K) (eqs. 4–7) on an energy grid; and the negative-heat-capacity
//! intervals of each temperature definition.
//!
//! Canonical sums must not depend on how many levels happened to be computed: every omitted
//! level lies above the Sturm cutoff E_c of the solve and there are at most N_grid − k of them,
//! so their share of Z at temperature T is at most (N_grid − k)·e^{−(E_c − E_0)/T}/Z′. When that
//! bound exceeds the configured tolerance at the highest temperature, the spectrum is extended
//! (once, to a cutoff chosen from the bound) or the run is refused with the reason.

pub mod coulomb;
pub mod particles;
pub mod plan;

use crate::eigen::sturm::SturmData;
use crate::eigen::SolverOptions;
use crate::model::hamiltonian::Hamiltonian;
use crate::physics::thermo::canonical::{
    canonical_curve, canonical_temperatures, truncation_bound, CanonicalPoint,
};
use crate::physics::thermo::kinetic::{kinetic_temperature, window_averages};
use crate::physics::thermo::microcanonical::{hertz_entropy, per_state_microcanonical_temperature};
use crate::physics::thermo::nhc::{nhc_intervals, NhcInterval};
use crate::physics::thermo::{StateList, ThermoError};
use crate::pipeline::config::{Case, Config, Study, TemperatureRange};
use crate::resources::{self, ResourceError};
use crate::spectrum::{self, Spectrum, SpectrumError};
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;
use thiserror::Error;

/// Relative tolerance below which a temperature decrease is treated as rounding noise.
pub const NHC_RELATIVE_TOLERANCE: f64 = 1e-9;

/// Why a case or a study could not be run.
#[derive(Debug, Error)]
pub enum StudyError {
    /// The spectrum failed.
    // The cause's text is part of the message, so it is not also exposed as `source()`: an
    // error chain printed cause by cause would repeat it ("X: X").
    #[error("case {case}: {error}")]
    Spectrum {
        /// Case name.
        case: String,
        /// The cause.
        error: SpectrumError,
    },
    /// A thermodynamic quantity failed.
    #[error("case {case}: {error}")]
    Thermo {
        /// Case name.
        case: String,
        /// The cause.
        error: ThermoError,
    },
    /// A unit of work does not fit in the memory limit.
    #[error("case {case}: {error}")]
    Memory {
        /// Case name.
        case: String,
        /// The refused estimate and the limit.
        error: ResourceError,
    },
    /// The requested temperature range needs levels the grid cannot provide.
    #[error("case {case}: {message}")]
    Unsupported {
        /// Case name.
        case: String,
        /// What is needed and how to get it.
        message: String,
    },
}

/// One row of `levels.csv` (Hartree unless stated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelRow {
    /// Level index.
    pub n: usize,
    /// E_n.
    pub energy: f64,
    /// ⟨K⟩_n.
    pub kinetic: f64,
    /// ⟨V⟩_n.
    pub potential: f64,
    /// T^(K)_n = 2⟨K⟩_n / (d N).
    pub t_kinetic: f64,
    /// Hertz entropy S = ln Ω(E_n) (dimensionless).
    pub entropy: f64,
    /// T^(μ) at E_n (None at the ends of the spectrum).
    pub t_micro: Option<f64>,
    /// Probability on each piece of the potential (dimensionless).
    pub piece_probability: Vec<f64>,
    /// ‖Hψ − Eψ‖ of the solver.
    pub residual: f64,
}

/// One row of `temperatures.csv`: the energy grid (Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnergyRow {
    /// Grid energy E.
    pub energy: f64,
    /// T^(C)(E): the canonical temperature with U(T) = E (None outside the temperature range).
    pub t_canonical: Option<f64>,
    /// T_E^(K) = 2 K_E / (d N) over the window [E, E + ε) (None if the window is empty).
    pub t_window: Option<f64>,
    /// Number of states in the window.
    pub window_states: u64,
}

/// The negative-heat-capacity intervals of one temperature definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NhcSet {
    /// "T_K", "T_mu", "T_C" or "T_KE".
    pub definition: &'static str,
    /// The intervals, ascending in energy.
    pub intervals: Vec<NhcInterval>,
}

/// How the canonical sums were made independent of the number of computed levels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Truncation {
    /// Levels asked for in the config.
    pub requested_levels: usize,
    /// Levels computed (more when the temperature range needed them).
    pub computed_levels: usize,
    /// Every omitted level lies above this energy (Sturm count, Hartree).
    pub cutoff: f64,
    /// At most this many levels were omitted (grid nodes − computed levels).
    pub max_omitted: usize,
    /// Highest temperature of the run (Hartree).
    pub max_temperature: f64,
    /// Upper bound on the share of Z carried by the omitted levels at `max_temperature`.
    pub bound: f64,
    /// The configured tolerance for `bound`.
    pub tolerance: f64,
}

/// Everything computed for one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case name.
    pub name: String,
    /// The resolved config of the case.
    pub config: Config,
    /// The single-particle spectrum (with wave functions).
    pub spectrum: Spectrum,
    /// Per-level table.
    pub levels: Vec<LevelRow>,
    /// Canonical table.
    pub canonical: Vec<CanonicalPoint>,
    /// Energy-grid table.
    pub temperatures: Vec<EnergyRow>,
    /// NHC intervals per temperature definition.
    pub nhc: Vec<NhcSet>,
    /// The truncation bound of the canonical sums.
    pub truncation: Truncation,
    /// The N-particle studies of `[particles]` (empty without it).
    pub particles: Vec<particles::ParticleResult>,
    /// The two-electron Coulomb study of `[coulomb]`.
    pub coulomb: Option<coulomb::CoulombResult>,
    /// Things the user should know.
    pub warnings: Vec<String>,
    /// Wall time of the spectrum (s).
    pub spectrum_seconds: f64,
    /// Wall time of the thermodynamics (s).
    pub thermo_seconds: f64,
    /// Memory estimate of the case (bytes): its plan ([`plan::CasePlan::bytes`]) plus the work
    /// sized at run time (added levels, energy grids), an upper bound of its peak.
    pub memory_estimate: u64,
}

/// All cases of a study.
#[derive(Debug, Clone)]
pub struct StudyResult {
    /// The study as configured.
    pub study: Study,
    /// One result per case, in file order.
    pub cases: Vec<CaseResult>,
    /// Wall time of the whole computation (s).
    pub seconds: f64,
}

/// Runs every case (in parallel when the largest of them fit in the memory limit together, one
/// after the other otherwise) and returns the results in file order; the first failing case
/// stops the study with its error.
pub fn run_study(study: &Study) -> Result<StudyResult, StudyError> {
    let start = Instant::now();
    let parallel = study.cases.len().min(rayon::current_num_threads());
    let cases = if plan::StudyPlan::new(study).concurrency() >= parallel {
        study
            .cases
            .par_iter()
            .map(run_case)
            .collect::<Result<Vec<_>, _>>()?
    } else {
        study
            .cases
            .iter()
            .map(run_case)
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(StudyResult {
        study: study.clone(),
        cases,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The default temperature range for a spectrum of at least two levels: from a twentieth of the
/// first excitation energy to a twentieth of the spectrum's width (Hartree).
fn default_temperatures(energies: &[f64]) -> (f64, f64) {
    let e0 = energies[0];
    let first = energies.iter().find(|&&e| e > e0).map_or(1.0, |&e| e - e0);
    let width = energies[energies.len() - 1] - e0;
    let lo = first / 20.0;
    let hi = (width / 20.0).max(lo * 10.0);
    (lo, hi)
}

/// Computes the spectrum and all thermodynamics of one case. The case is planned first
/// ([`plan::checked_plan`]): work that does not fit in the memory limit is refused before
/// anything is allocated.
pub fn run_case(case: &Case) -> Result<CaseResult, StudyError> {
    let plan = plan::checked_plan(case)?;
    let budget = plan.budget();
    let cfg = &case.config;
    let name = case.name.clone();
    let memory_err = |error| StudyError::Memory {
        case: name.clone(),
        error,
    };
    let spectrum_err = |error| StudyError::Spectrum {
        case: name.clone(),
        error,
    };
    let thermo_err = |error| StudyError::Thermo {
        case: name.clone(),
        error,
    };
    let problem = cfg.problem().map_err(|e| StudyError::Unsupported {
        case: name.clone(),
        message: e.to_string(),
    })?;
    let options = SolverOptions::default();
    let start = Instant::now();
    // The default temperature range starts from the first excitation energy: with one level
    // requested, the second is solved too (the canonical sums need it anyway).
    let solved_levels = if cfg.analysis.temperatures.is_none() {
        problem.levels.max(2).min(plan.nodes)
    } else {
        problem.levels
    };
    let mut spec = spectrum::solve_aligned(
        &problem.potential,
        problem.spacing,
        problem.mass,
        solved_levels,
        &options,
    )
    .map_err(spectrum_err)?;
    let requested = problem.levels;
    let analysis = &cfg.analysis;
    let temperature_range = analysis.temperatures.unwrap_or_else(|| {
        let (from, to) = default_temperatures(&spec.energies());
        TemperatureRange {
            from,
            to,
            points: plan::DEFAULT_TEMPERATURE_POINTS,
        }
    });
    let (t_min, t_max) = (temperature_range.from, temperature_range.to);

    // Truncation of the canonical sums: extend the spectrum once if the bound is too large.
    let nodes = spec.grid.interior_len();
    let bound_of = |s: &Spectrum| -> Result<f64, StudyError> {
        let states = StateList::single_particle(s.energies(), s.kinetic()).map_err(thermo_err)?;
        truncation_bound(
            &states,
            s.report.sturm_cutoff,
            (nodes - s.levels.len()) as f64,
            t_max,
        )
        .map_err(thermo_err)
    };
    let mut bound = bound_of(&spec)?;
    // Warnings concern the requested levels; levels added below only carry the Boltzmann tail.
    let mut warnings = spec.warnings.clone();
    if bound > analysis.truncation_tolerance {
        // Z' ≥ 1, so a cutoff with (N − k)·e^{−(E_c − E_0)/T} ≤ tol suffices.
        let e0 = spec.levels[0].energy;
        let needed = e0 + t_max * ((nodes as f64).ln() - analysis.truncation_tolerance.ln());
        let h = Hamiltonian::new(&problem.potential, &spec.grid, problem.mass)
            .map_err(|e| spectrum_err(e.into()))?;
        let count = SturmData::new(&h.matrix.diag, &h.matrix.off).count_below(needed);
        let levels = (count + 1).min(nodes);
        let refuse = |why: String| {
            StudyError::Unsupported {
            case: name.clone(),
            message: format!(
                "the temperature range up to T = {t_max:.4e} Ha needs every level below E = {needed:.4e} Ha for a truncation bound of {:.0e}: {why}; lower analysis.temperatures.to, raise analysis.truncation_tolerance, or refine grid.spacing",
                analysis.truncation_tolerance
            ),
        }
        };
        if levels >= nodes {
            return Err(refuse(format!(
                "that is {count} levels but the grid has only {nodes} nodes"
            )));
        }
        let pieces = problem.potential.pieces().len();
        let more = resources::spectrum_estimate(nodes, levels, pieces, plan.grid, "solve.levels");
        budget.admit(&more).map_err(|e| refuse(e.to_string()))?;
        spec = spectrum::solve(
            &problem.potential,
            &spec.grid,
            problem.mass,
            levels,
            &options,
        )
        .map_err(|e| match e {
            SpectrumError::Unresolved { .. } => refuse(e.to_string()),
            other => spectrum_err(other),
        })?;
        bound = bound_of(&spec)?;
    }
    if bound > analysis.truncation_tolerance {
        return Err(StudyError::Unsupported {
            case: name.clone(),
            message: format!(
                "the omitted levels may still carry {bound:.1e} of Z at T = {t_max:.4e} Ha (tolerance {:.0e})",
                analysis.truncation_tolerance
            ),
        });
    }
    let spectrum_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    if spec.levels.len() > requested {
        warnings.push(format!(
            "the spectrum was extended from {requested} to {} levels so that omitted levels carry at most {bound:.1e} of Z at T = {t_max:.4e} Ha",
            spec.levels.len()
        ));
    }

    let energies = spec.energies();
    let states =
        StateList::single_particle(energies.clone(), spec.kinetic()).map_err(thermo_err)?;
    let t_kinetic = kinetic_temperature(&states);
    let entropy = hertz_entropy(&states);
    let t_micro = per_state_microcanonical_temperature(&states, analysis.difference);
    let levels: Vec<LevelRow> = spec
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| LevelRow {
            n: l.n,
            energy: l.energy,
            kinetic: l.kinetic,
            potential: l.potential,
            t_kinetic: t_kinetic[i],
            entropy: entropy[i],
            t_micro: t_micro[i],
            piece_probability: l.piece_probability.clone(),
            residual: l.residual,
        })
        .collect();

    let temperatures_grid = temperature_range.points();
    let canonical = canonical_curve(&states, &temperatures_grid).map_err(thermo_err)?;

    // The energy grid covers the requested levels (not the extension for the canonical tail).
    let e_top = energies[requested.min(energies.len()) - 1];
    let grid = match analysis.energy_grid {
        Some(g) => g.points(),
        None => {
            let step = analysis.epsilon / 4.0;
            let count = ((e_top - energies[0]) / step).floor() + 1.0;
            budget
                .admit(&resources::energy_grid_estimate(
                    count,
                    "analysis.epsilon",
                    "the default energy grid (steps of analysis.epsilon/4 from E_0 to the highest requested level)",
                ))
                .map_err(memory_err)?;
            (0..count as usize)
                .map(|i| energies[0] + step * i as f64)
                .collect()
        }
    };
    let windows = window_averages(&states, &grid, analysis.epsilon).map_err(thermo_err)?;
    let t_canonical = canonical_temperatures(&states, &grid, t_min, t_max).map_err(thermo_err)?;
    let temperatures: Vec<EnergyRow> = grid
        .iter()
        .zip(&windows)
        .zip(t_canonical)
        .map(|((&e, w), tc)| EnergyRow {
            energy: e,
            t_canonical: tc.ok(),
            t_window: w.temperature,
            window_states: w.weight,
        })
        .collect();

    if let (Some(g), Some(&first), Some(&last)) = (analysis.energy_grid, grid.first(), grid.last())
    {
        let (e0, e_max) = (energies[0], energies[energies.len() - 1]);
        if last + analysis.epsilon <= e0 || first > e_max {
            let canonical_too = temperatures.iter().all(|r| r.t_canonical.is_none());
            warnings.push(format!(
                "analysis.energy_grid (from = {} to = {} Ha) lies entirely {} the computed levels ({e0:.6e} to {e_max:.6e} Ha): no window [E, E + epsilon) holds a level, so the T_E^(K) column of temperatures.csv is empty{}; put the grid inside the spectrum{}",
                g.from,
                g.to,
                if first > e_max { "above" } else { "below" },
                if canonical_too { " and so is T^(C)" } else { "" },
                if first > e_max { " or raise solve.levels" } else { "" }
            ));
        }
    }

    let n_req = requested.min(levels.len());
    let mut nhc = Vec::new();
    let per_level = |f: &dyn Fn(&LevelRow) -> Option<f64>| -> Vec<(f64, Option<f64>)> {
        levels[..n_req].iter().map(|l| (l.energy, f(l))).collect()
    };
    for (definition, points) in [
        ("T_K", per_level(&|l| Some(l.t_kinetic))),
        ("T_mu", per_level(&|l| l.t_micro)),
        (
            "T_C",
            temperatures
                .iter()
                .map(|r| (r.energy, r.t_canonical))
                .collect(),
        ),
        (
            "T_KE",
            temperatures
                .iter()
                .map(|r| (r.energy, r.t_window))
                .collect(),
        ),
    ] {
        let intervals = nhc_intervals(&points, NHC_RELATIVE_TOLERANCE).map_err(thermo_err)?;
        nhc.push(NhcSet {
            definition,
            intervals,
        });
    }
    let particle_results = match &cfg.particles {
        Some(pc) => {
            let mut source =
                particles::OrbitalSource::new(&problem.potential, problem.mass, spec.clone())
                    .with_budget(budget.clone(), plan.grid);
            let settings = particles::ParticleSettings {
                config: pc,
                state_limit: plan.state_limit.unwrap_or(pc.state_limit),
                budget: budget.clone(),
                epsilon: analysis.epsilon,
                difference: analysis.difference,
                temperatures: temperatures_grid.clone(),
                truncation_tolerance: analysis.truncation_tolerance,
            };
            let results = particles::run_particles(&name, &mut source, &settings)?;
            for r in &results {
                warnings.extend(r.warnings.iter().cloned());
            }
            results
        }
        None => Vec::new(),
    };
    let coulomb_result = match &cfg.coulomb {
        Some(cc) => {
            let settings = coulomb::CoulombSettings {
                config: cc,
                budget: budget.clone(),
                epsilon: analysis.epsilon,
                difference: analysis.difference,
                temperatures: temperatures_grid.clone(),
                truncation_tolerance: analysis.truncation_tolerance,
            };
            let r = coulomb::run_coulomb(&name, &problem.potential, &spec, &settings)?;
            for v in &r.variants {
                warnings.extend(v.result.warnings.iter().cloned());
            }
            Some(r)
        }
        None => None,
    };
    let truncation = Truncation {
        requested_levels: requested,
        computed_levels: spec.levels.len(),
        cutoff: spec.report.sturm_cutoff,
        max_omitted: nodes - spec.levels.len(),
        max_temperature: t_max,
        bound,
        tolerance: analysis.truncation_tolerance,
    };
    Ok(CaseResult {
        name,
        config: cfg.clone(),
        spectrum: spec,
        levels,
        canonical,
        temperatures,
        nhc,
        truncation,
        particles: particle_results,
        coulomb: coulomb_result,
        warnings,
        spectrum_seconds,
        thermo_seconds: start.elapsed().as_secs_f64(),
        memory_estimate: budget.accounted(),
    })
}
