//! Each figure kind as data: its [`Layout`] (canvas, panels, axes and styled curves) built
//! from the figure's plain data. Adding a kind of figure means adding its builder here.

use super::axes::{Axes, SecondaryAxis};
use super::prepare::{bounds_of, check_factor, include_points, to_log_series, Bounds, Prepared};
use super::render::{Cloud, Curve, Layout, Panel};
use super::style::*;
use super::{
    BranchesFigure, DensityFigure, EntropyFigure, Figure, KineticFigure, LimitFigure, PlotError,
    TemperatureFigure, XyFigure,
};

/// The layout of any figure kind.
pub(super) fn layout(figure: Figure<'_>) -> Result<Layout<'_>, PlotError> {
    match figure {
        Figure::Kinetic(f) => kinetic(f),
        Figure::Density(f) => density(f),
        Figure::Temperature(f) => temperature(f),
        Figure::Branches(f) => branches(f),
        Figure::Entropy(f) => entropy(f),
        Figure::Limit(f) => limit(f),
        Figure::Xy(f) => xy(f),
    }
}

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

fn optional_title(title: &str) -> Option<String> {
    (!title.is_empty()).then(|| title.to_string())
}

/// Linear axes with the given ranges and descriptions, no secondary axes.
fn plain_axes<'f>(x: (f64, f64), y: (f64, f64), x_desc: &'f str, y_desc: &'f str) -> Axes<'f> {
    Axes {
        x,
        y,
        x_desc,
        y_desc,
        top: None,
        right: None,
        log_x: false,
        log_y: false,
    }
}

/// One untitled panel filling the standard canvas.
fn single<'f>(title: Option<String>, panel: Panel<'f>) -> Layout<'f> {
    Layout {
        size: (WIDTH, HEIGHT),
        title,
        grid: (1, 1),
        panels: vec![panel],
    }
}

/// A panel of curves drawn as given (no decimation before drawing), without a cloud or title.
fn curves_panel(axes: Axes<'_>, curves: Vec<Curve>) -> Panel<'_> {
    Panel {
        title: None,
        axes,
        cloud: None,
        curves,
        decimate: false,
    }
}

/// Series `i` of a list: palette colour and marker shape, joined by a line.
fn series_look(i: usize, width: u32, dashed: bool, filled: bool) -> Look {
    Look {
        color: PALETTE[i % PALETTE.len()],
        line: Some(LineLook { width, dashed }),
        marker: Some(MarkerLook {
            shape: MARKERS[i % MARKERS.len()],
            filled,
        }),
    }
}

/// A line-only look in the given colour.
fn line_look(color: RGBColor, width: u32, dashed: bool) -> Look {
    Look {
        color,
        line: Some(LineLook { width, dashed }),
        marker: None,
    }
}

fn kinetic(fig: &KineticFigure) -> Result<Layout<'_>, PlotError> {
    let series = fig
        .series
        .iter()
        .map(|s| Prepared::new("series", s))
        .collect::<Result<Vec<_>, _>>()?;
    let (bx, by) = bounds_of(series.iter());
    let axes = plain_axes(
        bx.axis(0.04, 0.04, "energy")?,
        by.axis(0.06, 0.06, "kinetic energy")?,
        "E_n (Ha)",
        "⟨K⟩_n (Ha)",
    );
    let curves = series
        .into_iter()
        .enumerate()
        .map(|(i, p)| Curve::new(p, series_look(i, 2, false, true)))
        .collect();
    Ok(single(None, curves_panel(axes, curves)))
}

fn xy(fig: &XyFigure) -> Result<Layout<'_>, PlotError> {
    let series = fig
        .series
        .iter()
        .map(|s| Prepared::new("series", &to_log_series(s, fig.log_x, fig.log_y)))
        .collect::<Result<Vec<_>, _>>()?;
    let (bx, by) = bounds_of(series.iter());
    let mut axes = plain_axes(
        bx.axis(0.04, 0.04, &fig.x_label)?,
        by.axis(0.06, 0.06, &fig.y_label)?,
        &fig.x_label,
        &fig.y_label,
    );
    axes.log_x = fig.log_x;
    axes.log_y = fig.log_y;
    // Past the palette, series repeat its colours with dashed lines and open markers.
    let curves = series
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let first_round = i < PALETTE.len();
            Curve::new(p, series_look(i, 2, !first_round, first_round))
        })
        .collect();
    Ok(single(
        optional_title(&fig.title),
        curves_panel(axes, curves),
    ))
}

fn density(fig: &DensityFigure) -> Result<Layout<'_>, PlotError> {
    let states = fig
        .states
        .iter()
        .map(|s| Prepared::new("state", s))
        .collect::<Result<Vec<_>, _>>()?;
    let potential_runs = super::prepare::finite_runs("potential", "V(x)", &fig.x, &fig.potential)?;
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
    // V(x) mapped into the primary (density) coordinates.
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
    let mut axes = plain_axes(x, y, "x (bohr)", "|ψ|² (1/bohr)");
    axes.right = Some(SecondaryAxis {
        range: v,
        desc: "V (Ha)",
    });
    // The states on top of the potential, which comes last in the legend.
    let mut curves: Vec<Curve> = states
        .into_iter()
        .enumerate()
        .map(|(i, p)| Curve {
            data: p,
            look: line_look(STATE_COLOURS[i % STATE_COLOURS.len()], 3, false),
            layer: 1,
        })
        .collect();
    curves.push(Curve::new(potential, line_look(POTENTIAL_GREY, 3, true)));
    Ok(single(None, curves_panel(axes, curves)))
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

/// The look of curve `index` of a [`TemperatureFigure`] (see its slot table).
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
        TemperatureFigure::CANONICAL => line_look(OI_BLUE, 4, false),
        TemperatureFigure::KINETIC_WINDOW => line_look(OI_GREEN, 3, true),
        k => line_look([OI_PURPLE, OI_ORANGE, OI_SKY_BLUE][(k - 4) % 3], 3, false),
    }
}

fn temperature(fig: &TemperatureFigure) -> Result<Layout<'_>, PlotError> {
    check_factor("ev_per_hartree", fig.ev_per_hartree)?;
    check_factor("kelvin_per_hartree", fig.kelvin_per_hartree)?;
    let mut curves = Vec::new();
    for (i, s) in fig.curves.iter().enumerate() {
        let p = Prepared::new("curve", s)?;
        if !p.is_blank() {
            let look = temperature_look(i);
            // Lines first, markers on top of them.
            let layer = u8::from(look.marker.is_some());
            curves.push(Curve {
                data: p,
                look,
                layer,
            });
        }
    }
    let (bx, by) = bounds_of(curves.iter().map(|c| &c.data));
    let x = bx.axis(0.03, 0.03, "energy")?;
    let y = by.temperature_axis()?;
    let top = (x.0 * fig.ev_per_hartree, x.1 * fig.ev_per_hartree);
    let right = (y.0 * fig.kelvin_per_hartree, y.1 * fig.kelvin_per_hartree);
    for (name, (lo, hi)) in [("energy in eV", top), ("temperature in K", right)] {
        if !(lo.is_finite() && hi.is_finite() && (hi - lo).is_finite() && hi > lo) {
            return Err(PlotError::InvalidInput(format!(
                "the {name} axis [{lo}, {hi}] cannot be drawn"
            )));
        }
    }
    let mut axes = plain_axes(x, y, "E (Ha)", "T (Ha)");
    axes.top = Some(SecondaryAxis {
        range: top,
        desc: "E (eV)",
    });
    axes.right = Some(SecondaryAxis {
        range: right,
        desc: "T (K)",
    });
    Ok(single(
        optional_title(&fig.title),
        curves_panel(axes, curves),
    ))
}

fn branches(fig: &BranchesFigure) -> Result<Layout<'_>, PlotError> {
    if fig.panels.len() > MAX_PANELS {
        return Err(PlotError::InvalidInput(format!(
            "{} panels requested, at most {MAX_PANELS} can be drawn",
            fig.panels.len()
        )));
    }
    let (mut bx, mut by) = (Bounds::empty(), Bounds::empty());
    let mut prepared = Vec::with_capacity(fig.panels.len());
    let (mut seen_states, mut seen_window) = (Vec::new(), Vec::new());
    for panel in &fig.panels {
        include_points("states", &panel.states, &mut bx, &mut by)?;
        let mut window = Prepared::new("window", &panel.window)?;
        for (x, y) in window.points() {
            bx.include(x);
            by.include(y);
        }
        // A label is shown in the first panel that has it only.
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
        prepared.push((panel, states_label, window));
    }
    let x = bx.axis(0.03, 0.03, "energy per particle")?;
    let y = by.temperature_axis()?;
    let (size, grid) = panel_grid(prepared.len(), !fig.title.is_empty());
    let mut panels: Vec<Panel<'_>> = prepared
        .into_iter()
        .map(|(panel, states_label, window)| Panel {
            title: Some(format!("N = {}", panel.particles)),
            axes: plain_axes(x, y, "E/N (Ha)", "T (Ha)"),
            cloud: Some(Cloud {
                x: &panel.states.x,
                y: &panel.states.y,
                color: OI_BLACK,
                label: states_label,
                legend_look: temperature_look(TemperatureFigure::KINETIC),
            }),
            curves: vec![Curve::new(window, line_look(OI_VERMILLION, 3, false))],
            decimate: true,
        })
        .collect();
    if panels.is_empty() {
        // An empty, labelled frame.
        panels.push(curves_panel(
            plain_axes(x, y, "E/N (Ha)", "T (Ha)"),
            Vec::new(),
        ));
    }
    Ok(Layout {
        size,
        title: optional_title(&fig.title),
        grid,
        panels,
    })
}

fn entropy(fig: &EntropyFigure) -> Result<Layout<'_>, PlotError> {
    // Interleaved microcanonical / canonical curves, in legend order.
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
                    curves.push(Curve::new(p, line_look(color, 3, dashed)));
                }
            }
        }
    }
    let (bx, by) = bounds_of(curves.iter().map(|c| &c.data));
    let axes = plain_axes(
        bx.axis(0.03, 0.03, "energy per particle")?,
        by.axis(0.05, 0.06, "entropy per particle")?,
        "E/N (Ha)",
        "S/N (k_B)",
    );
    let mut panel = curves_panel(axes, curves);
    panel.decimate = true;
    Ok(single(optional_title(&fig.title), panel))
}

fn limit(fig: &LimitFigure) -> Result<Layout<'_>, PlotError> {
    // log10 N versus log10 drop.
    let mut drops = Vec::new();
    for (i, s) in fig.drops.iter().enumerate() {
        let p = Prepared::new("drop", &to_log_series(s, true, true))?;
        if !p.is_blank() {
            drops.push(Curve::new(p, series_look(i, 3, false, true)));
        }
    }
    // Entropies, then the canonical curve.
    let mut entropies = Vec::new();
    let n = fig.entropies.len();
    for (i, s) in fig.entropies.iter().enumerate() {
        let p = Prepared::new("entropy", s)?;
        if !p.is_blank() {
            entropies.push(Curve::new(p, line_look(ramp_colour(i, n), 3, false)));
        }
    }
    if let Some(s) = &fig.canonical {
        let p = Prepared::new("canonical entropy", s)?;
        if !p.is_blank() {
            entropies.push(Curve::new(p, line_look(OI_BLACK, 5, true)));
        }
    }
    let (lx, ly) = bounds_of(drops.iter().map(|c| &c.data));
    let (rx, ry) = bounds_of(entropies.iter().map(|c| &c.data));
    let mut left = plain_axes(
        lx.axis(0.05, 0.05, "particle number")?,
        ly.axis(0.08, 0.08, "drop")?,
        "N",
        "relative drop",
    );
    left.log_x = true;
    left.log_y = true;
    let right = plain_axes(
        rx.axis(0.03, 0.03, "energy per particle")?,
        ry.axis(0.05, 0.06, "entropy per particle")?,
        "E/N (Ha)",
        "S/N (k_B)",
    );
    let panels = [(left, drops), (right, entropies)]
        .into_iter()
        .map(|(axes, curves)| {
            let mut panel = curves_panel(axes, curves);
            panel.decimate = true;
            panel
        })
        .collect();
    Ok(Layout {
        size: (2 * PANEL_WIDTH, HEIGHT),
        title: optional_title(&fig.title),
        grid: (1, 2),
        panels,
    })
}
