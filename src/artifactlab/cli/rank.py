"""``artifactlab rank DATA_OR_RUN``: CP rank of a data tensor, its effective rank, a completion's.

Example
-------
>>> from typer.testing import CliRunner
>>> from artifactlab.cli import app
>>> CliRunner().invoke(app, ["rank", "missing.tsv"]).exit_code
2
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli.options import Json, Quiet, emit, printable, taus, user_errors
from artifactlab.errors import InputError


def register(app: typer.Typer) -> None:
    """Add ``rank`` to ``app``."""
    app.command("rank")(rank)


@user_errors
def rank(
    path: Annotated[Path, typer.Argument(help="A tuple file, or a run folder of `train`.")],
    tau: Annotated[
        list[float] | None, typer.Option("--tau", help="Threshold(s) of 1[M^n > tau] (runs).")
    ] = None,
    max_rank: Annotated[int, typer.Option(help="Largest CP rank tried.")] = 8,
    tol: Annotated[float, typer.Option(help="Relative fit error that counts as exact.")] = 1e-4,
    rtol: Annotated[float, typer.Option(help="Numerical rank: s > rtol * s_max.")] = 1e-6,
    restarts: Annotated[int, typer.Option(help="CP-ALS runs per rank.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the random starts.")] = 0,
    max_entries: Annotated[int, typer.Option(help="Densify at most V^n entries.")] = 1 << 22,
    from_one: Annotated[
        bool, typer.Option("--from-one", help="Fit every rank from 1, not from the lower bound.")
    ] = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Rank of D^n and its effective rank (tuple file), or of a run's completion (run folder).

    See docs/glossary.md#rank: unfolding ranks, CP-rank estimate by CP-ALS, bounds.
    """
    from artifactlab.tensor.rank import RankSettings

    settings = RankSettings(max_rank, tol, rtol, restarts, seed, 200, max_entries, not from_one)
    if path.is_dir() and (path / "config.json").is_file():
        data = _run_ranks(path, taus(tau), settings, quiet)
    elif path.is_file():
        if tau:
            raise InputError("--tau", "applies to run folders only", "drop --tau")
        data = _data_ranks(path, settings, quiet)
    else:
        raise InputError(
            str(path),
            "is neither a tuple file nor a run folder",
            "pass a tuple file (one tuple per line) or a folder made by `artifactlab train`",
        )
    data["settings"] = {k: getattr(settings, k) for k in ("max_rank", "tol", "rtol", "restarts")}
    data["settings"]["seed"] = settings.seed
    emit(data, as_json, "\n".join(_lines(data)))


def _data_ranks(path: Path, settings, quiet: bool) -> dict:
    from artifactlab.cli.progress import progress_bar
    from artifactlab.data.tuples import load_tuples
    from artifactlab.tensor import DataTensor
    from artifactlab.tensor.rank import check_dense, data_rank, effective_rank

    ds = load_tuples(path)
    D = DataTensor.from_tuples(ds.tuples, ds.vocab.V)
    check_dense("data tensor", D.V, D.n, settings.max_entries)
    with progress_bar(2 * settings.fits(), "rank fits", quiet) as advance:
        data = data_rank(D, settings, advance)
        eff = effective_rank(D, settings, advance, data=data)
    return {
        "path": str(path),
        "V": D.V,
        "n": D.n,
        "tensors": {"D^n (counts)": data.to_dict()},
        "effective_rank": eff.to_dict(),
    }


def _run_ranks(path: Path, thresholds: list[float], settings, quiet: bool) -> dict:
    from artifactlab.cli.progress import progress_bar
    from artifactlab.runs import load_run
    from artifactlab.tensor import DataTensor
    from artifactlab.tensor.rank import check_dense, completion_ranks

    run = load_run(path)
    D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
    check_dense("completion tensor", D.V, D.n, settings.max_entries)
    steps = (3 + len(thresholds) + int(D.counts.max() > 1)) * settings.fits()
    with progress_bar(steps, "rank fits", quiet) as advance:
        ranks = completion_ranks(run.model.next_token_fn(), D, thresholds, settings, advance)
    tensors = {"D^n (counts)": ranks.data.to_dict()}
    if ranks.support is not None:
        tensors["1[D^n > 0]"] = ranks.support.to_dict()
    tensors["logits"] = ranks.logits.to_dict()
    tensors["M^n"] = ranks.probs.to_dict()
    for t, r in ranks.thresholded.items():
        tensors[f"1[M^n > {t:g}]"] = r.to_dict()
    return {"path": str(path), "V": D.V, "n": D.n, "tensors": tensors}


def _estimate(t: dict, max_rank: int) -> str:
    """The CP-rank column: the estimate, or how far the search got."""
    if t["estimate"] is not None:
        return str(t["estimate"])
    return f">={t['lower']}" if t["lower"] > max_rank else f">{max_rank}"


def _lines(data: dict) -> list[str]:
    s = data["settings"]
    head = f"rank of {printable(data['path'])} (V={data['V']}, n={data['n']}"
    lines = [head + f"; tol {s['tol']:g}, unfolding rtol {s['rtol']:g}, max rank {s['max_rank']})"]
    lines.append(f"{'tensor':<16} {'non-zeros':>10} {'unfoldings':>16} {'CP rank':>8}  bounds")
    for name, t in data["tensors"].items():
        unf = ",".join(str(u) for u in t["unfolding_ranks"])
        est = _estimate(t, s["max_rank"])
        lines.append(f"{name:<16} {t['nnz']:>10,} {unf:>16} {est:>8}  [{t['lower']}, {t['upper']}]")
    if "effective_rank" in data:
        e = data["effective_rank"]
        est = _estimate({**e, "unfolding_ranks": ()}, s["max_rank"])
        lines.append(
            f"effective rank over {e['n_fibers']:,} observed fibers: {est}, "
            f"bounds [{e['lower']}, {e['upper']}]"
        )
    for name, t in [*data["tensors"].items(), ("effective rank", data.get("effective_rank"))]:
        if t is not None:
            errs = " ".join(f"{f['rank']}:{f['error']:.2g}" for f in t["fits"])
            lines.append(f"  best error per rank, {name}: {errs or 'none (lower bound above)'}")
    return lines
