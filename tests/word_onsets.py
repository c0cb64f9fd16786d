"""Measuring word timings against the narration audio (shared by the word-timing
test and ``benchmarks/bench_word_timing.py``).

The reference is the audio itself: after every pause in the speech (at least
``min_pause`` of near silence) the next word begins where the sound comes back
— a speech onset that can be measured without the narrator's help (2.5 ms
energy frames, a threshold ``threshold_db`` below the loudest frame; a burst
too short or too weak to be a word does not count). Each
measured onset is compared with the start of the word cue nearest to it; an
onset with no word start within ``reach`` seconds counts as an error of
``reach``. The narration text is built of short clauses so that there are many
pauses (commas, full stops) and so many measurable onsets.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterable, Sequence

import numpy as np

from videogen_core import Cue

__all__ = ["narration_text", "onset_errors", "speech_onsets", "summary"]

_SUBJECTS = ["the old fisherman", "a small red boat", "my grandmother", "the village baker",
             "a quiet river", "the morning train", "every sailor", "the tall lighthouse",
             "a curious child", "the painter", "our neighbour", "the mountain road"]
_VERBS = ["waited by the harbour", "sang a gentle song", "counted the silver coins",
          "watched the clouds drift", "opened the wooden door", "followed the narrow path",
          "carried fresh bread home", "listened to the rain", "painted the blue shutters",
          "climbed the rocky hill", "remembered the winter", "crossed the stone bridge"]
_TAILS = ["at dawn", "in silence", "once again", "without a word", "before noon",
          "after supper", "all summer long", "for many years"]


def narration_text(sentences: int = 40, seed: int = 7) -> str:
    """Deterministic narration of ``sentences`` sentences of two or three clauses."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        clauses = [f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)}"
                   for _ in range(rng.choice((2, 3)))]
        text = ", ".join(clauses) + f", {rng.choice(_TAILS)}"
        out.append(text[0].upper() + text[1:] + rng.choice(".!."))
    return " ".join(out)


def speech_onsets(audio: np.ndarray, rate: int, *, min_pause: float = 0.1,
                  threshold_db: float = -32.0, min_sound: float = 0.08,
                  word_db: float = -20.0, frame: float = 0.0025) -> list[float]:
    """Seconds where a word starts after silence: the first onset, then the end of
    every pause of at least ``min_pause`` seconds — when the sound that follows is a
    word (it lasts ``min_sound`` seconds and gets within ``word_db`` of the loudest
    frame), not a click, a breath or the weak tail of the word before."""
    mono = np.asarray(audio, dtype=np.float64)
    hop = max(1, round(rate * frame))
    n = len(mono) // hop
    rms = np.sqrt((mono[: n * hop].reshape(n, hop) ** 2).mean(axis=1))
    peak = rms.max()
    loud = rms >= peak * 10 ** (threshold_db / 20)
    need = round(min_pause / frame)
    # runs of sound separated by at least ``need`` quiet frames
    runs: list[list[int]] = []
    quiet = None
    for i, on in enumerate(loud):
        if on:
            if quiet is None or quiet >= need:
                runs.append([i, i])
            runs[-1][1] = i
            quiet = 0
        elif quiet is not None:
            quiet += 1
    out = []
    for a, b in runs:
        long_enough = (b + 1 - a) * frame >= min_sound
        if long_enough and rms[a:b + 1].max() >= peak * 10 ** (word_db / 20):
            out.append(a * hop / rate)
    return out


def onset_errors(cues: Iterable[Cue], onsets: Sequence[float], *,
                 reach: float = 0.3) -> list[float]:
    """|nearest word start − onset| for every onset (``reach`` when none is that near)."""
    starts = np.array(sorted(w.start for c in cues for w in c.words))
    out = []
    for onset in onsets:
        nearest = float(np.min(np.abs(starts - onset))) if starts.size else reach
        out.append(min(nearest, reach))
    return out


def summary(errors: Sequence[float]) -> dict[str, float]:
    """Count, median and 95th percentile (ms) of ``errors`` (seconds)."""
    ms = sorted(e * 1000 for e in errors)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))] if ms else float("nan")
    return {"words": len(ms), "median_ms": round(statistics.median(ms), 1) if ms else
            float("nan"), "p95_ms": round(p95, 1)}
