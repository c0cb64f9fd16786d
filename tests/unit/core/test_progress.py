"""Progress events and cancellation."""

from __future__ import annotations

import threading

import pytest

from videogen_core import STAGES, Cancelled, CancelToken, ProgressEvent, ProgressTracker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_stages_in_order_and_shares_sum_to_one() -> None:
    assert list(STAGES) == ["validate", "fetch", "narrate", "render", "music", "mux", "store"]
    assert sum(STAGES.values()) == pytest.approx(1.0)


def test_tracker_percent_through_every_stage_is_monotonic_and_ends_at_100() -> None:
    events: list[ProgressEvent] = []
    tracker = ProgressTracker(events.append, clock=Clock())
    for stage in STAGES:
        for done in range(4):
            tracker.report(stage, done, 3)
    percents = [e.percent for e in events]
    assert percents == sorted(percents)
    assert percents[0] == 0.0
    assert percents[-1] == 100.0
    assert tracker.percent == 100.0


def test_tracker_stage_shares() -> None:
    tracker = ProgressTracker(None, clock=Clock())
    assert tracker.report("validate", 1, 1).percent == 1.0
    assert tracker.report("render", 0, 10).percent == 15.0  # 1 + 4 + 10
    assert tracker.report("render", 5, 10).percent == 42.5
    assert tracker.stage == "render"


def test_tracker_never_goes_back() -> None:
    tracker = ProgressTracker(None, clock=Clock())
    tracker.report("mux", 1, 2)
    high = tracker.percent
    assert tracker.report("fetch", 0, 1).percent == high
    assert tracker.report("mux", 0, 2).percent == high


def test_tracker_clamps_fractions_and_zero_totals() -> None:
    tracker = ProgressTracker(None, clock=Clock())
    assert tracker.report("validate", 5, 1).percent == 1.0  # done > total
    assert tracker.report("fetch", 0, 0).percent == 5.0  # nothing to do = done
    assert tracker.report("narrate", -3, 2).percent == 5.0


def test_unknown_stage_does_not_jump_to_100() -> None:
    tracker = ProgressTracker(None, clock=Clock())
    tracker.report("render", 1, 2)
    event = tracker.report("encode-segment", 1, 1)
    assert event.percent == tracker.percent < 100.0
    assert event.stage == "encode-segment"


def test_tracker_event_fields_and_eta() -> None:
    clock = Clock()
    events: list[ProgressEvent] = []
    tracker = ProgressTracker(events.append, clock=clock)
    first = tracker.report("validate", 0, 1, "starting")
    assert first.eta_seconds is None  # nothing done yet: no estimate
    clock.now += 10.0
    event = tracker.report("render", 1, 2, "scene 3", scene_number=3)
    assert (event.stage, event.done, event.total, event.message, event.scene_number) == (
        "render", 1, 2, "scene 3", 3)
    assert event.eta_seconds == pytest.approx(10.0 * (100 - 42.5) / 42.5, abs=0.1)
    assert events == [first, event]


def test_tracker_without_sink_still_computes() -> None:
    assert ProgressTracker(None).report("store", 1, 1).percent == 100.0


# ------------------------------------------------------------------ cancel
def test_cancel_token_flag_and_raise() -> None:
    token = CancelToken()
    assert not token.cancelled
    token.raise_if_cancelled()
    token.cancel()
    assert token.cancelled
    with pytest.raises(Cancelled) as info:
        token.raise_if_cancelled()
    assert info.value.code == "cancelled"


def test_cancel_callbacks_run_once() -> None:
    token = CancelToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("a"))
    token.on_cancel(lambda: calls.append("b"))
    assert calls == []
    token.cancel()
    token.cancel()
    assert calls == ["a", "b"]


def test_on_cancel_after_cancel_runs_at_once() -> None:
    token = CancelToken()
    token.cancel()
    calls: list[int] = []
    token.on_cancel(lambda: calls.append(1))
    assert calls == [1]


def test_failing_callback_does_not_stop_cancellation() -> None:
    token = CancelToken()
    calls: list[str] = []

    def boom() -> None:
        raise RuntimeError("hook broke")

    token.on_cancel(boom)
    token.on_cancel(lambda: calls.append("after"))
    token.cancel()
    assert token.cancelled
    assert calls == ["after"]


def test_cancel_chains_tokens() -> None:
    outer, inner = CancelToken(), CancelToken()
    outer.on_cancel(inner.cancel)
    outer.cancel()
    assert inner.cancelled


def test_wait_returns_whether_cancelled() -> None:
    token = CancelToken()
    assert token.wait(0) is False
    threading.Thread(target=token.cancel).start()
    assert token.wait(30) is True
