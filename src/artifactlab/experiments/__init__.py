"""Experiments: sweep files, the results store, runners and the paper's reproductions.

Example
-------
>>> from artifactlab.experiments import FIGURES, TRIAL_KINDS
>>> sorted(FIGURES), sorted(TRIAL_KINDS)
(['fig2', 'fig3'], ['toy-artifacts', 'truth-completion'])
"""

from artifactlab.experiments.registry import TRIAL_KINDS
from artifactlab.experiments.reproduce import FIGURES, run_figure
from artifactlab.experiments.runner import run_sweep
from artifactlab.experiments.store import ResultsStore
from artifactlab.experiments.sweep_file import load_sweep

__all__ = ["FIGURES", "TRIAL_KINDS", "ResultsStore", "load_sweep", "run_figure", "run_sweep"]
