"""conform_clip: any moving source becomes a clip exactly like the Ken Burns renderer's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.contract.renderer_contract import idr_frames

from videogen_adapters.ffmpeg.conform import conform_clip
from videogen_adapters.ffmpeg.probe import decode_frames, probe
from videogen_adapters.ffmpeg.runner import find_ffmpeg
from videogen_core.errors import InvalidImage
from videogen_core.model import VideoSettings
from videogen_core.ports import ClipRequest

SETTINGS = VideoSettings(width=96, height=54, fps=12, crf=0, preset="ultrafast")
LEVELS = [20 + 25 * i for i in range(8)]  # frame i is a flat grey of this level


def _frames() -> list[Image.Image]:
    return [Image.new("RGB", (80, 60), (v, v, v)) for v in LEVELS]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("sources")
    frames = _frames()
    out: dict[str, object] = {}
    for ext in ("gif", "webp", "png"):
        path = folder / f"anim.{ext}"
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=125, loop=0)
        out[ext] = path
    stills = []
    for i, frame in enumerate(frames):
        stills.append(folder / f"frame_{i}.png")
        frame.save(stills[-1])
    out["list"] = stills
    for name, codec in (("mp4", "libx264"), ("webm", "libvpx-vp9")):
        path = folder / f"video.{name}"
        subprocess.run([find_ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc=size=160x120:rate=8:duration=1", "-c:v", codec, str(path)],
                       check=True)
        out[name] = path
    return out


def _levels(path: Path) -> list[int]:
    return [round(float(f.mean()) / 25) for f in decode_frames(path, pix_fmt="gray")]


@pytest.mark.parametrize("kind", ["gif", "webp", "png", "list", "mp4", "webm"])
def test_exact_clip_from_any_source(sources, kind: str, tmp_path: Path) -> None:
    request = ClipRequest(Path("unused"), 2.0, "", 0, settings=SETTINGS, cut_frames=(3, 20))
    source = sources[kind]
    clip = conform_clip(source, request, tmp_path / "clip.mp4",
                        source_fps=8 if kind == "list" else None)
    info = probe(clip.path)
    assert (info.frames, info.width, info.height, info.fps) == (24, 96, 54, 12.0)
    assert {0, 3, 20} <= set(idr_frames(clip.path))


def test_frame_rate_conversion_and_hold(sources, tmp_path: Path) -> None:
    """8 frames at 8 fps (1 s) into 2 s at 12 fps: 1 s of motion, then the last frame held."""
    request = ClipRequest(Path("unused"), 2.0, "", 0, settings=SETTINGS)
    clip = conform_clip(sources["gif"], request, tmp_path / "clip.mp4")
    frames = [float(f.mean()) for f in decode_frames(clip.path, pix_fmt="gray")]
    luma = [16 + 219 * v / 255 for v in LEVELS]
    picked = [int(np.argmin([abs(f - level) for level in luma])) for f in frames]
    assert picked[:12] == [0, 1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7]
    assert picked[12:] == [7] * 12  # held


def test_stretch_slows_the_source_down(sources, tmp_path: Path) -> None:
    request = ClipRequest(Path("unused"), 2.0, "", 0, settings=SETTINGS)
    clip = conform_clip(sources["gif"], request, tmp_path / "clip.mp4", shorter="stretch")
    frames = [float(f.mean()) for f in decode_frames(clip.path, pix_fmt="gray")]
    luma = [16 + 219 * v / 255 for v in LEVELS]
    picked = [int(np.argmin([abs(f - level) for level in luma])) for f in frames]
    assert picked == sorted(picked) and picked[0] == 0 and picked[-1] == 7
    assert picked.count(7) <= 3  # spread over the clip, not held at the end


def test_longer_source_is_cut(sources, tmp_path: Path) -> None:
    request = ClipRequest(Path("unused"), 0.5, "", 0, settings=SETTINGS)
    clip = conform_clip(sources["mp4"], request, tmp_path / "clip.mp4")
    assert probe(clip.path).frames == 6


def test_missing_and_broken_sources(tmp_path: Path) -> None:
    request = ClipRequest(Path("unused"), 1.0, "", 0, settings=SETTINGS)
    with pytest.raises(InvalidImage):
        conform_clip(tmp_path / "nope.mp4", request, tmp_path / "out.mp4")
    broken = tmp_path / "broken.gif"
    broken.write_bytes(b"GIF89a broken")
    with pytest.raises(InvalidImage):
        conform_clip(broken, request, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
    with pytest.raises(ValueError):
        conform_clip(broken, request, tmp_path / "out.mp4", shorter="loop")


def test_a_models_native_size_is_cropped_on_the_subject(tmp_path: Path) -> None:
    """A 16:9 generation conformed into a 9:16 clip: the crop sits on the bright
    subject near the right edge (the framing rules), not in the centre; focus
    'center' keeps the centred crop."""
    frame = np.full((180, 320, 3), 40, np.uint8)
    frame[70:110, 260:300] = 250  # the subject, right of centre
    stills = []
    for i in range(3):
        stills.append(tmp_path / f"f{i}.png")
        Image.fromarray(frame).save(stills[-1])
    tall = VideoSettings(width=54, height=96, fps=12, crf=0, preset="ultrafast")

    def mean_luma(focus: str) -> float:
        request = ClipRequest(tmp_path / "x.png", 0.25, "", 1, settings=tall, focus=focus)
        out = conform_clip(stills, request, tmp_path / f"{focus}.mp4", source_fps=12)
        return float(next(iter(decode_frames(out.path, pix_fmt="gray"))).mean())

    assert mean_luma("auto") > mean_luma("center") + 10  # the subject is in the crop
