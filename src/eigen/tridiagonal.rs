//! The k lowest eigenpairs of a real symmetric tridiagonal matrix T, in three stages.
//!
//! 1. **Brackets** (`isolate.rs`). Sturm-count multisection from the Gershgorin interval
//!    isolates the k + 1 lowest eigenvalues (each in an interval holding exactly one, or in a
//!    cluster narrower than the resolution of the counts), then narrows every simple level
//!    until inverse iteration from its midpoint contracts by [`SolverOptions::contraction`] per
//!    step. The count at a point between λ_{k−1} and λ_k equals k: that is the proof that no
//!    level below the k-th was missed.
//! 2. **Vectors** (`inverse.rs`). Inverse iteration with Rayleigh-quotient shifts
//!    (safeguarded: a quotient is used only where it is closer to its level than to any other
//!    bracket), one tridiagonal LU with partial pivoting per step, 16 levels per sweep in SIMD
//!    lanes, O(n) memory per level. Clusters use a fixed shift, Gram–Schmidt inside the cluster
//!    and a Rayleigh–Ritz rotation. Groups of levels run in parallel (rayon).
//! 3. **Orthonormality** (`orthonormal.rs`). Inverse iteration leaves overlaps of order
//!    ε‖T‖/gap between distinct levels; one Cholesky-QR pass removes them, and the same pass
//!    measures the Rayleigh quotients, residuals and max |VᵀV − I| that are reported.
//!
//! Every stage is independent of the number of threads: the shifts of stage 1 follow from the
//! counts alone, each level of stage 2 does the same arithmetic whichever levels share its
//! sweep, and the sums of stage 3 are added in a fixed order.

use super::inverse::{self, IterationParams, LaneWorkspace, Level, PivotedLu, Solved, LANE_WIDTH};
use super::isolate::{self, BracketGoal, Interval};
use super::orthonormal;
use super::pages;
use super::sturm::SturmData;
use super::{EigenError, SymTridiagonal};
use rayon::prelude::*;
use serde::Serialize;

/// Tuning knobs of [`lowest_eigenpairs`]; the defaults suit finite-difference Hamiltonians.
#[derive(Debug, Clone)]
pub struct SolverOptions {
    /// A pair is converged when ‖Tv − ρv‖ ≤ `residual_factor` · ε · ‖T‖ (ε = f64::EPSILON).
    pub residual_factor: f64,
    /// At most this many inverse-iteration steps per vector.
    pub max_iterations: usize,
    /// Each simple level's bracket is narrowed by Sturm bisection until its half-width is at
    /// most this fraction of the distance from its midpoint to the neighbouring brackets, so
    /// that the first inverse-iteration step shrinks every other component by that factor.
    pub contraction: f64,
    /// Levels closer than `cluster_factor` · ε · ‖T‖ are computed together as one cluster
    /// (Gram–Schmidt and Rayleigh–Ritz inside it).
    pub cluster_factor: f64,
}

impl Default for SolverOptions {
    fn default() -> Self {
        Self {
            residual_factor: 64.0,
            max_iterations: 12,
            contraction: 0.0078125,
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

/// Shared constants of one solve.
struct Context<'a> {
    t: &'a SymTridiagonal,
    sturm: SturmData,
    opts: &'a SolverOptions,
    /// Gershgorin bound on ‖T‖.
    norm: f64,
    /// Below this width Sturm counts cannot separate two eigenvalues.
    resolution: f64,
    params: IterationParams,
}

impl<'a> Context<'a> {
    fn new(t: &'a SymTridiagonal, opts: &'a SolverOptions) -> Self {
        let n = t.len();
        let norm = t.norm_bound().max(f64::MIN_POSITIVE);
        let eps = f64::EPSILON;
        let resolution = 8.0 * eps * norm * (n as f64).sqrt().max(1.0);
        Self {
            t,
            sturm: SturmData::new(&t.diag, &t.off),
            opts,
            norm,
            resolution,
            params: IterationParams {
                pivot_floor: eps * norm,
                residual_tol: opts.residual_factor * eps * norm,
                max_iterations: opts.max_iterations,
                resolution,
            },
        }
    }

    /// The Gershgorin interval widened so that its ends are clear of every eigenvalue.
    fn whole(&self) -> Interval {
        let (glo, ghi) = self.t.gershgorin();
        let pad = 2.0 * self.resolution + f64::EPSILON * self.norm;
        Interval {
            lo: glo - pad,
            hi: ghi + pad,
            count_lo: 0,
            count_hi: self.t.len(),
        }
    }

    fn report(&self) -> SolverReport {
        SolverReport {
            dimension: self.t.len(),
            norm_bound: self.norm,
            max_residual: 0.0,
            max_orthogonality_error: 0.0,
            sturm_cutoff: self.whole().lo,
            sturm_count_at_cutoff: 0,
            sturm_sweeps: 0,
            inverse_iterations: 0,
            clusters: 0,
        }
    }
}

/// [`lowest_eigenpairs`] for a checked, non-zero matrix of moderate scale.
fn solve_unscaled(
    t: &SymTridiagonal,
    k: usize,
    opts: &SolverOptions,
) -> Result<EigenPairs, EigenError> {
    let n = t.len();
    let ctx = Context::new(t, opts);
    let mut report = ctx.report();
    if k == 0 {
        return Ok(EigenPairs {
            values: vec![],
            vectors: vec![],
            residuals: vec![],
            dimension: n,
            report,
        });
    }
    // Isolate one more level than asked for (when there is one): its bracket gives the gap
    // above λ_{k−1} and the cutoff point of the completeness proof.
    let brackets = isolate::bracket(
        &ctx.sturm,
        ctx.whole(),
        &BracketGoal {
            wanted: (k + 1).min(n),
            solved: k,
            resolution: ctx.resolution,
            contraction: opts.contraction,
        },
    );
    report.sturm_sweeps = brackets.sweeps;
    let intervals = brackets.intervals;
    // Completeness: a point between the bracket of λ_{k−1} and the next one up.
    let last = intervals
        .iter()
        .position(|iv| iv.count_hi >= k)
        .ok_or_else(|| EigenError::Internal("isolation lost the k-th level".into()))?;
    report.sturm_cutoff = intervals[last].hi;
    report.sturm_count_at_cutoff = ctx.sturm.count_below(report.sturm_cutoff);

    let jobs = plan_jobs(&ctx, &intervals, last);
    report.clusters = jobs.iter().filter(|job| job.level.is_none()).count();
    let (estimates, mut vectors, iterations) = compute_vectors(&ctx, &jobs, k);
    report.inverse_iterations = iterations;
    let measured = orthonormal::orthonormalize(t, &mut vectors, k, &estimates)?;
    report.max_orthogonality_error = orthonormal::orthogonality_error(&measured.gram);
    let (values, residuals, vectors) = sort_pairs(measured.values, measured.residuals, vectors, n);
    report.max_residual = residuals.iter().cloned().fold(0.0, f64::max);
    // A Rayleigh quotient may exceed the isolating interval by rounding (levels within the
    // count resolution of its end): move the cutoff above it and count again, so that every
    // returned value lies below the cutoff and the reported count stays what Sturm says.
    let top = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if top >= report.sturm_cutoff {
        report.sturm_cutoff = top + ctx.resolution;
        report.sturm_count_at_cutoff = ctx.sturm.count_below(report.sturm_cutoff);
    }
    Ok(EigenPairs {
        values,
        vectors,
        residuals,
        dimension: n,
        report,
    })
}

/// A unit of the vector phase: a simple level (with its shifts) or a cluster.
struct Job {
    /// The bracket; for a merged cluster, its levels' brackets widened by the cluster gap so
    /// that the shift sits in the middle of the cluster.
    iv: Interval,
    /// `Some` for a simple level.
    level: Option<Level>,
}

/// Turns the brackets of levels 0..=`last` into jobs. Levels closer than the cluster gap are
/// solved together: inverse iteration cannot tell their vectors apart (each may hold ~ε‖T‖/gap
/// of the other), Rayleigh–Ritz can. A simple level's position is its bracket's midpoint
/// (tight brackets: within half a bracket of the eigenvalue).
fn plan_jobs(ctx: &Context, intervals: &[Interval], last: usize) -> Vec<Job> {
    let cluster_gap = ctx.opts.cluster_factor * f64::EPSILON * ctx.norm;
    let mut jobs: Vec<Job> = Vec::with_capacity(last + 1);
    let mut job_hi = f64::NEG_INFINITY; // position of the last job's top level
    for iv in &intervals[..=last] {
        let simple = iv.multiplicity() == 1;
        let (lo, hi) = if simple {
            (iv.mid(), iv.mid())
        } else {
            (iv.lo, iv.hi)
        };
        match jobs.last_mut() {
            Some(prev) if lo - job_hi < cluster_gap => {
                if prev.level.take().is_some() {
                    // Turn a simple level into the start of a cluster around its position.
                    prev.iv.lo = prev.iv.mid() - cluster_gap;
                }
                prev.iv.hi = hi + cluster_gap;
                prev.iv.count_hi = iv.count_hi;
            }
            _ => jobs.push(Job {
                iv: *iv,
                level: simple.then_some(Level {
                    index: iv.count_lo,
                    lo: iv.lo,
                    hi: iv.hi,
                }),
            }),
        }
        job_hi = hi;
    }
    extend_top_cluster(ctx, &mut jobs, cluster_gap);
    jobs
}

/// Levels above λ_{k−1} but within the cluster gap of it belong to its cluster: without them
/// inverse iteration cannot separate the lowest ones from their near-degenerate neighbours.
fn extend_top_cluster(ctx: &Context, jobs: &mut [Job], cluster_gap: f64) {
    let n = ctx.t.len();
    let Some(top_job) = jobs.last_mut() else {
        return;
    };
    let top = if top_job.level.is_some() {
        top_job.iv.mid()
    } else {
        top_job.iv.hi
    };
    let mut reach = top + cluster_gap;
    let mut count = ctx.sturm.count_below(reach);
    if count <= top_job.iv.count_hi {
        return;
    }
    if top_job.level.take().is_some() {
        top_job.iv.lo = top - cluster_gap;
    }
    // Grow until no further level lies within the cluster gap of the cluster's top.
    while count > top_job.iv.count_hi && count <= n {
        top_job.iv.count_hi = count;
        top_job.iv.hi = reach;
        reach += cluster_gap;
        count = ctx.sturm.count_below(reach);
    }
}

/// Stage 2 for every job, in parallel: returns the eigenvalue estimates, the unit vectors
/// (column-major n × k: the k lowest of the computed ones) and the number of steps.
fn compute_vectors(ctx: &Context, jobs: &[Job], k: usize) -> (Vec<f64>, Vec<f64>, usize) {
    let n = ctx.t.len();
    let total: usize = jobs.iter().map(|job| job.iv.multiplicity()).sum();
    let mut columns = vec![0.0; n * total];
    let mut start = vec![0.0; n];
    inverse::start_vector(0, &mut start);
    let tasks = vector_tasks(jobs, n, &mut columns);
    let solved: Vec<Solved> = tasks
        .into_par_iter()
        .map_init(
            || (None, None),
            |(lanes, single), mut task| {
                // The task's columns get their memory in one call, in the thread that writes
                // them, instead of at a page fault per page (see `pages.rs`).
                let (VectorTask::Levels(_, out) | VectorTask::Cluster(_, _, out)) = &mut task;
                pages::populate_for_write(out);
                match task {
                    VectorTask::Levels(levels, out) => {
                        let ws =
                            lanes.get_or_insert_with(|| LaneWorkspace::<LANE_WIDTH>::new(ctx.t));
                        inverse::solve_levels(ctx.t, &ctx.params, ws, &start, &levels, out)
                    }
                    VectorTask::Cluster(iv, seed, out) => {
                        let lu = single.get_or_insert_with(|| PivotedLu::new(n));
                        let bracket = (iv.lo, iv.hi, iv.multiplicity());
                        inverse::solve_cluster(ctx.t, &ctx.params, lu, bracket, seed, out)
                    }
                }
            },
        )
        .collect();
    let iterations = solved.iter().map(|s| s.iterations).sum();
    let values: Vec<f64> = solved.into_iter().flat_map(|s| s.values).collect();
    // A cluster straddling the k-th level yields more than k pairs: keep the k lowest.
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    order.truncate(k);
    gather_columns(&mut columns, n, &order);
    (
        order.iter().map(|&i| values[i]).collect(),
        columns,
        iterations,
    )
}

/// Makes column j of the column-major `columns` (columns of length n) the old column
/// `order[j]` and drops the rest, in place with one column of scratch: a copy into a new n × k
/// buffer would touch (and fault in) as much fresh memory as the result. `order` holds distinct
/// column indices.
fn gather_columns(columns: &mut Vec<f64>, n: usize, order: &[usize]) {
    let total = columns.len() / n.max(1);
    // The full permutation: the wanted columns first, then the others in their order.
    let mut source: Vec<usize> = order.to_vec();
    let mut used = vec![false; total];
    order.iter().for_each(|&j| used[j] = true);
    source.extend((0..total).filter(|&j| !used[j]));
    // Follow each cycle dst ← source[dst] ← source[source[dst]] … back to its first column,
    // whose old contents wait in `scratch`.
    let mut done = vec![false; total];
    let mut scratch = Vec::new();
    for first in 0..order.len() {
        if done[first] || source[first] == first {
            continue;
        }
        scratch.clear();
        scratch.extend_from_slice(&columns[first * n..(first + 1) * n]);
        let mut dst = first;
        loop {
            done[dst] = true;
            let src = source[dst];
            if src == first {
                columns[dst * n..(dst + 1) * n].copy_from_slice(&scratch);
                break;
            }
            columns.copy_within(src * n..(src + 1) * n, dst * n);
            dst = src;
        }
    }
    columns.truncate(n * order.len());
}

/// Work for one rayon task of the vector phase, with the columns it fills.
enum VectorTask<'a> {
    /// Consecutive simple levels, [`LANE_WIDTH`] at a time.
    Levels(Vec<Level>, &'a mut [f64]),
    /// A cluster, with the seed of its start vectors.
    Cluster(Interval, u64, &'a mut [f64]),
}

/// Splits the columns among the jobs (in order): each cluster is a task, and each run of
/// simple levels is cut into tasks of about equal size, one per thread: each task fills its
/// lanes until its last levels, so fewer tasks leave fewer half-empty sweeps at their ends
/// (two per thread cost 7 % more inverse-iteration instructions on 2 threads, n = 1e5,
/// k = 100) and allocate fewer workspaces. A level's result does not depend on the task it
/// falls in, so the cut may follow the thread count.
fn vector_tasks<'a>(jobs: &[Job], n: usize, columns: &'a mut [f64]) -> Vec<VectorTask<'a>> {
    let simple = jobs.iter().filter(|job| job.level.is_some()).count();
    let per_task = simple
        .div_ceil(rayon::current_num_threads())
        .max(2 * LANE_WIDTH);
    let mut tasks = Vec::new();
    let mut rest = columns;
    let mut j = 0;
    while j < jobs.len() {
        let run = jobs[j..]
            .iter()
            .take_while(|job| job.level.is_some())
            .count();
        if run == 0 {
            let iv = jobs[j].iv;
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(n * iv.multiplicity());
            tasks.push(VectorTask::Cluster(iv, j as u64, mine));
            rest = tail;
            j += 1;
            continue;
        }
        let pieces = run.div_ceil(per_task);
        for p in 0..pieces {
            let size = run * (p + 1) / pieces - run * p / pieces;
            let levels = jobs[j..j + size]
                .iter()
                .filter_map(|job| job.level)
                .collect();
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(n * size);
            tasks.push(VectorTask::Levels(levels, mine));
            rest = tail;
            j += size;
        }
    }
    tasks
}

/// Rounding can swap the order of (nearly) equal values: sorts the pairs.
fn sort_pairs(
    values: Vec<f64>,
    residuals: Vec<f64>,
    vectors: Vec<f64>,
    n: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    if order.iter().enumerate().all(|(i, &o)| i == o) {
        return (values, residuals, vectors);
    }
    let mut vectors = vectors;
    gather_columns(&mut vectors, n, &order);
    (
        order.iter().map(|&i| values[i]).collect(),
        order.iter().map(|&i| residuals[i]).collect(),
        vectors,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column lands where `order` says, for permutations with cycles of every length,
    /// fixed points, and columns dropped from the middle and the end.
    #[test]
    fn gather_columns_matches_a_copy() {
        let n = 3;
        let total = 7;
        let orders: [&[usize]; 6] = [
            &[0, 1, 2, 3, 4, 5, 6],
            &[6, 5, 4, 3, 2, 1, 0],
            &[1, 2, 0, 4, 3, 5, 6],
            &[3, 0, 6, 1],
            &[0, 1, 2],
            &[5, 6],
        ];
        for order in orders {
            let original: Vec<f64> = (0..n * total).map(|i| i as f64).collect();
            let mut columns = original.clone();
            gather_columns(&mut columns, n, order);
            let expected: Vec<f64> = order
                .iter()
                .flat_map(|&src| original[src * n..(src + 1) * n].iter().copied())
                .collect();
            assert_eq!(columns, expected, "order {order:?}");
        }
    }
}
