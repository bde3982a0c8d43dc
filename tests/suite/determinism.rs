//! Results must not depend on the number of threads: a sweep sharded over machines with
//! different core counts has to merge to the unsharded result. The CI integrals, its dense
//! eigen-solves and whole `run`s (Coulomb/CI, particles, sweep) are compared bit for bit with
//! 1, 2 and 3 threads; only wall times (JSON keys containing "seconds") and the peak RSS may differ.

use crate::common::{scratch, write_file};
use confine::model::potential::Potential;
use confine::model::problem::Problem;
use confine::physics::coulomb::ci::{CiProblem, CiSettings, CiStates, Symmetry};
use confine::physics::coulomb::SoftCoulomb;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn ci_states_are_bitwise_independent_of_the_thread_count() {
    // n = 479 grid nodes, M = 36 (D = 666 pairs, parity blocks of ≈ 170): large enough for
    // faer's threaded kernels to split their work.
    let v = Potential::square_well(60.0, 0.1, 20.0).unwrap();
    let s = Problem::new(v.clone(), 1.0, 0.25, 40).spectrum().unwrap();
    let w = SoftCoulomb::new(1.0, 1.0, 1.0).unwrap();
    let fingerprint = || {
        let problem = CiProblem::new(&v, &s, &w, 36, Symmetry::Auto).unwrap();
        let ci = problem.solve(&CiSettings::new(30)).unwrap();
        let fine = problem.energies(&CiSettings::new(36)).unwrap();
        // The partial solver (tridiagonal reduction, Sturm/inverse iteration, back-transform).
        let below = problem
            .solve(&CiSettings {
                states: CiStates::below(0.0),
                ..CiSettings::new(30)
            })
            .unwrap();
        let lowest = problem
            .energies(&CiSettings {
                states: CiStates::lowest(25),
                ..CiSettings::new(36)
            })
            .unwrap();
        assert!(below.states.len() > 20 && below.states.len() < ci.states.len() / 4);
        let mut bits: Vec<u64> = ci
            .states
            .iter()
            .chain(&below.states)
            .flat_map(|st| [st.energy, st.kinetic, st.potential, st.interaction])
            .chain(fine.symmetric.iter().chain(&fine.antisymmetric).copied())
            .chain(
                lowest
                    .symmetric
                    .iter()
                    .chain(&lowest.antisymmetric)
                    .copied(),
            )
            .map(f64::to_bits)
            .collect();
        let m = problem.orbitals();
        for i in 0..m {
            for j in 0..m {
                bits.push(problem.integrals().get(i, j, j, i).unwrap().to_bits());
                bits.push(problem.integrals().get(i, i, j, j).unwrap().to_bits());
            }
        }
        bits
    };
    let one = in_pool(1, fingerprint);
    for threads in [2, 3] {
        assert!(
            in_pool(threads, fingerprint) == one,
            "CI differs between 1 and {threads} threads"
        );
    }
}

#[test]
fn dense_symmetric_factorizations_are_exact_and_thread_independent() {
    use confine::eigen::dense::{
        cholesky_lower, lowest_symmetric_eigen, symmetric_eigen, symmetric_eigenvalues,
    };
    use faer::Mat;
    // A random symmetric 300 × 300 matrix (entries in [−1, 1]); only its lower triangle is read.
    let n = 300;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    };
    let mut a = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j..n {
            let x = next();
            a[(i, j)] = x;
            a[(j, i)] = x;
        }
    }
    let norm = (0..n)
        .map(|i| (0..n).map(|j| a[(i, j)].abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let (values, vectors) = in_pool(1, || symmetric_eigen(a.as_ref()).unwrap());
    let (values3, vectors3) = in_pool(3, || symmetric_eigen(a.as_ref()).unwrap());
    assert!(values
        .iter()
        .zip(&values3)
        .all(|(x, y)| x.to_bits() == y.to_bits()));
    assert!((0..n).all(|j| (0..n).all(|i| vectors[(i, j)].to_bits() == vectors3[(i, j)].to_bits())));
    // A u_j = s_j u_j and UᵀU = I to a small multiple of n·ε (backward-stable dense solver).
    let tol = n as f64 * f64::EPSILON;
    for j in 0..n {
        assert!(j == 0 || values[j] >= values[j - 1]);
        let r = (0..n)
            .map(|i| {
                let au: f64 = (0..n).map(|k| a[(i, k)] * vectors[(k, j)]).sum();
                (au - values[j] * vectors[(i, j)]).powi(2)
            })
            .sum::<f64>()
            .sqrt();
        assert!(r <= tol * norm, "residual of pair {j}: {r}");
        for k in [0, j / 2, j] {
            let g: f64 = (0..n).map(|i| vectors[(i, j)] * vectors[(i, k)]).sum();
            let target = if j == k { 1.0 } else { 0.0 };
            assert!((g - target).abs() <= tol, "<u_{j}|u_{k}> = {g}");
        }
    }
    let only = in_pool(2, || symmetric_eigenvalues(a.as_ref()).unwrap());
    for (x, y) in only.iter().zip(&values) {
        assert!((x - y).abs() <= tol * norm, "{x} vs {y}");
    }
    // Cholesky of A + (‖A‖ + 1) I (positive definite): L Lᵀ = A, L lower triangular.
    let mut spd = a.clone();
    for i in 0..n {
        spd[(i, i)] += norm + 1.0;
    }
    let l = in_pool(3, || cholesky_lower(spd.as_ref()).unwrap());
    assert!(in_pool(1, || cholesky_lower(spd.as_ref()).unwrap()) == l);
    for j in 0..n {
        for i in 0..n {
            if i < j {
                assert_eq!(l[(i, j)], 0.0);
            }
            let llt: f64 = (0..=i.min(j)).map(|k| l[(i, k)] * l[(j, k)]).sum();
            assert!((llt - spd[(i, j)]).abs() <= tol * (2.0 * norm + 1.0));
        }
    }
    // Not positive definite: refused, not a panic.
    assert!(cholesky_lower(a.as_ref()).is_none());
    // The partial solver: the 40 lowest pairs, bitwise the same with 1 and 3 threads.
    let partial = |threads| {
        in_pool(threads, || {
            let low = lowest_symmetric_eigen(a.as_ref(), 40, f64::NEG_INFINITY, true).unwrap();
            low.values
                .iter()
                .chain(&low.vectors)
                .chain(low.next.as_slice())
                .map(|x| x.to_bits())
                .collect::<Vec<u64>>()
        })
    };
    assert!(partial(1) == partial(3));
}

/// Runs `confine run config --out DIR` with `threads` rayon threads; returns DIR.
fn run_with_threads(config: &Path, threads: usize, tag: &str) -> PathBuf {
    let out = scratch(&format!("{tag}-{threads}-threads"));
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RAYON_NUM_THREADS", threads.to_string())
        .args(["run", config.to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{threads} threads: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    out
}

/// Removes every object key containing "seconds" (wall times) or "peak_rss" (the process's
/// peak memory, which depends on the thread count and the allocator), recursively.
fn without_timings(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| !k.contains("seconds") && !k.contains("peak_rss"));
            map.values_mut().for_each(without_timings);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_timings),
        _ => {}
    }
}

/// The two output trees hold the same files with the same bytes (JSON: the same values apart
/// from wall times). Returns the number of files compared.
fn assert_same_outputs(a: &Path, b: &Path) -> usize {
    let (fa, fb) = (files(a), files(b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "different file lists"
    );
    let mut differing = Vec::new();
    for (path, bytes) in &fa {
        let other = &fb[path];
        let same = if path.extension().is_some_and(|e| e == "json") {
            let mut x: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            let mut y: serde_json::Value = serde_json::from_slice(other).unwrap();
            without_timings(&mut x);
            without_timings(&mut y);
            x == y
        } else {
            bytes == other
        };
        if !same {
            differing.push(path.display().to_string());
        }
    }
    assert!(differing.is_empty(), "files differ: {differing:?}");
    fa.len()
}

const SMALL_STUDY: &str = r#"
[system]
box_half_width = 60.0
[potential]
type = "square_well"
depth = 0.1
half_width = 20.0
[grid]
spacing = 0.25
[solve]
levels = 60
[analysis]
epsilon = 0.0004
temperatures = { from = 1e-3, to = 0.05, points = 50 }
[particles]
n = [2, 3]
spin = "half"
energy_per_particle_max = 0.02
[coulomb]
eps_r = [1.0, 12.9]
softening = 1.0
orbitals = 30
check_orbitals = 40
energy_per_particle_max = 0.0
[sweep]
potential.depth = [0.1, 0.2]
"#;

#[test]
fn run_outputs_are_identical_with_one_and_two_threads() {
    let config = write_file("thread_count_study.toml", SMALL_STUDY);
    let one = run_with_threads(&config, 1, "threads-study");
    let two = run_with_threads(&config, 2, "threads-study");
    let compared = assert_same_outputs(&one, &two);
    // Two cases, each with Coulomb variants and particle tables, figures and a summary.
    assert!(compared > 50, "only {compared} files");
    assert!(one.join("0_depth=0.1/coulomb_convergence.csv").is_file());
    assert!(one.join("summary.csv").is_file());
    let _ = std::fs::remove_dir_all(&one);
    let _ = std::fs::remove_dir_all(&two);
}

/// The paper's whole run (release: about 7 s per run; `cargo test --release -- --ignored`).
#[test]
#[ignore]
fn paper_run_is_identical_with_one_and_two_threads() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/paper.toml");
    let one = run_with_threads(&config, 1, "threads-paper");
    let two = run_with_threads(&config, 2, "threads-paper");
    let compared = assert_same_outputs(&one, &two);
    // 122 files since states.csv is written only up to 10 000 states (particles.states_file).
    assert!(compared >= 122, "only {compared} files");
    let _ = std::fs::remove_dir_all(&one);
    let _ = std::fs::remove_dir_all(&two);
}
