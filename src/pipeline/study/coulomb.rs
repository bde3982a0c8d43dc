//! Two electrons with the soft Coulomb interaction (`[coulomb]`): the paper's "tested to be very
//! small" check, made quantitative.
//!
//! For W switched off (λ = 0) and for each configured ε_r, the two-electron spectrum comes from
//! configuration interaction in the lowest M orbitals ([`crate::physics::coulomb::ci`]); the states with
//! E ≤ 2·(E/N)_max go through the same N-particle thermodynamics as the non-interacting
//! electrons ([`super::particles`]): T^(K) and T^(μ) per state, Hertz S, T_E^(K) on the energy
//! grid, the canonical T^(C)(E) and the negative-heat-capacity intervals. Spin ½: singlets
//! (g = 1) and triplets (g = 3); spinless: the antisymmetric sector only.
//!
//! Every non-interacting pair state below E_max must be in the basis, so e₀ + e_{M−1} ≥ E_max
//! is required. The canonical sums run over the CI states below E_max only; the temperatures
//! are limited to where the first omitted state would carry at most the truncation tolerance
//! times the number of kept states (an estimate: the CI cannot bound the states it omits).

use super::particles::{
    canonical_table, check_energy_grid, nhc_sets, states_thermodynamics, ParticleResult,
};
use super::plan::grid_check_limit;
use super::timing::StageTimes;
use super::{CaseName, StudyError, ThermoSettings};
use crate::model::potential::Potential;
use crate::physics::coulomb::ci::{
    convergence_from, fine_energies, CiConvergence, CiProblem, CiSettings, CiSpectrum, CiState,
    CiStates, StateSelection, Symmetry,
};
use crate::physics::coulomb::grid2d::{self, GridOptions};
use crate::physics::coulomb::{Exchange, SoftCoulomb};
use crate::physics::thermo::microcanonical::convex_intruder;
use crate::pipeline::config::CoulombConfig;
use crate::spectrum::Spectrum;
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

/// One two-electron spectrum: W off, or W with one ε_r.
#[derive(Debug, Clone)]
pub struct CoulombVariant {
    /// "W off" or "eps_r = …".
    pub label: String,
    /// ε_r (None: W off).
    pub eps_r: Option<f64>,
    /// The N = 2 thermodynamics of its states below E_max.
    pub result: ParticleResult,
    /// Energies with M and M′ orbitals for the states below E_max (W on only).
    pub convergence: Option<CiConvergence>,
    /// ⟨W⟩ in the ground state (Hartree).
    pub ground_interaction: f64,
    /// Spin label of the ground state ("singlet" or "triplet").
    pub ground_spin: &'static str,
    /// The CI states below E_max that enter the thermodynamics, ascending (with ⟨K⟩, ⟨V⟩, ⟨W⟩,
    /// exchange sector, parity and leading orbital pair; coefficients dropped).
    pub states: Vec<CiState>,
    /// Per state of `states`, the occupation n_k = 2 Σ_b A_kb² of each of the M orbitals
    /// (dimensionless, Σ_k n_k = 2): how much of the state's energy error each orbital's
    /// discretization error makes ([`super::resolution`]).
    pub orbital_occupations: Vec<Vec<f64>>,
}

/// One state compared between CI and the 2-D grid solve (Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridCheckRow {
    /// "eps_r = …".
    pub variant: String,
    /// "singlet" or "triplet".
    pub sector: &'static str,
    /// Rank within the sector.
    pub index: usize,
    /// CI energy with M orbitals (Hartree).
    pub ci: f64,
    /// 2-D grid energy (Hartree).
    pub grid: f64,
    /// ci − grid (Hartree; ≥ 0 up to the solver tolerance: CI is variational on the same grid).
    pub difference: f64,
    /// Residual ‖Hψ − Eψ‖ of the grid state (Hartree).
    pub grid_residual: f64,
}

/// What `[coulomb]` computed for a case.
#[derive(Debug, Clone)]
pub struct CoulombResult {
    /// M: orbitals of the CI basis.
    pub orbitals: usize,
    /// e₁ − e₀ of the orbitals (Hartree): the unit of the ground-state shifts; e_k − e₀ with k
    /// the first orbital resolved from e₀ when e₀ is degenerate to the solver's resolution.
    pub level_spacing: f64,
    /// W off first, then one per ε_r.
    pub variants: Vec<CoulombVariant>,
    /// CI against the 2-D grid solve, per ε_r (with `[coulomb.grid_check]`).
    pub grid_check: Vec<GridCheckRow>,
    /// Wall time (s).
    pub seconds: f64,
    /// Wall times of its stages: `integrals` (once, for M′ orbitals), then per variant
    /// `<label>/diagonalization`, `<label>/grid_check`, `<label>/M' check`, `<label>/tables` (s);
    /// the variants, and a variant's diagonalization and M' check, overlap in time.
    pub stages: StageTimes,
}

/// Ground-state shift and NHC motion of one variant relative to W off (Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoulombShift {
    /// E₀(W) − E₀(W off) (Hartree).
    pub ground_shift: f64,
    /// The shift in units of e₁ − e₀.
    pub shift_in_spacings: f64,
}

impl CoulombResult {
    /// The shift of variant `i` against W off (variant 0).
    pub fn shift(&self, i: usize) -> CoulombShift {
        let shift = self.variants[i].result.ground_energy - self.variants[0].result.ground_energy;
        CoulombShift {
            ground_shift: shift,
            shift_in_spacings: shift / self.level_spacing,
        }
    }
}

/// Settings of the Coulomb study: its table and the thermodynamics shared with the case.
pub struct CoulombSettings<'a> {
    /// The `[coulomb]` table.
    pub config: &'a CoulombConfig,
    /// ε, T^(μ) difference, canonical temperatures, tolerance (see the module doc) and the run's
    /// memory budget (it also caps the 2-D grid check's memory).
    pub thermo: &'a ThermoSettings,
}

/// Runs W off and every ε_r of `settings.config` on the orbitals of `spectrum`: checks the
/// basis, builds the CI problem once, then per variant (all variants concurrently) solves it
/// (with the optional grid check and convergence) and computes the thermodynamics of its states
/// below E_max.
pub fn run_coulomb(
    case: &str,
    potential: &Potential,
    spectrum: &Spectrum,
    settings: &CoulombSettings,
) -> Result<CoulombResult, StudyError> {
    let start = Instant::now();
    let name = CaseName(case);
    let cfg = settings.config;
    let level_spacing = check_basis(name, cfg, spectrum)?;
    let basis = cfg.check_orbitals.unwrap_or(cfg.orbitals);
    let off = SoftCoulomb::new(0.0, 1.0, cfg.softening).map_err(|e| name.coulomb(e))?;
    let label = CoulombConfig::variant_label;
    let mut all: Vec<(String, Option<f64>, SoftCoulomb)> = vec![(label(None), None, off)];
    for &e in &cfg.eps_r {
        let w = SoftCoulomb::new(cfg.strength, e, cfg.softening).map_err(|e| name.coulomb(e))?;
        all.push((label(Some(e)), Some(e), w));
    }
    // K_ik and the integrals of the unit kernel 1/√(r² + s²) once, for M′ orbitals; every
    // variant rescales them by λ/ε_r (0 for W off).
    let unit = SoftCoulomb::new(1.0, 1.0, cfg.softening).map_err(|e| name.coulomb(e))?;
    let mut stages = StageTimes::default();
    let base = stages
        .time("integrals", || {
            CiProblem::new(potential, spectrum, &unit, basis, Symmetry::Auto)
        })
        .map_err(|e| name.coulomb(e))?;
    // The variants are independent once the integrals are known, and so are each variant's M
    // solve and M′ check: all of them run concurrently (each block is still diagonalized
    // sequentially, so no number depends on the thread count).
    let solved = all
        .into_par_iter()
        .map(|(label, eps_r, w)| {
            run_variant(
                name, potential, spectrum, &base, &label, eps_r, &w, settings,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut variants = Vec::with_capacity(solved.len());
    let mut grid_check = Vec::new();
    for (variant, rows, times) in solved {
        stages.0.extend(times.0);
        grid_check.extend(rows);
        variants.push(variant);
    }
    Ok(CoulombResult {
        orbitals: cfg.orbitals,
        level_spacing,
        variants,
        grid_check,
        seconds: start.elapsed().as_secs_f64(),
        stages,
    })
}

/// One variant of [`run_coulomb`] (W off, or W with `eps_r`): its M solve (with the optional
/// grid check and the tables) and its M′ check run concurrently; returns the variant, its grid
/// check rows and the wall times of its stages (named `<label>/…`).
#[allow(clippy::too_many_arguments)]
fn run_variant(
    name: CaseName<'_>,
    potential: &Potential,
    spectrum: &Spectrum,
    base: &CiProblem,
    label: &str,
    eps_r: Option<f64>,
    w: &SoftCoulomb,
    settings: &CoulombSettings,
) -> Result<(CoulombVariant, Vec<GridCheckRow>, StageTimes), StudyError> {
    let cfg = settings.config;
    settings.thermo.cancel.check(name)?;
    let t0 = Instant::now();
    let energy_max = 2.0 * cfg.energy_per_particle_max;
    let problem = base.with_interaction(w).map_err(|e| name.coulomb(e))?;
    let setup = t0.elapsed().as_secs_f64();
    let check = match (eps_r, cfg.check_orbitals) {
        (Some(_), Some(fine)) => Some(fine),
        _ => None,
    };
    let selection = StateSelection::Below(energy_max);
    // The M′ check first: its blocks are the largest (d grows as M′²), and the longest tasks
    // should start first, so that the last one to finish is a short one.
    let (fine, coarse) = rayon::join(
        || -> Result<_, StudyError> {
            let Some(fine) = check else {
                return Ok(None);
            };
            settings.thermo.cancel.check(name)?;
            let start = Instant::now();
            let energies = fine_energies(&problem, fine, selection).map_err(|e| name.coulomb(e))?;
            Ok(Some((fine, energies, start.elapsed().as_secs_f64())))
        },
        || -> Result<_, StudyError> {
            let mut stages = StageTimes::default();
            let start = Instant::now();
            // Only the states used: those below E_max, and the lowest the grid check compares.
            let ci = problem
                .solve(&CiSettings {
                    states: CiStates::Lowest {
                        count: cfg.grid_check.as_ref().map_or(1, |gc| gc.levels),
                        energy_max,
                    },
                    // A of every state below E_max, for the orbital occupations the
                    // resolution criterion weighs the orbitals' errors with.
                    keep_coefficients: usize::MAX,
                    ..CiSettings::new(cfg.orbitals)
                })
                .map_err(|e| name.coulomb(e))?;
            stages.push(
                format!("{label}/diagonalization"),
                setup + start.elapsed().as_secs_f64(),
            );
            let mut rows = Vec::new();
            if let (Some(_), Some(_)) = (&cfg.grid_check, eps_r) {
                rows = stages.time(format!("{label}/grid_check"), || {
                    check_on_grid(name, label, potential, spectrum, w, &ci, settings)
                })?;
            }
            Ok((ci, rows, stages))
        },
    );
    let (ci, rows, mut stages) = coarse?;
    settings.thermo.cancel.check(name)?;
    let convergence = match fine? {
        Some((fine, energies, seconds)) => {
            let start = Instant::now();
            let c = convergence_from(&ci, &problem, fine, energies, selection)
                .map_err(|e| name.coulomb(e))?;
            stages.push(
                format!("{label}/M' check"),
                seconds + start.elapsed().as_secs_f64(),
            );
            Some(c)
        }
        None => None,
    };
    let mut variant = stages.time(format!("{label}/tables"), || {
        variant_thermodynamics(name, label, &ci, settings)
    })?;
    variant.eps_r = eps_r;
    variant.convergence = convergence;
    variant.result.seconds = t0.elapsed().as_secs_f64();
    Ok((variant, rows, stages))
}

/// Checks that the M orbitals hold every pair state below E_max and that some pair lies below
/// it; returns the unit of the ground-state shifts, e₁ − e₀ (Hartree).
fn check_basis(
    name: CaseName<'_>,
    cfg: &CoulombConfig,
    spectrum: &Spectrum,
) -> Result<f64, StudyError> {
    let energies = spectrum.energies();
    let m = cfg.orbitals;
    let energy_max = 2.0 * cfg.energy_per_particle_max;
    let top_pair = energies[0] + energies[m - 1];
    if top_pair < energy_max {
        let needed = energies.iter().position(|&e| energies[0] + e >= energy_max);
        return Err(name.unsupported(format!(
            "coulomb.orbitals = {m} holds pair states up to e_0 + e_{} = {top_pair:.6} Ha, below E_max = 2 x coulomb.energy_per_particle_max = {energy_max:.6} Ha: {}",
            m - 1,
            match needed {
                Some(k) => format!("raise coulomb.orbitals to at least {}", k + 1),
                None => "raise solve.levels and coulomb.orbitals, or lower coulomb.energy_per_particle_max".to_string(),
            }
        )));
    }
    if energies[0] * 2.0 > energy_max {
        return Err(name.unsupported(format!(
            "coulomb.energy_per_particle_max = {} Ha lies below the lowest orbital e_0 = {:.6} Ha: no two-electron state is below it",
            cfg.energy_per_particle_max, energies[0]
        )));
    }
    // With a (nearly) degenerate ground level (e.g. a double well with an opaque barrier) e₁ − e₀
    // is rounding noise: the unit is the gap to the first orbital resolved from e₀.
    let resolved = spectrum
        .levels
        .iter()
        .position(|l| !l.unresolved_splitting)
        .map_or(1, |k| k + 1)
        .min(energies.len() - 1);
    Ok(energies[resolved] - energies[0])
}

/// The CI states of variant `label` compared with a direct 2-D grid solve of the same
/// Hamiltonian (`[coulomb.grid_check]`), per exchange sector.
fn check_on_grid(
    name: CaseName<'_>,
    label: &str,
    potential: &Potential,
    spectrum: &Spectrum,
    w: &SoftCoulomb,
    ci: &CiSpectrum,
    settings: &CoulombSettings,
) -> Result<Vec<GridCheckRow>, StudyError> {
    let Some(gc) = &settings.config.grid_check else {
        return Ok(Vec::new());
    };
    let options = GridOptions {
        levels: gc.levels,
        memory_limit_bytes: grid_check_limit(gc.memory_limit_bytes, &settings.thermo.budget.limit)
            .bytes,
        ..Default::default()
    };
    let solution = grid2d::solve(potential, &spectrum.grid, spectrum.mass, w, &options)
        .map_err(|e| name.coulomb(e))?;
    let mut rows = Vec::new();
    for (exchange, sector) in [
        (Exchange::Symmetric, &solution.symmetric),
        (Exchange::Antisymmetric, &solution.antisymmetric),
    ] {
        for (index, (g, c)) in sector.states.iter().zip(ci.sector(exchange)).enumerate() {
            rows.push(GridCheckRow {
                variant: label.to_string(),
                sector: exchange.spin_name(),
                index,
                ci: c.energy,
                grid: g.energy,
                difference: c.energy - g.energy,
                grid_residual: g.residual,
            });
        }
    }
    Ok(rows)
}

/// The N = 2 thermodynamics of the CI states of variant `label` below E_max: the same as for
/// enumerated non-interacting states, with the canonical sums limited to the temperatures where
/// the first omitted state weighs at most the tolerance (see the module doc).
///
/// The states of one degenerate CI level count as one level (`CiSpectrum::state_list_below`):
/// they come from separate block diagonalizations (singlet/triplet, even/odd), so states
/// degenerate in exact arithmetic differ by rounding. The variant's ε_r, convergence and wall
/// time are left for the caller.
fn variant_thermodynamics(
    name: CaseName<'_>,
    label: &str,
    ci: &CiSpectrum,
    settings: &CoulombSettings,
) -> Result<CoulombVariant, StudyError> {
    let cfg = settings.config;
    let thermo = settings.thermo;
    let energy_max = 2.0 * cfg.energy_per_particle_max;
    let kept: Vec<_> = ci.thermodynamic_states(cfg.spin, energy_max).collect();
    if kept.is_empty() {
        return Err(name.unsupported(format!(
            "{label}: no two-electron state lies below E_max = {energy_max:.6} Ha; raise coulomb.energy_per_particle_max"
        )));
    }
    let ground = kept[0].0;
    let list = ci
        .state_list_below(cfg.spin, energy_max)
        .map_err(|e| name.coulomb(e))?;
    let ground_energy = list.ground_energy();
    let occupations: Vec<u32> = kept
        .iter()
        .flat_map(|(s, _)| [s.leading_pair.0 as u32, s.leading_pair.1 as u32])
        .collect();
    check_energy_grid(
        &thermo.budget,
        ground_energy,
        energy_max,
        thermo.epsilon,
        "coulomb.energy_per_particle_max",
    )
    .map_err(|e| name.memory(e))?;
    // The canonical sums below need the list too (a CI list is small: a copy).
    let (mut rows, points, table) = states_thermodynamics(
        list.clone(),
        ground_energy,
        energy_max,
        thermo.epsilon,
        thermo.difference,
        occupations,
    )
    .map_err(|e| name.thermo(e))?;
    // Canonical sums over the kept states, at temperatures where the first omitted state
    // (above E_max) weighs at most tolerance / (number of kept states).
    let total = list.total_multiplicity() as f64;
    let gap = energy_max - ground_energy;
    let t_limit = gap / (total / thermo.truncation_tolerance).ln();
    let temperatures: Vec<f64> = thermo
        .temperatures
        .iter()
        .copied()
        .filter(|&t| t <= t_limit)
        .collect();
    let mut diagnostics = Vec::new();
    if temperatures.len() < thermo.temperatures.len() {
        diagnostics.push(
            super::particles::canonical_range_diagnostic(
                crate::diagnostic::Kind::CoulombCanonicalRange,
                temperatures.last().copied(),
                format!(
                    "{label}: canonical table stops at T = {t_limit:.4e} Ha, where states above E_max = {energy_max:.4} Ha would matter; raise coulomb.energy_per_particle_max (and coulomb.orbitals) for higher T"
                ),
            )
            .with("temperature_limit", t_limit)
            .with("energy_max", energy_max),
        );
    }
    let canonical = canonical_table(&list, &temperatures, &mut rows).map_err(|e| name.thermo(e))?;
    let bound = temperatures
        .last()
        .map_or(0.0, |&t| total * (-gap / t).exp());
    let nhc = nhc_sets(&rows, Some(&table)).map_err(|e| name.thermo(e))?;
    let result = ParticleResult {
        particles: 2,
        spin: cfg.spin,
        method: "configuration interaction",
        energy_max,
        ground_energy,
        occupations: Some(list.len()),
        states: total,
        orbitals_needed: cfg.orbitals,
        per_state: Some(table),
        grid: rows,
        canonical,
        canonical_bound: bound,
        nhc,
        intruder: convex_intruder(&points, 1e-12),
        diagnostics,
        seconds: 0.0,
        stages: StageTimes::default(),
    };
    Ok(CoulombVariant {
        label: label.to_string(),
        eps_r: None,
        result,
        convergence: None,
        ground_interaction: ground.interaction,
        ground_spin: ground.exchange.spin_name(),
        orbital_occupations: kept
            .iter()
            .map(|(s, _)| orbital_occupations(s, ci.orbitals))
            .collect(),
        states: kept
            .iter()
            .map(|(s, _)| CiState {
                coefficients: None,
                ..(*s).clone()
            })
            .collect(),
    })
}

/// n_k = Σ_b A_kb² + Σ_a A_ak² of the `m` orbitals of `state` (Σ_k n_k = 2); from the leading
/// pair alone (weight 1) when its coefficients were not kept.
fn orbital_occupations(state: &CiState, m: usize) -> Vec<f64> {
    let mut n = vec![0.0; m];
    match &state.coefficients {
        Some(a) => {
            for b in 0..m {
                for k in 0..m {
                    let w = a[b * m + k] * a[b * m + k];
                    n[k] += w;
                    n[b] += w;
                }
            }
        }
        None => {
            let (i, j) = state.leading_pair;
            n[i] += 1.0;
            n[j] += 1.0;
        }
    }
    n
}
