//! The k-lowest tridiagonal eigen-solver (`confine::eigen::lowest_eigenpairs`) against faer's
//! dense self-adjoint eigen-solver, closed forms and its own Sturm counts.
//!
//! Every check below is computed in the test itself (matrix-vector products, Gram matrices,
//! Sturm counts) and then compared with what the solver reports about itself.
//!
//! # Tolerances (ε = f64::EPSILON, ‖T‖ = `t.norm_bound()`, the max absolute row sum)
//!
//! * **Residuals** ‖Tv − λv‖₂ ≤ (68 + 8√n)·ε‖T‖. The solver accepts a simple level at
//!   64·ε‖T‖ (`SolverOptions::default().residual_factor`); a cluster narrower than the Sturm
//!   resolution 8·ε‖T‖·√n stops at (64 + 8√n)·ε‖T‖; evaluating ‖Tv − λv‖ in floating point
//!   adds at most ~4·ε·‖|T|‖₂ ≤ 4·ε‖T‖ (three products and two sums per row). The final
//!   Cholesky-QR pass removes overlaps of order r/gap, which moves a residual by about r·(a
//!   few) at most when the vectors were already nearly orthogonal; the 8√n term absorbs that
//!   (measured: ≤ 86·ε‖T‖ on every family that passes). It does not absorb the blow-up when
//!   two returned vectors were nearly parallel before that pass: that is what the check is for.
//! * **Eigenvalues** |λ_solver − λ_ref| ≤ 64·√n·ε‖T‖. A Rayleigh quotient with residual r lies
//!   within r of an eigenvalue, and m orthonormal Ritz vectors with residuals ≤ r lie within
//!   √m·r of m eigenvalues (Kahan); together with the Sturm proof that these are the lowest
//!   ones, the solver's error is ≤ √m·(68 + 8√n)·ε‖T‖, which is ≤ 64√n·ε‖T‖ for clusters of
//!   up to m = 10 at n ≤ 300, and a backward-stable dense solver adds p(n)·ε‖T‖ with
//!   p(n) = O(√n) in practice (measured ≤ 5·ε‖T‖ where the solver is exact). The bound grows
//!   only like √n, so it cannot hide an O(n) error.
//! * **Orthonormality** max |VᵀV − I| ≤ 16·n·ε: one inner product of two unit n-vectors has a
//!   rounding error ≤ n·ε (γₙ); the solver's Cholesky-QR pass leaves O(ε·κ(V)²) with κ ≈ 1,
//!   measured again with an n-term dot product here.
//! * **Vectors** against faer's: Davis–Kahan, sin∠(v, span U_c) ≤ (r_solver + r_dense)/gap
//!   for a group c of dense eigenvalues separated by `gap` from the rest of the spectrum. The
//!   test checks ‖v − U_c U_cᵀ v‖ ≤ 2·(r_solver + √m·r_dense)/gap + 16·n·ε (the last term is
//!   the rounding of the projection), for every group where that bound is below 1e-2 —
//!   "well separated". For a simple level this is |⟨v|u⟩| ≈ 1.
//! * **Sturm completeness** is exact: count_below(report.sturm_cutoff) equals the reported
//!   count, which is ≥ k, and equals k when λ_{k−1} and λ_k are further apart than
//!   8·64·√n·ε‖T‖ (well beyond the count resolution); every returned value is below the cutoff.
//!
//! The family tests check order and "below the cutoff" up to the eigenvalue tolerance, and
//! `contract_*` tests check the documented exact forms on minimal matrices, so that a
//! rounding-level violation shows up once, by name, instead of in every family. Each family
//! test collects all its failed checks and prints the largest measured errors (`--nocapture`).

use confine::eigen::sturm::SturmData;
use confine::eigen::{lowest_eigenpairs, EigenError, EigenPairs, SolverOptions, SymTridiagonal};
use proptest::prelude::*;

const EPS: f64 = f64::EPSILON;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// SplitMix64: a tiny deterministic generator for the test matrices.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// ±1.
    fn sign(&mut self) -> f64 {
        if self.next_u64() & 1 == 0 {
            1.0
        } else {
            -1.0
        }
    }
}

fn tri(diag: Vec<f64>, off: Vec<f64>) -> SymTridiagonal {
    SymTridiagonal::new(diag, off).expect("valid test matrix")
}

fn residual_tol(n: usize, norm: f64) -> f64 {
    (68.0 + 8.0 * (n as f64).sqrt()) * EPS * norm
}

fn value_tol(n: usize, norm: f64) -> f64 {
    64.0 * (n as f64).sqrt() * EPS * norm
}

fn orth_tol(n: usize) -> f64 {
    16.0 * n as f64 * EPS
}

/// y = T x, written out independently of the crate's `matvec`.
fn apply(t: &SymTridiagonal, x: &[f64]) -> Vec<f64> {
    let n = t.diag.len();
    (0..n)
        .map(|i| {
            let mut y = t.diag[i] * x[i];
            if i > 0 {
                y += t.off[i - 1] * x[i - 1];
            }
            if i + 1 < n {
                y += t.off[i] * x[i + 1];
            }
            y
        })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// ‖T v − λ v‖₂.
fn residual(t: &SymTridiagonal, v: &[f64], lambda: f64) -> f64 {
    apply(t, v)
        .iter()
        .zip(v)
        .map(|(tv, x)| (tv - lambda * x).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Dense reference: all eigenvalues ascending and the eigenvectors as columns (faer).
struct Dense {
    values: Vec<f64>,
    vectors: faer::Mat<f64>,
}

fn dense(t: &SymTridiagonal) -> Dense {
    let n = t.diag.len();
    let m = faer::Mat::<f64>::from_fn(n, n, |i, j| {
        if i == j {
            t.diag[i]
        } else if i == j + 1 {
            t.off[j]
        } else if j == i + 1 {
            t.off[i]
        } else {
            0.0
        }
    });
    let evd = m
        .self_adjoint_eigen(faer::Side::Lower)
        .expect("dense eigen-solver converged");
    let s = evd.S();
    let values: Vec<f64> = (0..n).map(|i| s[i]).collect();
    let vectors = evd.U().to_owned();
    for w in values.windows(2) {
        assert!(w[0] <= w[1], "faer returned unsorted eigenvalues");
    }
    Dense { values, vectors }
}

fn dense_column(d: &Dense, j: usize) -> Vec<f64> {
    let n = d.vectors.nrows();
    (0..n).map(|i| d.vectors[(i, j)]).collect()
}

fn solve(t: &SymTridiagonal, k: usize) -> EigenPairs {
    lowest_eigenpairs(t, k, &SolverOptions::default())
        .unwrap_or_else(|e| panic!("solver failed (n = {}, k = {k}): {e}", t.diag.len()))
}

/// Collects every failed check of a test (instead of stopping at the first) together with
/// the largest measured errors, so that one run shows the whole picture.
#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    /// max |Δλ| / (ε‖T‖) against the reference.
    value: f64,
    /// max ‖Tv − λv‖ / (ε‖T‖).
    residual: f64,
    /// max |VᵀV − I| / (n ε).
    orth: f64,
    /// Number of solves checked.
    solves: usize,
}

impl Checker {
    fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(msg());
        }
    }

    /// Prints the margins and panics with the list of failures, if any.
    fn finish(self, family: &str) {
        println!(
            "{family}: {} solves; max |Δλ| = {:.1} ε‖T‖, max residual = {:.1} ε‖T‖, \
             max |VᵀV − I| = {:.2} nε",
            self.solves, self.value, self.residual, self.orth
        );
        if !self.failures.is_empty() {
            let shown: Vec<&str> = self.failures.iter().take(25).map(|s| s.as_str()).collect();
            panic!(
                "{family}: {} failed checks (first {} shown):\n{}",
                self.failures.len(),
                shown.len(),
                shown.join("\n")
            );
        }
    }

    /// Runs the solver; a solver error is a failure (and `None`).
    fn solve(&mut self, t: &SymTridiagonal, k: usize, what: &str) -> Option<EigenPairs> {
        self.solves += 1;
        match lowest_eigenpairs(t, k, &SolverOptions::default()) {
            Ok(p) => Some(p),
            Err(e) => {
                self.failures.push(format!("{what}: solver error: {e}"));
                None
            }
        }
    }
}

/// Checks of one solve that need no reference: residuals, orthonormality, order, report
/// consistency and Sturm completeness.
fn check_self(c: &mut Checker, t: &SymTridiagonal, k: usize, p: &EigenPairs, what: &str) {
    let n = t.diag.len();
    let norm = t.norm_bound();
    let scale = EPS * norm.max(f64::MIN_POSITIVE);
    let vtol = value_tol(n, norm);
    let rtol = residual_tol(n, norm);
    // Two evaluations of vᵀTv (or ‖Tv − ρv‖) in different summation orders differ by at most
    // γ_n·Σ|v_i||(Tv)_i| + 3ε‖T‖ ≤ (n + 3)·ε‖T‖ each: allow twice that.
    let rounding = (2.0 * n as f64 + 6.0) * scale;
    let shapes_ok = p.values.len() == k
        && p.residuals.len() == k
        && p.vectors.len() == n * k
        && p.dimension == n
        && p.report.dimension == n;
    c.check(shapes_ok, || {
        format!(
            "{what}: shapes: {} values, {} residuals, {} vector entries, dimension {}/{}",
            p.values.len(),
            p.residuals.len(),
            p.vectors.len(),
            p.dimension,
            p.report.dimension
        )
    });
    if !shapes_ok {
        return;
    }
    c.check(p.report.norm_bound == norm, || {
        format!(
            "{what}: report.norm_bound {} != {norm}",
            p.report.norm_bound
        )
    });
    c.check(p.values.iter().all(|v| v.is_finite()), || {
        format!("{what}: non-finite values {:?}", p.values)
    });

    // Ascending, up to the value tolerance (exact order: `contract_values_sorted_exactly`).
    for (j, w) in p.values.windows(2).enumerate() {
        c.check(w[0] <= w[1] + vtol, || {
            format!("{what}: values not ascending at {j}: {} > {}", w[0], w[1])
        });
    }

    // Residuals, measured here, and the reported ones.
    let mut measured_max = 0.0_f64;
    for j in 0..k {
        let v = p.vector(j);
        let r = residual(t, v, p.values[j]);
        measured_max = measured_max.max(r);
        c.check(r <= rtol, || {
            format!(
                "{what}: residual of pair {j} (λ = {}) is {r:e} = {:.1} ε‖T‖ > {:.1} ε‖T‖",
                p.values[j],
                r / scale,
                rtol / scale
            )
        });
        c.check((p.residuals[j] - r).abs() <= rounding, || {
            format!(
                "{what}: reported residual {j} {:e} vs measured {r:e}",
                p.residuals[j]
            )
        });
        // The value is the Rayleigh quotient of the returned vector.
        let rq = dot(v, &apply(t, v));
        c.check((rq - p.values[j]).abs() <= rounding, || {
            format!(
                "{what}: value {j} = {} is not the Rayleigh quotient {rq}",
                p.values[j]
            )
        });
    }
    c.residual = c.residual.max(measured_max / scale);
    c.check(p.report.max_residual >= measured_max - rounding, || {
        format!(
            "{what}: report.max_residual {:e} < measured {measured_max:e}",
            p.report.max_residual
        )
    });
    c.check(p.report.max_residual <= rtol, || {
        format!(
            "{what}: report.max_residual {:e} = {:.1} ε‖T‖ above the tolerance",
            p.report.max_residual,
            p.report.max_residual / scale
        )
    });

    // Orthonormality, measured here, and the reported one.
    let mut orth = 0.0_f64;
    for i in 0..k {
        for j in 0..=i {
            let g = dot(p.vector(i), p.vector(j)) - if i == j { 1.0 } else { 0.0 };
            orth = orth.max(g.abs());
        }
    }
    c.orth = c.orth.max(orth / (n as f64 * EPS));
    c.check(orth <= orth_tol(n), || {
        format!("{what}: max |VᵀV − I| = {orth:e} > {:e}", orth_tol(n))
    });
    c.check(
        p.report.max_orthogonality_error >= orth - 2.0 * n as f64 * EPS,
        || {
            format!(
                "{what}: report.max_orthogonality_error {:e} < measured {orth:e}",
                p.report.max_orthogonality_error
            )
        },
    );
    c.check(p.report.max_orthogonality_error <= orth_tol(n), || {
        format!(
            "{what}: report.max_orthogonality_error {:e} above the tolerance",
            p.report.max_orthogonality_error
        )
    });

    // Sturm completeness: the count at the cutoff is recomputed here.
    if k > 0 {
        let sturm = SturmData::new(&t.diag, &t.off);
        let cutoff = p.report.sturm_cutoff;
        let count = sturm.count_below(cutoff);
        c.check(count == p.report.sturm_count_at_cutoff, || {
            format!(
                "{what}: Sturm count {count} at the cutoff {cutoff}, reported {}",
                p.report.sturm_count_at_cutoff
            )
        });
        c.check(count >= k, || {
            format!("{what}: only {count} levels below the cutoff, k = {k}")
        });
        // Below the cutoff up to the value tolerance (strictly: `contract_values_below_cutoff`).
        for (j, &v) in p.values.iter().enumerate() {
            c.check(v < cutoff + vtol, || {
                format!("{what}: value {j} = {v} is above the cutoff {cutoff}")
            });
        }
    }
}

/// Full comparison of `lowest_eigenpairs(t, k)` with the dense solution.
fn check_against_dense(c: &mut Checker, t: &SymTridiagonal, d: &Dense, k: usize, what: &str) {
    let n = t.diag.len();
    let what = format!("{what} (n = {n}, k = {k})");
    let Some(p) = c.solve(t, k, &what) else {
        return;
    };
    check_self(c, t, k, &p, &what);
    if p.values.len() != k || p.vectors.len() != n * k {
        return;
    }
    let norm = t.norm_bound();
    let scale = EPS * norm.max(f64::MIN_POSITIVE);
    let vtol = value_tol(n, norm);

    // Eigenvalues.
    for j in 0..k {
        let err = (p.values[j] - d.values[j]).abs();
        c.value = c.value.max(err / scale);
        c.check(err <= vtol, || {
            format!(
                "{what}: λ_{j} = {} vs dense {}: error {:.1} ε‖T‖ > {:.1} ε‖T‖",
                p.values[j],
                d.values[j],
                err / scale,
                vtol / scale
            )
        });
    }

    // The Sturm count equals k when λ_{k−1} < λ_k are well separated, and it is the number of
    // dense eigenvalues below the cutoff whenever none sits within the tolerance of it.
    if k > 0 {
        let cutoff = p.report.sturm_cutoff;
        if k < n && d.values[k] - d.values[k - 1] > 8.0 * vtol {
            c.check(p.report.sturm_count_at_cutoff == k, || {
                format!(
                    "{what}: Sturm count at the cutoff is {} although λ_k − λ_(k−1) = {:e}",
                    p.report.sturm_count_at_cutoff,
                    d.values[k] - d.values[k - 1]
                )
            });
        }
        if d.values.iter().all(|&l| (l - cutoff).abs() > vtol) {
            let below = d.values.iter().filter(|&&l| l < cutoff).count();
            c.check(below == p.report.sturm_count_at_cutoff, || {
                format!(
                    "{what}: {below} dense eigenvalues below the cutoff {cutoff}, Sturm count {}",
                    p.report.sturm_count_at_cutoff
                )
            });
        }
    }

    // Vectors: each solver vector lies in the span of the dense eigenvectors of its group.
    let dense_res: Vec<f64> = (0..n)
        .map(|j| residual(t, &dense_column(d, j), d.values[j]))
        .collect();
    for (lo, hi, gap) in groups(&d.values, n, norm) {
        if lo >= k {
            break;
        }
        let size = (hi - lo) as f64;
        let r_dense = dense_res[lo..hi].iter().cloned().fold(0.0, f64::max);
        let basis: Vec<Vec<f64>> = (lo..hi).map(|j| dense_column(d, j)).collect();
        for j in lo..hi.min(k) {
            let v = p.vector(j);
            let bound = 2.0 * (p.residuals[j] + size.sqrt() * r_dense) / gap + orth_tol(n);
            if bound > 1e-2 {
                continue; // not well separated: Davis–Kahan says nothing useful
            }
            let mut rest = v.to_vec();
            for u in &basis {
                let coef = dot(u, v);
                rest.iter_mut().zip(u).for_each(|(x, y)| *x -= coef * y);
            }
            let sin = dot(&rest, &rest).sqrt();
            c.check(sin <= bound, || {
                format!(
                    "{what}: vector {j} leaves the dense eigenspace of levels {lo}..{hi}: \
                     sin angle {sin:e} > {bound:e} (gap {gap:e})"
                )
            });
            if hi - lo == 1 {
                let overlap = dot(&basis[0], v).abs();
                c.check(1.0 - overlap <= bound, || {
                    format!("{what}: |⟨v_{j}|u_{j}⟩| = {overlap}")
                });
            }
        }
    }
}

/// Splits the sorted spectrum into groups [lo, hi) at gaps wider than 1e3 times the value
/// tolerance; each group comes with its distance to the rest of the spectrum.
fn groups(values: &[f64], n: usize, norm: f64) -> Vec<(usize, usize, f64)> {
    let split = 1e3 * value_tol(n, norm);
    let mut bounds = vec![0];
    for j in 1..values.len() {
        if values[j] - values[j - 1] > split {
            bounds.push(j);
        }
    }
    bounds.push(values.len());
    bounds
        .windows(2)
        .map(|w| {
            let (lo, hi) = (w[0], w[1]);
            let below = if lo > 0 {
                values[lo] - values[lo - 1]
            } else {
                f64::INFINITY
            };
            let above = if hi < values.len() {
                values[hi] - values[hi - 1]
            } else {
                f64::INFINITY
            };
            (lo, hi, below.min(above))
        })
        .collect()
}

/// The k values exercised for a matrix of size n: 1, a middle one, n.
fn ks(n: usize) -> Vec<usize> {
    let mut ks = vec![1, n.div_ceil(2), n];
    ks.dedup();
    ks
}

fn check_all_k(c: &mut Checker, t: &SymTridiagonal, what: &str) {
    let d = dense(t);
    for k in ks(t.diag.len()) {
        check_against_dense(c, t, &d, k, what);
    }
}

// ---------------------------------------------------------------------------------------------
// Matrix families
// ---------------------------------------------------------------------------------------------

fn random_uniform(n: usize, seed: u64) -> SymTridiagonal {
    let mut r = SplitMix64(seed);
    let diag = (0..n).map(|_| r.uniform(-1.0, 1.0)).collect();
    let off = (1..n).map(|_| r.uniform(-1.0, 1.0)).collect();
    tri(diag, off)
}

/// Off-diagonals of magnitude 10^(−8u), u uniform in [0, 1): from 1e-8 to 1, random signs.
fn random_graded(n: usize, seed: u64) -> SymTridiagonal {
    let mut r = SplitMix64(seed);
    let diag = (0..n).map(|_| r.uniform(-1.0, 1.0)).collect();
    let off = (1..n)
        .map(|_| r.sign() * 10f64.powf(-8.0 * r.unit()))
        .collect();
    tri(diag, off)
}

/// W21+: diag |10 − i| for i = 0..=20, off-diagonal 1.
fn wilkinson_plus() -> (Vec<f64>, Vec<f64>) {
    let diag = (0..21).map(|i| (10.0 - i as f64).abs()).collect();
    (diag, vec![1.0; 20])
}

/// `copies` W21+ blocks glued by off-diagonal `glue`.
fn glued_wilkinson(copies: usize, glue: f64) -> SymTridiagonal {
    let (wd, wo) = wilkinson_plus();
    let mut diag = Vec::new();
    let mut off = Vec::new();
    for c in 0..copies {
        if c > 0 {
            off.push(glue);
        }
        diag.extend_from_slice(&wd);
        off.extend_from_slice(&wo);
    }
    tri(diag, off)
}

fn laplacian(n: usize) -> SymTridiagonal {
    tri(vec![2.0; n], vec![-1.0; n.saturating_sub(1)])
}

/// Exact eigenvalue j (0-based) of the 1-D Laplacian: 2 − 2cos((j+1)π/(n+1)) = 4 sin²(·/2).
fn laplacian_exact(n: usize, j: usize) -> f64 {
    let s = ((j + 1) as f64 * std::f64::consts::PI / (2.0 * (n as f64 + 1.0))).sin();
    4.0 * s * s
}

/// The finite-difference Hamiltonian of a square well in a hard-wall box, as in the real use:
/// h = 2L/(n+1), x_i = −L + i h (i = 1..=n), V = −U0 inside |x| < a, −U0/2 on |x| = a, m = 1.
fn fd_well(n: usize, u0: f64, a: f64, l: f64) -> SymTridiagonal {
    let h = 2.0 * l / (n as f64 + 1.0);
    let diag = (1..=n)
        .map(|i| {
            let x = -l + i as f64 * h;
            let v = if (x.abs() - a).abs() <= 1e-9 * h {
                -0.5 * u0
            } else if x.abs() < a {
                -u0
            } else {
                0.0
            };
            1.0 / (h * h) + v
        })
        .collect();
    tri(diag, vec![-0.5 / (h * h); n - 1])
}

// ---------------------------------------------------------------------------------------------
// Families against the dense solver
// ---------------------------------------------------------------------------------------------

#[test]
fn random_uniform_every_n_up_to_300() {
    let mut c = Checker::default();
    for n in 1..=300 {
        let t = random_uniform(n, 1000 + n as u64);
        check_all_k(&mut c, &t, "random uniform");
    }
    c.finish("random uniform");
}

#[test]
fn random_graded_off_diagonals() {
    let mut c = Checker::default();
    for n in (2..=300).step_by(7).chain([300]) {
        for seed in 0..2 {
            let t = random_graded(n, 77 * n as u64 + seed);
            check_all_k(&mut c, &t, "graded off-diagonals 1e-8..1");
        }
    }
    c.finish("graded off-diagonals");
}

#[test]
fn tiny_off_diagonals() {
    let mut c = Checker::default();
    for &eps_off in &[1e-14, 1e-300] {
        for n in [2, 3, 10, 57, 200] {
            // Random diagonal, tiny couplings of both signs.
            let mut r = SplitMix64(n as u64 * 31 + 5);
            let diag: Vec<f64> = (0..n).map(|_| r.uniform(-1.0, 1.0)).collect();
            let off: Vec<f64> = (1..n).map(|_| r.sign() * eps_off).collect();
            check_all_k(&mut c, &tri(diag, off), &format!("tiny off {eps_off:e}"));
            // [1, 2, 1, 2, …] with tiny couplings: two clusters of near-degenerate levels.
            let diag: Vec<f64> = (0..n).map(|i| 1.0 + (i % 2) as f64).collect();
            let off = vec![eps_off; n - 1];
            check_all_k(
                &mut c,
                &tri(diag, off),
                &format!("[1,2,...] tiny off {eps_off:e}"),
            );
        }
    }
    c.finish("tiny off-diagonals");
}

#[test]
fn zero_off_diagonals_exactly_degenerate() {
    let mut c = Checker::default();
    for n in [1, 2, 3, 4, 9, 60, 201] {
        // diag = [1, 2, 1, 2, …]: eigenvalues 1 and 2, ⌈n/2⌉ and ⌊n/2⌋ times, exactly.
        let diag: Vec<f64> = (0..n).map(|i| 1.0 + (i % 2) as f64).collect();
        let t = tri(diag, vec![0.0; n - 1]);
        let what = format!("block-diagonal [1,2,...] (n = {n})");
        check_all_k(&mut c, &t, &what);
        let ones = n.div_ceil(2);
        for k in ks(n) {
            if let Some(p) = c.solve(&t, k, &what) {
                for (j, &v) in p.values.iter().enumerate() {
                    let exact = if j < ones { 1.0 } else { 2.0 };
                    c.check((v - exact).abs() <= value_tol(n, t.norm_bound()), || {
                        format!("{what}: λ_{j} = {v} != {exact}")
                    });
                }
            }
        }
        // Repeated 2×2 blocks [[0, 1], [1, 0]] decoupled by zeros: ±1, n/2 times each.
        if n % 2 == 0 {
            let off: Vec<f64> = (0..n - 1)
                .map(|i| if i % 2 == 0 { 1.0 } else { 0.0 })
                .collect();
            check_all_k(&mut c, &tri(vec![0.0; n], off), "repeated 2x2 blocks");
        }
    }
    // Zero off-diagonals with a random diagonal: the eigenvalues are the sorted diagonal.
    let mut r = SplitMix64(99);
    let diag: Vec<f64> = (0..150).map(|_| r.uniform(-3.0, 3.0)).collect();
    let mut sorted = diag.clone();
    sorted.sort_by(f64::total_cmp);
    let t = tri(diag, vec![0.0; 149]);
    check_all_k(&mut c, &t, "diagonal");
    if let Some(p) = c.solve(&t, 150, "diagonal") {
        for (v, e) in p.values.iter().zip(&sorted) {
            c.check((v - e).abs() <= value_tol(150, t.norm_bound()), || {
                format!("diagonal: {v} != {e}")
            });
        }
    }
    c.finish("zero off-diagonals");
}

#[test]
fn glued_wilkinson_clusters() {
    let mut c = Checker::default();
    for &glue in &[1e-12, 1e-6] {
        for copies in [1, 2, 5, 10, 14] {
            let t = glued_wilkinson(copies, glue);
            check_all_k(&mut c, &t, &format!("{copies} × W21+ glued by {glue:e}"));
        }
    }
    c.finish("glued Wilkinson");
}

#[test]
fn clustered_spectra() {
    let mut c = Checker::default();
    for n in [5, 40, 150, 300] {
        for &(step, coupling) in &[(1e-12, 1e-15), (1e-12, 0.0), (1e-15, 1e-16), (1e-10, 1e-13)] {
            let diag: Vec<f64> = (0..n).map(|i| 1.0 + step * i as f64).collect();
            let t = tri(diag, vec![coupling; n - 1]);
            check_all_k(
                &mut c,
                &t,
                &format!("cluster 1 + {step:e}·i, off {coupling:e}"),
            );
        }
    }
    c.finish("clustered spectra");
}

#[test]
fn laplacian_against_closed_form_and_dense() {
    let mut c = Checker::default();
    for n in (1..=300).step_by(11).chain([2, 3, 299, 300]) {
        let t = laplacian(n);
        check_all_k(&mut c, &t, "1-D Laplacian");
        let Some(p) = c.solve(&t, n, "1-D Laplacian") else {
            continue;
        };
        let norm = t.norm_bound();
        for j in 0..n {
            let exact = laplacian_exact(n, j);
            let err = (p.values[j] - exact).abs();
            c.value = c.value.max(err / (EPS * norm));
            c.check(err <= value_tol(n, norm), || {
                format!(
                    "Laplacian n = {n}: λ_{j} = {} vs exact {exact}",
                    p.values[j]
                )
            });
        }
    }
    // Larger n (no dense reference): the lowest 20 against the closed form.
    for n in [2000, 20_000] {
        let t = laplacian(n);
        let k = 20;
        let what = format!("Laplacian n = {n}");
        let Some(p) = c.solve(&t, k, &what) else {
            continue;
        };
        check_self(&mut c, &t, k, &p, &what);
        let norm = t.norm_bound();
        for j in 0..k {
            let exact = laplacian_exact(n, j);
            let err = (p.values[j] - exact).abs();
            c.value = c.value.max(err / (EPS * norm));
            c.check(err <= value_tol(n, norm), || {
                format!("{what}: λ_{j} = {} vs exact {exact}", p.values[j])
            });
        }
        c.check(p.report.sturm_count_at_cutoff == k, || {
            format!("{what}: Sturm count {}", p.report.sturm_count_at_cutoff)
        });
    }
    c.finish("1-D Laplacian");
}

#[test]
fn finite_difference_hamiltonian_large_norm() {
    let mut c = Checker::default();
    // ‖T‖ ≈ 2/h² ≈ 9e4 Ha against level spacings of order 1 Ha; n + 1 = 300 puts nodes on ±a.
    for n in [299, 300] {
        let t = fd_well(n, 0.1, 0.2, 1.0);
        check_all_k(&mut c, &t, "FD well, L = 1");
        let d = dense(&t);
        for k in [10, 37] {
            check_against_dense(&mut c, &t, &d, k, "FD well, L = 1");
        }
    }
    // The reference case of the paper on a grid aligned to x = ±a (n + 1 = 200).
    let t = fd_well(199, 0.1, 20.0, 200.0);
    check_all_k(&mut c, &t, "FD reference case");
    // n = 9999 (h = 0.04, ‖T‖ ≈ 1250 Ha, aligned) against the exact E0 of the continuum
    // problem: the aligned scheme converges at second order in h, well within the 1e-7 checked
    // here (the first-order error of an unaligned grid is not).
    let n = 9999;
    let t = fd_well(n, 0.1, 20.0, 200.0);
    let k = 10;
    let what = "FD reference case (n = 9999)";
    if let Some(p) = c.solve(&t, k, what) {
        check_self(&mut c, &t, k, &p, what);
        c.check(p.report.sturm_count_at_cutoff == k, || {
            format!("{what}: Sturm count {}", p.report.sturm_count_at_cutoff)
        });
        let e0 = -0.0975069740914695;
        c.check((p.values[0] - e0).abs() < 1e-7, || {
            format!("{what}: E0 = {} vs exact {e0}", p.values[0])
        });
        // Six bound states (E5 < 0 < E6), as in the exact problem.
        c.check(p.values[5] < 0.0 && p.values[6] > 0.0, || {
            format!("{what}: {:?}", &p.values[..7])
        });
    }
    c.finish("FD Hamiltonian");
}

#[test]
fn tiny_dimensions() {
    let mut c = Checker::default();
    // n = 1: the only eigenpair is (d, ±1).
    for &d in &[-3.5, 1.0, 7.25, 1e-3, -1e5] {
        let t = tri(vec![d], vec![]);
        let what = format!("n = 1, d = {d}");
        if let Some(p) = c.solve(&t, 1, &what) {
            check_self(&mut c, &t, 1, &p, &what);
            c.check((p.values[0] - d).abs() <= 2.0 * EPS * d.abs(), || {
                format!("{what}: λ = {}", p.values[0])
            });
            c.check((p.vector(0)[0].abs() - 1.0).abs() <= 2.0 * EPS, || {
                format!("{what}: v = {:?}", p.vector(0))
            });
        }
    }
    // n = 2: closed form of [[a, b], [b, c]].
    let mut r = SplitMix64(2);
    for _ in 0..200 {
        let (a, b, cc) = (
            r.uniform(-2.0, 2.0),
            r.uniform(-2.0, 2.0),
            r.uniform(-2.0, 2.0),
        );
        let t = tri(vec![a, cc], vec![b]);
        let mean = 0.5 * (a + cc);
        let rad = (0.25 * (a - cc) * (a - cc) + b * b).sqrt();
        let exact = [mean - rad, mean + rad];
        let what = format!("n = 2 [[{a}, {b}], [{b}, {cc}]]");
        if let Some(p) = c.solve(&t, 2, &what) {
            check_self(&mut c, &t, 2, &p, &what);
            for (j, (&v, &e)) in p.values.iter().zip(&exact).enumerate() {
                c.check((v - e).abs() <= value_tol(2, t.norm_bound()), || {
                    format!("{what}: λ_{j} = {v} vs {e}")
                });
            }
        }
    }
    // n = 2 with an exact double eigenvalue, and n = 3 random, every k.
    check_all_k(&mut c, &tri(vec![1.0, 1.0], vec![0.0]), "n = 2 double");
    for seed in 0..200 {
        let t = random_uniform(3, 5000 + seed);
        let d = dense(&t);
        for k in 0..=3 {
            check_against_dense(&mut c, &t, &d, k, "n = 3");
        }
    }
    // n = 3 with a known spectrum: [[0,1,0],[1,0,1],[0,1,0]] has −√2, 0, √2.
    let t = tri(vec![0.0; 3], vec![1.0, 1.0]);
    if let Some(p) = c.solve(&t, 3, "n = 3 known") {
        let s2 = std::f64::consts::SQRT_2;
        for (v, e) in p.values.iter().zip([-s2, 0.0, s2]) {
            c.check((v - e).abs() <= value_tol(3, 2.0), || {
                format!("n = 3 known: {v} vs {e}")
            });
        }
    }
    c.finish("tiny dimensions");
}

// ---------------------------------------------------------------------------------------------
// Edge cases of the interface
// ---------------------------------------------------------------------------------------------

#[test]
fn k_zero_is_empty() {
    for n in [1, 2, 50] {
        let t = random_uniform(n, 7 + n as u64);
        let p = solve(&t, 0);
        assert!(p.is_empty());
        assert_eq!(p.len(), 0);
        assert!(p.values.is_empty() && p.vectors.is_empty() && p.residuals.is_empty());
        assert_eq!(p.dimension, n);
        assert_eq!(p.report.sturm_count_at_cutoff, 0);
        assert_eq!(p.report.max_residual, 0.0);
        let sturm = SturmData::new(&t.diag, &t.off);
        assert_eq!(sturm.count_below(p.report.sturm_cutoff), 0);
    }
}

#[test]
fn k_above_n_is_an_error() {
    for n in [1, 2, 10] {
        let t = random_uniform(n, 3);
        for k in [n + 1, n + 100] {
            match lowest_eigenpairs(&t, k, &SolverOptions::default()) {
                Err(EigenError::TooManyLevels {
                    requested,
                    available,
                }) => {
                    assert_eq!((requested, available), (k, n));
                }
                other => panic!("n = {n}, k = {k}: expected TooManyLevels, got {other:?}"),
            }
        }
    }
}

#[test]
fn malformed_matrices_are_rejected() {
    assert!(matches!(
        SymTridiagonal::new(vec![], vec![]),
        Err(EigenError::Malformed(_))
    ));
    assert!(matches!(
        SymTridiagonal::new(vec![1.0, 2.0], vec![]),
        Err(EigenError::Malformed(_))
    ));
    assert!(matches!(
        SymTridiagonal::new(vec![1.0, f64::NAN], vec![0.5]),
        Err(EigenError::NonFinite { .. })
    ));
    // A matrix built field by field is re-checked by the solver.
    let t = SymTridiagonal {
        diag: vec![1.0, 2.0],
        off: vec![f64::INFINITY],
    };
    assert!(matches!(
        lowest_eigenpairs(&t, 1, &SolverOptions::default()),
        Err(EigenError::NonFinite { .. })
    ));
}

/// The result does not depend on the number of threads, bit for bit: a reference-case matrix
/// large enough for several groups of levels, chunks of the inverse-iteration sweeps and tasks
/// of the orthonormalization, and glued Wilkinson matrices with clusters.
#[test]
fn solver_is_bitwise_independent_of_the_thread_count() {
    let cases = [
        (fd_well(30_000, 0.1, 20.0, 200.0), 60),
        (glued_wilkinson(14, 1e-6), 200),
        (glued_wilkinson(5, 1e-12), 80),
    ];
    for (t, k) in &cases {
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| solve(t, *k))
        };
        let one = run(1);
        for threads in [2, 3] {
            let other = run(threads);
            let bits = |p: &EigenPairs| -> Vec<u64> {
                p.values
                    .iter()
                    .chain(&p.residuals)
                    .chain(&p.vectors)
                    .map(|x| x.to_bits())
                    .collect()
            };
            assert!(
                bits(&one) == bits(&other) && one.report == other.report,
                "n = {}, k = {k}: 1 and {threads} threads differ",
                t.diag.len()
            );
        }
    }
}

#[test]
fn solver_is_deterministic() {
    let t = glued_wilkinson(5, 1e-12);
    let a = solve(&t, 60);
    let b = solve(&t, 60);
    assert_eq!(a.values, b.values);
    assert_eq!(a.vectors, b.vectors);
    assert_eq!(a.report, b.report);
}

// ---------------------------------------------------------------------------------------------
// Contracts stated in the solver's documentation, each on a minimal matrix
// ---------------------------------------------------------------------------------------------

/// `EigenPairs::values`: "λ_0 ≤ … ≤ λ_{k−1}", exactly (the vectors are ordered with them).
#[test]
fn contract_values_sorted_exactly() {
    let t = tri(vec![1.0, 2.0, 1.0, 2.0], vec![0.0; 3]);
    let p = solve(&t, 2);
    assert!(
        p.values.windows(2).all(|w| w[0] <= w[1]),
        "values not ascending: {:?}",
        p.values
    );
}

/// `SolverReport::sturm_cutoff`: "a point above λ_{k−1}" — every returned value lies below it.
#[test]
fn contract_values_below_cutoff() {
    let t = tri(vec![1.0, 2.0, 1.0, 2.0], vec![0.0; 3]);
    let p = solve(&t, 4);
    let cutoff = p.report.sturm_cutoff;
    assert!(
        p.values.iter().all(|&v| v < cutoff),
        "values {:?} not all below the cutoff {cutoff}",
        p.values
    );
}

/// `SolverOptions::residual_factor`: pairs converge to ‖Tv − λv‖ ≤ 64·ε‖T‖. Smallest failing
/// case found: four W21+ blocks glued by 1e-12 (levels 1e-14 apart, resolved by the Sturm
/// counts and solved one by one, then nearly parallel before the Cholesky-QR pass).
#[test]
fn contract_residuals_near_degenerate_levels() {
    let t = glued_wilkinson(4, 1e-12);
    let n = t.diag.len();
    let p = solve(&t, n);
    let scale = EPS * t.norm_bound();
    assert!(
        p.report.max_residual <= residual_tol(n, t.norm_bound()),
        "max residual {:.1} ε‖T‖ > {:.1} ε‖T‖",
        p.report.max_residual / scale,
        residual_tol(n, t.norm_bound()) / scale
    );
}

/// `SolverReport::max_orthogonality_error` and the Cholesky-QR pass: the returned vectors are
/// orthonormal to working precision. A case found by the property test (RngSeed 7): three
/// levels near 1 (two of them 2e-15 apart) and an exactly double level at 0; k = 10 gives
/// max |VᵀV − I| ≈ 1e-12 against 16·n·ε = 4e-14.
#[test]
fn contract_orthonormal_near_degenerate_levels() {
    let t = tri(
        vec![
            -0.6189627371144026,
            0.0,
            1.0,
            0.3499421558286324,
            0.49666956085928743,
            0.49987899883763326,
            1.0,
            1.0,
            0.0,
            0.0,
            0.0,
        ],
        vec![
            -0.3849600521306486,
            0.0,
            -8.065299805024161e-12,
            0.4909135243243311,
            -0.27063439691952434,
            0.0,
            -1.0219474351397905e-15,
            0.0,
            0.0,
            0.18148167622928937,
        ],
    );
    let p = solve(&t, 10);
    assert!(
        p.report.max_orthogonality_error <= orth_tol(11),
        "max |VᵀV − I| = {:e} > {:e}",
        p.report.max_orthogonality_error,
        orth_tol(11)
    );
}

/// Couplings far below ε‖T‖ must behave like exact zeros. With off-diagonals 1e-300 the
/// solver returned an all-zero vector for λ = 0.3 (a zero iterate has residual 0, so it passed
/// the convergence test) and then failed with "numerically dependent".
#[test]
fn contract_tiny_couplings() {
    let t = tri(vec![0.3, -0.7, 0.1], vec![1e-300, 1e-300]);
    let p = lowest_eigenpairs(&t, 3, &SolverOptions::default())
        .unwrap_or_else(|e| panic!("solver error: {e}"));
    for (v, e) in p.values.iter().zip([-0.7, 0.1, 0.3]) {
        assert!((v - e).abs() <= value_tol(3, 1.0), "{:?}", p.values);
    }
}

/// Scaling: the solver must work for any finite matrix, including the zero matrix and entries
/// far from 1 (the exact eigenvalues of these are known).
#[test]
fn contract_any_finite_scale() {
    let mut c = Checker::default();
    // n = 1 and the zero matrix.
    for &d in &[0.0, 1e300, -1e300, 1e-300, -1e-300] {
        let t = tri(vec![d], vec![]);
        let what = format!("n = 1, d = {d:e}");
        if let Some(p) = c.solve(&t, 1, &what) {
            c.check(p.values[0] == d, || format!("{what}: λ = {}", p.values[0]));
        }
    }
    let t = tri(vec![0.0; 3], vec![0.0; 2]);
    if let Some(p) = c.solve(&t, 3, "3×3 zero matrix") {
        c.check(p.values == vec![0.0; 3], || {
            format!("3×3 zero matrix: {:?}", p.values)
        });
    }
    // The Laplacian scaled by s: eigenvalues s·(2 − 2cos(jπ/(n+1))).
    let n = 50;
    for &s in &[1e-200, 1e-160, 1e-100, 1e100, 1e160, 1e200] {
        let t = tri(vec![2.0 * s; n], vec![-s; n - 1]);
        let what = format!("Laplacian × {s:e}");
        if let Some(p) = c.solve(&t, 5, &what) {
            for j in 0..5 {
                let exact = s * laplacian_exact(n, j);
                c.check((p.values[j] - exact).abs() <= value_tol(n, 4.0 * s), || {
                    format!("{what}: λ_{j} = {:e} vs {exact:e}", p.values[j])
                });
            }
        }
    }
    c.finish("scaling");
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

/// One matrix entry: uniform, graded over 16 decades, exactly zero or exactly one (the last
/// two make exact degeneracies likely).
fn entry() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1.0..1.0f64,
        2 => (-16.0..0.0f64, any::<bool>())
            .prop_map(|(e, s)| if s { 1.0 } else { -1.0 } * 10f64.powf(e)),
        1 => Just(0.0),
        1 => Just(1.0),
    ]
}

fn matrix() -> impl Strategy<Value = SymTridiagonal> {
    (1usize..=60).prop_flat_map(|n| {
        (
            proptest::collection::vec(entry(), n),
            proptest::collection::vec(entry(), n - 1),
        )
            .prop_map(|(diag, off)| tri(diag, off))
    })
}

proptest! {
    // No failure-persistence file: the test must not write into the source tree.
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        // Deterministic: the same 64 matrices on every run.
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x00C0_FFEE),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_matrices_match_dense(t in matrix(), frac in 0.0..=1.0f64) {
        let n = t.diag.len();
        let k = ((n as f64 * frac).round() as usize).min(n);
        let d = dense(&t);
        let mut c = Checker::default();
        check_against_dense(&mut c, &t, &d, k, "proptest");
        check_against_dense(&mut c, &t, &d, n, "proptest, all levels");
        prop_assert!(c.failures.is_empty(), "{}", c.failures.join("\n"));
    }
}
