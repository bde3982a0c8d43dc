//! Axes and layout: tick steps and labels (linear and log), the primary and secondary axes of a
//! chart, the canvas with its title strip, and the chart scaffolding built on an area.

use super::style::*;
use plotters::chart::DualCoordChartContext;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

// ---------------------------------------------------------------------------------------------
// Tick labels
/// The step between key points plotters chooses for `max_points` labels on [lo, hi]
/// (same algorithm as plotters' f64 key points), so labels get exactly the decimals they need.
pub(super) fn tick_step(lo: f64, hi: f64, max_points: usize) -> f64 {
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
pub(super) struct TickFormat {
    pub(super) decimals: usize,
    pub(super) scientific: Option<usize>,
}

impl TickFormat {
    pub(super) fn new(lo: f64, hi: f64, max_points: usize) -> Self {
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

    pub(super) fn format(&self, v: f64) -> String {
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
pub(super) enum TickLabels {
    Linear(TickFormat),
    Log(LogLabels),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum LogLabels {
    /// Decimals, as many as each value needs (0.005, 0.1, 20): all ticks in [1e-4, 1e6).
    Plain,
    /// "10⁻⁶", "2×10⁻⁶": some tick outside [1e-4, 1e6).
    Powers,
    /// Linear ticks of a narrow log range: the decimals of their step.
    Linear(TickFormat),
}

impl TickLabels {
    pub(super) fn new(range: (f64, f64), log: bool, max_points: usize) -> Self {
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

    pub(super) fn format(&self, v: f64) -> String {
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
pub(super) fn log_ticks(lo: f64, hi: f64, max_points: usize) -> (Vec<f64>, bool) {
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
pub(super) fn log_tick_label(t: f64, powers: bool) -> String {
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

pub(super) fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

// ---------------------------------------------------------------------------------------------
// Chart scaffolding shared by the figures

pub(super) type Coords = Cartesian2d<RangedCoordf64, RangedCoordf64>;
pub(super) type Primary = Cartesian2d<Axis, Axis>;
pub(super) type Chart<'a, DB> = DualCoordChartContext<'a, DB, Primary, Coords>;

/// A primary axis: plotters' linear f64 axis, or the same linear mapping of log10 values with
/// ticks at "nice" values of the un-logged quantity ([`log_ticks`]).
#[derive(Clone)]
pub(super) struct Axis {
    pub(super) linear: RangedCoordf64,
    pub(super) log: bool,
}

impl Axis {
    pub(super) fn new(range: (f64, f64), log: bool) -> Self {
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
pub(super) struct SecondaryAxis<'s> {
    pub(super) range: (f64, f64),
    pub(super) desc: &'s str,
}

/// Primary axes of a chart. With `log_x` / `log_y` the range and all data drawn on that axis
/// are log10 of the values shown (see [`to_log_series`]); ticks then sit at 1-2-5 or decade
/// values and are labelled with the values themselves.
pub(super) struct Axes<'s> {
    pub(super) x: (f64, f64),
    pub(super) y: (f64, f64),
    pub(super) x_desc: &'s str,
    pub(super) y_desc: &'s str,
    pub(super) top: Option<SecondaryAxis<'s>>,
    pub(super) right: Option<SecondaryAxis<'s>>,
    pub(super) log_x: bool,
    pub(super) log_y: bool,
}

/// Fills the canvas white, draws the title (if any) in a strip at the top, and returns the
/// area left for the chart.
pub(super) fn prepare_canvas<DB: DrawingBackend>(
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
pub(super) fn title_strip<DB: DrawingBackend>(
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
pub(super) fn label_area_size(fmt: TickLabels, lo: f64, hi: f64, vertical: bool) -> u32 {
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

pub(super) fn build_chart<'a, DB: DrawingBackend + 'a>(
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
