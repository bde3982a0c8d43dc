"""The paper's Fig. 3 from Python calls only: T^(K), T^(mu) per level and T^(C)(E) for one
electron in the square well U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr (atomic units).

    MPLBACKEND=Agg python examples/fig3.py [figure.png]
"""

import sys

import matplotlib.pyplot as plt
import numpy as np

import confine

HARTREE_IN_EV = 27.211386245988

well = confine.square_well(0.1, 20.0, box_half_width=200.0, spacing=0.25, levels=200)
spectrum = well.spectrum()
states = spectrum.states()
per_level = states.per_state("centered")
energy_grid = np.arange(-0.1, 0.06 + 1e-12, 1e-4)
t_canonical = states.canonical_temperature(energy_grid, 1e-4, 0.15)

shown = spectrum.energy <= 0.06
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot(spectrum.energy[shown], per_level["t_kinetic"][shown], "o", ms=3, label="$T^{(K)}$")
ax.plot(spectrum.energy[shown], per_level["t_micro"][shown], "s", ms=3, label=r"$T^{(\mu)}$")
ax.plot(energy_grid, t_canonical, "-", label="$T^{(C)}$")
ax.set_xlabel("E (Ha)")
ax.set_ylabel("T (Ha)")
ax.set_yscale("log")
ax.set_title("U0 = 0.1 Ha, a = 20 bohr, L = 200 bohr")
ax.legend()
top = ax.secondary_xaxis("top", functions=(lambda e: e * HARTREE_IN_EV, lambda v: v / HARTREE_IN_EV))
top.set_xlabel("E (eV)")
fig.tight_layout()
path = sys.argv[1] if len(sys.argv) > 1 else "fig3_temperatures.png"
fig.savefig(path, dpi=120)

drops = confine.nhc_intervals(spectrum.energy[shown], per_level["t_kinetic"][shown])
largest = max(drops, key=lambda d: d["drop"])
print(f"{path}: T^(K) falls by {100 * largest['relative_drop']:.1f} % from E = {largest['e_start']:.4f} to {largest['e_end']:.4f} Ha")
