"""Fault: the storage fails while the finished video is uploaded (real moto server).

A small proxy stands between the S3 client and ``moto_server`` and answers the
video's PUT with 503 SlowDown, once (a transient fault: the client retries and
the job succeeds) or every time (the job fails with a clear storage error and
no object is left under the job's keys — the captions stored first are removed
again). The GCS variant stops the emulator in the store stage.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.servers import RunningServer, gcs_client, gcs_emulator, moto_server, s3_client

from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.fakes import FakeClipRenderer, FakeMusicSource, FakeMuxer, FakeNarrator
from videogen_adapters.storage import S3Storage
from videogen_adapters.storage.s3 import make_s3_client
from videogen_core import (
    GenerationParams,
    ProgressEvent,
    Scene,
    Sequence,
    ServiceUnavailable,
    StorageFailed,
)
from videogen_core.pipeline import VideoPipeline

pytestmark = pytest.mark.server

SEQUENCE = Sequence([Scene(1, "One picture.", 3.0), Scene(2, "And another one.", 3.0)],
                    GenerationParams("crossfade", seed=5))


class FlakyProxy:
    """Forwards every request to ``target``; the first ``fail`` PUTs of an ``.mp4``
    get ``503 SlowDown`` instead. Counts the video PUTs it saw."""

    def __init__(self, target: str, fail: int) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.fail = fail
        self.video_puts = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.command == "PUT" and self.path.split("?")[0].endswith(".mp4"):
                    proxy.video_puts += 1
                    if proxy.video_puts <= proxy.fail:
                        error = (b"<?xml version='1.0'?><Error><Code>SlowDown</Code>"
                                 b"<Message>injected fault</Message></Error>")
                        self.send_response(503)
                        self.send_header("Content-Length", str(len(error)))
                        self.send_header("Content-Type", "application/xml")
                        self.end_headers()
                        self.wfile.write(error)
                        return
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def moto() -> Iterator[RunningServer]:
    with moto_server() as server:
        yield server


def s3_job(moto: RunningServer, tmp_path: Path, fail: int) -> tuple[Any, Any, FlakyProxy, str]:
    direct = s3_client(moto)
    bucket = f"fault-{fail}-{tmp_path.name[-8:].lower().replace('_', '-')}"
    direct.create_bucket(Bucket=bucket)
    for n in (1, 2):
        direct.put_object(Bucket=bucket, Key=f"f/scene_{n}.png", Body=b"image")
    proxy = FlakyProxy(moto.url, fail)
    client = make_s3_client(endpoint_url=proxy.url, max_attempts=3,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    storage = S3Storage(client, bucket)
    pool = ThreadPoolExecutorAdapter(2)
    pipeline = VideoPipeline(storage=storage, renderer=FakeClipRenderer(),
                             narrator=FakeNarrator(), music=FakeMusicSource(), muxer=FakeMuxer(),
                             executor=pool, workdir=tmp_path / "work")
    return direct, pipeline, proxy, bucket


def keys(direct: Any, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in direct.list_objects_v2(Bucket=bucket, Prefix=prefix)
            .get("Contents", [])]


def test_a_transient_upload_failure_is_retried_and_the_job_succeeds(
        moto: RunningServer, tmp_path: Path) -> None:
    direct, pipeline, proxy, bucket = s3_job(moto, tmp_path, fail=1)
    try:
        result = pipeline.run("f", SEQUENCE)
    finally:
        proxy.close()
        pipeline.executor.shutdown()
    assert proxy.video_puts == 2  # one 503, one retry
    assert keys(direct, bucket, "f/videos/") == sorted(
        [result.video_key, *(result.video_key[:-4] + ext
                             for ext in (".srt", ".vtt", ".words.json"))])


def test_a_lasting_upload_failure_fails_the_job_and_leaves_no_object(
        moto: RunningServer, tmp_path: Path) -> None:
    direct, pipeline, proxy, bucket = s3_job(moto, tmp_path, fail=99)
    try:
        with pytest.raises(StorageFailed) as caught:
            pipeline.run("f", SEQUENCE)
    finally:
        proxy.close()
        pipeline.executor.shutdown()
    assert proxy.video_puts == 4  # the first try + max_attempts (3) retries, then an error
    error = caught.value.to_dict()
    assert error["code"] == "storage_failed" and "SlowDown" in error["message"]
    assert keys(direct, bucket, "f/videos/") == []  # captions stored first were removed
    assert not any((tmp_path / "work").iterdir())


def test_the_gcs_emulator_stopping_mid_job_is_a_clear_error(tmp_path: Path) -> None:
    from videogen_adapters.storage.gcs import GcsStorage

    with gcs_emulator() as server:
        client = gcs_client(server)
        bucket = client.create_bucket("fault-gcs")
        for n in (1, 2):
            bucket.blob(f"f/scene_{n}.png").upload_from_string(b"image")
        storage = GcsStorage(client, "fault-gcs", retry_deadline=2.0, timeout=5.0)
        pool = ThreadPoolExecutorAdapter(2)
        pipeline = VideoPipeline(storage=storage, renderer=FakeClipRenderer(),
                                 narrator=FakeNarrator(), music=FakeMusicSource(),
                                 muxer=FakeMuxer(), executor=pool, workdir=tmp_path / "work")

        def stop_at_store(event: ProgressEvent) -> None:
            if event.stage == "store" and event.done == 0:
                server.process.terminate()
                server.process.wait(10)

        try:
            with pytest.raises((StorageFailed, ServiceUnavailable)) as caught:
                pipeline.run("f", SEQUENCE, progress=stop_at_store)
        finally:
            pool.shutdown()
    error = caught.value.to_dict()
    assert error["code"] in ("storage_failed", "service_unavailable")
    assert "gcs" in (error["message"] + str(error["details"])).lower()
    assert not any((tmp_path / "work").iterdir())
