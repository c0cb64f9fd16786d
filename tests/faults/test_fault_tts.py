"""Fault: the TTS server goes down in the middle of a job (real HTTP speech server).

Scene 1 is spoken by the OpenAI-compatible server; then it answers 503 for good.
With a fallback chain (http → eSpeak) the job succeeds and its record names the
fallback in its warnings; with the HTTP narrator alone the job fails with a
service error naming the TTS endpoint, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.fixtures.tts.speech_server import SpeechServer, speech_server
from tests.unit.http.conftest import Env, wait_for

from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.fakes import FakeClipRenderer, FakeMusicSource, FakeMuxer
from videogen_adapters.tts import EspeakNarrator, FallbackNarrator, HttpSpeechNarrator
from videogen_core import Narration
from videogen_core.pipeline import VideoPipeline

BODY = {"sequence_data": [
    {"scene_number": n, "narration": f"Scene {n} has a few words.", "duration": 4,
     "clip_action": "zoom in", "music_mood": "calm"} for n in (1, 2, 3)],
    "generation_params": {"transition_type": "none", "seed": 1, "fps": 24}}


class GoesDownAfterFirst:
    """The HTTP narrator; after its first narration the server starts answering 503."""

    def __init__(self, inner: HttpSpeechNarrator, server: SpeechServer) -> None:
        self.inner, self.server, self.name = inner, server, inner.name

    def voices(self) -> list[str]:
        return self.inner.voices()

    def synthesize(self, text: str, output_path: Path, **kw: Any) -> Narration:
        result = self.inner.synthesize(text, output_path, **kw)
        self.server.state.mode = "503"
        return result


@pytest.fixture
def server() -> Iterator[SpeechServer]:
    with speech_server() as running:
        yield running


def job_record(tmp_path: Path, narrator: Any) -> dict[str, Any]:
    env = Env(tmp_path)
    env.add_images(count=3)
    env.executor = ThreadPoolExecutorAdapter(1)  # scenes are narrated in order
    env.pipeline = VideoPipeline(
        storage=env.storage, renderer=FakeClipRenderer(), narrator=narrator,
        music=FakeMusicSource(), muxer=FakeMuxer(), executor=env.executor,
        workdir=env.workdir)
    client = env.app().test_client()
    try:
        response = client.post("/generateVideos/trip?async=true", json=BODY)
        assert response.status_code == 202, response.get_json()
        job = wait_for(client, response.get_json()["job_id"], timeout=60)
    finally:
        env.close()
    job["_videos"] = sorted(p.name for p in (env.settings.data_dir / "trip").glob("videos/*"))
    return job


def http_narrator(server: SpeechServer) -> GoesDownAfterFirst:
    inner = HttpSpeechNarrator(httpx.Client(base_url=server.url, timeout=10), retries=1,
                               sleep=lambda _s: None)
    return GoesDownAfterFirst(inner, server)


def test_tts_down_mid_job_falls_back_and_the_record_says_so(
        server: SpeechServer, tmp_path: Path) -> None:
    narrator = FallbackNarrator([http_narrator(server), EspeakNarrator()])  # type: ignore[list-item]
    job = job_record(tmp_path, narrator)
    assert job["status"] == "succeeded", job
    fallbacks = [w for w in job["warnings"] if "narration spoken by espeak" in w]
    assert len(fallbacks) == 2, job["warnings"]  # scenes 2 and 3; scene 1 was spoken by http
    assert all("narrator http failed" in w and "503" in w for w in fallbacks)
    assert {w.split(":")[0] for w in fallbacks} == {"scene 2", "scene 3"}
    assert len(job["_videos"]) == 4  # mp4 + srt + vtt + words.json


def test_tts_down_mid_job_without_a_fallback_fails_clearly(
        server: SpeechServer, tmp_path: Path) -> None:
    job = job_record(tmp_path, http_narrator(server))
    assert job["status"] == "failed"
    error = job["error"]
    assert error["code"] == "service_unavailable"
    assert "503" in error["message"] and "model is loading" in error["message"]
    assert job["_videos"] == []
