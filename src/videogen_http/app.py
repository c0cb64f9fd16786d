"""The Flask app factory.

The edge answers in JSON only: Flask's slash-merging and trailing-slash
redirects (HTML 308s) and its automatic ``OPTIONS`` answers are turned off, so
``//`` or ``%2f`` paths are JSON 404s and ``OPTIONS`` a JSON 405. The token and
the announced ``Content-Length`` are checked from the headers, before anything
reads the body (:func:`check_head`; :mod:`videogen_http.server` runs the same
check inside waitress, before the body is even received).
"""

from __future__ import annotations

import hmac
import logging
import time

from dependency_injector import providers
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect

from videogen_adapters.config import Settings

from .containers import Container
from .errors import PayloadTooLarge, Unauthorized, register_error_handlers
from .service import Service, default_base_url
from .views import register_views
from .views.capabilities import bp as capabilities_bp
from .views.preview import bp as preview_bp
from .views.studio import bp as studio_bp

__all__ = ["body_limit", "check_head", "create_app", "endpoint_of"]

log = logging.getLogger("videogen.http")

#: Endpoints anyone may call even when VIDEOGEN_API_TOKEN is set (the Studio page and
#: its static files: a browser cannot send the token for them; they hold no data).
PUBLIC_ENDPOINTS = frozenset({"health.healthz", "studio.index", "studio.asset"})
#: Endpoints taking large multipart bodies (VIDEOGEN_MAX_UPLOAD_MB instead of _MAX_BODY_KB).
UPLOAD_ENDPOINTS = frozenset({"folders.upload_images"})


def create_app(config: Settings | None = None, *, container: Container | None = None,
               recovery: str = "resume") -> Flask:
    """Build the app: settings (from the environment when None), the container
    (``container`` lets tests pass one with overridden providers), the job
    runner, and — through ``recovery`` (``resume`` | ``fail``) — what happens to
    jobs an earlier process left queued or running."""
    settings = config or Settings.from_env()
    if container is None:
        container = Container(settings=providers.Object(settings))
    else:
        container.settings.override(providers.Object(settings))
    container.public_base_url.override(providers.Object(default_base_url(settings)))

    app = Flask("videogen_http")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024
    # JSON-only edge: no automatic (HTML) OPTIONS answers, no `//` → `/` redirects
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.url_map.merge_slashes = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    service = Service(settings, container, recovery=recovery)
    app.extensions["videogen"] = service
    register_error_handlers(app)
    register_views(app)
    for blueprint in (studio_bp, capabilities_bp, preview_bp):  # the Studio (issue 16)
        app.register_blueprint(blueprint)
    _install_hooks(app, settings)
    recovered = service.runner.recover(recovery)
    if recovered:
        log.info("start-up: %d unfinished job(s) found (%s)", len(recovered), recovery)
    return app


def body_limit(settings: Settings, endpoint: str | None) -> int:
    """The largest body (bytes) ``endpoint`` takes: uploads ``VIDEOGEN_MAX_UPLOAD_MB``,
    everything else ``VIDEOGEN_MAX_BODY_KB``."""
    if endpoint in UPLOAD_ENDPOINTS:
        return settings.max_upload_mb * 1024 * 1024
    return settings.max_body_kb * 1024


def endpoint_of(app: Flask, method: str, path: str) -> str | None:
    """The endpoint ``method path`` routes to, None when it routes nowhere."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method=method)
    except HTTPException:  # NotFound, MethodNotAllowed, RequestRedirect
        return None
    return str(endpoint)


def check_head(settings: Settings, endpoint: str | None, authorization: str,
               content_length: int | None) -> None:
    """What the headers alone decide: 401 without the right bearer token (except on
    public endpoints), 413 when the announced body is larger than the endpoint
    takes. Raises Unauthorized / PayloadTooLarge; reads no body."""
    token = settings.api_token
    if token and endpoint not in PUBLIC_ENDPOINTS:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode("utf-8"), token.encode("utf-8")):
            raise Unauthorized("a valid 'Authorization: Bearer <token>' header is required")
    limit = body_limit(settings, endpoint)
    if content_length is not None and content_length > limit:
        raise PayloadTooLarge(f"the body exceeds {limit} bytes", limit_bytes=limit)


def _install_hooks(app: Flask, settings: Settings) -> None:
    @app.before_request
    def _limits_and_auth() -> None:
        g.started = time.monotonic()
        if isinstance(request.routing_exception, RequestRedirect):
            # `/a//b` or a trailing-slash variant: a JSON 404, never an HTML redirect
            request.routing_exception = NotFound()
        request.max_content_length = body_limit(settings, request.endpoint)
        check_head(settings, request.endpoint, request.headers.get("Authorization", ""),
                   request.content_length)

    @app.after_request
    def _log_request(response: Response) -> Response:
        elapsed = (time.monotonic() - g.get("started", time.monotonic())) * 1000
        log.info("%s %s %d %.0f ms", request.method, request.full_path.rstrip("?"),
                 response.status_code, elapsed)
        return response
