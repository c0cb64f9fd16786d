"""Completion callbacks: signed with HMAC-SHA256, retried with backoff, http(s) only."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
from typing import Any

import httpx
from dependency_injector import providers
from tests.unit.http.conftest import SEED_BODY, wait_for

from videogen_jobs.callbacks import SIGNATURE_HEADER, CallbackSender, sign


class Receiver:
    """A MockTransport handler answering with the given statuses in turn."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []
        self.done = threading.Event()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 0:
            raise httpx.ConnectError("refused", request=request)
        if 200 <= status < 300:
            self.done.set()
        return httpx.Response(status)


def sender(receiver: Receiver, sleeps: list[float], secret: str = "k") -> CallbackSender:
    client = httpx.Client(transport=httpx.MockTransport(receiver))
    # these tests are about the callback mechanics, not the address guard (test_callback_guard)
    return CallbackSender(secret, client=client, attempts=4, backoff=0.5, sleep=sleeps.append,
                          allow_private=True)


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    receiver, sleeps = Receiver(200), []
    assert sender(receiver, sleeps, secret="topsecret").send(
        "https://example.test/hook", {"job_id": "j1", "status": "succeeded"})
    request = receiver.requests[0]
    expected = hmac.new(b"topsecret", request.content, hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert request.headers["X-Videogen-Event"] == "job.succeeded"
    assert request.headers["X-Videogen-Job-Id"] == "j1"
    assert json.loads(request.content) == {"job_id": "j1", "status": "succeeded"}
    assert sign("topsecret", b"x") != sign("other", b"x")


def test_retries_with_exponential_backoff_then_delivers() -> None:
    receiver, sleeps = Receiver(0, 503, 429, 200), []
    assert sender(receiver, sleeps).send("http://h.test/x", {"job_id": "j"})
    assert len(receiver.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]
    bodies = {r.content for r in receiver.requests}
    assert len(bodies) == 1  # the same signed body every time


def test_gives_up_after_the_attempts() -> None:
    receiver, sleeps = Receiver(500, 500, 500, 500, 500), []
    assert not sender(receiver, sleeps).send("http://h.test/x", {"job_id": "j"})
    assert len(receiver.requests) == 4


def test_a_client_error_is_final() -> None:
    receiver, sleeps = Receiver(410), []
    assert not sender(receiver, sleeps).send("http://h.test/x", {"job_id": "j"})
    assert len(receiver.requests) == 1 and sleeps == []


def test_no_secret_no_signature() -> None:
    receiver, sleeps = Receiver(200), []
    sender(receiver, sleeps, secret="").send("http://h.test/x", {"job_id": "j"})
    assert SIGNATURE_HEADER not in receiver.requests[0].headers


def test_a_finished_job_posts_itself_to_its_callback_url(make_env: Any) -> None:
    env = make_env(callback_secret="cb-secret", callback_allow_private=True)
    env.add_images()
    receiver, sleeps = Receiver(502, 200), []
    container = env.container()
    container.callbacks.override(providers.Object(sender(receiver, sleeps, "cb-secret")))
    client = env.app(container).test_client()
    body = copy.deepcopy(SEED_BODY)
    body["generation_params"]["callback_url"] = "https://client.example/hooks/video"
    job_id = client.post("/generateVideos/trip?async=true", json=body).get_json()["job_id"]
    job = wait_for(client, job_id)
    assert receiver.done.wait(10)
    request = receiver.requests[-1]
    assert str(request.url) == "https://client.example/hooks/video"
    assert request.headers[SIGNATURE_HEADER] == sign("cb-secret", request.content)
    delivered = json.loads(request.content)
    assert delivered["job_id"] == job_id and delivered["status"] == "succeeded"
    assert delivered["result"] == job["result"]
    assert sleeps == [0.5]


def test_the_default_sender_uses_the_configured_secret(make_env: Any) -> None:
    env = make_env(callback_secret="abc")
    env.app()
    assert env.apps[0].extensions["videogen"].container.callbacks().secret == "abc"
