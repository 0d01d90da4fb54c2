"""Tiny trained runs for the tensor explorer's tests, made once per test session.

``world_run`` trains on a small ``family`` world (relations in the middle, with a truth
set next to its training file); ``quad_run`` on 4-token tuples (which the explorer
refuses). Both train in about a second.
"""

from __future__ import annotations

from pathlib import Path

import torch
from typer.testing import CliRunner

_RUNS: dict[str, Path] = {}


def _invoke(*args: str) -> None:
    from artifactlab.cli import app

    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output


def world_run(tmp_path_factory) -> Path:
    """A run on the family world (2 families, V = 29), trained 200 steps."""
    if "world" not in _RUNS:
        root = tmp_path_factory.mktemp("explorer-world")
        _invoke("make-data", "world", "family", "--out", root / "fam", "-p", "n_families=2")
        _invoke(
            "train", "--data", root / "fam" / "train.tsv", "--out", root / "run",
            "--d-model", "16", "--n-heads", "2", "--max-steps", "200", "--quiet",
        )  # fmt: skip
        _RUNS["world"] = root / "run"
    return _RUNS["world"]


def quad_run(tmp_path_factory) -> Path:
    """A run on 4-token tuples."""
    if "quad" not in _RUNS:
        root = tmp_path_factory.mktemp("explorer-quad")
        (root / "quads.tsv").write_text("a b c d\nb c d a\nc d a b\n")
        _invoke(
            "train", "--data", root / "quads.tsv", "--out", root / "run", "--d-model", "8",
            "--n-heads", "2", "--max-steps", "5", "--quiet",
        )  # fmt: skip
        _RUNS["quad"] = root / "run"
    return _RUNS["quad"]


def library_counts(run_dir: Path, taus: list[float]) -> dict[float, tuple[int, int | None]]:
    """tau -> (artifacts, generalizations) by ``evaluate_completion``, G from the world."""
    from artifactlab.runs import load_run
    from artifactlab.tensor import DataTensor
    from artifactlab.tensor.completion import evaluate_completion
    from artifactlab.web.explorer import run_truth

    run = load_run(run_dir)
    G, _, _ = run_truth(run, None)
    D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
    with torch.inference_mode():
        rep = evaluate_completion(run.model.next_token_fn(), D, taus, top_k=0, truth=G)
    gen = rep.n_generalizations
    return {t: (rep.n_artifacts[t], gen[t] if gen is not None else None) for t in taus}


def hex_rgb(color: str) -> list[int]:
    """``"#1a9850"`` -> ``[26, 152, 80]``."""
    return [int(color[i : i + 2], 16) for i in (1, 3, 5)]
