import sqlite3

import pytest

from artifactlab.errors import InputError
from artifactlab.experiments.store import DB_NAME, STORE_FORMAT, ResultsStore


def test_round_trip_and_no_duplicate_rows(tmp_path):
    with ResultsStore.open(tmp_path) as store:
        store.mark_running("h1", 0, {"seed": 3}, 3)
        store.record_failed("h1", "Traceback ...\nValueError: boom")
        store.mark_running("h1", 0, {"seed": 3}, 3)  # the retry reuses the row
        store.record_done("h1", {"loss": 0.25}, {"train_seconds": 2.0}, {"w.bin": b"\x00\x01"})
        store.mark_running("h2", 1, {"seed": 4}, 4)
        rows = store.rows()
        assert [(r["hash"], r["status"], r["attempts"]) for r in rows] == [
            ("h1", "done", 2),
            ("h2", "running", 1),
        ]
        assert rows[0]["metrics"] == {"loss": 0.25} and rows[0]["error"] is None
        assert rows[0]["config"] == {"seed": 3} and rows[0]["seed"] == 3
        assert rows[0]["version"] and rows[0]["finished"] >= rows[0]["started"]
        assert (store.trial_dir("h1") / "w.bin").read_bytes() == b"\x00\x01"
        assert store.statuses() == {"h1": "done", "h2": "running"}
        assert store.integrity_check() == "ok"
    journal = sqlite3.connect(tmp_path / DB_NAME).execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_reopen_keeps_rows_and_cleans_partial_folders(tmp_path):
    with ResultsStore.open(tmp_path) as store:
        store.mark_running("h1", 0, {}, None)
        store.record_done("h1", {"a": 1}, {}, {"f": b"x"})
    partial = tmp_path / "trials" / ".h2.tmp-999"
    partial.mkdir()
    (partial / "f").write_bytes(b"half")
    with ResultsStore.open(tmp_path) as store:
        assert store.statuses() == {"h1": "done"}
        assert not partial.exists()
        assert (store.trial_dir("h1") / "f").read_bytes() == b"x"


def test_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    first = ResultsStore.open(tmp_path)
    try:
        with pytest.raises(InputError, match="locked by another running sweep"):
            ResultsStore.open(tmp_path)
        reader = ResultsStore.read(tmp_path)  # reading needs no lock
        assert reader is not None and reader.statuses() == {}
        reader.close()
    finally:
        first.close()
    ResultsStore.open(tmp_path).close()  # released


def test_incompatible_store_format_is_refused(tmp_path):
    ResultsStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    with conn:
        conn.execute("UPDATE meta SET value=? WHERE key='store_format'", (str(STORE_FORMAT + 1),))
        conn.execute("UPDATE meta SET value='9.9' WHERE key='created_by'")
    conn.close()
    for opener in (ResultsStore.open, ResultsStore.read):
        with pytest.raises(InputError) as info:
            opener(tmp_path)
        assert "artifactlab 9.9" in info.value.message and "store format" in info.value.message


def test_not_a_store(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="not a readable results store"):
        ResultsStore.open(tmp_path)
    file_path = tmp_path / "file"
    file_path.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        ResultsStore.open(file_path)
    assert ResultsStore.read(tmp_path / "missing") is None


def test_a_store_killed_while_being_created_reads_as_empty(tmp_path):
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("PRAGMA journal_mode=WAL")  # the file exists, the tables do not yet
    conn.close()
    assert ResultsStore.read(tmp_path) is None
    with ResultsStore.open(tmp_path) as store:  # the next run creates the tables
        assert store.statuses() == {}
