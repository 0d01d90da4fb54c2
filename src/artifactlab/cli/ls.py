"""``artifactlab ls models|trials|worlds``: list the registered components (``--json`` too).

Example
-------
>>> from typer.testing import CliRunner
>>> import json
>>> rows = json.loads(CliRunner().invoke(ls_app, ["models", "--json"]).stdout)
>>> [r["name"] for r in rows]
['attn', 'attn-mlp', 'ngram', 'cp', 'distmult', 'rescal', 'complex']
"""

from __future__ import annotations

import json

import typer

from artifactlab.cli.options import Json

ls_app = typer.Typer(help="List registered components.", no_args_is_help=True)


def _print(rows: list[dict], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo("\t".join(str(row[c]) for c in columns))


@ls_app.command("models")
def ls_models(as_json: Json = False) -> None:
    """List every model name that `train --model`, `compare --models` and sweep files accept."""
    from artifactlab.models.registry import MODELS

    rows = [
        {"name": s.name, "kind": s.kind, "description": s.description,
         "options": s.options, "preset": s.preset}
        for s in MODELS.values()
    ]  # fmt: skip
    _print(rows, as_json, ("name", "description"))


@ls_app.command("trials")
def ls_trials(as_json: Json = False) -> None:
    """List the trial kinds that sweep files can name with ``trial:``."""
    from artifactlab.experiments.registry import TRIAL_KINDS

    rows = [
        {"name": k.name, "description": k.description, "metrics": list(k.metrics)}
        for k in TRIAL_KINDS.values()
    ]
    _print(rows, as_json, ("name", "description"))


@ls_app.command("worlds")
def ls_worlds(as_json: Json = False) -> None:
    """List the toy worlds, their descriptions and parameter defaults."""
    from artifactlab.data.worlds import WORLDS

    rows = [
        {"name": w.name, "description": w.description, "defaults": dict(w.defaults)}
        for w in WORLDS.values()
    ]
    for row in rows:
        row["params"] = " ".join(f"{k}={v}" for k, v in row["defaults"].items())
    if as_json:
        for row in rows:
            del row["params"]
    _print(rows, as_json, ("name", "description", "params"))
