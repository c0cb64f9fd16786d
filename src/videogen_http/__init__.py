"""videogen_http — the Flask service over the videogen pipeline.

``create_app(settings)`` builds the app (nothing is built at import time);
``serve(settings, host=None, port=None, threads=None)`` runs it on waitress
(``videogen serve``). The full contract is served at ``/openapi.json``.

==========================================  ==============================================
``POST /generateVideos/<folder_id>``        the seed's body in, the seed's body out (sync);
                                            ``Prefer: respond-async`` / ``?async=true`` →
                                            ``202 {"job_id", "status_url"}``;
                                            ``Idempotency-Key`` → the same job
``GET /jobs/<job_id>``                      status, stage, percent, scenes, ETA, warnings,
                                            ``result`` (the seed's body) or ``error``
``GET /jobs/<job_id>/events``               Server-Sent Events of the same, until the end
``DELETE /jobs/<job_id>``                   cancel (rendering stops, temp files go)
``POST|GET /folders/<folder_id>/images``    multipart image upload / listing
``GET /media/<key>``                        stored files with Range support
``GET /healthz``, ``GET /readyz``           alive / every backend answers (503 naming it)
==========================================  ==============================================

Configuration (``VIDEOGEN_*``): ``HOST``, ``PORT``, ``THREADS``, ``PUBLIC_BASE_URL``
(base of local ``video_url``\\ s, default ``http://HOST:PORT``), ``API_TOKEN``
(bearer token on every endpoint but /healthz), ``MAX_JOBS`` (jobs running at
once), ``MAX_QUEUE`` (jobs waiting; beyond → 429 + Retry-After), ``MAX_BODY_KB``,
``MAX_UPLOAD_MB``, ``CALLBACK_SECRET`` (HMAC key of ``X-Videogen-Signature``,
see :mod:`videogen_jobs.callbacks`), ``JOB_STORE`` (sqlite in the data dir |
memory). Errors are always ``{"success": false, "error": {"code", "message",
"details"}}``; :mod:`videogen_http.errors` maps codes to statuses.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["Container", "create_app", "serve"]

_LAZY = {
    "create_app": "videogen_http.app",
    "serve": "videogen_http.server",
    "Container": "videogen_http.containers",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'videogen_http' has no attribute {name!r}")
