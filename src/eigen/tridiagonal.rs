//! The k lowest eigenpairs of a real symmetric tridiagonal matrix T.
//!
//! 1. **Isolation by Sturm multisection.** Starting from the Gershgorin interval, intervals are
//!    split into [`LANES`]` + 1` parts with one multi-shift Sturm sweep ([`super::sturm`]) and
//!    only the parts holding one of the k + 1 lowest eigenvalues are kept, until each holds
//!    exactly one eigenvalue or is narrower than the resolution of the counts (a cluster).
//!    The count at a point between λ_{k−1} and λ_k equals k: that is the proof that no level
//!    below the k-th was missed.
//! 2. **Refinement.** Each isolated interval is narrowed further until it is small against the
//!    distance to its neighbours, so that a shift inside it makes inverse iteration contract
//!    fast.
//! 3. **Vectors.** Shifted inverse iteration with Rayleigh-quotient shifts (safeguarded: a
//!    Rayleigh quotient outside the isolating interval is not used), one tridiagonal LU with
//!    partial pivoting per step, O(n) work and memory. Unresolvable clusters use a fixed shift,
//!    Gram–Schmidt against the cluster's vectors, and a Rayleigh–Ritz rotation inside the
//!    cluster. Levels are independent and run in parallel (rayon).
//! 4. **Orthonormality.** Inverse iteration leaves overlaps of order ε‖T‖/gap between distinct
//!    levels. One Cholesky-QR pass (Gram matrix and triangular solve, faer) removes them; the
//!    Rayleigh quotients and residuals are then recomputed and reported.

use super::sturm::{SturmData, LANES};
use super::{EigenError, SymTridiagonal};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{linalg, Accum, MatMut, MatRef, Par};
use rayon::prelude::*;
use serde::Serialize;

/// Tuning knobs of [`lowest_eigenpairs`]; the defaults suit finite-difference Hamiltonians.
#[derive(Debug, Clone)]
pub struct SolverOptions {
    /// A pair is converged when ‖Tv − ρv‖ ≤ `residual_factor` · ε · ‖T‖ (ε = f64::EPSILON).
    pub residual_factor: f64,
    /// At most this many inverse-iteration steps per vector.
    pub max_iterations: usize,
    /// Refine each eigenvalue (Laguerre steps) until the step is below this fraction of the
    /// distance to the neighbouring levels before inverse iteration starts.
    pub refine_fraction: f64,
    /// At most this many refinement sweeps per batch of levels.
    pub max_refine_sweeps: usize,
    /// Levels closer than `cluster_factor` · ε · ‖T‖ are computed together as one cluster
    /// (Gram–Schmidt and Rayleigh–Ritz inside it).
    pub cluster_factor: f64,
}

impl Default for SolverOptions {
    fn default() -> Self {
        Self {
            residual_factor: 64.0,
            max_iterations: 12,
            refine_fraction: 1e-6,
            max_refine_sweeps: 60,
            cluster_factor: 1e3,
        }
    }
}

/// What the solver measured about its own result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SolverReport {
    /// Matrix dimension n.
    pub dimension: usize,
    /// Gershgorin bound on ‖T‖ (same unit as T).
    pub norm_bound: f64,
    /// max_j ‖T v_j − λ_j v_j‖₂ over the returned pairs (same unit as T).
    pub max_residual: f64,
    /// max_{i,j} |⟨v_i|v_j⟩ − δ_ij| over the returned vectors.
    pub max_orthogonality_error: f64,
    /// A point above λ_{k−1} (and below λ_k when the two are resolvable).
    pub sturm_cutoff: f64,
    /// Sturm count at `sturm_cutoff`: the number of eigenvalues of T below it. It equals k
    /// unless λ_{k−1} and λ_k are closer than the count resolution.
    pub sturm_count_at_cutoff: usize,
    /// Multi-shift Sturm sweeps used (each evaluates `LANES` shifts).
    pub sturm_sweeps: usize,
    /// Total inverse-iteration steps over all vectors.
    pub inverse_iterations: usize,
    /// Groups of levels closer than the count resolution, solved as clusters.
    pub clusters: usize,
}

/// The k lowest eigenpairs, ascending.
#[derive(Debug, Clone)]
pub struct EigenPairs {
    /// Eigenvalues λ_0 ≤ … ≤ λ_{k−1} (Rayleigh quotients of the returned vectors).
    pub values: Vec<f64>,
    /// Column-major n × k: column j is the unit-2-norm eigenvector of λ_j.
    pub vectors: Vec<f64>,
    /// ‖T v_j − λ_j v_j‖₂ of each pair (same unit as T).
    pub residuals: Vec<f64>,
    /// Matrix dimension n.
    pub dimension: usize,
    /// Accuracy and completeness diagnostics.
    pub report: SolverReport,
}

impl EigenPairs {
    /// Number of pairs k.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no pair was requested.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Eigenvector j (unit 2-norm).
    pub fn vector(&self, j: usize) -> &[f64] {
        &self.vectors[j * self.dimension..(j + 1) * self.dimension]
    }
}

/// An interval (lo, hi] with Sturm counts: `count_lo` eigenvalues lie below `lo`,
/// `count_hi` below `hi`.
#[derive(Debug, Clone, Copy)]
struct Interval {
    lo: f64,
    hi: f64,
    count_lo: usize,
    count_hi: usize,
}

impl Interval {
    fn multiplicity(&self) -> usize {
        self.count_hi - self.count_lo
    }
    fn width(&self) -> f64 {
        self.hi - self.lo
    }
    fn mid(&self) -> f64 {
        0.5 * (self.lo + self.hi)
    }
}

/// One multisection sweep: splits `iv` into `LANES + 1` parts and returns the non-empty ones
/// that hold an eigenvalue of index < `wanted`.
fn multisect(sturm: &SturmData, iv: &Interval, wanted: usize) -> Vec<Interval> {
    let step = iv.width() / (LANES as f64 + 1.0);
    let mut xs = [0.0; LANES];
    for (s, x) in xs.iter_mut().enumerate() {
        *x = iv.lo + step * (s as f64 + 1.0);
    }
    let counts = sturm.counts_below(&xs);
    let mut parts = Vec::with_capacity(LANES + 1);
    let mut lo = iv.lo;
    let mut count_lo = iv.count_lo;
    for s in 0..=LANES {
        let (hi, count_hi) = if s < LANES {
            // Counts are monotone in exact arithmetic; clamp rounding noise so parts nest.
            (xs[s], counts[s].clamp(count_lo, iv.count_hi))
        } else {
            (iv.hi, iv.count_hi)
        };
        if count_hi > count_lo && count_lo < wanted {
            parts.push(Interval {
                lo,
                hi,
                count_lo,
                count_hi,
            });
        }
        lo = hi;
        count_lo = count_hi;
    }
    parts
}

/// Splits `iv` until every part holds one eigenvalue or is narrower than `resolution`.
fn isolate(
    sturm: &SturmData,
    iv: Interval,
    wanted: usize,
    resolution: f64,
    sweeps: &std::sync::atomic::AtomicUsize,
) -> Vec<Interval> {
    if iv.multiplicity() == 1 || iv.width() <= resolution {
        return vec![iv];
    }
    sweeps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let parts = multisect(sturm, &iv, wanted);
    if parts.len() == 1 {
        // Only one part kept: keep splitting without spawning.
        return isolate(sturm, parts[0], wanted, resolution, sweeps);
    }
    parts
        .into_par_iter()
        .flat_map_iter(|p| isolate(sturm, p, wanted, resolution, sweeps))
        .collect()
}

/// Workspace for one shifted tridiagonal LU solve (LAPACK `dgttrf`/`dgtts2` layout, with the
/// reciprocal pivots stored so that back substitution has no division on its critical path).
struct LuWorkspace {
    /// 1 / diagonal of U.
    inv_u0: Vec<f64>,
    /// First super-diagonal of U.
    u1: Vec<f64>,
    /// Second super-diagonal of U (fill-in from row swaps).
    u2: Vec<f64>,
}

impl LuWorkspace {
    fn new(n: usize) -> Self {
        Self {
            inv_u0: vec![0.0; n],
            u1: vec![0.0; n],
            u2: vec![0.0; n],
        }
    }

    /// Overwrites `b` with the solution x of (T − σI) x = b and returns ‖x‖². Pivots smaller
    /// than `pivot_floor` are raised to it: a perturbation of size ε‖T‖, harmless (and
    /// customary) in inverse iteration where T − σI is nearly singular by design.
    fn solve_shifted(
        &mut self,
        t: &SymTridiagonal,
        sigma: f64,
        pivot_floor: f64,
        b: &mut [f64],
    ) -> f64 {
        let floor = |p: f64| {
            if p.abs() < pivot_floor {
                pivot_floor.copysign(if p == 0.0 { 1.0 } else { p })
            } else {
                p
            }
        };
        let n = t.len();
        if n == 1 {
            b[0] /= floor(t.diag[0] - sigma);
            return b[0] * b[0];
        }
        // Factor with partial pivoting and apply L⁻¹ to b in the same sweep.
        let mut diag_i = t.diag[0] - sigma;
        let mut super_i = t.off[0];
        for i in 0..n - 1 {
            let sub = t.off[i];
            let diag_next = t.diag[i + 1] - sigma;
            let super_next = if i + 1 < n - 1 { t.off[i + 1] } else { 0.0 };
            // Swap rows only for a usable pivot: with |sub| below the floor (a decoupled
            // block), 1/sub would overflow; the floored diagonal is the better pivot then.
            if diag_i.abs() >= sub.abs() || sub.abs() < pivot_floor {
                let inv = 1.0 / floor(diag_i);
                let m = sub * inv;
                self.inv_u0[i] = inv;
                self.u1[i] = super_i;
                self.u2[i] = 0.0;
                b[i + 1] -= m * b[i];
                diag_i = diag_next - m * super_i;
                super_i = super_next;
            } else {
                let inv = 1.0 / sub;
                let m = diag_i * inv;
                self.inv_u0[i] = inv;
                self.u1[i] = diag_next;
                self.u2[i] = super_next;
                let bi = b[i];
                b[i] = b[i + 1];
                b[i + 1] = bi - m * b[i];
                diag_i = super_i - m * diag_next;
                super_i = -m * super_next;
            }
        }
        self.inv_u0[n - 1] = 1.0 / floor(diag_i);
        // Back substitution with U, accumulating ‖x‖² on the way.
        b[n - 1] *= self.inv_u0[n - 1];
        b[n - 2] = (b[n - 2] - self.u1[n - 2] * b[n - 1]) * self.inv_u0[n - 2];
        let mut norm2 = b[n - 1] * b[n - 1] + b[n - 2] * b[n - 2];
        for i in (0..n - 2).rev() {
            let x = (b[i] - self.u1[i] * b[i + 1] - self.u2[i] * b[i + 2]) * self.inv_u0[i];
            b[i] = x;
            norm2 += x * x;
        }
        norm2
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four partial sums: vectorizes and is deterministic.
    let mut s = [0.0; 4];
    let chunks_a = a.chunks_exact(4);
    let chunks_b = b.chunks_exact(4);
    let (ra, rb) = (chunks_a.remainder(), chunks_b.remainder());
    for (x, y) in chunks_a.zip(chunks_b) {
        for l in 0..4 {
            s[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

fn normalize(v: &mut [f64]) -> f64 {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        let inv = 1.0 / norm;
        v.iter_mut().for_each(|x| *x *= inv);
    }
    norm
}

/// Rayleigh quotient ρ = vᵀTv / vᵀv and residual ‖Tv − ρv‖/‖v‖ of v ≠ 0, given ‖v‖² =
/// `norm2`; v is scaled to unit norm on the way. Two sweeps, no stored Tv.
fn rayleigh_normalize(t: &SymTridiagonal, v: &mut [f64], norm2: f64) -> (f64, f64) {
    let n = v.len();
    let (d, e) = (&t.diag, &t.off);
    let mut vtv = 0.0;
    if n == 1 {
        vtv = d[0] * v[0] * v[0];
    } else {
        vtv += v[0] * (d[0] * v[0] + e[0] * v[1]);
        for i in 1..n - 1 {
            vtv += v[i] * (e[i - 1] * v[i - 1] + d[i] * v[i] + e[i] * v[i + 1]);
        }
        vtv += v[n - 1] * (e[n - 2] * v[n - 2] + d[n - 1] * v[n - 1]);
    }
    let rho = vtv / norm2;
    // Residual on the unscaled vector, scaling each entry once its neighbours are used.
    let scale = 1.0 / norm2.sqrt();
    let mut r2 = 0.0;
    let mut prev = 0.0; // unscaled v[i − 1]
    for i in 0..n {
        let here = v[i];
        let mut y = d[i] * here - rho * here;
        if i > 0 {
            y += e[i - 1] * prev;
        }
        if i + 1 < n {
            y += e[i] * v[i + 1];
        }
        r2 += y * y;
        v[i] = here * scale;
        prev = here;
    }
    (rho, r2.sqrt() * scale)
}

/// Rayleigh quotient ρ = vᵀTv and residual ‖Tv − ρv‖ of a unit vector; `tv` is scratch.
/// The residual is formed as (T − ρ)v with the shift on the diagonal, and ρ is corrected by
/// vᵀ(T − ρ)v: both stay accurate when T's diagonal is large against the spread of its
/// eigenvalues (tight clusters).
fn rayleigh(t: &SymTridiagonal, v: &[f64], tv: &mut [f64]) -> (f64, f64) {
    t.matvec(v, tv);
    let rho = dot(v, tv);
    t.matvec_shifted(rho, v, tv);
    let rho = rho + dot(v, tv);
    t.matvec_shifted(rho, v, tv);
    (rho, dot(tv, tv).sqrt())
}

/// A deterministic start vector with components along every eigenvector (pseudo-random).
fn start_vector(n: usize, seed: u64, v: &mut [f64]) {
    let mut state = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0xD1B5_4A32_D192_ED03);
    for x in v.iter_mut().take(n) {
        // SplitMix64.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        *x = (z >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
    }
    normalize(v);
}

/// Per-thread scratch of the vector phase, allocated once per rayon task rather than per level:
/// fresh pages cost a page fault each, which dominated the run time before this reuse.
struct Workspace {
    lu: LuWorkspace,
    tv: Vec<f64>,
    best: Vec<f64>,
}

impl Workspace {
    fn new(n: usize) -> Self {
        Self {
            lu: LuWorkspace::new(n),
            tv: vec![0.0; n],
            best: vec![0.0; n],
        }
    }
}

/// Shared constants of one solve.
struct Context<'a> {
    t: &'a SymTridiagonal,
    sturm: SturmData,
    opts: &'a SolverOptions,
    pivot_floor: f64,
    residual_tol: f64,
    /// Below this width Sturm counts cannot separate two eigenvalues.
    resolution: f64,
}

/// Result of one level or cluster (its vectors are written into the caller's columns).
struct Solved {
    values: Vec<f64>,
    iterations: usize,
}

/// Refines up to [`LANES`] simple eigenvalues at once by Laguerre's iteration on the
/// characteristic polynomial (cubically convergent, and globally so for real-rooted
/// polynomials), all lanes in one sweep of [`SturmData::laguerre_sums`]. Each sweep's exact
/// Sturm count also shrinks the isolating interval; a step that leaves it (or is not finite)
/// is replaced by bisection. Returns the refined shifts and the number of sweeps.
fn refine_batch(
    ctx: &Context,
    ivs: &mut [Interval],
    targets: &[f64],
    resolution: f64,
) -> (Vec<f64>, usize) {
    let lanes = ivs.len();
    debug_assert!(lanes <= LANES);
    let n = ctx.t.len() as f64;
    let mut xs: Vec<f64> = ivs.iter().map(Interval::mid).collect();
    let mut done: Vec<bool> = ivs.iter().map(|iv| iv.width() <= resolution).collect();
    let mut sweeps = 0;
    for _ in 0..ctx.opts.max_refine_sweeps {
        if done.iter().all(|&d| d) {
            break;
        }
        let mut shifts = [0.0; LANES];
        for s in 0..LANES {
            shifts[s] = xs[s.min(lanes - 1)];
        }
        sweeps += 1;
        let sums = ctx.sturm.laguerre_sums(&shifts);
        for s in 0..lanes {
            if done[s] {
                continue;
            }
            let iv = &mut ivs[s];
            let x = xs[s];
            // x is above λ_j (j = count_lo) exactly when more than j eigenvalues lie below x.
            if sums[s].count > iv.count_lo {
                iv.hi = x;
            } else {
                iv.lo = x;
            }
            let (g, h) = (sums[s].g, sums[s].h);
            let disc = ((n - 1.0) * (n * h - g * g)).max(0.0).sqrt();
            let denom = if g >= 0.0 { g + disc } else { g - disc };
            let next = x - n / denom;
            let next = if next.is_finite() && next > iv.lo && next < iv.hi {
                next
            } else {
                iv.mid()
            };
            if (next - x).abs() <= targets[s] || iv.width() <= resolution {
                done[s] = true;
            }
            xs[s] = next;
        }
    }
    (xs, sweeps)
}

/// Inverse iteration with safeguarded Rayleigh-quotient shifts for a simple eigenvalue; the
/// unit eigenvector is written to `v`.
fn solve_simple(
    ctx: &Context,
    ws: &mut Workspace,
    iv: Interval,
    shift: f64,
    seed: u64,
    v: &mut [f64],
) -> Solved {
    let n = ctx.t.len();
    start_vector(n, seed, v);
    let mut sigma = shift;
    let mut best_residual = f64::INFINITY;
    let mut best_rho = sigma;
    let mut iterations = 0;
    let mut rayleigh_shift = false;
    for it in 0..ctx.opts.max_iterations {
        iterations += 1;
        let norm2 = ctx_solve(ctx, &mut ws.lu, sigma, v);
        let (rho, res) = rayleigh_normalize(ctx.t, v, norm2);
        // A small residual alone is not enough: the contamination by a neighbouring level m
        // is only bounded by ‖r‖/gap_m, and ⟨K⟩ is first-order sensitive to it. One more solve
        // from the Rayleigh quotient (|ρ − λ| ≈ ‖r‖²/gap) scales it by |ρ − λ|/gap_m, down to
        // the rounding floor of the solve.
        if res <= ctx.residual_tol && rayleigh_shift {
            best_rho = rho;
            break;
        }
        if res < best_residual {
            best_residual = res;
            best_rho = rho;
            ws.best.copy_from_slice(v);
        }
        if it + 1 == ctx.opts.max_iterations {
            v.copy_from_slice(&ws.best);
        }
        // Safeguard against converging to a neighbour: the Rayleigh quotient must stay in the
        // isolating interval, widened by the count resolution (after Laguerre refinement the
        // interval itself can be narrower than the rounding error of ρ).
        rayleigh_shift = rho > iv.lo - ctx.resolution && rho <= iv.hi + ctx.resolution;
        if rayleigh_shift {
            sigma = rho;
        }
    }
    Solved {
        values: vec![best_rho],
        iterations,
    }
}

fn ctx_solve(ctx: &Context, lu: &mut LuWorkspace, sigma: f64, v: &mut [f64]) -> f64 {
    lu.solve_shifted(ctx.t, sigma, ctx.pivot_floor, v)
}

/// Subtracts from `v` its projections on the (orthonormal) `basis`, twice for stability.
fn orthogonalize_against(v: &mut [f64], basis: &[Vec<f64>]) {
    for _ in 0..2 {
        for b in basis {
            let c = dot(v, b);
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
        }
    }
}

/// m eigenvalues closer together than the count resolution: inverse iteration at a fixed
/// shift with Gram–Schmidt inside the cluster, then Rayleigh–Ritz on the cluster's span.
fn solve_cluster(
    ctx: &Context,
    ws: &mut Workspace,
    iv: Interval,
    seed: u64,
    out: &mut [f64],
) -> Solved {
    let n = ctx.t.len();
    let m = iv.multiplicity();
    let lu = &mut ws.lu;
    let sigma = iv.mid();
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut iterations = 0;
    for j in 0..m {
        let mut v = vec![0.0; n];
        start_vector(n, seed.wrapping_add(7919 * j as u64), &mut v);
        orthogonalize_against(&mut v, &basis);
        normalize(&mut v);
        let mut extra = false;
        for _ in 0..ctx.opts.max_iterations {
            iterations += 1;
            ctx_solve(ctx, lu, sigma, &mut v);
            orthogonalize_against(&mut v, &basis);
            let growth = normalize(&mut v);
            if extra {
                break;
            }
            // ‖(T − σ)v‖ ≤ 1/growth: once that is at the cluster's own width, v lies in the
            // cluster's subspace up to levels outside it, which one more solve suppresses by
            // another factor |σ − λ_cluster| / |σ − λ_outside| (Rayleigh–Ritz cannot).
            extra = growth * (ctx.residual_tol + iv.width()) >= 1.0;
        }
        basis.push(v);
    }
    // Rayleigh–Ritz: diagonalize the m × m projection Vᵀ(T − σ)V and rotate the basis. The
    // shift keeps the cluster's small spread from drowning in the rounding of T's diagonal.
    let tv = &mut ws.tv;
    let mut proj = faer::Mat::<f64>::zeros(m, m);
    for j in 0..m {
        ctx.t.matvec_shifted(sigma, &basis[j], tv);
        for i in 0..m {
            proj[(i, j)] = dot(&basis[i], tv);
        }
    }
    let sym = faer::Mat::<f64>::from_fn(m, m, |i, j| 0.5 * (proj[(i, j)] + proj[(j, i)]));
    let values = match super::dense::symmetric_eigen(sym.as_ref()) {
        Some((s, u)) => {
            for (c, w) in out.chunks_exact_mut(n).enumerate() {
                w.fill(0.0);
                for (r, b) in basis.iter().enumerate() {
                    let coef = u[(r, c)];
                    w.iter_mut().zip(b).for_each(|(x, y)| *x += coef * y);
                }
            }
            (0..m).map(|i| s[i] + sigma).collect()
        }
        None => {
            for (w, b) in out.chunks_exact_mut(n).zip(&basis) {
                w.copy_from_slice(b);
            }
            (0..m).map(|i| sym[(i, i)] + sigma).collect()
        }
    };
    Solved { values, iterations }
}

/// Rows per block of the deterministic blocked Gram matrix.
const GRAM_BLOCK_ROWS: usize = 4096;

/// The lower triangle of G = VᵀV for the column-major n × k matrix V (the upper triangle is
/// left zero), in row blocks of fixed size summed in a fixed order (parallel and bitwise
/// reproducible whatever the thread count).
fn gram(vectors: &[f64], n: usize, k: usize) -> faer::Mat<f64> {
    let blocks = n.div_ceil(GRAM_BLOCK_ROWS);
    let v = MatRef::from_column_major_slice(vectors, n, k);
    let partial: Vec<faer::Mat<f64>> = (0..blocks)
        .into_par_iter()
        .map(|b| {
            let r0 = b * GRAM_BLOCK_ROWS;
            let rows = GRAM_BLOCK_ROWS.min(n - r0);
            let vb = v.subrows(r0, rows);
            let mut g = faer::Mat::<f64>::zeros(k, k);
            linalg::matmul::triangular::matmul(
                g.as_mut(),
                BlockStructure::TriangularLower,
                Accum::Replace,
                vb.transpose(),
                BlockStructure::Rectangular,
                vb,
                BlockStructure::Rectangular,
                1.0,
                Par::Seq,
            );
            g
        })
        .collect();
    let mut g = faer::Mat::<f64>::zeros(k, k);
    for p in &partial {
        g += p;
    }
    g
}

/// max |G_ij − δ_ij| over the lower triangle of the symmetric G.
fn orthogonality_error(g: &faer::Mat<f64>) -> f64 {
    let k = g.nrows();
    let mut worst = 0.0_f64;
    for j in 0..k {
        for i in j..k {
            let target = if i == j { 1.0 } else { 0.0 };
            worst = worst.max((g[(i, j)] - target).abs());
        }
    }
    worst
}

/// Cholesky-QR: V ← V L⁻ᵀ with G = VᵀV = LLᵀ, so the columns become orthonormal while
/// column j stays in the span of columns 0..=j. Returns false when G is not numerically
/// positive definite (V is left unchanged then).
fn cholesky_qr(vectors: &mut [f64], n: usize, k: usize, g: &faer::Mat<f64>) -> bool {
    let Some(l) = super::dense::cholesky_lower(g.as_ref()) else {
        return false;
    };
    let l = l.as_ref();
    // Rows of V are independent: each row block r solves L xᵀ = rᵀ on its own, so the result
    // does not depend on the thread count.
    let v = MatMut::from_column_major_slice_mut(vectors, n, k);
    v.par_row_chunks_mut(GRAM_BLOCK_ROWS).for_each(|block| {
        linalg::triangular_solve::solve_lower_triangular_in_place(
            l,
            block.transpose_mut(),
            Par::Seq,
        );
    });
    true
}

/// The `k` lowest eigenpairs of `t`, ascending, with a report of their accuracy.
///
/// `k = 0` returns an empty result; `k > n` is an error. Matrices of any finite scale are
/// accepted: far from 1 they are scaled by a power of two (exactly) before the solve.
pub fn lowest_eigenpairs(
    t: &SymTridiagonal,
    k: usize,
    opts: &SolverOptions,
) -> Result<EigenPairs, EigenError> {
    t.check()?;
    let n = t.len();
    if k > n {
        return Err(EigenError::TooManyLevels {
            requested: k,
            available: n,
        });
    }
    let norm = t.norm_bound();
    if norm == 0.0 {
        // The zero matrix: every unit vector is an eigenvector of 0.
        let mut vectors = vec![0.0; n * k];
        for j in 0..k {
            vectors[j * n + j] = 1.0;
        }
        return Ok(EigenPairs {
            values: vec![0.0; k],
            vectors,
            residuals: vec![0.0; k],
            dimension: n,
            report: SolverReport {
                dimension: n,
                norm_bound: 0.0,
                max_residual: 0.0,
                max_orthogonality_error: 0.0,
                sturm_cutoff: f64::MIN_POSITIVE,
                sturm_count_at_cutoff: n,
                sturm_sweeps: 0,
                inverse_iterations: 0,
                clusters: usize::from(k > 1),
            },
        });
    }
    let exponent = norm.log2().round();
    if exponent.abs() <= 256.0 {
        return solve_unscaled(t, k, opts);
    }
    // Work on 2^−e T with ‖2^−e T‖ ≈ 1 (exact), then scale back.
    let down = (-exponent).exp2();
    let scaled = SymTridiagonal {
        diag: t.diag.iter().map(|d| d * down).collect(),
        off: t.off.iter().map(|e| e * down).collect(),
    };
    let mut pairs = solve_unscaled(&scaled, k, opts)?;
    let up = exponent.exp2();
    pairs.values.iter_mut().for_each(|v| *v *= up);
    pairs.residuals.iter_mut().for_each(|r| *r *= up);
    pairs.report.norm_bound *= up;
    pairs.report.max_residual *= up;
    pairs.report.sturm_cutoff *= up;
    Ok(pairs)
}

/// [`lowest_eigenpairs`] for a checked, non-zero matrix of moderate scale.
fn solve_unscaled(
    t: &SymTridiagonal,
    k: usize,
    opts: &SolverOptions,
) -> Result<EigenPairs, EigenError> {
    let n = t.len();
    let norm = t.norm_bound().max(f64::MIN_POSITIVE);
    let eps = f64::EPSILON;
    // Below this width the Sturm counts cannot separate two eigenvalues.
    let resolution = 8.0 * eps * norm * (n as f64).sqrt().max(1.0);
    let ctx = Context {
        t,
        sturm: SturmData::new(&t.diag, &t.off),
        opts,
        pivot_floor: eps * norm,
        residual_tol: opts.residual_factor * eps * norm,
        resolution,
    };
    let (glo, ghi) = t.gershgorin();
    let pad = 2.0 * resolution + eps * norm;
    let whole = Interval {
        lo: glo - pad,
        hi: ghi + pad,
        count_lo: 0,
        count_hi: n,
    };
    if k == 0 {
        return Ok(EigenPairs {
            values: vec![],
            vectors: vec![],
            residuals: vec![],
            dimension: n,
            report: SolverReport {
                dimension: n,
                norm_bound: norm,
                max_residual: 0.0,
                max_orthogonality_error: 0.0,
                sturm_cutoff: whole.lo,
                sturm_count_at_cutoff: 0,
                sturm_sweeps: 0,
                inverse_iterations: 0,
                clusters: 0,
            },
        });
    }
    // Isolate one more level than asked for (when there is one): its interval gives the
    // gap above λ_{k−1} and the cutoff point of the completeness proof.
    let wanted = (k + 1).min(n);
    let sweeps = std::sync::atomic::AtomicUsize::new(0);
    let mut intervals = isolate(&ctx.sturm, whole, wanted, resolution, &sweeps);
    intervals.sort_by(|a, b| a.lo.total_cmp(&b.lo));

    // Completeness: a point between the interval of λ_{k−1} and the next one up.
    let last = intervals
        .iter()
        .position(|iv| iv.count_hi >= k)
        .ok_or_else(|| EigenError::Internal("isolation lost the k-th level".into()))?;
    let mut sturm_cutoff = intervals[last].hi;
    let mut sturm_count_at_cutoff = ctx.sturm.count_below(sturm_cutoff);

    // Distance of each interval to its neighbours, for the refinement target.
    let gaps: Vec<f64> = (0..intervals.len())
        .map(|j| {
            let below = if j > 0 {
                intervals[j].lo - intervals[j - 1].hi
            } else {
                f64::INFINITY
            };
            let above = if j + 1 < intervals.len() {
                intervals[j + 1].lo - intervals[j].hi
            } else {
                ghi + pad - intervals[j].hi
            };
            below.min(above).max(0.0) + intervals[j].width()
        })
        .collect();

    // Refine the simple levels in batches of LANES (one sweep serves a whole batch).
    let isolated = &intervals[..=last];
    let simple: Vec<usize> = (0..isolated.len())
        .filter(|&j| isolated[j].multiplicity() == 1)
        .collect();
    // Per batch: (job index, narrowed interval, refined shift) and the sweeps it took.
    type Batch = (Vec<(usize, Interval, f64)>, usize);
    let refined: Vec<Batch> = simple
        .par_chunks(LANES)
        .map(|batch| {
            let mut ivs: Vec<Interval> = batch.iter().map(|&j| isolated[j]).collect();
            let targets: Vec<f64> = batch
                .iter()
                .map(|&j| (opts.refine_fraction * gaps[j]).max(ctx.pivot_floor))
                .collect();
            let (xs, sweeps) = refine_batch(&ctx, &mut ivs, &targets, resolution);
            let out = batch
                .iter()
                .zip(ivs)
                .zip(xs)
                .map(|((&j, iv), x)| (j, iv, x))
                .collect();
            (out, sweeps)
        })
        .collect();
    let mut shifts: Vec<Option<(Interval, f64)>> = vec![None; isolated.len()];
    let mut refine_sweeps = 0;
    for (batch, sweeps) in refined {
        refine_sweeps += sweeps;
        for (j, iv, x) in batch {
            shifts[j] = Some((iv, x));
        }
    }

    // Jobs: a simple level with its refined shift, or a cluster. Levels whose positions are
    // closer than `cluster_gap` are solved together: inverse iteration cannot tell their
    // vectors apart (each may hold ~ε‖T‖/gap of the other), Rayleigh–Ritz can.
    let cluster_gap = opts.cluster_factor * eps * norm;
    // Each entry: the job's interval (for a merged cluster: its levels' positions widened by
    // `cluster_gap`, so that the shift sits in the middle of the cluster), and the shift of
    // a simple level.
    let mut jobs: Vec<(Interval, Option<f64>)> = Vec::with_capacity(isolated.len());
    let mut job_hi = f64::NEG_INFINITY; // upper end of the last job's eigenvalue position(s)
    for (j, iv) in isolated.iter().enumerate() {
        let (job_iv, shift, lo, hi) = match shifts[j] {
            Some((riv, x)) => (riv, Some(x), x, x),
            None => (*iv, None, iv.lo, iv.hi),
        };
        match jobs.last_mut() {
            Some((prev, prev_shift)) if lo - job_hi < cluster_gap => {
                if let Some(x) = prev_shift.take() {
                    // Turn a simple level into the start of a cluster around its position.
                    prev.lo = x - cluster_gap;
                }
                prev.hi = hi + cluster_gap;
                prev.count_hi = job_iv.count_hi;
            }
            _ => jobs.push((job_iv, shift)),
        }
        job_hi = hi;
    }
    // Levels above λ_{k−1} but within `cluster_gap` of it belong to its cluster: without them
    // inverse iteration cannot separate the lowest ones from their near-degenerate neighbours.
    if let Some((last_iv, last_shift)) = jobs.last_mut() {
        let top = last_shift.unwrap_or(last_iv.hi);
        let mut reach = top + cluster_gap;
        let mut count = ctx.sturm.count_below(reach);
        if count > last_iv.count_hi {
            if let Some(x) = last_shift.take() {
                last_iv.lo = x - cluster_gap;
            }
            // Grow until no further level lies within `cluster_gap` of the cluster's top.
            while count > last_iv.count_hi && count <= n {
                last_iv.count_hi = count;
                last_iv.hi = reach;
                reach += cluster_gap;
                count = ctx.sturm.count_below(reach);
            }
        }
    }
    let clusters = jobs.iter().filter(|(_, s)| s.is_none()).count();

    // Each job owns a disjoint run of columns of one n × m buffer.
    let total: usize = jobs.iter().map(|(iv, _)| iv.multiplicity()).sum();
    let mut columns = vec![0.0; n * total];
    let mut slices: Vec<(usize, Interval, Option<f64>, &mut [f64])> =
        Vec::with_capacity(jobs.len());
    let mut rest: &mut [f64] = &mut columns;
    for (j, (iv, shift)) in jobs.iter().enumerate() {
        let (mine, tail) = rest.split_at_mut(n * iv.multiplicity());
        slices.push((j, *iv, *shift, mine));
        rest = tail;
    }
    let solved: Vec<Solved> = slices
        .into_par_iter()
        .map_init(
            || Workspace::new(n),
            |ws, (j, iv, shift, out)| match shift {
                Some(x) => solve_simple(&ctx, ws, iv, x, j as u64, out),
                None => solve_cluster(&ctx, ws, iv, j as u64, out),
            },
        )
        .collect();

    let mut values = Vec::with_capacity(total);
    let mut inverse_iterations = 0;
    let sturm_sweeps = sweeps.into_inner() + refine_sweeps;
    for s in solved {
        inverse_iterations += s.iterations;
        values.extend(s.values);
    }
    // A cluster straddling the k-th level yields more than k pairs: keep the k lowest.
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let vectors = if total == k && order.iter().enumerate().all(|(i, &o)| i == o) {
        columns.truncate(n * k);
        columns
    } else {
        order.truncate(k);
        let mut picked = vec![0.0; n * k];
        for (dst, &src) in picked.chunks_exact_mut(n).zip(&order) {
            dst.copy_from_slice(&columns[src * n..(src + 1) * n]);
        }
        picked
    };
    let mut vectors = vectors;

    let g = gram(&vectors, n, k);
    if orthogonality_error(&g) > 0.0 && !cholesky_qr(&mut vectors, n, k, &g) {
        return Err(EigenError::Internal(
            "the computed eigenvectors are numerically dependent".into(),
        ));
    }
    let (values, residuals): (Vec<f64>, Vec<f64>) = vectors
        .par_chunks_mut(n)
        .map_init(
            || vec![0.0; n],
            |tv, v| {
                normalize(v);
                rayleigh(t, v, tv)
            },
        )
        .unzip();
    // Rounding can swap the order of (nearly) equal values: sort the pairs.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let (values, residuals, vectors) = if order.iter().enumerate().all(|(i, &o)| i == o) {
        (values, residuals, vectors)
    } else {
        let mut sorted = vec![0.0; n * k];
        for (dst, &src) in sorted.chunks_exact_mut(n).zip(&order) {
            dst.copy_from_slice(&vectors[src * n..(src + 1) * n]);
        }
        (
            order.iter().map(|&i| values[i]).collect(),
            order.iter().map(|&i| residuals[i]).collect(),
            sorted,
        )
    };
    let g = gram(&vectors, n, k);
    // A Rayleigh quotient may exceed the isolating interval by rounding (levels within the
    // count resolution of its end): move the cutoff above it and count again, so that every
    // returned value lies below the cutoff and the reported count stays what Sturm says.
    let top = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if top >= sturm_cutoff {
        sturm_cutoff = top + resolution;
        sturm_count_at_cutoff = ctx.sturm.count_below(sturm_cutoff);
    }
    let report = SolverReport {
        dimension: n,
        norm_bound: norm,
        max_residual: residuals.iter().cloned().fold(0.0, f64::max),
        max_orthogonality_error: orthogonality_error(&g),
        sturm_cutoff,
        sturm_count_at_cutoff,
        sturm_sweeps,
        inverse_iterations,
        clusters,
    };
    Ok(EigenPairs {
        values,
        vectors,
        residuals,
        dimension: n,
        report,
    })
}
