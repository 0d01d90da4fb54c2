"""``reproduce fig3 --axis AXIS``: every axis end to end at ``--scale tiny``, via the CLI."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import artifactlab.cli
from artifactlab.experiments.reproduce import FIG3_AXES, figure_stem, sweep_text
from artifactlab.experiments.sweep_file import load_sweep
from artifactlab.report.verdicts import RULE, VERDICTS
from artifactlab.tensor.rank import unfolding_ranks

TAUS = ["0.1", "0.5", "0.9", "0.99"]
#: rank metrics that must lie in [1, V]: a fitted model puts p > 0.5 on its training triples
RANKS = ("completion_rank@0.5", "completion_rank_max@0.5", "data_rank", "data_rank_max")


def invoke(*args: str):
    return CliRunner().invoke(artifactlab.cli.app, [str(a) for a in args])


def tiny(axis: str, out) -> object:
    return invoke(
        "reproduce", "fig3", "--axis", axis, "--scale", "tiny", "--out", out,
        "--workers", "1", "--quiet", "--json",
    )  # fmt: skip


@pytest.mark.parametrize("axis", FIG3_AXES)
def test_axis_runs_end_to_end(axis, tmp_path):
    res = tiny(axis, tmp_path)
    assert res.exit_code == 0, res.output
    stem = figure_stem("fig3", axis)
    assert stem == ("fig3" if axis == "d_model" else f"fig3-{axis}")
    for suffix in (".yaml", ".csv", ".png", "_summary.txt", "_summary.json"):
        assert (tmp_path / f"{stem}{suffix}").stat().st_size > 0
    summary = json.loads(res.stdout)
    assert summary == json.loads((tmp_path / f"{stem}_summary.json").read_text())
    along = summary["axis_summary"]
    assert along["axis"] == axis and along["rule"] == RULE and along["claimed"] == "negative"
    assert list(along["verdicts"]) == TAUS
    assert all(v["verdict"] in VERDICTS for v in along["verdicts"].values())
    text = (tmp_path / f"{stem}_summary.txt").read_text()
    assert all(f"tau={tau}: " in text for tau in TAUS) and RULE in text

    rows = list(csv.DictReader((tmp_path / f"{stem}.csv").open()))
    V = int(rows[0]["data.V"])
    for row in rows:
        for name in RANKS:
            assert row[name].isdigit() and 1 <= int(row[name]) <= V, (name, row[name])
        for tau in TAUS:  # every tau has its ranks, in [0, V] (0: nothing above tau)
            rank, top = row[f"completion_rank@{tau}"], row[f"completion_rank_max@{tau}"]
            assert rank.isdigit() and top.isdigit() and int(rank) <= int(top) <= V
    # the axis, and only the axis, moves the parameter count
    values = {row[f"model.{axis}"] for row in rows}
    params = {row["params_non_embedding"] for row in rows}
    assert len(values) == len(params) == len(along["points"]) >= 2
    for point in along["points"]:
        assert set(point["artifacts"]) == set(point["completion_rank"]) == set(TAUS)
        assert 1 <= point["completion_rank"]["0.5"] <= V
        # the summary's rank is the mean over the trials at that point, read back from the CSV
        sel = [r for r in rows if float(r[f"model.{axis}"]) == point["value"]]
        assert len(sel) == point["n_trials"] == 3
        mean = sum(int(r["completion_rank@0.5"]) for r in sel) / len(sel)
        assert point["completion_rank"]["0.5"] == pytest.approx(mean)
        ci = point["artifacts"]["0.5"]
        assert ci["ci_low"] <= ci["mean"] <= ci["ci_high"] and ci["n"] == 3


@pytest.mark.parametrize("axis", FIG3_AXES)
def test_each_shipped_sweep_varies_only_its_axis(axis):
    for scale in ("default", "tiny"):
        sweep = load_sweep_text(sweep_text("fig3", scale, axis=axis))
        assert list(sweep["grid"]) == [f"model.{axis}"]
        assert sweep["base"]["eval"]["taus"] == [float(t) for t in TAUS]
    default = load_sweep_text(sweep_text("fig3", axis=axis))
    assert default["base"]["data"] == {"kind": "random", "V": 128, "N": 1000, "seed": 0}
    assert default["base"]["train"] == {
        "mode": "last", "lr": 0.01, "max_steps": 3000, "loss_tol": 0.01,
    }  # fmt: skip
    assert default["seeds"] == 3


def load_sweep_text(text: str) -> dict:
    import yaml

    return yaml.safe_load(text)


def test_default_sweeps_span_parameters_around_the_default_model(tmp_path):
    from artifactlab.experiments.training import build_model

    for axis in FIG3_AXES:
        path = tmp_path / f"{axis}.yaml"
        path.write_text(sweep_text("fig3", axis=axis))
        counts, has_default = set(), False
        for trial in load_sweep(path).trials:
            cfg = trial.config["model"]
            counts.add(build_model(cfg, seed=0).n_non_embedding_params())
            shape = (cfg["d_model"], cfg["n_heads"], cfg["n_layers"])
            widths = {cfg["d_head_qk"] or 16, cfg["d_head_vo"] or 16}
            has_default |= shape == (64, 4, 1) and widths == {16}
        assert has_default, axis  # the fig3 default model (16,384 parameters) is on every axis
        assert max(counts) / min(counts) >= 4, (axis, sorted(counts))


def test_bad_axis_is_one_line_and_exit_2(tmp_path):
    res = invoke("reproduce", "fig3", "--axis", "d_mlp", "--scale", "tiny", "--out", tmp_path)
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "--axis" in err
    assert "n_heads" in err and "Traceback" not in res.output
    assert not list(tmp_path.iterdir())  # refused before anything ran


def test_axis_with_fig2_is_refused(tmp_path):
    res = invoke("reproduce", "fig2", "--axis", "n_heads", "--scale", "tiny", "--out", tmp_path)
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "--axis" in err and "fig3 only" in err
    assert not list(tmp_path.iterdir())


def test_large_scale_only_for_d_model(tmp_path):
    res = invoke("reproduce", "fig3", "--axis", "n_layers", "--scale", "large", "--out", tmp_path)
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1, res.output
    assert "no large sweep" in res.stderr


def test_render_only_rebuilds_an_axis(tmp_path):
    assert tiny("n_layers", tmp_path).exit_code == 0
    (tmp_path / "fig3-n_layers.png").unlink()
    res = invoke("reproduce", "fig3", "--axis", "n_layers", "--out", tmp_path, "--render-only",
                 "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (tmp_path / "fig3-n_layers.png").stat().st_size > 0
    assert list(json.loads(res.stdout)["axis_summary"]["verdicts"]) == TAUS


def test_unfolding_ranks_match_the_plain_matrix_rank():
    rng = np.random.default_rng(0)
    for _ in range(100):
        shape = tuple(int(v) for v in rng.integers(1, 7, size=3))
        T = rng.random(shape) > rng.random()
        plain = tuple(
            int(np.linalg.matrix_rank(np.moveaxis(T.astype(float), k, 0).reshape(shape[k], -1)))
            for k in range(3)
        )
        assert unfolding_ranks(T) == plain


def test_unfolding_ranks_hand_computed():
    T = np.zeros((3, 3, 3), dtype=bool)
    T[0, 0, 0] = T[1, 1, 1] = True  # two simple tensors in general position: rank 2 per mode
    assert unfolding_ranks(T) == (2, 2, 2)
    T[:, 2, 2] = True  # a fiber along mode 0: a third independent column of each unfolding
    assert unfolding_ranks(T) == (3, 3, 3)
    assert unfolding_ranks(np.ones((2, 3, 4), dtype=bool)) == (1, 1, 1)
