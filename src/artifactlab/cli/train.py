"""``artifactlab train``: train any registered model on a tuple file and write a run folder.

The model options (``--d-model``, ``--rank``, ``--smoothing``, ...) are built from the
model registry: every field of every registered config (except V and n_ctx, which come
from the data) is an option, and an option the chosen model does not take is refused
with exit code 2 instead of being silently ignored. A new model's options need no edit
here.

Example
-------
>>> sorted(MODEL_OPTIONS)[:4]
['bias', 'd_head_qk', 'd_head_vo', 'd_mlp']
>>> MODEL_OPTIONS["rank"].models
['cp', 'distmult', 'rescal', 'complex']
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from artifactlab.cli.options import Json, Overwrite, Quiet, emit, fresh_out, user_errors
from artifactlab.errors import InputError
from artifactlab.models.config import option_help
from artifactlab.models.registry import MODELS, find_model


@dataclass(frozen=True)
class ModelOption:
    """One ``--OPTION`` of ``train``: its type, help text and the models that take it."""

    name: str
    type: Any
    help: str
    models: list[str]


def _model_options() -> dict[str, ModelOption]:
    options: dict[str, ModelOption] = {}
    for spec in MODELS.values():
        hints = typing.get_type_hints(spec.config)
        helps = option_help(spec.config)
        for name in spec.options:
            if name in options:
                if options[name].type != hints[name]:
                    raise TypeError(f"option {name!r} has two types in the model registry")
                options[name].models.append(spec.name)
            else:
                options[name] = ModelOption(name, hints[name], helps.get(name, ""), [spec.name])
    return options


#: option name -> its type, help and models; built from the registered configs
MODEL_OPTIONS = _model_options()


def _cli_type(tp: Any) -> Any:
    """The option's type with None allowed: None means "not given" (the config's default)."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return (args[0] if args else tp) | None


def _parameter(opt: ModelOption) -> inspect.Parameter:
    flag = f"--{opt.name.replace('_', '-')}"
    decls = [f"{flag}/--no-{opt.name.replace('_', '-')}"] if opt.type is bool else [flag]
    takers = ", ".join(opt.models)
    info = typer.Option(*decls, help=f"{opt.help} ({takers})", rich_help_panel="Model options")
    return inspect.Parameter(
        opt.name, inspect.Parameter.KEYWORD_ONLY, default=None,
        annotation=Annotated[_cli_type(opt.type), info],
    )  # fmt: skip


def train_command(
    data: Annotated[Path, typer.Option("--data", help="Tuple file: one tuple per line.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to create.")],
    model_name: Annotated[
        str, typer.Option("--model", help="A registered model (artifactlab ls models).")
    ] = "attn",
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
    weight_decay: Annotated[float, typer.Option(help="Adam's L2 weight decay.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Initialisation and minibatch seed.")] = 0,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    as_json: Json = False,
    **options: Any,
) -> None:
    """Train a model (the toy transformer by default) on a tuple file; write a run folder."""
    from artifactlab.cli.progress import progress_bar
    from artifactlab.data import load_tuples
    from artifactlab.device import module_device, place
    from artifactlab.models import parameter_counts
    from artifactlab.runs import save_run
    from artifactlab.train import TrainConfig, fit_model

    spec = find_model(model_name)
    given = {k: v for k, v in options.items() if v is not None}
    tcfg = TrainConfig(
        mode=mode, lr=lr, max_steps=max_steps, batch_size=batch_size, loss_tol=loss_tol,
        stop_at_accuracy=stop_at_accuracy, weight_decay=weight_decay, seed=seed,
    )  # fmt: skip
    ds = load_tuples(data)
    if ds.n < 2:
        raise InputError(str(data), "tuples need at least 2 tokens (a context and a next token)")
    model = place(spec.build(V=ds.vocab.V, n_ctx=ds.n, seed=seed, **given))  # global --device
    device = str(module_device(model))
    fresh_out(out, overwrite)
    with progress_bar(tcfg.max_steps, "training", quiet) as advance:
        last = [0]

        def report(step: int, loss: float, acc: float) -> None:
            advance(step - last[0])
            last[0] = step

        result = fit_model(model, ds.tuples, tcfg, progress=report)
    extra = {"data": str(data), "model_preset": spec.name, "device": device}
    save_run(out, model, ds, tcfg, result, seed=seed, model_name=spec.kind, extra=extra)
    counts = parameter_counts(model)
    info = {"out": str(out), "model": spec.name, "device": device, **counts.to_dict()}
    info |= {k: v for k, v in result.to_dict().items() if k != "log"}
    text = (
        f"trained {spec.name}: {counts.describe()}, {result.steps} steps "
        f"(stop: {result.stop_reason}; loss {result.loss:.4f}, accuracy {result.accuracy:.3f})"
        f" -> {out}"
    )
    emit(info, as_json, text)


def _with_model_options(func: Any) -> Any:
    """``func`` with one keyword-only parameter per registered model option."""
    base = inspect.signature(func)
    hints = typing.get_type_hints(func, include_extras=True)  # evaluated, Annotated kept
    params = [
        p.replace(annotation=hints[p.name])
        for p in base.parameters.values()
        if p.kind is not p.VAR_KEYWORD
    ]
    params += [_parameter(opt) for opt in MODEL_OPTIONS.values()]
    hints = {p.name: p.annotation for p in params} | {"return": None}
    func.__signature__ = base.replace(parameters=params)
    func.__annotations__ = hints
    return func


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app``."""
    app.command("train")(user_errors(_with_model_options(train_command)))
