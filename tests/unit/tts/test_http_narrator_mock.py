"""HttpSpeechNarrator against httpx.MockTransport: request shape, retry policy,
error mapping, voices — no sockets."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest

from videogen_adapters.tts import HttpSpeechNarrator
from videogen_adapters.tts.openai_http import OPENAI_VOICES
from videogen_core import InvalidRequest, RenderFailed, ServiceUnavailable, UnknownVoice


def _wav(seconds: float = 0.8, rate: int = 24000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((0.4 * np.sin(2 * np.pi * 200 * t) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def _narrator(handler, **kwargs) -> HttpSpeechNarrator:  # type: ignore[no-untyped-def]
    client = httpx.Client(base_url="http://tts.test", transport=httpx.MockTransport(handler))
    kwargs.setdefault("sleep", lambda _s: None)
    return HttpSpeechNarrator(client, **kwargs)


def test_retry_after_is_honoured_then_success(tmp_path: Path) -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "busy"}),
                    httpx.Response(502, text="bad gateway"),
                    httpx.Response(200, content=_wav())])
    waits: list[float] = []
    narrator = _narrator(lambda request: next(answers), backoff=0.5, sleep=waits.append)
    result = narrator.synthesize("Hello.", tmp_path / "a.wav")
    assert result.duration == pytest.approx(0.8, abs=0.01) and result.sample_rate == 24000
    assert waits[0] >= 3.0 and 1.0 <= waits[1] < 1.2


def test_no_key_no_authorization_header(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=_wav())

    _narrator(handler).synthesize("Hello.", tmp_path / "a.wav", speed=9.0)
    assert "authorization" not in seen[0].headers
    assert json.loads(seen[0].content)["speed"] == 4.0  # the API's maximum


def test_voice_complaints_become_unknown_voice(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/audio/voices":
            return httpx.Response(404)
        return httpx.Response(422, json={"detail": "Voice 'zed' is not supported"})

    with pytest.raises(UnknownVoice) as info:
        _narrator(handler).synthesize("Hi.", tmp_path / "a.wav", voice="zed")
    assert info.value.details["available"][: len(OPENAI_VOICES)] == list(OPENAI_VOICES)


def test_configured_voices_are_checked_before_any_request(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - not called
        raise AssertionError("no request expected")

    narrator = _narrator(handler, voice_names=["a", "b"], voice="a")
    assert narrator.voices() == ["a", "b"]
    with pytest.raises(UnknownVoice):
        narrator.synthesize("Hi.", tmp_path / "a.wav", voice="c")


def test_other_4xx_is_render_failed_without_retry(tmp_path: Path) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"error": {"message": "input too long"}})

    with pytest.raises(RenderFailed, match="input too long"):
        _narrator(handler).synthesize("Hi.", tmp_path / "a.wav")
    assert len(calls) == 1


def test_empty_body_is_render_failed(tmp_path: Path) -> None:
    with pytest.raises(RenderFailed, match="empty body"):
        _narrator(lambda r: httpx.Response(200)).synthesize("Hi.", tmp_path / "a.wav")


def test_transport_errors_are_retried(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ServiceUnavailable, match=r"timed out .* after 3 attempts"):
        _narrator(handler, retries=2).synthesize("Hi.", tmp_path / "a.wav")


def test_from_url_needs_a_url() -> None:
    with pytest.raises(InvalidRequest, match="TTS_URL"):
        HttpSpeechNarrator.from_url("")


def test_from_url_strips_v1() -> None:
    narrator = HttpSpeechNarrator.from_url("http://host:8880/v1/", timeout=3.0)
    assert str(narrator.client.base_url) == "http://host:8880"
    assert narrator.client.timeout.read == 3.0


def test_long_text_is_sent_in_sentence_chunks(tmp_path: Path) -> None:
    inputs: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        inputs.append(json.loads(request.content)["input"])
        return httpx.Response(200, content=_wav(0.5))

    text = " ".join(f"Sentence number {i} is here." for i in range(20))  # ~540 characters
    result = _narrator(handler, max_chars=200).synthesize(text, tmp_path / "a.wav")
    assert len(inputs) == 3 and all(len(i) <= 200 for i in inputs)
    assert " ".join(inputs) == text
    assert result.duration == pytest.approx(1.5, abs=0.01)
    assert " ".join(c.text for c in result.cues) == text
    assert all(a.end <= b.start for a, b in zip(result.cues, result.cues[1:], strict=False))
    assert result.cues[-1].end > 1.0  # the last chunk's cues sit in the last chunk's audio


def test_the_guessed_openai_list_never_rejects_a_voice(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/audio/voices":
            return httpx.Response(404)
        return httpx.Response(200, content=_wav())

    narrator = _narrator(handler)
    assert narrator.voices()[0] == "alloy"  # a guess: the server does not list voices
    result = narrator.synthesize("Hi.", tmp_path / "a.wav", voice="af_bella")
    assert result.voice == "af_bella"
