//! Self-convergence for any potential, where no exact solution exists.
//!
//! The levels are solved on nested grids h, h/2, …, h/2^(r−1) (every segment's intervals doubled
//! each time). With the differences between consecutive grids d_j = E_j − E_{j+1}, the observed
//! order of the finest triple is p = log₂(d_{r−3}/d_{r−2}), which is 2 for the aligned
//! second-order scheme when every feature of V is resolved. Richardson extrapolation of the
//! finest pair, E_R = (4E_fine − E_coarse)/3, removes the h² term; the difference between that
//! estimate and the one from the pair before it estimates the error of E_R. Levels whose order
//! is far from 2 are flagged: a feature of V (a narrow piece, a kink) is not resolved yet.
//!
//! A sphere or cylinder ([`radial_convergence`]) is measured the same way, channel by channel: a
//! level is identified across the grids by its channel l (or |m|) and its radial number n (its
//! node count), not by its rank in the list merged over channels, which can change between grids
//! when two channels' levels nearly cross.

use crate::channels::{ChannelError, RadialProblem, Selection};
use crate::checks::refinement::{check_finest_grid, observed_order, richardson, solve_nested};
use crate::diagnostic::{Diagnostic, Kind};
use crate::model::grid::{GridError, GridSummary};
use crate::model::problem::Problem;
use crate::spectrum::SpectrumError;
use serde::Serialize;
use thiserror::Error;

/// Orders further than this from 2 are flagged.
pub const ORDER_TOLERANCE: f64 = 0.2;

/// Why a convergence study could not run.
#[derive(Debug, Error)]
pub enum ConvergeError {
    /// A grid could not be built.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// A spectrum failed.
    #[error(transparent)]
    Spectrum(#[from] SpectrumError),
    /// A channel of a sphere or cylinder could not be solved.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// Fewer than three grids: no order can be measured without an exact solution.
    #[error("a self-convergence study needs at least 3 grids (refinements >= 3), got {0}")]
    TooFewGrids(usize),
}

/// One quantity of one level along the grid sequence (Hartree).
#[derive(Debug, Clone, Serialize)]
pub struct Sequence {
    /// Its value on every grid, coarsest first.
    pub values: Vec<f64>,
    /// Observed order from the finest three grids (None when the differences are at rounding).
    pub observed_order: Option<f64>,
    /// Richardson extrapolation of the finest pair.
    pub richardson: f64,
    /// |Richardson(finest pair) − Richardson(pair before)|: an estimate of its error.
    pub error_estimate: f64,
}

/// Self-convergence of one level.
#[derive(Debug, Clone, Serialize)]
pub struct LevelConvergence {
    /// Level index (slab); radial quantum number within its channel (sphere, cylinder).
    pub n: usize,
    /// Sphere or cylinder: the angular channel, l or |m| (absent for the slab).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l: Option<usize>,
    /// Sphere or cylinder: orbital degeneracy, spin not included (absent for the slab).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degeneracy: Option<u64>,
    /// E_n along the sequence.
    pub energy: Sequence,
    /// ⟨K⟩_n along the sequence.
    pub kinetic: Sequence,
    /// True when the order of E_n is known and further than [`ORDER_TOLERANCE`] from 2.
    pub flagged: bool,
}

/// The result of [`self_convergence`].
#[derive(Debug, Clone, Serialize)]
pub struct Convergence {
    /// The grids, coarsest first.
    pub grids: Vec<GridSummary>,
    /// Per level.
    pub levels: Vec<LevelConvergence>,
    /// Warnings: flagged levels, and the spectrum's on each grid (message prefixed by the grid).
    pub warnings: Vec<Diagnostic>,
}

/// The order, Richardson estimate and error estimate of `values` on nested grids, coarsest
/// first (at least 3).
fn sequence(values: Vec<f64>) -> Sequence {
    let r = values.len();
    let d1 = values[r - 3] - values[r - 2];
    let d2 = values[r - 2] - values[r - 1];
    // Differences at the rounding level of the values carry no order.
    let floor = 64.0 * f64::EPSILON * values[r - 1].abs().max(1e-300);
    let observed_order = (d1.abs() > floor && d2.abs() > floor).then(|| observed_order(d1, d2));
    let fine = richardson(values[r - 2], values[r - 1]);
    let before = richardson(values[r - 3], values[r - 2]);
    Sequence {
        values,
        observed_order,
        richardson: fine,
        error_estimate: (fine - before).abs(),
    }
}

/// Solves the [`Problem::levels`] levels of `problem` on `refinements` nested grids starting
/// from its spacing and measures their convergence.
pub fn self_convergence(
    problem: &Problem,
    refinements: usize,
) -> Result<Convergence, ConvergeError> {
    if refinements < 3 {
        return Err(ConvergeError::TooFewGrids(refinements));
    }
    let levels = problem.levels;
    let mut grids = Vec::with_capacity(refinements);
    let mut energies: Vec<Vec<f64>> = vec![Vec::with_capacity(refinements); levels];
    let mut kinetic: Vec<Vec<f64>> = vec![Vec::with_capacity(refinements); levels];
    let mut warnings = Vec::new();
    solve_nested::<ConvergeError>(problem, refinements, |r, grid, s, _| {
        for w in &s.warnings {
            warnings.push(Diagnostic {
                message: format!("grid {r}: {}", w.message),
                ..w.clone()
            });
        }
        for (n, l) in s.levels.iter().enumerate() {
            energies[n].push(l.energy);
            kinetic[n].push(l.kinetic);
        }
        grids.push(grid.summary());
    })?;
    let levels = energies
        .into_iter()
        .zip(kinetic)
        .enumerate()
        .map(|(n, (e, k))| level_convergence(n, None, e, k))
        .collect();
    Ok(finish(grids, levels, warnings))
}

/// One level's sequences, flagged when its order is far from 2; `channel` is (l, degeneracy)
/// for a sphere or cylinder.
fn level_convergence(
    n: usize,
    channel: Option<(usize, u64)>,
    energies: Vec<f64>,
    kinetic: Vec<f64>,
) -> LevelConvergence {
    let energy = sequence(energies);
    let flagged = energy
        .observed_order
        .is_some_and(|p| (p - 2.0).abs() > ORDER_TOLERANCE);
    LevelConvergence {
        n,
        l: channel.map(|c| c.0),
        degeneracy: channel.map(|c| c.1),
        energy,
        kinetic: sequence(kinetic),
        flagged,
    }
}

/// The study of `levels` on `grids`, with a warning naming the flagged levels.
fn finish(
    grids: Vec<GridSummary>,
    levels: Vec<LevelConvergence>,
    mut warnings: Vec<Diagnostic>,
) -> Convergence {
    let flagged: Vec<String> = levels
        .iter()
        .filter(|l| l.flagged)
        .map(|l| match l.l {
            None => l.n.to_string(),
            Some(c) => format!("(n = {}, l = {c})", l.n),
        })
        .collect();
    if !flagged.is_empty() {
        warnings.push(
            Diagnostic::warning(Kind::OrderFarFromTwo, format!(
                "levels {} converge with an order far from 2: a feature of the potential is not resolved on these grids (refine grid.spacing), or the h² term of the error is accidentally small",
                flagged.join(", ")
            ))
            .with("levels", flagged.len() as f64),
        );
    }
    Convergence {
        grids,
        levels,
        warnings,
    }
}

/// Self-convergence of the `levels` lowest (n, l) levels of a sphere or cylinder on
/// `refinements` nested radial grids starting from its spacing (bohr). The levels are chosen
/// on the coarsest grid (over every channel, as [`RadialProblem::spectrum`] chooses them); each
/// channel is then solved alone on every grid, so that level (n, l) is the n-th of channel l on
/// every grid. Levels are listed in the coarsest grid's energy order.
pub fn radial_convergence(
    problem: &RadialProblem,
    levels: usize,
    refinements: usize,
) -> Result<Convergence, ConvergeError> {
    if refinements < 3 {
        return Err(ConvergeError::TooFewGrids(refinements));
    }
    let base = problem.grid()?;
    check_finest_grid(&base, refinements)?;
    let chosen = problem.spectrum(Selection::Lowest(levels), None)?;
    let channels = chosen.channel_counts();
    // Per channel, per level: E and ⟨K⟩ on every grid.
    let mut values: Vec<Vec<(Vec<f64>, Vec<f64>)>> = channels
        .iter()
        .map(|&(_, k)| vec![(Vec::new(), Vec::new()); k])
        .collect();
    let mut grids = Vec::with_capacity(refinements);
    for r in 0..refinements {
        let grid = base.refined(1 << r);
        for (&(channel, k), out) in channels.iter().zip(&mut values) {
            for (level, (e, kin)) in problem.channel_levels(&grid, channel, k)?.iter().zip(out) {
                e.push(level.energy);
                kin.push(level.kinetic);
            }
        }
        grids.push(grid.summary());
    }
    let levels = chosen
        .levels
        .iter()
        .filter_map(|level| {
            // Every level's channel is one of `channels` (they are counted from the levels).
            let at = channels.iter().position(|c| c.0 == level.channel)?;
            let (e, k) = std::mem::take(&mut values[at][level.n]);
            let channel = Some((level.channel, level.degeneracy));
            Some(level_convergence(level.n, channel, e, k))
        })
        .collect();
    Ok(finish(grids, levels, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_and_estimates_of_synthetic_sequences() {
        // E(h) = 1 + 0.3 h² on h = 1, 1/2, 1/4, 1/8: order 2, Richardson exact.
        let second: Vec<f64> = (0..4).map(|r| 1.0 + 0.3 * 0.25f64.powi(r)).collect();
        let s = sequence(second);
        assert!((s.observed_order.unwrap() - 2.0).abs() < 1e-9);
        assert!((s.richardson - 1.0).abs() < 1e-14);
        assert!(s.error_estimate < 1e-14);
        // E(h) = 1 + 0.3 h (a sampled jump): order 1, and the estimate says Richardson is off.
        let first: Vec<f64> = (0..4).map(|r| 1.0 + 0.3 * 0.5f64.powi(r)).collect();
        let s = sequence(first);
        assert!((s.observed_order.unwrap() - 1.0).abs() < 1e-9);
        assert!((s.richardson - 1.0).abs() <= 1.01 * s.error_estimate);
        // Differences at rounding: no order.
        let flat = vec![0.5, 0.5, 0.5, 0.5];
        assert!(sequence(flat).observed_order.is_none());
    }
}
