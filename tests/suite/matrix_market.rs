//! The assembled Hamiltonians as `sprs::CsMat` and in Matrix Market files (`confine matrix`):
//! entry-for-entry equality with the matrices the solvers use, an exact round trip through
//! `sprs::io::read_matrix_market`, clear errors without half-written files, and SciPy reading
//! the files and finding confine's spectrum.
//!
//! The SciPy test runs `python3` with numpy and scipy. Without them it is skipped with a printed
//! reason, unless `CONFINE_REQUIRE_SCIPY` is set (as `.ci/run` does), where it fails.

use crate::common::{confine, scratch_dir, write_file};
use confine::model::grid::Grid;
use confine::model::hamiltonian::Hamiltonian;
use confine::model::potential::Potential;
use confine::model::problem::Problem;
use confine::physics::coulomb::grid2d::{solve_sector, GridOptions, SectorHamiltonian};
use confine::physics::coulomb::{Exchange, SoftCoulomb};
use confine::pipeline::config;
use confine::pipeline::output::matrix::{
    assemble, grid_table_path, write_matrix, MatrixChoice, MatrixError,
    ONE_PARTICLE_BYTES_PER_NODE, TWO_ELECTRON_BYTES_PER_STATE,
};
use sprs::CsMat;
use std::path::Path;

/// A square well with its own effective mass on a grid that is not uniform: the well edges
/// ±3.3 bohr are not multiples of h = 0.25 bohr, so the grid is refined next to them.
const PDM_WELL: &str = "[system]\nbox_half_width = 10.0\nmass = 1.0\n\
    [potential]\ntype = \"square_well\"\ndepth = 0.5\nhalf_width = 3.3\nmass_inside = 0.4\n\
    [grid]\nspacing = 0.25\n[solve]\nlevels = 8\n";

/// Two electrons in a small well (N = 41 interior nodes: sectors of 861 and 820 states).
const TWO_ELECTRONS: &str = "[system]\nbox_half_width = 5.0\n\
    [potential]\ntype = \"square_well\"\ndepth = 0.5\nhalf_width = 2.2\n\
    [grid]\nspacing = 0.25\n[solve]\nlevels = 10\n\
    [coulomb]\nstrength = 1.0\neps_r = [1.0, 12.9]\nsoftening = 1.0\norbitals = 6\n\
    energy_per_particle_max = 10.0\ngrid_check = { levels = 4 }\n";

fn pdm_setup() -> (Potential, Grid, Hamiltonian) {
    let v = Potential::square_well_with_mass(10.0, 0.5, 3.3, 0.4).unwrap();
    let g = Grid::aligned(10.0, &v.breakpoints(), 0.25).unwrap();
    let h = Hamiltonian::new(&v, &g, 1.0).unwrap();
    (v, g, h)
}

fn study(name: &str, text: &str) -> config::Study {
    config::load_study(&write_file(name, text)).unwrap()
}

/// The (row, column, value) entries of a CSR matrix, in storage order.
fn entries(m: &CsMat<f64>) -> Vec<(usize, usize, f64)> {
    m.iter().map(|(v, (i, j))| (i, j, *v)).collect()
}

/// Every file name in `dir` (hidden ones included).
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn csmat_holds_exactly_the_tridiagonal_entries() {
    for mass_inside in [1.0, 0.4] {
        let v = Potential::square_well_with_mass(10.0, 0.5, 3.3, mass_inside).unwrap();
        let g = Grid::aligned(10.0, &v.breakpoints(), 0.25).unwrap();
        let h = Hamiltonian::new(&v, &g, 1.0).unwrap();
        let w = h.dual_widths();
        assert!(
            w.iter().any(|x| (x - w[0]).abs() > 1e-3),
            "the grid must not be uniform"
        );
        let m = h.to_csmat();
        let n = h.len();
        assert!(m.is_csr());
        assert_eq!(m.shape(), (n, n));
        assert_eq!(m.nnz(), 3 * n - 2);
        for (i, j, x) in entries(&m) {
            let expected = match i.abs_diff(j) {
                0 => h.matrix.diag[i],
                1 => h.matrix.off[i.min(j)],
                _ => panic!("entry ({i}, {j}) outside the three diagonals"),
            };
            assert_eq!(x.to_bits(), expected.to_bits(), "entry ({i}, {j})");
        }
        for j in 0..n {
            assert_eq!(m.get(j, j), Some(&h.matrix.diag[j]));
        }
    }
}

#[test]
fn sector_csmat_is_the_operator_the_lanczos_applies() {
    let v = Potential::square_well_with_mass(5.0, 0.5, 2.2, 0.4).unwrap();
    let g = Grid::aligned(5.0, &v.breakpoints(), 0.5).unwrap();
    let h1 = Hamiltonian::new(&v, &g, 1.0).unwrap();
    let w = SoftCoulomb::new(1.0, 1.0, 1.0).unwrap();
    for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
        let sector = SectorHamiltonian::new(&h1, &g, &w, exchange).unwrap();
        let dense = sector.to_dense();
        let m = sector.to_csmat();
        let d = sector.dimension();
        assert_eq!(m.shape(), (d, d));
        let mut stored = 0;
        for (i, j, x) in entries(&m) {
            assert_eq!(
                x.to_bits(),
                dense[(i, j)].to_bits(),
                "{exchange:?} ({i}, {j})"
            );
            assert_eq!(
                m.get(j, i),
                Some(&x),
                "{exchange:?}: not symmetric at ({i}, {j})"
            );
            stored += 1;
        }
        let nonzero = (0..d)
            .flat_map(|i| (0..d).map(move |j| (i, j)))
            .filter(|&(i, j)| dense[(i, j)] != 0.0)
            .count();
        assert_eq!(
            stored, nonzero,
            "{exchange:?}: every nonzero of H is stored"
        );
    }
}

#[test]
fn matrix_market_reads_back_bit_for_bit() {
    let dir = scratch_dir("mtx-roundtrip");
    let pdm = study("pdm_well.toml", PDM_WELL);
    let two = study("two_electrons.toml", TWO_ELECTRONS);
    let cases = [
        (&pdm, MatrixChoice::OneParticle, "one.mtx"),
        (
            &two,
            MatrixChoice::TwoElectron {
                exchange: Exchange::Symmetric,
                eps_r: Some(12.9),
            },
            "singlet.mtx",
        ),
        (
            &two,
            MatrixChoice::TwoElectron {
                exchange: Exchange::Antisymmetric,
                eps_r: Some(1.0),
            },
            "triplet.mtx",
        ),
    ];
    for (s, choice, name) in cases {
        let assembled = assemble(s, None, choice).unwrap();
        let out = dir.join(name);
        let (mtx, table) = write_matrix(&out, &assembled).unwrap();
        assert_eq!(
            (mtx.as_path(), table.as_path()),
            (out.as_path(), grid_table_path(&out).as_path())
        );
        let back: CsMat<f64> = sprs::io::read_matrix_market::<f64, usize, _>(&out)
            .unwrap()
            .to_csr();
        assert_eq!(back.shape(), assembled.matrix.shape());
        let (a, b) = (entries(&back), entries(&assembled.matrix));
        assert_eq!(a.len(), b.len(), "{name}");
        for ((i, j, x), (k, l, y)) in a.iter().zip(&b) {
            assert_eq!((i, j, x.to_bits()), (k, l, y.to_bits()), "{name}");
        }
        // The table has one line per matrix row after its header.
        let lines = std::fs::read_to_string(&table).unwrap().lines().count();
        assert_eq!(lines, assembled.matrix.rows() + 1, "{name}");
    }
    // The one-particle file is confine's own H̃ of the case.
    let (_, _, h) = pdm_setup();
    let one = assemble(&pdm, None, MatrixChoice::OneParticle).unwrap();
    assert_eq!(entries(&one.matrix), entries(&h.to_csmat()));
    assert_eq!(
        names_in(&dir).iter().filter(|n| n.starts_with('.')).count(),
        0
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The message of the error `r` must hold.
fn message<T>(r: Result<T, MatrixError>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn assembly_stays_within_its_memory_estimate() {
    let fine = study(
        "pdm_well_fine.toml",
        &PDM_WELL.replace("spacing = 0.25", "spacing = 0.005"),
    );
    let two = study(
        "two_electrons_memory.toml",
        &TWO_ELECTRONS.replace("spacing = 0.25", "spacing = 0.1"),
    );
    let singlet = MatrixChoice::TwoElectron {
        exchange: Exchange::Symmetric,
        eps_r: Some(1.0),
    };
    let sphere = study(
        "sphere_memory.toml",
        "[system]\ngeometry = \"sphere\"\nbox_half_width = 40.0\n[potential]\n\
         type = \"square_well\"\ndepth = 0.1\nhalf_width = 10.0\n[grid]\nspacing = 0.02\n[solve]\nlevels = 5\n",
    );
    let cases = [
        (&fine, MatrixChoice::OneParticle),
        (&two, singlet),
        (&sphere, MatrixChoice::Channel(3)),
    ];
    for (s, choice) in cases {
        let (assembled, peak) = crate::memory::peak_bytes(|| assemble(s, None, choice).unwrap());
        let d = assembled.matrix.rows() as u64;
        let bound = match choice {
            MatrixChoice::OneParticle | MatrixChoice::Channel(_) => d * ONE_PARTICLE_BYTES_PER_NODE,
            MatrixChoice::TwoElectron { .. } => {
                // D = N(N + 1)/2 in the singlet sector.
                let nodes = (((8 * d + 1) as f64).sqrt() as u64 - 1) / 2;
                assert_eq!(nodes * (nodes + 1) / 2, d);
                d * TWO_ELECTRON_BYTES_PER_STATE + nodes * ONE_PARTICLE_BYTES_PER_NODE
            }
        };
        println!(
            "{}: peak {peak} B, estimate {bound} B",
            assembled.description
        );
        assert!(
            d > 800 && peak <= bound,
            "{}: peak {peak} B over the estimate {bound} B",
            assembled.description
        );
    }
}

#[test]
fn bad_requests_are_errors_naming_the_key_and_leave_no_file() {
    let dir = scratch_dir("mtx-errors");
    let pdm = study("pdm_well_errors.toml", PDM_WELL);
    let two = study("two_electrons_errors.toml", TWO_ELECTRONS);
    let sector = |eps_r| MatrixChoice::TwoElectron {
        exchange: Exchange::Symmetric,
        eps_r,
    };

    let m = message(assemble(&pdm, Some("nope"), MatrixChoice::OneParticle));
    assert!(
        m.contains("pdm_well_errors.toml") && m.contains("no case named \"nope\""),
        "{m}"
    );
    let m = message(assemble(&pdm, None, sector(None)));
    assert!(
        m.contains("coulomb is missing") && m.contains("--two-electron"),
        "{m}"
    );
    let m = message(assemble(&two, None, sector(None)));
    assert!(
        m.contains("coulomb.eps_r holds 2 values (1, 12.9)") && m.contains("--eps-r"),
        "{m}"
    );
    let m = message(assemble(&two, None, sector(Some(4.0))));
    assert!(
        m.contains("coulomb.eps_r has no value 4") && m.contains("1, 12.9"),
        "{m}"
    );

    let assembled = assemble(&pdm, None, MatrixChoice::OneParticle).unwrap();
    let m = message(write_matrix(&dir.join("missing/H.mtx"), &assembled));
    assert!(
        m.contains("missing/H.mtx") && m.contains("does not exist"),
        "{m}"
    );
    let m = message(write_matrix(&dir, &assembled));
    assert!(m.contains("is a directory"), "{m}");
    // The table's name is taken by a directory: the matrix must not appear without it, and no
    // temporary file may stay behind.
    std::fs::create_dir(dir.join("H.grid.csv")).unwrap();
    let m = message(write_matrix(&dir.join("H.mtx"), &assembled));
    assert!(
        m.contains("H.grid.csv") && m.contains("is a directory"),
        "{m}"
    );
    assert_eq!(names_in(&dir), vec!["H.grid.csv".to_string()]);

    // Through the CLI: non-zero exit, the message on stderr, nothing written.
    let cfg = write_file("two_electrons_cli.toml", TWO_ELECTRONS);
    let out = confine()
        .arg("matrix")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.join("S.mtx"))
        .args(["--two-electron", "singlet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("two_electrons_cli.toml: coulomb.eps_r holds 2 values"),
        "{stderr}"
    );
    assert_eq!(names_in(&dir), vec!["H.grid.csv".to_string()]);
    // Over the memory limit: refused before anything is built, the key that sizes it named.
    for (sector, limit) in [(None, "2 kB"), (Some("singlet"), "100 kB")] {
        let mut cmd = confine();
        cmd.arg("matrix")
            .arg(&cfg)
            .arg("--out")
            .arg(dir.join("S.mtx"))
            .args(["--memory-limit", limit]);
        if let Some(sector) = sector {
            cmd.args(["--two-electron", sector, "--eps-r", "1"]);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("two_electrons_cli.toml: grid.spacing:")
                && stderr.contains(&format!(
                    "memory limit of {}",
                    if sector.is_some() {
                        "97.7 KiB"
                    } else {
                        "2.0 KiB"
                    }
                )),
            "{stderr}"
        );
        assert_eq!(names_in(&dir), vec!["H.grid.csv".to_string()]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// For each (Matrix Market file, k, grid table) triple of its arguments, reads the file with
/// SciPy and prints one JSON line: max |A − Aᵀ|, the `k` lowest eigenvalues of the dense
/// matrix and, given a grid table with a `dual_width` column, the amplitudes ψ = φ/√w of their
/// eigenvectors (an eigenvector's sign is arbitrary). One process for all files: importing
/// scipy.linalg takes seconds on a loaded machine.
const SCIPY_CHECK: &str = r#"
import csv, json, sys
import numpy as np
import scipy.io, scipy.linalg
args = sys.argv[1:]
for path, k, table in zip(args[0::3], map(int, args[1::3]), args[2::3]):
    A = scipy.io.mmread(path).tocsr()
    asym = abs(A - A.T).max() if A.nnz else 0.0
    E, phi = scipy.linalg.eigh(A.toarray(), subset_by_index=[0, k - 1])
    out = {"shape": list(A.shape), "nnz": int(A.nnz), "asymmetry": float(asym), "energies": E.tolist()}
    with open(table) as f:
        rows = list(csv.DictReader(f))
    if "dual_width [bohr]" in rows[0]:
        w = np.array([float(r["dual_width [bohr]"]) for r in rows])
        out["psi"] = (phi / np.sqrt(w)[:, None]).T.tolist()
    print(json.dumps(out))
"#;

/// [`SCIPY_CHECK`] on `files` (Matrix Market file, k), each with its [`grid_table_path`]: one
/// parsed JSON value per file, or `None` (with the reason printed) when python3 with scipy is
/// not available and `CONFINE_REQUIRE_SCIPY` is unset.
fn scipy_check(files: &[(&Path, usize)]) -> Option<Vec<serde_json::Value>> {
    let required = std::env::var_os("CONFINE_REQUIRE_SCIPY").is_some();
    let probe = std::process::Command::new("python3")
        .args(["-c", "import numpy, scipy"])
        .output();
    let reason = match &probe {
        Err(e) => Some(format!("python3 cannot be run: {e}")),
        Ok(o) if !o.status.success() => Some(format!(
            "python3 has no numpy/scipy: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Ok(_) => None,
    };
    if let Some(reason) = reason {
        assert!(!required, "CONFINE_REQUIRE_SCIPY is set but {reason}");
        println!("skipped: the SciPy round trip needs python3 with numpy and scipy ({reason}); set CONFINE_REQUIRE_SCIPY=1 to make this a failure");
        return None;
    }
    let mut python = std::process::Command::new("python3");
    // One BLAS thread: the matrices are small, and OpenBLAS threads spinning against the test
    // harness's own threads on a busy 2-core machine made one 861 × 861 eigh take 5.4 s instead
    // of 0.06 s.
    python
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("OMP_NUM_THREADS", "1")
        .args(["-c", SCIPY_CHECK]);
    for (mtx, k) in files {
        python.arg(mtx).arg(k.to_string()).arg(grid_table_path(mtx));
    }
    let out = python.output().unwrap();
    assert!(
        out.status.success(),
        "the SciPy check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), files.len());
    Some(results)
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Runs `confine matrix CONFIG --out OUT ARGS…`; it must succeed.
fn export(config: &Path, out: &Path, args: &[&str]) {
    let run = confine()
        .arg("matrix")
        .arg(config)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn scipy_reads_the_files_and_finds_confines_spectrum() {
    let start = std::time::Instant::now();
    let dir = scratch_dir("mtx-scipy");

    // One particle, position-dependent mass on a non-uniform grid; two electrons, both sectors
    // of the screened case. All written by the CLI.
    let one = dir.join("H.mtx");
    export(&write_file("pdm_well_scipy.toml", PDM_WELL), &one, &[]);
    let two = write_file("two_electrons_scipy.toml", TWO_ELECTRONS);
    let singlet = dir.join("singlet.mtx");
    let triplet = dir.join("triplet.mtx");
    export(
        &two,
        &singlet,
        &["--two-electron", "singlet", "--eps-r", "12.9"],
    );
    export(
        &two,
        &triplet,
        &["--two-electron", "triplet", "--eps-r", "12.9"],
    );
    let (k, k2) = (8, 4);
    let Some(results) = scipy_check(&[(&one, k), (&singlet, k2), (&triplet, k2)]) else {
        return;
    };

    let (v, _, h) = pdm_setup();
    let s = Problem::new(v.clone(), 1.0, 0.25, k).spectrum().unwrap();
    let result = &results[0];
    assert_eq!(floats(&result["shape"]), vec![h.len() as f64; 2]);
    assert_eq!(result["nnz"].as_u64(), Some(3 * h.len() as u64 - 2));
    assert_eq!(
        result["asymmetry"].as_f64(),
        Some(0.0),
        "the file is not symmetric"
    );
    let scipy_e = floats(&result["energies"]);
    assert_eq!(scipy_e.len(), k);
    let mut worst_e: f64 = 0.0;
    let mut worst_psi: f64 = 0.0;
    for (n, (e, level)) in scipy_e.iter().zip(&s.levels).enumerate() {
        worst_e = worst_e.max((e - level.energy).abs());
        // The documented recipe ψ = φ/√w gives confine's amplitudes (up to the sign).
        let psi = floats(&result["psi"][n]);
        let ours = s.amplitude(n);
        let sign = psi
            .iter()
            .zip(ours)
            .map(|(p, q)| p * q)
            .sum::<f64>()
            .signum();
        for (p, q) in psi.iter().zip(ours) {
            worst_psi = worst_psi.max((p - sign * q).abs());
        }
    }
    println!("one particle (N = {}): max |E_scipy − E_confine| = {worst_e:.2e} Ha, max |ψ_scipy − ψ_confine| = {worst_psi:.2e} bohr^-1/2", h.len());
    assert!(worst_e <= 1e-10, "energies differ by {worst_e} Ha");
    assert!(worst_psi <= 1e-8, "amplitudes differ by {worst_psi}");

    // Two electrons: both sectors against the 2-D grid solve (thick-restart Lanczos).
    let v2 = Potential::square_well(5.0, 0.5, 2.2).unwrap();
    let g2 = Grid::aligned(5.0, &v2.breakpoints(), 0.25).unwrap();
    let w = SoftCoulomb::new(1.0, 12.9, 1.0).unwrap();
    let options = GridOptions {
        levels: k2,
        ..Default::default()
    };
    for (result, (name, exchange)) in results[1..].iter().zip([
        ("singlet", Exchange::Symmetric),
        ("triplet", Exchange::Antisymmetric),
    ]) {
        let ours = solve_sector(&v2, &g2, 1.0, &w, exchange, &options).unwrap();
        assert_eq!(floats(&result["shape"]), vec![ours.dimension as f64; 2]);
        assert_eq!(
            result["asymmetry"].as_f64(),
            Some(0.0),
            "{name}: not symmetric"
        );
        let scipy_e = floats(&result["energies"]);
        assert_eq!(scipy_e.len(), k2);
        let worst = scipy_e
            .iter()
            .zip(ours.energies())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        println!(
            "two electrons, {name} (D = {}): max |E_scipy − E_confine| = {worst:.2e} Ha",
            ours.dimension
        );
        assert!(worst <= 1e-10, "{name}: energies differ by {worst} Ha");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    println!(
        "SciPy round trip: {:.2} s wall",
        start.elapsed().as_secs_f64()
    );
}
