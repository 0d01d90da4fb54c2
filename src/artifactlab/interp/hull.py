r"""Convex-hull membership in d dimensions: interpolation or extrapolation.

In d dimensions a prediction interpolates (``docs/glossary.md#interpolation``) when its
input lies inside the
convex hull of the training inputs. That is a linear program: ``p`` is inside when there is
``lambda >= 0`` with ``sum(lambda) = 1`` and ``X.T @ lambda = p``.

Two implementations live here. :func:`in_hull_reference` builds one feasibility LP per point
(slow, obviously correct, the test oracle). :func:`in_hull` decides most points with cheap exact
certificates and solves the rest with column generation: small LPs over a working set of
training points, priced against all of them with one matrix-vector product.

Tolerance: :func:`in_hull` counts a point as inside when its L1 distance to the hull is at most
``tol``. Every stage uses that same rule, so the stages can never disagree.

Example
-------
>>> import numpy as np
>>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
>>> P = np.array([[0.2, 0.2], [0.5, 0.5], [1.0, 1.0], [0.0, 0.0]])
>>> in_hull(X, P).tolist()
[True, True, False, True]
>>> [in_hull_reference(X, p) for p in P]
[True, True, False, True]
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog

from artifactlab.errors import InputError
from artifactlab.io import staged_files, write_figure, write_json, write_text

STAGES = ("bounding_box", "training_point", "hyperplane", "lp")
_HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
_BLOCK = 256  # test points per distance block: (256, n) floats at a time
#: the files of ``interp hull --experiment``
RATE_CSV, RATE_PNG, SUMMARY_NAME = "hull_rate.csv", "hull_rate.png", "hull_summary.json"


class HullResult(NamedTuple):
    """What :func:`hull_membership` found.

    Attributes
    ----------
    inside : np.ndarray
        Boolean, shape (m,): test point ``j`` is within ``tol`` of the hull (input order).
    stages : dict[str, int]
        How many points each stage decided (keys :data:`STAGES`), summing to m.
    """

    inside: np.ndarray
    stages: dict[str, int]


def in_hull_reference(X: np.ndarray, p: np.ndarray) -> bool:
    """Is ``p`` in the convex hull of the rows of ``X``? One freshly built LP (the oracle).

    Feasibility of ``lambda >= 0, sum(lambda) = 1, X.T @ lambda = p`` with a zero objective,
    solved by HiGHS with its feasibility tolerances tightened to 1e-10.

    Parameters
    ----------
    X : np.ndarray
        Training points, shape (n, d).
    p : np.ndarray
        One test point, shape (d,).

    Returns
    -------
    bool
        True when the LP is feasible.
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    A_eq = np.vstack([X.T, np.ones((1, n))])  # (d + 1, n)
    b_eq = np.append(np.asarray(p, dtype=float), 1.0)
    res = linprog(
        np.zeros(n), A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs", options=_HIGHS
    )
    return bool(res.status == 0)


def in_hull(
    X: np.ndarray, P: np.ndarray, tol: float = 1e-9, progress: Callable[[int], None] | None = None
) -> np.ndarray:
    """Which rows of ``P`` lie within L1 distance ``tol`` of the hull of ``X``'s rows.

    Parameters
    ----------
    X : np.ndarray
        Training points, shape (n, d).
    P : np.ndarray
        Test points, shape (m, d).
    tol : float
        Points at most this far (L1 norm) from the hull count as inside.
    progress : callable, optional
        Called as ``progress(k)`` when k more points are decided.

    Returns
    -------
    np.ndarray
        Boolean, shape (m,), in the order of ``P``.
    """
    return hull_membership(X, P, tol, progress).inside


def hull_membership(
    X: np.ndarray, P: np.ndarray, tol: float = 1e-9, progress: Callable[[int], None] | None = None
) -> HullResult:
    """Like :func:`in_hull`, and also count how many points each stage decided.

    Stages, cheapest first (each one exact under the ``tol`` rule):

    1. ``bounding_box``: a coordinate more than ``tol`` beyond the training range: outside.
    2. ``training_point``: within ``tol`` (L1) of the nearest training point: inside.
    3. ``hyperplane``: for ``u = p - mean(X)`` and ``u = p - nearest(p)``,
       ``u @ p > max(X @ u) + tol * max|u|`` proves an L1 distance above ``tol`` (Hoelder): outside.
    4. ``lp``: column generation on the min-max-residual LP (see :func:`_lp_decide`).
    """
    X = np.asarray(X, dtype=float)
    P = np.asarray(P, dtype=float)
    advance = progress or (lambda k: None)
    m = P.shape[0]
    inside = np.zeros(m, dtype=bool)
    undecided = np.ones(m, dtype=bool)
    stages = dict.fromkeys(STAGES, 0)

    def settle(mask: np.ndarray, value: bool, stage: str) -> None:
        mask = mask & undecided
        inside[mask] = value
        undecided[mask] = False
        stages[stage] += int(mask.sum())
        advance(int(mask.sum()))

    lo, hi = X.min(axis=0), X.max(axis=0)
    settle(((P < lo - tol) | (P > hi + tol)).any(axis=1), False, "bounding_box")
    lp = _LinearProgram(X)
    for block in _blocks(np.flatnonzero(undecided)):
        nearest = _nearest(X, P[block], lp.sq_norms)
        at_point = np.abs(P[block] - X[nearest]).sum(axis=1) <= tol
        settle(_mask(m, block[at_point]), True, "training_point")
        center_out = _separated(X, P[block], P[block] - lp.mean, tol)
        near_out = _separated(X, P[block], P[block] - X[nearest], tol)
        settle(_mask(m, block[(center_out | near_out) & ~at_point]), False, "hyperplane")
    for j in np.flatnonzero(undecided):
        inside[j] = lp.decide(P[j], tol)
        stages["lp"] += 1
        advance(1)
    return HullResult(inside, stages)


def _blocks(index: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(index), _BLOCK):
        yield index[start : start + _BLOCK]


def _mask(m: int, index: np.ndarray) -> np.ndarray:
    mask = np.zeros(m, dtype=bool)
    mask[index] = True
    return mask


def _nearest(X: np.ndarray, Q: np.ndarray, sq_norms: np.ndarray) -> np.ndarray:
    """Index of the nearest row of X for each row of Q (|q|^2 is the same along a row)."""
    return (sq_norms[None, :] - 2.0 * (Q @ X.T)).argmin(axis=1)  # (q, n) -> (q,)


def _separated(X: np.ndarray, Q: np.ndarray, U: np.ndarray, tol: float) -> np.ndarray:
    """Rows q with ``u @ q > max(X @ u) + tol * max|u|``: more than tol (L1) outside."""
    support = (U @ X.T).max(axis=1)  # (q,)
    return (U * Q).sum(axis=1) > support + tol * np.abs(U).max(axis=1)


class _LinearProgram:
    """Column generation for ``min |s|_1`` s.t. ``X.T @ lam + s = p, lam >= 0, sum(lam) = 1``.

    The optimum ``t*`` is the L1 distance from ``p`` to the hull. A restricted problem over a
    working set S of training points gives an upper bound ``t_S >= t*`` (its hull is smaller)
    and, through its duals ``(y, mu)``, the reduced costs ``r_i = -(x_i @ y + mu)`` of every
    training point and the lower bound ``t* >= t_S + min(0, min_i r_i)`` (``sum(lam) = 1``).
    We stop as soon as ``t_S <= tol`` (inside) or the lower bound exceeds ``tol`` (outside),
    else add the most negative columns to S. When S would pass half of X we solve the full LP.
    """

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        self.n, self.d = X.shape
        self.mean = X.mean(axis=0)
        self.sq_norms = (X * X).sum(axis=1)
        self.start = min(self.n, max(2 * (self.d + 1), 20))
        self.grow = max(4 * self.d, 10)

    def decide(self, p: np.ndarray, tol: float) -> bool:
        """Is ``p`` within L1 distance ``tol`` of the hull."""
        sq_dist = self.sq_norms - 2.0 * (self.X @ p)
        working = np.argpartition(sq_dist, self.start - 1)[: self.start]
        while 2 * len(working) < self.n:
            t_s, y, mu = self._solve(working, p)
            if t_s <= tol:
                return True
            reduced = -(self.X @ y + mu)  # (n,)
            if t_s + min(0.0, reduced.min()) > tol:
                return False
            fresh = np.setdiff1d(np.argsort(reduced)[: self.grow + len(working)], working)
            fresh = fresh[reduced[fresh] < 0][: self.grow]
            if len(fresh) == 0:  # converged: t_s is the optimum within HiGHS' tolerance
                return False
            working = np.concatenate([working, fresh])
        return self._solve(np.arange(self.n), p)[0] <= tol

    def _solve(self, cols: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray, float]:
        """Optimal L1 residual over columns ``cols``, and the duals ``y`` (d,) and ``mu``."""
        k = len(cols)
        eye = np.eye(self.d)
        A_eq = np.block(
            [[self.X[cols].T, eye, -eye], [np.ones((1, k)), np.zeros((1, 2 * self.d))]]
        )  # (d + 1, k + 2d): lam, s_plus, s_minus
        c = np.concatenate([np.zeros(k), np.ones(2 * self.d)])
        res = linprog(
            c, A_eq=A_eq, b_eq=np.append(p, 1.0), bounds=(0, None), method="highs", options=_HIGHS
        )
        if res.status != 0:
            raise RuntimeError(f"HiGHS failed on a hull LP: {res.message}")
        y = res.eqlin.marginals  # (d + 1,)
        return float(res.fun), y[: self.d], float(y[self.d])


def interpolation_rate_experiment(
    dims: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128),
    n_trains: Sequence[int] = (100, 1000, 10000),
    n_test: int = 200,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    tol: float = 1e-9,
) -> list[tuple[int, int, float]]:
    """Share of standard-normal test points inside the hull of standard-normal training points.

    Returns
    -------
    list of (dim, n_train, rate)
        One row per (dim, n_train), dims outermost; the data for each cell come from
        ``np.random.default_rng([seed, dim, n_train])``; a point within L1 distance ``tol``
        of the hull counts as inside (:func:`in_hull`).
    """
    rows = []
    for dim in dims:
        for n_train in n_trains:
            rng = np.random.default_rng([seed, dim, n_train])
            X = rng.standard_normal((n_train, dim))
            P = rng.standard_normal((n_test, dim))
            rows.append((dim, n_train, float(in_hull(X, P, tol).mean())))
            if progress is not None:
                progress(1)
    return rows


def write_rate_csv(rows: Sequence[tuple[int, int, float]], path: str | Path) -> None:
    """Write experiment rows as ``dim,n_train,rate`` with a header."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["dim", "n_train", "rate"])
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def plot_rate_csv(csv_path: str | Path, png_path: str | Path) -> None:
    """Draw interpolation rate against dimension (log scale), one line per training-set size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path, encoding="utf-8") as handle:
        rows = [
            (int(r["dim"]), int(r["n_train"]), float(r["rate"])) for r in csv.DictReader(handle)
        ]
    fig, ax = plt.subplots(figsize=(6, 4))
    for n_train in sorted({r[1] for r in rows}):
        line = sorted((d, rate) for d, n, rate in rows if n == n_train)
        ax.plot(*zip(*line, strict=True), marker="o", label=f"n_train = {n_train}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("dimension d")
    ax.set_ylabel("share of test points inside the hull")
    ax.set_title("Gaussian data: interpolation becomes rare as d grows")
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    try:
        write_figure(png_path, fig)
    finally:
        plt.close(fig)


def rate_config(
    dims: Sequence[int], n_trains: Sequence[int], n_test: int, seed: int, tol: float
) -> dict:
    """The ``config`` that ``hull_summary.json`` records: every setting of the experiment.

    Its keys are the options of ``artifactlab interp hull --experiment`` (``--dims``,
    ``--n-trains``, ``--n-test``, ``--seed``, ``--tol``), so the command can be rebuilt from it.

    Raises InputError for settings the experiment refuses.

    >>> rate_config([1, 2], [10], 20, 0, 1e-9)
    {'dims': [1, 2], 'n_trains': [10], 'n_test': 20, 'seed': 0, 'tol': 1e-09}
    """
    if not dims or not n_trains or min(*dims, *n_trains) < 1:
        raise InputError("--dims/--n-trains", "need at least one value each, all >= 1")
    if n_test < 1:
        raise InputError("--n-test", f"is {n_test}, must be >= 1")
    if not 0 <= tol < float("inf"):
        raise InputError("--tol", f"is {tol}, must be finite and >= 0")
    return {"dims": [int(d) for d in dims], "n_trains": [int(n) for n in n_trains],
            "n_test": int(n_test), "seed": int(seed), "tol": float(tol)}  # fmt: skip


def write_rate_experiment(
    out: Path,
    dims: list[int],
    n_trains: list[int],
    n_test: int,
    seed: int,
    advance: Callable[[int], None] = lambda k: None,
    tol: float = 1e-9,
) -> list[tuple[int, int, float]]:
    """Run :func:`interpolation_rate_experiment`; write its files in ``out``.

    ``hull_rate.csv`` (``dim,n_train,rate``), ``hull_rate.png`` drawn from it, and
    ``hull_summary.json``: the ``config`` (:func:`rate_config`), the ``results`` (the rows),
    the ``files``, the ``command`` line and the ``provenance``. All are written in a scratch
    folder inside ``out`` and renamed together, so an interrupted run leaves nothing
    half-written.
    """
    from artifactlab.provenance import provenance

    config = rate_config(dims, n_trains, n_test, seed, tol)  # checks them
    rows = interpolation_rate_experiment(dims, n_trains, n_test, seed, advance, tol)
    summary = {
        "config": config,
        "results": [{"dim": d, "n_train": n, "rate": r} for d, n, r in rows],
        "files": [RATE_CSV, RATE_PNG, SUMMARY_NAME],
        "command": ["artifactlab", *sys.argv[1:]],
        "provenance": provenance(),
    }
    with staged_files(out) as scratch:
        write_rate_csv(rows, scratch / RATE_CSV)
        plot_rate_csv(scratch / RATE_CSV, scratch / RATE_PNG)
        write_json(scratch / SUMMARY_NAME, summary)
    return rows
