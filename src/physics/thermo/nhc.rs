//! Negative-heat-capacity intervals: energy ranges over which a temperature curve T(E) falls.
//!
//! C = dE/dT < 0 wherever T decreases while E increases; the paper's result (figs. 3–4) is a
//! drop of T^(μ), T^(K) or T_E^(K) as the particles leave the central well. [`nhc_intervals`]
//! finds these drops on sampled curves (E_k, T_k), E and T in Hartree:
//!
//! 1. **Order and ties.** Points are sorted by energy (stable, so equal energies keep input
//!    order). Points with exactly equal energy (`==`) are merged into one point whose
//!    temperature is the mean of their defined temperatures: the average over an exactly
//!    degenerate set, i.e. eq. (6) with ε → 0⁺. A drop between states at equal energy is
//!    therefore never an interval of E, and the result does not depend on the input order.
//! 2. **Gaps.** Points without a temperature (None, e.g. empty windows of T_E^(K) or the ends of
//!    a centered T^(μ)) are skipped and the defined points on either side are compared
//!    directly, whatever the gap width: on a grid finer than the level spacing most windows are
//!    empty, and breaking runs there would cut every drop apart. Each interval reports how many
//!    skipped energies lie inside it (`gaps`) so a caller can reject bridged intervals.
//! 3. **Steps.** Between consecutive defined points, a step is *down* if
//!    T_{k+1} < T_k − rel_tol·max(|T_k|, |T_{k+1}|), *up* if T_{k+1} > T_k + rel_tol·max(…),
//!    and *flat* otherwise (rounding noise of equal temperatures, or two windows holding the
//!    same states).
//! 4. **Intervals.** A maximal run of consecutive down-or-flat steps that contains at least one
//!    down step is one interval, trimmed to start at the first down step and end at the last;
//!    flat steps inside the run are kept (a plateau does not split one drop in two). Intervals
//!    whose total drop is not above rel_tol·|t_start| are discarded. `rel_tol` acts per step:
//!    choose it below the smallest physical step (1e-9 is a good default).

use super::ThermoError;
use serde::Serialize;

/// One energy interval over which the temperature falls (negative heat capacity).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NhcInterval {
    /// Energy where the fall starts (Hartree).
    pub e_start: f64,
    /// Energy where the fall ends (Hartree).
    pub e_end: f64,
    /// Temperature at `e_start` (Hartree).
    pub t_start: f64,
    /// Temperature at `e_end` (Hartree).
    pub t_end: f64,
    /// t_start − t_end > 0 (Hartree).
    pub drop: f64,
    /// drop / |t_start| (dimensionless).
    pub relative_drop: f64,
    /// Number of defined (merged) points in the interval, both ends included (≥ 2).
    pub points: usize,
    /// Number of skipped energies without a temperature strictly inside the interval.
    pub gaps: usize,
    /// Index in the input of the start point (smallest input index among equal energies).
    pub start_index: usize,
    /// Index in the input of the end point (smallest input index among equal energies).
    pub end_index: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Down,
    Flat,
    Up,
}

/// Negative-heat-capacity intervals of the curve `points` = (E, T) (Hartree) with per-step
/// relative tolerance `rel_tol` (dimensionless, 0 ≤ rel_tol < 1); see the module docs for the
/// treatment of ties and gaps.
pub fn nhc_intervals(
    points: &[(f64, Option<f64>)],
    rel_tol: f64,
) -> Result<Vec<NhcInterval>, ThermoError> {
    nhc_intervals_by(points.len(), |i| points[i], rel_tol)
}

/// [`nhc_intervals`] of the curve of `len` points given one at a time, `point(i)` = (E_i, T_i)
/// (Hartree): for curves stored as separate columns, without building the pairs.
pub fn nhc_intervals_by(
    len: usize,
    point: impl Fn(usize) -> (f64, Option<f64>),
    rel_tol: f64,
) -> Result<Vec<NhcInterval>, ThermoError> {
    if !(rel_tol.is_finite() && (0.0..1.0).contains(&rel_tol)) {
        return Err(ThermoError::InvalidParameter {
            name: "the relative tolerance rel_tol",
            expected: "a finite number in [0, 1)",
            value: rel_tol,
        });
    }
    for index in 0..len {
        let (energy, temperature) = point(index);
        if !energy.is_finite() || temperature.is_some_and(|t| !t.is_finite()) {
            return Err(ThermoError::NonFinitePoint {
                index,
                energy,
                temperature,
            });
        }
    }
    // Sorted curves (the usual case: grids and state lists ascend) keep their order, which is
    // what the stable sort would give, without an index vector.
    let energy = |i: usize| point(i).0;
    let ascending = (1..len).all(|i| energy(i - 1).total_cmp(&energy(i)).is_le());
    let order: Option<Vec<usize>> = (!ascending).then(|| {
        let mut order: Vec<usize> = (0..len).collect();
        order.sort_by(|&i, &j| energy(i).total_cmp(&energy(j)));
        order
    });
    let sorted = |r: usize| order.as_ref().map_or(r, |o| o[r]);

    let classify = |a: f64, b: f64| {
        let tol = rel_tol * a.abs().max(b.abs());
        if b < a - tol {
            Step::Down
        } else if b > a + tol {
            Step::Up
        } else {
            Step::Flat
        }
    };
    let interval = |start: &Defined, end: &Defined| {
        let drop = start.temperature - end.temperature;
        (drop > rel_tol * start.temperature.abs() && drop > 0.0).then(|| NhcInterval {
            e_start: start.energy,
            e_end: end.energy,
            t_start: start.temperature,
            t_end: end.temperature,
            drop,
            relative_drop: drop / start.temperature.abs(),
            points: end.rank + 1 - start.rank,
            gaps: end.undefined_before - start.undefined_before,
            start_index: start.index,
            end_index: end.index,
        })
    };

    // One pass over the defined merged points: each interval needs a down step and the next one
    // an up step in between, so there are at most half as many intervals as points (the
    // capacity not used is never touched and is released at the end).
    let mut intervals = Vec::with_capacity(len / 2 + 1);
    let mut previous: Option<Defined> = None;
    // (start point, end point) of the current run: the ends of its first and last down steps.
    let mut run: Option<(Defined, Defined)> = None;
    for next in DefinedPoints::new(len, |r| point(sorted(r)), sorted) {
        if let Some(prev) = previous {
            match classify(prev.temperature, next.temperature) {
                Step::Down => {
                    run = Some(match run {
                        Some((start, _)) => (start, next),
                        None => (prev, next),
                    });
                }
                Step::Flat => {}
                Step::Up => {
                    if let Some((start, end)) = run.take() {
                        intervals.extend(interval(&start, &end));
                    }
                }
            }
        }
        previous = Some(next);
    }
    if let Some((start, end)) = run {
        intervals.extend(interval(&start, &end));
    }
    intervals.shrink_to_fit();
    Ok(intervals)
}

/// A point of the curve after sorting and merging equal energies, with a temperature.
#[derive(Clone, Copy)]
struct Defined {
    /// Merged points without a temperature before this one.
    undefined_before: usize,
    /// Defined merged points before this one.
    rank: usize,
    energy: f64,
    /// Mean of the defined temperatures of the merged points.
    temperature: f64,
    /// Smallest input index among the merged points.
    index: usize,
}

/// The defined merged points of a curve of `len` points in ascending energy, one at a time:
/// `at(r)` is the point (E, T) of rank r in the sorted order and `sorted(r)` its input index;
/// exactly equal energies are merged.
struct DefinedPoints<P, S> {
    len: usize,
    at: P,
    sorted: S,
    /// Rank in the sorted order of the next point to read.
    next: usize,
    undefined: usize,
    rank: usize,
}

impl<P: Fn(usize) -> (f64, Option<f64>), S: Fn(usize) -> usize> DefinedPoints<P, S> {
    fn new(len: usize, at: P, sorted: S) -> Self {
        Self {
            len,
            at,
            sorted,
            next: 0,
            undefined: 0,
            rank: 0,
        }
    }
}

impl<P: Fn(usize) -> (f64, Option<f64>), S: Fn(usize) -> usize> Iterator for DefinedPoints<P, S> {
    type Item = Defined;

    fn next(&mut self) -> Option<Defined> {
        while self.next < self.len {
            let energy = (self.at)(self.next).0;
            let (mut sum, mut count, mut index) = (0.0, 0usize, usize::MAX);
            while self.next < self.len {
                let (e, temperature) = (self.at)(self.next);
                if e != energy {
                    break;
                }
                index = index.min((self.sorted)(self.next));
                if let Some(t) = temperature {
                    sum += t;
                    count += 1;
                }
                self.next += 1;
            }
            if count > 0 {
                let point = Defined {
                    undefined_before: self.undefined,
                    rank: self.rank,
                    energy,
                    temperature: sum / count as f64,
                    index,
                };
                self.rank += 1;
                return Some(point);
            }
            self.undefined += 1;
        }
        None
    }
}

/// The interval with the largest absolute drop t_start − t_end (Hartree); among drops within
/// 1e-12 of the largest |t_start| of the largest one, the first. The tolerance is ~1e4 times
/// the rounding of a temperature, so which of two drops equal in exact arithmetic is named does
/// not depend on the last bits of ⟨K⟩; no physical difference of drops is that small.
pub fn largest_drop(intervals: &[NhcInterval]) -> Option<&NhcInterval> {
    let largest = intervals
        .iter()
        .map(|x| x.drop)
        .fold(f64::NEG_INFINITY, f64::max);
    let scale = intervals
        .iter()
        .map(|x| x.t_start.abs())
        .fold(0.0, f64::max);
    intervals.iter().find(|x| x.drop >= largest - 1e-12 * scale)
}

/// What is left of a set of intervals after the listed ones: how many, their span and their
/// largest drops (Hartree; dimensionless for the relative drop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NhcRemainder {
    /// Number of intervals summarized.
    pub count: usize,
    /// Smallest e_start among them (Hartree).
    pub e_min: f64,
    /// Largest e_end among them (Hartree).
    pub e_max: f64,
    /// Largest t_start − t_end among them (Hartree).
    pub largest_drop: f64,
    /// Largest relative drop among them (dimensionless).
    pub largest_relative_drop: f64,
}

impl NhcRemainder {
    /// The summary of both sets of intervals.
    pub fn merge(self, other: Self) -> Self {
        Self {
            count: self.count + other.count,
            e_min: self.e_min.min(other.e_min),
            e_max: self.e_max.max(other.e_max),
            largest_drop: self.largest_drop.max(other.largest_drop),
            largest_relative_drop: self.largest_relative_drop.max(other.largest_relative_drop),
        }
    }

    /// Adds one interval to the summary (`None` starts one).
    fn add(summary: Option<Self>, i: &NhcInterval) -> Self {
        match summary {
            None => Self {
                count: 1,
                e_min: i.e_start,
                e_max: i.e_end,
                largest_drop: i.drop,
                largest_relative_drop: i.relative_drop,
            },
            Some(s) => Self {
                count: s.count + 1,
                e_min: s.e_min.min(i.e_start),
                e_max: s.e_max.max(i.e_end),
                largest_drop: s.largest_drop.max(i.drop),
                largest_relative_drop: s.largest_relative_drop.max(i.relative_drop),
            },
        }
    }
}

/// Which intervals a table lists: those whose relative drop is at least `min_relative_drop`
/// (dimensionless) and, of those, at most `max_listed`: the ones with the largest drop
/// t_start − t_end (ties: the lower energy first). Returns them in input order, and a summary
/// of all the others (`None` when there are none).
///
/// The cap exists for many-particle spectra: an enumerated N = 4 spectrum has tens of thousands
/// of near-degenerate states whose per-state T^(μ) saw-tooths between neighbours; a table of
/// every such tooth is megabytes of noise around the few drops that carry the physics.
pub fn select_intervals(
    intervals: &[NhcInterval],
    min_relative_drop: f64,
    max_listed: usize,
) -> (Vec<&NhcInterval>, Option<NhcRemainder>) {
    let mut candidates: Vec<usize> = (0..intervals.len())
        .filter(|&k| intervals[k].relative_drop >= min_relative_drop)
        .collect();
    if candidates.len() > max_listed {
        // Stable: equal drops keep input (energy) order.
        candidates.sort_by(|&a, &b| intervals[b].drop.total_cmp(&intervals[a].drop));
        candidates.truncate(max_listed);
        candidates.sort_unstable();
    }
    let mut listed = Vec::with_capacity(candidates.len());
    let mut rest = None;
    let mut next = candidates.iter().peekable();
    for (k, i) in intervals.iter().enumerate() {
        if next.peek() == Some(&&k) {
            next.next();
            listed.push(i);
        } else {
            rest = Some(NhcRemainder::add(rest, i));
        }
    }
    (listed, rest)
}

#[cfg(test)]
mod split_tests {
    use super::*;

    fn interval(e_start: f64, e_end: f64, t_start: f64, t_end: f64) -> NhcInterval {
        NhcInterval {
            e_start,
            e_end,
            t_start,
            t_end,
            drop: t_start - t_end,
            relative_drop: (t_start - t_end) / t_start,
            points: 2,
            gaps: 0,
            start_index: 0,
            end_index: 1,
        }
    }

    #[test]
    fn intervals_below_the_threshold_are_summarized() {
        let all = [
            interval(0.0, 1.0, 1.0, 0.1),   // 90 %
            interval(2.0, 3.0, 1.0, 0.95),  // 5 %
            interval(-1.0, -0.5, 2.0, 1.0), // 50 %
            interval(4.0, 6.0, 1.0, 0.85),  // 15 %
        ];
        let (listed, rest) = select_intervals(&all, 0.5, usize::MAX);
        assert_eq!(listed, [&all[0], &all[2]]);
        let rest = rest.unwrap();
        assert_eq!(rest.count, 2);
        assert_eq!((rest.e_min, rest.e_max), (2.0, 6.0));
        assert!((rest.largest_drop - 0.15).abs() < 1e-15);
        assert!((rest.largest_relative_drop - 0.15).abs() < 1e-15);
        let (listed, rest) = select_intervals(&all, 0.0, usize::MAX);
        assert_eq!(listed.len(), 4);
        assert_eq!(rest, None);
        let (listed, rest) = select_intervals(&all, 1.0, usize::MAX);
        assert!(listed.is_empty());
        assert_eq!(rest.unwrap().count, 4);
    }

    #[test]
    fn the_cap_keeps_the_largest_drops_in_energy_order() {
        let all = [
            interval(0.0, 1.0, 1.0, 0.1),  // drop 0.9
            interval(2.0, 3.0, 3.0, 0.2),  // drop 2.8
            interval(4.0, 5.0, 2.0, 0.1),  // drop 1.9
            interval(6.0, 7.0, 1.0, 0.05), // drop 0.95
            interval(8.0, 9.0, 1.0, 0.9),  // 10 %: below the threshold
        ];
        let (listed, rest) = select_intervals(&all, 0.5, 2);
        assert_eq!(listed, [&all[1], &all[2]]);
        let rest = rest.unwrap();
        assert_eq!(rest.count, 3);
        assert_eq!((rest.e_min, rest.e_max), (0.0, 9.0));
        assert!((rest.largest_drop - 0.95).abs() < 1e-15);
        let (listed, rest) = select_intervals(&all, 0.5, 0);
        assert!(listed.is_empty());
        assert_eq!(rest.unwrap().count, 5);
        // A cap that is not reached changes nothing.
        assert_eq!(
            select_intervals(&all, 0.5, 4),
            select_intervals(&all, 0.5, usize::MAX)
        );
    }
}
