"""The SSRF guard on callbacks: 400 at request time, no send after DNS rebinding,
no redirects, and VIDEOGEN_CALLBACK_ALLOW_PRIVATE to turn it off."""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.callback_receiver import CallbackReceiver, callback_receiver
from tests.unit.http.conftest import SEED_BODY, Env, wait_for

from videogen_core import InvalidRequest
from videogen_http.validation import check_callback_url
from videogen_jobs import ssrf
from videogen_jobs.callbacks import CallbackSender

FIELD = "generation_params.callback_url"
PUBLIC = "93.184.215.14"


def body_with(url: str) -> dict[str, Any]:
    body = copy.deepcopy(SEED_BODY)
    body["generation_params"]["callback_url"] = url
    return body


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with callback_receiver() as r:
        yield r


class Resolutions:
    """A fake resolver: the given answers in turn (the last one repeats), calls recorded."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    def __call__(self, host: str, timeout: float = 0) -> list[str]:
        self.calls.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


# ------------------------------------------------------------------ request time
@pytest.mark.parametrize(("url", "address", "why"), [
    ("http://127.0.0.1:9000/hook", "127.0.0.1", "loopback"),
    ("http://localhost:8080/hook", "localhost resolves to", "loopback"),
    ("https://10.1.2.3/hook", "10.1.2.3", "private"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "link-local"),
    ("http://[::1]:8000/hook", "::1", "loopback"),
    ("http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1"),
    ("http://100.64.1.1/hook", "100.64.1.1", "CGNAT"),
])
def test_private_callback_targets_are_400(client: Any, url: str, address: str, why: str
                                          ) -> None:
    r = client.post("/generateVideos/trip?async=1", json=body_with(url))
    assert r.status_code == 400, url
    error = r.get_json()["error"]
    assert error["details"]["field"] == FIELD
    assert address in error["message"] and why in error["message"]
    assert "VIDEOGEN_CALLBACK_ALLOW_PRIVATE" in error["message"]


def test_a_host_resolving_privately_is_400(client: Any, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setattr(ssrf, "resolve_host", Resolutions([PUBLIC, "10.0.0.7"]))
    r = client.post("/generateVideos/trip?async=1", json=body_with("https://hooks.example/x"))
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["details"]["field"] == FIELD
    assert "hooks.example resolves to 10.0.0.7, a private address" in error["message"]


def test_a_host_that_does_not_resolve_is_400(client: Any, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    def fail(host: str) -> list[str]:
        raise ssrf.ResolutionFailed(f"{host} does not resolve: [Errno -2] Name not known")

    monkeypatch.setattr(ssrf, "resolve_host", fail)
    r = client.post("/generateVideos/trip?async=1", json=body_with("https://nowhere.example/"))
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["details"]["field"] == FIELD
    assert "nowhere.example does not resolve" in error["message"]


def test_check_callback_url_resolves_names_only_when_guarding() -> None:
    public = Resolutions([PUBLIC])
    assert check_callback_url("https://ok.example/h", resolve=public) == "https://ok.example/h"
    assert public.calls == ["ok.example"]
    with pytest.raises(InvalidRequest) as info:
        check_callback_url("https://in.example/h", resolve=Resolutions(["fd00::1"]))
    assert info.value.field == FIELD and "fd00::1" in info.value.reason
    never = Resolutions([PUBLIC])
    assert check_callback_url("http://127.0.0.1:1/h", allow_private=True,
                              resolve=never) == "http://127.0.0.1:1/h"
    assert check_callback_url("http://private.example/h", allow_private=True,
                              resolve=never) == "http://private.example/h"
    assert never.calls == []


def test_with_the_setting_a_loopback_callback_is_delivered(
        make_env: Callable[..., Env], receiver: CallbackReceiver) -> None:
    env = make_env(callback_allow_private=True)
    env.add_images()
    client = env.app().test_client()
    r = client.post("/generateVideos/trip?async=1", json=body_with(receiver.url()))
    assert r.status_code == 202
    job_id = r.get_json()["job_id"]
    wait_for(client, job_id)
    assert receiver.received.wait(10)
    [(path, headers, content)] = receiver.posts
    assert path == "/hook" and headers["X-Videogen-Job-Id"] == job_id
    assert json.loads(content)["status"] == "succeeded"


def test_the_container_sender_follows_the_setting(make_env: Callable[..., Env]) -> None:
    guarded, open_ = make_env(), make_env(callback_allow_private=True)
    assert guarded.app().extensions["videogen"].container.callbacks().allow_private is False
    assert open_.app().extensions["videogen"].container.callbacks().allow_private is True


# ------------------------------------------------------------------ send time
def test_dns_rebinding_is_caught_before_sending(
        env: Env, receiver: CallbackReceiver, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # public when the request is checked, loopback when the callback is sent; without
    # the send-time check the real sender would reach the receiver via localhost
    resolver = Resolutions([PUBLIC], ["127.0.0.1"])
    monkeypatch.setattr(ssrf, "resolve_host", resolver)
    caplog.set_level(logging.WARNING, logger="videogen.callbacks")
    client = env.app().test_client()
    r = client.post("/generateVideos/trip?async=1",
                    json=body_with(receiver.url(host="localhost")))
    assert r.status_code == 202
    wait_for(client, r.get_json()["job_id"])
    eventually(lambda: bool(receiver.posts)
               or any("not sent" in rec.getMessage() for rec in caplog.records))
    [warning] = [rec for rec in caplog.records if "not sent" in rec.getMessage()]
    assert warning.levelno == logging.WARNING
    assert "localhost resolves to 127.0.0.1, a loopback address" in warning.getMessage()
    assert resolver.calls == ["localhost", "localhost"]  # once per check, no retry
    assert receiver.posts == []


def guarded_sender(handler: Callable[[httpx.Request], httpx.Response],
                   resolve: Resolutions, sleeps: list[float], *,
                   follow_redirects: bool = False) -> CallbackSender:
    client = httpx.Client(transport=httpx.MockTransport(handler),
                          follow_redirects=follow_redirects)
    return CallbackSender("k", client=client, attempts=4, backoff=0.5, sleep=sleeps.append,
                          resolve=resolve)


def test_a_refused_address_at_send_time_is_final(caplog: pytest.LogCaptureFixture) -> None:
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    resolve = Resolutions(["169.254.169.254"])
    sender = guarded_sender(lambda r: requests.append(r) or httpx.Response(200), resolve,
                            sleeps)
    caplog.set_level(logging.WARNING, logger="videogen.callbacks")
    assert sender.send("https://meta.example/hook", {"job_id": "j9"}) is False
    assert requests == [] and sleeps == [] and resolve.calls == ["meta.example"]
    assert any("j9" in rec.getMessage() and "169.254.169.254" in rec.getMessage()
               for rec in caplog.records if rec.levelno == logging.WARNING)


def test_a_literal_private_ip_is_never_posted_to() -> None:
    requests: list[httpx.Request] = []
    sender = guarded_sender(lambda r: requests.append(r) or httpx.Response(200),
                            Resolutions([PUBLIC]), [])
    assert sender.send("http://[::ffff:10.0.0.1]:8080/x", {"job_id": "j"}) is False
    assert requests == []


def test_a_public_host_is_checked_then_posted_to() -> None:
    requests: list[httpx.Request] = []
    resolve = Resolutions([PUBLIC])
    sender = guarded_sender(lambda r: requests.append(r) or httpx.Response(204), resolve, [])
    assert sender.send("https://hooks.example/done", {"job_id": "j"}) is True
    # the POST goes to the address that was checked; the name stays in Host and TLS
    assert [str(r.url) for r in requests] == [f"https://{PUBLIC}/done"]
    assert requests[0].headers["host"] == "hooks.example"
    assert requests[0].extensions["sni_hostname"] == "hooks.example"
    assert resolve.calls == ["hooks.example"]


@pytest.mark.parametrize(("url", "address", "target", "host", "sni"), [
    ("https://hooks.example/a?b=1", "93.184.216.34", "https://93.184.216.34/a?b=1",
     "hooks.example", "hooks.example"),
    ("http://hooks.example:8080/a", "93.184.216.34", "http://93.184.216.34:8080/a",
     "hooks.example:8080", None),
    ("https://u:p@hooks.example:8443/", "2606:2800:220:1:248:1893:25c8:1946",
     "https://u:p@[2606:2800:220:1:248:1893:25c8:1946]:8443/", "hooks.example:8443",
     "hooks.example"),
])
def test_pinned_connects_to_the_checked_address(url: str, address: str, target: str,
                                                host: str, sni: str | None) -> None:
    import ipaddress

    got, headers, extensions = ssrf.pinned(url, ipaddress.ip_address(address))
    assert got == target
    assert headers == {"Host": host}
    assert extensions.get("sni_hostname") == sni


def test_pinned_leaves_a_literal_ip_alone() -> None:
    import ipaddress

    url = "https://93.184.216.34:8443/x"
    assert ssrf.pinned(url, ipaddress.ip_address("93.184.216.34")) == (url, {}, {})


def test_a_resolution_failure_at_send_time_is_retried() -> None:
    requests: list[httpx.Request] = []
    answers = iter([ssrf.ResolutionFailed("hooks.example does not resolve"), [PUBLIC]])

    def flaky(host: str) -> list[str]:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    sleeps: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(
        lambda r: requests.append(r) or httpx.Response(200)))
    sender = CallbackSender("", client=client, attempts=3, backoff=0.5, sleep=sleeps.append,
                            resolve=flaky)
    assert sender.send("https://hooks.example/done", {"job_id": "j"}) is True
    assert len(requests) == 1 and sleeps == [0.5]


def test_redirects_are_not_followed() -> None:
    requests: list[httpx.Request] = []

    def redirecting(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(307, headers={"Location": "http://169.254.169.254/latest/"})

    # even a client configured to follow redirects does not, for callbacks
    sender = guarded_sender(redirecting, Resolutions([PUBLIC]), sleeps := [],
                            follow_redirects=True)
    assert sender.send("https://hooks.example/done", {"job_id": "j"}) is False
    assert [str(r.url) for r in requests] == [f"https://{PUBLIC}/done"]
    assert sleeps == []
    default = CallbackSender()
    assert default.client.follow_redirects is False
    default.close()
