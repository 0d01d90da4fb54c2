"""Toy worlds with rules: training triples and the true triples the rules imply.

The truth set is defined in ``docs/glossary.md#truth-set``.

Each world is a seeded builder that returns a :class:`TruthDataset`: ``train`` holds the
true facts a model sees, ``test`` the true facts held out of it, and ``truth`` (``G``)
every true fact beyond ``train`` (the held-out ones and anything else the rules imply).
An artifact in ``G`` is a generalization, any other a hallucination (closed world).

- ``grammar``: the paper's example (3), ``mice eat cheese`` / ``mouse eats cheese``;
  agreement-breaking artifacts that keep the meaning (``mouse eat cheese``) are false
  under the closed world but harmless (:func:`harmless` lists them).
- ``siblings``: the paper's example (4), ``Jack Jill siblings``; the same-shaped
  artifacts (``Jack John siblings``) are false.
- ``family``: a generated family tree with its kinship closure (:mod:`artifactlab.data.family`).

:data:`WORLDS` names them for the command line.

Example
-------
>>> ds = WORLDS["grammar"].build(seed=0, n_nouns=1, n_verbs=1, n_objects=1, holdout=0.5)
>>> sorted(" ".join(ds.vocab.decode(r)) for r in [*ds.train.tuples, *ds.truth])
['mice eat cheese', 'mouse eats cheese']
>>> [" ".join(ds.vocab.decode(r)) for r in harmless(ds)]
['mouse eat cheese', 'mice eats cheese']
>>> WORLDS["grammar"].check_params({"holdout": float("nan")})
Traceback (most recent call last):
artifactlab.errors.InputError: grammar holdout: must be a finite number, got nan
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

from artifactlab.checks import finite
from artifactlab.data.family import family_world
from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.world_kit import Fact, draw, hold_out, require, world_dataset, world_rng

# singular/plural forms; past the end of a list, names are made up (noun12 / noun12s ...)
NOUNS = [tuple(w.split("/")) for w in (
    "mouse/mice cat/cats dog/dogs child/children goose/geese fox/foxes ox/oxen wolf/wolves "
    "bird/birds horse/horses person/people rabbit/rabbits").split()]  # fmt: skip
VERBS = [tuple(w.split("/")) for w in (
    "eats/eat likes/like wants/want finds/find steals/steal hides/hide smells/smell buys/buy"
).split()]  # fmt: skip
OBJECTS = "cheese bread grass fish corn apples carrots seeds honey milk nuts berries".split()
NAMES = ("Jack Jill John Jane Tom Tina Sam Sara Ben Bella Max Mia Leo Lily Dan Diana Paul Paula "
         "Carl Clara Hugo Hana Ivan Iris").split()  # fmt: skip


def _first(names: Sequence, k: int, make: Callable[[int], Any]) -> list:
    """The first ``k`` of ``names``, continued past its end with made-up ``make(i)``."""
    return [names[i] if i < len(names) else make(i) for i in range(k)]


def verb_pairs(k: int) -> list[tuple[str, str]]:
    """The first ``k`` (singular, plural) verb pairs of the grammar world."""
    return _first(VERBS, k, lambda i: (f"verb{i}s", f"verb{i}"))


def person_names(k: int) -> list[str]:
    """``k`` distinct first names: the list, then the list again with a number (Jack2 ...)."""
    return [NAMES[i % len(NAMES)] + (str(i // len(NAMES) + 1) if i >= len(NAMES) else "")
            for i in range(k)]  # fmt: skip


def grammar_world(
    seed: int = 0,
    n_nouns: int = 8,
    n_verbs: int = 4,
    n_objects: int = 8,
    objects_per_context: int = 1,
    holdout: float = 0.25,
) -> TruthDataset:
    """The paper's example (3): subject, verb, object sentences that agree in number.

    The meaning is a relation "who does what to what": every (noun, verb) lemma pair gets
    ``objects_per_context`` distinct objects drawn uniformly with the seed. A meaning
    ``(mouse, eat, cheese)`` is said twice, once per number: ``mouse eats cheese`` and
    ``mice eat cheese``; these are the true sentences. ``holdout * #true`` of them (rounded
    half up), drawn uniformly, are held out of training: both forms of a meaning may be
    held out, and then nothing in training attests it. ``test`` and ``truth`` (G) are the
    held-out sentences. Sentences that break agreement but keep a meaning
    (``mouse eat cheese``) are not in G; :func:`harmless` lists them.

    Parameters
    ----------
    seed : int
        Seed of the relation and of the held-out draw.
    n_nouns, n_verbs : int
        Subject nouns and verbs, each with a singular and a plural form (``mouse/mice``,
        ``eats/eat``; made-up ``noun12/noun12s`` past the built-in lists).
    n_objects : int
        Object nouns (one form, ``cheese``).
    objects_per_context : int
        Objects per (noun, verb) meaning pair; more than one gives multi-valued fibers.
    holdout : float
        Fraction of the true sentences held out of training, in [0, 1).

    Returns
    -------
    TruthDataset
        Triples (subject, verb, object); ``V = 2 n_nouns + 2 n_verbs + n_objects``.
    """
    for key, value in (("n_nouns", n_nouns), ("n_verbs", n_verbs), ("n_objects", n_objects),
                       ("objects_per_context", objects_per_context)):  # fmt: skip
        require(value >= 1, f"grammar {key}", f"must be >= 1, got {value}")
    require(
        objects_per_context <= n_objects,
        "grammar objects_per_context",
        f"{objects_per_context} exceeds n_objects={n_objects}",
        "lower objects_per_context or raise n_objects",
    )
    rng = world_rng("grammar", seed)
    nouns = _first(NOUNS, n_nouns, lambda i: (f"noun{i}", f"noun{i}s"))
    verbs, objs = verb_pairs(n_verbs), _first(OBJECTS, n_objects, lambda i: f"food{i}")
    facts: list[Fact] = []
    for noun, verb in product(nouns, verbs):
        # k distinct objects per meaning pair: the first k of a random permutation
        for o in sorted(rng.permutation(n_objects)[:objects_per_context].tolist()):
            facts += [(noun[0], verb[0], objs[o]), (noun[1], verb[1], objs[o])]
    train, held = hold_out("grammar", facts, holdout, rng)
    tokens = [w for pair in nouns + verbs for w in pair] + objs
    return world_dataset("grammar", tokens, train, held, held)


def harmless(ds: TruthDataset) -> np.ndarray:
    """The agreement-breaking but meaning-keeping sentences of a grammar world.

    Every true sentence (in ``train`` or ``truth``) with its verb put in the other number:
    ``mouse eats cheese`` gives ``mouse eat cheese``. None of them is in ``train`` or in
    ``G`` (they break agreement), so a closed-world label calls them hallucinations; the
    paper calls them harmless, and a report can count them apart.

    Parameters
    ----------
    ds : TruthDataset
        A grammar world (as built, or read back from its folder).

    Returns
    -------
    numpy.ndarray
        Distinct sentences, shape (M, 3), int64, in the order of the true sentences.

    Raises
    ------
    InputError
        No middle token of a true sentence is a grammar-world verb.
    """
    index = ds.vocab.index
    swap = {}
    for sg, pl in verb_pairs(ds.vocab.V):  # no world has more verbs than tokens
        if sg in index and pl in index:
            swap[index[sg]], swap[index[pl]] = index[pl], index[sg]
    true = np.concatenate([ds.train.tuples, ds.truth])
    rows = [(s, swap[v], o) for s, v, o in true.tolist() if v in swap]
    require(bool(rows), ds.name, "has no grammar-world verbs", "build it with grammar_world")
    return np.asarray(list(dict.fromkeys(rows)), dtype=np.int64).reshape(-1, 3)


def siblings_world(
    seed: int = 0,
    n_families: int = 16,
    family_size: int = 3,
    holdout: float = 0.25,
    unrelated: float = 0.0,
) -> TruthDataset:
    """The paper's example (4): ``Jack Jill siblings``, the grammar world's shape, false artifacts.

    People come in families of ``family_size`` siblings, in name order (Jack and Jill,
    John and Jane, ...). The triples follow the paper's (person, person, relation) order,
    so a context is a pair of people and the next token is their relation. Being siblings
    is symmetric: both ``Jack Jill siblings`` and ``Jill Jack siblings`` are true, and
    these ordered facts are the true sibling facts. ``holdout * #facts`` of them (rounded
    half up), drawn uniformly, are held out (``test``). A same-shaped artifact across families
    (``Jack John siblings``) is false, unlike the grammar world's.

    With ``unrelated > 0`` the world also has the relation ``unrelated`` (every pair of
    people from different families), and training states that fraction of those pairs,
    drawn uniformly: the contradicting data that, per the paper, alone can preclude the
    false artifacts. The unstated ``unrelated`` facts are true and rule-implied, so they
    are in ``truth`` (G) but not in ``test``. With ``unrelated = 0`` the token is absent
    and G equals ``test``.

    Parameters
    ----------
    seed : int
        Seed of the held-out and ``unrelated`` draws.
    n_families : int
        Number of sibling groups.
    family_size : int
        Siblings per family, >= 2.
    holdout : float
        Fraction of the sibling facts held out of training, in [0, 1).
    unrelated : float
        Fraction of the cross-family ordered pairs stated as ``a b unrelated``, in [0, 1].

    Returns
    -------
    TruthDataset
        Triples (person, person, relation); ``V = n_families * family_size + 1`` (+1 with
        ``unrelated``).
    """
    require(n_families >= 1, "siblings n_families", f"must be >= 1, got {n_families}")
    require(family_size >= 2, "siblings family_size", f"must be >= 2, got {family_size}")
    require(0 <= unrelated <= 1, "siblings unrelated", f"must be in [0, 1], got {unrelated}")
    rng = world_rng("siblings", seed)
    people = person_names(n_families * family_size)
    family = {p: i // family_size for i, p in enumerate(people)}
    pairs = [(a, b) for a, b in product(people, people) if a != b]
    facts = [(a, b, "siblings") for a, b in pairs if family[a] == family[b]]
    train, held = hold_out("siblings", facts, holdout, rng)
    if unrelated == 0:
        return world_dataset("siblings", [*people, "siblings"], train, held, held)
    cross = [(a, b, "unrelated") for a, b in pairs if family[a] != family[b]]
    unstated, stated = draw(cross, int(unrelated * len(cross) + 0.5), rng)
    tokens = [*people, "siblings", "unrelated"]
    return world_dataset("siblings", tokens, train + stated, held, held + unstated)


@dataclass(frozen=True)
class World:
    """A named world for the command line: its builder and the builder's parameters.

    Attributes
    ----------
    name : str
        The registry key.
    description : str
        One line for listings.
    builder : callable
        ``builder(seed=..., **params) -> TruthDataset``.
    defaults : Mapping
        Every parameter but ``seed``, with its default (int or float; the type is enforced).
    harmless : callable, optional
        ``harmless(ds) -> (M, 3) array`` of artifacts that are false but harmless, for
        worlds that have such a notion (grammar).
    """

    name: str
    description: str
    builder: Callable[..., TruthDataset]
    defaults: Mapping[str, int | float]
    harmless: Callable[[TruthDataset], np.ndarray] | None = None

    def check_params(self, params: Mapping[str, Any]) -> dict[str, int | float]:
        """``params`` checked as ``--param`` is: known keys, the default's type, finite.

        Raises
        ------
        InputError
            An unknown parameter, a value of the wrong type (a bool, a string, a float
            where an integer is wanted), or ``nan`` or an infinity.
        """
        for key, value in params.items():
            require(key in self.defaults, f"world {self.name}", f"has no parameter {key!r}",
                    f"known: {', '.join(self.defaults)}")  # fmt: skip
            want = type(self.defaults[key])
            ok = isinstance(value, int) if want is int else isinstance(value, int | float)
            require(ok and not isinstance(value, bool), f"{self.name} {key}",
                    f"must be {want.__name__}, got {value!r}")  # fmt: skip
            if isinstance(value, float):  # range checks alone let nan through
                finite(f"{self.name} {key}", value)
        return dict(params)

    def build(self, seed: int = 0, **params: int | float) -> TruthDataset:
        """Build with the defaults overridden by ``params``.

        Raises
        ------
        InputError
            An unknown parameter, a value of the wrong type or not finite, an impossible
            size, or a negative seed.
        """
        self.check_params(params)
        return self.builder(seed=seed, **{**self.defaults, **params})


WORLDS: dict[str, World] = {}


def register_world(
    name: str, description: str, builder: Callable[..., TruthDataset],
    harmless: Callable[[TruthDataset], np.ndarray] | None = None,
) -> World:  # fmt: skip
    """Add a world to :data:`WORLDS`, its defaults read from the builder's signature."""
    params = inspect.signature(builder).parameters
    defaults = {k: p.default for k, p in params.items() if k != "seed"}
    WORLDS[name] = World(name, description, builder, defaults, harmless)
    return WORLDS[name]


register_world("grammar", "mice eat cheese: agreement, harmless artifacts (paper's (3))",
               grammar_world, harmless)  # fmt: skip
register_world("siblings", "Jack Jill siblings: same shape, false artifacts (paper's (4))",
               siblings_world)  # fmt: skip
register_world("family", "a family tree's kinship facts, a fraction held out", family_world)
