//! The model: what is solved. Physical units and quantities, the potential V(x) (pieces,
//! presets, tabulated tables), the grid aligned to its breakpoints, and the symmetric
//! tridiagonal Hamiltonian H = −½ d/dx (1/m) d/dx + V on that grid; a [`problem::Problem`]
//! bundles a potential with the particle's mass, the grid spacing and the levels to solve.

pub mod grid;
pub mod hamiltonian;
pub mod potential;
pub mod problem;
pub mod radial;
pub mod sparse;
pub mod units;
