//! Piecewise potentials V(x) inside the hard-wall box [−L, L].
//!
//! A potential is an ordered list of non-overlapping pieces, each an interval [from, to] with a
//! shape: constant, linear, harmonic ½k(x − x₀)² + V₀, Woods–Saxon −U₀ / (1 + e^{(|x − x₀| − a)/w})
//! or a table of rows (x_i, V_i) interpolated linearly; outside every piece V = 0, and the walls
//! at ±L are infinite (ψ(±L) = 0). Every piece end strictly inside the box, and every interior
//! row of a table (a kink of V), is a *breakpoint*: the grid puts a node on it and the node takes
//! the average of V over its dual cell, V = (h₋V(x⁻) + h₊V(x⁺))/(h₋ + h₊) with h∓ the spacings
//! on either side — the mean ½[V(x⁻) + V(x⁺)] on a uniform grid. This keeps the
//! finite-difference eigenvalues second-order accurate across jumps (docs/NUMERICS.md); on a
//! piecewise-uniform grid the plain mean would leave an O(h) error ∝ (h₊ − h₋)·\[V\].
//!
//! A piece may carry its own effective mass (BenDaniel–Duke, H = −½ d/dx (1/m(x)) d/dx + V);
//! pieces without one, and the region outside every piece, use the system mass. Mass jumps sit at
//! piece ends, hence on breakpoints, so every grid interval lies inside one region and takes its
//! mass ([`Potential::mass_on_interval`]).

pub mod presets;
pub mod tabulated;

use serde::Serialize;
use thiserror::Error;

/// The functional form of V on one piece (energies in Hartree, lengths in bohr).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    /// V(x) = value.
    Constant {
        /// Potential energy on the piece (Hartree).
        value: f64,
    },
    /// Linear ramp from `start` at the left end to `end` at the right end (Hartree).
    Linear {
        /// V at the piece's left end (Hartree).
        start: f64,
        /// V at the piece's right end (Hartree).
        end: f64,
    },
    /// V(x) = ½ k (x − x₀)² + V₀.
    Harmonic {
        /// Spring constant k (Hartree / bohr²).
        spring: f64,
        /// Centre x₀ (bohr).
        center: f64,
        /// Offset V₀ (Hartree).
        offset: f64,
    },
    /// Woods–Saxon well V(x) = −depth / (1 + exp((|x − center| − radius) / edge_width)): flat
    /// at ≈ −depth inside, −depth/2 at |x − center| = radius, smooth edges of width edge_width.
    WoodsSaxon {
        /// Depth U₀ (Hartree).
        depth: f64,
        /// Half-width a at half depth (bohr).
        radius: f64,
        /// Edge (diffuseness) width w > 0 (bohr).
        edge_width: f64,
        /// Centre x₀ (bohr).
        center: f64,
    },
    /// Rows [x_i, V_i] (bohr, Hartree), x strictly increasing from the piece's `from` to its
    /// `to`; V is linear between consecutive rows.
    Tabulated {
        /// The rows [x (bohr), V (Hartree)], at least two (serialized as a digest).
        #[serde(serialize_with = "crate::model::potential::tabulated::serialize_digest")]
        table: Vec<[f64; 2]>,
    },
}

/// V(x) of the Woods–Saxon well (Hartree); never NaN (exp overflow gives 0).
fn woods_saxon(depth: f64, radius: f64, edge_width: f64, center: f64, x: f64) -> f64 {
    -depth / (1.0 + (((x - center).abs() - radius) / edge_width).exp())
}

/// Linear interpolation in the rows of a table at x, clamped to the end rows (Hartree).
fn interpolate(table: &[[f64; 2]], x: f64) -> f64 {
    let j = table.partition_point(|r| r[0] < x);
    if j == 0 {
        return table.first().map_or(0.0, |r| r[1]);
    }
    if j == table.len() {
        return table[j - 1][1];
    }
    let ([x0, v0], [x1, v1]) = (table[j - 1], table[j]);
    if x1 == x {
        return v1;
    }
    let t = (x - x0) / (x1 - x0);
    v0 + (v1 - v0) * t
}

/// One interval [from, to] (bohr) of the potential with its shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Piece {
    /// Left end (bohr).
    pub from: f64,
    /// Right end (bohr).
    pub to: f64,
    /// V on (from, to).
    #[serde(flatten)]
    pub shape: Shape,
    /// Effective mass on (from, to) (mₑ); `None` means the system mass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mass: Option<f64>,
}

impl Piece {
    /// V(x) of this piece's formula at x (Hartree), also used for the one-sided limits at its ends.
    pub fn value(&self, x: f64) -> f64 {
        match self.shape {
            Shape::Constant { value } => value,
            Shape::Linear { start, end } => {
                let t = (x - self.from) / (self.to - self.from);
                start + (end - start) * t
            }
            Shape::Harmonic {
                spring,
                center,
                offset,
            } => 0.5 * spring * (x - center) * (x - center) + offset,
            Shape::WoodsSaxon {
                depth,
                radius,
                edge_width,
                center,
            } => woods_saxon(depth, radius, edge_width, center, x),
            Shape::Tabulated { ref table } => interpolate(table, x),
        }
    }

    /// Smallest value of V on the piece (Hartree).
    pub fn min_value(&self) -> f64 {
        let ends = self.value(self.from).min(self.value(self.to));
        match self.shape {
            Shape::Harmonic {
                spring,
                center,
                offset,
            } if spring > 0.0 && center > self.from && center < self.to => offset.min(ends),
            // |V| grows towards the centre (depth > 0) or shrinks (depth < 0): the extreme is
            // at the point of the piece nearest the centre, or at an end.
            Shape::WoodsSaxon { center, .. } => {
                self.value(center.clamp(self.from, self.to)).min(ends)
            }
            Shape::Tabulated { ref table } => table.iter().map(|r| r[1]).fold(ends, f64::min),
            _ => ends,
        }
    }

    /// Points strictly inside the piece where its formula has a kink: the interior rows of a
    /// table (bohr, ascending); empty for the other shapes.
    pub fn kinks(&self) -> Vec<f64> {
        match &self.shape {
            Shape::Tabulated { table } if table.len() > 2 => {
                table[1..table.len() - 1].iter().map(|r| r[0]).collect()
            }
            _ => Vec::new(),
        }
    }

    fn check(&self, index: usize, box_half_width: f64) -> Result<(), PotentialError> {
        let bad = |reason: String| PotentialError::Piece { index, reason };
        let numbers: Vec<(&str, f64)> = match self.shape {
            Shape::Constant { value } => vec![("value", value)],
            Shape::Linear { start, end } => vec![("start", start), ("end", end)],
            Shape::Harmonic {
                spring,
                center,
                offset,
            } => vec![("spring", spring), ("center", center), ("offset", offset)],
            Shape::WoodsSaxon {
                depth,
                radius,
                edge_width,
                center,
            } => vec![
                ("depth", depth),
                ("radius", radius),
                ("edge_width", edge_width),
                ("center", center),
            ],
            Shape::Tabulated { ref table } => table
                .iter()
                .flat_map(|r| [("table x", r[0]), ("table V", r[1])])
                .collect(),
        };
        for (name, v) in [("from", self.from), ("to", self.to)]
            .into_iter()
            .chain(numbers)
        {
            if !v.is_finite() {
                return Err(bad(format!("`{name}` must be a finite number, got {v}")));
            }
        }
        if let Some(m) = self.mass {
            if !(m.is_finite() && m > 0.0) {
                return Err(bad(format!(
                    "`mass` must be a positive finite number of electron masses, got {m}"
                )));
            }
        }
        if self.from >= self.to {
            return Err(bad(format!(
                "`from` ({}) must be smaller than `to` ({})",
                self.from, self.to
            )));
        }
        if let Shape::WoodsSaxon { edge_width, .. } = self.shape {
            if edge_width <= 0.0 {
                return Err(bad(format!(
                    "`edge_width` must be a positive length (bohr), got {edge_width}"
                )));
            }
        }
        if let Shape::Tabulated { table } = &self.shape {
            if table.len() < 2 {
                return Err(bad(format!(
                    "a table needs at least 2 rows, got {}",
                    table.len()
                )));
            }
            if let Some(w) = table.windows(2).find(|w| w[1][0] <= w[0][0]) {
                return Err(bad(format!(
                    "table x must increase strictly, but {} bohr follows {} bohr",
                    w[1][0], w[0][0]
                )));
            }
            let (first, last) = (table[0][0], table[table.len() - 1][0]);
            if first != self.from || last != self.to {
                return Err(bad(format!(
                    "the table spans [{first}, {last}] bohr but the piece is [{}, {}] bohr",
                    self.from, self.to
                )));
            }
        }
        if self.from < -box_half_width || self.to > box_half_width {
            return Err(bad(format!(
                "[{}, {}] bohr reaches outside the box [−{L}, {L}] bohr",
                self.from,
                self.to,
                L = box_half_width
            )));
        }
        Ok(())
    }
}

/// Why a potential is not acceptable.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PotentialError {
    /// The box half-width is not a positive finite number.
    #[error("the box half-width must be a positive finite number of bohr, got {0}")]
    BoxHalfWidth(f64),
    /// A piece is malformed.
    #[error("piece {index}: {reason}")]
    Piece {
        /// Index of the piece (0-based, in the order given).
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Two pieces overlap or are out of order.
    #[error("pieces {first} and {second} overlap or are out of order: piece {first} ends at {end} bohr but piece {second} starts at {start} bohr (pieces must be listed left to right and may only touch)")]
    Overlap {
        /// Index of the left piece.
        first: usize,
        /// Index of the right piece.
        second: usize,
        /// Right end of the left piece (bohr).
        end: f64,
        /// Left end of the right piece (bohr).
        start: f64,
    },
}

/// A piecewise potential inside the box [−L, L] (Hartree, bohr).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Potential {
    box_half_width: f64,
    pieces: Vec<Piece>,
}

impl Potential {
    /// Builds and validates a potential: pieces ordered left to right, inside the box, touching
    /// at most at their ends.
    pub fn new(box_half_width: f64, pieces: Vec<Piece>) -> Result<Self, PotentialError> {
        if !(box_half_width.is_finite() && box_half_width > 0.0) {
            return Err(PotentialError::BoxHalfWidth(box_half_width));
        }
        for (i, p) in pieces.iter().enumerate() {
            p.check(i, box_half_width)?;
        }
        for (i, w) in pieces.windows(2).enumerate() {
            if w[1].from < w[0].to {
                return Err(PotentialError::Overlap {
                    first: i,
                    second: i + 1,
                    end: w[0].to,
                    start: w[1].from,
                });
            }
        }
        Ok(Self {
            box_half_width,
            pieces,
        })
    }

    /// Half-width L of the box (bohr).
    pub fn box_half_width(&self) -> f64 {
        self.box_half_width
    }

    /// The pieces, left to right.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Limit of V(y) as y → x from the left (Hartree).
    pub fn value_left(&self, x: f64) -> f64 {
        self.pieces
            .iter()
            .find(|p| p.from < x && x <= p.to)
            .map_or(0.0, |p| p.value(x))
    }

    /// Limit of V(y) as y → x from the right (Hartree).
    pub fn value_right(&self, x: f64) -> f64 {
        self.pieces
            .iter()
            .find(|p| p.from <= x && x < p.to)
            .map_or(0.0, |p| p.value(x))
    }

    /// The mean of the one-sided limits of V at x (Hartree): the value of a node on a uniform grid.
    pub fn value_at_node(&self, x: f64) -> f64 {
        0.5 * (self.value_left(x) + self.value_right(x))
    }

    /// The value a grid node at x takes when the spacings to its neighbours are `h_left` and
    /// `h_right` (bohr): the dual-cell average of the one-sided limits (Hartree).
    pub fn value_on_cell(&self, x: f64, h_left: f64, h_right: f64) -> f64 {
        let (left, right) = (self.value_left(x), self.value_right(x));
        if left == right {
            return left;
        }
        (h_left * left + h_right * right) / (h_left + h_right)
    }

    /// Effective mass (mₑ) of the region containing the open interval (a, b), a < b: the mass of
    /// the piece containing it, or `default_mass` when that piece has none or the interval lies
    /// outside every piece. Piece ends are breakpoints and grid nodes, so a grid interval lies in
    /// exactly one region; the region is found from the interval's midpoint.
    pub fn mass_on_interval(&self, a: f64, b: f64, default_mass: f64) -> f64 {
        let mid = 0.5 * (a + b);
        self.pieces
            .iter()
            .find(|p| p.from < mid && mid < p.to)
            .and_then(|p| p.mass)
            .unwrap_or(default_mass)
    }

    /// True when some piece carries its own effective mass.
    pub fn has_piece_masses(&self) -> bool {
        self.pieces.iter().any(|p| p.mass.is_some())
    }

    /// Points strictly inside (−L, L) where V or its formula changes (piece ends and the interior
    /// rows of tables), ascending (bohr).
    pub fn breakpoints(&self) -> Vec<f64> {
        let l = self.box_half_width;
        let mut b: Vec<f64> = self
            .pieces
            .iter()
            .flat_map(|p| {
                let mut points = vec![p.from, p.to];
                points.extend(p.kinks());
                points
            })
            .filter(|&x| x > -l && x < l)
            .collect();
        b.sort_by(f64::total_cmp);
        b.dedup();
        b
    }

    /// Refuses a potential that is not a function of r ≥ 0 (a sphere's or a cylinder's): the
    /// first piece starting at a negative position.
    pub fn check_radial(&self) -> Result<(), PotentialError> {
        match self.pieces.iter().position(|p| p.from < 0.0) {
            Some(index) => Err(PotentialError::Piece {
                index,
                reason: format!(
                    "starts at r = {} bohr, but a spherical or cylindrical potential is a function \
                     of the radius r >= 0: its pieces (and table rows) must lie in [0, R]",
                    self.pieces[index].from
                ),
            }),
            None => Ok(()),
        }
    }

    /// The part of a symmetric profile at x ≥ 0 read as a function of the radius r ∈ [0, L]:
    /// pieces entirely at x ≤ 0 are dropped, pieces across 0 are cut at 0 (a linear ramp keeps
    /// its values, a table gains a row at 0). Returns the radial potential and, for each of its
    /// pieces, the index of the piece it came from (to keep the region names).
    pub fn radial_part(&self) -> Result<(Potential, Vec<usize>), PotentialError> {
        let mut pieces = Vec::new();
        let mut origin = Vec::new();
        for (i, p) in self.pieces.iter().enumerate() {
            if p.to <= 0.0 {
                continue;
            }
            let mut q = p.clone();
            if p.from < 0.0 {
                q.from = 0.0;
                match &mut q.shape {
                    Shape::Linear { start, .. } => *start = p.value(0.0),
                    Shape::Tabulated { table } => {
                        let at_zero = interpolate(table, 0.0);
                        table.retain(|r| r[0] > 0.0);
                        table.insert(0, [0.0, at_zero]);
                    }
                    _ => {}
                }
            }
            pieces.push(q);
            origin.push(i);
        }
        Ok((Potential::new(self.box_half_width, pieces)?, origin))
    }

    /// Smallest value of V inside the box (Hartree); 0 if some of the box lies outside every piece.
    pub fn min_value(&self) -> f64 {
        let covered: f64 = self.pieces.iter().map(|p| p.to - p.from).sum();
        let outside = if covered < 2.0 * self.box_half_width {
            0.0
        } else {
            f64::INFINITY
        };
        self.pieces
            .iter()
            .map(Piece::min_value)
            .fold(outside, f64::min)
    }

    /// True when V(x) = V(−x) for every x, checked on the breakpoints and between them.
    pub fn is_parity_symmetric(&self) -> bool {
        let b = self.breakpoints();
        let mirrored: Vec<f64> = b.iter().rev().map(|x| -x).collect();
        let scale = self.box_half_width * 1e-12;
        if b.len() != mirrored.len() || b.iter().zip(&mirrored).any(|(x, y)| (x - y).abs() > scale)
        {
            return false;
        }
        let mut probes: Vec<f64> = b.clone();
        probes.extend(b.windows(2).map(|w| 0.5 * (w[0] + w[1])));
        probes.extend(b.windows(2).map(|w| 0.3 * w[0] + 0.7 * w[1]));
        probes.push(0.0);
        let values_match = probes.iter().all(|&x| {
            let (v, w) = (self.value_at_node(x), self.value_at_node(-x));
            (v - w).abs() <= 1e-12 * v.abs().max(w.abs()).max(1e-300)
        });
        // Effective masses must mirror too: probe the middle of every region between
        // consecutive breakpoints and the walls (0 stands for the system mass here).
        let mut edges = vec![-self.box_half_width];
        edges.extend(&b);
        edges.push(self.box_half_width);
        let masses_match = edges.windows(2).all(|w| {
            let (a, c) = (w[0], w[1]);
            let (m, n) = (
                self.mass_on_interval(a, c, 0.0),
                self.mass_on_interval(-c, -a, 0.0),
            );
            (m - n).abs() <= 1e-12 * m.max(n)
        });
        values_match && masses_match
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_well_values_and_breakpoints() {
        let v = Potential::square_well(200.0, 0.1, 20.0).unwrap();
        assert_eq!(v.breakpoints(), vec![-20.0, 20.0]);
        assert_eq!(v.value_at_node(0.0), -0.1);
        assert_eq!(v.value_at_node(20.0), -0.05);
        assert_eq!(v.value_at_node(-20.0), -0.05);
        assert_eq!(v.value_at_node(100.0), 0.0);
        assert_eq!(v.min_value(), -0.1);
        assert!(v.is_parity_symmetric());
    }

    #[test]
    fn touching_pieces_take_the_mean_of_both_sides() {
        let v = Potential::new(
            10.0,
            vec![
                Piece {
                    from: -4.0,
                    to: 0.0,
                    shape: Shape::Linear {
                        start: 0.0,
                        end: -1.0,
                    },
                    mass: None,
                },
                Piece {
                    from: 0.0,
                    to: 4.0,
                    shape: Shape::Constant { value: -3.0 },
                    mass: None,
                },
            ],
        )
        .unwrap();
        assert_eq!(v.breakpoints(), vec![-4.0, 0.0, 4.0]);
        assert_eq!(v.value_left(0.0), -1.0);
        assert_eq!(v.value_right(0.0), -3.0);
        assert_eq!(v.value_at_node(0.0), -2.0);
        assert_eq!(v.value_at_node(-2.0), -0.5);
        assert!(!v.is_parity_symmetric());
    }

    #[test]
    fn bad_pieces_are_rejected_with_their_index() {
        let piece = |from, to| Piece {
            from,
            to,
            shape: Shape::Constant { value: -1.0 },
            mass: None,
        };
        assert!(matches!(
            Potential::new(10.0, vec![piece(-1.0, 1.0), piece(0.5, 2.0)]),
            Err(PotentialError::Overlap {
                first: 0,
                second: 1,
                ..
            })
        ));
        assert!(matches!(
            Potential::new(10.0, vec![piece(-11.0, 1.0)]),
            Err(PotentialError::Piece { index: 0, .. })
        ));
        assert!(matches!(
            Potential::new(10.0, vec![piece(2.0, 1.0)]),
            Err(PotentialError::Piece { index: 0, .. })
        ));
        assert!(matches!(
            Potential::new(10.0, vec![piece(f64::NAN, 1.0)]),
            Err(PotentialError::Piece { index: 0, .. })
        ));
        assert!(Potential::new(-1.0, vec![]).is_err());
        for m in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut p = piece(-1.0, 1.0);
            p.mass = Some(m);
            let e = Potential::new(10.0, vec![piece(-5.0, -2.0), p]).unwrap_err();
            assert!(
                matches!(&e, PotentialError::Piece { index: 1, reason } if reason.contains("mass")),
                "{e}"
            );
        }
    }

    #[test]
    fn mass_on_interval_takes_the_piece_mass_or_the_default() {
        let v = Potential::square_well_with_mass(10.0, 0.1, 2.0, 0.067).unwrap();
        assert_eq!(v.mass_on_interval(-2.0, -1.5, 1.0), 0.067);
        assert_eq!(v.mass_on_interval(1.5, 2.0, 1.0), 0.067);
        assert_eq!(v.mass_on_interval(2.0, 2.5, 1.0), 1.0);
        assert_eq!(v.mass_on_interval(-10.0, -9.5, 0.5), 0.5);
        assert!(v.has_piece_masses());
        let plain = Potential::square_well(10.0, 0.1, 2.0).unwrap();
        assert_eq!(plain.mass_on_interval(-1.0, 1.0, 0.3), 0.3);
        assert!(!plain.has_piece_masses());
    }

    #[test]
    fn woods_saxon_is_half_deep_at_its_radius_and_never_nan() {
        let piece = |from, to| Piece {
            from,
            to,
            shape: Shape::WoodsSaxon {
                depth: 0.1,
                radius: 5.0,
                edge_width: 0.5,
                center: 1.0,
            },
            mass: None,
        };
        let v = Potential::new(20.0, vec![piece(-20.0, 1.0), piece(1.0, 20.0)]).unwrap();
        assert_eq!(v.value_at_node(6.0), -0.05);
        assert_eq!(v.value_at_node(-4.0), -0.05);
        assert_eq!(v.value_at_node(1.0), -0.1 / (1.0 + (-10.0f64).exp()));
        assert_eq!(v.min_value(), v.value_at_node(1.0));
        // Far out the exponential overflows: V → −0, not NaN.
        let far = Piece {
            shape: Shape::WoodsSaxon {
                depth: 0.1,
                radius: 5.0,
                edge_width: 1e-3,
                center: 0.0,
            },
            ..piece(-20.0, 20.0)
        };
        assert_eq!(far.value(19.0), 0.0);
        assert_eq!(far.value(0.0), -0.1);
        let mut flat = piece(-1.0, 1.0);
        flat.shape = Shape::WoodsSaxon {
            depth: 0.1,
            radius: 5.0,
            edge_width: 0.0,
            center: 0.0,
        };
        assert!(matches!(
            Potential::new(10.0, vec![flat]),
            Err(PotentialError::Piece { reason, .. }) if reason.contains("edge_width")
        ));
    }

    #[test]
    fn tables_interpolate_linearly_and_put_their_rows_on_breakpoints() {
        let table = vec![[-4.0, 0.0], [-1.0, -0.3], [0.5, -0.3], [2.0, -0.1]];
        let v = Potential::new(
            10.0,
            vec![Piece {
                from: -4.0,
                to: 2.0,
                shape: Shape::Tabulated {
                    table: table.clone(),
                },
                mass: None,
            }],
        )
        .unwrap();
        assert_eq!(v.breakpoints(), vec![-4.0, -1.0, 0.5, 2.0]);
        assert_eq!(v.value_at_node(-1.0), -0.3);
        assert!((v.value_at_node(-2.5) + 0.15).abs() < 1e-16);
        assert!((v.value_at_node(1.25) + 0.2).abs() < 1e-16);
        // Outside the table V = 0; the last row's jump to 0 takes the mean.
        assert_eq!(v.value_at_node(2.0), -0.05);
        assert_eq!(v.value_at_node(3.0), 0.0);
        assert_eq!(v.min_value(), -0.3);
        let bad = |table: Vec<[f64; 2]>| {
            let (from, to) = (table[0][0], table[table.len() - 1][0]);
            Potential::new(
                10.0,
                vec![Piece {
                    from,
                    to,
                    shape: Shape::Tabulated { table },
                    mass: None,
                }],
            )
        };
        assert!(bad(vec![[0.0, 1.0], [0.0, 2.0], [1.0, 0.0]]).is_err());
        assert!(bad(vec![[0.0, f64::NAN], [1.0, 0.0]]).is_err());
        assert!(bad(vec![[0.0, 1.0], [11.0, 0.0]]).is_err());
    }
}
