//! Tests of the exact finite well in a hard-wall box (`confine::checks::analytic`).
//!
//! Reference values: docs/NUMERICS.md (reproduced independently by
//! `validation/exact_levels.py`), case U0 = 0.1, a = 20, L = 200, m = 1 (atomic units); the
//! paper quotes E0 = -0.0975, E5 = -0.0149, E6 = 0.000145.

use confine::checks::analytic::*;
use std::f64::consts::PI;

const EPS: f64 = f64::EPSILON;

fn reference() -> FiniteWellInBox {
    FiniteWellInBox::new(0.1, 20.0, 200.0, 1.0, 1.0).unwrap()
}

/// Composite Simpson on [lo, hi] with `intervals` (even) sub-intervals.
fn simpson(lo: f64, hi: f64, intervals: usize, f: impl Fn(f64) -> f64) -> f64 {
    assert!(intervals.is_multiple_of(2));
    let h = (hi - lo) / intervals as f64;
    let mut s = f(lo) + f(hi);
    for i in 1..intervals {
        let x = lo + h * i as f64;
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    s * h / 3.0
}

/// ψ′(x) by second-order differences that never straddle a breakpoint of [lo, hi].
fn derivative(w: &FiniteWellInBox, l: &ExactLevel, x: f64, lo: f64, hi: f64) -> f64 {
    let e = 1e-5;
    let psi = |t: f64| w.wavefunction(l, t);
    if x - lo < 2.0 * e {
        (-3.0 * psi(x) + 4.0 * psi(x + e) - psi(x + 2.0 * e)) / (2.0 * e)
    } else if hi - x < 2.0 * e {
        (3.0 * psi(x) - 4.0 * psi(x - e) + psi(x - 2.0 * e)) / (2.0 * e)
    } else {
        (psi(x + e) - psi(x - e)) / (2.0 * e)
    }
}

/// Scale for comparing K + V with E: the largest of the three magnitudes.
fn identity_error(l: &ExactLevel) -> f64 {
    let scale = l.energy.abs().max(l.kinetic.abs()).max(l.potential.abs());
    (l.kinetic + l.potential - l.energy).abs() / scale
}

// 1. Reference values.
#[test]
fn reference_values_are_the_papers_to_full_precision() {
    let levels = reference().levels(7).unwrap();
    let checks = [
        (levels[0].energy, -0.0975069740914695),
        (levels[5].energy, -0.014912503282432),
        (levels[6].energy, 0.000145209652766132),
        (levels[0].kinetic, 0.0022394654473681),
    ];
    for (got, want) in checks {
        println!(
            "got {got:e}, want {want:e}, |diff| {:e}",
            (got - want).abs()
        );
        assert!((got - want).abs() < 1e-13, "got {got:e}, want {want:e}");
    }
    // The paper's quoted digits.
    assert_eq!(format!("{:.4}", levels[0].energy), "-0.0975");
    assert_eq!(format!("{:.4}", levels[5].energy), "-0.0149");
    assert_eq!(format!("{:.6}", levels[6].energy), "0.000145");
    for l in &levels {
        assert!(
            identity_error(l) < 1e-14,
            "level {}: {:e}",
            l.n,
            identity_error(l)
        );
        assert!((l.potential + 0.1 * l.prob_inside).abs() <= EPS * l.potential.abs());
    }
}

// 2. Six bound states, parity alternating from an even ground state.
#[test]
fn six_bound_states_with_alternating_parity() {
    let w = reference();
    assert_eq!(w.count_below(0.0), 6);
    let levels = w.levels(8).unwrap();
    assert!(levels[5].energy < 0.0 && levels[6].energy > 0.0);
    for (n, l) in levels.iter().enumerate() {
        assert_eq!(l.n, n);
        let want = if n % 2 == 0 {
            Parity::Even
        } else {
            Parity::Odd
        };
        assert_eq!(l.parity, want, "level {n}");
        // The eigenfunction really has that parity, with the documented sign convention.
        for x in [0.3, 7.0, 25.0, 150.0] {
            let (p, m) = (w.wavefunction(l, x), w.wavefunction(l, -x));
            match want {
                Parity::Even => assert_eq!(p, m),
                Parity::Odd => assert_eq!(p, -m),
            }
        }
        match want {
            Parity::Even => assert!(w.wavefunction(l, 0.0) > 0.0),
            Parity::Odd => {
                assert_eq!(w.wavefunction(l, 0.0), 0.0);
                assert!(w.wavefunction(l, 1e-3) > 0.0);
            }
        }
    }
}

// 3. Depth 0: the particle in a box of width 2L.
#[test]
fn empty_box_limit_is_exact() {
    for (m, a, l) in [(1.0, 20.0, 200.0), (0.067, 3.0, 10.0), (2.5, 0.5, 1.0)] {
        let w = FiniteWellInBox::new(0.0, a, l, m, m).unwrap();
        let levels = w.levels(60).unwrap();
        for lv in &levels {
            let np1 = (lv.n + 1) as f64;
            let exact = np1 * np1 * PI * PI / (2.0 * m * (2.0 * l) * (2.0 * l));
            assert!(
                (lv.energy - exact).abs() <= 8.0 * EPS * exact,
                "n = {}: {:e} vs {:e}",
                lv.n,
                lv.energy,
                exact
            );
            assert!((lv.kinetic - lv.energy).abs() <= 1e-14 * exact);
            assert_eq!(lv.potential, 0.0);
            // P_in = (a + (-1)^n sin(κa)/κ)/L, κ = (n+1)π/L.
            let kappa = np1 * PI / l;
            let sign = if lv.n % 2 == 0 { 1.0 } else { -1.0 };
            let p_in = (a + sign * (kappa * a).sin() / kappa) / l;
            assert!((lv.prob_inside - p_in).abs() < 1e-14, "n = {}", lv.n);
            // ψ² = sin²((n+1)π(x+L)/(2L))/L.
            for x in [-0.9 * l, -0.5 * a, 0.1 * a, 0.7 * a, 1.3 * a, 0.95 * l] {
                let exact_sq = (np1 * PI * (x + l) / (2.0 * l)).sin().powi(2) / l;
                let got = w.wavefunction(lv, x);
                assert!(
                    (got * got - exact_sq).abs() < 1e-12 / l,
                    "n = {}, x = {x}",
                    lv.n
                );
            }
        }
    }
}

/// Checks continuity of ψ and ψ′/m at x = ±a by finite differences of the returned ψ at
/// a ± δ (δ = 1e-6), and ψ(±L) = 0. Returns the largest relative mismatch seen.
fn check_matching(w: &FiniteWellInBox, l: &ExactLevel) -> f64 {
    let (a, big_l) = (w.half_width, w.box_half_width);
    let d = 1e-6;
    let psi = |x: f64| w.wavefunction(l, x);
    let k = (2.0 * w.mass_inside * (l.energy + w.depth)).sqrt();
    let mut worst: f64 = 0.0;
    for s in [1.0, -1.0] {
        let xa = s * a;
        // Central differences at a ∓ 2δ and a ∓ 4δ (never straddling a), extrapolated
        // linearly to a: ψ′(a±) with O(δ²) error.
        let central = |x: f64| (psi(x + d) - psi(x - d)) / (2.0 * d);
        let dpsi_in = 2.0 * central(xa - s * 2.0 * d) - central(xa - s * 4.0 * d);
        let dpsi_out = 2.0 * central(xa + s * 2.0 * d) - central(xa + s * 4.0 * d);
        // ψ(a∓) from ψ(a ∓ δ) and the one-sided slopes (x increases outward for s = +1).
        let psi_in = psi(xa - s * d) + s * d * dpsi_in;
        let psi_out = psi(xa + s * d) - s * d * dpsi_out;
        let value_scale = psi_in.abs().max(dpsi_in.abs() / k);
        let value_err = (psi_in - psi_out).abs() / value_scale;
        assert!(
            value_err < 1e-6,
            "n = {}: psi jumps at {xa}: {psi_in} vs {psi_out}",
            l.n
        );
        let flux_in = dpsi_in / w.mass_inside;
        let flux_out = dpsi_out / w.mass_outside;
        let flux_scale = (k * psi_in.abs() + dpsi_in.abs()) / w.mass_inside;
        let flux_err = (flux_in - flux_out).abs() / flux_scale;
        assert!(
            flux_err < 1e-6,
            "n = {}: psi'/m jumps at {xa}: {flux_in:e} vs {flux_out:e}",
            l.n
        );
        worst = worst.max(value_err).max(flux_err);
    }
    assert_eq!(psi(big_l), 0.0);
    assert_eq!(psi(-big_l), 0.0);
    assert_eq!(psi(big_l + 1.0), 0.0);
    worst
}

// 4. Mass mismatch and a deep well: matching conditions hold for the returned eigenfunctions,
//    and bound energies satisfy the textbook transcendental equations written independently.
#[test]
fn matching_conditions_with_mass_mismatch_and_deep_well() {
    let cases = [
        FiniteWellInBox::new(0.01, 100.0, 400.0, 0.067, 0.092).unwrap(),
        FiniteWellInBox::new(0.05, 10.0, 60.0, 1.0, 0.2).unwrap(),
        // Deep and wide: q·d reaches ~1.9e3, where sinh/cosh overflow in naive forms.
        FiniteWellInBox::new(50.0, 1.0, 200.0, 1.0, 1.0).unwrap(),
    ];
    let mut worst: f64 = 0.0;
    for w in &cases {
        let levels = w.levels(16).unwrap();
        let (a, d) = (w.half_width, w.box_half_width - w.half_width);
        for l in &levels {
            assert!(l.energy.is_finite() && l.kinetic.is_finite());
            assert!(identity_error(l) < 1e-13, "{w:?} n = {}", l.n);
            worst = worst.max(check_matching(w, l));
            let e = l.energy;
            let k = (2.0 * w.mass_inside * (e + w.depth)).sqrt();
            let (mi, mo) = (w.mass_inside, w.mass_outside);
            // (k/m_in) tan ka = (q/m_out) coth qd (even), (k/m_in) cot ka = -(q/m_out) coth qd
            // (odd), cross-multiplied; E > 0 with sin/cos. Residual relative to term sizes.
            let (ka_s, ka_c) = (k * a).sin_cos();
            let (r, scale) = if e < 0.0 {
                let q = (-2.0 * mo * e).sqrt();
                let t = (q * d).tanh();
                match l.parity {
                    Parity::Even => {
                        let (x, y) = (k * mo * ka_s * t, q * mi * ka_c);
                        (x - y, x.abs() + y.abs())
                    }
                    Parity::Odd => {
                        let (x, y) = (k * mo * ka_c * t, q * mi * ka_s);
                        (x + y, x.abs() + y.abs())
                    }
                }
            } else {
                let p = (2.0 * mo * e).sqrt();
                let (ps, pc) = (p * d).sin_cos();
                match l.parity {
                    Parity::Even => {
                        let (x, y) = (k * mo * ka_s * ps, p * mi * ka_c * pc);
                        (x - y, x.abs() + y.abs())
                    }
                    Parity::Odd => {
                        let (x, y) = (k * mo * ka_c * ps, p * mi * ka_s * pc);
                        (x + y, x.abs() + y.abs())
                    }
                }
            };
            assert!(r.abs() < 1e-12 * scale, "{w:?} n = {}: residual {r:e}", l.n);
        }
    }
    println!("largest relative jump of psi or psi'/m at x = ±a: {worst:e}");
    // The deep well's low levels approach the infinite well of width 2a, shifted by -U0.
    let deep = &cases[2];
    let l0 = &deep.levels(1).unwrap()[0];
    let inf0 = PI * PI / (2.0 * 4.0) - 50.0;
    // Penetration lengthens the well by ~1/q per side (q ≈ 10): E0 + U0 ≈ π²/(8 (a + 1/q)²).
    let q = (2.0 * 50.0f64).sqrt();
    let approx = PI * PI / (8.0 * (1.0 + 1.0 / q).powi(2)) - 50.0;
    println!(
        "deep well E0 = {}, infinite {inf0}, penetration estimate {approx}",
        l0.energy
    );
    assert!(l0.energy > -50.0 && l0.energy < inf0 && (l0.energy - approx).abs() < 0.02);
}

// 5. Normalization, P_inside, orthogonality and <K> by quadrature of the returned ψ.
#[test]
fn quadrature_of_wavefunction() {
    let ref_case = reference();
    let mass_case = FiniteWellInBox::new(0.01, 100.0, 400.0, 0.067, 0.092).unwrap();
    for (w, picks) in [(&ref_case, [0usize, 5, 6]), (&mass_case, [0, 3, 9])] {
        let (a, big_l) = (w.half_width, w.box_half_width);
        let levels = w.levels(12).unwrap();
        // Nodes land on ±a: 2L/(200000) divides a here.
        let n = 200_000;
        for &i in &picks {
            let l = &levels[i];
            let psi2 = |x: f64| w.wavefunction(l, x).powi(2);
            let norm = simpson(-big_l, big_l, n, psi2);
            assert!((norm - 1.0).abs() < 1e-11, "n = {i}: norm {norm}");
            let n_in = ((2.0 * a) / (2.0 * big_l) * n as f64) as usize;
            let p_in = simpson(-a, a, n_in, psi2);
            assert!(
                (p_in - l.prob_inside).abs() < 1e-11,
                "n = {i}: {p_in} vs {}",
                l.prob_inside
            );
            // <K> from finite-difference ψ′, piece by piece (ψ′ jumps when masses differ).
            let n_out = (n - n_in) / 2;
            let kin = |lo: f64, hi: f64, m: f64, n: usize| {
                simpson(lo, hi, n, |x| {
                    derivative(w, l, x, lo, hi).powi(2) / (2.0 * m)
                })
            };
            let k_num = kin(-big_l, -a, w.mass_outside, n_out)
                + kin(-a, a, w.mass_inside, n_in)
                + kin(a, big_l, w.mass_outside, n_out);
            println!(
                "n = {i}: |norm - 1| {:e}, |P_in - quad| {:e}, |<K> - quad|/<K> {:e}",
                (norm - 1.0).abs(),
                (p_in - l.prob_inside).abs(),
                (k_num - l.kinetic).abs() / l.kinetic
            );
            assert!(
                (k_num - l.kinetic).abs() < 1e-7 * l.kinetic,
                "n = {i}: <K> {k_num:e} vs {:e}",
                l.kinetic
            );
        }
        // Orthogonality of two same-parity states.
        let (l0, l2) = (&levels[picks[0]], &levels[picks[0] + 2]);
        let overlap = simpson(-big_l, big_l, n, |x| {
            w.wavefunction(l0, x) * w.wavefunction(l2, x)
        });
        assert!(overlap.abs() < 1e-8, "overlap {overlap:e}");
    }
}

// 6. count_below brackets each of the first 200 levels.
#[test]
fn count_below_is_consistent_with_levels() {
    let w = reference();
    let levels = w.levels(200).unwrap();
    let mut prev_count = 0;
    for (n, l) in levels.iter().enumerate() {
        let tiny = 1e-12 * l.energy.abs().max(1.0);
        assert_eq!(w.count_below(l.energy - tiny), n, "below level {n}");
        assert_eq!(w.count_below(l.energy + tiny), n + 1, "above level {n}");
        if n > 0 {
            assert!(l.energy > levels[n - 1].energy);
        }
        assert!(l.kinetic > 0.0 && (0.0..=1.0).contains(&l.prob_inside));
        assert!(
            identity_error(l) < 1e-13,
            "level {n}: {:e}",
            identity_error(l)
        );
        // Monotone between levels.
        if let Some(next) = levels.get(n + 1) {
            let c = w.count_below(0.5 * (l.energy + next.energy));
            assert!(
                c >= prev_count && c == n + 1,
                "between levels {n} and {}",
                n + 1
            );
            prev_count = c;
        }
    }
    assert_eq!(w.count_below(-0.1), 0);
    assert_eq!(w.count_below(-1.0), 0);
}

/// U0 at which the (j+1)-th even level sits exactly at E = 0 for m = 1: k a tan(k a) = a/d with
/// k = √(2 U0), root in (jπ, jπ + π/2). Solved here by bisection, independently of the module.
fn depth_with_even_level_at_zero(a: f64, d: f64, j: f64) -> f64 {
    let g = |t: f64| t * t.tan() - a / d;
    let (mut lo, mut hi) = (j * PI + 1e-12, j * PI + PI / 2.0 - 1e-9);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) < 0.0 {
            lo = mid
        } else {
            hi = mid
        }
    }
    let k = 0.5 * (lo + hi) / a;
    0.5 * k * k
}

// 7. A level at E = 0, and continuity in U0 across the crossing.
#[test]
fn level_crossing_zero_energy() {
    let (a, l) = (20.0, 200.0);
    let u_star = depth_with_even_level_at_zero(a, l - a, 3.0);
    let w = FiniteWellInBox::new(u_star, a, l, 1.0, 1.0).unwrap();
    let levels = w.levels(9).unwrap();
    // The level at zero is level 6 (even); it must be found to ~1e-17 absolute.
    assert!(
        levels[6].energy.abs() < 1e-16,
        "E6 = {:e}",
        levels[6].energy
    );
    assert!(levels[5].energy < 0.0 && levels[7].energy > 0.0);
    assert_eq!(levels[6].parity, Parity::Even);
    assert!(identity_error(&levels[6]) < 1e-14);
    assert_eq!(w.count_below(-1e-12), 6);
    assert_eq!(w.count_below(1e-12), 7);
    // At E = 0 exactly the outside solution is linear: ψ(x) ∝ (L - x).
    let psi = |x: f64| w.wavefunction(&levels[6], x);
    let slope = psi(100.0) / (l - 100.0);
    for x in [30.0, 60.0, 150.0, 199.0] {
        assert!((psi(x) - slope * (l - x)).abs() < 1e-12, "x = {x}");
    }
    // Normalization and P_inside of the zero-energy state by quadrature.
    let norm = simpson(-l, l, 200_000, |x| psi(x).powi(2));
    let p_in = simpson(-a, a, 20_000, |x| psi(x).powi(2));
    assert!((norm - 1.0).abs() < 1e-9, "norm {norm}");
    assert!((p_in - levels[6].prob_inside).abs() < 1e-9);

    // Scan U0 across the crossing: every level is continuous and strictly decreasing in U0,
    // with dE/dU0 = -P_inside (Hellmann–Feynman), and no level is missed.
    let h = 2e-7;
    let samples: Vec<(f64, Vec<ExactLevel>)> = (-40..=40)
        .map(|i| {
            let u0 = u_star + h * f64::from(i);
            let w = FiniteWellInBox::new(u0, a, l, 1.0, 1.0).unwrap();
            let lv = w.levels(9).unwrap();
            for (n, x) in lv.iter().enumerate() {
                let tiny = 1e-13;
                assert_eq!(w.count_below(x.energy - tiny), n);
                assert_eq!(w.count_below(x.energy + tiny), n + 1);
            }
            (u0, lv)
        })
        .collect();
    let mut signs_seen = (false, false);
    let mut worst_hf: f64 = 0.0;
    for s in 1..samples.len() - 1 {
        let (u_prev, ref prev) = samples[s - 1];
        let (u_here, ref here) = samples[s];
        let (u_next, ref next) = samples[s + 1];
        for n in 0..9 {
            let step = here[n].energy - prev[n].energy;
            assert!(step < 0.0, "level {n} not decreasing at U0 = {u_here}");
            assert!(-step <= (u_here - u_prev) * (1.0 + 1e-9), "level {n} jumps");
            let slope = (next[n].energy - prev[n].energy) / (u_next - u_prev);
            worst_hf = worst_hf.max((slope + here[n].prob_inside).abs());
            assert!(
                (slope + here[n].prob_inside).abs() < 1e-8,
                "level {n} at U0 = {u_here}: dE/dU0 {slope} vs -P_in {}",
                -here[n].prob_inside
            );
        }
        if here[6].energy < 0.0 {
            signs_seen.0 = true;
        } else if here[6].energy > 0.0 {
            signs_seen.1 = true;
        }
    }
    println!("largest |dE/dU0 + P_inside| in the scan: {worst_hf:e}");
    assert!(signs_seen.0 && signs_seen.1, "the scan must cross E = 0");
}

// 8. Invalid parameters are errors, never panics.
#[test]
fn invalid_parameters_are_errors() {
    let bad = [
        (-0.1, 20.0, 200.0, 1.0, 1.0),
        (0.1, 200.0, 200.0, 1.0, 1.0),
        (0.1, 300.0, 200.0, 1.0, 1.0),
        (0.1, 0.0, 200.0, 1.0, 1.0),
        (0.1, -5.0, 200.0, 1.0, 1.0),
        (0.1, 20.0, 200.0, 0.0, 1.0),
        (0.1, 20.0, 200.0, 1.0, -1.0),
        (f64::NAN, 20.0, 200.0, 1.0, 1.0),
        (0.1, f64::NAN, 200.0, 1.0, 1.0),
        (0.1, 20.0, f64::INFINITY, 1.0, 1.0),
        (0.1, 20.0, 200.0, f64::NAN, 1.0),
        (0.1, 20.0, 200.0, 1.0, f64::INFINITY),
        (f64::INFINITY, 20.0, 200.0, 1.0, 1.0),
    ];
    for (u, a, l, mi, mo) in bad {
        match FiniteWellInBox::new(u, a, l, mi, mo) {
            Err(AnalyticError::InvalidParameter(msg)) => assert!(!msg.is_empty()),
            other => panic!("({u}, {a}, {l}, {mi}, {mo}) gave {other:?}"),
        }
    }
    let w = reference();
    assert_eq!(w.levels(0).unwrap(), vec![]);
    assert_eq!(w.count_below(f64::NAN), 0);
    assert_eq!(w.count_below(f64::NEG_INFINITY), 0);
    let l0 = &w.levels(1).unwrap()[0];
    assert_eq!(w.wavefunction(l0, f64::NAN), 0.0);
    assert_eq!(w.wavefunction(l0, 1e300), 0.0);
}
