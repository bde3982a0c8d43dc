//! When a level with few grid points per half wavelength matters.
//!
//! Every level carries an estimate of its discretization error ([`crate::spectrum::Level`],
//! the `discretization_error [Ha]` column of `levels.csv`). A level is *under-resolved* below
//! [`WARN_POINTS_PER_HALF_WAVELENGTH`] points per half wavelength: its relative error
//! (π/p)²/12 exceeds [`resolved_relative_error`], the standard the run holds its levels to.
//! The study warns only when a reported quantity uses such a level (docs/NUMERICS.md, "When a
//! coarse level is a warning"):
//!
//! 1. its energy lies in the energy range the study reports on: up to the last point of the
//!    energy grid plus ε (temperatures.csv, the figures), or up to the end of an interval
//!    listed in nhc.csv; or
//! 2. it is one of the orbitals the N-particle states or the Coulomb CI are built from; or
//! 3. the canonical tables reach it: at the highest temperature of the study the Boltzmann mean
//!    of the levels' relative errors, Σ_n w_n (π/p_n)²/12, exceeds the standard (the canonical
//!    state is then, on average, less resolved than a single level may be).
//!
//! Otherwise the under-resolved levels are only listed in `levels.csv`, and a note says so.

use crate::diagnostic::{Diagnostic, Kind};
use crate::spectrum::{Level, WARN_POINTS_PER_HALF_WAVELENGTH};

/// The relative discretization error (π/p)²/12 of a level with p =
/// [`WARN_POINTS_PER_HALF_WAVELENGTH`] grid points per half wavelength (dimensionless): the
/// accuracy the run claims for every level a reported quantity uses.
pub fn resolved_relative_error() -> f64 {
    relative_error(WARN_POINTS_PER_HALF_WAVELENGTH)
}

/// Relative discretization error (π/p)²/12 of a level with `points` per half wavelength.
fn relative_error(points: f64) -> f64 {
    if points.is_finite() {
        (std::f64::consts::PI / points).powi(2) / 12.0
    } else {
        0.0
    }
}

/// What the reported quantities of a case take from its levels.
#[derive(Debug, Clone, Copy)]
pub struct ReportedUse {
    /// Highest energy of a reported per-energy quantity (Hartree): the energy grid's last
    /// point plus ε, or the end of a listed NHC interval.
    pub energy_top: f64,
    /// The lowest this many levels are orbitals of N-particle states or of the Coulomb CI.
    pub orbitals: usize,
    /// Highest temperature of the canonical tables (Hartree).
    pub max_temperature: f64,
}

/// The Boltzmann mean Σ_n w_n (π/p_n)²/12 of the relative discretization errors of `levels`
/// at temperature `t` (Hartree), with w_n = e^{−(E_n − E_0)/t} / Z.
pub fn thermal_relative_error(levels: &[Level], t: f64) -> f64 {
    let Some(e0) = levels.first().map(|l| l.energy) else {
        return 0.0;
    };
    let (mut z, mut sum) = (0.0, 0.0);
    for l in levels {
        let w = (-(l.energy - e0) / t).exp();
        z += w;
        sum += w * relative_error(l.points_per_half_wavelength);
    }
    sum / z
}

/// The diagnostic of the under-resolved levels of `levels` (None when every level is
/// resolved): a warning when `used` says a reported quantity takes one of them (criteria 1–3
/// of the module doc), a note otherwise.
pub fn under_resolution(levels: &[Level], used: &ReportedUse) -> Option<Diagnostic> {
    let coarse: Vec<&Level> = levels
        .iter()
        .filter(|l| l.points_per_half_wavelength < WARN_POINTS_PER_HALF_WAVELENGTH)
        .collect();
    let (first, last) = (coarse.first()?, coarse.last()?);
    let standard = resolved_relative_error();
    let thermal = thermal_relative_error(levels, used.max_temperature);
    let direct: Vec<&&Level> = coarse
        .iter()
        .filter(|l| l.energy <= used.energy_top || l.n < used.orbitals)
        .collect();
    let fewest = coarse
        .iter()
        .map(|l| l.points_per_half_wavelength)
        .fold(f64::INFINITY, f64::min);
    let largest_error = coarse
        .iter()
        .map(|l| l.discretization_error)
        .fold(0.0, f64::max);
    let span = if first.n == last.n {
        format!("level {}", first.n)
    } else {
        format!("levels {}-{}", first.n, last.n)
    };
    let what = format!(
        "{span} (E = {:.4e} to {:.4e} Ha) have fewer than {WARN_POINTS_PER_HALF_WAVELENGTH} grid points per half wavelength (down to {fewest:.1}; estimated discretization error up to {largest_error:.1e} Ha, column discretization_error of levels.csv)",
        first.energy, last.energy
    );
    let diagnostic = if direct.is_empty() && thermal <= standard {
        Diagnostic::note(
            Kind::UnderResolvedLevels,
            format!(
                "{what}; no reported quantity uses them: they lie above E = {:.4e} Ha (the energy grid plus epsilon and the listed NHC intervals) and above the {} orbital(s) of the N-particle and Coulomb states, and the canonical state at T = {:.4e} Ha has a mean relative error of {thermal:.1e}, within the {standard:.1e} of a resolved level",
                used.energy_top, used.orbitals, used.max_temperature
            ),
        )
    } else {
        let reason = match (direct.first(), direct.last()) {
            (Some(lo), Some(hi)) => format!(
                "reported quantities use {} (level {}: E = {:.4e} Ha, {:.1} points); a grid.spacing {:.2} times the present one resolves them",
                if lo.n == hi.n { format!("level {}", lo.n) } else { format!("levels {}-{}", lo.n, hi.n) },
                hi.n,
                hi.energy,
                hi.points_per_half_wavelength,
                hi.points_per_half_wavelength / WARN_POINTS_PER_HALF_WAVELENGTH
            ),
            _ => format!(
                "the canonical state at T = {:.4e} Ha has a mean relative error of {thermal:.1e}, above the {standard:.1e} of a resolved level; refine grid.spacing or lower analysis.temperatures.to",
                used.max_temperature
            ),
        };
        Diagnostic::warning(Kind::UnderResolvedLevels, format!("{what}, and {reason}"))
    };
    Some(
        diagnostic
            .with("first_level", first.n as f64)
            .with("last_level", last.n as f64)
            .with("fewest_points_per_half_wavelength", fewest)
            .with("largest_discretization_error", largest_error)
            .with("reported_energy_top", used.energy_top)
            .with("orbitals_used", used.orbitals as f64)
            .with("max_temperature", used.max_temperature)
            .with("thermal_relative_error", thermal)
            .with("resolved_relative_error", standard),
    )
}
