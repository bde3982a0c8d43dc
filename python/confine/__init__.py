"""confine from Python: quantum states and thermodynamics of confined particles.

Atomic units throughout (hbar = m_e = e = k_B = 1): energies in Hartree, lengths in bohr,
masses in electron masses. Every quantity given to a preset may also be a string with a unit,
as in the TOML configs ("2.7 eV", "1 nm", "0.067 m_e").

Every number comes from the compiled Rust library (the same code as the ``confine`` CLI); the
functions below only turn keyword arguments into the config's tables. Errors raise
:class:`ConfineError` (a ``ValueError``) with the CLI's message.
"""

from ._confine import (  # noqa: F401
    NHC_RELATIVE_TOLERANCE,
    ConfineError,
    Problem,
    Spectrum,
    States,
    nhc_intervals_of,
    run,
)

__all__ = [
    "ConfineError",
    "Problem",
    "Spectrum",
    "States",
    "NHC_RELATIVE_TOLERANCE",
    "square_well",
    "double_well",
    "core_shell",
    "harmonic",
    "smooth_well",
    "piecewise",
    "tabulated",
    "nhc_intervals",
    "run",
]


def _problem(origin, box_half_width, spacing, levels, mass, potential):
    """The Problem of a config given by its tables (None values are left out)."""
    config = {
        "system": {"box_half_width": box_half_width, "mass": mass},
        "potential": potential,
        "grid": {"spacing": spacing},
        "solve": {"levels": levels},
    }
    return Problem.from_dict(config, origin=origin)


def square_well(depth, half_width, *, box_half_width, spacing, levels, mass=1.0, mass_inside=None):
    """V = -depth (Hartree) for |x| < half_width (bohr), 0 elsewhere in the box [-L, L]
    (L = box_half_width, bohr); particle mass ``mass`` (m_e), ``mass_inside`` in the well."""
    return _problem(
        "confine.square_well",
        box_half_width,
        spacing,
        levels,
        mass,
        {"type": "square_well", "depth": depth, "half_width": half_width, "mass_inside": mass_inside},
    )


def double_well(
    depth, well_width, barrier_width, *, box_half_width, spacing, levels, mass=1.0, barrier_height=None
):
    """V = -depth (Hartree) on b/2 < |x| < b/2 + well_width (bohr, b = barrier_width), the
    barrier barrier_height - depth on |x| < b/2 (default height: depth), 0 elsewhere."""
    return _problem(
        "confine.double_well",
        box_half_width,
        spacing,
        levels,
        mass,
        {
            "type": "double_well",
            "depth": depth,
            "well_width": well_width,
            "barrier_width": barrier_width,
            "barrier_height": barrier_height,
        },
    )


def core_shell(
    core_depth, core_half_width, shell_depth, shell_half_width, *, box_half_width, spacing, levels, mass=1.0
):
    """V = -core_depth on |x| < core_half_width, -shell_depth on core_half_width < |x| <
    shell_half_width, 0 elsewhere (Hartree, bohr)."""
    return _problem(
        "confine.core_shell",
        box_half_width,
        spacing,
        levels,
        mass,
        {
            "type": "core_shell",
            "core_depth": core_depth,
            "core_half_width": core_half_width,
            "shell_depth": shell_depth,
            "shell_half_width": shell_half_width,
        },
    )


def harmonic(*, box_half_width, spacing, levels, omega=None, spring=None, depth=None, mass=1.0):
    """V = min(spring x^2/2 - depth, 0) (or spring x^2/2 without depth); give ``omega``
    (hbar*omega, Hartree; spring = m omega^2) or ``spring`` (Hartree/bohr^2)."""
    return _problem(
        "confine.harmonic",
        box_half_width,
        spacing,
        levels,
        mass,
        {"type": "harmonic", "omega": omega, "spring": spring, "depth": depth},
    )


def smooth_well(depth, half_width, edge_width, *, box_half_width, spacing, levels, mass=1.0):
    """Woods-Saxon V = -depth / (1 + exp((|x| - half_width) / edge_width)) (Hartree, bohr)."""
    return _problem(
        "confine.smooth_well",
        box_half_width,
        spacing,
        levels,
        mass,
        {"type": "smooth_well", "depth": depth, "half_width": half_width, "edge_width": edge_width},
    )


def piecewise(pieces, *, box_half_width, spacing, levels, mass=1.0):
    """Pieces left to right, each a dict with ``from``, ``to``, ``shape`` ("constant" with
    ``value``; "linear" with ``start``, ``end``; "harmonic" with ``spring``, ``center``,
    ``offset``) and an optional ``mass``; V = 0 outside every piece (Hartree, bohr, m_e)."""
    return _problem(
        "confine.piecewise",
        box_half_width,
        spacing,
        levels,
        mass,
        {"type": "piecewise", "pieces": [dict(p) for p in pieces]},
    )


def tabulated(x, potential, *, box_half_width, spacing, levels, mass=1.0):
    """V linear between the points (x bohr, V Hartree), 0 outside their range."""
    import numpy as np

    return Problem.tabulated(
        np.ascontiguousarray(x, dtype=np.float64),
        np.ascontiguousarray(potential, dtype=np.float64),
        float(box_half_width),
        float(spacing),
        int(levels),
        float(mass),
    )


def nhc_intervals(energy, temperature, relative_tolerance=NHC_RELATIVE_TOLERANCE, frame=False):
    """Negative-heat-capacity intervals of the curve T(E) (Hartree; NaN where T is undefined):
    a list of dicts, or a pandas DataFrame with ``frame=True`` (pandas is needed only then)."""
    import numpy as np

    records = nhc_intervals_of(
        np.ascontiguousarray(energy, dtype=np.float64),
        np.ascontiguousarray(temperature, dtype=np.float64),
        relative_tolerance,
    )
    if not frame:
        return records
    import pandas as pd

    columns = [
        "e_start", "e_end", "t_start", "t_end", "drop", "relative_drop",
        "points", "gaps", "start_index", "end_index",
    ]
    return pd.DataFrame.from_records(records, columns=columns)
