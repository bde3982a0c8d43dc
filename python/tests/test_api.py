"""The Python API: exact levels, invariants, dtypes and shapes, bad input, the GIL."""

import math
import threading
import time

import numpy as np
import pytest

import confine
from conftest import PAPER, REFERENCE_CASE

# Exact levels of the paper's well (U0 = 0.1 Ha, a = 20, L = 200 bohr), from configs/paper.toml.
EXACT_E0 = -0.0975069740914695
EXACT_E5 = -0.014912503282432
EXACT_E6 = 0.000145209652766132


def paper_well(spacing=0.25, levels=10):
    return confine.square_well(0.1, 20.0, box_half_width=200.0, spacing=spacing, levels=levels)


def test_square_well_converges_to_exact_levels_at_second_order():
    exact = np.array([EXACT_E0, EXACT_E5, EXACT_E6])
    energies = [paper_well(h, 7).spectrum().energy[[0, 5, 6]] for h in (0.5, 0.25)]
    errors = [np.abs(e - exact) for e in energies]
    # Second order: halving h divides the error by ~4 ...
    ratio = errors[0] / errors[1]
    assert np.all((ratio > 3.9) & (ratio < 4.2)), ratio
    # ... and Richardson's extrapolation removes it: left over is O(h^4), ~1e-8 Ha here.
    richardson = (4 * energies[1] - energies[0]) / 3
    assert np.max(np.abs(richardson - exact)) < 1e-7


def test_validate_exact_values_match_the_closed_form():
    v = paper_well(levels=7).validate(refinements=3)
    exact = np.array([level["exact"] for level in v["levels"]])
    assert abs(exact[0] - EXACT_E0) < 1e-14
    assert abs(exact[5] - EXACT_E5) < 1e-14
    assert abs(exact[6] - EXACT_E6) < 1e-14
    assert np.all(np.abs(v["observed_order"] - 2.0) < 0.05)


def test_harmonic_levels_are_omega_n_plus_half_with_the_grid_correction():
    omega, h = 0.01, 0.1
    s = confine.harmonic(omega=omega, box_half_width=200.0, spacing=h, levels=10).spectrum()
    n = np.arange(10)
    # The 3-point Laplacian is d^2/dx^2 + (h^2/12) d^4/dx^4 + O(h^4): first-order perturbation
    # by -(h^2/24) p^4, <p^4>_n = (3/4) omega^2 (2n^2 + 2n + 1), shifts E_n by -h^2 omega^2 (2n^2 + 2n + 1)/32.
    exact = omega * (n + 0.5)
    corrected = exact - h * h * omega * omega * (2 * n * n + 2 * n + 1) / 32
    assert np.max(np.abs(s.energy - exact)) > 1e-6
    assert np.max(np.abs(s.energy - corrected)) < 1e-9
    # Virial theorem <K> = <V>, to the same O(h^2).
    assert np.max(np.abs(s.kinetic - s.potential)) < 1e-5


def test_presets_piecewise_toml_and_units_agree_bit_for_bit():
    by_preset = paper_well(levels=20).spectrum().energy
    pieces = [{"from": -20.0, "to": 20.0, "shape": "constant", "value": -0.1}]
    by_pieces = confine.piecewise(pieces, box_half_width=200.0, spacing=0.25, levels=20).spectrum().energy
    assert np.array_equal(by_preset, by_pieces)
    from_file = confine.Problem.from_file(PAPER, case=REFERENCE_CASE).spectrum(levels=20).energy
    assert np.array_equal(by_preset, from_file)
    hartree_ev = 27.211386245988
    with_units = confine.square_well(f"{0.1 * hartree_ev} eV", 20.0, box_half_width=200.0, spacing=0.25, levels=20)
    assert np.allclose(with_units.spectrum().energy, by_preset, rtol=1e-12, atol=0)


def test_tabulated_square_profile_matches_the_well():
    x = np.array([-20.0, 20.0])
    v = np.array([-0.1, -0.1])
    tab = confine.tabulated(x, v, box_half_width=200.0, spacing=0.25, levels=10).spectrum().energy
    assert np.allclose(tab, paper_well().spectrum().energy, rtol=0, atol=1e-12)


def test_other_presets_solve():
    for problem in (
        confine.double_well(0.1, 10.0, 4.0, box_half_width=100.0, spacing=0.2, levels=6),
        confine.core_shell("2.7 eV", "1 nm", "1 eV", "3 nm", box_half_width=200.0, spacing=0.25, levels=6),
        confine.smooth_well(0.1, 20.0, 1.0, box_half_width=200.0, spacing=0.25, levels=6),
    ):
        e = problem.spectrum().energy
        assert e.shape == (6,) and np.all(np.diff(e) > 0)


def test_arrays_have_documented_dtype_and_shape():
    s = paper_well(levels=8).spectrum(wavefunctions=True)
    n = s.x.shape[0]
    for name in ("energy", "kinetic", "potential", "residual", "outside_probability"):
        a = getattr(s, name)
        assert a.dtype == np.float64 and a.shape == (8,), name
    assert s.piece_probability.dtype == np.float64 and s.piece_probability.shape == (8, 1)
    assert s.unresolved_splitting.dtype == np.bool_
    psi = s.wavefunctions
    assert psi.dtype == np.float64 and psi.shape == (n, 8)
    # Normalised on the grid (uniform spacing here) and orthogonal.
    h = s.x[1] - s.x[0]
    overlap = h * psi.T @ psi
    assert np.max(np.abs(overlap - np.eye(8))) < 1e-10
    assert np.allclose(s.piece_probability[:, 0] + s.outside_probability, 1.0, atol=1e-12)
    assert paper_well(levels=8).spectrum().wavefunctions is None
    c = s.states().canonical(np.array([0.01, 0.02]))
    assert all(v.dtype == np.float64 and v.shape == (2,) for v in c.values())
    assert s.states().multiplicity.dtype == np.uint64


def test_canonical_identities_and_inverse():
    states = paper_well(levels=200).spectrum().states()
    t = np.linspace(0.002, 0.05, 30)
    c = states.canonical(t)
    assert np.allclose(c["free_energy"], c["energy"] - t * c["entropy"], rtol=0, atol=1e-13)
    # C = dU/dT (centred differences).
    dt = 1e-6
    up, down = states.canonical(t + dt)["energy"], states.canonical(t - dt)["energy"]
    assert np.allclose(c["heat_capacity"], (up - down) / (2 * dt), rtol=1e-5)
    # T^(C)(U(T)) = T.
    back = states.canonical_temperature(c["energy"], 1e-4, 0.15)
    assert np.allclose(back, t, rtol=1e-9)
    per = states.per_state()
    assert np.array_equal(per["entropy"], np.log(np.arange(1, 201)))
    assert math.isnan(per["t_micro"][0]) and math.isnan(per["t_micro"][-1])


def test_fermions_enumerated_and_binned():
    s = paper_well(levels=200).spectrum()
    e = s.energy
    two = s.fermions(2, -0.1, spin="half")
    assert two.particles == 2
    assert two.energy[0] == 2 * e[0] and two.multiplicity[0] == 1
    spinless = s.fermions(2, -0.1, spin="none")
    assert spinless.energy[0] == e[0] + e[1]
    # The exact counts on bins equal the enumerated states below the top edge (up to the states
    # within the counting's energy error of that edge).
    bins = s.fermion_bins(2, -0.1, 1e-3, spin="half")
    top, err = bins["upper_edge"][-1], bins["energy_error_bound"]
    listed = s.fermions(2, top + err, spin="half")
    g = listed.multiplicity.astype(float)
    low, high = g[listed.energy < top - err].sum(), g[listed.energy < top + err].sum()
    assert low <= bins["count"].sum() <= high and low > 10
    # Spin 1/2: the ground state of two electrons is one singlet, then 4 states from (0, 1).
    assert list(two.multiplicity[:2]) == [1, 4] and two.energy[1] == e[0] + e[1]


def test_nhc_intervals_records_and_frame():
    energy = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    temperature = np.array([1.0, 2.0, 1.5, np.nan, 3.0])
    records = confine.nhc_intervals(energy, temperature)
    assert len(records) == 1
    assert records[0]["e_start"] == 1.0 and records[0]["e_end"] == 2.0
    assert records[0]["drop"] == 0.5
    pd = pytest.importorskip("pandas")
    frame = confine.nhc_intervals(energy, temperature, frame=True)
    assert isinstance(frame, pd.DataFrame) and frame["drop"].tolist() == [0.5]


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda: confine.Problem.from_toml("[system]\nbox_half_width = 200.0\n[potential\n"), "<string>"),
        (lambda: confine.Problem.from_toml(PAPER.read_text().replace("depth = 0.1", "dpeth = 0.1")), "dpeth"),
        (lambda: confine.Problem.from_file("/nonexistent/config.toml"), "/nonexistent/config.toml: cannot read the config file"),
        (lambda: confine.Problem.from_file(PAPER, case="nope"), 'has no case named "nope"'),
        (lambda: confine.square_well(-0.1, 20.0, box_half_width=200.0, spacing=0.25, levels=5), "potential.depth"),
        (lambda: confine.square_well(0.1, 300.0, box_half_width=200.0, spacing=0.25, levels=5), "potential.half_width"),
        (lambda: confine.square_well(0.1, 20.0, box_half_width=200.0, spacing=0.25, levels=0), "solve.levels"),
        (lambda: confine.square_well("0.1 furlongs", 20.0, box_half_width=200.0, spacing=0.25, levels=5), "potential.depth"),
        (lambda: confine.square_well(0.1, 20.0, box_half_width=200.0, spacing=0.25, levels=5, mass=object()), "system.mass"),
        (lambda: paper_well().spectrum(levels=0), "--levels must be at least 1"),
        (lambda: paper_well(spacing=5.0, levels=200).spectrum(), "computing the spectrum"),
        (lambda: confine.harmonic(omega=0.01, box_half_width=50.0, spacing=0.2, levels=5).validate(), "validation"),
        (lambda: paper_well().converge(refinements=2), "convergence study"),
        (lambda: confine.tabulated([0.0, 1.0], [0.0], box_half_width=10.0, spacing=0.1, levels=2), "x has 2 points"),
        (lambda: paper_well().spectrum().fermions(2, 0.0, spin="up"), "spin"),
        (lambda: paper_well().spectrum().states().per_state("sideways"), "difference"),
        (lambda: confine.States(np.array([1.0, 0.0]), np.array([0.0, 0.0])), "ascending"),
        (lambda: paper_well().spectrum().states().canonical(np.array([-1.0])), "temperature"),
        (lambda: paper_well().spectrum().states().window_temperature(np.array([0.0]), 0.0), "window"),
        (lambda: confine.run("/nonexistent/study.toml"), "cannot read the config file"),
    ],
)
def test_bad_input_raises_confine_error(build, expected):
    with pytest.raises(confine.ConfineError) as info:
        build()
    assert isinstance(info.value, ValueError)
    assert expected in str(info.value)


def test_gil_is_released_during_a_solve():
    problem = confine.square_well(0.1, 20.0, box_half_width=2500.0, spacing=0.05, levels=100)
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    worker = threading.Thread(target=count)
    worker.start()
    time.sleep(0.05)
    start = time.perf_counter()
    problem.spectrum()
    end = time.perf_counter()
    stop.set()
    worker.join()
    duration = end - start
    assert duration > 0.05, "the solve is too short to tell"
    inside = [t for t in ticks if start + 0.1 * duration < t < end - 0.1 * duration]
    # A solve holding the GIL would leave no tick in its middle 80 %.
    assert len(inside) >= 10, (len(inside), duration)


def test_coulomb_pair_ci_and_grid_check():
    well = confine.square_well(0.1, 20.0, box_half_width=60.0, spacing=0.5, levels=30)
    e = well.spectrum().energy
    # Without the interaction both solves give e_i + e_j: the ground state is 2 e_0, a singlet.
    off = well.coulomb_pair(20, states=3, strength=0.0, grid_check=True)
    assert abs(off["energy"][0] - 2 * e[0]) < 1e-12 and off["spin"][0] == "singlet"
    assert abs(off["grid"]["singlet"][0] - 2 * e[0]) < 1e-9
    assert abs(off["grid"]["triplet"][0] - (e[0] + e[1])) < 1e-9
    on = well.coulomb_pair(20, states=3, grid_check=True)
    for key in ("energy", "kinetic", "potential", "interaction"):
        assert on[key].dtype == np.float64 and on[key].shape == (len(on["spin"]),)
    assert np.allclose(on["energy"], on["kinetic"] + on["potential"] + on["interaction"], rtol=0, atol=1e-12)
    # CI is variational in a subspace of the grid's space: above the grid's ground state, close.
    grid_ground = on["grid"]["singlet"][0]
    assert grid_ground <= on["energy"][0] < grid_ground + 1e-3
    assert on["energy"][0] > off["energy"][0]


def test_coulomb_pair_reports_parity_leading_pair_and_the_check_in_a_larger_basis():
    well = confine.square_well(0.1, 20.0, box_half_width=60.0, spacing=0.5, levels=30)
    e = well.spectrum().energy
    off = well.coulomb_pair(20, states=3, strength=0.0)
    n = len(off["spin"])
    assert off["leading_pair"].shape == (n, 2) and off["leading_weight"].shape == (n,)
    # Without the interaction each state is one pair: weight 1, energy e_i + e_j, and the
    # parity of the pair is (-1)^(i+j) (orbital i of the symmetric well has parity (-1)^i).
    for k in range(n):
        i, j = off["leading_pair"][k]
        assert abs(off["leading_weight"][k] - 1.0) < 1e-12
        assert abs(off["energy"][k] - (e[i] + e[j])) < 1e-12
        assert off["parity"][k] == ("even" if (i + j) % 2 == 0 else "odd")
    assert list(off["leading_pair"][0]) == [0, 0] and off["spin"][0] == "singlet"
    # The check in M' = 26 orbitals: the same states, variationally lower, and the change is
    # the largest difference; without the interaction nothing changes at all.
    on = well.coulomb_pair(20, states=3, check_orbitals=26)
    c = on["convergence"]
    assert (c["coarse_orbitals"], c["fine_orbitals"]) == (20, 26)
    assert np.all(c["fine"] <= c["coarse"] + 1e-12)
    assert np.allclose(c["change"], c["fine"] - c["coarse"], rtol=0, atol=1e-15)
    assert c["max_abs_change"] == np.max(np.abs(c["change"])) > 0
    for spin in ("singlet", "triplet"):
        lowest = [x for x, s in zip(on["energy"], on["spin"]) if s == spin][:3]
        assert np.allclose(lowest, [x for x, s in zip(c["coarse"], c["spin"]) if s == spin], rtol=0, atol=1e-12)
    flat = well.coulomb_pair(20, states=3, strength=0.0, check_orbitals=26)["convergence"]
    assert flat["max_abs_change"] < 1e-12


def test_relative_table_paths_resolve_against_the_config_file(tmp_path, monkeypatch):
    (tmp_path / "well.csv").write_text("x [bohr],V [Ha]\n-20.0,-0.1\n20.0,-0.1\n")
    text = (
        "[system]\nbox_half_width = 200.0\n[potential]\ntype = \"tabulated\"\nfile = \"well.csv\"\n"
        "[grid]\nspacing = 0.25\n[solve]\nlevels = 10\n"
    )
    config = tmp_path / "tabulated.toml"
    config.write_text(text)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    from_file = confine.Problem.from_file(config).spectrum().energy
    assert np.allclose(from_file, paper_well().spectrum().energy, rtol=0, atol=1e-12)
    assert np.array_equal(confine.Problem.from_toml(text, path=config).spectrum().energy, from_file)
    with pytest.raises(confine.ConfineError, match="well.csv"):
        confine.Problem.from_toml(text)
