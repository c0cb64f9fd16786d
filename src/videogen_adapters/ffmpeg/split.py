"""Splitting an encoded clip at its cut frames by stream copy, in process (PyAV).

A first demux pass reads only packet metadata (timestamps, key-frame flags)
and checks the clip fits (frame count, size, frame rate, codec, a key frame at
every cut, pieces contiguous in decode order — true for closed GOPs). A second
pass copies each packet straight into its piece's MP4, timestamps starting at
zero. No decoding, no ffmpeg process per clip, and memory independent of the
clip's length (packets are never held).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import attrs

from videogen_core.errors import RenderFailed
from videogen_core.model import VideoSettings

__all__ = ["ClipLayout", "read_layout", "write_pieces"]


@attrs.frozen
class ClipLayout:
    """What a clip holds, and whether it can be split at ``cuts`` as it is."""

    frames: int
    fits: bool
    reason: str = ""


def _open(clip: Path) -> Any:
    import av

    try:
        container = av.open(str(clip))
    except (av.error.FFmpegError, OSError) as exc:
        raise RenderFailed("split", f"cannot open {clip.name}: {exc}", file=str(clip)) from exc
    if not container.streams.video:
        container.close()
        raise RenderFailed("split", f"{clip.name} has no video stream", file=str(clip))
    return container


def _packets(container: Any, clip: Path) -> Iterator[Any]:
    import av

    stream = container.streams.video[0]
    try:
        for packet in container.demux(stream):
            if packet.size and packet.pts is not None:
                yield packet
    except av.error.FFmpegError as exc:
        raise RenderFailed("split", f"cannot read {clip.name}: {exc}", file=str(clip)) from exc


def _pieces(pts: Sequence[int], cuts: Sequence[int]) -> list[int]:
    """Piece index of every packet (decode order), by its presentation index."""
    order = sorted(range(len(pts)), key=lambda i: pts[i])
    display = [0] * len(pts)
    for rank, index in enumerate(order):
        display[index] = rank
    bounds = sorted(set(cuts))
    return [sum(1 for b in bounds if rank >= b) for rank in display]


def _scan(clip: Path) -> tuple[Any, list[int], list[bool]]:
    with _open(clip) as container:
        pts, keys = [], []
        for packet in _packets(container, clip):
            pts.append(packet.pts)
            keys.append(packet.is_keyframe)
        stream = container.streams.video[0]
        info = (stream.codec_context.width, stream.codec_context.height,
                float(stream.average_rate or 0), stream.codec_context.name,
                str(stream.codec_context.pix_fmt))
    return info, pts, keys


def read_layout(clip: Path, frames: int, cuts: Sequence[int],
                settings: VideoSettings) -> ClipLayout:
    """Check that ``clip`` has ``frames`` frames at ``settings`` and splits cleanly at ``cuts``."""
    (width, height, rate, codec, pix_fmt), pts, keys = _scan(clip)
    problems = []
    if len(pts) != frames:
        problems.append(f"{len(pts)} frames instead of {frames}")
    if (width, height) != (settings.width, settings.height):
        problems.append(f"{width}x{height} instead of {settings.width}x{settings.height}")
    if abs(rate - settings.fps) > 1e-3:
        problems.append(f"{rate:g} fps instead of {settings.fps}")
    if codec != "h264" or pix_fmt != settings.pix_fmt:
        problems.append(f"{codec}/{pix_fmt} instead of h264/{settings.pix_fmt}")
    if not problems and cuts:
        by_display = sorted(range(len(pts)), key=lambda i: pts[i])
        if not all(keys[by_display[c]] for c in cuts):
            problems.append("no key frame at a cut frame")
        pieces = _pieces(pts, cuts)
        if any(b < a for a, b in itertools.pairwise(pieces)):
            problems.append("open GOP across a cut")
    return ClipLayout(len(pts), not problems, "; ".join(problems))


def write_pieces(clip: Path, cuts: Sequence[int], outputs: Sequence[Path]) -> list[int]:
    """Write the pieces of ``clip`` between ``cuts`` to ``outputs`` (one more than the
    distinct cuts) by stream copy; return the frame count of each piece."""
    import av

    _, pts, _ = _scan(clip)
    pieces = _pieces(pts, cuts)
    base = [min((p for p, k in zip(pts, pieces, strict=True) if k == j), default=0)
            for j in range(len(outputs))]
    counts = [0] * len(outputs)
    with ExitStack() as stack:
        container = stack.enter_context(_open(clip))
        source = container.streams.video[0]
        opened: dict[int, tuple[Any, Any]] = {}
        for index, packet in enumerate(_packets(container, clip)):
            piece = pieces[index]
            if piece not in opened:
                out = stack.enter_context(av.open(str(outputs[piece]), "w", format="mp4"))
                opened[piece] = (out, out.add_stream_from_template(source))
            out, target = opened[piece]
            packet.pts -= base[piece]
            packet.dts -= base[piece]
            packet.stream = target
            out.mux(packet)
            counts[piece] += 1
    return counts
