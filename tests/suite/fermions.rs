//! Tests of the canonical N-fermion ensemble (src/thermo/fermions.rs): the positive
//! elementary-symmetric recursion against direct sums over all N-particle states, the N = 1
//! state list, the closed form of the equally spaced ladder, extreme temperatures, the T^(C)
//! round trip, the truncation bound against exact larger gases, and input validation.

use confine::physics::thermo::fermions::{fermion_truncation_bound, FermionGas};
use confine::physics::thermo::{
    canonical_curve, canonical_point, canonical_temperature, canonical_temperatures,
    CanonicalModel, StateList, ThermoError,
};

#[track_caller]
fn assert_close(a: f64, b: f64, rel: f64, what: &str) {
    assert!(
        a.is_finite() && (a - b).abs() <= rel * b.abs(),
        "{what}: got {a:e}, expected {b:e} (rel. diff {:e})",
        (a - b).abs() / b.abs()
    );
}

fn log_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| lo * (hi / lo).powf(k as f64 / (n - 1) as f64))
        .collect()
}

/// A realistic spectrum (Hartree): E_j = −0.1 + 1e-3 j².
fn quadratic_spectrum(m: usize) -> Vec<f64> {
    (0..m).map(|j| -0.1 + 1e-3 * (j * j) as f64).collect()
}

/// All N-particle states of the orbitals as (total energy, multiplicity): occupations 0..=c per
/// orbital, multiplicity 2^(singly occupied) for c = 2.
fn enumerate_states(orbitals: &[f64], particles: usize, c: usize) -> Vec<(f64, u64)> {
    fn go(
        orbitals: &[f64],
        j: usize,
        left: usize,
        c: usize,
        energy: f64,
        g: u64,
        out: &mut Vec<(f64, u64)>,
    ) {
        if left == 0 {
            out.push((energy, g));
            return;
        }
        if j == orbitals.len() {
            return;
        }
        for occ in 0..=c.min(left) {
            let mult = if c == 2 && occ == 1 { 2 } else { 1 };
            go(
                orbitals,
                j + 1,
                left - occ,
                c,
                energy + occ as f64 * orbitals[j],
                g * mult,
                out,
            );
        }
    }
    let mut out = Vec::new();
    go(orbitals, 0, particles, c, 0.0, 1, &mut out);
    out
}

/// Reference thermodynamics from a direct sum: (ln Z, U, S, C), with ln Z' = ln g_0 +
/// ln(1 + rest/g_0) and a two-pass variance.
fn direct_sum(states: &[(f64, u64)], t: f64) -> (f64, f64, f64, f64) {
    let e_gs = states.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let mut g0 = 0.0;
    let mut rest = 0.0;
    let mut first = 0.0;
    for &(e, g) in states {
        let d = e - e_gs;
        if d == 0.0 {
            g0 += g as f64;
        } else {
            let w = g as f64 * (-d / t).exp();
            rest += w;
            first += w * d;
        }
    }
    let z = g0 + rest;
    let ln_z_shifted = g0.ln() + (rest / g0).ln_1p();
    let excitation = first / z;
    let mut second = 0.0;
    for &(e, g) in states {
        let d = e - e_gs - excitation;
        second += g as f64 * (-(e - e_gs) / t).exp() * d * d;
    }
    let variance = second / z;
    (
        ln_z_shifted - e_gs / t,
        e_gs + excitation,
        excitation / t + ln_z_shifted,
        variance / (t * t),
    )
}

/// Smallest positive excitation energy of a list of states.
fn many_body_gap(states: &[(f64, u64)]) -> f64 {
    let e_gs = states.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    states
        .iter()
        .map(|s| s.0 - e_gs)
        .filter(|&d| d > 0.0)
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn recursion_matches_direct_sum_over_all_states() {
    // Dyadic energies (multiples of 1/64, with a degenerate pair): every many-body energy is
    // exact, so the comparison tests the recursion, not the rounding of the reference's sums.
    let orbitals: Vec<f64> = [-32.0, -24.0, -20.0, -20.0, -8.0, 0.0, 4.0, 16.0, 32.0, 48.0]
        .iter()
        .map(|k| k / 64.0)
        .collect();
    for c in [1usize, 2] {
        for m in [4usize, 7, 10] {
            for n in 1..=4 {
                let orb = &orbitals[..m];
                let gas = FermionGas::new(orb.to_vec(), n, c).unwrap();
                let states = enumerate_states(orb, n, c);
                let gap = many_body_gap(&states);
                if !gap.is_finite() {
                    // A filled shell (N = cM): one state; see filled_shell_has_a_single_state.
                    assert_eq!(states.len(), 1);
                    continue;
                }
                let e_gs = states.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
                assert_eq!(
                    gas.ground_energy(),
                    e_gs,
                    "E_gs (c = {c}, M = {m}, N = {n})"
                );
                for t in log_grid(0.01 * gap, 100.0 * gap, 31) {
                    let (ln_z, u, s, heat) = direct_sum(&states, t);
                    let mo = gas.moments(t).unwrap();
                    let p = canonical_point(&gas, t).unwrap();
                    let tag = format!("c = {c}, M = {m}, N = {n}, T = {t:e}");
                    assert_close(mo.ln_z, ln_z, 1e-12, &format!("ln Z ({tag})"));
                    assert_close(p.energy, u, 1e-12, &format!("U ({tag})"));
                    assert_close(p.entropy, s, 1e-12, &format!("S ({tag})"));
                    assert_close(p.heat_capacity, heat, 1e-12, &format!("C ({tag})"));
                    assert_close(p.free_energy, -t * ln_z, 1e-12, &format!("F ({tag})"));
                }
            }
        }
    }
}

#[test]
fn one_particle_equals_the_single_particle_state_list() {
    let orbitals = quadratic_spectrum(30);
    let zeros = vec![0.0; orbitals.len()];
    let spinless = StateList::single_particle(orbitals.clone(), zeros.clone()).unwrap();
    let spin_half = StateList::new(orbitals.clone(), zeros, vec![2; orbitals.len()], 1).unwrap();
    for (c, list) in [(1usize, &spinless), (2, &spin_half)] {
        let gas = FermionGas::new(orbitals.clone(), 1, c).unwrap();
        assert_eq!(CanonicalModel::ground_energy(&gas), list.ground_energy());
        assert_close(
            gas.infinite_temperature_energy(),
            list.mean_energy(),
            1e-14,
            "U(∞)",
        );
        for t in log_grid(1e-5, 10.0, 41) {
            let a = canonical_point(&gas, t).unwrap();
            let b = canonical_point(list, t).unwrap();
            let tag = format!("c = {c}, T = {t:e}");
            assert_close(a.energy, b.energy, 1e-12, &format!("U ({tag})"));
            assert_close(
                a.heat_capacity,
                b.heat_capacity,
                1e-12,
                &format!("C ({tag})"),
            );
            assert_close(a.free_energy, b.free_energy, 1e-12, &format!("F ({tag})"));
            // The state list rounds ln(1 + X/g0) to 0 when X < ε g0: allow that absolute ε.
            assert!(
                (a.entropy - b.entropy).abs() <= 1e-12 * b.entropy.abs() + 1e-15,
                "S ({tag}): {} vs {}",
                a.entropy,
                b.entropy
            );
        }
    }
}

#[test]
fn equally_spaced_ladder_matches_closed_form() {
    // Spinless fermions on e_j = jω: Z_N = e^{−N(N−1)ω/2T} Π_{k=1}^{N} 1/(1 − e^{−kω/T}).
    let omega = 0.0037;
    let m = 400;
    let orbitals: Vec<f64> = (0..m).map(|j| j as f64 * omega).collect();
    for n in [1usize, 2, 3, 5, 8] {
        let gas = FermionGas::new(orbitals.clone(), n, 1).unwrap();
        let e_gs = (n * (n - 1)) as f64 * omega / 2.0;
        assert!((gas.ground_energy() - e_gs).abs() <= 1e-14 * e_gs, "E_gs");
        let temperatures: Vec<f64> = log_grid(0.05, 6.0, 25).iter().map(|r| r * omega).collect();
        let points = canonical_curve(&gas, &temperatures).unwrap();
        for (&t, p) in temperatures.iter().zip(&points) {
            // Omitted orbitals (the infinite ladder above 400ω) carry a negligible share.
            let bound = fermion_truncation_bound(&gas, m as f64 * omega, 1e6, t).unwrap();
            assert!(bound < 1e-20, "truncation share {bound:e} at T = {t:e}");
            let (mut u, mut s, mut heat, mut ln_z) = (e_gs, 0.0, 0.0, -e_gs / t);
            for k in 1..=n {
                let x = k as f64 * omega / t;
                let em1 = x.exp_m1();
                u += k as f64 * omega / em1;
                heat += x * x * x.exp() / (em1 * em1);
                let ln_mode = -(-(-x).exp()).ln_1p();
                s += x / em1 + ln_mode;
                ln_z += ln_mode;
            }
            let tag = format!("N = {n}, T = {:.4} ω", t / omega);
            assert_close(p.energy, u, 1e-12, &format!("U ({tag})"));
            assert_close(p.heat_capacity, heat, 1e-12, &format!("C ({tag})"));
            assert_close(p.entropy, s, 1e-12, &format!("S ({tag})"));
            assert_close(-p.free_energy / t, ln_z, 1e-12, &format!("ln Z ({tag})"));
        }
    }
}

#[test]
fn extreme_temperatures_give_finite_limits() {
    let orbitals = quadratic_spectrum(40);
    let width = orbitals[39] - orbitals[0];
    for (c, n) in [(1usize, 4usize), (2, 4), (2, 3), (2, 61)] {
        let gas = FermionGas::new(orbitals.clone(), n, c).unwrap();
        let states_gap = 1e-3; // smallest level spacing: e_1 − e_0
        let e_gs = gas.ground_energy();
        let limit = gas.infinite_temperature_energy();
        // T → 0: U = E_gs, S = ln g_0 (g_0 = 2 for an odd number of spin-½ electrons).
        let cold = canonical_point(&gas, 1e-6 * states_gap).unwrap();
        assert_eq!(cold.energy, e_gs);
        assert_eq!(cold.heat_capacity, 0.0);
        let g0: f64 = if c == 2 && n % 2 == 1 { 2.0 } else { 1.0 };
        assert_close(
            cold.entropy.max(1e-300),
            g0.ln().max(1e-300),
            1e-15,
            "S(T→0)",
        );
        let very_cold = canonical_point(&gas, 1e-300).unwrap();
        assert_eq!(very_cold.energy, e_gs);
        // T ≫ width: U → N·mean(e), S → ln C(cM, N).
        let t_hot = 1e3 * width;
        let hot = canonical_point(&gas, t_hot).unwrap();
        assert!(
            hot.energy < limit && hot.energy > e_gs,
            "c = {c}, N = {n}: U = {}, limit = {limit}, E_gs = {e_gs}",
            hot.energy
        );
        assert!((limit - hot.energy) <= 2e-3 * (limit - e_gs));
        let ln_binomial: f64 = (0..n)
            .map(|i| (((c * 40 - i) as f64) / ((i + 1) as f64)).ln())
            .sum();
        assert_close(hot.entropy, ln_binomial, 1e-5, "S(T→∞)");
        assert!(hot.heat_capacity.is_finite() && hot.heat_capacity > 0.0);
        let hottest = canonical_point(&gas, 1e300).unwrap();
        assert!(hottest.energy.is_finite() && hottest.entropy.is_finite());
        assert_close(hottest.entropy, ln_binomial, 1e-12, "S(T = 1e300)");
    }
}

#[test]
fn large_spin_half_system_is_finite_and_monotone() {
    // N = 200 electrons on M = 400 orbitals (800 spin-orbitals).
    let orbitals: Vec<f64> = (0..400).map(|j| -0.1 + 1e-5 * (j * j) as f64).collect();
    let gas = FermionGas::new(orbitals, 200, 2).unwrap();
    let e_gs = gas.ground_energy();
    let limit = gas.infinite_temperature_energy();
    let temperatures = log_grid(1e-7, 1e4, 45);
    let points = canonical_curve(&gas, &temperatures).unwrap();
    let mut previous = f64::NEG_INFINITY;
    for p in &points {
        assert!(p.energy.is_finite() && p.entropy.is_finite() && p.heat_capacity.is_finite());
        assert!(p.free_energy.is_finite());
        assert!(
            p.energy >= e_gs && p.energy < limit,
            "U = {} at T = {}",
            p.energy,
            p.temperature
        );
        assert!(
            p.energy >= previous,
            "U not monotone at T = {}",
            p.temperature
        );
        assert!(p.entropy >= 0.0 && p.heat_capacity >= 0.0);
        previous = p.energy;
    }
    // Strictly increasing once excitations are populated.
    assert!(points[10].energy < points[20].energy && points[20].energy < points[30].energy);
    // At T = 1e4 Hartree (≫ width 1.6) S is close to ln C(800, 200) ≈ 446.
    let ln_binomial: f64 = (0..200)
        .map(|i| ((800 - i) as f64 / (i + 1) as f64).ln())
        .sum();
    assert_close(points[44].entropy, ln_binomial, 1e-6, "S(T = 1e4)");
}

#[test]
fn huge_partition_functions_do_not_overflow() {
    // C(2000, 1000) ≈ 10^600 states: Z' exceeds f64 at high T and needs the rescaling.
    let orbitals: Vec<f64> = (0..1000).map(|j| 1e-4 * j as f64).collect();
    let gas = FermionGas::new(orbitals, 1000, 2).unwrap();
    let ln_binomial: f64 = (0..1000)
        .map(|i| ((2000 - i) as f64 / (i + 1) as f64).ln())
        .sum();
    assert!(ln_binomial > 1380.0);
    let hot = canonical_point(&gas, 1e8).unwrap();
    assert_close(hot.entropy, ln_binomial, 1e-12, "S(T = 1e8)");
    assert_close(
        hot.energy,
        gas.infinite_temperature_energy(),
        1e-6,
        "U(T = 1e8)",
    );
    let warm = canonical_point(&gas, 0.05).unwrap();
    assert!(warm.entropy.is_finite() && warm.entropy > 0.0 && warm.entropy < ln_binomial);
    assert!(warm.heat_capacity.is_finite() && warm.heat_capacity > 0.0);
}

#[test]
fn particle_hole_symmetry_with_rescaled_tables() {
    // N electrons on levels e ↔ 2M − N holes on the levels −e (reversed): E = Σ_all e + E_holes,
    // so U_N = Σ_all e + U_holes, and S and C are equal. Z' reaches ~e^900 here (> f64::MAX ≈
    // e^709), so both tables run through the per-entry rescaling (at 2^512), along different
    // paths (N + 1 = 501 vs 901 entries).
    let m = 700;
    let orbitals: Vec<f64> = (0..m)
        .map(|j| 1e-4 * j as f64 + 1e-7 * (j * j) as f64)
        .collect();
    let holes: Vec<f64> = orbitals.iter().rev().map(|e| -e).collect();
    let total: f64 = 2.0 * orbitals.iter().sum::<f64>();
    let particles = FermionGas::new(orbitals, 500, 2).unwrap();
    let antiparticles = FermionGas::new(holes, 900, 2).unwrap();
    assert_close(
        particles.ground_energy(),
        total + antiparticles.ground_energy(),
        1e-13,
        "E_gs",
    );
    for t in log_grid(1e-4, 30.0, 12) {
        let p = canonical_point(&particles, t).unwrap();
        let h = canonical_point(&antiparticles, t).unwrap();
        let tag = format!("T = {t:e}");
        assert_close(p.energy, total + h.energy, 1e-12, &format!("U ({tag})"));
        assert_close(p.entropy, h.entropy, 1e-12, &format!("S ({tag})"));
        assert_close(
            p.heat_capacity,
            h.heat_capacity,
            1e-11,
            &format!("C ({tag})"),
        );
    }
    let hot = canonical_point(&particles, 30.0).unwrap();
    assert!(
        hot.entropy > 800.0,
        "Z' = e^{} does not exceed f64",
        hot.entropy
    );
}

#[test]
fn canonical_temperature_round_trip() {
    let gas = FermionGas::new(quadratic_spectrum(40), 4, 2).unwrap();
    let temperatures = [5e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.5];
    let energies: Vec<f64> = temperatures
        .iter()
        .map(|&t| gas.moments(t).unwrap().energy)
        .collect();
    for (&t, &u) in temperatures.iter().zip(&energies) {
        let back = canonical_temperature(&gas, u, 1e-5, 10.0).unwrap();
        assert_close(back, t, 1e-10, &format!("T^(C)(U({t}))"));
    }
    let many = canonical_temperatures(&gas, &energies, 1e-5, 10.0).unwrap();
    for (&t, back) in temperatures.iter().zip(many) {
        assert_close(back.unwrap(), t, 1e-10, &format!("T^(C) batch at {t}"));
    }
    // The ground energy and the T → ∞ limit are not reachable.
    assert!(canonical_temperature(&gas, gas.ground_energy(), 1e-5, 10.0).is_err());
    assert!(canonical_temperature(&gas, gas.infinite_temperature_energy(), 1e-5, 10.0).is_err());
}

/// Exact share of Z carried by states using an orbital beyond the first `kept` ones.
fn exact_share(full: &[f64], kept: usize, n: usize, c: usize, t: f64) -> f64 {
    let small = FermionGas::new(full[..kept].to_vec(), n, c).unwrap();
    let big = FermionGas::new(full.to_vec(), n, c).unwrap();
    let d = small.moments(t).unwrap().ln_z - big.moments(t).unwrap().ln_z;
    -d.exp_m1()
}

#[test]
fn truncation_bound_bounds_the_exact_share() {
    let full = quadratic_spectrum(40);
    let kept = 10;
    let cutoff = full[kept];
    for (c, n) in [(1usize, 3usize), (2, 4), (2, 7), (1, 10)] {
        let gas = FermionGas::new(full[..kept].to_vec(), n, c).unwrap();
        let mut tight = false;
        for t in log_grid(1e-3, 1.0, 31) {
            let exact = exact_share(&full, kept, n, c, t);
            for omitted in [30.0, 30.5, 1000.0] {
                let bound = fermion_truncation_bound(&gas, cutoff, omitted, t).unwrap();
                assert!((0.0..=1.0).contains(&bound));
                assert!(
                    exact <= bound * (1.0 + 1e-9) + 1e-13,
                    "c = {c}, N = {n}, T = {t:e}: exact share {exact:e} > bound {bound:e}"
                );
            }
            let bound = fermion_truncation_bound(&gas, cutoff, 30.0, t).unwrap();
            if bound < 1e-3 && exact > 1e-12 && bound < 1e4 * exact {
                tight = true;
            }
        }
        assert!(tight, "the bound is never informative for c = {c}, N = {n}");
    }
}

#[test]
fn truncation_bound_is_exact_when_omitted_orbitals_sit_at_the_cutoff() {
    let kept = quadratic_spectrum(12);
    let cutoff = 0.05;
    let omitted = 5;
    let mut full = kept.clone();
    full.extend(std::iter::repeat_n(cutoff, omitted));
    for (c, n) in [(1usize, 3usize), (2, 4), (2, 5)] {
        let gas = FermionGas::new(kept.clone(), n, c).unwrap();
        for t in log_grid(3e-3, 1.0, 15) {
            let exact = exact_share(&full, kept.len(), n, c, t);
            let bound = fermion_truncation_bound(&gas, cutoff, omitted as f64, t).unwrap();
            if exact > 1e-8 {
                assert_close(
                    bound,
                    exact,
                    1e-9,
                    &format!("bound (c = {c}, N = {n}, T = {t})"),
                );
            } else {
                assert!(bound < 1e-7);
            }
        }
    }
}

#[test]
fn truncation_bound_rejects_bad_parameters() {
    let gas = FermionGas::new(quadratic_spectrum(10), 3, 2).unwrap();
    assert_eq!(fermion_truncation_bound(&gas, 0.0, 0.0, 0.01), Ok(0.0));
    assert_eq!(fermion_truncation_bound(&gas, 0.0, 0.9, 0.01), Ok(0.0));
    assert!(fermion_truncation_bound(&gas, f64::NAN, 5.0, 0.01).is_err());
    assert!(fermion_truncation_bound(&gas, 0.0, -1.0, 0.01).is_err());
    assert!(fermion_truncation_bound(&gas, 0.0, f64::INFINITY, 0.01).is_err());
    assert!(fermion_truncation_bound(&gas, 0.0, 5.0, 0.0).is_err());
    assert!(fermion_truncation_bound(&gas, 0.0, 5.0, f64::NAN).is_err());
    // A cutoff below the occupied levels is allowed: the bound is then close to 1.
    let b = fermion_truncation_bound(&gas, -1.0, 5.0, 0.01).unwrap();
    assert!(b > 0.999 && b <= 1.0);
}

#[test]
fn bad_input_is_an_error() {
    let e = vec![-0.1, -0.05, 0.0];
    assert_eq!(
        FermionGas::new(e.clone(), 0, 2),
        Err(ThermoError::ZeroParticles)
    );
    assert!(matches!(
        FermionGas::new(e.clone(), 4, 1),
        Err(ThermoError::InvalidParameter { .. })
    ));
    assert!(matches!(
        FermionGas::new(e.clone(), 7, 2),
        Err(ThermoError::InvalidParameter { .. })
    ));
    assert!(FermionGas::new(e.clone(), 6, 2).is_ok());
    assert!(FermionGas::new(e.clone(), 3, 1).is_ok());
    for spin in [0usize, 3, 4] {
        assert!(matches!(
            FermionGas::new(e.clone(), 1, spin),
            Err(ThermoError::InvalidParameter { .. })
        ));
    }
    assert_eq!(FermionGas::new(vec![], 1, 1), Err(ThermoError::Empty));
    assert!(matches!(
        FermionGas::new(vec![-0.1, f64::NAN, 0.0], 1, 1),
        Err(ThermoError::NonFiniteEnergy { index: 1, .. })
    ));
    assert!(matches!(
        FermionGas::new(vec![-0.1, 0.0, f64::INFINITY], 1, 1),
        Err(ThermoError::NonFiniteEnergy { index: 2, .. })
    ));
    assert!(matches!(
        FermionGas::new(vec![-0.1, 0.0, -0.05], 1, 1),
        Err(ThermoError::Unsorted { index: 2, .. })
    ));
    assert!(FermionGas::new(vec![1e308, 1e308], 2, 1).is_err());
    let gas = FermionGas::new(e, 2, 2).unwrap();
    for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            gas.moments(t),
            Err(ThermoError::InvalidTemperature { .. })
        ));
        assert!(canonical_point(&gas, t).is_err());
    }
}

#[test]
fn filled_shell_has_a_single_state() {
    let gas = FermionGas::new(vec![-0.3, -0.1, 0.2], 6, 2).unwrap();
    assert_close(gas.ground_energy(), -0.4, 1e-15, "E_gs");
    assert_close(gas.infinite_temperature_energy(), -0.4, 1e-15, "U(∞)");
    for t in [1e-3, 1.0, 1e3] {
        let p = canonical_point(&gas, t).unwrap();
        assert_close(p.energy, -0.4, 1e-15, "U");
        assert_eq!(p.entropy, 0.0);
        assert_eq!(p.heat_capacity, 0.0);
    }
}
