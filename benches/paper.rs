//! The user's wait, end to end: `confine run configs/paper.toml` as the library does it (load,
//! every case, every table and figure written), and the N = 4 spin-½ ensemble of the reference
//! case alone (its spectrum, enumeration, per-state thermodynamics, canonical table and NHC
//! intervals), the part of the paper run that grows fastest with N.
//!
//!     cargo bench --bench paper
//!
//! The stage-by-stage profile of the same run is `bash benches/profile_paper.sh`.

use confine::pipeline::config::{load_study, parse_study};
use confine::pipeline::output::figures::FigureOutput;
use confine::pipeline::study::{run_case, run_study};
use confine::write_study;
use criterion::{Criterion, SamplingMode};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// The reference case of configs/paper.toml with only N = 4 spin-½ electrons.
const N4: &str = r#"
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
energy_grid = { from = -0.1, to = 0.06, step = 0.0001 }
temperatures = { from = 1e-4, to = 0.15, points = 400 }
truncation_tolerance = 1e-8
difference = "centered"
[particles]
n = 4
spin = "half"
energy_per_particle_max = 0.03
"#;

fn main() {
    let paper = load_study(Path::new("configs/paper.toml")).expect("configs/paper.toml loads");
    let n4 = parse_study(N4, Path::new("benches/paper_n4.toml")).expect("valid config");
    let dir = std::env::temp_dir().join(format!("confine-bench-paper-{}", std::process::id()));
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("paper");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(30));
    group.bench_function("run configs/paper.toml, tables and figures", |b| {
        b.iter(|| {
            let result = run_study(black_box(&paper)).expect("the paper run");
            let _ = std::fs::remove_dir_all(&dir);
            write_study(&result, &dir, &FigureOutput::default()).expect("written")
        })
    });
    group.bench_function(
        "N=4 spin-1/2 of the reference case (with its spectrum)",
        |b| b.iter(|| run_case(black_box(&n4.cases[0])).expect("N = 4")),
    );
    group.finish();
    criterion.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
}
