"""The ``artifactlab`` command line: parse, call the library, print.

Example
-------
>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["ls", "models"]).output.split()
['attn', 'ngram', 'cp', 'distmult', 'rescal', 'complex']
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli_common import Json, Quiet, emit, require_parent, user_errors
from artifactlab.data import world_cmd
from artifactlab.errors import InputError
from artifactlab.experiments import compare_cmd
from artifactlab.experiments.cli import sweep_app
from artifactlab.interp.cli import interp_app
from artifactlab.tensor import artifacts_cmd

app = typer.Typer(
    help="Measure the completion artifacts (generalizations, hallucinations) of language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
make_data_app = typer.Typer(help="Generate datasets.", no_args_is_help=True)
ls_app = typer.Typer(help="List registered components.", no_args_is_help=True)
app.add_typer(make_data_app, name="make-data")
app.add_typer(ls_app, name="ls")
app.add_typer(interp_app, name="interp")
app.add_typer(sweep_app, name="sweep")
world_cmd.register(make_data_app)
world_cmd.register_ls(ls_app)
compare_cmd.register(app)


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
    as_json: Json = False,
) -> None:
    """Draw a random triple database as in the paper (N distinct contexts, uniform objects)."""
    from artifactlab.data import random_triples

    sizes = _parse_ranges(ranges) if ranges else None
    ds = random_triples(V=vocab, N=triples, seed=seed, k=k, ranges=sizes)
    require_parent(out)
    tmp = out.with_name(f".{out.name}.tmp")
    ds.save(tmp)
    tmp.replace(out)
    info = {"out": str(out), "tuples": ds.N, "V": ds.vocab.V, "seed": seed}
    emit(info, as_json, f"wrote {ds.N} triples over V={ds.vocab.V} tokens to {out}")


def _parse_ranges(text: str) -> tuple[int, int, int]:
    try:
        S, R, O = (int(v) for v in text.split(","))
    except ValueError:
        raise InputError("--ranges", f"expected three integers S,R,O, got {text!r}") from None
    return S, R, O


@app.command()
@user_errors
def train(
    data: Annotated[Path, typer.Option("--data", help="Tuple file: one tuple per line.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to create.")],
    model_name: Annotated[
        str, typer.Option("--model", help="A registered model (artifactlab ls models).")
    ] = "attn",
    rank: Annotated[int, typer.Option(help="Rank of cp/distmult/rescal/complex.")] = 32,
    smoothing: Annotated[float, typer.Option(help="Additive smoothing of ngram.")] = 0.0,
    d_model: Annotated[int, typer.Option(help="Residual width (attn).")] = 64,
    n_layers: Annotated[int, typer.Option(help="Attention layers.")] = 1,
    n_heads: Annotated[int, typer.Option(help="Heads per layer.")] = 4,
    d_head_qk: Annotated[
        int | None, typer.Option(help="Query/key width (default d_model/n_heads).")
    ] = None,
    d_head_vo: Annotated[
        int | None, typer.Option(help="Value width (default d_model/n_heads).")
    ] = None,
    mlp: Annotated[bool, typer.Option(help="Add an MLP block to each layer.")] = False,
    d_mlp: Annotated[int | None, typer.Option(help="MLP width (default 4 d_model).")] = None,
    layer_norm: Annotated[bool, typer.Option(help="Pre-layer normalisation.")] = False,
    bias: Annotated[bool, typer.Option(help="Biases on every linear map.")] = False,
    positional: Annotated[bool, typer.Option(help="Learned positional embeddings.")] = False,
    mode: Annotated[
        str, typer.Option(help="'last': final token only; 'all': every next token.")
    ] = "last",
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-2,
    max_steps: Annotated[int, typer.Option(help="Step cap.")] = 3000,
    batch_size: Annotated[
        int | None, typer.Option(help="Minibatch size (default: full batch).")
    ] = None,
    loss_tol: Annotated[
        float, typer.Option(help="Stop when the mean train loss (nats) is below this.")
    ] = 0.01,
    stop_at_accuracy: Annotated[
        bool, typer.Option(help="Also stop at 100% train accuracy (earlier, looser).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Initialisation and minibatch seed.")] = 0,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Train a model (the toy transformer by default) on a tuple file; write a run folder."""
    from artifactlab.data import load_tuples
    from artifactlab.models import MODELS
    from artifactlab.progress import progress_bar
    from artifactlab.runs import save_run
    from artifactlab.train import TrainConfig, fit_model

    if out.exists() and any(out.iterdir()):
        raise InputError(str(out), "already exists and is not empty", "choose a new --out folder")
    ds = load_tuples(data)
    if ds.n < 2:
        raise InputError(str(data), "tuples need at least 2 tokens (a context and a next token)")
    if model_name not in MODELS:
        raise InputError("--model", f"unknown model {model_name!r}", f"choose {', '.join(MODELS)}")
    options = {  # each model's own options; the transformer's come from its many flags
        "attn": dict(
            d_model=d_model, n_layers=n_layers, n_heads=n_heads, d_head_qk=d_head_qk,
            d_head_vo=d_head_vo, mlp=mlp, d_mlp=d_mlp, layer_norm=layer_norm, bias=bias,
            positional=positional,
        ),
        "ngram": {"smoothing": smoothing},
    }.get(model_name, {"rank": rank})  # fmt: skip
    cfg = MODELS[model_name][0](V=ds.vocab.V, n_ctx=ds.n, **options)
    tcfg = TrainConfig(
        mode=mode,
        lr=lr,
        max_steps=max_steps,
        batch_size=batch_size,
        loss_tol=loss_tol,
        stop_at_accuracy=stop_at_accuracy,
        seed=seed,
    )
    model = MODELS[model_name][1](cfg, seed=seed)
    with progress_bar(tcfg.max_steps, "training", quiet) as advance:
        last = [0]

        def report(step: int, loss: float, acc: float) -> None:
            advance(step - last[0])
            last[0] = step

        result = fit_model(model, ds.tuples, tcfg, progress=report)
    save_run(
        out, model, ds, tcfg, result, seed=seed, model_name=model_name, extra={"data": str(data)}
    )
    info = {
        "out": str(out),
        "n_non_embedding_params": model.n_non_embedding_params(),
        **{k: v for k, v in result.to_dict().items() if k != "log"},
    }
    emit(
        info,
        as_json,
        (
            f"trained {model.n_non_embedding_params()} non-embedding parameters "
            f"for {result.steps} steps (stop: {result.stop_reason}; "
            f"loss {result.loss:.4f}, accuracy {result.accuracy:.3f}) -> {out}"
        ),
    )


artifacts_cmd.register(app)  # listed after `train`


class ExportFormat(StrEnum):
    """Export formats."""

    transformer_lens = "transformer-lens"


@app.command()
@user_errors
def export(
    run_dir: Annotated[Path, typer.Argument(help="Run folder made by `artifactlab train`.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to create.")],
    format: Annotated[ExportFormat, typer.Option("--format", help="Target format.")] = (
        ExportFormat.transformer_lens
    ),
    as_json: Json = False,
) -> None:
    """Export a run's model (TransformerLens HookedTransformer checkpoint convention)."""
    from artifactlab.export.transformer_lens import export_transformer_lens
    from artifactlab.runs import load_run

    run = load_run(run_dir)
    path = export_transformer_lens(run.model, list(run.dataset.vocab.tokens), out)
    emit({"out": str(path), "format": format.value}, as_json, f"exported {run_dir} -> {path}")


class Figure(StrEnum):
    """Reproducible figures."""

    fig2 = "fig2"
    fig3 = "fig3"


@app.command()
@user_errors
def reproduce(
    figure: Annotated[Figure, typer.Argument(help="Which figure of the paper.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (CSV, PNG, summary).")] = Path(
        "runs"
    ),
    scale: Annotated[
        str, typer.Option(help="'default' (about a minute), 'large' (V=256) or 'tiny' (tests).")
    ] = "default",
    seeds: Annotated[int | None, typer.Option(help="Number of seeds (default 3).")] = None,
    workers: Annotated[
        int, typer.Option(help="Batches trained at once in single-threaded processes.")
    ] = (os.cpu_count() or 1),
    backend: Annotated[
        str | None,
        typer.Option(help="local, processes or ray; default: processes when --workers > 1."),
    ] = None,
    render_only: Annotated[
        bool, typer.Option(help="Only rebuild the plot and summary from OUT/FIG.csv.")
    ] = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Reproduce the paper's Fig. 2 (artifacts vs triples) or Fig. 3 (artifacts vs parameters).

    Runs the figure's shipped sweep file (copied to OUT/FIG.yaml; results in OUT/FIG/), so an
    interrupted run resumes where it stopped.
    """
    from artifactlab.experiments.cli import sweep_progress
    from artifactlab.experiments.reproduce import render_figure, run_figure, sweep_text
    from artifactlab.experiments.runner import TrialsFailedError

    if render_only:
        summary = render_figure(figure.value, out)
        emit(summary, as_json, summary["text"])
        return
    if workers < 1:
        raise InputError("--workers", f"must be >= 1, got {workers}")
    sweep_text(figure.value, scale, seeds)  # checks --scale and --seeds before anything runs
    backend = backend or ("processes" if workers > 1 else "local")
    try:
        with sweep_progress(figure.value, quiet) as on_event:
            summary = run_figure(figure.value, out, scale, seeds, backend, workers, on_event)
    except TrialsFailedError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    emit(
        summary, as_json, summary["text"] + f"\nwrote {out}/{figure.value}.csv, .png, _summary.txt"
    )


@ls_app.command("models")
def ls_models() -> None:
    """List the registered models."""
    from artifactlab.models import MODELS

    for name in MODELS:
        typer.echo(name)


@ls_app.command("trials")
def ls_trials() -> None:
    """List the trial kinds that sweep files can name with ``trial:``."""
    from artifactlab.experiments.registry import TRIAL_KINDS

    for kind in TRIAL_KINDS.values():
        typer.echo(f"{kind.name}\t{kind.description}")


# the UsageError class of whichever click typer runs on (recent typer vendors its own click)
_UsageError = typer.BadParameter.__mro__[1]


def main(argv: list[str] | None = None) -> int:
    """Console entry point: usage errors, like bad input, end in one line and exit code 2."""
    try:
        result = app(args=argv, prog_name="artifactlab", standalone_mode=False)
    except _UsageError as err:  # unknown option, a value of the wrong type, ...
        message = err.format_message().strip()
        if message:  # empty when no arguments were given: the help was printed instead
            where = f"{err.ctx.command_path}: " if err.ctx is not None else ""
            typer.echo(f"error: {where}{message} (see --help)", err=True)
        return 2
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
