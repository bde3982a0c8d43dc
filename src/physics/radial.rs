//! The levels of a sphere or cylinder ([`crate::channels`]) as input of the one thermodynamics
//! and of the N-fermion ensembles: nothing here computes a temperature.
//!
//! - [`state_list`]: the one-particle states, one per (n, l) level with multiplicity = its
//!   orbital degeneracy (2l + 1, or 1 / 2), and the dimension of T^(K) = (2/d) K / N (3 for the
//!   sphere, 2 for the cylinder's cross-section).
//! - [`orbitals`]: every orbital of every level as a separate orbital (a level of degeneracy g
//!   is g orbitals of equal energy), so that the enumeration and the binned counting of N
//!   fermions fill degenerate shells correctly: each orbital takes `Spin::capacity` particles.

use crate::channels::RadialSpectrum;
use crate::model::radial::Geometry;
use crate::physics::many_body::{ManyBodyError, Orbitals};
use crate::physics::thermo::{StateList, ThermoError};

/// The spatial dimension of the kinetic temperature of a geometry: 1, 3 or 2.
pub fn dimension(geometry: Geometry) -> u8 {
    match geometry {
        Geometry::Slab => 1,
        Geometry::Sphere => 3,
        Geometry::Cylinder => 2,
    }
}

/// One particle in the levels of `spectrum`: E and ⟨K⟩ (Hartree) with multiplicity = orbital
/// degeneracy (spin not included: one particle's spin only doubles every count).
pub fn state_list(spectrum: &RadialSpectrum) -> Result<StateList, ThermoError> {
    StateList::new(
        spectrum.energies(),
        spectrum.kinetic(),
        spectrum.degeneracies(),
        1,
    )?
    .with_dimension(dimension(spectrum.geometry))
}

/// Every orbital of `spectrum` (each level repeated by its degeneracy), energies ascending,
/// as a truncated orbital set (levels above the request exist).
pub fn orbitals(spectrum: &RadialSpectrum) -> Result<Orbitals, ManyBodyError> {
    let mut energy = Vec::new();
    let mut kinetic = Vec::new();
    for level in &spectrum.levels {
        for _ in 0..level.degeneracy {
            energy.push(level.energy);
            kinetic.push(level.kinetic);
        }
    }
    Orbitals::new(energy, kinetic)
}
