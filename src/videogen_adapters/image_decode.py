"""Bounded image decoding: every image the service reads goes through here.

A small file can hold a huge image (a 2 MB PNG of 9400x9400 is 265 MB of RGB;
as 16-bit gray Pillow turned it into 3 GB of temporaries). So images are never
decoded whole at full size:

- :func:`probe` reads only the header: the real format (from the first bytes,
  never the name), the size, and the pixel limit (``max_pixels``, Pillow's
  decompression-bomb limit by default) — before any pixel is decoded.
- :func:`decode` returns 8-bit RGB no larger than asked for (``min_size``: the
  result covers that box) and never more than :data:`DECODE_BUDGET_PIXELS`.
  libvips (``pyvips``) decodes in strips and shrinks while it reads (JPEG and
  WebP shrink-on-load, DCT-domain), so the peak memory follows the *output*
  size, not the input's. EXIF orientation, ICC profiles (CMYK), 16-bit,
  palette and alpha (over ``matte``) are normalised on the way.
- :func:`verify_image` decodes every pixel of an upload at full resolution, in
  strips, and fails on any decoder error or truncation; it also finds bytes
  after the image's end (a polyglot: PNG/GIF/WebP are refused, a JPEG's
  trailer — phones append motion-photo videos there — is reported so the
  caller stores only the image).

BMP has no libvips loader: it is read by Pillow, and refused above
:data:`PILLOW_MAX_PIXELS` (a BMP is decoded whole).

Errors are :class:`~videogen_core.errors.InvalidImage` naming ``name`` (the
user's file, never a temporary path) with a reason that holds no path.
"""

from __future__ import annotations

import math
import re
import struct
import warnings
from pathlib import Path

import attrs
from PIL import Image, ImageOps

from videogen_core.errors import InvalidImage

__all__ = [
    "DECODE_BUDGET_PIXELS",
    "FORMATS",
    "FORMAT_MAX_PIXELS",
    "JPEG_COEFFICIENT_BUDGET",
    "PILLOW_MAX_PIXELS",
    "ImageInfo",
    "decode",
    "default_max_pixels",
    "probe",
    "sniff_format",
    "verify_image",
]

#: The most pixels :func:`decode` ever returns (about 64 MB as RGB).
DECODE_BUDGET_PIXELS = 4096 * 4096 * 4 // 3
#: BMPs (decoded whole, by Pillow) above this many pixels are refused.
PILLOW_MAX_PIXELS = 24_000_000
#: Formats whose decoder holds the whole image (GIF: an RGBA canvas; lossless
#: WebP: an ARGB buffer) are refused above these pixel counts (~+250 MB peak).
FORMAT_MAX_PIXELS = {"bmp": PILLOW_MAX_PIXELS, "gif": 30_000_000, "webp": 50_000_000}
#: A progressive JPEG is decoded through a buffer of every DCT coefficient
#: (2 bytes each); above this it is refused (re-save it as baseline JPEG).
JPEG_COEFFICIENT_BUDGET = 220 * 2**20

#: format → (content type, canonical extension, other accepted extensions)
FORMATS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "png": ("image/png", ".png", ()),
    "jpeg": ("image/jpeg", ".jpg", (".jpeg", ".jpe", ".jfif")),
    "webp": ("image/webp", ".webp", ()),
    "gif": ("image/gif", ".gif", ()),
    "tiff": ("image/tiff", ".tif", (".tiff",)),
    "bmp": ("image/bmp", ".bmp", ()),
}
_LOADERS = {"png": "pngload", "jpeg": "jpegload", "webp": "webpload", "gif": "gifload",
            "tiff": "tiffload"}


@attrs.frozen
class ImageInfo:
    """What an image file really is (from its bytes)."""

    format: str
    width: int
    height: int
    #: bytes after the end of the image (JPEG only; other formats are refused)
    trailing_bytes: int = 0
    #: the length of the image proper (the file's size minus ``trailing_bytes``)
    image_bytes: int = 0

    @property
    def content_type(self) -> str:
        """``image/png``, ``image/jpeg``..."""
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        """The canonical extension (``.png``, ``.jpg``...)."""
        return FORMATS[self.format][1]

    def accepts_extension(self, ext: str) -> bool:
        """Whether ``ext`` (with its dot, any case) names this format."""
        ext = ext.lower()
        return ext == self.extension or ext in FORMATS[self.format][2]


def sniff_format(head: bytes) -> str | None:
    """The image format of a file from its first 16 bytes, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM":
        return "bmp"
    return None


def default_max_pixels() -> int:
    """Pillow's decompression-bomb limit (89,478,485 pixels unless changed)."""
    return int(Image.MAX_IMAGE_PIXELS or 2**31)


def _vips():  # type: ignore[no-untyped-def]
    import pyvips

    if not getattr(_vips, "ready", False):
        pyvips.cache_set_max(0)  # never hand back a cached decode of a rewritten file
        pyvips.block_untrusted_set(True)  # only the loaders named below, never magick/svg...
        _vips.ready = True  # type: ignore[attr-defined]
    return pyvips


def _head(path: Path, name: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(32)
    except FileNotFoundError as exc:
        raise InvalidImage(name, "the file does not exist") from exc
    except OSError as exc:
        raise InvalidImage(name, f"cannot be read ({exc.strerror})") from exc


_VIPS_NOISE = re.compile(r"unable to call \w+|\b(?:Vips\w*|vips\w+|\w+load(?:_\w+)?):\s*")


def _reason(exc: BaseException, path: Path) -> str:
    """A decoder's complaint without file paths (libvips and Pillow name the file)."""
    text = " ".join(str(exc).split())
    for needle in (str(path), str(path.resolve()) if path.exists() else str(path), path.name):
        text = text.replace(needle, "<image>")
    # libvips wraps the decoder's words: "unable to call pngload VipsJpeg: …"
    text = _VIPS_NOISE.sub("", text).strip(" :")
    return text[:300] or "the decoder could not read it"


def probe(path: Path, *, name: str | None = None, max_pixels: int | None = None) -> ImageInfo:
    """The real format and size of ``path`` from its header; InvalidImage when it
    is not a PNG/JPEG/WebP/GIF/TIFF/BMP or has more than ``max_pixels`` pixels."""
    path = Path(path)
    name = name or path.name
    limit = max_pixels if max_pixels is not None else default_max_pixels()
    head = _head(path, name)
    if not head:
        raise InvalidImage(name, "the file is empty")
    fmt = sniff_format(head)
    if fmt is None:
        raise InvalidImage(name, "not a PNG, JPEG, WebP, GIF, TIFF or BMP image")
    if fmt == "bmp":
        width, height = _pillow_size(path, name)
    else:
        pyvips = _vips()
        try:
            header = getattr(pyvips.Image, _LOADERS[fmt])(str(path), access="sequential")
            width, height = header.width, header.height
        except pyvips.Error as exc:
            raise InvalidImage(name, f"not a readable {fmt.upper()} image "
                                     f"({_reason(exc, path)})") from exc
    if width < 1 or height < 1:
        raise InvalidImage(name, "the image is empty")
    if width * height > limit:
        raise InvalidImage(name, f"{width}x{height} has more than {limit} pixels "
                                 "(decompression-bomb guard)")
    cap = FORMAT_MAX_PIXELS.get(fmt)
    if cap is not None and width * height > cap:
        raise InvalidImage(name, f"a {width}x{height} {fmt.upper()} is too large to decode "
                                 f"safely ({fmt.upper()} limit {cap} pixels; use PNG or JPEG)")
    if fmt == "jpeg":
        coefficients = _progressive_coefficient_bytes(path)
        if coefficients > JPEG_COEFFICIENT_BUDGET:
            raise InvalidImage(name, f"a {width}x{height} progressive JPEG needs "
                                     f"{coefficients // 2**20} MB to decode (limit "
                                     f"{JPEG_COEFFICIENT_BUDGET // 2**20} MB); save it as a "
                                     "baseline JPEG")
    return ImageInfo(fmt, width, height)


def _progressive_coefficient_bytes(path: Path) -> int:
    """Bytes of the coefficient buffer a progressive JPEG needs (0 for baseline):
    read from its SOF marker (found by seeking from segment to segment, however
    much EXIF/ICC comes first), 2 bytes per coefficient of every component."""
    with open(path, "rb") as fh:
        fh.seek(2)
        while True:
            marker = fh.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                return 0
            while marker[1] == 0xFF:  # fill bytes
                nxt = fh.read(1)
                if not nxt:
                    return 0
                marker = b"\xff" + nxt
            kind = marker[1]
            if 0xD0 <= kind <= 0xD9 or kind == 0x01:  # markers without a length
                continue
            raw = fh.read(2)
            if len(raw) < 2:
                return 0
            (length,) = struct.unpack(">H", raw)
            if kind in (0xC2, 0xC6, 0xCA, 0xCE):  # progressive SOFs
                return _coefficient_bytes(fh.read(max(0, length - 2)))
            if (0xC0 <= kind <= 0xCF and kind not in (0xC4, 0xC8, 0xCC)) or kind == 0xDA:
                return 0  # a baseline/lossless SOF, or scans without a SOF
            fh.seek(length - 2, 1)


def _coefficient_bytes(body: bytes) -> int:
    if len(body) < 6:
        return 0
    height, width = struct.unpack(">HH", body[1:5])
    comps = [(body[6 + 3 * i + 1] >> 4, body[6 + 3 * i + 1] & 15)
             for i in range(body[5]) if 6 + 3 * i + 2 < len(body)]
    if not comps:
        return 0
    hmax = max(h for h, _ in comps) or 1
    vmax = max(v for _, v in comps) or 1
    blocks = sum(math.ceil(width * h / hmax / 8) * math.ceil(height * v / vmax / 8)
                 for h, v in comps)
    return blocks * 64 * 2


def _pillow_size(path: Path, name: str) -> tuple[int, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=["BMP"]) as im:
                return im.size
        except Image.DecompressionBombError as exc:
            raise InvalidImage(name, "too many pixels to decode safely") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise InvalidImage(name, f"not a readable BMP image ({_reason(exc, path)})") from exc


def _target(width: int, height: int, min_size: tuple[int, int] | None) -> tuple[int, int]:
    """The decode size: covers ``min_size`` (never upscaled), within the budget."""
    scale = 1.0
    if min_size is not None:
        scale = min(1.0, max(min_size[0] / width, min_size[1] / height))
    budget = math.sqrt(DECODE_BUDGET_PIXELS / (width * height))
    scale = min(scale, budget, 1.0)
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def decode(
    path: Path,
    *,
    name: str | None = None,
    min_size: tuple[int, int] | None = None,
    max_pixels: int | None = None,
    matte: tuple[int, int, int] = (0, 0, 0),
) -> Image.Image:
    """``path`` as upright 8-bit RGB, decoded reduced: at least ``min_size`` (cover)
    where the image is that large, at most :data:`DECODE_BUDGET_PIXELS`. Animated
    images give their first frame; transparency is composited over ``matte``."""
    path = Path(path)
    name = name or path.name
    info = probe(path, name=name, max_pixels=max_pixels)
    if info.format == "bmp":
        return _decode_pillow(path, name, min_size, matte)
    pyvips = _vips()
    try:
        header = getattr(pyvips.Image, _LOADERS[info.format])(str(path), access="sequential")
        orientation = header.get("orientation") if header.get_typeof("orientation") else 1
        width, height = info.width, info.height
        if orientation in (5, 6, 7, 8):  # shown turned by 90 degrees
            width, height = height, width
        tw, th = _target(width, height, min_size)
        im = pyvips.Image.thumbnail(str(path), tw, height=th, size="down", fail_on="error")
        if im.interpretation != "srgb" or im.format != "uchar":
            im = im.colourspace("srgb")
        if im.hasalpha():
            im = im.flatten(background=list(matte))
        if im.format != "uchar":
            im = im.cast("uchar")
        if im.bands == 1:
            im = im.bandjoin([im, im])
        elif im.bands > 3:
            im = im.extract_band(0, n=3)
        data = im.write_to_memory()
        return Image.frombytes("RGB", (im.width, im.height), data)
    except pyvips.Error as exc:
        raise InvalidImage(name, f"corrupt or truncated image ({_reason(exc, path)})") from exc


def _decode_pillow(path: Path, name: str, min_size: tuple[int, int] | None,
                   matte: tuple[int, int, int]) -> Image.Image:
    try:
        with Image.open(path, formats=["BMP"]) as im:
            im.load()
            rgb = _pillow_rgb(ImageOps.exif_transpose(im) or im, matte)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(name, f"corrupt or truncated image ({_reason(exc, path)})") from exc
    tw, th = _target(rgb.width, rgb.height, min_size)
    if (tw, th) != rgb.size:
        rgb = rgb.resize((tw, th), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return rgb


def _pillow_rgb(im: Image.Image, matte: tuple[int, int, int]) -> Image.Image:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*matte, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB") if im.mode != "RGB" else im.copy()


def verify_image(path: Path, *, name: str | None = None,
                 max_pixels: int | None = None) -> ImageInfo:
    """Decode every pixel of ``path`` (in strips: the memory does not grow with
    the image) and check what follows the image. InvalidImage when it is not a
    whole, readable image, or (PNG, GIF, WebP) when bytes follow its end."""
    path = Path(path)
    name = name or path.name
    info = probe(path, name=name, max_pixels=max_pixels)
    if info.format == "bmp":
        decode(path, name=name, min_size=(1, 1)).close()
    elif info.format == "webp":
        # libwebp decodes every macroblock at any scale; full size it would hold it all
        try:
            _vips().Image.thumbnail(str(path), 512, height=512, fail_on="warning").avg()
        except _vips().Error as exc:
            raise InvalidImage(name, f"corrupt or truncated image ({_reason(exc, path)})") \
                from exc
    else:
        pyvips = _vips()
        try:
            full = getattr(pyvips.Image, _LOADERS[info.format])(
                str(path), access="sequential", fail_on="warning")
            full.avg()  # a sink: pulls every scanline through the decoder, a strip at a time
        except pyvips.Error as exc:
            raise InvalidImage(name, f"corrupt or truncated image ({_reason(exc, path)})") \
                from exc
    size = path.stat().st_size
    end = _image_end(path, info.format)
    trailing = 0 if end is None else max(0, size - end)
    if trailing and info.format in ("png", "gif", "webp"):
        raise InvalidImage(name, f"{trailing} byte(s) follow the end of the "
                                 f"{info.format.upper()} image (a polyglot file?)")
    return attrs.evolve(info, trailing_bytes=trailing, image_bytes=size - trailing)


def _image_end(path: Path, fmt: str) -> int | None:
    """Offset just past the image's last byte (IEND chunk, GIF trailer, RIFF size,
    JPEG EOI), or None when the format has no such marker (TIFF, BMP)."""
    data = path.read_bytes()
    if fmt == "png":
        pos = 8
        while pos + 8 <= len(data):
            (length,) = struct.unpack(">I", data[pos:pos + 4])
            kind = data[pos + 4:pos + 8]
            pos += 12 + length
            if kind == b"IEND":
                return pos
        return len(data)
    if fmt == "webp":
        (length,) = struct.unpack("<I", data[4:8])
        return 8 + length + (length & 1)
    if fmt == "gif":
        return _gif_end(data)
    if fmt == "jpeg":
        return _jpeg_end(data)
    return None


def _gif_end(data: bytes) -> int:
    pos = 13
    flags = data[10]
    if flags & 0x80:
        pos += 3 * (2 << (flags & 7))
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            return pos + 1
        if block == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif block == 0x2C:  # image descriptor (+ local colour table), LZW size
            local = data[pos + 9] if pos + 9 < len(data) else 0
            pos += 10
            if local & 0x80:
                pos += 3 * (2 << (local & 7))
            pos += 1
        else:
            return pos
        while pos < len(data) and data[pos]:
            pos += data[pos] + 1
        pos += 1
    return len(data)


def _jpeg_end(data: bytes) -> int:
    """Walk the JPEG's segments (an EXIF thumbnail's own EOI is inside APP1) and
    its entropy-coded scans to the EOI marker."""
    pos = 2
    size = len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return size
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        pos += 2 + length
        if marker == 0xDA:  # start of scan: skip entropy-coded data to the next marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= size:
                    return size
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos += 2  # a stuffed 0xFF byte or a restart marker
                elif following == 0xFF:
                    pos += 1  # fill
                else:
                    break
    return size
