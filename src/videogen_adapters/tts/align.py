"""Caption cues for audio that came without timings (HTTP engines, long Piper sentences).

Text is cut into caption pieces: sentences, and sentences too long for two
caption lines split at words (after a comma when one is near).
Rather than spreading pieces over the whole file by length (``spread_cues``),
they are laid over the *speech* (energy-detected) and every boundary between
two pieces snaps to a pause in the audio near where the length estimate puts
it (a small dynamic programme picks pauses in order). Boundaries with no
pause nearby keep the estimate.
"""

from __future__ import annotations

import numpy as np

from videogen_core import Cue, split_sentences

__all__ = ["MAX_CUE_CHARS", "align_pieces", "align_sentences", "caption_pieces", "find_pauses"]

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
    audio: np.ndarray, rate: int, *, min_pause: float = 0.12, threshold_db: float = -35.0
) -> tuple[tuple[float, float] | None, list[tuple[float, float]]]:
    """(speech start/end or None, pauses inside the speech as (start, end) seconds)."""
    rms = _frame_rms(audio, rate)
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
    return tuple(cues)


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
