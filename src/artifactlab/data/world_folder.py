"""A toy world's folder, and ``KEY=VALUE`` parameters read against their defaults.

``artifactlab make-data world NAME`` writes such a folder: what
:meth:`TruthDataset.save` writes (``train.tsv``, ``test.tsv``, ``truth.tsv``,
``vocab.json``) plus ``world.json``: the world, seed, resolved parameters, counts,
command and provenance. Parameters are given as ``--param KEY=VALUE``
(repeatable); ``artifactlab ls worlds`` lists the worlds and their defaults.

Example
-------
>>> import tempfile
>>> world = find_world("grammar")
>>> params = parse_params(world, ["n_nouns=2", "n_verbs=1"])
>>> out = Path(tempfile.mkdtemp()) / "mice"
>>> info = write_world(out, world, 3, params)
>>> info["train"], info["V"], sorted(p.name for p in out.iterdir())
(3, 14, ['test.tsv', 'train.tsv', 'truth.tsv', 'vocab.json', 'world.json'])
>>> parse_params(world, ["holdout=nan"])
Traceback (most recent call last):
artifactlab.errors.InputError: --param: holdout must be a finite number, got 'nan'
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from pathlib import Path

from artifactlab.data.worlds import WORLDS, World
from artifactlab.errors import InputError
from artifactlab.io import staged_folder, write_json


def find_world(name: str) -> World:
    """The registered world called ``name``; InputError naming the known ones otherwise."""
    if name not in WORLDS:
        raise InputError(
            "make-data world", f"unknown world {name!r}", f"one of: {', '.join(WORLDS)}"
        )
    return WORLDS[name]


def parse_params(world: World, pairs: list[str]) -> dict[str, int | float]:
    """``KEY=VALUE`` strings -> a world's parameters (see :func:`parse_pairs`)."""
    return parse_pairs(f"world {world.name}", world.defaults, pairs)


def parse_pairs(
    owner: str, defaults: Mapping[str, int | float], pairs: list[str]
) -> dict[str, int | float]:
    """``KEY=VALUE`` strings -> parameters, each cast to the type of its default.

    Parameters
    ----------
    owner : str
        What takes the parameters, for messages ("world grammar").
    defaults : Mapping
        Every known key with its default value (int or float).
    pairs : list of str
        The ``--param`` values as given.

    Raises
    ------
    InputError
        A malformed pair, an unknown key, or a value that is not a number of the right type.
    """
    params: dict[str, int | float] = {}
    for pair in pairs:
        key, sep, text = (part.strip() for part in pair.partition("="))
        if not sep or not key:
            raise InputError("--param", f"expected KEY=VALUE, got {pair!r}")
        if key not in defaults:
            known = ", ".join(f"{k}={v}" for k, v in defaults.items()) or "none"
            raise InputError("--param", f"{owner} has no parameter {key!r}", f"known: {known}")
        cast = type(defaults[key])
        try:
            params[key] = cast(text)
        except ValueError:
            kind = "an integer" if cast is int else "a finite number"
            raise InputError("--param", f"{key} must be {kind}, got {text!r}") from None
        if cast is float and not math.isfinite(params[key]):
            raise InputError("--param", f"{key} must be a finite number, got {text!r}")
    return params


def write_world(out: Path, world: World, seed: int, params: dict[str, int | float]) -> dict:
    """Build the world and write its folder whole or not at all; returns what it wrote."""
    ds = world.build(seed=seed, **params)  # every check runs before anything is written
    info = {"world": world.name, "out": str(out), "seed": seed}
    info["params"] = {**world.defaults, **params}
    info |= {"V": ds.vocab.V, "train": ds.train.N, "test": len(ds.test), "truth": len(ds.truth)}
    if world.harmless is not None:
        info["harmless"] = len(world.harmless(ds))
    from artifactlab.provenance import provenance

    record = {**info, "command": ["artifactlab", *sys.argv[1:]], "provenance": provenance()}
    with staged_folder(out) as tmp:  # out: absent or empty; renamed into place when complete
        ds.save(tmp)
        write_json(tmp / "world.json", record)
    return info
