"""The interp commands through the real ``artifactlab`` app."""

from __future__ import annotations

import json


def test_interp_lists_its_three_commands(cli):
    res = cli("interp", "--help")
    assert res.exit_code == 0
    for name in ("fit", "hull", "double-descent"):
        assert name in res.stdout


def test_hull_json_through_the_main_app(cli, tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("x,y\n0,0\n1,0\n0,1\n")
    test = tmp_path / "test.csv"
    test.write_text("0.2,0.2\n1,1\n0,0\n")
    res = cli("interp", "hull", "--train", train, "--test", test, "--json", "--quiet")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["inside"] == [True, False, True]


def test_hull_wrong_dimension_is_one_line(cli, tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("0,0\n1,0\n0,1\n")
    test = tmp_path / "test.csv"
    test.write_text("0.2,0.2,0.1\n")
    res = cli("interp", "hull", "--train", train, "--test", test)
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1 and res.stderr.startswith("error: ")


def test_hull_out_without_experiment_is_refused(cli, tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("0,0\n1,0\n0,1\n")
    res = cli("interp", "hull", "--train", train, "--test", train, "--out", tmp_path / "o")
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: --out") and "--experiment" in err
    assert not (tmp_path / "o").exists()
