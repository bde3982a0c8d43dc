//! Two-electron configuration interaction (`confine::physics::coulomb::ci`): the non-interacting limit
//! with its spin multiplicities, the integrals against direct double sums and their symmetries,
//! first-order perturbation theory, variational monotonicity in M, singlet below triplet,
//! E = ⟨K⟩ + ⟨V⟩ + ⟨W⟩ evaluated independently on the 2-D grid, parity blocks against the full
//! sectors, the energy-truncated basis and the errors. Small grids (L = 30, h = 0.5: n = 119).

use confine::model::hamiltonian::Hamiltonian;
use confine::model::potential::{Piece, Potential, Shape};
use confine::model::problem::Problem;
use confine::physics::coulomb::ci::{
    convergence, convergence_from, convergence_of, degeneracy_tolerance, fine_energies,
    kinetic_matrix, orbital_parities, solve_ci, CiProblem, CiSettings, CiSpectrum, CiState,
    CiStates, SectorEnergies, StateSelection, Symmetry, TwoElectronIntegrals,
};
use confine::physics::coulomb::{CoulombError, Exchange, SoftCoulomb};
use confine::physics::many_body::Spin;
use confine::spectrum::Spectrum;

const L: f64 = 30.0;
const H: f64 = 0.5;

/// A well of depth 0.1 Ha and half-width 10 bohr in the box [−30, 30].
fn well() -> Potential {
    Potential::square_well(L, 0.1, 10.0).unwrap()
}

/// An off-centre well (no parity).
fn lopsided() -> Potential {
    Potential::new(
        L,
        vec![Piece {
            from: -12.0,
            to: 4.0,
            shape: Shape::Constant { value: -0.15 },
            mass: None,
        }],
    )
    .unwrap()
}

fn spectrum(potential: &Potential, levels: usize) -> Spectrum {
    Problem::new(potential.clone(), 1.0, H, levels)
        .spectrum()
        .unwrap()
}

fn coulomb() -> SoftCoulomb {
    SoftCoulomb::new(1.0, 1.0, 1.0).unwrap()
}

/// ⟨ij|W|kl⟩ by the plain double sum over the grid.
fn direct(s: &Spectrum, w: &SoftCoulomb, i: usize, j: usize, k: usize, l: usize) -> f64 {
    let x = s.grid.interior();
    let dw = s.grid.dual_widths();
    let (pi, pj, pk, pl) = (
        s.amplitude(i),
        s.amplitude(j),
        s.amplitude(k),
        s.amplitude(l),
    );
    let mut sum = 0.0;
    for a in 0..x.len() {
        let ra = dw[a] * pi[a] * pk[a];
        for b in 0..x.len() {
            sum += ra * dw[b] * pj[b] * pl[b] * w.at_separation(x[a] - x[b]);
        }
    }
    sum
}

#[test]
fn switched_off_interaction_gives_orbital_sums_with_spin_multiplicities() {
    let v = well();
    let s = spectrum(&v, 10);
    let m = 8;
    let off = SoftCoulomb::new(0.0, 1.0, 1.0).unwrap();
    let ci = solve_ci(&v, &s, &off, &CiSettings::new(m)).unwrap();
    let e = s.energies();
    let k = s.kinetic();
    // Expected: singlet pairs i ≤ j (g = 1), triplet pairs i < j (g = 3).
    let mut expected: Vec<(f64, u64)> = Vec::new();
    let (mut ks, mut ka) = (0.0, 0.0);
    for j in 0..m {
        for i in 0..=j {
            expected.push((e[i] + e[j], 1));
            ks += k[i] + k[j];
            if i < j {
                expected.push((e[i] + e[j], 3));
                ka += k[i] + k[j];
            }
        }
    }
    // Singlet and triplet of one pair are degenerate: order ties by g (energies on a 1e-10 lattice).
    let key = |x: &(f64, u64)| ((x.0 * 1e10).round() as i64, x.1);
    expected.sort_by_key(key);
    let list = ci.to_state_list(Spin::Half).unwrap();
    assert_eq!(list.len(), expected.len());
    assert_eq!(
        list.total_multiplicity(),
        (m * (m + 1) / 2 + 3 * m * (m - 1) / 2) as u64
    );
    let mut got: Vec<(f64, u64)> = list
        .energy()
        .iter()
        .zip(list.multiplicity())
        .map(|(&e, &g)| (e, g))
        .collect();
    got.sort_by_key(key);
    for (g, x) in got.iter().zip(&expected) {
        assert!((g.0 - x.0).abs() < 1e-13, "{g:?} vs {x:?}");
        assert_eq!(g.1, x.1);
    }
    // No interaction energy, and the kinetic energies add up per sector (the trace).
    for st in &ci.states {
        let (g, label) = match st.exchange {
            Exchange::Symmetric => (1, "singlet"),
            Exchange::Antisymmetric => (3, "triplet"),
        };
        assert_eq!(st.multiplicity(Spin::Half), Some(g));
        assert_eq!(st.spin_label(), label);
        assert_eq!(
            st.multiplicity(Spin::None),
            (st.exchange == Exchange::Antisymmetric).then_some(1)
        );
        assert!(st.interaction.abs() < 1e-13);
        assert!((st.kinetic + st.potential + st.interaction - st.energy).abs() < 1e-13);
    }
    let sum = |x: Exchange| ci.sector(x).map(|s| s.kinetic).sum::<f64>();
    assert!((sum(Exchange::Symmetric) - ks).abs() < 1e-12);
    assert!((sum(Exchange::Antisymmetric) - ka).abs() < 1e-12);
    // Spinless fermions: the antisymmetric sector only, g = 1.
    let spinless = ci.to_state_list(Spin::None).unwrap();
    assert_eq!(spinless.len(), m * (m - 1) / 2);
    assert!(spinless.multiplicity().iter().all(|&g| g == 1));
    assert!((spinless.ground_energy() - (e[0] + e[1])).abs() < 1e-13);
}

#[test]
fn integrals_match_direct_double_sums_and_have_the_real_orbital_symmetries() {
    let w = coulomb();
    for (v, expect_parity) in [(well(), true), (lopsided(), false)] {
        let s = spectrum(&v, 6);
        let m = 5;
        let parity = orbital_parities(&s, m);
        assert_eq!(parity.is_some(), expect_parity);
        let g = TwoElectronIntegrals::compute(&s, m, &w, parity.as_deref()).unwrap();
        assert_eq!(g.uses_parity(), expect_parity);
        let full = TwoElectronIntegrals::compute(&s, m, &w, None).unwrap();
        let scale = g.get(0, 0, 0, 0).unwrap();
        for i in 0..m {
            for j in 0..m {
                for k in 0..m {
                    for l in 0..m {
                        let x = g.get(i, j, k, l).unwrap();
                        let d = direct(&s, &w, i, j, k, l);
                        assert!(
                            (x - d).abs() < 1e-12 * scale,
                            "<{i}{j}|W|{k}{l}> {x} vs {d}"
                        );
                        assert!((full.get(i, j, k, l).unwrap() - x).abs() < 1e-9 * scale);
                        for y in [
                            g.get(j, i, l, k),
                            g.get(k, l, i, j),
                            g.get(k, j, i, l),
                            g.get(i, l, k, j),
                        ] {
                            assert!((y.unwrap() - x).abs() < 1e-14 * scale);
                        }
                    }
                }
            }
        }
        assert_eq!(g.get(m, 0, 0, 0), None);
    }
}

#[test]
fn first_order_shift_is_the_direct_integral_of_the_ground_orbital() {
    let v = well();
    let s = spectrum(&v, 8);
    // 2-D quadrature of ∫∫ |ψ₀(x₁)|² W(x₁ − x₂) |ψ₀(x₂)|².
    let w = coulomb();
    let quad = direct(&s, &w, 0, 0, 0, 0);
    let problem = CiProblem::new(&v, &s, &w, 8, Symmetry::Auto).unwrap();
    let j00 = problem.integrals().get(0, 0, 0, 0).unwrap();
    assert!((j00 - quad).abs() < 1e-13 * quad, "{j00} vs {quad}");
    // Weak coupling: E(λ) − 2e₀ = λ J₀₀ + O(λ²).
    let e0 = s.levels[0].energy;
    for lambda in [1e-3, 1e-4] {
        let weak = SoftCoulomb::new(lambda, 1.0, 1.0).unwrap();
        let ci = solve_ci(&v, &s, &weak, &CiSettings::new(8)).unwrap();
        let shift = ci.ground_energy() - 2.0 * e0;
        let second_order = (shift - lambda * quad).abs();
        assert!(shift < lambda * quad, "second order lowers the energy");
        assert!(
            second_order < 5.0 * lambda * lambda * quad,
            "λ = {lambda}: {second_order}"
        );
        assert_eq!(ci.states[0].exchange, Exchange::Symmetric);
        assert_eq!(ci.states[0].leading_pair, (0, 0));
        assert!(ci.states[0].leading_weight > 0.99);
    }
}

#[test]
fn ground_state_decreases_monotonically_with_the_basis() {
    let v = well();
    let s = spectrum(&v, 14);
    let problem = CiProblem::new(&v, &s, &coulomb(), 14, Symmetry::Auto).unwrap();
    let mut previous = f64::INFINITY;
    let mut previous_triplet = f64::INFINITY;
    for m in 1..=14 {
        let e = problem.energies(&CiSettings::new(m)).unwrap();
        let ground = e.ground();
        assert!(ground <= previous + 1e-14, "M = {m}: {ground} > {previous}");
        previous = ground;
        if let Some(&t) = e.antisymmetric.first() {
            assert!(t <= previous_triplet + 1e-14);
            previous_triplet = t;
        }
    }
    // The convergence report: every compared state goes down (interlacing).
    let c = convergence(&problem, 7, 14, StateSelection::Lowest(5)).unwrap();
    assert_eq!(c.rows.len(), 10);
    assert!(c.rows.iter().all(|r| r.change <= 1e-14), "{:?}", c.rows);
    assert!(c.fine_ground <= c.coarse_ground);
    assert!(c.max_abs_change() > 0.0);
    let below = convergence(
        &problem,
        7,
        14,
        StateSelection::Below(c.coarse_ground + 0.01),
    )
    .unwrap();
    assert!(!below.rows.is_empty());
    assert!(below
        .rows
        .iter()
        .all(|r| r.coarse <= c.coarse_ground + 0.01));
    // From a spectrum already solved with M = 7 orbitals: the same report, to rounding (the
    // eigenvalues come from the solve with eigenvectors instead of the eigenvalue-only one).
    let solved = problem.solve(&CiSettings::new(7)).unwrap();
    let again = convergence_of(&solved, &problem, 14, StateSelection::Lowest(5)).unwrap();
    assert_eq!(again.rows.len(), c.rows.len());
    assert_eq!((again.coarse_orbitals, again.fine_orbitals), (7, 14));
    for (a, b) in again.rows.iter().zip(&c.rows) {
        assert_eq!((a.exchange, a.index), (b.exchange, b.index));
        assert_eq!(a.fine, b.fine);
        assert!((a.coarse - b.coarse).abs() <= 1e-14, "{a:?} vs {b:?}");
    }
    let truncated = CiSettings {
        pair_energy_max: Some(solved.ground_energy() + 0.5),
        ..CiSettings::new(7)
    };
    let cut = problem.solve(&truncated).unwrap();
    assert!(convergence_of(&cut, &problem, 14, StateSelection::Lowest(5)).is_err());
}

#[test]
fn singlet_ground_state_lies_below_the_triplet() {
    for v in [well(), lopsided()] {
        let s = spectrum(&v, 10);
        let ci = solve_ci(&v, &s, &coulomb(), &CiSettings::new(10)).unwrap();
        let singlet = ci.lowest(Exchange::Symmetric).unwrap();
        let triplet = ci.lowest(Exchange::Antisymmetric).unwrap();
        assert!(singlet.energy < triplet.energy);
        assert_eq!(ci.states[0].exchange, Exchange::Symmetric);
        // Repulsion: both above the non-interacting values.
        let e = s.energies();
        assert!(singlet.energy > 2.0 * e[0]);
        assert!(triplet.energy > e[0] + e[1]);
        assert!(singlet.interaction > 0.0 && triplet.interaction > 0.0);
    }
}

/// ⟨K⟩, ⟨V⟩, ⟨W⟩ and the norm of Ψ = Σ A_ab ψ_a(x₁) ψ_b(x₂) directly on the n × n grid.
fn grid_observables(v: &Potential, s: &Spectrum, w: &SoftCoulomb, a: &[f64], m: usize) -> [f64; 4] {
    let n = s.grid.interior_len();
    let h = Hamiltonian::new(v, &s.grid, 1.0).unwrap();
    let x = s.grid.interior();
    let dw = s.grid.dual_widths();
    let pot = h.potential_on_nodes();
    // Ψ column-major: psi[b * n + i] = Ψ(x_i, x_b).
    let mut psi = vec![0.0; n * n];
    for p in 0..m {
        for q in 0..m {
            let c = a[q * m + p];
            if c == 0.0 {
                continue;
            }
            let (fp, fq) = (s.amplitude(p), s.amplitude(q));
            for b in 0..n {
                for i in 0..n {
                    psi[b * n + i] += c * fp[i] * fq[b];
                }
            }
        }
    }
    let (mut norm, mut kin, mut v12, mut w12) = (0.0, 0.0, 0.0, 0.0);
    let mut row = vec![0.0; n];
    for b in 0..n {
        let col = &psi[b * n..(b + 1) * n];
        // K₁ on the column (x₂ = x_b fixed), K₂ on the row (x₁ = x_b fixed).
        for (i, r) in row.iter_mut().enumerate() {
            *r = psi[i * n + b];
        }
        kin += dw[b] * (h.kinetic_energy(col) + h.kinetic_energy(&row));
        for i in 0..n {
            let d = dw[i] * dw[b] * col[i] * col[i];
            norm += d;
            v12 += d * (pot[i] + pot[b]);
            w12 += d * w.at_separation(x[i] - x[b]);
        }
    }
    [norm, kin, v12, w12]
}

#[test]
fn energy_splits_into_kinetic_potential_and_interaction_on_the_2d_grid() {
    let w = coulomb();
    let light = Potential::square_well_with_mass(L, 0.1, 10.0, 0.4).unwrap();
    for v in [well(), lopsided(), light] {
        let s = spectrum(&v, 8);
        let m = 8;
        let settings = CiSettings {
            keep_coefficients: 2,
            ..CiSettings::new(m)
        };
        let ci = solve_ci(&v, &s, &w, &settings).unwrap();
        let mut checked = 0;
        for st in &ci.states {
            let Some(a) = &st.coefficients else { continue };
            assert!(st.sector_index < 2);
            let [norm, kin, v12, w12] = grid_observables(&v, &s, &w, a, m);
            let tol = 1e-11;
            assert!((norm - 1.0).abs() < tol, "norm {norm}");
            assert!((kin - st.kinetic).abs() < tol, "K {kin} vs {}", st.kinetic);
            assert!(
                (v12 - st.potential).abs() < tol,
                "V {v12} vs {}",
                st.potential
            );
            assert!(
                (w12 - st.interaction).abs() < tol,
                "W {w12} vs {}",
                st.interaction
            );
            assert!((kin + v12 + w12 - st.energy).abs() < tol);
            assert!(st.kinetic > 0.0);
            checked += 1;
        }
        assert_eq!(checked, 4);
        let problem = CiProblem::new(&v, &s, &w, m, Symmetry::Auto).unwrap();
        let k = problem.kinetic();
        assert!((0..m).all(|i| (k[(i, i)] - s.levels[i].kinetic).abs() < 1e-14));
    }
}

#[test]
fn kinetic_matrix_is_symmetric_and_its_diagonal_is_the_level_kinetic_energy() {
    let v = well();
    let s = spectrum(&v, 6);
    let k = kinetic_matrix(&v, &s, 6).unwrap();
    for i in 0..6 {
        assert!((k[(i, i)] - s.levels[i].kinetic).abs() < 1e-14);
        for j in 0..6 {
            assert_eq!(k[(i, j)], k[(j, i)]);
        }
    }
    // Off-diagonal elements are not zero: the orbitals are not eigenfunctions of K.
    assert!(k[(0, 2)].abs() > 1e-6);
    // ⟨i|V|k⟩ = −K_ik off the diagonal (H₁ is diagonal in the orbitals).
    let h = Hamiltonian::new(&v, &s.grid, 1.0).unwrap();
    let dw = s.grid.dual_widths();
    let vik: f64 = (0..dw.len())
        .map(|j| dw[j] * h.potential_on_nodes()[j] * s.amplitude(0)[j] * s.amplitude(2)[j])
        .sum();
    assert!((vik + k[(0, 2)]).abs() < 1e-10);
}

#[test]
fn parity_blocks_reproduce_the_full_sectors() {
    let v = well();
    let s = spectrum(&v, 10);
    let w = coulomb();
    let auto = CiProblem::new(&v, &s, &w, 10, Symmetry::Auto).unwrap();
    let full = CiProblem::new(&v, &s, &w, 10, Symmetry::Ignore).unwrap();
    assert!(auto.parities().is_some() && full.parities().is_none());
    let a = auto.solve(&CiSettings::new(10)).unwrap();
    let f = full.solve(&CiSettings::new(10)).unwrap();
    assert_eq!(a.blocks.len(), 4);
    assert_eq!(f.blocks.len(), 2);
    assert_eq!(a.dimension(), f.dimension());
    assert_eq!(a.dimension(), 55 + 45);
    for (x, y) in a.states.iter().zip(&f.states) {
        assert!(
            (x.energy - y.energy).abs() < 1e-12,
            "{} vs {}",
            x.energy,
            y.energy
        );
        assert_eq!(x.exchange, y.exchange);
        assert!(x.parity.is_some() && y.parity.is_none());
        assert!((x.kinetic - y.kinetic).abs() < 1e-8);
    }
    // Ground state: even; lowest triplet: odd (leading pair (0, 1)).
    assert_eq!(
        a.lowest(Exchange::Symmetric).unwrap().parity,
        Some(confine::checks::analytic::Parity::Even)
    );
    let t = a.lowest(Exchange::Antisymmetric).unwrap();
    assert_eq!(t.parity, Some(confine::checks::analytic::Parity::Odd));
    assert_eq!(t.leading_pair, (0, 1));
}

/// The folded integrals (parity blocks, kernels built 512 rows at a time) against the unfolded
/// ones on grids whose half (h = n/2 nodes) is a whole row block: n = 1025 (odd), where the
/// centre row of the even kernel is a block of its own and the odd kernel has none there, and
/// n = 1024 (even, no centre node).
#[test]
fn folded_integrals_match_the_unfolded_at_row_block_edges() {
    // (box half-width, well half-width) with h = 1 bohr: 1026 and 1025 intervals.
    for (box_half_width, half_width, nodes) in [(513.0, 57.0, 1025), (512.5, 20.5, 1024)] {
        let v = Potential::square_well(box_half_width, 0.1, half_width).unwrap();
        let s = Problem::new(v, 1.0, 1.0, 6).spectrum().unwrap();
        assert_eq!(s.grid.interior().len(), nodes);
        let w = coulomb();
        let parities = orbital_parities(&s, 6).expect("a symmetric well has parities");
        let folded = TwoElectronIntegrals::compute(&s, 6, &w, Some(&parities)).unwrap();
        let full = TwoElectronIntegrals::compute(&s, 6, &w, None).unwrap();
        assert!(folded.uses_parity() && !full.uses_parity());
        let mut largest = 0.0f64;
        for (i, j, k, l) in (0..6 * 6 * 6 * 6).map(|x| (x / 216, x / 36 % 6, x / 6 % 6, x % 6)) {
            let (a, b) = (
                folded.get(i, j, k, l).unwrap(),
                full.get(i, j, k, l).unwrap(),
            );
            largest = largest.max(b.abs());
            assert!(
                (a - b).abs() <= 1e-13,
                "n = {nodes}: <{i}{j}|W|{k}{l}> folded {a} vs unfolded {b}"
            );
        }
        // The comparison is not vacuous: the direct integrals are of order 1/L.
        assert!(largest > 1e-3, "n = {nodes}: largest integral {largest}");
    }
}

#[test]
fn energy_truncated_basis_is_a_variational_subset() {
    let v = well();
    let s = spectrum(&v, 12);
    let problem = CiProblem::new(&v, &s, &coulomb(), 12, Symmetry::Auto).unwrap();
    let e = problem.orbital_energies().to_vec();
    let cutoff = e[0] + e[6];
    let settings = CiSettings {
        pair_energy_max: Some(cutoff),
        ..CiSettings::new(12)
    };
    let truncated = problem.solve(&settings).unwrap();
    let mut pairs = 0;
    for j in 0..12 {
        for i in 0..=j {
            if e[i] + e[j] <= cutoff {
                pairs += if i < j { 2 } else { 1 };
            }
        }
    }
    assert_eq!(truncated.dimension(), pairs);
    let full = problem.solve(&CiSettings::new(12)).unwrap();
    assert!(truncated.dimension() < full.dimension());
    for x in [Exchange::Symmetric, Exchange::Antisymmetric] {
        for (t, f) in truncated.sector(x).zip(full.sector(x)) {
            assert!(t.energy >= f.energy - 1e-14);
        }
    }
}

#[test]
fn bad_inputs_are_errors_with_clear_messages() {
    let v = well();
    let s = spectrum(&v, 5);
    let w = coulomb();
    let err = solve_ci(&v, &s, &w, &CiSettings::new(0)).unwrap_err();
    assert_eq!(err, CoulombError::NoOrbitals);
    let err = solve_ci(&v, &s, &w, &CiSettings::new(6)).unwrap_err();
    assert!(matches!(
        err,
        CoulombError::TooManyOrbitals {
            requested: 6,
            available: 5
        }
    ));
    assert!(err.to_string().contains("solve.levels"), "{err}");
    let problem = CiProblem::new(&v, &s, &w, 4, Symmetry::Auto).unwrap();
    assert!(matches!(
        problem.solve(&CiSettings::new(5)),
        Err(CoulombError::TooManyOrbitals {
            requested: 5,
            available: 4
        })
    ));
    let nan = CiSettings {
        pair_energy_max: Some(f64::NAN),
        ..CiSettings::new(3)
    };
    assert!(matches!(
        problem.solve(&nan),
        Err(CoulombError::NonFinite { .. })
    ));
    let nan_bound = CiSettings {
        states: CiStates::below(f64::NAN),
        ..CiSettings::new(3)
    };
    for err in [
        problem.solve(&nan_bound).unwrap_err(),
        problem.energies(&nan_bound).unwrap_err(),
    ] {
        assert!(
            err.to_string()
                .contains("energy bound of the wanted CI states"),
            "{err}"
        );
    }
    let empty = CiSettings {
        pair_energy_max: Some(-1.0),
        ..CiSettings::new(3)
    };
    let err = problem.solve(&empty).unwrap_err();
    assert!(matches!(err, CoulombError::EmptyBasis { .. }), "{err}");
    // An interaction built without the checks.
    let broken = SoftCoulomb {
        strength: 1.0,
        dielectric: 1.0,
        softening: f64::NAN,
    };
    let err = solve_ci(&v, &s, &broken, &CiSettings::new(3)).unwrap_err();
    assert!(matches!(
        err,
        CoulombError::Parameter {
            key: "coulomb.softening",
            ..
        }
    ));
    // A potential that is not the spectrum's.
    let other = Potential::square_well(L, 0.2, 10.0).unwrap();
    let err = solve_ci(&other, &s, &w, &CiSettings::new(3)).unwrap_err();
    assert!(
        matches!(err, CoulombError::PotentialMismatch { .. }),
        "{err}"
    );
    assert!(matches!(
        convergence(&problem, 4, 4, StateSelection::Lowest(1)),
        Err(CoulombError::ConvergenceOrder { .. })
    ));
    assert!(matches!(
        convergence(&problem, 2, 4, StateSelection::Below(f64::INFINITY)),
        Err(CoulombError::NonFinite { .. })
    ));
    assert!(matches!(
        convergence(&problem, 2, 9, StateSelection::Lowest(1)),
        Err(CoulombError::TooManyOrbitals { .. })
    ));
    // M = 1: the symmetric sector only; spinless fermions then have no state.
    let one = problem.solve(&CiSettings::new(1)).unwrap();
    assert_eq!(one.dimension(), 1);
    assert!(one.to_state_list(Spin::None).is_err());
}

#[test]
fn a_rescaled_problem_equals_one_computed_for_the_new_interaction() {
    let v = well();
    let s = spectrum(&v, 10);
    let unit = SoftCoulomb::new(1.0, 1.0, 1.0).unwrap();
    let base = CiProblem::new(&v, &s, &unit, 10, Symmetry::Auto).unwrap();
    let screened = SoftCoulomb::new(0.7, 12.9, 1.0).unwrap();
    let fresh = CiProblem::new(&v, &s, &screened, 10, Symmetry::Auto).unwrap();
    let scaled = base.with_interaction(&screened).unwrap();
    let scale = 0.7 / 12.9;
    for (i, j, k, l) in [
        (0, 0, 0, 0),
        (0, 1, 1, 0),
        (2, 3, 4, 5),
        (9, 9, 8, 8),
        (1, 2, 1, 2),
    ] {
        let (a, b) = (
            fresh.integrals().get(i, j, k, l).unwrap(),
            scaled.integrals().get(i, j, k, l).unwrap(),
        );
        assert!(
            (a - b).abs() <= 1e-14 * scale,
            "<{i}{j}|W|{k}{l}>: {a} vs {b}"
        );
    }
    let (ea, eb) = (
        fresh.energies(&CiSettings::new(10)).unwrap(),
        scaled.energies(&CiSettings::new(10)).unwrap(),
    );
    for (a, b) in ea.symmetric.iter().zip(&eb.symmetric) {
        assert!((a - b).abs() < 1e-13, "{a} vs {b}");
    }
    // W off from the same integrals: exactly the pair sums.
    let off = base
        .with_interaction(&SoftCoulomb::new(0.0, 1.0, 1.0).unwrap())
        .unwrap();
    let e = s.energies();
    assert_eq!(
        off.energies(&CiSettings::new(10)).unwrap().ground(),
        2.0 * e[0]
    );
    // Another softening changes the kernel: refused.
    let other = SoftCoulomb::new(1.0, 1.0, 2.0).unwrap();
    assert!(matches!(
        base.with_interaction(&other),
        Err(CoulombError::Input(_))
    ));
}

/// The paper's reference well (U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr, h = 0.25 bohr:
/// n = 1599 nodes) with its lowest `levels` orbitals.
fn reference_case(levels: usize) -> (Potential, Spectrum) {
    let v = Potential::square_well(200.0, 0.1, 20.0).unwrap();
    let s = Problem::new(v.clone(), 1.0, 0.25, levels)
        .spectrum()
        .unwrap();
    (v, s)
}

#[test]
fn states_below_e_max_equal_the_dense_solve_and_none_is_missed_on_the_reference_case() {
    // The paper's Coulomb study: M = 70 orbitals (parity blocks of 1190–1260), E_max = 0.01 Ha.
    let m = 70;
    let e_max = 0.01;
    let (v, s) = reference_case(m);
    let problem = CiProblem::new(&v, &s, &coulomb(), m, Symmetry::Auto).unwrap();
    let dense = problem
        .solve(&CiSettings {
            keep_coefficients: 3,
            ..CiSettings::new(m)
        })
        .unwrap();
    let partial = problem
        .solve(&CiSettings {
            states: CiStates::below(e_max),
            keep_coefficients: 3,
            ..CiSettings::new(m)
        })
        .unwrap();
    assert_eq!(partial.dimension(), dense.dimension());
    assert!(partial.states.len() < dense.states.len() / 5);
    // Sylvester's law of inertia on each block at E_max, independent of both eigen-solvers.
    let counts = problem.count_below(&CiSettings::new(m), e_max).unwrap();
    for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
        assert!(partial.complete_below(exchange) > e_max);
        assert_eq!(dense.complete_below(exchange), f64::INFINITY);
        let below = |c: &CiSpectrum| -> Vec<CiState> {
            c.sector(exchange)
                .filter(|st| st.energy <= e_max)
                .cloned()
                .collect()
        };
        let (d, p) = (below(&dense), below(&partial));
        assert_eq!(
            p.len(),
            counts[exchange as usize],
            "{exchange:?}: inertia count"
        );
        assert_eq!(d.len(), p.len(), "{exchange:?}");
        assert!(p.len() > 200, "{exchange:?}: {} states", p.len());
        for (a, b) in d.iter().zip(&p) {
            assert_eq!(a.sector_index, b.sector_index);
            assert_eq!(
                (a.exchange, a.parity),
                (b.exchange, b.parity),
                "{a:?} vs {b:?}"
            );
            for (x, y) in [
                (a.energy, b.energy),
                (a.kinetic, b.kinetic),
                (a.potential, b.potential),
                (a.interaction, b.interaction),
            ] {
                assert!((x - y).abs() <= 1e-12, "{a:?} vs {b:?}");
            }
        }
        // The kept coefficient matrices are the same states (up to sign).
        for (a, b) in dense.sector(exchange).zip(partial.sector(exchange)).take(3) {
            let (ca, cb) = (a.coefficients.as_ref(), b.coefficients.as_ref());
            let overlap: f64 = ca
                .unwrap()
                .iter()
                .zip(cb.unwrap())
                .map(|(x, y)| x * y)
                .sum();
            assert!((overlap.abs() - 1.0).abs() < 1e-10, "overlap {overlap}");
        }
    }
    // One order from both solvers, although they round differently: the states of a degenerate
    // level (singlet/triplet pairs and even/odd doublets 1e-14 Ha apart) come by their labels.
    let tolerance = degeneracy_tolerance([dense.ground_energy()]);
    let order = |c: &CiSpectrum| -> Vec<_> {
        c.states
            .iter()
            .filter(|st| st.energy <= e_max)
            .map(|st| (st.exchange, st.parity, st.sector_index, st.leading_pair))
            .collect()
    };
    assert_eq!(order(&dense), order(&partial));
    let mut ties = 0;
    for (a, b) in dense.states.iter().zip(&dense.states[1..]) {
        assert!(a.level_energy <= a.energy && a.energy <= a.level_energy + tolerance);
        if a.level_energy == b.level_energy {
            ties += 1;
            let rank = |st: &CiState| (st.exchange as u8, st.parity.map(|p| p as u8));
            assert!(rank(a) <= rank(b), "{a:?} before {b:?}");
        } else {
            assert!(b.level_energy > a.level_energy + tolerance, "{a:?} {b:?}");
        }
    }
    assert!(ties >= 12, "{ties} degenerate neighbours");
    // The sector ranks of the partial spectrum are a prefix of each sector: nothing between.
    let energies = problem
        .energies(&CiSettings {
            states: CiStates::below(e_max),
            ..CiSettings::new(m)
        })
        .unwrap();
    for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
        let all: Vec<f64> = dense.sector(exchange).map(|st| st.energy).collect();
        let some = energies.sector(exchange);
        assert!(some.len() >= counts[exchange as usize]);
        for (x, y) in some.iter().zip(&all) {
            assert!((x - y).abs() <= 1e-12);
        }
    }
}

#[test]
fn the_lowest_states_of_each_sector_are_a_prefix_of_the_full_spectrum() {
    let v = well();
    let s = spectrum(&v, 14);
    let problem = CiProblem::new(&v, &s, &coulomb(), 14, Symmetry::Auto).unwrap();
    let full = problem.solve(&CiSettings::new(14)).unwrap();
    for count in [1, 5, 40] {
        let some = problem
            .solve(&CiSettings {
                states: CiStates::lowest(count),
                ..CiSettings::new(14)
            })
            .unwrap();
        for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
            let got: Vec<&CiState> = some.sector(exchange).collect();
            assert!(got.len() >= count, "{count} {exchange:?}");
            let limit = some.complete_below(exchange);
            for (a, b) in got.iter().zip(full.sector(exchange)) {
                assert!(a.energy < limit);
                assert_eq!(a.sector_index, b.sector_index);
                assert!((a.energy - b.energy).abs() < 1e-13);
                assert!((a.kinetic - b.kinetic).abs() < 1e-11);
            }
            // The first state left out lies at or above the limit.
            if let Some(next) = full.sector(exchange).nth(got.len()) {
                assert!(next.energy >= limit - 1e-13, "{} vs {limit}", next.energy);
            }
        }
    }
    // A convergence check needs the compared states: refused when the solved spectrum lacks
    // them, accepted (and equal to the full one) when it has them.
    let two = problem
        .solve(&CiSettings {
            states: CiStates::lowest(2),
            ..CiSettings::new(7)
        })
        .unwrap();
    let err = convergence_of(&two, &problem, 14, StateSelection::Lowest(40)).unwrap_err();
    assert!(
        err.to_string()
            .contains("solve with CiStates covering them"),
        "{err}"
    );
    let err = convergence_of(&two, &problem, 14, StateSelection::Below(0.5)).unwrap_err();
    assert!(matches!(err, CoulombError::Input(_)), "{err}");
    let a = convergence_of(&two, &problem, 14, StateSelection::Lowest(2)).unwrap();
    let b = convergence(&problem, 7, 14, StateSelection::Lowest(2)).unwrap();
    assert_eq!(a.rows.len(), 4);
    for (x, y) in a.rows.iter().zip(&b.rows) {
        assert!((x.coarse - y.coarse).abs() < 1e-13 && (x.fine - y.fine).abs() < 1e-13);
    }
}

#[test]
fn without_interaction_pair_states_are_exact_and_singlet_triplet_pairs_degenerate() {
    // W off: the CI matrix is diag(e_i + e_j), so every state is one pair with E = e_i + e_j
    // exactly, ⟨W⟩ = 0 exactly, and the singlet and triplet of a pair i < j are exactly
    // degenerate (the thermodynamics then treats them as one level of multiplicity 4). A dense
    // eigen-solve of the diagonal matrix perturbed some of them by an ulp (⟨W⟩ ~ 3e-17 Ha),
    // which split the level.
    let m = 40;
    let (v, s) = reference_case(m);
    let e = s.energies();
    let off = SoftCoulomb::new(0.0, 1.0, 1.0).unwrap();
    for states in [CiStates::All, CiStates::below(0.01)] {
        let ci = solve_ci(
            &v,
            &s,
            &off,
            &CiSettings {
                states,
                ..CiSettings::new(m)
            },
        )
        .unwrap();
        for st in &ci.states {
            let (i, j) = st.leading_pair;
            assert_eq!(st.leading_weight, 1.0, "{st:?}");
            assert_eq!(st.energy, e[i] + e[j], "{st:?}");
            assert_eq!(st.interaction, 0.0, "{st:?}");
        }
        for (a, b) in ci.states.iter().zip(&ci.states[1..]) {
            let (i, j) = a.leading_pair;
            if a.exchange == Exchange::Symmetric && i < j && b.leading_pair == (i, j) {
                assert_eq!(a.energy, b.energy);
            }
        }
        let pairs = ci.states.iter().filter(|st| {
            let (i, j) = st.leading_pair;
            i < j && st.exchange == Exchange::Antisymmetric
        });
        let singlet_partner = |t: &CiState| {
            ci.states.iter().any(|st| {
                st.exchange == Exchange::Symmetric
                    && st.leading_pair == t.leading_pair
                    && st.energy == t.energy
            })
        };
        assert!(pairs.clone().count() > 0);
        assert!(pairs.into_iter().all(singlet_partner), "{states:?}");
    }
}

/// The M′ check computed before the M spectrum is known (`fine_energies`, as `confine run` does
/// to run both solves concurrently) compares every M state below E_max with the M′ state of the
/// same rank, exactly as against the complete M′ spectrum (all eigenvalues of both sectors);
/// M′ energies that hold too few states (here none) are solved again rather than misread.
#[test]
fn fine_energies_computed_first_give_the_complete_convergence_report() {
    for v in [well(), lopsided()] {
        let s = spectrum(&v, 14);
        let problem = CiProblem::new(&v, &s, &coulomb(), 14, Symmetry::Auto).unwrap();
        let ground = problem
            .solve(&CiSettings {
                states: CiStates::lowest(1),
                ..CiSettings::new(8)
            })
            .unwrap();
        let e_max = ground.ground_energy() + 0.08;
        let coarse = problem
            .solve(&CiSettings {
                states: CiStates::below(e_max),
                ..CiSettings::new(8)
            })
            .unwrap();
        let selection = StateSelection::Below(e_max);
        let full = problem
            .energies(&CiSettings {
                states: CiStates::All,
                ..CiSettings::new(14)
            })
            .unwrap();
        let fine = fine_energies(&problem, 14, selection).unwrap();
        let early = convergence_from(&coarse, &problem, 14, fine, selection).unwrap();
        let empty = SectorEnergies {
            symmetric: Vec::new(),
            antisymmetric: Vec::new(),
        };
        let fallback = convergence_from(&coarse, &problem, 14, empty, selection).unwrap();
        let below = |x: Exchange| coarse.sector(x).filter(|st| st.energy <= e_max).count();
        let expected = below(Exchange::Symmetric) + below(Exchange::Antisymmetric);
        assert!(below(Exchange::Symmetric) > 2 && below(Exchange::Antisymmetric) > 2);
        for report in [&early, &fallback] {
            assert_eq!(report.rows.len(), expected);
            for r in &report.rows {
                let exact = full.sector(r.exchange)[r.index];
                assert!((r.fine - exact).abs() <= 1e-12, "{r:?} vs {exact}");
                assert!(r.change <= 1e-14, "{r:?}");
            }
        }
    }
}
