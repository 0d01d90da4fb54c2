"""``artifactlab interp double-descent``: sweep features through the threshold, write CSV and plot.

Results before rendering: the sweep writes ``double_descent.csv`` (and, with
``--with-artifacts``, ``artifacts.csv``); :func:`plot` draws the figure from those files.

Example
-------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "dd"
>>> app = typer.Typer()
>>> register(app)
>>> from typer.testing import CliRunner
>>> args = ["--samples", "10", "--features-max", "30", "--seeds", "2", "--out", str(out), "-q"]
>>> CliRunner().invoke(app, args).exit_code
0
>>> sorted(p.name for p in out.iterdir())
['double_descent.csv', 'double_descent.png', 'double_descent_summary.json']
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import typer  # noqa: E402

from artifactlab.cli_common import Json, Quiet, emit, require_parent, user_errors  # noqa: E402
from artifactlab.errors import InputError  # noqa: E402
from artifactlab.interp import double_descent as dd  # noqa: E402
from artifactlab.progress import progress_bar  # noqa: E402

CSV_NAME = "double_descent.csv"
PNG_NAME = "double_descent.png"
SUMMARY_NAME = "double_descent_summary.json"
ARTIFACTS_NAME = "artifacts.csv"
#: widths of the toy transformers in the --with-artifacts panel
ARTIFACT_WIDTHS = (2, 4, 8, 16, 32)


def validate(samples: int, features_max: int, seeds: int, n_points: int, out: Path) -> None:
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
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "exists and is not a folder", "choose another --out")
    require_parent(out)


def write_csv(rows: list[dict], path: Path) -> None:
    """Write rows (dicts with the same keys) as a CSV file."""
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


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
    fig.tight_layout()
    path = out / PNG_NAME
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


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
    params = sorted({r["n_params"] for r in rows})
    art = [np.mean([r["n_artifacts@0.5"] for r in rows if r["n_params"] == p]) for p in params]
    err = [np.mean([r["test_error"] for r in rows if r["n_params"] == p]) for p in params]
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


def register(app: typer.Typer) -> None:
    """Add the ``double-descent`` command to ``app``."""

    @app.command("double-descent")
    @user_errors
    def double_descent(
        out: Annotated[Path, typer.Option("--out", help="Output folder (created).")],
        samples: Annotated[int, typer.Option("--samples", help="Training points n.")] = 40,
        features_max: Annotated[
            int, typer.Option("--features-max", help="Largest feature count (>= samples).")
        ] = 200,
        seeds: Annotated[int, typer.Option("--seeds", help="Repetitions to average.")] = 10,
        n_points: Annotated[
            int, typer.Option("--n-points", help="Log-spaced feature counts (plus n-1, n, n+1).")
        ] = 30,
        ridge: Annotated[float, typer.Option("--ridge", help="Ridge penalty (0: min norm).")] = 0.0,
        kind: Annotated[str, typer.Option("--kind", help="Features: relu or fourier.")] = "relu",
        noise: Annotated[float, typer.Option("--noise", help="Train label noise std.")] = 0.2,
        dim: Annotated[int, typer.Option("--dim", help="Input dimension.")] = 5,
        seed: Annotated[int, typer.Option("--seed", help="First seed.")] = 0,
        with_artifacts: Annotated[
            bool, typer.Option("--with-artifacts", help="Add the toy-transformer panel.")
        ] = False,
        artifacts_vocab: Annotated[
            int, typer.Option("--artifacts-vocab", help="V of the artifacts panel.")
        ] = 32,
        artifacts_triples: Annotated[
            int, typer.Option("--artifacts-triples", help="Random triples (20% held out).")
        ] = 200,
        artifacts_steps: Annotated[
            int, typer.Option("--artifacts-steps", help="Training step cap per model.")
        ] = 400,
        quiet: Quiet = False,
        as_json: Json = False,
    ) -> None:
        """Test error against random features: falls, peaks at features = samples, falls again."""
        validate(samples, features_max, seeds, n_points, out)
        problem = dd.Problem(samples, dim, noise, kind=kind, ridge=ridge)  # type: ignore[arg-type]
        if with_artifacts:
            _check_artifacts(artifacts_vocab, artifacts_triples, artifacts_steps)
        grid = dd.feature_grid(samples, features_max, n_points)
        with progress_bar(len(grid) * seeds, "features x seeds", quiet) as advance:
            rows = dd.sweep(
                samples, features_max, seeds, problem=problem, features=grid, seed=seed,
                advance=advance,
            )  # fmt: skip
        art_rows = None
        if with_artifacts:
            total = len(ARTIFACT_WIDTHS)
            with progress_bar(total, "toy transformers", quiet) as advance:
                art_rows = dd.artifacts_sweep(
                    artifacts_vocab, artifacts_triples, ARTIFACT_WIDTHS, 1, artifacts_steps, advance
                )
        summary = _write(out, rows, art_rows, samples, problem)
        emit(summary, as_json, _text(summary))


def _check_artifacts(V: int, N: int, steps: int) -> None:
    if V < 2 or steps < 1:
        raise InputError("--artifacts-vocab/--artifacts-steps", "must be >= 2 and >= 1")
    if not 5 <= N <= V * V:
        raise InputError("--artifacts-triples", f"must be in [5, V^2 = {V * V}], got {N}")


def _write(
    out: Path, rows: list[dict], art_rows: list[dict] | None, samples: int, problem: dd.Problem
) -> dict:
    out.mkdir(exist_ok=True)
    write_csv(rows, out / CSV_NAME)
    if art_rows:
        write_csv(art_rows, out / ARTIFACTS_NAME)
    else:  # a panel left from an earlier run in this folder would be plotted as if new
        (out / ARTIFACTS_NAME).unlink(missing_ok=True)
    summary = dict(dd.summarise(rows, samples))
    summary.update(kind=problem.kind, ridge=problem.ridge, noise=problem.noise, dim=problem.dim)
    summary.update(seeds=int(rows[0]["seeds"]), features_max=int(rows[-1]["features"]))
    summary["files"] = [CSV_NAME, PNG_NAME, SUMMARY_NAME] + ([ARTIFACTS_NAME] if art_rows else [])
    (out / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n")
    plot(out, samples)
    return summary
