//! Named profiles of V(x), built from their physical parameters.
//!
//! Each constructor takes its parameters in atomic units (Hartree, bohr, mₑ) and returns the
//! potential inside the box [−`box_half_width`, `box_half_width`] as pieces whose ends are
//! breakpoints, hence grid nodes. Next to it, a `*_REGIONS` constant names the regions its pieces
//! cover, left to right (the `P_<name>` probability columns of the outputs). The constructors
//! build; they do not judge the parameters beyond what [`Potential::new`] checks (finite numbers,
//! pieces inside the box and in order): the config layer names the key of a bad value.

use super::{Piece, Potential, PotentialError, Shape};

/// A piece of constant V = `value` (Hartree) on [`from`, `to`] (bohr) with the system mass.
fn constant(from: f64, to: f64, value: f64) -> Piece {
    Piece {
        from,
        to,
        shape: Shape::Constant { value },
        mass: None,
    }
}

impl Potential {
    /// Regions of [`Potential::square_well`] (one piece).
    pub const SQUARE_WELL_REGIONS: [&'static str; 1] = ["well"];

    /// The paper's well: V = −`depth` (Hartree) for |x| < `half_width` (bohr), 0 elsewhere in
    /// the box of half-width `box_half_width` (bohr).
    pub fn square_well(
        box_half_width: f64,
        depth: f64,
        half_width: f64,
    ) -> Result<Self, PotentialError> {
        Self::new(
            box_half_width,
            vec![constant(-half_width, half_width, -depth)],
        )
    }

    /// The square well with effective mass `mass_inside` (mₑ) on the well (−half_width,
    /// half_width); the rest of the box keeps the system mass.
    pub fn square_well_with_mass(
        box_half_width: f64,
        depth: f64,
        half_width: f64,
        mass_inside: f64,
    ) -> Result<Self, PotentialError> {
        Self::new(
            box_half_width,
            vec![Piece {
                mass: Some(mass_inside),
                ..constant(-half_width, half_width, -depth)
            }],
        )
    }

    /// Regions of [`Potential::double_well`] (three pieces).
    pub const DOUBLE_WELL_REGIONS: [&'static str; 3] = ["left_well", "barrier", "right_well"];

    /// Two wells V = −`depth` (Hartree) on b/2 < |x| < b/2 + `well_width` (bohr), separated by
    /// the barrier V = `barrier_height` − `depth` on |x| < b/2 (b = `barrier_width`, bohr;
    /// `barrier_height` in Hartree above the well bottom); 0 elsewhere.
    pub fn double_well(
        box_half_width: f64,
        depth: f64,
        well_width: f64,
        barrier_width: f64,
        barrier_height: f64,
    ) -> Result<Self, PotentialError> {
        let (b, o) = (0.5 * barrier_width, 0.5 * barrier_width + well_width);
        Self::new(
            box_half_width,
            vec![
                constant(-o, -b, -depth),
                constant(-b, b, barrier_height - depth),
                constant(b, o, -depth),
            ],
        )
    }

    /// Regions of [`Potential::core_shell`] (three pieces).
    pub const CORE_SHELL_REGIONS: [&'static str; 3] = ["left_shell", "core", "right_shell"];

    /// A deep core V = −`core_depth` on |x| < `core_half_width` inside a shell
    /// V = −`shell_depth` on `core_half_width` < |x| < `shell_half_width`; 0 elsewhere
    /// (Hartree, bohr).
    pub fn core_shell(
        box_half_width: f64,
        core_depth: f64,
        core_half_width: f64,
        shell_depth: f64,
        shell_half_width: f64,
    ) -> Result<Self, PotentialError> {
        let (c, s) = (core_half_width, shell_half_width);
        Self::new(
            box_half_width,
            vec![
                constant(-s, -c, -shell_depth),
                constant(-c, c, -core_depth),
                constant(c, s, -shell_depth),
            ],
        )
    }

    /// Regions of [`Potential::harmonic`] (one piece).
    pub const HARMONIC_REGIONS: [&'static str; 1] = ["parabola"];

    /// V = ½ k x² − `depth` cut at V = 0 (k = `spring`, Hartree/bohr²; `depth` in Hartree): the
    /// parabola spans |x| < [`Potential::harmonic_edge`], or the whole box when that edge lies
    /// beyond the walls or there is no depth (then V = ½ k x²).
    pub fn harmonic(
        box_half_width: f64,
        spring: f64,
        depth: Option<f64>,
    ) -> Result<Self, PotentialError> {
        let edge = Self::harmonic_edge(box_half_width, spring, depth).unwrap_or(box_half_width);
        Self::new(
            box_half_width,
            vec![Piece {
                from: -edge,
                to: edge,
                shape: Shape::Harmonic {
                    spring,
                    center: 0.0,
                    offset: -depth.unwrap_or(0.0),
                },
                mass: None,
            }],
        )
    }

    /// Where the parabola of [`Potential::harmonic`] reaches 0: √(2 depth / k) (bohr), when
    /// there is a depth and that point lies inside the box; `None` otherwise.
    pub fn harmonic_edge(box_half_width: f64, spring: f64, depth: Option<f64>) -> Option<f64> {
        depth
            .map(|depth| (2.0 * depth / spring).sqrt())
            .filter(|&x| x < box_half_width)
    }

    /// Regions of [`Potential::smooth_well`] (three pieces: the well's edges and its middle).
    pub const SMOOTH_WELL_REGIONS: [&'static str; 3] = ["left_edge", "well", "right_edge"];

    /// The Woods–Saxon well V = −`depth` / (1 + exp((|x| − `half_width`) / `edge_width`)) on the
    /// whole box (Hartree, bohr); `edge_width` → 0 gives the square well. Its pieces end at
    /// ±`half_width`, where V = −depth/2.
    pub fn smooth_well(
        box_half_width: f64,
        depth: f64,
        half_width: f64,
        edge_width: f64,
    ) -> Result<Self, PotentialError> {
        let shape = Shape::WoodsSaxon {
            depth,
            radius: half_width,
            edge_width,
            center: 0.0,
        };
        let piece = |from: f64, to: f64| Piece {
            from,
            to,
            shape: shape.clone(),
            mass: None,
        };
        let (l, a) = (box_half_width, half_width);
        Self::new(l, vec![piece(-l, -a), piece(-a, a), piece(a, l)])
    }

    /// Regions of [`Potential::tabulated`] (one piece).
    pub const TABULATED_REGIONS: [&'static str; 1] = ["table"];

    /// V linear between the rows [x (bohr), V (Hartree)] of `table` (x strictly increasing, see
    /// [`crate::model::potential::tabulated`]), 0 outside its x range; every row is a
    /// breakpoint. An empty table gives V = 0.
    pub fn tabulated(box_half_width: f64, table: Vec<[f64; 2]>) -> Result<Self, PotentialError> {
        let (Some(&[from, _]), Some(&[to, _])) = (table.first(), table.last()) else {
            return Self::new(box_half_width, Vec::new());
        };
        Self::new(
            box_half_width,
            vec![Piece {
                from,
                to,
                shape: Shape::Tabulated { table },
                mass: None,
            }],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_cover_their_regions_left_to_right() {
        let built = [
            (
                Potential::square_well(10.0, 0.1, 2.0),
                &Potential::SQUARE_WELL_REGIONS[..],
            ),
            (
                Potential::double_well(30.0, 0.1, 5.0, 2.0, 0.3),
                &Potential::DOUBLE_WELL_REGIONS[..],
            ),
            (
                Potential::core_shell(30.0, 0.2, 1.0, 0.1, 3.0),
                &Potential::CORE_SHELL_REGIONS[..],
            ),
            (
                Potential::harmonic(30.0, 1e-3, Some(0.1)),
                &Potential::HARMONIC_REGIONS[..],
            ),
            (
                Potential::smooth_well(30.0, 0.1, 5.0, 1.0),
                &Potential::SMOOTH_WELL_REGIONS[..],
            ),
            (
                Potential::tabulated(30.0, vec![[-2.0, 0.0], [0.0, -0.1], [2.0, 0.0]]),
                &Potential::TABULATED_REGIONS[..],
            ),
        ];
        for (potential, regions) in built {
            let p = potential.unwrap();
            assert_eq!(p.pieces().len(), regions.len(), "{regions:?}");
            assert!(p.is_parity_symmetric(), "{regions:?}");
        }
    }

    #[test]
    fn preset_geometry_is_what_the_docs_say() {
        // Double well: wells on 1 < |x| < 6 at −0.1, barrier at 0.3 − 0.1 = 0.2.
        let d = Potential::double_well(30.0, 0.1, 5.0, 2.0, 0.3).unwrap();
        assert_eq!(d.breakpoints(), vec![-6.0, -1.0, 1.0, 6.0]);
        assert_eq!(d.value_at_node(-3.0), -0.1);
        assert!((d.value_at_node(0.0) - 0.2).abs() <= f64::EPSILON * 0.2);
        // Core-shell: core −0.2 on |x| < 1, shell −0.1 out to 3.
        let c = Potential::core_shell(30.0, 0.2, 1.0, 0.1, 3.0).unwrap();
        assert_eq!(c.breakpoints(), vec![-3.0, -1.0, 1.0, 3.0]);
        assert_eq!((c.value_at_node(0.0), c.value_at_node(2.0)), (-0.2, -0.1));
        // Harmonic: cut at √(2·0.1/1e-3) = √200, or filling a box narrower than that.
        let edge = 200f64.sqrt();
        assert_eq!(Potential::harmonic_edge(30.0, 1e-3, Some(0.1)), Some(edge));
        assert_eq!(Potential::harmonic_edge(10.0, 1e-3, Some(0.1)), None);
        assert_eq!(Potential::harmonic_edge(30.0, 1e-3, None), None);
        let h = Potential::harmonic(30.0, 1e-3, Some(0.1)).unwrap();
        assert_eq!(h.breakpoints(), vec![-edge, edge]);
        assert_eq!(h.min_value(), -0.1);
        let uncut = Potential::harmonic(10.0, 1e-3, None).unwrap();
        assert_eq!(
            (uncut.pieces()[0].from, uncut.pieces()[0].to),
            (-10.0, 10.0)
        );
        // Smooth well: −depth/2 at |x| = half_width.
        let s = Potential::smooth_well(30.0, 0.1, 5.0, 1.0).unwrap();
        assert_eq!(s.value_at_node(5.0), -0.05);
        // The square well with its own mass inside.
        let m = Potential::square_well_with_mass(10.0, 0.1, 2.0, 0.067).unwrap();
        assert_eq!(m.mass_on_interval(0.0, 1.0, 1.0), 0.067);
        assert_eq!(m.mass_on_interval(3.0, 4.0, 1.0), 1.0);
        assert!(Potential::tabulated(10.0, Vec::new())
            .unwrap()
            .pieces()
            .is_empty());
    }
}
