//! Two electrons on the (x₁, x₂) grid: the direct check of the configuration-interaction solver.
//!
//! With the one-particle operator H₁ of [`crate::model::hamiltonian`] in its symmetrized form
//! H̃₁ (diagonal d_j, off-diagonal o_j, amplitudes φ_j = √w_j ψ_j with the dual widths w_j), the
//! two-particle Hamiltonian on the product of interior nodes is
//!
//!   H = H̃₁ ⊗ I + I ⊗ H̃₁ + diag W(x_a − x_b),   W(r) = λ / (ε_r √(r² + s²))  (Hartree).
//!
//! The symmetrization is a diagonal similarity (W^{½} ⊗ W^{½}) that commutes with the diagonal
//! W, so W enters unchanged. H commutes with the exchange P|a,b⟩ = |b,a⟩, and is solved in each
//! exchange sector separately:
//!
//! * symmetric (spin singlet, multiplicity 1): basis |a,a⟩ and (|a,b⟩ + |b,a⟩)/√2 for a < b,
//!   dimension N(N+1)/2;
//! * antisymmetric (spin triplet, multiplicity 3): (|a,b⟩ − |b,a⟩)/√2 for a < b, dimension
//!   N(N−1)/2.
//!
//! In these orthonormal bases the sector matrix is symmetric with diagonal d_a + d_b + W_ab and
//! nearest-neighbour couplings o (moving one particle by one node); in the symmetric sector a
//! coupling between |a,a⟩ and (a−1,a) or (a,a+1) carries an extra √2. Nearest-neighbour moves
//! never exchange the order a < b, so no signs appear in the antisymmetric sector.
//!
//! The lowest k states of a sector are found by shift-invert: σ is a rigorous lower bound of the
//! sector spectrum, σ = e₀ + e₀ (symmetric) or e₀ + e₁ (antisymmetric) of the discrete H̃₁, plus
//! min W ≥ 0, minus a margin; H − σI is then positive definite and factored by faer's sparse
//! Cholesky (AMD ordering), and the thick-restart Lanczos ([`crate::eigen::lanczos`]) finds the
//! k largest eigenvalues of (H − σI)⁻¹.
//!
//! For every state the energy is the Rayleigh quotient in difference form,
//! E = ⟨K₁ + K₂⟩ + ⟨V₁ + V₂⟩ + ⟨W⟩, with ⟨K₁⟩ = Σ_b w_b Σ_i c_i (ψ(i+1, b) − ψ(i, b))²
//! (c_i = 1/(2 m_i h_i), ψ(a, b) = φ(a, b)/√(w_a w_b), ψ = 0 on the walls), ⟨V₁ + V₂⟩ =
//! Σ φ(a,b)² (V_a + V_b) and ⟨W⟩ = Σ φ(a,b)² W_ab; the residual ‖Hv − Ev‖ is computed with H.
//!
//! Memory is checked before anything large is built ([`estimate_memory`], with the Cholesky fill
//! fitted to measurements) and again, exactly, after the symbolic factorization; over the
//! caller's limit the solve stops with [`CoulombError::Memory`].

use super::{CoulombError, Exchange, SoftCoulomb};
use crate::eigen::lanczos::{lowest_above_shift, LanczosOptions};
use crate::eigen::{lowest_eigenpairs, SolverOptions};
use crate::model::grid::Grid;
use crate::model::hamiltonian::Hamiltonian;
use crate::model::potential::Potential;
use crate::physics::many_body::Spin;
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, LltRef, SymbolicCholesky, SymbolicCholeskyRaw, SymmetricOrdering,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, Mat, Par, Side};
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

/// Fitted Cholesky fill: entries of L ≈ `FILL_COEFFICIENT` · D^`FILL_EXPONENT` for a sector of
/// dimension D (faer 0.24, AMD ordering). Measured on the square-well sectors with h = 0.25 bohr:
/// D = 3 160 → 41 919 entries, 12 720 → 240 706, 28 680 → 889 287, 64 620 → 2 328 724,
/// 114 960 → 4 608 846, i.e. nnz(L)/D^1.25 between 1.7 and 2.4; the coefficient is the upper
/// envelope (the ignored release test `fill_model_bounds_the_measured_factor` checks it).
pub const FILL_COEFFICIENT: f64 = 2.6;
/// Exponent of the fitted fill model (see [`FILL_COEFFICIENT`]).
pub const FILL_EXPONENT: f64 = 1.25;

/// The pair basis of one exchange sector on N interior nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectorBasis {
    nodes: usize,
    exchange: Exchange,
}

impl SectorBasis {
    /// The basis of sector `exchange` on `nodes` = N interior nodes per axis.
    pub fn new(nodes: usize, exchange: Exchange) -> Self {
        Self { nodes, exchange }
    }

    /// N, interior nodes per axis.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The exchange symmetry of the sector.
    pub fn exchange(&self) -> Exchange {
        self.exchange
    }

    /// Sector dimension: N(N+1)/2 (symmetric) or N(N−1)/2 (antisymmetric).
    pub fn dimension(&self) -> usize {
        let n = self.nodes;
        match self.exchange {
            Exchange::Symmetric => n * (n + 1) / 2,
            Exchange::Antisymmetric => n * n.saturating_sub(1) / 2,
        }
    }

    /// Whether the ordered pair (a, b) is a basis state (a ≤ b or a < b, both < N).
    pub fn contains(&self, a: usize, b: usize) -> bool {
        b < self.nodes
            && match self.exchange {
                Exchange::Symmetric => a <= b,
                Exchange::Antisymmetric => a < b,
            }
    }

    /// Index of the basis state (a, b) (which must satisfy [`Self::contains`]).
    fn index_unchecked(&self, a: usize, b: usize) -> usize {
        let n = self.nodes;
        match self.exchange {
            Exchange::Symmetric => a * n - a * a.saturating_sub(1) / 2 + (b - a),
            Exchange::Antisymmetric => a * (n - 1) - a * a.saturating_sub(1) / 2 + (b - a - 1),
        }
    }

    /// Index of the basis state (a, b), or `None` when (a, b) is not one.
    pub fn index(&self, a: usize, b: usize) -> Option<usize> {
        self.contains(a, b).then(|| self.index_unchecked(a, b))
    }

    /// The pairs (a, b) in index order.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let n = self.nodes;
        let first = match self.exchange {
            Exchange::Symmetric => 0,
            Exchange::Antisymmetric => 1,
        };
        (0..n).flat_map(move |a| (a + first..n).map(move |b| (a, b)))
    }

    /// Sector coefficients → symmetrized product-grid amplitudes φ(a, b), row-major N × N
    /// (entry a·N + b), so that Σ φ² = Σ c² and φ(b, a) = ±φ(a, b).
    pub fn expand(&self, coefficients: &[f64]) -> Vec<f64> {
        let n = self.nodes;
        let mut phi = vec![0.0; n * n];
        let sign = match self.exchange {
            Exchange::Symmetric => 1.0,
            Exchange::Antisymmetric => -1.0,
        };
        for ((a, b), &c) in self.pairs().zip(coefficients) {
            if a == b {
                phi[a * n + a] = c;
            } else {
                let v = c * std::f64::consts::FRAC_1_SQRT_2;
                phi[a * n + b] = v;
                phi[b * n + a] = sign * v;
            }
        }
        phi
    }

    /// Coupling factor between (a, b) and a neighbour (a′, b′): √2 in the symmetric sector
    /// when exactly one of the two is a diagonal pair, else 1.
    fn factor(&self, diagonal_pair: bool) -> f64 {
        if diagonal_pair && self.exchange == Exchange::Symmetric {
            std::f64::consts::SQRT_2
        } else {
            1.0
        }
    }
}

/// The sector matrix of H = H̃₁ ⊗ I + I ⊗ H̃₁ + W (Hartree), applied matrix-free or assembled.
#[derive(Debug, Clone)]
pub struct SectorHamiltonian {
    basis: SectorBasis,
    /// d_a + d_b + W_ab for every basis state (Hartree).
    diag: Vec<f64>,
    /// W_ab for every basis state (Hartree).
    interaction: Vec<f64>,
    /// Off-diagonal o_j of H̃₁ (Hartree).
    off: Vec<f64>,
}

impl SectorHamiltonian {
    /// Builds the sector matrix from the one-particle Hamiltonian `h1` on `grid` and the
    /// interaction.
    pub fn new(
        h1: &Hamiltonian,
        grid: &Grid,
        interaction: &SoftCoulomb,
        exchange: Exchange,
    ) -> Result<Self, CoulombError> {
        let n = h1.len();
        if grid.interior_len() != n {
            return Err(CoulombError::Input(format!(
                "the grid has {} interior nodes but the one-particle Hamiltonian {}",
                grid.interior_len(),
                n
            )));
        }
        let basis = SectorBasis::new(n, exchange);
        if basis.dimension() == 0 {
            return Err(CoulombError::Input(format!(
                "the {} sector is empty on a grid with {n} interior node(s); refine the grid",
                exchange.spin_name()
            )));
        }
        let x = grid.interior();
        let d = &h1.matrix.diag;
        let interaction_diag: Vec<f64> = basis
            .pairs()
            .map(|(a, b)| interaction.at_separation(x[a] - x[b]))
            .collect();
        let diag = basis
            .pairs()
            .zip(&interaction_diag)
            .map(|((a, b), w)| d[a] + d[b] + w)
            .collect();
        Ok(Self {
            basis,
            diag,
            interaction: interaction_diag,
            off: h1.matrix.off.clone(),
        })
    }

    /// The pair basis.
    pub fn basis(&self) -> &SectorBasis {
        &self.basis
    }

    /// Sector dimension D.
    pub fn dimension(&self) -> usize {
        self.diag.len()
    }

    /// The diagonal d_a + d_b + W_ab (Hartree).
    pub fn diagonal(&self) -> &[f64] {
        &self.diag
    }

    /// min W_ab over the basis states (Hartree).
    pub fn min_interaction(&self) -> f64 {
        self.interaction
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
    }

    /// Stored entries of the upper triangle (diagonal included).
    pub fn upper_nnz(&self) -> usize {
        let bs = &self.basis;
        bs.pairs()
            .map(|(a, b)| 1 + usize::from(a >= 1) + usize::from(b >= 1 && bs.contains(a, b - 1)))
            .sum()
    }

    /// y = H x (Hartree × unit of x), matrix-free.
    pub fn apply(&self, x: &[f64], y: &mut [f64]) {
        let bs = &self.basis;
        let n = bs.nodes;
        let o = &self.off;
        for (idx, (a, b)) in bs.pairs().enumerate() {
            let mut s = self.diag[idx] * x[idx];
            if a >= 1 {
                s += o[a - 1] * bs.factor(a == b) * x[bs.index_unchecked(a - 1, b)];
            }
            if bs.contains(a + 1, b) {
                s += o[a] * bs.factor(a + 1 == b) * x[bs.index_unchecked(a + 1, b)];
            }
            if b >= 1 && bs.contains(a, b - 1) {
                s += o[b - 1] * bs.factor(b - 1 == a) * x[idx - 1];
            }
            if b + 1 < n {
                s += o[b] * bs.factor(a == b) * x[idx + 1];
            }
            y[idx] = s;
        }
    }

    /// The upper triangle of H − σI in compressed sparse columns: (column pointers, row
    /// indices, values), rows sorted in each column.
    pub fn upper_csc(&self, shift: f64) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
        let bs = &self.basis;
        let dim = self.dimension();
        let nnz = self.upper_nnz();
        let mut col_ptr = Vec::with_capacity(dim + 1);
        let mut rows = Vec::with_capacity(nnz);
        let mut vals = Vec::with_capacity(nnz);
        col_ptr.push(0);
        for (idx, (a, b)) in bs.pairs().enumerate() {
            // Rows in increasing order: (a−1, b) < (a, b−1) < (a, b).
            if a >= 1 {
                rows.push(bs.index_unchecked(a - 1, b));
                vals.push(self.off[a - 1] * bs.factor(a == b));
            }
            if b >= 1 && bs.contains(a, b - 1) {
                rows.push(idx - 1);
                vals.push(self.off[b - 1] * bs.factor(b - 1 == a));
            }
            rows.push(idx);
            vals.push(self.diag[idx] - shift);
            col_ptr.push(rows.len());
        }
        (col_ptr, rows, vals)
    }

    /// The dense sector matrix (Hartree): for tests and small grids only (D² entries).
    pub fn to_dense(&self) -> Mat<f64> {
        let dim = self.dimension();
        let mut m = Mat::<f64>::zeros(dim, dim);
        let mut e = vec![0.0; dim];
        let mut col = vec![0.0; dim];
        for j in 0..dim {
            e[j] = 1.0;
            self.apply(&e, &mut col);
            e[j] = 0.0;
            for (i, v) in col.iter().enumerate() {
                m[(i, j)] = *v;
            }
        }
        m
    }
}

/// Settings of the 2-D grid solve.
#[derive(Debug, Clone, PartialEq)]
pub struct GridOptions {
    /// Lowest states wanted per sector (≥ 1, ≤ the sector dimension).
    pub levels: usize,
    /// Refuse the solve when it would need more than this many bytes.
    pub memory_limit_bytes: u64,
    /// Shift σ (Hartree) below the wanted states; `None` = the rigorous lower bound
    /// e₀ + e₀ (or e₀ + e₁) + min W minus a margin, which keeps H − σI positive definite.
    pub shift: Option<f64>,
    /// Settings of the thick-restart Lanczos.
    pub lanczos: LanczosOptions,
}

impl Default for GridOptions {
    /// 20 levels, 4 GiB, automatic shift, default Lanczos.
    fn default() -> Self {
        Self {
            levels: 20,
            memory_limit_bytes: 4 << 30,
            shift: None,
            lanczos: LanczosOptions::default(),
        }
    }
}

/// One two-electron state of a sector (energies in Hartree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridState {
    /// E = ⟨K₁ + K₂⟩ + ⟨V₁ + V₂⟩ + ⟨W⟩ (Hartree).
    pub energy: f64,
    /// ⟨K₁ + K₂⟩ in difference form (Hartree).
    pub kinetic: f64,
    /// ⟨V₁ + V₂⟩ (Hartree).
    pub potential: f64,
    /// ⟨W⟩ (Hartree).
    pub interaction: f64,
    /// ‖Hv − Ev‖₂ of the unit sector vector, computed with H (Hartree).
    pub residual: f64,
    /// Spin states per spatial state: 1 (singlet, symmetric) or 3 (triplet, antisymmetric).
    pub multiplicity: u64,
}

/// Wall-clock time of each stage of a sector solve (seconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SectorTimings {
    /// One-particle bound, sector matrix and sparse assembly (s).
    pub assembly_s: f64,
    /// Fill-reducing ordering and symbolic factorization (s).
    pub ordering_s: f64,
    /// Numeric Cholesky factorization (s).
    pub factorization_s: f64,
    /// Eigen-solver: Lanczos (or ARPACK) iterations with the solves (s).
    pub eigensolver_s: f64,
    /// Part of `eigensolver_s` spent in the sparse triangular solves with the factor (s).
    pub solves_s: f64,
    /// Rayleigh quotients, residuals and ⟨K⟩, ⟨V⟩, ⟨W⟩ (s).
    pub observables_s: f64,
}

/// Memory of a sector solve, by component (bytes).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MemoryUse {
    /// Sector dimension D.
    pub dimension: usize,
    /// Stored entries of the upper triangle of the sector matrix.
    pub matrix_nnz: usize,
    /// Entries of the Cholesky factor L.
    pub factor_entries: usize,
    /// Sparse matrix plus the matrix-free diagonals (bytes).
    pub matrix_bytes: u64,
    /// Cholesky factor: values, indices, permutation (bytes).
    pub factor_bytes: u64,
    /// Scratch of the numeric factorization (bytes).
    pub factor_scratch_bytes: u64,
    /// Lanczos basis, restart copy and the returned vectors (bytes).
    pub eigensolver_bytes: u64,
    /// Sum of the above (bytes).
    pub total_bytes: u64,
    /// True when the factor size is the exact symbolic count, false when it is the fitted model.
    pub factor_measured: bool,
}

/// The lowest states of one exchange sector with the solver's diagnostics.
#[derive(Clone)]
pub struct SectorSolution {
    /// Which sector.
    pub exchange: Exchange,
    /// Interior nodes per axis N.
    pub nodes: usize,
    /// Sector dimension D.
    pub dimension: usize,
    /// The shift σ (Hartree).
    pub shift: f64,
    /// The states, ascending in energy.
    pub states: Vec<GridState>,
    /// Stage timings.
    pub timings: SectorTimings,
    /// Memory, with the exact factor size.
    pub memory: MemoryUse,
    /// Memory as estimated before assembly (fitted fill).
    pub estimated_memory: MemoryUse,
    /// Eigen-solver used ("thick-restart Lanczos" or "ARPACK dsaupd").
    pub solver: &'static str,
    /// Restarts (Lanczos) or implicit restarts (ARPACK).
    pub restarts: usize,
    /// Solves with H − σI.
    pub operator_applications: usize,
    /// Column-major D × k unit sector vectors (symmetrized basis).
    vectors: Vec<f64>,
}

impl std::fmt::Debug for SectorSolution {
    /// Everything but the D × k vectors (their length only).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SectorSolution")
            .field("exchange", &self.exchange)
            .field("nodes", &self.nodes)
            .field("dimension", &self.dimension)
            .field("shift", &self.shift)
            .field("states", &self.states)
            .field("timings", &self.timings)
            .field("memory", &self.memory)
            .field("estimated_memory", &self.estimated_memory)
            .field("solver", &self.solver)
            .field("restarts", &self.restarts)
            .field("operator_applications", &self.operator_applications)
            .field("vectors", &format_args!("[{} values]", self.vectors.len()))
            .finish()
    }
}

impl SectorSolution {
    /// The energies (Hartree), ascending.
    pub fn energies(&self) -> Vec<f64> {
        self.states.iter().map(|s| s.energy).collect()
    }

    /// Sector coefficients of state i (unit 2-norm; expand with [`SectorBasis::expand`]).
    pub fn vector(&self, i: usize) -> &[f64] {
        &self.vectors[i * self.dimension..(i + 1) * self.dimension]
    }

    /// The pair basis of the sector.
    pub fn basis(&self) -> SectorBasis {
        SectorBasis::new(self.nodes, self.exchange)
    }

    /// max_i ‖Hv_i − E_i v_i‖ (Hartree).
    pub fn max_residual(&self) -> f64 {
        self.states.iter().map(|s| s.residual).fold(0.0, f64::max)
    }
}

/// Both sectors.
#[derive(Debug, Clone)]
pub struct GridSolution {
    /// Spatially symmetric states (spin singlet).
    pub symmetric: SectorSolution,
    /// Spatially antisymmetric states (spin triplet).
    pub antisymmetric: SectorSolution,
}

/// Lanczos basis size used for `levels` wanted states (the default of [`LanczosOptions`]).
fn basis_size(levels: usize, dimension: usize, options: &LanczosOptions) -> usize {
    options
        .basis_size
        .unwrap_or((2 * levels + 16).max(levels + 24))
        .min(dimension)
}

fn eigensolver_bytes(dimension: usize, levels: usize, basis: usize) -> u64 {
    // Basis with the frontier, its restart copy, the Ritz vectors twice (the Lanczos result and
    // the sorted copy) and the returned vectors, plus a few work vectors.
    let vectors = 2 * (basis + 3) + 3 * levels + 6;
    (vectors * dimension * 8) as u64
}

fn matrix_bytes(dimension: usize, nnz: usize) -> u64 {
    // CSC (pointers, rows, values) + two diagonals of the matrix-free operator.
    ((dimension + 1) * 8 + nnz * 16 + 2 * dimension * 8) as u64
}

/// Memory the solve of one sector on `nodes` interior nodes per axis would need, with the
/// Cholesky fill from the fitted model [`FILL_COEFFICIENT`] · D^[`FILL_EXPONENT`] (bytes).
pub fn estimate_memory(nodes: usize, exchange: Exchange, options: &GridOptions) -> MemoryUse {
    let basis = SectorBasis::new(nodes, exchange);
    let dim = basis.dimension();
    let nnz = 3 * dim;
    let fill = (FILL_COEFFICIENT * (dim as f64).powf(FILL_EXPONENT)).ceil() as usize;
    let fill = fill.max(nnz);
    let matrix_bytes = matrix_bytes(dim, nnz);
    // Values plus (supernodal) indices, a quarter of the values at most, and the permutations.
    let factor_bytes = (fill * 10 + dim * 32) as u64;
    // Scratch: the largest front is about the separator √(2D) squared, plus O(D) index work.
    let front = (2.0 * dim as f64).sqrt().ceil() as usize;
    let factor_scratch_bytes = (front * front * 8 + dim * 64 + nnz * 16) as u64;
    let m = basis_size(options.levels, dim, &options.lanczos);
    let eigensolver_bytes = eigensolver_bytes(dim, options.levels, m);
    MemoryUse {
        dimension: dim,
        matrix_nnz: nnz,
        factor_entries: fill,
        matrix_bytes,
        factor_bytes,
        factor_scratch_bytes,
        eigensolver_bytes,
        total_bytes: matrix_bytes + factor_bytes + factor_scratch_bytes + eigensolver_bytes,
        factor_measured: false,
    }
}

fn memory_error(memory: &MemoryUse, limit: u64, exchange: Exchange, grid: &Grid) -> CoulombError {
    let h = grid.max_spacing();
    let l = 0.5 * (grid.nodes().last().copied().unwrap_or(0.0) - grid.nodes()[0]);
    // Memory grows like D^1.25 ∝ (L/h)^2.5 (the factor dominates): a spacing larger by
    // (need/limit)^(1/2.5) (with 10 % slack) or a box smaller by the same factor fits.
    let factor = ((memory.total_bytes as f64 / limit.max(1) as f64).powf(0.4) * 1.1).max(1.0);
    CoulombError::Memory {
        sector: exchange.spin_name(),
        needed_bytes: memory.total_bytes,
        limit_bytes: limit,
        dimension: memory.dimension,
        detail: format!(
            "sparse matrix {:.1} MiB, Cholesky factor {:.1} MiB ({} entries, {}), factorization scratch {:.1} MiB, Lanczos vectors {:.1} MiB",
            mib(memory.matrix_bytes),
            mib(memory.factor_bytes),
            memory.factor_entries,
            if memory.factor_measured { "exact" } else { "estimated" },
            mib(memory.factor_scratch_bytes),
            mib(memory.eigensolver_bytes)
        ),
        spacing: h,
        suggested_spacing: h * factor,
        box_half_width: l,
        suggested_box_half_width: l / factor,
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

/// The Cholesky factorization of H − σI and a reusable solve workspace.
struct Factor {
    symbolic: SymbolicCholesky<usize>,
    values: Vec<f64>,
    scratch: MemBuffer,
    rhs: Mat<f64>,
    /// Time spent in [`Factor::solve`] (s).
    elapsed: f64,
}

impl Factor {
    /// y = (H − σI)⁻¹ x.
    fn solve(&mut self, x: &[f64], y: &mut [f64]) {
        let start = Instant::now();
        let n = x.len();
        for (i, v) in x.iter().enumerate() {
            self.rhs[(i, 0)] = *v;
        }
        LltRef::<'_, usize, f64>::new(&self.symbolic, &self.values).solve_in_place_with_conj(
            Conj::No,
            self.rhs.as_mut(),
            // One right-hand side: the sequential supernodal solve was as fast as the rayon
            // one on 2 cores (and is reproducible).
            Par::Seq,
            MemStack::new(&mut self.scratch),
        );
        for (i, v) in y.iter_mut().enumerate().take(n) {
            *v = self.rhs[(i, 0)];
        }
        self.elapsed += start.elapsed().as_secs_f64();
    }
}

/// Everything up to the eigen-solve: the sector matrix, its factorization and the bookkeeping.
struct Prepared {
    h1: Hamiltonian,
    sector: SectorHamiltonian,
    factor: Factor,
    shift: f64,
    timings: SectorTimings,
    memory: MemoryUse,
    estimated_memory: MemoryUse,
}

fn check_levels(levels: usize, dimension: usize, exchange: Exchange) -> Result<(), CoulombError> {
    if levels == 0 || levels > dimension {
        return Err(CoulombError::Levels {
            requested: levels,
            dimension,
            sector: exchange.spin_name(),
        });
    }
    Ok(())
}

/// Assembles the sector matrix, checks the memory before (estimated) and after (measured by
/// the symbolic analysis) the ordering, and factorizes H − σI.
fn prepare(problem: &SectorProblem<'_>) -> Result<Prepared, CoulombError> {
    let SectorProblem {
        potential,
        grid,
        mass,
        interaction,
        exchange,
        options,
    } = *problem;
    let t0 = Instant::now();
    let out_of_memory =
        |memory: &MemoryUse| memory_error(memory, options.memory_limit_bytes, exchange, grid);
    let nodes = grid.interior_len();
    let basis = SectorBasis::new(nodes, exchange);
    check_levels(options.levels, basis.dimension(), exchange)?;
    let estimated_memory = estimate_memory(nodes, exchange, options);
    if estimated_memory.total_bytes > options.memory_limit_bytes {
        return Err(out_of_memory(&estimated_memory));
    }
    let h1 = Hamiltonian::new(potential, grid, mass)?;
    let sector = SectorHamiltonian::new(&h1, grid, interaction, exchange)?;
    let shift = sector_shift(options.shift, &h1, &sector, exchange)?;
    let dim = sector.dimension();
    let (col_ptr, rows, vals) = sector.upper_csc(shift);
    let nnz = rows.len();
    let symbolic_matrix = SymbolicSparseColMatRef::new_checked(dim, dim, &col_ptr, None, &rows);
    let a = SparseColMatRef::<'_, usize, f64>::new(symbolic_matrix, &vals);
    let mut timings = SectorTimings {
        assembly_s: t0.elapsed().as_secs_f64(),
        ..Default::default()
    };

    let t1 = Instant::now();
    let symbolic = factorize_symbolic_cholesky(
        a.symbolic(),
        Side::Upper,
        SymmetricOrdering::Amd,
        Default::default(),
    )
    .map_err(|e| CoulombError::Factorization(format!("symbolic analysis failed: {e:?}")))?;
    timings.ordering_s = t1.elapsed().as_secs_f64();
    let (memory, numeric_req, solve_req) = measured_memory(&symbolic, dim, nnz, options);
    if memory.total_bytes > options.memory_limit_bytes {
        return Err(out_of_memory(&memory));
    }

    let t2 = Instant::now();
    let values = numeric_cholesky(&symbolic, a, shift, numeric_req, || out_of_memory(&memory))?;
    timings.factorization_s = t2.elapsed().as_secs_f64();
    let scratch =
        MemBuffer::try_new(solve_req.or(StackReq::empty())).map_err(|_| out_of_memory(&memory))?;
    Ok(Prepared {
        h1,
        sector,
        factor: Factor {
            symbolic,
            values,
            scratch,
            rhs: Mat::zeros(dim, 1),
            elapsed: 0.0,
        },
        shift,
        timings,
        memory,
        estimated_memory,
    })
}

/// Sequential: a threaded supernodal factorization may sum its updates in an order set by
/// the thread count, and the grid check must not depend on the machine (on 2 cores the
/// threaded factorization saved no wall time for configs/coulomb_check.toml).
const FACTORIZATION_PAR: Par = Par::Seq;

/// The shift σ (Hartree) of H − σI: `shift` when given (it must be finite), else
/// [`lower_bound`] of the sector.
fn sector_shift(
    shift: Option<f64>,
    h1: &Hamiltonian,
    sector: &SectorHamiltonian,
    exchange: Exchange,
) -> Result<f64, CoulombError> {
    match shift {
        Some(s) if s.is_finite() => Ok(s),
        Some(s) => Err(CoulombError::Input(format!(
            "the shift must be a finite energy in Hartree, got {s}"
        ))),
        None => lower_bound(h1, sector, exchange),
    }
}

/// The memory (bytes) of the solve as the symbolic Cholesky analysis of the `dim` × `dim`
/// matrix with `nnz` stored upper entries measures it, with the scratch requirements of the
/// numeric factorization and of one solve.
fn measured_memory(
    symbolic: &SymbolicCholesky<usize>,
    dim: usize,
    nnz: usize,
    options: &GridOptions,
) -> (MemoryUse, StackReq, StackReq) {
    let factor_entries = symbolic.len_val();
    let factor_indices = match symbolic.raw() {
        SymbolicCholeskyRaw::Simplicial(s) => s.row_idx().len(),
        SymbolicCholeskyRaw::Supernodal(s) => s.row_idx().len(),
    };
    let numeric_req =
        symbolic.factorize_numeric_llt_scratch::<f64>(FACTORIZATION_PAR, Default::default());
    let solve_req = symbolic.solve_in_place_scratch::<f64>(1, Par::Seq);
    let matrix_bytes = matrix_bytes(dim, nnz);
    let factor_bytes = ((factor_entries + factor_indices) * 8 + dim * 32) as u64;
    let factor_scratch_bytes = numeric_req.size_bytes().max(solve_req.size_bytes()) as u64;
    let m = basis_size(options.levels, dim, &options.lanczos);
    let eig_bytes = eigensolver_bytes(dim, options.levels, m);
    let memory = MemoryUse {
        dimension: dim,
        matrix_nnz: nnz,
        factor_entries,
        matrix_bytes,
        factor_bytes,
        factor_scratch_bytes,
        eigensolver_bytes: eig_bytes,
        total_bytes: matrix_bytes + factor_bytes + factor_scratch_bytes + eig_bytes,
        factor_measured: true,
    };
    (memory, numeric_req, solve_req)
}

/// The values of the Cholesky factor of `a` = H − σI (upper triangle stored, σ = `shift`
/// Hartree); `out_of_memory` is the error when its memory cannot be allocated.
fn numeric_cholesky(
    symbolic: &SymbolicCholesky<usize>,
    a: SparseColMatRef<'_, usize, f64>,
    shift: f64,
    numeric_req: StackReq,
    out_of_memory: impl Fn() -> CoulombError,
) -> Result<Vec<f64>, CoulombError> {
    let factor_entries = symbolic.len_val();
    let mut values = Vec::new();
    values
        .try_reserve_exact(factor_entries)
        .map_err(|_| out_of_memory())?;
    values.resize(factor_entries, 0.0);
    let mut numeric_scratch = MemBuffer::try_new(numeric_req).map_err(|_| out_of_memory())?;
    symbolic
        .factorize_numeric_llt::<f64>(
            &mut values,
            a,
            Side::Upper,
            Default::default(),
            FACTORIZATION_PAR,
            MemStack::new(&mut numeric_scratch),
            Default::default(),
        )
        .map_err(|e| {
            CoulombError::Factorization(format!(
                "H − σI with σ = {shift} Ha is not positive definite ({e:?}): the shift must lie below the lowest state of the sector"
            ))
        })?;
    Ok(values)
}

/// e₀ + e₀ (symmetric) or e₀ + e₁ (antisymmetric) of H̃₁, plus min W, minus a margin: every
/// state of the sector lies above it (W ≥ min W; the sector spectrum of H̃₁ ⊗ I + I ⊗ H̃₁ starts
/// at those sums).
fn lower_bound(
    h1: &Hamiltonian,
    sector: &SectorHamiltonian,
    exchange: Exchange,
) -> Result<f64, CoulombError> {
    let n = h1.len();
    let pairs = lowest_eigenpairs(&h1.matrix, 2.min(n), &SolverOptions::default())
        .map_err(|e| CoulombError::Factorization(format!("one-particle levels: {e}")))?;
    let e0 = pairs.values[0];
    let e1 = pairs.values.get(1).copied().unwrap_or(e0);
    let base = match exchange {
        Exchange::Symmetric => 2.0 * e0,
        Exchange::Antisymmetric => e0 + e1,
    };
    // The margin covers the one-particle eigenvalue error (∼ ε‖H̃₁‖) many times over and keeps
    // the factorization well conditioned; a tenth of the one-particle gap keeps σ close.
    let norm = h1.matrix.norm_bound();
    let margin = (0.1 * (e1 - e0))
        .max(1e-10 * norm)
        .max(1e3 * f64::EPSILON * norm);
    Ok(base + sector.min_interaction().max(0.0) - margin)
}

/// Energies, residuals and expectation values of unit sector vectors.
fn observables(
    prepared: &Prepared,
    vectors: &[f64],
    k: usize,
    exchange: Exchange,
) -> Vec<GridState> {
    let sector = &prepared.sector;
    let h1 = &prepared.h1;
    let basis = *sector.basis();
    let n = basis.nodes();
    let dim = sector.dimension();
    let w = h1.dual_widths();
    let v = h1.potential_on_nodes();
    // Spin ½ electrons: both sectors have a multiplicity (1 and 3).
    let multiplicity = exchange.multiplicity(Spin::Half).unwrap_or(1);
    (0..k)
        .into_par_iter()
        .map(|i| {
            let c = &vectors[i * dim..(i + 1) * dim];
            let phi = basis.expand(c);
            let norm2: f64 = phi.iter().map(|x| x * x).sum();
            // ψ(a, b) = φ(a, b)/√(w_a w_b), normalized.
            let mut psi = vec![0.0; n * n];
            for a in 0..n {
                for b in 0..n {
                    psi[a * n + b] = phi[a * n + b] / (w[a] * w[b] * norm2).sqrt();
                }
            }
            let mut kinetic = 0.0;
            let mut column = vec![0.0; n];
            for b in 0..n {
                // K₁ along a for fixed b, and K₂ along b for fixed a (= row b of ψ).
                for a in 0..n {
                    column[a] = psi[a * n + b];
                }
                kinetic += w[b] * h1.kinetic_energy(&column);
                kinetic += w[b] * h1.kinetic_energy(&psi[b * n..(b + 1) * n]);
            }
            let mut potential = 0.0;
            for a in 0..n {
                for b in 0..n {
                    potential += phi[a * n + b] * phi[a * n + b] * (v[a] + v[b]);
                }
            }
            potential /= norm2;
            let cn2: f64 = c.iter().map(|x| x * x).sum();
            let interaction: f64 = c
                .iter()
                .zip(&sector.interaction)
                .map(|(x, wab)| x * x * wab)
                .sum::<f64>()
                / cn2;
            let energy = kinetic + potential + interaction;
            let mut hc = vec![0.0; dim];
            sector.apply(c, &mut hc);
            let residual = hc
                .iter()
                .zip(c)
                .map(|(h, x)| {
                    let d = h - energy * x;
                    d * d
                })
                .sum::<f64>()
                .sqrt()
                / cn2.sqrt();
            GridState {
                energy,
                kinetic,
                potential,
                interaction,
                residual,
                multiplicity,
            }
        })
        .collect()
}

/// The `options.levels` lowest states of the `exchange` sector of two electrons of mass `mass`
/// (mₑ) in `potential` on the product of `grid`'s interior nodes, with the interaction
/// `interaction` (energies in Hartree).
pub fn solve_sector(
    potential: &Potential,
    grid: &Grid,
    mass: f64,
    interaction: &SoftCoulomb,
    exchange: Exchange,
    options: &GridOptions,
) -> Result<SectorSolution, CoulombError> {
    let problem = SectorProblem {
        potential,
        grid,
        mass,
        interaction,
        exchange,
        options,
    };
    solve_prepared(&problem, "thick-restart Lanczos", |prepared, k, dim| {
        let shift = prepared.shift;
        let Prepared { factor, sector, .. } = prepared;
        let pairs = lowest_above_shift(
            dim,
            k,
            shift,
            |x, y| factor.solve(x, y),
            |x, y| sector.apply(x, y),
            &options.lanczos,
        )?;
        Ok(SectorEigenvectors {
            vectors: pairs.vectors,
            restarts: pairs.restarts,
            operator_applications: pairs.operator_applications,
        })
    })
}

/// The arguments of one sector solve: two electrons of mass `mass` (mₑ) in `potential` on
/// `grid`, interacting through `interaction`, in the `exchange` sector.
#[derive(Clone, Copy)]
struct SectorProblem<'a> {
    potential: &'a Potential,
    grid: &'a Grid,
    mass: f64,
    interaction: &'a SoftCoulomb,
    exchange: Exchange,
    options: &'a GridOptions,
}

/// What an eigensolver of the shift-inverted sector gives back: k unit vectors (column after
/// column, dimension each) and its work counts.
struct SectorEigenvectors {
    vectors: Vec<f64>,
    restarts: usize,
    operator_applications: usize,
}

/// The part every sector solve shares: [`prepare`], the timed `eigensolve` (given the prepared
/// sector, k levels and the dimension), then the observables and their sorting ([`finish`]).
fn solve_prepared(
    problem: &SectorProblem<'_>,
    solver: &'static str,
    eigensolve: impl FnOnce(&mut Prepared, usize, usize) -> Result<SectorEigenvectors, CoulombError>,
) -> Result<SectorSolution, CoulombError> {
    let mut prepared = prepare(problem)?;
    let k = problem.options.levels;
    let dim = prepared.sector.dimension();
    let t = Instant::now();
    let found = eigensolve(&mut prepared, k, dim)?;
    prepared.timings.eigensolver_s = t.elapsed().as_secs_f64();
    prepared.timings.solves_s = prepared.factor.elapsed;
    finish(
        prepared,
        found.vectors,
        k,
        problem.exchange,
        solver,
        found.restarts,
        found.operator_applications,
    )
}

fn finish(
    mut prepared: Prepared,
    vectors: Vec<f64>,
    k: usize,
    exchange: Exchange,
    solver: &'static str,
    restarts: usize,
    operator_applications: usize,
) -> Result<SectorSolution, CoulombError> {
    let t = Instant::now();
    let mut states = observables(&prepared, &vectors, k, exchange);
    let dim = prepared.sector.dimension();
    // Sort by energy (the Rayleigh quotients in difference form), vectors alongside.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| states[a].energy.total_cmp(&states[b].energy));
    let mut sorted = vec![0.0; vectors.len()];
    for (dst, &i) in sorted.chunks_exact_mut(dim).zip(&order) {
        dst.copy_from_slice(&vectors[i * dim..(i + 1) * dim]);
    }
    states = order.iter().map(|&i| states[i].clone()).collect();
    prepared.timings.observables_s = t.elapsed().as_secs_f64();
    Ok(SectorSolution {
        exchange,
        nodes: prepared.sector.basis().nodes(),
        dimension: dim,
        shift: prepared.shift,
        states,
        timings: prepared.timings,
        memory: prepared.memory,
        estimated_memory: prepared.estimated_memory,
        solver,
        restarts,
        operator_applications,
        vectors: sorted,
    })
}

/// Both sectors: [`solve_sector`] for the symmetric and the antisymmetric sector.
pub fn solve(
    potential: &Potential,
    grid: &Grid,
    mass: f64,
    interaction: &SoftCoulomb,
    options: &GridOptions,
) -> Result<GridSolution, CoulombError> {
    Ok(GridSolution {
        symmetric: solve_sector(
            potential,
            grid,
            mass,
            interaction,
            Exchange::Symmetric,
            options,
        )?,
        antisymmetric: solve_sector(
            potential,
            grid,
            mass,
            interaction,
            Exchange::Antisymmetric,
            options,
        )?,
    })
}

/// The same sector solve as [`solve_sector`] with ARPACK's implicitly restarted Lanczos
/// (dsaupd/dseupd, largest algebraic eigenvalues of (H − σI)⁻¹) as an independent check;
/// energies in Hartree.
#[cfg(feature = "arpack")]
pub fn solve_sector_arpack(
    potential: &Potential,
    grid: &Grid,
    mass: f64,
    interaction: &SoftCoulomb,
    exchange: Exchange,
    options: &GridOptions,
) -> Result<SectorSolution, CoulombError> {
    let problem = SectorProblem {
        potential,
        grid,
        mass,
        interaction,
        exchange,
        options,
    };
    solve_prepared(&problem, "ARPACK dsaupd", |prepared, k, dim| {
        if k >= dim {
            return Err(CoulombError::Levels {
                requested: k,
                dimension: dim,
                sector: exchange.spin_name(),
            });
        }
        let ncv = (2 * k + 16).max(k + 24).min(dim - 1);
        let arpack_options = arpack::Options {
            tol: 1e-13,
            max_iter: options.lanczos.max_restarts.max(300),
            ncv: Some(ncv),
        };
        let factor = &mut prepared.factor;
        let solution = arpack::eigenpairs_f64(
            dim,
            k,
            arpack::Which::LargestAlgebraic,
            |x, y| factor.solve(x, y),
            &arpack_options,
        )
        .map_err(|e| CoulombError::Arpack(e.to_string()))?;
        if solution.eigenvectors.len() < k {
            return Err(CoulombError::Arpack(format!(
                "ARPACK converged {} of {k} eigenpairs after {} restarts",
                solution.eigenvectors.len(),
                solution.iters
            )));
        }
        let mut vectors = Vec::with_capacity(dim * k);
        for v in &solution.eigenvectors {
            vectors.extend_from_slice(v);
        }
        Ok(SectorEigenvectors {
            vectors,
            restarts: solution.iters,
            operator_applications: solution.n_matvec,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_enumerate_the_pairs_in_order() {
        for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
            let b = SectorBasis::new(7, exchange);
            let pairs: Vec<_> = b.pairs().collect();
            assert_eq!(pairs.len(), b.dimension());
            for (i, &(a, c)) in pairs.iter().enumerate() {
                assert_eq!(b.index(a, c), Some(i));
            }
            assert_eq!(b.index(3, 2), None);
        }
    }

    #[test]
    fn assembled_upper_triangle_matches_the_matrix_free_operator() {
        let v = Potential::square_well(4.0, 0.5, 1.0).unwrap();
        let g = Grid::aligned(4.0, &v.breakpoints(), 0.5).unwrap();
        let h1 = Hamiltonian::new(&v, &g, 1.0).unwrap();
        for exchange in [Exchange::Symmetric, Exchange::Antisymmetric] {
            let s = SectorHamiltonian::new(&h1, &g, &SoftCoulomb::default(), exchange).unwrap();
            let dense = s.to_dense();
            let (cp, rows, vals) = s.upper_csc(0.3);
            assert_eq!(rows.len(), s.upper_nnz());
            let dim = s.dimension();
            let mut seen = Mat::<f64>::zeros(dim, dim);
            for j in 0..dim {
                for p in cp[j]..cp[j + 1] {
                    seen[(rows[p], j)] = vals[p] + if rows[p] == j { 0.3 } else { 0.0 };
                }
            }
            for j in 0..dim {
                for i in 0..=j {
                    assert!((seen[(i, j)] - dense[(i, j)]).abs() < 1e-14);
                    assert!((dense[(i, j)] - dense[(j, i)]).abs() < 1e-14);
                }
            }
        }
    }
}
