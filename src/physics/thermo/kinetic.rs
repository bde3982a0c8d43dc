//! Kinetic temperatures: per state, eq. (3), and averaged over an energy window, eqs. (4)–(7).
//!
//! - [`kinetic_temperature`]: T^(K)_i = (2/d) K_i / N, eq. (3), with K_i = ⟨K⟩_i the total
//!   kinetic energy of state i and d = [`StateList::dimension`] (1 for the slab).
//! - [`window_averages`] / [`window_kinetic_temperature`]: for each grid energy E the window
//!   I_E = {i | E ≤ E_i < E + ε}, eq. (4); K_E = the mean of K_i over the states of the window,
//!   eq. (6), each state weighted by its multiplicity g_i (g exact copies are g states of I_E);
//!   T_E^(K) = (2/d) K_E / N, eq. (7). Empty windows have no temperature.
//!
//! The upper window edge is the floating-point sum E + ε. The windows are found with two
//! pointers over the sorted states (both edges move up with E), the weights Σ g by exact
//! integer prefix sums and Σ g K by a segment tree of non-negative partial sums, so a window sum
//! has no cancellation (relative error ~ log₂M · 1e-16) and the cost is O(M + G log M) for M
//! states and G grid energies.

use super::{StateList, ThermoError};
use serde::Serialize;

/// Spatial dimension d in T = (2/d) K / N of the slab, the default of every
/// [`StateList`] (dimensionless).
pub const DIMENSION: f64 = 1.0;

/// T^(K)_i = (2/d) K_i / N (Hartree) for every state, eq. (3).
pub fn kinetic_temperature(states: &StateList) -> Vec<f64> {
    let factor = 2.0 / (states.dimension() * states.particles() as f64);
    states.kinetic().iter().map(|&k| factor * k).collect()
}

/// The microcanonical window [E, E + ε) at one grid energy, eqs. (4)–(7).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowAverage {
    /// Lower edge E of the window (Hartree).
    pub energy: f64,
    /// Number of state-list entries with E ≤ E_i < E + ε.
    pub states: usize,
    /// N_I = Σ g over those entries (dimensionless count).
    pub weight: u64,
    /// K_E, the multiplicity-weighted mean kinetic energy of the window (Hartree); None if empty.
    pub kinetic: Option<f64>,
    /// T_E^(K) = (2/d) K_E / N (Hartree); None if the window is empty.
    pub temperature: Option<f64>,
}

/// Iterative segment tree of non-negative sums (no cancellation in range queries).
struct SumTree {
    n: usize,
    node: Vec<f64>,
}

impl SumTree {
    fn new(values: impl ExactSizeIterator<Item = f64>) -> Self {
        let n = values.len();
        let mut node = vec![0.0; 2 * n];
        for (i, v) in values.enumerate() {
            node[n + i] = v;
        }
        for i in (1..n).rev() {
            node[i] = node[2 * i] + node[2 * i + 1];
        }
        Self { n, node }
    }

    /// Σ values[lo..hi].
    fn sum(&self, lo: usize, hi: usize) -> f64 {
        let (mut l, mut r) = (lo + self.n, hi + self.n);
        let mut s = 0.0;
        while l < r {
            if l & 1 == 1 {
                s += self.node[l];
                l += 1;
            }
            if r & 1 == 1 {
                r -= 1;
                s += self.node[r];
            }
            l >>= 1;
            r >>= 1;
        }
        s
    }
}

/// Window averages at each grid energy (Hartree) with window width `eps` (Hartree), eqs. (4)–(7).
///
/// The grid must be finite and ascending (non-decreasing); `eps` must be positive and finite.
pub fn window_averages(
    states: &StateList,
    energy_grid: &[f64],
    eps: f64,
) -> Result<Vec<WindowAverage>, ThermoError> {
    if !(eps.is_finite() && eps > 0.0) {
        return Err(ThermoError::InvalidWindow(eps));
    }
    for (index, &value) in energy_grid.iter().enumerate() {
        if !value.is_finite() {
            return Err(ThermoError::NonFiniteGrid { index, value });
        }
        if index > 0 && value < energy_grid[index - 1] {
            return Err(ThermoError::UnsortedGrid {
                index,
                previous: energy_grid[index - 1],
                value,
            });
        }
    }
    let energy = states.energy();
    let g = states.multiplicity();
    let m = energy.len();
    // Exact integer prefix sums of g (the total was checked to fit in u64).
    let mut weight_prefix = Vec::with_capacity(m + 1);
    weight_prefix.push(0u64);
    let mut acc = 0u64;
    for &gi in g {
        acc += gi;
        weight_prefix.push(acc);
    }
    let tree = SumTree::new(
        states
            .kinetic()
            .iter()
            .zip(g)
            .map(|(&k, &gi)| gi as f64 * k),
    );
    let factor = 2.0 / (states.dimension() * states.particles() as f64);
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut out = Vec::with_capacity(energy_grid.len());
    for &e in energy_grid {
        let upper = e + eps;
        while lo < m && energy[lo] < e {
            lo += 1;
        }
        if hi < lo {
            hi = lo;
        }
        while hi < m && energy[hi] < upper {
            hi += 1;
        }
        let weight = weight_prefix[hi] - weight_prefix[lo];
        let kinetic = (hi > lo).then(|| tree.sum(lo, hi) / weight as f64);
        out.push(WindowAverage {
            energy: e,
            states: hi - lo,
            weight,
            kinetic,
            temperature: kinetic.map(|k| factor * k),
        });
    }
    Ok(out)
}

/// T_E^(K) = (2/d) K_E / N (Hartree) at each grid energy (Hartree), window width `eps`
/// (Hartree), eqs. (4)–(7); None where the window [E, E + ε) holds no state.
pub fn window_kinetic_temperature(
    states: &StateList,
    energy_grid: &[f64],
    eps: f64,
) -> Result<Vec<Option<f64>>, ThermoError> {
    Ok(window_averages(states, energy_grid, eps)?
        .into_iter()
        .map(|w| w.temperature)
        .collect())
}
