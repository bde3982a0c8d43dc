//! Figures: files written atomically, labelled, deterministic, robust to bad data.
//!
//! `CONFINE_PLOT_DEMO_DIR=/tmp/figs cargo test --test plots -- --ignored demo` writes the three
//! demo figures (paper-like synthetic data) there for looking at them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use confine::output::plots::{
    density_figure, kinetic_figure, temperature_figure, DensityFigure, FigureOutput, KineticFigure,
    PlotError, Series, TemperatureFigure,
};

const BOTH: FigureOutput = FigureOutput {
    png: true,
    svg: true,
};
const EV_PER_HARTREE: f64 = 27.211386245988;
const KELVIN_PER_HARTREE: f64 = 315_775.02480407;

/// A fresh, empty directory under the system temp dir, unique per test and process.
fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "confine-plots-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

// ---------------------------------------------------------------------------------------------
// Synthetic, paper-like data (a square well of depth u0 and half-width a in a box [-l, l]).

/// Levels and kinetic energies: bound levels of the well, then box levels, with ⟨K⟩ dropping
/// as the states leave the well.
fn levels(u0: f64, a: f64, l: f64, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut e = Vec::new();
    let mut k = Vec::new();
    let pi2 = std::f64::consts::PI.powi(2);
    let mut bound = 0;
    while bound < n {
        let en = -u0 + (bound as f64 + 1.0).powi(2) * pi2 / (8.0 * (a * 1.15).powi(2));
        if en >= -0.003 * u0 {
            break;
        }
        e.push(en);
        // Bend below the threshold: part of the state leaks out of the well.
        let leak = (-(en.abs()) / (0.08 * u0)).exp();
        k.push((en + u0) * (1.0 - 0.6 * leak));
        bound += 1;
    }
    let mut m = 1.0;
    while e.len() < n {
        let en = m * m * pi2 / (8.0 * l * l) + 0.3 * m * pi2 / (8.0 * l * l);
        e.push(en);
        let inside = a / l;
        let odd_even = if (m as i64) % 2 == 0 { 1.0 } else { 0.85 };
        k.push(en + u0 * inside * odd_even);
        m += 1.0;
    }
    (e, k)
}

fn kinetic_demo() -> KineticFigure {
    let sets = [(0.1, 20.0, 200.0), (0.2, 20.0, 200.0), (0.1, 4.0, 40.0)];
    KineticFigure {
        series: sets
            .iter()
            .map(|&(u0, a, l)| {
                let (e, k) = levels(u0, a, l, 24);
                Series::new(format!("U0 = {u0}, a = {a}, L = {l}"), e, k)
            })
            .collect(),
    }
}

fn density_demo() -> DensityFigure {
    let (a, l, u0) = (20.0, 200.0, 0.1);
    let n = 2001;
    let x: Vec<f64> = (0..n)
        .map(|i| -l + 2.0 * l * i as f64 / (n - 1) as f64)
        .collect();
    let potential: Vec<f64> = x
        .iter()
        .map(|&x| {
            if x.abs() < a {
                -u0
            } else if x.abs() == a {
                -u0 / 2.0
            } else {
                0.0
            }
        })
        .collect();
    let normalise = |psi: Vec<f64>| {
        let h = x[1] - x[0];
        let norm: f64 = psi.iter().map(|p| p * p).sum::<f64>() * h;
        psi.iter().map(|p| p * p / norm).collect::<Vec<f64>>()
    };
    let ground = normalise(
        x.iter()
            .map(|&x| {
                if x.abs() < a {
                    (std::f64::consts::PI * x / (2.2 * a)).cos()
                } else {
                    (std::f64::consts::PI / 2.2).cos() * (-(x.abs() - a) / 2.3).exp()
                }
            })
            .collect(),
    );
    let top = normalise(
        x.iter()
            .map(|&x| {
                if x.abs() < a {
                    (5.6 * std::f64::consts::PI * x / (2.0 * a)).sin()
                } else {
                    x.signum() * 0.45 * (-(x.abs() - a) / 15.0).exp()
                }
            })
            .collect(),
    );
    let free = normalise(
        x.iter()
            .map(|&x| {
                let outside = (std::f64::consts::PI * (x + l) / (2.0 * l) * 1.0).sin();
                if x.abs() < a {
                    outside * 0.5 * (1.0 + (6.5 * std::f64::consts::PI * x / (2.0 * a)).cos())
                } else {
                    outside
                }
            })
            .collect(),
    );
    DensityFigure {
        states: vec![
            Series::new("n = 0, E = −0.0975 Ha", x.clone(), ground),
            Series::new("n = 5, E = −0.0149 Ha", x.clone(), top),
            Series::new("n = 6, E = 0.000145 Ha", x.clone(), free),
        ],
        x,
        potential,
    }
}

fn temperature_demo() -> TemperatureFigure {
    let (e, k) = levels(0.1, 20.0, 200.0, 40);
    let t_k: Vec<f64> = k.iter().map(|k| 2.0 * k).collect();
    // T^(mu) = dE/dS with S = ln(n + 1), centred differences.
    let s: Vec<f64> = (0..e.len()).map(|i| ((i + 1) as f64).ln()).collect();
    let mut t_mu = vec![f64::NAN; e.len()];
    for i in 1..e.len() - 1 {
        t_mu[i] = (e[i + 1] - e[i - 1]) / (s[i + 1] - s[i - 1]);
    }
    // T^(C)(E): invert U(T) = E on a temperature grid.
    let u = |t: f64| {
        let e0 = e[0];
        let w: Vec<f64> = e.iter().map(|ei| (-(ei - e0) / t).exp()).collect();
        let z: f64 = w.iter().sum();
        e.iter().zip(&w).map(|(ei, wi)| ei * wi).sum::<f64>() / z
    };
    let mut e_c = Vec::new();
    let mut t_c = Vec::new();
    for i in 1..300 {
        let t = 0.0005 * i as f64;
        e_c.push(u(t));
        t_c.push(t);
    }
    let e_max = *e.last().unwrap();
    let keep: Vec<usize> = (0..e_c.len()).filter(|&i| e_c[i] <= e_max).collect();
    TemperatureFigure {
        curves: vec![
            Series::new("T^(K)", e.clone(), t_k),
            Series::new("T^(μ)", e.clone(), t_mu),
            Series::new(
                "T^(C)",
                keep.iter().map(|&i| e_c[i]).collect(),
                keep.iter().map(|&i| t_c[i]).collect(),
            ),
        ],
        ev_per_hartree: EV_PER_HARTREE,
        kelvin_per_hartree: KELVIN_PER_HARTREE,
        title: "U0 = 0.1, a = 20, L = 200 (spin 1/2)".to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

fn check_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 1000, "{} is too small", path.display());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (1600, 1000));
}

fn check_svg(path: &Path, texts: &[&str]) {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", path.display());
    assert!(svg.trim_end().ends_with("</svg>"));
    for t in texts {
        assert!(svg.contains(t), "{} lacks {t:?}", path.display());
    }
}

fn no_temporaries(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp"), "temporary file left: {name}");
    }
}

fn paths(stem: &Path) -> (PathBuf, PathBuf) {
    let s = stem.to_string_lossy();
    (
        PathBuf::from(format!("{s}.png")),
        PathBuf::from(format!("{s}.svg")),
    )
}

#[test]
fn kinetic_figure_is_written_labelled_and_deterministic() {
    let dir = scratch("kinetic");
    let fig = kinetic_demo();
    let stem = dir.join("nested/fig1_kinetic");
    let written = kinetic_figure(&stem, &fig, &BOTH).unwrap();
    let (png, svg) = paths(&stem);
    assert_eq!(written, vec![png.clone(), svg.clone()]);
    check_png(&png);
    check_svg(
        &svg,
        &[
            "E_n (Ha)",
            "⟨K⟩_n (Ha)",
            "U0 = 0.1, a = 20, L = 200",
            "U0 = 0.2, a = 20, L = 200",
            "U0 = 0.1, a = 4, L = 40",
        ],
    );
    no_temporaries(&dir.join("nested"));

    let again = dir.join("nested/fig1_again");
    kinetic_figure(&again, &fig, &BOTH).unwrap();
    let (png2, svg2) = paths(&again);
    assert_eq!(std::fs::read(&png).unwrap(), std::fs::read(&png2).unwrap());
    assert_eq!(std::fs::read(&svg).unwrap(), std::fs::read(&svg2).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn density_figure_is_written_labelled_and_deterministic() {
    let dir = scratch("density");
    let fig = density_demo();
    let stem = dir.join("fig2_density");
    kinetic_or_density_roundtrip(&dir, &stem, |s, o| density_figure(s, &fig, o));
    check_svg(
        &paths(&stem).1,
        &[
            "x (bohr)",
            "|ψ|² (1/bohr)",
            "V (Ha)",
            "n = 0, E = −0.0975 Ha",
            "n = 6, E = 0.000145 Ha",
            "V(x)",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn temperature_figure_is_written_labelled_and_deterministic() {
    let dir = scratch("temperature");
    let fig = temperature_demo();
    let stem = dir.join("fig3_temperatures");
    kinetic_or_density_roundtrip(&dir, &stem, |s, o| temperature_figure(s, &fig, o));
    check_svg(
        &paths(&stem).1,
        &[
            "E (Ha)",
            "T (Ha)",
            "E (eV)",
            "T (K)",
            "T^(K)",
            "T^(μ)",
            "T^(C)",
            "U0 = 0.1, a = 20, L = 200 (spin 1/2)",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes both formats twice (second time to another stem) and checks files and determinism.
fn kinetic_or_density_roundtrip(
    dir: &Path,
    stem: &Path,
    render: impl Fn(&Path, &FigureOutput) -> Result<Vec<PathBuf>, PlotError>,
) {
    let written = render(stem, &BOTH).unwrap();
    let (png, svg) = paths(stem);
    assert_eq!(written, vec![png.clone(), svg.clone()]);
    check_png(&png);
    no_temporaries(dir);
    let other = dir.join("again");
    render(&other, &BOTH).unwrap();
    let (png2, svg2) = paths(&other);
    assert_eq!(std::fs::read(&png).unwrap(), std::fs::read(&png2).unwrap());
    assert_eq!(std::fs::read(&svg).unwrap(), std::fs::read(&svg2).unwrap());
}

#[test]
fn only_the_requested_formats_are_written() {
    let dir = scratch("formats");
    let fig = kinetic_demo();
    let svg_only = FigureOutput {
        png: false,
        svg: true,
    };
    let stem = dir.join("only.svg.v2");
    let written = kinetic_figure(&stem, &fig, &svg_only).unwrap();
    assert_eq!(written, vec![dir.join("only.svg.v2.svg")]);
    assert!(!dir.join("only.svg.v2.png").exists());
    let none = FigureOutput {
        png: false,
        svg: false,
    };
    assert!(kinetic_figure(&dir.join("none"), &fig, &none)
        .unwrap()
        .is_empty());
    assert!(!dir.join("none.svg").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_finite_points_are_skipped_and_empty_figures_draw_a_frame() {
    let dir = scratch("nonfinite");
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let kinetic = KineticFigure {
        series: vec![
            Series::new(
                "with gaps",
                vec![0.0, 1.0, nan, 3.0, 4.0],
                vec![1.0, inf, 2.0, 3.0, 4.0],
            ),
            Series::new("all NaN", vec![nan, nan], vec![nan, nan]),
            Series::new("empty", vec![], vec![]),
            Series::new("single", vec![2.0], vec![2.0]),
        ],
    };
    kinetic_figure(&dir.join("k"), &kinetic, &BOTH).unwrap();
    check_svg(
        &dir.join("k.svg"),
        &["with gaps", "all NaN", "empty", "single"],
    );

    let density = DensityFigure {
        x: vec![-1.0, 0.0, nan, 1.0],
        potential: vec![0.0, -1.0, -1.0, inf],
        states: vec![Series::new("s", vec![-1.0, 0.0, 1.0], vec![0.0, nan, 0.5])],
    };
    density_figure(&dir.join("d"), &density, &BOTH).unwrap();

    let temperature = TemperatureFigure {
        curves: vec![
            Series::new("T^(K)", vec![nan, -inf], vec![1.0, 2.0]),
            Series::new("", vec![], vec![]),
            Series::new("T^(C)", vec![0.1, 0.2, 0.3], vec![0.01, nan, 0.03]),
        ],
        ev_per_hartree: EV_PER_HARTREE,
        kelvin_per_hartree: KELVIN_PER_HARTREE,
        title: String::new(),
    };
    temperature_figure(&dir.join("t"), &temperature, &BOTH).unwrap();

    // Nothing finite at all: an empty, labelled frame.
    kinetic_figure(&dir.join("empty_k"), &KineticFigure::default(), &BOTH).unwrap();
    check_svg(&dir.join("empty_k.svg"), &["E_n (Ha)", "⟨K⟩_n (Ha)"]);
    density_figure(&dir.join("empty_d"), &DensityFigure::default(), &BOTH).unwrap();
    check_svg(&dir.join("empty_d.svg"), &["x (bohr)", "V (Ha)"]);
    let empty_t = TemperatureFigure {
        ev_per_hartree: EV_PER_HARTREE,
        kelvin_per_hartree: KELVIN_PER_HARTREE,
        ..Default::default()
    };
    temperature_figure(&dir.join("empty_t"), &empty_t, &BOTH).unwrap();
    check_svg(&dir.join("empty_t.svg"), &["T (K)", "E (eV)"]);
    // A single point and a constant series have degenerate ranges.
    let flat = KineticFigure {
        series: vec![Series::new(
            "flat",
            vec![1.0, 1.0, 1.0],
            vec![0.0, 0.0, 0.0],
        )],
    };
    kinetic_figure(&dir.join("flat"), &flat, &BOTH).unwrap();
    no_temporaries(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let dir = scratch("bad");
    let mismatched = KineticFigure {
        series: vec![Series::new("bad", vec![1.0, 2.0], vec![1.0])],
    };
    let err = kinetic_figure(&dir.join("m"), &mismatched, &BOTH).unwrap_err();
    assert!(matches!(err, PlotError::InvalidInput(_)), "{err}");
    assert!(err.to_string().contains("bad"), "{err}");

    let density = DensityFigure {
        x: vec![0.0, 1.0],
        potential: vec![0.0],
        states: vec![],
    };
    assert!(matches!(
        density_figure(&dir.join("d"), &density, &BOTH),
        Err(PlotError::InvalidInput(_))
    ));

    let mut temperature = temperature_demo();
    temperature.kelvin_per_hartree = f64::NAN;
    assert!(matches!(
        temperature_figure(&dir.join("t"), &temperature, &BOTH),
        Err(PlotError::InvalidInput(_))
    ));
    temperature.kelvin_per_hartree = KELVIN_PER_HARTREE;
    temperature.ev_per_hartree = 0.0;
    assert!(temperature_figure(&dir.join("t"), &temperature, &BOTH).is_err());

    let huge = KineticFigure {
        series: vec![Series::new("huge", vec![-1e308, 1e308], vec![0.0, 1.0])],
    };
    assert!(matches!(
        kinetic_figure(&dir.join("h"), &huge, &BOTH),
        Err(PlotError::InvalidInput(_))
    ));
    assert!(kinetic_figure(Path::new("/"), &kinetic_demo(), &BOTH).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unwritable_output_directory_is_an_error_not_a_panic() {
    let dir = scratch("unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a_regular_file");
    std::fs::write(&file, b"not a directory").unwrap();
    let stem = file.join("figures/fig1");
    let err = kinetic_figure(&stem, &kinetic_demo(), &BOTH).unwrap_err();
    assert!(matches!(err, PlotError::Io { .. }), "{err}");
    assert!(err.to_string().contains("a_regular_file"), "{err}");
    for out in [
        FigureOutput {
            png: true,
            svg: false,
        },
        FigureOutput {
            png: false,
            svg: true,
        },
    ] {
        assert!(density_figure(&file.join("x"), &density_demo(), &out).is_err());
        assert!(temperature_figure(&file.join("x"), &temperature_demo(), &out).is_err());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes the demo figures to $CONFINE_PLOT_DEMO_DIR for looking at them.
#[test]
#[ignore]
fn demo() {
    let dir = PathBuf::from(
        std::env::var("CONFINE_PLOT_DEMO_DIR").unwrap_or_else(|_| "/tmp/confine-plot-demo".into()),
    );
    kinetic_figure(&dir.join("fig1_kinetic"), &kinetic_demo(), &BOTH).unwrap();
    density_figure(&dir.join("fig2_density"), &density_demo(), &BOTH).unwrap();
    temperature_figure(&dir.join("fig3_temperatures"), &temperature_demo(), &BOTH).unwrap();
    eprintln!("figures in {}", dir.display());
}
