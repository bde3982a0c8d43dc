//! The checks: the exact finite well in a box ([`analytic`]), the convergence of the grid
//! levels to it ([`validate`]) and the self-convergence of any potential ([`converge`]).

pub mod analytic;
pub mod converge;
pub mod validate;
