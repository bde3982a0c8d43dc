//! Slab, cylinder and sphere of the same radial profile compared: the largest negative-heat-
//! capacity drop of T^(K) and of T_E^(K) of one particle in every case of a study (its
//! `[[cases]]` set `system.geometry`, its sweep the sizes). Each case takes every level below
//! `cap` (Hartree) in every channel and the one-particle thermodynamics of
//! [`crate::physics::radial::one_particle_thermodynamics`]; the slab takes its levels below the
//! cap (their number from the Sturm count at the cap) from the ordinary spectrum.

use crate::channels::Selection;
use crate::eigen::sturm::SturmData;
use crate::model::hamiltonian::Hamiltonian;
use crate::physics::radial::{one_particle_thermodynamics, state_list, ThermoSettings};
use crate::physics::thermo::nhc::NhcInterval;
use crate::physics::thermo::StateList;
use crate::pipeline::config::{Case, Study};
use crate::pipeline::error_chain;
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

/// The largest relative drop among `intervals`.
fn largest(intervals: &[NhcInterval]) -> Option<NhcInterval> {
    intervals
        .iter()
        .max_by(|a, b| a.relative_drop.total_cmp(&b.relative_drop))
        .cloned()
}

/// The one-particle states of `case` below `cap` (Hartree), with their degeneracies.
fn states_below(case: &Case, cap: f64) -> Result<StateList, String> {
    let cfg = &case.config;
    let name = &case.name;
    if let Some(radial) = cfg.radial_problem().map_err(|e| error_chain(&e))? {
        let spectrum = radial
            .spectrum(Selection::Below(cap), None)
            .map_err(|e| format!("case {name}: {}", error_chain(&e)))?;
        return state_list(&spectrum).map_err(|e| format!("case {name}: {e}"));
    }
    let problem = cfg.problem().map_err(|e| error_chain(&e))?;
    let failed = |e: &dyn std::error::Error| format!("case {name}: {}", error_chain(e));
    let grid = problem.aligned_grid().map_err(|e| failed(&e))?;
    let h = Hamiltonian::new(&problem.potential, &grid, problem.mass).map_err(|e| failed(&e))?;
    // The Sturm count at the cap: exactly the levels below it.
    let count = SturmData::new(&h.matrix.diag, &h.matrix.off).count_below(cap);
    let spectrum = problem
        .spectrum_with_levels(count)
        .map_err(|e| failed(&e))?;
    let below = &spectrum.levels;
    StateList::single_particle(
        below.iter().map(|l| l.energy).collect(),
        below.iter().map(|l| l.kinetic).collect(),
    )
    .map_err(|e| format!("case {name}: {e}"))
}

/// The comparison row of every case of `study`, levels below `cap` (Hartree): T^(K) per level
/// and T_E^(K) on the energy grid from the lowest level to the cap in steps of ε/4 (ε =
/// `analysis.epsilon`), canonical range `analysis.temperatures` (default 1e-4 … 0.15 Ha).
pub fn geometry_nhc(study: &Study, cap: f64) -> Result<Vec<GeometryNhcRow>, String> {
    study
        .cases
        .iter()
        .map(|case| {
            let cfg = &case.config;
            let states = states_below(case, cap)?;
            let epsilon = cfg.analysis.epsilon;
            let e0 = states.energy()[0];
            let steps = ((cap - e0) / (0.25 * epsilon)).floor() as usize;
            let temperatures = match cfg.analysis.temperatures {
                Some(t) => t.points(),
                None => (0..200)
                    .map(|i| 1e-4 * 1500f64.powf(i as f64 / 199.0))
                    .collect(),
            };
            let settings = ThermoSettings {
                temperatures,
                energy_grid: (0..=steps)
                    .map(|i| e0 + 0.25 * epsilon * i as f64)
                    .collect(),
                epsilon,
                difference: cfg.analysis.difference,
                nhc_tolerance: 0.0,
            };
            let thermo = one_particle_thermodynamics(&states, &settings)
                .map_err(|e| format!("case {}: {e}", case.name))?;
            Ok(GeometryNhcRow {
                case: case.name.clone(),
                geometry: cfg.system.geometry.name(),
                depth: cfg.potential.parameter("depth").unwrap_or(f64::NAN),
                core: cfg.potential.parameter("half_width").unwrap_or(f64::NAN),
                size: cfg.system.box_half_width,
                levels: states.len(),
                states: states.total_multiplicity(),
                kinetic: largest(&thermo.nhc_kinetic),
                window: largest(&thermo.nhc_window),
            })
        })
        .collect()
}
