"""``/jobs/<job_id>``: status, Server-Sent Events of it, and cancellation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, jsonify

from ..runner import TERMINAL
from ..service import Service, current_service
from ..validation import check_id

__all__ = ["bp", "sse_stream"]

bp = Blueprint("jobs", __name__)

#: Seconds between keep-alive comments on an idle event stream.
KEEPALIVE_SECONDS = 15.0


def _base() -> str:
    # VIDEOGEN_PUBLIC_BASE_URL or the bind address: never the (forgeable) Host header
    return current_service().base_url


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    """The job: status, stage, percent, scenes done, ETA, warnings, result or error."""
    service = current_service()
    check_id(job_id, "job_id")
    return jsonify(service.job_dict(service.runner.get(job_id), _base()))


@bp.delete("/jobs/<job_id>")
def cancel_job(job_id: str) -> tuple[Response, int]:
    """Cancel: 200 when the job is cancelled now (it was queued, or already
    cancelled), 202 when a running job was asked to stop; 409 for a finished job."""
    service = current_service()
    check_id(job_id, "job_id")
    job = service.runner.cancel(job_id)
    return jsonify(service.job_dict(job, _base())), 200 if job.status == "cancelled" else 202


def sse_stream(service: Service, job_id: str, base: str) -> Iterator[str]:
    """Events of one job: a ``data:`` snapshot (the job JSON) whenever it changes,
    keep-alive comments when idle, and ``event: end`` once the job is terminal."""
    last: tuple[object, ...] = ()
    sent = time.monotonic()
    number = 0
    while True:
        job = service.runner.get(job_id)
        state = (job.status, job.stage, job.percent, job.scenes_done, job.updated_at)
        if state != last:
            last = state
            number += 1
            sent = time.monotonic()
            yield f"id: {number}\ndata: {json.dumps(service.job_dict(job, base))}\n\n"
        if job.status in TERMINAL:
            yield f"event: end\ndata: {json.dumps({'status': job.status})}\n\n"
            return
        if time.monotonic() - sent >= KEEPALIVE_SECONDS:
            sent = time.monotonic()
            yield ": keep-alive\n\n"
        service.runner.wait_for_change(0.5)


@bp.get("/jobs/<job_id>/events")
def job_events(job_id: str) -> Response:
    """``text/event-stream`` of the job until it ends."""
    service = current_service()
    check_id(job_id, "job_id")
    service.runner.get(job_id)  # 404 before the stream starts
    stream = sse_stream(service, job_id, _base())
    return Response(stream, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
