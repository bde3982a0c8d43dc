//! N non-interacting fermions in the computed orbitals: the paper's Figs. 4 and 5 and the
//! approach to the thermodynamic limit.
//!
//! For each N of `[particles]`: the states with E/N ≤ `energy_per_particle_max`, either
//! enumerated one by one (T^(K) of every state, eq. 3; the Hertz entropy; T^(μ)) or counted
//! exactly on energy bins (large N); on an energy grid the window average T_E^(K) (eqs. 4–7),
//! the Hertz S(E)/N and the canonical T^(C)(E) of the N-fermion gas built from *all* computed
//! orbitals ([`crate::physics::thermo::fermions`]); the negative-heat-capacity intervals of T_E^(K)
//! (and of T^(K), T^(μ) when enumerated); and the depth and width of the dent of S/N below its
//! concave envelope. The thermodynamics is the same code as for one particle: a
//! [`crate::physics::thermo::StateList`] with multiplicities and N, or the binned counts.

use super::timing::StageTimes;
use super::{
    CaseName, CaseProblem, CaseSpectrum, NhcSet, StudyError, TemperatureDefinition, ThermoSettings,
};
use crate::channels::{RadialProblem, RadialSpectrum, Selection};
use crate::diagnostic::{Diagnostic, Kind};
use crate::eigen::sturm::SturmData;
use crate::eigen::SolverOptions;
use crate::model::hamiltonian::Hamiltonian;
use crate::model::potential::Potential;
use crate::physics::many_body::{
    binned_counts_with, enumerate, BinningSettings, EnumerationSettings, ManyBodyError,
    ManyBodyStates, Orbitals, Spin,
};
use crate::physics::thermo::canonical::{
    canonical_curve, canonical_temperatures, CanonicalModel, CanonicalPoint,
};
use crate::physics::thermo::fermions::{fermion_truncation_bound, FermionGas};
use crate::physics::thermo::kinetic::{kinetic_temperature, window_averages};
use crate::physics::thermo::microcanonical::{
    convex_intruder, hertz_entropy, per_state_microcanonical_temperature, ConvexIntruder,
    Difference,
};
use crate::physics::thermo::{StateList, ThermoError};
use crate::pipeline::config::{CountingMethod, ParticlesConfig};
use crate::resources::{self, Budget, GridSize};
use crate::spectrum::{self, Spectrum};
use serde::Serialize;
use std::borrow::Cow;
use std::time::Instant;

/// One row of an N-particle energy grid (total energies in Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticleRow {
    /// Total energy E (Hartree).
    pub energy: f64,
    /// Ω_N(E): states with E_i ≤ E (spin copies included; f64, it can exceed 10^300 only for
    /// absurd inputs).
    pub omega: f64,
    /// Hertz entropy per particle ln Ω_N(E) / N (k_B).
    pub entropy_per_particle: f64,
    /// T_E^(K) over [E, E + ε) (Hartree); None if the window is empty.
    pub t_window: Option<f64>,
    /// T^(C)(E) of the N-fermion gas (Hartree); None outside the supported temperatures and
    /// between the at most [`CANONICAL_POINTS`] grid energies where it is tabulated.
    pub t_canonical: Option<f64>,
}

/// Every enumerated state (total energies in Hartree).
#[derive(Debug, Clone, PartialEq)]
pub struct StateTable {
    /// E_i (Hartree).
    pub energy: Vec<f64>,
    /// K_i = Σ n_j ⟨K⟩_j (Hartree).
    pub kinetic: Vec<f64>,
    /// Spin multiplicity.
    pub multiplicity: Vec<u64>,
    /// T^(K)_i = 2K_i/N (Hartree).
    pub t_kinetic: Vec<f64>,
    /// S(E_i) = ln Ω(E_i) (k_B).
    pub entropy: Vec<f64>,
    /// T^(μ) at E_i (Hartree).
    pub t_micro: Vec<Option<f64>>,
    /// Occupied orbital indices, N per state (a doubly occupied orbital appears twice).
    pub occupations: Vec<u32>,
}

/// Everything computed for one particle number.
#[derive(Debug, Clone)]
pub struct ParticleResult {
    /// N.
    pub particles: usize,
    /// Spin convention.
    pub spin: Spin,
    /// "enumerated" or "binned".
    pub method: &'static str,
    /// The total-energy cap N·(E/N)_max (Hartree).
    pub energy_max: f64,
    /// N-particle ground-state energy (Hartree).
    pub ground_energy: f64,
    /// Occupations enumerated (None when binned).
    pub occupations: Option<usize>,
    /// States with E ≤ E_max, spin copies included.
    pub states: f64,
    /// Orbitals that states up to E_max can occupy, all inside the computed spectrum.
    pub orbitals_needed: usize,
    /// Per-state table (enumerated only).
    pub per_state: Option<StateTable>,
    /// The energy grid.
    pub grid: Vec<ParticleRow>,
    /// Canonical table of the N-fermion gas.
    pub canonical: Vec<CanonicalPoint>,
    /// Bound on the share of Z_N in states using omitted orbitals at the highest temperature.
    pub canonical_bound: f64,
    /// NHC intervals of T_E^(K) (and T^(K), T^(μ) when enumerated).
    pub nhc: Vec<NhcSet>,
    /// Dent of S/N below its concave envelope (S/N in k_B, E/N in Hartree).
    pub intruder: ConvexIntruder,
    /// Notes and diagnostics of this N (without the case name; the study adds it).
    pub diagnostics: Vec<Diagnostic>,
    /// Wall time (s).
    pub seconds: f64,
    /// Wall times of its stages: `enumeration` or `binning`, `thermodynamics`, `canonical`,
    /// `nhc` (s).
    pub stages: StageTimes,
}

/// Largest number of grid energies at which T^(C)(E) of the N-fermion gas is tabulated.
pub const CANONICAL_POINTS: usize = 400;

/// How an [`OrbitalSource`] solves more levels: the slab's Hamiltonian, or the channels.
enum LevelSolver<'a> {
    Slab {
        potential: &'a Potential,
        mass: f64,
        options: SolverOptions,
    },
    Radial(&'a RadialProblem),
}

/// The orbitals for the N-particle states: the computed spectrum, extended (once, by a Sturm
/// count) when some state below E_max could occupy a level above it.
pub struct OrbitalSource<'a> {
    solver: LevelSolver<'a>,
    /// The case's own levels until an extension replaces them.
    spectrum: Cow<'a, CaseSpectrum>,
    /// What an extension may allocate, and how the grid follows its spacing (for the message).
    budget: Option<(Budget, GridSize)>,
}

impl<'a> LevelSolver<'a> {
    /// The slab's Hamiltonian: `potential` for a particle of mass `mass` (m_e).
    fn slab(potential: &'a Potential, mass: f64) -> Self {
        Self::Slab {
            potential,
            mass,
            options: SolverOptions::default(),
        }
    }
}

impl<'a> OrbitalSource<'a> {
    /// Starts from an already computed spectrum of `potential` for a particle of mass `mass`.
    pub fn new(potential: &'a Potential, mass: f64, spectrum: Spectrum) -> Self {
        Self::starting_from(
            LevelSolver::slab(potential, mass),
            Cow::Owned(CaseSpectrum::Slab(spectrum)),
        )
    }

    /// Starts from already computed levels of a sphere or cylinder: each level of degeneracy g
    /// is g orbitals.
    pub fn radial(problem: &'a RadialProblem, spectrum: RadialSpectrum) -> Self {
        Self::starting_from(
            LevelSolver::Radial(problem),
            Cow::Owned(CaseSpectrum::Radial(spectrum)),
        )
    }

    /// Starts from the levels `spectrum` already computed for `problem`, borrowed (not copied)
    /// until an extension replaces them; None if they are not of the problem's kind (slab or
    /// radial).
    pub fn of_case(problem: &'a CaseProblem, spectrum: &'a CaseSpectrum) -> Option<Self> {
        let solver = match (problem, spectrum) {
            (CaseProblem::Slab(p), CaseSpectrum::Slab(_)) => {
                LevelSolver::slab(&p.potential, p.mass)
            }
            (CaseProblem::Radial(p), CaseSpectrum::Radial(_)) => LevelSolver::Radial(p),
            _ => return None,
        };
        Some(Self::starting_from(solver, Cow::Borrowed(spectrum)))
    }

    /// The source of `solver` starting from the levels `spectrum`, without a budget.
    fn starting_from(solver: LevelSolver<'a>, spectrum: Cow<'a, CaseSpectrum>) -> Self {
        Self {
            solver,
            spectrum,
            budget: None,
        }
    }

    /// The same source, checking every extension of the spectrum against `budget` before it is
    /// solved (`grid`: the grid's size, for the spacing that would fit).
    pub fn with_budget(mut self, budget: Budget, grid: GridSize) -> Self {
        self.budget = Some((budget, grid));
        self
    }

    /// The current levels.
    pub fn spectrum(&self) -> &CaseSpectrum {
        &self.spectrum
    }

    /// Makes sure every level below `energy` (Hartree) is computed.
    fn extend_to(&mut self, energy: f64, case: &str) -> Result<(), StudyError> {
        let refuse = |why: String| {
            StudyError::Unsupported {
            case: case.to_string(),
            message: format!(
                "the N-particle states up to particles.energy_per_particle_max need every orbital below {energy:.4e} Ha: {why}; lower particles.energy_per_particle_max or refine grid.spacing"
            ),
        }
        };
        let (potential, mass, options) = match &self.solver {
            LevelSolver::Slab {
                potential,
                mass,
                options,
            } => (*potential, *mass, options),
            LevelSolver::Radial(problem) => {
                // Every level below `energy` and the next one above it (the enumeration needs
                // an orbital beyond the energy it asks for, as the slab's count + 1 levels).
                let failed =
                    |e: crate::channels::ChannelError| refuse(crate::pipeline::error_chain(&e));
                let below = problem.count_below(energy).map_err(failed)?;
                if below < self.spectrum.len() {
                    return Ok(());
                }
                if let Some((budget, grid)) = &self.budget {
                    let nodes = self.spectrum.grid().interior_len() + 1;
                    let pieces = problem.potential.pieces().len();
                    let unit = resources::spectrum_estimate(
                        nodes,
                        below + 1,
                        pieces,
                        *grid,
                        "solve.levels",
                    );
                    budget.admit(&unit).map_err(|e| refuse(e.to_string()))?;
                }
                let more = problem
                    .spectrum(Selection::Lowest(below + 1), None)
                    .map_err(failed)?;
                self.spectrum = Cow::Owned(CaseSpectrum::Radial(more));
                return Ok(());
            }
        };
        let grid = self.spectrum.grid();
        let nodes = grid.interior_len();
        let h = Hamiltonian::new(potential, grid, mass).map_err(|e| StudyError::Spectrum {
            case: case.to_string(),
            error: e.into(),
        })?;
        let count = SturmData::new(&h.matrix.diag, &h.matrix.off).count_below(energy);
        let levels = count + 1;
        if levels > nodes {
            return Err(refuse(format!(
                "that is {count} levels but the grid has only {nodes} nodes"
            )));
        }
        if levels <= self.spectrum.len() {
            return Ok(());
        }
        if let Some((budget, grid)) = &self.budget {
            let pieces = potential.pieces().len();
            let unit = resources::spectrum_estimate(nodes, levels, pieces, *grid, "solve.levels");
            budget.admit(&unit).map_err(|e| refuse(e.to_string()))?;
        }
        let solved = spectrum::solve(potential, grid, mass, levels, options)
            .map_err(|e| refuse(e.to_string()))?;
        self.spectrum = Cow::Owned(CaseSpectrum::Slab(solved));
        Ok(())
    }
}

/// The message of a failure of the N-particle states, naming the `[particles]` key that caused
/// it where a user value did.
fn many_body_message(e: ManyBodyError, particles: usize) -> String {
    match e {
        ManyBodyError::EnergyBelowGround { energy_max, ground } => format!(
            "particles.energy_per_particle_max = {} Ha gives E_max = {energy_max} Ha for N = {particles}, below the N-particle ground-state energy {ground} Ha: raise particles.energy_per_particle_max to at least {} Ha",
            energy_max / particles as f64,
            ground / particles as f64
        ),
        ManyBodyError::TooManyStates { .. } => format!("particles.state_limit: {e}"),
        other => other.to_string(),
    }
}

/// Runs `f` on the orbitals for N = `particles`, extending them once if it asks for more.
fn with_orbitals<T>(
    source: &mut OrbitalSource,
    case: &str,
    particles: usize,
    f: impl Fn(&Orbitals) -> Result<T, ManyBodyError>,
) -> Result<T, StudyError> {
    let many = |e: ManyBodyError| StudyError::Unsupported {
        case: case.to_string(),
        message: many_body_message(e, particles),
    };
    for _ in 0..3 {
        let orbitals = source.spectrum.orbitals().map_err(many)?;
        match f(&orbitals) {
            Err(ManyBodyError::NeedMoreOrbitals { needed_energy, .. }) => {
                // A little above the needed energy so that the next try certainly covers it.
                let margin = 1e-9 * needed_energy.abs().max(1.0);
                source.extend_to(needed_energy + margin, case)?;
            }
            other => return other.map_err(many),
        }
    }
    Err(StudyError::Unsupported {
        case: case.to_string(),
        message: "the orbitals could not be extended far enough for the N-particle states".into(),
    })
}

/// Checks the energy grid E₀, E₀ + ε/4, … ≤ `energy_max` of [`states_thermodynamics`] (Hartree)
/// against `budget`; `key` sizes it.
pub(crate) fn check_energy_grid(
    budget: &Budget,
    ground: f64,
    energy_max: f64,
    eps: f64,
    key: &str,
) -> Result<(), resources::ResourceError> {
    let points = ((energy_max - ground) / (eps / 4.0)).floor().max(0.0) + 1.0;
    budget.admit(&resources::energy_grid_estimate(
        points,
        &format!("{key} and analysis.epsilon"),
        "the N-particle energy grid (steps of epsilon/4 up to E_max)",
    ))
}

/// The energy-grid rows, the entropy corners (E/N, S/N) and the per-state table of
/// [`states_thermodynamics`].
pub(crate) type StatesThermodynamics = (Vec<ParticleRow>, Vec<(f64, f64)>, StateTable);

/// The thermodynamics of an explicit list of N-particle states (total energies in Hartree):
/// on the energy grid E₀, E₀ + ε/4, … ≤ `energy_max` the window average T_E^(K) and the Hertz
/// S/N; the corners (E/N, S/N) of the entropy staircase; and the per-state table (T^(K), S,
/// T^(μ)) with `occupations` (N orbital indices per state). Shared by the non-interacting
/// enumeration and the Coulomb CI states.
pub(crate) fn states_thermodynamics(
    list: StateList,
    ground: f64,
    energy_max: f64,
    eps: f64,
    difference: Difference,
    occupations: Vec<u32>,
) -> Result<StatesThermodynamics, ThermoError> {
    let n = list.particles();
    let count = ((energy_max - ground) / (eps / 4.0)).floor().max(0.0) as usize + 1;
    let grid: Vec<f64> = (0..count).map(|i| ground + eps / 4.0 * i as f64).collect();
    let windows = window_averages(&list, &grid, eps)?;
    // Ω(E) on the grid from the prefix sums of the multiplicities.
    let energies = list.energy();
    let mut prefix = Vec::with_capacity(energies.len() + 1);
    let mut acc = 0.0;
    prefix.push(0.0);
    for &g in list.multiplicity() {
        acc += g as f64;
        prefix.push(acc);
    }
    let rows: Vec<ParticleRow> = grid
        .iter()
        .zip(&windows)
        .map(|(&e, w)| {
            let omega = prefix[energies.partition_point(|&x| x <= e)];
            ParticleRow {
                energy: e,
                omega,
                entropy_per_particle: omega.ln() / n as f64,
                t_window: w.temperature,
                t_canonical: None,
            }
        })
        .collect();
    let entropy = hertz_entropy(&list);
    // Entropy points at the distinct levels (the corners of the staircase): at most one per
    // state, the capacity not used is never touched.
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(energies.len());
    for (i, &e) in energies.iter().enumerate() {
        let s = entropy[i] / n as f64;
        match points.last_mut() {
            Some(last) if last.0 == e / n as f64 => last.1 = s,
            _ => points.push((e / n as f64, s)),
        }
    }
    let t_kinetic = kinetic_temperature(&list);
    let t_micro = per_state_microcanonical_temperature(&list, difference);
    let (energy, kinetic, multiplicity) = list.into_parts();
    let table = StateTable {
        energy,
        kinetic,
        multiplicity,
        t_kinetic,
        entropy,
        t_micro,
        occupations,
    };
    Ok((rows, points, table))
}

/// The negative-heat-capacity intervals of T_E^(K) on the grid `rows`, and of T^(K) and T^(μ)
/// per state when there is a per-state table.
pub(crate) fn nhc_sets(
    rows: &[ParticleRow],
    per_state: Option<&StateTable>,
) -> Result<Vec<NhcSet>, ThermoError> {
    let window: Vec<(f64, Option<f64>)> = rows.iter().map(|r| (r.energy, r.t_window)).collect();
    let mut nhc = vec![NhcSet::of(TemperatureDefinition::KineticWindow, &window)?];
    if let Some(t) = per_state {
        let states = t.energy.len();
        nhc.push(NhcSet::by(TemperatureDefinition::Kinetic, states, |i| {
            (t.energy[i], Some(t.t_kinetic[i]))
        })?);
        nhc.push(NhcSet::by(
            TemperatureDefinition::Microcanonical,
            states,
            |i| (t.energy[i], t.t_micro[i]),
        )?);
    }
    Ok(nhc)
}

/// The canonical table of `model` at `temperatures` (none when empty), and T^(C)(E) filled into
/// `rows` where the temperatures support it. Each T^(C) is a root search over many partition
/// functions, so it is tabulated at no more than [`CANONICAL_POINTS`] grid energies (every
/// stride-th row).
pub(crate) fn canonical_table<M: CanonicalModel + Sync + ?Sized>(
    model: &M,
    temperatures: &[f64],
    rows: &mut [ParticleRow],
) -> Result<Vec<CanonicalPoint>, ThermoError> {
    let (Some(&t_lo), Some(&t_hi)) = (temperatures.first(), temperatures.last()) else {
        return Ok(Vec::new());
    };
    let canonical = canonical_curve(model, temperatures)?;
    if t_hi > t_lo {
        let stride = rows.len().div_ceil(CANONICAL_POINTS).max(1);
        let energies: Vec<f64> = rows.iter().step_by(stride).map(|r| r.energy).collect();
        let tc = canonical_temperatures(model, &energies, t_lo, t_hi)?;
        for (row, t) in rows.iter_mut().step_by(stride).zip(tc) {
            row.t_canonical = t.ok();
        }
    }
    Ok(canonical)
}

/// Settings shared by every N of a case.
pub struct ParticleSettings<'a> {
    /// The `[particles]` table.
    pub config: &'a ParticlesConfig,
    /// The largest number of states an enumeration may list (`particles.state_limit`, or its
    /// default lowered to what fits in memory: [`super::plan::CasePlan::state_limit`]).
    pub state_limit: usize,
    /// ε, T^(μ) difference, canonical temperatures, tolerance and memory budget of the case.
    pub thermo: &'a ThermoSettings,
}

/// Runs every N of `settings` on the orbitals of `source`.
pub fn run_particles(
    case: &str,
    source: &mut OrbitalSource,
    settings: &ParticleSettings,
) -> Result<Vec<ParticleResult>, StudyError> {
    settings
        .config
        .counts
        .iter()
        .map(|&n| {
            settings.thermo.cancel.check(CaseName(case))?;
            run_one(CaseName(case), source, settings, n)
        })
        .collect()
}

/// The states of N particles up to E_max, counted one way or the other: the energy-grid rows,
/// the entropy corners (E/N, S/N) and what the count found.
struct Counted {
    /// "enumerated" or "binned".
    method: &'static str,
    /// N-particle ground-state energy (Hartree).
    ground: f64,
    /// Occupations enumerated (None when binned).
    occupations: Option<usize>,
    /// States with E ≤ E_max, spin copies included.
    states: f64,
    /// Orbitals that states up to E_max can occupy.
    orbitals_needed: usize,
    /// Per-state table (enumerated only).
    per_state: Option<StateTable>,
    /// The energy grid (T^(C) not yet filled in).
    rows: Vec<ParticleRow>,
    /// Corners (E/N, S/N) of the entropy staircase.
    corners: Vec<(f64, f64)>,
}

/// N-particle stage for one N: count the states (enumerated, or binned when asked or when the
/// enumeration would be too long with `method = "auto"`), then the canonical N-fermion gas,
/// then the NHC intervals and the dent of S/N.
fn run_one(
    name: CaseName<'_>,
    source: &mut OrbitalSource,
    settings: &ParticleSettings,
    n: usize,
) -> Result<ParticleResult, StudyError> {
    let start = Instant::now();
    let mut stages = StageTimes::default();
    let cfg = settings.config;
    let energy_max = n as f64 * cfg.energy_per_particle_max;
    let mut diagnostics = Vec::new();
    let enumerate_first = matches!(cfg.method, CountingMethod::Enumerate | CountingMethod::Auto);
    let enumeration = EnumerationSettings {
        particles: n,
        spin: cfg.spin,
        energy_max,
        state_limit: settings.state_limit,
    };
    let enumerated = if enumerate_first {
        let enumerated = stages.time("enumeration", || {
            with_orbitals(source, name.0, n, |o| enumerate(o, &enumeration))
        });
        match enumerated {
            Ok(states) => Some(states),
            Err(e) if cfg.method == CountingMethod::Auto => {
                // Binned counting is exact (to its stated energy bound): a note.
                diagnostics.push(
                    Diagnostic::note(
                        Kind::BinnedCounting,
                        format!(
                            "N = {n}: {}; counted on energy bins instead",
                            crate::pipeline::error_chain(&e)
                        ),
                    )
                    .with("N", n as f64)
                    .with("state_limit", settings.state_limit as f64),
                );
                None
            }
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let mut counted = match enumerated {
        Some(states) => stages.time("thermodynamics", || {
            enumerated_thermodynamics(name, settings, states, energy_max)
        })?,
        None => stages.time("binning", || {
            binned_states(name, source, settings, n, energy_max, &mut diagnostics)
        })?,
    };
    let (canonical, bound) = stages.time("canonical", || {
        fermion_canonical(
            name,
            source,
            settings,
            n,
            &mut counted.rows,
            &mut diagnostics,
        )
    })?;
    let nhc = stages
        .time("nhc", || {
            nhc_sets(&counted.rows, counted.per_state.as_ref())
        })
        .map_err(|e| name.thermo(e))?;
    let intruder = convex_intruder(&counted.corners, 1e-12);
    Ok(ParticleResult {
        particles: n,
        spin: cfg.spin,
        method: counted.method,
        energy_max,
        ground_energy: counted.ground,
        occupations: counted.occupations,
        states: counted.states,
        orbitals_needed: counted.orbitals_needed,
        per_state: counted.per_state,
        grid: counted.rows,
        canonical,
        canonical_bound: bound,
        nhc,
        intruder,
        diagnostics,
        seconds: start.elapsed().as_secs_f64(),
        stages,
    })
}

/// The thermodynamics of the enumerated states of N particles up to `energy_max` (Hartree);
/// their vectors move into the per-state table.
fn enumerated_thermodynamics(
    name: CaseName<'_>,
    settings: &ParticleSettings,
    states: ManyBodyStates,
    energy_max: f64,
) -> Result<Counted, StudyError> {
    let eps = settings.thermo.epsilon;
    let ground = states.ground_energy();
    let (occupations, total_states, orbitals_needed) = (
        states.len(),
        states.total_states() as f64,
        states.orbitals_needed(),
    );
    let (list, occupied) = states
        .into_state_list()
        .map_err(|e| name.unsupported(e.to_string()))?;
    check_energy_grid(
        &settings.thermo.budget,
        ground,
        energy_max,
        eps,
        "particles.energy_per_particle_max",
    )
    .map_err(|e| name.memory(e))?;
    let (rows, corners, table) = states_thermodynamics(
        list,
        ground,
        energy_max,
        eps,
        settings.thermo.difference,
        occupied,
    )
    .map_err(|e| name.thermo(e))?;
    Ok(Counted {
        method: "enumerated",
        ground,
        occupations: Some(occupations),
        states: total_states,
        orbitals_needed,
        per_state: Some(table),
        rows,
        corners,
    })
}

/// The states of N particles up to `energy_max` (Hartree) counted exactly on energy bins of
/// `particles.bin_width` (default ε/4), with Ω, S/N and T_E^(K) on the bin edges.
fn binned_states(
    name: CaseName<'_>,
    source: &mut OrbitalSource,
    settings: &ParticleSettings,
    n: usize,
    energy_max: f64,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Counted, StudyError> {
    let eps = settings.thermo.epsilon;
    let width = settings.config.bin_width.unwrap_or(eps / 4.0);
    let binning = BinningSettings::new(n, settings.config.spin, energy_max, width);
    let bins = with_orbitals(source, name.0, n, |o| binned_counts_with(o, &binning))?;
    let windows = bins.window_kinetic(eps).map_err(|e| {
        name.unsupported(format!(
            "{e} (particles.bin_width must divide analysis.epsilon)"
        ))
    })?;
    let cumulative = bins.cumulative_counts();
    let edges = bins.upper_edges();
    let rows: Vec<ParticleRow> = bins
        .bins
        .iter()
        .enumerate()
        .map(|(b, bin)| {
            let omega = if b == 0 { 0.0 } else { cumulative[b - 1] };
            ParticleRow {
                energy: bin.e_lo,
                omega,
                entropy_per_particle: omega.ln() / n as f64,
                t_window: windows.get(b).and_then(|w| w.temperature),
                t_canonical: None,
            }
        })
        .collect();
    let corners: Vec<(f64, f64)> = edges
        .iter()
        .zip(&cumulative)
        .filter(|(_, &c)| c > 0.0)
        .map(|(&e, &c)| (e / n as f64, c.ln() / n as f64))
        .collect();
    if bins.energy_error_bound > 0.0 {
        diagnostics.push(
            Diagnostic::note(Kind::BinnedEnergies, format!(
                "N = {n}: binned energies are exact to {:.1e} Ha (quantum {:.1e} Ha); a state within that of a bin edge may sit in the neighbouring bin",
                bins.energy_error_bound, bins.quantum
            ))
            .with("N", n as f64)
            .with("energy_error_bound", bins.energy_error_bound)
            .with("quantum", bins.quantum),
        );
    }
    Ok(Counted {
        method: "binned",
        ground: bins.e_ground,
        occupations: None,
        states: bins.total_count(),
        orbitals_needed: bins.orbitals_used,
        per_state: None,
        rows,
        corners,
    })
}

/// The diagnostic of an ensemble's canonical table that ends before the study's highest
/// temperature because its own truncation (omitted orbitals, states above E_max) stops
/// bounding Z there: a note while the table keeps a temperature (`last_kept`, Hartree; it is
/// correct where it is given and documented to end there), a warning when nothing is left.
pub(crate) fn canonical_range_diagnostic(
    kind: Kind,
    last_kept: Option<f64>,
    message: String,
) -> Diagnostic {
    match last_kept {
        Some(t) => Diagnostic::note(kind, message).with("last_temperature", t),
        None => Diagnostic::warning(kind, format!("{message}; the canonical table is empty")),
    }
}

/// The canonical table of the N-fermion gas over every computed orbital, at the temperatures
/// where the omitted orbitals carry at most the tolerance, with T^(C)(E) filled into `rows`;
/// returns it with the largest truncation bound used.
fn fermion_canonical(
    name: CaseName<'_>,
    source: &OrbitalSource,
    settings: &ParticleSettings,
    n: usize,
    rows: &mut [ParticleRow],
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(Vec<CanonicalPoint>, f64), StudyError> {
    let thermo = settings.thermo;
    let spectrum = source.spectrum();
    let orbital_energy = spectrum
        .orbitals()
        .map_err(|e| name.unsupported(e.to_string()))?
        .energy()
        .to_vec();
    let gas = FermionGas::new(orbital_energy.clone(), n, settings.config.spin.capacity())
        .map_err(|e| name.thermo(e))?;
    let cutoff = spectrum.cutoff();
    let mut temperatures = Vec::new();
    let mut bound = 0.0_f64;
    for &t in &thermo.temperatures {
        let omitted = spectrum.omitted_orbitals(t, n);
        let b = fermion_truncation_bound(&gas, cutoff, omitted, t).map_err(|e| name.thermo(e))?;
        if b > thermo.truncation_tolerance {
            diagnostics.push(
                canonical_range_diagnostic(
                    Kind::FermionCanonicalRange,
                    temperatures.last().copied(),
                    format!(
                        "N = {n}: canonical table stops below T = {t:.4e} Ha, where the {} computed orbitals no longer bound the omitted share of Z below {:.0e}; raise solve.levels for higher T",
                        orbital_energy.len(),
                        thermo.truncation_tolerance
                    ),
                )
                .with("N", n as f64)
                .with("first_temperature_left_out", t)
                .with("orbitals", orbital_energy.len() as f64)
                .with("tolerance", thermo.truncation_tolerance),
            );
            break;
        }
        bound = bound.max(b);
        temperatures.push(t);
    }
    let canonical = canonical_table(&gas, &temperatures, rows).map_err(|e| name.thermo(e))?;
    Ok((canonical, bound))
}
