"""``interp fit`` through a local Typer app (the real ``interp`` app is assembled in cli.py)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from artifactlab.cli import app
from artifactlab.interp import fit_run

FAST = ["--widths", "2,4", "--seeds", "1", "--steps", "40", "--width", "4", "--quiet"]


@pytest.fixture()
def fit():
    def invoke(*args):
        return CliRunner().invoke(app, ["interp", "fit", *[str(a) for a in args]])

    return invoke


def test_writes_every_file(fit, tmp_path):
    out = tmp_path / "run"
    result = fit("--target", "runge", "--n", "9", *FAST, "--out", out)
    assert result.exit_code == 0, result.output
    names = {"fit.csv", "fit_curves.csv", "fit_points.csv", "fit.png", "pieces.csv", "pieces.png"}
    assert names | {"fit_summary.json"} == {p.name for p in out.iterdir()}
    header = (out / "fit.csv").read_text().splitlines()[0].split(",")
    assert {"method", "interp_mse", "extrap_mse", "train_mse", "n_pieces"} <= set(header)
    curves = (out / "fit_curves.csv").read_text().splitlines()[0].split(",")
    assert curves == ["x", "target", "poly-interp", "poly-lsq", "linear", "spline", "relu"]
    summary = json.loads((out / "fit_summary.json").read_text())
    assert summary["config"]["seed"] == 0 and summary["provenance"]["version"]
    assert "poly-interp" in result.output  # the table


def test_plots_rebuild_from_files_alone(fit, tmp_path):
    out = tmp_path / "run"
    assert fit("--target", "abs", "--n", "5", "--degree", "3", *FAST, "--out", out).exit_code == 0
    (out / "fit.png").unlink()
    (out / "pieces.png").unlink()
    fit_run.plot_fit(out)
    fit_run.plot_pieces(out)
    assert (out / "fit.png").stat().st_size > 0 and (out / "pieces.png").stat().st_size > 0


def test_json_has_per_method_fields(fit, tmp_path):
    out = tmp_path / "run"
    result = fit("--target", "runge", "--n", "15", "--methods", "poly-interp,linear,relu",
                 *FAST, "--out", out, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert set(info["methods"]) == {"poly-interp", "linear", "relu"}
    for fields in info["methods"].values():
        assert {"interp_mse", "extrap_mse", "train_mse", "n_pieces_inside"} <= set(fields)
    assert (
        info["methods"]["poly-interp"]["extrap_mse"] > 1e4 * info["methods"]["linear"]["extrap_mse"]
    )
    assert info["methods"]["relu"]["n_pieces"] >= info["methods"]["relu"]["n_pieces_inside"]
    assert info["methods"]["linear"]["n_pieces"] is None
    assert [p["width"] for p in info["pieces"]] == [2, 4]


def test_csv_target_without_and_with_held_out_points(fit, tmp_path):
    data = tmp_path / "xy.csv"
    data.write_text("x,y\n0,0\n1,1\n2,4\n3,9\n")
    out = tmp_path / "a"
    result = fit("--target", data, "--methods", "linear,poly-lsq", "--degree", "2", *FAST,
                 "--out", out, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    linear = json.loads(result.stdout)["methods"]["linear"]
    assert linear["interp_mse"] is None and linear["extrap_mse"] is None
    held = tmp_path / "test.csv"
    held.write_text("1.5,2.25\n4,16\n")
    result = fit("--target", data, "--methods", "linear", "--test", held, *FAST,
                 "--out", tmp_path / "b", "--json")  # fmt: skip
    linear = json.loads(result.stdout)["methods"]["linear"]
    assert linear["interp_mse"] == pytest.approx(0.25**2)
    assert linear["extrap_mse"] == pytest.approx((16 - 14) ** 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y\n0,1\n1,abc\n2,3\n", "xy.csv:3: value 'abc' is not a number"),
        ("x,y\n0,1\n1,\n2,3\n", "xy.csv:3: has a missing value"),
        ("x,y\n0,1\n1,nan\n2,3\n", "xy.csv:3: has a non-finite value"),
        ("x,y\n0,1\n1,2\n2,3\n", "degree 5 needs at least 6 distinct points, got 3"),
        ("x,y\n0,1\n", "holds 1 data rows, need at least 2"),
    ],
)
def test_bad_csv_is_one_line_exit_2_and_writes_nothing(fit, tmp_path, text, message):
    data = tmp_path / "xy.csv"
    data.write_text(text)
    out = tmp_path / "run"
    result = fit("--target", data, "--degree", "5", *FAST, "--out", out)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--target", "nonsense"],
        ["--methods", "linear,magic"],
        ["--n", "1"],
        ["--widths", "4,x"],
        ["--band", "0"],
        ["--n", "3", "--methods", "poly-lsq", "--degree", "3"],
    ],
)
def test_bad_options_are_one_line_exit_2(fit, tmp_path, args):
    out = tmp_path / "run"
    result = fit(*FAST, *args, "--out", out)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert not out.exists()


def test_refuses_a_non_empty_out(fit, tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    result = fit("--target", "sine", *FAST, "--out", tmp_path)
    assert result.exit_code == 2 and "not empty" in result.stderr
