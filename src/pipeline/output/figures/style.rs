//! Look and feel: canvas and font sizes, the colour-blind-safe palette (Okabe–Ito), marker
//! shapes and the look (colour, line, marker) of a curve.

pub(super) use plotters::style::RGBColor;

pub(super) const WIDTH: u32 = 1600;
pub(super) const HEIGHT: u32 = 1000;
pub(super) const FONT: &str = "sans-serif";
pub(super) const AXIS_DESC_SIZE: i32 = 36;
pub(super) const TICK_LABEL_SIZE: i32 = 28;
pub(super) const LEGEND_SIZE: i32 = 28;
pub(super) const TITLE_SIZE: i32 = 40;
pub(super) const MARGIN: u32 = 30;
pub(super) const TICK_SIZE: i32 = 10;
pub(super) const LABEL_DESC_GAP: u32 = 18;
pub(super) const TITLE_STRIP: u32 = 70;
pub(super) const LEGEND_GLYPH: u32 = 64;
pub(super) const LEGEND_MARGIN: u32 = 14;
pub(super) const LEGEND_INSET: i32 = 22;
pub(super) const N_X_LABELS: usize = 8;
pub(super) const N_Y_LABELS: usize = 7;
pub(super) const MARKER_RADIUS: f64 = 7.0;
/// Radius (px) of the dots of a dense point cloud (fig. 4).
pub(super) const DOT_RADIUS: f64 = 2.5;
/// Size of one panel of a multi-panel figure.
pub(super) const PANEL_WIDTH: u32 = 1100;
pub(super) const PANEL_HEIGHT: u32 = 760;
pub(super) const PANEL_TITLE_SIZE: i32 = 36;
pub(super) const PANEL_TITLE_STRIP: u32 = 56;
pub(super) const SIMPLIFY_TOLERANCE_PX: f64 = 0.25;

// Okabe–Ito colour-blind-safe palette.
pub(super) const OI_BLACK: RGBColor = RGBColor(0, 0, 0);
pub(super) const OI_ORANGE: RGBColor = RGBColor(230, 159, 0);
pub(super) const OI_SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
pub(super) const OI_GREEN: RGBColor = RGBColor(0, 158, 115);
pub(super) const OI_BLUE: RGBColor = RGBColor(0, 114, 178);
pub(super) const OI_VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub(super) const OI_PURPLE: RGBColor = RGBColor(204, 121, 167);
pub(super) const GRID_GREY: RGBColor = RGBColor(225, 225, 225);
pub(super) const POTENTIAL_GREY: RGBColor = RGBColor(110, 110, 110);

/// Series colours in order of use (yellow left out: too pale on white).
pub(super) const PALETTE: [RGBColor; 7] = [
    OI_BLUE,
    OI_VERMILLION,
    OI_GREEN,
    OI_PURPLE,
    OI_ORANGE,
    OI_SKY_BLUE,
    OI_BLACK,
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
}

pub(super) const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Square,
    Marker::Diamond,
];

#[derive(Debug, Clone, Copy)]
pub(super) struct LineLook {
    pub(super) width: u32,
    pub(super) dashed: bool,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct MarkerLook {
    pub(super) shape: Marker,
    pub(super) filled: bool,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Look {
    pub(super) color: RGBColor,
    pub(super) line: Option<LineLook>,
    pub(super) marker: Option<MarkerLook>,
}

// ---------------------------------------------------------------------------------------------

pub(super) fn marker_vertices(shape: Marker, r: f64) -> Vec<(i32, i32)> {
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

pub(super) fn shifted(verts: &[(i32, i32)], (cx, cy): (i32, i32)) -> Vec<(i32, i32)> {
    verts.iter().map(|&(x, y)| (x + cx, y + cy)).collect()
}

pub(super) fn closed(mut verts: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    if let Some(&first) = verts.first() {
        verts.push(first);
    }
    verts
}

/// Colour `i` of `n` ordered series (e.g. growing N), from orange through vermillion and
/// purple to blue.
pub(super) fn ramp_colour(i: usize, n: usize) -> RGBColor {
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
