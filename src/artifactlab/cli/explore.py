"""``artifactlab explore RUN``: the run's completion tensor as a live page (the paper's Fig. 1).

Writes the tensor explorer (:mod:`artifactlab.web.explorer`) and serves it on
``http://127.0.0.1:PORT/`` until Ctrl-C; ``--no-serve`` only writes it. Without ``--out``
the page goes to a temporary folder, removed when the server stops (kept with
``--no-serve``). The server binds to 127.0.0.1 only and serves the page's own file only
(:mod:`artifactlab.web.server`).

Example
-------
>>> from typer.testing import CliRunner
>>> from artifactlab.cli import app
>>> res = CliRunner().invoke(app, ["explore", "no-such-run", "--no-serve"])
>>> res.exit_code, res.stderr.split(":")[0]
(2, 'error')
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli.options import (
    Json,
    Overwrite,
    Quiet,
    count,
    emit,
    fresh_file,
    number,
    user_errors,
)


def register(app: typer.Typer) -> None:
    """Add ``explore`` to ``app``."""
    app.command("explore")(explore)


@user_errors
def explore(
    run_dir: Annotated[Path, typer.Argument(help="Run folder made by `artifactlab train`.")],
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0: a free one, printed).")] = 0,
    tau: Annotated[float, typer.Option(help="The slider's initial tau, in [0.01, 0.99].")] = 0.5,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the page to this HTML file (default: a temporary folder)."),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option(
            help="Draw K seeded slices (relations or first tokens) instead of all V; "
            "needed when V^3 is over --max-cells.",
            metavar="K",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of --sample.")] = 0,
    slice_by: Annotated[
        str,
        typer.Option(
            help="Slices per middle token ('relation'), per first token ('first'), or 'auto' "
            "(relation when fewer distinct tokens are in the middle); the page can switch."
        ),
    ] = "auto",
    truth: Annotated[
        Path | None,
        typer.Option(
            help="Ground truth G: a tuple file, or a folder with truth.tsv (default: the "
            "truth.tsv next to the run's training data, if any)."
        ),
    ] = None,
    max_cells: Annotated[
        int, typer.Option(help="Refuse to draw more cells (V^3, or K * V^2 with --sample).")
    ] = 1 << 23,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the page until Ctrl-C.")
    ] = True,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Draw the run's completion tensor as heat maps with a live tau slider; serve it.

    One heat map per relation or first token, cells coloured by kind at tau.

    Served on 127.0.0.1 only; --no-serve only writes the page.
    """
    from artifactlab.web.explorer import check_tau

    check_tau(number("--tau", tau))
    if sample is not None:
        count("--sample", sample)
    count("--max-cells", max_cells)
    if out is not None:
        fresh_file(out, overwrite)
    if out is not None:
        folder, name = out.parent, out.name
    else:
        folder, name = Path(tempfile.mkdtemp(prefix="artifactlab-explore-")), "index.html"
    try:
        _explore(run_dir, folder, name, port, tau, sample, seed, slice_by, truth, max_cells,
                 serve, quiet, as_json)  # fmt: skip
    finally:
        if out is None and serve:
            shutil.rmtree(folder, ignore_errors=True)


def _explore(
    run_dir: Path,
    folder: Path,
    name: str,
    port: int,
    tau: float,
    sample: int | None,
    seed: int,
    slice_by: str,
    truth: Path | None,
    max_cells: int,
    serve: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Bind the server first (a port in use fails fast), then build, write and serve."""
    from artifactlab.cli.progress import progress_bar
    from artifactlab.io import write_text
    from artifactlab.runs import load_run
    from artifactlab.web.explorer import explorer_page, run_truth
    from artifactlab.web.explorer_data import check_size, check_triples, choose_axis
    from artifactlab.web.server import make_server

    server = make_server(folder, port, files=[name], index=name) if serve else None
    try:
        run = load_run(run_dir)
        V = run.dataset.vocab.V
        check_triples(run.dataset)  # every check before the progress bar starts
        check_size(V, sample, max_cells)
        choose_axis(run.dataset.tuples, slice_by)
        ground = run_truth(run, truth)
        total = V * V if sample is None else sample * V
        with progress_bar(total, "contexts", quiet) as advance:
            page = explorer_page(
                run, tau, truth=truth, axis=slice_by, sample=sample, seed=seed,
                max_cells=max_cells, progress=advance, ground=ground,
            )  # fmt: skip
        path = write_text(folder / name, page.html)
        info = {"page": str(path), "url": server.url if server else None, **page.summary()}
        emit(info, as_json, _text(run_dir, path, info))
        if server is not None:
            _serve(server, quiet or as_json)
    finally:
        if server is not None:
            server.server_close()


def _text(run_dir: Path, path: Path, info: dict) -> str:
    labels = (
        f" ({info['n_generalizations']:,} generalizations, "
        f"{info['n_hallucinations']:,} hallucinations)"
        if info["truth"] is not None
        else " (no ground truth: not labelled)"
    )
    text = (
        f"explorer of {run_dir}: V={info['V']}, {info['slices']} slices by {info['axis']}, "
        f"{info['cells_stored']:,} cells stored, {info['bytes'] / 1e6:.2f} MB; at tau "
        f"{info['tau']:g}: {info['n_artifacts']:,} artifacts{labels} -> {path}"
    )
    if info["url"]:
        text += f"\nserving {info['url']} on 127.0.0.1 only (Ctrl-C to stop)"
    return text


def _serve(server, quiet: bool) -> None:
    """Serve until Ctrl-C (or SIGTERM, which stops it the same way)."""
    import signal
    import threading

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGINT too: a process started in the background inherits SIGINT ignored, and Python
    # then installs no KeyboardInterrupt handler of its own
    names = (signal.SIGINT, signal.SIGTERM)
    main = threading.current_thread() is threading.main_thread()
    previous = [signal.signal(sig, stop) for sig in names] if main else []
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        if not quiet:
            typer.echo("stopped", err=True)
    finally:
        for sig, handler in zip(names, previous, strict=False):
            signal.signal(sig, handler)
