//! Spherical and cylindrical confinement: the Bessel functions, the exact radial wells, the
//! grid's channels against them (orders, Richardson), the l = 0 sphere against the odd slab,
//! degeneracy bookkeeping, channel completeness, shell filling and bad input.

use confine::channels::{ChannelError, RadialProblem, Selection};
use confine::checks::bessel;
use confine::checks::radial_exact::RadialWellExact;
use confine::checks::validate_radial::validate_radial;
use confine::model::potential::{Piece, Potential, Shape};
use confine::model::radial::Geometry;
use confine::physics::many_body::{binned_counts, enumerate, EnumerationSettings, Spin};
use confine::physics::radial::{orbitals, state_list};
use confine::physics::thermo::canonical::canonical_curve;
use confine::physics::thermo::nhc::nhc_intervals;
use confine::physics::thermo::{hertz_entropy, kinetic_temperature, StateList};
use confine::Problem;

/// V = −`u0` (Hartree) on [0, `a`] (bohr), optionally with its own mass, in radius `r`.
fn core(r: f64, u0: f64, a: f64, mass_inside: Option<f64>) -> Potential {
    Potential::new(
        r,
        vec![Piece {
            from: 0.0,
            to: a,
            shape: Shape::Constant { value: -u0 },
            mass: mass_inside,
        }],
    )
    .unwrap()
}

// The constants below are mpmath's output as printed (17 significant digits), kept verbatim.
#[allow(clippy::excessive_precision)]
/// (order, x, first kind, second kind, modified first kind, modified second kind), computed
/// once with mpmath 1.3.0 at 30 digits: spherical ones as √(π/2x) times J, Y, I of order
/// l + ½ and k_l = √(π/2x) K_{l+½} · 2/π (so that k_0 = e^{−x}/x).
const SPHERICAL: [(usize, f64, f64, f64, f64, f64); 8] = [
    (
        0,
        0.5,
        0.958851077208406,
        -1.7551651237807454,
        1.0421906109874947,
        1.2130613194252668,
    ),
    (
        1,
        1.0,
        0.30116867893975679,
        -1.3817732906760362,
        0.36787944117144232,
        0.73575888234288464,
    ),
    (
        3,
        2.5,
        0.10392046970240394,
        -0.79660312325324946,
        0.20843886982513896,
        0.22195783627902234,
    ),
    (
        5,
        0.3,
        2.3295825567290273e-7,
        -1302798.67384758,
        2.3457663943326056e-7,
        1289835.5858806328,
    ),
    (
        10,
        7.0,
        0.0067289852643458608,
        -1.3788184007325743,
        0.057204370164956658,
        0.098888598830504142,
    ),
    (
        10,
        40.0,
        0.013124803182748326,
        -0.021803068636888072,
        737041543321430.68,
        4.1011756217199164e-19,
    ),
    (
        2,
        90.0,
        -0.0097636640724538289,
        -0.0053078616858299607,
        6.5565288095964657e+36,
        9.4113124417932216e-42,
    ),
    (
        7,
        15.3,
        -0.0080131431900726539,
        -0.069467541670848171,
        22613.444377829551,
        8.4812962141011169e-8,
    ),
];

#[allow(clippy::excessive_precision)]
/// The same for the cylindrical J_m, Y_m, I_m, K_m (mpmath besselj, bessely, besseli, besselk).
const CYLINDRICAL: [(usize, f64, f64, f64, f64, f64); 8] = [
    (
        0,
        0.5,
        0.9384698072408129,
        -0.44451873350670656,
        1.0634833707413235,
        0.92441907122766586,
    ),
    (
        1,
        1.0,
        0.44005058574493352,
        -0.78121282130028872,
        0.56515910399248503,
        0.60190723019723457,
    ),
    (
        2,
        2.5,
        0.44605905843961723,
        -0.38133584924180325,
        1.2764661478191643,
        0.12146020627856384,
    ),
    (
        5,
        0.3,
        6.3044326337710711e-7,
        -101169.65735231197,
        6.3518936427803162e-7,
        157139.12337121671,
    ),
    (
        10,
        7.0,
        0.023539344388267135,
        -1.9399239932597905,
        0.22098005192766057,
        0.18524358767168078,
    ),
    (
        3,
        40.0,
        -0.1261448155058208,
        -0.0068291034133842081,
        13291455664733660.0,
        9.3789037246453005e-19,
    ),
    (
        0,
        90.0,
        0.026630016699969511,
        0.079776475854877763,
        5.1392383455086638e+37,
        1.0810242556984255e-40,
    ),
    (
        7,
        15.3,
        0.089054787233557771,
        -0.19691086050506369,
        89316.491090758314,
        3.3273347378975675e-7,
    ),
];

#[track_caller]
fn assert_rel(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: got {got:e}, want {want:e} (rel. diff {:e})",
        (got / want - 1.0).abs()
    );
}

#[test]
fn bessel_functions_match_mpmath() {
    for (l, x, j, y, i, k) in SPHERICAL {
        let what = format!("l = {l}, x = {x}");
        assert_rel(bessel::spherical_j(l, x), j, 1e-14, &format!("j {what}"));
        assert_rel(bessel::spherical_y(l, x), y, 1e-14, &format!("y {what}"));
        assert_rel(bessel::spherical_i(l, x), i, 1e-14, &format!("i {what}"));
        assert_rel(bessel::spherical_k(l, x), k, 1e-14, &format!("k {what}"));
    }
    for (m, x, j, y, i, k) in CYLINDRICAL {
        let what = format!("m = {m}, x = {x}");
        assert_rel(bessel::bessel_j(m, x), j, 1e-14, &format!("J {what}"));
        assert_rel(bessel::bessel_y(m, x), y, 1e-14, &format!("Y {what}"));
        assert_rel(bessel::bessel_i(m, x), i, 1e-14, &format!("I {what}"));
        assert_rel(bessel::bessel_k(m, x), k, 1e-14, &format!("K {what}"));
    }
}

#[test]
#[allow(clippy::excessive_precision)]
fn hard_disk_and_hard_sphere_levels_are_the_bessel_zeros() {
    // Zeros from mpmath besseljzero (order m, and l + 1/2 for the spherical j_l).
    let disk = [
        (0, 2.4048255576957728),
        (0, 5.5200781102863106),
        (1, 3.8317059702075123),
        (2, 5.1356223018406826),
    ];
    let ball = [
        (0, std::f64::consts::PI),
        (1, 4.4934094579090642),
        (2, 5.7634591968945498),
        (1, 7.7252518369377072),
    ];
    let r = 10.0;
    for (geometry, zeros) in [(Geometry::Cylinder, disk), (Geometry::Sphere, ball)] {
        let exact = RadialWellExact::new(geometry, r, r, 0.0, 1.0, 1.0).unwrap();
        let problem =
            RadialProblem::new(Potential::new(r, vec![]).unwrap(), 1.0, 0.02, geometry).unwrap();
        let grid = problem.grid().unwrap();
        let mut seen = std::collections::HashMap::new();
        for (channel, zero) in zeros {
            let n = *seen
                .entry(channel)
                .and_modify(|n| *n += 1)
                .or_insert(0usize);
            let want = 0.5 * (zero / r) * (zero / r);
            assert_rel(
                exact.level(channel, n),
                want,
                1e-13,
                &format!("{geometry:?} exact ({n}, {channel})"),
            );
            // The grid (h = 0.02 bohr) to its O(h²) error, and Richardson far closer.
            let coarse = problem.channel_levels(&grid, channel, n + 1).unwrap()[n].energy;
            let fine = problem
                .channel_levels(&grid.refined(2), channel, n + 1)
                .unwrap()[n]
                .energy;
            assert_rel(
                fine,
                want,
                2e-5,
                &format!("{geometry:?} grid ({n}, {channel})"),
            );
            assert_rel(
                (4.0 * fine - coarse) / 3.0,
                want,
                2e-8,
                &format!("{geometry:?} Richardson ({n}, {channel})"),
            );
        }
    }
}

#[test]
fn sphere_l0_is_the_odd_levels_of_the_slab() {
    // The paper's well as a sphere (U0 = 0.1 Ha, a = 20, R = 200 bohr, h = 0.25): with a
    // constant mass u = rR obeys the slab's equation with u(0) = 0, and the finite-volume
    // matrices coincide with the slab's restricted to odd vectors.
    let slab = Problem::new(
        Potential::square_well(200.0, 0.1, 20.0).unwrap(),
        1.0,
        0.25,
        24,
    )
    .spectrum()
    .unwrap();
    let sphere =
        RadialProblem::new(core(200.0, 0.1, 20.0, None), 1.0, 0.25, Geometry::Sphere).unwrap();
    let grid = sphere.grid().unwrap();
    let levels = sphere.channel_levels(&grid, 0, 12).unwrap();
    for (n, level) in levels.iter().enumerate() {
        let odd = &slab.levels[2 * n + 1];
        assert!(
            (level.energy - odd.energy).abs() < 1e-13,
            "E_{n}: {} vs {}",
            level.energy,
            odd.energy
        );
        assert!(
            (level.kinetic - odd.kinetic).abs() < 1e-12,
            "K_{n}: {} vs {}",
            level.kinetic,
            odd.kinetic
        );
    }
}

/// Validation of channels 0..=10 of a core well (R = 60, a = 20 bohr, U0 = 0.1 Ha) against the
/// exact solution: observed orders of E and ⟨K⟩ within 0.1 of 2 and Richardson errors.
fn check_exact_channels(geometry: Geometry, mass_inside: f64) {
    let problem = RadialProblem::new(
        core(60.0, 0.1, 20.0, Some(mass_inside)),
        1.0,
        0.25,
        geometry,
    )
    .unwrap();
    let channels: Vec<(usize, usize)> = (0..=10).map(|l| (l, 2)).collect();
    let checks = validate_radial(&problem, &channels, 3).unwrap();
    let (mut bound, mut unbound, mut ordered) = (0, 0, 0);
    for c in &checks {
        let what = format!(
            "{geometry:?} m_in = {mass_inside} (n, l) = ({}, {}) E = {:.6e}",
            c.n, c.channel, c.exact
        );
        if c.exact < 0.0 {
            bound += 1
        } else {
            unbound += 1
        }
        println!(
            "{what}: errors {:?} order {:.4} Richardson {:.2e} | <K> errors {:?} order {:.4} Richardson {:.2e}",
            c.errors_by_grid, c.observed_order, c.richardson_error,
            c.kinetic_errors_by_grid, c.kinetic_observed_order, c.kinetic_richardson_error
        );
        // The observed order is meaningful where the h² term dominates: a level whose h²
        // coefficient nearly cancels (error below 1e-7 Ha at h = 0.25) shows the h⁴ term mixed
        // in, and is held to its small error and its Richardson value instead.
        if c.errors_by_grid[0].abs() > 1e-7 {
            ordered += 1;
            assert!(
                (c.observed_order - 2.0).abs() < 0.1,
                "{what}: order {} errors {:?}",
                c.observed_order,
                c.errors_by_grid
            );
        }
        if c.kinetic_errors_by_grid[0].abs() > 1e-7 {
            assert!(
                (c.kinetic_observed_order - 2.0).abs() < 0.1,
                "{what}: K order {} errors {:?}",
                c.kinetic_observed_order,
                c.kinetic_errors_by_grid
            );
        }
        let fine = c.errors_by_grid[2].abs();
        assert!(
            fine < 1e-4 * (1.0 + c.channel as f64),
            "{what}: error {fine:e}"
        );
        assert!(
            c.richardson_error.abs() < 0.01 * fine + 1e-9,
            "{what}: Richardson {:e} vs {fine:e}",
            c.richardson_error
        );
        assert!(
            (c.kinetic_exact - c.exact).abs() <= 0.1 + 1e-12 && c.kinetic_exact > 0.0,
            "{what}"
        );
    }
    // Both kinds of level are checked: bound (E < 0) and unbound (E > 0).
    assert!(
        bound >= 5 && unbound >= 5,
        "{bound} bound, {unbound} unbound"
    );
    assert!(
        ordered * 5 >= checks.len() * 4,
        "only {ordered} of {} levels with an h² error",
        checks.len()
    );
}

#[test]
fn sphere_matches_the_exact_finite_well_for_l_0_to_10_at_order_two() {
    check_exact_channels(Geometry::Sphere, 1.0);
}

#[test]
fn sphere_with_a_mass_jump_matches_the_exact_ben_daniel_duke_well() {
    // m = 0.4 inside, 1 outside: the interface term κ = [1/m]/(2a) makes ψ and (1/m)∂ψ/∂r
    // continuous; the exact solution imposes exactly that.
    check_exact_channels(Geometry::Sphere, 0.4);
}

#[test]
fn cylinder_matches_the_exact_finite_well_for_m_0_to_10_at_order_two() {
    check_exact_channels(Geometry::Cylinder, 1.0);
    check_exact_channels(Geometry::Cylinder, 0.4);
}

#[test]
fn kinetic_plus_potential_is_the_eigenvalue_in_every_channel() {
    for geometry in [Geometry::Sphere, Geometry::Cylinder] {
        let problem =
            RadialProblem::new(core(60.0, 0.1, 20.0, Some(0.4)), 1.0, 0.3, geometry).unwrap();
        let grid = problem.grid().unwrap();
        for channel in [0, 1, 4] {
            let h = problem.hamiltonian(&grid, channel).unwrap();
            let pairs = confine::lowest_eigenpairs(&h.matrix, 6, &Default::default()).unwrap();
            let levels = problem.channel_levels(&grid, channel, 6).unwrap();
            let norm = h.matrix.norm_bound();
            for (level, value) in levels.iter().zip(&pairs.values) {
                assert!(
                    (level.kinetic + level.potential - value).abs() < 16.0 * f64::EPSILON * norm,
                    "{geometry:?} {channel}"
                );
                // The centrifugal energy is kinetic: ⟨K⟩ exceeds the radial part alone.
                assert!(level.kinetic > 0.0);
            }
        }
    }
}

#[test]
fn state_counts_are_sums_of_2l_plus_1_equal_to_the_3d_count_from_bessel_zeros() {
    let r = 10.0;
    let exact = RadialWellExact::new(Geometry::Sphere, r, r, 0.0, 1.0, 1.0).unwrap();
    // A cap well inside a gap of the exact spectrum (the grid's error is far smaller).
    let all = exact.levels_below(2.0);
    let cap = all
        .windows(2)
        .filter(|w| w[1].2 - w[0].2 > 0.01 && w[0].2 > 1.0)
        .map(|w| 0.5 * (w[0].2 + w[1].2))
        .next()
        .unwrap();
    let exact_states: u64 = all
        .iter()
        .filter(|l| l.2 < cap)
        .map(|l| 2 * l.0 as u64 + 1)
        .sum();
    let problem = RadialProblem::new(
        Potential::new(r, vec![]).unwrap(),
        1.0,
        0.02,
        Geometry::Sphere,
    )
    .unwrap();
    let spectrum = problem.spectrum(Selection::Below(cap), None).unwrap();
    let grid_states: u64 = spectrum.degeneracies().iter().sum();
    assert_eq!(grid_states, exact_states, "cap {cap}");
    assert!(exact_states > 100, "{exact_states}");
    // The same count through the one thermodynamics: Σ g of the state list.
    assert_eq!(
        state_list(&spectrum).unwrap().total_multiplicity(),
        exact_states
    );
}

#[test]
fn no_level_below_the_cap_is_missed_compared_with_an_over_complete_channel_set() {
    let problem =
        RadialProblem::new(core(200.0, 0.1, 20.0, None), 1.0, 0.25, Geometry::Sphere).unwrap();
    let cap = 0.01;
    let spectrum = problem.spectrum(Selection::Below(cap), None).unwrap();
    let next = spectrum.completeness.next_channel.unwrap();
    assert_eq!(spectrum.completeness.next_count_below_cap, 0);
    // Every channel up to twice the stopping one, each solved for many levels.
    let grid = problem.grid().unwrap();
    let mut over: Vec<(usize, f64)> = Vec::new();
    for channel in 0..2 * next + 5 {
        for level in problem.channel_levels(&grid, channel, 60).unwrap() {
            if level.energy < cap {
                over.push((channel, level.energy));
            }
        }
    }
    over.sort_by(|a, b| a.1.total_cmp(&b.1));
    let got: Vec<(usize, f64)> = spectrum
        .levels
        .iter()
        .map(|l| (l.channel, l.energy))
        .collect();
    assert_eq!(got.len(), over.len());
    for (a, b) in got.iter().zip(&over) {
        assert_eq!(a.0, b.0);
        assert!((a.1 - b.1).abs() < 1e-13);
    }
    // The k lowest levels are the same set as those below the k-th.
    let k = 40;
    let lowest = problem.spectrum(Selection::Lowest(k), None).unwrap();
    assert_eq!(lowest.levels.len(), k);
    for (a, b) in lowest.levels.iter().zip(&spectrum.levels) {
        assert_eq!((a.channel, a.n), (b.channel, b.n));
    }
    // --channel: only that channel.
    let one = problem.spectrum(Selection::Below(cap), Some(3)).unwrap();
    assert!(one
        .levels
        .iter()
        .all(|l| l.channel == 3 && l.degeneracy == 7));
    assert_eq!(
        one.levels.len(),
        spectrum.levels.iter().filter(|l| l.channel == 3).count()
    );
}

#[test]
fn closed_shells_fill_a_hard_sphere() {
    // Hard sphere: 1s (x = π), 1p (4.493), 1d (5.763), 2s (2π): shells of 2, 6, 10, 2 electrons.
    let problem = RadialProblem::new(
        Potential::new(10.0, vec![]).unwrap(),
        1.0,
        0.05,
        Geometry::Sphere,
    )
    .unwrap();
    let spectrum = problem.spectrum(Selection::Lowest(6), None).unwrap();
    let l: Vec<usize> = spectrum.levels.iter().map(|l| l.channel).collect();
    assert_eq!(&l[..4], &[0, 1, 2, 0]);
    let orbitals = orbitals(&spectrum).unwrap();
    let e = spectrum.energies();
    // (N, ground energy, ground-state multiplicity)
    let cases = [
        (2, 2.0 * e[0], 1),
        (3, 2.0 * e[0] + e[1], 6),
        (8, 2.0 * e[0] + 6.0 * e[1], 1),
        (9, 2.0 * e[0] + 6.0 * e[1] + e[2], 10),
        (10, 2.0 * e[0] + 6.0 * e[1] + 2.0 * e[2], 45),
        (18, 2.0 * e[0] + 6.0 * e[1] + 10.0 * e[2], 1),
    ];
    for (n, ground, multiplicity) in cases {
        let settings = EnumerationSettings::new(n, Spin::Half, ground + 1e-9);
        let states = enumerate(&orbitals, &settings).unwrap();
        assert!((states.ground_energy() - ground).abs() < 1e-12, "N = {n}");
        assert_eq!(states.total_states(), multiplicity, "N = {n}");
        // The binned counting (dynamic programming over the orbitals) counts the same shell:
        // one bin from E_gs up to halfway to the first excitation.
        let next = enumerate(
            &orbitals,
            &EnumerationSettings::new(n, Spin::Half, ground + 0.1),
        )
        .unwrap();
        let gap = next.energy().iter().find(|&&e| e > ground + 1e-9).unwrap() - ground;
        let binned =
            binned_counts(&orbitals, n, Spin::Half, ground + 0.5 * gap, 0.5 * gap).unwrap();
        assert_eq!(binned.total_count(), multiplicity as f64, "N = {n}: binned");
    }
}

#[test]
fn degenerate_levels_give_the_same_thermodynamics_as_their_separate_orbitals() {
    let problem =
        RadialProblem::new(core(200.0, 0.1, 20.0, None), 1.0, 0.25, Geometry::Sphere).unwrap();
    let spectrum = problem.spectrum(Selection::Below(0.005), None).unwrap();
    let grouped = state_list(&spectrum).unwrap();
    let (mut e, mut k) = (Vec::new(), Vec::new());
    for level in &spectrum.levels {
        for _ in 0..level.degeneracy {
            e.push(level.energy);
            k.push(level.kinetic);
        }
    }
    let separate = StateList::new(e, k.clone(), vec![1; k.len()], 1)
        .unwrap()
        .with_dimension(3)
        .unwrap();
    assert_eq!(grouped.total_multiplicity(), separate.total_multiplicity());
    // Hertz entropy ln Ω(E) of each distinct energy and T^(K) = (2/3) K.
    let (sg, ss) = (hertz_entropy(&grouped), hertz_entropy(&separate));
    let mut j = 0;
    for (i, level) in spectrum.levels.iter().enumerate() {
        assert!((sg[i] - ss[j]).abs() < 1e-12, "S of level {i}");
        assert!((kinetic_temperature(&grouped)[i] - 2.0 / 3.0 * level.kinetic).abs() < 1e-15);
        j += level.degeneracy as usize;
    }
}

#[test]
fn bad_radial_input_is_a_clear_error() {
    // A piece at negative r.
    let slab_like = Potential::square_well(100.0, 0.1, 20.0).unwrap();
    let err = RadialProblem::new(slab_like.clone(), 1.0, 0.5, Geometry::Sphere)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("piece 0") && err.contains("r >= 0") && err.contains("-20"),
        "{err}"
    );
    // A table with rows at r < 0.
    let table = Potential::tabulated(100.0, vec![[-1.0, 0.0], [5.0, -0.1], [10.0, 0.0]]).unwrap();
    let err = RadialProblem::new(table, 1.0, 0.5, Geometry::Cylinder)
        .unwrap_err()
        .to_string();
    assert!(err.contains("r = -1"), "{err}");
    // The symmetric preset read as a function of r is its x ≥ 0 half.
    let (radial, origin) = slab_like.radial_part().unwrap();
    assert_eq!(radial.pieces().len(), 1);
    assert_eq!(
        (radial.pieces()[0].from, radial.pieces()[0].to, origin[0]),
        (0.0, 20.0, 0)
    );
    // R <= 0 is refused by the potential.
    assert!(Potential::new(0.0, vec![]).is_err());
    // A cap beyond the grid: every grid level of channel 0 is below it.
    let small = RadialProblem::new(
        Potential::new(10.0, vec![]).unwrap(),
        1.0,
        1.0,
        Geometry::Sphere,
    )
    .unwrap();
    let err = small.spectrum(Selection::Below(1e6), None).unwrap_err();
    assert!(matches!(err, ChannelError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("cannot be reached"), "{err}");
    // The slab has no channels.
    assert!(matches!(
        RadialProblem::new(
            Potential::new(10.0, vec![]).unwrap(),
            1.0,
            1.0,
            Geometry::Slab
        ),
        Err(ChannelError::Slab)
    ));
}

/// The canonical temperatures of the reference case: 1e-4 … 0.15 Ha, 200 log-spaced points.
fn reference_temperatures() -> Vec<f64> {
    (0..200)
        .map(|i| 1e-4 * (1500.0f64).powf(i as f64 / 199.0))
        .collect()
}

/// The sphere reference case (U0 = 0.1 Ha, a = 20, R = 200 bohr, h = 0.25) with every level
/// below 0.05 Ha in every channel.
fn reference_sphere() -> confine::channels::RadialSpectrum {
    RadialProblem::new(core(200.0, 0.1, 20.0, None), 1.0, 0.25, Geometry::Sphere)
        .unwrap()
        .spectrum(Selection::Below(0.05), None)
        .unwrap()
}

#[test]
fn sphere_thermodynamics_weighs_each_level_by_its_degeneracy() {
    let spectrum = reference_sphere();
    let states = state_list(&spectrum).unwrap();
    let canonical = canonical_curve(&states, &reference_temperatures()).unwrap();
    // U(T) against the direct sum over every orbital (each of the 2l + 1 separately).
    for point in canonical.iter().step_by(20) {
        let t = point.temperature;
        let e0 = spectrum.levels[0].energy;
        let (mut z, mut u) = (0.0, 0.0);
        for level in &spectrum.levels {
            for _ in 0..level.degeneracy {
                let w = (-(level.energy - e0) / t).exp();
                z += w;
                u += w * level.energy;
            }
        }
        assert!(
            (point.energy - u / z).abs() <= 1e-12 * (u / z).abs(),
            "T = {t}: {} vs {}",
            point.energy,
            u / z
        );
    }
    let t_kinetic = kinetic_temperature(&states);
    for (t, level) in t_kinetic.iter().zip(&spectrum.levels) {
        assert!((t - 2.0 / 3.0 * level.kinetic).abs() < 1e-15);
    }
    // T^(K) falls where the levels leave the core: the first unbound levels have far less
    // kinetic energy than the bound ones below them (the paper's effect, now in 3-D).
    let points: Vec<(f64, Option<f64>)> = states
        .energy()
        .iter()
        .zip(&t_kinetic)
        .map(|(&e, &t)| (e, Some(t)))
        .collect();
    let intervals = nhc_intervals(&points, 0.0).unwrap();
    let biggest = intervals
        .iter()
        .max_by(|a, b| a.relative_drop.total_cmp(&b.relative_drop))
        .unwrap();
    println!(
        "{} T^(K) NHC intervals; largest {biggest:?}",
        intervals.len()
    );
    assert!(
        biggest.e_start < 0.0 && biggest.e_end > 0.0 && biggest.relative_drop > 0.5,
        "{biggest:?}"
    );
    // Two electrons in the same levels through the same functions: the orbitals carry d = 3.
    let orbitals = orbitals(&spectrum).unwrap();
    let pairs = enumerate(&orbitals, &EnumerationSettings::new(2, Spin::Half, -0.15)).unwrap();
    let two = pairs.to_state_list().unwrap();
    assert_eq!(two.dimension(), 3.0);
    assert!((kinetic_temperature(&two)[0] - two.kinetic()[0] / 3.0).abs() < 1e-15);
}

/// The sphere reference case, every level below 0.05 Ha (above the well top) in all channels,
/// and the full N = 1 thermodynamics, with the wall time printed: `cargo test --release --test
/// suite radial::sphere_reference_benchmark -- --ignored --nocapture`. The timing with
/// statistics is `cargo bench --bench geometry`.
#[test]
#[ignore]
fn sphere_reference_benchmark() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/geometry/sphere_paper.toml");
    let study = confine::load_study(&path).unwrap();
    let start = std::time::Instant::now();
    let (spectrum, one) =
        confine::pipeline::geometry_study::one_particle_below(&study.cases[0], 0.05).unwrap();
    let total = start.elapsed().as_secs_f64();
    let spectrum = spectrum.radial().unwrap();
    let states: u64 = spectrum.degeneracies().iter().sum();
    println!(
        "sphere reference below 0.05 Ha: {} levels ({states} states) in channels 0..{}, spectrum and one-particle stage {total:.3} s ({} canonical points, {} grid energies)",
        spectrum.levels.len(),
        spectrum.completeness.next_channel.unwrap(),
        one.canonical.len(),
        one.temperatures.len()
    );
    // The time is measured by `cargo bench --bench geometry`, not asserted here.
    assert!(states > 10_000 && total > 0.0);
}

#[test]
fn geometry_study_finds_the_drop_at_the_top_of_the_well_in_every_geometry() {
    let text =
        "[system]\nbox_half_width = 60.0\n[potential]\ntype = \"square_well\"\ndepth = 0.1\n\
                half_width = 20.0\n[grid]\nspacing = 0.25\n[solve]\nlevels = 10\n\
                [[cases]]\nname = \"slab\"\n\
                [[cases]]\nname = \"cylinder\"\nsystem.geometry = \"cylinder\"\n\
                [[cases]]\nname = \"sphere\"\nsystem.geometry = \"sphere\"\n";
    let study = confine::pipeline::config::parse_study(text, std::path::Path::new("geometry.toml"))
        .unwrap();
    let rows = confine::pipeline::geometry_study::geometry_nhc(&study, 0.05).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.geometry).collect::<Vec<_>>(),
        ["slab", "cylinder", "sphere"]
    );
    for r in &rows {
        let k = r.kinetic.as_ref().unwrap();
        assert!(
            k.e_start < 0.0 && k.e_end > 0.0 && k.relative_drop > 0.9,
            "{}: {k:?}",
            r.geometry
        );
    }
    // The first level above the well is the slab's odd level = the sphere's s level.
    let (slab, sphere) = (
        rows[0].kinetic.as_ref().unwrap(),
        rows[2].kinetic.as_ref().unwrap(),
    );
    assert!(
        (slab.e_end - sphere.e_end).abs() < 1e-13,
        "{} vs {}",
        slab.e_end,
        sphere.e_end
    );
    // States count the degeneracies: 2l + 1 in the sphere, 1 or 2 in the cylinder.
    assert!(rows[2].states > 5 * rows[2].levels as u64 && rows[0].states == rows[0].levels as u64);
    assert!(rows[1].states < 2 * rows[1].levels as u64 && rows[1].states > rows[1].levels as u64);
}

#[test]
fn radial_densities_integrate_to_one_and_vanish_where_psi_does() {
    for geometry in [Geometry::Sphere, Geometry::Cylinder] {
        let problem =
            RadialProblem::new(core(60.0, 0.1, 20.0, Some(0.4)), 1.0, 0.25, geometry).unwrap();
        let spectrum = problem.spectrum(Selection::Lowest(12), None).unwrap();
        let nodes = spectrum.grid.nodes();
        for (i, level) in spectrum.levels.iter().enumerate() {
            let density = spectrum.radial_density(i);
            // Trapezoid rule on the nodes: the discrete norm Σ W ψ² = 1 up to its O(h²) difference.
            let integral: f64 = nodes
                .windows(2)
                .zip(density.windows(2))
                .map(|(r, d)| 0.5 * (r[1] - r[0]) * (d[0] + d[1]))
                .sum();
            assert!(
                (integral - 1.0).abs() < 1e-3,
                "{geometry:?} level {i}: {integral}"
            );
            assert_eq!(*density.last().unwrap(), 0.0);
            // r² |R|² (sphere) and r |R|² (cylinder) vanish on the axis; the cylinder's m = 0 has
            // R(0) ≠ 0 but r R² = 0 there too.
            assert_eq!(density[0], 0.0, "{geometry:?} l = {}", level.channel);
        }
    }
}

#[test]
fn a_dimension_out_of_range_is_an_error() {
    let states = StateList::single_particle(vec![-0.1, 0.0], vec![0.01, 0.02]).unwrap();
    let err = states.with_dimension(4).unwrap_err().to_string();
    assert!(
        err.contains("spatial dimension") && err.contains("1, 2 or 3"),
        "{err}"
    );
}
