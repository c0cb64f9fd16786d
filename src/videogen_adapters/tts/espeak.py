"""``EspeakNarrator``: eSpeak NG (100+ languages) through ctypes.

The shared library and its ``espeak-ng-data`` come from the ``espeakng-loader``
wheel, so no system package is needed. eSpeak keeps global state and is not
thread-safe: one process-wide lock guards initialisation and every synthesis.

eSpeak is rule-based, but its wave generator keeps state from one synthesis
to the next (a function-static pitch "flutter" index that nothing resets), so
the same text came out a few samples longer or shorter depending on what was
spoken before. Each synthesis therefore runs on a freshly loaded library
(``espeak_Terminate`` + ``dlclose`` after it, ~10 ms): the same text and voice
give the same bytes, in any process, after any history.

Synthesis runs in synchronous mode with a callback that collects 22,050 Hz
PCM and WORD events (character position, audio milliseconds). The words are
grouped into the sentences of ``split_sentences`` (long sentences into
caption-sized pieces); each cue's edges are then refined by energy inside
its span, so they sit on the speech itself.
"""

from __future__ import annotations

import _ctypes
import bisect
import ctypes
import threading
from pathlib import Path
from typing import Any

import numpy as np

from videogen_core import (
    Cancelled,
    CancelToken,
    Cue,
    InvalidRequest,
    Narration,
    RenderFailed,
    ServiceUnavailable,
    UnknownVoice,
)

from .align import assign_words, caption_pieces, event_words, with_words
from .wav import speech_bounds, trim_cues, write_wav

__all__ = ["EspeakNarrator"]

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_EVENT_WORD = 1
_PARAM_RATE = 1
_DEFAULT_WPM = 175


class _Event(ctypes.Structure):
    _fields_ = [  # noqa: RUF012 - ctypes layout of espeak_EVENT
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_void_p),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [  # noqa: RUF012 - ctypes layout of espeak_VOICE
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class _Engine:
    """The one eSpeak instance of this process (use only while holding ``LOCK``)."""

    LOCK = threading.Lock()
    _instance: _Engine | None = None

    def __init__(self) -> None:
        try:
            import espeakng_loader

            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data = espeakng_loader.get_data_path()
        except (ImportError, OSError, RuntimeError) as exc:
            raise ServiceUnavailable("espeak", f"eSpeak NG library not available: {exc}") from exc
        self.data_path = Path(data)
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                     ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        self.sample_rate = int(lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                                     str(data).encode(), 0))
        if self.sample_rate <= 0:
            raise ServiceUnavailable("espeak", f"espeak_Initialize failed ({self.sample_rate})")
        self._pcm: list[np.ndarray] = []
        self._words: list[tuple[int, int]] = []
        self._cancel: CancelToken | None = None
        self._callback = _Callback(self._collect)  # kept alive as long as the engine
        lib.espeak_SetSynthCallback(self._callback)
        self.languages = self._list_languages()

    @classmethod
    def get(cls) -> _Engine:
        """The engine, initialised on first use (caller holds ``LOCK``)."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    @classmethod
    def discard(cls) -> None:
        """Unload the engine (caller holds ``LOCK``): the next :meth:`get` loads the
        library afresh, with none of the state the last synthesis left behind."""
        engine, cls._instance = cls._instance, None
        if engine is None:
            return
        try:
            engine.lib.espeak_Terminate()
        finally:
            handle = engine.lib._handle
            del engine
            _ctypes.dlclose(handle)

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0:
            self._pcm.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        k = 0
        while events[k].type != 0:
            event = events[k]
            if event.type == _EVENT_WORD:
                self._words.append((event.text_position - 1, event.audio_position))
            k += 1
        return 1 if self._cancel is not None and self._cancel.cancelled else 0  # 1: abort

    def _list_languages(self) -> dict[str, str]:
        """Language code (lower case) → voice name, from espeak_ListVoices."""
        voices = self.lib.espeak_ListVoices(None)
        out: dict[str, str] = {}
        i = 0
        while voices[i]:
            voice = voices[i].contents
            # languages: <priority byte><code>\0 ... ; the first one is the main language
            code = ctypes.string_at(voice.languages + 1).decode("utf-8", "replace").lower()
            if code:
                out.setdefault(code, (voice.name or b"").decode("utf-8", "replace"))
            i += 1
        return dict(sorted(out.items()))

    def variants(self) -> list[str]:
        """Voice variants (``+f3``, ``+m1``...) shipped in espeak-ng-data."""
        folder = self.data_path / "voices" / "!v"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def speak(self, text: str, voice: str, wpm: int, cancel: CancelToken | None = None
              ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """PCM (int16) and WORD events (char index, ms) for ``text`` in ``voice``;
        Cancelled when ``cancel`` fires (checked at every audio block eSpeak hands over)."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RenderFailed("narration", f"eSpeak could not select voice {voice!r}",
                               provider="espeak")
        self.lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
        self._pcm, self._words = [], []
        self._cancel = cancel
        data = text.encode("utf-8")
        try:
            err = self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
        finally:
            self._cancel = None
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        if err != 0:
            raise RenderFailed("narration", f"espeak_Synth returned {err}", provider="espeak")
        pcm = np.concatenate(self._pcm) if self._pcm else np.zeros(0, dtype=np.int16)
        return pcm, self._words


class EspeakNarrator:
    """eSpeak NG fitting the ``Narrator`` port.

    Voices are eSpeak language codes (``en-us``, ``fr-fr``, ``de``...), optionally
    with a variant (``en-us+f3``). ``speed`` scales the rate from 175 words per
    minute (eSpeak keeps the pitch).
    """

    name = "espeak"

    def __init__(self, default_voice: str = "en-us", *, wpm: int = _DEFAULT_WPM) -> None:
        self.default_voice = default_voice or "en-us"
        self.wpm = wpm

    def voices(self) -> list[str]:
        """eSpeak language codes available in the bundled data."""
        with _Engine.LOCK:
            return list(_Engine.get().languages)

    def check(self) -> str:
        """Initialise eSpeak (ServiceUnavailable when it cannot) and say what it has."""
        with _Engine.LOCK:
            engine = _Engine.get()
            self._resolve(engine, None)
            return f"espeak: {len(engine.languages)} languages, default {self.default_voice}"

    def _resolve(self, engine: _Engine, voice: str | None) -> tuple[str, str]:
        """(canonical voice, what espeak_SetVoiceByName accepts) for ``voice``."""
        wanted = (voice or self.default_voice).strip()
        base, _, variant = wanted.partition("+")
        by_name = {name.lower(): code for code, name in engine.languages.items()}
        code = base.lower() if base.lower() in engine.languages else by_name.get(base.lower())
        variants = {v.lower(): v for v in engine.variants()}
        if code is None or (variant and variant.lower() not in variants):
            raise UnknownVoice(wanted, list(engine.languages))
        suffix = f"+{variants[variant.lower()]}" if variant else ""
        return code + suffix, engine.languages[code] + suffix

    def synthesize(
        self, text: str, output_path: Path, *, voice: str | None = None, speed: float = 1.0,
        seed: int | None = None, cancel: CancelToken | None = None,
    ) -> Narration:
        """Speak ``text`` into a 16-bit mono WAV at 22,050 Hz with sentence cues.
        eSpeak is rule-based (no ``seed`` needed: the same text gives the same
        bytes); ``cancel`` aborts synthesis from eSpeak's audio callback."""
        if not speed > 0:
            raise InvalidRequest("speed", "must be > 0", speed)
        clean = " ".join(text.split())
        wpm = int(min(450, max(80, round(self.wpm * speed))))
        with _Engine.LOCK:
            engine = _Engine.get()
            name, espeak_name = self._resolve(engine, voice)
            if not clean:
                return Narration(path=None, duration=0.0, sample_rate=engine.sample_rate,
                                 voice=name, provider=self.name)
            try:
                pcm, words = engine.speak(clean, espeak_name, wpm, cancel)
                rate = engine.sample_rate
            finally:
                del engine
                _Engine.discard()
        audio = pcm.astype(np.float32) / 32767.0
        if speech_bounds(audio, rate) is None:
            raise RenderFailed("narration", "eSpeak produced no sound", provider=self.name)
        duration = write_wav(Path(output_path), pcm.astype(np.int16), rate)
        cues = _cues(clean, words, audio, rate)
        return Narration(path=Path(output_path), duration=duration, sample_rate=rate,
                         cues=trim_cues(cues, duration), voice=name, provider=self.name)


def _cues(text: str, words: list[tuple[int, int]], audio: np.ndarray, rate: int) -> list[Cue]:
    """Cues from WORD events: each piece spans from its first word's time to the
    next piece's, then its edges are moved onto the speech found there."""
    pieces = caption_pieces(text)
    starts = [offset for offset, _ in pieces]
    first_ms: dict[int, float] = {}
    for char, ms in words:
        index = max(0, bisect.bisect_right(starts, char) - 1)
        first_ms.setdefault(index, ms / 1000.0)
    total = len(audio) / rate
    # pieces eSpeak gave no word event for inherit the previous time
    times: list[float] = []
    last = 0.0
    for i in range(len(pieces)):
        found = first_ms.get(i)
        last = last if found is None else max(found, last)
        times.append(last)
    cues = []
    for i, (_, piece) in enumerate(pieces):
        begin = times[i]
        end = times[i + 1] if i + 1 < len(pieces) and times[i + 1] > begin else total
        lo, hi = round(begin * rate), round(end * rate)
        bounds = speech_bounds(audio[lo:hi], rate) if hi > lo else None
        if bounds is not None:
            cues.append(Cue(begin + bounds[0], begin + bounds[1], piece))
        else:
            cues.append(Cue(begin, end, piece))
    timed = event_words(text, words, audio, rate)  # WORD events: each word's start
    if timed is not None:
        return list(assign_words(cues, timed))
    return [with_words(c, audio, rate) for c in cues]
