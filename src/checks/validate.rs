//! Validation of the finite-difference spectrum against the exact finite well in a box.
//!
//! The problem is solved on nested grids h, h/2, …, h/2^(r−1) (the same breakpoints, every
//! segment's intervals doubled each time). For each level the error against the exact
//! transcendental solution ([`crate::checks::analytic`]) gives the observed order
//! p = log₂(|e_{h/2^(r−2)}| / |e_{h/2^(r−1)}|) of the finest pair, and Richardson extrapolation
//! of that pair, E_R = (4E_{h/2} − E_h)/3, cancels the h² term of the error.
//!
//! The well may have its own effective mass ([`SquareWellCase::mass_inside`]): the
//! BenDaniel–Duke problem −½ (ψ'/m(x))' + Vψ = Eψ with m = `mass_inside` in the well and
//! `case.mass` in the rest of the box, which the exact solution handles too.
//!
//! [`validate`] takes a [`Problem`] whose potential is such a well
//! ([`SquareWellCase::from_problem`]); [`validate_square_well`] takes the well's parameters.

use crate::checks::analytic::{AnalyticError, FiniteWellInBox};
use crate::checks::refinement::{observed_order, richardson, solve_nested};
use crate::eigen::{SolverOptions, SolverReport};
use crate::model::grid::{GridError, GridSummary};
use crate::model::potential::{Piece, Potential, PotentialError, Shape};
use crate::model::problem::Problem;
use crate::spectrum::SpectrumError;
use serde::Serialize;
use thiserror::Error;

impl From<AnalyticError> for ValidateError {
    fn from(e: AnalyticError) -> Self {
        ValidateError::Analytic(e)
    }
}

/// Why a validation could not run.
#[derive(Debug, Error)]
pub enum ValidateError {
    /// The exact solution failed (bad parameters). Its text is in the message, so it is not
    /// also the `source()` (a printed chain would repeat it).
    #[error("exact solution: {0}")]
    Analytic(AnalyticError),
    /// The potential is malformed.
    #[error(transparent)]
    Potential(#[from] PotentialError),
    /// A grid could not be built.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// A spectrum could not be computed.
    #[error(transparent)]
    Spectrum(#[from] SpectrumError),
    /// Fewer than two grids: no order can be measured.
    #[error("validation needs at least 2 grids (refinements >= 2), got {0}")]
    TooFewGrids(usize),
    /// The problem's potential is not a square well, so no exact solution is known.
    #[error("validation compares with the exact square well: the potential must be one constant piece V = -depth < 0 on (-a, a) with 0 < a < L (potential.type = \"square_well\"), but it has {pieces} piece(s){what}")]
    NotASquareWell {
        /// Number of pieces of the potential.
        pieces: usize,
        /// Why its one piece is not such a well (empty when it has several pieces).
        what: String,
    },
}

/// A square well in a box to validate, in atomic units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SquareWellCase {
    /// Box half-width L (bohr).
    pub box_half_width: f64,
    /// Well depth U₀ (Hartree).
    pub depth: f64,
    /// Well half-width a (bohr).
    pub half_width: f64,
    /// Particle mass (mₑ); outside the well when the well has its own effective mass.
    pub mass: f64,
    /// Effective mass in the well (mₑ); `None`: [`SquareWellCase::mass`]. Not serialized:
    /// [`Validation::mass_inside`] records the mass used.
    #[serde(skip)]
    pub mass_inside: Option<f64>,
    /// Coarsest requested spacing h (bohr).
    pub spacing: f64,
    /// Number of levels compared.
    pub levels: usize,
}

impl SquareWellCase {
    /// The square well of `problem`: its potential must be one constant piece V = −depth < 0 on
    /// (−a, a) with 0 < a < L (as `type = "square_well"` or one such piece of a piecewise
    /// potential builds it), whose own effective mass, if any, is the mass inside the well.
    pub fn from_problem(problem: &Problem) -> Result<Self, ValidateError> {
        let l = problem.box_half_width();
        let pieces = problem.potential.pieces();
        let not_a_well = |what: String| ValidateError::NotASquareWell {
            pieces: pieces.len(),
            what,
        };
        let [piece] = pieces else {
            return Err(not_a_well(String::new()));
        };
        let Piece {
            from,
            to,
            shape: Shape::Constant { value },
            mass,
        } = *piece
        else {
            return Err(not_a_well(", whose V is not constant".to_string()));
        };
        if !(value < 0.0 && to > 0.0 && from == -to && to < l) {
            return Err(not_a_well(format!(
                ", V = {value} Ha on [{from}, {to}] bohr in the box of half-width {l} bohr"
            )));
        }
        Ok(Self {
            box_half_width: l,
            depth: -value,
            half_width: to,
            mass: problem.mass,
            mass_inside: mass,
            spacing: problem.spacing,
            levels: problem.levels,
        })
    }

    /// The effective mass inside the well (mₑ).
    pub fn well_mass(&self) -> f64 {
        self.mass_inside.unwrap_or(self.mass)
    }
}

/// One grid of the sequence and its solver diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct GridRun {
    /// The grid (spacings in bohr).
    pub grid: GridSummary,
    /// Solver diagnostics on that grid.
    pub solver: SolverReport,
    /// Wall time of the solve (s).
    pub seconds: f64,
    /// Warnings of the spectrum on this grid (e.g. marginal resolution of the top level).
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
    /// E_n on this grid (Hartree).
    #[serde(skip)]
    pub energy: Vec<f64>,
    /// ⟨K⟩_n on this grid (Hartree).
    #[serde(skip)]
    pub kinetic: Vec<f64>,
}

/// Comparison of one level on the finest grid with the exact solution (Hartree).
#[derive(Debug, Clone, Serialize)]
pub struct LevelCheck {
    /// Level index.
    pub n: usize,
    /// Exact E_n.
    pub exact: f64,
    /// E_n on the finest grid.
    pub computed: f64,
    /// computed − exact.
    pub error: f64,
    /// Exact ⟨K⟩_n.
    pub kinetic_exact: f64,
    /// ⟨K⟩_n on the finest grid.
    pub kinetic_computed: f64,
    /// kinetic_computed − kinetic_exact.
    pub kinetic_error: f64,
    /// E_n − exact on every grid, coarsest first.
    pub errors_by_grid: Vec<f64>,
    /// Richardson-extrapolated E_n from the finest pair.
    pub richardson: f64,
    /// richardson − exact.
    pub richardson_error: f64,
    /// Observed order of ⟨K⟩_n from the finest pair.
    pub kinetic_observed_order: f64,
    /// Richardson ⟨K⟩_n − exact ⟨K⟩_n.
    pub kinetic_richardson_error: f64,
}

/// The result of [`validate_square_well`].
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    /// The case validated.
    pub case: SquareWellCase,
    /// Effective mass inside the well (mₑ); equals `case.mass` unless the well has its own.
    pub mass_inside: f64,
    /// The grids, coarsest first.
    pub grids: Vec<GridRun>,
    /// Per-level comparison on the finest grid.
    pub levels: Vec<LevelCheck>,
    /// Observed order of E_n from the finest pair, one per level.
    pub observed_order: Vec<f64>,
    /// Error of the Richardson-extrapolated E_n, one per level (Hartree).
    pub richardson_error: Vec<f64>,
}

/// Compares the levels of `problem`, whose potential must be a square well
/// ([`SquareWellCase::from_problem`]), on `refinements` nested grids with the exact solution.
pub fn validate(problem: &Problem, refinements: usize) -> Result<Validation, ValidateError> {
    validate_square_well(
        &SquareWellCase::from_problem(problem)?,
        refinements,
        &problem.options,
    )
}

/// Solves the square well `case` on `refinements` nested grids and compares with the exact
/// solution.
pub fn validate_square_well(
    case: &SquareWellCase,
    refinements: usize,
    options: &SolverOptions,
) -> Result<Validation, ValidateError> {
    if refinements < 2 {
        return Err(ValidateError::TooFewGrids(refinements));
    }
    let mass_inside = case.well_mass();
    let exact = FiniteWellInBox::new(
        case.depth,
        case.half_width,
        case.box_half_width,
        mass_inside,
        case.mass,
    )?
    .levels(case.levels)?;
    let potential = match case.mass_inside {
        Some(m) if m != case.mass => {
            Potential::square_well_with_mass(case.box_half_width, case.depth, case.half_width, m)?
        }
        _ => Potential::square_well(case.box_half_width, case.depth, case.half_width)?,
    };
    let problem = Problem {
        options: options.clone(),
        ..Problem::new(potential, case.mass, case.spacing, case.levels)
    };
    let mut grids = Vec::with_capacity(refinements);
    solve_nested::<ValidateError>(&problem, refinements, |_, grid, s, seconds| {
        grids.push(GridRun {
            grid: grid.summary(),
            solver: s.report.clone(),
            seconds,
            warnings: s.warnings.clone(),
            energy: s.energies(),
            kinetic: s.kinetic(),
        })
    })?;
    let (coarse, fine) = (&grids[refinements - 2], &grids[refinements - 1]);
    let levels: Vec<LevelCheck> = exact
        .iter()
        .map(|ex| {
            let n = ex.n;
            let errors_by_grid = grids.iter().map(|g| g.energy[n] - ex.energy).collect();
            let rich = richardson(coarse.energy[n], fine.energy[n]);
            let k_rich = richardson(coarse.kinetic[n], fine.kinetic[n]);
            LevelCheck {
                n,
                exact: ex.energy,
                computed: fine.energy[n],
                error: fine.energy[n] - ex.energy,
                kinetic_exact: ex.kinetic,
                kinetic_computed: fine.kinetic[n],
                kinetic_error: fine.kinetic[n] - ex.kinetic,
                errors_by_grid,
                richardson: rich,
                richardson_error: rich - ex.energy,
                kinetic_observed_order: observed_order(
                    coarse.kinetic[n] - ex.kinetic,
                    fine.kinetic[n] - ex.kinetic,
                ),
                kinetic_richardson_error: k_rich - ex.kinetic,
            }
        })
        .collect();
    let observed_order = levels
        .iter()
        .map(|l| {
            let e = &l.errors_by_grid;
            observed_order(e[e.len() - 2], e[e.len() - 1])
        })
        .collect();
    let richardson_error = levels.iter().map(|l| l.richardson_error).collect();
    Ok(Validation {
        case: case.clone(),
        mass_inside,
        grids,
        levels,
        observed_order,
        richardson_error,
    })
}
