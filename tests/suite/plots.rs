//! Figures: files written atomically, labelled, deterministic, robust to bad data.
//!
//! `CONFINE_PLOT_DEMO_DIR=/tmp/figs cargo test --test plots -- --ignored demo` writes the
//! demo figures (paper-like synthetic data) there for looking at them.

use crate::common::scratch;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use confine::pipeline::output::figures::{
    write_figure, BranchesFigure, BranchesPanel, DensityFigure, EntropyFigure, FigureOutput,
    KineticFigure, LimitFigure, PlotError, Series, TemperatureFigure,
};

const BOTH: FigureOutput = FigureOutput {
    png: true,
    svg: true,
};
const EV_PER_HARTREE: f64 = 27.211386245988;
const KELVIN_PER_HARTREE: f64 = 315_775.02480407;

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
    check_png_size(path, (1600, 1000));
}

fn check_png_size(path: &Path, size: (u32, u32)) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 1000, "{} is too small", path.display());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), size, "{}", path.display());
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
    let written = write_figure(&stem, &fig, &BOTH).unwrap();
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
    write_figure(&again, &fig, &BOTH).unwrap();
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
    kinetic_or_density_roundtrip(&dir, &stem, |s, o| write_figure(s, &fig, o));
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
    kinetic_or_density_roundtrip(&dir, &stem, |s, o| write_figure(s, &fig, o));
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
    let written = write_figure(&stem, &fig, &svg_only).unwrap();
    assert_eq!(written, vec![dir.join("only.svg.v2.svg")]);
    assert!(!dir.join("only.svg.v2.png").exists());
    let none = FigureOutput {
        png: false,
        svg: false,
    };
    assert!(write_figure(&dir.join("none"), &fig, &none)
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
    write_figure(&dir.join("k"), &kinetic, &BOTH).unwrap();
    check_svg(
        &dir.join("k.svg"),
        &["with gaps", "all NaN", "empty", "single"],
    );

    let density = DensityFigure {
        x: vec![-1.0, 0.0, nan, 1.0],
        potential: vec![0.0, -1.0, -1.0, inf],
        states: vec![Series::new("s", vec![-1.0, 0.0, 1.0], vec![0.0, nan, 0.5])],
    };
    write_figure(&dir.join("d"), &density, &BOTH).unwrap();

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
    write_figure(&dir.join("t"), &temperature, &BOTH).unwrap();

    // Nothing finite at all: an empty, labelled frame.
    write_figure(&dir.join("empty_k"), &KineticFigure::default(), &BOTH).unwrap();
    check_svg(&dir.join("empty_k.svg"), &["E_n (Ha)", "⟨K⟩_n (Ha)"]);
    write_figure(&dir.join("empty_d"), &DensityFigure::default(), &BOTH).unwrap();
    check_svg(&dir.join("empty_d.svg"), &["x (bohr)", "V (Ha)"]);
    let empty_t = TemperatureFigure {
        ev_per_hartree: EV_PER_HARTREE,
        kelvin_per_hartree: KELVIN_PER_HARTREE,
        ..Default::default()
    };
    write_figure(&dir.join("empty_t"), &empty_t, &BOTH).unwrap();
    check_svg(&dir.join("empty_t.svg"), &["T (K)", "E (eV)"]);
    // A single point and a constant series have degenerate ranges.
    let flat = KineticFigure {
        series: vec![Series::new(
            "flat",
            vec![1.0, 1.0, 1.0],
            vec![0.0, 0.0, 0.0],
        )],
    };
    write_figure(&dir.join("flat"), &flat, &BOTH).unwrap();
    no_temporaries(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let dir = scratch("bad");
    let mismatched = KineticFigure {
        series: vec![Series::new("bad", vec![1.0, 2.0], vec![1.0])],
    };
    let err = write_figure(&dir.join("m"), &mismatched, &BOTH).unwrap_err();
    assert!(matches!(err, PlotError::InvalidInput(_)), "{err}");
    assert!(err.to_string().contains("bad"), "{err}");

    let density = DensityFigure {
        x: vec![0.0, 1.0],
        potential: vec![0.0],
        states: vec![],
    };
    assert!(matches!(
        write_figure(&dir.join("d"), &density, &BOTH),
        Err(PlotError::InvalidInput(_))
    ));

    let mut temperature = temperature_demo();
    temperature.kelvin_per_hartree = f64::NAN;
    assert!(matches!(
        write_figure(&dir.join("t"), &temperature, &BOTH),
        Err(PlotError::InvalidInput(_))
    ));
    temperature.kelvin_per_hartree = KELVIN_PER_HARTREE;
    temperature.ev_per_hartree = 0.0;
    assert!(write_figure(&dir.join("t"), &temperature, &BOTH).is_err());

    let huge = KineticFigure {
        series: vec![Series::new("huge", vec![-1e308, 1e308], vec![0.0, 1.0])],
    };
    assert!(matches!(
        write_figure(&dir.join("h"), &huge, &BOTH),
        Err(PlotError::InvalidInput(_))
    ));
    assert!(write_figure(Path::new("/"), &kinetic_demo(), &BOTH).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unwritable_output_directory_is_an_error_not_a_panic() {
    let dir = scratch("unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a_regular_file");
    std::fs::write(&file, b"not a directory").unwrap();
    let stem = file.join("figures/fig1");
    let err = write_figure(&stem, &kinetic_demo(), &BOTH).unwrap_err();
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
        assert!(write_figure(&file.join("x"), &density_demo(), &out).is_err());
        assert!(write_figure(&file.join("x"), &temperature_demo(), &out).is_err());
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
    write_figure(&dir.join("fig1_kinetic"), &kinetic_demo(), &BOTH).unwrap();
    write_figure(&dir.join("fig2_density"), &density_demo(), &BOTH).unwrap();
    write_figure(&dir.join("fig3_temperatures"), &temperature_demo(), &BOTH).unwrap();
    write_figure(&dir.join("fig4_branches"), &branches_demo(), &BOTH).unwrap();
    write_figure(&dir.join("fig5_entropy"), &entropy_demo(), &BOTH).unwrap();
    write_figure(&dir.join("limit"), &limit_demo(), &BOTH).unwrap();
    eprintln!("figures in {}", dir.display());
}

// ---------------------------------------------------------------------------------------------
// Figs. 4, 5 and the thermodynamic limit: synthetic many-particle data.

/// N-particle states of the synthetic well (levels of [`levels`], at most one particle per
/// level) with E/N ≤ `cap`: (E/N, T^(K) = 2K/N) of each, in enumeration order.
fn many_body_states(n: usize, m_levels: usize, cap: f64) -> (Vec<f64>, Vec<f64>) {
    /// Recursive enumeration of increasing level tuples, pruned by the energy cap (levels
    /// are sorted by energy, so once level i is too high, so are all later ones).
    struct Walk {
        e: Vec<f64>,
        k: Vec<f64>,
        n: usize,
        cap: f64,
        out_e: Vec<f64>,
        out_t: Vec<f64>,
    }
    impl Walk {
        fn go(&mut self, first: usize, left: usize, sum_e: f64, sum_k: f64) {
            if left == 0 {
                self.out_e.push(sum_e / self.n as f64);
                self.out_t.push(2.0 * sum_k / self.n as f64);
                return;
            }
            if first + left > self.e.len() {
                return;
            }
            for i in first..=self.e.len() - left {
                // Lowest possible total with level i and the next left - 1 levels.
                let lowest: f64 = sum_e + self.e[i..i + left].iter().sum::<f64>();
                if lowest > self.cap * self.n as f64 {
                    break;
                }
                let (ei, ki) = (self.e[i], self.k[i]);
                self.go(i + 1, left - 1, sum_e + ei, sum_k + ki);
            }
        }
    }
    let (e, k) = levels(0.1, 20.0, 200.0, m_levels);
    let mut walk = Walk {
        e,
        k,
        n,
        cap,
        out_e: Vec::new(),
        out_t: Vec::new(),
    };
    walk.go(0, n, 0.0, 0.0);
    (walk.out_e, walk.out_t)
}

/// T_E^(K): the mean T^(K) of the states within ±eps of each energy (per particle), sorted
/// by energy.
fn window_average(e: &[f64], t: &[f64], eps: f64) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..e.len()).collect();
    order.sort_by(|&a, &b| e[a].total_cmp(&e[b]));
    let es: Vec<f64> = order.iter().map(|&i| e[i]).collect();
    let mut prefix = vec![0.0; es.len() + 1];
    for (j, &i) in order.iter().enumerate() {
        prefix[j + 1] = prefix[j] + t[i];
    }
    let (mut lo, mut hi) = (0, 0);
    let mut avg = Vec::with_capacity(es.len());
    for &x in &es {
        while es[lo] < x - eps {
            lo += 1;
        }
        while hi < es.len() && es[hi] <= x + eps {
            hi += 1;
        }
        avg.push((prefix[hi] - prefix[lo]) / (hi - lo) as f64);
    }
    (es, avg)
}

fn branches_panel(n: usize, m_levels: usize, cap: f64) -> BranchesPanel {
    let (e, t) = many_body_states(n, m_levels, cap);
    let (we, wt) = window_average(&e, &t, 0.0004);
    BranchesPanel {
        particles: n,
        states: Series::new("T^(K) of each state", e, t),
        window: Series::new("T_E^(K), ε = 0.0004 Ha", we, wt),
    }
}

fn branches_demo() -> BranchesFigure {
    BranchesFigure {
        title: "U0 = 0.1, a = 20, L = 200".to_string(),
        panels: (1..=4).map(|n| branches_panel(n, 140, 0.02)).collect(),
    }
}

/// Hertz entropy per particle S/N = ln(#states with energy ≤ E)/N at each distinct E/N, and the
/// canonical S_C/N versus U/N of the same spectrum.
fn entropies(n: usize, cap: f64) -> (Series, Series) {
    let (mut e, _) = many_body_states(n, 140, cap);
    e.sort_by(f64::total_cmp);
    let mut x = Vec::new();
    let mut s = Vec::new();
    for (i, &en) in e.iter().enumerate() {
        if i + 1 < e.len() && e[i + 1] == en {
            continue;
        }
        x.push(en);
        s.push(((i + 1) as f64).ln() / n as f64);
    }
    let nf = n as f64;
    let e0 = e[0] * nf;
    let mut u_c = Vec::new();
    let mut s_c = Vec::new();
    for i in 1..400 {
        let temp = 0.0002 * i as f64;
        let w: Vec<f64> = e.iter().map(|&en| (-(en * nf - e0) / temp).exp()).collect();
        let z: f64 = w.iter().sum();
        let u = e.iter().zip(&w).map(|(en, wi)| en * nf * wi).sum::<f64>() / z;
        if u / nf > 0.9 * cap {
            break;
        }
        u_c.push(u / nf);
        s_c.push(((u - e0) / temp + z.ln()) / nf);
    }
    (
        Series::new(format!("N = {n}"), x, s),
        Series::new(format!("N = {n} canonical"), u_c, s_c),
    )
}

fn entropy_demo() -> EntropyFigure {
    let (micro, canon) = (1..=4).map(|n| entropies(n, 0.02)).unzip();
    EntropyFigure {
        title: "Entropy per particle".to_string(),
        microcanonical: micro,
        canonical: canon,
    }
}

/// A smooth "canonical" entropy per particle and finite-N versions with N kinks that weaken
/// and wash out as N grows.
fn limit_demo() -> LimitFigure {
    let canonical = |e: f64| 0.9 * ((e + 0.1) / 0.004).ln_1p();
    let grid: Vec<f64> = (0..=600)
        .map(|i| -0.095 + 0.125 * i as f64 / 600.0)
        .collect();
    let ns = [1usize, 2, 4, 8, 16, 32, 64];
    let entropies = ns
        .iter()
        .map(|&n| {
            let nf = n as f64;
            let s: Vec<f64> = grid
                .iter()
                .map(|&e| {
                    let kinks: f64 = (0..n)
                        .map(|j| {
                            let centre = -0.02 + 0.03 * j as f64 / nf;
                            0.5 / nf * (1.0 + ((e - centre) / 0.002).tanh())
                        })
                        .sum();
                    canonical(e) - 0.5 / nf.sqrt() + 0.35 * kinks / (1.0 + 0.3 * nf)
                })
                .collect();
            Series::new(format!("N = {n}"), grid.clone(), s)
        })
        .collect();
    let nx: Vec<f64> = ns.iter().map(|&n| n as f64).collect();
    LimitFigure {
        title: "Approach to the thermodynamic limit".to_string(),
        drops: vec![
            Series::new(
                "relative drop of T_E^(K)",
                nx.clone(),
                nx.iter().map(|n| 0.45 * n.powf(-0.9)).collect(),
            ),
            Series::new(
                "width of the concave region of S/N",
                nx.clone(),
                nx.iter().map(|n| 0.12 * n.powf(-0.5)).collect(),
            ),
        ],
        entropies,
        canonical: Some(Series::new(
            "canonical",
            grid.clone(),
            grid.iter().map(|&e| canonical(e)).collect(),
        )),
    }
}

/// Writes both formats twice (the second time to another stem), checks the PNG size, that no
/// temporary file is left, and that both renders are byte-identical.
fn sized_roundtrip(
    dir: &Path,
    stem: &Path,
    size: (u32, u32),
    render: impl Fn(&Path, &FigureOutput) -> Result<Vec<PathBuf>, PlotError>,
) {
    let written = render(stem, &BOTH).unwrap();
    let (png, svg) = paths(stem);
    assert_eq!(written, vec![png.clone(), svg.clone()]);
    check_png_size(&png, size);
    no_temporaries(dir);
    let other = dir.join("again");
    render(&other, &BOTH).unwrap();
    let (png2, svg2) = paths(&other);
    assert_eq!(std::fs::read(&png).unwrap(), std::fs::read(&png2).unwrap());
    assert_eq!(std::fs::read(&svg).unwrap(), std::fs::read(&svg2).unwrap());
}

#[test]
fn branches_figure_is_written_labelled_and_deterministic() {
    let dir = scratch("branches");
    let fig = BranchesFigure {
        title: "U0 = 0.1, a = 20, L = 200".to_string(),
        panels: (1..=4).map(|n| branches_panel(n, 60, 0.02)).collect(),
    };
    let stem = dir.join("fig4_branches");
    // 2 × 2 panels of 1100 × 760 under a 70 px title strip.
    sized_roundtrip(&dir, &stem, (2200, 1590), |s, o| write_figure(s, &fig, o));
    let svg_path = paths(&stem).1;
    check_svg(
        &svg_path,
        &[
            "U0 = 0.1, a = 20, L = 200",
            "N = 1",
            "N = 2",
            "N = 3",
            "N = 4",
            "E/N (Ha)",
            "T (Ha)",
            "T^(K) of each state",
            "T_E^(K), ε = 0.0004 Ha",
        ],
    );
    // The legend is drawn once, not in every panel.
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert_eq!(svg.matches("T^(K) of each state").count(), 1);
    assert_eq!(svg.matches("\nE/N (Ha)\n</text>").count(), 4);

    // One and two panels: the standard canvas, then two panels side by side.
    let one = BranchesFigure {
        title: String::new(),
        panels: vec![branches_panel(1, 40, 0.02)],
    };
    write_figure(&dir.join("one"), &one, &BOTH).unwrap();
    check_png_size(&dir.join("one.png"), (1600, 1000));
    let two = BranchesFigure {
        title: "two".to_string(),
        panels: (1..=2).map(|n| branches_panel(n, 40, 0.02)).collect(),
    };
    write_figure(&dir.join("two"), &two, &BOTH).unwrap();
    check_png_size(&dir.join("two.png"), (2200, 1000));
    let three = BranchesFigure {
        title: String::new(),
        panels: (1..=3).map(|n| branches_panel(n, 30, 0.02)).collect(),
    };
    write_figure(&dir.join("three"), &three, &BOTH).unwrap();
    check_png_size(&dir.join("three.png"), (2200, 1520));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn branches_figure_with_millions_of_points_is_fast_and_small() {
    let dir = scratch("branches-big");
    // C(96, 4) = 3 321 960 four-particle states, and as many window points.
    let panel = branches_panel(4, 96, f64::INFINITY);
    assert!(
        panel.states.x.len() >= 3_000_000,
        "{}",
        panel.states.x.len()
    );
    let fig = BranchesFigure {
        title: String::new(),
        panels: vec![panel],
    };
    let stem = dir.join("big");
    let start = Instant::now();
    write_figure(&stem, &fig, &BOTH).unwrap();
    let elapsed = start.elapsed();
    assert!(
        elapsed < Duration::from_secs(5),
        "3.3 million points took {elapsed:?}"
    );
    let (png, svg) = paths(&stem);
    check_png(&png);
    let svg_len = std::fs::metadata(&svg).unwrap().len();
    assert!(svg_len < 5_000_000, "SVG of {svg_len} bytes");
    let png_len = std::fs::metadata(&png).unwrap().len();
    assert!(png_len < 2_000_000, "PNG of {png_len} bytes");
    check_svg(&svg, &["N = 4", "T^(K) of each state", "T_E^(K)"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn entropy_figure_is_written_labelled_and_deterministic() {
    let dir = scratch("entropy");
    let (micro, canon): (Vec<Series>, Vec<Series>) = (1..=3).map(|n| entropies(n, 0.02)).unzip();
    let fig = EntropyFigure {
        title: "Entropy per particle".to_string(),
        microcanonical: micro,
        canonical: canon,
    };
    let stem = dir.join("fig5_entropy");
    sized_roundtrip(&dir, &stem, (1600, 1000), |s, o| write_figure(s, &fig, o));
    let svg_path = paths(&stem).1;
    check_svg(
        &svg_path,
        &[
            "Entropy per particle",
            "E/N (Ha)",
            "S/N (k_B)",
            "N = 1",
            "N = 1 canonical",
            "N = 3 canonical",
        ],
    );
    // Legend order: each N, then its canonical curve.
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let at = |t: &str| svg.find(&format!("\n{t}\n</text>")).unwrap();
    assert!(at("N = 1") < at("N = 1 canonical"));
    assert!(at("N = 1 canonical") < at("N = 2"));
    assert!(at("N = 2") < at("N = 2 canonical"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn limit_figure_is_written_labelled_and_deterministic() {
    let dir = scratch("limit");
    let fig = limit_demo();
    let stem = dir.join("limit");
    sized_roundtrip(&dir, &stem, (2200, 1000), |s, o| write_figure(s, &fig, o));
    check_svg(
        &paths(&stem).1,
        &[
            "Approach to the thermodynamic limit",
            "\nN\n</text>",
            "relative drop",
            "E/N (Ha)",
            "S/N (k_B)",
            "relative drop of T_E^(K)",
            "width of the concave region of S/N",
            "N = 1",
            "N = 64",
            "canonical",
            // Log-axis ticks at 1-2-5 values: N from 1 to 64, drops from ~0.01 to 0.45.
            "\n1\n</text>",
            "\n10\n</text>",
            "\n50\n</text>",
            "\n0.01\n</text>",
            "\n0.1\n</text>",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_positive_values_on_log_axes_are_skipped() {
    let dir = scratch("log");
    let n = vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
    let with_bad = LimitFigure {
        drops: vec![
            Series::new("drop", n.clone(), vec![0.5, 0.0, 0.2, -0.1, 0.05, 0.03]),
            Series::new(
                "width",
                vec![1.0, 0.0, -4.0, 8.0, 16.0, 32.0],
                vec![0.2, 0.1, 0.1, 0.05, 0.04, 0.02],
            ),
            Series::new("nothing positive", vec![-1.0, 0.0], vec![1.0, 1.0]),
        ],
        ..Default::default()
    };
    write_figure(&dir.join("bad"), &with_bad, &BOTH).unwrap();
    // Exactly as if the non-positive values were missing (NaN).
    let nan = f64::NAN;
    let with_nan = LimitFigure {
        drops: vec![
            Series::new("drop", n.clone(), vec![0.5, nan, 0.2, nan, 0.05, 0.03]),
            Series::new(
                "width",
                vec![1.0, nan, nan, 8.0, 16.0, 32.0],
                vec![0.2, 0.1, 0.1, 0.05, 0.04, 0.02],
            ),
            Series::new("nothing positive", vec![nan, nan], vec![1.0, 1.0]),
        ],
        ..Default::default()
    };
    write_figure(&dir.join("nan"), &with_nan, &BOTH).unwrap();
    for ext in ["png", "svg"] {
        assert_eq!(
            std::fs::read(dir.join(format!("bad.{ext}"))).unwrap(),
            std::fs::read(dir.join(format!("nan.{ext}"))).unwrap(),
            "{ext}"
        );
    }
    check_svg(
        &dir.join("bad.svg"),
        &["drop", "width", "nothing positive", "relative drop"],
    );
    // Only non-positive values: an empty, labelled log–log frame.
    let all_bad = LimitFigure {
        drops: vec![Series::new("zeros", vec![0.0, -1.0], vec![0.0, 0.0])],
        ..Default::default()
    };
    write_figure(&dir.join("all_bad"), &all_bad, &BOTH).unwrap();
    check_svg(
        &dir.join("all_bad.svg"),
        &["zeros", "\nN\n</text>", "relative drop"],
    );
    // A narrow log range (less than a factor of two) still gets labelled ticks.
    let narrow = LimitFigure {
        drops: vec![Series::new("narrow", vec![10.0, 12.0], vec![0.30, 0.31])],
        ..Default::default()
    };
    write_figure(&dir.join("narrow"), &narrow, &BOTH).unwrap();
    check_svg(
        &dir.join("narrow.svg"),
        &["\n11.0\n</text>", "\n12.0\n</text>", "\n0.300\n</text>"],
    );
    // Many decades: one style on the whole axis, powers of ten once some tick needs them.
    let wide = LimitFigure {
        drops: vec![Series::new("wide", vec![1.0, 1e9], vec![1e-12, 1.0])],
        ..Default::default()
    };
    write_figure(&dir.join("wide"), &wide, &BOTH).unwrap();
    check_svg(
        &dir.join("wide.svg"),
        &[
            "\n10⁸\n</text>",
            "\n10⁰\n</text>",
            "\n10⁻⁴\n</text>",
            "\n10⁻¹²\n</text>",
        ],
    );
    no_temporaries(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn new_figures_survive_empty_and_non_finite_data() {
    let dir = scratch("new-empty");
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    // Nothing at all: labelled frames.
    write_figure(&dir.join("b0"), &BranchesFigure::default(), &BOTH).unwrap();
    check_png(&dir.join("b0.png"));
    check_svg(&dir.join("b0.svg"), &["E/N (Ha)", "T (Ha)"]);
    write_figure(&dir.join("e0"), &EntropyFigure::default(), &BOTH).unwrap();
    check_svg(&dir.join("e0.svg"), &["E/N (Ha)", "S/N (k_B)"]);
    write_figure(&dir.join("l0"), &LimitFigure::default(), &BOTH).unwrap();
    check_svg(
        &dir.join("l0.svg"),
        &["\nN\n</text>", "relative drop", "E/N (Ha)", "S/N (k_B)"],
    );

    // Empty, all-NaN and partly NaN series.
    let branches = BranchesFigure {
        title: "gaps".to_string(),
        panels: vec![
            BranchesPanel {
                particles: 1,
                states: Series::new("T^(K)", vec![], vec![]),
                window: Series::new("T_E^(K)", vec![nan, nan], vec![nan, 1.0]),
            },
            BranchesPanel {
                particles: 2,
                states: Series::new(
                    "T^(K)",
                    vec![0.1, nan, 0.2, inf, 0.3],
                    vec![0.01, 0.02, nan, 0.03, 0.04],
                ),
                window: Series::new(
                    "T_E^(K)",
                    vec![0.1, 0.2, nan, 0.3],
                    vec![0.01, 0.02, 0.5, 0.03],
                ),
            },
            BranchesPanel {
                particles: 3,
                states: Series::new("T^(K)", vec![0.15], vec![0.02]),
                window: Series::default(),
            },
        ],
    };
    write_figure(&dir.join("b1"), &branches, &BOTH).unwrap();
    check_svg(&dir.join("b1.svg"), &["N = 1", "N = 2", "N = 3", "T_E^(K)"]);
    let entropy = EntropyFigure {
        title: String::new(),
        microcanonical: vec![
            Series::new("N = 1", vec![nan, 0.0, 1.0], vec![0.0, inf, 1.0]),
            Series::new("N = 2", vec![], vec![]),
        ],
        canonical: vec![Series::new("N = 1 canonical", vec![nan], vec![nan])],
    };
    write_figure(&dir.join("e1"), &entropy, &BOTH).unwrap();
    check_svg(&dir.join("e1.svg"), &["N = 1", "N = 2", "N = 1 canonical"]);
    let limit = LimitFigure {
        title: String::new(),
        drops: vec![Series::new("drop", vec![nan, 2.0], vec![0.1, inf])],
        entropies: vec![Series::new("N = 1", vec![0.0, nan], vec![nan, 1.0])],
        canonical: Some(Series::new("canonical", vec![], vec![])),
    };
    write_figure(&dir.join("l1"), &limit, &BOTH).unwrap();
    check_svg(&dir.join("l1.svg"), &["drop", "N = 1", "canonical"]);
    // Degenerate (single-valued) ranges.
    let flat = LimitFigure {
        drops: vec![Series::new("one", vec![4.0, 4.0], vec![0.2, 0.2])],
        entropies: vec![Series::new("flat", vec![0.0, 0.0], vec![1.0, 1.0])],
        ..Default::default()
    };
    write_figure(&dir.join("flat"), &flat, &BOTH).unwrap();
    no_temporaries(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn new_figures_report_bad_input_as_errors() {
    let dir = scratch("new-bad");
    let bad = Series::new("lopsided", vec![1.0, 2.0], vec![1.0]);
    let branches = BranchesFigure {
        title: String::new(),
        panels: vec![BranchesPanel {
            particles: 1,
            states: bad.clone(),
            window: Series::default(),
        }],
    };
    let err = write_figure(&dir.join("b"), &branches, &BOTH).unwrap_err();
    assert!(matches!(err, PlotError::InvalidInput(_)), "{err}");
    assert!(err.to_string().contains("lopsided"), "{err}");
    let window = BranchesFigure {
        title: String::new(),
        panels: vec![BranchesPanel {
            particles: 1,
            states: Series::default(),
            window: bad.clone(),
        }],
    };
    assert!(matches!(
        write_figure(&dir.join("w"), &window, &BOTH),
        Err(PlotError::InvalidInput(_))
    ));
    let too_many = BranchesFigure {
        title: String::new(),
        panels: vec![BranchesPanel::default(); 40],
    };
    assert!(matches!(
        write_figure(&dir.join("many"), &too_many, &BOTH),
        Err(PlotError::InvalidInput(_))
    ));
    let entropy = EntropyFigure {
        canonical: vec![bad.clone()],
        ..Default::default()
    };
    assert!(matches!(
        write_figure(&dir.join("e"), &entropy, &BOTH),
        Err(PlotError::InvalidInput(_))
    ));
    for limit in [
        LimitFigure {
            drops: vec![bad.clone()],
            ..Default::default()
        },
        LimitFigure {
            entropies: vec![bad.clone()],
            ..Default::default()
        },
        LimitFigure {
            canonical: Some(bad.clone()),
            ..Default::default()
        },
    ] {
        assert!(matches!(
            write_figure(&dir.join("l"), &limit, &BOTH),
            Err(PlotError::InvalidInput(_))
        ));
    }
    assert!(!dir.exists() || std::fs::read_dir(&dir).unwrap().next().is_none());
    // An unwritable place is an I/O error.
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a_regular_file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        write_figure(&file.join("l"), &limit_demo(), &BOTH),
        Err(PlotError::Io { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
