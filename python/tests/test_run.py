"""confine.run: whole studies with progress to logging, and Ctrl-C stopping a sweep cleanly."""

import logging
import os
import signal
import threading
import time

import pytest

import confine
from conftest import paper_base_text

SMALL = paper_base_text().replace("levels = 200 ", "levels = 60 ").replace(
    "energy_grid = { from = -0.1, to = 0.06, step = 0.0001 }", "energy_grid = { from = -0.1, to = 0.0, step = 0.001 }"
)


@pytest.fixture(autouse=True)
def ctrl_c_raises():
    """Python's own SIGINT handler for the duration of a test: a job started in the background
    by a non-interactive shell inherits SIGINT ignored, and Python then installs no handler, so
    Ctrl-C (here os.kill) would raise nothing and the tests below would test the launcher."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def sweep_config(tmp_path, points):
    path = tmp_path / "sweep.toml"
    path.write_text(SMALL + f"\n[sweep]\npotential.depth = {{ from = 0.05, to = 0.2, points = {points} }}\n")
    return path


def test_run_writes_the_study_and_logs_progress(tmp_path, caplog):
    config = tmp_path / "small.toml"
    config.write_text(SMALL)
    lines = []
    with caplog.at_level(logging.INFO, logger="confine"):
        report = confine.run(config, tmp_path / "out", figures=False, progress=lines.append)
    assert report["cases"] == 1 and report["out"] == str(tmp_path / "out")
    for name in ("levels.csv", "canonical.csv", "temperatures.csv", "nhc.csv", "metadata.json"):
        where = tmp_path / "out" / ("" if name == "metadata.json" else "small")
        assert (where / name).stat().st_size > 0, name
    assert lines and any("running 1 case" in r.getMessage() for r in caplog.records)


def test_sweep_progress_and_resume(tmp_path):
    config = sweep_config(tmp_path, 4)
    lines = []
    first = confine.run(config, tmp_path / "out", figures=False, progress=lines.append)
    assert first["computed"] == 4 and sum(line.startswith("[") for line in lines) == 4
    again = confine.run(config, tmp_path / "out", figures=False)
    assert again["reused"] == 4 and again["computed"] == 0


def test_ctrl_c_stops_a_sweep_at_a_case_boundary(tmp_path):
    points = 40
    config = sweep_config(tmp_path, points)
    out = tmp_path / "out"

    def interrupt_after_first_case(line):
        if line.startswith("[1/"):
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        confine.run(config, out, figures=False, progress=interrupt_after_first_case)
    assert not (out / "summary.csv").exists()
    leftovers = [p.name for p in out.iterdir() if p.name.startswith((".staging-", ".commit-"))]
    assert leftovers == []
    cases = [p for p in out.iterdir() if p.is_dir()]
    assert all((p / "metadata.json").is_file() for p in cases)
    assert 1 <= len(cases) < points
    # Running again resumes: the finished cases are reused.
    report = confine.run(config, out, figures=False)
    assert report["reused"] == len(cases) and report["computed"] == points - len(cases)
    assert (out / "summary.csv").stat().st_size > 0


def test_ctrl_c_stops_a_plain_study_and_releases_its_output(tmp_path):
    # One case with N = 1..4 electrons and two Coulomb variants: seconds of work in stages.
    config = tmp_path / "heavy.toml"
    config.write_text(
        paper_base_text()
        + "\n[particles]\nn = [1, 2, 3, 4]\nspin = \"half\"\nenergy_per_particle_max = 0.03\n"
        + "[coulomb]\neps_r = [1.0, 12.9]\norbitals = 60\ncheck_orbitals = 70\n"
        + "energy_per_particle_max = -0.04\n"
    )
    out = tmp_path / "out"

    # Ctrl-C while Python waits for the computation (not inside a progress callback).
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            confine.run(config, out, figures=False)
    finally:
        timer.cancel()
    # The work has stopped when the call returns: no computation goes on in the background
    # (this process uses no CPU while it sleeps), nothing is written, no staging is left.
    cpu = time.process_time()
    time.sleep(1.0)
    assert time.process_time() - cpu < 0.1, "the study kept computing after Ctrl-C"
    assert not (out / "metadata.json").exists()
    if out.exists():
        assert [p.name for p in out.iterdir() if p.name != ".confine-lock"] == []
    report = confine.run(config, out, figures=False)
    assert report["computed"] == 1 and (out / "metadata.json").stat().st_size > 0
