//! `confine matrix`: the assembled Hamiltonian of a config case in Matrix Market format (through
//! `sprs::io`), with a CSV table saying what each row is.
//!
//! # Which matrix is written
//!
//! * **One particle** (default): the symmetrized H̃ = W^{−½} A W^{−½} (Hartree) on the N interior
//!   nodes of the grid confine builds for the case (aligned to the potential's breakpoints, so
//!   in general non-uniform), position-dependent masses included; see
//!   [`crate::model::sparse`]. Its eigenvalues are the energies E_n (Hartree) that
//!   `confine spectrum` prints. A unit eigenvector φ (Σ φ_j² = 1) is **not** the wave function:
//!   ψ_j = φ_j / √w_j (bohr^−½, Σ_j w_j ψ_j² = 1) with w_j the `dual_width` column of the grid
//!   table. In SciPy: `E, phi = eigh(H.toarray()); psi = phi / sqrt(w)[:, None]`.
//! * **Two electrons** (`--two-electron singlet|triplet`): the exchange sector of
//!   H̃₁ ⊗ I + I ⊗ H̃₁ + W(x₁ − x₂) of the `[coulomb]` grid check (same grid, interaction
//!   λ / (ε_r √(r² + s²)) from `coulomb.strength`, `coulomb.eps_r` and `coulomb.softening`) in
//!   the orthonormal pair basis; see [`crate::physics::coulomb::sparse`]. Row k is the pair
//!   (a, b) of the grid table; the wave function of a unit eigenvector c is
//!   ψ(x_a, x_b) = c_k / √(w_a w_b) for a = b and c_k / √(2 w_a w_b) (the triplet with the sign
//!   of b − a) otherwise.
//! * **One angular channel of a sphere or cylinder** (`--channel L`, required for these
//!   geometries): the symmetrized H̃ = W^{−½} A W^{−½} (Hartree) of channel l (sphere) or |m|
//!   (cylinder) of [`crate::model::radial::channel_hamiltonian`] on the radial grid confine
//!   solves it on, a symmetric tridiagonal matrix. Its eigenvalues are the levels of that
//!   channel that `confine spectrum --channel L` prints. A unit eigenvector φ gives the amplitude
//!   a_j = φ_j / √W_j with W_j the `weight` column: for the **sphere** a = u(r) = r R(r)
//!   (W = the dual width, bohr; Σ W u² = ∫ u² dr = 1); for the **cylinder** a = R(r)
//!   (W = ∫ r dr over the dual cell, bohr²), so φ_j / √(dual width) ≈ √r R(r) and
//!   Σ φ² = ∫ r R² dr = 1. Row k is the k-th unknown node of the channel: the interior nodes
//!   r_1 … r_N, plus the axis r = 0 first for the cylinder's m = 0. The relation is repeated in
//!   a `%` comment of the Matrix Market header.
//!
//! The file is `coordinate real general` with both triangles stored, so a reader needs no
//! symmetry convention, and every value is written in Rust's shortest round-trip form: reading
//! it back gives the in-memory matrix bit for bit.
//!
//! # Files
//!
//! `--out H.mtx` writes `H.mtx` and `H.grid.csv` (an `--out` without the `.mtx` extension gets
//! `.grid.csv` appended). Each is written to a hidden temporary file in the same directory and
//! renamed into place when complete, so an interrupted or failed export never leaves a
//! half-written file under either name. (The staging protocol of [`super::commit`] is for output
//! directories with a manifest and a lock; these are two single files at a path the user names.)

use super::tables::{Cell, Csv};
use crate::model::grid::Grid;
use crate::model::hamiltonian::Hamiltonian;
use crate::model::problem::Problem;
use crate::model::radial::{unknown_positions, Geometry};
use crate::physics::coulomb::grid2d::SectorHamiltonian;
use crate::physics::coulomb::{CoulombError, Exchange, SoftCoulomb};
use crate::pipeline::config::{Config, ConfigError, CoulombConfig, Study};
use sprs::CsMat;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use thiserror::Error;

/// Which assembled Hamiltonian of a case to export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MatrixChoice {
    /// The one-particle H̃ (Hartree) on the interior nodes.
    OneParticle,
    /// One exchange sector of the two-electron grid Hamiltonian (Hartree); `eps_r` picks one of
    /// `coulomb.eps_r` (`None`: the only one).
    TwoElectron {
        /// Symmetric (singlet) or antisymmetric (triplet) sector.
        exchange: Exchange,
        /// The relative dielectric constant ε_r (dimensionless), one of `coulomb.eps_r`.
        eps_r: Option<f64>,
    },
    /// One angular channel (l for the sphere, |m| for the cylinder) of a sphere or cylinder:
    /// its symmetrized radial H̃ (Hartree).
    Channel(usize),
}

/// An assembled Hamiltonian and the table of its rows.
#[derive(Debug, Clone)]
pub struct AssembledMatrix {
    /// The symmetric matrix (Hartree), CSR, both triangles stored.
    pub matrix: CsMat<f64>,
    /// One row per matrix row: its node or node pair, positions (bohr), dual widths (bohr) and
    /// potential (Hartree).
    pub rows: Csv,
    /// What the matrix is, for messages, e.g. "one-particle H~ (N = 239)".
    pub description: String,
    /// Lines written as `%` comments after the Matrix Market banner (what a row and an
    /// eigenvector are); empty for the slab.
    pub comments: Vec<String>,
}

/// Why a matrix could not be assembled or written. Every message starts with the file it is
/// about (the config, or the output file).
#[derive(Debug, Error)]
pub enum MatrixError {
    /// The config could not be read, or names no such case, or a key does not allow the export.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The matrix would not fit in the memory limit.
    #[error("{}: {source}", config.display())]
    Memory {
        /// The config file.
        config: PathBuf,
        /// The refusal, naming the key that sizes the matrix.
        source: crate::resources::ResourceError,
    },
    /// The grid, the Hamiltonian or the interaction could not be built.
    #[error("{}: {message}", config.display())]
    Build {
        /// The config file.
        config: PathBuf,
        /// What failed.
        message: String,
    },
    /// An output file could not be written.
    #[error("{}: cannot write: {message}", path.display())]
    Io {
        /// The output file.
        path: PathBuf,
        /// The cause, and what would work.
        message: String,
    },
}

/// Upper bound of the bytes per two-electron basis state while a sector matrix is assembled
/// and tabulated: ≤ 5 stored entries a row in the triplets (24 B each) and the CSR (16 B each),
/// the upper-triangle CSC (≤ 3 a row), the diagonal, and the table text with its growth
/// (measured by the test `assembly_stays_within_its_memory_estimate`).
pub const TWO_ELECTRON_BYTES_PER_STATE: u64 = 1024;

/// Upper bound of the bytes per grid node of the one-particle matrix and its table: the grid,
/// the Hamiltonian's five vectors, the CSR (3 entries a row, 16 B each, and its row pointer)
/// and ~100 B of table text (measured by the test `assembly_stays_within_its_memory_estimate`).
pub const ONE_PARTICLE_BYTES_PER_NODE: u64 = 256;

fn invalid(study: &Study, key: &str, message: String) -> MatrixError {
    MatrixError::Config(ConfigError::Invalid {
        path: study.path.clone(),
        key: key.to_string(),
        message,
    })
}

/// Builds the matrix `choice` of the case `case` (`None`: the first) of `study` on the grid
/// confine solves it on.
pub fn assemble(
    study: &Study,
    case: Option<&str>,
    choice: MatrixChoice,
) -> Result<AssembledMatrix, MatrixError> {
    let cfg = &study.case(case)?.config;
    if let Some(radial) = cfg.radial_problem()? {
        return radial_matrix(study, cfg, &radial, choice);
    }
    if let MatrixChoice::Channel(_) = choice {
        return Err(invalid(
            study,
            "system.geometry",
            "is the slab, which has no angular channels: --channel needs geometry = \"sphere\" \
             or \"cylinder\""
                .to_string(),
        ));
    }
    let problem = cfg.problem()?;
    let build = |message: String| MatrixError::Build {
        config: study.path.clone(),
        message,
    };
    let nodes = check_matrix_memory(study, cfg, &problem, choice)?;
    let potential = &problem.potential;
    let grid = Grid::aligned(
        potential.box_half_width(),
        &potential.breakpoints(),
        problem.spacing,
    )
    .map_err(|e| build(format!("grid.spacing: {e}")))?;
    let h1 = Hamiltonian::new(potential, &grid, problem.mass)
        .map_err(|e| build(format!("system.mass: {e}")))?;
    match choice {
        // (A channel of the slab was refused above.)
        MatrixChoice::OneParticle | MatrixChoice::Channel(_) => Ok(one_particle_matrix(&h1, &grid)),
        MatrixChoice::TwoElectron { exchange, eps_r } => {
            let Some(coulomb) = &cfg.coulomb else {
                return Err(invalid(
                    study,
                    "coulomb",
                    "is missing: --two-electron needs a [coulomb] table (strength, eps_r, \
                     softening) for the interaction"
                        .to_string(),
                ));
            };
            let eps = chosen_eps_r(study, coulomb, eps_r)?;
            let interaction = SoftCoulomb::new(coulomb.strength, eps, coulomb.softening)
                .map_err(|e| build(e.to_string()))?;
            two_electron_matrix(&h1, &grid, &interaction, exchange, eps, nodes)
                .map_err(|e| build(e.to_string()))
        }
    }
}

/// The matrix of one channel of a sphere or cylinder (`choice` must be
/// [`MatrixChoice::Channel`]; the others are refused, naming what is valid).
fn radial_matrix(
    study: &Study,
    cfg: &Config,
    radial: &crate::channels::RadialProblem,
    choice: MatrixChoice,
) -> Result<AssembledMatrix, MatrixError> {
    let geometry = radial.geometry;
    let name = geometry.name();
    let last = crate::channels::MAX_CHANNELS - 1;
    let channel = match choice {
        MatrixChoice::Channel(l) if l <= last => l,
        MatrixChoice::Channel(l) => {
            return Err(invalid(
                study,
                "system.geometry",
                format!(
                "= \"{name}\" has the angular channels 0 to {last}; --channel {l} is beyond them"
            ),
            ))
        }
        MatrixChoice::OneParticle => {
            return Err(invalid(
                study,
                "system.geometry",
                format!(
                    "= \"{name}\": confine matrix writes one angular channel's radial \
                     Hamiltonian; choose it with --channel L (L = 0 to {last}: l for the sphere, \
                     |m| for the cylinder)"
                ),
            ))
        }
        MatrixChoice::TwoElectron { .. } => {
            return Err(invalid(
                study,
                "system.geometry",
                format!(
                    "= \"{name}\": --two-electron is for the slab only; write one channel \
                     with --channel L"
                ),
            ))
        }
    };
    let build = |message: String| MatrixError::Build {
        config: study.path.clone(),
        message,
    };
    let grid = radial
        .grid()
        .map_err(|e| build(format!("grid.spacing: {e}")))?;
    let nodes = grid.nodes().len() as u64;
    let estimate = crate::resources::Estimate::new(
        "grid.spacing",
        format!("the channel matrix on {nodes} nodes"),
        nodes.saturating_mul(ONE_PARTICLE_BYTES_PER_NODE),
    );
    crate::resources::check(&estimate, &cfg.memory_limit()).map_err(|source| {
        MatrixError::Memory {
            config: study.path.clone(),
            source,
        }
    })?;
    let h = radial
        .hamiltonian(&grid, channel)
        .map_err(|e| build(format!("system.mass: {e}")))?;
    let r = unknown_positions(&grid, geometry, channel);
    let (w, v) = (h.dual_widths(), h.potential_on_nodes());
    let (weight, amplitude) = match geometry {
        Geometry::Cylinder => (
            "weight [bohr^2]",
            "R(r_j) = phi_j / sqrt(weight_j) (weight = integral of r dr over the dual cell, so \
             phi_j / sqrt(dual width) ~ sqrt(r) R(r))",
        ),
        _ => (
            "weight [bohr]",
            "u(r_j) = r R(r_j) = phi_j / sqrt(weight_j) (weight = the dual width)",
        ),
    };
    let mut rows = Csv::new(&["row", "r [bohr]", weight, "V [Ha]"]);
    for j in 0..h.len() {
        rows.row(&[
            Cell::Int(j as u64 + 1),
            Cell::Num(r[j]),
            Cell::Num(w[j]),
            Cell::Num(v[j]),
        ]);
    }
    let what = format!("{name} channel {channel} radial H~ (N = {})", h.len());
    Ok(AssembledMatrix {
        matrix: h.to_csmat(),
        rows,
        comments: vec![
            format!("confine: {what}, Hartree; rows = the channel's unknown nodes (grid table)"),
            format!("a unit eigenvector phi gives {amplitude}"),
        ],
        description: what,
    })
}

/// The number of grid nodes of `problem`, after refusing a matrix `choice` whose estimated
/// bytes exceed the config's memory limit. Sized before anything is allocated: the grid's node
/// count follows from its segments.
fn check_matrix_memory(
    study: &Study,
    cfg: &Config,
    problem: &Problem,
    choice: MatrixChoice,
) -> Result<u64, MatrixError> {
    let nodes = crate::pipeline::study::plan::grid_size(problem)
        .map_err(|e| MatrixError::Build {
            config: study.path.clone(),
            message: format!("grid.spacing: {e}"),
        })?
        .nodes as u64;
    let (what, bytes) = match choice {
        MatrixChoice::OneParticle | MatrixChoice::Channel(_) => (
            format!("the one-particle matrix on {nodes} nodes"),
            nodes.saturating_mul(ONE_PARTICLE_BYTES_PER_NODE),
        ),
        MatrixChoice::TwoElectron { exchange, .. } => {
            let states = match exchange {
                Exchange::Symmetric => nodes.saturating_mul(nodes + 1) / 2,
                Exchange::Antisymmetric => nodes.saturating_mul(nodes.saturating_sub(1)) / 2,
            };
            (
                format!(
                    "the {} sector matrix ({states} pair states on {nodes} nodes)",
                    exchange.spin_name()
                ),
                states
                    .saturating_mul(TWO_ELECTRON_BYTES_PER_STATE)
                    .saturating_add(nodes.saturating_mul(ONE_PARTICLE_BYTES_PER_NODE)),
            )
        }
    };
    let estimate = crate::resources::Estimate::new("grid.spacing", what, bytes);
    crate::resources::check(&estimate, &cfg.memory_limit()).map_err(|source| {
        MatrixError::Memory {
            config: study.path.clone(),
            source,
        }
    })?;
    Ok(nodes)
}

/// The one-particle H̃ (Hartree) of `h1` with its row table: node, x (bohr), dual width
/// (bohr), V (Hartree).
fn one_particle_matrix(h1: &Hamiltonian, grid: &Grid) -> AssembledMatrix {
    let x = grid.interior();
    let w = h1.dual_widths();
    let v = h1.potential_on_nodes();
    let mut rows = Csv::new(&["row", "x [bohr]", "dual_width [bohr]", "V [Ha]"]);
    for j in 0..h1.len() {
        rows.row(&[
            Cell::Int(j as u64 + 1),
            Cell::Num(x[j]),
            Cell::Num(w[j]),
            Cell::Num(v[j]),
        ]);
    }
    AssembledMatrix {
        matrix: h1.to_csmat(),
        rows,
        description: format!("one-particle H~ (N = {})", h1.len()),
        comments: Vec::new(),
    }
}

/// The ε_r (dimensionless) of the export: `--eps-r` when it is one of `coulomb.eps_r`, else
/// the only value of `coulomb.eps_r`; an error naming the key and the values otherwise.
fn chosen_eps_r(
    study: &Study,
    coulomb: &CoulombConfig,
    eps_r: Option<f64>,
) -> Result<f64, MatrixError> {
    let listed = coulomb
        .eps_r
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match eps_r {
        Some(e) if coulomb.eps_r.contains(&e) => Ok(e),
        Some(e) => Err(invalid(
            study,
            "coulomb.eps_r",
            format!("has no value {e} (from --eps-r); the values are: {listed}"),
        )),
        None if coulomb.eps_r.len() == 1 => Ok(coulomb.eps_r[0]),
        None => Err(invalid(
            study,
            "coulomb.eps_r",
            format!(
                "holds {} values ({listed}): choose one with --eps-r",
                coulomb.eps_r.len()
            ),
        )),
    }
}

/// The `exchange` sector (Hartree) of the two-electron Hamiltonian of `h1` with the
/// interaction `interaction` (its ε_r is `eps`), with its row table: pair (a, b), positions
/// and dual widths (bohr), V_a + V_b and W(x_a − x_b) (Hartree).
fn two_electron_matrix(
    h1: &Hamiltonian,
    grid: &Grid,
    interaction: &SoftCoulomb,
    exchange: Exchange,
    eps: f64,
    nodes: u64,
) -> Result<AssembledMatrix, CoulombError> {
    let x = grid.interior();
    let w = h1.dual_widths();
    let v = h1.potential_on_nodes();
    let sector = SectorHamiltonian::new(h1, grid, interaction, exchange)?;
    let mut rows = Csv::new(&[
        "row",
        "a",
        "b",
        "x_a [bohr]",
        "x_b [bohr]",
        "dual_width_a [bohr]",
        "dual_width_b [bohr]",
        "V_a + V_b [Ha]",
        "W [Ha]",
    ]);
    for (k, (a, b)) in sector.basis().pairs().enumerate() {
        rows.row(&[
            Cell::Int(k as u64 + 1),
            Cell::Int(a as u64 + 1),
            Cell::Int(b as u64 + 1),
            Cell::Num(x[a]),
            Cell::Num(x[b]),
            Cell::Num(w[a]),
            Cell::Num(w[b]),
            Cell::Num(v[a] + v[b]),
            Cell::Num(interaction.at_separation(x[a] - x[b])),
        ]);
    }
    Ok(AssembledMatrix {
        matrix: sector.to_csmat(),
        rows,
        description: format!(
            "two-electron {} sector, eps_r = {eps} (D = {}, N = {nodes})",
            exchange.spin_name(),
            sector.dimension()
        ),
        comments: Vec::new(),
    })
}

/// The grid table written beside the matrix file `out`: `H.mtx` → `H.grid.csv`, any other name
/// gets `.grid.csv` appended.
pub fn grid_table_path(out: &Path) -> PathBuf {
    if out.extension().is_some_and(|e| e == "mtx") {
        out.with_extension("grid.csv")
    } else {
        let mut s = out.as_os_str().to_owned();
        s.push(".grid.csv");
        PathBuf::from(s)
    }
}

/// Writes `assembled` as Matrix Market to `out` (through `sprs::io`) and its row table to
/// [`grid_table_path`]`(out)`, each by a temporary file renamed into place; returns the two
/// paths written.
pub fn write_matrix(
    out: &Path,
    assembled: &AssembledMatrix,
) -> Result<(PathBuf, PathBuf), MatrixError> {
    let table = grid_table_path(out);
    for path in [out, table.as_path()] {
        if path.is_dir() {
            return Err(MatrixError::Io {
                path: path.to_path_buf(),
                message: "is a directory; give --out a file name, e.g. H.mtx".to_string(),
            });
        }
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(MatrixError::Io {
                path: out.to_path_buf(),
                message: format!(
                    "the directory {} does not exist; create it first",
                    dir.display()
                ),
            });
        }
    }
    let matrix_tmp = write_temp(out, |w| {
        if assembled.comments.is_empty() {
            return sprs::io::write_matrix_market_to_bufwrite(w, &assembled.matrix);
        }
        // The comments go after the banner line, where Matrix Market allows them.
        let mut text = Vec::new();
        sprs::io::write_matrix_market_to_bufwrite(&mut text, &assembled.matrix)?;
        let banner = text
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| i + 1);
        w.write_all(&text[..banner])?;
        for line in &assembled.comments {
            writeln!(w, "% {line}")?;
        }
        w.write_all(&text[banner..])
    })?;
    let table_tmp = match write_temp(&table, |w| w.write_all(assembled.rows.as_str().as_bytes())) {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_file(&matrix_tmp);
            return Err(e);
        }
    };
    // The table first: a present matrix file always has its table beside it.
    for (tmp, path) in [(&table_tmp, &table), (&matrix_tmp, &out.to_path_buf())] {
        if let Err(e) = std::fs::rename(tmp, path) {
            let _ = std::fs::remove_file(&table_tmp);
            let _ = std::fs::remove_file(&matrix_tmp);
            return Err(MatrixError::Io {
                path: path.clone(),
                message: e.to_string(),
            });
        }
    }
    Ok((out.to_path_buf(), table))
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes a hidden temporary file next to `path` with `fill` and syncs it; on failure removes
/// it and names `path` in the error.
fn write_temp(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<PathBuf, MatrixError> {
    let io_error = |e: std::io::Error| MatrixError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let name = path.file_name().ok_or_else(|| MatrixError::Io {
        path: path.to_path_buf(),
        message: "has no file name; give --out a file name, e.g. H.mtx".to_string(),
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = dir.join(tmp_name);
    let file = std::fs::File::create(&tmp).map_err(io_error)?;
    let mut writer = std::io::BufWriter::new(file);
    let written = fill(&mut writer)
        .and_then(|()| writer.flush())
        .and_then(|()| writer.get_ref().sync_all());
    if let Err(e) = written {
        drop(writer);
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(e));
    }
    Ok(tmp)
}
