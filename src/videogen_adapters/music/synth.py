"""``SynthMusicSource``: procedural background music by mood (the default source).

No files, no models: :mod:`.score` writes the notes (tempo, key and mode,
chord progression, pad, arpeggio/comping, bass, drums, melody), :mod:`.instruments`
renders each distinct sound once (cached per bed), and the bed is mixed in
chunks — dry bus plus a reverb send through a feedback delay network, a soft
limiter, a fade-in and a fade-out — straight into a 48 kHz stereo 16-bit WAV.
Same mood, duration and seed → identical samples.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from pathlib import Path

import attrs
import numpy as np

from videogen_core import CancelToken, InvalidRequest, MusicBed

from ..tts.wav import WavWriter  # shared PCM helpers live with the narrators
from . import instruments as ins
from .dsp import DecimatedReverb, soft_limit
from .moods import DEFAULT_MOOD, MOODS, resolve_mood
from .score import STYLES, Event, Style, compose_score

__all__ = ["SynthMusicSource"]

_CHUNK_SECONDS = 10.0
_MAX_DURATION = 4 * 3600.0


#: Tonal instruments: (longest hold, extra ring before the release, release seconds).
_TONAL = {
    "pad": (math.inf, 0.0, 1.2),
    "piano": (3.0, 0.0, 0.35),
    "pluck": (0.6, 0.0, 0.25),
    "bell": (math.inf, 0.6, 0.6),
    "brass": (math.inf, 0.0, 0.4),
    "bass": (math.inf, 0.0, 0.12),
}


class _Sounds:
    """Renders each sound of a bed once: a tonal note's undamped body once per
    (instrument, note) at the longest length the score asks for, then each
    distinct hold as a damped copy; every drum hit once."""

    def __init__(self, style: Style, sr: int, seed: int, events: list[Event]) -> None:
        self.style, self.sr = style, sr
        self.rng = np.random.default_rng(seed ^ 0x5EED)
        self.cache: dict[tuple[str, int, int], np.ndarray] = {}
        self.bodies: dict[tuple[str, int], np.ndarray] = {}
        self.longest: dict[tuple[str, int], float] = {}
        for e in events:
            if e.instrument in _TONAL:
                key = (e.instrument, e.note)
                self.longest[key] = max(self.longest.get(key, 0.0), self._span(e)[1])

    def _span(self, event: Event) -> tuple[float, float]:
        """(release start, end) of ``event``'s sound in seconds."""
        cap, ring, tail = _TONAL[event.instrument]
        start = min(event.hold, cap) + ring
        return start, start + tail

    def get(self, event: Event) -> np.ndarray:
        """The sound of ``event`` (mono, or stereo ``(2, n)`` for pads)."""
        hold_ms = round(event.hold * 100) * 10  # 10 ms buckets keep the cache small
        key = (event.instrument, event.note, hold_ms if event.instrument in _TONAL else 0)
        sound = self.cache.get(key)
        if sound is None:
            if event.instrument in _TONAL:
                sound = self._damped(event, hold_ms / 1000)
            else:
                sound = self._drum(event.instrument, event.note)
            self.cache[key] = sound
        return sound

    def _damped(self, event: Event, hold: float) -> np.ndarray:
        name, note = event.instrument, event.note
        body = self.bodies.get((name, note))
        if body is None:
            body = self._tone(name, ins.midi_hz(note), self.longest[(name, note)] + 0.02)
            self.bodies[(name, note)] = body
        start, end = self._span(attrs.evolve(event, hold=hold))
        sound = body[..., : int(end * self.sr)].copy()
        return ins.release(sound, self.sr, start, end - start)

    def _tone(self, name: str, f: float, seconds: float) -> np.ndarray:
        sr, st = self.sr, self.style
        if name == "pad":
            return ins.pad(f, seconds, sr, cutoff=st.pad_cutoff, attack=st.pad_attack)
        tone: Callable[[float, float, int], np.ndarray] = getattr(ins, name)
        return tone(f, seconds, sr)

    def _drum(self, name: str, note: int) -> np.ndarray:
        sr, rng = self.sr, self.rng
        if name == "hat_open":
            return ins.hat(sr, rng, open_=True)
        if name == "tom":
            return ins.tom(ins.midi_hz(note), sr, rng)
        if name == "kick":
            return ins.kick(sr, rng, tune=ins.midi_hz(note))
        drum: Callable[[int, np.random.Generator], np.ndarray] = getattr(ins, name)
        return drum(sr, rng)


class SynthMusicSource:
    """Procedural composer fitting the ``MusicSource`` port.

    Moods: epic, calm, happy, sad, tense, mysterious, romantic, uplifting, dark,
    playful. Other words map to the nearest (synonyms, stems, spelling) with a
    warning in ``MusicBed.warnings``; an empty mood is calm.
    """

    name = "synth"

    def __init__(self, sample_rate: int = 48000, *, fade_in: float = 0.5,
                 fade_out: float = 2.5) -> None:
        self.sample_rate = sample_rate
        self.fade_in = fade_in
        self.fade_out = fade_out

    def moods(self) -> list[str]:
        """The ten moods the composer knows."""
        return list(MOODS)

    def check(self) -> str:
        """Always works (numpy only)."""
        return f"synth: procedural, moods {', '.join(MOODS)}"

    def compose(self, mood: str, duration: float, output_path: Path, *, seed: int,
                cancel: CancelToken | None = None) -> MusicBed:
        """Write ``duration`` seconds of music for ``mood`` (stereo 48 kHz WAV)."""
        if not (math.isfinite(duration) and 0 < duration <= _MAX_DURATION):
            raise InvalidRequest("duration", f"must be > 0 and at most {_MAX_DURATION:g} s",
                                 duration)
        used, warning = resolve_mood(mood, MOODS, DEFAULT_MOOD)
        style = STYLES[used]
        bed_seed = (int(seed) * 1_000_003 + zlib.crc32(used.encode())) & 0xFFFFFFFF
        events, _bar = compose_score(style, duration, bed_seed)
        with WavWriter(Path(output_path), self.sample_rate, 2) as out:
            self._render(style, events, duration, bed_seed, out, cancel or CancelToken())
            written = out.duration
        return MusicBed(Path(output_path), written, used, (warning,) if warning else ())

    # ------------------------------------------------------------------ mixing
    def _render(self, style: Style, events: list[Event], duration: float, seed: int,
                out: WavWriter, cancel: CancelToken) -> None:
        sr = self.sample_rate
        total = round(duration * sr)
        sounds = _Sounds(style, sr, seed, events)
        reverb = DecimatedReverb(sr, style.rt60)
        chunk = int(_CHUNK_SECONDS * sr)
        events = sorted(events, key=lambda e: e.time)
        carry_dry = np.zeros((2, 0))
        carry_wet = np.zeros((2, 0))
        fade_in = max(1, int(min(self.fade_in, duration / 4) * sr))
        fade_out = max(1, int(min(self.fade_out, duration / 4) * sr))
        gain = 0.55 * style.level
        k = 0
        for start in range(0, total, chunk):
            cancel.raise_if_cancelled()  # between 10 s blocks (~0.1-0.3 s of work each)
            n = min(chunk, total - start)
            batch = []
            while k < len(events) and round(events[k].time * sr) < start + n:
                batch.append(events[k])
                k += 1
            sized = [(e, sounds.get(e)) for e in batch]
            longest = max([s.shape[-1] for _, s in sized] + [carry_dry.shape[1], n])
            dry = np.zeros((2, n + longest))
            send = np.zeros((2, n + longest))
            dry[:, : carry_dry.shape[1]] += carry_dry
            send[:, : carry_wet.shape[1]] += carry_wet
            for event, sound in sized:
                _place(dry, send, event, sound, round(event.time * sr) - start)
            wet = reverb.process(send[:, :n]) * style.wet * 2.2
            block = (dry[:, :n] + wet) * gain
            block = _fade(block, start, total, fade_in, fade_out)
            out.write(soft_limit(block).T)
            carry_dry, carry_wet = dry[:, n:], send[:, n:]
            carry_dry = carry_dry[:, : _last_nonzero(carry_dry)]
            carry_wet = carry_wet[:, : _last_nonzero(carry_wet)]


def _place(dry: np.ndarray, send: np.ndarray, event: Event, sound: np.ndarray,
           at: int) -> None:
    """Add ``sound`` at sample ``at``: constant-power pan, part of it to the reverb."""
    length = sound.shape[-1]
    if at < 0:
        sound, length, at = sound[..., -at:], length + at, 0
    if length <= 0:
        return
    angle = (event.pan + 1) * np.pi / 4
    if sound.ndim == 1:
        for ch, amp in enumerate((math.cos(angle), math.sin(angle))):
            g = event.gain * amp * math.sqrt(2)
            dry[ch, at: at + length] += g * sound
            send[ch, at: at + length] += (g * event.send) * sound
    else:
        dry[:, at: at + length] += event.gain * sound
        send[:, at: at + length] += (event.gain * event.send) * sound


def _fade(block: np.ndarray, start: int, total: int, fade_in: int, fade_out: int) -> np.ndarray:
    idx = np.arange(start, start + block.shape[1])
    env = np.minimum(1.0, np.minimum(idx / fade_in, (total - idx) / fade_out))
    return block * np.clip(env, 0.0, 1.0) ** 2


def _last_nonzero(x: np.ndarray) -> int:
    nz = np.flatnonzero(np.abs(x).max(axis=0) > 1e-7)
    return int(nz[-1]) + 1 if nz.size else 0
