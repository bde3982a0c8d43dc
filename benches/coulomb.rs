//! Benchmark of the two-electron CI (`confine::physics::coulomb::ci`) on the paper's reference well
//! (U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr, h = 0.25 bohr: n = 1599 nodes), soft Coulomb
//! λ = 1, ε_r = 1, s = 1 bohr.
//!
//! Before criterion runs, one timed run each for M = 50 and M = 100 orbitals prints the split
//! (orbitals, kinetic matrix, integrals, CI assembly, diagonalization, observables), the block
//! dimensions and the peak resident memory (VmHWM, reset through /proc/self/clear_refs), then the
//! ground-state convergence in M (eigenvalues only) for the reference well and for the same well
//! in L = 60. Target: M = 100 in ≤ 30 s (release, 2 cores).
//! `CONFINE_REPORT_ONLY=1` prints only that report; criterion then times M = 30.

use confine::eigen::SolverOptions;
use confine::model::potential::Potential;
use confine::physics::coulomb::ci::{convergence, CiProblem, CiSettings, StateSelection, Symmetry};
use confine::physics::coulomb::{Exchange, SoftCoulomb};
use confine::spectrum::{solve_aligned, Spectrum};
use criterion::{Criterion, SamplingMode};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Grid spacing (bohr).
const SPACING: f64 = 0.25;

/// The reference well in a box of half-width `box_half_width` (bohr).
fn well(box_half_width: f64) -> Potential {
    Potential::square_well(box_half_width, 0.1, 20.0).expect("reference well")
}

fn orbitals(potential: &Potential, levels: usize) -> Spectrum {
    solve_aligned(potential, SPACING, 1.0, levels, &SolverOptions::default()).expect("spectrum")
}

/// VmHWM (peak resident set, kB) from /proc/self/status, if readable.
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of the whole process, user + system, all threads (s), from /proc/self/stat
/// (clock ticks of 1/100 s, the Linux USER_HZ): on a shared machine wall time depends on the
/// load, CPU time much less.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); false if not possible.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// One full CI run with M orbitals, timed stage by stage; `truncated` keeps only the pairs with
/// e_i + e_j ≤ e_0 + e_{M−1}.
fn timed_run(m: usize, symmetry: Symmetry, truncated: bool) {
    let potential = well(200.0);
    let reset = reset_peak();
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let spectrum = orbitals(&potential, m);
    let t_orbitals = start.elapsed().as_secs_f64();
    let interaction = SoftCoulomb::default();
    let problem =
        CiProblem::new(&potential, &spectrum, &interaction, m, symmetry).expect("CI problem");
    let e = spectrum.energies();
    let settings = CiSettings {
        pair_energy_max: truncated.then(|| e[0] + e[m - 1]),
        ..CiSettings::new(m)
    };
    let ci = problem.solve(&settings).expect("CI");
    let total = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_start).map(|(b, a)| b - a);
    let p = problem.timings();
    let t = ci.timings;
    let dims: Vec<String> = ci
        .blocks
        .iter()
        .map(|b| format!("{}{:?}:{}", b.exchange.spin_name(), b.parity, b.dimension))
        .collect();
    println!(
        "CI M={m} {symmetry:?}{} n={} ({} threads): total {total:.2} s = orbitals {t_orbitals:.2} + kinetic {:.3} \
         + integrals {:.2} + assembly {:.2} + diagonalization {:.2} + observables {:.2} s; \
         parity blocks: {}; blocks [{}]; CPU time {cpu:.2?} s; peak RSS {:?} kB (reset: {reset}); \
         load average {}",
        if truncated {
            " pairs e_i+e_j <= e_0+e_(M-1)"
        } else {
            ""
        },
        spectrum.grid.interior_len(),
        rayon::current_num_threads(),
        p.kinetic_seconds,
        p.integrals_seconds,
        t.assembly_seconds,
        t.diagonalization_seconds,
        t.observables_seconds,
        problem.integrals().uses_parity(),
        dims.join(", "),
        peak_kb(),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );
    let s = ci.lowest(Exchange::Symmetric).expect("singlet");
    let a = ci.lowest(Exchange::Antisymmetric).expect("triplet");
    println!(
        "  singlet E0 = {:.10} Ha (<K> {:.6e}, <V> {:.6}, <W> {:.6}), triplet E0 = {:.10} Ha, \
         2e0 = {:.10} Ha, e0 + e1 = {:.10} Ha",
        s.energy,
        s.kinetic,
        s.potential,
        s.interaction,
        a.energy,
        2.0 * spectrum.levels[0].energy,
        spectrum.levels[0].energy + spectrum.levels[1].energy
    );
}

/// Ground-state energies (both sectors) for growing M, eigenvalues only.
fn convergence_table(box_half_width: f64, sizes: &[usize]) {
    let potential = well(box_half_width);
    let top = *sizes.last().expect("sizes");
    let spectrum = orbitals(&potential, top);
    let problem = CiProblem::new(
        &potential,
        &spectrum,
        &SoftCoulomb::default(),
        top,
        Symmetry::Auto,
    )
    .expect("CI problem");
    println!(
        "convergence L = {box_half_width}: orbitals up to e_{} = {:.6} Ha",
        top - 1,
        spectrum.levels[top - 1].energy
    );
    for &m in sizes {
        let start = Instant::now();
        let e = problem.energies(&CiSettings::new(m)).expect("energies");
        println!(
            "  M = {m:3}: singlet E0 = {:.10} Ha, triplet E0 = {:.10} Ha ({:.2} s)",
            e.symmetric[0],
            e.antisymmetric[0],
            start.elapsed().as_secs_f64()
        );
    }
    let c = convergence(
        &problem,
        sizes[sizes.len() - 2],
        top,
        StateSelection::Lowest(5),
    )
    .expect("convergence");
    println!(
        "  M = {} -> {}: largest change of the 5 lowest per sector {:.3e} Ha",
        c.coarse_orbitals,
        c.fine_orbitals,
        c.max_abs_change()
    );
}

fn main() {
    timed_run(50, Symmetry::Ignore, false);
    timed_run(50, Symmetry::Auto, false);
    timed_run(100, Symmetry::Auto, true);
    timed_run(100, Symmetry::Auto, false);
    convergence_table(200.0, &[20, 40, 60, 80, 100]);
    convergence_table(60.0, &[20, 40, 60, 80, 100]);
    if std::env::var_os("CONFINE_REPORT_ONLY").is_some() {
        return;
    }

    let potential = well(200.0);
    let spectrum = orbitals(&potential, 30);
    let interaction = SoftCoulomb::default();
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("coulomb");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("CI M=30 reference well h=0.25", |b| {
        b.iter(|| {
            CiProblem::new(
                black_box(&potential),
                &spectrum,
                &interaction,
                30,
                Symmetry::Auto,
            )
            .unwrap()
            .solve(&CiSettings::new(30))
            .unwrap()
        })
    });
    group.finish();
    criterion.final_summary();
}
