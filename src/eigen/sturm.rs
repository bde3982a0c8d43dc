//! Sturm counts of a symmetric tridiagonal matrix.
//!
//! The number of negative pivots of the LDLᵀ factorization of T − xI equals the number of
//! eigenvalues of T below x (Sylvester's law of inertia). The pivots obey
//! q₀ = d₀ − x, qᵢ = dᵢ − x − eᵢ₋₁² / qᵢ₋₁; a pivot that vanishes is replaced by −pivmin
//! (LAPACK's `dlaneg` convention), which is a perturbation of T far below its norm.
//!
//! The recurrence is a chain of dependent divisions, so one shift is latency-bound. Evaluating
//! [`LANES`] shifts in the same sweep keeps independent chains in flight and costs little more
//! than one: multisection with [`LANES`] shifts divides an interval into `LANES + 1` parts per
//! sweep, against 2 for bisection.

/// Number of shifts evaluated together by [`counts_below`].
pub const LANES: usize = 8;

/// The data a Sturm count needs: the diagonal, the squared off-diagonal and the pivot floor.
#[derive(Debug, Clone)]
pub struct SturmData {
    /// (d_i, e_{i−1}²) for i ≥ 1, interleaved so that one sweep reads one stream.
    pairs: Vec<[f64; 2]>,
    d0: f64,
    pivmin: f64,
}

impl SturmData {
    /// Prepares counts for the matrix with diagonal `diag` and off-diagonal `off`.
    pub fn new(diag: &[f64], off: &[f64]) -> Self {
        let pairs: Vec<[f64; 2]> = diag[1..]
            .iter()
            .zip(off)
            .map(|(d, e)| [*d, e * e])
            .collect();
        let max_sq = pairs.iter().map(|p| p[1]).fold(1.0_f64, f64::max);
        Self {
            pairs,
            d0: diag[0],
            pivmin: f64::MIN_POSITIVE * max_sq,
        }
    }

    /// Number of eigenvalues strictly below `x` (to within the pivot floor).
    pub fn count_below(&self, x: f64) -> usize {
        let mut q = self.d0 - x;
        if q.abs() < self.pivmin {
            q = -self.pivmin;
        }
        let mut count = (q < 0.0) as usize;
        for &[d, e2] in &self.pairs {
            q = (d - x) - e2 / q;
            if q.abs() < self.pivmin {
                q = -self.pivmin;
            }
            count += (q < 0.0) as usize;
        }
        count
    }

    /// Sturm counts at [`LANES`] shifts in one sweep over the matrix.
    pub fn counts_below(&self, xs: &[f64; LANES]) -> [usize; LANES] {
        let pivmin = self.pivmin;
        let mut q = [0.0; LANES];
        let mut count = [0u32; LANES];
        let d0 = self.d0;
        for s in 0..LANES {
            let mut v = d0 - xs[s];
            if v.abs() < pivmin {
                v = -pivmin;
            }
            q[s] = v;
            count[s] = (v < 0.0) as u32;
        }
        for &[d, e2] in &self.pairs {
            for s in 0..LANES {
                let mut v = (d - xs[s]) - e2 / q[s];
                if v.abs() < pivmin {
                    v = -pivmin;
                }
                q[s] = v;
                count[s] += (v < 0.0) as u32;
            }
        }
        count.map(|c| c as usize)
    }
}

/// Sturm count and the logarithmic derivatives of the characteristic polynomial at a shift x:
/// `g` = Σ_j 1/(x − λ_j) = d/dx ln|det(T − x)| and `h` = Σ_j 1/(x − λ_j)², what Laguerre's
/// iteration needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaguerreSums {
    /// Number of eigenvalues below x.
    pub count: usize,
    /// Σ_j 1/(x − λ_j).
    pub g: f64,
    /// Σ_j 1/(x − λ_j)².
    pub h: f64,
}

impl SturmData {
    /// Sturm counts and [`LaguerreSums`] at [`LANES`] shifts in one sweep. With q_i the pivots,
    /// q_i′ = −1 + e_{i−1}² q_{i−1}′/q_{i−1}² and q_i″ = e_{i−1}²(q_{i−1}″/q_{i−1}² −
    /// 2q_{i−1}′²/q_{i−1}³); then g = Σ q_i′/q_i and h = −Σ (q_i″/q_i − (q_i′/q_i)²). Near a
    /// pivot that almost vanishes the two large terms cancel imprecisely: callers must
    /// safeguard the step (the count is always exact).
    pub fn laguerre_sums(&self, xs: &[f64; LANES]) -> [LaguerreSums; LANES] {
        let pivmin = self.pivmin;
        let mut q = [0.0; LANES];
        let mut dq = [-1.0; LANES];
        let mut ddq = [0.0; LANES];
        let mut g = [0.0; LANES];
        let mut h = [0.0; LANES];
        let mut count = [0u32; LANES];
        for s in 0..LANES {
            let mut v = self.d0 - xs[s];
            if v.abs() < pivmin {
                v = -pivmin;
            }
            q[s] = v;
            count[s] = (v < 0.0) as u32;
            let r = 1.0 / v;
            g[s] = -r;
            h[s] = r * r;
        }
        for &[d, e2] in &self.pairs {
            for s in 0..LANES {
                let r = 1.0 / q[s];
                let e2r2 = e2 * r * r;
                let new_ddq = e2r2 * (ddq[s] - 2.0 * dq[s] * dq[s] * r);
                let new_dq = -1.0 + e2r2 * dq[s];
                let mut v = (d - xs[s]) - e2 * r;
                if v.abs() < pivmin {
                    v = -pivmin;
                }
                let rv = 1.0 / v;
                let a = new_dq * rv;
                g[s] += a;
                h[s] += a * a - new_ddq * rv;
                q[s] = v;
                dq[s] = new_dq;
                ddq[s] = new_ddq;
                count[s] += (v < 0.0) as u32;
            }
        }
        let mut out = [LaguerreSums {
            count: 0,
            g: 0.0,
            h: 0.0,
        }; LANES];
        for s in 0..LANES {
            out[s] = LaguerreSums {
                count: count[s] as usize,
                g: g[s],
                h: h[s],
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_a_diagonal_matrix_are_exact() {
        let diag = [3.0, -1.0, 2.0, 0.5];
        let off = [0.0, 0.0, 0.0];
        let s = SturmData::new(&diag, &off);
        assert_eq!(s.count_below(-2.0), 0);
        assert_eq!(s.count_below(0.0), 1);
        assert_eq!(s.count_below(1.0), 2);
        assert_eq!(s.count_below(2.5), 3);
        assert_eq!(s.count_below(10.0), 4);
    }

    #[test]
    fn laguerre_sums_match_the_eigenvalues() {
        let n = 30;
        let diag = vec![2.0; n];
        let off = vec![-1.0; n - 1];
        let s = SturmData::new(&diag, &off);
        let lambda: Vec<f64> = (1..=n)
            .map(|k| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n as f64 + 1.0)).cos())
            .collect();
        let xs = [0.003, 0.05, 0.5, 1.01, 1.7, 2.2, 3.3, 4.1];
        for (x, sums) in xs.iter().zip(s.laguerre_sums(&xs)) {
            let g: f64 = lambda.iter().map(|l| 1.0 / (x - l)).sum();
            let h: f64 = lambda.iter().map(|l| 1.0 / ((x - l) * (x - l))).sum();
            assert_eq!(sums.count, s.count_below(*x));
            assert!(
                (sums.g - g).abs() <= 1e-10 * h.sqrt() * n as f64,
                "g at {x}: {} vs {g}",
                sums.g
            );
            assert!(
                (sums.h - h).abs() <= 1e-10 * h,
                "h at {x}: {} vs {h}",
                sums.h
            );
        }
    }

    #[test]
    fn multi_shift_counts_equal_single_counts() {
        // Discrete Laplacian: eigenvalues 2 − 2cos(kπ/(n+1)).
        let n = 50;
        let diag = vec![2.0; n];
        let off = vec![-1.0; n - 1];
        let s = SturmData::new(&diag, &off);
        // Shifts away from the eigenvalues (x = 1 is exactly λ_17 and would test rounding only).
        let xs = [-0.1, 0.01, 0.5, 1.01, 1.7, 2.0, 3.3, 4.1];
        let many = s.counts_below(&xs);
        for (x, c) in xs.iter().zip(many) {
            assert_eq!(c, s.count_below(*x));
            let exact = (1..=n)
                .filter(|k| {
                    2.0 - 2.0 * (*k as f64 * std::f64::consts::PI / (n as f64 + 1.0)).cos() < *x
                })
                .count();
            assert_eq!(c, exact, "count below {x}");
        }
    }
}
