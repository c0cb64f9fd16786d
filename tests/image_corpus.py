"""Files that once hurt the service: large-but-allowed images and hostile uploads.

Both the memory test (``tests/unit/ffmpeg/test_image_memory.py``), the upload
tests and ``benchmarks/bench_image_memory.py`` build their inputs here, so the
figures in the README are measured on exactly what the tests check.

The large images are written by hand (PNG rows fed through zlib one at a time)
or with libvips (streamed JPEG encoding), so making them needs little memory.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

__all__ = ["HOSTILE", "LARGE", "huge_jpeg", "huge_png", "make_hostile", "make_large",
           "png_bomb"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def huge_png(path: Path, width: int, height: int, *, color_type: int = 2, bit_depth: int = 8,
             palette: int = 0, transparent: bool = False, truncate_at: float | None = None,
             trailer: bytes = b"") -> Path:
    """A valid PNG of ``width`` x ``height`` that compresses to a few hundred KB:
    diagonal bands, so every row differs. ``color_type`` 0 gray, 2 RGB, 3 palette
    (``palette`` entries, ``transparent`` adds a tRNS chunk), 6 RGBA.
    ``truncate_at`` cuts the IDAT stream at that fraction; ``trailer`` is appended
    after IEND (a polyglot)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    sample = bit_depth // 8 or 1
    row_bytes = width * channels * sample
    comp = zlib.compressobj(9)
    parts = [b"\x89PNG\r\n\x1a\n",
             _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type,
                                         0, 0, 0))]
    if color_type == 3:
        entries = max(1, min(256, palette or 256))
        parts.append(_chunk(b"PLTE", b"".join(
            bytes((i * 37 % 256, i * 91 % 256, i * 13 % 256)) for i in range(entries))))
        if transparent:
            parts.append(_chunk(b"tRNS", bytes(range(0, 256, 256 // entries or 1))[:entries]))
    base = bytes((i // 64) % 251 for i in range(row_bytes + 4096))
    idat = bytearray()
    for y in range(height):
        shift = (y // 16) % 4096
        row = base[shift:shift + row_bytes]
        if color_type == 3:
            limit = max(1, min(256, palette or 256))
            row = bytes(b % limit for b in row) if limit < 251 else row
        idat += comp.compress(b"\x00" + row)
    idat += comp.flush()
    data = bytes(idat)
    if truncate_at is not None:
        data = data[: int(len(data) * truncate_at)]
    step = 1 << 20
    for i in range(0, len(data), step):
        parts.append(_chunk(b"IDAT", data[i:i + step]))
    if truncate_at is None:
        parts.append(_chunk(b"IEND", b""))
    path.write_bytes(b"".join(parts) + trailer)
    return path


def png_bomb(path: Path, width: int, height: int, *, rows: int | None = None) -> Path:
    """A decompression bomb: an RGB PNG of zeros, ~1/1000 of its decoded size.

    Deflate blocks ended by a full flush do not depend on what came before, so
    one block of zero rows is compressed once and repeated. ``rows`` stops the
    data early (a header that promises more than the file holds)."""
    row = b"\x00" * (1 + width * 3)
    per_block = max(1, (1 << 20) // len(row))
    comp = zlib.compressobj(9)
    head = comp.compress(row * per_block) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(row * per_block) + comp.flush(zlib.Z_FULL_FLUSH)
    want = height if rows is None else min(rows, height)
    blocks, rest = divmod(want, per_block)
    adler = 1
    chunk_adler = row * per_block
    for _ in range(blocks):
        adler = zlib.adler32(chunk_adler, adler)
    tail = b""
    if rest:
        tail_comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        tail = tail_comp.compress(row * rest) + tail_comp.flush(zlib.Z_FULL_FLUSH)
        adler = zlib.adler32(row * rest, adler)
    body = head[:2] + head[2:] * min(1, blocks) + block * max(0, blocks - 1) + tail
    if blocks == 0:
        body = head[:2] + tail
    body += b"\x03\x00" + struct.pack(">I", adler)  # empty final block + checksum
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + _chunk(b"IDAT", body) + _chunk(b"IEND", b""))
    return path


def _gradient(width: int, height: int):  # type: ignore[no-untyped-def]
    import pyvips

    xyz = pyvips.Image.xyz(width, height)
    r = (xyz[0] * 255 / max(1, width - 1)).cast("uchar")
    g = (xyz[1] * 255 / max(1, height - 1)).cast("uchar")
    b = ((xyz[0] + xyz[1]) % 256).cast("uchar")
    return r.bandjoin([g, b]).copy(interpretation="srgb")


def huge_webp(path: Path, width: int, height: int, *, lossless: bool = True) -> Path:
    """A WebP of ``width`` x ``height`` (a gradient), encoded by libvips."""
    _gradient(width, height).webpsave(str(path), lossless=lossless, effort=0, Q=50)
    return path


def huge_jpeg(path: Path, width: int, height: int, *, progressive: bool = False,
              subsample: bool = True) -> Path:
    """A JPEG of ``width`` x ``height`` (a gradient), encoded by libvips in strips;
    chroma at half resolution (4:2:0) unless ``subsample`` is False (4:4:4)."""
    _gradient(width, height).jpegsave(str(path), Q=80, interlace=progressive, keep="none",
                                      subsample_mode="auto" if subsample else "off")
    return path


def _small(fmt: str, size: tuple[int, int] = (40, 30), **save: object) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt, **save)
    return out.getvalue()


#: name → (file name, maker). The name says what the file is.
LARGE: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "png_9400_rgb": ("big.png", lambda p: huge_png(p, 9400, 9400)),
    "png_9400_rgba": ("rgba.png", lambda p: huge_png(p, 9400, 9400, color_type=6)),
    "png_9400_gray16": ("gray16.png", lambda p: huge_png(p, 9400, 9400, color_type=0,
                                                         bit_depth=16)),
    "png_9400_palette_trns": ("palette.png", lambda p: huge_png(p, 9400, 9400, color_type=3,
                                                                transparent=True)),
    "jpeg_9000": ("big.jpg", lambda p: huge_jpeg(p, 9000, 9000)),
    "jpeg_8000_progressive": ("prog.jpg", lambda p: huge_jpeg(p, 8000, 8000,
                                                             progressive=True)),
    "webp_7000_lossless": ("big.webp", lambda p: huge_webp(p, 7000, 7000)),
}


def make_large(directory: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Write the large (allowed: under Pillow's 89.5 MP limit) images; name → path."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names or list(LARGE):
        filename, make = LARGE[name]
        out[name] = make(directory / filename)
    return out


def _hostile() -> dict[str, tuple[str, Callable[[Path], bytes]]]:
    png = _small("PNG")
    gif = _small("GIF")
    jpg = _small("JPEG")

    def built(fn: Callable[[Path], Path]) -> Callable[[Path], bytes]:
        def make(tmp: Path) -> bytes:
            return fn(tmp / "x.png").read_bytes()
        return make

    return {
        "bmp_php": ("shell.php.png", lambda _: b"BM<?php system($_GET['c']); ?>" + b"\0" * 64),
        "gif_html": ("pic.gif", lambda _: b"GIF89a<html><script>alert(document.domain)"
                                          b"</script></html>"),
        "gif_valid_then_html": ("pic2.gif", lambda _: gif + b"<html><script>alert(1)"
                                                      b"</script></html>"),
        "png_trailing_php": ("photo.png", lambda _: png + b"<?php system($_GET['c']); ?>"),
        "jpeg_trailing_html": ("photo.jpg", lambda _: jpg + b"<html><script>alert(1)"
                                                       b"</script></html>"),
        "png_header_only": ("head.png", lambda _: png[:33]),
        "png_truncated": ("cut.png", built(lambda p: huge_png(p, 400, 300, truncate_at=0.5))),
        "jpeg_truncated": ("cut.jpg", lambda _: _small("JPEG", (400, 300))[:300]),
        "empty": ("empty.png", lambda _: b""),
        "svg_as_png": ("logo.png", lambda _: b'<svg xmlns="http://www.w3.org/2000/svg" '
                                             b'onload="alert(1)"><script>alert(2)</script>'
                                             b'</svg>'),
        "html_as_jpg": ("index.jpg", lambda _: b"<!DOCTYPE html><html><body>"
                                               b"<script>alert(1)</script></body></html>"),
        "png_bomb_100k": ("bomb.png", built(lambda p: png_bomb(p, 100_000, 100_000,
                                                               rows=64))),
        "png_bomb_20k": ("bomb2.png", built(lambda p: png_bomb(p, 20_000, 20_000))),
        "jpeg_progressive_444_9400": ("prog444.jpg", lambda tmp: huge_jpeg(
            tmp / "p444.jpg", 9400, 9400, progressive=True, subsample=False).read_bytes()),
        "png_bad_crc": ("crc.png", lambda _: png[:40] + bytes([png[40] ^ 0xFF]) + png[41:]),
    }


#: name → (upload file name, maker(tmp dir) → bytes) of files that must never
#: be stored as images nor served as active content.
HOSTILE = _hostile()


def make_hostile(directory: Path) -> dict[str, tuple[str, bytes]]:
    """name → (upload file name, bytes) for every hostile file."""
    directory.mkdir(parents=True, exist_ok=True)
    return {name: (filename, make(directory)) for name, (filename, make) in HOSTILE.items()}
