"""``artifactlab mitigate``: four mitigations at several strengths against the unmitigated model.

The command writes a sweep file ``OUT/mitigate.yaml`` of the ``mitigate`` trial kind
(:mod:`artifactlab.experiments.mitigate_trial`), made by :func:`sweep_yaml`: the
unmitigated point (method ``none``, strength 0) first, then every method at each of its
strengths (:data:`METHOD_STRENGTHS`), each point with :data:`SEEDS` seeds. Every point,
the unmitigated one included, trains for the same fixed number of steps (no loss
tolerance), so the methods are compared at equal training. The default files of
:data:`DATASETS` ship as ``sweeps/mitigate-NAME[-quick].yaml`` (:func:`write_sweeps`).

The summary is built from the exported CSV only (:func:`summarise`): per point the means
with 95% intervals over seeds (:func:`~artifactlab.report.verdicts.mean_ci`), per method
the hallucinations removed and the generalizations lost against the unmitigated point
(differences paired by seed), and the Pareto front of fewer hallucinations against more
generalizations (:data:`FRONT_RULE`). The figure is
:func:`artifactlab.report.mitigation_plot.plot`.

Example
-------
>>> parse_methods("idk, penalty")
['idk', 'penalty']
>>> [(c["mitigation.method"], c["mitigation.strength"]) for c in cases(["idk"], quick=True)]
[('none', 0.0), ('idk', 0.25), ('idk', 0.75)]
>>> print(sweep_yaml("family", quick=True).splitlines()[2])
trial: mitigate
>>> pareto_front([(10, 1), (5, 1), (5, 0), (20, 3)])
[1, 3]
"""

from __future__ import annotations

import copy
import csv
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from artifactlab.checks import name_list
from artifactlab.errors import InputError
from artifactlab.report.verdicts import mean_ci

#: the datasets whose sweep files ship with the package, with their ``data.params``
DATASETS: dict[str, dict] = {"family": {}, "siblings": {}, "nations": {}}
#: each method's strengths (the meaning of ``strength``: train.mitigation.STRENGTH)
METHOD_STRENGTHS: dict[str, tuple[float, ...]] = {
    "penalty": (0.3, 1.0, 3.0, 10.0),  # lambda
    "unsupported": (0.05, 0.1, 0.25, 0.5),  # share of the unobserved contexts
    "contradict": (0.25, 0.5, 1.0, 2.0),  # true negatives per training tuple
    "idk": (0.1, 0.25, 0.5, 0.75),  # Pi
}
METHODS = tuple(METHOD_STRENGTHS)
#: the strengths ``--quick`` keeps: the 2nd and the 4th of each method
QUICK_PICK = (1, 3)
SEEDS = 5
TAU = 0.5
MODEL = {"kind": "attn", "d_model": 32, "n_heads": 4}
#: a fixed step budget for every point (loss_tol off), the unmitigated one included
TRAIN = {"lr": 0.01, "max_steps": 1000, "loss_tol": None, "weight_decay": 0.0}
QUICK_STEPS = 300
#: name -> (CSV column, table header) of every number summarised per point
MEASURES = {
    "artifacts": (f"n_artifacts@{TAU:g}", "artifacts"),
    "hallucinations": (f"hallucinations@{TAU:g}", "hallucinations"),
    "generalizations": (f"generalizations@{TAU:g}", "generalizations"),
    "recall": (f"recall@{TAU:g}", "recall"),
    "test_accuracy": ("test_accuracy", "test acc"),
    "abstain_unobserved": (f"abstain_unobserved@{TAU:g}", "abstain unobs"),
    "abstain_truth": (f"abstain_truth@{TAU:g}", "abstain G"),
    "abstain_train": (f"abstain_train@{TAU:g}", "abstain train"),
    "train_accuracy": ("train_accuracy", "train acc"),
    "fit_accuracy": ("fit_accuracy", "fit acc"),
    "n_extra": ("n_extra", "extra sentences"),
}
#: the two tables of the text: which measures each shows
TABLES = (
    ("artifacts", "hallucinations", "generalizations", "recall", "test_accuracy"),
    ("abstain_unobserved", "abstain_truth", "abstain_train", "train_accuracy", "fit_accuracy",
     "n_extra"),
)  # fmt: skip
FRONT_RULE = (
    "a point is on the Pareto front when no other point has both fewer-or-equal mean "
    "hallucinations and more-or-equal mean generalizations, with at least one strictly"
)
DEFINITIONS = (
    f"artifacts: sentences outside the training data with p > {TAU:g} (n_artifacts@{TAU:g}); "
    "hallucinations: artifacts not in the truth set G; generalizations: artifacts in G; "
    f"recall: share of G produced with p > {TAU:g}; test acc: held-out tuples that are their "
    "context's argmax; abstentions: entries of an added token (<unsupported>, [IDK], "
    f"unrelated, not:r) with p > {TAU:g} at unobserved contexts (wanted), at contexts of G "
    "(lost generalizations) and at training contexts (damage to the fit); train acc: argmax "
    "accuracy on the augmented training tuples; fit acc: on the original ones; extra "
    "sentences: tuples the mitigation added. Strength: penalty lambda; unsupported, the "
    "share of unobserved contexts given an <unsupported> sentence; contradict, true "
    "negatives per training tuple; idk, Pi (the most target mass moved to [IDK]). "
    "Intervals: 95% Student-t over seeds; changes are paired by seed"
)


def parse_methods(text: str) -> list[str]:
    """``"penalty,idk"`` -> the methods, checked and without repeats."""
    return name_list("--method", text, METHODS, "method", "; the unmitigated model is always in")


def parse_strengths(text: str, methods: list[str]) -> dict[str, tuple[float, ...]]:
    """``"0.1,0.5"`` -> the strengths of the one method given; each a finite number > 0."""
    if len(methods) != 1:
        raise InputError(
            "--strengths", f"needs a single --method, got {len(methods)}", "add --method NAME"
        )
    values = []
    for item in (s.strip() for s in text.split(",")):
        try:
            value = float(item)
        except ValueError:
            raise InputError("--strengths", f"{item!r} is not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise InputError(
                "--strengths",
                f"must be finite numbers > 0, got {item}",
                "strength 0, the unmitigated model, is always included",
            )
        values.append(value)
    return {methods[0]: tuple(dict.fromkeys(values))}


# --- sweep files -----------------------------------------------------------------------------


def cases(
    methods: list[str] | tuple[str, ...] = METHODS,
    strengths: dict[str, tuple[float, ...]] | None = None,
    quick: bool = False,
) -> list[dict]:
    """The unmitigated point, then each method at each of its strengths."""
    out = [{"mitigation.method": "none", "mitigation.strength": 0.0}]
    for method in methods:
        chosen = (strengths or {}).get(method)
        if chosen is None:
            chosen = METHOD_STRENGTHS[method]
            chosen = tuple(chosen[i] for i in QUICK_PICK) if quick else chosen
        out += [{"mitigation.method": method, "mitigation.strength": float(s)} for s in chosen]
    return out


def sweep_yaml(
    data: str,
    methods: list[str] | tuple[str, ...] = METHODS,
    strengths: dict[str, tuple[float, ...]] | None = None,
    seeds: int = SEEDS,
    quick: bool = False,
    params: dict | None = None,
    data_seed: int = 0,
    model: dict | None = None,
    steps: int | None = None,
    sample: int | None = None,
) -> str:
    """The sweep file of one comparison (the text shipped as ``sweeps/mitigate-NAME.yaml``).

    Parameters
    ----------
    data : str
        ``data.source``; ``params`` its ``data.params`` and ``data_seed`` its ``data.seed``.
    methods, strengths : optional
        The methods, and per method the strengths that replace :data:`METHOD_STRENGTHS`.
    seeds : int
        Seeds per point.
    quick : bool
        Two strengths per method (:data:`QUICK_PICK`) and :data:`QUICK_STEPS` steps.
    model : dict, optional
        Overrides of :data:`MODEL`; with another ``kind``, the whole model section.
    steps : int, optional
        The step budget of every point (default 1000, or 300 when quick).
    sample : int, optional
        The penalty's unobserved contexts per step (default: the trial kind's, 64).
    """
    section: dict[str, Any] = {"source": data}
    if params:
        section["params"] = dict(params)
    if data_seed:
        section["seed"] = data_seed
    budget = steps if steps is not None else QUICK_STEPS if quick else TRAIN["max_steps"]
    model = model or {}
    model = model if model.get("kind", MODEL["kind"]) != MODEL["kind"] else MODEL | model
    base = {"data": section, "model": model, "train": TRAIN | {"max_steps": budget},
            "eval": {"taus": [TAU]}}  # fmt: skip
    if sample is not None:
        base["mitigation"] = {"sample": sample}
    sweep = {"trial": "mitigate", "name": "mitigate", "base": base,
             "cases": cases(methods, strengths, quick), "seeds": seeds}  # fmt: skip
    head = (
        f"# mitigations on {data} against the unmitigated model, {budget} steps each\n"
        "# written by artifactlab.experiments.mitigation\n"
    )
    return head + yaml.safe_dump(sweep, sort_keys=False)


def sweep_path(data: str, quick: bool = False) -> Path:
    """The shipped sweep file of a dataset of :data:`DATASETS`."""
    return Path(__file__).parent / "sweeps" / f"mitigate-{data}{'-quick' if quick else ''}.yaml"


def write_sweeps() -> list[Path]:
    """Rewrite the shipped sweep files from :data:`DATASETS` (run after editing the defaults)."""
    from artifactlab.io import write_text

    return [
        write_text(sweep_path(d, q), sweep_yaml(d, quick=q, params=p))
        for d, p in DATASETS.items()
        for q in (False, True)
    ]


def check(text: str) -> None:
    """Validate every point of a sweep text (seed 0); a problem names its command-line option.

    Raises
    ------
    InputError
        ``--data``, ``-p KEY``, ``--data-seed``, ``--strengths``, ``--method NAME`` or the
        config key at fault, then the trial kind's message.
    """
    from artifactlab.experiments.kinds import SectionError
    from artifactlab.experiments.mitigate_trial import MITIGATE

    sweep = yaml.safe_load(text)
    for case in sweep["cases"]:
        method, strength = case["mitigation.method"], case["mitigation.strength"]
        config = copy.deepcopy(sweep["base"])
        mitigation = dict(config.get("mitigation") or {}) | {"method": method, "strength": strength}
        config |= {"seed": 0, "mitigation": mitigation}
        try:
            MITIGATE.validate(config)
        except SectionError as err:
            raise _blame(err, method, strength) from None


def _blame(err: Any, method: str, strength: float) -> InputError:
    loc, problem = tuple(map(str, err.loc)), err.problem
    key = ".".join(loc)
    if loc == ("mitigation",) and problem.startswith("mitigation."):
        key, _, problem = problem.partition(": ")  # the mitigation's own check names its key
    if loc[0] == "data":
        where = {"params": "-p", "seed": "--data-seed"}.get(loc[1] if len(loc) > 1 else "")
        where = f"-p {loc[2]}" if where == "-p" and len(loc) > 2 else where or "--data"
        return InputError(where, f"{key}: {problem}")
    point = f"{method} at strength {strength:g}"
    if key.startswith("mitigation"):
        where = {"mitigation.strength": "--strengths", "mitigation.sample": "--sample"}.get(
            key, f"--method {method}"
        )
        return InputError(where, f"{point}: {key}: {problem}")
    if key == "train.max_steps":
        return InputError("--steps", f"{point}: {key}: {problem}")
    return InputError(key, f"{point}: {problem}")


# --- summaries from the CSV ------------------------------------------------------------------


def _num(cell: str | None) -> float:
    return float(cell) if cell not in (None, "", "None", "nan") else float("nan")


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the (hallucinations, generalizations) points on the front (:data:`FRONT_RULE`).

    Points with a NaN coordinate are never on it; the indices come in order of
    hallucinations, then of generalizations (highest first).
    """
    ok = [i for i, (h, g) in enumerate(points) if not (math.isnan(h) or math.isnan(g))]
    front = []
    for i in ok:
        h, g = points[i]
        if not any(
            points[j][0] <= h and points[j][1] >= g and (points[j][0] < h or points[j][1] > g)
            for j in ok
        ):
            front.append(i)
    return sorted(front, key=lambda i: (points[i][0], -points[i][1]))


def _value(cell: str) -> int | float | str:
    for cast in (int, float):
        try:
            return cast(cell)
        except ValueError:
            pass
    return cell


def _dataset_key(row: dict[str, str]) -> str:
    params = {k.removeprefix("data.params."): _value(v) for k, v in row.items()
              if k.startswith("data.params.") and v not in ("", None)}  # fmt: skip
    return json.dumps([row.get("data.source", ""), params, row.get("data.seed", "0")])


def _point(method: str, strength: float, group: list[dict[str, str]]) -> dict:
    entry: dict[str, Any] = {"method": method, "strength": strength, "n": len(group)}
    for name, (column, _) in MEASURES.items():
        entry[name] = mean_ci([_num(r.get(column)) for r in group])._asdict()
    entry["steps"] = mean_ci([_num(r.get("steps")) for r in group]).mean
    entry["stop_reasons"] = dict(Counter(r.get("stop_reason", "") for r in group))
    return entry


def _change(base: list[dict[str, str]], group: list[dict[str, str]], column: str) -> dict:
    """Mean of base - point over the seeds both have, with its interval."""
    before = {r["seed"]: _num(r.get(column)) for r in base}
    diffs = [before[r["seed"]] - _num(r.get(column)) for r in group if r["seed"] in before]
    return mean_ci(diffs)._asdict()


def summarise_dataset(rows: list[dict[str, str]]) -> dict:
    """Points, changes against the unmitigated point and the Pareto front of one dataset."""
    groups: dict[tuple[str, float], list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault((r["mitigation.method"], _num(r["mitigation.strength"])), []).append(r)
    order = {m: i for i, m in enumerate(("none", *METHODS))}
    keys = sorted(groups, key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    points = [_point(m, s, groups[m, s]) for m, s in keys]
    xy = [(p["hallucinations"]["mean"], p["generalizations"]["mean"]) for p in points]
    front = pareto_front(xy)
    for i, p in enumerate(points):
        p["on_front"] = i in front
    base = next((groups[k] for k in keys if k[0] == "none" or k[1] == 0), None)
    changes = []
    for (method, strength), group in zip(keys, (groups[k] for k in keys), strict=True):
        if base is None or method == "none":
            continue
        changes.append({
            "method": method, "strength": strength,
            "hallucinations_removed": _change(base, group, MEASURES["hallucinations"][0]),
            "generalizations_lost": _change(base, group, MEASURES["generalizations"][0]),
        })  # fmt: skip
    first = rows[0]
    source, params, data_seed = json.loads(_dataset_key(first))
    return {
        "dataset": source, "params": params, "data_seed": data_seed,
        "model": {k: first.get(f"model.{k}") for k in ("kind", "d_model", "n_heads")},
        "max_steps": sorted({int(_num(r.get("train.max_steps"))) for r in rows
                             if not math.isnan(_num(r.get("train.max_steps")))}),
        "points": points, "changes": changes,
        "front": [{"method": points[i]["method"], "strength": points[i]["strength"]}
                  for i in front],
    }  # fmt: skip


def summarise(csv_path: Path) -> dict:
    """The summary of a mitigation sweep from its exported CSV (nothing is retrained)."""
    with Path(csv_path).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_data: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_data.setdefault(_dataset_key(r), []).append(r)
    summary = {"rule": FRONT_RULE, "definitions": DEFINITIONS, "tau": TAU,
               "datasets": [summarise_dataset(g) for g in by_data.values()]}  # fmt: skip
    summary["text"] = summary_text(summary)
    return summary


def point_label(p: dict) -> str:
    """``none``, or ``penalty 0.3``."""
    return "none" if p["method"] == "none" else f"{p['method']} {p['strength']:g}"


def _g(value: float) -> str:
    """Three significant digits, and whole numbers from 1,000 on (never ``1.8e+03``)."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _ci(m: dict) -> str:
    if m["mean"] is None or math.isnan(m["mean"]):
        return "n/a"
    return f"{_g(m['mean'])} [{_g(m['ci_low'])}, {_g(m['ci_high'])}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [" | ".join(header), " | ".join("---" for _ in header)] + [" | ".join(r) for r in rows]


def summary_text(summary: dict) -> str:
    """The printed summary: per dataset the two tables, the changes and the front."""
    lines = [f"definitions: {summary['definitions']}", f"Pareto front: {summary['rule']}"]
    for ds in summary["datasets"]:
        params = ", ".join(f"{k}={v}" for k, v in ds["params"].items())
        model = ds["model"]
        steps = " / ".join(map(str, ds["max_steps"])) or "?"
        lines += [
            "",
            f"mitigations on {ds['dataset']}" + (f" ({params})" if params else ""),
            f"model {model['kind']} (d_model {model['d_model']}, {model['n_heads']} heads); "
            f"every point, the unmitigated one included, trains for a fixed budget of {steps} "
            "steps (no loss tolerance), so the methods are compared at equal training",
        ]
        for names in TABLES:
            header = ["point", "seeds", *(MEASURES[n][1] for n in names)]
            body = [[point_label(p), str(p["n"]), *(_ci(p[n]) for n in names)]
                    for p in ds["points"]]  # fmt: skip
            lines += ["", *_table(header, body)]
        stops = Counter()
        for p in ds["points"]:
            stops.update(p["stop_reasons"])
        lines.append("stop reasons: " + ", ".join(f"{k} {n}" for k, n in stops.items()))
        on = {(p["method"], p["strength"]) for p in ds["points"] if p["on_front"]}
        body = [[point_label(c), _ci(c["hallucinations_removed"]), _ci(c["generalizations_lost"]),
                 "yes" if (c["method"], c["strength"]) in on else "no"]
                for c in ds["changes"]]  # fmt: skip
        header = ["against none", "hallucinations removed", "generalizations lost", "on front"]
        lines += ["", *_table(header, body)]
        front = ", ".join(point_label(p) for p in ds["front"])
        lines.append(f"Pareto front (fewest hallucinations first): {front or 'none'}")
    return "\n".join(lines)


def render(out: Path) -> dict:
    """Summary (JSON and text) and figure from ``OUT/mitigate.csv``."""
    from artifactlab.io import render_csv
    from artifactlab.report.mitigation_plot import plot

    return render_csv(out, "mitigate", summarise, plot)
