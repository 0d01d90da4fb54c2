"""The tensor explorer's data: a 3-token run's completion tensor as the cells a page draws.

A run on triples has a completion tensor ``M[a, b, t] = p(t | a b)`` of ``V^3`` cells. The
explorer draws it as ``V`` slices of ``V x V`` cells, one per middle token (a
*relation*: rows are subjects, columns objects) or one per first token (rows are the
second token, columns the target). Each cell is of one kind at a threshold ``tau``:
a training n-gram; an artifact (``D[c, t] = 0`` and ``p > tau``, the glossary's rule),
labelled generalization (in the truth set ``G``) or hallucination (not in ``G``); a
held-out truth the model missed (in ``G``, ``p <= tau``); or empty.

Only the cells whose kind can change over the slider's range are stored: those with
``p > floor`` (the slider's lowest value, 0.01; a cell with ``p <= floor`` is never an
artifact for ``tau >= floor``), and every training and truth cell. Their probabilities
are stored as float64, exactly the numbers the project's counts compare: the float64
softmax of the model's logits (:func:`artifactlab.tensor.threshold.exact_probs`),
evaluated in the same blocks of contexts as
:func:`~artifactlab.tensor.completion.evaluate_completion`. So the page's ``p > tau`` is
the library's ``p > tau`` for every ``tau``.

Example
-------
>>> import numpy as np, torch
>>> from artifactlab.data.tuples import TupleDataset, Vocabulary
>>> ds = TupleDataset(Vocabulary(("a", "r", "b")), np.array([[0, 1, 2]]))
>>> sure_of_b = lambda ctx: torch.tensor([[0.0, 0.0, 6.0]]).expand(len(ctx), 3)
>>> data = build_cells(sure_of_b, ds)
>>> data.axis, len(data.keys), data.counts(0.5)["n_artifacts"]
('first', 9, 8)
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from artifactlab.data.tuples import TupleDataset
from artifactlab.errors import InputError
from artifactlab.tensor.completion import BLOCK_ELEMENTS, context_block, novel_truth_keys
from artifactlab.tensor.data_tensor import DataTensor

#: the most cells drawn: V^3 in the full view, K * V^2 with --sample K (V <= 203 in full)
MAX_CELLS = 1 << 23
#: the slider's lowest and highest tau; cells with p <= FLOOR never colour as artifacts
FLOOR = 0.01
TAU_MAX = 0.99
#: the most stored cells above the floor; beyond it the floor is raised (stated in the page)
MAX_STORED = 2_000_000
#: cell flags: a training n-gram, an n-gram of G outside the training data
TRAIN, TRUTH = 1, 2
#: the two ways of slicing the tensor: by middle token, by first token
AXES = ("relation", "first")

LogitsFn = Callable[[torch.Tensor], torch.Tensor]


def slider_steps(low: float = FLOOR, high: float = TAU_MAX) -> list[float]:
    """The taus a slider of step 0.01 can take, as a browser parses them (``"0.37"``).

    >>> slider_steps(0.97)
    [0.97, 0.98, 0.99]
    """
    first, last = round(low * 100), round(high * 100)
    return [float(f"{k / 100:.2f}") for k in range(first, last + 1)]


@dataclass
class ExplorerCells:
    """The stored cells of one run's completion tensor, and how the page slices them.

    Attributes
    ----------
    V : int
        Vocabulary size.
    axis : str
        ``"relation"`` (slices by middle token) or ``"first"`` (by first token).
    sample : numpy.ndarray or None
        The sampled slice tokens (``--sample K``), in display order; None: every slice.
    keys : numpy.ndarray
        uint32, ascending. Full view: the cube key ``a*V*V + b*V + t``; sampled view:
        ``s*V*V + r*V + t`` with ``s`` the position in ``sample`` and ``r`` the row token.
    probs : numpy.ndarray
        float64 ``p(t | a b)`` of each stored cell (the exact rule).
    flags : numpy.ndarray
        uint8: ``TRAIN`` and ``TRUTH`` bits.
    floor : float
        Cells with ``p <= floor`` are stored only when training or truth cells.
    has_truth : bool
        Whether a truth set ``G`` labels the artifacts.
    seen : dict
        Axis -> the tokens seen at that position in the training tuples, ascending.
    notes : list of str
        What the page should say (a raised floor, skipped truth tuples, ...).
    """

    V: int
    axis: str
    sample: np.ndarray | None
    keys: np.ndarray
    probs: np.ndarray
    flags: np.ndarray
    floor: float
    has_truth: bool
    seen: dict[str, list[int]]
    notes: list[str] = field(default_factory=list)

    def counts(self, tau: float) -> dict[str, int]:
        """The page's counts at ``tau``: artifacts and their labels, missed truth, training.

        Uses the same rule as the page and as the library: artifact iff not a training
        cell and ``p > tau`` (strict).
        """
        train = (self.flags & TRAIN) != 0
        truth = (self.flags & TRUTH) != 0
        above = (self.probs > tau) & ~train
        gen = int((above & truth).sum())
        n_art = int(above.sum())
        return {
            "n_artifacts": n_art,
            "n_generalizations": gen if self.has_truth else None,
            "n_hallucinations": n_art - gen if self.has_truth else None,
            "n_missed": int(truth.sum()) - gen if self.has_truth else None,
            "n_training": int(train.sum()),
        }

    def arrays_json(self) -> dict:
        """The cells as base64 little-endian typed arrays (what the page's script decodes)."""

        def b64(arr: np.ndarray, dtype: str) -> str:
            return base64.b64encode(np.ascontiguousarray(arr, dtype=dtype).tobytes()).decode()

        return {
            "n": len(self.keys),
            "encoding": "base64 of little-endian uint32 keys, float64 probs, uint8 flags",
            "keys": b64(self.keys, "<u4"),
            "probs": b64(self.probs, "<f8"),
            "flags": b64(self.flags, "<u1"),
        }


def choose_axis(tuples: np.ndarray, axis: str = "auto") -> str:
    """``"relation"`` when fewer distinct tokens sit in the middle than first, else ``"first"``.

    >>> choose_axis(np.array([[0, 9, 1], [2, 9, 3]]))
    'relation'
    """
    if axis != "auto":
        if axis not in AXES:
            raise InputError("--slice-by", f"must be auto, relation or first, got {axis!r}")
        return axis
    first, middle = (len(np.unique(tuples[:, i])) for i in (0, 1))
    return "relation" if middle < first else "first"


def check_triples(dataset: TupleDataset) -> None:
    """Refuse training tuples that are not triples (the explorer draws ``V^3`` cells)."""
    if dataset.n != 3:
        raise InputError(
            "run",
            f"its training tuples have {dataset.n} tokens; the explorer draws 3-token tuples "
            "(two context tokens, one target)",
            "train on triples",
        )


def check_size(V: int, sample: int | None, max_cells: int = MAX_CELLS) -> None:
    """Refuse a view of more than ``max_cells`` cells, offering ``--sample``.

    >>> check_size(300, None)
    Traceback (most recent call last):
    artifactlab.errors.InputError: explorer: V^3 = 300^3 = 27,000,000 cells are too many ...
    """
    per_slice = V * V
    if sample is not None:
        if not 1 <= sample <= V:
            raise InputError("--sample", f"must lie in [1, V = {V}], got {sample}")
        if sample * per_slice <= max_cells:
            return
        raise InputError(
            "--sample",
            f"{sample} slices of V^2 = {per_slice:,} cells are {sample * per_slice:,} cells, "
            f"more than the limit {max_cells:,}",
            f"pass --sample {max(1, max_cells // per_slice)} or fewer",
        )
    if V**3 <= max_cells:
        return
    most = max_cells // per_slice
    hint = (
        f"pass --sample K to draw K seeded slices of V^2 = {per_slice:,} cells, K <= {most}"
        if most
        else "even one slice is too many: shrink the vocabulary"
    )
    raise InputError(
        "explorer",
        f"V^3 = {V}^3 = {V**3:,} cells are too many to draw (limit {max_cells:,})",
        hint,
    )


def sample_slices(seen: Sequence[int], V: int, k: int, seed: int) -> np.ndarray:
    """``k`` slice tokens, seeded: tokens seen on the axis first, then any others.

    >>> sample_slices([3, 5], 6, 3, seed=0).tolist()[:2]
    [3, 5]
    """
    rng = np.random.default_rng(seed)
    seen_arr = np.asarray(sorted(seen), dtype=np.int64)
    if k <= len(seen_arr):
        return np.sort(rng.choice(seen_arr, size=k, replace=False))
    rest = np.setdiff1d(np.arange(V), seen_arr)
    extra = np.sort(rng.choice(rest, size=k - len(seen_arr), replace=False))
    return np.concatenate([seen_arr, extra])


def _contexts(V: int, axis: str, sample: np.ndarray | None) -> np.ndarray | None:
    """The sorted context ids ``a*V + b`` of the sampled slices (None: all ``V^2``)."""
    if sample is None:
        return None
    other = np.arange(V, dtype=np.int64)
    if axis == "first":
        ids = sample[:, None] * V + other[None, :]
    else:
        ids = other[:, None] * V + sample[None, :]
    return np.sort(ids.reshape(-1))


def _evaluate(
    logits_fn: LogitsFn,
    V: int,
    ctx_ids: np.ndarray | None,
    special: np.ndarray,
    progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cube keys and exact probabilities of the cells with ``p > FLOOR`` or in ``special``.

    Blocks of ``BLOCK_ELEMENTS // V`` contexts, in order, as ``evaluate_completion`` makes
    them: in the full view the model sees the very same blocks, so its logits (and the
    float64 softmax of them) are the ones the library's counts compare.
    """
    total = V * V if ctx_ids is None else len(ctx_ids)
    block = max(1, BLOCK_ELEMENTS // V)
    order = np.arange(V * V) if ctx_ids is None else ctx_ids
    spec_ctx = special // V
    pos = np.minimum(np.searchsorted(order, spec_ctx), len(order) - 1)
    ok = order[pos] == spec_ctx
    spec_rows, spec_cols = pos[ok], special[ok] % V
    keys, probs = [], []
    with torch.inference_mode():
        for start in range(0, total, block):
            stop = min(start + block, total)
            if ctx_ids is None:
                ctx = context_block(start, stop, V, 2)
            else:
                ids = torch.from_numpy(ctx_ids[start:stop])
                ctx = torch.stack([ids // V, ids % V], dim=1)
            logits = logits_fn(ctx)
            if logits.shape[1] != V:
                raise InputError("run", f"the model gives {logits.shape[1]} logits, not V = {V}")
            p = torch.softmax(logits.double(), dim=1).cpu().numpy()
            take = p > FLOOR
            lo, hi = np.searchsorted(spec_rows, [start, stop])
            take[spec_rows[lo:hi] - start, spec_cols[lo:hi]] = True
            rows, cols = np.nonzero(take)
            keys.append(order[start + rows] * V + cols)
            probs.append(p[rows, cols])
            if progress is not None:
                progress(stop - start)
    return np.concatenate(keys), np.concatenate(probs)


def _raise_floor(probs: np.ndarray, special: np.ndarray, max_stored: int) -> float:
    """The lowest slider step that keeps at most ``max_stored`` non-special cells."""
    free = np.sort(probs[~special])
    for step in slider_steps():
        if len(free) - np.searchsorted(free, step, side="right") <= max_stored:
            return step
    return TAU_MAX


def _local_keys(cube: np.ndarray, V: int, axis: str, sample: np.ndarray | None) -> np.ndarray:
    """Cube keys -> the keys stored for the view (see ExplorerCells.keys)."""
    if sample is None:
        return cube
    a, b, t = cube // (V * V), (cube // V) % V, cube % V
    pos = np.full(V, -1, dtype=np.int64)
    pos[sample] = np.arange(len(sample))
    s, r = (pos[a], b) if axis == "first" else (pos[b], a)
    return s * V * V + r * V + t


def build_cells(
    logits_fn: LogitsFn,
    dataset: TupleDataset,
    truth: np.ndarray | None = None,
    axis: str = "auto",
    sample: int | None = None,
    seed: int = 0,
    max_cells: int = MAX_CELLS,
    max_stored: int = MAX_STORED,
    progress: Callable[[int], None] | None = None,
) -> ExplorerCells:
    """Evaluate a 3-token model over the view's contexts and keep the cells worth drawing.

    Parameters
    ----------
    logits_fn : callable
        Next-token logits: (B, 2) int64 contexts -> (B, V); its output may be reused.
    dataset : TupleDataset
        The run's training triples.
    truth : numpy.ndarray, optional
        The truth set ``G``, shape (K, 3); None: no labels.
    axis : str
        ``"auto"``, ``"relation"`` or ``"first"`` (see :func:`choose_axis`).
    sample : int, optional
        Draw only this many slices of the axis, chosen with ``seed``
        (:func:`sample_slices`).
    max_cells, max_stored : int
        The most cells drawn, and the most stored above the floor.
    progress : callable, optional
        Called with the number of contexts done after each block.

    Returns
    -------
    ExplorerCells

    Raises
    ------
    InputError
        The tuples are not triples, or the view has more than ``max_cells`` cells.
    """
    V, tuples = dataset.vocab.V, dataset.tuples
    check_triples(dataset)
    check_size(V, sample, max_cells)
    axis = choose_axis(tuples, axis)
    seen = {name: np.unique(tuples[:, i]).tolist() for i, name in ((0, "first"), (1, "relation"))}
    D = DataTensor.from_tuples(tuples, V)
    train_keys = D.keys()
    truth_keys = novel_truth_keys(D, truth) if truth is not None else np.zeros(0, np.int64)
    special = np.union1d(train_keys, truth_keys)
    chosen = sample_slices(seen[axis], V, sample, seed) if sample is not None else None
    cube, probs = _evaluate(logits_fn, V, _contexts(V, axis, chosen), special, progress)
    flags = np.isin(cube, train_keys).astype(np.uint8) * TRAIN
    flags |= np.isin(cube, truth_keys).astype(np.uint8) * TRUTH
    notes, floor = [], FLOOR
    if int(((probs > FLOOR) & (flags == 0)).sum()) > max_stored:
        floor = _raise_floor(probs, flags != 0, max_stored)
        keep = (flags != 0) | (probs > floor)
        cube, probs, flags = cube[keep], probs[keep], flags[keep]
        notes.append(
            f"more than {max_stored:,} cells have p > {FLOOR}: the slider starts at {floor} "
            "so that the page stays small"
        )
    local = _local_keys(cube, V, axis, chosen)
    order = np.argsort(local, kind="stable")
    return ExplorerCells(
        V=V,
        axis=axis,
        sample=chosen,
        keys=local[order].astype(np.uint32),
        probs=probs[order],
        flags=flags[order],
        floor=floor,
        has_truth=truth is not None,
        seen=seen,
        notes=notes,
    )
