"""The claims' operationalisations (panels) and their sweep files, shipped with the package.

A panel is one operationalisation of a claim: a dataset, the knob turned (an axis of
the sweep), the numbers compared, the direction the claim predicts and a sentence
saying how each term was made concrete. :func:`sweep_yaml` writes a claim's panels as
one sweep file (``sweeps/claim-X.yaml``, and ``claim-X-quick.yaml`` for ``--quick``);
:mod:`artifactlab.experiments.claims` summarises the results.

Example
-------
>>> [p.id for p in PANELS["a"]][:3]
['a1-random', 'a2-random', 'a3-random']
>>> print(sweep_yaml("a", quick=True).splitlines()[2])
trial: claim-truth
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CLAIMS = ("a", "b", "c", "d")
#: the claims as the paper states them (section 3, listed again in section 4)
STATEMENTS = {
    "a": "Overfitting leads to fewer artifacts.",
    "b": "Generalization error increases when overfitting, for lack of artifacts.",
    "c": "Generalization error is low when the effective rank of train + test is close to "
    "that of train alone.",
    "d": "Augmenting the training data with unsupported-token sentences outside the training "
    "data mitigates hallucinations.",
}
SEEDS = 5
TAU = 0.5
#: every model: the paper's attention-only toy transformer, trained with Adam
MODEL = {"kind": "attn", "d_model": 32, "n_heads": 4}
TRAIN = {"lr": 0.01, "max_steps": 10000, "loss_tol": 0.01, "weight_decay": 0.0}
#: the random triples of (a): single-valued, one test context in four held out
RANDOM_A = {"V": 24, "N": 80, "holdout": 0.25}
#: (c) sizes kept small so that ranks up to RANK["max_rank"] cover them
RANDOM_C = {"V": 8, "N": 16}
GRAMMAR_C = {"n_nouns": 4, "n_objects": 4}
RANK = {"max_rank": 32, "tol": 1e-2, "restarts": 2}
#: (c) on a knowledge graph: Nations cut to its three most frequent relations, whose
#: effective ranks (about 20) the ranks tried still reach; all 55 relations are beyond them
NATIONS_C = {"relations": 3}
#: datasets with several true next tokens per context: no loss tolerance is reachable
MULTI_VALUED = ("family", "nations")
#: (d): shares of the unobserved contexts given an UNSUPPORTED sentence (0: unmitigated)
D_SHARES = (0.0, 0.05, 0.1, 0.25, 0.5)
D_QUICK_SHARES = (0.0, 0.25)
#: (d) trains every point for the same number of steps (loss_tol off), so that the
#: augmented models are not trained longer or shorter than the unmitigated one
D_TRAIN = {"max_steps": 1000, "loss_tol": None}
D_QUICK_STEPS = 300


@dataclass(frozen=True)
class Panel:
    """One operationalisation of a claim: a dataset, an axis, what is measured, what is claimed.

    Attributes
    ----------
    id, claim : str
        ``a1-random`` and ``a``.
    source : str
        ``data.source`` (a world, a knowledge graph, or ``random``); ``params`` its
        ``data.params``.
    axis : str
        The dotted config key that is varied (``train.loss_tol``, ...), or ``split`` for (c).
    values : tuple
        The axis values (full run); ``quick`` those of ``--quick``.
    x : str
        How an axis value becomes "more overfit" (or the rank gap): a key of :data:`X_OF`.
    text : str
        How each term of the claim was made concrete.
    base : dict
        Dotted overrides of :data:`TRAIN` for this panel (besides the axis).
    """

    id: str
    claim: str
    source: str
    axis: str
    values: tuple
    quick: tuple
    x: str
    text: str
    params: dict = field(default_factory=dict)
    base: dict = field(default_factory=dict)


#: axis value -> x; "overfit" axes grow with overfitting
X_OF = {
    "neg_log10": ("-log10(loss tolerance)", lambda v: -math.log10(v)),
    "log10": ("log10(training steps)", lambda v: math.log10(v)),
    "no_decay": ("weight decay removed (1) / present (0)", lambda v: 1.0 if v == 0 else 0.0),
    "log2": ("log2(d_model)", lambda v: math.log2(v)),
    "share": ("share of unobserved contexts given an UNSUPPORTED sentence", float),
}
_TOL = "training past zero training error: stop at a mean train loss under tol (1e-2 .. 1e-5 nats)"
_STEPS = (
    "training longer: {source} is multi-valued, so its loss has a floor above 0 (loss_floor) "
    "and no tolerance under it is reached; instead the step budget grows (loss_tol off)"
)
_WD = "weight decay removed (more overfit) vs Adam L2 weight decay 1e-2 (regularised)"
_DM = "more parameters: the width d_model of the attention-only transformer (4 heads)"


def _overfit_panels(
    claim: str, source: str, params: dict, art: str, in_quick: bool = True
) -> list[Panel]:
    """The three overfitting panels of a dataset (``in_quick``: also run by ``--quick``)."""
    tag = source if source != "random" else "random"
    steps = source in MULTI_VALUED  # a loss tolerance cannot be reached
    base = {"train.loss_tol": None, "train.max_steps": 3000} if steps else {}

    def quick(values: tuple) -> tuple:
        return values if in_quick else ()

    first = (
        Panel(f"{claim}1-{tag}", claim, source, "train.max_steps", (300, 1000, 3000, 10000),
              quick((300, 1500)), "log10", f"{_STEPS.format(source=source)}; {art}", params,
              {"train.loss_tol": None})
        if steps
        else Panel(f"{claim}1-{tag}", claim, source, "train.loss_tol", (1e-2, 1e-3, 1e-4, 1e-5),
                   quick((1e-2, 1e-4)), "neg_log10", f"{_TOL}; {art}", params)
    )  # fmt: skip
    return [
        first,
        Panel(f"{claim}2-{tag}", claim, source, "train.weight_decay", (1e-2, 0.0),
              quick((1e-2, 0.0)), "no_decay", f"{_WD}; {art}", params, base),
        Panel(f"{claim}3-{tag}", claim, source, "model.d_model", (8, 16, 32, 64), quick((8, 32)),
              "log2", f"{_DM}; {art}", params, base),
    ]  # fmt: skip


_ART = f"artifacts = n_artifacts@{TAU:g}, sentences outside the training data with p > {TAU:g}"
_GEN = (
    f"generalization error = 1 - test accuracy (held-out triples not the argmax of their "
    f"context) and 1 - recall@{TAU:g} (share of G the model does not produce above tau); "
    f"'for lack of artifacts': error against n_artifacts@{TAU:g}, claimed negative"
)
_RANK = (
    "effective rank = the smallest CP rank of a tensor whose observed fibers normalise to the "
    "data's (tensor.rank.effective_rank: masked CP fits, fiber error under {tol:g}, ranks "
    "1..{m}; above that reported as {m1}, a lower bound, rank_censored); closeness = "
    "rank(train + test) - rank(train); generalization error = 1 - test accuracy, and the "
    "test cross-entropy (nats; it still moves where every held-out triple misses the argmax, "
    "as on multi-valued data); splits vary "
    "the held-out fraction (0.1, 0.25, 0.4) and the seed of the draw (of the world, of the "
    "random triples, or of the knowledge graph's pooled triples)"
)


def _split_panel(source: str, params: dict, values: tuple, quick: tuple, note: str = "") -> Panel:
    text = note + _RANK.format(tol=RANK["tol"], m=RANK["max_rank"], m1=RANK["max_rank"] + 1)
    return Panel(f"c-{source}", "c", source, "split", values, quick, "rank_gap", text, params)


_SPLITS = tuple((h, s) for h in (0.1, 0.25, 0.4) for s in (0, 1, 2))
_QUICK_SPLITS = tuple((h, s) for h in (0.1, 0.4) for s in (0, 1))

_UNS = (
    "augmenting: (c, <unsupported>) for a seeded uniform share of the unobserved contexts "
    "(the share is the axis; 0 is the unmitigated model; the draw does not know G); every "
    "point trains {steps} steps ({quick} with --quick; loss_tol off); a predicted "
    "<unsupported> is an abstention, never an artifact; hallucinations = artifacts outside "
    "G at tau {tau:g} (the claim, claimed negative); generalizations = artifacts in G (the "
    "cost, beside it under the same rule: claimed negative means the augmentation costs "
    "generalizations)"
)


def _unsupported_panel(source: str) -> Panel:
    text = _UNS.format(steps=D_TRAIN["max_steps"], quick=D_QUICK_STEPS, tau=TAU)
    return Panel(f"d-{source}", "d", source, "mitigation.strength", D_SHARES, D_QUICK_SHARES,
                 "share", text)  # fmt: skip


PANELS: dict[str, list[Panel]] = {
    "a": _overfit_panels("a", "random", RANDOM_A, _ART)
    + _overfit_panels("a", "siblings", {}, _ART),
    "b": _overfit_panels("b", "siblings", {}, _GEN)
    + _overfit_panels("b", "family", {}, _GEN)
    + _overfit_panels("b", "nations", {}, _GEN, in_quick=False),  # --quick: the worlds only
    "c": [
        _split_panel("random", RANDOM_C, _SPLITS, _QUICK_SPLITS),
        _split_panel("grammar", GRAMMAR_C, _SPLITS, _QUICK_SPLITS),
        _split_panel("siblings", {}, _SPLITS, ()),
        _split_panel(
            "nations",
            NATIONS_C,
            _SPLITS,
            (),
            f"Nations cut to its {NATIONS_C['relations']} most frequent relations, all splits "
            "pooled and re-split; ",
        ),  # fmt: skip
    ],
    "d": [_unsupported_panel(src) for src in ("siblings", "family", "nations")],
}


# --- sweep files -----------------------------------------------------------------------------


def _knobs(panel: Panel, quick: bool) -> dict[str, Any]:
    """Every overfitting knob at this panel's base value (so a case names its point fully)."""
    knobs = {
        "train.loss_tol": TRAIN["loss_tol"],
        "train.weight_decay": TRAIN["weight_decay"],
        "model.d_model": MODEL["d_model"],
        "train.max_steps": TRAIN["max_steps"],
    } | panel.base
    if quick:  # --quick: a smaller step budget
        knobs["train.max_steps"] = min(knobs["train.max_steps"], 1500)
    return knobs


def panel_cases(panel: Panel, quick: bool) -> list[dict]:
    """The sweep cases of one panel: its dataset, its base knobs, one case per axis value."""
    values = panel.quick if quick else panel.values
    data = {"data.source": panel.source} | {f"data.params.{k}": v for k, v in panel.params.items()}
    if panel.axis == "split":
        return [data | {"data.params.holdout": h, "data.seed": s} for h, s in values]
    if panel.claim == "d":
        return [data | {"mitigation.method": "unsupported", panel.axis: v} for v in values]
    return [data | _knobs(panel, quick) | {panel.axis: v} for v in values]


def sweep_yaml(claim: str, quick: bool = False) -> str:
    """The sweep file of one claim (the text shipped as ``sweeps/claim-X[-quick].yaml``)."""
    cases: list[dict] = []
    for panel in PANELS[claim]:
        for case in panel_cases(panel, quick):
            if case not in cases:  # a point shared by two panels is trained once
                cases.append(case)
    train = dict(TRAIN) | {"max_steps": 1500 if quick else 3000}
    base: dict[str, Any] = {"model": dict(MODEL), "train": train, "eval": {"taus": [TAU]}}
    if claim == "c":  # (c) trains at the base settings: to a loss under 0.01, or 3000 steps
        base["rank"] = dict(RANK) | ({"restarts": 1} if quick else {})
    if claim == "d":  # a fixed step budget for every share
        steps = D_QUICK_STEPS if quick else D_TRAIN["max_steps"]
        base["train"] = dict(TRAIN) | D_TRAIN | {"max_steps": steps}
    sweep = {
        "trial": "mitigate" if claim == "d" else "claim-truth",
        "name": f"claim-{claim}",
        "base": base,
        "cases": cases,
        "seeds": SEEDS,
    }
    head = f"# claim ({claim}): {STATEMENTS[claim]}\n# written by artifactlab.experiments.claims\n"
    return head + yaml.safe_dump(sweep, sort_keys=False)


def sweep_path(claim: str, quick: bool = False) -> Path:
    """The shipped sweep file of a claim."""
    return Path(__file__).parent / "sweeps" / f"claim-{claim}{'-quick' if quick else ''}.yaml"


def write_sweeps() -> list[Path]:
    """Rewrite the shipped sweep files from :data:`PANELS` (run after editing them)."""
    from artifactlab.io import write_text

    return [write_text(sweep_path(c, q), sweep_yaml(c, q)) for c in CLAIMS for q in (False, True)]
