//! Nested grids and what they measure, shared by [`crate::checks::validate`] (against an exact
//! solution) and [`crate::checks::converge`] (against the grid sequence itself).
//!
//! A problem is solved on the grids h, h/2, …, h/2^(r−1): the grid aligned to the potential's
//! breakpoints, every segment's intervals doubled each time, so that every grid has the same
//! breakpoints. For a second-order scheme the error of a level falls as h², so two grids give
//! the observed order log₂(e_h / e_{h/2}) and the Richardson extrapolation (4E_{h/2} − E_h)/3,
//! which cancels the h² term.

use crate::model::grid::{Grid, GridError};
use crate::model::problem::Problem;
use crate::spectrum::{self, Spectrum, SpectrumError};

/// log₂(|coarse| / |fine|): the observed convergence order of an error halving h.
pub fn observed_order(coarse_error: f64, fine_error: f64) -> f64 {
    (coarse_error.abs() / fine_error.abs()).log2()
}

/// (4·fine − coarse)/3: Richardson extrapolation of an O(h²) quantity from h and h/2.
pub fn richardson(coarse: f64, fine: f64) -> f64 {
    (4.0 * fine - coarse) / 3.0
}

/// Refuses nested grids whose finest one (h/2^(r−1)) would exceed
/// [`crate::model::grid::MAX_NODES`], before any of them is built (and before 2^(r−1) can
/// overflow).
pub(crate) fn check_finest_grid(base: &Grid, refinements: usize) -> Result<(), GridError> {
    let finest =
        crate::resources::refined_nodes(base.interior_len(), refinements.saturating_sub(1));
    if finest > crate::model::grid::MAX_NODES as f64 {
        return Err(GridError::TooLarge {
            spacing: base.max_spacing() / 2f64.powi(refinements.saturating_sub(1).min(2000) as i32),
            box_half_width: 0.5 * (base.nodes()[base.nodes().len() - 1] - base.nodes()[0]),
            nodes: finest.min(usize::MAX as f64) as usize,
            limit: crate::model::grid::MAX_NODES,
        });
    }
    Ok(())
}

/// Solves `problem` on `refinements` nested grids, coarsest first, and hands each grid's index,
/// grid, spectrum and solve time (s) to `each`; one spectrum is alive at a time.
pub(crate) fn solve_nested<E: From<GridError> + From<SpectrumError>>(
    problem: &Problem,
    refinements: usize,
    mut each: impl FnMut(usize, &Grid, Spectrum, f64),
) -> Result<(), E> {
    let base = problem.aligned_grid()?;
    check_finest_grid(&base, refinements)?;
    for r in 0..refinements {
        let grid = base.refined(1 << r);
        let start = std::time::Instant::now();
        let s = spectrum::solve(
            &problem.potential,
            &grid,
            problem.mass,
            problem.levels,
            &problem.options,
        )?;
        each(r, &grid, s, start.elapsed().as_secs_f64());
    }
    Ok(())
}
