"""Hostile outputs, through the CLI as a user runs it: exit code 2, one line, nothing left.

Class 1: ``--out`` that is a file, a folder, a (dangling) symlink, below a file; a full
disk; a file-size limit; a plot that cannot be drawn. Class 2: NaN never reaches a JSON
file or ``--json`` output.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from user_errors import assert_user_error as user_error

from artifactlab import io

ARTIFACTLAB = Path(sys.executable).with_name("artifactlab")
RANDOM = ("make-data", "random", "--vocab", 8, "--triples", 10)
WORLD = ("make-data", "world", "siblings", "-p", "n_families=2")
HULL = ("interp", "hull", "--experiment", "--dims", "1,2", "--n-trains", "5", "--n-test", "4", "-q")
DD = ("interp", "double-descent", "--samples", 4, "--features-max", 8, "--seeds", 1,
      "--n-points", 2, "--quiet")  # fmt: skip
FIT = ("interp", "fit", "--methods", "linear", "--widths", "2", "--seeds", 1, "--steps", 2,
       "--quiet")  # fmt: skip


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def strict_json(text: str):
    def refuse(name: str):
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# --- class 1: targets ---------------------------------------------------------------------


def test_file_out_that_is_a_folder_a_symlink_or_dangling(cli, tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "real.tsv").write_text("keep\n")
    (tmp_path / "link.tsv").symlink_to(tmp_path / "real.tsv")
    (tmp_path / "dangling.tsv").symlink_to(tmp_path / "nowhere.tsv")
    before = listing(tmp_path)
    user_error(cli(*RANDOM, "--out", tmp_path / "folder"), "is a folder")
    for name in ("link.tsv", "dangling.tsv"):
        user_error(cli(*RANDOM, "--out", tmp_path / name, "--overwrite"), "symbolic link")
    assert listing(tmp_path) == before
    assert (tmp_path / "real.tsv").read_text() == "keep\n"


def test_folder_out_that_is_a_file_a_symlink_or_below_a_file(cli, tmp_path):
    (tmp_path / "file").write_text("keep")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    before = listing(tmp_path)
    user_error(cli(*WORLD, "--out", tmp_path / "file"), "is not a folder")
    user_error(cli(*WORLD, "--out", tmp_path / "dangling", "--overwrite"), "symbolic link")
    user_error(cli(*WORLD, "--out", tmp_path / "file" / "w"), "is not a folder")
    user_error(cli(*HULL, "--out", tmp_path / "dangling"), "symbolic link")
    user_error(cli("export", tmp_path / "file", "--out", tmp_path / "x"))  # not a run folder
    assert listing(tmp_path) == before


def test_sweep_export_and_dense_outputs_are_checked(cli, tiny_run, tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    before = listing(tmp_path)
    sweep = tmp_path.parent / f"{tmp_path.name}-s.yaml"
    sweep.write_text("trial: toy-artifacts\nbase: {data: {V: 6, N: 8}}\n")
    try:
        user_error(cli("sweep", "export", sweep, "--out", tmp_path / "folder"), "is a folder")
        user_error(cli("artifacts", tiny_run, "-q", "--dense", tmp_path / "dangling",
                       "--overwrite"), "symbolic link")  # fmt: skip
        user_error(cli("export", tiny_run, "--out", tmp_path / "dangling"), "symbolic link")
    finally:
        sweep.unlink()
    assert listing(tmp_path) == before


# --- class 1: failing writes --------------------------------------------------------------


@pytest.mark.parametrize("args", [WORLD, HULL, DD, RANDOM], ids=["world", "hull", "dd", "file"])
def test_full_disk_leaves_nothing(cli, tmp_path, monkeypatch, args):
    monkeypatch.setattr(io.os, "replace", _enospc)
    out = tmp_path / "out.tsv" if args is RANDOM else tmp_path / "sub" / "out"
    err = user_error(cli(*args, "--out", out), "could not write (No space left on device)",
                     "(free space or choose another --out)")  # fmt: skip
    assert ".tmp" not in err
    assert listing(tmp_path) == []


def test_permission_denied_on_export_leaves_nothing(cli, tiny_run, tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(io.os, "fsync", denied)
    monkeypatch.setattr(io.os, "replace", denied)
    user_error(cli("export", tiny_run, "--out", tmp_path / "tl"), "Permission denied")
    user_error(cli("artifacts", tiny_run, "-q", "--dense", tmp_path / "d.safetensors"))
    assert listing(tmp_path) == []


def test_a_plot_that_fails_after_the_csvs_leaves_nothing(cli, tmp_path, monkeypatch):
    from artifactlab.interp import fit_run

    def broken(out):
        assert (out / "fit.csv").is_file()  # the data files were written first
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fit_run, "plot_pieces", broken)
    user_error(cli(*FIT, "--out", tmp_path / "fit"), "No space left on device")
    assert listing(tmp_path) == []


def test_an_infinite_axis_limit_is_one_line_and_leaves_nothing(cli, tmp_path):
    (tmp_path / "big.csv").write_text("x,y\n0,-1e308\n1,1e308\n2,0\n")
    before = listing(tmp_path)
    out = tmp_path / "fit"
    user_error(cli(*FIT, "--target", tmp_path / "big.csv", "--out", out), f"{out}/fit.png",
               "could not draw the figure")  # fmt: skip
    assert listing(tmp_path) == before


def test_file_size_limit_in_a_real_process(tmp_path):
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))

    out = tmp_path / "t.tsv"
    args = [str(a) for a in (*RANDOM[:2], "--vocab", 60, "--triples", 500, "--out", out)]
    res = subprocess.run([ARTIFACTLAB, *args], capture_output=True, text=True,
                         preexec_fn=limit, timeout=120, cwd=tmp_path)  # fmt: skip
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {out}: could not write ("), err
    assert "File too large" in err and "Traceback" not in err
    assert listing(tmp_path) == []


# --- class 1: the last line of defence ----------------------------------------------------


def test_os_and_sqlite_errors_escaping_a_command_are_one_line(cli, tmp_path, monkeypatch):
    from artifactlab.experiments import store

    sweep = tmp_path / "s.yaml"
    sweep.write_text("trial: toy-artifacts\nbase: {data: {V: 6, N: 8}}\n")

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store.ResultsStore, "open", locked)
    user_error(cli("sweep", "run", sweep, "-q"), "results store: database is locked")

    def unreadable(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / "st"))

    monkeypatch.setattr(store.ResultsStore, "open", unreadable)
    user_error(cli("sweep", "run", sweep, "-q"), f"{tmp_path / 'st'}: Permission denied (")


# --- class 2: no NaN in outputs -----------------------------------------------------------


def test_nan_in_a_summary_is_null_in_the_file_and_in_json_output(cli, tmp_path, monkeypatch):
    from artifactlab.interp import dd_run

    real = dd_run.dd.summarise

    def with_nan(rows, samples):
        return {**real(rows, samples), "peak_test_error": float("nan"), "odd": float("inf")}

    monkeypatch.setattr(dd_run.dd, "summarise", with_nan)
    res = cli(*DD, "--out", tmp_path / "dd", "--json")
    assert res.exit_code == 0, res.output
    printed = strict_json(res.stdout)
    assert printed["peak_test_error"] is None and printed["odd"] is None
    saved = (tmp_path / "dd" / dd_run.SUMMARY_NAME).read_text()
    assert "NaN" not in saved and "Infinity" not in saved
    assert strict_json(saved)["odd"] is None


def test_nan_results_of_a_fit_are_null(cli, tmp_path, monkeypatch):
    from artifactlab.interp import fit_run

    real = fit_run.run_fits

    def with_nan(*args, **kwargs):
        return [{**row, "train_mse": float("nan")} for row in real(*args, **kwargs)]

    monkeypatch.setattr(fit_run, "run_fits", with_nan)
    res = cli(*FIT, "--out", tmp_path / "fit", "--json")
    assert res.exit_code == 0, res.output
    assert strict_json(res.stdout)["methods"]["linear"]["train_mse"] is None
    summary = strict_json((tmp_path / "fit" / "fit_summary.json").read_text())
    assert summary["results"][0]["train_mse"] is None


def test_every_json_file_of_a_world_and_an_export_is_strict(cli, tiny_run, tmp_path):
    assert cli(*WORLD, "--out", tmp_path / "w").exit_code == 0
    assert cli("export", tiny_run, "--out", tmp_path / "tl").exit_code == 0
    files = sorted(tmp_path.rglob("*.json"))
    assert len(files) >= 4
    for path in files:
        strict_json(path.read_text())
