"""Loading and normalising still images for the renderers.

:func:`load_image` opens a PNG, JPEG, WebP, GIF, TIFF or BMP and returns 8-bit
RGB with the EXIF orientation applied; grayscale, palette, alpha (composited
over a matte), CMYK and 16-bit inputs are converted. It decodes through
:mod:`videogen_adapters.image_decode`: in strips, shrinking while it reads, so
memory follows the size asked for, not the file's pixel count. Oversized
images (more pixels than ``max_pixels``, Pillow's decompression-bomb limit by
default) and corrupt or truncated files raise
:class:`~videogen_core.errors.InvalidImage` naming the file.

:func:`fit_frame` brings an image to an exact size and aspect: ``cover`` crops
(default), ``contain`` letterboxes over a blurred, darkened copy of itself.
:func:`yuv_planes` converts RGB to BT.709 limited-range Y, Cb, Cr planes
(chroma at half resolution) as Pillow ``L`` images, ready for sub-pixel
resampling and for piping to ffmpeg as ``yuv420p``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from ..image_decode import decode

__all__ = ["FITS", "fit_frame", "load_image", "yuv_planes"]

FITS = ("cover", "contain")


def load_image(
    path: Path,
    *,
    max_pixels: int | None = None,
    min_size: tuple[int, int] | None = None,
    matte: tuple[int, int, int] = (0, 0, 0),
    name: str | None = None,
) -> Image.Image:
    """Open ``path`` as upright 8-bit RGB through the bounded decoder
    (:func:`videogen_adapters.image_decode.decode`).

    ``min_size`` lets decoding skip resolution that is not needed (the result
    still covers that box when the file is that large); without it the result
    is at most :data:`~videogen_adapters.image_decode.DECODE_BUDGET_PIXELS`.
    Transparent images are composited over ``matte``; animated images give
    their first frame. Errors name ``name`` (default: the file's name).
    """
    return decode(Path(path), name=name, min_size=min_size, max_pixels=max_pixels,
                  matte=matte)


def fit_frame(im: Image.Image, width: int, height: int, fit: str = "cover",
              *, centering: tuple[float, float] = (0.5, 0.5)) -> Image.Image:
    """``im`` at exactly ``width`` x ``height``: ``cover`` crops to the aspect (the
    centre by default; ``centering`` places the crop as ``ImageOps.fit`` does, e.g.
    on the subject — see :func:`videogen_adapters.framing.cover_crop`); ``contain``
    shows the whole image over a blurred, darkened cover copy."""
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, not {fit!r}")
    cover = ImageOps.fit(im, (width, height), Image.Resampling.LANCZOS,
                         centering=centering if fit == "cover" else (0.5, 0.5))
    if fit == "cover":
        return cover
    radius = max(2, min(width, height) // 20)
    background = cover.filter(ImageFilter.GaussianBlur(radius)).point(lambda v: v * 0.6)
    scale = min(width / im.width, height / im.height)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    inner = im.resize(size, Image.Resampling.LANCZOS)
    background.paste(inner, ((width - size[0]) // 2, (height - size[1]) // 2))
    return background


def yuv_planes(im: Image.Image) -> tuple[Image.Image, Image.Image, Image.Image]:
    """BT.709 limited-range Y (full size), Cb and Cr (half size, rounded up) as ``L`` images."""
    rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    kr, kb = 0.2126, 0.0722
    y = kr * rgb[..., 0] + (1 - kr - kb) * rgb[..., 1] + kb * rgb[..., 2]
    cb = (rgb[..., 2] - y) / (2 * (1 - kb))
    cr = (rgb[..., 0] - y) / (2 * (1 - kr))

    def plane(values: np.ndarray, scale: float, offset: float) -> Image.Image:
        return Image.fromarray(np.clip(values * scale + offset + 0.5, 0, 255).astype(np.uint8))

    half = ((im.width + 1) // 2, (im.height + 1) // 2)
    return (
        plane(y, 219.0, 16.0),
        plane(cb, 224.0, 128.0).resize(half, Image.Resampling.BOX),
        plane(cr, 224.0, 128.0).resize(half, Image.Resampling.BOX),
    )
