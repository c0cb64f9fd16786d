"""``POST /generateVideos/<folder_id>`` — the seed's endpoint, sync or async."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Request, Response, jsonify, request

from videogen_adapters.converter import structure_request
from videogen_core import Busy, JobRecord, match_images, validate_sequence
from videogen_jobs.runner import TERMINAL

from ..errors import Conflict, error_response
from ..service import Service, current_service
from ..validation import check_callback_url, check_id, check_idempotency_key, read_json

__all__ = ["bp", "refuse_when_full", "wants_async"]

bp = Blueprint("generate", __name__)


def wants_async(req: Request) -> bool:
    """``Prefer: respond-async`` or ``?async=true`` (also 1/yes)."""
    prefer = ",".join(req.headers.getlist("Prefer")).lower()
    if any(p.strip().split(";")[0] == "respond-async" for p in prefer.split(",")):
        return True
    return req.args.get("async", "").strip().lower() in {"1", "true", "yes"}


def refuse_when_full(service: Service, req: Request) -> None:
    """Busy (429 with Retry-After) at once when this process's queue is full, before
    the body is parsed, validated or the folder listed: under a burst the refused
    submissions then cost next to nothing, and the threads stay free for
    ``/healthz``, status calls and the accepted jobs. So a full queue answers 429
    even to an invalid body (the same body gets its 400 once there is room).
    Not checked here: a request with an ``Idempotency-Key`` (a known key answers
    with its job even when the queue is full) and remote mode (the shared store
    counts the queue when the job is stored); :meth:`JobRunner.create` still
    enforces the bound for every request."""
    runner = service.runner
    if runner.dispatcher is not None or req.headers.get("Idempotency-Key") is not None:
        return
    stats = runner.stats()  # local mode: counters only, no store access
    if stats["queued"] >= stats["max_queue"]:
        raise Busy(f"{stats['max_queue']} jobs are already waiting; retry later",
                   retry_after=runner.suggested_retry_after())


def _create(folder_id: str, body: Any, scenes: int, key: str | None) -> JobRecord:
    job, created = current_service().runner.create(folder_id, body, scenes_total=scenes,
                                                   idempotency_key=key)
    if not created and (job.folder_id != folder_id or job.request != body):
        raise Conflict("this Idempotency-Key was used for a different request",
                       job_id=job.id, field="Idempotency-Key")
    return job


def _accepted(job_id: str) -> Response:
    """``202 {"job_id", "status_url"}`` with a Location header. The URL starts with
    ``VIDEOGEN_PUBLIC_BASE_URL`` (else the bind address), never the request's Host
    header, which any client can forge."""
    status_url = f"{current_service().base_url}/jobs/{job_id}"
    response = jsonify({"job_id": job_id, "status_url": status_url})
    response.status_code = 202
    response.headers["Location"] = status_url
    return response


@bp.post("/generateVideos/<folder_id>")
def generate_videos(folder_id: str) -> Response | tuple[Response, int]:
    """Make the video of ``folder_id``: the seed's body in, the seed's body out (200),
    or ``202 {"job_id", "status_url"}`` at once in async mode — and, with Celery
    workers, also in sync mode when the job has not ended within the sync timeout
    (the job keeps running; poll its status URL)."""
    service = current_service()
    check_id(folder_id, "folder_id")
    refuse_when_full(service, request)
    body = read_json(request, service.settings.max_body_kb * 1024)
    sequence = structure_request(body)
    validate_sequence(sequence, service.settings.animation())  # the configured limits, now
    check_callback_url(sequence.params.callback_url,
                       allow_private=service.settings.callback_allow_private)
    key = check_idempotency_key(request.headers.get("Idempotency-Key"))
    # fail fast on a missing folder or scene image instead of queueing a doomed job
    names = service.container.storage().list_images(folder_id)
    match_images([s.scene_number for s in sequence.scenes], names, folder_id)

    if wants_async(request):
        job = _create(folder_id, body, len(sequence.scenes), key)
        response = _accepted(job.id)
        response.headers["Preference-Applied"] = "respond-async"
        return response
    if not service.sync_slots.acquire(blocking=False):
        raise Busy("too many synchronous requests in progress; retry later or send "
                   "'Prefer: respond-async'", retry_after=service.runner.suggested_retry_after())
    try:
        job = _create(folder_id, body, len(sequence.scenes), key)
        job = service.runner.wait(job.id, timeout=service.runner.sync_timeout)
    finally:
        service.sync_slots.release()
    if job.status not in TERMINAL:  # only with a sync timeout (Celery workers)
        return _accepted(job.id)
    if job.status == "succeeded" and job.result is not None:
        response = jsonify(dict(job.result))
    else:
        response = error_response(dict(job.error or {"code": "internal_error",
                                                     "message": f"job {job.status}"}))
    response.headers["X-Videogen-Job-Id"] = job.id
    return response
