"""Piper's word times come from the seeded model's own phoneme durations.

The seeded model (``piper_noise.seeded_model``) also exposes the durations output
(piper's ``add_alignment_output``); every model run returns piper's
``AudioChunk`` with its ``phoneme_alignments``, and a sentence spoken in several
pieces gets its word times from them, each piece at its offset in the sentence.
Before, the seeded path gave no alignments and every Piper word was placed by
the audio-only aligner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tests.word_onsets import onset_errors, speech_onsets, summary

from videogen_adapters.tts import BUNDLED_VOICE, PiperNarrator
from videogen_adapters.tts.align import piper_words
from videogen_adapters.tts.piper import speech_pieces
from videogen_adapters.tts.piper_noise import phoneme_alignments
from videogen_adapters.tts.wav import read_wav

#: One sentence of ~330 characters: spoken in two model runs (pieces).
LONG = ("When the morning train finally crossed the old stone bridge above the river, "
        "the painter and the village baker, who had waited by the harbour since dawn "
        "without a word, gathered their baskets, their brushes and their coats, and "
        "walked together up the narrow rocky path towards the tall white lighthouse "
        "above the hill.")


class Recording(PiperNarrator):
    """Real Piper that keeps every model run's AudioChunk."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[Any] = []

    def _infer(self, *args: Any) -> Any:
        chunk = super()._infer(*args)
        self.chunks.append(chunk)
        return chunk


def test_alignments_are_built_as_piper_builds_them() -> None:
    """Our builder gives what ``PiperVoice.synthesize(include_alignments=True)`` gives
    for the same phoneme ids and samples per id (its model run stubbed)."""
    from piper.voice import PiperVoice

    config = PiperNarrator()._voice(BUNDLED_VOICE)[0].config

    class Stub(PiperVoice):
        def phoneme_ids_to_audio(self, phoneme_ids: list[int], syn_config: Any = None,
                                 include_alignments: bool = False) -> Any:
            samples = (np.arange(len(phoneme_ids)) % 5 + 1) * 256  # uneven, known
            return np.ones(int(samples.sum()), np.float32), samples

    stub = Stub(session=None, config=config)  # type: ignore[arg-type]
    chunks = list(stub.synthesize("Hello there, 1984 ships! Again.", include_alignments=True))
    assert len(chunks) == 2 and all(c.phoneme_alignments for c in chunks)
    for chunk in chunks:
        ours = phoneme_alignments(config.phoneme_id_map, chunk.phonemes, chunk.phoneme_ids,
                                  chunk.phoneme_id_samples)
        assert ours == chunk.phoneme_alignments
        assert sum(a.num_samples for a in ours) == len(chunk.audio_float_array)
    chunk = chunks[0]
    # ids that do not follow the phonemes, or no durations: no alignments, no guessing
    wrong = [*chunk.phoneme_ids[:3], 999, *chunk.phoneme_ids[4:]]
    assert phoneme_alignments(config.phoneme_id_map, chunk.phonemes, wrong,
                              chunk.phoneme_id_samples) is None
    assert phoneme_alignments(config.phoneme_id_map, chunk.phonemes, chunk.phoneme_ids,
                              None) is None


def test_every_model_run_carries_its_phoneme_durations() -> None:
    narrator = PiperNarrator()
    voice, noise_inputs = narrator._voice(BUNDLED_VOICE)
    cfg = voice.config
    scales = np.array([cfg.noise_scale, cfg.length_scale, cfg.noise_w_scale], np.float32)
    phonemes = voice.phonemize("Quiet words, measured.")[0]
    chunk = narrator._infer(voice, noise_inputs, phonemes, scales, 3, 0)
    aligned = chunk.phoneme_alignments
    assert aligned is not None
    assert [a.phoneme for a in aligned] == ["^", *phonemes, "$"]
    assert sum(a.num_samples for a in aligned) == len(chunk.audio_float_array)


def test_a_sentence_in_pieces_gets_its_word_times_from_the_durations(tmp_path: Path) -> None:
    assert len(speech_pieces(LONG)) >= 2
    narrator = Recording()
    result = narrator.synthesize(LONG, tmp_path / "long.wav", seed=5)
    chunks = narrator.chunks
    assert len(chunks) >= 2 and all(c.phoneme_alignments for c in chunks)
    voice = narrator._voice(BUNDLED_VOICE)[0]
    rate = voice.config.sample_rate
    expected = piper_words(LONG.split(), voice.phonemize, chunks, rate)
    assert expected is not None
    got = [w for cue in result.cues for w in cue.words]
    assert [w.text for w in got] == LONG.split()
    # every word is the durations' word, to the ms; only a cue's first start and last
    # end may have been clamped into the cue (its span is measured on the audio)
    k = 0
    for cue in result.cues:
        for i, word in enumerate(cue.words):
            want = expected[k]
            k += 1
            assert (abs(word.start - want.start) <= 0.001
                    or (i == 0 and word.start == cue.start)), (word, want)
            assert (abs(word.end - want.end) <= 0.001
                    or (i == len(cue.words) - 1 and word.end == cue.end)), (word, want)
    # the times are right in the later pieces too: they land on the measured onsets
    audio, _ = read_wav(result.path)  # type: ignore[arg-type]
    first_piece_end = len(chunks[0].audio_float_array) / rate
    later = [c for c in result.cues if c.end > first_piece_end]
    onsets = [t for t in speech_onsets(np.asarray(audio, np.float64), rate)
              if t > first_piece_end + 0.2]
    assert later and len(onsets) >= 3
    errors = summary(onset_errors(later, onsets))
    assert errors["median_ms"] <= 60, errors


def test_the_durations_output_leaves_the_audio_as_it_was() -> None:
    """The same seeded model without the extra output gives the same samples."""
    import onnx
    import onnxruntime

    from videogen_adapters.tts.piper import bundled_voice_path
    from videogen_adapters.tts.piper_noise import infer, seeded_model

    model_path = bundled_voice_path()
    assert model_path is not None
    data, noise_inputs = seeded_model(model_path)
    plain = onnx.load_from_string(data)
    assert len(plain.graph.output) == 2  # audio + durations
    del plain.graph.output[1:]
    voice = PiperNarrator()._voice(BUNDLED_VOICE)[0]
    ids = voice.phonemes_to_ids(voice.phonemize("Nothing else changes, said the river.")[0])
    cfg = voice.config
    args = {"input": np.array([ids], np.int64), "input_lengths": np.array([len(ids)], np.int64),
            "scales": np.array([cfg.noise_scale, cfg.length_scale, cfg.noise_w_scale],
                               np.float32)}
    runs = []
    for model in (data, plain.SerializeToString()):
        session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        runs.append(infer(session, noise_inputs, args, 11, 0, cfg.hop_length))
    (audio, samples), (plain_audio, none) = runs
    assert none is None and samples is not None and len(samples) == len(ids)
    assert np.array_equal(audio, plain_audio)
    assert int(samples.sum()) == len(audio)


def test_words_the_phonemes_join_fall_back_to_the_audio(tmp_path: Path) -> None:
    """eSpeak joins "on the" into one phoneme group: no word times from the durations
    for that sentence, so its cue and words are placed on its audio (none lost)."""
    text = "The lamp stood on the hill."
    narrator = Recording()
    result = narrator.synthesize(text, tmp_path / "j.wav")
    voice = narrator._voice(BUNDLED_VOICE)[0]
    assert piper_words(text.split(), voice.phonemize, narrator.chunks,
                       voice.config.sample_rate) is None
    (cue,) = result.cues
    assert [w.text for w in cue.words] == text.split()
    assert all(cue.start <= w.start <= w.end <= cue.end for w in cue.words)
