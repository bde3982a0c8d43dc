//! Dense symmetric factorizations that never depend on the number of threads.
//!
//! faer's convenience methods (`Mat::self_adjoint_eigen`, `Mat::llt`, …) run with the global
//! parallelism, all rayon threads by default, and a threaded reduction may add its partial sums
//! in an order set by the thread count: the last bits of the result then differ between a
//! 1-core and a 2-core machine. These wrappers call the same faer kernels with `Par::Seq`, so the
//! result is a function of the matrix alone; callers that need speed run independent
//! matrices (blocks, clusters) in parallel instead.
//!
//! When only the lowest eigenpairs of a large matrix are wanted, [`lowest_symmetric_eigen`]
//! avoids most of the cost of a full decomposition: faer's one-stage tridiagonalization, most
//! of that cost, is limited by memory bandwidth (it reads and writes the trailing matrix once
//! per column), while [`TridiagonalReduction`] does the bulk in matrix products, and
//! eigenvectors are computed only for the wanted pairs. [`eigenvalues_below`] counts eigenvalues by inertia, independently
//! of both.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor as llt;
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Mat, MatRef, Par};
use std::time::Instant;

use super::sturm::SturmData;
use super::{lowest_eigenpairs, EigenError, SolverOptions, SymTridiagonal};

/// Eigenvalues (ascending) and unit eigenvectors (columns of an n × n matrix) of the real
/// symmetric matrix whose lower triangle is `a`, computed sequentially (any unit).
pub fn symmetric_eigen(a: MatRef<'_, f64>) -> Option<(Vec<f64>, Mat<f64>)> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "symmetric_eigen needs a square matrix");
    let mut u = Mat::<f64>::zeros(n, n);
    let mut s = Diag::<f64>::zeros(n);
    let req = evd::self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::Yes,
        Par::Seq,
        Default::default(),
    );
    let mut mem = MemBuffer::new(req);
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    Some((s.column_vector().iter().copied().collect(), u))
}

/// Eigenvalues (ascending) of the real symmetric matrix whose lower triangle is `a`, computed
/// sequentially without eigenvectors (any unit).
pub fn symmetric_eigenvalues(a: MatRef<'_, f64>) -> Option<Vec<f64>> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "symmetric_eigenvalues needs a square matrix");
    let mut s = Diag::<f64>::zeros(n);
    let req = evd::self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::No,
        Par::Seq,
        Default::default(),
    );
    let mut mem = MemBuffer::new(req);
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        None,
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    Some(s.column_vector().iter().copied().collect())
}

/// The Cholesky factor L (lower triangular, upper triangle zero) of the symmetric positive
/// definite matrix whose lower triangle is `a`, computed sequentially; `None` when `a` is not
/// numerically positive definite.
pub fn cholesky_lower(a: MatRef<'_, f64>) -> Option<Mat<f64>> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "cholesky_lower needs a square matrix");
    let mut l = Mat::<f64>::from_fn(n, n, |i, j| if i >= j { a[(i, j)] } else { 0.0 });
    let mut mem = MemBuffer::new(llt::cholesky_in_place_scratch::<f64>(
        n,
        Par::Seq,
        Default::default(),
    ));
    llt::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    for j in 1..n {
        for i in 0..j {
            l[(i, j)] = 0.0;
        }
    }
    Some(l)
}

/// Number of eigenvalues of the real symmetric matrix whose lower triangle is `a` that lie
/// strictly below `x` (same unit as `a`), from the inertia of the Bunch–Kaufman factorization
/// a − xI = P L B Lᵀ Pᵀ (Sylvester's law of inertia: B has as many negative eigenvalues as
/// a − xI), computed sequentially. `None` if a pivot block is not finite. An exact zero pivot
/// counts as non-negative; a count at a point within rounding of an eigenvalue is uncertain by
/// the multiplicity of that eigenvalue.
pub fn eigenvalues_below(a: MatRef<'_, f64>, x: f64) -> Option<usize> {
    use faer::linalg::cholesky::lblt::factor as lblt;
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "eigenvalues_below needs a square matrix");
    let mut f = Mat::<f64>::from_fn(n, n, |i, j| {
        if i == j {
            a[(i, i)] - x
        } else if i > j {
            a[(i, j)]
        } else {
            0.0
        }
    });
    let mut subdiag = Diag::<f64>::zeros(n);
    let (mut perm, mut perm_inv) = (vec![0usize; n], vec![0usize; n]);
    let mut mem = MemBuffer::new(lblt::cholesky_in_place_scratch::<usize, f64>(
        n,
        Par::Seq,
        Default::default(),
    ));
    lblt::cholesky_in_place(
        f.as_mut(),
        subdiag.as_mut(),
        &mut perm,
        &mut perm_inv,
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    );
    let s = subdiag.column_vector();
    let mut negative = 0;
    let mut i = 0;
    while i < n {
        if i + 1 < n && s[i] != 0.0 {
            // A 2 × 2 pivot block [[p, s], [s, q]]: its eigenvalues have the signs of
            // (det, trace): det < 0 means one of each.
            let (p, q, off) = (f[(i, i)], f[(i + 1, i + 1)], s[i]);
            let det = p * q - off * off;
            if !det.is_finite() || !(p + q).is_finite() {
                return None;
            }
            negative += if det < 0.0 {
                1
            } else if p + q >= 0.0 {
                0
            } else if det == 0.0 {
                1
            } else {
                2
            };
            i += 2;
        } else {
            let p = f[(i, i)];
            if !p.is_finite() {
                return None;
            }
            negative += usize::from(p < 0.0);
            i += 1;
        }
    }
    Some(negative)
}

/// Bandwidth b of the first stage of [`TridiagonalReduction`]. The first stage costs
/// (4/3) n³ flops in matrix products of width b (faster with larger b); the bulge chase costs
/// about 6 n² b flops in small b × b kernels and the back-transformation of k vectors through
/// it 2 n² k (both slower with larger b). 32 is about the balance for n ≈ 10³.
pub const REDUCTION_BANDWIDTH: usize = 32;

/// Columns of z that [`TridiagonalReduction::apply_q`] carries through the bulge chase's
/// reflectors together (a power of two: the widths of its kernel's `match`).
const CHASE_COLUMNS: usize = 32;

/// One panel of the first stage: Q_p = I − V T Vᵀ acting on rows `row0..n`, with V (m × r,
/// unit lower trapezoidal, m = n − row0) stored in columns `col0..col0 + r` of the working
/// matrix below row `row0 + c` of column `col0 + c`, and T (r × r upper triangular,
/// column-major) here.
#[derive(Debug, Clone)]
struct Panel {
    row0: usize,
    col0: usize,
    reflectors: usize,
    t: Vec<f64>,
}

/// One reflector H = I − τ v vᵀ of the bulge chase, acting on rows `start..start + len`;
/// v (with v₀ = 1) at `offset..offset + len` of the reflector store.
#[derive(Debug, Clone, Copy)]
struct ChaseReflector {
    start: usize,
    len: usize,
    offset: usize,
    tau: f64,
}

/// The orthogonal reduction A = Q T Qᵀ of a real symmetric matrix A to a symmetric tridiagonal
/// T (same unit as A), computed sequentially (the result is a function of A alone) in two
/// stages: blocked Householder panels reduce A to a band of width [`REDUCTION_BANDWIDTH`]
/// with matrix products (the bulk of the (4/3) n³ flops, at matrix-product speed, where a
/// one-stage reduction is limited by memory bandwidth), and a Householder bulge chase reduces
/// the band to T in O(n² b). Q is kept (optionally) as its reflectors, so that eigenvectors of
/// T can be carried back to eigenvectors of A at 4 n² k flops for k vectors.
#[derive(Debug, Clone)]
pub struct TridiagonalReduction {
    tridiagonal: SymTridiagonal,
    /// The working matrix of the first stage (column-major n × n): the panels' Householder
    /// vectors; empty when Q was not kept, unless it is kept to be handed back
    /// ([`lowest_symmetric_eigen_in`]).
    panel_vectors: Vec<f64>,
    panels: Vec<Panel>,
    chase: Vec<ChaseReflector>,
    chase_vectors: Vec<f64>,
    keeps_q: bool,
    seconds: ReductionSeconds,
}

/// Wall time of each phase of one [`TridiagonalReduction`] (seconds), for profiles: the first
/// stage's panels, its symmetric products and its trailing updates, then the bulge chase. The
/// products and the updates each do about (2/3) n³ flops, the chase about 6 n² b.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReductionSeconds {
    /// Householder QR of each panel, its T and its explicit V (seconds).
    pub panels: f64,
    /// X = A₂₂ V and the correction Y of each panel (seconds).
    pub products: f64,
    /// The trailing updates A₂₂ ← A₂₂ − Y Vᵀ − V Yᵀ (seconds).
    pub updates: f64,
    /// The bulge chase from the band to the tridiagonal (seconds).
    pub chase: f64,
}

/// a b + c, fused (one rounding) when the build targets FMA hardware: Rust never contracts
/// `a * b + c` by itself, and the separate multiply and add halve the throughput of the
/// kernels below and lengthen their dependency chains. Without FMA in the target (where
/// `mul_add` would be a slow library call) it is `a * b + c`; either way a function of the
/// inputs alone.
#[inline(always)]
fn fma(a: f64, b: f64, c: f64) -> f64 {
    if cfg!(target_feature = "fma") {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Σ a_i b_i over the common length, in eight interleaved partial sums (a fixed order, so the
/// result is deterministic; a single running sum is a chain of dependent additions that the
/// compiler may not vectorize).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail = fma(*x, *y, tail);
    }
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] = fma(x[k], y[k], acc[k]);
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// y ← y + α x over the common length.
#[inline(always)]
fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut()
        .zip(x)
        .for_each(|(y, x)| *y = fma(alpha, *x, *y));
}

/// y ← y + α x and returns Σ x_i u_i, both in one pass over x (y and u at least as long as
/// x); the sum in four interleaved partial sums (a fixed order).
#[inline(always)]
fn axpy_and_dot(alpha: f64, x: &[f64], y: &mut [f64], u: &[f64]) -> f64 {
    let n = x.len();
    let (y, u) = (&mut y[..n], &u[..n]);
    let mut acc = [0.0; 4];
    let (mut xc, mut yc, mut uc) = (x.chunks_exact(4), y.chunks_exact_mut(4), u.chunks_exact(4));
    for ((xs, ys), us) in (&mut xc).zip(&mut yc).zip(&mut uc) {
        for k in 0..4 {
            ys[k] = fma(alpha, xs[k], ys[k]);
            acc[k] = fma(xs[k], us[k], acc[k]);
        }
    }
    let mut tail = 0.0;
    for ((x, y), u) in xc
        .remainder()
        .iter()
        .zip(yc.into_remainder())
        .zip(uc.remainder())
    {
        *y = fma(alpha, *x, *y);
        tail = fma(*x, *u, tail);
    }
    ((acc[0] + acc[2]) + (acc[1] + acc[3])) + tail
}

/// y_i = Σ_k x_k a[base + k·stride + i] for i < y.len(): a matrix–vector product on a strided
/// block of `a`, sixteen rows at a time summed in registers over the columns (k in order), so
/// that no partial sum makes a round trip through memory per column.
fn strided_matvec(a: &[f64], base: usize, stride: usize, x: &[f64], y: &mut [f64]) {
    const ROWS: usize = 16;
    let mut i = 0;
    while i + ROWS <= y.len() {
        let mut acc = [0.0; ROWS];
        for (k, &xk) in x.iter().enumerate() {
            let start = base + k * stride + i;
            let column: &[f64; ROWS] = a[start..start + ROWS]
                .try_into()
                .expect("a slice of ROWS numbers");
            for l in 0..ROWS {
                acc[l] = fma(xk, column[l], acc[l]);
            }
        }
        y[i..i + ROWS].copy_from_slice(&acc);
        i += ROWS;
    }
    let rest = y.len() - i;
    if rest > 0 {
        let mut acc = [0.0; ROWS];
        for (k, &xk) in x.iter().enumerate() {
            let start = base + k * stride + i;
            for (l, c) in acc.iter_mut().zip(&a[start..start + rest]) {
                *l = fma(xk, *c, *l);
            }
        }
        y[i..].copy_from_slice(&acc[..rest]);
    }
}

/// Euclidean norm; the plain sum of squares unless it leaves the safe floating-point range,
/// then rescaled by the largest magnitude.
fn norm2(x: &[f64]) -> f64 {
    let sum_sq = dot(x, x);
    if (1e-280..1e280).contains(&sum_sq) {
        return sum_sq.sqrt();
    }
    let scale = x.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    if (1e-150..1e150).contains(&scale) {
        return dot(x, x).sqrt();
    }
    let inv = 1.0 / scale;
    scale * x.iter().map(|v| (v * inv) * (v * inv)).sum::<f64>().sqrt()
}

/// Turns `x` into a Householder reflector H = I − τ v vᵀ (v₀ = 1) with H x = β e₀ (LAPACK's
/// dlarfg): on return x[0] = β and x[1..] = v[1..]; returns τ, 0 when x[1..] is already zero
/// (H = I).
fn make_reflector(x: &mut [f64]) -> f64 {
    let Some((head, tail)) = x.split_first_mut() else {
        return 0.0;
    };
    let tail_norm = norm2(tail);
    if tail_norm == 0.0 {
        return 0.0;
    }
    let alpha = *head;
    let norm = alpha.hypot(tail_norm);
    let beta = if alpha >= 0.0 { -norm } else { norm };
    let tau = (beta - alpha) / beta;
    let scale = 1.0 / (alpha - beta);
    tail.iter_mut().for_each(|t| *t *= scale);
    *head = beta;
    tau
}

/// y ← (I − τ v vᵀ) y for the reflector whose v is `v` with v₀ taken as 1 (whatever is stored).
fn apply_reflector(v: &[f64], tau: f64, y: &mut [f64]) {
    let (y0, rest) = y.split_first_mut().expect("reflector of length ≥ 1");
    let w = tau * (*y0 + dot(&v[1..], rest));
    *y0 -= w;
    rest.iter_mut().zip(&v[1..]).for_each(|(r, a)| *r -= w * a);
}

/// First stage: reduces the symmetric matrix in `a` (column-major n × n, lower triangle used and
/// updated) to a band of lower bandwidth `b`; returns the panels (their V stays in `a`) and adds
/// the wall time of each phase to `seconds`.
fn reduce_to_band(a: &mut [f64], n: usize, b: usize, seconds: &mut ReductionSeconds) -> Vec<Panel> {
    let mut panels = Vec::new();
    let mut col0 = 0;
    // A panel is needed while some column has entries more than b rows below the diagonal.
    while col0 + b + 1 < n {
        let row0 = col0 + b;
        let m = n - row0;
        let at = PanelAt {
            n,
            b,
            col0,
            row0,
            m,
            r: b.min(m),
        };
        let start = Instant::now();
        let t = factor_panel(a, at);
        let v = explicit_v(a, at);
        let vm = MatRef::from_column_major_slice(&v, m, at.r);
        let tm = MatRef::from_column_major_slice(&t, at.r, at.r);
        let factored = Instant::now();
        let w = two_sided_correction(a, at, vm, tm);
        let corrected = Instant::now();
        apply_two_sided_update(a, at, vm, w.as_ref());
        seconds.panels += (factored - start).as_secs_f64();
        seconds.products += (corrected - factored).as_secs_f64();
        seconds.updates += corrected.elapsed().as_secs_f64();
        panels.push(Panel {
            row0,
            col0,
            reflectors: at.r,
            t,
        });
        col0 += b;
    }
    panels
}

/// Panels of at most this many columns are factored column by column.
const PANEL_BASE_COLUMNS: usize = 8;

/// Householder QR of the panel at `at` (its reflectors' v stay in `a`, as by [`panel_qr`]) and
/// the T of Q = I − V T Vᵀ (r × r, column-major): recursively (Elmroth–Gustavson, LAPACK's
/// dgeqrt3), so that the update of the right half by the left half's reflectors and the
/// coupling block of T are matrix products instead of one reflector at a time.
fn factor_panel(a: &mut [f64], at: PanelAt) -> Vec<f64> {
    use faer::linalg::matmul::matmul;
    use faer::{Accum, MatMut};
    if at.b <= PANEL_BASE_COLUMNS || at.m < at.b {
        let taus = panel_qr(a, at);
        return block_reflector_t(a, at, &taus);
    }
    let PanelAt {
        n,
        b,
        col0,
        row0,
        m,
        ..
    } = at;
    let b1 = b / 2;
    let b2 = b - b1;
    let left = PanelAt { b: b1, r: b1, ..at };
    let t1 = factor_panel(a, left);
    let v1 = explicit_v(a, left);
    let v1m = MatRef::from_column_major_slice(&v1, m, b1);
    let t1m = MatRef::from_column_major_slice(&t1, b1, b1);
    {
        // A₂ ← Qᵀ₁ A₂ = A₂ − V₁ T₁ᵀ (V₁ᵀ A₂) on the right half's rows row0..n.
        let right_cols = &mut a[(col0 + b1) * n..];
        let mut a2 =
            MatMut::from_column_major_slice_with_stride_mut(&mut right_cols[row0..], m, b2, n);
        let mut s = Mat::<f64>::zeros(b1, b2);
        matmul(
            s.as_mut(),
            Accum::Replace,
            v1m.transpose(),
            a2.as_ref(),
            1.0,
            Par::Seq,
        );
        let mut ts = Mat::<f64>::zeros(b1, b2);
        matmul(
            ts.as_mut(),
            Accum::Replace,
            t1m.transpose(),
            s.as_ref(),
            1.0,
            Par::Seq,
        );
        matmul(a2.as_mut(), Accum::Add, v1m, ts.as_ref(), -1.0, Par::Seq);
    }
    let right = PanelAt {
        b: b2,
        col0: col0 + b1,
        row0: row0 + b1,
        m: m - b1,
        r: b2.min(m - b1),
        ..at
    };
    let t2 = factor_panel(a, right);
    let r2 = right.r;
    let v2 = explicit_v(a, right);
    let v2m = MatRef::from_column_major_slice(&v2, m - b1, r2);
    let t2m = MatRef::from_column_major_slice(&t2, r2, r2);
    // T₁₂ = −T₁ (V₁ᵀ V₂) T₂, V₂ being zero in the left half's first b1 rows.
    let mut vv = Mat::<f64>::zeros(b1, r2);
    matmul(
        vv.as_mut(),
        Accum::Replace,
        v1m.subrows(b1, m - b1).transpose(),
        v2m,
        1.0,
        Par::Seq,
    );
    let mut w = Mat::<f64>::zeros(b1, r2);
    matmul(w.as_mut(), Accum::Replace, vv.as_ref(), t2m, 1.0, Par::Seq);
    let r = b1 + r2;
    let mut t = vec![0.0; r * r];
    {
        let mut tm = MatMut::from_column_major_slice_mut(&mut t, r, r);
        tm.as_mut().submatrix_mut(0, 0, b1, b1).copy_from(t1m);
        tm.as_mut().submatrix_mut(b1, b1, r2, r2).copy_from(t2m);
        matmul(
            tm.as_mut().submatrix_mut(0, b1, b1, r2),
            Accum::Replace,
            t1m,
            w.as_ref(),
            -1.0,
            Par::Seq,
        );
    }
    t
}

/// Where one panel of [`reduce_to_band`] sits in the n × n matrix: columns col0..col0 + b,
/// its reflectors act on rows row0 = col0 + b .. n (m of them), r = min(b, m) reflectors.
#[derive(Debug, Clone, Copy)]
struct PanelAt {
    n: usize,
    b: usize,
    col0: usize,
    row0: usize,
    m: usize,
    r: usize,
}

/// Householder QR of the panel a[row0.., col0..col0 + b], one column at a time (the base case
/// of [`factor_panel`]); the reflectors' v stay in `a`, their τ are returned.
fn panel_qr(a: &mut [f64], at: PanelAt) -> Vec<f64> {
    let PanelAt {
        n,
        b,
        col0,
        row0,
        r,
        ..
    } = at;
    let mut taus = vec![0.0; r];
    for c in 0..r {
        let (left, right) = a.split_at_mut((col0 + c + 1) * n);
        let x = &mut left[(col0 + c) * n + row0 + c..];
        let tau = make_reflector(x);
        taus[c] = tau;
        if tau != 0.0 {
            for c2 in c + 1..b {
                let y = &mut right[(c2 - c - 1) * n + row0 + c..(c2 - c) * n];
                apply_reflector(x, tau, y);
            }
        }
    }
    taus
}

/// T of Q = H_0 ⋯ H_{r−1} = I − V T Vᵀ (LAPACK's dlarft, forward, column-wise), r × r
/// column-major, from the panel's reflectors in `a` and their `taus`.
fn block_reflector_t(a: &[f64], at: PanelAt, taus: &[f64]) -> Vec<f64> {
    let PanelAt {
        n, col0, row0, r, ..
    } = at;
    let mut t = vec![0.0; r * r];
    let mut u = vec![0.0; r];
    for c in 0..r {
        t[c * r + c] = taus[c];
        if taus[c] == 0.0 {
            continue;
        }
        let vc = &a[(col0 + c) * n + row0 + c..(col0 + c + 1) * n];
        for (i, ui) in u.iter_mut().enumerate().take(c) {
            let vi = &a[(col0 + i) * n + row0 + c..(col0 + i + 1) * n];
            *ui = vi[0] + dot(&vi[1..], &vc[1..]);
        }
        for row in 0..c {
            let s: f64 = (row..c).map(|i| t[i * r + row] * u[i]).sum();
            t[c * r + row] = -taus[c] * s;
        }
    }
    t
}

/// V explicit (m × r column-major, zeros above its unit diagonal) for the products.
fn explicit_v(a: &[f64], at: PanelAt) -> Vec<f64> {
    let PanelAt {
        n,
        col0,
        row0,
        m,
        r,
        ..
    } = at;
    let mut v = vec![0.0; m * r];
    for c in 0..r {
        v[c * m + c] = 1.0;
        v[c * m + c + 1..(c + 1) * m]
            .copy_from_slice(&a[(col0 + c) * n + row0 + c + 1..(col0 + c + 1) * n]);
    }
    v
}

/// Y = W − ½ V (Tᵀ Vᵀ W) with X = A₂₂ V and W = X T (m × r), for the update
/// Qᵀ A Q = A − Y Vᵀ − V Yᵀ of the trailing block A₂₂ (only its lower triangle is read).
fn two_sided_correction(
    a: &[f64],
    at: PanelAt,
    vm: MatRef<'_, f64>,
    tm: MatRef<'_, f64>,
) -> Mat<f64> {
    use faer::linalg::matmul::matmul;
    use faer::linalg::matmul::triangular::{self, BlockStructure};
    use faer::Accum;
    let PanelAt { n, row0, m, r, .. } = at;
    let mut w = Mat::<f64>::zeros(m, r);
    {
        let full = MatRef::from_column_major_slice(a, n, n);
        let a22 = full.submatrix(row0, row0, m, m);
        // X = A₂₂ V computed as Xᵀ = Vᵀ A₂₂ = Vᵀ L + Vᵀ Sᵀ (L the lower triangle of A₂₂, S its
        // strict lower triangle): with the large m × m factor on the right, faer's kernels run
        // this product about 1.3× faster than L V + Sᵀ V (m = 1785, r = 32, one thread).
        let mut xt = Mat::<f64>::zeros(r, m);
        triangular::matmul(
            xt.as_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            vm.transpose(),
            BlockStructure::Rectangular,
            a22,
            BlockStructure::TriangularLower,
            1.0,
            Par::Seq,
        );
        triangular::matmul(
            xt.as_mut(),
            BlockStructure::Rectangular,
            Accum::Add,
            vm.transpose(),
            BlockStructure::Rectangular,
            a22.transpose(),
            BlockStructure::StrictTriangularUpper,
            1.0,
            Par::Seq,
        );
        matmul(
            w.as_mut(),
            Accum::Replace,
            xt.transpose(),
            tm,
            1.0,
            Par::Seq,
        );
    }
    let mut vw = Mat::<f64>::zeros(r, r);
    matmul(
        vw.as_mut(),
        Accum::Replace,
        vm.transpose(),
        w.as_ref(),
        1.0,
        Par::Seq,
    );
    let mut z = Mat::<f64>::zeros(r, r);
    matmul(
        z.as_mut(),
        Accum::Replace,
        tm.transpose(),
        vw.as_ref(),
        1.0,
        Par::Seq,
    );
    matmul(w.as_mut(), Accum::Add, vm, z.as_ref(), -0.5, Par::Seq);
    w
}

/// A₂₂ ← A₂₂ − Y Vᵀ − V Yᵀ on the lower triangle of the trailing block, as one product
/// [Y V] [V Y]ᵀ of inner dimension 2r (`y` is the correction of [`two_sided_correction`]).
fn apply_two_sided_update(a: &mut [f64], at: PanelAt, vm: MatRef<'_, f64>, y: MatRef<'_, f64>) {
    use faer::linalg::matmul::triangular::{self, BlockStructure};
    use faer::{Accum, MatMut};
    let PanelAt { n, row0, m, r, .. } = at;
    let mut lhs = Mat::<f64>::zeros(m, 2 * r);
    let mut rhs = Mat::<f64>::zeros(m, 2 * r);
    lhs.as_mut().subcols_mut(0, r).copy_from(y);
    lhs.as_mut().subcols_mut(r, r).copy_from(vm);
    rhs.as_mut().subcols_mut(0, r).copy_from(vm);
    rhs.as_mut().subcols_mut(r, r).copy_from(y);
    let full = MatMut::from_column_major_slice_mut(a, n, n);
    triangular::matmul(
        full.submatrix_mut(row0, row0, m, m),
        BlockStructure::TriangularLower,
        Accum::Add,
        lhs.as_ref(),
        BlockStructure::Rectangular,
        rhs.as_ref().transpose(),
        BlockStructure::Rectangular,
        -1.0,
        Par::Seq,
    );
}

/// Length of the fixed-size kernels of the bulge chase: the band's width. Every step of a sweep
/// but the last few has a reflector of this length and a full block below the diagonal one;
/// with the length known, their loops run in whole vector registers without remainders.
const W: usize = REDUCTION_BANDWIDTH;

/// Σ a_i b_i of two W-vectors, in eight interleaved partial sums (a fixed order).
#[inline(always)]
fn dot_w(a: &[f64; W], b: &[f64; W]) -> f64 {
    let mut acc = [0.0; 8];
    for c in 0..W / 8 {
        for k in 0..8 {
            acc[k] = fma(a[8 * c + k], b[8 * c + k], acc[k]);
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// A full-length reflector I − τ v vᵀ applied from the left to the previous block's columns
/// `columns` (rows r0..r0 + W of each, contiguous in the band storage).
#[inline(never)]
fn chase_left_full(
    band: &mut [f64],
    ld: usize,
    r0: usize,
    columns: std::ops::Range<usize>,
    v: &[f64; W],
    tau: f64,
) {
    for c in columns {
        let at = c * ld + (r0 - c);
        let segment: &mut [f64; W] = (&mut band[at..at + W]).try_into().expect("W numbers");
        let w = tau * dot_w(v, segment);
        for i in 0..W {
            segment[i] = fma(-w, v[i], segment[i]);
        }
    }
}

/// Two-sided on the full W × W diagonal block r0..r0 + W: p = τ A v, w = p − ½ τ (pᵀv) v,
/// A ← A − v wᵀ − w vᵀ on its lower triangle. In the band storage A[i, k] (i ≥ k) sits at
/// r0·ld + k (ld − 1) + i: the block is read as a column-major W × W matrix of leading dimension
/// ld − 1 whose entries above the diagonal are not A's (they belong to the previous column,
/// beyond its band). Each column runs over whole chunks of eight rows, from the chunk that holds
/// the diagonal, which alone is masked (and written back unchanged above the diagonal).
#[inline(never)]
fn chase_diag_full(band: &mut [f64], ld: usize, r0: usize, v: &[f64; W], tau: f64) {
    const C: usize = 8;
    // KEEP_FROM[d][l]: all ones where l ≥ d, else zero; x & mask selects x or +0 exactly
    // (a bitwise select the compiler keeps in vector registers, unlike a branch).
    const KEEP_FROM: [[u64; C]; C + 1] = {
        let mut m = [[0u64; C]; C + 1];
        let mut d = 0;
        while d <= C {
            let mut l = d;
            while l < C {
                m[d][l] = u64::MAX;
                l += 1;
            }
            d += 1;
        }
        m
    };
    #[inline(always)]
    fn keep(x: f64, mask: u64) -> f64 {
        f64::from_bits(x.to_bits() & mask)
    }
    fn chunk<T>(x: &[T], at: usize) -> &[T; C] {
        x[at..at + C].try_into().expect("C numbers")
    }
    fn chunk_mut<T>(x: &mut [T], at: usize) -> &mut [T; C] {
        (&mut x[at..at + C]).try_into().expect("C numbers")
    }
    let (base, stride) = (r0 * ld, ld - 1);
    // p_i = Σ_{k ≤ i} A[i, k] v_k (k in order) and q_k = Σ_{i > k} A[i, k] v_i.
    let mut p = [0.0f64; W];
    let mut q = [0.0f64; W];
    for (k, &vk) in v.iter().enumerate() {
        let col = &band[base + k * stride..base + k * stride + W];
        let first = k / C * C;
        let mut acc = [0.0f64; C];
        {
            let (a, vc, pc) = (chunk(col, first), chunk(v, first), chunk_mut(&mut p, first));
            let (on_or_below, below) = (&KEEP_FROM[k - first], &KEEP_FROM[k - first + 1]);
            for l in 0..C {
                pc[l] = fma(keep(a[l], on_or_below[l]), vk, pc[l]);
                acc[l] = fma(keep(a[l], below[l]), vc[l], acc[l]);
            }
        }
        for at in (first + C..W).step_by(C) {
            let (a, vc, pc) = (chunk(col, at), chunk(v, at), chunk_mut(&mut p, at));
            for l in 0..C {
                pc[l] = fma(a[l], vk, pc[l]);
                acc[l] = fma(a[l], vc[l], acc[l]);
            }
        }
        q[k] = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
    let mut w = [0.0f64; W];
    for i in 0..W {
        w[i] = tau * (p[i] + q[i]);
    }
    let alpha = -0.5 * tau * dot_w(&w, v);
    for i in 0..W {
        w[i] = fma(alpha, v[i], w[i]);
    }
    for (k, (&vk, &wk)) in v.iter().zip(&w).enumerate() {
        let col = &mut band[base + k * stride..base + k * stride + W];
        let first = k / C * C;
        {
            let (vc, wc, a) = (chunk(v, first), chunk(&w, first), chunk_mut(col, first));
            let on_or_below = &KEEP_FROM[k - first];
            for l in 0..C {
                // Zero factors above the diagonal leave those entries as they are.
                let (vi, wi) = (keep(vc[l], on_or_below[l]), keep(wc[l], on_or_below[l]));
                a[l] = fma(-vi, wk, fma(-wi, vk, a[l]));
            }
        }
        for at in (first + C..W).step_by(C) {
            let (vc, wc, a) = (chunk(v, at), chunk(&w, at), chunk_mut(col, at));
            for l in 0..C {
                a[l] = fma(-vc[l], wk, fma(-wc[l], vk, a[l]));
            }
        }
    }
}

/// A full-length reflector applied from the right to the full W × W block below the diagonal
/// block r0..r0 + W: B ← B − (τ B v) vᵀ, column k of B at `(r0 + k) ld + W − k` in the band
/// storage. B v is summed over the columns in W registers-wide accumulators (k in order).
#[inline(never)]
fn chase_right_full(band: &mut [f64], ld: usize, r0: usize, v: &[f64; W], tau: f64) {
    let mut t = [0.0f64; W];
    for (k, &vk) in v.iter().enumerate() {
        let at = (r0 + k) * ld + W - k;
        let below: &[f64; W] = band[at..at + W].try_into().expect("W numbers");
        for i in 0..W {
            t[i] = fma(vk, below[i], t[i]);
        }
    }
    for (k, &vk) in v.iter().enumerate() {
        let at = (r0 + k) * ld + W - k;
        let below: &mut [f64; W] = (&mut band[at..at + W]).try_into().expect("W numbers");
        let scale = -tau * vk;
        for i in 0..W {
            below[i] = fma(scale, t[i], below[i]);
        }
    }
}

/// Second stage: reduces the symmetric band matrix `band` (lower band storage, A[i, c] at
/// `c * ld + (i − c)`, lower bandwidth b at the start, ld = 2b rows per column for the bulge)
/// to tridiagonal form by chasing each column's bulge down the band with Householder
/// reflectors (Schwarz's / Lang's scheme, one column annihilated per reflector); the
/// reflectors are recorded when `record` is given.
fn chase_bulges(
    band: &mut [f64],
    n: usize,
    b: usize,
    ld: usize,
    mut record: Option<(&mut Vec<ChaseReflector>, &mut Vec<f64>)>,
) {
    let mut v = vec![0.0; b];
    let mut p = vec![0.0; b];
    let mut t = vec![0.0; b];
    for j in 0..n.saturating_sub(2) {
        // Step s annihilates column `col` in rows r0 + 1..r1 (the rows of block s), applies the
        // reflector to the rest of the previous block's columns from the left, to block s from
        // both sides and to the block below from the right (which creates the next bulge).
        let (mut col, mut r0, mut prev_end) = (j, j + 1, j + 1);
        loop {
            let r1 = (r0 + b).min(n);
            let len = r1 - r0;
            if len < 2 {
                break;
            }
            let x = &mut band[col * ld + (r0 - col)..col * ld + (r1 - col)];
            let v = &mut v[..len];
            v.copy_from_slice(x);
            let tau = make_reflector(v);
            x[0] = v[0];
            x[1..].fill(0.0);
            v[0] = 1.0;
            if tau != 0.0 {
                let r2 = (r1 + b).min(n);
                // The bulk of the steps: a full-length reflector and a full block below.
                let full = <&[f64; W]>::try_from(&v[..]).ok().filter(|_| r2 - r1 == W);
                // The previous block's columns (their segments in rows r0..r1 are contiguous).
                if let Some(vw) = full {
                    chase_left_full(band, ld, r0, col + 1..prev_end, vw, tau);
                } else {
                    for c in col + 1..prev_end {
                        let segment = &mut band[c * ld + (r0 - c)..c * ld + (r1 - c)];
                        let w = tau * dot(v, segment);
                        axpy(-w, v, segment);
                    }
                }
                // Two-sided on the diagonal block: p = τ A v, w = p − ½ τ (pᵀv) v,
                // A ← A − v wᵀ − w vᵀ (lower triangle). A v from the stored lower triangle: each
                // column k adds A[k+1.., k] v_k below and takes A[k+1.., k]ᵀ v[k+1..] in one pass
                // (a full-length block by the fixed-length kernel).
                if let Ok(vw) = <&[f64; W]>::try_from(&v[..]) {
                    chase_diag_full(band, ld, r0, vw, tau);
                } else {
                    let p = &mut p[..len];
                    p.fill(0.0);
                    for k in 0..len {
                        let colk = &band[(r0 + k) * ld..(r0 + k) * ld + (len - k)];
                        let vk = v[k];
                        let below = axpy_and_dot(vk, &colk[1..], &mut p[k + 1..], &v[k + 1..]);
                        p[k] += fma(colk[0], vk, below);
                    }
                    p.iter_mut().for_each(|x| *x *= tau);
                    let alpha = -0.5 * tau * dot(p, v);
                    axpy(alpha, v, p);
                    for k in 0..len {
                        let colk = &mut band[(r0 + k) * ld..(r0 + k) * ld + (len - k)];
                        let (vk, wk) = (v[k], p[k]);
                        colk.iter_mut()
                            .zip(&v[k..])
                            .zip(&p[k..])
                            .for_each(|((a, vi), pi)| *a = fma(-*vi, wk, fma(-*pi, vk, *a)));
                    }
                }
                // From the right on the block below: B ← B − (τ B v) vᵀ. In the band storage
                // B[i, k] (rows r1..r2, columns r0 + k) sits at r0·ld + (r1 − r0) + k (ld − 1) + i.
                if let Some(vw) = full {
                    chase_right_full(band, ld, r0, vw, tau);
                } else if r2 > r1 {
                    let t = &mut t[..r2 - r1];
                    strided_matvec(band, r0 * ld + (r1 - r0), ld - 1, v, t);
                    for (c, &vk) in (r0..r1).zip(v.iter()) {
                        axpy(
                            -tau * vk,
                            t,
                            &mut band[c * ld + (r1 - c)..c * ld + (r2 - c)],
                        );
                    }
                }
                if let Some((reflectors, vectors)) = record.as_mut() {
                    reflectors.push(ChaseReflector {
                        start: r0,
                        len,
                        offset: vectors.len(),
                        tau,
                    });
                    vectors.extend_from_slice(v);
                }
            }
            prev_end = r1;
            col = r0;
            r0 = r1;
        }
    }
}

impl TridiagonalReduction {
    /// Reduces the real symmetric matrix whose lower triangle is `a`; with `keep_q` the
    /// reflectors are kept for [`Self::apply_q`] (about 1.5 n² numbers).
    pub fn new(a: MatRef<'_, f64>, keep_q: bool) -> Self {
        let n = a.nrows();
        assert_eq!(n, a.ncols(), "TridiagonalReduction needs a square matrix");
        let mut work = vec![0.0; n * n];
        for j in 0..n {
            for i in j..n {
                work[j * n + i] = a[(i, j)];
            }
        }
        Self::from_lower(work, n, keep_q)
    }

    /// [`Self::new`] for the symmetric matrix whose lower triangle is in the column-major n × n
    /// `lower` (its upper triangle is never read), which becomes the workspace: no copy of the
    /// matrix (and no second n² allocation). Panics if `lower` does not hold n² numbers.
    pub fn from_lower(lower: Vec<f64>, n: usize, keep_q: bool) -> Self {
        let mut reduction = Self::reduce(lower, n, keep_q);
        if !keep_q {
            reduction.panel_vectors = Vec::new();
        }
        reduction
    }

    /// [`Self::from_lower`] that keeps the workspace even without Q, for
    /// [`Self::into_workspace`].
    fn reduce(lower: Vec<f64>, n: usize, keep_q: bool) -> Self {
        assert_eq!(
            lower.len(),
            n * n,
            "TridiagonalReduction needs n × n numbers"
        );
        let mut work = lower;
        let b = REDUCTION_BANDWIDTH.min(n.saturating_sub(1)).max(1);
        let mut seconds = ReductionSeconds::default();
        let panels = reduce_to_band(&mut work, n, b, &mut seconds);
        let ld = 2 * b;
        let mut band = vec![0.0; n * ld];
        for c in 0..n {
            let rows = (b + 1).min(n - c);
            band[c * ld..c * ld + rows].copy_from_slice(&work[c * n + c..c * n + c + rows]);
        }
        // Sweep j's reflectors cover rows j + 1..n once: at most n(n − 1)/2 numbers in all.
        // Reserved up front (untouched capacity costs no page) so that the store never grows
        // by copying.
        let mut chase = Vec::new();
        let reserve = if keep_q {
            n * n.saturating_sub(1) / 2
        } else {
            0
        };
        let mut chase_vectors = Vec::with_capacity(reserve);
        let start = Instant::now();
        chase_bulges(
            &mut band,
            n,
            b,
            ld,
            keep_q.then_some((&mut chase, &mut chase_vectors)),
        );
        seconds.chase = start.elapsed().as_secs_f64();
        let tridiagonal = SymTridiagonal {
            diag: (0..n).map(|i| band[i * ld]).collect(),
            off: (0..n.saturating_sub(1)).map(|i| band[i * ld + 1]).collect(),
        };
        Self {
            tridiagonal,
            panel_vectors: work,
            panels: if keep_q { panels } else { Vec::new() },
            chase,
            chase_vectors,
            keeps_q: keep_q,
            seconds,
        }
    }

    /// The n × n workspace the matrix was reduced in, for the next reduction to reuse instead of
    /// fresh (page-faulting) memory: contents unspecified (the panels' vectors and what the
    /// first stage left above them); empty when [`Self::from_lower`] dropped it (without Q).
    pub fn into_workspace(self) -> Vec<f64> {
        self.panel_vectors
    }

    /// The tridiagonal T (same unit as A).
    pub fn tridiagonal(&self) -> &SymTridiagonal {
        &self.tridiagonal
    }

    /// True if Q was kept.
    pub fn keeps_q(&self) -> bool {
        self.keeps_q
    }

    /// The wall time of each phase of the reduction (seconds).
    pub fn seconds(&self) -> ReductionSeconds {
        self.seconds
    }

    /// z ← Q z for the column-major n × k matrix `z` (eigenvectors of T in, of A out);
    /// sequential. Panics if Q was not kept or `z` does not have n rows.
    pub fn apply_q(&self, z: &mut [f64]) {
        use faer::linalg::matmul::matmul;
        use faer::{Accum, MatMut};
        assert!(self.keeps_q, "apply_q needs a reduction that kept Q");
        let n = self.tridiagonal.len();
        if n == 0 {
            return;
        }
        assert_eq!(z.len() % n, 0, "apply_q needs n rows");
        let k = z.len() / n;
        if k == 0 {
            return;
        }
        // The bulge chase's reflectors, last first, on CHASE_COLUMNS columns of z at a time,
        // stored by rows (the entries of a row contiguous, so that each reflector works on one
        // contiguous len × width block): a block of 32 × 32 stays in L1 between the two passes
        // of a reflector, and the n × 32 slice in L2 from one reflector to the next. The last
        // columns go in power-of-two groups, so that one fixed-width kernel serves every group.
        // The columns are independent: every entry sees the same operations as with all k at
        // once.
        let mut rows = vec![0.0; n * CHASE_COLUMNS.min(k)];
        let mut c0 = 0;
        while c0 < k {
            let width = 1 << CHASE_COLUMNS.min(k - c0).ilog2();
            let rows = &mut rows[..n * width];
            for c in 0..width {
                for (i, x) in z[(c0 + c) * n..(c0 + c + 1) * n].iter().enumerate() {
                    rows[i * width + c] = *x;
                }
            }
            match width {
                32 => self.apply_chase::<32>(rows),
                16 => self.apply_chase::<16>(rows),
                8 => self.apply_chase::<8>(rows),
                4 => self.apply_chase::<4>(rows),
                2 => self.apply_chase::<2>(rows),
                _ => self.apply_chase::<1>(rows),
            }
            for c in 0..width {
                for (i, x) in z[(c0 + c) * n..(c0 + c + 1) * n].iter_mut().enumerate() {
                    *x = rows[i * width + c];
                }
            }
            c0 += width;
        }
        // The panels, last first: z[row0..] ← (I − V T Vᵀ) z[row0..].
        for p in self.panels.iter().rev() {
            let (m, r) = (n - p.row0, p.reflectors);
            let mut v = vec![0.0; m * r];
            for c in 0..r {
                v[c * m + c] = 1.0;
                let col = p.col0 + c;
                v[c * m + c + 1..(c + 1) * m]
                    .copy_from_slice(&self.panel_vectors[col * n + p.row0 + c + 1..(col + 1) * n]);
            }
            let vm = MatRef::from_column_major_slice(&v, m, r);
            let tm = MatRef::from_column_major_slice(&p.t, r, r);
            let mut zs = MatMut::from_column_major_slice_mut(z, n, k);
            let mut zsub = zs.as_mut().subrows_mut(p.row0, m);
            let mut s = Mat::<f64>::zeros(r, k);
            matmul(
                s.as_mut(),
                Accum::Replace,
                vm.transpose(),
                zsub.as_ref(),
                1.0,
                Par::Seq,
            );
            let mut ts = Mat::<f64>::zeros(r, k);
            matmul(ts.as_mut(), Accum::Replace, tm, s.as_ref(), 1.0, Par::Seq);
            matmul(zsub.as_mut(), Accum::Add, vm, ts.as_ref(), -1.0, Par::Seq);
        }
    }
}

impl TridiagonalReduction {
    /// The bulge chase's reflectors, last first, on `rows` (n rows of C entries each):
    /// w = τ Σ_i v_i row_i, row_i ← row_i − v_i w for each reflector. Not inlined: inside a
    /// larger function the compiler was seen to keep w in scalar registers (apply_q 2.3× slower
    /// in the paper run's profile).
    #[inline(never)]
    fn apply_chase<const C: usize>(&self, rows: &mut [f64]) {
        for h in self.chase.iter().rev() {
            let v = &self.chase_vectors[h.offset..h.offset + h.len];
            let block = &mut rows[h.start * C..(h.start + h.len) * C];
            let (first, rest) = block.split_at_mut(C);
            let mut w: [f64; C] = (&first[..]).try_into().expect("C numbers");
            for (vi, row) in v[1..].iter().zip(rest.chunks_exact(C)) {
                for (x, y) in w.iter_mut().zip(row) {
                    *x += vi * y;
                }
            }
            for x in w.iter_mut() {
                *x *= h.tau;
            }
            for (y, x) in first.iter_mut().zip(&w) {
                *y -= x;
            }
            for (vi, row) in v[1..].iter().zip(rest.chunks_exact_mut(C)) {
                for (y, x) in row.iter_mut().zip(&w) {
                    *y -= vi * x;
                }
            }
        }
    }
}

/// The lowest eigenpairs of a real symmetric matrix (see [`lowest_symmetric_eigen`]).
#[derive(Debug, Clone)]
pub struct LowestEigen {
    /// λ_0 ≤ … ≤ λ_{k−1} (same unit as the matrix).
    pub values: Vec<f64>,
    /// Column-major n × k: column j is the unit eigenvector of λ_j (empty without vectors).
    pub vectors: Vec<f64>,
    /// λ_k, the lowest eigenvalue not returned (`None` when all n were returned): every
    /// eigenvalue below it is in `values`.
    pub next: Option<f64>,
    /// Matrix dimension n.
    pub dimension: usize,
}

/// The lowest eigenpairs of the real symmetric matrix whose lower triangle is `a`:
/// at least the `count` lowest and every eigenvalue ≤ `below` (plus the tolerance of the
/// tridiagonal solver, 64 ε ‖T‖, so that no eigenvalue within rounding of `below` is left
/// out), with unit eigenvectors when `vectors` is set. Sequential in the reduction
/// ([`TridiagonalReduction`]); the tridiagonal eigenpairs come from
/// [`crate::eigen::lowest_eigenpairs`] (Sturm counts prove that none below is missed) and
/// their vectors are carried back through Q: O(n³) with a small constant plus O(n² k), where a
/// full dense eigen-decomposition also pays for all n vectors.
pub fn lowest_symmetric_eigen(
    a: MatRef<'_, f64>,
    count: usize,
    below: f64,
    vectors: bool,
) -> Result<LowestEigen, EigenError> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "lowest_symmetric_eigen needs a square matrix");
    let mut lower = vec![0.0; n * n];
    for j in 0..n {
        for i in j..n {
            lower[j * n + i] = a[(i, j)];
        }
    }
    lowest_symmetric_eigen_of_lower(lower, n, count, below, vectors)
}

/// [`lowest_symmetric_eigen`] of the real symmetric matrix whose lower triangle is in the
/// column-major n × n `lower` (upper triangle not read; any unit), reduced in place
/// ([`TridiagonalReduction::from_lower`]): the same numbers without a copy of the matrix.
/// Panics if `lower` does not hold n² numbers.
pub fn lowest_symmetric_eigen_of_lower(
    mut lower: Vec<f64>,
    n: usize,
    count: usize,
    below: f64,
    vectors: bool,
) -> Result<LowestEigen, EigenError> {
    lowest_symmetric_eigen_in(&mut lower, n, count, below, vectors)
}

/// [`lowest_symmetric_eigen_of_lower`] on a borrowed buffer: the column-major n × n `lower`
/// (lower triangle = the matrix, upper triangle never read; any unit) is the reduction's
/// workspace and is handed back in `*lower` afterwards, n² numbers with unspecified contents,
/// so that a caller reducing many matrices reuses one allocation instead of fresh pages for
/// each. Bitwise the same results. Panics if `lower` does not hold n² numbers.
pub fn lowest_symmetric_eigen_in(
    lower: &mut Vec<f64>,
    n: usize,
    count: usize,
    below: f64,
    vectors: bool,
) -> Result<LowestEigen, EigenError> {
    if below.is_nan() {
        return Err(EigenError::Malformed(
            "the energy bound of the wanted eigenvalues is NaN".into(),
        ));
    }
    if n == 0 {
        return Ok(LowestEigen {
            values: Vec::new(),
            vectors: Vec::new(),
            next: None,
            dimension: 0,
        });
    }
    let reduction = TridiagonalReduction::reduce(std::mem::take(lower), n, vectors);
    let result = lowest_of_reduction(&reduction, count, below, vectors);
    *lower = reduction.into_workspace();
    result
}

/// The eigenpairs [`lowest_symmetric_eigen`] returns, from the reduction of its matrix.
fn lowest_of_reduction(
    reduction: &TridiagonalReduction,
    count: usize,
    below: f64,
    vectors: bool,
) -> Result<LowestEigen, EigenError> {
    let t = reduction.tridiagonal();
    let n = t.len();
    t.check()?;
    let options = SolverOptions::default();
    let margin = options.residual_factor * f64::EPSILON * t.norm_bound();
    let under = SturmData::new(&t.diag, &t.off).count_below(below + margin);
    let k = count.max(under).min(n);
    // One more than wanted: λ_k bounds what was left out.
    let pairs = lowest_eigenpairs(t, (k + 1).min(n), &options)?;
    let next = (k < n).then(|| pairs.values[k]);
    let mut values = pairs.values;
    values.truncate(k);
    let mut z = Vec::new();
    if vectors {
        z = pairs.vectors;
        z.truncate(n * k);
        reduction.apply_q(&mut z);
    }
    Ok(LowestEigen {
        values,
        vectors: z,
        next,
        dimension: n,
    })
}
