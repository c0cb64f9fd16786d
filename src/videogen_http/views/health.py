"""``/healthz``, ``/readyz`` and ``/openapi.json``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify

from videogen_core import ServiceUnavailable, VideogenError

from ..errors import error_response
from ..openapi import openapi_document
from ..service import Service, current_service

__all__ = ["BACKENDS", "bp", "probe"]

bp = Blueprint("health", __name__)
log = logging.getLogger("videogen.http")

#: Container providers checked by /readyz, in order (plus ``dispatcher``, the
#: Celery broker, when jobs run on workers).
BACKENDS = ("job_store", "storage", "renderer", "narrator", "music", "muxer", "executor")


def probe(name: str, adapter: Any) -> None:
    """Ask one backend whether it answers: its own ``check()`` when it has one,
    else a cheap real call (storage ``exists``, narrator ``voices``, music ``moods``)."""
    if adapter is None:
        return
    check = getattr(adapter, "check", None)
    if callable(check):
        check()
    elif name == "storage":
        adapter.exists("readyz-probe/none")
    elif name == "narrator":
        adapter.voices()
    elif name == "music":
        adapter.moods()


def readiness(service: Service) -> dict[str, dict[str, Any]]:
    """``{backend: {"ok": bool, "adapter": name, "error": ...}}`` for every backend."""
    report: dict[str, dict[str, Any]] = {}
    dispatcher = service.runner.dispatcher
    remote = ("dispatcher",) if dispatcher is not None else ()
    for name in (*BACKENDS, *remote):
        entry: dict[str, Any] = {"ok": True}
        if name == "executor" and dispatcher is not None:
            # jobs run on the dispatcher's workers, not on this process's pool
            report[name] = {"ok": True, "adapter": getattr(dispatcher, "name", "remote")}
            continue
        try:
            adapter = getattr(service.container, name)()
            entry["adapter"] = getattr(adapter, "name", type(adapter).__name__)
            probe(name, adapter)
        except VideogenError as exc:
            entry.update(ok=False, error=exc.to_dict())
        except Exception as exc:  # noqa: BLE001 - a broken backend is reported, not raised
            entry.update(ok=False, error={"code": "service_unavailable",
                                          "message": f"{type(exc).__name__}: {exc}",
                                          "details": {}})
        report[name] = entry
    return report


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive (no backend is asked; no token needed)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """200 when every configured backend answers, else 503 naming those that do not."""
    service = current_service()
    report = readiness(service)
    failing = [name for name, entry in report.items() if not entry["ok"]]
    if not failing:
        return jsonify({"status": "ready", "backends": report, "jobs": service.runner.stats()})
    log.warning("not ready: %s", ", ".join(failing))
    return error_response({"code": ServiceUnavailable.code,
                           "message": f"not ready: {', '.join(failing)} unavailable",
                           "details": {"unavailable": failing, "backends": report,
                                       "retry_after": 5}})


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this service."""
    return jsonify(openapi_document())
