//! The typed, validated config: every table of a config file in atomic units, the cases of a
//! study, and what a config builds (the [`Problem`] of its spectrum). Values reach these types
//! only through the raw layer's validation, so their documented ranges hold.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::{invalid, ConfigError};
use super::presets::PresetConfig;
use super::sweep::{SweepPlan, SweptValue};
use crate::channels::RadialProblem;
use crate::model::potential::{Piece, Potential, PotentialError, Shape};
use crate::model::problem::Problem;
use crate::model::radial::Geometry;
use crate::physics::many_body::Spin;
use crate::physics::thermo::microcanonical::Difference;

/// The largest number of levels a config may ask for.
pub const MAX_LEVELS: usize = 10_000_000;

/// `[system]`: the particle and its box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemConfig {
    /// L: hard walls at x = ±L (bohr).
    pub box_half_width: f64,
    /// Particle mass (mₑ); 1 when not given.
    pub mass: f64,
    /// Slab (default), sphere or cylinder; for the last two `box_half_width` is the radius R
    /// and the potential is read as a function of r. Not serialized for the slab, so slab
    /// metadata and case hashes are unchanged.
    #[serde(skip_serializing_if = "Geometry::is_slab")]
    pub geometry: Geometry,
}

/// `[potential]`: V(x) inside the box, as written (in atomic units): pieces, a table, or a
/// preset's parameters ([`crate::pipeline::config::presets`]). Serialized with its `type`, as
/// in the config file.
#[derive(Debug, Clone, PartialEq)]
pub enum PotentialConfig {
    /// Pieces ordered left to right; V = 0 outside every piece.
    Piecewise {
        /// The pieces, in atomic units.
        pieces: Vec<Piece>,
    },
    /// V interpolated linearly between the rows of a CSV table, 0 outside the table's x range.
    Tabulated {
        /// The CSV file as written in the config (relative to the config file's directory).
        file: PathBuf,
        /// The rows read from it, [x (bohr), V (Hartree)], x strictly increasing. Serialized
        /// as a digest (row count, x range, FNV-1a of the values), not row by row: the
        /// serialized config (metadata.json, case hashes) still changes whenever the table
        /// does, but stays small for a table of a million rows.
        table: Vec<[f64; 2]>,
    },
    /// A named profile (`square_well`, `double_well`, …) by its parameters.
    Preset(PresetConfig),
}

impl PotentialConfig {
    /// The `type` as written in the config (`"piecewise"`, `"square_well"`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            PotentialConfig::Piecewise { .. } => "piecewise",
            PotentialConfig::Tabulated { .. } => "tabulated",
            PotentialConfig::Preset(p) => p.type_name(),
        }
    }

    /// The value of the preset parameter `name` in atomic units; `None` for a piecewise or
    /// tabulated potential, or a parameter the preset does not have or was not given.
    pub fn parameter(&self, name: &str) -> Option<f64> {
        match self {
            PotentialConfig::Preset(p) => p.get(name),
            _ => None,
        }
    }

    /// The potential inside the box [−`box_half_width`, `box_half_width`] (bohr): a preset is
    /// built by its constructor ([`crate::model::potential::presets`]) into pieces whose ends
    /// (and table rows) are breakpoints, hence grid nodes.
    pub fn potential(&self, box_half_width: f64) -> Result<Potential, PotentialError> {
        match self {
            PotentialConfig::Piecewise { pieces } => Potential::new(box_half_width, pieces.clone()),
            PotentialConfig::Tabulated { table, .. } => {
                Potential::tabulated(box_half_width, table.clone())
            }
            PotentialConfig::Preset(p) => p.potential(box_half_width),
        }
    }

    /// Names of the regions of the pieces of [`PotentialConfig::potential`], one per piece
    /// (used for the probability columns `P_<name>`).
    pub fn region_names(&self) -> Vec<String> {
        let names: &[&str] = match self {
            PotentialConfig::Piecewise { pieces } => {
                return (0..pieces.len()).map(|i| format!("piece{i}")).collect()
            }
            PotentialConfig::Tabulated { .. } => &Potential::TABULATED_REGIONS,
            PotentialConfig::Preset(p) => p.regions(),
        };
        names.iter().map(|n| n.to_string()).collect()
    }
}

impl Serialize for PotentialConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        /// A table serialized as its digest.
        struct Digest<'a>(&'a Vec<[f64; 2]>);
        impl Serialize for Digest<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                crate::model::potential::tabulated::serialize_digest(self.0, s)
            }
        }
        match self {
            PotentialConfig::Piecewise { pieces } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", self.type_name())?;
                map.serialize_entry("pieces", pieces)?;
                map.end()
            }
            PotentialConfig::Tabulated { file, table } => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("type", self.type_name())?;
                map.serialize_entry("file", file)?;
                map.serialize_entry("table", &Digest(table))?;
                map.end()
            }
            PotentialConfig::Preset(p) => p.serialize(serializer),
        }
    }
}

/// `[grid]`: the finite-difference grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridConfig {
    /// Requested spacing h (bohr), 0 < h ≤ L; the grid may refine it, never coarsen it.
    pub spacing: f64,
}

/// `[solve]`: what to compute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolveConfig {
    /// How many of the lowest levels to compute (1 ..= [`MAX_LEVELS`]).
    pub levels: usize,
}

/// A parsed, validated config file, in atomic units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Where the config came from (used in messages and for the problem's name).
    pub path: PathBuf,
    /// `[system]`.
    pub system: SystemConfig,
    /// `[potential]`.
    pub potential: PotentialConfig,
    /// `[grid]`.
    pub grid: GridConfig,
    /// `[solve]`.
    pub solve: SolveConfig,
    /// `[analysis]` (defaults when absent).
    pub analysis: AnalysisConfig,
    /// `[particles]`: the N-particle studies (absent: one particle only).
    pub particles: Option<ParticlesConfig>,
    /// `[coulomb]`: two interacting electrons (absent: no Coulomb study).
    pub coulomb: Option<CoulombConfig>,
    /// `[resources]`: how much memory the run may use. Not serialized: it does not change any
    /// result, so neither the case hash of a sweep nor metadata.json depends on it.
    #[serde(skip)]
    pub resources: ResourcesConfig,
}

/// `[resources]`: the memory limit every unit of work is checked against
/// ([`crate::resources`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourcesConfig {
    /// `memory_limit` in bytes, with the setting it came from (the key, or the CLI's
    /// `--memory-limit`); `None`: a fraction of the physical memory.
    pub memory_limit: Option<(u64, String)>,
}

/// `[coulomb]`: two electrons with the soft Coulomb interaction λ/(ε_r √((x₁−x₂)² + s²)),
/// by configuration interaction in the lowest orbitals, each ε_r compared with W switched off.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoulombConfig {
    /// λ (dimensionless, ≥ 0; default 1).
    pub strength: f64,
    /// ε_r values (dimensionless, > 0; default `[1]`); one interacting spectrum each.
    pub eps_r: Vec<f64>,
    /// s: softening length (bohr, > 0; default 1).
    pub softening: f64,
    /// M: orbitals of the CI basis (≤ solve.levels).
    pub orbitals: usize,
    /// M′ > M for the convergence report (≤ solve.levels); `None`: no report.
    pub check_orbitals: Option<usize>,
    /// Spin convention (default spin ½: singlets and triplets).
    pub spin: Spin,
    /// States with E/2 ≤ this enter the thermodynamics (Hartree).
    pub energy_per_particle_max: f64,
    /// `[coulomb.grid_check]`: compare the CI with the 2-D grid solve.
    pub grid_check: Option<GridCheckConfig>,
}

impl CoulombConfig {
    /// The label of a variant: "W off" without ε_r, else "eps_r = <ε_r>"; its tables go to
    /// `coulomb/<directory_name(label)>/`.
    pub fn variant_label(eps_r: Option<f64>) -> String {
        eps_r.map_or_else(|| "W off".to_string(), |e| format!("eps_r = {e}"))
    }
}

/// `[coulomb.grid_check]`: the lowest states of each sector by CI and by the 2-D grid solve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GridCheckConfig {
    /// States compared per exchange sector (default 10).
    pub levels: usize,
    /// Largest memory the 2-D solve may use (bytes; default 4 GiB).
    pub memory_limit_bytes: u64,
}

/// Default of `coulomb.softening` (bohr).
pub const DEFAULT_SOFTENING: f64 = 1.0;

/// How the N-particle states are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CountingMethod {
    /// Enumerate when the states fit in `state_limit`, bin otherwise.
    #[default]
    Auto,
    /// Every state with its ⟨K⟩ (T^(K) branches, exact Hertz entropy).
    Enumerate,
    /// Exact counts on energy bins (large N).
    Binned,
}

/// Which per-state table (`states.csv`: every enumerated state with its energy, ⟨K⟩, T^(K),
/// Hertz S, T^(μ) and occupied orbitals) an N-particle result writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum StatesFile {
    /// `states.csv` when there are at most [`STATES_AUTO_ROWS`] states, none otherwise.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// `states.csv` (up to [`STATES_MAX_ROWS`] states).
    #[serde(rename = "csv")]
    Csv,
    /// `states.csv.gz`: the same table, gzip-compressed (up to [`STATES_MAX_ROWS`] states).
    #[serde(rename = "csv.gz")]
    CsvGz,
    /// No per-state table.
    #[serde(rename = "none")]
    None,
}

/// Most states `particles.states_file = "auto"` writes: about 1.3 MB of `states.csv`.
pub const STATES_AUTO_ROWS: usize = 10_000;
/// Most states any `states_file` writes (the table is built in memory before it is written:
/// about 26 MB at this size).
pub const STATES_MAX_ROWS: usize = 200_000;

impl StatesFile {
    /// The file name for a result of `states` states, or why none is written.
    pub fn file_name(self, states: usize) -> Result<&'static str, String> {
        let too_many =
            |limit: usize, key: &str| format!("{states} states are more than {limit}{key}");
        match self {
            Self::None => Err("particles.states_file = \"none\"".into()),
            Self::Auto if states > STATES_AUTO_ROWS => Err(too_many(
                STATES_AUTO_ROWS,
                " (the \"auto\" limit; set particles.states_file = \"csv.gz\" or \"csv\" to write them)",
            )),
            _ if states > STATES_MAX_ROWS => Err(too_many(STATES_MAX_ROWS, "")),
            Self::CsvGz => Ok("states.csv.gz"),
            Self::Auto | Self::Csv => Ok("states.csv"),
        }
    }
}

/// `[particles]`: non-interacting fermions filling the single-particle orbitals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticlesConfig {
    /// The particle numbers N to study.
    pub counts: Vec<usize>,
    /// Spin ½ electrons (two per orbital) or spinless fermions.
    pub spin: Spin,
    /// States up to E/N ≤ this energy per particle are counted (Hartree).
    pub energy_per_particle_max: f64,
    /// Largest number of occupations an enumeration may hold.
    pub state_limit: usize,
    /// Enumerate, bin, or choose.
    pub method: CountingMethod,
    /// Width of the energy bins of binned counting (Hartree, total energy); default ε/4.
    pub bin_width: Option<f64>,
    /// The per-state table of enumerated results.
    pub states_file: StatesFile,
    /// True when `state_limit` was written in the config: a limit that does not fit in memory
    /// is then refused, while the default is lowered to what fits.
    #[serde(skip)]
    pub state_limit_given: bool,
}

/// Default cap on enumerated occupations (about 1.5 GB of states at N = 4).
pub const DEFAULT_STATE_LIMIT: usize = 20_000_000;
/// Largest particle number a config may ask for.
pub const MAX_PARTICLES: usize = 100_000;

/// An equally spaced energy grid from `from` to `to` (inclusive when it lands there) with step
/// `step` (Hartree).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EnergyGrid {
    /// First energy (Hartree).
    pub from: f64,
    /// Last energy (Hartree).
    pub to: f64,
    /// Step (Hartree).
    pub step: f64,
}

impl EnergyGrid {
    /// The grid points, ascending (Hartree).
    pub fn points(&self) -> Vec<f64> {
        let count = ((self.to - self.from) / self.step * (1.0 + 1e-12)).floor() as usize + 1;
        (0..count)
            .map(|i| self.from + self.step * i as f64)
            .collect()
    }
}

/// `points` temperatures spaced evenly in ln T from `from` to `to` (Hartree, k_B = 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TemperatureRange {
    /// Lowest temperature (Hartree).
    pub from: f64,
    /// Highest temperature (Hartree).
    pub to: f64,
    /// Number of temperatures (≥ 2).
    pub points: usize,
}

impl TemperatureRange {
    /// The temperatures, ascending and log-spaced (Hartree).
    pub fn points(&self) -> Vec<f64> {
        let (a, b) = (self.from.ln(), self.to.ln());
        (0..self.points)
            .map(|i| {
                if i + 1 == self.points {
                    self.to
                } else {
                    (a + (b - a) * i as f64 / (self.points - 1) as f64).exp()
                }
            })
            .collect()
    }
}

/// `[analysis]`: which thermodynamics to compute and on which grids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisConfig {
    /// ε of the window average T_E^(K) (Hartree); paper: 0.0004.
    pub epsilon: f64,
    /// Energies at which T^(C) and T_E^(K) are tabulated; `None`: from E_0 to the highest
    /// computed level in steps of ε/4.
    pub energy_grid: Option<EnergyGrid>,
    /// Temperatures of the canonical table; `None`: 200 log-spaced points from a twentieth of
    /// the first excitation energy to a twentieth of the computed spectrum's width.
    pub temperatures: Option<TemperatureRange>,
    /// Finite difference of T^(μ).
    pub difference: Difference,
    /// Largest Boltzmann weight the omitted levels may carry at the highest temperature
    /// (fraction of Z); the spectrum is extended until the rigorous bound is below it.
    pub truncation_tolerance: f64,
    /// Smallest relative drop (t_start − t_end)/|t_start| of a negative-heat-capacity interval
    /// that `nhc.csv` lists (dimensionless); the smaller ones are summarized in one row.
    pub nhc_min_relative_drop: f64,
    /// Largest number of intervals per temperature definition that one `nhc.csv` lists (those
    /// with the largest drops); the others are summarized in its `below_threshold` row.
    pub nhc_max_intervals: usize,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            epsilon: DEFAULT_EPSILON,
            energy_grid: None,
            temperatures: None,
            difference: Difference::Centered,
            truncation_tolerance: DEFAULT_TRUNCATION_TOLERANCE,
            nhc_min_relative_drop: DEFAULT_NHC_MIN_RELATIVE_DROP,
            nhc_max_intervals: DEFAULT_NHC_MAX_INTERVALS,
        }
    }
}

/// Default ε of T_E^(K): the paper's 0.0004 Ha.
pub const DEFAULT_EPSILON: f64 = 4e-4;
/// Default smallest relative drop listed in `nhc.csv`: 0.8 keeps every drop of the paper's
/// figures (T^(K), T^(μ), T_E^(K) across the top of the well, 98.5–99.7 % for one particle;
/// the largest T_E^(K) drop of N = 2, 3, 4 spin-½ electrons, 86–99.6 %) and the smallest drop
/// across the well top of `configs/paper.toml` (T^(μ) of U₀ = 0.1, a = 4, L = 40: 80.3 %), and
/// summarizes the per-state sawtooth of N ≥ 3 (hundreds of thousands of small intervals).
pub const DEFAULT_NHC_MIN_RELATIVE_DROP: f64 = 0.8;
/// Default cap on the intervals per definition listed in one `nhc.csv`: 100 keeps every
/// interval of one-particle and N = 2 tables of `configs/paper.toml` (at most 80 per
/// definition) and every T_E^(K) interval, and cuts the N = 3 and N = 4 per-state saw-tooth of
/// T^(K) and T^(μ) (up to 35 000 intervals of a few µHa) to its 100 largest drops.
pub const DEFAULT_NHC_MAX_INTERVALS: usize = 100;
/// Default bound on the Boltzmann weight of omitted levels.
pub const DEFAULT_TRUNCATION_TOLERANCE: f64 = 1e-10;

/// One named parameter set of a study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// The case's name (`cases[i].name`, or the file stem when there are no cases).
    pub name: String,
    /// The full, validated config of this case.
    pub config: Config,
    /// The values of the swept keys in this case (empty outside a `[sweep]`).
    pub swept: Vec<SweptValue>,
    /// The `[[cases]]` entry a sweep case comes from (`None` without `[[cases]]`).
    pub base_case: Option<String>,
}

/// A config file with all its cases: the base tables, overridden per `[[cases]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Study {
    /// The config file.
    pub path: PathBuf,
    /// The file stem (default output directory name).
    pub name: String,
    /// The cases, in file order (one when the file has no `[[cases]]`); with a `[sweep]`, every
    /// sweep point of every case, the case varying slowest.
    pub cases: Vec<Case>,
    /// The expanded `[sweep]` table, if the file has one.
    pub sweep: Option<SweepPlan>,
}

impl Study {
    /// Sets the memory limit of every case to `bytes`, given by `origin` (e.g. the CLI's
    /// `--memory-limit 4 GiB`), over any `[resources] memory_limit` of the file.
    pub fn set_memory_limit(&mut self, bytes: u64, origin: &str) {
        for case in &mut self.cases {
            case.config.resources.memory_limit = Some((bytes, origin.to_string()));
        }
    }

    /// The case named `name`, or the first case when `name` is `None`.
    pub fn case(&self, name: Option<&str>) -> Result<&Case, ConfigError> {
        match name {
            None => Ok(&self.cases[0]),
            Some(n) => self.cases.iter().find(|c| c.name == n).ok_or_else(|| {
                let names: Vec<&str> = self.cases.iter().map(|c| c.name.as_str()).collect();
                invalid(
                    &self.path,
                    "cases",
                    format!(
                        "has no case named \"{n}\"; the cases are: {}",
                        names.join(", ")
                    ),
                )
            }),
        }
    }
}

/// Largest |V| and kinetic energy scale 1/(m h²) a config may produce (Hartree): far beyond any
/// physical problem, and small enough that every sum the solver forms stays finite.
pub const MAX_ENERGY_SCALE: f64 = 1e100;

impl Config {
    /// The problem in atomic units, with the potential built and validated, and the default
    /// solver options.
    pub fn problem(&self) -> Result<Problem, ConfigError> {
        if self.system.geometry.is_radial() {
            // Every slab-only path stops here, before any output.
            return Err(self.invalid(
                "system.geometry",
                format!(
                    "= \"{}\" is solved by `confine run`, `spectrum`, `validate`, `converge` \
                     and `matrix --channel L` (and the library's channels::RadialProblem); this \
                     command takes only the slab (geometry = \"slab\" or no geometry)",
                    self.system.geometry.name()
                ),
            ));
        }
        self.profile_problem()
    }

    /// The problem that sizes a config's work (memory estimates): the slab's problem, or for a
    /// sphere or cylinder its profile on [−R, R], whose grid has about twice the nodes of the
    /// radial one — an upper bound for one channel's amplitudes.
    pub fn sizing_problem(&self) -> Result<Problem, ConfigError> {
        if self.system.geometry.is_radial() {
            self.profile_problem()
        } else {
            self.problem()
        }
    }

    /// The problem of the profile as written on [−L, L], whatever the geometry (the parser's
    /// checks of the potential and of the scales of H use it).
    pub(crate) fn profile_problem(&self) -> Result<Problem, ConfigError> {
        let potential = self
            .potential
            .potential(self.system.box_half_width)
            .map_err(|e| self.potential_error(e))?;
        Ok(Problem::new(
            potential,
            self.system.mass,
            self.grid.spacing,
            self.solve.levels,
        ))
    }

    /// The radial problem of a sphere or cylinder config (`None` for the slab): a preset is read
    /// as a function of r (its x ≥ 0 half: the square well is a core of radius a, the core–shell
    /// a core in a shell, the double well a spherical shell well around a central barrier);
    /// pieces or table rows at r < 0 are refused, naming the key.
    pub fn radial_problem(&self) -> Result<Option<RadialProblem>, ConfigError> {
        let geometry = self.system.geometry;
        if geometry.is_slab() {
            return Ok(None);
        }
        let potential = self
            .potential
            .potential(self.system.box_half_width)
            .map_err(|e| self.potential_error(e))?;
        let radial = match &self.potential {
            PotentialConfig::Preset(_) => {
                potential
                    .radial_part()
                    .map_err(|e| self.potential_error(e))?
                    .0
            }
            PotentialConfig::Piecewise { pieces } => {
                if let Some(i) = pieces.iter().position(|p| p.from < 0.0) {
                    return Err(self.invalid(
                        format!("potential.pieces[{i}].from"),
                        format!(
                            "= {} bohr is negative, but with system.geometry = \"{}\" the \
                             potential is a function of the radius r: pieces must lie in \
                             [0, R] with R = system.box_half_width",
                            pieces[i].from,
                            geometry.name()
                        ),
                    ));
                }
                potential
            }
            PotentialConfig::Tabulated { table, .. } => {
                if let Some(row) = table.iter().find(|r| r[0] < 0.0) {
                    return Err(self.invalid(
                        "potential.file",
                        format!(
                            "has a row at x = {} bohr, but with system.geometry = \"{}\" the \
                             table is V(r) and its r must lie in [0, R] with R = \
                             system.box_half_width",
                            row[0],
                            geometry.name()
                        ),
                    ));
                }
                potential
            }
        };
        RadialProblem::new(radial, self.system.mass, self.grid.spacing, geometry)
            .map(Some)
            .map_err(|e| self.invalid("system.geometry", e.to_string()))
    }

    /// The memory limit of this config's run ([`crate::resources::limit`]): `[resources]
    /// memory_limit` (or what the CLI put there) capped at the physical memory, or by default a
    /// fraction of the physical memory.
    pub fn memory_limit(&self) -> crate::resources::MemoryLimit {
        crate::resources::limit(
            self.resources
                .memory_limit
                .as_ref()
                .map(|(bytes, origin)| (*bytes, origin.as_str())),
        )
    }

    /// Refuses a potential or a grid whose Hamiltonian would hold entries beyond
    /// ±[`MAX_ENERGY_SCALE`] (or not finite), naming the key that produces them: a piece whose V
    /// overflows (a spring of 1e300, a linear ramp from -1e308 to 1e308), or a mass and spacing
    /// whose kinetic scale 1/(m h²) does.
    pub(super) fn check_scales(&self, problem: &Problem) -> Result<(), ConfigError> {
        for (i, piece) in problem.potential.pieces().iter().enumerate() {
            let mut values = vec![
                piece.value(piece.from),
                piece.value(piece.to),
                piece.min_value(),
            ];
            if let Shape::Tabulated { table } = &piece.shape {
                values.extend(table.iter().map(|r| r[1]));
            }
            if let Some(v) = values
                .into_iter()
                .find(|v| !(v.is_finite() && v.abs() <= MAX_ENERGY_SCALE))
            {
                return Err(self.invalid(
                    self.piece_key(i),
                    format!(
                        "gives V = {v:e} Ha on [{}, {}] bohr: the potential must stay between -{MAX_ENERGY_SCALE:e} and {MAX_ENERGY_SCALE:e} Ha inside the box (check the values and units of this piece)",
                        piece.from, piece.to
                    ),
                ));
            }
        }
        let Ok(segments) = crate::model::grid::Grid::aligned_segments(
            problem.potential.box_half_width(),
            &problem.potential.breakpoints(),
            problem.spacing,
        ) else {
            // The grid's own error comes when it is built.
            return Ok(());
        };
        let h = segments
            .iter()
            .map(crate::model::grid::Segment::spacing)
            .fold(f64::INFINITY, f64::min);
        let (mass, key) = problem
            .potential
            .pieces()
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.mass.map(|m| (m, self.mass_key(i))))
            .fold((problem.mass, "system.mass".to_string()), |best, (m, k)| {
                if m < best.0 {
                    (m, k)
                } else {
                    best
                }
            });
        let scale = 1.0 / (mass * h * h);
        if !(scale.is_finite() && scale <= MAX_ENERGY_SCALE) {
            return Err(self.invalid(
                key,
                format!(
                    "= {mass:e} m_e with the smallest grid spacing {h:e} bohr (grid.spacing = {} bohr, or closer breakpoints) gives a kinetic energy scale 1/(m h^2) = {scale:e} Ha, beyond {MAX_ENERGY_SCALE:e} Ha: use a larger mass or a coarser grid.spacing",
                    problem.spacing
                ),
            ));
        }
        Ok(())
    }

    /// The key that sets the potential on piece `index` of [`PotentialConfig::potential`].
    fn piece_key(&self, index: usize) -> String {
        match &self.potential {
            PotentialConfig::Piecewise { .. } => format!("potential.pieces[{index}]"),
            PotentialConfig::Tabulated { .. } => "potential.file".to_string(),
            PotentialConfig::Preset(p) => format!("potential.{}", p.sets_piece(index)),
        }
    }

    /// The key that sets the effective mass of piece `index`.
    fn mass_key(&self, index: usize) -> String {
        match &self.potential {
            PotentialConfig::Piecewise { .. } => format!("potential.pieces[{index}].mass"),
            _ => "potential.mass_inside".to_string(),
        }
    }

    fn invalid(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        invalid(&self.path, key, message)
    }

    fn potential_error(&self, e: PotentialError) -> ConfigError {
        match e {
            PotentialError::BoxHalfWidth(v) => self.invalid(
                "system.box_half_width",
                format!("must be a positive length (bohr), got {v}"),
            ),
            PotentialError::Piece { index, reason } => {
                let key = match self.potential {
                    PotentialConfig::Piecewise { .. } => format!("potential.pieces[{index}]"),
                    _ => "potential".to_string(),
                };
                self.invalid(key, format!("is invalid: {reason}"))
            }
            PotentialError::Overlap {
                first,
                second,
                end,
                start,
            } => self.invalid(
                format!("potential.pieces[{second}].from"),
                format!(
                    "= {start} bohr lies left of the end of potential.pieces[{first}] \
                     (to = {end} bohr): pieces must be listed left to right and may only touch, \
                     so this piece must start at {end} bohr or later"
                ),
            ),
        }
    }
}
