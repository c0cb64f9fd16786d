"""In-process executors fitting the ``Executor`` port."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["InlineExecutor", "ThreadPoolExecutorAdapter"]


class ThreadPoolExecutorAdapter:
    """A bounded thread pool (the embedded default); ``workers`` defaults to 2."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = max(1, workers)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="videogen")

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` on the pool."""
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the pool (cancelling queued work when ``wait`` is False)."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


class InlineExecutor:
    """Runs work at once in the calling thread; deterministic, for tests and debugging."""

    workers = 1

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` now and return a finished future."""
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            future.set_exception(exc)
        return future
