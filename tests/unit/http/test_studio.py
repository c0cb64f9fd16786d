"""The Studio page, ``GET /capabilities`` and ``POST /narration/preview`` (issue 16)."""

from __future__ import annotations

import io
import re
import threading
import time
import wave
from typing import Any

import pytest

from videogen_http.openapi import openapi_document
from videogen_http.views.capabilities import DEFAULT_WORDS_PER_SECOND, REFERENCE_TEXT
from videogen_http.views.preview import MAX_CONCURRENT_PREVIEWS, MAX_PREVIEW_CHARS
from videogen_http.views.studio import ASSETS, CSP

TOKEN = "studio-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def locked(make_env: Any) -> Any:
    """A client of an app that wants a bearer token."""
    env = make_env(api_token=TOKEN)
    env.add_images()
    return env.app().test_client()


def test_the_page_is_served_at_the_root_with_a_strict_csp(client: Any) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "<title>videogen Studio</title>" in html
    csp = r.headers["Content-Security-Policy"]
    assert csp == CSP
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "default-src 'none'" in csp
    # no inline script, no inline style, no event-handler attributes: the CSP would block them
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
    # everything it loads comes from this server
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert src.startswith("/studio/") or src.startswith("#"), src


def test_every_asset_the_page_loads_is_served_with_its_type(client: Any) -> None:
    html = client.get("/").get_data(as_text=True)
    loaded = set(re.findall(r'(?:src|href)="/studio/([^"]+)"', html))
    assert loaded <= set(ASSETS)
    for name, content_type in ASSETS.items():
        r = client.get(f"/studio/{name}")
        assert r.status_code == 200, name
        assert r.headers["Content-Type"] == content_type
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.data
    scripts = "".join(client.get(f"/studio/{n}").get_data(as_text=True)
                      for n in ASSETS if n.endswith(".js"))
    assert "http://" not in scripts.replace("http://www.w3.org", "")  # no CDN
    assert "https://" not in scripts


def test_unknown_asset_is_a_json_404(client: Any) -> None:
    for name in ("nothing.js", "..%2fapp.py", "index.html"):
        r = client.get(f"/studio/{name}")
        assert r.status_code == 404
        assert r.get_json()["success"] is False


def test_the_page_needs_no_token_but_the_api_does(locked: Any) -> None:
    assert locked.get("/").status_code == 200
    assert locked.get("/studio/studio.js").status_code == 200
    assert locked.get("/capabilities").status_code == 401
    assert locked.post("/narration/preview", json={"text": "Hi."}).status_code == 401
    assert locked.get("/capabilities", headers=AUTH).status_code == 200


def test_capabilities_describe_the_configured_adapters(env: Any) -> None:
    client = env.app().test_client()
    body = client.get("/capabilities").get_json()
    assert body["voices"] == env.pipeline.narrator.voices()
    assert body["moods"] == env.pipeline.music.moods()
    assert body["transitions"] == ["none", "fade", "crossfade"]
    assert body["default_transition"] == "crossfade"
    assert body["movement_limits"] == {"3": 1, "5": 2, "7": 3}
    assert "zoom in" in body["movements"] and "slow" in body["speeds"]
    assert body["max_speedup"] == env.settings.max_speedup
    assert body["narration_lead_in"] == 0.25 and body["narration_gap"] == 0.2
    assert body["narration_preview"]["max_chars"] == MAX_PREVIEW_CHARS
    schemas = openapi_document()["components"]["schemas"]
    assert body["request_schemas"] == {"Scene": schemas["Scene"],
                                       "GenerationParams": schemas["GenerationParams"]}


def test_speech_rate_is_measured_from_the_narrator(env: Any) -> None:
    client = env.app().test_client()
    rate = client.get("/capabilities").get_json()["speech_rate"]
    narrator = env.pipeline.narrator  # the fake: len(text) · seconds_per_char seconds
    expected = len(REFERENCE_TEXT.split()) / (len(REFERENCE_TEXT) * narrator.seconds_per_char)
    assert rate["measured"] is True
    assert rate["words_per_second"] == pytest.approx(expected, rel=0.01)
    assert rate["words_per_second"] != DEFAULT_WORDS_PER_SECOND


def test_speech_rate_falls_back_to_the_estimate_when_the_narrator_is_down(make_env: Any
                                                                          ) -> None:
    from dependency_injector import providers

    from videogen_adapters.fakes import FakeNarrator
    from videogen_core import ServiceUnavailable

    env = make_env()
    container = env.container()
    container.narrator.override(providers.Object(
        FakeNarrator(fail=ServiceUnavailable("narration", "down"))))
    rate = env.app(container).test_client().get("/capabilities").get_json()["speech_rate"]
    assert rate == {"words_per_second": DEFAULT_WORDS_PER_SECOND, "measured": False}


def test_narration_preview_is_a_wav_with_its_duration(client: Any) -> None:
    r = client.post("/narration/preview", json={"text": "A quiet harbour at dawn."})
    assert r.status_code == 200
    assert r.mimetype == "audio/wav"
    duration = float(r.headers["X-Narration-Duration"])
    assert duration > 0
    assert r.headers["X-Narration-Voice"] == "fake"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.data  # the fake narrator's file, sent as it is


def test_narration_preview_with_a_real_narrator_measures_the_wav(make_env: Any) -> None:
    from dependency_injector import providers

    from videogen_adapters.tts.chain import SilentNarrator

    env = make_env()
    container = env.container()
    container.narrator.override(providers.Object(SilentNarrator(("calm", "bright"))))
    client = env.app(container).test_client()
    r = client.post("/narration/preview", json={"text": "Hello there. Goodbye.",
                                                "voice": "bright"})
    assert r.status_code == 200
    with wave.open(io.BytesIO(r.data)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert float(r.headers["X-Narration-Duration"]) == pytest.approx(seconds, abs=0.002)
    assert r.headers["X-Narration-Voice"] == "bright"


@pytest.mark.parametrize(("body", "field"), [
    ({"text": ""}, "text"),
    ({"text": "   "}, "text"),
    ({}, "text"),
    ({"text": 5}, "text"),
    ({"text": "x" * (MAX_PREVIEW_CHARS + 1)}, "text"),
    ({"text": "Hi.", "voice": 3}, "voice"),
    ({"text": "Hi.", "voice": "nobody"}, "voice"),
    ({"text": "Hi.", "speed": 2}, "speed"),
])
def test_narration_preview_errors_name_the_field(client: Any, body: dict[str, Any],
                                                 field: str) -> None:
    r = client.post("/narration/preview", json=body)
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["field"] == field


def test_narration_preview_longest_text_is_accepted(client: Any) -> None:
    r = client.post("/narration/preview", json={"text": "word " * (MAX_PREVIEW_CHARS // 5)})
    assert r.status_code == 200


def test_narration_preview_takes_only_json(client: Any) -> None:
    r = client.post("/narration/preview", data="text=hi",
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415


def test_openapi_bounds_match_the_code() -> None:
    schema = openapi_document()["components"]["schemas"]["NarrationPreviewRequest"]
    assert schema["properties"]["text"]["maxLength"] == MAX_PREVIEW_CHARS


class CountingNarrator:
    """A fake narrator that counts its calls and can fail or block."""

    name = "counting"

    def __init__(self, fail: Exception | None = None) -> None:
        from videogen_adapters.fakes import FakeNarrator

        self.inner = FakeNarrator()
        self.fail = fail
        self.calls = 0
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.release.set()

    def voices(self) -> list[str]:
        return self.inner.voices()

    def synthesize(self, text: str, output_path: Any, **kw: Any) -> Any:
        self.calls += 1
        self.entered.release()
        self.release.wait(10)
        if self.fail is not None:
            raise self.fail
        return self.inner.synthesize(text, output_path, **kw)


def _with_narrator(make_env: Any, narrator: Any) -> Any:
    from dependency_injector import providers

    env = make_env()
    container = env.container()
    container.narrator.override(providers.Object(narrator))
    return env.app(container).test_client()


def test_speech_rate_is_measured_once(make_env: Any) -> None:
    narrator = CountingNarrator()
    client = _with_narrator(make_env, narrator)
    first = client.get("/capabilities").get_json()["speech_rate"]
    second = client.get("/capabilities").get_json()["speech_rate"]
    assert first == second and first["measured"] is True
    assert narrator.calls == 1


def test_a_narrator_that_is_down_is_not_asked_on_every_page_load(make_env: Any,
                                                                 monkeypatch: Any) -> None:
    from videogen_core import ServiceUnavailable
    from videogen_http.views import capabilities

    narrator = CountingNarrator(fail=ServiceUnavailable("narration", "down"))
    client = _with_narrator(make_env, narrator)
    for _ in range(3):
        assert client.get("/capabilities").get_json()["speech_rate"]["measured"] is False
    assert narrator.calls == 1
    now = time.monotonic()
    monkeypatch.setattr(capabilities.time, "monotonic",
                        lambda: now + capabilities.RETRY_SECONDS + 1)
    narrator.fail = None
    assert client.get("/capabilities").get_json()["speech_rate"]["measured"] is True
    assert narrator.calls == 2


def test_at_most_two_previews_are_spoken_at_once(make_env: Any) -> None:
    narrator = CountingNarrator()
    narrator.release.clear()
    client = _with_narrator(make_env, narrator)
    app = client.application
    results: list[int] = []

    def speak() -> None:
        results.append(app.test_client().post("/narration/preview",
                                               json={"text": "Hello."}).status_code)

    threads = [threading.Thread(target=speak) for _ in range(MAX_CONCURRENT_PREVIEWS)]
    for t in threads:
        t.start()
    for _ in threads:
        assert narrator.entered.acquire(timeout=10)  # both are speaking now
    busy = client.post("/narration/preview", json={"text": "Hello."})
    assert busy.status_code == 429
    assert busy.headers["Retry-After"] == "1"
    narrator.release.set()
    for t in threads:
        t.join(10)
    assert results == [200] * MAX_CONCURRENT_PREVIEWS
    assert client.post("/narration/preview", json={"text": "Hello."}).status_code == 200
