"""Python results equal the CLI's --json and CSV numbers bit for bit on the paper's case."""

import csv
import json
import math

import numpy as np

import confine
from conftest import PAPER, REFERENCE_CASE, paper_base_text, run_cli


def read_csv(path):
    """The columns of a confine CSV as float arrays (empty cells as NaN), keyed by header."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    return {name: np.array([float(r[i]) if r[i] != "" else math.nan for r in body]) for i, name in enumerate(header)}


def equal_bits(a, b):
    """Arrays equal element by element, NaN equal to NaN (bit-for-bit for finite values)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    both_nan = np.isnan(a) & np.isnan(b)
    mismatch = ~(both_nan | (a == b))
    assert not mismatch.any(), f"{mismatch.sum()} values differ, first at {np.argmax(mismatch)}: {a[mismatch][:3]} vs {b[mismatch][:3]}"


def test_spectrum_equals_cli_json(cli):
    out = json.loads(run_cli(cli, "spectrum", PAPER, "--case", REFERENCE_CASE, "--json").stdout)
    s = confine.Problem.from_file(PAPER, case=REFERENCE_CASE).spectrum()
    assert len(s) == 200
    for key in ("energy", "kinetic", "potential", "residual", "outside_probability"):
        equal_bits(getattr(s, key), out[key])
    equal_bits(s.piece_probability, out["piece_probability"])
    assert s.x.shape == (out["grid_points"],)
    assert s.solver["sturm_count_at_cutoff"] == out["solver"]["sturm_count_at_cutoff"]


def test_validate_and_converge_equal_cli_json(cli):
    problem = confine.Problem.from_file(PAPER, case=REFERENCE_CASE)
    for command, method in (("validate", problem.validate), ("converge", problem.converge)):
        out = json.loads(run_cli(cli, command, PAPER, "--case", REFERENCE_CASE, "--levels", "12", "--json").stdout)
        got = method(levels=12)
        assert set(got) == set(out)
        for key in ("observed_order", "richardson_error"):
            if key in out:
                equal_bits(got[key], out[key])
        assert len(got["levels"]) == len(out["levels"]) == 12
        for mine, theirs in zip(got["levels"], out["levels"]):
            for name, value in theirs.items():
                if isinstance(value, float):
                    equal_bits(mine[name], value)


def test_run_tables_equal_python_thermodynamics(cli, tmp_path):
    config = tmp_path / "paper_reference.toml"
    config.write_text(paper_base_text())
    run_cli(cli, "run", config, "--out", tmp_path / "out", "--no-figures")
    tables = tmp_path / "out" / "paper_reference"
    levels = read_csv(tables / "levels.csv")
    canonical = read_csv(tables / "canonical.csv")
    grid = read_csv(tables / "temperatures.csv")

    # The run may compute more levels than asked (the canonical tail): solve as many.
    s = confine.Problem.from_file(config).spectrum(levels=len(levels["n"]))
    equal_bits(s.energy, levels["energy [Ha]"])
    equal_bits(s.kinetic, levels["kinetic [Ha]"])
    states = s.states()
    per_state = states.per_state("centered")
    t_kinetic = [k for k in levels if k.startswith("T_K ")][0]
    t_micro = [k for k in levels if k.startswith("T_mu ")][0]
    equal_bits(per_state["t_kinetic"], levels[t_kinetic])
    equal_bits(per_state["entropy"], levels["S [k_B]"])
    equal_bits(per_state["t_micro"], levels[t_micro])

    c = states.canonical(canonical["T [Ha]"])
    equal_bits(c["energy"], canonical["U [Ha]"])
    equal_bits(c["entropy"], canonical["S [k_B]"])
    equal_bits(c["heat_capacity"], canonical["C [k_B]"])
    equal_bits(c["free_energy"], canonical["F [Ha]"])

    energy = grid["E [Ha]"]
    t_c = [k for k in grid if k.startswith("T_C ")][0]
    t_ke = [k for k in grid if k.startswith("T_KE ")][0]
    equal_bits(states.canonical_temperature(energy, 1e-4, 0.15), grid[t_c])
    equal_bits(states.window_temperature(energy, 0.0004)["temperature"], grid[t_ke])

    # The NHC intervals of T_E^(K) as the run lists them: those whose relative drop reaches
    # analysis.nhc_min_relative_drop (default 0.8); the rest are one below_threshold row.
    nhc = list(csv.DictReader(open(tables / "nhc.csv", newline="")))
    theirs = [r for r in nhc if r["definition"] == "T_KE"]
    every = confine.nhc_intervals(energy, grid[t_ke])
    mine = [m for m in every if m["relative_drop"] >= 0.8]
    assert len(every) > len(mine), "the paper's case has T_E^(K) drops below the threshold too"
    assert len(mine) == len(theirs) > 0
    for m, t in zip(mine, theirs):
        for key in ("e_start", "e_end", "t_start", "t_end", "drop", "relative_drop"):
            unit = "[-]" if key == "relative_drop" else "[Ha]"
            assert m[key] == float(t[f"{key} {unit}"]), key
        assert m["points"] == int(t["points [-]"])


def test_bad_config_message_equals_cli(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(paper_base_text().replace("depth = 0.1", "depth = -0.1"))
    result = run_cli(cli, "spectrum", bad, check=False)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1].removeprefix("error: ")
    try:
        confine.Problem.from_file(bad).spectrum()
    except confine.ConfineError as e:
        assert str(e) == message
    else:
        raise AssertionError("a negative depth was accepted")
