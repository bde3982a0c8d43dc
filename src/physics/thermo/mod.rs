//! Thermodynamics of the states of a confined N-particle system (the paper's eqs. (2)–(7)).
//!
//! One thermodynamics serves N = 1 (the single-particle levels), N > 1 (non-interacting
//! fermion states) and the Coulomb N = 2 spectrum: the input is a [`StateList`], the states of an
//! N-particle system ascending in total energy E_i, each with its total kinetic energy
//! K_i = ⟨K⟩_i and an integer multiplicity g_i ≥ 1 (exactly degenerate copies, e.g. spin). Two
//! different states with equal or nearly equal energies are separate entries; only g counts
//! exact copies.
//!
//! - [`microcanonical`]: Hertz (volume) entropy S(E) = ln Ω(E), Ω(E) = Σ g_i over E_i ≤ E, and
//!   the microcanonical temperature T^(μ) = ΔE_n/ΔS_n by finite differences, eq. (2).
//! - [`kinetic`]: the kinetic temperature T^(K)_n = (2/d) ⟨K⟩_n / N, eq. (3), and its window
//!   average T_E^(K) = (2/d) K_E / N over the states in [E, E + ε), eqs. (4)–(7).
//! - [`canonical`]: Z, U, S, C, F and the inverse T^(C)(E) of U(T) = E, behind the
//!   [`CanonicalModel`] trait so that other canonical models (an N-fermion recursion) plug in.
//! - [`nhc`]: the negative-heat-capacity intervals of a temperature curve T(E).
//!
//! Atomic units with k_B = 1: energies and temperatures in Hartree, entropies dimensionless,
//! heat capacities dimensionless (k_B = 1). The spatial dimension is d = 1.

pub mod canonical;
pub mod fermions;
pub mod kinetic;
pub mod microcanonical;
pub mod nhc;

pub use canonical::{
    canonical_curve, canonical_point, canonical_temperature, canonical_temperatures,
    truncation_bound, CanonicalModel, CanonicalPoint, Moments,
};
pub use kinetic::{
    kinetic_temperature, window_averages, window_kinetic_temperature, WindowAverage, DIMENSION,
};
pub use microcanonical::{
    distinct_levels, hertz_entropy, microcanonical_temperature,
    per_state_microcanonical_temperature, Difference, Level,
};
pub use nhc::{largest_drop, nhc_intervals, nhc_intervals_by, NhcInterval};

use serde::Serialize;
use thiserror::Error;

/// Why a thermodynamic quantity could not be computed: what was wrong and what would be valid.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ThermoError {
    /// The per-state vectors have different lengths.
    #[error("the state list needs one energy, one kinetic energy and one multiplicity per state, got {energy} energies, {kinetic} kinetic energies and {multiplicity} multiplicities")]
    LengthMismatch {
        /// Number of energies.
        energy: usize,
        /// Number of kinetic energies.
        kinetic: usize,
        /// Number of multiplicities.
        multiplicity: usize,
    },
    /// No states at all.
    #[error("the state list is empty; at least one state is needed")]
    Empty,
    /// The particle number is zero.
    #[error("the particle number N must be at least 1, got 0")]
    ZeroParticles,
    /// An energy is NaN or infinite.
    #[error("the energy of state {index} must be a finite number (Hartree), got {value}")]
    NonFiniteEnergy {
        /// Index of the state.
        index: usize,
        /// The offending value (Hartree).
        value: f64,
    },
    /// Energies are not in ascending (non-decreasing) order.
    #[error("state energies must be ascending (non-decreasing), but state {index} has E = {value} Hartree, below the previous state with E = {previous} Hartree; sort the states by energy")]
    Unsorted {
        /// Index of the first state out of order.
        index: usize,
        /// Energy of the state before it (Hartree).
        previous: f64,
        /// Its energy (Hartree).
        value: f64,
    },
    /// A kinetic energy is NaN, infinite or negative.
    #[error("the kinetic energy of state {index} must be a finite non-negative number (Hartree), got {value}")]
    InvalidKinetic {
        /// Index of the state.
        index: usize,
        /// The offending value (Hartree).
        value: f64,
    },
    /// A multiplicity is zero.
    #[error("the multiplicity of state {index} must be at least 1 (it counts exactly degenerate copies), got 0")]
    ZeroMultiplicity {
        /// Index of the state.
        index: usize,
    },
    /// The total multiplicity does not fit in 64 bits.
    #[error(
        "the multiplicities add up to more than {} states; Ω(E) cannot be counted",
        u64::MAX
    )]
    MultiplicityOverflow,
    /// The microcanonical window width is not a positive finite energy.
    #[error("the window width ε must be a positive finite energy (Hartree), got {0}")]
    InvalidWindow(f64),
    /// A grid energy is NaN or infinite.
    #[error("grid energy {index} must be a finite number (Hartree), got {value}")]
    NonFiniteGrid {
        /// Index in the grid.
        index: usize,
        /// The offending value (Hartree).
        value: f64,
    },
    /// The energy grid is not ascending.
    #[error("the energy grid must be ascending (non-decreasing), but grid point {index} = {value} Hartree is below the previous point {previous} Hartree")]
    UnsortedGrid {
        /// Index of the first grid point out of order.
        index: usize,
        /// The grid point before it (Hartree).
        previous: f64,
        /// The grid point (Hartree).
        value: f64,
    },
    /// A temperature is not positive and finite.
    #[error("the {what} must be a positive finite temperature (Hartree), got {value}")]
    InvalidTemperature {
        /// Which temperature (e.g. "temperature", "t_min").
        what: &'static str,
        /// The offending value (Hartree).
        value: f64,
    },
    /// The temperature search range is empty.
    #[error("the temperature range needs 0 < t_min < t_max, got t_min = {t_min} and t_max = {t_max} Hartree")]
    InvalidTemperatureRange {
        /// Lower end (Hartree).
        t_min: f64,
        /// Upper end (Hartree).
        t_max: f64,
    },
    /// A target energy is NaN or infinite.
    #[error("the energy must be a finite number (Hartree), got {0}")]
    NonFiniteTarget(f64),
    /// U(T) = E has no solution with T > 0 because E is at or below the ground energy (or within
    /// 2ε|E_0| above it, where rounding leaves T undetermined).
    #[error("no temperature has U(T) = {energy} Hartree: the energy must lie above the ground energy {ground} Hartree (T → 0) by more than rounding and below the infinite-temperature limit {limit} Hartree")]
    EnergyAtOrBelowGround {
        /// The requested energy (Hartree).
        energy: f64,
        /// The ground energy (Hartree).
        ground: f64,
        /// U in the T → ∞ limit (Hartree).
        limit: f64,
    },
    /// U(T) = E has no solution because the finite spectrum never reaches E.
    #[error("no temperature has U(T) = {energy} Hartree: the energy must lie strictly between the ground energy {ground} Hartree and the infinite-temperature limit {limit} Hartree (the mean over all states of this finite spectrum)")]
    EnergyAboveLimit {
        /// The requested energy (Hartree).
        energy: f64,
        /// The ground energy (Hartree).
        ground: f64,
        /// U in the T → ∞ limit (Hartree).
        limit: f64,
    },
    /// U(T) = E lies outside the search range [t_min, t_max].
    #[error("U(T) = {energy} Hartree is not reached for T in [{t_min}, {t_max}] Hartree, where U runs from {u_min} to {u_max} Hartree; widen the temperature range (the model reaches ({ground}, {limit}) Hartree)")]
    OutsideTemperatureRange {
        /// The requested energy (Hartree).
        energy: f64,
        /// Lower end of the search (Hartree).
        t_min: f64,
        /// Upper end of the search (Hartree).
        t_max: f64,
        /// U(t_min) (Hartree).
        u_min: f64,
        /// U(t_max) (Hartree).
        u_max: f64,
        /// The ground energy (Hartree).
        ground: f64,
        /// U in the T → ∞ limit (Hartree).
        limit: f64,
    },
    /// The root finder did not converge (should not happen for a monotone U(T)).
    #[error("the search for U(T) = {energy} Hartree did not converge within {iterations} iterations (bracket [{t_low}, {t_high}] Hartree); U(T) may not be monotone")]
    NoConvergence {
        /// The requested energy (Hartree).
        energy: f64,
        /// Iterations spent.
        iterations: usize,
        /// Lower end of the last bracket (Hartree).
        t_low: f64,
        /// Upper end of the last bracket (Hartree).
        t_high: f64,
    },
    /// A scalar parameter is out of its valid range.
    #[error("{name} must be {expected}, got {value}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// What would be valid.
        expected: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A point of a temperature curve has a non-finite energy or temperature.
    #[error("point {index} of the temperature curve must have a finite energy and, if present, a finite temperature (Hartree), got E = {energy}, T = {temperature:?}")]
    NonFinitePoint {
        /// Index of the point.
        index: usize,
        /// Its energy (Hartree).
        energy: f64,
        /// Its temperature (Hartree).
        temperature: Option<f64>,
    },
    /// An error reported by another [`CanonicalModel`] implementation.
    #[error("canonical model: {0}")]
    Model(String),
}

/// Σ g_i E_i / Σ g_i (Hartree), summed relative to E_0 with compensation.
fn mean_energy(energy: &[f64], multiplicity: &[u64], total: u64) -> f64 {
    let e0 = energy[0];
    let mut sum = NeumaierSum::default();
    for (&e, &g) in energy.iter().zip(multiplicity) {
        sum.add(g as f64 * (e - e0));
    }
    e0 + sum.value() / total as f64
}

/// States of an N-particle system, ascending in energy (Hartree), with kinetic energies
/// (Hartree) and multiplicities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateList {
    energy: Vec<f64>,
    kinetic: Vec<f64>,
    multiplicity: Vec<u64>,
    particles: usize,
    /// Σ g_i (exact).
    total_multiplicity: u64,
    /// Σ g_i E_i / Σ g_i (Hartree), the T → ∞ limit of U.
    mean_energy: f64,
    /// Spatial dimension d of the kinetic temperature (2/d) K / N: 1 (slab, the paper), 2
    /// (cylinder cross-section), 3 (sphere). Not serialized: slab outputs are unchanged.
    #[serde(skip)]
    dimension: f64,
}

impl StateList {
    /// Validates and builds a state list: equal lengths, non-empty, finite ascending energies
    /// (Hartree), finite non-negative kinetic energies (Hartree), g ≥ 1, N ≥ 1.
    pub fn new(
        energy: Vec<f64>,
        kinetic: Vec<f64>,
        multiplicity: Vec<u64>,
        particles: usize,
    ) -> Result<Self, ThermoError> {
        if particles == 0 {
            return Err(ThermoError::ZeroParticles);
        }
        if energy.len() != kinetic.len() || energy.len() != multiplicity.len() {
            return Err(ThermoError::LengthMismatch {
                energy: energy.len(),
                kinetic: kinetic.len(),
                multiplicity: multiplicity.len(),
            });
        }
        if energy.is_empty() {
            return Err(ThermoError::Empty);
        }
        for (index, &value) in energy.iter().enumerate() {
            if !value.is_finite() {
                return Err(ThermoError::NonFiniteEnergy { index, value });
            }
            if index > 0 && value < energy[index - 1] {
                return Err(ThermoError::Unsorted {
                    index,
                    previous: energy[index - 1],
                    value,
                });
            }
        }
        for (index, &value) in kinetic.iter().enumerate() {
            if !(value.is_finite() && value >= 0.0) {
                return Err(ThermoError::InvalidKinetic { index, value });
            }
        }
        let mut total: u64 = 0;
        for (index, &g) in multiplicity.iter().enumerate() {
            if g == 0 {
                return Err(ThermoError::ZeroMultiplicity { index });
            }
            total = total
                .checked_add(g)
                .ok_or(ThermoError::MultiplicityOverflow)?;
        }
        let mean_energy = mean_energy(&energy, &multiplicity, total);
        Ok(Self {
            energy,
            kinetic,
            multiplicity,
            particles,
            total_multiplicity: total,
            mean_energy,
            dimension: DIMENSION,
        })
    }

    /// The same states with kinetic temperatures (2/d) K / N in `dimension` d = 1, 2 or 3
    /// (the default is 1, the paper's slab).
    pub fn with_dimension(mut self, dimension: u8) -> Result<Self, ThermoError> {
        if !(1..=3).contains(&dimension) {
            return Err(ThermoError::InvalidParameter {
                name: "the spatial dimension d",
                expected: "1, 2 or 3",
                value: f64::from(dimension),
            });
        }
        self.dimension = f64::from(dimension);
        Ok(self)
    }

    /// Spatial dimension d of T^(K) = (2/d) K / N.
    pub fn dimension(&self) -> f64 {
        self.dimension
    }

    /// Single-particle levels (N = 1, g = 1): energies and kinetic energies in Hartree.
    pub fn single_particle(energy: Vec<f64>, kinetic: Vec<f64>) -> Result<Self, ThermoError> {
        let multiplicity = vec![1; energy.len()];
        Self::new(energy, kinetic, multiplicity, 1)
    }

    /// Total energies E_i (Hartree), ascending.
    pub fn energy(&self) -> &[f64] {
        &self.energy
    }

    /// Total kinetic energies K_i = ⟨K⟩_i (Hartree).
    pub fn kinetic(&self) -> &[f64] {
        &self.kinetic
    }

    /// Multiplicities g_i ≥ 1 (number of exactly degenerate copies of each state).
    pub fn multiplicity(&self) -> &[u64] {
        &self.multiplicity
    }

    /// Particle number N ≥ 1.
    pub fn particles(&self) -> usize {
        self.particles
    }

    /// Number of entries (states counted once, whatever their multiplicity).
    pub fn len(&self) -> usize {
        self.energy.len()
    }

    /// Always false: a validated state list has at least one state.
    pub fn is_empty(&self) -> bool {
        self.energy.is_empty()
    }

    /// The same states with energies that lie within `tolerance` (Hartree) of the lowest
    /// energy of their run made exactly equal to it: states degenerate in exact arithmetic whose
    /// computed energies differ by rounding (e.g. the singlet and triplet of one orbital pair
    /// without interaction, from two different block diagonalizations) then form one level of
    /// the microcanonical ensemble, as they must. Without this, a difference of 1e-17 Ha decides
    /// whether Ω(E) rises in one step or two, and T^(μ) of the neighbouring levels changes by
    /// tens of per cent. A run is anchored at its first energy, so a chain of close energies
    /// never drifts by more than `tolerance` in total.
    pub fn with_degenerate_within(mut self, tolerance: f64) -> Self {
        self.energy = level_anchors(&self.energy, tolerance);
        self.mean_energy = mean_energy(&self.energy, &self.multiplicity, self.total_multiplicity);
        self
    }

    /// Σ g_i: the number of states counted with multiplicity.
    pub fn total_multiplicity(&self) -> u64 {
        self.total_multiplicity
    }

    /// The energies E_i and kinetic energies K_i (Hartree) and the multiplicities g_i, moved
    /// out instead of copied.
    pub fn into_parts(self) -> (Vec<f64>, Vec<f64>, Vec<u64>) {
        (self.energy, self.kinetic, self.multiplicity)
    }

    /// Lowest energy E_0 (Hartree).
    pub fn ground_energy(&self) -> f64 {
        self.energy[0]
    }

    /// Multiplicity-weighted mean energy Σ g_i E_i / Σ g_i (Hartree): U in the T → ∞ limit.
    pub fn mean_energy(&self) -> f64 {
        self.mean_energy
    }
}

/// For ascending `energies` (Hartree), the lowest energy of each one's run: a run starts at an
/// energy more than `tolerance` above the start of the previous run and holds every energy
/// within `tolerance` of its start (anchored, so a chain of close energies never drifts).
pub fn level_anchors(energies: &[f64], tolerance: f64) -> Vec<f64> {
    let mut anchor = f64::NEG_INFINITY;
    energies
        .iter()
        .map(|&e| {
            // Not within (a NaN difference too): a new run.
            if (e - anchor).partial_cmp(&tolerance) == Some(std::cmp::Ordering::Greater)
                || (e - anchor).is_nan()
            {
                anchor = e;
            }
            anchor
        })
        .collect()
}

/// Neumaier (improved Kahan) compensated sum.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NeumaierSum {
    sum: f64,
    compensation: f64,
}

impl NeumaierSum {
    /// Adds one term.
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The compensated sum.
    pub(crate) fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}
