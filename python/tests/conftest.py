"""Shared fixtures: the repository's paths and the confine CLI the results are compared with."""

import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PAPER = REPO / "configs" / "paper.toml"
REFERENCE_CASE = "U0=0.1_a=20_L=200"


@pytest.fixture(scope="session")
def cli():
    """The confine CLI: $CONFINE_CLI (CI sets it; then it must exist), else a release build in
    target/ or python/target/; the comparisons with the CLI are skipped (visibly) without one."""
    given = os.environ.get("CONFINE_CLI")
    if given:
        path = pathlib.Path(given)
        assert path.is_file(), f"CONFINE_CLI={given} does not exist"
        return path
    for candidate in (REPO / "target" / "release" / "confine", REPO / "python" / "target" / "release" / "confine"):
        if candidate.is_file():
            return candidate
    pytest.skip("no confine CLI binary: build it with `cargo build --release` or set CONFINE_CLI")


def run_cli(cli, *args, check=True):
    """Runs the CLI; returns the CompletedProcess (text)."""
    result = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def paper_base_text():
    """The paper's reference case: the base tables of configs/paper.toml (before its [[cases]])."""
    text = PAPER.read_text()
    return text[: text.index("[[cases]]")]
