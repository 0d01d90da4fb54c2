"""Trial-kind plugins (entry points) and the processes backend surviving a dead worker.

The plugin is a ``.dist-info`` folder in a temporary folder put on ``sys.path``, declaring
kinds of the helper module ``crasher_kind`` (next to this file). ``importlib.metadata``
finds its entry points there, and so do the worker processes that the ``processes``
backend spawns (they inherit ``sys.path``): that is how a kind that can kill the process
running it reaches them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from artifactlab.experiments.registry import BUILTIN_KINDS, TRIAL_KINDS, load_plugins
from artifactlab.experiments.runner import run_sweep
from artifactlab.experiments.store import ResultsStore
from artifactlab.experiments.sweep_file import load_sweep


def install(tmp_path: Path, monkeypatch, entries: dict[str, str]) -> None:
    """Declare ``entries`` (name -> ``module:object``) as trial kinds, for this test only."""
    info = tmp_path / "site" / "al_plugin_demo-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: al-plugin-demo\nVersion: 0.1\n")
    lines = [f"{name} = {target}\n" for name, target in entries.items()]
    (info / "entry_points.txt").write_text("[artifactlab.trial_kinds]\n" + "".join(lines))
    monkeypatch.syspath_prepend(str(info.parent))  # this process and the ones it spawns
    importlib.invalidate_caches()


def test_plugins_are_loaded_and_bad_ones_skipped(tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, {
        "test-crasher": "crasher_kind:CRASHER",
        "not-a-kind": "crasher_kind:NOT_A_KIND",
        "missing": "no_such_module_here:X",
        "taken": "crasher_kind:TAKEN",
    })  # fmt: skip
    kinds = dict(BUILTIN_KINDS)
    with pytest.warns(UserWarning) as caught:
        added = load_plugins(kinds)
    assert added == ["test-crasher"] and kinds["test-crasher"].metrics == ("value",)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3
    assert any("'missing'" in m and "failed to load" in m for m in messages)
    assert any("'not-a-kind'" in m and "not a TrialKind" in m for m in messages)
    assert any("'taken'" in m and "'toy-artifacts' is taken" in m for m in messages)
    assert kinds["toy-artifacts"] is BUILTIN_KINDS["toy-artifacts"]


def test_a_dead_worker_fails_only_its_batch_and_the_pool_is_renewed(tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, {"test-crasher": "crasher_kind:CRASHER"})
    kinds = dict(BUILTIN_KINDS)
    load_plugins(kinds)  # this process; the spawned workers load it when they import artifactlab
    monkeypatch.setitem(TRIAL_KINDS, "test-crasher", kinds["test-crasher"])
    path = tmp_path / "s.yaml"
    path.write_text(
        "trial: test-crasher\ncases:\n  - {group: 1, crash: true}\n  - {group: 0}\n"
        "  - {group: 2}\nseeds: 2\n"
    )
    sweep = load_sweep(path)
    with ResultsStore.open(sweep.default_store) as store:
        # one worker: the crashing batch is alone in its pool, so exactly it fails
        summary = run_sweep(sweep, store, "processes", workers=1)
        assert (summary.done, summary.failed) == (4, 2)
        assert all("worker process failed" in f["error"] for f in summary.failures)
        again = run_sweep(sweep, store, "processes", workers=1)  # only the failed batch reruns
        assert (again.skipped, again.ran, again.failed) == (4, 2, 2)
