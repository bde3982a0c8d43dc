//! The config file as written: serde structs that mirror its tables (unknown keys are errors),
//! every quantity read through the unit-aware newtypes of [`crate::model::units`], and their
//! validation into the typed config of the schema, naming the key of every bad value.

use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, Visitor};
use serde::Deserialize;

use super::error::{invalid, parse_message, ConfigError};
use super::names::{directory_name, directory_name_problem};
use super::presets::{self, Preset};
use super::schema::{
    AnalysisConfig, Config, CoulombConfig, CountingMethod, EnergyGrid, GridCheckConfig, GridConfig,
    ParticlesConfig, PotentialConfig, ResourcesConfig, SolveConfig, StatesFile, SystemConfig,
    TemperatureRange, DEFAULT_SOFTENING, DEFAULT_STATE_LIMIT, MAX_LEVELS, MAX_PARTICLES,
};
use crate::model::potential::{Piece, Shape};
use crate::model::radial::Geometry;
use crate::model::units::{Energy, Length, Mass, QuantitySeed, SpringConstant, Temperature};
use crate::physics::many_body::Spin;
use crate::physics::thermo::microcanonical::Difference;

/// Parses and validates config `text`; `origin` is the path used in messages and stored in
/// [`Config::path`].
pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: origin.to_path_buf(),
        message: parse_message(text, &e),
    })?;
    let config = raw.validate(origin)?;
    // Build the potential once so that its own checks (piece order, overlap, box) fail here.
    let problem = config.profile_problem()?;
    config.check_scales(&problem)?;
    // A sphere or cylinder: its radial potential (pieces at r < 0 refused) fails here too.
    config.radial_problem()?;
    if config.system.geometry.is_radial() && config.coulomb.is_some() {
        return Err(invalid(
            origin,
            "coulomb",
            format!(
                "the two-electron Coulomb study is slab-only (the soft Coulomb interaction of \
                 two electrons on a 1-D grid), but system.geometry = \"{}\"; remove [coulomb] \
                 or use geometry = \"slab\"",
                config.system.geometry.name()
            ),
        ));
    }
    Ok(config)
}

// ---------------------------------------------------------------------------------------------
// The file as written: every quantity through the unit-aware newtypes, potential parameters
// optional and checked per type/shape by hand (an internally tagged enum would reject the wrong
// parameters too, but its errors point at the table header instead of the key).

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    system: RawSystem,
    potential: RawPotential,
    grid: RawGrid,
    solve: RawSolve,
    analysis: Option<RawAnalysis>,
    particles: Option<RawParticles>,
    coulomb: Option<RawCoulomb>,
    resources: Option<RawResources>,
    /// Handled by [`parse_study`]; accepted here so that a study's base text parses.
    #[allow(dead_code)]
    cases: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnalysis {
    epsilon: Option<Energy>,
    energy_grid: Option<RawEnergyGrid>,
    temperatures: Option<RawTemperatures>,
    difference: Option<Difference>,
    truncation_tolerance: Option<f64>,
    nhc_min_relative_drop: Option<f64>,
    nhc_max_intervals: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoulomb {
    strength: Option<f64>,
    eps_r: Option<OneOrManyF64>,
    softening: Option<Length>,
    orbitals: u64,
    check_orbitals: Option<u64>,
    spin: Option<Spin>,
    energy_per_particle_max: Energy,
    grid_check: Option<RawGridCheck>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResources {
    memory_limit: Option<String>,
}

/// What a memory size may look like, for messages.
const MEMORY_UNITS: &str =
    "write e.g. \"4 GiB\", \"500 MB\" (units B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)";

impl RawResources {
    fn validate(self, path: &Path) -> Result<ResourcesConfig, ConfigError> {
        let memory_limit = match self.memory_limit {
            None => None,
            Some(m) => match crate::resources::parse_memory(&m) {
                Some(b) => Some((b, format!("[resources] memory_limit = \"{m}\""))),
                None => {
                    return Err(invalid(
                        path,
                        "resources.memory_limit",
                        format!("= \"{m}\" is not a memory size: {MEMORY_UNITS}"),
                    ))
                }
            },
        };
        Ok(ResourcesConfig { memory_limit })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGridCheck {
    levels: Option<u64>,
    memory_limit: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyF64 {
    One(f64),
    Many(Vec<f64>),
}

impl RawCoulomb {
    fn validate(self, path: &Path, levels: u64) -> Result<CoulombConfig, ConfigError> {
        let bad = |key: &str, message: String| Err(invalid(path, key, message));
        let strength = self.strength.unwrap_or(1.0);
        if !(strength.is_finite() && strength >= 0.0) {
            return bad(
                "coulomb.strength",
                format!("= {strength}: the strength λ must be a finite number >= 0 (1 = physical repulsion, 0 = off)"),
            );
        }
        let eps_r = match self.eps_r {
            None => vec![1.0],
            Some(OneOrManyF64::One(e)) => vec![e],
            Some(OneOrManyF64::Many(v)) => v,
        };
        if eps_r.is_empty() {
            return bad(
                "coulomb.eps_r",
                "must hold at least one dielectric constant (1 = vacuum, 12.9 = GaAs)".into(),
            );
        }
        if let Some(e) = eps_r.iter().find(|e| !(e.is_finite() && **e > 0.0)) {
            return bad(
                "coulomb.eps_r",
                format!("= {e}: a dielectric constant must be a finite number > 0 (1 = vacuum, 12.9 = GaAs)"),
            );
        }
        // Each ε_r names the directory of its tables.
        for (i, &e) in eps_r.iter().enumerate() {
            let dir = directory_name(&CoulombConfig::variant_label(Some(e)));
            if let Some(problem) = directory_name_problem(&dir) {
                return bad(
                    "coulomb.eps_r",
                    format!("= {e:?} gives the directory name {problem}: give ε_r as a number of ordinary size (1 = vacuum, 12.9 = GaAs)"),
                );
            }
            if eps_r[..i].contains(&e) {
                return bad(
                    "coulomb.eps_r",
                    format!("holds {e:?} twice: each value gets its own variant and directory, give it once"),
                );
            }
        }
        let softening = self.softening.map_or(DEFAULT_SOFTENING, |Length(s)| s);
        if !(softening.is_finite() && softening > 0.0) {
            return bad(
                "coulomb.softening",
                format!("= {softening} bohr: the softening length s must be > 0 (e.g. 1 bohr)"),
            );
        }
        if self.orbitals < 1 || self.orbitals > levels {
            return bad(
                "coulomb.orbitals",
                format!(
                    "= {}: the CI basis takes 1 to solve.levels = {levels} orbitals (raise solve.levels for a larger basis)",
                    self.orbitals
                ),
            );
        }
        if let Some(m) = self.check_orbitals {
            if m <= self.orbitals || m > levels {
                return bad(
                    "coulomb.check_orbitals",
                    format!(
                        "= {m}: the convergence check needs coulomb.orbitals = {} < M' <= solve.levels = {levels}",
                        self.orbitals
                    ),
                );
            }
        }
        let Energy(e_max) = self.energy_per_particle_max;
        let grid_check = match self.grid_check {
            None => None,
            Some(g) => {
                let levels = g.levels.unwrap_or(10);
                if !(1..=1000).contains(&levels) {
                    return bad(
                        "coulomb.grid_check.levels",
                        format!("= {levels}: compare 1 to 1000 states per sector"),
                    );
                }
                let memory_limit_bytes = match g.memory_limit {
                    None => 4 << 30,
                    Some(m) => match crate::resources::parse_memory(&m) {
                        Some(b) => b,
                        None => {
                            return bad(
                                "coulomb.grid_check.memory_limit",
                                format!("= \"{m}\" is not a memory size: {MEMORY_UNITS}"),
                            )
                        }
                    },
                };
                Some(GridCheckConfig {
                    levels: levels as usize,
                    memory_limit_bytes,
                })
            }
        };
        Ok(CoulombConfig {
            grid_check,
            strength,
            eps_r,
            softening,
            orbitals: self.orbitals as usize,
            check_orbitals: self.check_orbitals.map(|m| m as usize),
            spin: self.spin.unwrap_or_default(),
            energy_per_particle_max: e_max,
        })
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(i64),
    Many(Vec<i64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParticles {
    n: OneOrMany,
    spin: Option<Spin>,
    energy_per_particle_max: Option<Energy>,
    state_limit: Option<u64>,
    method: Option<CountingMethod>,
    bin_width: Option<Energy>,
    states_file: Option<StatesFile>,
}

impl RawParticles {
    fn validate(self, path: &Path) -> Result<ParticlesConfig, ConfigError> {
        let bad = |key: &str, message: String| Err(invalid(path, key, message));
        let counts = match self.n {
            OneOrMany::One(n) => vec![n],
            OneOrMany::Many(v) => v,
        };
        if counts.is_empty() {
            return bad(
                "particles.n",
                "must name at least one particle number".into(),
            );
        }
        let mut out = Vec::with_capacity(counts.len());
        for n in counts {
            if n < 1 || n as usize > MAX_PARTICLES {
                return bad(
                    "particles.n",
                    format!("must hold particle numbers from 1 to {MAX_PARTICLES}, got {n}"),
                );
            }
            if out.contains(&(n as usize)) {
                return bad("particles.n", format!("lists N = {n} twice"));
            }
            out.push(n as usize);
        }
        let Some(Energy(e_max)) = self.energy_per_particle_max else {
            return bad(
                "particles.energy_per_particle_max",
                "is missing: the N-particle states are counted up to E/N <= this energy (Hartree)"
                    .into(),
            );
        };
        let state_limit = self.state_limit.unwrap_or(DEFAULT_STATE_LIMIT as u64);
        if state_limit < 1 {
            return bad("particles.state_limit", "must be at least 1".into());
        }
        let bin_width = match self.bin_width {
            Some(Energy(w)) if w <= 0.0 => {
                return bad(
                    "particles.bin_width",
                    format!("must be a positive energy (Hartree), got {w}"),
                )
            }
            Some(Energy(w)) => Some(w),
            None => None,
        };
        Ok(ParticlesConfig {
            counts: out,
            spin: self.spin.unwrap_or_default(),
            energy_per_particle_max: e_max,
            state_limit: state_limit.min(usize::MAX as u64) as usize,
            method: self.method.unwrap_or_default(),
            bin_width,
            states_file: self.states_file.unwrap_or_default(),
            state_limit_given: self.state_limit.is_some(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnergyGrid {
    from: Energy,
    to: Energy,
    step: Energy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemperatures {
    from: Temperature,
    to: Temperature,
    points: u64,
}

/// Largest number of points of an energy grid or temperature range (memory guard).
pub const MAX_TABLE_POINTS: usize = 10_000_000;

impl RawAnalysis {
    fn validate(self, path: &Path) -> Result<AnalysisConfig, ConfigError> {
        let bad = |key: &str, message: String| Err(invalid(path, key, message));
        let mut a = AnalysisConfig::default();
        if let Some(Energy(eps)) = self.epsilon {
            if eps <= 0.0 {
                return bad(
                    "analysis.epsilon",
                    format!("must be a positive energy (Hartree), got {eps}"),
                );
            }
            a.epsilon = eps;
        }
        if let Some(g) = self.energy_grid {
            let (from, to, step) = (g.from.0, g.to.0, g.step.0);
            if step <= 0.0 {
                return bad(
                    "analysis.energy_grid.step",
                    format!("must be a positive energy (Hartree), got {step}"),
                );
            }
            if to <= from {
                return bad(
                    "analysis.energy_grid",
                    format!("is empty or inverted: from = {from} Ha must be below to = {to} Ha"),
                );
            }
            if (to - from) / step > MAX_TABLE_POINTS as f64 {
                return bad(
                    "analysis.energy_grid.step",
                    format!(
                        "= {step} Ha gives more than {MAX_TABLE_POINTS} points from {from} to {to} Ha"
                    ),
                );
            }
            a.energy_grid = Some(EnergyGrid { from, to, step });
        }
        if let Some(t) = self.temperatures {
            let (from, to, points) = (t.from.0, t.to.0, t.points);
            if from <= 0.0 {
                return bad(
                    "analysis.temperatures.from",
                    format!("must be a positive temperature, got {from} Ha"),
                );
            }
            if to <= from {
                return bad(
                    "analysis.temperatures",
                    format!("is empty or inverted: from = {from} Ha must be below to = {to} Ha"),
                );
            }
            if points < 2 || points > MAX_TABLE_POINTS as u64 {
                return bad(
                    "analysis.temperatures.points",
                    format!("must be between 2 and {MAX_TABLE_POINTS}, got {points}"),
                );
            }
            a.temperatures = Some(TemperatureRange {
                from,
                to,
                points: points as usize,
            });
        }
        if let Some(d) = self.difference {
            a.difference = d;
        }
        if let Some(tol) = self.truncation_tolerance {
            if !(tol.is_finite() && tol > 0.0 && tol < 1.0) {
                return bad(
                    "analysis.truncation_tolerance",
                    format!("must be a number between 0 and 1 (a fraction of Z), got {tol}"),
                );
            }
            a.truncation_tolerance = tol;
        }
        if let Some(r) = self.nhc_min_relative_drop {
            if !(r.is_finite() && (0.0..=1.0).contains(&r)) {
                return bad(
                    "analysis.nhc_min_relative_drop",
                    format!(
                        "must be a number from 0 (list every interval) to 1 (a fraction of the temperature where the drop starts), got {r}"
                    ),
                );
            }
            a.nhc_min_relative_drop = r;
        }
        if let Some(k) = self.nhc_max_intervals {
            if k < 0 {
                return bad(
                    "analysis.nhc_max_intervals",
                    format!("must be a count of intervals (0 or more), got {k}"),
                );
            }
            a.nhc_max_intervals = k as usize;
        }
        Ok(a)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    box_half_width: Length,
    mass: Option<Mass>,
    geometry: Option<String>,
}

/// What `type = "piecewise"` takes.
const PIECEWISE_TAKES: &str = "a piecewise potential takes [[potential.pieces]] tables (from, \
                               to, shape and the shape's parameters)";
/// What `type = "tabulated"` takes.
const TABULATED_TAKES: &str = "a tabulated potential takes file (a CSV table with the header \
                               `x [unit],V [unit]` and rows x,V, relative to the config file)";

/// The `type` of `[potential]`.
#[derive(Clone, Copy)]
enum PotentialType {
    Piecewise,
    Tabulated,
    Preset(&'static Preset),
}

impl PotentialType {
    /// Every type name, for messages: the presets, then piecewise and tabulated.
    fn names() -> &'static [&'static str] {
        static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        NAMES.get_or_init(|| {
            let presets = presets::PRESETS.iter().map(|p| p.name);
            presets.chain(["piecewise", "tabulated"]).collect()
        })
    }

    /// The type as written and what it takes.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            PotentialType::Piecewise => ("piecewise", PIECEWISE_TAKES),
            PotentialType::Tabulated => ("tabulated", TABULATED_TAKES),
            PotentialType::Preset(p) => (p.name, p.takes),
        }
    }

    /// Whether this type takes the key `key` of `[potential]`.
    fn takes(self, key: &str) -> bool {
        match self {
            PotentialType::Piecewise => key == "pieces",
            PotentialType::Tabulated => key == "file",
            PotentialType::Preset(p) => p.params.iter().any(|q| q.name == key),
        }
    }
}

impl<'de> Deserialize<'de> for PotentialType {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match name.as_str() {
            "piecewise" => Ok(PotentialType::Piecewise),
            "tabulated" => Ok(PotentialType::Tabulated),
            other => presets::preset(other)
                .map(PotentialType::Preset)
                .ok_or_else(|| de::Error::unknown_variant(other, Self::names())),
        }
    }
}

/// A key of `[potential]`: the type, the pieces, the table file, or a preset parameter with
/// its dimension.
enum PotentialKey {
    Type,
    Pieces,
    File,
    Parameter(&'static str, crate::model::units::Dimension),
}

impl PotentialKey {
    /// Every key, for messages.
    fn names() -> &'static [&'static str] {
        static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        NAMES.get_or_init(|| {
            ["type", "pieces", "file"]
                .into_iter()
                .chain(presets::parameter_names())
                .collect()
        })
    }
}

impl<'de> Deserialize<'de> for PotentialKey {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        Ok(match key.as_str() {
            "type" => PotentialKey::Type,
            "pieces" => PotentialKey::Pieces,
            "file" => PotentialKey::File,
            other => match presets::parameter(other) {
                Some((name, dimension)) => PotentialKey::Parameter(name, dimension),
                None => return Err(de::Error::unknown_field(other, Self::names())),
            },
        })
    }
}

/// `[potential]` as written. The preset parameters are read with the dimension the presets
/// give them, so a bad unit is reported at its key, before the type is known; whether the type
/// takes them is checked by [`RawPotential::validate`].
struct RawPotential {
    kind: PotentialType,
    pieces: Option<Vec<RawPiece>>,
    file: Option<String>,
    /// Preset parameters in the order written, in atomic units.
    parameters: Vec<(&'static str, f64)>,
}

impl<'de> Deserialize<'de> for RawPotential {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawPotentialVisitor;
        impl<'de> Visitor<'de> for RawPotentialVisitor {
            type Value = RawPotential;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the [potential] table")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawPotential, A::Error> {
                let (mut kind, mut pieces, mut file) = (None, None, None);
                let mut parameters = Vec::new();
                while let Some(key) = map.next_key::<PotentialKey>()? {
                    match key {
                        PotentialKey::Type => kind = Some(map.next_value()?),
                        PotentialKey::Pieces => pieces = Some(map.next_value()?),
                        PotentialKey::File => file = Some(map.next_value()?),
                        PotentialKey::Parameter(name, dimension) => {
                            let value = map.next_value_seed(QuantitySeed(dimension))?;
                            parameters.push((name, value));
                        }
                    }
                }
                Ok(RawPotential {
                    kind: kind.ok_or_else(|| de::Error::missing_field("type"))?,
                    pieces,
                    file,
                    parameters,
                })
            }
        }
        deserializer.deserialize_map(RawPotentialVisitor)
    }
}

impl RawPotential {
    /// The keys given besides `type`: the parameters in the order written, then `pieces` and
    /// `file`.
    fn given(&self) -> impl Iterator<Item = &'static str> + '_ {
        let pieces = self.pieces.as_ref().map(|_| "pieces");
        let file = self.file.as_ref().map(|_| "file");
        self.parameters
            .iter()
            .map(|(name, _)| *name)
            .chain(pieces)
            .chain(file)
    }

    fn validate(self, path: &Path, l: f64, mass: f64) -> Result<PotentialConfig, ConfigError> {
        let (name, takes) = self.kind.describe();
        if let Some(key) = self.given().find(|k| !self.kind.takes(k)) {
            let hint = match (name, key) {
                ("piecewise", "mass_inside") => {
                    "; give a piece its own effective mass with `mass` in its \
                     [[potential.pieces]] table"
                }
                ("piecewise", "depth" | "half_width") => {
                    "; use type = \"square_well\" for depth and half_width"
                }
                (_, "pieces") => "; use type = \"piecewise\" to give pieces",
                _ => "",
            };
            return Err(invalid(
                path,
                format!("potential.{key}"),
                format!("is not used by type = \"{name}\" ({takes}){hint}"),
            ));
        }
        match self.kind {
            PotentialType::Preset(preset) => {
                presets::resolve(preset, &self.parameters, path, l, mass)
                    .map(PotentialConfig::Preset)
            }
            PotentialType::Piecewise => {
                let pieces = self.pieces.unwrap_or_default();
                if pieces.is_empty() {
                    return Err(invalid(
                        path,
                        "potential.pieces",
                        format!("must hold at least one piece: {takes}"),
                    ));
                }
                let pieces = pieces
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| p.validate(path, i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(PotentialConfig::Piecewise { pieces })
            }
            PotentialType::Tabulated => {
                let Some(file) = self.file else {
                    return Err(invalid(
                        path,
                        "potential.file",
                        format!("is missing: {takes}"),
                    ));
                };
                let csv = path.parent().unwrap_or(Path::new("")).join(&file);
                let table =
                    crate::model::potential::tabulated::read_table(&csv, l).map_err(|e| {
                        invalid(
                            path,
                            "potential.file",
                            format!("= {file:?}: {}: {e}", csv.display()),
                        )
                    })?;
                Ok(PotentialConfig::Tabulated {
                    file: PathBuf::from(file),
                    table,
                })
            }
        }
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum ShapeKind {
    Constant,
    Linear,
    Harmonic,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPiece {
    from: Length,
    to: Length,
    shape: ShapeKind,
    value: Option<Energy>,
    start: Option<Energy>,
    end: Option<Energy>,
    spring: Option<SpringConstant>,
    center: Option<Length>,
    offset: Option<Energy>,
    mass: Option<Mass>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    spacing: Length,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSolve {
    levels: u64,
}

impl RawConfig {
    fn validate(self, path: &Path) -> Result<Config, ConfigError> {
        let bad = |key: &str, message: String| Err(invalid(path, key, message));

        let l = self.system.box_half_width.0;
        if l <= 0.0 {
            return bad(
                "system.box_half_width",
                format!("must be a positive length (bohr), got {l}"),
            );
        }
        let mass = self.system.mass.map_or(1.0, |m| m.0);
        if mass <= 0.0 {
            return bad(
                "system.mass",
                format!("must be a positive mass (m_e), got {mass}"),
            );
        }

        let geometry = match self.system.geometry.as_deref() {
            None => Geometry::Slab,
            Some(name) => Geometry::from_name(name).ok_or_else(|| {
                invalid(
                    path,
                    "system.geometry",
                    format!(
                        "must be \"slab\" (the default), \"sphere\" or \"cylinder\", got {name:?}"
                    ),
                )
            })?,
        };

        let potential = self.potential.validate(path, l, mass)?;

        let h = self.grid.spacing.0;
        if h <= 0.0 {
            return bad(
                "grid.spacing",
                format!("must be a positive length (bohr), got {h}"),
            );
        }
        if h > l {
            return bad(
                "grid.spacing",
                format!(
                    "= {h} bohr must not exceed system.box_half_width = {l} bohr \
                     (the grid needs at least one node inside the box)"
                ),
            );
        }

        let levels = self.solve.levels;
        if levels < 1 {
            return bad("solve.levels", format!("must be at least 1, got {levels}"));
        }
        if levels > MAX_LEVELS as u64 {
            return bad(
                "solve.levels",
                format!("must be at most {MAX_LEVELS}, got {levels}"),
            );
        }

        let analysis = match self.analysis {
            Some(a) => a.validate(path)?,
            None => AnalysisConfig::default(),
        };
        let particles = self.particles.map(|p| p.validate(path)).transpose()?;
        let coulomb = self.coulomb.map(|c| c.validate(path, levels)).transpose()?;
        let resources = self
            .resources
            .map(|r| r.validate(path))
            .transpose()?
            .unwrap_or_default();

        Ok(Config {
            path: path.to_path_buf(),
            system: SystemConfig {
                box_half_width: l,
                mass,
                geometry,
            },
            potential,
            grid: GridConfig { spacing: h },
            solve: SolveConfig {
                levels: levels as usize,
            },
            analysis,
            particles,
            coulomb,
            resources,
        })
    }
}

impl RawPiece {
    fn validate(self, path: &Path, index: usize) -> Result<Piece, ConfigError> {
        let (name, takes): (&str, &str) = match self.shape {
            ShapeKind::Constant => ("constant", "value (energy)"),
            ShapeKind::Linear => ("linear", "start and end (energies at from and at to)"),
            ShapeKind::Harmonic => (
                "harmonic",
                "spring (spring constant), center (length, default 0) and offset (energy, default 0)",
            ),
        };
        let key = |param: &str| format!("potential.pieces[{index}].{param}");
        let given = [
            ("value", self.value.is_some()),
            ("start", self.start.is_some()),
            ("end", self.end.is_some()),
            ("spring", self.spring.is_some()),
            ("center", self.center.is_some()),
            ("offset", self.offset.is_some()),
        ];
        let allowed: &[&str] = match self.shape {
            ShapeKind::Constant => &["value"],
            ShapeKind::Linear => &["start", "end"],
            ShapeKind::Harmonic => &["spring", "center", "offset"],
        };
        if let Some((param, _)) = given
            .iter()
            .find(|(param, is_given)| *is_given && !allowed.contains(param))
        {
            return Err(invalid(
                path,
                key(param),
                format!("is not a parameter of a {name} piece: a {name} piece takes {takes}"),
            ));
        }
        let missing = |param: &str| {
            invalid(
                path,
                key(param),
                format!("is missing: a {name} piece takes {takes}"),
            )
        };
        let shape = match self.shape {
            ShapeKind::Constant => Shape::Constant {
                value: self.value.ok_or_else(|| missing("value"))?.0,
            },
            ShapeKind::Linear => Shape::Linear {
                start: self.start.ok_or_else(|| missing("start"))?.0,
                end: self.end.ok_or_else(|| missing("end"))?.0,
            },
            ShapeKind::Harmonic => Shape::Harmonic {
                spring: self.spring.ok_or_else(|| missing("spring"))?.0,
                center: self.center.map_or(0.0, |c| c.0),
                offset: self.offset.map_or(0.0, |o| o.0),
            },
        };
        let mass = self.mass.map(|m| m.0);
        if let Some(m) = mass {
            if !(m.is_finite() && m > 0.0) {
                return Err(invalid(
                    path,
                    key("mass"),
                    format!(
                        "must be a positive mass (m_e, e.g. 0.067 or \"0.067 m_e\"), got {m}; \
                         leave it out for system.mass"
                    ),
                ));
            }
        }
        Ok(Piece {
            from: self.from.0,
            to: self.to.0,
            shape,
            mass,
        })
    }
}
