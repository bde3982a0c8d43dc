//! Figures of the paper (figs. 1–5, plus the thermodynamic limit) as PNG and/or SVG files,
//! drawn with `plotters`.
//!
//! This module takes plain data (no dependency on the physics modules) and writes files:
//!
//! * [`kinetic_figure`] — fig. 1, ⟨K⟩_n versus E_n for several parameter sets;
//! * [`density_figure`] — fig. 2, |ψ_n(x)|² of a few states with V(x) on a right-hand axis;
//! * [`temperature_figure`] — fig. 3, T^(K), T^(μ), T^(C) (and optionally T_E^(K)) versus E,
//!   with secondary axes in eV (top) and K (right);
//! * [`branches_figure`] — fig. 4, T^(K) of every state (black dots, millions allowed) and
//!   T_E^(K) (red line) versus E/N, one panel per particle number;
//! * [`entropy_figure`] — fig. 5, S/N versus E/N for several N with the canonical S_C/N dashed;
//! * [`limit_figure`] — the finite-size drops versus N on log–log axes, next to S/N versus E/N
//!   for growing N converging to the canonical curve.
//!
//! Conventions and guarantees:
//!
//! * Units are those named on the axes (atomic units: Hartree, bohr; k_B = 1).
//! * PNG files are 1600×1000 px (multi-panel figures: 2200 px wide, see each figure); SVG
//!   files have the same logical size. Text uses DejaVu Sans, embedded through the `dejavu`
//!   crate and registered once with plotters' `ab_glyph` font table, so no system font library
//!   is needed. SVG text names the generic `sans-serif` family.
//! * Non-finite points (NaN, ±∞ in x or y) are skipped; a line series is broken at them rather
//!   than joined across the gap.
//! * Empty input is not an error: a series without finite points still gets its legend entry,
//!   and a figure without any finite point is drawn as an empty, fully labelled frame on the
//!   range [0, 1] × [0, 1]. Mismatched `x`/`y` lengths, a stem without a file name, and
//!   non-finite or non-positive conversion factors are errors ([`PlotError::InvalidInput`]).
//! * Each file is first written to a hidden temporary name in the target directory
//!   (`.STEM.PID-N.tmp.EXT`) and renamed into place when complete, so an interrupted run never
//!   leaves a half-written figure under the final name. Missing parent directories are created.
//! * Output is deterministic: the same input gives byte-identical SVG and PNG files.
//! * The legend is placed automatically in the corner (or edge middle) of the plotting area
//!   that covers the fewest drawn points and line segments.
//! * Tick labels carry just the decimals their step needs (0.05, not 5e-2) and use the
//!   typographic minus sign U+2212 ("−0.10"); scientific notation only for steps below 1e-5 or
//!   values of 1e7 and more.
//! * Log axes (the left panel of [`limit_figure`]) tick at 1-2-5 or decade values; values
//!   that are not positive cannot be placed there and are skipped like non-finite ones.
//! * Dense data is decimated in pixel space before drawing: point clouds ink each covered
//!   pixel once, lines keep per-pixel-column extremes (when longer than a few points per
//!   column) and are then simplified to within a quarter pixel.
//! * Axis ranges follow the data (with a small pad); a single wild outlier therefore
//!   compresses the rest of a curve: filter such points before plotting if that matters.
//! * With both formats requested, the PNG is written first; if the SVG then fails, the PNG
//!   stays and the error is returned.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use plotters::chart::DualCoordChartContext;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A labelled curve or point set (x and y in the units named by the figure).
///
/// `x` and `y` must have the same length; non-finite points are skipped when drawing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

impl Series {
    /// Convenience constructor.
    pub fn new(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series {
            label: label.into(),
            x,
            y,
        }
    }
}

/// Fig. 1 of the paper: ⟨K⟩_n versus E_n (both Hartree) for several parameter sets, drawn as
/// points joined by thin lines; one colour and marker shape per series, legend with the label.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KineticFigure {
    pub series: Vec<Series>,
}

/// Fig. 2: probability densities |ψ_n(x)|² (1/bohr) of a few states versus x (bohr), with the
/// potential V(x) (Hartree) drawn as a grey dashed line against a right-hand axis.
///
/// `potential` is sampled on `x` (same length). Each state's legend label is used as given:
/// the caller puts the energy in it (e.g. `"n = 0, E = -0.0975 Ha"`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DensityFigure {
    pub x: Vec<f64>,
    pub potential: Vec<f64>,
    pub states: Vec<Series>,
}

/// Fig. 3: temperatures (Hartree) versus energy (Hartree), with secondary axes on top (energy
/// in eV, `E · ev_per_hartree`) and right (temperature in K, `T · kelvin_per_hartree`).
///
/// The drawing style of a curve follows its position in `curves`:
///
/// | index | meant for | drawn as |
/// |---|---|---|
/// | 0 | T^(K) | black filled circles |
/// | 1 | T^(μ) | vermillion open triangles joined by a thin line |
/// | 2 | T^(C) | thick solid blue line |
/// | 3 | T_E^(K) | bluish-green dashed line |
/// | 4.. | anything else | solid lines in further palette colours |
///
/// The constants [`TemperatureFigure::KINETIC`], [`TemperatureFigure::MICROCANONICAL`],
/// [`TemperatureFigure::CANONICAL`] and [`TemperatureFigure::KINETIC_WINDOW`] name these slots.
/// An unused slot can be filled with an empty series with an empty label (it is then not drawn
/// and has no legend entry). An empty `title` draws no title.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemperatureFigure {
    pub curves: Vec<Series>,
    pub ev_per_hartree: f64,
    pub kelvin_per_hartree: f64,
    pub title: String,
}

impl TemperatureFigure {
    /// Slot of T^(K) (points).
    pub const KINETIC: usize = 0;
    /// Slot of T^(μ) (points joined by a thin line).
    pub const MICROCANONICAL: usize = 1;
    /// Slot of T^(C) (smooth line).
    pub const CANONICAL: usize = 2;
    /// Slot of T_E^(K) (dashed line).
    pub const KINETIC_WINDOW: usize = 3;
}

/// One panel of fig. 4: the kinetic temperature of every state of an `particles`-particle
/// system and its energy-window average, both versus the energy per particle.
///
/// `states` (x = E/N in Hartree, y = T^(K) in Hartree) is drawn as small black dots and may
/// hold millions of points: they are decimated in pixel space (each covered pixel is inked
/// once), so drawing time and file size depend on the covered area, not on the point count.
/// `window` (x = E/N, y = T_E^(K)) is drawn as a red (vermillion) line; very long windows are
/// decimated per pixel column. The panel title is "N = `particles`".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BranchesPanel {
    pub particles: usize,
    pub states: Series,
    pub window: Series,
}

/// Fig. 4: T^(K) branches and T_E^(K) versus E/N, one panel per particle number, on common
/// axes ("E/N (Ha)", "T (Ha)"; the temperature axis starts at zero).
///
/// Layout: one panel fills a 1600×1000 canvas; two panels sit side by side (2200×1000);
/// more fill ⌈n/2⌉ rows of two (2200 wide, 760 px per row plus the title strip). The legend
/// (the series labels) is drawn in the first panel that shows a given label, not repeated in
/// the following ones; an empty label gets no legend entry. An empty `title` draws no title;
/// no panels draws one empty, labelled frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BranchesFigure {
    pub title: String,
    pub panels: Vec<BranchesPanel>,
}

/// Fig. 5: entropy per particle versus energy per particle ("E/N (Ha)", "S/N (k_B)").
///
/// `microcanonical[i]` (the quantized Hertz entropy per particle, joined by straight lines) is
/// drawn solid and `canonical[i]` (S_C/N versus U/N) dashed, both in palette colour `i`, so
/// pair the same N at the same index. The legend lists them interleaved: microcanonical 0,
/// canonical 0, microcanonical 1, … (labels as given, e.g. "N = 1", "N = 1 canonical"). The
/// two lists may differ in length; a series with an empty label and no data is left out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntropyFigure {
    pub title: String,
    pub microcanonical: Vec<Series>,
    pub canonical: Vec<Series>,
}

/// The approach to the thermodynamic limit, two panels side by side (2200×1000):
///
/// * left, log–log: `drops` (x = N, y = size of the largest T_E^(K) drop or another positive
///   measure of the finite-size effect), points joined by lines, one colour and marker per
///   series; axes "N" and "relative drop". Points with a non-positive (or non-finite) x or y
///   cannot be placed on log axes and are skipped; a line is broken at them.
/// * right: `entropies` (S/N versus E/N for several N) in colours going from orange (first
///   series, small N) to blue (last series, large N), and `canonical` as a thick black dashed
///   line; axes "E/N (Ha)" and "S/N (k_B)".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LimitFigure {
    pub title: String,
    pub drops: Vec<Series>,
    pub entropies: Vec<Series>,
    pub canonical: Option<Series>,
}

/// A general x–y figure (e.g. sweep summaries): one colour and marker per series, points joined
/// by lines, axis labels as given (they should name the unit), optionally logarithmic axes
/// (non-positive values are then skipped).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct XyFigure {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub log_x: bool,
    pub log_y: bool,
}

/// Which files to write. With both false nothing is written and an empty list is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureOutput {
    pub png: bool,
    pub svg: bool,
}

impl Default for FigureOutput {
    fn default() -> Self {
        FigureOutput {
            png: true,
            svg: true,
        }
    }
}

/// Everything that can go wrong while writing a figure. Plotting never panics on bad data.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The figure data or the file stem cannot be drawn (e.g. x and y of different lengths).
    #[error("invalid figure input: {0}")]
    InvalidInput(String),
    /// A directory or file could not be created, written or renamed.
    #[error("cannot write {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// The embedded font could not be registered.
    #[error("font setup failed: {0}")]
    Font(String),
    /// plotters reported an error while drawing or encoding.
    #[error("drawing {} failed: {message}", path.display())]
    Draw { path: PathBuf, message: String },
}

/// Fig. 1: ⟨K⟩_n versus E_n. Writes `stem.png` and/or `stem.svg`; returns the paths written.
pub fn kinetic_figure(
    stem: &Path,
    fig: &KineticFigure,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, PlotError> {
    let prepared = KineticPrepared::new(fig)?;
    write_figure(stem, out, &prepared)
}

/// Fig. 2: |ψ_n(x)|² and V(x). Writes `stem.png` and/or `stem.svg`; returns the paths written.
pub fn density_figure(
    stem: &Path,
    fig: &DensityFigure,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, PlotError> {
    let prepared = DensityPrepared::new(fig)?;
    write_figure(stem, out, &prepared)
}

/// Fig. 3: temperatures versus energy with eV / K secondary axes. Writes `stem.png` and/or
/// `stem.svg`; returns the paths written.
pub fn temperature_figure(
    stem: &Path,
    fig: &TemperatureFigure,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, PlotError> {
    let prepared = TemperaturePrepared::new(fig)?;
    write_figure(stem, out, &prepared)
}

/// Fig. 4: T^(K) branches and T_E^(K) versus E/N, one panel per N. Writes `stem.png` and/or
/// `stem.svg`; returns the paths written.
pub fn branches_figure(
    stem: &Path,
    fig: &BranchesFigure,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, PlotError> {
    let prepared = BranchesPrepared::new(fig)?;
    write_figure(stem, out, &prepared)
}

/// Fig. 5: S/N versus E/N (microcanonical, solid) and S_C/N versus U/N (canonical, dashed).
/// Writes `stem.png` and/or `stem.svg`; returns the paths written.
pub fn entropy_figure(
    stem: &Path,
    fig: &EntropyFigure,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, PlotError> {
    let prepared = EntropyPrepared::new(fig)?;
    write_figure(stem, out, &prepared)
}

/// Thermodynamic limit: finite-size drops versus N (log–log) and S/N versus E/N for growing N
/// with the canonical curve. Writes `stem.png` and/or `stem.svg`; returns the paths written.
pub fn limit_figure(
    stem: &Path,
    fig: &LimitFigure,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, PlotError> {
    let prepared = LimitPrepared::new(fig)?;
    write_figure(stem, out, &prepared)
}

/// A general x–y figure. Writes `stem.png` and/or `stem.svg`; returns the paths written.
pub fn xy_figure(
    stem: &Path,
    fig: &XyFigure,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, PlotError> {
    let prepared = XyPrepared::new(fig)?;
    write_figure(stem, out, &prepared)
}

// ---------------------------------------------------------------------------------------------
// Look and feel

const WIDTH: u32 = 1600;
const HEIGHT: u32 = 1000;
const FONT: &str = "sans-serif";
const AXIS_DESC_SIZE: i32 = 36;
const TICK_LABEL_SIZE: i32 = 28;
const LEGEND_SIZE: i32 = 28;
const TITLE_SIZE: i32 = 40;
const MARGIN: u32 = 30;
const TICK_SIZE: i32 = 10;
const LABEL_DESC_GAP: u32 = 18;
const TITLE_STRIP: u32 = 70;
const LEGEND_GLYPH: u32 = 64;
const LEGEND_MARGIN: u32 = 14;
const LEGEND_INSET: i32 = 22;
const N_X_LABELS: usize = 8;
const N_Y_LABELS: usize = 7;
const MARKER_RADIUS: f64 = 7.0;
/// Radius (px) of the dots of a dense point cloud (fig. 4).
const DOT_RADIUS: f64 = 2.5;
/// Size of one panel of a multi-panel figure.
const PANEL_WIDTH: u32 = 1100;
const PANEL_HEIGHT: u32 = 760;
const PANEL_TITLE_SIZE: i32 = 36;
const PANEL_TITLE_STRIP: u32 = 56;
const SIMPLIFY_TOLERANCE_PX: f64 = 0.25;

// Okabe–Ito colour-blind-safe palette.
const OI_BLACK: RGBColor = RGBColor(0, 0, 0);
const OI_ORANGE: RGBColor = RGBColor(230, 159, 0);
const OI_SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
const OI_GREEN: RGBColor = RGBColor(0, 158, 115);
const OI_BLUE: RGBColor = RGBColor(0, 114, 178);
const OI_VERMILLION: RGBColor = RGBColor(213, 94, 0);
const OI_PURPLE: RGBColor = RGBColor(204, 121, 167);
const GRID_GREY: RGBColor = RGBColor(225, 225, 225);
const POTENTIAL_GREY: RGBColor = RGBColor(110, 110, 110);

/// Series colours in order of use (yellow left out: too pale on white).
const PALETTE: [RGBColor; 7] = [
    OI_BLUE,
    OI_VERMILLION,
    OI_GREEN,
    OI_PURPLE,
    OI_ORANGE,
    OI_SKY_BLUE,
    OI_BLACK,
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
}

const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Square,
    Marker::Diamond,
];

#[derive(Debug, Clone, Copy)]
struct LineLook {
    width: u32,
    dashed: bool,
}

#[derive(Debug, Clone, Copy)]
struct MarkerLook {
    shape: Marker,
    filled: bool,
}

#[derive(Debug, Clone, Copy)]
struct Look {
    color: RGBColor,
    line: Option<LineLook>,
    marker: Option<MarkerLook>,
}

// ---------------------------------------------------------------------------------------------
// Data preparation

/// A series cut into runs of consecutive finite points.
#[derive(Debug, Clone)]
struct Prepared {
    label: String,
    runs: Vec<Vec<(f64, f64)>>,
}

impl Prepared {
    fn new(what: &str, s: &Series) -> Result<Self, PlotError> {
        Ok(Prepared {
            label: s.label.clone(),
            runs: finite_runs(what, &s.label, &s.x, &s.y)?,
        })
    }

    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.runs.iter().flatten().copied()
    }

    fn is_blank(&self) -> bool {
        self.label.is_empty() && self.runs.is_empty()
    }
}

fn finite_runs(
    what: &str,
    label: &str,
    x: &[f64],
    y: &[f64],
) -> Result<Vec<Vec<(f64, f64)>>, PlotError> {
    if x.len() != y.len() {
        return Err(PlotError::InvalidInput(format!(
            "{what} '{label}': x has {} values but y has {}",
            x.len(),
            y.len()
        )));
    }
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (&a, &b) in x.iter().zip(y) {
        if a.is_finite() && b.is_finite() {
            current.push((a, b));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    Ok(runs)
}

/// Running minimum and maximum of finite values.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    lo: f64,
    hi: f64,
}

impl Bounds {
    fn empty() -> Self {
        Bounds {
            lo: f64::INFINITY,
            hi: f64::NEG_INFINITY,
        }
    }

    fn include(&mut self, v: f64) {
        if v.is_finite() {
            self.lo = self.lo.min(v);
            self.hi = self.hi.max(v);
        }
    }

    fn is_empty(&self) -> bool {
        self.lo > self.hi
    }

    /// Axis range: the data range padded by `pad_lo`/`pad_hi` (fractions of the span); [0, 1]
    /// without data; a degenerate span is widened around its value.
    fn axis(&self, pad_lo: f64, pad_hi: f64, what: &str) -> Result<(f64, f64), PlotError> {
        if self.is_empty() {
            return Ok((0.0, 1.0));
        }
        let (mut lo, mut hi) = (self.lo, self.hi);
        let scale = lo.abs().max(hi.abs());
        if hi - lo <= 1e-9 * scale || hi - lo < 1e-300 {
            let half = if scale > 0.0 { 0.1 * scale } else { 0.5 };
            lo -= half;
            hi += half;
        }
        let span = hi - lo;
        let (lo, hi) = (lo - pad_lo * span, hi + pad_hi * span);
        if !(lo.is_finite() && hi.is_finite() && (hi - lo).is_finite() && hi > lo) {
            return Err(PlotError::InvalidInput(format!(
                "the {what} range [{}, {}] is too large to draw",
                self.lo, self.hi
            )));
        }
        Ok((lo, hi))
    }
}

fn bounds_of<'a>(points: impl Iterator<Item = &'a Prepared>) -> (Bounds, Bounds) {
    let mut bx = Bounds::empty();
    let mut by = Bounds::empty();
    for p in points {
        for (x, y) in p.points() {
            bx.include(x);
            by.include(y);
        }
    }
    (bx, by)
}

fn check_factor(name: &str, v: f64) -> Result<(), PlotError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(PlotError::InvalidInput(format!(
            "{name} must be finite and positive, got {v}"
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// Tick labels

/// The step between key points plotters chooses for `max_points` labels on [lo, hi]
/// (same algorithm as plotters' f64 key points), so labels get exactly the decimals they need.
fn tick_step(lo: f64, hi: f64, max_points: usize) -> f64 {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let span = hi - lo;
    if !span.is_finite() || span < f64::EPSILON || max_points == 0 {
        return 0.0;
    }
    fn rem_euclid(a: f64, b: f64) -> f64 {
        let ret = if b > 0.0 {
            a - (a / b).floor() * b
        } else {
            a - (a / b).ceil() * b
        };
        if (ret - b).abs() < f64::EPSILON {
            0.0
        } else {
            ret
        }
    }
    let mut scale = 10f64.powf(span.log10().floor());
    if 1 + (span / scale).floor() as usize > max_points {
        scale *= 10.0;
    }
    // Bounded loop (plotters' own loop terminates the same way; the bound is a safety net).
    for _ in 0..64 {
        let old = scale;
        for nxt in [2.0, 5.0, 10.0] {
            let mut left = lo - rem_euclid(lo, old / nxt);
            if left < lo {
                left += old / nxt;
            }
            let right = hi - rem_euclid(hi, old / nxt);
            let npoints = 1.0 + (right - left) / old * nxt;
            if npoints.round() as usize > max_points {
                return scale;
            }
            scale = old / nxt;
        }
        scale = old / 10.0;
    }
    scale
}

/// Formats tick values on [lo, hi] with as many decimals as the tick step needs
/// (0.05, 0.10, … rather than 5e-2), switching to scientific notation only for very small or
/// very large numbers.
#[derive(Debug, Clone, Copy)]
struct TickFormat {
    decimals: usize,
    scientific: Option<usize>,
}

impl TickFormat {
    fn new(lo: f64, hi: f64, max_points: usize) -> Self {
        let step = tick_step(lo, hi, max_points);
        let max_abs = lo.abs().max(hi.abs());
        if step <= 0.0 || !step.is_finite() {
            return TickFormat {
                decimals: 3,
                scientific: None,
            };
        }
        let decimals = (-step.log10() - 1e-9).ceil().max(0.0) as usize;
        if decimals > 5 || max_abs >= 1e7 {
            let mantissa_digits = (max_abs.log10().floor() - step.log10().floor()).clamp(0.0, 6.0);
            TickFormat {
                decimals,
                scientific: Some(mantissa_digits as usize),
            }
        } else {
            TickFormat {
                decimals,
                scientific: None,
            }
        }
    }

    fn format(&self, v: f64) -> String {
        let s = match self.scientific {
            Some(p) => format!("{v:.p$e}"),
            None => format!("{v:.d$}", d = self.decimals),
        };
        // Avoid "-0.00".
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_string()
        } else {
            s.replace('-', "−")
        }
    }
}

/// How the tick labels of an axis are written: linear axes through [`TickFormat`], log axes
/// (whose coordinates are log10 values) as the values themselves, in one style per axis.
#[derive(Debug, Clone, Copy)]
enum TickLabels {
    Linear(TickFormat),
    Log(LogLabels),
}

#[derive(Debug, Clone, Copy)]
enum LogLabels {
    /// Decimals, as many as each value needs (0.005, 0.1, 20): all ticks in [1e-4, 1e6).
    Plain,
    /// "10⁻⁶", "2×10⁻⁶": some tick outside [1e-4, 1e6).
    Powers,
    /// Linear ticks of a narrow log range: the decimals of their step.
    Linear(TickFormat),
}

impl TickLabels {
    fn new(range: (f64, f64), log: bool, max_points: usize) -> Self {
        if !log {
            return TickLabels::Linear(TickFormat::new(range.0, range.1, max_points));
        }
        let (ticks, linear) = log_ticks(range.0, range.1, max_points);
        TickLabels::Log(if linear {
            LogLabels::Linear(TickFormat::new(
                10f64.powf(range.0),
                10f64.powf(range.1),
                max_points,
            ))
        } else if ticks
            .iter()
            .all(|&t| (-4.0 - 1e-9..6.0 - 1e-9).contains(&t))
        {
            LogLabels::Plain
        } else {
            LogLabels::Powers
        })
    }

    fn format(&self, v: f64) -> String {
        match self {
            TickLabels::Linear(f) => f.format(v),
            TickLabels::Log(LogLabels::Linear(f)) => f.format(10f64.powf(v)),
            TickLabels::Log(LogLabels::Plain) => log_tick_label(v, false),
            TickLabels::Log(LogLabels::Powers) => log_tick_label(v, true),
        }
    }
}

/// Tick positions (log10 of the values) on a log axis spanning [lo, hi] (log10 units): the
/// densest of 1…9, 1-2-5 and 1 per decade, then every 2nd, 3rd, 5th, 10th… decade, that has at
/// most `max_points` ticks. A range too narrow for two such ticks gets plotters-like linear
/// ticks of the values instead (then the flag is true).
fn log_ticks(lo: f64, hi: f64, max_points: usize) -> (Vec<f64>, bool) {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    if !(lo.is_finite() && hi.is_finite()) || max_points == 0 || hi - lo > 4000.0 {
        return (Vec::new(), false);
    }
    let eps = 1e-9 * (1.0 + lo.abs().max(hi.abs()));
    let inside = |t: f64| t >= lo - eps && t <= hi + eps;
    let (d0, d1) = (lo.floor() as i64, hi.ceil() as i64);
    const MANTISSAS: [&[f64]; 3] = [
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        &[1.0, 2.0, 5.0],
        &[1.0],
    ];
    for mantissas in MANTISSAS {
        let ticks: Vec<f64> = (d0..=d1)
            .flat_map(|d| mantissas.iter().map(move |m| d as f64 + m.log10()))
            .filter(|&t| inside(t))
            .collect();
        if ticks.len() <= max_points {
            if ticks.len() >= 2 {
                return (ticks, false);
            }
            // Narrower than a factor of ~2: linear ticks of the values.
            let (v0, v1) = (10f64.powf(lo), 10f64.powf(hi));
            let step = tick_step(v0, v1, max_points);
            if !(step > 0.0 && step.is_finite()) {
                return (ticks, false);
            }
            let first = (v0 / step).ceil() as i64;
            let last = (v1 / step).floor() as i64;
            let linear = (first..=last.min(first + max_points as i64))
                .map(|k| k as f64 * step)
                .filter(|&v| v > 0.0)
                .map(f64::log10)
                .collect();
            return (linear, true);
        }
    }
    let mut every = 2i64;
    loop {
        let ticks: Vec<f64> = (d0..=d1)
            .filter(|d| d.rem_euclid(every) == 0)
            .map(|d| d as f64)
            .filter(|&t| inside(t))
            .collect();
        if ticks.len() <= max_points {
            return (ticks, false);
        }
        every = match every {
            2 => 3,
            3 => 5,
            e => 2 * e,
        };
    }
}

/// The label of a log-axis tick at log10 value `t`: plain decimals with the digits the value
/// needs (0.005, 20), or with `powers` "2×10⁻⁵" / "10⁸".
fn log_tick_label(t: f64, powers: bool) -> String {
    let v = 10f64.powf(t);
    if !(v.is_finite() && v > 0.0) {
        return String::new();
    }
    let shortest = |v: f64, max_decimals: usize| {
        (0..=max_decimals)
            .map(|d| format!("{v:.d$}"))
            .find(|s| s.parse::<f64>().is_ok_and(|p| (p - v).abs() <= 1e-6 * v))
            .unwrap_or_else(|| format!("{v:.max_decimals$}"))
    };
    if !powers {
        return shortest(v, 10);
    }
    let exponent = (t + 1e-9).floor();
    let mantissa = shortest(10f64.powf(t - exponent), 3);
    let superscript: String = format!("{}", exponent as i64)
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            d => ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'][d as usize - '0' as usize],
        })
        .collect();
    if mantissa == "1" {
        format!("10{superscript}")
    } else {
        format!("{mantissa}×10{superscript}")
    }
}

// ---------------------------------------------------------------------------------------------
// Elements

fn marker_vertices(shape: Marker, r: f64) -> Vec<(i32, i32)> {
    let pts: Vec<(f64, f64)> = match shape {
        Marker::Circle => (0..24)
            .map(|k| {
                let t = std::f64::consts::TAU * k as f64 / 24.0;
                (r * t.cos(), r * t.sin())
            })
            .collect(),
        Marker::Triangle => {
            let r = 1.3 * r;
            vec![(0.0, -r), (0.866 * r, 0.5 * r), (-0.866 * r, 0.5 * r)]
        }
        Marker::Square => {
            let a = 0.88 * r;
            vec![(-a, -a), (a, -a), (a, a), (-a, a)]
        }
        Marker::Diamond => {
            let a = 1.25 * r;
            vec![(0.0, -a), (a, 0.0), (0.0, a), (-a, 0.0)]
        }
    };
    pts.into_iter()
        .map(|(x, y)| (x.round() as i32, y.round() as i32))
        .collect()
}

fn shifted(verts: &[(i32, i32)], (cx, cy): (i32, i32)) -> Vec<(i32, i32)> {
    verts.iter().map(|&(x, y)| (x + cx, y + cy)).collect()
}

fn closed(mut verts: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    if let Some(&first) = verts.first() {
        verts.push(first);
    }
    verts
}

fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

// ---------------------------------------------------------------------------------------------
// Chart scaffolding shared by the figures

type Coords = Cartesian2d<RangedCoordf64, RangedCoordf64>;
type Primary = Cartesian2d<Axis, Axis>;
type Chart<'a, DB> = DualCoordChartContext<'a, DB, Primary, Coords>;

/// A primary axis: plotters' linear f64 axis, or the same linear mapping of log10 values with
/// ticks at "nice" values of the un-logged quantity ([`log_ticks`]).
#[derive(Clone)]
struct Axis {
    linear: RangedCoordf64,
    log: bool,
}

impl Axis {
    fn new(range: (f64, f64), log: bool) -> Self {
        Axis {
            linear: (range.0..range.1).into(),
            log,
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if !self.log {
            return self.linear.key_points(hint);
        }
        // Only labelled (bold) ticks on a log axis; light grid lines are not drawn anyway.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        let r = self.linear.range();
        log_ticks(r.start, r.end, hint.max_num_points()).0
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.linear.range()
    }
}

/// A secondary axis: range and description.
struct SecondaryAxis<'s> {
    range: (f64, f64),
    desc: &'s str,
}

/// Primary axes of a chart. With `log_x` / `log_y` the range and all data drawn on that axis
/// are log10 of the values shown (see [`to_log_series`]); ticks then sit at 1-2-5 or decade
/// values and are labelled with the values themselves.
struct Axes<'s> {
    x: (f64, f64),
    y: (f64, f64),
    x_desc: &'s str,
    y_desc: &'s str,
    top: Option<SecondaryAxis<'s>>,
    right: Option<SecondaryAxis<'s>>,
    log_x: bool,
    log_y: bool,
}

/// Fills the canvas white, draws the title (if any) in a strip at the top, and returns the
/// area left for the chart.
fn prepare_canvas<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: Option<&str>,
) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(draw_err)?;
    match title {
        None => Ok(root.clone()),
        Some(title) => title_strip(root, title, TITLE_SIZE, TITLE_STRIP),
    }
}

/// Draws `title` centred in a strip of height `strip_height` at the top of `area` and returns
/// the rest of the area.
fn title_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    size: i32,
    strip_height: u32,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (strip, body) = area.split_vertically(strip_height);
    let (w, h) = strip.dim_in_pixel();
    let style = TextStyle::from((FONT, size).into_font())
        .pos(Pos::new(HPos::Center, VPos::Center))
        .color(&BLACK);
    strip
        .draw_text(title, &style, (w as i32 / 2, h as i32 / 2 + 6))
        .map_err(draw_err)?;
    Ok(body)
}

/// Width (or height, for `vertical == false`) of the label area that holds tick labels
/// formatted by `fmt` on [lo, hi] plus the axis description, with a little air.
fn label_area_size(fmt: TickLabels, lo: f64, hi: f64, vertical: bool) -> u32 {
    let tick_font = (FONT, TICK_LABEL_SIZE).into_font();
    let desc = (AXIS_DESC_SIZE as f64 * 1.15).round() as u32;
    let labels = if vertical {
        let samples = match fmt {
            TickLabels::Linear(_) => {
                vec![lo, hi, 0.5 * (lo + hi), 0f64.clamp(lo.min(hi), lo.max(hi))]
            }
            TickLabels::Log(_) => log_ticks(lo, hi, N_Y_LABELS).0,
        };
        samples
            .iter()
            .map(|&v| {
                tick_font
                    .box_size(&fmt.format(v))
                    .map(|(w, _)| w)
                    .unwrap_or(6 * TICK_LABEL_SIZE as u32)
            })
            .max()
            .unwrap_or(0)
    } else {
        (TICK_LABEL_SIZE as f64 * 0.85).round() as u32
    };
    2 * TICK_SIZE as u32 + labels + LABEL_DESC_GAP + desc + 6
}

fn build_chart<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    axes: &Axes<'_>,
) -> Result<Chart<'a, DB>, String> {
    let fx = TickLabels::new(axes.x, axes.log_x, N_X_LABELS);
    let fy = TickLabels::new(axes.y, axes.log_y, N_Y_LABELS);
    let sx = axes.top.as_ref().map_or(axes.x, |a| a.range);
    let sy = axes.right.as_ref().map_or(axes.y, |a| a.range);
    let fsx = TickLabels::new(sx, false, N_X_LABELS);
    let fsy = TickLabels::new(sy, false, N_Y_LABELS);

    let mut builder = ChartBuilder::on(area);
    builder
        .margin(MARGIN)
        .x_label_area_size(label_area_size(fx, axes.x.0, axes.x.1, false))
        .y_label_area_size(label_area_size(fy, axes.y.0, axes.y.1, true));
    if axes.top.is_some() {
        builder
            .margin_top(MARGIN / 2)
            .top_x_label_area_size(label_area_size(fsx, sx.0, sx.1, false));
    }
    if axes.right.is_some() {
        builder.right_y_label_area_size(label_area_size(fsy, sy.0, sy.1, true));
    } else {
        builder.margin_right(2 * MARGIN);
    }
    let chart = builder
        .build_cartesian_2d(Axis::new(axes.x, axes.log_x), Axis::new(axes.y, axes.log_y))
        .map_err(draw_err)?;
    // The secondary coordinates take over the top and right label areas, so the primary mesh
    // (drawn next) only labels the bottom and left axes.
    let mut chart = chart.set_secondary_coord(sx.0..sx.1, sy.0..sy.1);

    let fmt_x = move |v: &f64| fx.format(*v);
    let fmt_y = move |v: &f64| fy.format(*v);
    chart
        .configure_mesh()
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .axis_desc_style((FONT, AXIS_DESC_SIZE))
        .label_style((FONT, TICK_LABEL_SIZE))
        .x_labels(N_X_LABELS)
        .y_labels(N_Y_LABELS)
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&fmt_y)
        .bold_line_style(GRID_GREY.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK.stroke_width(2))
        .set_all_tick_mark_size(TICK_SIZE)
        .draw()
        .map_err(draw_err)?;

    if axes.top.is_some() || axes.right.is_some() {
        let fmt_sx = move |v: &f64| fsx.format(*v);
        let fmt_sy = move |v: &f64| fsy.format(*v);
        let mut mesh = chart.configure_secondary_axes();
        mesh.axis_desc_style((FONT, AXIS_DESC_SIZE))
            .label_style((FONT, TICK_LABEL_SIZE))
            .axis_style(BLACK.stroke_width(2))
            .set_all_tick_mark_size(TICK_SIZE)
            .x_labels(N_X_LABELS)
            .y_labels(N_Y_LABELS)
            .x_label_formatter(&fmt_sx)
            .y_label_formatter(&fmt_sy);
        if let Some(top) = &axes.top {
            mesh.x_desc(top.desc);
        }
        if let Some(right) = &axes.right {
            mesh.y_desc(right.desc);
        }
        mesh.draw().map_err(draw_err)?;
    }
    Ok(chart)
}

/// Draws one prepared series in the given look and registers its legend entry (if labelled).
fn draw_series<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    series: &Prepared,
    look: Look,
) -> Result<(), String> {
    draw_data(chart, series, look)?;
    add_legend_entry(chart, &series.label, look)
}

/// Maps data coordinates to (fractional) pixel coordinates of the plotting area.
fn pixel_map<'a, DB: DrawingBackend + 'a>(
    chart: &Chart<'a, DB>,
) -> impl Fn(&(f64, f64)) -> (f64, f64) {
    let xr = chart.x_range();
    let yr = chart.y_range();
    let (w, h) = chart.plotting_area().dim_in_pixel();
    let (w, h) = (w as f64, h as f64);
    move |&(x, y)| {
        (
            (x - xr.start) / (xr.end - xr.start) * w,
            (yr.end - y) / (yr.end - yr.start) * h,
        )
    }
}

/// Ramer–Douglas–Peucker simplification in pixel space: drops points that lie within
/// `tolerance` pixels of the polyline through the kept ones. Dense curves (thousands of grid
/// points) then draw as fewer, longer segments, which avoids the ragged look of thick
/// non-antialiased lines made of many sub-pixel segments, and keeps SVG files small.
fn simplify(
    run: &[(f64, f64)],
    to_pixels: &impl Fn(&(f64, f64)) -> (f64, f64),
    tolerance: f64,
) -> Vec<(f64, f64)> {
    if run.len() <= 2 {
        return run.to_vec();
    }
    let px: Vec<(f64, f64)> = run.iter().map(to_pixels).collect();
    let mut keep = vec![false; run.len()];
    keep[0] = true;
    keep[run.len() - 1] = true;
    let mut stack = vec![(0usize, run.len() - 1)];
    while let Some((first, last)) = stack.pop() {
        if last <= first + 1 {
            continue;
        }
        let (ax, ay) = px[first];
        let (bx, by) = px[last];
        let (dx, dy) = (bx - ax, by - ay);
        let len = (dx * dx + dy * dy).sqrt();
        let mut worst = (0.0f64, first);
        for (k, &(x, y)) in px.iter().enumerate().take(last).skip(first + 1) {
            // Distance to the segment (not the infinite line), so curves that turn back
            // are kept.
            let t = if len > 0.0 {
                (((x - ax) * dx + (y - ay) * dy) / (len * len)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let d = ((x - ax - t * dx).powi(2) + (y - ay - t * dy).powi(2)).sqrt();
            if d > worst.0 {
                worst = (d, k);
            }
        }
        if worst.0 > tolerance {
            keep[worst.1] = true;
            stack.push((first, worst.1));
            stack.push((worst.1, last));
        }
    }
    run.iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// Runs longer than this many points per pixel column of the plotting area are first reduced
/// to their per-column extremes ([`column_extremes`]).
const COLUMN_DECIMATION_PER_PX: usize = 4;

/// The points of a line run as drawn: very long runs (millions of points) reduced to the first,
/// lowest, highest and last point of each pixel column, then Ramer–Douglas–Peucker
/// simplification ([`simplify`]). Runs of fewer than `COLUMN_DECIMATION_PER_PX` points per pixel
/// column go straight to `simplify`.
fn line_points(
    run: &[(f64, f64)],
    to_pixels: &impl Fn(&(f64, f64)) -> (f64, f64),
    width_px: usize,
) -> Vec<(f64, f64)> {
    if run.len() > COLUMN_DECIMATION_PER_PX * width_px.max(1) {
        simplify(
            &column_extremes(run, to_pixels),
            to_pixels,
            SIMPLIFY_TOLERANCE_PX,
        )
    } else {
        simplify(run, to_pixels, SIMPLIFY_TOLERANCE_PX)
    }
}

/// Pixel-column decimation of a polyline: each stretch of consecutive points that fall in the
/// same pixel column is replaced by its first, lowest, highest and last point (in their
/// original order), which draws the same pixels up to one pixel horizontally.
fn column_extremes(
    run: &[(f64, f64)],
    to_pixels: &impl Fn(&(f64, f64)) -> (f64, f64),
) -> Vec<(f64, f64)> {
    let px: Vec<(f64, f64)> = run.iter().map(to_pixels).collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < run.len() {
        let column = px[start].0.floor();
        let (mut low, mut high) = (start, start);
        let mut end = start + 1;
        while end < run.len() && px[end].0.floor() == column {
            if px[end].1 > px[low].1 {
                low = end;
            }
            if px[end].1 < px[high].1 {
                high = end;
            }
            end += 1;
        }
        let mut keep = [start, low, high, end - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(run[k]);
                last = k;
            }
        }
        start = end;
    }
    out
}

type Polyline = Vec<(f64, f64)>;

/// Cuts a polyline into pieces whose thick outline (as plotters builds it, with mitred joins)
/// cannot fold over itself: a piece ends at a vertex where the line turns by more than 60°,
/// or turns at all next to a segment shorter than twice the line width. Consecutive pieces
/// share that vertex, which is also returned (to be covered by a disk). A smooth curve stays
/// one piece.
fn split_at_sharp_turns(
    run: &[(f64, f64)],
    to_pixels: &impl Fn(&(f64, f64)) -> (f64, f64),
    width: f64,
) -> (Vec<Polyline>, Polyline) {
    let px: Vec<(f64, f64)> = run.iter().map(to_pixels).collect();
    let mut pieces = Vec::new();
    let mut joints = Vec::new();
    let mut current = vec![run[0]];
    for i in 1..run.len() {
        current.push(run[i]);
        if i + 1 == run.len() {
            break;
        }
        let a = (px[i].0 - px[i - 1].0, px[i].1 - px[i - 1].1);
        let b = (px[i + 1].0 - px[i].0, px[i + 1].1 - px[i].1);
        let (la, lb) = (a.0.hypot(a.1), b.0.hypot(b.1));
        let cos = if la > 0.0 && lb > 0.0 {
            (a.0 * b.0 + a.1 * b.1) / (la * lb)
        } else {
            1.0
        };
        let short = la.min(lb) < 2.0 * width;
        if cos < 0.5 || (short && cos < 0.999) {
            pieces.push(std::mem::replace(&mut current, vec![run[i]]));
            joints.push(run[i]);
        }
    }
    pieces.push(current);
    (pieces, joints)
}

/// Draws the lines and markers of one prepared series. Thick lines are split at sharp turns
/// ([`split_at_sharp_turns`]) with a small disk on each split vertex: plotters fills a thick
/// polyline's outline polygon, which a run zigzagging within a few pixels (T^(μ), T_E^(K))
/// folds over itself, rendering with holes in PNG.
fn draw_data<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    series: &Prepared,
    look: Look,
) -> Result<(), String> {
    if let Some(line) = look.line {
        let style = look.color.stroke_width(line.width);
        let to_pixels = pixel_map(chart);
        let width = chart.plotting_area().dim_in_pixel().0 as usize;
        for run in series.runs.iter().filter(|r| r.len() >= 2) {
            let run = line_points(run, &to_pixels, width);
            let (pieces, joints) = if line.width > 1 {
                split_at_sharp_turns(&run, &to_pixels, line.width as f64)
            } else {
                (vec![run], Vec::new())
            };
            for piece in &pieces {
                if line.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(piece.iter().copied(), 18, 10, style))
                        .map_err(draw_err)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(piece.iter().copied(), style))
                        .map_err(draw_err)?;
                }
            }
            let radius = line.width / 2;
            for p in joints {
                chart
                    .plotting_area()
                    .draw(&Circle::new(p, radius, look.color.filled()))
                    .map_err(draw_err)?;
            }
        }
    }
    if let Some(marker) = look.marker {
        let verts = marker_vertices(marker.shape, MARKER_RADIUS);
        let fill = if marker.filled {
            look.color.filled()
        } else {
            WHITE.filled()
        };
        let stroke = look.color.stroke_width(2);
        let area = chart.plotting_area();
        let base = area.get_base_pixel();
        let pixels = area.strip_coord_spec();
        for p in series.points() {
            let (px, py) = area.map_coordinate(&p);
            let c = (px - base.0, py - base.1);
            let v = shifted(&verts, c);
            pixels
                .draw(&Polygon::new(v.clone(), fill))
                .map_err(draw_err)?;
            pixels
                .draw(&PathElement::new(closed(v), stroke))
                .map_err(draw_err)?;
        }
    }
    Ok(())
}

/// Registers a legend entry (nothing for an empty label).
fn add_legend_entry<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    label: &str,
    look: Look,
) -> Result<(), String> {
    if !label.is_empty() {
        let anno = chart
            .draw_series(LineSeries::new(
                std::iter::empty::<(f64, f64)>(),
                TRANSPARENT.stroke_width(1),
            ))
            .map_err(draw_err)?;
        anno.label(label).legend(move |(x, y)| {
            let g = LegendGlyph::new(look);
            EmptyElement::at((x, y))
                + PathElement::new(g.segments[0].clone(), g.line_style)
                + PathElement::new(g.segments[1].clone(), g.line_style)
                + Polygon::new(g.marker.clone(), g.marker_fill)
                + PathElement::new(closed(g.marker), g.marker_stroke)
        });
    }
    Ok(())
}

/// The small picture in front of a legend label, relative to its anchor (left end, middle).
struct LegendGlyph {
    segments: [Vec<(i32, i32)>; 2],
    line_style: ShapeStyle,
    marker: Vec<(i32, i32)>,
    marker_fill: ShapeStyle,
    marker_stroke: ShapeStyle,
}

impl LegendGlyph {
    fn new(look: Look) -> Self {
        let len = LEGEND_GLYPH as i32 - 12;
        let mid = len / 2;
        let (segments, line_style) = match look.line {
            Some(LineLook {
                width,
                dashed: true,
            }) => (
                [vec![(0, 0), (mid - 6, 0)], vec![(mid + 6, 0), (len, 0)]],
                look.color.stroke_width(width),
            ),
            Some(LineLook { width, .. }) => (
                [vec![(0, 0), (mid, 0)], vec![(mid, 0), (len, 0)]],
                look.color.stroke_width(width),
            ),
            None => (
                [vec![(0, 0), (mid, 0)], vec![(mid, 0), (len, 0)]],
                TRANSPARENT.stroke_width(1),
            ),
        };
        let (marker, marker_fill, marker_stroke) = match look.marker {
            Some(m) => (
                shifted(&marker_vertices(m.shape, MARKER_RADIUS), (mid, 0)),
                if m.filled {
                    look.color.filled()
                } else {
                    WHITE.filled()
                },
                look.color.stroke_width(2),
            ),
            None => (
                shifted(&marker_vertices(Marker::Square, 1.0), (mid, 0)),
                TRANSPARENT.filled(),
                TRANSPARENT.stroke_width(1),
            ),
        };
        LegendGlyph {
            segments,
            line_style,
            marker,
            marker_fill,
            marker_stroke,
        }
    }
}

/// Data whose covered pixels the legend should avoid: (points in primary data coordinates,
/// whether consecutive points are joined by a line).
type Obstacle<'d> = (&'d [(f64, f64)], bool);

/// Draws the frame around the plotting area and the legend in the least crowded place.
fn finish_chart<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    axes: &Axes<'_>,
    labels: &[&str],
    obstacles: &[Obstacle<'_>],
) -> Result<(), String> {
    chart
        .plotting_area()
        .draw(&Rectangle::new(
            [(axes.x.0, axes.y.1), (axes.x.1, axes.y.0)],
            BLACK.stroke_width(2),
        ))
        .map_err(draw_err)?;
    let labels: Vec<&str> = labels.iter().copied().filter(|l| !l.is_empty()).collect();
    if labels.is_empty() {
        return Ok(());
    }
    let position = legend_position(chart, &labels, obstacles)?;
    chart
        .configure_series_labels()
        .position(position)
        .legend_area_size(LEGEND_GLYPH)
        .margin(LEGEND_MARGIN)
        .label_font((FONT, LEGEND_SIZE))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.stroke_width(1))
        .draw()
        .map_err(draw_err)
}

/// Picks the corner (or edge middle) of the plotting area whose legend box would cover the
/// fewest data pixels; ties go to the first candidate (upper right, upper left, lower right,
/// lower left, then the edge middles).
fn legend_position<'a, DB: DrawingBackend + 'a>(
    chart: &Chart<'a, DB>,
    labels: &[&str],
    obstacles: &[Obstacle<'_>],
) -> Result<SeriesLabelPosition, String> {
    let font: TextStyle = (FONT, LEGEND_SIZE).into_font().into();
    let mut text = MultiLineText::<_, &str>::new((0, 0), &font);
    for l in labels {
        text.push_line(*l);
    }
    let (tw, th) = text.estimate_dimension().map_err(|e| e.to_string())?;
    let lw = tw + LEGEND_GLYPH as i32 + 2 * LEGEND_MARGIN as i32;
    let lh = th + 2 * LEGEND_MARGIN as i32;

    let area = chart.plotting_area();
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let base = area.get_base_pixel();
    let to_px = |p: &(f64, f64)| {
        let (x, y) = area.map_coordinate(p);
        ((x - base.0) as f64, (y - base.1) as f64)
    };
    let mut samples: Vec<(f64, f64)> = Vec::new();
    for (points, joined) in obstacles {
        let px: Vec<(f64, f64)> = points.iter().map(to_px).collect();
        samples.extend(px.iter().copied());
        if *joined {
            for pair in px.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) / 4.0).ceil();
                let n = n.clamp(1.0, 2000.0) as usize;
                for k in 1..n {
                    let t = k as f64 / n as f64;
                    samples.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
                }
            }
        }
    }

    let left = LEGEND_INSET;
    let right = w - lw - LEGEND_INSET;
    let centre_x = (w - lw) / 2;
    let top = LEGEND_INSET;
    let bottom = h - lh - LEGEND_INSET;
    let centre_y = (h - lh) / 2;
    let candidates = [
        (right, top),
        (left, top),
        (right, bottom),
        (left, bottom),
        (right, centre_y),
        (left, centre_y),
        (centre_x, top),
        (centre_x, bottom),
    ];
    let pad = MARKER_RADIUS + 4.0;
    let mut best = (usize::MAX, candidates[0]);
    for &(x0, y0) in &candidates {
        let (x0f, y0f) = (x0 as f64 - pad, y0 as f64 - pad);
        let (x1f, y1f) = ((x0 + lw) as f64 + pad, (y0 + lh) as f64 + pad);
        let covered = samples
            .iter()
            .filter(|(x, y)| *x >= x0f && *x <= x1f && *y >= y0f && *y <= y1f)
            .count();
        if covered < best.0 {
            best = (covered, (x0, y0));
        }
    }
    let (x0, y0) = best.1;
    Ok(SeriesLabelPosition::Coordinate(x0.max(0), y0.max(0)))
}

// ---------------------------------------------------------------------------------------------
// Figs. 1–3

/// A figure that can draw itself on any plotters backend.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;

    /// Canvas size in pixels (PNG) or logical units (SVG).
    fn size(&self) -> (u32, u32) {
        (WIDTH, HEIGHT)
    }
}

struct KineticPrepared {
    series: Vec<Prepared>,
    x: (f64, f64),
    y: (f64, f64),
}

impl KineticPrepared {
    fn new(fig: &KineticFigure) -> Result<Self, PlotError> {
        let series = fig
            .series
            .iter()
            .map(|s| Prepared::new("series", s))
            .collect::<Result<Vec<_>, _>>()?;
        let (bx, by) = bounds_of(series.iter());
        Ok(KineticPrepared {
            x: bx.axis(0.04, 0.04, "energy")?,
            y: by.axis(0.06, 0.06, "kinetic energy")?,
            series,
        })
    }
}

impl Figure for KineticPrepared {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let axes = Axes {
            x: self.x,
            y: self.y,
            x_desc: "E_n (Ha)",
            y_desc: "⟨K⟩_n (Ha)",
            top: None,
            right: None,
            log_x: false,
            log_y: false,
        };
        let area = prepare_canvas(root, None)?;
        let mut chart = build_chart(&area, &axes)?;
        let mut obstacles = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            let look = Look {
                color: PALETTE[i % PALETTE.len()],
                line: Some(LineLook {
                    width: 2,
                    dashed: false,
                }),
                marker: Some(MarkerLook {
                    shape: MARKERS[i % MARKERS.len()],
                    filled: true,
                }),
            };
            draw_series(&mut chart, s, look)?;
            obstacles.extend(s.runs.iter().map(|r| (r.as_slice(), true)));
        }
        let labels: Vec<&str> = self.series.iter().map(|s| s.label.as_str()).collect();
        finish_chart(&mut chart, &axes, &labels, &obstacles)?;
        root.present().map_err(draw_err)
    }
}

struct XyPrepared<'f> {
    fig: &'f XyFigure,
    series: Vec<Prepared>,
    x: (f64, f64),
    y: (f64, f64),
}

impl<'f> XyPrepared<'f> {
    fn new(fig: &'f XyFigure) -> Result<Self, PlotError> {
        let series = fig
            .series
            .iter()
            .map(|s| Prepared::new("series", &to_log_series(s, fig.log_x, fig.log_y)))
            .collect::<Result<Vec<_>, _>>()?;
        let (bx, by) = bounds_of(series.iter());
        Ok(XyPrepared {
            fig,
            x: bx.axis(0.04, 0.04, &fig.x_label)?,
            y: by.axis(0.06, 0.06, &fig.y_label)?,
            series,
        })
    }
}

impl Figure for XyPrepared<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let axes = Axes {
            x: self.x,
            y: self.y,
            x_desc: &self.fig.x_label,
            y_desc: &self.fig.y_label,
            top: None,
            right: None,
            log_x: self.fig.log_x,
            log_y: self.fig.log_y,
        };
        let area = prepare_canvas(root, optional_title(&self.fig.title))?;
        let mut chart = build_chart(&area, &axes)?;
        let mut obstacles = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            let look = Look {
                color: PALETTE[i % PALETTE.len()],
                line: Some(LineLook {
                    width: 2,
                    dashed: i >= PALETTE.len(),
                }),
                marker: Some(MarkerLook {
                    shape: MARKERS[i % MARKERS.len()],
                    filled: i < PALETTE.len(),
                }),
            };
            draw_series(&mut chart, s, look)?;
            obstacles.extend(s.runs.iter().map(|r| (r.as_slice(), true)));
        }
        let labels: Vec<&str> = self.series.iter().map(|s| s.label.as_str()).collect();
        finish_chart(&mut chart, &axes, &labels, &obstacles)?;
        root.present().map_err(draw_err)
    }
}

struct DensityPrepared {
    states: Vec<Prepared>,
    /// V(x) mapped into the primary (density) coordinates.
    potential: Prepared,
    x: (f64, f64),
    y: (f64, f64),
    v: (f64, f64),
}

impl DensityPrepared {
    fn new(fig: &DensityFigure) -> Result<Self, PlotError> {
        let states = fig
            .states
            .iter()
            .map(|s| Prepared::new("state", s))
            .collect::<Result<Vec<_>, _>>()?;
        let potential_runs = finite_runs("potential", "V(x)", &fig.x, &fig.potential)?;
        let (mut bx, mut by) = bounds_of(states.iter());
        let mut bv = Bounds::empty();
        for &(x, v) in potential_runs.iter().flatten() {
            bx.include(x);
            bv.include(v);
        }
        if !by.is_empty() {
            by.include(0.0);
        }
        let x = bx.axis(0.0, 0.0, "x")?;
        let y = by.axis(0.0, 0.08, "density")?;
        let v = bv.axis(0.08, 0.12, "potential")?;
        let map = |val: f64| y.0 + (val - v.0) / (v.1 - v.0) * (y.1 - y.0);
        let potential = Prepared {
            label: if potential_runs.is_empty() {
                String::new()
            } else {
                "V(x)".to_string()
            },
            runs: potential_runs
                .into_iter()
                .map(|run| run.into_iter().map(|(a, b)| (a, map(b))).collect())
                .collect(),
        };
        Ok(DensityPrepared {
            states,
            potential,
            x,
            y,
            v,
        })
    }
}

const STATE_COLOURS: [RGBColor; 7] = [
    OI_BLACK,
    OI_VERMILLION,
    OI_BLUE,
    OI_GREEN,
    OI_PURPLE,
    OI_ORANGE,
    OI_SKY_BLUE,
];

impl Figure for DensityPrepared {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let axes = Axes {
            x: self.x,
            y: self.y,
            x_desc: "x (bohr)",
            y_desc: "|ψ|² (1/bohr)",
            top: None,
            right: Some(SecondaryAxis {
                range: self.v,
                desc: "V (Ha)",
            }),
            log_x: false,
            log_y: false,
        };
        let area = prepare_canvas(root, None)?;
        let mut chart = build_chart(&area, &axes)?;
        let potential_look = Look {
            color: POTENTIAL_GREY,
            line: Some(LineLook {
                width: 3,
                dashed: true,
            }),
            marker: None,
        };
        draw_data(&mut chart, &self.potential, potential_look)?;
        let mut obstacles: Vec<Obstacle<'_>> = self
            .potential
            .runs
            .iter()
            .map(|r| (r.as_slice(), true))
            .collect();
        for (i, s) in self.states.iter().enumerate() {
            let look = Look {
                color: STATE_COLOURS[i % STATE_COLOURS.len()],
                line: Some(LineLook {
                    width: 3,
                    dashed: false,
                }),
                marker: None,
            };
            draw_series(&mut chart, s, look)?;
            obstacles.extend(s.runs.iter().map(|r| (r.as_slice(), true)));
        }
        add_legend_entry(&mut chart, &self.potential.label, potential_look)?;
        let mut labels: Vec<&str> = self.states.iter().map(|s| s.label.as_str()).collect();
        labels.push(self.potential.label.as_str());
        finish_chart(&mut chart, &axes, &labels, &obstacles)?;
        root.present().map_err(draw_err)
    }
}

struct TemperaturePrepared {
    curves: Vec<(Prepared, Look)>,
    x: (f64, f64),
    y: (f64, f64),
    ev_per_hartree: f64,
    kelvin_per_hartree: f64,
    title: String,
}

fn temperature_look(index: usize) -> Look {
    match index {
        TemperatureFigure::KINETIC => Look {
            color: OI_BLACK,
            line: None,
            marker: Some(MarkerLook {
                shape: Marker::Circle,
                filled: true,
            }),
        },
        TemperatureFigure::MICROCANONICAL => Look {
            color: OI_VERMILLION,
            line: Some(LineLook {
                width: 2,
                dashed: false,
            }),
            marker: Some(MarkerLook {
                shape: Marker::Triangle,
                filled: false,
            }),
        },
        TemperatureFigure::CANONICAL => Look {
            color: OI_BLUE,
            line: Some(LineLook {
                width: 4,
                dashed: false,
            }),
            marker: None,
        },
        TemperatureFigure::KINETIC_WINDOW => Look {
            color: OI_GREEN,
            line: Some(LineLook {
                width: 3,
                dashed: true,
            }),
            marker: None,
        },
        k => Look {
            color: [OI_PURPLE, OI_ORANGE, OI_SKY_BLUE][(k - 4) % 3],
            line: Some(LineLook {
                width: 3,
                dashed: false,
            }),
            marker: None,
        },
    }
}

impl TemperaturePrepared {
    fn new(fig: &TemperatureFigure) -> Result<Self, PlotError> {
        check_factor("ev_per_hartree", fig.ev_per_hartree)?;
        check_factor("kelvin_per_hartree", fig.kelvin_per_hartree)?;
        let mut curves = Vec::new();
        for (i, s) in fig.curves.iter().enumerate() {
            let p = Prepared::new("curve", s)?;
            if !p.is_blank() {
                curves.push((p, temperature_look(i)));
            }
        }
        let (bx, mut by) = bounds_of(curves.iter().map(|(p, _)| p));
        let pad_lo = if !by.is_empty() && by.lo < 0.0 {
            0.05
        } else {
            0.0
        };
        if !by.is_empty() {
            by.include(0.0);
        }
        let x = bx.axis(0.03, 0.03, "energy")?;
        let y = by.axis(pad_lo, 0.06, "temperature")?;
        for (name, lo, hi) in [
            (
                "energy in eV",
                x.0 * fig.ev_per_hartree,
                x.1 * fig.ev_per_hartree,
            ),
            (
                "temperature in K",
                y.0 * fig.kelvin_per_hartree,
                y.1 * fig.kelvin_per_hartree,
            ),
        ] {
            if !(lo.is_finite() && hi.is_finite() && (hi - lo).is_finite() && hi > lo) {
                return Err(PlotError::InvalidInput(format!(
                    "the {name} axis [{lo}, {hi}] cannot be drawn"
                )));
            }
        }
        Ok(TemperaturePrepared {
            curves,
            x,
            y,
            ev_per_hartree: fig.ev_per_hartree,
            kelvin_per_hartree: fig.kelvin_per_hartree,
            title: fig.title.clone(),
        })
    }
}

impl Figure for TemperaturePrepared {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let axes = Axes {
            x: self.x,
            y: self.y,
            x_desc: "E (Ha)",
            y_desc: "T (Ha)",
            top: Some(SecondaryAxis {
                range: (
                    self.x.0 * self.ev_per_hartree,
                    self.x.1 * self.ev_per_hartree,
                ),
                desc: "E (eV)",
            }),
            right: Some(SecondaryAxis {
                range: (
                    self.y.0 * self.kelvin_per_hartree,
                    self.y.1 * self.kelvin_per_hartree,
                ),
                desc: "T (K)",
            }),
            log_x: false,
            log_y: false,
        };
        let title = (!self.title.is_empty()).then_some(self.title.as_str());
        let area = prepare_canvas(root, title)?;
        let mut chart = build_chart(&area, &axes)?;
        // Lines first, markers on top of them.
        let mut order: Vec<usize> = (0..self.curves.len()).collect();
        order.sort_by_key(|&i| (self.curves[i].1.marker.is_some(), i));
        for &i in &order {
            let (p, look) = &self.curves[i];
            draw_data(&mut chart, p, *look)?;
        }
        // Legend in the order of `curves`, whatever the drawing order.
        for (p, look) in &self.curves {
            add_legend_entry(&mut chart, &p.label, *look)?;
        }
        let obstacles: Vec<Obstacle<'_>> = self
            .curves
            .iter()
            .flat_map(|(p, look)| {
                let joined = look.line.is_some();
                p.runs.iter().map(move |r| (r.as_slice(), joined))
            })
            .collect();
        let labels: Vec<&str> = self.curves.iter().map(|(p, _)| p.label.as_str()).collect();
        finish_chart(&mut chart, &axes, &labels, &obstacles)?;
        root.present().map_err(draw_err)
    }
}

// ---------------------------------------------------------------------------------------------
// Figs. 4, 5 and the thermodynamic limit

/// More panels than this in one figure are refused (the canvas would grow without bound).
const MAX_PANELS: usize = 16;

/// Canvas size and (rows, columns) of a figure with `n` panels: one panel fills the standard
/// canvas, two or more are laid out two per row.
fn panel_grid(n: usize, titled: bool) -> ((u32, u32), (usize, usize)) {
    if n <= 1 {
        return ((WIDTH, HEIGHT), (1, 1));
    }
    let rows = n.div_ceil(2);
    let strip = if titled { TITLE_STRIP } else { 0 };
    let height = HEIGHT.max(strip + rows as u32 * PANEL_HEIGHT);
    ((2 * PANEL_WIDTH, height), (rows, 2))
}

fn optional_title(title: &str) -> Option<&str> {
    (!title.is_empty()).then_some(title)
}

/// A line-only look in the given colour.
fn line_look(color: RGBColor, width: u32, dashed: bool) -> Look {
    Look {
        color,
        line: Some(LineLook { width, dashed }),
        marker: None,
    }
}

/// `p` as it is drawn on `chart` when drawn as a line only: each run through [`line_points`].
/// Used both to draw and to place the legend, so series of millions of points cost little.
fn as_drawn<'a, DB: DrawingBackend + 'a>(chart: &Chart<'a, DB>, p: &Prepared) -> Prepared {
    let to_pixels = pixel_map(chart);
    let width = chart.plotting_area().dim_in_pixel().0 as usize;
    Prepared {
        label: p.label.clone(),
        runs: p
            .runs
            .iter()
            .map(|r| {
                if r.len() >= 2 {
                    line_points(r, &to_pixels, width)
                } else {
                    r.clone()
                }
            })
            .collect(),
    }
}

/// Draws `(p, look)` pairs (line-only series decimated as drawn), then their legend entries in
/// the same order; returns what the legend should avoid.
fn draw_all<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    curves: &[(&Prepared, Look)],
) -> Result<Vec<Prepared>, String> {
    let mut drawn = Vec::with_capacity(curves.len());
    for &(p, look) in curves {
        let d = if look.marker.is_none() {
            as_drawn(chart, p)
        } else {
            p.clone()
        };
        draw_data(chart, &d, look)?;
        drawn.push(d);
    }
    Ok(drawn)
}

fn obstacles_of<'d>(drawn: &'d [(Prepared, bool)]) -> Vec<Obstacle<'d>> {
    drawn
        .iter()
        .flat_map(|(p, joined)| p.runs.iter().map(move |r| (r.as_slice(), *joined)))
        .collect()
}

/// Draws a point cloud as dots of radius [`DOT_RADIUS`], decimated in pixel space: each point
/// marks the pixel of the plotting area it falls in, each marked pixel is inked once with a
/// dot, and the inked area is drawn as rectangles (horizontal runs of inked pixels, merged
/// with identical runs in the rows below). Cost and file size thus depend on the covered area,
/// not on the number of points. Returns the centres of the marked pixels in data coordinates
/// (for legend placement).
fn draw_cloud<'a, DB: DrawingBackend + 'a>(
    chart: &Chart<'a, DB>,
    xs: &[f64],
    ys: &[f64],
    color: RGBColor,
) -> Result<Vec<(f64, f64)>, String> {
    let area = chart.plotting_area();
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as usize, h as usize);
    if w == 0 || h == 0 {
        return Ok(Vec::new());
    }
    let to_pixels = pixel_map(chart);
    let mut marked = vec![false; w * h];
    for (&x, &y) in xs.iter().zip(ys) {
        let (px, py) = to_pixels(&(x, y));
        // Also false for NaN (non-finite data).
        if px >= 0.0 && py >= 0.0 && px <= w as f64 && py <= h as f64 {
            let (i, j) = ((px as usize).min(w - 1), (py as usize).min(h - 1));
            marked[j * w + i] = true;
        }
    }
    let reach = DOT_RADIUS.floor() as isize;
    let offsets: Vec<(isize, isize)> = (-reach..=reach)
        .flat_map(|dy| (-reach..=reach).map(move |dx| (dx, dy)))
        .filter(|&(dx, dy)| ((dx * dx + dy * dy) as f64) <= DOT_RADIUS * DOT_RADIUS)
        .collect();
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let mut ink = vec![false; w * h];
    let mut centres = Vec::new();
    for (k, _) in marked.iter().enumerate().filter(|(_, &m)| m) {
        let (i, j) = ((k % w) as isize, (k / w) as isize);
        centres.push((
            xr.start + (i as f64 + 0.5) / w as f64 * (xr.end - xr.start),
            yr.end - (j as f64 + 0.5) / h as f64 * (yr.end - yr.start),
        ));
        for &(dx, dy) in &offsets {
            let (a, b) = (i + dx, j + dy);
            if a >= 0 && b >= 0 && (a as usize) < w && (b as usize) < h {
                ink[b as usize * w + a as usize] = true;
            }
        }
    }
    drop(marked);

    let pixels = area.strip_coord_spec();
    let style = color.filled();
    // Both backends fill [x0, x1) × [y0, y1) for an opaque filled rectangle.
    let fill = |x0: usize, x1: usize, y0: usize, y1: usize| {
        pixels
            .draw(&Rectangle::new(
                [(x0 as i32, y0 as i32), (x1 as i32, y1 as i32)],
                style,
            ))
            .map_err(draw_err)
    };
    // Open rectangles (x0, x1, first row), sorted by x0.
    let mut open: Vec<(usize, usize, usize)> = Vec::new();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for j in 0..=h {
        runs.clear();
        if j < h {
            let row = &ink[j * w..(j + 1) * w];
            let mut i = 0;
            while i < w {
                if row[i] {
                    let start = i;
                    while i < w && row[i] {
                        i += 1;
                    }
                    runs.push((start, i));
                } else {
                    i += 1;
                }
            }
        }
        let mut next = Vec::with_capacity(runs.len());
        let mut k = 0;
        for &(x0, x1) in &runs {
            while k < open.len() && open[k].0 < x0 {
                fill(open[k].0, open[k].1, open[k].2, j)?;
                k += 1;
            }
            if k < open.len() && open[k].0 == x0 && open[k].1 == x1 {
                next.push(open[k]);
                k += 1;
            } else {
                next.push((x0, x1, j));
            }
        }
        for &(x0, x1, y0) in &open[k..] {
            fill(x0, x1, y0, j)?;
        }
        open = next;
    }
    Ok(centres)
}

/// Streams the finite points of a (possibly huge) series into bounds, checking its lengths.
fn include_points(
    what: &str,
    s: &Series,
    bx: &mut Bounds,
    by: &mut Bounds,
) -> Result<(), PlotError> {
    if s.x.len() != s.y.len() {
        return Err(PlotError::InvalidInput(format!(
            "{what} '{}': x has {} values but y has {}",
            s.label,
            s.x.len(),
            s.y.len()
        )));
    }
    for (&x, &y) in s.x.iter().zip(&s.y) {
        if x.is_finite() && y.is_finite() {
            bx.include(x);
            by.include(y);
        }
    }
    Ok(())
}

/// `s` with x (if `log_x`) and y (if `log_y`) replaced by their log10; values that are not
/// finite and positive become NaN, so they are skipped and break the line.
fn to_log_series(s: &Series, log_x: bool, log_y: bool) -> Series {
    let map = |v: &Vec<f64>, log: bool| -> Vec<f64> {
        if !log {
            return v.clone();
        }
        v.iter()
            .map(|&a| {
                if a.is_finite() && a > 0.0 {
                    a.log10()
                } else {
                    f64::NAN
                }
            })
            .collect()
    };
    Series {
        label: s.label.clone(),
        x: map(&s.x, log_x),
        y: map(&s.y, log_y),
    }
}

/// Colour `i` of `n` ordered series (e.g. growing N), from orange through vermillion and
/// purple to blue.
fn ramp_colour(i: usize, n: usize) -> RGBColor {
    const STOPS: [RGBColor; 4] = [OI_ORANGE, OI_VERMILLION, OI_PURPLE, OI_BLUE];
    if n <= 1 {
        return OI_BLUE;
    }
    let t = (i.min(n - 1) as f64 / (n - 1) as f64) * (STOPS.len() - 1) as f64;
    let k = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - k as f64;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    let mix = |p: u8, q: u8| (p as f64 + f * (q as f64 - p as f64)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

struct BranchesPanelPrepared<'f> {
    title: String,
    states: &'f Series,
    /// The states' legend label, empty if an earlier panel shows it already.
    states_label: String,
    window: Prepared,
}

struct BranchesPrepared<'f> {
    panels: Vec<BranchesPanelPrepared<'f>>,
    x: (f64, f64),
    y: (f64, f64),
    title: String,
    size: (u32, u32),
    grid: (usize, usize),
}

fn window_look() -> Look {
    line_look(OI_VERMILLION, 3, false)
}

impl<'f> BranchesPrepared<'f> {
    fn new(fig: &'f BranchesFigure) -> Result<Self, PlotError> {
        if fig.panels.len() > MAX_PANELS {
            return Err(PlotError::InvalidInput(format!(
                "{} panels requested, at most {MAX_PANELS} can be drawn",
                fig.panels.len()
            )));
        }
        let (mut bx, mut by) = (Bounds::empty(), Bounds::empty());
        let mut panels = Vec::with_capacity(fig.panels.len());
        let (mut seen_states, mut seen_window) = (Vec::new(), Vec::new());
        for panel in &fig.panels {
            include_points("states", &panel.states, &mut bx, &mut by)?;
            let mut window = Prepared::new("window", &panel.window)?;
            for (x, y) in window.points() {
                bx.include(x);
                by.include(y);
            }
            let mut states_label = panel.states.label.clone();
            for (label, seen) in [
                (&mut states_label, &mut seen_states),
                (&mut window.label, &mut seen_window),
            ] {
                if seen.contains(label) {
                    label.clear();
                } else {
                    seen.push(label.clone());
                }
            }
            panels.push(BranchesPanelPrepared {
                title: format!("N = {}", panel.particles),
                states: &panel.states,
                states_label,
                window,
            });
        }
        let pad_lo = if !by.is_empty() && by.lo < 0.0 {
            0.05
        } else {
            0.0
        };
        if !by.is_empty() {
            by.include(0.0);
        }
        let (size, grid) = panel_grid(panels.len(), !fig.title.is_empty());
        Ok(BranchesPrepared {
            x: bx.axis(0.03, 0.03, "energy per particle")?,
            y: by.axis(pad_lo, 0.06, "temperature")?,
            panels,
            title: fig.title.clone(),
            size,
            grid,
        })
    }
}

impl Figure for BranchesPrepared<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let axes = Axes {
            x: self.x,
            y: self.y,
            x_desc: "E/N (Ha)",
            y_desc: "T (Ha)",
            top: None,
            right: None,
            log_x: false,
            log_y: false,
        };
        let area = prepare_canvas(root, optional_title(&self.title))?;
        let cells = area.split_evenly(self.grid);
        if self.panels.is_empty() {
            let mut chart = build_chart(&cells[0], &axes)?;
            finish_chart(&mut chart, &axes, &[], &[])?;
        }
        let points_look = temperature_look(TemperatureFigure::KINETIC);
        for (panel, cell) in self.panels.iter().zip(&cells) {
            let body = title_strip(cell, &panel.title, PANEL_TITLE_SIZE, PANEL_TITLE_STRIP)?;
            let mut chart = build_chart(&body, &axes)?;
            let dots = draw_cloud(&chart, &panel.states.x, &panel.states.y, OI_BLACK)?;
            let window = draw_all(&mut chart, &[(&panel.window, window_look())])?;
            add_legend_entry(&mut chart, &panel.states_label, points_look)?;
            add_legend_entry(&mut chart, &panel.window.label, window_look())?;
            let mut obstacles: Vec<Obstacle<'_>> = vec![(dots.as_slice(), false)];
            obstacles.extend(window[0].runs.iter().map(|r| (r.as_slice(), true)));
            let labels = [panel.states_label.as_str(), panel.window.label.as_str()];
            finish_chart(&mut chart, &axes, &labels, &obstacles)?;
        }
        root.present().map_err(draw_err)
    }

    fn size(&self) -> (u32, u32) {
        self.size
    }
}

struct EntropyPrepared {
    /// Interleaved microcanonical / canonical curves, in legend order.
    curves: Vec<(Prepared, Look)>,
    x: (f64, f64),
    y: (f64, f64),
    title: String,
}

impl EntropyPrepared {
    fn new(fig: &EntropyFigure) -> Result<Self, PlotError> {
        let mut curves = Vec::new();
        for i in 0..fig.microcanonical.len().max(fig.canonical.len()) {
            let color = PALETTE[i % PALETTE.len()];
            for (list, what, dashed) in [
                (&fig.microcanonical, "microcanonical entropy", false),
                (&fig.canonical, "canonical entropy", true),
            ] {
                if let Some(s) = list.get(i) {
                    let p = Prepared::new(what, s)?;
                    if !p.is_blank() {
                        curves.push((p, line_look(color, 3, dashed)));
                    }
                }
            }
        }
        let (bx, by) = bounds_of(curves.iter().map(|(p, _)| p));
        Ok(EntropyPrepared {
            x: bx.axis(0.03, 0.03, "energy per particle")?,
            y: by.axis(0.05, 0.06, "entropy per particle")?,
            curves,
            title: fig.title.clone(),
        })
    }
}

impl Figure for EntropyPrepared {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let axes = Axes {
            x: self.x,
            y: self.y,
            x_desc: "E/N (Ha)",
            y_desc: "S/N (k_B)",
            top: None,
            right: None,
            log_x: false,
            log_y: false,
        };
        let area = prepare_canvas(root, optional_title(&self.title))?;
        let mut chart = build_chart(&area, &axes)?;
        let curves: Vec<(&Prepared, Look)> = self.curves.iter().map(|(p, l)| (p, *l)).collect();
        let drawn = draw_all(&mut chart, &curves)?;
        for (p, look) in &self.curves {
            add_legend_entry(&mut chart, &p.label, *look)?;
        }
        let drawn: Vec<(Prepared, bool)> = drawn.into_iter().map(|p| (p, true)).collect();
        let labels: Vec<&str> = self.curves.iter().map(|(p, _)| p.label.as_str()).collect();
        finish_chart(&mut chart, &axes, &labels, &obstacles_of(&drawn))?;
        root.present().map_err(draw_err)
    }
}

struct LimitPrepared {
    /// log10 N versus log10 drop.
    drops: Vec<(Prepared, Look)>,
    /// Entropies, then the canonical curve.
    entropies: Vec<(Prepared, Look)>,
    left: ((f64, f64), (f64, f64)),
    right: ((f64, f64), (f64, f64)),
    title: String,
}

impl LimitPrepared {
    fn new(fig: &LimitFigure) -> Result<Self, PlotError> {
        let mut drops = Vec::new();
        for (i, s) in fig.drops.iter().enumerate() {
            let p = Prepared::new("drop", &to_log_series(s, true, true))?;
            if !p.is_blank() {
                let look = Look {
                    color: PALETTE[i % PALETTE.len()],
                    line: Some(LineLook {
                        width: 3,
                        dashed: false,
                    }),
                    marker: Some(MarkerLook {
                        shape: MARKERS[i % MARKERS.len()],
                        filled: true,
                    }),
                };
                drops.push((p, look));
            }
        }
        let mut entropies = Vec::new();
        let n = fig.entropies.len();
        for (i, s) in fig.entropies.iter().enumerate() {
            let p = Prepared::new("entropy", s)?;
            if !p.is_blank() {
                entropies.push((p, line_look(ramp_colour(i, n), 3, false)));
            }
        }
        if let Some(s) = &fig.canonical {
            let p = Prepared::new("canonical entropy", s)?;
            if !p.is_blank() {
                entropies.push((p, line_look(OI_BLACK, 5, true)));
            }
        }
        let (lx, ly) = bounds_of(drops.iter().map(|(p, _)| p));
        let (rx, ry) = bounds_of(entropies.iter().map(|(p, _)| p));
        Ok(LimitPrepared {
            left: (
                lx.axis(0.05, 0.05, "particle number")?,
                ly.axis(0.08, 0.08, "drop")?,
            ),
            right: (
                rx.axis(0.03, 0.03, "energy per particle")?,
                ry.axis(0.05, 0.06, "entropy per particle")?,
            ),
            drops,
            entropies,
            title: fig.title.clone(),
        })
    }
}

impl Figure for LimitPrepared {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = prepare_canvas(root, optional_title(&self.title))?;
        let cells = area.split_evenly((1, 2));
        let panels = [
            (
                Axes {
                    x: self.left.0,
                    y: self.left.1,
                    x_desc: "N",
                    y_desc: "relative drop",
                    top: None,
                    right: None,
                    log_x: true,
                    log_y: true,
                },
                &self.drops,
            ),
            (
                Axes {
                    x: self.right.0,
                    y: self.right.1,
                    x_desc: "E/N (Ha)",
                    y_desc: "S/N (k_B)",
                    top: None,
                    right: None,
                    log_x: false,
                    log_y: false,
                },
                &self.entropies,
            ),
        ];
        for ((axes, curves), cell) in panels.iter().zip(&cells) {
            let mut chart = build_chart(cell, axes)?;
            let list: Vec<(&Prepared, Look)> = curves.iter().map(|(p, l)| (p, *l)).collect();
            let drawn = draw_all(&mut chart, &list)?;
            for (p, look) in curves.iter() {
                add_legend_entry(&mut chart, &p.label, *look)?;
            }
            let drawn: Vec<(Prepared, bool)> = drawn.into_iter().map(|p| (p, true)).collect();
            let labels: Vec<&str> = curves.iter().map(|(p, _)| p.label.as_str()).collect();
            finish_chart(&mut chart, axes, &labels, &obstacles_of(&drawn))?;
        }
        root.present().map_err(draw_err)
    }

    fn size(&self) -> (u32, u32) {
        (2 * PANEL_WIDTH, HEIGHT)
    }
}

// ---------------------------------------------------------------------------------------------
// Files

static FONT_REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers DejaVu Sans as plotters' "sans-serif" family, once per process.
fn ensure_font() -> Result<(), PlotError> {
    FONT_REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font could not be parsed".to_string())
        })
        .clone()
        .map_err(PlotError::Font)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn with_extension_appended(stem: &Path, ext: &str) -> PathBuf {
    let mut s: OsString = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// A hidden, process- and call-unique temporary name next to the final file; it keeps the
/// real extension last because the PNG encoder picks the format from it.
fn temp_path(dir: &Path, name: &std::ffi::OsStr, ext: &str) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut s = OsString::from(".");
    s.push(name);
    s.push(format!(".{}-{n}.tmp.{ext}", std::process::id()));
    dir.join(s)
}

fn io_err(path: &Path, e: std::io::Error) -> PlotError {
    PlotError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn commit(tmp: &Path, path: &Path) -> Result<(), PlotError> {
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        io_err(path, e)
    })
}

fn write_figure<F: Figure>(
    stem: &Path,
    out: &FigureOutput,
    fig: &F,
) -> Result<Vec<PathBuf>, PlotError> {
    if !out.png && !out.svg {
        return Ok(Vec::new());
    }
    let name = stem.file_name().ok_or_else(|| {
        PlotError::InvalidInput(format!("figure stem '{}' has no file name", stem.display()))
    })?;
    let dir = match stem.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    ensure_font()?;

    let mut written = Vec::new();
    if out.png {
        let path = with_extension_appended(stem, "png");
        let tmp = temp_path(&dir, name, "png");
        let result = {
            let root = BitMapBackend::new(&tmp, fig.size()).into_drawing_area();
            fig.draw(&root)
        };
        // The backend is dropped here; on failure it may have left a partial temporary file.
        if let Err(message) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(PlotError::Draw { path, message });
        }
        commit(&tmp, &path)?;
        written.push(path);
    }
    if out.svg {
        let path = with_extension_appended(stem, "svg");
        let mut text = String::new();
        let result = {
            let root = SVGBackend::with_string(&mut text, fig.size()).into_drawing_area();
            fig.draw(&root)
        };
        if let Err(message) = result {
            return Err(PlotError::Draw { path, message });
        }
        let tmp = temp_path(&dir, name, "svg");
        if let Err(e) = std::fs::write(&tmp, text.as_bytes()) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(&path, e));
        }
        commit(&tmp, &path)?;
        written.push(path);
    }
    Ok(written)
}
