"""Health checks ahead of the queue: waitress's task dispatcher, health first.

waitress serves requests from one FIFO queue on ``VIDEOGEN_THREADS`` threads.
Under a burst (hundreds of submissions at once) a ``GET /healthz`` waits
behind every request queued before it, and a load balancer may take the
server for dead. :class:`HealthFirstDispatcher` puts a connection whose next
request is ``GET /healthz`` at the head of the queue instead, so it waits for
one free thread, not for the whole queue (the held slots of event streams
and synchronous requests keep two threads turning over).

It relies on two waitress internals, read defensively: a queued task is the
connection (``HTTPChannel``) and its parsed requests are in ``requests``
with ``command`` and ``path``. Anything unexpected is queued as usual.
"""

from __future__ import annotations

from typing import Any

from waitress.task import ThreadedTaskDispatcher  # type: ignore[import-untyped]

__all__ = ["HEALTH_PATHS", "HealthFirstDispatcher"]

#: Requests served ahead of the queue.
HEALTH_PATHS = frozenset({"/healthz"})


def _is_health_check(task: Any) -> bool:
    try:
        request = task.requests[0]
        return bool(request.command == "GET" and request.path in HEALTH_PATHS)
    except (AttributeError, IndexError, TypeError):
        return False


class HealthFirstDispatcher(ThreadedTaskDispatcher):  # type: ignore[misc]
    """waitress's thread pool, with health checks served before queued requests."""

    def add_task(self, task: Any) -> None:
        """Queue ``task``; a health check goes to the head of the queue."""
        if not _is_health_check(task):
            super().add_task(task)
            return
        with self.lock:
            self.queue.appendleft(task)
            self.queue_cv.notify()
