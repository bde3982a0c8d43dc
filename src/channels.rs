//! Levels of a sphere or a cylinder: every angular channel that has a level in the request.
//!
//! Each channel l (sphere) or |m| (cylinder) is one symmetric tridiagonal problem
//! ([`crate::model::radial::channel_hamiltonian`]) solved by the same eigen-solver as the slab.
//! Which channels are needed is decided by Sturm counts, so that nothing is missed: the matrix
//! of channel l + 1 is the matrix of channel l plus a non-negative diagonal (the centrifugal
//! term grows with l; the mass-interface term does not depend on it), so by Weyl's inequality
//! its k-th eigenvalue is at least the k-th of channel l, and once a channel has no level below
//! the cap (Sturm count 0) no later channel has one. The channels are solved in order
//! l = 0, 1, … until that happens, and [`Completeness`] records the channel and its count — the
//! proof, as the Sturm count at the cutoff is for one channel.

use crate::eigen::sturm::SturmData;
use crate::eigen::{lowest_eigenpairs, EigenError, SolverOptions};
use crate::model::grid::{Grid, GridError};
use crate::model::hamiltonian::{Hamiltonian, HamiltonianError};
use crate::model::potential::{Potential, PotentialError};
use crate::model::radial::{channel_hamiltonian, first_unknown, Geometry};
use crate::spectrum::{
    points_per_half_wavelength, MIN_POINTS_PER_HALF_WAVELENGTH, WARN_POINTS_PER_HALF_WAVELENGTH,
};
use serde::Serialize;
use thiserror::Error;

/// Channels beyond this are never solved: a request that needs more is refused.
pub const MAX_CHANNELS: usize = 100_000;

/// Why the levels of a radial problem could not be computed.
#[derive(Debug, Error)]
pub enum ChannelError {
    /// The geometry is the slab (solve it with [`crate::spectrum`]).
    #[error("the slab has no angular channels; use the 1-D spectrum")]
    Slab,
    /// The potential is not a function of r ≥ 0, or not valid.
    #[error(transparent)]
    Potential(#[from] PotentialError),
    /// The grid could not be built.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// A channel's Hamiltonian could not be built.
    #[error(transparent)]
    Hamiltonian(#[from] HamiltonianError),
    /// The eigen-solver failed.
    #[error(transparent)]
    Eigen(#[from] EigenError),
    /// The request lies beyond what the grid resolves, needs every level of a channel's grid,
    /// or more channels than [`MAX_CHANNELS`].
    #[error("the energy cap {cap:e} Ha cannot be reached: {reason}")]
    Unreachable {
        /// The cap (Hartree).
        cap: f64,
        /// What stops it.
        reason: String,
    },
    /// A level count of zero.
    #[error("at least one level must be requested")]
    NoLevels,
}

/// Which levels to compute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Selection {
    /// The `k` lowest (n, l) levels over all channels (each level once, whatever its degeneracy).
    Lowest(usize),
    /// Every level strictly below this energy (Hartree), in every channel.
    Below(f64),
}

/// A particle in a hard sphere or cylinder of radius R with a radial potential.
#[derive(Debug, Clone)]
pub struct RadialProblem {
    /// V(r) on [0, R] (Hartree, bohr); R is its box half-width.
    pub potential: Potential,
    /// Particle mass (mₑ); pieces may carry their own effective mass.
    pub mass: f64,
    /// Requested radial grid spacing (bohr).
    pub spacing: f64,
    /// Sphere or cylinder.
    pub geometry: Geometry,
    /// Tuning of the eigen-solver.
    pub options: SolverOptions,
}

/// One level (n, l) of a radial problem (energies in Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RadialLevel {
    /// Index in the list sorted by energy across channels, 0 = ground state.
    pub index: usize,
    /// Radial quantum number within its channel (0 = lowest; nodes of R(r) in (0, R)).
    pub n: usize,
    /// Angular channel: l (sphere) or |m| (cylinder).
    pub channel: usize,
    /// Orbital degeneracy (2l + 1; 1 or 2), spin not included.
    pub degeneracy: u64,
    /// E = ⟨K⟩ + ⟨V⟩ (Hartree).
    pub energy: f64,
    /// ⟨K⟩, centrifugal energy included (Hartree).
    pub kinetic: f64,
    /// ⟨V⟩ (Hartree).
    pub potential: f64,
    /// ‖Hψ − Eψ‖ of the solver's unit vector (Hartree).
    pub residual: f64,
}

/// What one channel contributed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelSolve {
    /// l or |m|.
    pub channel: usize,
    /// Levels computed in it.
    pub levels: usize,
    /// Sturm count of the channel's matrix below the cap in force when it was solved.
    pub count_below_cap: usize,
}

/// The proof that no level of the request was missed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completeness {
    /// The channels solved, in order.
    pub solved: Vec<ChannelSolve>,
    /// The final cap (Hartree): the requested energy, or the highest of the k lowest levels.
    pub cap: f64,
    /// The first channel not solved; `None` when one channel was asked for (`--channel`).
    pub next_channel: Option<usize>,
    /// Sturm count of that channel below the cap (0: by monotonicity in l, no later channel
    /// has a level below the cap either).
    pub next_count_below_cap: usize,
}

/// The levels of a radial problem over its channels, sorted by energy.
#[derive(Debug, Clone)]
pub struct RadialSpectrum {
    /// Sphere or cylinder.
    pub geometry: Geometry,
    /// The levels, ascending in energy (ties: lower channel first).
    pub levels: Vec<RadialLevel>,
    /// Which channels were solved and why no other is needed.
    pub completeness: Completeness,
    /// The radial grid (nodes r_0 = 0 … r_{N+1} = R).
    pub grid: Grid,
    /// Mass of the particle (mₑ).
    pub mass: f64,
    /// The heaviest mass of any piece or of the particle (mₑ): it bounds the centrifugal
    /// barrier from below ([`RadialSpectrum::omitted_weight`]).
    pub heaviest_mass: f64,
    /// Per level, its amplitude on its channel's unknowns (u = rR for the sphere, bohr^−½; R for
    /// the cylinder, bohr^−1), normalized to Σ W ψ² = 1.
    amplitudes: Vec<Vec<f64>>,
}

impl RadialSpectrum {
    /// E of every level (Hartree), ascending.
    pub fn energies(&self) -> Vec<f64> {
        self.levels.iter().map(|l| l.energy).collect()
    }

    /// ⟨K⟩ of every level (Hartree).
    pub fn kinetic(&self) -> Vec<f64> {
        self.levels.iter().map(|l| l.kinetic).collect()
    }

    /// Orbital degeneracy of every level (spin not included).
    pub fn degeneracies(&self) -> Vec<u64> {
        self.levels.iter().map(|l| l.degeneracy).collect()
    }

    /// The channels of the levels, ascending, each with how many of the levels it holds: level
    /// (n, l) of the list is the n-th of channel l, n < its count.
    pub fn channel_counts(&self) -> Vec<(usize, usize)> {
        let mut channels: Vec<(usize, usize)> = Vec::new();
        for level in &self.levels {
            match channels.iter_mut().find(|c| c.0 == level.channel) {
                Some(c) => c.1 += 1,
                None => channels.push((level.channel, 1)),
            }
        }
        channels.sort();
        channels
    }

    /// Spatial dimension d of the kinetic temperature (2/d) K: 3 (sphere) or 2 (cylinder).
    pub fn dimension(&self) -> u8 {
        self.geometry.dimension()
    }

    /// An upper bound on Σ g e^{−(E − cutoff)/T} over every level *not* in the list, with
    /// `cutoff` = [`Completeness::cap`] (Hartree) and `temperature` T > 0 (Hartree): the
    /// omitted levels weighted as if they all sat at the cutoff, so that the truncation bounds
    /// of the canonical sums take it as their number of omitted levels.
    ///
    /// Every omitted level lies at or above the cap (Sturm counts, [`Completeness`]). In
    /// channel ν the symmetric matrix is that of channel 0 (or, for the cylinder's m ≥ 1, its
    /// principal submatrix without the axis) plus the diagonal ν/(2 m r_j²) ≥ ν/(2 m_max R²),
    /// so by Weyl's inequality and Cauchy interlacing every level of channel ν is at least
    /// E_0 + ν/(2 m_max R²), E_0 the ground level (channel 0). A channel has at most N + 1
    /// levels (N interior grid nodes) and degeneracy g(ν); the sum over channels stops once
    /// the terms fall below 1e-300 of the total, where the Gaussian tail is negligible.
    pub fn omitted_weight(&self, temperature: f64) -> f64 {
        self.weight_above(self.completeness.cap, temperature)
    }

    /// Σ g e^{−(E − cutoff)/T} over every level at or above `cutoff` (Hartree), bounded as in
    /// [`RadialSpectrum::omitted_weight`] for any cutoff at or above the computed cap: what a
    /// solve up to `cutoff` would leave out. It grows with `cutoff` (more channels open).
    pub fn weight_above(&self, cutoff: f64, temperature: f64) -> f64 {
        let (Some(ground), true) = (self.levels.first(), temperature > 0.0) else {
            return f64::INFINITY;
        };
        if !cutoff.is_finite() {
            return f64::INFINITY;
        }
        let per_channel = (self.grid.interior_len() + 1) as f64;
        let r = self.grid.nodes().last().copied().unwrap_or(0.0);
        let barrier = 1.0 / (2.0 * self.heaviest_mass * r * r);
        let mut total = 0.0;
        for channel in 0..MAX_CHANNELS {
            let floor = ground.energy + self.geometry.centrifugal(channel) * barrier;
            let term = self.geometry.degeneracy(channel) as f64
                * per_channel
                * (-(floor.max(cutoff) - cutoff) / temperature).exp();
            total += term;
            if floor > cutoff && term <= 1e-300 * total {
                return total;
            }
        }
        f64::INFINITY
    }

    /// The radial probability density of level `index` on the radial grid nodes r_0 … r_{N+1}
    /// (bohr^−1): r² |R|² = u² (sphere) or r |R|² (cylinder), zero where ψ vanishes; it
    /// integrates to 1 over [0, R].
    pub fn radial_density(&self, index: usize) -> Vec<f64> {
        let nodes = self.grid.nodes();
        let level = &self.levels[index];
        let first = first_unknown(self.geometry, level.channel);
        let mut density = vec![0.0; nodes.len()];
        for (j, a) in self.amplitudes[index].iter().enumerate() {
            let r = nodes[first + j];
            density[first + j] = match self.geometry {
                Geometry::Cylinder => r * a * a,
                _ => a * a,
            };
        }
        density
    }
}

impl RadialProblem {
    /// A particle of mass `mass` (mₑ) in the radial `potential` (pieces on [0, R]) of a
    /// `geometry` (sphere or cylinder), on a radial grid of spacing at most `spacing` (bohr).
    pub fn new(
        potential: Potential,
        mass: f64,
        spacing: f64,
        geometry: Geometry,
    ) -> Result<Self, ChannelError> {
        if geometry.is_slab() {
            return Err(ChannelError::Slab);
        }
        potential.check_radial()?;
        Ok(Self {
            potential,
            mass,
            spacing,
            geometry,
            options: SolverOptions::default(),
        })
    }

    /// Radius R of the hard wall (bohr).
    pub fn radius(&self) -> f64 {
        self.potential.box_half_width()
    }

    /// The radial grid with a node on every breakpoint in (0, R) ([`Grid::aligned_radial`]).
    pub fn grid(&self) -> Result<Grid, GridError> {
        let breakpoints: Vec<f64> = self
            .potential
            .breakpoints()
            .into_iter()
            .filter(|&r| r > 0.0)
            .collect();
        Grid::aligned_radial(self.radius(), &breakpoints, self.spacing)
    }

    /// The Hamiltonian of channel `channel` on `grid`.
    pub fn hamiltonian(&self, grid: &Grid, channel: usize) -> Result<Hamiltonian, ChannelError> {
        Ok(channel_hamiltonian(
            &self.potential,
            grid,
            self.mass,
            self.geometry,
            channel,
        )?)
    }

    /// The heaviest mass of the particle or of any piece (mₑ).
    pub fn heaviest_mass(&self) -> f64 {
        self.potential
            .pieces()
            .iter()
            .filter_map(|p| p.mass)
            .fold(self.mass, f64::max)
    }

    /// Refuses an energy the grid cannot represent: fewer than
    /// [`MIN_POINTS_PER_HALF_WAVELENGTH`] nodes per half wavelength at the bottom of V with the
    /// heaviest mass (as the slab's spectrum does).
    fn check_resolved(&self, grid: &Grid, energy: f64) -> Result<(), ChannelError> {
        let heaviest = self.heaviest_mass();
        let spacing = grid.max_spacing();
        let points =
            points_per_half_wavelength(energy, self.potential.min_value(), heaviest, spacing);
        if points < MIN_POINTS_PER_HALF_WAVELENGTH {
            return Err(ChannelError::Unreachable {
                cap: energy,
                reason: format!(
                    "the radial grid resolves it with only {points:.1} points per half \
                     wavelength (spacing {spacing} bohr, at least {MIN_POINTS_PER_HALF_WAVELENGTH} \
                     are needed); use grid.spacing <= {:.3e} bohr or fewer levels",
                    spacing * points / WARN_POINTS_PER_HALF_WAVELENGTH
                ),
            });
        }
        Ok(())
    }

    /// The `k` lowest levels of channel `channel` on `grid` (for nested-grid checks), ascending.
    pub fn channel_levels(
        &self,
        grid: &Grid,
        channel: usize,
        k: usize,
    ) -> Result<Vec<RadialLevel>, ChannelError> {
        let h = self.hamiltonian(grid, channel)?;
        Ok(self
            .solve_channel(&h, channel, k)?
            .into_iter()
            .map(|(level, _)| level)
            .collect())
    }

    /// The `k` lowest levels of one channel's Hamiltonian with their amplitudes.
    fn solve_channel(
        &self,
        h: &Hamiltonian,
        channel: usize,
        k: usize,
    ) -> Result<Vec<(RadialLevel, Vec<f64>)>, ChannelError> {
        let n = h.len();
        let pairs = lowest_eigenpairs(&h.matrix, k, &self.options)?;
        Ok(pairs
            .residuals
            .iter()
            .enumerate()
            .map(|(j, residual)| {
                let mut psi = vec![0.0; n];
                h.amplitude_from_symmetric(pairs.vector(j), &mut psi);
                let kinetic = h.kinetic_energy(&psi);
                let potential = h.potential_energy(&psi);
                let level = RadialLevel {
                    index: j,
                    n: j,
                    channel,
                    degeneracy: self.geometry.degeneracy(channel),
                    energy: kinetic + potential,
                    kinetic,
                    potential,
                    residual: *residual,
                };
                (level, psi)
            })
            .collect())
    }

    /// The number of (n, l) levels strictly below `cap` (Hartree) over every channel, by Sturm
    /// counts channel by channel until one has none (as [`RadialProblem::spectrum`] decides
    /// which channels to solve): what a solve below `cap` would hold, known before it is made.
    pub fn count_below(&self, cap: f64) -> Result<usize, ChannelError> {
        let grid = self.grid()?;
        let mut total = 0;
        for channel in 0..MAX_CHANNELS {
            let h = self.hamiltonian(&grid, channel)?;
            let count = SturmData::new(&h.matrix.diag, &h.matrix.off).count_below(cap);
            if count == 0 {
                return Ok(total);
            }
            total += count;
        }
        Err(ChannelError::Unreachable {
            cap,
            reason: format!(
                "channels 0 to {} all have levels below it",
                MAX_CHANNELS - 1
            ),
        })
    }

    /// The levels of `selection`, in every channel that has one, or only in `only_channel`.
    pub fn spectrum(
        &self,
        selection: Selection,
        only_channel: Option<usize>,
    ) -> Result<RadialSpectrum, ChannelError> {
        if selection == Selection::Lowest(0) {
            return Err(ChannelError::NoLevels);
        }
        let grid = self.grid()?;
        if let Selection::Below(cap) = selection {
            self.check_resolved(&grid, cap)?;
        }
        let mut found: Vec<(RadialLevel, Vec<f64>)> = Vec::new();
        let mut solved = Vec::new();
        let mut cap = match selection {
            Selection::Below(cap) => cap,
            Selection::Lowest(_) => f64::INFINITY,
        };
        let channels = match only_channel {
            Some(c) => c..c + 1,
            None => 0..MAX_CHANNELS,
        };
        let mut next = None;
        for channel in channels {
            let h = self.hamiltonian(&grid, channel)?;
            let n = h.len();
            let count = if cap.is_finite() {
                SturmData::new(&h.matrix.diag, &h.matrix.off).count_below(cap)
            } else {
                n
            };
            if count == 0 && only_channel.is_none() {
                next = Some((channel, count));
                break;
            }
            let wanted = match selection {
                Selection::Lowest(k) => count.min(k),
                Selection::Below(_) => count,
            };
            if wanted == n && matches!(selection, Selection::Below(_)) {
                return Err(ChannelError::Unreachable {
                    cap,
                    reason: format!(
                        "every one of the {n} grid levels of channel {channel} lies below it; \
                         refine the grid spacing or lower the cap"
                    ),
                });
            }
            found.extend(self.solve_channel(&h, channel, wanted)?);
            solved.push(ChannelSolve {
                channel,
                levels: wanted,
                count_below_cap: count,
            });
            found.sort_by(|a, b| {
                a.0.energy
                    .total_cmp(&b.0.energy)
                    .then(a.0.channel.cmp(&b.0.channel))
            });
            if let Selection::Lowest(k) = selection {
                found.truncate(k);
                if found.len() == k {
                    cap = found[k - 1].0.energy;
                }
            }
        }
        if only_channel.is_none() && next.is_none() {
            return Err(ChannelError::Unreachable {
                cap,
                reason: format!(
                    "channels 0 to {} all have levels below it",
                    MAX_CHANNELS - 1
                ),
            });
        }
        if let Some(top) = found.last() {
            self.check_resolved(&grid, top.0.energy)?;
        }
        let (levels, amplitudes): (Vec<RadialLevel>, Vec<Vec<f64>>) = found
            .into_iter()
            .enumerate()
            .map(|(i, (mut level, psi))| {
                level.index = i;
                (level, psi)
            })
            .unzip();
        let (next_channel, next_count_below_cap) = match next {
            Some((c, count)) => (Some(c), count),
            None => (None, 0),
        };
        Ok(RadialSpectrum {
            geometry: self.geometry,
            levels,
            completeness: Completeness {
                solved,
                cap,
                next_channel,
                next_count_below_cap,
            },
            grid,
            mass: self.mass,
            heaviest_mass: self.heaviest_mass(),
            amplitudes,
        })
    }
}
