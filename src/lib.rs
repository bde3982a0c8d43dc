//! confine: quantum states and thermodynamics of confined particles on finite-difference grids.
//!
//! It reproduces Serra et al., "Quantum confinement and negative heat capacity" (EPL 2013):
//! a particle in a potential well inside a hard-wall box has a kinetic temperature that *falls*
//! as the energy rises past the top of the well — a negative heat capacity that the canonical
//! ensemble cannot show.
//!
//! Atomic units throughout (ħ = mₑ = e = k_B = 1): energies and temperatures in Hartree,
//! lengths in bohr, masses in electron masses. Units appear only at the edges (config files,
//! CSV headers, figure axes; see [`model::units`]).
//!
//! # A guided tour
//!
//! The layers, each importing only the ones below it (`docs/ARCHITECTURE.md` has the map):
//!
//! 1. [`model`]: what is solved — a [`Potential`] in the box [−L, L], a [`Grid`] with a node on
//!    every breakpoint, the finite-difference [`Hamiltonian`] (a [`SymTridiagonal`]), and the
//!    [`Problem`] that bundles them with the particle's mass and the number of levels.
//! 2. [`eigen`]: the k lowest eigenpairs of a symmetric tridiagonal matrix
//!    ([`lowest_eigenpairs`]; the Sturm count proves no level was missed).
//! 3. [`spectrum`]: a solved problem — [`Spectrum`], levels with E_n, ⟨K⟩_n, ⟨V⟩_n.
//! 4. [`checks`]: the exact finite well ([`FiniteWellInBox`]), convergence against it
//!    ([`validate()`]) and self-convergence of any potential ([`self_convergence`]).
//! 5. [`physics`]: thermodynamics of a [`StateList`] (kinetic, microcanonical and canonical
//!    temperatures, the negative-heat-capacity intervals), N fermions, two electrons with
//!    Coulomb.
//! 6. [`pipeline`]: a TOML study ([`load_study`]) computed ([`run_study`]) and written as
//!    tables, metadata and figures ([`write_study`]); sweeps of many studies.
//!
//! The paper's well (U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr, m = 1) from levels to the
//! negative heat capacity:
//!
//! ```
//! use confine::{canonical_curve, kinetic_temperature, nhc_intervals, Potential, Problem, StateList};
//!
//! // Levels and <K> of one electron in the square well, on a grid of spacing 0.25 bohr.
//! let well = Potential::square_well(200.0, 0.1, 20.0)?;
//! let spectrum = Problem::new(well, 1.0, 0.25, 20).spectrum()?;
//! let energy: Vec<f64> = spectrum.levels.iter().map(|l| l.energy).collect();
//! let kinetic: Vec<f64> = spectrum.levels.iter().map(|l| l.kinetic).collect();
//! assert_eq!(format!("{:.4}", energy[0]), "-0.0975"); // the paper's E0
//! assert!(energy[5] < 0.0 && energy[6] > 0.0); // six bound levels
//!
//! // The canonical heat capacity C(T) is positive at every temperature.
//! let states = StateList::single_particle(energy.clone(), kinetic)?;
//! let curve = canonical_curve(&states, &[0.001, 0.003, 0.01])?;
//! assert!(curve.iter().all(|p| p.heat_capacity > 0.0));
//!
//! // The kinetic temperature T^(K) = 2<K> of each level falls where the particle leaves the
//! // well: a negative-heat-capacity interval from the last bound level upwards.
//! let t_k = kinetic_temperature(&states);
//! let points: Vec<(f64, Option<f64>)> = energy.iter().zip(&t_k).map(|(&e, &t)| (e, Some(t))).collect();
//! let intervals = nhc_intervals(&points, 1e-9)?;
//! assert_eq!(intervals[0].e_start, energy[5]);
//! assert!(intervals[0].e_end > 0.0 && intervals[0].relative_drop > 0.9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod channels;
pub mod checks;
pub mod diagnostic;
pub mod eigen;
pub mod hash;
pub mod model;
pub mod physics;
pub mod pipeline;
pub mod resources;
pub mod spectrum;

pub use checks::analytic::FiniteWellInBox;
pub use checks::converge::self_convergence;
pub use checks::validate::validate;
pub use eigen::{lowest_eigenpairs, EigenPairs, SolverOptions, SymTridiagonal};
pub use model::grid::Grid;
pub use model::hamiltonian::Hamiltonian;
pub use model::potential::Potential;
pub use model::problem::Problem;
pub use physics::thermo::canonical::{canonical_curve, canonical_temperatures, CanonicalPoint};
pub use physics::thermo::kinetic::kinetic_temperature;
pub use physics::thermo::microcanonical::hertz_entropy;
pub use physics::thermo::nhc::{nhc_intervals, NhcInterval};
pub use physics::thermo::StateList;
pub use pipeline::config::load_study;
pub use pipeline::output::write::write_study;
pub use pipeline::study::{run_study, TemperatureDefinition};
pub use spectrum::{Level, Spectrum};
