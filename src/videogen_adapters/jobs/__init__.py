"""Job stores: durable :class:`~videogen_core.JobRecord` keeping for the HTTP job API.

- :class:`SqliteJobStore` — the embedded default, one SQLite file in the data
  directory (WAL mode, thread-safe); a restarted server still knows every job.
- :class:`InMemoryJobStore` — the fake, for tests and throw-away processes.
- :class:`~videogen_adapters.jobs.redis.RedisJobStore` — jobs on a Redis/Valkey
  server, shared by processes (imported lazily: needs the ``redis`` package).

All pass ``tests/contract/test_jobstore.py``. :func:`build_job_store` picks one
from ``Settings.job_store``.
"""

from __future__ import annotations

from .factory import build_job_store
from .memory import InMemoryJobStore
from .records import JOB_STATUSES, TERMINAL_STATUSES
from .sqlite import SqliteJobStore

__all__ = [
    "JOB_STATUSES",
    "TERMINAL_STATUSES",
    "InMemoryJobStore",
    "SqliteJobStore",
    "build_job_store",
]
