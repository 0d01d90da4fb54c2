"""``artifactlab artifacts RUN --estimate``: the artifact count estimated from sampled contexts.

The exact count enumerates all ``V^(n-1)`` contexts; ``--estimate`` samples ``--samples``
of them instead (:func:`artifactlab.tensor.estimate.estimate_artifacts`), counts the
artifacts at each by the same rule, and prints the estimate with its 95% interval.
``--backend processes|ray [--workers K] [--address ADDR]`` counts the batches of
contexts in worker processes or on a Ray cluster, with the same result
(:func:`artifactlab.tensor.estimate_backends.estimate_run`).

Example
-------
>>> estimate_options_given(samples=None, source=None, target_rel_error=None,
...                        max_samples=None, seed=None, backend=None)
[]
>>> estimate_options_given(samples=5, source=None, target_rel_error=None,
...                        max_samples=None, seed=0)
['--samples', '--seed']
>>> _count(1234.5), _count(2.5e17)
('1,234.5', '2.500e+17')
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from artifactlab.cli.options import LITERAL, emit, printable
from artifactlab.errors import InputError

#: the sources the command line offers (``given`` needs an array: Python only)
CLI_SOURCES = ("uniform", "corpus", "model")
#: contexts sampled without --samples
DEFAULT_SAMPLES = 10_000


def estimate_options_given(**values: object) -> list[str]:
    """The ``--estimate`` options among ``values`` (option name -> value) that were given."""
    return [f"--{k.replace('_', '-')}" for k, v in values.items() if v is not None]


def run_estimate(
    run_dir: Path,
    thresholds: list[float],
    *,
    samples: int | None,
    source: str | None,
    target_rel_error: float | None,
    max_samples: int | None,
    seed: int | None,
    backend: str | None,
    workers: int | None,
    address: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Estimate the run's artifacts from sampled contexts, on a backend; print a table or JSON.

    Raises
    ------
    InputError
        A bad run folder, an unknown source, no samples, a relative error outside (0, 1),
        a target without a cap (or a cap below ``--samples``, or without a target), a bad
        seed, the model source for a model that cannot generate, an unknown backend, a bad
        ``--workers``, ``--workers`` or ``--address`` with a backend that does not take
        them, or Ray missing or unreachable.
    typer.Exit
        Code 1 (after one line on standard error) when a worker failed or died.
    """
    import typer

    from artifactlab.checks import seed_value
    from artifactlab.cli.options import workers as check_workers
    from artifactlab.cli.progress import progress_bar
    from artifactlab.runs import load_run
    from artifactlab.tensor import DataTensor
    from artifactlab.tensor.context_sources import make_source
    from artifactlab.tensor.estimate import check_stopping
    from artifactlab.tensor.estimate_backends import BackendError, check_backend, estimate_run

    samples = DEFAULT_SAMPLES if samples is None else samples
    source = source or "uniform"
    seed = 0 if seed is None else seed
    backend = backend or "local"
    if source not in CLI_SOURCES:
        raise InputError(
            "--source", f"unknown source {source!r}", f"choose one of {', '.join(CLI_SOURCES)}"
        )
    target, cap = check_stopping(samples, target_rel_error, max_samples)
    seed_value("--seed", seed)
    if workers is not None:
        check_workers(workers)
    check_backend(backend, workers, address)
    run = load_run(run_dir)
    D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
    make_source(source, run.model.next_token_fn(), D, batch=1)  # refused before the bar starts
    try:
        with progress_bar(cap, f"sampling contexts ({source})", quiet) as advance:
            est = estimate_run(
                run,
                thresholds,
                samples=samples,
                source=source,
                seed=seed,
                target_rel_error=target,
                max_samples=max_samples,
                progress=advance,
                backend=backend,
                workers=workers,
                address=address,
            )
    except BackendError as err:
        typer.echo(f"error: {printable(err)}", err=True)
        raise typer.Exit(1) from None
    data = {"run": str(run_dir), **est.to_dict()}
    if as_json:
        emit(data, True, "")
        return
    _print_estimate(run_dir, data)


def _count(x: float) -> str:
    return f"{x:,.1f}" if abs(x) < 1e15 else f"{x:.3e}"


def _print_estimate(run_dir: Path, data: dict) -> None:
    from artifactlab.checks import magnitude

    level = f"{data['confidence']:.0%}"
    title = (
        f"estimated artifacts of {printable(run_dir)} (V={data['V']}, n={data['n']}; "
        f"{data['n_samples']:,} contexts from {data['source']}, seed {data['seed']})"
    )
    counts = Table(title=Text(title))
    for col in ("tau", "estimate", f"{level} interval", "method", "rel. half-width"):
        counts.add_column(col, justify="right")
    rates = Table(title=Text(f"per sampled context ({level} intervals)"))
    for col in ("tau", "mean artifacts", "share with an artifact"):
        rates.add_column(col, justify="right")
    for key, row in data["estimates"].items():
        counts.add_row(
            key,
            _count(row["estimate"]),
            f"[{_count(row['ci_low'])}, {_count(row['ci_high'])}]",
            row["method"],
            f"{row['rel_half_width']:.2%}",
        )
        (low, high), (s_low, s_high) = row["rate_ci"], row["share_ci"]
        rates.add_row(
            key,
            f"{row['rate']:.4f} [{low:.4f}, {high:.4f}]",
            f"{row['share']:.2%} [{s_low:.2%}, {s_high:.2%}]",
        )
    console = Console()
    console.print(counts)
    console.print(rates)
    target = data["target_rel_error"]
    if data["stopped"] == "budget":
        stopped = "the sample budget (--samples)"
    elif data["stopped"] == "target":
        stopped = f"the target relative error {target:g}"
    else:
        stopped = f"the cap (--max-samples {data['max_samples']:,}), short of the target {target:g}"
    console.print(
        f"counted over: {data['scope']} ({magnitude(data['n_contexts'])}); stopped at {stopped}",
        **LITERAL,
    )
