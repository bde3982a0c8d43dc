//! Bessel functions of integer order for the exact radial solutions
//! ([`crate::checks::radial_exact`]): spherical j_l, y_l, i_l, k_l and cylindrical J_m, Y_m,
//! I_m, K_m of a real argument x > 0.
//!
//! No dependency: each function is a few lines of a recurrence run in its stable direction.
//! The minimal solutions (j_l, i_l, J_m, I_m) come from Miller's downward recurrence started far
//! above the order and normalized by an exact sum rule (Σ (2k+1) j_k² = 1, i_0 = sinh x / x,
//! J_0 + 2 Σ J_2k = 1, I_0 + 2 Σ I_k = eˣ), so no division by a value that may vanish; the
//! dominant ones (y_l, k_l, Y_m, K_m) recur upward from closed forms (y_0, y_1, k_0, k_1), from
//! Neumann's series Y_0 = (2/π)(ln(x/2) + γ) J_0 − (4/π) Σ (−1)^k J_2k / k and its derivative
//! (Y_1 = −Y_0'), and from K_ν(x) = ∫_0^∞ e^{−x cosh t} cosh νt dt by the trapezoidal rule (an
//! analytic integrand decaying double-exponentially: the error is below e^{−π²/step}). Tested
//! against values from mpmath (`tests/suite/radial.rs`). Meant for arguments up to a few
//! hundred (eˣ must stay finite) and orders up to a few dozen.

use std::f64::consts::PI;

/// Euler–Mascheroni constant γ.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Rescale a downward recurrence when its values pass this magnitude.
const RESCALE: f64 = 1e100;

/// Start order of Miller's recurrence for orders ≤ `order` at argument `x`: far enough above
/// both that the seed's error has decayed below rounding.
fn miller_start(order: usize, x: f64) -> usize {
    let top = order.max(x.ceil() as usize);
    top + 40 + (10.0 * x.sqrt()) as usize
}

/// Runs f_{k−1} = a(k) f_k ∓ f_{k+1} down from a seed and returns f_0 … f_{start}, rescaled
/// together when they grow large (only ratios matter before normalization).
fn downward(start: usize, mut coefficient: impl FnMut(usize) -> f64, sign: f64) -> Vec<f64> {
    let mut f = vec![0.0; start + 2];
    f[start] = 1e-300;
    for k in (1..=start).rev() {
        f[k - 1] = coefficient(k) * f[k] + sign * f[k + 1];
        if f[k - 1].abs() > RESCALE {
            for v in &mut f[k - 1..] {
                *v /= RESCALE;
            }
        }
    }
    f.truncate(start + 1);
    f
}

/// Spherical Bessel functions j_0(x) … j_{order+1}(x), x > 0.
fn spherical_j_all(order: usize, x: f64) -> Vec<f64> {
    let start = miller_start(order + 1, x);
    let f = downward(start, |k| (2 * k + 1) as f64 / x, -1.0);
    // The seed's scale is arbitrary: bring the largest to 1 before squaring.
    let largest = f.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let f: Vec<f64> = f.iter().map(|v| v / largest).collect();
    // Σ (2k + 1) j_k(x)² = 1 fixes the scale; the sign is that of j_0 = sin x / x, or of
    // j_1 = (sin x / x − cos x) / x where j_0 is tiny.
    let sum: f64 = f
        .iter()
        .enumerate()
        .map(|(k, v)| (2 * k + 1) as f64 * v * v)
        .sum();
    let mut scale = 1.0 / sum.sqrt();
    let (j0, j1) = ((x.sin()) / x, (x.sin() / x - x.cos()) / x);
    let sign = if j0.abs() > j1.abs() {
        j0.signum() * f[0].signum()
    } else {
        j1.signum() * f[1].signum()
    };
    scale *= sign;
    f[..=order + 1].iter().map(|v| v * scale).collect()
}

/// Spherical Bessel function of the first kind j_l(x), x > 0.
pub fn spherical_j(l: usize, x: f64) -> f64 {
    spherical_j_all(l, x)[l]
}

/// j_l(x) and its derivative j_l'(x) = (l/x) j_l − j_{l+1}, x > 0.
pub fn spherical_j_with_derivative(l: usize, x: f64) -> (f64, f64) {
    let f = spherical_j_all(l, x);
    (f[l], l as f64 / x * f[l] - f[l + 1])
}

/// y_0 … y_{order+1} at x > 0 by upward recurrence.
fn spherical_y_all(order: usize, x: f64) -> Vec<f64> {
    let (s, c) = x.sin_cos();
    let mut f = vec![-c / x, -c / (x * x) - s / x];
    for k in 1..=order {
        let next = (2 * k + 1) as f64 / x * f[k] - f[k - 1];
        f.push(next);
    }
    f
}

/// Spherical Bessel function of the second kind y_l(x), x > 0.
pub fn spherical_y(l: usize, x: f64) -> f64 {
    spherical_y_all(l, x)[l]
}

/// y_l(x) and y_l'(x) = (l/x) y_l − y_{l+1}, x > 0.
pub fn spherical_y_with_derivative(l: usize, x: f64) -> (f64, f64) {
    let f = spherical_y_all(l, x);
    (f[l], l as f64 / x * f[l] - f[l + 1])
}

/// Modified spherical Bessel functions i_0 … i_{order+1} at x > 0 (i_0 = sinh x / x).
fn spherical_i_all(order: usize, x: f64) -> Vec<f64> {
    let start = miller_start(order + 1, x);
    let f = downward(start, |k| (2 * k + 1) as f64 / x, 1.0);
    let i0 = if x < 1e-8 { 1.0 } else { x.sinh() / x };
    let scale = i0 / f[0];
    f[..=order + 1].iter().map(|v| v * scale).collect()
}

/// Modified spherical Bessel function of the first kind i_l(x) (i_0 = sinh x / x), x > 0.
pub fn spherical_i(l: usize, x: f64) -> f64 {
    spherical_i_all(l, x)[l]
}

/// i_l(x) and i_l'(x) = (l/x) i_l + i_{l+1}, x > 0.
pub fn spherical_i_with_derivative(l: usize, x: f64) -> (f64, f64) {
    let f = spherical_i_all(l, x);
    (f[l], l as f64 / x * f[l] + f[l + 1])
}

/// k_0 … k_{order+1} at x > 0 (k_0 = e^{−x}/x) by upward recurrence.
fn spherical_k_all(order: usize, x: f64) -> Vec<f64> {
    let e = (-x).exp();
    let mut f = vec![e / x, e * (1.0 / x + 1.0 / (x * x))];
    for k in 1..=order {
        let next = (2 * k + 1) as f64 / x * f[k] + f[k - 1];
        f.push(next);
    }
    f
}

/// Modified spherical Bessel function of the second kind k_l(x), normalized as k_0 = e^{−x}/x
/// (π/2 times the other common convention; a constant factor does not move a zero), x > 0.
pub fn spherical_k(l: usize, x: f64) -> f64 {
    spherical_k_all(l, x)[l]
}

/// k_l(x) and k_l'(x) = (l/x) k_l − k_{l+1}, x > 0.
pub fn spherical_k_with_derivative(l: usize, x: f64) -> (f64, f64) {
    let f = spherical_k_all(l, x);
    (f[l], l as f64 / x * f[l] - f[l + 1])
}

/// J_0 … J_{start} at x > 0 by Miller's recurrence normalized by J_0 + 2 Σ J_2k = 1.
fn bessel_j_all(order: usize, x: f64) -> Vec<f64> {
    let start = miller_start(order + 1, x) & !1;
    let f = downward(start, |k| 2.0 * k as f64 / x, -1.0);
    let sum: f64 = f[0] + 2.0 * f.iter().skip(2).step_by(2).sum::<f64>();
    f.iter().map(|v| v / sum).collect()
}

/// Bessel function of the first kind J_m(x), x > 0.
pub fn bessel_j(m: usize, x: f64) -> f64 {
    bessel_j_all(m, x)[m]
}

/// J_m(x) and J_m'(x) = (m/x) J_m − J_{m+1}, x > 0.
pub fn bessel_j_with_derivative(m: usize, x: f64) -> (f64, f64) {
    let f = bessel_j_all(m, x);
    (f[m], m as f64 / x * f[m] - f[m + 1])
}

/// Y_0 … Y_{order+1} at x > 0: Y_0 and Y_1 from Neumann's series in the J_k, then upward.
fn bessel_y_all(order: usize, x: f64) -> Vec<f64> {
    let j = bessel_j_all(order + 1, x);
    let log = (0.5 * x).ln() + EULER_GAMMA;
    let (mut series, mut series_derivative) = (0.0, 0.0);
    for k in 1..j.len() / 2 {
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        let kf = k as f64;
        series += sign * j[2 * k] / kf;
        // J_2k' = (J_{2k−1} − J_{2k+1}) / 2.
        let next = j.get(2 * k + 1).copied().unwrap_or(0.0);
        series_derivative += sign * 0.5 * (j[2 * k - 1] - next) / kf;
    }
    let y0 = 2.0 / PI * log * j[0] - 4.0 / PI * series;
    let y0_derivative = 2.0 / PI * (j[0] / x - log * j[1]) - 4.0 / PI * series_derivative;
    let mut f = vec![y0, -y0_derivative];
    for k in 1..=order {
        let next = 2.0 * k as f64 / x * f[k] - f[k - 1];
        f.push(next);
    }
    f
}

/// Bessel function of the second kind Y_m(x), x > 0.
pub fn bessel_y(m: usize, x: f64) -> f64 {
    bessel_y_all(m, x)[m]
}

/// Y_m(x) and Y_m'(x) = (m/x) Y_m − Y_{m+1}, x > 0.
pub fn bessel_y_with_derivative(m: usize, x: f64) -> (f64, f64) {
    let f = bessel_y_all(m, x);
    (f[m], m as f64 / x * f[m] - f[m + 1])
}

/// I_0 … I_{order+1} at x > 0 by Miller's recurrence normalized by I_0 + 2 Σ I_k = eˣ.
fn bessel_i_all(order: usize, x: f64) -> Vec<f64> {
    let start = miller_start(order + 1, x);
    let f = downward(start, |k| 2.0 * k as f64 / x, 1.0);
    let sum: f64 = f[0] + 2.0 * f[1..].iter().sum::<f64>();
    let scale = x.exp() / sum;
    f[..=order + 1].iter().map(|v| v * scale).collect()
}

/// Modified Bessel function of the first kind I_m(x), x > 0.
pub fn bessel_i(m: usize, x: f64) -> f64 {
    bessel_i_all(m, x)[m]
}

/// I_m(x) and I_m'(x) = (m/x) I_m + I_{m+1}, x > 0.
pub fn bessel_i_with_derivative(m: usize, x: f64) -> (f64, f64) {
    let f = bessel_i_all(m, x);
    (f[m], m as f64 / x * f[m] + f[m + 1])
}

/// K_ν(x) = ∫_0^∞ e^{−x cosh t} cosh νt dt for ν = 0 and 1, by the trapezoidal rule.
fn bessel_k01(x: f64) -> (f64, f64) {
    const STEP: f64 = 1.0 / 16.0;
    // Beyond t_max the integrand is below e^{−745} of its value at t = 0.
    let t_max = (745.0 / x + 1.0).acosh() + 1.0;
    let (mut k0, mut k1) = (0.5 * (-x).exp(), 0.5 * (-x).exp());
    let mut t = STEP;
    while t <= t_max {
        let e = (-x * t.cosh()).exp();
        k0 += e;
        k1 += e * t.cosh();
        t += STEP;
    }
    (k0 * STEP, k1 * STEP)
}

/// K_0 … K_{order+1} at x > 0 by upward recurrence from K_0 and K_1.
fn bessel_k_all(order: usize, x: f64) -> Vec<f64> {
    let (k0, k1) = bessel_k01(x);
    let mut f = vec![k0, k1];
    for k in 1..=order {
        let next = 2.0 * k as f64 / x * f[k] + f[k - 1];
        f.push(next);
    }
    f
}

/// Modified Bessel function of the second kind K_m(x), x > 0.
pub fn bessel_k(m: usize, x: f64) -> f64 {
    bessel_k_all(m, x)[m]
}

/// K_m(x) and K_m'(x) = (m/x) K_m − K_{m+1}, x > 0.
pub fn bessel_k_with_derivative(m: usize, x: f64) -> (f64, f64) {
    let f = bessel_k_all(m, x);
    (f[m], m as f64 / x * f[m] - f[m + 1])
}
