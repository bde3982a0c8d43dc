//! Non-interacting N-fermion states built from single-particle orbitals (the paper's N-particle
//! systems, Figs. 4–5).
//!
//! The paper builds the states of N non-interacting electrons from the one-particle solution: an
//! occupation n_j of the orbitals (ascending energies e_j, kinetic energies k_j = ⟨K⟩_j, Hartree)
//! has total energy E = Σ_j n_j e_j and total kinetic energy K = Σ_j n_j k_j. With
//! [`Spin::Half`] (electrons, the default) an orbital holds 0, 1 or 2 particles and an
//! occupation with m singly occupied orbitals is 2^m exactly degenerate spin states
//! (its multiplicity); with [`Spin::None`] (spinless fermions) n_j ∈ {0, 1} and the multiplicity
//! is 1. Different occupations are always different entries, however close their energies; only
//! the exact spin multiplicity makes a degenerate level.
//!
//! Two algorithms:
//!
//! - [`enumerate`]: every occupation with E ≤ E_max, by a depth-first branch and bound over
//!   non-decreasing orbital-index lists (an index repeated for a doubly occupied orbital). At
//!   each depth the candidate orbitals are tried in ascending order and the branch stops at the
//!   first candidate whose lower bound — the partial energy plus the cheapest completion, i.e.
//!   the next free spin-orbitals in order (a prefix-sum difference) — exceeds E_max; the bound is
//!   monotone in the candidate, so nothing below E_max is cut and no N-subset that fails the bound
//!   is ever visited; and every node that passes it has at least its cheapest completion below
//!   E_max (up to rounding), so the work is output-sensitive: O(S·N) for S occupations found (plus O(S log S) for
//!   the sort), memory S·(4N + 24) bytes (twice that, and a 16-byte sort key per occupation, while sorting); never O(C(M, N)). Energies are summed in ascending orbital order, so they
//!   are reproducible bit for bit, and the states are sorted by (energy, occupation
//!   lexicographically). A state limit stops the enumeration with
//!   [`ManyBodyError::TooManyStates`] before memory runs out.
//! - [`binned_counts`]: the exact number of states Ω_N on energy bins and the sum of K over them,
//!   for N up to a few hundred, by dynamic programming over the orbitals (the product
//!   Π_j (1 + w₁ x^{e_j} + x^{2e_j}) of the grand generating function truncated at N particles,
//!   with w₁ = 2 for spin ½): a table over (particles n, quantized partial excitation) updated
//!   orbital by orbital with occupancy 0, 1 (weight capacity) or 2, carrying the count and the
//!   count-weighted K sum (a dual number), with positive terms only and f64 counts (Ω reaches
//!   10^50 and more). See [`binned_counts_with`] for the quantization and its error bound.
//!
//! Both check that the supplied orbitals suffice: a state with E ≤ E_max can occupy orbital j
//! only if e_j + E_gs(N − 1) ≤ E_max, with E_gs(N − 1) the ground-state energy of the other N − 1
//! particles; if the highest supplied orbital still satisfies this, a higher one might be needed
//! and [`ManyBodyError::NeedMoreOrbitals`] says up to which energy the spectrum must reach
//! (unless the orbitals are a complete finite basis, [`Orbitals::finite_basis`]).
//!
//! For the thermodynamics: [`ManyBodyStates::to_state_list`] feeds the per-state quantities of
//! [`crate::physics::thermo`] (Hertz entropy S(E) = ln Ω(E), T^(μ) eq. (2), T^(K) eq. (3), the window
//! average T_E^(K) eqs. (4)–(7)); [`BinnedCounts`] gives Ω_N(E) and S = ln Ω_N at the bin edges
//! and the window average K_E, T_E^(K) = (2/d) K_E / N over [E, E + ε) for ε a whole number of
//! bins, eqs. (4)–(7), for N far beyond what can be listed.
//!
//! Atomic units: energies in Hartree, counts dimensionless, entropies in units of k_B.

use crate::physics::thermo::{StateList, ThermoError};
use crate::spectrum::Spectrum;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// Default cap on the number of occupations [`enumerate`] stores (≈ 4N + 24 bytes each).
pub const DEFAULT_STATE_LIMIT: usize = 4_000_000;
/// Default number of energy quanta δ per bin in [`binned_counts`] (δ = bin width / 64).
pub const DEFAULT_QUANTA_PER_BIN: usize = 64;
/// Largest dynamic-programming table [`binned_counts`] allocates (bytes).
pub const MAX_TABLE_BYTES: u64 = 1 << 31;
/// Largest orbital energy magnitude accepted (Hartree); keeps every sum of energies finite.
pub const MAX_ORBITAL_ENERGY: f64 = 1e100;
/// Largest number of energy quanta spanned by the occupied orbitals in [`binned_counts`].
const MAX_QUANTA_SPREAD: f64 = (1u64 << 40) as f64;
/// Stage work (cells) above which [`binned_counts`] updates the rows in parallel.
const PARALLEL_CELLS: usize = 1 << 15;

/// Spin convention of the fermions: how many particles one orbital holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Spin {
    /// Spin-½ fermions (electrons): two per orbital, 2^m spin states for m singly occupied orbitals.
    #[default]
    Half,
    /// Spinless fermions: at most one per orbital, every occupation a single state.
    None,
}

impl Spin {
    /// Particles one orbital can hold: 2 for spin ½, 1 for spinless fermions.
    pub fn capacity(self) -> usize {
        match self {
            Spin::Half => 2,
            Spin::None => 1,
        }
    }

    /// Spin states of an occupation with `singly_occupied` singly occupied orbitals (2^m or 1);
    /// None if 2^m does not fit in a u64.
    pub fn multiplicity(self, singly_occupied: usize) -> Option<u64> {
        match self {
            Spin::Half => (singly_occupied < 64).then(|| 1u64 << singly_occupied),
            Spin::None => Some(1),
        }
    }
}

impl fmt::Display for Spin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spin::Half => write!(f, "spin 1/2 (2 per orbital)"),
            Spin::None => write!(f, "spinless fermions (1 per orbital)"),
        }
    }
}

/// Why N-fermion states could not be built: what was wrong and what would be valid.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ManyBodyError {
    /// N = 0.
    #[error("the particle number N must be at least 1, got 0")]
    ZeroParticles,
    /// More particles than spin-orbitals.
    #[error("N = {particles} fermions do not fit in {orbitals} orbitals with {spin}: at most {capacity} particles; supply more orbitals or use fewer particles")]
    TooManyParticles {
        /// Particles asked for.
        particles: usize,
        /// Spin-orbitals available (orbitals × capacity per orbital).
        capacity: usize,
        /// Orbitals supplied.
        orbitals: usize,
        /// The spin convention.
        spin: Spin,
    },
    /// E_max is NaN or infinite.
    #[error("energy_max must be a finite total energy in Hartree, got {0}")]
    InvalidEnergyMax(f64),
    /// E_max lies below the N-particle ground state.
    #[error("energy_max = {energy_max} Ha is below the N-particle ground-state energy {ground} Ha; it must be at least the ground-state energy")]
    EnergyBelowGround {
        /// The requested E_max (Hartree).
        energy_max: f64,
        /// The N-particle ground-state energy (Hartree).
        ground: f64,
    },
    /// The bin width is not a positive finite energy.
    #[error("the bin width must be a positive finite energy in Hartree, got {0}")]
    BinWidth(f64),
    /// Zero energy quanta per bin.
    #[error("quanta_per_bin must be at least 1, got {0}")]
    QuantaPerBin(usize),
    /// A window width that is not a whole multiple of the bin width.
    #[error("the window width ε = {epsilon} Ha must be a positive whole multiple of the bin width {bin_width} Ha, at most the binned range {range} Ha")]
    Window {
        /// The requested window width (Hartree).
        epsilon: f64,
        /// The bin width (Hartree).
        bin_width: f64,
        /// Total width of the bins (Hartree).
        range: f64,
    },
    /// The enumeration would store more occupations than the state limit.
    #[error("more than {limit} occupations (the state limit) of N = {particles} particles have E <= {energy_max} Ha; raise state_limit, lower energy_max, or use binned_counts, which gives the exact state count Omega_N(E) and the kinetic-energy sums on energy bins without storing the states")]
    TooManyStates {
        /// The state limit (occupations).
        limit: usize,
        /// Particles.
        particles: usize,
        /// The requested E_max (Hartree).
        energy_max: f64,
    },
    /// The supplied orbitals may not reach high enough for E_max.
    #[error("the {supplied} supplied orbitals (highest e = {highest} Ha) may not be enough: every orbital with e_j <= {needed_energy} Ha can be occupied by a state up to energy_max; supply all orbitals up to above {needed_energy} Ha, lower energy_max, or build the orbitals with Orbitals::finite_basis if they are all there are")]
    NeedMoreOrbitals {
        /// Every orbital with e_j ≤ needed_energy is required (Hartree).
        needed_energy: f64,
        /// Orbitals supplied.
        supplied: usize,
        /// Energy of the highest supplied orbital (Hartree).
        highest: f64,
    },
    /// The orbital energies or kinetic energies are invalid.
    #[error("invalid orbitals: {0}")]
    BadOrbitals(String),
    /// A spin multiplicity 2^m or their sum does not fit in a u64.
    #[error("an occupation with {singly_occupied} singly occupied orbitals (2^{singly_occupied} spin states), or the total number of states, overflows u64; lower energy_max or use binned_counts (f64 counts)")]
    MultiplicityOverflow {
        /// Singly occupied orbitals of the offending occupation.
        singly_occupied: usize,
    },
    /// A binned count or kinetic sum exceeds the f64 range.
    #[error("the state count or kinetic-energy sum of bin {bin} exceeds the f64 range (1.8e308); lower energy_max or the particle number")]
    CountOverflow {
        /// Index of the first offending bin.
        bin: usize,
    },
    /// The dynamic-programming table would be too large.
    #[error("binned counting needs a {bytes:.3e}-byte table (limit {limit} bytes) for {bins:.3e} bins of {quanta_per_bin} quanta and N = {particles}; use a wider bin, fewer quanta_per_bin or a lower energy_max")]
    TableTooLarge {
        /// Bytes needed.
        bytes: f64,
        /// The limit, [`MAX_TABLE_BYTES`].
        limit: u64,
        /// Bins requested.
        bins: f64,
        /// Quanta per bin.
        quanta_per_bin: usize,
        /// Particles.
        particles: usize,
    },
    /// The energy quantum is too fine for the spread of the occupied orbitals.
    #[error("the energy quantum {quantum} Ha is too fine for the occupied orbitals, which span {spread} Ha (more than 2^40 quanta); use a wider bin or fewer quanta_per_bin")]
    ResolutionTooFine {
        /// δ = bin width / quanta per bin (Hartree).
        quantum: f64,
        /// e_F − e_0 of the N-particle ground state (Hartree).
        spread: f64,
    },
    /// The state list could not be built for the thermodynamics.
    #[error(transparent)]
    Thermo(#[from] ThermoError),
}

/// Single-particle orbitals: energies e_j ascending and kinetic energies k_j = ⟨K⟩_j (Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Orbitals {
    energy: Vec<f64>,
    kinetic: Vec<f64>,
    complete: bool,
    /// Spatial dimension d of T^(K) = (2/d) K / N of the states built from these orbitals.
    #[serde(skip)]
    dimension: u8,
}

impl Orbitals {
    /// The lowest M levels of a spectrum that continues above them: energies ascending and
    /// kinetic energies (Hartree); state counts are checked against truncation.
    pub fn new(energy: Vec<f64>, kinetic: Vec<f64>) -> Result<Self, ManyBodyError> {
        Self::build(energy, kinetic, false)
    }

    /// Every orbital there is (a finite basis, energies ascending, Hartree): no truncation check.
    pub fn finite_basis(energy: Vec<f64>, kinetic: Vec<f64>) -> Result<Self, ManyBodyError> {
        Self::build(energy, kinetic, true)
    }

    /// The levels of a computed spectrum (E_n and ⟨K⟩_n, Hartree) as a truncated orbital set.
    pub fn from_spectrum(spectrum: &Spectrum) -> Result<Self, ManyBodyError> {
        Self::new(spectrum.energies(), spectrum.kinetic())
    }

    fn build(energy: Vec<f64>, kinetic: Vec<f64>, complete: bool) -> Result<Self, ManyBodyError> {
        let bad = |s: String| Err(ManyBodyError::BadOrbitals(s));
        if energy.is_empty() {
            return bad("at least one orbital is needed, got none".into());
        }
        if energy.len() != kinetic.len() {
            return bad(format!(
                "one kinetic energy per orbital energy is needed, got {} energies and {} kinetic energies",
                energy.len(),
                kinetic.len()
            ));
        }
        if energy.len() > u32::MAX as usize {
            return bad(format!(
                "at most {} orbitals are supported, got {}",
                u32::MAX,
                energy.len()
            ));
        }
        for (j, &e) in energy.iter().enumerate() {
            if !(e.is_finite() && e.abs() <= MAX_ORBITAL_ENERGY) {
                return bad(format!(
                    "orbital {j} has energy {e}; energies must be finite with |e| <= {MAX_ORBITAL_ENERGY:e} Ha"
                ));
            }
            if j > 0 && e < energy[j - 1] {
                return bad(format!(
                    "orbital energies must be ascending (non-decreasing), but e_{j} = {e} < e_{} = {} Ha",
                    j - 1,
                    energy[j - 1]
                ));
            }
        }
        for (j, &k) in kinetic.iter().enumerate() {
            if !(k.is_finite() && (0.0..=MAX_ORBITAL_ENERGY).contains(&k)) {
                return bad(format!(
                    "orbital {j} has kinetic energy {k}; kinetic energies must be finite, >= 0 and <= {MAX_ORBITAL_ENERGY:e} Ha"
                ));
            }
        }
        Ok(Self {
            energy,
            kinetic,
            complete,
            dimension: 1,
        })
    }

    /// The same orbitals in `dimension` d = 1, 2 or 3 (default 1, the slab): the N-particle
    /// state lists and binned counts built from them take T^(K) = (2/d) K / N.
    pub fn with_dimension(mut self, dimension: u8) -> Result<Self, ManyBodyError> {
        if !(1..=3).contains(&dimension) {
            return Err(ManyBodyError::BadOrbitals(format!(
                "the spatial dimension must be 1, 2 or 3, got {dimension}"
            )));
        }
        self.dimension = dimension;
        Ok(self)
    }

    /// Spatial dimension d of T^(K) of the states built from these orbitals.
    pub fn dimension(&self) -> u8 {
        self.dimension
    }

    /// Orbital energies e_j (Hartree), ascending.
    pub fn energy(&self) -> &[f64] {
        &self.energy
    }

    /// Orbital kinetic energies k_j = ⟨K⟩_j (Hartree).
    pub fn kinetic(&self) -> &[f64] {
        &self.kinetic
    }

    /// Number of orbitals M.
    pub fn len(&self) -> usize {
        self.energy.len()
    }

    /// Always false: an orbital set holds at least one orbital.
    pub fn is_empty(&self) -> bool {
        self.energy.is_empty()
    }

    /// True for a complete finite basis ([`Orbitals::finite_basis`]), false for a truncated spectrum.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Energy of spin-orbital (slot) s: orbital s / capacity (Hartree).
    fn slot_energy(&self, slot: usize, capacity: usize) -> f64 {
        self.energy[slot / capacity]
    }
}

/// What [`enumerate`] lists: N, spin, the total-energy cap E_max (Hartree) and the state limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnumerationSettings {
    /// Number of particles N ≥ 1.
    pub particles: usize,
    /// Spin convention.
    pub spin: Spin,
    /// Every state with total energy E ≤ energy_max is listed (Hartree).
    pub energy_max: f64,
    /// Most occupations (entries, not spin copies) to store before giving up.
    pub state_limit: usize,
}

impl EnumerationSettings {
    /// Settings for N particles up to E_max (Hartree) with [`DEFAULT_STATE_LIMIT`].
    pub fn new(particles: usize, spin: Spin, energy_max: f64) -> Self {
        Self {
            particles,
            spin,
            energy_max,
            state_limit: DEFAULT_STATE_LIMIT,
        }
    }
}

/// Every N-fermion occupation with E ≤ E_max, ascending in (energy, occupation); Hartree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManyBodyStates {
    particles: usize,
    spin: Spin,
    energy_max: f64,
    needed_energy: f64,
    orbitals_needed: usize,
    orbitals_supplied: usize,
    energy: Vec<f64>,
    kinetic: Vec<f64>,
    multiplicity: Vec<u64>,
    occupations: Vec<u32>,
    total_states: u64,
    /// Spatial dimension d of T^(K), that of the orbitals.
    #[serde(skip)]
    dimension: u8,
}

impl ManyBodyStates {
    /// Number of occupations (entries; spin copies are counted by the multiplicity).
    pub fn len(&self) -> usize {
        self.energy.len()
    }

    /// False: the ground state is always listed.
    pub fn is_empty(&self) -> bool {
        self.energy.is_empty()
    }

    /// Number of particles N.
    pub fn particles(&self) -> usize {
        self.particles
    }

    /// Spin convention.
    pub fn spin(&self) -> Spin {
        self.spin
    }

    /// The requested cap on the total energy (Hartree).
    pub fn energy_max(&self) -> f64 {
        self.energy_max
    }

    /// Total energies E_i = Σ n_j e_j (Hartree), ascending, summed in ascending orbital order.
    pub fn energy(&self) -> &[f64] {
        &self.energy
    }

    /// Total kinetic energies K_i = Σ n_j k_j (Hartree), summed in ascending orbital order.
    pub fn kinetic(&self) -> &[f64] {
        &self.kinetic
    }

    /// Spin multiplicities g_i (2^m for m singly occupied orbitals with spin ½, else 1).
    pub fn multiplicity(&self) -> &[u64] {
        &self.multiplicity
    }

    /// Orbital indices of occupation i (N of them, non-decreasing, a doubly occupied orbital
    /// twice); None if i ≥ len().
    pub fn occupation(&self, i: usize) -> Option<&[u32]> {
        let n = self.particles;
        self.occupations.get(i * n..(i + 1) * n)
    }

    /// All occupations back to back, N orbital indices per state, in state order.
    pub fn occupations(&self) -> &[u32] {
        &self.occupations
    }

    /// Σ g_i: the number of states counting spin copies (exact).
    pub fn total_states(&self) -> u64 {
        self.total_states
    }

    /// Highest orbital index occupied in any listed state.
    pub fn highest_orbital(&self) -> usize {
        self.occupations.iter().copied().max().unwrap_or(0) as usize
    }

    /// Ground-state energy E_gs(N) (Hartree): the first entry.
    pub fn ground_energy(&self) -> f64 {
        self.energy[0]
    }

    /// E_max − E_gs(N − 1) plus a rounding margin (Hartree): orbitals with e_j ≤ this can be
    /// occupied by some state with E ≤ E_max.
    pub fn needed_energy(&self) -> f64 {
        self.needed_energy
    }

    /// Orbitals a state with E ≤ E_max can need (those up to [`Self::needed_energy`] and the
    /// ground-state ones), at most the number supplied.
    pub fn orbitals_needed(&self) -> usize {
        self.orbitals_needed
    }

    /// Orbitals supplied to [`enumerate`].
    pub fn orbitals_supplied(&self) -> usize {
        self.orbitals_supplied
    }

    /// The states as a [`StateList`] for the thermodynamics in [`crate::physics::thermo`].
    pub fn to_state_list(&self) -> Result<StateList, ManyBodyError> {
        Ok(StateList::new(
            self.energy.clone(),
            self.kinetic.clone(),
            self.multiplicity.clone(),
            self.particles,
        )?
        .with_dimension(self.dimension)?)
    }

    /// The states as a [`StateList`] and their occupations (N orbital indices per state, in
    /// state order), moved out instead of copied.
    pub fn into_state_list(self) -> Result<(StateList, Vec<u32>), ManyBodyError> {
        let list = StateList::new(self.energy, self.kinetic, self.multiplicity, self.particles)?
            .with_dimension(self.dimension)?;
        Ok((list, self.occupations))
    }
}

/// Checks 1 ≤ N ≤ M · capacity.
fn check_particles(orbitals: &Orbitals, particles: usize, spin: Spin) -> Result<(), ManyBodyError> {
    if particles == 0 {
        return Err(ManyBodyError::ZeroParticles);
    }
    let capacity = orbitals.len().saturating_mul(spin.capacity());
    if particles > capacity {
        return Err(ManyBodyError::TooManyParticles {
            particles,
            capacity,
            orbitals: orbitals.len(),
            spin,
        });
    }
    Ok(())
}

/// Prefix sums P[s] = Σ_{t<s} e(slot t) in ascending slot order (Hartree), s = 0..=slots.
fn slot_prefix(orbitals: &Orbitals, capacity: usize, slots: usize) -> Vec<f64> {
    let mut prefix = Vec::with_capacity(slots + 1);
    let mut acc = 0.0;
    prefix.push(acc);
    for s in 0..slots {
        acc += orbitals.slot_energy(s, capacity);
        prefix.push(acc);
    }
    prefix
}

/// E_gs(N): the sum of the N lowest spin-orbital energies in ascending order (Hartree).
pub fn ground_state_energy(
    orbitals: &Orbitals,
    particles: usize,
    spin: Spin,
) -> Result<f64, ManyBodyError> {
    check_particles(orbitals, particles, spin)?;
    let c = spin.capacity();
    Ok((0..particles).fold(0.0, |acc, s| acc + orbitals.slot_energy(s, c)))
}

/// Lists every N-fermion occupation with E ≤ E_max by branch and bound, sorted by
/// (energy, occupation); energies and kinetic energies in Hartree.
pub fn enumerate(
    orbitals: &Orbitals,
    settings: &EnumerationSettings,
) -> Result<ManyBodyStates, ManyBodyError> {
    let bounds = enumeration_bounds(orbitals, settings)?;
    let emitted = branch_and_bound(orbitals, settings, &bounds)?;
    let mut states = sorted_states(settings, &bounds, orbitals.energy().len(), emitted);
    states.dimension = orbitals.dimension;
    Ok(states)
}

/// The pruning bounds of one enumeration: slot prefix sums, their rounding margin and the
/// orbitals the cutoff needs (energies in Hartree).
struct EnumerationBounds {
    /// Spin-orbitals per orbital (1 or 2).
    capacity: usize,
    /// Spin-orbital slots: capacity × orbitals.
    slots: usize,
    /// P[s] = Σ_{t<s} e(slot t) (Hartree), s = 0..=slots.
    prefix: Vec<f64>,
    /// Rounding margin of the prefix-sum bounds (Hartree).
    margin: f64,
    /// The highest orbital energy an occupation below E_max can use, margin included (Hartree).
    needed_energy: f64,
    /// How many orbitals lie at or below `needed_energy` (at least enough to hold N).
    orbitals_needed: usize,
}

/// Checks N and E_max against the orbitals (E_max finite, not below the ground state, covered
/// by the supplied orbitals unless they are complete) and computes the pruning bounds.
fn enumeration_bounds(
    orbitals: &Orbitals,
    settings: &EnumerationSettings,
) -> Result<EnumerationBounds, ManyBodyError> {
    let n = settings.particles;
    let spin = settings.spin;
    let emax = settings.energy_max;
    check_particles(orbitals, n, spin)?;
    if !emax.is_finite() {
        return Err(ManyBodyError::InvalidEnergyMax(emax));
    }
    let c = spin.capacity();
    let e = orbitals.energy();
    let m = e.len();
    let slots = c * m;
    let prefix = slot_prefix(orbitals, c, slots);
    let ground = prefix[n];
    if emax < ground {
        return Err(ManyBodyError::EnergyBelowGround {
            energy_max: emax,
            ground,
        });
    }
    // Rounding margin of the prefix-sum bounds: every |P[s]| ≤ scale, each P[s] carries at
    // most `slots` roundings.
    let scale = 1.0 + emax.abs() + (0..slots).map(|s| e[s / c].abs()).sum::<f64>();
    let margin = 4.0 * (slots + n) as f64 * f64::EPSILON * scale;
    let needed_energy = emax - prefix[n - 1] + margin;
    if !orbitals.is_complete() && e[m - 1] <= needed_energy {
        return Err(ManyBodyError::NeedMoreOrbitals {
            needed_energy,
            supplied: m,
            highest: e[m - 1],
        });
    }
    let orbitals_needed = e
        .partition_point(|&x| x <= needed_energy)
        .max(n.div_ceil(c))
        .min(m);
    Ok(EnumerationBounds {
        capacity: c,
        slots,
        prefix,
        margin,
        needed_energy,
        orbitals_needed,
    })
}

/// Occupations per chunk of [`EmittedStates`].
const EMITTED_CHUNK: usize = 1 << 14;

/// The occupations with E ≤ E_max in the order the depth-first search emits them
/// (lexicographic in the occupation), with their E and K (Hartree) and spin multiplicities.
/// How many there will be is not known in advance: they are stored in chunks of
/// [`EMITTED_CHUNK`], which never move what they hold, where one growing Vec would copy
/// everything at each doubling.
struct EmittedStates {
    /// N.
    particles: usize,
    chunks: Vec<EmittedChunk>,
    /// Occupations emitted.
    len: usize,
    /// Σ multiplicity.
    total: u64,
}

/// Up to [`EMITTED_CHUNK`] consecutive emitted occupations.
struct EmittedChunk {
    /// E of each occupation (Hartree).
    energy: Vec<f64>,
    /// K of each occupation (Hartree).
    kinetic: Vec<f64>,
    /// Spin multiplicity of each occupation.
    multiplicity: Vec<u64>,
    /// N orbital indices per occupation, non-decreasing.
    occupations: Vec<u32>,
}

impl EmittedStates {
    fn new(particles: usize) -> Self {
        Self {
            particles,
            chunks: Vec::new(),
            len: 0,
            total: 0,
        }
    }

    /// Appends one occupation (its N orbital indices) with its E, K (Hartree) and multiplicity.
    fn push(&mut self, energy: f64, kinetic: f64, multiplicity: u64, occupation: &[u32]) {
        if self.len.is_multiple_of(EMITTED_CHUNK) {
            self.chunks.push(EmittedChunk {
                energy: Vec::with_capacity(EMITTED_CHUNK),
                kinetic: Vec::with_capacity(EMITTED_CHUNK),
                multiplicity: Vec::with_capacity(EMITTED_CHUNK),
                occupations: Vec::with_capacity(EMITTED_CHUNK * self.particles),
            });
        }
        let chunk = self.chunks.last_mut().expect("a chunk with room");
        chunk.energy.push(energy);
        chunk.kinetic.push(kinetic);
        chunk.multiplicity.push(multiplicity);
        chunk.occupations.extend_from_slice(occupation);
        self.len += 1;
    }

    /// The chunk holding occupation `i` (in emission order) and its index there.
    fn locate(&self, i: usize) -> (&EmittedChunk, usize) {
        (&self.chunks[i / EMITTED_CHUNK], i % EMITTED_CHUNK)
    }
}

/// The depth-first branch and bound over occupations: a branch is cut when its partial energy
/// plus the lowest completion (a prefix-sum difference) exceeds E_max + margin.
fn branch_and_bound(
    orbitals: &Orbitals,
    settings: &EnumerationSettings,
    bounds: &EnumerationBounds,
) -> Result<EmittedStates, ManyBodyError> {
    let n = settings.particles;
    let spin = settings.spin;
    let emax = settings.energy_max;
    let c = bounds.capacity;
    let slots = bounds.slots;
    let prefix = &bounds.prefix;
    let margin = bounds.margin;
    let e = orbitals.energy();
    let k = orbitals.kinetic();
    let m = e.len();
    // occ[d] is the orbital of the d-th particle (non-decreasing); cand[d] the next candidate
    // at depth d; pe/pk the partial sums in ascending order.
    let mut occ = vec![0u32; n];
    let mut cand = vec![0usize; n];
    let mut pe = vec![0.0f64; n + 1];
    let mut pk = vec![0.0f64; n + 1];
    let mut singles = vec![0usize; n + 1];
    let mut emitted = EmittedStates::new(n);
    let mut d = 0usize;
    loop {
        let o = cand[d];
        let second = c == 2 && d > 0 && occ[d - 1] as usize == o;
        let feasible = o < m && {
            let slot = c * o + usize::from(second);
            let partial = pe[d] + e[o];
            let rem = n - d - 1;
            if rem == 0 {
                partial <= emax
            } else {
                let first = slot + 1;
                first + rem <= slots
                    && partial + (prefix[first + rem] - prefix[first]) <= emax + margin
            }
        };
        if !feasible {
            // Every later candidate at this depth has a larger bound: backtrack.
            if d == 0 {
                break;
            }
            d -= 1;
            cand[d] += 1;
            continue;
        }
        occ[d] = o as u32;
        pe[d + 1] = pe[d] + e[o];
        pk[d + 1] = pk[d] + k[o];
        singles[d + 1] = match (c, second) {
            (1, _) => 0,
            (_, true) => singles[d] - 1,
            (_, false) => singles[d] + 1,
        };
        if d + 1 == n {
            if emitted.len == settings.state_limit {
                return Err(ManyBodyError::TooManyStates {
                    limit: settings.state_limit,
                    particles: n,
                    energy_max: emax,
                });
            }
            let g = spin
                .multiplicity(singles[n])
                .ok_or(ManyBodyError::MultiplicityOverflow {
                    singly_occupied: singles[n],
                })?;
            emitted.total =
                emitted
                    .total
                    .checked_add(g)
                    .ok_or(ManyBodyError::MultiplicityOverflow {
                        singly_occupied: singles[n],
                    })?;
            emitted.push(pe[n], pk[n], g, &occ);
            cand[d] += 1;
        } else {
            d += 1;
            // The next particle may join a singly occupied orbital (spin ½), else goes higher.
            let prev = occ[d - 1] as usize;
            let doubly = d >= 2 && occ[d - 2] as usize == prev;
            cand[d] = if c == 2 && !doubly { prev } else { prev + 1 };
        }
    }
    Ok(emitted)
}

/// The emitted states sorted by (energy, occupation), as the enumeration's result;
/// `orbitals_supplied` is the number of orbitals given.
fn sorted_states(
    settings: &EnumerationSettings,
    bounds: &EnumerationBounds,
    orbitals_supplied: usize,
    emitted: EmittedStates,
) -> ManyBodyStates {
    let n = settings.particles;
    // The DFS emits occupations in lexicographic order, so (energy, emission index) is
    // (energy, occupation) order. The keys carry their energies, so the sort compares
    // contiguous pairs instead of looking the energies up.
    let mut keys: Vec<(f64, usize)> = Vec::with_capacity(emitted.len);
    keys.extend(
        emitted
            .chunks
            .iter()
            .flat_map(|c| c.energy.iter().copied())
            .zip(0..),
    );
    keys.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut occupations = Vec::with_capacity(emitted.len * n);
    for &(_, i) in &keys {
        let (chunk, j) = emitted.locate(i);
        occupations.extend_from_slice(&chunk.occupations[j * n..(j + 1) * n]);
    }
    ManyBodyStates {
        particles: n,
        spin: settings.spin,
        energy_max: settings.energy_max,
        needed_energy: bounds.needed_energy,
        orbitals_needed: bounds.orbitals_needed,
        orbitals_supplied,
        energy: keys.iter().map(|&(e, _)| e).collect(),
        kinetic: keys
            .iter()
            .map(|&(_, i)| {
                let (chunk, j) = emitted.locate(i);
                chunk.kinetic[j]
            })
            .collect(),
        multiplicity: keys
            .iter()
            .map(|&(_, i)| {
                let (chunk, j) = emitted.locate(i);
                chunk.multiplicity[j]
            })
            .collect(),
        occupations,
        total_states: emitted.total,
        dimension: 1,
    }
}

/// What [`binned_counts_with`] counts: N, spin, E_max and the bins (Hartree), quanta per bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinningSettings {
    /// Number of particles N ≥ 1.
    pub particles: usize,
    /// Spin convention.
    pub spin: Spin,
    /// The bins cover [E_gs, E_max] (total energy, Hartree).
    pub energy_max: f64,
    /// Width of each energy bin (Hartree, total energy).
    pub bin_width: f64,
    /// Orbital energies are quantized to δ = bin_width / quanta_per_bin.
    pub quanta_per_bin: usize,
}

impl BinningSettings {
    /// Settings for N particles, bins of `bin_width` up to E_max (Hartree), δ = bin width / 64.
    pub fn new(particles: usize, spin: Spin, energy_max: f64, bin_width: f64) -> Self {
        Self {
            particles,
            spin,
            energy_max,
            bin_width,
            quanta_per_bin: DEFAULT_QUANTA_PER_BIN,
        }
    }
}

/// One energy bin [e_lo, e_lo + bin_width) of the N-particle states (Hartree).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bin {
    /// Lower edge of the bin (Hartree, total energy).
    pub e_lo: f64,
    /// Number of states in the bin, spin copies included (dimensionless).
    pub count: f64,
    /// Σ K over those states, each spin copy counted (Hartree).
    pub kinetic_sum: f64,
}

/// The window average over [E, E + ε) of binned states, eqs. (4)–(7) (Hartree).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BinnedWindow {
    /// Lower edge E of the window (Hartree, total energy).
    pub energy: f64,
    /// States in the window (dimensionless).
    pub count: f64,
    /// K_E, the mean total kinetic energy of those states (Hartree); None if the window is empty.
    pub kinetic: Option<f64>,
    /// T_E^(K) = (2/d) K_E / N (Hartree); None if the window is empty.
    pub temperature: Option<f64>,
}

/// Exact state counts Ω_N and kinetic-energy sums on energy bins from E_gs upwards (Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinnedCounts {
    /// Number of particles N.
    pub particles: usize,
    /// Spin convention.
    pub spin: Spin,
    /// Width of each bin (Hartree, total energy).
    pub bin_width: f64,
    /// The energy quantum δ = bin_width / quanta_per_bin (Hartree).
    pub quantum: f64,
    /// N-particle ground-state energy E_gs, the lower edge of bin 0 (Hartree).
    pub e_ground: f64,
    /// The requested E_max (Hartree); the last bin contains it.
    pub energy_max: f64,
    /// Largest possible |DP excitation − true excitation| of a counted state (Hartree): a state
    /// can sit in a neighbouring bin only if it lies within this distance of a bin edge.
    pub energy_error_bound: f64,
    /// Orbitals that can be occupied by a counted state (the DP used these).
    pub orbitals_used: usize,
    /// Orbitals with e_j ≤ needed_energy can be occupied by a counted state (Hartree).
    pub needed_energy: f64,
    /// The bins, ascending: bin b covers [e_ground + b·bin_width, e_ground + (b+1)·bin_width).
    pub bins: Vec<Bin>,
    /// Spatial dimension d of T_E^(K) = (2/d) K_E / N, that of the orbitals.
    #[serde(skip)]
    pub dimension: u8,
}

impl BinnedCounts {
    /// Upper edge of every bin (Hartree).
    pub fn upper_edges(&self) -> Vec<f64> {
        (1..=self.bins.len())
            .map(|b| self.e_ground + b as f64 * self.bin_width)
            .collect()
    }

    /// Ω_N(E) at each bin's upper edge: the number of states below it, spin copies included.
    pub fn cumulative_counts(&self) -> Vec<f64> {
        let mut acc = 0.0;
        self.bins
            .iter()
            .map(|b| {
                acc += b.count;
                acc
            })
            .collect()
    }

    /// Hertz entropy S = ln Ω_N(E) at each bin's upper edge (units of k_B).
    pub fn entropy(&self) -> Vec<f64> {
        self.cumulative_counts().into_iter().map(f64::ln).collect()
    }

    /// Σ of every bin's count: all states below the last upper edge.
    pub fn total_count(&self) -> f64 {
        self.bins.iter().map(|b| b.count).sum()
    }

    /// K_E and T_E^(K) over [E, E + ε) for E at each bin's lower edge whose window fits in the
    /// bins; ε (Hartree) must be a whole multiple of the bin width.
    pub fn window_kinetic(&self, epsilon: f64) -> Result<Vec<BinnedWindow>, ManyBodyError> {
        let range = self.bins.len() as f64 * self.bin_width;
        let ratio = epsilon / self.bin_width;
        let w = ratio.round();
        if !(ratio.is_finite()
            && w >= 1.0
            && (ratio - w).abs() <= 1e-9 * w
            && w <= self.bins.len() as f64)
        {
            return Err(ManyBodyError::Window {
                epsilon,
                bin_width: self.bin_width,
                range,
            });
        }
        let w = w as usize;
        let factor = 2.0 / (f64::from(self.dimension) * self.particles as f64);
        Ok((0..=self.bins.len() - w)
            .map(|b| {
                let window = &self.bins[b..b + w];
                let count: f64 = window.iter().map(|x| x.count).sum();
                let ksum: f64 = window.iter().map(|x| x.kinetic_sum).sum();
                let kinetic = (count > 0.0).then(|| ksum / count);
                BinnedWindow {
                    energy: self.bins[b].e_lo,
                    count,
                    kinetic,
                    temperature: kinetic.map(|k| factor * k),
                }
            })
            .collect())
    }
}

/// Ω_N and Σ K on bins of `bin_width` from E_gs to E_max (Hartree), δ = bin width / 64; see
/// [`binned_counts_with`].
pub fn binned_counts(
    orbitals: &Orbitals,
    particles: usize,
    spin: Spin,
    energy_max: f64,
    bin_width: f64,
) -> Result<BinnedCounts, ManyBodyError> {
    binned_counts_with(
        orbitals,
        &BinningSettings::new(particles, spin, energy_max, bin_width),
    )
}

/// Exact state counts and kinetic sums on energy bins by dynamic programming over the orbitals
/// (Hartree).
///
/// **Bins.** Bin b covers excitation energies [b·w, (b+1)·w) above the ground state E_gs, for
/// b = 0..B with B = ⌊(E_max − E_gs)/w⌋ + 1, so the last bin contains E_max (its upper edge is
/// at most one bin width above E_max, and that bin is complete).
///
/// **Quantization.** Each orbital energy is rounded to a whole number of quanta
/// δ = w / quanta_per_bin: q_j = round((e_j − e_0)/δ), r_j = (e_j − e_0) − δ q_j, |r_j| ≤ δ/2.
/// Rounding is monotone, so the quantized ground state is the true one, and a state's bin is
/// ⌊ΔQ / quanta_per_bin⌋ with ΔQ = Σ n_j q_j − Q_gs an exact integer. Its true excitation differs
/// from δ·ΔQ by Σ_j (n_j − g_j) r_j (g = ground occupation): with h particle–hole moves at most
/// h·(max r − min r) ≤ h·δ ≤ N·δ, and h is limited by the cheapest h moves fitting below the top
/// edge; that bound is [`BinnedCounts::energy_error_bound`] (0 when every e_j − e_0 is a whole
/// number of quanta: the binning is then exact). A state can therefore land in a neighbouring
/// bin only when it lies within that bound of a bin edge; the default δ = w/64 keeps this
/// below one bin for N·δ ≤ w, i.e. N ≤ 64 in the worst case, and typical errors are
/// ~√h·δ/√6. Counts and kinetic sums themselves are exact up to f64 rounding.
///
/// **Table.** Rows n = 0..N, columns D = Q − Q_gs(n) ≥ 0 (the partial excitation above the
/// n-particle ground state), two f64 per cell (count, count-weighted K sum). Orbital j updates
/// row n from rows n, n−1 (weight `capacity`, K += k_j) and n−2 (spin ½, K += 2k_j). After
/// orbital j a cell is dropped when even the cheapest completion — the remaining N − n
/// particles in the lowest spin-orbitals above j — would leave the top edge, so rows shrink as
/// the orbitals rise and high orbitals keep only rows n ≈ N. Only orbitals with
/// q_j − q_F ≤ ΔQ_max (q_F of the highest ground-state spin-orbital) can be occupied and are
/// processed. Cost O(M'·N·B·quanta_per_bin) at most (M' orbitals used), usually far less
/// (N = 64 up to E/N = 0.03 Ha in the reference well: 0.06 s); memory one table of
/// (N+1)·B·quanta_per_bin cells of 16 bytes, updated in place (row n, highest first, before the
/// rows it reads). Large orbital steps split the rows into blocks updated in parallel (rayon),
/// the two rows below each block read from copies taken before the step; every cell receives
/// the same additions in the same order, so the result does not depend on the thread count.
///
/// Errors: N = 0 or N > capacity, non-finite E_max or E_max < E_gs, a bin width that is not
/// positive and finite, quanta_per_bin = 0, a table over [`MAX_TABLE_BYTES`], too fine a
/// quantum, truncated orbitals that might not reach the top edge, counts beyond the f64 range.
pub fn binned_counts_with(
    orbitals: &Orbitals,
    settings: &BinningSettings,
) -> Result<BinnedCounts, ManyBodyError> {
    let shape = TableShape::new(orbitals, settings)?;
    let quantized = QuantizedOrbitals::new(orbitals, &shape)?;
    let last = fill_table(&shape, &quantized, orbitals.kinetic());
    let r = shape.quanta_per_bin;
    let mut bins = Vec::with_capacity(shape.bins);
    for b in 0..shape.bins {
        let cells = last
            .get(b * r..((b + 1) * r).min(last.len()))
            .unwrap_or(&[]);
        let count: f64 = cells.iter().map(|cell| cell[0]).sum();
        let kinetic_sum: f64 = cells.iter().map(|cell| cell[1]).sum();
        if !(count.is_finite() && kinetic_sum.is_finite()) {
            return Err(ManyBodyError::CountOverflow { bin: b });
        }
        bins.push(Bin {
            e_lo: shape.e_ground + b as f64 * shape.bin_width,
            count,
            kinetic_sum,
        });
    }
    Ok(BinnedCounts {
        particles: shape.particles,
        spin: shape.spin,
        bin_width: shape.bin_width,
        quantum: shape.quantum,
        e_ground: shape.e_ground,
        energy_max: shape.energy_max,
        energy_error_bound: quantized.energy_error_bound,
        orbitals_used: quantized.used,
        needed_energy: quantized.needed_energy,
        bins,
        dimension: orbitals.dimension,
    })
}

/// The validated settings of [`binned_counts_with`] and the size of its table (energies in
/// Hartree).
struct TableShape {
    /// N.
    particles: usize,
    /// Spin convention.
    spin: Spin,
    /// Particles per orbital.
    capacity: usize,
    /// Quanta per bin.
    quanta_per_bin: usize,
    /// Bin width w.
    bin_width: f64,
    /// The requested E_max.
    energy_max: f64,
    /// N-particle ground-state energy E_gs.
    e_ground: f64,
    /// Number of bins B.
    bins: usize,
    /// Largest counted excitation ΔQ (quanta): B·quanta_per_bin − 1.
    x_max: u64,
    /// δ = w / quanta_per_bin.
    quantum: f64,
}

impl TableShape {
    /// Checks `settings` against `orbitals` and sizes the table (refused over
    /// [`MAX_TABLE_BYTES`]).
    fn new(orbitals: &Orbitals, settings: &BinningSettings) -> Result<Self, ManyBodyError> {
        let BinningSettings {
            particles: n,
            spin,
            energy_max,
            bin_width,
            quanta_per_bin: r,
        } = *settings;
        check_particles(orbitals, n, spin)?;
        if !(bin_width.is_finite() && bin_width > 0.0) {
            return Err(ManyBodyError::BinWidth(bin_width));
        }
        if r == 0 {
            return Err(ManyBodyError::QuantaPerBin(r));
        }
        if !energy_max.is_finite() {
            return Err(ManyBodyError::InvalidEnergyMax(energy_max));
        }
        let c = spin.capacity();
        let e_ground = (0..n).fold(0.0, |acc, s| acc + orbitals.slot_energy(s, c));
        if energy_max < e_ground {
            return Err(ManyBodyError::EnergyBelowGround {
                energy_max,
                ground: e_ground,
            });
        }
        let bins_f = ((energy_max - e_ground) / bin_width).floor() + 1.0;
        let bytes = (n as f64 + 1.0) * bins_f * r as f64 * 16.0;
        if bytes.is_nan() || bytes > MAX_TABLE_BYTES as f64 {
            return Err(ManyBodyError::TableTooLarge {
                bytes,
                limit: MAX_TABLE_BYTES,
                bins: bins_f,
                quanta_per_bin: r,
                particles: n,
            });
        }
        let bins = bins_f as usize;
        Ok(Self {
            particles: n,
            spin,
            capacity: c,
            quanta_per_bin: r,
            bin_width,
            energy_max,
            e_ground,
            bins,
            // ΔQ = 0..width−1 are counted
            x_max: (bins * r - 1) as u64,
            quantum: bin_width / r as f64,
        })
    }

    /// Cells per table row: ΔQ = 0..=x_max.
    fn width(&self) -> usize {
        self.x_max as usize + 1
    }
}

/// The orbitals a counted state can occupy, in quanta (see [`binned_counts_with`]).
struct QuantizedOrbitals {
    /// Orbitals used (those with q_j ≤ q_F + ΔQ_max).
    used: usize,
    /// q_j = round((e_j − e_0)/δ) of each used orbital.
    q: Vec<u64>,
    /// Q_gs(n): prefix sums of the quantized spin-orbital energies (n = 0..=slots).
    pq: Vec<u64>,
    /// Orbitals with e_j ≤ this energy can be occupied by a counted state (Hartree).
    needed_energy: f64,
    /// The misbinning bound [`BinnedCounts::energy_error_bound`] (Hartree).
    energy_error_bound: f64,
}

impl QuantizedOrbitals {
    /// Quantizes the orbitals of `orbitals` that the table of `shape` can reach; refuses too
    /// fine a quantum and truncated orbitals that might not reach the top edge.
    fn new(orbitals: &Orbitals, shape: &TableShape) -> Result<Self, ManyBodyError> {
        let (n, c, x_max, quantum) = (shape.particles, shape.capacity, shape.x_max, shape.quantum);
        let e = orbitals.energy();
        let m = e.len();
        // Quantize (float-to-int `as` saturates; only orbitals with q ≤ limit are used).
        let fermi = (n - 1) / c;
        let spread = e[fermi] - e[0];
        if spread / quantum > MAX_QUANTA_SPREAD {
            return Err(ManyBodyError::ResolutionTooFine { quantum, spread });
        }
        let quantize = |ej: f64| ((ej - e[0]) / quantum).round() as u64;
        let q_fermi = quantize(e[fermi]);
        let limit = q_fermi + x_max;
        let needed_energy = e[0] + quantum * (limit as f64 + 0.5);
        if !orbitals.is_complete() && quantize(e[m - 1]) <= limit {
            return Err(ManyBodyError::NeedMoreOrbitals {
                needed_energy,
                supplied: m,
                highest: e[m - 1],
            });
        }
        let used = e.partition_point(|&ej| quantize(ej) <= limit);
        let q: Vec<u64> = e[..used].iter().map(|&ej| quantize(ej)).collect();
        let slots = c * used;
        let qs = |s: usize| q[s / c];
        let mut pq = Vec::with_capacity(slots + 1);
        pq.push(0u64);
        for s in 0..slots {
            pq.push(pq[s] + qs(s));
        }

        // Rigorous misbinning bound: h_max particle–hole moves, each off by at most max r − min r.
        let mut h = 0usize;
        let mut cost = 0u64;
        while h < n && n + h < slots {
            let add = qs(n + h) - qs(n - 1 - h);
            if cost + add > x_max {
                break;
            }
            cost += add;
            h += 1;
        }
        let (r_min, r_max) = e[..used]
            .iter()
            .zip(&q)
            .map(|(&ej, &qj)| (ej - e[0]) - quantum * qj as f64)
            .fold((0.0f64, 0.0f64), |(lo, hi), rj| (lo.min(rj), hi.max(rj)));
        Ok(Self {
            used,
            q,
            pq,
            needed_energy,
            energy_error_bound: h as f64 * (r_max - r_min),
        })
    }
}

/// Runs the dynamic programme of [`binned_counts_with`] over the used orbitals (kinetic
/// energies `kin`, Hartree) and returns the live part of row N: (count, K sum) per ΔQ.
fn fill_table(shape: &TableShape, quantized: &QuantizedOrbitals, kin: &[f64]) -> Vec<Cell> {
    let (n, c, x_max) = (shape.particles, shape.capacity, shape.x_max);
    let (q, pq, used) = (&quantized.q, &quantized.pq, quantized.used);
    let slots = c * used;
    // Live length of row nn once orbitals 0..next−1 are placed: the cheapest completion puts the
    // remaining N − nn particles in the lowest slots from orbital `next` on.
    let row_len = |nn: usize, next: usize| -> usize {
        let start = c * next;
        let rest = n - nn;
        if nn > start || start + rest > slots {
            return 0;
        }
        let extra = (pq[start + rest] - pq[start]).saturating_sub(pq[n] - pq[nn]);
        if extra > x_max {
            0
        } else {
            (x_max - extra) as usize + 1
        }
    };

    // One table, updated in place: row nn (descending) reads rows nn − 1 and nn − 2 before they
    // are updated. Parallel steps cut the live rows into blocks; a block's two rows below its
    // lowest row belong to the block beneath and are read from copies taken before the step.
    let mut rows: Vec<Vec<Cell>> = (0..=n).map(|_| vec![[0.0; 2]; shape.width()]).collect();
    let mut len = vec![0usize; n + 1];
    let mut new_len = vec![0usize; n + 1];
    len[0] = row_len(0, 0);
    rows[0][0] = [1.0, 0.0];
    let threads = rayon::current_num_threads().max(1);
    let mut saved: Vec<Vec<Cell>> = Vec::new();

    for j in 0..used {
        let top = n.min(c * (j + 1));
        let mut work = 0usize;
        for (nn, l) in new_len.iter_mut().enumerate() {
            *l = if nn <= top { row_len(nn, j + 1) } else { 0 };
            work += *l;
        }
        let Some(first) = (0..=top).find(|&nn| new_len[nn] > 0) else {
            break; // unreachable: the ground-state path always survives
        };
        let step = Step {
            capacity: c,
            q: q[j],
            kinetic: kin[j],
            pq,
            len: &len,
            new_len: &new_len,
        };
        if work < PARALLEL_CELLS || threads == 1 {
            let (fixed, live) = rows.split_at_mut(first);
            step.update_block(first, &mut live[..=top - first], [None, None], fixed);
        } else {
            step.update_in_blocks(&mut rows, first, top, 2 * threads, work, &mut saved);
        }
        std::mem::swap(&mut len, &mut new_len);
    }
    let mut last = std::mem::take(&mut rows[n]);
    last.truncate(len[n]);
    last
}

/// One DP cell: (count, count-weighted K sum).
type Cell = [f64; 2];

/// One orbital's update of the DP table (see [`binned_counts_with`]).
struct Step<'a> {
    /// Particles per orbital.
    capacity: usize,
    /// Quantized energy q_j of the orbital.
    q: u64,
    /// Kinetic energy k_j of the orbital (Hartree).
    kinetic: f64,
    /// Q_gs(n): prefix sums of the quantized spin-orbital energies.
    pq: &'a [u64],
    /// Live row lengths before the step.
    len: &'a [usize],
    /// Live row lengths after the step.
    new_len: &'a [usize],
}

impl Step<'_> {
    /// Updates the live rows first..=top of `rows` (`work` cells after the step) in about
    /// `blocks` blocks of equal work, in parallel; `saved` is scratch for the copies of the two
    /// rows below each block (except the lowest block's, which no block updates).
    fn update_in_blocks(
        &self,
        rows: &mut [Vec<Cell>],
        first: usize,
        top: usize,
        blocks: usize,
        work: usize,
        saved: &mut Vec<Vec<Cell>>,
    ) {
        let blocks = blocks.min(top - first + 1);
        let mut starts = vec![first];
        let mut acc = 0usize;
        for (nn, &l) in self.new_len.iter().enumerate().take(top + 1).skip(first) {
            if acc * blocks >= work * starts.len() && nn > *starts.last().unwrap_or(&first) {
                starts.push(nn);
            }
            acc += l;
        }
        saved.resize_with(2 * starts.len(), Vec::new);
        for (b, &start) in starts.iter().enumerate().skip(1) {
            for o in 1..=2usize {
                let copy = &mut saved[2 * b + o - 1];
                copy.clear();
                if start >= o + first {
                    copy.extend_from_slice(&rows[start - o][..self.len[start - o]]);
                }
            }
        }
        let saved: &[Vec<Cell>] = saved;
        let (fixed, live) = rows.split_at_mut(first);
        let mut live = &mut live[..=top - first];
        let mut tasks = Vec::with_capacity(starts.len());
        for b in (0..starts.len()).rev() {
            let (rest, block) = std::mem::take(&mut live).split_at_mut(starts[b] - first);
            live = rest;
            // Rows below `first` are not updated in this step: read them in place.
            let start = starts[b];
            let below = [
                (b > 0 && start > first).then(|| saved[2 * b].as_slice()),
                (b > 0 && start > first + 1).then(|| saved[2 * b + 1].as_slice()),
            ];
            tasks.push((start, block, below));
        }
        let fixed: &[Vec<Cell>] = fixed;
        tasks
            .into_par_iter()
            .for_each(|(start, block, below)| self.update_block(start, block, below, fixed));
    }

    /// Updates rows start..start + block.len() in place, highest first. Source rows below
    /// `start` come from `below` (copies of rows start − 1, start − 2 taken before the step) or,
    /// if None, from `fixed` (rows that no block updates in this step).
    fn update_block(
        &self,
        start: usize,
        block: &mut [Vec<Cell>],
        below: [Option<&[Cell]>; 2],
        fixed: &[Vec<Cell>],
    ) {
        for i in (0..block.len()).rev() {
            let nn = start + i;
            let new_len = self.new_len[nn];
            if new_len == 0 {
                continue;
            }
            let (lower, upper) = block.split_at_mut(i);
            let row = &mut upper[0];
            let old_len = self.len[nn];
            if new_len > old_len {
                row[old_len..new_len].fill([0.0; 2]);
            }
            for o in 1..=self.capacity.min(nn) {
                let src_row = nn - o;
                let src_len = self.len[src_row];
                if src_len == 0 {
                    continue;
                }
                let src: &[Cell] = if src_row >= start {
                    &lower[src_row - start][..src_len]
                } else {
                    match below[start - src_row - 1] {
                        Some(copy) => copy,
                        None => &fixed[src_row][..src_len],
                    }
                };
                let w = if self.capacity == 2 && o == 1 {
                    2.0
                } else {
                    1.0
                };
                let ko = o as f64 * self.kinetic;
                // D' = D + o·q_j − (Q_gs(nn) − Q_gs(nn − o)).
                let shift = (o as u64 * self.q) as i64 - (self.pq[nn] - self.pq[src_row]) as i64;
                let lo = shift.max(0);
                let hi = (src.len() as i64 + shift).min(new_len as i64);
                if hi <= lo {
                    continue;
                }
                add_shifted(
                    &mut row[lo as usize..hi as usize],
                    &src[(lo - shift) as usize..],
                    w,
                    ko,
                );
            }
        }
    }
}

/// dst[i] += w · (count, K + ko · count) of src[i]: one occupancy term of the DP update.
#[inline]
fn add_shifted(dst: &mut [[f64; 2]], src: &[[f64; 2]], w: f64, ko: f64) {
    for (t, s) in dst.iter_mut().zip(src) {
        t[0] += w * s[0];
        t[1] += w * (s[1] + ko * s[0]);
    }
}
