"""Ken Burns renderer: sub-pixel smooth motion, movements, seed, seed-compatible API."""

from __future__ import annotations

import itertools
import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.unit.ffmpeg.phase import half_resolution, phase_shift, shift_jitter

from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.probe import decode_frames, probe
from videogen_adapters.ffmpeg.runner import find_ffmpeg
from videogen_core.model import VideoSettings
from videogen_core.ports import ClipRequest

PHOTO = Path(__file__).parents[2] / "fixtures" / "ffmpeg" / "astronaut_480x270.jpg"
# crf 0 is lossless: the measurement then sees the motion itself, not x264's noise
# (lossy crf 5 adds ~0.01-0.025 px of codec noise, with or without motion jitter)
LOSSLESS = VideoSettings(width=320, height=180, fps=24, crf=0, preset="ultrafast")
SMALL = VideoSettings(width=160, height=90, fps=12, crf=18, preset="ultrafast")


def _shifts(path: Path) -> np.ndarray:
    frames = [half_resolution(f) for f in decode_frames(path, pix_fmt="gray")]
    return np.array([phase_shift(a, b) for a, b in itertools.pairwise(frames)])


def test_pan_is_subpixel_smooth(tmp_path: Path) -> None:
    out = tmp_path / "pan.mp4"
    KenBurnsClipRenderer().render(ClipRequest(PHOTO, 3.0, "pan right", 3, settings=LOSSLESS),
                                  out)
    shifts = _shifts(out)
    assert len(shifts) == 71
    # pan right: the camera moves right, so the picture moves left, ~20 px at half size
    assert shifts[:, 0].sum() < -15
    assert np.abs(shifts[:, 1]).max() < 0.05
    jitter = np.abs(shift_jitter(shifts[:, 0])).max()
    assert jitter < 0.01, f"frame-to-frame shift deviates {jitter:.4f} px from its local mean"


def test_zoompan_fails_the_same_measurement(tmp_path: Path) -> None:
    """The measurement can fail: ffmpeg's zoompan (whole-pixel crop) jitters."""
    out = tmp_path / "zoompan.mp4"
    subprocess.run([
        find_ffmpeg(), "-v", "error", "-y", "-i", str(PHOTO), "-vf",
        "scale=320:180,zoompan=z=1.136:x='(iw-iw/zoom)*on/71':y='(ih-ih/zoom)/2'"
        ":d=72:s=320x180:fps=24", "-frames:v", "72", "-c:v", "libx264", "-crf", "0",
        "-preset", "ultrafast", str(out)], check=True)
    jitter = np.abs(shift_jitter(_shifts(out)[:, 0])).max()
    assert jitter > 0.05


@pytest.mark.parametrize(("action", "axis", "sign"), [
    ("pan left", 0, 1), ("pan right", 0, -1), ("tilt up", 1, 1), ("pan down", 1, -1),
])
def test_pan_directions(tmp_path: Path, action: str, axis: int, sign: int) -> None:
    out = tmp_path / "clip.mp4"
    KenBurnsClipRenderer().render(ClipRequest(PHOTO, 1.5, action, 1, settings=SMALL), out)
    moved = _shifts(out)[:, axis].sum()
    assert moved * sign > 1.0


def test_zoom_in_magnifies_and_zoom_out_shrinks(tmp_path: Path) -> None:
    def edge_energy(action: str) -> tuple[float, float]:
        out = tmp_path / f"{action}.mp4"
        KenBurnsClipRenderer().render(ClipRequest(PHOTO, 1.0, action, 5, settings=SMALL), out)
        frames = list(decode_frames(out, pix_fmt="gray"))
        energy = [float(np.abs(np.diff(f.astype(float), axis=1)).mean()) for f in frames]
        return energy[0], energy[-1]

    first, last = edge_energy("zoom in")
    assert last < first  # magnified: fewer edges per pixel
    first, last = edge_energy("zoom out")
    assert last > first


def test_static_clip_does_not_move(tmp_path: Path) -> None:
    out = tmp_path / "still.mp4"
    lossless = VideoSettings(width=160, height=90, fps=12, crf=0, preset="ultrafast")
    KenBurnsClipRenderer().render(ClipRequest(PHOTO, 1.0, "static", 1, settings=lossless), out)
    frames = list(decode_frames(out, pix_fmt="gray"))
    assert len(frames) == 12
    assert all(np.array_equal(f, frames[0]) for f in frames)


def test_seed_changes_the_zoom_centre(tmp_path: Path) -> None:
    # the seed picks the point a zoom closes in on when there is no subject to frame
    renderer = KenBurnsClipRenderer()
    a = renderer.render(ClipRequest(PHOTO, 1.0, "zoom in", 1, settings=SMALL, focus="center"),
                        tmp_path / "a.mp4")
    b = renderer.render(ClipRequest(PHOTO, 1.0, "zoom in", 2, settings=SMALL, focus="center"),
                        tmp_path / "b.mp4")
    last_a = list(decode_frames(a.path, pix_fmt="gray"))[-1].astype(int)
    last_b = list(decode_frames(b.path, pix_fmt="gray"))[-1].astype(int)
    assert np.abs(last_a - last_b).mean() > 3


def test_odd_sizes_and_exact_frames(tmp_path: Path) -> None:
    settings = VideoSettings(width=126, height=70, fps=25, crf=23, preset="ultrafast")
    request = ClipRequest(PHOTO, 1.23, "quick zoom out, pan left", 9, settings=settings,
                          cut_frames=(7, 24))
    clip = KenBurnsClipRenderer().render(request, tmp_path / "odd.mp4")
    info = probe(clip.path)
    assert (info.frames, info.width, info.height) == (31, 126, 70)
    assert {0, 7, 24} <= set(info.keyframes)


def test_huge_image_is_downscaled_before_animation(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    Image.open(PHOTO).resize((6000, 3375)).save(big, quality=70)
    clip = KenBurnsClipRenderer().render(ClipRequest(big, 0.5, "zoom in", 1, settings=SMALL),
                                         tmp_path / "big.mp4")
    assert probe(clip.path).frames == 6


def test_generate_video_seed_compatible(tmp_path: Path) -> None:
    from videogen_adapters import generate_video

    out = tmp_path / "clip.mp4"
    assert generate_video(str(PHOTO), str(out), 0.5, "Slow zoom-in, misty forest", 7) is True
    info = probe(out)
    assert (info.frames, info.width, info.height, info.fps) == (12, 1024, 576, 24.0)


def test_generate_video_returns_false_and_logs(tmp_path: Path, caplog) -> None:
    from videogen_adapters import generate_video

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    with caplog.at_level(logging.ERROR):
        assert generate_video(bad, tmp_path / "out.mp4", 1.0, "zoom in", 1) is False
    assert "bad.png" in caplog.text
    assert not (tmp_path / "out.mp4").exists()
    assert generate_video(PHOTO, tmp_path / "x.mp4", float("nan"), "zoom in", 1) is False


def test_invalid_image_names_scene(tmp_path: Path) -> None:
    from videogen_core.errors import InvalidImage

    bad = tmp_path / "scene_4.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(InvalidImage) as info:
        KenBurnsClipRenderer().render(
            ClipRequest(bad, 1.0, "zoom in", 1, settings=SMALL, scene_number=4),
            tmp_path / "x.mp4")
    assert info.value.details["scene_number"] == 4
    assert "scene_4.jpg" in str(info.value)


@pytest.mark.parametrize("action", ["zoom in", "quick zoom out, pan left", "pan right",
                                    "tilt up", "static"])
def test_numpy_frames_match_pillow_frames(monkeypatch, action: str) -> None:
    """The default (numpy) bilinear path makes the frames Pillow's bilinear makes."""
    from videogen_adapters.ffmpeg.camera import plan_camera

    settings = VideoSettings(width=250, height=142, fps=24, crf=0, preset="ultrafast")
    renderer = KenBurnsClipRenderer()
    assert renderer.vectorised
    assert not KenBurnsClipRenderer(resample="bicubic").vectorised
    assert not KenBurnsClipRenderer(oversample=1.5).vectorised
    path = plan_camera(action, 4)

    def frames() -> list[np.ndarray]:
        return [np.frombuffer(f, np.uint8).astype(int)
                for f in renderer.frames(PHOTO, path, settings, 20)]

    ours = frames()
    monkeypatch.setattr(KenBurnsClipRenderer, "vectorised", property(lambda self: False))
    pillow = frames()
    assert len(ours) == len(pillow) == 20
    for a, b in zip(ours, pillow, strict=True):
        assert a.shape == b.shape == (250 * 142 + 2 * 125 * 71,)
        assert np.abs(a - b).max() <= 2
        assert np.abs(a - b).mean() < 0.1
    if action != "static":
        assert np.abs(ours[0] - ours[-1]).mean() > 2  # it really moved


def test_a_source_opened_again_does_not_search_for_its_subject_again() -> None:
    """A chunked video opens a scene once per chunk it is in (its body and the
    transitions beside it): the image is prepared again, the subject search is not
    (it cost ~30 ms a time: ~2 s of a 32-scene job's CPU). Same frames either way."""
    from videogen_adapters.ffmpeg.kenburns import _FIND, KenBurnsFrameSource

    searched: list[bool] = []

    class Counting(KenBurnsClipRenderer):
        def framing(self, request, image, subject=_FIND):  # type: ignore[no-untyped-def]
            searched.append(subject is _FIND)
            return super().framing(request, image, subject)

    settings = VideoSettings(width=128, height=72, fps=12)
    request = ClipRequest(PHOTO, 2.0, "slow zoom in", 3, settings=settings, frame_count=24)
    source = KenBurnsFrameSource(Counting(), request)
    first = list(source.open_at(0))
    again = list(source.open_at(12))
    assert searched == [True, False]
    assert again == first[12:]
