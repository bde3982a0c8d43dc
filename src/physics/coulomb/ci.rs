//! Configuration interaction (CI) for two electrons with the soft Coulomb interaction.
//!
//! Atomic units: energies in Hartree, lengths in bohr, amplitudes in bohr^−½.
//!
//! **Orbitals.** The lowest M eigenfunctions ψ_i of the one-particle grid Hamiltonian
//! H₁ = K + V ([`crate::spectrum`]), orthonormal on the grid, Σ_a w_a ψ_i(a) ψ_k(a) = δ_ik with
//! the dual widths w_a, and H₁ψ_i = e_i ψ_i.
//!
//! **Two-electron integrals** on the same grid (the discrete 2-D integral):
//!
//!   ⟨ij|W|kl⟩ = Σ_a Σ_b w_a w_b ψ_i(a) ψ_k(a) W(x_a − x_b) ψ_j(b) ψ_l(b),
//!
//! computed as matrix products: the weighted pair densities ρ_ik(a) = w_a ψ_i(a) ψ_k(a) (i ≤ k)
//! are the columns of P (n × M(M+1)/2), their potentials are U = W P (W_ab = W(x_a − x_b),
//! built and applied in row blocks, never stored n × n), and G = Pᵀ U holds
//! ⟨ij|W|kl⟩ = G[(ik), (jl)]. For real orbitals ⟨ij|W|kl⟩ = ⟨ji|W|lk⟩ = ⟨kl|W|ij⟩ = ⟨kj|W|il⟩.
//! When the grid is mirror symmetric and every orbital is a parity eigenstate (ψ_i(−x) = ±ψ_i(x),
//! checked to [`PARITY_TOLERANCE`]), G[(ik), (jl)] vanishes unless ρ_ik and ρ_jl have the same
//! parity, and only the two parity blocks of G are computed (half the work and memory), each
//! folded onto the half grid x ≤ 0 (a quarter of the work of U, half of G's: see
//! `folded_parity_blocks`).
//!
//! **CI basis and Hamiltonian.** Spatial two-electron functions of a definite exchange symmetry:
//! |ii⟩_S = ψ_i(x₁)ψ_i(x₂), |ij⟩_± = [ψ_i(x₁)ψ_j(x₂) ± ψ_j(x₁)ψ_i(x₂)]/√2 (i < j); the symmetric
//! sector (spin singlet, i ≤ j) and the antisymmetric sector (spin triplet or spinless, i < j),
//! optionally truncated to pairs with e_i + e_j ≤ E_pair. With f_ij = 1/2 (i = j) or 1/√2 (i < j),
//!
//!   ⟨ij|H|kl⟩_± = (e_i + e_j) δ_(ij),(kl) + 2 f_ij f_kl (⟨ij|W|kl⟩ ± ⟨ij|W|lk⟩),
//!
//! diagonalized per sector (and per total parity p_i p_j when the orbitals have parities):
//! completely with faer's dense self-adjoint eigen-solver ([`CiStates::All`]), or, when only the
//! low states are used ([`CiStates::Lowest`]: the states below E_max of the thermodynamics, the
//! few a convergence check compares), by one tridiagonal reduction per block and eigenpairs of
//! the wanted states only ([`crate::eigen::dense::lowest_symmetric_eigen`]; a Sturm count proves
//! that none below is missed). Without interaction (λ = 0) the matrix is the diagonal e_i + e_j
//! and its eigenpairs are read off, exactly.
//!
//! **Thread count.** Every result is bitwise the same whatever the number of threads (a sweep
//! sharded over machines with different core counts merges to the unsharded result): the
//! integrals are products over a fixed partition into column blocks, each block sequential
//! inside, and the CI blocks are diagonalized concurrently, each sequentially
//! ([`crate::eigen::dense`]). faer's threaded kernels would split their sums by thread count.
//! As the basis grows with M the eigenvalues decrease monotonically (Cauchy interlacing; the M
//! basis is a subspace of the M′ > M one), so the M′ check needs only the lowest states of M′.
//!
//! **Observables.** A CI state Ψ(x₁, x₂) = Σ_ab A_ab ψ_a(x₁) ψ_b(x₂) with A = ±Aᵀ, Σ A_ab² = 1,
//! has ⟨K₁ + K₂⟩ = 2 tr(Aᵀ K A) with the one-body kinetic matrix K_ik = ⟨i|K|k⟩ of the grid
//! operator in difference form (not diagonal: the orbitals are eigenfunctions of K + V, not of K),
//! ⟨H₁ + H₂⟩ = Σ c²(e_i + e_j) over the CI coefficients c, ⟨V₁ + V₂⟩ = ⟨H₁ + H₂⟩ − ⟨K₁ + K₂⟩
//! and ⟨W⟩ = E − ⟨H₁ + H₂⟩. With M equal to the number of grid nodes the CI reproduces the 2-D
//! grid problem exactly.
//!
//! **Cost** (n grid nodes, D = M(M+1)/2 pairs): integrals 2n²D + nD² flops (halved with parity),
//! memory 8(2nD + D²) bytes (D²/2 with parity); each sector block of dimension d costs O(d³)
//! and dominates, and needs 8·3d² bytes while it is diagonalized (all blocks at once); up to
//! four finished block matrices are kept for the next blocks to reuse (no fresh pages), and the
//! memory check counts them.
//! The diagonalization dominates: `bash benches/record.sh coulomb` times M = 70 and M = 100
//! (four parity blocks of ≈ 2500) on the reference well, every state and the states below
//! E_max, with the split by stage (`benches/results/coulomb.txt`). Without parity blocks (an
//! asymmetric potential) the two blocks of ≈ 5000 cost about four times as much (2·(2d)³
//! against 4·d³); a pair-energy cutoff ([`CiSettings::pair_energy_max`]) shrinks the blocks
//! instead.

use super::{CoulombError, Exchange, SoftCoulomb};
use crate::checks::analytic::Parity;
use crate::eigen::dense::{
    eigenvalues_below, lowest_symmetric_eigen_in, symmetric_eigen, symmetric_eigenvalues,
};
use crate::model::hamiltonian::Hamiltonian;
use crate::model::potential::Potential;
use crate::physics::many_body::Spin;
use crate::physics::thermo::{level_anchors, StateList};
use crate::spectrum::Spectrum;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;
use serde::Serialize;
use std::f64::consts::FRAC_1_SQRT_2;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Largest odd (even) part ‖ψ − p ψ(−x)‖/2 of an orbital that still counts as parity p
/// (dimensionless, relative to ‖ψ‖ = 1); the couplings dropped between parity blocks are of
/// this order relative to W.
pub const PARITY_TOLERANCE: f64 = 1e-7;

/// Largest memory (bytes) the integrals or one CI block may need: 8 GiB.
pub const MAX_BYTES: u64 = 8 << 30;

/// Refuses a stage whose estimated memory (8 bytes per f64 in `elements`) exceeds [`MAX_BYTES`].
fn check_memory(what: &'static str, elements: f64) -> Result<(), CoulombError> {
    let bytes = 8.0 * elements;
    if bytes > MAX_BYTES as f64 {
        return Err(CoulombError::TooLarge {
            what,
            bytes: bytes.min(u64::MAX as f64) as u64,
            limit: MAX_BYTES,
        });
    }
    Ok(())
}

/// Relative tolerance of the check that the potential belongs to the spectrum (⟨K⟩_i, ⟨V⟩_i).
const MISMATCH_TOLERANCE: f64 = 1e-8;
/// Rows of W(x_a − x_b) built at a time for U = W P.
const ROW_BLOCK: usize = 512;
/// Columns per parallel task in U = W P and G = Pᵀ U: a fixed partition, so the sums are the
/// same whatever the number of threads.
const COLUMN_BLOCK: usize = 128;
/// CI states per batch when computing ⟨K₁ + K₂⟩.
const STATE_CHUNK: usize = 32;
/// Most block matrices a [`MatrixPool`] keeps between blocks: the solves of a study run two
/// or three blocks at once on two cores (an M solve and its M′ check side by side).
const POOLED_MATRICES: usize = 4;

/// Block-matrix buffers (f64, any unit) handed from one CI block to the next, shared by a
/// [`CiProblem`] and its [`CiProblem::with_interaction`] copies: a fresh d × d buffer costs a
/// page fault (and the kernel's zeroing) per 4 KiB on first touch, a reused one nothing.
#[derive(Clone, Default)]
struct MatrixPool(Arc<Mutex<Vec<Vec<f64>>>>);

impl std::fmt::Debug for MatrixPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MatrixPool({} numbers kept)", self.retained_elements())
    }
}

impl MatrixPool {
    fn buffers(&self) -> std::sync::MutexGuard<'_, Vec<Vec<f64>>> {
        // A panic elsewhere cannot leave the list inconsistent: every change is one push or
        // one remove.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A buffer of `len` numbers whose contents are unspecified (left from a previous block):
    /// for consumers that write before they read (the lower triangle of a block). The
    /// smallest kept buffer that is large enough, else a fresh one.
    fn take(&self, len: usize) -> Vec<f64> {
        let reused = {
            let mut buffers = self.buffers();
            let fit = (0..buffers.len())
                .filter(|&b| buffers[b].capacity() >= len)
                .min_by_key(|&b| buffers[b].capacity());
            fit.map(|b| buffers.swap_remove(b))
        };
        match reused {
            Some(mut buffer) => {
                // Within the capacity: no reallocation, at most the tail is written.
                buffer.resize(len, 0.0);
                buffer
            }
            None => vec![0.0; len],
        }
    }

    /// [`Self::take`] with every number zero: for consumers that may read the upper triangle.
    fn take_zeroed(&self, len: usize) -> Vec<f64> {
        let mut buffer = self.take(len);
        buffer.fill(0.0);
        buffer
    }

    /// Keeps `buffer` for a later block: at most [`POOLED_MATRICES`] buffers, the largest.
    fn give(&self, buffer: Vec<f64>) {
        let mut buffers = self.buffers();
        buffers.push(buffer);
        if buffers.len() > POOLED_MATRICES {
            let smallest = (0..buffers.len())
                .min_by_key(|&b| buffers[b].capacity())
                .expect("the pool is not empty");
            buffers.swap_remove(smallest);
        }
    }

    /// Numbers (f64) held by the kept buffers.
    fn retained_elements(&self) -> usize {
        self.buffers().iter().map(Vec::capacity).sum()
    }
}

/// Whether to use the parity of the orbitals to split the integrals and the CI sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Symmetry {
    /// Use parity blocks when the grid is mirror symmetric and every orbital has a parity.
    #[default]
    Auto,
    /// Never split by parity (the full sectors; slower, for checks).
    Ignore,
}

/// Index of the pair (i, k), i ≤ k, in the order (0,0), (0,1), (1,1), (0,2), …: the pairs of
/// the lowest M orbitals are the first M(M+1)/2.
fn pair_index(i: usize, k: usize) -> usize {
    let (a, b) = if i <= k { (i, k) } else { (k, i) };
    b * (b + 1) / 2 + a
}

/// Checks 1 ≤ `orbitals` ≤ `available`.
fn check_orbitals(orbitals: usize, available: usize) -> Result<(), CoulombError> {
    if orbitals == 0 {
        return Err(CoulombError::NoOrbitals);
    }
    if orbitals > available {
        return Err(CoulombError::TooManyOrbitals {
            requested: orbitals,
            available,
        });
    }
    Ok(())
}

/// Checks that the energies and the amplitudes of the lowest `orbitals` levels are finite.
fn check_finite(spectrum: &Spectrum, orbitals: usize) -> Result<(), CoulombError> {
    for (i, level) in spectrum.levels.iter().take(orbitals).enumerate() {
        for (what, value) in [
            ("orbital energy", level.energy),
            ("orbital kinetic energy", level.kinetic),
            ("orbital potential energy", level.potential),
        ] {
            if !value.is_finite() {
                return Err(CoulombError::NonFinite {
                    what,
                    index: i,
                    value,
                });
            }
        }
        if let Some(&value) = spectrum.amplitude(i).iter().find(|v| !v.is_finite()) {
            return Err(CoulombError::NonFinite {
                what: "orbital amplitude",
                index: i,
                value,
            });
        }
    }
    Ok(())
}

/// The parities of the lowest `orbitals` orbitals (bohr^−½ amplitudes on a mirror-symmetric
/// grid), or `None` if the grid is not symmetric or some orbital has no parity within
/// [`PARITY_TOLERANCE`].
pub fn orbital_parities(spectrum: &Spectrum, orbitals: usize) -> Option<Vec<Parity>> {
    let x = spectrum.grid.interior();
    let n = x.len();
    let scale = spectrum
        .grid
        .nodes()
        .last()
        .map_or(1.0, |l| l.abs().max(1.0));
    if (0..n).any(|j| (x[j] + x[n - 1 - j]).abs() > 1e-12 * scale) {
        return None;
    }
    let w = spectrum.grid.dual_widths();
    (0..orbitals.min(spectrum.levels.len()))
        .map(|i| {
            let psi = spectrum.amplitude(i);
            let overlap: f64 = (0..n).map(|j| w[j] * psi[j] * psi[n - 1 - j]).sum();
            let (parity, sign) = if overlap >= 0.0 {
                (Parity::Even, 1.0)
            } else {
                (Parity::Odd, -1.0)
            };
            let odd_part: f64 = (0..n)
                .map(|j| {
                    let d = psi[j] - sign * psi[n - 1 - j];
                    w[j] * d * d
                })
                .sum::<f64>()
                .sqrt()
                / 2.0;
            (odd_part <= PARITY_TOLERANCE).then_some(parity)
        })
        .collect()
}

/// Where a pair density sits in G: its parity class and its index within the class.
#[derive(Debug, Clone, Copy)]
struct Slot {
    class: u8,
    local: u32,
}

/// The two-electron integrals ⟨ij|W|kl⟩ (Hartree) of the lowest M orbitals on their grid.
#[derive(Debug, Clone)]
pub struct TwoElectronIntegrals {
    orbitals: usize,
    slot: Vec<Slot>,
    /// G per parity class (one class without parity), symmetric; shared by the rescaled copies
    /// of [`CiProblem::with_interaction`].
    blocks: Arc<Vec<Mat<f64>>>,
    /// ⟨ij|W|kl⟩ = `scale` × G[(ik), (jl)] (1 as computed).
    scale: f64,
}

/// Where each pair density (i ≤ k) of M orbitals goes in G: its parity class (the pair
/// density's parity, one class without parities) and its column within the class.
struct PairLayout {
    /// Number of classes: 2 with parities, else 1.
    classes: usize,
    /// The slot of pair (i, k), indexed by [`pair_index`].
    slot: Vec<Slot>,
    /// Pairs per class.
    counts: [usize; 2],
    /// First column of each class in P and U.
    offsets: [usize; 2],
    /// The pair (i, k) of each column of P and U, class by class.
    columns: Vec<(usize, usize)>,
}

impl PairLayout {
    /// The layout of the pairs of `m` orbitals, split by parity when `parity` is given.
    fn new(m: usize, parity: Option<&[Parity]>) -> Self {
        let pairs = m * (m + 1) / 2;
        let class_of = |i: usize, k: usize| parity.map_or(0, |p| usize::from(p[i] != p[k]));
        let classes = if parity.is_some() { 2 } else { 1 };
        let mut counts = [0usize; 2];
        let mut slot = Vec::with_capacity(pairs);
        for k in 0..m {
            for i in 0..=k {
                let c = class_of(i, k);
                slot.push(Slot {
                    class: c as u8,
                    local: counts[c] as u32,
                });
                counts[c] += 1;
            }
        }
        let offsets = [0, counts[0]];
        let mut columns = vec![(0usize, 0usize); pairs];
        for k in 0..m {
            for i in 0..=k {
                let s = slot[pair_index(i, k)];
                columns[offsets[s.class as usize] + s.local as usize] = (i, k);
            }
        }
        Self {
            classes,
            slot,
            counts,
            offsets,
            columns,
        }
    }
}

/// The weighted pair density w_j ψ_i(x_j) ψ_k(x_j) at node j (dimensionless: w in bohr, ψ in
/// bohr^−½), `a` = ψ_i and `b` = ψ_k: one rounding order for P and the folded blocks.
fn pair_density(w: &[f64], a: &[f64], b: &[f64], j: usize) -> f64 {
    w[j] * a[j] * b[j]
}

/// P: the weighted pair densities ([`pair_density`]) of the pairs `columns`, column-major
/// n × pairs.
fn weighted_pair_densities(spectrum: &Spectrum, columns: &[(usize, usize)]) -> Vec<f64> {
    let w = spectrum.grid.dual_widths();
    let n = spectrum.grid.interior().len();
    let mut p = vec![0.0; n * columns.len()];
    p.par_chunks_mut(n.max(1))
        .zip(columns.par_iter())
        .for_each(|(col, &(i, k))| {
            let (a, b) = (spectrum.amplitude(i), spectrum.amplitude(k));
            for (j, pj) in col.iter_mut().enumerate() {
                *pj = pair_density(&w, a, b, j);
            }
        });
    p
}

/// U = W P (Hartree): the interaction potential of each pair density on the
/// nodes `x` (bohr), W built [`ROW_BLOCK`] rows at a time. The products run in parallel over
/// fixed column blocks, each sequential inside, so that every entry is summed in an order that
/// does not depend on the number of threads (a threaded faer product may split its sums by
/// thread count).
fn pair_potentials(interaction: &SoftCoulomb, x: &[f64], p: MatRef<'_, f64>) -> Mat<f64> {
    let [u] = kernel_products(
        |r0, [wb]: &mut [Mat<f64>; 1]| {
            for b in 0..wb.ncols() {
                for a in 0..wb.nrows() {
                    wb[(a, b)] = interaction.at_separation(x[r0 + a] - x[b]);
                }
            }
        },
        [p],
    );
    u
}

/// U_c = K_c P_c (Hartree) for each of the C square kernels K_c (as many rows as P_c), built
/// [`ROW_BLOCK`] rows at a time by `fill(r0, blocks)` (block c: rows r0.. of K_c, at most
/// ROW_BLOCK of them, all its columns; C kernels at once, so that a fill can share work
/// between them) and applied in fixed column blocks (see [`pair_potentials`]).
fn kernel_products<const C: usize>(
    fill: impl Fn(usize, &mut [Mat<f64>; C]),
    p: [MatRef<'_, f64>; C],
) -> [Mat<f64>; C] {
    let mut u = p.map(|p| Mat::<f64>::zeros(p.nrows(), p.ncols()));
    let rows_total = p.iter().map(|p| p.nrows()).max().unwrap_or(0);
    let mut r0 = 0;
    while r0 < rows_total {
        let mut blocks = p.map(|p| {
            let n = p.nrows();
            Mat::<f64>::zeros(ROW_BLOCK.min(n.saturating_sub(r0)), n)
        });
        fill(r0, &mut blocks);
        for ((u, wb), p) in u.iter_mut().zip(&blocks).zip(p) {
            let rows = wb.nrows();
            if rows == 0 {
                continue;
            }
            u.as_mut()
                .subrows_mut(r0, rows)
                .par_col_chunks_mut(COLUMN_BLOCK)
                .enumerate()
                .for_each(|(b, ub)| {
                    let c0 = b * COLUMN_BLOCK;
                    let cols = ub.ncols();
                    matmul(
                        ub,
                        Accum::Replace,
                        wb.as_ref(),
                        p.subcols(c0, cols),
                        1.0,
                        Par::Seq,
                    );
                });
        }
        r0 += ROW_BLOCK;
    }
    u
}

/// True when the nodes `x` (bohr) are mirror symmetric about 0 (x_j = −x_{n−1−j} to 1e-12 of
/// the box), the test of [`orbital_parities`].
fn mirror_symmetric(x: &[f64], scale: f64) -> bool {
    let n = x.len();
    (0..n).all(|j| (x[j] + x[n - 1 - j]).abs() <= 1e-12 * scale)
}

/// Rows r0.. of the folded kernels of both parities on a mirror-symmetric grid of nodes `x`
/// (bohr), into `even` and `odd` (Hartree; as many rows as each holds, and h = n/2 columns,
/// plus the centre in `even` when n is odd): K_±[a, b] = W(x_a − x_b) ± W(x_a − x_{n−1−b}) for
/// a, b < h, the centre row K_+[h, b] = W(x_h − x_b) + W(x_h − x_{n−1−b}) and the centre
/// column K_+[a, h] = W(x_a − x_h). Each W is evaluated once for both parities: the same
/// numbers as a pass per parity (w₁ ± w₂ is w₁ + (±1)·w₂ exactly).
fn folded_kernel_rows(
    interaction: &SoftCoulomb,
    x: &[f64],
    r0: usize,
    [even, odd]: &mut [Mat<f64>; 2],
) {
    let n = x.len();
    let h = n / 2;
    let w = |a: usize, b: usize| interaction.at_separation(x[a] - x[b]);
    // Column by column in parallel: each entry is a function of the nodes alone.
    let odd_rows = odd.nrows();
    even.as_mut()
        .subcols_mut(0, h)
        .par_col_chunks_mut(1)
        .zip(odd.as_mut().par_col_chunks_mut(1))
        .enumerate()
        .for_each(|(b, (mut even, mut odd))| {
            for r in 0..even.nrows() {
                let a = r0 + r;
                if a < h {
                    let (near, mirrored) = (w(a, b), w(a, n - 1 - b));
                    even[(r, 0)] = near + mirrored;
                    if r < odd_rows {
                        odd[(r, 0)] = near - mirrored;
                    }
                } else {
                    even[(r, 0)] = w(h, b) + w(h, n - 1 - b);
                }
            }
        });
    if even.ncols() > h {
        // The centre column (b = h) is its own mirror image: counted once.
        for r in 0..even.nrows() {
            even[(r, h)] = w(r0 + r, h);
        }
    }
}

/// The parity blocks [even, odd] of G = Pᵀ W P (Hartree) of the pair densities of the pairs
/// `columns` (P is never built: each folded density is formed from the orbitals of
/// `spectrum`), the even pairs first, on a mirror-symmetric grid, folded onto the half grid
/// x ≤ 0 ([`folded_kernel_rows`]): with ρ(x_{n−1−b}) = sign·ρ(x_b) (sign = +1 even, −1 odd)
/// and W(x_a − x_b) even, (Wρ)(x_a) = Σ_{b<h} [W(x_a − x_b) + sign·W(x_a + x_b)] ρ(x_b) (+ the
/// centre node when n is odd) and Σ_a ρ(x_a) (Wρ′)(x_a) = 2 Σ_{a<h} … (+ the centre): a
/// quarter of the work of U and half of G. The densities are first projected on their parity
/// (ρ ← (ρ + sign·Jρ)/2): the unprojected block differs from this by the square of the parity
/// defect only (the cross terms vanish because W commutes with the mirror J), below
/// [`PARITY_TOLERANCE`]².
fn folded_parity_blocks(
    interaction: &SoftCoulomb,
    spectrum: &Spectrum,
    columns: [&[(usize, usize)]; 2],
) -> [Mat<f64>; 2] {
    let x = spectrum.grid.interior();
    let w = spectrum.grid.dual_widths();
    let n = x.len();
    let h = n / 2;
    // The centre node x = 0 (n odd) carries the even densities only (odd ones vanish there).
    let rows = [h + n % 2, h];
    let halves = [(0, 1.0), (1, -1.0)].map(|(c, sign)| {
        let mut half = vec![0.0; rows[c] * columns[c].len()];
        half.par_chunks_mut(rows[c].max(1))
            .zip(columns[c].par_iter())
            .for_each(|(col, &(i, k))| {
                let (a, b) = (spectrum.amplitude(i), spectrum.amplitude(k));
                let p = |j| pair_density(&w, a, b, j);
                for (r, x) in col.iter_mut().enumerate() {
                    *x = if r < h {
                        0.5 * (p(r) + sign * p(n - 1 - r))
                    } else {
                        p(h)
                    };
                }
            });
        half
    });
    let p = [0, 1].map(|c| MatRef::from_column_major_slice(&halves[c], rows[c], columns[c].len()));
    let [even, odd] = kernel_products(
        |r0, blocks| folded_kernel_rows(interaction, x, r0, blocks),
        p,
    );
    [(0, even), (1, odd)].map(|(c, mut u)| {
        // Σ over the whole grid = 2 Σ over the half + the centre once. The 2 goes on the rows of
        // U off the centre instead of on a doubled copy of the densities: doubling is exact, so
        // each product ρ·(2u) is the same rounding of 2ρu as (2ρ)·u.
        for col in 0..u.ncols() {
            for a in 0..h {
                u[(a, col)] *= 2.0;
            }
        }
        coulomb_block(p[c], u.as_ref(), 0, columns[c].len())
    })
}

/// The symmetric block G = Pᵀ U (Hartree) of the `cnt` pair columns from `off` (one parity
/// class), in fixed column blocks so its sums do not depend on the thread count.
fn coulomb_block(p: MatRef<'_, f64>, u: MatRef<'_, f64>, off: usize, cnt: usize) -> Mat<f64> {
    let mut g = Mat::<f64>::zeros(cnt, cnt);
    // The lower trapezoid G[j0.., J] = P[:, j0..]ᵀ U[:, J] of each fixed column
    // block J = j0..j0 + COLUMN_BLOCK (the part above the diagonal inside J is
    // overwritten by the symmetric copy below).
    let (pc, uc) = (p.subcols(off, cnt), u.subcols(off, cnt));
    g.as_mut()
        .par_col_chunks_mut(COLUMN_BLOCK)
        .enumerate()
        .for_each(|(b, gb)| {
            let j0 = b * COLUMN_BLOCK;
            let cols = gb.ncols();
            matmul(
                gb.subrows_mut(j0, cnt - j0),
                Accum::Replace,
                pc.subcols(j0, cnt - j0).transpose(),
                uc.subcols(j0, cols),
                1.0,
                Par::Seq,
            );
        });
    for j in 0..cnt {
        for i in 0..j {
            g[(i, j)] = g[(j, i)];
        }
    }
    g
}

impl TwoElectronIntegrals {
    /// Computes every ⟨ij|W|kl⟩ (Hartree) of the lowest `orbitals` orbitals of `spectrum`, with
    /// parity blocks if `parity` gives the orbitals' parities (at least `orbitals` of them).
    pub fn compute(
        spectrum: &Spectrum,
        orbitals: usize,
        interaction: &SoftCoulomb,
        parity: Option<&[Parity]>,
    ) -> Result<Self, CoulombError> {
        check_orbitals(orbitals, spectrum.levels.len())?;
        check_finite(spectrum, orbitals)?;
        let interaction = SoftCoulomb::new(
            interaction.strength,
            interaction.dielectric,
            interaction.softening,
        )?;
        if let Some(p) = parity {
            if p.len() < orbitals {
                return Err(CoulombError::TooManyOrbitals {
                    requested: orbitals,
                    available: p.len(),
                });
            }
        }
        let m = orbitals;
        let grid = &spectrum.grid;
        let x = grid.interior();
        let n = x.len();
        let pairs = m * (m + 1) / 2;
        // P and U (n × D each), G (D², about half with parity blocks), one row block of W.
        let (nf, df) = (n as f64, pairs as f64);
        let g_share = if parity.is_some() { 0.5 } else { 1.0 };
        check_memory(
            "two-electron integrals",
            2.0 * nf * df + g_share * df * df + ROW_BLOCK as f64 * nf,
        )?;
        let layout = PairLayout::new(m, parity);
        let scale = grid.nodes().last().map_or(1.0, |l| l.abs().max(1.0));
        let blocks = if layout.classes == 2 && mirror_symmetric(x, scale) {
            // Class 0 holds the even pair densities (orbitals of equal parity), class 1 the odd.
            let columns = [0, 1].map(|c| {
                let (off, cnt) = (layout.offsets[c], layout.counts[c]);
                &layout.columns[off..off + cnt]
            });
            folded_parity_blocks(&interaction, spectrum, columns).into()
        } else {
            let p = weighted_pair_densities(spectrum, &layout.columns);
            let p = MatRef::from_column_major_slice(&p, n, pairs);
            let u = pair_potentials(&interaction, x, p);
            (0..layout.classes)
                .map(|c| coulomb_block(p, u.as_ref(), layout.offsets[c], layout.counts[c]))
                .collect()
        };
        Ok(Self {
            orbitals,
            slot: layout.slot,
            blocks: Arc::new(blocks),
            scale: 1.0,
        })
    }

    /// Number of orbitals M the integrals cover.
    pub fn orbitals(&self) -> usize {
        self.orbitals
    }

    /// True if G was split into parity blocks.
    pub fn uses_parity(&self) -> bool {
        self.blocks.len() > 1
    }

    /// ⟨ij|W|kl⟩ (Hartree), `None` if an index is ≥ M.
    pub fn get(&self, i: usize, j: usize, k: usize, l: usize) -> Option<f64> {
        let m = self.orbitals;
        (i < m && j < m && k < m && l < m).then(|| self.value(i, j, k, l))
    }

    /// ⟨ij|W|kl⟩ for indices known to be < M.
    fn value(&self, i: usize, j: usize, k: usize, l: usize) -> f64 {
        self.scale * self.unscaled(i, j, k, l)
    }

    /// G[(ik), (jl)]: ⟨ij|W|kl⟩ before the scale factor, for indices known to be < M.
    fn unscaled(&self, i: usize, j: usize, k: usize, l: usize) -> f64 {
        let a = self.slot[pair_index(i, k)];
        let b = self.slot[pair_index(j, l)];
        if a.class != b.class {
            return 0.0;
        }
        self.blocks[a.class as usize][(a.local as usize, b.local as usize)]
    }
}

/// The one-body kinetic matrix K_ik = ⟨i|K|k⟩ (Hartree) of the lowest `orbitals` orbitals, in
/// the difference form of the grid operator of `potential` (which must be the potential the
/// spectrum was computed for: its ⟨K⟩_i and ⟨V⟩_i are checked).
pub fn kinetic_matrix(
    potential: &Potential,
    spectrum: &Spectrum,
    orbitals: usize,
) -> Result<Mat<f64>, CoulombError> {
    check_orbitals(orbitals, spectrum.levels.len())?;
    check_finite(spectrum, orbitals)?;
    let h = Hamiltonian::new(potential, &spectrum.grid, spectrum.mass)?;
    let box_end = spectrum.grid.nodes().last().copied().unwrap_or(0.0);
    if (box_end - potential.box_half_width()).abs() > 1e-12 * box_end.abs().max(1.0) {
        return Err(CoulombError::PotentialMismatch {
            quantity: "box half-width L (bohr)",
            level: 0,
            spectrum: box_end,
            potential: potential.box_half_width(),
        });
    }
    let m = orbitals;
    let rows: Vec<Vec<f64>> = (0..m)
        .into_par_iter()
        .map(|i| {
            let a = spectrum.amplitude(i);
            (i..m)
                .map(|k| h.kinetic_form(a, spectrum.amplitude(k)))
                .collect()
        })
        .collect();
    let k = Mat::<f64>::from_fn(m, m, |i, j| {
        if i <= j {
            rows[i][j - i]
        } else {
            rows[j][i - j]
        }
    });
    for (i, level) in spectrum.levels.iter().take(m).enumerate() {
        let scale = level.energy.abs().max(level.kinetic.abs()).max(1e-300);
        let pot = h.potential_energy(spectrum.amplitude(i));
        for (quantity, ours, theirs) in [
            ("kinetic energy <K>_i (Ha)", k[(i, i)], level.kinetic),
            ("potential energy <V>_i (Ha)", pot, level.potential),
        ] {
            if (ours - theirs).abs() > MISMATCH_TOLERANCE * scale {
                return Err(CoulombError::PotentialMismatch {
                    quantity,
                    level: i,
                    spectrum: theirs,
                    potential: ours,
                });
            }
        }
    }
    Ok(k)
}

/// Wall times of building a [`CiProblem`] (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ProblemTimings {
    /// One-body kinetic matrix K_ik and the consistency check (s).
    pub kinetic_seconds: f64,
    /// Two-electron integrals ⟨ij|W|kl⟩ (s).
    pub integrals_seconds: f64,
}

/// The one- and two-body matrix elements of the lowest M orbitals: everything CI needs.
#[derive(Debug, Clone)]
pub struct CiProblem {
    energy: Vec<f64>,
    kinetic: Mat<f64>,
    parity: Option<Vec<Parity>>,
    integrals: TwoElectronIntegrals,
    interaction: SoftCoulomb,
    timings: ProblemTimings,
    /// The block matrices' buffers, reused from block to block and shared with the rescaled
    /// copies.
    matrices: MatrixPool,
}

/// Which states of the two-electron problem to diagonalize for: basis size and truncation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CiSettings {
    /// M: number of orbitals (≥ 1, ≤ the orbitals of the [`CiProblem`]).
    pub orbitals: usize,
    /// Keep only pairs with e_i + e_j ≤ this (Hartree); `None` = every pair of the M orbitals.
    pub pair_energy_max: Option<f64>,
    /// Keep the coefficient matrices A of this many lowest states per exchange sector.
    pub keep_coefficients: usize,
    /// Which states of each exchange sector to compute.
    pub states: CiStates,
}

impl CiSettings {
    /// The full basis of the lowest `orbitals` orbitals (M), every state, no coefficients kept.
    pub fn new(orbitals: usize) -> Self {
        Self {
            orbitals,
            pair_energy_max: None,
            keep_coefficients: 0,
            states: CiStates::All,
        }
    }
}

/// Which eigenstates of each exchange sector a CI solve computes (energies in Hartree).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum CiStates {
    /// Every state: each block is diagonalized completely (dense eigen-decomposition).
    All,
    /// At least the `count` lowest states of each sector and every state with E ≤ `energy_max`
    /// (Hartree; −∞ for none by energy). Each block is reduced to tridiagonal form once and only
    /// these eigenpairs are computed and carried back
    /// ([`crate::eigen::dense::lowest_symmetric_eigen`]); a few states just above may come
    /// along, but the states of a sector are always all those below
    /// [`CiSpectrum::complete_below`].
    Lowest {
        /// Lowest states per sector, at least.
        count: usize,
        /// Every state with E ≤ this (Hartree).
        energy_max: f64,
    },
}

impl CiStates {
    /// The `count` lowest states of each sector.
    pub fn lowest(count: usize) -> Self {
        Self::Lowest {
            count,
            energy_max: f64::NEG_INFINITY,
        }
    }

    /// Every state with E ≤ `energy_max` (Hartree), and at least the lowest of each sector.
    pub fn below(energy_max: f64) -> Self {
        Self::Lowest {
            count: 1,
            energy_max,
        }
    }
}

/// One block of a sector: the pairs (i, j) of one exchange symmetry and total parity.
struct Block {
    exchange: Exchange,
    parity: Option<Parity>,
    pairs: Vec<(usize, usize)>,
}

/// The wanted eigenpairs of one block (Hartree).
struct BlockEigen {
    /// Eigenvalues, ascending.
    values: Vec<f64>,
    /// d × k eigenvectors (0 × 0 when not asked for).
    vectors: Mat<f64>,
    /// The lowest eigenvalue left out, if any.
    next: Option<f64>,
}

/// Size of one diagonalized block (a sector, or a sector of one total parity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlockSize {
    /// Exchange symmetry of the block.
    pub exchange: Exchange,
    /// Total parity p_i p_j of its pairs (`None` without parity blocks).
    pub parity: Option<Parity>,
    /// Number of basis functions (pairs).
    pub dimension: usize,
}

/// One interacting two-electron state (energies in Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiState {
    /// E (Hartree).
    pub energy: f64,
    /// E of the degenerate level the state belongs to (Hartree): the lowest energy of its level
    /// (see [`CiSpectrum::states`]), the same for every state of the level and ascending along
    /// the states; what the thermodynamics counts.
    #[serde(skip)]
    pub level_energy: f64,
    /// ⟨K₁ + K₂⟩ (Hartree).
    pub kinetic: f64,
    /// ⟨V₁ + V₂⟩ (Hartree).
    pub potential: f64,
    /// ⟨W⟩ (Hartree).
    pub interaction: f64,
    /// Exchange symmetry of the spatial wave function (singlet = symmetric).
    pub exchange: Exchange,
    /// Total parity under x → −x (`None` without parity blocks).
    pub parity: Option<Parity>,
    /// Rank of the state within its exchange sector (0 = lowest).
    pub sector_index: usize,
    /// Orbital pair (i, j), i ≤ j, of the largest CI coefficient.
    pub leading_pair: (usize, usize),
    /// Weight c² of that pair (dimensionless, ≤ 1).
    pub leading_weight: f64,
    /// A (M × M, column-major): Ψ(x₁, x₂) = Σ_ab A_ab ψ_a(x₁) ψ_b(x₂), Σ A² = 1 (if kept).
    #[serde(skip)]
    pub coefficients: Option<Vec<f64>>,
}

/// Wall times of one CI solve (seconds), each stage summed over the blocks (which run
/// concurrently, so the sum can exceed the elapsed time).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CiTimings {
    /// Building the CI matrices (s).
    pub assembly_seconds: f64,
    /// Dense diagonalization (s).
    pub diagonalization_seconds: f64,
    /// ⟨K⟩, ⟨V⟩, ⟨W⟩ and the leading pairs of every state (s).
    pub observables_seconds: f64,
}

/// The interacting two-electron spectrum of both exchange sectors, ascending in energy.
#[derive(Debug, Clone)]
pub struct CiSpectrum {
    /// The states, ascending by level: the states within 1e-12 |E₀| of a level's lowest energy
    /// are one level, ordered symmetric first, then even first, then by energy.
    pub states: Vec<CiState>,
    /// M: orbitals of the basis.
    pub orbitals: usize,
    /// The pair-energy truncation used (Hartree), if any.
    pub pair_energy_max: Option<f64>,
    /// The diagonalized blocks.
    pub blocks: Vec<BlockSize>,
    /// Per exchange sector (symmetric, antisymmetric), the energy below which `states` holds
    /// every state of the sector (Hartree; +∞ when all states were computed).
    pub complete_below: [f64; 2],
    /// The interaction.
    pub interaction: SoftCoulomb,
    /// Wall times (s).
    pub timings: CiTimings,
}

/// Eigenvalues of each exchange sector, ascending (Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectorEnergies {
    /// Symmetric sector (singlet), ascending (Hartree).
    pub symmetric: Vec<f64>,
    /// Antisymmetric sector (triplet / spinless), ascending (Hartree).
    pub antisymmetric: Vec<f64>,
}

impl SectorEnergies {
    /// The eigenvalues of one sector (Hartree), ascending.
    pub fn sector(&self, exchange: Exchange) -> &[f64] {
        match exchange {
            Exchange::Symmetric => &self.symmetric,
            Exchange::Antisymmetric => &self.antisymmetric,
        }
    }

    /// Lowest energy of both sectors (Hartree); +∞ if both are empty.
    pub fn ground(&self) -> f64 {
        let s = self.symmetric.first().copied().unwrap_or(f64::INFINITY);
        let a = self.antisymmetric.first().copied().unwrap_or(f64::INFINITY);
        s.min(a)
    }
}

impl CiProblem {
    /// Builds K_ik and ⟨ij|W|kl⟩ (Hartree) for the lowest `orbitals` orbitals of `spectrum`, the
    /// spectrum of `potential`; parity blocks per `symmetry`.
    pub fn new(
        potential: &Potential,
        spectrum: &Spectrum,
        interaction: &SoftCoulomb,
        orbitals: usize,
        symmetry: Symmetry,
    ) -> Result<Self, CoulombError> {
        let start = Instant::now();
        let kinetic = kinetic_matrix(potential, spectrum, orbitals)?;
        let kinetic_seconds = start.elapsed().as_secs_f64();
        let parity = match symmetry {
            Symmetry::Auto => orbital_parities(spectrum, orbitals),
            Symmetry::Ignore => None,
        };
        let start = Instant::now();
        let integrals =
            TwoElectronIntegrals::compute(spectrum, orbitals, interaction, parity.as_deref())?;
        let integrals_seconds = start.elapsed().as_secs_f64();
        Ok(Self {
            energy: spectrum.energies()[..orbitals].to_vec(),
            kinetic,
            parity,
            integrals,
            interaction: *interaction,
            timings: ProblemTimings {
                kinetic_seconds,
                integrals_seconds,
            },
            matrices: MatrixPool::default(),
        })
    }

    /// M: the orbitals covered.
    pub fn orbitals(&self) -> usize {
        self.energy.len()
    }

    /// Orbital energies e_i (Hartree).
    pub fn orbital_energies(&self) -> &[f64] {
        &self.energy
    }

    /// One-body kinetic matrix K_ik (Hartree).
    pub fn kinetic(&self) -> MatRef<'_, f64> {
        self.kinetic.as_ref()
    }

    /// Orbital parities, if the parity blocks are used.
    pub fn parities(&self) -> Option<&[Parity]> {
        self.parity.as_deref()
    }

    /// The two-electron integrals (Hartree).
    pub fn integrals(&self) -> &TwoElectronIntegrals {
        &self.integrals
    }

    /// The same problem with the interaction `interaction`, which must have the same softening:
    /// W is then λ/ε_r times the same kernel, so the integrals are rescaled by
    /// (λ′/ε′)/(λ/ε) instead of recomputed (a scale factor on the same, shared G: no copy), and
    /// K_ik and the parities are kept (Hartree).
    pub fn with_interaction(&self, interaction: &SoftCoulomb) -> Result<Self, CoulombError> {
        let old = self.interaction.strength / self.interaction.dielectric;
        if interaction.softening != self.interaction.softening || old == 0.0 {
            return Err(CoulombError::Input(format!(
                "the integrals of λ = {}, ε_r = {}, s = {} cannot be rescaled to s = {}: compute them anew",
                self.interaction.strength,
                self.interaction.dielectric,
                self.interaction.softening,
                interaction.softening
            )));
        }
        let factor = (interaction.strength / interaction.dielectric) / old;
        let mut out = self.clone();
        out.integrals.scale *= factor;
        out.interaction = *interaction;
        Ok(out)
    }

    /// Wall times of the construction (s).
    pub fn timings(&self) -> ProblemTimings {
        self.timings
    }

    /// The blocks of the CI basis for `settings`, empty blocks dropped.
    fn blocks(&self, settings: &CiSettings) -> Result<Vec<Block>, CoulombError> {
        check_orbitals(settings.orbitals, self.orbitals())?;
        if let Some(e) = settings.pair_energy_max {
            if !e.is_finite() {
                return Err(CoulombError::NonFinite {
                    what: "pair energy cutoff",
                    index: 0,
                    value: e,
                });
            }
        }
        if let CiStates::Lowest { energy_max, .. } = settings.states {
            if energy_max.is_nan() {
                return Err(CoulombError::NonFinite {
                    what: "energy bound of the wanted CI states",
                    index: 0,
                    value: energy_max,
                });
            }
        }
        let m = settings.orbitals;
        let e = &self.energy;
        let classes: Vec<Option<Parity>> = match &self.parity {
            Some(_) => vec![Some(Parity::Even), Some(Parity::Odd)],
            None => vec![None],
        };
        let mut blocks = Vec::new();
        for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
            for &class in &classes {
                let mut pairs = Vec::new();
                for j in 0..m {
                    let top = match exchange {
                        Exchange::Symmetric => j + 1,
                        Exchange::Antisymmetric => j,
                    };
                    for i in 0..top {
                        if settings.pair_energy_max.is_some_and(|c| e[i] + e[j] > c) {
                            continue;
                        }
                        let parity = self.parity.as_ref().map(|p| {
                            if p[i] == p[j] {
                                Parity::Even
                            } else {
                                Parity::Odd
                            }
                        });
                        if parity == class {
                            pairs.push((i, j));
                        }
                    }
                }
                if !pairs.is_empty() {
                    blocks.push(Block {
                        exchange,
                        parity: class,
                        pairs,
                    });
                }
            }
        }
        // The blocks are diagonalized concurrently: each needs its matrix, its eigenvectors and
        // the solver's workspace (3d²) and its kept coefficient matrices at once, on top of the
        // buffers the pool keeps (a block may take one of them instead of new memory).
        let retained = self.matrices.retained_elements() as f64;
        let elements = retained
            + blocks
                .iter()
                .map(|b| {
                    let d = b.pairs.len() as f64;
                    let kept = (settings.keep_coefficients as f64).min(d) * (m * m) as f64;
                    3.0 * d * d + 2.0 * kept
                })
                .sum::<f64>();
        check_memory("CI diagonalization", elements)?;
        if blocks.is_empty() {
            return Err(CoulombError::EmptyBasis {
                cutoff: settings.pair_energy_max.unwrap_or(f64::NAN),
                lowest: 2.0 * e[0],
            });
        }
        Ok(blocks)
    }

    /// Writes the lower triangle (diagonal included) of the CI matrix of one block into the
    /// column-major d × d `h` (Hartree); the upper triangle is not touched (the solvers that
    /// get a reused buffer read only the lower one).
    fn fill_block_matrix(&self, block: &Block, h: &mut [f64]) {
        let pairs = &block.pairs;
        let d = pairs.len();
        assert_eq!(h.len(), d * d, "a block matrix holds d × d numbers");
        let sign = match block.exchange {
            Exchange::Symmetric => 1.0,
            Exchange::Antisymmetric => -1.0,
        };
        let f = |i: usize, j: usize| if i == j { 0.5 } else { FRAC_1_SQRT_2 };
        let g = &self.integrals;
        let e = &self.energy;
        // Where ⟨ij|W|kl⟩ = G[(ik), (jl)] sits, by (i, k): a table instead of the pair index
        // arithmetic in the inner loop, symmetric (pair (i, k) is pair (k, i)) and read as
        // [k·M + i], so that consecutive i read consecutive slots.
        let m = g.orbitals;
        let slot: Vec<Slot> = (0..m * m)
            .map(|x| g.slot[pair_index(x / m, x % m)])
            .collect();
        let scale = g.scale;
        // The pairs run by their larger orbital j (then i), so the rows (i, j) of one j, and the
        // columns (k, l) of one l, are consecutive: H falls into tiles (j, l). Within a tile
        // the direct term ⟨ij|W|kl⟩ = G[(ki), (lj)] reads one column of G, and the exchange
        // term G[(kj), (li)] reads, for each row, the rows (k, j) of column (l, i): consecutive
        // for consecutive k (k ≤ l ≤ j). A tile's part of G thus stays in L1 from one column of
        // the tile to the next, where a whole column of H would sweep ~2d lines of G spread
        // over as many pages.
        let mut groups = Vec::new();
        let mut first = 0;
        for run in pairs.chunk_by(|a, b| a.1 == b.1) {
            groups.push((run[0].1, first..first + run.len()));
            first += run.len();
        }
        // The column groups of H, each with its columns, in parallel.
        let mut column_groups = Vec::with_capacity(groups.len());
        let mut rest = h;
        for (t, (_, cols)) in groups.iter().enumerate() {
            let (group, tail) = std::mem::take(&mut rest).split_at_mut(cols.len() * d);
            column_groups.push((t, group));
            rest = tail;
        }
        column_groups.into_par_iter().for_each(|(t, h_cols)| {
            let (l, cols) = (groups[t].0, groups[t].1.clone());
            // Every read of this column group is in a column (l, x) of G: their slices and
            // classes, looked up once (an entry of another class than its column is 0).
            let g_cols: Vec<(u8, &[f64])> = (0..m)
                .map(|x| {
                    let c = slot[l * m + x];
                    let block = &g.blocks[c.class as usize];
                    (c.class, block.col_as_slice(c.local as usize))
                })
                .collect();
            let read = |(class, col): (u8, &[f64]), row: Slot| {
                if row.class == class {
                    col[row.local as usize]
                } else {
                    0.0
                }
            };
            for (j, rows) in &groups[t..] {
                let direct_col = g_cols[*j];
                for s in cols.clone() {
                    let k = pairs[s].0;
                    let fkl = 2.0 * f(k, l);
                    let exchange_row = slot[k * m + j];
                    let direct_rows = &slot[k * m..(k + 1) * m];
                    let col = &mut h_cols[(s - cols.start) * d..(s - cols.start + 1) * d];
                    let from = rows.start.max(s);
                    for (x, &(i, _)) in col[from..rows.end].iter_mut().zip(&pairs[from..rows.end]) {
                        let direct = read(direct_col, direct_rows[i]);
                        let exchange = read(g_cols[i], exchange_row);
                        *x = fkl * f(i, *j) * (scale * (direct + sign * exchange));
                    }
                    if *j == l {
                        col[s] += e[k] + e[l];
                    }
                }
            }
        });
    }

    /// True when W is switched off (λ = 0): every integral is exactly zero and the CI matrix
    /// is the diagonal e_i + e_j.
    fn interaction_off(&self) -> bool {
        self.interaction.strength == 0.0
    }

    /// The wanted eigenvalues of one block, ascending, their eigenvectors (d × k, if
    /// `vectors`), and the lowest eigenvalue left out (`None` if none was); energies in Hartree.
    fn block_eigen(
        &self,
        block: &Block,
        states: CiStates,
        vectors: bool,
        timings: &mut CiTimings,
    ) -> Result<BlockEigen, CoulombError> {
        let d = block.pairs.len();
        let failed = || CoulombError::DenseEigen { dimension: d };
        if self.interaction_off() {
            // Without W the block is diagonal: its eigenpairs are the pair energies and the unit
            // vectors, sorted (stably, so equal energies keep the order of the pairs).
            let start = Instant::now();
            let diagonal = self.block_diagonal(block);
            let mut order: Vec<usize> = (0..d).collect();
            order.sort_by(|&a, &b| diagonal[a].total_cmp(&diagonal[b]));
            let k = match states {
                CiStates::All => d,
                CiStates::Lowest { count, energy_max } => {
                    let below = order.iter().take_while(|&&r| diagonal[r] <= energy_max);
                    count.max(below.count()).min(d)
                }
            };
            let values: Vec<f64> = order[..k].iter().map(|&r| diagonal[r]).collect();
            let next = order.get(k).map(|&r| diagonal[r]);
            let z = if vectors {
                Mat::<f64>::from_fn(d, k, |r, c| if order[c] == r { 1.0 } else { 0.0 })
            } else {
                Mat::<f64>::zeros(0, 0)
            };
            timings.diagonalization_seconds += start.elapsed().as_secs_f64();
            return Ok(BlockEigen {
                values,
                vectors: z,
                next,
            });
        }
        let start = Instant::now();
        // faer's dense solver may read the upper triangle: it gets zeros there.
        let mut lower = match states {
            CiStates::All => self.matrices.take_zeroed(d * d),
            CiStates::Lowest { .. } => self.matrices.take(d * d),
        };
        self.fill_block_matrix(block, &mut lower);
        timings.assembly_seconds += start.elapsed().as_secs_f64();
        let start = Instant::now();
        let h = MatRef::from_column_major_slice(&lower, d, d);
        let solved = match (states, vectors) {
            (CiStates::All, true) => symmetric_eigen(h)
                .ok_or_else(failed)
                .map(|(values, z)| (values, z, None)),
            (CiStates::All, false) => symmetric_eigenvalues(h)
                .ok_or_else(failed)
                .map(|values| (values, Mat::<f64>::zeros(0, 0), None)),
            (CiStates::Lowest { count, energy_max }, _) => {
                // The block matrix becomes the reduction's workspace (no n² copy), and comes
                // back for the next block.
                lowest_symmetric_eigen_in(&mut lower, d, count, energy_max, vectors)
                    .map_err(|_| failed())
                    .map(|low| {
                        let k = low.values.len();
                        let z = if vectors {
                            MatRef::from_column_major_slice(&low.vectors, d, k).to_owned()
                        } else {
                            Mat::<f64>::zeros(0, 0)
                        };
                        (low.values, z, low.next)
                    })
            }
        };
        self.matrices.give(lower);
        let (values, z, next) = solved?;
        timings.diagonalization_seconds += start.elapsed().as_secs_f64();
        Ok(BlockEigen {
            values,
            vectors: z,
            next,
        })
    }

    /// The diagonal of the CI matrix of one block (Hartree), as [`Self::fill_block_matrix`] writes it.
    fn block_diagonal(&self, block: &Block) -> Vec<f64> {
        let sign = match block.exchange {
            Exchange::Symmetric => 1.0,
            Exchange::Antisymmetric => -1.0,
        };
        let f = |i: usize, j: usize| if i == j { 0.5 } else { FRAC_1_SQRT_2 };
        let g = &self.integrals;
        block
            .pairs
            .iter()
            .map(|&(i, j)| {
                let fij = f(i, j);
                let w = g.unscaled(i, j, i, j) + sign * g.unscaled(i, j, j, i);
                2.0 * fij * fij * (g.scale * w) + (self.energy[i] + self.energy[j])
            })
            .collect()
    }

    /// Number of states of each exchange sector (symmetric, antisymmetric) of the basis of
    /// `settings` with E < `energy` (Hartree), by Sylvester's law of inertia: the negative
    /// pivots of the Bunch–Kaufman LDLᵀ factorization of each block's H − E
    /// ([`crate::eigen::dense::eigenvalues_below`]). Independent of the eigen-solvers (a check
    /// that none of them missed a state), O(d³/3) per block.
    pub fn count_below(
        &self,
        settings: &CiSettings,
        energy: f64,
    ) -> Result<[usize; 2], CoulombError> {
        if !energy.is_finite() {
            return Err(CoulombError::NonFinite {
                what: "energy of a state count",
                index: 0,
                value: energy,
            });
        }
        let counts = self
            .blocks(settings)?
            .par_iter()
            .map(|block| {
                let d = block.pairs.len();
                // The inertia count reads the lower triangle only.
                let mut h = self.matrices.take(d * d);
                self.fill_block_matrix(block, &mut h);
                let count = eigenvalues_below(MatRef::from_column_major_slice(&h, d, d), energy);
                self.matrices.give(h);
                count
                    .map(|c| (block.exchange, c))
                    .ok_or(CoulombError::DenseEigen { dimension: d })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = [0; 2];
        for (exchange, c) in counts {
            out[exchange as usize] += c;
        }
        Ok(out)
    }

    /// The eigenvalues of each exchange sector (Hartree), without eigenvectors (faster): all of
    /// them, or those `settings.states` asks for.
    pub fn energies(&self, settings: &CiSettings) -> Result<SectorEnergies, CoulombError> {
        // Blocks in parallel, each diagonalized sequentially: the eigenvalues do not depend on
        // the number of threads.
        let blocks = self.blocks(settings)?;
        let solved = blocks
            .par_iter()
            .map(|block| {
                let mut t = CiTimings::default();
                self.block_eigen(block, settings.states, false, &mut t)
                    .map(|b| (block.exchange, b.values, b.next))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let complete = complete_below(solved.iter().map(|(x, _, next)| (*x, *next)));
        let mut out = SectorEnergies {
            symmetric: Vec::new(),
            antisymmetric: Vec::new(),
        };
        for (exchange, values, _) in solved {
            let limit = complete[exchange as usize];
            let values = values.into_iter().filter(|&e| e < limit);
            match exchange {
                Exchange::Symmetric => out.symmetric.extend(values),
                Exchange::Antisymmetric => out.antisymmetric.extend(values),
            }
        }
        out.symmetric.sort_by(f64::total_cmp);
        out.antisymmetric.sort_by(f64::total_cmp);
        Ok(out)
    }

    /// Diagonalizes both sectors and computes E, ⟨K₁ + K₂⟩, ⟨V₁ + V₂⟩ and ⟨W⟩ of every state,
    /// or of the states `settings.states` asks for.
    pub fn solve(&self, settings: &CiSettings) -> Result<CiSpectrum, CoulombError> {
        let blocks = self.blocks(settings)?;
        let m = settings.orbitals;
        // Blocks in parallel, each diagonalized sequentially (see `symmetric_eigen`): the states
        // do not depend on the number of threads.
        let solved = blocks
            .par_iter()
            .map(|block| self.solve_block(block, settings))
            .collect::<Result<Vec<_>, _>>()?;
        let complete = complete_below(
            blocks
                .iter()
                .zip(&solved)
                .map(|(b, (_, _, next))| (b.exchange, *next)),
        );
        let mut timings = CiTimings::default();
        let mut states = Vec::new();
        let mut sizes = Vec::new();
        for (block, (block_states, t, _)) in blocks.iter().zip(solved) {
            sizes.push(BlockSize {
                exchange: block.exchange,
                parity: block.parity,
                dimension: block.pairs.len(),
            });
            timings.assembly_seconds += t.assembly_seconds;
            timings.diagonalization_seconds += t.diagonalization_seconds;
            timings.observables_seconds += t.observables_seconds;
            // A state above the lowest one another block of its sector left out might not be
            // the next of its sector: drop it, so that the sector ranks are exact.
            let limit = complete[block.exchange as usize];
            states.extend(block_states.into_iter().filter(|s| s.energy < limit));
        }
        canonical_order(&mut states);
        // Rank within the sector in that order, then drop coefficients beyond the lowest `keep`
        // per sector.
        let mut rank = [0usize; 2];
        for s in &mut states {
            let r = &mut rank[s.exchange as usize];
            s.sector_index = *r;
            *r += 1;
            if s.sector_index >= settings.keep_coefficients {
                s.coefficients = None;
            }
        }
        Ok(CiSpectrum {
            states,
            orbitals: m,
            pair_energy_max: settings.pair_energy_max,
            blocks: sizes,
            complete_below: complete,
            interaction: self.interaction,
            timings,
        })
    }

    /// The states of one block, the wall times of its stages (s) and the lowest eigenvalue it
    /// left out (Hartree; `None` if none).
    fn solve_block(
        &self,
        block: &Block,
        settings: &CiSettings,
    ) -> Result<(Vec<CiState>, CiTimings, Option<f64>), CoulombError> {
        let m = settings.orbitals;
        let mut timings = CiTimings::default();
        let BlockEigen {
            values,
            vectors,
            next,
        } = self.block_eigen(block, settings.states, true, &mut timings)?;
        let start = Instant::now();
        let vectors = vectors.as_ref();
        let kinetic = self.kinetic_expectations(m, block, vectors);
        let keep = settings.keep_coefficients.min(values.len());
        let states: Vec<CiState> = (0..values.len())
            .into_par_iter()
            .map(|s| {
                let c = vectors.col(s);
                let mut one_body = 0.0;
                let (mut best, mut best_weight) = (0, -1.0);
                for (r, &(i, j)) in block.pairs.iter().enumerate() {
                    let w = c[r] * c[r];
                    one_body += w * (self.energy[i] + self.energy[j]);
                    if w > best_weight {
                        best = r;
                        best_weight = w;
                    }
                }
                let energy = values[s];
                CiState {
                    energy,
                    level_energy: energy,
                    kinetic: kinetic[s],
                    potential: one_body - kinetic[s],
                    interaction: energy - one_body,
                    exchange: block.exchange,
                    parity: block.parity,
                    sector_index: 0,
                    leading_pair: block.pairs[best],
                    leading_weight: best_weight,
                    coefficients: (s < keep).then(|| coefficient_matrix(m, block, c)),
                }
            })
            .collect();
        timings.observables_seconds = start.elapsed().as_secs_f64();
        Ok((states, timings, next))
    }

    /// ⟨K₁ + K₂⟩ = 2 tr(Aᵀ K A) (Hartree) for every eigenvector (column of `vectors`).
    fn kinetic_expectations(&self, m: usize, block: &Block, vectors: MatRef<'_, f64>) -> Vec<f64> {
        let states = vectors.ncols();
        let k = self.kinetic.as_ref().submatrix(0, 0, m, m);
        let starts: Vec<usize> = (0..states).step_by(STATE_CHUNK).collect();
        let parts: Vec<Vec<f64>> = starts
            .par_iter()
            .map(|&s0| {
                let c = STATE_CHUNK.min(states - s0);
                let mut a = Mat::<f64>::zeros(m, m * c);
                for t in 0..c {
                    fill_coefficients(block, vectors.col(s0 + t), |i, j, v| {
                        a[(i, t * m + j)] = v;
                    });
                }
                let mut y = Mat::<f64>::zeros(m, m * c);
                matmul(y.as_mut(), Accum::Replace, k, a.as_ref(), 1.0, Par::Seq);
                (0..c)
                    .map(|t| {
                        let mut sum = 0.0;
                        for col in t * m..(t + 1) * m {
                            for row in 0..m {
                                sum += a[(row, col)] * y[(row, col)];
                            }
                        }
                        2.0 * sum
                    })
                    .collect()
            })
            .collect();
        parts.concat()
    }
}

/// Per exchange sector (indexed by `Exchange as usize`), the energy below which every state of
/// the sector was computed: the lowest eigenvalue any of its blocks left out (+∞ if none did).
fn complete_below(blocks: impl Iterator<Item = (Exchange, Option<f64>)>) -> [f64; 2] {
    let mut limit = [f64::INFINITY; 2];
    for (exchange, next) in blocks {
        if let Some(e) = next {
            let l = &mut limit[exchange as usize];
            *l = l.min(e);
        }
    }
    limit
}

/// Calls `set(a, b, A_ab)` for every nonzero of the coefficient matrix of the CI vector `c`.
fn fill_coefficients(
    block: &Block,
    c: faer::ColRef<'_, f64>,
    mut set: impl FnMut(usize, usize, f64),
) {
    let sign = match block.exchange {
        Exchange::Symmetric => 1.0,
        Exchange::Antisymmetric => -1.0,
    };
    for (r, &(i, j)) in block.pairs.iter().enumerate() {
        if i == j {
            set(i, i, c[r]);
        } else {
            let v = c[r] * FRAC_1_SQRT_2;
            set(i, j, v);
            set(j, i, sign * v);
        }
    }
}

/// The M × M coefficient matrix A (column-major) of the CI vector `c`.
fn coefficient_matrix(m: usize, block: &Block, c: faer::ColRef<'_, f64>) -> Vec<f64> {
    let mut a = vec![0.0; m * m];
    fill_coefficients(block, c, |i, j, v| a[j * m + i] = v);
    a
}

impl CiState {
    /// Spin states of this spatial state: 1 (singlet) or 3 (triplet) for spin ½; 1 for spinless
    /// fermions in the antisymmetric sector and `None` (not allowed) in the symmetric one.
    pub fn multiplicity(&self, spin: Spin) -> Option<u64> {
        self.exchange.multiplicity(spin)
    }

    /// "singlet" or "triplet" (spin ½ name of the exchange sector).
    pub fn spin_label(&self) -> &'static str {
        self.exchange.spin_name()
    }
}

impl CiSpectrum {
    /// Lowest energy of both sectors (Hartree).
    pub fn ground_energy(&self) -> f64 {
        self.states.first().map_or(f64::INFINITY, |s| s.energy)
    }

    /// The states of one exchange sector, ascending.
    pub fn sector(&self, exchange: Exchange) -> impl Iterator<Item = &CiState> + '_ {
        self.states.iter().filter(move |s| s.exchange == exchange)
    }

    /// The lowest state of one exchange sector, if the sector is not empty.
    pub fn lowest(&self, exchange: Exchange) -> Option<&CiState> {
        self.sector(exchange).next()
    }

    /// Total CI dimension (spatial states of both sectors, computed or not).
    pub fn dimension(&self) -> usize {
        self.blocks.iter().map(|b| b.dimension).sum()
    }

    /// The energy below which every state of `exchange` was computed (Hartree; +∞ if all were).
    pub fn complete_below(&self, exchange: Exchange) -> f64 {
        self.complete_below[exchange as usize]
    }

    /// The states for the thermodynamics (N = 2): spin ½ gives singlets (g = 1) and triplets
    /// (g = 3); spinless fermions keep the antisymmetric sector only (g = 1). Each state counts
    /// at its `level_energy`, and energies within [`degeneracy_tolerance`] of the kept states
    /// are made equal (one level; the same as the levels when |E_max| ≤ |E₀|).
    pub fn to_state_list(&self, spin: Spin) -> Result<StateList, CoulombError> {
        self.state_list_below(spin, f64::INFINITY)
    }

    /// The states of [`Self::state_list_below`], in order, with their multiplicity g: those
    /// with E ≤ `energy_max` (Hartree) that `spin` allows.
    pub fn thermodynamic_states(
        &self,
        spin: Spin,
        energy_max: f64,
    ) -> impl Iterator<Item = (&CiState, u64)> + '_ {
        self.states
            .iter()
            .filter(move |s| s.energy <= energy_max)
            .filter_map(move |s| s.exchange.multiplicity(spin).map(|g| (s, g)))
    }

    /// [`Self::to_state_list`] of the states with E ≤ `energy_max` (Hartree).
    pub fn state_list_below(&self, spin: Spin, energy_max: f64) -> Result<StateList, CoulombError> {
        let (mut energy, mut kinetic, mut multiplicity) = (Vec::new(), Vec::new(), Vec::new());
        for (s, g) in self.thermodynamic_states(spin, energy_max) {
            energy.push(s.level_energy);
            kinetic.push(s.kinetic.max(0.0));
            multiplicity.push(g);
        }
        let tolerance = degeneracy_tolerance(energy.iter().copied());
        Ok(StateList::new(energy, kinetic, multiplicity, 2)?.with_degenerate_within(tolerance))
    }
}

/// Sorts CI states into levels: a level is a run of energies within [`degeneracy_tolerance`]
/// of the ground state (1e-12 |E₀|) of its lowest one (anchored, so a chain of close energies never drifts by more than the
/// tolerance), the levels ascend, and within a level the states are ordered by sector
/// (symmetric first), then parity (even first), then energy; every state's `level_energy` is
/// its level's lowest energy. States degenerate in exact arithmetic (the singlet and the
/// triplet of a pair whose exchange integral is below ε‖H‖) come out of separate blocks a few
/// ε apart in either order, depending on rounding: ordering a level by its labels keeps the
/// tables independent of that rounding.
fn canonical_order(states: &mut [CiState]) {
    states.sort_by(|a, b| a.energy.total_cmp(&b.energy));
    // Of the ground state alone, so that the levels do not depend on how many states above
    // were computed (the dense and the partial solver give the same levels).
    let tolerance = degeneracy_tolerance(states.first().map(|s| s.energy));
    let labels = |s: &CiState| {
        let parity = match s.parity {
            None => 0u8,
            Some(Parity::Even) => 1,
            Some(Parity::Odd) => 2,
        };
        (s.exchange as u8, parity)
    };
    let energies: Vec<f64> = states.iter().map(|s| s.energy).collect();
    for (s, anchor) in states.iter_mut().zip(level_anchors(&energies, tolerance)) {
        s.level_energy = anchor;
    }
    for level in states.chunk_by_mut(|a, b| a.level_energy == b.level_energy) {
        level.sort_by(|a, b| {
            labels(a)
                .cmp(&labels(b))
                .then(a.energy.total_cmp(&b.energy))
        });
    }
}

/// CI energies closer than this are one level of the thermodynamics (Hartree): 1e-12 of the
/// largest |E| (about 4500 ε). The blocks (singlet/triplet, even/odd) are diagonalized
/// separately, so states degenerate in exact arithmetic (e.g. the singlet and the triplet of one
/// pair without interaction) differ by rounding, a few ε‖H‖, and the dense and the partial
/// solver round differently; ‖H‖ of a block (at most 2 e_M plus the largest interaction
/// element) stays within a few hundred times the |E| of the states a study keeps. A physical
/// splitting this small is 1e-9 of an energy-grid step (1e-4 Ha) and would change no reported
/// quantity but T^(μ) at the split, which it would make an artefact of rounding.
pub fn degeneracy_tolerance(energies: impl IntoIterator<Item = f64>) -> f64 {
    1e-12 * energies.into_iter().map(f64::abs).fold(0.0, f64::max)
}

/// Which states a convergence check compares (per exchange sector).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum StateSelection {
    /// The k lowest states of each sector.
    Lowest(usize),
    /// The states of each sector whose energy with the smaller basis is ≤ this (Hartree).
    Below(f64),
}

impl StateSelection {
    /// The CI states a comparison of this selection solves for; a limit that is not finite is
    /// an error.
    fn ci_states(self) -> Result<CiStates, CoulombError> {
        match self {
            StateSelection::Lowest(k) => Ok(CiStates::lowest(k.max(1))),
            StateSelection::Below(e) if !e.is_finite() => Err(CoulombError::NonFinite {
                what: "convergence energy limit",
                index: 0,
                value: e,
            }),
            StateSelection::Below(e) => Ok(CiStates::below(e)),
        }
    }
}

/// One state compared between two basis sizes (Hartree).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConvergenceRow {
    /// Exchange sector.
    pub exchange: Exchange,
    /// Rank within the sector (0 = lowest).
    pub index: usize,
    /// Energy with M orbitals (Hartree).
    pub coarse: f64,
    /// Energy with M′ > M orbitals (Hartree).
    pub fine: f64,
    /// fine − coarse (Hartree, ≤ 0 up to rounding: variational).
    pub change: f64,
}

/// Convergence of the CI energies in the number of orbitals M → M′.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiConvergence {
    /// M (smaller basis).
    pub coarse_orbitals: usize,
    /// M′ (larger basis).
    pub fine_orbitals: usize,
    /// Ground-state energy with M orbitals (Hartree).
    pub coarse_ground: f64,
    /// Ground-state energy with M′ orbitals (Hartree).
    pub fine_ground: f64,
    /// The compared states, symmetric sector first, ascending.
    pub rows: Vec<ConvergenceRow>,
}

impl CiConvergence {
    /// Largest |E(M′) − E(M)| over the compared states (Hartree); 0 if none.
    pub fn max_abs_change(&self) -> f64 {
        self.rows.iter().map(|r| r.change.abs()).fold(0.0, f64::max)
    }
}

/// Compares the CI energies with the lowest `coarse` and `fine` orbitals of `problem`
/// (coarse < fine ≤ M), state by state within each sector (energies in Hartree).
pub fn convergence(
    problem: &CiProblem,
    coarse: usize,
    fine: usize,
    selection: StateSelection,
) -> Result<CiConvergence, CoulombError> {
    check_convergence(problem, coarse, fine, selection)?;
    let small = problem.energies(&CiSettings {
        states: selection.ci_states()?,
        ..CiSettings::new(coarse)
    })?;
    compare_with_fine(problem, coarse, small, fine, selection, None)
}

/// [`convergence`] for a spectrum already solved in the full basis of its M orbitals: only the
/// M′ = `fine` basis is diagonalized again. The solved spectrum must hold the compared states
/// (all of them, or every state below the limit of `selection`).
pub fn convergence_of(
    solved: &CiSpectrum,
    problem: &CiProblem,
    fine: usize,
    selection: StateSelection,
) -> Result<CiConvergence, CoulombError> {
    let large = fine_energies(problem, fine, selection)?;
    convergence_from(solved, problem, fine, large, selection)
}

/// The M′ = `fine` energies (Hartree) a convergence check of `selection` compares, computed
/// without the M spectrum, so that the two solves can run concurrently: the k lowest of each
/// sector for `Lowest(k)`; for `Below(e)` every state ≤ e, which covers the M states ≤ e because
/// the M basis of each block is part of the M′ one (Cauchy interlacing: the i-th M′ eigenvalue
/// of a block is at most its i-th M eigenvalue).
pub fn fine_energies(
    problem: &CiProblem,
    fine: usize,
    selection: StateSelection,
) -> Result<SectorEnergies, CoulombError> {
    problem.energies(&CiSettings {
        states: selection.ci_states()?,
        ..CiSettings::new(fine)
    })
}

/// [`convergence_of`] with the M′ = `fine` energies already computed by [`fine_energies`] (for
/// the same `problem`, `fine` and `selection`); a sector that holds fewer states than the
/// comparison needs (rounding at the limit) is diagonalized again for exactly those.
pub fn convergence_from(
    solved: &CiSpectrum,
    problem: &CiProblem,
    fine: usize,
    large: SectorEnergies,
    selection: StateSelection,
) -> Result<CiConvergence, CoulombError> {
    let coarse = solved.orbitals;
    if solved.pair_energy_max.is_some() {
        return Err(CoulombError::Input(
            "a convergence check in M needs the full basis of M orbitals, not a pair-energy cutoff"
                .into(),
        ));
    }
    check_convergence(problem, coarse, fine, selection)?;
    for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
        let limit = solved.complete_below(exchange);
        let covered = match selection {
            StateSelection::Below(e) => e < limit,
            StateSelection::Lowest(k) => {
                limit == f64::INFINITY || solved.sector(exchange).count() >= k
            }
        };
        if !covered {
            return Err(CoulombError::Input(format!(
                "the solved M = {coarse} spectrum holds the {} states below {limit} Ha only, not all the states a convergence check of {selection:?} compares; solve with CiStates covering them",
                exchange.spin_name()
            )));
        }
    }
    let sector = |exchange| solved.sector(exchange).map(|s| s.energy).collect();
    let small = SectorEnergies {
        symmetric: sector(Exchange::Symmetric),
        antisymmetric: sector(Exchange::Antisymmetric),
    };
    compare_with_fine(problem, coarse, small, fine, selection, Some(large))
}

fn check_convergence(
    problem: &CiProblem,
    coarse: usize,
    fine: usize,
    selection: StateSelection,
) -> Result<(), CoulombError> {
    if coarse >= fine {
        return Err(CoulombError::ConvergenceOrder { coarse, fine });
    }
    selection.ci_states()?;
    check_orbitals(coarse, problem.orbitals())?;
    check_orbitals(fine, problem.orbitals())
}

/// Compares the `fine` basis with the `small` (M = `coarse`) energies; the `fine` basis is
/// diagonalized unless `large` already holds the states compared.
fn compare_with_fine(
    problem: &CiProblem,
    coarse: usize,
    small: SectorEnergies,
    fine: usize,
    selection: StateSelection,
    large: Option<SectorEnergies>,
) -> Result<CiConvergence, CoulombError> {
    let counts = [Exchange::Symmetric, Exchange::Antisymmetric].map(|exchange| {
        let a = small.sector(exchange);
        match selection {
            StateSelection::Lowest(k) => k.min(a.len()),
            StateSelection::Below(e) => a.iter().take_while(|&&x| x <= e).count(),
        }
    });
    // The M′ basis contains the M one, so each sector has at least as many states: its lowest
    // `count` are all the comparison needs.
    let covers =
        |l: &SectorEnergies| l.symmetric.len() >= counts[0] && l.antisymmetric.len() >= counts[1];
    let large = match large {
        Some(l) if covers(&l) => l,
        _ => problem.energies(&CiSettings {
            states: CiStates::lowest(counts[0].max(counts[1]).max(1)),
            ..CiSettings::new(fine)
        })?,
    };
    let mut rows = Vec::new();
    for (exchange, count) in [Exchange::Symmetric, Exchange::Antisymmetric]
        .into_iter()
        .zip(counts)
    {
        let (a, b) = (small.sector(exchange), large.sector(exchange));
        rows.extend((0..count).map(|index| ConvergenceRow {
            exchange,
            index,
            coarse: a[index],
            fine: b[index],
            change: b[index] - a[index],
        }));
    }
    Ok(CiConvergence {
        coarse_orbitals: coarse,
        fine_orbitals: fine,
        coarse_ground: small.ground(),
        fine_ground: large.ground(),
        rows,
    })
}

/// CI of two electrons in the lowest `settings.orbitals` orbitals of `spectrum` (the spectrum of
/// `potential`) with `interaction`, parity blocks where possible; energies in Hartree.
pub fn solve_ci(
    potential: &Potential,
    spectrum: &Spectrum,
    interaction: &SoftCoulomb,
    settings: &CiSettings,
) -> Result<CiSpectrum, CoulombError> {
    CiProblem::new(
        potential,
        spectrum,
        interaction,
        settings.orbitals,
        Symmetry::Auto,
    )?
    .solve(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::potential::{Piece, Shape};
    use crate::model::problem::Problem;

    /// A CI problem of `orbitals` orbitals on a small grid (L = 30, h = 0.5 bohr): the square
    /// well (parity blocks, two classes of G) or an off-centre well (one class).
    fn problem(symmetric: bool, orbitals: usize) -> CiProblem {
        let potential = if symmetric {
            Potential::square_well(30.0, 0.1, 10.0).unwrap()
        } else {
            let shape = Shape::Constant { value: -0.15 };
            let piece = Piece {
                from: -12.0,
                to: 4.0,
                shape,
                mass: None,
            };
            Potential::new(30.0, vec![piece]).unwrap()
        };
        let spectrum = Problem::new(potential.clone(), 1.0, 0.5, orbitals)
            .spectrum()
            .unwrap();
        let w = SoftCoulomb::new(1.0, 1.0, 1.0).unwrap();
        CiProblem::new(&potential, &spectrum, &w, orbitals, Symmetry::Auto).unwrap()
    }

    /// The tiled assembly writes, entry by entry, bitwise the defining formula
    /// (e_i + e_j) δ + 2 f_ij f_kl (⟨ij|W|kl⟩ ± ⟨ij|W|lk⟩) with the same rounding, on every
    /// entry of the lower triangle, and leaves the upper triangle as it found it (NaN here, as
    /// a reused buffer's leftovers would be): with and without parity blocks, both sectors, a
    /// pair-energy cutoff (blocks with holes in their pair runs) and a rescaled copy.
    #[test]
    fn block_matrix_is_the_defining_formula_and_leaves_the_upper_triangle_alone() {
        for symmetric in [true, false] {
            let base = problem(symmetric, 12);
            let rescaled = base
                .with_interaction(&SoftCoulomb::new(1.0, 12.9, 1.0).unwrap())
                .unwrap();
            let cutoff = base.energy[2] + base.energy[9];
            for (p, settings) in [
                (&base, CiSettings::new(12)),
                (&rescaled, CiSettings::new(9)),
                (
                    &base,
                    CiSettings {
                        pair_energy_max: Some(cutoff),
                        ..CiSettings::new(12)
                    },
                ),
            ] {
                let g = &p.integrals;
                let f = |i: usize, j: usize| if i == j { 0.5 } else { FRAC_1_SQRT_2 };
                for block in p.blocks(&settings).unwrap() {
                    let d = block.pairs.len();
                    let sign = match block.exchange {
                        Exchange::Symmetric => 1.0,
                        Exchange::Antisymmetric => -1.0,
                    };
                    let mut h = vec![f64::NAN; d * d];
                    p.fill_block_matrix(&block, &mut h);
                    for (s, &(k, l)) in block.pairs.iter().enumerate() {
                        for (r, &(i, j)) in block.pairs.iter().enumerate() {
                            let got = h[s * d + r];
                            if r < s {
                                assert!(got.is_nan(), "upper ({r}, {s}) written");
                                continue;
                            }
                            let direct = g.unscaled(i, j, k, l);
                            let exchange = g.unscaled(i, j, l, k);
                            let mut want =
                                2.0 * f(k, l) * f(i, j) * (g.scale * (direct + sign * exchange));
                            if r == s {
                                want += p.energy[k] + p.energy[l];
                            }
                            assert_eq!(got.to_bits(), want.to_bits(), "({i}{j}|{k}{l})");
                        }
                    }
                }
            }
        }
    }

    /// Solves that reuse the block buffers (left by larger blocks of another basis, by the
    /// other exchange sector, by a rescaled copy) give bitwise what a fresh problem gives, and
    /// the pool keeps at most [`POOLED_MATRICES`] buffers, which the memory estimate counts.
    #[test]
    fn reused_block_buffers_change_no_bit_and_are_counted() {
        let settings = CiSettings {
            states: CiStates::below(0.0),
            ..CiSettings::new(10)
        };
        let bits = |e: &SectorEnergies| {
            let all = e.symmetric.iter().chain(&e.antisymmetric);
            all.map(|x| x.to_bits()).collect::<Vec<_>>()
        };
        let state_bits = |c: &CiSpectrum| {
            let all = c.states.iter();
            all.map(|s| [s.energy, s.kinetic, s.leading_weight].map(f64::to_bits))
                .collect::<Vec<_>>()
        };
        let fresh = problem(true, 14);
        assert_eq!(fresh.matrices.retained_elements(), 0);
        let want_energies = bits(&fresh.energies(&settings).unwrap());
        let want_states = state_bits(&problem(true, 14).solve(&settings).unwrap());
        let w = SoftCoulomb::new(1.0, 12.9, 1.0).unwrap();
        let want_rescaled = bits(
            &problem(true, 14)
                .with_interaction(&w)
                .unwrap()
                .energies(&settings)
                .unwrap(),
        );

        let used = problem(true, 14);
        used.energies(&CiSettings::new(14)).unwrap();
        used.solve(&CiSettings::new(14)).unwrap();
        used.count_below(&CiSettings::new(14), 0.0).unwrap();
        let retained = used.matrices.retained_elements();
        let largest = used
            .blocks(&CiSettings::new(14))
            .unwrap()
            .iter()
            .map(|b| b.pairs.len().pow(2))
            .max()
            .unwrap();
        assert!(retained >= largest, "{retained} < {largest}");
        assert!(used.matrices.buffers().len() <= POOLED_MATRICES);
        for _ in 0..2 {
            assert_eq!(bits(&used.energies(&settings).unwrap()), want_energies);
            assert_eq!(state_bits(&used.solve(&settings).unwrap()), want_states);
        }
        let copy = used.with_interaction(&w).unwrap();
        assert_eq!(bits(&copy.energies(&settings).unwrap()), want_rescaled);
        // The copy shares the pool: what it handed back is there for the original.
        assert!(Arc::ptr_eq(&copy.matrices.0, &used.matrices.0));
    }
}
