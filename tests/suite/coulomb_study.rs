//! The `[coulomb]` study of a config: W off reproduces the non-interacting pair states, the
//! interaction raises the ground state less as ε_r grows, the tables are written, the CI agrees
//! with the 2-D grid solve, and bad `[coulomb]` input is refused with the key and what is valid.

use confine::pipeline::config::{parse_study, Study};
use confine::pipeline::study::run_case;
use std::path::Path;

const SMALL: &str = r#"
[system]
box_half_width = 12.0
[potential]
type = "square_well"
depth = 0.5
half_width = 3.0
[grid]
spacing = 0.1
[solve]
levels = 24
"#;

fn study(coulomb: &str) -> Result<Study, confine::pipeline::config::ConfigError> {
    parse_study(&format!("{SMALL}{coulomb}"), Path::new("c.toml"))
}

#[test]
fn coulomb_study_compares_w_off_and_each_dielectric_constant() {
    let s = study(
        "[coulomb]\neps_r = [1.0, 4.0, 12.9]\norbitals = 14\ncheck_orbitals = 18\nenergy_per_particle_max = 0.1\ngrid_check = { levels = 4 }\n",
    )
    .unwrap();
    let r = run_case(&s.cases[0]).unwrap();
    let e0 = r.levels[0].energy;
    let c = r.coulomb.as_ref().unwrap();
    assert_eq!(c.variants.len(), 4);
    // W off: the ground state is 2 e_0 (singlet), no interaction energy.
    let off = &c.variants[0];
    assert!((off.result.ground_energy - 2.0 * e0).abs() < 1e-12);
    assert!(off.ground_interaction.abs() < 1e-15);
    // The repulsion raises the ground state, less for stronger screening, and never more than
    // the first-order estimate <00|W|00> (variational).
    let shifts: Vec<f64> = (1..4).map(|i| c.shift(i).ground_shift).collect();
    assert!(
        shifts[0] > shifts[1] && shifts[1] > shifts[2] && shifts[2] > 0.0,
        "{shifts:?}"
    );
    for (i, v) in c.variants.iter().enumerate().skip(1) {
        assert!(v.ground_interaction > 0.0);
        assert!((c.shift(i).shift_in_spacings - shifts[i - 1] / c.level_spacing).abs() < 1e-15);
        let conv = v.convergence.as_ref().unwrap();
        assert!(
            conv.fine_ground <= conv.coarse_ground + 1e-12,
            "variational in M"
        );
        assert!(v.result.states >= 1.0 && !v.result.grid.is_empty());
    }
    // CI (M = 14) against the 2-D grid solve on the same grid: above it (variational), close.
    assert_eq!(c.grid_check.len(), 3 * 2 * 4);
    for row in &c.grid_check {
        assert!(row.difference > -1e-9, "{row:?}");
        assert!(row.difference < 2e-3, "{row:?}");
    }
    // The same thermodynamics as the non-interacting N-particle study: per-state T^(K) = K.
    let t = off.result.per_state.as_ref().unwrap();
    for (k, tk) in t.kinetic.iter().zip(&t.t_kinetic) {
        assert!(
            (k - tk).abs() <= 1e-15 * k.abs().max(1.0),
            "T^(K) = 2K/N with N = 2"
        );
    }
}

#[test]
fn coulomb_tables_and_figures_are_written() {
    let s = study("[coulomb]\norbitals = 10\nenergy_per_particle_max = 0.0\n").unwrap();
    let result = confine::pipeline::study::run_study(&s).unwrap();
    let dir = std::env::temp_dir().join(format!("confine-coulomb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let figs = confine::pipeline::output::figures::FigureOutput {
        png: false,
        svg: true,
    };
    confine::pipeline::output::write::write_study(&result, &dir, &figs).unwrap();
    let case = dir.join(&s.cases[0].name);
    let table = std::fs::read_to_string(case.join("coulomb.csv")).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("variant,eps_r [-],E_ground [Ha]"));
    assert!(lines[1].starts_with("W off,,") && lines[2].starts_with("eps_r = 1,1.0,"));
    for f in ["grid.csv", "canonical.csv", "nhc.csv", "states.csv"] {
        assert!(case.join("coulomb/Woff").join(f).exists(), "{f}");
        assert!(case.join("coulomb/eps_r=1").join(f).exists(), "{f}");
    }
    // Every interacting state with its energy split, spin and multiplicity.
    let v = &result.cases[0].coulomb.as_ref().unwrap().variants[1];
    let states = std::fs::read_to_string(case.join("coulomb/eps_r=1/ci_states.csv")).unwrap();
    let rows: Vec<Vec<&str>> = states
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), v.states.len());
    assert!(states
        .starts_with("E [Ha],E/N [Ha],<K1+K2> [Ha],<V1+V2> [Ha],<W> [Ha],spin,multiplicity [-]"));
    for r in &rows {
        let num = |i: usize| r[i].parse::<f64>().unwrap();
        assert!(
            (num(0) - (num(2) + num(3) + num(4))).abs() < 1e-10,
            "E = K + V + W: {r:?}"
        );
        assert!(
            (r[5] == "singlet" && r[6] == "1") || (r[5] == "triplet" && r[6] == "3"),
            "{r:?}"
        );
    }
    assert!(rows.iter().any(|r| r[5] == "triplet"));
    let name = &s.cases[0].name;
    assert!(dir
        .join(format!("figures/coulomb_temperature_{name}.svg"))
        .exists());
    assert!(dir
        .join(format!("figures/coulomb_entropy_{name}.svg"))
        .exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_coulomb_input_names_the_key() {
    for (text, key, hint) in [
        ("softening = 0.0", "coulomb.softening", "> 0"),
        ("softening = \"-1 nm\"", "coulomb.softening", "> 0"),
        ("eps_r = 0.0", "coulomb.eps_r", "> 0"),
        ("eps_r = [1.0, -2.0]", "coulomb.eps_r", "> 0"),
        ("eps_r = []", "coulomb.eps_r", "at least one"),
        ("strength = -1.0", "coulomb.strength", ">= 0"),
        ("orbitals = 25", "coulomb.orbitals", "solve.levels = 24"),
        ("orbitals = 0", "coulomb.orbitals", "1 to"),
        (
            "check_orbitals = 10",
            "coulomb.check_orbitals",
            "M' <= solve.levels",
        ),
        (
            "grid_check = { memory_limit = \"lots\" }",
            "coulomb.grid_check.memory_limit",
            "GiB",
        ),
        ("colomb = 1", "colomb", "unknown"),
    ] {
        let (orbitals, rest) = if text.starts_with("orbitals") {
            ("", text.to_string())
        } else {
            ("orbitals = 10\n", text.to_string())
        };
        let e = study(&format!(
            "[coulomb]\n{orbitals}energy_per_particle_max = 0.0\n{rest}\n"
        ))
        .expect_err(text)
        .to_string();
        assert!(e.starts_with("c.toml: "), "{e}");
        assert!(
            e.contains(key) && e.contains(hint),
            "`{key}`/`{hint}` missing from: {e}"
        );
    }
}

#[test]
fn a_basis_too_small_or_a_grid_over_the_memory_limit_is_refused_with_what_to_change() {
    // E/N up to 1 Ha needs pairs far above e_0 + e_9.
    let s = study("[coulomb]\norbitals = 10\nenergy_per_particle_max = 1.0\n").unwrap();
    let e = confine::pipeline::error_chain(&run_case(&s.cases[0]).unwrap_err());
    assert!(e.contains("raise coulomb.orbitals to at least"), "{e}");
    let s = study(
        "[coulomb]\norbitals = 10\nenergy_per_particle_max = 0.0\ngrid_check = { memory_limit = \"1 MiB\" }\n",
    )
    .unwrap();
    let e = confine::pipeline::error_chain(&run_case(&s.cases[0]).unwrap_err());
    assert!(
        e.contains("MiB")
            && e.contains("memory limit of 1.0 MiB (coulomb.grid_check.memory_limit")
            && e.contains("grid.spacing >= ")
            && e.contains("raise the limit: coulomb.grid_check.memory_limit"),
        "{e}"
    );
}

/// The issue's acceptance check: U0 = 0.1, a = 20, L = 60, s = 1, h = 0.25; lowest 10 states
/// per sector by CI (M = 50) and by the 2-D grid solve agree to 1e-4 Ha (measured: 1.1e-7).
#[test]
#[ignore = "release only: ~10 s (the 2-D solve has 115 000 unknowns per sector)"]
fn ci_agrees_with_the_grid_solve_on_the_check_config() {
    let s = confine::pipeline::config::load_study(Path::new("configs/coulomb_check.toml")).unwrap();
    let r = run_case(&s.cases[0]).unwrap();
    let c = r.coulomb.unwrap();
    assert_eq!(c.grid_check.len(), 20);
    for row in &c.grid_check {
        assert!(row.difference > -1e-9 && row.difference < 1e-4, "{row:?}");
        assert!(row.grid_residual < 1e-8, "{row:?}");
    }
}

#[test]
fn a_sweep_over_eps_r_reports_the_coulomb_shift_per_case() {
    use confine::pipeline::output::figures::FigureOutput;
    use confine::pipeline::sweep::runner::{run_sweep, Silent, SweepOptions};
    let s = study(
        "[coulomb]\norbitals = 10\nenergy_per_particle_max = 0.0\n[sweep]\ncoulomb.eps_r = [1.0, 2.0, 8.0]\n",
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("confine-coulomb-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = SweepOptions {
        figures: FigureOutput {
            png: false,
            svg: false,
        },
        ..Default::default()
    };
    let report = run_sweep(&s, &dir, &options, &Silent).unwrap();
    let shifts: Vec<f64> = report
        .summary
        .rows
        .iter()
        .map(|r| r.coulomb_shift.unwrap())
        .collect();
    assert!(
        shifts[0] > shifts[1] && shifts[1] > shifts[2] && shifts[2] > 0.0,
        "{shifts:?}"
    );
    let csv = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .contains("Coulomb shift [e_1 - e_0]"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Coulomb study runs beside the N-particle ensembles: when these fail, the case reports
/// their error, not the Coulomb study's (stopped by that failure, or failing too), as when the
/// ensembles ran first.
#[test]
fn a_failure_beside_the_coulomb_study_is_the_error_reported() {
    let particles = "[particles]\nn = 2\nenergy_per_particle_max = 0.1\nmethod = \"enumerate\"\nstate_limit = 2\n";
    for coulomb in [
        "[coulomb]\norbitals = 14\ncheck_orbitals = 18\nenergy_per_particle_max = 0.1\n",
        // A basis too small for its E_max: the Coulomb study fails too.
        "[coulomb]\norbitals = 10\nenergy_per_particle_max = 1.0\n",
    ] {
        let s = study(&format!("{particles}{coulomb}")).unwrap();
        let e = confine::pipeline::error_chain(&run_case(&s.cases[0]).unwrap_err());
        assert!(
            e.contains("state_limit") && !e.contains("cancel") && !e.contains("coulomb."),
            "{e}"
        );
    }
}
