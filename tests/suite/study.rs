//! `run`: a study from config to tables, with the paper's negative-heat-capacity drop found,
//! reproducible output and clean failures.

use crate::common::{read_csv, scratch};
use confine::pipeline::config::parse_study;
use confine::pipeline::output::figures::FigureOutput;
use confine::pipeline::output::write::write_study;
use confine::pipeline::study::{nhc_of, run_study, StudyError, TemperatureDefinition};
use std::path::Path;
use std::process::Command;

/// The paper's reference case with a temperature range its 80 levels support.
const REFERENCE: &str = r#"
[system]
box_half_width = 200.0
[potential]
type = "square_well"
depth = 0.1
half_width = 20.0
[grid]
spacing = 0.25
[solve]
levels = 80
[analysis]
epsilon = 0.0004
energy_grid = { from = -0.1, to = 0.05, step = 0.0005 }
temperatures = { from = 1e-3, to = 0.05, points = 40 }
"#;

#[test]
fn the_drop_between_the_last_bound_and_first_unbound_level_is_found() {
    let study = parse_study(REFERENCE, Path::new("reference.toml")).unwrap();
    let result = run_study(&study).unwrap();
    let case = &result.cases[0];
    let e5 = case.levels[5].energy;
    let e6 = case.levels[6].energy;
    assert!(e5 < 0.0 && e6 > 0.0);
    for definition in [
        TemperatureDefinition::Kinetic,
        TemperatureDefinition::Microcanonical,
        TemperatureDefinition::KineticWindow,
    ] {
        let set = nhc_of(&case.nhc, definition).unwrap();
        let hit = set
            .intervals
            .iter()
            .find(|i| i.e_start <= e5 + 1e-3 && i.e_end >= e6 - 1e-3);
        let hit = hit.unwrap_or_else(|| panic!("{definition}: no interval across E5..E6"));
        // The particle leaves the well: T^(K) falls from 2<K>_5 ≈ 0.13 Ha to ~1e-3 Ha.
        assert!(hit.relative_drop > 0.9, "{definition}: {hit:?}");
    }
    // The canonical temperature has a positive heat capacity everywhere.
    let tc = nhc_of(&case.nhc, TemperatureDefinition::Canonical).unwrap();
    assert!(tc.intervals.is_empty(), "{:?}", tc.intervals);
    // Table invariants: T_K = 2<K>, K + V = E, S = ln(n + 1) for a non-degenerate spectrum.
    for l in &case.levels {
        assert_eq!(l.t_kinetic, 2.0 * l.kinetic);
        assert!((l.kinetic + l.potential - l.energy).abs() < 1e-15);
        assert!((l.entropy - ((l.n + 1) as f64).ln()).abs() < 1e-12);
    }
    // The canonical U(T) increases and C > 0.
    for w in case.canonical.windows(2) {
        assert!(w[1].energy > w[0].energy && w[1].heat_capacity > 0.0);
    }
    // T_C(E) is the inverse of U(T): check on the canonical table's own points.
    for p in case.canonical.iter().step_by(7) {
        let t = confine::physics::thermo::canonical::canonical_temperature(
            &confine::physics::thermo::StateList::single_particle(
                case.spectrum.energies(),
                case.spectrum.kinetic(),
            )
            .unwrap(),
            p.energy,
            1e-4,
            0.06,
        )
        .unwrap();
        assert!((t - p.temperature).abs() <= 1e-10 * p.temperature);
    }
}

#[test]
fn tables_name_their_units_and_a_rerun_is_byte_identical() {
    let study = parse_study(REFERENCE, Path::new("reference.toml")).unwrap();
    let figures = FigureOutput {
        png: true,
        svg: true,
    };
    let (a, b) = (scratch("a"), scratch("b"));
    let r1 = run_study(&study).unwrap();
    write_study(&r1, &a, &figures).unwrap();
    let r2 = run_study(&study).unwrap();
    let written = write_study(&r2, &b, &figures).unwrap();
    let case = a.join("reference");
    let (h, rows) = read_csv(&case.join("levels.csv"));
    for col in [
        "n",
        "energy [Ha]",
        "kinetic [Ha]",
        "potential [Ha]",
        "T_K [Ha]",
        "S [k_B]",
        "T_mu [Ha]",
    ] {
        assert!(h.iter().any(|c| c == col), "levels.csv lacks {col}: {h:?}");
    }
    assert!(rows.len() >= 80);
    let (h, _) = read_csv(&case.join("canonical.csv"));
    for col in ["T [Ha]", "U [Ha]", "S [k_B]", "C [k_B]"] {
        assert!(
            h.iter().any(|c| c == col),
            "canonical.csv lacks {col}: {h:?}"
        );
    }
    let (h, rows) = read_csv(&case.join("temperatures.csv"));
    for col in ["E [Ha]", "T_C [Ha]", "T_KE [Ha]"] {
        assert!(
            h.iter().any(|c| c == col),
            "temperatures.csv lacks {col}: {h:?}"
        );
    }
    assert_eq!(rows.len(), 301);
    let (h, rows) = read_csv(&case.join("nhc.csv"));
    assert!(h.iter().any(|c| c == "drop [Ha]"));
    assert!(rows.iter().any(|r| r[0] == "T_K"));
    // Every table and figure is byte-identical on the re-run.
    let mut compared = 0;
    for path in &written {
        let rel = path.strip_prefix(&b).unwrap();
        if rel == Path::new("metadata.json") {
            continue; // records wall times
        }
        let (x, y) = (
            std::fs::read(a.join(rel)).unwrap(),
            std::fs::read(path).unwrap(),
        );
        assert!(x == y, "{} differs between runs", rel.display());
        compared += 1;
    }
    assert!(compared >= 4 + 6, "only {compared} files compared");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["generator"]["name"], "confine");
    assert!(meta["cases"][0]["truncation"]["bound"].as_f64().unwrap() <= 1e-10);
    assert!(meta["cases"][0]["solver"]["max_residual"].is_f64());
    // No staging leftovers.
    for entry in std::fs::read_dir(&a).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            !name.to_string_lossy().starts_with('.'),
            "{name:?} left behind"
        );
    }
}

#[test]
fn a_temperature_range_beyond_the_grid_is_refused() {
    let text = REFERENCE.replace(
        "temperatures = { from = 1e-3, to = 0.05, points = 40 }",
        "temperatures = { from = 1e-3, to = 5.0, points = 40 }",
    );
    let study = parse_study(&text, Path::new("hot.toml")).unwrap();
    let err = run_study(&study).unwrap_err();
    assert!(matches!(err, StudyError::Unsupported { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("analysis.temperatures.to"), "{msg}");
}

#[test]
fn run_cli_writes_outputs_and_refuses_unwritable_directories() {
    let dir = scratch("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("small.toml");
    std::fs::write(
        &cfg,
        REFERENCE.replace("box_half_width = 200.0", "box_half_width = 60.0"),
    )
    .unwrap();
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("Negative heat capacity"), "{stdout}");
    for f in [
        "small/levels.csv",
        "small/canonical.csv",
        "small/temperatures.csv",
        "small/nhc.csv",
        "metadata.json",
        "figures/fig1_kinetic_vs_energy.png",
        "figures/fig3_temperatures_small.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // A path below a regular file cannot be a directory.
    let blocked = cfg.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args([
            "run",
            cfg.to_str().unwrap(),
            "--out",
            blocked.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot be written"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    // A bad config writes nothing.
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        REFERENCE.replace("epsilon = 0.0004", "epsilon = -1.0"),
    )
    .unwrap();
    let bad_out = dir.join("bad_out");
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args([
            "run",
            bad.to_str().unwrap(),
            "--out",
            bad_out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("analysis.epsilon"));
    assert!(!bad_out.exists(), "a failed run left {bad_out:?}");
}

/// A cancelled study stops at a stage boundary with `Cancelled`, whichever stage the request
/// arrives in, and an uncancelled one is unaffected.
#[test]
fn a_cancelled_study_stops_at_the_next_stage_boundary() {
    use confine::pipeline::study::{run_study_with, Cancel, StudyError};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let text = crate::common::square_well(40.0, 0.1, 4.0, 0.1, 60)
        + "[particles]\nn = [1, 2, 3]\nspin = \"half\"\nenergy_per_particle_max = 0.05\n";
    let study =
        confine::pipeline::config::parse_study(&text, std::path::Path::new("c.toml")).unwrap();
    // Count the checks of a full run, then cancel at each of them in turn.
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let full = run_study_with(
        &study,
        &Cancel::when(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            false
        }),
    )
    .unwrap();
    let checks = seen.load(Ordering::Relaxed);
    assert!(
        checks >= 6,
        "case start, after the spectrum and one-particle stages, each N: {checks}"
    );
    assert_eq!(full.cases[0].particles.len(), 3);
    for stop_at in 0..checks {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let cancel = Cancel::when(move || c.fetch_add(1, Ordering::Relaxed) >= stop_at);
        match run_study_with(&study, &cancel) {
            Err(StudyError::Cancelled { case }) => assert_eq!(case, study.cases[0].name),
            other => panic!("stop at check {stop_at}: {other:?}"),
        }
        assert_eq!(
            calls.load(Ordering::Relaxed),
            stop_at + 1,
            "no work after the stop"
        );
    }
}
