#!/usr/bin/env python3
"""Instructions of one tridiagonal solve by phase, from a callgrind profile of the bench binary.

    RAYON_NUM_THREADS=1 CONFINE_TIMING=100000,100,1 valgrind --tool=callgrind \
        --callgrind-out-file=tri.out target/release/deps/tridiagonal-<hash>
    python3 benches/callgrind_phases.py tri.out

Sums the exclusive instruction counts of `callgrind_annotate --auto=no` by function name into
the solver's phases: Sturm brackets (`sturm.rs`, `isolate.rs`), inverse iteration
(`inverse.rs`, `compute_vectors`), the Cholesky-QR products (faer and its GEMM kernels, whose
assembly kernels have no symbols: `???`), the Rayleigh-quotient and residual sums, the bench's
own ⟨K⟩, and the rest. Standard library only.
"""

import re
import subprocess
import sys

PHASES = [
    ("sturm", ("counts_below", "isolate")),
    ("inverse", ("compute_vectors", "inverse.rs", "eigen::inverse::")),
    ("rayleigh sums", ("add_rayleigh_sums", "interior_sums")),
    ("bench <K>", ("kinetic", "benches/tridiagonal.rs")),
    ("cholesky-qr (faer)", ("faer", "gemm", "???", "pulp")),
]
LINE = re.compile(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)")


def phase_of(name):
    """The first phase whose patterns occur in the function name, or "other"."""
    for phase, patterns in PHASES:
        if any(p in name for p in patterns):
            return phase
    return "other"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", "--auto=no", sys.argv[1]],
        capture_output=True, text=True, check=True,
    ).stdout
    totals = {phase: 0 for phase, _ in PHASES}
    totals["other"] = 0
    program = 0
    for line in text.splitlines():
        m = LINE.match(line)
        if not m or m.group(2).startswith("=>"):
            continue
        count = int(m.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in m.group(2):
            program = count
        else:
            totals[phase_of(m.group(2))] += count
    print(f"total {program:.3e}")
    for phase, count in totals.items():
        print(f"{phase:20s} {count:.3e}")


if __name__ == "__main__":
    main()
