"""The embedded job store: one SQLite file (WAL), safe across threads and restarts."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from videogen_core import InvalidRequest, JobRecord, NotFound, ServiceUnavailable

from .records import (
    apply_changes,
    check_limit,
    check_new,
    matches,
    record_from_row,
    record_to_row,
)

__all__ = ["SqliteJobStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    folder_id TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT '',
    percent REAL NOT NULL DEFAULT 0,
    scenes_done INTEGER NOT NULL DEFAULT 0,
    scenes_total INTEGER NOT NULL DEFAULT 0,
    eta_seconds REAL,
    warnings TEXT NOT NULL DEFAULT '[]',
    result TEXT,
    error TEXT,
    idempotency_key TEXT UNIQUE,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    frames_done INTEGER NOT NULL DEFAULT 0,
    frames_total INTEGER NOT NULL DEFAULT 0,
    base_url TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created_at);
"""

_COLUMNS = tuple(a.name for a in attrs.fields(JobRecord))
#: Columns added after the first release, with their definitions (additive only).
_ADDED_COLUMNS = {"cancel_requested": "INTEGER NOT NULL DEFAULT 0",
                  "frames_done": "INTEGER NOT NULL DEFAULT 0",
                  "frames_total": "INTEGER NOT NULL DEFAULT 0",
                  "base_url": "TEXT NOT NULL DEFAULT ''"}

#: jobs in one status (answered from the ``jobs_status`` index)
_COUNT_STATUS = "SELECT COUNT(*) FROM jobs WHERE status = ?"


def _migrate(conn: sqlite3.Connection) -> None:
    """Add the columns a database made by an older version lacks."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
    for name, definition in _ADDED_COLUMNS.items():
        if name not in present:
            conn.execute(f"ALTER TABLE jobs ADD COLUMN {name} {definition}")


class SqliteJobStore:
    """Jobs in the SQLite database at ``path`` (created with its parent directory).

    One connection serialised by a lock: SQLite writes are serial anyway and a
    job store sees a few writes a second. WAL mode lets other processes (a
    ``videogen`` CLI looking at jobs) read while the server writes.
    """

    name = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    # ------------------------------------------------------------ plumbing
    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30,
                                       isolation_level=None)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
                _migrate(conn)
            except (OSError, sqlite3.Error) as exc:
                raise ServiceUnavailable("job store", f"cannot open {self.path}: {exc}",
                                         path=str(self.path)) from exc
            self._conn = conn
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise ServiceUnavailable("job store", str(exc),
                                             path=str(self.path)) from exc
                raise

    def _select(self, conn: sqlite3.Connection, job_id: str) -> JobRecord | None:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else record_from_row(dict(row))

    def _read(self, query: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """The rows of a read-only ``query``; a database error is ServiceUnavailable."""
        with self._lock:
            try:
                return self._connect().execute(query, params).fetchall()
            except sqlite3.Error as exc:
                raise ServiceUnavailable("job store", str(exc), path=str(self.path)) from exc

    # ---------------------------------------------------------------- port
    def create(self, job: JobRecord, *, limit: int | None = None) -> JobRecord:
        """Insert ``job``; a known ``idempotency_key`` returns the job that holds it;
        Busy when ``limit`` jobs already have its status, counted inside the same
        write transaction (``BEGIN IMMEDIATE``: one writer at a time)."""
        job = check_new(job)
        row = record_to_row(job)
        with self._transaction() as conn:
            if job.idempotency_key is not None:
                found = conn.execute("SELECT * FROM jobs WHERE idempotency_key = ?",
                                     (job.idempotency_key,)).fetchone()
                if found is not None:
                    return record_from_row(dict(found))
            if self._select(conn, job.id) is not None:
                raise InvalidRequest("id", "a job with this id already exists", job.id)
            if limit is not None:
                (count,) = conn.execute(_COUNT_STATUS, (job.status,)).fetchone()
                check_limit(int(count), limit, job.status)
            names = ", ".join(_COLUMNS)
            marks = ", ".join(f":{c}" for c in _COLUMNS)
            conn.execute(f"INSERT INTO jobs ({names}) VALUES ({marks})", row)  # noqa: S608
        return job

    def get(self, job_id: str) -> JobRecord:
        """The job; NotFound when unknown."""
        rows = self._read("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            raise NotFound(f"job {job_id!r} does not exist", job_id=job_id)
        return record_from_row(dict(rows[0]))

    def find_by_idempotency_key(self, key: str) -> JobRecord | None:
        """The job created with ``key``, or None."""
        rows = self._read("SELECT * FROM jobs WHERE idempotency_key = ?", (key,))
        return record_from_row(dict(rows[0])) if rows else None

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Apply ``changes`` in one transaction and return the new record."""
        with self._transaction() as conn:
            job = self._select(conn, job_id)
            if job is None:
                raise NotFound(f"job {job_id!r} does not exist", job_id=job_id)
            new = apply_changes(job, changes)
            row = record_to_row(new)
            names = sorted(set(changes) | {"updated_at"})
            assignments = ", ".join(f"{n} = :{n}" for n in names)
            conn.execute(f"UPDATE jobs SET {assignments} WHERE id = :id",  # noqa: S608
                         {n: row[n] for n in [*names, "id"]})
        return new

    def update_if(self, job_id: str, expected: Mapping[str, Any], **changes: Any
                  ) -> JobRecord | None:
        """Apply ``changes`` in one transaction only while the job's fields equal
        ``expected``; None when they do not."""
        with self._transaction() as conn:
            job = self._select(conn, job_id)
            if job is None:
                raise NotFound(f"job {job_id!r} does not exist", job_id=job_id)
            if not matches(job, expected):
                return None
            new = apply_changes(job, changes)
            row = record_to_row(new)
            names = sorted(set(changes) | {"updated_at"})
            assignments = ", ".join(f"{n} = :{n}" for n in names)
            conn.execute(f"UPDATE jobs SET {assignments} WHERE id = :id",  # noqa: S608
                         {n: row[n] for n in [*names, "id"]})
        return new

    def delete(self, job_id: str) -> None:
        """Forget the job (its idempotency key goes with the row)."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def list(self, statuses: Iterable[str] = ()) -> list[JobRecord]:
        """Jobs (only those in ``statuses`` when given), oldest first."""
        wanted = list(statuses)
        query = "SELECT * FROM jobs"
        if wanted:
            query += f" WHERE status IN ({', '.join('?' for _ in wanted)})"
        query += " ORDER BY created_at, rowid"
        return [record_from_row(dict(r)) for r in self._read(query, wanted)]

    def count(self, status: str) -> int:
        """How many jobs are in ``status`` (answered from the ``jobs_status`` index)."""
        return int(self._read(_COUNT_STATUS, (status,))[0][0])

    # -------------------------------------------------------------- extras
    def check(self) -> None:
        """Raise ServiceUnavailable when the database cannot be read."""
        with self._lock:
            try:
                self._connect().execute("SELECT 1").fetchone()
            except sqlite3.Error as exc:
                raise ServiceUnavailable("job store", str(exc), path=str(self.path)) from exc

    def close(self) -> None:
        """Close the connection (it reopens on next use)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
