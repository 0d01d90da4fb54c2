import csv
import math

import pytest
import yaml

from artifactlab.errors import InputError
from artifactlab.experiments.mitigation import (
    DATASETS,
    FRONT_RULE,
    METHOD_STRENGTHS,
    METHODS,
    cases,
    check,
    pareto_front,
    parse_methods,
    parse_strengths,
    summarise,
    sweep_path,
    sweep_yaml,
)
from artifactlab.experiments.sweep_file import load_sweep
from artifactlab.report.mitigation_plot import plot


def test_methods_are_the_trainers_methods():
    from artifactlab.train.mitigation import METHODS as TRAINED

    assert METHODS == TRAINED


def test_cases_put_the_unmitigated_point_first_then_every_strength():
    full = cases()
    assert full[0] == {"mitigation.method": "none", "mitigation.strength": 0.0}
    assert len(full) == 1 + 4 * 4
    for method, strengths in METHOD_STRENGTHS.items():
        got = [c["mitigation.strength"] for c in full if c["mitigation.method"] == method]
        assert got == list(strengths)
    quick = cases(quick=True)
    assert quick[0]["mitigation.method"] == "none" and len(quick) == 1 + 4 * 2
    assert [c["mitigation.strength"] for c in quick if c["mitigation.method"] == "penalty"] == [
        1.0,
        10.0,
    ]
    own = cases(["idk"], {"idk": (0.3,)}, quick=True)
    assert [c["mitigation.strength"] for c in own] == [0.0, 0.3]


def test_sweep_yaml_has_a_fixed_step_budget_for_every_point():
    full = yaml.safe_load(sweep_yaml("family"))
    assert full["trial"] == "mitigate" and full["seeds"] == 5
    assert full["base"]["train"] == {"lr": 0.01, "max_steps": 1000, "loss_tol": None,
                                     "weight_decay": 0.0}  # fmt: skip
    assert full["base"]["model"] == {"kind": "attn", "d_model": 32, "n_heads": 4}
    assert full["base"]["eval"] == {"taus": [0.5]}
    assert all(set(c) == {"mitigation.method", "mitigation.strength"} for c in full["cases"])
    quick = yaml.safe_load(sweep_yaml("family", quick=True))
    assert quick["base"]["train"]["max_steps"] == 300 and len(quick["cases"]) == 9
    own = yaml.safe_load(
        sweep_yaml("random", ["penalty"], seeds=2, params={"V": 8}, data_seed=3,
                   model={"d_model": 8, "n_heads": 2}, steps=50)
    )  # fmt: skip
    assert own["base"]["data"] == {"source": "random", "params": {"V": 8}, "seed": 3}
    assert own["base"]["model"]["d_model"] == 8 and own["base"]["train"]["max_steps"] == 50
    assert own["seeds"] == 2 and len(own["cases"]) == 5


@pytest.mark.parametrize("quick", [False, True])
@pytest.mark.parametrize("data", list(DATASETS))
def test_shipped_sweep_files_are_the_ones_the_defaults_describe(data, quick):
    # edit DATASETS or METHOD_STRENGTHS, then artifactlab.experiments.mitigation.write_sweeps()
    expected = sweep_yaml(data, quick=quick, params=DATASETS[data])
    assert sweep_path(data, quick).read_text() == expected


def test_a_shipped_sweep_file_loads():
    sweep = load_sweep(sweep_path("family", quick=True))
    assert len(sweep.trials) == 9 * 5 and sweep.kind.name == "mitigate"
    assert sweep.trials[0].params["mitigation.method"] == "none"


def test_parse_methods_and_strengths():
    assert parse_methods("idk, penalty,idk") == ["idk", "penalty"]
    with pytest.raises(InputError, match=r"unknown method\(s\) none.*penalty, unsupported"):
        parse_methods("none")
    with pytest.raises(InputError, match="--method: is empty"):
        parse_methods(" , ")
    assert parse_strengths("0.5, 2,0.5", ["contradict"]) == {"contradict": (0.5, 2.0)}
    with pytest.raises(InputError, match="needs a single --method"):
        parse_strengths("0.5", ["idk", "penalty"])
    for bad in ("x", "nan", "-1", "0", "inf", ""):
        with pytest.raises(InputError, match="--strengths"):
            parse_strengths(bad, ["penalty"])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"methods": ["idk"], "strengths": {"idk": (2.0,)}},
         "--strengths: idk at strength 2: mitigation.strength: must be a finite number in [0, 1]"),
        ({"methods": ["idk"], "model": {"kind": "ngram"}},
         "--method idk: idk at strength 0.25: mitigation.method: idk changes the training loss"),
        ({"methods": ["penalty"], "data": "random", "params": {"V": 6, "N": 10}},
         "--sample: penalty at strength 1: mitigation.sample: asks for 64 unobserved"),
        ({"params": {"n_cats": 2}}, "--data: data.source:"),
        ({"data": "random", "params": {"V": 0}}, "-p V: data.params.V: must be an integer >= 1"),
    ],
)  # fmt: skip
def test_check_names_the_option_at_fault(kwargs, words):
    args = {"data": "siblings", "quick": True} | kwargs
    with pytest.raises(InputError) as err:
        check(sweep_yaml(args.pop("data"), **args))
    assert words in err.value.message, err.value.message


# --- summaries from a hand-made CSV ----------------------------------------------------------

#: (method, strength) -> (hallucinations, generalizations) of seed 0; seed s adds s to both
POINTS = {("none", 0.0): (100, 10), ("penalty", 1.0): (50, 8), ("penalty", 10.0): (10, 2),
          ("idk", 0.5): (60, 5)}  # fmt: skip


def _write_csv(path, points=POINTS, seeds=3):
    rows = []
    for (method, strength), (h, g) in points.items():
        for s in range(seeds):
            rows.append({
                "seed": s, "data.source": "siblings", "data.params.n_families": 4,
                "data.seed": 0, "model.kind": "attn", "model.d_model": 32, "model.n_heads": 4,
                "train.max_steps": 1000, "mitigation.method": method,
                "mitigation.strength": strength, "n_artifacts@0.5": h + g + 2 * s,
                "hallucinations@0.5": h + s, "generalizations@0.5": g + s, "recall@0.5": 0.5,
                "test_accuracy": 0.25, "abstain_unobserved@0.5": 3 if method == "idk" else 0,
                "abstain_truth@0.5": 0, "abstain_train@0.5": 0, "train_accuracy": 1.0,
                "fit_accuracy": 1.0, "n_extra": 0, "steps": 1000, "stop_reason": "max_steps",
            })  # fmt: skip
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_pareto_front_on_known_points():
    pts = [(100, 10), (50, 8), (10, 2), (60, 5), (10, 1), (math.nan, 20)]
    assert pareto_front(pts) == [2, 1, 0]  # (60, 5) and (10, 1) are dominated, nan is out
    assert pareto_front([(5, 5), (5, 5)]) == [0, 1]  # equal points do not dominate each other


def test_summary_means_changes_and_front(tmp_path):
    summary = summarise(_write_csv(tmp_path / "mitigate.csv"))
    (ds,) = summary["datasets"]
    assert ds["dataset"] == "siblings" and ds["params"] == {"n_families": 4}
    assert ds["max_steps"] == [1000]
    labels = [(p["method"], p["strength"]) for p in ds["points"]]
    assert labels == [("none", 0.0), ("penalty", 1.0), ("penalty", 10.0), ("idk", 0.5)]
    none = ds["points"][0]
    assert none["n"] == 3 and none["hallucinations"]["mean"] == 101.0
    assert none["hallucinations"]["ci_low"] < 101 < none["hallucinations"]["ci_high"]
    assert none["generalizations"]["mean"] == 11.0 and none["artifacts"]["mean"] == 112.0
    assert ds["points"][3]["abstain_unobserved"]["mean"] == 3.0
    assert [p["on_front"] for p in ds["points"]] == [True, True, True, False]  # idk dominated
    assert ds["front"] == [{"method": "penalty", "strength": 10.0},
                           {"method": "penalty", "strength": 1.0},
                           {"method": "none", "strength": 0.0}]  # fmt: skip
    change = {(c["method"], c["strength"]): c for c in ds["changes"]}
    assert change["penalty", 1.0]["hallucinations_removed"]["mean"] == 50.0
    assert change["penalty", 1.0]["generalizations_lost"]["mean"] == 2.0
    # paired by seed: every seed moves both counts by the same amount, so no spread
    assert change["penalty", 1.0]["hallucinations_removed"]["ci_low"] == 50.0
    text = summary["text"]
    assert FRONT_RULE in text and "fixed budget of 1000 steps" in text
    assert "Pareto front (fewest hallucinations first): penalty 10, penalty 1, none" in text
    assert "idk 0.5 | 3 | 67 [" in text  # point, seeds, artifacts ...


def test_plot_writes_a_png(tmp_path):
    summary = summarise(_write_csv(tmp_path / "mitigate.csv"))
    png = plot(summary, tmp_path / "m.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
