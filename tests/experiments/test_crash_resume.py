"""Crash safety of ``artifactlab sweep run``: SIGKILL at random moments, resume, same table.

The sweep runs in a child process (``python -m artifactlab sweep run``), which the
test kills with SIGKILL several times: once at a random moment of its life (often
while it is still starting up) and the other times in the middle of a batch, a
random fraction of a batch's time after the store shows a newly finished trial.
A last run finishes the sweep; its exported table must equal the table of an
uninterrupted run, cell for cell, apart from the columns that record when, how
often and by which build a trial ran. Both with one trial per batch and with
batched training, where a killed batch is rerun whole.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from artifactlab.experiments.store import DB_NAME, ResultsStore
from artifactlab.experiments.sweep_file import load_sweep

SWEEP = """\
trial: toy-artifacts
base:
  data: {{V: 8, N: 12}}
  model: {{d_model: 8, n_heads: 2}}
  train: {{max_steps: 60}}
grid:
  model.d_model: [8, 16]
  data.N: [10, 12]
seeds: 5
batch: {batch}
max_batch: 2
"""
#: trials in the sweep; batched, they run in 12 batches of 1 or 2
TOTAL = 20
#: columns that differ between two runs of the same trials (when, how often, by which build)
VOLATILE = {"train_seconds", "eval_seconds", "attempts", "version", "git_revision"}
#: the seed of the kill moments; the moments themselves still depend on the machine's speed
KILL_SEED = 20240611
MID_BATCH_KILLS = 2
#: a child that neither finishes a trial nor exits in this long is stuck
STUCK_SECONDS = 120


def write_sweep(folder: Path, batch: bool = False) -> Path:
    folder.mkdir()
    path = folder / "s.yaml"
    path.write_text(SWEEP.format(batch=str(batch).lower()))
    return path


def stable_table(cli, path: Path) -> tuple[list[str], list[list[str]]]:
    """The exported CSV as text cells, without the volatile columns."""
    out = path.with_suffix(".csv")
    res = cli("sweep", "export", path, "--format", "csv", "--out", out)
    assert res.exit_code == 0, res.output
    header, *rows = csv.reader(io.StringIO(out.read_text()))
    keep = [i for i, name in enumerate(header) if name not in VOLATILE]
    return [header[i] for i in keep], [[row[i] for i in keep] for row in rows]


def query(db: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` through a read-only connection; none before the store's tables exist."""
    if not db.is_file():
        return []
    try:
        with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):  # the child was killed before it created them
            return []
        raise


def count_done(db: Path) -> int:
    """Finished trials in the store."""
    return len(query(db, "SELECT hash FROM trials WHERE status = 'done'"))


def killed_attempts(db: Path) -> set[tuple[str, int]]:
    """(hash, attempt) of every trial left marked running by a killed run."""
    return set(query(db, "SELECT hash, attempts FROM trials WHERE status = 'running'"))


def start_sweep(path: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "artifactlab", "sweep", "run", str(path), "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def wait_for_done(proc: subprocess.Popen, db: Path, target: int, log: Path) -> None:
    """Poll until the store has ``target`` finished trials; fail if the child exits first."""
    deadline = time.monotonic() + STUCK_SECONDS
    while True:
        try:
            if count_done(db) >= target:
                return
        except sqlite3.OperationalError:  # e.g. busy while the child recovers the log
            pass
        assert proc.poll() is None, f"sweep exited with {proc.returncode}: {log.read_text()}"
        assert time.monotonic() < deadline, f"no progress to {target} trials: {log.read_text()}"
        time.sleep(0.01)


def wait_for_lock(proc: subprocess.Popen, store: Path, log: Path) -> None:
    """Poll until the child holds the store's lock (its pid is in the lock file)."""
    start, lock = time.monotonic(), store / ".lock"
    while not lock.is_file() or lock.read_text() != str(proc.pid):
        assert proc.poll() is None, f"sweep exited with {proc.returncode}: {log.read_text()}"
        assert time.monotonic() < start + STUCK_SECONDS, f"no lock taken: {log.read_text()}"
        time.sleep(0.01)


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def seconds_per_batch(path: Path) -> float:
    """Mean seconds of one batch of the sweep (one trial when it does not batch)."""
    sweep = load_sweep(path)
    with ResultsStore.read(sweep.default_store) as results:
        rows = results.rows(status="done")
    return sum(sum(r["timings"].values()) for r in rows) / len(sweep.groups)


@pytest.mark.parametrize("batch", [False, True], ids=["one-by-one", "batched"])
def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_table(cli, tmp_path, batch):
    rng = random.Random(KILL_SEED)
    reference = write_sweep(tmp_path / "reference", batch)
    res = cli("sweep", "run", reference, "--quiet")
    assert res.exit_code == 0, res.output
    batch_seconds = seconds_per_batch(reference)

    path = write_sweep(tmp_path / "killed", batch)
    store = path.parent / "s"
    db, log = store / DB_NAME, tmp_path / "stderr.txt"
    # the "anywhere" kill comes second, so that it may also hit a reopening of the store
    plan = ["mid-batch", "anywhere"] + ["mid-batch"] * (MID_BATCH_KILLS - 1)
    first_progress = None  # seconds from spawning a child to its first finished batch
    interrupted: set[tuple[str, int]] = set()  # attempts that a kill cut short
    for when in plan:
        done = count_done(db)
        # each kill lets at most ~2 batches finish: at least one batch is left to cut short
        assert done <= TOTAL - 6, f"the kills came too late to land mid-sweep ({done} done)"
        spawned = time.monotonic()
        proc = start_sweep(path, log)
        try:
            if when == "anywhere":
                # from interpreter start-up to about the end of the first batch
                time.sleep(rng.uniform(0.0, first_progress))
            else:
                wait_for_lock(proc, store, log)
                wait_for_done(proc, db, done + 1, log)
                first_progress = first_progress or time.monotonic() - spawned
                # into the next batch, which this kill then cuts short
                time.sleep(rng.uniform(0.0, 1.0) * batch_seconds)
        finally:
            kill(proc)
        assert proc.returncode == -signal.SIGKILL, f"exited by itself: {log.read_text()}"
        interrupted |= killed_attempts(db)
    assert 0 < count_done(db) < TOTAL
    assert interrupted, "no kill landed in the middle of a batch"

    # the last restart runs in this process: a fresh interpreter would only cost time
    final = cli("sweep", "run", path, "--quiet", "--json")
    assert final.exit_code == 0, final.output
    summary = json.loads(final.stdout)
    assert summary["done"] + summary["skipped"] == TOTAL and summary["failed"] == 0

    assert stable_table(cli, path) == stable_table(cli, reference)
    status = json.loads(cli("sweep", "status", path, "--json").stdout)
    assert (status["done"], status["failed"], status["running"], status["pending"]) == (
        TOTAL,
        0,
        0,
        0,
    )
    with ResultsStore.read(store) as results:
        assert results.integrity_check() == "ok"
        rows = results.rows()
    hashes = [r["hash"] for r in rows]
    assert len(hashes) == len(set(hashes)) == TOTAL
    assert {r["status"] for r in rows} == {"done"}
    # every attempt a kill cut short was redone, and counted
    assert sum(r["attempts"] for r in rows) == TOTAL + len(interrupted)
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        dupes = conn.execute("SELECT hash FROM trials GROUP BY hash HAVING COUNT(*) > 1")
        assert dupes.fetchall() == []
    trials = store / "trials"
    assert list(trials.glob(".*.tmp-*")) == []
    assert {p.name for p in trials.iterdir()} == set(hashes)
    for h in hashes:
        assert (trials / h / "model.safetensors").is_file()
        assert (trials / h / "config.json").is_file()


def test_a_second_run_on_a_locked_store_exits_2(cli, tmp_path):
    path = write_sweep(tmp_path / "locked")
    store, log = path.parent / "s", tmp_path / "stderr.txt"
    proc = start_sweep(path, log)
    try:
        wait_for_lock(proc, store, log)
        res = cli("sweep", "run", path, "--quiet")
        still_running = proc.poll() is None
    finally:
        kill(proc)
    assert res.exit_code == 2, f"{res.output} (first sweep still running: {still_running})"
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "locked" in lines[0] and f"pid {proc.pid}" in lines[0], lines[0]
    assert "Traceback" not in res.output
    # the operating system released the dead holder's lock
    with ResultsStore.open(store) as results:
        assert results.integrity_check() == "ok"
