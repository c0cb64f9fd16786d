"""index_facts: duration and frame count from an MP4's index, the same as a full probe."""

from __future__ import annotations

from pathlib import Path

import pytest

from videogen_adapters.ffmpeg.probe import index_facts, probe
from videogen_adapters.ffmpeg.runner import FfmpegRunner
from videogen_core.errors import RenderFailed


@pytest.mark.parametrize(("name", "frames"), [("clip.mp4", 37), ("clip.mkv", 23)])
def test_index_facts_match_a_full_probe(name: str, frames: int, tmp_path: Path) -> None:
    runner = FfmpegRunner()
    out = tmp_path / name
    runner.run([runner.ffmpeg, "-v", "error", "-f", "lavfi", "-i",
                f"testsrc=size=64x36:rate=24,trim=end_frame={frames}", "-f", "lavfi", "-i",
                "sine=d=2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                "-shortest", str(out)], stage="x")
    duration, counted = index_facts(out)  # mkv has no frame count: falls back to probe
    full = probe(out)
    assert counted == full.frames == frames
    assert duration == pytest.approx(full.duration, abs=1e-3)


def test_index_facts_of_garbage_is_render_failed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(RenderFailed):
        index_facts(bad)
