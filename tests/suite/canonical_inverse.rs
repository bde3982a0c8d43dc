//! T^(C)(E), the inverse of U(T), against closed forms: a two-level system
//! (T = Δ/ln(g(Δ − E)/E)) and a harmonic ladder (T = ω/ln(1 + ω/E)), from next to the ground
//! state (T → t_min) to next to the infinite-temperature limit, with a variance that vanishes
//! at table nodes, for a state list and for the N-fermion model; and U(T^(C)) = E to rounding.

use confine::physics::thermo::fermions::FermionGas;
use confine::physics::thermo::{
    canonical_temperature, canonical_temperatures, CanonicalModel, StateList,
};

/// Tolerance of the solver on ln T (its stopping rule allows 1e-14; two such answers differ
/// by at most twice that).
const LN_T_TOLERANCE: f64 = 2e-14;

/// How far ln T may lie from the exact root: the tolerance plus the conditioning of the root,
/// a few roundings of U (ε|E| each) over dU/d ln T = Var/T. The closed forms round as much.
fn ln_t_bound<M: CanonicalModel + ?Sized>(model: &M, energy: f64, temperature: f64) -> f64 {
    let slope = model.moments(temperature).unwrap().variance / temperature;
    LN_T_TOLERANCE + 4.0 * f64::EPSILON * energy.abs() / slope
}

#[track_caller]
fn assert_root<M: CanonicalModel + ?Sized>(model: &M, energy: f64, got: f64, exact: f64) {
    let diff = (got.ln() - exact.ln()).abs();
    let bound = ln_t_bound(model, energy, exact);
    assert!(
        diff <= bound,
        "E = {energy:e}: T = {got:e}, exact {exact:e}: |Δ ln T| = {diff:e} > {bound:e}"
    );
    // U(T) = E to rounding: the residual is what the distance to the root explains.
    let m = model.moments(got).unwrap();
    let residual = (m.energy - energy).abs();
    let allowed = m.variance / got * bound + 2.0 * f64::EPSILON * energy.abs();
    assert!(
        residual <= allowed,
        "E = {energy:e}: U(T) − E = {residual:e} > {allowed:e}"
    );
}

fn list(energy: &[f64], g: &[u64]) -> StateList {
    StateList::new(energy.to_vec(), vec![0.0; energy.len()], g.to_vec(), 1).unwrap()
}

/// T of the two-level system 0, Δ (degeneracies 1, g) at U = E (Hartree).
fn two_level_temperature(delta: f64, g: f64, energy: f64) -> f64 {
    // g(Δ − E)/E = 1 + (gΔ − (g + 1)E)/E: ln_1p keeps the high-T end accurate.
    delta / ((g * delta - (g + 1.0) * energy) / energy).ln_1p()
}

/// Energies whose roots run from just above t_min to far above the gap, and towards the limit.
fn two_level_energies(delta: f64, g: f64, t_min: f64) -> Vec<f64> {
    let u = |t: f64| {
        let w = g * (-delta / t).exp();
        delta * w / (1.0 + w)
    };
    let limit = g * delta / (g + 1.0);
    let mut energies = vec![u(t_min * (1.0 + 1e-9)), u(t_min * 1.001)];
    energies.extend((0..60).map(|k| u(t_min * 1.3 * (1e7f64).powf(k as f64 / 59.0))));
    energies.extend((2..12).map(|k| limit * (1.0 - 10f64.powi(-k))));
    energies
}

#[test]
fn two_level_system_from_the_ground_state_to_the_infinite_temperature_limit() {
    let delta = 0.37;
    let t_min = delta / 700.0;
    let t_max = delta * 1e12;
    for g in [1u64, 3] {
        let states = list(&[0.0, delta], &[1, g]);
        let energies = two_level_energies(delta, g as f64, t_min);
        let batch = canonical_temperatures(&states, &energies, t_min, t_max).unwrap();
        for (&e, t) in energies.iter().zip(batch) {
            let exact = two_level_temperature(delta, g as f64, e);
            assert_root(&states, e, t.unwrap(), exact);
            let single = canonical_temperature(&states, e, t_min, t_max).unwrap();
            assert_root(&states, e, single, exact);
        }
        // U(t_min) itself is the end of the range, returned exactly.
        let at_end = states.moments(t_min).unwrap().energy;
        let r = canonical_temperatures(&states, &[at_end], t_min, t_max).unwrap();
        assert_eq!(r[0].clone().unwrap(), t_min);
    }
}

#[test]
fn the_n_fermion_model_with_one_particle_on_two_orbitals_is_a_two_level_system() {
    let delta = 0.05;
    let gas = FermionGas::new(vec![-0.2, -0.2 + delta], 1, 1).unwrap();
    let t_min = delta / 500.0;
    // Excitations below ~1e-17 Ha round away next to E_0 = −0.2 Ha: those roots are left out.
    let energies: Vec<f64> = two_level_energies(delta, 1.0, t_min)
        .into_iter()
        .filter(|&x| x > 1e-12)
        .map(|x| -0.2 + x)
        .collect();
    assert!(energies.len() > 50);
    let batch = canonical_temperatures(&gas, &energies, t_min, delta * 1e12).unwrap();
    for (&e, t) in energies.iter().zip(batch) {
        // The shifted two-level system: E − E_0 is exact for these energies (Sterbenz).
        let exact = two_level_temperature(delta, 1.0, e + 0.2);
        assert_root(&gas, e, t.unwrap(), exact);
    }
}

#[test]
fn a_variance_that_underflows_to_zero_at_the_first_nodes() {
    // Δ/T > 746 at t_min: every excited weight underflows there, so U = E_0 = 0 and Var = 0
    // at the first node (dU/d ln T = 0 for the cubic start), while the roots of these tiny
    // energies lie in the first cells.
    let states = list(&[0.0, 1.0], &[1, 1]);
    let t_min = 1.0 / 800.0;
    let m = states.moments(t_min).unwrap();
    assert_eq!((m.energy, m.variance), (0.0, 0.0));
    let energies = [1e-306, 1e-305, 3e-303, 1e-301, 1e-300];
    let batch = canonical_temperatures(&states, &energies, t_min, 10.0).unwrap();
    for (&e, t) in energies.iter().zip(batch) {
        let t = t.unwrap();
        assert!(
            t < t_min * 1.5,
            "{e:e} solved at {t:e}: not in the first cells"
        );
        assert_root(&states, e, t, two_level_temperature(1.0, 1.0, e));
    }
}

#[test]
fn harmonic_ladder() {
    // Levels nω, n < 4000: for T ≤ 20ω the omitted levels weigh below e^{-200}, so U is the
    // infinite ladder's U = ω/(e^{ω/T} − 1).
    let omega = 0.01;
    let energies: Vec<f64> = (0..4000).map(|n| n as f64 * omega).collect();
    let states = list(&energies, &vec![1; energies.len()]);
    let (t_min, t_max) = (omega / 50.0, 20.0 * omega);
    let targets: Vec<f64> = (0..80)
        .map(|k| {
            let t = t_min * (1.0 + 1e-6) * ((t_max / t_min) * (1.0 - 1e-6)).powf(k as f64 / 79.0);
            omega / (omega / t).exp_m1()
        })
        .collect();
    let batch = canonical_temperatures(&states, &targets, t_min, t_max).unwrap();
    for (&e, t) in targets.iter().zip(batch) {
        let exact = omega / (omega / e).ln_1p();
        assert_root(&states, e, t.unwrap(), exact);
        let single = canonical_temperature(&states, e, t_min, t_max).unwrap();
        assert_root(&states, e, single, exact);
    }
}
