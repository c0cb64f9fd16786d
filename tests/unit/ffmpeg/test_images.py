"""Image normalisation: orientation, modes, bombs, corrupt files, fitting, YUV planes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from videogen_adapters.ffmpeg.images import fit_frame, load_image, yuv_planes
from videogen_core.errors import InvalidImage


def _two_tone(width: int = 40, height: int = 20) -> Image.Image:
    """Left half red, right half blue: shows where the image's left side went."""
    arr = np.zeros((height, width, 3), np.uint8)
    arr[:, : width // 2] = (255, 0, 0)
    arr[:, width // 2:] = (0, 0, 255)
    return Image.fromarray(arr)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    _two_tone().save(path, exif=exif, quality=95)
    im = load_image(path)
    assert im.size == (20, 40)
    top, bottom = np.asarray(im)[2, 10], np.asarray(im)[-3, 10]
    assert top[0] > 200 and top[2] < 60  # the left (red) side is now on top
    assert bottom[2] > 200 and bottom[0] < 60


@pytest.mark.parametrize("mode", ["L", "1", "P", "LA", "RGBA", "CMYK", "I", "F"])
def test_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    source = _two_tone().convert(mode) if mode not in ("I", "F") else _two_tone().convert(
        "L").convert(mode)
    path = tmp_path / f"{mode}.{'tiff' if mode in ('CMYK', 'F', 'I') else 'png'}"
    source.save(path)
    im = load_image(path)
    assert im.mode == "RGB" and im.size == (40, 20)
    arr = np.asarray(im).astype(int)
    if mode != "1":
        assert abs(arr[10, 5] - arr[10, 35]).sum() > 30  # the two halves stay different


def test_sixteen_bit_grayscale_is_scaled_not_clipped(tmp_path: Path) -> None:
    ramp = (np.linspace(0, 65535, 64).reshape(1, 64).repeat(8, axis=0)).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    arr = np.asarray(load_image(path))[..., 0]
    assert arr[0, 0] == 0 and arr[0, -1] == 255
    assert 120 < arr[0, 32] < 136  # mid-grey stays mid-grey


def test_transparency_is_composited_over_the_matte(tmp_path: Path) -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 1] = 255
    rgba[:, 5:, 3] = 255  # right half opaque green, left half transparent
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba).save(path)
    arr = np.asarray(load_image(path, matte=(255, 255, 255)))
    assert tuple(arr[5, 1]) == (255, 255, 255)
    assert tuple(arr[5, 8]) == (0, 255, 0)
    palette = Image.fromarray(rgba).convert("P")
    palette.info["transparency"] = 0
    ppath = tmp_path / "palette.png"
    palette.save(ppath, transparency=0)
    assert load_image(ppath).mode == "RGB"


def test_decompression_bomb_guard(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("L", (400, 300)).save(path)
    with pytest.raises(InvalidImage) as info:
        load_image(path, max_pixels=100_000)
    assert "bomb.png" in str(info.value) and "pixels" in str(info.value)


def test_pillow_bomb_error_becomes_invalid_image(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "huge.png"
    Image.new("L", (300, 300)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)  # Pillow raises above 2x this
    with pytest.raises(InvalidImage) as info:
        load_image(path)
    assert "huge.png" in str(info.value)


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\nbroken"])
def test_corrupt_files_name_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "scene_2.png"
    path.write_bytes(content)
    with pytest.raises(InvalidImage) as info:
        load_image(path)
    assert info.value.details["file"] == "scene_2.png"


def test_truncated_jpeg(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), np.uint8)).save(
        buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(InvalidImage, match=r"cut\.jpg"):
        load_image(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidImage, match="does not exist"):
        load_image(tmp_path / "nope.png")


def test_huge_jpeg_is_decoded_at_reduced_scale(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (90, 120, 150)).save(path)
    im = load_image(path, min_size=(400, 300))
    assert 400 <= im.width < 4000 and 300 <= im.height < 3000


def test_cover_crops_the_centre() -> None:
    wide = _two_tone(200, 50)
    fitted = fit_frame(wide, 64, 64, "cover")
    assert fitted.size == (64, 64)
    arr = np.asarray(fitted).astype(int)
    assert arr[32, 5, 0] > 200 and arr[32, 60, 2] > 200  # both halves around the centre


def test_contain_shows_everything_over_a_blurred_background() -> None:
    tall = Image.new("RGB", (50, 200), (250, 250, 250))
    fitted = fit_frame(tall, 160, 90, "contain")
    assert fitted.size == (160, 90)
    arr = np.asarray(fitted).astype(int)
    assert arr[45, 80].min() > 240  # the image itself, centred
    assert arr[45, 5].max() < 200  # the darkened, blurred background at the sides
    with pytest.raises(ValueError):
        fit_frame(tall, 10, 10, "stretch")


def test_yuv_planes_bt709_limited_range() -> None:
    white, black = Image.new("RGB", (4, 2), "white"), Image.new("RGB", (4, 2), "black")
    y, cb, _ = yuv_planes(white)
    assert (y.size, cb.size) == ((4, 2), (2, 1))
    assert np.asarray(y).min() == 235 and np.asarray(cb).max() == 128
    assert np.asarray(yuv_planes(black)[0]).max() == 16
    red = yuv_planes(Image.new("RGB", (2, 2), (255, 0, 0)))
    assert np.asarray(red[0])[0, 0] == round(16 + 219 * 0.2126)
    assert np.asarray(red[2])[0, 0] == 240
