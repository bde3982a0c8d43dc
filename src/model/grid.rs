//! Grids on [−L, L] with a node on every breakpoint of the potential.
//!
//! The box is cut at the breakpoints into segments; segment j of length ℓ_j gets
//! n_j = ⌈ℓ_j / h⌉ equal intervals, so every spacing is ≤ the requested h and every breakpoint is
//! a node. When all segments end up with the same spacing the grid is uniform; otherwise it is
//! piecewise uniform and the Hamiltonian uses the symmetrizable three-point (finite-volume)
//! scheme of [`crate::model::hamiltonian`]. The walls x = ±L are nodes where ψ = 0; the unknowns are
//! the interior nodes.

use serde::Serialize;
use thiserror::Error;

/// Largest number of interior nodes a grid may have (memory guard: the Hamiltonian and one
/// vector need ~50 bytes per node).
pub const MAX_NODES: usize = 200_000_000;

/// Why a grid cannot be built.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GridError {
    /// Spacing not positive and finite.
    #[error("the grid spacing must be a positive finite length (bohr), got {0}")]
    Spacing(f64),
    /// Box half-width not positive and finite.
    #[error("the box half-width must be a positive finite length (bohr), got {0}")]
    BoxHalfWidth(f64),
    /// A breakpoint lies outside the open box or is not finite.
    #[error("breakpoint {0} bohr is not strictly inside the box (−{1}, {1}) bohr")]
    Breakpoint(f64, f64),
    /// The grid would be too large.
    #[error(
        "grid.spacing = {spacing:e} bohr in a box of half-width {box_half_width} bohr needs about {:.1e} nodes, more than the limit of {limit}: use grid.spacing >= {:.1e} bohr",
        (2.0 * box_half_width / spacing).max(*nodes as f64),
        crate::resources::round_up_2(2.0 * box_half_width / *limit as f64)
    )]
    TooLarge {
        /// Requested spacing (bohr).
        spacing: f64,
        /// Box half-width (bohr).
        box_half_width: f64,
        /// Nodes it would need.
        nodes: usize,
        /// The limit [`MAX_NODES`].
        limit: usize,
    },
}

/// One uniform stretch of the grid between two consecutive breakpoints (or walls).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// Left end (bohr).
    pub start: f64,
    /// Right end (bohr).
    pub end: f64,
    /// Number of equal intervals.
    pub intervals: usize,
}

impl Segment {
    /// Spacing of this segment (bohr).
    pub fn spacing(&self) -> f64 {
        (self.end - self.start) / self.intervals as f64
    }
}

/// A piecewise-uniform grid on [−L, L] aligned to breakpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    segments: Vec<Segment>,
    /// All nodes, walls included: x_0 = −L, …, x_{N+1} = L.
    nodes: Vec<f64>,
}

/// Relative tolerance under which ℓ/h counts as a whole number (so h = 0.25 on ℓ = 180 gives
/// exactly 720 intervals despite rounding in the division).
const WHOLE_TOLERANCE: f64 = 1e-9;

impl Grid {
    /// Builds the grid: nodes on −L, every breakpoint and L, spacing ≤ `max_spacing` everywhere.
    pub fn aligned(
        box_half_width: f64,
        breakpoints: &[f64],
        max_spacing: f64,
    ) -> Result<Self, GridError> {
        Ok(Self::from_segments(Self::aligned_segments(
            box_half_width,
            breakpoints,
            max_spacing,
        )?))
    }

    /// The uniform segments [`Grid::aligned`] would build (without its nodes): every check of
    /// `aligned` is made, so this sizes a grid before it is allocated.
    pub fn aligned_segments(
        box_half_width: f64,
        breakpoints: &[f64],
        max_spacing: f64,
    ) -> Result<Vec<Segment>, GridError> {
        Self::segments_between(-box_half_width, box_half_width, breakpoints, max_spacing)
    }

    /// The radial grid on [0, R] (R = `radius`, bohr) with a node on every breakpoint in (0, R)
    /// and spacing ≤ `max_spacing`: nodes r_0 = 0, …, r_{N+1} = R.
    pub fn aligned_radial(
        radius: f64,
        breakpoints: &[f64],
        max_spacing: f64,
    ) -> Result<Self, GridError> {
        Ok(Self::from_segments(Self::segments_between(
            0.0,
            radius,
            breakpoints,
            max_spacing,
        )?))
    }

    /// The uniform segments of [`Grid::aligned_radial`], without its nodes (for sizing).
    pub fn aligned_radial_segments(
        radius: f64,
        breakpoints: &[f64],
        max_spacing: f64,
    ) -> Result<Vec<Segment>, GridError> {
        Self::segments_between(0.0, radius, breakpoints, max_spacing)
    }

    /// Segments of [`start`, `end`] cut at `breakpoints` (strictly inside), each with equal
    /// intervals ≤ `max_spacing`. `end` is the box half-width or the radius (its errors name it).
    fn segments_between(
        start: f64,
        end: f64,
        breakpoints: &[f64],
        max_spacing: f64,
    ) -> Result<Vec<Segment>, GridError> {
        let box_half_width = end;
        if !(box_half_width.is_finite() && box_half_width > 0.0) {
            return Err(GridError::BoxHalfWidth(box_half_width));
        }
        if !(max_spacing.is_finite() && max_spacing > 0.0) {
            return Err(GridError::Spacing(max_spacing));
        }
        let mut cuts = vec![start];
        let mut inner: Vec<f64> = breakpoints.to_vec();
        for &b in &inner {
            if !(b.is_finite() && b > start && b < end) {
                return Err(GridError::Breakpoint(b, box_half_width));
            }
        }
        inner.sort_by(f64::total_cmp);
        inner.dedup();
        cuts.extend(inner);
        cuts.push(end);
        let mut segments = Vec::with_capacity(cuts.len() - 1);
        let mut total = 0usize;
        for w in cuts.windows(2) {
            let ratio = (w[1] - w[0]) / max_spacing;
            let whole = ratio.round();
            let intervals = if (ratio - whole).abs() <= WHOLE_TOLERANCE * ratio.max(1.0) {
                whole.max(1.0)
            } else {
                ratio.ceil()
            };
            if intervals > MAX_NODES as f64 {
                return Err(GridError::TooLarge {
                    spacing: max_spacing,
                    box_half_width,
                    nodes: usize::MAX,
                    limit: MAX_NODES,
                });
            }
            let intervals = intervals as usize;
            total += intervals;
            segments.push(Segment {
                start: w[0],
                end: w[1],
                intervals,
            });
        }
        if total > MAX_NODES {
            return Err(GridError::TooLarge {
                spacing: max_spacing,
                box_half_width,
                nodes: total,
                limit: MAX_NODES,
            });
        }
        Ok(segments)
    }

    fn from_segments(segments: Vec<Segment>) -> Self {
        let total: usize = segments.iter().map(|s| s.intervals).sum();
        let mut nodes = Vec::with_capacity(total + 1);
        for s in &segments {
            let len = s.end - s.start;
            // Interpolate from both ends so the breakpoint nodes are exact.
            for i in 0..s.intervals {
                let t = i as f64 / s.intervals as f64;
                nodes.push(if t <= 0.5 {
                    s.start + len * t
                } else {
                    s.end - len * (1.0 - t)
                });
            }
        }
        nodes.push(segments.last().map_or(0.0, |s| s.end));
        Self { segments, nodes }
    }

    /// The same breakpoints with every segment's intervals multiplied by `factor` (nested grids
    /// for convergence studies: h, h/2, h/4, …).
    pub fn refined(&self, factor: usize) -> Self {
        let factor = factor.max(1);
        Self::from_segments(
            self.segments
                .iter()
                .map(|s| Segment {
                    intervals: s.intervals * factor,
                    ..s.clone()
                })
                .collect(),
        )
    }

    /// The uniform segments, left to right.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// All nodes including the walls, ascending (bohr).
    pub fn nodes(&self) -> &[f64] {
        &self.nodes
    }

    /// The interior nodes (the unknowns), ascending (bohr).
    pub fn interior(&self) -> &[f64] {
        &self.nodes[1..self.nodes.len() - 1]
    }

    /// Number of interior nodes N (the matrix dimension).
    pub fn interior_len(&self) -> usize {
        self.nodes.len() - 2
    }

    /// Largest spacing (bohr).
    pub fn max_spacing(&self) -> f64 {
        self.segments
            .iter()
            .map(Segment::spacing)
            .fold(0.0, f64::max)
    }

    /// Smallest spacing (bohr).
    pub fn min_spacing(&self) -> f64 {
        self.segments
            .iter()
            .map(Segment::spacing)
            .fold(f64::INFINITY, f64::min)
    }

    /// True when every segment has the same spacing (to 1e-12 relative).
    pub fn is_uniform(&self) -> bool {
        let (lo, hi) = (self.min_spacing(), self.max_spacing());
        hi - lo <= 1e-12 * hi
    }

    /// Spacing of interval i, between nodes i and i + 1 (bohr); i = 0..=N.
    pub fn interval_widths(&self) -> Vec<f64> {
        self.nodes.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// Dual-cell width w_i = (h_{i−½} + h_{i+½}) / 2 of each interior node (bohr): the
    /// quadrature weight of node i, so Σ w_i f(x_i) ≈ ∫ f dx.
    pub fn dual_widths(&self) -> Vec<f64> {
        self.nodes.windows(3).map(|w| 0.5 * (w[2] - w[0])).collect()
    }

    /// Summary for metadata and JSON output.
    pub fn summary(&self) -> GridSummary {
        GridSummary {
            interior_nodes: self.interior_len(),
            uniform: self.is_uniform(),
            min_spacing: self.min_spacing(),
            max_spacing: self.max_spacing(),
            segment_count: self.segments.len(),
            segments: if self.segments.len() <= MAX_LISTED_SEGMENTS {
                self.segments.clone()
            } else {
                Vec::new()
            },
        }
    }
}

/// What a grid is, for reports (lengths in bohr).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridSummary {
    /// Number of interior nodes (matrix dimension).
    pub interior_nodes: usize,
    /// Whether all spacings are equal.
    pub uniform: bool,
    /// Smallest spacing (bohr).
    pub min_spacing: f64,
    /// Largest spacing (bohr).
    pub max_spacing: f64,
    /// Number of uniform segments.
    pub segment_count: usize,
    /// The uniform segments, when there are at most [`MAX_LISTED_SEGMENTS`] (a tabulated
    /// potential makes every row a node: its grid is summarized, not listed).
    pub segments: Vec<Segment>,
}

/// Largest number of segments a [`GridSummary`] lists one by one.
pub const MAX_LISTED_SEGMENTS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_case_is_uniform_with_nodes_on_the_well_edges() {
        let g = Grid::aligned(200.0, &[-20.0, 20.0], 0.25).unwrap();
        assert!(g.is_uniform());
        assert_eq!(g.interior_len(), 1599);
        assert!(g.nodes().contains(&-20.0) && g.nodes().contains(&20.0));
        assert_eq!(g.nodes()[0], -200.0);
        assert_eq!(*g.nodes().last().unwrap(), 200.0);
        assert!((g.max_spacing() - 0.25).abs() < 1e-15);
    }

    #[test]
    fn incommensurate_breakpoints_give_a_piecewise_uniform_grid() {
        let g = Grid::aligned(10.0, &[-3.3, 1.0 / 3.0], 0.25).unwrap();
        assert!(!g.is_uniform());
        assert!(g.max_spacing() <= 0.25);
        for b in [-3.3, 1.0 / 3.0] {
            assert!(g.nodes().contains(&b), "breakpoint {b} is not a node");
        }
        let widths = g.dual_widths();
        let total: f64 = widths.iter().sum::<f64>()
            + 0.5 * (g.nodes()[1] - g.nodes()[0])
            + 0.5 * (g.nodes()[g.nodes().len() - 1] - g.nodes()[g.nodes().len() - 2]);
        assert!((total - 20.0).abs() < 1e-12);
    }

    #[test]
    fn refinement_nests_and_keeps_breakpoints() {
        let g = Grid::aligned(10.0, &[-3.3, 1.0 / 3.0], 0.25).unwrap();
        let f = g.refined(4);
        assert_eq!(f.interior_len() + 1, 4 * (g.interior_len() + 1));
        for x in g.nodes() {
            assert!(f.nodes().iter().any(|y| (x - y).abs() < 1e-13), "{x} lost");
        }
    }

    #[test]
    fn bad_grids_are_errors() {
        assert!(Grid::aligned(10.0, &[], 0.0).is_err());
        assert!(Grid::aligned(10.0, &[], f64::NAN).is_err());
        assert!(Grid::aligned(10.0, &[10.0], 0.1).is_err());
        assert!(Grid::aligned(-1.0, &[], 0.1).is_err());
        assert!(matches!(
            Grid::aligned(1e6, &[], 1e-6),
            Err(GridError::TooLarge { .. })
        ));
    }
}
