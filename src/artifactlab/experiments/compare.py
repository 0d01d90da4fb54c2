"""``artifactlab compare``: several models on one dataset with a truth set, as a sweep, plus plots.

The command writes a sweep file ``OUT/compare.yaml`` (trial kind ``truth-completion``,
one case per model preset, ``--seeds`` seeds), runs it like ``sweep run`` (results store
``OUT/compare/``, so an interrupted comparison resumes), exports ``OUT/compare.csv``
and builds, from that CSV only, the table per model and seed with the means per model
(``compare_summary.txt``/``.json``) and a scatter plot of generalizations against
hallucinations (``compare.png``).

Example
-------
>>> parse_models("cp, attn-mlp")
['cp', 'attn-mlp']
>>> print(sweep_yaml("nations", ["ngram", "cp"], seeds=2).splitlines()[0])
trial: truth-completion
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

from artifactlab.checks import name_list
from artifactlab.io import render_csv, write_figure

#: every registered model name, each at its config's defaults (chosen before any run)
DEFAULT_MODELS = ("ngram", "cp", "distmult", "rescal", "complex", "attn", "attn-mlp")
#: training for every model: Adam to a train loss under 0.01 nats (a completion), or 2000 steps
TRAINING = {"lr": 0.01, "max_steps": 2000, "loss_tol": 0.01}
#: the columns of the printed table: (CSV column, header)
COLUMNS = (
    ("params_total", "params (all)"),
    ("train_accuracy", "train acc"),
    ("test_accuracy", "test acc"),
    ("tail_mrr", "MRR (tail)"),
    ("tail_hits10", "Hits@10 (tail)"),
    ("n_artifacts@0.5", "artifacts"),
    ("generalizations@0.5", "generalizations"),
    ("hallucinations@0.5", "hallucinations"),
    ("harmless@0.5", "of which harmless"),
)


def parse_models(text: str) -> list[str]:
    """``"ngram,cp,attn"`` -> registered model names, checked (``artifactlab ls models``)."""
    from artifactlab.models.registry import MODELS

    return name_list("--models", text, list(MODELS), "model")


def sweep_yaml(
    source: str, models: list[str], seeds: int, params: dict | None = None, data_seed: int = 0
) -> str:
    """The sweep file of a comparison."""
    data: dict = {"source": source}
    if params:
        data["params"] = params
    if data_seed:
        data["seed"] = data_seed
    sweep = {
        "trial": "truth-completion",
        "name": "compare",
        "base": {"data": data, "train": dict(TRAINING), "eval": {"taus": [0.5]}},
        "cases": [{"model.kind": m} for m in models],
        "seeds": seeds,
    }
    return yaml.safe_dump(sweep, sort_keys=False)


def model_label(row: dict[str, str]) -> str:
    """The registered name of a CSV row's model (``attn-mlp`` for a transformer with its MLP)."""
    from artifactlab.models.registry import MODELS

    kind = row["model.kind"]
    for spec in MODELS.values():  # the name whose preset the row matches, presets first
        if (
            spec.kind == kind
            and spec.preset
            and all(row.get(f"model.{k}") == str(v) for k, v in spec.preset.items())
        ):
            return spec.name
    return kind


def summarise(csv_path: Path) -> dict:
    """Each table column per model and seed, and its mean per model, from ``compare.csv``.

    Nothing is retrained. Returns ``{"trials": [...], "rows": [...], "text": str}``: one
    entry per model and seed, one per model (means over its seeds), and both as tables.
    """
    by_model: dict[str, list[dict[str, str]]] = defaultdict(list)
    with csv_path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            by_model[model_label(row)].append(row)
    trials, rows = [], []
    for label, group in by_model.items():
        values = {c: [_number(r.get(c)) for r in group] for c, _ in COLUMNS}
        for i, r in enumerate(group):
            trials.append({"model": label, "seed": int(r["seed"]),
                           **{c: v[i] for c, v in values.items()}})  # fmt: skip
        mean = {c: float(np.nanmean(v)) if not np.all(np.isnan(v)) else float("nan")
                for c, v in values.items()}  # fmt: skip
        rows.append({"model": label, "seeds": len(group), **mean})
    text = (
        "per model and seed:\n" + _text(trials, "seed")
        + "\n\nmeans over seeds:\n" + _text(rows, "seeds")
    )  # fmt: skip
    return {"trials": trials, "rows": rows, "text": text}


def _number(cell: str | None) -> float:
    return float(cell) if cell not in (None, "", "nan") else float("nan")


def _text(rows: list[dict], key: str) -> str:
    # a column no model has a value for (harmless artifacts outside grammar) is left out
    columns = [(c, h) for c, h in COLUMNS if any(not np.isnan(r[c]) for r in rows)]
    header = ["model", key, *(h for _, h in columns)]
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    for row in rows:
        cells = [row["model"], str(row[key])]
        for column, _ in columns:
            value = row[column]
            cells.append(
                f"{value:,.0f}"
                if column.startswith(("n_", "gen", "hal", "harm", "par"))
                else f"{value:.3f}"
            )
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def plot(csv_path: Path, png_path: Path, title: str) -> Path:
    """Generalizations against hallucinations at tau 0.5, one point per model and seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with csv_path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            xy = (float(row["hallucinations@0.5"]), float(row["generalizations@0.5"]))
            points[model_label(row)].append(xy)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for label, xy in points.items():
        arr = np.array(xy)
        ax.scatter(arr[:, 0], arr[:, 1], label=label, alpha=0.8)
    ax.set_xlabel("hallucinations (artifacts not in G), tau = 0.5")
    ax.set_ylabel("generalizations (artifacts in G)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    try:
        write_figure(png_path, fig)
    finally:
        plt.close(fig)
    return png_path


def render(out: Path, title: str) -> dict:
    """Summary and plot from ``OUT/compare.csv``."""
    return render_csv(
        out, "compare", summarise, lambda _, png: plot(out / "compare.csv", png, title)
    )
