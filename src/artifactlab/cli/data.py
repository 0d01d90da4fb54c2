"""``artifactlab make-data random|world``: generate datasets.

Example
-------
>>> sorted(c.name for c in make_data_app.registered_commands)
['random', 'world']
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli.options import (
    Json,
    Overwrite,
    emit,
    fresh_file,
    fresh_out,
    printable,
    user_errors,
)
from artifactlab.errors import InputError

make_data_app = typer.Typer(help="Generate datasets.", no_args_is_help=True)


@make_data_app.command("random")
@user_errors
def make_data_random(
    vocab: Annotated[int, typer.Option("--vocab", help="Token set size V.")],
    triples: Annotated[
        int, typer.Option("--triples", help="Distinct (subject, relation) contexts N.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output file (tab-separated triples).")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draw.")] = 0,
    k: Annotated[int, typer.Option("-k", help="Objects per context (multi-valued when > 1).")] = 1,
    ranges: Annotated[
        str | None,
        typer.Option("--ranges", help="Separate token ranges S,R,O (overrides --vocab)."),
    ] = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
) -> None:
    """Draw a random triple database as in the paper (N distinct contexts, uniform objects)."""
    from artifactlab.data import random_triples

    sizes = _parse_ranges(ranges) if ranges else None
    ds = random_triples(V=vocab, N=triples, seed=seed, k=k, ranges=sizes)
    fresh_file(out, overwrite)
    ds.save(out)  # whole or not at all (artifactlab.io)
    info = {"out": str(out), "tuples": ds.N, "V": ds.vocab.V, "seed": seed}
    emit(info, as_json, f"wrote {ds.N} triples over V={ds.vocab.V} tokens to {printable(out)}")


def _parse_ranges(text: str) -> tuple[int, int, int]:
    try:
        S, R, O = (int(v) for v in text.split(","))
    except ValueError:
        raise InputError("--ranges", f"expected three integers S,R,O, got {text!r}") from None
    return S, R, O


@make_data_app.command("world")
@user_errors
def make_data_world(
    name: Annotated[str, typer.Argument(help="The world: grammar, siblings or family.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to create (absent or empty).")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the world.")] = 0,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="KEY=VALUE, repeatable (see `artifactlab ls worlds`)."),
    ] = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
) -> None:
    """Build a toy world with rules: training triples, held-out triples, and the truth G."""
    from artifactlab.data.world_folder import find_world, parse_params, write_world

    world = find_world(name)
    params = parse_params(world, param or [])
    world.build(seed=seed, **params)  # every check of the world runs before --out is touched
    fresh_out(out, overwrite)
    info = write_world(out, world, seed, params)
    text = (
        f"wrote the {name} world (seed {seed}): {info['train']} train, {info['test']} test, "
        f"{info['truth']} truth (G) triples, V={info['V']} -> {printable(out)}"
    )
    emit(info, as_json, text)
