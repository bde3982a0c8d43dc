#!/usr/bin/env python3
"""Compare confine's k-lowest tridiagonal eigen-solver with SciPy/LAPACK on the reference case.

The matrix is the second-order finite-difference Hamiltonian of the paper's reference case
(U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr, m = 1; h = 2L/(n+1), nodes x_i = -L + i h,
i = 1..n, diag = 1/h^2 + V(x_i) with V = -U0 inside |x| < a, -U0/2 on |x| = a, 0 outside;
off-diagonal -1/(2h^2)), built here exactly as benches/tridiagonal.rs builds it.

In one run, for each n (1e4 and 1e5; 1e6 with --large) and k = 100, it times
  * SciPy `eigh_tridiagonal(..., select='i', eigvals_only=True)`  (LAPACK stebz),
  * SciPy `eigh_tridiagonal(..., select='i', eigvals_only=False)` (stebz + stein) -- only for
    n = 1e4 unless --with-scipy-vectors (minutes at n = 1e5),
  * confine's `lowest_eigenpairs` plus <K> of every vector, through the CONFINE_TIMING mode of
    the criterion bench (`cargo bench --bench tridiagonal`), on the default rayon thread count
    and again on one thread (RAYON_NUM_THREADS=1; skip with --no-single-thread),
  * with --baseline REV, the same bench harness (this tree's benches/tridiagonal.rs) built
    against the library of git revision REV, on the default thread count: the "before" figure,
    measured under the same load as the "after",
best of --repeats runs each, checks that the eigenvalues agree and prints a markdown table.
With --update-docs it also writes the tables into benches/README.md and README.md, between
the marker comments `<!-- scipy_compare:NAME begin -->` and `<!-- scipy_compare:NAME end -->`
(through scripts/docs/blocks.py).

Usage:  python3 benches/scipy_compare.py [--large] [--baseline REV] [--update-docs]
                                         [--with-scipy-vectors] [--repeats R]
Needs:  python3 -m pip install scipy numpy  (SciPy runs with OPENBLAS_NUM_THREADS=1)
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The one block writer of the docs (scripts/docs/blocks.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts" / "docs"))
import blocks  # noqa: E402

# LAPACK stebz/stein are sequential; pin OpenBLAS so that its threads do not compete with
# confine's for the same cores. Must be set before NumPy loads OpenBLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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
BENCH = ["cargo", "bench", "--quiet", "--bench", "tridiagonal"]


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


def git(*args, cwd=REPO):
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def describe_tree():
    """Commit of this tree, marked when the working tree differs from it."""
    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return commit + (" plus uncommitted changes" if dirty else "")


def prepare_baseline(rev):
    """Exports revision `rev` to a temporary directory with this tree's bench harness, builds
    its bench binary (target directory target/scipy-baseline, kept between runs) and returns
    the directory."""
    root = Path(tempfile.mkdtemp(prefix="confine-baseline-"))
    archive = subprocess.run(
        ["git", "archive", rev], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    shutil.copy(REPO / "benches" / "tridiagonal.rs", root / "benches" / "tridiagonal.rs")
    print(f"building the baseline bench binary of {rev} (release profile) ...", flush=True)
    subprocess.run(
        BENCH[:2] + ["--no-run"] + BENCH[2:],
        cwd=root,
        env=baseline_env(),
        check=True,
    )
    return root


def baseline_env():
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(REPO / "target" / "scipy-baseline")
    return env


def confine_timing(n, k, repeats, threads=None, tree=REPO, env=None):
    """Runs the bench binary of `tree` in CONFINE_TIMING mode and returns its JSON record;
    `threads` sets RAYON_NUM_THREADS for that run only (default: rayon's choice)."""
    env = dict(env or os.environ)
    env["CONFINE_TIMING"] = f"{n},{k},{repeats}"
    if threads is not None:
        env["RAYON_NUM_THREADS"] = str(threads)
    proc = subprocess.run(BENCH, cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"`{' '.join(BENCH)}` in {tree} failed with status {proc.returncode}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("no JSON line from the CONFINE_TIMING run")
    return json.loads(lines[-1])


def fmt(x, digits=3):
    return "skipped" if x is None else f"{x:.{digits}f}"


def ratio(num, den):
    return "skipped" if num is None or den is None else f"{num / den:.1f}×"


def measure(n, k, args, baseline_root, failures):
    """All timings and checks of one matrix size."""
    d, e = reference_matrix(n)
    norm = norm_bound(d, e)
    select = dict(select="i", select_range=(0, k - 1), lapack_driver="stebz")
    t_vals, w_vals = best_of(
        args.repeats, lambda: eigh_tridiagonal(d, e, eigvals_only=True, **select)
    )
    t_pairs = None
    if n <= 10_000 or args.with_scipy_vectors:
        t_pairs, _ = best_of(
            args.repeats if n <= 10_000 else 1,
            lambda: eigh_tridiagonal(d, e, eigvals_only=False, **select),
        )
    rec = confine_timing(n, k, args.repeats)
    t_conf1 = None
    if not args.no_single_thread:
        rec1 = confine_timing(n, k, args.repeats, threads=1)
        t_conf1 = rec1["best_seconds"]
        if rec1["values"] != rec["values"]:
            failures.append(f"n = {n}: the 1-thread run gave different eigenvalues")
    t_base = None
    if baseline_root is not None:
        base = confine_timing(n, k, args.repeats, tree=baseline_root, env=baseline_env())
        t_base = base["best_seconds"]
    w_conf = np.array(rec["values"])
    agree = float(np.max(np.abs(w_conf - w_vals)))
    tol = AGREE * EPS * norm
    if not (
        len(w_conf) == k
        and agree <= tol
        and rec["sturm_count_at_cutoff"] >= k
        and abs(rec["norm_bound"] - norm) <= 4 * EPS * norm
    ):
        failures.append(
            f"n = {n}: max |dlambda| = {agree:.3e} (tolerance {tol:.3e}), "
            f"Sturm count {rec['sturm_count_at_cutoff']}, norm {rec['norm_bound']} vs {norm}"
        )
    row = dict(
        n=n,
        k=k,
        scipy_values=t_vals,
        scipy_pairs=t_pairs,
        confine=rec["best_seconds"],
        confine1=t_conf1,
        baseline=t_base,
        agree=agree,
        agree_eps=agree / (EPS * norm),
        residual_eps=rec["max_residual"] / (EPS * norm),
        orth=rec["max_orthogonality_error"],
        e0=rec["e0"],
        threads=rec["threads"],
    )
    print(
        f"n = {n}: scipy values {t_vals:.3f} s, scipy pairs {fmt(t_pairs)}, confine "
        f"pairs+<K> {row['confine']:.3f} s ({row['threads']} threads), {fmt(t_conf1)} "
        f"(1 thread), baseline {fmt(t_base)}",
        flush=True,
    )
    return row


def full_table(rows, baseline):
    """The detailed table of benches/README.md."""
    threads = rows[0]["threads"]
    cols = [
        "n",
        "k",
        "SciPy stebz values (s)",
        "SciPy stebz+stein pairs (s)",
    ]
    if baseline:
        cols.append(f"confine {baseline} pairs+⟨K⟩, {threads} threads (s)")
    cols += [
        f"confine pairs+⟨K⟩, {threads} threads (s)",
        "confine pairs+⟨K⟩, 1 thread (s)",
        "values / confine",
        "pairs / confine",
        "max abs(λ_SciPy − λ_confine)",
        "confine max residual",
        "confine max abs(VᵀV − I)",
        "confine E0 (Ha)",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = [f"{r['n']:.0e}", str(r["k"]), f"{r['scipy_values']:.3f}", fmt(r["scipy_pairs"])]
        if baseline:
            cells.append(fmt(r["baseline"]))
        cells += [
            f"{r['confine']:.3f}",
            fmt(r["confine1"]),
            ratio(r["scipy_values"], r["confine"]),
            ratio(r["scipy_pairs"], r["confine"]),
            f"{r['agree']:.2e} ({r['agree_eps']:.1f} ε‖H‖)",
            f"{r['residual_eps']:.1f} ε‖H‖",
            f"{r['orth']:.1e}",
            f"{r['e0']:.13f}".replace("-", "−"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def short_table(rows, baseline):
    """The summary table of README.md (Numerics → Speed)."""
    cols = ["n", "SciPy `eigh_tridiagonal` values only (stebz)", "SciPy pairs (stebz + stein)"]
    if baseline:
        cols.append(f"confine {baseline}")
    cols += ["confine pairs + ⟨K⟩", "values / confine", "max \\|Δλ\\|"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = [
            f"{r['n']:.0e}",
            f"{r['scipy_values']:.3f} s",
            "—" if r["scipy_pairs"] is None else f"{r['scipy_pairs']:.3f} s",
        ]
        if baseline:
            cells.append(f"{r['baseline']:.3f} s")
        cells += [
            f"{r['confine']:.3f} s",
            ratio(r["scipy_values"], r["confine"]),
            f"{r['agree_eps']:.1f} ε‖H‖",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def caption(rows, args, load_before, load_after, tree):
    """Where and how the tables were measured (printed and written under them)."""
    r1 = [r for r in rows if r["confine1"] is not None]
    single = ", ".join(f"{r['confine1']:.3f} s at n = {r['n']:.0e}" for r in r1)
    base = f" --baseline {args.baseline}" if args.baseline else ""
    return (
        f"One run of `python3 benches/scipy_compare.py{' --large' if args.large else ''}"
        f"{base}` on {platform.machine()} with {os.cpu_count()} CPUs (Python "
        f"{platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}), confine at {tree}; "
        f"best of {args.repeats} runs each (SciPy stebz+stein above n = 1e4: one run). "
        f"confine runs on {rows[0]['threads']} rayon threads; one thread"
        f"{' gives ' + single if single else ' was not timed'}"
        f"{', with bitwise the same eigenvalues' if single else ''}. Load average (1, 5, 15 "
        f"min) before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; after: "
        f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}."
    )


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
    ap.add_argument("--baseline", metavar="REV", help="also time the library of git revision REV")
    ap.add_argument(
        "--update-docs",
        action="store_true",
        help="write the tables into benches/README.md and README.md (between the markers)",
    )
    ap.add_argument("--repeats", type=int, default=3, help="best of R runs (default 3)")
    ap.add_argument("-k", type=int, default=100, help="levels (default 100)")
    args = ap.parse_args()

    sizes = [10_000, 100_000] + ([1_000_000] if args.large else [])
    tree = describe_tree()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}"
    )
    print("building the bench binary (cargo bench --bench tridiagonal, release profile) ...")
    subprocess.run(BENCH[:2] + ["--no-run"] + BENCH[2:], cwd=REPO, check=True)
    baseline_root = prepare_baseline(args.baseline) if args.baseline else None

    load_before = os.getloadavg()
    failures = []
    try:
        rows = [measure(n, args.k, args, baseline_root, failures) for n in sizes]
    finally:
        if baseline_root is not None:
            shutil.rmtree(baseline_root, ignore_errors=True)
    load_after = os.getloadavg()

    full = full_table(rows, args.baseline)
    short = short_table(rows, args.baseline)
    text = caption(rows, args, load_before, load_after, tree)
    print("\n" + full + "\n\n" + short + "\n\n" + text)
    if failures:
        print("\nEIGENVALUES DISAGREE:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    print(f"eigenvalues agree to within {AGREE:.0f} ε‖T‖ for every n.")
    if args.update_docs:
        blocks.update("benches/README.md", [("scipy_compare", "tridiagonal", full + "\n\n" + text, None)])
        blocks.update("README.md", [("scipy_compare", "speed", short + "\n\n" + text, None)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
