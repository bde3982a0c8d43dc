//! The checks: the exact finite well in a box ([`analytic`]), the convergence of the grid
//! levels to it ([`validate`]) and the self-convergence of any potential ([`converge`]), both
//! measured on the nested grids of [`refinement`].

pub mod analytic;
pub mod bessel;
pub mod converge;
pub mod radial_exact;
pub mod refinement;
pub mod validate;
pub mod validate_radial;
