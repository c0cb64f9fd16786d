"""The edge of a real ``videogen serve`` process (waitress): what the headers alone
decide is answered before the body is sent, and every answer is JSON.

Requests go over raw sockets so the test controls exactly what is sent: the
headers announce a 300 MB body, none of it is sent, and the answer must still
come — proof that the server did not wait for (or read) the body.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from tests.servers import videogen_serve

pytestmark = [pytest.mark.server]

TOKEN = "edge-test-token"
BIG = 300 * 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    tmp = tmp_path_factory.mktemp("edge")
    with videogen_serve(tmp, {
        "VIDEOGEN_DATA_DIR": str(tmp / "data"), "VIDEOGEN_API_TOKEN": TOKEN,
        "VIDEOGEN_MAX_UPLOAD_MB": "2", "VIDEOGEN_MAX_BODY_KB": "64", "VIDEOGEN_THREADS": "4",
    }, grace=10) as running:
        yield running.host, running.port


def exchange(address: tuple[str, int], head: str) -> tuple[int, dict[str, str], bytes]:
    """Send only ``head`` (request line + headers, no body) and read the whole answer."""
    with socket.create_connection(address, timeout=15) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    raw_head, _, body = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return status, headers, body


def request(method: str, path: str, **headers: Any) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n"


def error_of(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert headers["content-type"].startswith("application/json")
    envelope = json.loads(body)
    assert envelope["success"] is False
    return dict(envelope["error"])


def test_unauthenticated_300_mb_is_refused_before_the_body(server: tuple[str, int]) -> None:
    status, headers, body = exchange(server, request(
        "POST", "/generateVideos/trip", Content_Type="application/json", Content_Length=BIG))
    assert status == 401
    assert error_of(headers, body)["code"] == "unauthorized"
    assert headers["www-authenticate"].startswith("Bearer")
    assert headers["connection"] == "close"


def test_no_100_continue_for_a_refused_body(server: tuple[str, int]) -> None:
    status, _, body = exchange(server, request(
        "POST", "/folders/trip/images", Content_Type="multipart/form-data; boundary=x",
        Content_Length=BIG, Expect="100-continue"))
    assert status == 401
    assert b"100 Continue" not in body


@pytest.mark.parametrize(("path", "content_type", "limit"), [
    ("/generateVideos/trip", "application/json", 64 * 1024),
    ("/folders/trip/images", "multipart/form-data; boundary=x", 2 * 1024 * 1024),
])
def test_oversized_bodies_are_refused_before_the_body(server: tuple[str, int], path: str,
                                                      content_type: str, limit: int) -> None:
    for length in (limit + 1, BIG, 5 * 1024**3):  # 5 GB: above waitress's own 1 GB limit
        status, headers, body = exchange(server, request(
            "POST", path, Authorization=f"Bearer {TOKEN}", Content_Type=content_type,
            Content_Length=length))
        assert status == 413, length
        error = error_of(headers, body)
        assert error["code"] == "payload_too_large"
        assert error["details"]["limit_bytes"] == limit


def test_a_body_within_the_limit_is_still_read(server: tuple[str, int]) -> None:
    payload = b"[" * 40 + b"]" * 40
    head = request("POST", "/generateVideos/trip", Authorization=f"Bearer {TOKEN}",
                   Content_Type="application/json", Content_Length=len(payload),
                   Connection="close")
    with socket.create_connection(server, timeout=15) as sock:
        sock.sendall(head.encode() + payload)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    assert head_bytes.split()[1] == b"400"  # parsed, then refused for its depth
    assert json.loads(body)["error"]["details"]["max_depth"] == 32


@pytest.mark.parametrize("raw", [
    "GARBAGE\r\n\r\n",
    request("GET", "/healthz", Transfer_Encoding="gzip"),
    request("GET", "/media//etc/passwd", Authorization=f"Bearer {TOKEN}", Connection="close"),
    request("GET", "/jobs/%2f/events", Authorization=f"Bearer {TOKEN}", Connection="close"),
    request("OPTIONS", "/generateVideos/trip", Authorization=f"Bearer {TOKEN}",
            Connection="close"),
])
def test_every_answer_is_json(server: tuple[str, int], raw: str) -> None:
    status, headers, body = exchange(server, raw)
    assert 400 <= status < 600
    assert "location" not in headers
    error_of(headers, body)
