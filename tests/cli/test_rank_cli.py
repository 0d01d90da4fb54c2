"""``artifactlab rank``: tuple files and run folders, and every bad input in one line."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import assert_user_error


@pytest.fixture()
def rank2_file(tmp_path):
    """Tuples whose D^n is a sum of two rank-one terms with disjoint supports."""
    rows = [f"a{i}\tb{j}\tc{k}" for i in range(2) for j in range(2) for k in range(2)]
    rows += [f"x{i}\ty{j}\tz{k}" for i in range(2) for j in range(2) for k in range(2)]
    path = tmp_path / "rank2.tsv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_rank_of_a_tuple_file(cli, rank2_file):
    res = cli("rank", rank2_file, "--json", "--quiet")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    D = data["tensors"]["D^n (counts)"]
    assert D["estimate"] == 2 and D["nnz"] == 16 and D["unfolding_ranks"] == [2, 2, 2]
    assert data["effective_rank"]["estimate"] == 2  # two fiber directions: c0+c1 and z0+z1
    text = cli("rank", rank2_file, "--quiet").stdout
    assert "D^n (counts)" in text and "effective rank over 8 observed fibers: 2" in text


def test_rank_of_a_run_folder(cli, tiny_run):
    res = cli("rank", tiny_run, "--tau", "0.5", "--tau", "0.2", "--json", "--quiet")
    assert res.exit_code == 0, res.output
    tensors = json.loads(res.stdout)["tensors"]
    assert {"D^n (counts)", "logits", "M^n", "1[M^n > 0.5]", "1[M^n > 0.2]"} <= set(tensors)
    assert tensors["1[M^n > 0.2]"]["nnz"] >= tensors["1[M^n > 0.5]"]["nnz"]
    assert tensors["M^n"]["nnz"] == 12**3


def test_four_way_and_two_way_tuples_work(cli, tmp_path):
    for width in (2, 4):
        path = tmp_path / f"w{width}.tsv"
        path.write_text("\n".join("\t".join(f"t{(i + j) % 3}" for j in range(width))
                                  for i in range(3)) + "\n")  # fmt: skip
        res = cli("rank", path, "--json", "--quiet")
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["n"] == width


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--tol", "0"], "--tol"),
        (["--tol", "1.5"], "--tol"),
        (["--rtol", "1"], "--rtol"),
        (["--max-rank", "0"], "--max-rank"),
        (["--max-entries", "10"], "too many to densify"),
        (["--tau", "0.5"], "run folders only"),
    ],
)
def test_bad_options_are_one_line_errors(cli, rank2_file, args, needle):
    assert_user_error(cli("rank", rank2_file, *args), needle)


def test_bad_paths_are_one_line_errors(cli, tmp_path):
    assert_user_error(cli("rank", tmp_path / "missing"), "neither a tuple file nor a run folder")
    assert_user_error(cli("rank", tmp_path), "neither a tuple file nor a run folder")
    one = tmp_path / "one.tsv"
    one.write_text("a\nb\n")
    assert_user_error(cli("rank", one), "order n = 1")


def test_too_large_a_data_tensor_states_its_size(cli, tmp_path):
    big = tmp_path / "big.tsv"
    big.write_text("\n".join(f"t{i}\tt{i + 1}\tt{i + 2}" for i in range(200)) + "\n")
    assert_user_error(cli("rank", big), "202^3 = 8,242,408 entries", "--max-entries")


def test_progress_bar_unless_quiet(cli, rank2_file):
    assert "rank fits" in cli("rank", rank2_file).stderr
    assert cli("rank", rank2_file, "--quiet").stderr == ""
