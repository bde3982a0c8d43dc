//! Dense symmetric factorizations that never depend on the number of threads.
//!
//! faer's convenience methods (`Mat::self_adjoint_eigen`, `Mat::llt`, …) run with the global
//! parallelism, all rayon threads by default, and a threaded reduction may add its partial sums
//! in an order set by the thread count: the last bits of the result then differ between a
//! 1-core and a 2-core machine. These wrappers call the same faer kernels with `Par::Seq`, so the
//! result is a function of the matrix alone; callers that need speed run independent
//! matrices (blocks, clusters) in parallel instead.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor as llt;
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Mat, MatRef, Par};

/// Eigenvalues (ascending) and unit eigenvectors (columns of an n × n matrix) of the real
/// symmetric matrix whose lower triangle is `a`, computed sequentially (any unit).
pub fn symmetric_eigen(a: MatRef<'_, f64>) -> Option<(Vec<f64>, Mat<f64>)> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "symmetric_eigen needs a square matrix");
    let mut u = Mat::<f64>::zeros(n, n);
    let mut s = Diag::<f64>::zeros(n);
    let req = evd::self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::Yes,
        Par::Seq,
        Default::default(),
    );
    let mut mem = MemBuffer::new(req);
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    Some((s.column_vector().iter().copied().collect(), u))
}

/// Eigenvalues (ascending) of the real symmetric matrix whose lower triangle is `a`, computed
/// sequentially without eigenvectors (any unit).
pub fn symmetric_eigenvalues(a: MatRef<'_, f64>) -> Option<Vec<f64>> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "symmetric_eigenvalues needs a square matrix");
    let mut s = Diag::<f64>::zeros(n);
    let req = evd::self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::No,
        Par::Seq,
        Default::default(),
    );
    let mut mem = MemBuffer::new(req);
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        None,
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    Some(s.column_vector().iter().copied().collect())
}

/// The Cholesky factor L (lower triangular, upper triangle zero) of the symmetric positive
/// definite matrix whose lower triangle is `a`, computed sequentially; `None` when `a` is not
/// numerically positive definite.
pub fn cholesky_lower(a: MatRef<'_, f64>) -> Option<Mat<f64>> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "cholesky_lower needs a square matrix");
    let mut l = Mat::<f64>::from_fn(n, n, |i, j| if i >= j { a[(i, j)] } else { 0.0 });
    let mut mem = MemBuffer::new(llt::cholesky_in_place_scratch::<f64>(
        n,
        Par::Seq,
        Default::default(),
    ));
    llt::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    for j in 1..n {
        for i in 0..j {
            l[(i, j)] = 0.0;
        }
    }
    Some(l)
}
