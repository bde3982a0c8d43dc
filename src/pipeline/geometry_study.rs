//! Slab, cylinder and sphere of the same radial profile compared: the largest negative-heat-
//! capacity drop of T^(K) and of T_E^(K) of one particle in every case of a study (its
//! `[[cases]]` set `system.geometry`, its sweep the sizes). Each case takes every level below
//! `cap` (Hartree) — in every channel for a sphere or cylinder, the Sturm count at the cap for
//! the slab — and runs the study's one-particle stage ([`crate::pipeline::study::one_particle`],
//! the one composition of the thermodynamics) on them.

use crate::channels::Selection;
use crate::eigen::sturm::SturmData;
use crate::model::hamiltonian::Hamiltonian;
use crate::physics::thermo::nhc::NhcInterval;
use crate::pipeline::config::{Case, EnergyGrid, Study, TemperatureRange};
use crate::pipeline::error_chain;
use crate::pipeline::study::{
    nhc_of, one_particle, Cancel, CaseSpectrum, NhcSet, OneParticle, SolvedSpectrum,
    TemperatureDefinition, ThermoSettings,
};
use crate::resources::Budget;
use serde::Serialize;

/// One case of the comparison (energies and temperatures in Hartree, lengths in bohr).
#[derive(Debug, Clone, Serialize)]
pub struct GeometryNhcRow {
    /// The case's name.
    pub case: String,
    /// "slab", "sphere" or "cylinder".
    pub geometry: &'static str,
    /// Depth U0 of the well (the preset's `depth`).
    pub depth: f64,
    /// Half-width or core radius a (the preset's `half_width`).
    pub core: f64,
    /// L (slab) or R (sphere, cylinder).
    pub size: f64,
    /// Levels below the cap.
    pub levels: usize,
    /// States below the cap (levels weighted by their degeneracies).
    pub states: u64,
    /// The T^(K) interval with the largest relative drop.
    pub kinetic: Option<NhcInterval>,
    /// The T_E^(K) interval with the largest relative drop.
    pub window: Option<NhcInterval>,
}

/// The levels of `case` below `cap` (Hartree), with their degeneracies.
fn levels_below(case: &Case, cap: f64) -> Result<CaseSpectrum, String> {
    let cfg = &case.config;
    let name = &case.name;
    let failed = |e: &dyn std::error::Error| format!("case {name}: {}", error_chain(e));
    if let Some(radial) = cfg.radial_problem().map_err(|e| error_chain(&e))? {
        let spectrum = radial
            .spectrum(Selection::Below(cap), None)
            .map_err(|e| failed(&e))?;
        return Ok(CaseSpectrum::Radial(spectrum));
    }
    let problem = cfg.problem().map_err(|e| error_chain(&e))?;
    let grid = problem.aligned_grid().map_err(|e| failed(&e))?;
    let h = Hamiltonian::new(&problem.potential, &grid, problem.mass).map_err(|e| failed(&e))?;
    // The Sturm count at the cap: exactly the levels below it.
    let count = SturmData::new(&h.matrix.diag, &h.matrix.off).count_below(cap);
    let spectrum = problem
        .spectrum_with_levels(count)
        .map_err(|e| failed(&e))?;
    Ok(CaseSpectrum::Slab(spectrum))
}

/// The largest relative drop of `definition` among `sets`.
fn largest(sets: &[NhcSet], definition: TemperatureDefinition) -> Option<NhcInterval> {
    nhc_of(sets, definition)?
        .intervals
        .iter()
        .max_by(|a, b| a.relative_drop.total_cmp(&b.relative_drop))
        .cloned()
}

/// Every level of `case` below `cap` (Hartree) and the study's one-particle stage on them:
/// T^(K) per level, T_E^(K) and T^(C) on the energy grid from the lowest level to the cap in
/// steps of ε/4 (ε = `analysis.epsilon`), canonical range `analysis.temperatures` (default
/// 1e-4 … 0.15 Ha, 200 points).
pub fn one_particle_below(case: &Case, cap: f64) -> Result<(CaseSpectrum, OneParticle), String> {
    let spectrum = levels_below(case, cap)?;
    let e0 = spectrum.energies()[0];
    let mut analysis = case.config.analysis.clone();
    analysis.energy_grid = Some(EnergyGrid {
        from: e0,
        to: cap,
        step: 0.25 * analysis.epsilon,
    });
    let temperature_range = analysis.temperatures.unwrap_or(TemperatureRange {
        from: 1e-4,
        to: 0.15,
        points: 200,
    });
    let solved = SolvedSpectrum {
        requested: spectrum.len(),
        temperature_range,
        // Nothing is extended: the comparison reads T^(K) and T_E^(K), not the canonical sums.
        bound: 0.0,
        tolerance: analysis.truncation_tolerance,
        diagnostics: Vec::new(),
        spectrum,
    };
    let thermo = ThermoSettings {
        epsilon: analysis.epsilon,
        difference: analysis.difference,
        temperatures: temperature_range.points(),
        truncation_tolerance: analysis.truncation_tolerance,
        budget: Budget::unlimited(),
        cancel: Cancel::never(),
    };
    let one = one_particle(&case.name, &solved, &analysis, &thermo).map_err(|e| error_chain(&e))?;
    Ok((solved.spectrum, one))
}

/// The comparison row of every case of `study`, levels below `cap` (Hartree), from
/// [`one_particle_below`].
pub fn geometry_nhc(study: &Study, cap: f64) -> Result<Vec<GeometryNhcRow>, String> {
    study
        .cases
        .iter()
        .map(|case| {
            let cfg = &case.config;
            let (spectrum, one) = one_particle_below(case, cap)?;
            let states = spectrum
                .state_list()
                .map_err(|e| format!("case {}: {e}", case.name))?;
            Ok(GeometryNhcRow {
                case: case.name.clone(),
                geometry: cfg.system.geometry.name(),
                depth: cfg.potential.parameter("depth").unwrap_or(f64::NAN),
                core: cfg.potential.parameter("half_width").unwrap_or(f64::NAN),
                size: cfg.system.box_half_width,
                levels: states.len(),
                states: states.total_multiplicity(),
                kinetic: largest(&one.nhc, TemperatureDefinition::Kinetic),
                window: largest(&one.nhc, TemperatureDefinition::KineticWindow),
            })
        })
        .collect()
}
