"""``artifactlab make-data world NAME``: build a toy world and write its folder.

The folder is what :meth:`TruthDataset.save` writes (``train.tsv``, ``test.tsv``,
``truth.tsv``, ``vocab.json``) plus ``world.json``: the world, seed, resolved
parameters, counts, command and provenance. Parameters are given as ``--param KEY=VALUE``
(repeatable); ``artifactlab ls worlds`` lists the worlds and their defaults.

Example
-------
>>> import tempfile, typer
>>> from typer.testing import CliRunner
>>> app = typer.Typer()
>>> register(app)
>>> register_ls(app)
>>> out = tempfile.mkdtemp() + "/mice"
>>> args = ["world", "grammar", "--out", out, "-p", "n_nouns=2", "-p", "n_verbs=1", "--seed", "3"]
>>> print(CliRunner().invoke(app, args).output.replace(out, "OUT").strip())
wrote the grammar world (seed 3): 3 train, 1 test, 1 truth (G) triples, V=14 -> OUT
>>> sorted(p.name for p in Path(out).iterdir())
['test.tsv', 'train.tsv', 'truth.tsv', 'vocab.json', 'world.json']
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli_common import Json, emit, require_parent, user_errors
from artifactlab.data.worlds import WORLDS, World
from artifactlab.errors import InputError


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
            kind = "an integer" if cast is int else "a number"
            raise InputError("--param", f"{key} must be {kind}, got {text!r}") from None
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

    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)  # left over from an interrupted run
    ds.save(tmp)
    record = {**info, "command": ["artifactlab", *sys.argv[1:]], "provenance": provenance()}
    (tmp / "world.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out)  # replaces an empty folder too
    return info


def world_command(
    name: Annotated[str, typer.Argument(help="The world: grammar, siblings or family.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to create (absent or empty).")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the world.")] = 0,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="KEY=VALUE, repeatable (see `artifactlab ls worlds`)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Build a toy world with rules: training triples, held-out triples, and the truth G."""
    world = find_world(name)
    params = parse_params(world, param or [])
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(str(out), "already exists and is not empty", "choose a new --out folder")
    require_parent(out)
    info = write_world(out, world, seed, params)
    text = (
        f"wrote the {name} world (seed {seed}): {info['train']} train, {info['test']} test, "
        f"{info['truth']} truth (G) triples, V={info['V']} -> {out}"
    )
    emit(info, as_json, text)


def ls_worlds() -> None:
    """List the toy worlds, their descriptions and parameter defaults."""
    for world in WORLDS.values():
        defaults = " ".join(f"{k}={v}" for k, v in world.defaults.items())
        typer.echo(f"{world.name}\t{world.description}\t{defaults}")


def register(app: typer.Typer) -> None:
    """Add the ``world`` command to ``app`` (the ``make-data`` group)."""
    app.command("world")(user_errors(world_command))


def register_ls(app: typer.Typer) -> None:
    """Add the ``worlds`` listing to ``app`` (the ``ls`` group)."""
    app.command("worlds")(ls_worlds)
