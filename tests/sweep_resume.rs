//! Resuming an interrupted sweep recomputes nothing that finished: the solves are counted
//! (`spectrum::solves_performed`, a per-process counter, hence this file has a single test).

use confine::config::parse_study;
use confine::output::plots::FigureOutput;
use confine::spectrum::solves_performed;
use confine::sweep::run::{run_sweep, Silent, SweepOptions};
use std::path::Path;

const SWEEP: &str = r#"
[system]
box_half_width = 20.0
[potential]
type = "square_well"
depth = 0.5
half_width = 4.0
[grid]
spacing = 0.1
[solve]
levels = 20
[sweep]
potential.depth = { from = 0.3, to = 0.7, points = 5 }
"#;

#[test]
fn an_interrupted_sweep_recomputes_only_the_unfinished_cases() {
    let study = parse_study(SWEEP, Path::new("resume.toml")).unwrap();
    let dir = std::env::temp_dir().join(format!("confine-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = SweepOptions {
        figures: FigureOutput {
            png: false,
            svg: false,
        },
        ..Default::default()
    };

    let before = solves_performed();
    let first = run_sweep(&study, &dir, &options, &Silent).unwrap();
    let per_run = solves_performed() - before;
    assert_eq!((first.computed, first.reused), (5, 0));
    assert!(per_run >= 5, "each case solves at least once ({per_run})");
    let summary = std::fs::read(dir.join("summary.csv")).unwrap();

    // Re-run: everything is on disk with matching hashes, nothing is solved.
    let before = solves_performed();
    let again = run_sweep(&study, &dir, &options, &Silent).unwrap();
    assert_eq!(solves_performed() - before, 0);
    assert_eq!((again.computed, again.reused), (0, 5));
    assert_eq!(std::fs::read(dir.join("summary.csv")).unwrap(), summary);

    // Interrupt: case 1 never ran; case 3 was killed while its files were being moved into
    // place (tables present, metadata.json, which is moved last, missing, a staging directory
    // left behind).
    let case1 = dir.join(&study.cases[1].name);
    let case3 = dir.join(&study.cases[3].name);
    std::fs::remove_dir_all(&case1).unwrap();
    std::fs::remove_file(case3.join("metadata.json")).unwrap();
    std::fs::create_dir_all(case3.join(".staging-999999")).unwrap();
    std::fs::write(case3.join(".staging-999999/levels.csv"), "partial").unwrap();
    // A finished case computed by another config (or version) must be recomputed too.
    let case4 = dir.join(&study.cases[4].name).join("metadata.json");
    let meta = std::fs::read_to_string(&case4).unwrap();
    let hash = &study_hash(&meta);
    std::fs::write(&case4, meta.replace(hash, "0000000000000000")).unwrap();

    let before = solves_performed();
    let resumed = run_sweep(&study, &dir, &options, &Silent).unwrap();
    let solves = solves_performed() - before;
    assert_eq!((resumed.computed, resumed.reused), (3, 2));
    // Every case here needs the same number of solves.
    assert_eq!(solves * 5, per_run * 3, "{solves} solves for 3 of 5 cases");
    assert_eq!(std::fs::read(dir.join("summary.csv")).unwrap(), summary);
    assert!(
        !case3.join(".staging-999999").exists(),
        "stale staging removed"
    );
    assert!(case1.join("metadata.json").exists() && case3.join("levels.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

fn study_hash(meta: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(meta).unwrap();
    v["sweep"]["hash"].as_str().unwrap().to_string()
}
