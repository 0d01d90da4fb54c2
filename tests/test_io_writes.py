"""artifactlab.io: check the target, stage, rename on success, clean up on any failure."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

from artifactlab import io
from artifactlab.errors import InputError
from artifactlab.io import OutputError


def _strict(text: str):
    def refuse(name: str):
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_write_text_replaces_a_file_whole_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    io.write_text(path, "one\n")
    io.write_text(path, "two\n")
    assert path.read_text() == "two\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_write_creates_missing_folders_and_removes_them_on_failure(tmp_path, monkeypatch):
    io.write_bytes(tmp_path / "x" / "y" / "a.bin", b"1")
    assert (tmp_path / "x" / "y" / "a.bin").read_bytes() == b"1"
    monkeypatch.setattr(io.os, "replace", _enospc)
    with pytest.raises(OutputError):
        io.write_bytes(tmp_path / "p" / "q" / "b.bin", b"1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.symlink_to(p.parent / "missing"), "is a symbolic link"),
        (lambda p: p.symlink_to(p.parent / "real"), "is a symbolic link"),
    ],
)
def test_file_targets_that_are_refused(tmp_path, make, problem):
    (tmp_path / "real").write_text("keep")
    target = tmp_path / "out"
    make(target)
    with pytest.raises(OutputError, match=problem):
        io.write_text(target, "new")
    assert (tmp_path / "real").read_text() == "keep"
    assert not (tmp_path / "missing").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_path_below_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        io.write_text(tmp_path / "f" / "a.txt", "y")
    with pytest.raises(OutputError, match="is not a folder"):
        io.check_folder_target(tmp_path / "f" / "sub")


@pytest.mark.parametrize(
    "code, words",
    [
        (errno.ENOSPC, "No space left on device) (free space or choose another --out"),
        (errno.EFBIG, "File too large) (the file-size limit"),
        (errno.EACCES, "Permission denied) (check the folder's permissions"),
        (errno.EROFS, "Read-only file system"),
    ],
)
def test_os_errors_become_one_line_output_errors(tmp_path, monkeypatch, code, words):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))  # as write(2) and fsync(2) fail: no file name

    monkeypatch.setattr(io.os, "fsync", fail)
    path = tmp_path / "a.txt"
    with pytest.raises(OutputError) as info:
        io.write_text(path, "x")
    assert isinstance(info.value, InputError)
    assert (
        info.value.message.startswith(f"{path}: could not write (") and words in info.value.message
    )
    assert ".tmp" not in info.value.message and "\n" not in info.value.message
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_removes_the_temporary(tmp_path):
    with pytest.raises(KeyboardInterrupt), io.staged_file(tmp_path / "a.bin") as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt), io.staged_folder(tmp_path / "run") as tmp:
        io.write_text(tmp / "a.csv", "x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_staged_folder_is_renamed_only_when_the_block_succeeds(tmp_path):
    out = tmp_path / "deep" / "run"
    with pytest.raises(RuntimeError), io.staged_folder(out) as tmp:
        io.write_text(tmp / "data.csv", "x\n1\n")
        raise RuntimeError("the plot failed")
    assert list(tmp_path.iterdir()) == []  # not even the parent it created
    with io.staged_folder(out) as tmp:
        io.write_text(tmp / "data.csv", "x\n1\n")
        io.write_json(tmp / "summary.json", {"a": 1})
    assert sorted(p.name for p in out.iterdir()) == ["data.csv", "summary.json"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]


def test_staged_folder_names_the_final_path_not_the_temporary(tmp_path, monkeypatch):
    monkeypatch.setattr(io.os, "fsync", _enospc)
    out = tmp_path / "run"
    with pytest.raises(OutputError) as info, io.staged_folder(out) as tmp:
        io.write_text(tmp / "data.csv", "x")
    assert info.value.where == str(out / "data.csv")
    assert list(tmp_path.iterdir()) == []


def test_staged_folder_refuses_non_empty_unless_replace(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(OutputError, match="not empty"), io.staged_folder(out):
        pass
    with io.staged_folder(out, replace=True) as tmp:
        io.write_text(tmp / "new.txt", "new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_staged_files_keeps_the_folder_and_adds_all_or_nothing(tmp_path):
    (tmp_path / "kept.csv").write_text("kept")
    with pytest.raises(ValueError), io.staged_files(tmp_path) as tmp:
        io.write_text(tmp / "summary.txt", "new")
        raise ValueError("plot")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv"]
    with io.staged_files(tmp_path) as tmp:
        io.write_text(tmp / "summary.txt", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv", "summary.txt"]


def test_json_never_holds_nan_or_infinity(tmp_path):
    obj = {
        "nan": float("nan"),
        "inf": [float("inf"), -float("inf"), 1.5],
        "np": np.float32("nan"),
        "arr": np.array([1.0, np.nan]),
        "t": (np.int64(3), None),
    }
    text = io.write_json(tmp_path / "a.json", obj).read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert _strict(text) == {
        "nan": None,
        "inf": [None, None, 1.5],
        "np": None,
        "arr": [1.0, None],
        "t": [3, None],
    }
    assert _strict(io.json_text([float("nan")], indent=None)) == [None]


def test_write_figure_draws_before_writing(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [-1e308, 1e308])
    ax.plot([0, 1], [1e308, -1e308])
    try:
        with pytest.raises(OutputError, match="could not draw the figure"):
            io.write_figure(tmp_path / "a.png", fig)
    finally:
        plt.close(fig)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "text, lines",
    [
        ("\ufeffa b\nc d\n", ["a b", "c d"]),
        ("a\r\nb\r\n", ["a", "b"]),
        ("a\u2028b\x85c\x0cd\nx", ["a\u2028b\x85c\x0cd", "x"]),
        ("", []),
    ],
)
def test_read_lines_splits_only_on_line_feeds(text, lines):
    assert io.read_lines(text) == lines
