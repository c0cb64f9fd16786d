"""HttpSpeechNarrator against the Narrator contract, with a local OpenAI-compatible
server (real eSpeak speech, padded with silence), plus its failure behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.contract.narrator_contract import NarratorContract, read_pcm
from tests.fixtures.tts.speech_server import SpeechServer, free_port, speech_server

from videogen_adapters.config import Settings
from videogen_adapters.tts import HttpSpeechNarrator, build_narrator
from videogen_core import RenderFailed, ServiceUnavailable


@pytest.fixture(scope="module")
def server() -> Iterator[SpeechServer]:
    with speech_server() as running:
        yield running


@pytest.fixture
def fresh(server: SpeechServer) -> Iterator[SpeechServer]:
    """The server, reset to good behaviour before and after a test."""
    server.state.mode, server.state.format, server.state.api_key = "ok", "wav", ""
    server.state.requests.clear()
    yield server
    server.state.mode, server.state.format, server.state.api_key = "ok", "wav", ""


def _narrator(url: str, timeout: float = 10.0, **kwargs: object) -> HttpSpeechNarrator:
    kwargs.setdefault("sleep", lambda _s: None)
    return HttpSpeechNarrator(httpx.Client(base_url=url, timeout=timeout), **kwargs)  # type: ignore[arg-type]


class TestHttpSpeechNarrator(NarratorContract):
    @pytest.fixture(scope="class")
    @classmethod
    def narrator(cls, server: SpeechServer) -> HttpSpeechNarrator:
        server.state.mode = "ok"
        return _narrator(server.url)


def test_sends_the_openai_request(fresh: SpeechServer, tmp_path: Path) -> None:
    narrator = _narrator(fresh.url, model="tts-test", api_key="sk-123")
    narrator.synthesize("Hello there.", tmp_path / "a.wav", voice="nova", speed=1.25)
    [seen] = fresh.state.requests
    assert seen["json"] == {"model": "tts-test", "input": "Hello there.", "voice": "nova",
                            "response_format": "wav", "speed": 1.25}
    assert seen["authorization"] == "Bearer sk-123"


def test_voices_come_from_the_server(fresh: SpeechServer) -> None:
    assert _narrator(fresh.url).voices() == ["alloy", "nova"]


def test_mp3_answers_are_decoded(fresh: SpeechServer, tmp_path: Path) -> None:
    fresh.state.format = "mp3"
    result = _narrator(fresh.url).synthesize("Music to my ears. Yes.", tmp_path / "m.wav")
    audio, rate, channels, _ = read_pcm(result.path)  # type: ignore[arg-type]
    assert channels == 1 and rate == result.sample_rate
    assert result.duration > 1.0 and abs(audio).max() > 0.1
    assert len(result.cues) == 2


def test_503_is_retried_then_service_unavailable(fresh: SpeechServer, tmp_path: Path) -> None:
    fresh.state.mode = "503"
    waits: list[float] = []
    narrator = _narrator(fresh.url, retries=3, backoff=0.5, sleep=waits.append)
    with pytest.raises(ServiceUnavailable) as info:
        narrator.synthesize("Hello.", tmp_path / "x.wav")
    assert len(fresh.state.requests) == 4
    assert info.value.details["status"] == 503
    assert "model is loading" in info.value.message
    assert [round(w, 1) for w in waits] == pytest.approx([0.5, 1.0, 2.0], abs=0.21)
    assert not (tmp_path / "x.wav").exists()


def test_429_is_retried(fresh: SpeechServer, tmp_path: Path) -> None:
    fresh.state.mode = "429"
    with pytest.raises(ServiceUnavailable, match="429"):
        _narrator(fresh.url, retries=1).synthesize("Hello.", tmp_path / "x.wav")
    assert len(fresh.state.requests) == 2


def test_dead_port_is_service_unavailable(tmp_path: Path) -> None:
    waits: list[float] = []
    narrator = _narrator(f"http://127.0.0.1:{free_port()}", retries=2, sleep=waits.append)
    with pytest.raises(ServiceUnavailable, match="cannot connect") as info:
        narrator.synthesize("Hello.", tmp_path / "x.wav")
    assert len(waits) == 2
    assert info.value.code == "service_unavailable"


def test_timeout_is_service_unavailable(fresh: SpeechServer, tmp_path: Path) -> None:
    fresh.state.mode, fresh.state.slow_seconds = "slow", 1.0
    with pytest.raises(ServiceUnavailable, match="timed out"):
        _narrator(fresh.url, timeout=0.2, retries=1).synthesize("Hello.", tmp_path / "x.wav")
    assert len(fresh.state.requests) == 2


def test_bad_key_is_render_failed_with_the_server_message(
    fresh: SpeechServer, tmp_path: Path
) -> None:
    fresh.state.api_key = "right"
    with pytest.raises(RenderFailed, match="Incorrect API key") as info:
        _narrator(fresh.url, api_key="wrong").synthesize("Hello.", tmp_path / "x.wav")
    assert info.value.details["status"] == 401
    assert len(fresh.state.requests) == 1  # no retry on 4xx


def test_non_audio_answer_is_render_failed(fresh: SpeechServer, tmp_path: Path) -> None:
    fresh.state.mode = "garbage"
    with pytest.raises(RenderFailed, match="no usable audio"):
        _narrator(fresh.url).synthesize("Hello.", tmp_path / "x.wav")


def test_from_settings_builds_a_working_narrator(fresh: SpeechServer, tmp_path: Path) -> None:
    settings = Settings(narrator="http", tts_url=fresh.url + "/v1", tts_voice="nova",
                        tts_model="m1", tts_timeout=5.0)
    narrator = build_narrator(settings)
    assert isinstance(narrator, HttpSpeechNarrator)
    result = narrator.synthesize("Configured.", tmp_path / "c.wav")
    assert result.voice == "nova" and result.duration > 0.5
    assert fresh.state.requests[-1]["json"]["model"] == "m1"


def test_check_tells_up_from_down(fresh: SpeechServer) -> None:
    assert "answered HTTP 200" in _narrator(fresh.url).check()
    with pytest.raises(ServiceUnavailable):
        _narrator(f"http://127.0.0.1:{free_port()}").check()
