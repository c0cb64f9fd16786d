"""``LibraryMusicSource`` (the user's own tracks, tagged by mood) and
``SilenceMusicSource`` (no music, for ``VIDEOGEN_MUSIC=none``).

A library folder is tagged by sub-folders, ``<folder>/<mood>/*.mp3`` (also
wav, ogg, m4a, flac, opus, aac), and/or by ``<folder>/manifest.json``::

    {"tracks": [{"file": "rain.mp3", "moods": ["calm", "sad"]}]}

A track is picked deterministically by seed, decoded with PyAV, its silent
head and tail trimmed, then looped with equal-power crossfades when it is
shorter than the bed or cut when longer, faded in and out, and streamed to a
48 kHz stereo 16-bit WAV.
"""

from __future__ import annotations

import json
import math
import threading
import zlib
from pathlib import Path

import numpy as np

from videogen_core import (
    CancelToken,
    InvalidRequest,
    MusicBed,
    RenderFailed,
    ServiceUnavailable,
)

from ..tts.decode import decode_audio
from ..tts.wav import WavWriter, speech_bounds
from .moods import DEFAULT_MOOD, MOODS, resolve_mood

__all__ = ["AUDIO_EXTENSIONS", "LibraryMusicSource", "SilenceMusicSource"]

AUDIO_EXTENSIONS = (".mp3", ".wav", ".ogg", ".oga", ".m4a", ".flac", ".opus", ".aac")
_MAX_DURATION = 4 * 3600.0


def _check_duration(duration: float) -> None:
    if not (math.isfinite(duration) and 0 < duration <= _MAX_DURATION):
        raise InvalidRequest("duration", f"must be > 0 and at most {_MAX_DURATION:g} s",
                             duration)


class LibraryMusicSource:
    """Background music from a folder of the user's tracks, tagged by mood."""

    name = "library"

    def __init__(self, folder: str | Path, *, sample_rate: int = 48000, crossfade: float = 2.0,
                 fade_in: float = 0.5, fade_out: float = 2.5) -> None:
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise InvalidRequest("music_dir", "is not a folder", str(self.folder))
        self.sample_rate = sample_rate
        self.crossfade = crossfade
        self.fade_in = fade_in
        self.fade_out = fade_out
        self._index: dict[str, list[Path]] | None = None
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- index
    def _tracks(self) -> dict[str, list[Path]]:
        with self._lock:
            if self._index is None:
                self._index = self._scan()
            return self._index

    def _scan(self) -> dict[str, list[Path]]:
        index: dict[str, set[Path]] = {}
        for sub in sorted(p for p in self.folder.iterdir() if p.is_dir()):
            files = {f for f in sub.iterdir()
                     if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS}
            if files:
                index.setdefault(sub.name.lower(), set()).update(files)
        manifest = self.folder / "manifest.json"
        if manifest.is_file():
            try:
                tracks = json.loads(manifest.read_text("utf-8")).get("tracks", [])
            except (ValueError, AttributeError) as exc:
                raise InvalidRequest("music_dir", f"manifest.json is not valid: {exc}",
                                     str(manifest)) from exc
            for entry in tracks:
                path = (self.folder / str(entry.get("file", ""))).resolve()
                if not path.is_file() or not path.is_relative_to(self.folder.resolve()):
                    continue
                for mood in entry.get("moods", []):
                    index.setdefault(str(mood).strip().lower(), set()).add(path)
        return {mood: sorted(paths) for mood, paths in sorted(index.items())}

    def moods(self) -> list[str]:
        """Moods that have at least one track."""
        return list(self._tracks())

    def check(self) -> str:
        """ServiceUnavailable when the library holds no track; else what it holds."""
        index = self._tracks()
        if not index:
            raise ServiceUnavailable("music library", f"no tracks in {self.folder}",
                                     folder=str(self.folder))
        count = len({t for tracks in index.values() for t in tracks})
        return f"library: {count} track(s) in {self.folder}, moods {', '.join(index)}"

    # ---------------------------------------------------------------- compose
    def compose(self, mood: str, duration: float, output_path: Path, *, seed: int,
                cancel: CancelToken | None = None) -> MusicBed:
        """Write ``duration`` seconds of a track for ``mood`` (looped or cut, faded)."""
        _check_duration(duration)
        index = self._tracks()
        if not index:
            raise ServiceUnavailable(
                "music library", f"no tracks in {self.folder} (expected <mood>/*.mp3 "
                "sub-folders or a manifest.json)", folder=str(self.folder))
        used, warning = resolve_mood(mood, index, DEFAULT_MOOD)
        warnings = [warning] if warning else []
        candidates = index[used]
        rng = np.random.default_rng((int(seed) * 1_000_003 + zlib.crc32(used.encode()))
                                    & 0xFFFFFFFF)
        order = [candidates[int(i)] for i in rng.permutation(len(candidates))]
        for track in order:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                audio = self._load(track)
            except RenderFailed as exc:
                warnings.append(f"music track {track.name} skipped: {exc.message}")
                continue
            self._write(audio, duration, Path(output_path), cancel)
            return MusicBed(Path(output_path), round(duration * self.sample_rate)
                            / self.sample_rate, used, tuple(warnings))
        raise RenderFailed("music", f"no track for mood {used!r} could be decoded",
                           tracks=[str(t) for t in order])

    def _load(self, track: Path) -> np.ndarray:
        try:
            audio, _ = decode_audio(track.read_bytes(), channels=2, rate=self.sample_rate)
        except (OSError, ValueError) as exc:
            raise RenderFailed("music", f"cannot decode {track.name}: {exc}",
                               file=str(track)) from exc
        bounds = speech_bounds(audio, self.sample_rate, threshold_db=-50.0)
        if bounds is None:
            raise RenderFailed("music", f"{track.name} is silent", file=str(track))
        lo, hi = (round(b * self.sample_rate) for b in bounds)
        return np.asarray(audio[lo:hi], dtype=np.float32)

    def _write(self, audio: np.ndarray, duration: float, path: Path,
               cancel: CancelToken | None = None) -> None:
        sr = self.sample_rate
        total = round(duration * sr)
        xf = min(round(self.crossfade * sr), len(audio) // 3)
        fade_in = max(1, round(min(self.fade_in, duration / 4) * sr))
        fade_out = max(1, round(min(self.fade_out, duration / 4) * sr))
        lag = _best_lag(audio[len(audio) - xf:], audio, max_lag=round(0.05 * sr))
        loop = audio[lag:]  # every repeat re-enters here, where the end lines up best
        fade_from, fade_to = _crossfade_gains(audio[len(audio) - xf:], loop[:xf])
        with WavWriter(path, sr, 2) as out:
            written, tail = 0, None
            while written < total:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                if tail is None:  # first pass: the track's own start
                    piece = audio if len(audio) >= total else audio[: len(audio) - xf]
                else:  # loop: crossfade the previous end into the start
                    head = tail * fade_from + loop[:xf] * fade_to
                    piece = np.concatenate([head, loop[xf: len(loop) - xf]])
                tail = audio[len(audio) - xf:]
                piece = piece[: total - written]
                out.write(_faded(piece, written, total, fade_in, fade_out))
                written += len(piece)


def _best_lag(tail: np.ndarray, audio: np.ndarray, max_lag: int) -> int:
    """Where (0..max_lag samples into the track) a repeat should start so that it
    lines up best with ``tail``: the peak of their cross-correlation."""
    n = len(tail)
    max_lag = max(0, min(max_lag, len(audio) - 2 * n))
    if n == 0 or max_lag == 0:
        return 0
    a = tail.mean(axis=1)
    b = audio[: n + max_lag].mean(axis=1)
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)[: max_lag + 1]
    sums = np.concatenate([[0.0], np.cumsum(b.astype(np.float64) ** 2)])
    energy = sums[n: n + max_lag + 1] - sums[: max_lag + 1]
    return int(np.argmax(corr / np.sqrt(np.maximum(energy, 1e-12))))


def _crossfade_gains(tail: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gains for a crossfade from ``tail`` into ``head`` that keep the power steady
    whatever their correlation ρ: equal-power for unrelated material (ρ = 0),
    equal-gain for material that lines up (ρ = 1)."""
    n = len(tail)
    t = np.linspace(0.0, 1.0, n, dtype=np.float64)[:, None]
    norm = float(np.sqrt((tail**2).sum() * (head**2).sum()))
    rho = float(np.clip((tail * head).sum() / norm, -0.5, 1.0)) if norm > 0 else 0.0
    a, b = 1 - t, t
    scale = 1 / np.sqrt(a * a + b * b + 2 * rho * a * b)
    return (a * scale).astype(np.float32), (b * scale).astype(np.float32)


def _faded(piece: np.ndarray, start: int, total: int, fade_in: int, fade_out: int) -> np.ndarray:
    idx = np.arange(start, start + len(piece))
    env = np.clip(np.minimum(idx / fade_in, (total - idx) / fade_out), 0.0, 1.0) ** 2
    return np.clip(piece * env[:, None], -1.0, 1.0)


class SilenceMusicSource:
    """No music: a silent 48 kHz stereo bed of the requested length (shipped fake,
    ``VIDEOGEN_MUSIC=none``). Knows the ten moods so requests never fail."""

    name = "none"

    def __init__(self, sample_rate: int = 48000) -> None:
        self.sample_rate = sample_rate

    def moods(self) -> list[str]:
        """The ten standard moods."""
        return list(MOODS)

    def check(self) -> str:
        """Always works."""
        return "none: silent music beds"

    def compose(self, mood: str, duration: float, output_path: Path, *, seed: int,
                cancel: CancelToken | None = None) -> MusicBed:
        """Write ``duration`` seconds of silence."""
        _check_duration(duration)
        used, warning = resolve_mood(mood, MOODS, DEFAULT_MOOD)
        total = round(duration * self.sample_rate)
        block = np.zeros((min(total, self.sample_rate * 10), 2), dtype=np.int16)
        with WavWriter(Path(output_path), self.sample_rate, 2) as out:
            for start in range(0, total, len(block)):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                out.write(block[: total - start])
        return MusicBed(Path(output_path), total / self.sample_rate, used,
                        (warning,) if warning else ())
