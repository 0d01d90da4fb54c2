import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from artifactlab.experiments.store import DB_NAME, ResultsStore

TINY = """\
trial: toy-artifacts
base:
  data: {V: 8, N: 12}
  model: {d_model: 8, n_heads: 2}
  train: {max_steps: 60}
grid:
  model.d_model: [8, 16]
seeds: 2
"""
#: columns that differ between two runs of the same trials
VOLATILE = {"train_seconds", "eval_seconds", "attempts", "version", "git_revision"}


def sweep_file(tmp_path: Path, text: str = TINY, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def table(text: str) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in VOLATILE}
        for row in csv.DictReader(io.StringIO(text))
    ]


def one_line_error(res) -> str:
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    return lines[0]


def test_run_status_export_and_rerun(cli, tmp_path):
    path = sweep_file(tmp_path)
    res = cli("sweep", "run", path, "--quiet", "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert (summary["total"], summary["done"], summary["failed"]) == (4, 4, 0)
    assert summary["store"] == str(tmp_path / "s")

    status = json.loads(cli("sweep", "status", path, "--json").stdout)
    assert (status["done"], status["pending"], status["failed"]) == (4, 0, 0)

    exported = cli("sweep", "export", path)
    assert exported.exit_code == 0, exported.output
    rows = table(exported.stdout)
    assert [r["trial"] for r in rows] == ["0", "1", "2", "3"]
    assert [(r["model.d_model"], r["seed"]) for r in rows] == [
        ("8", "0"),
        ("8", "1"),
        ("16", "0"),
        ("16", "1"),
    ]
    assert {"n_artifacts@0.5", "ratio@0.5", "steps", "data.N"} <= set(rows[0])
    for row in rows:
        run_dir = tmp_path / "s" / "trials" / row["hash"]
        assert (run_dir / "model.safetensors").is_file()
        assert json.loads((run_dir / "config.json").read_text())["trial"]["seed"] == int(
            row["seed"]
        )

    again = json.loads(cli("sweep", "run", path, "--quiet", "--json").stdout)
    assert (again["skipped"], again["ran"]) == (4, 0)
    assert table(cli("sweep", "export", path).stdout) == rows
    count = sqlite3.connect(tmp_path / "s" / DB_NAME).execute("SELECT COUNT(*) FROM trials")
    assert count.fetchone()[0] == 4


def test_export_files_csv_and_parquet(cli, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = sweep_file(tmp_path, TINY.replace("seeds: 2", "seeds: 1"))
    assert cli("sweep", "run", path, "--quiet").exit_code == 0
    assert cli("sweep", "export", path, "--out", tmp_path / "t.csv").exit_code == 0
    res = cli("sweep", "export", path, "--format", "parquet", "--out", tmp_path / "t.parquet")
    assert res.exit_code == 0, res.output
    from_csv = table((tmp_path / "t.csv").read_text())
    from_parquet = pq.read_table(tmp_path / "t.parquet").to_pylist()
    assert len(from_parquet) == len(from_csv) == 2
    assert [r["n_artifacts@0.5"] for r in from_parquet] == [
        int(r["n_artifacts@0.5"]) for r in from_csv
    ]


def test_store_option_and_metric_selection(cli, tmp_path):
    path = sweep_file(tmp_path, TINY + "metrics: [n_artifacts, steps]\n")
    store = tmp_path / "elsewhere"
    assert cli("sweep", "run", path, "--store", store, "--quiet").exit_code == 0
    assert not (tmp_path / "s").exists() and (store / DB_NAME).is_file()
    assert cli("sweep", "export", path).stdout == ""  # the default store is empty
    rows = table(cli("sweep", "export", path, "--store", store).stdout)
    sections = ("data.", "model.", "train.", "eval.")
    metric_columns = {k for k in rows[0] if not k.startswith(sections)} - {"trial", "hash", "seed"}
    assert metric_columns == {"n_artifacts@0.5", "steps"}


def test_failures_are_reported_and_the_sweep_goes_on(cli, tmp_path):
    # 64 contexts but at most 10 may be enumerated: those trials fail inside the run
    text = TINY.replace("seeds: 2", "seeds: 1") + "cases:\n  - {eval.max_contexts: 10}\n  - {}\n"
    path = sweep_file(tmp_path, text)
    res = cli("sweep", "run", path, "--quiet", "--json")
    assert res.exit_code == 1, res.output
    summary = json.loads(res.stdout)
    assert (summary["failed"], summary["done"]) == (2, 2)
    assert "failed (model.d_model=8, eval.max_contexts=10, seed=0)" in res.stderr
    assert "trial 0 [" in res.stderr
    assert "InputError" in res.stderr and "Traceback" not in res.stderr
    status = json.loads(cli("sweep", "status", path, "--json").stdout)
    assert (status["failed"], status["done"]) == (2, 2)
    assert "max_contexts" in status["failed_trials"][0]["error"][0] or status["failed_trials"]

    fresh = sweep_file(tmp_path, text, "f.yaml")
    res = cli("sweep", "run", fresh, "--quiet", "--json", "--fail-fast")
    assert res.exit_code == 1
    stopped = json.loads(res.stdout)
    # the first batch (both d_model=8 trials, trained together) is recorded, then it stops
    assert stopped["stopped_early"] and stopped["ran"] == 2 and stopped["failed"] == 1


def test_processes_backend_gives_the_local_table(cli, tmp_path):
    local = sweep_file(tmp_path, name="local.yaml")
    procs = sweep_file(tmp_path, name="procs.yaml")
    assert cli("sweep", "run", local, "--quiet").exit_code == 0
    res = cli("sweep", "run", procs, "--backend", "processes", "--workers", "2", "--quiet")
    assert res.exit_code == 0, res.output
    assert table(cli("sweep", "export", procs).stdout) == table(
        cli("sweep", "export", local).stdout
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--max-trials", "3"), "expands to 4 trials, more than --max-trials 3"),
        (("--max-trials", "0"), "--max-trials: must be >= 1"),
        (("--workers", "0"), "--workers: must be >= 1"),
        (("--address", "ray://x:1"), "only applies to --backend ray"),
    ],
)
def test_bad_options(cli, tmp_path, args, words):
    assert words in one_line_error(cli("sweep", "run", sweep_file(tmp_path), *args))
    assert not (tmp_path / "s" / DB_NAME).exists() or "--workers" in words


def test_bad_files_and_stores(cli, tmp_path):
    bad = sweep_file(tmp_path, "trial: toy-artifacts\nbase: {data: {V: 8, N: 10}\n", "bad.yaml")
    for command in ("run", "status", "export"):
        message = one_line_error(cli("sweep", command, bad))
        assert "bad.yaml:" in message and "malformed YAML" in message
    assert not (tmp_path / "bad").exists()

    path = sweep_file(tmp_path)
    ResultsStore.open(tmp_path / "s").close()
    conn = sqlite3.connect(tmp_path / "s" / DB_NAME)
    with conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='store_format'")
    conn.close()
    for command in ("run", "status", "export"):
        assert "store format 99" in one_line_error(cli("sweep", command, path))

    other = sweep_file(tmp_path, name="o.yaml")
    holder = ResultsStore.open(tmp_path / "o")
    try:
        assert "locked by another running sweep" in one_line_error(cli("sweep", "run", other))
    finally:
        holder.close()
    assert "not found" in one_line_error(cli("sweep", "run", tmp_path / "missing.yaml"))
    message = one_line_error(cli("sweep", "export", path, "--out", tmp_path / "no" / "t.csv"))
    assert "folder does not exist" in message
