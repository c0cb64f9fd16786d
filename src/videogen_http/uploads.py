"""Image uploads: recognise images by their first bytes, never by name or header."""

from __future__ import annotations

from pathlib import PurePosixPath

from videogen_core import IMAGE_EXTENSIONS

__all__ = ["sniff_image", "upload_name"]

_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", ".png"),
    (b"\xff\xd8\xff", 0, "image/jpeg", ".jpg"),
    (b"GIF87a", 0, "image/gif", ".gif"),
    (b"GIF89a", 0, "image/gif", ".gif"),
    (b"BM", 0, "image/bmp", ".bmp"),
    (b"II*\x00", 0, "image/tiff", ".tif"),
    (b"MM\x00*", 0, "image/tiff", ".tif"),
)


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """``(content type, extension)`` of an image from its first 16+ bytes, or None."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    for magic, offset, content_type, ext in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return content_type, ext
    return None


def upload_name(filename: str, ext: str) -> str:
    """The stored name of an upload: its base name, with ``ext`` appended when
    the name does not already end in an image extension."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    if not name.lower().endswith(IMAGE_EXTENSIONS):
        name = f"{name}{ext}" if name else f"image{ext}"
    return name
