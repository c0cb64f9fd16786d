"""Hostile uploads (issue 12.9, 12.12): nothing but whole images is stored, and
nothing stored is served as active content."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.image_corpus import HOSTILE, make_hostile
from tests.unit.http.conftest import png_bytes

ACTIVE = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml",
          "text/javascript", "application/javascript", "application/x-httpd-php")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, bytes]]:
    return make_hostile(tmp_path_factory.mktemp("hostile"))


def upload(client: Any, folder: str, *files: tuple[bytes, str]) -> Any:
    data = {"images": [(io.BytesIO(b), name) for b, name in files]}
    return client.post(f"/folders/{folder}/images", data=data,
                       content_type="multipart/form-data")


def _stored(env: Any, folder: str) -> list[Path]:
    root = env.settings.data_dir / folder
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _assert_inert(r: Any) -> None:
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert r.mimetype not in ACTIVE and not r.mimetype.startswith("text/html")


@pytest.mark.parametrize("name", sorted(set(HOSTILE) - {"jpeg_trailing_html"}))
def test_hostile_files_are_refused_and_nothing_is_stored(
        name: str, hostile: dict[str, tuple[str, bytes]], env: Any, client: Any) -> None:
    filename, data = hostile[name]
    r = upload(client, "up", (png_bytes(), "fine.png"), (data, filename))
    assert r.status_code in (415, 422), (name, r.status_code, r.get_json())
    error = r.get_json()["error"]
    assert error["details"]["field"] == "files[1]"
    assert filename in error["message"]
    assert "/tmp" not in error["message"] and "videogen-upload" not in str(error)
    assert _stored(env, "up") == []  # not even the good file: all are checked first


def test_a_jpeg_is_stored_without_what_follows_its_end(
        hostile: dict[str, tuple[str, bytes]], env: Any, client: Any) -> None:
    filename, data = hostile["jpeg_trailing_html"]
    r = upload(client, "up", (data, filename))
    assert r.status_code == 201, r.get_json()
    image = r.get_json()["images"][0]
    assert image["removed_trailing_bytes"] == len(data) - data.index(b"<html")
    stored = (env.settings.data_dir / image["key"]).read_bytes()
    assert b"<html" not in stored and stored.endswith(b"\xff\xd9")
    assert Image.open(io.BytesIO(stored)).size == (40, 30)
    served = client.get(f"/media/{image['key']}")
    assert served.mimetype == "image/jpeg" and served.data == stored
    _assert_inert(served)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_already_in_storage_are_served_inert(
        name: str, hostile: dict[str, tuple[str, bytes]], env: Any, client: Any) -> None:
    """Files that reached storage some other way (before this check, by hand)."""
    filename, data = hostile[name]
    safe = filename.replace(".php", "_php")
    (env.settings.data_dir / "old").mkdir(parents=True, exist_ok=True)
    (env.settings.data_dir / "old" / safe).write_bytes(data)
    r = client.get(f"/media/old/{safe}")
    assert r.status_code == 200
    _assert_inert(r)
    if name in {"png_trailing_php", "gif_valid_then_html", "jpeg_trailing_html",
                "png_truncated"}:
        # their headers are real image headers: typed as that image, and inert
        assert r.mimetype.startswith("image/")
    else:
        assert r.mimetype == "application/octet-stream", (name, r.mimetype)
        assert r.headers["Content-Disposition"].startswith("attachment")


def test_the_stored_name_has_the_real_formats_extension(env: Any, client: Any) -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(jpeg, format="JPEG")
    r = upload(client, "ext", (png_bytes(), "shell.php.png"), (jpeg.getvalue(), "photo.png"),
               (png_bytes(), "notes.txt"))
    assert r.status_code == 201, r.get_json()
    assert [(i["name"], i["content_type"], i["filename"]) for i in r.get_json()["images"]] == [
        ("shell_php.png", "image/png", "shell.php.png"),
        ("photo.jpg", "image/jpeg", "photo.png"),
        ("notes_txt.png", "image/png", "notes.txt")]
    assert sorted(p.name for p in _stored(env, "ext")) == [
        "notes_txt.png", "photo.jpg", "shell_php.png"]
    served = client.get("/media/ext/photo.jpg")
    assert served.mimetype == "image/jpeg"
    _assert_inert(served)


def test_a_png_stored_under_a_jpeg_name_is_served_as_png(env: Any, client: Any) -> None:
    (env.settings.data_dir / "mixed").mkdir(parents=True)
    (env.settings.data_dir / "mixed" / "x.jpg").write_bytes(png_bytes())
    r = client.get("/media/mixed/x.jpg")
    assert r.mimetype == "image/png"
    _assert_inert(r)


def test_fifty_parts_with_one_name_are_refused_naming_the_part(env: Any, client: Any) -> None:
    r = upload(client, "dup", *[(png_bytes((i, 0, 0)), "same.png") for i in range(50)])
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["details"]["field"] == "files[1].filename"
    assert error["details"]["same_as"] == "files[0]"
    assert "same.png" in error["message"]
    assert _stored(env, "dup") == []


def test_names_that_collide_once_normalised_are_refused(env: Any, client: Any) -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (20, 10)).save(jpeg, format="JPEG")
    # photo.png holds a JPEG: stored as photo.jpg, like the second part
    r = upload(client, "dup2", (jpeg.getvalue(), "photo.png"), (jpeg.getvalue(), "photo.jpg"))
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["name"] == "photo.jpg"
    assert _stored(env, "dup2") == []


def test_distinct_names_all_stored_and_counted(env: Any, client: Any) -> None:
    r = upload(client, "many", *[(png_bytes((i, 0, 0)), f"s_{i}.png") for i in range(50)])
    assert r.status_code == 201
    assert r.get_json()["count"] == 50 == len(_stored(env, "many"))
