//! What the large per-state computations allocate, counted by the suite's allocator
//! (`memory::measure`; "large" is `memory::LARGE`, above what the measuring pool allocates on
//! its own): the per-state entropy and T^(μ) allocate their result only (no vector of levels),
//! the NHC intervals of an ascending curve allocate their result only (no order, merged or
//! defined vectors), the enumeration grows no large vector by reallocation, nor does the
//! N-particle stage of a case, and the folded two-electron integrals never hold the
//! pair-density matrix P. Each also checks that the leaner path computes the same numbers as
//! the reference one.

use crate::common::{square_well, Rng};
use crate::memory::{measure, measure_after, LARGE};
use confine::model::potential::Potential;
use confine::model::problem::Problem;
use confine::physics::coulomb::ci::{orbital_parities, TwoElectronIntegrals};
use confine::physics::coulomb::SoftCoulomb;
use confine::physics::many_body::{enumerate, EnumerationSettings, Orbitals, Spin};
use confine::physics::thermo::{
    distinct_levels, hertz_entropy, microcanonical_temperature, nhc_intervals, nhc_intervals_by,
    per_state_microcanonical_temperature, Difference, StateList,
};
use confine::pipeline::config::parse_study;
use std::path::Path;

/// `states` states in runs of 1 to 3 exactly equal energies, multiplicities 1, 2 or 4.
fn degenerate_list(states: usize) -> StateList {
    let mut rng = Rng(7);
    let mut energy = Vec::with_capacity(states);
    let mut e = -1.0;
    while energy.len() < states {
        e += 1e-3 * (0.1 + rng.next());
        let run = 1 + (3.0 * rng.next()) as usize;
        for _ in 0..run.min(states - energy.len()) {
            energy.push(e);
        }
    }
    let kinetic = (0..states).map(|_| rng.next()).collect();
    let multiplicity = (0..states).map(|i| 1u64 << (i % 3)).collect();
    StateList::new(energy, kinetic, multiplicity, 3).unwrap()
}

#[test]
fn per_state_entropy_and_microcanonical_temperature_allocate_only_their_result() {
    let states = 60_000;
    let list = degenerate_list(states);
    let levels = distinct_levels(&list);
    assert!(
        levels.len() > states / 3 && levels.len() < states,
        "{}",
        levels.len()
    );
    // The per-state values are those of each state's level, for every scheme.
    let (entropy, usage) = measure(|| hertz_entropy(&list));
    eprintln!("hertz_entropy of {states} states: {usage:?}");
    assert_eq!(usage.large_allocations, 1, "{usage:?}");
    assert!(usage.peak <= 8 * states as u64 + LARGE as u64, "{usage:?}");
    let expanded: Vec<f64> = levels
        .iter()
        .flat_map(|l| std::iter::repeat_n(l.entropy, l.states))
        .collect();
    assert_eq!(entropy, expanded);
    for scheme in [
        Difference::Centered,
        Difference::Forward,
        Difference::Backward,
    ] {
        let (t, usage) = measure(|| per_state_microcanonical_temperature(&list, scheme));
        eprintln!("T^(mu) {scheme:?} of {states} states: {usage:?}");
        assert_eq!(usage.large_allocations, 1, "{scheme:?}: {usage:?}");
        assert!(
            usage.peak <= 16 * states as u64 + LARGE as u64,
            "{scheme:?}: {usage:?}"
        );
        let per_level = microcanonical_temperature(&levels, scheme);
        let expanded: Vec<Option<f64>> = levels
            .iter()
            .zip(&per_level)
            .flat_map(|(l, &t)| std::iter::repeat_n(t, l.states))
            .collect();
        assert_eq!(t, expanded, "{scheme:?}");
        assert!(t.iter().filter(|t| t.is_some()).count() > states / 2);
    }
}

/// A noisy temperature curve of `len` points ascending in energy, with runs of equal energies
/// and points without a temperature.
fn noisy_curve(len: usize) -> Vec<(f64, Option<f64>)> {
    let mut rng = Rng(11);
    let mut e = 0.0;
    (0..len)
        .map(|_| {
            if rng.next() > 0.1 {
                e += 1e-4 * rng.next();
            }
            let t = (rng.next() > 0.05).then(|| 0.01 + e + 0.002 * rng.next());
            (e, t)
        })
        .collect()
}

#[test]
fn nhc_intervals_of_an_ascending_curve_allocate_only_their_result() {
    let len = 100_000;
    let curve = noisy_curve(len);
    let (intervals, usage) = measure(|| nhc_intervals(&curve, 1e-9).unwrap());
    eprintln!("{} intervals of {len} points: {usage:?}", intervals.len());
    // A noisy curve falls tens of thousands of times; the result is reserved once at its bound
    // and shrunk, never grown.
    assert!(intervals.len() > len / 10, "{}", intervals.len());
    assert_eq!(usage.large_allocations, 1, "{usage:?}");
    assert!(usage.largest_grown < LARGE as u64, "{usage:?}");
    // The same curve given column by column, and shuffled (the sorting path), gives the same
    // intervals (the shuffled input names the same points by their new indices).
    let energy: Vec<f64> = curve.iter().map(|p| p.0).collect();
    let temperature: Vec<Option<f64>> = curve.iter().map(|p| p.1).collect();
    let by = nhc_intervals_by(len, |i| (energy[i], temperature[i]), 1e-9).unwrap();
    assert_eq!(by, intervals);
    let mut rng = Rng(5);
    let mut order: Vec<usize> = (0..len).collect();
    for i in (1..len).rev() {
        order.swap(i, (rng.next() * (i + 1) as f64) as usize);
    }
    let shuffled: Vec<(f64, Option<f64>)> = order.iter().map(|&i| curve[i]).collect();
    let from_shuffled = nhc_intervals(&shuffled, 1e-9).unwrap();
    assert_eq!(from_shuffled.len(), intervals.len());
    // (The mean temperature of equal energies is summed in input order: equal to rounding.)
    for (a, b) in from_shuffled.iter().zip(&intervals) {
        assert_eq!(
            (a.e_start, a.e_end, a.points, a.gaps),
            (b.e_start, b.e_end, b.points, b.gaps)
        );
        assert!((a.drop - b.drop).abs() <= 1e-14 * b.t_start, "{a:?} {b:?}");
        assert_eq!(shuffled[a.start_index].0, curve[b.start_index].0);
        assert_eq!(shuffled[a.end_index].0, curve[b.end_index].0);
    }
}

/// Equally spaced orbitals e_j = j / 10 with kinetic energies (j + 1) / 7 (Hartree), a finite basis.
fn ladder(m: usize) -> Orbitals {
    let energy = (0..m).map(|j| j as f64 / 10.0).collect();
    let kinetic = (0..m).map(|j| (j + 1) as f64 / 7.0).collect();
    Orbitals::finite_basis(energy, kinetic).unwrap()
}

#[test]
fn enumeration_grows_no_vector() {
    // Several of the search's chunks of occupations.
    let orbitals = ladder(100);
    let settings = EnumerationSettings::new(4, Spin::Half, 8.0);
    let (states, usage) = measure(|| enumerate(&orbitals, &settings).unwrap());
    eprintln!("{} occupations enumerated: {usage:?}", states.len());
    assert!(states.len() > 50_000, "{}", states.len());
    // Only the short list of chunks grows (a hundred bytes per 16 384 occupations).
    assert!(usage.largest_grown < 4096, "{usage:?}");
    // Sorted by (energy, occupation), every occupation once.
    for i in 1..states.len() {
        let order = states.energy()[i - 1]
            .total_cmp(&states.energy()[i])
            .then_with(|| states.occupation(i - 1).cmp(&states.occupation(i)));
        assert_eq!(order, std::cmp::Ordering::Less, "state {i}");
    }
}

#[test]
fn the_particle_stage_of_a_case_makes_no_large_regrowth_copy() {
    // N = 4 and 5 electrons in the paper's well up to E/N = 0.02 Ha (29 583 and 237 629
    // occupations), the per-state tables and their NHC intervals.
    let text = format!(
        "{}[particles]\nn = [4, 5]\nenergy_per_particle_max = 0.02\n",
        square_well(100.0, 0.1, 20.0, 0.25, 100)
    );
    let study = parse_study(&text, Path::new("allocations.toml")).unwrap();
    let (result, usage) =
        measure(|| confine::pipeline::study::run_study(&study).expect("the case runs"));
    let occupations = result.cases[0].particles[1].occupations.unwrap();
    eprintln!("N = 4 and 5 ({occupations} occupations): {usage:?}");
    assert!(occupations > 200_000, "{occupations}");
    // A per-state Vec that doubled would copy megabytes.
    assert!(usage.largest_grown < 1 << 20, "{usage:?}");
}

#[test]
fn folded_integrals_never_hold_the_pair_density_matrix() {
    let well = Potential::square_well(100.0, 0.1, 20.0).unwrap();
    let spectrum = Problem::new(well, 1.0, 0.25, 60).spectrum().unwrap();
    let m = 60;
    let parity = orbital_parities(&spectrum, m).expect("a symmetric well");
    let w = SoftCoulomb::new(1.0, 1.0, 1.0).unwrap();
    let compute = || TwoElectronIntegrals::compute(&spectrum, m, &w, Some(&parity)).unwrap();
    // Once before measuring, so that the products' per-thread scratch is not counted.
    let (integrals, usage) = measure_after(|| drop(compute()), compute);
    assert!(integrals.uses_parity());
    let n = spectrum.grid.interior().len();
    let pairs = m * (m + 1) / 2;
    let even = (0..m)
        .flat_map(|k| (0..=k).map(move |i| (i, k)))
        .filter(|&(i, k)| parity[i] == parity[k])
        .count();
    let g_bytes = 8 * (even * even + (pairs - even) * (pairs - even)) as u64;
    let p_bytes = 8 * (n * pairs) as u64;
    eprintln!("integrals: {usage:?}, G {g_bytes} bytes, P {p_bytes} bytes");
    // The two blocks G are kept; beside them only the folded densities of both classes (half of
    // P), their potentials until each is summed into its G (half of P) and a block of kernel
    // rows per class.
    assert!(
        usage.peak < g_bytes + p_bytes,
        "peak {} bytes, G {g_bytes} bytes, P {p_bytes} bytes",
        usage.peak
    );
    // The folded blocks are those of the full grid sums (to rounding).
    let full = TwoElectronIntegrals::compute(&spectrum, m, &w, None).unwrap();
    let mut largest = 0.0f64;
    for (i, j, k, l) in [
        (0, 0, 0, 0),
        (0, 1, 1, 0),
        (2, 3, 3, 2),
        (1, 4, 5, 0),
        (7, 7, 9, 9),
    ] {
        let (a, b) = (
            integrals.get(i, j, k, l).unwrap(),
            full.get(i, j, k, l).unwrap(),
        );
        largest = largest.max(b.abs());
        assert!(
            (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
            "<{i}{j}|W|{k}{l}>: {a} vs {b}"
        );
    }
    assert!(largest > 1e-3);
}
