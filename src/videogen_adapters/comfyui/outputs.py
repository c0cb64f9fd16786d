"""Which files of a finished prompt are the clip.

ComfyUI reports outputs per node (ws ``executed.data.output`` and history
``outputs``): SaveVideo, SaveAnimatedWEBP and SaveAnimatedPNG give
``{"images": [...], "animated": [true]}``, SaveImage ``{"images": [...]}``;
custom nodes (VideoHelperSuite) use ``gifs`` or ``videos``. Each file is
``{"filename", "subfolder", "type"}``. :func:`pick_outputs` prefers, in order:
a video file, an animated image, then a node's still images (a frame
sequence, in order) — ``type: "output"`` before ``"temp"`` previews.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["OutputFile", "pick_outputs"]

_VIDEO_EXT = {".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v"}
_ANIMATED_EXT = {".gif", ".webp", ".apng"}
_KEYS = ("videos", "gifs", "images")


@attrs.frozen
class OutputFile:
    """A file a node produced, as ``GET /view`` wants it."""

    filename: str
    subfolder: str = ""
    type: str = "output"
    node_id: str = ""
    animated: bool = False

    @property
    def suffix(self) -> str:
        """The lower-case file extension with its dot."""
        dot = self.filename.rfind(".")
        return self.filename[dot:].lower() if dot >= 0 else ""


def _files(node_id: str, output: Mapping[str, Any]) -> list[OutputFile]:
    animated_flags = output.get("animated") or []
    animated = bool(animated_flags) and all(bool(a) for a in animated_flags)
    files: list[OutputFile] = []
    for key in _KEYS:
        for item in output.get(key) or []:
            if not isinstance(item, Mapping) or "filename" not in item:
                continue
            files.append(OutputFile(
                filename=str(item["filename"]), subfolder=str(item.get("subfolder", "")),
                type=str(item.get("type", "output")), node_id=node_id,
                animated=animated or key in ("videos", "gifs"),
            ))
    return files


def _rank(files: list[OutputFile]) -> int:
    if any(f.suffix in _VIDEO_EXT for f in files):
        return 0
    if any(f.animated or f.suffix in _ANIMATED_EXT for f in files):
        return 1
    return 2


def _node_key(node_id: str) -> tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 30, node_id)


def pick_outputs(outputs: Mapping[str, Mapping[str, Any]],
                 output_node: str | None = None) -> list[OutputFile]:
    """The files that make the clip: one video or animated image, or a node's stills in order.

    Empty when no node produced a usable file.
    """
    candidates = []
    for node_id, output in outputs.items():
        if output_node is not None and node_id != output_node:
            continue
        files = _files(node_id, output)
        if not files:
            continue
        final = [f for f in files if f.type == "output"]
        chosen = final or files
        candidates.append((0 if final else 1, _rank(chosen), _node_key(node_id), chosen))
    if not candidates:
        return []
    _, rank, _, files = min(candidates, key=lambda c: c[:3])
    if rank == 0:
        return [next(f for f in files if f.suffix in _VIDEO_EXT)]
    if rank == 1:
        return [next(f for f in files if f.animated or f.suffix in _ANIMATED_EXT)]
    return files
