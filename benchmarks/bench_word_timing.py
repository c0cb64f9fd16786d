"""Word-timing accuracy (not a timing benchmark: it measures milliseconds of error).

For each narrator the same narration (``tests.word_onsets.narration_text``: short
clauses, many pauses) is synthesised; the word cues it returns are compared with
the speech onsets measured in its own audio after every pause (see
``tests/word_onsets.py``): median and 95th percentile of |word start − onset|.

Narrators:

* ``piper``   — word times from Piper's phoneme durations (the default narrator);
* ``espeak``  — word times from eSpeak NG's WORD events;
* ``aligned`` — the audio-only aligner every other engine gets (HTTP narrators,
  a Piper sentence whose phonemes do not add up to its words): the Piper audio
  re-aligned from the text alone.
  Its pause onsets are where it anchors, so it is also compared on *every* word
  with Piper's phoneme-duration times of the same audio (``all_words`` row).

Usage::

    python benchmarks/bench_word_timing.py                 # 40 sentences (~170 onsets)
    python benchmarks/bench_word_timing.py --sentences 4   # a quick check
    python benchmarks/bench_word_timing.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.word_onsets import narration_text, onset_errors, speech_onsets, summary  # noqa: E402

from videogen_adapters.tts import EspeakNarrator, PiperNarrator  # noqa: E402
from videogen_adapters.tts.align import align_sentences  # noqa: E402
from videogen_adapters.tts.wav import read_wav  # noqa: E402


def _mono(path: Path) -> tuple[np.ndarray, int]:
    audio, rate = read_wav(path)
    audio = np.asarray(audio, dtype=np.float64)
    return (audio.mean(axis=1) if audio.ndim > 1 else audio), rate


def measure(sentences: int, work: Path) -> dict[str, dict[str, float]]:
    """The accuracy rows (see the module docstring)."""
    text = narration_text(sentences)
    rows: dict[str, dict[str, float]] = {}
    piper = PiperNarrator().synthesize(text, work / "piper.wav")
    assert piper.path is not None
    audio, rate = _mono(piper.path)
    onsets = speech_onsets(audio, rate)
    rows["piper"] = summary(onset_errors(piper.cues, onsets))
    aligned = align_sentences(text, audio, rate)
    rows["aligned"] = summary(onset_errors(aligned, onsets))
    ref = [w.start for c in piper.cues for w in c.words]
    got = [w.start for c in aligned for w in c.words]
    if len(ref) == len(got):
        rows["aligned_all_words"] = summary([abs(a - b) for a, b in zip(ref, got, strict=True)])
    espeak = EspeakNarrator().synthesize(text, work / "espeak.wav")
    assert espeak.path is not None
    e_audio, e_rate = _mono(espeak.path)
    rows["espeak"] = summary(onset_errors(espeak.cues, speech_onsets(e_audio, e_rate)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sentences", type=int, default=40)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = measure(args.sentences, Path(tmp))
    print(f"{'narrator':<18} {'words':>6} {'median ms':>10} {'p95 ms':>8}")
    for name, row in rows.items():
        print(f"{name:<18} {row['words']:>6} {row['median_ms']:>10} {row['p95_ms']:>8}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
