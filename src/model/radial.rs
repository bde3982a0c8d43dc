//! Spherical and cylindrical confinement: one radial problem per angular channel.
//!
//! In a sphere or a cylinder of radius R (hard wall at r = R) with a radial potential V(r) and a
//! radial effective mass m(r), ψ = R(r) Y_lm (sphere) or R(r) e^{imφ} (cylinder cross-section, a
//! 2-D disk) and each angular channel is a 1-D problem on [0, R]. Both are discretized on the
//! radial grid with a node on every breakpoint ([`Grid::aligned_radial`]) into the one operator
//! of `Hamiltonian::from_parts`, so the eigen-solver, the spectrum's observables and
//! everything above take them as they take the slab.
//!
//! **Sphere**, channel l: u = r R(r), u(0) = u(R) = 0, and the BenDaniel–Duke operator
//! −½ ∇·(1/m)∇ becomes
//!
//!   −½ d/dr (1/m) du/dr + [l(l+1)/(2 m r²) + (1/(2r)) d(1/m)/dr] u + V u.
//!
//! The last kinetic term comes from the substitution: (1/r²) d/dr(r² (1/m) dR/dr) with R = u/r
//! is (1/r)[d/dr((1/m) u') − (1/m)' u/r]. With piecewise-constant masses (1/m)' is a delta at
//! each mass interface r₀, of weight [1/m] = 1/m₊ − 1/m₋; it puts κ = [1/m]/(2 r₀) on the node at
//! r₀, and the integrated equation then says [(1/m) u'] = [1/m] u/r₀ — exactly the continuity of
//! ψ and (1/m) ∂ψ/∂r of the 3-D problem. On the slab's finite-volume scheme (weights = dual
//! widths) with the centrifugal term at each node (1/m averaged over the dual cell), l = 0 with
//! a constant mass is *the same matrix* as the odd states of the slab of the same profile.
//!
//! **Cylinder**, channel m (|m|, levels with ±m are degenerate): the flux form with weight r,
//!
//!   −½ (1/r) d/dr (r/m dR/dr) + [m²/(2 m_eff r²) + V] R,
//!
//! by finite volumes: fluxes r_{i+½}/(2 m_i h_i) on the intervals, node weights
//! W_j = ∫ r dr over the dual cell (W_0 = h²/8 on the axis), V and 1/m averaged over the cell
//! with the weight r. For m = 0 the axis node is an unknown with no flux through r = 0 (the
//! regular solution, R'(0) = 0); for m ≥ 1 R(0) = 0. The generalized problem A R = E W R is
//! symmetrized by W^{½}.
//!
//! In both the centrifugal (and interface) term is kinetic energy: ⟨K⟩ includes it, and
//! ⟨K⟩ + ⟨V⟩ = E holds to rounding.

use crate::model::grid::Grid;
use crate::model::hamiltonian::{Hamiltonian, HamiltonianError};
use crate::model::potential::Potential;
use serde::{Deserialize, Serialize};

/// The shape of the confinement: the paper's 1-D slab, a sphere, or a cylinder's cross-section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Geometry {
    /// V(x) in the box [−L, L] (the default: every config without `geometry`).
    #[default]
    Slab,
    /// V(r) in a hard sphere of radius R; channels l = 0, 1, …, degeneracy 2l + 1.
    Sphere,
    /// V(r) in the cross-section of a hard cylinder of radius R (a disk); channels |m| = 0, 1, …,
    /// degeneracy 1 for m = 0 and 2 for m ≠ 0.
    Cylinder,
}

impl Geometry {
    /// Every geometry, in the order of the docs.
    pub const ALL: [Geometry; 3] = [Geometry::Slab, Geometry::Sphere, Geometry::Cylinder];

    /// The name in a config (`"slab"`, `"sphere"`, `"cylinder"`).
    pub fn name(self) -> &'static str {
        match self {
            Geometry::Slab => "slab",
            Geometry::Sphere => "sphere",
            Geometry::Cylinder => "cylinder",
        }
    }

    /// The geometry named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.name() == name)
    }

    /// True for the slab (serde skips the default, so slab configs serialize as before).
    pub fn is_slab(&self) -> bool {
        *self == Geometry::Slab
    }

    /// True for the sphere and the cylinder: V is a function of r ∈ [0, R].
    pub fn is_radial(self) -> bool {
        !self.is_slab()
    }

    /// Orbital degeneracy of a level of angular channel `channel` (spin not included): 2l + 1
    /// for the sphere, 1 (m = 0) or 2 (±m) for the cylinder, 1 for the slab.
    pub fn degeneracy(self, channel: usize) -> u64 {
        match self {
            Geometry::Slab => 1,
            Geometry::Sphere => 2 * channel as u64 + 1,
            Geometry::Cylinder => {
                if channel == 0 {
                    1
                } else {
                    2
                }
            }
        }
    }

    /// Spatial dimension d of the kinetic temperature (2/d) K / N: 1 (slab), 3 (sphere), 2
    /// (the cylinder's cross-section).
    pub fn dimension(self) -> u8 {
        match self {
            Geometry::Slab => 1,
            Geometry::Sphere => 3,
            Geometry::Cylinder => 2,
        }
    }

    /// Centrifugal numerator ν with the barrier ν/(2 m r²): l(l+1) (sphere), m² (cylinder).
    pub fn centrifugal(self, channel: usize) -> f64 {
        let c = channel as f64;
        match self {
            Geometry::Slab => 0.0,
            Geometry::Sphere => c * (c + 1.0),
            Geometry::Cylinder => c * c,
        }
    }
}

/// Index of the first grid node that is an unknown of channel `channel`: 0 for the cylinder's
/// m = 0 (the axis node is free), 1 otherwise (ψ = 0 on the first node).
pub fn first_unknown(geometry: Geometry, channel: usize) -> usize {
    if geometry == Geometry::Cylinder && channel == 0 {
        0
    } else {
        1
    }
}

/// The positions of the unknowns of channel `channel` on `grid` (bohr): the interior nodes, plus
/// the axis r = 0 for the cylinder's m = 0.
pub fn unknown_positions(grid: &Grid, geometry: Geometry, channel: usize) -> &[f64] {
    let nodes = grid.nodes();
    &nodes[first_unknown(geometry, channel)..nodes.len() - 1]
}

/// The Hamiltonian of angular channel `channel` (l or |m|) of a particle of mass `mass` (mₑ,
/// pieces may carry their own) in the radial `potential` on the radial `grid`
/// ([`Grid::aligned_radial`]); for the slab, `channel` must be 0 and this is [`Hamiltonian::new`].
/// Its weights W_j are bohr (sphere, amplitudes u = rR) or bohr² (cylinder, Σ W R² = ∫ R² r dr),
/// and [`Hamiltonian::amplitude_from_symmetric`] gives amplitudes normalized in that measure.
pub fn channel_hamiltonian(
    potential: &Potential,
    grid: &Grid,
    mass: f64,
    geometry: Geometry,
    channel: usize,
) -> Result<Hamiltonian, HamiltonianError> {
    if !(mass.is_finite() && mass > 0.0) {
        return Err(HamiltonianError::Mass(mass));
    }
    let nodes = grid.nodes();
    let first = first_unknown(geometry, channel);
    if nodes.len() < 2 + first.min(1)
        || (geometry != Geometry::Cylinder && grid.interior_len() == 0)
    {
        return Err(HamiltonianError::EmptyGrid);
    }
    if geometry == Geometry::Slab {
        return Hamiltonian::new(potential, grid, mass);
    }
    let intervals = nodes.len() - 1;
    let h: Vec<f64> = nodes.windows(2).map(|w| w[1] - w[0]).collect();
    let inv_mass: Vec<f64> = nodes
        .windows(2)
        .map(|w| 1.0 / potential.mass_on_interval(w[0], w[1], mass))
        .collect();
    // Lengths (sphere) or areas ∫ r dr (cylinder) of the left and right halves of node j's
    // dual cell; the axis node has no left half.
    let halves = |j: usize| -> (f64, f64) {
        let r = nodes[j];
        let left = if j == 0 { 0.0 } else { 0.5 * h[j - 1] };
        let right = if j == intervals { 0.0 } else { 0.5 * h[j] };
        match geometry {
            Geometry::Cylinder => (left * (r - 0.5 * left), right * (r + 0.5 * right)),
            _ => (left, right),
        }
    };
    let cell_average = |j: usize, left: f64, right: f64| -> f64 {
        if left == right {
            return left;
        }
        let (a, b) = halves(j);
        (a * left + b * right) / (a + b)
    };
    let coupling_of = |i: usize| -> f64 {
        let flux_weight = match geometry {
            Geometry::Cylinder => 0.5 * (nodes[i] + nodes[i + 1]),
            _ => 1.0,
        };
        0.5 * flux_weight * inv_mass[i] / h[i]
    };
    let mut coupling = Vec::with_capacity(intervals + 1);
    if first == 0 {
        // No flux through the axis (r_{−½} = 0): the first unknown has no left neighbour.
        coupling.push(0.0);
    }
    coupling.extend((0..intervals).map(coupling_of));
    let nu = geometry.centrifugal(channel);
    let unknowns = first..intervals;
    let mut weight = Vec::with_capacity(unknowns.len());
    let mut v = Vec::with_capacity(unknowns.len());
    let mut kappa = Vec::with_capacity(unknowns.len());
    for j in unknowns {
        let r = nodes[j];
        let (a, b) = halves(j);
        let w = a + b;
        weight.push(w);
        v.push(cell_average(
            j,
            potential.value_left(r),
            potential.value_right(r),
        ));
        let mut k = 0.0;
        if nu > 0.0 {
            let inv_m = if j == 0 {
                inv_mass[0]
            } else {
                cell_average(j, inv_mass[j - 1], inv_mass[j])
            };
            k += w * 0.5 * nu * inv_m / (r * r);
        }
        if geometry == Geometry::Sphere && j > 0 && inv_mass[j] != inv_mass[j - 1] {
            // The delta of (1/(2r)) d(1/m)/dr at a mass interface (see the module docs).
            k += (inv_mass[j] - inv_mass[j - 1]) / (2.0 * r);
        }
        kappa.push(k);
    }
    if kappa.iter().all(|&k| k == 0.0) {
        kappa.clear();
    }
    Ok(Hamiltonian::from_parts(coupling, weight, v, kappa))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degeneracies_are_2l_plus_1_and_1_or_2() {
        assert_eq!(Geometry::Sphere.degeneracy(0), 1);
        assert_eq!(Geometry::Sphere.degeneracy(3), 7);
        assert_eq!(Geometry::Cylinder.degeneracy(0), 1);
        assert_eq!(Geometry::Cylinder.degeneracy(5), 2);
        assert_eq!(Geometry::from_name("sphere"), Some(Geometry::Sphere));
        assert_eq!(Geometry::from_name("ball"), None);
    }

    #[test]
    fn cylinder_weights_add_up_to_the_disk_area_over_two_pi() {
        let v = Potential::new(10.0, vec![]).unwrap();
        let g = Grid::aligned_radial(10.0, &[3.3], 0.4).unwrap();
        let h = channel_hamiltonian(&v, &g, 1.0, Geometry::Cylinder, 0).unwrap();
        // The cell of the wall node (not an unknown) holds (R − h/4)·h/2.
        let last = g.nodes()[g.nodes().len() - 1] - g.nodes()[g.nodes().len() - 2];
        let total: f64 = h.dual_widths().iter().sum::<f64>() + 0.5 * last * (10.0 - 0.25 * last);
        assert!((total - 50.0).abs() < 1e-12, "{total}");
    }
}
