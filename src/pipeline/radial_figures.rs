//! The paper's figs. 1–3 for a sphere or cylinder, drawn with the figure kinds of
//! [`crate::pipeline::output::figures`]: ⟨K⟩ versus E with one series per channel l (fig. 1),
//! the radial densities r²|R|² (sphere) or r|R|² (cylinder) of the highest bound and the lowest
//! unbound level with V(r) (fig. 2), and T^(K), T^(μ), T^(C), T_E^(K) versus E (fig. 3): the data
//! of each; the study's outputs draw them for every sphere or cylinder case
//! (`pipeline::output::result_figures`).

use crate::channels::RadialSpectrum;
use crate::model::potential::Potential;
use crate::model::units::{HARTREE_IN_EV, HARTREE_IN_KELVIN};
use crate::pipeline::output::figures::{DensityFigure, KineticFigure, Series, TemperatureFigure};
use crate::pipeline::study::{EnergyRow, LevelRow};

/// Channels drawn as their own series in fig. 1; higher ones share one series.
pub const SEPARATE_CHANNELS: usize = 8;

/// The symbol of the channel: "l" (sphere) or "m" (cylinder).
fn channel_symbol(spectrum: &RadialSpectrum) -> &'static str {
    if spectrum.geometry.name() == "sphere" {
        "l"
    } else {
        "m"
    }
}

/// Fig. 1: ⟨K⟩ versus E, one series per channel (the centrifugal barrier orders them), the
/// channels from [`SEPARATE_CHANNELS`] on together (Hartree).
pub fn kinetic_figure(spectrum: &RadialSpectrum) -> KineticFigure {
    let symbol = channel_symbol(spectrum);
    let mut series: Vec<Series> = (0..SEPARATE_CHANNELS)
        .map(|c| Series::new(format!("{symbol} = {c}"), Vec::new(), Vec::new()))
        .collect();
    series.push(Series::new(
        format!("{symbol} >= {SEPARATE_CHANNELS}"),
        Vec::new(),
        Vec::new(),
    ));
    for level in &spectrum.levels {
        let s = &mut series[level.channel.min(SEPARATE_CHANNELS)];
        s.x.push(level.energy);
        s.y.push(level.kinetic);
    }
    series.retain(|s| !s.x.is_empty());
    KineticFigure { series }
}

/// Fig. 2: the radial densities r²|R|² (sphere) or r|R|² (cylinder, bohr^−1) of the highest
/// bound and the lowest unbound level, with V(r) of `potential` (Hartree).
pub fn density_figure(spectrum: &RadialSpectrum, potential: &Potential) -> DensityFigure {
    let symbol = channel_symbol(spectrum);
    let r = spectrum.grid.nodes().to_vec();
    let bound = spectrum.levels.iter().rposition(|l| l.energy < 0.0);
    let unbound = spectrum.levels.iter().position(|l| l.energy >= 0.0);
    let density_label = if symbol == "l" { "r²|R|²" } else { "r|R|²" };
    let states: Vec<Series> = [bound, unbound]
        .into_iter()
        .flatten()
        .map(|i| {
            let l = &spectrum.levels[i];
            Series::new(
                format!(
                    "{density_label}: n = {}, {symbol} = {}, E = {:.4e} Ha",
                    l.n, l.channel, l.energy
                ),
                r.clone(),
                spectrum.radial_density(i),
            )
        })
        .collect();
    let v: Vec<f64> = r.iter().map(|&x| potential.value_right(x)).collect();
    DensityFigure {
        x: r,
        potential: v,
        states,
    }
}

/// Fig. 3: T^(K) and T^(μ) per level, T^(C) and T_E^(K) on the energy grid, versus E (all
/// Hartree), titled by the geometry and the channels solved.
pub fn temperature_figure(
    spectrum: &RadialSpectrum,
    levels: &[LevelRow],
    grid: &[EnergyRow],
) -> TemperatureFigure {
    let symbol = channel_symbol(spectrum);
    let energies: Vec<f64> = levels.iter().map(|l| l.energy).collect();
    let on_grid: Vec<f64> = grid.iter().map(|r| r.energy).collect();
    let nan = |t: Option<f64>| t.unwrap_or(f64::NAN);
    let curves = vec![
        Series::new(
            "T^(K)",
            energies.clone(),
            levels.iter().map(|l| l.t_kinetic).collect(),
        ),
        Series::new(
            "T^(μ)",
            energies,
            levels.iter().map(|l| nan(l.t_micro)).collect(),
        ),
        Series::new(
            "T^(C)",
            on_grid.clone(),
            grid.iter().map(|r| nan(r.t_canonical)).collect(),
        ),
        Series::new(
            "T_E^(K)",
            on_grid,
            grid.iter().map(|r| nan(r.t_window)).collect(),
        ),
    ];
    TemperatureFigure {
        curves,
        ev_per_hartree: HARTREE_IN_EV,
        kelvin_per_hartree: HARTREE_IN_KELVIN,
        title: format!(
            "{}: {} levels in channels {symbol} < {}",
            spectrum.geometry.name(),
            spectrum.levels.len(),
            spectrum
                .completeness
                .next_channel
                .map_or("?".to_string(), |c| c.to_string())
        ),
    }
}
