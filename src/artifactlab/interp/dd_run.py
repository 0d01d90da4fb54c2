"""Double descent as files: the sweep's CSVs, its summary and the plot drawn from them.

``artifactlab interp double-descent`` runs :func:`run_double_descent`.

Results before rendering: the sweep writes ``double_descent.csv`` (and, with
``--with-artifacts``, ``artifacts.csv``); :func:`plot` draws the figure from those files.

Example
-------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "dd"
>>> summary = run_double_descent(out, samples=10, features_max=30, seeds=2)
>>> sorted(p.name for p in out.iterdir())
['double_descent.csv', 'double_descent.png', 'double_descent_summary.json']
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from artifactlab.errors import InputError  # noqa: E402
from artifactlab.interp import double_descent as dd  # noqa: E402
from artifactlab.io import staged_files, write_figure, write_json, write_text  # noqa: E402

CSV_NAME = "double_descent.csv"
PNG_NAME = "double_descent.png"
SUMMARY_NAME = "double_descent_summary.json"
ARTIFACTS_NAME = "artifacts.csv"
#: widths of the toy transformers in the --with-artifacts panel
ARTIFACT_WIDTHS = (2, 4, 8, 16, 32)


def validate(samples: int, features_max: int, seeds: int, n_points: int) -> None:
    """Raise InputError for settings that cannot show the threshold; nothing is written first."""
    if samples < 2:
        raise InputError("--samples", f"must be >= 2, got {samples}")
    if features_max < samples:
        raise InputError(
            "--features-max",
            f"must be >= --samples ({samples}), got {features_max}",
            "the sweep must cross the interpolation threshold features = samples; "
            f"try {4 * samples}",
        )
    if seeds < 1:
        raise InputError("--seeds", f"must be >= 1, got {seeds}")
    if n_points < 2:
        raise InputError("--n-points", f"must be >= 2, got {n_points}")


def write_csv(rows: list[dict], path: Path) -> None:
    """Write rows (dicts with the same keys) as a CSV file."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def read_csv(path: Path) -> list[dict[str, float]]:
    """Rows of a numeric CSV written by :func:`write_csv`, values as floats."""
    with path.open(newline="") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def plot(out: Path, samples: int) -> Path:
    """Draw ``double_descent.png`` from the CSV files in ``out`` (second panel if artifacts.csv)."""
    rows = read_csv(out / CSV_NAME)
    art_path = out / ARTIFACTS_NAME
    n_panels = 2 if art_path.exists() else 1
    fig, axes = plt.subplots(1, n_panels, figsize=(6.5 * n_panels, 4.5), squeeze=False)
    _curve_panel(axes[0, 0], rows, samples)
    if n_panels == 2:
        _artifacts_panel(axes[0, 1], read_csv(art_path))
    try:
        return write_figure(out / PNG_NAME, fig)
    finally:
        plt.close(fig)


def _curve_panel(ax: plt.Axes, rows: list[dict[str, float]], samples: int) -> None:
    P = np.array([r["features"] for r in rows])
    test = np.array([r["mean_test_error"] for r in rows])
    train = np.array([r["mean_train_error"] for r in rows])
    floor = 1e-12  # the train error is ~0 past the threshold: clip so the log axis can show it
    ax.plot(P, np.maximum(test, floor), "o-", ms=3, label="test MSE (mean over seeds)")
    ax.plot(P, np.maximum(train, floor), "s-", ms=3, label=f"train MSE (clipped at {floor:g})")
    ax.axvline(samples, color="grey", ls="--", label=f"features = samples = {samples}")
    peak = int(np.argmax(test))
    ax.plot(P[peak], test[peak], "r*", ms=14, label=f"peak: {int(P[peak])} features")
    ax.set(xscale="log", yscale="log", xlabel="random features P", ylabel="mean squared error")
    ax.set_title("Double descent: min-norm random-features regression")
    ax.legend(fontsize=8)


def _artifacts_panel(ax: plt.Axes, rows: list[dict[str, float]]) -> None:
    params = sorted({r["params_non_embedding"] for r in rows})
    art = [
        np.mean([r["n_artifacts@0.5"] for r in rows if r["params_non_embedding"] == p])
        for p in params
    ]
    err = [
        np.mean([r["test_error"] for r in rows if r["params_non_embedding"] == p]) for p in params
    ]
    ax.plot(params, art, "o-", color="C2", label="artifacts (tau = 0.5)")
    ax.set(xscale="log", xlabel="non-embedding parameters", ylabel="artifacts")
    twin = ax.twinx()
    twin.plot(params, err, "s--", color="C3", label="held-out error (random triples)")
    twin.set(ylim=(0, 1.05), ylabel="held-out error (chance: 1 - 1/V)")
    ax.set_title("Toy transformer on random triples")
    lines = ax.get_lines() + twin.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], fontsize=8, loc="center right")


def _text(summary: dict) -> str:
    return (
        f"test MSE: {summary['below_test_error']:.3g} at {summary['below_features']} features, "
        f"{summary['threshold_test_error']:.3g} at the threshold ({summary['samples']}), "
        f"{summary['above_test_error']:.3g} at {summary['above_features']}; "
        f"peak at {summary['peak_features']} features"
    )


def _check_artifacts(V: int, N: int, steps: int) -> None:
    if V < 2 or steps < 1:
        raise InputError("--artifacts-vocab/--artifacts-steps", "must be >= 2 and >= 1")
    if not 5 <= N <= V * V:
        raise InputError("--artifacts-triples", f"must be in [5, V^2 = {V * V}], got {N}")


def run_config(
    samples: int,
    features_max: int,
    seeds: int,
    n_points: int,
    problem: dd.Problem,
    seed: int,
    artifacts: tuple[int, int, int] | None,
) -> dict:
    """The ``config`` the summary records: every setting of :func:`run_double_descent`.

    Keys are the options of ``artifactlab interp double-descent`` (``features_max`` is
    ``--features-max``, ...), plus ``n_test``, the held-out points of ``problem`` (no option
    sets it: the command uses the default). Without ``artifacts`` the ``artifacts_*`` are None.

    >>> config = run_config(10, 30, 2, 5, dd.Problem(10), 0, None)
    >>> config["with_artifacts"], config["artifacts_vocab"], config["n_test"]
    (False, None, 1000)
    """
    vocab, triples, steps = artifacts if artifacts is not None else (None, None, None)
    return {
        "samples": samples,
        "features_max": features_max,
        "seeds": seeds,
        "n_points": n_points,
        "seed": seed,
        "kind": problem.kind,
        "ridge": problem.ridge,
        "noise": problem.noise,
        "dim": problem.dim,
        "n_test": problem.n_test,
        "with_artifacts": artifacts is not None,
        "artifacts_vocab": vocab,
        "artifacts_triples": triples,
        "artifacts_steps": steps,
    }


def _write(
    out: Path,
    rows: list[dict],
    art_rows: list[dict] | None,
    samples: int,
    problem: dd.Problem,
    config: dict,
) -> dict:
    from artifactlab.provenance import provenance

    summary = dict(dd.summarise(rows, samples))
    summary.update(kind=problem.kind, ridge=problem.ridge, noise=problem.noise, dim=problem.dim)
    summary.update(seeds=int(rows[0]["seeds"]), features_max=int(rows[-1]["features"]))
    summary["files"] = [CSV_NAME, PNG_NAME, SUMMARY_NAME] + ([ARTIFACTS_NAME] if art_rows else [])
    summary["config"] = config
    summary["command"] = ["artifactlab", *sys.argv[1:]]
    summary["provenance"] = provenance()
    with staged_files(out) as tmp:  # CSVs, summary and plot appear together or not at all
        write_csv(rows, tmp / CSV_NAME)
        if art_rows:
            write_csv(art_rows, tmp / ARTIFACTS_NAME)
        write_json(tmp / SUMMARY_NAME, summary)
        plot(tmp, samples)
    if not art_rows:  # a panel left from an earlier run in this folder would look new
        (out / ARTIFACTS_NAME).unlink(missing_ok=True)
    return summary


def run_double_descent(
    out: Path,
    samples: int = 40,
    features_max: int = 200,
    seeds: int = 10,
    n_points: int = 30,
    problem: dd.Problem | None = None,
    seed: int = 0,
    artifacts: tuple[int, int, int] | None = None,
    advance: Callable[[int], None] = lambda k: None,
) -> dict:
    """Run the sweep (and, with ``artifacts = (V, N, steps)``, the toy-transformer panel).

    Writes the CSVs, the summary and the plot into ``out`` (created); returns the summary.
    Besides the results, the summary records the ``config`` (:func:`run_config`), the
    ``command`` line and the ``provenance``.
    """
    validate(samples, features_max, seeds, n_points)
    problem = problem or dd.Problem(samples, 5, 0.2)
    config = run_config(samples, features_max, seeds, n_points, problem, seed, artifacts)
    if artifacts is not None:
        _check_artifacts(*artifacts)
    grid = dd.feature_grid(samples, features_max, n_points)
    rows = dd.sweep(
        samples, features_max, seeds, problem=problem, features=grid, seed=seed, advance=advance
    )
    art_rows = None
    if artifacts is not None:
        V, N, steps = artifacts
        art_rows = dd.artifacts_sweep(V, N, ARTIFACT_WIDTHS, 1, steps, advance)
    return _write(out, rows, art_rows, samples, problem, config)
