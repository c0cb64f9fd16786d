"""GET /media on non-local storage leaves no temporary file (issue 13.10): not on
success, not on failure, not when the client goes away mid-download, not when
the response is never closed (the test client's habit that left
``/tmp/videogen-media-*`` behind)."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.servers import moto_session, s3_client
from werkzeug.serving import make_server

from videogen_adapters.storage import InMemoryStorage, S3Storage
from videogen_core import StorageFailed

__all__ = ["moto_session"]

KEY = "trip/videos/clip.mp4"
DATA = bytes(range(256)) * (16 * 1024)  # 4 MiB: more than one socket buffer


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("videogen-media-"))


@pytest.fixture(params=["memory", "s3"])
def storage(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        store: Any = InMemoryStorage()
    else:
        server = request.getfixturevalue("moto_session")
        client = s3_client(server)
        bucket = f"media-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket)
        store = S3Storage(client, bucket)
    store.put_bytes(DATA, KEY, "video/mp4")
    return store


@pytest.fixture
def app(make_env: Any, storage: Any) -> Any:
    env = make_env()
    env.storage = storage
    return env.app()


def test_full_range_conditional_and_416_leave_nothing(app: Any, temp_root: Path) -> None:
    client = app.test_client()
    full = client.get(f"/media/{KEY}")  # never closed, never read to the end by us
    assert full.status_code == 200 and full.data == DATA
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    part = client.get(f"/media/{KEY}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == DATA[100:200]
    again = client.get(f"/media/{KEY}", headers={"If-None-Match": full.headers["ETag"]})
    assert again.status_code in (200, 304)
    bad = client.get(f"/media/{KEY}", headers={"Range": f"bytes={len(DATA) + 5}-"})
    assert bad.status_code == 416
    assert leftovers(temp_root) == []


def test_unread_response_leaves_nothing(app: Any, temp_root: Path) -> None:
    client = app.test_client()
    response = client.get(f"/media/{KEY}", buffered=False)  # body not read, not closed
    assert response.status_code == 200
    assert leftovers(temp_root) == []
    assert b"".join(response.response) == DATA  # the open file still streams
    response.close()


def test_a_failed_fetch_leaves_nothing(app: Any, storage: Any, temp_root: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(key: str, destination: Path) -> Path:
        Path(destination).write_bytes(DATA[:1000])  # half a copy, then the backend fails
        raise StorageFailed(storage.name, "fetch", "connection reset", key=key)

    monkeypatch.setattr(storage, "fetch", broken)
    r = app.test_client().get(f"/media/{KEY}")
    assert r.status_code >= 500
    assert "/tmp" not in r.get_data(as_text=True)
    assert leftovers(temp_root) == []


@pytest.fixture
def served(app: Any) -> Iterator[tuple[str, int]]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join(10)


def test_a_client_that_disconnects_mid_download_leaves_nothing(
        served: tuple[str, int], temp_root: Path) -> None:
    with socket.create_connection(served, timeout=10) as sock:
        sock.sendall(f"GET /media/{KEY} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        got = b""
        while len(got) < 64 * 1024:
            chunk = sock.recv(65536)
            assert chunk, "the server closed early"
            got += chunk
        assert got.startswith(b"HTTP/1.1 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    # the server notices the reset when it writes the next block
    deadline = time.monotonic() + 5
    while leftovers(temp_root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers(temp_root) == []
