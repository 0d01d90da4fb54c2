"""The registry of trial kinds that sweep files can name with ``trial:``.

Besides the built-in kinds, a package can add its own through the entry-point group
``artifactlab.trial_kinds``: each entry point names a :class:`TrialKind` object, e.g. in
its ``pyproject.toml``::

    [project.entry-points."artifactlab.trial_kinds"]
    my-kind = "my_package.trials:MY_KIND"

Plugins are loaded when this module is imported, so worker processes (the
``processes`` backend spawns them) and Ray workers know them too. A plugin that
cannot be loaded, is not a TrialKind, or reuses a known name is skipped with a warning.

Example
-------
>>> sorted(BUILTIN_KINDS)
['claim-truth', 'mitigate', 'toy-artifacts', 'truth-completion']
>>> TRIAL_KINDS["toy-artifacts"].metrics[:3]
('n_train', 'params_total', 'params_non_embedding')
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

from artifactlab.experiments.claim_trial import CLAIM_TRUTH
from artifactlab.experiments.compare_trial import TRUTH_COMPLETION
from artifactlab.experiments.kinds import TrialKind
from artifactlab.experiments.mitigate_trial import MITIGATE
from artifactlab.experiments.toy_trial import TOY_ARTIFACTS

#: the entry-point group that plugins register their trial kinds in
PLUGIN_GROUP = "artifactlab.trial_kinds"
#: the kinds that ship with artifactlab; tests/experiments/test_kinds.py covers each
BUILTIN_KINDS: dict[str, TrialKind] = {
    k.name: k for k in (TOY_ARTIFACTS, TRUTH_COMPLETION, CLAIM_TRUTH, MITIGATE)
}


def load_plugins(kinds: dict[str, TrialKind]) -> list[str]:
    """Add the kinds of every installed plugin to ``kinds``; returns the names added.

    Warns
    -----
    UserWarning
        For each plugin skipped: it fails to import, is not a TrialKind, or its name is
        already taken.
    """
    added = []
    for ep in entry_points(group=PLUGIN_GROUP):
        where = f"trial-kind plugin {ep.name!r} ({ep.value})"
        try:
            kind = ep.load()
        except Exception as err:  # noqa: BLE001 - a broken plugin must not break the tool
            warnings.warn(f"{where} was skipped: it failed to load ({err!r})", stacklevel=2)
            continue
        if not isinstance(kind, TrialKind):
            warnings.warn(f"{where} was skipped: it is not a TrialKind", stacklevel=2)
        elif kind.name in kinds:
            warnings.warn(f"{where} was skipped: {kind.name!r} is taken", stacklevel=2)
        else:
            kinds[kind.name] = kind
            added.append(kind.name)
    return added


#: name -> trial kind: the built-in ones, then those of installed plugins
TRIAL_KINDS: dict[str, TrialKind] = dict(BUILTIN_KINDS)
load_plugins(TRIAL_KINDS)
