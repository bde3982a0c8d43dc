//! What `confine spectrum` and `confine validate` print for a sphere or a cylinder: the levels
//! sorted by energy across channels with their channel l (or |m|) and degeneracy, the channels
//! solved and the proof that no other channel has a level in the request.

use crate::channels::{Completeness, RadialSpectrum};
use crate::checks::validate_radial::RadialLevelCheck;
use crate::model::grid::GridSummary;
use crate::model::units::HARTREE_IN_EV;
use crate::pipeline::report::SpectrumUnits;
use serde::Serialize;
use std::fmt;
use std::path::Path;

/// `confine spectrum --json` of a sphere or cylinder: one array per observable, levels sorted
/// by energy across channels (energies in Hartree).
#[derive(Debug, Clone, Serialize)]
pub struct RadialSpectrumReport {
    /// The config file as given.
    pub config: String,
    /// "sphere" or "cylinder".
    pub geometry: &'static str,
    /// E (Hartree).
    pub energy: Vec<f64>,
    /// ⟨K⟩ with the centrifugal energy (Hartree).
    pub kinetic: Vec<f64>,
    /// ⟨V⟩ (Hartree).
    pub potential: Vec<f64>,
    /// Radial quantum number within the channel.
    pub n: Vec<usize>,
    /// Channel: l (sphere) or |m| (cylinder).
    pub l: Vec<usize>,
    /// Orbital degeneracy: 2l + 1 (sphere), 1 or 2 (cylinder); spin not included.
    pub degeneracy: Vec<u64>,
    /// ‖Hψ − Eψ‖ per level (Hartree).
    pub residual: Vec<f64>,
    /// The channels solved and the Sturm count proving the next one has no level in the request.
    pub channels: Completeness,
    /// The radial grid (nodes from r = 0 to R).
    pub grid: GridSummary,
    /// Particle mass (mₑ).
    pub mass: f64,
    /// Wall time of the solve (s).
    pub seconds: f64,
    /// The units of every number.
    pub units: SpectrumUnits,
}

impl RadialSpectrumReport {
    /// The report of `spectrum`, computed from `config` in `seconds` (s).
    pub fn new(config: &Path, spectrum: &RadialSpectrum, seconds: f64) -> Self {
        let levels = &spectrum.levels;
        Self {
            config: config.display().to_string(),
            geometry: spectrum.geometry.name(),
            energy: spectrum.energies(),
            kinetic: spectrum.kinetic(),
            potential: levels.iter().map(|l| l.potential).collect(),
            n: levels.iter().map(|l| l.n).collect(),
            l: levels.iter().map(|l| l.channel).collect(),
            degeneracy: spectrum.degeneracies(),
            residual: levels.iter().map(|l| l.residual).collect(),
            channels: spectrum.completeness.clone(),
            grid: spectrum.grid.summary(),
            mass: spectrum.mass,
            seconds,
            units: SpectrumUnits {
                energy: "hartree",
                length: "bohr",
                mass: "electron_mass",
            },
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> serde_json::Result<String> {
        Ok(serde_json::to_string_pretty(&serde_json::to_value(self)?)? + "\n")
    }
}

/// The text table of `confine spectrum` for a sphere or cylinder.
pub struct RadialSpectrumTable<'a> {
    /// The solved levels.
    pub spectrum: &'a RadialSpectrum,
    /// Wall time of the solve (s).
    pub seconds: f64,
}

impl fmt::Display for RadialSpectrumTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.spectrum;
        let symbol = if s.geometry.name() == "sphere" {
            "l"
        } else {
            "m"
        };
        writeln!(
            f,
            "{:>5} {:>4} {:>4} {:>4} {:>22} {:>14} {:>22} {:>22} {:>10}",
            "index", "n", symbol, "g", "E [Ha]", "E [eV]", "<K> [Ha]", "<V> [Ha]", "residual"
        )?;
        for l in &s.levels {
            writeln!(
                f,
                "{:>5} {:>4} {:>4} {:>4} {:>22.15e} {:>14.6} {:>22.15e} {:>22.15e} {:>10.1e}",
                l.index,
                l.n,
                l.channel,
                l.degeneracy,
                l.energy,
                l.energy * HARTREE_IN_EV,
                l.kinetic,
                l.potential,
                l.residual
            )?;
        }
        let c = &s.completeness;
        let solved: Vec<String> = c
            .solved
            .iter()
            .map(|x| format!("{}:{}", x.channel, x.levels))
            .collect();
        writeln!(
            f,
            "{}: radius {} bohr, {} radial nodes, spacing {:.4e}..{:.4e} bohr; {:.3} s",
            s.geometry.name(),
            s.grid.nodes()[s.grid.nodes().len() - 1],
            s.grid.interior_len(),
            s.grid.min_spacing(),
            s.grid.max_spacing(),
            self.seconds
        )?;
        writeln!(f, "channels solved ({symbol}:levels): {}", solved.join(" "))?;
        match c.next_channel {
            Some(next) => writeln!(
                f,
                "complete below {:.6e} Ha: channel {symbol} = {next} has Sturm count {} there, and every higher channel adds a non-negative centrifugal term",
                c.cap, c.next_count_below_cap
            ),
            None => writeln!(f, "one channel only (--channel)"),
        }
    }
}

/// The text table of `confine validate` for a sphere or cylinder.
pub struct RadialValidationTable<'a> {
    /// The checks, channel by channel.
    pub checks: &'a [RadialLevelCheck],
}

impl fmt::Display for RadialValidationTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>4} {:>4} {:>22} {:>11} {:>7} {:>11} {:>11} {:>7} {:>11}",
            "l",
            "n",
            "E exact [Ha]",
            "err finest",
            "order",
            "Richardson",
            "K err",
            "K order",
            "K Richardson"
        )?;
        for c in self.checks {
            writeln!(
                f,
                "{:>4} {:>4} {:>22.15e} {:>11.3e} {:>7.3} {:>11.3e} {:>11.3e} {:>7.3} {:>11.3e}",
                c.channel,
                c.n,
                c.exact,
                c.errors_by_grid.last().copied().unwrap_or(f64::NAN),
                c.observed_order,
                c.richardson_error,
                c.kinetic_errors_by_grid.last().copied().unwrap_or(f64::NAN),
                c.kinetic_observed_order,
                c.kinetic_richardson_error
            )?;
        }
        Ok(())
    }
}
