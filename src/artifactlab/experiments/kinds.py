"""Trial kinds: what one trial of a sweep does, registered by name.

A trial kind turns a nested config (the sweep file's ``base`` plus one point of its
grid and one seed) into a validated, canonical config with every default filled in,
groups trials that can be trained together, and runs a group, returning each trial's
metrics, timings and files. Sweep files name their kind with ``trial:``.

The registry itself is :data:`artifactlab.experiments.registry.TRIAL_KINDS`.

Example
-------
>>> canonical({"taus": (0.5, 0.9)})
{'taus': [0.5, 0.9]}
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError


class SectionError(ValueError):
    """A config value that failed validation: its key path inside the trial config, and why."""

    def __init__(self, loc: tuple[str | int, ...], problem: str) -> None:
        self.loc = loc
        self.problem = problem
        super().__init__(f"{'.'.join(map(str, loc))}: {problem}")


@dataclass
class TrialOutput:
    """One trial's metrics, timings (seconds) and files (name -> bytes), or its error."""

    metrics: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    #: a traceback when this trial alone failed (its batch mates may still succeed)
    error: str | None = None


@dataclass(frozen=True)
class TrialKind:
    """A registered kind of trial.

    Attributes
    ----------
    name : str
        Registry name, written as ``trial:`` in sweep files.
    description : str
        One line for ``artifactlab ls trials``.
    validate : callable
        Nested config dict -> canonical config dict (JSON types, defaults filled in);
        raises :class:`SectionError`.
    group_key : callable
        Canonical config -> a string; trials with equal keys may run as one batch.
    run_group : callable
        List of canonical configs -> list of :class:`TrialOutput`, one per config, in order.
    metrics : tuple of str
        Metric names; a name ending in ``@tau`` exists once per threshold.
    example : dict
        A tiny valid config (seconds to run), used by the contract tests.
    """

    name: str
    description: str
    validate: Callable[[dict], dict]
    group_key: Callable[[dict], str]
    run_group: Callable[[list[dict]], list[TrialOutput]]
    metrics: tuple[str, ...]
    example: dict


@functools.cache
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)


def validate_section(cls: type, value: Any, loc: tuple[str, ...]) -> Any:
    """Validate one section (a mapping) of a trial config into a ``cls`` instance.

    Parameters
    ----------
    cls : type
        A dataclass (with pydantic's ``extra="forbid"`` config) or pydantic model.
    value : Any
        The section as read from YAML.
    loc : tuple of str
        The section's key path, prefixed to error locations.

    Raises
    ------
    SectionError
        The first problem, with the full key path of the offending value.
    """
    if not isinstance(value, dict):
        raise SectionError(loc, f"must be a mapping of keys to values, got {value!r}")
    try:
        return _adapter(cls).validate_python(value)
    except ValidationError as err:
        first = err.errors()[0]
        raise SectionError((*loc, *first["loc"]), _problem(first, cls)) from None


def _problem(error: dict, cls: type) -> str:
    kind = error["type"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        known = (
            ", ".join(f.name for f in dataclasses.fields(cls))
            if dataclasses.is_dataclass(cls)
            else ", ".join(cls.model_fields)
        )
        return f"unknown key (known keys: {known})"
    if kind in ("missing", "missing_argument"):
        return "required key is missing"
    msg = error["msg"].removeprefix("Value error, ")
    if kind == "value_error":
        return msg
    return f"{msg}, got {error.get('input')!r}"


def canonical(obj: Any) -> Any:
    """A dataclass (or nested structure of them) as plain JSON types: tuples become lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    return json.loads(json.dumps(obj))
