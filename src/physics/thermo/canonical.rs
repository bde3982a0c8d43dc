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
//! # T^(C)(E): the inverse of U(T)
//!
//! T^(C)(E) solves f(s) = U(e^s) − E = 0 in s = ln T (U is monotone: dU/dT = C ≥ 0). Each model
//! evaluation gives U and, from the same moments, the slope dU/ds = T·C = Var(E)/T.
//! [`canonical_temperatures`] tabulates U and dU/ds at 16 nodes per decade of T and solves each
//! energy inside its table cell; [`canonical_temperature`] (one energy) takes the whole range
//! [t_min, t_max] as its cell. In a cell [s_lo, s_hi] with U(s_lo) < E < U(s_hi) the solver is a
//! safeguarded Newton iteration (the logic of Numerical Recipes' rtsafe):
//!
//! - Start: the root of the cubic Hermite interpolant of U(s) through the cell ends (values and
//!   slopes); the middle of the range for [`canonical_temperature`], where a cubic through ends
//!   many decades apart predicts little.
//! - Step: at the evaluated point s_k, the Newton target s_k − f/f' corrected for curvature: the
//!   root next to it of the quintic Hermite interpolant through s_k and the two bracket ends
//!   (kept only when the correction is under half the Newton step). Newton's error K·δ² (δ the
//!   distance of s_k to the root, K = |f''/2f'|) becomes the quintic's interpolation error,
//!   smaller by orders of magnitude on a table cell.
//! - Safeguard: the bracket shrinks to the evaluated points (f < 0 below the root, f > 0 above);
//!   a step is taken only if it lands strictly inside the bracket and is at most half the step
//!   before the last one, else the iteration bisects the bracket.
//! - Stop, with tol = 0.5e-14 + 2ε|s| (ε = f64::EPSILON): (a) the Newton step at the last
//!   evaluated point is at most tol (returned: that point plus the step); (b) a step (in
//!   practice a bisection) of at most tol (returned: its end, for a bisection the midpoint of a
//!   bracket of half-width ≤ tol); (c) |U(T) − E| ≤ ε|E| at an evaluated point: U equals E to
//!   rounding (returned: again the Newton target, which undoes most of the rounding of U − E).
//!   Where dU/ds ≥ ε|E|/tol, (c) implies (a). Below that slope the root is ill-conditioned: the
//!   rounding of U alone leaves ln T undetermined by about ε|E|/(dU/ds) > tol (e.g. just above
//!   the ground energy, where U − E_0 is tiny), and (c) ends the search there. The returned T is
//!   thus within about 1e-14 relative of the root wherever rounding allows it. A typical solve
//!   takes two evaluations: the start, and the corrected step, whose own Newton step then meets
//!   (a) (the unit test `evaluations_per_solve` counts them).
//! - Fallback: Brent's method (no derivative needed) on the current bracket when the variance at
//!   an evaluated point is zero or not finite (e.g. every excited weight underflowed), and on the
//!   whole range when the table is not monotone at rounding level around E. Brent's stopping
//!   rule is the bracket's half-width at most tol.

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
    // An energy within rounding of the ground energy (e.g. the same ground state summed in
    // another order) is the ground energy: U(T) stays within an ulp of E_0 over a whole range of
    // small T there, so no T is determined.
    if energy <= ground + GROUND_ROUNDING_EPSILONS * f64::EPSILON * ground.abs() {
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

/// Energies at most 2ε|E_0| (one or two ulps) above the ground energy E_0 count as E_0.
const GROUND_ROUNDING_EPSILONS: f64 = 2.0;

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

/// Tolerance on ln T of the root finders (≈ relative tolerance on T).
const LN_T_TOLERANCE: f64 = 1e-14;
/// Iteration cap of the root finders (bisection alone needs < 64 steps on any f64 bracket, and
/// the safeguarded Newton at most halves its step every second iteration).
const MAX_ITERATIONS: usize = 300;

/// Stopping tolerance on s = ln T near `s`: [`LN_T_TOLERANCE`]/2 plus rounding of s itself.
fn ln_t_tolerance(s: f64) -> f64 {
    2.0 * f64::EPSILON * s.abs() + 0.5 * LN_T_TOLERANCE
}

/// U (Hartree) and its slope dU/ds = T·C = Var(E)/T (Hartree) at s = ln T: one model
/// evaluation gives both.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// T (Hartree).
    temperature: f64,
    /// s = ln T.
    ln_t: f64,
    /// U(T) (Hartree).
    energy: f64,
    /// dU/ds = Var(E)/T (Hartree).
    slope: f64,
}

impl Sample {
    /// Evaluates `model` at `temperature` (Hartree), whose logarithm is `ln_t`.
    fn of<M: CanonicalModel + ?Sized>(
        model: &M,
        ln_t: f64,
        temperature: f64,
    ) -> Result<Self, ThermoError> {
        let m = model.moments(temperature)?;
        Ok(Self {
            temperature,
            ln_t,
            energy: m.energy,
            slope: m.variance / temperature,
        })
    }
}

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
        let tol1 = ln_t_tolerance(b);
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

/// Iteration cap of the root searches on the interpolating polynomials (no model evaluations).
const INTERPOLANT_ITERATIONS: usize = 60;

/// Starting point (s = ln T) for [`solve_newton`]: the root of the cubic Hermite interpolant
/// of U(s) − E through `lo` and `hi` (their U and slopes), with U(lo) < E < U(hi).
///
/// The cubic changes sign on the cell, so a safeguarded Newton iteration on it (bisection when
/// a step leaves the shrinking bracket) finds a root. Non-finite slopes make the interpolant
/// linear.
fn hermite_seed(lo: &Sample, hi: &Sample, energy: f64) -> f64 {
    let h = hi.ln_t - lo.ln_t;
    let (p0, p1) = (lo.energy - energy, hi.energy - energy);
    let (m0, m1) = if lo.slope.is_finite() && hi.slope.is_finite() {
        (lo.slope * h, hi.slope * h)
    } else {
        (p1 - p0, p1 - p0)
    };
    // p(x) = p0 + m0 x + c2 x² + c3 x³ on x ∈ [0, 1]: p(0) = p0 < 0 < p(1) = p1.
    let c2 = 3.0 * (p1 - p0) - 2.0 * m0 - m1;
    let c3 = 2.0 * (p0 - p1) + m0 + m1;
    let (mut a, mut b) = (0.0, 1.0);
    let mut x = p0 / (p0 - p1);
    for _ in 0..INTERPOLANT_ITERATIONS {
        let p = ((c3 * x + c2) * x + m0) * x + p0;
        match p.partial_cmp(&0.0) {
            Some(std::cmp::Ordering::Less) => a = x,
            Some(std::cmp::Ordering::Greater) => b = x,
            _ => break,
        }
        let dp = (3.0 * c3 * x + 2.0 * c2) * x + m0;
        let newton = x - p / dp;
        let next = if newton > a && newton < b {
            newton
        } else {
            0.5 * (a + b)
        };
        let step = next - x;
        x = next;
        // The interpolant is far less accurate than this; the model evaluations do the rest.
        if step.abs() <= 1e-12 {
            break;
        }
    }
    lo.ln_t + h * x
}

/// Root near `start` of the quintic Hermite interpolant of U(s) − E through three samples
/// (values and slopes) with lo.ln_t < mid.ln_t < hi.ln_t, found by Newton's method on the
/// quintic; `None` when that iteration does not settle or leaves (lo, hi).
///
/// Started from the Newton target of `mid`, this corrects the Newton step for the curvature
/// that the three samples show: the quadratic error term of Newton's method becomes the
/// interpolation error of the quintic, far smaller on a table cell.
fn quintic_root(lo: &Sample, mid: &Sample, hi: &Sample, energy: f64, start: f64) -> Option<f64> {
    // Newton divided differences on the doubled nodes mid, mid, lo, lo, hi, hi.
    let z = [mid.ln_t, mid.ln_t, lo.ln_t, lo.ln_t, hi.ln_t, hi.ln_t];
    let slope = [mid.slope, mid.slope, lo.slope, lo.slope, hi.slope, hi.slope];
    let mut c = [
        mid.energy, mid.energy, lo.energy, lo.energy, hi.energy, hi.energy,
    ]
    .map(|u| u - energy);
    for order in 1..6 {
        for i in (order..6).rev() {
            c[i] = if z[i] == z[i - order] {
                slope[i]
            } else {
                (c[i] - c[i - 1]) / (z[i] - z[i - order])
            };
        }
    }
    let mut s = start;
    for _ in 0..INTERPOLANT_ITERATIONS {
        let (mut q, mut dq) = (c[5], 0.0);
        for k in (0..5).rev() {
            dq = dq * (s - z[k]) + q;
            q = q * (s - z[k]) + c[k];
        }
        let before = s;
        s -= q / dq;
        if !(s > lo.ln_t && s < hi.ln_t) {
            return None;
        }
        // Settled: a step far below the tolerance, or one that rounds away.
        if (s - before).abs() <= 0.01 * ln_t_tolerance(s) || s == before {
            return Some(s);
        }
    }
    None
}

/// Safeguarded Newton on f(s) = U(e^s) − E, s = ln T, with f(lo) < 0 < f(hi), started at
/// `seed`; returns T = e^s (Hartree). See the module docs for the iteration and its stopping
/// rule.
fn solve_newton<M: CanonicalModel + ?Sized>(
    model: &M,
    energy: f64,
    lo: &Sample,
    hi: &Sample,
    seed: f64,
) -> Result<f64, ThermoError> {
    let (mut lo, mut hi) = (*lo, *hi);
    let mut s = if seed > lo.ln_t && seed < hi.ln_t {
        seed
    } else {
        0.5 * (lo.ln_t + hi.ln_t)
    };
    // The last step taken and the one before it (the seed counts as a step of the cell width).
    let mut step = hi.ln_t - lo.ln_t;
    let mut step_before;
    for _ in 0..MAX_ITERATIONS {
        let t = s.exp();
        let here = Sample::of(model, s, t)?;
        let f = here.energy - energy;
        if !f.is_finite() {
            return Err(ThermoError::Model(format!(
                "U(T) at T = {t} Hartree is {}, not a finite energy",
                here.energy
            )));
        }
        let newton = f / here.slope;
        let target = s - newton;
        // Before the bracket update: lo < s < hi holds for every iterate.
        let refined = if newton.is_finite() {
            quintic_root(&lo, &here, &hi, energy, target)
        } else {
            None
        };
        if f < 0.0 {
            lo = here;
        } else if f > 0.0 {
            hi = here;
        }
        let (a, b) = (lo.ln_t, hi.ln_t);
        let usable_slope = here.slope > 0.0 && here.slope.is_finite();
        // U(T) = E to rounding: about one unit in the last place of E.
        let at_rounding = f.abs() <= f64::EPSILON * energy.abs();
        if usable_slope
            && (at_rounding || newton.abs() <= ln_t_tolerance(s))
            && a <= target
            && target <= b
        {
            // Stop (a) or (c) of the module docs. At rounding level the Newton target still
            // removes most of the quantization of f (the target may round to s itself).
            return Ok(target.exp());
        }
        if at_rounding {
            return Ok(t);
        }
        if !usable_slope {
            // No usable derivative (e.g. every excited weight underflowed): Brent needs none.
            return solve_bracketed(
                model,
                energy,
                (a, lo.energy - energy),
                (b, hi.energy - energy),
            );
        }
        // The curvature-corrected target when it agrees with Newton's to within half a step.
        let next = match refined {
            Some(r) if (r - target).abs() <= 0.5 * newton.abs() => r,
            _ => target,
        };
        let proposed = s - next;
        step_before = step;
        // The proposed step only when it stays strictly inside the bracket and at least halves
        // the step before the last one (so the steps shrink geometrically); bisection otherwise.
        (s, step) = if next > a && next < b && 2.0 * proposed.abs() <= step_before.abs() {
            (next, proposed)
        } else {
            let half = 0.5 * (b - a);
            (a + half, half)
        };
        if step.abs() <= ln_t_tolerance(s) {
            // Stop (b) of the module docs (or a Newton step as small: stop (a) one step late).
            return Ok(s.exp());
        }
    }
    Err(ThermoError::NoConvergence {
        energy,
        iterations: MAX_ITERATIONS,
        t_low: lo.ln_t.exp(),
        t_high: hi.ln_t.exp(),
    })
}

/// T at the end of the bracket `lo`, `hi` whose U is exactly E (Hartree), if any.
fn exact_end(energy: f64, lo: &Sample, hi: &Sample) -> Option<f64> {
    if energy == lo.energy {
        Some(lo.temperature)
    } else if energy == hi.energy {
        Some(hi.temperature)
    } else {
        None
    }
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
    let lo = Sample::of(model, t_min.ln(), t_min)?;
    let hi = Sample::of(model, t_max.ln(), t_max)?;
    if !(lo.energy <= energy && energy <= hi.energy) {
        return Err(outside(
            model,
            energy,
            (t_min, lo.energy),
            (t_max, hi.energy),
        ));
    }
    match exact_end(energy, &lo, &hi) {
        Some(t) => Ok(t),
        // A cubic through the ends of a range of many decades predicts little: start halfway.
        None => solve_newton(model, energy, &lo, &hi, 0.5 * (lo.ln_t + hi.ln_t)),
    }
}

/// Nodes per decade of the U(T) table used by [`canonical_temperatures`] to bracket each root.
const TABLE_NODES_PER_DECADE: f64 = 16.0;

/// U and dU/ds at [`TABLE_NODES_PER_DECADE`] nodes per decade of T from `t_min` to `t_max`
/// (Hartree), both included, evaluated in parallel.
fn table<M: CanonicalModel + Sync + ?Sized>(
    model: &M,
    t_min: f64,
    t_max: f64,
) -> Result<Vec<Sample>, ThermoError> {
    let (s_min, s_max) = (t_min.ln(), t_max.ln());
    let decades = (s_max - s_min) / std::f64::consts::LN_10;
    let nodes = ((decades * TABLE_NODES_PER_DECADE).ceil() as usize + 1).clamp(2, 20_000);
    (0..nodes)
        .into_par_iter()
        .map(|k| {
            let t = match k {
                0 => t_min,
                k if k == nodes - 1 => t_max,
                k => (s_min + (s_max - s_min) * k as f64 / (nodes - 1) as f64).exp(),
            };
            Sample::of(model, t.ln(), t)
        })
        .collect()
}

/// The cell of `table` (ascending T) whose ends bracket `energy` (Hartree), U(lo) ≤ E ≤ U(hi);
/// `None` where the table is not monotone at rounding level around E.
fn cell(table: &[Sample], energy: f64) -> Option<(&Sample, &Sample)> {
    let j = table
        .partition_point(|node| node.energy < energy)
        .clamp(1, table.len() - 1);
    let (lo, hi) = (&table[j - 1], &table[j]);
    (lo.energy <= energy && energy <= hi.energy).then_some((lo, hi))
}

/// T^(C)(E) (Hartree) for many energies (Hartree) in [t_min, t_max] (Hartree), in parallel.
///
/// U and dU/d ln T are tabulated once on a logarithmic temperature grid; each energy is then
/// solved inside its table cell by the safeguarded Newton iteration of the module docs (about
/// two model evaluations per energy). The outer error is for an invalid range; each energy has
/// its own result (e.g. the ground state's energy is an error, its T^(C) being 0).
pub fn canonical_temperatures<M: CanonicalModel + Sync + ?Sized>(
    model: &M,
    energies: &[f64],
    t_min: f64,
    t_max: f64,
) -> Result<Vec<Result<f64, ThermoError>>, ThermoError> {
    check_range(t_min, t_max)?;
    let table = table(model, t_min, t_max)?;
    let (first, last) = (&table[0], &table[table.len() - 1]);
    Ok(energies
        .par_iter()
        .map(|&energy| {
            check_target(model, energy)?;
            let (u_lo, u_hi) = (first.energy, last.energy);
            if !(u_lo <= energy && energy <= u_hi) {
                return Err(outside(model, energy, (t_min, u_lo), (t_max, u_hi)));
            }
            if let Some((lo, hi)) = cell(&table, energy) {
                match exact_end(energy, lo, hi) {
                    Some(t) => Ok(t),
                    None => solve_newton(model, energy, lo, hi, hermite_seed(lo, hi, energy)),
                }
            } else {
                // The table is not monotone at rounding level here: Brent on the whole range.
                match exact_end(energy, first, last) {
                    Some(t) => Ok(t),
                    None => solve_bracketed(
                        model,
                        energy,
                        (first.ln_t, u_lo - energy),
                        (last.ln_t, u_hi - energy),
                    ),
                }
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

#[cfg(test)]
mod solver_tests {
    //! The Newton solver against Brent's method (the solver before it), against exact roots of
    //! interpolants, and with the safeguards and fallbacks exercised one by one.

    use super::*;
    use crate::physics::thermo::fermions::FermionGas;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the evaluations of the model it wraps.
    struct Counting<'a, M: ?Sized> {
        model: &'a M,
        calls: AtomicUsize,
    }

    impl<'a, M: CanonicalModel + ?Sized> Counting<'a, M> {
        fn new(model: &'a M) -> Self {
            Self {
                model,
                calls: AtomicUsize::new(0),
            }
        }

        /// Evaluations since the last call.
        fn take(&self) -> usize {
            self.calls.swap(0, Ordering::Relaxed)
        }
    }

    impl<M: CanonicalModel + ?Sized> CanonicalModel for Counting<'_, M> {
        fn moments(&self, temperature: f64) -> Result<Moments, ThermoError> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.model.moments(temperature)
        }
        fn ground_energy(&self) -> f64 {
            self.model.ground_energy()
        }
        fn infinite_temperature_energy(&self) -> f64 {
            self.model.infinite_temperature_energy()
        }
    }

    /// A state list whose variance is replaced by `variance` (0 or NaN): no usable slope.
    struct NoSlope<'a> {
        states: &'a StateList,
        variance: f64,
    }

    impl CanonicalModel for NoSlope<'_> {
        fn moments(&self, temperature: f64) -> Result<Moments, ThermoError> {
            let m = self.states.moments(temperature)?;
            Ok(Moments {
                variance: self.variance,
                ..m
            })
        }
        fn ground_energy(&self) -> f64 {
            self.states.ground_energy()
        }
        fn infinite_temperature_energy(&self) -> f64 {
            self.states.mean_energy()
        }
    }

    /// Levels like the paper's square well in its box (Hartree): a deep ground state, a
    /// bound level and a quadratic box-like continuum, with a near-degenerate pair.
    fn orbitals() -> Vec<f64> {
        let mut e = vec![-0.0975, -0.0901, -0.0660, -0.0659];
        e.extend((1..120).map(|k| -0.06 + 2e-5 * (k * k) as f64));
        e
    }

    fn states() -> StateList {
        let e = orbitals();
        let kinetic = vec![0.1; e.len()];
        StateList::single_particle(e, kinetic).unwrap()
    }

    fn gas() -> FermionGas {
        FermionGas::new(orbitals(), 3, 2).unwrap()
    }

    /// The paper's temperature range (Hartree).
    const RANGE: (f64, f64) = (1e-4, 0.15);

    /// `n` energies evenly spaced strictly inside (U(t_min), U(t_max)), like an energy grid.
    fn energy_grid<M: CanonicalModel + ?Sized>(model: &M, n: usize) -> Vec<f64> {
        let lo = model.moments(RANGE.0).unwrap().energy;
        let hi = model.moments(RANGE.1).unwrap().energy;
        (1..=n)
            .map(|k| lo + (hi - lo) * k as f64 / (n + 1) as f64)
            .collect()
    }

    /// Brent's method on the whole range: the solver of `canonical_temperature` before the
    /// Newton iteration, independent of the table.
    fn brent<M: CanonicalModel + ?Sized>(model: &M, energy: f64, t_min: f64, t_max: f64) -> f64 {
        let u_min = model.moments(t_min).unwrap().energy;
        let u_max = model.moments(t_max).unwrap().energy;
        solve_bracketed(
            model,
            energy,
            (t_min.ln(), u_min - energy),
            (t_max.ln(), u_max - energy),
        )
        .unwrap()
    }

    /// How far (in ln T) two solutions of U(T) = E may lie apart: the tolerance of each plus
    /// the conditioning of the root, the rounding of U (a few units of ε|E|) over dU/ds.
    fn ln_t_bound<M: CanonicalModel + ?Sized>(model: &M, energy: f64, temperature: f64) -> f64 {
        let slope = model.moments(temperature).unwrap().variance / temperature;
        2.0 * LN_T_TOLERANCE + 4.0 * f64::EPSILON * energy.abs() / slope
    }

    #[track_caller]
    fn assert_same_root<M: CanonicalModel + ?Sized>(model: &M, energy: f64, got: f64, want: f64) {
        let diff = (got.ln() - want.ln()).abs();
        let bound = ln_t_bound(model, energy, want);
        assert!(
            diff <= bound,
            "E = {energy:e}: T = {got:e} vs {want:e}, |Δ ln T| = {diff:e} > {bound:e}"
        );
    }

    #[test]
    fn the_cubic_seed_is_exact_for_a_cubic_and_the_quintic_step_for_a_quintic() {
        // U(s) − E for polynomials of degree 3 and 5 that rise on [0, 0.2] with a root at 0.07.
        let cubic = |s: f64| (s - 0.07) * (1.0 + 2.0 * s + 3.0 * s * s);
        let d_cubic = |s: f64| (1.0 + 2.0 * s + 3.0 * s * s) + (s - 0.07) * (2.0 + 6.0 * s);
        let quintic = |s: f64| cubic(s) * (1.0 + s * s);
        let d_quintic = |s: f64| d_cubic(s) * (1.0 + s * s) + cubic(s) * 2.0 * s;
        let sample = |s: f64, u: f64, slope: f64| Sample {
            temperature: s.exp(),
            ln_t: s,
            energy: u,
            slope,
        };
        let (lo, hi) = (
            sample(0.0, cubic(0.0), d_cubic(0.0)),
            sample(0.2, cubic(0.2), d_cubic(0.2)),
        );
        assert!((hermite_seed(&lo, &hi, 0.0) - 0.07).abs() < 1e-15);
        // A linear interpolant (non-finite slopes) is not exact: the seed uses the slopes.
        let flat = Sample {
            slope: f64::NAN,
            ..lo
        };
        assert!((hermite_seed(&flat, &hi, 0.0) - 0.07).abs() > 1e-3);
        let q = |s: f64| sample(s, quintic(s), d_quintic(s));
        let mid = q(0.1);
        let newton = 0.1 - quintic(0.1) / d_quintic(0.1);
        let root = quintic_root(&q(0.0), &mid, &q(0.2), 0.0, newton).unwrap();
        assert!((root - 0.07).abs() < 1e-15, "{root}");
        // Newton alone is off by its quadratic term, far more than the tolerance.
        assert!((newton - 0.07).abs() > 1e-5);
    }

    #[test]
    fn newton_agrees_with_brent_on_an_energy_grid() {
        let states = states();
        let gas = gas();
        let models: [&(dyn CanonicalModel + Sync); 2] = [&states, &gas];
        for model in models {
            let energies = energy_grid(model, 300);
            let got = canonical_temperatures(model, &energies, RANGE.0, RANGE.1).unwrap();
            for (&e, t) in energies.iter().zip(got) {
                let want = brent(model, e, RANGE.0, RANGE.1);
                assert_same_root(model, e, t.unwrap(), want);
                let single = canonical_temperature(model, e, RANGE.0, RANGE.1).unwrap();
                assert_same_root(model, e, single, want);
            }
        }
    }

    #[test]
    fn evaluations_per_solve() {
        for (name, model) in [
            ("states", &states() as &(dyn CanonicalModel + Sync)),
            ("gas", &gas()),
        ] {
            let counting = Counting::new(model);
            let energies = energy_grid(model, 400);
            let table = table(&counting, RANGE.0, RANGE.1).unwrap();
            assert_eq!(counting.take(), table.len());
            let (mut newton, mut brent, mut worst) = (0, 0, 0);
            for &e in &energies {
                let (lo, hi) = cell(&table, e).unwrap();
                let t = solve_newton(&counting, e, lo, hi, hermite_seed(lo, hi, e)).unwrap();
                let calls = counting.take();
                newton += calls;
                worst = worst.max(calls);
                let old = solve_bracketed(
                    &counting,
                    e,
                    (lo.ln_t, lo.energy - e),
                    (hi.ln_t, hi.energy - e),
                )
                .unwrap();
                brent += counting.take();
                assert_same_root(model, e, t, old);
            }
            let n = energies.len() as f64;
            let (newton_mean, brent_mean) = (newton as f64 / n, brent as f64 / n);
            eprintln!("{name}: {newton_mean:.3} evaluations per solve (Brent in the same cells: {brent_mean:.3}), at most {worst}");
            assert!(newton_mean <= 2.2, "{name}: {newton_mean}");
            assert!(worst <= 4, "{name}: {worst}");
            assert!(brent_mean >= 4.0, "{name}: {brent_mean}");
            // The public function takes exactly this path: one table, then these solves.
            let _ = canonical_temperatures(&counting, &energies, RANGE.0, RANGE.1).unwrap();
            assert_eq!(counting.take(), table.len() + newton);
        }
    }

    #[test]
    fn one_energy_over_many_decades_needs_fewer_evaluations_than_brent() {
        let states = states();
        let counting = Counting::new(&states);
        let (t_min, t_max) = (1e-8, 1e6);
        let (mut newton, mut brent_calls) = (0, 0);
        for k in 0..40 {
            let t = 1e-3 * 2e3f64.powf(k as f64 / 39.0);
            let e = states.moments(t).unwrap().energy;
            let got = canonical_temperature(&counting, e, t_min, t_max).unwrap();
            newton += counting.take();
            let want = brent(&counting, e, t_min, t_max);
            brent_calls += counting.take();
            assert_same_root(&states, e, got, want);
            assert_same_root(&states, e, got, t);
        }
        assert!(newton < brent_calls, "{newton} vs {brent_calls}");
    }

    /// Two levels 0 and 1 Hartree (no degeneracy): U = 1/(1 + e^{1/T}), T(E) = 1/ln((1 − E)/E).
    fn two_level() -> StateList {
        StateList::single_particle(vec![0.0, 1.0], vec![0.0, 0.0]).unwrap()
    }

    fn two_level_temperature(energy: f64) -> f64 {
        1.0 / ((1.0 - energy) / energy).ln()
    }

    #[test]
    fn the_safeguard_keeps_an_overshooting_newton_step_in_the_bracket() {
        // Far below the gap U(s) = exp(−e^{−s}) roughly: steep and convex, so Newton from the
        // left end of the cell jumps far beyond its right end (to T = ∞ here).
        let states = two_level();
        let lo = Sample::of(&states, (1.0f64 / 40.0).ln(), 1.0 / 40.0).unwrap();
        let hi = Sample::of(&states, (1.0f64 / 20.0).ln(), 1.0 / 20.0).unwrap();
        let energy = states.moments(1.0 / 25.0).unwrap().energy;
        let seed = lo.ln_t + 1e-6;
        let start = Sample::of(&states, seed, seed.exp()).unwrap();
        let newton_target = seed - (start.energy - energy) / start.slope;
        assert!(newton_target > hi.ln_t + 1.0, "{newton_target}");
        let counting = Counting::new(&states);
        let t = solve_newton(&counting, energy, &lo, &hi, seed).unwrap();
        assert_same_root(&states, energy, t, two_level_temperature(energy));
        assert!((t - 1.0 / 25.0).abs() <= 1e-14 * t);
        let calls = counting.take();
        assert!(calls <= 20, "{calls} evaluations");
    }

    #[test]
    fn without_a_usable_slope_brent_takes_over() {
        let states = states();
        let energies = energy_grid(&states, 60);
        for variance in [0.0, f64::NAN, f64::INFINITY] {
            let blind = NoSlope {
                states: &states,
                variance,
            };
            let got = canonical_temperatures(&blind, &energies, RANGE.0, RANGE.1).unwrap();
            for (&e, t) in energies.iter().zip(got) {
                let want = brent(&states, e, RANGE.0, RANGE.1);
                assert_same_root(&states, e, t.unwrap(), want);
                let single = canonical_temperature(&blind, e, RANGE.0, RANGE.1).unwrap();
                assert_same_root(&states, e, single, want);
            }
        }
    }

    #[test]
    fn a_table_flat_at_rounding_level_still_brackets_the_root() {
        // Every node below T ≈ 1/37 Ha has U = −1 exactly (the excitation is below half an
        // ulp of 1): the table is flat there, and the first cell that rises brackets E.
        let states = StateList::single_particle(vec![-1.0, 0.0], vec![0.0, 0.0]).unwrap();
        let table = table(&states, 1e-3, 10.0).unwrap();
        assert_eq!(table[0].energy, table[1].energy);
        let energy = -1.0 + 4.0 * f64::EPSILON;
        let (lo, hi) = cell(&table, energy).unwrap();
        assert!(lo.energy <= energy && energy <= hi.energy);
        let got = canonical_temperatures(&states, &[energy], 1e-3, 10.0).unwrap();
        let t = got[0].clone().unwrap();
        assert_same_root(&states, energy, t, brent(&states, energy, 1e-3, 10.0));
        assert_same_root(&states, energy, t, 1.0 / (1.0 / (4.0 * f64::EPSILON)).ln());
    }

    #[test]
    fn an_energy_within_rounding_of_the_ground_energy_is_the_ground_energy() {
        // One ulp above E_0 = −1 (the same ground state summed in another order): U(T) equals
        // it over a whole range of small T, so no T is determined; eight ulps above, T is.
        let states = StateList::single_particle(vec![-1.0, 0.0], vec![0.0, 0.0]).unwrap();
        let one_ulp = -(1.0f64.next_down());
        let got =
            canonical_temperatures(&states, &[one_ulp, -1.0 + 4.0 * f64::EPSILON], 1e-3, 10.0)
                .unwrap();
        assert!(
            matches!(got[0], Err(ThermoError::EnergyAtOrBelowGround { .. })),
            "{:?}",
            got[0]
        );
        assert!(got[1].is_ok(), "{:?}", got[1]);
        assert!(matches!(
            canonical_temperature(&states, one_ulp, 1e-3, 10.0),
            Err(ThermoError::EnergyAtOrBelowGround { .. })
        ));
    }
}
