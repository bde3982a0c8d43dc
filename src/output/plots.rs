//! Figures of the paper (figs. 1–3) as PNG and/or SVG files, drawn with `plotters`.
//!
//! This module takes plain data (no dependency on the physics modules) and writes files:
//!
//! * [`kinetic_figure`] — fig. 1, ⟨K⟩_n versus E_n for several parameter sets;
//! * [`density_figure`] — fig. 2, |ψ_n(x)|² of a few states with V(x) on a right-hand axis;
//! * [`temperature_figure`] — fig. 3, T^(K), T^(μ), T^(C) (and optionally T_E^(K)) versus E,
//!   with secondary axes in eV (top) and K (right).
//!
//! Conventions and guarantees:
//!
//! * Units are those named on the axes (atomic units: Hartree, bohr; k_B = 1).
//! * PNG files are 1600×1000 px; SVG files have the same logical size. Text uses DejaVu Sans,
//!   embedded through the `dejavu` crate and registered once with plotters' `ab_glyph` font
//!   table, so no system font library is needed. SVG text names the generic `sans-serif` family.
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
//! * Axis ranges follow the data (with a small pad); a single wild outlier therefore
//!   compresses the rest of a curve: filter such points before plotting if that matters.
//! * With both formats requested, the PNG is written first; if the SVG then fails, the PNG
//!   stays and the error is returned.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use plotters::chart::DualCoordChartContext;
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
// Chart scaffolding shared by the three figures

type Coords = Cartesian2d<RangedCoordf64, RangedCoordf64>;
type Chart<'a, DB> = DualCoordChartContext<'a, DB, Coords, Coords>;

/// A secondary axis: range and description.
struct SecondaryAxis<'s> {
    range: (f64, f64),
    desc: &'s str,
}

struct Axes<'s> {
    x: (f64, f64),
    y: (f64, f64),
    x_desc: &'s str,
    y_desc: &'s str,
    top: Option<SecondaryAxis<'s>>,
    right: Option<SecondaryAxis<'s>>,
}

/// Fills the canvas white, draws the title (if any) in a strip at the top, and returns the
/// area left for the chart.
fn prepare_canvas<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: Option<&str>,
) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(draw_err)?;
    let Some(title) = title else {
        return Ok(root.clone());
    };
    let (strip, body) = root.split_vertically(TITLE_STRIP);
    let (w, h) = strip.dim_in_pixel();
    let style = TextStyle::from((FONT, TITLE_SIZE).into_font())
        .pos(Pos::new(HPos::Center, VPos::Center))
        .color(&BLACK);
    strip
        .draw_text(title, &style, (w as i32 / 2, h as i32 / 2 + 6))
        .map_err(draw_err)?;
    Ok(body)
}

/// Width (or height, for `vertical == false`) of the label area that holds tick labels
/// formatted by `fmt` on [lo, hi] plus the axis description, with a little air.
fn label_area_size(fmt: TickFormat, lo: f64, hi: f64, vertical: bool) -> u32 {
    let tick_font = (FONT, TICK_LABEL_SIZE).into_font();
    let desc = (AXIS_DESC_SIZE as f64 * 1.15).round() as u32;
    let labels = if vertical {
        [lo, hi, 0.5 * (lo + hi), 0f64.clamp(lo.min(hi), lo.max(hi))]
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
    let fx = TickFormat::new(axes.x.0, axes.x.1, N_X_LABELS);
    let fy = TickFormat::new(axes.y.0, axes.y.1, N_Y_LABELS);
    let sx = axes.top.as_ref().map_or(axes.x, |a| a.range);
    let sy = axes.right.as_ref().map_or(axes.y, |a| a.range);
    let fsx = TickFormat::new(sx.0, sx.1, N_X_LABELS);
    let fsy = TickFormat::new(sy.0, sy.1, N_Y_LABELS);

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
        .build_cartesian_2d(axes.x.0..axes.x.1, axes.y.0..axes.y.1)
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

/// Draws the lines and markers of one prepared series.
fn draw_data<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    series: &Prepared,
    look: Look,
) -> Result<(), String> {
    if let Some(line) = look.line {
        let style = look.color.stroke_width(line.width);
        let to_pixels = pixel_map(chart);
        for run in series.runs.iter().filter(|r| r.len() >= 2) {
            let run = simplify(run, &to_pixels, SIMPLIFY_TOLERANCE_PX);
            if line.dashed {
                chart
                    .draw_series(DashedLineSeries::new(run.iter().copied(), 18, 10, style))
                    .map_err(draw_err)?;
            } else {
                chart
                    .draw_series(LineSeries::new(run.iter().copied(), style))
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
// The three figures

/// A figure that can draw itself on any plotters backend.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
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
            let root = BitMapBackend::new(&tmp, (WIDTH, HEIGHT)).into_drawing_area();
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
            let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
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
