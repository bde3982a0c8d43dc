//! Eigen-solvers behind one interface.
//!
//! The spine of confine needs the k lowest eigenpairs of a real symmetric tridiagonal matrix
//! (the finite-difference Hamiltonian). [`tridiagonal`] implements them with Sturm-count
//! multisection (which proves completeness, `isolate.rs`), shifted inverse / Rayleigh-quotient
//! iteration on many levels at once (`inverse.rs`) in O(n) memory per vector, and one
//! Cholesky-QR pass (`orthonormal.rs`). `pages.rs` asks the kernel to back its large buffers
//! cheaply (huge pages for the workspaces, the output columns populated in one call per task).

pub mod dense;
mod inverse;
mod isolate;
pub mod lanczos;
mod orthonormal;
mod pages;
pub mod sturm;
pub mod tridiagonal;

pub use tridiagonal::{lowest_eigenpairs, EigenPairs, SolverOptions, SolverReport};

use thiserror::Error;

/// A real symmetric tridiagonal matrix: `diag` has n entries, `off` has n − 1 (the sub- and
/// super-diagonal), in whatever energy unit the caller uses (Hartree for Hamiltonians).
#[derive(Debug, Clone, PartialEq)]
pub struct SymTridiagonal {
    /// Diagonal entries, length n.
    pub diag: Vec<f64>,
    /// Off-diagonal entries, length n − 1 (empty when n ≤ 1).
    pub off: Vec<f64>,
}

/// Why an eigen-solve could not be carried out.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EigenError {
    /// The matrix is malformed (length mismatch or empty).
    #[error("malformed tridiagonal matrix: {0}")]
    Malformed(String),
    /// An entry is NaN or infinite.
    #[error("matrix entry {index} of the {which} is not finite ({value})")]
    NonFinite {
        /// "diagonal" or "off-diagonal".
        which: &'static str,
        /// Position in that array.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// More levels were requested than the matrix has.
    #[error("{requested} eigenpairs requested but the matrix has only {available} rows")]
    TooManyLevels {
        /// Levels asked for.
        requested: usize,
        /// Matrix dimension.
        available: usize,
    },
    /// An internal step failed (never expected; reported instead of panicking).
    #[error("eigen-solver failure: {0}")]
    Internal(String),
}

impl SymTridiagonal {
    /// Builds the matrix, checking lengths and finiteness.
    pub fn new(diag: Vec<f64>, off: Vec<f64>) -> Result<Self, EigenError> {
        let t = Self { diag, off };
        t.check()?;
        Ok(t)
    }

    /// Dimension n.
    pub fn len(&self) -> usize {
        self.diag.len()
    }

    /// True when n = 0.
    pub fn is_empty(&self) -> bool {
        self.diag.is_empty()
    }

    /// Validates lengths and finiteness of every entry.
    pub fn check(&self) -> Result<(), EigenError> {
        let n = self.diag.len();
        if n == 0 {
            return Err(EigenError::Malformed("the matrix has no rows".into()));
        }
        if self.off.len() + 1 != n {
            return Err(EigenError::Malformed(format!(
                "{} diagonal entries need {} off-diagonal entries, got {}",
                n,
                n - 1,
                self.off.len()
            )));
        }
        if let Some((index, &value)) = self.diag.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(EigenError::NonFinite {
                which: "diagonal",
                index,
                value,
            });
        }
        if let Some((index, &value)) = self.off.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(EigenError::NonFinite {
                which: "off-diagonal",
                index,
                value,
            });
        }
        Ok(())
    }

    /// y = T x.
    pub fn matvec(&self, x: &[f64], y: &mut [f64]) {
        let n = self.len();
        debug_assert_eq!(x.len(), n);
        debug_assert_eq!(y.len(), n);
        if n == 1 {
            y[0] = self.diag[0] * x[0];
            return;
        }
        y[0] = self.diag[0] * x[0] + self.off[0] * x[1];
        for i in 1..n - 1 {
            y[i] = self.off[i - 1] * x[i - 1] + self.diag[i] * x[i] + self.off[i] * x[i + 1];
        }
        y[n - 1] = self.off[n - 2] * x[n - 2] + self.diag[n - 1] * x[n - 1];
    }

    /// y = (T − σI) x, with the shift applied to the diagonal before multiplying (so that a small
    /// result is not the difference of two large ones).
    pub fn matvec_shifted(&self, shift: f64, x: &[f64], y: &mut [f64]) {
        let n = self.len();
        debug_assert_eq!(x.len(), n);
        debug_assert_eq!(y.len(), n);
        if n == 1 {
            y[0] = (self.diag[0] - shift) * x[0];
            return;
        }
        y[0] = (self.diag[0] - shift) * x[0] + self.off[0] * x[1];
        for i in 1..n - 1 {
            y[i] =
                self.off[i - 1] * x[i - 1] + (self.diag[i] - shift) * x[i] + self.off[i] * x[i + 1];
        }
        y[n - 1] = self.off[n - 2] * x[n - 2] + (self.diag[n - 1] - shift) * x[n - 1];
    }

    /// Gershgorin interval [lo, hi] that contains every eigenvalue.
    pub fn gershgorin(&self) -> (f64, f64) {
        let n = self.len();
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for i in 0..n {
            let r = if i > 0 { self.off[i - 1].abs() } else { 0.0 }
                + if i + 1 < n { self.off[i].abs() } else { 0.0 };
            lo = lo.min(self.diag[i] - r);
            hi = hi.max(self.diag[i] + r);
        }
        (lo, hi)
    }

    /// max(|lo|, |hi|) of the Gershgorin interval: a cheap bound on the 2-norm.
    pub fn norm_bound(&self) -> f64 {
        let (lo, hi) = self.gershgorin();
        lo.abs().max(hi.abs())
    }
}
