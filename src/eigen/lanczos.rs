//! Thick-restart Lanczos for the k largest eigenpairs of a real symmetric operator, and its
//! shift-invert use for the k eigenvalues of A nearest above a shift σ.
//!
//! The operator is a closure y = Op x. The basis V = [v_0 … v_{nb−1}] is kept orthonormal by
//! full re-orthogonalization (classical Gram–Schmidt applied twice), and for every processed
//! column j the coefficients of Op v_j in the basis are stored:
//!
//!   Op v_j = Σ_i G_ij v_i   (exactly, because the new direction is appended to V).
//!
//! The Rayleigh–Ritz matrix on the p processed vectors is S = sym(G[0..p, 0..p]); a Ritz pair
//! (θ, x = V_p y) has the residual Op x − θ x = V_{p..nb} G[p..nb, 0..p] y, so
//! ‖Op x − θx‖ = ‖G[p..nb, 0..p] y‖ is known without another application of Op.
//!
//! **Thick restart** (Wu & Simon): when p reaches the basis size m, the basis is replaced by the
//! `keep` Ritz vectors of largest θ (their G columns become diag(θ) plus the couplings to the
//! unprocessed vectors, which are carried along), and the Krylov expansion continues from there.
//! Each restart also appends one fresh pseudo-random direction (orthogonalized against the
//! basis): a single Krylov sequence from one start vector cannot see a second copy of a
//! degenerate eigenvalue in exact arithmetic, so the injected direction is what makes the thick
//! restart find *all* copies. Convergence is only accepted at the end of a cycle that contained
//! such an injected direction (or when the basis spans the whole space), and requires
//! ‖Op x_i − θ_i x_i‖ ≤ tol · |θ_i| for each of the k wanted pairs.
//!
//! **Shift-invert** ([`lowest_above_shift`]): with Op = (A − σI)⁻¹ the largest θ belong to the
//! eigenvalues λ = σ + 1/θ of A nearest above σ. The reported eigenvalues are the Rayleigh
//! quotients vᵀAv of the unit Ritz vectors, and the reported residuals are ‖Av − λv‖ computed
//! with A itself (not the inverse).
//!
//! The start vector and the injected directions come from a fixed-seed SplitMix64 sequence, and
//! all reductions are sequential: the result is bitwise reproducible.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use thiserror::Error;

/// Why a Lanczos solve could not be carried out.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum LanczosError {
    /// Invalid request (k = 0, k > n, basis too small, …).
    #[error("invalid Lanczos request: {0}")]
    Input(String),
    /// Not all wanted pairs converged within the allowed restarts.
    #[error("thick-restart Lanczos did not converge: {converged} of {requested} Ritz pairs met the tolerance {tolerance:e} after {restarts} restarts ({applications} operator applications; worst relative Ritz residual {worst:e}); raise max_restarts or basis_size, or move the shift closer to the wanted eigenvalues")]
    NotConverged {
        /// Pairs requested.
        requested: usize,
        /// Pairs that met the tolerance in the last cycle.
        converged: usize,
        /// Restarts carried out.
        restarts: usize,
        /// Operator applications carried out.
        applications: usize,
        /// The relative tolerance asked for.
        tolerance: f64,
        /// Largest ‖Op x − θx‖ / |θ| among the wanted pairs.
        worst: f64,
    },
    /// The operator returned a NaN or infinite entry.
    #[error("the operator returned a non-finite value (after {applications} applications)")]
    NonFinite {
        /// Operator applications carried out.
        applications: usize,
    },
    /// The small dense eigenproblem failed (never expected).
    #[error("the Rayleigh–Ritz eigenproblem failed: {0}")]
    Internal(String),
}

/// Tuning knobs of the thick-restart Lanczos (dimensionless).
#[derive(Debug, Clone, PartialEq)]
pub struct LanczosOptions {
    /// Basis size m (processed vectors per cycle); `None` = max(2k + 16, k + 24), capped at n.
    pub basis_size: Option<usize>,
    /// A Ritz pair of Op is converged when ‖Op x − θx‖ ≤ `tolerance` · |θ|.
    pub tolerance: f64,
    /// At most this many thick restarts before [`LanczosError::NotConverged`].
    pub max_restarts: usize,
    /// Seed of the deterministic start vector and injected directions.
    pub seed: u64,
}

impl Default for LanczosOptions {
    fn default() -> Self {
        Self {
            basis_size: None,
            tolerance: 1e-12,
            max_restarts: 300,
            seed: 0x5eed_c0ff_ee00_0001,
        }
    }
}

/// The k largest eigenpairs of Op, descending θ.
#[derive(Debug, Clone)]
pub struct LanczosPairs {
    /// Ritz values θ_0 ≥ … ≥ θ_{k−1} (unit of Op).
    pub values: Vec<f64>,
    /// Column-major n × k unit Ritz vectors.
    pub vectors: Vec<f64>,
    /// ‖Op x_i − θ_i x_i‖ from the Krylov relation (unit of Op).
    pub ritz_residuals: Vec<f64>,
    /// Dimension n.
    pub dimension: usize,
    /// Thick restarts carried out.
    pub restarts: usize,
    /// Applications of Op.
    pub operator_applications: usize,
    /// Basis size m used.
    pub basis_size: usize,
}

impl LanczosPairs {
    /// Ritz vector i (unit 2-norm).
    pub fn vector(&self, i: usize) -> &[f64] {
        &self.vectors[i * self.dimension..(i + 1) * self.dimension]
    }
}

/// The k eigenpairs of A nearest above a shift σ, ascending λ (unit of A, e.g. Hartree).
#[derive(Debug, Clone)]
pub struct ShiftInvertPairs {
    /// λ_i = v_iᵀ A v_i (Rayleigh quotients with A), ascending.
    pub values: Vec<f64>,
    /// Column-major n × k unit eigenvectors.
    pub vectors: Vec<f64>,
    /// ‖A v_i − λ_i v_i‖₂ computed with A (unit of A).
    pub residuals: Vec<f64>,
    /// Dimension n.
    pub dimension: usize,
    /// The shift σ (unit of A).
    pub shift: f64,
    /// Thick restarts carried out.
    pub restarts: usize,
    /// Applications of (A − σI)⁻¹ (solves).
    pub operator_applications: usize,
    /// Basis size m used.
    pub basis_size: usize,
}

impl ShiftInvertPairs {
    /// Eigenvector i (unit 2-norm).
    pub fn vector(&self, i: usize) -> &[f64] {
        &self.vectors[i * self.dimension..(i + 1) * self.dimension]
    }
}

/// At most this many unprocessed directions (the Krylov frontier) are carried through a restart:
/// the residual direction plus one injected direction, so two copies of a degenerate eigenvalue
/// are resolved by the block structure and further copies by rounding growth.
const MAX_FRONTIER: usize = 2;

/// SplitMix64: a tiny deterministic generator for start vectors.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // Uniform in [−1, 1).
        (z >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0
    }
}

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// The working state: basis V (column-major, capacity `cap` vectors) and coefficients G.
struct Basis {
    n: usize,
    cap: usize,
    v: Vec<f64>,
    /// Column-major cap × cap.
    g: Vec<f64>,
    /// Vectors in the basis.
    nb: usize,
    /// Processed vectors (their G columns are complete).
    p: usize,
    coef: Vec<f64>,
    coef2: Vec<f64>,
}

impl Basis {
    fn col(&self, j: usize) -> &[f64] {
        &self.v[j * self.n..(j + 1) * self.n]
    }

    fn g(&self, i: usize, j: usize) -> f64 {
        self.g[j * self.cap + i]
    }

    fn set_g(&mut self, i: usize, j: usize, val: f64) {
        self.g[j * self.cap + i] = val;
    }

    /// w ← w − V c, twice (CGS2); returns the accumulated coefficients in `self.coef[..nb]`.
    fn orthogonalize(&mut self, w: &mut [f64]) {
        let (n, nb) = (self.n, self.nb);
        self.coef[..nb].fill(0.0);
        if nb == 0 {
            return;
        }
        let v = MatRef::from_column_major_slice(&self.v[..n * nb], n, nb);
        for _ in 0..2 {
            {
                let wr = MatRef::from_column_major_slice(&*w, n, 1);
                let c = MatMut::from_column_major_slice_mut(&mut self.coef2[..nb], nb, 1);
                matmul(c, Accum::Replace, v.transpose(), wr, 1.0, Par::Seq);
            }
            {
                let c = MatRef::from_column_major_slice(&self.coef2[..nb], nb, 1);
                let wm = MatMut::from_column_major_slice_mut(w, n, 1);
                matmul(wm, Accum::Add, v, c, -1.0, Par::Seq);
            }
            for (a, b) in self.coef[..nb].iter_mut().zip(&self.coef2[..nb]) {
                *a += b;
            }
        }
    }

    /// Appends w/‖w‖ when w is not negligible against `scale`; returns the norm.
    fn append(&mut self, w: &[f64], scale: f64) -> Option<f64> {
        let beta = norm(w);
        // (A NaN β fails the comparison and is refused too.)
        let significant = beta > 1e-13 * scale;
        if !significant || self.nb >= self.cap {
            return None;
        }
        let n = self.n;
        let dst = &mut self.v[self.nb * n..(self.nb + 1) * n];
        for (d, x) in dst.iter_mut().zip(w) {
            *d = x / beta;
        }
        self.nb += 1;
        Some(beta)
    }

    /// Appends a fresh pseudo-random direction orthogonal to the basis (if there is room).
    fn inject(&mut self, rng: &mut SplitMix64, work: &mut [f64]) -> bool {
        if self.nb >= self.cap.min(self.n) {
            return false;
        }
        for _ in 0..3 {
            work.iter_mut().for_each(|x| *x = rng.next_f64());
            let before = norm(work);
            self.orthogonalize(work);
            if self.append(work, before * 1e3).is_some() {
                return true;
            }
        }
        false
    }
}

/// The `k` largest eigenpairs of the symmetric operator `op` (y = Op x, dimension `n`), by
/// thick-restart Lanczos with full re-orthogonalization.
pub fn largest_eigenpairs<F>(
    n: usize,
    k: usize,
    mut op: F,
    options: &LanczosOptions,
) -> Result<LanczosPairs, LanczosError>
where
    F: FnMut(&[f64], &mut [f64]),
{
    let m = checked_basis_size(n, k, options)?;
    let mut run = ThickRestart::new(n, m, options.seed);
    loop {
        run.expand(m, &mut op)?;
        let ritz = rayleigh_ritz(&run.basis)?;
        let p = run.basis.p;
        let (theta, ritz_res) = (&ritz.values, &ritz.residuals);
        let kk = k.min(p);
        let tol = options.tolerance;
        let converged = (0..kk)
            .filter(|&i| ritz_res[i] <= tol * theta[i].abs().max(f64::MIN_POSITIVE))
            .count();
        let whole_space = p == n;
        // Accept only after a full cycle that contained an injected direction (restarts ≥ 1
        // means the previous restart injected one), so that missed copies had a chance to show.
        if converged == k && ((run.injected && run.restarts >= 1) || whole_space) {
            let mut vectors = vec![0.0; n * k];
            ritz_vectors(&run.basis, &ritz, k, &mut vectors);
            return Ok(LanczosPairs {
                values: theta[..k].to_vec(),
                vectors,
                ritz_residuals: ritz_res[..k].to_vec(),
                dimension: n,
                restarts: run.restarts,
                operator_applications: run.applications,
                basis_size: m,
            });
        }
        if run.restarts >= options.max_restarts || (whole_space && converged < k) {
            let worst = (0..kk)
                .map(|i| ritz_res[i] / theta[i].abs().max(f64::MIN_POSITIVE))
                .fold(0.0, f64::max);
            return Err(LanczosError::NotConverged {
                requested: k,
                converged,
                restarts: run.restarts,
                applications: run.applications,
                tolerance: tol,
                worst,
            });
        }
        run.restart(k, m, &ritz);
    }
}

/// The basis size m (processed vectors per cycle) after checking n, k and the tolerance:
/// `options.basis_size`, else max(2k + 16, k + 24), at most n.
fn checked_basis_size(n: usize, k: usize, options: &LanczosOptions) -> Result<usize, LanczosError> {
    if n == 0 {
        return Err(LanczosError::Input("the operator has dimension 0".into()));
    }
    if k == 0 {
        return Err(LanczosError::Input(
            "k = 0 eigenpairs requested; ask for at least one".into(),
        ));
    }
    if k > n {
        return Err(LanczosError::Input(format!(
            "{k} eigenpairs requested but the operator has dimension {n}"
        )));
    }
    if !(options.tolerance.is_finite() && options.tolerance > 0.0) {
        return Err(LanczosError::Input(format!(
            "the tolerance must be a finite number > 0, got {}",
            options.tolerance
        )));
    }
    let m = options
        .basis_size
        .unwrap_or((2 * k + 16).max(k + 24))
        .min(n);
    if m < k + 1 && m < n {
        return Err(LanczosError::Input(format!(
            "basis size {m} must exceed k = {k} (or equal the dimension {n})"
        )));
    }
    Ok(m)
}

/// The state carried from cycle to cycle of thick-restart Lanczos: the basis, the generator of
/// injected directions, one work vector and the counters.
struct ThickRestart {
    basis: Basis,
    rng: SplitMix64,
    /// Work vector of length n (the operator's output, the injected direction).
    work: Vec<f64>,
    /// Operator applications so far.
    applications: usize,
    /// Largest |θ| seen: the scale for breakdown decisions.
    scale: f64,
    restarts: usize,
    /// True once a direction other than the start vector's Krylov sequence entered the basis.
    injected: bool,
}

/// The Ritz pairs of one Rayleigh–Ritz step, largest first.
struct RitzPairs {
    /// Ritz values θ, descending.
    values: Vec<f64>,
    /// The p × p eigenvectors of the projected matrix, columns in the order of `values`.
    y: Mat<f64>,
    /// ‖(Op − θ) V y‖ of each Ritz pair, from the unprocessed rows of G.
    residuals: Vec<f64>,
}

impl ThickRestart {
    /// A basis of capacity m plus the frontier (at most n) holding one start direction from
    /// the generator seeded with `seed`.
    fn new(n: usize, m: usize, seed: u64) -> Self {
        // Room for m processed vectors and the unprocessed frontier (at most MAX_FRONTIER).
        let cap = (m + MAX_FRONTIER + 1).min(n);
        let mut run = Self {
            basis: Basis {
                n,
                cap,
                v: vec![0.0; n * cap],
                g: vec![0.0; cap * cap],
                nb: 0,
                p: 0,
                coef: vec![0.0; cap],
                coef2: vec![0.0; cap],
            },
            rng: SplitMix64(seed),
            work: vec![0.0; n],
            applications: 0,
            scale: 0.0,
            restarts: 0,
            injected: false,
        };
        run.basis.inject(&mut run.rng, &mut run.work);
        run
    }

    /// Expands the basis: applies `op` to unprocessed columns and orthogonalizes the result
    /// into G until m columns are processed (or the space is exhausted).
    fn expand<F>(&mut self, m: usize, op: &mut F) -> Result<(), LanczosError>
    where
        F: FnMut(&[f64], &mut [f64]),
    {
        let b = &mut self.basis;
        let w = &mut self.work;
        while b.p < m && b.p < b.nb {
            let j = b.p;
            op(b.col(j), w);
            self.applications += 1;
            if w.iter().any(|x| !x.is_finite()) {
                return Err(LanczosError::NonFinite {
                    applications: self.applications,
                });
            }
            let wnorm = norm(w);
            self.scale = self.scale.max(wnorm);
            b.orthogonalize(w);
            let nb_before = b.nb;
            for i in 0..b.cap {
                b.set_g(i, j, 0.0);
            }
            for i in 0..nb_before {
                let c = b.coef[i];
                b.set_g(i, j, c);
            }
            if let Some(beta) = b.append(w, self.scale.max(wnorm)) {
                b.set_g(nb_before, j, beta);
            }
            b.p += 1;
            if b.p == b.nb && b.p < m && b.inject(&mut self.rng, w) {
                self.injected = true;
            }
        }
        Ok(())
    }

    /// Thick restart: keeps the `keep` largest Ritz vectors plus the unprocessed directions,
    /// with G diagonal on the kept vectors and their couplings to the frontier.
    fn restart(&mut self, k: usize, m: usize, ritz: &RitzPairs) {
        self.restarts += 1;
        let b = &mut self.basis;
        let (n, p) = (b.n, b.p);
        let (theta, y) = (&ritz.values, &ritz.y);
        let unprocessed = b.nb - p;
        let keep = (k + (m - k) / 2)
            .max(k)
            .min(p)
            .min(b.cap.saturating_sub(unprocessed + 1))
            .max(1);
        let mut new_v = vec![0.0; n * b.cap];
        ritz_vectors(b, ritz, keep, &mut new_v[..n * keep]);
        new_v[n * keep..n * (keep + unprocessed)].copy_from_slice(&b.v[n * p..n * b.nb]);
        let mut new_g = vec![0.0; b.cap * b.cap];
        for i in 0..keep {
            new_g[i * b.cap + i] = theta[i];
            for u in 0..unprocessed {
                let c: f64 = (0..p).map(|q| b.g(p + u, q) * y[(q, i)]).sum();
                new_g[i * b.cap + keep + u] = c;
            }
        }
        b.v = new_v;
        b.g = new_g;
        b.nb = keep + unprocessed;
        b.p = keep;
        if unprocessed < MAX_FRONTIER && b.inject(&mut self.rng, &mut self.work) {
            self.injected = true;
        }
        if b.p == b.nb {
            // Nothing left to expand and no room to inject: the space is exhausted.
            self.injected = true;
        }
    }
}

/// Rayleigh–Ritz on the processed vectors of `b`: the eigenpairs of the symmetric part of
/// their p × p block of G, largest first, with their residual norms.
fn rayleigh_ritz(b: &Basis) -> Result<RitzPairs, LanczosError> {
    let p = b.p;
    let s = Mat::<f64>::from_fn(p, p, |i, j| 0.5 * (b.g(i, j) + b.g(j, i)));
    let (ritz, u) = super::dense::symmetric_eigen(s.as_ref()).ok_or_else(|| {
        LanczosError::Internal("the Rayleigh–Ritz eigen-solve did not converge".into())
    })?;
    let theta: Vec<f64> = (0..p).map(|i| ritz[p - 1 - i]).collect();
    let y = Mat::<f64>::from_fn(p, p, |r, c| u[(r, p - 1 - c)]);
    let residual = |c: usize| -> f64 {
        (p..b.nb)
            .map(|r| {
                let s: f64 = (0..p).map(|q| b.g(r, q) * y[(q, c)]).sum();
                s * s
            })
            .sum::<f64>()
            .sqrt()
    };
    let residuals: Vec<f64> = (0..p).map(residual).collect();
    Ok(RitzPairs {
        values: theta,
        y,
        residuals,
    })
}

/// The first `count` Ritz vectors V y (column-major n × count) into `out`, one sequential
/// product so the sums do not depend on the thread count.
fn ritz_vectors(b: &Basis, ritz: &RitzPairs, count: usize, out: &mut [f64]) {
    let (n, p) = (b.n, b.p);
    let vp = MatRef::from_column_major_slice(&b.v[..n * p], n, p);
    matmul(
        MatMut::from_column_major_slice_mut(out, n, count),
        Accum::Replace,
        vp,
        ritz.y.as_ref().subcols(0, count),
        1.0,
        Par::Seq,
    );
}

/// The `k` eigenpairs of the symmetric A nearest above `shift` = σ, by thick-restart Lanczos on
/// Op = (A − σI)⁻¹: `solve(x, y)` must set y = (A − σI)⁻¹ x and `apply(x, y)` must set y = A x.
///
/// Eigenvalues are returned ascending as Rayleigh quotients with A, with residuals ‖Av − λv‖.
pub fn lowest_above_shift<S, A>(
    n: usize,
    k: usize,
    shift: f64,
    solve: S,
    mut apply: A,
    options: &LanczosOptions,
) -> Result<ShiftInvertPairs, LanczosError>
where
    S: FnMut(&[f64], &mut [f64]),
    A: FnMut(&[f64], &mut [f64]),
{
    if !shift.is_finite() {
        return Err(LanczosError::Input(format!(
            "the shift must be finite, got {shift}"
        )));
    }
    let pairs = largest_eigenpairs(n, k, solve, options)?;
    let mut order: Vec<(f64, usize)> = Vec::with_capacity(k);
    let mut av = vec![0.0; n];
    let mut rq = vec![0.0; k];
    let mut res = vec![0.0; k];
    for i in 0..k {
        let v = pairs.vector(i);
        apply(v, &mut av);
        let nv2: f64 = v.iter().map(|x| x * x).sum();
        let lam = v.iter().zip(&av).map(|(a, b)| a * b).sum::<f64>() / nv2;
        let r = av
            .iter()
            .zip(v)
            .map(|(a, x)| {
                let d = a - lam * x;
                d * d
            })
            .sum::<f64>()
            .sqrt()
            / nv2.sqrt();
        rq[i] = lam;
        res[i] = r;
        order.push((lam, i));
    }
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut vectors = vec![0.0; n * k];
    let mut values = Vec::with_capacity(k);
    let mut residuals = Vec::with_capacity(k);
    for (dst, &(lam, i)) in vectors.chunks_exact_mut(n).zip(&order) {
        dst.copy_from_slice(pairs.vector(i));
        values.push(lam);
        residuals.push(res[i]);
    }
    Ok(ShiftInvertPairs {
        values,
        vectors,
        residuals,
        dimension: n,
        shift,
        restarts: pairs.restarts,
        operator_applications: pairs.operator_applications,
        basis_size: pairs.basis_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Side;

    /// Dense symmetric matrix-vector product (column-major).
    fn dense_apply(a: &Mat<f64>, x: &[f64], y: &mut [f64]) {
        let n = a.nrows();
        for (i, yi) in y.iter_mut().enumerate() {
            *yi = (0..n).map(|j| a[(i, j)] * x[j]).sum();
        }
    }

    /// The 2-D five-point Laplacian on an nx × nx grid (exact degeneracies λ_ij = λ_ji).
    fn laplacian_2d(nx: usize) -> Mat<f64> {
        let n = nx * nx;
        Mat::from_fn(n, n, |r, c| {
            let (ri, rj) = (r / nx, r % nx);
            let (ci, cj) = (c / nx, c % nx);
            if r == c {
                4.0
            } else if (ri == ci && rj.abs_diff(cj) == 1) || (rj == cj && ri.abs_diff(ci) == 1) {
                -1.0
            } else {
                0.0
            }
        })
    }

    fn dense_lowest(a: &Mat<f64>, k: usize) -> Vec<f64> {
        let evd = a.self_adjoint_eigen(Side::Lower).unwrap();
        (0..k).map(|i| evd.S()[i]).collect()
    }

    fn shift_invert_dense(
        a: &Mat<f64>,
        k: usize,
        sigma: f64,
        options: &LanczosOptions,
    ) -> ShiftInvertPairs {
        let n = a.nrows();
        let shifted = Mat::from_fn(n, n, |i, j| a[(i, j)] - if i == j { sigma } else { 0.0 });
        let llt = shifted.llt(Side::Lower).unwrap();
        let solve = |x: &[f64], y: &mut [f64]| {
            let mut rhs = Mat::from_fn(n, 1, |i, _| x[i]);
            faer::linalg::solvers::Solve::solve_in_place(&llt, rhs.as_mut());
            for i in 0..n {
                y[i] = rhs[(i, 0)];
            }
        };
        lowest_above_shift(n, k, sigma, solve, |x, y| dense_apply(a, x, y), options).unwrap()
    }

    #[test]
    fn finds_every_copy_of_the_degenerate_laplacian_levels() {
        let a = laplacian_2d(14);
        let k = 20;
        let reference = dense_lowest(&a, k + 1);
        // The reference has exact pairs λ_ij = λ_ji: make sure the test exercises them.
        let pairs = (0..k - 1)
            .filter(|&i| (reference[i + 1] - reference[i]).abs() < 1e-12)
            .count();
        assert!(pairs >= 6, "{reference:?}");
        for basis in [None, Some(k + 6)] {
            let options = LanczosOptions {
                basis_size: basis,
                ..Default::default()
            };
            let got = shift_invert_dense(&a, k, 0.0, &options);
            for (i, (value, expected)) in got.values.iter().zip(&reference).enumerate() {
                assert!(
                    (value - expected).abs() < 1e-10,
                    "basis {basis:?}, level {i}: {value} vs {expected}"
                );
                assert!(got.residuals[i] < 1e-9, "{}", got.residuals[i]);
            }
            // Orthonormal vectors: the two copies are distinct eigenvectors.
            for i in 0..k {
                for j in 0..=i {
                    let d: f64 = got
                        .vector(i)
                        .iter()
                        .zip(got.vector(j))
                        .map(|(x, y)| x * y)
                        .sum();
                    let target = if i == j { 1.0 } else { 0.0 };
                    assert!((d - target).abs() < 1e-10, "<{i}|{j}> = {d}");
                }
            }
        }
    }

    #[test]
    fn plain_largest_of_a_clustered_spectrum() {
        // Diagonal-plus-rotation: eigenvalues with a triple cluster at the top.
        let n = 120;
        let mut vals: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        vals[n - 1] = 2.0;
        vals[n - 2] = 2.0;
        vals[n - 3] = 2.0 - 1e-9;
        vals[n - 4] = 1.5;
        // A = Q D Qᵀ with Q a product of Householder reflections (dense, deterministic).
        let mut rng = SplitMix64(7);
        let u: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
        let un2: f64 = u.iter().map(|x| x * x).sum();
        let q = Mat::from_fn(n, n, |i, j| {
            (if i == j { 1.0 } else { 0.0 }) - 2.0 * u[i] * u[j] / un2
        });
        let d = Mat::from_fn(n, n, |i, j| if i == j { vals[i] } else { 0.0 });
        let a = &q * &d * q.transpose();
        let got = largest_eigenpairs(
            n,
            4,
            |x, y| dense_apply(&a, x, y),
            &LanczosOptions {
                basis_size: Some(12),
                ..Default::default()
            },
        )
        .unwrap();
        let expect = [2.0, 2.0, 2.0 - 1e-9, 1.5];
        for (g, e) in got.values.iter().zip(expect) {
            assert!((g - e).abs() < 1e-11, "{:?}", got.values);
        }
        assert!(got.restarts >= 1);
    }

    #[test]
    fn matches_dense_on_a_random_symmetric_matrix() {
        let n = 200;
        let mut rng = SplitMix64(11);
        let r = Mat::from_fn(n, n, |_, _| rng.next_f64());
        let a = Mat::from_fn(n, n, |i, j| {
            r[(i, j)] + r[(j, i)] + if i == j { 8.0 } else { 0.0 }
        });
        let reference = dense_lowest(&a, 200);
        let sigma = reference[0] - 1.0;
        let got = shift_invert_dense(&a, 8, sigma, &LanczosOptions::default());
        for (value, expected) in got.values.iter().zip(&reference) {
            assert!((value - expected).abs() < 1e-10 * expected.abs().max(1.0));
        }
    }

    #[test]
    fn results_are_reproducible() {
        let a = laplacian_2d(9);
        let o = LanczosOptions::default();
        let first = shift_invert_dense(&a, 6, -0.5, &o);
        let second = shift_invert_dense(&a, 6, -0.5, &o);
        assert_eq!(first.values, second.values);
        assert_eq!(first.vectors, second.vectors);
        assert_eq!(first.operator_applications, second.operator_applications);
    }

    #[test]
    fn bad_requests_are_errors() {
        let op = |x: &[f64], y: &mut [f64]| y.copy_from_slice(x);
        let o = LanczosOptions::default();
        assert!(matches!(
            largest_eigenpairs(5, 0, op, &o),
            Err(LanczosError::Input(_))
        ));
        assert!(matches!(
            largest_eigenpairs(5, 6, op, &o),
            Err(LanczosError::Input(_))
        ));
        assert!(matches!(
            largest_eigenpairs(0, 1, op, &o),
            Err(LanczosError::Input(_))
        ));
    }

    #[test]
    fn non_convergence_is_reported() {
        let n = 400;
        let op = |x: &[f64], y: &mut [f64]| {
            for (i, (a, b)) in y.iter_mut().zip(x).enumerate() {
                *a = (1.0 + i as f64 * 1e-6) * b;
            }
        };
        let err = largest_eigenpairs(
            n,
            3,
            op,
            &LanczosOptions {
                basis_size: Some(5),
                max_restarts: 2,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(matches!(err, LanczosError::NotConverged { .. }), "{err}");
        assert!(err.to_string().contains("restarts"));
    }

    #[test]
    fn identity_sized_problem_uses_the_whole_space() {
        let n = 6;
        let op = |x: &[f64], y: &mut [f64]| {
            for (i, (a, b)) in y.iter_mut().zip(x).enumerate() {
                *a = (i % 3) as f64 * b;
            }
        };
        let got = largest_eigenpairs(n, 6, op, &LanczosOptions::default()).unwrap();
        let expect = [2.0, 2.0, 1.0, 1.0, 0.0, 0.0];
        for (g, e) in got.values.iter().zip(expect) {
            assert!((g - e).abs() < 1e-12, "{:?}", got.values);
        }
    }
}
