r"""Knowledge graphs as 3-token sentences: Nations, Kinships, UMLS and user triple files.

A triple ``(head, relation, tail)`` becomes the sentence ``head relation tail``; a model
that completes it from ``(head, relation)`` does tail prediction, scored with
:mod:`artifactlab.tensor.linkpred`. The three benchmark graphs are read from the plain
text files that the ``pykeen`` package ships (``pip install "artifactlab[kg]"``), with
their standard train/valid/test splits. pykeen itself is never imported (that takes
seconds): only its folder is located.

Every loader here builds a :class:`~artifactlab.data.truth_set.TruthDataset` the same way:

- **vocabulary**: the entities of all splits (heads and tails), sorted, then the
  relations of all splits, sorted, so entities are ids ``0 .. E-1`` and every valid or
  test token has an id (a model never sees the tokens that occur only there). A relation
  spelled like an entity shares that entity's token.
- ``train``, ``valid``, ``test``: the splits' triples as given, repeats and all.
- ``truth`` (``G``): the distinct triples of valid, then test, minus those in train.
  A test triple that is also a training triple stays in ``test`` but is not in ``G``;
  :func:`load_triple_folder` warns (:class:`TripleOverlapWarning`) and
  :func:`overlap_count` counts them.

Example
-------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "train.txt").write_text("paris\tcapital_of\tfrance\nrome\tcapital_of\titaly\n")
>>> _ = (folder / "test.txt").write_text("berlin\tcapital_of\tgermany\n")
>>> ds = load_triple_folder(folder)
>>> ds.vocab.tokens
('berlin', 'france', 'germany', 'italy', 'paris', 'rome', 'capital_of')
>>> ds.test.tolist(), kg_info(ds)
([[0, 6, 2]], KGInfo(n_entities=6, n_relations=1))
>>> entity_ids(ds).tolist()  # the tails a link-prediction ranking compares
[0, 1, 2, 3, 4, 5]
"""

from __future__ import annotations

import gzip
import importlib.util
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.tuples import TupleDataset, Vocabulary, content_lines, split_fields
from artifactlab.errors import InputError

Triple = tuple[str, str, str]

#: file names tried for each split, in this order (pykeen ships ``.txt``)
SPLIT_SUFFIXES = (".txt", ".tsv", ".txt.gz", ".tsv.gz")


@dataclass(frozen=True)
class KnowledgeGraph:
    """A benchmark graph whose files ship inside pykeen (``pykeen/datasets/<folder>/``)."""

    name: str
    folder: str
    description: str


#: name -> graph; the sizes are those of the standard splits (triples train/valid/test)
KNOWLEDGE_GRAPHS: dict[str, KnowledgeGraph] = {
    kg.name: kg
    for kg in (
        KnowledgeGraph(
            "nations",
            "nations",
            "Nations (Kok & Domingos 2007): 14 countries, 55 relations, 1592/199/201",
        ),
        KnowledgeGraph(
            "kinships",
            "kinships",
            "Kinships (Denham 1973): 104 Alyawarra people, 25 kin terms, 8544/1068/1074",
        ),
        KnowledgeGraph(
            "umls",
            "umls",
            "UMLS (McCray 2003): 135 biomedical concepts, 46 relations, 5216/652/661",
        ),
    )
}


@dataclass(frozen=True)
class KGInfo:
    """Entity and relation counts of a triple dataset (see :func:`kg_info`)."""

    n_entities: int
    n_relations: int


class TripleOverlapWarning(UserWarning):
    """Some test triples are also training triples (they stay in the test split)."""


def pykeen_datasets_folder() -> Path:
    """``pykeen/datasets`` of the installed pykeen, found without importing pykeen.

    Raises
    ------
    InputError
        pykeen is not installed.
    """
    spec = importlib.util.find_spec("pykeen")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "knowledge graphs",
            "Nations, Kinships and UMLS are read from the files of the pykeen package, "
            "which is not installed",
            'pip install "artifactlab[kg]"',
        )
    return Path(list(spec.submodule_search_locations)[0]) / "datasets"


def load_kg(name: str) -> TruthDataset:
    """Load a registered knowledge graph with its standard train/valid/test split.

    Parameters
    ----------
    name : str
        A key of :data:`KNOWLEDGE_GRAPHS` (case-insensitive).

    Returns
    -------
    TruthDataset
        Built as described in the module docstring; ``name`` is the graph's name.

    Raises
    ------
    InputError
        An unknown name, pykeen not installed, or its files missing.
    """
    kg = KNOWLEDGE_GRAPHS.get(name.lower())
    if kg is None:
        raise InputError(
            f"knowledge graph {name!r}",
            "is not registered",
            f"choose one of: {', '.join(KNOWLEDGE_GRAPHS)}",
        )
    folder = pykeen_datasets_folder() / kg.folder
    splits = {s: read_triples(split_file(folder, s)) for s in ("train", "valid", "test")}
    return triples_dataset(kg.name, splits["train"], splits["test"], splits["valid"])


def split_file(folder: Path, split: str, required: bool = True) -> Path | None:
    """The file of one split in ``folder``: ``<split>`` + one of :data:`SPLIT_SUFFIXES`.

    Raises
    ------
    InputError
        Two candidate files (which one is meant?), or none when ``required``.
    """
    found = [folder / (split + s) for s in SPLIT_SUFFIXES if (folder / (split + s)).is_file()]
    if len(found) > 1:
        raise InputError(
            str(folder),
            f"holds {' and '.join(p.name for p in found)}",
            f"keep one {split} file",
        )
    if not found and required:
        raise InputError(
            str(folder),
            f"has no {split} file ({' or '.join(split + s for s in SPLIT_SUFFIXES[:2])})",
            "write one triple per line: head<TAB>relation<TAB>tail",
        )
    return found[0] if found else None


def _read_text(path: Path) -> str:
    """A UTF-8 text file's contents (gunzipped when the name ends in ``.gz``)."""
    if not path.is_file():
        raise InputError(str(path), "no such file", "check the path")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return fh.read()
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as err:
        raise InputError(str(path), f"cannot be read as UTF-8 text ({err})") from None


def read_triples(path: str | Path) -> list[Triple]:
    """Read one triple file: ``head<TAB>relation<TAB>tail``, one triple per line.

    Blank lines and lines starting with ``#`` are skipped. As in
    :func:`~artifactlab.data.tuples.load_tuples`, a line with a tab is split on tabs
    (tokens may hold spaces), otherwise on ASCII spaces; fields are stripped. A byte-order
    mark is dropped, and lines end only at a line feed (CR LF included).

    Parameters
    ----------
    path : str or Path
        The file; a name ending in ``.gz`` is read gzipped.

    Returns
    -------
    list of (str, str, str)
        The triples in file order (empty for a file without triples).

    Raises
    ------
    InputError
        A missing or unreadable file, or a line with an empty field or not 3 fields
        (the message names ``file:line``).
    """
    path = Path(path)
    triples: list[Triple] = []
    for lineno, line in content_lines(_read_text(path)):
        fields = split_fields(line)
        if len(fields) != 3:
            raise InputError(
                f"{path}:{lineno}",
                f"has {len(fields)} fields, expected 3 (head, relation, tail)",
                "write one triple per line: head<TAB>relation<TAB>tail",
            )
        if not all(fields):
            raise InputError(f"{path}:{lineno}", "has an empty field", "remove stray tabs")
        triples.append((fields[0], fields[1], fields[2]))
    return triples


def load_triple_folder(path: str | Path) -> TruthDataset:
    """Load a user's knowledge graph: a folder with ``train``, ``test`` and optionally ``valid``.

    Each split is ``<split>.txt`` or ``<split>.tsv`` (or either gzipped) in the format of
    :func:`read_triples`.

    Parameters
    ----------
    path : str or Path
        The folder.

    Returns
    -------
    TruthDataset
        Named after the folder; built as described in the module docstring.

    Raises
    ------
    InputError
        No such folder, a missing train or test file, a bad line, or no training triples.

    Warns
    -----
    TripleOverlapWarning
        ``"<folder>: N test triples also appear in train"``, when N > 0.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(str(folder), "is not a folder", "give a folder holding train.txt ...")
    files = {s: split_file(folder, s, required=s != "valid") for s in ("train", "valid", "test")}
    splits = {s: read_triples(f) if f is not None else None for s, f in files.items()}
    if not splits["train"]:
        raise InputError(str(files["train"]), "holds no triples", "write one triple per line")
    ds = triples_dataset(folder.name, splits["train"], splits["test"], splits["valid"])
    overlap = overlap_count(ds)
    if overlap:
        warnings.warn(
            f"{folder}: {overlap} test triples also appear in train",
            TripleOverlapWarning,
            stacklevel=2,
        )
    return ds


def split_triple_file(path: str | Path, holdout: float = 0.1, seed: int = 0) -> TruthDataset:
    """One triple file, a seeded fraction of its distinct triples held out as ``test`` and ``G``.

    Parameters
    ----------
    path : str or Path
        A triple file (:func:`read_triples`).
    holdout : float
        Fraction of the distinct triples held out, in (0, 1); rounded half up, and at
        least one triple is held out and one kept.
    seed : int
        Seed of the held-out draw (uniform, without replacement).

    Returns
    -------
    TruthDataset
        Named after the file's stem; no valid split.

    Raises
    ------
    InputError
        A bad line, a holdout outside (0, 1), or too few distinct triples to split.
    """
    path = Path(path)
    if not (isinstance(holdout, int | float) and 0 < holdout < 1):
        raise InputError(f"{path} holdout", f"must be in (0, 1), got {holdout!r}")
    distinct = list(dict.fromkeys(read_triples(path)))  # repeats would land on both sides
    n_held = max(1, int(holdout * len(distinct) + 0.5))
    if n_held >= len(distinct):
        raise InputError(
            str(path),
            f"has {len(distinct)} distinct triple(s): too few to hold out {holdout} and keep some",
            "add triples, or give a folder with train and test files",
        )
    return triples_dataset(path.stem, *_holdout_split(distinct, n_held, seed))


def _holdout_split(
    distinct: Sequence[Triple], n_held: int, seed: int
) -> tuple[list[Triple], list[Triple]]:
    """``n_held`` of ``distinct`` drawn uniformly without replacement (seeded): (train, test)."""
    held = set(np.random.default_rng(seed).choice(len(distinct), n_held, replace=False).tolist())
    train = [t for i, t in enumerate(distinct) if i not in held]
    return train, [t for i, t in enumerate(distinct) if i in held]


#: the parameters a registered knowledge graph takes (:func:`kg_subset`)
KG_PARAMS = ("relations", "holdout")


def kg_subset(name: str, relations: int = 0, holdout: float | None = None, seed: int = 0):
    """A registered graph cut to its most frequent relations, optionally re-split.

    Parameters
    ----------
    name : str
        A key of :data:`KNOWLEDGE_GRAPHS`.
    relations : int
        Keep the triples of the ``relations`` relations with the most distinct triples
        over all splits (ties by name); 0 keeps every relation.
    holdout : float, optional
        None keeps the standard split (each split cut to the kept relations). A number in
        (0, 1) pools the distinct triples of all splits and holds out that fraction
        (rounded half up, at least one) as ``test`` and ``G``, drawn with ``seed``.
    seed : int
        Seed of the held-out draw.

    Returns
    -------
    TruthDataset
        Named ``NAME`` (all relations, standard split), else ``NAME-rK-hH-sS`` with the
        parts that apply.

    Raises
    ------
    InputError
        A relation count outside [0, number of relations], a holdout outside (0, 1), or
        too few triples to split.
    """
    ds = load_kg(name)
    if relations == 0 and holdout is None:
        return ds
    tokens = ds.vocab.tokens
    n_rel = len(relation_ids(ds))
    if isinstance(relations, bool) or not isinstance(relations, int) or not 0 <= relations <= n_rel:
        raise InputError(
            f"{ds.name} relations", f"must be an integer in [0, {n_rel}], got {relations!r}"
        )
    if holdout is not None and not (
        isinstance(holdout, int | float) and not isinstance(holdout, bool) and 0 < holdout < 1
    ):
        raise InputError(f"{ds.name} holdout", f"must be in (0, 1), got {holdout!r}")

    def strings(rows: np.ndarray | None) -> list[Triple]:
        return [] if rows is None else [tuple(tokens[i] for i in row) for row in rows.tolist()]

    distinct = strings(known_triples(ds))  # sorted by ids: a fixed order for the draw
    counts: dict[str, int] = {}
    for t in distinct:
        counts[t[1]] = counts.get(t[1], 0) + 1
    ranked = sorted(counts, key=lambda r: (-counts[r], r))
    keep = set(ranked[: relations or n_rel])
    label = ds.name + (f"-r{relations}" if relations else "")
    if holdout is None:
        train, test, valid = (
            [t for t in strings(a) if t[1] in keep] for a in (ds.train.tuples, ds.test, ds.valid)
        )
        return triples_dataset(label, train, test, valid)
    distinct = [t for t in distinct if t[1] in keep]
    n_held = max(1, int(holdout * len(distinct) + 0.5))
    if n_held >= len(distinct):
        raise InputError(
            label, f"has {len(distinct)} distinct triple(s): too few to hold out {holdout}"
        )
    return triples_dataset(f"{label}-h{holdout:g}-s{seed}", *_holdout_split(distinct, n_held, seed))


def triples_dataset(
    name: str,
    train: Sequence[Triple],
    test: Sequence[Triple],
    valid: Sequence[Triple] | None = None,
) -> TruthDataset:
    """Build a TruthDataset from triples of strings (vocabulary and ``G`` as in the module doc).

    Parameters
    ----------
    name : str
        The dataset's name.
    train, test : sequence of (str, str, str)
        The training and test triples.
    valid : sequence of (str, str, str), optional
        The validation triples.

    Returns
    -------
    TruthDataset
    """
    every = [*train, *test, *(valid or ())]
    entities = sorted({t[0] for t in every} | {t[2] for t in every})
    relations = sorted({t[1] for t in every} - set(entities))
    vocab = Vocabulary(tuple(entities + relations))
    index = vocab.index

    def ids(triples: Sequence[Triple]) -> np.ndarray:
        rows = [[index[h], index[r], index[t]] for h, r, t in triples]
        return np.asarray(rows, dtype=np.int64).reshape(-1, 3)

    train_ids, test_ids = ids(train), ids(test)
    valid_ids = ids(valid) if valid is not None else None
    seen = {tuple(row) for row in train_ids.tolist()}
    truth: dict[tuple[int, ...], None] = {}  # an ordered set: valid first, then test
    for row in [*(valid_ids.tolist() if valid_ids is not None else []), *test_ids.tolist()]:
        if tuple(row) not in seen:
            truth[tuple(row)] = None
    truth_ids = np.asarray(list(truth), dtype=np.int64).reshape(-1, 3)
    return TruthDataset(name, TupleDataset(vocab, train_ids), test_ids, truth_ids, valid_ids)


def _splits(ds: TruthDataset) -> list[np.ndarray]:
    """Every triple array of ``ds``: train, test, truth and valid (when present)."""
    arrays = [ds.train.tuples, ds.test, ds.truth]
    return arrays + ([ds.valid] if ds.valid is not None else [])


def _check_triples(ds: TruthDataset) -> None:
    if ds.train.n != 3:
        raise ValueError(f"{ds.name} holds {ds.train.n}-tuples, not triples")


def entity_ids(ds: TruthDataset) -> np.ndarray:
    """The ids that are a head or a tail anywhere in ``ds``: the tail candidates (E,), sorted.

    For the loaders of this module these are ``0 .. E-1``; derived from the triples, so it
    holds for any triple dataset (a saved and reloaded one, a toy world).
    """
    _check_triples(ds)
    return np.unique(np.concatenate([a[:, [0, 2]].ravel() for a in _splits(ds)]))


def relation_ids(ds: TruthDataset) -> np.ndarray:
    """The ids in the relation position anywhere in ``ds``, shape (R,), sorted."""
    _check_triples(ds)
    return np.unique(np.concatenate([a[:, 1] for a in _splits(ds)]))


def kg_info(ds: TruthDataset) -> KGInfo:
    """Number of entities and relations of a triple dataset."""
    return KGInfo(len(entity_ids(ds)), len(relation_ids(ds)))


def known_triples(ds: TruthDataset) -> np.ndarray:
    """Every distinct true triple of ``ds`` (train, valid, test, ``G``): the filter set (K, 3)."""
    _check_triples(ds)
    return np.unique(np.concatenate(_splits(ds)), axis=0)


def overlap_count(ds: TruthDataset, split: str = "test") -> int:
    """How many triples of ``split`` (``"test"`` or ``"valid"``, repeats counted) are in train."""
    _check_triples(ds)
    if split not in ("test", "valid"):
        raise ValueError(f"split must be 'test' or 'valid', got {split!r}")
    arr = getattr(ds, split)
    if arr is None:
        return 0
    seen = {tuple(row) for row in ds.train.tuples.tolist()}
    return sum(tuple(row) in seen for row in arr.tolist())
