"""Experiments: sweep files, the results store, runners and the paper's reproductions.

Names are imported on first use, so ``import artifactlab.experiments`` imports no torch.

Example
-------
>>> from artifactlab.experiments import FIGURES, TRIAL_KINDS
>>> sorted(FIGURES), sorted(TRIAL_KINDS)
(['fig2', 'fig3'], ['claim-truth', 'mitigate', 'toy-artifacts', 'truth-completion'])
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "FIGURES": "reproduce",
    "run_figure": "reproduce",
    "TRIAL_KINDS": "registry",
    "run_sweep": "runner",
    "ResultsStore": "store",
    "load_sweep": "sweep_file",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"artifactlab.experiments.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'artifactlab.experiments' has no attribute {name!r}")


__all__ = sorted(_LAZY)
