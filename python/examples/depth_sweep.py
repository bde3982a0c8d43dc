"""A depth sweep in a Python loop: the largest drop of T^(K) (negative heat capacity) versus the
well depth U0, for a = 20 bohr, L = 200 bohr (atomic units).

    MPLBACKEND=Agg python examples/depth_sweep.py [figure.png]
"""

import sys

import matplotlib.pyplot as plt
import numpy as np

import confine

depths = np.linspace(0.02, 0.5, 25)
relative_drop = []
for depth in depths:
    spectrum = confine.square_well(depth, 20.0, box_half_width=200.0, spacing=0.25, levels=200).spectrum()
    t_kinetic = spectrum.states().per_state()["t_kinetic"]
    drops = confine.nhc_intervals(spectrum.energy, t_kinetic)
    relative_drop.append(max((d["relative_drop"] for d in drops), default=0.0))

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(depths, 100 * np.array(relative_drop), "o-")
ax.set_xlabel("U0 (Ha)")
ax.set_ylabel("largest relative drop of $T^{(K)}$ (%)")
ax.set_title("NHC versus well depth (a = 20, L = 200 bohr)")
fig.tight_layout()
path = sys.argv[1] if len(sys.argv) > 1 else "depth_sweep_nhc.png"
fig.savefig(path, dpi=120)
print(f"{path}: {len(depths)} depths, largest T^(K) drop {100 * min(relative_drop):.1f} .. {100 * max(relative_drop):.1f} %")
