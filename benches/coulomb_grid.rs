//! Benchmark of the 2-D grid solve of two electrons (`confine::physics::coulomb::grid2d`): the paper's
//! well U0 = 0.1 Ha, a = 20 bohr in a box L = 60 bohr, h = 0.25 bohr (479 interior nodes, sector
//! dimensions 114 960 and 114 481), soft Coulomb λ = 1, ε_r = 1, s = 1 bohr, lowest 20 states per
//! sector (target: ≤ 60 s for both sectors in release).
//!
//! Before criterion runs, one timed solve of each sector prints the stage times (assembly,
//! ordering, factorization, Lanczos, observables), the memory (estimated and exact), the peak
//! resident memory (VmHWM, reset through /proc/self/clear_refs before the run) and the lowest
//! ten energies. `CONFINE_REPORT_ONLY=1` prints only that report; `CONFINE_COULOMB_L` and
//! `CONFINE_COULOMB_H` change L and h (bohr).

use confine::model::grid::Grid;
use confine::model::potential::Potential;
use confine::physics::coulomb::grid2d::{solve_sector, GridOptions, SectorSolution};
use confine::physics::coulomb::{Exchange, SoftCoulomb};
use criterion::{Criterion, SamplingMode};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn setup() -> (Potential, Grid) {
    let l = env_f64("CONFINE_COULOMB_L", 60.0);
    let h = env_f64("CONFINE_COULOMB_H", 0.25);
    let well = Potential::square_well(l, 0.1, 20.0).expect("reference well");
    let grid = Grid::aligned(l, &well.breakpoints(), h).expect("grid");
    (well, grid)
}

fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn solve(exchange: Exchange, levels: usize) -> SectorSolution {
    let (well, grid) = setup();
    let options = GridOptions {
        levels,
        memory_limit_bytes: 8 << 30,
        ..Default::default()
    };
    solve_sector(
        &well,
        &grid,
        1.0,
        &SoftCoulomb::default(),
        exchange,
        &options,
    )
    .expect("grid solve")
}

fn report() {
    let mut total = 0.0;
    for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
        let reset = reset_peak();
        let start = Instant::now();
        let s = solve(exchange, 20);
        let seconds = start.elapsed().as_secs_f64();
        total += seconds;
        let t = &s.timings;
        let mib = |b: u64| b as f64 / 1048576.0;
        println!(
            "{} sector: N = {}, D = {}, σ = {:.9} Ha: {seconds:.2} s (assembly {:.2}, ordering {:.2}, factorization {:.2}, Lanczos {:.2} [of which solves {:.2}; {} restarts, {} solves], observables {:.2})",
            exchange.spin_name(),
            s.nodes,
            s.dimension,
            s.shift,
            t.assembly_s,
            t.ordering_s,
            t.factorization_s,
            t.eigensolver_s,
            t.solves_s,
            s.restarts,
            s.operator_applications,
            t.observables_s
        );
        println!(
            "  memory: matrix nnz {} ({:.1} MiB), factor {} entries ({:.1} MiB; estimate {} entries), factor scratch {:.1} MiB, Lanczos {:.1} MiB, total {:.1} MiB (estimate {:.1} MiB); peak RSS {:?} kB (reset: {reset})",
            s.memory.matrix_nnz,
            mib(s.memory.matrix_bytes),
            s.memory.factor_entries,
            mib(s.memory.factor_bytes),
            s.estimated_memory.factor_entries,
            mib(s.memory.factor_scratch_bytes),
            mib(s.memory.eigensolver_bytes),
            mib(s.memory.total_bytes),
            mib(s.estimated_memory.total_bytes),
            peak_kb()
        );
        for (i, st) in s.states.iter().take(10).enumerate() {
            println!(
                "  {i:2}  E = {:.12} Ha  <K> = {:.10}  <V> = {:.10}  <W> = {:.10}  residual {:.1e}  x{}",
                st.energy, st.kinetic, st.potential, st.interaction, st.residual, st.multiplicity
            );
        }
        println!("  max residual over 20: {:.2e} Ha", s.max_residual());
        #[cfg(feature = "arpack")]
        arpack_check(exchange, &s);
    }
    println!("both sectors: {total:.2} s");
}

/// With `--features arpack`: the lowest 10 of the sector by ARPACK on the same operator, and the
/// largest relative difference to the Lanczos energies.
#[cfg(feature = "arpack")]
fn arpack_check(exchange: Exchange, lanczos: &SectorSolution) {
    let (well, grid) = setup();
    let options = GridOptions {
        levels: 10,
        memory_limit_bytes: 8 << 30,
        ..Default::default()
    };
    let start = Instant::now();
    let a = confine::physics::coulomb::grid2d::solve_sector_arpack(
        &well,
        &grid,
        1.0,
        &SoftCoulomb::default(),
        exchange,
        &options,
    )
    .expect("ARPACK solve");
    let worst = a
        .states
        .iter()
        .zip(&lanczos.states)
        .map(|(x, y)| ((x.energy - y.energy) / y.energy).abs())
        .fold(0.0, f64::max);
    println!(
        "  ARPACK (lowest 10): {:.2} s ({} restarts, {} solves), max residual {:.1e} Ha, max |E_ARPACK − E_Lanczos| / |E| = {worst:.1e}",
        start.elapsed().as_secs_f64(),
        a.restarts,
        a.operator_applications,
        a.max_residual()
    );
}

fn main() {
    report();
    if std::env::var_os("CONFINE_REPORT_ONLY").is_some() {
        return;
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    let mut group = c.benchmark_group("coulomb_grid_L60_h0.25_k20");
    group.sampling_mode(SamplingMode::Flat);
    for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
        group.bench_function(exchange.spin_name(), |b| {
            b.iter(|| black_box(solve(exchange, 20)))
        });
    }
    group.finish();
    c.final_summary();
}
