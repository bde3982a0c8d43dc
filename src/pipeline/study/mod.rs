//! Runs a study: every case of a config through named stages, into tables that
//! [`crate::pipeline::output`] writes.
//!
//! Per case (one particle, k_B = 1; all energies and temperatures in Hartree; d = 1 for the
//! slab, 3 for a sphere, 2 for a cylinder), in order:
//!
//! 1. **spectrum** ([`solve_spectrum`]): levels with E_n, ⟨K⟩_n, ⟨V⟩_n — the slab's, or the
//!    (n, l) levels of a sphere's or cylinder's channels with degeneracies g
//!    ([`levels::CaseSpectrum`]) — extended until the omitted levels are negligible in the
//!    canonical sums (below);
//! 2. **one-particle thermodynamics** ([`one_particle`]): T^(K)_n = 2⟨K⟩_n, the Hertz entropy
//!    S = ln Ω(E_n) and T^(μ) (eq. 2); the canonical U(T), S(T), C(T) on a log-spaced
//!    temperature range; T^(C)(E) and the window average T_E^(K) (eqs. 4–7) on an energy grid;
//!    the negative-heat-capacity intervals of each [`TemperatureDefinition`];
//! 3. **N-particle ensembles** of `[particles]` ([`particles::run_particles`]);
//! 4. **Coulomb variants** of `[coulomb]` ([`coulomb::run_coulomb`]).
//!
//! Stages 2–4 share one [`ThermoSettings`] (ε, T^(μ) difference, temperatures, tolerance,
//! memory budget).
//!
//! Canonical sums must not depend on how many levels happened to be computed: every omitted
//! level lies above the Sturm cutoff E_c of the solve and there are at most N_grid − k of them,
//! so their share of Z at temperature T is at most (N_grid − k)·e^{−(E_c − E_0)/T}/Z′ (for a
//! sphere or cylinder N_grid − k becomes the bound on Σ g e^{−(E − E_c)/T} of the omitted levels,
//! [`crate::channels::RadialSpectrum::omitted_weight`]). When that
//! bound exceeds the configured tolerance at the highest temperature, the spectrum is extended
//! (once, to a cutoff chosen from the bound) or the run is refused with the reason.

pub mod coulomb;
pub mod levels;
pub mod particles;
pub mod plan;
pub mod resolution;
pub mod temperature;
pub mod timing;

pub use levels::CaseSpectrum;
pub use temperature::TemperatureDefinition;

use crate::channels::{RadialProblem, Selection};
use crate::diagnostic::{Diagnostic, Kind};
use crate::eigen::sturm::SturmData;
use crate::model::hamiltonian::Hamiltonian;
use crate::model::problem::Problem;
use crate::physics::coulomb::CoulombError;
use crate::physics::thermo::canonical::{
    canonical_curve, canonical_temperatures, truncation_bound, CanonicalPoint,
};
use crate::physics::thermo::kinetic::{kinetic_temperature, window_averages};
use crate::physics::thermo::microcanonical::{
    hertz_entropy, per_state_microcanonical_temperature, Difference,
};
use crate::physics::thermo::nhc::{nhc_intervals_by, NhcInterval};
use crate::physics::thermo::{StateList, ThermoError};
use crate::pipeline::config::{AnalysisConfig, Case, Config, ConfigError, Study, TemperatureRange};
use crate::resources::{self, Budget, ResourceError};
use crate::spectrum::{self, SpectrumError};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use thiserror::Error;

/// Relative tolerance below which a temperature decrease is treated as rounding noise.
pub const NHC_RELATIVE_TOLERANCE: f64 = 1e-9;

/// Why a case or a study could not be run. The message names the case; the cause is the
/// error's `source()` (print the chain, e.g. with [`crate::pipeline::error_chain`]).
#[derive(Debug, Error)]
pub enum StudyError {
    /// The case's config does not make a problem.
    #[error("case {case}")]
    Config {
        /// Case name.
        case: String,
        /// The cause.
        #[source]
        error: ConfigError,
    },
    /// The spectrum failed.
    #[error("case {case}")]
    Spectrum {
        /// Case name.
        case: String,
        /// The cause.
        #[source]
        error: SpectrumError,
    },
    /// A thermodynamic quantity failed.
    #[error("case {case}")]
    Thermo {
        /// Case name.
        case: String,
        /// The cause.
        #[source]
        error: ThermoError,
    },
    /// A unit of work does not fit in the memory limit.
    #[error("case {case}")]
    Memory {
        /// Case name.
        case: String,
        /// The refused estimate and the limit.
        #[source]
        error: ResourceError,
    },
    /// The two-electron computation failed.
    #[error("case {case}")]
    Coulomb {
        /// Case name.
        case: String,
        /// The cause.
        #[source]
        error: CoulombError,
    },
    /// The request needs what the grid or the configured limits cannot provide.
    #[error("case {case}: {message}")]
    Unsupported {
        /// Case name.
        case: String,
        /// What is needed and which key to change.
        message: String,
    },
    /// The run was cancelled ([`Cancel`]) before the case was finished.
    #[error("case {case}: cancelled before it was finished")]
    Cancelled {
        /// Case name.
        case: String,
    },
}

/// A request to stop a study early (e.g. Ctrl-C in a Python session), checked between cases
/// and between the stages of a case (after the spectrum, the one-particle thermodynamics, each
/// N of `[particles]`, the Coulomb integrals and each Coulomb variant): a cancelled study
/// returns [`StudyError::Cancelled`] within one stage, and nothing of it is written.
#[derive(Clone, Default)]
pub struct Cancel(Option<std::sync::Arc<dyn Fn() -> bool + Send + Sync>>);

impl Cancel {
    /// Never cancels.
    pub fn never() -> Self {
        Self(None)
    }

    /// Cancels once `requested()` returns true.
    pub fn when(requested: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        Self(Some(std::sync::Arc::new(requested)))
    }

    /// True once the stop was requested.
    pub fn requested(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f())
    }

    /// `Err(Cancelled)` for case `name` once the stop was requested.
    pub(crate) fn check(&self, name: CaseName<'_>) -> Result<(), StudyError> {
        if self.requested() {
            return Err(StudyError::Cancelled {
                case: name.0.to_string(),
            });
        }
        Ok(())
    }
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Cancel(when)"
        } else {
            "Cancel(never)"
        })
    }
}

/// The case a stage works for: names it in every error of the stage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaseName<'a>(pub(crate) &'a str);

impl CaseName<'_> {
    pub(crate) fn spectrum(self, error: SpectrumError) -> StudyError {
        StudyError::Spectrum {
            case: self.0.to_string(),
            error,
        }
    }

    pub(crate) fn thermo(self, error: ThermoError) -> StudyError {
        StudyError::Thermo {
            case: self.0.to_string(),
            error,
        }
    }

    pub(crate) fn memory(self, error: ResourceError) -> StudyError {
        StudyError::Memory {
            case: self.0.to_string(),
            error,
        }
    }

    pub(crate) fn coulomb(self, error: CoulombError) -> StudyError {
        StudyError::Coulomb {
            case: self.0.to_string(),
            error,
        }
    }

    pub(crate) fn unsupported(self, message: impl Into<String>) -> StudyError {
        StudyError::Unsupported {
            case: self.0.to_string(),
            message: message.into(),
        }
    }
}

/// The thermodynamic settings of a case, shared by its one-particle, N-particle and Coulomb
/// stages.
#[derive(Debug, Clone)]
pub struct ThermoSettings {
    /// ε of the window average T_E^(K) (Hartree, total energy).
    pub epsilon: f64,
    /// Finite difference of T^(μ).
    pub difference: Difference,
    /// Temperatures of the canonical tables (Hartree), ascending.
    pub temperatures: Vec<f64>,
    /// Largest share of Z the omitted levels, orbitals or states may carry.
    pub truncation_tolerance: f64,
    /// What work sized at run time (energy grids, extensions) may allocate.
    pub budget: Budget,
    /// When to stop early.
    pub cancel: Cancel,
}

/// One row of `levels.csv` (Hartree unless stated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelRow {
    /// Level index (slab), or the radial quantum number n within its channel (sphere,
    /// cylinder).
    pub n: usize,
    /// The angular channel: l (sphere) or |m| (cylinder); `None` for the slab.
    pub channel: Option<usize>,
    /// Orbital degeneracy g (2l + 1; 1 or 2; 1 for the slab), spin not included.
    pub degeneracy: u64,
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
    /// Probability on each piece of the potential (dimensionless; slab only, empty otherwise).
    pub piece_probability: Vec<f64>,
    /// ‖Hψ − Eψ‖ of the solver.
    pub residual: f64,
    /// Estimated discretization error of E_n ([`crate::spectrum::discretization_error`]; slab
    /// only, NaN otherwise).
    pub discretization_error: f64,
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
    /// The temperature definition.
    pub definition: TemperatureDefinition,
    /// The intervals, ascending in energy.
    pub intervals: Vec<NhcInterval>,
}

impl NhcSet {
    /// The intervals of `definition` on the (energy, temperature) `points` (Hartree).
    pub fn of(
        definition: TemperatureDefinition,
        points: &[(f64, Option<f64>)],
    ) -> Result<Self, ThermoError> {
        Self::by(definition, points.len(), |i| points[i])
    }

    /// The intervals of `definition` on the curve of `len` points given one at a time,
    /// `point(i)` = (energy, temperature) (Hartree).
    pub fn by(
        definition: TemperatureDefinition,
        len: usize,
        point: impl Fn(usize) -> (f64, Option<f64>),
    ) -> Result<Self, ThermoError> {
        Ok(Self {
            definition,
            intervals: nhc_intervals_by(len, point, NHC_RELATIVE_TOLERANCE)?,
        })
    }
}

/// The set of `definition` (any parameters) in `sets`, if computed.
pub fn nhc_of(sets: &[NhcSet], definition: TemperatureDefinition) -> Option<&NhcSet> {
    sets.iter().find(|s| s.definition == definition)
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
    /// At most this many levels were omitted (grid nodes − computed levels); for a sphere or
    /// cylinder the bound on Σ g e^{−(E − cutoff)/T} of the omitted levels at the highest
    /// temperature, rounded up ([`CaseSpectrum::omitted_at_cutoff`]).
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
    /// The single-particle levels (with wave functions): the slab's spectrum or the radial
    /// channels.
    pub spectrum: CaseSpectrum,
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
    /// Notes and warnings of every stage, each naming this case.
    pub diagnostics: Vec<Diagnostic>,
    /// Wall time of the spectrum (s).
    pub spectrum_seconds: f64,
    /// Wall time of the thermodynamics (s).
    pub thermo_seconds: f64,
    /// Wall times of every stage (s): `spectrum`, `one_particle`, `particles/N=n/...`
    /// ([`particles::ParticleResult::stages`]), `coulomb/...`
    /// ([`coulomb::CoulombResult::stages`]).
    pub stages: timing::StageTimes,
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
    run_study_with(study, &Cancel::never())
}

/// [`run_study`] that stops with [`StudyError::Cancelled`] once `cancel` is requested.
pub fn run_study_with(study: &Study, cancel: &Cancel) -> Result<StudyResult, StudyError> {
    let start = Instant::now();
    let parallel = study.cases.len().min(rayon::current_num_threads());
    let one = |case: &Case| run_case_with(case, cancel);
    let cases = if plan::StudyPlan::new(study).concurrency() >= parallel {
        study
            .cases
            .par_iter()
            .map(one)
            .collect::<Result<Vec<_>, _>>()?
    } else {
        study.cases.iter().map(one).collect::<Result<Vec<_>, _>>()?
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

/// Computes the spectrum and all thermodynamics of one case, stage by stage (see the module
/// doc). The case is planned first ([`plan::checked_plan`]): work that does not fit in the
/// memory limit is refused before anything is allocated.
pub fn run_case(case: &Case) -> Result<CaseResult, StudyError> {
    run_case_with(case, &Cancel::never())
}

/// [`run_case`] that stops with [`StudyError::Cancelled`] at the next stage boundary once
/// `cancel` is requested.
pub fn run_case_with(case: &Case, cancel: &Cancel) -> Result<CaseResult, StudyError> {
    let name = CaseName(&case.name);
    cancel.check(name)?;
    let plan = plan::checked_plan(case)?;
    let budget = plan.budget();
    let cfg = &case.config;
    let config_error = |error| StudyError::Config {
        case: case.name.clone(),
        error,
    };
    let problem = match cfg.radial_problem().map_err(config_error)? {
        Some(radial) => CaseProblem::Radial(radial),
        None => CaseProblem::Slab(cfg.problem().map_err(config_error)?),
    };
    let start = Instant::now();
    let solved = solve_spectrum(&case.name, &problem, &cfg.analysis, &plan, &budget)?;
    let spectrum_seconds = start.elapsed().as_secs_f64();
    let mut stages = timing::StageTimes::default();
    stages.push("spectrum", spectrum_seconds);
    let start = Instant::now();
    // The spectrum's own warning on its top level is replaced by the study's criterion below.
    let mut diagnostics: Vec<Diagnostic> = solved
        .diagnostics
        .iter()
        .filter(|d| d.kind != Kind::UnderResolvedLevels)
        .cloned()
        .collect();
    let thermo = ThermoSettings {
        epsilon: cfg.analysis.epsilon,
        difference: cfg.analysis.difference,
        temperatures: solved.temperature_range.points(),
        truncation_tolerance: cfg.analysis.truncation_tolerance,
        budget: budget.clone(),
        cancel: cancel.clone(),
    };
    cancel.check(name)?;
    // The Coulomb study needs only the spectrum: it runs beside the one-particle tables and the
    // N-particle ensembles (each computes its numbers alone, so none depends on the schedule). A
    // failure beside it stops it at its next check, as if it had never started.
    let failed = std::sync::Arc::new(AtomicBool::new(false));
    let coulomb_thermo = ThermoSettings {
        cancel: {
            let (outer, failed) = (cancel.clone(), failed.clone());
            Cancel::when(move || outer.requested() || failed.load(Ordering::Relaxed))
        },
        ..thermo.clone()
    };
    let (coulomb_result, single) = rayon::join(
        || case_coulomb(case, &problem, &solved, &coulomb_thermo),
        || {
            let single = single_particle_stages(case, &problem, &solved, &plan, &thermo);
            if single.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            single
        },
    );
    // Errors in the order the stages had when they ran one after the other.
    let (one, particle_results, one_stages) = single?;
    let coulomb_result = coulomb_result?;
    stages.0.extend(one_stages.0);
    diagnostics.extend(one.diagnostics.iter().cloned());
    for r in &particle_results {
        diagnostics.extend(r.diagnostics.iter().cloned());
        stages.nest(&format!("particles/N={}", r.particles), &r.stages);
    }
    if let Some(r) = &coulomb_result {
        for v in &r.variants {
            diagnostics.extend(v.result.diagnostics.iter().cloned());
        }
        stages.nest("coulomb", &r.stages);
    }
    diagnostics.extend(under_resolution(
        &problem,
        &solved,
        &one,
        cfg,
        &particle_results,
        coulomb_result.as_ref(),
    ));
    let diagnostics = diagnostics
        .into_iter()
        .map(|d| d.in_case(&case.name))
        .collect();
    Ok(CaseResult {
        name: case.name.clone(),
        config: cfg.clone(),
        truncation: solved.truncation(),
        spectrum: solved.spectrum,
        levels: one.levels,
        canonical: one.canonical,
        temperatures: one.temperatures,
        nhc: one.nhc,
        particles: particle_results,
        coulomb: coulomb_result,
        diagnostics,
        spectrum_seconds,
        thermo_seconds: start.elapsed().as_secs_f64(),
        stages,
        memory_estimate: budget.accounted(),
    })
}

/// The one-particle thermodynamics and the `[particles]` ensembles of `case` on its solved
/// spectrum, one after the other, with their stage times.
fn single_particle_stages(
    case: &Case,
    problem: &CaseProblem,
    solved: &SolvedSpectrum,
    plan: &plan::CasePlan,
    thermo: &ThermoSettings,
) -> Result<
    (
        OneParticle,
        Vec<particles::ParticleResult>,
        timing::StageTimes,
    ),
    StudyError,
> {
    let cfg = &case.config;
    let mut stages = timing::StageTimes::default();
    let one = stages.time("one_particle", || {
        one_particle(&case.name, solved, &cfg.analysis, thermo)
    })?;
    thermo.cancel.check(CaseName(&case.name))?;
    let particle_results = match &cfg.particles {
        Some(pc) => {
            let source = particles::OrbitalSource::of_case(problem, &solved.spectrum)
                .expect("the spectrum is solved from the case's own problem");
            let mut source = source.with_budget(thermo.budget.clone(), plan.grid);
            let settings = particles::ParticleSettings {
                config: pc,
                state_limit: plan.state_limit.unwrap_or(pc.state_limit),
                thermo,
            };
            particles::run_particles(&case.name, &mut source, &settings)?
        }
        None => Vec::new(),
    };
    Ok((one, particle_results, stages))
}

/// The `[coulomb]` study of `case` (`None` without one) on its solved spectrum.
fn case_coulomb(
    case: &Case,
    problem: &CaseProblem,
    solved: &SolvedSpectrum,
    thermo: &ThermoSettings,
) -> Result<Option<coulomb::CoulombResult>, StudyError> {
    match (&case.config.coulomb, problem, &solved.spectrum) {
        (Some(cc), CaseProblem::Slab(problem), CaseSpectrum::Slab(spectrum)) => {
            let settings = coulomb::CoulombSettings { config: cc, thermo };
            coulomb::run_coulomb(&case.name, &problem.potential, spectrum, &settings).map(Some)
        }
        // The config refuses [coulomb] with a sphere or cylinder (slab-only).
        _ => Ok(None),
    }
}

/// The study's under-resolution criterion on the levels a slab case used (the reported
/// energies, the orbitals of its ensembles, the CI states); a sphere or cylinder has none here:
/// its radial solve refuses grids below the minimum points per half wavelength.
fn under_resolution(
    problem: &CaseProblem,
    solved: &SolvedSpectrum,
    one: &OneParticle,
    cfg: &Config,
    particle_results: &[particles::ParticleResult],
    coulomb_result: Option<&coulomb::CoulombResult>,
) -> Option<Diagnostic> {
    let CaseSpectrum::Slab(spectrum) = &solved.spectrum else {
        return None;
    };
    let used = resolution::ReportedUse {
        energy_top: reported_energy_top(one, cfg),
        orbitals: particle_results
            .iter()
            .map(|p| p.orbitals_needed)
            .max()
            .unwrap_or(0),
        max_temperature: solved.temperature_range.to,
        ci_states: coulomb_result
            .into_iter()
            .flat_map(|r| &r.variants)
            .flat_map(|v| v.states.iter().zip(&v.orbital_occupations))
            .map(|(s, n)| resolution::CiStateUse {
                energy: s.energy,
                leading_pair: s.leading_pair,
                occupations: n.clone(),
            })
            .collect(),
        potential_minimum: problem.potential().min_value(),
    };
    resolution::under_resolution(&spectrum.levels, &used)
}

/// What a case solves: the slab's problem, or a sphere's or cylinder's channels.
#[derive(Debug, Clone)]
pub enum CaseProblem {
    /// V(x) in the box [−L, L].
    Slab(Problem),
    /// V(r) in a hard sphere or cylinder.
    Radial(RadialProblem),
}

impl CaseProblem {
    /// The potential (V(x) on [−L, L], or V(r) on [0, R]; Hartree).
    pub fn potential(&self) -> &crate::model::potential::Potential {
        match self {
            Self::Slab(p) => &p.potential,
            Self::Radial(p) => &p.potential,
        }
    }
}

/// The spectrum of a case, extended for the canonical sums (stage 1).
#[derive(Debug, Clone)]
pub struct SolvedSpectrum {
    /// The levels (with wave functions): the requested ones and those added for the tail.
    pub spectrum: CaseSpectrum,
    /// Levels asked for in the config.
    pub requested: usize,
    /// The temperatures of the canonical tables (configured, or the default from the levels).
    pub temperature_range: TemperatureRange,
    /// Bound on the share of Z of the omitted levels at the highest temperature.
    pub bound: f64,
    /// The configured tolerance for `bound`.
    pub tolerance: f64,
    /// The solver's warnings on the requested levels, and the note of the extension.
    pub diagnostics: Vec<Diagnostic>,
}

impl SolvedSpectrum {
    /// How the canonical sums were made independent of the number of computed levels.
    pub fn truncation(&self) -> Truncation {
        Truncation {
            requested_levels: self.requested,
            computed_levels: self.spectrum.len(),
            cutoff: self.spectrum.cutoff(),
            max_omitted: self
                .spectrum
                .omitted_at_cutoff(self.temperature_range.to)
                .ceil() as usize,
            max_temperature: self.temperature_range.to,
            bound: self.bound,
            tolerance: self.tolerance,
        }
    }
}

/// Stage 1 for case `case`: solves the requested levels (the slab's k lowest, or the k lowest
/// (n, l) levels over every channel) and extends them (once) until the omitted levels carry
/// at most `analysis.truncation_tolerance` of Z at the highest temperature, or refuses.
pub fn solve_spectrum(
    case: &str,
    problem: &CaseProblem,
    analysis: &AnalysisConfig,
    plan: &plan::CasePlan,
    budget: &Budget,
) -> Result<SolvedSpectrum, StudyError> {
    let name = CaseName(case);
    let requested = match problem {
        CaseProblem::Slab(p) => p.levels,
        CaseProblem::Radial(_) => plan.levels,
    };
    // The default temperature range starts from the first excitation energy: with one level
    // requested, the second is solved too (the canonical sums need it anyway).
    let solved_levels = if analysis.temperatures.is_none() {
        requested.max(2).min(plan.nodes)
    } else {
        requested
    };
    let (spec, diagnostics) = match problem {
        CaseProblem::Slab(p) => {
            let spec = p
                .spectrum_with_levels(solved_levels)
                .map_err(|e| name.spectrum(e))?;
            // Warnings concern the requested levels; levels added below only carry the tail.
            let warnings = spec.warnings.clone();
            (CaseSpectrum::Slab(spec), warnings)
        }
        CaseProblem::Radial(p) => {
            let spec = p
                .spectrum(Selection::Lowest(solved_levels), None)
                .map_err(|e| name.unsupported(crate::pipeline::error_chain(&e)))?;
            (CaseSpectrum::Radial(spec), Vec::new())
        }
    };
    let temperature_range = analysis.temperatures.unwrap_or_else(|| {
        let (from, to) = default_temperatures(&spec.energies());
        TemperatureRange {
            from,
            to,
            points: plan::DEFAULT_TEMPERATURE_POINTS,
        }
    });
    let mut solved = SolvedSpectrum {
        requested,
        temperature_range,
        bound: 0.0,
        tolerance: analysis.truncation_tolerance,
        diagnostics,
        spectrum: spec,
    };
    solved.bound = truncation_of(name, &solved)?;
    if solved.bound > solved.tolerance {
        match problem {
            CaseProblem::Slab(p) => extend_for_truncation(name, p, plan, budget, &mut solved)?,
            CaseProblem::Radial(p) => {
                extend_radial_for_truncation(name, p, plan, budget, &mut solved)?
            }
        }
    }
    let t_max = solved.temperature_range.to;
    if solved.bound > solved.tolerance {
        return Err(name.unsupported(format!(
            "the omitted levels may still carry {:.1e} of Z at T = {t_max:.4e} Ha (tolerance {:.0e})",
            solved.bound, solved.tolerance
        )));
    }
    if solved.spectrum.len() > solved.requested {
        // On purpose, and the canonical sums are then correct to the tolerance: a note.
        solved.diagnostics.push(
            Diagnostic::note(
                Kind::SpectrumExtended,
                format!(
                    "the spectrum was extended from {} to {} levels so that omitted levels carry at most {:.1e} of Z at T = {t_max:.4e} Ha",
                    solved.requested,
                    solved.spectrum.len(),
                    solved.bound
                ),
            )
            .with("requested_levels", solved.requested as f64)
            .with("computed_levels", solved.spectrum.len() as f64)
            .with("bound", solved.bound)
            .with("max_temperature", t_max),
        );
    }
    Ok(solved)
}

/// The truncation bound of `solved`'s spectrum at its highest temperature.
fn truncation_of(name: CaseName<'_>, solved: &SolvedSpectrum) -> Result<f64, StudyError> {
    let s = &solved.spectrum;
    let states = s.state_list().map_err(|e| name.thermo(e))?;
    let t_max = solved.temperature_range.to;
    truncation_bound(&states, s.cutoff(), s.omitted_at_cutoff(t_max), t_max)
        .map_err(|e| name.thermo(e))
}

/// Solves every level below the cutoff the truncation bound asks for (once), or refuses with
/// what to change.
fn extend_for_truncation(
    name: CaseName<'_>,
    problem: &Problem,
    plan: &plan::CasePlan,
    budget: &Budget,
    solved: &mut SolvedSpectrum,
) -> Result<(), StudyError> {
    let CaseSpectrum::Slab(spectrum) = &solved.spectrum else {
        unreachable!("a slab problem has a slab spectrum");
    };
    let nodes = spectrum.grid.interior_len();
    let tolerance = solved.tolerance;
    let t_max = solved.temperature_range.to;
    // Z' ≥ 1, so a cutoff with (N − k)·e^{−(E_c − E_0)/T} ≤ tol suffices.
    let e0 = spectrum.levels[0].energy;
    let needed = e0 + t_max * ((nodes as f64).ln() - tolerance.ln());
    let h = Hamiltonian::new(&problem.potential, &spectrum.grid, problem.mass)
        .map_err(|e| name.spectrum(e.into()))?;
    let count = SturmData::new(&h.matrix.diag, &h.matrix.off).count_below(needed);
    let levels = (count + 1).min(nodes);
    let refuse = |why: String| truncation_refusal(name, solved, needed, "", why);
    if levels >= nodes {
        return Err(refuse(format!(
            "that is {count} levels but the grid has only {nodes} nodes"
        )));
    }
    let pieces = problem.potential.pieces().len();
    admit_extension(budget, plan, nodes, levels, pieces).map_err(refuse)?;
    let extended = spectrum::solve(
        &problem.potential,
        &spectrum.grid,
        problem.mass,
        levels,
        &problem.options,
    )
    .map_err(|e| match e {
        SpectrumError::Unresolved { .. } => refuse(e.to_string()),
        other => name.spectrum(other),
    })?;
    solved.spectrum = CaseSpectrum::Slab(extended);
    solved.bound = truncation_of(name, solved)?;
    Ok(())
}

/// Why a case cannot have the levels below `needed` (Hartree; `scope` says where, e.g. " in
/// every channel") that the truncation bound at its highest temperature asks for, and what to
/// change.
fn truncation_refusal(
    name: CaseName<'_>,
    solved: &SolvedSpectrum,
    needed: f64,
    scope: &str,
    why: String,
) -> StudyError {
    let t_max = solved.temperature_range.to;
    let tolerance = solved.tolerance;
    name.unsupported(format!(
        "the temperature range up to T = {t_max:.4e} Ha needs every level below E = {needed:.4e} Ha{scope} for a truncation bound of {tolerance:.0e}: {why}; lower analysis.temperatures.to, raise analysis.truncation_tolerance, or refine grid.spacing"
    ))
}

/// Admits `levels` levels on `nodes` nodes (of a potential with `pieces` pieces) to the case's
/// memory budget before they are solved; the error says what exceeds it.
fn admit_extension(
    budget: &Budget,
    plan: &plan::CasePlan,
    nodes: usize,
    levels: usize,
    pieces: usize,
) -> Result<(), String> {
    let more = resources::spectrum_estimate(nodes, levels, pieces, plan.grid, "solve.levels");
    budget.admit(&more).map_err(|e| e.to_string())
}

/// The radial counterpart of [`extend_for_truncation`]: solves every (n, l) level below the
/// lowest energy E_c = E_0 + xT (x = ln(1/tol), ln(1/tol) + 1, …) at which the omitted weight
/// w(E_c) e^{−(E_c − E_0)/T} ≤ tolerance (Z′ ≥ 1; w grows only polynomially with E_c).
fn extend_radial_for_truncation(
    name: CaseName<'_>,
    problem: &RadialProblem,
    plan: &plan::CasePlan,
    budget: &Budget,
    solved: &mut SolvedSpectrum,
) -> Result<(), StudyError> {
    let CaseSpectrum::Radial(spectrum) = &solved.spectrum else {
        unreachable!("a radial problem has a radial spectrum");
    };
    let tolerance = solved.tolerance;
    let t_max = solved.temperature_range.to;
    let e0 = spectrum.levels[0].energy;
    let mut x = -tolerance.ln();
    let mut needed = e0 + x * t_max;
    for _ in 0..100_000 {
        needed = (e0 + x * t_max).max(spectrum.completeness.cap);
        let share = spectrum.weight_above(needed, t_max) * (-(needed - e0) / t_max).exp();
        if share <= tolerance {
            break;
        }
        x += 1.0;
    }
    let refuse = |why: String| truncation_refusal(name, solved, needed, " in every channel", why);
    let failed = |e: crate::channels::ChannelError| refuse(crate::pipeline::error_chain(&e));
    // The levels' amplitudes live on the radial grid: sized before they are solved.
    let levels = problem.count_below(needed).map_err(failed)?;
    let nodes = spectrum.grid.interior_len() + 1;
    let pieces = problem.potential.pieces().len();
    admit_extension(budget, plan, nodes, levels, pieces).map_err(refuse)?;
    let extended = problem
        .spectrum(Selection::Below(needed), None)
        .map_err(failed)?;
    solved.spectrum = CaseSpectrum::Radial(extended);
    solved.bound = truncation_of(name, solved)?;
    Ok(())
}

/// The one-particle thermodynamics of a case (stage 2).
#[derive(Debug, Clone)]
pub struct OneParticle {
    /// Per-level table.
    pub levels: Vec<LevelRow>,
    /// Canonical table.
    pub canonical: Vec<CanonicalPoint>,
    /// Energy-grid table.
    pub temperatures: Vec<EnergyRow>,
    /// NHC intervals of every temperature definition.
    pub nhc: Vec<NhcSet>,
    /// Warnings of this stage (without the case name).
    pub diagnostics: Vec<Diagnostic>,
}

/// Stage 2 for case `case`: per level T^(K), S, T^(μ); the canonical table at `thermo.temperatures`; T^(C)(E)
/// and T_E^(K) on the energy grid; the NHC intervals of every [`TemperatureDefinition`].
pub fn one_particle(
    case: &str,
    solved: &SolvedSpectrum,
    analysis: &AnalysisConfig,
    thermo: &ThermoSettings,
) -> Result<OneParticle, StudyError> {
    let name = CaseName(case);
    let spec = &solved.spectrum;
    let energies = spec.energies();
    let states = spec.state_list().map_err(|e| name.thermo(e))?;
    let levels = level_rows(spec, &states, thermo.difference);
    let canonical = canonical_curve(&states, &thermo.temperatures).map_err(|e| name.thermo(e))?;
    // The energy grid covers the requested levels (not the extension for the canonical tail).
    let e_top = energies[solved.requested.min(energies.len()) - 1];
    let grid = match analysis.energy_grid {
        Some(g) => g.points(),
        None => {
            let step = thermo.epsilon / 4.0;
            let count = ((e_top - energies[0]) / step).floor() + 1.0;
            thermo
                .budget
                .admit(&resources::energy_grid_estimate(
                    count,
                    "analysis.epsilon",
                    "the default energy grid (steps of analysis.epsilon/4 from E_0 to the highest requested level)",
                ))
                .map_err(|e| name.memory(e))?;
            (0..count as usize)
                .map(|i| energies[0] + step * i as f64)
                .collect()
        }
    };
    let range = solved.temperature_range;
    let windows = window_averages(&states, &grid, thermo.epsilon).map_err(|e| name.thermo(e))?;
    let t_canonical =
        canonical_temperatures(&states, &grid, range.from, range.to).map_err(|e| name.thermo(e))?;
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
    let diagnostics: Vec<Diagnostic> = empty_grid_warning(analysis, &energies, &temperatures)
        .into_iter()
        .collect();
    let n_req = solved.requested.min(levels.len());
    let nhc = TemperatureDefinition::ALL
        .into_iter()
        .map(|d| NhcSet::of(d, &one_particle_points(d, &levels[..n_req], &temperatures)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| name.thermo(e))?;
    Ok(OneParticle {
        levels,
        canonical,
        temperatures,
        nhc,
        diagnostics,
    })
}

/// The highest energy a reported per-energy quantity of the one-particle stage uses (Hartree):
/// the last point of the energy grid plus ε (the window [E, E + ε) of T_E^(K)), or the end of
/// an NHC interval listed in nhc.csv, whichever is higher.
fn reported_energy_top(one: &OneParticle, cfg: &Config) -> f64 {
    let grid_top = one
        .temperatures
        .last()
        .map_or(f64::NEG_INFINITY, |r| r.energy + cfg.analysis.epsilon);
    one.nhc
        .iter()
        .flat_map(|s| &s.intervals)
        .filter(|i| i.relative_drop >= cfg.analysis.nhc_min_relative_drop)
        .map(|i| i.e_end)
        .fold(grid_top, f64::max)
}

/// The (energy, temperature) points of `definition` for one particle: per requested level
/// (T^(K), T^(μ)) or on the energy grid (T^(C), T_E^(K)).
fn one_particle_points(
    definition: TemperatureDefinition,
    levels: &[LevelRow],
    grid: &[EnergyRow],
) -> Vec<(f64, Option<f64>)> {
    match definition {
        TemperatureDefinition::Kinetic => levels
            .iter()
            .map(|l| (l.energy, Some(l.t_kinetic)))
            .collect(),
        TemperatureDefinition::Microcanonical => {
            levels.iter().map(|l| (l.energy, l.t_micro)).collect()
        }
        TemperatureDefinition::Canonical => {
            grid.iter().map(|r| (r.energy, r.t_canonical)).collect()
        }
        TemperatureDefinition::KineticWindow => {
            grid.iter().map(|r| (r.energy, r.t_window)).collect()
        }
    }
}

/// One [`LevelRow`] per level of `spec` (whose states are `states`).
fn level_rows(spec: &CaseSpectrum, states: &StateList, difference: Difference) -> Vec<LevelRow> {
    let t_kinetic = kinetic_temperature(states);
    let entropy = hertz_entropy(states);
    let t_micro = per_state_microcanonical_temperature(states, difference);
    let thermo = |i: usize| (t_kinetic[i], entropy[i], t_micro[i]);
    match spec {
        CaseSpectrum::Slab(s) => s
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| LevelRow {
                n: l.n,
                channel: None,
                degeneracy: 1,
                energy: l.energy,
                kinetic: l.kinetic,
                potential: l.potential,
                t_kinetic: thermo(i).0,
                entropy: thermo(i).1,
                t_micro: thermo(i).2,
                piece_probability: l.piece_probability.clone(),
                residual: l.residual,
                discretization_error: l.discretization_error,
            })
            .collect(),
        CaseSpectrum::Radial(r) => r
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| LevelRow {
                n: l.n,
                channel: Some(l.channel),
                degeneracy: l.degeneracy,
                energy: l.energy,
                kinetic: l.kinetic,
                potential: l.potential,
                t_kinetic: thermo(i).0,
                entropy: thermo(i).1,
                t_micro: thermo(i).2,
                piece_probability: Vec::new(),
                residual: l.residual,
                discretization_error: f64::NAN,
            })
            .collect(),
    }
}

/// The warning for a configured energy grid that lies entirely outside the computed levels.
fn empty_grid_warning(
    analysis: &AnalysisConfig,
    energies: &[f64],
    temperatures: &[EnergyRow],
) -> Option<Diagnostic> {
    let g = analysis.energy_grid?;
    let (first, last) = (temperatures.first()?.energy, temperatures.last()?.energy);
    let (e0, e_max) = (energies[0], energies[energies.len() - 1]);
    if !(last + analysis.epsilon <= e0 || first > e_max) {
        return None;
    }
    let canonical_too = temperatures.iter().all(|r| r.t_canonical.is_none());
    let message = format!(
        "analysis.energy_grid (from = {} to = {} Ha) lies entirely {} the computed levels ({e0:.6e} to {e_max:.6e} Ha): no window [E, E + epsilon) holds a level, so the T_E^(K) column of temperatures.csv is empty{}; put the grid inside the spectrum{}",
        g.from,
        g.to,
        if first > e_max { "above" } else { "below" },
        if canonical_too { " and so is T^(C)" } else { "" },
        if first > e_max { " or raise solve.levels" } else { "" }
    );
    Some(
        Diagnostic::warning(Kind::EnergyGridOutsideSpectrum, message)
            .with("grid_from", g.from)
            .with("grid_to", g.to)
            .with("lowest_level", e0)
            .with("highest_level", e_max),
    )
}
