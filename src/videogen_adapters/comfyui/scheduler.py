"""``PromptScheduler``: which prompt goes to which ComfyUI server, and when.

A ComfyUI server runs one prompt at a time. If a client queues its next
prompt only after downloading and conforming the previous output, the
server idles meanwhile (measured: busy 55 % of the time on a CPU server
with 4 s scenes). So every server has a *window* of slots (2 by default:
one prompt executing, one waiting in its queue): a prompt may be queued
only while it holds a slot, and gives it back as soon as it has finished
executing on the server — before its output is downloaded — so the waiting
prompt starts at once and the next one is queued behind it.

Each scene takes a :class:`Lease` for all its chained segments. Its first
segment goes to the least-loaded server that has a free slot (load = prompts
in flight + segments reserved by scenes already placed there); the later
segments stay on that server (each waits for its predecessor, whose last
frame seeds it). Scenes are placed strictly in the order their leases were
taken (the pipeline's: longest first), whichever thread gets to the
scheduler first. When several prompts wait for slots, the one whose scene
has the most segments left goes first (then the scene taken first): the
longest remaining chains run interleaved with other work while each
segment's predecessor downloads, instead of being left for the end, where
the server would wait out every download between their segments. For the
same reason a chained segment's slot is kept for the scene's next segment
(see :meth:`Lease.slot`).

A server that does not answer a scene's first upload is left out of new
placements for ``down_cooldown`` seconds and the scene goes to another one
(:meth:`PromptScheduler.mark_down`, :meth:`Lease.move`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

from videogen_core import Cancelled, CancelToken

__all__ = ["Lease", "PromptScheduler"]

C = TypeVar("C")


class _Server(Generic[C]):
    def __init__(self, index: int, client: C) -> None:
        self.index = index
        self.client = client
        self.in_flight = 0  # prompts holding a slot (queued or executing)
        self.down_until = 0.0  # no new scenes before this time.monotonic()
        self.reserved = 0  # segments of placed scenes not yet in flight

    @property
    def load(self) -> int:
        return self.in_flight + self.reserved


class _Waiter:
    def __init__(self, order: int, server: int | None, remaining: int) -> None:
        self.order = order
        self.remaining = remaining  # segments of its scene still to run, this one included
        self.server = server  # required server (a continuation segment), None: any
        self.granted: int | None = None


class PromptScheduler(Generic[C]):
    """Slots on several servers (``clients``), ``window`` per server (see the module docstring)."""

    def __init__(self, clients: Sequence[C], window: int = 2, *,
                 down_cooldown: float = 30.0) -> None:
        if not clients:
            raise ValueError("at least one ComfyUI server is needed")
        self.window = max(1, window)
        self.down_cooldown = down_cooldown
        self._servers = [_Server(i, c) for i, c in enumerate(clients)]
        self._cond = threading.Condition()
        self._waiters: list[_Waiter] = []
        self._unplaced: set[int] = set()  # orders of leases whose first prompt has no slot yet

    @property
    def clients(self) -> list[C]:
        """The servers' clients, in the configured order."""
        return [s.client for s in self._servers]

    def in_flight(self) -> list[int]:
        """Prompts holding a slot, per server (for tests and logs)."""
        with self._cond:
            return [s.in_flight for s in self._servers]

    def mark_down(self, server: int) -> bool:
        """``server`` did not answer: place no new scene there for ``down_cooldown``
        seconds. True when another server is up (the scene can go there instead)."""
        with self._cond:
            now = time.monotonic()
            self._servers[server].down_until = now + self.down_cooldown
            return any(s.down_until <= now for s in self._servers)

    def lease(self, order: int, segments: int) -> Lease[C]:
        """A lease for one scene of ``segments`` chained prompts; ``order``: lower goes first.
        Until :meth:`Lease.close`, scenes with a higher order wait for this one's placement."""
        with self._cond:
            self._unplaced.add(order)
        return Lease(self, order, segments)

    # ------------------------------------------------------------- internals
    def _acquire(self, order: int, server: int | None, remaining: int,
                 cancel: CancelToken | None) -> int:
        waiter = _Waiter(order, server, remaining)
        with self._cond:
            self._waiters.append(waiter)
            self._grant()
            while waiter.granted is None:
                if cancel is not None and cancel.cancelled:
                    self._waiters.remove(waiter)
                    raise Cancelled()
                if not self._cond.wait(0.1):
                    self._grant()  # a server's down time may have run out
            return waiter.granted

    def _release(self, server: int) -> None:
        with self._cond:
            self._servers[server].in_flight -= 1
            self._grant()

    def _reserve(self, server: int, count: int) -> None:
        with self._cond:
            self._servers[server].reserved += count

    def _keep(self, server: int, remaining: int) -> bool:
        """Whether a chain may keep its slot on ``server`` for its next segment (with
        ``remaining`` segments left): no waiter that could use it has more left."""
        with self._cond:
            return not any(
                w.remaining > remaining and w.server in (None, server)
                and (w.server is not None or min(self._unplaced, default=w.order) >= w.order)
                for w in self._waiters)

    def _unplace(self, order: int) -> None:
        with self._cond:
            self._unplaced.add(order)

    def _forget(self, order: int) -> None:
        with self._cond:
            if order in self._unplaced:
                self._unplaced.discard(order)
                self._grant()

    def _grant(self) -> None:
        """Give free slots to waiters: most segments left first, then earliest ``order``
        (lock held)."""
        now = time.monotonic()
        up = [s for s in self._servers if s.down_until <= now] or self._servers
        granted, progress = False, True
        while progress:  # a placement may unblock a later scene: go round again
            progress = False
            for waiter in sorted(self._waiters, key=lambda w: (-w.remaining, w.order)):
                if (waiter.server is None
                        and min(self._unplaced, default=waiter.order) < waiter.order):
                    continue  # an earlier scene is still on its way to its first slot
                candidates = up if waiter.server is None else [self._servers[waiter.server]]
                free = [s for s in candidates if s.in_flight < self.window]
                if not free:
                    continue
                best = min(free, key=lambda s: (s.load, s.in_flight, s.index))
                best.in_flight += 1
                waiter.granted = best.index
                self._waiters.remove(waiter)
                self._unplaced.discard(waiter.order)
                granted = progress = True
        if granted:
            self._cond.notify_all()


class Lease(Generic[C]):
    """One scene's claim on the scheduler: a slot per segment, all on one server."""

    def __init__(self, scheduler: PromptScheduler[C], order: int, segments: int) -> None:
        self._scheduler = scheduler
        self.order = order
        self.server: int | None = None
        self._left = segments  # segments not yet given a slot
        self._held: int | None = None  # a slot kept for the next segment
        self._moved = False

    @contextmanager
    def slot(self, cancel: CancelToken | None = None) -> Iterator[tuple[int, C]]:
        """Wait for a slot for the next segment; yields ``(server index, client)``.
        Leave the block as soon as the prompt has finished executing on the server.

        The slot of a segment with a successor is kept for that successor (which
        only needs the last frame downloaded) unless a scene with more segments
        left is waiting for it: otherwise a shorter scene would be queued ahead of
        it, and the chain's last segments would run at the end, each waiting for
        its predecessor's download with nothing else queued."""
        s = self._scheduler
        if self._held is not None:
            index, self._held = self._held, None
        else:
            index = s._acquire(self.order, self.server, self._left, cancel)
        if cancel is not None and cancel.cancelled:  # granted as the cancel came
            s._release(index)
            raise Cancelled()
        if self.server is None:
            self.server = index
            s._reserve(index, self._left - 1)  # the scene's later segments come here too
        else:
            s._reserve(index, -1)
        self._left -= 1
        self._moved = False
        ok = False
        try:
            yield index, s._servers[index].client
            ok = True
        finally:
            if ok and not self._moved and self._left > 0 and s._keep(index, self._left):
                self._held = index
            else:
                s._release(index)

    def move(self) -> None:
        """Inside :meth:`slot` of a first segment that could not reach its server (see
        :meth:`PromptScheduler.mark_down`): the scene is not placed after all; the
        next :meth:`slot` places it again (the slot is given back on leaving)."""
        s = self._scheduler
        if self.server is not None:
            s._reserve(self.server, -self._left)
        self._left += 1
        self.server = None
        self._moved = True
        s._unplace(self.order)

    def close(self) -> None:
        """Done: give back a kept slot and the reservation of segments that will not
        run (failure, cancel), and let later scenes be placed if this one never was."""
        if self._held is not None:
            self._scheduler._release(self._held)
            self._held = None
        if self.server is not None and self._left > 0:
            self._scheduler._reserve(self.server, -self._left)
        self._left = 0
        self._scheduler._forget(self.order)
