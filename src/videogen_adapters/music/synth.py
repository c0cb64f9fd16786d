"""``SynthMusicSource``: procedural background music by mood (the default source).

No files, no models: :mod:`.score` writes the notes (tempo, key and mode,
chord progression, pad, arpeggio/comping, bass, drums, melody), :mod:`.instruments`
renders each distinct sound (kept in a cache of bounded size per bed), and the
bed is mixed block by block — dry bus plus a reverb send through a feedback
delay network, a soft limiter, a fade-in and a fade-out — straight into a
48 kHz stereo 16-bit WAV.

Memory is flat in the bed's length: a block holds one block of the mix (about a
second), the sounds still ringing are added slice by slice, and the cache of
rendered sounds is capped in bytes (a tonal sound dropped from it is rendered
again, identically, when it comes back). Same mood, duration and seed →
identical samples, whatever the block size (every step is sample-wise or
carries its state across blocks; ``tests/unit/music`` checks one block against
many).
"""

from __future__ import annotations

import math
import zlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from videogen_core import CancelToken, InvalidRequest, MusicBed

from ..heap import bound_heap
from ..tts.wav import WavWriter  # shared PCM helpers live with the narrators
from . import instruments as ins
from .dsp import DecimatedReverb, soft_limit
from .moods import DEFAULT_MOOD, MOODS, resolve_mood
from .score import STYLES, Event, Style, compose_score

__all__ = ["SynthMusicSource"]

#: Seconds of audio mixed per block (rounded to a multiple of the reverb's
#: decimation); the output does not depend on it, only memory and speed do.
_CHUNK_SECONDS = 1.0
#: Bytes of rendered tonal sounds a bed keeps for reuse (drum hits are always kept:
#: they are small, and drawn from the bed's random generator, so not re-renderable).
_CACHE_BYTES = 12 << 20
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
    """Renders the sounds of a bed: a tonal note's undamped body per (instrument,
    note) at the longest length the score asks for, then each distinct hold as a
    damped copy; every drum hit once.

    Tonal sounds are pure functions of (instrument, note, hold), so they live in
    a least-recently-used cache capped at ``limit`` bytes and are rendered again
    when evicted; drum hits draw on the bed's random generator in score order, so
    each is rendered once and kept (they are short)."""

    def __init__(self, style: Style, sr: int, seed: int, events: list[Event],
                 limit: int = _CACHE_BYTES) -> None:
        self.style, self.sr = style, sr
        self.rng = np.random.default_rng(seed ^ 0x5EED)
        self.limit = limit
        self.cache: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()
        self.drums: dict[tuple[str, int], np.ndarray] = {}
        self.bodies: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self.longest: dict[tuple[str, int], float] = {}
        self.held = 0  # bytes in ``cache`` and ``bodies``
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
        if event.instrument not in _TONAL:
            key = (event.instrument, event.note)
            drum = self.drums.get(key)
            if drum is None:
                drum = self.drums[key] = self._drum(event.instrument, event.note)
            return drum
        hold_ms = round(event.hold * 100) * 10  # 10 ms buckets keep the cache small
        tone = (event.instrument, event.note, hold_ms)
        sound = self.cache.get(tone)
        if sound is not None:
            self.cache.move_to_end(tone)
            return sound
        sound = self._damped(event, hold_ms / 1000)
        self._keep(self.cache, tone, sound)
        return sound

    def _keep(self, store: OrderedDict[Any, np.ndarray], key: Any, value: np.ndarray) -> None:
        """Cache ``value``; beyond the byte limit drop the least recently used damped
        sounds, then bodies (never ``value`` itself)."""
        store[key] = value
        self.held += value.nbytes
        for victims in (self.cache, self.bodies):
            while self.held > self.limit and victims:
                oldest = next(iter(victims))
                if victims is store and oldest == key:
                    break
                self.held -= victims.pop(oldest).nbytes

    def _damped(self, event: Event, hold: float) -> np.ndarray:
        name, note = event.instrument, event.note
        body = self.bodies.get((name, note))
        if body is None:
            body = self._tone(name, ins.midi_hz(note), self.longest[(name, note)] + 0.02)
            self._keep(self.bodies, (name, note), body)
        else:
            self.bodies.move_to_end((name, note))
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
                 fade_out: float = 2.5, block_seconds: float = _CHUNK_SECONDS,
                 cache_bytes: int = _CACHE_BYTES) -> None:
        self.sample_rate = sample_rate
        self.fade_in = fade_in
        self.fade_out = fade_out
        #: seconds mixed per block (memory and speed only: the samples do not change)
        self.block_seconds = block_seconds
        #: bytes of rendered tonal sounds kept per bed (ditto)
        self.cache_bytes = cache_bytes

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
        bound_heap()  # notes of every length: freed arrays leave no holes (issue 15)
        with WavWriter(Path(output_path), self.sample_rate, 2) as out:
            self._render(style, events, duration, bed_seed, out, cancel or CancelToken())
            written = out.duration
        return MusicBed(Path(output_path), written, used, (warning,) if warning else ())

    # ------------------------------------------------------------------ mixing
    def _render(self, style: Style, events: list[Event], duration: float, seed: int,
                out: WavWriter, cancel: CancelToken) -> None:
        """Mix the bed block by block into ``out``.

        Each block starts from silence; the sounds ringing into it (events in
        score order, earlier blocks' ones first) add the slice that falls inside
        it. So every output sample is the same sum, in the same order, as in one
        whole-length mix, and the reverb and limiter carry their state across
        blocks: the block size changes memory and speed, never the samples."""
        sr = self.sample_rate
        total = round(duration * sr)
        sounds = _Sounds(style, sr, seed, events, self.cache_bytes)
        reverb = DecimatedReverb(sr, style.rt60)
        factor = reverb.factor
        chunk = max(factor, int(self.block_seconds * sr) // factor * factor)
        events = sorted(events, key=lambda e: e.time)
        ringing: list[tuple[Event, np.ndarray, int]] = []  # (event, sound, first sample)
        fade_in = max(1, int(min(self.fade_in, duration / 4) * sr))
        fade_out = max(1, int(min(self.fade_out, duration / 4) * sr))
        gain = 0.55 * style.level
        k = 0
        for start in range(0, total, chunk):
            cancel.raise_if_cancelled()  # between blocks (a fraction of a second of work each)
            n = min(chunk, total - start)
            while k < len(events) and round(events[k].time * sr) < start + n:
                event = events[k]
                ringing.append((event, sounds.get(event), round(event.time * sr)))
                k += 1
            dry = np.zeros((2, n))
            send = np.zeros((2, n))
            for event, sound, at in ringing:
                _place(dry, send, event, sound, at - start)
            ringing = [r for r in ringing if r[2] + r[1].shape[-1] > start + n]
            wet = reverb.process(send) * style.wet * 2.2
            block = (dry + wet) * gain
            block = _fade(block, start, total, fade_in, fade_out)
            out.write(soft_limit(block).T)


def _place(dry: np.ndarray, send: np.ndarray, event: Event, sound: np.ndarray,
           at: int) -> None:
    """Add the part of ``sound`` (starting at sample ``at`` of the block, maybe
    before it) that falls inside the block: constant-power pan, part of it to
    the reverb."""
    length = sound.shape[-1]
    if at < 0:
        sound, length, at = sound[..., -at:], length + at, 0
    length = min(length, dry.shape[1] - at)
    if length <= 0:
        return
    sound = sound[..., :length]
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
