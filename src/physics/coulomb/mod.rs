//! Two electrons with the soft Coulomb interaction
//! W(x₁, x₂) = λ / (ε_r · √((x₁ − x₂)² + s²)) (Hartree, lengths in bohr).
//!
//! λ scales the interaction (1 = the physical Coulomb repulsion, 0 = switched off), ε_r is the
//! relative dielectric constant of the host material and s the softening length that regularizes
//! the 1-D divergence at x₁ = x₂. An effective mass enters through the one-particle Hamiltonian
//! (system mass and per-piece masses), so with m* and ε_r of a semiconductor every energy stays in
//! Hartree and every length in bohr.
//!
//! Spin ½ electrons: the spin singlet (1 state) has a spatially symmetric wave function, the
//! triplet (3 states) an antisymmetric one; spinless fermions have the antisymmetric sector only.

pub mod ci;
pub mod grid2d;
pub mod sparse;

use crate::eigen::lanczos::LanczosError;
use crate::model::hamiltonian::HamiltonianError;
use serde::Serialize;
use thiserror::Error;

/// Why an interaction or a two-electron calculation could not be set up.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoulombError {
    /// A parameter of the interaction is out of range.
    #[error("{key} = {value} is invalid: {message}")]
    Parameter {
        /// Config-style key of the parameter (`coulomb.softening`, …).
        key: &'static str,
        /// The value given.
        value: f64,
        /// What would be valid.
        message: &'static str,
    },
    /// M = 0 orbitals.
    #[error("the CI basis needs at least M = 1 orbital, got 0")]
    NoOrbitals,
    /// More orbitals than the spectrum (or the integrals) provide.
    #[error("M = {requested} orbitals requested but only {available} are available; solve more one-particle levels (solve.levels >= M) or lower M")]
    TooManyOrbitals {
        /// M asked for.
        requested: usize,
        /// Orbitals available.
        available: usize,
    },
    /// A NaN or infinite input.
    #[error(
        "{what} {index} is {value}; every input of the two-electron calculation must be finite"
    )]
    NonFinite {
        /// Which quantity.
        what: &'static str,
        /// Its index (orbital, or 0 for a single value).
        index: usize,
        /// The value.
        value: f64,
    },
    /// The potential given is not the one the orbitals were computed for.
    #[error("the potential does not belong to the spectrum: {quantity} of level {level} is {spectrum} in the spectrum but {potential} with the potential given; pass the potential the orbitals were solved for")]
    PotentialMismatch {
        /// Which quantity disagrees.
        quantity: &'static str,
        /// The level.
        level: usize,
        /// Value stored in the spectrum.
        spectrum: f64,
        /// Value recomputed from the potential.
        potential: f64,
    },
    /// The pair-energy cutoff leaves no basis function.
    #[error("no orbital pair has e_i + e_j <= {cutoff} Ha (the lowest pair energy is {lowest} Ha); raise the pair-energy cutoff")]
    EmptyBasis {
        /// The cutoff (Hartree).
        cutoff: f64,
        /// 2 e_0 (Hartree).
        lowest: f64,
    },
    /// The calculation would need more memory than [`ci::MAX_BYTES`].
    #[error("the {what} would need about {:.2} GB of memory, more than the limit of {:.2} GB; lower M (the number of orbitals), use a pair-energy cutoff or a coarser grid", *bytes as f64 / 1e9, *limit as f64 / 1e9)]
    TooLarge {
        /// Which stage.
        what: &'static str,
        /// Estimated bytes.
        bytes: u64,
        /// The limit (bytes).
        limit: u64,
    },
    /// A convergence check with M ≥ M′.
    #[error("a CI convergence check needs M < M', got M = {coarse}, M' = {fine}")]
    ConvergenceOrder {
        /// M.
        coarse: usize,
        /// M′.
        fine: usize,
    },
    /// The dense eigen-solver did not converge.
    #[error("the dense eigen-solver failed on a CI block of dimension {dimension}")]
    DenseEigen {
        /// Block dimension.
        dimension: usize,
    },
    /// The state list for the thermodynamics was rejected.
    #[error(transparent)]
    Thermo(#[from] crate::physics::thermo::ThermoError),
    /// An input of a two-electron calculation is inconsistent.
    #[error("invalid two-electron input: {0}")]
    Input(String),
    /// Zero levels, or more levels than the sector has states.
    #[error("{requested} levels requested in the {sector} sector, which has {dimension} states; ask for 1 to {dimension} levels (or refine the grid)")]
    Levels {
        /// Levels asked for.
        requested: usize,
        /// Dimension of the sector.
        dimension: usize,
        /// "singlet" or "triplet".
        sector: &'static str,
    },
    /// The 2-D grid solve would need more memory than allowed.
    #[error("the 2-D grid solve of the {sector} sector (dimension {dimension}) would need about {needed_bytes} bytes ({needed_mib:.0} MiB: {detail}) but the memory limit is {limit_bytes} bytes; use a coarser grid (spacing >= {suggested_spacing:.3} bohr instead of {spacing} bohr) or a smaller box (half-width <= {suggested_box_half_width:.1} bohr instead of {box_half_width} bohr), or raise the limit", needed_mib = *needed_bytes as f64 / 1048576.0)]
    Memory {
        /// "singlet" or "triplet".
        sector: &'static str,
        /// Bytes the solve would need.
        needed_bytes: u64,
        /// The caller's limit (bytes).
        limit_bytes: u64,
        /// Sector dimension.
        dimension: usize,
        /// Breakdown by component.
        detail: String,
        /// Current grid spacing (bohr).
        spacing: f64,
        /// A spacing that would fit (bohr).
        suggested_spacing: f64,
        /// Current box half-width L (bohr).
        box_half_width: f64,
        /// A box half-width that would fit at the current spacing (bohr).
        suggested_box_half_width: f64,
    },
    /// The one-particle Hamiltonian could not be built.
    #[error(transparent)]
    Hamiltonian(#[from] HamiltonianError),
    /// The sparse factorization of H − σI failed.
    #[error("sparse Cholesky factorization failed: {0}")]
    Factorization(String),
    /// The Lanczos eigen-solver failed.
    #[error(transparent)]
    Eigen(#[from] LanczosError),
    /// ARPACK failed (feature `arpack`).
    #[error("ARPACK failed: {0}")]
    Arpack(String),
}

/// The soft Coulomb interaction λ / (ε_r √(r² + s²)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SoftCoulomb {
    /// λ: dimensionless strength (1 = physical repulsion, 0 = off).
    pub strength: f64,
    /// ε_r: relative dielectric constant (dimensionless, > 0).
    pub dielectric: f64,
    /// s: softening length (bohr, > 0).
    pub softening: f64,
}

impl SoftCoulomb {
    /// Checks and builds the interaction: λ finite and ≥ 0, ε_r > 0, s > 0 (bohr).
    pub fn new(strength: f64, dielectric: f64, softening: f64) -> Result<Self, CoulombError> {
        if !(strength.is_finite() && strength >= 0.0) {
            return Err(CoulombError::Parameter {
                key: "coulomb.strength",
                value: strength,
                message: "the strength λ must be a finite number >= 0 (1 = physical, 0 = off)",
            });
        }
        if !(dielectric.is_finite() && dielectric > 0.0) {
            return Err(CoulombError::Parameter {
                key: "coulomb.dielectric",
                value: dielectric,
                message: "the dielectric constant ε_r must be a finite number > 0 (1 = vacuum, 12.9 = GaAs)",
            });
        }
        if !(softening.is_finite() && softening > 0.0) {
            return Err(CoulombError::Parameter {
                key: "coulomb.softening",
                value: softening,
                message: "the softening length s must be a finite length > 0 bohr (e.g. 1)",
            });
        }
        Ok(Self {
            strength,
            dielectric,
            softening,
        })
    }

    /// W at separation `separation` = x₁ − x₂ (bohr), in Hartree.
    pub fn at_separation(&self, separation: f64) -> f64 {
        self.strength / (self.dielectric * separation.hypot(self.softening))
    }
}

impl Default for SoftCoulomb {
    /// λ = 1, ε_r = 1, s = 1 bohr.
    fn default() -> Self {
        Self {
            strength: 1.0,
            dielectric: 1.0,
            softening: 1.0,
        }
    }
}

/// Exchange symmetry of a two-electron spatial wave function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Exchange {
    /// ψ(x₂, x₁) = ψ(x₁, x₂): the spin singlet (multiplicity 1).
    Symmetric,
    /// ψ(x₂, x₁) = −ψ(x₁, x₂): the spin triplet (multiplicity 3), or spinless fermions (1).
    Antisymmetric,
}

impl Exchange {
    /// Number of spin states per spatial state: 1 (singlet), 3 (triplet) for spin ½ electrons;
    /// 1 for spinless fermions (antisymmetric only; `None` for the symmetric sector).
    pub fn multiplicity(self, spin: crate::physics::many_body::Spin) -> Option<u64> {
        use crate::physics::many_body::Spin;
        match (spin, self) {
            (Spin::Half, Exchange::Symmetric) => Some(1),
            (Spin::Half, Exchange::Antisymmetric) => Some(3),
            (Spin::None, Exchange::Antisymmetric) => Some(1),
            (Spin::None, Exchange::Symmetric) => None,
        }
    }

    /// "singlet" or "triplet" (spin ½ naming of the sector).
    pub fn spin_name(self) -> &'static str {
        match self {
            Exchange::Symmetric => "singlet",
            Exchange::Antisymmetric => "triplet",
        }
    }
}
