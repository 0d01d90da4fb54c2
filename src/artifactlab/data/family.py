"""The ``family`` world: a generated family tree and the kinship facts its rules imply.

:func:`grow_family_tree` draws a seeded tree, :func:`family_facts` closes it under the
rules in :data:`RULES`, and :func:`family_world` holds a fraction of the facts out as
the truth set G (registered in :data:`artifactlab.data.worlds.WORLDS` as ``family``).

Example
-------
>>> ds = family_world(seed=0, n_families=1, n_generations=2, max_children=1, holdout=0.5)
>>> ds.name, sorted(set(ds.vocab.tokens) - set(RULES))
('family', ['p0', 'p1', 'p2'])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.world_kit import Fact, Pairs, hold_out, require, world_dataset, world_rng

MAX_PEOPLE = 20_000  # the family tree doubles and more per generation: refuse a runaway size


@dataclass(frozen=True)
class FamilyTree:
    """People, marriages and parenthood: the facts the family world's rules start from.

    Attributes
    ----------
    people : tuple of str
        Everyone, in the order of their tokens.
    parent_of : tuple of (str, str)
        ``(parent, child)`` edges.
    spouses : tuple of (str, str)
        Married couples, each once.
    """

    people: tuple[str, ...]
    parent_of: tuple[tuple[str, str], ...]
    spouses: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        named = set(self.people)
        for a, b in (*self.parent_of, *self.spouses):
            require({a, b} <= named, "family tree", f"({a}, {b}) names an unknown person")


def _inverse(pairs: Pairs) -> Pairs:
    return {(b, a) for a, b in pairs}


def _compose(first: Pairs, second: Pairs) -> Pairs:
    """``(a, c)`` with ``(a, b)`` in ``first`` and ``(b, c)`` in ``second``, ``a != c``."""
    by_head: dict[str, set[str]] = {}
    for b, c in second:
        by_head.setdefault(b, set()).add(c)
    return {(a, c) for a, b in first for c in by_head.get(b, ()) if a != c}


def _siblings(parent: Pairs) -> Pairs:
    # a shared parent makes siblings (half-siblings included)
    return _compose(_inverse(parent), parent)


def _cousins(parent: Pairs) -> Pairs:
    # a parent's sibling's child, unless also a sibling (possible in hand-built trees)
    return _compose(_compose(_inverse(parent), _siblings(parent)), parent) - _siblings(parent)


# relation -> rule over the tree; every rule returns (head, tail) pairs of people
RULES: dict[str, Callable[[FamilyTree], Pairs]] = {
    "parent_of": lambda t: set(t.parent_of),
    "child_of": lambda t: _inverse(set(t.parent_of)),
    "spouse_of": lambda t: set(t.spouses) | _inverse(set(t.spouses)),
    "sibling_of": lambda t: _siblings(set(t.parent_of)),
    "grandparent_of": lambda t: _compose(set(t.parent_of), set(t.parent_of)),
    "grandchild_of": lambda t: _inverse(_compose(set(t.parent_of), set(t.parent_of))),
    "aunt_uncle_of": lambda t: _compose(_siblings(set(t.parent_of)), set(t.parent_of)),
    "niece_nephew_of": lambda t: _inverse(_compose(_siblings(set(t.parent_of)), set(t.parent_of))),
    "cousin_of": lambda t: _cousins(set(t.parent_of)),
}


def family_facts(tree: FamilyTree) -> set[Fact]:
    """Every true ``(head, relation, tail)`` fact of a family tree, by the rules in :data:`RULES`.

    Kinship is by blood only (an aunt by marriage is not an ``aunt_uncle_of``); siblings
    share a parent; cousins are children of siblings; ``spouse_of`` and the inverse
    relations (``child_of``, ``grandchild_of``, ``niece_nephew_of``) are stated both ways.

    Examples
    --------
    >>> tree = FamilyTree(("a", "b", "c"), parent_of=(("a", "b"), ("b", "c")))
    >>> sorted(f for f in family_facts(tree) if f[1] == "grandparent_of")
    [('a', 'grandparent_of', 'c')]
    """
    return {(h, rel, t) for rel, rule in RULES.items() for h, t in rule(tree)}


def _max_people(n_families: int, n_generations: int, max_children: int) -> int:
    """The most people :func:`grow_family_tree` can make (every couple with the most children)."""
    couples, people = n_families, 2 * n_families
    for generation in range(1, n_generations):
        children = couples * max_children
        married = generation < n_generations - 1
        people += 2 * children if married else children
        couples = children
    return people


def grow_family_tree(
    rng: np.random.Generator, n_families: int, n_generations: int, min_children: int,
    max_children: int,
) -> FamilyTree:  # fmt: skip
    """Founding couples, then per couple ``U{min..max}`` children, each married to a newcomer.

    Everyone is named ``p0, p1, ...`` in order of appearance (generation by generation).
    Spouses marry in from outside the tree, so families never merge and no one marries kin;
    the last generation stays unmarried.
    """
    people: list[str] = []

    def new() -> str:
        people.append(f"p{len(people)}")
        return people[-1]

    couples = [(new(), new()) for _ in range(n_families)]
    parent_of: list[tuple[str, str]] = []
    spouses = list(couples)
    for generation in range(1, n_generations):
        children = []
        for a, b in couples:
            for _ in range(int(rng.integers(min_children, max_children + 1))):
                children.append(new())
                parent_of += [(a, children[-1]), (b, children[-1])]
        couples = [(c, new()) for c in children] if generation < n_generations - 1 else []
        spouses += couples
    return FamilyTree(tuple(people), tuple(parent_of), tuple(spouses))


def family_world(
    seed: int = 0,
    n_families: int = 4,
    n_generations: int = 3,
    min_children: int = 1,
    max_children: int = 3,
    holdout: float = 0.2,
) -> TruthDataset:
    """A generated family tree and its kinship facts, a fraction held out.

    The tree comes from :func:`grow_family_tree` (seeded); every fact its rules imply is
    computed by :func:`family_facts` (relations: ``parent_of``, ``child_of``,
    ``spouse_of``, ``sibling_of``, ``grandparent_of``, ``grandchild_of``,
    ``aunt_uncle_of``, ``niece_nephew_of``, ``cousin_of``). ``holdout * #facts`` facts
    (rounded half up), drawn uniformly, are held out: they are ``test`` and ``truth`` (G),
    since every true fact is in training or held out. A completion generalizes when it infers a
    held-out fact (a ``grandparent_of`` from two ``parent_of``), and hallucinates when it
    invents a false one (a ``sibling_of`` between cousins).

    Parameters
    ----------
    seed : int
        Seed of the tree and of the held-out draw.
    n_families : int
        Founding couples (independent trees).
    n_generations : int
        Generations, founders included; 1 gives only married couples.
    min_children, max_children : int
        Children per couple, drawn uniformly in ``[min_children, max_children]``.
    holdout : float
        Fraction of the true facts held out of training, in [0, 1).

    Returns
    -------
    TruthDataset
        Triples (person, relation, person) over people ``p0..`` and the relations.
    """
    require(n_families >= 1, "family n_families", f"must be >= 1, got {n_families}")
    require(n_generations >= 1, "family n_generations", f"must be >= 1, got {n_generations}")
    require(min_children >= 0, "family min_children", f"must be >= 0, got {min_children}")
    require(
        max_children >= max(1, min_children),
        "family max_children",
        f"must be >= 1 and >= min_children={min_children}, got {max_children}",
    )
    most = _max_people(n_families, n_generations, max_children)
    require(
        most <= MAX_PEOPLE,
        "family",
        f"the tree could reach {most} people, more than {MAX_PEOPLE}",
        "lower n_families, n_generations or max_children",
    )
    rng = world_rng("family", seed)
    tree = grow_family_tree(rng, n_families, n_generations, min_children, max_children)
    facts = sorted(family_facts(tree), key=lambda f: (int(f[0][1:]), f[1], int(f[2][1:])))
    train, held = hold_out("family", facts, holdout, rng)
    return world_dataset("family", [*tree.people, *RULES], train, held, held)
