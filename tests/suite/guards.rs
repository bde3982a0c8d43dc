//! Issue 10, items 4 and 8, through the CLI: work the user sizes beyond the memory limit is
//! refused at once (naming the key, the bytes and a setting that fits) instead of aborting in
//! an allocation; sweeps state their size; every message is printed once and names the key.
//!
//! The binary is `CARGO_BIN_EXE_confine`, or `CONFINE_TEST_BIN` when set (to run these checks
//! against another build, e.g. the code before the guards, where they fail).

use crate::common::{scratch_dir, square_well, write_file};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn binary() -> std::path::PathBuf {
    std::env::var_os("CONFINE_TEST_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_confine").into(), Into::into)
}

/// Runs confine with `args` (and RUST_BACKTRACE=1, so that a backtrace would show); returns the
/// output and the wall time.
fn confine(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let o = Command::new(binary())
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the confine binary runs");
    (o, start.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A refusal: exit status 1, one `error:` line naming each of `keys`, nothing panicked and no
/// backtrace, within a second (nothing large was allocated or computed first).
fn assert_refused(o: &Output, took: Duration, keys: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("stack backtrace"),
        "{err}"
    );
    assert!(!err.contains("memory allocation of"), "{err}");
    for k in keys {
        assert!(err.contains(k), "`{k}` missing from: {err}");
    }
    assert!(took < Duration::from_secs(1), "took {took:?}: {err}");
    err
}

/// The bytes a refusal says the work needs.
fn needed_bytes(err: &str) -> u64 {
    let (_, rest) = err.split_once(" needs ").expect("names what is needed");
    rest.split(' ')
        .next()
        .unwrap()
        .parse()
        .expect("a byte count")
}

fn path_str(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Item 4: memory guards.

#[test]
fn a_grid_times_levels_beyond_the_limit_is_refused_with_what_would_fit() {
    // The case: spacing 1e-5 in a 200-bohr box (4e7 nodes) with 200 levels aborted
    // after ~20 s with "memory allocation of 65599998360 bytes failed".
    let cfg = write_file("guard_big.toml", &square_well(200.0, 0.1, 20.0, 1e-5, 200));
    for cmd in ["spectrum", "run"] {
        let (o, took) = confine(&[cmd, path_str(&cfg), "--memory-limit", "16 GiB"]);
        let err = assert_refused(
            &o,
            took,
            &[
                "solve.levels",
                "grid.spacing >= ",
                "39999999 nodes",
                "16.0 GiB",
            ],
        );
        // The columns of the eigenvectors alone are 4e7 x 200 x 8 bytes.
        assert!(needed_bytes(&err) >= 39_999_999 * 200 * 8, "{err}");
        // The spacing it proposes fits.
        let h: f64 = err
            .split("grid.spacing >= ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        let fits = write_file("guard_fits.toml", &square_well(200.0, 0.1, 20.0, h, 200));
        let (o, _) = confine(&[
            "run",
            path_str(&fits),
            "--dry-run",
            "--memory-limit",
            "16 GiB",
        ]);
        let plan = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && !plan.contains("OVER THE LIMIT"),
            "{plan}"
        );
    }
}

#[test]
fn a_grid_under_the_node_limit_but_beyond_memory_is_refused() {
    // 1.9e8 nodes, under the 2e8 node limit, about 24 GB for a single level.
    let cfg = write_file(
        "guard_nodes.toml",
        &square_well(200.0, 0.1, 20.0, 2.1e-6, 1),
    );
    let (o, took) = confine(&["run", path_str(&cfg), "--memory-limit", "16 GiB"]);
    let err = assert_refused(&o, took, &["grid.spacing >= ", "190476191 nodes", "bytes"]);
    assert!(needed_bytes(&err) > 16 << 30, "{err}");
}

#[test]
fn ten_million_levels_are_refused_before_anything_is_built() {
    for (spacing, expected) in [(3e-5, "solve.levels <= "), (0.01, "interior nodes")] {
        let cfg = write_file(
            "guard_levels.toml",
            &square_well(200.0, 0.1, 20.0, spacing, 10_000_000),
        );
        let (o, took) = confine(&["run", path_str(&cfg), "--memory-limit", "16 GiB"]);
        assert_refused(&o, took, &["solve.levels", expected]);
    }
}

#[test]
fn refinements_that_grow_beyond_memory_are_capped() {
    let cfg = write_file("guard_refine.toml", &square_well(60.0, 0.1, 20.0, 0.25, 10));
    for cmd in ["converge", "validate"] {
        let (o, took) = confine(&[
            cmd,
            path_str(&cfg),
            "--refinements",
            "40",
            "--memory-limit",
            "4 GiB",
        ]);
        let err = assert_refused(&o, took, &["--refinements", "would fit", "bytes"]);
        // The refinement count it proposes runs.
        let r = err
            .split("--refinements ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap();
        assert!(r.parse::<usize>().unwrap() >= 3, "{err}");
    }
}

#[test]
fn a_huge_state_limit_is_refused_and_names_the_key() {
    for limit in ["100000000", "1000000000"] {
        let cfg = write_file(
            "guard_states.toml",
            &format!(
                "{}[particles]\nn = 4\nenergy_per_particle_max = 0.0\nstate_limit = {limit}\n",
                square_well(200.0, 0.1, 20.0, 0.25, 100)
            ),
        );
        let (o, took) = confine(&["run", path_str(&cfg), "--memory-limit", "16 GiB"]);
        assert_refused(
            &o,
            took,
            &[
                "particles.state_limit",
                "particles.state_limit <= ",
                "binned",
            ],
        );
    }
}

#[test]
fn a_ci_basis_beyond_the_limit_is_refused() {
    // M = 200 stayed under the old fixed 8 GiB cap and took 6.2 GB and over 15 minutes.
    let cfg = write_file(
        "guard_ci.toml",
        &format!(
            "{}[coulomb]\norbitals = 200\nenergy_per_particle_max = 0.0\n",
            square_well(200.0, 0.1, 20.0, 0.25, 210)
        ),
    );
    let (o, took) = confine(&["run", path_str(&cfg), "--memory-limit", "4 GiB"]);
    assert_refused(
        &o,
        took,
        &["coulomb.orbitals", "coulomb.orbitals <= ", "4.0 GiB"],
    );
}

#[test]
fn a_grid_check_limit_above_the_physical_memory_is_capped() {
    let physical = confine::resources::Physical::detect()
        .bytes()
        .expect("the physical memory is known on Linux");
    // A grid check sized beyond the physical memory, its own limit at twice the physical
    // memory (the "64 GiB" on a 24 GiB machine).
    let mut spacing = 0.25;
    let options = confine::physics::coulomb::grid2d::GridOptions::default();
    loop {
        let nodes = (120.0 / spacing) as usize - 1;
        let bytes = confine::physics::coulomb::grid2d::estimate_memory(
            nodes,
            confine::physics::coulomb::Exchange::Symmetric,
            &options,
        )
        .total_bytes;
        if bytes > physical {
            break;
        }
        spacing /= 1.5;
    }
    let cfg = write_file(
        "guard_grid_check.toml",
        &format!(
            "{}[coulomb]\norbitals = 10\nenergy_per_particle_max = -0.09\n\
             grid_check = {{ levels = 10, memory_limit = \"{} B\" }}\n",
            square_well(60.0, 0.1, 20.0, spacing, 20),
            2 * physical
        ),
    );
    let (o, took) = confine(&["run", path_str(&cfg)]);
    assert_refused(
        &o,
        took,
        &[
            "coulomb.grid_check",
            "of physical memory",
            "grid.spacing >= ",
        ],
    );
}

#[test]
fn ten_million_temperatures_are_refused_under_the_limit() {
    let cfg = write_file(
        "guard_temperatures.toml",
        &format!(
            "{}[analysis]\ntemperatures = {{ from = 1e-4, to = 0.1, points = 10000000 }}\n",
            square_well(200.0, 0.1, 20.0, 0.25, 20)
        ),
    );
    let (o, took) = confine(&["run", path_str(&cfg), "--memory-limit", "1 GiB"]);
    assert_refused(
        &o,
        took,
        &[
            "analysis.temperatures.points",
            "analysis.temperatures.points <= ",
        ],
    );
}

#[test]
fn a_million_row_table_is_refused_under_the_limit() {
    let rows: String = std::iter::once("x [bohr],V [Ha]\n".to_string())
        .chain((0..1_000_000).map(|i| {
            let x = -100.0 + 200.0 * i as f64 / 999_999.0;
            format!("{x},{}\n", -0.1 * (-x * x / 400.0).exp())
        }))
        .collect();
    let csv = write_file("guard_table.csv", &rows);
    let cfg = write_file(
        "guard_table.toml",
        "[system]\nbox_half_width = 150.0\n[potential]\ntype = \"tabulated\"\n\
         file = \"guard_table.csv\"\n[grid]\nspacing = 0.5\n[solve]\nlevels = 20\n",
    );
    let dir = scratch_dir("guard-table");
    let o = Command::new(binary())
        .args(["run", path_str(&cfg), "--memory-limit", "1 GiB", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    // Reading 41 MB of CSV comes first; the refusal follows before anything large.
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("potential.file") && err.contains("rows"),
        "{err}"
    );
    assert!(!dir.join("metadata.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
    // 41 MB: not left behind in the temp directory.
    let _ = std::fs::remove_file(&csv);
}

#[test]
fn sweeps_state_their_size_and_dry_run_prints_the_plan() {
    let dir = scratch_dir("guard-sweep");
    // 10^5 points: the plan, without computing.
    let cfg = dir.join("big.toml");
    std::fs::write(
        &cfg,
        format!(
            "{}[sweep]\npotential.depth = {{ from = 0.02, to = 0.5, points = 100000 }}\n",
            square_well(50.0, 0.1, 20.0, 0.5, 10)
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let (o, _) = confine(&["run", path_str(&cfg), "--dry-run", "--out", path_str(&out)]);
    let plan = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    for part in [
        "plan: 100000 case(s)",
        "largest case: ",
        " bytes",
        "time estimate: ",
        "from a reference case run on this machine",
        "dry run: nothing computed",
    ] {
        assert!(plan.contains(part), "`{part}` missing from: {plan}");
    }
    assert!(!out.exists(), "a dry run writes nothing");
    // 20 000 cases: 200 [[cases]] entries x 100 sweep points.
    let cases: String = (0..200)
        .map(|i| {
            format!(
                "[[cases]]\nname = \"c{i}\"\npotential.half_width = {}\n",
                5.0 + 0.1 * i as f64
            )
        })
        .collect();
    let cfg = dir.join("many.toml");
    std::fs::write(
        &cfg,
        format!(
            "{}{cases}[sweep]\npotential.depth = {{ from = 0.02, to = 0.5, points = 100 }}\n",
            square_well(50.0, 0.1, 20.0, 0.5, 10)
        ),
    )
    .unwrap();
    let (o, _) = confine(&["run", path_str(&cfg), "--dry-run"]);
    let plan = String::from_utf8_lossy(&o.stdout);
    assert!(plan.contains("plan: 20000 case(s)"), "{plan}");
    // A real sweep says how big it is before the first case.
    let cfg = dir.join("small.toml");
    std::fs::write(
        &cfg,
        format!(
            "{}[sweep]\npotential.depth = [0.1, 0.2]\n",
            square_well(50.0, 0.1, 20.0, 0.5, 10)
        ),
    )
    .unwrap();
    let (o, _) = confine(&[
        "run",
        path_str(&cfg),
        "--no-figures",
        "--out",
        path_str(&out),
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let plan_line = err.find("sweep plan: 2 case(s)").expect("the plan line");
    let first_case = err.find("case 0").expect("a case line");
    assert!(plan_line < first_case, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Item 8: messages.

/// `line` does not end in "X: X" (a message followed by itself as its cause).
fn assert_said_once(line: &str) {
    let parts: Vec<&str> = line.split(": ").collect();
    for k in 1..parts.len() {
        for j in k + 1..parts.len() {
            assert_ne!(
                parts[k..j].join(": "),
                parts[j..].join(": "),
                "said twice: {line}"
            );
        }
    }
}

#[test]
fn run_time_errors_print_their_message_once() {
    // More levels than nodes: found by the study, printed through an error chain.
    let cfg = write_file("guard_once.toml", &square_well(20.0, 0.1, 5.0, 2.0, 100));
    let dir = scratch_dir("guard-once");
    let (o, _) = confine(&["run", path_str(&cfg), "--out", path_str(&dir)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("levels requested").count(), 1, "{err}");
    assert_said_once(err.lines().next().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    let (o, _) = confine(&["spectrum", "/nonexistent/config.toml"]);
    let err = stderr(&o);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    assert_said_once(err.lines().next().unwrap());
}

#[test]
fn non_finite_matrix_entries_name_the_potential_key() {
    for (shape, params) in [
        ("linear", "start = -1e308\nend = 1e308"),
        ("harmonic", "spring = 1e300\ncenter = 1e6"),
        ("constant", "value = 1.7e308"),
    ] {
        let cfg = write_file(
            "guard_nonfinite.toml",
            &format!(
                "[system]\nbox_half_width = 200.0\n[potential]\ntype = \"piecewise\"\n\
                 [[potential.pieces]]\nfrom = -150.0\nto = 100.0\nshape = \"{shape}\"\n{params}\n\
                 [grid]\nspacing = 0.25\n[solve]\nlevels = 20\n"
            ),
        );
        let dir = scratch_dir("guard-nonfinite");
        for args in [vec!["spectrum"], vec!["run", "--out", path_str(&dir)]] {
            let (o, took) = confine(&[&args[..], &[path_str(&cfg)]].concat());
            let err = assert_refused(&o, took, &["potential.pieces[0]", "Ha"]);
            assert!(!err.contains("matrix entry"), "{err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    let cfg = write_file(
        "guard_mass.toml",
        &square_well(200.0, 0.1, 20.0, 0.25, 20).replace(
            "box_half_width = 200.0\n",
            "box_half_width = 200.0\nmass = 1e-310\n",
        ),
    );
    let (o, took) = confine(&["spectrum", path_str(&cfg)]);
    assert_refused(&o, took, &["system.mass", "grid.spacing"]);
}

#[test]
fn a_harmonic_centre_far_away_runs_or_fails_once_naming_the_case() {
    // V ~ 5e9 Ha on the piece walls off two equal empty boxes (exactly degenerate pairs): the
    // run either succeeds, or its message is printed once and names the case.
    let cfg = write_file(
        "guard_centre.toml",
        "[system]\nbox_half_width = 200.0\n[potential]\ntype = \"piecewise\"\n\
         [[potential.pieces]]\nfrom = -100.0\nto = 100.0\nshape = \"harmonic\"\nspring = 0.01\n\
         center = 1e6\n[grid]\nspacing = 0.25\n[solve]\nlevels = 20\n",
    );
    let dir = scratch_dir("guard-centre");
    let (o, _) = confine(&[
        "run",
        path_str(&cfg),
        "--no-figures",
        "--out",
        path_str(&dir),
    ]);
    let err = stderr(&o);
    if !o.status.success() {
        assert!(
            err.starts_with("error: ") && err.contains("case guard_centre"),
            "{err}"
        );
        assert_said_once(err.lines().next().unwrap());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_single_level_runs() {
    let cfg = write_file("guard_one.toml", &square_well(200.0, 0.1, 20.0, 0.25, 1));
    let dir = scratch_dir("guard-one");
    let (o, _) = confine(&[
        "run",
        path_str(&cfg),
        "--no-figures",
        "--out",
        path_str(&dir),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let levels = std::fs::read_to_string(dir.join("guard_one/levels.csv")).unwrap();
    let e0: f64 = levels
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    // E0 of the paper's well at h = 0.25 (see cli.rs).
    assert!((e0 - -0.0975069740914695).abs() < 1e-6, "{e0}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_energy_grid_outside_the_spectrum_is_a_warning() {
    let cfg = write_file(
        "guard_grid_above.toml",
        &format!(
            "{}[analysis]\nenergy_grid = {{ from = 5.0, to = 6.0, step = 0.01 }}\n",
            square_well(200.0, 0.1, 20.0, 0.25, 20)
        ),
    );
    let dir = scratch_dir("guard-grid");
    let (o, _) = confine(&[
        "run",
        path_str(&cfg),
        "--no-figures",
        "--out",
        path_str(&dir),
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("warning: ") && err.contains("analysis.energy_grid") && err.contains("above"),
        "{err}"
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metadata.json")).unwrap()).unwrap();
    let warnings = meta["cases"][0]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["kind"] == "energy_grid_outside_spectrum"
                && w["severity"] == "warning"
                && w["message"]
                    .as_str()
                    .unwrap()
                    .contains("analysis.energy_grid")),
        "{warnings:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_keys_inside_a_case_are_refused() {
    for (key, line) in [
        ("cases[0].cases", "cases = 1"),
        ("cases[0].sweep", "sweep = 2"),
    ] {
        let cfg = write_file(
            "guard_case_key.toml",
            &format!(
                "{}[[cases]]\nname = \"a\"\n{line}\n",
                square_well(40.0, 0.1, 10.0, 0.25, 12)
            ),
        );
        let (o, took) = confine(&["spectrum", path_str(&cfg)]);
        assert_refused(&o, took, &[key]);
    }
}
