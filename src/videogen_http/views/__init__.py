"""The service's endpoints, one blueprint per resource."""

from __future__ import annotations

from flask import Flask

from .folders import bp as folders
from .generate import bp as generate
from .health import bp as health
from .jobs import bp as jobs
from .media import bp as media

__all__ = ["register_views"]


def register_views(app: Flask) -> None:
    """Attach every blueprint to ``app``."""
    for blueprint in (generate, jobs, folders, media, health):
        app.register_blueprint(blueprint)
