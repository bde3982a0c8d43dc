//! The two-electron sector matrices of [`crate::physics::coulomb::grid2d`] as `sprs` CSR
//! matrices.
//!
//! The matrix is the sector block of H = H̃₁ ⊗ I + I ⊗ H̃₁ + diag W(x_a − x_b) (Hartree) in the
//! orthonormal pair basis of [`super::grid2d::SectorBasis`] (index order of [`super::grid2d::SectorBasis::pairs`]): for the
//! symmetric (singlet) sector |a,a⟩ and (|a,b⟩ + |b,a⟩)/√2, for the antisymmetric (triplet)
//! sector (|a,b⟩ − |b,a⟩)/√2, a < b. Its eigenvalues are the two-electron energies. A unit
//! eigenvector c becomes the symmetrized product-grid amplitude φ(a, b) through
//! [`super::grid2d::SectorBasis::expand`] (c_aa on the diagonal, c_ab/√2 off it, with the sign of the sector),
//! and the wave function is ψ(x_a, x_b) = φ(a, b) / √(w_a w_b) (bohr^−1), normalized as
//! Σ_ab w_a w_b ψ² = 1, with w_j the dual widths of the one-particle grid.

use super::grid2d::SectorHamiltonian;
use sprs::{CsMat, TriMat};

impl SectorHamiltonian {
    /// The full symmetric sector matrix (both triangles stored; Hartree) as a D × D CSR matrix,
    /// entry for entry the operator [`SectorHamiltonian::apply`] applies.
    pub fn to_csmat(&self) -> CsMat<f64> {
        let dim = self.dimension();
        // The upper triangle of H − 0·I is H's upper triangle, values unchanged (x − 0 = x).
        let (col_ptr, rows, vals) = self.upper_csc(0.0);
        let mut triplets = TriMat::with_capacity((dim, dim), 2 * rows.len());
        for col in 0..dim {
            for k in col_ptr[col]..col_ptr[col + 1] {
                let row = rows[k];
                triplets.add_triplet(row, col, vals[k]);
                if row != col {
                    triplets.add_triplet(col, row, vals[k]);
                }
            }
        }
        triplets.to_csr()
    }
}
