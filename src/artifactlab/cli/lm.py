"""``artifactlab lm artifacts``: a language model's confident continuations its corpus lacks.

The model is a local Hugging Face folder (``--hf-model``) or a run folder of
``artifactlab train`` (``--run``); the corpus is an index of ``artifactlab index build``
(``--index``). Contexts of ``--context-length`` tokens are drawn from each ``--source``;
every continuation above ``--tau`` is looked up in the index, and those the corpus never
holds are the artifacts (:mod:`artifactlab.lm.corpus_artifacts`). Every input is checked
before the first progress bar starts.

Example
-------
>>> sorted(c.name for c in lm_app.registered_commands)
['artifacts']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli.options import LITERAL, Json, Quiet, count, emit, printable, taus, user_errors
from artifactlab.errors import InputError

lm_app = typer.Typer(
    help="Language models against their corpus: confident continuations it never holds.",
    no_args_is_help=True,
)


@lm_app.command("artifacts")
@user_errors
def artifacts_command(
    index_dir: Annotated[
        Path, typer.Option("--index", help="A corpus index folder from `artifactlab index build`.")
    ],
    context_length: Annotated[
        int, typer.Option("--context-length", help="Tokens per context (m), within the window.")
    ],
    hf_model: Annotated[
        Path | None,
        typer.Option("--hf-model", help="A local Hugging Face causal LM folder (with tokenizer)."),
    ] = None,
    run: Annotated[
        Path | None, typer.Option("--run", help="A run folder from `artifactlab train`.")
    ] = None,
    source: Annotated[
        str, typer.Option("--source", help="Where contexts come from: corpus, uniform, model.")
    ] = "corpus",
    samples: Annotated[int, typer.Option("--samples", help="Contexts drawn per source.")] = 1000,
    target_rel_error: Annotated[
        float | None,
        typer.Option("--target-rel-error", help="Draw more until the rate is this precise."),
    ] = None,
    max_samples: Annotated[
        int | None, typer.Option("--max-samples", help="Cap on the draws (with a target).")
    ] = None,
    tau: Annotated[
        list[float] | None, typer.Option("--tau", help="Threshold in (0, 1), repeatable.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the draws and the bootstrap.")] = 0,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            metavar="cpu|cuda|auto",
            help="Where the model runs (default: the global --device, else cpu).",
        ),
    ] = None,
    batch: Annotated[int, typer.Option("--batch", help="Contexts per forward pass.")] = 64,
    top: Annotated[int, typer.Option("--top", help="Most probable artifacts shown.")] = 10,
    as_json: Json = False,
    quiet: Quiet = False,
) -> None:
    """Sample contexts and count the model's confident continuations the corpus never holds."""
    from artifactlab.checks import name_list, seed_value
    from artifactlab.cli.progress import progress_bar
    from artifactlab.data.corpus_index import CorpusIndex
    from artifactlab.device import device_name
    from artifactlab.lm.corpus_artifacts import SOURCES, ArtifactFinder
    from artifactlab.lm.hf import load_hf_model, load_run_model
    from artifactlab.tensor.estimate import check_stopping

    if (hf_model is None) == (run is None):
        raise InputError(
            "--hf-model/--run",
            "give exactly one model" + (", not both" if run is not None else ""),
            "--hf-model PATH for a Hugging Face folder, --run RUN for a run folder",
        )
    sources = name_list("--source", source, SOURCES, "source")
    thresholds, m = taus(tau), count("--context-length", context_length)
    check_stopping(samples, target_rel_error, max_samples)
    seed_value("--seed", seed)
    count("--top", top, 0)
    device_name(device)
    index = CorpusIndex.load(index_dir)
    if hf_model is not None:
        lm = load_hf_model(hf_model, device, batch)
    else:
        lm = load_run_model(run, device, batch)
    token_map = lm.index_map(index)
    lm.check_context(m)
    finder = ArtifactFinder(lm, index, m, thresholds, token_map)
    drawn = [finder.source(name) for name in sources]  # each refused before any bar starts

    def progress(total: int, description: str):
        return progress_bar(total, description, quiet)

    results = [
        finder.run(src, samples, seed, target_rel_error, max_samples, top, progress).to_dict()
        for src in drawn
    ]
    data = {
        "index": str(index_dir),
        "model": lm.describe(),
        "context_length": m,
        "results": results,
    }
    if as_json:
        emit(data, True, "")
        return
    _print_results(data)


def _print_results(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from artifactlab.checks import magnitude

    console = Console()
    model = data["model"]
    console.print(
        printable(
            f"{model['path']} ({model['kind']}, V={model['vocab_size']:,}, {model['device']}) "
            f"against {data['index']}, contexts of {data['context_length']} tokens"
        ),
        **LITERAL,
    )
    for result in data["results"]:
        title = (
            f"{result['source']}: {result['n_samples']:,} contexts, seed {result['seed']} "
            f"({result['confidence']:.0%} intervals)"
        )
        rates = Table(title=Text(title))
        for col in ("tau", "artifacts per context", "method", "share with one"):
            rates.add_column(col, justify="right")
        found = Table(
            title=Text(f"{result['source']}: continuations above tau over the drawn contexts")
        )
        for col in ("tau", "confident", "in the corpus", "artifacts"):
            found.add_column(col, justify="right")
        for row in result["estimates"]:
            low, high = row["share_ci"]
            rates.add_row(
                f"{row['tau']:g}",
                f"{row['rate']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]",
                row["method"],
                f"{row['share']:.1%} [{low:.1%}, {high:.1%}]",
            )
            share = row["n_supported"] / row["n_confident"] if row["n_confident"] else 0.0
            found.add_row(
                f"{row['tau']:g}",
                f"{row['n_confident']:,}",
                f"{row['n_supported']:,} ({share:.1%})",
                f"{row['n_artifacts']:,}",
            )
        console.print(rates)
        console.print(found)
        console.print(
            printable(
                f"drawn from: {result['scope']} ({magnitude(result['n_contexts'])}); "
                f"stopped: {result['stopped']}"
            ),
            **LITERAL,
        )
        if result["top_artifacts"]:
            console.print(f"most probable artifacts (tau > {min(result['tau']):g}):", **LITERAL)
        for a in result["top_artifacts"]:
            line = (
                f"  p={a['prob']:.4f}  {json.dumps(a['context_text'], ensure_ascii=False)} -> "
                f"{json.dumps(a['continuation_text'], ensure_ascii=False)}  "
                f"(the context occurs {a['context_count']:,} times)"
            )
            console.print(printable(line), **LITERAL)
