"""Experiments: trials, and the paper's figure reproductions built from them.

Example
-------
>>> from artifactlab.experiments import FIGURES
>>> sorted(FIGURES)
['fig2', 'fig3']
"""

from artifactlab.experiments.reproduce import FIGURES, run_figure
from artifactlab.experiments.trial import TrialSpec, run_trial

__all__ = ["FIGURES", "TrialSpec", "run_figure", "run_trial"]
