//! The potential presets (`double_well`, `core_shell`, `harmonic`, `smooth_well`, `tabulated`):
//! their breakpoints are grid nodes, they equal their hand-written piecewise equivalents, tables
//! round-trip, every table error is named, the uncut harmonic preset reproduces ħω(n + ½) with
//! the predicted h² error, and the smooth well converges at order 2 and tends to the square well.

use crate::common::scratch_dir;
use std::path::Path;

use confine::checks::analytic::FiniteWellInBox;
use confine::checks::converge::self_convergence;
use confine::model::grid::Grid;
use confine::model::potential::Potential;
use confine::model::problem::Problem;
use confine::model::units::{parse_quantity, Dimension, BOHR_IN_NM, HARTREE_IN_EV};
use confine::pipeline::config::{self, Config, ConfigError, PotentialConfig};

fn parse(text: &str) -> Result<Config, ConfigError> {
    config::parse(text, Path::new("configs/x.toml"))
}

fn ok(text: &str) -> Config {
    parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// Config text with the given `[potential]` body.
fn with_potential(box_half_width: &str, potential: &str, spacing: &str, levels: usize) -> String {
    format!(
        "[system]\nbox_half_width = {box_half_width}\n[potential]\n{potential}\n\
         [grid]\nspacing = {spacing}\n[solve]\nlevels = {levels}\n"
    )
}

fn levels_of(c: &Config, count: usize) -> Vec<f64> {
    let p = c.problem().unwrap();
    p.spectrum_with_levels(count).unwrap().energies()
}

/// |a_n − b_n| ≤ tol for every n.
fn assert_same_levels(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len());
    for (n, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol, "{what}: level {n}: {x} vs {y}");
    }
}

const DOUBLE_WELL: &str =
    "type = \"double_well\"\ndepth = 0.1\nwell_width = 10.0\nbarrier_width = 4.0";
const DOUBLE_WELL_PIECES: &str = "type = \"piecewise\"\n\
    [[potential.pieces]]\nfrom = -12.0\nto = -2.0\nshape = \"constant\"\nvalue = -0.1\n\
    [[potential.pieces]]\nfrom = 2.0\nto = 12.0\nshape = \"constant\"\nvalue = -0.1";
const CORE_SHELL: &str =
    "type = \"core_shell\"\ncore_depth = \"2.7 eV\"\ncore_half_width = \"1 nm\"\n\
    shell_depth = \"1 eV\"\nshell_half_width = \"3 nm\"";
const CORE_SHELL_PIECES: &str = "type = \"piecewise\"\n\
    [[potential.pieces]]\nfrom = \"-3 nm\"\nto = \"-1 nm\"\nshape = \"constant\"\nvalue = \"-1 eV\"\n\
    [[potential.pieces]]\nfrom = \"-1 nm\"\nto = \"1 nm\"\nshape = \"constant\"\nvalue = \"-2.7 eV\"\n\
    [[potential.pieces]]\nfrom = \"1 nm\"\nto = \"3 nm\"\nshape = \"constant\"\nvalue = \"-1 eV\"";
const HARMONIC: &str = "type = \"harmonic\"\nspring = 0.0005\ndepth = 0.1";
const HARMONIC_PIECES: &str = "type = \"piecewise\"\n\
    [[potential.pieces]]\nfrom = -20.0\nto = 20.0\nshape = \"harmonic\"\nspring = 0.0005\noffset = -0.1";
const SMOOTH: &str = "type = \"smooth_well\"\ndepth = 0.1\nhalf_width = 20.0\nedge_width = 1.0";

/// Relative rounding of a level: a few ulps of the largest term of H (V and the kinetic scale
/// of the level), amplified at most by the O(1) number of operations per matrix entry.
fn rounding(scale: f64) -> f64 {
    64.0 * f64::EPSILON * scale
}

#[test]
fn every_preset_puts_its_breakpoints_on_grid_nodes() {
    let cases: [(&str, &str, &str, &[f64]); 4] = [
        ("60.0", DOUBLE_WELL, "0.3", &[-12.0, -2.0, 2.0, 12.0]),
        ("200.0", HARMONIC, "0.7", &[-20.0, 20.0]),
        ("100.0", SMOOTH, "0.3", &[-20.0, 20.0]),
        ("\"10 nm\"", CORE_SHELL, "\"0.07 nm\"", &[]),
    ];
    for (l, potential, h, expected) in cases {
        let c = ok(&with_potential(l, potential, h, 4));
        let p = c.problem().unwrap();
        let b = p.potential.breakpoints();
        if !expected.is_empty() {
            assert_eq!(b.len(), expected.len(), "{potential}: {b:?}");
            for (x, e) in b.iter().zip(expected) {
                assert!((x - e).abs() <= 4.0 * f64::EPSILON * e.abs(), "{b:?}");
            }
        } else {
            let nm = |t: &str| parse_quantity(t, Dimension::Length).unwrap();
            assert_eq!(b, vec![nm("-3 nm"), nm("-1 nm"), nm("1 nm"), nm("3 nm")]);
        }
        let grid = Grid::aligned(p.potential.box_half_width(), &b, p.spacing).unwrap();
        for x in &b {
            assert!(grid.nodes().contains(x), "{potential}: {x} is not a node");
        }
        assert!(grid.max_spacing() <= p.spacing * (1.0 + 1e-12));
    }
    // A table: every row is a node, including the kinks between its end rows.
    let dir = scratch_dir("nodes");
    std::fs::write(
        dir.join("t.csv"),
        "x [bohr],V [Ha]\n-7.3,0\n-2.1,-0.2\n0.37,-0.25\n5.9,-0.1\n",
    )
    .unwrap();
    let cfg = dir.join("t.toml");
    std::fs::write(
        &cfg,
        with_potential("10.0", "type = \"tabulated\"\nfile = \"t.csv\"", "0.3", 4),
    )
    .unwrap();
    let p = config::load(&cfg).unwrap().problem().unwrap();
    let b = p.potential.breakpoints();
    assert_eq!(b, vec![-7.3, -2.1, 0.37, 5.9]);
    let grid = Grid::aligned(10.0, &b, p.spacing).unwrap();
    for x in &b {
        assert!(grid.nodes().contains(x), "{x} is not a node");
    }
}

#[test]
fn presets_equal_their_hand_written_piecewise_equivalents() {
    // Same breakpoints and node values: the levels agree to rounding.
    let pairs = [
        ("60.0", DOUBLE_WELL, DOUBLE_WELL_PIECES, "0.1", 0.1f64),
        (
            "\"10 nm\"",
            CORE_SHELL,
            CORE_SHELL_PIECES,
            "\"0.01 nm\"",
            0.1,
        ),
        ("200.0", HARMONIC, HARMONIC_PIECES, "0.25", 0.1),
    ];
    for (l, preset, pieces, h, depth) in pairs {
        let a = ok(&with_potential(l, preset, h, 12));
        let b = ok(&with_potential(l, pieces, h, 12));
        let (ea, eb) = (levels_of(&a, 12), levels_of(&b, 12));
        // The scale of H's entries near these levels: the depth and the level's kinetic energy.
        let scale = depth.max(ea.iter().fold(0.0f64, |m, e| m.max(e.abs()))) + depth;
        assert_same_levels(&ea, &eb, rounding(scale), preset);
        // The probability columns are named by region.
        let names = a.potential.region_names();
        assert_eq!(names.len(), a.problem().unwrap().potential.pieces().len());
    }
    // The core-shell well in eV through the preset equals the piecewise one in Hartree.
    let c = ok(&with_potential("\"10 nm\"", CORE_SHELL, "\"0.01 nm\"", 1));
    assert_eq!(c.potential.type_name(), "core_shell", "{:?}", c.potential);
    let core_depth = c.potential.parameter("core_depth").unwrap();
    assert!((core_depth - 2.7 / HARTREE_IN_EV).abs() <= f64::EPSILON * core_depth);
    // The double well's barrier can be raised above the outside level.
    let raised = ok(&with_potential(
        "60.0",
        &format!("{DOUBLE_WELL}\nbarrier_height = 0.3"),
        "0.1",
        4,
    ));
    let p = raised.problem().unwrap();
    assert!((p.potential.value_at_node(0.0) - 0.2).abs() <= f64::EPSILON * 0.2);
    assert_eq!(p.potential.value_at_node(-7.0), -0.1);
    assert!(
        levels_of(&raised, 4)[0]
            > levels_of(&ok(&with_potential("60.0", DOUBLE_WELL, "0.1", 4)), 4)[0]
    );
}

#[test]
fn harmonic_given_by_omega_or_spring_is_the_same_well() {
    // ħω = √(k/m): with m = 0.5 and k = 0.0008, ω = 0.04 exactly.
    let box_and_mass = "40.0\nmass = 0.5";
    let by_spring = ok(&with_potential(
        box_and_mass,
        "type = \"harmonic\"\nspring = 0.0008",
        "0.1",
        6,
    ));
    let by_omega = ok(&with_potential(
        box_and_mass,
        "type = \"harmonic\"\nomega = 0.04",
        "0.1",
        6,
    ));
    assert_eq!(by_omega.potential.type_name(), "harmonic");
    let parameter = |name| by_omega.potential.parameter(name);
    let (spring, omega, depth) = (
        parameter("spring").unwrap(),
        parameter("omega").unwrap(),
        parameter("depth"),
    );
    assert!((spring - 0.0008).abs() <= 2.0 * f64::EPSILON * 0.0008);
    assert_eq!((omega, depth), (0.04, None));
    assert_same_levels(
        &levels_of(&by_spring, 6),
        &levels_of(&by_omega, 6),
        // k differs by an ulp: the levels by ~ulp × ω(n + ½).
        rounding(0.5),
        "omega vs spring",
    );
    // Uncut: one piece filling the box; cut: edge at √(2 depth / k).
    let p = by_spring.problem().unwrap();
    assert_eq!(
        (p.potential.pieces()[0].from, p.potential.pieces()[0].to),
        (-40.0, 40.0)
    );
    assert!(p.potential.breakpoints().is_empty());
    let cut = ok(&with_potential(
        "40.0",
        "type = \"harmonic\"\nspring = 0.0008\ndepth = 0.1",
        "0.1",
        2,
    ));
    let edge = (2.0f64 * 0.1 / 0.0008).sqrt();
    let cut = cut.problem().unwrap();
    let cut_piece = &cut.potential.pieces()[0];
    assert_eq!((cut_piece.from, cut_piece.to), (-edge, edge));
    // A cut beyond the box: the parabola fills the box.
    let wide = ok(&with_potential(
        "10.0",
        "type = \"harmonic\"\nspring = 0.0008\ndepth = 0.1",
        "0.1",
        2,
    ));
    let wide = wide.problem().unwrap();
    let wide_piece = &wide.potential.pieces()[0];
    assert_eq!((wide_piece.from, wide_piece.to), (-10.0, 10.0));
}

#[test]
fn uncut_harmonic_preset_matches_the_oscillator_ladder_with_the_predicted_h2_error() {
    // V = ½ m ω² x² in a box of L = 40 bohr ≫ the oscillator length 1/√(mω) = 4.5 bohr: the
    // walls shift the low levels by ~exp(−mωL²) ≈ e⁻⁸⁰, nothing. The three-point stencil gives
    // K_h = K − h²/(24 m) d⁴/dx⁴ + O(h⁴), so to first order
    //   E_n(h) − ω(n + ½) = −h²⟨p⁴⟩_n/(24 m) = −h² m ω² (2n² + 2n + 1)/32,
    // using ⟨p⁴⟩_n = (3/4)(mω)²(2n² + 2n + 1). The next terms are smaller by a factor of order
    // h² m ω (2n + 1) ≤ 1e-3 here, so the measured error must match the prediction to 1 %.
    let (omega, mass, h) = (0.05, 1.0, 0.1);
    let text = format!(
        "[system]\nbox_half_width = 40.0\nmass = {mass}\n[potential]\ntype = \"harmonic\"\nomega = {omega}\n\
         [grid]\nspacing = {h}\n[solve]\nlevels = 6\n"
    );
    let c = ok(&text);
    let e = levels_of(&c, 6);
    for (n, e) in e.iter().enumerate() {
        let nf = n as f64;
        let exact = omega * (nf + 0.5);
        let predicted = -h * h * mass * omega * omega * (2.0 * nf * nf + 2.0 * nf + 1.0) / 32.0;
        let error = e - exact;
        assert!(
            (error - predicted).abs() <= 0.01 * predicted.abs(),
            "level {n}: error {error:e}, predicted {predicted:e}"
        );
    }
}

#[test]
fn smooth_well_converges_at_order_two() {
    let c = ok(&with_potential("100.0", SMOOTH, "0.1", 8));
    let p = c.problem().unwrap();
    let conv = self_convergence(
        &Problem {
            levels: 8,
            ..p.clone()
        },
        3,
    )
    .unwrap();
    assert!(conv.warnings.is_empty(), "{:?}", conv.warnings);
    for l in &conv.levels {
        let order = l.energy.observed_order.unwrap();
        assert!((order - 2.0).abs() < 0.1, "level {}: order {order}", l.n);
    }
    // The node values are V itself (V is continuous): −U0/2 at |x| = a, ≈ −U0 at 0.
    assert_eq!(p.potential.value_at_node(20.0), -0.05);
    assert_eq!(p.potential.value_at_node(-20.0), -0.05);
    assert!((p.potential.value_at_node(0.0) + 0.1).abs() < 0.1 * (-20.0f64).exp() * 1.01);
    assert!(p.potential.is_parity_symmetric());
}

#[test]
fn smooth_well_tends_to_the_square_well_as_the_edge_sharpens() {
    // δV = V_ws − V_square is odd about each edge x = ±a: δV(a + s) = −U0 sign(s)/(1 + e^{|s|/w}),
    // with ∫ δV ds = 0 and ∫ s δV ds = −(π²/6) U0 w². First-order perturbation theory on the
    // exact square-well state ψ gives, both edges together,
    //   E(w) − E(0) = c w² + O(w³),   c = −(π²/3) U0 (ψ²)′(a),
    // (the O(w³) rest mixes the curvature jump of ψ² at a and second order in δV). So the
    // levels tend to the square well's as w², and c(w) = (E(w) − E(0))/w² = c + O(w):
    // extrapolating c(w) linearly from (w, w/2) leaves O(w²), whose size is estimated, as in
    // Richardson's error estimate, by the change between the extrapolations of two pairs.
    let (u0, a, l) = (0.1, 5.0, 20.0);
    let well = FiniteWellInBox::new(u0, a, l, 1.0, 1.0).unwrap();
    let exact = well.levels(2).unwrap();
    let widths = [0.2, 0.1, 0.05];
    let mut coefficients: Vec<Vec<f64>> = vec![Vec::new(); exact.len()];
    for w in widths {
        let text = with_potential(
            &format!("{l}"),
            &format!("type = \"smooth_well\"\ndepth = {u0}\nhalf_width = {a}\nedge_width = {w}"),
            // Ten points per edge width on the coarsest of the three nested grids.
            &format!("{}", w / 10.0),
            2,
        );
        let p = ok(&text).problem().unwrap();
        let conv = self_convergence(
            &Problem {
                levels: 2,
                ..p.clone()
            },
            3,
        )
        .unwrap();
        for (c, x) in conv.levels.iter().zip(&exact) {
            let diff = c.energy.richardson - x.energy;
            // The grid error of the extrapolated level is far below the w² effect.
            assert!(
                c.energy.error_estimate < 1e-4 * diff.abs(),
                "w = {w}, level {}",
                c.n
            );
            coefficients[c.n].push(diff / (w * w));
        }
    }
    for (n, c) in coefficients.iter().enumerate() {
        // Order 2 in w: the differences shrink by ~4 per halving, the more exactly the smaller
        // w (the order's deviation from 2 is the O(w) relative correction to c).
        let order =
            |k: usize| (c[k] * widths[k].powi(2) / (c[k + 1] * widths[k + 1].powi(2))).log2();
        let (coarse_order, fine_order) = (order(0), order(1));
        assert!(
            (fine_order - 2.0).abs() < (coarse_order - 2.0).abs() && (fine_order - 2.0).abs() < 0.1,
            "level {n}: orders in w {coarse_order}, {fine_order}"
        );
        let psi2 = |y: f64| well.wavefunction(&exact[n], y).powi(2);
        let d = 1e-6;
        let predicted =
            -(std::f64::consts::PI.powi(2) / 3.0) * u0 * (psi2(a + d) - psi2(a - d)) / (2.0 * d);
        let coarse = 2.0 * c[1] - c[0];
        let fine = 2.0 * c[2] - c[1];
        assert!(
            (fine - predicted).abs() <= (fine - coarse).abs(),
            "level {n}: coefficient of w²: {fine:e} (estimated error {:e}), predicted {predicted:e}",
            (fine - coarse).abs()
        );
        assert!((fine - predicted).abs() < 0.01 * predicted.abs());
    }
}

/// Writes a piecewise-linear potential (rows in bohr, Hartree) as a CSV in the given units.
fn write_csv(
    path: &Path,
    rows: &[[f64; 2]],
    x_unit: &str,
    v_unit: &str,
    x_per_bohr: f64,
    v_per_ha: f64,
) {
    let mut text = format!("# written by the round-trip test\nx [{x_unit}],V [{v_unit}]\n");
    for [x, v] in rows {
        text.push_str(&format!("{},{}\n", x * x_per_bohr, v * v_per_ha));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn tabulated_potentials_round_trip_through_csv() {
    // A graded asymmetric well, written as linear pieces and as a table.
    let rows = [
        [-15.0, 0.0],
        [-9.0, -0.04],
        [-3.0, -0.12],
        [2.0, -0.12],
        [6.5, -0.03],
    ];
    let mut pieces = String::from("type = \"piecewise\"\n");
    for w in rows.windows(2) {
        pieces.push_str(&format!(
            "[[potential.pieces]]\nfrom = {:?}\nto = {:?}\nshape = \"linear\"\nstart = {:?}\nend = {:?}\n",
            w[0][0], w[1][0], w[0][1], w[1][1]
        ));
    }
    let by_pieces = ok(&with_potential("30.0", &pieces, "0.1", 10));
    let expected = levels_of(&by_pieces, 10);
    let dir = scratch_dir("round_trip");
    let units = [
        ("bohr", "Ha", 1.0, 1.0),
        ("nm", "eV", BOHR_IN_NM, HARTREE_IN_EV),
        ("Å", "meV", 10.0 * BOHR_IN_NM, 1e3 * HARTREE_IN_EV),
    ];
    for (xu, vu, xf, vf) in units {
        let csv = dir.join(format!("well_{vu}.csv"));
        write_csv(&csv, &rows, xu, vu, xf, vf);
        let cfg = dir.join(format!("well_{vu}.toml"));
        std::fs::write(
            &cfg,
            with_potential(
                "30.0",
                &format!("type = \"tabulated\"\nfile = \"well_{vu}.csv\""),
                "0.1",
                10,
            ),
        )
        .unwrap();
        let c = config::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
        let PotentialConfig::Tabulated { file, table } = &c.potential else {
            panic!("{:?}", c.potential)
        };
        assert_eq!(file, Path::new(&format!("well_{vu}.csv")));
        for (r, t) in rows.iter().zip(table) {
            // Converting to nm/eV and back costs at most a couple of ulps.
            assert!(
                (r[0] - t[0]).abs() <= 4.0 * f64::EPSILON * r[0].abs(),
                "{r:?} {t:?}"
            );
            assert!(
                (r[1] - t[1]).abs() <= 4.0 * f64::EPSILON * r[1].abs(),
                "{r:?} {t:?}"
            );
        }
        let got = levels_of(&c, 10);
        // Breakpoints and values moved by a few ulps: the levels by a few ulps of the scale of H.
        assert_same_levels(&got, &expected, rounding(0.2), &format!("{xu}, {vu}"));
        if xu == "bohr" {
            // Same breakpoints and the same interpolation formula: bit for bit.
            assert_eq!(got, expected);
        }
    }
}

#[test]
fn a_changed_table_changes_the_serialized_config() {
    let dir = scratch_dir("serialize");
    let cfg = dir.join("t.toml");
    std::fs::write(
        &cfg,
        with_potential("10.0", "type = \"tabulated\"\nfile = \"t.csv\"", "0.1", 2),
    )
    .unwrap();
    std::fs::write(dir.join("t.csv"), "x [bohr],V [Ha]\n-2,-0.1\n2,-0.1\n").unwrap();
    let before = serde_json::to_string(&config::load(&cfg).unwrap()).unwrap();
    assert!(before.contains("\"type\":\"tabulated\""), "{before}");
    // The table is recorded by its digest (rows, x range, hash of the values), not row by row.
    assert!(
        before.contains("\"rows\":2,\"x_first\":-2.0,\"x_last\":2.0,\"fnv1a64\":"),
        "{before}"
    );
    std::fs::write(dir.join("t.csv"), "x [bohr],V [Ha]\n-2,-0.1\n2,-0.2\n").unwrap();
    let after = serde_json::to_string(&config::load(&cfg).unwrap()).unwrap();
    assert_ne!(before, after);
    // Comments do not change the potential, and not its serialization.
    std::fs::write(
        dir.join("t.csv"),
        "# note\nx [bohr],V [Ha]\n-2,-0.1\n2,-0.2\n",
    )
    .unwrap();
    assert_eq!(
        after,
        serde_json::to_string(&config::load(&cfg).unwrap()).unwrap()
    );
}

#[test]
fn a_large_table_keeps_the_provenance_small_and_sensitive_to_every_value() {
    // 20 000 rows: every row is a grid node. The config's serialization and the grid summary
    // used to list every row and every segment (197 MB of metadata.json for 10^6 rows).
    let dir = scratch_dir("large_table");
    let rows = 20_000;
    let table = |bump: usize| {
        let mut text = String::from("x [bohr],V [Ha]\n");
        for i in 0..rows {
            let x = -9.0 + 18.0 * i as f64 / (rows - 1) as f64;
            let v = if i == bump { -0.1 + 1e-12 } else { -0.1 };
            text.push_str(&format!("{x:?},{v:?}\n"));
        }
        text
    };
    let cfg = dir.join("t.toml");
    std::fs::write(
        &cfg,
        with_potential("10.0", "type = \"tabulated\"\nfile = \"t.csv\"", "0.1", 2),
    )
    .unwrap();
    std::fs::write(dir.join("t.csv"), table(usize::MAX)).unwrap();
    let c = config::load(&cfg).unwrap();
    let json = serde_json::to_string(&c).unwrap();
    assert!(json.len() < 2_000, "{} bytes: {json}", json.len());
    let problem = c.problem().unwrap();
    let p = &problem.potential;
    let grid = Grid::aligned(p.box_half_width(), &p.breakpoints(), problem.spacing).unwrap();
    let summary = serde_json::to_string(&grid.summary()).unwrap();
    assert!(summary.len() < 2_000, "{} bytes", summary.len());
    assert_eq!(grid.summary().segment_count, rows - 1 + 2);
    // One value changed by 1e-12 Ha in the middle of the table: another serialization.
    std::fs::write(dir.join("t.csv"), table(rows / 2)).unwrap();
    let changed = serde_json::to_string(&config::load(&cfg).unwrap()).unwrap();
    assert_ne!(json, changed);
}

/// The bad tables and the words their messages must hold (besides the CSV's name and line).
pub const BAD_TABLES: [(&str, &str, &str, &str); 12] = [
    (
        "gap.csv",
        "x [bohr],V [Ha]\n-1,0\n0,\n1,0\n",
        "line 3",
        "V field is empty",
    ),
    (
        "one_field.csv",
        "x [bohr],V [Ha]\n-1,0\n0\n1,0\n",
        "line 3",
        "expected 2 fields",
    ),
    (
        "three_fields.csv",
        "x [bohr],V [Ha]\n-1,0\n0,1,2\n",
        "line 3",
        "expected 2 fields",
    ),
    (
        "text.csv",
        "x [bohr],V [Ha]\n-1,0\nzero,1\n",
        "line 3",
        "is not a number",
    ),
    (
        "nan.csv",
        "x [bohr],V [Ha]\n-1,NaN\n1,0\n",
        "line 2",
        "not a finite number",
    ),
    (
        "inf.csv",
        "x [bohr],V [Ha]\n-1,0\ninf,0\n",
        "line 3",
        "not a finite number",
    ),
    (
        "unsorted.csv",
        "x [bohr],V [Ha]\n1,0\n-1,0\n",
        "line 3",
        "strictly increasing",
    ),
    (
        "duplicate.csv",
        "x [bohr],V [Ha]\n-1,0\n0,1\n0,2\n",
        "line 4",
        "repeats",
    ),
    (
        "outside.csv",
        "x [bohr],V [Ha]\n-1,0\n50,0\n",
        "line 3",
        "outside the box",
    ),
    (
        "one_row.csv",
        "x [bohr],V [Ha]\n-1,0\n",
        "at least 2 rows",
        "holds 1 row",
    ),
    (
        "unit.csv",
        "x [parsec],V [Ha]\n-1,0\n1,0\n",
        "line 1",
        "unknown length unit \"parsec\"",
    ),
    (
        "no_header.csv",
        "-1,0\n1,0\n",
        "line 1",
        "the header must name the columns",
    ),
];

#[test]
fn every_table_error_names_the_csv_file_and_its_line() {
    let dir = scratch_dir("errors");
    for (name, text, line, needle) in BAD_TABLES {
        std::fs::write(dir.join(name), text).unwrap();
        let cfg = dir.join(format!("{name}.toml"));
        std::fs::write(
            &cfg,
            with_potential(
                "10.0",
                &format!("type = \"tabulated\"\nfile = \"{name}\""),
                "0.1",
                2,
            ),
        )
        .unwrap();
        let e = config::load(&cfg).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, ConfigError::Invalid { ref key, .. } if key == "potential.file"),
            "{msg}"
        );
        for must in [
            name,
            line,
            needle,
            "potential.file",
            &cfg.display().to_string(),
        ] {
            assert!(msg.contains(must), "{name}: `{must}` missing from: {msg}");
        }
    }
    // An unreadable (missing) file.
    let cfg = dir.join("missing.toml");
    std::fs::write(
        &cfg,
        with_potential(
            "10.0",
            "type = \"tabulated\"\nfile = \"nowhere.csv\"",
            "0.1",
            2,
        ),
    )
    .unwrap();
    let msg = config::load(&cfg).unwrap_err().to_string();
    assert!(
        msg.contains("nowhere.csv") && msg.contains("cannot read the table"),
        "{msg}"
    );
}

#[test]
fn bad_preset_parameters_are_named_with_what_is_valid() {
    let rejects = |potential: &str, l: &str, needles: &[&str]| {
        let e = parse(&with_potential(l, potential, "0.1", 2))
            .unwrap_err()
            .to_string();
        for n in needles {
            assert!(e.contains(n), "`{n}` missing from: {e}");
        }
    };
    rejects(
        "type = \"double_well\"\ndepth = 0.1\nwell_width = 10.0",
        "60.0",
        &[
            "potential.barrier_width is missing",
            "well_width and barrier_width",
        ],
    );
    rejects(
        DOUBLE_WELL,
        "10.0",
        &[
            "potential.well_width",
            "12 bohr",
            "system.box_half_width = 10 bohr",
        ],
    );
    rejects(
        &format!("{DOUBLE_WELL}\nbarrier_height = -0.1"),
        "60.0",
        &["potential.barrier_height must be a positive energy"],
    );
    rejects(
        &format!("{DOUBLE_WELL}\nhalf_width = 3"),
        "60.0",
        &["potential.half_width is not used by type = \"double_well\""],
    );
    rejects(
        CORE_SHELL,
        "\"2 nm\"",
        &["potential.shell_half_width", "box_half_width"],
    );
    rejects(
        &CORE_SHELL.replace(
            "shell_half_width = \"3 nm\"",
            "shell_half_width = \"0.5 nm\"",
        ),
        "\"10 nm\"",
        &["potential.shell_half_width", "larger than core_half_width"],
    );
    rejects(
        "type = \"core_shell\"\ncore_depth = 1\nshell_depth = 0.5\ncore_half_width = 1",
        "10.0",
        &["potential.shell_half_width is missing"],
    );
    rejects(
        "type = \"harmonic\"\nspring = 1e-3\nomega = 0.1",
        "10.0",
        &["potential.spring", "both given"],
    );
    rejects(
        "type = \"harmonic\"\ndepth = 0.1",
        "10.0",
        &["potential.omega is missing", "omega", "spring"],
    );
    rejects(
        "type = \"harmonic\"\nspring = -1e-3",
        "10.0",
        &["potential.spring must be a positive spring constant"],
    );
    rejects(
        "type = \"harmonic\"\nomega = \"3 nm\"",
        "10.0",
        &["potential.omega", "\"nm\" is a unit of length"],
    );
    rejects(
        "type = \"smooth_well\"\ndepth = 0.1\nhalf_width = 5",
        "10.0",
        &["potential.edge_width is missing"],
    );
    rejects(
        "type = \"smooth_well\"\ndepth = 0.1\nhalf_width = 5\nedge_width = 0",
        "10.0",
        &["potential.edge_width must be a positive length"],
    );
    rejects(
        "type = \"smooth_well\"\ndepth = 0.1\nhalf_width = 15\nedge_width = 1",
        "10.0",
        &["potential.half_width", "box_half_width"],
    );
    rejects(
        "type = \"tabulated\"",
        "10.0",
        &["potential.file is missing"],
    );
    rejects(
        "type = \"tabulated\"\nfile = \"t.csv\"\ndepth = 1",
        "10.0",
        &["potential.depth is not used by type = \"tabulated\""],
    );
}

#[test]
fn potentials_built_from_presets_report_their_minimum() {
    let smooth = ok(&with_potential("100.0", SMOOTH, "0.1", 2))
        .problem()
        .unwrap();
    let v: &Potential = &smooth.potential;
    assert!((v.min_value() - v.value_at_node(0.0)).abs() <= f64::EPSILON * 0.1);
    let h = ok(&with_potential("200.0", HARMONIC, "0.25", 2))
        .problem()
        .unwrap();
    assert_eq!(h.potential.min_value(), -0.1);
}
