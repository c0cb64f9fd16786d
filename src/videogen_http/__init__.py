"""videogen_http — the Flask service: the seed's endpoint, async jobs, uploads, media.

``create_app(settings)`` builds the app (nothing is built at import time);
``serve(settings, host=None, port=None, threads=None)`` runs it on waitress.
The OpenAPI document is served at ``/openapi.json``.
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
