//! Spheres (issue 14's benchmark): the paper's well as a sphere — a core of depth 0.1 Ha and
//! radius 20 bohr in a hard sphere of R = 200 bohr, h = 0.25 bohr — with every level below
//! 0.05 Ha in every angular channel (solved until a channel has none below the cap), and the full
//! one-particle thermodynamics of those (n, l) levels with their 2l + 1 degeneracies.
//!
//!     cargo bench --bench geometry

use confine::channels::{RadialProblem, Selection};
use confine::model::potential::{Piece, Potential, Shape};
use confine::model::radial::Geometry;
use confine::physics::radial::{one_particle_thermodynamics, state_list, ThermoSettings};
use confine::physics::thermo::microcanonical::Difference;
use criterion::{Criterion, SamplingMode};
use std::hint::black_box;
use std::time::Duration;

fn main() {
    let core = Potential::new(
        200.0,
        vec![Piece {
            from: 0.0,
            to: 20.0,
            shape: Shape::Constant { value: -0.1 },
            mass: None,
        }],
    )
    .expect("the core");
    let problem = RadialProblem::new(core, 1.0, 0.25, Geometry::Sphere).expect("the sphere");
    // The paper's energy grid and a logarithmic temperature range up to 0.15 Ha.
    let settings = ThermoSettings {
        temperatures: (0..200)
            .map(|i| 1e-4 * 1500.0f64.powf(i as f64 / 199.0))
            .collect(),
        energy_grid: (0..1501).map(|i| -0.1 + 1e-4 * i as f64).collect(),
        epsilon: 4e-4,
        difference: Difference::Centered,
        nhc_tolerance: 0.0,
    };
    let run = || {
        let spectrum = problem
            .spectrum(Selection::Below(0.05), None)
            .expect("levels");
        let states = state_list(&spectrum).expect("states");
        one_particle_thermodynamics(&states, &settings).expect("thermodynamics")
    };
    let spectrum = problem
        .spectrum(Selection::Below(0.05), None)
        .expect("levels");
    println!(
        "sphere reference below 0.05 Ha: {} levels, {} states, channels 0..{}",
        spectrum.levels.len(),
        spectrum.degeneracies().iter().sum::<u64>(),
        spectrum.completeness.next_channel.unwrap_or(0)
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
