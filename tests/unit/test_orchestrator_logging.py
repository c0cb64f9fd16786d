"""``process_video_generation`` as a new user sees it in the log (issue 13.7):
each warning once, and no script warnings ahead of a fatal folder error."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from videogen_adapters import orchestrator, process_video_generation
from videogen_adapters.executors import InlineExecutor
from videogen_adapters.fakes import FakeClipRenderer, FakeMusicSource, FakeMuxer, FakeNarrator
from videogen_adapters.storage import LocalDiskStorage
from videogen_core import AnimationSettings, AudioSettings, VideoSettings
from videogen_core.pipeline import VideoPipeline

BODY: dict[str, Any] = {
    # three movements in a 2 s clip: the limit keeps one and warns about the rest
    "sequence_data": [{"scene_number": 1, "narration": "Hello.", "duration": 2,
                       "clip_action": "zoom in, pan left, tilt up", "music_mood": "calm"}],
    "generation_params": {"transition_type": "none", "seed": 1, "fps": 24},
}


@pytest.fixture
def fake_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    (root / "trip").mkdir(parents=True)
    out = io.BytesIO()
    Image.new("RGB", (32, 18), (10, 120, 200)).save(out, format="PNG")
    (root / "trip" / "scene_1.png").write_bytes(out.getvalue())
    pipeline = VideoPipeline(
        storage=LocalDiskStorage(root), renderer=FakeClipRenderer(), narrator=FakeNarrator(),
        music=FakeMusicSource(), muxer=FakeMuxer(), executor=InlineExecutor(),
        video=VideoSettings(), animation=AnimationSettings(), audio=AudioSettings(),
        workdir=tmp_path / "work")
    monkeypatch.setattr(orchestrator, "build_pipeline", lambda settings=None: pipeline)
    return root


def _dropped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "dropped movement" in r.getMessage()]


def test_each_warning_is_logged_once(fake_pipeline: Path,
                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    ok, url = process_video_generation("trip", BODY)
    assert ok and url
    assert len(_dropped(caplog)) == 1, _dropped(caplog)


def test_a_missing_folder_fails_before_any_script_warning(
        fake_pipeline: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert process_video_generation("nowhere", BODY) == (False, "")
    assert _dropped(caplog) == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "nowhere" in errors[0]
