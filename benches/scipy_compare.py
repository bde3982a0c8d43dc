#!/usr/bin/env python3
"""Compare confine's k-lowest tridiagonal eigen-solver with SciPy/LAPACK on the reference case.

The matrix is the second-order finite-difference Hamiltonian of the paper's reference case
(U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr, m = 1; h = 2L/(n+1), nodes x_i = -L + i h,
i = 1..n, diag = 1/h^2 + V(x_i) with V = -U0 inside |x| < a, -U0/2 on |x| = a, 0 outside;
off-diagonal -1/(2h^2)), built here exactly as benches/tridiagonal.rs builds it.

In one run, for each n (1e4 and 1e5; 1e6 with --large) and k = 100, it times
  * SciPy `eigh_tridiagonal(..., select='i', eigvals_only=True)`  (LAPACK stebz),
  * SciPy `eigh_tridiagonal(..., select='i', eigvals_only=False)` (stebz + stein) -- only for
    n = 1e4 unless --with-scipy-vectors (DESIGN.md measured 235 s at n = 1e5),
  * confine's `lowest_eigenpairs` plus <K> of every vector, through the CONFINE_TIMING mode of
    the criterion bench (`cargo bench --bench tridiagonal`), on the default rayon thread count
    and again on one thread (RAYON_NUM_THREADS=1; skip with --no-single-thread),
best of --repeats runs each, checks that the eigenvalues agree and prints a table.

Usage:  python3 benches/scipy_compare.py [--large] [--with-scipy-vectors] [--repeats R]
Needs:  python3 -m pip install scipy numpy
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

try:
    import numpy as np
    import scipy
    from scipy.linalg import eigh_tridiagonal
except ImportError as err:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        f"scipy_compare.py needs NumPy and SciPy ({err}).\n"
        "Install them with:  python3 -m pip install scipy numpy\n"
    )
    sys.exit(2)

U0, A, L = 0.1, 20.0, 200.0
EPS = np.finfo(float).eps
REPO = Path(__file__).resolve().parent.parent
# |lambda_scipy - lambda_confine| <= AGREE * eps * ||T||: stebz bisects to a few eps*||T||,
# confine's Rayleigh quotients have residuals <= 64 eps*||T|| (its convergence criterion).
AGREE = 256.0


def reference_matrix(n):
    """Diagonal and off-diagonal of the reference Hamiltonian (same arithmetic as the bench)."""
    h = 2.0 * L / (n + 1.0)
    x = -L + np.arange(1, n + 1, dtype=float) * h
    ax = np.abs(x)
    v = np.where(ax < A, -U0, 0.0)
    v = np.where(np.abs(ax - A) <= 1e-9 * h, -0.5 * U0, v)
    d = 1.0 / (h * h) + v
    e = np.full(n - 1, -0.5 / (h * h))
    return d, e


def norm_bound(d, e):
    """Gershgorin bound max_i |d_i| + |e_{i-1}| + |e_i| (what confine reports as norm_bound)."""
    r = np.zeros_like(d)
    r[:-1] += np.abs(e)
    r[1:] += np.abs(e)
    return float(np.max(np.abs(d) + r))


def best_of(repeats, f):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - start)
    return min(times), result


def confine_timing(n, k, repeats, threads=None):
    """Runs the bench binary in CONFINE_TIMING mode and returns its JSON record; `threads`
    sets RAYON_NUM_THREADS for that run only (default: rayon's choice, one per CPU)."""
    env = dict(os.environ)
    env["CONFINE_TIMING"] = f"{n},{k},{repeats}"
    if threads is not None:
        env["RAYON_NUM_THREADS"] = str(threads)
    cmd = ["cargo", "bench", "--quiet", "--bench", "tridiagonal"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"`{' '.join(cmd)}` failed with status {proc.returncode}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("no JSON line from the CONFINE_TIMING run")
    return json.loads(lines[-1])


def fmt(x, digits=3):
    return "skipped" if x is None else f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--large", action="store_true", help="also n = 1e6")
    ap.add_argument(
        "--with-scipy-vectors",
        action="store_true",
        help="time SciPy's stebz+stein pairs for n > 1e4 too (very slow: minutes)",
    )
    ap.add_argument(
        "--no-single-thread",
        action="store_true",
        help="skip the extra confine run with RAYON_NUM_THREADS=1",
    )
    ap.add_argument("--repeats", type=int, default=3, help="best of R runs (default 3)")
    ap.add_argument("-k", type=int, default=100, help="levels (default 100)")
    args = ap.parse_args()
    k, repeats = args.k, args.repeats

    sizes = [10_000, 100_000] + ([1_000_000] if args.large else [])
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}"
    )
    print("building the bench binary (cargo bench --bench tridiagonal, release profile) ...")
    subprocess.run(
        ["cargo", "bench", "--no-run", "--quiet", "--bench", "tridiagonal"], cwd=REPO, check=True
    )

    load_before = os.getloadavg()
    rows, failures = [], []
    for n in sizes:
        d, e = reference_matrix(n)
        norm = norm_bound(d, e)
        select = dict(select="i", select_range=(0, k - 1), lapack_driver="stebz")

        t_vals, w_vals = best_of(
            repeats, lambda: eigh_tridiagonal(d, e, eigvals_only=True, **select)
        )
        t_pairs = None
        if n <= 10_000 or args.with_scipy_vectors:
            t_pairs, (w_pairs, _) = best_of(
                repeats if n <= 10_000 else 1,
                lambda: eigh_tridiagonal(d, e, eigvals_only=False, **select),
            )
        rec = confine_timing(n, k, repeats)
        t_conf = rec["best_seconds"]
        t_conf1 = None
        if not args.no_single_thread:
            rec1 = confine_timing(n, k, repeats, threads=1)
            t_conf1 = rec1["best_seconds"]
            if rec1["values"] != rec["values"]:
                failures.append(f"n = {n}: the 1-thread run gave different eigenvalues")

        w_conf = np.array(rec["values"])
        agree = float(np.max(np.abs(w_conf - w_vals)))
        tol = AGREE * EPS * norm
        ok = (
            len(w_conf) == k
            and agree <= tol
            and rec["sturm_count_at_cutoff"] >= k
            and abs(rec["norm_bound"] - norm) <= 4 * EPS * norm
        )
        if not ok:
            failures.append(
                f"n = {n}: max |dlambda| = {agree:.3e} (tolerance {tol:.3e}), "
                f"Sturm count {rec['sturm_count_at_cutoff']}, norm {rec['norm_bound']} vs {norm}"
            )
        rows.append(
            dict(
                n=n,
                k=k,
                scipy_values=t_vals,
                scipy_pairs=t_pairs,
                confine=t_conf,
                confine1=t_conf1,
                agree=agree,
                agree_eps=agree / (EPS * norm),
                residual_eps=rec["max_residual"] / (EPS * norm),
                orth=rec["max_orthogonality_error"],
                e0=rec["e0"],
                threads=rec["threads"],
            )
        )
        print(
            f"n = {n}: scipy values {t_vals:.3f} s, scipy pairs {fmt(t_pairs)}, "
            f"confine pairs+<K> {t_conf:.3f} s ({rec['threads']} threads), "
            f"{fmt(t_conf1)} (1 thread)",
            flush=True,
        )

    print()
    header = (
        "| n | k | SciPy stebz values (s) | SciPy stebz+stein pairs (s) "
        "| confine pairs+<K> (s) | confine pairs+<K>, 1 thread (s) | values / confine "
        "| pairs / confine | max abs(λ_SciPy − λ_confine) | confine max residual | confine max abs(VᵀV − I) | confine E0 (Ha) |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for r in rows:
        ratio_pairs = None if r["scipy_pairs"] is None else r["scipy_pairs"] / r["confine"]
        print(
            f"| {r['n']:.0e} | {r['k']} | {r['scipy_values']:.3f} | {fmt(r['scipy_pairs'])} "
            f"| {r['confine']:.3f} | {fmt(r['confine1'])} "
            f"| {r['scipy_values'] / r['confine']:.1f}× "
            f"| {'skipped' if ratio_pairs is None else f'{ratio_pairs:.1f}×'} "
            f"| {r['agree']:.2e} ({r['agree_eps']:.1f} ε‖T‖) "
            f"| {r['residual_eps']:.1f} ε‖T‖ | {r['orth']:.1e} | {r['e0']:.13f} |"
        )
    print(
        f"\nbest of {repeats} runs each (SciPy stebz+stein for n > 1e4: one run); ratios use "
        f"confine on {rows[0]['threads']} rayon threads; LAPACK stebz/stein are single-threaded."
    )
    load_after = os.getloadavg()
    print(
        f"load average (1, 5, 15 min) before: {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f}; after: {load_after[0]:.2f} {load_after[1]:.2f} "
        f"{load_after[2]:.2f} (other work on the machine inflates the times)"
    )
    if failures:
        print("\nEIGENVALUES DISAGREE:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    print(f"eigenvalues agree to within {AGREE:.0f} ε‖T‖ for every n.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
