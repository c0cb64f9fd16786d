"""Identifier rules and image sniffing."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from videogen_adapters.image_decode import ImageInfo
from videogen_core import InvalidRequest
from videogen_http.uploads import sniff_image, upload_name
from videogen_http.validation import check_callback_url, check_id, check_media_key


@given(st.text(min_size=0, max_size=200))
def test_check_id_accepts_only_safe_names(value: str) -> None:
    try:
        check_id(value, "folder_id")
    except InvalidRequest as exc:
        assert exc.field == "folder_id"
    else:
        assert 1 <= len(value) <= 128
        assert not value.startswith(".")
        assert all(c.isascii() and (c.isalnum() or c in "_.-") for c in value)


@pytest.mark.parametrize("key", ["a/b.mp4", "f1/videos/2026-x.mp4", "f/scene_1.png"])
def test_media_keys(key: str) -> None:
    assert check_media_key(key) == key


@pytest.mark.parametrize("key", ["top.mp4", "a//b", "a/../b", "a/./b", "/a/b", "a/b/", "a\\b/c",
                                 "a/.b"])
def test_bad_media_keys(key: str) -> None:
    with pytest.raises(InvalidRequest):
        check_media_key(key)


@pytest.mark.parametrize(("fmt", "content_type"), [
    ("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("BMP", "image/bmp"),
    ("TIFF", "image/tiff"), ("WEBP", "image/webp")])
def test_sniff_real_images(fmt: str, content_type: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, format=fmt)
    assert sniff_image(out.getvalue()[:32])[0] == content_type


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7", b"<svg xmlns=", b"RIFF\0\0\0\0WAVEfmt ",
                                  b"\x00\x00\x00\x18ftypmp42", b"#!/bin/sh\n"])
def test_sniff_refuses_non_images(data: bytes) -> None:
    assert sniff_image(data) is None


def test_upload_names() -> None:
    png, jpeg, gif = ImageInfo("png", 1, 1), ImageInfo("jpeg", 1, 1), ImageInfo("gif", 1, 1)
    assert upload_name("C:\\Users\\me\\scene_1.JPG", jpeg) == "scene_1.JPG"
    assert upload_name("../../x", png) == "x.png"
    assert upload_name("", gif) == "image.gif"
    assert upload_name("notes.txt", png) == "notes_txt.png"
    # the extension of the real format; no second extension a web server could act on
    assert upload_name("shell.php.png", png) == "shell_php.png"
    assert upload_name("photo.jpg", png) == "photo.png"
    assert upload_name("photo.jpeg", jpeg) == "photo.jpeg"


@pytest.mark.parametrize("url", ["https://a.example/hook", "http://127.0.0.1:9000/x?y=1"])
def test_callback_urls_accepted(url: str) -> None:
    assert check_callback_url(url, allow_private=True) == url  # the guard: test_callback_guard
