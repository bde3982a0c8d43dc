//! The TOML config schema and its validation.
//!
//! A config describes one problem: a particle of mass `m` in the hard-wall box [−L, L] with a
//! potential inside it, the grid spacing to solve it on and how many levels to compute. Every
//! quantity may be a plain number (atomic units: Hartree, bohr, mₑ) or a string with a unit
//! (`"2.7 eV"`, `"1 nm"`, see [`crate::model::units`]). Unknown keys are errors everywhere.
//!
//! ```toml
//! [system]
//! box_half_width = 200.0        # L: hard walls at x = ±L
//! mass = 1.0                    # in m_e (optional, default 1)
//! [potential]
//! type = "square_well"          # V = -depth for |x| < half_width, 0 elsewhere inside the box
//! depth = 0.1
//! half_width = 20.0
//! mass_inside = "0.067 m_e"     # optional: effective mass in the well (default system.mass)
//! [grid]
//! spacing = 0.25                # requested h (bohr); the grid may refine it, never coarsen it
//! [solve]
//! levels = 200                  # how many lowest levels to compute
//! ```
//!
//! A piecewise potential lists its pieces left to right; V = 0 outside every piece:
//!
//! ```toml
//! [potential]
//! type = "piecewise"
//! [[potential.pieces]]
//! from = -20.0
//! to = 0.0
//! shape = "linear"              # V goes linearly from `start` at `from` to `end` at `to`
//! start = 0.0
//! end = "-2.7 eV"
//! [[potential.pieces]]
//! from = "0 nm"
//! to = "1 nm"
//! shape = "constant"            # V = value
//! value = -0.1
//! [[potential.pieces]]
//! from = "1 nm"
//! to = "3 nm"
//! shape = "harmonic"            # V = spring/2 (x - center)^2 + offset
//! spring = "0.05 eV/nm^2"
//! center = "2 nm"               # optional, default 0
//! offset = "-50 meV"            # optional, default 0
//! mass = "0.067 m_e"            # optional on any piece: its effective mass (default system.mass)
//! ```
//!
//! With effective masses the Hamiltonian is BenDaniel–Duke's −½ d/dx (1/m(x)) d/dx + V(x);
//! outside every piece the mass is `system.mass`.
//!
//! Presets name common profiles by their physical parameters; each is expanded into pieces
//! ([`PotentialConfig::potential`]) whose ends are breakpoints, hence grid nodes, and is kept as
//! written in [`Config::potential`] (and in metadata.json) for provenance:
//!
//! ```toml
//! type = "double_well"      # V = -depth on b/2 < |x| < b/2 + well_width (b = barrier_width),
//! depth = 0.1               #     barrier_height - depth on |x| < b/2, 0 elsewhere
//! well_width = 10.0
//! barrier_width = 4.0
//! barrier_height = 0.1      # optional, above the well bottom; default depth (barrier at V = 0)
//!
//! type = "core_shell"       # V = -core_depth on |x| < core_half_width,
//! core_depth = "2.7 eV"     #     -shell_depth on core_half_width < |x| < shell_half_width
//! core_half_width = "1 nm"
//! shell_depth = "1 eV"
//! shell_half_width = "3 nm"
//!
//! type = "harmonic"         # V = min(spring x^2 / 2 - depth, 0): the parabola is cut where it
//! omega = "50 meV"          #     reaches 0, at |x| = sqrt(2 depth / spring), or by the walls;
//! depth = "0.3 eV"          #     omega = hbar*omega (spring = m omega^2, m = system.mass) or
//!                           #     spring = "0.05 eV/nm^2"; without depth V = spring x^2 / 2
//!
//! type = "smooth_well"      # Woods–Saxon V = -depth / (1 + exp((|x| - half_width) / edge_width))
//! depth = 0.1               #     on the whole box; edge_width -> 0 gives the square well
//! half_width = 20.0
//! edge_width = 1.0
//!
//! type = "tabulated"        # V linear between the rows of a CSV (x, V), 0 outside its x range;
//! file = "well.csv"         #     the path is relative to the config file; see crate::model::potential::tabulated
//! ```
//!
//! How much memory a run may use (default: 80% of the physical memory, see
//! [`crate::resources`]):
//!
//! ```toml
//! [resources]
//! memory_limit = "16 GiB"
//! ```
//!
//! Errors name the file and the offending key (`potential.pieces[1].to`), and say what would be
//! valid; syntax and type errors keep toml's line/column snippet.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::potential::{Piece, Potential, PotentialError, Shape};
use crate::model::units::{Energy, Length, Mass, SpringConstant, Temperature};
use crate::physics::many_body::Spin;
use crate::physics::thermo::microcanonical::Difference;

/// The largest number of levels a config may ask for.
pub const MAX_LEVELS: usize = 10_000_000;

/// Everything the spine needs to solve one problem, in atomic units.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Name of the problem: the config file's stem.
    pub name: String,
    /// The potential inside the box [−L, L].
    pub potential: Potential,
    /// Particle mass (mₑ).
    pub mass: f64,
    /// Requested grid spacing h (bohr); the grid may refine it, never coarsen it.
    pub spacing: f64,
    /// How many of the lowest levels to compute.
    pub levels: usize,
}

/// `[system]`: the particle and its box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemConfig {
    /// L: hard walls at x = ±L (bohr).
    pub box_half_width: f64,
    /// Particle mass (mₑ); 1 when not given.
    pub mass: f64,
}

/// `[potential]`: V(x) inside the box.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PotentialConfig {
    /// V = −depth for |x| < half_width, 0 elsewhere inside the box.
    SquareWell {
        /// Depth U₀ > 0 (Hartree).
        depth: f64,
        /// Half-width a of the well, 0 < a < L (bohr).
        half_width: f64,
        /// Effective mass in the well (mₑ); `None`: the system mass. The rest of the box always
        /// has the system mass.
        #[serde(skip_serializing_if = "Option::is_none")]
        mass_inside: Option<f64>,
    },
    /// Pieces ordered left to right; V = 0 outside every piece.
    Piecewise {
        /// The pieces, in atomic units.
        pieces: Vec<Piece>,
    },
    /// Two wells V = −depth on barrier_width/2 < |x| < barrier_width/2 + well_width, separated
    /// by the barrier V = barrier_height − depth on |x| < barrier_width/2; 0 elsewhere.
    DoubleWell {
        /// Depth of each well below the outside level 0 (Hartree).
        depth: f64,
        /// Width of each well (bohr).
        well_width: f64,
        /// Width of the barrier between the wells (bohr).
        barrier_width: f64,
        /// Height of the barrier above the well bottom (Hartree); default `depth` (the barrier is
        /// at the outside level 0).
        barrier_height: f64,
    },
    /// A deep core V = −core_depth on |x| < core_half_width inside a shell V = −shell_depth on
    /// core_half_width < |x| < shell_half_width; 0 elsewhere.
    CoreShell {
        /// Depth of the core (Hartree).
        core_depth: f64,
        /// Half-width of the core (bohr).
        core_half_width: f64,
        /// Depth of the shell (Hartree).
        shell_depth: f64,
        /// Outer half-width of the shell (bohr).
        shell_half_width: f64,
    },
    /// V = ½ k x² − depth, cut at V = 0: V = min(½ k x² − depth, 0), the parabola spanning
    /// |x| < √(2 depth / k); without a depth V = ½ k x² fills the box (cut by the walls only).
    Harmonic {
        /// Spring constant k = m ω² (Hartree / bohr²).
        spring: f64,
        /// ħω = √(k / m) with the system mass m (Hartree).
        omega: f64,
        /// Depth of the parabola's bottom below 0 (Hartree); `None`: the parabola is not cut.
        #[serde(skip_serializing_if = "Option::is_none")]
        depth: Option<f64>,
    },
    /// Woods–Saxon well V = −depth / (1 + exp((|x| − half_width) / edge_width)) on the whole box.
    SmoothWell {
        /// Depth U₀ (Hartree).
        depth: f64,
        /// Half-width a at half depth (bohr).
        half_width: f64,
        /// Edge width w > 0 (bohr); w → 0 gives the square well.
        edge_width: f64,
    },
    /// V interpolated linearly between the rows of a CSV table, 0 outside the table's x range.
    Tabulated {
        /// The CSV file as written in the config (relative to the config file's directory).
        file: PathBuf,
        /// The rows read from it, [x (bohr), V (Hartree)], x strictly increasing. Serialized
        /// as a digest (row count, x range, FNV-1a of the values), not row by row: the
        /// serialized config (metadata.json, case hashes) still changes whenever the table
        /// does, but stays small for a table of a million rows.
        #[serde(serialize_with = "crate::model::potential::tabulated::serialize_digest")]
        table: Vec<[f64; 2]>,
    },
}

impl PotentialConfig {
    /// The potential inside the box [−`box_half_width`, `box_half_width`] (bohr) with every
    /// preset expanded into pieces whose ends (and table rows) are breakpoints, hence grid nodes.
    pub fn potential(&self, box_half_width: f64) -> Result<Potential, PotentialError> {
        let l = box_half_width;
        let constant = |from: f64, to: f64, value: f64| Piece {
            from,
            to,
            shape: Shape::Constant { value },
            mass: None,
        };
        match self {
            PotentialConfig::SquareWell {
                depth,
                half_width,
                mass_inside: None,
            } => Potential::square_well(l, *depth, *half_width),
            PotentialConfig::SquareWell {
                depth,
                half_width,
                mass_inside: Some(m),
            } => Potential::square_well_with_mass(l, *depth, *half_width, *m),
            PotentialConfig::Piecewise { pieces } => Potential::new(l, pieces.clone()),
            PotentialConfig::DoubleWell {
                depth,
                well_width,
                barrier_width,
                barrier_height,
            } => {
                let (b, o) = (0.5 * barrier_width, 0.5 * barrier_width + well_width);
                Potential::new(
                    l,
                    vec![
                        constant(-o, -b, -depth),
                        constant(-b, b, barrier_height - depth),
                        constant(b, o, -depth),
                    ],
                )
            }
            PotentialConfig::CoreShell {
                core_depth,
                core_half_width,
                shell_depth,
                shell_half_width,
            } => {
                let (c, s) = (*core_half_width, *shell_half_width);
                Potential::new(
                    l,
                    vec![
                        constant(-s, -c, -shell_depth),
                        constant(-c, c, -core_depth),
                        constant(c, s, -shell_depth),
                    ],
                )
            }
            PotentialConfig::Harmonic { spring, depth, .. } => {
                let edge = self.harmonic_edge(l).unwrap_or(l);
                Potential::new(
                    l,
                    vec![Piece {
                        from: -edge,
                        to: edge,
                        shape: Shape::Harmonic {
                            spring: *spring,
                            center: 0.0,
                            offset: -depth.unwrap_or(0.0),
                        },
                        mass: None,
                    }],
                )
            }
            PotentialConfig::SmoothWell {
                depth,
                half_width,
                edge_width,
            } => {
                let shape = Shape::WoodsSaxon {
                    depth: *depth,
                    radius: *half_width,
                    edge_width: *edge_width,
                    center: 0.0,
                };
                let piece = |from: f64, to: f64| Piece {
                    from,
                    to,
                    shape: shape.clone(),
                    mass: None,
                };
                let a = *half_width;
                Potential::new(l, vec![piece(-l, -a), piece(-a, a), piece(a, l)])
            }
            PotentialConfig::Tabulated { table, .. } => {
                let (Some(first), Some(last)) = (table.first(), table.last()) else {
                    return Potential::new(l, Vec::new());
                };
                Potential::new(
                    l,
                    vec![Piece {
                        from: first[0],
                        to: last[0],
                        shape: Shape::Tabulated {
                            table: table.clone(),
                        },
                        mass: None,
                    }],
                )
            }
        }
    }

    /// For `type = "harmonic"` with a depth: the half-width √(2 depth / k) (bohr) where the
    /// parabola reaches 0, when it lies inside the box of half-width `box_half_width`; `None`
    /// otherwise (the parabola then fills the box).
    pub fn harmonic_edge(&self, box_half_width: f64) -> Option<f64> {
        match self {
            PotentialConfig::Harmonic {
                spring,
                depth: Some(depth),
                ..
            } => Some((2.0 * depth / spring).sqrt()).filter(|&x| x < box_half_width),
            _ => None,
        }
    }

    /// Names of the regions of the pieces of [`PotentialConfig::potential`], one per piece
    /// (used for the probability columns `P_<name>`).
    pub fn region_names(&self) -> Vec<String> {
        let names: &[&str] = match self {
            PotentialConfig::SquareWell { .. } => &["well"],
            PotentialConfig::Piecewise { pieces } => {
                return (0..pieces.len()).map(|i| format!("piece{i}")).collect()
            }
            PotentialConfig::DoubleWell { .. } => &["left_well", "barrier", "right_well"],
            PotentialConfig::CoreShell { .. } => &["left_shell", "core", "right_shell"],
            PotentialConfig::Harmonic { .. } => &["parabola"],
            PotentialConfig::SmoothWell { .. } => &["left_edge", "well", "right_edge"],
            PotentialConfig::Tabulated { .. } => &["table"],
        };
        names.iter().map(|n| n.to_string()).collect()
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
    /// ε_r values (dimensionless, > 0; default [1]); one interacting spectrum each.
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
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            epsilon: DEFAULT_EPSILON,
            energy_grid: None,
            temperatures: None,
            difference: Difference::Centered,
            truncation_tolerance: DEFAULT_TRUNCATION_TOLERANCE,
        }
    }
}

/// Default ε of T_E^(K): the paper's 0.0004 Ha.
pub const DEFAULT_EPSILON: f64 = 4e-4;
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
    pub swept: Vec<crate::pipeline::sweep::SweptValue>,
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
    pub sweep: Option<crate::pipeline::sweep::SweepPlan>,
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

/// Why a config could not be used. The Display of every variant starts with the file's path.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    // The I/O error's text is in the message; it is not also the `source()` (a printed chain
    // would repeat it).
    #[error("{}: cannot read the config file: {error}", path.display())]
    Io {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The file is not valid TOML, or does not fit the schema (unknown or missing key, wrong
    /// type, bad unit, non-finite number).
    #[error("{}: {message}", path.display())]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The dotted key when it could be found, then toml's message with line, column and a
        /// snippet.
        message: String,
    },
    /// The file parses but a value is out of range or inconsistent.
    #[error("{}: {key} {message}", path.display())]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Dotted key of the offending value, e.g. `potential.pieces[1].to`.
        key: String,
        /// What is wrong and what would be valid (follows the key in the Display).
        message: String,
    },
}

/// Reads, parses and validates the config file at `path`, which must describe one problem
/// (no `[[cases]]`, or exactly one); see [`load_study`] for files with several cases.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let study = load_study(path)?;
    if study.cases.len() != 1 {
        let names: Vec<&str> = study.cases.iter().map(|c| c.name.as_str()).collect();
        return Err(invalid(
            path,
            "cases",
            format!(
                "holds {} cases ({}): choose one (e.g. --case {})",
                names.len(),
                names.join(", "),
                names[0]
            ),
        ));
    }
    Ok(study.cases.into_iter().next().expect("one case").config)
}

/// Reads a config file with all its `[[cases]]`: each case is the base tables with the case's
/// keys overriding them (any key, dotted or as sub-tables: `potential.depth = "5.4 eV"`), and is
/// validated as a full config.
pub fn load_study(path: &Path) -> Result<Study, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    parse_study(&text, path)
}

/// [`load_study`] from a string; `origin` is the path used in messages.
pub fn parse_study(text: &str, origin: &Path) -> Result<Study, ConfigError> {
    let name = origin
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "config".to_string());
    let mut doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Parse {
            path: origin.to_path_buf(),
            message: parse_message(text, &e),
        })?;
    let sweep = match doc.remove("sweep") {
        None => None,
        Some(toml::Value::Table(t)) => Some(crate::pipeline::sweep::parse_plan(t, origin)?),
        Some(_) => {
            return Err(invalid(
                origin,
                "sweep",
                "must be a table: write [sweep] followed by the swept keys",
            ))
        }
    };
    // (name, merged tables) of every case before the sweep.
    let mut bases: Vec<(String, Option<usize>, toml::Table)> = Vec::new();
    match doc.remove("cases") {
        None => bases.push((name.clone(), None, doc)),
        Some(toml::Value::Array(cases)) => {
            if cases.is_empty() {
                return Err(invalid(origin, "cases", "must hold at least one case"));
            }
            for (i, case) in cases.into_iter().enumerate() {
                let toml::Value::Table(mut overrides) = case else {
                    return Err(invalid(
                        origin,
                        format!("cases[{i}]"),
                        "must be a table ([[cases]])",
                    ));
                };
                let case_name = match overrides.remove("name") {
                    Some(toml::Value::String(n)) if !n.trim().is_empty() => n,
                    Some(_) => {
                        return Err(invalid(
                            origin,
                            format!("cases[{i}].name"),
                            "must be a non-empty string",
                        ))
                    }
                    None => {
                        return Err(invalid(
                            origin,
                            format!("cases[{i}].name"),
                            "is missing: every case needs a name (it names its output directory)",
                        ))
                    }
                };
                if !case_name.chars().all(is_name_char) {
                    return Err(invalid(
                        origin,
                        format!("cases[{i}].name"),
                        format!("= \"{case_name}\" may only hold letters, digits and - _ . + = (it names a directory)"),
                    ));
                }
                if let Some(key) = overrides.keys().find(|k| !CASE_SECTIONS.contains(&k.as_str())) {
                    return Err(invalid(
                        origin,
                        format!("cases[{i}].{key}"),
                        format!(
                            "is not a key of a case: a [[cases]] entry holds its name and the \
                             tables it overrides ({}); a sweep or further cases go at the top level",
                            CASE_SECTIONS.join(", ")
                        ),
                    ));
                }
                if let Some(problem) = directory_name_problem(&case_name) {
                    return Err(invalid(
                        origin,
                        format!("cases[{i}].name"),
                        format!("{problem}: a case name names the case's output directory; use letters, digits and - _ . + =, not starting with '.', at most {MAX_NAME_BYTES} bytes"),
                    ));
                }
                if let Some((n, _, _)) = bases
                    .iter()
                    .find(|(n, _, _)| n.to_lowercase() == case_name.to_lowercase())
                {
                    return Err(invalid(
                        origin,
                        format!("cases[{i}].name"),
                        format!("= \"{case_name}\" is used by an earlier case (\"{n}\"; names are compared ignoring case, as some file systems do): names must be unique"),
                    ));
                }
                let mut merged = doc.clone();
                merge_tables(&mut merged, overrides);
                bases.push((case_name, Some(i), merged));
            }
        }
        Some(_) => {
            return Err(invalid(
                origin,
                "cases",
                "must be an array of tables: write each case as [[cases]] with a name and the keys it overrides",
            ))
        }
    };
    let explicit_cases = bases.iter().any(|(_, i, _)| i.is_some());
    // The file stem names the default output directory, and the case when there are no
    // [[cases]]; then it must be a safe case directory name too.
    let stem_problem = directory_name_problem(&name)
        .filter(|_| !explicit_cases || name == "." || name == ".." || name.len() > MAX_NAME_BYTES);
    if let Some(problem) = stem_problem {
        return Err(invalid(
            origin,
            "file name",
            format!("{problem}: the file name without .toml names the case and the default output directory; rename the file (or add [[cases]] with names)"),
        ));
    }
    let mut out: Vec<Case> = Vec::new();
    // Lower-cased sweep case names, to the name as written.
    let mut seen = std::collections::HashMap::new();
    for (case_name, index, table) in bases {
        let points = sweep.as_ref().map_or(1, |s| s.points);
        let width = points.to_string().len();
        for p in 0..points {
            let mut table = table.clone();
            let (full_name, swept) = match &sweep {
                None => (case_name.clone(), Vec::new()),
                Some(plan) => {
                    plan.apply(p, &mut table, origin)?;
                    let label = format!("{p:0width$}_{}", plan.label(p));
                    let full = if explicit_cases {
                        format!("{case_name}_{label}")
                    } else {
                        label
                    };
                    if let Some(problem) = directory_name_problem(&full) {
                        let key = index.map_or("sweep".to_string(), |i| format!("cases[{i}].name"));
                        return Err(invalid(
                            origin,
                            key,
                            format!("with the sweep label gives the case directory name {problem}: shorten the case name, the swept keys' values or their number"),
                        ));
                    }
                    if let Some(earlier) = seen.get(&full.to_lowercase()) {
                        let key = index.map_or("sweep".to_string(), |i| format!("cases[{i}].name"));
                        return Err(invalid(
                            origin,
                            key,
                            format!("with the sweep label gives the case directory name \"{full}\", which an earlier case (\"{earlier}\") already has (names are compared ignoring case): rename the case"),
                        ));
                    }
                    seen.insert(full.to_lowercase(), full.clone());
                    (full, plan.point(p))
                }
            };
            let merged_text = toml::to_string(&table).map_err(|e| ConfigError::Parse {
                path: origin.to_path_buf(),
                message: format!("{full_name}: {e}"),
            })?;
            let config = match (index, &sweep) {
                // The file as written: messages point into the user's own text.
                (None, None) => parse(text, origin)?,
                (Some(i), None) => {
                    parse(&merged_text, origin).map_err(|e| in_case(e, i, &case_name))?
                }
                (_, Some(_)) => {
                    parse(&merged_text, origin).map_err(|e| in_sweep(e, &full_name, &swept))?
                }
            };
            out.push(Case {
                name: full_name,
                config,
                swept,
                base_case: index.map(|_| case_name.clone()),
            });
        }
    }
    Ok(Study {
        path: origin.to_path_buf(),
        name,
        cases: out,
        sweep,
    })
}

/// The tables a `[[cases]]` entry may override (besides its `name`).
const CASE_SECTIONS: [&str; 8] = [
    "system",
    "potential",
    "grid",
    "solve",
    "analysis",
    "particles",
    "coulomb",
    "resources",
];

/// Puts the sweep case and its swept values in front of an error found in its config.
fn in_sweep(
    e: ConfigError,
    name: &str,
    swept: &[crate::pipeline::sweep::SweptValue],
) -> ConfigError {
    let values: Vec<String> = swept
        .iter()
        .map(|v| format!("sweep.{} = {}", v.key, v.text))
        .collect();
    let prefix = format!("sweep case {name} ({})", values.join(", "));
    match e {
        ConfigError::Invalid { path, key, message } => ConfigError::Invalid {
            path,
            key: format!("{prefix}: {key}"),
            message,
        },
        ConfigError::Parse { path, message } => ConfigError::Parse {
            path,
            message: format!("{prefix}: {message} (is every swept key a config key?)"),
        },
        other => other,
    }
}

/// Longest name of a case or of a Coulomb variant directory (bytes): the longest file name made
/// from it, `figures/coulomb_temperature_<name>.png`, then stays within the 255 bytes that
/// common file systems allow.
pub const MAX_NAME_BYTES: usize = 200;

/// Names that the top of an output directory uses for itself, so no case may take them
/// (compared ignoring case, for case-insensitive file systems).
pub const RESERVED_NAMES: [&str; 4] = ["figures", "metadata.json", "summary.csv", "summary.json"];

/// Why `name` cannot name a case (or Coulomb variant) directory inside an output directory, or
/// `None` when it can: it must be non-empty, must not start with `.` (that excludes `.`, `..`
/// and the hidden staging, commit and lock entries of the writer), must not hold a path
/// separator or a control character, must not be one of [`RESERVED_NAMES`] and must fit in
/// [`MAX_NAME_BYTES`].
pub fn directory_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.starts_with('.') {
        return Some(format!(
            "\"{name}\" starts with '.': \".\" and \"..\" would leave the case's own directory, and hidden names belong to the writer"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_control())
    {
        return Some(format!(
            "\"{name}\" holds {c:?}, which cannot be part of a directory name"
        ));
    }
    if let Some(r) = RESERVED_NAMES.iter().find(|r| r.eq_ignore_ascii_case(name)) {
        return Some(format!(
            "\"{name}\" is the name of the output directory's own {r}"
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!(
            "\"{}…\" is {} bytes long, more than the {MAX_NAME_BYTES} a directory name may take here",
            name.chars().take(40).collect::<String>(),
            name.len()
        ));
    }
    None
}

/// True for the characters a case name may hold (it names a directory): letters, digits and
/// `- _ . + =`.
pub fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || "-_.+=".contains(c)
}

/// `text` made into a directory name: whitespace dropped, every other character that
/// [`is_name_char`] refuses replaced by `-` (`"eps_r = 12.9"` → `"eps_r=12.9"`).
pub fn directory_name(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if is_name_char(c) { c } else { '-' })
        .collect()
}

/// Overrides the keys of `base` by those of `over`, recursing into tables.
fn merge_tables(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Puts "cases[i] (name)" in front of the key of an error found in a case's merged config.
fn in_case(e: ConfigError, index: usize, name: &str) -> ConfigError {
    let prefix = format!("cases[{index}] ({name})");
    match e {
        ConfigError::Invalid { path, key, message } => ConfigError::Invalid {
            path,
            key: format!("{prefix}: {key}"),
            message,
        },
        ConfigError::Parse { path, message } => ConfigError::Parse {
            path,
            message: format!("{prefix}: {message}"),
        },
        other => other,
    }
}

/// Parses and validates config `text`; `origin` is the path used in messages and stored in
/// [`Config::path`].
pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: origin.to_path_buf(),
        message: parse_message(text, &e),
    })?;
    let config = raw.validate(origin)?;
    // Build the potential once so that its own checks (piece order, overlap, box) fail here.
    let problem = config.problem()?;
    config.check_scales(&problem)?;
    Ok(config)
}

/// Largest |V| and kinetic energy scale 1/(m h²) a config may produce (Hartree): far beyond any
/// physical problem, and small enough that every sum the solver forms stays finite.
pub const MAX_ENERGY_SCALE: f64 = 1e100;

impl Config {
    /// The problem in atomic units, with the potential built and validated.
    pub fn problem(&self) -> Result<Problem, ConfigError> {
        let potential = self
            .potential
            .potential(self.system.box_half_width)
            .map_err(|e| self.potential_error(e))?;
        let name = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "config".to_string());
        Ok(Problem {
            name,
            potential,
            mass: self.system.mass,
            spacing: self.grid.spacing,
            levels: self.solve.levels,
        })
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

    /// `Some((depth, half_width))` (Hartree, bohr) when the potential is the paper's square well
    /// V = −depth on (−half_width, half_width) with 0 < half_width < L: either
    /// `type = "square_well"` or a piecewise potential of exactly one such constant piece.
    /// The well may have its own effective mass: see [`Config::square_well_masses`].
    pub fn is_square_well(&self) -> Option<(f64, f64)> {
        match &self.potential {
            PotentialConfig::SquareWell {
                depth, half_width, ..
            } => Some((*depth, *half_width)),
            PotentialConfig::Piecewise { pieces } => match pieces.as_slice() {
                [Piece {
                    from,
                    to,
                    shape: Shape::Constant { value },
                    ..
                }] if *value < 0.0
                    && *to > 0.0
                    && *from == -*to
                    && *to < self.system.box_half_width =>
                {
                    Some((-*value, *to))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// `Some((mass_inside, mass_outside))` (mₑ) when [`Config::is_square_well`] is `Some`: the
    /// effective mass in the well (`potential.mass_inside`, or the piece's `mass`, else
    /// `system.mass`) and outside it (`system.mass`). Equal unless the well has its own mass.
    pub fn square_well_masses(&self) -> Option<(f64, f64)> {
        self.is_square_well()?;
        let outside = self.system.mass;
        let inside = match &self.potential {
            PotentialConfig::SquareWell { mass_inside, .. } => *mass_inside,
            PotentialConfig::Piecewise { pieces } => pieces.first().and_then(|p| p.mass),
            _ => None,
        };
        Some((inside.unwrap_or(outside), outside))
    }

    /// Refuses a potential or a grid whose Hamiltonian would hold entries beyond
    /// ±[`MAX_ENERGY_SCALE`] (or not finite), naming the key that produces them: a piece whose V
    /// overflows (a spring of 1e300, a linear ramp from -1e308 to 1e308), or a mass and spacing
    /// whose kinetic scale 1/(m h²) does.
    fn check_scales(&self, problem: &Problem) -> Result<(), ConfigError> {
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
            PotentialConfig::Harmonic { .. } => "potential.omega (or spring)".to_string(),
            PotentialConfig::DoubleWell { .. } if index == 1 => {
                "potential.barrier_height".to_string()
            }
            PotentialConfig::CoreShell { .. } if index == 1 => "potential.core_depth".to_string(),
            PotentialConfig::CoreShell { .. } => "potential.shell_depth".to_string(),
            _ => "potential.depth".to_string(),
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

fn invalid(path: &Path, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        key: key.into(),
        message: message.into(),
    }
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
        Ok(a)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    box_half_width: Length,
    mass: Option<Mass>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum PotentialKind {
    SquareWell,
    Piecewise,
    DoubleWell,
    CoreShell,
    Harmonic,
    SmoothWell,
    Tabulated,
}

impl PotentialKind {
    /// The `type` as written and what it takes.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            PotentialKind::SquareWell => (
                "square_well",
                "a square_well potential takes depth (energy), half_width (length) and \
                 optionally mass_inside (mass)",
            ),
            PotentialKind::Piecewise => (
                "piecewise",
                "a piecewise potential takes [[potential.pieces]] tables (from, to, shape and \
                 the shape's parameters)",
            ),
            PotentialKind::DoubleWell => (
                "double_well",
                "a double_well potential takes depth (energy), well_width and barrier_width \
                 (lengths) and optionally barrier_height (energy above the well bottom, default \
                 depth)",
            ),
            PotentialKind::CoreShell => (
                "core_shell",
                "a core_shell potential takes core_depth and shell_depth (energies), \
                 core_half_width and shell_half_width (lengths)",
            ),
            PotentialKind::Harmonic => (
                "harmonic",
                "a harmonic potential takes omega (the energy hbar*omega) or spring (spring \
                 constant k), and optionally depth (energy: V = min(k x^2/2 - depth, 0))",
            ),
            PotentialKind::SmoothWell => (
                "smooth_well",
                "a smooth_well potential takes depth (energy), half_width and edge_width \
                 (lengths): V = -depth / (1 + exp((|x| - half_width) / edge_width))",
            ),
            PotentialKind::Tabulated => (
                "tabulated",
                "a tabulated potential takes file (a CSV table with the header \
                 `x [unit],V [unit]` and rows x,V, relative to the config file)",
            ),
        }
    }

    /// The optional keys of `[potential]` this type uses.
    fn keys(self) -> &'static [&'static str] {
        match self {
            PotentialKind::SquareWell => &["depth", "half_width", "mass_inside"],
            PotentialKind::Piecewise => &["pieces"],
            PotentialKind::DoubleWell => {
                &["depth", "well_width", "barrier_width", "barrier_height"]
            }
            PotentialKind::CoreShell => &[
                "core_depth",
                "core_half_width",
                "shell_depth",
                "shell_half_width",
            ],
            PotentialKind::Harmonic => &["omega", "spring", "depth"],
            PotentialKind::SmoothWell => &["depth", "half_width", "edge_width"],
            PotentialKind::Tabulated => &["file"],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPotential {
    #[serde(rename = "type")]
    kind: PotentialKind,
    depth: Option<Energy>,
    half_width: Option<Length>,
    mass_inside: Option<Mass>,
    pieces: Option<Vec<RawPiece>>,
    well_width: Option<Length>,
    barrier_width: Option<Length>,
    barrier_height: Option<Energy>,
    core_depth: Option<Energy>,
    core_half_width: Option<Length>,
    shell_depth: Option<Energy>,
    shell_half_width: Option<Length>,
    omega: Option<Energy>,
    spring: Option<SpringConstant>,
    edge_width: Option<Length>,
    file: Option<String>,
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

impl RawPotential {
    fn validate(self, path: &Path, l: f64, mass: f64) -> Result<PotentialConfig, ConfigError> {
        let bad = |key: &str, message: String| Err(invalid(path, key, message));
        let (name, takes) = self.kind.describe();
        let given = [
            ("depth", self.depth.is_some()),
            ("half_width", self.half_width.is_some()),
            ("mass_inside", self.mass_inside.is_some()),
            ("pieces", self.pieces.is_some()),
            ("well_width", self.well_width.is_some()),
            ("barrier_width", self.barrier_width.is_some()),
            ("barrier_height", self.barrier_height.is_some()),
            ("core_depth", self.core_depth.is_some()),
            ("core_half_width", self.core_half_width.is_some()),
            ("shell_depth", self.shell_depth.is_some()),
            ("shell_half_width", self.shell_half_width.is_some()),
            ("omega", self.omega.is_some()),
            ("spring", self.spring.is_some()),
            ("edge_width", self.edge_width.is_some()),
            ("file", self.file.is_some()),
        ];
        let allowed = self.kind.keys();
        if let Some((key, _)) = given.iter().find(|(k, g)| *g && !allowed.contains(k)) {
            let hint = match (self.kind, *key) {
                (PotentialKind::Piecewise, "mass_inside") => {
                    "; give a piece its own effective mass with `mass` in its \
                     [[potential.pieces]] table"
                }
                (PotentialKind::Piecewise, "depth" | "half_width") => {
                    "; use type = \"square_well\" for depth and half_width"
                }
                (_, "pieces") => "; use type = \"piecewise\" to give pieces",
                _ => "",
            };
            return bad(
                &format!("potential.{key}"),
                format!("is not used by type = \"{name}\" ({takes}){hint}"),
            );
        }
        let missing = |key: &str| {
            invalid(
                path,
                format!("potential.{key}"),
                format!("is missing: {takes}"),
            )
        };
        let positive_energy = |key: &str, v: Option<Energy>| -> Result<f64, ConfigError> {
            let Energy(v) = v.ok_or_else(|| missing(key))?;
            if v > 0.0 {
                Ok(v)
            } else {
                Err(invalid(
                    path,
                    format!("potential.{key}"),
                    format!("must be a positive energy (Hartree), got {v}"),
                ))
            }
        };
        let positive_length = |key: &str, v: Option<Length>| -> Result<f64, ConfigError> {
            let Length(v) = v.ok_or_else(|| missing(key))?;
            if v > 0.0 {
                Ok(v)
            } else {
                Err(invalid(
                    path,
                    format!("potential.{key}"),
                    format!("must be a positive length (bohr), got {v}"),
                ))
            }
        };
        let inside_box = |key: &str, what: &str, x: f64| -> Result<(), ConfigError> {
            if x < l {
                Ok(())
            } else {
                Err(invalid(
                    path,
                    format!("potential.{key}"),
                    format!(
                        "puts {what} at {x} bohr, not inside system.box_half_width = {l} bohr: \
                         make the profile narrower or the box wider"
                    ),
                ))
            }
        };
        match self.kind {
            PotentialKind::SquareWell => {
                let depth =
                    positive_energy("depth", self.depth).map_err(square_well_depth_message)?;
                let half_width = positive_length("half_width", self.half_width)?;
                if half_width >= l {
                    return bad(
                        "potential.half_width",
                        format!(
                            "= {half_width} bohr must be smaller than \
                             system.box_half_width = {l} bohr"
                        ),
                    );
                }
                let mass_inside = self.mass_inside.map(|m| m.0);
                if let Some(m) = mass_inside {
                    if !(m.is_finite() && m > 0.0) {
                        return bad(
                            "potential.mass_inside",
                            format!(
                                "must be a positive mass (m_e, e.g. 0.067 or \"0.067 m_e\"), \
                                 got {m}"
                            ),
                        );
                    }
                }
                Ok(PotentialConfig::SquareWell {
                    depth,
                    half_width,
                    mass_inside,
                })
            }
            PotentialKind::Piecewise => {
                let pieces = self.pieces.unwrap_or_default();
                if pieces.is_empty() {
                    return bad(
                        "potential.pieces",
                        format!("must hold at least one piece: {takes}"),
                    );
                }
                let pieces = pieces
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| p.validate(path, i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(PotentialConfig::Piecewise { pieces })
            }
            PotentialKind::DoubleWell => {
                let depth = positive_energy("depth", self.depth)?;
                let well_width = positive_length("well_width", self.well_width)?;
                let barrier_width = positive_length("barrier_width", self.barrier_width)?;
                let barrier_height = match self.barrier_height {
                    None => depth,
                    some => positive_energy("barrier_height", some)?,
                };
                inside_box(
                    "well_width",
                    "the outer well edges (barrier_width/2 + well_width)",
                    0.5 * barrier_width + well_width,
                )?;
                Ok(PotentialConfig::DoubleWell {
                    depth,
                    well_width,
                    barrier_width,
                    barrier_height,
                })
            }
            PotentialKind::CoreShell => {
                let core_depth = positive_energy("core_depth", self.core_depth)?;
                let shell_depth = positive_energy("shell_depth", self.shell_depth)?;
                let core_half_width = positive_length("core_half_width", self.core_half_width)?;
                let shell_half_width = positive_length("shell_half_width", self.shell_half_width)?;
                if shell_half_width <= core_half_width {
                    return bad(
                        "potential.shell_half_width",
                        format!(
                            "= {shell_half_width} bohr must be larger than core_half_width = \
                             {core_half_width} bohr (the shell surrounds the core)"
                        ),
                    );
                }
                inside_box(
                    "shell_half_width",
                    "the shell's outer edges",
                    shell_half_width,
                )?;
                Ok(PotentialConfig::CoreShell {
                    core_depth,
                    core_half_width,
                    shell_depth,
                    shell_half_width,
                })
            }
            PotentialKind::Harmonic => {
                let (spring, omega) = match (self.omega, self.spring) {
                    (Some(_), Some(_)) => {
                        return bad(
                            "potential.spring",
                            format!("and potential.omega are both given: give one ({takes})"),
                        )
                    }
                    (None, None) => return Err(missing("omega")),
                    (omega @ Some(_), None) => {
                        let w = positive_energy("omega", omega)?;
                        (mass * w * w, w)
                    }
                    (None, Some(k)) => {
                        let k = k.0;
                        if k <= 0.0 {
                            return bad(
                                "potential.spring",
                                format!(
                                    "must be a positive spring constant (Ha/bohr^2, or e.g. \
                                     \"0.05 eV/nm^2\"), got {k}"
                                ),
                            );
                        }
                        (k, (k / mass).sqrt())
                    }
                };
                let depth = match self.depth {
                    None => None,
                    some => Some(positive_energy("depth", some)?),
                };
                if !(spring.is_finite() && omega.is_finite()) {
                    return bad(
                        "potential.omega",
                        format!("gives a spring constant k = m omega^2 = {spring} Ha/bohr^2 that is not finite"),
                    );
                }
                Ok(PotentialConfig::Harmonic {
                    spring,
                    omega,
                    depth,
                })
            }
            PotentialKind::SmoothWell => {
                let depth = positive_energy("depth", self.depth)?;
                let half_width = positive_length("half_width", self.half_width)?;
                let edge_width = positive_length("edge_width", self.edge_width)?;
                inside_box("half_width", "the well's edges", half_width)?;
                Ok(PotentialConfig::SmoothWell {
                    depth,
                    half_width,
                    edge_width,
                })
            }
            PotentialKind::Tabulated => {
                let Some(file) = self.file else {
                    return Err(missing("file"));
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

/// The square well's depth message keeps its reminder that the well is V = −depth.
fn square_well_depth_message(e: ConfigError) -> ConfigError {
    match e {
        ConfigError::Invalid { path, key, message } if message.starts_with("must be") => {
            ConfigError::Invalid {
                path,
                key,
                message: format!("{message} (the well is V = -depth)"),
            }
        }
        other => other,
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

// ---------------------------------------------------------------------------------------------
// Naming the key of a toml error: toml reports a byte span; find the deepest key, value or
// array-of-tables element of the document that contains it.

fn parse_message(text: &str, error: &toml::de::Error) -> String {
    let key = error
        .span()
        .filter(|s| !s.is_empty())
        .and_then(|span| key_at(text, span));
    let missing = error
        .message()
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    if let Some(field) = missing {
        return match key {
            Some(table) => format!("{table}.{field} is missing (a required key)\n{error}"),
            // toml points at the first line for a missing top-level key: no snippet.
            None => format!(
                "[{field}] is missing: every config has the sections [system], [potential], \
                 [grid] and [solve]"
            ),
        };
    }
    match key {
        Some(key) => format!("{key}: {error}"),
        None => error.to_string(),
    }
}

fn key_at(text: &str, span: Range<usize>) -> Option<String> {
    use toml::de::{DeTable, DeValue};

    fn inside(outer: Range<usize>, inner: &Range<usize>) -> bool {
        outer.start <= inner.start && inner.end <= outer.end
    }

    fn offer(best: &mut Option<(usize, String)>, depth: usize, path: &str) {
        if best.as_ref().is_none_or(|(d, _)| depth > *d) {
            *best = Some((depth, path.to_string()));
        }
    }

    fn visit(
        table: &DeTable<'_>,
        prefix: &str,
        depth: usize,
        span: &Range<usize>,
        best: &mut Option<(usize, String)>,
    ) {
        for (k, v) in table.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            if inside(k.span(), span) || inside(v.span(), span) {
                offer(best, depth, &path);
            }
            match v.get_ref() {
                DeValue::Table(t) => visit(t, &path, depth + 1, span, best),
                DeValue::Array(a) => {
                    for (i, e) in a.iter().enumerate() {
                        let element = format!("{path}[{i}]");
                        if inside(e.span(), span) {
                            offer(best, depth + 1, &element);
                        }
                        if let DeValue::Table(t) = e.get_ref() {
                            visit(t, &element, depth + 2, span, best);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    visit(root.get_ref(), "", 0, &span, &mut best);
    best.map(|(_, path)| path)
}
