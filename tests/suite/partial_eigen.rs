//! The partial dense eigen-solver (`confine::eigen::dense::lowest_symmetric_eigen`, through the
//! two-stage `TridiagonalReduction`) against faer's full dense eigen-decomposition
//! (`symmetric_eigen`) and Sylvester's law of inertia (`eigenvalues_below`, Bunch–Kaufman
//! LDLᵀ), on random symmetric matrices of sizes around the reduction's bandwidth and on
//! matrices built to hit its special paths (repeated eigenvalues, diagonal, block-diagonal,
//! already tridiagonal, zero).
//!
//! # Tolerances (ε = f64::EPSILON, ‖A‖ = max absolute row sum)
//!
//! Both solvers are backward stable: each returned pair is exact for A + E with
//! ‖E‖ ≤ p(n)·ε‖A‖, p(n) a modest polynomial (Householder reductions: O(n) worst case,
//! O(√n) in practice). The tests use p(n) = 8n:
//!
//! * residual ‖Av − λv‖₂ ≤ 8n·ε‖A‖ (plus the rounding of evaluating it, n·ε‖A‖);
//! * |λ − λ_dense| ≤ 16n·ε‖A‖ (both within their residuals of the exact eigenvalue);
//! * |VᵀV − I| ≤ 16n·ε;
//! * Q T Qᵀ = A and QᵀQ = I for the reduction to 8n·ε‖A‖ and 16n·ε.
//!
//! Measured maxima are printed (`--nocapture`); they sit one to two orders below the bounds.
//! Completeness is exact: the number of returned values equals the inertia count of A − xI just
//! above the requested bound (at gaps much wider than the tolerance), and `next` is the
//! dense λ_k.

use confine::eigen::dense::{
    eigenvalues_below, lowest_symmetric_eigen, lowest_symmetric_eigen_in,
    lowest_symmetric_eigen_of_lower, symmetric_eigen, TridiagonalReduction, REDUCTION_BANDWIDTH,
};
use faer::Mat;

const EPS: f64 = f64::EPSILON;

/// xorshift64: a tiny deterministic generator for the test matrices.
struct Rng(u64);

impl Rng {
    /// Uniform in [−1, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn random_symmetric(n: usize, seed: u64) -> Mat<f64> {
    let mut rng = Rng(seed);
    let mut a = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j..n {
            let x = rng.next();
            a[(i, j)] = x;
            a[(j, i)] = x;
        }
    }
    a
}

/// Q diag(values) Qᵀ with Q the eigenvectors of a random symmetric matrix.
fn with_spectrum(values: &[f64], seed: u64) -> Mat<f64> {
    let n = values.len();
    let (_, q) = symmetric_eigen(random_symmetric(n, seed).as_ref()).unwrap();
    let mut a = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in 0..n {
            a[(i, j)] = (0..n).map(|k| q[(i, k)] * values[k] * q[(j, k)]).sum();
        }
    }
    // Exactly symmetric.
    for j in 0..n {
        for i in 0..j {
            a[(i, j)] = a[(j, i)];
        }
    }
    a
}

fn norm(a: &Mat<f64>) -> f64 {
    (0..a.nrows())
        .map(|i| (0..a.ncols()).map(|j| a[(i, j)].abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// The test families: (name, matrix).
fn families() -> Vec<(String, Mat<f64>)> {
    let b = REDUCTION_BANDWIDTH;
    let mut out = Vec::new();
    for (s, n) in [
        1,
        2,
        3,
        5,
        b - 1,
        b,
        b + 1,
        b + 2,
        2 * b + 1,
        3 * b + 7,
        150,
    ]
    .into_iter()
    .enumerate()
    {
        out.push((format!("random n={n}"), random_symmetric(n, 11 + s as u64)));
    }
    // Multiplicities 1..5 (and an exact zero eigenvalue).
    let repeated: Vec<f64> = (0..90).map(|k| ((k % 17) as f64 - 8.0) * 0.25).collect();
    out.push((
        "repeated eigenvalues n=90".into(),
        with_spectrum(&repeated, 5),
    ));
    // Diagonal, unsorted, with exact ties: every panel reflector is the identity.
    let diag: Vec<f64> = (0..70)
        .map(|k| ((k * 37) % 23) as f64 * 0.1 - 1.0)
        .collect();
    out.push((
        "diagonal n=70".into(),
        Mat::from_fn(70, 70, |i, j| if i == j { diag[i] } else { 0.0 }),
    ));
    // Two uncoupled random blocks: panels that are zero below part of their rows.
    let (p, q) = (random_symmetric(40, 3), random_symmetric(45, 4));
    out.push((
        "block diagonal 40+45".into(),
        Mat::from_fn(85, 85, |i, j| match (i < 40, j < 40) {
            (true, true) => p[(i, j)],
            (false, false) => q[(i - 40, j - 40)],
            _ => 0.0,
        }),
    ));
    // Already tridiagonal.
    out.push((
        "tridiagonal n=75".into(),
        Mat::from_fn(75, 75, |i, j| match i.abs_diff(j) {
            0 => (i as f64 * 0.7).sin(),
            1 => 0.5 + 0.01 * (i + j) as f64,
            _ => 0.0,
        }),
    ));
    // A CI-like matrix: a spread diagonal (pair energies) and a weaker dense coupling.
    let mut ci = random_symmetric(120, 9);
    for j in 0..120 {
        for i in 0..120 {
            ci[(i, j)] *= 0.02;
        }
        ci[(j, j)] += -0.2 + 0.005 * j as f64;
    }
    out.push(("CI-like n=120".into(), ci));
    out.push(("zero n=40".into(), Mat::<f64>::zeros(40, 40)));
    out
}

/// ‖A v − λ v‖₂.
fn residual(a: &Mat<f64>, v: &[f64], lambda: f64) -> f64 {
    let n = a.nrows();
    (0..n)
        .map(|i| {
            let av: f64 = (0..n).map(|k| a[(i, k)] * v[k]).sum();
            (av - lambda * v[i]).powi(2)
        })
        .sum::<f64>()
        .sqrt()
}

#[test]
fn reduction_is_an_orthogonal_similarity_to_a_tridiagonal() {
    let mut worst = [0.0_f64; 2];
    for (name, a) in families() {
        let n = a.nrows();
        let scale = norm(&a).max(1.0);
        let red = TridiagonalReduction::new(a.as_ref(), true);
        let t = red.tridiagonal();
        assert_eq!(
            (t.diag.len(), t.off.len()),
            (n, n.saturating_sub(1)),
            "{name}"
        );
        // Q = Q I, column by column.
        let mut q = vec![0.0; n * n];
        for j in 0..n {
            q[j * n + j] = 1.0;
        }
        red.apply_q(&mut q);
        let qt = |i: usize, j: usize| q[j * n + i];
        for i in 0..n {
            for j in 0..n {
                // (Q T Qᵀ)_ij = Σ_k Q_ik (T Qᵀ)_kj.
                let mut s = 0.0;
                for k in 0..n {
                    let mut tq = t.diag[k] * qt(j, k);
                    if k > 0 {
                        tq += t.off[k - 1] * qt(j, k - 1);
                    }
                    if k + 1 < n {
                        tq += t.off[k] * qt(j, k + 1);
                    }
                    s += qt(i, k) * tq;
                }
                let e = (s - a[(i, j)]).abs() / scale;
                assert!(
                    e <= 8.0 * n as f64 * EPS,
                    "{name}: (QTQᵀ − A)[{i},{j}] = {e:e}‖A‖"
                );
                worst[0] = worst[0].max(e / (n as f64 * EPS));
                let g: f64 = (0..n).map(|k| qt(k, i) * qt(k, j)).sum();
                let target = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (g - target).abs() <= 16.0 * n as f64 * EPS,
                    "{name}: (QᵀQ)[{i},{j}] = {g}"
                );
                worst[1] = worst[1].max((g - target).abs() / (n as f64 * EPS));
            }
        }
    }
    println!(
        "max |QTQᵀ − A| = {:.2} n ε‖A‖, max |QᵀQ − I| = {:.2} n ε",
        worst[0], worst[1]
    );
}

#[test]
fn partial_eigenpairs_match_the_dense_solver_and_miss_no_state() {
    let mut worst = [0.0_f64; 3];
    for (name, a) in families() {
        let n = a.nrows();
        let scale = norm(&a).max(f64::MIN_POSITIVE);
        let (dense, _) = symmetric_eigen(a.as_ref()).unwrap();
        let tol = 16.0 * n as f64 * EPS * scale;
        // A bound inside the spectrum, where the gap to the next eigenvalue is wide, so that
        // the count is unambiguous.
        let below = (1..n)
            .filter(|&k| dense[k] - dense[k - 1] > 1e3 * tol)
            .min_by_key(|&k| k.abs_diff(n / 2))
            .map_or(f64::NEG_INFINITY, |k| 0.5 * (dense[k - 1] + dense[k]));
        let under = dense.iter().filter(|&&x| x <= below).count();
        for (count, bound) in [
            (1, f64::NEG_INFINITY),
            (n / 3, f64::NEG_INFINITY),
            (0, below),
            (2, below),
            (n, f64::NEG_INFINITY),
            (0, f64::INFINITY),
        ] {
            let low = lowest_symmetric_eigen(a.as_ref(), count, bound, true).unwrap();
            let k = if bound == f64::INFINITY {
                n
            } else {
                count.max(if bound == below { under } else { 0 }).min(n)
            };
            let what = format!("{name}, count {count}, below {bound}");
            assert_eq!(low.values.len(), k, "{what}: number of pairs");
            assert_eq!(low.vectors.len(), n * k, "{what}");
            // Sylvester: the inertia of A − xI just above the bound counts what was returned.
            if bound == below && bound.is_finite() {
                assert_eq!(eigenvalues_below(a.as_ref(), below), Some(under), "{what}");
            }
            match low.next {
                Some(next) => {
                    assert!(k < n, "{what}");
                    assert!(
                        (next - dense[k]).abs() <= tol,
                        "{what}: next {next} vs {}",
                        dense[k]
                    );
                }
                None => assert_eq!(k, n, "{what}"),
            }
            for (j, &reference) in dense.iter().enumerate().take(k) {
                let d = (low.values[j] - reference).abs();
                assert!(d <= tol, "{what}: λ_{j} = {} vs {reference}", low.values[j],);
                worst[0] = worst[0].max(d / (n as f64 * EPS * scale));
                assert!(
                    j == 0 || low.values[j] >= low.values[j - 1],
                    "{what}: order"
                );
                let v = &low.vectors[j * n..(j + 1) * n];
                let r = residual(&a, v, low.values[j]);
                assert!(
                    r <= 9.0 * n as f64 * EPS * scale,
                    "{what}: residual {j}: {r:e}"
                );
                worst[1] = worst[1].max(r / (n as f64 * EPS * scale));
                for i in [0, j / 2, j] {
                    let u = &low.vectors[i * n..(i + 1) * n];
                    let g: f64 = u.iter().zip(v).map(|(x, y)| x * y).sum();
                    let target = if i == j { 1.0 } else { 0.0 };
                    assert!(
                        (g - target).abs() <= 16.0 * n as f64 * EPS,
                        "{what}: <v{i}|v{j}> {g}"
                    );
                    worst[2] = worst[2].max((g - target).abs() / (n as f64 * EPS));
                }
            }
        }
        // Values only: the same values.
        let only = lowest_symmetric_eigen(a.as_ref(), n / 2, f64::NEG_INFINITY, false).unwrap();
        assert!(only.vectors.is_empty());
        for (x, y) in only.values.iter().zip(&dense) {
            assert!((x - y).abs() <= tol, "{name}: values only {x} vs {y}");
        }
    }
    println!(
        "max |λ − λ_dense| = {:.2} n ε‖A‖, max residual = {:.2} n ε‖A‖, max |VᵀV − I| = {:.2} n ε",
        worst[0], worst[1], worst[2]
    );
}

#[test]
fn inertia_counts_the_eigenvalues_below_a_shift() {
    for (name, a) in families() {
        let n = a.nrows();
        let (dense, _) = symmetric_eigen(a.as_ref()).unwrap();
        let tol = 16.0 * n as f64 * EPS * norm(&a).max(1.0);
        // Midpoints of every gap well above the rounding, and points outside the spectrum.
        let mut shifts = vec![dense[0] - 1.0, dense[n - 1] + 1.0];
        shifts.extend(
            (1..n)
                .filter(|&k| dense[k] - dense[k - 1] > 1e3 * tol)
                .map(|k| 0.5 * (dense[k - 1] + dense[k])),
        );
        for x in shifts {
            let expected = dense.iter().filter(|&&e| e < x).count();
            assert_eq!(
                eigenvalues_below(a.as_ref(), x),
                Some(expected),
                "{name} at {x}"
            );
        }
    }
    // Not finite: no count, not a panic.
    let mut bad = random_symmetric(10, 1);
    bad[(3, 3)] = f64::NAN;
    assert_eq!(eigenvalues_below(bad.as_ref(), 0.0), None);
}

#[test]
fn a_nan_bound_is_an_error() {
    let a = random_symmetric(5, 2);
    assert!(lowest_symmetric_eigen(a.as_ref(), 1, f64::NAN, false).is_err());
    let empty = Mat::<f64>::zeros(0, 0);
    let low = lowest_symmetric_eigen(empty.as_ref(), 3, 0.0, true).unwrap();
    assert!(low.values.is_empty() && low.next.is_none());
}

/// The in-place entry point (the CI blocks hand their matrix over as the workspace) computes
/// bitwise the same pairs as the copying one, and never reads the upper triangle: it is filled
/// with garbage here. Sizes below, at, and off multiples of the bandwidth.
#[test]
fn in_place_reduction_is_bitwise_the_copying_one_and_ignores_the_upper_triangle() {
    let b = REDUCTION_BANDWIDTH;
    for (n, seed) in [
        (1, 3),
        (2, 5),
        (b - 1, 7),
        (b, 11),
        (3 * b + 5, 13),
        (4 * b + 17, 17),
    ] {
        let a = random_symmetric(n, seed);
        let mut lower = vec![0.0; n * n];
        for j in 0..n {
            for i in 0..n {
                lower[j * n + i] = if i >= j { a[(i, j)] } else { f64::NAN };
            }
        }
        let below = 0.0;
        for vectors in [false, true] {
            let copied = lowest_symmetric_eigen(a.as_ref(), 3, below, vectors).unwrap();
            let owned =
                lowest_symmetric_eigen_of_lower(lower.clone(), n, 3, below, vectors).unwrap();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&copied.values), bits(&owned.values), "n = {n}");
            assert_eq!(bits(&copied.vectors), bits(&owned.vectors), "n = {n}");
            assert_eq!(copied.next.map(f64::to_bits), owned.next.map(f64::to_bits));
            assert!(owned.values.iter().all(|v| v.is_finite()), "n = {n}");
            assert_eq!(
                owned.vectors.len(),
                if vectors { n * owned.values.len() } else { 0 }
            );
        }
    }
}

/// The borrowed-buffer entry point (the CI blocks reuse one buffer from block to block) hands
/// back n² numbers and computes bitwise what the copying one does, also when the buffer holds
/// the leftovers of a previous, larger reduction above the diagonal; and the inertia count
/// never reads the upper triangle either (NaN there changes no count).
#[test]
fn a_reused_buffer_gives_bitwise_the_same_pairs_and_counts() {
    let b = REDUCTION_BANDWIDTH;
    let mut buffer = Vec::new();
    for (n, seed) in [(4 * b + 17, 19), (3 * b + 5, 23), (b, 29), (2 * b + 1, 31)] {
        let a = random_symmetric(n, seed);
        for vectors in [true, false] {
            // Whatever the previous reduction left, the lower triangle is the matrix.
            buffer.resize(n * n, f64::NAN);
            for j in 0..n {
                for i in j..n {
                    buffer[j * n + i] = a[(i, j)];
                }
            }
            let reused = lowest_symmetric_eigen_in(&mut buffer, n, 3, 0.0, vectors).unwrap();
            assert_eq!(buffer.len(), n * n, "n = {n}: the workspace comes back");
            let copied = lowest_symmetric_eigen(a.as_ref(), 3, 0.0, vectors).unwrap();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&copied.values), bits(&reused.values), "n = {n}");
            assert_eq!(bits(&copied.vectors), bits(&reused.vectors), "n = {n}");
            assert_eq!(copied.next.map(f64::to_bits), reused.next.map(f64::to_bits));
        }
        let mut nan_above = a.clone();
        for j in 0..n {
            for i in 0..j {
                nan_above[(i, j)] = f64::NAN;
            }
        }
        let reference = symmetric_eigen(a.as_ref()).unwrap().0;
        for x in [
            reference[0] - 1.0,
            reference[n / 2],
            reference[n - 1] + 1.0,
            0.0,
        ] {
            let want = reference.iter().filter(|&&e| e < x).count();
            let got = eigenvalues_below(nan_above.as_ref(), x).unwrap();
            // At an eigenvalue itself the count is uncertain by its multiplicity.
            assert!(
                got == want || got == want + 1,
                "n = {n}, x = {x}: {got} vs {want}"
            );
            assert_eq!(got, eigenvalues_below(a.as_ref(), x).unwrap(), "n = {n}");
        }
    }
}

/// The phase times of a reduction are recorded: every phase of a matrix with several panels
/// takes time, and together they fit inside the wall time of the call.
#[test]
fn reduction_phases_are_timed_within_the_call() {
    let n = 4 * REDUCTION_BANDWIDTH + 5;
    let a = random_symmetric(n, 7);
    let start = std::time::Instant::now();
    let red = TridiagonalReduction::new(a.as_ref(), false);
    let wall = start.elapsed().as_secs_f64();
    let s = red.seconds();
    let phases = [s.panels, s.products, s.updates, s.chase];
    assert!(phases.iter().all(|&x| x > 0.0), "{s:?}");
    assert!(phases.iter().sum::<f64>() <= wall, "{s:?} against {wall} s");
}
