"""The sweep's trial database: SQLite in WAL mode, one row per point, keyed by spec hash.

Workers claim trials in an IMMEDIATE transaction, so no point runs twice;
a finished trial is committed with synchronous=FULL before anything else
happens, so a crash never loses it.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from regspec.diagnostics import RegspecError
from regspec.rundir import layout

SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    key TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL,
    overrides TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    run_dir TEXT,
    metrics TEXT,
    error TEXT,
    started REAL,
    finished REAL,
    seconds REAL,
    train_seconds REAL,
    search_trial INTEGER,
    search_params TEXT
);
"""
#: Columns added after the first stores were written: an older sweep.db gets them on open.
ADDED_COLUMNS = {"search_trial": "INTEGER", "search_params": "TEXT"}


@dataclass
class Row:
    id: int
    key: str
    name: str
    overrides: dict[str, Any]
    status: str
    attempts: int
    run_dir: str | None
    metrics: dict[str, Any] | None
    error: str | None
    seconds: float | None
    train_seconds: float | None
    search_trial: int | None = None  # the Optuna trial (number) this row's result is told to
    search_params: dict[str, Any] | None = None  # what the study suggested, to ask the same point again


T = TypeVar("T")


class StoreError(RegspecError, ValueError):
    """The sweep database cannot be used (not SQLite, or not a sweep's)."""


def _store_error(path: str, exc: Exception) -> StoreError:
    text = " ".join(str(exc).split())[:160]
    if isinstance(exc, sqlite3.OperationalError) and "disk is full" in text:
        return StoreError(f"cannot write {path}: {text} (free some space and run the same command again: "
                          "the sweep goes on where it stopped)")
    return StoreError(f"{path} is not a usable sweep database ({type(exc).__name__}: {text}); "
                      "move it away to start the sweep over")


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """A database damaged after it was opened (or rows edited by hand) is a StoreError naming the
    file, like one that cannot be opened, never a raw sqlite3 or JSON error."""
    @functools.wraps(method)
    def guarded(self: Store, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.DatabaseError, ValueError, TypeError, IndexError) as exc:
            raise _store_error(self.path, exc) from None

    return guarded


class Store:
    def __init__(self, path: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=60000")
            self.db.executescript(SCHEMA)
            have = {r[1] for r in self.db.execute("PRAGMA table_info(trials)")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in have:
                    self.db.execute(f"ALTER TABLE trials ADD COLUMN {column} {kind}")
            self.db.execute("SELECT id, key, name, overrides, status FROM trials LIMIT 1").fetchall()
        except (sqlite3.DatabaseError, ValueError) as exc:  # ValueError: text that is not UTF-8
            self.db.close()
            raise _store_error(path, exc) from None

    def close(self) -> None:
        self.db.close()

    @_guarded
    def add(self, trials: list[tuple[str, str, dict]]) -> int:
        """Insert (key, name, overrides) rows not there yet; returns how many were new."""
        before = self.count()
        with self._tx():
            self.db.executemany(
                "INSERT OR IGNORE INTO trials (key, name, overrides) VALUES (?, ?, ?)",
                [(k, n, json.dumps(o, sort_keys=True)) for k, n, o in trials],
            )
        return self.count() - before

    @_guarded
    def add_suggested(self, key: str, name: str, overrides: dict, number: int, params: dict) -> Row:
        """A point a search suggested, as study trial ``number``: a new pending row, or the row the
        point already has (told to this trial from now on, and pending again unless done or running)."""
        with self._tx():
            self.db.execute("INSERT OR IGNORE INTO trials (key, name, overrides) VALUES (?, ?, ?)",
                            (key, name, json.dumps(overrides, sort_keys=True)))
            self.db.execute("UPDATE trials SET search_trial=?, search_params=?, "
                            "status=CASE WHEN status IN ('queued', 'failed', 'interrupted') THEN 'pending' ELSE status END "
                            "WHERE key=?", (number, json.dumps(params, sort_keys=True), key))
        return self._row(self.db.execute(f"SELECT {self._cols} FROM trials WHERE key=?", (key,)).fetchone())

    @_guarded
    def queue_pending(self) -> list[Row]:
        """Pending rows wait, `queued`, until a search asks for their point again (and links them
        to its new trial): no worker trains a point no trial will be told about."""
        with self._tx():
            self.db.execute("UPDATE trials SET status='queued', worker=NULL WHERE status='pending'")
        return [self._row(r) for r in self.db.execute(f"SELECT {self._cols} FROM trials WHERE status='queued' ORDER BY id")]

    @_guarded
    def by_key(self, key: str) -> Row | None:
        r = self.db.execute(f"SELECT {self._cols} FROM trials WHERE key=?", (key,)).fetchone()
        return None if r is None else self._row(r)

    @_guarded
    def set_aside_damaged(self, planned: dict[str, tuple[str, dict]]) -> list[tuple[int, str]]:
        """Rows whose stored name or overrides are not what the plan gives for their key (the
        spec hash) were edited or damaged: each is set aside as `damaged` (its key freed, what
        it held kept in `error`), so that `add` plans the point again. Returns (id, name) of each."""
        damaged = []
        with self._tx():
            for trial_id, key, name, text in self.db.execute("SELECT id, key, name, overrides FROM trials").fetchall():
                if key not in planned:
                    continue
                want_name, want = planned[key]
                want_text = json.dumps(want, sort_keys=True)
                if name == want_name and text == want_text:
                    continue
                damaged.append((trial_id, str(name)))
                self.db.execute("UPDATE trials SET key=?, name=?, overrides=?, status='damaged', error=? WHERE id=?",
                                (f"{key}~damaged-{trial_id}", want_name, want_text,
                                 f"damaged row: it held name {str(name)[:80]!r} and overrides {str(text)[:200]!r}, "
                                 "which do not give its spec; planned again from the sweep file", trial_id))
        return damaged

    @_guarded
    def recover(self, keys: set[str] | None = None) -> int:
        """Trials left running by a dead runner, interrupted or failed before, go back to pending;
        with ``keys``, pending points not among them (removed from the sweep file) are set aside."""
        with self._tx():
            cur = self.db.execute("UPDATE trials SET status='pending', worker=NULL "
                                  "WHERE status IN ('running', 'failed', 'interrupted', 'removed', 'queued')")
            if keys is not None:
                wanted = set(keys)
                stale = [(r,) for (r, k) in self.db.execute("SELECT id, key FROM trials WHERE status='pending'")
                         if k not in wanted]
                self.db.executemany("UPDATE trials SET status='removed' WHERE id=?", stale)
        return cur.rowcount

    @_guarded
    def claim(self, worker: str) -> Row | None:
        with self._tx():
            row = self.db.execute("SELECT id FROM trials WHERE status='pending' ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            self.db.execute(
                "UPDATE trials SET status='running', attempts=attempts+1, worker=?, started=? WHERE id=?",
                (worker, time.time(), row[0]),
            )
        return self.get(row[0])

    @_guarded
    def finish(self, trial_id: int, status: str, *, run_dir: str | None = None, metrics: dict | None = None,
               error: str | None = None, seconds: float | None = None, train_seconds: float | None = None) -> None:
        with self._tx():
            self.db.execute(
                "UPDATE trials SET status=?, run_dir=?, metrics=?, error=?, finished=?, seconds=?, train_seconds=?"
                " WHERE id=?",
                (status, run_dir, json.dumps(metrics) if metrics is not None else None, error, time.time(),
                 seconds, train_seconds, trial_id),
            )

    @_guarded
    def get(self, trial_id: int) -> Row:
        return self._row(self.db.execute(f"SELECT {self._cols} FROM trials WHERE id=?", (trial_id,)).fetchone())

    @_guarded
    def rows(self) -> list[Row]:
        return [self._row(r) for r in self.db.execute(f"SELECT {self._cols} FROM trials ORDER BY id")]

    @_guarded
    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM trials GROUP BY status").fetchall())

    @_guarded
    def running_names(self) -> list[str]:
        return [name for (name,) in self.db.execute("SELECT name FROM trials WHERE status='running' ORDER BY id")]

    @_guarded
    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]

    _cols = ("id, key, name, overrides, status, attempts, run_dir, metrics, error, seconds, train_seconds, "
             "search_trial, search_params")

    @staticmethod
    def _row(r: tuple) -> Row:
        return Row(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], json.loads(r[7]) if r[7] else None,
                   r[8], r[9], r[10], r[11], json.loads(r[12]) if r[12] else None)

    def _tx(self) -> _Tx:
        return _Tx(self.db)


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def sweep_rows(folder: str) -> list[Row]:
    """The trials of the sweep in ``folder``, read once: what the report and compare list."""
    store = Store(layout.path(folder, layout.SWEEP_DB))
    try:
        return store.rows()
    finally:
        store.close()
