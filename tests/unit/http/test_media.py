"""GET /media/<path>: stored files with Range support."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers
from tests.unit.http.conftest import SEED_BODY

from videogen_adapters.storage import InMemoryStorage


def _video(client: Any) -> tuple[str, bytes]:
    url = client.post("/generateVideos/trip", json=SEED_BODY).get_json()["video_url"]
    path = url.removeprefix("http://127.0.0.1:8000")
    full = client.get(path)
    assert full.status_code == 200
    return path, full.data


def test_video_url_serves_the_stored_file(env: Any, client: Any) -> None:
    path, data = _video(client)
    assert path.startswith("/media/trip/videos/")
    stored = env.settings.data_dir / path.removeprefix("/media/")
    assert data == stored.read_bytes()
    r = client.get(path)
    assert r.mimetype == "video/mp4"
    assert r.headers["Accept-Ranges"] == "bytes"


def test_range_request_is_206(client: Any) -> None:
    path, data = _video(client)
    r = client.get(path, headers={"Range": "bytes=10-29"})
    assert r.status_code == 206
    assert r.data == data[10:30]
    assert r.headers["Content-Range"] == f"bytes 10-29/{len(data)}"
    tail = client.get(path, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.data == data[-5:]


def test_unsatisfiable_range_is_416(client: Any) -> None:
    path, data = _video(client)
    r = client.get(path, headers={"Range": f"bytes={len(data) + 10}-"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{len(data)}"
    assert r.get_json()["error"]["code"] == "range_not_satisfiable"


def test_missing_and_forbidden_paths(client: Any) -> None:
    assert client.get("/media/trip/nope.mp4").status_code == 404
    assert client.get("/media/trip/../../etc/passwd").status_code in (400, 404)
    r = client.get("/media/trip/..%2F..%2Fetc/passwd")
    assert r.status_code == 400
    assert client.get("/media/.hidden/..").status_code in (400, 404)


def test_other_storages_are_served_through_a_temp_copy(env: Any) -> None:
    memory = InMemoryStorage({"f/videos/v.mp4": b"0123456789"})
    container = env.container()
    container.storage.override(providers.Object(memory))
    client = env.app(container).test_client()
    r = client.get("/media/f/videos/v.mp4", headers={"Range": "bytes=2-4"})
    assert r.status_code == 206
    assert r.data == b"234"
    assert client.get("/media/f/videos/missing.mp4").status_code == 404


def test_the_service_own_files_are_not_served(env: Any, client: Any) -> None:
    client.post("/generateVideos/trip", json=SEED_BODY)  # creates .videogen/jobs.sqlite3
    assert (env.settings.data_dir / ".videogen" / "jobs.sqlite3").is_file()
    for path in ("/media/jobs.sqlite3", "/media/jobs.sqlite3-wal", "/media/.cache/clips/x.mp4",
                 "/media/.videogen/jobs.sqlite3", "/media/.videogen/server.lock",
                 "/media/trip/.hidden.png"):
        r = client.get(path)
        assert r.status_code == 400, path
        assert r.get_json()["error"]["code"] == "path_not_allowed"
