"""``artifactlab interp hull`` through a local Typer app (interp/cli.py pulls in other modules)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from artifactlab.cli import app
from artifactlab.cli.interp import interp_app
from artifactlab.io import OutputError


@pytest.fixture()
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["interp", "hull", *[str(a) for a in args]])


def write(path, rows, header="a,b"):
    path.write_text(header + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return path


@pytest.fixture()
def train(tmp_path):
    return write(tmp_path / "train.csv", [(0, 0), (1, 0), (0, 1), (1, 1)])


def test_json_in_input_order(run, train, tmp_path):
    test = write(tmp_path / "test.csv", [(2, 2), (0.5, 0.5), (1, 1), (-0.1, 0.5), (1, 0.5)])
    res = run("--train", train, "--test", test, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["inside"] == [False, True, True, False, True]
    assert data["interpolation_rate"] == pytest.approx(0.6)
    assert sum(data["decided_by"].values()) == 5


def test_text_summary(run, train, tmp_path):
    test = write(tmp_path / "test.csv", [(0.5, 0.5)])
    res = run("--train", train, "--test", test, "--quiet")
    assert res.exit_code == 0 and "interpolation rate 1.0000" in res.stdout


def test_wrong_dimension(run, train, tmp_path):
    test = write(tmp_path / "test.csv", [(0.5, 0.5, 0.5)], header="a,b,c")
    res = run("--train", train, "--test", test)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "3 dimensions" in lines[0] and "2" in lines[0].split("training points have")[1]


@pytest.mark.parametrize(("value", "needle"), [("abc", "test.csv:3"), ("inf", "non-finite")])
def test_bad_values(run, train, tmp_path, value, needle):
    test = tmp_path / "test.csv"
    test.write_text(f"a,b\n0.5,0.5\n0.1,{value}\n")
    res = run("--train", train, "--test", test)
    assert res.exit_code == 2 and res.stderr.startswith("error: ") and needle in res.stderr


def test_missing_file(run, train, tmp_path):
    res = run("--train", train, "--test", tmp_path / "nope.csv")
    assert res.exit_code == 2 and "no such file" in res.stderr


def test_experiment_writes_csv_and_png(run, tmp_path):
    res = run(
        "--experiment", "--out", tmp_path, "--dims", "1,3", "--n-trains", "10,30",
        "--n-test", "20", "--quiet",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "hull_rate.csv").read_text().splitlines()
    assert lines[0] == "dim,n_train,rate" and len(lines) == 5
    assert (tmp_path / "hull_rate.png").read_bytes()[:4] == b"\x89PNG"
    names = ["hull_rate.csv", "hull_rate.png", "hull_summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names


#: the options of ``hull`` that are not the experiment's settings
NOT_CONFIG = {"train", "test", "experiment", "out", "overwrite", "as_json", "quiet"}


def _rerun_words(config: dict) -> list[str]:
    words = []
    for key, value in config.items():
        shown = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        words += [f"--{key.replace('_', '-')}", shown]
    return words


def test_experiment_summary_records_every_setting(run, tmp_path):
    out = tmp_path / "a"
    res = run("--experiment", "--out", out, "--dims", "1,3", "--n-trains", "10,30",
              "--n-test", "15", "--seed", "7", "--tol", "1e-6", "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "hull_summary.json").read_text())
    assert summary["config"] == {"dims": [1, 3], "n_trains": [10, 30], "n_test": 15, "seed": 7,
                                 "tol": 1e-6}  # fmt: skip
    params = typer.main.get_command(interp_app).commands["hull"].params
    assert set(summary["config"]) == {p.name for p in params} - NOT_CONFIG
    assert summary["files"] == ["hull_rate.csv", "hull_rate.png", "hull_summary.json"]
    assert set(summary["provenance"]) == {"version", "git_revision", "python", "torch", "created"}
    assert summary["command"][0] == "artifactlab"
    csv_rows = (out / "hull_rate.csv").read_text().splitlines()[1:]
    assert [f"{r['dim']},{r['n_train']},{r['rate']}" for r in summary["results"]] == csv_rows
    for row in summary["results"]:  # the numbers it prints
        assert f"d={row['dim']:4d} n_train={row['n_train']:6d} rate={row['rate']:.3f}" in res.stdout
    again = tmp_path / "b"  # the recorded config, rerun, writes the same table
    res = run("--experiment", *_rerun_words(summary["config"]), "--out", again, "--quiet")
    assert res.exit_code == 0, res.output
    assert (again / "hull_rate.csv").read_bytes() == (out / "hull_rate.csv").read_bytes()
    assert json.loads((again / "hull_summary.json").read_text())["config"] == summary["config"]


def test_experiment_uses_tol(run, tmp_path):
    res = run("--experiment", "--out", tmp_path, "--dims", "2", "--n-trains", "5",
              "--n-test", "20", "--tol", "1e9", "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (tmp_path / "hull_rate.csv").read_text().splitlines()[1] == "2,5,1.0"
    bad = tmp_path / "bad"
    res = run("--experiment", "--out", bad, "--tol", "-1", "--quiet")
    assert res.exit_code == 2 and "--tol" in res.stderr and not bad.exists()


def test_experiment_writes_nothing_if_the_summary_fails(monkeypatch, tmp_path):
    from artifactlab.interp import hull

    def fail(path, obj):
        raise OSError("disk full")

    monkeypatch.setattr(hull, "write_json", fail)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="disk full"):
        hull.write_rate_experiment(out, [1], [5], 4, 0)
    assert not out.exists() or not list(out.iterdir())


def test_experiment_bad_input(run, tmp_path):
    res = run("--experiment", "--out", tmp_path, "--dims", "1,x")
    assert res.exit_code == 2 and "--dims" in res.stderr
    assert not list(tmp_path.iterdir())
