//! Benchmark of the N-fermion states of the paper's reference well (U0 = 0.1 Ha, a = 20 bohr,
//! L = 200 bohr), orbitals from `Problem::spectrum` on h = 0.1 bohr, built once outside
//! the timed loops (as many levels as the NeedMoreOrbitals check asks for).
//!
//! * "enumerate N=4": every spin-½ state of N = 4 with E/N ≤ 0.03 Ha (E_max = 0.12 Ha total),
//!   with ⟨K⟩ (targets: ≤ 2 s, ≤ 200 MB peak).
//! * "binned N=64": Ω_N and Σ K on bins for N = 64 spin ½ up to E/N ≤ 0.03 Ha
//!   (E_max = 1.92 Ha total), bins of 0.0064 Ha (1e-4 Ha in E/N), δ = bin/64 (target ≤ 2 s).
//!
//! Before criterion runs, one timed run of each prints the wall time, the sizes and the peak
//! resident memory (VmHWM of /proc/self/status, reset through /proc/self/clear_refs before the
//! run, so it is the peak of that run plus what the process already held).
//! `CONFINE_REPORT_ONLY=1` prints only that report.

use confine::model::potential::Potential;
use confine::model::problem::Problem;
use confine::physics::many_body::{
    binned_counts, binned_counts_with, enumerate, BinningSettings, EnumerationSettings,
    ManyBodyError, Orbitals, Spin,
};
use criterion::{Criterion, SamplingMode};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Grid spacing of the orbital solve (bohr).
const SPACING: f64 = 0.1;
/// Energy per particle cap (Hartree).
const E_PER_PARTICLE: f64 = 0.03;
/// Bin width of the N = 64 curve (Hartree, total energy).
const BIN_WIDTH_64: f64 = 64.0 * 1e-4;

/// The reference-well orbitals with `levels` levels on h = SPACING.
fn orbitals(levels: usize) -> Orbitals {
    let well = Potential::square_well(200.0, 0.1, 20.0).expect("reference well");
    let spectrum = Problem::new(well, 1.0, SPACING, levels)
        .spectrum()
        .expect("spectrum");
    for w in &spectrum.warnings {
        eprintln!("spectrum warning ({levels} levels): {w}");
    }
    Orbitals::from_spectrum(&spectrum).expect("orbitals")
}

/// Adds levels until `attempt` stops asking for more orbitals.
fn enough_orbitals<T>(
    mut levels: usize,
    attempt: impl Fn(&Orbitals) -> Result<T, ManyBodyError>,
) -> Orbitals {
    loop {
        let o = orbitals(levels);
        match attempt(&o) {
            Err(ManyBodyError::NeedMoreOrbitals { needed_energy, .. }) => {
                eprintln!(
                    "{levels} levels reach {:.4} Ha, need above {needed_energy:.4} Ha",
                    o.energy()[levels - 1]
                );
                levels += levels / 4;
            }
            Err(e) => panic!("{e}"),
            Ok(_) => {
                eprintln!(
                    "{levels} levels (highest {:.4} Ha) suffice",
                    o.energy()[levels - 1]
                );
                return o;
            }
        }
    }
}

/// VmHWM (peak resident set, kB) from /proc/self/status, if readable.
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// VmRSS (current resident set, kB) from /proc/self/status, if readable.
fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); false if not possible.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn report(orbitals4: &Orbitals, orbitals64: &Orbitals) {
    let settings4 = EnumerationSettings::new(4, Spin::Half, 4.0 * E_PER_PARTICLE);
    let reset = reset_peak();
    let before = rss_kb();
    let start = Instant::now();
    let states = enumerate(orbitals4, &settings4).expect("N = 4 enumeration");
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "enumerate N=4 spin 1/2 E_max=0.12 Ha: {seconds:.3} s, {} occupations, {} states, \
         highest orbital {}, orbitals needed {}; RSS before {:?} kB, peak {:?} kB (reset: {reset})",
        states.len(),
        states.total_states(),
        states.highest_orbital(),
        states.orbitals_needed(),
        before,
        peak_kb()
    );
    drop(states);

    let reset = reset_peak();
    let before = rss_kb();
    let start = Instant::now();
    let binned = binned_counts(
        orbitals64,
        64,
        Spin::Half,
        64.0 * E_PER_PARTICLE,
        BIN_WIDTH_64,
    )
    .expect("N = 64 binned counts");
    let seconds = start.elapsed().as_secs_f64();
    let omega = binned.cumulative_counts();
    println!(
        "binned N=64 spin 1/2 E_max=1.92 Ha bin {BIN_WIDTH_64} Ha: {seconds:.3} s, {} bins, \
         E_gs {:.6} Ha, orbitals used {}, Omega(top) {:.4e}, S/N(top) {:.4}, error bound {:.3e} Ha; \
         RSS before {:?} kB, peak {:?} kB (reset: {reset}), {} threads",
        binned.bins.len(),
        binned.e_ground,
        binned.orbitals_used,
        omega.last().unwrap(),
        omega.last().unwrap().ln() / 64.0,
        binned.energy_error_bound,
        before,
        peak_kb(),
        rayon::current_num_threads()
    );

    // Resolution study: the same curve with finer quanta and finer bins.
    for (width, quanta) in [
        (BIN_WIDTH_64, 256usize),
        (BIN_WIDTH_64, 1024),
        (BIN_WIDTH_64 / 4.0, 64),
        (BIN_WIDTH_64 / 4.0, 256),
    ] {
        let settings = BinningSettings {
            quanta_per_bin: quanta,
            ..BinningSettings::new(64, Spin::Half, 64.0 * E_PER_PARTICLE, width)
        };
        let reset = reset_peak();
        let start = Instant::now();
        let fine = binned_counts_with(orbitals64, &settings).expect("N = 64 binned counts");
        let seconds = start.elapsed().as_secs_f64();
        // Compare Ω at the common upper edges with the default run: the largest change of
        // ln Ω over edges with Ω ≥ 1e6 (few-state edges move by whole states) and at the top.
        let fine_omega = fine.cumulative_counts();
        let step = (BIN_WIDTH_64 / width).round() as usize;
        let pairs: Vec<(f64, f64)> = omega
            .iter()
            .enumerate()
            .filter_map(|(b, &w)| fine_omega.get((b + 1) * step - 1).map(|&f| (w, f)))
            .collect();
        let worst = pairs
            .iter()
            .filter(|(w, _)| *w >= 1e6)
            .map(|(w, f)| (f / w).ln().abs())
            .fold(0.0f64, f64::max);
        let (w_top, f_top) = pairs.last().copied().unwrap_or((1.0, 1.0));
        println!(
            "binned N=64 bin {width} Ha, {quanta} quanta/bin: {seconds:.3} s, error bound {:.3e} Ha, \
             max |d ln Omega| vs default (Omega >= 1e6) {worst:.2e}, at the top {:.2e}, \
             peak {:?} kB (reset: {reset})",
            fine.energy_error_bound,
            (f_top / w_top).ln().abs(),
            peak_kb()
        );
    }
}

fn main() {
    let e4 = 4.0 * E_PER_PARTICLE;
    let orbitals4 = enough_orbitals(100, |o| {
        // A state limit of 0 stops at the first state, after the orbital check.
        let probe = EnumerationSettings {
            state_limit: 0,
            ..EnumerationSettings::new(4, Spin::Half, e4)
        };
        match enumerate(o, &probe) {
            Err(ManyBodyError::TooManyStates { .. }) => Ok(()),
            Err(other) => Err(other),
            Ok(_) => Ok(()),
        }
    });
    let orbitals64 = enough_orbitals(250, |o| {
        binned_counts(o, 64, Spin::Half, 64.0 * E_PER_PARTICLE, BIN_WIDTH_64).map(|_| ())
    });
    report(&orbitals4, &orbitals64);
    if std::env::var_os("CONFINE_REPORT_ONLY").is_some() {
        return;
    }

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("many_body");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let settings4 = EnumerationSettings::new(4, Spin::Half, e4);
    group.bench_function("enumerate N=4 E/N<=0.03", |b| {
        b.iter(|| enumerate(black_box(&orbitals4), &settings4).unwrap())
    });
    group.bench_function("binned N=64 E/N<=0.03", |b| {
        b.iter(|| {
            binned_counts(
                black_box(&orbitals64),
                64,
                Spin::Half,
                64.0 * E_PER_PARTICLE,
                BIN_WIDTH_64,
            )
            .unwrap()
        })
    });
    group.finish();
    criterion.final_summary();
}
