//! Draws figs. 1–3 of a sphere or cylinder config ([`confine::pipeline::radial_figures`]):
//! every level below CAP (Hartree) in every channel and its one-particle thermodynamics.
//!
//!     cargo run --example radial_figures -- configs/geometry/sphere_paper.toml 0.05 out/sphere_paper

use confine::channels::Selection;
use confine::physics::radial::{one_particle_thermodynamics, state_list, ThermoSettings};
use confine::pipeline::error_chain;
use std::process::ExitCode;

fn run(path: &str, cap: f64, dir: &str) -> Result<usize, String> {
    let study = confine::load_study(std::path::Path::new(path)).map_err(|e| error_chain(&e))?;
    let cfg = &study.cases[0].config;
    let problem = cfg
        .radial_problem()
        .map_err(|e| error_chain(&e))?
        .ok_or("system.geometry must be \"sphere\" or \"cylinder\"")?;
    let spectrum = problem
        .spectrum(Selection::Below(cap), None)
        .map_err(|e| error_chain(&e))?;
    let states = state_list(&spectrum).map_err(|e| e.to_string())?;
    let e0 = spectrum.levels[0].energy;
    let step = 0.25 * cfg.analysis.epsilon;
    let settings = ThermoSettings {
        temperatures: (0..200)
            .map(|i| 1e-4 * 1500f64.powf(i as f64 / 199.0))
            .collect(),
        energy_grid: (0..=((cap - e0) / step) as usize)
            .map(|i| e0 + step * i as f64)
            .collect(),
        epsilon: cfg.analysis.epsilon,
        difference: cfg.analysis.difference,
        nhc_tolerance: 0.0,
    };
    let thermo = one_particle_thermodynamics(&states, &settings).map_err(|e| e.to_string())?;
    let files = confine::pipeline::radial_figures::write_radial_figures(
        std::path::Path::new(dir),
        &spectrum,
        &problem.potential,
        &thermo,
        &settings,
        &Default::default(),
    )
    .map_err(|e| e.to_string())?;
    Ok(files.len())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(cap), Some(dir)) = (
        args.get(1),
        args.get(2).and_then(|c| c.parse::<f64>().ok()),
        args.get(3),
    ) else {
        eprintln!("usage: radial_figures CONFIG CAP_HARTREE OUT_DIR");
        return ExitCode::from(2);
    };
    match run(path, cap, dir) {
        Ok(n) => {
            println!("wrote {n} files to {dir}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
