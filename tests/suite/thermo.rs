//! Tests of the thermodynamics (src/thermo): closed forms for the canonical ensemble, Hertz
//! entropy and T^(μ), window averages of the kinetic energy, T^(C) inversion, NHC intervals and
//! input validation.

use confine::physics::thermo::{
    canonical_curve, canonical_point, canonical_temperature, canonical_temperatures,
    distinct_levels, hertz_entropy, kinetic_temperature, largest_drop, microcanonical_temperature,
    nhc_intervals, per_state_microcanonical_temperature, truncation_bound, window_averages,
    window_kinetic_temperature, CanonicalModel, Difference, StateList, ThermoError,
};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[track_caller]
fn assert_close(a: f64, b: f64, rel: f64, what: &str) {
    assert!(
        close(a, b, rel),
        "{what}: got {a:e}, expected {b:e} (rel. diff {:e})",
        (a - b).abs() / b.abs()
    );
}

fn list(energy: &[f64], g: &[u64], particles: usize) -> StateList {
    let kinetic = vec![1.0; energy.len()];
    StateList::new(energy.to_vec(), kinetic, g.to_vec(), particles).unwrap()
}

fn log_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| lo * (hi / lo).powf(k as f64 / (n - 1) as f64))
        .collect()
}

// ---------------------------------------------------------------- canonical closed forms

/// Two-level system with degeneracies (1, g1): x = Δ/T, w = g1 e^{−x}.
fn two_level_exact(delta: f64, g1: f64, t: f64) -> (f64, f64, f64) {
    let x = delta / t;
    let w = g1 * (-x).exp();
    let u = delta * w / (1.0 + w);
    let s = (1.0 + w).ln() + x * w / (1.0 + w);
    let c = x * x * w / ((1.0 + w) * (1.0 + w));
    (u, s, c)
}

#[test]
fn two_level_system_matches_closed_form() {
    let delta = 0.37;
    for &g1 in &[1u64, 3] {
        let states = list(&[0.0, delta], &[1, g1], 1);
        for t in log_grid(0.01, 100.0, 41) {
            let p = canonical_point(&states, t).unwrap();
            let (u, s, c) = two_level_exact(delta, g1 as f64, t);
            assert_close(p.energy, u, 1e-13, "U");
            assert_close(p.entropy, s, 1e-13, "S");
            assert_close(p.heat_capacity, c, 1e-13, "C");
            let ln_z = (1.0 + g1 as f64 * (-delta / t).exp()).ln();
            assert_close(p.free_energy, -t * ln_z, 1e-13, "F");
        }
        // T → ∞ limits: U → g1 Δ/(1 + g1), S → ln(1 + g1).
        let p = canonical_point(&states, 1e6).unwrap();
        assert_close(
            p.energy,
            g1 as f64 * delta / (1.0 + g1 as f64),
            1e-6,
            "U(∞)",
        );
        assert_close(p.entropy, (1.0 + g1 as f64).ln(), 1e-6, "S(∞)");
    }
}

#[test]
fn extreme_temperatures_are_stable() {
    // Ground energy far from zero, tiny and huge T: no NaN, correct limits.
    let states = list(&[-1000.0, -999.0, -998.5], &[2, 1, 1], 1);
    let p = canonical_point(&states, 1e-6).unwrap();
    assert_eq!(p.energy, -1000.0);
    assert_close(p.entropy, 2f64.ln(), 1e-15, "S(T→0) = ln g0");
    assert_eq!(p.heat_capacity, 0.0);
    let p = canonical_point(&states, 1e6).unwrap();
    assert!(p.energy.is_finite() && p.entropy.is_finite() && p.heat_capacity.is_finite());
    assert_close(p.entropy, 4f64.ln(), 1e-5, "S(T→∞) = ln Σg");
    assert!(canonical_point(&states, 0.0).is_err());
    assert!(canonical_point(&states, f64::NAN).is_err());
    assert!(canonical_point(&states, -1.0).is_err());
}

fn harmonic(omega: f64, n: usize) -> StateList {
    let e: Vec<f64> = (0..n).map(|k| omega * (k as f64 + 0.5)).collect();
    StateList::single_particle(e.clone(), e.iter().map(|x| 0.5 * x).collect()).unwrap()
}

#[test]
fn harmonic_ladder_matches_closed_form() {
    let omega = 0.013;
    let states = harmonic(omega, 2001);
    let temperatures = log_grid(0.05 * omega, 5.0 * omega, 30);
    let curve = canonical_curve(&states, &temperatures).unwrap();
    for p in curve {
        let x = omega / p.temperature;
        let u = 0.5 * omega + omega / x.exp_m1();
        let c = x * x * x.exp() / (x.exp_m1() * x.exp_m1());
        assert_close(p.energy, u, 1e-12, "U");
        assert_close(p.heat_capacity, c, 1e-11, "C");
    }
}

#[test]
fn truncation_bound_bounds_the_true_tail() {
    let omega = 1.0;
    let full = harmonic(omega, 2001);
    for &k in &[10usize, 40, 200] {
        let kept = harmonic(omega, k + 1); // states 0..=k
        let cutoff = full.energy()[k + 1];
        let omitted = (2000 - k) as f64;
        for t in log_grid(0.1, 500.0, 25) {
            let bound = truncation_bound(&kept, cutoff, omitted, t).unwrap();
            // Exact fraction of the full Z in states n > k.
            let w: Vec<f64> = full
                .energy()
                .iter()
                .map(|e| (-(e - full.energy()[0]) / t).exp())
                .collect();
            let total: f64 = w.iter().sum();
            let tail: f64 = w[k + 1..].iter().sum();
            let fraction = tail / total;
            assert!(
                fraction <= bound * (1.0 + 1e-12),
                "k = {k}, T = {t}: tail fraction {fraction:e} above the bound {bound:e}"
            );
            assert!((0.0..=1.0).contains(&bound));
        }
        // Negligible at low T, large at high T.
        let low = truncation_bound(&kept, cutoff, omitted, 0.1 * (k as f64 + 1.0) / 10.0).unwrap();
        assert!(low < 1e-30, "k = {k}: bound {low:e} at low T");
        let high = truncation_bound(&kept, cutoff, omitted, 100.0 * k as f64).unwrap();
        assert!(high > 0.5, "k = {k}: bound {high:e} at high T");
    }
    assert_eq!(truncation_bound(&full, 3000.0, 0.0, 1.0).unwrap(), 0.0);
    assert!(truncation_bound(&full, f64::NAN, 1.0, 1.0).is_err());
    assert!(truncation_bound(&full, 3000.0, -1.0, 1.0).is_err());
    assert!(truncation_bound(&full, 3000.0, 1.0, 0.0).is_err());
}

// ---------------------------------------------------------------- canonical temperature

fn realistic(n: usize) -> StateList {
    let e: Vec<f64> = (0..n).map(|k| -0.1 + 1e-3 * (k * k) as f64).collect();
    let kin: Vec<f64> = e.iter().map(|x| x + 0.2).collect();
    StateList::single_particle(e, kin).unwrap()
}

#[test]
fn canonical_temperature_round_trip() {
    let states = realistic(101);
    let temperatures = log_grid(3e-4, 3e2, 31);
    let energies: Vec<f64> = temperatures
        .iter()
        .map(|&t| states.moments(t).unwrap().energy)
        .collect();
    for (&t, &e) in temperatures.iter().zip(&energies) {
        let back = canonical_temperature(&states, e, 1e-8, 1e6).unwrap();
        assert_close(back, t, 1e-10, "T^(C)(U(T)) realistic");
    }
    let batch = canonical_temperatures(&states, &energies, 1e-8, 1e6).unwrap();
    for (&t, r) in temperatures.iter().zip(batch) {
        assert_close(r.unwrap(), t, 1e-10, "batch T^(C)(U(T)) realistic");
    }

    let two = list(&[0.0, 0.25], &[1, 1], 1);
    for t in log_grid(0.05 * 0.25, 5e4 * 0.25, 25) {
        let e = two.moments(t).unwrap().energy;
        let back = canonical_temperature(&two, e, 1e-6, 1e7).unwrap();
        assert_close(back, t, 1e-10, "T^(C)(U(T)) two-level");
    }
}

#[test]
fn canonical_temperature_out_of_range_is_an_error() {
    let states = realistic(50);
    let ground = states.energy()[0];
    let limit = states.infinite_temperature_energy();
    assert!(matches!(
        canonical_temperature(&states, ground, 1e-6, 1e6),
        Err(ThermoError::EnergyAtOrBelowGround { .. })
    ));
    assert!(matches!(
        canonical_temperature(&states, ground - 1.0, 1e-6, 1e6),
        Err(ThermoError::EnergyAtOrBelowGround { .. })
    ));
    assert!(matches!(
        canonical_temperature(&states, limit, 1e-6, 1e6),
        Err(ThermoError::EnergyAboveLimit { .. })
    ));
    assert!(matches!(
        canonical_temperature(&states, limit + 1.0, 1e-6, 1e6),
        Err(ThermoError::EnergyAboveLimit { .. })
    ));
    // Reachable by the model but not within [t_min, t_max].
    let e = states.moments(10.0).unwrap().energy;
    let err = canonical_temperature(&states, e, 1e-6, 1.0).unwrap_err();
    assert!(matches!(err, ThermoError::OutsideTemperatureRange { .. }));
    assert!(err.to_string().contains("widen the temperature range"));
    assert!(canonical_temperature(&states, f64::NAN, 1e-6, 1.0).is_err());
    assert!(canonical_temperature(&states, -0.05, 1.0, 1e-6).is_err());
    assert!(canonical_temperature(&states, -0.05, 0.0, 1.0).is_err());
    // The batch version reports each energy on its own.
    let r = canonical_temperatures(&states, &[ground, -0.05, limit], 1e-6, 1e6).unwrap();
    assert!(r[0].is_err() && r[1].is_ok() && r[2].is_err());
    assert!(canonical_temperatures(&states, &[-0.05], 2.0, 1.0).is_err());
}

// ---------------------------------------------------------------- microcanonical

#[test]
fn omega_and_entropy_count_degeneracies() {
    let states = list(&[0.0, 1.0, 1.0, 2.0], &[1, 2, 1, 3], 1);
    let s = hertz_entropy(&states);
    let expected = [1.0f64, 4.0, 4.0, 7.0];
    for (a, b) in s.iter().zip(expected) {
        assert_close(*a, b.ln(), 1e-15, "S = ln Ω");
    }
    assert_eq!(s[0], 0.0);
    let levels = distinct_levels(&states);
    assert_eq!(levels.len(), 3);
    let counts: Vec<u64> = levels.iter().map(|l| l.count).collect();
    let omegas: Vec<u64> = levels.iter().map(|l| l.omega).collect();
    assert_eq!(counts, [1, 3, 3]);
    assert_eq!(omegas, [1, 4, 7]);
    assert_eq!(levels[1].first_state, 1);
    assert_eq!(levels[1].states, 2);

    // Nearly equal energies stay separate levels.
    let near = list(&[0.0, 1.0, 1.0 + 1e-13, 2.0], &[1, 1, 1, 1], 1);
    let levels = distinct_levels(&near);
    assert_eq!(levels.len(), 4);
    assert_eq!(
        levels.iter().map(|l| l.omega).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
}

#[test]
fn box_spectrum_microcanonical_temperature() {
    let c = 0.0123;
    let m = 400usize;
    let e: Vec<f64> = (1..=m).map(|n| c * (n * n) as f64).collect();
    let states = StateList::single_particle(e.clone(), e.clone()).unwrap();
    let levels = distinct_levels(&states);
    assert_eq!(levels.len(), m);
    for (i, l) in levels.iter().enumerate() {
        assert_eq!(l.omega, i as u64 + 1);
        assert_close(l.entropy.exp(), (i + 1) as f64, 1e-13, "Ω = n");
    }
    let en = |n: usize| c * (n * n) as f64;
    let centered = microcanonical_temperature(&levels, Difference::Centered);
    let forward = microcanonical_temperature(&levels, Difference::Forward);
    let backward = microcanonical_temperature(&levels, Difference::Backward);
    assert_eq!(Difference::default(), Difference::Centered);
    assert!(centered[0].is_none() && centered[m - 1].is_none());
    assert!(forward[0].is_some() && forward[m - 1].is_none());
    assert!(backward[0].is_none() && backward[m - 1].is_some());
    for n in 1..=m {
        let i = n - 1;
        let nf = n as f64;
        if n > 1 && n < m {
            let t = (en(n + 1) - en(n - 1)) / ((nf + 1.0) / (nf - 1.0)).ln();
            assert_close(centered[i].unwrap(), t, 1e-12, "centered");
        }
        if n < m {
            let t = (en(n + 1) - en(n)) / ((nf + 1.0) / nf).ln();
            assert_close(forward[i].unwrap(), t, 1e-12, "forward");
        }
        if n > 1 {
            let t = (en(n) - en(n - 1)) / (nf / (nf - 1.0)).ln();
            assert_close(backward[i].unwrap(), t, 1e-12, "backward");
        }
        // S ≈ ½ ln E + const → T^(μ) ≈ 2E.
        if (10..m).contains(&n) {
            assert_close(centered[i].unwrap(), 2.0 * en(n), 0.01, "T ≈ 2E");
        }
    }
    let per_state = per_state_microcanonical_temperature(&states, Difference::Centered);
    assert_eq!(per_state, centered);
}

#[test]
fn per_state_temperature_follows_levels() {
    let states = list(&[0.0, 1.0, 1.0, 3.0], &[1, 1, 2, 1], 1);
    let t = per_state_microcanonical_temperature(&states, Difference::Forward);
    // Levels 0 (Ω 1), 1 (Ω 4), 3 (Ω 5).
    assert_close(
        t[0].unwrap(),
        1.0 / 4f64.ln(),
        1e-15,
        "forward T at level 0",
    );
    assert_eq!(t[1], t[2]);
    assert_close(
        t[1].unwrap(),
        2.0 / (5.0f64 / 4.0).ln(),
        1e-14,
        "forward T at level 1",
    );
    assert_eq!(t[3], None);
}

// ---------------------------------------------------------------- kinetic

#[test]
fn kinetic_temperature_is_two_k_over_n() {
    let s = StateList::new(vec![0.0, 1.0], vec![0.3, 0.9], vec![1, 1], 3).unwrap();
    let t = kinetic_temperature(&s);
    assert_close(t[0], 0.2, 1e-15, "T^(K)");
    assert_close(t[1], 0.6, 1e-15, "T^(K)");
}

#[test]
fn window_average_hand_values() {
    // Binary-exact energies so window edges are unambiguous.
    let s = StateList::new(
        vec![0.0, 0.5, 0.5, 1.0, 1.5],
        vec![1.0, 2.0, 4.0, 3.0, 5.0],
        vec![1, 1, 3, 1, 2],
        2,
    )
    .unwrap();
    let grid = [-2.0, 0.0, 0.25, 0.5, 1.25, 2.0];
    let w = window_averages(&s, &grid, 0.75).unwrap();
    let states: Vec<usize> = w.iter().map(|x| x.states).collect();
    let weights: Vec<u64> = w.iter().map(|x| x.weight).collect();
    assert_eq!(states, [0, 3, 2, 3, 1, 0]);
    assert_eq!(weights, [0, 5, 4, 5, 2, 0]);
    let k_expected = [
        None,
        Some((1.0 + 2.0 + 12.0) / 5.0),
        Some((2.0 + 12.0) / 4.0),
        Some((2.0 + 12.0 + 3.0) / 5.0),
        Some(5.0),
        None,
    ];
    let t = window_kinetic_temperature(&s, &grid, 0.75).unwrap();
    for i in 0..grid.len() {
        match k_expected[i] {
            None => {
                assert_eq!(w[i].kinetic, None);
                assert_eq!(t[i], None);
            }
            Some(k) => {
                assert_close(w[i].kinetic.unwrap(), k, 1e-15, "K_E");
                // N = 2, d = 1: T = 2 K / 2 = K.
                assert_close(t[i].unwrap(), k, 1e-15, "T_E");
            }
        }
    }
}

#[test]
fn window_average_matches_brute_force() {
    // Irregular spectrum with near-degenerate clusters and multiplicities.
    let m = 300;
    let mut e: Vec<f64> = (0..m)
        .map(|i| {
            let x = i as f64;
            0.01 * x + 0.003 * (x * 1.7).sin()
        })
        .collect();
    e.sort_by(f64::total_cmp);
    let k: Vec<f64> = (0..m)
        .map(|i| 1.0 + ((i * 7919) % 101) as f64 / 10.0)
        .collect();
    let g: Vec<u64> = (0..m).map(|i| 1 + (i % 3) as u64).collect();
    let s = StateList::new(e.clone(), k.clone(), g.clone(), 4).unwrap();
    let eps = 0.037;
    let grid: Vec<f64> = (0..500).map(|j| -0.1 + 0.0071 * j as f64).collect();
    let t = window_kinetic_temperature(&s, &grid, eps).unwrap();
    for (j, &ge) in grid.iter().enumerate() {
        let (mut num, mut den) = (0.0, 0u64);
        for i in 0..m {
            if ge <= e[i] && e[i] < ge + eps {
                num += g[i] as f64 * k[i];
                den += g[i];
            }
        }
        match t[j] {
            None => assert_eq!(den, 0, "grid point {j}"),
            Some(tj) => assert_close(tj, 2.0 * num / den as f64 / 4.0, 1e-13, "T_E"),
        }
    }
}

#[test]
fn window_with_one_state_each_reproduces_kinetic_temperature() {
    let e: Vec<f64> = (0..50)
        .map(|n| -0.1 + 0.002 * (n * n) as f64 + 1e-4 * n as f64)
        .collect();
    let k: Vec<f64> = e.iter().map(|x| (x + 0.3) * 0.7).collect();
    let s = StateList::single_particle(e.clone(), k).unwrap();
    let min_gap = e
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let w = window_averages(&s, &e, 0.5 * min_gap).unwrap();
    let tk = kinetic_temperature(&s);
    for (i, x) in w.iter().enumerate() {
        assert_eq!(x.states, 1);
        assert_close(x.temperature.unwrap(), tk[i], 1e-15, "T_E = T^(K)");
    }
}

#[test]
fn window_input_errors() {
    let s = realistic(10);
    for eps in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = window_kinetic_temperature(&s, &[0.0], eps).unwrap_err();
        assert!(matches!(err, ThermoError::InvalidWindow(_)));
    }
    assert!(window_kinetic_temperature(&s, &[0.0], -1.0)
        .unwrap_err()
        .to_string()
        .contains("positive finite energy"));
    assert!(matches!(
        window_kinetic_temperature(&s, &[0.0, -1.0], 0.1),
        Err(ThermoError::UnsortedGrid { index: 1, .. })
    ));
    assert!(matches!(
        window_kinetic_temperature(&s, &[0.0, f64::NAN], 0.1),
        Err(ThermoError::NonFiniteGrid { index: 1, .. })
    ));
    assert_eq!(window_kinetic_temperature(&s, &[], 0.1).unwrap(), vec![]);
}

// ---------------------------------------------------------------- NHC

#[test]
fn nhc_single_known_drop() {
    // T rises with slope 0.01, falls by 0.3 between E = 50 and E = 51, then rises again.
    let points: Vec<(f64, Option<f64>)> = (0..=100)
        .map(|i| {
            let e = i as f64;
            let t = if i <= 50 {
                1.0 + 0.01 * e
            } else {
                1.5 - 0.3 + 0.01 * (e - 51.0)
            };
            (e, Some(t))
        })
        .collect();
    let found = nhc_intervals(&points, 1e-9).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let x = found[0];
    assert_eq!((x.e_start, x.e_end), (50.0, 51.0));
    assert_close(x.t_start, 1.5, 1e-15, "t_start");
    assert_close(x.drop, 0.3, 1e-12, "drop");
    assert_close(x.relative_drop, 0.2, 1e-12, "relative drop");
    assert_eq!(
        (x.points, x.gaps, x.start_index, x.end_index),
        (2, 0, 50, 51)
    );
    assert_eq!(largest_drop(&found), Some(&found[0]));
}

#[test]
fn nhc_multi_step_drop_with_plateau_and_two_intervals() {
    let t = [1.0, 1.1, 1.2, 1.0, 1.0, 0.9, 1.3, 1.4, 1.35, 1.5];
    let points: Vec<(f64, Option<f64>)> = t
        .iter()
        .enumerate()
        .map(|(i, &t)| (i as f64 * 0.1, Some(t)))
        .collect();
    let found = nhc_intervals(&points, 1e-9).unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    // 1.2 → 1.0 → 1.0 (plateau) → 0.9 is one interval.
    assert_eq!((found[0].start_index, found[0].end_index), (2, 5));
    assert_eq!(found[0].points, 4);
    assert_close(found[0].drop, 0.3, 1e-12, "first drop");
    assert_eq!((found[1].start_index, found[1].end_index), (7, 8));
    assert_close(found[1].drop, 0.05, 1e-12, "second drop");
    assert_eq!(largest_drop(&found).unwrap().start_index, 2);
}

/// Two drops equal in exact arithmetic but a few ulps apart: the first is named although the
/// second rounds larger; a drop larger by 1e-9 is a real difference and wins.
#[test]
fn largest_drop_ties_within_rounding_name_the_first() {
    let drops = |second_end: f64| {
        let t = [1.0, 1.2, 0.9, 1.0, 1.2, second_end, 1.0];
        let points: Vec<(f64, Option<f64>)> = t
            .iter()
            .enumerate()
            .map(|(i, &t)| (i as f64, Some(t)))
            .collect();
        nhc_intervals(&points, 1e-9).unwrap()
    };
    let found = drops(0.9 - 4.0 * f64::EPSILON);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[1].drop > found[0].drop, "{found:?}");
    assert_eq!(largest_drop(&found).unwrap().start_index, 1);
    let found = drops(0.9 - 1e-9);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(largest_drop(&found).unwrap().start_index, 4);
}

#[test]
fn nhc_monotone_and_noise_give_nothing() {
    let rising: Vec<(f64, Option<f64>)> = (0..200)
        .map(|i| (i as f64, Some(0.5 + 1e-3 * i as f64)))
        .collect();
    assert!(nhc_intervals(&rising, 1e-9).unwrap().is_empty());
    let noisy: Vec<(f64, Option<f64>)> = (0..200)
        .map(|i| {
            let noise = 1e-15 * ((i * 37 % 11) as f64 - 5.0);
            (i as f64, Some(0.7 * (1.0 + noise)))
        })
        .collect();
    assert!(nhc_intervals(&noisy, 1e-9).unwrap().is_empty());
    // The same noise is a drop when the tolerance is 0 (so the tolerance is what removes it).
    assert!(!nhc_intervals(&noisy, 0.0).unwrap().is_empty());
    assert!(nhc_intervals(&[], 1e-9).unwrap().is_empty());
    assert!(nhc_intervals(&[(0.0, Some(1.0))], 1e-9).unwrap().is_empty());
    assert_eq!(largest_drop(&[]), None);
}

#[test]
fn nhc_gaps_are_bridged_and_counted() {
    let points = vec![
        (0.0, Some(1.0)),
        (1.0, Some(1.5)),
        (2.0, None),
        (3.0, None),
        (4.0, Some(1.1)),
        (5.0, Some(1.2)),
        (6.0, None),
    ];
    let found = nhc_intervals(&points, 1e-9).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].e_start, found[0].e_end), (1.0, 4.0));
    assert_eq!(found[0].gaps, 2);
    assert_eq!(found[0].points, 2);
    assert_close(found[0].drop, 0.4, 1e-12, "bridged drop");
    // Only None: nothing.
    assert!(nhc_intervals(&[(0.0, None), (1.0, None)], 1e-9)
        .unwrap()
        .is_empty());
}

#[test]
fn nhc_ties_are_merged_and_order_does_not_matter() {
    // Two states at E = 1 with T 1.1 and 0.9 merge to 1.0: no drop between equal energies.
    let a = vec![
        (0.0, Some(1.0)),
        (1.0, Some(1.1)),
        (1.0, Some(0.9)),
        (2.0, Some(1.2)),
    ];
    assert!(nhc_intervals(&a, 1e-9).unwrap().is_empty());
    let b = vec![
        (2.0, Some(1.2)),
        (1.0, Some(0.9)),
        (0.0, Some(1.0)),
        (1.0, Some(1.1)),
    ];
    assert!(nhc_intervals(&b, 1e-9).unwrap().is_empty());
    // Unsorted input with a real drop: found with input indices.
    let c = vec![
        (2.0, Some(0.5)),
        (0.0, Some(1.0)),
        (1.0, Some(1.4)),
        (1.0, Some(1.6)),
    ];
    let found = nhc_intervals(&c, 1e-9).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].start_index, found[0].end_index), (2, 0));
    assert_close(found[0].t_start, 1.5, 1e-15, "merged t_start");
    assert_close(found[0].drop, 1.0, 1e-15, "merged drop");
}

#[test]
fn nhc_bad_input_is_an_error() {
    assert!(nhc_intervals(&[(0.0, Some(1.0))], -1e-9).is_err());
    assert!(nhc_intervals(&[(0.0, Some(1.0))], f64::NAN).is_err());
    assert!(nhc_intervals(&[(0.0, Some(1.0))], 1.0).is_err());
    assert!(matches!(
        nhc_intervals(&[(0.0, Some(1.0)), (f64::NAN, Some(1.0))], 1e-9),
        Err(ThermoError::NonFinitePoint { index: 1, .. })
    ));
    assert!(nhc_intervals(&[(0.0, Some(f64::INFINITY))], 1e-9).is_err());
}

#[test]
fn nhc_on_a_well_like_spectrum() {
    // N = 1 kinetic energies that rise, drop once at the threshold, rise again (fig. 1 shape).
    let mut e = Vec::new();
    let mut k = Vec::new();
    for n in 0..6 {
        let en = -0.1 + 0.017 * n as f64;
        e.push(en);
        k.push(en + 0.11);
    }
    for n in 1..40 {
        let en = 1e-4 * (n * n) as f64;
        e.push(en);
        k.push(0.004 + en);
    }
    let s = StateList::single_particle(e.clone(), k).unwrap();
    let tk = kinetic_temperature(&s);
    let points: Vec<(f64, Option<f64>)> = e.iter().zip(&tk).map(|(&e, &t)| (e, Some(t))).collect();
    let found = nhc_intervals(&points, 1e-9).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].start_index, found[0].end_index), (5, 6));
    let tmu = per_state_microcanonical_temperature(&s, Difference::Centered);
    assert_eq!(tmu.len(), s.len());
}

// ---------------------------------------------------------------- validation

#[test]
fn state_list_validation() {
    let ok = |e: Vec<f64>, k: Vec<f64>, g: Vec<u64>, n: usize| StateList::new(e, k, g, n);
    assert!(matches!(
        ok(vec![1.0, 0.0], vec![1.0, 1.0], vec![1, 1], 1),
        Err(ThermoError::Unsorted { index: 1, .. })
    ));
    assert!(matches!(
        ok(vec![0.0, f64::NAN], vec![1.0, 1.0], vec![1, 1], 1),
        Err(ThermoError::NonFiniteEnergy { index: 1, .. })
    ));
    assert!(matches!(
        ok(vec![0.0, f64::INFINITY], vec![1.0, 1.0], vec![1, 1], 1),
        Err(ThermoError::NonFiniteEnergy { .. })
    ));
    assert!(matches!(
        ok(vec![0.0, 1.0], vec![1.0, f64::NAN], vec![1, 1], 1),
        Err(ThermoError::InvalidKinetic { index: 1, .. })
    ));
    assert!(matches!(
        ok(vec![0.0, 1.0], vec![1.0, -0.5], vec![1, 1], 1),
        Err(ThermoError::InvalidKinetic { index: 1, .. })
    ));
    assert!(matches!(
        ok(vec![0.0, 1.0], vec![1.0, 1.0], vec![1, 0], 1),
        Err(ThermoError::ZeroMultiplicity { index: 1 })
    ));
    assert!(matches!(
        ok(vec![0.0, 1.0], vec![1.0], vec![1, 1], 1),
        Err(ThermoError::LengthMismatch { .. })
    ));
    assert!(matches!(
        ok(vec![0.0, 1.0], vec![1.0, 1.0], vec![1], 1),
        Err(ThermoError::LengthMismatch { .. })
    ));
    assert!(matches!(
        ok(vec![0.0], vec![1.0], vec![1], 0),
        Err(ThermoError::ZeroParticles)
    ));
    assert!(matches!(
        ok(vec![], vec![], vec![], 1),
        Err(ThermoError::Empty)
    ));
    assert!(matches!(
        ok(vec![0.0, 1.0], vec![1.0, 1.0], vec![u64::MAX, 1], 1),
        Err(ThermoError::MultiplicityOverflow)
    ));
    assert!(StateList::single_particle(vec![0.0, 1.0], vec![0.5]).is_err());
    // Equal energies are allowed (separate states); messages say what would be valid.
    let s = ok(vec![0.0, 1.0, 1.0], vec![1.0, 1.0, 2.0], vec![1, 2, 1], 2).unwrap();
    assert_eq!((s.len(), s.particles(), s.total_multiplicity()), (3, 2, 4));
    assert_close(s.infinite_temperature_energy(), 0.75, 1e-15, "mean energy");
    let msg = ok(vec![1.0, 0.0], vec![1.0, 1.0], vec![1, 1], 1)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("ascending"), "{msg}");
}

#[test]
fn convex_intruder_measures_the_dent_of_an_entropy_curve() {
    use confine::physics::thermo::microcanonical::convex_intruder;
    // A concave curve has no intruder.
    let concave: Vec<(f64, f64)> = (1..50).map(|i| (i as f64, (i as f64).ln())).collect();
    let c = convex_intruder(&concave, 1e-12);
    assert_eq!(c.depth, 0.0);
    assert_eq!(c.width, 0.0);
    // A dent of depth 0.5 at E = 5 between envelope vertices at E = 4 and E = 6.
    let dented: Vec<(f64, f64)> = (0..=10)
        .map(|i| {
            let e = i as f64;
            let s = -(e - 5.0).powi(2) / 10.0;
            (e, if i == 5 { s - 0.5 - 0.1 } else { s })
        })
        .collect();
    let c = convex_intruder(&dented, 1e-12);
    // The envelope at E = 5 is the chord of (4, -0.1) and (6, -0.1): gap = −0.1 − (−0.6) = 0.5.
    assert!((c.depth - 0.5).abs() < 1e-12, "{c:?}");
    assert_eq!(c.energy, 5.0);
    assert_eq!(c.width, 2.0);
}

/// States degenerate in exact arithmetic whose computed energies differ by rounding (the
/// singlet and triplet of one orbital pair without interaction, from two diagonalizations) are
/// one microcanonical level after `with_degenerate_within`: S and T^(μ) equal those of the
/// exactly degenerate list, while the raw list splits Ω into two steps and moves T^(μ).
#[test]
fn rounding_splits_of_degenerate_states_do_not_move_the_microcanonical_temperature() {
    let exact = [0.0, 0.1, 0.25, 0.25, 0.4, 0.6];
    let rounded = [0.0, 0.1, 0.25, 0.25 + 3e-17, 0.4, 0.6];
    let g = vec![1u64, 3, 1, 3, 1, 3];
    let list = |e: &[f64]| StateList::new(e.to_vec(), vec![0.0; e.len()], g.clone(), 2).unwrap();
    let want_t = per_state_microcanonical_temperature(&list(&exact), Difference::Centered);
    let want_s = hertz_entropy(&list(&exact));
    let raw = list(&rounded);
    assert_ne!(
        per_state_microcanonical_temperature(&raw, Difference::Centered),
        want_t,
        "without grouping the split changes T^(mu)"
    );
    let grouped = raw.with_degenerate_within(1e-14);
    assert_eq!(grouped.energy(), &exact[..]);
    assert_eq!(
        per_state_microcanonical_temperature(&grouped, Difference::Centered),
        want_t
    );
    assert_eq!(hertz_entropy(&grouped), want_s);
    assert_eq!(grouped.mean_energy(), list(&exact).mean_energy());
    // A run is anchored at its first energy: a chain of close energies does not drift.
    let chain = StateList::single_particle(vec![1.0, 1.0 + 6e-15, 1.0 + 1.2e-14], vec![0.0; 3])
        .unwrap()
        .with_degenerate_within(1e-14);
    assert_eq!(chain.energy(), &[1.0, 1.0, 1.0 + 1.2e-14]);
    // Tolerance zero changes nothing.
    assert_eq!(list(&rounded).with_degenerate_within(0.0), list(&rounded));
}
