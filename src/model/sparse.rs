//! The one-particle Hamiltonian as a `sprs` compressed sparse row matrix, for interop (SciPy,
//! Julia, MATLAB through Matrix Market) and for users of the library who work with sparse
//! matrices.
//!
//! The matrix is exactly the one confine diagonalizes: the symmetrized H̃ = W^{−½} A W^{−½} of
//! [`crate::model::hamiltonian`] (Hartree) on the interior nodes x_1 … x_N, with
//! W = diag(w_j) the dual widths (bohr) and A the finite-volume stiffness plus potential. It is
//! symmetric and tridiagonal, and every stored entry is bit-identical to the
//! [`SymTridiagonal`] the solvers use, so its eigenvalues are the energies E_n (Hartree). An
//! eigenvector φ of H̃ with Σ_j φ_j² = 1 is *not* the wave function on a non-uniform grid: the
//! amplitude is ψ_j = φ_j / √w_j (bohr^−½, normalized as Σ_j w_j ψ_j² = 1), which is what
//! [`Hamiltonian::amplitude_from_symmetric`] computes. On a uniform grid all w_j = h and the
//! rescaling is one constant factor. Position-dependent masses change the entries, not this
//! relation.

use crate::eigen::SymTridiagonal;
use crate::model::hamiltonian::Hamiltonian;
use sprs::CsMat;

/// The symmetric tridiagonal `matrix` as an N × N CSR matrix with every diagonal and both
/// off-diagonals stored (3N − 2 entries, the same values, same units).
pub fn tridiagonal_csmat(matrix: &SymTridiagonal) -> CsMat<f64> {
    let n = matrix.diag.len();
    let nnz = (3 * n).saturating_sub(2);
    let mut indptr = Vec::with_capacity(n + 1);
    let mut indices = Vec::with_capacity(nnz);
    let mut data = Vec::with_capacity(nnz);
    indptr.push(0);
    for j in 0..n {
        if j >= 1 {
            indices.push(j - 1);
            data.push(matrix.off[j - 1]);
        }
        indices.push(j);
        data.push(matrix.diag[j]);
        if j + 1 < n {
            indices.push(j + 1);
            data.push(matrix.off[j]);
        }
        indptr.push(indices.len());
    }
    CsMat::new((n, n), indptr, indices, data)
}

impl Hamiltonian {
    /// The symmetrized H̃ = W^{−½} A W^{−½} (Hartree) as a CSR matrix on the interior nodes: its
    /// eigenvalues are the energies; ψ_j = φ_j / √w_j turns its unit eigenvectors into
    /// amplitudes (see the [module docs](crate::model::sparse)).
    pub fn to_csmat(&self) -> CsMat<f64> {
        tridiagonal_csmat(&self.matrix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_holds_the_three_diagonals() {
        let m = SymTridiagonal {
            diag: vec![1.0, 2.0, 3.0, 4.0],
            off: vec![-0.5, -0.25, -0.125],
        };
        let c = tridiagonal_csmat(&m);
        assert!(c.is_csr());
        assert_eq!(c.shape(), (4, 4));
        assert_eq!(c.nnz(), 10);
        for j in 0..4 {
            assert_eq!(c.get(j, j), Some(&m.diag[j]));
        }
        for j in 0..3 {
            assert_eq!(c.get(j, j + 1), Some(&m.off[j]));
            assert_eq!(c.get(j + 1, j), Some(&m.off[j]));
        }
        assert_eq!(c.get(0, 2), None);
        let one = tridiagonal_csmat(&SymTridiagonal {
            diag: vec![7.0],
            off: vec![],
        });
        assert_eq!(
            (one.shape(), one.nnz(), one.get(0, 0)),
            ((1, 1), 1, Some(&7.0))
        );
    }
}
