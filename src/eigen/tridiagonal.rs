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
use faer::{linalg, Accum, MatMut, MatRef, Par, Side};
use rayon::prelude::*;
use serde::Serialize;

/// Tuning knobs of [`lowest_eigenpairs`]; the defaults suit finite-difference Hamiltonians.
#[derive(Debug, Clone)]
pub struct SolverOptions {
    /// A pair is converged when ‖Tv − ρv‖ ≤ `residual_factor` · ε · ‖T‖ (ε = f64::EPSILON).
    pub residual_factor: f64,
    /// At most this many inverse-iteration steps per vector.
    pub max_iterations: usize,
    /// Refine each isolating interval until it is narrower than this fraction of the distance
    /// to the neighbouring levels before inverse iteration starts.
    pub refine_fraction: f64,
}

impl Default for SolverOptions {
    fn default() -> Self {
        Self {
            residual_factor: 64.0,
            max_iterations: 12,
            refine_fraction: 1e-3,
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

/// Workspace for one shifted tridiagonal LU solve (LAPACK `dgttrf`/`dgtts2` layout).
struct LuWorkspace {
    /// Multipliers of L.
    l: Vec<f64>,
    /// Diagonal of U.
    u0: Vec<f64>,
    /// First super-diagonal of U.
    u1: Vec<f64>,
    /// Second super-diagonal of U (fill-in from row swaps).
    u2: Vec<f64>,
    /// Row i was swapped with row i + 1.
    swapped: Vec<bool>,
}

impl LuWorkspace {
    fn new(n: usize) -> Self {
        Self {
            l: vec![0.0; n],
            u0: vec![0.0; n],
            u1: vec![0.0; n],
            u2: vec![0.0; n],
            swapped: vec![false; n],
        }
    }

    /// Overwrites `b` with the solution of (T − σI) x = b. Pivots smaller than `pivot_floor`
    /// are raised to it: a perturbation of size ε‖T‖, harmless (and customary) in inverse
    /// iteration where T − σI is nearly singular by design.
    fn solve_shifted(&mut self, t: &SymTridiagonal, sigma: f64, pivot_floor: f64, b: &mut [f64]) {
        let n = t.len();
        if n == 1 {
            let mut p = t.diag[0] - sigma;
            if p.abs() < pivot_floor {
                p = pivot_floor.copysign(if p == 0.0 { 1.0 } else { p });
            }
            b[0] /= p;
            return;
        }
        // Factor with partial pivoting and apply L⁻¹ to b in the same sweep.
        let mut diag_i = t.diag[0] - sigma;
        let mut super_i = t.off[0];
        for i in 0..n - 1 {
            let sub = t.off[i];
            let diag_next = t.diag[i + 1] - sigma;
            let super_next = if i + 1 < n - 1 { t.off[i + 1] } else { 0.0 };
            if diag_i.abs() >= sub.abs() {
                let m = if diag_i != 0.0 { sub / diag_i } else { 0.0 };
                self.u0[i] = diag_i;
                self.u1[i] = super_i;
                self.u2[i] = 0.0;
                self.l[i] = m;
                self.swapped[i] = false;
                b[i + 1] -= m * b[i];
                diag_i = diag_next - m * super_i;
                super_i = super_next;
            } else {
                let m = diag_i / sub;
                self.u0[i] = sub;
                self.u1[i] = diag_next;
                self.u2[i] = super_next;
                self.l[i] = m;
                self.swapped[i] = true;
                let bi = b[i];
                b[i] = b[i + 1];
                b[i + 1] = bi - m * b[i];
                diag_i = super_i - m * diag_next;
                super_i = -m * super_next;
            }
        }
        self.u0[n - 1] = diag_i;
        for p in self.u0.iter_mut() {
            if p.abs() < pivot_floor {
                *p = pivot_floor.copysign(if *p == 0.0 { 1.0 } else { *p });
            }
        }
        // Back substitution with U.
        b[n - 1] /= self.u0[n - 1];
        b[n - 2] = (b[n - 2] - self.u1[n - 2] * b[n - 1]) / self.u0[n - 2];
        for i in (0..n.saturating_sub(2)).rev() {
            b[i] = (b[i] - self.u1[i] * b[i + 1] - self.u2[i] * b[i + 2]) / self.u0[i];
        }
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

/// Rayleigh quotient ρ = vᵀTv and residual ‖Tv − ρv‖ of a unit vector; `tv` is scratch.
fn rayleigh(t: &SymTridiagonal, v: &[f64], tv: &mut [f64]) -> (f64, f64) {
    t.matvec(v, tv);
    let rho = dot(v, tv);
    let mut r2 = 0.0;
    for (a, b) in tv.iter().zip(v) {
        let r = a - rho * b;
        r2 += r * r;
    }
    (rho, r2.sqrt())
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
}

/// Result of one level or cluster (its vectors are written into the caller's columns).
struct Solved {
    values: Vec<f64>,
    iterations: usize,
}

/// Narrows an isolating interval around a simple eigenvalue by multisection until it is
/// narrower than `target` (or than the count resolution).
fn refine(
    ctx: &Context,
    mut iv: Interval,
    target: f64,
    resolution: f64,
    sweeps: &mut usize,
) -> Interval {
    let wanted = iv.count_hi;
    while iv.width() > target && iv.width() > resolution {
        *sweeps += 1;
        let parts = multisect(&ctx.sturm, &iv, wanted);
        match parts.as_slice() {
            [p] => iv = *p,
            _ => break, // cannot happen for a simple eigenvalue; keep what we have
        }
    }
    iv
}

/// Inverse iteration with safeguarded Rayleigh-quotient shifts for a simple eigenvalue; the
/// unit eigenvector is written to `v`.
fn solve_simple(
    ctx: &Context,
    ws: &mut Workspace,
    iv: Interval,
    seed: u64,
    v: &mut [f64],
) -> Solved {
    let n = ctx.t.len();
    start_vector(n, seed, v);
    let mut sigma = iv.mid();
    let mut best_residual = f64::INFINITY;
    let mut best_rho = sigma;
    let mut iterations = 0;
    for it in 0..ctx.opts.max_iterations {
        iterations += 1;
        ctx_solve(ctx, &mut ws.lu, sigma, v);
        normalize(v);
        let (rho, res) = rayleigh(ctx.t, v, &mut ws.tv);
        if res <= ctx.residual_tol {
            best_rho = rho;
            best_residual = res;
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
        if rho > iv.lo && rho <= iv.hi {
            sigma = rho;
        }
    }
    let _ = best_residual;
    Solved {
        values: vec![best_rho],
        iterations,
    }
}

fn ctx_solve(ctx: &Context, lu: &mut LuWorkspace, sigma: f64, v: &mut [f64]) {
    lu.solve_shifted(ctx.t, sigma, ctx.pivot_floor, v);
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
        for _ in 0..ctx.opts.max_iterations {
            iterations += 1;
            ctx_solve(ctx, lu, sigma, &mut v);
            orthogonalize_against(&mut v, &basis);
            let growth = normalize(&mut v);
            // ‖(T − σ)v‖ ≤ 1/growth: stop once that is at the cluster's own width.
            if growth * (ctx.residual_tol + iv.width()) >= 1.0 {
                break;
            }
        }
        basis.push(v);
    }
    // Rayleigh–Ritz: diagonalize the m × m projection VᵀTV and rotate the basis.
    let tv = &mut ws.tv;
    let mut proj = faer::Mat::<f64>::zeros(m, m);
    for j in 0..m {
        ctx.t.matvec(&basis[j], tv);
        for i in 0..m {
            proj[(i, j)] = dot(&basis[i], tv);
        }
    }
    let sym = faer::Mat::<f64>::from_fn(m, m, |i, j| 0.5 * (proj[(i, j)] + proj[(j, i)]));
    let values = match sym.self_adjoint_eigen(Side::Lower) {
        Ok(evd) => {
            let s = evd.S();
            let u = evd.U();
            for (c, w) in out.chunks_exact_mut(n).enumerate() {
                w.fill(0.0);
                for (r, b) in basis.iter().enumerate() {
                    let coef = u[(r, c)];
                    w.iter_mut().zip(b).for_each(|(x, y)| *x += coef * y);
                }
            }
            (0..m).map(|i| s[i]).collect()
        }
        Err(_) => {
            for (w, b) in out.chunks_exact_mut(n).zip(&basis) {
                w.copy_from_slice(b);
            }
            (0..m).map(|i| sym[(i, i)]).collect()
        }
    };
    Solved { values, iterations }
}

/// Rows per block of the deterministic blocked Gram matrix.
const GRAM_BLOCK_ROWS: usize = 4096;

/// G = VᵀV for the column-major n × k matrix V, in row blocks of fixed size summed in a fixed
/// order (parallel and bitwise reproducible whatever the thread count).
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
            linalg::matmul::matmul(
                g.as_mut(),
                Accum::Replace,
                vb.transpose(),
                vb,
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

/// max |G_ij − δ_ij|.
fn orthogonality_error(g: &faer::Mat<f64>) -> f64 {
    let k = g.nrows();
    let mut worst = 0.0_f64;
    for j in 0..k {
        for i in 0..k {
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
    let llt = match g.llt(Side::Lower) {
        Ok(llt) => llt,
        Err(_) => return false,
    };
    let l = llt.L();
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
/// `k = 0` returns an empty result; `k > n` is an error.
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
    let norm = t.norm_bound().max(f64::MIN_POSITIVE);
    let eps = f64::EPSILON;
    let ctx = Context {
        t,
        sturm: SturmData::new(&t.diag, &t.off),
        opts,
        pivot_floor: eps * norm,
        residual_tol: opts.residual_factor * eps * norm,
    };
    // Below this width the Sturm counts cannot separate two eigenvalues.
    let resolution = 8.0 * eps * norm * (n as f64).sqrt().max(1.0);
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
    let sturm_cutoff = intervals[last].hi;
    let sturm_count_at_cutoff = ctx.sturm.count_below(sturm_cutoff);

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

    // Each job (a level or a cluster) owns a disjoint run of columns of one n × m buffer.
    let jobs = &intervals[..=last];
    let clusters = jobs.iter().filter(|iv| iv.multiplicity() > 1).count();
    let total: usize = jobs.iter().map(|iv| iv.multiplicity()).sum();
    let mut columns = vec![0.0; n * total];
    let mut slices: Vec<(usize, Interval, f64, &mut [f64])> = Vec::with_capacity(jobs.len());
    let mut rest: &mut [f64] = &mut columns;
    for (j, iv) in jobs.iter().enumerate() {
        let (mine, tail) = rest.split_at_mut(n * iv.multiplicity());
        slices.push((j, *iv, gaps[j], mine));
        rest = tail;
    }
    let solved: Vec<(Solved, usize)> = slices
        .into_par_iter()
        .map_init(
            || Workspace::new(n),
            |ws, (j, iv, gap, out)| {
                let mut refine_sweeps = 0;
                let s = if iv.multiplicity() == 1 {
                    let target = opts.refine_fraction * gap;
                    let iv = refine(&ctx, iv, target, resolution, &mut refine_sweeps);
                    solve_simple(&ctx, ws, iv, j as u64, out)
                } else {
                    solve_cluster(&ctx, ws, iv, j as u64, out)
                };
                (s, refine_sweeps)
            },
        )
        .collect();

    let mut values = Vec::with_capacity(total);
    let mut inverse_iterations = 0;
    let mut sturm_sweeps = sweeps.into_inner();
    for (s, rs) in solved {
        inverse_iterations += s.iterations;
        sturm_sweeps += rs;
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
    let g = gram(&vectors, n, k);
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
