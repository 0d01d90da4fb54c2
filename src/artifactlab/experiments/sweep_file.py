r"""Sweep files: one YAML file describes a grid of trials; this module checks and expands it.

The format (every key but ``trial`` is optional)::

    trial: toy-artifacts          # the trial kind (artifactlab ls trials)
    name: fig2                    # a label; default: the file name
    base:                         # the config every trial starts from
      data: {V: 128}
      model: {d_model: 64, n_heads: 4}
    grid:                         # cartesian product over dotted keys
      data.N: [250, 500, 1000]
    cases:                        # explicit overrides, each crossed with the grid
      - {model.d_model: 32}
      - {model.d_model: 64, train.lr: 0.003}
    seeds: 3                      # a count (0, 1, 2) or a list; each trial runs per seed
    metrics: [n_artifacts, ratio] # columns to keep; default: all of the kind's metrics
    batch: true                   # train same-shape trials together
    max_batch: 32                 # at most this many models per batch

Every problem is reported with the file, the line and the key path before anything runs.

Example
-------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "s.yaml"
>>> _ = path.write_text("trial: toy-artifacts\nbase: {data: {V: 8, N: 10}}\n"
...                     "grid: {model.d_model: [8, 16]}\nseeds: 2\n")
>>> sweep = load_sweep(path)
>>> len(sweep.trials), sweep.trials[3].params, sweep.groups
(4, {'model.d_model': 16, 'seed': 1}, [[0, 1], [2, 3]])
>>> sweep.default_store.name
's'
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from artifactlab.errors import InputError
from artifactlab.experiments.kinds import SectionError, TrialKind
from artifactlab.experiments.yaml_lines import YamlDoc, load_yaml_with_lines, printable, read_text

#: the default of ``--max-trials``
MAX_TRIALS = 10_000


class SweepFile(BaseModel):
    """The schema of a sweep file (before expansion)."""

    model_config = ConfigDict(extra="forbid", strict=False)

    trial: str
    version: Literal[1] = 1
    name: str | None = None
    base: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    cases: list[dict[str, Any]] = Field(default_factory=list)
    seeds: int | list[int] = 1
    metrics: list[str] | None = None
    batch: bool = True
    max_batch: int = Field(default=32, ge=1)

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"grid key {key!r} has no values; give at least one")
        return grid

    @field_validator("seeds")
    @classmethod
    def _seed_list(cls, seeds: int | list[int]) -> int | list[int]:
        if isinstance(seeds, int) and seeds < 1:
            raise ValueError(f"a seed count must be >= 1, got {seeds}")
        if isinstance(seeds, list) and (not seeds or len(set(seeds)) != len(seeds)):
            raise ValueError("the seed list must be non-empty, without repeats")
        return seeds

    def seed_list(self) -> list[int]:
        """The seeds as a list."""
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


@dataclass(frozen=True)
class Trial:
    """One expanded trial.

    Attributes
    ----------
    index : int
        Position in the sweep (the order of the exported table).
    hash : str
        Hash of the canonical config: the trial's identity in the results store.
    config : dict
        Canonical config (every default filled in).
    params : dict
        The values the grid, the case and the seed set (dotted keys), for progress and errors.
    """

    index: int
    hash: str
    config: dict
    params: dict


@dataclass(frozen=True)
class Sweep:
    """An expanded sweep file: its trials and the batches they train in."""

    path: Path
    name: str
    kind: TrialKind
    trials: list[Trial]
    groups: list[list[int]]
    metrics: list[str] | None

    @property
    def default_store(self) -> Path:
        """The folder next to the sweep file, named after it."""
        return self.path.parent / self.path.stem


def config_hash(config: dict) -> str:
    """A short, stable hash of a canonical config."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_sweep(path: str | Path, max_trials: int = MAX_TRIALS) -> Sweep:
    """Read, check and expand a sweep file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    max_trials : int
        Refuse grids that expand to more trials than this.

    Raises
    ------
    InputError
        Unreadable or malformed file, unknown keys, wrong types or impossible values
        (with ``FILE:LINE`` and the key path), or too many trials.
    """
    path = Path(path)
    source = printable(str(path))
    if not path.is_file():
        raise InputError(source, "sweep file not found", "check the path")
    doc = load_yaml_with_lines(read_text(path, source), source)
    if not isinstance(doc.data, dict):
        raise InputError(f"{source}:1", "a sweep file must be a mapping of keys", "see the README")
    try:
        spec = SweepFile.model_validate(doc.data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = tuple(first["loc"])
        raise InputError(
            doc.where(loc), _schema_problem(first), "see the README's sweep file format"
        ) from None
    from artifactlab.experiments.registry import TRIAL_KINDS  # imports the trial kinds: torch

    kind = TRIAL_KINDS.get(spec.trial)
    if kind is None:
        known = ", ".join(sorted(TRIAL_KINDS))
        raise InputError(
            doc.where(("trial",)), f"unknown trial kind {spec.trial!r}", f"choose one of {known}"
        )
    n_seeds = spec.seeds if isinstance(spec.seeds, int) else len(spec.seeds)  # no list yet
    n = math.prod(len(v) for v in spec.grid.values()) * max(1, len(spec.cases)) * n_seeds
    if n > max_trials:
        raise InputError(
            source,
            f"the grid expands to {n:,} trials, more than --max-trials {max_trials:,}",
            "shrink the grid or raise --max-trials",
        )
    trials = _expand(spec, kind, doc)
    metrics = _check_metrics(spec, kind, doc, trials)
    groups = _groups(trials, kind, spec)
    return Sweep(path, spec.name or path.stem, kind, trials, groups, metrics)


def _schema_problem(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return f"unknown key (known keys: {', '.join(SweepFile.model_fields)})"
    if error["type"] == "missing":
        return "required key is missing"
    return f"{error['msg'].removeprefix('Value error, ')} (got {error.get('input')!r})"


def _expand(spec: SweepFile, kind: TrialKind, doc: YamlDoc) -> list[Trial]:
    keys = list(spec.grid)
    cases = list(enumerate(spec.cases)) or [(None, {})]
    trials: list[Trial] = []
    seen: dict[str, int] = {}
    for case_index, case in cases:
        for values in itertools.product(*(spec.grid[k] for k in keys)):
            for seed in spec.seed_list():
                # dotted key -> (value, where it came from in the file)
                overrides = {k: (v, ("grid", k)) for k, v in zip(keys, values, strict=True)}
                overrides.update({k: (v, ("cases", case_index, k)) for k, v in case.items()})
                overrides["seed"] = (seed, ("seeds",))
                config = _resolve(copy.deepcopy(spec.base), overrides, doc)
                try:
                    canonical = kind.validate(config)
                except SectionError as err:
                    raise InputError(
                        doc.where(_origin(err.loc, overrides)),
                        f"{'.'.join(map(str, err.loc))}: {err.problem}",
                        "fix the sweep file",
                    ) from None
                h = config_hash(canonical)
                if h in seen:
                    raise InputError(
                        doc.source,
                        f"trials {seen[h]} and {len(trials)} have the same configuration",
                        "remove repeated grid values, cases or seeds",
                    )
                seen[h] = len(trials)
                params = {k: v for k, (v, _) in overrides.items()}
                trials.append(Trial(len(trials), h, canonical, params))
    return trials


def _resolve(base: dict, overrides: dict[str, tuple[Any, tuple]], doc: YamlDoc) -> dict:
    for dotted, (value, origin) in overrides.items():
        node = base
        parts = dotted.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(doc.where(origin), f"{dotted}: {part!r} is not a section")
            node = child
        node[parts[-1]] = value
    return base


def _origin(loc: tuple, overrides: dict[str, tuple[Any, tuple]]) -> tuple:
    """The file location of the value at key path ``loc`` of a trial config."""
    dotted = ".".join(map(str, loc))
    for cut in range(len(loc), 0, -1):
        prefix = ".".join(map(str, loc[:cut]))
        if prefix in overrides:
            return overrides[prefix][1]
    # a whole-section check failed (d_model vs n_heads): blame a grid or case value inside it
    inside = [origin for key, (_, origin) in overrides.items() if key.startswith(f"{dotted}.")]
    return inside[0] if inside else ("base", *loc)


def _check_metrics(
    spec: SweepFile, kind: TrialKind, doc: YamlDoc, trials: list[Trial]
) -> list[str] | None:
    """The ``metrics:`` names, checked against the kind and the trials' thresholds.

    ``NAME@TAU`` needs a per-threshold metric (``NAME@tau`` in the kind) and a ``TAU``
    that every trial has in ``eval.taus``; it is returned as the trials name it
    (``n_artifacts@0.50`` -> ``n_artifacts@0.5``). A kind whose configs have no
    ``eval.taus`` cannot be checked, and any number is accepted.
    """
    if spec.metrics is None:
        return None
    plain = {m for m in kind.metrics if not m.endswith("@tau")}
    per_tau = {m.removesuffix("@tau") for m in kind.metrics if m.endswith("@tau")}
    taus = [_taus(t.config) for t in trials]
    names = []
    for i, name in enumerate(spec.metrics):
        base, at, suffix = name.partition("@")
        where = doc.where(("metrics", i))
        if base not in plain | per_tau:
            reports = sorted(plain) + sorted(f"{m}@TAU" for m in per_tau)
            raise InputError(
                where, f"unknown metric {name!r}", f"{kind.name} reports {', '.join(reports)}"
            )
        if at and base not in per_tau:
            raise InputError(
                where,
                f"metric {base!r} has one value per trial, not one per threshold: {name!r}",
                f"write {base}",
            )
        names.append(_tau_metric(base, suffix, taus, where) if at else name)
    return names


def _taus(config: dict) -> set[str] | None:
    """A trial's thresholds as its metric names write them (``f"{tau:g}"``), if it has any."""
    taus = config.get("eval", {}).get("taus") if isinstance(config.get("eval"), dict) else None
    return {f"{t:g}" for t in taus} if isinstance(taus, list) else None


def _tau_metric(base: str, suffix: str, taus: list[set[str] | None], where: str) -> str:
    label = repr(f"{base}@{suffix}")
    known = [t for t in taus if t is not None]
    common = set.intersection(*known) if known else set()
    shown = ", ".join(sorted(common, key=float)) or "none"
    try:
        tau = f"{float(suffix):g}"
    except ValueError:
        raise InputError(
            where,
            f"metric {label}: {suffix!r} is not a number",
            f"write {base}@TAU with a threshold of the sweep's (eval.taus: {shown})",
        ) from None
    if not known or (tau in common and len(known) == len(taus)):
        return f"{base}@{tau}"
    having = sum(tau in t for t in known)
    problem = (
        f"metric {label}: only {having} of {len(taus)} trials have the threshold"
        f" {tau} in eval.taus (every trial has: {shown})"
        if having
        else f"metric {label}: the sweep's thresholds (eval.taus) are {shown}"
    )
    hint = f"write {base}@TAU with one of them, or add {tau} to eval.taus"
    raise InputError(where, problem, hint)


def _groups(trials: list[Trial], kind: TrialKind, spec: SweepFile) -> list[list[int]]:
    """Batches in file order: same group key, at most ``max_batch`` trials each."""
    if not spec.batch:
        return [[t.index] for t in trials]
    open_groups: dict[str, list[int]] = {}
    groups: list[list[int]] = []
    for t in trials:
        key = kind.group_key(t.config)
        group = open_groups.get(key)
        if group is None or len(group) >= spec.max_batch:
            group = open_groups[key] = []
            groups.append(group)
        group.append(t.index)
    return groups
