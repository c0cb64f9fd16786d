"""``HttpSpeechNarrator``: any OpenAI-compatible ``POST /v1/audio/speech`` endpoint.

The adapter receives an ``httpx.Client`` (tests pass one aimed at a local
server, or an ``httpx.MockTransport``); :meth:`HttpSpeechNarrator.from_settings`
builds one from configuration. Connect errors, timeouts, 5xx and 429 are
retried with exponential backoff and then become ServiceUnavailable; other
4xx answers become UnknownVoice (when the server complains about the voice)
or RenderFailed, carrying the server's message. The body is WAV, or whatever
the server chose (MP3, Opus...), decoded with PyAV.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from videogen_core import (
    CancelToken,
    Cue,
    InvalidRequest,
    Narration,
    RenderFailed,
    ServiceUnavailable,
    UnknownVoice,
    split_sentences,
)

from .align import align_sentences
from .decode import decode_audio
from .wav import trim_cues, write_wav

__all__ = ["OPENAI_VOICES", "HttpSpeechNarrator", "map_http_errors"]

#: The voices of OpenAI's own endpoint, used when neither configuration nor the
#: server (``GET /v1/audio/voices``) names any.
OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage",
                 "shimmer", "verse")

_SERVICE = "TTS endpoint"


class _Retry(Exception):
    """An attempt that may succeed when repeated."""

    def __init__(self, reason: str, status: int | None = None, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.status, self.wait = reason, status, wait


def _server_message(response: httpx.Response) -> str:
    """The error text of an OpenAI-style body (``{"error": {"message"}}``), or the body."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        if isinstance(error, dict):
            return str(error.get("message") or error)[:500]
        return str(error)[:500]
    return str(body)[:500]


@contextlib.contextmanager
def map_http_errors() -> Iterator[None]:
    """Translate httpx transport errors into retryable attempts."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise _Retry(f"timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise _Retry(f"cannot connect ({type(exc).__name__}: {exc})") from exc


class HttpSpeechNarrator:
    """OpenAI-compatible speech endpoint fitting the ``Narrator`` port.

    ``client`` must have the service's base URL (``https://api.openai.com`` or
    ``http://127.0.0.1:8880``); the path ``/v1/audio/speech`` is appended.
    ``voice_names`` restricts/declares the voices; otherwise they are asked from
    the server once, falling back to OpenAI's list. Text longer than
    ``max_chars`` (OpenAI accepts 4096) is sent in sentence-aligned chunks.
    """

    name = "http"

    def __init__(
        self,
        client: httpx.Client,
        *,
        model: str = "tts-1",
        voice: str = "alloy",
        api_key: str = "",
        voice_names: Sequence[str] | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        max_chars: int = 4000,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.model = model
        self.default_voice = voice
        self.api_key = api_key
        self.retries = max(0, retries)
        self.max_chars = max(100, max_chars)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._voices: list[str] | None = list(voice_names) if voice_names else None
        # only a configured or server-given list may reject a voice before asking
        self._voices_known = bool(voice_names)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> HttpSpeechNarrator:
        """Build from ``Settings`` (tts_url, tts_model, tts_voice, tts_api_key, tts_timeout)."""
        return cls.from_url(settings.tts_url, model=settings.tts_model,
                            voice=settings.tts_voice, api_key=settings.tts_api_key,
                            timeout=settings.tts_timeout, **kwargs)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 60.0, **kwargs: Any) -> HttpSpeechNarrator:
        """Build with a fresh ``httpx.Client`` on ``url`` (its ``/v1`` suffix is optional)."""
        if not url:
            raise InvalidRequest("VIDEOGEN_TTS_URL", "is required for the http narrator")
        base = url.rstrip("/")
        base = base[: -len("/v1")] if base.endswith("/v1") else base
        client = httpx.Client(base_url=base,
                              timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)))
        return cls(client, **kwargs)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    # ------------------------------------------------------------------ voices
    def voices(self) -> list[str]:
        """Configured voices, else the server's ``/v1/audio/voices``, else OpenAI's."""
        if self._voices is None:
            served = self._server_voices()
            self._voices_known = bool(served)
            self._voices = served or list(OPENAI_VOICES)
            if self.default_voice not in self._voices:
                self._voices.insert(0, self.default_voice)
        return list(self._voices)

    def check(self) -> str:
        """Ask the endpoint anything (``GET /v1/audio/voices``); ServiceUnavailable when
        it does not answer at all. Any HTTP answer means it is up."""
        try:
            with map_http_errors():
                response = self.client.get("/v1/audio/voices", headers=self._headers(),
                                           timeout=5.0)
        except _Retry as exc:
            raise ServiceUnavailable(_SERVICE, exc.reason,
                                     url=str(self.client.base_url)) from exc
        return f"http: {self.client.base_url} answered HTTP {response.status_code}"

    def _server_voices(self) -> list[str]:
        try:
            response = self.client.get("/v1/audio/voices", headers=self._headers(), timeout=5.0)
            if response.status_code != 200:
                return []
            body = response.json()
        except (httpx.HTTPError, ValueError):
            return []
        items = body.get("voices", body.get("data", [])) if isinstance(body, dict) else body
        names = [v if isinstance(v, str) else (v.get("id") or v.get("name"))
                 for v in items if isinstance(v, str | dict)] if isinstance(items, list) else []
        return [str(n) for n in names if n]

    # -------------------------------------------------------------- synthesis
    def synthesize(
        self, text: str, output_path: Path, *, voice: str | None = None, speed: float = 1.0,
        seed: int | None = None, cancel: CancelToken | None = None,
    ) -> Narration:
        """POST the text, store the answer as 16-bit mono WAV, cue sentences on its pauses.
        Long text goes in several requests, ``cancel`` checked before each (and
        each retry); ``seed`` is not part of the OpenAI API (not used)."""
        if not speed > 0:
            raise InvalidRequest("speed", "must be > 0", speed)
        name = voice or self.default_voice
        if voice and self._voices_known and voice not in (self._voices or ()):
            raise UnknownVoice(voice, self._voices or [])
        sentences = split_sentences(text)
        if not sentences:
            return Narration(path=None, duration=0.0, voice=name, provider=self.name)
        pieces: list[np.ndarray] = []
        cues: list[Cue] = []
        rate: int | None = None
        offset = 0.0
        for chunk in _chunks(sentences, self.max_chars):
            if cancel is not None:
                cancel.raise_if_cancelled()
            payload = {"model": self.model, "input": chunk, "voice": name,
                       "response_format": "wav", "speed": min(4.0, max(0.25, speed))}
            data = self._post(payload, name, cancel)
            try:
                audio, rate = decode_audio(data, channels=1, rate=rate)
            except ValueError as exc:
                raise RenderFailed("narration", f"the TTS endpoint sent no usable audio: {exc}",
                                   provider=self.name, bytes=len(data)) from exc
            cues.extend(c.shifted(offset) for c in align_sentences(chunk, audio, rate))
            pieces.append(audio)
            offset += len(audio) / rate
        assert rate is not None
        duration = write_wav(Path(output_path), np.concatenate(pieces), rate)
        return Narration(path=Path(output_path), duration=duration, sample_rate=rate,
                         cues=trim_cues(cues, duration), voice=name, provider=self.name)

    def _post(self, payload: dict[str, Any], voice: str,
              cancel: CancelToken | None = None) -> bytes:
        last: _Retry | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                if last is not None and last.wait is not None:
                    wait = min(self.max_backoff, max(wait, last.wait))
                self._sleep(wait * (1 + 0.1 * random.random()))
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                return self._attempt(payload, voice)
            except _Retry as exc:
                last = exc
        assert last is not None
        raise ServiceUnavailable(_SERVICE, f"{last.reason} after {self.retries + 1} attempts",
                                 url=str(self.client.base_url), status=last.status) from last

    def _attempt(self, payload: dict[str, Any], voice: str) -> bytes:
        with map_http_errors():
            response = self.client.post("/v1/audio/speech", json=payload,
                                        headers=self._headers())
            body = response.read()
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = response.headers.get("retry-after", "")
            wait = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else None
            raise _Retry(f"HTTP {status}: {_server_message(response)}", status, wait)
        if status >= 400:
            message = _server_message(response)
            if status in (400, 404, 422) and "voice" in message.lower():
                raise UnknownVoice(voice, self.voices())
            raise RenderFailed("narration", f"the TTS endpoint answered HTTP {status}: {message}",
                               provider=self.name, status=status, server_message=message)
        if not body:
            raise RenderFailed("narration", "the TTS endpoint answered with an empty body",
                               provider=self.name, status=status)
        return body


def _chunks(sentences: list[str], limit: int) -> list[str]:
    """Sentences joined into requests of at most ``limit`` characters; a longer
    sentence is cut at word boundaries."""
    out: list[str] = []
    current = ""
    for sentence in sentences:
        words = sentence.split(" ") if len(sentence) > limit else [sentence]
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and len(candidate) > limit:
                out.append(current)
                current = word
            else:
                current = candidate
    if current:
        out.append(current)
    return out
