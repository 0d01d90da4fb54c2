"""README blocks rendered from ``artifactlab mitigate`` result files (``mitigate.csv``).

Each renderer recomputes the summary from the CSV
(:func:`artifactlab.experiments.mitigation.summarise`), so a block can never disagree
with the committed results.

Example
-------
>>> costly([{"method": "a", "strength": 1.0, "hallucinations_removed": {"mean": 5.0},
...          "generalizations_lost": {"mean": 6.0}},
...         {"method": "b", "strength": 2.0, "hallucinations_removed": {"mean": 9.0},
...          "generalizations_lost": {"mean": 1.0}}])
['a 1']
"""

from __future__ import annotations

import functools
from pathlib import Path

from artifactlab.report.docs import renderer, table


@functools.lru_cache(maxsize=16)
def _summary(csv_path: Path) -> dict:
    from artifactlab.experiments.mitigation import summarise

    return summarise(csv_path)["datasets"][0]


def _dataset(root: str | Path, path: str) -> dict:
    return _summary((Path(root) / path).resolve())


def _label(p: dict) -> str:
    return "none" if p["method"] == "none" else f"{p['method']} {p['strength']:g}"


def _mean(m: dict) -> str:
    v = m["mean"]
    return "n/a" if v is None or v != v else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2g}")


def costly(changes: list[dict], base: dict | None = None) -> list[str]:
    """The points that lose more generalizations than they remove hallucinations.

    Without ``base``, in counts (means over seeds); with ``base`` (the unmitigated
    point), in shares: the share of its generalizations lost against the share of its
    hallucinations removed.
    """
    g0 = base["generalizations"]["mean"] if base else 1.0
    h0 = base["hallucinations"]["mean"] if base else 1.0
    out = []
    for c in changes:
        lost, removed = c["generalizations_lost"]["mean"], c["hallucinations_removed"]["mean"]
        if g0 > 0 and h0 > 0 and lost / g0 > removed / h0:
            out.append(_label(c))
    return out


@renderer("mitigate-table")
def mitigate_table(root: str | Path, path: str) -> str:
    """Means over seeds per point: hallucinations, generalizations, recall, abstentions, front."""
    ds = _dataset(root, path)
    head = ["point", "hallucinations", "generalizations", "recall of G", "test acc",
            "abstain (unobserved)", "abstain (G contexts)", "fit acc", "on front"]  # fmt: skip
    body = [
        [f"`{_label(p)}`", _mean(p["hallucinations"]), _mean(p["generalizations"]),
         _mean(p["recall"]), _mean(p["test_accuracy"]), _mean(p["abstain_unobserved"]),
         _mean(p["abstain_truth"]), _mean(p["fit_accuracy"]), "yes" if p["on_front"] else ""]
        for p in ds["points"]
    ]  # fmt: skip
    return table(head, body)


@renderer("mitigate-costly")
def mitigate_costly(root: str | Path, path: str, how: str = "count") -> str:
    """The points that lose more generalizations than they remove hallucinations, or none.

    ``how``: ``count`` (numbers of sentences) or ``share`` (shares of the unmitigated
    model's generalizations and hallucinations).
    """
    ds = _dataset(root, path)
    if how not in ("count", "share"):
        raise ValueError(f"{path}: mitigate-costly takes count or share, got {how!r}")
    base = next(p for p in ds["points"] if p["method"] == "none") if how == "share" else None
    names = costly(ds["changes"], base)
    return ", ".join(f"`{n}`" for n in names) if names else "none"


@renderer("mitigate-front")
def mitigate_front(root: str | Path, path: str) -> str:
    """The Pareto front, fewest hallucinations first."""
    return ", ".join(f"`{_label(p)}`" for p in _dataset(root, path)["front"]) or "none"
