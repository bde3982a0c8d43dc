//! Line simplification in pixel space: per-pixel-column extremes for very long runs,
//! Ramer–Douglas–Peucker to within a fraction of a pixel, and cutting thick lines at sharp
//! turns.

use super::style::SIMPLIFY_TOLERANCE_PX;

/// Ramer–Douglas–Peucker simplification in pixel space: drops points that lie within
/// `tolerance` pixels of the polyline through the kept ones. Dense curves (thousands of grid
/// points) then draw as fewer, longer segments, which avoids the ragged look of thick
/// non-antialiased lines made of many sub-pixel segments, and keeps SVG files small.
pub(super) fn simplify(
    run: &[(f64, f64)],
    to_pixels: &impl Fn(&(f64, f64)) -> (f64, f64),
    tolerance: f64,
) -> Vec<(f64, f64)> {
    if run.len() <= 2 {
        return run.to_vec();
    }
    let px: Vec<(f64, f64)> = run.iter().map(to_pixels).collect();
    let mut keep = vec![false; run.len()];
    keep[0] = true;
    keep[run.len() - 1] = true;
    let mut stack = vec![(0usize, run.len() - 1)];
    while let Some((first, last)) = stack.pop() {
        if last <= first + 1 {
            continue;
        }
        let (ax, ay) = px[first];
        let (bx, by) = px[last];
        let (dx, dy) = (bx - ax, by - ay);
        let len = (dx * dx + dy * dy).sqrt();
        let mut worst = (0.0f64, first);
        for (k, &(x, y)) in px.iter().enumerate().take(last).skip(first + 1) {
            // Distance to the segment (not the infinite line), so curves that turn back
            // are kept.
            let t = if len > 0.0 {
                (((x - ax) * dx + (y - ay) * dy) / (len * len)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let d = ((x - ax - t * dx).powi(2) + (y - ay - t * dy).powi(2)).sqrt();
            if d > worst.0 {
                worst = (d, k);
            }
        }
        if worst.0 > tolerance {
            keep[worst.1] = true;
            stack.push((first, worst.1));
            stack.push((worst.1, last));
        }
    }
    run.iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// Runs longer than this many points per pixel column of the plotting area are first reduced
/// to their per-column extremes ([`column_extremes`]).
pub(super) const COLUMN_DECIMATION_PER_PX: usize = 4;

/// The points of a line run as drawn: very long runs (millions of points) reduced to the first,
/// lowest, highest and last point of each pixel column, then Ramer–Douglas–Peucker
/// simplification ([`simplify`]). Runs of fewer than `COLUMN_DECIMATION_PER_PX` points per pixel
/// column go straight to `simplify`.
pub(super) fn line_points(
    run: &[(f64, f64)],
    to_pixels: &impl Fn(&(f64, f64)) -> (f64, f64),
    width_px: usize,
) -> Vec<(f64, f64)> {
    if run.len() > COLUMN_DECIMATION_PER_PX * width_px.max(1) {
        simplify(
            &column_extremes(run, to_pixels),
            to_pixels,
            SIMPLIFY_TOLERANCE_PX,
        )
    } else {
        simplify(run, to_pixels, SIMPLIFY_TOLERANCE_PX)
    }
}

/// Pixel-column decimation of a polyline: each stretch of consecutive points that fall in the
/// same pixel column is replaced by its first, lowest, highest and last point (in their
/// original order), which draws the same pixels up to one pixel horizontally.
pub(super) fn column_extremes(
    run: &[(f64, f64)],
    to_pixels: &impl Fn(&(f64, f64)) -> (f64, f64),
) -> Vec<(f64, f64)> {
    let px: Vec<(f64, f64)> = run.iter().map(to_pixels).collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < run.len() {
        let column = px[start].0.floor();
        let (mut low, mut high) = (start, start);
        let mut end = start + 1;
        while end < run.len() && px[end].0.floor() == column {
            if px[end].1 > px[low].1 {
                low = end;
            }
            if px[end].1 < px[high].1 {
                high = end;
            }
            end += 1;
        }
        let mut keep = [start, low, high, end - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(run[k]);
                last = k;
            }
        }
        start = end;
    }
    out
}

pub(super) type Polyline = Vec<(f64, f64)>;

/// Cuts a polyline into pieces whose thick outline (as plotters builds it, with mitred joins)
/// cannot fold over itself: a piece ends at a vertex where the line turns by more than 60°,
/// or turns at all next to a segment shorter than twice the line width. Consecutive pieces
/// share that vertex, which is also returned (to be covered by a disk). A smooth curve stays
/// one piece.
pub(super) fn split_at_sharp_turns(
    run: &[(f64, f64)],
    to_pixels: &impl Fn(&(f64, f64)) -> (f64, f64),
    width: f64,
) -> (Vec<Polyline>, Polyline) {
    let px: Vec<(f64, f64)> = run.iter().map(to_pixels).collect();
    let mut pieces = Vec::new();
    let mut joints = Vec::new();
    let mut current = vec![run[0]];
    for i in 1..run.len() {
        current.push(run[i]);
        if i + 1 == run.len() {
            break;
        }
        let a = (px[i].0 - px[i - 1].0, px[i].1 - px[i - 1].1);
        let b = (px[i + 1].0 - px[i].0, px[i + 1].1 - px[i].1);
        let (la, lb) = (a.0.hypot(a.1), b.0.hypot(b.1));
        let cos = if la > 0.0 && lb > 0.0 {
            (a.0 * b.0 + a.1 * b.1) / (la * lb)
        } else {
            1.0
        };
        let short = la.min(lb) < 2.0 * width;
        if cos < 0.5 || (short && cos < 0.999) {
            pieces.push(std::mem::replace(&mut current, vec![run[i]]));
            joints.push(run[i]);
        }
    }
    pieces.push(current);
    (pieces, joints)
}
