"""Value objects crossing the ports."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from videogen_core import ClipRequest, ProgressEvent, ProgressSink, VideoSettings


def test_clip_request_frames_default_to_duration_times_fps() -> None:
    request = ClipRequest(Path("a.png"), 2.5, "zoom in", 1, VideoSettings(fps=30))
    assert request.frames == 75


def test_clip_request_frames_from_the_timeline_win() -> None:
    request = ClipRequest(Path("a.png"), 2.5, "zoom in", 1, VideoSettings(fps=30),
                          frame_count=76)
    assert request.frames == 76


def test_clip_request_is_frozen() -> None:
    request = ClipRequest(Path("a.png"), 1.0, "", 1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        request.seed = 2  # type: ignore[misc]
    assert request.settings == VideoSettings()


def test_any_callable_is_a_progress_sink() -> None:
    events: list[ProgressEvent] = []
    assert isinstance(events.append, ProgressSink)
    assert not isinstance(42, ProgressSink)
