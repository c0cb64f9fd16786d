"""PiperNarrator against the Narrator contract (real neural synthesis, bundled voice)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.contract.narrator_contract import TEXT, NarratorContract

from videogen_adapters.tts import BUNDLED_VOICE, PiperNarrator
from videogen_core import InvalidRequest


class TestPiperNarrator(NarratorContract):
    @pytest.fixture(scope="class")
    @classmethod
    def narrator(cls) -> PiperNarrator:
        return PiperNarrator()


def test_bundled_voice_is_the_default() -> None:
    assert PiperNarrator().voices() == [BUNDLED_VOICE]


def test_a_voice_by_path_is_listed_and_loadable(tmp_path: Path) -> None:
    from videogen_adapters.tts.piper import bundled_voice_path

    bundled = bundled_voice_path()
    assert bundled is not None
    (tmp_path / "en_US-other-medium.onnx").symlink_to(bundled)
    (tmp_path / "en_US-other-medium.onnx.json").symlink_to(
        bundled.with_name(bundled.name + ".json"))
    narrator = PiperNarrator([tmp_path])
    assert narrator.voices() == ["en_US-other-medium", BUNDLED_VOICE]
    result = narrator.synthesize("Hi.", tmp_path / "o.wav")
    assert result.voice == "en_US-other-medium" and result.duration > 0.2


def test_a_missing_voice_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="piper_voice_path"):
        PiperNarrator([tmp_path / "nope.onnx"])


def test_short_voice_name_finds_the_voice(tmp_path: Path) -> None:
    result = PiperNarrator().synthesize(TEXT.split(".")[0] + ".", tmp_path / "j.wav",
                                        voice="joe")
    assert result.voice == BUNDLED_VOICE


def test_model_is_loaded_once_across_threads(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from videogen_adapters.tts import piper

    piper._LOADED.clear()
    narrator = PiperNarrator()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: narrator.synthesize(f"Number {i}.",
                                                              tmp_path / f"{i}.wav"), range(4)))
    assert len(piper._LOADED) == 1
    assert PiperNarrator()._voice(BUNDLED_VOICE) is next(iter(piper._LOADED.values()))
    assert all(r.duration > 0.3 for r in results)


def test_long_sentences_become_caption_sized_cues_on_the_speech(tmp_path: Path) -> None:
    text = ("When the sun finally rose over the silent valley, the travellers gathered their "
            "things and walked on towards the distant hills.")
    result = PiperNarrator().synthesize(text, tmp_path / "long.wav")
    assert len(result.cues) == 2 and all(len(c.text) <= 84 for c in result.cues)
    assert " ".join(c.text for c in result.cues) == text
    first, second = result.cues
    assert first.end < second.start  # the comma's pause separates them


def test_same_text_and_seed_give_the_same_bytes_whatever_ran_before(tmp_path: Path) -> None:
    """The noise follows the seed, not the process's history: a fresh interpreter
    gives the bytes this one gives after other narrations and in parallel threads."""
    import hashlib
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    text = "Same words, same sound, every time."
    narrator = PiperNarrator()
    narrator.synthesize("Something else first, to move any random state.", tmp_path / "x.wav")
    with ThreadPoolExecutor(2) as pool:
        paths = list(pool.map(lambda i: narrator.synthesize(
            text, tmp_path / f"{i}.wav", seed=7).path, range(2)))
    here = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]  # type: ignore[union-attr]
    code = ("import hashlib, pathlib, sys; from videogen_adapters.tts import PiperNarrator; "
            "r = PiperNarrator().synthesize(sys.argv[1], pathlib.Path(sys.argv[2]), seed=7); "
            "print(hashlib.sha256(r.path.read_bytes()).hexdigest())")
    fresh = subprocess.run([sys.executable, "-c", code, text, str(tmp_path / "fresh.wav")],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert here == [fresh, fresh]


def test_the_seed_changes_the_take_not_the_words(tmp_path: Path) -> None:
    narrator = PiperNarrator()
    text = "Another seed, another take of the same words."
    a = narrator.synthesize(text, tmp_path / "a.wav", seed=1)
    b = narrator.synthesize(text, tmp_path / "b.wav", seed=2)
    c = narrator.synthesize(text, tmp_path / "c.wav")  # seed from the text
    d = PiperNarrator().synthesize(text, tmp_path / "d.wav")
    assert a.path.read_bytes() != b.path.read_bytes()  # type: ignore[union-attr]
    assert c.path.read_bytes() == d.path.read_bytes()  # type: ignore[union-attr]
    assert abs(a.duration - b.duration) < 0.5  # natural noise, same words
    assert [x.text for x in a.cues] == [x.text for x in b.cues]


def test_the_noise_is_sampled_not_switched_off(tmp_path: Path) -> None:
    """Seeded noise keeps Piper's natural prosody: a run differs from a noiseless run."""
    from videogen_adapters.tts import piper

    narrator = PiperNarrator()
    voice, noise_inputs = narrator._voice(BUNDLED_VOICE)
    assert noise_inputs == 2  # both of the model's random ops now take our noise
    phonemes = voice.phonemize("Natural prosody.")[0]
    cfg = voice.config
    import numpy as np

    with_noise = np.array([cfg.noise_scale, cfg.length_scale, cfg.noise_w_scale], np.float32)
    quiet = np.array([0.0, cfg.length_scale, 0.0], np.float32)
    a = narrator._infer(voice, noise_inputs, phonemes, with_noise, 1, 0).audio_float_array
    b = narrator._infer(voice, noise_inputs, phonemes, quiet, 1, 0).audio_float_array
    assert cfg.noise_scale > 0 and (a.shape != b.shape or not np.array_equal(a, b))
    assert piper.PIECE_CHARS >= 100


def test_a_long_sentence_is_spoken_in_pieces_joined_without_a_gap(tmp_path: Path) -> None:
    from videogen_adapters.tts.piper import PIECE_CHARS, speech_pieces

    sentence = ", ".join(["the hills and the river and the long road home"] * 12) + "."
    pieces = speech_pieces(sentence)
    assert len(pieces) > 1 and all(len(p) <= PIECE_CHARS for p in pieces)
    assert " ".join(pieces) == sentence
    assert all(len(p) <= PIECE_CHARS for p in speech_pieces("x" * 1000))
    result = PiperNarrator().synthesize(sentence, tmp_path / "long.wav")
    assert " ".join(c.text for c in result.cues) == sentence
    assert result.duration > 20  # every piece was spoken


class _Counting(PiperNarrator):
    """Counts model runs and fires ``token`` on run ``cancel_at``."""

    def __init__(self, token: object, cancel_at: int) -> None:
        super().__init__()
        self.runs = 0
        self.after_cancel = 0
        self.token = token
        self.cancel_at = cancel_at

    def _infer(self, *args: object) -> object:  # type: ignore[override]
        if self.token.cancelled:  # type: ignore[attr-defined]
            self.after_cancel += 1
        self.runs += 1
        if self.runs == self.cancel_at:
            self.token.cancel()  # type: ignore[attr-defined]
        return super()._infer(*args)  # type: ignore[arg-type]


def test_cancel_stops_a_long_narration_before_the_next_piece(tmp_path: Path) -> None:
    from videogen_core import Cancelled, CancelToken

    text = " ".join(f"Sentence number {i} of a very long narration." for i in range(200))
    token = CancelToken()
    narrator = _Counting(token, cancel_at=3)
    with pytest.raises(Cancelled):
        narrator.synthesize(text, tmp_path / "n.wav", cancel=token)
    assert narrator.runs == 3 and narrator.after_cancel == 0  # no run started after cancel
    assert not (tmp_path / "n.wav").exists()


def test_check_loads_the_default_voice() -> None:
    assert BUNDLED_VOICE in PiperNarrator().check()
