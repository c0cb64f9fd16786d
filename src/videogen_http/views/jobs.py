"""``/jobs/<job_id>``: status, Server-Sent Events of it, and cancellation.

An event stream holds a server (waitress) thread for as long as it is open, so
streams share the service's *held slots* with synchronous requests
(``VIDEOGEN_THREADS`` − 2 of them): the last two threads always stay free for
``/healthz``, ``GET /jobs/<id>`` and new submissions. A stream beyond the
slots is refused at once with 503 + Retry-After (poll ``GET /jobs/<id>``
meanwhile). A client that leaves frees its slot within about a second
(waitress reports the closed connection; a heartbeat comment every
:data:`KEEPALIVE_SECONDS` catches it too where that report is unavailable).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, jsonify, request

from videogen_core import ServiceUnavailable
from videogen_jobs.runner import TERMINAL

from ..service import Service, current_service
from ..validation import check_id

__all__ = ["bp", "sse_stream"]

bp = Blueprint("jobs", __name__)

#: Seconds between keep-alive comments on an idle event stream (they also reveal a
#: client that left: writing to its closed connection fails).
KEEPALIVE_SECONDS = 5.0
#: Seconds a refused stream is told to wait (Retry-After).
STREAM_RETRY_AFTER = 5


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


def sse_stream(service: Service, job_id: str, base: str,
               disconnected: Callable[[], bool] | None = None) -> Iterator[str]:
    """Events of one job: a ``data:`` snapshot (the job JSON) whenever it changes,
    keep-alive comments when idle, and ``event: end`` once the job is terminal.
    Stops early when ``disconnected()`` says the client left."""
    last: tuple[object, ...] = ()
    sent = time.monotonic()
    number = 0
    retry = f"retry: {STREAM_RETRY_AFTER * 1000}\n"  # EventSource's reconnection delay
    while True:
        if disconnected is not None and disconnected():
            return
        job = service.runner.get(job_id)
        state = (job.status, job.stage, job.percent, job.scenes_done, job.frames_done,
                 job.updated_at)
        if state != last:
            last = state
            number += 1
            sent = time.monotonic()
            yield f"{retry}id: {number}\ndata: {json.dumps(service.job_dict(job, base))}\n\n"
            retry = ""
        if job.status in TERMINAL:
            yield f"event: end\ndata: {json.dumps({'status': job.status})}\n\n"
            return
        if time.monotonic() - sent >= KEEPALIVE_SECONDS:
            sent = time.monotonic()
            yield ": keep-alive\n\n"
        service.runner.wait_for_change(0.5)


@bp.get("/jobs/<job_id>/events")
def job_events(job_id: str) -> Response:
    """``text/event-stream`` of the job until it ends; 503 + Retry-After when every
    held slot is taken (see the module docstring)."""
    service = current_service()
    check_id(job_id, "job_id")
    service.runner.get(job_id)  # 404 before the stream starts
    slots = service.sync_slots
    if not slots.acquire(blocking=False):
        raise ServiceUnavailable(
            "event streams", f"all {service.held_slots} long-lived request slots are in use; "
            f"poll GET /jobs/{job_id} or retry later", retry_after=STREAM_RETRY_AFTER,
            job_id=job_id)
    once = threading.Lock()

    def release() -> None:
        if once.acquire(blocking=False):
            slots.release()

    try:
        disconnected = request.environ.get("waitress.client_disconnected")
        stream = sse_stream(service, job_id, _base(),
                            disconnected if callable(disconnected) else None)
        response = Response(stream, mimetype="text/event-stream",
                            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        response.call_on_close(release)  # the server closes the stream when it ends or fails
    except BaseException:
        release()
        raise
    return response
