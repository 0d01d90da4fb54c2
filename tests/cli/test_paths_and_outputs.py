"""Every command with relative paths from another working directory, and the one output policy.

Commands that resume (``sweep run``, ``reproduce``, ``compare``) say so and keep what is
finished; every other command refuses an existing non-empty output with exit code 2
unless ``--overwrite`` is given.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from user_errors import assert_user_error as user_error

from artifactlab.cli import app

SWEEP = """trial: toy-artifacts
base: {data: {V: 6, N: 8}, model: {d_model: 8, n_heads: 2}, train: {max_steps: 10}}
seeds: 2
"""


def run(*args) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture()
def elsewhere(tmp_path, monkeypatch):
    """A working directory below tmp_path; returns it (commands use paths relative to it)."""
    cwd = tmp_path / "work" / "here"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    return cwd


def test_every_command_with_relative_paths(elsewhere):
    assert (
        run("make-data", "random", "--vocab", 8, "--triples", 10, "--out", "t.tsv").exit_code == 0
    )
    res = run("train", "--data", "t.tsv", "--out", "../runs/r", "--d-model", 8, "--n-heads", 2,
              "--max-steps", 20, "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (elsewhere.parent / "runs" / "r" / "config.json").is_file()
    res = run("artifacts", "../runs/r", "--quiet", "--json", "--dense", "dense.safetensors")
    assert res.exit_code == 0, res.output and Path("dense.safetensors").is_file()
    assert run("export", "../runs/r", "--out", "tl").exit_code == 0
    assert run("make-data", "world", "siblings", "--out", "w", "-p", "n_families=2").exit_code == 0
    res = run("artifacts", "../runs/r", "--truth", "w", "--unknown", "skip", "--quiet", "--json")
    assert res.exit_code == 0, res.output
    Path("s.yaml").write_text(SWEEP)
    for args in (("run", "s.yaml", "-q"), ("status", "s.yaml"), ("export", "s.yaml")):
        res = run("sweep", *args)
        assert res.exit_code == 0, res.output
    assert len(run("sweep", "export", "s.yaml").stdout.splitlines()) == 3  # header + 2 trials
    assert run("sweep", "export", "s.yaml", "--out", "t.csv").exit_code == 0
    res = run("reproduce", "fig3", "--scale", "tiny", "--out", "fig", "--workers", 1, "--quiet")
    assert res.exit_code == 0, res.output
    res = run("compare", "--data", "w", "--models", "ngram", "--seeds", 1, "--out", "cmp",
              "--workers", 1, "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.output
    Path("xy.csv").write_text("x,y\n0,0\n1,1\n2,4\n3,9\n")
    res = run("interp", "fit", "--target", "xy.csv", "--methods", "linear,spline", "--widths", 2,
              "--seeds", 1, "--steps", 5, "--out", "fit", "-q")  # fmt: skip
    assert res.exit_code == 0, res.output
    Path("pts.csv").write_text("0,0\n1,0\n0,1\n")
    assert run("interp", "hull", "--train", "pts.csv", "--test", "pts.csv").exit_code == 0
    res = run("interp", "hull", "--experiment", "--out", "hull", "--dims", "1,2",
              "--n-trains", "10", "--n-test", 5, "-q")  # fmt: skip
    assert res.exit_code == 0, res.output
    res = run("interp", "double-descent", "--samples", 6, "--features-max", 12, "--seeds", 1,
              "--n-points", 4, "--out", "dd", "-q")  # fmt: skip
    assert res.exit_code == 0, res.output
    made = {p.name for p in elsewhere.iterdir()}
    assert {"t.tsv", "tl", "w", "s", "t.csv", "fig", "cmp", "fit", "hull", "dd"} <= made


FILE_OUTPUTS = ("make-data random", "sweep export", "artifacts --dense", "interp explore")


def _commands(root: Path) -> dict[str, list]:
    """Commands that write a fresh output; each takes its output path last."""
    data = root / "t.tsv"
    run("make-data", "random", "--vocab", 6, "--triples", 6, "--out", data)
    trained = root / "trained"
    run("train", "--data", data, "--out", trained, "--d-model", 8, "--n-heads", 2,
        "--max-steps", 5, "-q")  # fmt: skip
    (root / "s.yaml").write_text(SWEEP)
    run("sweep", "run", root / "s.yaml", "-q")
    return {
        "make-data random": ["make-data", "random", "--vocab", 6, "--triples", 6, "--out"],
        "make-data world": ["make-data", "world", "grammar", "-p", "n_nouns=2", "--out"],
        "train": ["train", "--data", data, "--d-model", 8, "--n-heads", 2, "--max-steps", 5,
                  "-q", "--out"],
        "export": ["export", trained, "--out"],
        "artifacts --dense": ["artifacts", trained, "-q", "--dense"],
        "sweep export": ["sweep", "export", root / "s.yaml", "--out"],
        "interp fit": ["interp", "fit", "--target", "sine", "--n", 5, "--methods", "linear",
                       "--widths", 2, "--seeds", 1, "--steps", 5, "-q", "--out"],
        "interp hull": ["interp", "hull", "--experiment", "--dims", 1, "--n-trains", 5,
                        "--n-test", 3, "-q", "--out"],
        "interp double-descent": ["interp", "double-descent", "--samples", 4, "--features-max",
                                  8, "--seeds", 1, "--n-points", 3, "-q", "--out"],
        "interp explore": ["interp", "explore", "--points", 5, "--out"],
    }  # fmt: skip


def test_existing_output_is_refused_unless_overwrite(tmp_path):
    for i, (command, args) in enumerate(_commands(tmp_path).items()):
        out = tmp_path / f"out{i}"
        if command in FILE_OUTPUTS:
            out.write_text("old")
            kept = out
        else:
            out.mkdir()
            kept = out / "stale.txt"
            kept.write_text("old")
        res = run(*args, out)
        user_error(res, str(out))
        assert kept.read_text() == "old", command  # nothing replaced
        res = run(*args, out, "--overwrite")
        assert res.exit_code == 0, (command, res.output)
        if command in FILE_OUTPUTS:
            assert out.read_bytes() != b"old", command
        else:
            assert not kept.exists() and any(out.iterdir()), command


def test_resuming_commands_say_so(tmp_path):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP)
    first = run("sweep", "run", sweep)
    assert first.exit_code == 0 and "resuming" not in first.stderr
    again = run("sweep", "run", sweep)
    assert again.exit_code == 0 and "resuming" in again.stderr
    assert json.loads(run("sweep", "run", sweep, "-q", "--json").stdout)["skipped"] == 2
    out = tmp_path / "fig"
    assert run("reproduce", "fig3", "--scale", "tiny", "--out", out, "--workers", 1).exit_code == 0
    res = run("reproduce", "fig3", "--scale", "tiny", "--out", out, "--workers", 1)
    assert res.exit_code == 0 and "resuming" in res.stderr


def test_out_that_is_a_file_or_a_dangling_link(tmp_path):
    data = tmp_path / "t.tsv"
    run("make-data", "random", "--vocab", 6, "--triples", 6, "--out", data)
    as_file = tmp_path / "file"
    as_file.write_text("x")
    user_error(run("train", "--data", data, "--out", as_file), "not a folder")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    user_error(run("train", "--data", data, "--out", link, "-q", "--overwrite"), str(link))
    user_error(run("reproduce", "fig3", "--scale", "tiny", "--out", as_file), "is a file")
    assert as_file.read_text() == "x" and link.is_symlink()
