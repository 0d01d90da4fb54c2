"""``artifactlab artifacts RUN --estimate``: sampled counts, their JSON, stopping and bad input."""

from __future__ import annotations

import json

import pytest
from user_errors import assert_user_error

from artifactlab.runs import load_run
from artifactlab.tensor import DataTensor
from artifactlab.tensor.estimate import estimate_artifacts


def estimate_json(cli, run, *args):
    res = cli("artifacts", run, "--estimate", "--json", "--quiet", *args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def exact_counts(cli, run, *taus) -> dict:
    args = [a for t in taus for a in ("--tau", t)]
    res = cli("artifacts", run, "--json", "--quiet", *args)
    assert res.exit_code == 0, res.output
    counts = json.loads(res.stdout)["n_artifacts"]
    return counts if isinstance(counts, dict) else {f"{taus[0]:g}": counts}


def test_json_equals_the_library_and_covers_the_exact_count(cli, tiny_run):
    data = estimate_json(cli, tiny_run, "--samples", 20_000, "--tau", 0.2, "--tau", 0.5)
    run = load_run(tiny_run)
    D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
    expected = estimate_artifacts(run.model.next_token_fn(), D, (0.2, 0.5), 20_000, seed=0)
    assert data == {"run": str(tiny_run), **json.loads(json.dumps(expected.to_dict()))}
    exact = exact_counts(cli, tiny_run, 0.2, 0.5)
    for key, row in data["estimates"].items():
        assert {"estimate", "ci_low", "ci_high", "n_samples", "method"} <= set(row)
        assert row["ci_low"] <= exact[key] <= row["ci_high"], (key, row, exact)
        assert row["n_samples"] == 20_000
    assert data["estimates"]["0.5"]["method"] == "wilson"
    assert data["estimates"]["0.2"]["method"] == "bootstrap-percentile"
    assert data["source"] == "uniform" and data["stopped"] == "budget" and data["seed"] == 0


def test_text_table_and_progress_bar(cli, tiny_run):
    res = cli("artifacts", tiny_run, "--estimate", "--samples", 500)
    assert res.exit_code == 0, res.output
    for needle in ("estimated artifacts", "95% interval", "wilson", "per sampled context",
                   "stopped at the sample budget"):  # fmt: skip
        assert needle in res.stdout
    assert "sampling contexts (uniform)" in res.stderr
    quiet = cli("artifacts", tiny_run, "--estimate", "--samples", 500, "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_target_rel_error_stops_when_reached(cli, tiny_run):
    data = estimate_json(cli, tiny_run, "--samples", 100, "--target-rel-error", 0.05,
                         "--max-samples", 100_000)  # fmt: skip
    assert data["stopped"] == "target" and 100 < data["n_samples"] < 100_000
    assert data["estimates"]["0.5"]["rel_half_width"] < 0.05
    capped = estimate_json(cli, tiny_run, "--samples", 100, "--target-rel-error", 0.001,
                           "--max-samples", 300)  # fmt: skip
    assert capped["stopped"] == "cap" and capped["n_samples"] == 300
    text = cli("artifacts", tiny_run, "--estimate", "--samples", 100, "--target-rel-error",
               0.001, "--max-samples", 300, "--quiet")  # fmt: skip
    assert "the cap (--max-samples 300), short of the target 0.001" in text.stdout


def test_the_same_seed_gives_the_same_output(cli, tiny_run):
    args = ("--samples", 2000, "--tau", 0.3)
    first = cli("artifacts", tiny_run, "--estimate", "--json", "--quiet", "--seed", 4, *args)
    again = cli("artifacts", tiny_run, "--estimate", "--json", "--quiet", "--seed", 4, *args)
    other = cli("artifacts", tiny_run, "--estimate", "--json", "--quiet", "--seed", 5, *args)
    assert first.stdout == again.stdout != other.stdout


@pytest.mark.parametrize("source", ["corpus", "model"])
def test_other_sources(cli, tiny_run, source):
    data = estimate_json(cli, tiny_run, "--samples", 2000, "--source", source)
    assert data["source"] == source and data["n_samples"] == 2000
    row = data["estimates"]["0.5"]
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"]


def test_model_source_refused_for_a_factorization(cli, tmp_path):
    data = tmp_path / "t.txt"
    data.write_text("a r b\nb r c\nc s a\n")
    run = tmp_path / "cp"
    assert cli("train", "--data", data, "--out", run, "--model", "cp", "--quiet").exit_code == 0
    assert_user_error(cli("artifacts", run, "--estimate", "--source", "model"), "--source")
    assert estimate_json(cli, run, "--samples", 200)["n_samples"] == 200


def test_exact_path_is_unchanged(cli, tiny_run):
    data = json.loads(cli("artifacts", tiny_run, "--json", "--quiet").stdout)
    assert "n_artifacts" in data and "estimates" not in data


@pytest.mark.parametrize(
    "args,needles",
    [
        (["--estimate", "--samples", 0], ["--samples", ">= 1"]),
        (
            ["--estimate", "--target-rel-error", -0.1, "--max-samples", 10**5],
            ["--target-rel-error"],
        ),
        (["--estimate", "--target-rel-error", 0, "--max-samples", 10**5], ["--target-rel-error"]),
        (["--estimate", "--target-rel-error", 1, "--max-samples", 10**5], ["--target-rel-error"]),
        (["--estimate", "--target-rel-error", 1.5, "--max-samples", 10**5], ["(0, 1)"]),
        (["--estimate", "--target-rel-error", 0.1], ["--target-rel-error", "--max-samples"]),
        (["--estimate", "--target-rel-error", 0.1, "--max-samples", 10], ["--max-samples"]),
        (["--estimate", "--max-samples", 10**5], ["--max-samples", "--target-rel-error"]),
        (["--estimate", "--source", "zipf"], ["--source", "unknown source 'zipf'"]),
        (["--estimate", "--source", "given"], ["--source", "uniform, corpus, model"]),
        (["--estimate", "--seed", -1], ["--seed"]),
        (["--estimate", "--tau", 1.0], ["--tau"]),
        (["--samples", 100], ["--samples", "needs --estimate"]),
        (["--source", "corpus"], ["--source", "needs --estimate"]),
        (["--estimate", "--truth", "x.tsv"], ["--truth", "does not go with --estimate"]),
        (["--estimate", "--dense", "x.safetensors"], ["--dense"]),
    ],
)
def test_bad_input(cli, tiny_run, args, needles):
    assert_user_error(cli("artifacts", tiny_run, *args), *needles)
