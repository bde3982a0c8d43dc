//! Self-convergence without an exact solution: it must agree with the exact one where that
//! exists, and flag what the grid does not resolve.

use confine::checks::analytic::FiniteWellInBox;
use confine::checks::converge::self_convergence;
use confine::model::potential::Potential;
use confine::model::problem::Problem;

#[test]
fn richardson_estimates_and_their_error_bars_hold_against_the_exact_well() {
    let v = Potential::square_well(60.0, 0.1, 20.0).unwrap();
    let c = self_convergence(&Problem::new(v.clone(), 1.0, 0.25, 15), 4).unwrap();
    let exact = FiniteWellInBox::new(0.1, 20.0, 60.0, 1.0, 1.0)
        .unwrap()
        .levels(15)
        .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    for (l, ex) in c.levels.iter().zip(&exact) {
        let p = l.energy.observed_order.unwrap();
        assert!((p - 2.0).abs() < 0.1, "level {}: order {p}", l.n);
        assert!(!l.flagged);
        let err = (l.energy.richardson - ex.energy).abs();
        // The error estimate (difference of two Richardson values) bounds the true error.
        assert!(
            err <= 4.0 * l.energy.error_estimate + 1e-13,
            "level {}: Richardson error {err:e} vs estimate {:e}",
            l.n,
            l.energy.error_estimate
        );
        let kerr = (l.kinetic.richardson - ex.kinetic).abs();
        assert!(
            kerr <= 4.0 * l.kinetic.error_estimate + 1e-12,
            "level {}: <K> {kerr:e}",
            l.n
        );
    }
}

#[test]
fn fewer_than_three_grids_is_an_error() {
    let v = Potential::square_well(60.0, 0.1, 20.0).unwrap();
    assert!(self_convergence(&Problem::new(v.clone(), 1.0, 0.25, 3), 2).is_err());
}

/// V = −`u0` (Hartree) on [0, `a`] (bohr), with mass `inside` there, in radius `r`.
fn core(r: f64, u0: f64, a: f64, inside: f64) -> confine::model::potential::Potential {
    use confine::model::potential::{Piece, Shape};
    Potential::new(
        r,
        vec![Piece {
            from: 0.0,
            to: a,
            shape: Shape::Constant { value: -u0 },
            mass: Some(inside),
        }],
    )
    .unwrap()
}

/// Self-convergence of the lowest (n, l) levels of a sphere and a cylinder against the exact
/// Bessel well: order 2, and the Richardson estimate closer to the exact level than the finest
/// grid. The exact level is looked up by (n, l), so a level matched by its rank in the merged
/// list instead of its channel and node count would fail.
#[test]
fn radial_self_convergence_is_second_order_and_richardson_beats_the_finest_grid() {
    use confine::channels::RadialProblem;
    use confine::checks::converge::radial_convergence;
    use confine::checks::radial_exact::RadialWellExact;
    use confine::model::radial::Geometry;
    // The paper's well as a sphere (configs/geometry/sphere_paper.toml), the same core in a
    // smaller sphere, and a cylinder of that core with a lighter mass inside (a mass interface
    // at r = a).
    let cases = [
        (Geometry::Sphere, 200.0, 1.0),
        (Geometry::Sphere, 60.0, 1.0),
        (Geometry::Cylinder, 60.0, 0.5),
    ];
    for (geometry, r, inside) in cases {
        let problem = RadialProblem::new(core(r, 0.1, 20.0, inside), 1.0, 0.25, geometry).unwrap();
        let exact = RadialWellExact::new(geometry, r, 20.0, 0.1, inside, 1.0).unwrap();
        let c = radial_convergence(&problem, 12, 4).unwrap();
        assert_eq!(c.levels.len(), 12);
        assert_eq!(c.grids.len(), 4);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let channels: std::collections::BTreeSet<usize> =
            c.levels.iter().map(|l| l.l.unwrap()).collect();
        assert!(channels.len() >= 4, "{geometry:?}: channels {channels:?}");
        for level in &c.levels {
            let (n, l) = (level.n, level.l.unwrap());
            assert_eq!(level.degeneracy, Some(geometry.degeneracy(l)));
            let e = exact.level(l, n);
            let p = level.energy.observed_order.unwrap();
            assert!(
                (p - 2.0).abs() < 0.1,
                "{geometry:?} (n={n}, l={l}): order {p}"
            );
            assert!(!level.flagged);
            let finest = (level.energy.values[3] - e).abs();
            let rich = (level.energy.richardson - e).abs();
            assert!(
                rich < 0.05 * finest,
                "{geometry:?} (n={n}, l={l}): Richardson error {rich:e} vs finest {finest:e}"
            );
            // The error estimate bounds the true error of the Richardson value.
            assert!(rich <= 4.0 * level.energy.error_estimate + 1e-13);
            let k = exact.kinetic(l, e);
            let kp = level.kinetic.observed_order.unwrap();
            assert!(
                (kp - 2.0).abs() < 0.2,
                "{geometry:?} (n={n}, l={l}): <K> order {kp}"
            );
            let (kr, kf) = (
                (level.kinetic.richardson - k).abs(),
                (level.kinetic.values[3] - k).abs(),
            );
            assert!(
                kr < kf,
                "{geometry:?} (n={n}, l={l}): <K> Richardson {kr:e} vs finest {kf:e}, est {:e}",
                level.kinetic.error_estimate
            );
        }
    }
}
