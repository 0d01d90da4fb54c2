"""Worker processes exit when the command that started them is killed, even by SIGKILL.

Each test starts the installed ``artifactlab`` command as a user would, waits until its
worker processes are busy, kills the command with SIGKILL (no cleanup can run) and
checks that every process it started is gone soon after. Whatever is left is killed
at the end, so a failing test leaves nothing running.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ARTIFACTLAB = Path(sys.executable).with_name("artifactlab")
#: trials that train far longer than the test runs (the learning rate keeps the loss up)
ENDLESS = """\
trial: toy-artifacts
base:
  data: {V: 8, N: 12}
  model: {d_model: 8, n_heads: 2}
  train: {max_steps: 100000000, loss_tol: null, lr: 1.0e-9}
seeds: 4
batch: false
"""
#: how long the workers may outlive their parent (the fallback thread polls every 0.5 s)
GONE_WITHIN = 10.0


def workers_in(procs: list[psutil.Process]) -> list[psutil.Process]:
    """The pool's worker processes (started by multiprocessing's spawn) among ``procs``."""
    return [p for p in procs if any("spawn_main" in part for part in _cmdline(p))]


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.NoSuchProcess:
        return []


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _cpu_seconds(proc: psutil.Process) -> float:
    try:
        return proc.cpu_times().user
    except psutil.NoSuchProcess:
        return 0.0


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_when_busy(
    args: list[str], n_workers: int, tmp_path: Path
) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """Start the command, SIGKILL it once ``n_workers`` workers have started computing.

    Returns every process the command had started and, among them, the busy workers.
    """
    log = (tmp_path / "stderr.txt").open("w")
    cmd = subprocess.Popen([str(ARTIFACTLAB), *args], stdout=subprocess.DEVNULL, stderr=log)
    parent = psutil.Process(cmd.pid)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert cmd.poll() is None, (tmp_path / "stderr.txt").read_text()
            assert time.monotonic() < deadline, "the workers never started"
            workers = workers_in(_children(parent))
            # past start-up (importing torch takes a CPU second or more): in their trials
            busy = [w for w in workers if _cpu_seconds(w) > 2.0]
            if len(busy) >= n_workers:
                break
            time.sleep(0.2)
        started = _children(parent)  # workers and multiprocessing's helpers
        assert cmd.poll() is None  # still running: the kill below is what ends it
        os.kill(cmd.pid, signal.SIGKILL)
        cmd.wait()
        return started, busy
    except BaseException:
        for proc in [parent, *_children(parent)]:
            if alive(proc):
                proc.kill()
        raise
    finally:
        log.close()


def assert_all_gone(procs: list[psutil.Process]) -> None:
    deadline = time.monotonic() + GONE_WITHIN
    try:
        while any(alive(p) for p in procs) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [(p.pid, p.cmdline()) for p in procs if alive(p)]
        assert not left, f"alive {GONE_WITHIN} s after their parent was killed: {left}"
    finally:
        for proc in procs:  # a failing run leaves nothing behind
            if alive(proc):
                proc.kill()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="psutil process tree, SIGKILL")
def test_sweep_workers_die_with_a_killed_sweep(tmp_path):
    path = tmp_path / "endless.yaml"
    path.write_text(ENDLESS)
    args = ["sweep", "run", str(path), "--backend", "processes", "--workers", "2", "--quiet"]
    started, busy = kill_when_busy(args, 2, tmp_path)
    assert len(busy) == 2
    assert_all_gone(started)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="psutil process tree, SIGKILL")
def test_compare_workers_die_with_a_killed_compare(tmp_path):
    out = tmp_path / "cmp"
    # a world large enough that training outlasts the test's wait by far
    args = ["compare", "--data", "siblings", "--param", "n_families=400"]
    args += ["--models", "attn", "--seeds", "2"]
    args += ["--workers", "2", "--out", str(out), "--quiet"]
    started, busy = kill_when_busy(args, 1, tmp_path)
    assert busy
    assert_all_gone(started)


def test_a_worker_whose_parent_is_already_gone_exits_at_once():
    # the race the initializer closes: the parent died before prctl was in force
    code = (
        "import os, sys; from artifactlab.experiments.executors import die_with_parent; "
        "die_with_parent(os.getppid() + 1); sys.exit(0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (res.returncode, res.stderr) == (1, "")
