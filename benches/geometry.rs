//! Spheres (issue 14's benchmark): the paper's well as a sphere — a core of depth 0.1 Ha and
//! radius 20 bohr in a hard sphere of R = 200 bohr, h = 0.25 bohr
//! (`configs/geometry/sphere_paper.toml`) — with every level below 0.05 Ha in every angular
//! channel (solved until a channel has none below the cap), and the study's one-particle stage
//! on those (n, l) levels with their 2l + 1 degeneracies
//! (`pipeline::geometry_study::one_particle_below`).
//!
//!     cargo bench --bench geometry

use confine::pipeline::geometry_study::one_particle_below;
use criterion::{Criterion, SamplingMode};
use std::hint::black_box;
use std::time::Duration;

fn main() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/geometry/sphere_paper.toml");
    let study = confine::load_study(&path).expect("the sphere config");
    let case = &study.cases[0];
    let run = || one_particle_below(case, 0.05).expect("levels and thermodynamics");
    let (spectrum, one) = run();
    let radial = spectrum.radial().expect("a sphere");
    println!(
        "sphere reference below 0.05 Ha: {} levels, {} states, channels 0..{}, {} grid energies",
        radial.levels.len(),
        radial.degeneracies().iter().sum::<u64>(),
        radial.completeness.next_channel.unwrap_or(0),
        one.temperatures.len()
    );
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("geometry");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function(
        "sphere R=200 a=20 U0=0.1, levels below 0.05 Ha + N=1 thermodynamics",
        |b| b.iter(|| black_box(run())),
    );
    group.finish();
    criterion.final_summary();
}
