#!/usr/bin/env python3
"""The exact levels of the paper's reference well, independently of confine, at 40 digits.

Square well V = -U0 for |x| < a, 0 for a < |x| < L, hard walls at x = +-L, mass m = 1 (atomic
units). Each parity sector is solved on [0, L]: inside cos(kx) (even) or sin(kx)/k (odd),
k = sqrt(2(E + U0)); outside sinh(q(L - x)) with q = sqrt(-2E) for E < 0 and sin(p(L - x)) with
p = sqrt(2E) for E > 0. Matching psi and psi' at x = a gives, with d = L - a,

    F(E) = f(a) + f'(a) tanh(q d) / q          (E < 0)
    F(E) = f(a) cos(p d) + f'(a) sin(p d) / p  (E > 0),

whose roots are the levels. They are bracketed by sign changes of F on a fine float grid and
polished with mpmath at 40 digits; <K> = (1/2) int |psi'|^2 / int psi^2 by mpmath quadrature.
Prints E_n and <K>_n of the lowest LEVELS levels, to compare with tests/suite/analytic.rs and
`confine validate configs/paper.toml --json` (field "exact").

Usage:  python3 validation/exact_levels.py [--levels N] [--depth U0] [--half-width a] [--box L]
Needs:  mpmath (python3 -m pip install mpmath)
"""

import argparse
import math
import sys

try:
    import mpmath as mp
except ImportError:
    sys.exit("needs mpmath: python3 -m pip install mpmath")


def inside(parity, k, x, lib):
    """f(x) and f'(x) inside the well."""
    if parity == "even":
        return lib.cos(k * x), -k * lib.sin(k * x)
    return lib.sin(k * x) / k, lib.cos(k * x)


def matching(parity, energy, u0, a, box, lib):
    """F(E): zero exactly at an eigenvalue of the parity sector."""
    k = lib.sqrt(2 * (energy + u0))
    f, df = inside(parity, k, a, lib)
    d = box - a
    if energy < 0:
        q = lib.sqrt(-2 * energy)
        return f + df * lib.tanh(q * d) / q
    if energy == 0:
        return f + df * d
    p = lib.sqrt(2 * energy)
    return f * lib.cos(p * d) + df * lib.sin(p * d) / p


def kinetic(parity, energy, u0, a, box):
    """<K> = (1/2) int |psi'|^2 dx / int psi^2 dx over [0, L] (one half of the even function)."""
    k = mp.sqrt(2 * (energy + u0))
    f, df = inside(parity, k, a, mp)
    d = box - a
    if energy < 0:
        q = mp.sqrt(-2 * energy)
        scale = f / mp.sinh(q * d)
        outside = lambda x: (scale * mp.sinh(q * (box - x)), -scale * q * mp.cosh(q * (box - x)))
    else:
        p = mp.sqrt(2 * energy)
        scale = f / mp.sin(p * d)
        outside = lambda x: (scale * mp.sin(p * (box - x)), -scale * p * mp.cos(p * (box - x)))
    norm = mp.quad(lambda x: inside(parity, k, x, mp)[0] ** 2, [0, a]) + mp.quad(
        lambda x: outside(x)[0] ** 2, [a, box]
    )
    grad = mp.quad(lambda x: inside(parity, k, x, mp)[1] ** 2, [0, a]) + mp.quad(
        lambda x: outside(x)[1] ** 2, [a, box]
    )
    return grad / (2 * norm)


def levels(count, u0, a, box):
    """The lowest `count` levels as (E, parity), E polished at the working precision."""
    fu0, fa, fbox = float(u0), float(a), float(box)
    found = []
    top = 0.05
    while len(found) < count:
        found = []
        steps = 400_000
        for parity in ("even", "odd"):
            previous = None
            for i in range(steps + 1):
                e = -fu0 + (top + fu0) * i / steps
                if e <= -fu0:
                    continue
                value = matching(parity, e, fu0, fa, fbox, math)
                if previous is not None and (previous[1] < 0) != (value < 0):
                    root = mp.findroot(
                        lambda x: matching(parity, x, u0, a, box, mp),
                        (mp.mpf(previous[0]), mp.mpf(e)),
                        solver="illinois",
                    )
                    found.append((root, parity))
                previous = (e, value)
        found.sort()
        top *= 2
    return found[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=7)
    parser.add_argument("--depth", type=float, default=0.1)
    parser.add_argument("--half-width", type=float, default=20.0)
    parser.add_argument("--box", type=float, default=200.0)
    args = parser.parse_args()
    mp.mp.dps = 40
    u0, a, box = mp.mpf(args.depth), mp.mpf(args.half_width), mp.mpf(args.box)
    print(f"# U0 = {args.depth} Ha, a = {args.half_width} bohr, L = {args.box} bohr, m = 1")
    print("n,parity,E [Ha],<K> [Ha]")
    for n, (energy, parity) in enumerate(levels(args.levels, u0, a, box)):
        print(f"{n},{parity},{mp.nstr(energy, 25)},{mp.nstr(kinetic(parity, energy, u0, a, box), 25)}")


if __name__ == "__main__":
    main()
