//! Exactly and nearly degenerate levels: a double well whose barrier no tunnelling crosses at
//! double precision (splitting ~ e^(−2κ·40) with κ = √(2 V_b) ≥ 1.4 /bohr) must give ascending
//! energies, flag each unresolved pair, run through the whole study, and agree with one well
//! alone; a barrier thin enough to split the pairs measurably must leave them unflagged.

use crate::common::{scratch, write_file};
use confine::diagnostic::Kind;
use confine::eigen::sturm::SturmData;
use confine::eigen::SolverOptions;
use confine::model::grid::Grid;
use confine::model::hamiltonian::Hamiltonian;
use confine::model::potential::{Piece, Potential, Shape};
use confine::spectrum::{self, Spectrum};
use std::process::Command;

/// Box half-width (bohr) and grid spacing (bohr) of the double wells.
const BOX: f64 = 60.0;
const SPACING: f64 = 0.1;

fn constant(from: f64, to: f64, value: f64) -> Piece {
    Piece {
        from,
        to,
        shape: Shape::Constant { value },
        mass: None,
    }
}

/// Two 40-bohr wells (V = 0) separated by a barrier `barrier` Ha high on |x| < `half` bohr.
fn double_well(barrier: f64, half: f64) -> Potential {
    Potential::new(BOX, vec![constant(-half, half, barrier)]).unwrap()
}

fn solve(potential: &Potential, levels: usize) -> Spectrum {
    let grid = Grid::aligned(BOX, &[-20.0, 20.0], SPACING).unwrap();
    spectrum::solve(potential, &grid, 1.0, levels, &SolverOptions::default()).unwrap()
}

fn assert_ascending(e: &[f64], what: &str) {
    for (n, w) in e.windows(2).enumerate() {
        assert!(
            w[1] >= w[0],
            "{what}: E_{} = {} < E_{n} = {}",
            n + 1,
            w[1],
            w[0]
        );
    }
}

#[test]
fn opaque_barrier_gives_sorted_flagged_pairs_equal_to_one_well() {
    let levels = 40;
    // The left well alone: the barrier extended to the right wall, same breakpoints and grid.
    for barrier in [1.0, 5.0, 50.0] {
        let s = solve(&double_well(barrier, 20.0), levels);
        let e = s.energies();
        assert_ascending(&e, &format!("{barrier} Ha barrier"));
        let single = Potential::new(
            BOX,
            vec![constant(-20.0, 20.0, barrier), constant(20.0, BOX, barrier)],
        )
        .unwrap();
        let one = solve(&single, levels / 2);
        let norm = s.report.norm_bound;
        // Pairs deep enough below the barrier top (κ = √(2(V_b − E)) ≥ 1 /bohr, splitting below
        // e^(−40) relative); nearer the top of the 1 Ha barrier the splitting is real.
        let deep = (0..levels / 2)
            .take_while(|&j| one.levels[j].energy <= barrier - 0.5)
            .count();
        assert!(deep >= 10, "{barrier} Ha: only {deep} deep pairs");
        for j in 0..deep {
            let (lo, hi) = (&s.levels[2 * j], &s.levels[2 * j + 1]);
            // Each pair is the left-well level twice (to the rounding of the two solves).
            for level in [lo, hi] {
                assert!(
                    (level.energy - one.levels[j].energy).abs() <= 64.0 * f64::EPSILON * norm,
                    "{barrier} Ha, level {}: {} vs one well {}",
                    level.n,
                    level.energy,
                    one.levels[j].energy
                );
            }
            assert!(
                lo.unresolved_splitting,
                "{barrier} Ha: pair {j} not flagged"
            );
            assert!(
                !hi.unresolved_splitting,
                "{barrier} Ha: level {} flagged unresolved from the next pair",
                hi.n
            );
            assert_eq!(lo.n, 2 * j);
            assert_eq!(hi.n, 2 * j + 1);
        }
        let warning = s
            .warnings
            .iter()
            .find(|w| w.kind == Kind::UnresolvedSplittings)
            .unwrap_or_else(|| panic!("{barrier} Ha: no warning in {:?}", s.warnings));
        assert!(warning.message.contains("(0, 1)"), "{warning}");
        if deep == levels / 2 {
            assert!(warning.message.contains("20 pair(s)"), "{warning}");
            assert!(warning.message.contains("(38, 39)"), "{warning}");
        }
        // The vectors of a pair are an orthonormal basis of its space: the solver's report holds.
        assert!(s.report.max_orthogonality_error < 1e-12);
        assert!(s.report.max_residual < 64.0 * f64::EPSILON * norm);
        assert_eq!(s.report.sturm_count_at_cutoff, levels);
    }
}

#[test]
fn measurable_splitting_is_resolved_and_proved_by_sturm_counts() {
    // A 1 Ha barrier 12 bohr wide: splittings e^(−√2·12) ~ 1e-8 Ha, far above ε‖H‖ ~ 5e-14 Ha.
    let potential = double_well(1.0, 6.0);
    let grid = Grid::aligned(BOX, &[-20.0, -6.0, 6.0, 20.0], SPACING).unwrap();
    let s = spectrum::solve(&potential, &grid, 1.0, 10, &SolverOptions::default()).unwrap();
    let e = s.energies();
    assert_ascending(&e, "12 bohr barrier");
    assert!(s.levels.iter().all(|l| !l.unresolved_splitting));
    assert!(!s
        .warnings
        .iter()
        .any(|w| w.kind == Kind::UnresolvedSplittings));
    // The Sturm count at the midpoint of each doublet is exactly its lower index + 1: the two
    // levels are distinct eigenvalues of H, as the absent flag says.
    let h = Hamiltonian::new(&potential, &grid, 1.0).unwrap();
    let sturm = SturmData::new(&h.matrix.diag, &h.matrix.off);
    for j in 0..5 {
        let split = e[2 * j + 1] - e[2 * j];
        assert!(
            split > 1e-12 && split < 1e-2,
            "doublet {j}: splitting {split}"
        );
        assert_eq!(
            sturm.count_below(0.5 * (e[2 * j] + e[2 * j + 1])),
            2 * j + 1
        );
    }
}

const OPAQUE_DOUBLE_WELL: &str = r#"
[system]
box_half_width = 60.0
[potential]
type = "piecewise"
[[potential.pieces]]
from = -20.0
to = 20.0
shape = "constant"
value = 50.0
[grid]
spacing = 0.1
[solve]
levels = 40
"#;

#[test]
fn cli_spectrum_is_ascending_and_run_accepts_the_opaque_double_well() {
    let config = write_file("opaque_double_well.toml", OPAQUE_DOUBLE_WELL);
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(["spectrum", config.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e: Vec<f64> = json["energy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(e.len(), 40);
    assert_ascending(&e, "spectrum --json");
    let warnings = json["warnings"].to_string();
    assert!(warnings.contains("not resolved"), "{warnings}");

    let out = scratch("opaque-double-well");
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(["run", config.to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("not resolved"), "{err}");
    let levels = std::fs::read_to_string(out.join("opaque_double_well/levels.csv")).unwrap();
    let e: Vec<f64> = levels
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(e.len() >= 40);
    assert_ascending(&e, "levels.csv");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn coulomb_shift_unit_is_the_first_gap_resolved_from_the_ground_level() {
    // e_1 − e_0 of the opaque double well is rounding noise (~1e-17 Ha): the ground-state shift
    // is measured in units of e_2 − e_0, the tunnelling doublet counted as one level.
    let config = write_file(
        "opaque_double_well_coulomb.toml",
        &format!(
            "{OPAQUE_DOUBLE_WELL}[coulomb]\neps_r = 12.9\nsoftening = 1.0\norbitals = 20\n\
             energy_per_particle_max = 0.05\n"
        ),
    );
    let out = scratch("opaque-double-well-coulomb");
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(["run", config.to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let case = out.join("opaque_double_well_coulomb");
    let levels = std::fs::read_to_string(case.join("levels.csv")).unwrap();
    let e: Vec<f64> = levels
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metadata.json")).unwrap()).unwrap();
    let coulomb = &meta["cases"][0]["coulomb"];
    assert_eq!(
        coulomb["level_spacing"].as_f64(),
        Some(e[2] - e[0]),
        "{coulomb}"
    );
    let spacings = coulomb["variants"][1]["shift"]["shift_in_spacings"]
        .as_f64()
        .unwrap();
    assert!(spacings > 0.0 && spacings < 10.0, "{spacings} spacings");
    let _ = std::fs::remove_dir_all(&out);
}
