//! Benchmark of the k-lowest tridiagonal eigen-solver on the paper's reference case.
//!
//! Matrix: the second-order finite-difference Hamiltonian of a square well in a hard-wall box,
//! U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr, m = 1, built directly here: h = 2L/(n+1), nodes
//! x_i = −L + i h (i = 1..=n), diag_i = 1/h² + V(x_i) with V = −U0 for |x| < a, −U0/2 on
//! |x| = a and 0 outside, off-diagonal −1/(2h²). k = 100 lowest pairs, n = 1e4, 1e5, 1e6.
//!
//! Two modes:
//!
//! * `cargo bench --bench tridiagonal` runs criterion: "pairs" (`lowest_eigenpairs`) and
//!   "pairs+kinetic" (the same plus ⟨K⟩ of every vector in difference form, the levels in
//!   parallel).
//! * `CONFINE_TIMING="N,K,REPEATS" cargo bench --bench tridiagonal` skips criterion, runs
//!   pairs+kinetic REPEATS times on the n = N matrix and prints one JSON line with the best
//!   wall time, the solver's report and the eigenvalues (used by `benches/scipy_compare.py`).

use confine::eigen::{lowest_eigenpairs, EigenPairs, SolverOptions, SymTridiagonal};
use criterion::{BenchmarkId, Criterion, SamplingMode};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Well depth (Ha).
const U0: f64 = 0.1;
/// Half-width of the well (bohr).
const A: f64 = 20.0;
/// Half-width of the box (bohr).
const L: f64 = 200.0;
/// Levels asked for.
const K: usize = 100;

/// The reference Hamiltonian on n interior nodes, and its grid spacing h.
fn reference_matrix(n: usize) -> (SymTridiagonal, f64) {
    let h = 2.0 * L / (n as f64 + 1.0);
    let diag = (1..=n)
        .map(|i| {
            let x = -L + i as f64 * h;
            let v = if (x.abs() - A).abs() <= 1e-9 * h {
                -0.5 * U0
            } else if x.abs() < A {
                -U0
            } else {
                0.0
            };
            1.0 / (h * h) + v
        })
        .collect();
    let off = vec![-0.5 / (h * h); n - 1];
    (
        SymTridiagonal::new(diag, off).expect("finite reference matrix"),
        h,
    )
}

/// ⟨K⟩ of a unit vector v in difference form: Σ_{i=0}^{n} (v_{i+1} − v_i)² / (2h²) with the wall
/// values v_0 = v_{n+1} = 0 (ψ = v/√h is the density-normalized wave function).
fn kinetic(v: &[f64], h: f64) -> f64 {
    let n = v.len();
    let mut s = v[0] * v[0] + v[n - 1] * v[n - 1];
    for w in v.windows(2) {
        let d = w[1] - w[0];
        s += d * d;
    }
    s / (2.0 * h * h)
}

/// The k lowest pairs and ⟨K⟩ of each (in parallel over the levels, as `spectrum::solve`
/// computes its observables).
fn pairs_and_kinetic(t: &SymTridiagonal, h: f64, k: usize) -> (EigenPairs, Vec<f64>) {
    let p = lowest_eigenpairs(t, k, &SolverOptions::default()).expect("solver");
    let kin = p
        .vectors
        .par_chunks(p.dimension)
        .map(|v| kinetic(v, h))
        .collect();
    (p, kin)
}

/// `CONFINE_TIMING="N,K,REPEATS"`: best-of-REPEATS wall time of pairs + ⟨K⟩ as one JSON line.
fn timing_mode(spec: &str) -> Result<(), String> {
    let parts: Vec<usize> = spec
        .split(',')
        .map(|s| s.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("CONFINE_TIMING={spec:?}: {e} (expected \"N,K,REPEATS\")"))?;
    let [n, k, repeats] = parts[..] else {
        return Err(format!(
            "CONFINE_TIMING={spec:?}: expected three numbers \"N,K,REPEATS\""
        ));
    };
    if n < 2 || k == 0 || k > n || repeats == 0 {
        return Err(format!(
            "CONFINE_TIMING={spec:?}: need N ≥ 2, 1 ≤ K ≤ N, REPEATS ≥ 1"
        ));
    }
    let (t, h) = reference_matrix(n);
    let mut seconds = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats {
        let start = Instant::now();
        let result = pairs_and_kinetic(&t, h, k);
        seconds.push(start.elapsed().as_secs_f64());
        last = Some(black_box(result));
    }
    let (p, kin) = last.expect("at least one repeat");
    let best = seconds.iter().cloned().fold(f64::INFINITY, f64::min);
    let list = |xs: &[f64]| {
        xs.iter()
            .map(|x| format!("{x:e}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "{{\"n\":{n},\"k\":{k},\"repeats\":{repeats},\"threads\":{},\"best_seconds\":{best:e},\
         \"seconds\":[{}],\"norm_bound\":{:e},\"max_residual\":{:e},\
         \"max_orthogonality_error\":{:e},\"sturm_count_at_cutoff\":{},\"sturm_sweeps\":{},\
         \"inverse_iterations\":{},\"clusters\":{},\"e0\":{:e},\
         \"e_last\":{:e},\"kinetic0\":{:e},\"values\":[{}],\"kinetic\":[{}]}}",
        rayon::current_num_threads(),
        list(&seconds),
        p.report.norm_bound,
        p.report.max_residual,
        p.report.max_orthogonality_error,
        p.report.sturm_count_at_cutoff,
        p.report.sturm_sweeps,
        p.report.inverse_iterations,
        p.report.clusters,
        p.values[0],
        p.values[k - 1],
        kin[0],
        list(&p.values),
        list(&kin),
    );
    Ok(())
}

fn bench_reference_case(c: &mut Criterion) {
    for (n, measurement) in [(10_000, 5), (100_000, 10), (1_000_000, 55)] {
        let (t, h) = reference_matrix(n);
        let mut group = c.benchmark_group(format!("reference_case_k{K}"));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(measurement));
        group.bench_with_input(BenchmarkId::new("pairs", n), &t, |b, t| {
            b.iter(|| lowest_eigenpairs(black_box(t), K, &SolverOptions::default()).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("pairs+kinetic", n), &t, |b, t| {
            b.iter(|| pairs_and_kinetic(black_box(t), h, K))
        });
        group.finish();
    }
}

fn main() {
    if let Ok(spec) = std::env::var("CONFINE_TIMING") {
        if let Err(e) = timing_mode(&spec) {
            eprintln!("{e}");
            std::process::exit(2);
        }
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    bench_reference_case(&mut criterion);
    criterion.final_summary();
}
