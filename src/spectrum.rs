//! Single-particle levels and their observables.
//!
//! For each of the k lowest eigenpairs of the grid Hamiltonian ([`crate::model::hamiltonian`]):
//! E_n = ⟨K⟩_n + ⟨V⟩_n with both terms in the difference form of the same discrete operator
//! (so the identity holds to rounding, and E_n is accurate relative to itself rather than to
//! ‖H‖), and the probability of finding the particle on each piece of the potential,
//! P = Σ_j |ψ_j|² |cell_j ∩ piece| with cell_j the dual cell of node j (trapezoidal rule).
//! [`Problem::spectrum`] solves a problem on its aligned grid; [`solve`] on a given grid.

use crate::diagnostic::{Diagnostic, Kind};
use crate::eigen::{lowest_eigenpairs, EigenError, SolverOptions, SolverReport};
use crate::model::grid::{Grid, GridError};
use crate::model::hamiltonian::{Hamiltonian, HamiltonianError};
use crate::model::potential::Potential;
use crate::model::problem::Problem;
use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

/// Below this many grid points per half wavelength of the highest level the spectrum is refused;
/// below [`WARN_POINTS_PER_HALF_WAVELENGTH`] it is computed with a warning.
pub const MIN_POINTS_PER_HALF_WAVELENGTH: f64 = 4.0;
/// Below this many grid points per half wavelength of the highest level a warning is issued.
pub const WARN_POINTS_PER_HALF_WAVELENGTH: f64 = 10.0;

/// Why a spectrum could not be computed.
#[derive(Debug, Error)]
pub enum SpectrumError {
    /// The Hamiltonian could not be built.
    #[error(transparent)]
    Hamiltonian(#[from] HamiltonianError),
    /// The grid could not be built.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// The eigen-solver failed.
    #[error(transparent)]
    Eigen(#[from] EigenError),
    /// More levels than grid nodes.
    #[error("{requested} levels requested but the grid has only {nodes} interior nodes; lower solve.levels or refine grid.spacing")]
    TooManyLevels {
        /// Levels asked for.
        requested: usize,
        /// Interior nodes of the grid.
        nodes: usize,
    },
    /// The grid cannot represent the highest requested level.
    #[error("the grid cannot resolve level {level} (E = {energy:.6e} Ha): {points:.1} grid points per half wavelength with spacing {spacing} bohr, at least {min} are needed (10 for accurate levels); use grid.spacing <= {suggested:.3e} bohr or fewer solve.levels")]
    Unresolved {
        /// Index of the highest level.
        level: usize,
        /// Its energy (Hartree).
        energy: f64,
        /// Points per half wavelength achieved.
        points: f64,
        /// Largest grid spacing (bohr).
        spacing: f64,
        /// The refusal threshold.
        min: f64,
        /// A spacing that gives 10 points per half wavelength (bohr).
        suggested: f64,
    },
}

/// Two levels are resolved when their energies differ by more than the sum of their residuals
/// (each computed E lies within its residual of an eigenvalue of H) plus this many ε‖H‖ (the
/// rounding of H itself and of the residuals), ε = f64::EPSILON and ‖H‖ the Gershgorin bound.
pub const SPLITTING_RESOLUTION_EPS_NORMS: f64 = 4.0;

/// One single-particle level (energies in Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    /// Level index, 0 = ground state.
    pub n: usize,
    /// E_n = ⟨K⟩_n + ⟨V⟩_n (Hartree).
    pub energy: f64,
    /// ⟨K⟩_n (Hartree).
    pub kinetic: f64,
    /// ⟨V⟩_n (Hartree).
    pub potential: f64,
    /// Probability on each piece of the potential, in the order of the pieces.
    pub piece_probability: Vec<f64>,
    /// Probability outside every piece (where V = 0).
    pub outside_probability: f64,
    /// ‖Hψ − Eψ‖ of the solver's unit vector (Hartree).
    pub residual: f64,
    /// True when E_{n+1} − E_n is below the solver's resolution ([`splitting_resolution`]): the
    /// splitting of the pair (n, n + 1) is not resolved, the two are degenerate to the precision
    /// of the solve, and their eigenvectors are an arbitrary orthonormal basis of the pair's space.
    pub unresolved_splitting: bool,
    /// Grid points per half wavelength of this level ([`points_per_half_wavelength`]).
    pub points_per_half_wavelength: f64,
    /// Estimated discretization error of E_n (Hartree, [`discretization_error`]).
    pub discretization_error: f64,
}

/// The k lowest levels of one problem, with the grid and the solver's diagnostics.
#[derive(Debug, Clone)]
pub struct Spectrum {
    /// The levels, ascending.
    pub levels: Vec<Level>,
    /// The grid they were computed on.
    pub grid: Grid,
    /// Mass of the particle (mₑ).
    pub mass: f64,
    /// Accuracy and completeness of the eigen-solve.
    pub report: SolverReport,
    /// Grid points per half wavelength of the highest level (local wavenumber at the bottom of V).
    pub points_per_half_wavelength: f64,
    /// Conditions the user should know about (a marginally resolved top level, unresolved
    /// splittings); every one a [`crate::diagnostic::Severity::Warning`].
    pub warnings: Vec<Diagnostic>,
    /// ψ_n on the interior nodes, column-major N × k, with Σ_j w_j ψ_j² = 1 (bohr^−½).
    amplitudes: Vec<f64>,
}

impl Spectrum {
    /// ψ_n on the interior nodes of [`Self::grid`] (bohr^−½); |ψ|² is a probability density.
    pub fn amplitude(&self, n: usize) -> &[f64] {
        let m = self.grid.interior_len();
        &self.amplitudes[n * m..(n + 1) * m]
    }

    /// E_n of every level (Hartree).
    pub fn energies(&self) -> Vec<f64> {
        self.levels.iter().map(|l| l.energy).collect()
    }

    /// ⟨K⟩_n of every level (Hartree).
    pub fn kinetic(&self) -> Vec<f64> {
        self.levels.iter().map(|l| l.kinetic).collect()
    }
}

/// Smallest E_{n+1} − E_n (Hartree) that the solve resolves for two levels with residuals `r_n`
/// and `r_next` (Hartree) of a Hamiltonian with norm bound `norm` (Hartree).
pub fn splitting_resolution(r_n: f64, r_next: f64, norm: f64) -> f64 {
    r_n + r_next + SPLITTING_RESOLUTION_EPS_NORMS * f64::EPSILON * norm
}

/// Grid points per half wavelength π/(k h) of a level of energy `energy` (Hartree), with
/// k = √(2m(E − V_min)) the largest local wavenumber.
pub fn points_per_half_wavelength(energy: f64, v_min: f64, mass: f64, spacing: f64) -> f64 {
    let kinetic = energy - v_min;
    if kinetic <= 0.0 {
        return f64::INFINITY;
    }
    std::f64::consts::PI / ((2.0 * mass * kinetic).sqrt() * spacing)
}

/// Estimated discretization error (Hartree) of a level with `points` grid points per half
/// wavelength and energy `energy` above the bottom `v_min` of V: the three-point scheme lowers
/// the kinetic energy of a local plane wave by the relative amount (π/points)²/12.
pub fn discretization_error(energy: f64, v_min: f64, points: f64) -> f64 {
    if !points.is_finite() {
        return 0.0;
    }
    (energy - v_min) * (std::f64::consts::PI / points).powi(2) / 12.0
}

/// Quadrature weights of the interior nodes for the interval [a, b]: |cell_j ∩ [a, b]|.
fn region_weights(grid: &Grid, a: f64, b: f64) -> (usize, Vec<f64>) {
    let nodes = grid.nodes();
    let interior = grid.interior();
    // First interior node whose cell can reach [a, b].
    let start = interior.partition_point(|&x| x < a).saturating_sub(1);
    let end = (interior.partition_point(|&x| x <= b) + 1).min(interior.len());
    let weights = (start..end)
        .map(|j| {
            let lo = 0.5 * (nodes[j] + nodes[j + 1]);
            let hi = 0.5 * (nodes[j + 1] + nodes[j + 2]);
            (hi.min(b) - lo.max(a)).max(0.0)
        })
        .collect();
    (start, weights)
}

/// Computes the `levels` lowest single-particle levels of `potential` on `grid` for a particle
/// of mass `mass` (mₑ).
pub fn solve(
    potential: &Potential,
    grid: &Grid,
    mass: f64,
    levels: usize,
    options: &SolverOptions,
) -> Result<Spectrum, SpectrumError> {
    let h = Hamiltonian::new(potential, grid, mass)?;
    let nodes = grid.interior_len();
    if levels > nodes {
        return Err(SpectrumError::TooManyLevels {
            requested: levels,
            nodes,
        });
    }
    let pairs = lowest_eigenpairs(&h.matrix, levels, options)?;
    let mut warnings = Vec::new();
    let v_min = potential.min_value();
    let spacing = grid.max_spacing();
    let top = pairs.values.last().copied().unwrap_or(v_min);
    // The largest effective mass anywhere gives the largest local wavenumber (conservative).
    let heaviest = potential
        .pieces()
        .iter()
        .filter_map(|p| p.mass)
        .fold(mass, f64::max);
    let points = points_per_half_wavelength(top, v_min, heaviest, spacing);
    if levels > 0 {
        let suggested = spacing * points / WARN_POINTS_PER_HALF_WAVELENGTH;
        if points < MIN_POINTS_PER_HALF_WAVELENGTH {
            return Err(SpectrumError::Unresolved {
                level: levels - 1,
                energy: top,
                points,
                spacing,
                min: MIN_POINTS_PER_HALF_WAVELENGTH,
                suggested,
            });
        }
        if points < WARN_POINTS_PER_HALF_WAVELENGTH {
            let relative = (std::f64::consts::PI / points).powi(2) / 12.0;
            warnings.push(
                Diagnostic::warning(Kind::UnderResolvedLevels, format!(
                    "level {} (E = {:.6e} Ha) has only {:.1} grid points per half wavelength (spacing {} bohr); its energy carries a discretization error of roughly {:.1e} relative. Use grid.spacing <= {:.3e} bohr for 10 points.",
                    levels - 1,
                    top,
                    points,
                    spacing,
                    relative,
                    suggested
                ))
                .with("level", (levels - 1) as f64)
                .with("points_per_half_wavelength", points)
                .with("relative_error", relative)
                .with("suggested_spacing", suggested),
            );
        }
    }
    let regions: Vec<(usize, Vec<f64>)> = potential
        .pieces()
        .iter()
        .map(|p| region_weights(grid, p.from, p.to))
        .collect();
    let mut amplitudes = vec![0.0; pairs.vectors.len()];
    let mut levels_out: Vec<Level> = amplitudes
        .par_chunks_mut(nodes.max(1))
        .enumerate()
        .map(|(n, psi)| {
            h.amplitude_from_symmetric(pairs.vector(n), psi);
            let kinetic = h.kinetic_energy(psi);
            let pot = h.potential_energy(psi);
            let piece_probability: Vec<f64> = regions
                .iter()
                .map(|(start, w)| w.iter().zip(&psi[*start..]).map(|(w, p)| w * p * p).sum())
                .collect();
            let inside: f64 = piece_probability.iter().sum();
            let energy = kinetic + pot;
            let points = points_per_half_wavelength(energy, v_min, heaviest, spacing);
            Level {
                n,
                energy,
                kinetic,
                potential: pot,
                outside_probability: (1.0 - inside).max(0.0),
                piece_probability,
                residual: pairs.residuals[n],
                unresolved_splitting: false,
                points_per_half_wavelength: points,
                discretization_error: discretization_error(energy, v_min, points),
            }
        })
        .collect();
    sort_by_energy(&mut levels_out, &mut amplitudes, nodes.max(1));
    warnings.extend(flag_unresolved_splittings(&mut levels_out, &pairs.report));
    Ok(Spectrum {
        levels: levels_out,
        grid: grid.clone(),
        mass,
        report: pairs.report,
        points_per_half_wavelength: points,
        warnings,
        amplitudes,
    })
}

/// Puts `levels` (and their amplitudes, `nodes` per level) in order of increasing energy and
/// renumbers them. The solver orders its Rayleigh quotients; E = ⟨K⟩ + ⟨V⟩ is summed
/// differently and can swap (nearly) degenerate levels by an ulp. The sort is stable: ties keep
/// the solver's order.
fn sort_by_energy(levels: &mut Vec<Level>, amplitudes: &mut Vec<f64>, nodes: usize) {
    let mut order: Vec<usize> = (0..levels.len()).collect();
    order.sort_by(|&a, &b| levels[a].energy.total_cmp(&levels[b].energy));
    if order.iter().enumerate().all(|(i, &o)| i == o) {
        return;
    }
    let mut sorted = vec![0.0; amplitudes.len()];
    for (dst, &src) in sorted.chunks_exact_mut(nodes).zip(&order) {
        dst.copy_from_slice(&amplitudes[src * nodes..(src + 1) * nodes]);
    }
    *amplitudes = sorted;
    let mut old: Vec<Option<Level>> = std::mem::take(levels).into_iter().map(Some).collect();
    *levels = order
        .iter()
        .enumerate()
        .map(|(n, &src)| {
            let mut level = old[src]
                .take()
                .expect("a permutation visits each level once");
            level.n = n;
            level
        })
        .collect();
}

/// Marks the lower level of every adjacent pair of `levels` (sorted by energy) whose splitting
/// is below the solver's resolution, and returns the warning that lists them, if any.
fn flag_unresolved_splittings(levels: &mut [Level], report: &SolverReport) -> Option<Diagnostic> {
    let mut unresolved = Vec::new();
    for n in 1..levels.len() {
        let (lower, upper) = (&levels[n - 1], &levels[n]);
        let resolution = splitting_resolution(lower.residual, upper.residual, report.norm_bound);
        if upper.energy - lower.energy <= resolution {
            levels[n - 1].unresolved_splitting = true;
            unresolved.push(format!("({}, {})", n - 1, n));
        }
    }
    if unresolved.is_empty() {
        return None;
    }
    let resolution =
        splitting_resolution(report.max_residual, report.max_residual, report.norm_bound);
    Some(
        Diagnostic::warning(Kind::UnresolvedSplittings, format!(
            "{} pair(s) of adjacent levels differ by less than the solver's resolution (their residuals plus {} eps ||H||, about {:.1e} Ha): levels {}. Their splitting (e.g. tunnelling through a barrier) is not resolved: each pair is degenerate to the precision of the solve and its two eigenvectors are an arbitrary orthonormal basis of the pair's space.",
            unresolved.len(),
            SPLITTING_RESOLUTION_EPS_NORMS,
            resolution,
            unresolved.join(", ")
        ))
        .with("pairs", unresolved.len() as f64)
        .with("resolution", resolution),
    )
}

impl Problem {
    /// The [`Problem::levels`] lowest levels on the grid aligned to the potential's breakpoints
    /// ([`Problem::aligned_grid`]).
    pub fn spectrum(&self) -> Result<Spectrum, SpectrumError> {
        self.spectrum_with_levels(self.levels)
    }

    /// The `levels` lowest levels on the aligned grid, whatever [`Problem::levels`] says (e.g.
    /// one more level than requested, for the first excitation energy).
    pub fn spectrum_with_levels(&self, levels: usize) -> Result<Spectrum, SpectrumError> {
        let grid = self.aligned_grid()?;
        solve(&self.potential, &grid, self.mass, levels, &self.options)
    }
}
