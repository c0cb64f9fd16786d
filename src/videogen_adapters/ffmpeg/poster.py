"""The poster: a sharp, well-framed still of one scene, as a JPEG of the video's size.

:func:`write_poster` decodes the finished video over a span of seconds (a
scene's body: the pipeline leaves out its transitions), looks at a handful of
evenly spaced frames from the middle 80 % of the span, prefers frames where no
burnt-in caption shows, and keeps the sharpest one (the largest variance of the
luma Laplacian; a frame blended in a transition or caught mid-fade scores
low). The JPEG is written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from videogen_core.errors import RenderFailed

from .runner import atomic_output

__all__ = ["sharpness", "write_poster"]

#: Frames looked at for the poster.
CANDIDATES = 7


def sharpness(luma: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of a luma plane (higher: sharper)."""
    y = luma.astype(np.float32)
    lap = (y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1] - 4 * y[1:-1, 1:-1])
    return float(lap.var()) if lap.size else 0.0


def _wanted(start: float, end: float, avoid: Sequence[tuple[float, float]]) -> list[float]:
    """Candidate times: evenly spaced over the middle 80 % of the span, those with no
    caption showing first (all of them when every one shows a caption)."""
    span = max(0.0, end - start)
    times = [start + span * (0.1 + 0.8 * k / (CANDIDATES - 1)) for k in range(CANDIDATES)]
    free = [t for t in times if not any(a - 0.05 <= t <= b + 0.05 for a, b in avoid)]
    return free or times


def write_poster(video: Path, output: Path, start: float, end: float, *,
                 avoid: Sequence[tuple[float, float]] = (), quality: int = 90) -> Path:
    """Write the sharpest candidate frame of ``video`` between ``start`` and ``end``
    seconds as a JPEG at ``output`` (see the module docstring)."""
    import av
    from PIL import Image

    times = _wanted(start, end, avoid)
    best: tuple[float, object] | None = None
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            base = stream.time_base
            container.seek(max(0, int(times[0] / base)) if base else 0, stream=stream,
                           backward=True, any_frame=False)
            pending = sorted(times)
            for frame in container.decode(stream):
                t = float(frame.pts * base) if frame.pts is not None and base else 0.0
                if t + 1e-6 < pending[0]:
                    continue
                while pending and pending[0] <= t + 1e-6:
                    pending.pop(0)
                score = sharpness(frame.to_ndarray(format="gray"))
                if best is None or score > best[0]:
                    best = (score, frame.to_image())
                if not pending:
                    break
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise RenderFailed("poster", f"cannot read frames for the poster: {exc}") from exc
    if best is None:
        raise RenderFailed("poster", f"no frame between {start:.2f} s and {end:.2f} s")
    image = best[1]
    assert isinstance(image, Image.Image)
    with atomic_output(output) as tmp:
        image.convert("RGB").save(tmp, "JPEG", quality=quality, optimize=True)
    return output
