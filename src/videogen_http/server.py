"""Run the service on waitress (a production WSGI server; never Flask's dev server)."""

from __future__ import annotations

import logging

import attrs

from videogen_adapters.config import Settings

from .app import create_app

__all__ = ["serve"]

log = logging.getLogger("videogen.http")


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None,
          threads: int | None = None) -> None:
    """Serve until interrupted. ``host``/``port``/``threads`` win over
    ``VIDEOGEN_HOST``/``VIDEOGEN_PORT``/``VIDEOGEN_THREADS`` (defaults 127.0.0.1:8000, 8).
    Local storage URLs point at ``VIDEOGEN_PUBLIC_BASE_URL`` or ``http://host:port``."""
    import waitress

    settings = settings or Settings.from_env()
    changes = {k: v for k, v in (("host", host), ("port", port), ("threads", threads))
               if v is not None}
    settings = attrs.evolve(settings, **changes)
    app = create_app(settings)
    log.info("videogen serving on http://%s:%d (%d threads, data in %s)", settings.host,
             settings.port, settings.threads, settings.data_dir)
    waitress.serve(app, host=settings.host, port=settings.port, threads=settings.threads,
                   ident="videogen", channel_timeout=300)
