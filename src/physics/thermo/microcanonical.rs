//! Microcanonical ensemble: Hertz (volume) entropy and the finite-difference temperature, eq. (2).
//!
//! - Ω(E) = Σ g_i over the states with E_i ≤ E (degenerate states all counted) and
//!   S(E) = ln Ω(E) (k_B = 1): [`distinct_levels`], [`hertz_entropy`].
//! - T^(μ)_n = ΔE_n / ΔS_n over the distinct levels, eq. (2), with centered (default), forward
//!   or backward differences: [`microcanonical_temperature`],
//!   [`per_state_microcanonical_temperature`].
//!
//! Levels group states with exactly equal energies (`==` on the sorted list); states whose
//! energies differ by any amount, however small (e.g. 1.0 and 1.0 + 1e-13), stay separate levels.
//! ΔS between two levels is computed from the exact integer counts, ln(Ω_hi/Ω_lo) =
//! ln_1p((Ω_hi − Ω_lo)/Ω_lo), so it keeps full relative accuracy at large Ω.

use super::StateList;
use serde::{Deserialize, Serialize};

/// One distinct energy level: states with exactly this energy, and Ω, S at it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Level {
    /// Energy of the level (Hartree).
    pub energy: f64,
    /// Σ g of the states with exactly this energy (dimensionless count).
    pub count: u64,
    /// Ω(E) = Σ g over the states with E_i ≤ energy (dimensionless count).
    pub omega: u64,
    /// Hertz entropy S = ln Ω (dimensionless, k_B = 1).
    pub entropy: f64,
    /// Index in the state list of the first state of this level.
    pub first_state: usize,
    /// Number of state-list entries in this level (each with its own multiplicity).
    pub states: usize,
}

/// Finite-difference scheme for T^(μ) = ΔE/ΔS, eq. (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Difference {
    /// (E_{n+1} − E_{n−1}) / (S_{n+1} − S_{n−1}); the paper's choice (no odd–even effect).
    #[default]
    Centered,
    /// (E_{n+1} − E_n) / (S_{n+1} − S_n).
    Forward,
    /// (E_n − E_{n−1}) / (S_n − S_{n−1}).
    Backward,
}

/// The distinct levels of a state list in ascending energy, one at a time: the per-state
/// quantities stream through them instead of collecting a [`Level`] (48 bytes) per level.
struct Levels<'a> {
    energy: &'a [f64],
    multiplicity: &'a [u64],
    /// First state of the next level.
    next: usize,
    /// Σ g over the states before `next`.
    omega: u64,
}

impl<'a> Levels<'a> {
    fn new(states: &'a StateList) -> Self {
        Self {
            energy: states.energy(),
            multiplicity: states.multiplicity(),
            next: 0,
            omega: 0,
        }
    }
}

impl Iterator for Levels<'_> {
    type Item = Level;

    fn next(&mut self) -> Option<Level> {
        let first = self.next;
        let &energy = self.energy.get(first)?;
        let mut count = 0;
        let mut end = first;
        while end < self.energy.len() && self.energy[end] == energy {
            count += self.multiplicity[end];
            end += 1;
        }
        // The total multiplicity was checked to fit in u64 when the list was built.
        self.omega += count;
        self.next = end;
        Some(Level {
            energy,
            count,
            omega: self.omega,
            entropy: (self.omega as f64).ln(),
            first_state: first,
            states: end - first,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.energy.len() - self.next;
        (usize::from(left > 0), Some(left))
    }
}

/// Distinct levels of a state list (energies in Hartree) with Ω(E) and S(E) = ln Ω(E).
pub fn distinct_levels(states: &StateList) -> Vec<Level> {
    // At most one level per state: the capacity not used is never touched.
    let mut levels = Vec::with_capacity(states.len());
    levels.extend(Levels::new(states));
    levels
}

/// Hertz entropy S(E_i) = ln Ω(E_i) of every state (dimensionless): Ω counts, with
/// multiplicity, all states with energy ≤ E_i, so exactly degenerate states share one value.
pub fn hertz_entropy(states: &StateList) -> Vec<f64> {
    let mut out = Vec::with_capacity(states.len());
    for level in Levels::new(states) {
        out.extend(std::iter::repeat_n(level.entropy, level.states));
    }
    out
}

/// T^(μ) = ΔE/ΔS (Hartree) between two levels, or None when not a finite positive ratio.
fn difference_temperature(lo: &Level, hi: &Level) -> Option<f64> {
    let de = hi.energy - lo.energy;
    let ds = if lo.omega > 0 && hi.omega > lo.omega {
        ((hi.omega - lo.omega) as f64 / lo.omega as f64).ln_1p()
    } else {
        hi.entropy - lo.entropy
    };
    let t = de / ds;
    (t.is_finite() && t > 0.0).then_some(t)
}

/// T^(μ) (Hartree) at `level` by `scheme` from its neighbours `below` and `above` (None at the
/// ends of the list), eq. (2).
fn level_temperature(
    below: Option<&Level>,
    level: &Level,
    above: Option<&Level>,
    scheme: Difference,
) -> Option<f64> {
    let (lo, hi) = match scheme {
        Difference::Centered => (below?, above?),
        Difference::Forward => (level, above?),
        Difference::Backward => (below?, level),
    };
    difference_temperature(lo, hi)
}

/// Microcanonical temperature T^(μ)_n (Hartree) at each distinct level, eq. (2).
///
/// None where the scheme's neighbour does not exist (both ends for centered, the top level for
/// forward, the ground level for backward) or the ratio is not finite and positive (which cannot
/// happen for levels from [`distinct_levels`]).
pub fn microcanonical_temperature(levels: &[Level], scheme: Difference) -> Vec<Option<f64>> {
    (0..levels.len())
        .map(|i| {
            let below = i.checked_sub(1).map(|b| &levels[b]);
            level_temperature(below, &levels[i], levels.get(i + 1), scheme)
        })
        .collect()
}

/// T^(μ) (Hartree) for every state of the list: the value of the state's level, eq. (2).
pub fn per_state_microcanonical_temperature(
    states: &StateList,
    scheme: Difference,
) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(states.len());
    let mut levels = Levels::new(states).peekable();
    let mut below = None;
    while let Some(level) = levels.next() {
        let t = level_temperature(below.as_ref(), &level, levels.peek(), scheme);
        out.extend(std::iter::repeat_n(t, level.states));
        below = Some(level);
    }
    out
}

/// How far an entropy curve S(E) falls below its concave envelope (the smallest concave
/// function above it): a curve with a positive heat capacity everywhere is concave, so the
/// largest gap (units of S) and the width of the energy range where the curve lies below the
/// envelope (units of E) measure the negative-heat-capacity region of the microcanonical
/// ensemble. `points` are (E, S) ascending in E.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConvexIntruder {
    /// max over the points of envelope(E) − S(E).
    pub depth: f64,
    /// Energy where the gap is largest.
    pub energy: f64,
    /// Width of the largest energy interval between two consecutive envelope vertices
    /// that has the curve strictly below the envelope (0 if none).
    pub width: f64,
}

/// The concave-envelope gap of (E, S) points ascending in E; `tolerance` (units of S) is the
/// gap below which a point counts as on the envelope (rounding).
pub fn convex_intruder(points: &[(f64, f64)], tolerance: f64) -> ConvexIntruder {
    // Upper hull by the monotone chain; the envelope between hull vertices is linear.
    let mut hull: Vec<usize> = Vec::with_capacity(points.len());
    for i in 0..points.len() {
        while hull.len() >= 2 {
            let (a, b) = (points[hull[hull.len() - 2]], points[hull[hull.len() - 1]]);
            let c = points[i];
            // Remove b when it lies on or below the chord a–c.
            let cross = (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0);
            if cross >= 0.0 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(i);
    }
    let mut out = ConvexIntruder {
        depth: 0.0,
        energy: points.first().map_or(0.0, |p| p.0),
        width: 0.0,
    };
    for w in hull.windows(2) {
        let (a, b) = (points[w[0]], points[w[1]]);
        let mut below = false;
        for p in &points[w[0] + 1..w[1]] {
            let t = (p.0 - a.0) / (b.0 - a.0);
            let gap = a.1 + t * (b.1 - a.1) - p.1;
            if gap > tolerance {
                below = true;
                if gap > out.depth {
                    out.depth = gap;
                    out.energy = p.0;
                }
            }
        }
        if below {
            out.width = out.width.max(b.0 - a.0);
        }
    }
    out
}
