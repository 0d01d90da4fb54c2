"""Toy worlds: rule closures, splits, seeding, validation, and the ``make-data world`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.worlds import (
    NOUNS,
    WORLDS,
    grammar_world,
    harmless,
    siblings_world,
    verb_pairs,
)
from artifactlab.errors import InputError


def rows(ds: TruthDataset, arr: np.ndarray) -> set[tuple[str, ...]]:
    return {tuple(ds.vocab.decode(r)) for r in arr}


def true_facts(ds: TruthDataset) -> set[tuple[str, ...]]:
    return rows(ds, ds.train.tuples) | rows(ds, ds.truth)


# -- every registered world (the registry's contract) ----------------------------------------


@pytest.mark.parametrize("name", list(WORLDS))
def test_contract(name, tmp_path):
    world = WORLDS[name]
    ds = world.build(seed=0)
    assert ds.name == name and ds.train.n == 3 and ds.valid is None
    train, test, truth = rows(ds, ds.train.tuples), rows(ds, ds.test), rows(ds, ds.truth)
    assert len(train) == ds.train.N and len(test) == len(ds.test) and len(truth) == len(ds.truth)
    assert len(test) > 0 and test <= truth and not train & truth
    again = world.build(seed=0)
    np.testing.assert_array_equal(ds.train.tuples, again.train.tuples)
    np.testing.assert_array_equal(ds.truth, again.truth)
    other = world.build(seed=1)
    assert rows(other, other.train.tuples) != train
    back = TruthDataset.load(ds.save(tmp_path / name))
    assert back.vocab == ds.vocab and np.array_equal(back.truth, ds.truth)


@pytest.mark.parametrize("name", list(WORLDS))
def test_defaults_are_the_builder_defaults(name):
    world = WORLDS[name]
    explicit = world.builder(seed=2, **world.defaults)
    np.testing.assert_array_equal(world.build(seed=2).train.tuples, explicit.train.tuples)


@pytest.mark.parametrize(
    ("build", "where"),
    [
        (lambda: grammar_world(n_nouns=0), "grammar n_nouns"),
        (lambda: grammar_world(n_objects=2, objects_per_context=3), "objects_per_context"),
        (lambda: grammar_world(holdout=1.0), "grammar holdout"),
        (lambda: grammar_world(n_nouns=1, n_verbs=1, n_objects=1, holdout=0.8), "hold out all"),
        (lambda: siblings_world(family_size=1), "siblings family_size"),
        (lambda: siblings_world(unrelated=1.5), "siblings unrelated"),
        (lambda: WORLDS["grammar"].build(n_cats=3), "no parameter 'n_cats'"),
        (lambda: WORLDS["grammar"].build(n_nouns=2.5), "must be int"),
        (lambda: WORLDS["family"].build(holdout=True), "must be float"),
    ],
)
def test_impossible_parameters(build, where):
    with pytest.raises(InputError, match=where):
        build()


# -- grammar -----------------------------------------------------------------------------------

SINGULAR = {sg for sg, _ in NOUNS} | {sg for sg, _ in verb_pairs(8)}


def test_grammar_paper_example():
    ds = grammar_world(n_nouns=1, n_verbs=1, n_objects=1, holdout=0.5)
    assert true_facts(ds) == {("mice", "eat", "cheese"), ("mouse", "eats", "cheese")}
    assert rows(ds, harmless(ds)) == {("mouse", "eat", "cheese"), ("mice", "eats", "cheese")}
    assert ds.train.N == 1 and rows(ds, ds.test) == rows(ds, ds.truth)


def test_grammar_closure_agreement_and_meaning():
    ds = grammar_world(seed=1, n_nouns=3, n_verbs=2, n_objects=4, objects_per_context=2)
    facts = true_facts(ds)
    assert len(facts) == 2 * 3 * 2 * 2 and ds.vocab.V == 2 * 3 + 2 * 2 + 4
    assert all((s in SINGULAR) == (v in SINGULAR) for s, v, _ in facts)  # number agrees
    lemma = {w: i for i, pair in enumerate(NOUNS[:3] + verb_pairs(2)) for w in pair}
    meanings: dict[tuple[int, int], list[set[str]]] = {}
    for number in (True, False):
        for s, v, o in facts:
            if (s in SINGULAR) == number:
                meanings.setdefault((lemma[s], lemma[v]), [set(), set()])[number].add(o)
    # both numbers say the same k objects for every (noun, verb) meaning pair
    assert len(meanings) == 3 * 2 and all(sg == pl and len(sg) == 2 for pl, sg in meanings.values())
    assert len(ds.test) == int(0.25 * 24 + 0.5) and np.array_equal(ds.test, ds.truth)


def test_grammar_harmless_breaks_agreement_and_keeps_meaning():
    ds = grammar_world(seed=3, n_nouns=2, n_verbs=3, n_objects=3)
    facts, harmful = true_facts(ds), rows(ds, harmless(ds))
    assert len(harmful) == len(facts) and not harmful & facts
    assert all((s in SINGULAR) != (v in SINGULAR) for s, v, _ in harmful)
    swap = {w: x for sg, pl in verb_pairs(3) for w, x in ((sg, pl), (pl, sg))}
    assert {(s, swap[v], o) for s, v, o in harmful} == facts


def test_harmless_needs_a_grammar_world():
    with pytest.raises(InputError, match="no grammar-world verbs"):
        harmless(siblings_world())


# -- siblings ----------------------------------------------------------------------------------


def test_siblings_paper_example():
    ds = siblings_world(n_families=2, family_size=2, holdout=0.0)
    assert rows(ds, ds.train.tuples) == {
        ("Jack", "Jill", "siblings"), ("Jill", "Jack", "siblings"),
        ("John", "Jane", "siblings"), ("Jane", "John", "siblings"),
    }  # fmt: skip
    assert ds.vocab.V == 5 and len(ds.truth) == 0
    assert ("Jack", "John", "siblings") not in true_facts(ds)


def test_siblings_closure_is_symmetric_within_families():
    ds = siblings_world(seed=4, n_families=5, family_size=3, holdout=0.4)
    family = {p: i // 3 for i, p in enumerate(ds.vocab.tokens[:15])}
    facts = true_facts(ds)
    assert len(facts) == 5 * 3 * 2 and {(b, a, r) for a, b, r in facts} == facts
    same = {(a, b) for a in family for b in family if a != b and family[a] == family[b]}
    assert {(a, b) for a, b, _ in facts} == same
    artifacts = {(a, b, "siblings") for a in family for b in family if family[a] != family[b]}
    assert not artifacts & rows(ds, ds.truth)  # the Jack-John kind is false
    assert len(ds.test) == int(0.4 * 30 + 0.5)


def test_siblings_unrelated_contradicts_the_artifacts():
    ds = siblings_world(seed=0, n_families=3, family_size=2, unrelated=0.5)
    assert ds.vocab.tokens[-2:] == ("siblings", "unrelated") and ds.vocab.V == 8
    stated = {f for f in rows(ds, ds.train.tuples) if f[2] == "unrelated"}
    unstated = {f for f in rows(ds, ds.truth) if f[2] == "unrelated"}
    assert len(stated) == 12 and len(stated | unstated) == 6 * 4  # every cross-family pair
    assert all(f[2] == "siblings" for f in rows(ds, ds.test))


# -- the command -------------------------------------------------------------------------------


@pytest.fixture()
def make_data():
    from artifactlab.cli import app

    def invoke(*args):
        return CliRunner().invoke(app, [str(a) for a in args])

    return invoke


def test_command_writes_the_folder(make_data, tmp_path):
    out = tmp_path / "w"
    result = make_data("make-data", "world", "siblings", "--out", out, "--seed", "2",
                       "-p", "n_families=3", "--param", "holdout=0.5", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    ds = TruthDataset.load(out)
    assert (info["V"], info["train"], info["test"], info["truth"]) == (
        ds.vocab.V, ds.train.N, len(ds.test), len(ds.truth),
    )  # fmt: skip
    assert (info["train"], info["test"]) == (9, 9)  # 3 families of 3: 18 facts
    record = json.loads((out / "world.json").read_text())
    assert record["seed"] == 2 and record["params"]["n_families"] == 3
    assert record["params"]["family_size"] == 3 and record["provenance"]["version"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]  # no temporary folder left


def test_command_text_and_harmless_count(make_data, tmp_path):
    result = make_data("make-data", "world", "grammar", "--out", tmp_path / "g")
    assert (
        result.exit_code == 0 and "48 train, 16 test, 16 truth (G) triples, V=32" in result.stdout
    )
    args = ("make-data", "world", "grammar", "--out", tmp_path / "j", "--json")
    assert json.loads(make_data(*args).stdout)["harmless"] == 64


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("dragons",), "unknown world 'dragons'"),
        (("grammar", "-p", "n_cats=2"), "has no parameter 'n_cats'"),
        (("grammar", "-p", "n_nouns"), "expected KEY=VALUE"),
        (("grammar", "-p", "n_nouns=two"), "n_nouns must be an integer"),
        (("family", "-p", "holdout=1"), "family holdout: must be in [0, 1)"),
    ],
)
def test_command_bad_input(make_data, tmp_path, args, message):
    result = make_data("make-data", "world", *args, "--out", tmp_path / "w")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_command_refuses_a_non_empty_folder(make_data, tmp_path):
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "keep.txt").write_text("x")
    result = make_data("make-data", "world", "family", "--out", tmp_path / "w")
    assert result.exit_code == 2 and "not empty" in result.stderr


def test_ls_worlds(make_data):
    lines = make_data("ls", "worlds").stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["grammar", "siblings", "family"]
    assert "n_nouns=8" in lines[0]
