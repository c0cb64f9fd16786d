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
    import waitress  # type: ignore[import-untyped]

    settings = settings or Settings.from_env()
    settings = attrs.evolve(settings, host=settings.host if host is None else host,
                            port=settings.port if port is None else port,
                            threads=settings.threads if threads is None else threads)
    if not logging.getLogger().handlers:  # the CLI configures logging; plain callers get this
        logging.basicConfig(level=settings.log_level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    log.info("videogen serving on http://%s:%d (%d threads, data in %s)", settings.host,
             settings.port, settings.threads, settings.data_dir)
    # channel_request_lookahead: waitress keeps reading a busy connection, so it
    # notices a client that left (an event stream then frees its thread at once)
    from .dispatch import HealthFirstDispatcher

    dispatcher = HealthFirstDispatcher()  # /healthz ahead of queued requests
    dispatcher.set_thread_count(settings.threads)
    waitress.serve(app, host=settings.host, port=settings.port, threads=settings.threads,
                   ident="videogen", channel_timeout=300, channel_request_lookahead=1,
                   _dispatcher=dispatcher)
