#!/usr/bin/env python3
"""confine from Python side by side with SciPy and iDEA, in one Python process.

1. The paper's reference matrix (U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr, n interior nodes,
   the same matrix as benches/scipy_compare.py builds), k = 100 lowest levels at n = 1e4, 1e5
   (and 1e6 with --large): confine's `Problem.spectrum()` (pairs + <K>, <V>, residuals,
   probabilities) against SciPy's `eigh_tridiagonal` values only (LAPACK stebz), pairs by
   stebz + stein (n = 1e4 only unless --with-scipy-vectors: minutes at n = 1e5) and pairs by
   stemr (n = 1e4 only: SciPy's wrapper allocates an n x n array). OPENBLAS_NUM_THREADS=1; confine on rayon's default thread count.
2. Two electrons in U0 = 0.1 Ha, a = 20 bohr, L = 60 bohr with soft Coulomb 1/sqrt(r^2 + 1):
   confine's CI (M orbitals) and its 2-D grid check against iDEA's exact interacting solver
   (`pip install idea-latest`) given the same grid (confine's interior nodes, 3-point stencil),
   the same potential on the nodes and the same interaction matrix.

Best of --repeats runs each. Prints a markdown table with the load average before and after;
--update-docs writes it into README.md between `<!-- python_compare:table begin -->` and
`<!-- python_compare:table end -->` (through scripts/docs/blocks.py).

Usage:  python3 benches/python_compare.py [--large] [--with-scipy-vectors] [--repeats R]
                                          [--spacing H] [--orbitals M] [--update-docs]
Needs:  the confine package (python/), numpy, scipy; iDEA optional (its rows say why if absent).
"""

import argparse
import contextlib
import io
import os
import platform
import re
import sys
import time
from pathlib import Path

# The one block writer of the docs (scripts/docs/blocks.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts" / "docs"))
import blocks  # noqa: E402

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy.linalg import eigh_tridiagonal  # noqa: E402

import confine  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scipy_compare import A, L, U0, best_of, norm_bound, reference_matrix  # noqa: E402

REPO = HERE.parent
K = 100


def fmt(seconds):
    return f"{seconds:.3g} s"


def tridiagonal_rows(n, args):
    """Timings and agreement for the reference matrix with n interior nodes."""
    d, e = reference_matrix(n)
    well = confine.square_well(U0, A, box_half_width=L, spacing=2 * L / (n + 1), levels=K)
    t_confine, s = best_of(args.repeats, well.spectrum)
    assert s.x.shape == (n,), f"confine's grid has {s.x.shape[0]} nodes, expected {n}"
    select = dict(select="i", select_range=(0, K - 1))
    t_values, w = best_of(args.repeats, lambda: eigh_tridiagonal(d, e, eigvals_only=True, lapack_driver="stebz", **select))
    diff = np.max(np.abs(w - s.energy)) / (np.finfo(float).eps * norm_bound(d, e))
    row = {"n": n, "confine": t_confine, "values": t_values, "agree_eps_norm": diff}
    if n <= 10_000 or args.with_scipy_vectors:
        row["stein"], _ = best_of(1, lambda: eigh_tridiagonal(d, e, lapack_driver="stebz", **select))
    if n <= 10_000:  # SciPy's stemr wrapper allocates an n x n array (74.5 GiB at n = 1e5)
        row["stemr"], _ = best_of(1, lambda: eigh_tridiagonal(d, e, lapack_driver="stemr", **select))
    return row


def idea_ground(x, v_ext, w, electrons):
    """iDEA's exact interacting ground state on the grid x (or the reason it cannot run)."""
    try:
        import iDEA
    except ImportError as err:
        return None, f"iDEA not importable ({err})"
    system = iDEA.system.System(x, v_ext, w, electrons, stencil=3)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # iDEA prints its progress
        state = iDEA.methods.interacting.solve(system, k=0)
    return (float(state.energy), time.perf_counter() - start), None


def two_electron_rows(args):
    well = confine.square_well(U0, A, box_half_width=60.0, spacing=args.spacing, levels=args.orbitals)
    start = time.perf_counter()
    result = well.coulomb_pair(args.orbitals, states=1, softening=1.0, grid_check=True)
    total = time.perf_counter() - start
    x = well.spectrum(levels=1).x
    h = x[1] - x[0]
    ax = np.abs(x)
    v_ext = np.where(ax < A, -U0, 0.0)
    v_ext = np.where(np.abs(ax - A) <= 1e-9 * h, -0.5 * U0, v_ext)
    w = 1.0 / np.sqrt((x[:, None] - x[None, :]) ** 2 + 1.0)
    ci, grid = result["energy"][0], result["grid"]["singlet"][0]
    idea, why = idea_ground(x, v_ext, w, "ud")
    return {
        "nodes": len(x),
        "spacing": h,
        "orbitals": args.orbitals,
        "ci": ci,
        "ci_seconds": result["seconds"],
        "grid": grid,
        "grid_seconds": result["grid"]["seconds"],
        "total_seconds": total,
        "idea": idea,
        "idea_missing": why,
    }


def load():
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def table(rows, pair, load_before, load_after, args):
    out = [
        f"One process, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, load average {load_before} (before) / "
        f"{load_after} (after), best of {args.repeats}; `python3 benches/python_compare.py"
        + (" --large" if args.large else "")
        + "`.",
        "",
        "| n | confine `spectrum()` (pairs + ⟨K⟩, ⟨V⟩) | SciPy stebz values | ratio | SciPy stebz+stein pairs | SciPy stemr pairs | max abs(ΔE) / (ε‖T‖) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        stein = fmt(r["stein"]) if "stein" in r else "not run (minutes)"
        stemr = fmt(r["stemr"]) if "stemr" in r else "not run (SciPy allocates n × n)"
        out.append(
            f"| {r['n']:.0e} | {fmt(r['confine'])} | {fmt(r['values'])} | {r['values'] / r['confine']:.1f}× | "
            f"{stein} | {stemr} | {r['agree_eps_norm']:.1f} |"
        )
    out += [
        "",
        f"Two electrons, U0 = 0.1 Ha, a = 20, L = 60 bohr, soft Coulomb s = 1, grid h = {pair['spacing']:.3g} bohr "
        f"({pair['nodes']} nodes):",
        "",
        "| solver | ground state (Ha) | minus the 2-D grid's (Ha) | time |",
        "|---|---|---|---|",
        f"| confine CI, M = {pair['orbitals']} | {pair['ci']:.12f} | {pair['ci'] - pair['grid']:.2e} | {fmt(pair['ci_seconds'])} |",
        f"| confine 2-D grid check | {pair['grid']:.12f} | 0 | {fmt(pair['grid_seconds'])} |",
    ]
    if pair["idea"] is not None:
        e, t = pair["idea"]
        out.append(f"| iDEA exact interacting | {e:.12f} | {e - pair['grid']:.2e} | {fmt(t)} |")
        out += ["", f"confine CI + grid check: {fmt(pair['total_seconds'])} against iDEA's {fmt(t)} ({t / pair['total_seconds']:.1f}×)."]
    else:
        out.append(f"| iDEA | {pair['idea_missing']} | | |")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also n = 1e6")
    parser.add_argument("--with-scipy-vectors", action="store_true", help="stebz+stein pairs beyond n = 1e4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--spacing", type=float, default=0.5, help="grid of the two-electron problem (bohr)")
    parser.add_argument("--orbitals", type=int, default=40, help="CI orbitals M")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    load_before = load()
    sizes = [9_999, 99_999] + ([999_999] if args.large else [])
    rows = [tridiagonal_rows(n, args) for n in sizes]
    pair = two_electron_rows(args)
    text = table(rows, pair, load_before, load(), args)
    print(text)
    if args.update_docs:
        blocks.update("README.md", [("python_compare", "table", text, None)])


if __name__ == "__main__":
    main()
