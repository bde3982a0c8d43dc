//! confine: quantum states and thermodynamics of confined particles on finite-difference grids.
//!
//! Atomic units throughout (ħ = mₑ = e = k_B = 1): energies in Hartree, lengths in bohr,
//! masses in electron masses. The pipeline runs one way:
//! config → [`potential`] → [`grid`] → [`hamiltonian`] → [`eigen`] → [`spectrum`].

pub mod analytic;
pub mod config;
pub mod converge;
pub mod coulomb;
pub mod eigen;
pub mod grid;
pub mod hamiltonian;
pub mod hash;
pub mod many_body;
pub mod output;
pub mod potential;
pub mod resources;
pub mod spectrum;
pub mod study;
pub mod sweep;
pub mod tabulated;
pub mod thermo;
pub mod units;
pub mod validate;
