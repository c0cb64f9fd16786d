"""Building the ComfyUI renderer from :class:`~videogen_adapters.config.Settings`.

Used by the composition roots (CLI, HTTP container) only; the renderer itself
receives a ready :class:`ComfyUIClient` and template.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from videogen_core import ClipRenderer

from .client import ComfyUIClient, default_ws_connect
from .fallback import FallbackClipRenderer
from .renderer import ComfyUIClipRenderer, Conform
from .workflow import load_template

if TYPE_CHECKING:
    from videogen_adapters.config import Settings

__all__ = ["build_comfyui_client", "build_comfyui_renderer", "comfyui_urls"]


def comfyui_urls(settings: Settings) -> list[str]:
    """The servers of ``VIDEOGEN_COMFYUI_URL``: one URL or a comma-separated list."""
    urls = [u.strip() for u in settings.comfyui_url.split(",") if u.strip()]
    return urls or ["http://127.0.0.1:8188"]


def build_comfyui_client(settings: Settings, *, http: httpx.Client | None = None,
                         url: str | None = None) -> ComfyUIClient:
    """A client for ``url`` (default: the first of ``VIDEOGEN_COMFYUI_URL``), 30 s per
    HTTP request, 5 s to connect."""
    if http is None:
        http = httpx.Client(base_url=url or comfyui_urls(settings)[0],
                            timeout=httpx.Timeout(30.0, connect=5.0), trust_env=False)
    return ComfyUIClient(http, ws_connect=default_ws_connect())


def build_comfyui_renderer(
    settings: Settings,
    *,
    http: httpx.Client | None = None,
    fallback: ClipRenderer | None = None,
    conform: Conform | None = None,
) -> ClipRenderer:
    """The renderer ``VIDEOGEN_RENDERER=comfyui`` selects.

    One client per server of ``VIDEOGEN_COMFYUI_URL`` (a comma-separated list
    shares the scenes among several servers; ``http`` given: that one server).
    Template from ``VIDEOGEN_COMFYUI_WORKFLOW`` (a built-in name or a file path),
    ``VIDEOGEN_COMFYUI_TIMEOUT`` per prompt, ``VIDEOGEN_COMFYUI_CONCURRENCY``
    prompts queued or running per server, ``VIDEOGEN_MAX_DURATION`` per segment. With
    ``VIDEOGEN_COMFYUI_FALLBACK`` and a ``fallback`` renderer (Ken Burns, given by
    the composition root), an unreachable server falls back with a warning.
    """
    clients = ([build_comfyui_client(settings, http=http)] if http is not None
               else [build_comfyui_client(settings, url=u) for u in comfyui_urls(settings)])
    renderer = ComfyUIClipRenderer(
        clients,
        load_template(settings.comfyui_workflow),
        max_duration=settings.max_duration,
        concurrency=settings.comfyui_concurrency,
        timeout=settings.comfyui_timeout,
        conform=conform,
    )
    if settings.comfyui_fallback and fallback is not None:
        return FallbackClipRenderer(renderer, fallback)
    return renderer
