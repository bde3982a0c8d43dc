//! The summary of a sweep: one row per case (its swept values, bound states, and the largest
//! negative-heat-capacity drop of every temperature definition), `summary.json`'s content
//! and the table `summary.csv`.

use crate::physics::thermo::largest_drop;
use crate::pipeline::config::sweep::{Shard, SweepMode, SweptValue};
use crate::pipeline::config::Case;
use crate::pipeline::output::tables::{Cell, Csv};
use crate::pipeline::study::{nhc_of, CaseResult, NhcSet, TemperatureDefinition};
use serde::{Deserialize, Serialize};

/// The largest negative-heat-capacity drop of one temperature definition (Hartree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropSummary {
    /// The tag of the definition ([`TemperatureDefinition::tag`]: "T_K", "T_mu", "T_C" or
    /// "T_KE"), as `summary.json` records it.
    pub definition: String,
    /// Number of NHC intervals.
    pub intervals: usize,
    /// Size of the largest drop t_start − t_end (Hartree), if any.
    pub largest_drop: Option<f64>,
    /// The largest drop relative to the temperature where it starts.
    pub relative_drop: Option<f64>,
    /// Energy where the largest drop starts (Hartree; E/N for N particles).
    pub drop_energy: Option<f64>,
}

/// One row of `summary.csv`: one case of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Position of the case in the study (0-based).
    pub index: usize,
    /// Case name (its directory).
    pub name: String,
    /// [`super::case_hash`] of the case.
    pub hash: String,
    /// The swept values.
    pub swept: Vec<SweptValue>,
    /// The `[[cases]]` entry the case comes from, if any.
    pub base_case: Option<String>,
    /// The error, when the case failed.
    pub error: Option<String>,
    /// Number of bound levels (E < 0).
    pub bound_states: Option<usize>,
    /// Ground-state energy (Hartree).
    pub ground_energy: Option<f64>,
    /// One entry per temperature definition, in the order of [`TemperatureDefinition::ALL`]
    /// (N = 1).
    pub drops: Vec<DropSummary>,
    /// Largest particle number of `[particles]`, if any.
    pub particles: Option<usize>,
    /// T_E^(K) drop of that N (energies per particle).
    pub particles_drop: Option<DropSummary>,
    /// `[coulomb]`: ground-state shift E₀(W) − E₀(W off) of the first ε_r (Hartree).
    #[serde(default)]
    pub coulomb_shift: Option<f64>,
    /// The same shift in units of the level spacing e₁ − e₀.
    #[serde(default)]
    pub coulomb_shift_spacings: Option<f64>,
}

/// What `summary.json` holds: the sweep, the shard and every row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// The config file.
    pub config_file: String,
    /// crate version that computed it.
    pub version: String,
    /// How the keys were combined (`None` for a study without `[sweep]`).
    pub mode: Option<SweepMode>,
    /// The swept keys and their units.
    pub keys: Vec<KeyInfo>,
    /// Cases of the whole sweep (all shards).
    pub total_cases: usize,
    /// The shard these rows are (`None`: all of them).
    pub shard: Option<Shard>,
    /// [`super::sweep_hash`] of the whole sweep (empty in summaries of older versions).
    #[serde(default)]
    pub sweep_hash: String,
    /// The rows, by case index.
    pub rows: Vec<SummaryRow>,
}

/// A swept key and the unit its values are written in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// Dotted config key.
    pub key: String,
    /// Unit of the values ("eV"), `None` for atomic units / bare numbers.
    pub unit: Option<String>,
    /// True when the values were log-spaced (the summary figures then use a log axis).
    pub log: bool,
}

/// The largest drop of `definition` in `sets` (no intervals when it was not computed).
fn drop_summary(definition: TemperatureDefinition, sets: &[NhcSet]) -> DropSummary {
    let set = nhc_of(sets, definition);
    let intervals = set.map_or(&[][..], |s| s.intervals.as_slice());
    let best = largest_drop(intervals);
    DropSummary {
        definition: definition.tag().to_string(),
        intervals: intervals.len(),
        largest_drop: best.map(|i| i.drop),
        relative_drop: best.map(|i| i.relative_drop),
        drop_energy: best.map(|i| i.e_start),
    }
}

/// The summary row of a computed case.
pub fn summary_row(index: usize, hash: String, case: &Case, c: &CaseResult) -> SummaryRow {
    let largest = c.particles.iter().max_by_key(|p| p.particles);
    SummaryRow {
        index,
        name: c.name.clone(),
        hash,
        swept: case.swept.clone(),
        base_case: case.base_case.clone(),
        error: None,
        bound_states: Some(c.levels.iter().filter(|l| l.energy < 0.0).count()),
        ground_energy: c.levels.first().map(|l| l.energy),
        drops: TemperatureDefinition::ALL
            .into_iter()
            .map(|d| drop_summary(d, &c.nhc))
            .collect(),
        particles: largest.map(|p| p.particles),
        particles_drop: largest.map(|p| drop_summary(TemperatureDefinition::KineticWindow, &p.nhc)),
        coulomb_shift: c
            .coulomb
            .as_ref()
            .filter(|cr| cr.variants.len() > 1)
            .map(|cr| cr.shift(1).ground_shift),
        coulomb_shift_spacings: c
            .coulomb
            .as_ref()
            .filter(|cr| cr.variants.len() > 1)
            .map(|cr| cr.shift(1).shift_in_spacings),
    }
}

/// The `summary.csv` of `summary`: case index and name, the swept values, status, bound states,
/// ground energy, then per temperature definition the number of NHC intervals and the size,
/// relative size and start energy of the largest drop, the same for the largest N of
/// `[particles]`, the Coulomb ground-state shift of `[coulomb]`; the error of a failed case last.
pub fn summary_csv(summary: &SweepSummary) -> Csv {
    let mut header: Vec<String> = vec!["case index".into(), "case".into()];
    for k in &summary.keys {
        header.push(match &k.unit {
            Some(u) => format!("{} [{u}]", k.key),
            None => k.key.clone(),
        });
    }
    header.extend(["status".into(), "bound states".into(), "E_0 [Ha]".into()]);
    for d in TemperatureDefinition::ALL {
        header.extend([
            format!("{d} NHC intervals"),
            format!("{d} largest drop [Ha]"),
            format!("{d} relative drop [-]"),
            format!("{d} drop starts at E [Ha]"),
        ]);
    }
    let window = TemperatureDefinition::KineticWindow.tag();
    header.extend([
        "N (largest)".into(),
        format!("{window}(N) NHC intervals"),
        format!("{window}(N) largest drop [Ha]"),
        format!("{window}(N) relative drop [-]"),
        format!("{window}(N) drop starts at E/N [Ha]"),
        "Coulomb shift [Ha]".into(),
        "Coulomb shift [e_1 - e_0]".into(),
        "error".into(),
    ]);
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = Csv::new(&refs);
    for r in &summary.rows {
        let mut cells: Vec<Cell> = vec![Cell::Int(r.index as u64), Cell::Text(&r.name)];
        for k in &summary.keys {
            let v = r.swept.iter().find(|v| v.key == k.key);
            cells.push(match v.and_then(|v| v.number) {
                Some(x) => Cell::Num(x),
                None => Cell::Text(v.map_or("", |v| v.text.as_str())),
            });
        }
        cells.push(Cell::Text(if r.error.is_some() { "failed" } else { "ok" }));
        cells.push(match r.bound_states {
            Some(b) => Cell::Int(b as u64),
            None => Cell::Text(""),
        });
        cells.push(Cell::Opt(r.ground_energy));
        let drop_cells = |d: Option<&DropSummary>, cells: &mut Vec<Cell>| match d {
            Some(d) => cells.extend([
                Cell::Int(d.intervals as u64),
                Cell::Opt(d.largest_drop),
                Cell::Opt(d.relative_drop),
                Cell::Opt(d.drop_energy),
            ]),
            None => cells.extend([
                Cell::Text(""),
                Cell::Opt(None),
                Cell::Opt(None),
                Cell::Opt(None),
            ]),
        };
        for d in TemperatureDefinition::ALL {
            drop_cells(r.drops.iter().find(|x| x.definition == d.tag()), &mut cells);
        }
        cells.push(match r.particles {
            Some(n) => Cell::Int(n as u64),
            None => Cell::Text(""),
        });
        drop_cells(r.particles_drop.as_ref(), &mut cells);
        cells.push(Cell::Opt(r.coulomb_shift));
        cells.push(Cell::Opt(r.coulomb_shift_spacings));
        cells.push(Cell::Text(r.error.as_deref().unwrap_or("")));
        t.row(&cells);
    }
    t
}
