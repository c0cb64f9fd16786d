"""POST/GET /folders/<folder_id>/images: multipart uploads of images only."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from tests.unit.http.conftest import png_bytes


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 200, 30)).save(out, format="JPEG")
    return out.getvalue()


def upload(client: Any, folder: str, *files: tuple[bytes, str], field: str = "images") -> Any:
    data = {field: [(io.BytesIO(b), name) for b, name in files]}
    return client.post(f"/folders/{folder}/images", data=data,
                       content_type="multipart/form-data")


def test_upload_then_list(env: Any, client: Any) -> None:
    r = upload(client, "new", (png_bytes(), "scene_2.png"), (jpeg_bytes(), "scene_1.jpg"),
               (png_bytes(), "no_extension"))
    assert r.status_code == 201
    body = r.get_json()
    assert body["count"] == 3
    names = {i["name"]: i for i in body["images"]}
    assert names["scene_1.jpg"]["content_type"] == "image/jpeg"
    assert names["no_extension.png"]["content_type"] == "image/png"
    assert (env.settings.data_dir / "new" / "scene_2.png").read_bytes() == png_bytes()
    listed = client.get("/folders/new/images").get_json()
    assert [i["name"] for i in listed["images"]] == ["no_extension.png", "scene_1.jpg",
                                                     "scene_2.png"]
    assert listed["images"][1]["url"] == "http://127.0.0.1:8000/media/new/scene_1.jpg"


def test_uploaded_images_make_a_video(client: Any) -> None:
    from tests.unit.http.conftest import SEED_BODY

    upload(client, "fresh", (png_bytes(), "1.png"), (png_bytes((1, 2, 3)), "2.png"))
    r = client.post("/generateVideos/fresh", json=SEED_BODY)
    assert r.status_code == 200
    assert [d["image"] for d in r.get_json()["metadata"]["scene_details"]] == [
        "fresh/1.png", "fresh/2.png"]


def test_non_images_are_415_and_nothing_is_stored(env: Any, client: Any) -> None:
    r = upload(client, "bad", (png_bytes(), "ok.png"), (b"%PDF-1.7 not an image", "x.png"))
    assert r.status_code == 415
    assert r.get_json()["error"]["details"]["field"] == "files[1]"
    assert not (env.settings.data_dir / "bad").exists()


def test_a_png_named_like_a_script_is_stored_under_a_safe_name(env: Any, client: Any) -> None:
    r = upload(client, "safe", (png_bytes(), "../../evil.png"))
    assert r.status_code == 201
    assert r.get_json()["images"][0]["key"] == "safe/evil.png"
    assert (env.settings.data_dir / "safe" / "evil.png").is_file()


def test_bad_file_names_are_400(client: Any) -> None:
    r = upload(client, "x", (png_bytes(), "naïve photo.png"))
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == "files[0].filename"


def test_too_large_is_413(make_env: Any) -> None:
    env = make_env(max_upload_mb=1)
    client = env.app().test_client()
    big = png_bytes() + b"\0" * (1024 * 1024 + 10)
    r = upload(client, "big", (big, "big.png"))
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "payload_too_large"


def test_not_multipart_is_415(client: Any) -> None:
    r = client.post("/folders/x/images", data=png_bytes(), content_type="image/png")
    assert r.status_code == 415


def test_no_files_is_400(client: Any) -> None:
    r = client.post("/folders/x/images", data={"note": "hi"},
                    content_type="multipart/form-data")
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == "files"


def test_listing_a_missing_folder_is_404_and_bad_ids_400(client: Any) -> None:
    assert client.get("/folders/none/images").status_code == 404
    assert client.get("/folders/../images").status_code in (400, 404)
    assert client.get("/folders/..%5Cx/images").status_code == 400
