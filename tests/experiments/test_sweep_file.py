from pathlib import Path

import pytest

from artifactlab.errors import InputError
from artifactlab.experiments.sweep_file import config_hash, load_sweep

BASE = """\
trial: toy-artifacts
base:
  data: {V: 8, N: 10}
  model: {d_model: 8, n_heads: 2}
  train: {max_steps: 20}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        load_sweep(path, **kwargs)
    message = info.value.message
    assert "\n" not in message
    return message


def test_grid_cases_and_seeds_expand_in_order(tmp_path):
    text = BASE + "grid:\n  data.N: [10, 12]\ncases:\n  - {model.d_model: 8}\n"
    text += "  - {model.d_model: 16, train.lr: 0.003}\nseeds: [5, 7]\n"
    sweep = load_sweep(write(tmp_path, text))
    assert len(sweep.trials) == 2 * 2 * 2
    assert [t.params for t in sweep.trials[:3]] == [
        {"data.N": 10, "model.d_model": 8, "seed": 5},
        {"data.N": 10, "model.d_model": 8, "seed": 7},
        {"data.N": 12, "model.d_model": 8, "seed": 5},
    ]
    last = sweep.trials[-1].config
    assert (last["model"]["d_model"], last["train"]["lr"], last["seed"]) == (16, 0.003, 7)
    # the seed drives the data unless data.seed is set; model.V comes from the data
    assert last["data"]["seed"] == 7 and last["model"]["V"] == 8
    assert len({t.hash for t in sweep.trials}) == len(sweep.trials)


def test_groups_follow_shapes_and_max_batch(tmp_path):
    text = BASE + "grid:\n  model.d_model: [8, 16]\n  train.lr: [0.01, 0.02]\nseeds: 3\n"
    sweep = load_sweep(write(tmp_path, text + "max_batch: 4\n"))
    # same shape (d_model) regardless of lr and seed: 6 trials per shape, split 4 + 2
    assert sweep.groups == [[0, 1, 2, 3], [4, 5], [6, 7, 8, 9], [10, 11]]
    unbatched = load_sweep(write(tmp_path, text + "batch: false\n", "u.yaml"))
    assert unbatched.groups == [[i] for i in range(12)]


def test_hash_is_stable_and_depends_on_every_value():
    a = {"seed": 0, "data": {"V": 8}}
    assert config_hash(a) == config_hash({"data": {"V": 8}, "seed": 0})
    assert config_hash(a) != config_hash({"seed": 1, "data": {"V": 8}})


def test_defaults_are_filled_in_so_equal_configs_hash_equal(tmp_path):
    explicit = load_sweep(
        write(tmp_path, BASE.replace("{max_steps: 20}", "{max_steps: 20, lr: 0.01}"))
    )
    implicit = load_sweep(write(tmp_path, BASE, "t.yaml"))
    assert explicit.trials[0].hash == implicit.trials[0].hash


def test_default_store_is_named_after_the_file(tmp_path):
    a = load_sweep(write(tmp_path, BASE, "one.yaml"))
    b = load_sweep(write(tmp_path, BASE, "two.yaml"))
    assert a.default_store == tmp_path / "one" and b.default_store == tmp_path / "two"


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (BASE + "gird: {}\n", ":6", "unknown key"),
        (BASE + "seeds: 0\n", ":6", "seed count"),
        (BASE + "seeds: [1, 1]\n", ":6", "without repeats"),
        (BASE + "grid:\n  data.N: []\n", ":6", "no values"),
        (BASE + "max_batch: 0\n", ":6", "greater than or equal to 1"),
        (BASE + "batch: maybe\n", ":6", "boolean"),
        (BASE.replace("toy-artifacts", "toy"), ":1", "unknown trial kind"),
        (BASE.replace("V: 8", "V: eight"), ":3", "data.V"),
        (BASE.replace("d_model: 8", "dmodel: 8"), ":4", "model.dmodel: unknown key"),
        (BASE.replace("d_model: 8", "d_model: 7"), ":4", "not divisible"),
        (BASE.replace("max_steps: 20", "max_steps: 0"), ":5", "max-steps"),
        (BASE.replace("N: 10", "N: 65"), ":3", "exceeds the 64 possible contexts"),
        (BASE + "grid:\n  model.n_heads: [2, 3]\n", ":7", "not divisible"),
        (BASE + "cases:\n  - {train.lrr: 0.1}\n", ":7", "train.lrr: unknown key"),
        (BASE + "grid:\n  eval.taus: [[0.5, 1.5]]\n", ":7", "tau must be in (0, 1)"),
        (BASE + "grid:\n  data.V.x: [1]\n", ":7", "not a section"),
        (BASE + "metrics: [n_artifacts, accuracy]\n", ":6", "unknown metric 'accuracy'"),
        (BASE + "grid:\n  data.N: [10, 10]\n", "s.yaml", "same configuration"),
        ("trial: toy-artifacts\ntrial: toy-artifacts\n", ":2", "appears twice"),
        ("trial: [toy\n", ":2", "malformed YAML"),
        ("- just\n- a list\n", ":1", "must be a mapping"),
        (BASE + "base2: {}\n", ":6", "unknown key"),
        (BASE.replace("train:", "trian:"), ":5", "unknown section"),
    ],
)
def test_bad_files_name_the_line_and_key(tmp_path, text, where, words):
    message = error_of(write(tmp_path, text))
    assert where in message.split(" ")[0] or where in message, message
    assert words in message, message


def test_too_many_trials_says_how_many(tmp_path):
    text = BASE + "grid:\n  data.N: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  train.lr: [0.1, 0.2]\n"
    message = error_of(write(tmp_path, text + "seeds: 1000\n"))
    assert "20,000 trials" in message and "--max-trials 10,000" in message
    assert len(load_sweep(write(tmp_path, text, "ok.yaml"), max_trials=20).trials) == 20
    assert "20 trials" in error_of(write(tmp_path, text, "ok.yaml"), max_trials=19)


def test_missing_file(tmp_path):
    assert "not found" in error_of(tmp_path / "nope.yaml")
