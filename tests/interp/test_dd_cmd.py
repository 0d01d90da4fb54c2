"""``interp double-descent`` through a local Typer app (interp/cli.py pulls in other modules)."""

from __future__ import annotations

import csv
import json

import pytest
import typer
from typer.testing import CliRunner

from artifactlab.cli import app
from artifactlab.cli.interp import interp_app
from artifactlab.interp import dd_run


@pytest.fixture(scope="module")
def invoke():
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["interp", "double-descent", *[str(a) for a in args]])


def test_writes_files_and_json(invoke, tmp_path):
    out = tmp_path / "dd"
    res = invoke("--samples", 12, "--features-max", 48, "--seeds", 3, "--n-points", 8,
                 "--out", out, "--quiet", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for key in ("peak_features", "peak_test_error", "threshold_test_error", "below_test_error",
                "above_test_error", "double_descent", "seeds"):  # fmt: skip
        assert key in data
    assert data["samples"] == 12 and data["seeds"] == 3
    with (out / "double_descent.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    features = [int(r["features"]) for r in rows]
    assert features == sorted(set(features)) and 12 in features and features[-1] == 48
    assert {"features", "mean_train_error", "mean_test_error", "std_test_error"} <= set(rows[0])
    assert (out / "double_descent.png").stat().st_size > 0
    assert json.loads((out / "double_descent_summary.json").read_text())["samples"] == 12
    assert not (out / "artifacts.csv").exists()


def test_text_output(invoke, tmp_path):
    res = invoke("--samples", 8, "--features-max", 16, "--seeds", 1, "--out", tmp_path / "t", "-q")
    assert res.exit_code == 0, res.output
    assert "peak at" in res.stdout


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["--samples", 1], "--samples"),
        (["--samples", 40, "--features-max", 20], "--features-max"),
        (["--seeds", 0], "--seeds"),
        (["--kind", "poly"], "--kind"),
        (["--n-points", 1], "--n-points"),
        (["--noise", -1], "--noise"),
    ],
)
def test_bad_input(invoke, tmp_path, args, where):
    out = tmp_path / "bad"
    res = invoke(*args, "--out", out, "-q")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and where in lines[0]
    assert not out.exists()


def test_missing_parent_folders_are_created(invoke, tmp_path):
    res = invoke("--samples", 6, "--features-max", 12, "--seeds", 1, "--n-points", 4,
                 "--out", tmp_path / "no" / "dd", "-q")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (tmp_path / "no" / "dd" / "double_descent.csv").is_file()


def test_with_artifacts(invoke, tmp_path):
    out = tmp_path / "art"
    res = invoke("--samples", 8, "--features-max", 16, "--seeds", 1, "--out", out, "-q",
                 "--with-artifacts", "--artifacts-vocab", 8, "--artifacts-triples", 20,
                 "--artifacts-steps", 20)  # fmt: skip
    assert res.exit_code == 0, res.output
    with (out / "artifacts.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(dd_run.ARTIFACT_WIDTHS)
    assert {"params_non_embedding", "n_artifacts@0.5", "test_error"} <= set(rows[0])
    assert (out / "double_descent.png").exists()


#: the summary's keys before it recorded its config (readers rely on them)
OLD_KEYS = {"samples", "peak_features", "peak_test_error", "threshold_features",
            "threshold_test_error", "below_features", "below_test_error", "above_features",
            "above_test_error", "peak_over_below", "peak_over_above", "double_descent", "kind",
            "ridge", "noise", "dim", "seeds", "features_max", "files"}  # fmt: skip


def _rerun_words(config: dict) -> list[str]:
    """The command's options for a recorded config (n_test has none: it is the default)."""
    words = ["--with-artifacts"] if config["with_artifacts"] else []
    for key, value in config.items():
        if key not in ("with_artifacts", "n_test") and value is not None:
            words += [f"--{key.replace('_', '-')}", str(value)]
    return words


@pytest.mark.parametrize("with_artifacts", [False, True])
def test_summary_records_every_option(invoke, tmp_path, with_artifacts):
    out = tmp_path / "dd"
    words = ["--samples", 8, "--features-max", 20, "--seeds", 2, "--n-points", 5, "--seed", 3,
             "--ridge", 0.01, "--kind", "fourier", "--noise", 0.1, "--dim", 3]  # fmt: skip
    if with_artifacts:
        words += ["--with-artifacts", "--artifacts-vocab", 4, "--artifacts-triples", 10,
                  "--artifacts-steps", 5]  # fmt: skip
    res = invoke(*words, "--out", out, "-q")
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "double_descent_summary.json").read_text())
    config = summary["config"]
    assert OLD_KEYS | {"config", "command", "provenance"} == set(summary)
    params = typer.main.get_command(interp_app).commands["double-descent"].params
    options = {p.name for p in params} - {"out", "overwrite", "quiet", "as_json"}
    assert set(config) == options | {"n_test"}
    assert config == {"samples": 8, "features_max": 20, "seeds": 2, "n_points": 5, "seed": 3,
                      "kind": "fourier", "ridge": 0.01, "noise": 0.1, "dim": 3, "n_test": 1000,
                      "with_artifacts": with_artifacts,
                      "artifacts_vocab": 4 if with_artifacts else None,
                      "artifacts_triples": 10 if with_artifacts else None,
                      "artifacts_steps": 5 if with_artifacts else None}  # fmt: skip
    for key in ("samples", "seeds", "features_max", "kind", "ridge", "noise", "dim"):
        assert summary[key] == config[key]  # the old keys are unchanged
    assert set(summary["provenance"]) == {"version", "git_revision", "python", "torch", "created"}
    assert summary["command"][0] == "artifactlab"
    again = tmp_path / "again"  # the recorded config, rerun, writes the same tables
    res = invoke(*_rerun_words(config), "--out", again, "-q")
    assert res.exit_code == 0, res.output
    names = ["double_descent.csv"] + (["artifacts.csv"] if with_artifacts else [])
    for name in names:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    assert json.loads((again / "double_descent_summary.json").read_text())["config"] == config
