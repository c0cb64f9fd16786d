"""WAV helpers, decoding and pause-aligned cues (no engines needed)."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from videogen_adapters.tts.align import align_sentences, find_pauses
from videogen_adapters.tts.decode import decode_audio
from videogen_adapters.tts.wav import WavWriter, read_wav, speech_bounds, trim_cues, write_wav
from videogen_core import Cue

SR = 16000


def _burst(seconds: float, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return 0.5 * np.sin(2 * np.pi * freq * t) * np.hanning(t.size) ** 0.1


def _gap(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR))


def test_write_and_read_round_trip(tmp_path: Path) -> None:
    samples = np.linspace(-1, 1, 1000)
    duration = write_wav(tmp_path / "a.wav", samples, SR)
    back, rate = read_wav(tmp_path / "a.wav")
    assert rate == SR and duration == pytest.approx(1000 / SR)
    assert np.abs(back - samples).max() < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]


def test_wav_writer_leaves_nothing_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), WavWriter(tmp_path / "b.wav", SR, 2) as out:
        out.write(np.zeros((100, 2)))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_wav_writer_streams_blocks(tmp_path: Path) -> None:
    with WavWriter(tmp_path / "c.wav", SR, 2) as out:
        for _ in range(3):
            out.write(np.full((SR, 2), 0.25))
    audio, rate = read_wav(tmp_path / "c.wav")
    assert audio.shape == (3 * SR, 2) and rate == SR and out.duration == 3.0


def test_speech_bounds_finds_the_sound() -> None:
    audio = np.concatenate([_gap(0.5), _burst(1.0), _gap(0.7)])
    start, end = speech_bounds(audio, SR)  # type: ignore[misc]
    assert start == pytest.approx(0.5, abs=0.02) and end == pytest.approx(1.5, abs=0.02)
    assert speech_bounds(np.zeros(SR), SR) is None


def test_trim_cues_orders_and_clamps() -> None:
    cues = [Cue(1.5, 3.5, "b"), Cue(-0.2, 1.7, "a")]
    assert trim_cues(cues, 3.0) == (Cue(0.0, 1.7, "a"), Cue(1.7, 3.0, "b"))


def test_pauses_inside_speech_only() -> None:
    audio = np.concatenate([_gap(0.3), _burst(1.0), _gap(0.4), _burst(0.5), _gap(0.3)])
    span, pauses = find_pauses(audio, SR)
    assert span == pytest.approx((0.3, 2.2), abs=0.02)
    assert len(pauses) == 1 and pauses[0] == pytest.approx((1.3, 1.7), abs=0.02)


def test_sentences_snap_to_pauses_not_to_length() -> None:
    # the short sentence is spoken slowly: length-proportional cues would end it at ~0.8 s
    text = "Hello there. This sentence is quite a lot longer than the first."
    audio = np.concatenate([_gap(0.2), _burst(1.0), _gap(0.4), _burst(1.6), _gap(0.2)])
    first, second = align_sentences(text, audio, SR)
    assert first.start == pytest.approx(0.2, abs=0.02)
    assert first.end == pytest.approx(1.2, abs=0.02)
    assert second.start == pytest.approx(1.6, abs=0.02)
    assert second.end == pytest.approx(3.2, abs=0.02)


def test_commas_do_not_steal_sentence_boundaries() -> None:
    text = "One two three four five six. Seven, eight nine ten eleven twelve."
    audio = np.concatenate([_gap(0.1), _burst(1.8), _gap(0.35), _burst(0.5), _gap(0.15),
                            _burst(1.3), _gap(0.1)])
    first, second = align_sentences(text, audio, SR)
    assert first.end == pytest.approx(1.9, abs=0.02)
    assert second.start == pytest.approx(2.25, abs=0.02)


def _pcm_wav(samples: np.ndarray, rate: int, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def test_decode_pcm_wav_and_resample() -> None:
    tone = _burst(0.5)
    audio, rate = decode_audio(_pcm_wav(tone, SR))
    assert rate == SR and len(audio) == len(tone)
    stereo, rate48 = decode_audio(_pcm_wav(tone, SR), channels=2, rate=48000)
    assert rate48 == 48000 and stereo.shape[1] == 2
    assert abs(len(stereo) - 3 * len(tone)) < 100


def test_decode_float_wav_through_pyav() -> None:
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as out:
        stream = out.add_stream("pcm_f32le", rate=SR, layout="mono")
        frame = av.AudioFrame.from_ndarray(_burst(0.25).astype(np.float32).reshape(1, -1),
                                           format="flt", layout="mono")
        frame.sample_rate = SR
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    audio, rate = decode_audio(buf.getvalue())
    assert rate == SR and abs(len(audio) - 0.25 * SR) < 10 and audio.max() > 0.3


def test_decode_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        decode_audio(b"definitely not audio" * 50)
