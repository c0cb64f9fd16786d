"""``FallbackClipRenderer``: ComfyUI first, another renderer (Ken Burns) when it is unreachable.

Only :class:`~videogen_core.ServiceUnavailable` triggers the fallback — a
validation or execution error is a real failure and is raised as is. The
clip then carries a warning saying what happened, which the pipeline
collects into the job's warnings. After a failure the primary is skipped
for ``cooldown`` seconds so the remaining scenes do not each wait through
the retry backoff. Clips the primary started ahead (``render_ahead``) that
fail with ServiceUnavailable fall back the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from videogen_core import CancelToken, ClipRenderer, ClipRequest, RenderedClip, ServiceUnavailable

__all__ = ["FallbackClipRenderer"]


class FallbackClipRenderer:
    """Renders with ``primary``; on ServiceUnavailable, with ``fallback`` plus a warning."""

    def __init__(self, primary: ClipRenderer, fallback: ClipRenderer, *, cooldown: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name
        #: cache keys are the primary's (a fallback's clip is never cached as one)
        self.version = getattr(primary, "version", 1)
        self.cache_token = getattr(primary, "cache_token", "")
        self.keyed_fields = tuple(getattr(primary, "keyed_fields", ()))
        self.cooldown = cooldown
        self._clock = clock
        self._down_until = 0.0
        self._reason = ""
        self._lock = threading.Lock()

    def render_ahead(self, jobs: Iterable[tuple[ClipRequest, Path]], *,
                     cancel: CancelToken | None = None) -> None:
        """Let the primary start these clips now (see ``ComfyUIClipRenderer.render_ahead``),
        unless it is known to be unreachable."""
        ahead = getattr(self.primary, "render_ahead", None)
        with self._lock:
            skip = self._clock() < self._down_until
        if ahead is not None and not skip:
            ahead(jobs, cancel=cancel)

    def render(self, request: ClipRequest, output_path: Path, *,
               progress: Callable[[float], None] | None = None,
               cancel: CancelToken | None = None) -> RenderedClip:
        """Render with the primary, or with the fallback while the primary is unreachable."""
        with self._lock:
            skip = self._clock() < self._down_until
            reason = self._reason
        if not skip:
            try:
                return self.primary.render(request, output_path, progress=progress,
                                           cancel=cancel)
            except ServiceUnavailable as exc:
                reason = str(exc.details.get("reason", exc.message))
                with self._lock:
                    self._down_until = self._clock() + self.cooldown
                    self._reason = reason
        discard = getattr(self.primary, "discard", None)
        if skip and discard is not None:  # started ahead before the primary went down
            discard(request, output_path)
        clip = self.fallback.render(request, output_path, progress=progress, cancel=cancel)
        warning = (f"scene {request.scene_number}: {self.primary.name} unavailable ({reason}); "
                   f"rendered with {self.fallback.name} instead")
        return attrs.evolve(clip, warnings=(*clip.warnings, warning),
                            renderer=self.fallback.name)
