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
//! Presets name common profiles by their physical parameters, like the `square_well` above
//! (every preset and its keys: [`presets`]). A tabulated potential reads its profile from a CSV
//! file:
//!
//! ```toml
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
//!
//! The layers, each in its file: the typed, validated config (`schema.rs`); the file as written
//! and its validation (`raw.rs`); the presets' table ([`presets`]); the expansion of
//! `[[cases]]` and `[sweep]` into the cases of a [`Study`] (`study.rs`, with the `[sweep]`
//! planning in [`sweep`]); where an error is (`error.rs`); and names that become directories
//! (`names.rs`).

mod error;
mod names;
pub mod presets;
mod raw;
mod schema;
mod study;
pub mod sweep;

pub use error::ConfigError;
pub use names::{directory_name, directory_name_problem, MAX_NAME_BYTES, RESERVED_NAMES};
pub use presets::PresetConfig;
pub use raw::{parse, MAX_TABLE_POINTS};
pub use schema::{
    AnalysisConfig, Case, Config, CoulombConfig, CountingMethod, EnergyGrid, GridCheckConfig,
    GridConfig, ParticlesConfig, PotentialConfig, ResourcesConfig, SolveConfig, StatesFile, Study,
    SystemConfig, TemperatureRange, DEFAULT_EPSILON, DEFAULT_SOFTENING, DEFAULT_STATE_LIMIT,
    DEFAULT_TRUNCATION_TOLERANCE, MAX_ENERGY_SCALE, MAX_LEVELS, MAX_PARTICLES, STATES_AUTO_ROWS,
    STATES_MAX_ROWS,
};
pub use study::{case_hash, load, load_study, parse_study, sweep_hash};
