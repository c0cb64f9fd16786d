"""In-process executors fitting the ``Executor`` port.

:class:`ThreadPoolExecutorAdapter` is the pool every job of a process shares.
It is fair between jobs: each pipeline run submits through its own *lane*
(:meth:`ThreadPoolExecutorAdapter.lane`), and a free worker takes the oldest
task of the next lane in turn (round robin), not the oldest task overall. A
job with hundreds of queued tasks therefore cannot hold back another job: the
other job's next task starts as soon as one running task ends. (With a plain
FIFO pool, two heavy jobs — or the leftovers of cancelled ones — kept a one-
second job waiting for minutes.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["InlineExecutor", "Lane", "ThreadPoolExecutorAdapter"]

_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class Lane:
    """One job's view of a shared :class:`ThreadPoolExecutorAdapter` (an ``Executor``)."""

    def __init__(self, pool: ThreadPoolExecutorAdapter, key: Hashable) -> None:
        self.pool = pool
        self.key = key
        self.workers = pool.workers

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` in this lane."""
        return self.pool.submit_to(self.key, fn, *args, **kwargs)

    def lane(self, key: Hashable) -> Lane:
        """A lane is already one job's: nested lanes share it."""
        return self


class ThreadPoolExecutorAdapter:
    """A bounded thread pool (the embedded default), round robin between lanes;
    ``workers`` defaults to 2. Plain :meth:`submit` uses one default lane."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = max(1, workers)
        self._cond = threading.Condition()
        self._lanes: OrderedDict[Hashable, deque[_Task]] = OrderedDict()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False

    # ---------------------------------------------------------------- submit
    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` on the pool (the default lane)."""
        return self.submit_to(None, fn, *args, **kwargs)

    def lane(self, key: Hashable) -> Lane:
        """An executor whose tasks queue in lane ``key`` (one per job)."""
        return Lane(self, key)

    def submit_to(self, key: Hashable, fn: Callable[..., T], /, *args: Any,
                  **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` in lane ``key``."""
        future: Future[T] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._lanes.setdefault(key, deque()).append((future, fn, args, kwargs))
            waiting = sum(len(q) for q in self._lanes.values())
            if waiting > self._idle and len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"videogen_{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
            self._cond.notify()
        return future

    def queued(self) -> int:
        """Tasks waiting for a worker (all lanes)."""
        with self._cond:
            return sum(len(q) for q in self._lanes.values())

    # ---------------------------------------------------------------- workers
    def _next(self) -> _Task:
        """The oldest task of the lane whose turn it is (caller holds the lock);
        that lane then goes to the back of the rotation."""
        key, tasks = next(iter(self._lanes.items()))
        task = tasks.popleft()
        if tasks:
            self._lanes.move_to_end(key)
        else:
            del self._lanes[key]
        return task

    def _work(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                while not self._lanes and not self._closed:
                    self._cond.wait()
                self._idle -= 1
                if not self._lanes:
                    return  # closed and drained
                future, fn, args, kwargs = self._next()
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - delivered through the future
                future.set_exception(exc)
            else:
                future.set_result(result)
            del future, fn, args, kwargs

    def shutdown(self, wait: bool = True) -> None:
        """Stop the pool (cancelling queued work when ``wait`` is False)."""
        with self._cond:
            self._closed = True
            if not wait:
                for tasks in self._lanes.values():
                    for future, *_ in tasks:
                        future.cancel()
                self._lanes.clear()
            self._cond.notify_all()
            threads = list(self._threads)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()


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
