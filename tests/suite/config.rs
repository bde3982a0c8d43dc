//! Config files and quantities with units: parsing, validation and the messages of bad input.

use std::path::{Path, PathBuf};

use confine::checks::validate::{SquareWellCase, ValidateError};
use confine::model::potential::{Piece, Shape};
use confine::model::units::*;
use confine::pipeline::config::*;

const PAPER: &str = include_str!("../../configs/paper.toml");

fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
}

#[track_caller]
fn assert_close(got: f64, want: f64) {
    assert!(close(got, want, 1e-13), "got {got:e}, want {want:e}");
}

/// The type and the parameters (atomic units) of a preset potential.
fn preset(p: &PotentialConfig) -> (&'static str, Vec<(&'static str, f64)>) {
    let PotentialConfig::Preset(preset) = p else {
        panic!("a preset expected: {p:?}")
    };
    (preset.type_name(), preset.parameters().collect())
}

/// (depth, half_width) (Hartree, bohr) of the square well a config's problem holds.
fn square_well_of(c: &Config) -> Result<(f64, f64), ValidateError> {
    let w = SquareWellCase::from_problem(&c.problem().unwrap())?;
    Ok((w.depth, w.half_width))
}

fn q(text: &str, dim: Dimension) -> f64 {
    parse_quantity(text, dim).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// units

#[test]
fn constants_are_codata_2018() {
    assert_eq!(HARTREE_IN_EV, 27.211386245988);
    assert_eq!(BOHR_IN_NM, 0.0529177210903);
    assert_eq!(NM_IN_BOHR, 18.897261246257702);
    assert_eq!(HARTREE_IN_KELVIN, 315775.02480407);
    assert_eq!(ANGSTROM_IN_NM, 0.1);
}

#[test]
fn energies_convert_to_hartree() {
    use Dimension::Energy as E;
    assert_close(q("2.7 eV", E), 0.0992231698742685);
    assert_close(q("2.7eV", E), 0.0992231698742685);
    assert_close(q("27.211386245988 eV", E), 1.0);
    assert_close(q("1000 meV", E), 1.0 / 27.211386245988);
    assert_eq!(q("-0.1 Ha", E), -0.1);
    assert_eq!(q("0.5 hartree", E), 0.5);
    assert_eq!(q("0.5 Hartree", E), 0.5);
    assert_eq!(q("1 Ry", E), 0.5);
    assert_close(q("300 K", E), 9.500434690366726e-4);
    assert_close(q("300000 mK", E), 9.500434690366726e-4);
    assert_eq!(q("0.25", E), 0.25);
    assert_eq!(q("-1e-1", E), -0.1);
    assert_eq!(q("  7  ", E), 7.0);
}

#[test]
fn lengths_convert_to_bohr() {
    use Dimension::Length as L;
    assert_close(q("1 nm", L), 18.8972612462577);
    assert_close(q("1nm", L), 18.8972612462577);
    assert_close(q("10 Å", L), 18.8972612462577);
    assert_close(q("10 \u{212B}", L), 18.8972612462577);
    assert_close(q("10 angstrom", L), 18.8972612462577);
    assert_close(q("1000 pm", L), 18.8972612462577);
    assert_close(q("0.0529177210903 nm", L), 1.0);
    assert_eq!(q("20 bohr", L), 20.0);
    assert_eq!(q("20 a0", L), 20.0);
    assert_eq!(q("-3.5", L), -3.5);
}

#[test]
fn temperatures_are_kb_t_in_hartree() {
    use Dimension::Temperature as T;
    assert_close(q("300 K", T), 9.500434690366726e-4);
    assert_close(q("315775.02480407 K", T), 1.0);
    assert_close(q("1 mK", T), 1e-3 / 315775.02480407);
    assert_close(q("25 meV", T), 0.025 / 27.211386245988);
    assert_close(q("1 eV", T), 1.0 / 27.211386245988);
    assert_eq!(q("0.01 Ha", T), 0.01);
    assert_eq!(q("0.01", T), 0.01);
}

#[test]
fn masses_and_spring_constants() {
    use Dimension::{Mass as M, SpringConstant as K};
    assert_eq!(q("0.067 m_e", M), 0.067);
    assert_eq!(q("2", M), 2.0);
    assert_eq!(q("5e-3 Ha/bohr^2", K), 5e-3);
    assert_eq!(q("5e-3 Ha/bohr²", K), 5e-3);
    let nm = 18.897261246257702;
    assert_close(q("1 eV/nm^2", K), 1.0 / 27.211386245988 / (nm * nm));
    assert_close(q("1 eV/Å^2", K), 100.0 / 27.211386245988 / (nm * nm));
    assert_close(q("1000 meV/nm^2", K), 1.0 / 27.211386245988 / (nm * nm));
}

#[test]
fn unknown_unit_names_dimension_and_valid_units() {
    let e = parse_quantity("2.7 eV", Dimension::Length).unwrap_err();
    assert!(matches!(e, UnitError::UnknownUnit { .. }));
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "unknown length unit \"eV\" in \"2.7 eV\": valid length units are \
             bohr, a0, nm, Å, angstrom, pm (a plain number means bohr)"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("\"eV\" is a unit of energy, not of length"),
        "{msg}"
    );

    let msg = parse_quantity("2.7 eVx", Dimension::Energy)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("unknown energy unit \"eVx\""), "{msg}");
    assert!(msg.contains("Ha, hartree, eV, meV, Ry, K, mK"), "{msg}");

    // Case-sensitive unit names.
    assert!(parse_quantity("2.7 ev", Dimension::Energy).is_err());
    assert!(parse_quantity("1 NM", Dimension::Length).is_err());
    assert!(parse_quantity("1 m_e", Dimension::Energy).is_err());
    assert!(parse_quantity("1 eV/nm", Dimension::SpringConstant).is_err());
    assert!(parse_quantity("1 K", Dimension::Length).is_err());
}

#[test]
fn non_numbers_and_non_finite_values_are_rejected() {
    for text in ["abc", "", "eV", ".", "- 1 eV", "e5 eV"] {
        let e = parse_quantity(text, Dimension::Energy).unwrap_err();
        assert!(matches!(e, UnitError::NotANumber { .. }), "{text:?}: {e}");
        assert!(e.to_string().contains("valid energy units are"), "{e}");
    }
    for (text, dim) in [
        ("nan", Dimension::Energy),
        ("NaN eV", Dimension::Energy),
        ("inf", Dimension::Length),
        ("-inf Ha", Dimension::Temperature),
        ("1e999 eV", Dimension::Energy),
        ("1e308 Ha/pm^2", Dimension::SpringConstant),
    ] {
        let e = parse_quantity(text, dim).unwrap_err();
        assert!(matches!(e, UnitError::NotFinite { .. }), "{text:?}: {e}");
        assert!(e.to_string().contains("is not a finite"), "{e}");
    }
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Quantities {
    e: Energy,
    l: Length,
    t: Temperature,
    m: Mass,
    k: SpringConstant,
}

#[test]
fn newtypes_read_numbers_and_strings_and_write_numbers() {
    let v: Quantities =
        toml::from_str("e = \"2.7 eV\"\nl = 3\nt = \"300 K\"\nm = 0.067\nk = \"5e-3 Ha/bohr^2\"\n")
            .unwrap();
    assert_close(v.e.0, 0.0992231698742685);
    assert_eq!(v.l, Length(3.0));
    assert_close(v.t.0, 9.500434690366726e-4);
    assert_eq!(v.m.0, 0.067);
    assert_eq!(v.k.0, 5e-3);
    let back = toml::to_string(&v).unwrap();
    assert!(back.contains("l = 3.0"), "{back}");
    assert!(back.contains("m = 0.067"), "{back}");
}

#[test]
fn newtypes_reject_nan_inf_and_wrong_types_with_location() {
    let base = "e = 1\nl = 1\nt = 1\nm = 1\nk = 1\n";
    for (line, bad, needle) in [
        ("l", "l = nan", "a length must be a finite number, got NaN"),
        (
            "e",
            "e = -inf",
            "an energy must be a finite number, got -inf",
        ),
        (
            "t",
            "t = inf",
            "a temperature must be a finite number, got inf",
        ),
        ("m", "m = \"abc\"", "\"abc\" is not a valid mass"),
        (
            "k",
            "k = true",
            "invalid type: boolean `true`, expected a spring constant",
        ),
    ] {
        let text = base.replace(&format!("{line} = 1"), bad);
        let e = toml::from_str::<Quantities>(&text).unwrap_err().to_string();
        assert!(e.contains(needle), "{bad}: {e}");
        assert!(e.contains("line "), "{bad}: {e}");
        assert!(e.contains(bad), "snippet missing for {bad}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// shipped configs

#[test]
fn paper_config_is_exactly_the_reference_case() {
    // The paper's config holds Fig. 1's three cases, a spinless copy for Figs. 4-5 and the
    // GaAs Coulomb case; the first is the reference case itself.
    let study = load_study(&manifest("configs/paper.toml")).unwrap();
    assert_eq!(study.cases.len(), 5);
    let c = study.case(None).unwrap().config.clone();
    assert_eq!(c.system.box_half_width, 200.0);
    assert_eq!(c.system.mass, 1.0);
    assert_eq!(
        preset(&c.potential),
        ("square_well", vec![("depth", 0.1), ("half_width", 20.0)])
    );
    assert_eq!(c.grid.spacing, 0.25);
    assert_eq!(c.solve.levels, 200);
    assert_eq!(square_well_of(&c).unwrap(), (0.1, 20.0));
    assert_eq!(study.name, "paper");
    let p = c.problem().unwrap();
    assert_eq!((p.mass, p.spacing, p.levels), (1.0, 0.25, 200));
    assert_eq!(p.potential.box_half_width(), 200.0);
    assert_eq!(
        p.potential.pieces(),
        &[Piece {
            from: -20.0,
            to: 20.0,
            shape: Shape::Constant { value: -0.1 },
            mass: None,
        }]
    );
}

#[test]
fn every_shipped_config_loads_into_a_problem() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(manifest("configs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let study = load_study(&path).unwrap_or_else(|e| panic!("{e}"));
            for case in &study.cases {
                let problem = case.config.problem().unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(study.name, path.file_stem().unwrap().to_str().unwrap());
                assert!(problem.levels >= 1 && problem.spacing > 0.0 && problem.mass > 0.0);
            }
            names.push(study.name);
        }
    }
    for expected in ["paper", "square_well", "double_well", "triangular_well"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing");
    }
    // The sphere and cylinder configs load into radial problems (and `confine run` takes them).
    let mut radial = Vec::new();
    for entry in std::fs::read_dir(manifest("configs/geometry")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let study = load_study(&path).unwrap_or_else(|e| panic!("{e}"));
            for case in &study.cases {
                let problem = case
                    .config
                    .radial_problem()
                    .unwrap_or_else(|e| panic!("{e}"));
                assert!(problem.is_some(), "{}", path.display());
            }
            radial.push(study.name);
        }
    }
    radial.sort();
    assert_eq!(
        radial,
        ["cdse_zns_nanocrystal", "gaas_nanowire", "sphere_paper"]
    );
}

/// The example configs resolve their highest requested level with at least 10 grid spacings per
/// half wavelength (particle-in-a-box estimate of its energy).
#[test]
fn example_configs_resolve_their_highest_level() {
    for name in ["square_well", "double_well", "triangular_well"] {
        let p = load(&manifest(&format!("configs/{name}.toml")))
            .unwrap()
            .problem()
            .unwrap();
        let l = p.potential.box_half_width();
        let k_box = p.levels as f64 * std::f64::consts::PI / (2.0 * l);
        let e_top = k_box * k_box / (2.0 * p.mass);
        let half_wavelength =
            std::f64::consts::PI / (2.0 * p.mass * (e_top - p.potential.min_value())).sqrt();
        let points = half_wavelength / p.spacing;
        assert!(
            points >= 10.0,
            "{name}: {points:.1} spacings per half wavelength"
        );
    }
}

#[test]
fn square_well_config_converts_units() {
    let c = load(&manifest("configs/square_well.toml")).unwrap();
    let nm = 18.897261246257702;
    assert_close(c.system.box_half_width, 5.0 * nm);
    assert_eq!(c.system.mass, 1.0);
    let (depth, half_width) = square_well_of(&c).unwrap();
    assert_close(depth, 2.7 / 27.211386245988);
    assert_close(half_width, 0.5 * nm);
    assert_close(c.grid.spacing, 0.005 * nm);
    assert_eq!(c.solve.levels, 60);
}

#[test]
fn double_and_triangular_wells_have_the_right_pieces() {
    let c = load(&manifest("configs/double_well.toml")).unwrap();
    let p = c.problem().unwrap();
    let well = |from, to| Piece {
        from,
        to,
        shape: Shape::Constant { value: -0.1 },
        mass: None,
    };
    assert_eq!(p.potential.pieces(), &[well(-12.0, -2.0), well(2.0, 12.0)]);
    assert_eq!(p.potential.box_half_width(), 60.0);
    assert!(p.potential.is_parity_symmetric());
    assert!(matches!(
        square_well_of(&c),
        Err(ValidateError::NotASquareWell { pieces: 2, .. })
    ));

    let p = load(&manifest("configs/triangular_well.toml"))
        .unwrap()
        .problem()
        .unwrap();
    let ramp = |from, to, start, end| Piece {
        from,
        to,
        shape: Shape::Linear { start, end },
        mass: None,
    };
    assert_eq!(
        p.potential.pieces(),
        &[ramp(-20.0, 0.0, 0.0, -0.1), ramp(0.0, 20.0, -0.1, 0.0)]
    );
    assert_eq!(p.potential.box_half_width(), 100.0);
    assert_eq!(p.potential.value_at_node(-10.0), -0.05);
    assert!(p.potential.is_parity_symmetric());
}

const PIECEWISE: &str = r#"
[system]
box_half_width = "10 nm"
mass = "0.067 m_e"
[potential]
type = "piecewise"
[[potential.pieces]]
from = -20.0
to = "0 nm"
shape = "linear"
start = 0
end = "-2.7 eV"
[[potential.pieces]]
from = "0 nm"
to = "1 nm"
shape = "constant"
value = "-100 meV"
[[potential.pieces]]
from = "1 nm"
to = "3 nm"
shape = "harmonic"
spring = "0.05 eV/nm^2"
center = "2 nm"
offset = "-50 meV"
[[potential.pieces]]
from = "3 nm"
to = "40 Å"
shape = "harmonic"
spring = 1e-4
[grid]
spacing = "0.1 Å"
[solve]
levels = 5
"#;

#[test]
fn piecewise_pieces_round_trip_into_shapes() {
    let c = parse(PIECEWISE, Path::new("inline/dot.toml")).unwrap();
    let nm = 18.897261246257702;
    let ev = 1.0 / 27.211386245988;
    assert_eq!(
        parse_study(PIECEWISE, Path::new("inline/dot.toml"))
            .unwrap()
            .name,
        "dot"
    );
    let p = c.problem().unwrap();
    assert_eq!(p.mass, 0.067);
    assert_close(p.spacing, 0.01 * nm);
    let pieces = p.potential.pieces();
    assert_eq!(pieces.len(), 4);
    assert_eq!(pieces[0].from, -20.0);
    assert_eq!(pieces[0].to, 0.0);
    let Shape::Linear { start, end } = pieces[0].shape else {
        panic!("{:?}", pieces[0])
    };
    assert_eq!(start, 0.0);
    assert_close(end, -2.7 * ev);
    let Shape::Constant { value } = pieces[1].shape else {
        panic!("{:?}", pieces[1])
    };
    assert_close(value, -0.1 * ev);
    assert_close(pieces[1].to, nm);
    let Shape::Harmonic {
        spring,
        center,
        offset,
    } = pieces[2].shape
    else {
        panic!("{:?}", pieces[2])
    };
    assert_close(spring, 0.05 * ev / (nm * nm));
    assert_close(center, 2.0 * nm);
    assert_close(offset, -0.05 * ev);
    // Defaults of the harmonic shape.
    assert_eq!(
        pieces[3].shape,
        Shape::Harmonic {
            spring: 1e-4,
            center: 0.0,
            offset: 0.0
        }
    );
    assert_close(pieces[3].to, 4.0 * nm);
    // The resolved config serializes in atomic units.
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["potential"]["type"], "piecewise");
    assert_eq!(json["potential"]["pieces"][1]["shape"], "constant");
    assert_eq!(json["solve"]["levels"], 5);
    assert_eq!(json["system"]["mass"], 0.067);
}

#[test]
fn a_single_symmetric_constant_piece_is_a_square_well() {
    let text = PAPER.replace(
        "type = \"square_well\"          # V = -depth for |x| < half_width, 0 elsewhere inside the box\ndepth = 0.1\nhalf_width = 20.0",
        "type = \"piecewise\"\n[[potential.pieces]]\nfrom = -20\nto = 20\nshape = \"constant\"\nvalue = -0.1",
    );
    assert_ne!(text, PAPER);
    let c = parse(&text, Path::new("x.toml")).unwrap();
    assert_eq!(square_well_of(&c).unwrap(), (0.1, 20.0));
}

// ---------------------------------------------------------------------------------------------
// bad input

const ORIGIN: &str = "configs/x.toml";

/// The paper config with `from` replaced by `to` (which must occur in it).
fn paper_with(from: &str, to: &str) -> String {
    assert!(PAPER.contains(from), "{from:?} not in paper.toml");
    PAPER.replacen(from, to, 1)
}

/// Parses `text`, expecting an error whose message starts with the origin path and contains
/// every needle; returns the error.
#[track_caller]
fn rejects(text: &str, needles: &[&str]) -> ConfigError {
    let e = match parse(text, Path::new(ORIGIN)) {
        Ok(c) => panic!("accepted: {c:?}\n{text}"),
        Err(e) => e,
    };
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("{ORIGIN}: ")), "no path: {msg}");
    for needle in needles {
        assert!(msg.contains(needle), "{needle:?} not in:\n{msg}");
    }
    e
}

#[test]
fn invalid_messages_match_the_documented_form() {
    let e = rejects(&paper_with("half_width = 20.0", "half_width = 250"), &[]);
    assert_eq!(
        e.to_string(),
        "configs/x.toml: potential.half_width = 250 bohr must be smaller than \
         system.box_half_width = 200 bohr"
    );
    assert!(matches!(e, ConfigError::Invalid { ref key, .. } if key == "potential.half_width"));
    let e = rejects(&paper_with("spacing = 0.25", "spacing = -0.1"), &[]);
    assert_eq!(
        e.to_string(),
        "configs/x.toml: grid.spacing must be a positive length (bohr), got -0.1"
    );
    let e = rejects(&paper_with("levels = 200", "levels = 0"), &[]);
    assert_eq!(
        e.to_string(),
        "configs/x.toml: solve.levels must be at least 1, got 0"
    );
}

#[test]
fn out_of_range_values_are_rejected_with_their_key() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("box_half_width = 200.0", "box_half_width = 0", &["system.box_half_width must be a positive length", "got 0"]),
        ("box_half_width = 200.0", "box_half_width = \"-1 nm\"", &["system.box_half_width must be a positive length"]),
        ("mass = 1.0", "mass = 0", &["system.mass must be a positive mass (m_e), got 0"]),
        ("mass = 1.0", "mass = -0.067", &["system.mass"]),
        ("depth = 0.1", "depth = 0", &["potential.depth must be a positive energy", "got 0"]),
        ("depth = 0.1", "depth = \"-2 eV\"", &["potential.depth must be a positive energy"]),
        ("half_width = 20.0", "half_width = 0", &["potential.half_width must be a positive length (bohr), got 0"]),
        ("half_width = 20.0", "half_width = -5", &["potential.half_width must be a positive length"]),
        ("half_width = 20.0", "half_width = 200", &["potential.half_width = 200 bohr must be smaller than system.box_half_width = 200 bohr"]),
        ("spacing = 0.25", "spacing = 0", &["grid.spacing must be a positive length (bohr), got 0"]),
        ("spacing = 0.25", "spacing = 201", &["grid.spacing = 201 bohr must not exceed system.box_half_width = 200 bohr"]),
        ("levels = 200", "levels = 10000001", &["solve.levels must be at most 10000000"]),
        ("levels = 200", "levels = -3", &["solve.levels", "invalid value: integer `-3`"]),
    ];
    for (from, to, needles) in cases {
        rejects(&paper_with(from, to), needles);
    }
    // The largest spacing allowed still leaves one interior node.
    assert!(parse(
        &paper_with("spacing = 0.25", "spacing = 200"),
        Path::new(ORIGIN)
    )
    .is_ok());
}

#[test]
fn unknown_keys_are_rejected_everywhere() {
    rejects(
        &format!("title = \"x\"\n{PAPER}"),
        &["title", "unknown field `title`", "line 1"],
    );
    rejects(
        &paper_with("mass = 1.0", "mass = 1.0\ncharge = -1"),
        &["system.charge", "unknown field `charge`"],
    );
    rejects(
        &paper_with("spacing = 0.25", "spacing = 0.25\nrefine = true"),
        &["grid.refine", "unknown field `refine`"],
    );
    rejects(
        &paper_with("levels = 200", "levels = 200\n[output]\ndir = \"x\""),
        &["output", "unknown field `output`"],
    );
    let text = PIECEWISE.replace("spring = 1e-4", "spring = 1e-4\nwidth = 3");
    rejects(
        &text,
        &[
            "potential.pieces[3].width",
            "unknown field `width`",
            "expected one of",
        ],
    );
}

#[test]
fn missing_keys_are_named() {
    rejects(
        &paper_with("depth = 0.1\n", ""),
        &[
            "potential.depth is missing",
            "square_well potential takes depth",
        ],
    );
    rejects(
        &paper_with("half_width = 20.0\n", ""),
        &["potential.half_width is missing"],
    );
    rejects(
        &paper_with(
            "box_half_width = 200.0        # L: hard walls at x = ±L\n",
            "",
        ),
        &[
            "system.box_half_width is missing",
            "missing field `box_half_width`",
        ],
    );
    rejects(
        &paper_with("type = \"square_well\"", "# no type"),
        &["potential.type is missing"],
    );
    rejects(
        &paper_with("[solve]\nlevels = 200", ""),
        &[
            "[solve] is missing",
            "[system], [potential], [grid] and [solve]",
        ],
    );
    rejects(
        &PIECEWISE.replacen("to = \"1 nm\"\n", "", 1),
        &["potential.pieces[1].to is missing"],
    );
    rejects(
        &PIECEWISE.replacen("shape = \"linear\"\n", "", 1),
        &["potential.pieces[0].shape is missing"],
    );
    rejects(
        &PIECEWISE.replacen("value = \"-100 meV\"\n", "", 1),
        &[
            "potential.pieces[1].value is missing",
            "a constant piece takes value",
        ],
    );
    rejects(
        &PIECEWISE.replacen("start = 0\n", "", 1),
        &[
            "potential.pieces[0].start is missing",
            "a linear piece takes start and end",
        ],
    );
    rejects(
        &PIECEWISE.replacen("spring = 1e-4\n", "", 1),
        &["potential.pieces[3].spring is missing"],
    );
    rejects(
        &PIECEWISE.replace(
            &PIECEWISE[PIECEWISE.find("[[potential.pieces]]").unwrap()
                ..PIECEWISE.find("[grid]").unwrap()],
            "",
        ),
        &["potential.pieces must hold at least one piece"],
    );
}

#[test]
fn wrong_shape_parameters_and_potential_types_are_rejected() {
    rejects(
        &PIECEWISE.replacen("start = 0\n", "start = 0\nvalue = -1\n", 1),
        &[
            "potential.pieces[0].value is not a parameter of a linear piece",
            "takes start and end",
        ],
    );
    rejects(
        &PIECEWISE.replacen(
            "value = \"-100 meV\"",
            "value = \"-100 meV\"\nspring = 1",
            1,
        ),
        &["potential.pieces[1].spring is not a parameter of a constant piece"],
    );
    rejects(
        &PIECEWISE.replacen("center = \"2 nm\"", "center = \"2 nm\"\nend = 0", 1),
        &["potential.pieces[2].end is not a parameter of a harmonic piece"],
    );
    rejects(
        &PIECEWISE.replacen("shape = \"linear\"", "shape = \"cubic\"", 1),
        &[
            "potential.pieces[0].shape",
            "unknown variant `cubic`",
            "`constant`, `linear`",
        ],
    );
    rejects(
        &paper_with("type = \"square_well\"", "type = \"square\""),
        &[
            "potential.type",
            "unknown variant `square`",
            "`square_well`, `double_well`, `core_shell`, `harmonic`, `smooth_well`, `piecewise`, `tabulated`",
        ],
    );
    rejects(
        &paper_with("type = \"square_well\"", "type = \"piecewise\""),
        &["potential.depth is not used by type = \"piecewise\""],
    );
    rejects(
        &PIECEWISE.replacen("type = \"piecewise\"", "type = \"square_well\"", 1),
        &["potential.pieces is not used by type = \"square_well\""],
    );
}

#[test]
fn bad_pieces_are_rejected_with_their_index() {
    // Overlap: piece 2 starts before piece 1 ends.
    rejects(
        &PIECEWISE.replacen("from = \"1 nm\"", "from = \"0.5 nm\"", 1),
        &[
            "potential.pieces[2].from",
            "potential.pieces[1]",
            "left to right",
        ],
    );
    // Out of order.
    let swapped = r#"
[system]
box_half_width = 60
[potential]
type = "piecewise"
[[potential.pieces]]
from = 2
to = 12
shape = "constant"
value = -0.1
[[potential.pieces]]
from = -12
to = -2
shape = "constant"
value = -0.1
[grid]
spacing = 0.1
[solve]
levels = 4
"#;
    rejects(swapped, &["potential.pieces[1].from", "left to right"]);
    // Out of the box (L = 10 nm = 189 bohr).
    rejects(
        &PIECEWISE.replacen("to = \"40 Å\"", "to = \"11 nm\"", 1),
        &["potential.pieces[3]", "outside the box"],
    );
    rejects(
        &PIECEWISE.replacen("from = -20.0", "from = \"-10.5 nm\"", 1),
        &["potential.pieces[0]", "outside the box"],
    );
    // Empty or reversed interval.
    rejects(
        &PIECEWISE.replacen("to = \"40 Å\"", "to = \"3 nm\"", 1),
        &["potential.pieces[3]", "must be smaller than `to`"],
    );
    rejects(
        &PIECEWISE.replacen("to = \"40 Å\"", "to = \"2 nm\"", 1),
        &["potential.pieces[3]", "must be smaller than `to`"],
    );
}

#[test]
fn non_finite_numbers_are_rejected_with_their_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("depth = 0.1", "depth = nan", "potential.depth"),
        (
            "half_width = 20.0",
            "half_width = inf",
            "potential.half_width",
        ),
        (
            "box_half_width = 200.0",
            "box_half_width = +inf",
            "system.box_half_width",
        ),
        ("mass = 1.0", "mass = -nan", "system.mass"),
        ("spacing = 0.25", "spacing = nan", "grid.spacing"),
        ("depth = 0.1", "depth = \"inf eV\"", "potential.depth"),
        ("depth = 0.1", "depth = \"1e400 meV\"", "potential.depth"),
    ];
    for (from, to, key) in cases {
        let e = rejects(&paper_with(from, to), &[key, "finite"]);
        assert!(matches!(e, ConfigError::Parse { .. }), "{e}");
    }
    rejects(
        &PIECEWISE.replacen("offset = \"-50 meV\"", "offset = nan", 1),
        &[
            "potential.pieces[2].offset",
            "must be a finite number, got NaN",
        ],
    );
}

#[test]
fn bad_units_and_types_are_rejected_with_location() {
    rejects(
        &paper_with("depth = 0.1", "depth = \"2.7 eVx\""),
        &[
            "potential.depth",
            "unknown energy unit \"eVx\" in \"2.7 eVx\"",
            "valid energy units are",
            "depth = \"2.7 eVx\"",
            "line ",
        ],
    );
    rejects(
        &paper_with("depth = 0.1", "depth = \"1 nm\""),
        &[
            "potential.depth",
            "unknown energy unit \"nm\"",
            "\"nm\" is a unit of length",
        ],
    );
    rejects(
        &paper_with("half_width = 20.0", "half_width = \"0.1 eV\""),
        &["potential.half_width", "unknown length unit \"eV\""],
    );
    rejects(
        &paper_with("depth = 0.1", "depth = \"abc\""),
        &["potential.depth", "\"abc\" is not a valid energy"],
    );
    rejects(
        &paper_with("depth = 0.1", "depth = true"),
        &[
            "potential.depth",
            "invalid type: boolean `true`, expected an energy",
        ],
    );
    rejects(
        &paper_with("levels = 200", "levels = \"abc\""),
        &["solve.levels", "invalid type: string \"abc\""],
    );
    rejects(
        &paper_with("levels = 200", "levels = 200.0"),
        &["solve.levels", "invalid type: floating point"],
    );
    rejects(
        &PIECEWISE.replacen("spring = \"0.05 eV/nm^2\"", "spring = \"0.05 eV/nm\"", 1),
        &[
            "potential.pieces[2].spring",
            "unknown spring constant unit \"eV/nm\"",
        ],
    );
    rejects("[system\n", &["line 1"]);
    rejects("", &["[system] is missing"]);
    let bare = "[system]\nbox_half_width = 1\n[potential]\ntype = \"square_well\"\ndepth = 1\nhalf_width = 0.5\n[grid]\nspacing = 0.1\n";
    let e = rejects(bare, &["[solve] is missing"]);
    assert!(!e.to_string().contains("system.solve"), "{e}");
}

#[test]
fn fixture_files_fail_with_the_expected_messages() {
    let dir = manifest("tests/fixtures/bad");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expected.is_empty(),
            "{}: no `# expect:` line",
            path.display()
        );
        let msg = match load(&path) {
            Ok(_) => panic!("{} was accepted", path.display()),
            Err(e) => e.to_string(),
        };
        assert!(
            msg.starts_with(&format!("{}: ", path.display())),
            "no path: {msg}"
        );
        for needle in expected {
            assert!(
                msg.contains(needle),
                "{}: {needle:?} not in:\n{msg}",
                path.display()
            );
        }
        count += 1;
    }
    assert!(count >= 10, "only {count} fixtures");
}

#[test]
fn unreadable_file_is_an_io_error_naming_the_path() {
    let path = manifest("configs/does_not_exist.toml");
    let e = load(&path).unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }));
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}: cannot read", path.display())),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// [[cases]] and [analysis]

const BASE: &str = r#"
[system]
box_half_width = 200.0
[potential]
type = "square_well"
depth = 0.1
half_width = 20.0
[grid]
spacing = 0.25
[solve]
levels = 20
"#;

#[test]
fn cases_override_any_key_of_the_base() {
    let text = format!(
        "{BASE}\n[analysis]\nepsilon = \"10 meV\"\n\n[[cases]]\nname = \"ref\"\n\n[[cases]]\nname = \"deep\"\npotential.depth = \"5.4 eV\"\nanalysis.temperatures = {{ from = \"300 K\", to = 0.05, points = 10 }}\n"
    );
    let study = parse_study(&text, Path::new("s.toml")).unwrap();
    let names: Vec<&str> = study.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["ref", "deep"]);
    let (r, d) = (&study.cases[0].config, &study.cases[1].config);
    assert_eq!(
        preset(&r.potential),
        ("square_well", vec![("depth", 0.1), ("half_width", 20.0)])
    );
    assert_eq!(
        preset(&d.potential),
        (
            "square_well",
            vec![("depth", 5.4 / HARTREE_IN_EV), ("half_width", 20.0)]
        )
    );
    assert!((r.analysis.epsilon - 0.010 / HARTREE_IN_EV).abs() < 1e-18);
    assert_eq!(d.analysis.epsilon, r.analysis.epsilon);
    let t = d.analysis.temperatures.unwrap();
    assert!((t.from - 300.0 / HARTREE_IN_KELVIN).abs() < 1e-15);
    assert_eq!(t.points().len(), 10);
    assert_eq!(t.points()[9], 0.05);
    assert!(r.analysis.temperatures.is_none());
    // A file with several cases is not one problem.
    assert!(study.case(Some("deep")).is_ok());
    let e = study.case(Some("nope")).unwrap_err().to_string();
    assert!(e.contains("ref, deep"), "{e}");
}

#[test]
fn bad_cases_and_analysis_are_rejected_with_their_key() {
    let cases = [
        ("[[cases]]\npotential.depth = 0.2\n", "cases[0].name"),
        (
            "[[cases]]\nname = \"a\"\n[[cases]]\nname = \"a\"\n",
            "unique",
        ),
        ("[[cases]]\nname = \"a/b\"\n", "cases[0].name"),
        (
            "[[cases]]\nname = \"x\"\npotential.depht = 0.2\n",
            "cases[0] (x)",
        ),
        (
            "[[cases]]\nname = \"x\"\npotential.depth = -0.2\n",
            "cases[0] (x): potential.depth",
        ),
        ("cases = 3\n", "cases"),
        ("[analysis]\nepsilon = 0.0\n", "analysis.epsilon"),
        ("[analysis]\nepsilon = -1e-4\n", "analysis.epsilon"),
        (
            "[analysis]\nenergy_grid = { from = 0.1, to = -0.1, step = 0.001 }\n",
            "analysis.energy_grid",
        ),
        (
            "[analysis]\nenergy_grid = { from = -0.1, to = -0.1, step = 0.001 }\n",
            "analysis.energy_grid",
        ),
        (
            "[analysis]\nenergy_grid = { from = -0.1, to = 0.1, step = 0.0 }\n",
            "analysis.energy_grid.step",
        ),
        (
            "[analysis]\ntemperatures = { from = 0.1, to = 0.01, points = 10 }\n",
            "analysis.temperatures",
        ),
        (
            "[analysis]\ntemperatures = { from = 0.0, to = 0.01, points = 10 }\n",
            "analysis.temperatures.from",
        ),
        (
            "[analysis]\ntemperatures = { from = 0.001, to = 0.01, points = 1 }\n",
            "analysis.temperatures.points",
        ),
        (
            "[analysis]\ndifference = \"sideways\"\n",
            "analysis.difference",
        ),
        (
            "[analysis]\ntruncation_tolerance = 2.0\n",
            "analysis.truncation_tolerance",
        ),
        (
            "[analysis]\nnhc_min_relative_drop = 1.5\n",
            "analysis.nhc_min_relative_drop",
        ),
        (
            "[analysis]\nnhc_min_relative_drop = -0.1\n",
            "analysis.nhc_min_relative_drop",
        ),
        ("[analysis]\nepsilonn = 1e-4\n", "analysis.epsilonn"),
    ];
    for (extra, key) in cases {
        let text = format!("{BASE}\n{extra}");
        let e = parse_study(&text, Path::new("bad.toml"))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("bad.toml: "), "{extra}: {e}");
        assert!(e.contains(key), "`{key}` missing for {extra:?}: {e}");
    }
}
