import csv
import json
import time
from pathlib import Path

import pytest
from user_errors import assert_user_error

from artifactlab.experiments.claim_panels import CLAIMS, PANELS, sweep_path, sweep_yaml
from artifactlab.experiments.claim_trial import CLAIM_TRUTH, loss_floor, random_holdout
from artifactlab.experiments.claims import parse_claims, summarise
from artifactlab.experiments.kinds import SectionError
from artifactlab.report.claims_doc import render_page
from artifactlab.report.verdicts import RULE, VERDICTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("quick", [False, True])
@pytest.mark.parametrize("claim", CLAIMS)
def test_shipped_sweep_files_are_the_ones_the_panels_describe(claim, quick):
    # edit PANELS, then artifactlab.experiments.claims.write_sweeps()
    assert sweep_path(claim, quick).read_text() == sweep_yaml(claim, quick)


def test_every_point_has_five_seeds_and_every_panel_a_text():
    for claim in CLAIMS:
        assert f"seeds: {5}" in sweep_yaml(claim)
        assert all(len(p.text) > 40 for p in PANELS[claim])


def test_parse_claims():
    assert parse_claims("all") == ["a", "b", "c", "d"]
    assert parse_claims("b") == ["b"]


def _rows(artifact_of_tol):
    """Claim (a) rows of a1-random: artifacts as a function of the loss tolerance, 5 seeds."""
    panel = PANELS["a"][0]
    rows = []
    for tol in panel.values:
        for seed in range(5):
            rows.append({
                "seed": str(seed), "data.source": "random", "data.params.V": "24",
                "data.params.N": "80", "data.params.holdout": "0.25",
                "train.loss_tol": str(tol), "train.weight_decay": "0.0",
                "model.d_model": "32", "train.max_steps": "10000",
                "n_artifacts@0.5": str(artifact_of_tol(tol) + seed), "test_accuracy": "0.1",
                "recall@0.5": "0.1", "train_loss": "0.001", "stop_reason": "loss_tol",
            })  # fmt: skip
    return rows


@pytest.mark.parametrize(
    ("artifacts", "verdict"),
    [(lambda tol: int(1000 * tol), "supported"), (lambda tol: int(-1000 * tol), "contradicted")],
)
def test_verdict_follows_the_csv(tmp_path, artifacts, verdict):
    path = tmp_path / "claim-a.csv"
    rows = _rows(artifacts)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary = summarise("a", path, quick=False)
    panels = {p["id"]: p for p in summary["panels"]}
    assert sorted(panels) == ["a1-random", "a2-random", "a3-random"]  # the base point is shared
    assert [pt["point"] for pt in panels["a2-random"]["points"]] == ["0"]
    panel = panels["a1-random"]
    assert [pt["n"] for pt in panel["points"]] == [5, 5, 5, 5]
    assert panel["verdicts"][0]["verdict"] == verdict
    assert RULE in summary["text"] and "training past zero training error" in summary["text"]


def test_random_holdout_split_and_loss_floor():
    ds = random_holdout(V=8, N=20, holdout=0.25, seed=3)
    assert len(ds.train.tuples) == 15 and len(ds.test) == 5
    assert (ds.truth == ds.test).all()
    train_ctx = {tuple(t[:2]) for t in ds.train.tuples.tolist()}
    assert not train_ctx & {tuple(t[:2]) for t in ds.test.tolist()}  # held-out contexts
    import numpy as np

    assert loss_floor(np.array([[0, 0, 1], [0, 0, 2], [1, 1, 1]])) == pytest.approx(
        2 / 3 * np.log(2)
    )


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"source": "random", "params": {"holdout": 1.5}}, "data.params.holdout"),
        ({"source": "random", "params": {"V": 0}}, "data.params.V"),
        ({"source": "random", "params": {"k": 2}}, "data.params"),
    ],
)
def test_bad_random_data_is_refused(data, where):
    with pytest.raises(SectionError) as err:
        CLAIM_TRUTH.validate({"seed": 0, "data": data})
    assert str(err.value).startswith(where)


def test_unknown_claim_is_one_line_and_exit_2(cli, tmp_path):
    assert_user_error(cli("claims", "e", "--out", tmp_path / "x"), "unknown claim 'e'")


def test_workers_zero_and_file_out_are_refused(cli, tmp_path):
    assert_user_error(cli("claims", "a", "--out", tmp_path / "x", "--workers", "0"), "--workers")
    file = tmp_path / "f"
    file.write_text("")
    assert_user_error(cli("claims", "a", "--out", file), "is a file")


def test_claims_all_quick_writes_every_output(cli, tmp_path):
    out = tmp_path / "claims"
    start = time.perf_counter()
    res = cli("claims", "all", "--quick", "--out", out, "--workers", "2", "--quiet", "--json")
    elapsed = time.perf_counter() - start
    assert res.exit_code == 0, res.output
    assert elapsed < 180, f"claims all --quick took {elapsed:.0f} s, over its 3-minute budget"
    result = json.loads(res.stdout)["claims"]
    for claim in CLAIMS:
        for name in (".yaml", ".csv", "_summary.json", "_summary.txt", ".png"):
            assert (out / f"claim-{claim}{name}").stat().st_size > 0
        summary = json.loads((out / f"claim-{claim}_summary.json").read_text())
        assert summary == json.loads(json.dumps(result[claim]))
        for panel in summary["panels"]:
            assert panel["operationalisation"]
            assert all(pt["n"] >= 5 for pt in panel["points"])
            assert all(v["verdict"] in VERDICTS and v["rule"] == RULE for v in panel["verdicts"])
    rows = list(csv.DictReader((out / "claim-c.csv").open()))
    assert all(r["rank_gap"] != "" for r in rows)
    assert "claim (a)" in render_page(out)


def test_docs_page_is_what_the_committed_results_render():
    folder = ROOT / "docs" / "figures" / "claims"
    page = render_page(folder, shown="docs/figures/claims")
    assert (ROOT / "docs" / "claims.md").read_text() == page
