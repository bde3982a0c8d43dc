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
