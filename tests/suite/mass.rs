//! Position-dependent effective mass (BenDaniel–Duke): H = −½ d/dx (1/m(x)) d/dx + V(x), with a
//! mass per piece of the potential, checked against the exact finite well with different masses
//! inside and outside, against the constant-mass code path, and through the config.

use std::path::Path;

use confine::checks::validate::{validate_square_well, SquareWellCase, Validation};
use confine::eigen::{lowest_eigenpairs, SolverOptions};
use confine::model::grid::Grid;
use confine::model::hamiltonian::Hamiltonian;
use confine::model::potential::{Piece, Potential, Shape};
use confine::model::problem::Problem;
use confine::pipeline::config::{load, parse};

/// U₀ = 0.1 Ha, a = 20 bohr, L = 60 bohr; `mass` is the mass outside the well.
fn case(mass: f64, levels: usize) -> SquareWellCase {
    SquareWellCase {
        box_half_width: 60.0,
        depth: 0.1,
        half_width: 20.0,
        mass,
        mass_inside: None,
        spacing: 0.25,
        levels,
    }
}

/// [`case`] with the effective mass `mass_inside` in the well.
fn bdd_case(mass: f64, mass_inside: f64, levels: usize) -> SquareWellCase {
    SquareWellCase {
        mass_inside: Some(mass_inside),
        ..case(mass, levels)
    }
}

/// Orders 2.0 ± 0.1 for every E_n and for every ⟨K⟩_n whose h² term dominates, and small
/// Richardson errors (Hartree). Run with `--nocapture` to see the measured values.
fn assert_second_order(v: &Validation, richardson_bound: f64, kinetic_richardson_bound: f64) {
    let mut kinetic_orders = 0;
    for (l, p) in v.levels.iter().zip(&v.observed_order) {
        eprintln!(
            "n={:2} E={:+.6e} err={:+.2e} p={:.4} R={:+.2e} | K={:.6e} err={:+.2e} p={:.4} R={:+.2e}",
            l.n,
            l.exact,
            l.error,
            p,
            l.richardson_error,
            l.kinetic_exact,
            l.kinetic_error,
            l.kinetic_observed_order,
            l.kinetic_richardson_error
        );
        assert!((p - 2.0).abs() <= 0.1, "level {}: order of E {p}", l.n);
        // As in tests/spectrum.rs: the ratio of errors only means something where the h² term
        // dominates the error (for some levels its coefficient nearly vanishes).
        if l.kinetic_error.abs() > 100.0 * l.kinetic_richardson_error.abs() {
            kinetic_orders += 1;
            assert!(
                (l.kinetic_observed_order - 2.0).abs() <= 0.1,
                "level {}: order of <K> {}",
                l.n,
                l.kinetic_observed_order
            );
        }
        assert!(
            l.richardson_error.abs() <= richardson_bound,
            "level {}: Richardson error {:e}",
            l.n,
            l.richardson_error
        );
        // Extrapolation removes the h² term: at least a hundredfold gain (measured ≥ 1800).
        assert!(
            l.richardson_error.abs() <= 1e-2 * l.error.abs(),
            "level {}: Richardson error {:e} vs error {:e}",
            l.n,
            l.richardson_error,
            l.error
        );
        assert!(
            l.kinetic_richardson_error.abs() <= kinetic_richardson_bound,
            "level {}: <K> Richardson error {:e}",
            l.n,
            l.kinetic_richardson_error
        );
        for w in l.errors_by_grid.windows(2) {
            assert!(
                w[1].abs() < w[0].abs(),
                "level {}: {:?}",
                l.n,
                l.errors_by_grid
            );
        }
    }
    assert!(
        kinetic_orders + 2 >= v.levels.len(),
        "only {kinetic_orders} of {} levels with a measurable <K> order",
        v.levels.len()
    );
}

#[test]
fn bdd_square_well_converges_at_order_two() {
    // A heavy well in a light barrier (m_in = 1, m_out = 0.2) and the reverse (m_in = 0.2,
    // m_out = 1): mass ratios of 5 either way, on h = 0.25, 0.125, 0.0625.
    for (m_in, m_out) in [(1.0, 0.2), (0.2, 1.0)] {
        let v =
            validate_square_well(&bdd_case(m_out, m_in, 15), 3, &SolverOptions::default()).unwrap();
        assert_eq!(v.levels.len(), 15);
        assert_eq!(v.mass_inside, m_in);
        assert_eq!(v.case.mass, m_out);
        // Measured: at most 1.2e-8 Ha for E_n and 3.3e-8 Ha for ⟨K⟩_n (level 14, m_in = 1).
        assert_second_order(&v, 5e-8, 1e-7);
        // The masses matter: the ground state differs from both constant-mass wells.
        for m in [m_in, m_out] {
            let plain = validate_square_well(&case(m, 1), 2, &SolverOptions::default()).unwrap();
            assert!((plain.levels[0].exact - v.levels[0].exact).abs() > 1e-4);
        }
    }
}

#[test]
fn gaas_like_masses_converge_at_order_two() {
    // m* = 0.067 in the well, 0.092 in the barrier (GaAs / Al₀.₃Ga₀.₇As).
    let v =
        validate_square_well(&bdd_case(0.092, 0.067, 15), 3, &SolverOptions::default()).unwrap();
    // Measured: at most 3.8e-9 Ha (level 14, E ≈ 0.89 Ha).
    assert_second_order(&v, 1e-8, 1e-8);
}

#[test]
fn equal_masses_change_nothing() {
    let opts = SolverOptions::default();
    let plain = validate_square_well(&case(0.3, 10), 2, &opts).unwrap();
    let same = validate_square_well(&bdd_case(0.3, 0.3, 10), 2, &opts).unwrap();
    for (a, b) in plain.grids.iter().zip(&same.grids) {
        assert_eq!(a.energy, b.energy);
        assert_eq!(a.kinetic, b.kinetic);
    }
    for (a, b) in plain.levels.iter().zip(&same.levels) {
        assert_eq!(a.exact, b.exact);
    }

    // A piece whose mass equals the system mass gives the very same matrix.
    let v = Potential::square_well(60.0, 0.1, 20.1).unwrap();
    let w = Potential::square_well_with_mass(60.0, 0.1, 20.1, 0.3).unwrap();
    let g = Grid::aligned(60.0, &v.breakpoints(), 0.25).unwrap();
    assert!(!g.is_uniform());
    let (hv, hw) = (
        Hamiltonian::new(&v, &g, 0.3).unwrap(),
        Hamiltonian::new(&w, &g, 0.3).unwrap(),
    );
    assert_eq!(hv.matrix, hw.matrix);
    let (sv, sw) = (
        Problem::new(v.clone(), 0.3, 0.25, 10).spectrum().unwrap(),
        Problem::new(w.clone(), 0.3, 0.25, 10).spectrum().unwrap(),
    );
    assert_eq!(sv.levels, sw.levels);
}

#[test]
fn matrix_stays_symmetric_tridiagonal_and_k_plus_v_is_e() {
    let (l, u0, a, m_in, m_out) = (10.0, 0.5, 2.0, 0.067, 0.5);
    let v = Potential::square_well_with_mass(l, u0, a, m_in).unwrap();
    let h = 0.25;
    let g = Grid::aligned(l, &v.breakpoints(), h).unwrap();
    assert!(g.is_uniform());
    let ham = Hamiltonian::new(&v, &g, m_out).unwrap();
    let n = ham.len();
    assert_eq!(ham.matrix.diag.len(), n);
    assert_eq!(ham.matrix.off.len(), n - 1);
    // On a uniform grid: H̃_{j,j+1} = −1/(2 m h²) with the mass of the interval (x_j, x_{j+1}),
    // and H̃_jj = (c_{j−1} + c_j)/h + V_j: the interface node x = a couples with m_in to the
    // left and m_out to the right.
    let x = g.interior();
    for j in 0..n - 1 {
        let m = if x[j] >= -a && x[j + 1] <= a {
            m_in
        } else {
            m_out
        };
        let expected = -1.0 / (2.0 * m * h * h);
        assert!(
            (ham.matrix.off[j] - expected).abs() <= 1e-12 * expected.abs(),
            "off[{j}] at x = {}: {} vs {expected}",
            x[j],
            ham.matrix.off[j]
        );
    }
    let j_a = x.iter().position(|&xj| xj == a).unwrap();
    let expected = (1.0 / m_in + 1.0 / m_out) / (2.0 * h * h) + v.value_at_node(a);
    assert!((ham.matrix.diag[j_a] - expected).abs() <= 1e-12 * expected.abs());

    // ⟨K⟩ + ⟨V⟩ of every eigenvector is its eigenvalue.
    let k = 12;
    let pairs = lowest_eigenpairs(&ham.matrix, k, &SolverOptions::default()).unwrap();
    let mut psi = vec![0.0; n];
    for (i, e) in pairs.values.iter().enumerate() {
        ham.amplitude_from_symmetric(&pairs.vectors[i * n..(i + 1) * n], &mut psi);
        assert!((ham.norm_squared(&psi) - 1.0).abs() < 1e-12);
        let kin = ham.kinetic_energy(&psi);
        assert!(kin > 0.0);
        let sum = kin + ham.potential_energy(&psi);
        assert!(
            (sum - e).abs() <= 1e-12 * e.abs().max(1.0),
            "level {i}: {sum} vs {e}"
        );
    }
}

#[test]
fn piece_masses_serialize_only_when_given() {
    let w = Potential::square_well_with_mass(10.0, 0.1, 2.0, 0.067).unwrap();
    let text = serde_json::to_string(&w.pieces()[0]).unwrap();
    assert!(text.contains("\"mass\":0.067"), "{text}");
    let plain = Piece {
        from: -1.0,
        to: 1.0,
        shape: Shape::Constant { value: -0.1 },
        mass: None,
    };
    let text = serde_json::to_string(&plain).unwrap();
    assert!(!text.contains("mass"), "{text}");
}

const WELL: &str = r#"
[system]
box_half_width = 60.0
mass = 0.092
[potential]
type = "square_well"
depth = 0.1
half_width = 20.0
mass_inside = "0.067 m_e"
[grid]
spacing = 0.25
[solve]
levels = 10
"#;

const PIECES: &str = r#"
[system]
box_half_width = 60.0
mass = 0.092
[potential]
type = "piecewise"
[[potential.pieces]]
from = -20.0
to = 20.0
shape = "constant"
value = -0.1
mass = 0.067
[grid]
spacing = 0.25
[solve]
levels = 10
"#;

fn error_of(text: &str) -> String {
    match parse(text, Path::new("m.toml")) {
        Ok(c) => panic!("accepted: {c:?}\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn config_masses_reach_the_problem() {
    for text in [WELL, PIECES] {
        let c = parse(text, Path::new("m.toml")).unwrap();
        let p = c.problem().unwrap();
        let w = SquareWellCase::from_problem(&p).unwrap();
        assert_eq!((w.depth, w.half_width), (0.1, 20.0));
        assert_eq!((w.well_mass(), w.mass), (0.067, 0.092));
        assert_eq!(p.mass, 0.092);
        assert_eq!(p.potential.pieces()[0].mass, Some(0.067));
        assert_eq!(p.potential.mass_on_interval(0.0, 1.0, p.mass), 0.067);
        assert_eq!(p.potential.mass_on_interval(20.0, 21.0, p.mass), 0.092);
    }
    let plain = WELL.replace("mass_inside = \"0.067 m_e\"\n", "");
    let c = parse(&plain, Path::new("m.toml")).unwrap();
    let w = SquareWellCase::from_problem(&c.problem().unwrap()).unwrap();
    assert_eq!((w.well_mass(), w.mass), (0.092, 0.092));
    assert!(!c.problem().unwrap().potential.has_piece_masses());
}

#[test]
fn bad_masses_in_the_config_name_their_key() {
    for bad in ["0", "-0.067", "\"-1 m_e\""] {
        let msg = error_of(&WELL.replace("\"0.067 m_e\"", bad));
        assert!(msg.starts_with("m.toml: "), "{msg}");
        assert!(msg.contains("potential.mass_inside"), "{msg}");
        assert!(msg.contains("positive mass"), "{msg}");

        let msg = error_of(&PIECES.replace("mass = 0.067", &format!("mass = {bad}")));
        assert!(msg.contains("potential.pieces[0].mass"), "{msg}");
        assert!(msg.contains("positive mass"), "{msg}");
    }
    let msg = error_of(&WELL.replace("\"0.067 m_e\"", "\"0.067 eV\""));
    assert!(msg.contains("mass_inside"), "{msg}");
    let msg = error_of(&PIECES.replace("value = -0.1\n", "value = -0.1\nmass_inside = 0.067\n"));
    assert!(msg.contains("mass_inside"), "{msg}");
    let msg = error_of(&PIECES.replace(
        "type = \"piecewise\"",
        "type = \"piecewise\"\nmass_inside = 0.067",
    ));
    assert!(msg.contains("potential.mass_inside"), "{msg}");
    assert!(msg.contains("is not used by type = \"piecewise\""), "{msg}");
}

#[test]
fn gaas_profile_loads_and_solves() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/profiles/gaas_algaas_well.toml");
    let c = load(&path).unwrap();
    let p = c.problem().unwrap();
    let w = SquareWellCase::from_problem(&p).unwrap();
    assert_eq!((w.well_mass(), w.mass), (0.067, 0.092));
    let s = p.spectrum().unwrap();
    // The lowest levels are bound in the well (below the barrier at V = 0).
    assert!(s.levels[0].energy < 0.0);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}
