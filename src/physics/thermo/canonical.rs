//! Canonical ensemble: Z, U, S, C, F at temperature T, and the canonical temperature T^(C)(E).
//!
//! The ensemble is reached through the [`CanonicalModel`] trait, so that a finite state list
//! ([`StateList`], implemented here) and other models (e.g. an N-fermion recursion over
//! single-particle levels) share [`canonical_point`], [`canonical_curve`] and the inversion
//! [`canonical_temperature`].
//!
//! For a state list, Z = Σ g_i exp(−E_i/T) is summed on ground-shifted energies
//! (log-sum-exp): Z' = Σ g_i exp(−(E_i − E_0)/T), ln Z = ln Z' − E_0/T, with compensated sums;
//! U = E_0 + ⟨E − E_0⟩, the variance ⟨(E − U)²⟩ by a second pass (no ⟨E²⟩ − U² cancellation),
//! S = U/T + ln Z = ⟨E − E_0⟩/T + ln Z' (no cancellation as T → 0), C = Var(E)/T²,
//! F = −T ln Z. States with (E_i − E_0)/T > 746 have weights below the smallest f64 and are
//! skipped. This is stable from T ≪ level spacing (Z' → g_0) to T ≫ spectrum width.
//!
//! T^(C)(E) solves U(T) = E (U is monotone: dU/dT = C ≥ 0) by Brent's method in ln T inside a
//! bracket, to a relative temperature tolerance of about 1e-14 (the residual |U(T) − E| is then
//! at rounding level). No initial guess is needed.

use super::{NeumaierSum, StateList, ThermoError};
use rayon::prelude::*;
use serde::Serialize;

/// Canonical moments at temperature T (Hartree): ln Z, U = ⟨E⟩, the variance ⟨E²⟩ − U² and S.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Moments {
    /// ln Z (dimensionless).
    pub ln_z: f64,
    /// U = ⟨E⟩ (Hartree).
    pub energy: f64,
    /// ⟨E²⟩ − U² (Hartree²).
    pub variance: f64,
    /// S = U/T + ln Z (dimensionless), computed by the model without the cancellation of the
    /// two terms as T → 0 (see [`Moments::from_shifted`]).
    pub entropy: f64,
}

impl Moments {
    /// Moments from sums over energies shifted by `shift` (Hartree, e.g. the ground energy) at
    /// `temperature` (Hartree): `ln_z_shifted` = ln Σ g exp(−(E − shift)/T),
    /// `excitation` = ⟨E − shift⟩ (Hartree), `variance` = ⟨(E − U)²⟩ (Hartree²).
    pub fn from_shifted(
        temperature: f64,
        shift: f64,
        ln_z_shifted: f64,
        excitation: f64,
        variance: f64,
    ) -> Self {
        Self {
            ln_z: ln_z_shifted - shift / temperature,
            energy: shift + excitation,
            variance,
            entropy: excitation / temperature + ln_z_shifted,
        }
    }
}

/// A canonical model: its moments at any T > 0 (Hartree) and its T → 0 and T → ∞ limits.
pub trait CanonicalModel {
    /// Moments at `temperature` (Hartree, positive and finite).
    fn moments(&self, temperature: f64) -> Result<Moments, ThermoError>;
    /// Ground energy (Hartree): U in the T → 0 limit.
    fn ground_energy(&self) -> f64;
    /// U in the T → ∞ limit of the model (Hartree): the mean over all its states for a finite
    /// list.
    fn infinite_temperature_energy(&self) -> f64;
}

/// Checks that a temperature is positive and finite.
pub(crate) fn check_temperature(what: &'static str, value: f64) -> Result<(), ThermoError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ThermoError::InvalidTemperature { what, value })
    }
}

/// Exponent above which exp(−x) underflows to zero in f64.
const UNDERFLOW_EXPONENT: f64 = 746.0;

/// Shifted Boltzmann weights g_i exp(−(E_i − E_0)/T) of the states that do not underflow.
fn shifted_weights(states: &StateList, temperature: f64) -> Vec<f64> {
    let e0 = states.ground_energy();
    let mut weights = Vec::new();
    for (&e, &g) in states.energy().iter().zip(states.multiplicity()) {
        let x = (e - e0) / temperature;
        if x > UNDERFLOW_EXPONENT {
            // Energies are ascending: every later weight underflows too.
            break;
        }
        weights.push(g as f64 * (-x).exp());
    }
    weights
}

/// Z' = Σ w_i, compensated.
fn shifted_partition_function(weights: &[f64]) -> f64 {
    let mut z = NeumaierSum::default();
    for &w in weights {
        z.add(w);
    }
    z.value()
}

impl CanonicalModel for StateList {
    /// Z = Σ g_i exp(−E_i/T) on ground-shifted energies; moments by two compensated passes.
    fn moments(&self, temperature: f64) -> Result<Moments, ThermoError> {
        check_temperature("temperature", temperature)?;
        let e0 = self.ground_energy();
        let weights = shifted_weights(self, temperature);
        let z = shifted_partition_function(&weights);
        let mut first = NeumaierSum::default();
        for (&w, &e) in weights.iter().zip(self.energy()) {
            first.add(w * (e - e0));
        }
        let excitation = first.value() / z;
        let mut second = NeumaierSum::default();
        for (&w, &e) in weights.iter().zip(self.energy()) {
            let d = (e - e0) - excitation;
            second.add(w * d * d);
        }
        let variance = second.value() / z;
        Ok(Moments::from_shifted(
            temperature,
            e0,
            z.ln(),
            excitation,
            variance,
        ))
    }

    fn ground_energy(&self) -> f64 {
        StateList::ground_energy(self)
    }

    fn infinite_temperature_energy(&self) -> f64 {
        self.mean_energy()
    }
}

/// Canonical thermodynamics at one temperature (all energies and temperatures in Hartree).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CanonicalPoint {
    /// T (Hartree).
    pub temperature: f64,
    /// U = ⟨E⟩ (Hartree).
    pub energy: f64,
    /// S = U/T + ln Z (dimensionless, k_B = 1).
    pub entropy: f64,
    /// C = Var(E)/T² (dimensionless, k_B = 1).
    pub heat_capacity: f64,
    /// F = −T ln Z (Hartree).
    pub free_energy: f64,
}

/// U, S, C and F of a canonical model at `temperature` (Hartree).
pub fn canonical_point<M: CanonicalModel + ?Sized>(
    model: &M,
    temperature: f64,
) -> Result<CanonicalPoint, ThermoError> {
    check_temperature("temperature", temperature)?;
    let m = model.moments(temperature)?;
    Ok(CanonicalPoint {
        temperature,
        energy: m.energy,
        entropy: m.entropy,
        heat_capacity: m.variance / (temperature * temperature),
        free_energy: -temperature * m.ln_z,
    })
}

/// [`canonical_point`] at each temperature (Hartree), computed in parallel; the first error wins.
pub fn canonical_curve<M: CanonicalModel + Sync + ?Sized>(
    model: &M,
    temperatures: &[f64],
) -> Result<Vec<CanonicalPoint>, ThermoError> {
    temperatures
        .par_iter()
        .map(|&t| canonical_point(model, t))
        .collect()
}

/// Checks 0 < t_min < t_max < ∞.
fn check_range(t_min: f64, t_max: f64) -> Result<(), ThermoError> {
    check_temperature("lower end of the temperature range t_min", t_min)?;
    check_temperature("upper end of the temperature range t_max", t_max)?;
    if t_min < t_max {
        Ok(())
    } else {
        Err(ThermoError::InvalidTemperatureRange { t_min, t_max })
    }
}

/// Checks ground < E < U(∞).
fn check_target<M: CanonicalModel + ?Sized>(model: &M, energy: f64) -> Result<(), ThermoError> {
    if !energy.is_finite() {
        return Err(ThermoError::NonFiniteTarget(energy));
    }
    let ground = model.ground_energy();
    let limit = model.infinite_temperature_energy();
    if energy <= ground {
        return Err(ThermoError::EnergyAtOrBelowGround {
            energy,
            ground,
            limit,
        });
    }
    if energy >= limit {
        return Err(ThermoError::EnergyAboveLimit {
            energy,
            ground,
            limit,
        });
    }
    Ok(())
}

/// Error for E outside [U(t_min), U(t_max)].
fn outside<M: CanonicalModel + ?Sized>(
    model: &M,
    energy: f64,
    (t_min, u_min): (f64, f64),
    (t_max, u_max): (f64, f64),
) -> ThermoError {
    ThermoError::OutsideTemperatureRange {
        energy,
        t_min,
        t_max,
        u_min,
        u_max,
        ground: model.ground_energy(),
        limit: model.infinite_temperature_energy(),
    }
}

/// Tolerance on ln T of the root finder (≈ relative tolerance on T).
const LN_T_TOLERANCE: f64 = 1e-14;
/// Iteration cap of the root finder (bisection alone needs < 64 steps on any f64 bracket).
const MAX_ITERATIONS: usize = 300;

/// Brent's method on f(s) = U(e^s) − E with f(lo) < 0 < f(hi); returns T = e^s (Hartree).
fn solve_bracketed<M: CanonicalModel + ?Sized>(
    model: &M,
    energy: f64,
    (mut a, mut fa): (f64, f64),
    (mut b, mut fb): (f64, f64),
) -> Result<f64, ThermoError> {
    let f = |s: f64| -> Result<f64, ThermoError> { Ok(model.moments(s.exp())?.energy - energy) };
    let (mut c, mut fc) = (b, fb);
    let (mut d, mut e) = (b - a, b - a);
    for _ in 0..MAX_ITERATIONS {
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol1 = 2.0 * f64::EPSILON * b.abs() + 0.5 * LN_T_TOLERANCE;
        let xm = 0.5 * (c - b);
        if xm.abs() <= tol1 || fb == 0.0 {
            return Ok(b.exp());
        }
        if e.abs() >= tol1 && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * xm * s;
                q = 1.0 - s;
            } else {
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * xm * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            }
            p = p.abs();
            let min1 = 3.0 * xm * q - (tol1 * q).abs();
            let min2 = (e * q).abs();
            if 2.0 * p < min1.min(min2) {
                e = d;
                d = p / q;
            } else {
                d = xm;
                e = d;
            }
        } else {
            d = xm;
            e = d;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol1 { d } else { tol1.copysign(xm) };
        fb = f(b)?;
    }
    let (lo, hi) = if b < c { (b, c) } else { (c, b) };
    Err(ThermoError::NoConvergence {
        energy,
        iterations: MAX_ITERATIONS,
        t_low: lo.exp(),
        t_high: hi.exp(),
    })
}

/// T^(C)(E) (Hartree): the temperature in [t_min, t_max] (Hartree) at which U(T) = E (Hartree).
///
/// Errors: E at or below the ground energy (T would be 0), E at or above the infinite-temperature
/// limit (the finite spectrum cannot reach it), or E outside [U(t_min), U(t_max)]; each message
/// gives the reachable range.
pub fn canonical_temperature<M: CanonicalModel + ?Sized>(
    model: &M,
    energy: f64,
    t_min: f64,
    t_max: f64,
) -> Result<f64, ThermoError> {
    check_range(t_min, t_max)?;
    check_target(model, energy)?;
    let u_min = model.moments(t_min)?.energy;
    let u_max = model.moments(t_max)?.energy;
    solve_in_range(model, energy, (t_min, u_min), (t_max, u_max))
}

/// Solves U(T) = E knowing U at the two ends of a temperature bracket (Hartree).
fn solve_in_range<M: CanonicalModel + ?Sized>(
    model: &M,
    energy: f64,
    (t_lo, u_lo): (f64, f64),
    (t_hi, u_hi): (f64, f64),
) -> Result<f64, ThermoError> {
    if !(u_lo <= energy && energy <= u_hi) {
        return Err(outside(model, energy, (t_lo, u_lo), (t_hi, u_hi)));
    }
    if energy == u_lo {
        return Ok(t_lo);
    }
    if energy == u_hi {
        return Ok(t_hi);
    }
    solve_bracketed(
        model,
        energy,
        (t_lo.ln(), u_lo - energy),
        (t_hi.ln(), u_hi - energy),
    )
}

/// Nodes per decade of the U(T) table used by [`canonical_temperatures`] to bracket each root.
const TABLE_NODES_PER_DECADE: f64 = 16.0;

/// T^(C)(E) (Hartree) for many energies (Hartree) in [t_min, t_max] (Hartree), in parallel.
///
/// U is tabulated once on a logarithmic temperature grid; each energy is then solved by Brent's
/// method inside its table cell (a few model evaluations instead of ~40). The outer error is for
/// an invalid range; each energy has its own result (e.g. the ground state's energy is an error,
/// its T^(C) being 0).
pub fn canonical_temperatures<M: CanonicalModel + Sync + ?Sized>(
    model: &M,
    energies: &[f64],
    t_min: f64,
    t_max: f64,
) -> Result<Vec<Result<f64, ThermoError>>, ThermoError> {
    check_range(t_min, t_max)?;
    let (s_min, s_max) = (t_min.ln(), t_max.ln());
    let decades = (s_max - s_min) / std::f64::consts::LN_10;
    let nodes = ((decades * TABLE_NODES_PER_DECADE).ceil() as usize + 1).clamp(2, 20_000);
    let temperatures: Vec<f64> = (0..nodes)
        .map(|k| match k {
            0 => t_min,
            k if k == nodes - 1 => t_max,
            k => (s_min + (s_max - s_min) * k as f64 / (nodes - 1) as f64).exp(),
        })
        .collect();
    let table: Vec<f64> = temperatures
        .par_iter()
        .map(|&t| model.moments(t).map(|m| m.energy))
        .collect::<Result<_, _>>()?;
    let last = nodes - 1;
    Ok(energies
        .par_iter()
        .map(|&energy| {
            check_target(model, energy)?;
            let (u_lo, u_hi) = (table[0], table[last]);
            if !(u_lo <= energy && energy <= u_hi) {
                return Err(outside(model, energy, (t_min, u_lo), (t_max, u_hi)));
            }
            let j = table.partition_point(|&u| u < energy).clamp(1, last);
            if table[j - 1] <= energy && energy <= table[j] {
                solve_in_range(
                    model,
                    energy,
                    (temperatures[j - 1], table[j - 1]),
                    (temperatures[j], table[j]),
                )
            } else {
                // The table is not monotone at rounding level here: use the whole range.
                solve_in_range(model, energy, (t_min, u_lo), (t_max, u_hi))
            }
        })
        .collect())
}

/// Checks the arguments of a truncation bound: a finite cutoff (Hartree), a finite
/// non-negative count of omitted states or orbitals (`what` names it) and a valid temperature.
pub(crate) fn check_truncation(
    what: &'static str,
    cutoff: f64,
    count: f64,
    temperature: f64,
) -> Result<(), ThermoError> {
    check_temperature("temperature", temperature)?;
    if !cutoff.is_finite() {
        return Err(ThermoError::InvalidParameter {
            name: "the truncation cutoff",
            expected: "a finite energy (Hartree)",
            value: cutoff,
        });
    }
    if !(count.is_finite() && count >= 0.0) {
        return Err(ThermoError::InvalidParameter {
            name: what,
            expected: "a finite non-negative count",
            value: count,
        });
    }
    Ok(())
}

/// Upper bound (dimensionless, in [0, 1]) on the fraction of Z carried by states NOT in the list
/// at `temperature` (Hartree), given that every omitted state has energy ≥ `cutoff` (Hartree)
/// and there are at most `max_omitted` of them (counted with multiplicity).
///
/// With B = max_omitted · exp(−(cutoff − E_0)/T) / Z'(T), Z' the shifted partition function of
/// the list, the omitted weight is Z_omitted ≤ B·Z_list, so the fraction
/// Z_omitted/(Z_list + Z_omitted) ≤ B/(1 + B) (≈ B when small). Computed in logarithms (no
/// overflow).
pub fn truncation_bound(
    states: &StateList,
    cutoff: f64,
    max_omitted: f64,
    temperature: f64,
) -> Result<f64, ThermoError> {
    check_truncation(
        "the number of omitted states",
        cutoff,
        max_omitted,
        temperature,
    )?;
    if max_omitted == 0.0 {
        return Ok(0.0);
    }
    let z = shifted_partition_function(&shifted_weights(states, temperature));
    let ln_b = max_omitted.ln() - (cutoff - states.ground_energy()) / temperature - z.ln();
    Ok(1.0 / (1.0 + (-ln_b).exp()))
}
