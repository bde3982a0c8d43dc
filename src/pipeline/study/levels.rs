//! The levels of a case whatever its geometry: the slab's spectrum, or the (n, l) levels of a
//! sphere's or cylinder's channels with their degeneracies. Every stage of the study reads the
//! levels through [`CaseSpectrum`] (energies, ⟨K⟩, degeneracies g, the dimension d of T^(K),
//! the cutoff above which every omitted level lies and how many there may be), so the slab
//! and the radial cases run through the same stages, thermodynamics and outputs.

use crate::channels::RadialSpectrum;
use crate::model::grid::Grid;
use crate::physics::many_body::{ManyBodyError, Orbitals};
use crate::physics::radial;
use crate::physics::thermo::{StateList, ThermoError};
use crate::spectrum::Spectrum;

/// The computed levels of a case (energies in Hartree).
#[derive(Debug, Clone)]
pub enum CaseSpectrum {
    /// The 1-D spectrum of the slab (each level g = 1, d = 1).
    Slab(Spectrum),
    /// The (n, l) levels of a sphere (g = 2l + 1, d = 3) or a cylinder (g = 1 or 2, d = 2).
    Radial(RadialSpectrum),
}

impl CaseSpectrum {
    /// The slab's spectrum (`None` for a sphere or cylinder).
    pub fn slab(&self) -> Option<&Spectrum> {
        match self {
            Self::Slab(s) => Some(s),
            Self::Radial(_) => None,
        }
    }

    /// The radial levels (`None` for the slab).
    pub fn radial(&self) -> Option<&RadialSpectrum> {
        match self {
            Self::Slab(_) => None,
            Self::Radial(r) => Some(r),
        }
    }

    /// Number of levels ((n, l) levels once each, whatever their degeneracy).
    pub fn len(&self) -> usize {
        match self {
            Self::Slab(s) => s.levels.len(),
            Self::Radial(r) => r.levels.len(),
        }
    }

    /// True when there is no level.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// E of every level (Hartree), ascending.
    pub fn energies(&self) -> Vec<f64> {
        match self {
            Self::Slab(s) => s.energies(),
            Self::Radial(r) => r.energies(),
        }
    }

    /// ⟨K⟩ of every level (Hartree).
    pub fn kinetic(&self) -> Vec<f64> {
        match self {
            Self::Slab(s) => s.kinetic(),
            Self::Radial(r) => r.kinetic(),
        }
    }

    /// Spatial dimension d of T^(K) = (2/d) K / N: 1 (slab), 3 (sphere), 2 (cylinder).
    pub fn dimension(&self) -> u8 {
        match self {
            Self::Slab(_) => 1,
            Self::Radial(r) => r.dimension(),
        }
    }

    /// The grid of the levels (the slab's [−L, L], or the radial [0, R]; bohr).
    pub fn grid(&self) -> &Grid {
        match self {
            Self::Slab(s) => &s.grid,
            Self::Radial(r) => &r.grid,
        }
    }

    /// One particle in these levels: multiplicity = orbital degeneracy, dimension d.
    pub fn state_list(&self) -> Result<StateList, ThermoError> {
        match self {
            Self::Slab(s) => StateList::single_particle(s.energies(), s.kinetic()),
            Self::Radial(r) => radial::state_list(r),
        }
    }

    /// The orbitals of N fermions: every orbital of every level (a level of degeneracy g is g
    /// orbitals), as a truncated set in dimension d.
    pub fn orbitals(&self) -> Result<Orbitals, ManyBodyError> {
        match self {
            Self::Slab(s) => Orbitals::from_spectrum(s),
            Self::Radial(r) => radial::orbitals(r),
        }
    }

    /// Every omitted level lies at or above this energy (Hartree): the slab's Sturm cutoff, or
    /// the cap of the channel completeness proof.
    pub fn cutoff(&self) -> f64 {
        match self {
            Self::Slab(s) => s.report.sturm_cutoff,
            Self::Radial(r) => r.completeness.cap,
        }
    }

    /// How many omitted orbitals the truncation bounds at temperature `temperature` (Hartree)
    /// must assume at [`CaseSpectrum::cutoff`]: the slab's grid nodes minus its levels; for a
    /// sphere or cylinder Σ g e^{−(E − cutoff)/T} over every omitted level, bounded by
    /// [`RadialSpectrum::omitted_weight`].
    pub fn omitted_at_cutoff(&self, temperature: f64) -> f64 {
        match self {
            Self::Slab(s) => (s.grid.interior_len() - s.levels.len()) as f64,
            Self::Radial(r) => r.omitted_weight(temperature),
        }
    }

    /// [`CaseSpectrum::omitted_at_cutoff`] as a number of orbitals for the canonical bound of
    /// N fermions ([`crate::physics::thermo::fermions::fermion_truncation_bound`]), which
    /// counts subsets of omitted orbitals by binomials C(q, m), m ≤ N: for a sphere or cylinder
    /// q = ⌈w⌉ + N with the weight w, since C(⌈w⌉ + N, m) ≥ w^m / m! ≥ e_m of the omitted
    /// Boltzmann factors (in units of the cutoff's) for every m ≤ N.
    pub fn omitted_orbitals(&self, temperature: f64, particles: usize) -> f64 {
        match self {
            Self::Slab(_) => self.omitted_at_cutoff(temperature),
            Self::Radial(r) => r.omitted_weight(temperature).ceil() + particles as f64,
        }
    }
}
