//! The `confine` binary: JSON contracts of `spectrum` and `validate`, and bad input that must end
//! in a clear message and a non-zero exit, never a panic.

use crate::common::{assert_clean_failure, confine_output as confine, stderr, write_file};
use std::path::Path;
use std::process::{Command, Stdio};

const SMALL_WELL: &str = r#"
[system]
box_half_width = 40.0
[potential]
type = "square_well"
depth = 0.1
half_width = 10.0
[grid]
spacing = 0.25
[solve]
levels = 12
"#;

#[test]
fn spectrum_json_has_ascending_energies_and_kinetic_energies() {
    let o = confine(&["spectrum", "configs/paper.toml", "--levels", "10", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    let energy: Vec<f64> = serde_json::from_value(v["energy"].clone()).unwrap();
    let kinetic: Vec<f64> = serde_json::from_value(v["kinetic"].clone()).unwrap();
    let potential: Vec<f64> = serde_json::from_value(v["potential"].clone()).unwrap();
    assert_eq!(energy.len(), 10);
    assert_eq!(kinetic.len(), 10);
    assert!(energy.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(v["grid_points"], 1599);
    for n in 0..10 {
        assert!(kinetic[n] > 0.0);
        assert!((kinetic[n] + potential[n] - energy[n]).abs() < 1e-15);
    }
    // h = 0.25: E0 within the O(h²) error 7.1e-7 of the exact −0.0975069740914695.
    assert!((energy[0] - -0.0975069740914695).abs() < 1e-6);
}

#[test]
fn validate_json_reports_levels_orders_and_richardson_errors() {
    let cfg = write_file("small.toml", SMALL_WELL);
    let o = confine(&[
        "validate",
        cfg.to_str().unwrap(),
        "--json",
        "--refinements",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    let levels = v["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 12);
    for (n, l) in levels.iter().enumerate() {
        assert_eq!(l["n"], n);
        for key in [
            "exact",
            "computed",
            "error",
            "kinetic_exact",
            "kinetic_computed",
        ] {
            assert!(l[key].is_f64(), "level {n} lacks {key}");
        }
        let err = l["computed"].as_f64().unwrap() - l["exact"].as_f64().unwrap();
        assert!((err - l["error"].as_f64().unwrap()).abs() < 1e-15);
    }
    let orders = v["observed_order"].as_array().unwrap();
    let rich = v["richardson_error"].as_array().unwrap();
    assert_eq!(orders.len(), 12);
    assert_eq!(rich.len(), 12);
    for p in orders {
        assert!((p.as_f64().unwrap() - 2.0).abs() < 0.1, "order {p}");
    }
}

#[test]
fn human_tables_name_their_units() {
    let cfg = write_file("table.toml", SMALL_WELL);
    let o = confine(&["spectrum", cfg.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(out.contains("E (Ha)") && out.contains("<K> (Ha)") && out.contains("E (eV)"));
    assert!(out.contains("no level missed"));
    let o = confine(&["validate", cfg.to_str().unwrap(), "--refinements", "2"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(out.contains("E exact (Ha)") && out.contains("observed order"));
}

#[test]
fn every_bad_fixture_fails_cleanly_naming_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            for cmd in ["spectrum", "validate"] {
                let o = confine(&[cmd, path.to_str().unwrap()]);
                assert_clean_failure(&o, &[&name]);
            }
            seen += 1;
        }
    }
    assert!(seen >= 8, "only {seen} fixtures");
}

#[test]
fn missing_file_and_bad_arguments_fail_cleanly() {
    let o = confine(&["spectrum", "configs/does_not_exist.toml"]);
    assert_clean_failure(&o, &["configs/does_not_exist.toml"]);
    let o = confine(&["spectrum", "configs/paper.toml", "--levels", "0"]);
    assert_clean_failure(&o, &["--levels"]);
    let o = confine(&["validate", "configs/paper.toml", "--refinements", "1"]);
    assert_clean_failure(&o, &["refinements"]);
    // Unknown flags are clap's usage errors (exit 2), not panics.
    let o = confine(&["spectrum", "configs/paper.toml", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn validate_refuses_potentials_without_an_exact_solution() {
    let o = confine(&["validate", "configs/double_well.toml"]);
    assert_clean_failure(&o, &["configs/double_well.toml", "square_well"]);
}

#[test]
fn grids_that_cannot_hold_the_levels_are_refused() {
    let coarse = SMALL_WELL.replace("spacing = 0.25", "spacing = 2.0");
    let cfg = write_file("coarse.toml", &coarse);
    let o = confine(&["spectrum", cfg.to_str().unwrap(), "--levels", "30"]);
    assert_clean_failure(&o, &["coarse.toml", "grid.spacing"]);
    let o = confine(&["spectrum", cfg.to_str().unwrap(), "--levels", "500"]);
    assert_clean_failure(&o, &["coarse.toml", "interior nodes"]);
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(["spectrum", "configs/paper.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

#[test]
fn converge_reports_order_two_for_any_potential() {
    let o = confine(&[
        "converge",
        "configs/double_well.toml",
        "--levels",
        "6",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    let levels = v["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 6);
    for l in levels {
        let p = l["energy"]["observed_order"].as_f64().unwrap();
        assert!((p - 2.0).abs() < 0.1, "order {p}");
        assert!(l["energy"]["error_estimate"].as_f64().unwrap() < 1e-9);
    }
    let o = confine(&["converge", "configs/double_well.toml", "--refinements", "2"]);
    assert_clean_failure(&o, &["refinements"]);
}

#[test]
fn validate_uses_the_exact_solution_with_different_masses() {
    let text = SMALL_WELL
        .replace("box_half_width = 40.0", "box_half_width = 40.0\nmass = 0.2")
        .replace("half_width = 10.0", "half_width = 10.0\nmass_inside = 1.0");
    let cfg = write_file("bdd.toml", &text);
    let o = confine(&[
        "validate",
        cfg.to_str().unwrap(),
        "--json",
        "--refinements",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["mass_inside"], 1.0);
    for p in v["observed_order"].as_array().unwrap() {
        assert!((p.as_f64().unwrap() - 2.0).abs() < 0.1, "order {p}");
    }
    for e in v["richardson_error"].as_array().unwrap() {
        assert!(e.as_f64().unwrap().abs() < 1e-7, "Richardson error {e}");
    }
}

#[test]
fn bad_tables_fail_cleanly_naming_the_csv_and_line_and_write_nothing() {
    let cases = [
        ("gap.csv", "x [bohr],V [Ha]\n-1,0\n0,\n1,0\n", "line 3"),
        ("unsorted.csv", "x [bohr],V [Ha]\n1,0\n-1,0\n", "line 3"),
        ("nan.csv", "x [nm],V [eV]\n-1,nan\n1,0\n", "line 2"),
        ("outside.csv", "x [nm],V [eV]\n-1,0\n5,0\n", "line 3"),
        ("unit.csv", "x [nm],V [joule]\n-1,0\n1,0\n", "line 1"),
        ("short.csv", "x [nm],V [eV]\n-1,0\n", "at least 2 rows"),
    ];
    for (name, table, line) in cases {
        let csv = write_file(name, table);
        let cfg = write_file(
            &format!("{name}.toml"),
            &format!(
                "[system]\nbox_half_width = 40.0\n[potential]\ntype = \"tabulated\"\n\
                 file = \"{name}\"\n[grid]\nspacing = 0.25\n[solve]\nlevels = 4\n"
            ),
        );
        let out = csv.with_extension("out");
        let o = confine(&["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_clean_failure(&o, &[&format!("{name}.toml"), "potential.file", name, line]);
        assert!(!out.exists(), "{name}: {} was written", out.display());
        for cmd in ["spectrum", "converge"] {
            let o = confine(&[cmd, cfg.to_str().unwrap()]);
            assert_clean_failure(&o, &[name, line]);
        }
    }
}

#[test]
fn preset_runs_name_their_probability_columns_by_region() {
    let cfg = write_file(
        "preset_double.toml",
        "[system]\nbox_half_width = 30.0\n[potential]\ntype = \"double_well\"\ndepth = 0.1\n\
         well_width = 6.0\nbarrier_width = 2.0\n[grid]\nspacing = 0.25\n[solve]\nlevels = 8\n",
    );
    let out = cfg.with_extension("out");
    let o = confine(&[
        "run",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-figures",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let levels = std::fs::read_to_string(out.join("preset_double").join("levels.csv")).unwrap();
    let header = levels.lines().next().unwrap();
    assert!(
        header.contains("P_left_well [-],P_barrier [-],P_right_well [-]"),
        "{header}"
    );
    let meta = std::fs::read_to_string(out.join("metadata.json")).unwrap();
    assert!(
        meta.contains("\"double_well\"") && meta.contains("barrier_height"),
        "{meta}"
    );
}
