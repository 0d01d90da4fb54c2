"""The registry of trial kinds that sweep files can name with ``trial:``.

Example
-------
>>> sorted(TRIAL_KINDS)
['toy-artifacts', 'truth-completion']
>>> TRIAL_KINDS["toy-artifacts"].metrics[:3]
('n_train', 'n_params', 'steps')
"""

from __future__ import annotations

from artifactlab.experiments.compare_trial import TRUTH_COMPLETION
from artifactlab.experiments.kinds import TrialKind
from artifactlab.experiments.toy_trial import TOY_ARTIFACTS

#: name -> trial kind; every entry is covered by tests/experiments/test_kinds.py
TRIAL_KINDS: dict[str, TrialKind] = {kind.name: kind for kind in (TOY_ARTIFACTS, TRUTH_COMPLETION)}
