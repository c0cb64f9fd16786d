"""The job's JSON: what ``GET /jobs/<job_id>`` shows and a completion callback carries.

One function for both, whoever renders the job (an API server's thread or a
Celery worker), so the callback body is the job exactly as the API shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from videogen_core import JobRecord

from .scrub import scrub

__all__ = ["iso", "job_to_dict"]


def iso(stamp: float) -> str:
    """A Unix time as ISO 8601 UTC (``2026-11-25T09:00:00.123Z``)."""
    text = datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def job_to_dict(job: JobRecord, base_url: str, *, cancel_requested: bool = False,
                stale: bool = False) -> dict[str, Any]:
    """The job as ``GET /jobs/<job_id>`` shows it; ``result`` is the seed's
    response body once the job succeeded, ``error`` the error object once it
    failed — scrubbed like every error body (no server path, no 10 KB echo)."""
    base = base_url.rstrip("/")
    error = None if job.error is None else dict(job.error)
    if error:
        message, details = scrub(str(error.get("message", "")), error.get("details") or {})
        error.update(message=message, details=details)
    return {
        "job_id": job.id,
        "folder_id": job.folder_id,
        "status": job.status,
        "stage": job.stage,
        "percent": round(float(job.percent), 2),
        "scenes_done": min(job.scenes_done, job.scenes_total) if job.scenes_total
        else job.scenes_done,
        "scenes_total": job.scenes_total,
        "frames_done": job.frames_done,
        "frames_total": job.frames_total,
        "eta_seconds": job.eta_seconds,
        "warnings": list(job.warnings),
        "result": None if job.result is None else dict(job.result),
        "error": error,
        "cancel_requested": cancel_requested,
        "stale": stale,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "status_url": f"{base}/jobs/{job.id}",
        "events_url": f"{base}/jobs/{job.id}/events",
    }
