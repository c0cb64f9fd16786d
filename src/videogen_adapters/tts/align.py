"""Caption cues for audio that came without timings (HTTP engines, long Piper sentences).

Text is cut into caption pieces: sentences, and sentences too long for two
caption lines split at words (after a comma when one is near).
Rather than spreading pieces over the whole file by length (``spread_cues``),
they are laid over the *speech* (energy-detected): a segmental dynamic
programme (:func:`_segment`) chooses which pauses are the boundaries between
pieces so that every stretch between two chosen pauses is as long as its
text's expected speaking time at the audio's own pace — fitting locally, so an
early misestimate does not drift down the file. Pauses after a clause mark are
likelier boundaries; pauses left inside a stretch must be explained by its
commas.

Word timings (``Cue.words``) come the same way one level down
(:func:`align_words`): inside a cue, the same programme picks the short pauses
of the speech (≥ 40 ms) that are boundaries between words (weighted by
syllables and letters); the words between two such anchors share that stretch,
each inner boundary moved to the quietest 10 ms frame near its estimate.
Engines that know better give their own word times: eSpeak's WORD events,
Piper's phoneme durations (:func:`piper_words`).
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


def _frame(rate: int) -> float:
    """The exact length in seconds of an analysis frame (a whole number of samples
    near 10 ms: 221 samples at 22,050 Hz, so never ``index x 0.01``, which drifts)."""
    return max(1, round(rate * _FRAME_S)) / rate


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
    frame = _frame(rate)
    loud = rms >= rms.max() * 10 ** (threshold_db / 20)
    idx = np.flatnonzero(loud)
    first, last = int(idx[0]), int(idx[-1]) + 1
    pauses: list[tuple[float, float]] = []
    run_start = None
    for i in range(first, last):
        if not loud[i] and run_start is None:
            run_start = i
        elif loud[i] and run_start is not None:
            if (i - run_start) * frame >= min_pause:
                pauses.append((run_start * frame, i * frame))
            run_start = None
    return (first * frame, last * frame), pauses


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


def align_sentences(text: str, audio: np.ndarray, rate: int) -> tuple[Cue, ...]:
    """Caption cues of ``text`` placed on the speech in ``audio``."""
    return align_pieces([p for _, p in caption_pieces(text)], audio, rate)


def align_pieces(pieces: list[str], audio: np.ndarray, rate: int, *,
                 threshold_db: float = -35.0) -> tuple[Cue, ...]:
    """Cues for ``pieces`` (spoken in order in ``audio``) placed on its speech."""
    span, pauses = find_pauses(audio, rate, threshold_db=threshold_db)
    if not pieces or span is None:
        return ()
    start, end = span
    weights = [float(sum(_word_weight(w) for w in p.split())) or 1.0 for p in pieces]
    # pieces between two chosen pauses share their stretch by weight (no pause there)
    chosen = _segment(pieces, weights, pauses, start, end, max_units=min(len(pieces), 12),
                      reward=1.0)
    anchors = [(-1, start, start), *((i, *pauses[j]) for i, j in chosen),
               (len(pieces) - 1, end, end)]
    cues = []
    for (a, _, left), (b, right, _) in itertools.pairwise(anchors):
        w = np.array(weights[a + 1:b + 1])
        cuts = [left, *(left + (right - left) * np.cumsum(w)[:-1] / w.sum()), right]
        for k, index in enumerate(range(a + 1, b + 1)):
            cues.append(Cue(round(float(cuts[k]), 3), round(float(cuts[k + 1]), 3),
                            pieces[index]))
    return tuple(with_words(c, audio, rate, threshold_db=threshold_db) for c in cues)


# ------------------------------------------------------------------- words
def _word_weight(word: str) -> float:
    """Expected speaking time of a word: its syllables and its letters (a long
    one-syllable word takes longer than a short one), a clause mark adds a pause."""
    pause = 1.0 if word[-1:] in ",;:—–" else 1.5 if word[-1:] in ".!?…" else 0.0
    letters = sum(1 for ch in word if ch.isalnum())
    return 0.5 * syllables(word) + 0.25 * letters + pause


def with_words(cue: Cue, audio: np.ndarray, rate: int, *,
               threshold_db: float = -35.0) -> Cue:
    """``cue`` (times in seconds of ``audio``) with its words aligned on the audio."""
    words = align_words(cue.text.split(), audio, rate, cue.start, cue.end,
                        threshold_db=threshold_db)
    return Cue(cue.start, cue.end, cue.text, clamp_words(cue, words))


def align_words(words: Sequence[str], audio: np.ndarray, rate: int, start: float, end: float,
                *, threshold_db: float = -35.0, min_pause: float = 0.04) -> list[Word]:
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
    weights = [_word_weight(w) for w in words]
    chosen = _segment(words, weights, pauses, s0, s1)
    # anchors: (boundary index, end of the word before, start of the word after)
    anchors: list[tuple[int, float, float]] = [(-1, s0, s0)]
    anchors += [(i, pauses[j][0], pauses[j][1]) for i, j in chosen]
    anchors.append((len(words) - 1, s1, s1))
    starts = [0.0] * len(words)
    ends = [0.0] * len(words)
    for (a, _, left), (b, right, _) in itertools.pairwise(anchors):
        # words a+1 .. b fill [left, right], inner boundaries by weight, then snapped
        group = range(a + 1, b + 1)
        w = np.array(weights[a + 1:b + 1])
        inner = left + (right - left) * np.cumsum(w)[:-1] / w.sum()
        cuts = [left, *(_quietest(rms, t, left, right, _frame(rate)) for t in inner), right]
        for k, index in enumerate(group):
            starts[index], ends[index] = cuts[k], cuts[k + 1]
    return [Word(start + a, start + b, w) for a, b, w in zip(starts, ends, words, strict=True)]


#: At most this many pauses skipped between two anchoring ones.
_MAX_SKIP = 4


def _segment(words: Sequence[str], weights: Sequence[float], pauses: list[tuple[float, float]],
             s0: float, s1: float, *, max_units: int = 10,
             reward: float = 1.5) -> list[tuple[int, int]]:
    """Which pauses are word boundaries: ``(boundary i, pause j)`` pairs, in order.

    A segmental dynamic programme: between two anchors (or the speech's ends) the
    words must take about ``speaking rate x their weight`` — the cost is the squared
    log ratio of the real to the expected length, so the plan fits locally, not to
    a global estimate that drifts. A pause not used as a boundary costs its length
    (a stop consonant's short closure is cheap, a long silence inside a word is
    not), less what the clause marks inside the skipped stretch allow for (a
    caption piece pauses at its commas); a pause after a clause mark is rewarded
    by ``reward`` times its length. ``words`` may be words or caption pieces."""
    n, m = len(words), len(pauses)
    if n < 2 or m == 0:
        return []
    voiced = max(1e-3, (s1 - s0) - sum(b - a for a, b in pauses))
    speech = [max(0.2, w - (1.0 if x[-1:] in ",;:—–" else 1.5 if x[-1:] in ".!?…" else 0.0))
              for w, x in zip(weights, words, strict=True)]
    pace = voiced / sum(speech)
    prefix = [0.0, *itertools.accumulate(speech)]
    gaps = [0.0, *itertools.accumulate(b - a for a, b in pauses)]
    clause = [w[-1:] in _CLAUSE_END for w in words]
    marks = [0, *itertools.accumulate(sum(w[:-1].count(c) for c in ",;:—–.!?")
                                      for w in words)]

    def seg(i0: int, left: float, i1: int, right: float) -> float:
        expected = pace * (prefix[i1 + 1] - prefix[i0 + 1])
        return float(np.log(max(right - left, 0.02) / max(expected, 0.02)) ** 2)

    def skipped(i0: int, i1: int, j0: int, j1: int) -> float:  # pauses j0+1 .. j1-1
        if j1 <= j0 + 1:
            return 0.0
        allowed = 0.4 * (marks[i1 + 1] - marks[i0 + 1])
        return 4.0 * max(0.0, gaps[j1] - gaps[j0 + 1] - allowed)

    inf = float("inf")
    # best[(i, j)]: cost of words 0..i with boundary i anchored at pause j
    best: dict[tuple[int, int], float] = {(-1, -1): 0.0}
    back: dict[tuple[int, int], tuple[int, int]] = {}
    for j in range(m):
        a, b = pauses[j]
        for i in range(n - 1):
            bonus = (reward if clause[i] else 0.0) * (b - a)
            cost, came = inf, (-1, -1)
            for i0 in range(max(-1, i - max_units), i):
                for j0 in range(max(-1, j - 1 - _MAX_SKIP), j):
                    prev = best.get((i0, j0))
                    if prev is None:
                        continue
                    left = s0 if j0 < 0 else pauses[j0][1]
                    c = prev + seg(i0, left, i, a) + skipped(i0, i, j0, j) - bonus
                    if c < cost:
                        cost, came = c, (i0, j0)
            if cost < inf:
                best[(i, j)], back[(i, j)] = cost, came
    # close with the last words up to the speech's end
    final, state = inf, (-1, -1)
    for (i0, j0), prev in best.items():
        if n - 1 - i0 > max_units and i0 >= 0:
            continue
        left = s0 if j0 < 0 else pauses[j0][1]
        c = prev + seg(i0, left, n - 1, s1) + skipped(i0, n - 1, j0, m)
        if c < final:
            final, state = c, (i0, j0)
    chosen = []
    while state != (-1, -1):
        chosen.append(state)
        state = back[state]
    return chosen[::-1]


def _quietest(rms: np.ndarray, t: float, left: float, right: float, frame: float,
              reach: float = 0.06) -> float:
    """The time of the quietest ``frame``-long RMS frame within ``reach`` seconds of
    ``t`` (and inside ``[left, right]``); ``t`` itself when there are no frames."""
    a = max(int(left / frame) + 1, int((t - reach) / frame))
    b = min(int(right / frame) - 1, int((t + reach) / frame), rms.size - 1)
    if b < a:
        return t
    window = rms[a:b + 1]
    # prefer the estimate among equally quiet frames (flat silence)
    k = int(np.argmin(window + 1e-9 * np.abs(np.arange(a, b + 1) * frame - t)))
    return (a + k) * frame


_CLAUSE_END = frozenset(",;:.!?…—–")
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
        end = begin + (loud[-1] + 1) * _frame(rate) if loud.size else nxt
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
