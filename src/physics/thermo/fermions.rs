//! Canonical ensemble of N non-interacting fermions on given single-particle orbitals.
//!
//! Input: orbital energies e_0 ≤ e_1 ≤ … ≤ e_{M−1} (Hartree), a particle number N and a spin
//! degeneracy c: c = 1 (spinless, each orbital holds 0 or 1 particle) or c = 2 (spin ½, each
//! orbital holds 0, 1 or 2 electrons; a singly occupied orbital has 2 spin states). The model
//! works on the n = c·M spin-orbitals ε_0 ≤ ε_1 ≤ … ≤ ε_{n−1} (each orbital repeated c times),
//! so that Z_N = Σ over N-element subsets A of exp(−E(A)/T), E(A) = Σ_{i∈A} ε_i, which counts
//! every occupation pattern with multiplicity 2^(number of singly occupied orbitals) for c = 2.
//!
//! # Recursion (positive terms only)
//!
//! Z_N is the elementary symmetric polynomial e_N(x_0, …, x_{n−1}) of the Boltzmann factors
//! x_i = exp(−ε_i/T), built spin-orbital by spin-orbital with E_k ← E_k + x_j E_{k−1}
//! (k = min(j+1, N), …, 1; E_0 = 1). No alternating signs appear (unlike the Borrmann–Franke
//! recursion Z_N = (1/N) Σ_k (−1)^{k+1} Z_1(kβ) Z_{N−k}). Each E_k is stored relative to its own
//! ground state: with D_k = ε_0 + … + ε_{k−1} the k-particle ground energy,
//!
//! Ẽ_k = E_k · exp(D_k/T) = Σ_{|A|=k} exp(−δ_A/T),   δ_A = E(A) − D_k ≥ 0,
//!
//! and adding spin-orbital j to a (k−1)-subset B raises the excitation by
//! a_{jk} = ε_j − ε_{k−1} ≥ 0 (j ≥ k−1, levels sorted): δ_{B∪j} = δ_B + a_{jk}. Hence, with
//! α = a_{jk}/T and f = exp(−α) ≤ 1,
//!
//! - Ẽ_k ← Ẽ_k + f Ẽ_{k−1}
//! - F_k ← F_k + f (F_{k−1} + α Ẽ_{k−1})                    (F_k = Σ w_A δ_A/T)
//! - G_k ← G_k + f (G_{k−1} + 2α F_{k−1} + α² Ẽ_{k−1})      (G_k = Σ w_A (δ_A/T)²)
//!
//! Every term is non-negative, so there is no cancellation anywhere in the table. The weight of
//! the zero-excitation subsets (the degenerate ground states, an exact count) is carried
//! separately from the excited weight, so that ln Z' = ln(g_0 + X) is evaluated as
//! ln g_0 + ln(1 + X/g_0) and S stays accurate when X ≪ 1 (T ≪ gap).
//!
//! Results: with E_gs = D_N, Z' = Ẽ_N (ln Z = ln Z' − E_gs/T), ⟨E − E_gs⟩ = T F_N/Ẽ_N and
//! Var(E) = T² (G_N/Ẽ_N − (F_N/Ẽ_N)²), passed to [`Moments::from_shifted`] with shift E_gs.
//!
//! # Range and stability
//!
//! Ẽ_k ≥ (ground count) ≥ 1 for k ≤ j+1, and Ẽ_k ≤ C(n, k), which can exceed f64 at high T for
//! large systems (C(2000, 1000) ≈ 10^600). Each entry therefore carries its own binary exponent
//! b_k (true value = stored · 2^{b_k}); an entry whose weight or moments exceed 2^512 is divided
//! by 2^512 (exact), and the factor f absorbs 2^{b_{k−1} − b_k} (if that would make f·Ẽ_{k−1}
//! overflow the entry's scale, the entry's exponent is raised first: a safety net). An update
//! whose factor f·2^{b_{k−1}−b_k} is below e^{−745} (it would underflow) is skipped: it changes
//! its entry by less than about 1e-150 relative. Because the levels are sorted, once a whole spin-orbital
//! (with j ≥ N−1) contributes nothing, no later one can: the loop stops there. Cost: O(n·N)
//! per temperature (at most), n = c·M.
//!
//! Accuracy: all sums have positive terms, so ln Z', ⟨E − E_gs⟩ and ⟨(E − E_gs)²⟩ carry a
//! relative error of a few n·ε_mach at most (usually far less) from T ≪ gap (where only the
//! ground state survives) to T ≫ spectrum width. The variance as ⟨δ²⟩ − ⟨δ⟩² loses a factor
//! 1 + ⟨δ⟩²/Var(δ) on top of that: none at low T (⟨δ⟩² ≪ ⟨δ²⟩), of order N at high T.
//! Rounding of the level differences a_{jk} enters as a relative error ≈ ε_mach·α per factor.
//!
//! Atomic units with k_B = 1: energies and temperatures in Hartree, entropies and heat
//! capacities dimensionless.

use super::canonical::{check_temperature, check_truncation, CanonicalModel, Moments};
use super::{NeumaierSum, ThermoError};
use std::f64::consts::LN_2;

/// Exponents below −UNDERFLOW make exp underflow (to a subnormal or zero).
const UNDERFLOW: f64 = 745.0;
/// Binary exponent of one renormalization step.
const RESCALE_BITS: i32 = 512;
/// 2^512: entries above it are divided by it.
const RESCALE_THRESHOLD: f64 = f64::from_bits(((1023 + RESCALE_BITS) as u64) << 52);
/// 2^−512.
const RESCALE_FACTOR: f64 = f64::from_bits(((1023 - RESCALE_BITS) as u64) << 52);

/// N non-interacting fermions on single-particle orbitals (Hartree), spinless or spin ½.
#[derive(Debug, Clone, PartialEq)]
pub struct FermionGas {
    orbital_energy: Vec<f64>,
    particles: usize,
    spin_degeneracy: usize,
    /// N-particle ground energy: the N lowest spin-orbitals filled (Hartree).
    ground_energy: f64,
    /// N times the mean orbital energy (Hartree).
    infinite_temperature_energy: f64,
}

/// One entry Ẽ_k of the table, relative to the k-particle ground energy and scaled by 2^exponent.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    /// Weight of the subsets with zero excitation (a count of degenerate ground states).
    ground: f64,
    /// Weight of the subsets with positive excitation.
    excited: f64,
    /// Σ w δ/T.
    first: f64,
    /// Σ w (δ/T)².
    second: f64,
    /// Binary exponent: true values are the stored ones times 2^exponent.
    exponent: i32,
}

impl Entry {
    /// Total (scaled) weight.
    fn weight(&self) -> f64 {
        self.ground + self.excited
    }

    /// ln of the true total weight, computed as ln g + ln(1 + X/g) when the excited part is
    /// the smaller one.
    fn ln_weight(&self) -> f64 {
        let scale = f64::from(self.exponent) * LN_2;
        if self.ground > 0.0 && self.excited <= self.ground {
            self.ground.ln() + (self.excited / self.ground).ln_1p() + scale
        } else {
            self.weight().ln() + scale
        }
    }

    /// Divides all stored values by 2^bits (bits ≥ 0) and raises the exponent by bits.
    fn rebase(&mut self, bits: i32) {
        let factor = pow2(-bits);
        self.ground *= factor;
        self.excited *= factor;
        self.first *= factor;
        self.second *= factor;
        self.exponent += bits;
    }

    /// Divides by 2^512 until the largest stored value is at most 2^512.
    fn renormalize(&mut self) {
        loop {
            let largest = self.weight().max(self.first).max(self.second);
            if !(largest > RESCALE_THRESHOLD && largest.is_finite()) {
                return;
            }
            self.ground *= RESCALE_FACTOR;
            self.excited *= RESCALE_FACTOR;
            self.first *= RESCALE_FACTOR;
            self.second *= RESCALE_FACTOR;
            self.exponent += RESCALE_BITS;
        }
    }
}

/// 2^k for any i32 k (exact when representable, 0 or ∞ outside the f64 range).
fn pow2(k: i32) -> f64 {
    if (-1022..=1023).contains(&k) {
        f64::from_bits(((1023 + k) as u64) << 52)
    } else {
        // Two exact steps cover the subnormal range; beyond it the result is 0 or ∞.
        let half = k / 2;
        pow2(half) * pow2(k - half)
    }
}

impl FermionGas {
    /// Validates and builds the gas: finite ascending orbital energies (Hartree), 1 ≤ N ≤ c·M,
    /// spin degeneracy c = 1 (spinless) or 2 (spin ½, each orbital holds two).
    pub fn new(
        orbital_energy: Vec<f64>,
        particles: usize,
        spin_degeneracy: usize,
    ) -> Result<Self, ThermoError> {
        if spin_degeneracy != 1 && spin_degeneracy != 2 {
            return Err(ThermoError::InvalidParameter {
                name: "the spin degeneracy",
                expected: "1 (spinless fermions) or 2 (spin 1/2, two electrons per orbital)",
                value: spin_degeneracy as f64,
            });
        }
        if particles == 0 {
            return Err(ThermoError::ZeroParticles);
        }
        if orbital_energy.is_empty() {
            return Err(ThermoError::Empty);
        }
        for (index, &value) in orbital_energy.iter().enumerate() {
            if !value.is_finite() {
                return Err(ThermoError::NonFiniteEnergy { index, value });
            }
            if index > 0 && value < orbital_energy[index - 1] {
                return Err(ThermoError::Unsorted {
                    index,
                    previous: orbital_energy[index - 1],
                    value,
                });
            }
        }
        let capacity = spin_degeneracy.saturating_mul(orbital_energy.len());
        if particles > capacity {
            return Err(ThermoError::InvalidParameter {
                name: "the particle number N",
                expected: "at most (spin degeneracy) × (number of orbitals) by the Pauli principle",
                value: particles as f64,
            });
        }
        let mut ground = NeumaierSum::default();
        for i in 0..particles {
            ground.add(orbital_energy[i / spin_degeneracy]);
        }
        let ground_energy = ground.value();
        let e0 = orbital_energy[0];
        let mut excess = NeumaierSum::default();
        for &e in &orbital_energy {
            excess.add(e - e0);
        }
        let mean = e0 + excess.value() / orbital_energy.len() as f64;
        let infinite_temperature_energy = particles as f64 * mean;
        if !(ground_energy.is_finite() && infinite_temperature_energy.is_finite()) {
            return Err(ThermoError::InvalidParameter {
                name: "the N-particle energy sum of the orbital energies",
                expected: "finite (orbital energies too large for f64 sums)",
                value: if ground_energy.is_finite() {
                    infinite_temperature_energy
                } else {
                    ground_energy
                },
            });
        }
        Ok(Self {
            orbital_energy,
            particles,
            spin_degeneracy,
            ground_energy,
            infinite_temperature_energy,
        })
    }

    /// The N-particle ground energy (Hartree): the N lowest spin-orbitals filled.
    pub fn ground_energy(&self) -> f64 {
        self.ground_energy
    }

    /// The orbital energies e_j (Hartree), ascending.
    pub fn orbital_energy(&self) -> &[f64] {
        &self.orbital_energy
    }

    /// The particle number N ≥ 1.
    pub fn particles(&self) -> usize {
        self.particles
    }

    /// Particles per orbital: 1 (spinless) or 2 (spin ½).
    pub fn spin_degeneracy(&self) -> usize {
        self.spin_degeneracy
    }

    /// Energy of spin-orbital i (Hartree).
    fn level(&self, i: usize) -> f64 {
        self.orbital_energy[i / self.spin_degeneracy]
    }

    /// The table Ẽ_0 … Ẽ_N at `temperature` (Hartree, positive finite), see the module docs.
    fn table(&self, temperature: f64) -> Vec<Entry> {
        let n_particles = self.particles;
        let n_levels = self.spin_degeneracy * self.orbital_energy.len();
        let mut table = vec![Entry::default(); n_particles + 1];
        table[0].ground = 1.0;
        // exp(−α) of the last excitations a met: the two spin-orbitals of an orbital (c = 2)
        // meet the same a for every k, and so do the k whose ε_{k−1} is one orbital. Reusing the
        // value changes no bit (same α, same exp) and saves most of the exponentials.
        let mut memo = [(f64::NAN, 0.0); 2];
        let mut exp_minus = |a: f64, alpha: f64| {
            if let Some(&(_, f)) = memo.iter().find(|(x, _)| *x == a) {
                return f;
            }
            let f = (-alpha).exp();
            memo = [(a, f), memo[0]];
            f
        };
        for j in 0..n_levels {
            let e_j = self.level(j);
            let top = (j + 1).min(n_particles);
            let mut updated = false;
            // Descending k: Ẽ_{k−1} is still the value without spin-orbital j.
            for k in (1..=top).rev() {
                let (low, high) = table.split_at_mut(k);
                let src = low[k - 1];
                let dst = &mut high[0];
                let src_weight = src.weight();
                if src_weight == 0.0 {
                    continue;
                }
                let a = e_j - self.level(k - 1);
                let alpha = a / temperature;
                let mut shift = src.exponent - dst.exponent;
                let mut t = -alpha + f64::from(shift) * LN_2;
                if t > 0.0 {
                    // The incoming term dominates the entry's scale: raise the entry's exponent
                    // (what underflows in it is negligible next to the incoming term).
                    let bits = (t / LN_2).ceil().min(f64::from(i32::MAX / 4)) as i32;
                    dst.rebase(bits);
                    shift = src.exponent - dst.exponent;
                    t = -alpha + f64::from(shift) * LN_2;
                }
                if t.is_nan() || t < -UNDERFLOW {
                    // exp(t) underflows: the term is below 1e-150 of the entry (or α is not
                    // finite because T is tiny).
                    continue;
                }
                let f = if shift == 0 {
                    exp_minus(a, alpha)
                } else if alpha <= 700.0 && (-1000..=1000).contains(&shift) {
                    exp_minus(a, alpha) * pow2(shift)
                } else {
                    t.exp()
                };
                if a == 0.0 {
                    dst.ground += f * src.ground;
                    dst.excited += f * src.excited;
                } else {
                    dst.excited += f * src_weight;
                }
                dst.first += f * (src.first + alpha * src_weight);
                dst.second +=
                    f * (src.second + 2.0 * alpha * src.first + alpha * alpha * src_weight);
                dst.renormalize();
                updated = true;
            }
            if !updated && j + 1 >= n_particles {
                // Levels are sorted and no exponent changed: every later factor is smaller.
                break;
            }
        }
        table
    }
}

impl CanonicalModel for FermionGas {
    /// Moments by the positive elementary-symmetric recursion on ground-shifted energies.
    fn moments(&self, temperature: f64) -> Result<Moments, ThermoError> {
        check_temperature("temperature", temperature)?;
        let table = self.table(temperature);
        let top = &table[self.particles];
        let weight = top.weight();
        let mean = top.first / weight;
        let mean_square = top.second / weight;
        let variance = (mean_square - mean * mean).max(0.0) * temperature * temperature;
        Ok(Moments::from_shifted(
            temperature,
            self.ground_energy,
            top.ln_weight(),
            temperature * mean,
            variance,
        ))
    }

    fn ground_energy(&self) -> f64 {
        self.ground_energy
    }

    /// N times the mean orbital energy (Hartree): every spin-orbital equally occupied, N/(cM).
    fn infinite_temperature_energy(&self) -> f64 {
        self.infinite_temperature_energy
    }
}

/// Upper bound (dimensionless, in [0, 1]) on the share of Z_N carried by N-particle states that
/// occupy at least one omitted orbital, at `temperature` (Hartree).
///
/// Assumptions: besides the supplied orbitals there are at most `max_omitted_orbitals` further
/// orbitals (a count; a fractional value is rounded down), each with energy ≥ `cutoff`
/// (Hartree) and each holding at most c particles (c = the gas's spin degeneracy). Nothing is
/// assumed about how `cutoff` compares with the supplied energies.
///
/// Derivation. Let S be the supplied spin-orbitals, O the omitted ones, |O| ≤ q = c·⌊K⌋.
/// Splitting each N-subset of S ∪ O by the number m of omitted spin-orbitals it uses,
/// Z_full = Σ_{m=0}^{N} e_m(O) Z_{N−m}(S), with e_m(O) the elementary symmetric polynomial of the
/// omitted Boltzmann factors, each ≤ e^{−cutoff/T}. e_m(O) has C(|O|, m) ≤ C(q, m) terms, each
/// ≤ e^{−m·cutoff/T}, so the omitted weight is X = Σ_{m≥1} e_m(O) Z_{N−m}(S) ≤ X̄ with
/// X̄ = Σ_{m=1}^{min(N,q)} C(q, m) e^{−m·cutoff/T} Z_{N−m}(S). The share X/(Z_N(S) + X) increases
/// with X, so it is ≤ B/(1 + B), B = X̄/Z_N(S). In ground-shifted form (D_k = k-particle ground
/// energy of S, Ẽ_k from the recursion),
///
/// B = Σ_{m} C(q, m) · exp(−Σ_{i=N−m}^{N−1} (cutoff − ε_i)/T) · Ẽ_{N−m}/Ẽ_N,
///
/// summed in logarithms (no overflow). The bound is an equality when there are exactly q
/// omitted spin-orbitals, all at `cutoff`. Cost: one recursion, O(c·M·N).
pub fn fermion_truncation_bound(
    gas: &FermionGas,
    cutoff: f64,
    max_omitted_orbitals: f64,
    temperature: f64,
) -> Result<f64, ThermoError> {
    check_truncation(
        "the number of omitted orbitals",
        cutoff,
        max_omitted_orbitals,
        temperature,
    )?;
    let omitted_levels = max_omitted_orbitals.floor() * gas.spin_degeneracy as f64;
    if omitted_levels < 1.0 {
        return Ok(0.0);
    }
    let n = gas.particles;
    let table = gas.table(temperature);
    let ln_top = table[n].ln_weight();
    let mut ln_terms = Vec::with_capacity(n);
    let mut ln_binomial = 0.0;
    let mut excess = NeumaierSum::default();
    for m in 1..=n {
        if m as f64 > omitted_levels {
            break;
        }
        ln_binomial += ((omitted_levels - (m - 1) as f64) / m as f64).ln();
        excess.add(cutoff - gas.level(n - m));
        let ln_term =
            ln_binomial - excess.value() / temperature + table[n - m].ln_weight() - ln_top;
        ln_terms.push(ln_term);
    }
    let largest = ln_terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if largest == f64::NEG_INFINITY {
        return Ok(0.0);
    }
    if largest == f64::INFINITY || largest.is_nan() {
        return Ok(1.0);
    }
    let sum: f64 = ln_terms.iter().map(|&x| (x - largest).exp()).sum();
    let ln_b = largest + sum.ln();
    Ok(1.0 / (1.0 + (-ln_b).exp()))
}
