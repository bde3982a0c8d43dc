//! The grid levels of a sphere or cylinder against the exact radial well
//! ([`crate::checks::radial_exact`]) on nested grids h, h/2, …: errors, observed orders and
//! Richardson errors of E_{n,l} and ⟨K⟩_{n,l}, channel by channel.

use crate::channels::{ChannelError, RadialProblem};
use crate::checks::radial_exact::{RadialExactError, RadialWellExact};
use crate::checks::refinement::{observed_order, richardson};
use crate::model::potential::Shape;
use serde::Serialize;
use thiserror::Error;

/// Why a radial validation cannot run.
#[derive(Debug, Error)]
pub enum RadialValidateError {
    /// The potential is not one constant core [0, a].
    #[error("validate compares with the exact finite well, so the radial potential must be one constant piece from r = 0 (the square_well preset read as a core), got {0}")]
    NotACore(String),
    /// The exact well could not be set up.
    #[error(transparent)]
    Exact(#[from] RadialExactError),
    /// A grid solve failed.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// Fewer than two grids.
    #[error("validate needs at least 2 nested grids, got {0}")]
    Refinements(usize),
}

/// One level (n, l) compared with the exact one (Hartree).
#[derive(Debug, Clone, Serialize)]
pub struct RadialLevelCheck {
    /// Channel l (sphere) or |m| (cylinder).
    pub channel: usize,
    /// Radial quantum number.
    pub n: usize,
    /// Exact E.
    pub exact: f64,
    /// E − exact on every grid, coarsest first.
    pub errors_by_grid: Vec<f64>,
    /// Observed order of E from the finest pair.
    pub observed_order: f64,
    /// Richardson E from the finest pair − exact.
    pub richardson_error: f64,
    /// Exact ⟨K⟩.
    pub kinetic_exact: f64,
    /// ⟨K⟩ − exact ⟨K⟩ on every grid, coarsest first.
    pub kinetic_errors_by_grid: Vec<f64>,
    /// Observed order of ⟨K⟩ from the finest pair.
    pub kinetic_observed_order: f64,
    /// Richardson ⟨K⟩ − exact ⟨K⟩.
    pub kinetic_richardson_error: f64,
}

/// The exact well of a radial problem whose potential is one constant core [0, a].
pub fn exact_well(problem: &RadialProblem) -> Result<RadialWellExact, RadialValidateError> {
    let pieces = problem.potential.pieces();
    let core = match pieces {
        [p] if p.from == 0.0 => p,
        _ => {
            return Err(RadialValidateError::NotACore(format!(
                "{} pieces",
                pieces.len()
            )))
        }
    };
    let Shape::Constant { value } = core.shape else {
        return Err(RadialValidateError::NotACore(
            "a piece that is not constant".into(),
        ));
    };
    if value > 0.0 {
        return Err(RadialValidateError::NotACore(format!(
            "a barrier of {value} Ha (the exact solution is for a well, V <= 0)"
        )));
    }
    Ok(RadialWellExact::new(
        problem.geometry,
        problem.radius(),
        core.to,
        -value,
        core.mass.unwrap_or(problem.mass),
        problem.mass,
    )?)
}

/// The lowest levels of the channels `channels` ((l, how many levels)) on `refinements` nested
/// grids of `problem` against the exact well.
pub fn validate_radial(
    problem: &RadialProblem,
    channels: &[(usize, usize)],
    refinements: usize,
) -> Result<Vec<RadialLevelCheck>, RadialValidateError> {
    if refinements < 2 {
        return Err(RadialValidateError::Refinements(refinements));
    }
    let exact = exact_well(problem)?;
    let base = problem.grid().map_err(ChannelError::from)?;
    let mut out = Vec::new();
    for &(channel, levels) in channels {
        let runs = (0..refinements)
            .map(|r| problem.channel_levels(&base.refined(1 << r), channel, levels))
            .collect::<Result<Vec<_>, _>>()?;
        for n in 0..levels {
            let e = exact.level(channel, n);
            let k = exact.kinetic(channel, e);
            let errors: Vec<f64> = runs.iter().map(|run| run[n].energy - e).collect();
            let kinetic_errors: Vec<f64> = runs.iter().map(|run| run[n].kinetic - k).collect();
            let last = refinements - 1;
            let (coarse, fine) = (&runs[last - 1][n], &runs[last][n]);
            out.push(RadialLevelCheck {
                channel,
                n,
                exact: e,
                observed_order: observed_order(errors[last - 1], errors[last]),
                richardson_error: richardson(coarse.energy, fine.energy) - e,
                kinetic_exact: k,
                kinetic_observed_order: observed_order(
                    kinetic_errors[last - 1],
                    kinetic_errors[last],
                ),
                kinetic_richardson_error: richardson(coarse.kinetic, fine.kinetic) - k,
                errors_by_grid: errors,
                kinetic_errors_by_grid: kinetic_errors,
            });
        }
    }
    Ok(out)
}
