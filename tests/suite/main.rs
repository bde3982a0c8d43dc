//! confine's integration tests, in one binary so that faer and the crate are linked once.
//! `common` holds the helpers the modules share (scratch directories, the reference configs).

mod common;

/// Counts heap bytes of tracked threads (see `memory`); untracked threads pay one flag check.
#[global_allocator]
static METER: memory::Meter = memory::Meter;

mod allocations;
mod analytic;
mod canonical_inverse;
mod cli;
mod compare_tables;
mod config;
mod converge;
mod coulomb_ci;
mod coulomb_grid;
mod coulomb_study;
mod degenerate;
mod determinism;
mod diagnostics;
mod eigen;
mod fault_injection;
mod fermions;
mod guards;
mod many_body;
mod mass;
mod matrix_market;
mod memory;
mod nhc_listing;
mod numerics;
mod output_names;
mod partial_eigen;
mod particles;
mod plots;
mod presets;
mod profiles;
mod radial;
mod radial_cli;
mod radial_run;
mod random_configs;
mod report;
mod slurm_scripts;
mod spectrum;
mod study;
mod sweep;
mod sweep_resume;
mod thermo;
mod timings;
