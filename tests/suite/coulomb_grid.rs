//! Tests of the 2-D grid solve of two electrons (`confine::physics::coulomb::grid2d`): exchange sectors,
//! the non-interacting limit, Lanczos against dense references, memory and input errors.
//!
//! Grids are tiny (L ≤ 10 bohr, h = 0.5 bohr) so the debug build runs them in about a second.

use confine::eigen::{lowest_eigenpairs, SolverOptions};
use confine::model::grid::Grid;
use confine::model::hamiltonian::Hamiltonian;
use confine::model::potential::Potential;
use confine::physics::coulomb::grid2d::*;
use confine::physics::coulomb::{CoulombError, Exchange, SoftCoulomb};
use faer::{Mat, Side};

const BOTH: [Exchange; 2] = [Exchange::Symmetric, Exchange::Antisymmetric];

/// Square well of depth 0.5 Ha and half-width 3 bohr in the box [−L, L], grid spacing h.
fn setup(l: f64, h: f64) -> (Potential, Grid) {
    let v = Potential::square_well(l, 0.5, 3.0).unwrap();
    let g = Grid::aligned(l, &v.breakpoints(), h).unwrap();
    (v, g)
}

fn off() -> SoftCoulomb {
    SoftCoulomb::new(0.0, 1.0, 1.0).unwrap()
}

fn options(levels: usize) -> GridOptions {
    GridOptions {
        levels,
        ..Default::default()
    }
}

/// All eigenvalues of a dense symmetric matrix, ascending.
fn dense_values(m: &Mat<f64>) -> Vec<f64> {
    let evd = m.self_adjoint_eigen(Side::Lower).unwrap();
    (0..m.nrows()).map(|i| evd.S()[i]).collect()
}

/// The full product-grid H = H̃₁ ⊗ I + I ⊗ H̃₁ + diag W, index a·N + b.
fn full_product_matrix(h1: &Hamiltonian, g: &Grid, w: &SoftCoulomb) -> Mat<f64> {
    let n = h1.len();
    let x = g.interior();
    let t = &h1.matrix;
    let t1 = |i: usize, j: usize| -> f64 {
        if i == j {
            t.diag[i]
        } else if i + 1 == j {
            t.off[i]
        } else if j + 1 == i {
            t.off[j]
        } else {
            0.0
        }
    };
    Mat::from_fn(n * n, n * n, |r, c| {
        let (a, b) = (r / n, r % n);
        let (a2, b2) = (c / n, c % n);
        let mut v = 0.0;
        if b == b2 {
            v += t1(a, a2);
        }
        if a == a2 {
            v += t1(b, b2);
        }
        if r == c {
            v += w.at_separation(x[a] - x[b]);
        }
        v
    })
}

#[test]
fn noninteracting_sectors_are_sums_of_one_particle_levels() {
    let (v, g) = setup(10.0, 0.5);
    let h1 = Hamiltonian::new(&v, &g, 1.0).unwrap();
    let n = h1.len();
    let one = lowest_eigenpairs(&h1.matrix, n, &SolverOptions::default()).unwrap();
    let e = &one.values;
    let k = 12;
    for exchange in BOTH {
        let mut sums = Vec::new();
        for i in 0..n {
            let start = if exchange == Exchange::Symmetric {
                i
            } else {
                i + 1
            };
            for j in start..n {
                sums.push((e[i] + e[j], i, j));
            }
        }
        sums.sort_by(|a, b| a.0.total_cmp(&b.0));
        let got = solve_sector(&v, &g, 1.0, &off(), exchange, &options(k)).unwrap();
        assert_eq!(got.states.len(), k);
        for (s, &(sum, i, j)) in got.states.iter().zip(&sums) {
            assert!(
                (s.energy - sum).abs() < 1e-10,
                "{exchange:?}: {} vs e_{i} + e_{j} = {sum}",
                s.energy
            );
            assert!(s.residual < 1e-8, "residual {}", s.residual);
            assert_eq!(s.interaction, 0.0);
            assert_eq!(
                s.multiplicity,
                if exchange == Exchange::Symmetric {
                    1
                } else {
                    3
                }
            );
        }
        // ⟨K₁ + K₂⟩ of a non-degenerate product state is K_i + K_j of the 1-D levels.
        let mut psi = vec![0.0; n];
        let kin: Vec<f64> = (0..n)
            .map(|i| {
                h1.amplitude_from_symmetric(one.vector(i), &mut psi);
                h1.kinetic_energy(&psi)
            })
            .collect();
        for (idx, (s, &(sum, i, j))) in got.states.iter().zip(&sums).enumerate() {
            let isolated = sums
                .iter()
                .enumerate()
                .all(|(o, t)| o == idx || (t.0 - sum).abs() > 1e-6);
            if isolated {
                assert!(
                    (s.kinetic - (kin[i] + kin[j])).abs() < 1e-8,
                    "{exchange:?} ({i},{j}): K = {} vs {}",
                    s.kinetic,
                    kin[i] + kin[j]
                );
            }
        }
    }
}

#[test]
fn the_two_sectors_together_are_the_full_product_spectrum() {
    let (v, g) = setup(4.0, 0.5);
    let h1 = Hamiltonian::new(&v, &g, 1.0).unwrap();
    let w = SoftCoulomb::default();
    let full = dense_values(&full_product_matrix(&h1, &g, &w));
    let mut union = Vec::new();
    for exchange in BOTH {
        let s = SectorHamiltonian::new(&h1, &g, &w, exchange).unwrap();
        union.extend(dense_values(&s.to_dense()));
    }
    union.sort_by(f64::total_cmp);
    assert_eq!(union.len(), full.len());
    for (a, b) in union.iter().zip(&full) {
        assert!((a - b).abs() < 1e-10 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn sector_states_have_the_exchange_symmetry_and_solve_the_full_problem() {
    let (v, g) = setup(4.0, 0.5);
    let h1 = Hamiltonian::new(&v, &g, 1.0).unwrap();
    let w = SoftCoulomb::default();
    let full = full_product_matrix(&h1, &g, &w);
    let n = h1.len();
    for exchange in BOTH {
        let sol = solve_sector(&v, &g, 1.0, &w, exchange, &options(6)).unwrap();
        let sign = if exchange == Exchange::Symmetric {
            1.0
        } else {
            -1.0
        };
        for (i, state) in sol.states.iter().enumerate() {
            let phi = sol.basis().expand(sol.vector(i));
            let norm: f64 = phi.iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-12);
            for a in 0..n {
                for b in 0..n {
                    assert!((phi[a * n + b] - sign * phi[b * n + a]).abs() < 1e-14);
                }
            }
            // The expanded vector is an eigenvector of the full product-grid H.
            let mut r = 0.0_f64;
            for row in 0..n * n {
                let hphi: f64 = (0..n * n).map(|c| full[(row, c)] * phi[c]).sum();
                r += (hphi - state.energy * phi[row]).powi(2);
            }
            assert!(
                r.sqrt() < 1e-9,
                "{exchange:?} state {i}: residual {}",
                r.sqrt()
            );
        }
    }
}

#[test]
fn lanczos_matches_dense_on_an_interacting_case() {
    let (v, g) = setup(10.0, 0.5);
    let h1 = Hamiltonian::new(&v, &g, 1.0).unwrap();
    let w = SoftCoulomb::default();
    let k = 20;
    for exchange in BOTH {
        let dense = dense_values(
            &SectorHamiltonian::new(&h1, &g, &w, exchange)
                .unwrap()
                .to_dense(),
        );
        let sol = solve_sector(&v, &g, 1.0, &w, exchange, &options(k)).unwrap();
        assert_eq!(sol.solver, "thick-restart Lanczos");
        for (i, s) in sol.states.iter().enumerate() {
            assert!(
                (s.energy - dense[i]).abs() < 1e-10 * dense[i].abs().max(1.0),
                "{exchange:?} {i}: {} vs {}",
                s.energy,
                dense[i]
            );
            assert!(s.residual < 1e-8);
            assert!(s.interaction > 0.0 && s.kinetic > 0.0);
            let sum = s.kinetic + s.potential + s.interaction;
            assert!((sum - s.energy).abs() < 1e-14 * s.energy.abs().max(1.0));
        }
        // The estimate made before assembly bounds the exact factor size.
        assert!(sol.memory.factor_measured && !sol.estimated_memory.factor_measured);
        assert!(
            sol.estimated_memory.factor_entries >= sol.memory.factor_entries,
            "fill model {} < measured {}",
            sol.estimated_memory.factor_entries,
            sol.memory.factor_entries
        );
        assert!(sol.timings.factorization_s >= 0.0 && sol.operator_applications > k);
    }
}

#[test]
fn both_sectors_at_once() {
    let (v, g) = setup(4.0, 0.5);
    let sol = solve(&v, &g, 1.0, &SoftCoulomb::default(), &options(4)).unwrap();
    assert_eq!(sol.symmetric.exchange, Exchange::Symmetric);
    assert_eq!(sol.antisymmetric.exchange, Exchange::Antisymmetric);
    assert_eq!(sol.symmetric.dimension, 15 * 16 / 2);
    assert_eq!(sol.antisymmetric.dimension, 15 * 14 / 2);
    // Interacting ground state is a singlet.
    assert!(sol.symmetric.states[0].energy < sol.antisymmetric.states[0].energy);
}

#[test]
fn over_the_memory_limit_is_a_clear_error() {
    let (v, g) = setup(10.0, 0.5);
    let opts = GridOptions {
        memory_limit_bytes: 200_000,
        ..options(5)
    };
    let Err(err) = solve_sector(
        &v,
        &g,
        1.0,
        &SoftCoulomb::default(),
        Exchange::Symmetric,
        &opts,
    ) else {
        panic!("a 200 kB limit must refuse a sector of dimension 780");
    };
    match &err {
        CoulombError::Memory {
            needed_bytes,
            limit_bytes,
            suggested_spacing,
            spacing,
            ..
        } => {
            assert!(needed_bytes > limit_bytes);
            assert!(suggested_spacing > spacing);
        }
        other => panic!("expected a memory error, got {other}"),
    }
    let text = err.to_string();
    for needle in [
        "MiB",
        "memory limit",
        "coarser grid",
        "smaller box",
        "singlet",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in: {text}");
    }
    // The estimate grows with the grid: (2L/h)² / 2 states.
    let small = estimate_memory(39, Exchange::Symmetric, &options(5));
    let large = estimate_memory(479, Exchange::Symmetric, &options(5));
    assert_eq!(large.dimension, 479 * 480 / 2);
    assert!(large.total_bytes > 100 * small.total_bytes);
}

#[test]
fn bad_inputs_are_errors() {
    let (v, g) = setup(4.0, 0.5);
    let w = SoftCoulomb::default();
    let err = solve_sector(&v, &g, 1.0, &w, Exchange::Symmetric, &options(0)).unwrap_err();
    assert!(
        matches!(err, CoulombError::Levels { requested: 0, .. }),
        "{err}"
    );
    let dim = 15 * 14 / 2;
    let err =
        solve_sector(&v, &g, 1.0, &w, Exchange::Antisymmetric, &options(dim + 1)).unwrap_err();
    assert!(
        matches!(err, CoulombError::Levels { dimension, .. } if dimension == dim),
        "{err}"
    );
    assert!(err.to_string().contains("triplet"));
    let err = solve_sector(&v, &g, 0.0, &w, Exchange::Symmetric, &options(2)).unwrap_err();
    assert!(matches!(err, CoulombError::Hamiltonian(_)), "{err}");
    let nan_shift = GridOptions {
        shift: Some(f64::NAN),
        ..options(2)
    };
    assert!(matches!(
        solve_sector(&v, &g, 1.0, &w, Exchange::Symmetric, &nan_shift),
        Err(CoulombError::Input(_))
    ));
    // A shift above the ground state: H − σI is indefinite, the Cholesky refuses it.
    let high_shift = GridOptions {
        shift: Some(0.0),
        ..options(2)
    };
    let err = solve_sector(&v, &g, 1.0, &w, Exchange::Symmetric, &high_shift).unwrap_err();
    assert!(matches!(err, CoulombError::Factorization(_)), "{err}");
    assert!(err.to_string().contains("below the lowest state"));
    // One interior node: the antisymmetric sector is empty.
    let v1 = Potential::new(1.0, vec![]).unwrap();
    let g1 = Grid::aligned(1.0, &[], 1.0).unwrap();
    assert_eq!(g1.interior_len(), 1);
    let err = solve_sector(&v1, &g1, 1.0, &w, Exchange::Antisymmetric, &options(1)).unwrap_err();
    assert!(
        matches!(err, CoulombError::Levels { dimension: 0, .. }),
        "{err}"
    );
}

/// The fitted fill model bounds the exact Cholesky factor up to the benchmark size (release,
/// about 25 s: `cargo test --release --test coulomb_grid -- --ignored --nocapture fill`).
#[test]
#[ignore]
fn fill_model_bounds_the_measured_factor() {
    for l in [10.0, 20.0, 30.0, 45.0, 60.0] {
        let (v, g) = setup(l, 0.25);
        for exchange in BOTH {
            let sol =
                solve_sector(&v, &g, 1.0, &SoftCoulomb::default(), exchange, &options(20)).unwrap();
            println!(
                "L {l} N {} {exchange:?} D {} nnz(L) {} (model {}) total {:.1} MiB (estimate {:.1} MiB) {:?} restarts {} solves {}",
                sol.nodes,
                sol.dimension,
                sol.memory.factor_entries,
                sol.estimated_memory.factor_entries,
                sol.memory.total_bytes as f64 / 1048576.0,
                sol.estimated_memory.total_bytes as f64 / 1048576.0,
                sol.timings,
                sol.restarts,
                sol.operator_applications
            );
            assert!(sol.estimated_memory.factor_entries >= sol.memory.factor_entries);
            assert!(sol.estimated_memory.total_bytes as f64 >= 0.9 * sol.memory.total_bytes as f64);
            assert!(sol.max_residual() < 1e-8);
        }
    }
}

/// ARPACK (dsaupd/dseupd on the same shift-invert operator) agrees with the thick-restart
/// Lanczos on the lowest 10 states of each sector (`cargo test --features arpack --test
/// coulomb_grid`; needs libarpack2-dev and libopenblas-dev).
#[cfg(feature = "arpack")]
#[test]
fn arpack_agrees_with_the_lanczos() {
    let (v, g) = setup(10.0, 0.5);
    let w = SoftCoulomb::default();
    for exchange in BOTH {
        let ours = solve_sector(&v, &g, 1.0, &w, exchange, &options(10)).unwrap();
        let theirs = solve_sector_arpack(&v, &g, 1.0, &w, exchange, &options(10)).unwrap();
        assert_eq!(theirs.solver, "ARPACK dsaupd");
        for (a, b) in ours.states.iter().zip(&theirs.states) {
            assert!(
                (a.energy - b.energy).abs() <= 1e-9 * a.energy.abs(),
                "{exchange:?}: Lanczos {} vs ARPACK {}",
                a.energy,
                b.energy
            );
            assert!(b.residual < 1e-8, "ARPACK residual {}", b.residual);
            assert!((a.kinetic - b.kinetic).abs() <= 1e-7 * a.kinetic.abs());
        }
    }
}
