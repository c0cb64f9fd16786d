"""Image uploads: an upload is stored only when it decodes whole as an image.

The first bytes say which decoder to try, never the name or the part's
Content-Type; then every pixel is decoded (bounded memory, see
:mod:`videogen_adapters.image_decode`) and what follows the image's end is
checked: a PNG/GIF/WebP with bytes after its end is refused, a JPEG is stored
without them (phones append motion-photo videos there). The stored name keeps
the user's stem with the extension of the real format, dots in the stem made
``_`` (``shell.php.png`` → ``shell_php.png``: no server reads it as ``.php``).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import attrs

from videogen_adapters.image_decode import ImageInfo, sniff_format, verify_image
from videogen_core import IMAGE_EXTENSIONS

__all__ = ["CheckedUpload", "check_upload", "sniff_image", "upload_name"]


@attrs.frozen
class CheckedUpload:
    """One part that passed: where its image bytes are and what it is."""

    path: Path
    name: str
    info: ImageInfo
    #: bytes cut from the end of a JPEG (anything after its EOI marker)
    removed_bytes: int = 0


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """``(content type, extension)`` of an image from its first 16+ bytes, or None.
    Only a first guess: :func:`check_upload` decodes the whole file."""
    from videogen_adapters.image_decode import FORMATS

    fmt = sniff_format(head)
    return None if fmt is None else (FORMATS[fmt][0], FORMATS[fmt][1])


def upload_name(filename: str, info: ImageInfo) -> str:
    """The stored name of an upload: its base name's stem (dots become ``_``) plus
    the extension of the real format — the
    user's own spelling when it names that format (``.JPEG`` stays), the
    canonical one otherwise (``x.jpg`` holding a PNG is stored as ``x.png``)."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    if ext and f".{ext}".lower() not in IMAGE_EXTENSIONS:
        stem, ext = base, ""  # "notes.txt" → "notes_txt" + the real extension
    real = f".{ext}" if ext and info.accepts_extension(f".{ext}") else info.extension
    return f"{stem.replace('.', '_') or 'image'}{real}"


def check_upload(path: Path, filename: str, *, max_pixels: int | None = None) -> CheckedUpload:
    """Decode the whole upload at ``path`` (``filename`` is the user's name, used
    in errors); InvalidImage when it is not one whole image. A JPEG with bytes
    after its end is cut to the image."""
    name = filename or "upload"
    info = verify_image(path, name=name, max_pixels=max_pixels)
    removed = info.trailing_bytes
    if removed:
        with open(path, "r+b") as fh:
            fh.truncate(info.image_bytes)
        info = verify_image(path, name=name, max_pixels=max_pixels)  # the cut file, again
    return CheckedUpload(path, upload_name(filename, info), info, removed)
