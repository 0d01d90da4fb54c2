"""Hostile input files: each is refused quickly, with one line and exit code 2.

Most cases run the CLI in this process (``cli`` fixture); a few run the installed
``artifactlab`` command as a user would, with a time limit, so a regression that hangs
or eats memory fails the test instead of the machine.
"""

import errno
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from artifactlab.experiments.store import DB_NAME, ResultsStore

ARTIFACTLAB = Path(sys.executable).with_name("artifactlab")
#: a sweep file's prefix that is valid on its own
HEAD = "trial: toy-artifacts\n"
TINY = HEAD + "base:\n  data: {V: 6, N: 8}\n  model: {d_model: 8, n_heads: 2}\n"
TINY += "  train: {max_steps: 5}\n"
#: the refusals must come at once (the in-process CLI has torch imported already)
QUICK_SECONDS = 3.0


def laughs(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": ``width ** levels`` nodes from a file of a few hundred bytes."""
    names = [f"l{i}" for i in range(levels)]
    lines = [f"  {names[0]}: &{names[0]} [{', '.join(['lol'] * width)}]"]
    for prev, name in zip(names, names[1:], strict=False):
        lines.append(f"  {name}: &{name} [{', '.join([f'*{prev}'] * width)}]")
    return "\n".join(lines) + "\n"


def refused(cli, *args) -> tuple[str, float]:
    """Run the CLI in process; check the one-line refusal; return it and the seconds taken."""
    start = time.perf_counter()
    res = cli(*args)
    seconds = time.perf_counter() - start
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    assert seconds < QUICK_SECONDS, f"took {seconds:.1f} s"
    return lines[0], seconds


def refused_by_command(*args, timeout: float = 60) -> str:
    """Run the installed command in a fresh process, as a user does."""
    res = subprocess.run(
        [str(ARTIFACTLAB), *map(str, args)], capture_output=True, text=True, timeout=timeout
    )
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# --- YAML that expands, recurses or nests without end --------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(TINY + "  eval:\n    extra:\n" + laughs().replace("  ", "      "), id="base"),
        pytest.param(TINY + "bombs:\n" + laughs() + "seeds: *l8\n", id="seeds"),
        pytest.param(TINY + "bombs:\n" + laughs() + "grid: {data.N: *l8}\n", id="grid"),
        pytest.param(
            TINY
            + "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n"
            + "".join(
                f"m{i}: &m{i} {{{', '.join(f'{k}: *m{i - 1}' for k in 'abcdefgh')}}}\n"
                for i in range(1, 9)
            ),
            id="mappings",
        ),
        pytest.param(laughs(7, 10).replace("  l", "l"), id="top-level"),
    ],
)
def test_alias_bomb_is_refused(cli, tmp_path, text):
    line, _ = refused(cli, "sweep", "run", write(tmp_path, text), "--quiet")
    assert line == (
        f"error: {tmp_path / 's.yaml'}: the file expands to more than 100,000 nodes"
        " (YAML anchors/aliases) (write the values out, or split the file)"
    )
    assert not (tmp_path / "s").exists()  # refused before any store is made


def test_long_string_repeated_by_aliases_is_refused(cli, tmp_path):
    text = TINY + f"big: &big {'x' * 200_000}\nmany: [{', '.join(['*big'] * 100)}]\n"
    line, _ = refused(cli, "sweep", "status", write(tmp_path, text))
    assert "expands to more than 10,000,000 characters" in line


@pytest.mark.parametrize(
    ("text", "line_no"),
    [
        pytest.param(TINY + "cases: &c [*c]\n", 6, id="list"),
        pytest.param(TINY + "  eval: &e\n    taus: [0.5]\n    more: *e\n", 6, id="mapping"),
        pytest.param(TINY + "x: &m\n  <<: *m\n", 6, id="merge"),
    ],
)
def test_recursive_anchor_is_refused(cli, tmp_path, text, line_no):
    line, _ = refused(cli, "sweep", "run", write(tmp_path, text), "--quiet")
    assert line.startswith(f"error: {tmp_path / 's.yaml'}:{line_no}: a YAML anchor contains itself")


def test_deep_nesting_is_refused(cli, tmp_path):
    deep_alias = "x: &x " + "[" * 40 + "]" * 40 + "\ny: " + "[" * 20 + "*x" + "]" * 20 + "\n"
    for extra in (
        "x: " + "[" * 60 + "]" * 60 + "\n",  # past our limit
        "x: " + "[" * 5000 + "]" * 5000 + "\n",  # past Python's recursion limit
        deep_alias,  # 40 levels repeated 20 levels down
    ):
        line, _ = refused(cli, "sweep", "run", write(tmp_path, TINY + extra), "--quiet")
        assert "s.yaml:6: nested more than 50 levels deep" in line or ":7: nested" in line


def test_the_installed_command_refuses_bombs_quickly(tmp_path):
    bomb = write(tmp_path, TINY + "  eval:\n    x:\n" + laughs().replace("  ", "      "))
    recursive = write(tmp_path, TINY + "cases: &c [1, *c]\n", "r.yaml")
    latin1 = write(tmp_path, TINY.encode() + b"# caf\xe9\n", "l.yaml")
    for path, expected in [
        (bomb, "expands to more than 100,000 nodes"),
        (recursive, "r.yaml:6: a YAML anchor contains itself"),
        (latin1, "l.yaml:6: not UTF-8 text: byte"),
    ]:
        assert expected in refused_by_command("sweep", "run", path, "--quiet", timeout=60)


# --- bytes and values that are not YAML -----------------------------------------------------


def test_non_utf8_file_is_refused_with_its_line_and_byte(cli, tmp_path):
    data = TINY.encode() + b"name: caf\xe9\n"
    line, _ = refused(cli, "sweep", "run", write(tmp_path, data), "--quiet")
    assert line == (
        f"error: {tmp_path / 's.yaml'}:6: not UTF-8 text: byte {len(TINY) + 9} (0xe9)"
        " cannot be decoded (save the file as UTF-8)"
    )
    line, _ = refused(cli, "sweep", "status", write(tmp_path, TINY.encode("utf-16")))
    assert ":1: not UTF-8 text: byte 0 (0xff)" in line


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(
            "name: a\x00b\n", ":6: malformed YAML: unacceptable character #x0000", id="nul"
        ),
        pytest.param(
            "name: 2024-13-45\n", "malformed YAML value: month must be in 1..12", id="date"
        ),
        pytest.param(f"seeds: {'9' * 5000}\n", "malformed YAML value: Exceeds the limit", id="int"),
        pytest.param("seeds: 1000000000000\n", "expands to 1,000,000,000,000 trials", id="seeds"),
    ],
)
def test_values_python_cannot_build_are_refused(cli, tmp_path, extra, expected):
    line, _ = refused(cli, "sweep", "run", write(tmp_path, TINY + extra), "--quiet")
    assert expected in line


def test_oversized_file_is_refused(cli, tmp_path):
    path = write(tmp_path, TINY + "#" * (10 * 2**20) + "\n")
    line, _ = refused(cli, "sweep", "run", path, "--quiet")
    assert "the file is larger than 10,485,760 bytes" in line


def test_file_name_with_a_newline_stays_one_line(cli, tmp_path):
    line, _ = refused(cli, "sweep", "run", write(tmp_path, "trial: [", "a\nb.yaml"))
    assert "a\\nb.yaml:" in line and "malformed YAML" in line


def test_merge_keys_that_override_are_accepted(cli, tmp_path):
    text = (
        HEAD + "defaults: &d {data: {V: 6, N: 8}, model: {d_model: 8, n_heads: 2}}\n"
        "base:\n  <<: *d\n  model: {d_model: 16, n_heads: 2}\n  train: {max_steps: 5}\n"
    )
    res = cli("sweep", "status", write(tmp_path, text))
    # 'defaults' is no sweep key: the file gets past YAML to the schema check, at its line
    assert "s.yaml:2: unknown key" in res.stderr and "appears twice" not in res.stderr


# --- metric names against the thresholds -----------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(
            "metrics: [steps, n_artifacts@0.7]\n",
            ":6: metric 'n_artifacts@0.7': the sweep's thresholds (eval.taus) are 0.5 "
            "(write n_artifacts@TAU with one of them, or add 0.7 to eval.taus)",
            id="missing-tau",
        ),
        pytest.param(
            "grid: {eval.taus: [[0.5], [0.5, 0.7]]}\nmetrics: [ratio@0.7]\n",
            ":7: metric 'ratio@0.7': only 1 of 2 trials have the threshold 0.7 in eval.taus"
            " (every trial has: 0.5)",
            id="some-trials",
        ),
        pytest.param(
            "metrics:\n  - steps@0.5\n",
            ":7: metric 'steps' has one value per trial, not one per threshold: 'steps@0.5'",
            id="no-tau-form",
        ),
        pytest.param(
            "metrics: [n_artifacts@high]\n",
            ":6: metric 'n_artifacts@high': 'high' is not a number",
            id="not-a-number",
        ),
        pytest.param("metrics: ['@0.5']\n", ":6: unknown metric '@0.5'", id="no-name"),
    ],
)
def test_metric_thresholds_are_checked(cli, tmp_path, extra, expected):
    line, _ = refused(cli, "sweep", "run", write(tmp_path, TINY + extra), "--quiet")
    assert f"error: {tmp_path / 's.yaml'}{expected}" in line


def test_metric_thresholds_of_the_compare_kind_are_checked(cli, tmp_path):
    from artifactlab.experiments.compare import sweep_yaml

    text = sweep_yaml("siblings", ["ngram"], seeds=1) + "metrics: [recall@0.9]\n"
    line, _ = refused(cli, "sweep", "status", write(tmp_path, text))
    assert "metric 'recall@0.9': the sweep's thresholds (eval.taus) are 0.5" in line


def test_a_threshold_written_differently_is_stored_under_its_name(cli, tmp_path):
    text = TINY + "  eval: {taus: [0.5, 0.9]}\nmetrics: [steps, n_artifacts@0.90]\n"
    path = write(tmp_path, text)
    assert cli("sweep", "run", path, "--quiet").exit_code == 0
    with ResultsStore.read(tmp_path / "s") as store:
        row = store.rows()[0]
    assert set(row["metrics"]) == {"steps", "n_artifacts@0.9"}


# --- damaged results stores ------------------------------------------------------------------


@pytest.fixture()
def store_of(tmp_path):
    """A sweep file and its store with 60 finished trials (several database pages)."""
    path = write(tmp_path, TINY)
    with ResultsStore.open(tmp_path / "s") as store:
        for i in range(60):
            store.mark_running(f"h{i:03d}", i, {"seed": i, "pad": "x" * 300}, i)
            store.record_done(f"h{i:03d}", {"loss": 0.5}, {"train_seconds": 1.0})
    return path, tmp_path / "s" / DB_NAME


def test_damaged_database_page_is_refused_by_every_command(cli, store_of):
    path, db = store_of
    raw = bytearray(db.read_bytes())
    raw[4096 + 8 : 4096 + 108] = b"\xff" * 100  # page 2: the trials table
    db.write_bytes(bytes(raw))
    for command in ("run", "status", "export"):
        line, _ = refused(cli, "sweep", command, path, *(["--quiet"] * (command == "run")))
        assert line.startswith(f"error: {db}: the results database is damaged (quick_check: ")
        assert line.endswith("(use another --store, or move this one aside and rerun the sweep)")
    assert "the results database is damaged" in refused_by_command("sweep", "status", path)


@pytest.mark.parametrize("cut", [0.5, 0.02])
def test_truncated_or_overwritten_database_is_refused(cli, store_of, cut):
    path, db = store_of
    raw = db.read_bytes()
    db.write_bytes(raw[: int(len(raw) * cut)] if cut > 0.1 else b"garbage!" * 100)
    line, _ = refused(cli, "sweep", "status", path)
    assert line.startswith(f"error: {db}: ") and "--store" in line


@pytest.mark.parametrize(
    ("column", "value"),
    [("metrics", "{'loss': 0.5"), ("metrics", "[1, 2]"), ("timings", "NaN"), ("config", "")],
)
def test_corrupted_row_is_refused_naming_the_trial(cli, store_of, column, value):
    path, db = store_of
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE trials SET {column} = ? WHERE hash = 'h007'", (value,))
    conn.close()
    for command in ("status", "export"):
        line, _ = refused(cli, "sweep", command, path)
        assert line == (
            f"error: {db}: trial h007: its {column} is not a JSON object (the row is damaged)"
            " (use another --store, or move this one aside and rerun the sweep)"
        )


def test_a_full_disk_while_writing_a_trial_leaves_no_temporary_folder(cli, tmp_path, monkeypatch):
    path = write(tmp_path, TINY + "seeds: 2\n")
    real = Path.write_bytes
    written: list[Path] = []

    def full_after_one(self: Path, data: bytes) -> int:
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        written.append(self)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_after_one)
    line, _ = refused(cli, "sweep", "run", path, "--quiet")
    trials = tmp_path / "s" / "trials"
    assert line.startswith(f"error: {trials}/.")  # the file that could not be written
    assert "cannot write the trial's files (No space left on device)" in line
    assert [p.name for p in trials.iterdir()] == [] and written  # the partial folder is gone
    monkeypatch.undo()
    res = cli("sweep", "run", path, "--quiet", "--json")  # space again: the sweep resumes
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["done"] == 2
