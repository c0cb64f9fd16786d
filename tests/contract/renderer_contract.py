"""The ``ClipRenderer`` contract, run against every renderer.

Subclass :class:`ClipRendererContract` in a ``test_renderer_<name>.py`` module
and provide the ``renderer`` fixture (and, when needed, override ``settings``,
``clip_action`` or ``make_request``)::

    class TestKenBurns(ClipRendererContract):
        @pytest.fixture
        def renderer(self):
            return KenBurnsClipRenderer()

Checked: exact frame count, size / fps / codec / pix_fmt, an IDR frame at
every cut frame, same seed → identical decoded frames, corrupt image →
InvalidImage, cancellation → Cancelled with no output, atomic output.
"""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from videogen_core.errors import Cancelled, InvalidImage, VideogenError
from videogen_core.model import VideoSettings
from videogen_core.ports import ClipRenderer, ClipRequest
from videogen_core.progress import CancelToken

__all__ = ["ClipRendererContract", "decoded_frames", "idr_frames", "textured_image"]


def textured_image(path: Path, width: int = 400, height: int = 300, seed: int = 1) -> Path:
    """A photo-like test image: smooth colour gradients plus fine texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width, y / height, 0.5 + 0.5 * np.sin(x / 17.0 + y / 23.0)], -1)
    noise = rng.normal(0, 0.06, (height, width, 1)).astype(np.float32)
    rgb = np.clip((base + noise) * 255, 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def idr_frames(path: Path) -> tuple[int, ...]:
    """Presentation-order indices of the frames whose packet holds an IDR NAL unit (type 5)."""
    found: list[tuple[int, bool]] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            data = bytes(packet)
            idr, i = False, 0
            while i + 4 <= len(data):  # MP4 stores length-prefixed NAL units
                size = int.from_bytes(data[i:i + 4], "big")
                if i + 4 < len(data) and data[i + 4] & 0x1F == 5:
                    idr = True
                i += 4 + size
            found.append((packet.pts, idr))
    found.sort()
    return tuple(i for i, (_, idr) in enumerate(found) if idr)


def decoded_frames(path: Path) -> list[np.ndarray]:
    """Every decoded frame as a gray numpy array."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray") for f in container.decode(video=0)]


class ClipRendererContract:
    """Port contract for ``ClipRenderer`` adapters; subclass and provide ``renderer``."""

    @pytest.fixture
    def renderer(self) -> ClipRenderer:
        raise NotImplementedError("subclasses provide the renderer fixture")

    @pytest.fixture
    def settings(self) -> VideoSettings:
        return VideoSettings(width=160, height=90, fps=12, crf=20, preset="ultrafast")

    @pytest.fixture
    def image(self, tmp_path: Path) -> Path:
        return textured_image(tmp_path / "scene_1.png")

    @pytest.fixture
    def clip_action(self) -> str:
        return "zoom in, pan right"

    def make_request(self, image: Path, settings: VideoSettings, clip_action: str,
                     **changes: object) -> ClipRequest:
        """The request every check renders (override to adapt)."""
        fields: dict[str, object] = {"image_path": image, "duration": 2.0,
                                     "clip_action": clip_action, "seed": 42,
                                     "settings": settings, "scene_number": 1}
        fields.update(changes)
        return ClipRequest(**fields)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ checks
    def test_has_a_name(self, renderer: ClipRenderer) -> None:
        assert isinstance(renderer.name, str) and renderer.name

    def test_exact_frames_size_fps_codec(self, renderer, image, settings, clip_action,
                                         tmp_path) -> None:
        request = self.make_request(image, settings, clip_action, duration=1.75)
        out = tmp_path / "clip.mp4"
        clip = renderer.render(request, out)
        assert clip.path == out and out.exists()
        assert clip.frames == request.frames == 21
        with av.open(str(out)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (160, 90)
            assert stream.codec_context.name == "h264"
            assert stream.codec_context.pix_fmt == "yuv420p"
            assert float(stream.average_rate) == pytest.approx(settings.fps)
            frames = sum(1 for _ in container.decode(stream))
        assert frames == request.frames

    def test_frame_count_override(self, renderer, image, settings, clip_action, tmp_path):
        request = self.make_request(image, settings, clip_action, frame_count=19)
        clip = renderer.render(request, tmp_path / "clip.mp4")
        assert clip.frames == 19
        assert len(decoded_frames(clip.path)) == 19

    def test_idr_at_every_cut_frame(self, renderer, image, settings, clip_action, tmp_path):
        request = self.make_request(image, settings, clip_action, duration=3.0,
                                    cut_frames=(5, 29))
        clip = renderer.render(request, tmp_path / "clip.mp4")
        idr = idr_frames(clip.path)
        assert {0, 5, 29} <= set(idr), idr

    def test_same_seed_same_frames(self, renderer, image, settings, clip_action, tmp_path):
        a = renderer.render(self.make_request(image, settings, clip_action),
                            tmp_path / "a.mp4")
        b = renderer.render(self.make_request(image, settings, clip_action),
                            tmp_path / "b.mp4")
        frames_a, frames_b = decoded_frames(a.path), decoded_frames(b.path)
        assert len(frames_a) == len(frames_b)
        assert all(np.array_equal(x, y) for x, y in zip(frames_a, frames_b, strict=True))
        # and the clip is not a still: something moves
        assert not np.array_equal(frames_a[0], frames_a[-1])

    def test_corrupt_image_is_invalid_image(self, renderer, settings, clip_action, tmp_path):
        bad = tmp_path / "broken_7.png"
        bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
        out = tmp_path / "clip.mp4"
        with pytest.raises(InvalidImage) as info:
            renderer.render(self.make_request(bad, settings, clip_action), out)
        assert "broken_7.png" in str(info.value)
        assert not out.exists()

    def test_cancelled_before_start(self, renderer, image, settings, clip_action, tmp_path):
        token = CancelToken()
        token.cancel()
        out = tmp_path / "clip.mp4"
        with pytest.raises(Cancelled):
            renderer.render(self.make_request(image, settings, clip_action), out,
                            cancel=token)
        assert not out.exists()

    def test_cancelled_while_rendering(self, renderer, image, settings, clip_action, tmp_path):
        token = CancelToken()
        timer = threading.Timer(2.0, token.cancel)  # in case progress is never reported

        def progress(fraction: float) -> None:
            if fraction > 0.05:
                token.cancel()

        out = tmp_path / "clip.mp4"
        timer.start()
        try:
            with pytest.raises(Cancelled):
                renderer.render(self.make_request(image, settings, clip_action,
                                                  duration=60.0), out,
                                progress=progress, cancel=token)
        finally:
            timer.cancel()
        assert not out.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name != image.name] == []

    def test_output_is_atomic(self, renderer, settings, clip_action, tmp_path):
        out = tmp_path / "clip.mp4"
        out.write_bytes(b"previous")
        bad = tmp_path / "missing.png"
        with pytest.raises(VideogenError):
            renderer.render(self.make_request(bad, settings, clip_action), out)
        assert out.read_bytes() == b"previous"  # never replaced by a partial file
        assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
