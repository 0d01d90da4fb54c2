"""The results store of a sweep: one SQLite database (WAL mode) plus one folder per trial.

Each finished trial is one transaction: its config hash, config, status, metrics,
timings, seed, package version and git revision. A trial's files are written to a
temporary folder and renamed into ``trials/HASH`` before its row is committed, so a
``done`` row always has its complete folder. A process killed at any moment leaves
at worst a ``running`` row and a temporary folder; the next run redoes that trial.

A damaged store is refused with one line, never a traceback: opening runs SQLite's
``PRAGMA quick_check``, any SQLite error names the database file, and a row whose
JSON columns do not decode names the database and the trial.

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from artifactlab import __version__
from artifactlab.errors import InputError
from artifactlab.experiments.yaml_lines import printable
from artifactlab.io import json_text
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
        self.db = root / DB_NAME
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
            Another process holds the lock, the folder cannot be written, the database is
            damaged, or the store is from an incompatible version.
        """
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise InputError(
                _shown(root), "is a file, not a results folder", "choose another --store"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
            fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise _os_error(err, root, "cannot create the results folder") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise InputError(
                _shown(root),
                f"results store is locked by another running sweep (pid {printable(holder)})",
                "wait for it to finish, or use another --store",
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            conn = _connect(root / DB_NAME, create=True)
            assert conn is not None  # creating never returns None
        except BaseException as err:
            os.close(fd)
            if isinstance(err, OSError):
                raise _os_error(err, root / ".lock", "cannot write the lock file") from None
            raise
        store = cls(root, conn, fd)
        store._clean_partial_folders()
        return store

    @classmethod
    def read(cls, root: str | Path) -> ResultsStore | None:
        """Open an existing store read-only; None if there is none yet.

        Raises
        ------
        InputError
            The database is damaged or from an incompatible version.
        """
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
        self._execute(
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
        self._execute(
            "UPDATE trials SET status='done', metrics=?, timings=?, error=NULL, finished=?,"
            " version=?, git_revision=? WHERE hash=?",
            # NaN (a metric a world does not define) is stored as null: valid JSON, empty cell
            (
                json_text(metrics, None),
                json_text(timings, None),
                time.time(),
                __version__,
                self._git,
                hash_,
            ),  # fmt: skip
        )

    def record_failed(self, hash_: str, error: str) -> None:
        """Mark a trial failed with its error (the next run retries it)."""
        # autocommit: this one statement is one transaction
        self._execute(
            "UPDATE trials SET status='failed', error=?, finished=?, version=?,"
            " git_revision=? WHERE hash=?",
            (error, time.time(), __version__, self._git, hash_),
        )

    def trial_dir(self, hash_: str) -> Path:
        """The folder of a trial's files."""
        return self.root / "trials" / hash_

    def _execute(self, query: str, args: tuple = ()) -> sqlite3.Cursor:
        with _database_errors(self.db):
            return self._conn.execute(query, args)

    def _write_folder(self, hash_: str, files: dict[str, bytes]) -> None:
        final = self.trial_dir(hash_)
        tmp = final.with_name(f".{hash_}.tmp-{os.getpid()}")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for name, data in files.items():
                (tmp / name).write_bytes(data)
            if final.exists():  # a stale folder from an attempt whose row was never committed
                shutil.rmtree(final)
            tmp.rename(final)
        except OSError as err:  # a full disk, say: leave nothing half-written behind
            shutil.rmtree(tmp, ignore_errors=True)
            raise _os_error(err, final, "cannot write the trial's files") from None

    def _clean_partial_folders(self) -> None:
        # only the lock holder writes, so any temporary folder is from a dead process
        for tmp in (self.root / "trials").glob(".*.tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)

    # --- reading -------------------------------------------------------------------------

    def statuses(self) -> dict[str, str]:
        """Trial hash -> status, for every trial in the store."""
        with _database_errors(self.db):
            return dict(self._conn.execute("SELECT hash, status FROM trials"))

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every trial row (optionally of one status), JSON fields decoded, in sweep order.

        Raises
        ------
        InputError
            The database is damaged, or a row's config, metrics or timings is not a JSON
            object (naming the trial's hash).
        """
        query = "SELECT * FROM trials"
        args: tuple = ()
        if status is not None:
            query, args = query + " WHERE status = ?", (status,)
        with _database_errors(self.db):
            cursor = self._conn.execute(query + " ORDER BY idx, hash", args)
            names = [c[0] for c in cursor.description]
            return [self._decoded(dict(zip(names, values, strict=True))) for values in cursor]

    def _decoded(self, row: dict[str, Any]) -> dict[str, Any]:
        for key in ("config", "metrics", "timings"):
            if row[key] is None:
                continue
            try:
                row[key] = json.loads(row[key])
            except (ValueError, TypeError, RecursionError):
                row[key] = None  # not JSON: refused below
            if not isinstance(row[key], dict):
                raise InputError(
                    _shown(self.db),
                    f"trial {printable(str(row['hash']))}: its {key} is not a JSON object"
                    " (the row is damaged)",
                    "use another --store, or move this one aside and rerun the sweep",
                )
        return row

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` result (``'ok'`` when the file is sound)."""
        with _database_errors(self.db):
            return self._conn.execute("PRAGMA integrity_check").fetchone()[0]


def _shown(path: Path) -> str:
    return printable(str(path))


def _os_error(err: OSError, path: Path, what: str) -> InputError:
    """An OS error (a full disk, no permission) as one line naming the file at fault."""
    where = Path(err.filename) if isinstance(err.filename, str) else path
    return InputError(
        _shown(where),
        f"{what} ({err.strerror or err})",
        "free some disk space or fix the permissions, or use another --store",
    )


@contextmanager
def _database_errors(path: Path, what: str = "cannot use the results database") -> Iterator[None]:
    """Turn SQLite's errors about the file (damaged, full, unreadable) into one line."""
    try:
        yield
    except (sqlite3.ProgrammingError, sqlite3.IntegrityError):
        raise  # a misuse of the database by this code, not a problem with the file
    except sqlite3.DatabaseError as err:
        raise InputError(
            _shown(path),
            f"{what} ({printable(str(err))})",
            "use another --store, or move this one aside and rerun the sweep",
        ) from None


def _connect(path: Path, create: bool) -> sqlite3.Connection | None:
    """Open and check the database; None when reading a store whose creation was cut short."""
    conn = None
    try:
        with _database_errors(path, "not a readable results store"):
            if create:
                conn = sqlite3.connect(path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            else:  # readers change nothing, so they work on stores they may not write
                uri = f"{path.resolve().as_uri()}?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=30)
            _quick_check(conn, path)
            return _checked_tables(conn, path, create)
    except BaseException:
        if conn is not None:
            conn.close()
        raise


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged file now rather than with a traceback halfway through a sweep."""
    try:
        answer = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as err:  # damage the check itself trips on (which page is hit)
        answer = [str(err)]
    if answer == ["ok"]:
        return
    # SQLite's answer: one problem a line, under a "*** in database main ***" heading
    problems = [p for a in answer for p in a.splitlines() if p.strip() and p[:3] != "***"]
    first = printable(problems[0].strip()) if problems else "no answer"
    more = f", and {len(problems) - 1} more" if len(problems) > 1 else ""
    raise InputError(
        _shown(path),
        f"the results database is damaged (quick_check: {first}{more})",
        "use another --store, or move this one aside and rerun the sweep",
    )


def _checked_tables(
    conn: sqlite3.Connection, path: Path, create: bool
) -> sqlite3.Connection | None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
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
            _shown(path), "has no results tables", "is this an artifactlab results store?"
        )
    return conn


def _check_format(conn: sqlite3.Connection, path: Path) -> None:
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    fmt = meta.get("store_format")
    if fmt != str(STORE_FORMAT):
        conn.close()
        raise InputError(
            _shown(path),
            f"written by artifactlab {printable(str(meta.get('created_by', '?')))}"
            f" in store format {printable(str(fmt))},"
            f" but this is artifactlab {__version__}, which reads format {STORE_FORMAT}",
            "use that version, or another --store",
        )
