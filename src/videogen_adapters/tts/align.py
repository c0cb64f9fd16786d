"""Caption cues for audio that came without timings (HTTP engines, long Piper sentences).

Text is cut into caption pieces: sentences, and sentences too long for two
caption lines split at words (after a comma when one is near).
Rather than spreading pieces over the whole file by length (``spread_cues``),
they are laid over the *speech* (energy-detected) and every boundary between
two pieces snaps to a pause in the audio near where the length estimate puts
it (a small dynamic programme picks pauses in order). Boundaries with no
pause nearby keep the estimate.

Word timings (``Cue.words``) come the same way one level down
(:func:`align_words`): inside a cue, the words' boundaries snap to the short
pauses of the speech (≥ 40 ms) near where their syllable count puts them; the
words between two such anchors share that stretch by syllables, each inner
boundary moved to the quietest 10 ms frame near its estimate. Engines that
know better give their own word times: eSpeak's WORD events, Piper's phoneme
durations (:func:`piper_words`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from videogen_core import Cue, Word, split_sentences
from videogen_core.captions import clamp_words, syllables

__all__ = ["MAX_CUE_CHARS", "align_pieces", "align_sentences", "align_words", "assign_words",
           "caption_pieces", "event_words",
           "find_pauses", "piper_words", "with_words"]

#: Longest caption piece: two lines of 42 characters.
MAX_CUE_CHARS = 84

_FRAME_S = 0.01


def _frame_rms(audio: np.ndarray, rate: int) -> np.ndarray:
    mono = audio if audio.ndim == 1 else audio.mean(axis=1)
    hop = max(1, round(rate * _FRAME_S))
    n = len(mono) // hop
    frames = np.asarray(mono[: n * hop], dtype=np.float64).reshape(n, hop)
    return np.sqrt((frames**2).mean(axis=1))


def find_pauses(
    audio: np.ndarray, rate: int, *, min_pause: float = 0.12, threshold_db: float = -35.0,
    rms: np.ndarray | None = None,
) -> tuple[tuple[float, float] | None, list[tuple[float, float]]]:
    """(speech start/end or None, pauses inside the speech as (start, end) seconds)."""
    rms = _frame_rms(audio, rate) if rms is None else rms
    if rms.size == 0 or rms.max() < 1e-5:
        return None, []
    loud = rms >= rms.max() * 10 ** (threshold_db / 20)
    idx = np.flatnonzero(loud)
    first, last = int(idx[0]), int(idx[-1]) + 1
    pauses: list[tuple[float, float]] = []
    run_start = None
    for i in range(first, last):
        if not loud[i] and run_start is None:
            run_start = i
        elif loud[i] and run_start is not None:
            if (i - run_start) * _FRAME_S >= min_pause:
                pauses.append((run_start * _FRAME_S, i * _FRAME_S))
            run_start = None
    return (first * _FRAME_S, last * _FRAME_S), pauses


def caption_pieces(text: str, max_chars: int = MAX_CUE_CHARS) -> list[tuple[int, str]]:
    """(character offset in the whitespace-normalised text, piece) for every caption
    piece of ``text``: its sentences, long ones split at words into pieces of at
    most ``max_chars`` (closing a piece early after a clause mark past half way)."""
    clean = " ".join(text.split())
    out: list[tuple[int, str]] = []
    pos = 0
    for sentence in split_sentences(clean):
        pos = clean.find(sentence, pos)
        start, current, offset = pos, "", pos
        for word in sentence.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and len(candidate) > max_chars:
                out.append((start, current))
                start, current = offset, word
            else:
                current = candidate
            offset += len(word) + 1
            if (len(sentence) > max_chars and word[-1] in ",;:" and len(current) >= max_chars // 2
                    and offset - pos < len(sentence)):
                out.append((start, current))
                start, current = offset, ""
        if current:
            out.append((start, current))
        pos += len(sentence)
    return out


def align_sentences(text: str, audio: np.ndarray, rate: int, *,
                    miss_cost: float = 0.6) -> tuple[Cue, ...]:
    """Caption cues of ``text`` placed on the speech in ``audio``."""
    return align_pieces([p for _, p in caption_pieces(text)], audio, rate, miss_cost=miss_cost)


def align_pieces(pieces: list[str], audio: np.ndarray, rate: int, *, miss_cost: float = 0.6,
                 threshold_db: float = -35.0) -> tuple[Cue, ...]:
    """Cues for ``pieces`` (spoken in order in ``audio``) placed on its speech."""
    span, pauses = find_pauses(audio, rate, threshold_db=threshold_db)
    if not pieces or span is None:
        return ()
    start, end = span
    weights = np.array([_weight(s) for s in pieces], dtype=float)
    estimates = start + (end - start) * np.cumsum(weights)[:-1] / weights.sum()
    chosen = _match(list(estimates), pauses, miss_cost)
    cues = []
    left = start
    for i, piece in enumerate(pieces):
        if i < len(chosen):
            pause = chosen[i]
            right, next_left = (pause if pause is not None
                                else (float(estimates[i]), float(estimates[i])))
        else:
            right, next_left = end, end
        cues.append(Cue(round(left, 3), round(max(right, left), 3), piece))
        left = next_left
    return tuple(with_words(c, audio, rate, threshold_db=threshold_db) for c in cues)


# ------------------------------------------------------------------- words
def _word_weight(word: str) -> float:
    """Expected speaking time of a word in syllables (a clause mark adds a pause)."""
    pause = 1.0 if word[-1:] in ",;:—–" else 1.5 if word[-1:] in ".!?…" else 0.0
    return syllables(word) + pause


def with_words(cue: Cue, audio: np.ndarray, rate: int, *,
               threshold_db: float = -35.0) -> Cue:
    """``cue`` (times in seconds of ``audio``) with its words aligned on the audio."""
    words = align_words(cue.text.split(), audio, rate, cue.start, cue.end,
                        threshold_db=threshold_db)
    return Cue(cue.start, cue.end, cue.text, clamp_words(cue, words))


def align_words(words: Sequence[str], audio: np.ndarray, rate: int, start: float, end: float,
                *, threshold_db: float = -35.0, min_pause: float = 0.04,
                miss_cost: float = 0.12) -> list[Word]:
    """``words`` (spoken in order between ``start`` and ``end`` seconds of ``audio``)
    with start/end times placed on the speech (see the module docstring)."""
    if not words:
        return []
    lo = max(0, round(start * rate))
    hi = min(len(audio), max(lo, round(end * rate)))
    rms = _frame_rms(audio[lo:hi], rate)
    span, pauses = find_pauses(audio[lo:hi], rate, min_pause=min_pause,
                               threshold_db=threshold_db, rms=rms)
    if span is None:
        span, pauses = (0.0, max(0.0, end - start)), []
    s0, s1 = span
    weights = np.array([_word_weight(w) for w in words], dtype=float)
    # boundaries between words; a word ending in punctuation pauses after itself
    estimates = list(s0 + (s1 - s0) * np.cumsum(weights)[:-1] / weights.sum())
    chosen = _match(estimates, pauses, miss_cost) if estimates else []
    # anchors: (boundary index, end of the word before, start of the word after)
    anchors: list[tuple[int, float, float]] = [(-1, s0, s0)]
    anchors += [(i, p[0], p[1]) for i, p in enumerate(chosen) if p is not None]
    anchors.append((len(words) - 1, s1, s1))
    starts = [0.0] * len(words)
    ends = [0.0] * len(words)
    for (a, _, left), (b, right, _) in itertools.pairwise(anchors):
        # words a+1 .. b fill [left, right], inner boundaries by weight, then snapped
        group = range(a + 1, b + 1)
        w = weights[a + 1:b + 1]
        inner = left + (right - left) * np.cumsum(w)[:-1] / w.sum()
        cuts = [left, *(_quietest(rms, t, left, right) for t in inner), right]
        for k, index in enumerate(group):
            starts[index], ends[index] = cuts[k], cuts[k + 1]
    return [Word(start + a, start + b, w) for a, b, w in zip(starts, ends, words, strict=True)]


def _quietest(rms: np.ndarray, t: float, left: float, right: float,
              reach: float = 0.06) -> float:
    """The time of the quietest 10 ms frame within ``reach`` seconds of ``t``
    (and inside ``[left, right]``); ``t`` itself when there are no frames."""
    a = max(int(left / _FRAME_S) + 1, int((t - reach) / _FRAME_S))
    b = min(int(right / _FRAME_S) - 1, int((t + reach) / _FRAME_S), rms.size - 1)
    if b < a:
        return t
    window = rms[a:b + 1]
    # prefer the estimate among equally quiet frames (flat silence)
    k = int(np.argmin(window + 1e-9 * np.abs(np.arange(a, b + 1) * _FRAME_S - t)))
    return (a + k) * _FRAME_S


_PUNCTUATION = frozenset(",.;:!?¡¿—–…\"'«»()[]")


def piper_words(words: Sequence[str], phonemize: Callable[[str], list[list[str]]],
                chunks: Sequence[Any], rate: int) -> list[Word] | None:
    """Word times from Piper's phoneme alignments (``AudioChunk.phoneme_alignments``:
    each phoneme's sample count, as the model's duration predictor laid it out).

    Piper's phonemes separate words with ``" "``; each text word is phonemized
    alone to learn how many of those groups it makes (``"1984"`` is three). A word
    starts at its first phoneme and ends after its last sounding one. None when
    a chunk has no alignments or the groups do not add up to the words."""
    groups: list[tuple[float, float]] = []  # (start, end) seconds of each phoneme group
    offset = 0
    for chunk in chunks:
        aligned = getattr(chunk, "phoneme_alignments", None)
        if not aligned:
            return None
        t = offset
        current: list[float] | None = None
        for item in aligned:
            phoneme, samples = item.phoneme, int(item.num_samples)
            if phoneme in ("^", "$", "_") or phoneme == " ":
                if current is not None:
                    groups.append((current[0], current[1]))
                    current = None
            elif phoneme not in _PUNCTUATION:
                if current is None:
                    current = [t / rate, (t + samples) / rate]
                else:
                    current[1] = (t + samples) / rate
            t += samples
        if current is not None:
            groups.append((current[0], current[1]))
        offset += len(chunk.audio_float_array)
    counts = []
    for word in words:
        sounding = [g for g in (p for sentence in phonemize(word)
                                for p in _split_groups(sentence)) if g]
        counts.append(len(sounding))
    if sum(counts) != len(groups) or not groups:
        return None
    out, k = [], 0
    for word, n in zip(words, counts, strict=True):
        if n == 0:  # a word that makes no sound ("—"): an instant at the next word
            at = groups[min(k, len(groups) - 1)][0]
            out.append(Word(at, at, word))
            continue
        out.append(Word(groups[k][0], groups[k + n - 1][1], word))
        k += n
    return out


def event_words(text: str, events: Sequence[tuple[int, int]], audio: np.ndarray,
                rate: int) -> list[Word] | None:
    """Word times from an engine's word events (eSpeak's WORD events: character
    offset into ``text``, milliseconds into ``audio``): a word starts at its event
    and ends where its sound stops before the next word's event. None when some
    word got no event (the caller aligns on the audio instead)."""
    words: list[tuple[int, str]] = []
    pos = 0
    for word in text.split():
        pos = text.find(word, pos)
        words.append((pos, word))
        pos += len(word)
    found: dict[int, float] = {}
    offsets = [o for o, _ in words]
    for char, ms in events:
        index = int(np.searchsorted(offsets, char, side="right")) - 1
        if index >= 0 and char < offsets[index] + len(words[index][1]):
            found.setdefault(index, ms / 1000.0)
    if len(found) != len(words):
        return None
    total = len(audio) / rate
    starts = [found[i] for i in range(len(words))]
    out = []
    for i, (_, word) in enumerate(words):
        begin = starts[i]
        nxt = starts[i + 1] if i + 1 < len(words) else total
        nxt = max(begin, nxt)
        lo, hi = round(begin * rate), round(nxt * rate)
        rms = _frame_rms(audio[lo:hi], rate) if hi > lo else np.zeros(0)
        loud = np.flatnonzero(rms >= max(float(rms.max()) if rms.size else 0.0, 1e-5) * 0.03)
        end = begin + (loud[-1] + 1) * _FRAME_S if loud.size else nxt
        out.append(Word(float(begin), float(min(end, nxt)), word))
    return out


def assign_words(cues: Sequence[Cue], words: Sequence[Word]) -> tuple[Cue, ...]:
    """``cues`` (consecutive pieces of one text) given the timed ``words`` of that text
    in order, each cue the words its text holds (cues left as they are when the
    words do not match)."""
    out, k = [], 0
    for cue in cues:
        n = len(cue.text.split())
        mine = clamp_words(cue, words[k:k + n])
        out.append(Cue(cue.start, cue.end, cue.text, mine) if mine else cue)
        k += n
    return tuple(out)


def _split_groups(phonemes: list[str]) -> list[list[str]]:
    """Phoneme groups between spaces, punctuation left out (empty groups dropped)."""
    out: list[list[str]] = [[]]
    for phoneme in phonemes:
        if phoneme == " ":
            out.append([])
        elif phoneme not in _PUNCTUATION:
            out[-1].append(phoneme)
    return [g for g in out if g]


def _weight(sentence: str) -> float:
    """Expected speaking time of a sentence in characters: its letters plus the
    pauses its punctuation asks for (engines pause at commas and full stops)."""
    clause_marks = sum(sentence.count(c) for c in ",;:—–")
    return max(1, len(sentence)) + 4 * clause_marks + 6


def _match(estimates: list[float], pauses: list[tuple[float, float]],
           miss_cost: float) -> list[tuple[float, float] | None]:
    """For each estimated boundary, a pause (in order, each used once) or None,
    minimising the distance to the estimates (a miss costs ``miss_cost``)."""
    n, m = len(estimates), len(pauses)
    centres = [(a + b) / 2 for a, b in pauses]
    inf = float("inf")
    # best[i][j]: cost of placing the first i boundaries using only the first j pauses
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    choice: list[list[tuple[int, int, bool]]] = [[(0, 0, False)] * (m + 1)
                                                 for _ in range(n + 1)]
    for j in range(m + 1):
        best[0][j] = 0.0
    for i in range(1, n + 1):
        for j in range(m + 1):
            # boundary i-1 misses
            cand, how = best[i - 1][j] + miss_cost, (i - 1, j, False)
            if j > 0:
                # pause j-1 is skipped, or used by boundary i-1
                if best[i][j - 1] < cand:
                    cand, how = best[i][j - 1], choice[i][j - 1]
                a, b = pauses[j - 1]
                # longer pauses are likelier sentence ends than commas
                used = best[i - 1][j - 1] + abs(centres[j - 1] - estimates[i - 1]) - 0.5 * (b - a)
                if used < cand:
                    cand, how = used, (i - 1, j - 1, True)
            best[i][j], choice[i][j] = cand, how
    out: list[tuple[float, float] | None] = [None] * n
    i, j = n, m
    while i > 0:
        pi, pj, used = choice[i][j]
        if pi == i:  # a skip: follow the stored choice at the same i
            j = pj if pj < j else j - 1
            continue
        if used:
            out[i - 1] = pauses[pj]
        i, j = pi, pj
    return out
