"""The Studio: a web page at ``/`` to make a video from photos without writing JSON.

Static HTML/CSS/JS shipped as package data (``videogen_http/studio/``): no CDN,
no build step, nothing fetched from the network at run time. The page itself
and its assets are public (a browser cannot send a bearer token for them);
everything it does goes through the documented API with the token the user
gives it. Every response carries a strict Content-Security-Policy: scripts
only from this origin, no inline script or style, media only from this
origin or the page's own ``blob:`` URLs.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response

from videogen_core import NotFound

__all__ = ["ASSETS", "CSP", "bp"]

bp = Blueprint("studio", __name__)

#: The page's Content-Security-Policy.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "media-src 'self' blob:; connect-src 'self'; form-action 'none'; base-uri 'none'; "
       "frame-ancestors 'none'")
#: Files the page may load, with their content types (nothing else is served).
ASSETS = {
    "studio.css": "text/css; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "fields.js": "text/javascript; charset=utf-8",
    "rules.js": "text/javascript; charset=utf-8",
    "studio.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


def _file(name: str, content_type: str) -> Response:
    data = resources.files("videogen_http").joinpath("studio", name).read_bytes()
    response = Response(data, content_type=content_type)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def index() -> Response:
    """The Studio page."""
    return _file("index.html", "text/html; charset=utf-8")


@bp.get("/studio/<name>")
def asset(name: str) -> Response:
    """One of the page's scripts or its style sheet."""
    content_type = ASSETS.get(name)
    if content_type is None:
        raise NotFound(f"no studio file {name!r}", name=name)
    return _file(name, content_type)
