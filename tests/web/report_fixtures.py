"""Tiny saved results of every kind the report reads, made once per test session.

``results_dir`` holds, in one folder: two run folders (3-token and 4-token tuples), a
tiny ``reproduce fig2``, a one-model ``compare``, a small ``mitigate``, a two-trial sweep
(its sweep file and store) with its table exported elsewhere, and the committed claim (a)
of ``docs/figures/claims``. Everything trains in about ten seconds in all.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
DOCS_FIGURES = REPO / "docs" / "figures"
_CACHE: dict[str, Path] = {}

SWEEP = """\
trial: toy-artifacts
name: mysweep
base:
  data: {kind: random, V: 10}
  model: {kind: attn, d_model: 8, n_heads: 2}
  train: {lr: 0.01, max_steps: 150, loss_tol: 0.01}
grid:
  data.N: [8, 16]
seeds: 1
"""


def invoke(*args: object) -> None:
    """Run one ``artifactlab`` command in-process; it must succeed."""
    from artifactlab.cli import app

    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output


def _runs(root: Path) -> None:
    (root / "mice.txt").write_text("mice eat cheese\nmouse eats cheese\ncats eat mice\n")
    (root / "quad.txt").write_text("a b c d\nb c d a\nc d a b\n")
    for name, data in (("run3", "mice.txt"), ("run4", "quad.txt")):
        invoke(
            "train",
            "--data",
            root / data,
            "--out",
            root / "results" / name,
            "--d-model",
            "8",
            "--n-heads",
            "2",
            "--max-steps",
            "120",
            "--quiet",
        )


def _sweeps(results: Path) -> None:
    invoke(
        "reproduce",
        "fig2",
        "--scale",
        "tiny",
        "--seeds",
        "1",
        "--workers",
        "1",
        "--quiet",
        "--out",
        results / "repro",
    )
    invoke(
        "compare",
        "--data",
        "grammar",
        "--models",
        "ngram",
        "--seeds",
        "1",
        "--workers",
        "1",
        "--quiet",
        "--out",
        results / "cmp",
    )
    invoke(
        "mitigate",
        "--data",
        "siblings",
        "--method",
        "penalty",
        "--strengths",
        "1",
        "--seeds",
        "2",
        "--steps",
        "20",
        "--workers",
        "1",
        "--quiet",
        "--out",
        results / "mit",
    )
    (results / "sw").mkdir()
    sweep = results / "sw" / "mysweep.yaml"
    sweep.write_text(SWEEP)
    invoke("sweep", "run", sweep, "--quiet")
    (results / "tables").mkdir()
    invoke("sweep", "export", sweep, "--out", results / "tables" / "mysweep.csv")


def _claims(results: Path) -> None:
    (results / "claims").mkdir()
    for path in (DOCS_FIGURES / "claims").glob("claim-a*"):
        shutil.copy(path, results / "claims" / path.name)


def results_dir(tmp_path_factory) -> Path:
    """A folder holding one small result of every kind (built once per session)."""
    if "results" not in _CACHE:
        root = tmp_path_factory.mktemp("report-results")
        _runs(root)
        _sweeps(root / "results")
        _claims(root / "results")
        _CACHE["results"] = root / "results"
    return _CACHE["results"]


def run(*args: object):
    """``artifactlab ARGS`` in-process."""
    from artifactlab.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def build(results: Path, out: Path) -> tuple[Path, dict]:
    """``artifactlab report RESULTS --out OUT --json``: the report folder and its JSON."""
    res = run("report", results, "--out", out, "--quiet", "--json")
    assert res.exit_code == 0, res.output
    return out, json.loads(res.stdout)


def page_data(out: Path) -> dict:
    """The JSON a report page embeds."""
    text = (out / "index.html").read_text()
    match = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(match.group(1))


def refused(res, out: Path, *words: str) -> None:
    """A user error: one ``error:`` line naming ``words``, exit code 2, nothing at ``out``."""
    err = res.stderr
    assert res.exit_code == 2, res.output
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    assert not out.exists()
