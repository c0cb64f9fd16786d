"""The shared thread pool is fair between jobs: round robin between lanes.

Before, it was a FIFO ``ThreadPoolExecutor``: two heavy jobs (or the narration
left running by cancelled ones) kept a one-second job's tasks queued behind
theirs for minutes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.fakes import FakeClipRenderer, FakeMusicSource, FakeMuxer, FakeNarrator
from videogen_adapters.storage.memory import InMemoryStorage
from videogen_core import GenerationParams, Narration, Scene, Sequence
from videogen_core.pipeline import VideoPipeline


def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.005)


def test_lanes_take_turns() -> None:
    pool = ThreadPoolExecutorAdapter(1)
    gate = threading.Event()
    order: list[str] = []
    try:
        pool.lane("a").submit(gate.wait, 10)
        until(lambda: pool.queued() == 0)  # the gate task is running
        futures = [pool.lane("a").submit(order.append, f"a{i}") for i in range(5)]
        futures += [pool.lane("b").submit(order.append, f"b{i}") for i in range(5)]
        futures += [pool.lane("c").submit(order.append, "c0")]
        gate.set()
        for f in futures:
            f.result(timeout=10)
    finally:
        gate.set()
        pool.shutdown()
    # FIFO would run c0 last (11th); round robin runs it third
    assert order == ["a0", "b0", "c0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"]


def test_plain_submit_results_errors_and_cancel() -> None:
    pool = ThreadPoolExecutorAdapter(2)
    gate = threading.Event()
    try:
        assert pool.submit(pow, 2, 10).result(timeout=10) == 1024
        boom = pool.submit(int, "x")
        assert isinstance(boom.exception(timeout=10), ValueError)
        blockers = [pool.submit(gate.wait, 10) for _ in range(2)]
        queued = pool.submit(pow, 3, 2)
        assert queued.cancel()  # still queued: cancellable, never runs
        gate.set()
        assert all(b.result(timeout=10) for b in blockers) and queued.cancelled()
    finally:
        gate.set()
        pool.shutdown()


def test_a_small_job_is_served_while_two_heavy_jobs_run(tmp_path: Path) -> None:
    """Three pipeline runs on one 2-worker pool: once the small job's narration is
    queued, at most one task of each other job starts before it, and most of the
    heavy jobs' narrations run after it (FIFO: it ran after all 40 of theirs)."""
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    class Pool(ThreadPoolExecutorAdapter):
        def submit_to(self, key: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            future = super().submit_to(key, fn, *args, **kwargs)
            if getattr(fn, "__name__", "") == "synthesize":
                with lock:
                    events.append(("queued", args[0].split()[0]))
            return future

    class SlowNarrator(FakeNarrator):
        def synthesize(self, text: str, output_path: Path, **kw: Any) -> Narration:
            with lock:
                events.append(("started", text.split()[0]))
            if not text.startswith("small"):
                time.sleep(0.05)  # heavy work: 40 of these keep both workers busy ~1 s
            return super().synthesize(text, output_path, **kw)

    storage = InMemoryStorage({f"f/scene_{n}.png": b"img" for n in range(1, 21)})
    pool = Pool(2)
    pipeline = VideoPipeline(storage=storage, renderer=FakeClipRenderer(),
                             narrator=SlowNarrator(), music=FakeMusicSource(),
                             muxer=FakeMuxer(), executor=pool, workdir=tmp_path / "w")

    def job(name: str, scenes: int) -> Sequence:
        return Sequence([Scene(n, f"{name} scene {n}.", 3.0) for n in range(1, scenes + 1)],
                        GenerationParams("none"))

    results: dict[str, Any] = {}

    def run(name: str, scenes: int) -> None:
        results[name] = pipeline.run("f", job(name, scenes))

    threads = [threading.Thread(target=run, args=(n, 20)) for n in ("heavyA", "heavyB")]
    try:
        for t in threads:
            t.start()
        until(lambda: {("started", "heavyA"), ("started", "heavyB")} <= set(events))
        small = threading.Thread(target=run, args=("small", 1))
        small.start()
        threads.append(small)
        for t in threads:
            t.join(60)
    finally:
        pool.shutdown()
    assert set(results) == {"heavyA", "heavyB", "small"}
    queued_at = events.index(("queued", "small"))
    started_at = events.index(("started", "small"))
    heavy_between = [e for e in events[queued_at:started_at] if e[0] == "started"]
    heavy_after = [e for e in events[started_at:] if e[0] == "started"]
    assert len(heavy_between) <= 2, events[queued_at:started_at]
    assert len(heavy_after) >= 10, events
