"""``artifactlab interp fit|hull|double-descent|explore``: the interpolation / extrapolation lab.

Example
-------
>>> sorted(c.name for c in interp_app.registered_commands)
['double-descent', 'explore', 'fit', 'hull']
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from artifactlab.cli.options import (
    Json,
    Overwrite,
    Quiet,
    count,
    emit,
    fresh_file,
    fresh_out,
    number,
    printable,
    user_errors,
)
from artifactlab.cli.progress import progress_bar
from artifactlab.errors import InputError

interp_app = typer.Typer(
    help="Interpolation vs extrapolation: 1-D fits, convex hulls, double descent.",
    no_args_is_help=True,
)

#: the fitters of ``interp fit`` (kept here so building the CLI imports no fitting code)
FITTERS = "poly-interp,poly-lsq,linear,spline,relu"


def _cell(value: object) -> Text:
    if value is None:
        return Text("-")
    return Text(f"{value:.3g}" if isinstance(value, float) else printable(value))


def _table(rows: list[dict]) -> str:
    from artifactlab.interp.fit_run import RESULT_FIELDS

    table = Table(title="fits (MSE against the noise-free target)")
    for field in RESULT_FIELDS:
        table.add_column(field, justify="left" if field == "method" else "right")
    for row in rows:
        table.add_row(*[_cell(row[f]) for f in RESULT_FIELDS])
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().rstrip()


def fit_command(
    target: Annotated[str, typer.Option(help="runge, sine, abs, or a CSV of x,y rows.")] = "runge",
    n: Annotated[int, typer.Option(help="Training points (named targets).")] = 11,
    noise: Annotated[float, typer.Option(help="Gaussian noise std on y.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed for the points and the ReLU init.")] = 0,
    spacing: Annotated[str, typer.Option(help="'even' or 'uniform' x.")] = "even",
    methods: Annotated[str, typer.Option(help="Comma-separated fitters.")] = FITTERS,
    degree: Annotated[int, typer.Option(help="poly-lsq degree.")] = 5,
    width: Annotated[int, typer.Option(help="relu hidden width.")] = 32,
    band: Annotated[float, typer.Option(help="Width of each extrapolation band.")] = 0.5,
    widths: Annotated[str, typer.Option(help="Widths for the pieces sweep.")] = "4,8,16,32,64",
    seeds: Annotated[int, typer.Option(help="ReLU seeds per width in the sweep.")] = 3,
    steps: Annotated[int, typer.Option(help="ReLU step cap.")] = 3000,
    tol: Annotated[float, typer.Option(help="ReLU stops at train MSE below this.")] = 1e-5,
    lr: Annotated[float, typer.Option(help="ReLU Adam learning rate.")] = 3e-2,
    test: Annotated[
        Path | None, typer.Option(help="Held-out x,y CSV (scores a CSV target).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder to create.")] = Path("runs/interp/fit"),
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Fit 1-D data with polynomials, splines and ReLU nets; score inside vs beyond the data."""
    from artifactlab.interp import fit1d
    from artifactlab.interp.fit_run import (
        load_data,
        parse_list,
        plot_fit,
        plot_pieces,
        run_fits,
        validate,
        write_results,
    )  # fmt: skip
    from artifactlab.io import staged_folder

    method_list = parse_list(methods, "--methods", str)
    width_list = parse_list(widths, "--widths", int)
    if band <= 0 or seeds < 1 or steps < 0:
        raise InputError("--band/--seeds/--steps", "need band > 0, seeds >= 1, steps >= 0")
    data = load_data(target, n, noise, seed, test, spacing)
    validate(data, method_list, degree, width, width_list)
    fresh_out(out, overwrite)
    relu_opts = {"tol": tol, "max_steps": steps, "lr": lr}
    total = int("relu" in method_list) + len(width_list) * seeds
    with progress_bar(total, "training ReLU nets", quiet) as advance:
        rows = run_fits(
            data, method_list, band, advance, degree=degree, width=width, seed=seed, **relu_opts
        )
        pieces = fit1d.pieces_vs_width(
            data.x, data.y, width_list, range(seed, seed + seeds), advance, **relu_opts
        )
    config = {"target": target, "n": n, "noise": noise, "seed": seed, "spacing": spacing}
    config |= {"methods": method_list, "degree": degree, "width": width, "band": band}
    config |= {"widths": width_list, "seeds": seeds, **relu_opts, "test": test and str(test)}
    with staged_folder(out) as tmp:  # the data files and the plots, or nothing
        summary = write_results(tmp, data, rows, pieces, band, config)
        plot_fit(tmp)
        plot_pieces(tmp)
    info = {"out": str(out), "methods": {r.pop("method"): r for r in summary["results"]}}
    info["pieces"] = summary["pieces"]
    emit(info, as_json, _table(rows) + f"\n-> {printable(out)}")


interp_app.command("fit")(user_errors(fit_command))


@interp_app.command("hull")
@user_errors
def hull(
    train: Annotated[Path | None, typer.Option(help="Training points, one per row (CSV).")] = None,
    test: Annotated[Path | None, typer.Option(help="Test points, same columns.")] = None,
    tol: Annotated[float, typer.Option(help="Within this L1 distance counts as inside.")] = 1e-9,
    experiment: Annotated[
        bool, typer.Option("--experiment", help="Run the Gaussian rate-vs-dimension experiment.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Experiment: folder to create.")] = None,
    overwrite: Overwrite = False,
    dims: Annotated[str, typer.Option(help="Experiment: dimensions.")] = "1,2,4,8,16,32,64,128",
    n_trains: Annotated[str, typer.Option(help="Experiment: training sizes.")] = "100,1000,10000",
    n_test: Annotated[int, typer.Option(help="Experiment: test points per cell.")] = 200,
    seed: Annotated[int, typer.Option(help="Experiment: random seed.")] = 0,
    as_json: Json = False,
    quiet: Quiet = False,
) -> None:
    """Share of test points inside the training set's convex hull (interpolation rate)."""
    if experiment:
        _experiment(out, _ints("--dims", dims), _ints("--n-trains", n_trains), n_test, seed, tol,
                    quiet, overwrite)  # fmt: skip
        return
    if out is not None:
        raise InputError("--out", "writes only the --experiment's folder",
                         "add --experiment, or drop --out (--json prints the result)")  # fmt: skip
    if train is None or test is None:
        raise InputError("--train/--test", "both are needed", "or pass --experiment --out DIR")
    number("--tol", tol, low=0)
    from artifactlab.interp.hull import hull_membership
    from artifactlab.interp.io import read_numeric_csv

    X = read_numeric_csv(train)
    P = read_numeric_csv(test)
    if P.shape[1] != X.shape[1]:
        raise InputError(
            str(test),
            f"test points have {P.shape[1]} dimensions, training points have {X.shape[1]}",
            "use the same columns in both files",
        )
    start = time.perf_counter()
    with progress_bar(len(P), "hull membership", quiet or as_json) as advance:
        result = hull_membership(X, P, tol, advance)
    seconds = time.perf_counter() - start
    n_in = int(result.inside.sum())
    summary = {
        "interpolation_rate": n_in / len(P),
        "n_train": len(X),
        "n_test": len(P),
        "dim": X.shape[1],
        "n_inside": n_in,
        "n_outside": len(P) - n_in,
        "tol": tol,
        "seconds": round(seconds, 4),
        "decided_by": result.stages,
    }
    stages = ", ".join(f"{k} {v}" for k, v in result.stages.items())
    text = (
        f"interpolation rate {n_in / len(P):.4f}: {n_in} of {len(P)} test points inside the hull "
        f"of {len(X)} training points in {X.shape[1]} dimensions ({seconds:.2f} s)\n"
        f"decided by: {stages}"
    )
    emit({**summary, "inside": result.inside.tolist()}, as_json, text)


def _ints(option: str, text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(option, f"{text!r} is not a comma-separated list of integers") from None
    if not values or min(values) < 1:
        raise InputError(option, f"{text!r}: need at least one value, all >= 1")
    return values


def _experiment(
    out: Path | None,
    dims: list[int],
    n_trains: list[int],
    n_test: int,
    seed: int,
    tol: float,
    quiet: bool,
    overwrite: bool,
) -> None:
    from artifactlab.interp.hull import RATE_CSV, RATE_PNG, SUMMARY_NAME, write_rate_experiment

    if out is None:
        raise InputError("--out", "is needed with --experiment", "name an output folder")
    count("--n-test", n_test)
    number("--tol", tol, low=0)
    fresh_out(out, overwrite)
    with progress_bar(len(dims) * len(n_trains), "hull experiment", quiet) as advance:
        rows = write_rate_experiment(out, dims, n_trains, n_test, seed, advance, tol)
    lines = [f"d={d:4d} n_train={n:6d} rate={r:.3f}" for d, n, r in rows]
    names = ", ".join(printable(out / name) for name in (RATE_CSV, RATE_PNG, SUMMARY_NAME))
    typer.echo("\n".join([*lines, f"wrote {names}"]))


@interp_app.command("double-descent")
@user_errors
def double_descent(
    out: Annotated[Path, typer.Option("--out", help="Folder to create.")],
    samples: Annotated[int, typer.Option("--samples", help="Training points n.")] = 40,
    features_max: Annotated[
        int, typer.Option("--features-max", help="Largest feature count (>= samples).")
    ] = 200,
    seeds: Annotated[int, typer.Option("--seeds", help="Repetitions to average.")] = 10,
    n_points: Annotated[
        int, typer.Option("--n-points", help="Log-spaced feature counts (plus n-1, n, n+1).")
    ] = 30,
    ridge: Annotated[float, typer.Option("--ridge", help="Ridge penalty (0: min norm).")] = 0.0,
    kind: Annotated[str, typer.Option("--kind", help="Features: relu or fourier.")] = "relu",
    noise: Annotated[float, typer.Option("--noise", help="Train label noise std.")] = 0.2,
    dim: Annotated[int, typer.Option("--dim", help="Input dimension.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="First seed.")] = 0,
    with_artifacts: Annotated[
        bool, typer.Option("--with-artifacts", help="Add the toy-transformer panel.")
    ] = False,
    artifacts_vocab: Annotated[
        int, typer.Option("--artifacts-vocab", help="V of the artifacts panel.")
    ] = 32,
    artifacts_triples: Annotated[
        int, typer.Option("--artifacts-triples", help="Random triples (20% held out).")
    ] = 200,
    artifacts_steps: Annotated[
        int, typer.Option("--artifacts-steps", help="Training step cap per model.")
    ] = 400,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Test error against random features: falls, peaks at features = samples, falls again."""
    from artifactlab.interp import double_descent as dd
    from artifactlab.interp.dd_run import _text, run_double_descent, validate

    validate(samples, features_max, seeds, n_points)
    problem = dd.Problem(samples, dim, noise, kind=kind, ridge=ridge)  # type: ignore[arg-type]
    artifacts = (artifacts_vocab, artifacts_triples, artifacts_steps) if with_artifacts else None
    fresh_out(out, overwrite)
    grid = dd.feature_grid(samples, features_max, n_points)
    total = len(grid) * seeds + (5 if with_artifacts else 0)
    with progress_bar(total, "features x seeds, then toy transformers", quiet) as advance:
        summary = run_double_descent(
            out, samples, features_max, seeds, n_points, problem, seed, artifacts, advance
        )
    emit(summary, as_json, _text(summary))


def _explore_text(info: dict) -> str:
    lines = ["errors for the initial points (MSE inside | MSE outside | max |error| outside):"]
    for method, e in info["methods"].items():
        values = " ".join(f"{e[k]:10.3g}" for k in ("interp_mse", "extrap_mse", "extrap_max"))
        lines.append(f"  {method:12s} {values}")
    return "\n".join([*lines, f"-> {printable(info['out'])}"])


@interp_app.command("explore")
@user_errors
def explore(
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")],
    target: Annotated[str, typer.Option(help="runge, sine or abs.")] = "runge",
    points: Annotated[int, typer.Option("--points", help="Initial training points.")] = 11,
    noise: Annotated[float, typer.Option(help="Gaussian noise std on y.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed for the points.")] = 0,
    spacing: Annotated[str, typer.Option(help="'even' or 'uniform' x.")] = "even",
    band: Annotated[float, typer.Option(help="Width of each extrapolation band.")] = 0.5,
    overwrite: Overwrite = False,
    as_json: Json = False,
) -> None:
    """Write an HTML page to drag points and watch three interpolants fit and extrapolate."""
    count("--points", points, 2)
    number("--noise", noise, low=0)
    number("--band", band, low=0, low_open=True)
    from artifactlab.web.interp_explorer import explorer_data, write_interp_explorer

    data = explorer_data(None, target, seed, points, noise, spacing, band)  # every check
    fresh_file(out, overwrite)
    write_interp_explorer(out, None, target, seed, points, noise, spacing, band)
    info = {"out": str(out), "target": target, "n": points, "band": band}
    info |= {"points": data["points"], "methods": data["reference"]}
    emit(info, as_json, _explore_text(info))
