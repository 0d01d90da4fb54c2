"""End-to-end CLI paths and every bad-input case of issue 2 (one line, exit code 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from user_errors import assert_user_error


def test_make_data_random_is_seeded(cli, tmp_path):
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    for path in (a, b):
        assert (
            cli(
                "make-data", "random", "--vocab", 10, "--triples", 30, "--seed", 3, "--out", path
            ).exit_code
            == 0
        )
    assert a.read_text() == b.read_text()
    assert len(a.read_text().splitlines()) == 30


def test_train_writes_run_folder(tiny_run):
    names = {p.name for p in tiny_run.iterdir()}
    assert {
        "model.safetensors",
        "config.json",
        "vocab.json",
        "train_log.json",
        "train.tsv",
    } <= names
    assert not [n for n in names if n.endswith((".pt", ".pkl", ".pth", ".bin"))]
    config = json.loads((tiny_run / "config.json").read_text())
    assert config["result"]["stop_reason"] in {"accuracy", "loss_tol", "max_steps"}
    assert config["provenance"]["version"]


def test_artifacts_json_fields(cli, tiny_run):
    res = cli("artifacts", tiny_run, "--json", "--quiet")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for key in ("n_train", "n_contexts", "tau", "n_artifacts", "ratio", "consistency"):
        assert key in data
    assert data["n_contexts"] == 12**2
    assert data["tau"] == 0.5
    assert data["ratio"] == pytest.approx(data["n_artifacts"] / data["n_train"])
    assert data["consistency"]["train_accuracy"] == 1.0


def test_artifacts_several_taus_and_text(cli, tiny_run):
    res = cli("artifacts", tiny_run, "--tau", 0.3, "--tau", 0.9, "--json", "--quiet")
    data = json.loads(res.stdout)
    assert set(data["n_artifacts"]) == {"0.3", "0.9"}
    assert data["n_artifacts"]["0.3"] >= data["n_artifacts"]["0.9"]
    text = cli("artifacts", tiny_run, "--quiet")
    assert text.exit_code == 0 and "train accuracy" in text.stdout


def test_reproduce_tiny_writes_csv_png_summary(cli, tmp_path):
    res = cli("reproduce", "fig3", "--scale", "tiny", "--out", tmp_path, "--quiet", "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["claims"]["more_params_fewer_artifacts"]["verdict"] in {
        "supported",
        "contradicted",
        "inconclusive",
    }
    for name in ("fig3.csv", "fig3.png", "fig3_summary.txt", "fig3_summary.json"):
        assert (tmp_path / name).stat().st_size > 0
    rows = (tmp_path / "fig3.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 3  # header + 2 model sizes x 3 seeds


# --- bad input: one test per case -------------------------------------------------------------


def test_wrong_arity_names_file_and_line(cli, tmp_path):
    data = tmp_path / "bad.tsv"
    data.write_text("# header\na b c\n\nd e\n")
    res = cli("train", "--data", data, "--out", tmp_path / "run")
    assert_user_error(res, str(data), ":4", "2 fields", "expected 3")
    assert not (tmp_path / "run").exists()


def test_empty_file(cli, tmp_path):
    data = tmp_path / "empty.tsv"
    data.write_text("# only a comment\n\n")
    assert_user_error(
        cli("train", "--data", data, "--out", tmp_path / "run"), str(data), "no tuples"
    )


def test_missing_file(cli, tmp_path):
    missing = tmp_path / "nope.tsv"
    assert_user_error(
        cli("train", "--data", missing, "--out", tmp_path / "run"), str(missing), "no such file"
    )


def test_model_config_that_cannot_be_built(cli, tmp_path):
    data = tmp_path / "ok.tsv"
    data.write_text("a b c\n")
    res = cli("train", "--data", data, "--out", tmp_path / "run", "--d-model", 10, "--n-heads", 4)
    assert_user_error(res, "d_model=10", "n_heads=4")
    assert not (tmp_path / "run").exists()


def test_too_many_contexts_says_how_many(cli, tiny_run):
    res = cli("artifacts", tiny_run, "--max-contexts", 100)
    assert_user_error(res, "144 contexts", "too many")


def test_bad_tau(cli, tiny_run):
    assert_user_error(cli("artifacts", tiny_run, "--tau", 1.5, "--quiet"), "--tau")


def test_not_a_run_folder(cli, tmp_path):
    assert_user_error(cli("artifacts", tmp_path), "not a run folder")


def test_out_folder_not_empty(cli, tiny_run, tmp_path):
    data = tiny_run / "train.tsv"
    assert_user_error(cli("train", "--data", data, "--out", tiny_run), "not empty")


def test_console_script_has_no_traceback(tmp_path):
    """The installed entry point: exit code 2 and one line, no traceback."""
    missing = tmp_path / "missing.tsv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "artifactlab",
            "train",
            "--data",
            str(missing),
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert str(missing) in proc.stderr


def test_reproduce_resumes_and_rows_do_not_depend_on_workers(cli, tmp_path):
    import csv

    def table(folder):
        volatile = {"train_seconds", "eval_seconds", "attempts", "version", "git_revision"}
        rows = csv.DictReader((folder / "fig2.csv").open())
        return [{k: v for k, v in r.items() if k not in volatile} for r in rows]

    one, two = tmp_path / "one", tmp_path / "two"
    args = ("reproduce", "fig2", "--scale", "tiny", "--seeds", "2", "--quiet", "--json")
    assert cli(*args, "--out", one, "--workers", "1").exit_code == 0
    assert cli(*args, "--out", two, "--workers", "2").exit_code == 0
    assert table(one) == table(two) and len(table(one)) == 2 * 2
    assert "seeds: 2  # set by --seeds" in (one / "fig2.yaml").read_text()
    again = cli(*args, "--out", one, "--workers", "1")  # everything is already in the store
    assert again.exit_code == 0 and table(one) == table(two)


def test_dense_dump_only_when_small(cli, tiny_run, tmp_path):
    from safetensors.torch import load_file

    out = tmp_path / "completion.safetensors"
    assert cli("artifacts", tiny_run, "--dense", out, "--quiet").exit_code == 0
    probs = load_file(out)["completion"]
    assert probs.shape == (12, 12, 12)
    assert probs.sum(-1).sub(1).abs().max() < 1e-5


def test_export_cli_round_trip(cli, tiny_run, tmp_path):
    out = tmp_path / "tl"
    assert cli("export", tiny_run, "--format", "transformer-lens", "--out", out).exit_code == 0
    assert {"model.safetensors", "config.json", "vocab.json"} <= {p.name for p in out.iterdir()}


def test_render_only_rebuilds_from_csv_without_training(cli, tmp_path):
    assert cli("reproduce", "fig2", "--scale", "tiny", "--out", tmp_path, "--quiet").exit_code == 0
    (tmp_path / "fig2.png").unlink()
    csv_before = (tmp_path / "fig2.csv").read_text()
    res = cli("reproduce", "fig2", "--out", tmp_path, "--render-only", "--json")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "fig2.png").stat().st_size > 0
    assert (tmp_path / "fig2.csv").read_text() == csv_before
    assert json.loads(res.stdout)["claims"]["ratio_5_to_20"]["trials"] == 6


def test_render_only_without_csv(cli, tmp_path):
    assert_user_error(cli("reproduce", "fig3", "--out", tmp_path, "--render-only"), "fig3.csv")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--data", "x.tsv", "--out", "r", "--d-model", "abc"], "--d-model"),
        (["train", "--bogus"], "--bogus"),
        (["train"], "--data"),
        (["no-such-command"], "no-such-command"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(argv, needle, capsys):
    from artifactlab.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and needle in err


def test_ls_trials_lists_the_registered_trial_kinds(cli):
    from artifactlab.experiments.registry import TRIAL_KINDS

    res = cli("ls", "trials")
    assert res.exit_code == 0
    assert [line.split("\t")[0] for line in res.stdout.splitlines()] == list(TRIAL_KINDS)


@pytest.mark.parametrize("name", ["ngram", "cp", "distmult", "rescal", "complex"])
def test_train_any_registered_model(cli, tmp_path, name):
    data = tmp_path / "t.txt"
    data.write_text("a r b\nb r c\nc s a\n")
    options = ["--rank", 4] if name != "ngram" else []
    res = cli("train", "--data", data, "--out", tmp_path / name, "--model", name, *options,
              "--quiet", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["accuracy"] == 1.0
    config = json.loads((tmp_path / name / "config.json").read_text())
    assert config["model_name"] == name
    counted = cli("artifacts", tmp_path / name, "--quiet", "--json")
    assert counted.exit_code == 0 and json.loads(counted.stdout)["n_train"] == 3


def test_train_unknown_model(cli, tmp_path):
    data = tmp_path / "t.txt"
    data.write_text("a r b\n")
    res = cli("train", "--data", data, "--out", tmp_path / "x", "--model", "lstm")
    assert_user_error(res, "--model", "unknown model 'lstm'")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "name,option",
    [("ngram", ["--rank", "4"]), ("cp", ["--d-model", "8"]), ("attn", ["--smoothing", "0.1"]),
     ("attn-mlp", ["--mlp"]), ("distmult", ["--layer-norm"])],
)  # fmt: skip
def test_train_refuses_an_option_the_model_does_not_take(cli, tmp_path, name, option):
    data = tmp_path / "t.txt"
    data.write_text("a r b\nb r c\nc s a\n")
    res = cli("train", "--data", data, "--out", tmp_path / "run", "--model", name, *option)
    assert_user_error(res, option[0], name)
    assert not (tmp_path / "run").exists()


def test_train_attn_mlp_is_the_transformer_with_its_mlp(cli, tmp_path):
    data = tmp_path / "t.txt"
    data.write_text("a r b\nb r c\nc s a\n")
    res = cli("train", "--data", data, "--out", tmp_path / "run", "--model", "attn-mlp",
              "--d-model", 8, "--n-heads", 2, "--max-steps", 5, "--quiet", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model_name"] == "attn" and config["model"]["mlp"] is True
    info = json.loads(res.stdout)
    assert info["params_non_embedding"] < info["params_total"]


def test_ls_models_json_lists_every_name_train_and_compare_accept(cli, tmp_path):
    from artifactlab.experiments.compare import DEFAULT_MODELS, parse_models

    res = cli("ls", "models", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    names = [r["name"] for r in rows]
    assert "attn-mlp" in names and set(DEFAULT_MODELS) <= set(names)
    assert parse_models(",".join(names)) == names
    assert all(r["description"] for r in rows)
    for ls in ("trials", "worlds"):
        out = cli("ls", ls, "--json")
        assert out.exit_code == 0 and json.loads(out.stdout)


def test_non_embedding_parameters_are_printed_only_for_models_with_embeddings(cli, tmp_path):
    data = tmp_path / "t.txt"
    data.write_text("a r b\nb r c\nc s a\n")
    cp = cli("train", "--data", data, "--out", tmp_path / "cp", "--model", "cp", "--quiet")
    attn = cli("train", "--data", data, "--out", tmp_path / "attn", "--quiet", "--d-model", 8,
               "--n-heads", 2, "--max-steps", 5)  # fmt: skip
    assert "non-embedding" not in cp.stdout and "all weights" in cp.stdout
    assert "non-embedding parameters" in attn.stdout and "in all" in attn.stdout
