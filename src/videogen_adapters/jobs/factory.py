"""The job store ``Settings.job_store`` names, built from settings.

Kept apart from :mod:`~videogen_adapters.jobs.records` (the rules every store
imports) so that no store module imports the module that builds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from videogen_core import InvalidRequest, JobStore

from ..config import STATE_DIR_NAME
from .memory import InMemoryJobStore
from .sqlite import SqliteJobStore

__all__ = ["build_job_store"]


def _sqlite_path(settings: Any) -> Path:
    """``<data_dir>/.videogen/jobs.sqlite3``; a database an older version kept at
    ``<data_dir>/jobs.sqlite3`` (where a folder id could name it) is moved there first."""
    state = Path(settings.data_dir) / STATE_DIR_NAME
    path = state / "jobs.sqlite3"
    old = Path(settings.data_dir) / "jobs.sqlite3"
    if old.is_file() and not path.exists():
        state.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{old}{suffix}").is_file():
                Path(f"{old}{suffix}").replace(f"{path}{suffix}")
    return path


def build_job_store(settings: Any) -> JobStore:
    """The job store ``settings.job_store`` names: ``sqlite`` →
    ``<data_dir>/.videogen/jobs.sqlite3``,
    ``redis`` → ``VIDEOGEN_REDIS_URL`` (else ``VIDEOGEN_BROKER_URL``), ``memory``."""
    kind = settings.job_store
    if kind == "memory":
        return InMemoryJobStore()
    if kind == "sqlite":
        return SqliteJobStore(_sqlite_path(settings))
    if kind == "redis":
        from .redis import RedisJobStore  # needs the optional ``redis`` package

        return RedisJobStore.from_url(settings.redis_url or settings.broker_url)
    raise InvalidRequest("VIDEOGEN_JOB_STORE", f"job store {kind!r} is not available here", kind)
