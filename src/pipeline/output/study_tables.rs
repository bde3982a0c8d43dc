//! The tables of a study's results, one builder per CSV file: its header and one row per
//! record. `case_tables` lists every file of a case; adding a column is an edit of its
//! builder here, adding a file one more entry in `case_tables`.

use super::tables::{Cell, Csv};
use crate::model::units::HARTREE_IN_KELVIN;
use crate::physics::thermo::nhc::{largest_drop, select_intervals, NhcRemainder};
use crate::pipeline::config::directory_name;
use crate::pipeline::config::{AnalysisConfig, StatesFile};
use crate::pipeline::study::coulomb::{CoulombResult, CoulombVariant};
use crate::pipeline::study::particles::{ParticleResult, StateTable};
use crate::pipeline::study::{nhc_of, CaseResult, NhcSet, TemperatureDefinition};
use std::path::{Path, PathBuf};

const T_K: TemperatureDefinition = TemperatureDefinition::Kinetic;
const T_MU: TemperatureDefinition = TemperatureDefinition::Microcanonical;
const T_C: TemperatureDefinition = TemperatureDefinition::Canonical;
const T_KE: TemperatureDefinition = TemperatureDefinition::KineticWindow;

/// The headers of the largest-drop columns of `definition` (energies per particle).
fn drop_headers(definition: TemperatureDefinition) -> [String; 5] {
    let d = definition.tag();
    [
        format!("{d}_intervals [-]"),
        format!("{d}_largest_drop [Ha]"),
        format!("{d}_largest_relative_drop [-]"),
        format!("{d}_drop_from E/N [Ha]"),
        format!("{d}_drop_to E/N [Ha]"),
    ]
}

/// Every table of case `c`, in writing order: `emit(path relative to the case directory,
/// table)`. This is the list of a case's files; a new table is one more `emit` here.
pub(crate) fn case_tables<E>(
    c: &CaseResult,
    mut emit: impl FnMut(PathBuf, Csv) -> Result<(), E>,
) -> Result<(), E> {
    let listing = &c.config.analysis;
    let states_file = states_file_of(c);
    emit(PathBuf::from("levels.csv"), levels_csv(c))?;
    emit(PathBuf::from("canonical.csv"), canonical_csv(c))?;
    emit(PathBuf::from("temperatures.csv"), temperatures_csv(c))?;
    emit(PathBuf::from("nhc.csv"), nhc_csv(c))?;
    if !c.particles.is_empty() {
        emit(PathBuf::from("particles.csv"), particles_summary_csv(c))?;
    }
    if let Some(cr) = &c.coulomb {
        emit(PathBuf::from("coulomb.csv"), coulomb_csv(cr))?;
        emit(
            PathBuf::from("coulomb_convergence.csv"),
            coulomb_convergence_csv(cr),
        )?;
        if !cr.grid_check.is_empty() {
            emit(PathBuf::from("coulomb_grid_check.csv"), grid_check_csv(cr))?;
        }
        for v in &cr.variants {
            let dir = PathBuf::from("coulomb").join(directory_name(&v.label));
            particle_tables(&dir, &v.result, listing, states_file, &mut emit)?;
            emit(dir.join("ci_states.csv"), ci_states_csv(v))?;
        }
    }
    for p in &c.particles {
        let dir = PathBuf::from(format!("N{}", p.particles));
        particle_tables(&dir, p, listing, states_file, &mut emit)?;
    }
    Ok(())
}

/// The per-state table setting of case `c` (`[particles] states_file`; also used by the
/// Coulomb variants).
pub(crate) fn states_file_of(c: &CaseResult) -> StatesFile {
    c.config
        .particles
        .as_ref()
        .map_or(StatesFile::default(), |p| p.states_file)
}

/// `grid.csv`, `canonical.csv`, `nhc.csv` (the intervals `listing` selects) and the per-state
/// table `states_file` names (`states.csv` or `states.csv.gz`, if any) of one N-particle result
/// under `dir`.
fn particle_tables<E>(
    dir: &Path,
    p: &ParticleResult,
    listing: &AnalysisConfig,
    states_file: StatesFile,
    emit: &mut impl FnMut(PathBuf, Csv) -> Result<(), E>,
) -> Result<(), E> {
    emit(dir.join("grid.csv"), particle_grid_csv(p))?;
    emit(dir.join("canonical.csv"), particle_canonical_csv(p))?;
    let mut t = Csv::new(&NHC_HEADER);
    nhc_rows(&mut t, &p.nhc, listing);
    emit(dir.join("nhc.csv"), t)?;
    if let Some(table) = &p.per_state {
        if let Ok(file) = states_file.file_name(table.energy.len()) {
            emit(dir.join(file), particle_states_csv(p, table))?;
        }
    }
    Ok(())
}

/// Column headers of the probability columns: one per piece of the potential, named by
/// [`crate::pipeline::config::PotentialConfig::region_names`] ("P_well" for the square well).
fn piece_headers(case: &CaseResult) -> Vec<String> {
    case.config
        .potential
        .region_names()
        .iter()
        .map(|name| format!("P_{name} [-]"))
        .collect()
}

/// `levels.csv`: per level E, ⟨K⟩, ⟨V⟩, T^(K), S, T^(μ) and the residual; the slab adds the
/// probability on each piece and the discretization error, a sphere or cylinder the channel
/// `l` (|m| for the cylinder) and the orbital `degeneracy` after `n` (and neither of the
/// slab's columns).
fn levels_csv(case: &CaseResult) -> Csv {
    let radial = case.spectrum.radial().is_some();
    let mut header: Vec<String> = vec!["n".into()];
    if radial {
        header.extend(["l".into(), "degeneracy".into()]);
    }
    header.extend([
        "energy [Ha]".into(),
        "kinetic [Ha]".into(),
        "potential [Ha]".into(),
        T_K.column(),
        "S [k_B]".into(),
        T_MU.column(),
    ]);
    if !radial {
        header.extend(piece_headers(case));
    }
    header.push("residual [Ha]".into());
    if !radial {
        header.push("discretization_error [Ha]".into());
    }
    let mut t = Csv::new(&header);
    for l in &case.levels {
        let mut cells = vec![Cell::Int(l.n as u64)];
        if radial {
            cells.extend([
                Cell::Int(l.channel.unwrap_or(0) as u64),
                Cell::Int(l.degeneracy),
            ]);
        }
        cells.extend([
            Cell::Num(l.energy),
            Cell::Num(l.kinetic),
            Cell::Num(l.potential),
            Cell::Num(l.t_kinetic),
            Cell::Num(l.entropy),
            Cell::Opt(l.t_micro),
        ]);
        if !radial {
            cells.extend(l.piece_probability.iter().map(|p| Cell::Num(*p)));
        }
        cells.push(Cell::Num(l.residual));
        if !radial {
            cells.push(Cell::Num(l.discretization_error));
        }
        t.row(&cells);
    }
    t
}

fn canonical_csv(case: &CaseResult) -> Csv {
    let mut t = Csv::new(&["T [Ha]", "T [K]", "U [Ha]", "S [k_B]", "C [k_B]", "F [Ha]"]);
    for p in &case.canonical {
        t.row(&[
            Cell::Num(p.temperature),
            Cell::Num(p.temperature * HARTREE_IN_KELVIN),
            Cell::Num(p.energy),
            Cell::Num(p.entropy),
            Cell::Num(p.heat_capacity),
            Cell::Num(p.free_energy),
        ]);
    }
    t
}

fn temperatures_csv(case: &CaseResult) -> Csv {
    let mut t = Csv::new(&[
        "E [Ha]".into(),
        T_C.column(),
        T_KE.column(),
        "window_states [-]".into(),
    ]);
    for r in &case.temperatures {
        t.row(&[
            Cell::Num(r.energy),
            Cell::Opt(r.t_canonical),
            Cell::Opt(r.t_window),
            Cell::Int(r.window_states),
        ]);
    }
    t
}

fn nhc_csv(case: &CaseResult) -> Csv {
    let mut t = Csv::new(&NHC_HEADER);
    nhc_rows(&mut t, &case.nhc, &case.config.analysis);
    t
}

fn particle_grid_csv(p: &ParticleResult) -> Csv {
    let n = p.particles as f64;
    let mut t = Csv::new(&[
        "E [Ha]".to_string(),
        "E/N [Ha]".into(),
        "Omega [-]".into(),
        "S/N [k_B]".into(),
        T_KE.column(),
        T_C.column(),
    ]);
    for r in &p.grid {
        t.row(&[
            Cell::Num(r.energy),
            Cell::Num(r.energy / n),
            Cell::Num(r.omega),
            Cell::Opt(
                r.entropy_per_particle
                    .is_finite()
                    .then_some(r.entropy_per_particle),
            ),
            Cell::Opt(r.t_window),
            Cell::Opt(r.t_canonical),
        ]);
    }
    t
}

fn particle_canonical_csv(p: &ParticleResult) -> Csv {
    let n = p.particles as f64;
    let mut t = Csv::new(&[
        "T [Ha]",
        "T [K]",
        "U [Ha]",
        "U/N [Ha]",
        "S/N [k_B]",
        "C/N [k_B]",
    ]);
    for c in &p.canonical {
        t.row(&[
            Cell::Num(c.temperature),
            Cell::Num(c.temperature * HARTREE_IN_KELVIN),
            Cell::Num(c.energy),
            Cell::Num(c.energy / n),
            Cell::Num(c.entropy / n),
            Cell::Num(c.heat_capacity / n),
        ]);
    }
    t
}

fn particle_states_csv(p: &ParticleResult, table: &StateTable) -> Csv {
    let n = p.particles;
    let mut t = Csv::new(&[
        "E [Ha]".to_string(),
        "E/N [Ha]".into(),
        "kinetic [Ha]".into(),
        "multiplicity [-]".into(),
        T_K.column(),
        "S [k_B]".into(),
        T_MU.column(),
        "occupied orbitals".into(),
    ]);
    for i in 0..table.energy.len() {
        let occ: Vec<String> = table.occupations[i * n..(i + 1) * n]
            .iter()
            .map(|o| o.to_string())
            .collect();
        let occ = occ.join(" ");
        t.row(&[
            Cell::Num(table.energy[i]),
            Cell::Num(table.energy[i] / n as f64),
            Cell::Num(table.kinetic[i]),
            Cell::Int(table.multiplicity[i]),
            Cell::Num(table.t_kinetic[i]),
            Cell::Num(table.entropy[i]),
            Cell::Opt(table.t_micro[i]),
            Cell::Text(&occ),
        ]);
    }
    t
}

/// The row that summarizes the intervals below the threshold in `nhc.csv`: their span, no
/// temperatures, their largest drop and relative drop, and their number in `points`.
pub const NHC_REMAINDER_ROW: &str = "below_threshold";

/// One row per interval that `listing` selects ([`select_intervals`]: relative drop at least
/// `nhc_min_relative_drop`, at most `nhc_max_intervals` per definition), then (if any are left)
/// one [`NHC_REMAINDER_ROW`] row summarizing all the others of every definition.
fn nhc_rows(t: &mut Csv, sets: &[NhcSet], listing: &AnalysisConfig) {
    let mut rest: Option<NhcRemainder> = None;
    for set in sets {
        let (listed, below) = select_intervals(
            &set.intervals,
            listing.nhc_min_relative_drop,
            listing.nhc_max_intervals,
        );
        rest = match (rest, below) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => a.or(b),
        };
        for i in listed {
            t.row(&[
                Cell::Text(set.definition.tag()),
                Cell::Num(i.e_start),
                Cell::Num(i.e_end),
                Cell::Num(i.t_start),
                Cell::Num(i.t_end),
                Cell::Num(i.drop),
                Cell::Num(i.relative_drop),
                Cell::Int(i.points as u64),
            ]);
        }
    }
    if let Some(r) = rest {
        t.row(&[
            Cell::Text(NHC_REMAINDER_ROW),
            Cell::Num(r.e_min),
            Cell::Num(r.e_max),
            Cell::Opt(None),
            Cell::Opt(None),
            Cell::Num(r.largest_drop),
            Cell::Num(r.largest_relative_drop),
            Cell::Int(r.count as u64),
        ]);
    }
}

const NHC_HEADER: [&str; 8] = [
    "definition",
    "e_start [Ha]",
    "e_end [Ha]",
    "t_start [Ha]",
    "t_end [Ha]",
    "drop [Ha]",
    "relative_drop [-]",
    "points [-]",
];

/// The Coulomb comparison: one row per variant (W off first), with the ground-state shift
/// against W off and how the largest T_E^(K) drop moves.
fn coulomb_csv(cr: &CoulombResult) -> Csv {
    let mut header: Vec<String> = [
        "variant",
        "eps_r [-]",
        "E_ground [Ha]",
        "ground_spin",
        "ground <W> [Ha]",
        "shift [Ha]",
        "shift [e_1 - e_0]",
        "states [-]",
    ]
    .map(String::from)
    .to_vec();
    header.extend(drop_headers(T_KE));
    header.push("drop_from shift vs W off E/N [Ha]".into());
    header.push(drop_headers(T_K)[0].clone());
    header.push("CI max |E(M') - E(M)| below E_max [Ha]".into());
    let mut t = Csv::new(&header);
    let largest = |v: &CoulombVariant| {
        nhc_of(&v.result.nhc, T_KE).and_then(|s| largest_drop(&s.intervals).cloned())
    };
    let reference = cr.variants.first().and_then(largest);
    for (i, v) in cr.variants.iter().enumerate() {
        let shift = cr.shift(i);
        let d = largest(v);
        let k_intervals = nhc_of(&v.result.nhc, T_K).map_or(0, |s| s.intervals.len());
        let ke_intervals = nhc_of(&v.result.nhc, T_KE).map_or(0, |s| s.intervals.len());
        t.row(&[
            Cell::Text(&v.label),
            Cell::Opt(v.eps_r),
            Cell::Num(v.result.ground_energy),
            Cell::Text(v.ground_spin),
            Cell::Num(v.ground_interaction),
            Cell::Num(shift.ground_shift),
            Cell::Num(shift.shift_in_spacings),
            Cell::Num(v.result.states),
            Cell::Int(ke_intervals as u64),
            Cell::Opt(d.as_ref().map(|i| i.drop)),
            Cell::Opt(d.as_ref().map(|i| i.relative_drop)),
            Cell::Opt(d.as_ref().map(|i| i.e_start / 2.0)),
            Cell::Opt(d.as_ref().map(|i| i.e_end / 2.0)),
            Cell::Opt(
                d.as_ref()
                    .zip(reference.as_ref())
                    .map(|(a, b)| (a.e_start - b.e_start) / 2.0),
            ),
            Cell::Int(k_intervals as u64),
            Cell::Opt(v.convergence.as_ref().map(|c| c.max_abs_change())),
        ]);
    }
    t
}

/// Every CI state of a variant below E_max: energy split into ⟨K⟩, ⟨V⟩, ⟨W⟩, spin and its
/// multiplicity, parity, and the leading orbital pair with its weight.
fn ci_states_csv(v: &CoulombVariant) -> Csv {
    let mut t = Csv::new(&[
        "E [Ha]",
        "E/N [Ha]",
        "<K1+K2> [Ha]",
        "<V1+V2> [Ha]",
        "<W> [Ha]",
        "spin",
        "multiplicity [-]",
        "parity",
        "rank in sector [-]",
        "leading pair",
        "leading weight [-]",
    ]);
    for s in &v.states {
        let pair = format!("{} {}", s.leading_pair.0, s.leading_pair.1);
        let multiplicity = s.exchange.multiplicity(v.result.spin).unwrap_or(0);
        t.row(&[
            Cell::Num(s.energy),
            Cell::Num(s.energy / 2.0),
            Cell::Num(s.kinetic),
            Cell::Num(s.potential),
            Cell::Num(s.interaction),
            Cell::Text(match (v.result.spin, s.exchange) {
                (crate::physics::many_body::Spin::None, _) => "spinless",
                (_, e) => e.spin_name(),
            }),
            Cell::Int(multiplicity),
            Cell::Text(match s.parity {
                Some(crate::checks::analytic::Parity::Even) => "even",
                Some(crate::checks::analytic::Parity::Odd) => "odd",
                None => "",
            }),
            Cell::Int(s.sector_index as u64),
            Cell::Text(&pair),
            Cell::Num(s.leading_weight),
        ]);
    }
    t
}

/// Every state below E_max with M and M′ orbitals, per variant with W on.
fn coulomb_convergence_csv(cr: &CoulombResult) -> Csv {
    let mut t = Csv::new(&[
        "variant",
        "sector",
        "index",
        "M",
        "M'",
        "E(M) [Ha]",
        "E(M') [Ha]",
        "E(M') - E(M) [Ha]",
    ]);
    for v in &cr.variants {
        let Some(c) = &v.convergence else { continue };
        for r in &c.rows {
            t.row(&[
                Cell::Text(&v.label),
                Cell::Text(r.exchange.spin_name()),
                Cell::Int(r.index as u64),
                Cell::Int(c.coarse_orbitals as u64),
                Cell::Int(c.fine_orbitals as u64),
                Cell::Num(r.coarse),
                Cell::Num(r.fine),
                Cell::Num(r.change),
            ]);
        }
    }
    t
}

/// One row per N: the approach to the thermodynamic limit.
fn particles_summary_csv(c: &CaseResult) -> Csv {
    let mut header: Vec<String> = [
        "N",
        "spin",
        "method",
        "E_ground [Ha]",
        "E_max [Ha]",
        "states [-]",
        "occupations [-]",
    ]
    .map(String::from)
    .to_vec();
    header.extend(drop_headers(T_KE));
    header.extend(
        [
            "S/N_dent_depth [k_B]",
            "S/N_dent_width E/N [Ha]",
            "canonical_truncation_bound [-]",
        ]
        .map(String::from),
    );
    let mut t = Csv::new(&header);
    for p in &c.particles {
        let n = p.particles as f64;
        let ke = nhc_of(&p.nhc, T_KE);
        let largest = ke.and_then(|s| largest_drop(&s.intervals));
        let spin = match p.spin {
            crate::physics::many_body::Spin::Half => "half",
            crate::physics::many_body::Spin::None => "none",
        };
        t.row(&[
            Cell::Int(p.particles as u64),
            Cell::Text(spin),
            Cell::Text(p.method),
            Cell::Num(p.ground_energy),
            Cell::Num(p.energy_max),
            Cell::Num(p.states),
            Cell::Opt(p.occupations.map(|o| o as f64)),
            Cell::Int(ke.map_or(0, |s| s.intervals.len()) as u64),
            Cell::Opt(largest.map(|i| i.drop)),
            Cell::Opt(largest.map(|i| i.relative_drop)),
            Cell::Opt(largest.map(|i| i.e_start / n)),
            Cell::Opt(largest.map(|i| i.e_end / n)),
            Cell::Num(p.intruder.depth),
            Cell::Num(p.intruder.width),
            Cell::Num(p.canonical_bound),
        ]);
    }
    t
}

/// CI against the 2-D grid solve, one row per compared state.
fn grid_check_csv(cr: &CoulombResult) -> Csv {
    let mut t = Csv::new(&[
        "variant",
        "sector",
        "index",
        "E_CI [Ha]",
        "E_grid [Ha]",
        "E_CI - E_grid [Ha]",
        "grid residual [Ha]",
    ]);
    for r in &cr.grid_check {
        t.row(&[
            Cell::Text(&r.variant),
            Cell::Text(r.sector),
            Cell::Int(r.index as u64),
            Cell::Num(r.ci),
            Cell::Num(r.grid),
            Cell::Num(r.difference),
            Cell::Num(r.grid_residual),
        ]);
    }
    t
}
