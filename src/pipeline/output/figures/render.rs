//! The one renderer: draws a [`Layout`] (a canvas of panels, each with its axes, an optional
//! point cloud and styled curves) on any plotters backend. Every figure kind is such a layout
//! ([`super::kinds`]); nothing here knows which kind it draws.

use super::axes::{build_chart, draw_err, prepare_canvas, title_strip, Axes, Chart};
use super::prepare::Prepared;
use super::simplify::{line_points, split_at_sharp_turns};
use super::style::*;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A figure as drawn: canvas size, optional title strip, and panels laid out on a grid.
pub(super) struct Layout<'f> {
    /// Canvas size in pixels (PNG) or logical units (SVG).
    pub(super) size: (u32, u32),
    /// Title drawn in a strip at the top of the canvas.
    pub(super) title: Option<String>,
    /// (rows, columns) of the panel grid; the panels fill it row by row.
    pub(super) grid: (usize, usize),
    /// The panels, at least one.
    pub(super) panels: Vec<Panel<'f>>,
}

/// One chart of a layout.
pub(super) struct Panel<'f> {
    /// Title drawn in a strip at the top of the panel.
    pub(super) title: Option<String>,
    /// Ranges, descriptions, secondary and log axes.
    pub(super) axes: Axes<'f>,
    /// A point cloud drawn first, decimated in pixel space ([`draw_cloud`]).
    pub(super) cloud: Option<Cloud<'f>>,
    /// The curves, in legend order.
    pub(super) curves: Vec<Curve>,
    /// Line-only curves are first reduced to the points they draw ([`as_drawn`]), and the
    /// legend avoids those (for very long curves); otherwise each curve is drawn as given.
    pub(super) decimate: bool,
}

/// A point cloud (millions of points allowed) and its legend entry.
pub(super) struct Cloud<'f> {
    pub(super) x: &'f [f64],
    pub(super) y: &'f [f64],
    pub(super) color: RGBColor,
    /// Legend label (none when empty) and the look of its legend glyph.
    pub(super) label: String,
    pub(super) legend_look: Look,
}

/// A styled curve.
pub(super) struct Curve {
    pub(super) data: Prepared,
    pub(super) look: Look,
    /// Drawing order: lower layers first, then by position (the legend keeps curve order).
    pub(super) layer: u8,
}

impl Curve {
    /// A curve on the bottom layer.
    pub(super) fn new(data: Prepared, look: Look) -> Self {
        Curve {
            data,
            look,
            layer: 0,
        }
    }
}

/// Draws `layout` on `root`.
pub(super) fn draw_layout<DB: DrawingBackend>(
    layout: &Layout<'_>,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let area = prepare_canvas(root, layout.title.as_deref())?;
    let cells = area.split_evenly(layout.grid);
    for (panel, cell) in layout.panels.iter().zip(&cells) {
        draw_panel(panel, cell)?;
    }
    root.present().map_err(draw_err)
}

/// Draws one panel: title strip, axes, cloud, curves (by layer), legend in the least crowded
/// place.
fn draw_panel<DB: DrawingBackend>(
    panel: &Panel<'_>,
    cell: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let body = match &panel.title {
        Some(title) => title_strip(cell, title, PANEL_TITLE_SIZE, PANEL_TITLE_STRIP)?,
        None => cell.clone(),
    };
    let mut chart = build_chart(&body, &panel.axes)?;
    let dots = match &panel.cloud {
        Some(c) => draw_cloud(&chart, c.x, c.y, c.color)?,
        None => Vec::new(),
    };
    let mut order: Vec<usize> = (0..panel.curves.len()).collect();
    order.sort_by_key(|&i| (panel.curves[i].layer, i));
    let mut drawn: Vec<Option<Prepared>> = vec![None; panel.curves.len()];
    for i in order {
        let c = &panel.curves[i];
        if panel.decimate && c.look.marker.is_none() {
            let d = as_drawn(&chart, &c.data);
            draw_data(&mut chart, &d, c.look)?;
            drawn[i] = Some(d);
        } else {
            draw_data(&mut chart, &c.data, c.look)?;
        }
    }
    let mut labels: Vec<&str> = Vec::new();
    if let Some(c) = &panel.cloud {
        add_legend_entry(&mut chart, &c.label, c.legend_look)?;
        labels.push(&c.label);
    }
    for c in &panel.curves {
        add_legend_entry(&mut chart, &c.data.label, c.look)?;
        labels.push(&c.data.label);
    }
    let mut obstacles: Vec<Obstacle<'_>> = vec![(dots.as_slice(), false)];
    for (c, d) in panel.curves.iter().zip(&drawn) {
        let joined = c.look.line.is_some();
        let data = d.as_ref().unwrap_or(&c.data);
        obstacles.extend(data.runs.iter().map(|r| (r.as_slice(), joined)));
    }
    finish_chart(&mut chart, &panel.axes, &labels, &obstacles)
}

/// Maps data coordinates to (fractional) pixel coordinates of the plotting area.
pub(super) fn pixel_map<'a, DB: DrawingBackend + 'a>(
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

/// Draws the lines and markers of one prepared series. Thick lines are split at sharp turns
/// ([`split_at_sharp_turns`]) with a small disk on each split vertex: plotters fills a thick
/// polyline's outline polygon, which a run zigzagging within a few pixels (T^(μ), T_E^(K))
/// folds over itself, rendering with holes in PNG.
pub(super) fn draw_data<'a, DB: DrawingBackend + 'a>(
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
pub(super) fn add_legend_entry<'a, DB: DrawingBackend + 'a>(
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
pub(super) struct LegendGlyph {
    pub(super) segments: [Vec<(i32, i32)>; 2],
    pub(super) line_style: ShapeStyle,
    pub(super) marker: Vec<(i32, i32)>,
    pub(super) marker_fill: ShapeStyle,
    pub(super) marker_stroke: ShapeStyle,
}

impl LegendGlyph {
    pub(super) fn new(look: Look) -> Self {
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
pub(super) type Obstacle<'d> = (&'d [(f64, f64)], bool);

/// Draws the frame around the plotting area and the legend in the least crowded place.
pub(super) fn finish_chart<'a, DB: DrawingBackend + 'a>(
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
pub(super) fn legend_position<'a, DB: DrawingBackend + 'a>(
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

/// `p` as it is drawn on `chart` when drawn as a line only: each run through [`line_points`].
/// Used both to draw and to place the legend, so series of millions of points cost little.
pub(super) fn as_drawn<'a, DB: DrawingBackend + 'a>(
    chart: &Chart<'a, DB>,
    p: &Prepared,
) -> Prepared {
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

/// Draws a point cloud as dots of radius [`DOT_RADIUS`], decimated in pixel space: each point
/// marks the pixel of the plotting area it falls in, each marked pixel is inked once with a
/// dot, and the inked area is drawn as rectangles (horizontal runs of inked pixels, merged
/// with identical runs in the rows below). Cost and file size thus depend on the covered area,
/// not on the number of points. Returns the centres of the marked pixels in data coordinates
/// (for legend placement).
pub(super) fn draw_cloud<'a, DB: DrawingBackend + 'a>(
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
