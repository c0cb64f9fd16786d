"""Rules every job store shares: statuses, allowed changes, JSON (de)serialisation.

The stores import this module; it imports none of them (building a store from
settings is :mod:`videogen_adapters.jobs.factory`'s job).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import attrs

from videogen_core import Busy, InvalidRequest, JobRecord
from videogen_jobs.recording import JOB_STATUSES, TERMINAL_STATUSES

__all__ = [
    "JOB_STATUSES",
    "TERMINAL_STATUSES",
    "UPDATABLE_FIELDS",
    "apply_changes",
    "check_limit",
    "check_new",
    "matches",
    "record_from_row",
    "record_to_row",
]

#: Fields :meth:`JobStore.update` may change (``id``, ``created_at`` and the key never change).
UPDATABLE_FIELDS = frozenset(
    a.name for a in attrs.fields(JobRecord)
) - {"id", "created_at", "idempotency_key", "updated_at"}

_JSON_FIELDS = ("request", "warnings", "result", "error")


def apply_changes(job: JobRecord, changes: Mapping[str, Any], now: float | None = None
                  ) -> JobRecord:
    """``job`` with ``changes`` applied and ``updated_at`` set; unknown fields or
    statuses raise InvalidRequest (a programming error, never user input)."""
    unknown = sorted(set(changes) - UPDATABLE_FIELDS)
    if unknown:
        raise InvalidRequest(unknown[0], "is not an updatable job field", None, unknown=unknown)
    status = changes.get("status", job.status)
    if status not in JOB_STATUSES:
        raise InvalidRequest("status", f"must be one of {', '.join(JOB_STATUSES)}", status)
    values = dict(changes)
    if "warnings" in values:
        values["warnings"] = tuple(values["warnings"])
    stamp = time.time() if now is None else now
    return attrs.evolve(job, **values, updated_at=max(stamp, job.updated_at))


def matches(job: JobRecord, expected: Mapping[str, Any]) -> bool:
    """Whether every field named in ``expected`` has that value in ``job``
    (``update_if``'s condition)."""
    return all(getattr(job, name) == value for name, value in expected.items())


def check_limit(count: int, limit: int, status: str) -> None:
    """Busy when ``count`` jobs in ``status`` already reach ``limit`` (a store's
    ``create(..., limit=...)``; the runner turns it into its 429)."""
    if count >= limit:
        raise Busy(f"{limit} jobs are already {status}")


def check_new(job: JobRecord) -> JobRecord:
    """Validate a record about to be created and stamp its times."""
    if not job.id:
        raise InvalidRequest("id", "must not be empty")
    if job.status not in JOB_STATUSES:
        raise InvalidRequest("status", f"must be one of {', '.join(JOB_STATUSES)}", job.status)
    now = time.time()
    created = job.created_at or now
    return attrs.evolve(job, created_at=created, updated_at=job.updated_at or created,
                        warnings=tuple(job.warnings))


def record_to_row(job: JobRecord) -> dict[str, Any]:
    """A flat dict of SQL-storable values (JSON text for the structured fields)."""
    row = attrs.asdict(job, recurse=False)
    for name in _JSON_FIELDS:
        value = row[name]
        if name == "warnings":
            value = list(value)
        row[name] = None if value is None else json.dumps(value, sort_keys=True)
    return row


def record_from_row(row: Mapping[str, Any]) -> JobRecord:
    """The inverse of :func:`record_to_row`."""
    values = dict(row)
    for name in _JSON_FIELDS:
        raw = values.get(name)
        values[name] = None if raw is None else json.loads(raw)
    values["warnings"] = tuple(values.get("warnings") or ())
    values["cancel_requested"] = bool(values.get("cancel_requested") or False)
    if values.get("request") is None:
        values["request"] = {}
    return JobRecord(**values)
