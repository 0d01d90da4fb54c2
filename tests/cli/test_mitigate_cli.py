import csv
import json

import pytest
from user_errors import assert_user_error

#: a small world, two seeds, 30 steps: every method at two strengths in seconds
TINY = ("--data", "siblings", "-p", "n_families=4", "--quick", "--seeds", "2", "--steps", "30",
        "--workers", "1", "--quiet")  # fmt: skip


def test_mitigate_end_to_end_then_resume(cli, tmp_path):
    out = tmp_path / "m"
    res = cli("mitigate", *TINY, "--out", out, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    for name in ("mitigate.yaml", "mitigate.csv", "mitigate_summary.json", "mitigate_summary.txt",
                 "mitigate.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    assert (out / "mitigate").is_dir()  # the results store
    assert json.loads((out / "mitigate_summary.json").read_text()) == summary
    rows = list(csv.DictReader((out / "mitigate.csv").open()))
    assert len(rows) == 9 * 2
    assert [r["mitigation.method"] for r in rows[:2]] == ["none", "none"]
    assert {r["steps"] for r in rows} == {"30"} and {r["train.max_steps"] for r in rows} == {"30"}
    for r in rows:
        assert int(r["hallucinations@0.5"]) + int(r["generalizations@0.5"]) == int(
            r["n_artifacts@0.5"]
        )
    (ds,) = summary["datasets"]
    assert [p["method"] for p in ds["points"]][0] == "none" and len(ds["points"]) == 9
    assert ds["front"] and len(ds["changes"]) == 8
    unsupported = [r for r in rows if r["mitigation.method"] == "unsupported"]
    assert all(int(r["n_extra"]) > 0 for r in unsupported)
    assert "equal training" in (out / "mitigate_summary.txt").read_text()

    again = cli("mitigate", *TINY, "--out", out, "--json")  # resumed: nothing is retrained
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == summary
    assert [r["attempts"] for r in csv.DictReader((out / "mitigate.csv").open())] == ["1"] * 18

    other = cli("mitigate", *TINY, "--out", out, "--method", "idk")
    assert_user_error(other, "mitigate.yaml: holds a different mitigation sweep")


def test_progress_says_it_resumes(cli, tmp_path):
    out = tmp_path / "m"
    data = ("--data", "random", "-p", "V=6", "-p", "N=10")
    mitigation = ("--method", "unsupported", "--strengths", "0.5")
    args = ("mitigate", *data, *mitigation, "--seeds", "1", "--steps", "5", "--workers", "1")
    args = (*args, "--out", out)
    first = cli(*args)
    assert first.exit_code == 0, first.output
    assert "unsupported 0.5" in first.stdout
    second = cli(*args)
    assert second.exit_code == 0 and "resuming" in second.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--method", "lasso"),
         "--method: unknown method(s) lasso (choose from penalty, unsupported, contradict, idk"),
        (("--method", ","), "--method: is empty"),
        (("--strengths", "0.5"), "--strengths: needs a single --method, got 4"),
        (("--method", "idk", "--strengths", "0.5,lots"), "--strengths: 'lots' is not a number"),
        (("--method", "penalty", "--strengths", "-1"), "--strengths: must be finite numbers > 0"),
        (("--method", "idk", "--strengths", "2"),
         "--strengths: idk at strength 2: mitigation.strength: must be a finite number in [0, 1]"),
        (("--seeds", "0"), "--seeds: must be >= 1"),
        (("--steps", "0"), "--steps: must be >= 1"),
        (("--data-seed", "-1"), "--data-seed: must be >= 0"),
        (("--workers", "0"), "--workers: must be >= 1"),
        (("-p", "n_cats=2"), "world siblings has no parameter 'n_cats'"),
    ],
)  # fmt: skip
def test_bad_inputs_are_one_line(cli, tmp_path, args, words):
    res = cli("mitigate", "--data", "siblings", *args, "--out", tmp_path / "o", "--quiet")
    assert_user_error(res, words)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("data", "args", "words"),
    [
        ("atlantis", (), "--data: data.source: atlantis: is not a folder, a triple file"),
        ("nations", ("-p", "split=0.2"), "--param: knowledge graph nations has no parameter"),
        ("nations", ("-p", "relations=99"), "must be an integer in [0, 55]"),
        ("random", ("-p", "V=0"), "-p V: data.params.V: must be an integer >= 1, got 0"),
        ("random", ("-p", "k=3"), "random has no parameter 'k'"),
        ("random", ("-p", "V=6", "-p", "N=10", "--method", "penalty"),
         "--sample: penalty at strength 1: mitigation.sample: asks for 64 unobserved "
         "contexts per step, but there are only"),
    ],
)  # fmt: skip
def test_bad_data_is_one_line(cli, tmp_path, data, args, words):
    res = cli("mitigate", "--data", data, *args, "--quick", "--out", tmp_path / "o", "--quiet")
    assert_user_error(res, words)
    assert not (tmp_path / "o").exists()


def test_a_reserved_token_in_the_data_is_one_line(cli, tmp_path):
    path = tmp_path / "facts.tsv"
    path.write_text("".join(f"e{i}\tr\t{'[IDK]' if i == 3 else f'e{i + 1}'}\n" for i in range(20)))
    res = cli("mitigate", "--data", path, "--method", "idk", "--quick", "--out", tmp_path / "o")
    assert_user_error(res, "--method idk:", "already holds the reserved token '[IDK]'")


def test_a_different_sweep_file_in_out_is_refused(cli, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "mitigate.yaml").write_text("trial: mitigate\n")
    res = cli("mitigate", "--data", "siblings", "--quick", "--out", out, "--quiet")
    assert_user_error(res, "holds a different mitigation sweep", "choose another --out")
    assert (out / "mitigate.yaml").read_text() == "trial: mitigate\n"
    assert sorted(p.name for p in out.iterdir()) == ["mitigate.yaml"]


def test_model_option_and_methods_it_cannot_take(cli, tmp_path):
    out = tmp_path / "m"
    res = cli("mitigate", "--data", "siblings", "-p", "n_families=4", "--model", "ngram",
              "--method", "penalty", "--quick", "--out", out, "--quiet")  # fmt: skip
    assert_user_error(res, "the ngram model is fitted by counting")
    assert_user_error(cli("mitigate", "--data", "siblings", "--model", "gpt9", "--out", out),
                      "--model: unknown model 'gpt9'")  # fmt: skip
    assert_user_error(cli("mitigate", "--data", "siblings", "--sample", "0", "--out", out),
                      "--sample")  # fmt: skip
    assert not out.exists()
    res = cli("mitigate", "--data", "siblings", "-p", "n_families=4", "--model", "ngram",
              "--method", "unsupported", "--quick", "--seeds", "2", "--out", out, "--quiet",
              "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((out / "mitigate.csv").open()))
    assert {r["model.kind"] for r in rows} == {"ngram"}
    assert {r["stop_reason"] for r in rows} == {"closed_form"}
