//! Tests of the non-interacting N-fermion states (`confine::physics::many_body`): branch-and-bound
//! enumeration against brute force over all N-subsets / multisets, spin multiplicities, ties,
//! the truncation and state-limit errors, binned counting against the enumeration (exact on an
//! energy lattice, within the documented misbinning bound otherwise) and against partition
//! numbers, and the paper's reference well (U0 = 0.1, a = 20, L = 200).

use crate::common::Rng;
use confine::model::potential::Potential;
use confine::model::problem::Problem;
use confine::physics::many_body::{
    binned_counts, binned_counts_with, enumerate, ground_state_energy, BinnedCounts,
    BinningSettings, EnumerationSettings, ManyBodyError, ManyBodyStates, Orbitals, Spin,
};
use confine::physics::thermo::window_averages;
use std::cmp::Ordering;
use std::sync::OnceLock;

/// M random ascending energies in [-1, 1) (rounded to multiples of `lattice` if given, which
/// makes exact ties likely) and random kinetic energies in [0, 1).
fn random_orbitals(seed: u64, m: usize, lattice: Option<f64>) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut energy: Vec<f64> = (0..m)
        .map(|_| {
            let x = 2.0 * rng.next() - 1.0;
            match lattice {
                Some(step) => (x / step).round() * step,
                None => x,
            }
        })
        .collect();
    energy.sort_by(f64::total_cmp);
    let kinetic = (0..m).map(|_| rng.next()).collect();
    (energy, kinetic)
}

/// One state of the brute-force reference.
#[derive(Debug, Clone, PartialEq)]
struct Brute {
    occupation: Vec<u32>,
    energy: f64,
    kinetic: f64,
    multiplicity: u64,
}

/// Every N-subset (spinless) or N-multiset with multiplicities ≤ 2 (spin ½) of the orbitals,
/// without any pruning, with E ≤ e_max, sorted by (energy, occupation).
fn brute_force(energy: &[f64], kinetic: &[f64], n: usize, spin: Spin, e_max: f64) -> Vec<Brute> {
    fn rec(
        j: usize,
        left: usize,
        cap: usize,
        m: usize,
        current: &mut Vec<u32>,
        out: &mut Vec<Vec<u32>>,
    ) {
        if left == 0 {
            out.push(current.clone());
            return;
        }
        if j == m {
            return;
        }
        for take in (0..=cap.min(left)).rev() {
            for _ in 0..take {
                current.push(j as u32);
            }
            rec(j + 1, left - take, cap, m, current, out);
            for _ in 0..take {
                current.pop();
            }
        }
    }
    let mut all = Vec::new();
    rec(
        0,
        n,
        spin.capacity(),
        energy.len(),
        &mut Vec::new(),
        &mut all,
    );
    let mut states: Vec<Brute> = all
        .into_iter()
        .map(|occ| {
            let e = occ.iter().fold(0.0, |acc, &j| acc + energy[j as usize]);
            let k = occ.iter().fold(0.0, |acc, &j| acc + kinetic[j as usize]);
            let singles = occ
                .iter()
                .filter(|&&j| occ.iter().filter(|&&i| i == j).count() == 1)
                .count();
            let g = if spin == Spin::Half {
                1u64 << singles
            } else {
                1
            };
            Brute {
                occupation: occ,
                energy: e,
                kinetic: k,
                multiplicity: g,
            }
        })
        .filter(|s| s.energy <= e_max)
        .collect();
    states.sort_by(|a, b| {
        a.energy
            .total_cmp(&b.energy)
            .then_with(|| a.occupation.cmp(&b.occupation))
    });
    states
}

/// Asserts that the enumeration equals the brute-force list entry by entry, bit for bit.
fn assert_same(states: &ManyBodyStates, brute: &[Brute], what: &str) {
    assert_eq!(states.len(), brute.len(), "{what}: number of occupations");
    for (i, b) in brute.iter().enumerate() {
        assert_eq!(
            states.occupation(i).unwrap(),
            &b.occupation[..],
            "{what}: occupation {i}"
        );
        assert_eq!(
            states.energy()[i].to_bits(),
            b.energy.to_bits(),
            "{what}: energy {i}"
        );
        assert_eq!(
            states.kinetic()[i].to_bits(),
            b.kinetic.to_bits(),
            "{what}: kinetic {i}"
        );
        assert_eq!(
            states.multiplicity()[i],
            b.multiplicity,
            "{what}: multiplicity {i}"
        );
    }
    let total: u64 = brute.iter().map(|b| b.multiplicity).sum();
    assert_eq!(states.total_states(), total, "{what}: total states");
    assert!(states.occupation(brute.len()).is_none());
}

#[test]
fn enumeration_matches_brute_force_for_n_2_and_3() {
    for seed in 1..=6u64 {
        for lattice in [None, Some(0.25)] {
            let (energy, kinetic) = random_orbitals(seed, 12, lattice);
            let basis = Orbitals::finite_basis(energy.clone(), kinetic.clone()).unwrap();
            for spin in [Spin::Half, Spin::None] {
                for n in 1..=3usize {
                    let ground = ground_state_energy(&basis, n, spin).unwrap();
                    let top = energy[11] * n as f64;
                    for fraction in [0.0, 0.3, 0.7, 1.0] {
                        let e_max = ground + fraction * (top - ground);
                        let what =
                            format!("seed {seed} lattice {lattice:?} {spin:?} N={n} E_max={e_max}");
                        let states =
                            enumerate(&basis, &EnumerationSettings::new(n, spin, e_max)).unwrap();
                        let brute = brute_force(&energy, &kinetic, n, spin, e_max);
                        assert!(!brute.is_empty());
                        assert_same(&states, &brute, &what);
                        assert_eq!(states.ground_energy().to_bits(), ground.to_bits(), "{what}");
                        if fraction == 1.0 {
                            // Every N-subset / multiset: C(M, N) or C(2M, N) spin states.
                            let slots = 12 * spin.capacity() as u64;
                            let all =
                                (0..n as u64).fold(1u64, |acc, i| acc * (slots - i) / (i + 1));
                            assert_eq!(states.total_states(), all, "{what}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn enumeration_over_many_chunks_matches_brute_force() {
    // Tens of thousands of occupations: the search stores them in three to six chunks of 16 384
    // and the sort gathers them back, bit for bit, ties included.
    for (seed, lattice, m, spin) in [
        (21u64, None, 40usize, Spin::None),
        (22, Some(0.25), 40, Spin::None),
        (23, Some(0.125), 32, Spin::Half),
    ] {
        let (energy, kinetic) = random_orbitals(seed, m, lattice);
        let basis = Orbitals::finite_basis(energy.clone(), kinetic.clone()).unwrap();
        let ground = ground_state_energy(&basis, 4, spin).unwrap();
        let top = 4.0 * energy[m - 1];
        for fraction in [0.6, 1.0] {
            let e_max = ground + fraction * (top - ground);
            let what = format!("seed {seed} lattice {lattice:?} {spin:?} E_max={e_max}");
            let states = enumerate(&basis, &EnumerationSettings::new(4, spin, e_max)).unwrap();
            let brute = brute_force(&energy, &kinetic, 4, spin, e_max);
            assert!(brute.len() > 2 * 16_384, "{what}: {}", brute.len());
            assert_same(&states, &brute, &what);
        }
    }
}

#[test]
fn truncated_orbitals_give_the_same_states_when_enough_are_supplied() {
    for seed in 10..=14u64 {
        let (energy, kinetic) = random_orbitals(seed, 12, None);
        let truncated = Orbitals::new(energy.clone(), kinetic.clone()).unwrap();
        for spin in [Spin::Half, Spin::None] {
            for n in 2..=3usize {
                let ground = ground_state_energy(&truncated, n, spin).unwrap();
                // The largest E_max the check accepts: e_11 + E_gs(N-1) must exceed it.
                let others = ground_state_energy(&truncated, n - 1, spin).unwrap();
                let e_max = (energy[11] + others) - 1e-9;
                let states = enumerate(&truncated, &EnumerationSettings::new(n, spin, e_max))
                    .unwrap_or_else(|err| panic!("seed {seed} {spin:?} N={n}: {err}"));
                assert_same(
                    &states,
                    &brute_force(&energy, &kinetic, n, spin, e_max),
                    "truncated",
                );
                assert!(states.ground_energy() == ground);
                assert!(states.needed_energy() < energy[11]);
                assert!(states.highest_orbital() < states.orbitals_needed());
                assert!(states.orbitals_needed() <= 12);
                // Reaching the last orbital is refused.
                let err = enumerate(
                    &truncated,
                    &EnumerationSettings::new(n, spin, energy[11] + others),
                )
                .unwrap_err();
                assert!(
                    matches!(err, ManyBodyError::NeedMoreOrbitals { supplied: 12, .. }),
                    "{err}"
                );
            }
        }
    }
}

#[test]
fn two_spin_half_particles_in_two_orbitals_have_six_states() {
    let basis = Orbitals::finite_basis(vec![0.0, 1.0], vec![0.5, 0.25]).unwrap();
    let states = enumerate(&basis, &EnumerationSettings::new(2, Spin::Half, 2.0)).unwrap();
    assert_eq!(states.len(), 3);
    assert_eq!(states.occupation(0).unwrap(), &[0, 0]);
    assert_eq!(states.occupation(1).unwrap(), &[0, 1]);
    assert_eq!(states.occupation(2).unwrap(), &[1, 1]);
    assert_eq!(states.energy(), &[0.0, 1.0, 2.0]);
    assert_eq!(states.kinetic(), &[1.0, 0.75, 0.5]);
    assert_eq!(states.multiplicity(), &[1, 4, 1]);
    assert_eq!(states.total_states(), 6);
    // Spinless: only the one state {0, 1}.
    let spinless = enumerate(&basis, &EnumerationSettings::new(2, Spin::None, 2.0)).unwrap();
    assert_eq!(spinless.len(), 1);
    assert_eq!(spinless.multiplicity(), &[1]);
    assert_eq!(spinless.total_states(), 1);
    // Three spin-1/2 particles: [0,0,1] and [0,1,1], two spin states each.
    let three = enumerate(&basis, &EnumerationSettings::new(3, Spin::Half, 10.0)).unwrap();
    assert_eq!(three.multiplicity(), &[2, 2]);
    assert_eq!(three.occupations(), &[0, 0, 1, 0, 1, 1]);
    // Spin::default() is spin 1/2, and it serializes as "half" / "none".
    assert_eq!(Spin::default(), Spin::Half);
    assert_eq!(serde_json::to_string(&Spin::Half).unwrap(), "\"half\"");
    assert_eq!(
        serde_json::from_str::<Spin>("\"none\"").unwrap(),
        Spin::None
    );
    assert_eq!(Spin::Half.capacity(), 2);
    assert_eq!(Spin::None.capacity(), 1);
    assert_eq!(Spin::Half.multiplicity(64), None);
}

#[test]
fn first_levels_of_three_spin_half_particles() {
    let basis = Orbitals::finite_basis(vec![0.0, 1.0, 2.5, 4.0], vec![0.0; 4]).unwrap();
    let states = enumerate(&basis, &EnumerationSettings::new(3, Spin::Half, 4.0)).unwrap();
    let expected: [(&[u32], f64, u64); 5] = [
        (&[0, 0, 1], 1.0, 2),
        (&[0, 1, 1], 2.0, 2),
        (&[0, 0, 2], 2.5, 2),
        (&[0, 1, 2], 3.5, 8),
        (&[0, 0, 3], 4.0, 2),
    ];
    assert_eq!(states.len(), expected.len());
    for (i, (occ, e, g)) in expected.iter().enumerate() {
        assert_eq!(states.occupation(i).unwrap(), *occ, "state {i}");
        assert_eq!(states.energy()[i], *e, "state {i}");
        assert_eq!(states.multiplicity()[i], *g, "state {i}");
    }
    assert_eq!(states.total_states(), 16);
    assert_eq!(states.highest_orbital(), 3);
}

#[test]
fn exact_and_near_ties_stay_distinct_entries() {
    // 0 + 3 = 1 + 2 exactly.
    let basis = Orbitals::finite_basis(vec![0.0, 1.0, 2.0, 3.0], vec![0.0; 4]).unwrap();
    let s = enumerate(&basis, &EnumerationSettings::new(2, Spin::None, 10.0)).unwrap();
    let occ: Vec<&[u32]> = (0..s.len()).map(|i| s.occupation(i).unwrap()).collect();
    assert_eq!(
        occ,
        vec![&[0, 1][..], &[0, 2], &[0, 3], &[1, 2], &[1, 3], &[2, 3]]
    );
    assert_eq!(s.energy(), &[1.0, 2.0, 3.0, 3.0, 4.0, 5.0]);
    assert_eq!(s.multiplicity(), &[1; 6]);
    // Spin 1/2: [0,2] and [1,1] tie at 2, [0,3] and [1,2] at 3; lexicographic order within.
    let h = enumerate(&basis, &EnumerationSettings::new(2, Spin::Half, 3.0)).unwrap();
    let occ: Vec<&[u32]> = (0..h.len()).map(|i| h.occupation(i).unwrap()).collect();
    assert_eq!(
        occ,
        vec![&[0, 0][..], &[0, 1], &[0, 2], &[1, 1], &[0, 3], &[1, 2]]
    );
    assert_eq!(h.multiplicity(), &[1, 4, 4, 1, 4, 4]);
    assert_eq!(h.total_states(), 18);

    // Near-ties at 1e-13: 0 + (3 + 1e-13) vs 1 + 2, and a near-degenerate pair of orbitals.
    let near = Orbitals::finite_basis(vec![0.0, 1.0, 2.0, 3.0 + 1e-13], vec![0.0; 4]).unwrap();
    let s = enumerate(&near, &EnumerationSettings::new(2, Spin::None, 10.0)).unwrap();
    assert_eq!(s.len(), 6);
    assert_eq!(s.occupation(2).unwrap(), &[1, 2]);
    assert_eq!(s.occupation(3).unwrap(), &[0, 3]);
    assert_eq!(s.energy()[2], 3.0);
    assert!(s.energy()[3] > 3.0 && s.energy()[3] - 3.0 < 2e-13);
    let pair = Orbitals::finite_basis(vec![0.0, 0.5, 0.5 + 1e-13], vec![0.0; 3]).unwrap();
    let s = enumerate(&pair, &EnumerationSettings::new(2, Spin::Half, 0.6)).unwrap();
    let occ: Vec<&[u32]> = (0..s.len()).map(|i| s.occupation(i).unwrap()).collect();
    assert_eq!(occ, vec![&[0, 0][..], &[0, 1], &[0, 2]]);
    assert_eq!(s.multiplicity(), &[1, 4, 4]);
    // Exact ties of orbital energies: two orbitals at the same energy are two orbitals.
    let tied = Orbitals::finite_basis(vec![0.0, 1.0, 1.0], vec![0.0; 3]).unwrap();
    let s = enumerate(&tied, &EnumerationSettings::new(1, Spin::Half, 1.0)).unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!(s.total_states(), 6);
}

/// Enumerates up to just below the last upper edge of `binned` and bins the states by
/// excitation energy: (counts, kinetic sums, excitations of every state with its weight).
fn enumerate_into_bins(
    basis: &Orbitals,
    binned: &BinnedCounts,
    e_max: f64,
) -> (Vec<f64>, Vec<f64>, Vec<(f64, f64)>) {
    let n = binned.particles;
    let states = enumerate(basis, &EnumerationSettings::new(n, binned.spin, e_max)).unwrap();
    let bins = binned.bins.len();
    let mut counts = vec![0.0; bins];
    let mut ksum = vec![0.0; bins];
    let mut excitations = Vec::new();
    for i in 0..states.len() {
        let x = states.energy()[i] - states.ground_energy();
        let g = states.multiplicity()[i] as f64;
        excitations.push((x, g));
        let b = (x / binned.bin_width).floor() as usize;
        if b < bins {
            counts[b] += g;
            ksum[b] += g * states.kinetic()[i];
        }
    }
    (counts, ksum, excitations)
}

#[test]
fn binned_counts_equal_enumeration_on_an_energy_lattice() {
    // Energies on a lattice of 1/8 Ha, bins of 1/2 Ha with 4 quanta: no rounding at all, so the
    // DP must reproduce the enumeration bin by bin, including states exactly on bin edges.
    for seed in 20..=25u64 {
        let (energy, kinetic) = random_orbitals(seed, 10, Some(0.125));
        let basis = Orbitals::finite_basis(energy, kinetic).unwrap();
        for spin in [Spin::Half, Spin::None] {
            for n in 1..=4usize {
                if n > basis.len() * spin.capacity() {
                    continue;
                }
                let ground = ground_state_energy(&basis, n, spin).unwrap();
                let e_max = ground + 3.3;
                let settings = BinningSettings {
                    quanta_per_bin: 4,
                    ..BinningSettings::new(n, spin, e_max, 0.5)
                };
                let binned = binned_counts_with(&basis, &settings).unwrap();
                assert_eq!(binned.energy_error_bound, 0.0);
                assert_eq!(binned.bins.len(), 7);
                assert_eq!(binned.e_ground, ground);
                // States on the lattice: every state below the last upper edge has E ≤ top − 1/16.
                let top = ground + 7.0 * 0.5;
                let (counts, ksum, _) = enumerate_into_bins(&basis, &binned, top - 0.0625);
                for (b, bin) in binned.bins.iter().enumerate() {
                    let what = format!("seed {seed} {spin:?} N={n} bin {b}");
                    assert_eq!(bin.count, counts[b], "{what}");
                    assert!(
                        (bin.kinetic_sum - ksum[b]).abs() <= 1e-12 * ksum[b].max(1.0),
                        "{what}: {} vs {}",
                        bin.kinetic_sum,
                        ksum[b]
                    );
                    assert_eq!(bin.e_lo, ground + b as f64 * 0.5);
                }
                let cumulative = binned.cumulative_counts();
                let mut acc = 0.0;
                for (b, c) in counts.iter().enumerate() {
                    acc += c;
                    assert_eq!(cumulative[b], acc);
                }
                assert_eq!(binned.total_count(), acc);
                assert_eq!(binned.entropy()[0], cumulative[0].ln());
            }
        }
    }
}

#[test]
fn binned_counts_agree_with_enumeration_within_the_misbinning_bound() {
    let mut exact_cases = 0;
    for seed in 30..=35u64 {
        let (energy, kinetic) = random_orbitals(seed, 12, None);
        let basis = Orbitals::finite_basis(energy, kinetic).unwrap();
        for spin in [Spin::Half, Spin::None] {
            for n in [2usize, 3, 4] {
                for quanta in [8usize, 64, 4096] {
                    let ground = ground_state_energy(&basis, n, spin).unwrap();
                    let width = 0.2;
                    let settings = BinningSettings {
                        quanta_per_bin: quanta,
                        ..BinningSettings::new(n, spin, ground + 1.5, width)
                    };
                    let binned = binned_counts_with(&basis, &settings).unwrap();
                    let bound = binned.energy_error_bound;
                    let delta = binned.quantum;
                    assert!(bound <= n as f64 * delta, "bound {bound} > N delta");
                    let top = ground + binned.bins.len() as f64 * width;
                    let (counts, ksum, excitations) =
                        enumerate_into_bins(&basis, &binned, top + bound + 1e-9);
                    let slack = 1e-12;
                    let below = |edge: f64| -> f64 {
                        excitations
                            .iter()
                            .filter(|(x, _)| *x < edge)
                            .map(|(_, g)| g)
                            .sum()
                    };
                    let cumulative = binned.cumulative_counts();
                    for (b, &omega) in cumulative.iter().enumerate() {
                        let edge = (b + 1) as f64 * width;
                        let lo = below(edge - bound - slack);
                        let hi = below(edge + bound + slack);
                        assert!(
                            lo <= omega && omega <= hi,
                            "seed {seed} {spin:?} N={n} R={quanta} edge {b}: {lo} <= {omega} <= {hi}"
                        );
                    }
                    // No state within the bound of an edge: the bins must be exact. (The
                    // ground state sits on edge 0, below which nothing can be misplaced.)
                    let clear = excitations.iter().all(|(x, _)| {
                        let r = x / width;
                        let d = (r - r.round()).abs() * width;
                        r.round() == 0.0 || d > bound + slack
                    });
                    if clear {
                        exact_cases += 1;
                        for (b, bin) in binned.bins.iter().enumerate() {
                            assert_eq!(bin.count, counts[b], "seed {seed} N={n} bin {b}");
                            assert!((bin.kinetic_sum - ksum[b]).abs() <= 1e-12 * ksum[b].max(1.0));
                        }
                    }
                }
            }
        }
    }
    // With 4096 quanta per bin the bound is tiny, so most cases are exact.
    assert!(exact_cases >= 24, "only {exact_cases} exact cases");
}

/// p(0..=k): the number of partitions of each integer (Euler's recursion by parts).
fn partitions(k: usize) -> Vec<f64> {
    let mut p = vec![0.0; k + 1];
    p[0] = 1.0;
    for part in 1..=k {
        for s in part..=k {
            p[s] += p[s - part];
        }
    }
    p
}

#[test]
fn equally_spaced_spinless_levels_give_partition_numbers() {
    // e_j = j: the excitations of N spinless fermions are the partitions of the excitation
    // into at most N parts, each at most M − N; for D ≤ min(N, M − N) that is p(D).
    let m = 300;
    let energy: Vec<f64> = (0..m).map(|j| j as f64).collect();
    let basis = Orbitals::finite_basis(energy.clone(), energy).unwrap();
    let n = 100;
    let ground = (0..n).map(|j| j as f64).sum::<f64>();
    let settings = BinningSettings {
        quanta_per_bin: 1,
        ..BinningSettings::new(n, Spin::None, ground + 80.0, 1.0)
    };
    let binned = binned_counts_with(&basis, &settings).unwrap();
    let p = partitions(80);
    assert_eq!(binned.bins.len(), 81);
    assert_eq!(binned.energy_error_bound, 0.0);
    for (d, bin) in binned.bins.iter().enumerate() {
        assert_eq!(bin.count, p[d], "D = {d}");
        // K = E for every state (k_j = e_j).
        let e = ground + d as f64;
        assert!(
            (bin.kinetic_sum - p[d] * e).abs() <= 1e-12 * p[d] * e,
            "D = {d}"
        );
    }
    assert_eq!(binned.bins[80].count, 15_796_476.0);
    // Only orbitals up to q_F + 80 = 179 can be occupied.
    assert_eq!(binned.orbitals_used, 180);
    // The same with 7 quanta per bin of width 7: sums of 7 consecutive partition numbers.
    let settings = BinningSettings {
        quanta_per_bin: 7,
        ..BinningSettings::new(n, Spin::None, ground + 76.0, 7.0)
    };
    let coarse = binned_counts_with(&basis, &settings).unwrap();
    assert_eq!(coarse.bins.len(), 11);
    for (b, bin) in coarse.bins.iter().enumerate() {
        let expected: f64 = p[7 * b..7 * b + 7].iter().sum();
        assert_eq!(bin.count, expected, "bin {b}");
    }
    // Window averages: K_E over [E, E + 2w) is the count-weighted mean of E over two bins.
    let windows = coarse.window_kinetic(14.0).unwrap();
    assert_eq!(windows.len(), 10);
    let w0 = windows[0];
    let count: f64 = p[..14].iter().sum();
    let mean: f64 = (0..14).map(|d| p[d] * (ground + d as f64)).sum::<f64>() / count;
    assert_eq!(w0.count, count);
    assert!((w0.kinetic.unwrap() - mean).abs() <= 1e-12 * mean);
    assert!((w0.temperature.unwrap() - 2.0 * mean / n as f64).abs() <= 1e-12 * mean);
}

#[test]
fn parallel_and_serial_binned_updates_agree() {
    // Large enough steps run the row blocks in parallel; one thread runs them serially. Each
    // cell sees the same additions in the same order, so the results are identical.
    let in_pool = |threads: usize, f: &(dyn Fn() -> BinnedCounts + Sync)| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    };
    let orbitals = reference_orbitals();
    for spin in [Spin::Half, Spin::None] {
        let n = 16;
        let ground = ground_state_energy(orbitals, n, spin).unwrap();
        let run = || binned_counts(orbitals, n, spin, ground + 0.3, 0.002).unwrap();
        let serial = in_pool(1, &run);
        assert!(serial.total_count() > 1e6);
        for threads in [2, 3, 4] {
            assert_eq!(
                in_pool(threads, &run),
                serial,
                "{spin:?}, {threads} threads"
            );
        }
    }
    // Partition numbers again, now on 64 quanta per bin with 4 threads (~500 000 cells per step).
    let energy: Vec<f64> = (0..300).map(|j| j as f64).collect();
    let basis = Orbitals::finite_basis(energy.clone(), energy).unwrap();
    let ground = (0..100).map(|j| j as f64).sum::<f64>();
    let settings = BinningSettings {
        quanta_per_bin: 64,
        ..BinningSettings::new(100, Spin::None, ground + 80.0, 1.0)
    };
    let binned = in_pool(4, &|| binned_counts_with(&basis, &settings).unwrap());
    let p = partitions(80);
    for (d, bin) in binned.bins.iter().enumerate() {
        assert_eq!(bin.count, p[d], "D = {d}");
    }
}

#[test]
fn binned_window_average_matches_the_thermo_window_average() {
    let (energy, kinetic) = random_orbitals(40, 10, Some(0.125));
    let basis = Orbitals::finite_basis(energy, kinetic).unwrap();
    let n = 3;
    let ground = ground_state_energy(&basis, n, Spin::Half).unwrap();
    let settings = BinningSettings {
        quanta_per_bin: 2,
        ..BinningSettings::new(n, Spin::Half, ground + 2.9, 0.25)
    };
    let binned = binned_counts_with(&basis, &settings).unwrap();
    let top = ground + binned.bins.len() as f64 * 0.25;
    let states = enumerate(
        &basis,
        &EnumerationSettings::new(n, Spin::Half, top - 0.0625),
    )
    .unwrap();
    let list = states.to_state_list().unwrap();
    let binned_windows = binned.window_kinetic(0.75).unwrap();
    let grid: Vec<f64> = binned_windows.iter().map(|w| w.energy).collect();
    let reference = window_averages(&list, &grid, 0.75).unwrap();
    assert_eq!(binned_windows.len(), binned.bins.len() - 2);
    for (a, b) in binned_windows.iter().zip(&reference) {
        assert_eq!(a.count, b.weight as f64, "E = {}", a.energy);
        match (a.kinetic, b.kinetic) {
            (Some(x), Some(y)) => assert!((x - y).abs() <= 1e-12 * y.max(1.0)),
            (None, None) => {}
            other => panic!("window at {}: {other:?}", a.energy),
        }
        assert_eq!(a.temperature.is_some(), b.temperature.is_some());
    }
    // The entropy at the upper edges is ln of the cumulative count.
    let entropy = binned.entropy();
    let edges = binned.upper_edges();
    for (s, edge) in entropy.iter().zip(&edges) {
        let omega: u64 = (0..states.len())
            .filter(|&i| states.energy()[i] < *edge - 1e-9)
            .map(|i| states.multiplicity()[i])
            .sum();
        assert!((s - (omega as f64).ln()).abs() < 1e-12);
    }
}

#[test]
fn need_more_orbitals_when_e_max_reaches_the_last_orbital() {
    let energy = vec![0.0, 1.0, 2.0, 3.0, 4.0];
    let truncated = Orbitals::new(energy.clone(), vec![0.0; 5]).unwrap();
    // N = 2 spinless: E_gs(1) = 0, so E_max = 4 could use e_4 = 4 and maybe e_5.
    let err = enumerate(&truncated, &EnumerationSettings::new(2, Spin::None, 4.0)).unwrap_err();
    match &err {
        ManyBodyError::NeedMoreOrbitals {
            needed_energy,
            supplied,
            highest,
        } => {
            assert!((needed_energy - 4.0).abs() < 1e-9);
            assert_eq!(*supplied, 5);
            assert_eq!(*highest, 4.0);
        }
        other => panic!("expected NeedMoreOrbitals, got {other}"),
    }
    assert!(err.to_string().contains("supply all orbitals up to above"));
    // Just below e_4 + E_gs(1) it is fine, and orbital 3 is the highest occupied.
    let s = enumerate(&truncated, &EnumerationSettings::new(2, Spin::None, 3.9)).unwrap();
    assert_eq!(s.highest_orbital(), 3);
    assert_eq!(s.orbitals_needed(), 4);
    // Spin 1/2: E_gs(1) = 0 as well; E_max = 3.5 is fine, 4.2 is not.
    assert!(enumerate(&truncated, &EnumerationSettings::new(2, Spin::Half, 3.5)).is_ok());
    assert!(matches!(
        enumerate(&truncated, &EnumerationSettings::new(2, Spin::Half, 4.2)),
        Err(ManyBodyError::NeedMoreOrbitals { .. })
    ));
    // Filling every supplied spin-orbital may always need a higher one.
    assert!(matches!(
        enumerate(&truncated, &EnumerationSettings::new(5, Spin::None, 10.0)),
        Err(ManyBodyError::NeedMoreOrbitals { .. })
    ));
    // The same orbitals as a complete basis are fine.
    let basis = Orbitals::finite_basis(energy.clone(), vec![0.0; 5]).unwrap();
    assert_eq!(
        enumerate(&basis, &EnumerationSettings::new(2, Spin::None, 100.0))
            .unwrap()
            .len(),
        10
    );
    // Binned counting: the top edge decides. Bins of 1 from E_gs = 1 up to E_max = 4 end at 5,
    // so [0, 4] (E = 4) and maybe [0, 5] count: refuse. E_max = 3.5 (top edge 4) is fine.
    let err = binned_counts(&truncated, 2, Spin::None, 4.0, 1.0).unwrap_err();
    assert!(
        matches!(err, ManyBodyError::NeedMoreOrbitals { supplied: 5, .. }),
        "{err}"
    );
    let ok = binned_counts(&truncated, 2, Spin::None, 3.5, 1.0).unwrap();
    assert_eq!(
        ok.bins.iter().map(|b| b.count).collect::<Vec<_>>(),
        vec![1.0, 1.0, 2.0]
    );
    // Extending the spectrum past the reported energy removes the error.
    let needed = match err {
        ManyBodyError::NeedMoreOrbitals { needed_energy, .. } => needed_energy,
        _ => unreachable!(),
    };
    let longer: Vec<f64> = (0..8).map(|j| j as f64).collect();
    assert!(longer[7] > needed);
    let extended = Orbitals::new(longer, vec![0.0; 8]).unwrap();
    let b = binned_counts(&extended, 2, Spin::None, 4.0, 1.0).unwrap();
    assert_eq!(
        b.bins.iter().map(|b| b.count).collect::<Vec<_>>(),
        vec![1.0, 1.0, 2.0, 2.0]
    );
}

#[test]
fn too_many_states_stops_at_the_limit() {
    let (energy, kinetic) = random_orbitals(50, 12, None);
    let basis = Orbitals::finite_basis(energy, kinetic).unwrap();
    let all = enumerate(&basis, &EnumerationSettings::new(3, Spin::Half, 10.0)).unwrap();
    let settings = EnumerationSettings {
        state_limit: all.len() - 1,
        ..EnumerationSettings::new(3, Spin::Half, 10.0)
    };
    let err = enumerate(&basis, &settings).unwrap_err();
    assert!(matches!(
        err,
        ManyBodyError::TooManyStates { limit, particles: 3, .. } if limit == all.len() - 1
    ));
    let message = err.to_string();
    assert!(message.contains("state limit"), "{message}");
    assert!(message.contains("binned_counts"), "{message}");
    // Exactly at the limit is fine.
    let settings = EnumerationSettings {
        state_limit: all.len(),
        ..settings
    };
    assert_eq!(enumerate(&basis, &settings).unwrap().len(), all.len());
}

#[test]
fn bad_input_is_refused_with_clear_messages() {
    let basis = Orbitals::finite_basis(vec![-1.0, 0.0, 1.0], vec![0.5; 3]).unwrap();
    let enumerate_err = |n: usize, spin: Spin, e_max: f64| {
        enumerate(&basis, &EnumerationSettings::new(n, spin, e_max)).unwrap_err()
    };
    // N = 0.
    for err in [
        enumerate_err(0, Spin::Half, 1.0),
        ground_state_energy(&basis, 0, Spin::None).unwrap_err(),
        binned_counts(&basis, 0, Spin::Half, 1.0, 0.1).unwrap_err(),
    ] {
        assert_eq!(err, ManyBodyError::ZeroParticles);
        assert!(err.to_string().contains("at least 1"));
    }
    // More particles than spin-orbitals: 3 spinless, 6 with spin 1/2.
    let err = enumerate_err(4, Spin::None, 10.0);
    assert!(matches!(
        err,
        ManyBodyError::TooManyParticles {
            particles: 4,
            capacity: 3,
            ..
        }
    ));
    assert!(err.to_string().contains("at most 3 particles"), "{err}");
    let err = binned_counts(&basis, 7, Spin::Half, 10.0, 0.1).unwrap_err();
    assert!(matches!(
        err,
        ManyBodyError::TooManyParticles {
            particles: 7,
            capacity: 6,
            ..
        }
    ));
    assert!(err.to_string().contains("at most 6 particles"), "{err}");
    assert!(enumerate(&basis, &EnumerationSettings::new(6, Spin::Half, 0.0)).is_ok());
    // E_max below the ground state (-1 + -1 = -2 for N = 2 spin 1/2).
    let err = enumerate_err(2, Spin::Half, -2.5);
    assert_eq!(
        err,
        ManyBodyError::EnergyBelowGround {
            energy_max: -2.5,
            ground: -2.0
        }
    );
    assert!(err
        .to_string()
        .contains("below the N-particle ground-state energy -2"));
    assert!(matches!(
        binned_counts(&basis, 2, Spin::None, -1.5, 0.1),
        Err(ManyBodyError::EnergyBelowGround { .. })
    ));
    // Exactly the ground state is allowed: one state.
    let g = enumerate(&basis, &EnumerationSettings::new(2, Spin::Half, -2.0)).unwrap();
    assert_eq!(g.len(), 1);
    // Non-finite E_max.
    assert!(matches!(
        enumerate_err(2, Spin::Half, f64::NAN),
        ManyBodyError::InvalidEnergyMax(_)
    ));
    assert!(matches!(
        binned_counts(&basis, 2, Spin::Half, f64::INFINITY, 0.1),
        Err(ManyBodyError::InvalidEnergyMax(_))
    ));
    // Bin widths.
    for w in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        let err = binned_counts(&basis, 2, Spin::Half, 1.0, w).unwrap_err();
        assert!(matches!(err, ManyBodyError::BinWidth(_)), "{w}");
        assert!(err.to_string().contains("positive finite"), "{err}");
    }
    let settings = BinningSettings {
        quanta_per_bin: 0,
        ..BinningSettings::new(2, Spin::Half, 1.0, 0.1)
    };
    assert_eq!(
        binned_counts_with(&basis, &settings).unwrap_err(),
        ManyBodyError::QuantaPerBin(0)
    );
    // A table that would not fit.
    let err = binned_counts(&basis, 2, Spin::Half, 1.0, 1e-12).unwrap_err();
    assert!(matches!(err, ManyBodyError::TableTooLarge { .. }), "{err}");
    assert!(err.to_string().contains("wider bin"));
    // Window widths: positive whole multiples of the bin width, within the range.
    let binned = binned_counts(&basis, 2, Spin::Half, 1.0, 0.25).unwrap();
    for eps in [0.0, 0.3, -0.25, f64::NAN, 100.0] {
        let err = binned.window_kinetic(eps).unwrap_err();
        assert!(matches!(err, ManyBodyError::Window { .. }), "{eps}");
        assert!(err.to_string().contains("whole multiple"));
    }
    assert_eq!(
        binned.window_kinetic(0.5).unwrap().len(),
        binned.bins.len() - 1
    );
    // Orbitals.
    let bad = |e: Vec<f64>, k: Vec<f64>| match Orbitals::new(e, k) {
        Err(ManyBodyError::BadOrbitals(message)) => message,
        other => panic!("expected BadOrbitals, got {other:?}"),
    };
    assert!(bad(vec![], vec![]).contains("at least one orbital"));
    assert!(bad(vec![0.0, 1.0], vec![0.0]).contains("2 energies and 1 kinetic"));
    assert!(bad(vec![1.0, 0.0], vec![0.0; 2]).contains("ascending"));
    assert!(bad(vec![0.0, f64::NAN], vec![0.0; 2]).contains("finite"));
    assert!(bad(vec![0.0, 1.0], vec![0.0, -1.0]).contains(">= 0"));
    assert!(bad(vec![0.0, 1e200], vec![0.0; 2]).contains("|e|"));
}

/// The paper's reference well (U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr) on h = 0.25 bohr,
/// 300 levels, computed once.
fn reference_orbitals() -> &'static Orbitals {
    static ORBITALS: OnceLock<Orbitals> = OnceLock::new();
    ORBITALS.get_or_init(|| {
        let well = Potential::square_well(200.0, 0.1, 20.0).unwrap();
        let spectrum = Problem::new(well.clone(), 1.0, 0.25, 300)
            .spectrum()
            .unwrap();
        Orbitals::from_spectrum(&spectrum).unwrap()
    })
}

#[test]
fn reference_well_two_electrons() {
    let orbitals = reference_orbitals();
    let e = orbitals.energy();
    let k = orbitals.kinetic();
    assert!((e[0] + 0.0975).abs() < 1e-4, "E0 = {}", e[0]);
    // Up to E0 + E1: the ground state 2E0 (a singlet) and E0 + E1 (singlet + triplet: 4 states).
    let s = enumerate(
        orbitals,
        &EnumerationSettings::new(2, Spin::Half, e[0] + e[1]),
    )
    .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s.energy()[0], 2.0 * e[0]);
    assert_eq!(
        s.ground_energy(),
        ground_state_energy(orbitals, 2, Spin::Half).unwrap()
    );
    assert_eq!(s.multiplicity(), &[1, 4]);
    assert_eq!(s.occupation(1).unwrap(), &[0, 1]);
    assert_eq!(s.energy()[1], e[0] + e[1]);
    assert_eq!(s.kinetic()[0], k[0] + k[0]);
    assert_eq!(s.total_states(), 5);
    // Next: [1,1] (2E1) and [0,2] (E0 + E2), whichever is lower.
    let s = enumerate(orbitals, &EnumerationSettings::new(2, Spin::Half, 0.0)).unwrap();
    let third = if 2.0 * e[1] < e[0] + e[2] {
        (vec![1u32, 1], 1u64)
    } else {
        (vec![0u32, 2], 4u64)
    };
    assert_eq!(s.occupation(2).unwrap(), &third.0[..]);
    assert_eq!(s.multiplicity()[2], third.1);
    // Spinless: the ground state is E0 + E1.
    let s = enumerate(orbitals, &EnumerationSettings::new(2, Spin::None, 0.0)).unwrap();
    assert_eq!(s.energy()[0], e[0] + e[1]);
    assert_eq!(s.multiplicity()[0], 1);
}

#[test]
fn reference_well_binned_counts_bracket_the_enumeration() {
    let orbitals = reference_orbitals();
    for (n, spin) in [(3usize, Spin::Half), (3, Spin::None), (4, Spin::Half)] {
        let e_max = 0.01 * n as f64;
        let binned = binned_counts(orbitals, n, spin, e_max, 0.002).unwrap();
        let bound = binned.energy_error_bound;
        let top = binned.e_ground + binned.bins.len() as f64 * binned.bin_width;
        let states = enumerate(
            orbitals,
            &EnumerationSettings::new(n, spin, top + bound + 1e-9),
        )
        .unwrap();
        let below = |edge: f64| -> u64 {
            let end = states.energy().partition_point(|&x| x < edge);
            states.multiplicity()[..end].iter().sum()
        };
        for (omega, edge) in binned.cumulative_counts().iter().zip(binned.upper_edges()) {
            let lo = below(edge - bound - 1e-12) as f64;
            let hi = below(edge + bound + 1e-12) as f64;
            assert!(
                lo <= *omega && *omega <= hi,
                "N={n} {spin:?} edge {edge}: {lo} <= {omega} <= {hi}"
            );
        }
        let last = *binned.cumulative_counts().last().unwrap();
        assert!(last > 1000.0, "N={n}: {last}");
    }
}

#[test]
fn reference_well_four_electrons() {
    // E/N ≤ 0.03 Ha for N = 4: about 5.8 million states in about 0.41 million occupations.
    let orbitals = reference_orbitals();
    let s = enumerate(orbitals, &EnumerationSettings::new(4, Spin::Half, 0.12)).unwrap();
    let occupations = s.len();
    let states = s.total_states();
    assert!(
        (400_000..420_000).contains(&occupations),
        "{occupations} occupations"
    );
    assert!((5_700_000..5_900_000).contains(&states), "{states} states");
    assert!(s.highest_orbital() < s.orbitals_needed());
    // Sorted by (energy, occupation); distinct occupations within 1e-11 Ha of each other (the
    // closest pair on this grid is 1.2e-12 Ha apart) stay separate entries.
    let mut near = 0;
    for i in 1..s.len() {
        let order = s.energy()[i - 1]
            .total_cmp(&s.energy()[i])
            .then_with(|| s.occupation(i - 1).cmp(&s.occupation(i)));
        assert_eq!(order, Ordering::Less, "state {i}");
        if s.energy()[i] - s.energy()[i - 1] < 1e-11 {
            near += 1;
        }
    }
    assert!(near >= 3, "{near} near-degenerate pairs");
    // The binned total below the last edge agrees with the enumeration up to misbinning.
    let binned = binned_counts(orbitals, 4, Spin::Half, 0.12, 0.004).unwrap();
    let top = *binned.upper_edges().last().unwrap();
    assert!(top >= 0.12);
    let lo: u64 = (0..s.len())
        .filter(|&i| s.energy()[i] < top - binned.energy_error_bound)
        .map(|i| s.multiplicity()[i])
        .sum();
    assert!(binned.total_count() >= lo as f64);
}
