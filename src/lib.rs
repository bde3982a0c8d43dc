//! confine: quantum states and thermodynamics of confined particles on finite-difference grids.
//!
//! Atomic units throughout (ħ = mₑ = e = k_B = 1): energies in Hartree, lengths in bohr,
//! masses in electron masses. The pipeline runs one way:
//! [`model`] (potential → grid → Hamiltonian) → [`eigen`] → [`spectrum`] → [`checks`] and
//! [`physics`] (thermodynamics, N fermions, Coulomb) → [`pipeline`] (config, study, sweep,
//! output).

pub mod checks;
pub mod eigen;
pub mod hash;
pub mod model;
pub mod physics;
pub mod pipeline;
pub mod resources;
pub mod spectrum;
