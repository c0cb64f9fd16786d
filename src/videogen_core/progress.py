"""Progress events and cancellation, shared by the pipeline and every adapter."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import attrs

from .errors import Cancelled

__all__ = ["STAGES", "CancelToken", "JobProgress", "ProgressEvent", "ProgressTracker"]

#: Stages of a job in the order they run, with their share of the whole job's work.
STAGES: dict[str, float] = {
    "validate": 0.01,
    "fetch": 0.04,
    "narrate": 0.10,
    "render": 0.55,
    "music": 0.05,
    "mux": 0.20,
    "store": 0.05,
}


@attrs.frozen
class ProgressEvent:
    """``done`` of ``total`` units of ``stage`` are finished; ``percent`` is of the whole job.

    The unit depends on the stage (images, narrations, clips, frames of a
    streamed encode). ``scenes_done`` counts whole scenes rendered, when the
    stage knows it (``render``); ``frames_done``/``frames_total`` count frames
    of the video encoded, when the render is a streamed encode. Consumers read
    these instead of guessing what ``done`` counts.
    """

    stage: str
    done: float
    total: float
    message: str = ""
    percent: float = 0.0
    scene_number: int | None = None
    eta_seconds: float | None = None
    scenes_done: int | None = None
    frames_done: int | None = None
    frames_total: int | None = None


class CancelToken:
    """A thread-safe cancellation flag; long work checks it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Ask the work to stop; runs the registered callbacks once."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            with contextlib.suppress(Exception):  # a failing hook must not stop cancellation
                callback()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise Cancelled when cancellation was asked for."""
        if self._event.is_set():
            raise Cancelled()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when cancelled (at once if already cancelled)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` s; True when cancelled meanwhile."""
        return self._event.wait(timeout)


class ProgressTracker:
    """Turns per-stage done/total into whole-job percent and an ETA, and forwards events."""

    def __init__(
        self, sink: Callable[[ProgressEvent], None] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self.percent = 0.0
        self.stage = ""

    def report(self, stage: str, done: float, total: float, message: str = "",
               scene_number: int | None = None, *, scenes_done: int | None = None,
               frames_done: int | None = None, frames_total: int | None = None
               ) -> ProgressEvent:
        """Record progress of ``stage`` and forward the event."""
        self.stage = stage
        before = 0.0
        for name, share in STAGES.items():
            if name == stage:
                break
            before += share
        share = STAGES.get(stage, 0.0)
        fraction = 1.0 if total <= 0 else min(1.0, max(0.0, done / total))
        with self._lock:
            # an unknown stage (an adapter's own sub-step) moves no percent: the
            # shares summed before it would otherwise claim the whole job is done
            if stage in STAGES:
                self.percent = max(self.percent, round(100.0 * (before + share * fraction), 2))
            percent = self.percent
        elapsed = self._clock() - self._started
        eta = elapsed * (100.0 - percent) / percent if percent > 1.0 else None
        event = ProgressEvent(stage, done, total, message, percent, scene_number,
                              None if eta is None else round(eta, 1), scenes_done,
                              frames_done, frames_total)
        if self._sink is not None:
            self._sink(event)
        return event


class JobProgress:
    """Folds a job's progress events into the fields a job record shows.

    ``scenes_done`` counts scenes rendered and never exceeds ``scenes_total``;
    ``frames_done``/``frames_total`` count frames of a streamed encode (0 when
    the renderer makes clip files). :meth:`fold` returns the changed fields,
    or None when nothing visible changed (percent to 0.1, scenes, frames in
    steps of about 1 %), so a store is not written for every frame.
    """

    def __init__(self, scenes_total: int) -> None:
        self.scenes_total = max(0, scenes_total)
        self.scenes_done = 0
        self.frames_done = 0
        self.frames_total = 0
        self._last: tuple[object, ...] = ()

    def fold(self, event: ProgressEvent) -> dict[str, object] | None:
        """The job fields to store for ``event`` (None: nothing visible changed)."""
        if event.scenes_done is not None:
            done = max(self.scenes_done, event.scenes_done)
            self.scenes_done = min(done, self.scenes_total) if self.scenes_total else done
        if event.frames_total:
            self.frames_total = int(event.frames_total)
            self.frames_done = max(self.frames_done,
                                   min(int(event.frames_done or 0), self.frames_total))
        step = max(1, self.frames_total // 100)
        state = (event.stage, round(event.percent, 1), self.scenes_done,
                 self.frames_done // step, self.frames_done == self.frames_total)
        if state == self._last:
            return None
        self._last = state
        return {"stage": event.stage, "percent": event.percent,
                "scenes_done": self.scenes_done, "frames_done": self.frames_done,
                "frames_total": self.frames_total, "eta_seconds": event.eta_seconds}
