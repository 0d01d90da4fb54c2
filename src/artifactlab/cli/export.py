"""``artifactlab export RUN --format transformer-lens --out DIR``.

Example
-------
>>> [f.value for f in ExportFormat]
['transformer-lens']
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli.options import Json, Overwrite, emit, fresh_out, printable, user_errors


class ExportFormat(StrEnum):
    """Export formats."""

    transformer_lens = "transformer-lens"


@user_errors
def export(
    run_dir: Annotated[Path, typer.Argument(help="Run folder made by `artifactlab train`.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to create.")],
    format: Annotated[ExportFormat, typer.Option("--format", help="Target format.")] = (
        ExportFormat.transformer_lens
    ),
    overwrite: Overwrite = False,
    as_json: Json = False,
) -> None:
    """Export a run's model (TransformerLens HookedTransformer checkpoint convention)."""
    from artifactlab.export.transformer_lens import export_transformer_lens
    from artifactlab.runs import load_run

    run = load_run(run_dir, device="cpu")  # a copy of the weights: nothing to compute
    fresh_out(out, overwrite)
    path = export_transformer_lens(run.model, list(run.dataset.vocab.tokens), out)
    text = f"exported {printable(run_dir)} -> {printable(path)}"
    emit({"out": str(path), "format": format.value}, as_json, text)


def register(app: typer.Typer) -> None:
    """Add ``export`` to ``app``."""
    app.command("export")(export)
