"""``artifactlab artifacts RUN``: count, list and label a trained run's completion artifacts.

Example
-------
Without ``--truth`` there is nothing to label, and ``--test`` alone is refused:

>>> _read_ground_truth(None, None, "fail", vocab=None, n=3) is None
True
>>> _read_ground_truth(None, Path("test.tsv"), "fail", vocab=None, n=3)
Traceback (most recent call last):
artifactlab.errors.InputError: --test: needs --truth (add --truth FILE)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from artifactlab.cli.options import (
    LITERAL,
    Json,
    Overwrite,
    Quiet,
    emit,
    fresh_file,
    printable,
    require_parent,
    taus,
    user_errors,
)
from artifactlab.errors import InputError


def register(app: typer.Typer) -> None:
    """Add ``artifacts`` to ``app``."""
    app.command("artifacts")(artifacts)


@user_errors
def artifacts(
    run_dir: Annotated[Path, typer.Argument(help="Run folder made by `artifactlab train`.")],
    tau: Annotated[
        list[float] | None, typer.Option("--tau", help="Threshold(s); repeatable.")
    ] = None,
    top: Annotated[int, typer.Option(help="How many of the most probable artifacts to list.")] = 10,
    max_contexts: Annotated[
        int, typer.Option(help="Refuse to enumerate more contexts.")
    ] = 50_000_000,
    dense: Annotated[
        Path | None,
        typer.Option(help="Also write the whole completion tensor (small V^n) as safetensors."),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            help="Ground truth G: a tuple file, or a folder with truth.tsv and test.tsv "
            "(make-data world). Labels each artifact generalization or hallucination."
        ),
    ] = None,
    test: Annotated[
        Path | None,
        typer.Option(help="Held-out tuples for test accuracy and cross-entropy (default: G)."),
    ] = None,
    unknown: Annotated[
        str, typer.Option(help="Truth/test tokens outside the vocabulary: 'fail' or 'skip'.")
    ] = "fail",
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    as_json: Json = False,
    estimate: Annotated[
        bool,
        typer.Option(
            "--estimate",
            help="Estimate the count from sampled contexts instead of enumerating all "
            "V^(n-1) (for when that is too many), with 95% intervals.",
        ),
    ] = False,
    samples: Annotated[
        int | None, typer.Option(help="With --estimate: contexts to sample (default 10,000).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="With --estimate: where contexts come from: uniform (default), corpus "
            "(the training tuples' contexts) or model (the model's own generations)."
        ),
    ] = None,
    target_rel_error: Annotated[
        float | None,
        typer.Option(
            help="With --estimate: sample on until each interval's half-width is below this "
            "share of its estimate, in (0, 1); needs --max-samples."
        ),
    ] = None,
    max_samples: Annotated[
        int | None,
        typer.Option(help="With --target-rel-error: the most contexts to sample."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="With --estimate: seed of the sampling (default 0).")
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            help="With --estimate: where the batches of contexts are counted: local "
            "(default), processes (worker processes) or ray (a Ray cluster); the same result."
        ),
    ] = None,
    n_workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="With --backend processes or ray: batches in flight at once (default: the "
            "usable cores, or the cluster's CPUs with --address).",
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="With --backend ray: a Ray cluster's address (default: a local Ray)."),
    ] = None,
) -> None:
    """Count the run's artifacts: absent n-grams with p > tau over all V^(n-1) contexts.

    With --truth, every artifact is labelled: a generalization if it is in G, a hallucination
    otherwise (docs/glossary.md#truth-set), and the model is scored on the held-out tuples.
    With --estimate, the count is estimated from sampled contexts instead.
    """
    from artifactlab.cli.artifacts_estimate import estimate_options_given, run_estimate

    options = {  # the --estimate options, by their names on the command line
        "samples": samples,
        "source": source,
        "target_rel_error": target_rel_error,
        "max_samples": max_samples,
        "seed": seed,
        "backend": backend,
        "workers": n_workers,
        "address": address,
    }
    given = estimate_options_given(**options)
    if estimate:
        for name, value in (("--truth", truth), ("--test", test), ("--dense", dense)):
            if value is not None:
                raise InputError(name, "does not go with --estimate", f"leave out {name}")
        run_estimate(run_dir, taus(tau), **options, quiet=quiet, as_json=as_json)
        return
    if given:
        raise InputError(given[0], "needs --estimate", "add --estimate, or leave it out")
    from artifactlab.cli.progress import progress_bar
    from artifactlab.runs import load_run
    from artifactlab.tensor import DataTensor
    from artifactlab.tensor.completion import check_enumerable, evaluate_completion

    if dense is not None:
        fresh_file(dense, overwrite)
    run = load_run(run_dir)
    D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
    total = check_enumerable(D.V, D.n, max_contexts)
    thresholds = taus(tau)
    ground = _read_ground_truth(truth, test, unknown, run.dataset.vocab, D.n)
    with progress_bar(total, "contexts", quiet) as advance:
        rep = evaluate_completion(
            run.model.next_token_fn(),
            D,
            thresholds,
            top_k=top,
            max_contexts=max_contexts,
            progress=advance,
            make_logits_fn=run.model.next_token_fn,  # one per worker thread: blocks in parallel
            truth=ground["truth"] if ground is not None else None,
        )
    if dense is not None:
        _write_dense(run.model.next_token_logits, D.V, D.n, dense)
    decode = run.dataset.vocab.decode
    labels = _truth_labels(ground, run.model.next_token_fn(), D, rep)
    data = {
        "run": str(run_dir),
        "V": rep.V,
        "n": rep.n,
        "n_train": rep.n_train,
        "n_contexts": rep.n_contexts,
        "n_observed_contexts": rep.n_observed_contexts,
        "tau": rep.taus[0] if len(rep.taus) == 1 else rep.taus,
        "n_artifacts": _by_tau(rep.n_artifacts),
        "n_artifacts_observed_contexts": _by_tau(rep.n_artifacts_observed_contexts),
        "ratio": _by_tau(rep.ratio),
        "consistency": rep.consistency,
        "top_artifacts": [
            {"tokens": decode((*a.context, a.token)), "prob": a.prob} for a in rep.top_artifacts
        ],
    }
    if labels is not None:
        report, top_labels = labels
        data["truth"] = {"file": str(truth), **ground["notes"], **report.to_dict()}
        for entry, label in zip(data["top_artifacts"], top_labels, strict=True):
            entry["label"] = label
    if as_json:
        emit(data, True, "")
        return
    title = f"artifacts of {printable(run_dir)} (V={rep.V}, n={rep.n}, {rep.n_contexts:,} contexts)"
    table = Table(title=Text(title))  # a Text is printed as is: a path's [brackets] stay
    for col in ("tau", "artifacts", "ratio", "in observed fibers"):
        table.add_column(col, justify="right")
    for t in rep.taus:
        table.add_row(
            f"{t:g}",
            f"{rep.n_artifacts[t]:,}",
            f"{rep.ratio[t]:.2f}x",
            f"{rep.n_artifacts_observed_contexts[t]:,}",
        )
    console = Console()
    console.print(table)
    cons = rep.consistency
    console.print(
        f"training n-grams: {rep.n_train:,}; consistency: mean KL {cons['mean_kl']:.4f}, "
        f"max KL {cons['max_kl']:.4f} nats, train accuracy {cons['train_accuracy']:.3f}",
        **LITERAL,
    )
    if labels is not None:
        _print_truth(console, data["truth"], rep.taus)
    for a in data["top_artifacts"]:
        label = f"  [{a['label']}]" if "label" in a else ""
        tokens = " ".join(printable(t) for t in a["tokens"])
        console.print(f"  {tokens}  p={a['prob']:.3f}{label}", **LITERAL)


def _read_ground_truth(
    truth: Path | None, test: Path | None, unknown: str, vocab, n: int
) -> dict | None:
    """Read G (and the held-out split) for ``artifacts --truth``; None without --truth."""
    from artifactlab.data.truth_set import read_truth

    if truth is None:
        if test is not None:
            raise InputError("--test", "needs --truth", "add --truth FILE")
        return None
    if unknown not in ("fail", "skip"):
        raise InputError("--unknown", f"must be 'fail' or 'skip', got {unknown!r}")
    truth_file = truth / "truth.tsv" if truth.is_dir() else truth
    test_file = test or (truth / "test.tsv" if truth.is_dir() else truth)
    notes: dict = {}
    arrays = {}
    for label, path in (("truth", truth_file), ("test", test_file)):
        arrays[label], skipped = read_truth(path, vocab, n, unknown)  # type: ignore[arg-type]
        if skipped:
            notes[f"{label}_unknown_tokens"] = skipped
            typer.echo(
                printable(
                    f"warning: {path}: skipped tuples with {len(skipped)} token(s) not in the "
                    f"vocabulary: {', '.join(skipped[:5])}" + (" ..." if len(skipped) > 5 else "")
                ),
                err=True,
            )
    return {"truth": arrays["truth"], "test": arrays["test"], "notes": notes}


def _truth_labels(ground: dict | None, logits_fn: Callable, D, rep) -> tuple | None:
    from artifactlab.tensor.labels import judge, label_ngrams

    if ground is None:
        return None
    report = judge(logits_fn, D, ground["truth"], ground["test"], rep)
    if report.n_truth_in_train:
        typer.echo(
            f"warning: {report.n_truth_in_train} n-gram(s) of the truth set are training n-grams;"
            " they are not artifacts and are left out of G",
            err=True,
        )
    if report.n_test_in_train:
        typer.echo(
            f"warning: {report.n_test_in_train} of the {report.n_test} held-out n-grams are also"
            " training n-grams",
            err=True,
        )
    top = [(*a.context, a.token) for a in rep.top_artifacts]
    return report, label_ngrams(top, ground["truth"]) if top else []


def _print_truth(console: Console, truth: dict, taus: list[float]) -> None:
    title = f"against the truth set {printable(truth['file'])} ({truth['n_truth']:,} n-grams)"
    table = Table(title=Text(title))
    for col in ("tau", "generalizations", "hallucinations", "recall of G"):
        table.add_column(col, justify="right")
    for t in taus:
        key = f"{t:g}"
        table.add_row(
            key,
            f"{truth['generalizations'][key]:,}",
            f"{truth['hallucinations'][key]:,}",
            f"{truth['recall'][key]:.3f}",
        )
    console.print(table)
    console.print(
        f"held-out n-grams: {truth['n_test']:,}; test accuracy {truth['test_accuracy']:.3f}, "
        f"test cross-entropy {truth['test_cross_entropy']:.3f} nats",
        **LITERAL,
    )


def _write_dense(logits_fn: Callable, V: int, n: int, path: Path) -> None:
    from safetensors.torch import save_file

    from artifactlab.io import staged_file
    from artifactlab.tensor.dense import completion_dense

    require_parent(path)
    probs = completion_dense(logits_fn, V, n)  # refuses a large V^n before writing anything
    with staged_file(path) as tmp:
        save_file({"completion": probs.float().cpu().contiguous()}, tmp)


def _by_tau(values: dict[float, float]) -> float | dict[str, float]:
    if len(values) == 1:
        return next(iter(values.values()))
    return {f"{k:g}": v for k, v in values.items()}
