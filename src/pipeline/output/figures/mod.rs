//! Figures of the paper (figs. 1–5, plus the thermodynamic limit) as PNG and/or SVG files,
//! drawn with `plotters`.
//!
//! This module takes plain data (no dependency on the physics modules) and writes files through
//! one entry point, [`write_figure`], whose argument names the kind of figure ([`Figure`]):
//!
//! * [`KineticFigure`] — fig. 1, ⟨K⟩_n versus E_n for several parameter sets;
//! * [`DensityFigure`] — fig. 2, |ψ_n(x)|² of a few states with V(x) on a right-hand axis;
//! * [`TemperatureFigure`] — fig. 3, T^(K), T^(μ), T^(C) (and optionally T_E^(K)) versus E,
//!   with secondary axes in eV (top) and K (right);
//! * [`BranchesFigure`] — fig. 4, T^(K) of every state (black dots, millions allowed) and
//!   T_E^(K) (red line) versus E/N, one panel per particle number;
//! * [`EntropyFigure`] — fig. 5, S/N versus E/N for several N with the canonical S_C/N dashed;
//! * [`LimitFigure`] — the finite-size drops versus N on log–log axes, next to S/N versus E/N
//!   for growing N converging to the canonical curve;
//! * [`XyFigure`] — a general x–y figure (the sweep summaries, the Coulomb comparison).
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
//! * Log axes (the left panel of a [`LimitFigure`]) tick at 1-2-5 or decade values; values
//!   that are not positive cannot be placed there and are skipped like non-finite ones.
//! * Dense data is decimated in pixel space before drawing: point clouds ink each covered
//!   pixel once, lines keep per-pixel-column extremes (when longer than a few points per
//!   column) and are then simplified to within a quarter pixel.
//! * Axis ranges follow the data (with a small pad); a single wild outlier therefore
//!   compresses the rest of a curve: filter such points before plotting if that matters.
//! * With both formats requested, the PNG is written first; if the SVG then fails, the PNG
//!   stays and the error is returned.
//!
//! The module is split by job: `prepare` cuts series into finite runs and bounds them, `axes`
//! makes ticks, axes and the canvas layout, `simplify` decimates dense lines in pixel space,
//! `style` holds colours, markers and line looks, `kinds` turns each figure kind into a
//! `Layout` (its panels, axes and styled curves: the kind as data), `render` draws any layout
//! and `file` writes the PNG/SVG files atomically. A new kind of figure is a data type here, a
//! variant of [`Figure`] and its layout builder in `kinds`.

mod axes;
mod file;
mod kinds;
mod prepare;
mod render;
mod simplify;
mod style;

use std::path::{Path, PathBuf};

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

/// A figure to draw: its kind and its data (borrowed, so that point clouds of millions of
/// points are not copied). Every figure type converts into it with `From`, so
/// `write_figure(stem, &fig, out)` accepts any kind.
#[derive(Debug, Clone, Copy)]
pub enum Figure<'a> {
    /// Fig. 1: ⟨K⟩_n versus E_n.
    Kinetic(&'a KineticFigure),
    /// Fig. 2: |ψ_n(x)|² and V(x).
    Density(&'a DensityFigure),
    /// Fig. 3: temperatures versus energy with eV / K secondary axes.
    Temperature(&'a TemperatureFigure),
    /// Fig. 4: T^(K) branches and T_E^(K) versus E/N, one panel per N.
    Branches(&'a BranchesFigure),
    /// Fig. 5: S/N versus E/N, microcanonical (solid) and canonical (dashed).
    Entropy(&'a EntropyFigure),
    /// Finite-size drops versus N (log–log) and S/N versus E/N for growing N.
    Limit(&'a LimitFigure),
    /// A general x–y figure.
    Xy(&'a XyFigure),
}

macro_rules! figure_from {
    ($($kind:ident($data:ty)),* $(,)?) => {
        $(impl<'a> From<&'a $data> for Figure<'a> {
            fn from(fig: &'a $data) -> Self {
                Figure::$kind(fig)
            }
        })*
    };
}

figure_from!(
    Kinetic(KineticFigure),
    Density(DensityFigure),
    Temperature(TemperatureFigure),
    Branches(BranchesFigure),
    Entropy(EntropyFigure),
    Limit(LimitFigure),
    Xy(XyFigure),
);

/// Draws `figure` (any kind, see [`Figure`]) into `stem.png` and/or `stem.svg` as `out` asks;
/// returns the paths written (none when `out` asks for neither format).
pub fn write_figure<'a>(
    stem: &Path,
    figure: impl Into<Figure<'a>>,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, PlotError> {
    let layout = kinds::layout(figure.into())?;
    file::write_layout(stem, out, &layout)
}
