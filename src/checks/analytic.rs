//! Exact eigenstates of a square well centred in a hard-wall box (atomic units, ħ = 1).
//!
//! The potential is eq. (1) of the paper: on [−L, L], V(x) = −U0 for |x| < a and 0 for
//! a < |x| < L, with hard walls ψ(±L) = 0. The kinetic operator is the BenDaniel–Duke form
//! −½ d/dx (1/m(x)) d/dx with m = m_in for |x| < a and m = m_out for |x| > a, so ψ and ψ′/m are
//! continuous at x = ±a. Every eigenstate is even or odd and is solved on the half line [0, L]
//! with ψ′(0) = 0 (even) or ψ(0) = 0 (odd) and ψ(L) = 0. With d = L − a and μ = m_out/m_in:
//!
//! * inside (0 ≤ x ≤ a), k = √(2 m_in (E + U0)): f(x) = cos kx (even) or sin(kx)/k (odd);
//! * outside (a ≤ x ≤ L): g(x) = sinh(q(L−x))/sinh(qd) with q = √(−2 m_out E) for E < 0,
//!   (L−x)/d for E = 0, sin(p(L−x))/p with p = √(2 m_out E) for E > 0.
//!
//! **Eigenvalue condition (A1).** Shoot u = f from x = 0, continue it outside with u(a⁺) = f(a)
//! and u′(a⁺) = μ f′(a); E is an eigenvalue iff u(L) = 0, i.e.
//! `F(E) = f(a) + μ f′(a) · tanh(qd)/q` for E ≤ 0 (this is u(L)/cosh(qd); tanh(qd)/q → d at
//! E = 0) and `F(E) = f(a) cos(pd) + μ f′(a) · sin(pd)/p` for E > 0. F is continuous across
//! E = 0 (both sides reduce to f(a) + μ f′(a) d) and never overflows.
//!
//! **Counting (A2).** By Sturm oscillation theory the number of eigenvalues of a parity sector
//! strictly below E equals the number of zeros of u on the open interval (0, L). They are
//! counted in closed form from the Prüfer angle ϑ(a) = ka (+ π/2 if even) inside, and from the
//! phase pd (E > 0) or the single possible zero of the sinh/linear solution (E ≤ 0) outside.
//! [`FiniteWellInBox::count_below`] adds the two sectors; levels are isolated by bisection
//! on this count and then polished by bisection on F to the last ulp.
//!
//! **Observables (A3).** With ψ = A f inside and ψ = B g outside (B from continuity of ψ and of
//! ψ′/m, combined by least squares so that neither condition's near-zero degrades it), the
//! normalization, P_in = 2A²∫₀ᵃ f², ⟨K⟩ = A²∫₀ᵃ f′²/m_in + B²∫ₐᴸ g′²/m_out and
//! ⟨V⟩ = −U0 P_in use the elementary integrals of cos², sin², sinh², cosh², written in
//! cancellation-free forms (series for small arguments, exp(−2qd) forms for large ones).
//! For an exact eigenfunction ⟨K⟩ + ⟨V⟩ = E.

use std::f64::consts::{FRAC_PI_2, PI};
use thiserror::Error;

/// Parity of an eigenfunction of the symmetric well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Parity {
    /// ψ(−x) = ψ(x).
    Even,
    /// ψ(−x) = −ψ(x).
    Odd,
}

/// Square well of depth `depth` (Hartree) and half-width `half_width` (bohr) centred in a
/// hard-wall box of half-width `box_half_width` (bohr); masses in electron masses.
#[derive(Debug, Clone, PartialEq)]
pub struct FiniteWellInBox {
    /// Well depth U0 ≥ 0 (Hartree); V = −U0 inside the well.
    pub depth: f64,
    /// Well half-width a (bohr).
    pub half_width: f64,
    /// Box half-width L (bohr); hard walls at x = ±L.
    pub box_half_width: f64,
    /// Effective mass inside the well, |x| < a (electron masses).
    pub mass_inside: f64,
    /// Effective mass outside the well, a < |x| < L (electron masses).
    pub mass_outside: f64,
}

/// One exact level.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExactLevel {
    /// 0-based level index in ascending energy.
    pub n: usize,
    /// Eigenvalue E_n (Hartree).
    pub energy: f64,
    /// ⟨K⟩_n = ∫ |ψ′|²/(2 m(x)) dx (Hartree).
    pub kinetic: f64,
    /// ⟨V⟩_n = −U0 · P_inside (Hartree); kinetic + potential = energy.
    pub potential: f64,
    /// P_inside = ∫_{−a}^{a} |ψ|² dx (dimensionless).
    pub prob_inside: f64,
    /// Parity of ψ_n (even for n even, odd for n odd).
    pub parity: Parity,
}

/// Why an exact solution could not be produced.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AnalyticError {
    /// A parameter is out of range or not finite.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A root search did not isolate or converge (not expected for valid parameters).
    #[error("no convergence: {0}")]
    NoConvergence(String),
}

// ---------------------------------------------------------------------------------------------
// Elementary functions in cancellation-free and overflow-free forms.

/// sin(x)/x.
fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-4 {
        let x2 = x * x;
        1.0 - x2 / 6.0 * (1.0 - x2 / 20.0)
    } else {
        x.sin() / x
    }
}

/// (1 − sinc(2w))/w², → 2/3 as w → 0.
fn one_minus_sinc2_over_sq(w: f64) -> f64 {
    if w.abs() < 1.0 {
        // Σ_{n≥1} (−1)^{n+1} 4^n w^{2n−2} / (2n+1)!
        let w2 = w * w;
        let mut term = 2.0 / 3.0;
        let mut sum = term;
        for n in 1..=14u32 {
            let nf = f64::from(n);
            term *= -4.0 * w2 / ((2.0 * nf + 2.0) * (2.0 * nf + 3.0));
            sum += term;
        }
        sum
    } else {
        (1.0 - (2.0 * w).sin() / (2.0 * w)) / (w * w)
    }
}

/// 1 − sinc(2w).
fn one_minus_sinc2(w: f64) -> f64 {
    if w.abs() < 1.0 {
        w * w * one_minus_sinc2_over_sq(w)
    } else {
        1.0 - (2.0 * w).sin() / (2.0 * w)
    }
}

/// (sinh(2z)/(2z) − 1)/z² for 0 ≤ z < 1 (series), → 2/3 as z → 0.
fn sinhc2_minus_one_over_sq(z: f64) -> f64 {
    let z2 = z * z;
    let mut term = 2.0 / 3.0;
    let mut sum = term;
    for n in 1..=14u32 {
        let nf = f64::from(n);
        term *= 4.0 * z2 / ((2.0 * nf + 2.0) * (2.0 * nf + 3.0));
        sum += term;
    }
    sum
}

/// z·coth(z) for z ≥ 0 (1 at z = 0), without overflow.
fn z_coth(z: f64) -> f64 {
    if z == 0.0 {
        1.0
    } else {
        let e = (-2.0 * z).exp();
        z * (1.0 + e) / -(-2.0 * z).exp_m1()
    }
}

/// (z / sinh z)² for z ≥ 0 (1 at z = 0), without overflow.
fn z_csch_sq(z: f64) -> f64 {
    if z == 0.0 {
        1.0
    } else {
        let r = 2.0 * z * (-z).exp() / -(-2.0 * z).exp_m1();
        r * r
    }
}

/// tanh(z)/z for z ≥ 0 (1 at z = 0).
fn tanhc(z: f64) -> f64 {
    1.0 / z_coth(z)
}

// ---------------------------------------------------------------------------------------------

/// Outside solution at a given energy.
#[derive(Debug, Clone, Copy)]
enum Outside {
    /// E ≤ 0: g = sinh(q(L−x))/sinh(qd) (q = 0: (L−x)/d).
    Decaying { q: f64 },
    /// E > 0: g = sin(p(L−x))/p.
    Oscillating { p: f64 },
}

/// Piecewise eigenfunction ψ = A f inside, B g outside, plus its integrals.
#[derive(Debug, Clone, Copy)]
struct State {
    parity: Parity,
    k: f64,
    amp_in: f64,
    amp_out: f64,
    outside: Outside,
    prob_inside: f64,
    kinetic: f64,
}

impl FiniteWellInBox {
    /// Validates: depth ≥ 0 (0 allowed: particle in a box), 0 < half_width < box_half_width,
    /// masses > 0, all finite (Hartree, bohr, electron masses).
    pub fn new(
        depth: f64,
        half_width: f64,
        box_half_width: f64,
        mass_inside: f64,
        mass_outside: f64,
    ) -> Result<Self, AnalyticError> {
        let named = [
            ("depth", depth),
            ("half_width", half_width),
            ("box_half_width", box_half_width),
            ("mass_inside", mass_inside),
            ("mass_outside", mass_outside),
        ];
        for (name, v) in named {
            if !v.is_finite() {
                return Err(AnalyticError::InvalidParameter(format!(
                    "{name} must be finite, got {v}"
                )));
            }
        }
        if depth < 0.0 {
            return Err(AnalyticError::InvalidParameter(format!(
                "depth must be >= 0 Hartree, got {depth}"
            )));
        }
        if half_width <= 0.0 {
            return Err(AnalyticError::InvalidParameter(format!(
                "half_width must be > 0 bohr, got {half_width}"
            )));
        }
        if half_width >= box_half_width {
            return Err(AnalyticError::InvalidParameter(format!(
                "half_width ({half_width}) must be < box_half_width ({box_half_width}) bohr"
            )));
        }
        if (box_half_width - half_width) <= 0.0 {
            return Err(AnalyticError::InvalidParameter(
                "box_half_width - half_width rounds to zero".into(),
            ));
        }
        for (name, m) in [("mass_inside", mass_inside), ("mass_outside", mass_outside)] {
            if m <= 0.0 {
                return Err(AnalyticError::InvalidParameter(format!(
                    "{name} must be > 0 electron masses, got {m}"
                )));
            }
        }
        Ok(Self {
            depth,
            half_width,
            box_half_width,
            mass_inside,
            mass_outside,
        })
    }

    /// Width d = L − a of each outside region (bohr).
    fn outer_width(&self) -> f64 {
        self.box_half_width - self.half_width
    }

    /// Mass ratio μ = m_out / m_in.
    fn mu(&self) -> f64 {
        self.mass_outside / self.mass_inside
    }

    /// Inside wave number k = √(2 m_in (E + U0)) (0 at or below the well bottom).
    fn k_inside(&self, e: f64) -> f64 {
        (2.0 * self.mass_inside * (e + self.depth)).max(0.0).sqrt()
    }

    /// (k, f(a), f′(a⁻)) for f = cos kx (even) or sin(kx)/k (odd).
    fn inside_at_a(&self, e: f64, parity: Parity) -> (f64, f64, f64) {
        let k = self.k_inside(e);
        let a = self.half_width;
        let phi = k * a;
        match parity {
            Parity::Even => (k, phi.cos(), -k * phi.sin()),
            Parity::Odd => (k, a * sinc(phi), phi.cos()),
        }
    }

    /// Matching function F(E) of eq. (A1): continuous in E, zero exactly at the eigenvalues
    /// of the given parity sector.
    fn matching(&self, e: f64, parity: Parity) -> f64 {
        let (_, fa, dfa) = self.inside_at_a(e, parity);
        let w = self.mu() * dfa;
        let d = self.outer_width();
        if e <= 0.0 {
            let q = (-2.0 * self.mass_outside * e).sqrt();
            fa + w * d * tanhc(q * d)
        } else {
            let p = (2.0 * self.mass_outside * e).sqrt();
            let pd = p * d;
            fa * pd.cos() + w * d * sinc(pd)
        }
    }

    /// Number of eigenvalues of one parity sector strictly below `e` (eq. (A2)).
    fn count_sector(&self, e: f64, parity: Parity) -> usize {
        if e.is_nan() || e <= -self.depth {
            // Below the potential minimum (or NaN): no eigenvalues.
            return 0;
        }
        if e == f64::INFINITY {
            return usize::MAX;
        }
        let k = self.k_inside(e);
        let theta_a = k * self.half_width
            + match parity {
                Parity::Even => FRAC_PI_2,
                Parity::Odd => 0.0,
            };
        // Zeros inside (0, a]: multiples of π in (ϑ(0), ϑ(a)], ϑ(0) = π/2 or 0.
        let mut c = (theta_a / PI).floor();
        let mut r = theta_a - c * PI;
        if r >= PI {
            r -= PI;
            c += 1.0;
        }
        if r < 0.0 {
            r = 0.0;
        }
        let n_in = c as usize; // saturating
                               // Direction of (u(a), u′(a⁻)/k) up to a common sign: (sin r, cos r) with sin r ≥ 0.
        let (sr, cr) = r.sin_cos();
        let mk = self.mu() * k; // u′(a⁺) ∝ μ k cos r
        let d = self.outer_width();
        let n_out = if e <= 0.0 {
            // u = u(a) cosh + u′(a⁺) sinh/q has one zero in (a, L) iff
            // −u(a)/u′(a⁺) ∈ (0, tanh(qd)/q).
            let q = (-2.0 * self.mass_outside * e).sqrt();
            let t = d * tanhc(q * d);
            usize::from(cr < 0.0 && sr > 0.0 && sr < t * mk * (-cr))
        } else {
            // u ∝ sin(p(x − a) + θ) with θ ∈ [0, π): zeros where p(x − a) + θ = jπ, j ≥ 1,
            // strictly before x = L.
            let p = (2.0 * self.mass_outside * e).sqrt();
            let theta = (p * sr).atan2(mk * cr);
            let total = ((theta + p * d) / PI).ceil() - 1.0;
            if total > 0.0 {
                total as usize
            } else {
                0
            }
        };
        n_in.saturating_add(n_out)
    }

    /// Number of eigenvalues strictly below `energy` (Hartree), by a node/phase count — NOT by
    /// root finding (NaN counts as 0, +∞ as `usize::MAX`).
    pub fn count_below(&self, energy: f64) -> usize {
        self.count_sector(energy, Parity::Even)
            .saturating_add(self.count_sector(energy, Parity::Odd))
    }

    /// Upper bound on E_n (Hartree): the level of the empty box with the smaller mass.
    fn upper_bound(&self, n: usize) -> f64 {
        let m = self.mass_inside.min(self.mass_outside);
        let l = self.box_half_width;
        let np1 = n as f64 + 1.0;
        np1 * np1 * PI * PI / (8.0 * m * l * l)
    }

    /// The j-th eigenvalue (0-based) of one parity sector; it is level n overall.
    fn sector_root(
        &self,
        parity: Parity,
        j: usize,
        n: usize,
        lo_hint: f64,
    ) -> Result<f64, AnalyticError> {
        let count = |e: f64| self.count_sector(e, parity);
        // Bracket: count(lo) <= j < count(hi).
        let mut lo = lo_hint.max(-self.depth);
        if count(lo) > j {
            lo = -self.depth;
        }
        let mut hi = self.upper_bound(n) * (1.0 + 1e-6);
        let mut tries = 0;
        while count(hi) <= j {
            hi = 2.0 * hi + 1.0;
            tries += 1;
            if tries > 200 || !hi.is_finite() {
                return Err(AnalyticError::NoConvergence(format!(
                    "no upper bracket for level {n}"
                )));
            }
        }
        // Isolate: shrink until (lo, hi] holds exactly the j-th sector eigenvalue.
        let mut c_lo = count(lo);
        let mut c_hi = count(hi);
        let mut iter = 0;
        while !(c_lo == j && c_hi == j + 1) {
            let mid = lo + 0.5 * (hi - lo);
            iter += 1;
            if mid <= lo || mid >= hi || iter > 3000 {
                return Err(AnalyticError::NoConvergence(format!(
                    "could not isolate level {n} in [{lo}, {hi}]"
                )));
            }
            let c_mid = count(mid);
            if c_mid <= j {
                lo = mid;
                c_lo = c_mid;
            } else {
                hi = mid;
                c_hi = c_mid;
            }
        }
        // Polish on F, which changes sign exactly once in (lo, hi].
        let f = |e: f64| self.matching(e, parity);
        let mut f_lo = f(lo);
        let f_hi = f(hi);
        if f_hi == 0.0 {
            return Ok(hi);
        }
        if f_lo == 0.0 {
            return Ok(lo);
        }
        if (f_lo < 0.0) != (f_hi < 0.0) {
            let mut f_hi = f_hi;
            for _ in 0..4000 {
                let mid = lo + 0.5 * (hi - lo);
                if mid <= lo || mid >= hi {
                    break;
                }
                let f_mid = f(mid);
                if f_mid == 0.0 {
                    return Ok(mid);
                }
                if (f_mid < 0.0) == (f_lo < 0.0) {
                    lo = mid;
                    f_lo = f_mid;
                } else {
                    hi = mid;
                    f_hi = f_mid;
                }
            }
            return Ok(if f_lo.abs() <= f_hi.abs() { lo } else { hi });
        }
        // Rounding made F's signs at the bracket ends agree (the bracket is already at the
        // noise level of F): finish on the count alone, which is monotone.
        for _ in 0..4000 {
            let mid = lo + 0.5 * (hi - lo);
            if mid <= lo || mid >= hi {
                break;
            }
            if count(mid) <= j {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo + 0.5 * (hi - lo))
    }

    /// Coefficients and integrals of the normalized eigenfunction at eigenvalue `e` (eq. (A3)).
    fn state(&self, e: f64, parity: Parity) -> State {
        let a = self.half_width;
        let d = self.outer_width();
        let mu = self.mu();
        let (k, fa, dfa) = self.inside_at_a(e, parity);
        let phi = k * a;
        // ∫₀ᵃ f² and ∫₀ᵃ f′².
        let (i_f, j_f) = match parity {
            Parity::Even => (
                0.5 * a * (1.0 + sinc(2.0 * phi)),
                k * k * 0.5 * a * one_minus_sinc2(phi),
            ),
            Parity::Odd => (
                0.5 * a * a * a * one_minus_sinc2_over_sq(phi),
                0.5 * a * (1.0 + sinc(2.0 * phi)),
            ),
        };
        // g(a), g′(a), ∫ₐᴸ g², ∫ₐᴸ g′².
        let (outside, ga, dga, i_g, j_g) = if e <= 0.0 {
            let q = (-2.0 * self.mass_outside * e).sqrt();
            let z = q * d;
            let zc = z_coth(z);
            let zs = z_csch_sq(z);
            let i_g = if z < 1.0 {
                0.5 * d * sinhc2_minus_one_over_sq(z) * zs
            } else {
                0.5 * d * (zc - zs) / (z * z)
            };
            let j_g = (zc + zs) / (2.0 * d);
            (Outside::Decaying { q }, 1.0, -zc / d, i_g, j_g)
        } else {
            let p = (2.0 * self.mass_outside * e).sqrt();
            let w = p * d;
            let i_g = 0.5 * d * d * d * one_minus_sinc2_over_sq(w);
            let j_g = 0.5 * d * (1.0 + sinc(2.0 * w));
            (Outside::Oscillating { p }, d * sinc(w), -w.cos(), i_g, j_g)
        };
        // B (for A = 1) from f(a) = B g(a) and μ f′(a) = B g′(a), weighted least squares.
        let s2 = k * k;
        let b1 = (s2 * fa * ga + mu * dfa * dga) / (s2 * ga * ga + dga * dga);
        let norm2 = 2.0 * (i_f + b1 * b1 * i_g);
        let amp_in = 1.0 / norm2.sqrt();
        let amp_out = b1 * amp_in;
        let prob_inside = 2.0 * i_f / norm2;
        let kinetic = (j_f / self.mass_inside + b1 * b1 * j_g / self.mass_outside) / norm2;
        State {
            parity,
            k,
            amp_in,
            amp_out,
            outside,
            prob_inside,
            kinetic,
        }
    }

    /// The `count` lowest levels, ascending, each to full double precision.
    pub fn levels(&self, count: usize) -> Result<Vec<ExactLevel>, AnalyticError> {
        let mut out = Vec::with_capacity(count.min(1 << 16));
        let mut prev = -self.depth;
        for n in 0..count {
            let parity = if n % 2 == 0 {
                Parity::Even
            } else {
                Parity::Odd
            };
            let energy = self.sector_root(parity, n / 2, n, prev)?;
            let st = self.state(energy, parity);
            out.push(ExactLevel {
                n,
                energy,
                kinetic: st.kinetic,
                potential: -self.depth * st.prob_inside,
                prob_inside: st.prob_inside,
                parity,
            });
            prev = energy;
        }
        Ok(out)
    }

    /// The exact eigenfunction psi_n(x) (normalized, ∫|psi|² = 1 over [-L, L]) evaluated at x
    /// (bohr; 0 outside the box); sign convention: psi > 0 near x = 0 for even states,
    /// psi' > 0 at 0 for odd states.
    pub fn wavefunction(&self, level: &ExactLevel, x: f64) -> f64 {
        let l = self.box_half_width;
        let y = x.abs();
        if y.is_nan() || y > l {
            return 0.0;
        }
        let st = self.state(level.energy, level.parity);
        let a = self.half_width;
        let d = self.outer_width();
        let val = if y <= a {
            st.amp_in
                * match st.parity {
                    Parity::Even => (st.k * y).cos(),
                    Parity::Odd => y * sinc(st.k * y),
                }
        } else {
            let r = l - y;
            st.amp_out
                * match st.outside {
                    Outside::Decaying { q } => {
                        if q == 0.0 {
                            r / d
                        } else {
                            // sinh(q r)/sinh(q d) without overflow.
                            (-q * (y - a)).exp() * (-2.0 * q * r).exp_m1() / (-2.0 * q * d).exp_m1()
                        }
                    }
                    Outside::Oscillating { p } => r * sinc(p * r),
                }
        };
        match st.parity {
            Parity::Odd if x < 0.0 => -val,
            _ => val,
        }
    }
}
