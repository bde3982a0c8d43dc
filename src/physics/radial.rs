//! The levels of a sphere or cylinder ([`crate::channels`]) as input of the one thermodynamics
//! and of the N-fermion ensembles: nothing here computes a temperature.
//!
//! - [`state_list`]: the one-particle states, one per (n, l) level with multiplicity = its
//!   orbital degeneracy (2l + 1, or 1 / 2), and the dimension of T^(K) = (2/d) K / N (3 for the
//!   sphere, 2 for the cylinder's cross-section).
//! - [`orbitals`]: every orbital of every level as a separate orbital (a level of degeneracy g
//!   is g orbitals of equal energy), so that the enumeration and the binned counting of N
//!   fermions fill degenerate shells correctly: each orbital takes `Spin::capacity` particles.
//!
//! The thermodynamics of these states is the one of [`crate::physics::thermo`], composed once
//! by the study's stages (`pipeline::study`), for the slab and the radial cases alike.

use crate::channels::RadialSpectrum;
use crate::physics::many_body::{ManyBodyError, Orbitals};
use crate::physics::thermo::{StateList, ThermoError};

/// One particle in the levels of `spectrum`: E and ⟨K⟩ (Hartree) with multiplicity = orbital
/// degeneracy (spin not included: one particle's spin only doubles every count).
pub fn state_list(spectrum: &RadialSpectrum) -> Result<StateList, ThermoError> {
    StateList::new(
        spectrum.energies(),
        spectrum.kinetic(),
        spectrum.degeneracies(),
        1,
    )?
    .with_dimension(spectrum.dimension())
}

/// Every orbital of `spectrum` (each level repeated by its degeneracy), energies ascending,
/// as a truncated orbital set (levels above the request exist) in the dimension d of the
/// geometry.
pub fn orbitals(spectrum: &RadialSpectrum) -> Result<Orbitals, ManyBodyError> {
    let mut energy = Vec::new();
    let mut kinetic = Vec::new();
    for level in &spectrum.levels {
        for _ in 0..level.degeneracy {
            energy.push(level.energy);
            kinetic.push(level.kinetic);
        }
    }
    Orbitals::new(energy, kinetic)?.with_dimension(spectrum.dimension())
}
