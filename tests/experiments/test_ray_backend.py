"""The Ray backend on a local Ray instance (2 CPUs) started by the tests.

A sweep run on Ray gives the local backend's table, cell for cell (apart from the
columns that record when and how often a trial ran). A Ray worker that dies fails
its own batch only: the test registers a trial kind whose batches kill their worker
process with ``os._exit``, in the driver by monkeypatching the registry and in every
Ray worker through Ray's ``worker_process_setup_hook`` (workers import artifactlab
afresh, so a registration made only in the driver would not reach them).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import crasher_kind
import pytest
from crasher_kind import CRASHER, register_crasher

from artifactlab.experiments.registry import TRIAL_KINDS
from artifactlab.experiments.runner import run_sweep
from artifactlab.experiments.store import ResultsStore
from artifactlab.experiments.sweep_file import Sweep, load_sweep
from artifactlab.experiments.table import sweep_rows, write_table

ray = pytest.importorskip("ray")

TOY = """\
trial: toy-artifacts
base:
  data: {{V: 8, N: 12}}
  model: {{d_model: 8, n_heads: 2}}
  train: {{max_steps: 60}}
grid:
  model.d_model: [8, 16]
seeds: 3
batch: {batch}
max_batch: 2
"""
#: columns that differ between two runs of the same trials (when, how often, by which build)
VOLATILE = {"train_seconds", "eval_seconds", "attempts", "version", "git_revision"}


CRASHING = """\
trial: test-crasher
cases:
  - {group: 0}
  - {group: 1, crash: true}
  - {group: 2}
seeds: 2
"""


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance with 2 CPUs, for the whole module."""
    if ray.is_initialized():  # another module left one running, without the hook
        ray.shutdown()
    # by value: the workers cannot import this test module by name
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.cloudpickle.register_pickle_by_value(crasher_kind)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"worker_process_setup_hook": register_crasher},
    )
    yield
    ray.shutdown()
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    ray.cloudpickle.unregister_pickle_by_value(crasher_kind)


def write_sweep(folder: Path, text: str) -> Path:
    folder.mkdir()
    path = folder / "s.yaml"
    path.write_text(text)
    return path


def stable_table(sweep: Sweep, store: ResultsStore) -> tuple[list[str], list[list[str]]]:
    """The sweep's CSV table as text cells, without the volatile columns."""
    text = write_table(sweep_rows(sweep, store), "csv", None).decode()
    header, *rows = csv.reader(io.StringIO(text))
    keep = [i for i, name in enumerate(header) if name not in VOLATILE]
    return [header[i] for i in keep], [[row[i] for i in keep] for row in rows]


# --- tests --------------------------------------------------------------------------------


@pytest.mark.slow  # a second Ray start-up: ~12 s here, over a minute on a busy machine
def test_cli_starts_and_stops_its_own_ray(cli, tmp_path):
    # first in the file, before the module's Ray instance exists: the command starts one
    started_before = ray.is_initialized()
    text = TOY.format(batch="false").replace("seeds: 3", "seeds: 1")
    path = write_sweep(tmp_path / "cli", text)
    res = cli("sweep", "run", path, "--backend", "ray", "--workers", 1, "--quiet", "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert (summary["total"], summary["done"], summary["failed"]) == (2, 2, 0)
    status = json.loads(cli("sweep", "status", path, "--json").stdout)
    assert (status["done"], status["pending"]) == (2, 0)
    assert ray.is_initialized() == started_before  # a Ray it started, it stopped


@pytest.mark.parametrize("batch", [False, True], ids=["one-by-one", "batched"])
def test_ray_gives_the_local_table(local_ray, tmp_path, batch):
    tables = {}
    for backend in ("local", "ray"):
        sweep = load_sweep(write_sweep(tmp_path / backend, TOY.format(batch=str(batch).lower())))
        with ResultsStore.open(sweep.default_store) as store:
            summary = run_sweep(sweep, store, backend=backend, workers=2)
            assert (summary.done, summary.failed) == (len(sweep.trials), 0), summary
            tables[backend] = stable_table(sweep, store)
            assert store.integrity_check() == "ok"
    header, rows = tables["local"]
    assert len(rows) == 6 and "n_artifacts@0.5" in header
    assert tables["ray"] == tables["local"]


def test_a_dead_worker_fails_its_own_batch_only(local_ray, tmp_path, monkeypatch):
    monkeypatch.setitem(TRIAL_KINDS, CRASHER.name, CRASHER)
    sweep = load_sweep(write_sweep(tmp_path / "crash", CRASHING))
    assert sweep.groups == [[0, 1], [2, 3], [4, 5]]
    events = []
    with ResultsStore.open(sweep.default_store) as store:
        summary = run_sweep(
            sweep, store, backend="ray", workers=2, on_event=lambda e, t, _: events.append(e)
        )
        rows = {r["idx"]: r for r in store.rows()}
    assert (summary.done, summary.failed, summary.stopped_early) == (4, 2, False)
    assert sorted(f["index"] for f in summary.failures) == [2, 3]
    for failure in summary.failures:
        assert failure["error"].startswith("Ray task failed") and "died" in failure["error"]
    assert {i: r["status"] for i, r in rows.items()} == {
        0: "done",
        1: "done",
        2: "failed",
        3: "failed",
        4: "done",
        5: "done",
    }
    assert [rows[i]["metrics"]["value"] for i in (0, 1, 4, 5)] == [0, 1, 20, 21]
    assert events.count("start") == 3 and events.count("failed") == 2

    # the next run retries the failed batch only (which dies again)
    with ResultsStore.open(sweep.default_store) as store:
        again = run_sweep(sweep, store, backend="ray", workers=2)
        attempts = [r["attempts"] for r in store.rows()]
    assert (again.skipped, again.ran, again.failed) == (4, 2, 2)
    assert attempts == [1, 1, 2, 2, 1, 1]
