"""A test trial kind whose batches can kill the process that runs them.

Shared by the Ray backend tests (registered in Ray workers by a setup hook) and the
plugin tests (declared as an entry point, which spawned worker processes load). Not a
test module itself: pytest puts this folder on ``sys.path``, so tests import it by name.
"""

from __future__ import annotations

import dataclasses
import os

from artifactlab.experiments.kinds import SectionError, TrialKind, TrialOutput


def _validate(config: dict) -> dict:
    for key in ("seed", "group"):
        if not isinstance(config.get(key), int):
            raise SectionError((key,), "must be an integer")
    return {"seed": config["seed"], "group": config["group"], "crash": bool(config.get("crash"))}


def _run_group(configs: list[dict]) -> list[TrialOutput]:
    if any(c["crash"] for c in configs):
        os._exit(3)  # the worker process dies: no exception, no result
    return [TrialOutput({"value": 10 * c["group"] + c["seed"]}) for c in configs]


CRASHER = TrialKind(
    name="test-crasher",
    description="a test kind: returns 10 * group + seed, or kills its process if crash is set",
    validate=_validate,
    group_key=lambda config: str(config["group"]),
    run_group=_run_group,
    metrics=("value",),
    example={"seed": 0, "group": 0, "crash": False},
)
#: for the plugin tests: a kind under a built-in name, and an object that is no kind
TAKEN = dataclasses.replace(CRASHER, name="toy-artifacts")
NOT_A_KIND = 42


def register_crasher() -> None:
    """Ray's worker setup hook: make the test kind known in each Ray worker."""
    # imported here: this function travels by value, and a global dict would travel as a copy
    from artifactlab.experiments.registry import TRIAL_KINDS

    TRIAL_KINDS.setdefault(CRASHER.name, CRASHER)
