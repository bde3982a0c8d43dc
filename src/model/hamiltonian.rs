//! The finite-difference Hamiltonian H = −½ d/dx (1/m) d/dx + V(x) as a symmetric tridiagonal
//! matrix.
//!
//! On nodes x_0 = −L < x_1 < … < x_{N+1} = L with spacings h_i = x_{i+1} − x_i and dual widths
//! w_j = (h_{j−1} + h_j)/2, the finite-volume three-point scheme reads
//!
//!   (Hψ)_j = [c_{j−1}(ψ_j − ψ_{j−1}) + c_j(ψ_j − ψ_{j+1})] / w_j + V_j ψ_j,   c_i = 1/(2 m_i h_i),
//!
//! where m_i is the effective mass of the region holding the interval (x_i, x_{i+1})
//! ([`Potential::mass_on_interval`]; piece ends are nodes, so each interval lies in one region).
//! This is the BenDaniel–Duke operator: the flux (1/m) ψ' is continuous across a mass jump.
//! with ψ_0 = ψ_{N+1} = 0 and V_j the average of V over the dual cell of node j (see
//! [`crate::model::potential`]). It is the generalized symmetric problem Aψ = E Wψ; with φ = W^{½}ψ
//! it becomes the ordinary symmetric tridiagonal H̃φ = Eφ with
//! H̃_jj = (c_{j−1} + c_j)/w_j + V_j and H̃_{j,j+1} = −c_j / √(w_j w_{j+1}).
//! On a uniform grid this is the standard second difference. The discrete kinetic energy in
//! difference form, ⟨K⟩ = Σ_i c_i (ψ_{i+1} − ψ_i)², and ⟨V⟩ = Σ_j w_j V_j ψ_j² add up to the
//! Rayleigh quotient exactly, and are accurate relative to E itself (not to ‖H‖); ⟨K⟩ is the
//! discrete ∫ |ψ'|² / (2 m(x)) dx.

use crate::eigen::SymTridiagonal;
use crate::model::grid::Grid;
use crate::model::potential::Potential;
use thiserror::Error;

/// Why a Hamiltonian cannot be built.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum HamiltonianError {
    /// Mass not positive and finite.
    #[error("the mass must be a positive finite number of electron masses, got {0}")]
    Mass(f64),
    /// The grid has no interior node.
    #[error("the grid has no interior node")]
    EmptyGrid,
}

/// H on a grid, with what is needed to turn eigenvectors into observables.
#[derive(Debug, Clone)]
pub struct Hamiltonian {
    /// The symmetrized matrix H̃ (Hartree).
    pub matrix: SymTridiagonal,
    /// c_i = 1/(2 m_i h_i) for the N + 1 intervals, walls included (Hartree · bohr).
    coupling: Vec<f64>,
    /// Dual widths w_j of the interior nodes (bohr).
    dual_width: Vec<f64>,
    /// V_j at the interior nodes (Hartree).
    potential: Vec<f64>,
    /// Kinetic energy that sits on the diagonal of the unsymmetrized matrix, κ_j ψ_j² (Hartree ·
    /// bohr): the centrifugal term and the mass-interface term of a radial channel
    /// ([`crate::model::radial`]); empty for the slab.
    extra_kinetic: Vec<f64>,
}

impl Hamiltonian {
    /// Discretizes −½ d/dx (1/m(x)) d/dx + V on `grid`: m(x) is the effective mass of each piece
    /// of `potential` that has one, and `mass` (mₑ, the system mass) everywhere else.
    pub fn new(potential: &Potential, grid: &Grid, mass: f64) -> Result<Self, HamiltonianError> {
        if !(mass.is_finite() && mass > 0.0) {
            return Err(HamiltonianError::Mass(mass));
        }
        let n = grid.interior_len();
        if n == 0 {
            return Err(HamiltonianError::EmptyGrid);
        }
        let nodes = grid.nodes();
        let coupling: Vec<f64> = nodes
            .windows(2)
            .map(|w| {
                let m = potential.mass_on_interval(w[0], w[1], mass);
                1.0 / (2.0 * m * (w[1] - w[0]))
            })
            .collect();
        let dual_width = grid.dual_widths();
        let v: Vec<f64> = (1..=n)
            .map(|j| {
                potential.value_on_cell(nodes[j], nodes[j] - nodes[j - 1], nodes[j + 1] - nodes[j])
            })
            .collect();
        Ok(Self::from_parts(coupling, dual_width, v, Vec::new()))
    }

    /// The operator of the generalized problem Aψ = E Wψ with
    /// (Aψ)_j = c_j(ψ_j − ψ_{j−1}) + c_{j+1}(ψ_j − ψ_{j+1}) + (κ_j + W_j V_j) ψ_j, symmetrized by
    /// W^{½}: `coupling` c_0 … c_n (n + 1 values; c_0 and c_n couple to walls where ψ = 0, and a
    /// zero c_0 leaves the first node free), `weight` W_j > 0, `potential` V_j (Hartree) and
    /// `extra_kinetic` κ_j (empty, or one per node). Units: c and κ in Hartree times the unit
    /// of W, so the slab (W in bohr) and the radial channels share this one operator.
    pub(crate) fn from_parts(
        coupling: Vec<f64>,
        weight: Vec<f64>,
        potential: Vec<f64>,
        extra_kinetic: Vec<f64>,
    ) -> Self {
        let n = weight.len();
        debug_assert_eq!(coupling.len(), n + 1);
        debug_assert!(extra_kinetic.is_empty() || extra_kinetic.len() == n);
        let diag: Vec<f64> = (0..n)
            .map(|j| {
                let k = coupling[j] + coupling[j + 1];
                // The slab has no κ: its diagonal is computed exactly as before.
                let k = if extra_kinetic.is_empty() {
                    k
                } else {
                    k + extra_kinetic[j]
                };
                k / weight[j] + potential[j]
            })
            .collect();
        let off: Vec<f64> = (0..n.saturating_sub(1))
            .map(|j| -coupling[j + 1] / (weight[j] * weight[j + 1]).sqrt())
            .collect();
        Self {
            matrix: SymTridiagonal { diag, off },
            coupling,
            dual_width: weight,
            potential,
            extra_kinetic,
        }
    }

    /// Matrix dimension N (interior nodes).
    pub fn len(&self) -> usize {
        self.dual_width.len()
    }

    /// True when the matrix is empty (never, for a built Hamiltonian).
    pub fn is_empty(&self) -> bool {
        self.dual_width.is_empty()
    }

    /// Dual widths w_j of the interior nodes (bohr).
    pub fn dual_widths(&self) -> &[f64] {
        &self.dual_width
    }

    /// V_j at the interior nodes (Hartree).
    pub fn potential_on_nodes(&self) -> &[f64] {
        &self.potential
    }

    /// Turns a unit eigenvector φ of H̃ into the amplitude ψ_j = φ_j / √w_j (bohr^−½), so that
    /// Σ_j w_j ψ_j² = 1: |ψ|² is a probability density on the grid.
    pub fn amplitude_from_symmetric(&self, phi: &[f64], psi: &mut [f64]) {
        for ((p, f), w) in psi.iter_mut().zip(phi).zip(&self.dual_width) {
            *p = f / w.sqrt();
        }
    }

    /// ⟨K⟩ = Σ_i c_i (ψ_{i+1} − ψ_i)² + Σ_j κ_j ψ_j² with ψ = 0 on the walls (Hartree, for
    /// normalized ψ; κ is the centrifugal and mass-interface term of a radial channel, 0 in the
    /// slab).
    pub fn kinetic_energy(&self, psi: &[f64]) -> f64 {
        let n = psi.len();
        let mut sum =
            self.coupling[0] * psi[0] * psi[0] + self.coupling[n] * psi[n - 1] * psi[n - 1];
        for i in 0..n - 1 {
            let d = psi[i + 1] - psi[i];
            sum += self.coupling[i + 1] * d * d;
        }
        for (k, p) in self.extra_kinetic.iter().zip(psi) {
            sum += k * p * p;
        }
        sum
    }

    /// The kinetic bilinear form ⟨φ|K|ψ⟩ = Σ_i c_i (φ_{i+1} − φ_i)(ψ_{i+1} − ψ_i) with φ = ψ = 0
    /// on the walls (Hartree, for normalized amplitudes); [`Self::kinetic_energy`] is ⟨ψ|K|ψ⟩.
    pub(crate) fn kinetic_form(&self, phi: &[f64], psi: &[f64]) -> f64 {
        let n = psi.len();
        let mut sum =
            self.coupling[0] * phi[0] * psi[0] + self.coupling[n] * phi[n - 1] * psi[n - 1];
        for i in 0..n - 1 {
            sum += self.coupling[i + 1] * (phi[i + 1] - phi[i]) * (psi[i + 1] - psi[i]);
        }
        for ((k, f), p) in self.extra_kinetic.iter().zip(phi).zip(psi) {
            sum += k * f * p;
        }
        sum
    }

    /// ⟨V⟩ = Σ_j w_j V_j ψ_j² (Hartree, for normalized ψ).
    pub fn potential_energy(&self, psi: &[f64]) -> f64 {
        psi.iter()
            .zip(&self.dual_width)
            .zip(&self.potential)
            .map(|((p, w), v)| w * v * p * p)
            .sum()
    }

    /// Σ_j w_j ψ_j² (should be 1 for an amplitude from [`Self::amplitude_from_symmetric`]).
    pub fn norm_squared(&self, psi: &[f64]) -> f64 {
        psi.iter()
            .zip(&self.dual_width)
            .map(|(p, w)| w * p * p)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_grid_gives_the_standard_second_difference() {
        let v = Potential::square_well(10.0, 0.5, 2.0).unwrap();
        let g = Grid::aligned(10.0, &v.breakpoints(), 0.5).unwrap();
        let h = Hamiltonian::new(&v, &g, 2.0).unwrap();
        let n = h.len();
        assert_eq!(n, 39);
        for j in 0..n {
            let x = g.interior()[j];
            let expected = 1.0 / (2.0 * 0.25) + v.value_at_node(x);
            assert!((h.matrix.diag[j] - expected).abs() < 1e-14);
        }
        for e in &h.matrix.off {
            assert!((e + 0.5 / (2.0 * 0.25)).abs() < 1e-14);
        }
    }

    #[test]
    fn kinetic_plus_potential_is_the_rayleigh_quotient() {
        let v = Potential::square_well(10.0, 0.5, 2.0).unwrap();
        let g = Grid::aligned(10.0, &[-3.3, 1.7], 0.37).unwrap();
        let h = Hamiltonian::new(&v, &g, 1.3).unwrap();
        let n = h.len();
        let phi: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.37).sin() + 0.2).collect();
        let norm = phi.iter().map(|x| x * x).sum::<f64>().sqrt();
        let phi: Vec<f64> = phi.iter().map(|x| x / norm).collect();
        let mut hphi = vec![0.0; n];
        h.matrix.matvec(&phi, &mut hphi);
        let rq: f64 = phi.iter().zip(&hphi).map(|(a, b)| a * b).sum();
        let mut psi = vec![0.0; n];
        h.amplitude_from_symmetric(&phi, &mut psi);
        assert!((h.norm_squared(&psi) - 1.0).abs() < 1e-13);
        let e = h.kinetic_energy(&psi) + h.potential_energy(&psi);
        assert!((e - rq).abs() < 1e-12 * rq.abs().max(1.0), "{e} vs {rq}");
    }

    #[test]
    fn bad_mass_is_an_error() {
        let v = Potential::square_well(10.0, 0.5, 2.0).unwrap();
        let g = Grid::aligned(10.0, &v.breakpoints(), 0.5).unwrap();
        assert!(Hamiltonian::new(&v, &g, 0.0).is_err());
        assert!(Hamiltonian::new(&v, &g, f64::NAN).is_err());
    }
}
