//! The physics of the paper on top of the one-particle levels: the thermodynamics of a list of
//! states ([`thermo`]), N non-interacting fermions ([`many_body`]) and two electrons with the
//! Coulomb interaction ([`coulomb`]).

pub mod coulomb;
pub mod many_body;
pub mod radial;
pub mod thermo;
