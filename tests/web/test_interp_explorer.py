"""The interpolation explorer page (``artifactlab interp explore``) without a browser."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from artifactlab.errors import InputError
from artifactlab.interp import fit1d
from artifactlab.web.interp_explorer import (
    ERRORS,
    METHODS,
    explorer_data,
    lab_errors,
    write_interp_explorer,
)


def assert_user_error(res, needle: str) -> None:
    """Exit code 2, one ``error:`` line naming ``needle``, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and needle in err, err
    assert "Traceback" not in res.output


def assert_same(got: dict, want: dict) -> None:
    """Equal errors up to rounding (SciPy's barycentric weights multiply in a random order)."""
    assert got.keys() == want.keys()
    for method, scores in want.items():
        assert got[method] == pytest.approx(scores, rel=1e-9, abs=1e-15), method


def embedded(path):
    """The JSON of the page's ``<script id="data">``."""
    text = path.read_text(encoding="utf-8")
    match = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S)
    assert match, "no embedded data"
    return json.loads(match.group(1).replace("<\\/", "</"))


def test_initial_points_are_the_labs():
    data = explorer_data(target="runge", n=11)
    x, y = fit1d.make_points("runge", 11, 0.0, 0)
    assert data["points"] == {"x": x.tolist(), "y": y.tolist()}
    assert data["bc_type"] == "not-a-knot" and data["n_grid"] == 2001


def test_reference_errors_are_fit1d_scores():
    x, y = fit1d.make_points("sine", 7, 0.1, 3, spacing="uniform")
    errors = lab_errors(x, y, "sine", 0.5)
    for method in METHODS:
        fitted = fit1d.fit(method, x, y)
        want = fit1d.evaluate_fit(fitted, fit1d.TARGETS["sine"], x.min(), x.max(), 0.5)
        assert errors[method] == pytest.approx(want._asdict(), rel=1e-12)
    # the lab's headline: the polynomial extrapolates far worse than the line on Runge
    runge = explorer_data()["reference"]
    assert runge["poly-interp"]["extrap_mse"] > 1000 * runge["linear"]["extrap_mse"]


def test_page_is_self_contained_with_data_and_ids(tmp_path):
    out = write_interp_explorer(tmp_path / "page.html", target="abs", n=6, band=0.25)
    text = out.read_text(encoding="utf-8")
    data = embedded(out)
    xy = data["points"]
    assert data["target"] == "abs" and data["band"] == 0.25 and len(xy["x"]) == 6
    assert_same(data["reference"], lab_errors(xy["x"], xy["y"], "abs", 0.25))
    for short in METHODS.values():
        for suffix in ERRORS.values():
            assert f'id="err-{short}-{suffix}"' in text
    assert "window.interpState" in text and "Plotly.react" in text  # interp.js and plotly.js
    assert not re.search(r"<(script|link)[^>]+(src|href)=", text)  # nothing fetched
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_given_points_any_order(tmp_path):
    pts = [[0.5, 1.0], [-0.5, 0.0], [0.0, 2.0]]
    data = embedded(write_interp_explorer(tmp_path / "p.html", points=pts, target="sine"))
    assert data["points"]["x"] == [0.5, -0.5, 0.0] and data["config"]["spacing"] == "given"
    assert_same(data["reference"], lab_errors([0.5, -0.5, 0.0], [1.0, 0.0, 2.0], "sine", 0.5))


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"target": "nope"}, "--target"),
        ({"band": 0.0}, "--band"),
        ({"band": float("nan")}, "--band"),
        ({"points": [[0.0, 1.0]]}, "points"),
        ({"points": [[0.0, 1.0], [0.0, 2.0]]}, "points"),
        ({"points": [[0.0, np.nan], [1.0, 2.0]]}, "points"),
        ({"points": [1.0, 2.0, 3.0]}, "points"),
        ({"points": [["a", "b"], ["c", "d"]]}, "points"),
    ],
)
def test_bad_input_is_an_input_error_and_writes_nothing(tmp_path, kwargs, where):
    with pytest.raises(InputError) as info:
        write_interp_explorer(tmp_path / "p.html", **kwargs)
    assert info.value.where == where
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_the_page_and_prints_the_errors(cli, tmp_path):
    out = tmp_path / "explore.html"
    res = cli("interp", "explore", "--out", out, "--target", "sine", "--points", 5, "--json")
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    data = embedded(out)
    assert info["methods"] == data["reference"] and info["points"] == data["points"]
    assert data["points"]["x"] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    res = cli("interp", "explore", "--out", out, "--overwrite", "--seed", 2, "--spacing",
              "uniform", "--noise", 0.05)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "poly-interp" in res.stdout and embedded(out)["config"]["spacing"] == "uniform"


def test_cli_help_lists_explore(cli):
    res = cli("interp", "--help")
    assert res.exit_code == 0 and "explore" in res.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--target", "foo"], "--target"),
        (["--target", "missing.csv"], "--target"),
        (["--points", 1], "--points"),
        (["--band", 0], "--band"),
        (["--noise", -1], "--noise"),
        (["--spacing", "odd"], "spacing"),
    ],
)
def test_cli_bad_input_is_one_line_and_writes_nothing(cli, tmp_path, args, needle):
    out = tmp_path / "explore.html"
    res = cli("interp", "explore", "--out", out, *args)
    assert_user_error(res, needle)
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_existing_file_and_missing_folder(cli, tmp_path):
    out = tmp_path / "old.html"
    out.write_text("old")
    assert_user_error(cli("interp", "explore", "--out", out), "already exists")
    assert out.read_text() == "old"
    assert_user_error(cli("interp", "explore", "--out", tmp_path / "no" / "p.html"), "folder")
    assert_user_error(cli("interp", "explore", "--out", tmp_path), "folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.html"]
