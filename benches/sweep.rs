//! The issue's sweep benchmark: 100 cases of the paper's reference case (U0 swept from 0.02 to
//! 0.5 Ha; a = 20, L = 200 bohr, h = 0.25 bohr, 200 levels, N = 1) with the full one-particle
//! thermodynamics and the summary figures, written to a temporary directory. Then the same
//! command again, which finds every case finished and recomputes nothing.
//!
//!     cargo bench --bench sweep
//!
//! One timed run each (a sweep of 100 cases is itself the repetition); criterion's statistics
//! would need ten of them.

use confine::pipeline::config::parse_study;
use confine::pipeline::output::figures::FigureOutput;
use confine::pipeline::sweep::runner::{run_sweep, Silent, SweepOptions};
use std::path::Path;
use std::time::Instant;

const CONFIG: &str = r#"
[system]
box_half_width = 200.0
[potential]
type = "square_well"
depth = 0.1
half_width = 20.0
[grid]
spacing = 0.25
[solve]
levels = 200
[analysis]
epsilon = 0.0004
temperatures = { from = 1e-4, to = 0.15, points = 400 }
truncation_tolerance = 1e-8
[sweep]
potential.depth = { from = 0.02, to = 0.5, points = 100 }
"#;

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run either way.
    let study = parse_study(CONFIG, Path::new("benches/sweep.toml")).expect("valid config");
    assert_eq!(study.cases.len(), 100);
    let dir = std::env::temp_dir().join(format!("confine-bench-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = SweepOptions {
        figures: FigureOutput::default(),
        ..Default::default()
    };
    let t = Instant::now();
    let first = run_sweep(&study, &dir, &options, &Silent).expect("sweep runs");
    let fresh = t.elapsed().as_secs_f64();
    assert_eq!((first.computed, first.failed), (100, 0));
    let t = Instant::now();
    let again = run_sweep(&study, &dir, &options, &Silent).expect("sweep runs");
    let resumed = t.elapsed().as_secs_f64();
    assert_eq!(again.reused, 100);
    println!(
        "sweep of 100 cases (reference case, depth 0.02..0.5 Ha, N = 1, {} threads): {fresh:.2} s; re-run with every case finished: {resumed:.3} s",
        rayon::current_num_threads()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
