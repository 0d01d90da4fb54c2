"""The family world: kinship closure of a hand-built tree, the grown trees, splits and sizes."""

from __future__ import annotations

import numpy as np
import pytest

from artifactlab.data.family import FamilyTree, family_facts, family_world, grow_family_tree
from artifactlab.data.truth_set import TruthDataset
from artifactlab.errors import InputError


def true_facts(ds: TruthDataset) -> set[tuple[str, ...]]:
    """Every true fact of a world dataset: training plus truth, decoded."""
    return {tuple(ds.vocab.decode(r)) for r in [*ds.train.tuples, *ds.truth]}


@pytest.mark.parametrize(
    ("build", "where"),
    [
        (lambda: family_world(max_children=0), "family max_children"),
        (lambda: family_world(min_children=3, max_children=2), "family max_children"),
        (lambda: family_world(n_generations=12, max_children=4), "people"),
        (lambda: family_world(holdout=1.0), "family holdout"),
    ],
)
def test_impossible_parameters(build, where):
    with pytest.raises(InputError, match=where):
        build()


#   g1 = g2            grandparents, married
#   |      \
#   a = s   b = t      siblings a and b, each married to an outsider
#   |       |
#   c       d          cousins
TREE = FamilyTree(
    people=("g1", "g2", "a", "b", "s", "t", "c", "d"),
    parent_of=(("g1", "a"), ("g2", "a"), ("g1", "b"), ("g2", "b"),
               ("a", "c"), ("s", "c"), ("b", "d"), ("t", "d")),
    spouses=(("g1", "g2"), ("a", "s"), ("b", "t")),
)  # fmt: skip
HAND = """
g1 parent_of a; g2 parent_of a; g1 parent_of b; g2 parent_of b
a parent_of c; s parent_of c; b parent_of d; t parent_of d
a child_of g1; a child_of g2; b child_of g1; b child_of g2
c child_of a; c child_of s; d child_of b; d child_of t
g1 spouse_of g2; g2 spouse_of g1; a spouse_of s; s spouse_of a; b spouse_of t; t spouse_of b
a sibling_of b; b sibling_of a
g1 grandparent_of c; g2 grandparent_of c; g1 grandparent_of d; g2 grandparent_of d
c grandchild_of g1; c grandchild_of g2; d grandchild_of g1; d grandchild_of g2
b aunt_uncle_of c; a aunt_uncle_of d; c niece_nephew_of b; d niece_nephew_of a
c cousin_of d; d cousin_of c
"""


def test_family_facts_of_a_hand_built_tree():
    expected = {tuple(f.split()) for line in HAND.strip().splitlines() for f in line.split(";")}
    assert len(expected) == 38
    assert family_facts(TREE) == expected


def test_family_tree_rejects_unknown_people():
    with pytest.raises(InputError, match="unknown person"):
        FamilyTree(("a",), parent_of=(("a", "b"),))


def test_grown_tree_shape():
    tree = grow_family_tree(np.random.default_rng(0), 2, 3, 1, 2)
    parents: dict[str, set[str]] = {}
    for p, c in tree.parent_of:
        parents.setdefault(c, set()).add(p)
    couples = {frozenset(s) for s in tree.spouses}
    assert all(frozenset(ps) in couples for ps in parents.values())  # two married parents
    founders = set(tree.people) - set(parents)
    assert {"p0", "p1", "p2", "p3"} <= founders  # two founding couples
    assert tree.people == tuple(f"p{i}" for i in range(len(tree.people)))


def test_family_world_splits_the_closure():
    ds = family_world(seed=5, n_families=2, n_generations=3, max_children=2, holdout=0.3)
    tree = grow_family_tree(np.random.default_rng(5), 2, 3, 1, 2)  # the same draw
    facts = family_facts(tree)
    assert true_facts(ds) == facts
    assert len(ds.test) == int(0.3 * len(facts) + 0.5) and np.array_equal(ds.test, ds.truth)
    assert ds.vocab.V == len(tree.people) + 9


def test_family_one_generation_is_couples():
    ds = family_world(n_families=2, n_generations=1, holdout=0.0)
    assert true_facts(ds) == {
        ("p0", "spouse_of", "p1"), ("p1", "spouse_of", "p0"),
        ("p2", "spouse_of", "p3"), ("p3", "spouse_of", "p2"),
    }  # fmt: skip
