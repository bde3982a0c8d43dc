//! Data preparation: series cut into runs of finite points, their bounds and axis ranges, log
//! transforms.

use super::{PlotError, Series};

// Data preparation

/// A series cut into runs of consecutive finite points.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub(super) label: String,
    pub(super) runs: Vec<Vec<(f64, f64)>>,
}

impl Prepared {
    pub(super) fn new(what: &str, s: &Series) -> Result<Self, PlotError> {
        Ok(Prepared {
            label: s.label.clone(),
            runs: finite_runs(what, &s.label, &s.x, &s.y)?,
        })
    }

    pub(super) fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.runs.iter().flatten().copied()
    }

    pub(super) fn is_blank(&self) -> bool {
        self.label.is_empty() && self.runs.is_empty()
    }
}

pub(super) fn finite_runs(
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
pub(super) struct Bounds {
    pub(super) lo: f64,
    pub(super) hi: f64,
}

impl Bounds {
    pub(super) fn empty() -> Self {
        Bounds {
            lo: f64::INFINITY,
            hi: f64::NEG_INFINITY,
        }
    }

    pub(super) fn include(&mut self, v: f64) {
        if v.is_finite() {
            self.lo = self.lo.min(v);
            self.hi = self.hi.max(v);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lo > self.hi
    }

    /// The temperature axis of the T(E) figures: the data range with T = 0 included, padded
    /// below only when the data go negative.
    pub(super) fn temperature_axis(mut self) -> Result<(f64, f64), PlotError> {
        let pad_lo = if !self.is_empty() && self.lo < 0.0 {
            0.05
        } else {
            0.0
        };
        if !self.is_empty() {
            self.include(0.0);
        }
        self.axis(pad_lo, 0.06, "temperature")
    }

    /// Axis range: the data range padded by `pad_lo`/`pad_hi` (fractions of the span); [0, 1]
    /// without data; a degenerate span is widened around its value.
    pub(super) fn axis(
        &self,
        pad_lo: f64,
        pad_hi: f64,
        what: &str,
    ) -> Result<(f64, f64), PlotError> {
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

pub(super) fn bounds_of<'a>(points: impl Iterator<Item = &'a Prepared>) -> (Bounds, Bounds) {
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

pub(super) fn check_factor(name: &str, v: f64) -> Result<(), PlotError> {
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

/// Streams the finite points of a (possibly huge) series into bounds, checking its lengths.
pub(super) fn include_points(
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
pub(super) fn to_log_series(s: &Series, log_x: bool, log_y: bool) -> Series {
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
