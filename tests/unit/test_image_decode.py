"""The bounded decoder's header checks: real formats, ends of images, decode caps."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

import videogen_adapters.image_decode as image_decode
from videogen_adapters.image_decode import decode, probe, verify_image
from videogen_core import InvalidImage


def _save(path: Path, fmt: str, size: tuple[int, int] = (64, 48), **kw: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(out, format=fmt, **kw)
    path.write_bytes(out.getvalue())
    return out.getvalue()


def test_a_jpeg_with_an_exif_thumbnail_ends_at_its_own_eoi(tmp_path: Path) -> None:
    thumb = io.BytesIO()
    Image.new("RGB", (16, 12)).save(thumb, format="JPEG")
    exif = Image.Exif()
    exif[0x010F] = "camera"
    path = tmp_path / "photo.jpg"
    data = _save(path, "JPEG", exif=exif.tobytes() + thumb.getvalue())
    assert data.count(b"\xff\xd9") >= 2  # the embedded EOI comes first
    assert verify_image(path).trailing_bytes == 0
    path.write_bytes(data + b"MP4 video of a motion photo")
    assert verify_image(path).trailing_bytes == len(b"MP4 video of a motion photo")


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_bytes_after_the_end_are_refused(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "x.img"
    data = _save(path, fmt)
    assert verify_image(path).trailing_bytes == 0
    path.write_bytes(data + b"<?php echo 1; ?>")
    with pytest.raises(InvalidImage, match="follow the end"):
        verify_image(path, name="x.png")


def test_a_progressive_jpeg_over_the_coefficient_budget_is_refused_even_after_padding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.jpg"
    data = _save(path, "JPEG", (400, 300), progressive=True, subsampling=0)
    # 400x300, 3 components at full resolution: 3 * 50 * 38 blocks * 64 * 2 bytes
    assert image_decode._progressive_coefficient_bytes(path) == 3 * 50 * 38 * 128
    padding = b"".join(b"\xff\xe2" + (65535).to_bytes(2, "big") + b"\0" * 65533
                       for _ in range(20))  # 1.3 MB of APP2 before the frame header
    path.write_bytes(data[:2] + padding + data[2:])
    monkeypatch.setattr(image_decode, "JPEG_COEFFICIENT_BUDGET", 100_000)
    with pytest.raises(InvalidImage, match="progressive JPEG needs"):
        probe(path)
    _save(path, "JPEG", (400, 300))  # baseline: no coefficient buffer
    assert probe(path).format == "jpeg"


def test_format_caps_and_the_pixel_limit_come_from_the_header(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.gif"
    _save(path, "GIF", (300, 200))
    monkeypatch.setitem(image_decode.FORMAT_MAX_PIXELS, "gif", 50_000)
    with pytest.raises(InvalidImage, match="GIF limit"):
        decode(path)
    png = tmp_path / "b.png"
    _save(png, "PNG", (300, 200))
    with pytest.raises(InvalidImage, match="decompression-bomb"):
        probe(png, max_pixels=1000)


def test_decode_stays_within_the_budget_and_covers_min_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.png"
    _save(path, "PNG", (1200, 800))
    monkeypatch.setattr(image_decode, "DECODE_BUDGET_PIXELS", 60_000)
    im = decode(path)
    assert im.width * im.height <= 61_000 and abs(im.width / im.height - 1.5) < 0.02
    monkeypatch.setattr(image_decode, "DECODE_BUDGET_PIXELS", 10**9)
    im = decode(path, min_size=(300, 100))
    assert im.size == (300, 200)  # covers 300x100 at the image's aspect, no larger


def test_reasons_never_hold_the_path(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "secret-dir"
    path.mkdir(parents=True)
    bad = path / "x.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(InvalidImage) as info:
        verify_image(bad, name="trip/x.png")
    assert "secret-dir" not in str(info.value) and str(tmp_path) not in str(info.value)
    assert info.value.details["file"] == "trip/x.png"
