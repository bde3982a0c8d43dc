//! The levels of a sphere or cylinder ([`crate::channels`]) as input of the one thermodynamics
//! and of the N-fermion ensembles: nothing here computes a temperature.
//!
//! - [`state_list`]: the one-particle states, one per (n, l) level with multiplicity = its
//!   orbital degeneracy (2l + 1, or 1 / 2), and the dimension of T^(K) = (2/d) K / N (3 for the
//!   sphere, 2 for the cylinder's cross-section).
//! - [`orbitals`]: every orbital of every level as a separate orbital (a level of degeneracy g
//!   is g orbitals of equal energy), so that the enumeration and the binned counting of N
//!   fermions fill degenerate shells correctly: each orbital takes `Spin::capacity` particles.
//! - [`one_particle_thermodynamics`]: T^(K), S, T^(μ), the canonical table, T^(C)(E), T_E^(K)
//!   and the NHC intervals of any state list (one particle, or N fermions from
//!   [`crate::physics::many_body::enumerate`]), composed from [`crate::physics::thermo`].

use crate::channels::RadialSpectrum;
use crate::physics::many_body::{ManyBodyError, Orbitals};
use crate::physics::thermo::canonical::{canonical_curve, canonical_temperatures, CanonicalPoint};
use crate::physics::thermo::kinetic::{kinetic_temperature, window_averages};
use crate::physics::thermo::microcanonical::{
    hertz_entropy, per_state_microcanonical_temperature, Difference,
};
use crate::physics::thermo::nhc::{nhc_intervals, NhcInterval};
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

/// What [`one_particle_thermodynamics`] computes on (energies in Hartree).
#[derive(Debug, Clone, PartialEq)]
pub struct ThermoSettings {
    /// Temperatures of the canonical table (Hartree), ascending; their range bounds T^(C)(E).
    pub temperatures: Vec<f64>,
    /// Energies E of T^(C)(E) and of the windows [E, E + ε) of T_E^(K) (Hartree).
    pub energy_grid: Vec<f64>,
    /// Window width ε of T_E^(K) (Hartree).
    pub epsilon: f64,
    /// Finite difference of T^(μ).
    pub difference: Difference,
    /// Relative tolerance of the NHC intervals (dimensionless, [`nhc_intervals`]).
    pub nhc_tolerance: f64,
}

/// The one-particle thermodynamics of a state list, every quantity from the one thermodynamics
/// of [`crate::physics::thermo`] (temperatures in Hartree, entropies dimensionless).
#[derive(Debug, Clone)]
pub struct Thermodynamics {
    /// T^(K) = (2/d) K / N per state.
    pub t_kinetic: Vec<f64>,
    /// Hertz entropy ln Ω(E) per state.
    pub entropy: Vec<f64>,
    /// T^(μ) per state (None at the ends).
    pub t_micro: Vec<Option<f64>>,
    /// U, S, C, F at [`ThermoSettings::temperatures`].
    pub canonical: Vec<CanonicalPoint>,
    /// T^(C)(E) on the energy grid (None where U(T) does not reach E in the range).
    pub t_canonical: Vec<Option<f64>>,
    /// T_E^(K) on the energy grid (None for an empty window).
    pub t_window: Vec<Option<f64>>,
    /// NHC intervals of T^(K)(E_i).
    pub nhc_kinetic: Vec<NhcInterval>,
    /// NHC intervals of T_E^(K)(E).
    pub nhc_window: Vec<NhcInterval>,
}

/// Every one-particle temperature of `states` and their negative-heat-capacity intervals.
pub fn one_particle_thermodynamics(
    states: &StateList,
    settings: &ThermoSettings,
) -> Result<Thermodynamics, ThermoError> {
    let t_kinetic = kinetic_temperature(states);
    let canonical = canonical_curve(states, &settings.temperatures)?;
    let (t_min, t_max) = match settings.temperatures.as_slice() {
        [first, .., last] => (*first, *last),
        _ => {
            return Err(ThermoError::InvalidParameter {
                name: "the number of canonical temperatures",
                expected: "at least 2",
                value: settings.temperatures.len() as f64,
            })
        }
    };
    let t_canonical = canonical_temperatures(states, &settings.energy_grid, t_min, t_max)?
        .into_iter()
        .map(Result::ok)
        .collect();
    let t_window: Vec<Option<f64>> =
        window_averages(states, &settings.energy_grid, settings.epsilon)?
            .into_iter()
            .map(|w| w.temperature)
            .collect();
    let per_level: Vec<(f64, Option<f64>)> = states
        .energy()
        .iter()
        .zip(&t_kinetic)
        .map(|(&e, &t)| (e, Some(t)))
        .collect();
    let on_grid: Vec<(f64, Option<f64>)> = settings
        .energy_grid
        .iter()
        .copied()
        .zip(t_window.iter().copied())
        .collect();
    Ok(Thermodynamics {
        entropy: hertz_entropy(states),
        t_micro: per_state_microcanonical_temperature(states, settings.difference),
        nhc_kinetic: nhc_intervals(&per_level, settings.nhc_tolerance)?,
        nhc_window: nhc_intervals(&on_grid, settings.nhc_tolerance)?,
        t_kinetic,
        canonical,
        t_canonical,
        t_window,
    })
}
