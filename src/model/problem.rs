//! One single-particle problem: the potential, the particle, the grid and what to solve.
//!
//! [`Problem`] is the one argument of every solve of a single-particle spectrum: the spectrum
//! itself ([`Problem::spectrum`], in [`crate::spectrum`]), the validation against the exact
//! square well ([`crate::checks::validate::validate`]) and the self-convergence of any potential
//! ([`crate::checks::converge::self_convergence`]). It lives in the model, with what it bundles;
//! the methods that solve it are defined by the layers above, which the model does not import.

use crate::eigen::SolverOptions;
use crate::model::grid::{Grid, GridError};
use crate::model::potential::Potential;

/// A particle of mass `mass` in `potential` (hard walls at ±L), solved for its `levels` lowest
/// levels on a grid of spacing at most `spacing`, in atomic units.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The potential inside the box [−L, L] (Hartree, bohr).
    pub potential: Potential,
    /// Particle mass (mₑ); pieces of the potential may carry their own effective mass.
    pub mass: f64,
    /// Requested grid spacing h (bohr); the grid may refine it, never coarsen it.
    pub spacing: f64,
    /// How many of the lowest levels to compute.
    pub levels: usize,
    /// Tuning of the eigen-solver (the defaults suit every problem here).
    pub options: SolverOptions,
}

impl Problem {
    /// The problem with the default solver options: `levels` lowest levels of a particle of mass
    /// `mass` (mₑ) in `potential`, on a grid of spacing at most `spacing` (bohr).
    pub fn new(potential: Potential, mass: f64, spacing: f64, levels: usize) -> Self {
        Self {
            potential,
            mass,
            spacing,
            levels,
            options: SolverOptions::default(),
        }
    }

    /// Half-width L of the box (bohr).
    pub fn box_half_width(&self) -> f64 {
        self.potential.box_half_width()
    }

    /// The grid with spacing ≤ [`Problem::spacing`] that has a node on every breakpoint of the
    /// potential ([`Grid::aligned`]).
    pub fn aligned_grid(&self) -> Result<Grid, GridError> {
        Grid::aligned(
            self.potential.box_half_width(),
            &self.potential.breakpoints(),
            self.spacing,
        )
    }
}
