"""Shared fixtures: tiny data files and a trained tiny run folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner


def pytest_configure(config):
    # The test models are tiny: two threads fighting over tiny matmuls are several times
    # slower than one on a 2-core machine (and far slower when the machine is busy).
    torch.set_num_threads(1)


@pytest.fixture()
def cli():
    """Invoke the CLI in process; returns the click Result (stdout and stderr kept apart)."""
    from artifactlab.cli import app

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A run folder trained on a small random triple file."""
    from artifactlab.cli import app

    runner = CliRunner()
    root = tmp_path_factory.mktemp("tinyrun")
    data = root / "triples.tsv"
    res = runner.invoke(
        app,
        [
            "make-data",
            "random",
            "--vocab",
            "12",
            "--triples",
            "20",
            "--seed",
            "1",
            "--out",
            str(data),
        ],
    )
    assert res.exit_code == 0, res.output
    run = root / "run"
    res = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--out",
            str(run),
            "--d-model",
            "16",
            "--n-heads",
            "2",
            "--max-steps",
            "400",
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    return run
