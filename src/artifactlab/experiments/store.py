"""The results store of a sweep: one SQLite database (WAL mode) plus one folder per trial.

Each finished trial is one transaction: its config hash, config, status, metrics,
timings, seed, package version and git revision. A trial's files are written to a
temporary folder and renamed into ``trials/HASH`` before its row is committed, so a
``done`` row always has its complete folder. A process killed at any moment leaves
at worst a ``running`` row and a temporary folder; the next run redoes that trial.

Only one sweep may write a store at a time: :meth:`ResultsStore.open` takes an
exclusive lock on ``DIR/.lock`` (released by the operating system if the process dies).

Example
-------
>>> import tempfile
>>> with ResultsStore.open(tempfile.mkdtemp()) as store:
...     store.mark_running("abc", 0, {"seed": 0}, 0)
...     store.record_done("abc", {"loss": 0.5}, {"train_seconds": 1.0}, {"a.txt": b"hi"})
...     [(r["hash"], r["status"], r["metrics"]) for r in store.rows()]
[('abc', 'done', {'loss': 0.5})]
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from artifactlab import __version__
from artifactlab.errors import InputError
from artifactlab.provenance import git_revision

#: bumped whenever the tables change in a way older code cannot read
STORE_FORMAT = 1
DB_NAME = "results.sqlite"

_SCHEMA = """
BEGIN;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    hash TEXT PRIMARY KEY,
    idx INTEGER NOT NULL,
    seed INTEGER,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    metrics TEXT,
    timings TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    version TEXT,
    git_revision TEXT
);
INSERT INTO meta VALUES ('store_format', '{format}'), ('created_by', '{version}');
COMMIT;
"""


class ResultsStore:
    """A sweep's results: ``DIR/results.sqlite`` and ``DIR/trials/HASH/``.

    Use :meth:`open` (writing; takes the lock) or :meth:`read` (reading; no lock).
    """

    def __init__(self, root: Path, conn: sqlite3.Connection, lock_fd: int | None) -> None:
        self.root = root
        self._conn = conn
        self._lock_fd = lock_fd
        self._git = git_revision() if lock_fd is not None else None

    # --- opening and closing -------------------------------------------------------------

    @classmethod
    def open(cls, root: str | Path) -> ResultsStore:
        """Open (creating if needed) for writing, holding the store's lock.

        Raises
        ------
        InputError
            Another process holds the lock, or the store is from an incompatible version.
        """
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise InputError(str(root), "is a file, not a results folder", "choose another --store")
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise InputError(
                str(root),
                f"results store is locked by another running sweep (pid {holder})",
                "wait for it to finish, or use another --store",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            conn = _connect(root / DB_NAME, create=True)
            assert conn is not None  # creating never returns None
        except BaseException:
            os.close(fd)
            raise
        store = cls(root, conn, fd)
        store._clean_partial_folders()
        return store

    @classmethod
    def read(cls, root: str | Path) -> ResultsStore | None:
        """Open an existing store read-only; None if there is none yet."""
        root = Path(root)
        if not (root / DB_NAME).is_file():
            return None
        conn = _connect(root / DB_NAME, create=False)
        return cls(root, conn, None) if conn is not None else None

    def close(self) -> None:
        """Close the database and release the lock."""
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------

    def mark_running(self, hash_: str, index: int, config: dict, seed: int | None) -> None:
        """Record that a trial has started (one transaction); keeps nothing of an old attempt."""
        # autocommit: this one statement is one transaction
        self._conn.execute(
            "INSERT INTO trials (hash, idx, seed, config, status, attempts, started)"
            " VALUES (?, ?, ?, ?, 'running', 1, ?)"
            " ON CONFLICT(hash) DO UPDATE SET status='running', idx=excluded.idx,"
            " metrics=NULL, timings=NULL, error=NULL, finished=NULL,"
            " attempts=attempts+1, started=excluded.started",
            (hash_, index, seed, json.dumps(config, sort_keys=True), time.time()),
        )

    def record_done(
        self,
        hash_: str,
        metrics: dict[str, Any],
        timings: dict[str, float],
        files: dict[str, bytes] | None = None,
    ) -> None:
        """Write the trial's folder (temporary name, then rename), then commit its row."""
        if files:
            self._write_folder(hash_, files)
        # autocommit: this one statement is one transaction
        self._conn.execute(
            "UPDATE trials SET status='done', metrics=?, timings=?, error=NULL, finished=?,"
            " version=?, git_revision=? WHERE hash=?",
            (json.dumps(metrics), json.dumps(timings), time.time(), __version__, self._git, hash_),
        )

    def record_failed(self, hash_: str, error: str) -> None:
        """Mark a trial failed with its error (the next run retries it)."""
        # autocommit: this one statement is one transaction
        self._conn.execute(
            "UPDATE trials SET status='failed', error=?, finished=?, version=?,"
            " git_revision=? WHERE hash=?",
            (error, time.time(), __version__, self._git, hash_),
        )

    def trial_dir(self, hash_: str) -> Path:
        """The folder of a trial's files."""
        return self.root / "trials" / hash_

    def _write_folder(self, hash_: str, files: dict[str, bytes]) -> None:
        final = self.trial_dir(hash_)
        tmp = final.with_name(f".{hash_}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        if final.exists():  # a stale folder from an attempt whose row was never committed
            shutil.rmtree(final)
        tmp.rename(final)

    def _clean_partial_folders(self) -> None:
        # only the lock holder writes, so any temporary folder is from a dead process
        for tmp in (self.root / "trials").glob(".*.tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)

    # --- reading -------------------------------------------------------------------------

    def statuses(self) -> dict[str, str]:
        """Trial hash -> status, for every trial in the store."""
        return dict(self._conn.execute("SELECT hash, status FROM trials"))

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every trial row (optionally of one status), JSON fields decoded, in sweep order."""
        query = "SELECT * FROM trials"
        args: tuple = ()
        if status is not None:
            query, args = query + " WHERE status = ?", (status,)
        cursor = self._conn.execute(query + " ORDER BY idx, hash", args)
        names = [c[0] for c in cursor.description]
        out = []
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            for key in ("config", "metrics", "timings"):
                row[key] = json.loads(row[key]) if row[key] is not None else None
            out.append(row)
        return out

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` result (``'ok'`` when the file is sound)."""
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0]


def _connect(path: Path, create: bool) -> sqlite3.Connection | None:
    """Open the database; None when reading a store whose creation was cut short."""
    try:
        if create:
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        else:  # readers change nothing, so they work on stores they may not write
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as err:
        raise InputError(
            str(path), f"not a readable results store ({err})", "use another --store"
        ) from None
    if "meta" in tables:
        _check_format(conn, path)
    elif create and not tables:
        # one transaction: a store either has its tables and format stamp or nothing
        conn.executescript(_SCHEMA.format(format=STORE_FORMAT, version=__version__))
    else:
        conn.close()
        if not tables:  # a sweep was killed while creating the store: nothing in it yet
            return None
        raise InputError(
            str(path), "has no results tables", "is this an artifactlab results store?"
        )
    return conn


def _check_format(conn: sqlite3.Connection, path: Path) -> None:
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    fmt = meta.get("store_format")
    if fmt != str(STORE_FORMAT):
        conn.close()
        raise InputError(
            str(path),
            f"written by artifactlab {meta.get('created_by', '?')} in store format {fmt},"
            f" but this is artifactlab {__version__}, which reads format {STORE_FORMAT}",
            "use that version, or another --store",
        )
