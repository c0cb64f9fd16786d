"""FileFrameSource: how a clip file enters the one encode path.

Real ffmpeg writes the files (lossless, so decoded bytes can be compared exactly).
A file that fits passes its decoded ``yuv420p`` frames through untouched; a file
that does not fit says why and is fitted like ``conform_clip``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from videogen_adapters.ffmpeg.encode import encode_frames
from videogen_adapters.ffmpeg.probe import decode_frames
from videogen_adapters.ffmpeg.runner import FfmpegRunner
from videogen_adapters.ffmpeg.stream import FileFrameSource, frame_size
from videogen_core.errors import RenderFailed
from videogen_core.model import VideoSettings
from videogen_core.ports import ClipRequest

LOSSLESS = VideoSettings(width=64, height=36, fps=12, crf=0, preset="ultrafast")


def frames(settings: VideoSettings, count: int) -> list[bytes]:
    """``count`` distinct frames: a gradient moving one pixel per frame, coloured chroma."""
    w, h = settings.width, settings.height
    out = []
    for k in range(count):
        y = ((np.arange(w)[None, :] * 3 + k * 7 + np.arange(h)[:, None]) % 200 + 20)
        chroma = np.full(2 * (w // 2) * (h // 2), 90 + k, np.uint8)
        out.append(y.astype(np.uint8).tobytes() + chroma.tobytes())
    return out


def write(path: Path, settings: VideoSettings, count: int) -> list[bytes]:
    made = frames(settings, count)
    encode_frames(FfmpegRunner(), iter(made), path, settings, count)
    return made


def request(path: Path, count: int, settings: VideoSettings = LOSSLESS) -> ClipRequest:
    return ClipRequest(path, count / settings.fps, "", 0, settings=settings, frame_count=count)


@pytest.mark.parametrize(("length", "wanted"), [(12, 12), (8, 12), (15, 12)])
def test_a_fitting_file_passes_its_frames_through(tmp_path: Path, length: int,
                                                  wanted: int) -> None:
    clip = tmp_path / "clip.mp4"
    made = write(clip, LOSSLESS, length)
    source = FileFrameSource(clip, request(clip, wanted))
    expected_misfit = "" if length == wanted else f"{length} frames instead of {wanted}"
    assert source.misfit() == expected_misfit
    got = list(source.open())
    # exactly the encoded frames (lossless), the last one held or the rest left out
    assert got == (made + [made[-1]] * (wanted - length))[:wanted]
    assert all(len(f) == frame_size(LOSSLESS) for f in got)


def test_a_file_of_another_size_is_fitted(tmp_path: Path) -> None:
    big = VideoSettings(width=128, height=72, fps=12, crf=0, preset="ultrafast")
    clip = tmp_path / "big.mp4"
    write(clip, big, 12)
    source = FileFrameSource(clip, request(clip, 12))
    assert source.misfit() == "128x72 instead of 64x36"
    got = list(source.open())
    assert len(got) == 12 and all(len(f) == frame_size(LOSSLESS) for f in got)
    # scaled, not passed through: the luma plane follows the downscaled source
    planes = next(iter(decode_frames(clip, pix_fmt="yuv420p")))
    source_luma = np.asarray(planes).reshape(-1)[:128 * 72].reshape(72, 128).astype(float)
    small = source_luma.reshape(36, 2, 64, 2).mean(axis=(1, 3))
    luma = np.frombuffer(got[0][:64 * 36], np.uint8).reshape(36, 64).astype(float)
    assert np.abs(luma - small).mean() < 8


def test_another_frame_rate_is_a_misfit(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    write(clip, VideoSettings(width=64, height=36, fps=24, crf=0, preset="ultrafast"), 24)
    source = FileFrameSource(clip, request(clip, 12))
    assert "24 fps instead of 12" in source.misfit()
    assert len(list(source.open())) == 12  # one second at 12 fps


def test_an_unreadable_file_is_render_failed_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken_3.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video at all")
    with pytest.raises(RenderFailed) as info:
        FileFrameSource(bad, request(bad, 12)).misfit()
    assert "broken_3.mp4" in str(info.value)
    assert str(tmp_path) not in str(info.value)
