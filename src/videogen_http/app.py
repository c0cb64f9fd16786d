"""The Flask app factory."""

from __future__ import annotations

import hmac
import logging
import time

from dependency_injector import providers
from flask import Flask, Response, g, request

from videogen_adapters.config import Settings

from .containers import Container
from .errors import Unauthorized, register_error_handlers
from .service import Service, default_base_url
from .views import register_views
from .views.capabilities import bp as capabilities_bp
from .views.preview import bp as preview_bp
from .views.studio import bp as studio_bp

__all__ = ["create_app"]

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


def _install_hooks(app: Flask, settings: Settings) -> None:
    token = settings.api_token

    @app.before_request
    def _limits_and_auth() -> None:
        g.started = time.monotonic()
        if request.endpoint not in UPLOAD_ENDPOINTS:
            request.max_content_length = settings.max_body_kb * 1024
        if token and request.endpoint not in PUBLIC_ENDPOINTS:
            header = request.headers.get("Authorization", "")
            scheme, _, given = header.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                    given.strip().encode("utf-8"), token.encode("utf-8")):
                raise Unauthorized("a valid 'Authorization: Bearer <token>' header is required")

    @app.after_request
    def _log_request(response: Response) -> Response:
        elapsed = (time.monotonic() - g.get("started", time.monotonic())) * 1000
        log.info("%s %s %d %.0f ms", request.method, request.full_path.rstrip("?"),
                 response.status_code, elapsed)
        return response
