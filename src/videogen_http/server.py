"""Run the service on waitress (a production WSGI server; never Flask's dev server).

waitress reads a request's whole body before the app sees it. So the checks the
headers alone decide — the bearer token and the announced ``Content-Length``
(:func:`videogen_http.app.check_head`) — run inside waitress too, as soon as
the headers are parsed: an unauthenticated or oversized upload is refused
(JSON 401/413, connection closed) before its first body byte is read.
waitress's own error answers (a malformed request, a chunked body over the
limit...) are JSON envelopes as well, never ``text/plain``. A ``GET /healthz``
is answered by the I/O thread itself as soon as it is parsed (no task thread;
see :mod:`videogen_http.dispatch`), and :func:`serve` shortens Python's switch
interval (:data:`SWITCH_INTERVAL`) so that thread waits less for the GIL
while jobs render in this process.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from typing import Any

import attrs
from flask import Flask

from videogen_adapters.config import Settings
from videogen_core import VideogenError

from .app import body_limit, check_head, create_app, endpoint_of
from .errors import code_for_status, error_body, status_for

__all__ = ["SWITCH_INTERVAL", "edge_channel", "make_server", "serve"]

log = logging.getLogger("videogen.http")

#: ``sys.setswitchinterval`` of ``videogen serve`` (Python's default is 5 ms): how
#: long the I/O thread may wait for the GIL while render threads compute before
#: it asks for it. With jobs rendering in this process (the thread executor),
#: 1 ms kept ``/healthz`` and the other requests answering promptly under load.
SWITCH_INTERVAL = 0.001


def _waitress_error_class() -> type[Any]:
    from waitress.utilities import Error  # type: ignore[import-untyped]

    class EdgeRefusal(Error):  # type: ignore[misc]
        """A request refused from its headers: the domain error, as waitress carries it."""

        def __init__(self, error: VideogenError) -> None:
            super().__init__(error.message)
            self.error = error
            self.code = status_for(error)
            self.reason = {401: "Unauthorized", 413: "Content Too Large"}.get(self.code, "Error")

    return EdgeRefusal


def _json_response(error: Any) -> tuple[str, list[tuple[str, str]], bytes]:
    """``(status line, headers, body)`` of a waitress error as the JSON envelope."""
    status = int(getattr(error, "code", 500))
    inner = getattr(error, "error", None)
    headers = [("Content-Type", "application/json")]
    if isinstance(inner, VideogenError):
        body = error_body(inner.code, inner.message, inner.details)
    else:  # waitress's own: BadRequest, RequestEntityTooLarge, ServerNotImplemented...
        body = error_body(code_for_status(status), f"{error.reason}: {error.body}", {})
    if status == 401:
        headers.append(("WWW-Authenticate", 'Bearer realm="videogen"'))
    return (f"{status} {error.reason}", headers,
            json.dumps(body, ensure_ascii=False).encode("utf-8"))


def edge_channel(app: Flask, settings: Settings) -> type[Any]:
    """A waitress channel class whose parser runs :func:`check_head` once the headers
    of a request that announces a body are in, and whose error answers are JSON."""
    from waitress.channel import HTTPChannel  # type: ignore[import-untyped]
    from waitress.parser import HTTPRequestParser  # type: ignore[import-untyped]
    from waitress.task import ErrorTask  # type: ignore[import-untyped]

    refusal_class = _waitress_error_class()

    class EdgeParser(HTTPRequestParser):  # type: ignore[misc]
        def parse_header(self, header_plus: bytes) -> None:
            super().parse_header(header_plus)
            announced: int = getattr(self, "content_length", 0)
            chunked: bool = getattr(self, "chunked", False)
            if not (announced > 0 or chunked):
                return  # no body to spare: the app answers as usual
            length = None if chunked else announced
            endpoint = endpoint_of(app, self.command, self.path)
            try:
                check_head(settings, endpoint, self.headers.get("AUTHORIZATION", ""), length)
            except VideogenError as exc:
                log.info("%s %s %d refused from its headers (%s)", self.command, self.path,
                         status_for(exc), exc.code)
                self.error = refusal_class(exc)
                self.completed = True
                self.expect_continue = False  # no "100 Continue": the body is not wanted
                self.content_length = 0  # waitress must not read (or size-check) the body

    class JsonErrorTask(ErrorTask):  # type: ignore[misc]
        def execute(self) -> None:
            status, headers, body = _json_response(self.request.error)
            self.status = status
            self.response_headers.extend(headers)
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class EdgeChannel(HTTPChannel):  # type: ignore[misc]
        parser_class = EdgeParser
        error_task_class = JsonErrorTask
        #: the thread running :meth:`received` (the I/O thread), None outside it
        receiving_in: int | None = None
        #: set by :class:`HealthFirstDispatcher`: a health check to answer right here
        answer_now = False

        def received(self, data: bytes) -> bool:
            """Parse ``data``; a complete ``GET /healthz`` is answered at once, in
            this (the I/O) thread: no wait for a task thread, no hand-back to
            the I/O loop for sending (see :mod:`videogen_http.dispatch`)."""
            self.receiving_in = threading.get_ident()
            try:
                handled: bool = super().received(data)
            finally:
                self.receiving_in = None
            if self.answer_now:
                self.answer_now = False
                self.service()  # the app's /healthz view, as a task thread would run it
                self.handle_write()  # send now; what is left goes out with the loop
            return handled

    return EdgeChannel


def make_server(app: Flask, settings: Settings) -> Any:
    """A waitress server for ``app`` with the edge channel (not started)."""
    from waitress.server import BaseWSGIServer, create_server  # type: ignore[import-untyped]

    # waitress's own body limit sits above ours, so our JSON 413 is the one that answers
    largest = max(body_limit(settings, "folders.upload_images"), body_limit(settings, None))
    from .dispatch import HealthFirstDispatcher

    dispatcher = HealthFirstDispatcher()  # /healthz ahead of queued requests
    dispatcher.set_thread_count(settings.threads)
    # channel_request_lookahead: waitress keeps reading a busy connection, so it
    # notices a client that left (an event stream then frees its thread at once)
    server = create_server(app, host=settings.host, port=settings.port,
                           threads=settings.threads, ident="videogen", channel_timeout=300,
                           channel_request_lookahead=1, _dispatcher=dispatcher,
                           max_request_body_size=largest + 65_536)
    channel = edge_channel(app, settings)
    servers = [server, *getattr(server, "map", {}).values()]
    for each in servers:
        if isinstance(each, BaseWSGIServer):
            each.channel_class = channel
    return server


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None,
          threads: int | None = None) -> None:
    """Serve until interrupted. ``host``/``port``/``threads`` win over
    ``VIDEOGEN_HOST``/``VIDEOGEN_PORT``/``VIDEOGEN_THREADS`` (defaults 127.0.0.1:8000, 8).
    Local storage URLs point at ``VIDEOGEN_PUBLIC_BASE_URL`` or ``http://host:port``."""
    settings = settings or Settings.from_env()
    settings = attrs.evolve(settings, host=settings.host if host is None else host,
                            port=settings.port if port is None else port,
                            threads=settings.threads if threads is None else threads)
    if not logging.getLogger().handlers:  # the CLI configures logging; plain callers get this
        logging.basicConfig(level=settings.log_level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    sys.setswitchinterval(SWITCH_INTERVAL)
    server = make_server(app, settings)
    log.info("videogen serving on http://%s:%d (%d threads, data in %s)", settings.host,
             settings.port, settings.threads, settings.data_dir)
    server.run()
