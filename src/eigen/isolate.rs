//! Stage 1 of the tridiagonal solver: Sturm-count brackets around the lowest eigenvalues.
//!
//! Every interval (lo, hi] carries the Sturm counts at its ends, so it is known exactly which
//! eigenvalues it holds. Rounds of multi-shift sweeps split the intervals that hold more than one
//! wanted eigenvalue (isolation) and then narrow each simple level until inverse iteration from
//! its midpoint contracts fast (tightening). All shifts of a round, whatever interval they belong
//! to, share the [`LANES`] lanes of the round's sweeps, and the sweeps of a round run in parallel;
//! the shifts are chosen from the counts alone, so the brackets do not depend on the thread count.

use super::sturm::{SturmData, LANES};
use rayon::prelude::*;

/// An interval (lo, hi] with Sturm counts: `count_lo` eigenvalues lie below `lo`, `count_hi`
/// below `hi` (same unit as the matrix).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Interval {
    pub lo: f64,
    pub hi: f64,
    pub count_lo: usize,
    pub count_hi: usize,
}

impl Interval {
    /// Number of eigenvalues inside.
    pub fn multiplicity(&self) -> usize {
        self.count_hi - self.count_lo
    }
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }
    pub fn mid(&self) -> f64 {
        0.5 * (self.lo + self.hi)
    }
}

/// What the brackets must achieve.
pub(super) struct BracketGoal {
    /// The eigenvalues of index < `wanted` are isolated.
    pub wanted: usize,
    /// The simple levels of index < `solved` are also tightened.
    pub solved: usize,
    /// Below this width Sturm counts cannot split an interval (a cluster).
    pub resolution: f64,
    /// A simple level is tight when its half-width is at most `contraction` times the distance
    /// from its midpoint to the nearest other eigenvalue (bounded by the neighbouring intervals):
    /// inverse iteration from the midpoint then shrinks the other components by at least that
    /// factor per step.
    pub contraction: f64,
}

/// The brackets: sorted, disjoint intervals holding the eigenvalues of index < `wanted` (each
/// interval at least one), and the number of [`LANES`]-shift sweeps it took.
pub(super) struct Brackets {
    pub intervals: Vec<Interval>,
    pub sweeps: usize,
}

/// An interval holding this many times more eigenvalues than it has wanted ones gets its shifts
/// spaced geometrically towards its lower end (where the wanted ones are).
const SPARSE_FACTOR: usize = 4;

/// Splits `whole` (which holds every eigenvalue: `count_lo` = 0, `count_hi` = n) until `goal` is
/// met.
pub(super) fn bracket(sturm: &SturmData, whole: Interval, goal: &BracketGoal) -> Brackets {
    let mut intervals = vec![whole];
    let mut sweeps = 0;
    loop {
        let plan = plan_round(&intervals, whole.count_hi, goal);
        let total: usize = plan.iter().sum();
        if total == 0 {
            break;
        }
        let round_sweeps = total.div_ceil(LANES);
        let plan = spread_spare_lanes(plan, &intervals, round_sweeps * LANES - total);
        let shifts: Vec<f64> = intervals
            .iter()
            .zip(&plan)
            .flat_map(|(iv, &s)| shift_positions(iv, s, goal.wanted))
            .collect();
        let counts = counts_at(sturm, &shifts);
        sweeps += round_sweeps;
        intervals = split(&intervals, &plan, &shifts, &counts, goal.wanted);
    }
    Brackets { intervals, sweeps }
}

/// Shifts each interval asks for in this round: isolation needs about one per wanted
/// eigenvalue inside, tightening one (a bisection).
fn plan_round(intervals: &[Interval], n: usize, goal: &BracketGoal) -> Vec<usize> {
    (0..intervals.len())
        .map(|j| {
            let iv = &intervals[j];
            if iv.width() <= goal.resolution {
                0
            } else if iv.multiplicity() > 1 {
                let relevant = iv.count_hi.min(goal.wanted) - iv.count_lo;
                if iv.multiplicity() > SPARSE_FACTOR * relevant {
                    LANES
                } else {
                    relevant
                }
            } else if iv.count_lo < goal.solved && !is_tight(intervals, j, n, goal.contraction) {
                1
            } else {
                0
            }
        })
        .collect()
}

/// Whether inverse iteration from the midpoint of the simple level `intervals[j]` contracts by
/// `contraction` per step, judged from the neighbouring intervals.
fn is_tight(intervals: &[Interval], j: usize, n: usize, contraction: f64) -> bool {
    let iv = &intervals[j];
    let mid = iv.mid();
    let below = if iv.count_lo == 0 {
        f64::INFINITY
    } else if j > 0 {
        mid - intervals[j - 1].hi
    } else {
        mid - iv.lo
    };
    let above = if iv.count_hi == n {
        f64::INFINITY
    } else if j + 1 < intervals.len() {
        intervals[j + 1].lo - mid
    } else {
        iv.hi - mid
    };
    0.5 * iv.width() <= contraction * below.min(above)
}

/// Hands the lanes left over in the round's last sweep to the requesting intervals, one each in
/// turn (isolation first): they cost nothing extra.
fn spread_spare_lanes(
    mut plan: Vec<usize>,
    intervals: &[Interval],
    mut spare: usize,
) -> Vec<usize> {
    for isolation in [true, false] {
        let takers: Vec<usize> = (0..plan.len())
            .filter(|&j| plan[j] > 0 && (intervals[j].multiplicity() > 1) == isolation)
            .collect();
        if takers.is_empty() {
            continue;
        }
        while spare > 0 {
            for &j in &takers {
                if spare == 0 {
                    break;
                }
                plan[j] += 1;
                spare -= 1;
            }
        }
    }
    plan
}

/// `s` shifts inside `iv`: equally spaced, or geometrically towards `lo` when the interval
/// holds far more eigenvalues than wanted ones (the halves nearest `lo` are the useful ones).
fn shift_positions(iv: &Interval, s: usize, wanted: usize) -> impl Iterator<Item = f64> + '_ {
    let relevant = iv.count_hi.min(wanted) - iv.count_lo;
    let geometric = iv.multiplicity() > SPARSE_FACTOR * relevant && s > 1;
    let w = iv.width();
    (1..=s).map(move |t| {
        if geometric {
            iv.lo + w * (-((s + 1 - t) as f64)).exp2()
        } else {
            iv.lo + w * (t as f64 / (s as f64 + 1.0))
        }
    })
}

/// Sturm counts at every shift, [`LANES`] per sweep, the sweeps in parallel.
fn counts_at(sturm: &SturmData, shifts: &[f64]) -> Vec<usize> {
    shifts
        .par_chunks(LANES)
        .flat_map_iter(|chunk| {
            let mut xs = [chunk[chunk.len() - 1]; LANES];
            xs[..chunk.len()].copy_from_slice(chunk);
            let counts = sturm.counts_below(&xs);
            counts.into_iter().take(chunk.len())
        })
        .collect()
}

/// Replaces every interval that received shifts by its parts that hold a wanted eigenvalue.
fn split(
    intervals: &[Interval],
    plan: &[usize],
    shifts: &[f64],
    counts: &[usize],
    wanted: usize,
) -> Vec<Interval> {
    let mut out = Vec::with_capacity(intervals.len() + shifts.len());
    let mut next = 0;
    for (iv, &s) in intervals.iter().zip(plan) {
        if s == 0 {
            out.push(*iv);
            continue;
        }
        let (xs, cs) = (&shifts[next..next + s], &counts[next..next + s]);
        next += s;
        let mut lo = iv.lo;
        let mut count_lo = iv.count_lo;
        for t in 0..=s {
            let (hi, count_hi) = if t < s {
                // Counts are monotone in exact arithmetic; clamp rounding noise so parts nest.
                (xs[t], cs[t].clamp(count_lo, iv.count_hi))
            } else {
                (iv.hi, iv.count_hi)
            };
            if count_hi > count_lo && count_lo < wanted {
                out.push(Interval {
                    lo,
                    hi,
                    count_lo,
                    count_hi,
                });
            }
            lo = hi;
            count_lo = count_hi;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finite-difference square well in a box (the reference case of `benches/`), n nodes.
    fn well(n: usize) -> (Vec<f64>, Vec<f64>) {
        let h = 400.0 / (n as f64 + 1.0);
        let diag = (1..=n)
            .map(|i| {
                let x = -200.0 + i as f64 * h;
                1.0 / (h * h) - if x.abs() < 20.0 { 0.1 } else { 0.0 }
            })
            .collect();
        (diag, vec![-0.5 / (h * h); n - 1])
    }

    fn gershgorin(diag: &[f64], off: &[f64]) -> Interval {
        let r = |i: usize| {
            (if i > 0 { off[i - 1].abs() } else { 0.0 }) + off.get(i).map_or(0.0, |e: &f64| e.abs())
        };
        let lo = (0..diag.len())
            .map(|i| diag[i] - r(i))
            .fold(f64::INFINITY, f64::min);
        let hi = (0..diag.len())
            .map(|i| diag[i] + r(i))
            .fold(f64::NEG_INFINITY, f64::max);
        Interval {
            lo: lo - 1e-9,
            hi: hi + 1e-9,
            count_lo: 0,
            count_hi: diag.len(),
        }
    }

    /// Every bracket is what it claims (recounted), the wanted levels are covered once each,
    /// and every solved simple level is tight.
    fn check(diag: &[f64], off: &[f64], goal: &BracketGoal) -> Brackets {
        let sturm = SturmData::new(diag, off);
        let n = diag.len();
        let b = bracket(&sturm, gershgorin(diag, off), goal);
        let ivs = &b.intervals;
        assert_eq!(ivs[0].count_lo, 0);
        assert!(ivs.last().unwrap().count_hi >= goal.wanted);
        for (j, iv) in ivs.iter().enumerate() {
            assert!(iv.lo < iv.hi && iv.count_lo < iv.count_hi, "{iv:?}");
            assert_eq!(sturm.count_below(iv.lo), iv.count_lo, "{iv:?}");
            assert_eq!(sturm.count_below(iv.hi), iv.count_hi, "{iv:?}");
            if j > 0 {
                assert_eq!(ivs[j - 1].count_hi, iv.count_lo);
                assert!(ivs[j - 1].hi <= iv.lo);
            }
            if iv.multiplicity() > 1 {
                assert!(iv.width() <= goal.resolution, "unsplit {iv:?}");
            } else if iv.count_lo < goal.solved {
                assert!(
                    iv.width() <= goal.resolution || is_tight(ivs, j, n, goal.contraction),
                    "loose {iv:?}"
                );
            }
        }
        b
    }

    #[test]
    fn well_levels_are_isolated_and_tight() {
        let (diag, off) = well(20_000);
        let norm = 4.0 * off[0].abs() + 0.2;
        for (k, contraction) in [(1, 0.125), (30, 0.125), (100, 1.0 / 128.0)] {
            let goal = BracketGoal {
                wanted: k + 1,
                solved: k,
                resolution: 8.0 * f64::EPSILON * norm * (20_000f64).sqrt(),
                contraction,
            };
            let b = check(&diag, &off, &goal);
            assert!(b.intervals.iter().all(|iv| iv.multiplicity() == 1));
            assert_eq!(b.intervals.len(), k + 1);
            // Bisection from an isolating bracket to the contraction takes log2(1/contraction)
            // evaluations per level; isolating them from the 1e5-wide spectrum (the wanted
            // levels sit in its bottom 4e-6, found by the geometric shifts) a few more.
            let per_level = (b.sweeps * LANES) as f64 / (k + 1) as f64;
            let bisections = (1.0 / contraction).log2();
            assert!(
                per_level <= bisections + 6.0 || b.sweeps <= 8,
                "{} sweeps for k = {k}",
                b.sweeps
            );
        }
    }

    #[test]
    fn laplacian_brackets_hold_the_exact_eigenvalues() {
        let n = 500;
        let (diag, off) = (vec![2.0; n], vec![-1.0; n - 1]);
        let goal = BracketGoal {
            wanted: n,
            solved: n,
            resolution: 8.0 * f64::EPSILON * 4.0 * (n as f64).sqrt(),
            contraction: 0.125,
        };
        let b = check(&diag, &off, &goal);
        for iv in &b.intervals {
            let j = iv.count_lo;
            let exact =
                2.0 - 2.0 * ((j + 1) as f64 * std::f64::consts::PI / (n as f64 + 1.0)).cos();
            assert!(
                iv.lo < exact && exact <= iv.hi,
                "λ_{j} = {exact} outside {iv:?}"
            );
        }
    }

    #[test]
    fn degenerate_levels_end_as_clusters() {
        // diag [1, 2, 1, 2, ...] with zero couplings: 1 and 2, each 20 times.
        let n = 40;
        let diag: Vec<f64> = (0..n).map(|i| 1.0 + (i % 2) as f64).collect();
        let off = vec![0.0; n - 1];
        let goal = BracketGoal {
            wanted: n,
            solved: n,
            resolution: 8.0 * f64::EPSILON * 2.0 * (n as f64).sqrt(),
            contraction: 0.125,
        };
        let b = check(&diag, &off, &goal);
        let sizes: Vec<usize> = b.intervals.iter().map(Interval::multiplicity).collect();
        assert_eq!(sizes, vec![20, 20]);
    }
}
