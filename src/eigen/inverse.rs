//! Stage 2 of the tridiagonal solver: inverse iteration for many levels in one sweep.
//!
//! One step solves (T − σ_l I) x_l = b_l for `L` shifts at once (one lane per level) by the
//! LDLᵀ factorization T − σI = LDLᵀ without pivoting. Its pivots q_i = (d_i − σ) −
//! e_{i−1}²/q_{i−1} are those of the Sturm count (see [`super::sturm`]), so every step also
//! counts the eigenvalues below σ_l: the bracket of each level shrinks on the way, and a
//! Rayleigh quotient outside it is never used as a shift. The factorization is a chain of
//! dependent divisions: one lane is latency-bound, `L` independent lanes fill the pipelines
//! (measured for one forward sweep at n = 1e5 on the EPYC of `benches/README.md`: 7.5 ns per
//! row for 8 lanes, 11 ns for 16, which also spill registers once the factors are stored).
//!
//! Without pivoting a pivot can be tiny, and the backward error of the solve at the next row is
//! then of order ε e²/|q| instead of ε‖T‖. Inverse iteration tolerates that: the residual of
//! every iterate is measured from the iterate itself (below), convergence is judged on it, and
//! stage 3 measures the returned vectors again; a bad solve costs a step, never a wrong answer.
//!
//! Memory: the forward sweep (the divisions) stores the reciprocal pivots 1/q_i of every row
//! and lane and writes y = L⁻¹b over the row of the iterate that b was formed from (b is not
//! needed again, and the line is in cache: no extra traffic); the backward sweep reads y and
//! the pivots and writes x over y. The iterate and the pivots are each written once and read
//! once per step. Recomputing y in the backward sweep from checkpoints instead (which saves
//! the write of y) takes a third pass over the rows, whose reads of the pivots and the iterate
//! miss the cache: the inverse-iteration phase took 473M instructions that way against 370M
//! (callgrind, `RAYON_NUM_THREADS=1 CONFINE_TIMING=100000,100,1` on the tridiagonal bench).
//!
//! The backward sweep also accumulates, per lane, ‖x‖², xᵀw and ‖w‖² with w = (T − σ)x evaluated
//! from the new x itself: the Rayleigh quotient ρ = σ + xᵀw/‖x‖² and the residual
//! ‖(T − ρ)x‖/‖x‖ come without another pass over memory.
//!
//! Each lane does exactly the same floating-point operations whatever the other lanes hold, so
//! a level's result does not depend on which levels share its sweep or on the thread count.

use super::pages::advise_huge_pages;
use super::SymTridiagonal;

/// Levels solved together by one sweep (two AVX2 registers of f64 per quantity).
pub(super) const LANE_WIDTH: usize = 8;

/// Rows per chunk of the forward sweep: the finished lanes of a chunk are copied out just
/// before it is factored, which then finds its rows in cache (1024 rows × 8 lanes × 8 bytes =
/// 64 KiB).
const CHUNK_ROWS: usize = 1024;

/// State of the forward sweep after a row: l_i = e_i/q_i, y_i, and the count of negative
/// pivots so far.
#[derive(Clone, Copy)]
struct Carry<const L: usize> {
    l: [f64; L],
    y: [f64; L],
    negative: [u64; L],
}

/// Per-lane results of one step (see the module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct StepSums {
    /// ‖x‖².
    pub xx: f64,
    /// xᵀ(T − σ)x.
    pub wx: f64,
    /// ‖(T − σ)x‖².
    pub ww: f64,
    /// Number of eigenvalues below σ (to within the pivot floor).
    pub count: usize,
}

impl StepSums {
    /// Rayleigh quotient of x and the residual ‖(T − ρ)x‖/‖x‖ (infinite for x = 0).
    pub fn rayleigh(&self, sigma: f64) -> (f64, f64) {
        if !(self.xx > 0.0 && self.xx.is_finite()) {
            return (sigma, f64::INFINITY);
        }
        let shift = self.wx / self.xx;
        let r2 = (self.ww - shift * self.wx).max(0.0) / self.xx;
        (sigma + shift, r2.sqrt())
    }
}

/// The right-hand side of one step, per lane.
pub(super) struct Rhs<'a, const L: usize> {
    /// Shared start vector (length n).
    pub start: &'a [f64],
    /// Lanes that start afresh from `start`; the others continue from their previous iterate.
    pub fresh: [bool; L],
    /// Factor applied to the previous iterate (1/‖x‖; 0 silences a lane).
    pub scale: [f64; L],
}

/// An all-ones or all-zeros bit mask: selects between two f64 without a branch, which keeps the
/// lane loops in SIMD registers.
#[inline(always)]
fn mask(condition: bool) -> u64 {
    (condition as u64).wrapping_neg()
}

#[inline(always)]
fn select(mask: u64, yes: f64, no: f64) -> f64 {
    f64::from_bits((yes.to_bits() & mask) | (no.to_bits() & !mask))
}

impl<const L: usize> Rhs<'_, L> {
    /// b of one row, from that row's start component `s` and previous iterate `xi`.
    #[inline(always)]
    fn row(&self, s: f64, xi: &[f64; L]) -> [f64; L] {
        std::array::from_fn(|l| select(mask(self.fresh[l]), s, xi[l] * self.scale[l]))
    }
}

/// Iterates of `L` levels (row-interleaved) of one matrix and the scratch of their steps.
pub(super) struct LaneWorkspace<const L: usize> {
    /// (e_{i−1}, e_i, d_i) of every row i, with e_{−1} = e_{n−1} = 0: the sweeps read one
    /// stream and need no test for the first and last rows.
    rows: Vec<[f64; 3]>,
    /// Row i of every lane: the previous iterate before a step, y during it, x after it.
    pub x: Vec<[f64; L]>,
    /// 1/q_i of every row and lane.
    inv: Vec<[f64; L]>,
}

/// Factors row i for every lane, given e_{i−1} (0 for i = 0), e_i (0 for the last row), d_i
/// and b_i; returns 1/q_i. Pivots below `floor` in magnitude are raised to it (keeping their
/// sign): a perturbation of size ε‖T‖, harmless (and customary) in inverse iteration where
/// T − σI is nearly singular by design.
#[inline(always)]
fn factor_row<const L: usize>(
    carry: &mut Carry<L>,
    sigma: &[f64; L],
    floor: f64,
    (e_prev, e, d): (f64, f64, f64),
    b: &[f64; L],
) -> [f64; L] {
    let mut inv = [0.0; L];
    for l in 0..L {
        let q = (d - sigma[l]) - e_prev * carry.l[l];
        let tiny = mask(q.abs() < floor);
        let q = select(tiny, select(mask(q == 0.0), floor, floor.copysign(q)), q);
        inv[l] = 1.0 / q;
        carry.y[l] = b[l] - carry.l[l] * carry.y[l];
        carry.negative[l] += (q < 0.0) as u64;
        carry.l[l] = e * inv[l];
    }
    inv
}

impl<const L: usize> LaneWorkspace<L> {
    /// Workspace for the matrix `t`.
    pub fn new(t: &SymTridiagonal) -> Self {
        let n = t.len();
        let zero = [0.0; L];
        let mut rows = Vec::with_capacity(n);
        advise_huge_pages(rows.spare_capacity_mut());
        rows.extend((0..n).map(|i| {
            let e_prev = if i > 0 { t.off[i - 1] } else { 0.0 };
            let e = if i + 1 < n { t.off[i] } else { 0.0 };
            [e_prev, e, t.diag[i]]
        }));
        // Written, not calloc'ed: the first step reads each row of x before it writes it, and a
        // read of untouched memory maps the shared zero page, which the write then has to
        // replace (a second fault, and a TLB shootdown on the other threads of the process).
        let mut x = Vec::with_capacity(n);
        advise_huge_pages(x.spare_capacity_mut());
        x.resize(n, zero);
        let inv = vec![zero; n];
        advise_huge_pages(&inv);
        Self { rows, x, inv }
    }

    /// One inverse-iteration step: x_l ← (T − σ_l I)⁻¹ b_l with b from `rhs`, in every lane (the
    /// lanes that `out` copies out are copied before they are overwritten; an idle lane with
    /// scale 0 solves for b = 0). Returns the sums of every lane.
    pub fn step(
        &mut self,
        sigma: &[f64; L],
        pivot_floor: f64,
        rhs: &Rhs<'_, L>,
        out: &mut Output<'_, '_, L>,
    ) -> [StepSums; L] {
        let negative = self.factor(sigma, pivot_floor, rhs, out);
        let mut sums = Sums::<L>::default();
        let (x0, x1) = self.back_substitute(sigma, &mut sums);
        // Row 0 of w, now that x_0 and x_1 are known.
        let [_, e0, d0] = self.rows[0];
        for l in 0..L {
            let w = (d0 - sigma[l]) * x0[l] + e0 * x1[l];
            sums.add(l, x0[l], w);
        }
        std::array::from_fn(|l| StepSums {
            xx: sums.xx[l],
            wx: sums.wx[l],
            ww: sums.ww[l],
            count: negative[l] as usize,
        })
    }

    /// The forward sweep: copies the finished lanes out, then stores 1/q_i of every row and
    /// overwrites the row that b_i came from with y_i = b_i − l_{i−1} y_{i−1}; returns the number
    /// of negative pivots (the Sturm count at σ) of every lane.
    // The two sweeps stay out of line: inlined into the iteration loop (one ~7000-instruction
    // function) they were compiled to much less vectorized code, 20 % more instructions per step
    // (callgrind, n = 1e4, k = 100).
    #[inline(never)]
    fn factor(
        &mut self,
        sigma: &[f64; L],
        floor: f64,
        rhs: &Rhs<'_, L>,
        out: &mut Output<'_, '_, L>,
    ) -> [u64; L] {
        let mut carry = Carry {
            l: [0.0; L],
            y: [0.0; L],
            negative: [0; L],
        };
        let n = self.rows.len();
        for c in 0..n.div_ceil(CHUNK_ROWS) {
            let rows = c * CHUNK_ROWS..((c + 1) * CHUNK_ROWS).min(n);
            // Finished lanes leave before their rows are overwritten (one lane at a time: a
            // strided read of rows that the factorization below then finds in cache).
            for l in 0..L {
                if let Some((c, scale)) = out.copy[l] {
                    let column = &mut out.columns[c][rows.clone()];
                    for (dst, row) in column.iter_mut().zip(&self.x[rows.clone()]) {
                        *dst = row[l] * scale;
                    }
                }
            }
            let inputs = self.rows[rows.clone()]
                .iter()
                .zip(self.x[rows.clone()].iter_mut())
                .zip(&rhs.start[rows.clone()]);
            for (inv, ((&[e_prev, e, d], x), &s)) in self.inv[rows].iter_mut().zip(inputs) {
                let b = rhs.row(s, x);
                *inv = factor_row(&mut carry, sigma, floor, (e_prev, e, d), &b);
                *x = carry.y;
            }
        }
        carry.negative
    }

    /// Back substitution x_i = y_i/q_i − l_i x_{i+1}, bottom row first, in place (the rows hold y
    /// on entry and x on return); returns x_0 and x_1 and adds the sums of rows 1..n to `sums`.
    #[inline(never)]
    fn back_substitute(&mut self, sigma: &[f64; L], sums: &mut Sums<L>) -> ([f64; L], [f64; L]) {
        // x_{i+1}, x_{i+2} and (e_{i+1}, d_{i+1}) of the row below: zero below the last row, so
        // that the last row adds nothing to the sums.
        let (mut x1, mut x2) = ([0.0; L], [0.0; L]);
        let (mut e_next, mut d_next) = (0.0, 0.0);
        // Local accumulators: kept in registers across the loop.
        let (mut xx, mut wx, mut ww) = (sums.xx, sums.wx, sums.ww);
        let inputs = self.rows.iter().zip(&self.inv);
        for (row, (&[_, e, d], inv)) in self.x.iter_mut().zip(inputs).rev() {
            let mut xi = [0.0; L];
            for l in 0..L {
                xi[l] = row[l] * inv[l] - (e * inv[l]) * x1[l];
            }
            // Row i + 1 of w = (T − σ)x is complete now that x_i is known.
            for l in 0..L {
                let w = (e * xi[l] + (d_next - sigma[l]) * x1[l]) + e_next * x2[l];
                xx[l] += x1[l] * x1[l];
                wx[l] += w * x1[l];
                ww[l] += w * w;
            }
            *row = xi;
            (e_next, d_next) = (e, d);
            x2 = x1;
            x1 = xi;
        }
        (sums.xx, sums.wx, sums.ww) = (xx, wx, ww);
        (x1, x2)
    }
}

/// The lanes whose finished iterates a step copies out before it overwrites them, lane l to
/// `columns[c]` multiplied by `scale` when `copy[l]` = (c, scale).
pub(super) struct Output<'a, 'b, const L: usize> {
    pub columns: &'a mut [&'b mut [f64]],
    pub copy: [Option<(usize, f64)>; L],
}

/// Per-lane accumulators of [`StepSums`].
struct Sums<const L: usize> {
    xx: [f64; L],
    wx: [f64; L],
    ww: [f64; L],
}

impl<const L: usize> Default for Sums<L> {
    fn default() -> Self {
        Self {
            xx: [0.0; L],
            wx: [0.0; L],
            ww: [0.0; L],
        }
    }
}

impl<const L: usize> Sums<L> {
    #[inline(always)]
    fn add(&mut self, l: usize, x: f64, w: f64) {
        self.xx[l] += x * x;
        self.wx[l] += w * x;
        self.ww[l] += w * w;
    }
}

/// Constants of the vector phase of one solve.
pub(super) struct IterationParams {
    /// Pivots are raised to this magnitude (ε‖T‖).
    pub pivot_floor: f64,
    /// A pair is converged when its residual is at most this.
    pub residual_tol: f64,
    /// At most this many steps per vector.
    pub max_iterations: usize,
    /// Below this width Sturm counts cannot separate two eigenvalues.
    pub resolution: f64,
}

/// A simple level to solve: λ_index is the only eigenvalue in (lo, hi].
#[derive(Debug, Clone, Copy)]
pub(super) struct Level {
    pub index: usize,
    pub lo: f64,
    pub hi: f64,
}

/// Result of a group of levels or of a cluster (the vectors go to the caller's columns).
pub(super) struct Solved {
    pub values: Vec<f64>,
    pub iterations: usize,
}

/// The iteration of one lane: its level, bracket, shift and history.
#[derive(Clone, Copy)]
struct LaneState {
    /// Position of the level in the caller's list.
    job: usize,
    level: Level,
    sigma: f64,
    /// The last step's shift was a Rayleigh quotient.
    rayleigh_shift: bool,
    steps: usize,
}

impl LaneState {
    fn new(job: usize, level: Level) -> Self {
        Self {
            job,
            level,
            sigma: 0.5 * (level.lo + level.hi),
            rayleigh_shift: false,
            steps: 0,
        }
    }

    /// Narrows the bracket with the step's Sturm count and picks the next shift: the Rayleigh
    /// quotient when it lies inside the bracket widened by the count resolution (the counts of
    /// the solve and the quotient are both accurate to about that), else the bracket's
    /// midpoint.
    fn next_shift(&mut self, count: usize, rho: f64, resolution: f64) {
        let b = &mut self.level;
        if count > b.index {
            b.hi = b.hi.min(self.sigma);
        } else {
            b.lo = b.lo.max(self.sigma);
        }
        self.rayleigh_shift = rho > b.lo - resolution && rho <= b.hi + resolution;
        self.sigma = if self.rayleigh_shift {
            rho
        } else {
            0.5 * (b.lo + b.hi)
        };
    }
}

/// Simple levels by inverse iteration with Rayleigh-quotient shifts safeguarded by the
/// brackets, `L` at a time: a lane whose level has converged takes the next one (from the
/// shared `start` vector). The unit eigenvectors are written to the columns of `out`
/// (n × levels.len(), column-major).
///
/// A level is converged when its residual is below the tolerance after a step whose shift was a
/// Rayleigh quotient: a small residual alone bounds the contamination by a neighbouring level m
/// only by ‖r‖/gap_m, and ⟨K⟩ is first-order sensitive to it; one more step from the Rayleigh
/// quotient (|ρ − λ| ≈ ‖r‖²/gap) scales it by |ρ − λ|/gap_m, down to the rounding floor of the
/// solve. A level that does not converge within `max_iterations` keeps its last iterate.
pub(super) fn solve_levels<const L: usize>(
    t: &SymTridiagonal,
    params: &IterationParams,
    ws: &mut LaneWorkspace<L>,
    start: &[f64],
    levels: &[Level],
    out: &mut [f64],
) -> Solved {
    let n = t.len();
    let mut columns: Vec<&mut [f64]> = out.chunks_exact_mut(n).collect();
    let mut lanes: [Option<LaneState>; L] = [None; L];
    let mut queue = levels.iter().copied().enumerate();
    let mut values = vec![0.0; levels.len()];
    let mut finished: [Option<(usize, f64)>; L] = [None; L];
    let mut rhs = Rhs {
        start,
        fresh: [false; L],
        scale: [0.0; L],
    };
    let mut iterations = 0;
    let mut unconverged = Vec::new();
    loop {
        for (l, lane) in lanes.iter_mut().enumerate() {
            if lane.is_none() {
                if let Some((job, level)) = queue.next() {
                    *lane = Some(LaneState::new(job, level));
                    rhs.fresh[l] = true;
                }
            }
        }
        let Some(any) = lanes.iter().flatten().next() else {
            break;
        };
        let sigma = lanes.map(|lane| lane.map_or(any.sigma, |s| s.sigma));
        let mut out = Output {
            columns: &mut columns,
            copy: std::mem::replace(&mut finished, [None; L]),
        };
        let sums = ws.step(&sigma, params.pivot_floor, &rhs, &mut out);
        rhs.fresh = [false; L];
        for (l, slot) in lanes.iter_mut().enumerate() {
            let Some(lane) = slot else {
                continue;
            };
            lane.steps += 1;
            iterations += 1;
            let (rho, residual) = sums[l].rayleigh(lane.sigma);
            let norm = sums[l].xx.sqrt();
            let converged = residual <= params.residual_tol && lane.rayleigh_shift;
            if converged || lane.steps == params.max_iterations {
                if !converged {
                    unconverged.push((lane.job, lane.level, rho));
                }
                values[lane.job] = rho;
                finished[l] = Some((lane.job, if norm > 0.0 { 1.0 / norm } else { 0.0 }));
                rhs.scale[l] = 0.0;
                *slot = None;
                continue;
            }
            if norm > 0.0 && norm.is_finite() {
                rhs.scale[l] = 1.0 / norm;
            } else {
                // Nothing to continue from (never expected): start again.
                rhs.fresh[l] = true;
            }
            lane.next_shift(sums[l].count, rho, params.resolution);
        }
    }
    // The lanes that finished in the last step.
    for (i, row) in ws.x.iter().enumerate() {
        for (l, target) in finished.iter().enumerate() {
            if let Some((c, scale)) = *target {
                columns[c][i] = row[l] * scale;
            }
        }
    }
    // Without pivoting a solve can lose accuracy (element growth next to a tiny pivot); a level
    // that did not converge in the lanes continues with pivoting, from its last iterate.
    if !unconverged.is_empty() {
        let mut lu = PivotedLu::new(n);
        for (job, level, rho) in unconverged {
            let (value, steps) = rayleigh_iteration(t, params, &mut lu, level, rho, columns[job]);
            values[job] = value;
            iterations += steps;
        }
    }
    Solved { values, iterations }
}

/// Rayleigh-quotient iteration with the pivoted solver from the unit vector `v` (overwritten by
/// the result) and its Rayleigh quotient `rho`, the shifts safeguarded by the bracket as in the
/// lanes. Every step's shift is a Rayleigh quotient, so the first residual below the tolerance
/// ends it. Returns the eigenvalue and the number of steps.
fn rayleigh_iteration(
    t: &SymTridiagonal,
    params: &IterationParams,
    lu: &mut PivotedLu,
    level: Level,
    mut rho: f64,
    v: &mut [f64],
) -> (f64, usize) {
    let res = params.resolution;
    let mut tv = vec![0.0; v.len()];
    let mut sigma = rho;
    for step in 1..=params.max_iterations {
        if !(rho > level.lo - res && rho <= level.hi + res) {
            sigma = 0.5 * (level.lo + level.hi);
        }
        lu.solve_shifted(t, sigma, params.pivot_floor, v);
        normalize(v);
        // ρ = σ + vᵀ(T − σ)v and r = (T − ρ)v, with the shift on the diagonal.
        t.matvec_shifted(sigma, v, &mut tv);
        let shift = dot(v, &tv);
        rho = sigma + shift;
        tv.iter_mut()
            .zip(v.iter())
            .for_each(|(w, x)| *w -= shift * x);
        if dot(&tv, &tv).sqrt() <= params.residual_tol || step == params.max_iterations {
            return (rho, step);
        }
        sigma = rho;
    }
    (rho, 0)
}

/// Workspace for one shifted tridiagonal LU solve with partial pivoting (LAPACK `dgttrf`/`dgtts2`
/// layout, with the reciprocal pivots stored so that back substitution has no division on its
/// critical path): backward stable whatever the shift, for clusters and for the simple levels
/// the lanes could not converge.
pub(super) struct PivotedLu {
    /// 1 / diagonal of U.
    inv_u0: Vec<f64>,
    /// First super-diagonal of U.
    u1: Vec<f64>,
    /// Second super-diagonal of U (fill-in from row swaps).
    u2: Vec<f64>,
}

impl PivotedLu {
    pub fn new(n: usize) -> Self {
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

/// The m = `multiplicity` eigenvalues in `(lo, hi]`, closer together than the Sturm counts can
/// resolve: inverse iteration at the fixed shift (lo + hi)/2 with Gram–Schmidt inside the
/// cluster, then Rayleigh–Ritz on the cluster's span. The m unit vectors go to `out`.
pub(super) fn solve_cluster(
    t: &SymTridiagonal,
    params: &IterationParams,
    lu: &mut PivotedLu,
    (lo, hi, multiplicity): (f64, f64, usize),
    seed: u64,
    out: &mut [f64],
) -> Solved {
    let n = t.len();
    let sigma = 0.5 * (lo + hi);
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(multiplicity);
    let mut iterations = 0;
    for j in 0..multiplicity {
        let mut v = vec![0.0; n];
        start_vector(seed.wrapping_add(7919 * j as u64), &mut v);
        orthogonalize_against(&mut v, &basis);
        normalize(&mut v);
        let mut extra = false;
        for _ in 0..params.max_iterations {
            iterations += 1;
            lu.solve_shifted(t, sigma, params.pivot_floor, &mut v);
            orthogonalize_against(&mut v, &basis);
            let growth = normalize(&mut v);
            if extra {
                break;
            }
            // ‖(T − σ)v‖ ≤ 1/growth: once that is at the cluster's own width, v lies in the
            // cluster's subspace up to levels outside it, which one more solve suppresses by
            // another factor |σ − λ_cluster| / |σ − λ_outside| (Rayleigh–Ritz cannot).
            extra = growth * (params.residual_tol + (hi - lo)) >= 1.0;
        }
        basis.push(v);
    }
    let values = rayleigh_ritz(t, sigma, &basis, out);
    Solved { values, iterations }
}

/// Rayleigh–Ritz: diagonalizes the projection Vᵀ(T − σ)V of T on the orthonormal `basis` and
/// writes the rotated basis to `out`; returns the Ritz values. The shift keeps a cluster's small
/// spread from drowning in the rounding of T's diagonal.
fn rayleigh_ritz(t: &SymTridiagonal, sigma: f64, basis: &[Vec<f64>], out: &mut [f64]) -> Vec<f64> {
    let n = t.len();
    let m = basis.len();
    let mut tv = vec![0.0; n];
    let mut proj = faer::Mat::<f64>::zeros(m, m);
    for j in 0..m {
        t.matvec_shifted(sigma, &basis[j], &mut tv);
        for i in 0..m {
            proj[(i, j)] = dot(&basis[i], &tv);
        }
    }
    let sym = faer::Mat::<f64>::from_fn(m, m, |i, j| 0.5 * (proj[(i, j)] + proj[(j, i)]));
    match super::dense::symmetric_eigen(sym.as_ref()) {
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
            for (w, b) in out.chunks_exact_mut(n).zip(basis) {
                w.copy_from_slice(b);
            }
            (0..m).map(|i| sym[(i, i)] + sigma).collect()
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

/// Subtracts from `v` its projections on the (orthonormal) `basis`, twice for stability.
fn orthogonalize_against(v: &mut [f64], basis: &[Vec<f64>]) {
    for _ in 0..2 {
        for b in basis {
            let c = dot(v, b);
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
        }
    }
}

/// A deterministic unit start vector with components along every eigenvector (pseudo-random).
pub(super) fn start_vector(seed: u64, v: &mut [f64]) {
    let mut state = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0xD1B5_4A32_D192_ED03);
    for x in v.iter_mut() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eigen::sturm::SturmData;

    /// A random symmetric tridiagonal matrix with entries in [−1, 1] (SplitMix64).
    fn random(n: usize, seed: u64) -> SymTridiagonal {
        let mut v = vec![0.0; 2 * n - 1];
        start_vector(seed, &mut v);
        let scale = (2.0 * n as f64).sqrt();
        SymTridiagonal::new(
            v[..n].iter().map(|x| x * scale).collect(),
            v[n..].iter().map(|x| x * scale).collect(),
        )
        .unwrap()
    }

    fn no_copy<'a, 'b, const L: usize>(columns: &'a mut [&'b mut [f64]]) -> Output<'a, 'b, L> {
        Output {
            columns,
            copy: [None; L],
        }
    }

    /// n spans three chunks; every lane's x solves (T − σ)x = b to working accuracy, its count
    /// is the Sturm count, and its sums are those of x.
    #[test]
    fn a_step_solves_every_lane_and_counts() {
        let n = 2 * CHUNK_ROWS + 77;
        let t = random(n, 3);
        let sturm = SturmData::new(&t.diag, &t.off);
        let mut start = vec![0.0; n];
        start_vector(11, &mut start);
        let sigma: [f64; 8] = std::array::from_fn(|l| -1.3 + 0.37 * l as f64);
        let mut ws = LaneWorkspace::<8>::new(&t);
        // Lanes 0..4 start from `start`; lanes 4..8 continue from a previous iterate (scaled).
        for (i, row) in ws.x.iter_mut().enumerate() {
            *row = std::array::from_fn(|l| (l as f64 + 1.0) * (i as f64 * 0.01).sin());
        }
        let rhs = Rhs {
            start: &start,
            fresh: std::array::from_fn(|l| l < 4),
            scale: std::array::from_fn(|l| 0.5 / (l as f64 + 1.0)),
        };
        let b: Vec<[f64; 8]> = (0..n).map(|i| rhs.row(start[i], &ws.x[i])).collect();
        let sums = ws.step(&sigma, 1e-300, &rhs, &mut no_copy(&mut []));
        let mut tx = vec![0.0; n];
        for l in 0..8 {
            let x: Vec<f64> = ws.x.iter().map(|r| r[l]).collect();
            t.matvec_shifted(sigma[l], &x, &mut tx);
            let bl: Vec<f64> = b.iter().map(|r| r[l]).collect();
            let err = tx
                .iter()
                .zip(&bl)
                .map(|(a, c)| (a - c).powi(2))
                .sum::<f64>()
                .sqrt();
            let xnorm = dot(&x, &x).sqrt();
            assert!(
                err <= 1e-12 * xnorm * 4.0,
                "lane {l}: ‖(T − σ)x − b‖ = {err:e}"
            );
            assert_eq!(sums[l].count, sturm.count_below(sigma[l]), "lane {l}");
            let (xx, wx, ww) = (dot(&x, &x), dot(&x, &tx), dot(&tx, &tx));
            assert!((sums[l].xx - xx).abs() <= 1e-13 * xx);
            assert!((sums[l].wx - wx).abs() <= 1e-12 * (xx * ww).sqrt());
            assert!((sums[l].ww - ww).abs() <= 1e-12 * ww);
        }
    }

    /// A lane's arithmetic does not depend on the other lanes, nor on the lane count; idle lanes
    /// (scale 0) solve for b = 0, and emitted lanes are copied out (scaled) before that.
    #[test]
    fn lanes_are_independent_and_copied_out_first() {
        let n = CHUNK_ROWS + 5;
        let t = random(n, 5);
        let mut start = vec![0.0; n];
        start_vector(1, &mut start);
        let fresh = |l: usize| Rhs::<8> {
            start: &start,
            fresh: std::array::from_fn(|m| m == l),
            scale: [0.0; 8],
        };
        let mut alone = LaneWorkspace::<1>::new(&t);
        let one = Rhs::<1> {
            start: &start,
            fresh: [true],
            scale: [0.0],
        };
        let s1 = alone.step(&[0.25], 1e-300, &one, &mut no_copy(&mut []));
        let mut ws = LaneWorkspace::<8>::new(&t);
        let old: Vec<[f64; 8]> = (0..n).map(|i| [i as f64; 8]).collect();
        ws.x.clone_from(&old);
        let mut column = vec![0.0; n];
        let mut columns = [&mut column[..]];
        let mut out = Output {
            columns: &mut columns,
            copy: std::array::from_fn(|l| (l == 2).then_some((0, 0.5))),
        };
        let sigma: [f64; 8] = std::array::from_fn(|l| if l == 5 { 0.25 } else { l as f64 });
        let s8 = ws.step(&sigma, 1e-300, &fresh(5), &mut out);
        for i in 0..n {
            assert_eq!(ws.x[i][5].to_bits(), alone.x[i][0].to_bits());
            assert_eq!(column[i], 0.5 * old[i][2]);
            assert!((0..8).all(|l| l == 5 || ws.x[i][l] == 0.0));
        }
        assert_eq!(s8[5].xx.to_bits(), s1[0].xx.to_bits());
        assert_eq!(s8[5].ww.to_bits(), s1[0].ww.to_bits());
    }

    /// The lanes converge every level of a loose bracket; with too few steps allowed they stop
    /// unconverged and the pivoted solver finishes them: the vectors are eigenvectors either way.
    #[test]
    fn levels_converge_or_fall_back_to_pivoting() {
        let n = 3000;
        let t = SymTridiagonal::new(vec![2.0; n], vec![-1.0; n - 1]).unwrap();
        let exact =
            |j: usize| 2.0 - 2.0 * ((j + 1) as f64 * std::f64::consts::PI / (n as f64 + 1.0)).cos();
        // Brackets reaching halfway to the neighbours: the midpoints are poor first shifts.
        let levels: Vec<Level> = (0..12)
            .map(|j| Level {
                index: j,
                lo: 0.5 * (exact(j) + if j > 0 { exact(j - 1) } else { 0.0 }),
                hi: 0.5 * (exact(j) + exact(j + 1)),
            })
            .collect();
        let mut start = vec![0.0; n];
        start_vector(0, &mut start);
        let norm = 4.0;
        for max_iterations in [12, 3] {
            let params = IterationParams {
                pivot_floor: f64::EPSILON * norm,
                residual_tol: 64.0 * f64::EPSILON * norm,
                max_iterations,
                resolution: 8.0 * f64::EPSILON * norm * (n as f64).sqrt(),
            };
            let mut ws = LaneWorkspace::<8>::new(&t);
            let mut out = vec![0.0; n * levels.len()];
            let solved = solve_levels(&t, &params, &mut ws, &start, &levels, &mut out);
            assert!(
                max_iterations == 12 || solved.iterations > 3 * levels.len(),
                "no fallback was needed with {max_iterations} steps"
            );
            let mut tv = vec![0.0; n];
            for (j, v) in out.chunks_exact(n).enumerate() {
                t.matvec_shifted(solved.values[j], v, &mut tv);
                let r = dot(&tv, &tv).sqrt();
                assert!((dot(v, v) - 1.0).abs() < 1e-13);
                assert!(
                    r <= params.residual_tol * 1.5,
                    "level {j}: residual {r:e} with {max_iterations} steps"
                );
                assert!((solved.values[j] - exact(j)).abs() <= 1e-13, "level {j}");
            }
        }
    }
}
