"""Loading and normalising still images for the renderers.

:func:`load_image` opens any image Pillow reads and returns 8-bit RGB with the
EXIF orientation applied; grayscale, palette, alpha (composited over a matte),
CMYK and 16-bit inputs are converted. Oversized images (more pixels than
``max_pixels``, Pillow's decompression-bomb limit by default) and corrupt or
truncated files raise :class:`~videogen_core.errors.InvalidImage` naming the
file. JPEGs are decoded at a reduced scale when a smaller size suffices.

:func:`fit_frame` brings an image to an exact size and aspect: ``cover`` crops
(default), ``contain`` letterboxes over a blurred, darkened copy of itself.
:func:`yuv_planes` converts RGB to BT.709 limited-range Y, Cb, Cr planes
(chroma at half resolution) as Pillow ``L`` images, ready for sub-pixel
resampling and for piping to ffmpeg as ``yuv420p``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from videogen_core.errors import InvalidImage

__all__ = ["FITS", "fit_frame", "load_image", "yuv_planes"]

FITS = ("cover", "contain")
_SIXTEEN_BIT = {"I;16", "I;16B", "I;16L", "I;16N", "I;16S"}


def _open(path: Path, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(path)
        except FileNotFoundError as exc:
            raise InvalidImage(path.name, "the file does not exist") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InvalidImage(path.name, f"too many pixels to decode safely ({exc})") from exc
        except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InvalidImage(path.name, f"not a readable image ({exc})") from exc
    width, height = im.size
    if width * height > max_pixels:
        im.close()
        raise InvalidImage(path.name, f"{width}x{height} has more than {max_pixels} pixels "
                                      "(decompression-bomb guard)")
    if width < 1 or height < 1:
        raise InvalidImage(path.name, "the image is empty")
    return im


def load_image(
    path: Path,
    *,
    max_pixels: int | None = None,
    min_size: tuple[int, int] | None = None,
    matte: tuple[int, int, int] = (0, 0, 0),
) -> Image.Image:
    """Open ``path`` as upright 8-bit RGB.

    ``min_size`` lets JPEG decoding skip resolution that is not needed (the
    result is still at least that large when the file is). Transparent images
    are composited over ``matte``; animated images give their first frame.
    """
    path = Path(path)
    limit = int(max_pixels if max_pixels is not None else (Image.MAX_IMAGE_PIXELS or 2**31))
    im = _open(path, limit)
    try:
        if min_size is not None and im.format == "JPEG":
            need = max(min_size)
            im.draft("RGB", (need, need))  # reduced-scale DCT decode of huge JPEGs
        im.load()
        im = ImageOps.exif_transpose(im) or im
        return _to_rgb(im, matte)
    except InvalidImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise InvalidImage(path.name, f"corrupt or truncated image ({exc})") from exc
    finally:
        im.close()


def _to_rgb(im: Image.Image, matte: tuple[int, int, int]) -> Image.Image:
    mode = im.mode
    if mode in _SIXTEEN_BIT or mode in ("I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if (mode in _SIXTEEN_BIT or arr.max(initial=0) > 255) else 255.0
        gray = np.clip(arr * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    if mode == "CMYK":
        return im.convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "La", "RGBa", "PA") or (
        mode == "P" and "transparency" in im.info)
    if has_alpha:
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*matte, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB") if mode != "RGB" else im.copy()


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
