//! Every example profile under configs/profiles/ loads, solves without resolution warnings and
//! converges at order 2 (its convergence table is `confine converge configs/profiles/X.toml`).

use confine::checks::converge::self_convergence;
use confine::model::problem::Problem;
use confine::pipeline::config::load_study;
use std::path::Path;

#[test]
fn example_profiles_converge_at_order_two() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/profiles");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let study = load_study(&path).unwrap_or_else(|e| panic!("{e}"));
        let p = study.cases[0].config.problem().unwrap();
        let c = self_convergence(
            &Problem {
                levels: 6,
                ..p.clone()
            },
            3,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            c.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            c.warnings
        );
        for l in &c.levels {
            let order = l.energy.observed_order.unwrap();
            assert!(
                (order - 2.0).abs() < 0.1,
                "{} level {}: order {order}",
                path.display(),
                l.n
            );
        }
        seen += 1;
    }
    assert!(seen >= 6, "only {seen} profiles");
}

#[test]
fn the_truncated_harmonic_profile_lies_below_the_oscillator_ladder() {
    // V = k x²/2 − 0.1 Ha only for |x| < 20 bohr, V = 0 beyond: a potential lowered everywhere
    // can only lower every level (min–max principle), so E_n < ω(n + ½) − 0.1 Ha, and the
    // ground state, reaching least past the edges, stays closest to it.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/profiles/harmonic_well.toml");
    let p = load_study(&path).unwrap().cases[0]
        .config
        .problem()
        .unwrap();
    let c = self_convergence(
        &Problem {
            levels: 4,
            ..p.clone()
        },
        3,
    )
    .unwrap();
    let omega = (0.0005f64 / p.mass).sqrt();
    let gaps: Vec<f64> = c
        .levels
        .iter()
        .map(|l| omega * (l.n as f64 + 0.5) - 0.1 - l.energy.richardson)
        .collect();
    assert!(gaps.iter().all(|&g| g > 0.0), "{gaps:?}");
    assert!(gaps[0] < gaps[3], "{gaps:?}");
}
