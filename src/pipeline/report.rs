//! The command line's reports: text tables of a spectrum, a validation, a convergence study and
//! a study's results (negative heat capacity, two electrons with Coulomb), and the struct that
//! `confine spectrum --json` serializes. Energies in Hartree (and eV where a column says so),
//! lengths in bohr.
//!
//! Each table is a `Display` wrapper around the library's result, so a test can format it and
//! the CLI only prints it.

use crate::checks::converge::Convergence;
use crate::checks::validate::{SquareWellCase, Validation};
use crate::eigen::SolverReport;
use crate::model::grid::GridSummary;
use crate::model::units::HARTREE_IN_EV;
use crate::physics::thermo::nhc::largest_drop;
use crate::pipeline::study::{nhc_of, CaseResult, TemperatureDefinition};
use crate::spectrum::Spectrum;
use serde::Serialize;
use std::fmt;
use std::path::Path;

/// The units of `confine spectrum --json`: every energy in Hartree, length in bohr, mass in mₑ.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SpectrumUnits {
    /// "hartree".
    pub energy: &'static str,
    /// "bohr".
    pub length: &'static str,
    /// "electron_mass".
    pub mass: &'static str,
}

/// `confine spectrum --json`: the levels of one config, one array per observable (Hartree,
/// probabilities dimensionless), with the grid, the solver's report and the wall time (s).
/// [`SpectrumReport::to_json`] writes it with every object's keys sorted (as they always were).
#[derive(Debug, Clone, Serialize)]
pub struct SpectrumReport {
    /// The config file as given.
    pub config: String,
    /// E_n (Hartree).
    pub energy: Vec<f64>,
    /// The grid's summary (nodes, spacings).
    pub grid: GridSummary,
    /// Number of interior grid nodes.
    pub grid_points: usize,
    /// ⟨K⟩_n (Hartree).
    pub kinetic: Vec<f64>,
    /// Particle mass (mₑ).
    pub mass: f64,
    /// Probability outside every piece, per level.
    pub outside_probability: Vec<f64>,
    /// Probability on each piece, per level.
    pub piece_probability: Vec<Vec<f64>>,
    /// ⟨V⟩_n (Hartree).
    pub potential: Vec<f64>,
    /// ‖Hψ − Eψ‖ per level (Hartree).
    pub residual: Vec<f64>,
    /// Wall time of the solve (s).
    pub seconds: f64,
    /// The eigen-solver's report.
    pub solver: SolverReport,
    /// The units of every number.
    pub units: SpectrumUnits,
    /// Warnings of the solve (coarse grid, unresolved splittings).
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
}

impl SpectrumReport {
    /// The report of `spectrum`, computed from `config` in `seconds` (s).
    pub fn new(config: &Path, spectrum: &Spectrum, seconds: f64) -> Self {
        let levels = &spectrum.levels;
        Self {
            config: config.display().to_string(),
            energy: spectrum.energies(),
            grid: spectrum.grid.summary(),
            grid_points: spectrum.grid.interior_len(),
            kinetic: spectrum.kinetic(),
            mass: spectrum.mass,
            outside_probability: levels.iter().map(|l| l.outside_probability).collect(),
            piece_probability: levels.iter().map(|l| l.piece_probability.clone()).collect(),
            potential: levels.iter().map(|l| l.potential).collect(),
            residual: levels.iter().map(|l| l.residual).collect(),
            seconds,
            solver: spectrum.report.clone(),
            units: SpectrumUnits {
                energy: "hartree",
                length: "bohr",
                mass: "electron_mass",
            },
            warnings: spectrum.warnings.clone(),
        }
    }

    /// Pretty JSON with a final newline; every object's keys sorted, nested ones included
    /// (through `serde_json::Value`, whose maps are ordered by key).
    pub fn to_json(&self) -> serde_json::Result<String> {
        Ok(serde_json::to_string_pretty(&serde_json::to_value(self)?)? + "\n")
    }
}

/// The text table of `confine spectrum`: one row per level (E in Ha and eV, ⟨K⟩, ⟨V⟩, the
/// probability on each of `pieces` pieces and outside, the residual), then the grid and the
/// solver's proof of completeness.
pub struct SpectrumTable<'a> {
    /// The solved levels.
    pub spectrum: &'a Spectrum,
    /// Number of pieces of the potential (columns P(piece i)).
    pub pieces: usize,
    /// Wall time of the solve (s).
    pub seconds: f64,
}

impl fmt::Display for SpectrumTable<'_> {
    fn fmt(&self, o: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.spectrum;
        write!(
            o,
            "{:>5} {:>22} {:>14} {:>20} {:>20}",
            "n", "E (Ha)", "E (eV)", "<K> (Ha)", "<V> (Ha)"
        )?;
        for p in 0..self.pieces {
            write!(o, " {:>10}", format!("P(piece {p})"))?;
        }
        writeln!(o, " {:>10} {:>9}", "P(out)", "residual")?;
        for l in &s.levels {
            write!(
                o,
                "{:>5} {:>22.15e} {:>14.6} {:>20.12e} {:>20.12e}",
                l.n,
                l.energy,
                l.energy * HARTREE_IN_EV,
                l.kinetic,
                l.potential
            )?;
            for p in &l.piece_probability {
                write!(o, " {:>10.6}", p)?;
            }
            writeln!(o, " {:>10.6} {:>9.1e}", l.outside_probability, l.residual)?;
        }
        let r = &s.report;
        writeln!(
            o,
            "\n{} interior nodes ({} grid, spacing {:.6}..{:.6} bohr), {} levels in {:.3} s",
            s.grid.interior_len(),
            if s.grid.is_uniform() {
                "uniform"
            } else {
                "piecewise-uniform"
            },
            s.grid.min_spacing(),
            s.grid.max_spacing(),
            s.levels.len(),
            self.seconds
        )?;
        writeln!(
            o,
            "Sturm count below {:.9e} Ha = {} (no level missed); max residual {:.1e} Ha (‖H‖ ≤ {:.3e}); max |<i|j> - δij| = {:.1e}",
            r.sturm_cutoff, r.sturm_count_at_cutoff, r.max_residual, r.norm_bound, r.max_orthogonality_error
        )
    }
}

/// The text table of `confine validate`: the well, the nested grids, then per level the exact
/// E_n and ⟨K⟩_n (Ha), the error on each grid, the observed order and the Richardson error.
pub struct ValidationTable<'a> {
    /// The square well that was validated.
    pub case: &'a SquareWellCase,
    /// Its validation.
    pub validation: &'a Validation,
}

impl fmt::Display for ValidationTable<'_> {
    fn fmt(&self, o: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (case, v) = (self.case, self.validation);
        writeln!(
            o,
            "Square well U0 = {} Ha, a = {} bohr, L = {} bohr, m = {} m_e inside, {} m_e outside: {} levels on {} nested grids",
            case.depth,
            case.half_width,
            case.box_half_width,
            case.well_mass(),
            case.mass,
            case.levels,
            v.grids.len()
        )?;
        for (i, g) in v.grids.iter().enumerate() {
            writeln!(
                o,
                "  grid {i}: h = {:.6} bohr, {} nodes, max residual {:.1e} Ha, {:.3} s",
                g.grid.max_spacing, g.grid.interior_nodes, g.solver.max_residual, g.seconds
            )?;
        }
        write!(o, "\n{:>4} {:>22}", "n", "E exact (Ha)")?;
        for i in 0..v.grids.len() {
            write!(o, " {:>10}", format!("err h/{}", 1 << i))?;
        }
        writeln!(
            o,
            " {:>6} {:>10} {:>20} {:>10} {:>6} {:>10}",
            "order", "Rich err", "<K> exact (Ha)", "<K> err", "order", "Rich err"
        )?;
        for (l, order) in v.levels.iter().zip(&v.observed_order) {
            write!(o, "{:>4} {:>22.15e}", l.n, l.exact)?;
            for e in &l.errors_by_grid {
                write!(o, " {:>10.2e}", e)?;
            }
            writeln!(
                o,
                " {:>6.3} {:>10.2e} {:>20.13e} {:>10.2e} {:>6.3} {:>10.2e}",
                order,
                l.richardson_error,
                l.kinetic_exact,
                l.kinetic_error,
                l.kinetic_observed_order,
                l.kinetic_richardson_error
            )?;
        }
        let max_rich = v
            .richardson_error
            .iter()
            .fold(0.0_f64, |m, e| m.max(e.abs()));
        let (omin, omax) = v
            .observed_order
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &o| {
                (a.min(o), b.max(o))
            });
        writeln!(
            o,
            "\nobserved order of E_n: {omin:.3} .. {omax:.3}; max |Richardson error| = {max_rich:.2e} Ha"
        )
    }
}

/// The text table of `confine converge`: per level the finest E_n, the observed order, the
/// Richardson estimates of E_n and ⟨K⟩_n (Ha) with their error estimates.
pub struct ConvergenceTable<'a> {
    /// The config file as given.
    pub config: &'a Path,
    /// Its self-convergence study.
    pub convergence: &'a Convergence,
}

impl fmt::Display for ConvergenceTable<'_> {
    fn fmt(&self, o: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.convergence;
        writeln!(
            o,
            "{}: {} levels on {} nested grids (h = {:.6} .. {:.6} bohr)",
            self.config.display(),
            c.levels.len(),
            c.grids.len(),
            c.grids[0].max_spacing,
            c.grids[c.grids.len() - 1].max_spacing
        )?;
        // Sphere and cylinder levels carry their channel l (or |m|) and degeneracy g.
        let radial = c.levels.iter().any(|l| l.l.is_some());
        let channel_head = if radial {
            format!("{:>4} {:>4} ", "l", "g")
        } else {
            String::new()
        };
        writeln!(
            o,
            "{channel_head}{:>4} {:>22} {:>6} {:>22} {:>10} {:>20} {:>6} {:>10}",
            "n",
            "E finest (Ha)",
            "order",
            "E Richardson (Ha)",
            "error est",
            "<K> Richardson (Ha)",
            "order",
            "error est"
        )?;
        let order = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.3}"));
        for l in &c.levels {
            if radial {
                let g = l.degeneracy.unwrap_or(1);
                write!(o, "{:>4} {:>4} ", l.l.unwrap_or(0), g)?;
            }
            writeln!(
                o,
                "{:>4} {:>22.15e} {:>6} {:>22.15e} {:>10.2e} {:>20.13e} {:>6} {:>10.2e}{}",
                l.n,
                l.energy.values.last().copied().unwrap_or(f64::NAN),
                order(l.energy.observed_order),
                l.energy.richardson,
                l.energy.error_estimate,
                l.kinetic.richardson,
                order(l.kinetic.observed_order),
                l.kinetic.error_estimate,
                if l.flagged {
                    "  <- order far from 2"
                } else {
                    ""
                }
            )?;
        }
        Ok(())
    }
}

/// The text report of `confine run` after the files are written: the largest
/// negative-heat-capacity interval of every case and temperature definition, then the
/// two-electron table of every case with `[coulomb]`.
pub struct StudyTable<'a> {
    /// The computed cases.
    pub cases: &'a [CaseResult],
}

impl fmt::Display for StudyTable<'_> {
    fn fmt(&self, o: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            o,
            "\nNegative heat capacity: energy intervals where the temperature falls as E rises"
        )?;
        writeln!(
            o,
            "{:<24} {:<5} {:>9} {:>16} {:>16} {:>14} {:>9}",
            "case", "T", "intervals", "largest: E from", "to (Ha)", "drop (Ha)", "drop (%)"
        )?;
        for c in self.cases {
            for set in &c.nhc {
                match largest_drop(&set.intervals) {
                    Some(i) => writeln!(
                        o,
                        "{:<24} {:<5} {:>9} {:>16.6e} {:>16.6e} {:>14.4e} {:>9.2}",
                        c.name,
                        set.definition,
                        set.intervals.len(),
                        i.e_start,
                        i.e_end,
                        i.drop,
                        100.0 * i.relative_drop
                    )?,
                    None => writeln!(
                        o,
                        "{:<24} {:<5} {:>9} {:>16} {:>16} {:>14} {:>9}",
                        c.name, set.definition, 0, "-", "-", "-", "-"
                    )?,
                }
            }
        }
        for c in self.cases {
            coulomb_table(o, c)?;
        }
        Ok(())
    }
}

/// The two-electron table of case `c` (nothing without `[coulomb]`): per variant the ground
/// energy and spin, its shift (Ha and level spacings), the T_E^(K) NHC and the CI convergence.
fn coulomb_table(o: &mut fmt::Formatter<'_>, c: &CaseResult) -> fmt::Result {
    let Some(cr) = &c.coulomb else { return Ok(()) };
    writeln!(
        o,
        "\nTwo electrons, case {} (CI, M = {} orbitals; e_1 - e_0 = {:.4e} Ha)",
        c.name, cr.orbitals, cr.level_spacing
    )?;
    writeln!(
        o,
        "{:<14} {:>20} {:>8} {:>12} {:>10} {:>10} {:>18} {:>12}",
        "variant",
        "E_ground (Ha)",
        "spin",
        "shift (Ha)",
        "spacings",
        "T_KE NHC",
        "largest from E/N",
        "M->M' max"
    )?;
    for (i, v) in cr.variants.iter().enumerate() {
        let shift = cr.shift(i);
        let ke = nhc_of(&v.result.nhc, TemperatureDefinition::KineticWindow);
        let largest = ke.and_then(|s| largest_drop(&s.intervals));
        writeln!(
            o,
            "{:<14} {:>20.12e} {:>8} {:>12.4e} {:>10.3} {:>10} {:>18} {:>12}",
            v.label,
            v.result.ground_energy,
            v.ground_spin,
            shift.ground_shift,
            shift.shift_in_spacings,
            ke.map_or(0, |s| s.intervals.len()),
            largest.map_or("-".to_string(), |d| format!("{:.4e}", d.e_start / 2.0)),
            v.convergence
                .as_ref()
                .map_or("-".to_string(), |c| format!("{:.1e}", c.max_abs_change()))
        )?;
    }
    if let Some(worst) = cr
        .grid_check
        .iter()
        .map(|r| r.difference.abs())
        .reduce(f64::max)
    {
        writeln!(
            o,
            "CI against the 2-D grid solve: {} states, max |E_CI - E_grid| = {worst:.2e} Ha",
            cr.grid_check.len()
        )?;
    }
    Ok(())
}
