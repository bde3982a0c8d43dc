//! The paper's figs. 1–3 for a sphere or cylinder, drawn with the figure kinds of
//! [`crate::pipeline::output::figures`]: ⟨K⟩ versus E with one series per channel l (fig. 1),
//! the radial densities r²|R|² (sphere) or r|R|² (cylinder) of the highest bound and the lowest
//! unbound level with V(r) (fig. 2), and T^(K), T^(μ), T^(C), T_E^(K) versus E (fig. 3). Every
//! file is written by `write_figure` (hidden temporary name, then renamed).

use crate::channels::RadialSpectrum;
use crate::model::potential::Potential;
use crate::model::units::{HARTREE_IN_EV, HARTREE_IN_KELVIN};
use crate::physics::radial::{ThermoSettings, Thermodynamics};
use crate::pipeline::output::figures::{
    write_figure, DensityFigure, FigureOutput, KineticFigure, PlotError, Series, TemperatureFigure,
};
use std::path::{Path, PathBuf};

/// Channels drawn as their own series in fig. 1; higher ones share one series.
pub const SEPARATE_CHANNELS: usize = 8;

/// Writes `dir/kinetic_vs_energy`, `dir/radial_densities` and `dir/temperatures` (PNG and/or
/// SVG as `out` asks) for `spectrum` in `potential` (V(r), Hartree) with its one-particle
/// `thermo` computed on `settings`; returns the files written.
pub fn write_radial_figures(
    dir: &Path,
    spectrum: &RadialSpectrum,
    potential: &Potential,
    thermo: &Thermodynamics,
    settings: &ThermoSettings,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, PlotError> {
    let symbol = if spectrum.geometry.name() == "sphere" {
        "l"
    } else {
        "m"
    };
    let mut files = Vec::new();

    // Fig. 1: one series per channel (the centrifugal barrier orders them), the rest together.
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
    files.extend(write_figure(
        &dir.join("kinetic_vs_energy"),
        &KineticFigure { series },
        out,
    )?);

    // Fig. 2: the highest bound and the lowest unbound level.
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
    files.extend(write_figure(
        &dir.join("radial_densities"),
        &DensityFigure {
            x: r,
            potential: v,
            states,
        },
        out,
    )?);

    // Fig. 3: the temperatures.
    let energies = spectrum.energies();
    let curves = vec![
        Series::new("T^(K)", energies.clone(), thermo.t_kinetic.clone()),
        Series::new(
            "T^(μ)",
            energies,
            thermo
                .t_micro
                .iter()
                .map(|t| t.unwrap_or(f64::NAN))
                .collect(),
        ),
        Series::new(
            "T^(C)",
            settings.energy_grid.clone(),
            thermo
                .t_canonical
                .iter()
                .map(|t| t.unwrap_or(f64::NAN))
                .collect(),
        ),
        Series::new(
            "T_E^(K)",
            settings.energy_grid.clone(),
            thermo
                .t_window
                .iter()
                .map(|t| t.unwrap_or(f64::NAN))
                .collect(),
        ),
    ];
    files.extend(write_figure(
        &dir.join("temperatures"),
        &TemperatureFigure {
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
        },
        out,
    )?);
    Ok(files)
}
